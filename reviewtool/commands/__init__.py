"""One module per command: wires fetch -> rebase -> check -> report; never analyses."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from reviewtool import config
from reviewtool.errors import StoreError
from reviewtool.model import Series
from reviewtool.store import Store

if TYPE_CHECKING:
    from reviewtool.fetch import Fetched


def keep(store: Store, got: Fetched) -> str:
    """Store a fetched series with the raw thread (and its am-ready mbox, if it was made)."""
    return store.save_series(got.series, got.files())


def warn(text: str, quiet: bool = False) -> None:
    """One warning line on stderr (not with -q)."""
    from reviewtool.report.console import warn as say

    say(text, quiet)


def save_result(store: Store, series_id: str, name: str, data: Any, quiet: bool = False) -> None:
    """Keep a result next to its series if the store can be written; else say so and go on
    (a command that only reads the series does not fail on a read-only store)."""
    try:
        store.save_result(series_id, name, data)
    except StoreError as e:
        warn(f"{name} result not kept: {e}", quiet)


def is_path(key: str) -> bool:
    """Whether SERIES names a file or directory (not a store id or message-id)."""
    try:
        return os.path.exists(key)
    except (OSError, ValueError):  # a name too long to be a file, a directory we may not read
        return False


def series_for(key: str | None, store: Store, *, stdin: bool = False, quiet: bool = False) -> Series:
    """SERIES as the commands take it: a path (an mbox, maildir or directory, read offline
    and stored if the store can be written, without the am-ready mbox, which `fetch`
    writes), `-` when `stdin` (one mail, read and not stored), else a store id or
    message-id (the latest fetched when None)."""
    if (stdin and key == "-") or (key is not None and key != "-" and is_path(key)):
        from reviewtool.fetch import fetch

        got = fetch(key, lore_url=config.lore_url(), offline=True, am=False)
        if key != "-":
            try:
                keep(store, got)
            except StoreError as e:
                warn(f"series not kept: {e}", quiet)
        return got.series
    try:
        return store.find(key)
    except StoreError:
        if key is not None and _names_a_file(key):
            raise StoreError(f"cannot read {key}: {_why_unreadable(key)}") from None
        raise


def _names_a_file(key: str) -> bool:
    """Whether SERIES was meant as a file: a path with "/" or a mail file's suffix, not a
    message-id (a store miss on it would be a confusing answer)."""
    from reviewtool.fetch.local import MAIL_SUFFIXES

    return "@" not in key and ("/" in key or key.endswith(MAIL_SUFFIXES))


def _why_unreadable(key: str) -> str:
    try:
        os.stat(key)
    except OSError as e:
        from reviewtool.outfiles import reason

        return reason(e)
    except ValueError:
        return "not a file name"
    return "not a file or directory"
