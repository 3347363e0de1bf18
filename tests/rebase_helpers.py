"""Shared by the rebase tests: the fixture kernel repo (built once), copies, state snapshots."""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from reviewtool import record
from reviewtool.model import Patch, Series

ROOT = Path(__file__).resolve().parent.parent
GIT_ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def kernel_repo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kernel_repo", ROOT / "fixtures" / "kernel_repo.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("kernel_repo", mod)
    spec.loader.exec_module(mod)
    return mod


@functools.cache
def built() -> Any:
    """The fixture repo and series mbox, built once per test process.

    Tests may rebase in it (that only adds objects); a test that changes anything else,
    or needs the objects of earlier runs absent, works on `copy_repo` instead.
    """
    root = Path(tempfile.mkdtemp(prefix="reviewtool-kernel-fixture-"))
    atexit.register(shutil.rmtree, root, True)
    fx = kernel_repo_module().build(root / "linux", root / "series.mbox")
    subprocess.run(["cp", "-a", str(fx.repo), str(root / "pristine")], check=True, timeout=60)
    return fx


@functools.cache
def fixture_series() -> Series:
    """The fixture series as fetch reads it (10 patches, replies' trailers attached)."""
    from reviewtool.fetch import series_from_mbox

    return series_from_mbox(built().mbox)


def copy_repo(dest: Path) -> Path:
    """A private copy of the fixture repository as built, for a test that may change it."""
    target = dest / "linux"
    subprocess.run(["cp", "-a", str(built().repo.parent / "pristine"), str(target)], check=True, timeout=60)
    return target


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True,
        input: str | None = None) -> str:
    full = dict(GIT_ENV, GIT_OPTIONAL_LOCKS="0", GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    full.update(env or {})
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=full,
                         timeout=60, check=False, input=input)
    if check and out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {out.stderr}")
    return out.stdout


def snapshot(repo: Path, git_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything of the user's that must not change: status, stash, refs, HEAD, index, .git.

    Objects are left out: rebase may add unreachable objects, which is allowed. GIT_ENV
    goes to the git commands run here (`disarmed` keeps them from running a repository's
    filters and fsmonitor, as `git status` would).
    """
    gitdir = repo / ".git"
    files: dict[str, str] = {}
    for p in sorted(gitdir.rglob("*")):
        rel = p.relative_to(gitdir).as_posix()
        if rel == "objects" or rel.startswith("objects/") or not p.is_file():
            continue
        files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    tree: dict[str, str] = {}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo).as_posix()
        if rel == ".git" or rel.startswith(".git/") or not p.is_file():
            continue
        tree[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return {
        "status": git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all", env=git_env),
        "stash": git(repo, "stash", "list", env=git_env),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)", env=git_env),
        "head": (gitdir / "HEAD").read_text(),
        "index": hashlib.sha256((gitdir / "index").read_bytes()).hexdigest()
        if (gitdir / "index").exists() else None,
        "config": (gitdir / "config").read_bytes(),
        "worktrees": sorted(p.name for p in (gitdir / "worktrees").iterdir())
        if (gitdir / "worktrees").exists() else [],
        "gitdir_files": files,
        "worktree_files": tree,
    }


def leftovers(repo: Path) -> list[str]:
    """Lock files and half-written objects anywhere under .git."""
    gitdir = repo / ".git"
    return sorted(p.relative_to(gitdir).as_posix() for p in gitdir.rglob("*")
                  if p.name.endswith(".lock") or p.name.startswith("tmp_obj_") or p.name.startswith("tmp_"))


def run_cli(*args: str, store: Path, tmpdir: Path | None = None, cwd: Path | None = None,
            timeout: float = 120, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`reviewtool ARGS` as a real subprocess (ENV_EXTRA added to its environment)."""
    env = dict(os.environ, REVIEWTOOL_STORE=str(store), **(env_extra or {}))
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True,
                          env=env, cwd=str(cwd or ROOT), timeout=timeout, check=False)


def with_patches(series: Series, patches: list[Patch], **changes: Any) -> Series:
    return record.replace(series, patches=tuple(patches), expected=len(patches), **changes)


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def generated_series(n: int, series_id: str = "generated") -> Series:
    """N patches for interrupt tests: odd ones add a file under kernel/ (applied in process),
    even ones add a line to it with a hunk header one line off (applied by `git apply`)."""
    patches = []
    for i in range(1, n + 1):
        k = (i + 1) // 2
        name = f"kernel/generated_{k:04d}.c"
        if i % 2:
            body = f"// SPDX-License-Identifier: GPL-2.0\nint generated_{k};\n".encode()
            diff = (f"diff --git a/{name} b/{name}\nnew file mode 100644\nindex 0000000..{blob_id(body)[:7]}\n"
                    f"--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,2 @@\n"
                    + "".join(f"+{line}\n" for line in body.decode().splitlines()))
        else:
            diff = (f"diff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n"
                    f"@@ -3,1 +3,2 @@\n int generated_{k};\n+int more_{k};\n")
        patches.append(Patch(
            index=i, expected=n, subject=f"kernel: generated change {i}", full_subject=f"[PATCH {i}/{n}]",
            msgid=f"<gen-{i}@example.org>", author="Gen Erator <gen@example.org>",
            date="Mon, 2 Aug 2021 17:53:54 -0400", message=f"Change {i}.\n\nSigned-off-by: Gen Erator "
            "<gen@example.org>", diff=diff, files=(name,)))
    return Series(id=series_id, revision=1, expected=n, subject="kernel: generated", author="Gen Erator",
                  date="Mon, 2 Aug 2021 17:53:54 -0400", msgid="<gen-0@example.org>", cover=None,
                  patches=tuple(patches))


# Every hook git knows of (githooks(5), git 2.39): a test arms them all.
HOOKS = (
    "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
    "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge",
    "pre-push", "pre-receive", "update", "proc-receive", "post-receive", "post-update",
    "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite", "sendemail-validate",
    "fsmonitor-watchman", "p4-changelist", "p4-prepare-changelist", "p4-post-changelist",
    "p4-pre-submit", "post-index-change",
)


def marker_command(markers: Path, name: str) -> str:
    """A shell command that leaves MARKERS/NAME behind when run, and passes its input on."""
    return f"touch '{markers / name}'; cat"


def install_hooks(directory: Path, markers: Path) -> None:
    """Every hook in DIRECTORY, each leaving a marker file when it runs."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        hook = directory / name
        hook.write_text(f"#!/bin/sh\ntouch '{markers / ('hook-' + name)}'\nexit 0\n")
        hook.chmod(0o755)


def disarmed(*filters: str) -> dict[str, str]:
    """Environment for a test's own git commands in an armed repository: no hooks, no
    fsmonitor, and the named filters empty."""
    config = {"core.hooksPath": os.devnull, "core.fsmonitor": "false"}
    for name in filters:
        config.update({f"filter.{name}.clean": "", f"filter.{name}.smudge": "",
                       f"filter.{name}.process": "", f"filter.{name}.required": "false"})
    env = {"GIT_CONFIG_COUNT": str(len(config))}
    for i, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def new_file_diff(path: str, body: str = "int x;\n", mode: str = "100644") -> str:
    """A git diff that creates PATH with BODY (no quoting: PATH is written as given)."""
    data = body.encode()
    lines = body.splitlines()
    text = "".join(f"+{line}\n" for line in lines)
    if not body.endswith("\n"):
        text += "\\ No newline at end of file\n"
    return (f"diff --git a/{path} b/{path}\nnew file mode {mode}\nindex 0000000..{blob_id(data)[:7]}\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{text}")


def series_of(diffs: list[str], series_id: str = "handmade") -> Series:
    """A series with one patch per diff, by a fixed author on a fixed date."""
    n = len(diffs)
    date = "Mon, 2 Aug 2021 17:53:54 -0400"
    patches = tuple(Patch(
        index=i, expected=n, subject=f"patch {i}", full_subject=f"[PATCH {i}/{n}] patch {i}",
        msgid=f"<{series_id}-{i}@example.org>", author="Gen Erator <gen@example.org>", date=date,
        message=f"Patch {i}.\n\nSigned-off-by: Gen Erator <gen@example.org>", diff=diff,
        files=()) for i, diff in enumerate(diffs, start=1))
    return Series(id=series_id, revision=1, expected=n, subject="handmade", author="Gen Erator",
                  date=date, msgid=f"<{series_id}-0@example.org>", cover=None, patches=patches)
