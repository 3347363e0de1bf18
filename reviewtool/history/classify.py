"""A comment's words -> the checklist category it fits (the eval taxonomy's categories).

Deterministic: each category has word patterns drawn from its description in the taxonomy
(`kdump_impact`: crash kernel, vmcore, panic path...); a comment gets the category whose
patterns match it most often, earlier categories winning ties; none matching is "other".
The quoted lines are not read: a reviewer's question about a lock quoted next to an
allocation is about the lock.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.model import CATEGORIES

OTHER = "other"

_WORDS: dict[str, str] = {
    "kdump_impact": r"kdump|crash(?:kernel| kernel|_kexec| path)?|vmcore|elfcorehdr|vmcoreinfo|panic|capture kernel",
    "alloc_failure": r"k[mzv]?alloc|kcalloc|vmalloc|alloc\w*|allocation|\bnull\b|oom|out of memory|leak\w*|free\w*|footprint",
    "relocation_path": r"relocat\w*|purgatory|trampoline|identity[- ]map\w*|mmu[- ]off|page[- ]tables?|ttbr\w*",
    "cache_maintenance": r"cache\w*|flush\w*|invalidat\w*|\bpoc\b|\bpou\b|\btlb\w*|coheren\w*|dcache|icache",
    "el2_mode": r"\bel2\b|\bvhe\b|hyp(?:ervisor|-stub| stub)?\b|\bhvc\b|exception level",
    "memory_reservation": r"crashkernel|reserv\w*|memblock|nomap|/proc/iomem|e820|memory map|hotplug",
    "error_path": r"error path|error handling|return value|unchecked|unwind\w*|cleanup|clean up|\berr\w*\b|goto|fail\w*",
    "locking_concurrency": r"\block\w*|unlock\w*|spin_?lock\w*|mutex\w*|\brace\w*|racy|concurren\w*|atomic\w*|"
                           r"barrier\w*|read_once|write_once|rcu\b|sleep\w*|preempt\w*|ordering|toctou",
    "abi_compat": r"\babi\b|uapi|syscall\w*|user ?space|binding\w*|compat\w*|kexec-tools|command[- ]line|ioctl",
    "kconfig_build": r"kconfig|config_\w+|#ifdef|ifdef|\bbuild\w*|compil\w*|warning\w*|include\w*|32-bit|rebase",
    "docs": r"document\w*|\bdocs?\b|comment\w*|kernel-doc|kerneldoc|man page|\bexplain\w*",
    "commit_msg_trailers": r"commit (?:message|log|msg)|changelog|subject|typo\w*|fixes:|signed-off-by|"
                           r"cover letter|\bstable\b|\bcc\b",
    "testing_request": r"\btest\w*|tried|hardware|benchmark\w*|numbers|\bboot\w*|reproduc\w*|selftest\w*",
    "security_verification": r"signature|lockdown|\bima\b|\btpm\b|kaslr|info leak|securit\w*|verif\w*",
    "design_approach": r"approach|instead|why not|\breuse\b|existing|generic|\bsplit\b|reorder|layer|"
                       r"necessary|needed|justif\w*|design|simpler|churn",
}
_PATTERNS = {cat: rx.compile(words, re.I) for cat, words in _WORDS.items()}
assert set(_PATTERNS) <= set(CATEGORIES)


def classify(text: str) -> str:
    """The category of CATEGORIES whose words the text uses most, or "other"."""
    best, best_hits = OTHER, 0
    for cat, pattern in _PATTERNS.items():
        hits = len(pattern.findall(text))
        if hits > best_hits:
            best, best_hits = cat, hits
    return best
