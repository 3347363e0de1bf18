"""rebase under hostile input: nothing the repository configures runs, paths git refuses
are refused, a huge series stays small in memory, and SIGTERM stops a run like Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewtool import cli
from reviewtool.model import ApplyResult
from reviewtool.rebase import apply_series
from tests.rebase_helpers import (
    built,
    copy_repo,
    disarmed,
    fixture_series,
    git,
    install_hooks,
    leftovers,
    marker_command,
    run_cli,
    snapshot,
)

ATTRIBUTES = "* merge=evil filter=evil diff=evil\n"
FIXED_DATES = {"GIT_AUTHOR_DATE": "1000000000 +0000", "GIT_COMMITTER_DATE": "1000000000 +0000"}


def outcomes(result: ApplyResult) -> list[tuple[int, str, str | None]]:
    return [(p.index, p.outcome, p.commit) for p in result.patches]


def markers_dir(tmp_path: Path) -> Path:
    d = tmp_path / "markers"
    d.mkdir()
    return d


def ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def without_branch(state: dict[str, Any], branch: str) -> dict[str, Any]:
    """A snapshot with the one branch `--branch` may create (and its reflog) left out."""
    out = dict(state)
    out["refs"] = "".join(line for line in state["refs"].splitlines(keepends=True)
                          if not line.startswith(f"refs/heads/{branch} "))
    out["gitdir_files"] = {k: v for k, v in state["gitdir_files"].items()
                           if k not in (f"refs/heads/{branch}", f"logs/refs/heads/{branch}")}
    return out


def commit_file(repo: Path, parent: str, path: str, text: str, tag: str) -> str:
    """A commit on PARENT that adds PATH, made with plumbing (no filter, no hook), tagged TAG."""
    env = dict(FIXED_DATES, GIT_INDEX_FILE=str(repo.parent / f"{tag}.index"))
    git(repo, "read-tree", parent, env=env)
    blob = git(repo, "hash-object", "-w", "--stdin", input=text).strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env).strip()
    commit = git(repo, "commit-tree", tree, "-p", f"{parent}^{{commit}}", "-m", f"add {path}", env=env).strip()
    git(repo, "tag", tag, commit)
    return commit


# --- nothing of the repository's runs --------------------------------------------------------


@pytest.mark.parametrize("where", ["hooks directory", "core.hooksPath"])
def test_repository_hooks_never_run_while_applying_or_creating_the_branch(
        tmp_path: Path, store: Path, where: str) -> None:
    repo = copy_repo(tmp_path)
    markers = markers_dir(tmp_path)
    if where == "core.hooksPath":
        install_hooks(tmp_path / "myhooks", markers)
        git(repo, "config", "core.hooksPath", str(tmp_path / "myhooks"))
    else:
        install_hooks(repo / ".git" / "hooks", markers)
    git(repo, "update-ref", "refs/heads/probe", "HEAD")  # the hooks are armed: plain git runs them
    git(repo, "update-ref", "-d", "refs/heads/probe")
    assert "hook-reference-transaction" in ran(markers)
    for p in markers.iterdir():
        p.unlink()
    expected = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)
    before = snapshot(repo)

    got = apply_series(fixture_series(), "v5.15-rc1", repo=repo)  # clean, offset, 3way, conflict
    assert cli.main(["rebase", str(built().mbox), "--onto", "v5.14-rc4", "--repo", str(repo),
                     "--branch", "kexec", "-q"]) == 0

    assert ran(markers) == []
    assert outcomes(got) == outcomes(expected) and got.result_commit == expected.result_commit
    assert git(repo, "rev-parse", "--verify", "refs/heads/kexec").strip()
    assert without_branch(snapshot(repo), "kexec") == without_branch(before, "kexec")
    assert leftovers(repo) == []


@pytest.mark.parametrize("source", ["info/attributes", "core.attributesFile", "merge.default",
                                    ".gitattributes of the target tree"])
def test_merge_drivers_and_filters_of_the_repository_never_run(tmp_path: Path, source: str) -> None:
    repo = copy_repo(tmp_path)
    markers = markers_dir(tmp_path)
    onto = "v5.15-rc1"
    if source == ".gitattributes of the target tree":
        onto = "evil-target"
        commit_file(repo, "v5.15-rc1", ".gitattributes", ATTRIBUTES, onto)
    expected = apply_series(fixture_series(), onto, repo=repo)  # before any of it is configured
    assert [p.outcome for p in expected.patches].count("3way") == 1

    git(repo, "config", "merge.evil.name", "a merge driver that must not run")
    git(repo, "config", "merge.evil.driver", f"touch '{markers / 'merge-driver'}'; exit 1")
    git(repo, "config", "merge.renormalize", "true")  # would run filters during merges
    git(repo, "config", "filter.evil.clean", marker_command(markers, "filter-clean"))
    git(repo, "config", "filter.evil.smudge", marker_command(markers, "filter-smudge"))
    git(repo, "config", "filter.evil.process", marker_command(markers, "filter-process"))
    git(repo, "config", "filter.evil.required", "true")
    if source == "info/attributes":
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "attributes").write_text(ATTRIBUTES)
    elif source == "core.attributesFile":
        (tmp_path / "attributes").write_text(ATTRIBUTES)
        git(repo, "config", "core.attributesFile", str(tmp_path / "attributes"))
    elif source == "merge.default":
        git(repo, "config", "merge.default", "evil")
    before = snapshot(repo, disarmed("evil"))

    got = apply_series(fixture_series(), onto, repo=repo)

    assert ran(markers) == []
    assert outcomes(got) == outcomes(expected) and got.result_commit == expected.result_commit
    assert snapshot(repo, disarmed("evil")) == before
    assert leftovers(repo) == []


def test_merge_driver_named_like_a_builtin_one_still_merges_as_git_does(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    markers = markers_dir(tmp_path)
    expected = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)
    git(repo, "config", "merge.text.driver", f"touch '{markers / 'text-driver'}'; exit 1")
    (repo / ".git" / "info" / "attributes").write_text("* merge=text\n")
    before = snapshot(repo)

    got = apply_series(fixture_series(), "v5.15-rc1", repo=repo)

    assert ran(markers) == []
    assert outcomes(got) == outcomes(expected)
    assert snapshot(repo) == before


def test_a_callers_git_c_settings_cannot_bring_a_merge_driver_back(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    markers = markers_dir(tmp_path)
    (repo / ".git" / "info" / "attributes").write_text("* merge=evil\n")
    before = snapshot(repo)
    driver = f"touch {markers / 'merge-driver'}; exit 1"
    res = run_cli("rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(repo), "-q",
                  store=tmp_path / "store", env_extra={"GIT_CONFIG_PARAMETERS": f"'merge.evil.driver'='{driver}'"})
    assert res.returncode == 1, res.stderr
    assert "6/10 applied (3 clean, 2 offset, 1 3way)" in res.stdout
    assert ran(markers) == []
    assert snapshot(repo) == before


def test_fsmonitor_pager_external_diff_and_textconv_stay_off(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    markers = markers_dir(tmp_path)
    fsmonitor = tmp_path / "fsmonitor"
    fsmonitor.write_text(f"#!/bin/sh\ntouch '{markers / 'fsmonitor'}'\n")
    fsmonitor.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(fsmonitor))
    git(repo, "config", "core.pager", marker_command(markers, "pager"))
    git(repo, "config", "pager.log", marker_command(markers, "pager-log"))
    git(repo, "config", "diff.external", f"touch '{markers / 'diff-external'}'; true")
    git(repo, "config", "diff.evil.command", f"touch '{markers / 'diff-command'}'; true")
    git(repo, "config", "diff.evil.textconv", marker_command(markers, "textconv"))
    (repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    git(repo, "log", "-p", "-1", "v5.15-rc1")  # armed: plain git runs the diff driver
    assert ran(markers)
    for p in markers.iterdir():
        p.unlink()
    expected = apply_series(fixture_series(), "v5.15-rc1", repo=built().repo)
    before = snapshot(repo, disarmed())

    got = apply_series(fixture_series(), "v5.15-rc1", repo=repo)  # reads base..REF with `git log -p`

    assert got.base.how == "base-commit"
    assert ran(markers) == []
    assert outcomes(got) == outcomes(expected)
    assert snapshot(repo, disarmed()) == before
