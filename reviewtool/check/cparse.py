"""Source-structure helpers: C functions with tree-sitter, assembly symbols by scanning.

tree-sitter and its C grammar are imported on first use only. Kernel annotations that
the grammar does not know (`__init`, `__user`, `__attribute__((...))`) are blanked out
with spaces before parsing, so every position in the tree is a position in the source.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from reviewtool import rx
from reviewtool.record import NamedTuple

# annotations that only confuse the grammar; replaced by spaces of the same length
_ANNOTATIONS = (
    "__init", "__exit", "__ref", "__noreturn", "__nocfi", "__user", "__iomem", "__force",
    "__must_check", "__always_inline", "__weak", "__cold", "__maybe_unused", "__visible",
    "__kprobes", "__sched", "__rcu", "__percpu", "__bitwise", "__packed", "__pure",
    "__initdata", "__initconst", "__ro_after_init", "__read_mostly", "__noinstr", "noinstr",
    "__noclone", "__flatten", "__latent_entropy", "__randomize_layout", "noinline",
    "notrace", "asmlinkage", "__always_unused", "__used", "__nostackprotector",
    "__no_sanitize_address", "__counted_by", "__trace_foo", "__head", "__meminit",
    "__cpuinit", "__devinit", "__kexec_init", "__no_kcsan", "__noinline",
)
_ANNOTATION_RE = rx.compile(
    r"\b(?:" + "|".join(re.escape(a) for a in _ANNOTATIONS) + r")\b"
    r"|\b__(?:attribute__|aligned|section|printf|scanf|counted_by|alias|designated_init)\s*\(\((?:[^()]|\([^()]*\))*\)\)"
    r"|\b__(?:aligned|section|printf|scanf|counted_by|alias)\s*\((?:[^()]|\([^()]*\))*\)"
)
_DEFINE_MACRO_RE = rx.compile(r"^(?:SYSCALL|COMPAT_SYSCALL)_DEFINE\d$")


def _blank(m: re.Match[str]) -> str:
    return rx.sub(r"[^\n]", " ", m.group(0))


def blank_annotations(text: str) -> str:
    """The text with kernel annotations replaced by spaces (positions are kept)."""
    return _ANNOTATION_RE.sub(_blank, text)


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter  # lazy: only the analyzers that parse C pay for it

    return tree_sitter.Parser(tree_sitter.Language(_c_language()))


def _c_language() -> Any:
    """tree_sitter_c.language(), read from the package's compiled binding.

    The package's `__init__` imports importlib.resources (and with it tempfile and shutil)
    for two query files reviewtool does not read: 7 ms of every check of C code. The binding
    is loaded on its own when it is where the package keeps it; otherwise the package is
    imported as usual.
    """
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("tree_sitter_c")
    folders = spec.submodule_search_locations if spec is not None else None
    name = "tree_sitter_c._binding"
    paths = [os.path.join(folder, "_binding" + suffix) for folder in folders or ()
             for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    path = next(filter(os.path.isfile, paths), None)
    try:
        loader = importlib.machinery.ExtensionFileLoader(name, path or "")
        binding = importlib.util.spec_from_file_location(name, path, loader=loader) if path else None
        if binding is not None:
            module = importlib.util.module_from_spec(binding)
            loader.exec_module(module)
            return module.language()
    except (ImportError, AttributeError, OSError):  # another layout: the package knows best
        pass
    import tree_sitter_c

    return tree_sitter_c.language()


@lru_cache(maxsize=64)
def parse_c(text: str) -> Any:
    """The tree-sitter tree of C source text (cached by text)."""
    return _parser().parse(blank_annotations(text).encode("utf-8", "surrogateescape"))


class CFunction(NamedTuple):
    """A function definition: its name and 1-based line range (signature to closing brace)."""

    name: str
    start: int
    end: int
    node: Any  # the tree-sitter node of the definition (body: `node.child_by_field_name("body")`)

    @property
    def body(self) -> Any:
        """The compound statement of the function, or None."""
        if self.node.type == "compound_statement":
            return self.node
        return self.node.child_by_field_name("body")


def declarator_name(node: Any) -> str | None:
    """The identifier a (possibly nested: pointer, function, array) declarator declares."""
    seen = 0
    while node is not None and seen < 20:
        seen += 1
        if node.type in ("identifier", "field_identifier", "type_identifier"):
            return node_text(node)
        inner = node.child_by_field_name("declarator")
        if inner is None:
            for child in node.named_children:
                if child.type in ("identifier", "function_declarator", "pointer_declarator",
                                  "parenthesized_declarator", "array_declarator"):
                    inner = child
                    break
        node = inner
    return None


def node_text(node: Any) -> str:
    """The source text of a node."""
    raw: bytes = node.text or b""
    return raw.decode("utf-8", "replace")


def _macro_definition_name(stmt: Any) -> str | None:
    """The name of `SYSCALL_DEFINE3(name, ...)` or `MACRO(name)` parsed as a statement."""
    call = stmt.named_children[0] if stmt.named_children else None
    if call is None or call.type != "call_expression":
        return None
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "identifier":
        return None
    macro = node_text(fn)
    args = call.child_by_field_name("arguments")
    if _DEFINE_MACRO_RE.match(macro) and args is not None and args.named_children:
        first = args.named_children[0]
        return f"sys_{node_text(first)}" if first.type == "identifier" else macro
    return macro


def functions(text: str) -> tuple[CFunction, ...]:
    """Every function definition at the top level of C source text."""
    root = parse_c(text).root_node
    out: list[CFunction] = []
    prev = None
    for child in root.named_children:
        if child.type == "function_definition":
            name = declarator_name(child.child_by_field_name("declarator"))
            if name:
                out.append(CFunction(name, child.start_point[0] + 1, child.end_point[0] + 1, child))
        elif child.type == "compound_statement" and prev is not None and prev.type == "expression_statement":
            name = _macro_definition_name(prev)
            if name:
                out.append(CFunction(name, prev.start_point[0] + 1, child.end_point[0] + 1, child))
        prev = child
    return tuple(out)


def function_at(text: str, line: int) -> CFunction | None:
    """The function definition that contains 1-based `line`, if any."""
    for fn in functions(text):
        if fn.start <= line <= fn.end:
            return fn
    return None


def nodes(node: Any) -> list[Any]:
    """Every node under `node` (itself first), depth first, in source order: `list(walk(node))`,
    without a generator step per node."""
    cursor = node.walk()
    out = [cursor.node]
    first_child, next_sibling, parent = cursor.goto_first_child, cursor.goto_next_sibling, cursor.goto_parent
    depth = 0
    while True:
        if first_child():
            depth += 1
            out.append(cursor.node)
            continue
        while depth and not next_sibling():
            parent()
            depth -= 1
        if not depth:
            return out
        out.append(cursor.node)


def walk(node: Any) -> Iterator[Any]:
    """Every node under `node` (itself first), depth first, in source order."""
    cursor = node.walk()
    depth = 0
    while True:
        yield cursor.node
        if cursor.goto_first_child():
            depth += 1
            continue
        while depth and not cursor.goto_next_sibling():
            cursor.goto_parent()
            depth -= 1
        if not depth:
            return


# --- without a parser: hunk lines and git's section header ---------------------------

_C_DEF_START_RE = rx.compile(r"^(?!(?:if|for|while|switch|return|else|do|case|typedef)\b)[A-Za-z_][\w\s\*,()]*?\b([A-Za-z_]\w*)\s*\(")
_C_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__",
                         "defined", "__attribute__", "offsetof"})


@lru_cache(maxsize=16384)
def c_definition_name(line: str) -> str | None:
    """The function name when `line` looks like the first line of a C function definition."""
    if not line or line[0] in " \t#/*}{":
        return None
    if line.rstrip().endswith(";") or "=" in line.split("(", 1)[0]:
        return None
    m = _C_DEF_START_RE.match(blank_annotations(line))
    if not m:
        return None
    name = m.group(1)
    if name in _C_KEYWORDS:
        return None
    if _DEFINE_MACRO_RE.match(name):
        arg = rx.match(r"\w+\(\s*(\w+)", line)
        return f"sys_{arg.group(1)}" if arg else name
    return name


def c_function_in_lines(lines: list[str], upto: int | None = None) -> tuple[bool, str | None]:
    """Scan lines backwards from index `upto` (default: the last) for the function it is in.

    Lines after `upto` are only used to tell a definition from a prototype. Returns
    (decided, name): decided is False when the lines show neither a function start nor
    the end of one, so the caller should fall back to another source.
    """
    if upto is None:
        upto = len(lines) - 1
    for i in range(min(upto, len(lines) - 1), -1, -1):
        text = lines[i]
        name = c_definition_name(text)
        if name:
            shape = signature_shape(lines, i)
            if shape == "prototype" or (shape == "one-line" and i < upto):
                return True, None
            return True, name
        if text.startswith("}"):
            return True, None
    return False, None


def signature_shape(lines: list[str], start: int) -> str:
    """'definition', 'one-line' (a whole `f(void) {}` on one line) or 'prototype'."""
    for j in range(start, min(start + 12, len(lines))):
        text = lines[j].split("//", 1)[0]
        brace, semi = text.find("{"), text.find(";")
        if brace >= 0 and (semi < 0 or brace < semi):
            return "one-line" if text.rstrip().endswith("}") and j == start else "definition"
        if semi >= 0:
            return "prototype"
    return "definition"


_ASM_START_RE = rx.compile(
    r"^\s*(?:SYM_(?:CODE|FUNC|TYPED_FUNC|DATA)_START\w*|ENTRY|GLOBAL|WEAK)\s*\(\s*\\?([A-Za-z_.$][\w.$]*)"
)
_ASM_END_RE = rx.compile(r"^\s*(?:SYM_\w*_END\w*|ENDPROC|END)\s*\(\s*\\?([A-Za-z_.$][\w.$]*)")
_ASM_LABEL_RE = rx.compile(r"^([A-Za-z_$][\w$]*):")
_ASM_MACRO_RE = rx.compile(r"^\s*\.macro\s+([A-Za-z_][\w]*)")
_ASM_ENDM_RE = rx.compile(r"^\s*\.endm\b")


def asm_symbol_in_lines(lines: list[str]) -> tuple[bool, str | None]:
    """The symbol (or macro) the last of these assembly lines is in, scanning backwards.

    A `SYM_*_START(name)`, `ENTRY(name)`, a global `label:` or `.macro name` opens a
    symbol; its END or `.endm` closes it. Local labels (`.Lfoo:`, `1:`) are ignored.
    """
    for text in reversed(lines):
        m = _ASM_START_RE.match(text) or _ASM_MACRO_RE.match(text) or _ASM_LABEL_RE.match(text)
        if m:
            return True, m.group(1)
        if _ASM_END_RE.match(text) or _ASM_ENDM_RE.match(text):
            return True, None
    return False, None


_SECTION_ASM_RE = rx.compile(r"(?:SYM_\w*START\w*|ENTRY|\.macro)\s*\(?\s*\\?([A-Za-z_.$][\w.$]*)|^([A-Za-z_$][\w$]*):")


def function_from_section(section: str, kind: str) -> str | None:
    """The function or symbol named in git's hunk section header, if it names one."""
    section = section.strip()
    if not section:
        return None
    if kind in ("asm", "lds"):
        m = _SECTION_ASM_RE.search(section)
        if m:
            return m.group(1) or m.group(2)
        return None
    if kind in ("c", "header"):
        return c_definition_name(section)
    return None
