"""Rich consoles: results on stdout, progress and warnings on stderr, plain when not a TTY."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from reviewtool.model import to_json


def stdout() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def stderr(quiet: bool = False) -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True, quiet=quiet)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_json(obj), indent=2, ensure_ascii=False) + "\n")
