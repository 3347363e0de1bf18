"""The am-ready mbox of a series: b4's `get_am_ready`, written as `b4 am` writes it.

One case b4 cannot take: a patch whose author has a name and an address that is not ASCII
(`Jörg <jörg@exämple.org>`, RFC 6532, or `Jo Ä@b <a@b.org>`, which `git mailinfo` reads as
such): b4 formats the mailinfo author with `email.utils.formataddr`, which refuses such an
address. For those patches b4 is shown a placeholder sender, and the am message gets the
author back as `Name <address>` in UTF-8, as `git mailinfo` reads it (unless an in-body
`From:` named the author, which b4 keeps).
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any

import b4

from reviewtool.errors import SourceError
from reviewtool.fetch.headers import who
from reviewtool.fetch.mbox import HEADER_ERRORS

__all__ = ["am_mbox", "am_ready_mbox", "msg_as_am_bytes", "who"]

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


def msg_as_am_bytes(msg: EmailMessage) -> bytes:
    """b4's `LoreMessage.get_msg_as_bytes(msg, headers='decode')`, in linear time.

    b4 grows one bytes object line by line (`bdata += ...`): a 500,000-line patch takes it
    tens of seconds. The same headers (b4's own `wrap_header`) and the same body lines,
    trailing CR/LF stripped as b4's `re.sub(rb'[\\r\\n]*$', b'', line)` strips them, joined once.
    """
    out = []
    for hname, hval in msg.items():
        try:
            out.append(b4.LoreMessage.wrap_header((hname, str(hval)), nl="\n", transform="decode"))
        except UnicodeError:  # an address that is not ASCII: b4's formataddr refuses it
            out.append(f"{hname}: {hval}".encode(errors="surrogateescape"))
    out.append(b"")
    payload = msg.get_payload(decode=True)
    if not isinstance(payload, bytes):
        body_text, _charset = b4.LoreMessage.get_payload(msg, use_patch=True)
        payload = body_text.encode("utf-8", errors="replace")
    out.extend(line.rstrip(b"\r") for line in payload.split(b"\n"))
    return b"\n".join(out) + b"\n"


def am_mbox(msgs: Iterable[EmailMessage]) -> bytes:
    """b4's `save_git_am_mbox`: each message after a `From git@z` line, as `git am` reads it."""
    return b"".join(b"From git@z Thu Jan  1 00:00:00 1970\n" + msg_as_am_bytes(m) for m in msgs)
