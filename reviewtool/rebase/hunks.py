"""Where hunks landed or failed: offsets from `git apply -v`, failed hunks in the target file."""

from __future__ import annotations

import difflib

from reviewtool import rx
from reviewtool.diff import DiffFile as FileDiff
from reviewtool.diff import DiffHunk
from reviewtool.model import Hunk
from reviewtool.record import record

_CHECKING = rx.compile(r"^Checking patch (.+)\.\.\.$")
_SUCCEEDED = rx.compile(r"^Hunk #(\d+) succeeded at (\d+)(?: \(offset (-?\d+) lines?\))?\.$")


@record
class Offset:
    path: str
    hunk: int  # 1-based hunk number within the file
    at: int  # line where it applied
    offset: int  # lines moved (+ later, - earlier)


def parse_offsets(stderr: str) -> list[Offset]:
    """Hunks that `git apply -v` reports as applied away from their stated line."""
    path = ""
    out: list[Offset] = []
    for line in stderr.splitlines():
        if m := _CHECKING.match(line):
            path = m.group(1)
            if " => " in path:  # "Checking patch old => new..."
                path = path.split(" => ")[-1]
        elif (m := _SUCCEEDED.match(line)) and m.group(3) and int(m.group(3)) != 0:
            out.append(Offset(path, int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return out


def describe_offsets(offsets: list[Offset]) -> str:
    """'arch/x.c hunk 2 +5 lines; arch/y.c hunk 1 -2 lines'."""
    parts = []
    for o in offsets:
        parts.append(f"{o.path} hunk {o.hunk} at line {o.at} ({o.offset:+d} line{'s' if abs(o.offset) != 1 else ''})")
    return "; ".join(parts)


def failed_hunks(fd: FileDiff, target: list[str] | None, pre: list[str] | None) -> list[Hunk]:
    """The hunks of FD whose pre-image is not in TARGET, with their line range there.

    TARGET is the file in the tree being applied to (None: absent), PRE the file the
    patch was made against when its blob is known. The range comes from aligning PRE
    with TARGET; without PRE, from the offset of the nearest hunk that was found.
    """
    path = fd.path
    if target is None:
        return [Hunk(path, h.header, 0, 0) for h in fd.hunks]
    mapper = _LineMap(pre, target) if pre is not None else None
    out: list[Hunk] = []
    shift = 0
    for h in fd.hunks:
        found = _find(h, target)
        if found is not None:
            shift = found - h.old_start
            continue
        if mapper is not None:
            start, end = mapper.range(h.old_start, h.old_end)
        else:
            start = h.old_start + shift
            end = start + max(h.old_len, 1) - 1
        start = max(1, min(start, max(len(target), 1)))
        end = max(start, min(end, max(len(target), 1)))
        out.append(Hunk(path, h.header, start, end - start + 1))
    return out


def _find(h: DiffHunk, target: list[str]) -> int | None:
    """1-based line where the hunk's pre-image occurs in TARGET (nearest its own line)."""
    want = h.old_side()
    if not want:
        return h.old_start
    n = len(want)
    best: int | None = None
    for i in range(len(target) - n + 1):
        if target[i] == want[0] and target[i:i + n] == want:
            if best is None or abs(i + 1 - h.old_start) < abs(best - h.old_start):
                best = i + 1
    return best


class _LineMap:
    """Maps 1-based line numbers of one version of a file to another."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
        self.ops = sm.get_opcodes()

    def _map(self, line: int, end: bool) -> int:
        i = line - 1
        for tag, i1, i2, j1, j2 in self.ops:
            if i1 <= i < i2:
                if tag == "equal":
                    return j1 + (i - i1) + 1
                if j2 > j1:  # replaced: the whole replacement
                    return j2 if end else j1 + 1
                return max(j1, 1)  # deleted on the way: the line before
        return self.ops[-1][4] if self.ops else line

    def range(self, start: int, end: int) -> tuple[int, int]:
        return self._map(start, False), self._map(end, True)


def changed_ranges(fd: FileDiff) -> list[tuple[int, int]]:
    """Post-image line ranges a patch wrote in a file (its hunks' new side)."""
    return [(h.new_start, h.new_end) for h in fd.hunks]


def touched_ranges(fd: FileDiff) -> list[tuple[int, int]]:
    """Pre-image line ranges a patch needs in a file (its hunks' old side, context included)."""
    return [(h.old_start, h.old_end) for h in fd.hunks]


def overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first overlapping stretch of two range lists, or None."""
    for s1, e1 in a:
        for s2, e2 in b:
            if s1 <= e2 and s2 <= e1:
                return max(s1, s2), min(e1, e2)
    return None
