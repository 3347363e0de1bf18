"""The common case without a git process: every hunk matches exactly where it says.

When each hunk's pre-image is found at exactly the line its header names, `git apply`
would apply it there too, with the same result (it looks at the stated line first), and
report the patch clean. Then the new contents are made here; anything else (an offset,
a mismatch, a rename, a mode change, a binary or "no newline at end of file" patch) is
left to `git apply`, which decides and words it.
"""

from __future__ import annotations

from reviewtool.diff import DiffFile as FileDiff
from reviewtool.diff import DiffHunk

Missing = object()


def apply_exact(fd: FileDiff, old: bytes | None) -> bytes | None | object:
    """The post-image of FD applied to OLD (None: the file is absent).

    Returns the new bytes, None when the patch deletes the file, or `Missing` when the
    hunks do not all match exactly (or the change is of a kind left to git).
    """
    renamed = fd.old_path != fd.new_path and fd.old_path is not None and fd.new_path is not None
    if fd.binary or not fd.hunks or renamed or fd.mode_change:
        return Missing
    if any(h.no_newline_old or h.no_newline_new or h.truncated for h in fd.hunks):
        return Missing
    if any(not _counts_ok(h) for h in fd.hunks):
        return Missing
    if fd.old_path is None:  # a new file
        if old is not None or len(fd.hunks) != 1 or fd.hunks[0].old_len != 0:
            return Missing
        return _join([_b(ln.text) for ln in fd.hunks[0].lines])
    if old is None:
        return Missing
    if not old.endswith(b"\n") and old:
        return Missing
    lines = old.split(b"\n")[:-1] if old else []
    out: list[bytes] = []
    pos = 0  # 0-based index of the next old line to copy
    for h in fd.hunks:
        if h.old_len == 0:
            return Missing
        start = h.old_start - 1
        if start < pos:
            return Missing
        want = [_b(ln.text) for ln in h.lines if ln.kind != "+"]
        if lines[start:start + h.old_len] != want:
            return Missing
        out.extend(lines[pos:start])
        out.extend(_b(ln.text) for ln in h.lines if ln.kind != "-")
        pos = start + h.old_len
    out.extend(lines[pos:])
    if fd.new_path is None:  # a deletion: the hunks must have removed everything
        return None if not out else Missing
    return _join(out)


def _counts_ok(h: DiffHunk) -> bool:
    old = sum(1 for ln in h.lines if ln.kind != "+")
    new = sum(1 for ln in h.lines if ln.kind != "-")
    return old == h.old_len and new == h.new_len


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)
