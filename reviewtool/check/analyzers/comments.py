"""Comments and documentation the code change may leave behind.

- DOCS-COMMENT-UNCHANGED: code changed right below a comment block of two lines or more
  that the patch leaves as it was, where the comment names something the removed code
  used, or names the code around it and not the new identifiers the change brings in.
- DOCS-INTERFACE-UNDOCUMENTED: a new sysfs or debugfs file in a series that changes
  nothing under Documentation/.
- DOCS-NEW-FILE-UNCOMMENTED: a new C file of several functions, none of them with a
  comment above it, and no comment saying what the file is for.
"""

from __future__ import annotations

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, evidence
from reviewtool.check.diff import DiffFile, DiffHunk

STALE = "DOCS-COMMENT-UNCHANGED"
INTERFACE = "DOCS-INTERFACE-UNDOCUMENTED"
UNCOMMENTED = "DOCS-NEW-FILE-UNCOMMENTED"

_MAX_CODE_BETWEEN = 2
_WORD = rx.compile(r"[A-Za-z_]\w{3,}")
_INTERFACE = rx.compile(r"\b(?:debugfs_create_\w+|sysfs_create_\w+|(?:DEVICE|DRIVER|CLASS|BUS|KOBJ)_ATTR\w*|"
                        r"__ATTR\w*|kobject_create_and_add|proc_create\w*)\s*\(")
_COMMON = frozenset({"this", "that", "with", "from", "have", "when", "then", "there", "which", "will", "must",
                     "should", "only", "also", "into", "unsigned", "long", "return", "static", "const", "void",
                     "struct", "else", "sizeof", "NULL", "true", "false", "here", "need", "page", "pages"})


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Comments left above changed code, and new interface files without documentation."""
    documented = any(f.path.startswith("Documentation/") for pd in ctx.diffs for f in pd.files)
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind not in ("c", "header", "asm"):
                continue
            stale = next((hit for h in f.hunks if (hit := _stale_comment(pd.index, f, h)) is not None), None)
            if stale is not None:
                hits.append(stale)
            if not documented:
                hits.extend(_interface(pd.index, f))
            if f.kind == "c" and f.status == "added":
                hits.extend(_uncommented_file(pd.index, f))
    return hits


def _comment_block(lines: list[str]) -> list[str] | None:
    """The comment block that ends the given context lines, at most two code lines above their end.

    A block cut off by the start of the hunk (its first lines are ` * ...`) counts.
    """
    k = len(lines) - 1
    code_between = 0
    while k >= 0:
        t = lines[k].strip()
        if t.endswith("*/") or t.startswith("//"):
            break
        if t:
            code_between += 1
            if code_between > _MAX_CODE_BETWEEN:
                return None
        k -= 1
    if k < 0:
        return None
    if lines[k].strip().startswith("//"):
        start = k
        while start > 0 and lines[start - 1].strip().startswith("//"):
            start -= 1
        return lines[start:k + 1]
    start = k
    while start > 0 and "/*" not in lines[start] and lines[start - 1].strip().startswith(("*", "/*")):
        start -= 1
    return lines[start:k + 1]


def _stale_comment(index: int, f: DiffFile, h: DiffHunk) -> Hit | None:
    ls = h.lines
    for i, ln in enumerate(ls):
        if ln.kind == " " or (i > 0 and ls[i - 1].kind != " "):
            continue  # only the first line of each run of changes
        before = []
        j = i - 1
        while j >= 0 and ls[j].kind == " ":
            before.append(ls[j].text)
            j -= 1
        before.reverse()
        block = _comment_block(before)
        if block is None or len(block) < 2:
            continue
        run_end = i
        while run_end + 1 < len(ls) and ls[run_end + 1].kind != " ":
            run_end += 1
        removed = {w for x in ls[i:run_end + 1] if x.kind == "-" for w in _WORD.findall(x.text)} - _COMMON
        added = {w for x in ls[i:run_end + 1] if x.kind == "+" for w in _WORD.findall(x.text)} - _COMMON
        said = {w.lower() for x in block for w in _WORD.findall(x)}
        gone = sorted(w for w in removed - added if w.lower() in said)
        new = sorted(w for w in added - removed if w.lower() not in said and "_" in w)
        if not gone and not (new and _names_code(said, before)):
            continue
        first = i - len(before) + next(k for k, t in enumerate(before) if t in block)
        return Hit(STALE, (evidence(index, f.path, h, first, min(run_end, first + 11)),),
                   f"The comment above the change mentions `{gone[0]}`, which the changed code no longer uses."
                   if gone else f"The changed code uses `{new[0]}`, which the comment above it does not mention.")
    return None


def _names_code(said: set[str], context: list[str]) -> bool:
    """True when the comment names identifiers of the code around it (it describes that code)."""
    around = {w.lower() for x in context if not x.strip().startswith(("*", "/*", "//")) for w in _WORD.findall(x)
              if "_" in w}
    return bool(around & said)


def _interface(index: int, f: DiffFile) -> list[Hit]:
    for h in f.hunks:
        for i, ln in enumerate(h.lines):
            if ln.kind == "+" and _INTERFACE.search(ln.text) and not ln.text.lstrip().startswith(("*", "/*", "//")):
                return [Hit(INTERFACE, (evidence(index, f.path, h, i),),
                            "A new sysfs, debugfs or procfs file is created, and nothing under Documentation/ changes.")]
    return []


_FUNC_START = rx.compile(r"^(?:[A-Za-z_][\w\s*]*?[\s*])?(?P<name>[A-Za-z_]\w*)\s*\([^;]*$")
_MIN_FUNCS = 3
_MIN_CODE = 40


def _uncommented_file(index: int, f: DiffFile) -> list[Hit]:
    """A new C file with three or more functions and no comment above any function or the file."""
    lines = [ln.text for h in f.hunks for ln in h.lines if ln.kind == "+"]
    code_lines = sum(1 for t in lines if t.strip() and not t.strip().startswith(("/*", "*", "//", "#")))
    if code_lines < _MIN_CODE or not f.hunks:
        return []
    starts = [i for i, t in enumerate(lines[:-1]) if t[:1].isalpha() and _FUNC_START.match(t)
              and lines[i + 1].startswith("{")]
    if len(starts) < _MIN_FUNCS:
        return []
    for i in starts:
        above = lines[i - 1].strip() if i > 0 else ""
        if above.endswith("*/") or above.startswith("//"):
            return []
    if any(t.strip().startswith(("/*", "*")) and not t.strip().startswith("/* SPDX") and j < starts[0]
           for j, t in enumerate(lines)):
        return []  # a comment on the file (what it is for) before its first function
    h = f.hunks[0]
    first = next((k for k, ln in enumerate(h.lines) if ln.kind == "+" and ln.text == lines[starts[0]]), 0)
    return [Hit(UNCOMMENTED, (evidence(index, f.path, h, first, first + 1),),
                f"A new file of {len(starts)} functions and {code_lines} lines of code has no comment "
                "on any function, nor on what the file is for.")]
