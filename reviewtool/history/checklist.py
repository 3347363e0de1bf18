"""Open comments of the ledger as checklist items: one per comment still `unchanged` or
`unknown`, in the category its words fit, with the lines of this revision as evidence and
the mail it rests on as its source."""

from __future__ import annotations

from reviewtool.history.comments import name
from reviewtool.model import CATEGORIES, OPEN_STATUSES, ChecklistItem, Comment, Evidence, Ledger, MailSource

FALLBACK = "design_approach"  # a comment whose words fit no category is a question about the change
RULE = "HISTORY-OPEN"


def short(text: str, limit: int = 140) -> str:
    """The comment's words on one line, cut at limit."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def question(c: Comment) -> str:
    """What the checklist asks about one open comment."""
    said = f"In v{c.revision} {name(c.from_)} asked: \"{short(c.text)}\""
    if c.status == "unchanged":
        return f"{said}; this version leaves those lines unchanged. Is it dealt with?"
    return f"{said}; nothing in this version answers it ({c.reason}). Is it dealt with?"


def items(ledger: Ledger) -> tuple[ChecklistItem, ...]:
    """A checklist item per open comment, in ledger order."""
    out = []
    for c in ledger.comments:
        if c.status not in OPEN_STATUSES:
            continue
        category = c.category if c.category in CATEGORIES else FALLBACK
        where = f"patch {c.now_patch}" if c.now_patch else "the series"
        out.append(ChecklistItem(
            category=category,  # type: ignore[arg-type]
            title=f"v{c.revision} review still open ({where})",
            question=question(c), evidence=c.evidence or (Evidence(c.now_patch or 0, None, None),), rules=(RULE,),
            reason=c.reason, sources=(MailSource(c.msgid, c.date, c.from_),)))
    return tuple(out)
