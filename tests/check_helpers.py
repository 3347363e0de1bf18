"""Helpers for the check tests: read `git format-patch` files into a Series without b4.

The rule cases (rules/cases/<ID>/*.patch) are many small files; reading them through the
fetch layer would cost b4's start-up for each. This reader understands exactly what
docs/rules.md promises for a case file: optional headers, a blank line, the message, a
`---` line and the diff; several patches separated by mbox `From <hash> <date>` lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from reviewtool.model import Cover, Patch, Series, Trailer

_MBOX_SEP = re.compile(r"^From [0-9a-f]{7,40} .*$", re.M)
_SUBJECT_TAG = re.compile(r"^\s*\[([^\]]*)\]\s*")
_TRAILER = re.compile(r"^([A-Z][A-Za-z-]+-by|Fixes|Link|Cc|Reported-by|Suggested-by): (.+)$")
_DIFF_PATH = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)


def split_patches(text: str) -> list[str]:
    """The mails of a case file (one, or several separated by mbox From lines)."""
    parts = [p for p in _MBOX_SEP.split(text.replace("\r\n", "\n")) if p.strip()]
    return parts or [text]


def parse_patch(text: str, index: int = 1, expected: int = 1) -> Patch:
    """One `git format-patch` mail as a Patch (subject tag stripped, in-body trailers read)."""
    headers: dict[str, str] = {}
    lines = _MBOX_SEP.sub("", text, count=1).lstrip("\n").split("\n")
    i = 0
    if lines and re.match(r"^[A-Za-z-]+: ", lines[0]):
        while i < len(lines) and lines[i].strip():
            key, _, value = lines[i].partition(": ")
            headers[key.lower()] = value
            i += 1
        i += 1
    rest = lines[i:]
    cut = next((n for n, ln in enumerate(rest) if ln.rstrip() == "---" or ln.startswith("diff --git ")),
               len(rest))
    message = "\n".join(rest[:cut]).strip("\n") + "\n"
    tail = "\n".join(rest[cut:])
    start = tail.find("diff --git ")
    diff = tail[start:] if start >= 0 else tail.split("\n", 1)[-1]
    full = headers.get("subject", f"[PATCH] case patch {index}")
    subject = _SUBJECT_TAG.sub("", full, count=1)
    author = headers.get("from", "Case Author <case.author@example.org>")
    trailers = tuple(Trailer(m.group(1), m.group(2), author, "in-body")
                     for ln in message.split("\n") if (m := _TRAILER.match(ln)))
    files = tuple(dict.fromkeys(m.group(2) for m in _DIFF_PATH.finditer(diff)))
    return Patch(index=index, expected=expected, subject=subject, full_subject=full,
                 msgid=f"case-{index}@example.org", author=author, date="2021-08-02T21:54:08+00:00",
                 message=message, diff=diff, files=files, in_body_trailers=trailers)


def series_from_text(text: str, series_id: str = "case", cover_body: str | None = None,
                     cover_trailers: tuple[Trailer, ...] = ()) -> Series:
    """A Series made of the patches in a case file (or any format-patch text)."""
    mails = split_patches(text)
    patches = tuple(parse_patch(m, i, len(mails)) for i, m in enumerate(mails, 1))
    cover = None
    if cover_body is not None:
        cover = Cover("case-0@example.org", "case series", patches[0].author, patches[0].date,
                      cover_body, cover_trailers)
    return Series(id=series_id, revision=1, expected=len(patches), subject=patches[0].subject,
                  author=patches[0].author, date=patches[0].date, msgid=patches[0].msgid, cover=cover,
                  patches=patches)


def series_from_file(path: Path, series_id: str = "case") -> Series:
    """A Series from a case file."""
    return series_from_text(path.read_text(encoding="utf-8"), series_id)


def dir_reader(root: Path) -> Callable[[str], str | None] | None:
    """A post_image/base_image reader over a directory of files (None when it does not exist)."""
    if not root.is_dir():
        return None

    def read(path: str) -> str | None:
        p = root / path
        return p.read_text(encoding="utf-8") if p.is_file() else None

    return read
