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


def fetch(source: str, *, revision: int | None = None, lore_url: str, offline: bool = False) -> Fetched:
    """Get SOURCE's thread (network or file), pick the revision, collect trailers."""
    from reviewtool.fetch import lore, thread

    src: Source = classify(source)
    if src.kind == "msgid":
        assert src.msgid is not None
        if offline:
            raise SourceError(f"cannot fetch <{src.msgid}> with --offline: give an mbox, maildir or directory")
        server = src.inbox_url or lore_url
        msgs = lore.fetch_thread(src.msgid, server)
        where, link_base = f"<{src.msgid}> on {server}", server
    else:
        lore.setup_b4(lore_url, offline=True)
        msgs = lore.read_local(src)
        where = "standard input" if src.kind == "stdin" else str(src.path)
        link_base = lore_url
        if not msgs:
            raise SourceError(f"no message found in {where}")
    series, am = thread.build_series(msgs, revision, where, link_base)
    return Fetched(series, am, thread.thread_mbox(msgs))


def series_from_mbox(path: str | Path, revision: int | None = None) -> Series:
    """Offline: the Series in an mbox file, maildir or patch directory (nothing is stored)."""
    return fetch(str(path), revision=revision, lore_url="https://lore.kernel.org/all", offline=True).series
