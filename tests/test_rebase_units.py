"""The pieces of rebase: diff parsing, hunk repair and location, index files, tree editing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.diff import parse, restore_blank_tail
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.hunks import describe_offsets, failed_hunks, parse_offsets
from reviewtool.rebase.indexfile import read_index, write_index
from reviewtool.rebase.series import _git_date, _ident_part
from reviewtool.rebase.trees import TreeConflict, Trees
from tests.rebase_helpers import git

DIFF = """\
diff --git a/arch/arm64/kernel/cpu-reset.h b/arch/arm64/kernel/cpu-reset.h
deleted file mode 100644
index 1a2b3c4..0000000
--- a/arch/arm64/kernel/cpu-reset.h
+++ /dev/null
@@ -1,3 +0,0 @@
-/* SPDX */
-#ifndef X
-#endif
diff --git a/arch/arm64/mm/new.S b/arch/arm64/mm/new.S
new file mode 100755
index 0000000..abcdef0
--- /dev/null
+++ b/arch/arm64/mm/new.S
@@ -0,0 +1,2 @@
+// new
+ret
diff --git a/old name.c b/new name.c
similarity index 90%
rename from old name.c
rename to new name.c
index 1111111..2222222 100644
--- a/old name.c
+++ b/new name.c
@@ -10,4 +10,4 @@ static int f(void)
 a
-b
+c
 d

diff --git "a/caf\\303\\251.c" "b/caf\\303\\251.c"
index 3333333..4444444 100644
--- "a/caf\\303\\251.c"
+++ "b/caf\\303\\251.c"
@@ -1 +1 @@
-x
+y
"""


def test_parse_diff_reads_paths_blobs_modes_and_hunks() -> None:
    files = parse(DIFF).files
    assert [(f.old_path, f.new_path) for f in files] == [
        ("arch/arm64/kernel/cpu-reset.h", None),
        (None, "arch/arm64/mm/new.S"),
        ("old name.c", "new name.c"),
        ("café.c", "café.c"),
    ]
    deleted, created, renamed, quoted = files
    assert (deleted.old_blob, deleted.new_blob) == ("1a2b3c4", None)
    assert (created.old_blob, created.new_blob, created.new_mode) == (None, "abcdef0", "100755")
    assert renamed.paths == ("old name.c", "new name.c") and renamed.path == "new name.c"
    [h] = renamed.hunks
    assert (h.old_start, h.old_len, h.new_start, h.new_len) == (10, 4, 10, 4)
    assert h.old_side() == ["a", "b", "d", ""]
    assert [ln.prefixed for ln in quoted.hunks[0].lines] == ["-x", "+y"]


def test_complete_hunks_gives_back_a_dropped_blank_context_line() -> None:
    cut = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+b\n c\n"
    fixed = restore_blank_tail(cut)
    assert fixed == cut + " \n" and parse(cut).text == fixed
    assert restore_blank_tail(fixed) == fixed  # complete hunks are left alone
    # short on one side only: not blank context, left as it is for git to judge
    odd = "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+b\n+c\n"
    assert restore_blank_tail(odd) == odd


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("@-+ \\\nabdif/,0123456789")), max_size=400))
def test_diff_parsing_never_fails_on_hostile_text(text: str) -> None:
    parsed = parse(text)
    for f in parsed.files:
        assert f.path
    assert not parsed.text or parsed.text.endswith("\n")


def test_parse_offsets_reads_git_apply_verbose_output() -> None:
    err = ("Checking patch arch/x.c...\nHunk #1 succeeded at 40 (offset 3 lines).\n"
           "Hunk #2 succeeded at 90 (offset -1 line).\nApplied patch arch/x.c cleanly.\n"
           "Checking patch y.c...\nApplied patch y.c cleanly.\n")
    offsets = parse_offsets(err)
    assert [(o.path, o.hunk, o.at, o.offset) for o in offsets] == [("arch/x.c", 1, 40, 3), ("arch/x.c", 2, 90, -1)]
    assert describe_offsets(offsets) == "arch/x.c hunk 1 at line 40 (+3 lines); arch/x.c hunk 2 at line 90 (-1 line)"


def test_failed_hunks_are_located_in_the_target_file() -> None:
    pre = [f"line {i}" for i in range(1, 41)]
    target = ["new top"] * 5 + pre[:19] + ["line 20 changed upstream"] + pre[20:]
    diff = ("--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n line 2\n-line 3\n+line three\n line 4\n"
            "@@ -19,3 +19,3 @@\n line 19\n-line 20\n+line twenty\n line 21\n")
    [fd] = parse(diff).files
    [bad] = failed_hunks(fd, target, pre)
    assert bad.header.startswith("@@ -19,3")
    assert (bad.start, bad.length) == (24, 3)  # five lines added above: 19-21 became 24-26
    assert target[bad.start - 1:bad.start + bad.length - 1][1] == "line 20 changed upstream"
    # without the pre-image, the offset of the hunk that was found is used
    [guess] = failed_hunks(fd, target, None)
    assert (guess.start, guess.length) == (24, 3)
    # a file missing from the target: every hunk failed, no range
    assert [(h.start, h.length) for h in failed_hunks(fd, None, pre)] == [(0, 0), (0, 0)]


def test_index_files_round_trip_and_git_reads_them(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    blob = git(repo, "hash-object", "-w", "--stdin", input="hello\n").strip()
    entries = [("100644", blob, "b/z.c"), ("100755", blob, "a.sh"), ("120000", blob, "b/link"),
               ("100644", blob, "b/" + "x" * 300)]
    index = tmp_path / "idx"
    write_index(index, entries)
    listed = git(repo, "ls-files", "-s", env={"GIT_INDEX_FILE": str(index)})
    assert [ln.split("\t")[1] for ln in listed.splitlines()] == ["a.sh", "b/link", "b/" + "x" * 300, "b/z.c"]
    assert "100755" in listed and "120000" in listed
    assert sorted(read_index(index) or [], key=lambda e: e[2]) == sorted(entries, key=lambda e: e[2])
    # and an index git wrote is read back the same
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},c.txt", env={"GIT_INDEX_FILE": str(index)})
    assert ("100644", blob, "c.txt") in (read_index(index) or [])
    assert read_index(tmp_path / "missing") == []
    (tmp_path / "junk").write_bytes(b"not an index")
    assert read_index(tmp_path / "junk") is None


def test_tree_edits_touch_only_the_changed_directories(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for path in ("a/b/one.c", "a/b/two.c", "a/keep.c", "top.c"):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(path + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "x", env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
                                              "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org"})
    with GitRepo(repo) as g:
        trees = Trees(g)
        root = trees.tree_of("HEAD")
        blob = trees.lookup(root, "top.c")
        assert blob is not None
        new = trees.edit(root, {"a/b/one.c": None, "a/b/two.c": None, "n/e/w.c": blob, "top.c": None})
        listing = git(repo, "ls-tree", "-r", "--name-only", new).split()
        assert listing == ["a/keep.c", "n/e/w.c"]  # the emptied a/b is gone
        assert trees.lookup(new, "a")[1] != trees.lookup(root, "a")[1]  # type: ignore[index]
        # the same edit twice gives the same tree, and an empty edit gives the same tree back
        assert trees.edit(root, {"a/b/one.c": None, "a/b/two.c": None, "n/e/w.c": blob, "top.c": None}) == new
        assert trees.edit(root, {}) == root
        for bad in ({"top.c/x": blob}, {"a": blob}):
            try:
                trees.edit(root, bad)
            except TreeConflict:
                pass
            else:
                raise AssertionError(f"{bad} should not fit in the tree")
        assert trees.is_dir(root, "a/b") and not trees.is_dir(root, "top.c") and trees.is_dir(root, "")


def test_commit_dates_and_idents_are_what_git_accepts() -> None:
    assert _git_date("Mon, 2 Aug 2021 17:53:54 -0400") == "1627941234 -0400"
    assert _git_date("2021-08-02T21:53:54+00:00") == "1627941234 +0000"
    assert _git_date("not a date") == "1000000000 +0000"
    assert _ident_part(' "Pasha" <x>\n') == 'Pasha" x'  # like git: crud stripped at the ends only
    assert _ident_part("<>") == "unknown"


def test_generated_series_goes_through_both_apply_paths(tmp_path: Path) -> None:
    from reviewtool.rebase import apply_series
    from tests.rebase_helpers import copy_repo, generated_series

    res = apply_series(generated_series(6), "v5.15-rc1", repo=copy_repo(tmp_path))
    assert [p.outcome for p in res.patches] == ["clean", "offset"] * 3
    assert "(-1 line)" in res.patches[1].detail


def test_exact_apply_takes_only_exact_matches_and_leaves_the_rest_to_git() -> None:
    from reviewtool.rebase.exact import Missing, apply_exact

    old = b"a\nb\nc\nd\ne\n"
    [fd] = parse("--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n").files
    assert apply_exact(fd, old) == b"a\nb\nC\nd\ne\n"
    assert apply_exact(fd, b"x\n" + old) is Missing  # would need an offset: git decides
    assert apply_exact(fd, None) is Missing
    assert apply_exact(fd, b"a\nb\nc\nd\ne") is Missing  # no newline at the end
    [new] = parse("diff --git a/n b/n\nnew file mode 100755\n--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n").files
    assert apply_exact(new, None) == b"x\ny\n"
    assert apply_exact(new, b"x\n") is Missing  # already there
    [gone] = parse("diff --git a/g b/g\ndeleted file mode 100644\n--- a/g\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n").files
    assert apply_exact(gone, b"x\ny\n") is None
    assert apply_exact(gone, b"x\ny\nz\n") is Missing
    for text in ("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+A\n\\ No newline at end of file\n",
                 "diff --git a/f b/g\nrename from f\nrename to g\n--- a/f\n+++ b/g\n@@ -1 +1 @@\n-a\n+A\n",
                 "diff --git a/f b/f\nold mode 100644\nnew mode 100755\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+A\n",
                 "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+A\n"):  # counts do not add up
        [odd] = parse(text).files
        assert apply_exact(odd, old) is Missing, text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "", "x = 1;"]), min_size=0, max_size=12),
       st.integers(min_value=0, max_value=3), st.sampled_from(["+new line", "-b", "+a"]))
def test_the_quick_presence_test_answers_as_the_full_one(target: list[str], at: int, change: str) -> None:
    """fully_present (every patch, before applying) is presence().whole, only cheaper."""
    from reviewtool.rebase.present import _at_its_place, _hunk_present

    ctx = ["a", "b", "c"]
    body = [f" {ctx[0]}", change, f" {ctx[2]}"] if change != "-b" else [" a", "-b", " c"]
    new_len = sum(1 for ln in body if not ln.startswith("-"))
    old_len = sum(1 for ln in body if not ln.startswith("+"))
    diff = f"--- a/f\n+++ b/f\n@@ -{at + 1},{old_len} +{at + 1},{new_len} @@\n" + "\n".join(body) + "\n"
    (fd,) = parse(diff).files
    (h,) = fd.hunks
    full = _hunk_present(h, target, {t: [i for i, x in enumerate(target) if x == t] for t in target})
    assert (_at_its_place(h, target) or _hunk_present(h, target, None)) == full
