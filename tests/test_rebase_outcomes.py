"""Every per-patch outcome on the fixture kernel repo, the summary, JSON and the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool import cli
from reviewtool.model import OUTCOMES, ApplyResult, from_json
from reviewtool.rebase import BlobReader, apply_series, read_blob
from reviewtool.report.rebase_text import summary_line
from reviewtool.store import Store
from tests.rebase_helpers import built, fixture_series, git

EXPECTED = {
    1: "clean", 2: "offset", 3: "already-upstream", 4: "clean", 5: "3way",
    6: "conflict", 7: "skipped", 8: "offset", 9: "clean", 10: "not-applicable",
}


@pytest.fixture(scope="module")
def result() -> ApplyResult:
    # read-only use of the shared fixture repo: rebase never changes it
    return apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)


def by_index(result: ApplyResult, i: int):  # type: ignore[no-untyped-def]
    return next(p for p in result.patches if p.index == i)


def test_rebase_gives_every_outcome_on_the_fixture_series(result: ApplyResult) -> None:
    assert {p.index: p.outcome for p in result.patches} == EXPECTED
    assert result.onto_commit == built().commits["v5.15-rc1"]
    assert result.base.how == "base-commit"
    assert result.base.commit == built().commits["v5.14-rc4"]
    assert "v5.14-rc4" in result.base.detail


def test_rebase_reports_offset_with_how_far_lines_moved(result: ApplyResult) -> None:
    p = by_index(result, 2)
    # side-1 added 13 lines above the new function in trans_pgd.c
    assert "arch/arm64/mm/trans_pgd.c hunk 2 at line 275 (+13 lines)" in p.detail
    p8 = by_index(result, 8)
    assert "(-1 line)" in p8.detail and "machine_kexec.c" in p8.detail


def test_rebase_reports_3way_merge_and_where_direct_apply_failed(result: ApplyResult) -> None:
    p = by_index(result, 5)
    assert "relocate_kernel.S" in p.detail and "3-way" in p.detail
    assert p.commit is not None and not p.git_error


def test_rebase_reports_conflicting_hunk_and_git_error(result: ApplyResult) -> None:
    p = by_index(result, 6)
    assert p.paths == ("arch/arm64/Kconfig",)
    assert p.commit is None
    assert "error: patch failed: arch/arm64/Kconfig:154" in p.git_error
    assert "CONFLICT (content): Merge conflict in arch/arm64/Kconfig" in p.git_error
    assert "2 other files merged cleanly" in p.detail
    [hunk] = p.failed_hunks
    assert hunk.path == "arch/arm64/Kconfig"
    assert hunk.header.startswith("@@ -154,7 +154,7 @@")
    kconfig = read_blob(built().repo, "v5.15-rc1", "arch/arm64/Kconfig")
    assert kconfig is not None
    lines = kconfig.splitlines()[hunk.start - 1:hunk.start - 1 + hunk.length]
    assert "\tdepends on HIBERNATION || SUSPEND" in lines  # the line upstream changed is in the range


def test_rebase_names_the_upstream_commit_of_an_already_merged_patch(result: ApplyResult) -> None:
    p = by_index(result, 3)
    assert p.upstream_commit == built().commits["upstream-03"]
    assert "same patch-id" in p.detail
    assert p.commit is None


def test_rebase_skips_a_patch_that_needs_the_conflicting_one(result: ApplyResult) -> None:
    p = by_index(result, 7)
    assert p.detail.startswith("depends on 06/10 (conflict)")
    assert "arch/arm64/include/asm/kexec.h" in p.detail
    assert p.commit is None
    assert "patch failed: arch/arm64/include/asm/kexec.h" in p.git_error


def test_rebase_marks_a_patch_for_another_project_not_applicable(result: ApplyResult) -> None:
    p = by_index(result, 10)
    assert p.paths == ("kexec/arch/arm64/kexec-arm64.c",)
    assert "no file or directory of this tree" in p.detail


def test_rebase_result_has_the_post_images_of_applied_patches(result: ApplyResult) -> None:
    assert result.result_commit is not None
    repo = built().repo
    with BlobReader(repo) as rd:
        mk = rd.read(result.result_commit, "arch/arm64/kernel/machine_kexec.c")
        reloc = rd.read(result.result_commit, "arch/arm64/kernel/relocate_kernel.S")
        kconfig = rd.read(result.result_commit, "arch/arm64/Kconfig")
        assert rd.read(result.result_commit, "arch/arm64/kernel/cpu-reset.h") is None  # 09 deleted it
        assert rd.read(result.result_commit, "arch/arm64/mm/trans_pgd-asm.S") is not None  # 02 created it
        assert rd.read(result.result_commit, "no/such/file.c") is None
    assert mk is not None and reloc is not None and kconfig is not None
    assert "trans_pgd_create_copy(info, &trans_pgd, PAGE_OFFSET, PAGE_END);" in mk  # 08
    assert "el2_vectors" not in mk  # 06 did not apply
    assert '#include "cpu-reset.h"' not in mk  # 09
    assert "tbnz\tx16, IND_DONE_BIT, .Ldone" not in reloc  # 05, merged with upstream's comment
    assert "x14 = entry pointer in the list" in reloc
    assert "depends on HIBERNATION || SUSPEND" in kconfig  # upstream's, untouched
    assert git(repo, "rev-list", "--count", f"{result.onto_commit}..{result.result_commit}").strip() == "6"


def test_applied_commits_carry_author_date_and_collected_trailers(result: ApplyResult) -> None:
    p1 = by_index(result, 1)
    assert p1.commit
    show = git(built().repo, "show", "-s", "--format=%an <%ae>%n%ad%n%B", "--date=raw", p1.commit)
    assert show.startswith("Pavel Tatashin <pasha.tatashin@example.org>\n1627941234 -0400\n")
    assert "Reviewed-by: James Morse <james.morse@example.com>" in show
    assert "Acked-by: Catalin Marinas <catalin.marinas@example.com>" in show
    assert "Signed-off-by: Pavel Tatashin <pasha.tatashin@example.org>" in show


def test_summary_line_counts_and_names_each_outcome(result: ApplyResult) -> None:
    up = built().commits["upstream-03"][:12]
    assert summary_line(result, 10) == (
        "6/10 applied (3 clean, 2 offset, 1 3way), 1 conflict (06/10 arch/arm64/Kconfig), "
        f'1 skipped (07/10), 1 already upstream (03/10 = {up} "arm64: hibernate: abstract ttrb0 '
        'setup function"), 1 not applicable (10/10)')


def test_onto_the_series_base_every_patch_rebuilds_the_authors_trees(tmp_path: Path) -> None:
    fx = built()
    res = apply_series(fixture_series(), "v5.14-rc4", repo=fx.repo)
    outcomes = [p.outcome for p in res.patches]
    assert outcomes == ["clean"] * 9 + ["not-applicable"]
    for p in res.patches[:9]:
        tree = git(fx.repo, "rev-parse", f"{p.commit}^{{tree}}").strip()
        assert tree == fx.commits[f"series-{p.index:02d}-tree"]
    assert res.result_tree == fx.commits["series-09-tree"]


def test_rebase_cli_json_has_the_documented_shape_and_is_stored(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = built()
    code = cli.main(["rebase", str(fx.mbox), "--onto", "v5.15-rc1", "--repo", str(fx.repo), "--json"])
    assert code == 1  # a conflict
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"base", "onto", "patches", "result_commit"}
    assert set(data["base"]) >= {"commit", "how"}
    assert data["onto"] == "v5.15-rc1"
    for p in data["patches"]:
        assert set(p) >= {"index", "subject", "outcome", "paths", "detail", "git_error", "upstream_commit"}
        assert p["outcome"] in OUTCOMES
    assert [p["outcome"] for p in data["patches"]] == list(EXPECTED.values())
    stored = Store(store).load_result(data["series_id"], "rebase")
    assert stored == data
    assert from_json(ApplyResult, stored).result_commit == data["result_commit"]


def test_rebase_cli_text_report_and_exit_code_from_a_stored_series(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fx = built()
    assert cli.main(["fetch", str(fx.mbox), "--offline", "-q"]) == 0
    capsys.readouterr()
    code = cli.main(["rebase", "--onto", "v5.15-rc1", "--repo", str(fx.repo)])
    out = capsys.readouterr().out
    assert code == 1
    assert "06/10  conflict" in out and "failed hunk: arch/arm64/Kconfig lines 154-" in out
    assert "Base:   " + fx.commits["v5.14-rc4"][:12] + " (v5.14-rc4)" in out
    assert "6/10 applied (3 clean, 2 offset, 1 3way)" in out
    code = cli.main(["rebase", "--onto", "v5.14-rc4", "--repo", str(fx.repo)])
    assert code == 0
    assert "9/10 applied (9 clean), 1 not applicable (10/10)" in capsys.readouterr().out


def test_rebase_result_is_the_same_on_every_run(result: ApplyResult) -> None:
    again = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)
    assert again == result


def test_write_sample_gives_the_demo_series_with_its_replies(tmp_path: Path) -> None:
    from reviewtool.fetch import series_from_mbox
    from tests.rebase_helpers import kernel_repo_module

    mbox = kernel_repo_module().write_sample(tmp_path)
    assert mbox == tmp_path / "mmu-kexec-v16.mbox"
    s = series_from_mbox(mbox)
    assert (s.revision, len(s.patches), s.base_commit) == (16, 10, built().commits["v5.14-rc4"])
    assert s.subject == "arm64: MMU enabled kexec relocation"
    p1 = s.patches[0]
    assert ("Reviewed-by", "James Morse <james.morse@example.com>") in [(t.name, t.value) for t in p1.trailers]
    assert all(any(t.name == "Acked-by" for t in p.trailers) for p in s.patches)  # given on the cover
    assert any("trans_pgd_create_copy() fails" in r.body for r in s.replies)
    p8 = s.patches[7]
    assert "trans_pgd_create_copy(" in p8.diff and "msr\tsctlr_el1, x0" in p8.diff and "tlbi\tvmalle1" in p8.diff
    assert mbox.read_bytes() == built().mbox.read_bytes()  # the same bytes on every build
