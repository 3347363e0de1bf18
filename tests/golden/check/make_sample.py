#!/usr/bin/env python3
"""Write tests/golden/check/sample.mbox: a small arm64 kexec series for the check golden tests.

Real `git format-patch` output from a throw-away repository (exact diffs and blob ids),
threaded under a cover letter. It is made to exercise the whole check: findings in several
categories, an error, an allocation judged looks-ok, a finding that a later patch removes
(dropped), re-indented code (pre-existing), and a Kconfig default. Run again only to change
the sample, then regenerate the golden files (REVIEWTOOL_UPDATE_GOLDEN=1 pytest tests/test_check_golden.py):

    python tests/golden/check/make_sample.py tests/golden/check/sample.mbox
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

AUTHOR = ("Pat Kexec", "pat.kexec@example.org")
LIST = "linux-arm-kernel@lists.example.org, kexec@lists.example.org"
MSGID = "20240301120000.4242-{n}-pat.kexec@example.org"

BASE = {
    "arch/arm64/kernel/machine_kexec.c": """\
// SPDX-License-Identifier: GPL-2.0-only
/*
 * kexec for arm64
 */

#include <linux/kexec.h>
#include <asm/cacheflush.h>
#include <asm/mmu_context.h>
#include <asm/trans_pgd.h>

int machine_kexec_post_load(struct kimage *kimage)
{
	void *reloc_code = page_to_virt(kimage->control_code_page);
	struct trans_pgd_info info = {
		.trans_alloc_page	= kexec_page_alloc,
		.trans_alloc_arg	= kimage,
	};

	memcpy(reloc_code, __relocate_new_kernel_start, reloc_size);
	kimage->arch.kern_reloc = __pa(reloc_code);
	kexec_image_info(kimage);

	return 0;
}

void machine_kexec(struct kimage *kimage)
{
	bool in_kexec_crash = (kimage == kexec_crash_image);

	pr_info("Bye!\\n");

	local_daif_mask();

	cpu_install_idmap();
	restart(is_hyp_nvhe(), kimage->start, kimage->arch.dtb_mem, 0, 0);

	BUG(); /* Should never get here. */
}
""",
    "arch/arm64/kernel/relocate_kernel.S": """\
/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kexec for arm64
 */

#include <linux/kexec.h>
#include <linux/linkage.h>

#include <asm/assembler.h>
#include <asm/kexec.h>

.pushsection    ".kexec_relocate.text", "ax"
SYM_CODE_START(arm64_relocate_new_kernel)
	ldr	x16, [x0, #KIMAGE_HEAD]		/* x16 = kimage_head */
	raw_dcache_line_size x15, x1		/* x15 = dcache line size */
.Lloop:
	and	x12, x16, PAGE_MASK		/* x12 = addr */
	dc	civac, x12
	copy_page x13, x12, x1, x2, x3, x4, x5, x6, x7, x8
	ldr	x16, [x14], #8			/* entry = *ptr++ */
	tbz	x16, IND_DONE_BIT, .Lloop	/* while (!(entry & DONE)) */
	dsb	nsh
	ic	iallu
	dsb	nsh
	isb
	ldr	x4, [x0, #KIMAGE_START]
	ldr	x0, [x0, #KIMAGE_ARCH_DTB_MEM]
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x4
SYM_CODE_END(arm64_relocate_new_kernel)
.popsection
""",
    "arch/arm64/Kconfig": """\
config KEXEC
	depends on PM_SLEEP_SMP
	select KEXEC_CORE
	bool "kexec system call"

config TRANS_TABLE
	def_bool y
	depends on HIBERNATION || KEXEC_CORE
""",
}

PATCHES = [
    ("arm64: kexec: sanity check the image before the reboot",
     "Catch a missing image before the reboot goes any further.",
     [("arch/arm64/kernel/machine_kexec.c",
       "\tbool in_kexec_crash = (kimage == kexec_crash_image);\n",
       "\tbool in_kexec_crash = (kimage == kexec_crash_image);\n\n\tBUG_ON(!kimage->head);\n")]),
    ("arm64: kexec: install a copy of the linear map",
     "To relocate with the MMU on, the relocation code needs a copy of the\n"
     "linear map. Build it when the image is loaded, so that a failure is\n"
     "reported by kexec_load() rather than at reboot.",
     [("arch/arm64/kernel/machine_kexec.c",
       "\t};\n\n\tmemcpy(",
       "\t};\n\tpgd_t *trans_pgd;\n\tint rc;\n\n"
       "\trc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET, PAGE_END);\n"
       "\tif (rc)\n\t\treturn rc;\n\tkimage->arch.ttbr1 = __pa(trans_pgd);\n\n\tmemcpy(")]),
    ("arm64: kexec: switch to the copied linear map in the relocation code",
     "Install the copy of the linear map before the copy loop; the MMU stays\n"
     "on, so the destination pages no longer need cleaning one by one.",
     [("arch/arm64/kernel/relocate_kernel.S",
       "\traw_dcache_line_size x15, x1\t\t/* x15 = dcache line size */\n",
       "\traw_dcache_line_size x15, x1\t\t/* x15 = dcache line size */\n"
       "\tldr\tx17, [x0, #KIMAGE_ARCH_TTBR1]\t/* x17 = linear map copy */\n"
       "\tmsr\tttbr1_el1, x17\n\ttlbi\tvmalle1\n"),
      ("arch/arm64/kernel/relocate_kernel.S", "\tdc\tcivac, x12\n", "")]),
    ("arm64: kexec: make MMU-on relocation optional",
     "Let distributions turn the MMU-on relocation off while it gets wider\n"
     "testing. Also drop the sanity check again: kexec_load() already\n"
     "refuses an empty image.",
     [("arch/arm64/kernel/machine_kexec.c", "\n\tBUG_ON(!kimage->head);\n", ""),
      ("arch/arm64/Kconfig", "config TRANS_TABLE\n",
       "config ARM64_KEXEC_MMU_ON\n\tbool \"Relocate kexec images with the MMU on\"\n"
       "\tdepends on KEXEC_CORE\n\tdefault y\n\nconfig TRANS_TABLE\n")]),
    ("arm64: kexec: install the idmap only for the relocation",
     "Only the relocation path needs the identity map.",
     [("arch/arm64/kernel/machine_kexec.c",
       "\tcpu_install_idmap();\n\trestart(is_hyp_nvhe(), kimage->start, kimage->arch.dtb_mem, 0, 0);\n",
       "\tif (!(kimage->head & IND_DONE)) {\n\t\tcpu_install_idmap();\n"
       "\t\trestart(is_hyp_nvhe(), kimage->start, kimage->arch.dtb_mem, 0, 0);\n\t}\n")]),
]

COVER = """\
Enable the MMU during kexec relocation, so that copying the new kernel
and initramfs benefits from the caches.

Pat Kexec (5):
{shortlog}
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
           "GIT_COMMITTER_NAME": AUTHOR[0], "GIT_COMMITTER_EMAIL": AUTHOR[1],
           "GIT_AUTHOR_DATE": "2024-03-01T12:00:00+00:00", "GIT_COMMITTER_DATE": "2024-03-01T12:00:00+00:00",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env=env, timeout=60).stdout


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", "-b", "main")
        for path, text in BASE.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "base")
        base = git(repo, "rev-parse", "HEAD").strip()
        for subject, body, edits in PATCHES:
            for path, old, new in edits:
                f = repo / path
                text = f.read_text()
                assert old in text, (subject, old)
                f.write_text(text.replace(old, new, 1))
            git(repo, "commit", "-q", "-a", "-m",
                f"{subject}\n\n{body}\n\nSigned-off-by: {AUTHOR[0]} <{AUTHOR[1]}>")
        mails = git(repo, "format-patch", "--stdout", f"--base={base}", f"{base}..HEAD")
    parts = re.split(r"(?m)^(?=From [0-9a-f]{40} )", mails)
    parts = [p for p in parts if p.strip()]
    n = len(parts)
    date = "Fri, 01 Mar 2024 12:00:{s:02d} +0000"
    shortlog = "\n".join(f"  {s}" for s, _, _ in PATCHES)
    cover_id = MSGID.format(n=1)
    out_parts = [
        f"From {'0' * 40} Mon Sep 17 00:00:00 2001\nFrom: {AUTHOR[0]} <{AUTHOR[1]}>\nTo: {LIST}\n"
        f"Subject: [PATCH v3 0/{n}] arm64: kexec: relocate with the MMU on\n"
        f"Date: {date.format(s=0)}\nMessage-Id: <{cover_id}>\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=UTF-8\n\n{COVER.format(shortlog=shortlog)}\n"
        f"base-commit: {base}\n"]
    for i, part in enumerate(parts, 1):
        part = re.sub(r"(?m)^Subject: \[PATCH[^\]]*\]", f"Subject: [PATCH v3 {i}/{n}]", part, count=1)
        part = re.sub(r"(?m)^Date: .*$", f"Date: {date.format(s=i)}", part, count=1)
        head, sep, rest = part.partition("\n\n")
        head += (f"\nTo: {LIST}\nMessage-Id: <{MSGID.format(n=i + 1)}>\n"
                 f"In-Reply-To: <{cover_id}>\nReferences: <{cover_id}>")
        out_parts.append(head + sep + rest)
    out.write_text("".join(p if p.endswith("\n") else p + "\n" for p in out_parts))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
