"""Findings -> checklist items: merging, ordering, and no repeated lines under broad questions."""

from __future__ import annotations

from reviewtool.check.checklist import build_checklist
from reviewtool.model import Evidence, Finding

IF_LINE = Evidence(4, "arch/arm64/kernel/machine_kexec.c", 185,
                   ("-\tif ((kimage != kexec_crash_image) && (kimage->head & IND_DONE))",))
FLUSH = Evidence(4, "arch/arm64/kernel/machine_kexec.c", 185, ("-\tkexec_list_flush(kimage);",))
ENTRY = Evidence(5, "arch/arm64/kernel/machine_kexec.c", 199, ("+\tif (kimage->head & IND_DONE) {",))


def finding(rule: str, evidence: tuple[Evidence, ...], category: str = "kdump_impact",
            status: str = "needs-review") -> Finding:
    return Finding(rule, f"title of {rule}", "warning", category, "msg", f"question of {rule}?", evidence,
                   status=status)


def test_broad_question_drops_lines_a_narrower_one_asks_about() -> None:
    items = build_checklist([
        finding("KEXEC-CRASH-PATH-CHANGE", (FLUSH,)), finding("KEXEC-CRASH-PATH-CHANGE", (IF_LINE, ENTRY)),
        finding("KEXEC-CRASH-CASE-REMOVED", (IF_LINE,)),
    ])
    by_rule = {i.rules[0]: i for i in items}
    assert by_rule["KEXEC-CRASH-CASE-REMOVED"].evidence == (IF_LINE,)
    assert by_rule["KEXEC-CRASH-PATH-CHANGE"].evidence == (FLUSH, ENTRY)


def test_broad_question_with_nothing_left_is_not_emitted() -> None:
    items = build_checklist([finding("BROAD", (IF_LINE, FLUSH)), finding("NARROW-A", (IF_LINE,)),
                             finding("NARROW-B", (FLUSH,))])
    assert [i.rules[0] for i in items] == ["NARROW-A", "NARROW-B"]


def test_same_lines_in_other_categories_or_equal_sets_or_looks_ok_are_kept() -> None:
    items = build_checklist([
        finding("A", (IF_LINE, FLUSH)), finding("B", (IF_LINE,), category="cache_maintenance"),
        finding("C", (IF_LINE, FLUSH)), finding("D", (IF_LINE,), status="looks-ok"),
    ])
    assert {i.rules[0]: len(i.evidence) for i in items} == {"A": 2, "C": 2, "B": 1, "D": 1}


def test_findings_of_one_rule_and_question_merge_into_one_item() -> None:
    items = build_checklist([finding("R", (ENTRY,)), finding("R", (IF_LINE,)), finding("R", (IF_LINE,))])
    assert len(items) == 1 and items[0].evidence == (IF_LINE, ENTRY)
