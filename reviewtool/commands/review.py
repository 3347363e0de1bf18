"""`reviewtool review SOURCE --onto REF`: fetch + rebase + check in one go, for CI.

Progress goes to stderr; stdout carries only the chosen format. With --output-dir every
format is written at once (report.md, report.json, report.sarif, reply-NN.eml,
patchwork.jsonl), as a whole or not at all; the names written are kept in
.reviewtool-manifest.json, so that the next run removes the replies it does not write again
(unless they were edited), and nothing else. Exit 0 clean, 1 when a patch does not apply or
a finding reaches --fail-on, 2 on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
from pathlib import Path
from typing import Any

from reviewtool import config
from reviewtool.commands import keep, save_result
from reviewtool.commands.checking import CheckOptions, run_checks
from reviewtool.errors import ReviewtoolError
from reviewtool.model import ApplyResult, CheckResult, PatchOutcome, RebaseMatrix, Series
from reviewtool.report import FORMATS, console

FAIL_ON = ("error", "warning", "never")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `review` command."""
    p = sub.add_parser(
        "review", parents=[common], conflict_handler="resolve",  # -v N: the revision, as for fetch
        help="fetch, rebase and check a series in one go (for CI)",
        description="Fetch SOURCE, apply it onto REF in isolation, run the checks and print one "
                    "report; --output-dir writes every format at once.")
    p.add_argument("source", metavar="SOURCE",
                   help="message-id, lore URL, mbox, maildir, directory of .patch/.eml files, or -")
    p.add_argument("--onto", required=True, action="append", metavar="REF",
                   help="the tree to apply onto (branch, tag, commit); repeat it to try several: the "
                        "checks run on the one that takes the series best, the reports show the matrix")
    p.add_argument("--repo", metavar="PATH", help="the target git repository (default: the current one)")
    p.add_argument("--base", metavar="REF", help="the base the series was written against (default: found)")
    p.add_argument("-v", "--revision", type=int, metavar="N", help="pick revision N (default: newest)")
    p.add_argument("--lore-url", metavar="URL", help="public-inbox base URL (as for fetch)")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="what to print on stdout (default: text; --json means json)")
    p.add_argument("--output-dir", metavar="DIR",
                   help="also write report.md, report.json, report.sarif, reply-NN.eml, patchwork.jsonl")
    p.add_argument("--fail-on", choices=FAIL_ON, default="error",
                   help="exit 1 when a patch does not apply or a new finding has this severity or "
                        "worse (default: error); never: exit 0 unless the input is bad")
    p.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="also load the *.toml rule packs in DIR (repeatable)")
    p.add_argument("--checkpatch", metavar="PATH", help="checkpatch.pl to run (default: the repo's)")
    p.add_argument("--no-checkpatch", action="store_true", help="do not run checkpatch.pl")
    p.add_argument("--from", dest="sender", metavar="'NAME <ADDR>'",
                   help="who signs the email replies (default: git config user.name/user.email)")
    p.add_argument("--target-url", metavar="URL", help="link for the Patchwork checks (a CI job's page)")
    p.add_argument("--patchwork-per-category", action="store_true",
                   help="one more Patchwork check per checklist category with findings")
    from reviewtool.commands.history import add_history_flags

    add_history_flags(p)
    p.set_defaults(func=run_review)


def run_review(args: argparse.Namespace) -> int:
    """Fetch, rebase, check; print the chosen format; write the others; exit 0/1."""
    from reviewtool.errors import SourceError
    from reviewtool.store import Store

    if args.revision is not None and args.revision < 1:
        raise SourceError(f"-v {args.revision}: a revision is a number from 1")
    fmt = "json" if args.json and args.format is None else (args.format or "text")
    out_dir = _output_dir(args.output_dir) if args.output_dir else None
    err = console.Progress(quiet=args.quiet, verbose=args.verbose)
    store = Store(config.store_dir(args.store))
    ruleset = _ruleset(args.rules)  # a bad rule pack fails before any network or git work

    with err:
        series = _fetch(args, err, store)
        apply, matrix = _rebase(args, err, series)
        save_result(store, series.id, "rebase", apply, args.quiet)
        result = _check(args, err, series, apply, ruleset)
        if args.history:
            from reviewtool.commands.history import history_args

            err.phase("looking for earlier revisions")
            result = history_args(args, series, store, result)
        save_result(store, series.id, "check", result, args.quiet)

    rules = _rule_meta(ruleset)
    options = {"sender": args.sender, "target_url": args.target_url,
               "per_category": args.patchwork_per_category, "rules": rules,
               "verbose": args.verbose, "tty": console.tty(), "width": console.wrap_width(console.tty()),
               "matrix": matrix if len(matrix.results) > 1 else None}
    if (out_dir is not None or fmt == "email") and not args.sender:
        from reviewtool.report.email import PLACEHOLDER_SENDER

        options["sender"] = config.reviewer_identity()
        if options["sender"] is None:
            err.say(f"warning: replies are signed {PLACEHOLDER_SENDER!r}: give --from or set git config "
                    "user.name and user.email")
    if out_dir is not None:
        written = write_outputs(out_dir, series, result, apply, options)
        err.say(f"wrote {len(written)} files to {out_dir}")
    console.write(render(fmt, series, result, apply, options))
    return exit_code(result, apply, args.fail_on)


def _output_dir(value: str) -> Path:
    d = Path(value).expanduser()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReviewtoolError(f"--output-dir {value}: cannot create it: {e.strerror}") from None
    if not os.access(d, os.W_OK):
        raise ReviewtoolError(f"--output-dir {value}: not writable")
    return d


def _ruleset(dirs: list[str]) -> Any:
    from reviewtool.check.rules import load_rules

    return load_rules(extra=[Path(d).expanduser() for d in dirs])


def _rule_meta(ruleset: Any) -> list[dict[str, Any]]:
    from reviewtool.check.rules import rule_meta

    return [rule_meta(r) for r in ruleset.rules]


def _fetch(args: argparse.Namespace, err: console.Progress, store: Any) -> Series:
    from reviewtool.fetch import fetch

    err.phase(f"fetching {args.source}")
    got = fetch(args.source, revision=args.revision, lore_url=config.lore_url(args.lore_url),
                offline=args.offline)
    keep(store, got)
    s = got.series
    err.say(f"fetched v{s.revision} of \"{s.subject}\": {len(s.patches)}/{s.expected} patches")
    for w in s.warnings:
        err.say(f"warning: {w}")
    return s


def _rebase(args: argparse.Namespace, err: console.Progress, series: Series) -> tuple[ApplyResult, RebaseMatrix]:
    """The series onto every --onto; the result of the target that takes it best, and the matrix."""
    from reviewtool.rebase import rebase_matrix

    ontos: list[str] = list(dict.fromkeys(args.onto))
    err.phase(f"applying onto {', '.join(ontos)}")

    def progress(n: int, total: int, outcome: PatchOutcome | None) -> None:
        if outcome is not None and outcome.outcome not in ("clean", "offset"):
            err.say(f"  [{n}/{total}] {outcome.outcome}: {outcome.subject}")

    matrix = rebase_matrix(series, ontos, repo=args.repo, base=args.base, progress=progress, phase=err.phase)
    apply = next(r for r in matrix.results if r.onto == matrix.best)
    from reviewtool.report.quote import apply_summary, base_summary

    for r in matrix.results:
        err.say(f"base {base_summary(r)}; onto {r.onto}: {apply_summary(r)}")
    if len(matrix.results) > 1:
        err.say(matrix.best_reason)
    return apply, matrix


def _check(args: argparse.Namespace, err: console.Progress, series: Series, apply: ApplyResult,
           ruleset: Any) -> CheckResult:
    err.phase(f"checking {len(series.patches)} patches")
    return run_checks(series, apply, ruleset, CheckOptions(args.checkpatch, args.no_checkpatch, None))


def render(fmt: str, series: Series, result: CheckResult, apply: ApplyResult | None,
           options: dict[str, Any]) -> str:
    """One format's text, passing each renderer only the options it takes."""
    module = importlib.import_module(FORMATS[fmt])
    fn = module.render
    params = inspect.signature(fn).parameters
    text: str = fn(series, result, apply, **{k: v for k, v in options.items() if k in params and v is not None})
    return text


def write_outputs(out_dir: Path, series: Series, result: CheckResult, apply: ApplyResult | None,
                  options: dict[str, Any]) -> list[Path]:
    """Every file format into OUT_DIR, all of them or none (ReviewtoolError, OUT_DIR as it was).

    Replies an earlier run wrote and this one does not are removed (they would thread
    wrongly), unless edited since; no other file of OUT_DIR is touched.
    """
    from reviewtool.outfiles import write_set
    from reviewtool.report import email as replies

    files = {
        "report.md": render("markdown", series, result, apply, options),
        "report.json": render("json", series, result, apply, options),
        "report.sarif": render("sarif", series, result, apply, options),
        "patchwork.jsonl": render("patchwork", series, result, apply, options),
    }
    for mail in replies.build(series, result, apply, sender=options.get("sender")):
        files[mail.name] = mail.text
    try:
        return write_set(out_dir, files)
    except OSError as e:
        raise ReviewtoolError(f"{e}; nothing was written to {out_dir}") from None


def exit_code(result: CheckResult, apply: ApplyResult | None, fail_on: str) -> int:
    """1 when a patch conflicts or a counted finding reaches --fail-on, else 0 (always 0 with
    --fail-on never: the report says what happened, the exit status does not fail the job)."""
    if fail_on == "never":
        return 0
    if apply is not None and any(p.outcome == "conflict" for p in apply.patches):
        return 1
    levels = {"error": ("error",), "warning": ("error", "warning"), "never": ()}[fail_on]
    for f in result.findings:
        if f.severity in levels and not f.pre_existing and f.status != "looks-ok":
            return 1
    return 0

