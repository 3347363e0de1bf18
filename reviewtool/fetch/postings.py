"""The thread's messages into b4's mailbox: duplicates set aside, patch numbers counted.

Also what b4 does not say: patch numbers it cannot read (more than four digits, which it
takes for a single patch), and how many patches each revision has, so that a series past
MAX_SERIES_PATCHES is refused before b4 spends time on it. Replies nested deeper than
MAX_REPLY_DEPTH are kept out of b4's mailbox: b4 walks from every reply up to its patch,
gathering the trailers on the way, which costs the cube of the depth (a 4,000-deep chain of
replies took minutes); they are still read, as replies whose trailers count for no patch.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from typing import Any

import b4

from reviewtool import rx
from reviewtool.errors import SourceError
from reviewtool.fetch import bots, mbox
from reviewtool.fetch.limits import (
    B4_MAX_PATCH_NUMBER,
    MAX_PATCH_TRAILERS,
    MAX_REPLY_DEPTH,
    MAX_SERIES_PATCHES,
)
from reviewtool.record import NamedTuple

# N/M in the [PATCH ...] prefix, and the prefix itself (after any Re:/Aw:/Fwd:).
_COUNTER = rx.compile(r"(?<![\w/])(\d+)/(\d+)(?![\w/])")
_PREFIXES = rx.compile(r"\s*(?:\w{2,3}:\s*)*((?:\[[^\]]*\]\s*)+)")
_BAD_INPUT = mbox.HEADER_ERRORS


class Loaded(NamedTuple):
    lmbx: Any  # b4.LoreMailbox
    duplicates: list[str]  # message-ids set aside
    unreadable_numbers: list[str]  # "10000/10001": patch numbers b4 cannot read
    too_deep: list[Any]  # b4.LoreMessage of the replies kept out of the mailbox (too deep)
    bots: list[tuple[Any, str]]  # (b4.LoreMessage, bots.BotKind) of bot patches kept out of the mailbox
    # (robot suggestions, commit notifications, applied notices that attach the commit)
    named_ids: list[str]  # message-ids given to mails that had none (git format-patch files)
    kinds: dict[str, str]  # message-id -> bots.BotKind of the bot and bookkeeping mails


def _slot(msg: EmailMessage) -> tuple[tuple[int, int, int] | None, list[str]]:
    """(revision, N, M) of a patch posting (None for anything else), and any N/M of its
    subject that b4 cannot read."""
    try:
        raw_subject = str(msg.get("Subject", ""))
        subj = b4.LoreSubject(raw_subject)
    except _BAD_INPUT:
        return None, []
    if not subj.patch or subj.reply:
        return None, []
    unreadable = []
    prefix = _PREFIXES.match(b4.LoreMessage.clean_header(raw_subject))
    if prefix:
        width = len(str(B4_MAX_PATCH_NUMBER))
        unreadable = [f"{n}/{m}" for n, m in _COUNTER.findall(prefix.group(1))
                      if len(n) > width or len(m) > width]
    if subj.counter > 0 and not subj.counters_inferred:
        return (subj.revision, subj.counter, subj.expected), unreadable
    return None, unreadable


def _dropped_duplicates(msgs: list[tuple[str, EmailMessage]], answered: Counter[str],
                        slots: dict[str, tuple[int, int, int]]) -> set[str]:
    """Second postings of the same N/M of one revision (a resend, a cross-post with a new
    Message-ID). Keep the copy the replies answer, else the first; b4 would misnumber them.
    answered: how many messages name each message-id in In-Reply-To."""
    by_slot: dict[tuple[int, int, int], list[str]] = {}
    for mid, _msg in msgs:
        slot = slots.get(mid)
        if slot is not None:
            by_slot.setdefault(slot, []).append(mid)
    dropped: set[str] = set()
    for mids in by_slot.values():
        if len(mids) > 1:
            keep = max(enumerate(mids), key=lambda im: (answered[im[1]], -im[0]))[1]
            dropped.update(m for m in mids if m != keep)
    return dropped


def _parent(msg: EmailMessage) -> tuple[str | None, str | None]:
    """(In-Reply-To, the message msg answers: In-Reply-To, else the last of References)."""
    try:
        irt = b4.LoreMessage.get_clean_msgid(msg, header="In-Reply-To") or None
        if irt:
            return irt, irt
        refs = str(msg.get("References", "") or "").split()
    except _BAD_INPUT:
        return None, None
    return None, (refs[-1].strip("<>") or None) if refs else None


def _depths(ids: list[str], parents: dict[str, str]) -> dict[str, int]:
    """How far below the top of its thread each message is, in one pass (cycles cut)."""
    known: dict[str, int] = {}
    for start in ids:
        chain: list[str] = []
        on_chain: set[str] = set()
        cur: str | None = start
        while cur is not None and cur not in known and cur not in on_chain:
            chain.append(cur)
            on_chain.add(cur)
            cur = parents.get(cur)
        depth = known[cur] + 1 if cur is not None and cur in known else 0
        for mid in reversed(chain):
            known[mid] = depth
            depth += 1
    return known


def load(msgs: list[EmailMessage], source: str, unreadable: mbox.Unreadable) -> Loaded:
    """b4's LoreMailbox of msgs, each message once, one posting of each N/M; a revision of
    more than MAX_SERIES_PATCHES patches is refused before b4 reads any message. A message
    b4 cannot read is left out, its reason added to unreadable."""
    unique: list[tuple[str, EmailMessage]] = []
    named: list[str] = []
    dups: list[str] = []
    seen: set[str] = set()
    for msg in msgs:
        try:
            mid = b4.LoreMessage.get_clean_msgid(msg)
        except _BAD_INPUT as e:
            unreadable.append(f"its Message-ID cannot be read ({type(e).__name__})")
            continue
        if not mid:
            unreadable.append("it has no Message-ID b4 can read", _name("", msg))
            continue
        if mid.endswith("@" + mbox.NAMED_DOMAIN):  # a `git format-patch` file (mbox.parse named it)
            named.append(mid)
        if mid in seen:
            dups.append(mid)
            continue
        seen.add(mid)
        unique.append((mid, msg))
    slots: dict[str, tuple[int, int, int]] = {}
    answered: Counter[str] = Counter()
    parents: dict[str, str] = {}
    unreadable_numbers: list[str] = []
    numbers: dict[int, set[int]] = {}
    for mid, msg in unique:
        slot, numbered_past = _slot(msg)
        unreadable_numbers.extend(numbered_past)
        if slot is not None:
            slots[mid] = slot
            numbers.setdefault(slot[0], set()).add(slot[1])
        irt, parent = _parent(msg)
        if irt is not None:
            answered[irt] += 1
        if parent is not None and parent in seen and parent != mid:
            parents[mid] = parent
    for revision, ns in sorted(numbers.items()):
        if len(ns) > MAX_SERIES_PATCHES:
            raise SourceError(f"v{revision} in {source} has {len(ns)} patches: more than reviewtool "
                              f"reads in one series (at most {MAX_SERIES_PATCHES})")
    dropped = _dropped_duplicates(unique, answered, slots)
    depth = _depths([mid for mid, _msg in unique], parents)
    lmbx = b4.LoreMailbox()
    too_deep = []
    kept_out: list[tuple[Any, str]] = []
    kinds: dict[str, str] = {}
    for mid, msg in unique:
        if mid in dropped:
            dups.append(mid)
            continue
        try:
            kind = bots.bot_kind(msg)
            if kind is not None:
                kinds[mid] = kind
            if kind in ("robot-suggestion", "commit-notification") or (kind == "applied" and bots.carries_patch(msg)):
                kept_out.append((b4.LoreMessage(msg), kind))
            elif depth[mid] > MAX_REPLY_DEPTH and mid not in slots:
                too_deep.append(b4.LoreMessage(msg))
            else:
                lmbx.add_message(msg)
        except _BAD_INPUT as e:  # one undecodable message must not sink the thread
            unreadable.append(f"b4 failed on it ({type(e).__name__})", _name(mid, msg))
    for lmsg in lmbx.followups + lmbx.unknowns:
        drop_pasted_trailers(lmsg)
    return Loaded(lmbx, dups, unreadable_numbers, too_deep, kept_out, named, kinds)


def _name(mid: str, msg: EmailMessage) -> str:
    try:
        subject = " ".join(str(msg.get("Subject", "")).split())[:80]
    except _BAD_INPUT:
        subject = ""
    return (f"<{mid}>" if mid else "a mail") + (f" ({subject})" if subject else "")


_TRAILER_LINE = rx.compile(r"^([A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]):\s*(\S.*)$", re.M)


def drop_pasted_trailers(lmsg: Any) -> None:
    """Forget the trailers of a patch pasted into a reply (its own Signed-off-by, say): they
    belong to that patch, not to the one the reply answers. b4 takes them as given."""
    start = bots.pasted_patch_start(lmsg.body or "")
    if start is None or not lmsg.trailers:
        return
    above = {(m.group(1).lower(), m.group(2).strip()) for m in _TRAILER_LINE.finditer(lmsg.body[:start])}
    pasted = {(m.group(1).lower(), m.group(2).strip()) for m in _TRAILER_LINE.finditer(lmsg.body[start:])} - above
    lmsg.trailers[:] = [t for t in lmsg.trailers if (t.lname, t.value.strip()) not in pasted]


def tidy_trailers(lser: Any, source: str) -> None:
    """Drop exact repeats from the trailers b4 gathered for each patch and the cover letter,
    and refuse a patch given more than MAX_PATCH_TRAILERS (its own and the cover letter's).

    b4 gathers a trailer once for every reply below the one that gave it, and applies them
    comparing each with all kept so far: repeats cost it the square of their number, and
    b4 skips every repeat anyway, so the am mbox is the same without them.
    """
    for lmsg in lser.patches:
        if lmsg is not None and lmsg.followup_trailers:
            seen: set[tuple[str, str]] = set()
            kept = []
            for t in lmsg.followup_trailers:
                key = (t.lname, t.value)
                if key not in seen:
                    seen.add(key)
                    kept.append(t)
            lmsg.followup_trailers[:] = kept
    cover = lser.patches[0]
    from_cover = len(cover.followup_trailers) if cover is not None else 0
    for i, lmsg in enumerate(lser.patches[1:], start=1):
        if lmsg is not None and len(lmsg.followup_trailers) + from_cover > MAX_PATCH_TRAILERS:
            raise SourceError(f"patch {i}/{lser.expected} in {source} is given "
                              f"{len(lmsg.followup_trailers) + from_cover} trailers in replies: more than "
                              f"reviewtool takes (at most {MAX_PATCH_TRAILERS})")


def unreadable_numbers_warning(found: list[str]) -> str | None:
    if not found:
        return None
    examples = ", ".join(found[:2]) + (", ..." if len(found) > 2 else "")
    return (f"{len(found)} message(s) numbered past {B4_MAX_PATCH_NUMBER}/{B4_MAX_PATCH_NUMBER} "
            f"({examples}): b4 reads at most four digits, so each was taken as a single patch")


def too_deep_warning(too_deep: list[Any]) -> str | None:
    if not too_deep:
        return None
    return (f"{len(too_deep)} repl(ies) nested more than {MAX_REPLY_DEPTH} deep in the thread: "
            "their trailers were not collected")


#END
