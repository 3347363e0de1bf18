"""The base cascade, upstream matching by subject, and refusing bad refs and series."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewtool import cli, record
from reviewtool.errors import GitError
from reviewtool.model import Series
from reviewtool.rebase import apply_series
from reviewtool.store import Store
from tests.rebase_helpers import built, copy_repo, fixture_series, git, with_patches


def without_base(series: Series) -> Series:
    return record.replace(series, base_commit=None)


def test_base_comes_from_base_commit_when_the_repo_has_it() -> None:
    res = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)
    assert (res.base.how, res.base.commit) == ("base-commit", built().commits["v5.14-rc4"])


def test_base_is_guessed_from_blob_ids_as_the_newest_commit_that_has_them() -> None:
    res = apply_series(without_base(fixture_series()), "v5.15-rc1", repo=built().repo)
    assert res.base.how == "guessed"
    # v5.14-rc4 and the kexec_core fix after it have the same blobs for the series' files;
    # the merge of the arm64 tree changed them: the fix is the newest with all of them.
    assert res.base.commit == built().commits["kexec-core-fix"]
    m = re.search(r"all (\d+) pre-image blobs \((\d+)/(\d+) matched", res.base.detail)
    assert m and m.group(1) == m.group(2) == m.group(3) and int(m.group(1)) >= 10
    assert "names no base-commit" in res.base.detail
    # the guessed base still finds the patch merged upstream
    assert res.patches[2].outcome == "already-upstream"


def test_base_commit_missing_from_the_repo_falls_back_to_the_guess() -> None:
    series = record.replace(fixture_series(), base_commit="c500bee1c5b2" + "0" * 28)
    res = apply_series(series, "v5.15-rc1", repo=built().repo)
    assert res.base.how == "guessed"
    assert "c500bee1c5b2" in res.base.detail and "not in this repository" in res.base.detail


def test_unknown_base_applies_directly_onto_ref_and_says_so(tmp_path: Path) -> None:
    # blob ids nobody has: no base-commit, no guess, and no 3-way merge possible
    patches = [record.replace(p, diff=re.sub(r"^index [0-9a-f]+\.\.", "index 1234567..", p.diff,
                                                  flags=re.M))
               for p in fixture_series().patches]
    series = with_patches(without_base(fixture_series()), patches)
    res = apply_series(series, "v5.15-rc1", repo=copy_repo(tmp_path))
    assert res.base.how == "onto" and res.base.commit == res.onto_commit
    assert res.base.detail.startswith("none known, so the series was applied directly onto the target: "
                                      "the series names no base-commit and no commit among")
    assert ":;" not in res.base.detail and "REF" not in res.base.detail  # a sentence, never a template
    outcomes = {p.index: p.outcome for p in res.patches}
    assert outcomes[1] == "clean" and outcomes[10] == "not-applicable"
    p5 = res.patches[4]
    assert p5.outcome == "conflict"
    assert "pre-image blobs are not in this repository" in p5.detail
    assert "sha1 information is lacking or useless" in p5.git_error


def test_explicit_base_wins_over_base_commit() -> None:
    res = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo, base=built().commits["v5.14-rc3"])
    assert res.base.how == "--base"
    assert res.base.commit == built().commits["v5.14-rc3"]


def test_already_upstream_falls_back_to_subject_and_author() -> None:
    p3 = fixture_series().patches[2]
    changed = record.replace(p3, diff=p3.diff.replace("+\tisb();\n+}\n", "+\tisb();\n+\tdsb(nsh);\n+}\n"
                                                           ).replace("@@ -115,6 +115,30 @@", "@@ -115,6 +115,31 @@"))
    assert changed.diff != p3.diff
    patches = list(fixture_series().patches)
    patches[2] = changed
    res = apply_series(with_patches(fixture_series(), patches), "v5.15-rc1", repo=built().repo)
    out = res.patches[2]
    assert out.outcome == "already-upstream"
    assert out.upstream_commit == built().commits["upstream-03"]
    assert "same subject and author (patch-id differs)" in out.detail


def test_patch_needing_a_missing_one_is_skipped(tmp_path: Path) -> None:
    series = fixture_series()
    patches = [p for p in series.patches if p.index != 4]  # 05 was made on top of 04
    res = apply_series(record.replace(series, patches=tuple(patches), missing=(4,)), "v5.15-rc1",
                       repo=copy_repo(tmp_path))
    p5 = next(p for p in res.patches if p.index == 5)
    assert p5.outcome == "skipped"
    assert "needs patch(es) 04, missing from the series" in p5.detail


def test_ref_that_does_not_exist_is_a_clear_error(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = built()
    code = cli.main(["rebase", str(fx.mbox), "--onto", "v9.9-rc9", "--repo", str(fx.repo)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip() == f"reviewtool: error: REF 'v9.9-rc9' is not a commit in {fx.repo}"


def test_ref_that_looks_like_an_option_is_refused_never_passed_to_git(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fx = built()
    monkeypatch.chdir(tmp_path)
    before = git(fx.repo, "for-each-ref")
    for argv in (["--onto=--output=x"], ["--onto", "v5.15-rc1", "--base=--output=x"]):
        code = cli.main(["rebase", str(fx.mbox), *argv, "--repo", str(fx.repo)])
        assert code == 2
        assert "'--output=x' starts with '-': refusing it" in capsys.readouterr().err
    assert cli.main(["rebase", str(fx.mbox), "--onto", "--output=x", "--repo", str(fx.repo)]) == 2
    assert "expected one argument" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (fx.repo / "x").exists()
    assert git(fx.repo, "for-each-ref") == before


def test_series_argument_that_looks_like_an_option_is_refused(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["rebase", "--onto", "v5.15-rc1", "--repo", str(built().repo), "--", "-x"])
    assert code == 2
    assert "SERIES '-x' starts with '-'" in capsys.readouterr().err


def test_not_a_repository_and_unknown_series_are_clear_errors(
        store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = built()
    assert cli.main(["rebase", str(fx.mbox), "--onto", "v5.15-rc1", "--repo", str(tmp_path)]) == 2
    assert "not a git repository" in capsys.readouterr().err
    assert cli.main(["rebase", "nosuchseries", "--onto", "v5.15-rc1", "--repo", str(fx.repo)]) == 2
    assert "reviewtool: error:" in capsys.readouterr().err


def test_rebase_by_store_id_and_message_id(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = built()
    Store(store).save_series(fixture_series(), {})
    for key in (fixture_series().id, "20210802215408.804942-1-pasha.tatashin@example.org"):
        assert cli.main(["rebase", key, "--onto", "v5.14-rc4", "--repo", str(fx.repo), "-q"]) == 0
        assert "9/10 applied" in capsys.readouterr().out


def test_missing_git_error_in_apply_series_raises_git_error() -> None:
    with pytest.raises(GitError, match="starts with '-'"):
        apply_series(fixture_series(), "-v5.15", repo=built().repo)


def test_preimage_of_a_patch_after_an_offset_one_is_rebuilt_for_the_3way_merge(tmp_path: Path) -> None:
    # 08 applies with an offset, so the blob 09 starts from is not in the repository;
    # upstream then touches 09's context: 09 needs a 3-way merge on a blob nobody has.
    repo = copy_repo(tmp_path)
    git(repo, "checkout", "-q", "--detach", "v5.15-rc1")
    mk = repo / "arch/arm64/kernel/machine_kexec.c"
    mk.write_text(mk.read_text().replace("#include <asm/sections.h>\n", "#include <asm/sections.h> /* x */\n"))
    git(repo, "commit", "-q", "-am", "arm64: touch an include", env={
        "GIT_AUTHOR_NAME": "U", "GIT_AUTHOR_EMAIL": "u@example.org",
        "GIT_COMMITTER_NAME": "U", "GIT_COMMITTER_EMAIL": "u@example.org"})
    target = git(repo, "rev-parse", "HEAD").strip()
    res = apply_series(fixture_series(), target, repo=repo)
    p9 = res.patches[8]
    assert res.patches[7].outcome == "offset"
    assert p9.outcome == "3way", (p9.detail, p9.git_error)
    assert res.result_commit is not None
    text = git(repo, "show", f"{res.result_commit}:arch/arm64/kernel/machine_kexec.c")
    assert '#include "cpu-reset.h"' not in text and "#include <asm/sections.h> /* x */" in text
