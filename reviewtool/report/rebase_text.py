"""An ApplyResult as text: per-patch outcomes, the summary line, the base and the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewtool.model import ApplyResult, PatchOutcome, Series
from reviewtool.report.console import capture
from reviewtool.report.safe import for_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# rich is imported only when text is printed: `--json` output does not pay for it.

STYLE = {
    "clean": "green", "offset": "green", "3way": "yellow", "conflict": "bold red",
    "skipped": "magenta", "already-upstream": "cyan", "not-applicable": "dim",
}
APPLIED = ("clean", "offset", "3way")
HOW = {
    "--base": "given with --base",
    "base-commit": "from the series' base-commit:",
    "guessed": "guessed from the patches' blob ids",
    "onto": "none known: applied directly onto the target",
}


def _num(p: PatchOutcome, total: int) -> str:
    width = max(2, len(str(total)))
    return f"{p.index:0{width}d}/{total:0{width}d}"


def summary_line(result: ApplyResult, total: int | None = None) -> str:
    """'6/10 applied (3 clean, 2 offset, 1 3way), 1 conflict (06/10 arch/arm64/Kconfig), ...'."""
    total = total or len(result.patches)
    by: dict[str, list[PatchOutcome]] = {}
    for p in result.patches:
        by.setdefault(p.outcome, []).append(p)
    applied = sum(len(by.get(o, [])) for o in APPLIED)
    kinds = ", ".join(f"{len(by[o])} {o}" for o in APPLIED if by.get(o))
    parts = [f"{applied}/{total} applied" + (f" ({kinds})" if kinds else "")]
    if by.get("conflict"):
        items = ", ".join(f"{_num(p, total)} {' '.join(p.paths)}" for p in by["conflict"])
        parts.append(f"{len(by['conflict'])} conflict{'s' if len(by['conflict']) > 1 else ''} ({items})")
    if by.get("skipped"):
        items = ", ".join(_num(p, total) for p in by["skipped"])
        parts.append(f"{len(by['skipped'])} skipped ({items})")
    if by.get("already-upstream"):
        items = ", ".join(_upstream_ref(p, total) for p in by["already-upstream"])
        parts.append(f"{len(by['already-upstream'])} already upstream ({items})")
    if by.get("not-applicable"):
        items = ", ".join(_num(p, total) for p in by["not-applicable"])
        parts.append(f"{len(by['not-applicable'])} not applicable ({items})")
    return ", ".join(parts)


def _upstream_ref(p: PatchOutcome, total: int) -> str:
    if not p.upstream_commit:
        return f"{_num(p, total)} already in the target"
    subject = p.detail.split('"', 1)[1].rstrip('"') if '"' in p.detail else p.subject
    return f'{_num(p, total)} = {p.upstream_commit[:12]} "{subject}"'


def _text(text: str, style: str = "") -> Text:
    """A line for rich: the text as it is (never markup), with mail text made safe."""
    from rich.text import Text

    return Text(for_terminal(text), style=style)


def render_result(result: ApplyResult, series: Series | None = None, *, tty: bool = False,
                  branch_note: str | None = None) -> str:
    """The whole report: header, one block per patch, summary, base and result."""
    out, buf = capture(tty)
    total = (series.expected if series else 0) or len(result.patches)
    if series is not None:
        out.print(_text(f"Series: {series.subject} (v{series.revision}, {len(series.patches)} "
                        f"patch{'es' if len(series.patches) != 1 else ''})"))
    out.print(_text(f"Onto:   {result.onto} ({result.onto_commit[:12]})"))
    base = result.base
    out.print(_text(f"Base:   {base.detail or HOW.get(base.how, base.how)}"))
    out.print()
    for p in result.patches:
        _render_patch(p, total, out)
    out.print()
    out.print(_text(summary_line(result, total), style="bold"))
    if result.result_commit:
        out.print(_text(f"Result: commit {result.result_commit[:12]} (tree {(result.result_tree or '')[:12]})"))
    if result.branch:
        out.print(_text(f"Branch: {result.branch} created at {result.result_commit[:12] if result.result_commit else '-'}"))
    if branch_note:
        out.print(_text(branch_note, style="yellow"))
    return buf.getvalue()


def _render_patch(p: PatchOutcome, total: int, out: Console) -> None:
    line = _text(f"  {_num(p, total)}  ")
    line.append(f"{p.outcome:<17}", style=STYLE.get(p.outcome, ""))
    line.append(for_terminal(p.subject))
    out.print(line)
    indent = " " * (len(_num(p, total)) + 21)
    if p.outcome == "already-upstream" and p.upstream_commit:
        out.print(_text(f"{indent}{p.detail}", style="dim"))
    elif p.detail:
        out.print(_text(f"{indent}{p.detail}", style="dim"))
    for h in p.failed_hunks:
        where = f"lines {h.start}-{h.start + h.length - 1}" if h.length else "(file not in the target)"
        out.print(_text(f"{indent}failed hunk: {h.path} {where}  {h.header}", style="red"))
    if p.git_error and p.outcome in ("conflict", "skipped"):
        out.print(_text(f"{indent}git said:", style="dim"))
        for ln in for_terminal(p.git_error, multiline=True).strip("\n").split("\n"):
            out.print(_text(f"{indent}  {ln}", style="dim"))
