"""Mail bytes <-> messages, safe for hostile input, in time linear in the size of the mail.

Parsing is Python's email parser with b4's policy, as b4 parses; a message the parser cannot
take (nested deeper than MAX_MIME_DEPTH, so deep the parser itself runs out of stack) is
left out and counted, not allowed to sink the thread. The am mbox is written as b4's
`save_git_am_mbox` writes it, without its quadratic joining of the body line by line.
"""

from __future__ import annotations

import email.parser
import re
from collections.abc import Iterable
from email.message import EmailMessage, Message

import b4
import liblore.utils

from reviewtool.fetch.limits import MAX_MIME_DEPTH

# What Python's email parser raises on some malformed headers, as they are read (`Cc: a@` is
# an IndexError, comments nested 1,000 deep a RecursionError), and what b4 raises on them.
HEADER_ERRORS = (ValueError, LookupError, TypeError, AttributeError, UnicodeError, RecursionError)


class Unreadable(list[str]):
    """Why each left-out message was left out (one short reason per message), and which
    messages they were, when they can be named (their Message-ID and subject)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def append(self, reason: str, name: str | None = None) -> None:
        super().append(reason)
        if name:
            self.names.append(name)

    def summary(self) -> str | None:
        if not self:
            return None
        reasons = ", ".join(dict.fromkeys(self))
        named = ""
        if self.names:
            named = "; they were " + ", ".join(self.names[:5]) + (", ..." if len(self.names) > 5 else "")
        return f"{len(self)} message(s) could not be read and were left out: {reasons}{named}"


def _too_deep(msg: Message) -> bool:
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_MIME_DEPTH:
            return True
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend((p, depth + 1) for p in payload if isinstance(p, Message))
    return False


_RAW_MSGID = re.compile(rb"^Message-ID:[ \t]*<?([^\s<>]{1,200})>?", re.I | re.M)


def _raw_name(data: bytes) -> str | None:
    """The Message-ID of a mail the parser could not take, read from its bytes."""
    head = data[: data.find(b"\n\n")] if b"\n\n" in data else data[:65536]
    m = _RAW_MSGID.search(head)
    return f"<{m.group(1).decode('utf-8', 'replace')}>" if m else None


def parse(data: bytes, unreadable: Unreadable) -> EmailMessage | None:
    """One message, parsed as b4 parses it; None (and a reason in unreadable) if it cannot be."""
    try:
        msg = email.parser.BytesParser(policy=b4.emlpolicy, _class=EmailMessage).parsebytes(data)
    except RecursionError:
        unreadable.append("nested too deeply to parse", _raw_name(data))
        return None
    if _too_deep(msg):
        unreadable.append(f"MIME parts nested more than {MAX_MIME_DEPTH} deep", _raw_name(data))
        return None
    return msg


def split(data: bytes) -> list[bytes]:
    """The raw messages of an mbox (mboxrd `>From ` unescaped, as liblore splits it), or of one mail."""
    if data.startswith(b"From "):
        return list(liblore.utils.split_mbox_as_bytes(data))
    return [data] if data.strip() else []


def parse_all(raws: Iterable[bytes], unreadable: Unreadable) -> list[EmailMessage]:
    out = []
    for raw in raws:
        msg = parse(raw, unreadable)
        if msg is not None:
            out.append(msg)
    return out


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
