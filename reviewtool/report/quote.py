"""Shared helpers for the report formats: labels, statuses, and locating evidence in a diff.

Nothing here decides what is wrong with a patch: it only finds where the check layer's
evidence sits in the patch text, so each format can show or quote those lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewtool.model import CATEGORIES, ApplyResult, CheckResult, Evidence, Finding, PatchOutcome, Series
from reviewtool.report.safe import clean

SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}
APPLIED = ("clean", "offset", "3way")
DEFAULT_LINK_BASE = "https://lore.kernel.org/r"


def category_title(category: str) -> str:
    """A human title for a checklist category id (unknown ids are shown as they are)."""
    title = CATEGORIES.get(category, category.replace("_", " "))
    return title[:1].upper() + title[1:]


def category_order(categories: Iterable[str]) -> list[str]:
    """Categories in the stable order, unknown ones after, alphabetically."""
    known = list(CATEGORIES)
    uniq = set(categories)
    return [c for c in known if c in uniq] + sorted(uniq - set(known))


def counter(series: Series, index: int) -> str:
    """`08/15` for patch 8 of 15, `0/3` for the cover letter of three."""
    width = len(str(series.expected))
    return f"{index:0{width}d}/{series.expected}"


def patch_link(series: Series, msgid: str | None = None, link_base: str = DEFAULT_LINK_BASE) -> str:
    """A lore link to the series (or to one message of it)."""
    if series.link:
        if msgid is None:
            return series.link
        # keep the server the series was fetched from (a local public-inbox, lore's /all/)
        tail = f"{series.msgid}/"
        if series.link.endswith(tail):
            return f"{series.link[: -len(tail)]}{msgid}/"
    return f"{link_base.rstrip('/')}/{msgid or series.msgid}/"


def active(finding: Finding) -> bool:
    """A finding a reviewer still has to look at: new and not already judged fine."""
    return not finding.pre_existing and finding.status != "looks-ok"


def finding_patches(finding: Finding) -> list[int]:
    """The patches a finding's evidence points at (0 = the series as a whole)."""
    return sorted({e.patch for e in finding.evidence}) or [0]


def findings_for_patch(check: CheckResult, index: int) -> list[Finding]:
    """Findings with evidence in patch `index`, most severe first (stable otherwise)."""
    hits = [f for f in check.findings if index in finding_patches(f)]
    return sorted(hits, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))


def worst_severity(findings: Iterable[Finding]) -> str | None:
    """The highest severity among active findings, or None when there is none."""
    worst: str | None = None
    for f in findings:
        if active(f) and (worst is None or SEVERITY_RANK.get(f.severity, 0) > SEVERITY_RANK.get(worst, 0)):
            worst = f.severity
    return worst


def outcome_of(apply: ApplyResult | None, index: int) -> PatchOutcome | None:
    """What rebase did with patch `index`, or None without a rebase result."""
    if apply is None:
        return None
    return next((p for p in apply.patches if p.index == index), None)


def apply_summary(apply: ApplyResult) -> str:
    """`13/15 applied (12 clean, 1 3way), 1 conflict, 1 already upstream`."""
    total = len(apply.patches)
    counts: dict[str, int] = {}
    for p in apply.patches:
        counts[p.outcome] = counts.get(p.outcome, 0) + 1
    applied = sum(counts.get(o, 0) for o in APPLIED)
    how = ", ".join(f"{counts[o]} {o}" for o in APPLIED if counts.get(o))
    parts = [f"{applied}/{total} applied" + (f" ({how})" if how else "")]
    for outcome in ("conflict", "already-upstream", "skipped", "not-applicable"):
        n = counts.get(outcome, 0)
        if n:
            name = outcome.replace("-", " ")
            parts.append(f"{n} {name}" + ("s" if n > 1 and outcome == "conflict" else ""))
    return ", ".join(parts)


def base_summary(apply: ApplyResult) -> str:
    """`c500bee1c5b2 (base-commit: in the series)`: the base used and how it was found."""
    how = {
        "--base": "given with --base",
        "base-commit": "base-commit: in the series",
        "guessed": "guessed from the index lines",
        "onto": "no base found: the target itself",
    }.get(apply.base.how, apply.base.how)
    commit = (apply.base.commit or "?")[:12]
    if commit in apply.base.detail:  # already said in full: "e457da4a04c3 (v5.14-rc4), the series' base-commit:"
        return apply.base.detail
    detail = f"; {apply.base.detail}" if apply.base.detail else ""
    return f"{commit} ({how}{detail})"


def one_line(text: str, limit: int) -> str:
    """Control characters dropped, whitespace squeezed to single spaces, cut to `limit` with an ellipsis."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


# --- locating evidence in a patch's diff --------------------------------------------------

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk, numbered in the post-image, the pre-image and the diff text."""

    text: str  # with its ' '/'+'/'-' prefix
    new: int | None  # line number in the post-image (None for removed lines)
    old: int | None  # line number in the pre-image (None for added lines)
    offset: int  # 1-based line number within the patch's diff text


@dataclass(frozen=True)
class DiffHunk:
    """A hunk: its `@@` header and its lines."""

    header: str
    offset: int  # line of the header within the diff text
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class DiffFile:
    """One file of a diff: its header lines and hunks."""

    path: str  # post-image path (pre-image path for a deleted file)
    head: tuple[str, ...]  # `diff --git`, index, ---/+++ lines
    offset: int
    hunks: tuple[DiffHunk, ...]


def parse_diff(diff: str) -> list[DiffFile]:
    """Files and hunks of a unified diff, each line with its post-image and diff-text numbers.

    Hunk lengths come from the `@@` headers, so blank context lines (trailing space eaten
    by a mailer) and text after the last hunk are handled the way `git apply` reads them.
    """
    files: list[DiffFile] = []
    text = diff.split("\n")
    n = 0
    while n < len(text):
        line = text[n]
        starts_file = line.startswith("diff --git ") or (
            line.startswith("--- ") and n + 1 < len(text) and text[n + 1].startswith("+++ "))
        if not starts_file:
            n += 1
            continue
        file_offset = n + 1
        m = re.match(r"diff --git a/(\S+) b/(\S+)", line)
        path = m.group(2) if m else ""
        head = [line]
        n += 1
        while n < len(text) and not _HUNK_HEADER.match(text[n]) and not text[n].startswith("diff --git "):
            h = text[n]
            head.append(h)
            if h.startswith("+++ ") and h[4:] != "/dev/null":
                path = h[4:].removeprefix("b/").split("\t")[0]
            elif h.startswith("--- ") and h[4:] != "/dev/null" and not path:
                path = h[4:].removeprefix("a/").split("\t")[0]
            n += 1
        hunks: list[DiffHunk] = []
        while n < len(text) and (hm := _HUNK_HEADER.match(text[n])):
            header, hunk_offset = text[n], n + 1
            old, new = int(hm.group(1)), int(hm.group(3))
            old_left = int(hm.group(2)) if hm.group(2) is not None else 1
            new_left = int(hm.group(4)) if hm.group(4) is not None else 1
            lines: list[DiffLine] = []
            n += 1
            while n < len(text) and (old_left > 0 or new_left > 0 or text[n].startswith("\\")):
                body = text[n]
                if body.startswith("+"):
                    lines.append(DiffLine(body, new, None, n + 1))
                    new, new_left = new + 1, new_left - 1
                elif body.startswith("-"):
                    lines.append(DiffLine(body, None, old, n + 1))
                    old, old_left = old + 1, old_left - 1
                elif body.startswith(" ") or body == "":
                    lines.append(DiffLine(body or " ", new, old, n + 1))
                    old, new, old_left, new_left = old + 1, new + 1, old_left - 1, new_left - 1
                elif body.startswith("\\"):
                    lines.append(DiffLine(body, None, None, n + 1))
                else:
                    break  # not diff text: a truncated hunk
                n += 1
            hunks.append(DiffHunk(header, hunk_offset, tuple(lines)))
        files.append(DiffFile(path, tuple(head), file_offset, tuple(hunks)))
    return files


@dataclass(frozen=True)
class Spot:
    """Where one piece of evidence sits: file, hunk, and the first/last line index in the hunk."""

    file: int
    hunk: int
    first: int
    last: int


def _norm(text: str) -> str:
    return text.rstrip()


def _match_run(lines: Sequence[DiffLine], wanted: Sequence[str]) -> list[int]:
    want = [_norm(w) for w in wanted if w.strip()]
    if not want:
        return []
    starts = []
    for i in range(len(lines) - len(want) + 1):
        if all(_norm(lines[i + k].text) == want[k] for k in range(len(want))):
            starts.append(i)
    if starts:
        return starts
    # Evidence lines may be given without their diff prefix.
    for i in range(len(lines) - len(want) + 1):
        if all(_norm(lines[i + k].text[1:]) == want[k].strip() or
               lines[i + k].text[1:].strip() == want[k].strip() for k in range(len(want))):
            starts.append(i)
    return starts


def locate(files: Sequence[DiffFile], ev: Evidence) -> Spot | None:
    """The hunk lines an Evidence points at: by its lines' text near its line number, else by number."""
    candidates = [i for i, f in enumerate(files) if ev.file is None or f.path == ev.file]
    best: tuple[int, Spot] | None = None
    for fi in candidates:
        for hi, hunk in enumerate(files[fi].hunks):
            n = max(1, len([w for w in ev.lines if w.strip()]))
            for start in _match_run(hunk.lines, ev.lines):
                near = hunk.lines[start].new or hunk.lines[start].old or 0
                dist = abs(near - ev.line) if ev.line is not None else 0
                spot = Spot(fi, hi, start, start + n - 1)
                if best is None or dist < best[0]:
                    best = (dist, spot)
    if best is not None:
        return best[1]
    if ev.line is None or ev.file is None:
        return None
    for fi in candidates:
        for hi, hunk in enumerate(files[fi].hunks):
            for li, line in enumerate(hunk.lines):
                if line.new == ev.line:
                    return Spot(fi, hi, li, li)
    return None


def patch_diff_line(files: Sequence[DiffFile], ev: Evidence) -> int | None:
    """The 1-based line of the evidence within the patch's diff text, when it can be found."""
    spot = locate(files, ev)
    if spot is None:
        return None
    return files[spot.file].hunks[spot.hunk].lines[spot.first].offset


def applied(outcome: PatchOutcome | None) -> bool:
    """True when the patch is part of the rebased tree (clean, offset or 3-way)."""
    return outcome is not None and outcome.outcome in APPLIED


def series_findings(check: CheckResult) -> list[Finding]:
    """Findings about the series as a whole (evidence only at patch 0)."""
    return [f for f in check.findings if finding_patches(f) == [0]]
