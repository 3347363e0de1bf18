"""The user's repository is untouched: dirty trees, their own rebase, Ctrl-C, parallel runs, --branch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewtool import cli
from reviewtool.store import Store
from tests.rebase_helpers import (
    ROOT,
    built,
    copy_repo,
    fixture_series,
    generated_series,
    git,
    leftovers,
    run_cli,
    snapshot,
)


def make_dirty(repo: Path) -> None:
    """Staged, unstaged, untracked changes and a stash entry, on a branch of the user's."""
    git(repo, "checkout", "-q", "-b", "work", "v5.15-rc1")
    (repo / "README").write_text("stashed change\n")
    git(repo, "stash", "push", "-q", "-m", "mine")
    kconfig = repo / "arch/arm64/Kconfig"
    kconfig.write_text(kconfig.read_text() + "# staged\n")
    git(repo, "add", "arch/arm64/Kconfig")
    mk = repo / "arch/arm64/kernel/machine_kexec.c"
    mk.write_text(mk.read_text().replace("Bye!", "Good bye!"))
    (repo / "notes.txt").write_text("untracked\n")


def test_dirty_working_tree_is_untouched(tmp_path: Path, store: Path) -> None:
    repo = copy_repo(tmp_path)
    make_dirty(repo)
    before = snapshot(repo)
    assert "notes.txt" in before["status"] and "stash@{0}" in before["stash"]
    code = cli.main(["rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(repo), "-q"])
    assert code == 1
    assert snapshot(repo) == before
    assert leftovers(repo) == []


def test_user_in_the_middle_of_their_own_rebase_is_untouched(tmp_path: Path, store: Path) -> None:
    repo = copy_repo(tmp_path)
    git(repo, "checkout", "-q", "-b", "mine", "v5.14-rc4")
    kconfig = repo / "arch/arm64/Kconfig"
    kconfig.write_text(kconfig.read_text().replace("depends on HIBERNATION\n", "depends on HIBERNATION || PM\n"))
    git(repo, "commit", "-q", "-am", "arm64: my Kconfig change",
        env={"GIT_AUTHOR_NAME": "Me", "GIT_AUTHOR_EMAIL": "me@example.org",
             "GIT_COMMITTER_NAME": "Me", "GIT_COMMITTER_EMAIL": "me@example.org"})
    stopped = subprocess.run(["git", "-C", str(repo), "rebase", "v5.15-rc1"], capture_output=True, text=True,
                             env={**os.environ, "GIT_EDITOR": "true"}, timeout=60, check=False)
    assert stopped.returncode != 0 and (repo / ".git" / "rebase-merge").is_dir()
    before = snapshot(repo)
    assert "u UU" in before["status"] or "UU" in before["status"]
    code = cli.main(["rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(repo), "-q"])
    assert code == 1
    assert snapshot(repo) == before
    assert leftovers(repo) == []
    # their rebase still works afterwards
    git(repo, "rebase", "--abort")
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "mine"


def test_ctrl_c_mid_run_leaves_nothing_behind(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    store = tmp_path / "store"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    series = generated_series(1500)
    Store(store).save_series(series, {})
    before = snapshot(repo)
    env = dict(os.environ, REVIEWTOOL_STORE=str(store), TMPDIR=str(tmp))
    proc = subprocess.Popen([sys.executable, "-m", "reviewtool", "rebase", "--verbose", series.id,
                             "--onto", "v5.15-rc1", "--repo", str(repo)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("applying 40/1500") or time.monotonic() > deadline:
            break
    assert seen and seen[-1].startswith("applying 40/1500"), seen[-5:]
    assert list(tmp.iterdir()), "the run's temporary directory should exist mid-run"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "applying 1500/1500" not in err
    assert list(tmp.iterdir()) == []
    assert snapshot(repo) == before
    assert leftovers(repo) == []
    assert Store(store).load_result(series.id, "rebase") is None


def test_two_runs_at_once_on_the_same_repo_agree(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    store = tmp_path / "store"
    Store(store).save_series(fixture_series(), {})
    before = snapshot(repo)
    env = dict(os.environ, REVIEWTOOL_STORE=str(store))
    cmd = [sys.executable, "-m", "reviewtool", "rebase", fixture_series().id, "--onto", "v5.15-rc1",
           "--repo", str(repo), "--json"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], [o[1] for o in outs]
    first, second = (json.loads(o[0]) for o in outs)
    assert first == second
    assert [p["outcome"] for p in first["patches"]].count("conflict") == 1
    assert snapshot(repo) == before
    assert leftovers(repo) == []


def test_branch_is_created_only_when_everything_applied(tmp_path: Path, store: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_repo(tmp_path)
    mbox = str(built().mbox)
    refs = git(repo, "for-each-ref")
    assert cli.main(["rebase", mbox, "--onto", "v5.15-rc1", "--repo", str(repo), "--branch", "kexec"]) == 1
    assert "branch 'kexec' not created: 2 patches did not apply" in capsys.readouterr().out
    assert git(repo, "for-each-ref") == refs

    before = snapshot(repo)
    assert cli.main(["rebase", mbox, "--onto", "v5.14-rc4", "--repo", str(repo), "--branch", "kexec",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["branch"] == "refs/heads/kexec"
    assert git(repo, "rev-parse", "refs/heads/kexec").strip() == data["result_commit"]
    after = snapshot(repo)
    # only the new branch (and its reflog) appeared; HEAD, index and working tree are as they were
    assert {k: v for k, v in after.items() if k not in ("refs", "gitdir_files", "status")} == \
        {k: v for k, v in before.items() if k not in ("refs", "gitdir_files", "status")}
    assert set(after["gitdir_files"]) - set(before["gitdir_files"]) == {"refs/heads/kexec", "logs/refs/heads/kexec"}


def test_branch_never_overwrites_without_force_and_never_the_checked_out_one(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_repo(tmp_path)
    mbox = str(built().mbox)
    git(repo, "branch", "taken", built().commits["v5.14-rc3"])
    old = git(repo, "rev-parse", "taken").strip()
    assert cli.main(["rebase", mbox, "--onto", "v5.14-rc4", "--repo", str(repo), "--branch", "taken"]) == 2
    assert "branch 'taken' already exists" in capsys.readouterr().err
    assert git(repo, "rev-parse", "taken").strip() == old

    assert cli.main(["rebase", mbox, "--onto", "v5.14-rc4", "--repo", str(repo), "--branch", "taken",
                     "--force", "-q"]) == 0
    capsys.readouterr()
    assert git(repo, "rev-parse", "taken").strip() != old

    head_branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    assert cli.main(["rebase", mbox, "--onto", "v5.14-rc4", "--repo", str(repo), "--branch", head_branch,
                     "--force"]) == 2
    assert "is checked out" in capsys.readouterr().err

    assert cli.main(["rebase", mbox, "--onto", "v5.15-rc1", "--repo", str(repo), "--branch", "partial",
                     "--force-partial", "-q"]) == 1
    capsys.readouterr()
    assert git(repo, "rev-parse", "--verify", "partial").strip()

    for bad in ("a..b", "-x", "x y"):
        assert cli.main(["rebase", mbox, "--onto", "v5.14-rc4", "--repo", str(repo), f"--branch={bad}"]) == 2
        assert "reviewtool: error:" in capsys.readouterr().err


def test_cli_subprocess_leaves_no_temporary_directory(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = run_cli("rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(repo), "-q",
                  store=tmp_path / "store", tmpdir=tmp)
    assert res.returncode == 1, res.stderr
    assert "6/10 applied" in res.stdout
    assert list(tmp.iterdir()) == []


def test_linked_worktree_and_bare_clone_work_and_stay_untouched(tmp_path: Path, store: Path) -> None:
    repo = copy_repo(tmp_path)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "--detach", str(linked), "v5.14-rc4")
    (linked / "README").write_text("dirty in the linked worktree\n")
    before, before_linked = snapshot(repo), git(linked, "status", "--porcelain=v2", "--branch")
    assert before["worktrees"] == ["linked"]
    assert cli.main(["rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(linked), "-q"]) == 1
    assert snapshot(repo) == before
    assert git(linked, "status", "--porcelain=v2", "--branch") == before_linked
    assert leftovers(repo) == []

    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, timeout=60)
    refs = git(bare, "for-each-ref")
    assert cli.main(["rebase", str(built().mbox), "--onto", "v5.14-rc4", "--repo", str(bare), "-q"]) == 0
    assert git(bare, "for-each-ref") == refs
