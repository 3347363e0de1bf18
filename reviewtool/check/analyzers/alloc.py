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
from dataclasses import dataclass
from typing import Any

from reviewtool.check import cparse
from reviewtool.check.analyzers import AnalyzerContext, Hit, c_files, evidence
from reviewtool.check.analyzers import _tables as T
from reviewtool.check.analyzers._cfunc import FuncView, calls, function_views, text
from reviewtool.check.diff import PatchDiff
from reviewtool.model import Evidence

# unit tests and selftests: an allocation failure there fails the test, which is the point
_TEST_CODE = re.compile(r"(?:^|/)(?:tools/testing/|samples/)|(?:^|/)(?:test_\w+|\w+_kunit|kunit_\w+|\w+_test)\.c$")

_ASSIGNED_ALLOC = re.compile(r"\b(\w+)\s*=\s*(?:\([^()]*\)\s*)?(?:" + "|".join(sorted(T.POINTER_ALLOCATORS))
                             + r")\s*\(")

UNCHECKED = "ALLOC-UNCHECKED"
IGNORED = "ALLOC-ERROR-IGNORED"
LEAK = "ALLOC-LEAK-ON-ERROR"

_STATEMENTS = frozenset({"expression_statement", "declaration", "return_statement", "if_statement",
                         "while_statement", "for_statement", "do_statement", "switch_statement",
                         "goto_statement", "labeled_statement", "compound_statement"})
_CONDITION_PARENTS = frozenset({"if_statement", "while_statement", "for_statement", "do_statement",
                                "conditional_expression"})


@dataclass(frozen=True)
class Exit:
    """How a failure branch leaves: kind is returns | swallows | void | panics | loops | continues."""

    kind: str
    value: str = ""
    node: Any = None


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """New allocator calls: unchecked results, swallowed errors, and leaks on new error paths."""
    wrappers = series_wrappers(ctx)
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in c_files(pd):
            if _TEST_CODE.search(f.path):
                continue
            removed = {_norm("\n".join(ln.text for ln in h.removed())) for h in f.hunks}
            for view in function_views(f, ctx.image(f.path)):
                hits.extend(_view_hits(pd, view, wrappers, removed))
    return hits


def series_wrappers(ctx: AnalyzerContext) -> frozenset[str]:
    """Functions the series adds that hand out an allocator's result, NULL when it fails.

    A wrapper stores an allocator's result in a variable, returns NULL when that variable
    is NULL, and returns something made from it otherwise (like kexec_page_alloc()).
    """
    alloc = _ASSIGNED_ALLOC
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
                    for var in alloc.findall(body):
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
    for name, call in calls(body):
        kind = T.allocator_kind(name, wrappers)
        if kind is None or name in T.NEVER_FAIL:
            continue
        args = call.child_by_field_name("arguments")
        if args is not None and "__GFP_NOFAIL" in text(args):
            continue
        targets, stmt = _result_targets(call)
        if targets and kind == "pointer" and stmt is not None and name not in T.OWNED_ALLOCATORS:
            allocations.append((targets, call, stmt, name))
        if not view.added(call.start_point[0]) or name == view.name:
            continue
        if view.rows[call.start_point[0]].lstrip().startswith(("*", "/*", "//")):
            continue  # a call named in a comment the grammar could not see as one
        if any(_norm(text(call)) in r for r in removed):
            continue  # the same call was there before: rewritten, not new
        hit = _call_hit(pd, view, call, name, kind)
        if hit is not None:
            hits.append(hit)
    hits.extend(_leaks(pd, view, allocations))
    return hits


# --- one allocation --------------------------------------------------------------------

def _skip_wrappers(node: Any) -> Any:
    """Climb out of parentheses, casts and the arms of `c ? a : b` around an expression."""
    while node.parent is not None:
        p = node.parent
        if p.type in ("parenthesized_expression", "cast_expression"):
            node = p
        elif p.type == "conditional_expression" and p.child_by_field_name("condition") != node:
            node = p
        else:
            break
    return node


def _statement(node: Any) -> Any:
    while node is not None and node.type not in _STATEMENTS:
        node = node.parent
    return node


def _result_target(call: Any) -> tuple[str | None, Any]:
    """The variable (or lvalue text) the call's result is stored in, and the statement."""
    names, stmt = _result_targets(call)
    return (names[0] if names else None), stmt


def _result_targets(call: Any) -> tuple[list[str], Any]:
    """Every variable the result is stored in (`a = s->a = kmalloc()`: both), innermost first."""
    node = _skip_wrappers(call)
    parent = node.parent
    if parent is None:
        return [], None
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        names = [_norm(text(parent.child_by_field_name("left")))]
        while parent.parent is not None and parent.parent.type == "assignment_expression" \
                and parent.parent.child_by_field_name("right") == parent:
            parent = parent.parent
            names.append(_norm(text(parent.child_by_field_name("left"))))
        return names, _statement(parent)
    if parent.type == "init_declarator":
        name = cparse.declarator_name(parent.child_by_field_name("declarator"))
        return ([name] if name else []), _statement(parent)
    return [], _statement(parent)


def _norm(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def _condition_of(node: Any) -> Any:
    """The if/while/?: statement whose condition holds `node`, through !, ==, &&, wrappers."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in _CONDITION_PARENTS:
            cond = parent.child_by_field_name("condition")
            return parent if cond is not None and cond.start_byte <= child.start_byte < cond.end_byte else None
        if parent.type in ("parenthesized_expression", "unary_expression", "binary_expression",
                           "assignment_expression", "cast_expression"):
            child, parent = parent, parent.parent
            continue
        if parent.type == "argument_list" and parent.parent is not None:
            fn = parent.parent.child_by_field_name("function")
            if fn is not None and text(fn) in T.CHECK_WRAPPERS:
                child, parent = parent.parent, parent.parent.parent
                continue
        return None
    return None


def _occurrences(root: Any, target: str | list[str], after: int) -> list[Any]:
    """Nodes under root, starting at or after byte `after`, whose text is (one of) the target lvalues."""
    names = [target] if isinstance(target, str) else target
    simple = {t for t in names if re.fullmatch(r"[A-Za-z_]\w*", t)}
    lvalues = set(names) - simple
    out = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.end_byte <= after:
            continue  # the whole subtree is before the point of interest
        stack.extend(n.children)
        if n.start_byte < after:
            continue
        if n.type == "identifier" and text(n) in simple:
            out.append(n)
        elif lvalues and n.type in ("field_expression", "pointer_expression", "subscript_expression") \
                and _norm(text(n)) in lvalues:
            out.append(n)
    out.sort(key=lambda n: n.start_byte)
    # a field_expression also contains its identifiers: keep outermost matches only
    kept: list[Any] = []
    for n in out:
        if kept and n.start_byte < kept[-1].end_byte:
            continue
        kept.append(n)
    return kept


def _classify(occ: Any) -> tuple[str, Any]:
    """check | use | reassigned | returned | freed | neutral, and the deciding node."""
    parent = occ.parent
    if parent is None:
        return "neutral", None
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == occ:
        return "reassigned", parent
    cond = _condition_of(occ)
    if cond is not None:
        return "check", cond
    asserted = _asserted_by(occ)
    if asserted is not None:
        return "check", asserted
    wrapped = _skip_wrappers(occ)
    p = wrapped.parent
    if p is not None and p.type == "return_statement":
        return "returned", p
    if p is not None and p.type == "argument_list" and p.parent is not None:
        fn = text(p.parent.child_by_field_name("function") or p.parent)
        if fn in T.FREE_FUNCTIONS:
            return "freed", p.parent
        if fn in T.CHECK_WRAPPERS:
            return "check", p.parent
        if T.PRINT_RE.match(fn) or fn in T.STORES or fn.startswith("kmemleak_") or fn == "sizeof":
            return "neutral", None
        if T.RELEASE_RE.match(fn):
            return "freed", p.parent
        return "use", p.parent
    if p is not None and p.type == "field_expression" and p.child_by_field_name("argument") == wrapped:
        return "use", p
    if p is not None and p.type == "subscript_expression" and p.child_by_field_name("argument") == wrapped:
        return "use", p
    if p is not None and p.type == "pointer_expression" and text(p).lstrip().startswith("*"):
        return "use", p
    return "neutral", None


def _other_branch(a: Any, b: Any) -> bool:
    """True when `b` is in another branch (switch case, if/else arm) than `a`: never after it."""
    ancestors = []
    n = b
    while n is not None:
        ancestors.append(n)
        n = n.parent
    child, node = a, a.parent
    while node is not None:
        if node in ancestors:
            other = ancestors[ancestors.index(node) - 1] if ancestors.index(node) > 0 else None
            if other is None:
                return False
            if node.type == "if_statement":
                fields = (node.field_name_for_child(_index(node, child)), node.field_name_for_child(_index(node, other)))
                return bool(child != other and "condition" not in fields)
            if node.type == "compound_statement" and node.parent is not None \
                    and node.parent.type == "switch_statement":
                return bool(child.type == "case_statement" and child != other)  # other: a case, or #ifdef'd cases
            return False
        child, node = node, node.parent
    return False


def _index(parent: Any, child: Any) -> int:
    for i, c in enumerate(parent.children):
        if c == child:
            return i
    return -1


def _asserted_by(occ: Any) -> Any:
    """The WARN_ON/BUG_ON/KUNIT_ASSERT call that tests `occ` (through !, ==, parentheses)."""
    node = occ
    while node.parent is not None and node.parent.type in ("parenthesized_expression", "unary_expression",
                                                            "binary_expression"):
        node = node.parent
    p = node.parent
    if p is not None and p.type == "argument_list" and p.parent is not None:
        fn = p.parent.child_by_field_name("function")
        if fn is not None and text(fn) in T.CHECK_WRAPPERS:
            return p.parent
    return None


def _failure_in_then(cond_text: str, target: str, kind: str) -> bool | None:
    """True: the `then` branch runs on failure; False: on success; None: cannot tell."""
    t = re.escape(target) if re.fullmatch(r"[A-Za-z_]\w*", target) else re.escape(target).replace(r"\-\>", r"\s*->\s*")
    c = _norm(cond_text)
    t = _norm(t)
    if re.search(rf"!\(*{t}(?![\w>.\[])", c) or re.search(rf"{t}==(?:NULL|0)\b|\b(?:NULL|0)=={t}", c):
        return kind == "pointer" or None
    if re.search(rf"IS_ERR(?:_OR_NULL)?\({t}\)", c):
        return True
    if kind == "error":
        if re.search(rf"{t}(?:<0|!=0)", c) or re.fullmatch(rf"\(*(?:unlikely\(|WARN_ON(?:_ONCE)?\()?{t}\)*", c):
            return True
        if re.search(rf"!{t}\b|{t}==0", c):
            return False
        return None
    if re.fullmatch(rf"\(*(?:likely\()?{t}\)*", c) or re.search(rf"{t}!=NULL", c):
        return False
    return None


def _exit_of(branch: Any, view: FuncView) -> Exit:
    """How a failure branch ends: the first return, goto, panic or loop exit in it."""
    if branch is None:
        return Exit("continues")
    for n in cparse.walk(branch):
        if n.type == "return_statement":
            return _return_exit(n, view)
        if n.type == "goto_statement":
            label = n.child_by_field_name("label")
            if label is not None and not _top_level_label(view, text(label)):
                return Exit("loops", "", n)
            ret = _label_return(view, text(label)) if label is not None else None
            if ret is not None:
                got = _return_exit(ret, view)
                return Exit(got.kind, got.value or "", n)
            return Exit("returns", f"via goto {text(label) if label is not None else '?'}", n)
        if n.type in ("break_statement", "continue_statement"):
            return Exit("loops", "", n)
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and text(fn) in ("panic", "BUG", "BUG_ON", "do_exit", "machine_restart"):
                return Exit("panics", text(fn), n)
    return Exit("continues")


def _return_exit(ret: Any, view: FuncView) -> Exit:
    value = ret.named_children[0] if ret.named_children else None
    if value is None:
        return Exit("void", "", ret)
    v = _norm(text(value))
    if v in ("0", "(0)") and not view.returns_void and _uses_errno(view):
        return Exit("swallows", "0", ret)
    return Exit("returns", v, ret)


def _uses_errno(view: FuncView) -> bool:
    """True when the function reports failures as negative errno values (so 0 means success)."""
    return any(n.type == "return_statement" and re.match(r"return\s+-\s*E[A-Z0-9]+", text(n))
               for n in cparse.walk(view.body))


def _label_return(view: FuncView, label: str) -> Any:
    """The first return statement at or after `label:` in the function."""
    start = None
    for n in cparse.walk(view.body):
        if n.type == "labeled_statement":
            lab = n.child_by_field_name("label")
            if lab is not None and text(lab) == label:
                start = n.start_byte
                break
    if start is None:
        return None
    for n in cparse.walk(view.body):
        if n.type == "return_statement" and n.start_byte >= start:
            return n
    return None


def _call_hit(pd: PatchDiff, view: FuncView, call: Any, name: str, kind: str) -> Hit | None:
    hit = _call_hit_any(pd, view, call, name, kind)
    if hit is not None and hit.rule == UNCHECKED and hit.status == "needs-review" and view.is_init:
        return None  # boot-time code: a failed allocation there panics by design
    return hit


def _call_hit_any(pd: PatchDiff, view: FuncView, call: Any, name: str, kind: str) -> Hit | None:
    targets, stmt = _result_targets(call)
    target = targets[0] if targets else None
    wrapped = _skip_wrappers(call)
    parent = wrapped.parent
    fn = f"{name}()"
    where = f" in {view.name}()" if view.name != "__hunk" else ""
    if target is None:
        if parent is not None and parent.type == "return_statement":
            return None  # the caller gets the result and checks it
        cond = _condition_of(call)
        if cond is not None:
            return _checked(pd, view, call, cond, text(call), kind, fn, where)
        if parent is not None and parent.type == "expression_statement":
            what = "its error code is ignored" if kind == "error" else "its result is thrown away"
            return _hit(pd, view, UNCHECKED, call, call, f"{fn}{where}: {what}.")
        user = _statement(call)
        return _hit(pd, view, UNCHECKED, call, call,
                    f"{fn}{where}: its result is used directly, with no check for failure"
                    + (" (NULL)" if kind == "pointer" else "") + f": `{_first_line(user)}`.")
    cond = _condition_of(call)
    if cond is not None:  # if (!(p = kmalloc(...)))
        return _checked(pd, view, call, cond, target, kind, fn, where)
    if stmt is None:
        return None
    handed_on = False  # stored or copied somewhere before any check
    for occ in _occurrences(view.body, targets, stmt.end_byte):
        if _other_branch(stmt, occ):
            continue  # another case of the switch, or the else of the if
        what, node = _classify(occ)
        if what == "neutral" and _skip_wrappers(occ).parent is not None \
                and _skip_wrappers(occ).parent.type in ("assignment_expression", "init_declarator"):
            handed_on = True
        if what == "check":
            if node.type == "call_expression":  # WARN_ON(!p) / BUG_ON(!p) as a statement
                return None
            return _checked(pd, view, call, node, _norm(text(occ)), kind, fn, where)
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
    if not set(targets) & _local_names(view) or handed_on:
        return None  # a field or global: whoever reads it may accept NULL
    what = "error code" if kind == "error" else "result"
    return _hit(pd, view, UNCHECKED, call, call, f"{fn}{where}: its {what} in `{target}` is never checked.")


def _checked(pd: PatchDiff, view: FuncView, call: Any, cond_stmt: Any, target: str, kind: str,
             fn: str, where: str) -> Hit | None:
    cond = cond_stmt.child_by_field_name("condition")
    cond_text = text(cond) if cond is not None else ""
    if cond_stmt.type != "if_statement":
        return None  # a loop or ?: test: handled in place
    side = _failure_in_then(cond_text, _norm(target), kind)
    if side is None:
        return None
    if side:
        branch = cond_stmt.child_by_field_name("consequence")
    else:
        alt = cond_stmt.child_by_field_name("alternative")
        if alt is None:
            return None  # `if (p) { use p }`: skipped on failure
        branch = alt
    ex = _exit_of(branch, view)
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
    for occ in _occurrences(view.body, target, stmt.end_byte):
        what, _ = _classify(occ)
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
         status: str = "needs-review", reason: str = "") -> Hit | None:
    last = end.end_point[0] if end is not None else start.end_point[0]
    first_ref, last_ref = view.hunk_ref(start.start_point[0]), view.hunk_ref(last)
    if last_ref is None or first_ref is None or last_ref[0] is not first_ref[0]:
        last = _statement(start).end_point[0] if _statement(start) is not None else start.end_point[0]
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
    if not allocations or re.fullmatch(r"[A-Z0-9_]+", view.name):
        return []  # none, or a "function" the grammar made of macro calls: too unsure
    local = _local_names(view)
    hits: list[Hit] = []
    reported: set[tuple[str, int]] = set()
    for ret in (n for n in cparse.walk(view.body) if n.type in ("return_statement", "goto_statement")):
        guard = _guarding_if(ret)
        if guard is None:
            continue
        ex = _return_exit(ret, view) if ret.type == "return_statement" else Exit("returns", "goto")
        if ex.kind != "returns":
            continue
        exit_new = view.added(ret.start_point[0])
        cond = guard.child_by_field_name("condition")
        cond_text = _norm(text(cond)) if cond is not None else ""
        branch_text = text(guard.child_by_field_name("consequence") or guard)
        value = ex.value
        if ret.type == "goto_statement":
            label = ret.child_by_field_name("label")
            name = text(label) if label is not None else ""
            if not _top_level_label(view, name):
                continue  # a jump within a loop (retry, skip): not an exit
            branch_text += "\n" + _label_text(view, name)
            target = _label_return(view, name)
            value = _return_exit(target, view).value if target is not None else ""
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
            if not _encloses(stmt.parent, guard) or _released(view, var, stmt.end_byte, guard.start_byte):
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
    if re.match(r"^\(?-\s*E[A-Z0-9]+|^ERR_PTR\(|^PTR_ERR\(", value) or re.search(r"=\s*-\s*E[A-Z0-9]+\s*;", branch):
        return True
    if value == "NULL" and not view.returns_void:
        return True
    return bool(re.fullmatch(r"[A-Za-z_]\w*", value)) and re.search(rf"\b{re.escape(value)}\b", cond) is not None


def _top_level_label(view: FuncView, label: str) -> bool:
    """True when `label:` is a statement of the function body itself (an unwind label)."""
    blocks = [view.body]
    for _ in range(view.extra_depth):  # a hunk fragment: the real body is nested in balancing braces
        blocks = [c for b in blocks for c in b.named_children if c.type == "compound_statement"] or blocks
    for n in (c for b in blocks for c in b.named_children):
        if n.type == "labeled_statement":
            lab = n.child_by_field_name("label")
            if lab is not None and text(lab) == label:
                return True
    return False


def _local_names(view: FuncView) -> set[str]:
    names: set[str] = set()
    for n in cparse.walk(view.body):
        if n.type == "declaration":
            for d in n.children_by_field_name("declarator"):
                name = cparse.declarator_name(d)
                if name:
                    names.add(name)
    return names


def _guarding_if(node: Any) -> Any:
    """The nearest if statement whose consequence holds the node."""
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == child:
            return parent
        child, parent = parent, parent.parent
    return None


def _encloses(block: Any, node: Any) -> bool:
    return block is not None and block.start_byte <= node.start_byte and node.end_byte <= block.end_byte


def _released(view: FuncView, var: str, start: int, end: int) -> bool:
    """True when `var` is freed, returned or handed to an owner between two points."""
    for occ in _occurrences(view.body, var, start):
        if occ.start_byte >= end:
            break
        what, node = _classify(occ)
        if what in ("freed", "returned", "reassigned"):
            return True
        if what == "use" and node is not None and node.type == "call_expression":
            fn = text(node.child_by_field_name("function") or node)
            if fn not in T.NON_OWNING:
                return True
        p = _skip_wrappers(occ).parent
        if p is not None and p.type in ("assignment_expression", "init_declarator", "initializer_list",
                                        "initializer_pair", "pointer_expression"):
            return True  # stored somewhere else, or its address is handed out
    return False


def _label_text(view: FuncView, label: str) -> str:
    ret = _label_return(view, label)
    for n in cparse.walk(view.body):
        if n.type == "labeled_statement":
            lab = n.child_by_field_name("label")
            if lab is not None and text(lab) == label:
                end = ret.end_byte if ret is not None else view.body.end_byte
                raw: bytes = view.body.text or b""
                base = view.body.start_byte
                return raw[n.start_byte - base:end - base].decode("utf-8", "replace")
    return ""
