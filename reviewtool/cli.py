"""Argument parsing and the one error boundary.

Each command lives in reviewtool/commands/<name>.py with `register(subparsers, common)`
and is imported only when needed, so `reviewtool check` never pays for importing b4.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reviewtool import __version__
from reviewtool.errors import ReviewtoolError

# command name -> module that registers it
# (each command module adds its own line here)
COMMANDS = {
    "rebase": "rebase",
    "fetch": "fetch",
    "list": "fetch",
    "show": "fetch",
    "check": "check",
    "rules": "check",
    "review": "review",
}


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors and results")
    common.add_argument("--verbose", action="count", default=0,
                        help="say more (tracebacks on errors, dropped findings)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--store", metavar="DIR",
                        help="the series store (default: $REVIEWTOOL_STORE, git config "
                             "reviewtool.store, $XDG_CACHE_HOME/reviewtool)")
    return common


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewtool",
        description="Fetch, rebase and review Linux kernel patch series.",
    )
    parser.add_argument("--version", action="version", version=f"reviewtool {__version__}")
    parser.add_argument("-v", dest="top_verbose", action="count", default=0,
                        help="say more (before the command; after 'fetch', -v N picks a revision)")
    parser.add_argument("-q", dest="top_quiet", action="store_true", help="print only errors and results")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()
    modules = sorted(set(COMMANDS.values())) if only is None else [COMMANDS[only]]
    for name in modules:
        importlib.import_module(f"reviewtool.commands.{name}").register(sub, common)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    for a in argv:
        if a in COMMANDS:
            return a
        if not a.startswith("-"):
            return None
    return None


def _setup_logging(verbose: int) -> None:
    """Debug logging for -vv; otherwise prefix library warnings, if a library uses logging at all.

    `logging` is not imported just to configure it: when nothing has loaded it, nothing
    logs, and a library loaded later still has its warnings shown by logging's fallback.
    """
    if verbose < 2 and "logging" not in sys.modules:
        return
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.WARNING,
                        format="reviewtool: %(message)s")


# Allocations between two runs of the cycle collector while a command is the whole process
# (Python's default is 700): a check then runs without one, a long fetch or rebase still
# gets its cycles collected.
PROCESS_GC_THRESHOLD = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Without `argv` (the console script, `python -m reviewtool`) the
    command is the whole process: the cycle collector runs rarely while it works, and the
    objects left at the end are frozen, so exiting skips one last collection over all of them.
    """
    if argv is not None:
        return _run(list(argv))
    import gc

    gc.set_threshold(PROCESS_GC_THRESHOLD)
    try:
        return _run(sys.argv[1:])
    finally:
        gc.freeze()


def _run(argv: list[str]) -> int:
    parser = build_parser(_command_in(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: usage errors are exit 2, --help/--version exit 0
        return int(e.code or 0)
    args.verbose = getattr(args, "verbose", 0) + args.top_verbose
    args.quiet = getattr(args, "quiet", False) or args.top_quiet
    if args.command is None:
        parser.print_help()
        return 2
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except ReviewtoolError as e:
        if args.verbose:
            raise
        print(f"reviewtool: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("reviewtool: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
