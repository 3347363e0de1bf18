"""Changes to what the arm64 hypervisor code depends on, in the cases EL2-MODE-BRANCH leaves alone.

- EL2-STATE-CHANGE: in arch/arm64, a name tied to one mode (VHE, nVHE, an EL2 register or
  the hyp VA layout) goes away from the patch's code without coming back, or an assignment
  of a value EL2 reads (`x->tpidr_el2 = ...`, `write_sysreg(..., vtcr_el2)`, `msr tcr_el2, ...`)
  is rewritten.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, evidence, is_comment_or_blank
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff

STATE = "EL2-STATE-CHANGE"

_MODE_NAME = rx.compile(r"\b(?:\w*_n?vhe\w*|\w*_N?VHE\w*|has_vhe|is_kernel_in_hyp_mode|is_hyp_mode_available|"
                        r"is_protected_kvm_enabled|ARM64_HAS_VIRT_HOST_EXTN|kern_hyp_va|hyp_va_\w+|"
                        r"\w+_el2|\w+_EL2\w*)\b")
_EL2_TARGET = rx.compile(r"\b(\w+_el2)\s*=(?!=)|write_sysreg\w*\(.*,\s*(\w+_el2)\s*\)|\bmsr\s+(\w+_el2)\s*,", re.I)
_CONTEXT_AFTER = 3
_KINDS = ("c", "header", "asm", "lds", "kconfig")


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Mode-specific names dropped, and rewritten assignments of values EL2 reads, in arch/arm64."""
    hits: list[Hit] = []
    for pd in ctx.kernel_diffs():
        files = [f for f in pd.files if f.path.startswith("arch/arm64/") and f.kind in _KINDS]
        gone = _names(files, "-") - _names(files, "+")
        hit = _dropped(pd, files, gone) or _rewritten(pd, files)
        if hit is not None:
            hits.append(hit)
    return hits


def _maybe_el2(text: str) -> bool:
    """A cheap test before the regexes: only lines with one of these can name EL2 state."""
    t = text.lower()
    return "vhe" in t or "el2" in t or "hyp" in t or "virt_host" in t


def _code_lines(f: DiffFile, kind: str) -> list[str]:
    return [ln.text for h in f.hunks for ln in h.lines
            if ln.kind == kind and _maybe_el2(ln.text) and not is_comment_or_blank(ln.text)]


def _names(files: list[DiffFile], kind: str) -> set[str]:
    return {m.group(0) for f in files for t in _code_lines(f, kind) for m in _MODE_NAME.finditer(t)}


def _dropped(pd: PatchDiff, files: list[DiffFile], gone: set[str]) -> Hit | None:
    """The first removed line naming a mode-specific thing the patch's added code no longer names."""
    if not gone:
        return None
    for f in files:
        for h in f.hunks:
            for i, ln in enumerate(h.lines):
                if ln.kind != "-" or not _maybe_el2(ln.text) or is_comment_or_blank(ln.text):
                    continue
                name = next((m.group(0) for m in _MODE_NAME.finditer(ln.text) if m.group(0) in gone), None)
                if name is not None:
                    return Hit(STATE, (evidence(pd.index, f.path, h, i, _run_end(h, i)),),
                               f"`{name}` goes away, and nothing added in the patch names it.")
    return None


def _rewritten(pd: PatchDiff, files: list[DiffFile]) -> Hit | None:
    """A hunk that removes and adds an assignment to the same EL2-visible value."""
    for f in files:
        for h in f.hunks:
            removed = {t: i for i, ln in enumerate(h.lines) if ln.kind == "-" and (t := _target(ln.text))}
            for i, ln in enumerate(h.lines):
                target = _target(ln.text) if ln.kind == "+" else None
                if target is not None and target in removed:
                    first = removed[target]
                    return Hit(STATE, (evidence(pd.index, f.path, h, first, max(i, first)),),
                               f"The value written to `{target}` changes.")
    return None


def _target(text: str) -> str | None:
    if not _maybe_el2(text) or is_comment_or_blank(text):
        return None
    m = _EL2_TARGET.search(text)
    return next((g.lower() for g in m.groups() if g), None) if m else None


def _run_end(h: DiffHunk, i: int) -> int:
    """The last line of the run of changes that starts at `i`, or a few lines after it."""
    j = i
    while j + 1 < len(h.lines) and h.lines[j + 1].kind != " " and j - i < _CONTEXT_AFTER:
        j += 1
    return j
