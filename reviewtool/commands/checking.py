"""The check step that `check` and `review` share: the same images, base and checkpatch.

Both commands hand a series and (if there is one) its rebase result to `run_checks`, so a
finding is pre-existing, or not, the same way whichever command ran.
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from reviewtool.model import ApplyResult, CheckResult, Series
from reviewtool.paths import path_is
from reviewtool.record import record

if TYPE_CHECKING:
    from pathlib import Path

    from reviewtool.check.engine import FileText
    from reviewtool.check.project import TargetTree
    from reviewtool.rebase.blobs import BlobReader


@record
class CheckOptions:
    """What the user asked of the check step."""

    checkpatch: str | None = None  # --checkpatch PATH (the script or a tree)
    no_checkpatch: bool = False
    repo: str | None = None  # --repo, where checkpatch.pl is looked for without a rebase result
    jobs: int | None = None  # --jobs: processes the analyzers may use (None: 2 when a second CPU is free)


def run_checks(series: Series, apply: ApplyResult | None, ruleset: Any, options: CheckOptions,
               progress: contextlib.AbstractContextManager[Any] | None = None) -> CheckResult:
    """Rules, analyzers and checkpatch over the series, read against the rebase result if any."""
    from reviewtool.check.pipeline import check_series

    script, missing = find_checkpatch(options, apply)
    with readers(apply, options.repo) as (post_image, base_image, tree), progress or contextlib.nullcontext():
        return check_series(series, ruleset, post_image=post_image, base_image=base_image,
                            checkpatch=script, checkpatch_missing=missing, tree=tree, jobs=options.jobs)


def add_jobs_flag(p: Any) -> None:
    """--jobs, for the commands that check a series."""
    p.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                   help="processes the check may use: with 2 or more, the analyzers run beside the pattern "
                        "rules in a second process (default: 2 when a second CPU is free; always 1 with a "
                        "rebase result's files to read, or while checkpatch.pl runs)")


def _jobs(text: str) -> int:
    import argparse

    value = int(text) if text.isascii() and text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more), not {text!r}")
    return value


def find_checkpatch(options: CheckOptions, apply: ApplyResult | None) -> tuple[Path | None, str]:
    """checkpatch.pl to run, or None with the note that says why it was not run."""
    if options.no_checkpatch:
        return None, "checkpatch.pl was not run (--no-checkpatch)"
    from reviewtool.check.external import find_checkpatch as find

    repo = options.repo or (apply.repo if apply else None)
    script = find(options.checkpatch, repo)
    if script is None:
        where = f"{repo}/scripts/checkpatch.pl does not exist" if repo else "no target repository"
        return None, f"checkpatch.pl was not run: {where} (give --checkpatch PATH or --repo PATH)"
    return script, ""


class _Tree:
    """The target tree of the check, as the kernel-or-not decision reads it (check/project.py)."""

    def __init__(self, reader: BlobReader, commits: tuple[str, ...]) -> None:
        self._reader = reader
        self._commits = commits

    def present(self, paths: Iterable[str]) -> frozenset[str]:
        wanted = tuple(paths)
        found: frozenset[str] = frozenset()
        for commit in self._commits:
            found |= self._reader.present(commit, (p for p in wanted if p not in found))
        return found

    def text(self, path: str) -> str | None:
        return next((t for c in self._commits if (t := self._reader.read(c, path)) is not None), None)


@contextlib.contextmanager
def readers(apply: ApplyResult | None, repo: str | None
            ) -> Iterator[tuple[FileText | None, FileText | None, TargetTree | None]]:
    """What the check reads of the target repository, through one reader process of the rebase
    layer: the result's post-image, the base of "pre-existing", and the tree a patch's paths
    are looked up in.

    The base of "pre-existing" is the tree the series now sits on: the target as upstream has
    it (`onto_commit`), else the base the series was applied on. The tree is the target then
    the result; without a rebase result, `--repo`'s HEAD (a `--repo` that is not a git
    repository, or has no commit yet, gives no tree).
    """
    from reviewtool.errors import ReviewtoolError

    if apply is not None and apply.repo and path_is(apply.repo, stat.S_ISDIR):
        from reviewtool.rebase.blobs import BlobReader

        base = apply.onto_commit or apply.base.commit
        with BlobReader(apply.repo) as reader:
            post: FileText | None = None
            if apply.result_commit:
                result_commit = apply.result_commit

                def post(path: str) -> str | None:
                    return reader.read(result_commit, path)

            def old(path: str) -> str | None:
                return reader.read(base, path) if base else None

            commits = tuple(c for c in (base, apply.result_commit) if c)
            yield post, old, _Tree(reader, commits) if commits else None
        return
    if not (repo and path_is(repo, stat.S_ISDIR)):
        yield None, None, None
        return
    from reviewtool.rebase.blobs import BlobReader

    try:
        plain = BlobReader(repo).__enter__()
    except ReviewtoolError:
        yield None, None, None
        return
    try:
        head = plain.commit("HEAD")
        yield None, None, _Tree(plain, (head,)) if head else None
    finally:
        plain.__exit__(None, None, None)
