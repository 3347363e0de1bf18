"""Plain-text replies for the mailing list: one per patch with findings, one to the cover letter.

Each reply threads under the original (`In-Reply-To`, `References`), goes `To` the author
and `Cc` the original recipients, quotes only the hunks that carry findings (`> `, gaps
trimmed with `[...]`) and puts each question right under its lines. Nothing is sent: the
command writes `reply-NN.eml` files a person edits and sends with `git send-email` or a
mail client.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime

from reviewtool.diff import parse
from reviewtool.model import ApplyResult, ChecklistItem, CheckResult, Evidence, Finding, Patch, Series
from reviewtool.record import record
from reviewtool.report.message import Mailbox, mailbox, message
from reviewtool.report.quote import (
    active,
    apply_summary,
    category_order,
    category_title,
    counter,
    findings_for_patch,
    locate,
)
from reviewtool.report.safe import clean, ranges

CONTEXT = 3  # lines of context quoted above the first line of a finding
OPENING_LINES = 6  # at most this much of the cover letter when no finding quotes it
WIDTH = 72
GAP = "> [...]"


@record
class ReplyMail:
    """One reply, ready to be written as `name`."""

    name: str
    patch_index: int  # 0 = the cover letter (or the series as a whole)
    in_reply_to: str
    subject: str
    text: str


@record
class _Anchor:
    first: int
    last: int
    questions: tuple[str, ...]


def _wrap(question: str) -> list[str]:
    return textwrap.wrap(" ".join(question.split()), WIDTH, break_long_words=False,
                         break_on_hyphens=False) or [""]


def _quote_windows(lines: Sequence[str], anchors: Sequence[_Anchor], keep_first: bool = False) -> list[str]:
    """Quote the lines of each anchor (with context above it), each followed by its questions."""
    out: list[str] = []
    merged: dict[int, _Anchor] = {}
    for a in anchors:
        old = merged.get(a.last)
        merged[a.last] = a if old is None else _Anchor(min(old.first, a.first), a.last,
                                                       old.questions + a.questions)
    shown = -1
    if keep_first and lines:
        out.append(f"> {lines[0]}".rstrip())
        shown = 0
    for a in sorted(merged.values(), key=lambda x: x.last):
        start = max(a.first - CONTEXT, shown + 1, 0)
        if start > shown + 1:
            out.append(GAP)
        out.extend(f"> {x}".rstrip() for x in lines[start: a.last + 1])
        shown = max(shown, a.last)
        out.append("")
        for q in dict.fromkeys(a.questions):
            out.extend(_wrap(q))
            out.append("")
    if shown < len(lines) - 1:
        out.append(GAP)
    return out


def _find_text(lines: Sequence[str], wanted: Sequence[str]) -> tuple[int, int] | None:
    want = [w.strip() for w in wanted if w.strip()]
    if not want:
        return None
    for i in range(len(lines) - len(want) + 1):
        if all(lines[i + k].strip() == want[k] for k in range(len(want))):
            return i, i + len(want) - 1
    return None


def _body(text_lines: Sequence[str], findings: Sequence[Finding], index: int,
          patch: Patch | None) -> list[str]:
    """Quoted text (message, then diff) with questions; findings that cannot be placed come last."""
    msg_anchors: list[_Anchor] = []
    hunk_anchors: dict[tuple[int, int], list[_Anchor]] = {}
    loose: list[str] = []
    files = parse(patch.diff).files if patch is not None else ()
    for question, evidence, category in _questions(findings, index):
        placed = None
        for ev in evidence:
            if ev.file is None:  # commit message lines: the question goes under them
                hit = _find_text(text_lines, ev.lines)
                if hit is not None:
                    msg_anchors.append(_Anchor(hit[0], hit[1], (question,)))
                    placed = ev
                    break
                continue
            spot = locate(files, ev) if category not in _ABOUT_THE_PATCH else None
            if spot is not None:
                also = [e for e in evidence if e is not ev and e.file]
                text = question + (f" (Also at {_places(also)}.)" if also else "")
                # +1: index 0 of the quoted hunk is its @@ header
                hunk_anchors.setdefault((spot.file, spot.hunk), []).append(
                    _Anchor(spot.first + 1, spot.last + 1, (text,)))
                placed = ev
                break
        if placed is None and question not in loose:
            where = _places([e for e in evidence if e.file])
            # "About" keeps b4 from reading "path:line: ..." as a trailer
            loose.append(f"About {where}: {question}" if where else question)
    out: list[str] = []
    if msg_anchors:
        out += _quote_windows(text_lines, msg_anchors)
    for fi, dfile in enumerate(files):
        keys = sorted(h for (f2, h) in hunk_anchors if f2 == fi)
        if not keys:
            continue
        if out and out[-1] != GAP:
            out.append(GAP)
        out.append(f"> {dfile.text.split(chr(10), 1)[0]}".rstrip())
        for hi in keys:
            hunk = dfile.hunks[hi]
            if out[-1] != GAP:
                out.append(GAP)
            lines = [hunk.header] + [x.prefixed for x in hunk.lines]
            out += _quote_windows(lines, hunk_anchors[(fi, hi)], keep_first=True)
    if loose:
        if out and out[-1] != "":
            out.append("")
        for q in loose:
            out += _wrap(q) + [""]
    # "[...]" twice in a row says nothing more than once
    return [x for i, x in enumerate(out) if not (x == GAP and i and out[i - 1] == GAP)]


# Questions about the patch as a whole (which machines was it tested on?) go under the commit
# message lines they rest on, else below the quoted hunks, never under whichever diff line
# happened to be the patch's first.
_ABOUT_THE_PATCH = frozenset({"testing_request"})


def _questions(findings: Sequence[Finding], index: int) -> list[tuple[str, list[Evidence], str]]:
    """Each question once, with all its evidence in patch `index`, in the findings' order."""
    out: dict[str, tuple[str, list[Evidence], str]] = {}
    for f in findings:
        q = " ".join(f.question.split())
        entry = out.setdefault(q, (f.question, [], f.category))
        entry[1].extend(e for e in f.evidence if e.patch == index and e not in entry[1])
    return list(out.values())


def _places(evidence: Sequence[Evidence]) -> str:
    """`a.c:10, b.c:3`: where the evidence is, each place once."""
    return ", ".join(dict.fromkeys(f"{e.file}:{e.line}" if e.line is not None else f"{e.file}"
                                   for e in evidence if e.file))


def _opening(lines: Sequence[str]) -> list[str]:
    """The first paragraph of a cover letter, quoted: what a series-level reply answers."""
    para: list[str] = []
    for line in lines:
        if not line.strip():
            if para:
                break
            continue
        para.append(line)
    if not para:
        return []
    out = [f"> {x}".rstrip() for x in para[:OPENING_LINES]]
    if len(para) > OPENING_LINES or len(lines) > len(para):
        out.append(GAP)
    return out + [""]


def _attribution(author: str, date: str) -> str:
    name = mailbox(author).name or author
    try:
        when = datetime.fromisoformat(date)
        return f"On {when.strftime('%a, %b %d, %Y at %I:%M:%S%p %z')}, {name} wrote:"
    except ValueError:
        return f"{name} wrote:"


def _addresses(values: Sequence[str], drop: Sequence[Mailbox]) -> list[Mailbox]:
    """The mailboxes of `values`, each once, without those in `drop` (the addressee, the sender)."""
    seen = {d.key for d in drop if d.key}
    out = []
    for v in values:
        box = mailbox(v)
        if box.key and box.key in seen:
            continue
        seen.add(box.key)
        if box.key or box.name:
            out.append(box)
    return out


def _reply_id(series: Series, target: str, sender: Mailbox) -> str:
    """The same reply gets the same Message-ID on every run (one reply per mail it answers)."""
    addr = sender.address.addr_spec if sender.address is not None else "reviewer@localhost"
    digest = hashlib.sha1(f"{series.id}\n{target}\n{addr}".encode()).hexdigest()[:16]
    return f"reviewtool.{digest}@{addr.rsplit('@', 1)[-1]}"


def _series_checklist(series: Series, check: CheckResult, apply: ApplyResult | None) -> list[str]:
    out: list[str] = []
    if series.missing:
        n = len(series.missing)
        out += _wrap(f"Patch{'es' if n != 1 else ''} {ranges(series.missing)} of {series.expected} "
                     f"{'are' if n != 1 else 'is'} not in the thread: were they sent to the list?")
        out.append("")
    if apply is not None:
        out += _wrap(f"Applied onto {apply.onto}: {apply_summary(apply)}.")
        for p in apply.patches:
            if p.outcome == "conflict":
                paths = ", ".join(p.paths) or "?"
                out += _wrap(f"Patch {counter(series, p.index)} does not apply ({paths}); "
                             f"could you rebase it onto {apply.onto}?")
        out.append("")
    items = [i for i in check.checklist if i.status != "looks-ok" and not _under_a_hunk(i)]
    if items:
        out += ["Questions on the series, by area:", ""]
    for cat in category_order(i.category for i in items):
        out.append(category_title(cat))
        for item in (i for i in items if i.category == cat):
            where = sorted({e.patch for e in item.evidence})
            label = ", ".join("series" if w == 0 else counter(series, w) for w in where)
            text = textwrap.wrap(f"[{label}] {' '.join(item.question.split())}", WIDTH - 4,
                                 break_long_words=False, break_on_hyphens=False)
            out += [f"  - {text[0]}", *(f"    {t}" for t in text[1:])]
        out.append("")
    return out


def _under_a_hunk(item: ChecklistItem) -> bool:
    """A question from history about lines of this revision: it goes under those lines."""
    return bool(item.sources) and any(e.file and e.patch for e in item.evidence)


def _history_questions(check: CheckResult, index: int) -> list[Finding]:
    """The open comments of earlier revisions on patch `index`, as questions under their hunk
    ("In v16 <reviewer> asked ...; this version leaves those lines unchanged")."""
    return [Finding(rule=",".join(i.rules), title=i.title, severity="info", category=i.category, message=i.reason,
                    question=i.question, evidence=tuple(e for e in i.evidence if e.patch == index))
            for i in check.checklist if _under_a_hunk(i) and any(e.patch == index for e in i.evidence)]


PLACEHOLDER_SENDER = "Your Name <you@example.org>"


def build(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
          sender: str | None = None, date: datetime | None = None) -> list[ReplyMail]:
    """The replies: `reply-00.eml` for the cover letter, `reply-NN.eml` for patch NN.

    Without `sender` (the command finds it with `config.reviewer_identity()`), the replies
    are signed with a placeholder to edit before sending.
    """
    me = mailbox(sender or PLACEHOLDER_SENDER)
    when = date or datetime.now(UTC)
    width = max(2, len(str(series.expected)))
    sign = ["Thanks,", me.name, ""]
    replies: list[ReplyMail] = []

    series_findings = [f for f in findings_for_patch(check, 0) if active(f)]
    checklist = _series_checklist(series, check, apply)
    about_series = bool(series_findings or any(line.strip() for line in checklist))
    first = series.patches[0] if series.patches else None

    # The series-level reply goes to the cover letter. Without one, what is said about the
    # series goes into the reply to the first patch: one reply per mail answered.
    if about_series and series.cover is not None:
        cover = series.cover
        cover_lines = cover.body.rstrip("\n").split("\n")
        body = [_attribution(cover.author, cover.date)]
        quoted = _body(cover_lines, series_findings, 0, None)
        if not any(line.startswith(">") for line in quoted):
            quoted = _opening(cover_lines) + quoted
        body += quoted
        if body[-1] != "":
            body.append("")
        body += checklist + sign
        to = mailbox(cover.author)
        cc = _addresses(first.to + first.cc if first else (), [to, me])
        prefix = f"PATCH v{series.revision}" if series.revision > 1 else "PATCH"
        subject = clean(f"Re: [{prefix} 0/{series.expected}] {cover.subject}")
        replies.append(ReplyMail(
            f"reply-{0:0{width}d}.eml", 0, cover.msgid, subject,
            message(me, to, cc, subject, _reply_id(series, cover.msgid, me), cover.msgid, [cover.msgid],
                    when, "\n".join(body))))

    for p in series.patches:
        findings = [f for f in findings_for_patch(check, p.index) if active(f)] + _history_questions(check, p.index)
        series_part = about_series and series.cover is None and p is first
        if not findings and not series_part:
            continue
        body = [_attribution(p.author, p.date)]
        body += _body(p.message.rstrip("\n").split("\n"), findings, p.index, p)
        if series_part:
            if body[-1] != "":
                body.append("")
            body += _body([], series_findings, 0, None) + ["About the series as a whole:", ""] + checklist
        if body[-1] != "":
            body.append("")
        body += sign
        refs = ([series.cover.msgid] if series.cover else []) + [p.msgid]
        subject = clean(f"Re: {p.full_subject}")
        to = mailbox(p.author)
        replies.append(ReplyMail(
            f"reply-{p.index:0{width}d}.eml", p.index, p.msgid, subject,
            message(me, to, _addresses(p.to + p.cc, [to, me]), subject, _reply_id(series, p.msgid, me),
                    p.msgid, refs, when, "\n".join(body))))
    return replies


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           sender: str | None = None, date: datetime | None = None) -> str:
    """All replies as one mbox (for stdout); `build` gives them one by one for files."""
    out = []
    for r in build(series, check, apply, sender=sender, date=date):
        text = r.text if r.text.endswith("\n") else r.text + "\n"
        # mboxrd: a body line starting with "From " (after any ">") gets one more ">"
        lines = [(">" + x if x.lstrip(">").startswith("From ") else x) for x in text.split("\n")]
        out.append("From reviewtool Thu Jan  1 00:00:00 1970\n" + "\n".join(lines) + "\n")
    return "".join(out)
