"""The check engine: series awareness, other projects' patches, malformed diffs, the checklist."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.check.checklist import CATEGORIES, build_checklist, counted
from reviewtool.check.engine import is_kernel_patch, kernel_path, run_engine
from reviewtool.check.rules import RuleSet, load_rules
from reviewtool.model import Evidence, Finding
from tests.check_helpers import parse_patch, series_from_text

RULES = load_rules()


def only(*ids: str) -> RuleSet:
    rules = tuple(r for r in RULES.rules if r.id in ids)
    assert len(rules) == len(ids)
    return RuleSet(rules, RULES.packs)


def mail(subject: str, diff: str, tag: str = "PATCH", body: str = "A change.") -> str:
    return (f"From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
            f"From: Dev <dev@example.org>\nSubject: [{tag}] {subject}\n\n{body}\n\n"
            f"Signed-off-by: Dev <dev@example.org>\n---\n{diff}")


def file_diff(path: str, *hunks: str) -> str:
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
            + "".join(hunks))


KC = "kernel/kexec_core.c"
FN = "struct page *kimage_alloc_control_pages(struct kimage *image,"

ADD_BUG = file_diff(KC, f"@@ -50,3 +50,4 @@ {FN}\n \tpages = alloc(image, order);\n+\tBUG_ON(!pages);\n"
                        " \treturn pages;\n }\n")


# --- series awareness ---------------------------------------------------------------------


def test_a_finding_on_a_line_a_later_patch_removes_is_dropped_with_the_reason() -> None:
    remove = file_diff(KC, f"@@ -50,4 +50,3 @@ {FN}\n \tpages = alloc(image, order);\n-\tBUG_ON(!pages);\n"
                           " \treturn pages;\n }\n")
    series = series_from_text(mail("kexec: check", ADD_BUG) + mail("kexec: uncheck", remove))
    result = run_engine(series, only("COMMON-BUG-ON"))
    assert not [f for f in result.findings if f.rule == "COMMON-BUG-ON"]
    assert len(result.dropped) == 1
    assert result.dropped[0].reason == f"patch 2/2 removes or rewrites {KC}:51"
    # alone, the first patch does give the finding
    assert [f.rule for f in run_engine(series_from_text(mail("kexec: check", ADD_BUG)),
                                       only("COMMON-BUG-ON")).findings] == ["COMMON-BUG-ON"]


def test_a_finding_a_later_patch_only_reindents_is_kept() -> None:
    reindent = file_diff(KC, f"@@ -50,4 +50,6 @@ {FN}\n \tpages = alloc(image, order);\n-\tBUG_ON(!pages);\n"
                             "+\tif (order) {\n+\t\tBUG_ON(!pages);\n+\t}\n \treturn pages;\n }\n")
    result = run_engine(series_from_text(mail("kexec: check", ADD_BUG) + mail("kexec: nest", reindent)),
                        only("COMMON-BUG-ON"))
    found = [(f.evidence[0].patch, f.pre_existing) for f in result.findings if f.rule == "COMMON-BUG-ON"]
    # patch 1's finding stands; patch 2 only moves the line, so its copy is not new
    assert found == [(1, False), (2, True)]
    assert not result.dropped


def test_lines_are_followed_through_the_offsets_of_later_patches() -> None:
    insert_above = file_diff(KC, "@@ -10,2 +10,5 @@ int foo(void)\n a\n+b1\n+b2\n+b3\n c\n")
    # after patch 2 the BUG_ON is line 54; patch 3 removes old line 51 of patch 2's image (not it)
    remove_other = file_diff(KC, "@@ -50,3 +50,2 @@ x\n x\n-y\n z\n")
    remove_it = file_diff(KC, f"@@ -53,3 +53,2 @@ {FN}\n \tpages = alloc(image, order);\n-\tBUG_ON(!pages);\n"
                              " \treturn pages;\n")
    kept = run_engine(series_from_text(mail("a", ADD_BUG) + mail("b", insert_above) + mail("c", remove_other)),
                      only("COMMON-BUG-ON"))
    assert [f.rule for f in kept.findings] == ["COMMON-BUG-ON"] and not kept.dropped
    gone = run_engine(series_from_text(mail("a", ADD_BUG) + mail("b", insert_above) + mail("c", remove_it)),
                      only("COMMON-BUG-ON"))
    assert not gone.findings and "patch 3/3 removes" in gone.dropped[0].reason


def test_a_finding_in_a_file_a_later_patch_deletes_is_dropped() -> None:
    delete = (f"diff --git a/{KC} b/{KC}\ndeleted file mode 100644\nindex 2222222..0000000\n--- a/{KC}\n"
              f"+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n")
    result = run_engine(series_from_text(mail("a", ADD_BUG) + mail("b", delete)), only("COMMON-BUG-ON"))
    assert not result.findings and result.dropped[0].reason == f"patch 2/2 deletes {KC}"


def test_a_finding_a_later_patch_fixes_in_the_same_function_is_dropped() -> None:
    path = "arch/arm64/mm/trans_pgd.c"
    fn = "static void trans_switch(phys_addr_t ttbr)"
    add_tlbi = file_diff(path, f"@@ -300,3 +300,4 @@ {fn}\n {{\n+\t__tlbi(vmalle1);\n \twrite_sysreg(ttbr, ttbr1_el1);\n"
                               " \tisb();\n")
    add_dsb = file_diff(path, f"@@ -301,3 +301,4 @@ {fn}\n \t__tlbi(vmalle1);\n+\tdsb(nsh);\n"
                              " \twrite_sysreg(ttbr, ttbr1_el1);\n \tisb();\n")
    result = run_engine(series_from_text(mail("tlbi", add_tlbi) + mail("dsb", add_dsb)), only("ARM64-TLBI-IN-C"))
    assert not result.findings
    assert result.dropped[0].reason == "patch 2/2 adds 'dsb(nsh);' in trans_switch()"


def test_code_moved_or_reindented_in_the_same_function_is_pre_existing_and_not_counted() -> None:
    fn = "void machine_kexec(struct kimage *kimage)"
    reindent = file_diff("arch/arm64/kernel/machine_kexec.c",
                         f"@@ -40,3 +40,5 @@ {fn}\n \tlocal_daif_mask();\n-\tcpu_install_idmap();\n"
                         "+\tif (!(kimage->head & IND_DONE)) {\n+\t\tcpu_install_idmap();\n+\t}\n \tBUG();\n")
    result = run_engine(series_from_text(mail("idmap only when relocating", reindent)), only("KEXEC-MMU-STATE"))
    (f,) = result.findings
    assert f.pre_existing and "moved or re-indented" in f.reason and not counted(f)
    assert build_checklist(result.findings) == ()


def test_a_line_already_on_the_base_in_the_same_function_is_pre_existing() -> None:
    base = f"{FN}\n\t\t\t\t\t unsigned int order)\n{{\n\tpages = alloc(image, order);\n\tBUG_ON(!pages);\n}}\n"
    other = "int other(void)\n{\n\tBUG_ON(!pages);\n}\n"
    series = series_from_text(mail("kexec: check", ADD_BUG))
    same = run_engine(series, only("COMMON-BUG-ON"), base_image=lambda p: base if p == KC else None)
    assert same.findings[0].pre_existing and same.findings[0].reason == "already on the base"
    elsewhere = run_engine(series, only("COMMON-BUG-ON"), base_image=lambda p: other if p == KC else None)
    assert not elsewhere.findings[0].pre_existing  # the same line in another function is not it
    no_base = run_engine(series, only("COMMON-BUG-ON"))
    assert not no_base.findings[0].pre_existing


# --- other projects -----------------------------------------------------------------------


def test_kexec_tools_and_makedumpfile_patches_get_only_the_generic_checks() -> None:
    body = "@@ -10,2 +10,6 @@ int main(void)\n a\n+#if 0\n+\tBUG_ON(x);\n+#endif\n+\tif (fopen(\"/proc/iomem\", \"r\"))\n b\n"
    kt = mail("arm64: read the crash ranges", file_diff("kexec/arch/arm64/kexec-arm64.c", body),
              tag="PATCH kexec-tools")
    series = series_from_text(kt)
    result = run_engine(series, only("COMMON-IF-0", "COMMON-BUG-ON", "KEXECTOOLS-KERNEL-INTERFACE"))
    assert sorted(f.rule for f in result.findings) == ["COMMON-IF-0", "KEXECTOOLS-KERNEL-INTERFACE"]
    assert any("not a kernel patch" in n for n in result.notes)
    # the same change in a kernel file gets the kernel rules and not the kexec-tools one
    kern = run_engine(series_from_text(mail("kexec: x", file_diff(KC, body))),
                      only("COMMON-IF-0", "COMMON-BUG-ON", "KEXECTOOLS-KERNEL-INTERFACE"))
    assert sorted(f.rule for f in kern.findings) == ["COMMON-BUG-ON", "COMMON-IF-0"]


def test_kernel_paths_and_other_projects_are_told_apart() -> None:
    assert kernel_path("arch/arm64/kernel/machine_kexec.c") and kernel_path("Documentation/x.rst")
    assert kernel_path("MAINTAINERS") and kernel_path("tools/testing/selftests/kexec/x.sh")
    for other in ("kexec/kexec.c", "purgatory/purgatory.c", "makedumpfile.c", "arch/arm64.c", "configure.ac"):
        assert not kernel_path(other), other
    p = parse_patch(mail("arm64: fix", file_diff("arch/arm64.c", "@@ -1 +1 @@\n-a\n+b\n"), tag="PATCH makedumpfile"))
    assert not is_kernel_patch(p)
    tagged = parse_patch(mail("fix", file_diff("include/elf.h", "@@ -1 +1 @@\n-a\n+b\n"), tag="PATCH kexec-tools v2"))
    assert not is_kernel_patch(tagged)


# --- malformed patches ----------------------------------------------------------------------


def test_malformed_patches_give_a_note_or_findings_never_an_exception() -> None:
    truncated = file_diff(KC, f"@@ -50,9 +50,10 @@ {FN}\n \tpages = alloc(image, order);\n+\tBUG_ON(!pages);\n")
    binary = ("diff --git a/fw.bin b/fw.bin\nindex 1111111..2222222 100644\n"
              "Binary files a/fw.bin and b/fw.bin differ\n")
    rename = ("diff --git a/kernel/old_kexec.c b/kernel/kexec_core.c\nsimilarity index 90%\n"
              "rename from kernel/old_kexec.c\nrename to kernel/kexec_core.c\nindex 1111111..2222222 100644\n"
              f"--- a/kernel/old_kexec.c\n+++ b/kernel/kexec_core.c\n@@ -50,2 +50,3 @@ {FN}\n \ta\n+\tBUG_ON(!p);\n \tb\n")
    mode = "diff --git a/scripts/x.sh b/scripts/x.sh\nold mode 100644\nnew mode 100755\n"
    crlf = ADD_BUG.replace("\n", "\r\n")
    latin1 = file_diff(KC, "@@ -1,2 +1,3 @@\n a\n+\tBUG_ON(caf\udce9);\n b\n")  # undecodable byte, as fetch keeps it
    garbage = "diff --git a/x b/x\n@@ -1,2 +1,2 @@ oops\n\x00\x01\n@@ nonsense\n"
    series = series_from_text("".join(mail(f"p{i}", d) for i, d in
                                      enumerate((truncated, binary, rename, mode, crlf, latin1, garbage))))
    result = run_engine(series, RULES)
    bugs = {f.evidence[0].patch for f in result.findings if f.rule == "COMMON-BUG-ON"}
    assert {1, 3, 5, 6} <= bugs  # truncated, renamed, CRLF and undecodable patches are still checked
    assert any(n.startswith("patch 1/7: malformed diff") for n in result.notes)
    renamed = next(f for f in result.findings if f.rule == "COMMON-BUG-ON" and f.evidence[0].patch == 3)
    assert renamed.evidence[0].file == KC
    build_checklist(result.findings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("+- @\n\t\r,0123456789abdfgix/.\\")), max_size=400))
def test_the_engine_survives_hostile_diffs(junk: str) -> None:
    diff = file_diff(KC, "@@ -1,3 +1,3 @@\n" + junk)
    series = series_from_text(mail("junk", diff) + mail("more junk", "diff --git a/a b/b\n" + junk))
    result = run_engine(series, RULES)
    for f in result.findings:
        assert f.evidence


# --- the checklist ------------------------------------------------------------------------------


def finding(rule: str, category: str, patch: int, line: int, **kw: object) -> Finding:
    base = dict(rule=rule, title=f"{rule} title", severity="warning", category=category, message="m",
                question=f"{rule}?", evidence=(Evidence(patch, "a.c", line, ("+x",)),))
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_the_checklist_merges_by_rule_and_question_in_category_order() -> None:
    items = build_checklist([
        finding("B-RULE", "design_approach", 1, 5),
        finding("A-RULE", "kdump_impact", 3, 9),
        finding("A-RULE", "kdump_impact", 1, 2),
        finding("A-RULE", "kdump_impact", 2, 2, question="A sharper question?"),
    ])
    assert [(i.category, i.rules, i.question) for i in items] == [
        ("kdump_impact", ("A-RULE",), "A-RULE?"),
        ("kdump_impact", ("A-RULE",), "A sharper question?"),
        ("design_approach", ("B-RULE",), "B-RULE?"),
    ]
    assert [e.patch for e in items[0].evidence] == [1, 3]
    assert list(CATEGORIES)[0] == "kdump_impact" and len(CATEGORIES) == 15


def test_an_item_is_looks_ok_only_when_all_its_findings_are_and_never_without_evidence() -> None:
    ok = finding("A-RULE", "alloc_failure", 1, 1, status="looks-ok", reason="returns -ENOMEM at load time")
    items = build_checklist([ok])
    assert items[0].status == "looks-ok" and items[0].reason == "returns -ENOMEM at load time"
    mixed = build_checklist([ok, finding("A-RULE", "alloc_failure", 2, 1)])
    assert mixed[0].status == "needs-review" and mixed[0].reason == ""
    assert build_checklist([finding("A-RULE", "alloc_failure", 1, 1, evidence=())]) == ()
    assert build_checklist([finding("A-RULE", "alloc_failure", 1, 1, pre_existing=True)]) == ()


def test_the_real_v16_series_puts_the_maintainers_questions_in_the_checklist(tmp_path: Path) -> None:
    """The arm64 maintainer's questions on v16, from patches shaped like the series' own."""
    fn = "int machine_kexec_post_load(struct kimage *kimage)"
    mk = "arch/arm64/kernel/machine_kexec.c"
    p11 = file_diff(mk, f"@@ -177,6 +177,12 @@ {fn}\n \t\t\treturn rc;\n \t}}\n \n"
                        "+\t/* Create a copy of the linear map */\n+\ttrans_pgd = kexec_page_alloc(kimage);\n"
                        "+\tif (!trans_pgd)\n+\t\treturn -ENOMEM;\n"
                        "+\trc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET, PAGE_END);\n"
                        "+\tif (rc)\n+\t\treturn rc;\n \treloc_size = 0;\n")
    p12 = file_diff("arch/arm64/kernel/relocate_kernel.S",
                    "@@ -60,6 +60,8 @@ SYM_CODE_START(arm64_relocate_new_kernel)\n \tic\tiallu\n \tdsb\tnsh\n \tisb\n"
                    "+\tmov_q\tx12, INIT_SCTLR_EL1_MMU_OFF\n+\tmsr\tsctlr_el1, x12\n"
                    " \tldr\tx4, [x0, #KIMAGE_START]\n \tbr\tx4\n \tnop\n")
    series = series_from_text(mail("arm64: kexec: install a copy of the linear-map", p11)
                              + mail("arm64: kexec: keep MMU enabled during kexec relocation", p12))
    cats = {i.category for i in build_checklist(run_engine(series, RULES).findings)}
    assert {"kdump_impact", "alloc_failure", "relocation_path"} <= cats


def test_a_commit_message_rule_points_at_the_message_line(tmp_path: Path) -> None:
    pack = tmp_path / "msg.toml"
    pack.write_text('''
[[rule]]
id = "TEST-STABLE-CC"
title = "Cc stable"
severity = "info"
category = "commit_msg_trailers"
commit_message = ['^Cc: stable@vger\\.kernel\\.org']
unless_message = ['^Fixes: ']
message = "found {match}"
question = "Which stable kernels need it?"
[rule.doc]
what = "w"
why = "y"
example = "Cc: stable@vger.kernel.org"
not_flagged = "with a Fixes: tag"
''', encoding="utf-8")
    from reviewtool.check.rules import load_pack

    rules = RuleSet(tuple(load_pack(pack)), ())
    body = "Fix it.\n\nCc: stable@vger.kernel.org"
    (f,) = run_engine(series_from_text(mail("kexec: fix", ADD_BUG, body=body)), rules).findings
    assert f.evidence == (Evidence(1, None, None, ("Cc: stable@vger.kernel.org",)),)
    assert f.message == "found Cc: stable@vger.kernel.org"
    fixed = mail("kexec: fix", ADD_BUG, body="Fix it.\n\nFixes: 0123456789ab (\"x\")\n" + body)
    assert not run_engine(series_from_text(fixed), rules).findings
