"""Replies split into comments: the quoted lines each answers and the words under them."""

from __future__ import annotations

import email.utils
import re

from reviewtool import rx
from reviewtool.model import Reply
from reviewtool.record import NamedTuple

_ATTRIBUTION = rx.compile(r"(wrote|writes|said|a écrit|schrieb)\s*:\s*$", re.I)
_TRAILER = rx.compile(r"^[A-Za-z][A-Za-z0-9-]*-by:\s+\S|^(Fixes|Link|Cc):\s+\S", re.I)
_GREETING = rx.compile(r"^(hi|hello|hey|dear)\b[^.?!]{0,40}[,!]?$", re.I)
_CLOSING = rx.compile(r"^(thanks|thank you|cheers|regards|best regards|br|thx)\b[^.?!]{0,30}[,.!]?$", re.I)
_QUOTE = rx.compile(r"(?:> ?)+")
_LIST_FOOTER = rx.compile(r"^_{20,}$")  # mailman's footer ("____\n<list> mailing list\n<url>"): not the writer's
MAX_COMMENTS = 200  # comments read from one reply: a mail that quotes a whole patch line by line stops here


class RawComment(NamedTuple):
    """One comment as written: the reply it is in, what it quotes, and the writer's words."""

    reply: Reply
    quote: tuple[str, ...]  # the quoted lines, "> " removed (the innermost level only)
    words: str


def address(who: str) -> str:
    """The lower-cased mail address in 'Name <addr>' (or the text itself)."""
    return (email.utils.parseaddr(who)[1] or who).strip().lower()


def name(who: str) -> str:
    """The name in 'Name <addr>' (or the address)."""
    real, addr = email.utils.parseaddr(who)
    return real or addr or who


def _unquote(line: str) -> tuple[int, str]:
    """(quote depth, the line without its quote marks); one space after each mark is the mark's."""
    m = _QUOTE.match(line)
    if not m:
        return 0, line
    return m.group(0).count(">"), line[m.end():]


def _own_words(lines: list[str]) -> str:
    """The writer's lines with greetings, sign-offs, trailers and the signature left out."""
    kept: list[str] = []
    for line in lines:
        s = line.strip()
        if s == "--" or _CLOSING.match(s) or _LIST_FOOTER.match(s):
            break  # the signature, or "Thanks," and the name under it
        if _TRAILER.match(s) or _ATTRIBUTION.search(s) or _GREETING.match(s):
            continue
        kept.append(line.rstrip())
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    text = "\n".join(kept)
    return text if len(rx.sub(r"\W", "", text)) >= 3 else ""


def split(reply: Reply) -> list[RawComment]:
    """The comments of one reply, in order: each run of quoted lines with the words written
    under it; words above the first quote are a comment with no quote.

    Lines quoted more than once (`> >`) are what the quoted mail itself quoted: they are
    dropped, so a comment answers the mail it replies to."""
    out: list[RawComment] = []
    quote: list[str] = []
    words: list[str] = []

    def flush() -> None:
        text = _own_words(words)
        if reply.trailers and not quote:
            return  # the words that come with a trailer given: recorded as the trailer
        if text and len(out) < MAX_COMMENTS:
            out.append(RawComment(reply, tuple(quote), text))

    for line in reply.body.split("\n"):
        if line.rstrip() in ("-- ", "--") or _LIST_FOOTER.match(line.strip()):
            break
        depth, rest = _unquote(line)
        if depth == 0:
            words.append(line)
            continue
        if words and _own_words(words):
            flush()
            quote = []
        words = []
        if depth == 1:
            quote.append(rest)
    flush()
    return out
