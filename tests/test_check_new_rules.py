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


def _diff_mail(subject: str, body: str, diff: str) -> str:
    return f"{HEAD}Subject: {subject}\n\n{body}\n\nSigned-off-by: Jane Doe <jane@example.org>\n---\n{diff}"


def test_message_typo_names_the_code_name_one_letter_away_but_not_one_that_differs_in_a_digit_or_level() -> None:
    added = ["\tif (cpus_have_const_cap(ARM64_HAS_STAGE2_FWB) && S2FWB_ON)", "\t\twrite_sysreg(0, TTBR1_EL1);"]
    wrong = series_from_text(_mail("[PATCH] KVM: arm64: skip the flush with S2FWB", "S2FWB forces cacheable accesses, so with S2FWD the flush does nothing.",
                                   "arch/arm64/kvm/mmu.c", added))
    assert _fired(wrong, "COMMIT-MESSAGE-TYPO") == ["The message spells 'S2FWD' (S2FWB?)."]
    other = series_from_text(_mail("[PATCH] KVM: arm64: skip the flush with S2FWB",
                                   "TTBR0_EL1 is left alone; pud_free_pmd_page() too.", "arch/arm64/kvm/mmu.c",
                                   added + ["\tpmd_free_pte_page(p, a);"]))
    assert _fired(other, "COMMIT-MESSAGE-TYPO") == []


def test_message_typo_finds_a_common_misspelling_but_not_in_quoted_code_or_logs() -> None:
    added = ["\tfree_initrd_mem(start, end);"]
    prose = series_from_text(_mail("[PATCH] arm64: use the generic free_initrd_mem()",
                                   "Use the generic implementaion.", "arch/arm64/mm/init.c", added))
    assert _fired(prose, "COMMIT-MESSAGE-TYPO") == ["The message spells 'implementaion' (implementation?)."]
    quoted = series_from_text(_mail("[PATCH] arm64: use the generic free_initrd_mem()",
                                    "The log says:\n\n    implementaion missing\n", "arch/arm64/mm/init.c", added))
    assert _fired(quoted, "COMMIT-MESSAGE-TYPO") == []


_MOVE = """diff --git a/arch/arm64/mm/init.c b/arch/arm64/mm/init.c
index 1111111..2222222 100644
--- a/arch/arm64/mm/init.c
+++ b/arch/arm64/mm/init.c
@@ -10,4 +10,3 @@ void __init first_step(void)
 {{
 	setup_a();
-	reserve_b(SZ_1G);
 }}
@@ -30,3 +29,{n} @@ {dest}
 {{
 	setup_c();
{added} }}
"""


def test_a_call_moved_to_another_function_is_asked_about_but_not_one_taken_into_a_new_helper() -> None:
    moved = _MOVE.format(n=4, dest="void __init second_step(void)", added="+\treserve_b(SZ_1G);\n")
    series = series_from_text(_diff_mail("[PATCH] arm64: mm: reserve later", "Reserve after the nodes exist.", moved))
    assert _fired(series, "DOCS-MOVED-CALL-UNCOMMENTED") == [
        "A call moves from first_step() to second_step(), with no comment at its new place."]
    helper = _MOVE.format(n=6, dest="void __init second_step(void)",
                          added="+}\n+\n+static void __init new_helper(void)\n+{\n+\treserve_b(SZ_1G);\n")
    helper = helper.replace("@@ -30,3 +29,6 @@", "@@ -30,3 +29,8 @@")
    series = series_from_text(_diff_mail("[PATCH] arm64: mm: a helper", "Take the reservation out.", helper))
    assert _fired(series, "DOCS-MOVED-CALL-UNCOMMENTED") == []


_GFP = """diff --git a/arch/arm64/mm/pgd.c b/arch/arm64/mm/pgd.c
index 1111111..2222222 100644
--- a/arch/arm64/mm/pgd.c
+++ b/arch/arm64/mm/pgd.c
@@ -10,3 +10,3 @@ pgd_t *pgd_alloc(struct mm_struct *mm)
 {{
-{old}
+{new}
 }}
"""


def test_gfp_change_names_the_old_and_new_flags_and_leaves_the_same_flags_alone() -> None:
    def fired(old: str, new: str) -> list[str]:
        text = _diff_mail("[PATCH] arm64/mm: pgd_alloc flags", "Change the flags.", _GFP.format(old=old, new=new))
        return _fired(series_from_text(text), "ALLOC-GFP-CHANGED")

    assert fired("\treturn kmem_cache_alloc(pgd_cache, gfp);", "\treturn kmem_cache_alloc(pgd_cache, GFP_PGTABLE_KERNEL);") \
        == ["kmem_cache_alloc() is now called with `GFP_PGTABLE_KERNEL` instead of `gfp`."]
    assert fired("\tp = kzalloc(n, GFP_KERNEL);", "\tp = kzalloc(n, GFP_ATOMIC);") \
        == ["The allocation's GFP flags change (GFP_KERNEL out, GFP_ATOMIC in)."]
    assert fired("\tp = kzalloc(n * 2, GFP_KERNEL);", "\tp = kzalloc(array_size(n, 2), GFP_KERNEL);") == []


_PTE = """diff --git a/arch/arm64/include/asm/pgtable-prot.h b/arch/arm64/include/asm/pgtable-prot.h
index 1111111..2222222 100644
--- a/arch/arm64/include/asm/pgtable-prot.h
+++ b/arch/arm64/include/asm/pgtable-prot.h
@@ -10,1 +10,1 @@
-{old}
+{new}
"""


def test_pte_bits_are_asked_about_when_a_bit_is_dropped_not_when_one_is_added_or_a_size_changes() -> None:
    def fired(old: str, new: str) -> list[str]:
        text = _diff_mail("[PATCH] arm64: prot", "Change the protections.", _PTE.format(old=old, new=new))
        return _fired(series_from_text(text), "TEST-PTE-BITS")

    assert fired("#define PROT_X (PTE_PXN | PTE_DIRTY)", "#define PROT_X (PTE_PXN)") == [
        "Page-table entry bits are no longer used here (PTE_DIRTY)."]
    assert fired("#define PROT_X (PTE_PXN)", "#define PROT_X (PTE_PXN | PTE_GP)") == []
    assert fired("#define PTE_X_END (PAGE_OFFSET + PAGE_SIZE)", "#define PTE_X_END (PAGE_END)") == []


def test_a_plain_export_asks_its_licence_question_under_abi_compatibility() -> None:
    series = series_from_text(_mail("[PATCH] arm64: export the stub vectors", "Export them.",
                                    "arch/arm64/kernel/hyp-stub.c", ["EXPORT_SYMBOL(__hyp_stub_vectors);"]))
    rule = next(r for r in RULES.rules if r.id == "COMMON-EXPORT-SYMBOL")
    found = [f for f in run_engine(series, RuleSet((rule,), RULES.packs)).findings if counted(f)]
    assert [f.category for f in found] == ["abi_compat"]


def test_a_fix_is_asked_for_its_fixes_tag_when_a_sentence_of_its_message_fixes_a_named_commit() -> None:
    def fired(body: str) -> list[str]:
        text = _mail("[PATCH] efi/libstub/arm64: take the image base from _text", body,
                     "drivers/firmware/efi/libstub/arm64-stub.c", ["\timage_addr = (u64)_text;"])
        return _fired(series_from_text(text), "COMMIT-FIX-NO-FIXES")

    assert fired("Use _text.\n\nWhile at it, fix another issue in commit\n9f9223778ef3, which may crash.") == [
        "The message says this fixes a commit it names, but there is no Fixes: tag and no Cc: stable."]
    assert fired("Like commit 9f9223778ef3 did for arm, use _text here.\n\nThis fixes the load offset.") == []
    assert fired("Fix another issue in commit 9f9223778ef3.\n\nFixes: 9f9223778ef3 (\"efi: entry\")") == []


def test_a_described_failure_asks_for_fixes_and_stable_unless_stable_is_copied_or_the_change_is_for_debugging() -> None:
    def fired(body: str, subject: str = "[PATCH] arm64: kaslr: keep modules inside the module region") -> list[str]:
        text = _mail(subject, body, "arch/arm64/kernel/kaslr.c", ["\tmodule_alloc_end = MODULES_END;"])
        return _fired(series_from_text(text), "COMMIT-FAILURE-NO-STABLE")

    warn = "The window intersects the vmalloc region, causing a\nWARN() and other trouble."
    assert fired(warn) == ["The message describes a failure (`WARN()`), with no Fixes: tag and no Cc: stable."]
    assert fired(warn + "\n\nCc: <stable@vger.kernel.org>") == []
    assert fired("This helps when debugging memory\ncorruption on these machines.") == []
    assert fired("Two CPUs boot; the second one panics.", "[PATCH] arm64: smp: fix a comment") == []


_EL2 = """diff --git a/arch/arm64/include/asm/cpucaps.h b/arch/arm64/include/asm/cpucaps.h
index 1111111..2222222 100644
--- a/arch/arm64/include/asm/cpucaps.h
+++ b/arch/arm64/include/asm/cpucaps.h
@@ -10,3 +10,3 @@
 #define ARM64_HAS_RNG				36
-#define ARM64_WORKAROUND_SPECULATIVE_AT_VHE	37
+#define {new}	37
 #define ARM64_HAS_E0PD				38
"""


def test_el2_state_change_asks_when_a_vhe_only_name_goes_away_but_not_when_it_stays_or_is_a_comment() -> None:
    def fired(new: str) -> list[str]:
        text = _diff_mail("[PATCH] arm64: one speculative AT workaround", "Merge the workarounds.",
                          _EL2.format(new=new))
        return _fired(series_from_text(text), "EL2-STATE-CHANGE")

    assert fired("ARM64_WORKAROUND_SPECULATIVE_AT") == [
        "`ARM64_WORKAROUND_SPECULATIVE_AT_VHE` goes away, and nothing added in the patch names it."]
    assert fired("ARM64_WORKAROUND_SPECULATIVE_AT_VHE /* A76 */") == []
    comment = _EL2.replace("-#define ARM64_WORKAROUND_SPECULATIVE_AT_VHE\t37", "-/* ARM64_WORKAROUND_SPECULATIVE_AT_VHE */")
    text = _diff_mail("[PATCH] arm64: comments", "Drop a comment.", comment.format(new="ARM64_HAS_X"))
    assert _fired(series_from_text(text), "EL2-STATE-CHANGE") == []


def test_is_enabled_is_asked_about_in_c_code_but_not_on_a_preprocessor_line() -> None:
    def fired(line: str) -> list[str]:
        text = _mail("[PATCH] efi/libstub/arm64: run in place", "Run in place.",
                     "drivers/firmware/efi/libstub/arm64-stub.c", [line])
        return _fired(series_from_text(text), "KCONFIG-IS-ENABLED")

    assert fired("\tif (IS_ENABLED(CONFIG_RELOCATABLE) && aligned)") == ["new code runs only with `CONFIG_RELOCATABLE`"]
    assert fired("#if IS_ENABLED(CONFIG_RELOCATABLE)") == []
