"""Kconfig and conditional builds.

- KCONFIG-SELECT-DEPENDS: a new or changed `select`, `imply` or `depends on` line.
  `select` forces a symbol on without its own dependencies; a changed `depends on`
  can make an option disappear from configurations that had it.
- KCONFIG-IFDEF-NO-STUB: a header declares functions only under `#ifdef CONFIG_X` with
  no `#else` stub, and the series calls them from code that is built without CONFIG_X
  (as far as the Makefile, the file name and the surrounding #ifdefs tell).
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check import cparse
from reviewtool.check.analyzers import AnalyzerContext, Hit, evidence
from reviewtool.check.analyzers._cfunc import changed_code
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff
from reviewtool.check.patterns import lazy

SELECT = "KCONFIG-SELECT-DEPENDS"
STUB = "KCONFIG-IFDEF-NO-STUB"

_KCONFIG_LINE = rx.compile(r"^\s*(select|imply|depends\s+on)\s+(.+?)\s*(?:#.*)?$")
_CONFIG_ENTRY = lazy(r"^\s*(?:menu)?config\s+(\w+)")
_IFDEF = rx.compile(r"^\s*#\s*(?:ifdef\s+(CONFIG_\w+)|if\s+.*?\b(?:IS_ENABLED|IS_BUILTIN|defined)\s*\(\s*(CONFIG_\w+)\s*\))")
_PROTO = lazy(r"^(?!\s*(?:static|#|return|typedef)\b)[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\(")


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """New Kconfig dependencies, and #ifdef'd declarations without stubs."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind == "kconfig":
                hits.extend(_selects(pd, f))
    hits.extend(_stubs(ctx))
    return hits


def _selects(pd: PatchDiff, f: DiffFile) -> list[Hit]:
    hits = []
    for h in f.hunks:
        removed = {_norm(m.group(1), m.group(2)) for ln in h.removed() if (m := _KCONFIG_LINE.match(ln.text))}
        for i in changed_code(h):
            ln = h.lines[i]
            m = _KCONFIG_LINE.match(ln.text)
            if ln.kind != "+" or not m or _norm(m.group(1), m.group(2)) in removed:
                continue
            entry = next((c.group(1) for x in reversed(h.lines[:i]) if (c := _CONFIG_ENTRY().match(x.text))), None)
            what = rx.sub(r"\s+", " ", m.group(1))
            owner = f"{entry}: " if entry else ""
            before = [x.text.strip() for x in h.lines[:i] if x.kind == "-" and _KCONFIG_LINE.match(x.text)]
            was = f" (was `{before[-1]}`)" if before and what == "depends on" else ""
            if what == "select":
                msg = (f"{owner}new `select {m.group(2)}`: select turns {m.group(2)} on without checking "
                       f"its own dependencies.")
            elif what == "imply":
                msg = f"{owner}new `imply {m.group(2)}`."
            else:
                msg = f"{owner}`depends on {m.group(2)}`{was}: which configurations gain or lose this option?"
            start = next((k for k in range(i, -1, -1) if h.lines[k].kind == " " or k == 0), i)
            start = start + 1 if h.lines[start].kind == " " and start < i else start
            hits.append(Hit(SELECT, (evidence(pd.index, f.path, h, start, i),), msg))
    return hits


def _norm(kind: str, expr: str) -> str:
    return rx.sub(r"\s+", " ", f"{kind} {expr}").strip()


def _guarded_decls(h: DiffHunk) -> list[tuple[str, list[str], int, int]]:
    """(CONFIG_X, declared functions, first, last index) for added #ifdef blocks without #else."""
    out = []
    lines = h.lines
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = _IFDEF.match(ln.text) if ln.kind == "+" else None
        if not m:
            i += 1
            continue
        config = m.group(1) or m.group(2)
        depth, j, names, has_else = 0, i + 1, [], False
        while j < len(lines):
            t = lines[j].text
            if lines[j].kind == "-":
                j += 1
                continue
            if rx.match(r"^\s*#\s*if", t):
                depth += 1
            elif rx.match(r"^\s*#\s*endif", t):
                if depth == 0:
                    break
                depth -= 1
            elif rx.match(r"^\s*#\s*(?:else|elif)", t) and depth == 0:
                has_else = True
            elif depth == 0 and (p := _PROTO().match(t)) and not t.rstrip().endswith("{"):
                names.append(p.group(1))
            j += 1
        if j < len(lines) and not has_else and names:
            out.append((config, names, i, j))
        i = j + 1
    return out


def _stubs(ctx: AnalyzerContext) -> list[Hit]:
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind != "header":
                continue
            for h in f.hunks:
                for config, names, a, b in _guarded_decls(h):
                    callers = _unguarded_callers(ctx, config, names)
                    if not callers:
                        continue
                    where = ", ".join(f"{p}" for p in list(dict.fromkeys(c for c, _ in callers))[:3])
                    fn = callers[0][1]
                    hits.append(Hit(STUB, (evidence(pd.index, f.path, h, a, b),),
                                    f"{fn}() is declared only when {config} is set, with no #else stub, but "
                                    f"{where} calls it and is not built only for {config}."))
    return hits


def _unguarded_callers(ctx: AnalyzerContext, config: str, names: list[str]) -> list[tuple[str, str]]:
    calls = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\s*\(")
    out = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind != "c" or _built_only_for(ctx, f.path, config):
                continue
            for h in f.hunks:
                for i, ln in enumerate(h.lines):
                    m = calls.search(ln.text) if ln.kind == "+" else None
                    if m and not cparse.c_definition_name(ln.text) and not _inside_ifdef(h, i, config):
                        out.append((f.path, m.group(1)))
    return out


def _inside_ifdef(h: DiffHunk, i: int, config: str) -> bool:
    depth = 0
    for ln in reversed(h.lines[:i]):
        t = ln.text
        if ln.kind == "-":
            continue
        if rx.match(r"^\s*#\s*endif", t):
            depth += 1
        elif rx.match(r"^\s*#\s*if", t):
            if depth == 0 and config in t:
                return True
            depth = max(depth - 1, 0)
        elif f"IS_ENABLED({config})" in t:
            return True
    return False


def _built_only_for(ctx: AnalyzerContext, path: str, config: str) -> bool:
    """True when the directory's Makefile builds the file under the config, or its name says so."""
    directory, _, name = path.rpartition("/")
    obj = name.rsplit(".", 1)[0] + ".o"
    for side in ("post", "base"):
        text = ctx.image(f"{directory}/Makefile" if directory else "Makefile", side)
        if text is None:
            continue
        for line in text.split("\n"):
            if re.search(rf"(?<![\w-]){re.escape(obj)}\b", line):
                return f"$({config})" in line
    tokens = {t for t in config.removeprefix("CONFIG_").lower().split("_") if len(t) > 2}
    return any(t in name.lower() for t in tokens)
