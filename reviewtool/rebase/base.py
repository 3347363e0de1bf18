"""The base cascade: --base > base-commit: > a guess from the pre-image blob ids > REF.

The guess is b4's idea made cheap: the first `index <pre>..<post>` line of each path
names the blob the series started from; walking REF's first-parent history backwards
over only the commits that touch those paths (`git log --raw`), the newest commit whose
tree has every one of those blobs is the base.
"""

from __future__ import annotations

from reviewtool.diff import DiffFile as FileDiff
from reviewtool.errors import GitError
from reviewtool.model import BaseChoice, Series
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.trees import Trees

GUESS_LIMIT = 2000  # commits on the series' paths walked back from REF


def choose_base(repo: GitRepo, trees: Trees, series: Series, files: list[list[FileDiff]],
                onto: str, given: str | None) -> BaseChoice:
    """Decide the series' base; the detail says which step decided and why earlier ones did not."""
    if given is not None:
        commit = repo.resolve_commit(given, "--base")
        return BaseChoice(commit, "--base", f"{_label(repo, commit)}, given with --base")
    notes: list[str] = []
    if series.base_commit:
        try:
            commit = repo.resolve_commit(series.base_commit, "base-commit")
            return BaseChoice(commit, "base-commit", f"{_label(repo, commit)}, the series' base-commit:")
        except GitError:
            notes.append(f"its base-commit {series.base_commit[:12]} is not in this repository")
    else:
        notes.append("the series names no base-commit")
    blobs = preimage_blobs(files)
    if blobs:
        found, detail = guess_base(repo, trees, blobs, onto)
        if found is not None:
            return BaseChoice(found, "guessed", f"{_label(repo, found)}, {detail}; {_and(notes)}")
        notes.append(detail)
    else:
        notes.append("its patches name no pre-image blob to guess from")
    return BaseChoice(onto, "onto", f"none known, so the series was applied directly onto the target: {_and(notes)}")


def _and(parts: list[str]) -> str:
    """'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _label(repo: GitRepo, commit: str) -> str:
    """'e457da4a04c3 (v5.14-rc4)': the short id and the tags that point at it."""
    tags = repo.run("tag", "--points-at", commit, check=False).out.split()
    return f"{commit[:12]} ({', '.join(tags)})" if tags else commit[:12]


def preimage_blobs(files: list[list[FileDiff]]) -> dict[str, str]:
    """path -> abbreviated blob id the series expects, from each path's first change."""
    seen: dict[str, str] = {}
    created: set[str] = set()
    for patch_files in files:
        for fd in patch_files:
            for path in fd.paths:
                if path in seen or path in created:
                    continue
                if fd.old_path == path and fd.old_blob:
                    seen[path] = fd.old_blob
                else:
                    created.add(path)
    return seen


def guess_base(repo: GitRepo, trees: Trees, wanted: dict[str, str], onto: str) -> tuple[str | None, str]:
    """The newest commit in ONTO's history whose tree has all WANTED blobs, and a sentence on how.

    Paths outside this tree (no such file, nor its directory, in ONTO) are left out.
    """
    blobs = dict(wanted)
    onto_tree = trees.tree_of(onto)
    state: dict[str, str | None] = {}
    foreign = 0
    for path in list(blobs):
        entry = trees.lookup(onto_tree, path)
        if entry is None and not trees.is_dir(onto_tree, path.rpartition("/")[0]):
            del blobs[path]  # a file of another project (a kexec-tools patch in the series)
            foreign += 1
            continue
        state[path] = entry[1] if entry else None
    total = len(blobs)
    if not total:
        return None, "no pre-image blob of a file in this tree is named to guess from"
    left_out = f", {foreign} outside this tree left out" if foreign else ""
    best = (_matches(state, blobs), onto)
    if best[0] == total:
        return onto, f"guessed: the target itself has all {total} pre-image blobs ({total}/{total} matched)"
    log = repo.run("log", "--first-parent", "--raw", "--no-abbrev", "--no-renames", "--format=commit %H %P",
                   f"--max-count={GUESS_LIMIT}", onto, "--", *blobs).out
    walked = 0
    parent: str | None = None
    for line in log.splitlines() + ["commit"]:
        if line.startswith("commit"):
            if parent is not None:
                got = _matches(state, blobs)
                if got > best[0]:
                    best = (got, parent)
                if got == total:
                    return parent, (f"guessed from the patches' index lines: the newest commit in the target's "
                                    f"history with all {total} pre-image blobs ({total}/{total} matched{left_out}; "
                                    f"{walked} commit{'s' if walked != 1 else ''} on those paths walked)")
            parts = line.split()
            parent = parts[2] if len(parts) > 2 else None
            walked += len(parts) > 1  # not the closing sentinel
        elif line.startswith(":"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if path in state and len(fields) >= 4:
                old = fields[2]
                state[path] = None if set(old) == {"0"} else old
    return None, (f"no commit among the target's last {walked} on the series' files has all {total} pre-image "
                  f"blobs (best {best[0]}/{total} at {best[1][:12]})")


def _matches(state: dict[str, str | None], blobs: dict[str, str]) -> int:
    return sum(1 for p, want in blobs.items() if (have := state.get(p)) and have.startswith(want))
