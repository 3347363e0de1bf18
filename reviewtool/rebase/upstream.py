"""Already upstream? `git patch-id --stable` of each patch against the commits in base..REF.

The scan is bounded by the series whatever the history looks like:
- paths: only commits that touch the series' files are listed (`git log -- PATHS`, no diff);
- a commit window: base..REF up to LIMIT commits, or REF's newest WINDOW when no base is known;
- no root or shallow-boundary commit is ever shown: its "diff" is the whole tree (86,000 files
  of a kernel imported in one commit, or cloned with `--depth 1`), and it carries no patch;
- a byte budget: the listed commits are shown in full (`--full-diff` semantics, so a commit's
  patch-id covers all of it) through one `git log --no-walk`, read up to BUDGET bytes.
What was scanned, and what was left out and why, is said in `Upstream.range_desc`.

Failing a patch-id match, the same subject and author count as merged (a maintainer may
have touched the change up when applying it). One scan serves several targets: each commit
remembers which targets' ranges hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email.utils import parseaddr

from reviewtool.model import Patch
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.record import field, record, replace

WINDOW = 1000  # commits read when no base is known (REF's newest commits on these paths)
LIMIT = 20000  # hard bound on base..REF
BUDGET = 32 << 20  # bytes of `git log -p` output read at most


@record
class UpstreamCommit:
    oid: str
    subject: str
    author: str  # "Name <email>"


@record
class UpstreamMatch:
    commit: UpstreamCommit
    how: str  # "patch-id" | "subject"


@record
class ScanRange:
    """One target's range: base..onto, or onto's newest commits when base is None."""

    base: str | None
    onto: str


@record
class Upstream:
    """What the scanned ranges hold, indexed for matching patches."""

    by_patch_id: dict[str, UpstreamCommit]
    by_subject: dict[tuple[str, str], UpstreamCommit]
    scanned: int
    range_desc: str
    members: dict[str, frozenset[str]] = field(default_factory=dict)  # onto -> commits of its range
    descs: dict[str, str] = field(default_factory=dict)  # onto -> what of its range was read

    def match(self, patch: Patch, patch_id: str | None, onto: str | None = None) -> UpstreamMatch | None:
        """The upstream commit that already carries PATCH, if any (in ONTO's range, when given)."""
        mine = self.members.get(onto) if onto is not None else None
        if patch_id and patch_id in self.by_patch_id:
            hit = self.by_patch_id[patch_id]
            if mine is None or hit.oid in mine:
                return UpstreamMatch(hit, "patch-id")
        hit2 = self.by_subject.get(_subject_key(patch.subject, patch.author))
        if hit2 is not None and (mine is None or hit2.oid in mine):
            return UpstreamMatch(hit2, "subject")
        return None

    def describe(self, onto: str) -> str:
        """A sentence on what was read of ONTO's range, and what was left out and why."""
        return self.descs.get(onto, self.range_desc)

    def scanned_in(self, onto: str) -> int:
        """How many commits of ONTO's range were read."""
        return len(self.members.get(onto, ()))


def scan_ranges(repo: GitRepo, ranges: Sequence[ScanRange], paths: list[str], *,
                window: int = WINDOW, budget: int = BUDGET,
                phase: Callable[[str], None] | None = None) -> Upstream:
    """Index the commits of every range in one pass (one `git log -p` for all of them)."""
    if not paths:
        return Upstream({}, {}, 0, "no commit read: the series changes no file",
                        {r.onto: frozenset() for r in ranges})
    listed: dict[str, None] = {}  # every commit to show, newest first, once
    members: dict[str, frozenset[str]] = {}
    boundary: dict[str, dict[str, None]] = {}  # onto -> its root or shallow-boundary commits
    descs: dict[str, str] = {}
    for r in ranges:
        if r.base is not None and r.base == r.onto:
            members[r.onto] = frozenset()
            descs[r.onto] = "no commit read: the base is the target itself"
            continue
        if r.base is not None:
            revs = [f"^{r.base}", r.onto, f"--max-count={LIMIT}"]
            where = f"{r.base[:12]}..{r.onto[:12]}"
        else:
            revs = [r.onto, f"--max-count={window}"]
            where = f"the newest {window} of {r.onto[:12]}"
        # no diff here: the listing costs the same on a one-commit import as anywhere
        log = repo.run("log", "--no-merges", "--format=%H %P", *revs, "--", *paths).out
        mine: list[str] = []
        for line in log.splitlines():
            oid, *parents = line.split()
            if not parents:  # a root or a shallow clone's boundary: its "diff" is its whole tree
                boundary.setdefault(r.onto, {})[oid] = None
                continue
            mine.append(oid)
            listed.setdefault(oid, None)
        members[r.onto] = frozenset(mine)
        descs[r.onto] = f"{len(mine)} commit{'s' if len(mine) != 1 else ''} on the series' files in {where}"
    if phase:
        phase(f"scanning upstream ({len(listed)} commit{'s' if len(listed) != 1 else ''})")
    commits, cut = _show(repo, list(listed), budget)
    shallow = bool(boundary) and repo.run("rev-parse", "--is-shallow-repository",
                                          check=False).out.strip() == "true"
    for onto in descs:
        notes = [descs[onto]]
        if cut:
            left = sum(1 for c in members.get(onto, ()) if c not in commits)
            if left:
                notes.append(f"the oldest {left} left out past the {budget >> 20} MiB budget")
        if onto in boundary:
            notes.append(_boundary_note(list(boundary[onto]), shallow))
        descs[onto] = "; ".join(notes)
    if cut:
        members = {k: frozenset(c for c in v if c in commits) for k, v in members.items()}
    return replace(_index(repo, commits), range_desc="; ".join(dict.fromkeys(descs.values())), members=members,
                   descs=descs)


def _boundary_note(oids: list[str], shallow: bool) -> str:
    what = "the shallow clone's boundary commit" if shallow else "the root commit"
    names = ", ".join(o[:12] for o in oids[:3]) + (f" and {len(oids) - 3} more" if len(oids) > 3 else "")
    return f"{what}{'s' if len(oids) > 1 else ''} {names} not read (no history before it to compare with)"


_FORMAT = "--format=commit %H%nX-Author: %an <%ae>%nX-Subject: %s"


def _show(repo: GitRepo, oids: list[str], budget: int) -> tuple[dict[str, tuple[UpstreamCommit, bytes]], bool]:
    """Each commit with its whole diff, newest first, up to BUDGET bytes; True when cut."""
    if not oids:
        return {}, False
    listing = repo.workdir / "upstream-commits"
    listing.write_text("".join(f"{o}\n" for o in oids))
    raw, cut = repo.run_capped("log", "--no-walk=unsorted", "--stdin", "-p", "--no-color", "--no-ext-diff",
                               "--no-textconv", "--no-renames", _FORMAT, limit=budget, input_path=listing)
    listing.unlink(missing_ok=True)
    if cut:  # the last commit read is incomplete: leave it out
        end = raw.rfind(b"\ncommit ")
        raw = raw[:end + 1] if end >= 0 else b""
    commits: dict[str, tuple[UpstreamCommit, bytes]] = {}
    starts = [0] if raw.startswith(b"commit ") else []
    pos = raw.find(b"\ncommit ")
    while pos >= 0:
        starts.append(pos + 1)
        pos = raw.find(b"\ncommit ", pos + 1)
    for i, start in enumerate(starts):
        chunk = raw[start:starts[i + 1] if i + 1 < len(starts) else len(raw)]
        head = chunk.split(b"\n", 3)
        if len(head) < 3 or not head[1].startswith(b"X-Author: ") or not head[2].startswith(b"X-Subject: "):
            continue  # a line of a diff that starts with "commit ": part of the one before
        oid = head[0][7:].decode().strip()
        commits[oid] = (UpstreamCommit(oid, head[2][11:].decode("utf-8", "replace"),
                                       head[1][10:].decode("utf-8", "replace")), chunk)
    return commits, cut


def _index(repo: GitRepo, commits: dict[str, tuple[UpstreamCommit, bytes]]) -> Upstream:
    by_subject: dict[tuple[str, str], UpstreamCommit] = {}
    for c, _chunk in commits.values():
        by_subject.setdefault(_subject_key(c.subject, c.author), c)
    by_patch_id: dict[str, UpstreamCommit] = {}
    if commits:
        ids = repo.run("patch-id", "--stable", input=b"".join(chunk for _c, chunk in commits.values())).out
        for line in ids.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] in commits:
                by_patch_id.setdefault(parts[0], commits[parts[1]][0])
    return Upstream(by_patch_id, by_subject, len(commits), "")


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
