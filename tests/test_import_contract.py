"""The layers import only downwards: the arrows that must never appear.

Every import counts: at top level, inside functions, and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "reviewtool"
CORE = {"model", "errors", "config", "diff", "__init__"}
FORBIDDEN = {
    ("report", "check"), ("report", "rebase"), ("report", "fetch"),
    ("check", "report"), ("check", "fetch"),
    ("rebase", "fetch"), ("fetch", "rebase"),
}
ABOVE_CORE = {"fetch", "rebase", "check", "report", "commands", "cli", "store", "history"}


def _layer(module: str) -> str:
    """reviewtool.check.engine -> check; reviewtool.model -> model; reviewtool -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    """Every reviewtool module that a file imports, wherever the import stands."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    here = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
    package = here if rel.name == "__init__" else here.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reviewtool"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod == "reviewtool" or mod.startswith("reviewtool."):
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names if mod == "reviewtool")
    return found


def _arrows() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        src = _layer(".".join(path.relative_to(PKG.parent).with_suffix("").parts))
        for mod in _imports(path):
            dst = _layer(mod)
            if dst != src:
                out.append((src, dst, str(path.relative_to(PKG.parent))))
    return out


def test_no_forbidden_import_between_layers() -> None:
    bad = [f"{where}: {src} -> {dst}" for src, dst, where in _arrows() if (src, dst) in FORBIDDEN]
    assert not bad, "\n".join(bad)


def test_the_core_imports_nothing_above_it() -> None:
    bad = [f"{where}: {src} -> {dst}" for src, dst, where in _arrows() if src in CORE and dst in ABOVE_CORE]
    assert not bad, "\n".join(bad)


def test_the_contract_sees_imports_in_functions_and_under_type_checking(tmp_path: Path) -> None:
    probe = PKG / "report" / "_contract_probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reviewtool.check import rules\n"
                     "def f() -> None:\n    from ..fetch import lore\n    import reviewtool.rebase.apply\n")
    try:
        found = {(s, d) for s, d, w in _arrows() if w.endswith("_contract_probe.py")}
    finally:
        probe.unlink()
    assert found == {("report", "check"), ("report", "fetch"), ("report", "rebase")}
