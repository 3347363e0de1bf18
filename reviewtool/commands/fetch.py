"""`reviewtool fetch`, `list` and `show`."""

from __future__ import annotations

import argparse
from typing import Any

from reviewtool import config
from reviewtool.commands import keep
from reviewtool.report import console
from reviewtool.store import Store


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("fetch", parents=[common], help="fetch a series (message-id, lore URL, mbox, ...)",
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
    err = console.stderr(args.quiet)
    with err.status("fetching...", spinner="dots") if not args.quiet else _null():
        got = fetch(args.source, revision=args.revision, lore_url=config.lore_url(args.lore_url),
                    offline=args.offline)
    store = Store(config.store_dir(args.store))
    path = keep(store, got)
    if args.json:
        console.print_json(got.series)
        return 0
    from reviewtool.report.series_text import render_series

    render_series(got.series, console.stdout(), err, stored_at=str(path.parent.parent))
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = Store(config.store_dir(args.store))
    series = store.list()
    if args.json:
        console.print_json([{"id": s.id, "revision": s.revision, "subject": s.subject,
                             "author": s.author, "date": s.date, "msgid": s.msgid} for s in series])
        return 0
    from reviewtool.report.series_text import render_list

    render_list(series, console.stdout())
    return 0


def run_show(args: argparse.Namespace) -> int:
    s = Store(config.store_dir(args.store)).find(args.series)
    if args.json:
        console.print_json(s)
        return 0
    from reviewtool.report.series_text import render_series

    render_series(s, console.stdout(), console.stderr(args.quiet))
    return 0


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
