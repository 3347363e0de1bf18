"""Argument parsing and the one error boundary.

Each command lives in reviewtool/commands/<name>.py with `register(subparsers, common)`
and is imported only when needed, so `reviewtool check` never pays for importing b4.

When the `reviewtool` command itself loads this module (the console script, or
`python -m reviewtool`), the first thing it does is take SIGINT, SIGTERM and SIGHUP, before
any other import: a signal that arrives before the error boundary exists is held, and
raised as soon as the boundary is in place; after that a signal raises `Interrupted` where
the process is, so every `finally` (temporary directories, child processes) runs, and the
boundary prints one line and exits 128+N (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from reviewtool import config
from reviewtool.errors import INTERNAL_ERROR_EXIT, Interrupted, ReviewtoolError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Signals:
    """What SIGINT, SIGTERM and SIGHUP do while the command runs, phase by phase.

    held: before the boundary exists (imports): remembered, raised by `arm`.
    armed: raise Interrupted where the process is.
    unwinding: one was raised; the next is ignored so that the cleanup can finish (a third
        one ends the process at once).
    done: the command returned and its output was flushed: exit at once with 128+N.
    """

    def __init__(self) -> None:
        self.phase = "off"
        self.held: list[int] = []
        self.count = 0

    def take(self) -> None:
        if self.phase != "off":
            return
        try:
            for sig in _SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup, `cmd &`: stay ignored
                    signal.signal(sig, self._on_signal)
        except ValueError:  # not the main thread: leave signals alone
            return
        self.phase = "held"

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.phase == "held":
            self.held.append(signum)
        elif self.phase == "armed":
            self.phase = "unwinding"
            raise Interrupted(signum)
        elif self.phase != "unwinding" or self.count >= 3:
            os._exit(128 + signum)

    def arm(self) -> None:
        """The boundary is in place: raise a signal held so far, and any from now on."""
        if self.phase == "held":
            self.phase = "armed"
            if self.held:
                self.phase = "unwinding"
                raise Interrupted(self.held[0])

    def done(self) -> None:
        if self.phase != "off":
            self.phase = "done"


_signals = _Signals()


def _started_as_the_command() -> bool:
    """Whether this process is `reviewtool` itself (not a program that imports the package)."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if spec is not None:
        return bool(spec.name == "reviewtool.__main__")
    return os.path.basename(getattr(main_module, "__file__", None) or "") == "reviewtool"


if _started_as_the_command():
    _signals.take()


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
    "history": "history",
}

_EPILOG = ("exit status: 0 ok, 1 findings or conflicts, 2 bad input, 3 internal error, "
           "128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM); REVIEWTOOL_DEBUG=1 is --debug")


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse's parser, with a help formatter told the terminal's width.

    argparse's own formatter asks `shutil.get_terminal_size` at every `add_argument`, and
    importing shutil (with bz2, lzma and zlib) is 3 ms of every command; the width is the
    same one, read without it.
    """
    import argparse

    from reviewtool.report.console import terminal_columns

    class Formatter(argparse.HelpFormatter):
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            if width is None:
                width = terminal_columns(80) - 2  # what argparse's own formatter asks shutil for
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kwargs)

    return Parser


def _common(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    common = parser_class(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors and results")
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="say more (tracebacks on errors, dropped findings); after fetch and "
                             "review, -v N picks a revision")
    common.add_argument("--debug", action="store_true", help="print the traceback of an error")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--store", metavar="DIR",
                        help="the series store (default: $REVIEWTOOL_STORE, git config "
                             "reviewtool.store, $XDG_CACHE_HOME/reviewtool)")
    return common


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    import importlib

    from reviewtool import __version__

    parser_class = _parser_class()
    parser = parser_class(
        prog="reviewtool",
        description="Fetch, rebase and review Linux kernel patch series.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"reviewtool {__version__}")
    parser.add_argument("-v", dest="top_verbose", action="count", default=0,
                        help="say more (before the command; after 'fetch', -v N picks a revision)")
    parser.add_argument("-q", dest="top_quiet", action="store_true", help="print only errors and results")
    parser.add_argument("--debug", dest="top_debug", action="store_true",
                        help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    common = _common(parser_class)
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
    command is the whole process: signals end it through the boundary, output characters
    the terminal cannot encode are escaped, the cycle collector runs rarely while it works,
    and the process ends as soon as the command has (`_exit`).
    """
    if argv is not None:
        return _run(list(argv))
    _signals.take()
    import gc

    gc.set_threshold(PROCESS_GC_THRESHOLD)
    try:
        code = _run(sys.argv[1:], process=True)
    finally:
        _signals.done()
    _exit(code)
    gc.freeze()  # exiting skips one last collection
    return code


def _exit(code: int) -> None:
    """End the process now, without tearing down its modules one by one (3-4 ms of a local
    check): the exit handlers run (the compiled-regex cache is saved), the standard streams
    are flushed, then os._exit. Only when the command left no other thread running and
    nothing profiles or traces the process; otherwise this returns and the interpreter
    exits as usual."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return  # a profiler, a debugger or a coverage tool writes its results after main returns
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the descriptor closed
                stream.flush()
        except (OSError, ValueError):  # closed or broken: there is nowhere left to write
            pass
    os._exit(code)


def _run(argv: list[str], process: bool = False) -> int:
    args: argparse.Namespace | None = None
    try:
        _signals.arm()
        config.forget()  # this command's settings, read afresh
        if process:
            _escape_unencodable_output()
        parser = build_parser(_command_in(argv))
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # argparse: usage errors are exit 2, --help/--version exit 0
            return e.code if isinstance(e.code, int) else 2
        args.verbose = getattr(args, "verbose", 0) + args.top_verbose
        args.quiet = getattr(args, "quiet", False) or args.top_quiet
        args.debug = getattr(args, "debug", False) or args.top_debug
        if args.command is None:
            parser.print_help()
            return 2
        _setup_logging(args.verbose)
        if process and sys.stdout is None:  # started with `>&-`
            _say("reviewtool: error: standard output is closed: there is nowhere to write the result")
            return 2
        code = int(args.func(args))
        if process:
            sys.stdout.flush()  # a full disk or a closed pipe is this command's failure, not the exit's
        return code
    except ReviewtoolError as e:
        _say(f"reviewtool: error: {e}", traceback=_debugging(args, argv))
        return e.exit_code
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        what = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
        _say(f"reviewtool: interrupted{what}", traceback=_debugging(args, argv))
        return 128 + signum
    except BrokenPipeError:  # `reviewtool list | head`: the reader has all it wanted
        if process:
            _silence_stdout()
        return 0
    except OSError as e:
        _say(f"reviewtool: error: {_os_error(e)}", traceback=_debugging(args, argv))
        return 2
    except Exception as e:
        _say(f"reviewtool: internal error: {type(e).__name__}: {_first_line(e)} (a bug in reviewtool: "
             "please report it with the command line and the output of REVIEWTOOL_DEBUG=1 reviewtool ...)",
             traceback=_debugging(args, argv))
        return INTERNAL_ERROR_EXIT


def _debugging(args: argparse.Namespace | None, argv: list[str]) -> bool:
    """--debug, --verbose or REVIEWTOOL_DEBUG=1: show the traceback of an error."""
    if os.environ.get("REVIEWTOOL_DEBUG", "") not in ("", "0"):
        return True
    if args is None:  # the error came before the arguments were parsed
        return "--debug" in argv
    return bool(getattr(args, "debug", False) or getattr(args, "verbose", 0))


def _say(line: str, *, traceback: bool = False) -> None:
    """One line on stderr, after the traceback when asked for; never raises."""
    try:
        if traceback:
            import traceback as tb

            tb.print_exc(file=sys.stderr)
        print(line, file=sys.stderr, flush=True)
    except Exception:  # stderr is closed or broken: there is nowhere to say it
        pass


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else "(no message)"


def _os_error(e: OSError) -> str:
    """An OSError that escaped the commands, as one line: what failed and on which file."""
    from reviewtool.outfiles import reason

    where = f"{e.filename}" if e.filename else ""
    if e.filename2:
        where += f" -> {e.filename2}"
    return f"{where}: {reason(e)}" if where else reason(e)


def _escape_unencodable_output() -> None:
    """On a stdout that is not UTF-8 (PYTHONIOENCODING=ascii, a latin-1 locale), write a
    character it cannot encode as a \\uXXXX escape (as JSON writes one) instead of failing."""
    out = sys.stdout
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if encoding != "utf8" and getattr(out, "errors", None) == "strict" and hasattr(out, "reconfigure"):
        import codecs

        codecs.register_error("reviewtool.escape", _unicode_escape)
        out.reconfigure(errors="reviewtool.escape")


def _unicode_escape(err: UnicodeError) -> tuple[str, int]:
    """\\uXXXX for each character (a surrogate pair beyond U+FFFF): valid inside a JSON string."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    escaped = []
    for ch in err.object[err.start:err.end]:
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), err.end


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so that the exit's flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
