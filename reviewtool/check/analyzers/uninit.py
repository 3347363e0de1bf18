"""A local returned on a path where it was never assigned (ERROR-UNINIT-RETURN).

On the C function around the patch's changes (tree-sitter, as for the allocation
checks): a local declared without an initializer (`int rc;`) whose first mention after
the declaration, on some path, is `return rc;` — straight down to it, or through a
`goto` to a label that leads to it. Kept sound by staying simple: the goto may sit only
in `if`/`else`/`switch` blocks (no loop around it), the function has no backward goto,
and any mention of the variable (an assignment, `&rc`, a macro argument) counts as
setting it.
"""

from __future__ import annotations

from typing import Any

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, c_files, evidence
from reviewtool.check.analyzers._cfunc import FuncView, function_views, text
from reviewtool.check.diff import DiffHunk

RULE = "ERROR-UNINIT-RETURN"
_RETURN_VAR = rx.compile(r"^\s*return\s+([A-Za-z_]\w*)\s*;")
_FORWARD_ONLY = frozenset({"if_statement", "else_clause", "switch_statement", "case_statement",
                           "compound_statement", "labeled_statement"})


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Returns of a local that no path to them has assigned."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in c_files(pd):
            image = ctx.image(f.path)
            hunks = tuple(h for h in f.hunks if _returns_a_variable(h))
            if not hunks:
                continue
            for view in function_views(f._replace(hunks=hunks) if image is None else f, image):
                for ev, msg in _uninit_returns(view):
                    hits.append(Hit(RULE, (evidence(pd.index, f.path, ev[0], ev[1], ev[2]),), msg))
    return hits


def _returns_a_variable(hunk: DiffHunk) -> bool:
    return any(ln.kind != "-" and _RETURN_VAR.match(ln.text) for ln in hunk.lines) and \
        any(ln.kind != " " for ln in hunk.lines)


def _uninit_returns(view: FuncView) -> list[tuple[tuple[DiffHunk, int, int], str]]:
    body = view.body
    if body is None or view.of_type("ERROR") or _backward_goto(view):
        return []
    out = []
    labels = {text(n.child_by_field_name("label")): n for n in view.of_type("labeled_statement")
              if n.child_by_field_name("label") is not None}
    for decl in body.named_children:
        if decl.type != "declaration" or "static" in text(decl).split("(")[0].split():
            continue
        for d in decl.children_by_field_name("declarator"):
            if d.type != "identifier":
                continue  # initialised, an array, a pointer's target: leave it
            name = text(d)
            mentions = [n.start_byte for n in view.identifiers.get(name, []) if n.start_byte > d.end_byte]
            for ret in view.of_type("return_statement"):
                m = _RETURN_VAR.match(text(ret))
                if m is None or m.group(1) != name:
                    continue
                found = _unassigned_path(view, name, decl, ret, mentions, labels)
                if found is not None:
                    out.append(found)
    return out


def _unassigned_path(view: FuncView, name: str, decl: Any, ret: Any, mentions: list[int],
                     labels: dict[str, Any]) -> tuple[tuple[DiffHunk, int, int], str] | None:
    if min(mentions, default=None) == _name_at(ret, name):  # nothing before the return mentions it
        if _forward_only(ret, view.body) and (view.added(ret.start_point[0]) or view.added(decl.start_point[0])):
            return _report(view, ret, ret, f"{view.name}(): `return {name};` is reached without anything "
                                           f"setting `{name}`: the function returns an uninitialised value.")
        return None
    for goto in view.of_type("goto_statement"):
        label = goto.child_by_field_name("label")
        target = labels.get(text(label)) if label is not None else None
        if target is None or target.start_byte > ret.start_byte:
            continue
        if any(decl.end_byte < b < goto.start_byte for b in mentions):
            continue  # mentioned (so perhaps set) before the goto
        if any(target.start_byte <= b < ret.start_byte for b in mentions if b != _name_at(ret, name)):
            continue
        if not _forward_only(goto, view.body) or not _forward_only(ret, view.body):
            continue
        if not (view.added(goto.start_point[0]) or view.added(ret.start_point[0]) or view.added(decl.start_point[0])):
            continue
        line = goto.start_point[0]
        where = view.line(line)
        at = f" (line {where.new_no})" if where is not None and where.new_no is not None else ""
        return _report(view, goto, ret,
                       f"{view.name}(): `{text(goto).strip()}`{at} reaches `return {name};` before anything "
                       f"sets `{name}`: the function returns an uninitialised value.")
    return None


def _name_at(ret: Any, name: str) -> int:
    return int(ret.start_byte) + text(ret).index(name)


def _forward_only(node: Any, body: Any) -> bool:
    """True when only if/else/switch blocks (no loop, no bare block) lie between the node and the body."""
    cur = node.parent
    while cur is not None and cur != body:
        if cur.type not in _FORWARD_ONLY:
            return False
        if cur.type == "compound_statement" and cur.parent is not None and cur.parent.type == "compound_statement":
            return False  # a bare block: maybe the body of a loop macro (list_for_each_entry ...)
        cur = cur.parent
    return cur is not None


def _backward_goto(view: FuncView) -> bool:
    labels = {text(n.child_by_field_name("label")): n.start_byte for n in view.of_type("labeled_statement")
              if n.child_by_field_name("label") is not None}
    for goto in view.of_type("goto_statement"):
        label = goto.child_by_field_name("label")
        at = labels.get(text(label)) if label is not None else None
        if at is None or at < goto.start_byte:
            return True  # a retry loop, or a label out of view
    return False


def _report(view: FuncView, first: Any, last: Any, msg: str) -> tuple[tuple[DiffHunk, int, int], str] | None:
    a, b = view.hunk_ref(first.start_point[0]), view.hunk_ref(last.end_point[0])
    if a is None:
        return None
    if b is None or b[0] is not a[0] or b[1] - a[1] >= 12:
        b = a
    return (a[0], a[1], b[1]), msg
