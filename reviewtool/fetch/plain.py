"""A plain posting read without b4: the Series b4 would give, or None to let b4 read it.

A plain posting is what `git format-patch`, `git send-email` or `b4 am` writes: one revision's
patches, with or without its cover letter, and nothing else: no reply, no bot mail, no
second posting of a patch, no other revision. For such mail b4's LoreMailbox comes down to
a few header reads (headers.py) and the series bookkeeping below, so a local `check` or
`rebase` of a series file does not pay for importing b4's network stack nor for b4's am
step (one `git mailinfo` a patch). Anything else, or anything b4 would read along a path not
copied here, returns None and the whole thread goes to b4 (fetch/thread.py).

Both readers must give the same Series: tests/test_fetch_plain.py compares them on every
fixture, on format-patch output and on generated hostile mail, and
benchmarks/compare_plain_reader.py on real series from a public-inbox archive.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewtool import rx
from reviewtool.fetch import bots, headers, mbox
from reviewtool.fetch.limits import MAX_SERIES_PATCHES
from reviewtool.fetch.patchids import PatchIds
from reviewtool.fetch.texts import (
    diff_files,
    in_body_trailers,
    missing_warning,
    series_id,
    split_body,
    valid_text,
)
from reviewtool.model import Cover, Patch, Series
from reviewtool.record import NamedTuple
from reviewtool.record import replace as record_replace

if TYPE_CHECKING:
    from email.message import EmailMessage

    from reviewtool.fetch.lightmail import LightMessage

    Mail = EmailMessage | LightMessage

# A line b4's trailer finder could take (`Name: value`): a cover letter that answers another
# mail and has one may be taken by b4 for a reply (it looks for trailers there).
_MAYBE_TRAILER = rx.compile(r"^\s*\w\S+:\s", re.M)
_COUNTER = rx.compile(r"\d+/\d+")
_PREFIX = rx.compile(r"\s*((?:\[[^\]]*\]\s*)+)")


class _Mail(NamedTuple):
    msg: Mail
    msgid: str
    subject: headers.Subject
    fromname: str
    fromemail: str
    date: datetime.datetime
    body: str
    has_diff: bool
    in_reply_to: str | None


class _GiveUp(Exception):
    """The mail is not a plain posting, or b4 would read it along a path not copied here."""


def read(msgs: Sequence[Mail], source: str, link_base: str | None,
         unreadable: mbox.Unreadable) -> Series | None:
    """The Series of msgs if they are a plain posting b4 would read exactly so; else None."""
    found = attempt(msgs, source, link_base, unreadable)
    return found if isinstance(found, Series) else None


def attempt(msgs: Sequence[Mail], source: str, link_base: str | None,
            unreadable: mbox.Unreadable) -> Series | str:
    """The Series, or why the mail is left to b4."""
    if unreadable or not msgs:
        return "mail that could not be read" if unreadable else "no mail"
    try:
        return _series(msgs, source, link_base)
    except _GiveUp as e:
        return str(e)
    except mbox.HEADER_ERRORS as e:
        return f"a header the parser fails on ({type(e).__name__})"


def _mail(msg: Mail) -> _Mail:
    msgid = headers.clean_msgid(msg)
    if not msgid or bots.bot_kind(msg) is not None:
        raise _GiveUp("no Message-ID, or a bot mail")
    raw_subject = msg["Subject"]
    subj = headers.subject(None if raw_subject is None else str(raw_subject))
    if subj.reply or subj.counter > subj.expected:
        raise _GiveUp("a reply, or a patch numbered past its series")
    prefix = _PREFIX.match(headers.clean_header(str(raw_subject or "")))
    if subj.counters_inferred and prefix and _COUNTER.search(prefix.group(1)):
        raise _GiveUp("patch numbers b4 cannot read")  # five digits: b4 takes it for one patch, and a warning says so
    body = headers.payload(msg)
    when = headers.date(msg)
    if body is None or when is None:
        raise _GiveUp("a body or date b4 reads its own way")
    name, addr = headers.sender(msg)
    irt = headers.clean_msgid(msg, "In-Reply-To")
    refs = bool(irt or msg.get("References"))
    has_diff = bool(headers.DIFF_RE.search(body))
    if not has_diff and refs and _MAYBE_TRAILER.search(body):
        raise _GiveUp("a mail that answers another and may carry trailers")
    return _Mail(msg, msgid, subj, name, addr, when, body, has_diff, irt)


def _sorted_out(mails: list[_Mail]) -> tuple[_Mail | None, dict[int, _Mail], int]:
    """(cover letter, patches by number, patches expected), or _GiveUp."""
    cover: _Mail | None = None
    patches: dict[int, _Mail] = {}
    for m in mails:
        s = m.subject
        if s.counter == 0 and (not s.counters_inferred or headers.DIFFSTAT_RE.search(m.body)):
            if cover is not None:
                raise _GiveUp("two cover letters")
            cover = m
        elif m.has_diff:
            if s.counter in patches:
                raise _GiveUp("two postings of one patch")
            patches[s.counter] = m
        else:
            raise _GiveUp("a mail that is neither a patch nor the cover letter")  # b4 may take it for the cover letter
    if not patches:
        raise _GiveUp("no patch")
    if len({m.subject.revision for m in mails}) != 1 or len({m.subject.expected for m in mails}) != 1:
        raise _GiveUp("more than one revision or series length")
    if any(m.subject.counters_inferred for m in patches.values()) and (len(patches) > 1 or cover):
        raise _GiveUp("unnumbered patches")
    expected = mails[0].subject.expected
    if expected > MAX_SERIES_PATCHES:
        raise _GiveUp("more patches than reviewtool reads")
    return cover, patches, expected


def _read_patch(m: _Mail, expected: int) -> Patch:
    """The patch of one mail, without its patch-id (git is asked for all at once)."""
    author = headers.who(m.fromname, m.fromemail)
    message, diff = split_body(m.body)
    return Patch(
        index=m.subject.counter, expected=expected, subject=m.subject.subject,
        full_subject=m.subject.full_subject, msgid=m.msgid, author=author, date=m.date.isoformat(),
        message=message, diff=diff, files=diff_files(diff), trailers=(),
        in_body_trailers=in_body_trailers(message, author), patch_id=None,
        to=headers.addresses(m.msg, "To"), cc=headers.addresses(m.msg, "Cc"),
    )


def _meta(first_two: list[_Mail]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(base-commit, change-id, prerequisite-patch-ids) as b4's LoreSeries.add_patch finds
    them: in patch 1, then the cover letter (the order b4 adds them in)."""
    base = change = None
    prereq: list[str] = []
    for m in first_two:
        if not base and "\nbase-commit:" in m.body:
            found = rx.search(r"^base-commit: .*?([\da-f]+)", m.body, flags=re.I | re.M)
            if found:
                base = found.groups()[0]
        if not change and "\nchange-id:" in m.body:
            found = rx.search(r"^change-id:\s+(\S+)", m.body, flags=re.I | re.M)
            if found:
                change = found.groups()[0]
        if not prereq and "\nprerequisite-patch-id:" in m.body:
            prereq = rx.findall(r"^prerequisite-patch-id:\s+(\S+)", m.body, flags=re.I | re.M)
    return base, change, tuple(prereq)


def _series(msgs: Sequence[Mail], source: str, link_base: str | None) -> Series:
    mails = [_mail(m) for m in msgs]
    if len({m.msgid for m in mails}) != len(mails):
        raise _GiveUp("two mails with one Message-ID")
    cover, by_number, expected = _sorted_out(mails)
    numbered = [by_number[i] for i in sorted(by_number)]
    with_git_diff = [m for m in numbered if "\ndiff --git " in f"\n{m.body}"]
    if len(with_git_diff) != len(numbered):
        raise _GiveUp("a diff without `diff --git`")  # a plain `---`/`+++` diff: b4 asks git for its patch-id its own way
    with PatchIds([m.body for m in numbered]) as running:  # git works while the patches are read
        read = [_read_patch(m, expected) for m in numbered]
        found = running.result()
    if found is None:
        raise _GiveUp("git patch-id failed")
    patches = [record_replace(p, patch_id=pid if p.diff else None) for p, pid in zip(read, found, strict=True)]
    missing = [i for i in range(1, expected + 1) if i not in by_number]
    first = cover or numbered[0]
    one = by_number.get(1)
    base, change, prereq = _meta([m for m in (one, cover) if m is not None])
    named = [m.msgid for m in mails if m.msgid.endswith("@" + mbox.NAMED_DOMAIN)]
    warnings = [w for w in (missing_warning(missing, expected),) if w]
    if named:
        warnings.append(f"{len(named)} mail(s) without a Message-ID (git format-patch files) "
                        "were given ids made from their content")
    if not base:
        warnings.append("no base-commit: rebase will have to guess the base")
    # b4's series subject and author: the cover letter's, else patch 1's; "(untitled)" and
    # the first patch's author when neither is there (fetch/thread.py names it by that patch).
    named_by = cover or one
    revision = first.subject.revision
    series = Series(
        id=series_id(first.msgid, revision),
        revision=revision, expected=expected,
        subject=named_by.subject.subject if named_by else first.subject.subject,
        author=headers.who(named_by.fromname if named_by else first.fromname,
                           named_by.fromemail if named_by else first.fromemail),
        date=first.date.isoformat(), msgid=first.msgid,
        cover=Cover(cover.msgid, cover.subject.subject, headers.who(cover.fromname, cover.fromemail),
                    cover.date.isoformat(), cover.body, ()) if cover else None,
        patches=tuple(patches), missing=tuple(missing), duplicates=(), other_revisions=(),
        base_commit=base, prerequisite_patch_ids=prereq, change_id=change, replies=(),
        warnings=tuple(warnings), source=source,
        link=f"{link_base.rstrip('/')}/{first.msgid}/" if link_base else None, other_replies=0,
    )
    return valid_text(series)
