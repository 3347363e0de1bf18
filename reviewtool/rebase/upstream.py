"""Already upstream? `git patch-id --stable` of each patch against the commits in base..REF.

Only commits that touch the series' paths are read (`git log -- PATHS`, shown with
`--full-diff` so a commit's patch-id covers all of it), which keeps the walk cheap on a
big history. Failing a patch-id match, the same subject and author count as merged (a
maintainer may have touched the change up when applying it).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from reviewtool.model import Patch
from reviewtool.rebase.gitrepo import GitRepo

WINDOW = 1000  # commits read when no base is known (REF's newest commits on these paths)
LIMIT = 20000  # hard bound on base..REF


@dataclass(frozen=True)
class UpstreamCommit:
    oid: str
    subject: str
    author: str  # "Name <email>"


@dataclass(frozen=True)
class UpstreamMatch:
    commit: UpstreamCommit
    how: str  # "patch-id" | "subject"


@dataclass
class Upstream:
    """What base..REF holds, indexed for matching patches."""

    by_patch_id: dict[str, UpstreamCommit]
    by_subject: dict[tuple[str, str], UpstreamCommit]
    scanned: int
    range_desc: str

    def match(self, patch: Patch, patch_id: str | None) -> UpstreamMatch | None:
        """The upstream commit that already carries PATCH, if any."""
        if patch_id and patch_id in self.by_patch_id:
            return UpstreamMatch(self.by_patch_id[patch_id], "patch-id")
        hit = self.by_subject.get(_subject_key(patch.subject, patch.author))
        return UpstreamMatch(hit, "subject") if hit else None


def scan_upstream(repo: GitRepo, base: str | None, onto: str, paths: list[str]) -> Upstream:
    """Index the commits of base..ONTO (or ONTO's newest on PATHS when base is None)."""
    if not paths:
        return Upstream({}, {}, 0, "nothing to compare")
    if base is not None and base != onto:
        revs = [f"^{base}", onto, f"--max-count={LIMIT}"]
        desc = f"{base[:12]}..{onto[:12]}"
    elif base == onto:
        return Upstream({}, {}, 0, "base is the target: nothing in between")
    else:
        revs = [onto, f"--max-count={WINDOW}"]
        desc = f"the last {WINDOW} commits of {onto[:12]} on the series' files"
    log = repo.run(
        "log", "--no-merges", "--full-diff", "-p", "--no-color", "--no-ext-diff", "--no-textconv",
        "--format=commit %H%nX-Author: %an <%ae>%nX-Subject: %s", *revs, "--", *paths,
    ).stdout
    commits: dict[str, UpstreamCommit] = {}
    by_subject: dict[tuple[str, str], UpstreamCommit] = {}
    oid = author = ""
    for raw in log.split(b"\n"):
        if raw.startswith(b"commit "):
            oid, author = raw[7:].decode().strip(), ""
        elif raw.startswith(b"X-Author: ") and oid and not author:
            author = raw[10:].decode("utf-8", "replace")
        elif raw.startswith(b"X-Subject: ") and oid and oid not in commits:
            c = UpstreamCommit(oid, raw[11:].decode("utf-8", "replace"), author)
            commits[oid] = c
            by_subject.setdefault(_subject_key(c.subject, c.author), c)
    by_patch_id: dict[str, UpstreamCommit] = {}
    if log.strip():
        ids = repo.run("patch-id", "--stable", input=log).out
        for line in ids.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] in commits:
                by_patch_id.setdefault(parts[0], commits[parts[1]])
    return Upstream(by_patch_id, by_subject, len(commits), desc)


def series_patch_ids(repo: GitRepo, patches: tuple[Patch, ...]) -> dict[int, str]:
    """`git patch-id --stable` of each patch's diff, by patch index."""
    buf = bytearray()
    width = repo.hexlen
    names: dict[str, int] = {}
    for p in patches:
        if not p.diff.strip():
            continue
        fake = f"{p.index:0{width}x}"
        names[fake] = p.index
        diff = p.diff if p.diff.endswith("\n") else p.diff + "\n"
        buf += f"commit {fake}\n\n".encode() + diff.encode("utf-8", "surrogateescape")
    if not buf:
        return {}
    out: dict[int, str] = {}
    for line in repo.run("patch-id", "--stable", input=bytes(buf)).out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in names:
            out[names[parts[1]]] = parts[0]
    return out


def _subject_key(subject: str, author: str) -> tuple[str, str]:
    name, addr = parseaddr(author)
    return " ".join(subject.split()).lower(), (addr or name).lower()
