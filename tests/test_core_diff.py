"""The one diff model (reviewtool/diff.py): what rebase, check and report all read from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reviewtool.diff import parse

QUILT = """\
Index: linux/arch/x86/kernel/crash.c
===================================================================
--- linux.orig/arch/x86/kernel/crash.c
+++ linux/arch/x86/kernel/crash.c
@@ -1,3 +1,3 @@
 a
-b
+B
 c
--- linux.orig/include/linux/kexec.h\t2020-01-01 00:00:00
+++ linux/include/linux/kexec.h\t2020-01-01 00:00:00
@@ -5,2 +5,3 @@
 x
+y
 z
"""


def test_quilt_paths_are_read_as_git_apply_p1_reads_them_and_each_file_is_its_own_chunk() -> None:
    parsed = parse(QUILT)
    assert parsed.error is None
    assert [(f.path, f.old_path, f.status) for f in parsed.files] == [
        ("arch/x86/kernel/crash.c", "arch/x86/kernel/crash.c", "modified"),
        ("include/linux/kexec.h", "include/linux/kexec.h", "modified")]
    assert parsed.files[1].text.startswith("--- linux.orig/include/linux/kexec.h")
    assert [ln.new_no for ln in parsed.files[1].hunks[0].lines] == [5, 6, 7]


GIT = """\
diff --git "a/dir/caf\\303\\251.c" "b/dir/caf\\303\\251.c"
index 1111111..2222222 100644
--- "a/dir/caf\\303\\251.c"
+++ "b/dir/caf\\303\\251.c"
@@ -1,2 +1,2 @@
 keep
-old
\\ No newline at end of file
+new
\\ No newline at end of file
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/gone.c b/gone.c
deleted file mode 100644
index 3333333..0000000
--- a/gone.c
+++ /dev/null
@@ -1 +0,0 @@
--- a removed line that looks like a header
diff --git a/new.c b/new.c
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/new.c
@@ -0,0 +1 @@
+int x;
"""


def test_git_headers_give_quoted_paths_blobs_modes_and_no_newline_markers() -> None:
    files = parse(GIT).files
    cafe, run, gone, new = files
    assert cafe.path == "dir/café.c" and (cafe.old_blob, cafe.new_blob, cafe.new_mode) == ("1111111", "2222222", "100644")
    (h,) = cafe.hunks
    assert (h.no_newline_old, h.no_newline_new) == (True, True)
    assert [ln.prefixed for ln in h.lines] == [" keep", "-old", "+new"]
    assert (run.status, run.mode_change, run.new_mode, run.hunks) == ("mode", True, "100755", ())
    assert (gone.status, gone.old_path, gone.new_path, gone.old_blob, gone.new_blob) == (
        "deleted", "gone.c", None, "3333333", None)
    assert [ln.prefixed for ln in gone.hunks[0].lines] == ["--- a removed line that looks like a header"]
    assert (new.status, new.old_path, new.new_path, new.old_blob) == ("added", None, "new.c", None)


def test_each_files_text_is_a_patch_git_applies_on_its_own(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "f.c").write_text("a\nb\nc\n")
    (repo / "g.c").write_text("x\nz\n")
    text = ("diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
            "diff --git a/g.c b/g.c\n--- a/g.c\n+++ b/g.c\n@@ -1,2 +1,3 @@\n x\n+y\n z\n")
    parsed = parse(text)
    assert parsed.text == text
    for f in parsed.files:
        patch = tmp_path / f"{f.path}.patch"
        patch.write_text(f.text)
        subprocess.run(["git", "-C", str(repo), "apply", "--", str(patch)], check=True)
    assert (repo / "f.c").read_text() == "a\nB\nc\n" and (repo / "g.c").read_text() == "x\ny\nz\n"


def test_blank_context_a_mailer_cut_from_the_end_is_put_back() -> None:
    cut = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,4 @@\n a\n+b\n c\n"
    parsed = parse(cut)
    assert parsed.error is None
    (h,) = parsed.files[0].hunks
    assert [ln.prefixed for ln in h.lines] == [" a", "+b", " c", " "] and not h.truncated


def test_a_truncated_hunk_keeps_what_was_read_and_says_so() -> None:
    parsed = parse("--- a/f.c\n+++ b/f.c\n@@ -1,9 +1,10 @@\n a\n+b\n")
    (h,) = parsed.files[0].hunks
    assert h.truncated and [ln.prefixed for ln in h.lines] == [" a", "+b"]
    assert parsed.error is not None and "truncated" in parsed.error


def test_the_same_text_is_parsed_once() -> None:
    assert parse(QUILT) is parse(QUILT)


def test_hunks_know_their_place_in_the_file_and_their_line_in_the_patch_text() -> None:
    text = "Some words before the diff\n\n" + GIT
    parsed = parse(text)
    lines = text.split("\n")
    for f in parsed.files:
        for i, h in enumerate(f.hunks):
            assert h.number == i
            assert lines[h.offset - 1] == h.header
    gone = parsed.files[2].hunks[0]
    assert lines[gone.offset - 1] == "@@ -1 +0,0 @@" and lines[gone.offset] == "--- a removed line that looks like a header"
    hand = parse("--- a/f.c\n+++ b/f.c\n@@ -1,9 +1,10 @@\n a\n+b\n").files[0].hunks[0]
    assert (hand.number, hand.offset) == (0, 3)


def test_crlf_file_content_is_kept_and_a_crlf_mail_is_read_as_lf(tmp_path: Path) -> None:
    crlf_file = "--- a/w.bat\n+++ b/w.bat\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
    (f,) = parse(crlf_file).files
    assert [ln.text for ln in f.hunks[0].lines] == ["a\r", "b\r", "c\r"]
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "w.bat").write_bytes(b"a\r\nb\r\n")
    (tmp_path / "p").write_bytes(parse(crlf_file).text.encode())
    subprocess.run(["git", "-C", str(repo), "apply", "--", str(tmp_path / "p")], check=True)
    assert (repo / "w.bat").read_bytes() == b"a\r\nc\r\n"
    mail = "--- a/f.c\r\n+++ b/f.c\r\n@@ -1 +1 @@\r\n-x\r\n+y\r\n"
    assert [ln.text for ln in parse(mail).files[0].hunks[0].lines] == ["x", "y"]
