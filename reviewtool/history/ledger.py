"""The ledger: earlier revisions' replies -> comments, each anchored and given a status in
this revision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reviewtool.history import anchor, comments, pairing
from reviewtool.history.classify import classify
from reviewtool.model import (
    Comment,
    CommentStatus,
    Evidence,
    Ledger,
    LedgerRevision,
    Patch,
    PatchHistory,
    Reply,
    Series,
    Trailer,
    when,
)
from reviewtool.record import NamedTuple

ACK_TRAILERS = ("reviewed-by", "acked-by", "tested-by")


class Earlier(NamedTuple):
    """An earlier revision as fetch found it, and how."""

    series: Series
    found_by: str




def own_msgids(series: Series) -> set[str]:
    """The message-ids of the series' own mail: cover, patches and the replies to them (a
    revision sent in reply to the previous one shares its thread, not its review)."""
    ids = {series.msgid, *(p.msgid for p in series.patches),
           *(r.msgid for r in series.replies if r.patch_index is not None)}
    if series.cover is not None:
        ids.add(series.cover.msgid)
    return ids


def _before(series: Series, cutoff: datetime, own: set[str]) -> Series:
    """series with only the replies dated before cutoff and not in the current thread."""
    from reviewtool.record import replace

    kept = tuple(r for r in series.replies if when(r.date) < cutoff and r.msgid not in own)
    return replace(series, replies=kept) if len(kept) != len(series.replies) else series


def _chosen(current: Series, earlier: Sequence[Earlier]) -> tuple[list[Earlier], list[str]]:
    """One series per earlier revision (the latest posting of it), dated before current and
    not current's own thread."""
    cutoff = when(current.date)
    own = own_msgids(current)
    notes = []
    by_rev: dict[int, Earlier] = {}
    for e in earlier:
        s = e.series
        if s.msgid in own or s.revision >= current.revision:
            continue
        if when(s.date) >= cutoff:
            notes.append(f"v{s.revision} <{s.msgid}> is dated after this revision: not counted")
            continue
        kept = by_rev.get(s.revision)
        if kept is None or when(s.date) > when(kept.series.date):
            by_rev[s.revision] = Earlier(_before(s, cutoff, own), e.found_by)
    return [by_rev[r] for r in sorted(by_rev)], notes


class _Chain:
    """Patches followed from each earlier revision to the current one."""

    def __init__(self, revisions: list[Series]) -> None:
        self.revisions = revisions
        # (revision position, patch index) -> (patch in the next revision or None, revision it went away in)
        self.next: dict[tuple[int, int], Patch | None] = {}
        self.pairs: list[list[pairing.Pair]] = []
        for i in range(len(revisions) - 1):
            pairs = pairing.pair(revisions[i].patches, revisions[i + 1].patches)
            self.pairs.append(pairs)
            for p in pairs:
                if p.old is not None:
                    self.next[(i, p.old.index)] = p.new

    def follow(self, pos: int, index: int) -> tuple[list[Patch], int | None]:
        """The patch at each later revision (the path), and the revision it left the series in."""
        path: list[Patch] = []
        for i in range(pos, len(self.revisions) - 1):
            nxt = self.next.get((i, index))
            if nxt is None:
                return path, self.revisions[i + 1].revision
            path.append(nxt)
            index = nxt.index
        return path, None


def _is_ack_by(t: Trailer, who: str) -> bool:
    return t.name.lower() in ACK_TRAILERS and comments.address(t.value) == who


class _Context(NamedTuple):
    current: Series
    chain: _Chain
    acks: list[tuple[datetime, int, int, Trailer, str]]  # (date, rev position, patch, trailer, date text)
    answers: dict[str, list[comments.RawComment]]  # reviewer reply msgid -> the author's comments under it


def _first_line(text: str, limit: int = 100) -> str:
    line = next((x.strip() for x in text.split("\n") if x.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _answer(ctx: _Context, raw: comments.RawComment, siblings: int) -> comments.RawComment | None:
    """The author's comment answering raw (under raw's reply, quoting raw's words most)."""
    under = ctx.answers.get(raw.reply.msgid, [])
    words = {w.strip() for w in raw.words.split("\n") if w.strip()}
    best, hits = None, 0
    for a in under:
        n = sum(1 for q in a.quote if q.strip() in words)
        if n > hits:
            best, hits = a, n
    if best is None and siblings == 1 and under:
        return under[0]  # a reply with one comment, answered without quoting it
    return best


def _acked(ctx: _Context, pos: int, raw: comments.RawComment, now: Patch | None) -> Trailer | None:
    who = comments.address(raw.reply.author)
    said = when(raw.reply.date)
    path_patches: set[tuple[int, int]] = {(pos, raw.reply.patch_index or 0)}
    index = raw.reply.patch_index or 0
    for i in range(pos, len(ctx.chain.revisions) - 1):
        nxt = ctx.chain.next.get((i, index))
        if nxt is None:
            break
        index = nxt.index
        path_patches.add((i + 1, index))
    for date, p, idx, t, _ in ctx.acks:
        if date > said and (idx == 0 or (p, idx) in path_patches) and _is_ack_by(t, who):
            return t
    if now is not None:
        for t in now.in_body_trailers:
            if _is_ack_by(t, who):
                return t
    return None


def _status(ctx: _Context, pos: int, raw: comments.RawComment, siblings: int
            ) -> tuple[CommentStatus, str, str | None, Patch | None, Evidence | None]:
    """(status, reason, answer msgid, the patch now, the evidence now) of one comment."""
    chain, current = ctx.chain, ctx.current
    index = raw.reply.patch_index or 0
    now: Patch | None = None
    if index > 0:
        path, gone_in = chain.follow(pos, index)
        if gone_in is not None:
            return "dropped", f"the patch left the series in v{gone_in}", None, None, None
        now = path[-1] if path else None
    trailer = _acked(ctx, pos, raw, now)
    if trailer is not None:
        where = f" in <{trailer.msgid}>" if trailer.msgid else " (carried in this revision)"
        return "acked", f"{trailer.name}: {trailer.value}{where}", None, now, None
    if anchor.diff_lines(raw.quote) and now is not None:
        there, evidence = anchor.still_there(now, raw.quote)
        if not there:
            gone = _changed_in(chain, pos, index, raw.quote)
            return "addressed", f"the quoted lines changed in v{gone}", None, now, None
        status: CommentStatus = "unchanged"
        reason = "the quoted lines are still in this revision"
    else:
        evidence = None
        prose = anchor.text_lines(raw.quote)
        text = current.cover.body if index == 0 and current.cover else (now.message if now else None)
        if prose and text is not None:
            flat = {x.strip() for x in text.split("\n")}
            if all(p in flat for p in prose):
                status, reason = "unchanged", "the quoted text is still in this revision"
            else:
                return "addressed", "the quoted text changed", None, now, None
        else:
            status = "unknown"
            reason = ("it quotes no line of the patch" if not prose else "this revision has no cover letter")
    answer = _answer(ctx, raw, siblings)
    if answer is not None:
        return "answered", _first_line(answer.words), answer.reply.msgid, now, evidence
    return status, reason, None, now, evidence


def _changed_in(chain: _Chain, pos: int, index: int, quote: tuple[str, ...]) -> int:
    path, _ = chain.follow(pos, index)
    for p, rev in zip(path, chain.revisions[pos + 1:], strict=False):
        if not anchor.still_there(p, quote)[0]:
            return rev.revision
    return chain.revisions[-1].revision


def _collect(revisions: list[Series]) -> tuple[list[tuple[int, comments.RawComment]], _Context]:
    """Every reviewer comment with its revision position, and the context to judge them."""
    current = revisions[-1]
    chain = _Chain(revisions)
    acks: list[tuple[datetime, int, int, Trailer, str]] = []
    answers: dict[str, list[comments.RawComment]] = {}
    raws: list[tuple[int, comments.RawComment]] = []
    for pos, s in enumerate(revisions[:-1]):
        author = comments.address(s.author)
        for r in s.replies:
            if r.patch_index is None:
                continue
            for t in r.trailers:
                acks.append((when(r.date), pos, r.patch_index, t, r.date))
            split = comments.split(r)
            if comments.address(r.author) == author:
                if r.in_reply_to:
                    answers.setdefault(r.in_reply_to, []).extend(split)
                continue
            raws.extend((pos, c) for c in split)
    return raws, _Context(current, chain, acks, answers)


def _comment(ctx: _Context, pos: int, raw: comments.RawComment, siblings: int) -> Comment:
    s = ctx.chain.revisions[pos]
    reply: Reply = raw.reply
    index = reply.patch_index or 0
    patch = next((p for p in s.patches if p.index == index), None)
    where = anchor.locate(patch, raw.quote) if patch is not None else None
    status, reason, answer_msgid, now, evidence = _status(ctx, pos, raw, siblings)
    return Comment(
        from_=reply.author, msgid=reply.msgid, date=reply.date, revision=s.revision, patch=index,
        text=raw.words, status=status, category=classify(raw.words),
        file=where.file if where else (patch.files[0] if patch is not None and len(patch.files) == 1 else None),
        function=where.function if where else None, line=where.line if where else None,
        quote=raw.quote, reason=reason, answer_msgid=answer_msgid,
        now_patch=now.index if now is not None else (0 if index == 0 else None),
        evidence=(evidence,) if evidence is not None and status in ("unchanged", "answered") else (),
    )


def _subject_of(p: pairing.Pair) -> str:
    patch = p.new or p.old
    return patch.subject if patch is not None else ""


def _verdicts(revisions: list[Series], chain: _Chain) -> tuple[PatchHistory, ...]:
    """Each patch of the current revision against the previous one, then every patch that
    left the series on the way (in the revision it left)."""
    out: list[PatchHistory] = []
    for k, pairs in enumerate(chain.pairs):
        prev = revisions[k].revision
        last = k == len(chain.pairs) - 1
        out.extend(PatchHistory(
            verdict=p.verdict,  # type: ignore[arg-type]
            subject=_subject_of(p), patch=p.new.index if p.new else None,
            previous=p.old.index if p.old else None, previous_revision=prev if p.old else None, how=p.how)
            for p in pairs if last or p.new is None)
    out.sort(key=lambda v: (v.patch is None, v.patch or 0, v.previous_revision or 0, v.previous or 0))
    return tuple(out)


def build(current: Series, earlier: Sequence[Earlier]) -> Ledger:
    """The ledger of current: what the earlier revisions (dated before it, not its own thread)
    were told, and where each comment stands in current."""
    chosen, notes = _chosen(current, earlier)
    revisions = [e.series for e in chosen] + [current]
    raws, ctx = _collect(revisions)
    per_reply: dict[str, int] = {}
    for _, raw in raws:
        per_reply[raw.reply.msgid] = per_reply.get(raw.reply.msgid, 0) + 1
    found = [_comment(ctx, pos, raw, per_reply[raw.reply.msgid]) for pos, raw in raws]
    found.sort(key=lambda c: (c.now_patch if c.now_patch is not None else 10**6, c.revision, when(c.date), c.msgid))
    patches = _verdicts(revisions, ctx.chain)
    if not chosen:
        notes.append("no earlier revision found")
    trailers = tuple(t for s in revisions[:-1] for r in s.replies for t in r.trailers)
    return Ledger(
        series_id=current.id, revision=current.revision,
        revisions=tuple(LedgerRevision(
            revision=e.series.revision, msgid=e.series.msgid, date=e.series.date, subject=e.series.subject,
            link=e.series.link, found_by=e.found_by, replies=len(e.series.replies)) for e in chosen),
        patches=patches, comments=tuple(found), trailers=trailers, notes=tuple(notes))
