"""Acceptance: the real "arm64: MMU enabled kexec relocation" thread (v16 and v17, as posted).

The checklist must put the arm64 maintainer's v16 questions in front of the reviewer, with
the lines that raise them: the kdump path (is the new page table built for crash loads?),
what happens when trans_pgd_create_copy() fails, the relocation path that now runs with
the MMU on, cache and TLB maintenance, EL2 vectors, and the ABI kexec-tools relies on.
The mails live in the project's shared data, beside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.check.pipeline import check_series
from reviewtool.check.rules import load_rules
from reviewtool.model import ChecklistItem, CheckResult

THREAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "kexec-mmu-v16-v17"

pytestmark = pytest.mark.skipif(not THREAD.is_dir(), reason=f"the real thread is not at {THREAD}")


@pytest.fixture(scope="module")
def v17() -> CheckResult:
    from reviewtool.fetch import series_from_mbox

    series = series_from_mbox(THREAD)
    assert series.revision == 17 and len(series.patches) >= 14
    return check_series(series, load_rules())


def items(result: CheckResult, category: str) -> list[ChecklistItem]:
    return [i for i in result.checklist if i.category == category and i.status == "needs-review"]


def lines(item: ChecklistItem) -> str:
    return "\n".join(ln for e in item.evidence for ln in e.lines)


def test_kdump_question_points_at_the_new_page_table(v17: CheckResult) -> None:
    kdump = items(v17, "kdump_impact")
    crash_load = [i for i in kdump if "trans_pgd_create_copy" in lines(i)]
    assert crash_load, [i.question for i in kdump]
    assert "KEXEC_TYPE_CRASH" in crash_load[0].question or "crash" in crash_load[0].question
    assert any(e.patch == 11 and e.file == "arch/arm64/kernel/machine_kexec.c" for e in crash_load[0].evidence)


def test_allocation_failure_question_asks_about_load_time_versus_fallback(v17: CheckResult) -> None:
    alloc = [i for i in items(v17, "alloc_failure") if "trans_pgd_create_copy" in lines(i)]
    assert alloc and "kexec_load" in alloc[0].question


def test_relocation_cache_el2_and_kexec_tools_abi_are_asked(v17: CheckResult) -> None:
    reloc = items(v17, "relocation_path")
    assert any(e.file == "arch/arm64/kernel/relocate_kernel.S" for i in reloc for e in i.evidence)
    assert any("sctlr_el1" in lines(i) or "ttbr1_el1" in lines(i) for i in reloc)
    cache = items(v17, "cache_maintenance")
    assert any("kexec_list_flush" in lines(i) for i in cache)
    el2 = items(v17, "el2_mode")
    assert el2 and any("__hyp_set_vectors" in lines(i) or "HVC_SOFT_RESTART" in lines(i) for i in el2)
    abi = items(v17, "abi_compat")
    assert any("kexec-tools" in i.question for i in abi)


def test_the_checklist_stays_short_and_every_item_has_evidence(v17: CheckResult) -> None:
    assert all(i.evidence and "?" in i.question for i in v17.checklist)
    assert len(v17.checklist) <= 20
    assert not [n for n in v17.notes if "failed" in n]
