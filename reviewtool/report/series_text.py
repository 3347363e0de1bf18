"""A Series as a rich summary: one title line, a table of patches, the warnings.

Everything here is mail text: it goes through `for_terminal` and is printed as
`rich.text.Text`, never as markup (a subject `[/]` or `[link=...]` stays text).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from reviewtool.model import Series
from reviewtool.report.console import capture
from reviewtool.report.safe import for_terminal


def title_line(s: Series) -> str:
    """`v16 [15 patches] arm64: MMU enabled kexec relocation — Pavel Tatashin, 2021-08-02`."""
    name = s.author.split(" <")[0].strip('"') if " <" in s.author else s.author
    n = f"{s.expected} patch" + ("es" if s.expected != 1 else "")
    return for_terminal(f"v{s.revision} [{n}] {s.subject} — {name}, {s.date[:10]}")


def _line(text: str, style: str = "") -> Text:
    return Text(for_terminal(text), style=style)


def render_series(s: Series, tty: bool = False, stored_at: str | None = None) -> str:
    """The series summary (its warnings are `render_warnings`, for stderr)."""
    out, buf = capture(tty)
    out.print(Text(title_line(s), style="bold"))
    if s.cover is not None:
        out.print(_line(f"  cover: <{s.cover.msgid}>" + (f", {len(s.cover.trailers)} trailer(s) for every patch"
                                                        if s.cover.trailers else "")))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("subject")
    table.add_column("files", justify="right")
    table.add_column("trailers")
    for row in _patch_rows(s):
        table.add_row(*row)
    out.print(table)
    if s.base_commit:
        out.print(_line(f"  base-commit: {s.base_commit}"))
    if s.change_id:
        out.print(_line(f"  change-id: {s.change_id}"))
    people = [r for r in s.replies if not r.kind]
    questions = [r for r in people if not r.trailers]
    if people:
        out.print(Text(f"  {len(people)} repl{'y' if len(people) == 1 else 'ies'} "
                       f"({len(questions)} without trailers)"))
    if s.other_replies:
        out.print(Text(f"  {s.other_replies} repl{'y' if s.other_replies == 1 else 'ies'} to other revisions "
                       f"in the thread, not counted for v{s.revision}"))
    for r in s.replies:
        if r.kind:
            out.print(_line(f"  {_KINDS.get(r.kind, r.kind)}, kept as a reply: {r.subject} ({_who(r.author)})"))
    given = _trailer_counts(s)
    if given:
        out.print(_line("  trailers: " + ", ".join(f"+{n} {name}" for name, n in given.items())))
    if stored_at:
        out.print(_line(f"  stored as {s.id} in {stored_at}"))
    return buf.getvalue()


_KINDS = {"robot-suggestion": "robot suggestion", "commit-notification": "commit notification",
          "applied": "applied notice"}


def _who(author: str) -> str:
    return author.split(" <")[0].strip('"') if " <" in author else author


def _trailer_counts(s: Series) -> dict[str, int]:
    """The trailers the table shows, added up over the patches."""
    counts: dict[str, int] = {}
    for p in s.patches:
        for t in p.trailers:
            counts[t.name] = counts.get(t.name, 0) + 1
    return counts


def _patch_rows(s: Series) -> list[tuple[Text, Text, Text, Text]]:
    """A row per patch in index order; a run of missing patches is one row (`03-5000/5000`)."""
    width = len(str(s.expected))
    present = sorted(s.patches, key=lambda p: p.index)
    rows: list[tuple[int, tuple[Text, Text, Text, Text]]] = []
    for first, last in _gaps([p.index for p in present], s.expected):
        num = f"{first:0{width}d}/{s.expected}" if first == last else \
            f"{first:0{width}d}-{last:0{width}d}/{s.expected}"
        what = "MISSING" if first == last else f"MISSING ({last - first + 1} patches)"
        rows.append((first, (Text(num), Text(what, style="bold red"), Text(""), Text(""))))
    for p in present:
        counts: dict[str, int] = {}
        for t in p.trailers:
            counts[t.name] = counts.get(t.name, 0) + 1
        rows.append((p.index, (Text(f"{p.index:0{width}d}/{s.expected}"), _line(p.subject),
                               Text(str(len(p.files))),
                               _line(", ".join(f"+{n} {name}" for name, n in counts.items())))))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _gaps(indexes: Sequence[int], expected: int) -> list[tuple[int, int]]:
    """The runs of 1..expected not in `indexes` (without building 1..expected: it may be huge)."""
    out: list[tuple[int, int]] = []
    prev = 0
    for i in sorted(set(indexes)) + [expected + 1]:
        if i > prev + 1:
            out.append((prev + 1, min(i - 1, expected)))
        prev = max(prev, i)
    return [(a, b) for a, b in out if a <= b]


def render_warnings(warnings: Sequence[str], tty: bool = False) -> str:
    """The series' warnings, one line each."""
    err, buf = capture(tty)
    for w in warnings:
        err.print(Text(f"warning: {for_terminal(w)}", style="yellow"))
    return buf.getvalue()


def render_list(series: Sequence[Series], tty: bool = False) -> str:
    """The stored series, one line each."""
    if not series:
        return "no stored series (run 'reviewtool fetch SOURCE')\n"
    out, buf = capture(tty)
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("id")
    table.add_column("series")
    table.add_column("msgid")
    for s in series:
        table.add_row(_line(s.id), Text(title_line(s)), _line(s.msgid))
    out.print(table)
    return buf.getvalue()
