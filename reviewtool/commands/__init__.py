"""One module per command: wires fetch -> rebase -> check -> report; never analyses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reviewtool import config
from reviewtool.model import Series
from reviewtool.store import Store

if TYPE_CHECKING:
    from reviewtool.fetch import Fetched


def keep(store: Store, got: Fetched) -> Path:
    """Store a fetched series with its am-ready mbox and the raw thread."""
    return store.save_series(got.series, {"am.mbox": got.am_mbox, "thread.mbox": got.thread_mbox})


def series_for(key: str | None, store: Store, *, stdin: bool = False) -> Series:
    """SERIES as the commands take it: a path (an mbox, maildir or directory, read offline
    and stored), `-` when `stdin` (one mail, read and not stored), else a store id or
    message-id (the latest fetched when None)."""
    if (stdin and key == "-") or (key is not None and key != "-" and Path(key).exists()):
        from reviewtool.fetch import fetch

        got = fetch(key, lore_url=config.lore_url(), offline=True)
        if key != "-":
            keep(store, got)
        return got.series
    return store.find(key)
