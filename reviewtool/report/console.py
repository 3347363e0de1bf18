"""Rich consoles: results on stdout, progress and warnings on stderr, plain when not a TTY.

Neither reads rich markup or emoji codes in what it prints: much of it is mail text, where
`[/]` or `[link=...]` is text (renderers also pass it through `safe.for_terminal`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

from reviewtool.model import to_json
from reviewtool.report.safe import json_text


def stdout() -> Console:
    con = Console(file=sys.stdout, highlight=False, soft_wrap=True, markup=False, emoji=False)
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con.width = 120  # pipes and CI logs: wide enough for a patch subject on one line
    return con


def stderr(quiet: bool = False) -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True, quiet=quiet, markup=False, emoji=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(json_text(to_json(obj), indent=2) + "\n")
