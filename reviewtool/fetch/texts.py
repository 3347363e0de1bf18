"""Texts both readers of a posting build the same way (b4's in thread.py, plain.py without
b4): a patch mail split as git am splits it, its in-body trailers and files, the warning
for the patches not in the thread, and strings made valid Unicode. No b4 here.
"""

from __future__ import annotations

import re
from typing import TypeVar

from reviewtool import rx
from reviewtool.model import Trailer
from reviewtool.record import fields, is_record, replace

_DIFF_START = rx.compile(r"^(diff --git |--- [^\n]*\n\+\+\+ |Index: )", re.M)
_TRAILER = rx.compile(r"^([A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]):\s+(\S.*)$")
_BINARY = rx.compile(r"^GIT binary patch$", re.M)
_META = rx.compile(r"^(base-commit|prerequisite-patch-id|prerequisite-change-id|change-id): ")
T = TypeVar("T")


def split_body(body: str) -> tuple[str, str]:
    """(commit message, diff) of a patch body, as git am splits it."""
    m = _DIFF_START.search(body)
    head = body[: m.start()] if m else body
    diff = body[m.start():] if m else ""
    lines = head.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() == "---":
            lines = lines[:i]
            break
    # The mail signature ("-- \n2.30.2") is not part of the diff.
    sig = diff.rfind("\n-- \n")
    if sig != -1:
        diff = diff[: sig + 1]
    # format-patch puts base-commit/prerequisite-patch-id after the last hunk.
    tail = diff.rstrip("\n").split("\n")
    while tail and (_META.match(tail[-1]) or tail[-1] == ""):  # " " is a blank context line: keep it
        tail.pop()
    diff = "\n".join(tail) + "\n" if tail else ""
    # A git binary patch ends with a blank line that git apply needs ("corrupt binary patch"
    # without it): give it back when the last file of the diff is one.
    if _BINARY.search(diff[diff.rfind("\ndiff --git ") + 1:]):
        diff += "\n"
    return "\n".join(lines).strip() + "\n", diff


def in_body_trailers(message: str, author: str) -> tuple[Trailer, ...]:
    """The trailer block at the end of a commit message."""
    block = message.strip().split("\n\n")[-1].split("\n")
    found = []
    for line in block:
        m = _TRAILER.match(line.strip())
        if m:
            found.append(Trailer(m.group(1), m.group(2).strip(), author, "in-body"))
    return tuple(found) if found and len(found) * 2 >= len(block) else ()


def diff_files(diff: str) -> tuple[str, ...]:
    """The paths a patch touches (new paths; the old one of a deleted file), from the one diff model."""
    from reviewtool.diff import parse

    return tuple(dict.fromkeys(f.path for f in parse(diff).files))


def sha1_hex(data: bytes) -> str:
    """hashlib.sha1(data).hexdigest(), from Python's built-in SHA-1 where there is one:
    hashlib loads OpenSSL first, 2.6 ms of a local check that hashes two short strings."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]
    except ImportError:  # a Python built without it
        from hashlib import sha1
    return str(sha1(data).hexdigest())


def series_id(first_msgid: str, revision: int) -> str:
    """A series' id in the store: its first mail's Message-ID and its revision, hashed."""
    return sha1_hex(f"{valid_text(first_msgid)}\n{revision}".encode())[:12]


def valid_text(value: T) -> T:
    """value with every string in it valid Unicode: bytes no parser could decode, kept as
    surrogate escapes (a raw 8-bit Message-ID, say), are read as UTF-8 with replacement."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # type: ignore[return-value]
            except UnicodeEncodeError:
                return value.encode("utf-8", "replace").decode("utf-8")  # type: ignore[return-value]
        return value
    if isinstance(value, tuple):
        items = tuple(valid_text(v) for v in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value  # type: ignore[return-value]
    if is_record(value) and not isinstance(value, type):
        changed = {f.name: new for f in fields(value)
                   if (new := valid_text(old := getattr(value, f.name))) is not old}
        return replace(value, **changed) if changed else value
    return value


def missing_warning(missing: list[int], expected: int) -> str | None:
    """`thread incomplete: missing 3/6`; for many, the runs: `4998 of 5000 patches not in
    this thread: 2-4999`."""
    if not missing:
        return None
    width = len(str(expected))
    if len(missing) <= 5:
        return "thread incomplete: missing " + ", ".join(f"{i:0{width}d}/{expected}" for i in missing)
    runs: list[list[int]] = []
    for i in missing:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    shown = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs[:6])
    return (f"thread incomplete: {len(missing)} of {expected} patches not in this thread: {shown}"
            + (", ..." if len(runs) > 6 else ""))
