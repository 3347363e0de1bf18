"""A Series as a rich summary: one title line, a table of patches, the warnings."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewtool.model import Series


def title_line(s: Series) -> str:
    """`v16 [15 patches] arm64: MMU enabled kexec relocation — Pavel Tatashin, 2021-08-02`."""
    name = s.author.split(" <")[0].strip('"') if " <" in s.author else s.author
    n = f"{s.expected} patch" + ("es" if s.expected != 1 else "")
    return f"v{s.revision} [{n}] {s.subject} — {name}, {s.date[:10]}"


def render_series(s: Series, out: Console, err: Console, stored_at: str | None = None) -> None:
    out.print(Text(title_line(s), style="bold"))
    if s.cover is not None:
        out.print(f"  cover: <{s.cover.msgid}>" + (f", {len(s.cover.trailers)} trailer(s) for every patch"
                                                  if s.cover.trailers else ""))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("subject")
    table.add_column("files", justify="right")
    table.add_column("trailers")
    width = len(str(s.expected))
    by_index = {p.index: p for p in s.patches}
    for i in range(1, s.expected + 1):
        p = by_index.get(i)
        num = f"{i:0{width}d}/{s.expected}"
        if p is None:
            table.add_row(num, Text("MISSING", style="bold red"), "", "")
            continue
        counts: dict[str, int] = {}
        for t in p.trailers:
            counts[t.name] = counts.get(t.name, 0) + 1
        table.add_row(num, p.subject, str(len(p.files)),
                      ", ".join(f"+{n} {name}" for name, n in counts.items()))
    out.print(table)
    if s.base_commit:
        out.print(f"  base-commit: {s.base_commit}")
    if s.change_id:
        out.print(f"  change-id: {s.change_id}")
    questions = [r for r in s.replies if not r.trailers]
    if s.replies:
        out.print(f"  {len(s.replies)} repl{'y' if len(s.replies) == 1 else 'ies'} "
                  f"({len(questions)} without trailers)")
    if stored_at:
        out.print(f"  stored as {s.id} in {stored_at}")
    render_warnings(s.warnings, err)


def render_warnings(warnings: Sequence[str], err: Console) -> None:
    for w in warnings:
        err.print(f"warning: {w}", style="yellow")


def render_list(series: Sequence[Series], out: Console) -> None:
    if not series:
        out.print("no stored series (run 'reviewtool fetch SOURCE')")
        return
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("id")
    table.add_column("series")
    table.add_column("msgid")
    for s in series:
        table.add_row(s.id, title_line(s), s.msgid)
    out.print(table)
