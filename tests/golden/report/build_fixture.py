"""Rebuild the report fixture (series.json, apply.json, check.json, rules.json) in this folder.

    .venv/bin/python tests/golden/report/build_fixture.py

The series is a three-patch excerpt shaped like "arm64: MMU enabled kexec relocation": one
patch applies clean, one with a 3-way merge, one conflicts; findings cover a patch's code,
its commit message, the series as a whole, a pre-existing warning and a looks-ok item.
"""

from __future__ import annotations

import json
from pathlib import Path

from reviewtool.model import (
    ApplyResult,
    BaseChoice,
    ChecklistItem,
    CheckResult,
    Cover,
    Evidence,
    Finding,
    Hunk,
    Patch,
    PatchOutcome,
    Series,
    Trailer,
    to_json,
)

HERE = Path(__file__).resolve().parent
AUTHOR = "Ada Author <ada@example.org>"
LISTS_TO = ("Ada Author <ada@example.org>", "catalin.example@example.org", "will.example@example.org")
LISTS_CC = ("linux-arm-kernel@lists.infradead.org", "kexec@lists.infradead.org",
            "linux-kernel@vger.kernel.org", "Rene Reviewer <rene@example.org>")


def hunk(old: int, new: int, func: str, lines: list[str]) -> str:
    """A hunk with its header counts computed from its lines."""
    o = sum(1 for x in lines if not x.startswith("+"))
    n = sum(1 for x in lines if not x.startswith("-"))
    return f"@@ -{old},{o} +{new},{n} @@ {func}\n" + "".join(x + "\n" for x in lines)


def file_diff(path: str, index: str, hunks: list[str]) -> str:
    return (f"diff --git a/{path} b/{path}\nindex {index} 100644\n--- a/{path}\n+++ b/{path}\n"
            + "".join(hunks))


MK = "arch/arm64/kernel/machine_kexec.c"
RK = "arch/arm64/kernel/relocate_kernel.S"

DIFF1 = file_diff(MK, "90a335c74442..3a034bc25709", [
    hunk(70, 70, "int machine_kexec_post_load(struct kimage *kimage)", [
        " \tvoid *reloc_code = page_to_virt(kimage->control_code_page);",
        " ",
        " \tkexec_image_info(kimage);",
        "+",
        "+\t/*",
        "+\t * For execution with the MMU off, reloc_code needs to be cleaned to the",
        "+\t * PoC and invalidated from the I-cache.",
        "+\t */",
        "+\tdcache_clean_inval_poc((unsigned long)reloc_code,",
        "+\t\t\t       (unsigned long)reloc_code +",
        "+\t\t\t       arm64_relocate_new_kernel_size);",
        "+\ticache_inval_pou((uintptr_t)reloc_code,",
        "+\t\t\t (uintptr_t)reloc_code +",
        "+\t\t\t arm64_relocate_new_kernel_size);",
        " \treturn 0;",
        " }",
    ]),
    hunk(161, 172, "void machine_kexec(struct kimage *kimage)", [
        " \tBUG_ON(!in_kexec_crash && (stuck_cpus || (num_online_cpus() > 1)));",
        " \tWARN(in_kexec_crash && (stuck_cpus || smp_crash_stop_failed()),",
        " \t\t\"Some CPUs may be stale, kdump will be unreliable.\\n\");",
        "-",
        "-\t/* Flush the reboot_code_buffer in preparation for its execution. */",
        "-\tdcache_clean_inval_poc((unsigned long)reboot_code_buffer,",
        "-\t\t\t       (unsigned long)reboot_code_buffer +",
        "-\t\t\t       arm64_relocate_new_kernel_size);",
        " ",
        " \t/*",
        " \t * Flush the new kernel image and the relocation list to PoC.",
    ]),
])

DIFF2 = file_diff(MK, "3a034bc25709..5d1f0b3a1c2e", [
    hunk(132, 132, "int machine_kexec_post_load(struct kimage *kimage)", [
        " {",
        " \tvoid *reloc_code = page_to_virt(kimage->control_code_page);",
        "+\tstruct trans_pgd_info info = {",
        "+\t\t.trans_alloc_page\t= kexec_page_alloc,",
        "+\t\t.trans_alloc_arg\t= kimage,",
        "+\t};",
        "+\tint rc;",
        " ",
        " \t/* If in place, relocation is not used, only flush next kernel */",
        " \tif (kimage->head & IND_DONE) {",
    ]),
    hunk(146, 151, "int machine_kexec_post_load(struct kimage *kimage)", [
        " \t\treturn 0;",
        " \t}",
        " ",
        "+\tkimage->arch.ttbr1 = __pa(trans_pgd);",
        "+\tif (kimage->type != KEXEC_TYPE_CRASH) {",
        "+\t\trc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET,",
        "+\t\t\t\t\t   PAGE_END);",
        "+\t\tif (rc)",
        "+\t\t\treturn rc;",
        "+\t}",
        "+",
        " \tmemcpy(reloc_code, __relocate_new_kernel_start, reloc_size);",
        " \tkimage->arch.kern_reloc = __pa(reloc_code);",
    ]),
])

DIFF3 = file_diff(RK, "b4e7ab2a0f24..c6e1f58e0d9b", [
    hunk(41, 41, "SYM_CODE_START(arm64_relocate_new_kernel)", [
        " \tldr\tx18, [x0, #KIMAGE_ARCH_ZERO_PAGE] /* x18 = zero page for BBM */",
        " \tldr\tx17, [x0, #KIMAGE_ARCH_TTBR1]\t/* x17 = linear map copy */",
        " \tldr\tx16, [x0, #KIMAGE_HEAD]\t\t/* x16 = kimage_head */",
        "-\tmov\tx14, xzr\t\t\t/* x14 = entry ptr */",
        "-\tmov\tx13, xzr\t\t\t/* x13 = copy dest */",
        "+\tbreak_before_make_ttbr_switch\tx18, x17, x1, x2 /* set linear map */",
        "+\tmsr\tsctlr_el1, x1",
        " .Lloop:",
        " \tand\tx12, x16, PAGE_MASK\t\t/* x12 = addr */",
    ]),
])

MSG1 = ("Currently, during kexec load we are copying relocation function and\n"
        "flushing it. However, we can also flush kexec relocation buffers and\n"
        "if new kernel image is already in place (i.e. crash kernel), we can\n"
        "also flush the new kernel image itself.\n\n"
        f"Signed-off-by: {AUTHOR}\n")
MSG2 = ("To perform the kexec relocation with the MMU enabled, we need a copy\n"
        "of the linear map.\n\n"
        "Create one, and install it from the relocation code. This has to be done\n"
        "from the assembly code as it will be idmapped with TTBR0. The kernel\n"
        "runs in TTBR1, so can't use the break-before-make sequence on the mapping\n"
        "it is executing from.\n\n"
        f"Signed-off-by: {AUTHOR}\n"
        "Reviewed-by: Rene Reviewer <rene@example.org>\n")
MSG3 = ("Now, that we have linear map page tables configured, keep MMU enabled\n"
        "to allow faster relocation of segments to final destination.\n\n"
        f"Signed-off-by: {AUTHOR}\n")


def patch(i: int, subject: str, msg: str, diff: str, files: tuple[str, ...], day: str) -> Patch:
    return Patch(
        index=i, expected=3, subject=subject, full_subject=f"[PATCH v16 {i}/3] {subject}",
        msgid=f"20210802215408.804942-{i + 1}-ada@example.org", author=AUTHOR,
        date=f"2021-08-02T21:54:{day}+00:00", message=msg, diff=diff, files=files,
        in_body_trailers=(Trailer("Signed-off-by", AUTHOR, AUTHOR, "in-body"),),
        to=LISTS_TO, cc=LISTS_CC,
    )


def build() -> tuple[Series, ApplyResult, CheckResult, list[dict[str, object]]]:
    cover_msgid = "20210802215408.804942-1-ada@example.org"
    patches = (
        patch(1, "arm64: kexec: flush image and lists during kexec load time", MSG1, DIFF1, (MK,), "01"),
        patch(2, "arm64: kexec: install a copy of the linear-map", MSG2, DIFF2, (MK,), "02"),
        patch(3, "arm64: kexec: keep MMU enabled during kexec relocation", MSG3, DIFF3, (RK,), "03"),
    )
    cover = Cover(cover_msgid, "arm64: MMU enabled kexec relocation", AUTHOR,
                  "2021-08-02T21:54:00+00:00",
                  "Enable MMU during kexec relocation in order to improve reboot performance.\n\n"
                  "Tested on a machine with 4K pages, kexec reboot only.\n\n"
                  "base-commit: c500bee1c5b2f1d59b1081ac879d73268ab0ff17\n")
    series = Series(
        id="3f2a9c1d0b7e", revision=16, expected=3,
        subject="arm64: MMU enabled kexec relocation", author=AUTHOR,
        date="2021-08-02T21:54:00+00:00", msgid=cover_msgid, cover=cover, patches=patches,
        base_commit="c500bee1c5b2f1d59b1081ac879d73268ab0ff17", source="v16.mbox",
        link=f"https://lore.kernel.org/all/{cover_msgid}/",
    )
    apply = ApplyResult(
        series_id=series.id, onto="v5.15-rc1", onto_commit="6880fa6c56601bb8ed59df6c30fd390cc5f6dd8f",
        base=BaseChoice("c500bee1c5b2f1d59b1081ac879d73268ab0ff17", "base-commit",
                        "from the cover letter"),
        patches=(
            PatchOutcome(1, patches[0].subject, "clean", (MK,), commit="1" * 40),
            PatchOutcome(2, patches[1].subject, "3way", (MK,), detail="merged with 3-way fallback",
                         commit="2" * 40),
            PatchOutcome(3, patches[2].subject, "conflict", (RK,),
                         detail="1 hunk failed",
                         git_error=("error: patch failed: arch/arm64/kernel/relocate_kernel.S:41\n"
                                    "error: arch/arm64/kernel/relocate_kernel.S: patch does not apply"),
                         failed_hunks=(Hunk(RK, "@@ -41,8 +41,8 @@ SYM_CODE_START(arm64_relocate_new_kernel)",
                                            41, 8),)),
        ),
        result_commit="2" * 40, result_tree="a" * 40, repo="/src/linux",
    )
    ev_cache = Evidence(1, MK, 78, (
        "+\tdcache_clean_inval_poc((unsigned long)reloc_code,",
        "+\t\t\t       (unsigned long)reloc_code +",
        "+\t\t\t       arm64_relocate_new_kernel_size);",
    ))
    ev_icache = Evidence(1, MK, 81, ("+\ticache_inval_pou((uintptr_t)reloc_code,",))
    ev_alloc = Evidence(2, MK, 156, (
        "+\t\trc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET,",
        "+\t\t\t\t\t   PAGE_END);",
    ))
    ev_crash = Evidence(2, MK, 155, ("+\tif (kimage->type != KEXEC_TYPE_CRASH) {",))
    ev_mmu = Evidence(3, RK, 45, ("+\tmsr\tsctlr_el1, x1",))
    ev_rb = Evidence(2, None, None, ("Reviewed-by: Rene Reviewer <rene@example.org>",))
    ev_test = Evidence(0, None, None, ("Tested on a machine with 4K pages, kexec reboot only.",))
    findings = (
        Finding("ARM64-CACHE-POC-MOVED", "D-cache clean to PoC moved", "warning", "cache_maintenance",
                "Cache maintenance for the relocation code moved from reboot time to load time.",
                "Is anything written to `reloc_code` between load and reboot, after this clean to PoC?",
                (ev_cache,)),
        Finding("ARM64-ICACHE-NO-ISB", "I-cache invalidation without isb", "info", "cache_maintenance",
                "`icache_inval_pou()` on code that will be executed later.",
                "Is the I-cache invalidation followed by `dsb ish; isb` before the copied code runs?",
                (ev_icache,)),
        Finding("KEXEC-ALLOC-LOAD-TIME", "New allocation at kexec load time", "warning", "alloc_failure",
                "`trans_pgd_create_copy()` allocates page tables when the image is loaded.",
                "If `trans_pgd_create_copy()` fails, does kexec_load fail cleanly with -ENOMEM, and is "
                "everything allocated before it freed?",
                (ev_alloc,)),
        Finding("KEXEC-CRASH-EXTRA-WORK", "Extra work on a crash kernel load", "info", "kdump_impact",
                "Page tables built for kexec reboot.",
                "Is the linear-map copy skipped for a crash kernel load?",
                (ev_crash,), status="looks-ok", reason="guarded by kimage->type != KEXEC_TYPE_CRASH"),
        Finding("COMMIT-STALE-REVIEW", "Review trailer kept on a changed patch", "info",
                "commit_msg_trailers",
                "The patch carries a Reviewed-by although its code changed since the review.",
                "Did the reviewer see this version of the patch, or should the Reviewed-by be dropped?",
                (ev_rb,)),
        Finding("ARM64-SCTLR-NO-ISB", "MMU enable without isb", "error", "relocation_path",
                "`msr sctlr_el1` is not followed by `isb`.",
                "Is an `isb` needed after writing SCTLR_EL1 before the next instruction fetch?",
                (ev_mmu,)),
        Finding("LONG_LINE", "checkpatch: line length", "warning", "kconfig_build",
                "line length of 104 exceeds 100 columns",
                "Is the long line in relocate_kernel.S worth wrapping?",
                (Evidence(3, RK, 41, ()),), source="checkpatch", pre_existing=True),
        Finding("SERIES-TESTING", "Testing coverage not stated", "info", "testing_request",
                "The cover letter names one configuration only.",
                "Which hardware and modes were tested: VHE and nVHE, 4K/16K/64K pages, kdump as well "
                "as kexec reboot?",
                (ev_test,)),
    )
    checklist = (
        ChecklistItem("kdump_impact", "Extra work on a crash kernel load",
                      "Is the linear-map copy skipped for a crash kernel load?", (ev_crash,),
                      status="looks-ok", reason="guarded by kimage->type != KEXEC_TYPE_CRASH",
                      rules=("KEXEC-CRASH-EXTRA-WORK",)),
        ChecklistItem("alloc_failure", "New allocation at kexec load time",
                      findings[2].question, (ev_alloc,), rules=("KEXEC-ALLOC-LOAD-TIME",)),
        ChecklistItem("relocation_path", "MMU enable without isb", findings[5].question, (ev_mmu,),
                      rules=("ARM64-SCTLR-NO-ISB",)),
        ChecklistItem("cache_maintenance", "Cache maintenance moved to load time",
                      findings[0].question, (ev_cache, ev_icache),
                      rules=("ARM64-CACHE-POC-MOVED", "ARM64-ICACHE-NO-ISB")),
        ChecklistItem("commit_msg_trailers", "Review trailer kept on a changed patch",
                      findings[4].question, (ev_rb,), rules=("COMMIT-STALE-REVIEW",)),
        ChecklistItem("testing_request", "Testing coverage", findings[7].question, (ev_test,),
                      rules=("SERIES-TESTING",)),
    )
    check = CheckResult(series.id, findings, checklist,
                        rules_run=tuple(f.rule for f in findings if f.source == "reviewtool"))
    rules: list[dict[str, object]] = [
        {
            "id": f.rule, "title": f.title, "severity": f.severity, "category": f.category,
            "doc": {
                "what": f.message,
                "why": f"Reviewers of arm64 kexec code ask this: {f.question}",
                "example": "\n".join(e for ev in f.evidence for e in ev.lines) or "(series level)",
                "not_flagged": "Lines that only move code without changing it.",
            },
        }
        for f in findings if f.source == "reviewtool"
    ]
    return series, apply, check, rules


def main() -> None:
    series, apply, check, rules = build()
    for name, obj in (("series", series), ("apply", apply), ("check", check), ("rules", rules)):
        (HERE / f"{name}.json").write_text(
            json.dumps(to_json(obj), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
