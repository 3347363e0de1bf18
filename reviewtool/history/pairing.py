"""Patches of two revisions paired as range-diff pairs them: the same patch-id, else the same
subject, else the most similar content (the changed lines of the same files)."""

from __future__ import annotations

import difflib

from reviewtool import diff, rx
from reviewtool.model import Patch
from reviewtool.record import NamedTuple

SIMILAR = 0.5  # content similarity from which two patches with different subjects are one patch
SMALL = 80  # changed lines in both patches up to which they are compared by characters
_PREFIX = rx.compile(r"^\s*(\[[^]]*\]\s*)+")


class Pair(NamedTuple):
    old: Patch | None  # None: new in this revision
    new: Patch | None  # None: dropped
    how: str  # "patch-id", "subject", "content", "" (unpaired)
    verdict: str  # unchanged / changed / new / dropped


def _subject(p: Patch) -> str:
    return " ".join(_PREFIX.sub("", p.subject).lower().split())


def _changed_lines(p: Patch) -> list[str]:
    parsed = diff.parse(p.diff)
    return [f"{f.path}\0{line.kind}{line.text.strip()}"
            for f in parsed.files for h in f.hunks for line in h.lines if line.kind != " "]


def similarity(a: Patch, b: Patch) -> float:
    """How alike two patches' changes are, 0..1 (0 when they share no file or either changes
    nothing readable): by characters for small patches, by lines for large ones."""
    if not set(a.files) & set(b.files):
        return 0.0
    la, lb = _changed_lines(a), _changed_lines(b)
    if not la or not lb:
        return 0.0
    if len(la) + len(lb) <= SMALL:
        return difflib.SequenceMatcher(None, "\n".join(la), "\n".join(lb), autojunk=False).ratio()
    return difflib.SequenceMatcher(None, la, lb, autojunk=False).ratio()


def _same_content(a: Patch, b: Patch) -> bool:
    if a.patch_id and b.patch_id:
        return a.patch_id == b.patch_id
    return _changed_lines(a) == _changed_lines(b)


def pair(old: tuple[Patch, ...], new: tuple[Patch, ...]) -> list[Pair]:
    """Every patch of both revisions once: paired, new or dropped, in the new revision's order
    (dropped ones after)."""
    taken_old: set[int] = set()
    match: dict[int, tuple[Patch, str]] = {}  # new index -> (old patch, how)
    by_id = {p.patch_id: p for p in old if p.patch_id}
    for p in new:
        o = by_id.get(p.patch_id) if p.patch_id else None
        if o is not None and o.index not in taken_old:
            match[p.index] = (o, "patch-id")
            taken_old.add(o.index)
    by_subject: dict[str, Patch] = {}
    for o in old:
        if o.index not in taken_old:
            by_subject.setdefault(_subject(o), o)
    for p in new:
        if p.index in match:
            continue
        o = by_subject.get(_subject(p))
        if o is not None and o.index not in taken_old:
            match[p.index] = (o, "subject")
            taken_old.add(o.index)
    scored = sorted(((similarity(o, p), p.index, o.index, o) for p in new if p.index not in match
                     for o in old if o.index not in taken_old), key=lambda t: (-t[0], t[1], t[2]))
    for score, pi, oi, o in scored:
        if score < SIMILAR:
            break
        if pi in match or oi in taken_old:
            continue
        match[pi] = (o, "content")
        taken_old.add(oi)
    out: list[Pair] = []
    for p in new:
        if p.index in match:
            o, how = match[p.index]
            out.append(Pair(o, p, how, "unchanged" if _same_content(o, p) else "changed"))
        else:
            out.append(Pair(None, p, "", "new"))
    out.extend(Pair(o, None, "", "dropped") for o in old if o.index not in taken_old)
    return out
