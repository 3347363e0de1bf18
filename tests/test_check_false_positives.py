"""False positives (and one miss) of the checklist, each shaped like a real review thread's patch."""

from __future__ import annotations

from pathlib import Path

from reviewtool.check.checklist import build_checklist, counted
from reviewtool.check.engine import run_engine
from reviewtool.check.external import run_checkpatch
from reviewtool.check.rules import RuleSet, load_rules
from reviewtool.model import ChecklistItem, Trailer
from reviewtool.record import replace
from tests.check_helpers import series_from_text
from tests.test_check_checkpatch import checkpatch  # noqa: F401 - the session fixture

RULES = load_rules()


def only(*ids: str) -> RuleSet:
    return RuleSet(tuple(r for r in RULES.rules if r.id in ids), RULES.packs)


def mail(subject: str, diff: str, body: str = "Rework the code.", trailers: str = "") -> str:
    return (f"From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
            f"From: Dev <dev@example.org>\nSubject: [PATCH] {subject}\n\n{body}\n\n{trailers}"
            f"Signed-off-by: Dev <dev@example.org>\n---\n{diff}")


def file_diff(path: str, hunk: str, header: str = "index 1111111..2222222 100644") -> str:
    return f"diff --git a/{path} b/{path}\n{header}\n--- a/{path}\n+++ b/{path}\n{hunk}"


def counted_rules(text: str, *ids: str) -> list[str]:
    result = run_engine(series_from_text(text), only(*ids))
    return [f.rule for f in result.findings if counted(f)]


# 1. a line moved to another file is not a removal -----------------------------------------

MOVE_CRASHK = (
    file_diff("kernel/kexec_core.c", "@@ -50,7 +50,3 @@ static int kimage_load(struct kimage *image)\n"
              " \treturn 0;\n }\n \n-struct resource crashk_res = {\n-\t.name  = \"Crash kernel\",\n"
              "-\t.flags = IORESOURCE_BUSY | IORESOURCE_SYSTEM_RAM,\n-};\n")
    + file_diff("kernel/crash_core.c", "@@ -20,3 +20,7 @@ static int crash_init(void)\n"
                " \treturn 0;\n }\n \n+struct resource crashk_res = {\n+\t.name = \"Crash kernel\",\n"
                "+\t.flags = IORESOURCE_BUSY | IORESOURCE_SYSTEM_RAM,\n+};\n"))


def test_iomem_name_moved_to_another_file_is_not_reported_as_removed() -> None:
    assert counted_rules(mail("crash: move crashk_res to crash_core.c", MOVE_CRASHK), "UAPI-IOMEM-NAME") == []


def test_iomem_name_removed_for_good_is_still_reported() -> None:
    gone = file_diff("kernel/kexec_core.c", "@@ -50,6 +50,2 @@ static int kimage_load(struct kimage *image)\n"
                     " \treturn 0;\n }\n-struct resource crashk_res = {\n-\t.name  = \"Crash kernel\",\n-};\n \n")
    assert counted_rules(mail("kexec: drop crashk_res", gone), "UAPI-IOMEM-NAME") == ["UAPI-IOMEM-NAME"]


# 2. "If X fails" is asked of calls only ---------------------------------------------------

COMMON_EXIT = file_diff("arch/arm64/kernel/machine_kexec.c",
                        "@@ -150,4 +150,13 @@ int machine_kexec_post_load(struct kimage *kimage)\n"
                        " \tint rc;\n \n+\tif (!kimage->arch.el2_vectors)\n+\t\tgoto out;\n"
                        "+\trc = trans_pgd_copy_el2_vectors(&info, &kimage->arch.el2_vectors);\n"
                        "+\tif (rc)\n+\t\tgoto out;\n+\tkexec_image_info(kimage);\n+out:\n+\treturn rc;\n"
                        " }\n \n")


def test_load_time_question_names_calls_not_a_return_statement() -> None:
    result = run_engine(series_from_text(mail("arm64: kexec: copy el2 vectors", COMMON_EXIT)),
                        only("KEXEC-LOAD-TIME-FAILURE"))
    questions = [f.question for f in result.findings]
    assert questions and all("`" not in q for q in questions), questions  # no statement taken for a call
    assert any("trans_pgd_copy_el2_vectors()" in q for q in questions)


# 3. the function of an allocation is the one at its line ----------------------------------

TWO_FUNCTIONS = file_diff("kernel/kexec_core.c", """@@ -100,10 +100,24 @@ static void kimage_free_pgd(struct kimage *image)
 	kfree(image->pgd);
 }
 
+static int mmu_relocate_setup(struct kimage *image)
+{
+	void *pgd;
+
+	pgd = kzalloc(PAGE_SIZE, GFP_KERNEL);
+	if (!pgd)
+		return -ENOMEM;
+	image->pgd = pgd;
+	return 0;
+}
+
 static int map_segments(struct kimage *image)
 {
-	int i;
+	int i, rc;
+	void *buf;
 
+	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
+	if (!buf)
+		return -ENOMEM;
 	for (i = 0; i < image->nr_segments; i++) {
 		rc = map_one(image, i);
""")


def test_allocation_is_attributed_to_the_function_at_its_line_not_the_hunks() -> None:
    result = run_engine(series_from_text(mail("kexec: map with the MMU on", TWO_FUNCTIONS)),
                        only("ALLOC-UNCHECKED", "ALLOC-LEAK-ON-ERROR"))
    messages = {f.message for f in result.findings}
    assert any(m.startswith("kmalloc() in map_segments()") for m in messages), messages
    assert any(m.startswith("kzalloc() in mmu_relocate_setup()") for m in messages), messages
    assert not any("map_segments" in m and "kzalloc" in m for m in messages), messages


# 4. a BUG_ON moved to another file is not new ---------------------------------------------

MOVE_BUG = (
    file_diff("kernel/kexec_core.c", "@@ -60,5 +60,2 @@ void crash_kexec(struct pt_regs *regs)\n"
              " \tint cpu;\n-\n-\tBUG_ON(!kexec_crash_image);\n-\tcpu = raw_smp_processor_id();\n }\n")
    + file_diff("kernel/crash_core.c", "@@ -30,2 +30,5 @@ void crash_kexec(struct pt_regs *regs)\n"
                " \tint cpu;\n+\n+\tBUG_ON(!kexec_crash_image);\n+\tcpu = raw_smp_processor_id();\n }\n"))


def test_bug_on_moved_to_another_file_is_pre_existing() -> None:
    result = run_engine(series_from_text(mail("crash: move crash_kexec to crash_core.c", MOVE_BUG)),
                        only("COMMON-BUG-ON"))
    found = [f for f in result.findings if f.rule == "COMMON-BUG-ON"]
    assert found and all(f.pre_existing for f in found)


def test_bug_on_moved_in_an_earlier_patch_of_the_series_is_pre_existing() -> None:
    removed, added = MOVE_BUG.split("diff --git a/kernel/crash_core.c")
    series = mail("kexec: drop the BUG_ON", removed) + mail("crash: add it here", "diff --git a/kernel/crash_core.c" + added)
    result = run_engine(series_from_text(series), only("COMMON-BUG-ON"))
    assert [f.pre_existing for f in result.findings if f.rule == "COMMON-BUG-ON"] == [True]


def test_checkpatch_avoid_bug_on_a_moved_line_is_pre_existing(checkpatch: Path) -> None:  # noqa: F811
    findings, notes = run_checkpatch(checkpatch, series_from_text(mail("crash: move crash_kexec", MOVE_BUG)))
    bug = [f for f in findings if f.rule == "checkpatch:AVOID_BUG"]
    assert bug, (findings, notes)
    assert all(f.pre_existing for f in bug)
    assert not [i for i in build_checklist(bug)]


def test_checkpatch_avoid_bug_on_a_new_line_is_counted(checkpatch: Path) -> None:  # noqa: F811
    new = MOVE_BUG.split("diff --git a/kernel/crash_core.c")[1]
    findings, _ = run_checkpatch(checkpatch, series_from_text(mail("crash: check", "diff --git a/kernel/crash_core.c" + new)))
    assert [f.pre_existing for f in findings if f.rule == "checkpatch:AVOID_BUG"] == [False]


# 5. vmcoreinfo: a macro definition is not an entry; vmcoreinfo_append_str() is ----------

def test_vmcoreinfo_macro_definition_is_not_an_entry() -> None:
    define = file_diff("include/linux/crash_core.h", "@@ -70,2 +70,4 @@\n #define VMCOREINFO_OSRELEASE(value) \\\n"
                       " \tvmcoreinfo_append_str(\"OSRELEASE=%s\\n\", value)\n"
                       "+#define VMCOREINFO_PAGESIZE(value) \\\n+\tvmcoreinfo_append_str(\"PAGESIZE=%ld\\n\", value)\n")
    assert counted_rules(mail("crash: add VMCOREINFO_PAGESIZE", define), "UAPI-VMCOREINFO") == []


def test_vmcoreinfo_append_str_of_a_new_key_is_reported() -> None:
    add = file_diff("arch/arm64/kernel/crash_core.c",
                    "@@ -20,3 +20,5 @@ void arch_crash_save_vmcoreinfo(void)\n \tVMCOREINFO_NUMBER(VA_BITS);\n"
                    "+\tvmcoreinfo_append_str(\"NUMBER(KERNELPACMASK)=0x%llx\\n\",\n"
                    "+\t\t\t\t\t\tsystem_supports_address_auth() ? ptrauth_kernel_pac_mask() : 0);\n }\n")
    result = run_engine(series_from_text(mail("arm64: crash: add KERNELPACMASK", add)), only("UAPI-VMCOREINFO"))
    found = [f for f in result.findings if counted(f)]
    assert len(found) == 1 and "NUMBER(KERNELPACMASK)" in (found[0].message or "")
    assert "makedumpfile" in found[0].question


# 6. kdump path, relocation code, Tested-by, dead variables, one item per concern --------

def test_bare_ifdef_is_not_a_change_to_the_kdump_path() -> None:
    ifdef = file_diff("kernel/crash_core.c", "@@ -10,3 +10,5 @@\n #include <linux/kexec.h>\n+#ifdef CONFIG_KEXEC_ELF\n"
                      " #include <linux/elf.h>\n+#endif\n \n")
    assert counted_rules(mail("crash: build the ELF code only when needed", ifdef), "KEXEC-CRASH-PATH-CHANGE") == []


def test_removing_an_unused_variable_is_not_a_change_to_the_kdump_path() -> None:
    dead = file_diff("kernel/crash_core.c", "@@ -40,4 +40,3 @@ void crash_save_cpu(struct pt_regs *regs, int cpu)\n"
                     " \tstruct elf_prstatus prstatus;\n-\tstruct kimage *image = kexec_crash_image;\n"
                     " \tu32 *buf;\n \n")
    assert counted_rules(mail("kdump: crash_save_cpu: remove the unused image", dead), "KEXEC-CRASH-PATH-CHANGE") == []


def test_reloc_code_evidence_is_not_an_include_and_a_pure_rename_does_not_count() -> None:
    s = "arch/arm64/kernel/relocate_kernel.S"
    diff = file_diff(s, "@@ -10,2 +10,3 @@\n #include <asm/kexec.h>\n+#include <asm/virt.h>\n #include <asm/page.h>\n"
                     "@@ -60,3 +61,3 @@ SYM_CODE_START(arm64_relocate_new_kernel)\n \tmov\tx1, xzr\n"
                     "-\tbr\tx17\n+\thvc\t#0\n \tnop\n")
    result = run_engine(series_from_text(mail("arm64: kexec: enter EL2", diff)), only("KEXEC-RELOC-CODE"))
    lines = [ln for f in result.findings for e in f.evidence for ln in e.lines]
    assert lines and not any("#include" in ln for ln in lines), lines
    rename = (f"diff --git a/arch/arm64/kernel/cpu-reset.S b/{s}\nsimilarity index 100%\n"
              f"rename from arch/arm64/kernel/cpu-reset.S\nrename to {s}\n")
    assert counted_rules(mail("arm64: kexec: rename", rename), "KEXEC-RELOC-CODE") == []


BIG_RELOC = file_diff("arch/arm64/kernel/relocate_kernel.S",
                      "@@ -10,2 +10,42 @@ SYM_CODE_START(arm64_relocate_new_kernel)\n \tnop\n"
                      + "".join(f"+\tmov\tx{i % 16}, x{(i + 1) % 16}\n" for i in range(40)) + " \tnop\n")


def test_reloc_untested_honours_a_tested_by_in_the_body_or_from_replies() -> None:
    assert counted_rules(mail("arm64: kexec: big", BIG_RELOC), "KEXEC-RELOC-UNTESTED") == ["KEXEC-RELOC-UNTESTED"]
    in_body = mail("arm64: kexec: big", BIG_RELOC, trailers="Tested-By: Tester <t@example.org>\n")
    assert counted_rules(in_body, "KEXEC-RELOC-UNTESTED") == []
    series = series_from_text(mail("arm64: kexec: big", BIG_RELOC))
    p = series.patches[0]
    p = replace(p, trailers=(Trailer("Tested-by", "Tester <t@example.org>", "Tester <t@example.org>", "reply"),))
    result = run_engine(replace(series, patches=(p,)), only("KEXEC-RELOC-UNTESTED"))
    assert [f for f in result.findings if counted(f)] == []


def _load_work(fn_call: str) -> str:
    return file_diff("arch/arm64/kernel/machine_kexec.c",
                     "@@ -150,3 +150,6 @@ int machine_kexec_post_load(struct kimage *kimage)\n \tint rc;\n \n"
                     f"+\trc = {fn_call}(kimage);\n+\tif (rc)\n+\t\treturn rc;\n \treturn 0;\n")


def test_one_checklist_item_per_concern_across_functions_and_patches() -> None:
    text = mail("arm64: kexec: a", _load_work("trans_pgd_create_copy")) + \
        mail("arm64: kexec: b", _load_work("trans_pgd_idmap_page"))
    result = run_engine(series_from_text(text), only("KEXEC-CRASH-LOAD-WORK", "KEXEC-LOAD-TIME-FAILURE"))
    items = build_checklist(result.findings)
    by_rule: dict[str, list[ChecklistItem]] = {}
    for item in items:
        by_rule.setdefault(item.rules[0], []).append(item)
    assert {r: len(v) for r, v in by_rule.items()} == {"KEXEC-CRASH-LOAD-WORK": 1, "KEXEC-LOAD-TIME-FAILURE": 1}
    for (item,) in by_rule.values():
        assert "trans_pgd_create_copy()" in item.question and "trans_pgd_idmap_page()" in item.question
        assert {e.patch for e in item.evidence} == {1, 2}
    assert by_rule["KEXEC-LOAD-TIME-FAILURE"][0].question.startswith(
        "If trans_pgd_create_copy() or trans_pgd_idmap_page() fails,")


# 7. the miss: a variable returned where nothing set it ------------------------------------

def test_goto_to_the_common_exit_before_rc_is_set_is_reported() -> None:
    assert counted_rules(mail("arm64: kexec: copy el2 vectors", COMMON_EXIT), "ERROR-UNINIT-RETURN") == \
        ["ERROR-UNINIT-RETURN"]


def test_rc_set_before_every_goto_is_not_reported() -> None:
    fixed = COMMON_EXIT.replace("+\tif (!kimage->arch.el2_vectors)\n+\t\tgoto out;\n",
                                "+\trc = -EINVAL;\n+\tif (!kimage->arch.el2_vectors)\n+\t\tgoto out;\n")
    fixed = fixed.replace("+150,13 @@", "+150,14 @@")
    assert counted_rules(mail("arm64: kexec: copy el2 vectors", fixed), "ERROR-UNINIT-RETURN") == []


def test_goto_inside_a_loop_is_not_reported() -> None:
    loop = file_diff("kernel/kexec_core.c", "@@ -10,2 +10,12 @@\n \n+static int load_all(struct kimage *image)\n+{\n"
                     "+\tint i, rc;\n+\n+\tfor (i = 0; i < 4; i++) {\n+\t\tif (i && rc)\n+\t\t\tgoto out;\n"
                     "+\t\trc = load_one(image, i);\n+\t}\n+out:\n+\treturn rc;\n+}\n \n")
    assert counted_rules(mail("kexec: load all", loop), "ERROR-UNINIT-RETURN") == []
