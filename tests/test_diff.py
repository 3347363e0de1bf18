"""The diff model: files, hunks, line numbers, function context, hostile input."""
# ruff: noqa: E101, W291, W293  (the diffs below are real diff text: tabs and trailing spaces matter)

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.check.diff import DiffLine, file_kind, locate_hunk, parse_patch, parse_series
from reviewtool.model import Patch, Series


def make_patch(diff: str, index: int = 1, message: str = "Subject body\n\nSigned-off-by: A <a@b>\n") -> Patch:
    return Patch(index=index, expected=1, subject="arm64: kexec: test", full_subject="[PATCH] arm64: kexec: test",
                 msgid=f"<{index}@x>", author="A <a@b>", date="", message=message, diff=diff, files=())


KEXEC_DIFF = """\
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
@@ -175,6 +177,10 @@ int machine_kexec_post_load(struct kimage *kimage)
 		return rc;
 	}
 
+	rc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET, PAGE_END);
+	if (rc)
+		return rc;
+
 	reloc_size = __relocate_new_kernel_end - __relocate_new_kernel_start;
 	memcpy(reloc_code, __relocate_new_kernel_start, reloc_size);
 	kimage->arch.kern_reloc = __pa(reloc_code);
diff --git a/arch/arm64/kernel/relocate_kernel.S b/arch/arm64/kernel/relocate_kernel.S
index 9d2400855ee4..a07b737533c3 100644
--- a/arch/arm64/kernel/relocate_kernel.S
+++ b/arch/arm64/kernel/relocate_kernel.S
@@ -29,6 +29,7 @@
  */
 SYM_CODE_START(arm64_relocate_new_kernel)
 	/* Setup the list loop variables. */
+	ldr	x18, [x0, #KIMAGE_ARCH_ZERO_PAGE] /* x18 = zero page for BBM */
 	ldr	x16, [x0, #KIMAGE_HEAD]		/* x16 = kimage_head */
 	mov	x14, xzr			/* x14 = entry ptr */
 	mov	x13, xzr			/* x13 = copy dest */
-- 
2.25.1
"""


def test_parse_reads_files_kinds_and_numbered_lines() -> None:
    pd = parse_patch(make_patch(KEXEC_DIFF))
    assert pd.error is None
    assert [(f.path, f.kind, f.status) for f in pd.files] == [
        ("arch/arm64/kernel/machine_kexec.c", "c", "modified"),
        ("arch/arm64/kernel/relocate_kernel.S", "asm", "modified"),
    ]
    c = pd.files[0]
    assert len(c.hunks) == 2
    added = [ln for _, ln in c.added()]
    assert added[0] == DiffLine("+", "\tint rc;", None, 162)
    assert added[2].text.startswith("\trc = trans_pgd_create_copy(") and added[2].new_no == 180
    ctx = c.hunks[1].lines[0]
    assert (ctx.kind, ctx.old_no, ctx.new_no) == (" ", 175, 177)
    assert c.hunks[1].section == "int machine_kexec_post_load(struct kimage *kimage)"


def test_function_context_sees_a_function_that_starts_inside_the_hunk() -> None:
    # git's header names the previous function; the change is in the next one
    pd = parse_patch(make_patch(KEXEC_DIFF))
    c, asm = pd.files
    assert c.hunks[0].section.startswith("static void *kexec_page_alloc")
    assert c.hunks[0].function == "machine_kexec_post_load"
    assert c.hunks[1].function == "machine_kexec_post_load"
    assert asm.hunks[0].function == "arm64_relocate_new_kernel"


POST_IMAGE_C = """\
#include <linux/kexec.h>

static int helper(void)
{
	return 0;
}

int __init other_function(struct kimage *kimage,
			  unsigned long flags)
{
	int x = 1;
	x++;
	x++;
	return x;
}
"""


def test_function_context_from_the_post_image_uses_tree_sitter() -> None:
    # the hunk shows neither the start nor the end of the function: only the post-image can tell
    diff = """\
diff --git a/kernel/kexec_core.c b/kernel/kexec_core.c
--- a/kernel/kexec_core.c
+++ b/kernel/kexec_core.c
@@ -11,3 +11,4 @@
 	int x = 1;
 	x++;
+	x++;
 	return x;
"""
    without = parse_patch(make_patch(diff))
    assert without.files[0].hunks[0].function is None
    with_image = parse_patch(make_patch(diff), post_image=lambda path: POST_IMAGE_C)
    assert with_image.files[0].hunks[0].function == "other_function"


def test_post_image_with_moved_lines_is_located_not_trusted_blindly() -> None:
    diff = """\
diff --git a/kernel/kexec_core.c b/kernel/kexec_core.c
--- a/kernel/kexec_core.c
+++ b/kernel/kexec_core.c
@@ -2,3 +2,4 @@
 	int x = 1;
 	x++;
+	x++;
 	return x;
"""
    # the series' final image has ten more lines above (a later patch added them)
    image = POST_IMAGE_C
    pd = parse_patch(make_patch(diff), post_image=lambda path: image)
    hunk = pd.files[0].hunks[0]
    assert locate_hunk(hunk, image.split("\n")) == 9
    assert hunk.function == "other_function"
    # an image that no longer has these lines is ignored
    pd2 = parse_patch(make_patch(diff), post_image=lambda path: "int f(void)\n{\n}\n")
    assert pd2.files[0].hunks[0].function is None


def test_asm_symbol_from_post_image_and_macro_context() -> None:
    image = """\
#include <asm/assembler.h>
.macro turn_off_mmu tmp1, tmp2
	mov_q   \\tmp1, INIT_SCTLR_EL1_MMU_OFF
	msr	sctlr_el1, \\tmp1
	isb
.endm
SYM_CODE_START(arm64_relocate_new_kernel)
	ldr	x16, [x0, #KIMAGE_HEAD]
.Lloop:
	and	x12, x16, PAGE_MASK
	ret
SYM_CODE_END(arm64_relocate_new_kernel)
"""
    diff = """\
diff --git a/arch/arm64/kernel/relocate_kernel.S b/arch/arm64/kernel/relocate_kernel.S
--- a/arch/arm64/kernel/relocate_kernel.S
+++ b/arch/arm64/kernel/relocate_kernel.S
@@ -9,2 +9,3 @@
 .Lloop:
+	and	x12, x16, PAGE_MASK
 	ret
@@ -3,2 +3,3 @@
 	mov_q   \\tmp1, INIT_SCTLR_EL1_MMU_OFF
+	msr	sctlr_el1, \\tmp1
 	isb
"""
    hunks = parse_patch(make_patch(diff), post_image=lambda p: image).files[0].hunks
    assert hunks[0].function == "arm64_relocate_new_kernel"  # .Lloop is a local label
    assert hunks[1].function == "turn_off_mmu"


def test_prototype_in_a_header_is_not_a_function() -> None:
    diff = """\
diff --git a/arch/arm64/include/asm/trans_pgd.h b/arch/arm64/include/asm/trans_pgd.h
--- a/arch/arm64/include/asm/trans_pgd.h
+++ b/arch/arm64/include/asm/trans_pgd.h
@@ -30,9 +30,6 @@ struct trans_pgd_info {
 int trans_pgd_create_copy(struct trans_pgd_info *info, pgd_t **trans_pgd,
 			  unsigned long start, unsigned long end);
 
-int trans_pgd_map_page(struct trans_pgd_info *info, pgd_t *trans_pgd,
-		       void *page, unsigned long dst_addr, pgprot_t pgprot);
-
 int trans_pgd_idmap_page(struct trans_pgd_info *info, phys_addr_t *trans_ttbr0,
 			 unsigned long *t0sz, void *page);
 
"""
    f = parse_patch(make_patch(diff)).files[0]
    assert f.kind == "header"
    assert f.hunks[0].function is None
    assert [ln.old_no for _, ln in f.removed()] == [33, 34, 35]


def test_file_kinds() -> None:
    assert file_kind("arch/arm64/kernel/vmlinux.lds.S") == "lds"
    assert file_kind("arch/arm64/kernel/relocate_kernel.S") == "asm"
    assert file_kind("arch/arm64/include/asm/kexec.h") == "header"
    assert file_kind("arch/arm64/Kconfig") == "kconfig"
    assert file_kind("arch/arm64/mm/Makefile") == "makefile"
    assert file_kind("arch/arm64/boot/dts/foo.dtsi") == "dt"
    assert file_kind("Documentation/admin-guide/kernel-parameters.txt") == "doc"
    assert file_kind("kexec/arch/arm64/kexec-arm64.c") == "c"
    assert file_kind("scripts/checkpatch.pl") == "other"


def test_truncated_hunk_keeps_what_was_read_and_says_so() -> None:
    cut = KEXEC_DIFF[: KEXEC_DIFF.index("+	if (rc)")]
    pd = parse_patch(make_patch(cut))
    assert pd.error is not None and "machine_kexec.c" in pd.error and "shorter" in pd.error
    f = pd.files[0]
    assert f.hunks[-1].truncated
    assert [ln.text for _, ln in f.added()][-1].startswith("\trc = trans_pgd_create_copy(")


def test_blank_context_line_stripped_by_a_mailer_is_restored() -> None:
    diff = (
        "diff --git a/arch/arm64/kernel/relocate_kernel.S b/arch/arm64/kernel/relocate_kernel.S\n"
        "--- a/arch/arm64/kernel/relocate_kernel.S\n+++ b/arch/arm64/kernel/relocate_kernel.S\n"
        "@@ -35,3 +35,4 @@ SYM_CODE_START(arm64_relocate_new_kernel)\n"
        "+\tbreak_before_make_ttbr_switch\tx18, x17, x1, x2\n"
        " .Lloop:\n"
        " \tand\tx12, x16, PAGE_MASK\n"
    )  # the last line, " " (an empty source line), was eaten as trailing whitespace
    pd = parse_patch(make_patch(diff))
    assert pd.error is None
    hunk = pd.files[0].hunks[0]
    assert not hunk.truncated and hunk.lines[-1] == DiffLine(" ", "", 37, 38)
    # a hunk that really is cut short is still reported
    assert parse_patch(make_patch(diff.replace("+35,4", "+35,9").replace("-35,3", "-35,8"))).error


def test_binary_rename_and_mode_changes() -> None:
    diff = """\
diff --git a/fixtures/blob.bin b/fixtures/blob.bin
index 1234567..89abcde 100644
Binary files a/fixtures/blob.bin and b/fixtures/blob.bin differ
diff --git a/arch/arm64/kernel/cpu-reset.h b/arch/arm64/kernel/cpu_reset.h
similarity index 90%
rename from arch/arm64/kernel/cpu-reset.h
rename to arch/arm64/kernel/cpu_reset.h
index 1111111..2222222 100644
--- a/arch/arm64/kernel/cpu-reset.h
+++ b/arch/arm64/kernel/cpu_reset.h
@@ -1,2 +1,2 @@
-#ifndef _ARM64_CPU_RESET_H
+#ifndef _ARM64_CPU_RESET_H_
 #define _ARM64_CPU_RESET_H
diff --git a/scripts/run.sh b/scripts/run.sh
old mode 100644
new mode 100755
diff --git a/arch/arm64/kernel/cpu-old.h b/arch/arm64/kernel/cpu-old.h
deleted file mode 100644
index 3333333..0000000
--- a/arch/arm64/kernel/cpu-old.h
+++ /dev/null
@@ -1,1 +0,0 @@
-#define X 1
diff --git a/arch/arm64/mm/trans_pgd-asm.S b/arch/arm64/mm/trans_pgd-asm.S
new file mode 100644
index 0000000..8c4bffe
--- /dev/null
+++ b/arch/arm64/mm/trans_pgd-asm.S
@@ -0,0 +1,1 @@
+#include <linux/linkage.h>
"""
    pd = parse_patch(make_patch(diff))
    assert pd.error is None
    got = {f.path: (f.status, f.renamed_from) for f in pd.files}
    assert got == {
        "fixtures/blob.bin": ("binary", None),
        "arch/arm64/kernel/cpu_reset.h": ("renamed", "arch/arm64/kernel/cpu-reset.h"),
        "scripts/run.sh": ("mode", None),
        "arch/arm64/kernel/cpu-old.h": ("deleted", None),
        "arch/arm64/mm/trans_pgd-asm.S": ("added", None),
    }


def test_crlf_diff_parses_like_lf() -> None:
    lf = parse_patch(make_patch(KEXEC_DIFF))
    crlf = parse_patch(make_patch(KEXEC_DIFF.replace("\n", "\r\n")))
    assert crlf.error is None
    assert crlf.files == lf.files


def test_non_utf8_and_empty_diffs() -> None:
    latin = KEXEC_DIFF.replace("int rc;", "int rc; /* caf\udce9 */")  # undecodable byte, surrogateescape'd
    pd = parse_patch(make_patch(latin))
    assert pd.error is None and "caf\udce9" in pd.files[0].hunks[0].lines[3].text
    empty = parse_patch(make_patch(""))
    assert empty.files == () and empty.error is None
    junk = parse_patch(make_patch("this is not a diff at all\n"))
    assert junk.files == () and junk.error is not None


def test_parse_series_keeps_order() -> None:
    patches = (make_patch(KEXEC_DIFF, 1), make_patch("", 2))
    series = Series(id="s", revision=1, expected=2, subject="x", author="a", date="", msgid="<m>",
                    cover=None, patches=patches)
    out = parse_series(series)
    assert [pd.index for pd in out] == [1, 2]


_diff_lines = st.sampled_from([
    "diff --git a/x.c b/x.c", "--- a/x.c", "+++ b/x.c", "@@ -1,3 +1,4 @@ int f(void)",
    "@@ -0,0 +1 @@", "@@ -5 +5,2 @@", " context", "+added", "-removed", "\\ No newline at end of file",
    "Binary files a/x b/x differ", "GIT binary patch", "rename from a", "rename to b", "old mode 100644",
    "new mode 100755", "new file mode 100644", "deleted file mode 100644", "--- /dev/null", "+++ /dev/null",
    "", "-- ", "2.25.1", "\r", "}",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_diff_lines, st.text(max_size=30)), max_size=40))
def test_hostile_input_never_raises(lines: list[str]) -> None:
    pd = parse_patch(make_patch("\n".join(lines)))
    for f in pd.files:
        for h in f.hunks:
            for ln in h.lines:
                assert ln.kind in "+- "
                assert (ln.kind == "+") == (ln.old_no is None)
                assert (ln.kind == "-") == (ln.new_no is None)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(KEXEC_DIFF)), st.text(max_size=20))
def test_damaged_real_diff_never_raises(cut: int, insert: str) -> None:
    pd = parse_patch(make_patch(KEXEC_DIFF[:cut] + insert + KEXEC_DIFF[cut:]))
    assert pd.index == 1
    assert all(f.path for f in pd.files)
