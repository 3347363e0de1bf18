"""Mail of the plain shape, read without the email package.

Importing the email package (its parser, header registry and utils, with socket, random,
urllib and calendar behind them) and parsing 16 mails' headers with it is about 40 ms of
the 180 a local `check series.mbox` takes. Most mail `git format-patch` and `git send-email`
write needs none of it: ASCII headers, one text/plain part in 7bit or 8bit, plain
`Name <addr>` addresses and an RFC 5322 date. `parse` reads such a mail and returns None
for anything else (an encoded word, a MIME part, a comment in an address, a CR, an
obsolete date...), and the caller then parses the whole thread with the email package.

What a LightMessage answers is what the email package answers for the same bytes, as
reviewtool reads them: the raw headers, the header values (fetch/headers.py), the body,
the sender and recipients as `email.utils.getaddresses` reads them, the date, and the
thread written back as b4's `save_mboxrd_mbox` writes it. tests/test_lightmail.py
compares each with the email package on every fixture mail, on generated headers and
addresses, and benchmarks/compare_lightmail.py on every mail of real archives.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator

from reviewtool import rx
from reviewtool.fetch.mbox import MAX_LIST_CHARS, MBOX_FROM, MSGID_RE  # longer lists are cut there

_ADDRESS_HEADERS = frozenset(("from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to",
                              "resent-cc", "resent-bcc", "resent-sender"))
_LIST_HEADERS = _ADDRESS_HEADERS | {"references", "in-reply-to"}
# Headers the header registry parses into something other than unstructured text: a
# LightMessage refuses to be asked for them (the readers ask only for those below).
_STRUCTURED = _ADDRESS_HEADERS | {"date", "resent-date", "orig-date", "mime-version", "content-type",
                                  "content-disposition", "content-transfer-encoding", "message-id"}

_HEADER_NAME = rx.compile(r"[\x21-\x39\x3b-\x7e]+")
_PRINTABLE = rx.compile(r"[\t\x20-\x7e]*")
# text/plain and simple parameters (a token or a quoted string without escapes): charset,
# and others the email package reads no differently in a body (format=flowed, delsp=yes)
_PARAM = r'\s*;\s*([A-Za-z][A-Za-z0-9-]*)=(?:"([\w.:/ +-]*)"|([\w.:+-]+))'
_CTYPE = rx.compile(rf"text/plain(?:{_PARAM})*\s*", re.I)
_PARAMS = rx.compile(_PARAM)
_CTE = rx.compile(r"\s*(?:7bit|8bit)\s*", re.I)
_INLINE = rx.compile(r"inline\s*(?:;.*)?", re.I)  # what mutt and others add to a plain mail

# An address as `email.utils.getaddresses` and the header registry read alike: a dot-atom
# local part and domain, bare, in <>, or after a name (atoms and dots, single spaces; or a
# quoted string of plain characters) and one space.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDR = rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_UNICODE = r"[^\x00-\x7f\s]"  # a letter of a name in a trailer (headers of a light mail are ASCII)
_MAILBOX = rx.compile(
    rf"(?:(?P<name>(?:{_ATEXT}|{_UNICODE})+(?: (?:[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~.-]|{_UNICODE})+)*)"
    rf'|"(?P<quoted>[A-Za-z0-9!#$%&\'*+/=?^_`{{|}}~.,:;@<>()\[\]-]+(?: [A-Za-z0-9!#$%&\'*+/=?^_`{{|}}~.,:;@<>()\[\]-]+)*)")'
    rf" <(?P<addr>{_ADDR})>|(?P<bare>{_ADDR})|<(?P<angle>{_ADDR})>")

_SEPARATOR = rx.compile(r" ?, ?")
_BLANKS = rx.compile(r"[ \t\r\n]+")

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}
_DATE = rx.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), +)?([0-9]{1,2}) +([A-Za-z]{3}) +([0-9]{4}) +"
                   r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))? +([+-])([01][0-9]|2[0-3])([0-5][0-9])")
_FROM_LINE = rx.compile(rb"^From ", re.M)


def _spaced(text: str) -> str:
    """Runs of blanks and line breaks as one space, none at the ends (Unicode spaces are kept:
    the email package reads them as letters)."""
    return _BLANKS.sub(" ", text).strip(" ")


def mailbox(text: str) -> tuple[str, str] | None:
    """(name, address) of one plain address (`Name <a@b>`, `"N. Name" <a@b>`, `a@b`) as
    `email.utils.parseaddr` reads it; None for any other shape (the caller asks email.utils)."""
    m = _MAILBOX.fullmatch(_spaced(text))
    if m is None or not _quoted_as_written(m, text):
        return None
    return _pair(m)


def _quoted_as_written(m: re.Match[str], text: str) -> bool:
    """Whether a quoted name is in the text as matched (blanks in quotes are kept, not made one space)."""
    quoted = m.group("quoted")
    return quoted is None or f'"{quoted}"' in text


def _pair(m: re.Match[str]) -> tuple[str, str]:
    if m.group("addr") is None:
        return "", m.group("bare") or m.group("angle")
    return m.group("name") or m.group("quoted"), m.group("addr")


def mailboxes(values: Iterable[str]) -> list[tuple[str, str]] | None:
    """`email.utils.getaddresses(values)` for comma-separated plain addresses; None otherwise."""
    out = []
    for value in values:
        text = _spaced(value)
        pos = 0
        while True:
            m = _MAILBOX.match(text, pos)
            if m is None or not _quoted_as_written(m, value):
                return None
            out.append(_pair(m))
            sep = _SEPARATOR.match(text, m.end())
            if sep is None:
                break
            pos = sep.end()
        if m.end() != len(text):
            return None
    return out


def date(text: str) -> datetime.datetime | None:
    """An RFC 5322 date (`Tue, 3 Aug 2021 14:54:00 -0400`) as fetch/headers.py's date reads
    it through the email package (-0000 as UTC); None for any other shape or a day that is
    not in the calendar."""
    m = _DATE.fullmatch(text.strip())
    if m is None:
        return None
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    offset = (int(zh) * 3600 + int(zm) * 60) * (-1 if sign == "-" else 1)
    if offset == 0:
        tz = datetime.UTC
    else:
        tz = datetime.timezone(datetime.timedelta(seconds=offset))
    y = int(year)
    if y < 100:  # as email.utils reads a year of two digits, even written with four ("0099")
        y += 1900 if y > 68 else 2000
    try:
        return datetime.datetime(y, month, int(day), int(hh), int(mm), int(ss or 0), tzinfo=tz)
    except ValueError:
        return None


class LightMessage:
    """One mail of the plain shape (see `parse`)."""

    __slots__ = ("_body", "_headers", "_lower", "sender", "when")

    def __init__(self, headers: list[tuple[str, str]], body: bytes, sender: tuple[str, str],
                 when: datetime.datetime) -> None:
        self._headers = headers
        self._lower = [n.lower() for n, _ in headers]
        self._body = body
        self.sender = sender  # (name, address) as email.utils.getaddresses reads From:
        self.when = when  # the Date:

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """(name, value) as the email parser stores them (value unfolded only by the reader)."""
        return iter(self._headers)

    def get_all(self, name: str, failobj: list[str] | None = None) -> list[str] | None:
        """Every value of an unstructured header, unfolded, as `str()` of the email package's."""
        key = name.lower()
        if key in _STRUCTURED:
            raise KeyError(f"{name}: a structured header (read it through fetch/headers.py)")
        found = ["".join(v.split("\n")) for v in self.raw_values(key)]
        return found or failobj

    def get(self, name: str, failobj: str | None = None) -> str | None:
        found = self.get_all(name)
        return found[0] if found else failobj

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def raw_values(self, name: str) -> list[str]:
        """The raw values of a header (any header), folding kept."""
        key = name.lower()
        return [v for n, (_, v) in zip(self._lower, self._headers, strict=True) if n == key]

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(name, address) of each address of a To:/Cc:-like header, as fetch/headers.py reads
        them from the email package (b4's clean_header of each value, then getaddresses)."""
        found = mailboxes(_spaced(v) for v in self.raw_values(name))  # blanks as b4's clean_header leaves them
        assert found is not None  # parse() took only plain address lists
        return found

    def charset(self) -> str | None:
        """The Content-Type's charset, lower case (get_content_charset())."""
        for value in self.raw_values("content-type"):
            for m in _PARAMS.finditer(" ".join(value.split())):
                if m.group(1).lower() == "charset":
                    found = m.group(2) if m.group(2) is not None else m.group(3)
                    return found.lower() if found else None
        return None

    def payload(self) -> bytes:
        """The body's bytes (get_payload(decode=True) of a 7bit or 8bit part)."""
        return self._body

    def content(self) -> str:
        """The body as `get_body(('plain',)).get_content()` reads it (ASCII when no charset)."""
        try:
            return self._body.decode(self.charset() or "ascii", errors="replace")
        except LookupError:
            return ""

    def flatten(self) -> bytes:
        """The mail as email.generator.BytesGenerator(mangle_from_=True) writes it with b4's policy."""
        head = "".join(f"{n}: " + "\n".join(v.splitlines()) + "\n" for n, v in self._headers)
        return head.encode("ascii") + b"\n" + _FROM_LINE.sub(b">From ", self._body)


def _headers(head: str) -> list[tuple[str, str]] | None:
    headers: list[tuple[str, str]] = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            if not headers:
                return None
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return None
        headers.append((name, value.lstrip(" \t")))
    return headers


def _repeated_param(value: str) -> bool:
    names = [m.group(1).lower() for m in _PARAMS.finditer(value)]
    return len(names) != len(set(names))


def _plain(headers: list[tuple[str, str]]) -> bool:
    """Whether every header is one a LightMessage answers for exactly as the email package does."""
    seen: dict[str, int] = {}
    for name, value in headers:
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        unfolded = " ".join(value.split())
        if "=?" in value or not _PRINTABLE.fullmatch(value.replace("\n", "")):
            return False
        if key in _LIST_HEADERS and len(value) > MAX_LIST_CHARS:
            return False
        if key in _ADDRESS_HEADERS and mailboxes([_spaced(value)]) is None:
            return False
        if key == "content-type" and (not _CTYPE.fullmatch(unfolded) or _repeated_param(unfolded)):
            return False
        if key == "content-transfer-encoding" and not _CTE.fullmatch(unfolded):
            return False
        if key == "content-disposition" and not _INLINE.fullmatch(unfolded):
            return False  # an attachment is not the body the email package finds
        if key.startswith("resent-"):
            return False
        if key == "message-id" and not MSGID_RE.search(value):
            return False
    return seen.get("from") == 1 and seen.get("date") == 1 and seen.get("message-id") == 1 and \
        all(seen.get(k, 0) <= 1 for k in ("subject", "content-type", "content-transfer-encoding", "mime-version",
                                          "content-disposition"))


def parse(raw: bytes) -> LightMessage | None:
    """The mail, if it has the plain shape; None to have the email package read it."""
    end = raw.find(b"\n\n")
    if end <= 0 or b"\r" in raw:
        return None
    try:
        head = raw[:end].decode("ascii")
    except UnicodeDecodeError:
        return None
    headers = _headers(head)
    if headers is None or not _plain(headers):
        return None
    sender = next(v for n, v in headers if n.lower() == "from")
    when = date(next(v for n, v in headers if n.lower() == "date"))
    found = mailbox(_spaced(sender))
    if when is None or found is None:
        return None
    return LightMessage(headers, raw[end + 2:], found, when)


def parse_all(raws: list[bytes]) -> list[LightMessage] | None:
    """Every mail light, or None if one is not of the plain shape."""
    out = []
    for raw in raws:
        msg = parse(raw)
        if msg is None:
            return None
        out.append(msg)
    return out


def thread_mbox(msgs: Iterable[LightMessage]) -> bytes:
    """The thread as fetch/mbox.py's thread_mbox writes it (b4's save_mboxrd_mbox)."""
    return b"".join(MBOX_FROM + m.flatten() for m in msgs)
