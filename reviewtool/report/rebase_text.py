"""An ApplyResult as text: one line per patch, the summary, the base and the result; or the
matrix of several targets (`render_matrix`).

Short by default, for an 80-column terminal: one line per patch, then what the first
conflict says (its failed hunks and git's own words). `verbose` adds every patch's detail
and every git error. JSON keeps everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewtool.model import ApplyResult, PatchOutcome, RebaseMatrix, Series
from reviewtool.report.console import capture
from reviewtool.report.quote import apply_summary, matrix_rows, most_already_in
from reviewtool.report.safe import for_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# rich is imported only when text is printed: `--json` output does not pay for it.

STYLE = {
    "clean": "green", "offset": "green", "3way": "yellow", "conflict": "bold red",
    "skipped": "magenta", "already-upstream": "cyan", "already-applied": "cyan", "missing": "magenta",
    "not-applicable": "dim",
    # matrix cells
    "already": "cyan", "n/a": "dim",
}
APPLIED = ("clean", "offset", "3way")
HOW = {
    "--base": "given with --base",
    "base-commit": "from the series' base-commit:",
    "guessed": "guessed from the patches' blob ids",
    "onto": "none known: applied directly onto the target",
}
GIT_LINES = 12  # lines of git's error shown for the first conflict (all with --verbose)


def _num(index: int, total: int) -> str:
    width = max(2, len(str(total)))
    return f"{index:0{width}d}/{total:0{width}d}"


def summary_line(result: ApplyResult, total: int | None = None) -> str:
    """'6/10 applied (3 clean, 2 offset, 1 3way), 1 conflict (06/10 arch/arm64/Kconfig), ...':
    every patch N of M in exactly one count."""
    total = total or result.expected or len(result.patches)
    by: dict[str, list[PatchOutcome]] = {}
    for p in result.patches:
        by.setdefault(p.outcome, []).append(p)
    applied = sum(len(by.get(o, [])) for o in APPLIED)
    kinds = ", ".join(f"{len(by[o])} {o}" for o in APPLIED if by.get(o))
    parts = [f"{applied}/{total} applied" + (f" ({kinds})" if kinds else "")]
    if by.get("conflict"):
        items = ", ".join(f"{_num(p.index, total)} {' '.join(p.paths)}" for p in by["conflict"])
        parts.append(f"{len(by['conflict'])} conflict{'s' if len(by['conflict']) > 1 else ''} ({items})")
    for outcome, name in (("skipped", "skipped"), ("already-applied", "already in the target"),
                          ("missing", "missing"), ("not-applicable", "not applicable")):
        if by.get(outcome):
            items = ", ".join(_num(p.index, total) for p in by[outcome])
            parts.append(f"{len(by[outcome])} {name} ({items})")
        if outcome == "skipped" and by.get("already-upstream"):
            items = ", ".join(_upstream_ref(p, total) for p in by["already-upstream"])
            parts.append(f"{len(by['already-upstream'])} already upstream ({items})")
    return ", ".join(parts)


def _upstream_ref(p: PatchOutcome, total: int) -> str:
    if not p.upstream_commit:
        return f"{_num(p.index, total)} already in the target"
    subject = p.detail.split('"', 1)[1].rstrip('"') if '"' in p.detail else p.subject
    return f'{_num(p.index, total)} = {p.upstream_commit[:12]} "{subject}"'


def _text(text: str, style: str = "") -> Text:
    """A line for rich: the text as it is (never markup), with mail text made safe."""
    from rich.text import Text

    return Text(for_terminal(text), style=style)


def _field(out: Console, label: str, text: str, style: str = "", indent: int | None = None) -> None:
    """`label` then `text`, wrapped to the console's width with a hanging indent (the label's
    width, or `indent`): prose never wraps back to column 0."""
    import textwrap

    hang = len(label) if indent is None else indent
    rows = textwrap.wrap(text, max(20, out.width - len(label)), break_long_words=False,
                         break_on_hyphens=False) or [""]
    if len(rows) > 1:
        rows = rows[:1] + textwrap.wrap(" ".join(rows[1:]), max(20, out.width - hang),
                                        break_long_words=False, break_on_hyphens=False)
    out.print(_text(label + rows[0], style=style), soft_wrap=True)
    for row in rows[1:]:
        out.print(_text(" " * hang + row, style=style), soft_wrap=True)


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[:max(0, room - 1)] + "…"


def render_result(result: ApplyResult, series: Series | None = None, *, tty: bool = False,
                  branch_note: str | None = None, verbose: int = 0) -> str:
    """The whole report: header, one line per patch, the first conflict, summary and result."""
    out, buf = capture(tty)
    total = result.expected or (series.expected if series else 0) or len(result.patches)
    if series is not None:
        _field(out, "Series: ", f"{series.subject} (v{series.revision}, {len(series.patches)} of {total} "
                                f"patch{'es' if total != 1 else ''})")
    _field(out, "Onto:   ", f"{result.onto} ({result.onto_commit[:12]})")
    _field(out, "Base:   ", _base_sentence(result))
    if result.scanned:
        _field(out, "Read:   ", result.scanned, style="dim")
    out.print()
    first = next((p for p in result.patches if p.outcome == "conflict"), None)
    for p in result.patches:
        _render_patch(p, total, out, verbose=verbose)
    if first is not None and not verbose:
        out.print()
        out.print(_text(f"First conflict, {_num(first.index, total)}:", style="bold"))
        _details(first, out, "  ", git_lines=GIT_LINES)
    out.print()
    _field(out, "", summary_line(result, total), style="bold", indent=2)
    most = most_already_in(result)
    if most:
        _field(out, "", most, style="cyan", indent=2)
    if result.result_commit:
        out.print(_text(f"Result: commit {result.result_commit[:12]} (tree {(result.result_tree or '')[:12]})"))
    if result.branch:
        out.print(_text(f"Branch: {result.branch} created at {result.result_commit[:12] if result.result_commit else '-'}"))
    if branch_note:
        _field(out, "", branch_note, style="yellow", indent=2)
    return buf.getvalue()


def _base_sentence(result: ApplyResult) -> str:
    base = result.base
    text = base.detail or HOW.get(base.how, base.how)
    if base.how == "onto":  # "none known, so ...": a sentence of its own
        text = text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return text


def _render_patch(p: PatchOutcome, total: int, out: Console, *, verbose: int) -> None:
    head = f"  {_num(p.index, total)}  "
    line = _text(head)
    line.append(f"{p.outcome:<17}", style=STYLE.get(p.outcome, ""))
    line.append(for_terminal(_fit(p.subject, out.width - len(head) - 17)))
    out.print(line, soft_wrap=True)
    if verbose:
        _details(p, out, " " * (len(head) + 17), git_lines=None)


def _details(p: PatchOutcome, out: Console, indent: str, *, git_lines: int | None) -> None:
    """The detail, the failed hunks and git's words (its first GIT_LINES lines; None: all)."""
    if p.detail:
        _field(out, indent, p.detail, style="dim", indent=len(indent) + 2)
    for h in p.failed_hunks:
        where = f"lines {h.start}-{h.start + h.length - 1}" if h.length else "(file not in the target)"
        out.print(_text(f"{indent}failed hunk: {h.path} {where}  {h.header}", style="red"), soft_wrap=False)
    if p.git_error and p.outcome in ("conflict", "skipped"):
        out.print(_text(f"{indent}git said:", style="dim"))
        lines = for_terminal(p.git_error, multiline=True).strip("\n").split("\n")
        if git_lines is not None and len(lines) > git_lines:
            lines = [*lines[:git_lines], f"[... {len(lines) - git_lines} more lines: --verbose or --json]"]
        for ln in lines:
            out.print(_text(f"{indent}  {ln}", style="dim"))


def render_matrix(matrix: RebaseMatrix, series: Series | None = None, *, tty: bool = False,
                  verbose: int = 0) -> str:
    """Patch x target: one row per patch N of M, one column per target, a foot with each
    target's count, the line naming the best target, then each target's base."""
    out, buf = capture(tty)
    results = matrix.results
    total = max((r.expected or len(r.patches) for r in results), default=0)
    if series is not None:
        _field(out, "Series: ", f"{series.subject} (v{series.revision}, {len(series.patches)} of {total} "
                                f"patch{'es' if total != 1 else ''})")
    widths = [max(8, len(r.onto)) for r in results]
    lead = 2 + len(_num(total, total)) + 2
    head = _text(" " * lead)
    for r, w in zip(results, widths, strict=True):
        head.append(f"{_fit(r.onto, w):<{w}}  ", style="bold")
    out.print(head, soft_wrap=True)
    room = out.width - lead - sum(w + 2 for w in widths)
    for n, subject, cells in matrix_rows(results):
        line = _text(f"  {_num(n, total)}  ")
        for cell, w in zip(cells, widths, strict=True):
            line.append(f"{cell:<{w}}  ", style=STYLE.get(cell, ""))
        line.append(for_terminal(_fit(subject, room)) if room > 8 else "")
        out.print(line, soft_wrap=True)
    out.print()
    for r in results:
        _field(out, f"{r.onto}: ", apply_summary(r), indent=2)
    _field(out, "", matrix.best_reason + ".", style="bold", indent=2)
    for r in results:
        most = most_already_in(r)
        if most:
            _field(out, f"{r.onto}: ", most, style="cyan", indent=2)
    out.print()
    for r in results:
        _field(out, f"{r.onto} ({r.onto_commit[:12]}): ", f"base {r.base.detail or HOW.get(r.base.how)}",
               style="dim", indent=2)
        if verbose:
            _field(out, "  read: ", r.scanned, style="dim", indent=4)
            for p in r.patches:
                if p.outcome not in APPLIED and p.detail:
                    _field(out, f"  {_num(p.index, total)} {p.outcome}: ", p.detail, style="dim", indent=4)
    if not verbose:
        out.print(_text("Per patch and per target: --verbose, or --json.", style="dim"))
    return buf.getvalue()
