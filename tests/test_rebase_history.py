"""rebase on the trees maintainers and CI have: a one-commit import, a `--depth 1` clone, a
series merged (and changed since) without a trace in history, missing patches, and several
targets in one pass. Every repository is built here; the user's stays byte-for-byte as it was."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from reviewtool import record
from reviewtool.fetch import series_from_mbox
from reviewtool.model import ApplyResult, RebaseMatrix, Series, from_json, to_json
from reviewtool.rebase import apply_series, rebase_matrix
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.upstream import ScanRange, scan_ranges
from reviewtool.report.quote import apply_summary
from reviewtool.report.rebase_text import render_matrix, render_result, summary_line
from tests.rebase_helpers import git, run_cli, snapshot

IDENT = {"GIT_AUTHOR_NAME": "Up Stream", "GIT_AUTHOR_EMAIL": "up@example.org",
         "GIT_COMMITTER_NAME": "Up Stream", "GIT_COMMITTER_EMAIL": "up@example.org",
         "GIT_AUTHOR_DATE": "2021-08-02T00:00:00Z", "GIT_COMMITTER_DATE": "2021-08-02T00:00:00Z"}

A_C = "".join(f"int kexec_step_{i}(struct kimage *image) {{ return image->nr_segments + {i}; }}\n"
              for i in range(40))
B_C = "".join(f"static const char *relocation_note_{i} = \"relocation note number {i}\";\n" for i in range(40))
FOO = ("static int kexec_install_linear_map(struct kimage *kimage)\n{\n"
       "\tkimage->arch.ttbr1 = __pa(kimage->arch.linear_map);\n"
       "\tkimage->arch.phys_offset = virt_to_phys(kimage);\n"
       "\treturn kexec_copy_vectors(kimage);\n}\n")


def _insert(text: str, after: int, block: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:after] + [block] + lines[after:])


def _commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A", env=IDENT)
    git(repo, "commit", "-q", "-m", message, env=IDENT)
    return git(repo, "rev-parse", "HEAD").strip()


@functools.cache
def world() -> dict[str, Any]:
    """An upstream history (base, unrelated work, the series merged as commits with other
    subjects), the series as mail without base-commit:, and the targets built from it."""
    root = Path(tempfile.mkdtemp(prefix="reviewtool-history-"))
    up = root / "upstream"
    (up / "kernel").mkdir(parents=True)
    git(up, "init", "-q", "-b", "master")
    (up / "kernel/a.c").write_text(A_C)
    (up / "kernel/b.c").write_text(B_C)
    (up / "README").write_text("readme\n")
    base = _commit_all(up, "base")
    git(up, "tag", "base")
    # the series, as its author wrote it: 01 adds a function, 02 changes it, 03 adds to b.c, 04 to README
    git(up, "checkout", "-q", "-b", "series", "base")
    (up / "kernel/a.c").write_text(_insert(A_C, 20, FOO))
    _commit_all(up, "kexec: install a copy of the linear map")
    (up / "kernel/a.c").write_text(_insert(A_C, 20, FOO.replace("return kexec_copy_vectors(kimage);",
                                                                "kexec_flush_caches(kimage);\n"
                                                                "\treturn kexec_copy_vectors(kimage);")))
    _commit_all(up, "kexec: flush the caches after installing the map")
    (up / "kernel/b.c").write_text(_insert(B_C, 30, "static const char *relocation_note_mmu = "
                                                    "\"relocation runs with the MMU on\";\n"))
    _commit_all(up, "kexec: note that relocation runs with the MMU on")
    (up / "README").write_text("readme\nkexec relocation keeps the MMU enabled from now on\n")
    _commit_all(up, "README: say that kexec keeps the MMU on")
    out = root / "mails"
    git(up, "format-patch", "-q", "--cover-letter", "--thread", "-o", str(out), "base..series", env=IDENT)
    mbox = root / "series.mbox"
    mbox.write_bytes(b"".join(p.read_bytes() for p in sorted(out.glob("*.patch"))))
    # upstream: unrelated work, then the series merged under other subjects and authors
    git(up, "checkout", "-q", "master")
    (up / "kernel/b.c").write_text(B_C.replace("number 3\"", "number three\""))
    _commit_all(up, "b: spell out three")
    git(up, "tag", "unmerged")
    git(up, "checkout", "-q", "-b", "conflicting", "base")
    lines = A_C.splitlines(keepends=True)
    lines[19] = lines[19].replace("+ 19", "+ 1900")  # the line before 01's insertion, rewritten
    (up / "kernel/a.c").write_text("".join(lines))
    _commit_all(up, "a: renumber step 19")
    git(up, "checkout", "-q", "master")
    for name in ("kernel/a.c", "kernel/b.c", "README"):
        (up / name).write_text(git(up, "show", f"series:{name}").replace("number 3\"", "number three\""))
    merged = _commit_all(up, "arm64: kexec: MMU on during relocation (squashed)")
    git(up, "tag", "merged")
    # merged and changed since: a line of 01 rewritten, 03 and 04 not merged
    (up / "kernel/a.c").write_text(git(up, "show", f"series:{'kernel/a.c'}")
                                   .replace("\tkimage->arch.phys_offset = virt_to_phys(kimage);\n",
                                            "\tkimage->arch.phys_offset = kimage_phys(kimage);\n"))
    (up / "kernel/b.c").write_text(B_C.replace("number 3\"", "number three\""))
    (up / "README").write_text("readme\n")
    _commit_all(up, "kexec: use kimage_phys()")
    git(up, "tag", "partly")
    git(up, "checkout", "-q", "--detach", "base")
    return {"root": root, "up": up, "mbox": mbox, "base": base, "merged": merged}


@functools.cache
def series() -> Series:
    got = series_from_mbox(world()["mbox"])
    assert got.base_commit is None and len(got.patches) == 4
    return got


def one_commit_import(dest: Path, tag: str) -> Path:
    """A repository whose only commit holds the tree of upstream's TAG (a release tarball, imported)."""
    up = world()["up"]
    repo = dest / f"import-{tag}"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(up), str(repo)], check=True, timeout=60)
    tree = git(repo, "rev-parse", f"{tag}^{{tree}}").strip()
    commit = git(repo, "commit-tree", tree, "-m", f"import of {tag}", env=IDENT).strip()
    git(repo, "checkout", "-q", "-B", "master", commit)
    for ref in git(repo, "for-each-ref", "--format=%(refname)").split():
        if ref != "refs/heads/master":
            git(repo, "update-ref", "-d", ref)
    git(repo, "tag", "target", commit)
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    assert git(repo, "rev-list", "--count", "--all").strip() == "1"
    return repo


def shallow_clone(dest: Path, tag: str) -> Path:
    """`git clone --depth 1` of upstream's TAG, as CI has it."""
    repo = dest / f"shallow-{tag}"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", tag, f"file://{world()['up']}", str(repo)],
                   check=True, timeout=60, capture_output=True)
    git(repo, "tag", "target", "HEAD")
    assert git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"
    return repo


def outcomes(res: ApplyResult) -> dict[int, str]:
    return {p.index: p.outcome for p in res.patches}


@pytest.mark.parametrize("make", [one_commit_import, shallow_clone])
def test_merged_series_is_already_applied_on_a_tree_without_history(tmp_path: Path, make: Any) -> None:
    repo = make(tmp_path, "merged")
    before = snapshot(repo)
    res = apply_series(series(), "target", repo=repo)
    assert outcomes(res) == {1: "already-applied", 2: "already-applied", 3: "already-applied",
                             4: "already-applied"}
    assert res.scanned_commits == 0
    boundary = "shallow clone's boundary commit" if make is shallow_clone else "root commit"
    assert f"the {boundary} {res.onto_commit[:12]} not read" in res.scanned
    assert "Most of the series is already in the target (4 of 4 patches)." in render_result(res, series())
    assert snapshot(repo) == before


@pytest.mark.parametrize("make", [one_commit_import, shallow_clone])
def test_partly_merged_series_says_how_much_is_there_and_applies_the_rest(tmp_path: Path, make: Any) -> None:
    repo = make(tmp_path, "partly")
    before = snapshot(repo)
    res = apply_series(series(), "target", repo=repo)
    got = outcomes(res)
    # 01's function is there with one line changed since; 02 changes that function, and is
    # not skipped for depending on an already-applied patch; 03 and 04 were never merged
    assert got[1] == "already-applied" and got[3] == "clean" and got[4] == "clean"
    p1 = res.patches[0]
    assert (p1.added_present, p1.added_lines) == (3, 4)  # the braces tell nothing and are not counted
    assert "3 of 4 added lines present" in p1.detail and "merged and changed since?" in p1.detail
    assert got[2] != "skipped"
    assert snapshot(repo) == before


@pytest.mark.parametrize("make", [one_commit_import, shallow_clone])
def test_unmerged_series_applies_on_a_tree_without_history(tmp_path: Path, make: Any) -> None:
    repo = make(tmp_path, "unmerged")
    before = snapshot(repo)
    res = apply_series(series(), "target", repo=repo)
    assert set(outcomes(res).values()) == {"clean"}
    assert res.base.how in ("guessed", "onto")
    assert snapshot(repo) == before


def test_upstream_history_still_names_the_merged_commit_when_it_has_one() -> None:
    # the full history has the squashed commit; its subject differs, so it is found by content
    res = apply_series(series(), "merged", repo=world()["up"])
    assert set(outcomes(res).values()) == {"already-applied"}
    assert res.scanned_commits >= 1 and "base" not in res.scanned.split(" in ")[0]


def test_root_commit_is_never_shown_and_the_byte_budget_bounds_the_scan() -> None:
    up = world()["up"]
    with GitRepo(up) as g:
        merged = g.resolve_commit("merged", "REF")
        everything = scan_ranges(g, [ScanRange(None, merged)], ["kernel/a.c", "kernel/b.c", "README"])
        assert everything.scanned == 2  # "b: spell out three" and the squashed merge; not the root
        assert "the root commit" in everything.describe(merged)
        cut = scan_ranges(g, [ScanRange(None, merged)], ["kernel/a.c", "kernel/b.c", "README"], budget=1500)
        assert cut.scanned < everything.scanned
        assert "past the 0 MiB budget" in cut.describe(merged) or "left out" in cut.describe(merged)


def test_missing_patch_is_an_outcome_and_the_counts_add_up_to_m(tmp_path: Path) -> None:
    repo = one_commit_import(tmp_path, "unmerged")
    s = series()
    gap = record.replace(s, patches=tuple(p for p in s.patches if p.index != 3), missing=(3,))
    res = apply_series(gap, "target", repo=repo)
    assert [(p.index, p.outcome) for p in res.patches] == [(1, "clean"), (2, "clean"), (3, "missing"),
                                                           (4, "clean")]
    assert res.expected == 4 and len(res.patches) == 4
    assert summary_line(res) == "3/4 applied (3 clean), 1 missing (03/04)"
    assert apply_summary(res) == "3/4 applied (3 clean), 1 missing"
    assert from_json(ApplyResult, json.loads(json.dumps(to_json(res)))) == res


def test_several_targets_in_one_pass_give_a_matrix_and_the_best_target(tmp_path: Path) -> None:
    repo = tmp_path / "linux"
    subprocess.run(["git", "clone", "-q", str(world()["up"]), str(repo)], check=True, timeout=60)
    git(repo, "branch", "-q", "conflicting", "origin/conflicting")
    before = snapshot(repo)
    matrix = rebase_matrix(series(), ["conflicting", "unmerged", "merged"], repo=repo)
    assert [r.onto for r in matrix.results] == ["conflicting", "unmerged", "merged"]
    by = {r.onto: outcomes(r) for r in matrix.results}
    assert by["conflicting"][1] == "conflict" and by["conflicting"][2] == "skipped"
    assert set(by["unmerged"].values()) == {"clean"}
    assert set(by["merged"].values()) == {"already-applied"}
    assert matrix.best == "unmerged"
    assert matrix.best_reason.startswith("unmerged takes the series best: 4 of 4 apply")
    text = render_matrix(matrix, series())
    assert "  01/04  conflict     clean     already   kexec: install a copy of the linear map" in text
    assert "unmerged takes the series best" in text
    assert from_json(RebaseMatrix, json.loads(json.dumps(to_json(matrix)))) == matrix
    # one target alone gives the same result as within the matrix
    alone = apply_series(series(), "conflicting", repo=repo)
    assert outcomes(alone) == by["conflicting"]
    assert snapshot(repo) == before


def test_rebase_cli_with_several_onto_prints_one_result_per_target_and_names_phases(
        tmp_path: Path, store: Path) -> None:
    repo = tmp_path / "linux"
    subprocess.run(["git", "clone", "-q", str(world()["up"]), str(repo)], check=True, timeout=60)
    git(repo, "branch", "-q", "conflicting", "origin/conflicting")
    before = snapshot(repo)
    got = run_cli("rebase", str(world()["mbox"]), "--onto", "conflicting", "--onto", "unmerged", "--json",
                  "--repo", str(repo), store=store)
    assert got.returncode == 0, got.stderr  # the best target takes the whole series
    data = json.loads(got.stdout)
    assert [r["onto"] for r in data["results"]] == ["conflicting", "unmerged"] and data["best"] == "unmerged"
    shown = run_cli("rebase", str(world()["mbox"]), "--onto", "conflicting", "--onto", "unmerged", "-v",
                    "--repo", str(repo), store=store)
    assert "guessing the base" in shown.stderr
    assert "scanning upstream (" in shown.stderr
    assert "applying 1/4 onto conflicting" in shown.stderr and "applying 4/4 onto unmerged" in shown.stderr
    assert "  01/04  conflict     clean     kexec: install a copy of the linear map" in shown.stdout
    one = run_cli("rebase", str(world()["mbox"]), "--onto", "conflicting", "--onto", "unmerged", "--branch",
                  "x", "--repo", str(repo), store=store)
    assert one.returncode == 2 and one.stderr.count("\n") == 1 and "--branch takes one --onto" in one.stderr
    assert snapshot(repo) == before


def test_text_report_is_one_line_per_patch_within_80_columns(tmp_path: Path, store: Path) -> None:
    repo = tmp_path / "linux"
    subprocess.run(["git", "clone", "-q", str(world()["up"]), str(repo)], check=True, timeout=60)
    git(repo, "branch", "-q", "conflicting", "origin/conflicting")
    got = run_cli("rebase", str(world()["mbox"]), "--onto", "conflicting", "--repo", str(repo), store=store,
                  env_extra={"COLUMNS": "80"})
    assert got.returncode == 1
    lines = got.stdout.splitlines()
    assert all(len(ln) <= 80 for ln in lines), [ln for ln in lines if len(ln) > 80]
    patch_lines = [ln for ln in lines if ln.startswith("  0")]
    assert len(patch_lines) == 4
    assert "First conflict, 01/04:" in got.stdout and got.stdout.count("git said:") == 1
    assert "names no base-commit:;" not in got.stdout
    verbose = run_cli("rebase", str(world()["mbox"]), "--onto", "conflicting", "--verbose", "--repo", str(repo),
                      store=store)
    assert "First conflict" not in verbose.stdout and "depends on 01/04 (conflict)" in verbose.stdout


def test_a_tree_without_history_costs_what_one_with_history_does(tmp_path: Path) -> None:
    # the root commit of a one-commit import is never shown: a tree of 3,000 files costs no
    # more than the series does
    repo = tmp_path / "big"
    shutil.copytree(one_commit_import(tmp_path, "unmerged"), repo)
    for i in range(3000):
        (repo / "kernel" / f"filler_{i}.c").write_text(f"int filler_{i};\n" * 20)
    git(repo, "add", "-A", env=IDENT)
    tree = git(repo, "write-tree").strip()
    commit = git(repo, "commit-tree", tree, "-m", "import", env=IDENT).strip()
    git(repo, "tag", "-f", "big", commit)
    t0 = time.perf_counter()
    res = apply_series(series(), "big", repo=repo)
    took = time.perf_counter() - t0
    assert set(outcomes(res).values()) == {"clean"} and res.scanned_commits == 0
    assert took < 5, took
