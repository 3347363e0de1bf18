"""The kdump path: changes that run after a panic, or that cost a crash kernel load.

KEXEC-CRASH-PATH-CHANGE: code changed in functions reachable from
machine_crash_shutdown()/__crash_kexec() (machine_kexec() included: it starts the crash
kernel too), in vmcore/elfcorehdr code, or lines that name the crash image.
KEXEC-CRASH-LOAD-WORK: new allocations or page-table work at load time
(machine_kexec_post_load() and friends) that nothing skips for crash loads
(`kimage->type == KEXEC_TYPE_CRASH`); an `IND_DONE` (in-place) early return is
reported with the question, since it only skips crash loads by implication.
"""

from __future__ import annotations

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, c_files, evidence
from reviewtool.check.analyzers import _tables as T
from reviewtool.check.analyzers._cfunc import changed_code, line_functions
from reviewtool.check.analyzers.alloc import series_wrappers
from reviewtool.check.diff import DiffHunk
from reviewtool.check.patterns import lazy
from reviewtool.model import Evidence

PATH_CHANGE = "KEXEC-CRASH-PATH-CHANGE"
LOAD_WORK = "KEXEC-CRASH-LOAD-WORK"

_MAX_PIECES = 4
_CALL = lazy(r"\b[A-Za-z_]\w*\s*\(")
_CRASH_GUARD = lazy(r"\b(?:KEXEC_TYPE_CRASH|kexec_crash_image|in_kexec_crash|KEXEC_ON_CRASH)\b")
_INPLACE_GUARD = lazy(r"\bIND_DONE\b")
_LOAD_WORK_FUNCS = frozenset({"machine_kexec_post_load", "machine_kexec_prepare", "arch_kexec_kernel_image_load",
                              "kimage_alloc_init", "do_kexec_load"})
_PAGE_TABLE = lazy(r"\b(?:trans_pgd_\w+|create_\w*mapping\w*|pgd_alloc|__create_pgd_mapping|"
                         r"kexec_alloc_pgtable\w*|init_pgtable|map_kernel)\s*\(")


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Changes on the crash path, and load-time work not skipped for crash loads."""
    wrappers = ctx.shared(series_wrappers)
    allocators = T.POINTER_ALLOCATORS | wrappers
    guards = _guards_in_series(ctx)
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        pieces: list[Evidence] = []
        where: list[str] = []
        for f in c_files(pd):
            image = ctx.image(f.path)
            for hunk in f.hunks:
                funcs = line_functions(f, hunk, image)
                picked = [i for i in changed_code(hunk) if _on_crash_path(f.path, funcs[i], hunk.lines[i].text)
                          and not _inert(hunk.lines[i].text)]
                for run in _runs(picked):
                    pieces.append(evidence(pd.index, f.path, hunk, run[0], run[-1]))
                    name = funcs[run[0]]
                    where.append(f"{name}()" if name else f.path.rsplit("/", 1)[-1])
                hits.extend(_load_work(pd.index, f.path, hunk, funcs, allocators, guards))
        if pieces:
            names = list(dict.fromkeys(where))
            msg = (f"Changes code on the kdump path: {', '.join(names[:5])}"
                   + (" (machine_kexec() also starts the crash kernel, from __crash_kexec())"
                      if "machine_kexec()" in names else "") + ".")
            hits.append(Hit(PATH_CHANGE, tuple(pieces[:_MAX_PIECES]), msg))
    return hits


_INERT_PREPROCESSOR = lazy(r"^\s*#\s*(?:if|ifdef|ifndef|elif|else|endif|include)\b")
_DECLARATION = lazy(r"^\s*(?!(?:return|goto|break|continue|case|else|do)\b)(?:(?:const|static|volatile|unsigned|signed|"
                    r"struct|union|enum)\s+)*[A-Za-z_]\w*[\s*]+[A-Za-z_]\w*(?:\s*\[[^\]]*\])?"
                    r"(?:\s*=\s*[^;(]+)?(?:\s*,\s*\**\s*[A-Za-z_]\w*(?:\s*\[[^\]]*\])?(?:\s*=\s*[^;(,]+)?)*\s*;\s*$")


def _inert(text: str) -> bool:
    """Lines that change nothing that runs: preprocessor conditionals and includes, and
    declarations without a call (a variable declared, or an unused one removed)."""
    return bool(_INERT_PREPROCESSOR().match(text) or _DECLARATION().match(text))


def _on_crash_path(path: str, function: str | None, text: str) -> bool:
    if T.CRASH_WORDS.search(text) or T.CRASH_FILES.match(path):
        return True
    if function in T.CRASH_FUNCTIONS:
        return True
    # machine_kexec() runs for kexec reboot and for kdump: new or removed work there
    return function == "machine_kexec" and bool(_CALL().search(text))


def _runs(idxs: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in idxs:
        if runs and i - runs[-1][-1] <= 2:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _guards_in_series(ctx: AnalyzerContext) -> dict[tuple[str, str], list[tuple[int, str, str]]]:
    """Early returns for crash or in-place loads, per (path, function): (patch, kind, line)."""
    out: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for pd in ctx.kernel_diffs():
        for f in c_files(pd):
            image = ctx.image(f.path)
            for hunk in f.hunks:
                funcs = line_functions(f, hunk, image)
                for i, ln in enumerate(hunk.lines):
                    if ln.kind == "-" or funcs[i] not in _LOAD_WORK_FUNCS:
                        continue
                    kind = _guard_kind(hunk, i)
                    if kind:
                        out.setdefault((f.path, funcs[i] or ""), []).append((pd.index, kind, ln.text.strip()))
    return out


def _guard_kind(hunk: DiffHunk, i: int) -> str | None:
    """'crash' or 'inplace' when line i is an `if` that returns early for such loads."""
    text = hunk.lines[i].text
    if not rx.match(r"\s*(?:\}\s*else\s+)?if\s*\(", text):
        return None
    follow = " ".join(ln.text for ln in hunk.lines[i:i + 6] if ln.kind != "-")
    cond = text
    if _CRASH_GUARD().search(cond) and ("return" in follow or "!=" in cond):
        return "crash"
    if _INPLACE_GUARD().search(cond) and "return" in follow:
        return "inplace"
    return None


def _with_check(hunk: DiffHunk, last: int) -> int:
    """Extend a run of work lines over the rest of its statement and the check that follows it."""
    i = last
    while i + 1 < len(hunk.lines) and not hunk.lines[i].text.rstrip().endswith((";", "{", "}")):
        i += 1
    nxt = i + 1
    if nxt < len(hunk.lines) and hunk.lines[nxt].kind != "-" and rx.match(r"\s*if\s*\(", hunk.lines[nxt].text):
        end = nxt
        while end + 1 < len(hunk.lines) and end - nxt < 3 and hunk.lines[end].kind != "-" \
                and not hunk.lines[end].text.rstrip().endswith(";"):
            end += 1
        return end
    return i


def _load_work(index: int, path: str, hunk: DiffHunk, funcs: list[str | None], allocators: frozenset[str],
               guards: dict[tuple[str, str], list[tuple[int, str, str]]]) -> list[Hit]:
    work = [i for i in changed_code(hunk)
            if hunk.lines[i].kind == "+" and funcs[i] in _LOAD_WORK_FUNCS
            and (T.first_call(hunk.lines[i].text, allocators) or _PAGE_TABLE().search(hunk.lines[i].text))]
    if not work:
        return []
    fn = funcs[work[0]] or ""
    known = [g for g in guards.get((path, fn), []) if g[0] <= index]
    crash = next((g for g in known if g[1] == "crash"), None)
    inplace = next((g for g in known if g[1] == "inplace"), None)
    calls = list(dict.fromkeys(m.group(0).rstrip("( ") + "()" for i in work
                               for m in [T.first_call(hunk.lines[i].text, allocators)
                                         or _PAGE_TABLE().search(hunk.lines[i].text)]
                               if m))
    evs = tuple(evidence(index, path, hunk, run[0], _with_check(hunk, run[-1])) for run in _runs(work))
    what = " and ".join(calls[:4])
    if crash is not None:
        return []  # visibly skipped for crash loads
    if inplace is not None:
        verb = "run" if len(calls) > 1 else "runs"
        msg = (f"{fn}(): {what} {verb} for every load that is not in place; crash loads are skipped only "
               f"through `{inplace[2]}` (a crash kernel is loaded in place).")
        q = (f"{'Are' if len(calls) > 1 else 'Is'} {what} skipped for every crash kernel load "
             "(kimage->type == KEXEC_TYPE_CRASH), so that kdump does not pay for it and the reserved memory "
             "stays intact?")
        return [Hit(LOAD_WORK, evs, msg, question=q)]
    msg = f"{fn}(): {what} also runs when a crash kernel is loaded: nothing skips it for KEXEC_TYPE_CRASH."
    q = f"Is {what} needed for a crash kernel load, or should it be skipped for kdump?"
    return [Hit(LOAD_WORK, evs, msg, question=q)]
