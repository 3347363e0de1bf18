"""C control-flow helpers for the allocation analyzer, over tree-sitter nodes.

Where a call's result goes (the variables it is stored in), what a later mention of that
variable does (check, use, free, overwrite), which branch of an `if` runs on failure, and
how a branch leaves the function (return, goto to an unwind label, panic, loop exit).
"""

from __future__ import annotations

import re
from typing import Any

from reviewtool import rx
from reviewtool.check import cparse
from reviewtool.check.analyzers import _tables as T
from reviewtool.check.analyzers._cfunc import FuncView, text
from reviewtool.record import NamedTuple

_STATEMENTS = frozenset({"expression_statement", "declaration", "return_statement", "if_statement",
                         "while_statement", "for_statement", "do_statement", "switch_statement",
                         "goto_statement", "labeled_statement", "compound_statement"})
_CONDITION_PARENTS = frozenset({"if_statement", "while_statement", "for_statement", "do_statement",
                                "conditional_expression"})


class Exit(NamedTuple):
    """How a failure branch leaves: kind is returns | swallows | void | panics | loops | continues."""

    kind: str
    value: str = ""
    node: Any = None


def skip_wrappers(node: Any) -> Any:
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


def statement(node: Any) -> Any:
    """The statement node that holds `node` (or None)."""
    while node is not None and node.type not in _STATEMENTS:
        node = node.parent
    return node


def result_targets(call: Any) -> tuple[list[str], Any]:
    """Every variable the result is stored in (`a = s->a = kmalloc()`: both), innermost first."""
    node = skip_wrappers(call)
    parent = node.parent
    if parent is None:
        return [], None
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        names = [norm(text(parent.child_by_field_name("left")))]
        while parent.parent is not None and parent.parent.type == "assignment_expression" \
                and parent.parent.child_by_field_name("right") == parent:
            parent = parent.parent
            names.append(norm(text(parent.child_by_field_name("left"))))
        return names, statement(parent)
    if parent.type == "init_declarator":
        name = cparse.declarator_name(parent.child_by_field_name("declarator"))
        return ([name] if name else []), statement(parent)
    return [], statement(parent)


def norm(expr: str) -> str:
    """An expression without whitespace, for comparing lvalues."""
    return "".join(expr.split())


def condition_of(node: Any) -> Any:
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


def occurrences(view: FuncView, target: str | list[str], after: int) -> list[Any]:
    """Nodes of the view's body, starting at or after byte `after`, whose text is (one of) the target lvalues.

    Outermost matches only (`p->x` and not its `p`), in source order.
    """
    names = [target] if isinstance(target, str) else target
    simple = {t for t in names if rx.fullmatch(r"[A-Za-z_]\w*", t)}
    lvalues = set(names) - simple
    found = [n for name in simple for n in view.identifiers.get(name, ())]
    if lvalues:
        found.extend(n for t, n in view.lvalues if t in lvalues)
    out = [n for n in found if n.start_byte >= after and n.end_byte > after]
    out.sort(key=lambda n: (n.start_byte, -n.end_byte))  # an expression before the identifiers in it
    kept: list[Any] = []
    for n in out:
        if kept and n.start_byte < kept[-1].end_byte:
            continue
        kept.append(n)
    return kept


def classify(occ: Any) -> tuple[str, Any]:
    """check | use | reassigned | returned | freed | neutral, and the deciding node."""
    parent = occ.parent
    if parent is None:
        return "neutral", None
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == occ:
        return "reassigned", parent
    cond = condition_of(occ)
    if cond is not None:
        return "check", cond
    asserted = asserted_by(occ)
    if asserted is not None:
        return "check", asserted
    wrapped = skip_wrappers(occ)
    p = wrapped.parent
    if p is not None and p.type == "return_statement":
        return "returned", p
    if p is not None and p.type == "argument_list" and p.parent is not None:
        fn = text(p.parent.child_by_field_name("function") or p.parent)
        if fn in T.FREE_FUNCTIONS:
            return "freed", p.parent
        if fn in T.CHECK_WRAPPERS:
            return "check", p.parent
        if T.PRINT_RE().match(fn) or fn in T.STORES or fn.startswith("kmemleak_") or fn == "sizeof":
            return "neutral", None
        if T.RELEASE_RE().match(fn):
            return "freed", p.parent
        return "use", p.parent
    if p is not None and p.type == "field_expression" and p.child_by_field_name("argument") == wrapped:
        return "use", p
    if p is not None and p.type == "subscript_expression" and p.child_by_field_name("argument") == wrapped:
        return "use", p
    if p is not None and p.type == "pointer_expression" and text(p).lstrip().startswith("*"):
        return "use", p
    return "neutral", None


def other_branch(a: Any, b: Any) -> bool:
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
                fields = (node.field_name_for_child(index(node, child)), node.field_name_for_child(index(node, other)))
                return bool(child != other and "condition" not in fields)
            if node.type == "compound_statement" and node.parent is not None \
                    and node.parent.type == "switch_statement":
                return bool(child.type == "case_statement" and child != other)  # other: a case, or #ifdef'd cases
            return False
        child, node = node, node.parent
    return False


def index(parent: Any, child: Any) -> int:
    """The position of `child` among the children of `parent` (-1 if absent)."""
    for i, c in enumerate(parent.children):
        if c == child:
            return i
    return -1


def asserted_by(occ: Any) -> Any:
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


def failure_in_then(cond_text: str, target: str, kind: str) -> bool | None:
    """True: the `then` branch runs on failure; False: on success; None: cannot tell."""
    t = re.escape(target) if rx.fullmatch(r"[A-Za-z_]\w*", target) else re.escape(target).replace(r"\-\>", r"\s*->\s*")
    c = norm(cond_text)
    t = norm(t)
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


def exit_of(branch: Any, view: FuncView) -> Exit:
    """How a failure branch ends: the first return, goto, panic or loop exit in it."""
    if branch is None:
        return Exit("continues")
    for n in cparse.walk(branch):
        if n.type == "return_statement":
            return return_exit(n, view)
        if n.type == "goto_statement":
            label = n.child_by_field_name("label")
            if label is not None and not top_level_label(view, text(label)):
                return Exit("loops", "", n)
            ret = label_return(view, text(label)) if label is not None else None
            if ret is not None:
                got = return_exit(ret, view)
                return Exit(got.kind, got.value or "", n)
            return Exit("returns", f"via goto {text(label) if label is not None else '?'}", n)
        if n.type in ("break_statement", "continue_statement"):
            return Exit("loops", "", n)
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and text(fn) in ("panic", "BUG", "BUG_ON", "do_exit", "machine_restart"):
                return Exit("panics", text(fn), n)
    return Exit("continues")


def return_exit(ret: Any, view: FuncView) -> Exit:
    """How a return statement leaves: returns a value, swallows the error (0), or returns void."""
    value = ret.named_children[0] if ret.named_children else None
    if value is None:
        return Exit("void", "", ret)
    v = norm(text(value))
    if v in ("0", "(0)") and not view.returns_void and uses_errno(view):
        return Exit("swallows", "0", ret)
    return Exit("returns", v, ret)


def uses_errno(view: FuncView) -> bool:
    """True when the function reports failures as negative errno values (so 0 means success)."""
    return any(rx.match(r"return\s+-\s*E[A-Z0-9]+", text(n)) for n in view.of_type("return_statement"))


def label_return(view: FuncView, label: str) -> Any:
    """The first return statement at or after `label:` in the function."""
    start = None
    for n in view.of_type("labeled_statement"):
        lab = n.child_by_field_name("label")
        if lab is not None and text(lab) == label:
            start = n.start_byte
            break
    if start is None:
        return None
    for n in view.of_type("return_statement"):
        if n.start_byte >= start:
            return n
    return None


def top_level_label(view: FuncView, label: str) -> bool:
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


def local_names(view: FuncView) -> frozenset[str]:
    """The names declared in the function body."""
    return view.local_names


def guarding_if(node: Any) -> Any:
    """The nearest if statement whose consequence holds the node."""
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == child:
            return parent
        child, parent = parent, parent.parent
    return None


def encloses(block: Any, node: Any) -> bool:
    """True when `block` contains `node`."""
    return block is not None and block.start_byte <= node.start_byte and node.end_byte <= block.end_byte


def label_text(view: FuncView, label: str) -> str:
    """The source from `label:` to the return that ends that unwind path."""
    ret = label_return(view, label)
    for n in view.of_type("labeled_statement"):
        lab = n.child_by_field_name("label")
        if lab is not None and text(lab) == label:
            end = ret.end_byte if ret is not None else view.body.end_byte
            raw: bytes = view.body.text or b""
            base = view.body.start_byte
            return raw[n.start_byte - base:end - base].decode("utf-8", "replace")
    return ""
