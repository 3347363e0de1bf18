"""Fixture threads shaped like real ones on the kernel lists: robot suggestions, tip-bot
notifications, "applied, thanks" mails, partial series, format-patch files, pasted patches.

Each builder returns the mails as bytes (one mail each); `mbox()` joins them into an mbox.
"""

from __future__ import annotations

from pathlib import Path

ALICE = "Alice Developer <alice@example.org>"
BOB = "Bob Maintainer <bob@example.org>"
CAROL = "Carol Tester <carol@example.org>"


def diff(path: str, old: str = "old line", new: str = "new line", strip: str = "") -> str:
    """A one-line change of path; with strip (`linux.orig/`, `linux/`) a quilt -p1 diff."""
    if strip:
        a, b = f"{strip.split(',')[0]}{path}", f"{strip.split(',')[1]}{path}"
        head = f"Index: {b}\n===================================================================\n--- {a}\n+++ {b}\n"
    else:
        head = (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
                f"--- a/{path}\n+++ b/{path}\n")
    return head + f"@@ -1,3 +1,3 @@\n context one\n-{old}\n+{new}\n context two\n"


def mail(subject: str, msgid: str, *, sender: str = ALICE, date: str = "Mon, 02 Aug 2021 10:00:00 +0000",
         reply_to: str | None = None, refs: list[str] | None = None, body: str = "",
         to: str = "linux-kernel@vger.kernel.org", extra: str = "", with_id: bool = True) -> bytes:
    head = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}"]
    if with_id:
        head.append(f"Message-ID: <{msgid}>")
    if reply_to:
        head.append(f"In-Reply-To: <{reply_to}>")
        head.append("References: " + " ".join(f"<{r}>" for r in (refs or [reply_to])))
    head += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"]
    if extra:
        head.append(extra)
    return ("\n".join(head) + "\n\n" + body).encode()


def patch_body(message: str, d: str, author: str = ALICE) -> str:
    return f"{message}\n\nSigned-off-by: {author}\n---\n{d}--\n2.30.2\n"


def mbox(mails: list[bytes]) -> bytes:
    out = []
    for m in mails:
        body = b"\n".join(b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln for ln in m.split(b"\n"))
        out.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def mce_series_with_robot() -> list[bytes]:
    """A 4-patch x86/mce series, and the kbuild robot's "[RFC PATCH] ... can be static" in
    reply to patch 2 (its own patch, with its own trailers)."""
    cover = "20200901-0-alice@example.org"
    out = [mail("[PATCH 0/4] x86/mce: Tidy the error paths", cover, body="Four small patches.\n")]
    for i in range(1, 5):
        out.append(mail(f"[PATCH {i}/4] x86/mce: step {i} of the tidy", f"20200901-{i}-alice@example.org",
                        reply_to=cover, body=patch_body(f"Step {i}.", diff(f"arch/x86/kernel/cpu/mce/f{i}.c"))))
    robot_body = ("Fixes: 1234567890ab (\"x86/mce: step 2 of the tidy\")\n"
                  "Reported-by: kernel test robot <lkp@intel.com>\n"
                  "Signed-off-by: kernel test robot <lkp@intel.com>\n---\n"
                  " f2.c |    2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n"
                  + diff("arch/x86/kernel/cpu/mce/f2.c", "int mce_foo(void)", "static int mce_foo(void)"))
    out.append(mail("[RFC PATCH] x86/mce: mce_foo() can be static", "20200902-robot@intel.com",
                    sender="kernel test robot <lkp@intel.com>", date="Wed, 02 Sep 2020 04:00:00 +0800",
                    reply_to="20200901-2-alice@example.org", refs=[cover, "20200901-2-alice@example.org"],
                    body=robot_body))
    out.append(mail("Re: [PATCH 3/4] x86/mce: step 3 of the tidy", "20200903-bob@example.org", sender=BOB,
                    reply_to="20200901-3-alice@example.org", body="> Step 3.\n\nReviewed-by: " + BOB + "\n"))
    return out


def one_patch_with_tip_bot() -> list[bytes]:
    """A one-patch posting, and tip-bot2's "[tip: x86/urgent]" notification of its commit."""
    pid = "20201010-1-alice@example.org"
    out = [mail("[PATCH] x86/boot: Fix the early console", pid,
                body=patch_body("Fix it.", diff("arch/x86/boot/early.c")))]
    tip = ("The following commit has been merged into the x86/urgent branch of tip:\n\n"
           "Commit-ID:     0123456789abcdef0123456789abcdef01234567\n"
           "Gitweb:        https://git.kernel.org/tip/0123456789abcdef0123456789abcdef01234567\n"
           f"Author:        {ALICE}\nAuthorDate:    Sat, 10 Oct 2020 10:00:00 +00:00\n"
           "Committer:     Borislav Petkov <bp@suse.de>\nCommitterDate: Mon, 12 Oct 2020 10:00:00 +02:00\n\n"
           "x86/boot: Fix the early console\n\nFix it.\n\n"
           f"Signed-off-by: {ALICE}\nSigned-off-by: Borislav Petkov <bp@suse.de>\n"
           f"Link: https://lkml.kernel.org/r/{pid}\n---\n"
           " arch/x86/boot/early.c | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n"
           + diff("arch/x86/boot/early.c"))
    out.append(mail("[tip: x86/urgent] x86/boot: Fix the early console", "160248-tip-bot2@tip-bot2",
                    sender='"tip-bot2 for Alice Developer" <tip-bot2@linutronix.de>',
                    date="Mon, 12 Oct 2020 08:00:00 -0000", reply_to=pid, body=tip,
                    to="linux-tip-commits@vger.kernel.org"))
    out.append(mail("Re: [PATCH] x86/boot: Fix the early console", "20201011-bob@example.org", sender=BOB,
                    date="Sun, 11 Oct 2020 10:00:00 +0000", reply_to=pid,
                    body="On Sat, Alice wrote:\n> Fix it.\n\nApplied, thanks!\n"))
    return out


def single_of_larger(index: int = 3, total: int = 7) -> list[bytes]:
    """Patch index/total alone in its thread: no cover letter, no patch 1."""
    return [mail(f"[PATCH v2 {index}/{total}] kexec: keep the crash kernel's memory map", "20190505-3-alice@example.org",
                 body=patch_body("Keep it.", diff("kernel/kexec_core.c")))]


def v6_older_than_v5() -> list[bytes]:
    """A thread where an old, unrelated [PATCH v6] sits above a newer [PATCH v5] of another patch."""
    old = "20190101-v6-carol@example.org"
    return [
        mail("[PATCH v6] arm64: mm: Add a sysfs knob", old, sender=CAROL, date="Tue, 01 Jan 2019 10:00:00 +0000",
             body=patch_body("Knob.", diff("arch/arm64/mm/knob.c"), CAROL)),
        mail("[PATCH v5] kexec: Tidy the segment checks", "20190601-v5-alice@example.org",
             date="Sat, 01 Jun 2019 10:00:00 +0000", reply_to=old,
             body=patch_body("Tidy.", diff("kernel/kexec.c"))),
    ]


def stable_partial(total: int = 434, present: int = 433) -> list[bytes]:
    """One patch of a large stable review series."""
    return [mail(f"[PATCH 5.4 {present}/{total}] net: fix a leak", f"20200101-{present}-greg@example.org",
                 sender="Greg Stable <greg@example.org>",
                 body=patch_body("Upstream commit abc.", diff("net/core/dev.c"), "Greg Stable <greg@example.org>"))]


def format_patch_dir(path: Path, cover: bool) -> Path:
    """`git format-patch` files (no Message-ID) in path, with or without a cover letter."""
    path.mkdir(parents=True, exist_ok=True)
    files = []
    if cover:
        files.append(("0000-cover-letter.patch",
                      mail("[PATCH 0/2] lib: Two fixes", "", with_id=False, body="Two fixes.\n")))
    for i in (1, 2):
        files.append((f"000{i}-lib-fix-{i}.patch",
                      mail(f"[PATCH {i}/2] lib: fix {i}", "", with_id=False,
                           body=patch_body(f"Fix {i}.", diff(f"lib/fix{i}.c")))))
    for name, data in files:
        (path / name).write_bytes(b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n" + data)
    return path


def reply_with_pasted_patch() -> list[bytes]:
    """A patch, and a reply that pastes an unrelated patch with its own Signed-off-by."""
    pid = "20210301-1-alice@example.org"
    pasted = ("How about this instead?\n\n-- >8 --\nSubject: [PATCH] mm: something else\n\n"
              "Another idea.\n\nSigned-off-by: Bob Maintainer <bob@example.org>\n---\n"
              + diff("mm/other.c"))
    return [
        mail("[PATCH] kexec: fix the purgatory checksum", pid, body=patch_body("Fix.", diff("kernel/kexec_file.c"))),
        mail("Re: [PATCH] kexec: fix the purgatory checksum", "20210302-bob@example.org", sender=BOB,
             date="Tue, 02 Mar 2021 10:00:00 +0000", reply_to=pid, body="> Fix.\n\n" + pasted),
    ]


def v17_with_v16_replies() -> list[bytes]:
    """v17 2/2 (no cover), a Tested-by in reply to the v16 cover letter that is not in the
    archive, and a reply to a v16 patch."""
    v16_cover = "20210801-0-alice@example.org"
    out = []
    for i in (1, 2):
        out.append(mail(f"[PATCH v17 {i}/2] arm64: kexec: step {i}", f"20210901-{i}-alice@example.org",
                        date="Wed, 01 Sep 2021 10:00:00 +0000",
                        body=patch_body(f"Step {i} again.", diff(f"arch/arm64/kernel/k{i}.c"))))
    out.append(mail("Re: [PATCH v16 0/2] arm64: kexec: two steps", "20210815-carol@example.org", sender=CAROL,
                    date="Sun, 15 Aug 2021 10:00:00 +0000", reply_to=v16_cover,
                    body="> Two steps.\n\nTested-by: " + CAROL + "\n"))
    v16_p1 = "20210801-1-alice@example.org"
    out.append(mail("[PATCH v16 1/2] arm64: kexec: step 1", v16_p1, date="Sun, 01 Aug 2021 10:00:00 +0000",
                    reply_to=v16_cover, body=patch_body("Step 1.", diff("arch/arm64/kernel/k1.c", "x", "y"))))
    out.append(mail("Re: [PATCH v16 1/2] arm64: kexec: step 1", "20210802-bob@example.org", sender=BOB,
                    date="Mon, 02 Aug 2021 10:00:00 +0000", reply_to=v16_p1, body="> Step 1.\n\nWhy?\n"))
    return out


def series_with_a_later_fix_in_reply() -> list[bytes]:
    """A v2 series of three patches with its cover letter, and weeks later somebody else's
    one-patch fix posted in reply to patch 2 (as on linux-arm-kernel: a coresight v2 11-patch
    thread that ends with "[PATCH] coresight: etm4x: Fix BMVAL misuse")."""
    cover = "20190829-0-alice@example.org"
    out = [mail("[PATCH v2 0/3] coresight: etm4x: Fixes for the sysfs API", cover,
                date="Thu, 29 Aug 2019 10:00:00 +0000", body="Three fixes.\n")]
    for i in (1, 2, 3):
        out.append(mail(f"[PATCH v2 {i}/3] coresight: etm4x: fix {i}", f"20190829-{i}-alice@example.org",
                        date="Thu, 29 Aug 2019 10:00:00 +0000", reply_to=cover,
                        body=patch_body(f"Fix {i}.", diff(f"drivers/hwtracing/coresight/f{i}.c"))))
    out.append(mail("[PATCH] coresight: etm4x: Fix BMVAL misuse", "20191026-carol@example.org", sender=CAROL,
                    date="Sat, 26 Oct 2019 20:26:33 +0000", reply_to="20190829-2-alice@example.org",
                    body=patch_body("BMVAL.", diff("drivers/hwtracing/coresight/f2.c", "a", "b"), CAROL)))
    return out


def series_with_applied_notices() -> list[bytes]:
    """A 2-patch v3 series and, for each patch, the maintainer script's notice that it was
    applied, with the commit attached (as Mark Brown's spi/regulator/ASoC trees send them)."""
    cover = "20190520-0-alice@example.org"
    out = [mail("[PATCH v3 0/2] spi: Convert to YAML schemas", cover, date="Mon, 20 May 2019 16:50:32 +0200",
                body="Two conversions.\n")]
    for i, name in ((1, "spi: sun4i: Add YAML schemas"), (2, "spi: sun6i: Add YAML schemas")):
        pid = f"20190520-{i}-alice@example.org"
        d = diff(f"Documentation/devicetree/bindings/spi/sun{i}.yaml")
        out.append(mail(f"[PATCH v3 {i}/2] dt-bindings: {name}", pid, date="Mon, 20 May 2019 16:50:33 +0200",
                        reply_to=cover, body=patch_body("Switch the binding to YAML.", d)))
        out.append(mail(f'Applied "{name}" to the spi tree', f"20190521-{i}-broonie@example.org",
                        sender="Mark Maintainer <broonie@example.org>", date="Tue, 21 May 2019 21:33:09 +0100",
                        reply_to=pid,
                        body=(f"The patch\n\n   {name}\n\nhas been applied to the spi tree at\n\n"
                              "   https://git.kernel.org/pub/scm/linux/kernel/git/broonie/spi.git for-5.3\n\n"
                              "Thanks,\nMark\n\n"
                              f">From 3133f5c24305c31ef2805a7eb05fc18a664836d3 Mon Sep 17 00:00:00 2001\n"
                              f"From: {ALICE}\nDate: Mon, 20 May 2019 16:50:34 +0200\nSubject: [PATCH] {name}\n\n"
                              + patch_body("Switch the binding to YAML.", d))))
    return out
