"""One message read as b4 0.16's `LoreMessage` reads it, without importing b4.

Importing b4 imports its whole network stack (requests, urllib3, dkim, dns: most of a
local `check`'s time), so the reader of plain postings (plain.py) reads the few things it
needs itself: the subject's prefixes (`LoreSubject`), the header cleaning
(`LoreMessage.clean_header`), the Message-ID (liblore's `get_clean_msgid`), the sender, the
date and the body (`LoreMessage.get_payload`). Each follows b4's code line by line;
tests/test_fetch_plain.py compares them with b4's own on every fixture mail and on
generated hostile ones, and plain.py gives up (b4 reads the mail then) wherever b4 would
take a path not copied here (a date it cannot read, say).
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import TYPE_CHECKING

from reviewtool import rx
from reviewtool.fetch.lightmail import LightMessage
from reviewtool.fetch.mbox import HEADER_ERRORS, MSGID_RE
from reviewtool.record import NamedTuple

if TYPE_CHECKING:
    import email.charset
    from email.message import EmailMessage

    Mail = EmailMessage | LightMessage

DIFF_RE = rx.compile(r"^(---.*\n\+\+\+|GIT binary patch|diff --git \w/\S+ \w/\S+)", flags=re.M | re.I)
DIFFSTAT_RE = rx.compile(r"^\s*\d+ file.*\d+ (insertion|deletion)", flags=re.M | re.I)
_SPECIALS = rx.compile(r'[][\\()<>@,:;".]')


@cache
def _utf8_unencoded() -> email.charset.Charset:
    """utf-8 with headers left unencoded: what `formataddr` uses once b4 is imported (b4 calls
    `email.charset.add_charset('utf-8', None)` for the whole process), made here for this
    module alone, so that a name reads `Jörg`, not `=?utf-8?b?...?=`, whether b4 was imported
    or not."""
    import email.charset

    charset = email.charset.Charset("utf-8")
    charset.header_encoding = None  # type: ignore[assignment]  # what add_charset(..., None) stores
    return charset


_ESCAPES = rx.compile(r'[\\"]')


def formataddr(pair: tuple[str, str]) -> str:
    """email.utils.formataddr as b4's process has it (a non-ASCII name is not encoded); an
    ASCII pair is formatted here as formataddr formats it, without importing email.utils."""
    name, addr = pair
    if name and addr.isascii():
        if not name.isascii():  # the charset leaves it unencoded (and unquoted), if it is text at all
            name.encode("utf-8")
            return f"{name} <{addr}>"
        quotes = '"' if _SPECIALS.search(name) else ""
        escaped = _ESCAPES.sub(r"\\\g<0>", name)
        return f"{quotes}{escaped}{quotes} <{addr}>"
    import email.utils

    return email.utils.formataddr(pair, charset=_utf8_unencoded())


def who(name: str, addr: str) -> str:
    """`Name <addr>` as a header shows it; the address alone when there is no other name."""
    if not name or name == addr:
        return addr
    try:
        return formataddr((name, addr))
    except UnicodeError:  # formataddr refuses an address that is not ASCII
        import email.utils

        return f'"{email.utils.quote(name)}" <{addr}>' if _SPECIALS.search(name) else f"{name} <{addr}>"


def clean_header(hdrval: str | None) -> str:
    """b4's LoreMessage.clean_header."""
    if hdrval is None:
        return ""
    if hdrval.find("=?") >= 0:
        import email.header
        import email.utils

        if rx.search(r"<\S+@\S+>", hdrval, flags=re.I | re.M):
            newaddrs = []
            for addr in email.utils.getaddresses([hdrval]):
                if addr[0].find("=?") >= 0:
                    addr = (clean_header(addr[0]), addr[1])
                if rx.search(r"[^\w\s]", addr[0]):
                    newaddrs.append(f'"{email.utils.quote(addr[0])}" <{addr[1]}>')
                else:
                    newaddrs.append(formataddr(addr))
            return ", ".join(newaddrs)
        decoded = ""
        for hstr, hcs in email.header.decode_header(hdrval):
            if hcs is None:
                hcs = "utf-8"
            try:
                decoded += hstr.decode(hcs, errors="replace")
            except LookupError:
                decoded += hstr.decode("utf-8", errors="replace")
            except (UnicodeDecodeError, AttributeError):
                decoded += hstr
    else:
        decoded = hdrval
    return rx.sub(r"\n?\s+", " ", decoded).strip()


def addresses(msg: Mail, header: str) -> tuple[str, ...]:
    """Every `Name <addr>` of a To:/Cc: header, cleaned as b4 cleans it; () for a header the
    parser fails on (`Cc: a@`, comments nested too deep)."""
    if isinstance(msg, LightMessage):
        return tuple(who(n, a) for n, a in msg.addresses(header) if a)
    import email.utils

    try:
        values = [clean_header(str(v)) for v in msg.get_all(header, [])]
    except HEADER_ERRORS:
        return ()
    return tuple(who(n, a) for n, a in email.utils.getaddresses(values) if a)


def clean_msgid(msg: Mail, header: str = "Message-Id") -> str | None:
    """liblore's get_clean_msgid: the first <...> of the raw value, else of the parsed one."""
    wanted = header.lower()
    raw = next((str(v) for n, v in msg.raw_items() if n.lower() == wanted), None)
    if isinstance(msg, LightMessage) and raw and MSGID_RE.search(raw):
        parsed = None  # a light mail answers only for unstructured headers; the raw one is enough
    else:
        parsed = msg.get(header)
    for value in (raw, parsed):
        if value:
            m = MSGID_RE.search(str(value))
            if m:
                return m.group(1)
    return None


class Subject(NamedTuple):
    """What b4's LoreSubject reads of a subject line."""

    full_subject: str
    subject: str
    reply: bool
    resend: bool
    patch: bool
    revision: int
    counter: int
    expected: int
    revision_inferred: bool
    counters_inferred: bool


def subject(raw: str | None) -> Subject:
    """b4's LoreSubject(raw)."""
    reply = resend = patch = False
    revision, counter, expected = 1, 1, 1
    revision_inferred = counters_inferred = True
    text = rx.sub(r"\s+", " ", clean_header(raw)).strip()
    full = text
    if rx.search(r"^(Re|Aw|Fwd):", text, re.I) or rx.search(r"^\w{2,3}:\s*\[", text):
        text = rx.sub(r"^\w{2,3}:\s*\[", "[", text)
        reply = True
    while True:
        old = text
        text = rx.sub(r"\[([^]]*)\[([^\[\]]*)]", r"[\1\2]", text)
        text = rx.sub(r"\[([^]]*)]([^\[\]]*)]", r"[\1\2]", text)
        if old == text:
            break
    while text.find("[") == 0:
        m = rx.search(r"^\[([^]]*)]", text)
        if not m:
            break
        bracketed = rx.sub(r"(patch)(v\d+)", r"\1 \2", m.groups()[0].strip(), flags=re.I)
        for chunk in bracketed.split():
            chunk = chunk.strip(",;")
            if rx.search(r"^\d{1,4}/\d{1,4}$", chunk):
                n, of = chunk.split("/")
                counter, expected, counters_inferred = int(n), int(of), False
            elif rx.search(r"^v\d+$", chunk, re.IGNORECASE):
                revision, revision_inferred = int(chunk[1:]), False
            elif chunk.lower().find("rfc") == 0:
                pass
            elif chunk.lower().find("resend") == 0:
                resend = True
            elif chunk.lower().find("patch") == 0:
                patch = True
        text = rx.sub(r"^\s*\[[^]]*]\s*", "", text)
    return Subject(full, text, reply, resend, patch, revision, counter, expected, revision_inferred,
                   counters_inferred)


def sender(msg: Mail) -> tuple[str, str]:
    """(fromname, fromemail) as b4 reads them; the address stands for a missing name."""
    if isinstance(msg, LightMessage):
        name, addr = msg.sender
        return (name if name.strip() else addr), addr
    import email.utils

    found = email.utils.getaddresses([clean_header(str(x)) for x in msg.get_all("from", [])])
    if not found:
        return "", ""
    name, addr = found[0]
    return (name if name.strip() else addr), addr


def date(msg: Mail) -> datetime.datetime | None:
    """The Date: as b4 reads it; None where b4 would take the current time (no Date:, or
    one it cannot read)."""
    if isinstance(msg, LightMessage):
        return msg.when
    import email.utils

    value = msg.get("Date")
    if not value:
        return None
    dtuple = email.utils.parsedate_tz(str(value))
    if dtuple is None:
        return None
    if dtuple[-1] is not None and abs(dtuple[-1]) > 86400:
        when = datetime.datetime(*dtuple[:6], tzinfo=datetime.UTC)
    else:
        when = email.utils.parsedate_to_datetime(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.UTC)


def payload(msg: Mail) -> str | None:
    """b4's LoreMessage.get_payload(msg, use_patch=True)'s body: the first text/plain or
    x-patch part, or a later one with a diff. None for a part whose charset Python does not
    know (b4 rewrites the part's header then: that is left to b4)."""
    if isinstance(msg, LightMessage):  # one text/plain part
        try:
            return msg.payload().decode(msg.charset() or "utf-8", errors="replace")
        except LookupError:
            return None
    mcharset = msg.get_content_charset() or "utf-8"
    body = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype.find("/plain") < 0 and ctype.find("/x-patch") < 0:
            continue
        data = part.get_payload(decode=True)
        if data is None or not isinstance(data, bytes):
            continue
        charset = part.get_content_charset() or mcharset
        try:
            text = data.decode(charset, errors="replace")
        except LookupError:
            return None
        mcharset = charset
        if body is None:
            body = text
        elif DIFF_RE.search(text):
            body = text
    return body if body is not None else ""
