"""Markdown: one comment for a pull/merge request, a Patchwork or CI summary.

A 0-day style header (series, patch link, base, result, what did not apply and git's own
message), the checklist as a task list grouped by category, then one collapsible
`<details>` per patch with its findings and their lines. Kept under `limit` characters
(GitHub refuses comments over 65,536): when longer, code lines go first, then per-finding
detail, and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewtool import rx
from reviewtool.model import (
    ApplyResult,
    ChecklistItem,
    CheckResult,
    Evidence,
    Finding,
    Ledger,
    RebaseMatrix,
    Series,
)
from reviewtool.report.quote import (
    DEFAULT_LINK_BASE,
    SEVERITY_RANK,
    active,
    apply_summary,
    base_summary,
    category_order,
    category_title,
    counter,
    findings_for_patch,
    matrix_rows,
    most_already_in,
    outcome_of,
    patch_link,
    target_totals,
)
from reviewtool.report.safe import bounded, clean, spans

LIMIT = 65_000
GIT_ERROR_LINES = 20
BRIEF_FINDINGS = 5
_CODE_SPAN = rx.compile(r"(`+)(.+?)\1")
# What markdown (GitHub's included) reads as syntax in running text and in table cells;
# "_" inside a word (`trans_pgd`) is not syntax and stays as it is. Rule-written prose
# keeps "(", ")", "!" and "#" as they are: without "[" and "]" they make no link.
_SPECIAL = rx.compile(r"[\\`*\[\]()!|<>#~&]|(?<![^\W_])_|_(?![^\W_])")
_PROSE_SPECIAL = rx.compile(r"[\\`*\[\]|<>~&]|(?<![^\W_])_|_(?![^\W_])")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# "@name" pings a GitHub user or team and "#123"/"GH-123" links an issue, even inside the
# HTML of a <summary>: a zero-width joiner after "@", "#" or "GH-" keeps the text as it
# reads and stops both (code spans and blocks need none: GitHub links nothing there).
_PING = rx.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])|#(?=[0-9])|(?<![A-Za-z0-9])(?i:gh)-(?=[0-9])")
ZWJ = "\u200d"


def _line(text: str) -> str:
    """Mail text as one line, bounded, without control characters."""
    return bounded(clean(text))


def _no_ping(text: str) -> str:
    return _PING.sub(lambda m: m.group() + ZWJ, text)


def _escape(text: str, special: re.Pattern[str] = _SPECIAL) -> str:
    return special.sub(lambda m: _ENTITY.get(m.group()) or "\\" + m.group(), _no_ping(text))


def plain(text: str) -> str:
    """Text that must show as typed (subjects, names) in running text or a table cell.

    Markdown syntax is backslash-escaped and HTML characters become entities: a subject
    brings no link, image, HTML, emphasis, code span or cell break into the comment.
    """
    return _escape(_line(text))


def html(text: str) -> str:
    """Text that must show as typed inside raw HTML (`<summary>`), where markdown escapes do not work."""
    return _no_ping(_line(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def prose(text: str, table: bool = False) -> str:
    """Rule-written text that may use `code spans` (kept; pipes escaped in a table); the rest escaped."""
    out, pos = [], 0
    flat = _line(" ".join(text.split()))
    for m in _CODE_SPAN.finditer(flat):
        out.append(_escape(flat[pos:m.start()], _PROSE_SPECIAL))
        out.append(m.group(0).replace("|", "\\|") if table else m.group(0))
        pos = m.end()
    out.append(_escape(flat[pos:], _PROSE_SPECIAL))
    return "".join(out)


def code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    text = _line(text)
    longest = max((len(m) for m in rx.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(lines: Sequence[str], lang: str = "") -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside it."""
    lines = [_line(line) for line in lines]
    longest = max((len(m) for line in lines for m in rx.findall(r"`{3,}", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *lines, fence]


def _where(series: Series, ev: Evidence) -> str:
    who = "series" if ev.patch == 0 else counter(series, ev.patch)
    if ev.file is None:
        return f"[{who}] commit message" if ev.patch else f"[{who}] cover letter"
    spot = f"{ev.file}:{ev.line}" if ev.line is not None else ev.file
    return f"[{who}] {code(spot)}"


def _severity_counts(findings: Sequence[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        if active(f):
            counts[f.severity] = counts.get(f.severity, 0) + 1
    names = {"error": "error", "warning": "warning", "info": "note"}
    parts = []
    for sev in sorted(counts, key=lambda s: -SEVERITY_RANK.get(s, 0)):
        n = counts[sev]
        name = names.get(sev, sev)
        parts.append(f"{n} {name}{'s' if n > 1 else ''}")
    return ", ".join(parts) or "no findings"


def _header(series: Series, check: CheckResult, apply: ApplyResult | None, link_base: str) -> list[str]:
    if series.cover is not None:
        prefix = f"PATCH v{series.revision}" if series.revision > 1 else "PATCH"
        title = f"[{prefix} 0/{series.expected}] {series.cover.subject}"
    else:  # no cover letter: the first patch's own subject, never an invented 0/N one
        title = series.patches[0].full_subject if series.patches else series.subject
    info = [
        f"series:     v{series.revision}, {len(series.patches)}/{series.expected} patches, "
        f"{series.author}, {series.date[:10]}",
        f"patch link: {patch_link(series, link_base=link_base)}",
    ]
    if apply is not None:
        info.append(f"base:       {base_summary(apply)}")
        info.append(f"onto:       {apply.onto} ({apply.onto_commit[:12]})")
        info.append(f"result:     {apply_summary(apply)}")
        if most_already_in(apply):
            info.append(f"            {most_already_in(apply)}")
    elif series.base_commit:
        info.append(f"base:       {series.base_commit[:12]} (base-commit: in the series; not applied)")
    out = [f"### reviewtool: {plain(title)}", "", *fenced(info, "text"), ""]
    for w in series.warnings:
        out.append(f"> **Note:** {plain(w)}")
    if series.warnings:
        out.append("")
    if apply is not None:
        failed = [p for p in apply.patches if p.outcome == "conflict"]
        for p in failed:
            paths = ", ".join(code(x) for x in p.paths) or "unknown files"
            out.append(f"**Did not apply:** [{counter(series, p.index)}] {plain(p.subject)} ({paths})")
            out.append("")
            if p.git_error:
                err = p.git_error.rstrip("\n").split("\n")
                if len(err) > GIT_ERROR_LINES:
                    err = [*err[:GIT_ERROR_LINES], f"[... {len(err) - GIT_ERROR_LINES} more lines]"]
                out.extend(fenced(err, "text"))
                out.append("")
        upstream = [p for p in apply.patches if p.outcome == "already-upstream"]
        for p in upstream:
            where = f" as {p.upstream_commit[:12]}" if p.upstream_commit else ""
            out.append(f"**Already upstream{where}:** [{counter(series, p.index)}] {plain(p.subject)}")
        if upstream:
            out.append("")
    todo = [i for i in check.checklist if i.status != "looks-ok"]
    out.append(f"**Summary:** {_severity_counts(check.findings)}; "
               f"{len(todo)} of {len(check.checklist)} checklist items need review.")
    out.append("")
    return out


def _checklist(series: Series, items: Sequence[ChecklistItem]) -> list[str]:
    if not items:
        return ["#### Reviewer checklist", "", "Nothing to ask: no rule found anything in this series.", ""]
    out = ["#### Reviewer checklist", ""]
    for cat in category_order(i.category for i in items):
        out.append(f"**{plain(category_title(cat))}** ({code(cat)})")
        out.append("")
        for item in (i for i in items if i.category == cat):
            where = "; ".join(_where(series, e) for e in item.evidence)
            if item.status == "looks-ok":
                reason = f" _Looks OK: {prose(item.reason)}_" if item.reason else " _Looks OK._"
                out.append(f"- [x] {prose(item.title)}: {prose(item.question)}{reason} ({where})")
            else:
                out.append(f"- [ ] **{prose(item.title)}**: {prose(item.question)} ({where})")
        out.append("")
    return out


def _history(ledger: Ledger | None) -> list[str]:
    """The review ledger: the revisions found, then each comment with its status."""
    if ledger is None:
        return []
    revs = ", ".join(f"v{r.revision} ({r.date[:10]}, {code('<' + r.msgid + '>')})" for r in ledger.revisions)
    out = ["#### Earlier revisions", "", prose(f"Found: {revs}.") if revs else "No earlier revision found.", ""]
    if ledger.comments:
        out += ["| status | v | reviewer | where | comment |", "|---|---|---|---|---|"]
    for c in ledger.comments:
        where = f"{c.file}:{c.line}" if c.file and c.line else (c.file or f"patch {c.patch}")
        words = " ".join(c.text.split())
        words = words if len(words) <= 120 else words[:117] + "..."
        who = c.from_.split(" <")[0]
        out.append(f"| {c.status} | {c.revision} | {prose(who, table=True)} | {code(where)} | "
                   f"{prose(words, table=True)} |")
    return out + [""] if ledger.comments else out


def _finding(series: Series, f: Finding, index: int, with_code: bool) -> list[str]:
    tags = [f"**{f.severity}**", code(f.rule), prose(f.title), f"({code(f.category)})"]
    if f.pre_existing:
        tags.append("_pre-existing_")
    if f.status == "looks-ok":
        tags.append(f"_looks OK: {prose(f.reason)}_" if f.reason else "_looks OK_")
    if f.source != "reviewtool":
        tags.append(f"[{plain(f.source)}]")
    out = ["- " + " ".join(tags) + "  ", f"  {prose(f.message)}  ", f"  **Ask:** {prose(f.question)}"]
    for ev in f.evidence:
        if ev.patch != index:
            continue
        out.append(f"  {_where(series, ev)}")
        if with_code and ev.lines:
            lang = "diff" if all(x[:1] in "+- " for x in ev.lines) else "text"
            out.extend("  " + x for x in fenced(list(ev.lines), lang))
    return out


def _patch_section(series: Series, check: CheckResult, apply: ApplyResult | None, index: int,
                   subject: str, with_code: bool, brief: bool, most: int | None) -> list[str]:
    findings = findings_for_patch(check, index)
    oc = outcome_of(apply, index)
    state = f"{oc.outcome}, " if oc is not None else ""
    label = "series" if index == 0 else counter(series, index)
    summary = f"[{label}] {html(subject)}: {state}{_severity_counts(findings)}"
    out = ["<details>", f"<summary>{summary}</summary>", ""]
    if oc is not None and (oc.detail or oc.outcome == "conflict"):
        out.append(f"Apply: {plain(oc.outcome)}" + (f" ({plain(oc.detail)})" if oc.detail else ""))
        out.append("")
    if not findings:
        out.append("No findings.")
    shown = findings if most is None else [f for f in findings if active(f)][:most]
    for f in shown:
        if brief:
            out.append(f"- **{f.severity}** {code(f.rule)} {prose(f.question)}")
        else:
            out.extend(_finding(series, f, index, with_code))
    if len(shown) < len(findings):
        out.append(f"- _and {len(findings) - len(shown)} more_")
    out += ["", "</details>", ""]
    return out


def _patches(series: Series, check: CheckResult, apply: ApplyResult | None, with_code: bool,
             brief: bool, most: int | None, details: bool) -> list[str]:
    out = ["#### Patches", "", "| # | patch | apply | findings |", "|---|---|---|---|"]
    for p in series.patches:
        oc = outcome_of(apply, p.index)
        out.append(f"| {counter(series, p.index)} | {plain(p.subject)} | "
                   f"{oc.outcome if oc else 'not applied'} | "
                   f"{_severity_counts(findings_for_patch(check, p.index))} |")
    width = len(str(series.expected))
    for first, last in spans(series.missing):  # `[PATCH 1/5000]` with 2 patches: one row, not 4998
        if first == last:
            out.append(f"| {counter(series, first)} | _missing from the thread_ | | |")
        else:
            out.append(f"| {first:0{width}d}-{last:0{width}d}/{series.expected} | "
                       f"_missing from the thread ({last - first + 1} patches)_ | | |")
    out.append("")
    if not details:
        return out
    if findings_for_patch(check, 0):
        out += _patch_section(series, check, apply, 0, "the series as a whole", with_code, brief, most)
    for p in series.patches:
        if brief and not any(active(f) for f in findings_for_patch(check, p.index)):
            continue
        out += _patch_section(series, check, apply, p.index, p.subject, with_code, brief, most)
    return out


def _matrix(matrix: RebaseMatrix | None) -> list[str]:
    """The series onto several targets: patch x target, each target's count, the best one."""
    if matrix is None or len(matrix.results) < 2:
        return []
    results = matrix.results
    total = max((r.expected or len(r.patches) for r in results), default=0)
    out = ["#### Targets", "", "| # | patch | " + " | ".join(code(r.onto) for r in results) + " |",
           "|---|---|" + "---|" * len(results)]
    for n, subject, cells in matrix_rows(results):
        out.append(f"| {n:02d}/{total:02d} | {plain(subject)} | " + " | ".join(cells) + " |")
    out.append("| | **all** | " + " | ".join(target_totals(r) for r in results) + " |")
    out += ["", f"**{plain(matrix.best_reason)}.**"]
    for r in results:
        most = most_already_in(r)
        if most:
            out.append(f"{code(r.onto)}: {plain(most)}")
    return [*out, ""]


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           link_base: str = DEFAULT_LINK_BASE, limit: int = LIMIT, matrix: RebaseMatrix | None = None) -> str:
    """The whole comment as markdown, shorter than `limit` characters (with MATRIX, the
    series onto several targets, the patch x target table after the header)."""
    head = _header(series, check, apply, link_base) + _matrix(matrix) + _checklist(series, check.checklist)
    head += _history(check.history)
    lines: list[str] = []
    # Ever shorter shapes until one fits: (code lines, one line per finding, findings per
    # patch, per-patch sections, the note that says what was left out).
    shapes: tuple[tuple[bool, bool, int | None, bool, str], ...] = (
        (True, False, None, True, ""),
        (False, False, None, True, "_Code lines left out to keep this comment short; see the full report._"),
        (False, True, None, True, "_Shortened: one line per finding, patches without findings left out; "
                                  "see the full report._"),
        (False, True, BRIEF_FINDINGS, True, f"_Shortened: at most {BRIEF_FINDINGS} findings per patch; "
                                            "see the full report._"),
        (False, True, None, False, "_Per-patch findings left out to keep this comment short; "
                                   "see the full report._"),
    )
    for with_code, brief, most, details, note in shapes:
        lines = head + _patches(series, check, apply, with_code, brief, most, details) + \
            ([note, ""] if note else [])
        text = "\n".join(lines).rstrip("\n") + "\n"
        if len(text) <= limit:
            return text
    # Still too long (a huge checklist): whole lines up to the limit, an open fence or
    # <details> closed (with its own fence: a shorter one would not close it).
    cut = "_Cut at the comment size limit; see the full report._"
    kept: list[str] = []
    size = len(cut) + 16
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    while kept and size + sum(len(x) + 1 for x in _closers(kept)) > limit:
        size -= len(kept.pop()) + 1
    kept += _closers(kept)
    return "\n".join([*kept, "", cut]) + "\n"


def _closers(lines: Sequence[str]) -> list[str]:
    """The lines that close what `lines` left open: a code fence, then <details> sections."""
    fence: str | None = None
    details = 0
    for line in lines:
        text = line.strip()
        if fence is not None:
            if text.startswith(fence) and not text.strip("`"):
                fence = None
        elif text.startswith("```"):
            fence = text[: len(text) - len(text.lstrip("`"))]
        elif text == "<details>":
            details += 1
        elif text == "</details>":
            details -= 1
    return ([fence] if fence else []) + ["</details>"] * max(details, 0)
