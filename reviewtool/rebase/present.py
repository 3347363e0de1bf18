"""Is a patch's change already in a tree, when history cannot tell (a one-commit import, a
shallow clone, a change merged under another subject and then changed since)?

Read from the one diff model, in process, against the target's blobs: a hunk is present
when its post-image (context and added lines) stands in the file as one block, which is
what "the patch reverse-applies" means to `git apply` (which also finds a block at any
offset); a hunk that only removes lines is present when its pre-image block is gone. Apart
from that, the patch's added lines are counted where they stand in the files it touches:
"27 of 33 added lines present" is how a change that was merged and changed since looks.
Lines too common to tell anything (blank, a brace, `return 0;`) are not counted.
"""

from __future__ import annotations

from collections import Counter

from reviewtool.diff import DiffFile, DiffHunk
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.trees import Trees
from reviewtool.record import record

MOSTLY = 0.6  # the share of its lines in place (added present, removed gone) from which a failed
#                patch counts as merged
HALF = 0.5  # ... of which at least this share of its added lines
_COMMON = frozenset({"return 0;", "return ret;", "break;", "continue;", "return;", "else", "} else {",
                     "default:", "return -EINVAL;", "return -ENOMEM;", "#endif", "#else", "*/", "/*"})


@record
class Presence:
    """How much of a patch stands in a tree already."""

    hunks: int
    hunks_present: int  # hunks whose result is in the file as a block (the patch reverse-applies)
    added: int  # added lines that tell something
    added_present: int
    removed: int = 0  # removed lines that tell something
    removed_gone: int = 0

    @property
    def whole(self) -> bool:
        """Every hunk's result is there: the change is in the tree."""
        return self.hunks > 0 and self.hunks_present == self.hunks

    @property
    def mostly(self) -> bool:
        """Most of the added lines are there (merged, and changed since?)."""
        lines = self.added + self.removed
        if self.added and self.added_present < HALF * self.added:
            return False  # lines gone alone are as much a sign of a rewrite as of a merge
        return lines > 0 and self.added_present + self.removed_gone >= MOSTLY * lines

    def describe(self) -> str:
        """'27 of 33 added lines present, 4 of 4 removed lines gone', or that it reverse-applies."""
        if self.whole:
            return "its changes are already in the target (the patch reverse-applies)"
        parts = []
        if self.added:
            parts.append(f"{self.added_present} of {self.added} added lines present")
        if self.removed:
            parts.append(f"{self.removed_gone} of {self.removed} removed lines gone")
        return ", ".join(parts) or f"{self.hunks_present} of {self.hunks} hunks present"


def significant(line: str) -> bool:
    """True for an added line that tells something when found in a file."""
    text = line.strip()
    return len(text) >= 4 and text not in _COMMON and any(c.isalnum() for c in text)


def presence(repo: GitRepo, trees: Trees, tree: str, files: list[DiffFile]) -> Presence:
    """How much of the change FILES describe is in TREE already."""
    hunks = found = added = added_found = removed = gone = 0
    for fd in files:
        if fd.binary or (not fd.hunks and fd.status != "deleted"):
            continue
        if fd.new_path is None:  # a deleted file is present when the file is gone
            gone = trees.lookup(tree, fd.old_path or fd.path) is None
            hunks += 1
            found += gone
            continue
        lines = _lines(repo, trees, tree, fd.new_path)
        where = _positions(lines)
        counts = Counter(ln.strip() for ln in lines)
        have = frozenset(counts)
        for h in fd.hunks:
            hunks += 1
            found += _hunk_present(h, lines, where)
            for ln in h.added():
                if significant(ln.text):
                    added += 1
                    key = ln.text.strip()
                    if counts[key] > 0:
                        counts[key] -= 1
                        added_found += 1
            kept = {ln.text.strip() for ln in h.added()}
            for ln in h.removed():
                if significant(ln.text) and ln.text.strip() not in kept:
                    removed += 1
                    gone += ln.text.strip() not in have
    return Presence(hunks, found, added, added_found, removed, gone)


def fully_present(repo: GitRepo, trees: Trees, tree: str, files: list[DiffFile]) -> bool:
    """`presence(...).whole` with the least work, for every patch before it is applied: it stops
    at the first hunk that is not there, and looks at a hunk's own place before the whole file."""
    hunks = 0
    for fd in files:
        if fd.binary or (not fd.hunks and fd.status != "deleted"):
            continue
        hunks += 1
        if fd.new_path is None:
            if trees.lookup(tree, fd.old_path or fd.path) is not None:
                return False
            continue
        lines = _lines(repo, trees, tree, fd.new_path)
        for h in fd.hunks:
            if not (_at_its_place(h, lines) or _hunk_present(h, lines, None)):
                return False
    return hunks > 0


def _at_its_place(h: DiffHunk, lines: list[str]) -> bool:
    """The hunk's result stands exactly where its header says (the usual case of a merged patch)."""
    if not any(ln.kind == "+" for ln in h.lines):
        return False
    post = [ln.text for ln in h.new_side()]
    at = h.new_start - 1
    return bool(post) and lines[at:at + len(post)] == post


def _hunk_present(h: DiffHunk, lines: list[str], where: dict[str, list[int]] | None) -> bool:
    post = [ln.text for ln in h.new_side()]
    if any(ln.kind == "+" for ln in h.lines):
        return _has_block(post, lines, where)
    pre = h.old_side()
    return bool(pre) and not _has_block(pre, lines, where) and (not post or _has_block(post, lines, where))


def _has_block(block: list[str], lines: list[str], where: dict[str, list[int]] | None) -> bool:
    """BLOCK stands in LINES; `where` indexes the lines by text (None: one scan for the first line)."""
    if not block:
        return True
    n, first = len(block), block[0]
    starts = where.get(first, ()) if where is not None else (i for i, ln in enumerate(lines) if ln == first)
    return any(lines[i:i + n] == block for i in starts)


def _positions(lines: list[str]) -> dict[str, list[int]]:
    where: dict[str, list[int]] = {}
    for i, ln in enumerate(lines):
        where.setdefault(ln, []).append(i)
    return where


def _lines(repo: GitRepo, trees: Trees, tree: str, path: str) -> list[str]:
    entry = trees.lookup(tree, path)
    if entry is None or entry[0] == "160000":
        return []
    got = repo.cat(entry[1])
    if got is None:
        return []
    text = got[2].decode("utf-8", "surrogateescape")
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
