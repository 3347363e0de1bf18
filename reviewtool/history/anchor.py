"""Where quoted lines sit in a patch: file, function, hunk and line numbers, through the one
diff model (reviewtool.diff)."""

from __future__ import annotations

from reviewtool import diff, rx
from reviewtool.model import Evidence, Patch
from reviewtool.record import NamedTuple

_DEFINITION = rx.compile(r"^[A-Za-z_][\w \t*]*\b\w+\s*\(")
MIN_LINE = 4  # quoted lines shorter than this (a lone brace) anchor nothing on their own


class Anchor(NamedTuple):
    file: str
    function: str | None
    hunk: int  # the hunk's number in the file
    first: int  # index of the first matched line in the hunk
    last: int  # index of the last matched line in the hunk
    line: int | None  # new-side number of the first matched line (old side for a removed line)


def diff_lines(quote: tuple[str, ...]) -> list[tuple[str, str]]:
    """The quoted lines that are added or removed lines: (kind, text without its prefix, stripped)."""
    return [(q[0], q[1:].strip()) for q in quote
            if q[:1] in ("+", "-") and not q.startswith(("+++ ", "--- ")) and len(q[1:].strip()) >= MIN_LINE]


def function_at(h: diff.DiffHunk, at: int) -> str | None:
    """The function line at or above line `at` of the hunk (a definition: a name and `(`, no
    `;`), else git's function context."""
    for ln in reversed(h.lines[: at + 1]):
        if ln.kind != "-" and ln.text.startswith("}"):
            return None  # the end of the function before: the line is outside any
        if ln.kind != "-" and _DEFINITION.match(ln.text) and not ln.text.rstrip().endswith(";"):
            return ln.text.strip()
    return h.function or h.section or None


def locate(patch: Patch, quote: tuple[str, ...]) -> Anchor | None:
    """The stretch of one hunk of patch that the quoted +/- lines come from (the hunk matching
    most of them), or None when no quoted line is a line of the patch."""
    wanted = diff_lines(quote)
    if not wanted:
        return None
    keys = set(wanted)
    best: Anchor | None = None
    best_hits = 0
    for f in diff.parse(patch.diff).files:
        for h in f.hunks:
            idx = [i for i, ln in enumerate(h.lines) if (ln.kind, ln.text.strip()) in keys]
            if len(idx) > best_hits:
                first = h.lines[idx[0]]
                best_hits = len(idx)
                best = Anchor(f.path, function_at(h, idx[0]), h.number, idx[0], idx[-1],
                              first.new_no if first.new_no is not None else first.old_no)
    return best


def runs(quote: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    """The quoted diff lines in runs of consecutive lines (a snip, `[...]`, or words between
    them start a new run), each line (kind, text stripped); runs with no line of MIN_LINE
    characters are left out."""
    out: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []
    for q in quote:
        if q[:1] in ("+", "-", " ") and not q.startswith(("+++ ", "--- ")):
            if q[1:].strip():
                cur.append((q[0], q[1:].strip()))
            continue
        if q.strip():
            out.append(cur)
            cur = []
    out.append(cur)
    return [r for r in out if any(len(t) >= MIN_LINE for _k, t in r)]


def _find_run(hunk: diff.DiffHunk, run: list[tuple[str, str]]) -> int | None:
    keys = [(ln.kind, ln.text.strip()) for ln in hunk.lines if ln.text.strip()]
    n = len(run)
    for i in range(len(keys) - n + 1):
        if keys[i:i + n] == run:
            return i
    return None


def still_there(patch: Patch, quote: tuple[str, ...]) -> tuple[bool, Evidence | None]:
    """Whether every run of quoted diff lines is still in patch, line after line with the same
    signs (an insertion among them is a change), and the evidence (the first run's lines in
    patch) when they are."""
    wanted = runs(quote)
    if not wanted:
        return False, None
    evidence: Evidence | None = None
    files = diff.parse(patch.diff).files
    for k, run in enumerate(wanted):
        hit = None
        for f in files:
            for h in f.hunks:
                at = _find_run(h, run)
                if at is not None:
                    hit = (f, h, at)
                    break
            if hit:
                break
        if hit is None:
            return False, None
        if k == 0:
            f, h, at = hit
            lines = [ln for ln in h.lines if ln.text.strip()]
            first, last = lines[at], lines[at + len(run) - 1]
            i0, i1 = h.lines.index(first), h.lines.index(last)
            evidence = Evidence(patch.index, f.path, first.new_no if first.new_no is not None else first.old_no,
                                tuple(ln.prefixed for ln in h.lines[i0:i1 + 1]), h.number, i0)
    return True, evidence


def text_lines(quote: tuple[str, ...]) -> list[str]:
    """The quoted lines that are prose (a commit message, a cover letter), stripped."""
    return [q.strip() for q in quote if q.strip() and q[:1] not in ("+", "-", "@") and len(q.strip()) >= MIN_LINE
            and not q.startswith(("diff --git", "index ", "On ")) and not q.rstrip().endswith("wrote:")]
