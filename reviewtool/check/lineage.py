"""Series awareness: follow a finding's lines through the later patches of the series.

- A finding whose added lines a later patch removes (or whose file it deletes) is dropped;
  so is a pattern finding when a later patch adds, in the same function, a line matching
  the rule's `unless` exemption (the later patch fixed it).
- A finding whose added lines were already there is marked pre-existing: on the base of a
  rebase result (same file, same function), or moved/re-indented within the same patch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reviewtool.check.diff import DiffFile, PatchDiff
from reviewtool.check.patterns import lazy
from reviewtool.check.rules import Rule
from reviewtool.model import Evidence, Finding
from reviewtool.record import NamedTuple, replace

FileText = Callable[[str], str | None]
Index = dict[str, set[str | None]]  # stripped line -> functions it appears in

_C_FUNC = lazy(r"^[A-Za-z_][^;{}=]*?\b([A-Za-z_]\w*)\s*\(")
_ASM_SYM = lazy(r"^\s*SYM_[A-Z_]*START[A-Z_]*\(\s*([A-Za-z_.$][\w.$]*)")
_ASM_LABEL = lazy(r"^([A-Za-z_][\w.$]*):")
_NOT_FUNCS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "defined"})


class Raw(NamedTuple):
    """A finding with what series awareness needs to know about where it came from."""

    rule: Rule
    finding: Finding
    path: str | None
    function: str | None


def added_lines(ev: Evidence) -> list[tuple[int, str]]:
    """(new line number, text) of each added line of a piece of evidence.

    Evidence lines are consecutive diff lines starting at `ev.line` on the new side.
    """
    if ev.line is None or ev.file is None:
        return []
    out, n = [], ev.line
    for text in ev.lines:
        kind = text[:1]
        if kind == "+":
            out.append((n, text[1:]))
            n += 1
        elif kind == " ":
            n += 1
    return out


def apply(raw: Iterable[Raw], diffs: tuple[PatchDiff, ...], base_image: FileText | None,
          total: int) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Split findings into kept (some marked pre-existing) and dropped (with the reason)."""
    kept: list[Finding] = []
    dropped: list[tuple[Finding, str]] = []
    later = {pd.index: pd for pd in diffs}
    base_cache: dict[str, Index | None] = {}
    moved_cache: dict[tuple[int, str, str], Index] = {}
    series_sides: dict[tuple[str, int], Index] = {}
    for r in raw:
        f = r.finding
        survivors: list[Evidence] = []
        why = ""
        for ev in f.evidence:
            gone = _removed_later(ev, diffs, total)
            if gone is None:
                survivors.append(ev)
            else:
                why = why or gone
        if not survivors:
            dropped.append((f, why))
            continue
        if len(survivors) < len(f.evidence):
            f = replace(f, evidence=tuple(survivors))
        fixed = _fixed_later(r, f, diffs, total)
        if fixed:
            dropped.append((f, fixed))
            continue
        reason = _pre_existing(r, f, later, base_image, base_cache, moved_cache,
                               lambda kind, patch: _series_side(diffs, kind, patch, series_sides))
        if reason:
            f = replace(f, pre_existing=True, reason=f.reason or reason)
        kept.append(f)
    return kept, dropped


def map_line(file: DiffFile, line: int) -> int | None:
    """Where old line `line` is after this file's hunks; None when a hunk removes it.

    A line the hunk only re-indents (removed, and added back with the same text but for
    white space) is still there, at its new place.
    """
    delta = 0
    for h in file.hunks:
        end = h.old_start + h.old_len - 1 if h.old_len else h.old_start
        if h.old_len and h.old_start <= line <= end:
            for ln in h.lines:
                if ln.old_no == line:
                    return _readded(h.lines, ln.text) if ln.kind == "-" else ln.new_no
            return line + delta  # a truncated hunk: keep the line
        if line > end:
            delta += h.new_len - h.old_len
        else:
            break
    return line + delta


def _readded(lines: Iterable[Any], text: str) -> int | None:
    """The new line number of an added line equal to `text` but for white space, if any."""
    want = " ".join(text.split())
    if not want:
        return None
    for ln in lines:
        if ln.kind == "+" and " ".join(ln.text.split()) == want:
            return int(ln.new_no)
    return None


def _touching(pd: PatchDiff, path: str) -> DiffFile | None:
    for f in pd.files:
        if (f.old_path or f.path) == path:
            return f
    return None


def _removed_later(ev: Evidence, diffs: tuple[PatchDiff, ...], total: int) -> str | None:
    lines = added_lines(ev)
    if not lines or ev.file is None:
        return None
    reasons = []
    for n, _ in lines:
        path, cur = ev.file, n
        reason = None
        for pd in diffs:
            if pd.index <= ev.patch:
                continue
            f = _touching(pd, path)
            if f is None:
                continue
            if f.status == "deleted":
                reason = f"patch {pd.index}/{total} deletes {path}"
                break
            if f.status == "binary":
                break
            mapped = map_line(f, cur)
            if mapped is None:
                reason = f"patch {pd.index}/{total} removes or rewrites {path}:{n}"
                break
            path, cur = f.path, mapped
        if reason is None:
            return None
        reasons.append(reason)
    return reasons[0]


def _fixed_later(r: Raw, f: Finding, diffs: tuple[PatchDiff, ...], total: int) -> str | None:
    if not r.rule.unless or r.path is None or r.function is None or not f.evidence:
        return None
    path = r.path
    start = f.evidence[0].patch
    for pd in diffs:
        if pd.index <= start:
            continue
        file = _touching(pd, path)
        if file is None:
            continue
        for h in file.hunks:
            if h.function != r.function:
                continue
            for ln in h.added():
                if r.rule.search_any("unless", ln.prefixed):
                    return f"patch {pd.index}/{total} adds '{ln.text.strip()}' in {r.function}()"
        path = file.path
    return None


def _pre_existing(r: Raw, f: Finding, later: dict[int, PatchDiff], base_image: FileText | None,
                  base_cache: dict[str, Index | None], moved_cache: dict[tuple[int, str, str], Index],
                  series_side: Callable[[str, int], Index]) -> str:
    """Why the finding's lines were already there (moved code, or on the base), or ""."""
    plus = [(ev, text.strip()) for ev in f.evidence for _, text in added_lines(ev) if text.strip()]
    minus = [(ev, t[1:].strip()) for ev in f.evidence if ev.file
             for t in ev.lines if t[:1] == "-" and t[1:].strip()]
    if not plus and not minus:
        return ""

    def within(index: Index | None, texts: list[str]) -> bool:
        if index is None:
            return False
        for text in texts:
            funcs = index.get(text)
            if not funcs:
                return False
            if r.function is not None and r.function not in funcs and None not in funcs:
                return False
        return True

    def moved(lines: list[tuple[Evidence, str]], other_side: str) -> bool:
        by_place: dict[tuple[int, str], list[str]] = {}
        for ev, text in lines:
            if ev.file is None:
                return False
            by_place.setdefault((ev.patch, ev.file), []).append(text)
        for (patch, path), texts in by_place.items():
            pd = later.get(patch)
            if pd is None:
                return False
            key = (patch, path, other_side)
            if key not in moved_cache:
                moved_cache[key] = _side_index(pd, path, other_side)
            if not within(moved_cache[key], texts) and \
                    not within(series_side(other_side, patch), [norm(t) for t in texts]):
                return False  # neither in this file nor anywhere else in the series (another file)
        return True

    # Moved code: every added line is removed elsewhere, every removed line added back.
    if moved(plus, "-") and moved(minus, "+"):
        return ("the same lines are removed elsewhere in the patch (moved or re-indented code)" if plus
                else "the same lines are added back in the same function (moved code)")
    if plus and base_image is not None and r.path is not None:
        if r.path not in base_cache:
            base_cache[r.path] = _base_index(base_image, r.path)
        if within(base_cache[r.path], [text for _, text in plus]):
            return "already on the base"
    return ""


def norm(text: str) -> str:
    """A line with its white space collapsed: moved code matches modulo indentation and wrapping blanks."""
    return " ".join(text.split())


def moved_out(text: str, patch: int, diffs: tuple[PatchDiff, ...], cache: dict[tuple[str, int], Index]) -> bool:
    """True when a line added by patch `patch` is removed by it or an earlier patch (moved code)."""
    key = norm(text)
    return bool(key) and key in _series_side(diffs, "-", patch, cache)


def _series_side(diffs: tuple[PatchDiff, ...], kind: str, patch: int, cache: dict[tuple[str, int], Index]) -> Index:
    """Lines removed ('-') by this patch or an earlier one, or added ('+') by this patch or a later
    one, in any file, white space collapsed: the other half of a move across files or patches.

    (A line one patch adds and a later one removes is a later rewrite, not a move.)
    """
    if (kind, patch) not in cache:
        index: Index = {}
        for pd in diffs:
            if (pd.index > patch) if kind == "-" else (pd.index < patch):
                continue
            for f in pd.files:
                for h in f.hunks:
                    for ln in h.lines:
                        if ln.kind == kind:
                            index.setdefault(norm(ln.text), set()).add(h.function)
        cache[(kind, patch)] = index
    return cache[(kind, patch)]


def _side_index(pd: PatchDiff, path: str, kind: str) -> Index:
    """The removed (kind '-') or added ('+') lines of one file of a patch, with their functions."""
    index: Index = {}
    for f in pd.files:
        if f.path != path and f.old_path != path:
            continue
        for h in f.hunks:
            for ln in h.lines:
                if ln.kind == kind:
                    index.setdefault(ln.text.strip(), set()).add(h.function)
    return index


def _base_index(base_image: FileText, path: str) -> Index | None:
    try:
        text = base_image(path)
    except Exception:  # noqa: BLE001 - an unreadable base only loses the pre-existing mark
        return None
    if text is None:
        return None
    asm = path.endswith((".S", ".s"))
    index: Index = {}
    current: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        current = _function_start(line, asm) or current
        index.setdefault(line.strip(), set()).add(current)
    return index


def _function_start(line: str, asm: bool) -> str | None:
    if asm:
        m = _ASM_SYM().match(line) or _ASM_LABEL().match(line)
        return m.group(1) if m else None
    if line.rstrip().endswith(";"):
        return None
    m = _C_FUNC().match(line)
    if m and m.group(1) not in _NOT_FUNCS:
        return m.group(1)
    return None

