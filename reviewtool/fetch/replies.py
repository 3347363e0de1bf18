"""The thread's replies for the chosen revision: where each belongs, what kind it is, and the
trailers b4 leaves out.

b4 counts every reply in the thread and drops those whose parent is not archived. Here a
reply belongs to this revision when it answers one of its mails, or, when what it answers is
not in the thread, when its own subject names this revision (`Re: [PATCH v16 00/15]`): then
its trailers count (for every patch when it answers the cover letter). A reply under
another revision's mail is not this revision's and is left out, and counted.
"""

from __future__ import annotations

from typing import Any

import b4

from reviewtool.fetch import mbox, postings
from reviewtool.fetch.am import who
from reviewtool.model import Reply, Trailer

OTHER = -1  # the place of a reply to another revision


def _subject_place(lmsg: Any, lser: Any) -> int | None:
    """Where a reply whose parent is not in the thread belongs, by its own subject."""
    try:
        subj = b4.LoreSubject(lmsg.full_subject)
    except mbox.HEADER_ERRORS:
        return None
    if not subj.reply or not subj.patch:
        return None
    if subj.revision != lser.revision:
        return OTHER
    if subj.counters_inferred or subj.expected != lser.expected or not 0 <= subj.counter <= lser.expected:
        return None
    return int(subj.counter)


def place(lmbx: Any, lser: Any, lmsg: Any, ours: dict[str, int]) -> int | None:
    """0 the cover letter, N patch N, OTHER a reply to another revision, None elsewhere.
    ours: message-id -> index of the series' own messages."""
    cur, hops = lmsg, 0
    while cur is not None and hops < 100:
        parent = cur.in_reply_to or (cur.references[-1] if cur.references else None)
        if parent is None:
            return None
        if parent in ours:
            return ours[parent]
        up = lmbx.msgid_map.get(parent)
        if up is None:  # the thread stops here: the reply's subject says where it was going
            return _subject_place(cur, lser)
        if not up.reply and up.has_diff and up.revision != lser.revision:
            return OTHER
        cur, hops = up, hops + 1
    return None


def orphan_trailers(loaded: postings.Loaded, lser: Any) -> list[tuple[int, Any]]:
    """(place, b4 trailer) of replies whose parent is not archived but whose subject names this
    revision (0: the cover letter); b4 drops them."""
    lmbx = loaded.lmbx
    found: list[tuple[int, Any]] = []
    for lmsg in lmbx.followups + lmbx.unknowns:
        parent = lmsg.in_reply_to or (lmsg.references[-1] if lmsg.references else None)
        if parent is None or parent in lmbx.msgid_map or not lmsg.trailers:
            continue
        where = _subject_place(lmsg, lser)
        if where is None or where == OTHER:
            continue
        found.extend((where, t) for t in lmsg.trailers)
    return found


def add_to_patches(lser: Any, found: list[tuple[int, Any]]) -> None:
    """Give b4's patches the trailers of orphan_trailers (every patch for the cover letter's),
    so that they are applied as b4 applies follow-up trailers."""
    for where, t in found:
        targets = lser.patches[1:] if where == 0 else [lser.patches[where]]
        for p in targets:
            if p is not None and (t.lname, t.value) not in {(x.lname, x.value) for x in p.followup_trailers}:
                p.followup_trailers.append(t)


def _trailer(t: Any) -> Trailer:
    lmsg = t.lmsg
    giver = who(lmsg.fromname, lmsg.fromemail) if lmsg is not None else ""
    return Trailer(t.name, t.value, giver, "reply", lmsg.msgid if lmsg is not None else None)


def build(loaded: postings.Loaded, lser: Any) -> tuple[list[Reply], int]:
    """This revision's replies (bot mails kept as replies of their kind), sorted by date, and
    how many replies answer another revision (left out)."""
    lmbx = loaded.lmbx
    out: list[Reply] = []
    ours = {p.msgid: i for i, p in enumerate(lser.patches) if p is not None}
    others = 0
    tagged = [(m, "") for m in lmbx.followups + lmbx.unknowns + loaded.too_deep] + loaded.bots
    for lmsg, kind in tagged:
        where = place(lmbx, lser, lmsg, ours)
        if where == OTHER:
            others += 1
            continue
        kind = kind or loaded.kinds.get(lmsg.msgid, "")
        out.append(Reply(
            msgid=lmsg.msgid, author=who(lmsg.fromname, lmsg.fromemail), date=str(lmsg.date.isoformat()),
            subject=lmsg.full_subject, in_reply_to=lmsg.in_reply_to, body=lmsg.body, patch_index=where,
            trailers=() if kind in ("robot-suggestion", "commit-notification")
            else tuple(_trailer(t) for t in lmsg.trailers),
            kind=kind,
        ))
    out.sort(key=lambda r: (r.date, r.msgid))
    return out, others
