"""`--branch NAME`: the one place a ref is written, and only when asked."""

from __future__ import annotations

from pathlib import Path

from reviewtool.errors import GitError
from reviewtool.rebase.gitrepo import GitRepo


def check_branch(repo_path: str | Path | None, name: str, force: bool) -> str:
    """refs/heads/NAME, after checking NAME is valid and free (or FORCE and not checked out)."""
    with GitRepo(repo_path) as repo:
        return _check(repo, name, force)


def create_branch(repo_path: str | Path | None, name: str, commit: str, force: bool, message: str) -> str:
    """Point refs/heads/NAME at COMMIT; never overwrite an existing branch unless FORCE."""
    with GitRepo(repo_path) as repo:
        ref = _check(repo, name, force)
        old = [] if force else ["0" * repo.hexlen]  # zeros: update-ref refuses an existing ref
        got = repo.run("update-ref", "-m", message, ref, commit, *old, check=False)
        if got.returncode != 0:
            last = got.err.splitlines()[-1] if got.err else f"exit {got.returncode}"
            raise GitError(f"could not create branch '{name}': {last}")
        return ref


def _check(repo: GitRepo, name: str, force: bool) -> str:
    if not name or name.startswith("-"):
        raise GitError(f"--branch '{name}': a branch name cannot start with '-'")
    ok = repo.run("check-ref-format", "--branch", name, check=False)
    if ok.returncode != 0 or ok.out.strip() != name:
        raise GitError(f"--branch '{name}' is not a valid branch name")
    ref = f"refs/heads/{name}"
    exists = repo.run("show-ref", "--verify", "--quiet", ref, check=False).returncode == 0
    if exists and not force:
        raise GitError(f"branch '{name}' already exists: choose another name or add --force")
    if exists and ref in _checked_out(repo):
        raise GitError(f"branch '{name}' is checked out: refusing to move it under a working tree")
    return ref


def _checked_out(repo: GitRepo) -> set[str]:
    out = repo.run("worktree", "list", "--porcelain", check=False).out
    refs = {line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("branch ")}
    head = repo.run("symbolic-ref", "-q", "HEAD", check=False)
    if head.returncode == 0:
        refs.add(head.out.strip())
    return refs
