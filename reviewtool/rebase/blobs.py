"""Read post-image files of a rebase result (what `check` needs), without touching the checkout."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from reviewtool.rebase.gitrepo import GitRepo


class BlobReader:
    """Reads files at commits through one long-lived `git cat-file --batch`.

    Use as a context manager when reading many files; `read_blob` reads one.
    """

    def __init__(self, repo_path: str | Path) -> None:
        self._repo = GitRepo(repo_path)

    def __enter__(self) -> BlobReader:
        self._repo.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._repo.__exit__(exc_type, exc, tb)

    def read(self, commit: str, path: str) -> str | None:
        """The text of PATH at COMMIT (undecodable bytes replaced), or None when absent."""
        data = self.read_bytes(commit, path)
        return data.decode("utf-8", "replace") if data is not None else None

    def read_bytes(self, commit: str, path: str) -> bytes | None:
        """The bytes of PATH at COMMIT, or None when it is absent or not a file."""
        if not commit or commit.startswith("-") or not path or "\n" in path:
            return None
        got = self._repo.cat(f"{commit}:{path.lstrip('/')}")
        if got is None or got[1] != "blob":
            return None
        return got[2]

    def commit(self, ref: str) -> str | None:
        """The id of the commit REF names (HEAD, say), or None when there is none."""
        if not ref or ref.startswith("-"):
            return None
        got = self._repo.cat(f"{ref}^{{commit}}")
        return got[0] if got is not None and got[1] == "commit" else None

    def present(self, commit: str, paths: Iterable[str]) -> frozenset[str]:
        """Those of PATHS (files or directories) that exist at COMMIT: one `git ls-tree`."""
        wanted = sorted({p.strip("/") for p in paths if p.strip("/") and "\n" not in p and "\0" not in p})
        if not commit or commit.startswith("-") or not wanted:
            return frozenset()
        got = self._repo.run("ls-tree", "-z", "--full-tree", "--name-only", commit, "--", *wanted,
                             env={"GIT_LITERAL_PATHSPECS": "1"}, check=False)
        if got.returncode != 0:
            return frozenset()
        return frozenset(got.stdout.decode("utf-8", "surrogateescape").split("\0")) & set(wanted)


def read_blob(repo_path: str | Path, commit: str, path: str) -> str | None:
    """The text of PATH at COMMIT in the repository at REPO_PATH, or None when absent.

    COMMIT is typically `ApplyResult.result_commit`, so these are the post-image files.
    """
    with BlobReader(repo_path) as reader:
        return reader.read(commit, path)
