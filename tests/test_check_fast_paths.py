"""The shortcuts that keep `reviewtool check` fast give exactly what the plain way gives."""

from __future__ import annotations

import dataclasses
import gc
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool import record
from reviewtool.check import cparse
from reviewtool.check.analyzers import _tables as T
from reviewtool.cli import main
from reviewtool.diff import parse

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "check"
NAMES = ["kmalloc", "kzalloc", "alloc_page", "alloc_pages", "trans_pgd_create_copy", "x"]
CODE = st.lists(st.sampled_from([*NAMES, "xkmalloc", "é", "trans_pgd_", "9kmalloc", " ", "\t", "(", ")", "->", ".",
                                 "=", ";", "_", "a1"]), max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(CODE, st.sets(st.sampled_from(NAMES), min_size=1))
def test_first_call_finds_what_one_regex_of_all_the_names_finds(text: str, names: set[str]) -> None:
    regex = re.compile(r"\b(" + "|".join(sorted(names)) + r")\s*\(")
    want, got = regex.search(text), T.first_call(text, names)
    assert (want.span(), want.group(1)) == (got.span(), got.group(1)) if want else got is None
    allocators = re.compile(r"\b(" + "|".join(sorted(T.POINTER_ALLOCATORS | T.ERROR_ALLOCATORS))
                            + r"|trans_pgd_\w+)\s*\(")
    want, got = allocators.search(text), T.first_call(text, T.is_allocator)
    assert (want.span(), want.group(1)) == (got.span(), got.group(1)) if want else got is None


def _stack_walk(node: Any) -> list[Any]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


C_SOURCE = """
static int __init f(struct kimage *image)
{
	void *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	switch (image->type) {
	case KEXEC_TYPE_CRASH:
		goto out;
	default:
		p->x = g(p, image->arch.y[2]);
	}
out:
	kfree(p);
	return 0;
}
int h(void);
"""


def test_the_tree_walk_visits_every_node_in_source_order() -> None:
    root = cparse.parse_c(C_SOURCE).root_node
    body = cparse.functions(C_SOURCE)[0].body
    leaf = next(n for n in _stack_walk(root) if n.type == "identifier")
    for node in (root, body, root.named_children[-1], leaf):
        want = [(n.type, n.start_byte, n.end_byte) for n in _stack_walk(node)]
        assert [(n.type, n.start_byte, n.end_byte) for n in cparse.walk(node)] == want
    assert len(_stack_walk(body)) > 80


def test_the_node_list_is_the_tree_walk() -> None:
    root = Path(__file__).resolve().parents[1] / "fixtures" / "kernel"
    for path in sorted(root.rglob("*.c")):
        tree = cparse.parse_c(path.read_text()).root_node
        starts = [tree, *(fn.node for fn in cparse.functions(path.read_text()))]
        starts += [n for n in cparse.walk(tree) if n.child_count == 0][:3]  # leaves
        for node in starts:
            walked = [(n.type, n.start_byte, n.end_byte) for n in cparse.walk(node)]
            assert [(n.type, n.start_byte, n.end_byte) for n in cparse.nodes(node)] == walked


def test_a_hunk_header_is_the_first_line_of_the_hunk_as_written() -> None:
    diff = ("--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,3 @@ int main(void)\n a\n+b\n c\n"
            "@@ -10 +11,2 @@\n x\n+y\n")
    hunks = parse(diff).files[0].hunks
    assert [h.header for h in hunks] == ["@@ -1,2 +1,3 @@ int main(void)", "@@ -10 +11,2 @@"]
    assert [h.section for h in hunks] == ["int main(void)", ""]


def test_the_command_as_a_process_prints_what_it_prints_in_process(tmp_path: Path) -> None:
    """Run as the whole process (cycle collection paused, objects frozen at exit) and in process."""
    store = str(tmp_path / "store")
    assert main(["fetch", str(GOLDEN / "sample.mbox"), "--offline", "--store", store, "-q"]) == 0
    before = gc.get_threshold()
    env = {k: v for k, v in os.environ.items() if k != "REVIEWTOOL_STORE"}
    run = subprocess.run([sys.executable, "-m", "reviewtool", "check", "--store", store], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, env=env, check=False)
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr
    assert run.stdout == (GOLDEN / "sample.txt").read_text(encoding="utf-8")
    assert gc.get_threshold() == before and gc.isenabled()  # in-process calls leave the collector alone


def _reference_class(cls: type) -> type:
    """The class as plain `@dataclass(frozen=True)` makes it: generated eq, hash and repr."""
    fields = record.fields(cls)
    namespace: dict[str, Any] = {"__annotations__": {f.name: f.type for f in fields}, "__qualname__": cls.__qualname__,
                                 "__module__": cls.__module__}
    for f in fields:
        if f.default is not record.MISSING:
            namespace[f.name] = f.default
        elif f.default_factory is not record.MISSING:
            namespace[f.name] = dataclasses.field(default_factory=f.default_factory)
    made: type = dataclasses.dataclass(frozen=True)(type(cls.__name__, (), namespace))
    return made


def _as_reference(obj: Any, classes: dict[type, type]) -> Any:
    if record.is_record(obj) and not isinstance(obj, type):
        ref = classes.setdefault(type(obj), _reference_class(type(obj)))
        return ref(**{f.name: _as_reference(getattr(obj, f.name), classes) for f in record.fields(obj)})
    if isinstance(obj, tuple):
        return tuple(_as_reference(x, classes) for x in obj)
    return obj


def test_model_objects_compare_hash_and_print_as_generated_dataclasses_do(tmp_path: Path) -> None:
    from reviewtool import model
    from reviewtool.store import Store

    store = tmp_path / "store"
    assert main(["fetch", str(GOLDEN / "sample.mbox"), "--offline", "--store", str(store), "-q"]) == 0
    assert main(["check", "--store", str(store), "--json", "-q"]) in (0, 1)
    series = Store(store).find(None)
    check = model.from_json(model.CheckResult, Store(store).load_result(series.id, "check"))
    apply = model.ApplyResult("s", "v6.1", "a" * 40, model.BaseChoice("b" * 40, "guessed", "why"),
                              (model.PatchOutcome(1, "x", "conflict", ("f.c",), "d", "e", None,
                                                  (model.Hunk("f.c", "@@ -1 +1 @@", 1, 2),)),),
                              None, None, "/repo")
    objects: list[Any] = [series, *series.patches, *series.replies, check, *check.findings, *check.checklist,
                          *(e for f in check.findings for e in f.evidence), apply, apply.base, *apply.patches,
                          *apply.patches[0].failed_hunks, *(t for p in series.patches for t in p.in_body_trailers)]
    assert {type(o) for o in objects} >= {model.Series, model.Patch, model.Trailer, model.Finding, model.Evidence,
                                         model.ChecklistItem, model.CheckResult, model.ApplyResult, model.Hunk}
    classes: dict[type, type] = {}
    refs = [_as_reference(o, classes) for o in objects]
    for o, r in zip(objects, refs, strict=True):
        assert repr(o) == repr(r)
        if not isinstance(o, model.CheckResult):  # its timings are a dict: neither can be hashed
            assert hash(o) == hash(r)
        assert o == record.replace(o) and o != r and not (o == r)
    for a, b, ra, rb in zip(objects, objects[1:], refs, refs[1:], strict=False):
        assert (a == b) == (ra == rb)
    assert check.findings[0] != record.replace(check.findings[0], message="other")
    with pytest.raises(TypeError):
        hash(check)
    with pytest.raises(record.FrozenError):
        check.findings[0].message = "x"  # type: ignore[misc]


def test_the_c_grammar_read_from_the_binding_is_tree_sitter_cs_own() -> None:
    import tree_sitter
    import tree_sitter_c

    source = b"static int f(void)\n{\n\tvoid *p = kzalloc(8, GFP_KERNEL);\n\treturn p ? 0 : -ENOMEM;\n}\n"
    mine, theirs = tree_sitter.Language(cparse._c_language()), tree_sitter.Language(tree_sitter_c.language())
    assert (mine.abi_version, mine.node_kind_count, mine.field_count) == \
        (theirs.abi_version, theirs.node_kind_count, theirs.field_count)
    assert str(tree_sitter.Parser(mine).parse(source).root_node) == str(tree_sitter.Parser(theirs).parse(source).root_node)
    code = ("import sys\nfrom reviewtool.check import cparse\n"
            "print(cparse.parse_c('int f(void) { return 0; }').root_node.type, 'tree_sitter_c' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["translation_unit", "False"]
