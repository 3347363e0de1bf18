"""`reviewtool history [SERIES]`: the review ledger, and the step `check`/`review --history` share.

The earlier revisions come from the store and (unless --offline) from the public-inbox
(fetch/revisions.py); those fetched are kept in the store, so the next run can be offline.
history/ builds the ledger; report/ prints it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from reviewtool import config
from reviewtool.commands import series_for, warn
from reviewtool.errors import ReviewtoolError, StoreError
from reviewtool.model import ChecklistItem, CheckResult, Ledger, Series
from reviewtool.report import console

if TYPE_CHECKING:
    from reviewtool.store import Store


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `history` command."""
    p = sub.add_parser("history", parents=[common], help="what earlier revisions of a series were told",
                       description="Find the earlier revisions of a series (on the public-inbox and in the "
                                   "store), split their replies into comments and say where each stands "
                                   "in this revision.")
    p.add_argument("series", nargs="?", metavar="SERIES",
                   help="store id, message-id, or an mbox / patch directory (default: the latest fetched)")
    p.add_argument("--lore-url", metavar="URL", help="public-inbox base URL (as for fetch)")
    p.add_argument("--offline", action="store_true", help="read earlier revisions from the store only")
    p.set_defaults(func=run_history)


def _current(args: argparse.Namespace, store: Store) -> Series:
    """SERIES from the store, else fetched (a message-id seen for the first time)."""
    try:
        return series_for(args.series, store, quiet=args.quiet)
    except StoreError:
        if args.series is None or args.offline:
            raise
    from reviewtool.commands import keep
    from reviewtool.fetch import fetch

    got = fetch(args.series, lore_url=config.lore_url(args.lore_url))
    try:
        keep(store, got)
    except StoreError as e:
        warn(f"series not kept: {e}", args.quiet)
    return got.series


def ledger_for(series: Series, store: Store, *, lore_url: str, offline: bool, quiet: bool = False) -> Ledger:
    """The ledger of series: earlier revisions from the store, and from the public-inbox
    unless offline (kept in the store as they are found)."""
    from reviewtool.fetch import revisions
    from reviewtool.history.ledger import Earlier, build
    from reviewtool.record import replace

    found = {(f.series.revision, f.series.msgid): f for f in revisions.from_store(series, store.list())}
    notes: list[str] = []
    if not offline:
        from reviewtool.fetch import limits, store_files

        try:
            online = revisions.search(series, lore_url, timeout=limits.fetch_timeout(),
                                      max_bytes=limits.max_input_bytes())
        except ReviewtoolError as e:
            online = []
            notes.append(f"the public-inbox was not searched: {e}")
            warn(f"history: {e} (using the store only)", quiet)
        for f in online:
            found[(f.series.revision, f.series.msgid)] = f
            try:
                store.save_series(f.series, store_files(f.am_mbox, f.thread_mbox))
            except StoreError as e:
                warn(f"v{f.series.revision} not kept: {e}", quiet)
        if online:  # the series asked about stays the default of the next command
            store.make_latest(series.id)
    ledger = build(series, [Earlier(f.series, f.found_by) for f in found.values()])
    return replace(ledger, notes=ledger.notes + tuple(notes)) if notes else ledger


def code_items_for(series: Series, *, lore_url: str, offline: bool, quiet: bool = False) -> tuple[ChecklistItem, ...]:
    """`--history=code`: checklist items for what reviewers said when other, earlier series
    changed the functions series changes (nothing offline: the store keeps no other series)."""
    from reviewtool.fetch import limits, revisions
    from reviewtool.history import code

    if offline:
        warn("history=code: the public-inbox is not searched offline", quiet)
        return ()
    functions = code.touched(series)
    try:
        others = revisions.code_search(series, functions, lore_url, timeout=limits.fetch_timeout(),
                                       max_bytes=limits.max_input_bytes())
    except ReviewtoolError as e:
        warn(f"history=code: {e}", quiet)
        return ()
    return code.items(series, others)


def history_args(args: argparse.Namespace, series: Series, store: Store, result: CheckResult) -> CheckResult:
    """result with what `--history` (or `--history=code`) given to check or review adds."""
    lore_url = config.lore_url(args.lore_url)
    ledger = ledger_for(series, store, lore_url=lore_url, offline=args.offline, quiet=args.quiet)
    extra = code_items_for(series, lore_url=lore_url, offline=args.offline, quiet=args.quiet) \
        if args.history == "code" else ()
    return with_history(result, ledger, extra)


def add_history_flags(p: argparse.ArgumentParser) -> None:
    """`--history` and `--history=code` (one option, two values; a bare `--history` never takes
    the SERIES after it as its value)."""
    p.add_argument("--history", dest="history", action="store_const", const="revisions", default=None,
                   help="also ask again what earlier revisions were told and this one leaves open")
    p.add_argument("--history=code", dest="history", action="store_const", const="code",
                   help="--history, and what reviewers said when earlier series of others changed the same "
                        "functions (a diff search on the public-inbox; at most 5 items)")


def with_history(result: CheckResult, ledger: Ledger, extra: tuple[ChecklistItem, ...] = ()) -> CheckResult:
    """result with the ledger, a checklist item per comment still open and the extra items
    (`--history=code`), in category order."""
    from reviewtool.history.checklist import items
    from reviewtool.model import CATEGORIES
    from reviewtool.record import replace

    order = {c: i for i, c in enumerate(CATEGORIES)}
    merged = sorted((*result.checklist, *items(ledger), *extra), key=lambda it: order.get(it.category, len(order)))
    return replace(result, checklist=tuple(merged), history=ledger)


def run_history(args: argparse.Namespace) -> int:
    """Print the ledger of SERIES (text, or JSON with --json)."""
    from reviewtool.store import Store

    store = Store(config.store_dir(args.store))
    with console.Progress("looking for earlier revisions", quiet=args.quiet, verbose=args.verbose):
        series = _current(args, store)
        ledger = ledger_for(series, store, lore_url=config.lore_url(args.lore_url), offline=args.offline,
                            quiet=args.quiet)
    if args.json:
        console.write(console.json_out(ledger))
        return 0
    from reviewtool.report.history_text import render

    console.write(render(ledger, console.tty()))
    return 0
