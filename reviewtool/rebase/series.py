"""Apply a whole series onto REF in isolation and decide every patch's outcome."""

from __future__ import annotations

import email.utils
import os
from collections.abc import Callable
from pathlib import Path

from reviewtool.diff import DiffFile as FileDiff
from reviewtool.diff import parse
from reviewtool.model import ApplyResult, BaseChoice, Outcome, Patch, PatchOutcome, RebaseMatrix, Series
from reviewtool.rebase import hunks
from reviewtool.rebase.apply import Applied, PatchApplier
from reviewtool.rebase.base import choose_base
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.paths import patch_problem
from reviewtool.rebase.present import fully_present, presence
from reviewtool.rebase.trees import Trees
from reviewtool.rebase.upstream import ScanRange, Upstream, scan_ranges, series_patch_ids
from reviewtool.record import field, record

Progress = Callable[[int, int, PatchOutcome | None], None]
Phase = Callable[[str], None]

_FALLBACK_IDENT = ("reviewtool", "reviewtool@localhost")


@record
class _Failed:
    index: int
    outcome: Outcome
    files: list[FileDiff] = field(default_factory=list)


def apply_series(series: Series, onto: str, *, repo: str | Path | None = None, base: str | None = None,
                 progress: Progress | None = None, phase: Phase | None = None) -> ApplyResult:
    """Apply SERIES onto the commit-ish ONTO of REPO without touching the user's checkout."""
    return apply_series_multi(series, [onto], repo=repo, base=base, progress=progress, phase=phase)[0]


def apply_series_multi(series: Series, ontos: list[str], *, repo: str | Path | None = None,
                       base: str | None = None, progress: Progress | None = None,
                       phase: Phase | None = None) -> tuple[ApplyResult, ...]:
    """Apply SERIES onto each of ONTOS in one pass: the repository, the parsed diffs, the
    patch-ids and the upstream scan are shared; each target gets its own base and result."""
    with GitRepo(repo) as g:
        commits = [g.resolve_commit(onto, "REF") for onto in ontos]
        trees = Trees(g)
        parsed = [list(parse(p.diff).files) for p in series.patches]
        refused = {p.index: (fds, why) for p, fds in zip(series.patches, parsed, strict=True)
                   if (why := patch_problem(fds)) is not None}
        # a patch with a path git refuses is never applied, and no git command sees its paths
        files = [[] if p.index in refused else fds for p, fds in zip(series.patches, parsed, strict=True)]
        if phase:
            phase("guessing the base" if base is None and not series.base_commit else "finding the base")
        choices = [choose_base(g, trees, series, files, c, base) for c in commits]
        paths = sorted({p for fs in files for fd in fs for p in fd.paths})
        ranges = [ScanRange(ch.commit if ch.how != "onto" else None, c) for ch, c in zip(choices, commits, strict=True)]
        upstream = scan_ranges(g, ranges, paths, phase=phase)
        patch_ids = series_patch_ids(g, series.patches)
        applier = PatchApplier(g, trees)
        results = []
        for onto, commit, choice in zip(ontos, commits, choices, strict=True):
            run = _Run(g, trees, series, files, commit, choice, progress, refused)
            run.upstream, run.patch_ids, run.applier = upstream, patch_ids, applier
            run.phase, run.label = phase, (f" onto {onto}" if len(ontos) > 1 else "")
            outcomes = _with_missing(series, run.all())
            tip = run.tip
            results.append(ApplyResult(
                series_id=series.id, onto=onto, onto_commit=commit, base=choice,
                patches=tuple(outcomes), result_commit=tip, result_tree=trees.tree_of(tip), repo=str(g.path),
                expected=max(series.expected, len(outcomes)), scanned=upstream.describe(commit),
                scanned_commits=upstream.scanned_in(commit),
            ))
        return tuple(results)


def rebase_matrix(series: Series, ontos: list[str], *, repo: str | Path | None = None,
                  base: str | None = None, progress: Progress | None = None,
                  phase: Phase | None = None) -> RebaseMatrix:
    """SERIES onto every target of ONTOS in one pass, and the target that takes it best."""
    results = apply_series_multi(series, ontos, repo=repo, base=base, progress=progress, phase=phase)
    best, reason = best_target(results)
    return RebaseMatrix(series.id, results, best, reason)


_FAILED = ("conflict", "skipped")
_APPLIED = ("clean", "offset", "3way")
_ALREADY = ("already-upstream", "already-applied")


def best_target(results: tuple[ApplyResult, ...]) -> tuple[str, str]:
    """The target that takes the series best (fewest failed patches, then most applied or
    already there, then fewest 3-way merges and offsets; the first given on a tie), and why."""
    def count(res: ApplyResult, outcomes: tuple[str, ...]) -> int:
        return sum(1 for p in res.patches if p.outcome in outcomes)

    ranked = sorted(range(len(results)), key=lambda k: (
        count(results[k], _FAILED), -count(results[k], _APPLIED + _ALREADY), count(results[k], ("3way",)),
        count(results[k], ("offset",)), k))
    res = results[ranked[0]]
    total = res.expected or len(res.patches)
    parts = [f"{count(res, _APPLIED)} of {total} apply"]
    if count(res, _ALREADY):
        parts.append(f"{count(res, _ALREADY)} already in it")
    if count(res, ("3way",)):
        parts.append(f"{count(res, ('3way',))} by 3-way merge")
    failed = count(res, _FAILED)
    parts.append(f"{failed} fail{'s' if failed == 1 else ''}" if failed else "none fails")
    tie = len(results) > 1 and all(count(r, _FAILED) == failed and count(r, _APPLIED) == count(res, _APPLIED)
                                   for r in results)
    how = "takes the series as well as any other" if tie else "takes the series best"
    return res.onto, f"{res.onto} {how}: {', '.join(parts)}"


def _with_missing(series: Series, outcomes: list[PatchOutcome]) -> list[PatchOutcome]:
    """OUTCOMES with a `missing` one for each N of N/M that the thread lacks, in order."""
    have = {p.index for p in outcomes}
    absent = set(series.missing) | set(range(1, series.expected + 1))
    extra = [PatchOutcome(n, "(not in the thread)", "missing",
                          detail=f"patch {n:02d}/{series.expected:02d} was never received")
             for n in sorted(absent - have) if n > 0]
    return sorted(outcomes + extra, key=lambda p: p.index)


class _Run:
    def __init__(self, g: GitRepo, trees: Trees, series: Series, files: list[list[FileDiff]],
                 onto: str, base: BaseChoice, progress: Progress | None,
                 refused: dict[int, tuple[list[FileDiff], str]] | None = None) -> None:
        self.g, self.trees, self.series, self.files = g, trees, series, files
        self.onto, self.base, self.progress = onto, base, progress
        self.tip = onto
        self.tip_tree = self.onto_tree = trees.tree_of(onto)
        self.base_tree = trees.tree_of(base.commit) if base.commit else self.tip_tree
        self.applier = PatchApplier(g, trees)
        self.failed: list[_Failed] = []
        self.refused = refused or {}  # index -> (files, why): patches with paths git refuses
        self.committer = _committer(g)
        self.upstream: Upstream | None = None
        self.patch_ids: dict[int, str] = {}
        self.phase: Phase | None = None
        self.label = ""

    def all(self) -> list[PatchOutcome]:
        if self.upstream is None:
            paths = sorted({p for fs in self.files for fd in fs for p in fd.paths})
            upstream_base = self.base.commit if self.base.how != "onto" else None
            self.upstream = scan_ranges(self.g, [ScanRange(upstream_base, self.onto)], paths)
            self.patch_ids = series_patch_ids(self.g, self.series.patches)
        out: list[PatchOutcome] = []
        total = len(self.series.patches)
        for n, (patch, fds) in enumerate(zip(self.series.patches, self.files, strict=True), start=1):
            self.g.check_interrupt()  # a Ctrl-C is acted on between patches
            if self.phase:
                self.phase(f"applying {n}/{total}{self.label}")
            elif self.progress:
                self.progress(n, total, None)
            outcome = self.one(patch, fds, self.files[:n - 1])
            out.append(outcome)
            if self.progress:
                self.progress(n, total, outcome)
        return out

    def one(self, patch: Patch, fds: list[FileDiff], earlier: list[list[FileDiff]]) -> PatchOutcome:
        """The outcome of one patch (EARLIER: the files of the patches before it); on
        success the tip moves to its new commit."""
        index, subject = patch.index, patch.subject
        paths = tuple(fd.path for fd in fds)
        if index in self.refused:
            refused, why = self.refused[index]
            self.failed.append(_Failed(index, "conflict", refused))  # later patches may need it
            return PatchOutcome(index, subject, "conflict", tuple(fd.path for fd in refused), why)
        if not fds:
            return PatchOutcome(index, subject, "not-applicable", detail="the patch has no diff")
        if self._foreign(fds):
            return PatchOutcome(index, subject, "not-applicable", paths,
                                "touches no file or directory of this tree (a patch for another project?)")
        assert self.upstream is not None
        match = self.upstream.match(patch, self.patch_ids.get(index), self.onto)
        if match is not None:
            c = match.commit
            how = "same patch-id" if match.how == "patch-id" else "same subject and author (patch-id differs)"
            return PatchOutcome(index, subject, "already-upstream", paths,
                                f'{how} as {c.oid[:12]} "{c.subject}"', upstream_commit=c.oid)
        if fully_present(self.g, self.trees, self.onto_tree, fds):
            # every hunk's result is in the target: applying it again could only duplicate
            here = presence(self.g, self.trees, self.onto_tree, fds)
            return PatchOutcome(index, subject, "already-applied", paths, here.describe(),
                                added_lines=here.added, added_present=here.added_present)
        got = self.applier.apply(parse(patch.diff).text, fds, self.tip_tree, earlier)
        if got.tree is not None and got.tree == self.tip_tree:
            return PatchOutcome(index, subject, "already-applied", paths,
                                "applying it changes nothing: its changes are already in the target "
                                "(no commit with the same patch-id or subject found)")
        if got.tree is not None:
            commit = self._commit(patch, got.tree)
            self.tip, self.tip_tree = commit, got.tree
            return PatchOutcome(index, subject, got.outcome, got.paths, got.detail, commit=commit)
        return self._failure(index, subject, fds, got)

    def _failure(self, index: int, subject: str, fds: list[FileDiff], got: Applied) -> PatchOutcome:
        # the target as it was: the series' own earlier patches are no evidence of a merge
        here = presence(self.g, self.trees, self.onto_tree, fds)
        if here.whole or here.mostly:  # history could not tell; the content can
            detail = here.describe() if here.whole else f"{here.describe()}: merged and changed since?"
            return PatchOutcome(index, subject, "already-applied", got.paths, detail,
                                added_lines=here.added, added_present=here.added_present)
        dep = self._dependency(fds)
        outcome: Outcome = "conflict"
        detail = got.detail
        if dep is not None:
            outcome, detail = "skipped", dep
        elif not got.base_known and any(m < index for m in self.series.missing):
            missing = ", ".join(f"{m:02d}" for m in self.series.missing if m < index)
            outcome = "skipped"
            detail = f"needs patch(es) {missing}, missing from the series: {got.detail}"
        if here.added_present:
            detail += f" ({here.describe()})"
        self.failed.append(_Failed(index, outcome, fds))
        return PatchOutcome(index, subject, outcome, got.paths, detail, got.git_error,
                            failed_hunks=got.failed_hunks, added_lines=here.added,
                            added_present=here.added_present)

    def _dependency(self, fds: list[FileDiff]) -> str | None:
        """Why a failed patch needs an earlier failed one, or None when it does not."""
        total = self.series.expected or len(self.series.patches)
        by_file: str | None = None
        for f in reversed(self.failed):
            for mine in fds:
                for theirs in f.files:
                    if not mine.old_path or mine.old_path != theirs.new_path:
                        continue
                    label = f"{f.index:02d}/{total:02d} ({f.outcome})"
                    hit = hunks.overlap(hunks.touched_ranges(mine), hunks.changed_ranges(theirs))
                    if hit is not None:
                        return (f"depends on {label}: it changes lines {hit[0]}-{hit[1]} of "
                                f"{mine.old_path} as that patch left them")
                    by_file = by_file or f"depends on {label}: it changes {mine.old_path} after that patch"
        return by_file

    def _foreign(self, fds: list[FileDiff]) -> bool:
        """True when no path of the patch, nor its directory, exists in the target or base."""
        for fd in fds:
            for path in fd.paths:
                for tree in (self.tip_tree, self.base_tree):
                    if self.trees.lookup(tree, path) is not None:
                        return False
                    parent = path.rpartition("/")[0]
                    if parent and self.trees.is_dir(tree, parent):
                        return False
                    if not parent and fd.old_path is None:
                        return False  # a new top-level file could belong anywhere
        return True

    def _commit(self, patch: Patch, tree: str) -> str:
        name, addr = email.utils.parseaddr(patch.author)
        date = _git_date(patch.date)
        author = f"{_ident_part(name or addr or 'unknown')} <{_ident_part(addr or 'unknown')}> {date}"
        committer = f"{_ident_part(self.committer[0])} <{_ident_part(self.committer[1])}> {date}"
        return self.g.commit(tree, [self.tip], author, committer, _message(patch))


def _ident_part(value: str) -> str:
    """A name or address as git writes it in an ident: no angle brackets or newlines."""
    cleaned = "".join(c for c in value if c not in "<>\n\r\0")
    return cleaned.strip(" .,:;\"'\\") or "unknown"


def _message(patch: Patch) -> str:
    """Subject, body and the trailers collected from replies, as `b4 am` would write them."""
    body = patch.message.strip("\n")
    lines = body.splitlines()
    for t in patch.trailers:
        line = f"{t.name}: {t.value}"
        if line not in lines:
            lines.append(line)
    body = "\n".join(lines).strip("\n")
    return f"{patch.subject}\n\n{body}\n" if body else f"{patch.subject}\n"


def _git_date(value: str) -> str:
    """A date git accepts for sure: '<epoch> <+hhmm>' from an RFC 2822 or ISO date."""
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        dt = None
    if dt is None:
        from datetime import datetime

        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return "1000000000 +0000"
    off = dt.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{int(dt.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"


def _committer(g: GitRepo) -> tuple[str, str]:
    """The user's committer identity (as `git am` would use it), else a fixed one.

    Read from the environment and git config in process, as `git var` would.
    """
    cfg = g.repo.config_reader()

    def conf(key: str) -> str:
        try:
            return str(cfg.get_value("user", key, "")).strip()
        except Exception:  # noqa: BLE001 - an unreadable config means "not set"
            return ""

    name = os.environ.get("GIT_COMMITTER_NAME") or conf("name")
    addr = os.environ.get("GIT_COMMITTER_EMAIL") or conf("email") or os.environ.get("EMAIL", "")
    if addr:
        return name or addr, addr
    return _FALLBACK_IDENT
