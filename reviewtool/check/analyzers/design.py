"""Design questions: what a maintainer asks about the approach before the details.

- DESIGN-NEW-KNOB: a new boot or module parameter, a new user-visible Kconfig option, or
  an option made visible (its `depends on EXPERT` dropped): can the kernel decide itself?
- DESIGN-EXPORT-NO-USER: a new EXPORT_SYMBOL*() whose symbol no other file of the series uses.
- DESIGN-REVERT: a patch that reverts an earlier commit.
- DESIGN-ASSERTION-SOFTENED: a BUG_ON()/BUG()/VM_BUG_ON() removed, or turned into a warning.
- DESIGN-LOG-LEVEL: an existing message's log level lowered, or messages removed.
- DESIGN-GENERIC-CODE: an architecture's series that changes generic code.
- DESIGN-REPEATED-CODE: the same lines added in several places of the series.
- DESIGN-LARGE-PATCH: one patch with many changed lines over several files.
"""

from __future__ import annotations

import re
from collections import defaultdict

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, SeriesLines, evidence, norm_line, series_lines
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff

KNOB = "DESIGN-NEW-KNOB"
EXPORT = "DESIGN-EXPORT-NO-USER"
REVERT = "DESIGN-REVERT"
ASSERT = "DESIGN-ASSERTION-SOFTENED"
LOGLEVEL = "DESIGN-LOG-LEVEL"
GENERIC = "DESIGN-GENERIC-CODE"
REPEATED = "DESIGN-REPEATED-CODE"
LARGE = "DESIGN-LARGE-PATCH"

_PARAM = rx.compile(r"\b(?:early_param|__setup|core_param|module_param(?:_named|_array|_cb)?)\s*\(")
_PROMPT = rx.compile(r"^\s*(?:bool|tristate|int|hex|string)\s+\"|^\s*prompt\s+\"")
_CONFIG = rx.compile(r"^\s*(?:menu)?config\s+(\w+)")
_EXPERT = rx.compile(r"^\s*(?:depends\s+on\s+.*\bEXPERT\b|(?:bool|tristate)\s+\".*\"\s+if\s+.*\bEXPERT\b)")
_EXPORT = rx.compile(r"^\s*EXPORT_SYMBOL(?:_GPL|_NS|_NS_GPL)?\s*\(\s*(\w+)")
_ASSERT = rx.compile(r"\b(?:BUG_ON|VM_BUG_ON\w*|BUG)\s*\(")
_WARN = rx.compile(r"\b(?:WARN\w*|pr_warn\w*|pr_err\w*|dev_warn\w*)\s*\(")
_LEVELS = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")
_PRINT = rx.compile(r"\b(?:pr|dev)_(emerg|alert|crit|err|warn|warning|notice|info|debug|dbg)\w*\s*\((?:[^\"]*?,\s*)?"
                    r"(\"[^\"]*\")")
_GENERIC_PATH = rx.compile(r"^(?:mm|kernel|lib|init|fs|block|include/linux|include/asm-generic|drivers/base)/")
_ARCH_PATH = rx.compile(r"^arch/([^/]+)/")
_TRIVIAL = rx.compile(r"^[\s{}();,]*$|^\s*(?:return\b[^;]*;|break;|continue;|else\b.*|#\s*(?:endif|else)\b.*|"
                      r"goto\s+\w+;|\}?\s*while.*)$")
_MIN_REPEAT = 3  # copies of a line, or of a run of lines, that make it "repeated"
_LARGE_LINES = 250
_LARGE_FILES = 3


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Design questions over the whole series."""
    hits: list[Hit] = []
    lines = ctx.shared(series_lines)
    diffs = list(ctx.kernel_diffs())
    arch_series = _arch_of_series(diffs)
    for pd in diffs:
        hits.extend(_revert(pd))
        hits.extend(_large(pd, lines))
        if arch_series:
            hits.extend(_generic(pd, arch_series))
        for f in pd.files:
            if f.path.endswith("Kconfig") or "/Kconfig" in f.path:
                hits.extend(_kconfig_knob(pd.index, f))
                continue
            if f.kind not in ("c", "header"):
                continue
            for h in f.hunks:
                hits.extend(_param_knob(pd.index, f, h, lines))
                hits.extend(_assertion(pd.index, f, h, lines))
                hits.extend(_log_level(pd.index, f, h))
    hits.extend(_exports(diffs))
    hits.extend(_repeated(diffs))
    return hits


# --- knobs ---------------------------------------------------------------------------------

def _param_knob(index: int, f: DiffFile, h: DiffHunk, lines: SeriesLines) -> list[Hit]:
    out = []
    for i, ln in enumerate(h.lines):
        if ln.kind == "+" and _PARAM.search(ln.text) and not lines.moved("+", ln.text):
            out.append(Hit(KNOB, (evidence(index, f.path, h, i),), "A new boot or module parameter is added."))
    return out


def _kconfig_knob(index: int, f: DiffFile) -> list[Hit]:
    for h in f.hunks:
        current_new = False
        for i, ln in enumerate(h.lines):
            m = _CONFIG.match(ln.text)
            if m:
                current_new = ln.kind == "+"
            if ln.kind == "+" and current_new and _PROMPT.match(ln.text):
                return [Hit(KNOB, (evidence(index, f.path, h, max(0, i - 1), i),),
                            "A new user-visible Kconfig option is added.")]
            if ln.kind == "-" and _EXPERT.match(ln.text) and not any(
                    x.kind == "+" and "EXPERT" in x.text for x in h.lines):
                return [Hit(KNOB, (evidence(index, f.path, h, i),),
                            "An option that only experts could change becomes a choice for everyone.")]
    return []


# --- exports -------------------------------------------------------------------------------

def _exports(diffs: list[PatchDiff]) -> list[Hit]:
    exported: list[tuple[str, int, DiffFile, DiffHunk, int]] = []
    for pd in diffs:
        for f in pd.files:
            for h in f.hunks:
                for i, ln in enumerate(h.lines):
                    m = _EXPORT.match(ln.text) if ln.kind == "+" else None
                    if m:
                        exported.append((m.group(1), pd.index, f, h, i))
    if not exported:
        return []
    out = []
    for name, index, f, h, i in exported:
        word = re.compile(rf"\b{re.escape(name)}\b")
        used = any(g.path != f.path and not g.path.endswith(".h") and any(
            word.search(ln.text) for hh in g.hunks for ln in hh.lines if ln.kind != "-")
            for pd in diffs for g in pd.files)
        if not used:
            out.append(Hit(EXPORT, (evidence(index, f.path, h, i),),
                           f"`{name}` is exported, and no other file of the series uses it."))
    return out


# --- reverts, assertions, messages -------------------------------------------------------------

def _revert(pd: PatchDiff) -> list[Hit]:
    p = pd.patch
    if not (rx.search(r"\brevert\b", p.subject, re.I) or rx.search(r"^This reverts commit\b", p.message, re.M)):
        return []
    from reviewtool.model import Evidence

    return [Hit(REVERT, (Evidence(pd.index, None, None, (f"Subject: {p.full_subject or p.subject}",)),),
                "The patch reverts an earlier change.")]


def _assertion(index: int, f: DiffFile, h: DiffHunk, lines: SeriesLines) -> list[Hit]:
    removed = [i for i, ln in enumerate(h.lines) if ln.kind == "-" and _ASSERT.search(ln.text)
               and not ln.text.lstrip().startswith(("*", "/*", "//")) and not lines.moved("-", ln.text)]
    if not removed or any(ln.kind == "+" and _ASSERT.search(ln.text) for ln in h.lines):
        return []
    warned = any(ln.kind == "+" and _WARN.search(ln.text) for ln in h.lines)
    what = "turned into a warning" if warned else "removed"
    return [Hit(ASSERT, tuple(evidence(index, f.path, h, i) for i in removed[:4]), f"An assertion is {what}.")]


def _log_level(index: int, f: DiffFile, h: DiffHunk) -> list[Hit]:
    old: dict[str, tuple[str, int]] = {}
    for i, ln in enumerate(h.lines):
        m = _PRINT.search(ln.text) if ln.kind == "-" else None
        if m:
            old[m.group(2)] = (m.group(1), i)
    out = []
    for i, ln in enumerate(h.lines):
        m = _PRINT.search(ln.text) if ln.kind == "+" else None
        if m and m.group(2) in old:
            before, j = old[m.group(2)]
            if _rank(m.group(1)) > _rank(before):
                out.append(Hit(LOGLEVEL, (evidence(index, f.path, h, j, i),),
                               f"A message moves from pr_{before} to pr_{m.group(1)}: fewer people will see it."))
    return out


def _rank(level: str) -> int:
    level = {"warning": "warn", "dbg": "debug"}.get(level, level)
    return _LEVELS.index(level) if level in _LEVELS else 0


# --- generic code, repeated code, size -----------------------------------------------------------

def _arch_of_series(diffs: list[PatchDiff]) -> str | None:
    """The one architecture the series is about (its patches touch arch/<x>/ and no other arch)."""
    arches = {m.group(1) for pd in diffs for f in pd.files if (m := _ARCH_PATH.match(f.path))}
    return next(iter(arches)) if len(arches) == 1 else None


def _generic(pd: PatchDiff, arch: str) -> list[Hit]:
    out = []
    for f in pd.files:
        if not _GENERIC_PATH.match(f.path) or f.kind not in ("c", "header"):
            continue
        for h in f.hunks:
            run = [i for i, ln in enumerate(h.lines) if ln.kind != " " and ln.text.strip()
                   and not ln.text.strip().startswith(("/*", "*", "//", "#include"))]
            if len(run) >= 2:
                out.append(Hit(GENERIC, (evidence(pd.index, f.path, h, run[0], run[min(len(run), 6) - 1]),),
                               f"A series for {arch} changes generic code ({f.path})."))
                break
        if out:
            break
    return out


def _repeated(diffs: list[PatchDiff]) -> list[Hit]:
    """Runs of two or more added lines that appear, the same, three times or more in the series."""
    where: dict[tuple[str, str], list[tuple[int, DiffFile, DiffHunk, int]]] = defaultdict(list)
    for pd in diffs:
        for f in pd.files:
            if f.kind not in ("c", "header"):
                continue
            for h in f.hunks:
                ls = h.lines
                for i in range(len(ls) - 1):
                    a, b = ls[i], ls[i + 1]
                    if a.kind == "+" and b.kind == "+" and _meaningful(a.text) and _meaningful(b.text):
                        where[(norm_line(a.text), norm_line(b.text))].append((pd.index, f, h, i))
    out = []
    for places in where.values():
        spots = {(p, f.path, h.number, i) for p, f, h, i in places}
        if len(spots) >= _MIN_REPEAT:
            ev = tuple(evidence(p, f.path, h, i, i + 1) for p, f, h, i in places[:4])
            out.append(Hit(REPEATED, ev, f"The same lines are added {len(spots)} times in the series."))
            break
    return out


def _meaningful(text: str) -> bool:
    t = text.strip()
    return len(t) >= 12 and not _TRIVIAL.match(t) and not t.startswith(("/*", "*", "//"))


def _large(pd: PatchDiff, lines: SeriesLines) -> list[Hit]:
    changed = 0
    files = []
    for f in pd.files:
        if f.kind not in ("c", "header", "asm"):
            continue
        n = sum(1 for h in f.hunks for ln in h.lines if ln.kind != " " and _meaningful(ln.text)
                and not lines.moved(ln.kind, ln.text))
        if n:
            files.append((f, n))
            changed += n
    if changed < _LARGE_LINES or len(files) < _LARGE_FILES:
        return []
    ev = []
    for f, _ in sorted(files, key=lambda x: -x[1])[:3]:
        h = f.hunks[0]
        first = next((i for i, ln in enumerate(h.lines) if ln.kind != " "), 0)
        ev.append(evidence(pd.index, f.path, h, first))
    return [Hit(LARGE, tuple(ev), f"{changed} changed lines over {len(files)} files in one patch.")]
