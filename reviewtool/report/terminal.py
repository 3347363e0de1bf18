"""Terminal output of `reviewtool check` and `reviewtool rules` (rich; plain when not a TTY).

Layout: a summary line, the checklist grouped by category (question, status, where),
then the findings patch by patch with their code lines, then notes. Pre-existing
findings and dropped ones (fixed later in the series) are listed only with --verbose.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from reviewtool.model import CATEGORIES, ApplyResult, ChecklistItem, CheckResult, Evidence, Finding, Series
from reviewtool.report.safe import for_terminal, ranges

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "looks-ok": "green"}
_MAX_PLACES = 6  # places listed per checklist item unless --verbose
_MAX_CODE = 8  # code lines shown per piece of evidence unless --verbose


class _Out:
    """Lines of styled text: through rich on a terminal, plain strings otherwise.

    Plain output skips rich altogether (importing and rendering through it is most of the
    cost of a check's report), with tabs expanded the way rich does. Every part goes
    through `for_terminal` (much of it is mail text) and is never read as rich markup.
    """

    def __init__(self, tty: bool, width: int | None = None, verbose: int = 0) -> None:
        self.tty = tty
        self.width = width  # None: lines as long as they are (a pipe); else wrap prose, cut code
        self.verbose = verbose
        self.lines: list[str] = []
        self.console: Any = None
        if tty:
            from rich.console import Console

            self.buf = io.StringIO()
            self.console = Console(file=self.buf, force_terminal=True, highlight=False, soft_wrap=True,
                                   emoji=False, markup=False, width=200)

    def line(self, *parts: str | tuple[str, str]) -> None:
        if self.console is None:
            self.lines.append("".join(for_terminal(p if isinstance(p, str) else p[0])
                                      for p in parts).expandtabs(8))
            return
        from rich.text import Text

        text = Text()
        for p in parts:
            if isinstance(p, tuple):
                text.append(for_terminal(p[0]), style=p[1] or None)
            else:
                text.append(for_terminal(p))
        self.console.print(text)

    def prose(self, first: str, text: str | tuple[str, str], indent: int, *lead: str | tuple[str, str]) -> None:
        """`first`, the `lead` parts, then `text` wrapped to the width, continued `indent` columns in."""
        body, style = (text, "") if isinstance(text, str) else text
        used = len(first) + sum(len(p if isinstance(p, str) else p[0]) for p in lead)
        if self.width is None or used + len(body) <= self.width:
            self.line(first, *lead, (body, style))
            return
        import textwrap

        room = max(20, self.width - used)
        rows = textwrap.wrap(" ".join(body.split()), room, break_long_words=False, break_on_hyphens=False) or [""]
        self.line(first, *lead, (rows[0], style))
        rest = " ".join(rows[1:])
        for row in textwrap.wrap(rest, max(20, self.width - indent), break_long_words=False,
                                 break_on_hyphens=False):
            self.line(" " * indent, (row, style))

    def code(self, first: str, text: str, style: str = "") -> None:
        """A line of code: cut to the width with an ellipsis (whole with --verbose)."""
        if self.width is not None and not self.verbose:
            shown = (first + text).expandtabs(8)
            if len(shown) > self.width:
                text = shown[len(first):max(len(first) + 10, self.width - 1)] + "…"
        self.line(first, (text, style))

    @property
    def empty(self) -> bool:
        return not self.lines if self.console is None else not self.buf.tell()

    def text(self) -> str:
        if self.console is None:
            return "".join(ln + "\n" for ln in self.lines)
        return str(self.buf.getvalue())


def _counter(series: Series, index: int) -> str:
    total = series.expected or len(series.patches)
    return f"{index:0{len(str(total))}d}/{total}"


def _where(series: Series, ev: Evidence) -> str:
    head = "series" if ev.patch == 0 else _counter(series, ev.patch)
    if ev.file:
        head += f" {ev.file}" + (f":{ev.line}" if ev.line else "")
    return head


def _counted(f: Finding) -> bool:
    return not f.pre_existing and f.status != "looks-ok"


def summary_line(series: Series, check: CheckResult) -> str:
    """One line: how many patches, findings by severity, checklist items, left-out findings."""
    counted = [f for f in check.findings if _counted(f)]
    by_sev = {s: sum(1 for f in counted if f.severity == s) for s in ("error", "warning", "info")}
    sev = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in by_sev.items() if n)
    parts = [f"{len(series.patches)} patch{'es' if len(series.patches) != 1 else ''}",
             f"{len(counted)} finding{'s' if len(counted) != 1 else ''}" + (f" ({sev})" if sev else ""),
             f"{len(check.checklist)} checklist item{'s' if len(check.checklist) != 1 else ''}"]
    ok = sum(1 for f in check.findings if f.status == "looks-ok" and not f.pre_existing)
    pre = sum(1 for f in check.findings if f.pre_existing)
    dropped = len(check.dropped)
    if ok:
        parts.append(f"{ok} looks ok")
    if pre:
        parts.append(f"{pre} pre-existing")
    if dropped:
        parts.append(f"{dropped} fixed later in the series")
    return " · ".join(parts)


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           verbose: int = 0, tty: bool = False, width: int | None = None) -> str:
    """The whole check report as text (with colour codes only when tty is True). With a
    `width`, prose wraps with a hanging indent and code lines are cut with an ellipsis
    (whole with --verbose); without one, lines are as long as they are."""
    out = _Out(tty, width, verbose)
    title = series.cover.subject if series.cover else series.subject
    out.prose("", title, 2, ("reviewtool check: ", "bold"))
    out.prose("", summary_line(series, check), 2)
    if series.missing:
        n = len(series.missing)
        out.prose("", f"patch{'es' if n != 1 else ''} {ranges(series.missing)} of {series.expected} "
                      f"{'are' if n != 1 else 'is'} not in the thread", 2)
    if apply is not None:
        base = apply.base.commit[:12] if apply.base.commit else "?"
        out.line(f"rebased onto {apply.onto} ({apply.onto_commit[:12]}), base {base} ({apply.base.how})")
    _checklist(out, series, check.checklist, verbose)
    _per_patch(out, series, check.findings, verbose)
    _notes(out, [*check.notes, *(f"dropped: {d.describe()}" for d in check.dropped if verbose)], verbose)
    return out.text()


def _checklist(out: _Out, series: Series, items: Sequence[ChecklistItem], verbose: int) -> None:
    out.line()
    out.line(("Checklist", "bold underline"))
    if not items:
        out.line("  nothing to ask: no rule found anything in this series")
        return
    current = None
    for item in items:
        if item.category != current:
            current = item.category
            out.line()
            out.line((f"{CATEGORIES.get(item.category, item.category)} [{item.category}]", "bold"))
        mark = ("[ok]", _STYLE["looks-ok"]) if item.status == "looks-ok" else ("[  ]", "bold")
        out.prose("  ", (item.question, "bold"), 7, mark, " ")
        out.prose("       ", f"{item.title} ({', '.join(item.rules)})", 7)
        if item.status == "looks-ok" and item.reason:
            out.prose("       ", (item.reason, _STYLE["looks-ok"]), 7, "looks ok: ")
        places = item.evidence if verbose else item.evidence[:_MAX_PLACES]
        for ev in places:
            first = next((ln for ln in ev.lines if ln[:1] in "+-"), ev.lines[0] if ev.lines else "")
            out.code(f"       - {_where(series, ev)}" + ("  " if first.strip() else ""), first.strip())
        if len(places) < len(item.evidence):
            out.line(f"       ... and {len(item.evidence) - len(places)} more (--verbose lists them)")


def _per_patch(out: _Out, series: Series, findings: Iterable[Finding], verbose: int) -> None:
    shown = [f for f in findings if verbose or not f.pre_existing]
    by_patch: dict[int, list[Finding]] = {}
    for f in shown:
        patch = f.evidence[0].patch if f.evidence else 0
        by_patch.setdefault(patch, []).append(f)
    out.line()
    out.line(("Findings by patch", "bold underline"))
    subjects = {p.index: p.subject for p in series.patches}
    if by_patch.get(0):
        out.line()
        out.line(("[series]", "bold"))
        _findings(out, series, by_patch[0], verbose)
    for index in sorted(set(subjects) | {i for i in by_patch if i}):
        out.line()
        out.line((f"[{_counter(series, index)}] ", "bold"), subjects.get(index, "(missing patch)"))
        if not by_patch.get(index):
            out.line("  no findings")
            continue
        _findings(out, series, by_patch[index], verbose)


def _findings(out: _Out, series: Series, findings: Sequence[Finding], verbose: int) -> None:
    for f in findings:
        tags = []
        if f.pre_existing:
            tags.append("pre-existing")
        if f.status == "looks-ok":
            tags.append("looks ok")
        if f.source != "reviewtool":
            tags.append(f.source)
        tag = f" ({', '.join(tags)})" if tags else ""
        ok = f.status == "looks-ok"  # a finding that looks ok is not a warning: it is not labelled one
        label = "ok" if ok else f.severity
        style = _STYLE["looks-ok"] if ok else _STYLE.get(f.severity, "")
        out.prose("  ", f" {f.rule}{tag}: {f.message}", 10, (f"{label:<7}", style))
        if f.reason:
            out.prose("          ", f.reason, 10)
        for ev in f.evidence:
            out.line(f"          {_where(series, ev)}")
            lines = ev.lines if verbose else ev.lines[:_MAX_CODE]
            for ln in lines:
                style = "green" if ln.startswith("+") else "red" if ln.startswith("-") else "dim"
                out.code("            ", ln, style)
            if len(lines) < len(ev.lines):
                out.line(f"            ... {len(ev.lines) - len(lines)} more lines")


def _notes(out: _Out, notes: Sequence[str], verbose: int) -> None:
    shown = list(notes)
    if not shown:
        return
    out.line()
    out.line(("Notes", "bold underline"))
    for n in shown:
        out.prose("  - ", n, 4)


# --- rules --------------------------------------------------------------------------------------

class RuleDocLike(Protocol):
    """A rule's documentation sections, as the rules give them."""

    what: str
    why: str
    example: str
    not_flagged: str


class RuleLike(Protocol):
    """What the rule listing and a rule's documentation show (check's Rule has all of it)."""

    id: str
    title: str
    severity: str
    category: str
    scope: str
    pack: str
    analyzer: str | None
    paths: tuple[str, ...]
    min_added: int
    question: str
    message: str

    @property
    def doc(self) -> RuleDocLike: ...


def render_rules(rules: Sequence[RuleLike], tty: bool = False) -> str:
    """One line per rule: id, severity, category, title; grouped by pack."""
    out = _Out(tty)
    width = max((len(r.id) for r in rules), default=10)
    pack = None
    for r in rules:
        if r.pack != pack:
            pack = r.pack
            if not out.empty:
                out.line()
            out.line((pack, "bold"))
        kind = f"analyzer:{r.analyzer}" if r.analyzer else "pattern"
        out.line(f"  {r.id:<{width}}  ", (f"{r.severity:<7}", _STYLE[r.severity]),
                 f"  {r.category:<21}  {r.title}  [{kind}]")
    out.line()
    out.line(f"{len(rules)} rules; 'reviewtool rules show ID' prints a rule's documentation")
    return out.text()


def render_rule_doc(rule: RuleLike, tty: bool = False) -> str:
    """A rule's documentation, generated from its data: What it checks, Why it matters, ..."""
    out = _Out(tty)
    out.line((rule.id, "bold"), f": {rule.title}")
    out.line(f"severity {rule.severity} · category {rule.category} · scope {rule.scope} · {rule.pack}")
    if rule.analyzer:
        out.line(f"analyzer: reviewtool/check/analyzers/{rule.analyzer}.py")
    if rule.paths:
        out.line(f"paths: {', '.join(rule.paths)}")
    for key in ("functions", "added", "removed", "context", "commit_message", "unless", "unless_message"):
        patterns = getattr(rule, key)
        if patterns:
            out.line(f"{key}: " + "  ".join(patterns))
    if rule.min_added:
        out.line(f"min_added: {rule.min_added}")
    sections = (("What it checks", rule.doc.what), ("Why it matters", rule.doc.why),
                ("Example", rule.doc.example), ("Not flagged", rule.doc.not_flagged),
                ("Question asked", rule.question), ("Message", rule.message))
    for head, body in sections:
        out.line()
        out.line((head, "bold underline"))
        for ln in body.split("\n"):
            style = ("green" if ln.startswith("+") else "red" if ln.startswith("-") else "") \
                if head == "Example" else ""
            out.line("  ", (ln, style) if style else ln)
    return out.text()
