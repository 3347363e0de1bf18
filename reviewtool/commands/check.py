"""`reviewtool check` (rules + analyzers + checkpatch -> checklist) and `reviewtool rules`."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewtool import config
from reviewtool.commands import is_path, save_result, series_for
from reviewtool.commands.checking import CheckOptions, add_jobs_flag, find_checkpatch, run_checks
from reviewtool.errors import ReviewtoolError, StoreError
from reviewtool.model import ApplyResult, CheckResult, Series
from reviewtool.report import FORMATS, console

if TYPE_CHECKING:
    from pathlib import Path

FileText = Callable[[str], str | None]
FAIL_ON = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `check` and `rules` commands."""
    p = sub.add_parser("check", parents=[common], help="run the rule packs and build the reviewer checklist",
                       description="Run the rule packs, the analyzers and checkpatch.pl over every patch "
                                   "of a series and print the reviewer checklist.")
    p.add_argument("series", nargs="?", metavar="SERIES",
                   help="store id, message-id, or an mbox / patch directory (default: the latest fetched)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="also load the *.toml rule packs in DIR (repeatable)")
    p.add_argument("--format", choices=sorted(FORMATS), default=None, help="output format (default: text)")
    p.add_argument("--fail-on", choices=list(FAIL_ON), default="error",
                   help="exit 1 when a new finding has this severity or worse (default: error)")
    p.add_argument("--checkpatch", metavar="PATH",
                   help="checkpatch.pl to run (or a kernel tree holding scripts/checkpatch.pl)")
    p.add_argument("--no-checkpatch", action="store_true", help="do not run checkpatch.pl")
    p.add_argument("--repo", metavar="PATH",
                   help="the target kernel repository: its scripts/checkpatch.pl, and its files to tell "
                        "kernel patches from userspace ones (default: the rebase result's)")
    add_jobs_flag(p)
    from reviewtool.commands.history import add_history_flags

    add_history_flags(p)
    p.add_argument("--lore-url", metavar="URL", help="with --history: the public-inbox to search (as for fetch)")
    p.add_argument("--offline", action="store_true", help="with --history: earlier revisions from the store only")
    p.set_defaults(func=run_check)

    r = sub.add_parser("rules", parents=[common], help="list the rules, or show one rule's documentation",
                       description="List every rule of the loaded packs; 'rules show ID' prints a rule's "
                                   "documentation.")
    r.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="also load the *.toml rule packs in DIR (repeatable)")
    r.add_argument("words", nargs="*", metavar="show ID", help="'show' and a rule id")
    r.set_defaults(func=run_rules)


def _ruleset(dirs: list[str], cache: bool = False) -> Any:
    """The shipped packs plus those in `dirs`; `cache`: reuse packs validated by an earlier run."""
    from reviewtool.check.rules import load_rules

    return load_rules(extra=[os.path.expanduser(d) for d in dirs], cache=cache)


def run_rules(args: argparse.Namespace) -> int:
    """List the rules, or print one rule's documentation."""
    from reviewtool.check.rules import rule_meta
    from reviewtool.report import terminal

    ruleset = _ruleset(args.rules)
    words = list(args.words)
    if not words or words == ["list"]:
        if args.json:
            return _print_json([rule_meta(r) for r in ruleset.rules])
        console.write(terminal.render_rules(ruleset.rules, tty=console.tty()))
        return 0
    if len(words) != 2 or words[0] != "show":
        raise ReviewtoolError(f"rules {' '.join(words)}: use 'reviewtool rules' or 'reviewtool rules show ID'")
    rule = ruleset.get(words[1].upper())
    if rule is None:
        raise ReviewtoolError(f"no rule {words[1]} (see 'reviewtool rules')")
    if args.json:
        return _print_json(rule_meta(rule))
    console.write(terminal.render_rule_doc(rule, tty=console.tty()))
    return 0


def _print_json(data: Any) -> int:
    console.write(console.json_out(data))
    return 0


def _rebase_result(store: Any, series: Series) -> ApplyResult | None:
    from reviewtool.model import from_json

    data = store.load_result(series.id, "rebase")
    if not isinstance(data, dict):
        return None
    try:
        return from_json(ApplyResult, data)
    except (TypeError, KeyError, ValueError) as e:
        raise StoreError(f"the stored rebase result of {series.id} is unreadable ({e}): run rebase again") from None


def _asks_git_config(args: argparse.Namespace) -> bool:
    """Whether this check will look a setting up in git config: where the store is, or the
    lore URL of a series read from mail."""
    from_mail = args.series == "-" or (args.series is not None and is_path(args.series))
    return config.from_git(args.store, config.STORE_ENV) or (from_mail and config.from_git(None, config.LORE_URL_ENV))


def run_check(args: argparse.Namespace) -> int:
    """Check a series; exit 1 when a counted finding reaches --fail-on."""
    from reviewtool.store import Store

    fmt = "json" if args.json and args.format is None else (args.format or "text")
    if _asks_git_config(args):
        config.prefetch()  # git config runs while the rule packs load
    ruleset = _ruleset(args.rules, cache=True)
    store = Store(config.store_dir(args.store))
    series = series_for(args.series, store, stdin=True, quiet=args.quiet)  # "-": one mail (b4's per-patch checks)
    apply = _rebase_result(store, series)
    options = CheckOptions(args.checkpatch, args.no_checkpatch, args.repo, args.jobs)
    script, _missing = find_checkpatch(options, apply)
    result = run_checks(series, apply, ruleset, options, _progress(args, script, len(series.patches)))
    if args.history:
        from reviewtool.commands.history import history_args

        result = history_args(args, series, store, result)
    if args.series != "-":
        save_result(store, series.id, "check", result, args.quiet)
    console.write(_render(fmt, series, result, apply, ruleset, args))
    return exit_code(result, args.fail_on)


def _progress(args: argparse.Namespace, script: Path | None, patches: int) -> contextlib.AbstractContextManager[Any]:
    """Progress while checkpatch.pl runs (the only slow part)."""
    if script is None:
        return contextlib.nullcontext()
    return console.Progress(f"running checkpatch.pl on {patches} patches", quiet=args.quiet,
                            verbose=args.verbose)


def _render(fmt: str, series: Series, result: CheckResult, apply: ApplyResult | None, ruleset: Any,
            args: argparse.Namespace) -> str:
    module = importlib.import_module(FORMATS[fmt])
    render = module.render
    code = render.__code__  # the keyword options this renderer takes (cheaper than inspect)
    params = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    options: dict[str, Any] = {"verbose": args.verbose, "tty": console.tty(),
                               "width": console.wrap_width(console.tty())}
    if "sender" in params:  # the email format: sign as git config says (the renderer reads no settings)
        options["sender"] = config.reviewer_identity()
        if options["sender"] is None:
            from reviewtool.report.email import PLACEHOLDER_SENDER

            console.warn(f"replies are signed {PLACEHOLDER_SENDER!r}: set git config user.name and "
                         "user.email (or reviewtool.from)", args.quiet)
    if "rules" in params:
        from reviewtool.check.rules import rule_meta

        options["rules"] = [rule_meta(r) for r in ruleset.rules]
    text: str = render(series, result, apply, **{k: v for k, v in options.items() if k in params})
    return text


def exit_code(result: CheckResult, fail_on: str) -> int:
    """1 when a finding that counts (new, not looks-ok) has a severity in --fail-on, else 0."""
    levels = FAIL_ON[fail_on]
    for f in result.findings:
        if f.severity in levels and not f.pre_existing and f.status != "looks-ok":
            return 1
    return 0
