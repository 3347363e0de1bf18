"""rebase under hostile input: nothing the repository configures runs, paths git refuses
are refused, a huge series stays small in memory, and SIGTERM stops a run like Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool import cli
from reviewtool.diff import parse
from reviewtool.model import ApplyResult, PatchOutcome
from reviewtool.rebase import apply_series
from reviewtool.rebase.base import choose_base
from reviewtool.rebase.gitrepo import GitRepo, tree_object
from reviewtool.rebase.paths import path_problem
from reviewtool.rebase.series import _Run
from reviewtool.rebase.trees import TREE_MODE, Trees
from reviewtool.store import Store
from tests.rebase_helpers import (
    GIT_ENV,
    ROOT,
    built,
    copy_repo,
    disarmed,
    fixture_series,
    generated_series,
    git,
    install_hooks,
    leftovers,
    marker_command,
    new_file_diff,
    run_cli,
    series_of,
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


def test_a_configuration_that_cannot_be_read_stops_the_run_before_any_merge(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_repo(tmp_path)
    before = snapshot(repo)
    config = repo / ".git" / "config"
    good = config.read_bytes()
    bad = good + b'[merge "evil"\n\tdriver = touch marker\n'  # unreadable: no driver could be disarmed
    config.write_bytes(bad)

    code = cli.main(["rebase", str(built().mbox), "--onto", "v5.15-rc1", "--repo", str(repo)])

    err = capsys.readouterr().err
    assert code == 2 and "cannot read the configuration" in err and len(err.splitlines()) == 1, err
    assert config.read_bytes() == bad
    config.write_bytes(good)
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


# --- paths git refuses ------------------------------------------------------------------------

REFUSED_PATHS = [
    ".git", "kernel/.git", "kernel/..", "../escape", "/abs/x", "kernel//x", "kernel/./x",
    ".GIT/config", "kernel/git~1/x", "GIT~1/hooks/x", ".git./hooks/x", ".git /x", ".git::$INDEX_ALLOCATION/x",
    ".g\u200cit/x", "\ufeff.git/x", ".git\u200d/x", "kernel\\.git\\x",
]
ACCEPTED_PATHS = [
    "kernel/ok.c", ".github/x", ".gitignore", ".gitmodules", "kernel/.git-blame", "a.git", "git~2/x",
    "git~1x/y", "...", "..x", ".gi/t", "kernel/g\u200cit", ".gitmodules/x",
    "kernel/\\.git",  # git looks for NTFS spellings after a backslash, but not a leading one
]


def git_accepts(path: str, mode: str = "100644") -> bool:
    """Whether git itself takes PATH into an index, with its NTFS and HFS+ checks on."""
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(["git", "-c", "core.protectNTFS=true", "-c", "core.protectHFS=true", "update-index",
                              "--add", "--cacheinfo", f"{mode},{'e' * 40},{path}"],
                             cwd=built().repo, env=dict(GIT_ENV, GIT_INDEX_FILE=f"{tmp}/index", LC_ALL="C"),
                             capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0 or "cannot add" in res.stderr, res.stderr
    return res.returncode == 0


@pytest.mark.parametrize("path", REFUSED_PATHS + ACCEPTED_PATHS)
def test_paths_are_refused_exactly_when_git_refuses_them(path: str) -> None:
    assert (path_problem(path) is None) == (path in ACCEPTED_PATHS)
    if not path.startswith("/"):  # git takes "/x" relative to the top of the work tree
        assert git_accepts(path) == (path in ACCEPTED_PATHS)


_PIECES = [".", "..", ".git", ".GiT", "git~1", "gi7eba~1", "gitmod~2", ".gitmodules", " ", ":", "~", "1",
           "\u200c", "\ufeff", "\\", "x", "git", "modules", "$INDEX_ALLOCATION"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join), min_size=1, max_size=3),
       st.sampled_from(["100644", "120000"]))
def test_path_rules_agree_with_git_on_generated_spellings(parts: list[str], mode: str) -> None:
    path = "/".join(parts)
    assert (path_problem(path, mode) is None) == git_accepts(path, mode), path


@pytest.mark.parametrize("name", [".gitmodules", "kernel/.GITMODULES", "gitmod~1", "gi7eba~4", ".gitmodules ",
                                  ".gitmodules\u200c"])
def test_gitmodules_as_a_symlink_is_refused_in_every_spelling(name: str) -> None:
    assert path_problem(name, "120000") is not None
    assert not git_accepts(name, "120000")
    if name.lower() in (".gitmodules", "kernel/.gitmodules"):
        assert path_problem(name, "100644") is None and git_accepts(name, "100644")


def change_line(path: str) -> str:
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            "@@ -1 +1,2 @@\n int x;\n+int y;\n")


def hostile_series() -> tuple[Any, dict[int, str]]:
    """A series whose patches 2..N-3 each have one path or mode git refuses (the path the
    outcome must name); around them, a first and a last patch that must still apply, and
    one that changes a file only a refused patch creates, which must be skipped for it."""
    bad = [new_file_diff(path) for path in REFUSED_PATHS]
    bad.append("diff --git a/kernel/kexec_core.c b/.git/config\nsimilarity index 100%\n"
               "rename from kernel/kexec_core.c\nrename to .git/config\n")
    bad.append(new_file_diff(".gitmodules", "../../.git/hooks", mode="120000"))
    bad.append(new_file_diff("kernel/dir.c", mode="040000"))
    bad.append(new_file_diff("kernel/second.c") + new_file_diff("kernel/.git"))  # refused as a whole
    diffs = [new_file_diff("kernel/first.c"), *bad, change_line("kernel/second.c"), change_line("kernel/first.c")]
    named = {i + 2: p for i, p in enumerate([*REFUSED_PATHS, ".git/config", ".gitmodules", "kernel/dir.c",
                                             "kernel/.git"])}
    return series_of(diffs, "hostile-paths"), named


def test_a_patch_with_a_path_git_refuses_is_a_conflict_and_the_run_goes_on(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    series, named = hostile_series()
    before = snapshot(repo)

    result = apply_series(series, "v5.15-rc1", repo=repo)

    got = {p.index: p.outcome for p in result.patches}
    assert got[1] == "clean" and got[len(got)] == "clean"
    for index, path in named.items():
        p = result.patches[index - 1]
        assert p.outcome == "conflict", (path, p)
        assert "refused" in p.detail and p.commit is None, (path, p.detail)
    dependent = result.patches[-2]
    assert dependent.outcome == "skipped", dependent
    assert f"depends on {len(got) - 2:02d}/{len(got)} (conflict)" in dependent.detail
    assert "'kernel/..' refused (a '..' component)" in result.patches[3].detail
    assert "'.g\\u200cit/x' refused" in result.patches[REFUSED_PATHS.index(".g\u200cit/x") + 1].detail
    assert snapshot(repo) == before
    assert leftovers(repo) == []


def test_branch_of_a_hostile_series_passes_fsck_and_checks_out(tmp_path: Path, store: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_repo(tmp_path)
    series, named = hostile_series()
    Store(store).save_series(series, {})
    before = snapshot(repo)

    code = cli.main(["rebase", series.id, "--onto", "v5.15-rc1", "--repo", str(repo), "--branch", "hostile",
                     "--force-partial", "--json"])

    assert code == 1  # conflicts, not bad input: the run went to the end
    capsys.readouterr()
    fsck = subprocess.run(["git", "-C", str(repo), "fsck", "--strict", "--no-dangling"], capture_output=True,
                          text=True, env=GIT_ENV, timeout=120, check=False)
    assert fsck.returncode == 0 and fsck.stdout + fsck.stderr == "", fsck.stdout + fsck.stderr
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "hostile", str(repo), str(clone)], check=True,
                   env=GIT_ENV, timeout=120, capture_output=True)
    assert (clone / "kernel" / "first.c").read_text() == "int x;\nint y;\n"
    assert not (clone / ".git" / "config").read_text().startswith("int x")
    assert without_branch(snapshot(repo), "hostile") == without_branch(before, "hostile")


def test_pathspec_magic_in_a_patch_path_is_read_as_a_plain_name(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    series = series_of([new_file_diff(":(bad)x"), new_file_diff(":!kernel"), new_file_diff("kernel/*")])
    before = snapshot(repo)

    result = apply_series(series, "v5.15-rc1", repo=repo)

    assert [p.outcome for p in result.patches] == ["clean", "clean", "clean"]
    names = git(repo, "ls-tree", "-r", "--name-only", "-z", result.result_commit).split("\0")
    assert {":(bad)x", ":!kernel", "kernel/*"} <= set(names)
    assert snapshot(repo) == before


# --- a huge series stays small -------------------------------------------------------------------


def test_tree_cache_holds_what_the_series_changes_not_every_tree_it_made(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    series = generated_series(300)  # 150 files added to kernel/, each then changed once
    sizes: list[tuple[int, int]] = []
    with GitRepo(repo) as g:
        trees = Trees(g)
        onto = g.resolve_commit("v5.15-rc1", "REF")
        files = [list(parse(p.diff).files) for p in series.patches]
        base = choose_base(g, trees, series, files, onto, None)

        def progress(n: int, total: int, outcome: PatchOutcome | None) -> None:
            if outcome is not None:
                sizes.append((trees.cached_trees, trees.cached_entries))

        run = _Run(g, trees, series, files, onto, base, progress)
        outcomes = run.all()
        kernel = trees.lookup(run.tip_tree, "kernel")
        assert kernel is not None
        kernel_entries = len(trees.read(kernel[1]))
        root_entries = len(trees.read(run.tip_tree))
    assert [p.outcome for p in outcomes] == ["clean", "offset"] * 150
    assert len(sizes) == 300
    # the tip's root and kernel/ (and the base's, for a look-up): not two more trees per patch
    assert max(t for t, _ in sizes) <= 4, sizes[-5:]
    assert max(e for _, e in sizes) <= 2 * (kernel_entries + root_entries), sizes[-5:]


def test_tree_cache_drops_the_least_recently_used_trees_past_its_budget(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    with GitRepo(repo) as g:
        trees = Trees(g, limit=40)
        root = trees.tree_of("v5.15-rc1")
        dirs = [e[1] for e in trees.read(root).values() if e[0] == TREE_MODE]
        for sub in dirs:
            trees.read(sub)
        assert trees.cached_entries <= 40 or trees.cached_trees == 1
        assert trees.lookup(root, "kernel/kexec_core.c") is not None  # dropped trees are read again


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(
    st.text(alphabet=st.sampled_from(["a", "b", ".", "-", "_", "0", "é", "\udcff", " "]), min_size=1, max_size=4)
    .filter(lambda n: n not in (".", "..")),
    st.tuples(st.sampled_from(["100644", "100755", "120000", "40000", "040000", "160000"]),
              st.binary(min_size=20, max_size=20).map(bytes.hex)),
    min_size=0, max_size=12))
def test_tree_objects_are_the_bytes_git_mktree_writes(entries: dict[str, tuple[str, str]]) -> None:
    listed = [(mode, oid, name) for name, (mode, oid) in entries.items()]
    batch = b"".join(f"{mode} {_kind(mode)} {oid}\t".encode() + name.encode("utf-8", "surrogateescape") + b"\0"
                     for mode, oid, name in listed)
    made = subprocess.run(["git", "mktree", "-z", "--missing"], input=batch, capture_output=True, cwd=built().repo,
                          env=GIT_ENV, timeout=60, check=True).stdout.decode().strip()
    data = tree_object(listed)
    assert hashlib.sha1(b"tree %d\0" % len(data) + data).hexdigest() == made


def _kind(mode: str) -> str:
    return {"40000": "tree", "040000": "tree", "160000": "commit"}.get(mode, "blob")


# --- SIGTERM and SIGHUP stop a run as Ctrl-C does ---------------------------------------------------


def start_rebase(tmp_path: Path, n: int, ignore: int | None = None) -> tuple[subprocess.Popen[str], Path, Path, Any]:
    """`reviewtool rebase` of N generated patches as a process (IGNORE: a signal it starts
    with ignored, as under nohup), its store, temporary directory and the repository."""
    repo = copy_repo(tmp_path)
    store, tmp = tmp_path / "store", tmp_path / "tmp"
    tmp.mkdir()
    series = generated_series(n, f"generated-{n}")
    Store(store).save_series(series, {})
    env = dict(os.environ, REVIEWTOOL_STORE=str(store), TMPDIR=str(tmp))

    def ignored() -> None:
        if ignore is not None:
            signal.signal(ignore, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "reviewtool", "rebase", "--verbose", series.id, "--onto",
                             "v5.15-rc1", "--repo", str(repo)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=ignored)
    return proc, repo, tmp, series


def wait_for(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(prefix) or time.monotonic() > deadline:
            break
    assert seen and seen[-1].startswith(prefix), seen[-5:]
    return seen


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_mid_run_stops_it_as_ctrl_c_does(tmp_path: Path, sig: signal.Signals) -> None:
    proc, repo, tmp, series = start_rebase(tmp_path, 1500)
    before = snapshot(repo)
    wait_for(proc, "applying 40/1500")
    assert list(tmp.iterdir()), "the run's temporary directory should exist mid-run"

    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 128 + sig, err  # 143 for SIGTERM, as 130 for Ctrl-C
    assert err.rstrip().splitlines()[-1].startswith("reviewtool: interrupted")  # --verbose adds a traceback
    assert "applying 1500/1500" not in err
    assert list(tmp.iterdir()) == []
    assert snapshot(repo) == before
    assert leftovers(repo) == []
    assert Store(tmp_path / "store").load_result(series.id, "rebase") is None


def test_a_signal_ignored_when_the_run_starts_stays_ignored(tmp_path: Path) -> None:
    proc, repo, tmp, series = start_rebase(tmp_path, 120, ignore=signal.SIGTERM)
    wait_for(proc, "applying 20/120")

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, err
    assert "applying 120/120" in err
    assert list(tmp.iterdir()) == []
    assert Store(tmp_path / "store").load_result(series.id, "rebase") is not None
