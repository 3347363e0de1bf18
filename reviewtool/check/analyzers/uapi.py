"""User-visible interfaces: what userspace tools parse, and what must be documented.

- UAPI-VMCOREINFO: VMCOREINFO_* keys added or removed (makedumpfile and crash read them);
  an added key is reported only when the series leaves vmcoreinfo.rst alone.
- UAPI-IOMEM-NAME: a /proc/iomem resource name (which kexec-tools parses) removed or renamed.
- UAPI-HEADER: a change to a uapi header.
- UAPI-DT-PROPERTY-UNDOCUMENTED: a new device-tree property read or written, with no
  binding change under Documentation/devicetree in the series.
- UAPI-PARAM-UNDOCUMENTED: a new kernel or module parameter with no Documentation change.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit, SeriesLines, evidence, series_lines
from reviewtool.check.analyzers._cfunc import changed_code
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff

VMCOREINFO = "UAPI-VMCOREINFO"
IOMEM = "UAPI-IOMEM-NAME"
HEADER = "UAPI-HEADER"
DT_PROP = "UAPI-DT-PROPERTY-UNDOCUMENTED"
PARAM = "UAPI-PARAM-UNDOCUMENTED"

_VMCOREINFO = rx.compile(r"\bVMCOREINFO_\w+\s*\(\s*([^)]*)\)"
                         r"|\bvmcoreinfo_append_str\s*\(\s*\"(?P<key>[A-Za-z_]\w*(?:\([^)\"]*\))?)=")
_PREPROCESSOR = rx.compile(r"^\s*#\s*(?:define|undef)\b")
_IOMEM_NAMES = ("System RAM", "Crash kernel", "Kernel code", "Kernel data", "Kernel bss", "Kernel rodata",
                "reserved", "ELF core hdr", "Persistent Memory", "Reserved", "ACPI Tables", "ACPI Non-volatile Storage")
_IOMEM_RE = rx.compile(r"\"(" + "|".join(re.escape(n) for n in _IOMEM_NAMES) + r")\"")
_RES_NAME = rx.compile(r"\.name\s*=\s*\"([^\"]+)\"")
_DT_CALL = rx.compile(r"\b(?:of_(?:property_\w+|get_property|find_property|get_\w*prop\w*)|fdt_\w*prop\w*|"
                      r"fdt_(?:setprop|getprop|delprop|appendprop)\w*)\s*\([^\"]*\"([A-Za-z][\w,.+-]*)\"")
_PARAM = rx.compile(r"\b(early_param|__setup|core_param|module_param(?:_named|_array|_cb)?)\s*\(\s*\"?([\w.-]+)")
_UAPI_PATH = rx.compile(r"^(?:include/uapi/|arch/[^/]+/include/uapi/)")


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Interfaces userspace depends on, and whether the series documents new ones."""
    docs = [f.path for pd in ctx.diffs for f in pd.files if f.path.startswith("Documentation/")]
    vmcoreinfo_doc = any("vmcoreinfo" in p for p in docs)
    dt_doc = any(p.startswith("Documentation/devicetree/") for p in docs)
    param_doc = any("kernel-parameters" in p for p in docs)
    hits: list[Hit] = []
    lines = ctx.shared(series_lines)
    for pd in ctx.kernel_diffs():
        for f in pd.files:
            if f.kind == "doc":
                continue
            if _UAPI_PATH.match(f.path):
                hits.extend(_uapi_header(pd, f))
                continue
            if f.kind not in ("c", "header"):
                continue
            hits.extend(_vmcoreinfo(pd, f, vmcoreinfo_doc, lines))
            hits.extend(_iomem(pd, f, lines))
            if not dt_doc:
                hits.extend(_new_names(pd, f, DT_PROP, _DT_CALL, 1,
                                       "reads or writes the new device-tree property `{}`, and the series "
                                       "changes no binding under Documentation/devicetree."))
            hits.extend(_params(pd, f, param_doc, bool(docs)))
    return hits


def _uapi_header(pd: PatchDiff, f: DiffFile) -> list[Hit]:
    for h in f.hunks:
        idx = changed_code(h)
        if idx:
            removed = any(h.lines[i].kind == "-" for i in idx)
            what = "changes or removes existing definitions" if removed else "adds definitions"
            return [Hit(HEADER, (evidence(pd.index, f.path, h, idx[0], idx[min(len(idx), 8) - 1]),),
                        f"{f.path} is a uapi header: this patch {what} that userspace builds against.")]
    return []


def _vmcoreinfo(pd: PatchDiff, f: DiffFile, documented: bool, lines: SeriesLines) -> list[Hit]:
    """Entries written with VMCOREINFO_*() or vmcoreinfo_append_str("KEY=..."); not the macros' definitions."""
    hits = []
    for h in f.hunks:
        macro = _macro_lines(h)
        for i in changed_code(h):
            ln = h.lines[i]
            m = _VMCOREINFO.search(ln.text)
            if not m or i in macro or lines.moved(ln.kind, ln.text):
                continue  # a macro defined (not an entry written), or an entry moved to another file
            entry = m.group("key") or m.group(0)
            if ln.kind == "-":
                hits.append(Hit(VMCOREINFO, (evidence(pd.index, f.path, h, i),),
                                f"Removes or changes the vmcoreinfo entry `{entry}`: makedumpfile and "
                                "crash may rely on it."))
            elif not documented:
                hits.append(Hit(VMCOREINFO, (evidence(pd.index, f.path, h, i),),
                                f"Adds the vmcoreinfo entry `{entry}` without a change to "
                                "Documentation/admin-guide/kdump/vmcoreinfo.rst."))
    return hits


def _macro_lines(h: DiffHunk) -> set[int]:
    """Indexes of the lines that belong to a `#define` or `#undef` (continuation lines included)."""
    out: set[int] = set()
    open_on: dict[str, bool] = {"+": False, "-": False}
    for i, ln in enumerate(h.lines):
        sides = ("+", "-") if ln.kind == " " else (ln.kind,)
        inside = _PREPROCESSOR.match(ln.text) is not None or any(open_on[k] for k in sides)
        if inside:
            out.add(i)
        for k in sides:
            open_on[k] = inside and ln.text.rstrip().endswith("\\")
    return out


def _iomem(pd: PatchDiff, f: DiffFile, lines: SeriesLines) -> list[Hit]:
    hits = []
    for h in f.hunks:
        added = " ".join(ln.text for ln in h.added())
        for i, ln in enumerate(h.lines):
            if ln.kind != "-" or lines.moved("-", ln.text):
                continue  # moved verbatim (modulo white space), here or to another file: not a removal
            names = _IOMEM_RE.findall(ln.text) + [n for n in _RES_NAME.findall(ln.text)]
            for name in names:
                if f'"{name}"' in added:
                    continue
                hits.append(Hit(IOMEM, (evidence(pd.index, f.path, h, i, min(i + 2, len(h.lines) - 1)),),
                                f"The /proc/iomem name \"{name}\" is removed or renamed: kexec-tools and "
                                "other tools find regions by these names."))
                break
    return hits


def _new_names(pd: PatchDiff, f: DiffFile, rule: str, pattern: re.Pattern[str], group: int,
               message: str) -> list[Hit]:
    """Names a pattern captures on added lines that the patch did not just move."""
    hits = []
    old = {m.group(group) for h in f.hunks for ln in h.removed() for m in pattern.finditer(ln.text)}
    seen: set[str] = set()
    for h in f.hunks:
        for i in changed_code(h):
            ln = h.lines[i]
            if ln.kind != "+":
                continue
            for m in pattern.finditer(ln.text):
                name = m.group(group)
                if name in old or name in seen:
                    continue
                seen.add(name)
                hits.append(Hit(rule, (evidence(pd.index, f.path, h, i),), message.format(name)))
    return hits


def _params(pd: PatchDiff, f: DiffFile, kernel_doc: bool, any_doc: bool) -> list[Hit]:
    hits = []
    for hit in _new_names(pd, f, PARAM, _PARAM, 2, "adds the parameter `{}`"):
        kind_line = hit.evidence[0].lines[0] if hit.evidence[0].lines else ""
        module = "module_param" in kind_line
        if (module and any_doc) or (not module and kernel_doc):
            continue
        where = "any Documentation" if module else "Documentation/admin-guide/kernel-parameters.txt"
        text = hit.message or ""
        hits.append(Hit(PARAM, hit.evidence, f"{text[:1].upper()}{text[1:]} without a change to {where}."))
    return hits
