"""One reply as a mail `git send-email` takes: ASCII headers, an 8bit UTF-8 body, lines under 998 bytes.

The names, addresses, subjects and message-ids come from mail anyone can send. Names go
out as RFC 2047 encoded words (a name with "@", "," or quotes included); an address with
a non-ASCII domain goes out with the domain in IDNA (`xn--`) form, the same address in
ASCII. An address with a non-ASCII local part has no ASCII form: only SMTPUTF8 carries it,
and git send-email does not speak SMTPUTF8, so it is left out of To/Cc and an
`X-Reviewtool-Warning:` header says so. Control characters never reach a header (a
subject with "\\r\\nBcc: x" stays one Subject line) nor the body.
"""

from __future__ import annotations

import email.header
import email.policy
import email.utils
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from reviewtool import rx
from reviewtool.record import record
from reviewtool.report.safe import clean

WARNING_HEADER = "X-Reviewtool-Warning"
MAX_LINE_BYTES = 998  # RFC 5322; git send-email refuses a longer line
# Fold only past RFC 5322's hard limit: a folded Subject reads badly in mail clients.
_POLICY = email.policy.default.clone(max_line_length=MAX_LINE_BYTES)
_ANGLE = rx.compile(r"(.*?)\s*<([^<>]*)>")
_NOT_IN_ADDRESS = rx.compile(r"[\s<>,;\"\\]")
_QUOTED_PAIR = rx.compile(r"\\(.)")


@record
class Mailbox:
    """A mailbox read from mail text: the name to show, and the address if it can be sent to."""

    name: str
    address: Address | None  # None: `problem` says why it cannot go in a header
    problem: str = ""

    @property
    def key(self) -> str:
        """What tells two mailboxes apart: the address, case-folded."""
        return self.address.addr_spec.lower() if self.address is not None else ""


def _decoded(name: str) -> str:
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        name = _QUOTED_PAIR.sub(r"\1", name[1:-1])
    if "=?" in name:  # the fetch layer may keep a name RFC 2047-encoded, as formataddr writes it
        try:
            name = str(email.header.make_header(email.header.decode_header(name)))
        except (ValueError, LookupError, UnicodeError):
            pass
    return " ".join(clean(name).split())


def _ascii_domain(domain: str) -> str | None:
    """The domain in ASCII (IDNA), or None when IDNA would name another domain (`straße` -> `strasse`)."""
    if domain.isascii():
        return domain
    try:
        encoded = domain.encode("idna").decode("ascii")
        if encoded.encode("ascii").decode("idna") != domain.lower():
            return None
    except UnicodeError:
        return None
    return encoded


def mailbox(value: str) -> Mailbox:
    """`Name <addr>`, `"Name, Jr." <addr>`, `=?utf-8?...?= <addr>`, `addr (Name)` or a bare address."""
    text = clean(value).strip()
    m = _ANGLE.fullmatch(text)
    if m is not None:
        name, addr = m.group(1).strip(), m.group(2).strip()
    else:
        got = [(n, a) for n, a in email.utils.getaddresses([text]) if a]
        name, addr = got[0] if len(got) == 1 else ("", text)
    name = _decoded(name)
    local, at, domain = addr.rpartition("@")
    shown = name or addr
    if not at or not local or not domain or _NOT_IN_ADDRESS.search(addr):
        return Mailbox(shown, None, f"{addr or text!r} is not a mail address")
    if not local.isascii():
        return Mailbox(shown, None, f"<{addr}> has a non-ASCII local part, which only SMTPUTF8 carries "
                                    "(git send-email does not use it)")
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        return Mailbox(shown, None, f"<{addr}> has a domain with no faithful IDNA (ASCII) form")
    return Mailbox(shown, Address(display_name=name, username=local, domain=ascii_domain))


def msgid(value: str) -> str | None:
    """A message-id for In-Reply-To/References, or None when it cannot go in an ASCII header."""
    text = rx.sub(r"[\s<>]", "", clean(value))
    return text if text and text.isascii() else None


def fit_line(line: str, limit: int = MAX_LINE_BYTES) -> str:
    """The line, or as much of it as fits in `limit` UTF-8 bytes with an ellipsis and the count."""
    raw = line.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return line
    head = raw[: limit - 40].decode("utf-8", "ignore")
    return f"{head}… [{len(line) - len(head)} more characters]"


def message(sender: Mailbox, to: Mailbox, cc: Sequence[Mailbox], subject: str, own_id: str,
            in_reply_to: str, references: Sequence[str], date: datetime, body: str) -> str:
    """The reply as text; recipients that cannot be written are left out, with a warning header each."""
    msg = EmailMessage(policy=_POLICY)
    warnings: list[str] = []
    msg["From"] = sender.address or Address(display_name=sender.name, username="you", domain="example.org")
    if sender.address is None:
        warnings.append(f"From: {sender.problem}: replace you@example.org before sending")
    if to.address is not None:
        msg["To"] = to.address
    else:
        warnings.append(f"To: {to.name} left out: {to.problem}")
    usable = [m.address for m in cc if m.address is not None]
    warnings += [f"Cc: {m.name} left out: {m.problem}" for m in cc if m.address is None]
    if usable:
        msg["Cc"] = usable
    msg["Subject"] = clean(subject)
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = f"<{own_id}>"
    parent = msgid(in_reply_to)
    if parent is not None:
        msg["In-Reply-To"] = f"<{parent}>"
    else:
        warnings.append("In-Reply-To: left out: the message-id replied to is not ASCII")
    refs = [r for r in dict.fromkeys(msgid(x) for x in references) if r is not None]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    for w in warnings:
        msg[WARNING_HEADER] = w
    text = "\n".join(fit_line(line) for line in clean(body, multiline=True).split("\n"))
    msg.set_content(text, charset="utf-8", cte="8bit")
    # as_bytes keeps the 8bit body; as_string would turn a non-ASCII body into base64
    return msg.as_bytes().decode("utf-8", errors="surrogateescape")
