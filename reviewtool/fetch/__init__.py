"""fetch: SOURCE -> Series. The only package that imports b4.

A plain posting read from a file (fetch/plain.py) is read without b4 when the am-ready mbox
is not wanted; everything else, and every network fetch, goes through b4 (fetch/thread.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from reviewtool.errors import SourceError
from reviewtool.fetch.sources import Source, check_url, classify
from reviewtool.model import Series
from reviewtool.record import record

if TYPE_CHECKING:
    from email.message import EmailMessage

    from reviewtool.fetch.mbox import Unreadable


@record
class Fetched:
    series: Series
    am_mbox: bytes | None  # am-ready, trailers applied (what `b4 am` writes); None when not asked for
    thread_mbox: bytes  # the raw thread

    def files(self) -> dict[str, bytes]:
        """What the store keeps next to series.json."""
        return store_files(self.am_mbox, self.thread_mbox)


def store_files(am_mbox: bytes | None, thread_mbox: bytes) -> dict[str, bytes]:
    """The files the store keeps next to a series' series.json: the raw thread, and the
    am-ready mbox when it was made."""
    return {"thread.mbox": thread_mbox} | ({"am.mbox": am_mbox} if am_mbox is not None else {})


def fetch(source: str, *, revision: int | None = None, lore_url: str, offline: bool = False,
          timeout: float | None = None, max_bytes: int | None = None, am: bool = True) -> Fetched:
    """Get SOURCE's thread (network or file), pick the revision, collect trailers.

    timeout: seconds for the whole network fetch (default: limits.fetch_timeout());
    max_bytes: the input size limit, decompressed (default: limits.max_input_bytes());
    am: build the am-ready mbox (b4's am step: one `git mailinfo` a patch).
    """
    from reviewtool.fetch import limits, local, mbox

    src: Source = classify(source)
    check_url(lore_url.rstrip("/"))
    max_bytes = limits.max_input_bytes() if max_bytes is None else max_bytes
    unreadable = mbox.Unreadable()
    if src.kind == "msgid":
        assert src.msgid is not None
        if offline:
            raise SourceError(f"cannot fetch <{src.msgid}> with --offline: give an mbox, maildir or directory")
        from reviewtool.fetch import lore

        lore.setup_b4(lore_url)
        server = src.inbox_url or lore_url
        timeout = limits.fetch_timeout() if timeout is None else timeout
        msgs = lore.fetch_thread(src.msgid, server, timeout=timeout, max_bytes=max_bytes, unreadable=unreadable)
        where, link_base = f"<{src.msgid}> on {server}", server
    else:
        raws = local.read_raw(src, max_bytes=max_bytes)
        where = "standard input" if src.kind == "stdin" else str(src.path)
        link_base = lore_url
        if not am:
            found = _plain_light(raws, revision, where, link_base, unreadable)
            if found is not None:
                return found
        msgs = mbox.parse_all(raws, unreadable)
        if not msgs:
            raise SourceError(f"no message found in {where}" +
                              (f": {unreadable.summary()}" if unreadable else ""))
        if not am:
            from reviewtool.fetch import plain

            series = plain.read(msgs, where, link_base, unreadable)
            if series is not None and revision in (None, series.revision):
                return Fetched(series, None, _raw_thread(msgs, where))
    return _through_b4(msgs, revision, where, link_base, unreadable, lore_url, am)


def _plain_light(raws: list[bytes], revision: int | None, where: str, link_base: str,
                 unreadable: Unreadable) -> Fetched | None:
    """A plain posting of plain-shaped mail, read without the email package (lightmail.py);
    None to read the thread the usual way."""
    from reviewtool.fetch import lightmail, plain

    light = lightmail.parse_all(raws)
    if not light:
        return None
    series = plain.read(light, where, link_base, unreadable)
    if series is None or revision not in (None, series.revision):
        return None
    return Fetched(series, None, lightmail.thread_mbox(light))


def _raw_thread(msgs: list[EmailMessage], where: str) -> bytes:
    from reviewtool.fetch import mbox

    try:
        return mbox.thread_mbox(msgs)
    except RecursionError:  # a header nested past what Python's email parser can follow
        raise SourceError(f"{where}: a message has headers nested too deeply to read") from None


def _through_b4(msgs: list[EmailMessage], revision: int | None, where: str, link_base: str,
                unreadable: Unreadable, lore_url: str, am: bool) -> Fetched:
    from reviewtool.fetch import lore, thread

    lore.setup_b4(lore_url)
    try:
        series, am_mbox = thread.build_series(msgs, revision, where, link_base, unreadable, am=am)
    except RecursionError:  # a header nested past what Python's email parser can follow
        raise SourceError(f"{where}: a message has headers nested too deeply to read") from None
    return Fetched(series, am_mbox, _raw_thread(msgs, where))


def series_from_mbox(path: str | os.PathLike[str], revision: int | None = None) -> Series:
    """Offline: the Series in an mbox file, maildir or patch directory (nothing is stored)."""
    return fetch(os.fspath(path), revision=revision, lore_url="https://lore.kernel.org/all", offline=True,
                 am=False).series
