"""b4's view of a thread -> a `Series`: revision, patches, trailers, replies, metadata."""

from __future__ import annotations

import email.utils
import hashlib
import io
import re
from collections import Counter
from email.message import EmailMessage
from typing import Any

import b4

from reviewtool.errors import SourceError
from reviewtool.model import Cover, Patch, Reply, Series, Trailer

_DIFF_START = re.compile(r"^(diff --git |--- [^\n]*\n\+\+\+ |Index: )", re.M)
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]):\s+(\S.*)$")
_FILE_LINE = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.M)
_META = re.compile(r"^(base-commit|prerequisite-patch-id|prerequisite-change-id|change-id): ")
_PLUS_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)", re.M)


def _who(name: str, addr: str) -> str:
    return email.utils.formataddr((name, addr)) if name and name != addr else addr


def _iso(lmsg: Any) -> str:
    return str(lmsg.date.isoformat())


def split_body(body: str) -> tuple[str, str]:
    """(commit message, diff) of a patch body, as git am splits it."""
    m = _DIFF_START.search(body)
    head = body[: m.start()] if m else body
    diff = body[m.start():] if m else ""
    lines = head.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() == "---":
            lines = lines[:i]
            break
    # The mail signature ("-- \n2.30.2") is not part of the diff.
    sig = diff.rfind("\n-- \n")
    if sig != -1:
        diff = diff[: sig + 1]
    # format-patch puts base-commit/prerequisite-patch-id after the last hunk.
    tail = diff.rstrip("\n").split("\n")
    while tail and (_META.match(tail[-1]) or tail[-1] == ""):  # " " is a blank context line: keep it
        tail.pop()
    diff = "\n".join(tail) + "\n" if tail else ""
    return "\n".join(lines).strip() + "\n", diff


def in_body_trailers(message: str, author: str) -> tuple[Trailer, ...]:
    """The trailer block at the end of a commit message."""
    block = message.strip().split("\n\n")[-1].split("\n")
    found = []
    for line in block:
        m = _TRAILER.match(line.strip())
        if m:
            found.append(Trailer(m.group(1), m.group(2).strip(), author, "in-body"))
    return tuple(found) if found and len(found) * 2 >= len(block) else ()


def diff_files(diff: str) -> tuple[str, ...]:
    files = [b for _a, b in _FILE_LINE.findall(diff)]
    if not files:
        files = [f for f in _PLUS_FILE.findall(diff) if f != "/dev/null"]
    return tuple(dict.fromkeys(files))


def _addrs(msg: EmailMessage, header: str) -> tuple[str, ...]:
    values = [b4.LoreMessage.clean_header(str(v)) for v in msg.get_all(header, [])]
    return tuple(_who(n, a) for n, a in email.utils.getaddresses(values) if a)


def _trailer(t: Any, source: str) -> Trailer:
    lmsg = t.lmsg
    giver = _who(lmsg.fromname, lmsg.fromemail) if lmsg is not None else ""
    return Trailer(t.name, t.value, giver, source, lmsg.msgid if lmsg is not None else None)


def _dedup(trailers: tuple[Trailer, ...]) -> tuple[Trailer, ...]:
    """The same `Name: value` given twice (on the patch and on the cover) counts once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for t in trailers:
        key = (t.name.lower(), t.value.lower())
        if key not in seen:
            seen.add(key)
            out.append(t)
    return tuple(out)


def _slot(msg: EmailMessage) -> tuple[int, int, int] | None:
    """(revision, N, M) of a patch posting, None for anything else."""
    try:
        subj = b4.LoreSubject(str(msg.get("Subject", "")))
    except (ValueError, LookupError, TypeError, AttributeError):
        return None
    if subj.patch and not subj.reply and subj.counter > 0 and not subj.counters_inferred:
        return (subj.revision, subj.counter, subj.expected)
    return None


def _dropped_duplicates(msgs: list[tuple[str, EmailMessage]]) -> set[str]:
    """Second postings of the same N/M of one revision (a resend, a cross-post with a new
    Message-ID). Keep the copy the replies answer, else the first; b4 would misnumber them."""
    answered: Counter[str] = Counter()
    for _mid, msg in msgs:
        parent = b4.LoreMessage.get_clean_msgid(msg, header="In-Reply-To")
        if parent:
            answered[parent] += 1
    by_slot: dict[tuple[int, int, int], list[str]] = {}
    for mid, msg in msgs:
        slot = _slot(msg)
        if slot is not None:
            by_slot.setdefault(slot, []).append(mid)
    dropped: set[str] = set()
    for mids in by_slot.values():
        if len(mids) > 1:
            keep = max(mids, key=lambda m: (answered[m], -mids.index(m)))
            dropped.update(m for m in mids if m != keep)
    return dropped


def _load(msgs: list[EmailMessage]) -> tuple[Any, list[str]]:
    lmbx = b4.LoreMailbox()
    unique: list[tuple[str, EmailMessage]] = []
    dups: list[str] = []
    seen: set[str] = set()
    for msg in msgs:
        mid = b4.LoreMessage.get_clean_msgid(msg)
        if not mid:
            continue  # b4 cannot place a message without a Message-ID
        if mid in seen:
            dups.append(mid)
            continue
        seen.add(mid)
        unique.append((mid, msg))
    dropped = _dropped_duplicates(unique)
    for mid, msg in unique:
        if mid in dropped:
            dups.append(mid)
            continue
        try:
            lmbx.add_message(msg)
        except (ValueError, LookupError, TypeError, AttributeError, UnicodeError):
            continue  # one undecodable message must not sink the thread
    return lmbx, dups


def _prime_patch_ids(lmbx: Any) -> None:
    """Compute every patch's `git patch-id --stable` in one git process.

    b4 asks for them one message at a time (a process each: 100 for a 100-patch series).
    The values are b4's own (the same git command on the same diff text, the commit
    message left out, which patch-id ignores anyway), stored where b4 0.16 caches them.
    """
    todo = [m for m in lmbx.msgid_map.values()
            if m.has_diff and getattr(m, "_git_patch_id", "") is None and "\ndiff --git " in f"\n{m.body}"]
    if len(todo) < 2:
        return
    stream = []
    for i, m in enumerate(todo):
        body = f"\n{m.body}"
        stream.append(f"commit {i + 1:040x}\n" + body[body.index("\ndiff --git ") + 1:])
    ecode, out = b4.git_run_command(None, ["patch-id", "--stable"], stdin="".join(stream).encode())
    if ecode != 0:
        return  # b4 computes them one by one, as it would have
    for line in out.splitlines():
        pid, _, fake = line.partition(" ")
        try:
            m = todo[int(fake, 16) - 1]
        except (ValueError, IndexError):
            continue
        m._git_patch_id = pid


def _patch_index(lmbx: Any, lser: Any, lmsg: Any) -> int | None:
    """Which message of the series a reply belongs under: 0 cover, N patch N, None elsewhere."""
    ours = {p.msgid: i for i, p in enumerate(lser.patches) if p is not None}
    cur, hops = lmsg, 0
    while cur is not None and hops < 100:
        parent = cur.in_reply_to or (cur.references[-1] if cur.references else None)
        if parent is None:
            return None
        if parent in ours:
            return ours[parent]
        cur = lmbx.msgid_map.get(parent)
        hops += 1
    return None


def build_series(msgs: list[EmailMessage], revision: int | None, source: str,
                 link_base: str | None) -> tuple[Series, bytes]:
    """The chosen revision of the thread as a Series, and its am-ready mbox (b4 am's output)."""
    lmbx, dup_msgids = _load(msgs)
    if not lmbx.series:
        raise SourceError(f"no patch found in {source}: is it a thread of replies only?")
    revisions = sorted(lmbx.series)
    if revision is not None and revision not in lmbx.series:
        have = ", ".join(f"v{r}" for r in revisions)
        raise SourceError(f"no v{revision} in {source} (it has {have})")
    _prime_patch_ids(lmbx)
    try:
        lser = lmbx.get_series(revision=revision, codereview_trailers=False)
    except SystemExit:
        lser = None
    if lser is None:
        raise SourceError(f"no usable patch found in {source}")

    warnings: list[str] = []
    cover_l = lser.patches[0]
    cover_trailers = tuple(_trailer(t, "cover") for t in cover_l.followup_trailers) if cover_l else ()

    patches: list[Patch] = []
    missing: list[int] = []
    for i in range(1, lser.expected + 1):
        lmsg = lser.patches[i] if i < len(lser.patches) else None
        if lmsg is None:
            missing.append(i)
            continue
        author = _who(lmsg.fromname, lmsg.fromemail)
        message, diff = split_body(lmsg.body)
        patches.append(Patch(
            index=i, expected=lser.expected, subject=lmsg.subject, full_subject=lmsg.full_subject,
            msgid=lmsg.msgid, author=author, date=_iso(lmsg), message=message, diff=diff,
            files=diff_files(diff),
            trailers=_dedup(tuple(_trailer(t, "reply") for t in lmsg.followup_trailers) + cover_trailers),
            in_body_trailers=in_body_trailers(message, author),
            patch_id=lmsg.git_patch_id if diff else None,
            to=_addrs(lmsg.msg, "To"), cc=_addrs(lmsg.msg, "Cc"),
        ))
    if not patches:
        raise SourceError(f"no patch found in {source}: is it a thread of replies only?")
    if missing:
        warnings.append("thread incomplete: missing " + ", ".join(
            f"{i:0{len(str(lser.expected))}d}/{lser.expected}" for i in missing))
    newer = [r for r in revisions if r > lser.revision]
    if newer:
        warnings.append(f"a newer revision is in the thread: v{newer[-1]} (use -v {newer[-1]})")
    if not lser.base_commit:
        warnings.append("no base-commit: rebase will have to guess the base")
    if dup_msgids:
        warnings.append(f"{len(dup_msgids)} duplicate message(s) ignored: " +
                        ", ".join(f"<{m}>" for m in dup_msgids[:3]) + (" ..." if len(dup_msgids) > 3 else ""))

    cover = None
    if cover_l is not None:
        cover = Cover(cover_l.msgid, cover_l.subject, _who(cover_l.fromname, cover_l.fromemail),
                      _iso(cover_l), cover_l.body, cover_trailers)

    replies = []
    for lmsg in lmbx.followups + lmbx.unknowns:
        replies.append(Reply(
            msgid=lmsg.msgid, author=_who(lmsg.fromname, lmsg.fromemail), date=_iso(lmsg),
            subject=lmsg.full_subject, in_reply_to=lmsg.in_reply_to, body=lmsg.body,
            patch_index=_patch_index(lmbx, lser, lmsg),
            trailers=tuple(_trailer(t, "reply") for t in lmsg.trailers),
        ))
    replies.sort(key=lambda r: (r.date, r.msgid))

    first = cover_l or next(p for p in lser.patches[1:] if p is not None)
    try:
        am_msgs = lser.get_am_ready(addlink=False, allowbadchars=True)
    except SystemExit:
        am_msgs = []
    am = io.BytesIO()
    b4.save_git_am_mbox(am_msgs, am)

    series = Series(
        id=hashlib.sha1(f"{first.msgid}\n{lser.revision}".encode()).hexdigest()[:12],
        revision=lser.revision, expected=lser.expected,
        subject=lser.subject if cover_l is None else cover_l.subject,
        author=_who(lser.fromname or first.fromname, lser.fromemail or first.fromemail),
        date=_iso(first), msgid=first.msgid, cover=cover, patches=tuple(patches),
        missing=tuple(missing), duplicates=tuple(dup_msgids),
        other_revisions=tuple(r for r in revisions if r != lser.revision),
        base_commit=lser.base_commit, prerequisite_patch_ids=tuple(lser.prereq_patch_ids or ()),
        change_id=lser.change_id, replies=tuple(replies), warnings=tuple(warnings), source=source,
        link=f"{link_base.rstrip('/')}/{first.msgid}/" if link_base else None,
    )
    return series, am.getvalue()


def thread_mbox(msgs: list[EmailMessage]) -> bytes:
    """The raw thread as an mboxrd file."""
    out = io.BytesIO()
    b4.save_mboxrd_mbox(msgs, out, mangle_from=True)
    return out.getvalue()
