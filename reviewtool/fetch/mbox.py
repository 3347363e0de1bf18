"""Mail bytes -> messages, safe for hostile input, without importing b4.

Parsing is Python's email parser with b4's policy (the same settings, made here: importing
b4 costs its whole network stack), as b4 parses; a message the parser cannot take (nested
deeper than MAX_MIME_DEPTH, so deep the parser itself runs out of stack) is left out and
counted, not allowed to sink the thread. An mbox is split as liblore splits it (mboxrd), and
a raw thread is written back as b4's `save_mboxrd_mbox` writes it; tests compare both with
b4's and liblore's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from reviewtool import rx
from reviewtool.fetch.limits import MAX_MIME_DEPTH
from reviewtool.fetch.texts import sha1_hex

if TYPE_CHECKING:
    from email.message import EmailMessage, Message
    from email.policy import EmailPolicy


@cache
def policy() -> EmailPolicy[EmailMessage]:
    """b4.emlpolicy and liblore.emlpolicy, made the same way (the email package is imported
    only when a mail is parsed with it: fetch/lightmail.py reads plain mail without it)."""
    import email.policy
    from email.message import EmailMessage

    return email.policy.EmailPolicy(utf8=True, cte_type="8bit", max_line_length=None, message_factory=EmailMessage)

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
    from email.message import Message

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


_RAW_MSGID = rx.compile(rb"^Message-ID:[ \t]*<?([^\s<>]{1,200})>?", re.I | re.M)


def _raw_name(data: bytes) -> str | None:
    """The Message-ID of a mail the parser could not take, read from its bytes."""
    head = data[: data.find(b"\n\n")] if b"\n\n" in data else data[:65536]
    m = _RAW_MSGID.search(head)
    return f"<{m.group(1).decode('utf-8', 'replace')}>" if m else None


def parse(data: bytes, unreadable: Unreadable) -> EmailMessage | None:
    """One message, parsed as b4 parses it; None (and a reason in unreadable) if it cannot be."""
    import email.parser
    from email.message import EmailMessage

    try:
        msg: EmailMessage = email.parser.BytesParser(policy=policy(), _class=EmailMessage).parsebytes(data)
    except RecursionError:
        unreadable.append("nested too deeply to parse", _raw_name(data))
        return None
    if _too_deep(msg):
        unreadable.append(f"MIME parts nested more than {MAX_MIME_DEPTH} deep", _raw_name(data))
        return None
    _cut_long_lists(msg)
    if not _has_msgid(msg):  # a `git format-patch` file: a stable id from its bytes, so b4 can place it
        del msg["Message-ID"]  # an empty one, if any
        msg["Message-ID"] = f"<{named_id(data)}>"
    return msg


# Characters of an address or message-id list header kept. The email package's address parser
# takes time in the square of the number of addresses (8,000 took it 4.8 s; a 1.4 MB Cc of
# 50,000, over a minute, in b4 as well), and b4 builds a message's References one by one,
# checking each against all before it (20,000 ids: 3.8 s); the kernel lists' longest are a
# few KiB.
MAX_LIST_CHARS = 16 * 1024
_ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc")
_ID_HEADERS = ("references", "in-reply-to")


def _cut(name: str, value: str) -> str:
    """value within MAX_LIST_CHARS: an address list after its last whole address; a list of
    message-ids keeps its first (the thread's root) and as many of its last (the parents) as fit."""
    if name in _ID_HEADERS:
        ids = value.split()
        kept: list[str] = []
        room = MAX_LIST_CHARS - len(ids[0]) if ids else 0
        for mid in reversed(ids[1:]):
            room -= len(mid) + 1
            if room < 0:
                break
            kept.append(mid)
        return " ".join(ids[:1] + kept[::-1])
    value = value[:MAX_LIST_CHARS]
    return value[: value.rfind(",")] if "," in value else value


def _cut_long_lists(msg: EmailMessage) -> None:
    """Cut every address or message-id list header longer than MAX_LIST_CHARS, before
    anything (b4 included) parses it."""
    try:
        long = {n.lower() for n, v in msg.raw_items()
                if n.lower() in _ADDRESS_HEADERS + _ID_HEADERS and len(str(v)) > MAX_LIST_CHARS}
        for name in long:
            values = [str(v) for n, v in msg.raw_items() if n.lower() == name]
            del msg[name]
            for value in values:
                msg[name] = _cut(name, value) if len(value) > MAX_LIST_CHARS else value
    except HEADER_ERRORS:
        return  # left as it is: the readers say what they cannot read


NAMED_DOMAIN = "format-patch.reviewtool.invalid"
MSGID_RE = rx.compile(r"<([^>]+)>")  # liblore's get_clean_msgid: the first <...>


def _has_msgid(msg: EmailMessage) -> bool:
    """Whether msg has a Message-ID as liblore's get_clean_msgid reads it (raw value, else parsed)."""
    try:
        raw = next((str(v) for n, v in msg.raw_items() if n.lower() == "message-id"), None)
        return any(v and MSGID_RE.search(str(v)) for v in (raw, msg.get("Message-ID")))
    except HEADER_ERRORS:
        return True  # unreadable: the readers name it as such


def named_id(data: bytes) -> str:
    """The Message-ID given to a mail that has none: the same file gets the same id every time."""
    return f"{sha1_hex(data)[:20]}@{NAMED_DOMAIN}"


# liblore's mbox `From ` line and mboxrd escape
_FROM_LINE = rx.compile(rb"^From \S+.*\d\d:\d\d:\d\d.*\d{4}")
_GT_FROM = rx.compile(rb"^>+From ")


def split(data: bytes) -> list[bytes]:
    """The raw messages of an mbox (mboxrd `>From ` unescaped, as liblore's
    split_mbox_as_bytes splits it), or of one mail."""
    if not data.startswith(b"From "):
        return [data] if data.strip() else []
    msgs: list[bytes] = []
    current: list[bytes] = []
    in_header = False
    for raw_line in data.split(b"\n"):
        line = raw_line + b"\n"
        if len(line) >= 20 and _FROM_LINE.match(line):
            if current:
                msgs.append(b"".join(current))
                current = []
            in_header = True
            continue
        if in_header and line == b"\n":
            in_header = False
        elif not in_header and line.startswith(b">") and _GT_FROM.match(line):
            line = line[1:]
        current.append(line)
    if current:
        msgs.append(b"".join(current))
    return msgs


def parse_all(raws: Iterable[bytes], unreadable: Unreadable) -> list[EmailMessage]:
    out = []
    for raw in raws:
        msg = parse(raw, unreadable)
        if msg is not None:
            out.append(msg)
    return out


MBOX_FROM = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"  # b4's save_mboxrd_mbox's From line


def thread_mbox(msgs: Iterable[EmailMessage]) -> bytes:
    """The raw thread as an mboxrd file: b4's `save_mboxrd_mbox(msgs, mangle_from=True)`."""
    import email.generator
    import io

    out = io.BytesIO()
    gen = email.generator.BytesGenerator(out, mangle_from_=True, policy=policy())
    for msg in msgs:
        out.write(MBOX_FROM)
        gen.flatten(msg)
    return out.getvalue()
