"""Rich consoles: results on stdout, progress and warnings on stderr, plain when not a TTY."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

from reviewtool.model import to_json


def stdout() -> Console:
    con = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con.width = 120  # pipes and CI logs: wide enough for a patch subject on one line
    return con


def stderr(quiet: bool = False) -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True, quiet=quiet)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_json(obj), indent=2, ensure_ascii=False) + "\n")
