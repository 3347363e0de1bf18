"""`reviewtool rebase`: apply a series onto one ref, or several, in isolation and report every patch."""

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
                    "and report per patch: clean, offset, 3way, conflict, already-upstream, "
                    "already-applied, skipped, missing or not-applicable. With several --onto, one "
                    "matrix of patch x target and the target that takes the series best. Exit 0 when "
                    "everything applied (onto the best target), 1 on any conflict, 2 on bad input.")
    p.add_argument("series", nargs="?", metavar="SERIES",
                   help="store id, message-id or path to an mbox (default: the latest fetched series)")
    p.add_argument("--onto", required=True, action="append", metavar="REF",
                   help="commit-ish to apply onto (v5.15-rc1, a sha); repeat it to try several targets")
    p.add_argument("--repo", metavar="PATH", help="the git repository (default: the one around .)")
    p.add_argument("--base", metavar="REF",
                   help="the series' base (default: base-commit:, else guessed from blob ids)")
    p.add_argument("--branch", metavar="NAME", help="create branch NAME at the result when all applied")
    p.add_argument("--force-partial", action="store_true",
                   help="with --branch: create it even when some patches did not apply")
    p.add_argument("--force", action="store_true", help="with --branch: move an existing branch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reviewtool.rebase import branch, rebase_matrix
    from reviewtool.report import rebase_text

    if args.series is not None and args.series.startswith("-"):
        raise SourceError(f"SERIES '{args.series}' starts with '-': refusing it")
    ontos: list[str] = list(dict.fromkeys(args.onto))  # the same target twice is tried once
    if args.branch is not None and len(ontos) > 1:
        raise SourceError("--branch takes one --onto: which target's result would it be?")
    store = Store(config.store_dir(args.store))
    series = series_for(args.series, store, quiet=args.quiet)
    if args.branch is not None:
        branch.check_branch(args.repo, args.branch, args.force)
    from reviewtool.report import console

    with console.Progress(f"applying onto {', '.join(ontos)}", quiet=args.quiet or args.json,
                          verbose=args.verbose) as progress:
        matrix = rebase_matrix(series, ontos, repo=args.repo, base=args.base, progress=progress,
                               phase=progress.phase)
    result = next(r for r in matrix.results if r.onto == matrix.best)
    note = None
    if args.branch is not None:
        result, note = _make_branch(result, args)
    # `check` reads the result of the target that takes the series best
    save_result(store, series.id, "rebase", result, args.quiet)
    if len(ontos) > 1:
        if args.json:
            console.write(console.json_out(matrix))
        else:
            console.write(rebase_text.render_matrix(matrix, series, tty=console.tty(), verbose=args.verbose))
    elif args.json:
        console.write(console.json_out(result))
    else:
        console.write(rebase_text.render_result(result, series, tty=console.tty(), branch_note=note,
                                                verbose=args.verbose))
    return 1 if any(p.outcome in FAILED for p in result.patches) else 0



def _make_branch(result: ApplyResult, args: argparse.Namespace) -> tuple[ApplyResult, str | None]:
    from reviewtool.rebase import branch
    from reviewtool.record import replace

    failed = [p for p in result.patches if p.outcome in FAILED]
    if failed and not args.force_partial:
        return result, (f"branch '{args.branch}' not created: {len(failed)} patch"
                        f"{'es' if len(failed) != 1 else ''} did not apply (add --force-partial "
                        "to create it anyway)")
    if not result.result_commit:
        return result, f"branch '{args.branch}' not created: no result commit"
    ref = branch.create_branch(args.repo, args.branch, result.result_commit, args.force,
                               f"reviewtool rebase {result.series_id} onto {result.onto}")
    return replace(result, branch=ref), None
