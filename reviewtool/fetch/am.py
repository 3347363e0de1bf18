"""The am-ready mbox of a series: b4's `get_am_ready`, written as `b4 am` writes it.

One case b4 cannot take: a patch whose author has a name and an address that is not ASCII
(`Jörg <jörg@exämple.org>`, RFC 6532, or `Jo Ä@b <a@b.org>`, which `git mailinfo` reads as
such): b4 formats the mailinfo author with `email.utils.formataddr`, which refuses such an
address. For those patches b4 is shown a placeholder sender, and the am message gets the
author back as `Name <address>` in UTF-8, as `git mailinfo` reads it (unless an in-body
`From:` named the author, which b4 keeps).
"""

from __future__ import annotations

import email.utils
import re
from email.message import EmailMessage
from typing import Any

import b4

from reviewtool.errors import SourceError
from reviewtool.fetch.mbox import HEADER_ERRORS, am_mbox

_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def who(name: str, addr: str) -> str:
    """`Name <addr>` as a header shows it; the address alone when there is no other name."""
    if not name or name == addr:
        return addr
    try:
        return email.utils.formataddr((name, addr))
    except UnicodeError:  # formataddr refuses an address that is not ASCII
        return f'"{email.utils.quote(name)}" <{addr}>' if _SPECIALS.search(name) else f"{name} <{addr}>"


def _header(msg: EmailMessage, name: str) -> str | None:
    """The header as b4 reads it, None if the parser fails on it."""
    try:
        return str(msg.get(name, ""))
    except HEADER_ERRORS:
        return None


def _b4_cannot_take(lmsg: Any) -> bool:
    """Whether b4's get_am_message would fail on lmsg's From, Date or Subject: a header the
    parser fails on, or a From: that gives `git mailinfo` a named author with a non-ASCII address."""
    if _header(lmsg.msg, "Date") is None or _header(lmsg.msg, "Subject") is None:
        return True
    sender = _header(lmsg.msg, "From")
    if sender is None:
        return True
    return not sender.isascii() and any("@" in tok and not tok.isascii() for tok in sender.split())


def _with_sender(lmsg: Any, addr: str) -> EmailMessage:
    """What b4's get_am_message reads of lmsg's message (From, Date, Subject), From: addr."""
    proxy = EmailMessage(policy=b4.emlpolicy)
    proxy["From"] = addr
    date = _header(lmsg.msg, "Date")
    if date:
        proxy["Date"] = "".join(date.splitlines())
    proxy["Subject"] = "".join((_header(lmsg.msg, "Subject") or lmsg.full_subject).splitlines())
    return proxy


def am_ready_mbox(lser: Any, source: str) -> bytes:
    """`b4 am`'s mbox for the series: b4's am-ready messages (trailers applied, no Link:)."""
    swapped: dict[str, tuple[Any, EmailMessage]] = {}
    for lmsg in lser.patches[1:]:
        if lmsg is not None and _b4_cannot_take(lmsg):
            placeholder = f"author-{len(swapped)}@reviewtool.invalid"
            swapped[placeholder] = (lmsg, lmsg.msg)
            lmsg.msg = _with_sender(lmsg, placeholder)
    try:
        am_msgs = lser.get_am_ready(addlink=False, allowbadchars=True)
    except SystemExit:  # b4 exits where a command would; here it means no am-ready messages
        am_msgs = []
    except UnicodeError:  # an in-body From: with such an address: b4 gives up on it
        raise SourceError(f"{source}: b4 cannot write the am mbox: a patch names its author with an "
                          "address that is not ASCII in an in-body From: line") from None
    except HEADER_ERRORS as e:  # git mailinfo found nothing in a patch, say
        raise SourceError(f"{source}: b4 cannot write the am mbox ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:100] if str(e) else 'no detail'})") from None
    finally:
        for lmsg, original in swapped.values():
            lmsg.msg = original
    for msg in am_msgs:
        found = swapped.get(str(msg.get("From", "")))
        if found is not None:  # the header's author, not an in-body From:
            msg.replace_header("From", who(found[0].fromname, found[0].fromemail))
    return am_mbox(am_msgs)
