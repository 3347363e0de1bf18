"""Load time versus reboot time: where can a new failure still be reported?

kexec_load() (and machine_kexec_prepare()/machine_kexec_post_load() under it) can fail
and tell userspace; machine_kexec() runs at reboot, after the load succeeded, and cannot
fail cleanly. New allocations or failure exits in reboot-time functions give
KEXEC-REBOOT-TIME-FAILURE; new failure exits in load-time functions give
KEXEC-LOAD-TIME-FAILURE, so the reviewer can ask whether the load fails cleanly or a
reboot-time fallback hides the failure.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, c_files, evidence
from reviewtool.check.analyzers import _tables as T
from reviewtool.check.analyzers._cfunc import changed_code, line_functions
from reviewtool.check.diff import DiffHunk, DiffLine
from reviewtool.check.patterns import lazy
from reviewtool.model import Evidence

REBOOT = "KEXEC-REBOOT-TIME-FAILURE"
LOAD = "KEXEC-LOAD-TIME-FAILURE"

_EXIT = lazy(r"^\s*(?:return\s+(?!0\s*;)(?P<value>[^;]+);|goto\s+(?P<label>\w+)\s*;|return\s*;)")
_CRASH_STOP = lazy(r"\b(?:BUG_ON|BUG|panic)\s*\(")
_CALL = rx.compile(r"\b([A-Za-z_]\w*)\s*\(")
_NOT_CALLS = frozenset({"if", "while", "for", "switch", "return", "sizeof", "unlikely", "likely", "WARN_ON",
                        "WARN_ON_ONCE", "IS_ERR", "IS_ERR_OR_NULL", "PTR_ERR", "typeof", "offsetof", "ARRAY_SIZE"})


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """New failure points in kexec load-time and reboot-time functions."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        groups: dict[tuple[str, str, str], list[tuple[Evidence, str]]] = {}
        for f in c_files(pd):
            image = ctx.image(f.path)
            for hunk in f.hunks:
                funcs = line_functions(f, hunk, image)
                for i in changed_code(hunk):
                    ln = hunk.lines[i]
                    fn = funcs[i]
                    if ln.kind != "+" or fn is None:
                        continue
                    if fn in T.REBOOT_TIME:
                        what = _reboot_point(ln.text)
                        if what:
                            groups.setdefault((REBOOT, f.path, fn), []).append(
                                (evidence(pd.index, f.path, hunk, i), what))
                    elif fn in T.LOAD_TIME and _EXIT().match(ln.text) and not ln.text.strip().startswith("return;"):
                        point = _failure_point(hunk, i)
                        if point is not None:
                            groups.setdefault((LOAD, f.path, fn), []).append(
                                (evidence(pd.index, f.path, hunk, point[0], i), point[1]))
        for (rule, _path, fn), items in groups.items():
            points = list(dict.fromkeys(w for _, w in items))
            evs = _merge([e for e, _ in items])
            if rule == REBOOT:
                msg = (f"{fn}() runs at reboot, after kexec_load() has succeeded; this patch adds "
                       f"{_join(points)} there, which cannot be reported to userspace.")
                q = (f"Can {_join(points)} move to machine_kexec_post_load() (load time), so that a "
                     "failure makes kexec_load fail instead of breaking the reboot?")
            else:
                msg = (f"New failure point{'s' if len(points) > 1 else ''} at load time in {fn}(): "
                       f"{_join(points)}; the error goes back to kexec_load().")
                calls = [p for p in points if p.endswith("()")]  # "If X fails" is asked of calls only
                what = f"If {_join(calls, 'or')} fails" if calls else "When this new error exit is taken"
                q = (f"{what}, does kexec_load fail cleanly (nothing left half set up), "
                     "or is there a fallback at reboot time that will never be tested?")
            hits.append(Hit(rule, evs, msg, question=q))
    return hits


def _reboot_point(text: str) -> str | None:
    m = T.first_call(text, T.is_allocator)
    if m:
        return f"{m.group(1)}()"
    m2 = _CRASH_STOP().search(text)
    if m2:
        return f"{m2.group(0).rstrip('( ')}()"
    m3 = _EXIT().match(text)
    if m3:
        return "an early return" if m3.group("value") is None else f"a failure exit (`{text.strip()}`)"
    return None


def _failure_point(hunk: DiffHunk, exit_idx: int) -> tuple[int, str] | None:
    """The first line and the name of what fails before the exit at `exit_idx`.

    Walks back to the `if (...)` that guards the exit, then to the statement before it
    (multi-line calls included) whose result the condition tests. An exit no `if` guards
    (`out: return rc;`, the function's common exit) is a failure point only when the value
    it returns was just set by a call; else None (its gotos are the failure points).
    """
    lines = hunk.lines
    live = [j for j in range(exit_idx) if lines[j].kind != "-"]
    if_idx = next((j for j in reversed(live[-4:]) if lines[j].text.strip().startswith(("if", "} else if"))), None)
    if if_idx is not None and not _guards(lines, if_idx, [j for j in live if j > if_idx]):
        if_idx = None
    if if_idx is None:
        return _returned_call(hunk, exit_idx, live)
    cond = " ".join(lines[j].text for j in range(if_idx, exit_idx) if lines[j].kind != "-")
    calls = [c for c in _CALL.findall(cond) if c not in _NOT_CALLS]
    if calls:
        return if_idx, f"{calls[0]}()"
    before = [j for j in live if j < if_idx and lines[j].text.strip()]
    if not before or not lines[before[-1]].text.rstrip().endswith(";"):
        return if_idx, f"`{cond.strip()}`"
    stmt = [before[-1]]
    for j in reversed(before[:-1]):
        t = lines[j].text.strip()
        if t.endswith((";", "{", "}", ":", "*/")) or t.startswith(("/*", "*", "//")) or len(stmt) >= 6:
            break
        stmt.insert(0, j)
    calls = [c for c in _CALL.findall(" ".join(lines[j].text for j in stmt)) if c not in _NOT_CALLS]
    if calls:
        return stmt[0], f"{calls[0]}()"
    return if_idx, f"`{cond.strip()}`"


_LABEL = lazy(r"^\s*[A-Za-z_]\w*:(?!:)")
_ASSIGNED_CALL = r"\b{var}\s*=\s*(?:\([^()]*\)\s*)?([A-Za-z_]\w*)\s*\("


def _guards(lines: tuple[DiffLine, ...], if_idx: int, between: list[int]) -> bool:
    """False when a label, a closed block or (for an `if` without a block) a statement comes between."""
    opened = "{" in lines[if_idx].text
    for j in between:
        code = lines[j].text.split("//", 1)[0].strip()
        if _LABEL().match(lines[j].text) or code.startswith("}"):
            return False
        opened = opened or "{" in code
        if code.endswith(";") and not opened:
            return False
    return True


def _returned_call(hunk: DiffHunk, exit_idx: int, live: list[int]) -> tuple[int, str] | None:
    """For an unguarded `return var;`: the call whose result was last stored in `var`, if it is in view."""
    m = rx.match(r"\s*return\s+([A-Za-z_]\w*)\s*;", hunk.lines[exit_idx].text)
    if m is None:
        return None
    assigned = re.compile(_ASSIGNED_CALL.format(var=re.escape(m.group(1))))
    for j in reversed(live):
        text = hunk.lines[j].text
        if _LABEL().match(text):
            return None  # other paths join here: what they stored is not in view
        got = assigned.search(text)
        if got and got.group(1) not in _NOT_CALLS:
            return j, f"{got.group(1)}()"
    return None


def _merge(evs: list[Evidence]) -> tuple[Evidence, ...]:
    """Drop evidence contained in an earlier piece (same file, overlapping lines)."""
    out: list[Evidence] = []
    for e in evs:
        if any(o.file == e.file and o.line is not None and e.line is not None
               and o.line <= e.line < o.line + len(o.lines) for o in out):
            continue
        out.append(e)
    return tuple(out)


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]
