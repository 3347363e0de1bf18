"""`reviewtool rebase`: apply a series onto a ref in isolation and report every patch."""

from __future__ import annotations

import argparse
from typing import Any

from reviewtool import config
from reviewtool.commands import save_result, series_for
from reviewtool.errors import SourceError
from reviewtool.model import ApplyResult
from reviewtool.store import Store

FAILED = ("conflict", "skipped")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "rebase", parents=[common], help="apply a series onto a ref without touching your checkout",
        description="Apply every patch of a series onto REF in isolation (a private index and git "
                    "plumbing; your HEAD, index, working tree, branches and stash are never touched) "
                    "and report per patch: clean, offset, 3way, conflict, already-upstream, skipped "
                    "or not-applicable. Exit 0 when everything applied, 1 on any conflict, 2 on bad "
                    "input.")
    p.add_argument("series", nargs="?", metavar="SERIES",
                   help="store id, message-id or path to an mbox (default: the latest fetched series)")
    p.add_argument("--onto", required=True, metavar="REF", help="commit-ish to apply onto (v5.15-rc1, a sha)")
    p.add_argument("--repo", metavar="PATH", help="the git repository (default: the one around .)")
    p.add_argument("--base", metavar="REF",
                   help="the series' base (default: base-commit:, else guessed from blob ids)")
    p.add_argument("--branch", metavar="NAME", help="create branch NAME at the result when all applied")
    p.add_argument("--force-partial", action="store_true",
                   help="with --branch: create it even when some patches did not apply")
    p.add_argument("--force", action="store_true", help="with --branch: move an existing branch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reviewtool.rebase import apply_series, branch
    from reviewtool.report import rebase_text

    if args.series is not None and args.series.startswith("-"):
        raise SourceError(f"SERIES '{args.series}' starts with '-': refusing it")
    store = Store(config.store_dir(args.store))
    series = series_for(args.series, store, quiet=args.quiet)
    if args.branch is not None:
        branch.check_branch(args.repo, args.branch, args.force)
    from reviewtool.report import console

    with console.Progress(f"applying onto {args.onto}", quiet=args.quiet or args.json,
                          verbose=args.verbose) as progress:
        result = apply_series(series, args.onto, repo=args.repo, base=args.base, progress=progress)
    note = None
    if args.branch is not None:
        result, note = _make_branch(result, args)
    save_result(store, series.id, "rebase", result, args.quiet)
    if args.json:
        console.write(console.json_out(result))
    else:
        console.write(rebase_text.render_result(result, series, tty=console.tty(), branch_note=note))
    return 1 if any(p.outcome in FAILED for p in result.patches) else 0


def _make_branch(result: ApplyResult, args: argparse.Namespace) -> tuple[ApplyResult, str | None]:
    import dataclasses

    from reviewtool.rebase import branch

    failed = [p for p in result.patches if p.outcome in FAILED]
    if failed and not args.force_partial:
        return result, (f"branch '{args.branch}' not created: {len(failed)} patch"
                        f"{'es' if len(failed) != 1 else ''} did not apply (add --force-partial "
                        "to create it anyway)")
    if not result.result_commit:
        return result, f"branch '{args.branch}' not created: no result commit"
    ref = branch.create_branch(args.repo, args.branch, result.result_commit, args.force,
                               f"reviewtool rebase {result.series_id} onto {result.onto}")
    return dataclasses.replace(result, branch=ref), None
