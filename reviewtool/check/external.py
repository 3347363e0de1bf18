"""checkpatch.pl: found in the target tree (or given), run on each patch in parallel.

Its report (`LEVEL:TYPE: message`, then `#N: FILE: path:line:` and the lines) becomes
findings with source `checkpatch`, mapped to checklist categories. It runs with
`--no-tree`: the rebased result is never checked out, so tree checks would read the
wrong files (and cost four times as much).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reviewtool import rx
from reviewtool.errors import RulesError
from reviewtool.model import Category, Evidence, Finding, Patch, Series, Severity
from reviewtool.record import replace

TIMEOUT = 120.0  # seconds for one patch
_HEAD = rx.compile(r"^(ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$", re.M)
_WHERE = rx.compile(r"^#(\d+): (?:FILE: (.+?):(\d+):)?")
_CARET = rx.compile(r"^\s*\^\s*$")

_SEVERITY: dict[str, Severity] = {"ERROR": "error", "WARNING": "warning", "CHECK": "info"}
_CATEGORY_BY_TYPE: dict[str, Category] = {
    "OOM_MESSAGE": "alloc_failure", "ALLOC_ARRAY_ARGS": "alloc_failure",
    "ALLOC_WITH_MULTIPLY": "alloc_failure", "ALLOC_SIZEOF_STRUCT": "alloc_failure",
    "KREALLOC_ARG_REUSE": "alloc_failure",
    "MEMORY_BARRIER": "locking_concurrency", "UNCOMMENTED_DEFINITION": "locking_concurrency",
    "VOLATILE": "locking_concurrency", "DATA_RACE": "locking_concurrency",
    "WAITQUEUE_ACTIVE": "locking_concurrency", "IN_ATOMIC": "locking_concurrency",
    "LOCKDEP": "locking_concurrency", "USE_LOCKDEP": "locking_concurrency",
    "USE_SPINLOCK_T": "locking_concurrency",
    "AVOID_BUG": "error_path", "USE_NEGATIVE_ERRNO": "error_path", "ENOSYS": "error_path",
    "ENOTSUPP": "error_path",
    "UAPI_INCLUDE": "abi_compat", "EXPORT_SYMBOL": "abi_compat", "SYMBOLIC_PERMS": "abi_compat",
    "NON_OCTAL_PERMISSIONS": "abi_compat",
    "EXPORTED_WORLD_WRITABLE": "security_verification", "DEVICE_ATTR_PERMS": "security_verification",
    "EXECUTE_PERMISSIONS": "security_verification",
    "CONFIG_DESCRIPTION": "kconfig_build", "IS_ENABLED_CONFIG": "kconfig_build",
    "PREFER_IS_ENABLED": "kconfig_build", "MODIFIED_INCLUDE_ASM": "kconfig_build",
    "INCLUDE_LINUX": "kconfig_build", "ARCH_INCLUDE_LINUX": "kconfig_build",
    "SPDX_LICENSE_TAG": "kconfig_build", "MISSING_EOF_NEWLINE": "kconfig_build",
    "CORRUPTED_PATCH": "kconfig_build", "NOT_UNIFIED_DIFF": "kconfig_build",
    "FILE_PATH_CHANGES": "docs", "UNDOCUMENTED_DT_STRING": "docs", "DT_SPLIT_BINDING_PATCH": "docs",
    "DT_SCHEMA_BINDING_PATCH": "docs", "UNDOCUMENTED_SETUP": "docs", "TYPO_SPELLING": "docs",
}
_COMMIT_TYPES = rx.compile(r"SIGN_OFF|FIXES|COMMIT|GERRIT|EMAIL_SUBJECT|STABLE|REPORTED_BY|DIFF_IN_COMMIT|"
                           r"DUPLICATED_SIG|PATCH_PREFIX|BAD_SIGN|LORE|UTF8_BEFORE_PATCH")
_QUESTIONS = {
    "commit_msg_trailers": "checkpatch.pl flags the commit message or trailers ({type}): should it be "
                           "fixed before the patch is applied?",
    "alloc_failure": "checkpatch.pl flags an allocation ({type}): is the allocation written the way "
                     "the kernel expects?",
    "locking_concurrency": "checkpatch.pl flags a concurrency construct ({type}): is it justified "
                           "and commented?",
}
_DEFAULT_QUESTION = "checkpatch.pl reports {type}: should it be fixed before the patch is applied?"


def category_of(checkpatch_type: str) -> Category:
    """The checklist category for a checkpatch type (style problems go to design_approach)."""
    if checkpatch_type in _CATEGORY_BY_TYPE:
        return _CATEGORY_BY_TYPE[checkpatch_type]
    if _COMMIT_TYPES.search(checkpatch_type):
        return "commit_msg_trailers"
    return "design_approach"


def find_checkpatch(explicit: str | None, repo: str | None) -> Path | None:
    """checkpatch.pl from `--checkpatch PATH` (the script or a tree), else from the repo's scripts/."""
    if explicit:
        p = Path(explicit).expanduser()
        if p.is_dir():
            p = p / "scripts" / "checkpatch.pl"
        if not p.is_file():
            raise RulesError(f"--checkpatch {explicit}: no checkpatch.pl there "
                             "(give the script or a kernel tree that has scripts/checkpatch.pl)")
        return p
    if repo:
        p = Path(repo).expanduser() / "scripts" / "checkpatch.pl"
        if p.is_file():
            return p
    return None


def patch_mail(patch: Patch) -> str:
    """The patch as a mail checkpatch can read: From, Subject, the message, `---`, the diff."""
    body = patch.message.rstrip("\n")
    diff = patch.diff if patch.diff.endswith("\n") else patch.diff + "\n"
    return f"From: {patch.author}\nSubject: [PATCH] {patch.subject}\n\n{body}\n---\n{diff}"


def run_checkpatch(script: Path, series: Series, jobs: int | None = None,
                   timeout: float = TIMEOUT) -> tuple[list[Finding], list[str]]:
    """Run checkpatch on every patch in parallel; the findings and notes about failures."""
    perl = shutil.which("perl")
    if perl is None:
        return [], ["checkpatch.pl was not run: perl is not installed"]
    total = len(series.patches)
    workers = max(1, min(jobs or os.cpu_count() or 1, total or 1))
    cmd = [perl, str(script), "--no-tree", "--show-types", "--no-summary", "--color=never", "-"]

    def one(patch: Patch) -> tuple[list[Finding], str | None]:
        try:
            done = subprocess.run(cmd, input=patch_mail(patch).encode("utf-8", "surrogateescape"),
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return [], f"checkpatch.pl timed out on patch {patch.index}/{total}"
        except OSError as e:
            return [], f"checkpatch.pl could not run: {e.strerror}"
        out = done.stdout.decode("utf-8", "replace")
        if done.returncode not in (0, 1) or (done.returncode == 1 and not _HEAD.search(out)):
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            return [], f"checkpatch.pl failed on patch {patch.index}/{total}: {err[-1] if err else done.returncode}"
        return parse_output(out, patch.index), None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, series.patches))
    findings = _moved_pre_existing([f for fs, _ in results for f in fs], series)
    notes = [n for _, n in results if n]
    return findings, notes


def _moved_pre_existing(findings: list[Finding], series: Series) -> list[Finding]:
    """Findings on added lines that the series removes elsewhere (moved code) are pre-existing."""
    if not any(ln.startswith("+") for f in findings for e in f.evidence for ln in e.lines):
        return findings
    from reviewtool.check.diff import parse_series
    from reviewtool.check.lineage import moved_out

    diffs = parse_series(series)
    sides: dict[tuple[str, int], dict[str, set[str | None]]] = {}
    out = []
    for f in findings:
        added = [ln[1:] for e in f.evidence for ln in e.lines if ln.startswith("+") and ln[1:].strip()]
        patch = f.evidence[0].patch if f.evidence else 0
        if added and all(moved_out(text, patch, diffs, sides) for text in added):
            f = replace(f, pre_existing=True, reason="the same lines are removed elsewhere in the series (moved code)")
        out.append(f)
    return out


def parse_output(text: str, patch_index: int) -> list[Finding]:
    """Findings from checkpatch's `--show-types` report for one patch."""
    findings: list[Finding] = []
    blocks = rx.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    for block in blocks:
        lines = block.strip("\n").split("\n")
        m = _HEAD.match(lines[0]) if lines else None
        if m is None:
            continue
        level, ctype, message = m.groups()
        file: str | None = None
        line: int | None = None
        code: list[str] = []
        for ln in lines[1:]:
            w = _WHERE.match(ln)
            if w and not code:
                if w.group(2):
                    file, line = w.group(2), int(w.group(3))
                continue
            if _CARET.match(ln):
                continue
            code.append(ln)
        category = category_of(ctype)
        question = _QUESTIONS.get(category, _DEFAULT_QUESTION).format(type=ctype)
        findings.append(Finding(
            rule=f"checkpatch:{ctype}", title=f"checkpatch {ctype}: {message}",
            severity=_SEVERITY[level], category=category, message=message, question=question,
            evidence=(Evidence(patch_index, file, line, tuple(code)),), source="checkpatch",
        ))
    return findings
