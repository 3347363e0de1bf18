#!/usr/bin/env python3
"""Evaluation on a real thread: does the checklist ask what the real reviewers asked?

Runs `check` (no rebase, no checkpatch) on the "arm64: MMU enabled kexec relocation"
thread as archived (v16 and v17; the newest revision is checked) and looks, category by
category, for a needs-review item whose evidence carries the lines that raised the arm64
maintainer's v16 questions. Prints one line per expected question and the recall; exits 1
when one is missing. The real mails are not part of the repository and not a test
dependency: give their folder.

    .venv/bin/python benchmarks/eval_kexec_thread.py [../shared/data/kexec-mmu-v16-v17]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from reviewtool.check.pipeline import check_series
from reviewtool.check.rules import load_rules
from reviewtool.fetch import series_from_mbox
from reviewtool.model import ChecklistItem, CheckResult

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "kexec-mmu-v16-v17"


def items(result: CheckResult, category: str) -> list[ChecklistItem]:
    return [i for i in result.checklist if i.category == category and i.status == "needs-review"]


def lines(item: ChecklistItem) -> str:
    return "\n".join(ln for e in item.evidence for ln in e.lines)


EXPECTED: list[tuple[str, str, Callable[[ChecklistItem], bool]]] = [
    ("kdump_impact", "is the new page table built for crash loads too?",
     lambda i: "trans_pgd_create_copy" in lines(i)),
    ("alloc_failure", "if trans_pgd_create_copy() fails: load-time error or reboot-time fallback?",
     lambda i: "trans_pgd_create_copy" in lines(i) and "kexec_load" in i.question),
    ("relocation_path", "the relocation path now runs with the MMU on",
     lambda i: "sctlr_el1" in lines(i) or "ttbr1_el1" in lines(i)),
    ("cache_maintenance", "cache maintenance moved to load time",
     lambda i: "kexec_list_flush" in lines(i) or "dcache" in lines(i)),
    ("el2_mode", "EL2 vector handling",
     lambda i: "__hyp_set_vectors" in lines(i) or "HVC_SOFT_RESTART" in lines(i) or "el2" in lines(i).lower()),
    ("abi_compat", "does it change the ABI kexec-tools relies on?", lambda i: "kexec-tools" in i.question),
]


def main() -> int:
    thread = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not thread.is_dir():
        print(f"no thread at {thread}: give the folder of .eml files", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    series = series_from_mbox(thread)
    result = check_series(series, load_rules())
    dt = time.perf_counter() - t0
    print(f"v{series.revision}: {len(series.patches)}/{series.expected} patches, "
          f"{len(result.checklist)} checklist items, {dt:.2f} s")
    found = 0
    for category, what, ok in EXPECTED:
        hit = next((i for i in items(result, category) if ok(i)), None)
        found += hit is not None
        mark = "yes" if hit else "NO "
        print(f"  {mark} {category:18s} {what}")
        if hit:
            ev = hit.evidence[0]
            print(f"        -> {hit.question}\n           ({ev.patch:02d}/{series.expected} {ev.file}:{ev.line})")
    noisy = [i for i in result.checklist if not i.evidence or "?" not in i.question]
    print(f"recall {found}/{len(EXPECTED)}; items without evidence or question: {len(noisy)}")
    return 0 if found == len(EXPECTED) and not noisy else 1


if __name__ == "__main__":
    sys.exit(main())
