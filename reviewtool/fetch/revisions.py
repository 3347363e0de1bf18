"""Earlier revisions of a series: found on the public-inbox (one search, and the version
links of cover letters) or in the store, returned as ordinary Series with their replies.

Only mail dated before the series counts, and never the series' own thread: the search asks
for messages dated before it (`dt:..`), whole threads (`t=1`), and what comes back is split
into threads and read by b4 revision by revision, as `fetch` reads one thread. The ledger
(history/) drops what is left of later mail (replies sent after this revision).
"""

from __future__ import annotations

import email.utils
import urllib.parse
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from reviewtool import rx
from reviewtool.errors import ReviewtoolError
from reviewtool.model import Series, when
from reviewtool.record import NamedTuple

MAX_LINKS = 20  # version links followed from cover letters in one run
_LINK = rx.compile(r"https?://[^\s<>\"']+?/(?:r/)?([^/\s<>\"']+@[^/\s<>\"']+?)/?(?=[\s<>\"')\]]|$|/[A-Za-z])")
_PHRASE_BAD = rx.compile(r"[\"()\[\]]")


class Found(NamedTuple):
    """An earlier revision and what fetch would store for it."""

    series: Series
    am_mbox: bytes | None
    thread_mbox: bytes
    found_by: str  # "change-id", "subject", "link", "store"


def _address(who: str) -> str:
    return (email.utils.parseaddr(who)[1] or who).strip().lower()


def _when(date: str) -> datetime:
    return when(date, unreadable_last=True)  # a mail of unknown date is never "before the series"


def _subjects(series: Series) -> list[str]:
    subs = [series.subject] + [p.subject for p in series.patches]
    out = []
    for s in subs:
        s = " ".join(_PHRASE_BAD.sub(" ", s).split())
        if len(s) >= 8 and s not in out:
            out.append(s)
    return out


def query(series: Series) -> str:
    """The public-inbox search for series' earlier revisions: its change-id or any of its
    subjects, in mail dated before it."""
    terms = [f's:"{s}"' for s in _subjects(series)]
    if series.change_id:
        terms.insert(0, f'nq:"change-id: {series.change_id}"')
    before = (_when(series.date).astimezone(UTC) - timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    return f"({' OR '.join(terms)}) AND dt:..{before}"


def links(text: str) -> list[str]:
    """The message-ids of lore-style links in text (version links in a cover letter)."""
    return list(dict.fromkeys(urllib.parse.unquote(m) for m in _LINK.findall(text)))


def related(current: Series, other: Series) -> str | None:
    """How other is an earlier revision of current ("change-id", "subject"), or None."""
    if other.msgid == current.msgid or other.revision >= current.revision:
        return None
    if _when(other.date) >= _when(current.date):
        return None
    if current.change_id and other.change_id == current.change_id:
        return "change-id"
    if _address(other.author) != _address(current.author):
        return None
    ours = {s.lower() for s in _subjects(current)}
    if ours & {s.lower() for s in _subjects(other)}:
        return "subject"
    return None


def from_store(current: Series, stored: Iterable[Series]) -> list[Found]:
    """The earlier revisions of current among stored series (nothing is fetched)."""
    out = []
    for s in stored:
        if related(current, s) is not None:
            out.append(Found(s, b"", b"", "store"))
    return out


def _threads(msgs: list[EmailMessage]) -> list[list[EmailMessage]]:
    """msgs grouped into threads (by Message-ID, In-Reply-To and References)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def ids(msg: EmailMessage, header: str) -> list[str]:
        try:
            return rx.findall(r"<([^<>\s]+)>", " ".join(str(v) for v in msg.get_all(header, [])))
        except (ValueError, LookupError, TypeError, AttributeError, UnicodeError):
            return []

    keys = []
    for msg in msgs:
        own = ids(msg, "Message-ID")
        key = own[0] if own else f"anon-{id(msg)}"
        keys.append(key)
        parent.setdefault(key, key)
        for other in ids(msg, "In-Reply-To") + ids(msg, "References"):
            parent.setdefault(other, other)
            a, b = root(key), root(other)
            if a != b:
                parent[a] = b
    groups: dict[str, list[EmailMessage]] = {}
    for key, msg in zip(keys, msgs, strict=True):
        groups.setdefault(root(key), []).append(msg)
    return list(groups.values())


def _series_in(msgs: list[EmailMessage], where: str, link_base: str, below: int
               ) -> list[tuple[Series, bytes | None, bytes]]:
    """Every revision below `below` in one thread, as fetch reads a thread."""
    from reviewtool.fetch import mbox, thread

    out: list[tuple[Series, bytes | None, bytes]] = []
    try:
        newest, am = thread.build_series(msgs, None, where, link_base, mbox.Unreadable())
        raw = mbox.thread_mbox(msgs)
        revisions = sorted({newest.revision, *newest.other_revisions})
        for r in revisions:
            if r >= below:
                continue
            s, am_r = (newest, am) if r == newest.revision else thread.build_series(
                msgs, r, where, link_base, mbox.Unreadable())
            out.append((s, am_r, raw))
    except (ReviewtoolError, RecursionError):
        return out  # a thread that holds no usable patch: not a revision
    return out


def search(current: Series, lore_url: str, *, timeout: float, max_bytes: int) -> list[Found]:
    """current's earlier revisions on the public-inbox at lore_url: one search by change-id
    and subjects, then the version links of the cover letters found (at most MAX_LINKS)."""
    import liblore.utils

    from reviewtool.fetch import http, lore, mbox

    lore.setup_b4(lore_url)
    base = lore.inbox_base(lore_url)
    raw = http.search_mbox(base, query(current), timeout=timeout, max_bytes=max_bytes)
    msgs = mbox.parse_all(liblore.utils.split_and_dedupe_as_bytes(raw), mbox.Unreadable()) if raw else []
    found: dict[tuple[int, str], Found] = {}
    seen = {current.msgid, *(p.msgid for p in current.patches), *(r.msgid for r in current.replies)}
    for group in _threads(msgs):
        for s, am, thread_raw in _series_in(group, f"the search on {base}", lore_url, current.revision):
            how = related(current, s)
            if how is not None:
                found.setdefault((s.revision, s.msgid), Found(s, am, thread_raw, how))
            seen.update(p.msgid for p in s.patches)
            seen.add(s.msgid)
    todo = [m for m in links(current.cover.body if current.cover else "") if m not in seen]
    followed = 0
    while todo and followed < MAX_LINKS:
        msgid = todo.pop(0)
        if msgid in seen:
            continue
        seen.add(msgid)
        followed += 1
        try:
            got = lore.fetch_thread(msgid, lore_url, timeout=timeout, max_bytes=max_bytes, unreadable=mbox.Unreadable())
        except ReviewtoolError:
            continue  # a link to a mail that is not on this server
        for s, am, thread_raw in _series_in(got, f"<{msgid}> on {base}", lore_url, current.revision):
            if s.msgid in {f.series.msgid for f in found.values()} or _when(s.date) >= _when(current.date):
                continue
            found[(s.revision, s.msgid)] = Found(s, am, thread_raw, "link")
            todo.extend(links(s.cover.body if s.cover else ""))
    return sorted(found.values(), key=lambda f: (f.series.revision, f.series.date))


def code_query(series: Series, functions: Iterable[str]) -> str:
    """The public-inbox search for earlier patches that changed one of functions: their names
    in diff hunk headers (`dfhh:`, a Xapian diff prefix: the inbox needs indexlevel medium or
    full), in mail dated before series."""
    names = [f for f in functions if rx.fullmatch(r"[A-Za-z_]\w*", f)]
    before = (_when(series.date).astimezone(UTC) - timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    return f"({' OR '.join(f'dfhh:{n}' for n in names)}) AND dt:..{before}"


def code_search(current: Series, functions: Iterable[str], lore_url: str, *, timeout: float,
                max_bytes: int) -> list[Series]:
    """Other series, dated before current, whose patches changed one of functions (with their
    replies): one search, whole threads. current's own earlier revisions are left out (history
    proper reads those)."""
    import liblore.utils

    from reviewtool.fetch import http, lore, mbox

    names = list(functions)
    if not names:
        return []
    lore.setup_b4(lore_url)
    base = lore.inbox_base(lore_url)
    raw = http.search_mbox(base, code_query(current, names), timeout=timeout, max_bytes=max_bytes)
    msgs = mbox.parse_all(liblore.utils.split_and_dedupe_as_bytes(raw), mbox.Unreadable()) if raw else []
    own = {current.msgid, *(p.msgid for p in current.patches), *(r.msgid for r in current.replies)}
    cutoff = _when(current.date)
    out: list[Series] = []
    for group in _threads(msgs):
        for s, _am, _raw in _series_in(group, f"the search on {base}", lore_url, 1 << 30):
            if s.msgid in own or own & {p.msgid for p in s.patches} or _when(s.date) >= cutoff:
                continue
            if (current.change_id and s.change_id == current.change_id) or related(current, s) is not None:
                continue
            out.append(s)
    return sorted(out, key=lambda s: s.date)
