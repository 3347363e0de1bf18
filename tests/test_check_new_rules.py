"""The questions for concerns the checklist used not to raise: behaviour beyond the rule cases.

Each test runs the real engine with the shipped rule packs on a series built from
format-patch text (tests/check_helpers.py), and looks at the findings of one rule.
"""

from __future__ import annotations

from reviewtool.check.checklist import counted
from reviewtool.check.engine import run_engine
from reviewtool.check.rules import RuleSet, load_rules
from reviewtool.model import Series
from tests.check_helpers import series_from_text

RULES = load_rules()
HEAD = "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Jane Doe <jane@example.org>\n"


def _mail(subject: str, body: str, path: str, added: list[str]) -> str:
    hunk = "\n".join([f"@@ -10,2 +10,{2 + len(added)} @@", " static void foo(void)", " {",
                      *[f"+{a}" for a in added]])
    return (f"{HEAD}Subject: {subject}\n\n{body}\n\nSigned-off-by: Jane Doe <jane@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n{hunk}\n")


def _fired(series: Series, rule_id: str) -> list[str]:
    rule = next(r for r in RULES.rules if r.id == rule_id)
    result = run_engine(series, RuleSet((rule,), RULES.packs))
    return [f.message for f in result.findings if f.rule == rule_id and counted(f)]


def test_motivation_asks_for_a_description_when_the_message_has_none_at_all() -> None:
    series = series_from_text(_mail("[PATCH] arm64: kexec_file: print the buffer size", "",
                                    "arch/arm64/kernel/machine_kexec_file.c", ["\tpr_debug(\"%lx\\n\", sz);"]))
    assert _fired(series, "COMMIT-MOTIVATION") == ["1 changed lines, but the message has 0 words of description."]


def test_motivation_wants_a_longer_argument_for_forty_changed_lines() -> None:
    body = "Use the C helpers instead of the assembly macros in the cache functions here."
    added = [f"\tuaccess_step_{i}();" for i in range(45)]
    series = series_from_text(_mail("[PATCH] arm64: remove uaccess macros", body, "arch/arm64/mm/cache.c", added))
    assert _fired(series, "COMMIT-MOTIVATION")
    longer = body + " " + " ".join(["The macros hide the TTBR0 switch from the compiler, so it cannot order it."] * 2)
    series = series_from_text(_mail("[PATCH] arm64: remove uaccess macros", longer, "arch/arm64/mm/cache.c", added))
    assert not _fired(series, "COMMIT-MOTIVATION")


def test_carried_tags_are_questioned_when_the_cover_letter_says_the_code_was_reworked() -> None:
    text = _mail("[PATCH v4 1/1] arm64/mm: enable memory hot remove", "Remove the linear map of hot-removed memory."
                 "\n\nAcked-by: Rita Reviewer <rita@example.org>", "arch/arm64/mm/mmu.c", ["\tunmap_hotplug_range();"])
    reworked = series_from_text(text, cover_body="Changes in v4:\n- reworked the page table walk")
    rebased = series_from_text(text, cover_body="Changes in v4:\n- rebased on v5.4-rc1")
    assert _fired(reworked, "COMMIT-CARRIED-TAGS") and not _fired(rebased, "COMMIT-CARRIED-TAGS")


def test_a_fix_is_asked_for_its_fixes_tag_only_when_its_message_names_where_the_bug_came_from() -> None:
    named = series_from_text(_mail("[PATCH] arm64: fix the FDT mapping", "This is a regression since v5.3.",
                                   "arch/arm64/kernel/setup.c", ["\tmap_fdt();"]))
    vague = series_from_text(_mail("[PATCH] arm64: fix the FDT mapping", "Map the FDT read-write.",
                                   "arch/arm64/kernel/setup.c", ["\tmap_fdt();"]))
    assert _fired(named, "COMMIT-FIX-NO-FIXES") and not _fired(vague, "COMMIT-FIX-NO-FIXES")


def test_a_tested_by_in_a_reply_to_the_cover_letter_answers_the_hardware_question() -> None:
    from reviewtool.model import Trailer

    text = _mail("[PATCH] arm64: work around erratum 1234567", "Cortex-X1 r0p0 loses a TLB invalidation.",
                 "arch/arm64/kernel/cpu_errata.c", ["\t.capability = ARM64_WORKAROUND_1234567,"])
    untested = series_from_text(text, cover_body="Erratum workaround.")
    tested = series_from_text(text, cover_body="Erratum workaround.",
                              cover_trailers=(Trailer("Tested-by", "Tom <tom@example.org>", "Tom <tom@example.org>"),))
    assert _fired(untested, "TEST-HARDWARE-SPECIFIC") and not _fired(tested, "TEST-HARDWARE-SPECIFIC")


def test_generic_code_is_questioned_only_in_a_series_for_one_architecture() -> None:
    arm64 = _mail("[PATCH 1/2] arm64/mm: vmemmap from the altmap", "Use the altmap.", "arch/arm64/mm/mmu.c",
                  ["\tvmemmap_populate(start, end, node, altmap);"])
    generic = _mail("[PATCH 2/2] mm: take an altmap", "Take an altmap.", "mm/sparse-vmemmap.c",
                    ["\tif (altmap)", "\t\treturn altmap_alloc_block_buf(size, altmap);"])
    x86 = _mail("[PATCH 2/2] x86/mm: vmemmap from the altmap", "Use the altmap.", "arch/x86/mm/init_64.c",
                ["\tvmemmap_populate(start, end, node, altmap);"])
    assert _fired(series_from_text(arm64 + generic), "DESIGN-GENERIC-CODE")
    assert not _fired(series_from_text(arm64 + x86 + generic), "DESIGN-GENERIC-CODE")
