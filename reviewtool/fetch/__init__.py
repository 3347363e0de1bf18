"""fetch: SOURCE -> Series, through b4. The only package that imports b4."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewtool.errors import SourceError
from reviewtool.fetch.sources import Source, classify
from reviewtool.model import Series


@dataclass(frozen=True)
class Fetched:
    series: Series
    am_mbox: bytes  # am-ready, trailers applied (what `b4 am` writes)
    thread_mbox: bytes  # the raw thread


def fetch(source: str, *, revision: int | None = None, lore_url: str, offline: bool = False,
          timeout: float | None = None, max_bytes: int | None = None) -> Fetched:
    """Get SOURCE's thread (network or file), pick the revision, collect trailers.

    timeout: seconds for the whole network fetch (default: limits.fetch_timeout());
    max_bytes: the input size limit, decompressed (default: limits.max_input_bytes()).
    """
    from reviewtool.fetch import http, limits, lore, mbox, thread

    src: Source = classify(source)
    http.check_url(lore_url.rstrip("/"))
    max_bytes = limits.max_input_bytes() if max_bytes is None else max_bytes
    unreadable = mbox.Unreadable()
    lore.setup_b4(lore_url)
    if src.kind == "msgid":
        assert src.msgid is not None
        if offline:
            raise SourceError(f"cannot fetch <{src.msgid}> with --offline: give an mbox, maildir or directory")
        server = src.inbox_url or lore_url
        timeout = limits.fetch_timeout() if timeout is None else timeout
        msgs = lore.fetch_thread(src.msgid, server, timeout=timeout, max_bytes=max_bytes, unreadable=unreadable)
        where, link_base = f"<{src.msgid}> on {server}", server
    else:
        msgs = lore.read_local(src, max_bytes=max_bytes, unreadable=unreadable)
        where = "standard input" if src.kind == "stdin" else str(src.path)
        link_base = lore_url
        if not msgs:
            raise SourceError(f"no message found in {where}" +
                              (f": {unreadable.summary()}" if unreadable else ""))
    try:
        series, am = thread.build_series(msgs, revision, where, link_base, unreadable)
        raw_thread = thread.thread_mbox(msgs)
    except RecursionError:  # a header nested past what Python's email parser can follow
        raise SourceError(f"{where}: a message has headers nested too deeply to read") from None
    return Fetched(series, am, raw_thread)


def series_from_mbox(path: str | Path, revision: int | None = None) -> Series:
    """Offline: the Series in an mbox file, maildir or patch directory (nothing is stored)."""
    return fetch(str(path), revision=revision, lore_url="https://lore.kernel.org/all", offline=True).series
