"""What a patch rewrites in place: questions that come from comparing its removed and added lines.

- ALLOC-GFP-CHANGED: an allocation keeps its place but its GFP flags change.
- TEST-PTE-BITS: a protection or a pte helper of the page-table headers stops using an entry bit.
- DOCS-MOVED-CALL-UNCOMMENTED: a call moves from one function to another with no comment
  at its new place saying why it has to run there.
- DESIGN-ASM-TO-C: a patch replaces assembly with C.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, code, evidence, is_comment_or_blank, norm_line
from reviewtool.check.analyzers._cfunc import line_functions
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff

GFP = "ALLOC-GFP-CHANGED"
PTE_BITS = "TEST-PTE-BITS"
MOVED_CALL = "DOCS-MOVED-CALL-UNCOMMENTED"
ASM_TO_C = "DESIGN-ASM-TO-C"

_GFP_FLAG = rx.compile(r"\b(?:__)?GFP_\w+")
_PTE_BIT = rx.compile(r"\b(?:PTE|PMD|PUD|_PAGE|PAGE|PROT)_[A-Z0-9_]+\b")
# sizes, shifts and masks of the layout: not entry bits
_GEOMETRY = rx.compile(r"_(?:SIZE|SHIFT|MASK|OFFSET|END|START|BITS|NR|ORDER|ALIGN|LEVELS|TYPE)$|^PAGE_(?:OFFSET|END)$")
_PTE_PATHS = ("arch/*/include/asm/pgtable*.h", "arch/*/include/asm/*pte*.h", "include/linux/pgtable.h",
              "include/asm-generic/pgtable*.h")
# a statement that is one call: `foo(...);`, `x = foo(...);`, `ret = foo(...);`
_CALL_STMT = rx.compile(r"^(?:[\w.>\-\[\]*]+\s*=\s*)?(?P<name>[A-Za-z_]\w*)\s*\(.*\)\s*;$")
_NOT_CALL = frozenset({"if", "while", "for", "switch", "return", "sizeof", "WARN_ON", "BUG_ON", "pr_debug",
                       "pr_info", "pr_warn", "pr_err", "pr_notice", "printk"})
_COMMENT_REACH = 4  # lines above the moved call in which a new comment counts as explaining it
_ASM_MIN_REMOVED = 8
_C_MIN_ADDED = 8


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Rewrites: GFP flags, page-table entry bits, calls moved between functions, assembly turned into C."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind not in ("c", "header"):
                continue
            for h in f.hunks:
                hits.extend(_gfp_changed(pd.index, f, h))
            if any(fnmatchcase(f.path, p) for p in _PTE_PATHS):
                hits.extend(_pte_bits(pd.index, f))
        hits.extend(_moved_calls(ctx, pd))
        hits.extend(_asm_to_c(pd))
    return hits


# --- GFP flags -------------------------------------------------------------------------------

def _gfp_changed(index: int, f: DiffFile, h: DiffHunk) -> list[Hit]:
    removed = [(i, frozenset(_GFP_FLAG.findall(code(ln.text)))) for i, ln in enumerate(h.lines) if ln.kind == "-"]
    added = [(i, frozenset(_GFP_FLAG.findall(code(ln.text)))) for i, ln in enumerate(h.lines) if ln.kind == "+"]
    old = frozenset().union(*(s for _, s in removed)) if removed else frozenset()
    new = frozenset().union(*(s for _, s in added)) if added else frozenset()
    if not old or not new or old == new:
        return _gfp_argument_changed(index, f, h)
    i = next(i for i, s in removed if s)
    j = next(j for j, s in added if s)
    gone, came = ", ".join(sorted(old - new)) or "none", ", ".join(sorted(new - old)) or "none"
    return [Hit(GFP, (evidence(index, f.path, h, min(i, j), max(i, j)),),
                f"The allocation's GFP flags change ({gone} out, {came} in).")]


_ALLOC_CALL = rx.compile(r"\b(?P<fn>k[mzc]alloc\w*|kvm?[mz]alloc\w*|kmem_cache_z?alloc\w*|__get_free_pages?|"
                         r"get_zeroed_page|alloc_pages?\w*|vz?malloc\w*|devm_k[mz]alloc\w*)\s*\((?P<args>.*)\)")


def _gfp_argument_changed(index: int, f: DiffFile, h: DiffHunk) -> list[Hit]:
    """The same allocator called with another last (GFP) argument: `gfp` becoming `GFP_PGTABLE_KERNEL`."""
    calls: dict[str, dict[str, tuple[str, int]]] = {"-": {}, "+": {}}
    for i, ln in enumerate(h.lines):
        text = code(ln.text)
        m = _ALLOC_CALL.search(text) if ln.kind in "+-" and _whole_statement(text) else None
        if m:
            calls[ln.kind][m.group("fn")] = (_last_argument(m.group("args")), i)
    for fn, (new_arg, j) in calls["+"].items():
        if fn in calls["-"]:
            old_arg, i = calls["-"][fn]
            if old_arg != new_arg and ("GFP_" in old_arg or "GFP_" in new_arg):
                return [Hit(GFP, (evidence(index, f.path, h, min(i, j), max(i, j)),),
                            f"{fn}() is now called with `{new_arg}` instead of `{old_arg}`.")]
    return []


def _whole_statement(text: str) -> bool:
    """A statement on one line (a call continued on the next line has no last argument to compare)."""
    return text.endswith(";") and text.count("(") == text.count(")")


def _last_argument(args: str) -> str:
    depth, start = 0, 0
    for k, c in enumerate(args):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            start = k + 1
    return args[start:].strip()


# --- page-table entry bits ---------------------------------------------------------------------

def _pte_bits(index: int, f: DiffFile) -> list[Hit]:
    for h in f.hunks:
        old: set[str] = set()
        new: set[str] = set()
        picked: list[int] = []
        for i, ln in enumerate(h.lines):
            if ln.kind == " " or is_comment_or_blank(ln.text):
                continue
            bits = set(_PTE_BIT.findall(code(ln.text)))
            if bits:
                (old if ln.kind == "-" else new).update(bits)
                picked.append(i)
        dropped = {b for b in old - new if not _GEOMETRY.search(b)}
        if picked and dropped:
            what = ", ".join(sorted(dropped)[:4])
            return [Hit(PTE_BITS, (evidence(index, f.path, h, picked[0], picked[-1]),),
                        f"Page-table entry bits are no longer used here ({what}).")]
    return []


# --- calls moved between functions --------------------------------------------------------------

def _moved_calls(ctx: AnalyzerContext, pd: PatchDiff) -> list[Hit]:
    removed: dict[str, str | None] = {}
    added: list[tuple[str, DiffFile, DiffHunk, int, str | None]] = []
    for f in pd.files:
        if f.kind != "c":
            continue
        image = ctx.image(f.path)
        for h in f.hunks:
            funcs = line_functions(f, h, image)
            for i, ln in enumerate(h.lines):
                m = _CALL_STMT.match(code(ln.text)) if ln.kind in "+-" else None
                if m is None or m.group("name") in _NOT_CALL:
                    continue
                if ln.kind == "-":
                    removed[norm_line(ln.text)] = funcs[i]
                else:
                    added.append((norm_line(ln.text), f, h, i, funcs[i]))
    for key, f, h, i, func in added:
        if key not in removed or func is None or removed[key] is None or removed[key] == func:
            continue
        if _commented_above(h, i) or _whole_function_moved(pd, removed[key]) or _defined_here(pd, func):
            continue  # explained, code moved as a whole, or code taken out into a new helper
        return [Hit(MOVED_CALL, (evidence(pd.index, f.path, h, _block_start(h, i), i),),
                    f"A call moves from {removed[key]}() to {func}(), with no comment at its new place.",
                    function=func)]
    return []


def _commented_above(h: DiffHunk, i: int) -> bool:
    """A comment added within a few lines above (or on) the moved call."""
    lo = max(0, i - _COMMENT_REACH - 3)
    return any(ln.kind == "+" and ("/*" in ln.text or "//" in ln.text or ln.text.lstrip().startswith("*"))
               for ln in h.lines[lo:i + 1])


def _block_start(h: DiffHunk, i: int) -> int:
    """The first line of the run of added lines that holds line `i`."""
    while i > 0 and h.lines[i - 1].kind == "+" and i > 0:
        i -= 1
    return i


def _whole_function_moved(pd: PatchDiff, name: str | None) -> bool:
    """True when the function the call left is itself removed (code moved, not a call reordered)."""
    if name is None:
        return False
    head = re.compile(rf"^[\w\s*]*\b{re.escape(name)}\s*\(")
    removed = any(ln.kind == "-" and head.match(ln.text) for f in pd.files for h in f.hunks for ln in h.lines)
    kept = any(ln.kind != "-" and head.match(ln.text) for f in pd.files for h in f.hunks for ln in h.lines)
    return removed and not kept


def _defined_here(pd: PatchDiff, name: str) -> bool:
    """True when the patch adds the definition of function `name` (a new helper the code went into)."""
    head = re.compile(rf"^(?:[A-Za-z_][\w\s*]*[\s*])?{re.escape(name)}\s*\([^;]*$")
    return any(ln.kind == "+" and head.match(ln.text) for f in pd.files for h in f.hunks for ln in h.lines)


# --- assembly turned into C -----------------------------------------------------------------------

def _asm_to_c(pd: PatchDiff) -> list[Hit]:
    asm_removed: list[tuple[DiffFile, DiffHunk, int]] = []
    c_added = 0
    for f in pd.files:
        for h in f.hunks:
            for i, ln in enumerate(h.lines):
                if is_comment_or_blank(ln.text) or ln.text.strip() in ("{", "}", "};"):
                    continue
                if ln.kind == "-" and f.kind == "asm" and not ln.text.lstrip().startswith(("#include", ".")):
                    asm_removed.append((f, h, i))
                elif ln.kind == "+" and f.kind in ("c", "header") and not ln.text.lstrip().startswith("#"):
                    c_added += 1
    if len(asm_removed) < _ASM_MIN_REMOVED or c_added < _C_MIN_ADDED:
        return []
    f, h, i = asm_removed[0]
    last = max(j for g, hh, j in asm_removed if hh is h)
    return [Hit(ASM_TO_C, (evidence(pd.index, f.path, h, i, last),),
                f"{len(asm_removed)} lines of assembly are removed and {c_added} lines of C added.")]
