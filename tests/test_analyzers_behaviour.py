"""What the analyzers say, and why: the questions of the MMU-enabled kexec relocation series,
post-images, exemptions, series awareness and bad names."""
# ruff: noqa: E101, W291, W293  (the diffs below are real diff text: tabs and trailing spaces matter)

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.check.analyzers import AnalyzerContext, Hit, run_analyzer
from reviewtool.check.diff import parse_series
from reviewtool.errors import RulesError
from reviewtool.model import Series
from tests.check_helpers import series_from_text

MAIL = """\
From 0123456789abcdef0123456789abcdef0123456{n} Mon Sep 17 00:00:00 2001
From: Pasha Tatashin <pasha.tatashin@soleen.com>
Subject: [PATCH v17 {n}/3] {subject}

{body}

Signed-off-by: Pasha Tatashin <pasha.tatashin@soleen.com>
---
{diff}-- 
2.25.1

"""

# modelled on v17 05/15: the in-place (crash) case returns early
SKIP_INPLACE = """\
diff --git a/arch/arm64/kernel/machine_kexec.c b/arch/arm64/kernel/machine_kexec.c
index b6d5a02cba2e..7f1cb5a2a463 100644
--- a/arch/arm64/kernel/machine_kexec.c
+++ b/arch/arm64/kernel/machine_kexec.c
@@ -144,16 +144,16 @@ int machine_kexec_post_load(struct kimage *kimage)
 {
 	void *reloc_code = page_to_virt(kimage->control_code_page);
 
-	/* If in place flush new kernel image, else flush lists and buffers */
-	if (kimage->head & IND_DONE)
+	/* If in place, relocation is not used, only flush next kernel */
+	if (kimage->head & IND_DONE) {
 		kexec_segment_flush(kimage);
-	else
-		kexec_list_flush(kimage);
+		kexec_image_info(kimage);
+		return 0;
+	}
 
 	memcpy(reloc_code, arm64_relocate_new_kernel,
 	       arm64_relocate_new_kernel_size);
 	kimage->arch.kern_reloc = __pa(reloc_code);
-	kexec_image_info(kimage);
 
 	/* Flush the reloc_code in preparation for its execution. */
 	dcache_clean_inval_poc((unsigned long)reloc_code,
"""

# modelled on v17 11/15: a copy of the linear map, built at load time
LINEAR_MAP = """\
diff --git a/arch/arm64/kernel/machine_kexec.c b/arch/arm64/kernel/machine_kexec.c
index 83da6045cd45..50bc0a265c86 100644
--- a/arch/arm64/kernel/machine_kexec.c
+++ b/arch/arm64/kernel/machine_kexec.c
@@ -159,6 +159,8 @@ static void *kexec_page_alloc(void *arg)
 
 int machine_kexec_post_load(struct kimage *kimage)
 {
+	int rc;
+	pgd_t *trans_pgd;
 	void *reloc_code = page_to_virt(kimage->control_code_page);
 	long reloc_size;
 	struct trans_pgd_info info = {
@@ -175,6 +177,16 @@ int machine_kexec_post_load(struct kimage *kimage)
 		return 0;
 	}
 
+	/* Create a copy of the linear map */
+	trans_pgd = kexec_page_alloc(kimage);
+	if (!trans_pgd)
+		return -ENOMEM;
+	rc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET, PAGE_END);
+	if (rc)
+		return rc;
+	kimage->arch.ttbr1 = __pa(trans_pgd);
+	kimage->arch.zero_page = __pa(empty_zero_page);
+
 	reloc_size = __relocate_new_kernel_end - __relocate_new_kernel_start;
 	memcpy(reloc_code, __relocate_new_kernel_start, reloc_size);
 	kimage->arch.kern_reloc = __pa(reloc_code);
"""

# modelled on v17 08/15: the allocator handed to trans_pgd
PAGE_ALLOC = """\
diff --git a/arch/arm64/kernel/machine_kexec.c b/arch/arm64/kernel/machine_kexec.c
index e210b19592c6..59a4b4172b68 100644
--- a/arch/arm64/kernel/machine_kexec.c
+++ b/arch/arm64/kernel/machine_kexec.c
@@ -143,6 +143,20 @@ static void kexec_segment_flush(const struct kimage *kimage)
 	}
 }
 
+/* Allocates pages for kexec page table */
+static void *kexec_page_alloc(void *arg)
+{
+	struct kimage *kimage = (struct kimage *)arg;
+	struct page *page = kimage_alloc_control_pages(kimage, 0);
+
+	if (!page)
+		return NULL;
+
+	memset(page_address(page), 0, PAGE_SIZE);
+
+	return page_address(page);
+}
+
 int machine_kexec_post_load(struct kimage *kimage)
 {
 	void *reloc_code = page_to_virt(kimage->control_code_page);
"""


def mails(*parts: tuple[str, str, str]) -> str:
    return "".join(MAIL.format(n=n, subject=s, body=b, diff=d) for n, (s, b, d) in enumerate(parts, 1))


def run(name: str, series: Series, post: Callable[[str], str | None] | None = None,
        base: Callable[[str], str | None] | None = None,
        kernel: Callable[[int], bool] | None = None) -> list[Hit]:
    ctx = AnalyzerContext(series=series, diffs=parse_series(series, post), post_image=post, base_image=base,
                          kernel_patch=kernel or (lambda i: True))
    return run_analyzer(name, ctx)


@pytest.fixture(scope="module")
def mmu_series() -> Series:
    return series_from_text(mails(
        ("arm64: kexec: skip relocation code for inplace kexec",
         "In case of kdump or when segments are already in place the relocation\nis not needed.", SKIP_INPLACE),
        ("arm64: kexec: configure EL2 vectors for kexec",
         "If we have a EL2 mode without VHE, the EL2 vectors are needed in order\nto switch to EL2.", PAGE_ALLOC),
        ("arm64: kexec: install a copy of the linear-map",
         "To perform the kexec relocation with the MMU enabled, we need a copy\nof the linear map.", LINEAR_MAP),
    ))


def test_checked_trans_pgd_create_copy_looks_ok_at_load_time(mmu_series: Series) -> None:
    hits = [h for h in run("alloc", mmu_series) if h.evidence[0].patch == 3]
    by_call = {h.message.split("(")[0] if h.message else "": h for h in hits}
    copy = by_call["trans_pgd_create_copy"]
    assert (copy.rule, copy.status) == ("ALLOC-UNCHECKED", "looks-ok")
    assert copy.reason == "checked; returns rc at load time"
    assert copy.evidence[0].lines[0].startswith("+\trc = trans_pgd_create_copy(")
    # the series' own wrapper is an allocator too, and its NULL becomes -ENOMEM
    assert by_call["kexec_page_alloc"].reason == "checked; returns -ENOMEM at load time"
    assert all(h.status == "looks-ok" for h in hits)


def test_control_page_allocation_returning_null_is_checked(mmu_series: Series) -> None:
    hits = [h for h in run("alloc", mmu_series) if h.evidence[0].patch == 2]
    assert [(h.status, h.reason) for h in hits] == [("looks-ok", "checked; returns NULL")]


def test_kdump_question_for_the_new_page_table(mmu_series: Series) -> None:
    hits = [h for h in run("crashpath", mmu_series) if h.rule == "KEXEC-CRASH-LOAD-WORK"]
    assert len(hits) == 1
    hit = hits[0]
    assert hit.status == "needs-review" and hit.evidence[0].patch == 3
    # patch 1 of the series skips in-place loads: said, but still asked about crash loads
    assert "IND_DONE" in (hit.message or "")
    assert hit.question and "KEXEC_TYPE_CRASH" in hit.question
    assert any("trans_pgd_create_copy" in line for e in hit.evidence for line in e.lines)


def test_load_time_question_names_the_calls_that_can_fail(mmu_series: Series) -> None:
    hits = run("loadtime", mmu_series)
    assert [h.rule for h in hits] == ["KEXEC-LOAD-TIME-FAILURE"]
    assert "kexec_page_alloc() and trans_pgd_create_copy()" in (hits[0].message or "")
    assert hits[0].question and hits[0].question.startswith(
        "If kexec_page_alloc() or trans_pgd_create_copy() fails, does kexec_load fail cleanly")
    assert [e.lines[-1] for e in hits[0].evidence] == ["+\t\treturn -ENOMEM;", "+\t\treturn rc;"]


def test_the_series_commit_messages_are_fine(mmu_series: Series) -> None:
    assert run("commitmsg", mmu_series) == []


UNCHECKED_IN_HUNK = """\
diff --git a/arch/arm64/kernel/machine_kexec.c b/arch/arm64/kernel/machine_kexec.c
--- a/arch/arm64/kernel/machine_kexec.c
+++ b/arch/arm64/kernel/machine_kexec.c
@@ -3,3 +3,4 @@ int machine_kexec_post_load(struct kimage *kimage)
 	int rc;
 
+	page = kimage_alloc_control_pages(kimage, 0);
 	reloc_size = 4096;
"""

POST_IMAGE = """\
int machine_kexec_post_load(struct kimage *kimage)
{
	int rc;

	page = kimage_alloc_control_pages(kimage, 0);
	reloc_size = 4096;
	memcpy(reloc_code, start, reloc_size);
	kimage->arch.kern_reloc = __pa(reloc_code);
	memset(page_address(page), 0, PAGE_SIZE);
	return 0;
}
"""


def test_post_image_shows_a_use_before_check_beyond_the_hunk() -> None:
    series = series_from_text(UNCHECKED_IN_HUNK)
    assert run("alloc", series) == []  # the hunk alone cannot tell
    hits = run("alloc", series, post=lambda p: POST_IMAGE)
    assert len(hits) == 1 and hits[0].rule == "ALLOC-UNCHECKED" and hits[0].status == "needs-review"
    assert "used (line 9)" in (hits[0].message or "")
    assert hits[0].evidence[0].lines == ("+\tpage = kimage_alloc_control_pages(kimage, 0);",)


def test_post_image_shows_the_check_beyond_the_hunk() -> None:
    checked = POST_IMAGE.replace("\tmemset(page_address(page)", "\tif (!page)\n\t\treturn -ENOMEM;\n\tmemset(page_address(page)")
    hits = run("alloc", series_from_text(UNCHECKED_IN_HUNK), post=lambda p: checked)
    assert [(h.status, h.reason) for h in hits] == [("looks-ok", "checked; returns -ENOMEM at load time")]


EXEMPT = """\
diff --git a/mm/thing.c b/mm/thing.c
--- a/mm/thing.c
+++ b/mm/thing.c
@@ -10,4 +10,17 @@ int setup_thing(void)
 {
 	void *p, *q, *r, *s;
 
+	p = memblock_alloc(SZ_4K, SMP_CACHE_BYTES);
+	if (!p)
+		panic("%s: no memory\\n", __func__);
+	q = kmalloc(8, GFP_KERNEL | __GFP_NOFAIL);
+	q->x = 1;
+	r = kzalloc(8, GFP_KERNEL);
+	if (r)
+		r->x = 2;
+	s = mempool_alloc(pool, GFP_KERNEL);
+	s->y = 3;
+	trans_pgd_create_copy(&info, &pgd, PAGE_OFFSET, PAGE_END);
+	return setup_more(kmalloc(16,
+				  GFP_KERNEL));
 	return 0;
 }
"""


def test_exemptions_an_ignored_error_code_and_a_result_passed_on_unchecked() -> None:
    hits = run("alloc", series_from_text(EXEMPT))
    assert [(h.rule, h.message) for h in hits] == [
        ("ALLOC-UNCHECKED", "trans_pgd_create_copy() in setup_thing(): its error code is ignored."),
        ("ALLOC-UNCHECKED", "kmalloc() in setup_thing(): its result is used directly, with no check for "
                            "failure (NULL): `return setup_more(kmalloc(16,`."),
    ]
    assert hits[1].evidence[0].lines == ("+	return setup_more(kmalloc(16,", "+				  GFP_KERNEL));")


GOTO = """\
diff --git a/kernel/kexec_file.c b/kernel/kexec_file.c
--- a/kernel/kexec_file.c
+++ b/kernel/kexec_file.c
@@ -600,10 +600,18 @@ static int kexec_build(struct kimage *image, unsigned long nr)
 	void *a, *b, *c;
 
 	a = kmalloc(nr, GFP_KERNEL);
 	if (!a)
 		return -ENOMEM;
+	b = vzalloc(nr);
+	if (!b)
+		goto free_a;
+	c = kzalloc(nr,
+		    GFP_KERNEL);
+	if (!c ||
+	    nr > 4096)
+		goto free_a;
 	image->a = a;
 	return 0;
+free_a:
+	kfree(a);
+	return -ENOMEM;
 }
"""


def test_goto_label_that_forgets_a_later_allocation() -> None:
    hits = run("alloc", series_from_text(GOTO))
    leaks = [h for h in hits if h.rule == "ALLOC-LEAK-ON-ERROR"]
    assert [h.message for h in leaks] == [
        "kexec_build(): this error exit does not free `b`, allocated by vzalloc() at line 605."]
    assert leaks[0].evidence[0].lines == ("+\tif (!c ||", "+\t    nr > 4096)", "+\t\tgoto free_a;")
    checked = [h for h in hits if h.rule == "ALLOC-UNCHECKED"]
    assert {h.reason for h in checked} == {"checked; returns -ENOMEM"}  # through the label, multi-line


def test_other_projects_patches_get_only_the_generic_checks() -> None:
    text = MAIL.format(n=1, subject="kexec: add a thing", body="Adds a thing to kexec.", diff=UNCHECKED_IN_HUNK)
    text = text.replace("Signed-off-by: Pasha Tatashin <pasha.tatashin@soleen.com>",
                        "Signed-off-by: Someone Else <else@example.org>")
    series = series_from_text(text)
    not_kernel = run("alloc", series, post=lambda p: POST_IMAGE, kernel=lambda i: False)
    assert not_kernel == []
    assert [h.rule for h in run("commitmsg", series, kernel=lambda i: False)] == ["COMMIT-SOB-AUTHOR"]


def test_cache_maintenance_followed_by_dsb_in_the_post_image() -> None:
    diff = """\
diff --git a/arch/arm64/kernel/relocate_kernel.S b/arch/arm64/kernel/relocate_kernel.S
--- a/arch/arm64/kernel/relocate_kernel.S
+++ b/arch/arm64/kernel/relocate_kernel.S
@@ -2,3 +2,4 @@
 	mov	x1, x0
+	dc	civac, x1
 	add	x1, x1, #64
 	cmp	x1, x2
"""
    image = "SYM_CODE_START(f)\n\tmov\tx1, x0\n\tdc\tcivac, x1\n\tadd\tx1, x1, #64\n\tcmp\tx1, x2\n{}\tret\nSYM_CODE_END(f)\n"
    series = series_from_text(diff)
    assert run("arm64asm", series) == []  # the hunk stops before the routine does
    assert run("arm64asm", series, post=lambda p: image.format("\tdsb\tsy\n")) == []
    hits = run("arm64asm", series, post=lambda p: image.format(""))
    assert [h.rule for h in hits] == ["ARM64-CACHE-MAINT-DSB"]


def test_a_removed_member_still_used_by_asm_offsets() -> None:
    diff = """\
diff --git a/arch/arm64/include/asm/kexec.h b/arch/arm64/include/asm/kexec.h
--- a/arch/arm64/include/asm/kexec.h
+++ b/arch/arm64/include/asm/kexec.h
@@ -96,4 +96,3 @@ struct kimage_arch {
 	phys_addr_t dtb_mem;
-	phys_addr_t kern_reloc;
 	phys_addr_t el2_vectors;
 };
"""
    offsets = "  DEFINE(KIMAGE_ARCH_KERN_RELOC,\toffsetof(struct kimage, arch.kern_reloc));\n"
    series = series_from_text(diff)
    hits = run("arm64asm", series, post=lambda p: offsets if p.endswith("asm-offsets.c") else None)
    assert [h.rule for h in hits] == ["ARM64-ASM-OFFSETS-SYNC"]
    assert "KIMAGE_ARCH_KERN_RELOC" in (hits[0].message or "")
    assert run("arm64asm", series, post=lambda p: "" if p.endswith("asm-offsets.c") else None) == []


def test_ifdef_stub_check_follows_the_callers_makefile() -> None:
    diff = """\
diff --git a/arch/arm64/include/asm/kexec.h b/arch/arm64/include/asm/kexec.h
--- a/arch/arm64/include/asm/kexec.h
+++ b/arch/arm64/include/asm/kexec.h
@@ -90,2 +90,6 @@
 #endif
 
+#ifdef CONFIG_KEXEC_CORE
+void kexec_stop_secondaries(unsigned int timeout);
+#endif
+
diff --git a/arch/arm64/kernel/smp.c b/arch/arm64/kernel/smp.c
--- a/arch/arm64/kernel/smp.c
+++ b/arch/arm64/kernel/smp.c
@@ -900,3 +900,4 @@ void smp_send_stop(void)
 {
 	unsigned long timeout;
+	kexec_stop_secondaries(USEC_PER_SEC);
 	if (num_other_online_cpus()) {
"""
    series = series_from_text(diff)
    assert [h.rule for h in run("kconfig", series)] == ["KCONFIG-IFDEF-NO-STUB"]
    makefile = "obj-y\t\t\t+= smp.o\nobj-$(CONFIG_KEXEC_CORE)\t+= machine_kexec.o\n"
    assert [h.rule for h in run("kconfig", series, post=lambda p: makefile if p.endswith("Makefile") else None)] \
        == ["KCONFIG-IFDEF-NO-STUB"]
    only_kexec = "obj-$(CONFIG_KEXEC_CORE)\t+= smp.o\n"
    assert run("kconfig", series, post=lambda p: only_kexec if p.endswith("Makefile") else None) == []


def test_unknown_or_bad_analyzer_names_are_rules_errors(mmu_series: Series) -> None:
    ctx = AnalyzerContext(series=mmu_series, diffs=parse_series(mmu_series))
    with pytest.raises(RulesError, match="unknown analyzer 'nosuch'"):
        run_analyzer("nosuch", ctx)
    with pytest.raises(RulesError, match="not a module name"):
        run_analyzer("../alloc", ctx)


def test_every_hit_of_every_analyzer_has_evidence_lines(mmu_series: Series) -> None:
    from reviewtool.check.analyzers import ANALYZERS

    total = 0
    for name in ANALYZERS:
        for h in run(name, mmu_series):
            total += 1
            assert h.evidence and all(e.lines and e.patch in (1, 2, 3) for e in h.evidence), h
            assert h.status in ("needs-review", "looks-ok")
            assert h.status == "needs-review" or h.reason
    assert total >= 5


IDIOMS = """\
diff --git a/kernel/kexec_core.c b/kernel/kexec_core.c
new file mode 100644
--- /dev/null
+++ b/kernel/kexec_core.c
@@ -0,0 +1,60 @@
+struct page *kimage_alloc_control_pages(struct kimage *image, unsigned int order)
+{
+	struct page *pages = NULL;
+
+	switch (image->type) {
+	case KEXEC_TYPE_DEFAULT:
+		pages = alloc_pages(GFP_KERNEL, order);
+		break;
+	case KEXEC_TYPE_CRASH:
+		pages = alloc_pages(GFP_KERNEL, order);
+		break;
+	}
+	return pages;
+}
+
+static int check_cfg(struct env *env, int n)
+{
+	int *insn_state, *insn_stack;
+
+	insn_state = env->cfg.insn_state = kvcalloc(n, sizeof(int), GFP_KERNEL);
+	if (!insn_state)
+		return -ENOMEM;
+	insn_stack = kvcalloc(n, sizeof(int), GFP_KERNEL);
+	BUG_ON(!insn_stack);
+	return 0;
+}
+
+static int grow(struct ctx *ctx)
+{
+	void *p = kzalloc(16, GFP_KERNEL);
+
+	if (!p)
+		return 0;
+	ctx->p = p;
+	return 1;
+}
+
+static int build(struct ctx *ctx, int n)
+{
+	struct item *item, *entry;
+	int i;
+
+	item = kzalloc(sizeof(*item), GFP_KERNEL);
+	if (!item)
+		return -ENOMEM;
+	for (i = 0; i < n; i++) {
+		entry = kcalloc(n, sizeof(*entry), GFP_KERNEL);
+		if (!entry)
+			goto skip;
+		add(ctx, entry);
+skip:
+		continue;
+	}
+	if (ctx_busy(ctx)) {
+		item_free(item);
+		return -EBUSY;
+	}
+	return attach(ctx, item);
+}
"""


def test_kernel_idioms_that_are_not_findings() -> None:
    # switch cases, chained assignments, BUG_ON checks, 1/0 return conventions, a goto
    # within a loop, and the function's own free helper on the error path
    hits = run("alloc", series_from_text(IDIOMS))
    assert [h for h in hits if h.status == "needs-review"] == []
    assert sorted(h.reason for h in hits) == [
        "checked; returns -ENOMEM", "checked; returns -ENOMEM", "checked; returns 0"]  # 0 is failure in grow()


@pytest.mark.parametrize(("path", "subject", "flagged"), [
    ("arch/arm64/kvm/arm.c", "KVM: arm64: fix the vcpu reset", False),
    ("arch/arm64/kvm/arm.c", "arm64/mm: fix the vcpu reset", False),
    ("arch/arm64/kvm/arm.c", "kvm: fix the vcpu reset", True),
    ("arch/arm64/kernel/machine_kexec.c", "arm64/kexec: flush at load time", False),
    ("arch/arm64/kernel/machine_kexec.c", "arm64: kdump: flush at load time", False),
    ("arch/arm64/kernel/machine_kexec.c", "arm64: mm: flush at load time", True),
    ("arch/arm64/kernel/machine_kexec.c", "kexec: flush at load time", True),
    ("kernel/kexec_core.c", "crash: flush at load time", False),
    ("kernel/kexec_core.c", "mm: flush at load time", True),
])
def test_subject_prefix_against_the_files_touched(path: str, subject: str, flagged: bool) -> None:
    diff = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,1 +1,1 @@\n-a\n+b\n"
    body = "The old code flushed too late for the relocation with the MMU on."
    hits = run("commitmsg", series_from_text(MAIL.format(n=1, subject=subject, body=body, diff=diff)))
    assert ([h.rule for h in hits] == ["COMMIT-SUBJECT-PREFIX"]) is flagged


_SAMPLES = [SKIP_INPLACE, LINEAR_MAP, PAGE_ALLOC, GOTO, EXEMPT, IDIOMS, UNCHECKED_IN_HUNK]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_SAMPLES), st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=400),
       st.text(alphabet=st.sampled_from(list("{}()[];!=*&/+- \t\n\\\"'#ifretun0x")), max_size=30))
def test_analyzers_never_raise_on_damaged_code(diff: str, at: int, cut: int, junk: str) -> None:
    at = at % (len(diff) + 1)
    damaged = diff[:at] + junk + diff[at + cut:]
    series = series_from_text(damaged)
    from reviewtool.check.analyzers import ANALYZERS

    for name in ANALYZERS:
        for h in run(name, series, post=lambda p: POST_IMAGE):
            assert h.evidence and all(e.lines for e in h.evidence)
