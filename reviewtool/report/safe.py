"""Mail text made safe to show: no control characters, no unbounded lines, numbers as ranges.

Everything a Series carries (subjects, names, addresses, message-ids, commit messages,
diffs, the fetch warnings) comes from mail anyone can send. Escape sequences in it could
recolour or retitle a terminal, hide text or forge output; a line break in a subject
could forge a line of output or a mail header; a subject of 50,000 characters would be a
50,000-character line. Every renderer passes mail text through `clean` (or `for_terminal`,
the one helper for what reaches a terminal) before it lands in its output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reviewtool import rx

LINE_LIMIT = 1000  # characters of mail text on one line of output

# C0 controls but tab and newline, DEL, C1 controls: ESC, CSI (U+009B), BEL, NUL, ...
_CONTROL = rx.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Line breaks, as str.splitlines() knows them: in a single line each becomes a space.
_BREAK = rx.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_UNSAFE_LINE = rx.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_UNSAFE_TEXT = rx.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# JSON escapes C0 controls itself; DEL and C1 it leaves raw (with ensure_ascii=False).
_JSON_RAW_CONTROL = rx.compile("[\x7f-\x9f]")


def clean(text: str, *, multiline: bool = False) -> str:
    """`text` without control characters (tab kept); line breaks become spaces unless `multiline`.

    In `multiline` text only "\\n" separates lines ("\\r\\n" becomes "\\n", a lone "\\r" goes).
    """
    if multiline:
        if _UNSAFE_TEXT.search(text) is None:
            return text
        return _CONTROL.sub("", text.replace("\r\n", "\n"))
    if _UNSAFE_LINE.search(text) is None:
        return text
    return _CONTROL.sub("", _BREAK.sub(" ", text))


def bounded(text: str, limit: int = LINE_LIMIT) -> str:
    """`text`, or its first `limit` characters, an ellipsis and how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def for_terminal(text: str, *, multiline: bool = False, limit: int = LINE_LIMIT) -> str:
    """Mail text to print on a terminal: no control characters, no line over `limit` characters.

    Without `multiline` the result is one line. Markup (rich's `[bold]`, `[link=...]`) is
    not this function's business: terminal renderers print it as `rich.text.Text`, never
    as markup.
    """
    text = clean(text, multiline=multiline)
    if not multiline:
        return bounded(text, limit)
    if len(text) <= limit:
        return text
    return "\n".join(bounded(line, limit) for line in text.split("\n"))


def spans(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive numbers, sorted: [1, 2, 3, 5] -> [(1, 3), (5, 5)]."""
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def ranges(numbers: Iterable[int], most: int = 20) -> str:
    """`1-432, 434`: the numbers as ranges; past `most` ranges, how many numbers are left out."""
    runs = spans(numbers)
    shown = [str(a) if a == b else f"{a}-{b}" for a, b in runs[:most]]
    if len(runs) > most:
        shown.append(f"… and {sum(b - a + 1 for a, b in runs[most:])} more")
    return ", ".join(shown)


def json_text(data: Any, *, indent: int | None = None) -> str:
    """JSON text with non-ASCII kept readable but DEL and C1 controls escaped as \\u00XX.

    The data is unchanged for a JSON reader; a terminal shown the text sees no raw
    control character (json escapes C0 controls, ESC included, by itself).
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    if _JSON_RAW_CONTROL.search(text) is None:
        return text
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
