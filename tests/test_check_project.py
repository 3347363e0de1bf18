"""Kernel patch or userspace tool patch: kexec-tools, makedumpfile and quilt kernel patches,
decided by the target tree (`--repo`, a real git repository) and, without one, by the
subject, the paths and the changed lines, with how sure the decision is in the notes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewtool.cli import main
from reviewtool.model import ApplyResult, BaseChoice, PatchOutcome
from reviewtool.rebase.blobs import BlobReader
from reviewtool.store import Store
from tests.check_helpers import series_from_text
from tests.rebase_helpers import GIT_ENV, snapshot

KEXEC_TOOLS = """\
From: Kexec Dev <kexec.dev@example.org>
To: kexec@lists.infradead.org
Subject: [PATCH] x86: add the soft reserved e820 type
Date: Mon, 02 Aug 2021 10:00:00 +0000
Message-ID: <20210802100000.1-kexec.dev@example.org>

Memory marked EFI_MEMORY_SP shows up as "Soft Reserved" in /proc/iomem; give it an
e820 type so that the second kernel is told about it.

Signed-off-by: Kexec Dev <kexec.dev@example.org>
---
 include/x86/x86-linux.h | 1 +
 1 file changed, 1 insertion(+)

diff --git a/include/x86/x86-linux.h b/include/x86/x86-linux.h
index 1b0d1a5..2c3e4f6 100644
--- a/include/x86/x86-linux.h
+++ b/include/x86/x86-linux.h
@@ -14,6 +14,7 @@ struct e820entry {
 #define E820_NVS	4
 #define E820_PMEM	7
 #define E820_PRAM	12
+#define E820_SOFT_RESERVED	0xefffffff
 } __attribute__((packed));
 #endif
 
--
2.30.2
"""

MAKEDUMPFILE = """\
From: Dump Dev <dump.dev@example.org>
To: kexec@lists.infradead.org
Subject: [PATCH] Makefile: link the static build with zstd too
Date: Mon, 02 Aug 2021 11:00:00 +0000
Message-ID: <20210802110000.1-dump.dev@example.org>

A static build fails to link since zstd support was added.

Signed-off-by: Dump Dev <dump.dev@example.org>
---
 Makefile | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/Makefile b/Makefile
index 8b4ec4a..ad7a1f9 100644
--- a/Makefile
+++ b/Makefile
@@ -48,7 +48,7 @@ OBJ_PART=$(patsubst %.c,%.o,$(SRC_PART))
 OBJ_ARCH=$(patsubst %.c,%.o,$(SRC_ARCH))
 
-LIBS = -ldw -lbz2 -ldl -lelf -lz
+LIBS = -ldw -lbz2 -ldl -lelf -lz -lzstd
 ifneq ($(LINKTYPE), dynamic)
 LIBS := -lpthread $(LIBS)
 endif
--
2.30.2
"""

# quilt -p1, against a kernel of the firmware/ years (the directory left the kernel in 4.14)
QUILT = """\
From: Firmware Dev <fw.dev@example.org>
To: linux-kernel@vger.kernel.org
Subject: [patch 1/1] tg3: load the 5701 fix-up firmware with request_firmware()
Date: Mon, 02 Aug 2021 12:00:00 +0000
Message-ID: <20210802120000.quilt-1@example.org>

Signed-off-by: Firmware Dev <fw.dev@example.org>

---
 drivers/net/tg3.c |    2 +-
 firmware/Makefile |    1 +
 2 files changed, 2 insertions(+), 1 deletion(-)

Index: linux-2.6/drivers/net/tg3.c
===================================================================
--- linux-2.6.orig/drivers/net/tg3.c
+++ linux-2.6/drivers/net/tg3.c
@@ -1,4 +1,4 @@
 #include <linux/module.h>
 #include <linux/firmware.h>
-static const char *fw_name;
+static const char *fw_name = "tigon/tg3.bin";
 MODULE_FIRMWARE("tigon/tg3.bin");
Index: linux-2.6/firmware/Makefile
===================================================================
--- linux-2.6.orig/firmware/Makefile
+++ linux-2.6/firmware/Makefile
@@ -1,2 +1,3 @@
 fw-shipped-$(CONFIG_E100) += e100/d101m_ucode.bin
 fw-shipped-$(CONFIG_SCSI_ADVANSYS) += advansys/mcode.bin
+fw-shipped-$(CONFIG_TIGON3) += tigon/tg3.bin
"""

KERNEL_MAKEFILE = """\
From: Kernel Dev <kernel.dev@example.org>
To: linux-kernel@vger.kernel.org
Subject: [PATCH] Linux 2.6.27-rc2
Date: Mon, 02 Aug 2021 13:00:00 +0000
Message-ID: <20210802130000.1-kernel.dev@example.org>

Signed-off-by: Kernel Dev <kernel.dev@example.org>
---
diff --git a/Makefile b/Makefile
index 1111111..2222222 100644
--- a/Makefile
+++ b/Makefile
@@ -1,4 +1,4 @@
 VERSION = 2
 PATCHLEVEL = 6
 SUBLEVEL = 27
-EXTRAVERSION = -rc1
+EXTRAVERSION = -rc2
--
2.30.2
"""

TREE = {
    "Makefile": "VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 27\nEXTRAVERSION = -rc1\nNAME = Rotary Wombat\n",
    "drivers/net/tg3.c": ('#include <linux/module.h>\n#include <linux/firmware.h>\nstatic const char *fw_name;\n'
                          'MODULE_FIRMWARE("tigon/tg3.bin");\n'),
    "firmware/Makefile": ("fw-shipped-$(CONFIG_E100) += e100/d101m_ucode.bin\n"
                          "fw-shipped-$(CONFIG_SCSI_ADVANSYS) += advansys/mcode.bin\n"),
    "include/linux/kexec.h": "struct kimage;\n",
    "arch/x86/include/asm/e820.h": "#define E820_RAM 1\n",
    "kernel/kexec_core.c": "int kexec_load_disabled;\n",
    "d/*": "a file whose name is a glob\n",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, timeout=30, env=GIT_ENV, capture_output=True)


@pytest.fixture(scope="module")
def kernel_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small kernel tree of the 2.6.27 years, one commit, a real repository."""
    repo = tmp_path_factory.mktemp("kernel") / "linux"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "master")
    for path, text in TREE.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    _git(repo, "add", "-A", ".")
    _git(repo, "-c", "user.name=K", "-c", "user.email=k@example.org", "commit", "-q", "-m", "Linux 2.6.27-rc1")
    return repo


def _notes(tmp_path: Path, capsys: pytest.CaptureFixture[str], mail: str, *argv: str) -> list[str]:
    source = tmp_path / "series.mbox"
    source.write_text("From mboxrd@z Thu Jan  1 00:00:00 1970\n" + mail)
    capsys.readouterr()
    code = main(["check", str(source), "--no-checkpatch", "--format", "json", "--fail-on", "never",
                 "--store", str(tmp_path / "store"), *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    notes: list[str] = json.loads(out.out)["notes"]
    return [n for n in notes if "kernel patch" in n]


def test_kexec_tools_include_x86_patch_is_not_a_kernel_patch_without_a_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (note,) = _notes(tmp_path, capsys, KEXEC_TOOLS)
    assert note.startswith("patch 1/1 is not a kernel patch (kexec-tools, high: include/x86/x86-linux.h")


def test_kexec_tools_include_x86_patch_is_not_a_kernel_patch_when_the_tree_lacks_its_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kernel_tree: Path) -> None:
    before = snapshot(kernel_tree, GIT_ENV)
    (note,) = _notes(tmp_path, capsys, KEXEC_TOOLS, "--repo", str(kernel_tree))
    assert note.startswith("patch 1/1 is not a kernel patch (sure: its file is not in the target tree")
    assert snapshot(kernel_tree, GIT_ENV) == before


def test_makedumpfile_makefile_patch_is_not_a_kernel_patch_without_a_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (note,) = _notes(tmp_path, capsys, MAKEDUMPFILE)
    assert note.startswith("patch 1/1 is not a kernel patch (makedumpfile, medium: Makefile only;")
    assert "userspace builds" in note


def test_makedumpfile_makefile_patch_is_not_a_kernel_patch_when_the_tree_makefile_lacks_its_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kernel_tree: Path) -> None:
    (note,) = _notes(tmp_path, capsys, MAKEDUMPFILE, "--repo", str(kernel_tree))
    assert note.startswith("patch 1/1 is not a kernel patch (sure: its file is not in the target tree (Makefile)")


def test_quilt_p1_kernel_patch_is_a_kernel_patch_without_a_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _notes(tmp_path, capsys, QUILT) == []


def test_quilt_p1_kernel_patch_is_a_kernel_patch_when_its_files_are_in_the_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kernel_tree: Path) -> None:
    assert _notes(tmp_path, capsys, QUILT, "--repo", str(kernel_tree)) == []


def test_kernel_makefile_patch_is_a_kernel_patch_by_its_lines_in_the_tree_and_its_version_lines_without(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kernel_tree: Path) -> None:
    assert _notes(tmp_path, capsys, KERNEL_MAKEFILE, "--repo", str(kernel_tree)) == []
    assert _notes(tmp_path, capsys, KERNEL_MAKEFILE) == []
    unsure = KERNEL_MAKEFILE.replace(" VERSION = 2\n PATCHLEVEL = 6\n SUBLEVEL = 27\n", " NAME = x\n all:\n")
    unsure = unsure.replace("@@ -1,4 +1,4 @@", "@@ -1,3 +1,3 @@")
    (note,) = _notes(tmp_path, capsys, unsure)
    assert note == ("patch 1/1 is taken as a kernel patch (low: Makefile only; nothing in its lines tells): "
                    "the kernel checks ran")


def test_a_repo_that_is_not_a_git_repository_leaves_the_decision_to_the_evidence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (note,) = _notes(tmp_path, capsys, KEXEC_TOOLS, "--repo", str(plain))
    assert "kexec-tools, high" in note


def test_path_lookup_in_the_tree_is_literal_and_names_directories_too(kernel_tree: Path) -> None:
    with BlobReader(kernel_tree) as reader:
        head = reader.commit("HEAD")
        assert head is not None and reader.commit("-x") is None
        got = reader.present(head, ["d/*", "d/x", "kernel", "include/x86", ":(glob)**", "firmware/Makefile"])
    assert got == {"d/*", "kernel", "firmware/Makefile"}


@pytest.mark.parametrize(("mail", "expected"), [
    (MAKEDUMPFILE, ["patch 1/1 is not a kernel patch (sure: its file is not in the target tree (Makefile)): "
                    "only the generic checks ran"]),
    (QUILT, []),
])
def test_a_stored_rebase_result_gives_the_tree_the_decision_reads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kernel_tree: Path, mail: str,
        expected: list[str]) -> None:
    store = tmp_path / "store"
    series = series_from_text(mail, "rebased")
    Store(store).save_series(series, {})
    head = subprocess.run(["git", "-C", str(kernel_tree), "rev-parse", "HEAD"], check=True, timeout=30,
                          env=GIT_ENV, capture_output=True, text=True).stdout.strip()
    apply = ApplyResult(series_id=series.id, onto="master", onto_commit=head, base=BaseChoice(head, "onto"),
                        patches=(PatchOutcome(1, series.patches[0].subject, "conflict"),),
                        result_commit=None, result_tree=None, repo=str(kernel_tree))
    Store(store).save_result(series.id, "rebase", apply)
    capsys.readouterr()
    assert main(["check", "rebased", "--store", str(store), "--no-checkpatch", "--json", "--fail-on", "never"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert [n for n in notes if "kernel patch" in n] == expected
