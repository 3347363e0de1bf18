"""Matching helpers for rule packs: regexes compiled once, regex lists joined into one, globs.

A rule's regexes are compiled on first use only, so a run pays for the rules it uses, and
a list of regexes is joined into one alternation wherever any match will do (one search
per line instead of one per regex).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from reviewtool import rx


def lazy(source: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A module-level regex that only some runs need: `lazy(r"...")()` compiles it on first use."""

    @cache
    def get() -> re.Pattern[str]:
        return rx.compile(source, flags)

    return get


@cache
def compiled(sources: tuple[str, ...], flags: int) -> tuple[re.Pattern[str], ...]:
    """The regexes compiled with `flags`, in order (each list once per process)."""
    return tuple(rx.compile(p, flags) for p in sources)


@cache
def alternation(sources: tuple[str, ...]) -> re.Pattern[str] | None:
    """One multi-line-mode regex matching where any of `sources` matches; None if unsafe to join.

    Named groups become plain groups (two regexes may both name `match`); a leading
    `(?i)`-style flag group is scoped to its own regex. Regexes with back-references or
    conditional groups (whose group numbers would shift) or other global flags are not joined.
    """
    parts = []
    for source in sources:
        part = _joinable(source)
        if part is None:
            return None
        parts.append(f"(?:{part})")
    if not parts:
        return None
    try:
        return rx.compile("|".join(parts), re.MULTILINE)
    except re.error:
        return None


_LEADING_FLAGS = rx.compile(r"\(\?([imsx]+)\)")


def _joinable(source: str) -> str | None:
    """The regex rewritten to be one branch of an alternation, or None."""
    flags = _LEADING_FLAGS.match(source)
    if flags is not None:
        inner = _joinable(source[flags.end():])
        return None if inner is None else f"(?{flags.group(1)}:{inner})"
    out: list[str] = []
    i, n = 0, len(source)
    in_class = False
    while i < n:
        c = source[i]
        if c == "\\":
            nxt = source[i + 1:i + 2]
            if not in_class and nxt in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
                return None  # a back-reference by number
            out.append(source[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
            i += 1
            continue
        if c == "[":
            # `]` right after `[` or `[^` is a literal member of the class
            j = i + 1 + (source[i + 1:i + 2] == "^")
            j += source[j:j + 1] == "]"
            out.append(source[i:j])
            in_class = True
            i = j
            continue
        if source.startswith("(?", i):
            rest = source[i + 2:i + 3]
            if source.startswith("(?P<", i):
                end = source.find(">", i)
                if end < 0:
                    return None
                out.append("(?:")
                i = end + 1
                continue
            if source.startswith("(?P=", i) or rest == "(" or (rest.isalpha() and _global_flag(source, i)):
                return None
        out.append(c)
        i += 1
    return "".join(out)


def _global_flag(source: str, i: int) -> bool:
    """True when the `(?` at i opens a global flag group like `(?i)` (not `(?i:...)`)."""
    j = i + 2
    while j < len(source) and source[j].isalpha():
        j += 1
    return source[j:j + 1] == ")"


@cache
def _glob_parts(pattern: str) -> tuple[str, ...] | None:
    """The literal pieces between the `*`s of a glob, or None when it has `?` or `[`."""
    if "?" in pattern or "[" in pattern:
        return None
    return tuple(pattern.split("*"))


def glob_match(path: str, pattern: str) -> bool:
    """`fnmatch.fnmatchcase(path, pattern)`, without a regex for globs of literals and `*`.

    `*` matches any characters, `/` included, as in fnmatch.
    """
    parts = _glob_parts(pattern)
    if parts is None:
        import fnmatch

        return fnmatch.fnmatchcase(path, pattern)
    if len(parts) == 1:
        return path == pattern
    first, last = parts[0], parts[-1]
    if len(path) < len(first) + len(last) or not path.startswith(first) or not path.endswith(last):
        return False
    pos, end = len(first), len(path) - len(last)
    for part in parts[1:-1]:
        pos = path.find(part, pos, end)
        if pos < 0:
            return False
        pos += len(part)
    return True
