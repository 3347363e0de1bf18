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

from reviewtool.model import ApplyResult, ChecklistItem, CheckResult, Evidence, Finding, Series
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
    outcome_of,
    patch_link,
)

LIMIT = 65_000
GIT_ERROR_LINES = 20
BRIEF_FINDINGS = 5
_PLAIN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def plain(text: str) -> str:
    """Text that must show as typed (subjects, names): markdown and HTML characters escaped."""
    return _PLAIN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def prose(text: str, table: bool = False) -> str:
    """Rule-written text that may use `code spans`: only HTML and (in tables) pipes escaped."""
    out, pos = [], 0
    flat = " ".join(text.split())
    for m in _CODE_SPAN.finditer(flat):
        out.append(_escape_html(flat[pos:m.start()], table))
        out.append(m.group(0).replace("|", "\\|") if table else m.group(0))
        pos = m.end()
    out.append(_escape_html(flat[pos:], table))
    return "".join(out)


def _escape_html(text: str, table: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|") if table else text


def code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(lines: Sequence[str], lang: str = "") -> list[str]:
    """A fenced block whose fence is longer than any backtick run inside it."""
    longest = max((len(m) for line in lines for m in re.findall(r"`{3,}", line)), default=0)
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
    first = series.cover.subject if series.cover else series.subject
    title = f"[PATCH v{series.revision} 0/{series.expected}] {first}" if series.revision > 1 else \
        f"[PATCH 0/{series.expected}] {first}"
    info = [
        f"series:     v{series.revision}, {len(series.patches)}/{series.expected} patches, "
        f"{series.author}, {series.date[:10]}",
        f"patch link: {patch_link(series, link_base=link_base)}",
    ]
    if apply is not None:
        info.append(f"base:       {base_summary(apply)}")
        info.append(f"onto:       {apply.onto} ({apply.onto_commit[:12]})")
        info.append(f"result:     {apply_summary(apply)}")
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
    summary = f"[{label}] {plain(subject)}: {state}{_severity_counts(findings)}"
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
        out.append(f"| {counter(series, p.index)} | {prose(p.subject, table=True).replace('`', '')} | "
                   f"{oc.outcome if oc else 'not applied'} | "
                   f"{_severity_counts(findings_for_patch(check, p.index))} |")
    for i in series.missing:
        out.append(f"| {counter(series, i)} | _missing from the thread_ | | |")
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


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           link_base: str = DEFAULT_LINK_BASE, limit: int = LIMIT) -> str:
    """The whole comment as markdown, shorter than `limit` characters."""
    head = _header(series, check, apply, link_base) + _checklist(series, check.checklist)
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
    # Still too long (a huge checklist): whole lines up to the limit, open fences closed.
    cut = "_Cut at the comment size limit; see the full report._"
    kept: list[str] = []
    size = len(cut) + 16
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if sum(1 for x in kept if x.startswith("```")) % 2:
        kept.append("```")
    return "\n".join([*kept, "", cut]) + "\n"
