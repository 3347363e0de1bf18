"""`reviewtool fetch`, `list` and `show`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from reviewtool import config
from reviewtool.commands import keep
from reviewtool.report import console
from reviewtool.store import Store


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    # conflict_handler: here -v is the revision (-v 16, as b4 has it), --verbose still says more
    p = sub.add_parser("fetch", parents=[common], conflict_handler="resolve", help="fetch a series (message-id, lore URL, mbox, ...)",
                       description="Fetch a patch series with b4, pick the revision, collect the "
                                   "trailers from replies and keep it in the local store.")
    p.add_argument("source", metavar="SOURCE",
                   help="message-id, <message-id>, id:..., lore URL, mbox, maildir, directory of "
                        ".patch/.eml files, or - for stdin")
    p.add_argument("-v", "--revision", type=int, metavar="N", help="pick revision N (default: newest)")
    p.add_argument("--lore-url", metavar="URL",
                   help="public-inbox base URL (default: $REVIEWTOOL_LORE_URL, git config "
                        "reviewtool.loreurl, https://lore.kernel.org/all)")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.set_defaults(func=run_fetch)

    p = sub.add_parser("list", parents=[common], help="list stored series")
    p.set_defaults(func=run_list)

    p = sub.add_parser("show", parents=[common], help="print a stored series again")
    p.add_argument("series", nargs="?", metavar="SERIES", help="store id, message-id (default: latest)")
    p.set_defaults(func=run_show)


def run_fetch(args: argparse.Namespace) -> int:
    from reviewtool.errors import SourceError
    from reviewtool.fetch import fetch

    if args.revision is not None and args.revision < 1:
        raise SourceError(f"-v {args.revision}: a revision is a number from 1")
    with console.Progress(f"fetching {args.source}", quiet=args.quiet, verbose=args.verbose):
        got = fetch(args.source, revision=args.revision, lore_url=config.lore_url(args.lore_url),
                    offline=args.offline)
    store = Store(config.store_dir(args.store))
    path = keep(store, got)
    if args.json:
        console.write(console.json_out(got.series))
        return 0
    _print_series(got.series, args.quiet, stored_at=os.path.dirname(os.path.dirname(path)))
    return 0


def _print_series(s: Any, quiet: bool, stored_at: str | None = None) -> None:
    from reviewtool.report.series_text import render_series, render_warnings

    console.write(render_series(s, console.tty(), stored_at=stored_at))
    if not quiet:
        console.write_err(render_warnings(s.warnings, sys.stderr.isatty()))


def run_list(args: argparse.Namespace) -> int:
    store = Store(config.store_dir(args.store))
    series = store.list()
    if args.json:
        console.write(console.json_out([{"id": s.id, "revision": s.revision, "subject": s.subject,
                                         "author": s.author, "date": s.date, "msgid": s.msgid}
                                        for s in series]))
        return 0
    from reviewtool.report.series_text import render_list

    console.write(render_list(series, console.tty()))
    return 0


def run_show(args: argparse.Namespace) -> int:
    s = Store(config.store_dir(args.store)).find(args.series)
    if args.json:
        console.write(console.json_out(s))
        return 0
    _print_series(s, args.quiet)
    return 0
