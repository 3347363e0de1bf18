"""The review ledger as text: the revisions found, then per patch of this revision its
range-diff verdict and the comments earlier revisions got on it, with their status.

All of it is mail text: it goes through `for_terminal` and is printed as rich Text."""

from __future__ import annotations

from rich.text import Text

from reviewtool.model import Comment, Ledger
from reviewtool.report.console import capture
from reviewtool.report.safe import for_terminal

STATUS_STYLE = {"addressed": "green", "acked": "green", "answered": "cyan", "dropped": "dim",
                "unchanged": "bold yellow", "unknown": "yellow"}
QUOTE_CHARS = 70


def who(from_: str) -> str:
    """The name of 'Name <addr>'."""
    return from_.split(" <")[0].strip('"') if " <" in from_ else from_


def short_quote(c: Comment) -> str:
    """The first quoted diff line (else the first words), cut to QUOTE_CHARS."""
    line = next((q.strip() for q in c.quote if q[:1] in "+-" and q[1:].strip()), "")
    line = line or " ".join(c.text.split())
    return line if len(line) <= QUOTE_CHARS else line[: QUOTE_CHARS - 3] + "..."


def where(c: Comment) -> str:
    """`file:line (function)` of a comment in the revision it was made on."""
    if not c.file:
        return "the cover letter" if c.patch == 0 else f"patch {c.patch}"
    at = f"{c.file}:{c.line}" if c.line else c.file
    return at + (f" ({c.function})" if c.function else "")


def comment_lines(c: Comment) -> list[tuple[str, str]]:
    """(text, style) lines for one comment."""
    words = " ".join(c.text.split())
    words = words if len(words) <= 160 else words[:157] + "..."
    head = f"    [{c.status}] v{c.revision} {who(c.from_)}, {c.date[:10]}, on {where(c)}"
    out = [(head, STATUS_STYLE.get(c.status, "")), (f"      > {short_quote(c)}", "dim"), (f"      {words}", "")]
    if c.reason:
        label = "answer" if c.status == "answered" else "why"
        out.append((f"      {label}: {c.reason}", "dim"))
    return out


def render(ledger: Ledger, tty: bool = False) -> str:
    """The ledger for the terminal."""
    out, buf = capture(tty)

    def line(text: str, style: str = "") -> None:
        out.print(Text(for_terminal(text), style=style))

    line(f"History of v{ledger.revision}: {len(ledger.revisions)} earlier revision(s), "
         f"{len(ledger.comments)} comment(s)", "bold")
    for r in ledger.revisions:
        line(f"  v{r.revision}  {r.date[:16].replace('T', ' ')}  <{r.msgid}>  ({r.found_by}, {r.replies} replies)")
        if r.link:
            line(f"       {r.link}", "dim")
    for note in ledger.notes:
        line(f"  note: {note}", "dim")
    by_patch: dict[int | None, list[Comment]] = {}
    for c in ledger.comments:
        by_patch.setdefault(c.now_patch, []).append(c)
    for title, comments in _sections(ledger, by_patch):
        line("")
        line(title, "bold")
        for c in comments:
            for text, style in comment_lines(c):
                line(text, style)
    opened = sum(1 for c in ledger.comments if c.status in ("unchanged", "unknown"))
    line("")
    line(f"{opened} comment(s) still open (unchanged or unknown)", "bold" if opened else "")
    return buf.getvalue()


def _sections(ledger: Ledger, by_patch: dict[int | None, list[Comment]]) -> list[tuple[str, list[Comment]]]:
    """(title, comments) in order: each patch of this revision, the cover letter, what left."""
    out: list[tuple[str, list[Comment]]] = []
    for p in ledger.patches:
        if p.patch is not None:
            prev = f" (v{p.previous_revision} #{p.previous}, by {p.how})" if p.previous is not None else ""
            out.append((f"  [{p.patch}] {p.subject}: {p.verdict}{prev}", by_patch.pop(p.patch, [])))
    for key in [k for k in by_patch if k not in (0, None)]:
        out.append((f"  [{key}]", by_patch.pop(key)))
    if by_patch.get(0):
        out.append(("  the cover letter", by_patch.pop(0)))
    dropped = [f"[v{p.previous_revision} #{p.previous}] {p.subject}" for p in ledger.patches if p.patch is None]
    if dropped or by_patch.get(None):
        title = "  left the series: " + ("; ".join(dropped) if dropped else "(earlier revisions)")
        out.append((title, by_patch.pop(None, [])))
    return out
