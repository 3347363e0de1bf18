"""Shared helpers for the report formats: labels, statuses, and locating evidence in a diff.

Nothing here decides what is wrong with a patch: it only finds where the check layer's
evidence sits in the patch text, so each format can show or quote those lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reviewtool.diff import DiffFile
from reviewtool.model import CATEGORIES, ApplyResult, CheckResult, Evidence, Finding, PatchOutcome, Series
from reviewtool.record import record
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
    """`13/15 applied (12 clean, 1 3way), 1 conflict, 1 already upstream, 1 missing`: the counts
    add up to M of the series' N/M."""
    total = apply.expected or len(apply.patches)
    counts: dict[str, int] = {}
    for p in apply.patches:
        counts[p.outcome] = counts.get(p.outcome, 0) + 1
    applied = sum(counts.get(o, 0) for o in APPLIED)
    how = ", ".join(f"{counts[o]} {o}" for o in APPLIED if counts.get(o))
    parts = [f"{applied}/{total} applied" + (f" ({how})" if how else "")]
    for outcome in ("conflict", "already-upstream", "already-applied", "skipped", "missing", "not-applicable"):
        n = counts.get(outcome, 0)
        if n:
            name = "already in the target" if outcome == "already-applied" else outcome.replace("-", " ")
            parts.append(f"{n} {name}" + ("s" if n > 1 and outcome == "conflict" else ""))
    return ", ".join(parts)


def already_in(apply: ApplyResult) -> int:
    """How many patches are in the target already (upstream by history, or by content)."""
    return sum(1 for p in apply.patches if p.outcome in ("already-upstream", "already-applied"))


def most_already_in(apply: ApplyResult) -> str | None:
    """'Most of the series is already in the target (12 of 15 patches).', when it is."""
    total = apply.expected or len(apply.patches)
    n = already_in(apply)
    if total and n * 2 > total:
        return f"Most of the series is already in the target ({n} of {total} patches)."
    return None


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
    if apply.base.how == "onto" and apply.base.detail:  # a sentence of its own: "none known, so ..."
        return f"{apply.base.detail} ({commit})"
    detail = f"; {apply.base.detail}" if apply.base.detail else ""
    return f"{commit} ({how}{detail})"


# The cell of a patch in the multi-target matrix.
CELL = {"clean": "clean", "offset": "offset", "3way": "3way", "conflict": "conflict",
        "already-upstream": "already", "already-applied": "already", "skipped": "skipped",
        "missing": "missing", "not-applicable": "n/a"}


def matrix_rows(results: Sequence[ApplyResult]) -> list[tuple[int, str, list[str]]]:
    """(N, subject, one cell per target) for every N of the series, in order."""
    rows: dict[int, tuple[str, list[str]]] = {}
    for k, res in enumerate(results):
        for p in res.patches:
            subject, cells = rows.setdefault(p.index, (p.subject, ["-"] * len(results)))
            if subject == "(not in the thread)" and p.outcome != "missing":
                rows[p.index] = (p.subject, cells)
            cells[k] = CELL.get(p.outcome, p.outcome)
    return [(n, subject, cells) for n, (subject, cells) in sorted(rows.items())]


def target_totals(res: ApplyResult) -> str:
    """'13/15 applied, 1 conflict': a matrix column's foot."""
    total = res.expected or len(res.patches)
    applied = sum(1 for p in res.patches if p.outcome in APPLIED)
    failed = sum(1 for p in res.patches if p.outcome in ("conflict", "skipped"))
    return f"{applied}/{total} applied" + (f", {failed} failed" if failed else "")


def one_line(text: str, limit: int) -> str:
    """Control characters dropped, whitespace squeezed to single spaces, cut to `limit` with an ellipsis."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


# --- locating evidence in a patch's diff --------------------------------------------------


@record
class Spot:
    """Where one piece of evidence sits: file, hunk, and the first/last line index in the hunk."""

    file: int
    hunk: int
    first: int
    last: int


def locate(files: Sequence[DiffFile], ev: Evidence) -> Spot | None:
    """The hunk lines an Evidence points at: by its position (file, hunk, first line) when it
    carries one, else (checkpatch, which knows only a line number) by its post-image line."""
    candidates = [i for i, f in enumerate(files) if ev.file is not None and ev.file in (f.path, f.old_path)]
    count = max(1, len(ev.lines))
    if ev.hunk is not None and ev.first is not None:
        for fi in candidates:
            hunks = files[fi].hunks
            if ev.hunk < len(hunks) and ev.first < len(hunks[ev.hunk].lines):
                last = min(ev.first + count, len(hunks[ev.hunk].lines)) - 1
                return Spot(fi, ev.hunk, ev.first, last)
        return None
    if ev.line is None:
        return None
    for fi in candidates:
        for hi, hunk in enumerate(files[fi].hunks):
            for li, line in enumerate(hunk.lines):
                if line.new_no == ev.line:
                    return Spot(fi, hi, li, min(li + count, len(hunk.lines)) - 1)
    return None


def patch_diff_line(files: Sequence[DiffFile], ev: Evidence) -> int | None:
    """The 1-based line of the evidence within the patch's diff text, when it can be found."""
    spot = locate(files, ev)
    if spot is None:
        return None
    return files[spot.file].hunks[spot.hunk].offset + 1 + spot.first


def applied(outcome: PatchOutcome | None) -> bool:
    """True when the patch is part of the rebased tree (clean, offset or 3-way)."""
    return outcome is not None and outcome.outcome in APPLIED


def series_findings(check: CheckResult) -> list[Finding]:
    """Findings about the series as a whole (evidence only at patch 0)."""
    return [f for f in check.findings if finding_patches(f) == [0]]
