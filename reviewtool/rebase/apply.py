"""Apply one patch onto a tree, in isolation, the way `git am -3` would decide it.

1. Direct: a tiny index holding only the target's versions of the touched paths,
   `git apply --cached -v` onto it (clean, or offset with how far), and the new root tree
   built from those few entries.
2. Otherwise 3-way: `git apply --build-fake-ancestor` gives the pre-image blobs named by
   the patch's `index` lines; the patch applied to them gives the post-image; the merge
   of (pre-image -> target) with (pre-image -> post-image) is `git merge-tree
   --write-tree`. git 2.39 has no `--merge-base`, so the base is forced with three
   throw-away commits: B (pre-image), O (target tree, parent B), T (post-image, parent B).

Cost follows the size of the patch, never the size of the tree.
"""

from __future__ import annotations

from pathlib import Path

from reviewtool import rx
from reviewtool.diff import DiffFile as FileDiff
from reviewtool.model import Hunk, Outcome
from reviewtool.rebase import hunks
from reviewtool.rebase.exact import Missing, apply_exact
from reviewtool.rebase.gitrepo import GitRepo, GitResult
from reviewtool.rebase.indexfile import read_index, write_index
from reviewtool.rebase.trees import TREE_MODE, Entry, TreeConflict, Trees
from reviewtool.record import record

_PATCH_FAILED = rx.compile(r"^error: patch failed: (.+):(\d+)$")
_PROGRESS = rx.compile(r"^(Checking patch .*\.\.\.|Hunk #\d+ succeeded at .*|Applied patch .* cleanly\.)$")
_NOT_IN_INDEX = rx.compile(r"^error: (.+): (does not exist in index|already exists in index|does not match index)$")

_FILE_MODES = ("100644", "100755", "120000")

# Identity and date of the throw-away commits that force the merge base: fixed, so the
# same patch gives the same objects every time.
_SCRATCH_IDENT = "reviewtool <reviewtool@localhost> 1000000000 +0000"


@record
class Applied:
    """What applying one patch did; `tree` is the new root tree when it applied."""

    outcome: Outcome  # "clean" | "offset" | "3way" | "conflict"
    tree: str | None
    paths: tuple[str, ...] = ()
    detail: str = ""
    git_error: str = ""
    failed_hunks: tuple[Hunk, ...] = ()
    base_known: bool = True  # False when the pre-image blobs are not in the repository


class PatchApplier:
    """Applies patches onto trees of one repository (see the module docstring)."""

    def __init__(self, repo: GitRepo, trees: Trees) -> None:
        self.repo = repo
        self.trees = trees
        self._patch = repo.workdir / "patch"
        self._direct = repo.workdir / "direct.index"
        self._anc = repo.workdir / "ancestor.index"

    def apply(self, diff: str, files: list[FileDiff], tree: str,
              history: list[list[FileDiff]] | None = None) -> Applied:
        """Apply DIFF (the diff model's text of a patch, whose files are FILES) onto TREE.

        HISTORY is the earlier patches of the series: when this patch's pre-image blobs
        are not in the repository, they are rebuilt from them (see `_restore_blob`).
        """
        self._patch.write_bytes(diff.encode("utf-8", "surrogateescape"))
        direct = self._direct_apply(files, tree)
        if isinstance(direct, Applied):
            return direct
        return self._three_way(files, tree, direct, history or [])

    # --- direct -----------------------------------------------------------------------

    def _exact(self, files: list[FileDiff], tree: str) -> Applied | None:
        """Clean without `git apply` when every hunk matches exactly where it says (exact.py)."""
        changes: dict[str, Entry | None] = {}
        for fd in files:
            old_entry = self.trees.lookup(tree, fd.old_path) if fd.old_path else None
            if fd.old_path is None and fd.new_path and self.trees.lookup(tree, fd.new_path) is not None:
                return None
            if fd.old_path is None and fd.new_mode not in (None, *_FILE_MODES):
                return None  # a mode git would not write: git apply says what is wrong
            if old_entry is not None and old_entry[0] not in ("100644", "100755"):
                return None
            old = None
            if old_entry is not None:
                got = self.repo.cat(old_entry[1])
                if got is None:
                    return None
                old = got[2]
            new = apply_exact(fd, old)
            if new is Missing:
                return None
            if new is None:
                changes[fd.old_path or fd.path] = None
            else:
                assert isinstance(new, bytes)
                mode = old_entry[0] if old_entry else (fd.new_mode or "100644")
                changes[fd.new_path or fd.path] = (mode, self.repo.write_blob(new))
        try:
            new_tree = self.trees.edit(tree, changes)
        except TreeConflict:
            return None
        return Applied("clean", new_tree, tuple(fd.path for fd in files))

    def _direct_apply(self, files: list[FileDiff], tree: str) -> Applied | GitResult:
        exact = self._exact(files, tree)
        if exact is not None:
            return exact
        env = {"GIT_INDEX_FILE": str(self._direct)}
        records: list[tuple[str, str, str]] = []
        for path in dict.fromkeys(p for fd in files for p in fd.paths):
            entry = self.trees.lookup(tree, path)
            if entry is not None and entry[0] != TREE_MODE:
                records.append((entry[0], entry[1], path))
        write_index(self._direct, records, self.repo.hexlen // 2)
        res = self.repo.run("apply", "--cached", "-v", "--", str(self._patch), env=env, check=False)
        if res.returncode != 0:
            return res
        changes: dict[str, Entry | None] = {p: None for fd in files for p in fd.paths}
        for mode, oid, name in self._entries(self._direct, env):
            changes[name] = (mode, oid)
        try:
            new_tree = self.trees.edit(tree, changes)
        except TreeConflict:
            return res  # a file where a directory must go: let the merge say it
        offsets = hunks.parse_offsets(res.err)
        paths = tuple(fd.path for fd in files)
        if offsets:
            detail = f"applied with offsets: {hunks.describe_offsets(offsets)}"
            return Applied("offset", new_tree, paths, detail)
        return Applied("clean", new_tree, paths)

    def _tree_of(self, index: Path, env: dict[str, str]) -> str:
        """The tree of a private index (what `git write-tree` gives), built in process."""
        entries = read_index(index, self.repo.hexlen // 2)
        if entries is None:
            return self.repo.run("write-tree", env=env).out.strip()
        empty = self.repo.mktree([])
        return self.trees.edit(empty, {name: (mode, oid) for mode, oid, name in entries})

    def _entries(self, index: Path, env: dict[str, str]) -> list[tuple[str, str, str]]:
        """The entries of a private index: read in process, else through `git ls-files`."""
        got = read_index(index, self.repo.hexlen // 2)
        if got is not None:
            return got
        out = []
        for rec in self.repo.run("ls-files", "-s", "-z", env=env).stdout.split(b"\0"):
            if rec:
                meta, _, name = rec.partition(b"\t")
                mode, oid, _stage = meta.decode().split()
                out.append((mode, oid, name.decode("utf-8", "surrogateescape")))
        return out

    # --- 3-way ------------------------------------------------------------------------

    def _three_way(self, files: list[FileDiff], tree: str, direct: GitResult,
                   history: list[list[FileDiff]]) -> Applied:
        self._anc.unlink(missing_ok=True)
        env = {"GIT_INDEX_FILE": str(self._anc)}
        failed_at = _failed_paths(direct.err)
        direct_error = _errors_only(direct.err)
        fake = self.repo.run("apply", f"--build-fake-ancestor={self._anc}", "--", str(self._patch),
                             check=False)
        if fake.returncode != 0 and self._restore_preimages(files, history):
            fake = self.repo.run("apply", f"--build-fake-ancestor={self._anc}", "--", str(self._patch),
                                 check=False)
        if fake.returncode != 0:
            paths = tuple(failed_at) or tuple(fd.path for fd in files)
            detail = ("does not apply, and its pre-image blobs are not in this repository, so no "
                      "3-way merge was possible")
            return Applied("conflict", None, paths, detail, _join(direct_error, fake.err),
                           self._failed_hunks(files, paths, tree), base_known=False)
        pre = self._tree_of(self._anc, env)
        own = self.repo.run("apply", "--cached", "--", str(self._patch), env=env, check=False)
        if own.returncode != 0:
            paths = tuple(failed_at) or tuple(fd.path for fd in files)
            return Applied("conflict", None, paths, "does not apply even to its own pre-image blobs",
                           _join(direct_error, own.err), self._failed_hunks(files, paths, tree))
        post = self._tree_of(self._anc, env)
        base = self._scratch_commit(pre, None, "pre-image")
        ours = self._scratch_commit(tree, base, "target")
        theirs = self._scratch_commit(post, base, "post-image")
        merge = self.repo.run("merge-tree", "--write-tree", "--name-only", "--messages", ours, theirs,
                              check=False)
        out = merge.out.split("\n")
        if merge.returncode == 0 and out and out[0].strip():
            where = ", ".join(f"{p} (line {n})" for p, n in failed_at.items() if n) or ", ".join(failed_at)
            detail = f"did not apply directly to {where}; merged cleanly with a 3-way merge"
            return Applied("3way", out[0].strip(), tuple(fd.path for fd in files), detail)
        conflicted, messages = _merge_output(out[1:]) if merge.returncode == 1 else ([], merge.err)
        paths = tuple(conflicted) or tuple(failed_at) or tuple(fd.path for fd in files)
        merged = [fd.path for fd in files if fd.path not in paths]
        detail = f"conflict in {', '.join(paths)}"
        if merged:
            detail += f"; {len(merged)} other file{'s' if len(merged) != 1 else ''} merged cleanly"
        return Applied("conflict", None, paths, detail, _join(direct_error, messages),
                       self._failed_hunks(files, paths, tree))

    # --- missing pre-images -------------------------------------------------------------

    def _restore_preimages(self, files: list[FileDiff], history: list[list[FileDiff]]) -> bool:
        """Rebuild the pre-image blobs this patch names but the repository lacks.

        They are the post-images of earlier patches of the series, which are missing when
        those applied onto a target that had changed the file (with an offset, say):
        `git am -3` gives up there. Each is rebuilt by applying the series' own chain of
        changes to that file, from the first blob the repository has. True if any was.
        """
        restored = False
        for fd in files:
            if fd.old_blob and fd.old_path and self.repo.cat(fd.old_blob) is None:
                restored |= self._restore_blob(fd.old_blob, fd.old_path, history, 0)
        return restored

    def _restore_blob(self, blob: str, path: str, history: list[list[FileDiff]], depth: int) -> bool:
        if self.repo.cat(blob) is not None:
            return True
        if depth > 100:
            return False
        for k in range(len(history) - 1, -1, -1):
            for fd in history[k]:
                if fd.new_path != path or not fd.new_blob or not fd.text or fd.binary:
                    continue
                if not (fd.new_blob.startswith(blob) or blob.startswith(fd.new_blob)):
                    continue
                records: list[tuple[str, str, str]] = []
                if fd.old_blob and fd.old_path:
                    if not self._restore_blob(fd.old_blob, fd.old_path, history[:k], depth + 1):
                        return False
                    got = self.repo.cat(fd.old_blob)
                    if got is None:
                        return False
                    records.append((fd.new_mode or "100644", got[0], fd.old_path))
                index = self.repo.workdir / "restore.index"
                section = self.repo.workdir / "restore.patch"
                write_index(index, records, self.repo.hexlen // 2)
                section.write_bytes(fd.text.encode("utf-8", "surrogateescape"))
                res = self.repo.run("apply", "--cached", "--", str(section),
                                    env={"GIT_INDEX_FILE": str(index)}, check=False)
                if res.returncode != 0:
                    return False
                made = {name: oid for _mode, oid, name in read_index(index, self.repo.hexlen // 2) or []}
                return made.get(path, "").startswith(blob)
        return False

    def _scratch_commit(self, tree: str, parent: str | None, what: str) -> str:
        return self.repo.commit(tree, [parent] if parent else [], _SCRATCH_IDENT, _SCRATCH_IDENT,
                                f"reviewtool: {what}\n")

    # --- reporting --------------------------------------------------------------------

    def _failed_hunks(self, files: list[FileDiff], paths: tuple[str, ...], tree: str) -> tuple[Hunk, ...]:
        out: list[Hunk] = []
        for fd in files:
            if not set(fd.paths) & set(paths) or fd.binary:
                continue
            target = self._lines(self.trees.lookup(tree, fd.old_path or fd.path))
            pre = None
            if fd.old_blob:
                got = self.repo.cat(fd.old_blob)
                pre = _split(got[2]) if got and got[1] == "blob" else None
            out.extend(hunks.failed_hunks(fd, target, pre))
        return tuple(out)

    def _lines(self, entry: Entry | None) -> list[str] | None:
        if entry is None or entry[0] == TREE_MODE:
            return None
        got = self.repo.cat(entry[1])
        return _split(got[2]) if got else None


def _split(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


def _failed_paths(err: str) -> dict[str, int]:
    """Paths git apply named as failing, with the hunk line it gave (0 when none)."""
    out: dict[str, int] = {}
    for line in err.splitlines():
        if m := _PATCH_FAILED.match(line):
            out.setdefault(m.group(1), int(m.group(2)))
        elif m := _NOT_IN_INDEX.match(line):
            out.setdefault(m.group(1), 0)
    return out


def _merge_output(lines: list[str]) -> tuple[list[str], str]:
    """(conflicted paths, messages) from `merge-tree --name-only --messages` after the tree line."""
    paths: list[str] = []
    k = 0
    while k < len(lines) and lines[k].strip():
        paths.append(lines[k].strip())
        k += 1
    messages = "\n".join(lines[k + 1:]).strip("\n")
    return list(dict.fromkeys(paths)), messages


def _join(*parts: str) -> str:
    return "\n".join(p.strip("\n") for p in parts if p.strip())


def _errors_only(err: str) -> str:
    """`git apply -v` output without its progress lines: the errors, verbatim."""
    return "\n".join(line for line in err.splitlines() if not _PROGRESS.match(line))
