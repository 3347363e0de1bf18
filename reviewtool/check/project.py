"""Which project a patch is for: the kernel, or a userspace tool sent to a kernel list.

kexec-tools, makedumpfile and crash patches reach the kexec list beside kernel patches,
and their paths overlap the kernel's (`include/...`, `Makefile`, `arch/...`). With the
target tree at hand the tree decides: a patch is a kernel patch when the files it changes
are in it (a file every project has, such as `Makefile`, only when the lines the patch
changes are in that file too); a new file counts by its directory. Without a tree, the
evidence is the subject (`kexec-tools:`, `[PATCH makedumpfile]`), paths only one side
has, and what the changed lines use (`#include <linux/...>`, `MODULE_...` against
`<stdio.h>`, `-lelf`), and the decision says how sure it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

from reviewtool import rx
from reviewtool.diff import DiffFile
from reviewtool.model import Patch
from reviewtool.record import NamedTuple

Confidence = Literal["sure", "high", "medium", "low"]


class TargetTree(Protocol):
    """The tree a series is checked against: which paths it has and a file's text."""

    def present(self, paths: Iterable[str]) -> frozenset[str]:
        """Those of PATHS (files or directories) that exist in the tree."""
        ...

    def text(self, path: str) -> str | None:
        """The text of the file at PATH in the tree, or None."""
        ...


class Decision(NamedTuple):
    """Kernel patch or not, the project named when known, how sure, and on what evidence."""

    kernel: bool
    project: str  # "kernel", "kexec-tools", "makedumpfile", "crash" or "userspace"
    confidence: Confidence
    evidence: str


# Top-level entries only the kernel has (firmware/: kernels up to 4.13).
_KERNEL_TOP = frozenset({
    "arch", "block", "certs", "crypto", "Documentation", "drivers", "firmware", "fs", "init",
    "io_uring", "ipc", "kernel", "lib", "LICENSES", "mm", "net", "rust", "samples", "scripts",
    "security", "sound", "tools", "usr", "virt", "Kconfig", "Kbuild", "MAINTAINERS", "CREDITS",
    ".mailmap", ".clang-format", ".cocciconfig", ".get_maintainer.ignore", ".gitattributes",
    ".rustfmt.toml", ".clippy.toml", ".editorconfig", ".pylintrc",
})
# Directories directly under the kernel's include/ (asm-<arch>: kernels before 2.6.28).
_KERNEL_INCLUDE = frozenset({
    "acpi", "asm", "asm-generic", "clocksource", "config", "crypto", "cxl", "drm", "dt-bindings",
    "generated", "keys", "kunit", "kvm", "linux", "math-emu", "media", "memory", "misc", "net",
    "pcmcia", "ras", "rdma", "rv", "scsi", "soc", "sound", "target", "trace", "uapi", "ufs",
    "vdso", "video", "xen", "Kbuild",
})
# Top-level entries of kexec-tools, makedumpfile and crash that a kernel tree never has.
_USER_TOP = {
    "kexec": "kexec-tools", "purgatory": "kexec-tools", "kdump": "kexec-tools",
    "vmcore-dmesg": "kexec-tools", "util_lib": "kexec-tools", "kexec_test": "kexec-tools",
    "util": "kexec-tools", "doc": "kexec-tools", "config": "kexec-tools", "News": "kexec-tools",
    "TODO": "kexec-tools", "AUTHORS": "kexec-tools", "INSTALL": "kexec-tools",
    "bootstrap": "kexec-tools", "configure.ac": "kexec-tools", "Makefile.in": "kexec-tools",
    "kexec-tools.spec.in": "kexec-tools", "makedumpfile.c": "makedumpfile",
    "makedumpfile.h": "makedumpfile", "makedumpfile.8": "makedumpfile",
    "makedumpfile.conf": "makedumpfile", "makedumpfile.conf.5": "makedumpfile",
    "makedumpfile.spec": "makedumpfile", "eppic_scripts": "makedumpfile",
    "extensions": "crash", "memory_driver": "crash", "defs.h": "crash", "COPYING3": "crash",
}
# Top-level names every project may have: only their content tells.
_SHARED_TOP = frozenset({"Makefile", "README", "README.md", "COPYING", ".gitignore"})

_SUBJECT_TAG = rx.compile(r"\[[^\]]*\b(kexec-tools|makedumpfile|crash-utility|crash)\b[^\]]*\]", re.I)
_SUBJECT_PREFIX = rx.compile(r"^\s*(kexec-tools|makedumpfile)\s*[:/]", re.I)
_SUBJECT_CRASH = rx.compile(r"^\s*crash\s*:", re.I)  # also a kernel prefix (kernel/crash_*.c)
_KERNEL_TEXT = rx.compile(
    r"#\s*include\s*<(?:linux|asm|asm-generic|uapi|crypto|net|trace|drm|kunit)/"
    r"|\b(?:MODULE_(?:LICENSE|AUTHOR|DESCRIPTION)|EXPORT_SYMBOL(?:_GPL)?|KBUILD_\w+|CONFIG_\w+)\b"
    r"|\bobj-(?:y|m|\$\()|\$\(srctree\)|^\s*(?:SUB|PATCH)LEVEL\s*="
    r"|\b(?:printk|pr_(?:err|warn|info|debug|notice)|kmalloc|kzalloc|kfree|vmalloc)\s*\(")
_USER_TEXT = rx.compile(
    r"#\s*include\s*<(?:stdio|stdlib|string|unistd|fcntl|getopt|errno|libelf|gelf|zlib|bzlib|zstd"
    r"|elfutils/\w+|lzo/\w+|snappy-c|sys/\w+)\.h>"
    r"|\b(?:printf|fprintf|malloc|calloc|realloc|free|strdup|perror|getopt_long)\s*\("
    r"|\b(?:makedumpfile|kexec-tools|LINKTYPE|USELZO|USESNAPPY|USEZSTD)\b"
    r"|(?<![\w-])-l(?:elf|dw|bz2|z|lzo2|snappy|zstd|ebl|dl)\b")
_PROJECT_WORD = rx.compile(r"\b(makedumpfile|kexec-tools|LINKTYPE|USELZO|USESNAPPY|USEZSTD)\b", re.I)
_MIN_FOUND = 0.5  # share of a shared file's old lines that must be in the tree's file


def path_kind(path: str) -> tuple[str, str]:
    """("kernel" | "user" | "shared" | "unknown", the userspace project or "") for one path."""
    parts = path.split("/")
    top = parts[0]
    if len(parts) == 1 and top in _SHARED_TOP:
        return "shared", ""
    if top in _USER_TOP:
        return "user", _USER_TOP[top]
    if len(parts) == 1 and top.endswith((".c", ".h", ".8", ".5", ".spec", ".in", ".ac", ".patch")):
        return "user", ""  # the kernel has no source, man page or spec at its top
    if top == "include":
        top_file = len(parts) == 2 and parts[1] != "Kbuild"
        if top_file or (len(parts) > 2 and parts[1] not in _KERNEL_INCLUDE and not parts[1].startswith("asm-")):
            return "user", "kexec-tools"  # include/x86/x86-linux.h, include/elf.h
        return "kernel", ""
    if top == "arch" and len(parts) == 2 and parts[1].endswith((".c", ".h")):
        return "user", "makedumpfile"  # makedumpfile keeps arch/arm64.c; the kernel has directories
    if top in _KERNEL_TOP:
        return "kernel", ""
    return "unknown", ""


def decide(patch: Patch, files: Sequence[DiffFile], tree: TargetTree | None = None,
           earlier: frozenset[str] = frozenset()) -> Decision:
    """Whether PATCH is a kernel patch; EARLIER holds the paths the series' earlier patches add."""
    if tree is not None and files:
        found = _by_tree(files, tree, earlier)
        if found is not None:
            return found
    return _by_evidence(patch, files)


def _by_tree(files: Sequence[DiffFile], tree: TargetTree, earlier: frozenset[str]) -> Decision | None:
    wanted: dict[str, str] = {}  # the path to look up -> the path of the patch it stands for
    shared: list[DiffFile] = []
    for f in files:
        old = f.old_path or f.path
        if f.status == "added" or not old:
            parent = f.path.rpartition("/")[0]
            if parent:
                wanted.setdefault(parent, f.path)
        elif len(old.split("/")) == 1 and old in _SHARED_TOP:
            shared.append(f)
        else:
            wanted.setdefault(old, old)
    present = tree.present(p for p in wanted if p not in earlier) | {p for p in wanted if p in earlier}
    there = {wanted[p] for p in present}
    missing = {wanted[p] for p in wanted if p not in present}
    for f in shared:
        (there if _lines_in_tree(f, tree) else missing).add(f.old_path or f.path)
    if not there and not missing:
        return None  # only new top-level files or new directories: the tree cannot tell
    total = len(there) + len(missing)
    if not missing:
        what = "its file is" if total == 1 else f"its {total} files are"
        return Decision(True, "kernel", "sure", f"{what} in the target tree")
    if not there:
        what = "its file is not" if total == 1 else f"none of its {total} files is"
        return Decision(False, "userspace", "sure", f"{what} in the target tree ({sorted(missing)[0]})")
    kernel = len(there) >= len(missing)
    return Decision(kernel, "kernel" if kernel else "userspace", "medium",
                    f"{len(there)} of its {total} files are in the target tree")


def _lines_in_tree(f: DiffFile, tree: TargetTree) -> bool:
    """True when the tree has the file and most of the lines the patch keeps or removes in it."""
    text = tree.text(f.old_path or f.path)
    if text is None:
        return False
    old = [ln.text.strip() for h in f.hunks for ln in h.lines if ln.kind != "+" and ln.text.strip()]
    if not old:
        return True
    have = {ln.strip() for ln in text.splitlines()}
    return sum(1 for ln in old if ln in have) >= _MIN_FOUND * len(old)


def _by_evidence(patch: Patch, files: Sequence[DiffFile]) -> Decision:
    said = _SUBJECT_TAG.search(patch.full_subject) or _SUBJECT_PREFIX.match(patch.subject)
    if said is not None:
        name = said.group(1).lower()
        return Decision(False, "crash" if name.startswith("crash") else name, "high",
                        f"the subject says '{said.group(0).strip()}'")
    paths = [p for f in files for p in dict.fromkeys((f.path, f.old_path)) if p] or list(patch.files)
    kinds = [path_kind(p) for p in paths]
    kernel_paths = [p for p, (k, _) in zip(paths, kinds, strict=True) if k == "kernel"]
    user_paths = [(p, proj) for p, (k, proj) in zip(paths, kinds, strict=True) if k == "user"]
    if user_paths and not kernel_paths:
        project = next((proj for _, proj in user_paths if proj), "") or _named(files) or "userspace"
        return Decision(False, project, "high", f"{user_paths[0][0]} is not a kernel path")
    if kernel_paths and not user_paths:
        return Decision(True, "kernel", "high", f"{kernel_paths[0]} is a kernel path")
    kernel_hits, user_hits = _text_signals(files)
    crash = bool(_SUBJECT_CRASH.match(patch.subject))
    if kernel_paths and user_paths:
        kernel = len(kernel_paths) + kernel_hits >= len(user_paths) + user_hits
        return Decision(kernel, "kernel" if kernel else "userspace", "low",
                        f"kernel paths ({kernel_paths[0]}) and others ({user_paths[0][0]})")
    where = f"{paths[0]} only" if len(paths) == 1 else "no path only the kernel or a tool has"
    if user_hits + crash > kernel_hits:
        project = _named(files) or ("crash" if crash and not user_hits else "userspace")
        why = f"{user_hits} line(s) use userspace builds or headers" if user_hits else "the subject says 'crash:'"
        return Decision(False, project, "medium", f"{where}; {why}")
    if kernel_hits:
        return Decision(True, "kernel", "medium", f"{where}; {kernel_hits} line(s) use kernel interfaces")
    return Decision(True, "kernel", "low", f"{where}; nothing in its lines tells")


def _text_signals(files: Sequence[DiffFile]) -> tuple[int, int]:
    """Changed and context lines that use kernel interfaces, and those that use userspace ones."""
    kernel = user = 0
    for f in files:
        for h in f.hunks:
            for ln in h.lines:
                kernel += bool(_KERNEL_TEXT.search(ln.text))
                user += bool(_USER_TEXT.search(ln.text))
    return kernel, user


def _named(files: Sequence[DiffFile]) -> str:
    """The tool a patch's lines name (makedumpfile, kexec-tools), or ""."""
    for f in files:
        for h in f.hunks:
            for ln in h.lines:
                if m := _PROJECT_WORD.search(ln.text):  # makedumpfile's Makefile switches name it
                    return "kexec-tools" if m.group(1).lower() == "kexec-tools" else "makedumpfile"
    return ""
