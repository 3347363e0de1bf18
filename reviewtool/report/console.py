"""The one place that writes to the terminal, and the one progress mechanism.

Renderers return text; commands hand it to `write` (stdout) or `write_err` (stderr).
`capture` gives a renderer a rich console that writes into a string, styled on a terminal
and plain elsewhere. `Progress` is what every command shows on stderr while it works: the
phase and the step on a terminal's status line, one line per step with --verbose, nothing
with --quiet. Nothing here reads rich markup or emoji codes in what it prints: much of it
is mail text, where `[/]` or `[link=...]` is text (renderers also pass it through
`safe.for_terminal`).
"""

from __future__ import annotations

import io
import os
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

from reviewtool.model import PatchOutcome, to_json
from reviewtool.report.safe import for_terminal, json_text

if TYPE_CHECKING:
    from rich.console import Console

PLAIN_WIDTH = 120  # pipes and CI logs: wide enough for a patch subject on one line


def tty() -> bool:
    """True when stdout is a terminal (styled output)."""
    return sys.stdout.isatty()


def width(styled: bool) -> int:
    """The width output is laid out for: the terminal's (COLUMNS first), else PLAIN_WIDTH."""
    if "COLUMNS" in os.environ and os.environ["COLUMNS"].isdigit():
        return int(os.environ["COLUMNS"])
    return terminal_columns(PLAIN_WIDTH) if styled else PLAIN_WIDTH


def wrap_width(styled: bool) -> int | None:
    """The width a text report wraps to: COLUMNS, else the terminal's; None for a pipe
    without COLUMNS (lines as long as they are, for grep and files)."""
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return terminal_columns(80) if styled else None


def terminal_columns(fallback: int) -> int:
    """`shutil.get_terminal_size(...).columns`: COLUMNS, else the terminal's, else FALLBACK
    (without importing shutil, which every command would pay for these few lines)."""
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or fallback


def capture(styled: bool) -> tuple[Console, io.StringIO]:
    """A rich console that renders into a string (styled when `styled`), and the string."""
    from rich.console import Console

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=styled, no_color=not styled, highlight=False, soft_wrap=True,
                  markup=False, emoji=False, width=width(styled))
    return con, buf


def write(text: str) -> None:
    """Write a rendered report to stdout; characters it cannot encode are escaped, never a traceback."""
    _write(sys.stdout, text)


def write_err(text: str) -> None:
    """Write rendered text (warnings, a summary line) to stderr."""
    _write(sys.stderr, text)


def _write(stream: Any, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:
        stream.flush()
        encoding = stream.encoding or "utf-8"
        stream.buffer.write(text.encode(encoding, "backslashreplace"))
    stream.flush()


def json_out(obj: Any) -> str:
    """A model object (or plain data) as the indented JSON every `--json` prints."""
    return json_text(to_json(obj), indent=2) + "\n"


def warn(text: str, quiet: bool = False) -> None:
    """One warning line on stderr (not with --quiet)."""
    if not quiet:
        write_err(f"reviewtool: warning: {for_terminal(text)}\n")


class Progress:
    """What a command is doing, on stderr: a status line naming the phase and the step on a
    terminal, one line per step with --verbose elsewhere, nothing with --quiet. Lines meant to
    stay (`say`) are printed above the status line. As a rebase progress callback it names
    the patch being applied (`progress(n, total, outcome)`)."""

    def __init__(self, text: str = "", *, quiet: bool = False, verbose: int = 0) -> None:
        self.text = text
        self.quiet = quiet
        self.verbose = verbose
        self._err: Console | None = None
        self._status: Any = None

    def __enter__(self) -> Progress:
        if self.quiet:
            return self
        from rich.console import Console

        self._err = Console(file=sys.stderr, highlight=False, soft_wrap=True, markup=False, emoji=False)
        if self._err.is_terminal:
            from rich.text import Text

            self._status = self._err.status(Text(for_terminal(self.text or "working...")), spinner="dots")
            self._status.__enter__()
        elif self.verbose and self.text:
            self.say(self.text)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._status is not None:
            self._status.__exit__(exc_type, exc, tb)
            self._status = None

    def phase(self, text: str) -> None:
        """The command moved on to `text` (scanning upstream, applying 3/15, checking...)."""
        self.text = text
        if self._status is not None:
            from rich.text import Text

            self._status.update(Text(for_terminal(text)))
        elif self.verbose and self._err is not None:
            self.say(text)

    def say(self, text: str, style: str = "") -> None:
        """A line that stays on stderr (not with --quiet)."""
        if self._err is None:
            return
        from rich.text import Text

        self._err.print(Text(for_terminal(text), style=style))

    def __call__(self, n: int, total: int, outcome: PatchOutcome | None) -> None:
        if outcome is None:
            self.phase(f"applying {n}/{total}...")
        elif self.verbose and self._status is None:
            self.say(f"  {n}/{total} {outcome.outcome}: {outcome.subject}")
