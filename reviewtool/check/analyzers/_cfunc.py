"""C function views for analyzers: the function around changed lines, as a tree-sitter tree.

With a post-image the view is the real function from the file; without one it is the
hunk's new side, wrapped and brace-balanced so that the grammar can read it. Either
way every row of the view maps back to the hunk line it came from, so an analyzer can
tell added code from context.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from reviewtool import rx
from reviewtool.check import cparse
from reviewtool.check.diff import DiffFile, DiffHunk, DiffLine, locate_hunk
from reviewtool.record import field, record

_LITERALS = rx.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|/\*.*?\*/|//.*$')


@record
class FuncView:
    """One function (or hunk fragment) and where its rows come from in the patch."""

    name: str
    path: str
    rows: list[str]  # source lines; row r (0-based) is line r + 1
    node: Any  # function_definition, or the compound statement of a macro-defined function
    origin: dict[int, tuple[DiffHunk, int]] = field(default_factory=dict)  # row -> (hunk, index)
    complete: bool = False  # True when read from the real post-image
    signature: str = ""  # the text before the body (return type, annotations)
    extra_depth: int = 0  # braces opened to balance a hunk that starts inside a block

    @property
    def body(self) -> Any:
        """The compound statement of the function."""
        if self.node.type == "compound_statement":
            return self.node
        return self.node.child_by_field_name("body")

    @cached_property
    def _index(self) -> dict[str, list[tuple[int, Any]]]:
        """The body's nodes by type: (position in a depth-first walk, node), in source order."""
        out: dict[str, list[tuple[int, Any]]] = {}
        body = self.body
        if body is not None:
            for i, n in enumerate(cparse.nodes(body)):
                out.setdefault(n.type, []).append((i, n))
        return out

    def of_type(self, *types: str) -> list[Any]:
        """The body's nodes of these types, in source order (a depth-first walk's order)."""
        if len(types) == 1:
            return [n for _, n in self._index.get(types[0], ())]
        found = sorted((p for t in types for p in self._index.get(t, ())), key=lambda p: p[0])
        return [n for _, n in found]

    @cached_property
    def calls(self) -> tuple[tuple[str, Any], ...]:
        """(callee name, call_expression node) of every direct call in the body, in order."""
        out = []
        for n in self.of_type("call_expression"):
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                out.append((cparse.node_text(fn), n))
        return tuple(out)

    @cached_property
    def identifiers(self) -> dict[str, list[Any]]:
        """The identifier nodes of the body by name, each list in source order."""
        out: dict[str, list[Any]] = {}
        for n in self.of_type("identifier"):
            out.setdefault(cparse.node_text(n), []).append(n)
        return out

    @cached_property
    def lvalues(self) -> tuple[tuple[str, Any], ...]:
        """(text without whitespace, node) of every field, pointer and subscript expression in the body."""
        return tuple((_squash(cparse.node_text(n)), n)
                     for n in self.of_type("field_expression", "pointer_expression", "subscript_expression"))

    @cached_property
    def local_names(self) -> frozenset[str]:
        """The names declared in the body."""
        names: set[str] = set()
        for n in self.of_type("declaration"):
            for d in n.children_by_field_name("declarator"):
                name = cparse.declarator_name(d)
                if name:
                    names.add(name)
        return frozenset(names)

    def line(self, row: int) -> DiffLine | None:
        """The diff line at a 0-based row, when the row is part of the patch's hunks."""
        got = self.origin.get(row)
        return got[0].lines[got[1]] if got else None

    def added(self, row: int) -> bool:
        """True when the row is a line this patch adds."""
        ln = self.line(row)
        return ln is not None and ln.kind == "+"

    def hunk_ref(self, row: int) -> tuple[DiffHunk, int] | None:
        """(hunk, index) of the diff line at a row."""
        return self.origin.get(row)

    @property
    def is_init(self) -> bool:
        """True for `__init` functions (boot-time code)."""
        return bool(rx.search(r"\b__(?:init|meminit|head)\b", self.signature))

    @property
    def returns_void(self) -> bool:
        """True when the function returns nothing."""
        sig = self.signature.split(self.name, 1)[0] if self.name in self.signature else self.signature
        return bool(rx.search(r"\bvoid\s*$", sig.strip())) and "*" not in sig


def _strip_literals(text: str, in_comment: bool) -> tuple[str, bool]:
    if in_comment:
        end = text.find("*/")
        if end < 0:
            return "", True
        text = text[end + 2:]
    if '"' in text or "'" in text or "/" in text:  # what every literal or comment starts with
        text = _LITERALS.sub("", text)
    start = text.find("/*")
    if start >= 0:
        return text[:start], True
    return text, False


def _depths(lines: list[str]) -> tuple[int, int]:
    """(lowest running brace depth, final depth) over the lines."""
    depth = low = 0
    in_comment = False
    for text in lines:
        clean, in_comment = _strip_literals(text, in_comment)
        if "{" not in clean and "}" not in clean:
            continue
        for ch in clean:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                low = min(low, depth)
    return low, depth


def _starts_in_comment(lines: list[str]) -> bool:
    """True when the first lines are the tail of a block comment (a `*/` before any `/*`)."""
    for t in lines:
        opened, closed = t.find("/*"), t.find("*/")
        if closed >= 0 and (opened < 0 or closed < opened):
            return True
        if opened >= 0:
            return False
    return False


def _ends_in_comment(lines: list[str]) -> bool:
    in_comment = _starts_in_comment(lines)
    for t in lines:
        _, in_comment = _strip_literals(t, in_comment)
    return in_comment


def _signature(rows: list[str], node: Any) -> str:
    start = node.start_point[0]
    body = node.child_by_field_name("body") if node.type == "function_definition" else node
    end = body.start_point[0] if body is not None else start
    return " ".join(rows[start:end + 1])


def _from_image(path: str, image: str, hunks: tuple[DiffHunk, ...]) -> list[FuncView] | None:
    rows = image.split("\n")
    origin: dict[int, tuple[DiffHunk, int]] = {}
    changed: set[int] = set()
    for h in hunks:
        off = locate_hunk(h, rows)
        if off is None:
            continue
        for i, ln in enumerate(h.lines):
            if ln.new_no is not None:
                origin[ln.new_no - 1 + off] = (h, i)
                if ln.kind == "+":
                    changed.add(ln.new_no - 1 + off)
            else:
                nxt = next((x.new_no for x in h.lines[i:] if x.new_no is not None), None)
                if nxt is not None:
                    changed.add(nxt - 1 + off)
    if not origin:
        return None
    views = []
    for fn in cparse.functions(image):
        if any(fn.start - 1 <= r <= fn.end - 1 for r in changed):
            views.append(FuncView(fn.name, path, rows, fn.node, origin, True, _signature(rows, fn.node)))
    return views


def _opening_depth(lines: list[str], low: int) -> int:
    """How many braces are open where a hunk starts (at least one: it starts in a function).

    A `}` in column 0 ends a function (kernel style): the lines after it are at the top
    level, so a function the hunk goes on to define is not taken for part of the one the
    hunk started in. Without one, the hunk is taken to start a level deeper than it closes.
    """
    depth = 0
    in_comment = False
    for text in lines:
        clean, in_comment = _strip_literals(text, in_comment)
        depth += clean.count("{") - clean.count("}")
        if clean.startswith("}") and -depth >= max(-low, 1):
            return -depth
    return 1 - low


def _from_hunk(path: str, hunk: DiffHunk) -> list[FuncView]:
    side = [(i, ln) for i, ln in enumerate(hunk.lines) if ln.kind != "-"]
    texts = [ln.text for _, ln in side]
    low, final = _depths(texts)
    defines = any(cparse.c_definition_name(t) for t in texts)
    prefix: list[str] = []
    name = hunk.function or "__hunk"
    opens = 0
    if not defines or low < 0:
        opens = _opening_depth(texts, low)
        prefix = [f"void {name}(void)"] + ["{"] * opens
        final += opens
    if _starts_in_comment(texts):
        prefix.append("/*")
    rows = prefix + texts + (["*/"] if _ends_in_comment(texts) else []) + ["}"] * max(final, 0)
    origin = {len(prefix) + k: (hunk, i) for k, (i, _) in enumerate(side)}
    views = []
    for fn in cparse.functions("\n".join(rows)):
        if any(fn.start - 1 <= r <= fn.end - 1 for r in origin):
            sig = hunk.section if prefix and fn.start == 1 else _signature(rows, fn.node)
            depth = opens - 1 if prefix and fn.start == 1 else 0
            views.append(FuncView(fn.name, path, rows, fn.node, origin, False, sig, depth))
    return views


def function_views(f: DiffFile, image: str | None) -> list[FuncView]:
    """Views of the functions of a C file that the patch changes."""
    if f.kind not in ("c", "header") or not f.hunks:
        return []
    if image is not None:
        views = _from_image(f.path, image, f.hunks)
        if views is not None:
            return views
    out: list[FuncView] = []
    for h in f.hunks:
        if any(ln.kind != " " for ln in h.lines):
            out.extend(_hunk_views(f.path, h))
    return out


def _hunk_views(path: str, hunk: DiffHunk) -> list[FuncView]:
    """_from_hunk, once per hunk for the whole run: analyzers that look at the same hunk
    share its views (and what each view has worked out of its tree)."""
    key = id(hunk)
    got = _HUNK_VIEWS.get(key)
    if got is not None and got[0] is hunk and got[1] == path:
        return got[2]
    views = _from_hunk(path, hunk)
    if len(_HUNK_VIEWS) > 4096:
        _HUNK_VIEWS.clear()
    _HUNK_VIEWS[key] = (hunk, path, views)
    return views


_HUNK_VIEWS: dict[int, tuple[DiffHunk, str, list[FuncView]]] = {}


def text(node: Any) -> str:
    """Source text of a node."""
    return cparse.node_text(node)


def line_functions(f: DiffFile, hunk: DiffHunk, image: str | None) -> list[str | None]:
    """The enclosing function of every line of a hunk (removed lines: where they were)."""
    key = (id(hunk), image is not None)
    got = _LINE_FUNCS.get(key)
    if got is not None and got[0] is hunk:
        return got[1]
    names = _line_functions(f, hunk, image)
    if len(_LINE_FUNCS) > 4096:
        _LINE_FUNCS.clear()
    _LINE_FUNCS[key] = (hunk, names)
    return names


_LINE_FUNCS: dict[tuple[int, bool], tuple[DiffHunk, list[str | None]]] = {}


def _line_functions(f: DiffFile, hunk: DiffHunk, image: str | None) -> list[str | None]:
    funcs = cparse.functions(image) if image is not None and f.kind in ("c", "header") else ()
    off = locate_hunk(hunk, image.split("\n")) if image is not None and funcs else None
    texts = [ln.text for ln in hunk.lines]
    names: list[str | None] = []
    # one pass: `carried` is what a scan back from the next line would decide
    carried: tuple[bool, str | None] = (False, None)
    for i in range(len(texts)):
        here = carried
        name = cparse.c_definition_name(texts[i])
        if name:
            shape = cparse.signature_shape(texts, i)
            here = (True, None) if shape == "prototype" else (True, name)
            carried = (True, None) if shape in ("prototype", "one-line") else (True, name)
        elif texts[i].startswith("}"):
            here = carried = (True, None)
        if off is not None:
            n = next((x.new_no for x in hunk.lines[i:] if x.new_no is not None), None)
            if n is not None:
                row = n + off
                names.append(next((fn.name for fn in funcs if fn.start <= row <= fn.end), None))
                continue
        names.append(here[1] if here[0] else hunk.function)
    return names


def _squash(text: str) -> str:
    """The text without whitespace (as `re.sub(r"\\s+", "", text)`: the same whitespace)."""
    return "".join(text.split())


def changed_code(hunk: DiffHunk) -> list[int]:
    """Indexes of the hunk's changed code lines, leaving out comments, blank lines and
    lines that only moved or were re-wrapped (the same code is on the other side)."""
    got = _CHANGED.get(id(hunk))
    if got is not None and got[0] is hunk:
        return got[1]
    out = _changed_code(hunk)
    if len(_CHANGED) > 4096:
        _CHANGED.clear()
    _CHANGED[id(hunk)] = (hunk, out)
    return out


_CHANGED: dict[int, tuple[DiffHunk, list[int]]] = {}


def _changed_code(hunk: DiffHunk) -> list[int]:
    removed = _squash("".join(_strip_literals_keep(ln.text) for ln in hunk.removed()))
    added = _squash("".join(_strip_literals_keep(ln.text) for ln in hunk.added()))
    out = []
    in_comment = _starts_in_comment([ln.text for ln in hunk.lines])
    for i, ln in enumerate(hunk.lines):
        clean, in_comment = _strip_literals(ln.text, in_comment)
        if ln.kind == " ":
            continue
        body = _squash(clean)
        if not body:
            continue
        other = added if ln.kind == "-" else removed
        if body in other:
            continue
        out.append(i)
    return out


def _strip_literals_keep(text: str) -> str:
    """The line without comments (string literals kept: they are code)."""
    return rx.sub(r"/\*.*?\*/|//.*$", "", text) if "/" in text else text
