"""Allocation results: is a new allocation checked, its error propagated, its predecessors freed?

Works on the C function around each new allocator call (tree-sitter over the post-image
function, or over the hunk's new side): follows the variable that receives the result to
its first use. A check whose failure branch returns an error gives a `looks-ok` hit with
the reason; a use before any check, a result that is never checked or an ignored error
code gives ALLOC-UNCHECKED; a failure branch that returns 0 or carries on and uses the
result gives ALLOC-ERROR-IGNORED; a new error exit that leaves an earlier allocation of
the same function behind gives ALLOC-LEAK-ON-ERROR. Exempt: `__GFP_NOFAIL`, mempools,
failure branches that panic (boot-time `__init` code), results returned to the caller.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from reviewtool import rx
from reviewtool.check import cparse
from reviewtool.check.analyzers import AnalyzerContext, Hit, c_files, evidence
from reviewtool.check.analyzers import _cflow as F
from reviewtool.check.analyzers import _tables as T
from reviewtool.check.analyzers._cfunc import FuncView, function_views, text
from reviewtool.check.diff import DiffHunk, PatchDiff
from reviewtool.model import Evidence, Status

# unit tests and selftests: an allocation failure there fails the test, which is the point


_TEST_CODE = rx.compile(r"(?:^|/)(?:tools/testing/|samples/)|(?:^|/)(?:test_\w+|\w+_kunit|kunit_\w+|\w+_test)\.c$")


@cache
def _assigned_alloc() -> re.Pattern[str]:
    """`var = allocator(`, compiled when a patch adds a function that may wrap an allocator."""
    return rx.compile(r"\b(\w+)\s*=\s*(?:\([^()]*\)\s*)?(?:" + "|".join(sorted(T.POINTER_ALLOCATORS)) + r")\s*\(")


UNCHECKED = "ALLOC-UNCHECKED"
IGNORED = "ALLOC-ERROR-IGNORED"


LEAK = "ALLOC-LEAK-ON-ERROR"


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """New allocator calls: unchecked results, swallowed errors, and leaks on new error paths."""
    wrappers = ctx.shared(series_wrappers)
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in c_files(pd):
            if _TEST_CODE.search(f.path):
                continue
            removed = {F.norm("\n".join(ln.text for ln in h.removed())) for h in f.hunks}
            image = ctx.image(f.path)
            if image is None:  # the views are the hunks: one that names no allocator has nothing to check
                f = f._replace(hunks=tuple(h for h in f.hunks if _names_allocator(h, wrappers)))
            for view in function_views(f, image):
                hits.extend(_view_hits(pd, view, wrappers, removed))
    return hits


_IDENT = rx.compile(r"[A-Za-z_]\w*")


def _names_allocator(hunk: DiffHunk, wrappers: frozenset[str]) -> bool:
    """True when the hunk's new side has an allocator's name in it (else it has no allocator call)."""
    names = set(_IDENT.findall("\n".join(ln.text for ln in hunk.lines if ln.kind != "-")))
    return any(T.allocator_kind(n, wrappers) for n in names)


def series_wrappers(ctx: AnalyzerContext) -> frozenset[str]:
    """Functions the series adds that hand out an allocator's result, NULL when it fails.

    A wrapper stores an allocator's result in a variable, returns NULL when that variable
    is NULL, and returns something made from it otherwise (like kexec_page_alloc()).
    """
    names: set[str] = set()
    for pd in ctx.kernel_diffs():
        for f in c_files(pd):
            for h in f.hunks:
                added = [ln.text for ln in h.added()]
                if not any(cparse.c_definition_name(t) for t in added):
                    continue
                for fn in cparse.functions("\n".join(added)):
                    body = "\n".join(added[fn.start - 1:fn.end])
                    head = body.split(fn.name, 1)[0]
                    if "*" not in head:
                        continue
                    for var in _assigned_alloc().findall(body):
                        v = re.escape(var)
                        if re.search(rf"if\s*\(\s*!\s*{v}\s*\)\s*return\s+NULL\s*;", body) and \
                                re.search(rf"return\s+[^;]*\b{v}\b[^;]*;", body):
                            names.add(fn.name)
    return frozenset(names)


def _view_hits(pd: PatchDiff, view: FuncView, wrappers: frozenset[str], removed: set[str]) -> list[Hit]:
    hits: list[Hit] = []
    body = view.body
    if body is None:
        return hits
    allocations: list[tuple[list[str], Any, Any, str]] = []  # (variables, call, statement, callee)
    for name, call in view.calls:
        kind = T.allocator_kind(name, wrappers)
        if kind is None or name in T.NEVER_FAIL:
            continue
        args = call.child_by_field_name("arguments")
        if args is not None and "__GFP_NOFAIL" in text(args):
            continue
        targets, stmt = F.result_targets(call)
        if targets and kind == "pointer" and stmt is not None and name not in T.OWNED_ALLOCATORS:
            allocations.append((targets, call, stmt, name))
        if not view.added(call.start_point[0]) or name == view.name:
            continue
        if view.rows[call.start_point[0]].lstrip().startswith(("*", "/*", "//")):
            continue  # a call named in a comment the grammar could not see as one
        if any(F.norm(text(call)) in r for r in removed):
            continue  # the same call was there before: rewritten, not new
        hit = _call_hit(pd, view, call, name, kind)
        if hit is not None:
            hits.append(hit)
    hits.extend(_leaks(pd, view, allocations))
    return hits


# --- one allocation --------------------------------------------------------------------


def _call_hit(pd: PatchDiff, view: FuncView, call: Any, name: str, kind: str) -> Hit | None:
    hit = _call_hit_any(pd, view, call, name, kind)
    if hit is not None and hit.rule == UNCHECKED and hit.status == "needs-review" and view.is_init:
        return None  # boot-time code: a failed allocation there panics by design
    return hit


def _call_hit_any(pd: PatchDiff, view: FuncView, call: Any, name: str, kind: str) -> Hit | None:
    targets, stmt = F.result_targets(call)
    target = targets[0] if targets else None
    wrapped = F.skip_wrappers(call)
    parent = wrapped.parent
    fn = f"{name}()"
    where = f" in {view.name}()" if view.name != "__hunk" else ""
    if target is None:
        if parent is not None and parent.type == "return_statement":
            return None  # the caller gets the result and checks it
        cond = F.condition_of(call)
        if cond is not None:
            return _checked(pd, view, call, cond, text(call), kind, fn, where)
        if parent is not None and parent.type == "expression_statement":
            what = "its error code is ignored" if kind == "error" else "its result is thrown away"
            return _hit(pd, view, UNCHECKED, call, call, f"{fn}{where}: {what}.")
        user = F.statement(call)
        return _hit(pd, view, UNCHECKED, call, call,
                    f"{fn}{where}: its result is used directly, with no check for failure"
                    + (" (NULL)" if kind == "pointer" else "") + f": `{_first_line(user)}`.")
    cond = F.condition_of(call)
    if cond is not None:  # if (!(p = kmalloc(...)))
        return _checked(pd, view, call, cond, target, kind, fn, where)
    if stmt is None:
        return None
    handed_on = False  # stored or copied somewhere before any check
    for occ in F.occurrences(view, targets, stmt.end_byte):
        if F.other_branch(stmt, occ):
            continue  # another case of the switch, or the else of the if
        what, node = F.classify(occ)
        if what == "neutral" and F.skip_wrappers(occ).parent is not None \
                and F.skip_wrappers(occ).parent.type in ("assignment_expression", "init_declarator"):
            handed_on = True
        if what == "check":
            if node.type == "call_expression":  # WARN_ON(!p) / BUG_ON(!p) as a statement
                return None
            return _checked(pd, view, call, node, F.norm(text(occ)), kind, fn, where)
        if what == "returned":
            return None
        if what == "use":
            return _hit(pd, view, UNCHECKED, call, node,
                        f"{fn}{where}: `{target}` is used (line {_line_no(view, node)}) before it is checked "
                        f"for failure: `{_first_line(node)}`.")
        if what == "reassigned":
            if handed_on:
                return None
            return _hit(pd, view, UNCHECKED, call, node,
                        f"{fn}{where}: `{target}` is overwritten before the result is checked.")
    if not view.complete and _near_end(view, stmt):
        return None  # the check may be just past what the hunk shows
    if not set(targets) & F.local_names(view) or handed_on:
        return None  # a field or global: whoever reads it may accept NULL
    what = "error code" if kind == "error" else "result"
    return _hit(pd, view, UNCHECKED, call, call, f"{fn}{where}: its {what} in `{target}` is never checked.")


def _checked(pd: PatchDiff, view: FuncView, call: Any, cond_stmt: Any, target: str, kind: str,
             fn: str, where: str) -> Hit | None:
    cond = cond_stmt.child_by_field_name("condition")
    cond_text = text(cond) if cond is not None else ""
    if cond_stmt.type != "if_statement":
        return None  # a loop or ?: test: handled in place
    side = F.failure_in_then(cond_text, F.norm(target), kind)
    if side is None:
        return None
    if side:
        branch = cond_stmt.child_by_field_name("consequence")
    else:
        alt = cond_stmt.child_by_field_name("alternative")
        if alt is None:
            return None  # `if (p) { use p }`: skipped on failure
        branch = alt
    ex = F.exit_of(branch, view)
    end = ex.node if ex.node is not None else cond_stmt
    if ex.kind == "returns":
        when = " at load time" if view.name in T.LOAD_TIME else ""
        value = ex.value if ex.value.startswith("via") else f"returns {ex.value}"
        reason = f"checked; {value}{when}"
        return _hit(pd, view, UNCHECKED, call, end, f"{fn}{where} is checked and its failure is returned.",
                    status="looks-ok", reason=reason)
    if ex.kind == "swallows":
        return _hit(pd, view, IGNORED, call, end,
                    f"{fn}{where}: the failure is detected but the function returns 0 (success).")
    if ex.kind == "continues" and side and _used_after(view, cond_stmt, target):
        return _hit(pd, view, IGNORED, call, end,
                    f"{fn}{where}: the failure is detected but execution carries on and uses `{target}`.")
    return None


def _used_after(view: FuncView, stmt: Any, target: str) -> bool:
    """True when the statements right after `stmt`, in its own block, use the target unconditionally."""
    for occ in F.occurrences(view, target, stmt.end_byte):
        what, _ = F.classify(occ)
        if what in ("reassigned", "check"):
            return False
        if what != "use":
            continue
        node = occ
        while node.parent is not None and node.parent != stmt.parent:
            if node.parent.type in ("if_statement", "conditional_expression", "switch_statement",
                                    "while_statement", "for_statement"):
                return False
            node = node.parent
        return node.parent is not None
    return False


def _near_end(view: FuncView, stmt: Any) -> bool:
    last = max(view.origin) if view.origin else 0
    return bool(stmt.end_point[0] >= last - 1)


def _first_line(node: Any) -> str:
    return text(node).split("\n", 1)[0].strip() if node is not None else ""


def _line_no(view: FuncView, node: Any) -> str:
    ln = view.line(node.start_point[0])
    if ln is not None and ln.new_no is not None:
        return str(ln.new_no)
    return str(node.start_point[0] + 1) if view.complete else "?"


def _hit(pd: PatchDiff, view: FuncView, rule: str, start: Any, end: Any, message: str,
         status: Status = "needs-review", reason: str = "") -> Hit | None:
    last = end.end_point[0] if end is not None else start.end_point[0]
    first_ref, last_ref = view.hunk_ref(start.start_point[0]), view.hunk_ref(last)
    if last_ref is None or first_ref is None or last_ref[0] is not first_ref[0]:
        last = F.statement(start).end_point[0] if F.statement(start) is not None else start.end_point[0]
    ev = _span(pd, view, start.start_point[0], last)
    if not ev:
        return None
    return Hit(rule, ev, message, status, reason)


def _span(pd: PatchDiff, view: FuncView, first_row: int, last_row: int) -> tuple[Evidence, ...]:
    """Evidence for rows first..last of the view: the hunk lines they came from."""
    a = view.hunk_ref(first_row)
    if a is None:
        return ()
    hunk, i = a
    j = i
    for row in range(first_row, last_row + 1):
        ref = view.hunk_ref(row)
        if ref is not None and ref[0] is hunk and ref[1] >= j:
            j = ref[1]
    # take in removed lines between (evidence must be consecutive diff lines)
    return (evidence(pd.index, view.path, hunk, i, j),)


# --- earlier allocations left behind by a new error exit -------------------------------


def _leaks(pd: PatchDiff, view: FuncView, allocations: list[tuple[list[str], Any, Any, str]]) -> list[Hit]:
    if not allocations or rx.fullmatch(r"[A-Z0-9_]+", view.name):
        return []  # none, or a "function" the grammar made of macro calls: too unsure
    local = F.local_names(view)
    hits: list[Hit] = []
    reported: set[tuple[str, int]] = set()
    for ret in view.of_type("return_statement", "goto_statement"):
        guard = F.guarding_if(ret)
        if guard is None:
            continue
        ex = F.return_exit(ret, view) if ret.type == "return_statement" else F.Exit("returns", "goto")
        if ex.kind != "returns":
            continue
        exit_new = view.added(ret.start_point[0])
        cond = guard.child_by_field_name("condition")
        cond_text = F.norm(text(cond)) if cond is not None else ""
        branch_text = text(guard.child_by_field_name("consequence") or guard)
        value = ex.value
        if ret.type == "goto_statement":
            label = ret.child_by_field_name("label")
            name = text(label) if label is not None else ""
            if not F.top_level_label(view, name):
                continue  # a jump within a loop (retry, skip): not an exit
            branch_text += "\n" + F.label_text(view, name)
            target = F.label_return(view, name)
            value = F.return_exit(target, view).value if target is not None else ""
        if not _error_exit(cond_text, branch_text, value, view):
            continue
        for names, call, stmt, callee in allocations:
            var = next((n for n in names if n in local), None)
            if var is None or stmt.end_byte > guard.start_byte:
                continue
            if not (exit_new or view.added(call.start_point[0])):
                continue
            if any(re.search(rf"(?<![\w>.]){re.escape(n)}(?!\w)", cond_text) for n in names):
                continue  # this is the allocation's own check (or a combined one)
            if not F.encloses(stmt.parent, guard) or _released(view, var, stmt.end_byte, guard.start_byte):
                continue
            if re.search(rf"\b{re.escape(var)}\b", value) or re.search(
                    rf"\b\w*(?:free|put|release|destroy|unref|drop)\w*\s*\([^;]*\b{re.escape(var)}\b", branch_text):
                continue  # kfree(), vfree(), put_page() ... or the function's own free helper
            if (var, ret.start_byte) in reported:
                continue
            reported.add((var, ret.start_byte))
            line = _line_no(view, call)
            hit = _hit(pd, view, LEAK, guard, ret,
                       f"{view.name}(): this error exit does not free `{var}`, allocated by {callee}() "
                       f"at line {line}.")
            if hit is not None:
                hits.append(hit)
    return hits


def _error_exit(cond: str, branch: str, value: str, view: FuncView) -> bool:
    """True when an exit visibly reports an error (not a success path that jumps to the end)."""
    if rx.match(r"^\(?-\s*E[A-Z0-9]+|^ERR_PTR\(|^PTR_ERR\(", value) or rx.search(r"=\s*-\s*E[A-Z0-9]+\s*;", branch):
        return True
    if value == "NULL" and not view.returns_void:
        return True
    return bool(rx.fullmatch(r"[A-Za-z_]\w*", value)) and re.search(rf"\b{re.escape(value)}\b", cond) is not None


def _released(view: FuncView, var: str, start: int, end: int) -> bool:
    """True when `var` is freed, returned or handed to an owner between two points."""
    for occ in F.occurrences(view, var, start):
        if occ.start_byte >= end:
            break
        what, node = F.classify(occ)
        if what in ("freed", "returned", "reassigned"):
            return True
        if what == "use" and node is not None and node.type == "call_expression":
            fn = text(node.child_by_field_name("function") or node)
            if fn not in T.NON_OWNING:
                return True
        p = F.skip_wrappers(occ).parent
        if p is not None and p.type in ("assignment_expression", "init_declarator", "initializer_list",
                                        "initializer_pair", "pointer_expression"):
            return True  # stored somewhere else, or its address is handed out
    return False
