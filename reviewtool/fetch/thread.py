"""b4's view of a thread -> a `Series`: revision, patches, trailers, replies, metadata."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from reviewtool.errors import SourceError
from reviewtool.fetch import mbox, postings, replies
from reviewtool.fetch.am import am_ready_mbox, who
from reviewtool.fetch.headers import addresses
from reviewtool.fetch.patchids import patch_ids
from reviewtool.fetch.texts import (
    diff_files,
    in_body_trailers,
    missing_warning,
    series_id,
    split_body,
    valid_text,
)
from reviewtool.model import Cover, Patch, Series, Trailer

_who = who


def _iso(lmsg: Any) -> str:
    return str(lmsg.date.isoformat())


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


def _prime_patch_ids(lmbx: Any) -> None:
    """Every patch's `git patch-id --stable` in one git process, stored where b4 0.16 caches
    them (b4 would run one process a message)."""
    todo = [m for m in lmbx.msgid_map.values()
            if m.has_diff and getattr(m, "_git_patch_id", "") is None and "\ndiff --git " in f"\n{m.body}"]
    if len(todo) < 2:
        return
    found = patch_ids([m.body for m in todo])
    for m, pid in zip(todo, found or (), strict=False):
        if pid is not None:
            m._git_patch_id = pid


def _patches(lser: Any, cover_trailers: tuple[Trailer, ...]) -> tuple[list[Patch], list[int]]:
    """The series' patches in order, and the numbers of those not in the thread."""
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
            to=addresses(lmsg.msg, "To"), cc=addresses(lmsg.msg, "Cc"),
        ))
    return patches, missing


def _words(subject: str) -> str:
    return " ".join(subject.lower().split())


def same_series(lser: Any, other: Any) -> bool:
    """Whether another revision in the thread is a revision of this series: the same change-id,
    a patch or cover subject in common, or the same author posting it later. A different patch
    with a higher number, sent earlier (an old v6 above a new v5), is not."""
    if lser.change_id and other.change_id:
        return bool(lser.change_id == other.change_id)
    mine = {_words(p.subject) for p in lser.patches if p is not None}
    if mine & {_words(p.subject) for p in other.patches if p is not None}:
        return True
    firsts = [p for p in other.patches if p is not None]
    ours = [p for p in lser.patches if p is not None]
    if not firsts or not ours:
        return False
    return bool(firsts[0].fromemail.lower() == ours[0].fromemail.lower()
                and min(p.date for p in firsts) >= min(p.date for p in ours))


def thread_revision(lmbx: Any) -> int | None:
    """The revision a thread is about. b4 takes the one posted last; but a thread about an
    11-patch series that ends with somebody's one-patch fix in reply (another author, another
    subject: not a revision of it, nor it of the fix) is about the series. So: b4's pick,
    unless a revision that is not one of its own has more patches; then the largest of those
    (the later if equal). A one-patch v2 resent in reply to a v1 series is the same author's
    and stays b4's pick (b4 fills it up from v1)."""
    latest = lmbx.get_latest_revision()
    if latest is None:
        return None
    size = {r: sum(1 for p in lser.patches[1:] if p is not None) for r, lser in lmbx.series.items()}
    mine = lmbx.series[latest]
    others = [r for r in lmbx.series if r != latest and size[r] > size[latest]
              and not same_series(mine, lmbx.series[r]) and not same_series(lmbx.series[r], mine)]
    if not others:
        return int(latest)
    return int(max(others, key=lambda r: (size[r], _posted(lmbx.series[r]))))


def _posted(lser: Any) -> float:
    when = lser.submission_date
    return when.timestamp() if when is not None else 0.0


def _warnings(lser: Any, loaded: postings.Loaded, missing: list[int], revisions: list[int],
              unreadable: mbox.Unreadable) -> list[str]:
    warnings = [w for w in (missing_warning(missing, lser.expected),
                            postings.unreadable_numbers_warning(loaded.unreadable_numbers),
                            postings.too_deep_warning(loaded.too_deep), unreadable.summary()) if w]
    lmbx = loaded.lmbx
    newer = [r for r in revisions if r > lser.revision and r in lmbx.series and same_series(lser, lmbx.series[r])]
    if newer:
        warnings.append(f"a newer revision is in the thread: v{newer[-1]} (use -v {newer[-1]})")
    unrelated = [r for r in revisions if r != lser.revision and r in lmbx.series
                 and not same_series(lser, lmbx.series[r])]
    if unrelated:
        warnings.append("also in the thread, other patches (not revisions of this series): " +
                        ", ".join(f"v{r}" for r in unrelated))
    if loaded.named_ids:
        warnings.append(f"{len(loaded.named_ids)} mail(s) without a Message-ID (git format-patch files) "
                        "were given ids made from their content")
    if not lser.base_commit:
        warnings.append("no base-commit: rebase will have to guess the base")
    dups = loaded.duplicates
    if dups:
        warnings.append(f"{len(dups)} duplicate message(s) ignored: " +
                        ", ".join(f"<{m}>" for m in dups[:3]) + (" ..." if len(dups) > 3 else ""))
    return warnings


def build_series(msgs: list[EmailMessage], revision: int | None, source: str,
                 link_base: str | None, unreadable: mbox.Unreadable | None = None,
                 am: bool = True) -> tuple[Series, bytes | None]:
    """The chosen revision of the thread as a Series, and its am-ready mbox (b4 am's output;
    None unless am). unreadable: the messages left out so far (more are added), for a warning."""
    unreadable = mbox.Unreadable() if unreadable is None else unreadable
    loaded = postings.load(msgs, source, unreadable)
    lmbx = loaded.lmbx
    if not lmbx.series:
        why = unreadable.summary() if unreadable else "is it a thread of replies only?"
        if loaded.duplicates and not unreadable:  # a Message-ID given to every mail, say
            why = (f"{len(loaded.duplicates)} mail(s) have the Message-ID of an earlier mail and were left "
                   "out as duplicates")
        raise SourceError(f"no patch found in {source}: {why}")
    revisions = sorted(lmbx.series)
    if revision is not None and revision not in lmbx.series:
        have = ", ".join(f"v{r}" for r in revisions)
        raise SourceError(f"no v{revision} in {source} (it has {have})")
    _prime_patch_ids(lmbx)
    if revision is None and len(revisions) > 1:
        revision = thread_revision(lmbx)
    try:
        lser = lmbx.get_series(revision=revision, codereview_trailers=False)
    except SystemExit:
        lser = None
    if lser is None:
        raise SourceError(f"no usable patch found in {source}")
    postings.tidy_trailers(lser, source)

    cover_l = lser.patches[0]
    orphans = replies.orphan_trailers(loaded, lser)
    replies.add_to_patches(lser, [(w, t) for w, t in orphans if w != 0])
    cover_trailers = tuple(_trailer(t, "cover") for t in cover_l.followup_trailers) if cover_l else ()
    cover_trailers += tuple(_trailer(t, "cover") for w, t in orphans if w == 0)
    patches, missing = _patches(lser, cover_trailers)
    if not patches:
        raise SourceError(f"no patch found in {source}: is it a thread of replies only?")
    cover = None
    if cover_l is not None:
        cover = Cover(cover_l.msgid, cover_l.subject, _who(cover_l.fromname, cover_l.fromemail),
                      _iso(cover_l), cover_l.body, cover_trailers)
    kept, other_replies = replies.build(loaded, lser)
    first = cover_l or next(p for p in lser.patches[1:] if p is not None)
    replies.add_to_patches(lser, [(w, t) for w, t in orphans if w == 0])
    am_mbox = am_ready_mbox(lser, source) if am else None
    # b4 names a series without a cover letter after its patch 1, "(untitled)" when patch 1
    # is not in the thread: the first patch there names it then.
    subject = cover_l.subject if cover_l is not None else lser.subject
    if cover_l is None and (lser.patches[1] is None if len(lser.patches) > 1 else True):
        subject = first.subject

    series = Series(
        id=series_id(first.msgid, lser.revision),
        revision=lser.revision, expected=lser.expected,
        subject=subject,
        author=_who(lser.fromname or first.fromname, lser.fromemail or first.fromemail),
        date=_iso(first), msgid=first.msgid, cover=cover, patches=tuple(patches),
        missing=tuple(missing), duplicates=tuple(loaded.duplicates),
        other_revisions=tuple(r for r in revisions if r != lser.revision),
        base_commit=lser.base_commit, prerequisite_patch_ids=tuple(lser.prereq_patch_ids or ()),
        change_id=lser.change_id, replies=tuple(kept),
        warnings=tuple(_warnings(lser, loaded, missing, revisions, unreadable)), source=source,
        link=f"{link_base.rstrip('/')}/{first.msgid}/" if link_base else None, other_replies=other_replies,
    )
    return valid_text(series), am_mbox


