"""arm64 assembly: barriers, relocation sections, symbol pairing, asm-offsets.

- ARM64-SCTLR-ISB: `msr sctlr_elN` not followed by an `isb` (or `eret`) before an indirect
  branch or within the next eight straight-line instructions.
- ARM64-TLBI-BARRIERS: `tlbi` without a following `dsb`, or without an `isb` after that
  `dsb` before a branch (`br`, `blr`) to code that relies on it.
- ARM64-CACHE-MAINT-DSB: `dc`/`ic` maintenance (or `dcache_by_myline_op`) with no `dsb`
  after it in the same routine.
- ARM64-RELOC-CALL-OUT: `bl`/`b` from code that is copied and run elsewhere
  (`.kexec_relocate.text`, `.hibernate_exit.text`, relocate_kernel.S) to a symbol not
  defined beside it.
- ARM64-SYM-PAIRING: `SYM_CODE_START` closed by `SYM_FUNC_END` (or the reverse), or a
  START/END whose partner the patch removed.
- ARM64-ASM-OFFSETS-SYNC: an asm-offsets DEFINE used, or a struct member relied on,
  before the patch that adds it; or a member removed while its offset is still defined.

The window after an instruction comes from the post-image when it is known, else from
the hunk; when neither shows enough code, nothing is reported.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, evidence
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff, locate_hunk
from reviewtool.check.patterns import lazy
from reviewtool.model import Evidence
from reviewtool.record import NamedTuple

SCTLR = "ARM64-SCTLR-ISB"
TLBI = "ARM64-TLBI-BARRIERS"
CACHE = "ARM64-CACHE-MAINT-DSB"
CALL_OUT = "ARM64-RELOC-CALL-OUT"
PAIRING = "ARM64-SYM-PAIRING"
OFFSETS = "ARM64-ASM-OFFSETS-SYNC"

_INSN = rx.compile(r"^\s*(?:[\w.$]+:\s*)*([a-z][\w.]*)\b\s*(.*)$")
_SYM = rx.compile(r"^\s*SYM_(CODE|FUNC|TYPED_FUNC|DATA|INNER_LABEL)_(START|END)\w*\s*\(\s*(\\?[\w.$]+)")
# Code that is copied and run from another page: nothing outside it is there to call.
_RELOC_SECTION = lazy(r"\.(?:pushsection|section)\s+\"?(\.kexec_relocate\.text|\.hibernate_exit\.text)")
_SECTION_END = lazy(r"^\s*(?:\.(?:popsection|section|text|previous)\b|__(?:INIT|HEAD|FINIT|IDMAP_TEXT)\b)")
_RELOC_FILES = {"arch/arm64/kernel/relocate_kernel.S": ".kexec_relocate.text"}
_DEFINE = rx.compile(r"DEFINE\(\s*(\w+)\s*,\s*offsetof\(\s*struct\s+(\w+)\s*,\s*([\w.\[\]]+)\s*\)")
_MEMBER = rx.compile(r"^\s+(?:const\s+|unsigned\s+|struct\s+\w+\s+)*[A-Za-z_]\w*[\s*]+\**([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*;")
_ASM_USE = rx.compile(r"#\s*([A-Z][A-Z0-9_]{3,})\b")
_ENDS = frozenset({"ret", "eret", "br", "hvc", "smc"})


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Barrier, section, pairing and asm-offsets checks on arm64 assembly."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.status == "deleted" or not f.hunks or not _is_arm64_asm(f):
                continue
            image = ctx.image(f.path)
            rows = image.split("\n") if image is not None else None
            for hunk in f.hunks:
                hits.extend(_barriers(pd, f, hunk, rows))
                hits.extend(_call_out(pd, f, hunk, rows))
            hits.extend(_pairing(pd, f, rows))
    hits.extend(_offsets(ctx))
    return hits


def _is_arm64_asm(f: DiffFile) -> bool:
    if f.kind == "asm":
        return "arm64" in f.path or f.path.startswith(("arch/arm64", "kexec/arch/arm64"))
    return f.kind == "header" and f.path.endswith(("asm/assembler.h", "asm/el2_setup.h", "asm/asm-uaccess.h"))


def _clean(text: str) -> str:
    return rx.sub(r"//.*$|/\*.*?\*/", "", text).strip()


def _insn(text: str) -> tuple[str, str]:
    m = _INSN.match(_clean(text))
    return (m.group(1), m.group(2)) if m else ("", "")


def _following(hunk: DiffHunk, i: int, rows: list[str] | None, want: int) -> tuple[list[str], bool] | None:
    """The new-side code after hunk line i, and whether it runs to the end of the file.

    From the hunk when it shows `want` instructions or the end of the routine, else from
    the post-image when the hunk can be located in it; None when neither shows enough.
    """
    after = [ln.text for ln in hunk.lines[i + 1:] if ln.kind != "-"]
    ops, closed = _window(after, want)
    if closed or len(ops) >= want:
        return after, False
    new_no = hunk.lines[i].new_no
    if rows is not None and new_no is not None:
        off = locate_hunk(hunk, rows)
        if off is not None:
            return rows[new_no + off:], True
    return None


def _window(lines: list[str], limit: int) -> tuple[list[tuple[str, str]], bool]:
    """Up to `limit` instructions, stopping after a return/branch-away or at the routine's end.

    The flag is True when the window closed (end of routine, return, or limit) rather
    than running out of text.
    """
    out: list[tuple[str, str]] = []
    for t in lines:
        if rx.match(r"^\s*\.endm\b", t):
            return out, False  # the end of a macro: its user decides what follows
        if _SYM.match(t) and "_END" in t:
            return out, True
        op, args = _insn(t)
        if not op or op.startswith("."):
            continue
        out.append((op, args))
        if op in _ENDS or len(out) >= limit:
            return out, True
    return out, False


def _lacks_sync(after: list[str]) -> bool:
    """True when straight-line code after an SCTLR write runs on without isb (or eret).

    A branch, a return or the end of a macro before that leaves it to code not shown: no verdict.
    """
    ops, closed = _window(after, 8)
    for o, _ in ops:
        if o in ("isb", "eret"):
            return False
        if o in ("br", "blr"):
            return True  # jumps away (to the next image?) with the change unsynchronised
        if o in ("b", "bl", "ret", "hvc", "smc") or o.startswith(("b.", "cb", "tb", "alternative")):
            return False
    return closed and len(ops) >= 8


def _touched(hunk: DiffHunk, i: int, span: int = 4) -> bool:
    """True when line i is added, or a changed line lies within `span` lines after it."""
    if hunk.lines[i].kind == "+":
        return True
    return any(ln.kind != " " for ln in hunk.lines[i + 1:i + 1 + span])


def _barriers(pd: PatchDiff, f: DiffFile, hunk: DiffHunk, rows: list[str] | None) -> list[Hit]:
    hits: list[Hit] = []
    for i, ln in enumerate(hunk.lines):
        if ln.kind == "-":
            continue
        op, args = _insn(ln.text)
        if op == "msr" and rx.match(r"sctlr_el[12]\b", args) and _touched(hunk, i):
            got = _following(hunk, i, rows, 8)
            if got is not None and _lacks_sync(got[0]):
                hits.append(Hit(SCTLR, (evidence(pd.index, f.path, hunk, i, min(i + 2, len(hunk.lines) - 1)),),
                                f"`{_clean(ln.text)}` is not followed by an `isb`: the MMU/cache change "
                                "is not synchronised before the next instructions run."))
        elif op == "tlbi" and ln.kind == "+":
            got = _following(hunk, i, rows, 6)
            if got is None:
                continue
            win, closed = _window(got[0], 12)
            if not closed:
                continue
            dsb = next((k for k, (o, _) in enumerate(win) if o == "dsb"), None)
            problem = None
            if dsb is None:
                problem = "no `dsb` after it, so the invalidation may not be complete"
            else:
                rest = win[dsb + 1:]
                jump = next((k for k, (o, _) in enumerate(rest) if o in ("br", "blr")), None)
                if jump is not None and not any(o in ("isb", "eret") for o, _ in rest[:jump]):
                    problem = "no `isb` after its `dsb` before the branch that relies on it"
            if problem:
                hits.append(Hit(TLBI, (evidence(pd.index, f.path, hunk, i, min(i + 3, len(hunk.lines) - 1)),),
                                f"`{_clean(ln.text)}`: {problem}."))
        elif ln.kind == "+" and ((op in ("dc", "ic") and not rx.match(r"g?z?va\b|gva\b|\\", args))
                                 or op in ("dcache_by_myline_op", "__dcache_op_workaround_clean_cache")):
            got = _following(hunk, i, rows, 12)
            if got is None:
                continue
            win, closed = _window(got[0], 40)
            if not closed:
                continue  # the routine goes on past what is shown, or a macro leaves it to its user
            if not any(o == "dsb" for o, _ in win):
                hits.append(Hit(CACHE, (evidence(pd.index, f.path, hunk, i),),
                                f"`{_clean(ln.text)}` has no `dsb` after it in this routine: the maintenance "
                                "may not have completed when the next step relies on it."))
    return hits


def _reloc_section(f: DiffFile, hunk: DiffHunk, i: int, rows: list[str] | None) -> str | None:
    """The relocation/idmap section hunk line i is in, if any."""
    before: list[str] = []
    new_no = hunk.lines[i].new_no
    if rows is not None and new_no is not None:
        off = locate_hunk(hunk, rows)
        if off is not None:
            before = rows[:new_no + off - 1]
    if not before:
        before = [ln.text for ln in hunk.lines[:i] if ln.kind != "-"]
    for t in reversed(before):
        m = _RELOC_SECTION().search(t)
        if m:
            return m.group(1)
        if _SECTION_END().match(t):
            return None
    return _RELOC_FILES.get(f.path)


def _defined(f: DiffFile, rows: list[str] | None) -> set[str]:
    texts = rows if rows is not None else [ln.text for h in f.hunks for ln in h.lines if ln.kind != "-"]
    names = set()
    for t in texts:
        m = _SYM.match(t) or rx.match(r"^\s*([A-Za-z_][\w.$]*):", t)
        if m:
            names.add(m.group(m.lastindex or 1))
        m2 = rx.match(r"^\s*\.macro\s+(\w+)", t)
        if m2:
            names.add(m2.group(1))
    return names


def _call_out(pd: PatchDiff, f: DiffFile, hunk: DiffHunk, rows: list[str] | None) -> list[Hit]:
    hits: list[Hit] = []
    defined: set[str] | None = None
    for i, ln in enumerate(hunk.lines):
        if ln.kind != "+":
            continue
        op, args = _insn(ln.text)
        if op not in ("bl", "b") and not op.startswith("b."):
            continue
        target = args.split(",")[-1].strip()
        if not rx.fullmatch(r"[A-Za-z_][\w$]*", target) or target.startswith(".L"):
            continue
        section = _reloc_section(f, hunk, i, rows)
        if section is None:
            continue
        if defined is None:
            defined = _defined(f, rows)
        if target in defined:
            continue
        hits.append(Hit(CALL_OUT, (evidence(pd.index, f.path, hunk, i),),
                        f"`{_clean(ln.text)}` in {section} code branches to `{target}`, which is not defined "
                        "beside it: is it mapped (idmapped or copied) when this code runs?"))
    return hits


class _SymEvent(NamedTuple):
    """A SYM_*_START/END line of an assembly file in a patch."""

    kind: str  # "START" | "END"
    family: str  # FUNC, CODE, DATA, ...
    side: str  # the diff line's kind: "+", "-" or " "
    hunk: DiffHunk
    i: int  # the line's index in the hunk


class _Site(NamedTuple):
    """A line of a patch: the patch, the file, the hunk and the line's index in it."""

    patch: int
    path: str
    hunk: DiffHunk
    i: int

    def evidence(self) -> Evidence:
        return evidence(self.patch, self.path, self.hunk, self.i)


class _Define(NamedTuple):
    """An asm-offsets DEFINE the series adds: where, and the struct member it takes."""

    site: _Site
    field: str


def _pairing(pd: PatchDiff, f: DiffFile, rows: list[str] | None) -> list[Hit]:
    """START/END families must match; a patch must not leave one without the other."""
    if f.kind != "asm":
        return []
    hits: list[Hit] = []
    events: dict[str, list[_SymEvent]] = {}  # symbol name -> its START/END lines
    for h in f.hunks:
        for i, ln in enumerate(h.lines):
            m = _SYM.match(ln.text)
            if m and m.group(1) != "INNER_LABEL":
                events.setdefault(m.group(3), []).append(_SymEvent(m.group(2), m.group(1), ln.kind, h, i))
    full = rows if rows is not None else ([ln.text for ln in f.hunks[0].lines if ln.kind != "-"]
                                          if f.status == "added" else None)
    for name, evs in events.items():
        new = [e for e in evs if e.side != "-"]
        starts = [e for e in new if e.kind == "START"]
        ends = [e for e in new if e.kind == "END"]
        changed = [e for e in evs if e.side != " "]
        if not changed:
            continue
        problem = None
        fam = {"TYPED_FUNC": "FUNC"}
        if starts and ends and not ({fam.get(e.family, e.family) for e in starts}
                                    & {fam.get(e.family, e.family) for e in ends}):
            problem = f"SYM_{starts[0].family}_START({name}) is closed by SYM_{ends[-1].family}_END({name})"
        elif full is not None:
            text = "\n".join(full)
            has_start = re.search(rf"SYM_\w+_START\w*\(\s*{re.escape(name)}\s*[,)]", text)
            has_end = re.search(rf"SYM_\w+_END\w*\(\s*{re.escape(name)}\s*\)", text)
            if bool(has_start) != bool(has_end):
                problem = (f"`{name}` has a SYM_*_START but no SYM_*_END" if has_start
                           else f"`{name}` has a SYM_*_END but no SYM_*_START")
        elif any(e.side == "-" for e in changed) and not any(e.side == "+" for e in changed):
            kinds = {e.kind for e in changed}
            survivors = {e.kind for e in evs if e.side == " "}
            if len(kinds) == 1 and survivors and survivors != kinds:
                problem = f"the patch removes the SYM_*_{kinds.pop()} of `{name}` but keeps its partner"
        if problem:
            e = changed[0]
            hits.append(Hit(PAIRING, (evidence(pd.index, f.path, e.hunk, e.i),), problem + "."))
    return hits


def _offsets(ctx: AnalyzerContext) -> list[Hit]:
    """asm-offsets DEFINEs, struct members and their asm users must land in a buildable order."""
    defines: dict[str, _Define] = {}  # DEFINE name -> where and which member
    members_added: dict[str, int] = {}
    members_removed: dict[str, _Site] = {}
    uses: list[tuple[_Site, str]] = []  # where an asm line uses an offset, and its name
    removed_defines: set[str] = set()
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            for h in f.hunks:
                for i, ln in enumerate(h.lines):
                    if f.path.endswith("asm-offsets.c"):
                        m = _DEFINE.search(ln.text)
                        if m and ln.kind == "+":
                            field = rx.split(r"[.\[]", m.group(3))[-1] if "[" not in m.group(3) else m.group(3)
                            defines.setdefault(m.group(1), _Define(_Site(pd.index, f.path, h, i),
                                                                   field.split(".")[-1]))
                        elif m and ln.kind == "-":
                            removed_defines.add(m.group(1))
                    elif f.kind in ("header", "c") and ln.kind != " " and h.function is None:
                        mm = _MEMBER.match(ln.text)
                        if mm and "(" not in ln.text and not ln.text.lstrip().startswith(("return", "#")):
                            if ln.kind == "+":
                                members_added.setdefault(mm.group(1), pd.index)
                            else:
                                members_removed.setdefault(mm.group(1), _Site(pd.index, f.path, h, i))
                    elif f.kind == "asm" and ln.kind == "+":
                        for name in _ASM_USE.findall(_clean(ln.text)):
                            uses.append((_Site(pd.index, f.path, h, i), name))
    hits: list[Hit] = []
    total = len(ctx.series.patches) or ctx.series.expected
    for use, name in uses:
        d = defines.get(name)
        if d is not None and d.site.patch > use.patch:
            hits.append(Hit(OFFSETS, (use.evidence(),),
                            f"`{name}` is used here but only defined in asm-offsets.c by patch "
                            f"{d.site.patch}/{total}: this patch does not build on its own."))
    for name, (site, field) in defines.items():
        added = members_added.get(field)
        if added is not None and added > site.patch:
            hits.append(Hit(OFFSETS, (site.evidence(),),
                            f"DEFINE({name}) takes the offset of `{field}`, which patch {added}/{total} adds "
                            "to the struct: this patch does not build on its own."))
        gone = members_removed.get(field)
        if gone is not None and added is None and name not in removed_defines:
            hits.append(Hit(OFFSETS, (gone.evidence(), site.evidence()),
                            f"Patch {gone.patch}/{total} removes `{field}` from its struct, but asm-offsets.c "
                            f"still defines {name} from it."))
    hits.extend(_removed_members_still_defined(ctx, members_removed, members_added, defines, total))
    return _dedupe(hits)


def _removed_members_still_defined(ctx: AnalyzerContext, removed: dict[str, _Site], added: dict[str, int],
                                   defines: dict[str, _Define], total: int) -> list[Hit]:
    """Members the series removes that asm-offsets.c (in the rebased result) still uses."""
    if ctx.post_image is None:
        return []
    hits = []
    for field, site in removed.items():
        if field in added or any(d.field == field for d in defines.values()):
            continue
        arch = rx.match(r"^arch/([^/]+)/", site.path)
        if arch is None:
            continue
        offsets = f"arch/{arch.group(1)}/kernel/asm-offsets.c"
        text = ctx.image(offsets)
        m = re.search(rf"DEFINE\(\s*(\w+)\s*,\s*offsetof\([^;]*?[,.]\s*{re.escape(field)}\s*\)", text or "")
        if m:
            hits.append(Hit(OFFSETS, (site.evidence(),),
                            f"Patch {site.patch}/{total} removes `{field}`, but {offsets} still defines "
                            f"{m.group(1)} from it: the series does not build."))
    return hits


def _dedupe(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, tuple[Evidence, ...]]] = set()
    out = []
    for h in hits:
        key = (h.message or "", h.evidence)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out
