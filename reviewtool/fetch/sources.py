"""What SOURCE is: a message-id, a lore URL, an mbox, a maildir, a patch directory or stdin.

Pure classification; nothing here reads the network or imports b4.
"""

from __future__ import annotations

import os
import stat

from reviewtool import rx
from reviewtool.errors import SourceError
from reviewtool.paths import path_is, pathlib_form
from reviewtool.record import record

# Trailing parts of a public-inbox URL after the message-id.
_URL_TAILS = {"", "T", "t", "raw", "t.mbox.gz", "t.atom", "t.mbox", "mbox", "#r", "t.mbox.gz/"}
_REDIRECT_HOSTS = {"patch.msgid.link", "msgid.link"}
_BAD_MSGID = rx.compile(r"[\s<>\x00-\x1f\x7f\"]")
_UNPRINTABLE = rx.compile(r"[\x00-\x1f\x7f-\x9f]+")


def shown(text: str, limit: int = 120) -> str:
    """Server-given text (a URL, a header) made safe for one line of an error message."""
    text = _UNPRINTABLE.sub("?", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_url(url: str, what: str = "the public-inbox URL") -> str:
    """url if it is an http(s) URL with a host (no query, no fragment); SourceError otherwise."""
    bad = SourceError(f"{what} {shown(url)!r} is not an http:// or https:// URL with a host")
    if _UNPRINTABLE.search(url) or " " in url:
        raise bad
    if url in _CHECKED:
        return url
    import urllib.parse  # (and ipaddress: 3 ms of a local check, where the URL is the default)

    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise bad
    return url


_CHECKED = {"https://lore.kernel.org/all"}  # config.DEFAULT_LORE_URL: passes check_url (tested)


@record
class Source:
    kind: str  # "msgid" | "mbox" | "maildir" | "dir" | "stdin"
    msgid: str | None = None
    path: str | None = None  # as pathlib spells it: no "." parts, no doubled or trailing "/"
    inbox_url: str | None = None  # base URL given by a lore-style URL, e.g. https://host/list


def clean_msgid(text: str) -> str:
    """A bare message-id from `<id>`, `id:...`, or `id`; refuses what cannot be one."""
    mid = text.strip()
    if mid.startswith("id:"):
        mid = mid[3:]
    mid = mid.strip().removeprefix("<").removesuffix(">")
    local, _, domain = mid.rpartition("@")
    if (not local or not domain or _BAD_MSGID.search(mid) or mid.startswith("-") or "://" in mid
            or len(mid) > 998):
        raise SourceError(f"'{text}' is not a message-id, a lore URL or a readable mbox/maildir/directory")
    return mid


def _from_url(url: str) -> Source:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourceError(f"unsupported URL '{url}': give an http(s) public-inbox URL")
    segs = [urllib.parse.unquote(s) for s in parts.path.split("/")]
    segs = [s for s in segs if s != ""]
    if parts.netloc in _REDIRECT_HOSTS:
        if not segs:
            raise SourceError(f"no message-id in '{url}'")
        return Source("msgid", msgid=clean_msgid(segs[0]))
    # /<list>/<msgid>/[T/|t.mbox.gz|raw|...] or /r/<msgid>
    for i, seg in enumerate(segs):
        if "@" in seg:
            tail = segs[i + 1:]
            if tail and tail[0] not in _URL_TAILS:
                raise SourceError(f"unrecognised lore URL '{url}'")
            listpath = "/".join(segs[:i])
            if listpath in ("", "r"):
                return Source("msgid", msgid=clean_msgid(seg))
            base = f"{parts.scheme}://{parts.netloc}/{listpath}"
            return Source("msgid", msgid=clean_msgid(seg), inbox_url=base)
    raise SourceError(f"no message-id in '{url}'")


def classify(source: str) -> Source:
    """Decide what SOURCE names. An existing path wins over a message-id look-alike."""
    if source == "-":
        return Source("stdin")
    if not source.strip():
        raise SourceError("SOURCE is empty: give a message-id, a lore URL, an mbox, a maildir or a directory")
    if source.startswith(("http://", "https://")):
        return _from_url(source)
    path = pathlib_form(source)
    if not source.startswith("-"):
        try:
            if path_is(path, stat.S_ISDIR):
                if all(path_is(os.path.join(path, d), stat.S_ISDIR) for d in ("cur", "new")):
                    return Source("maildir", path=path)
                return Source("dir", path=path)
            if path_is(path, stat.S_ISREG):
                return Source("mbox", path=path)
        except OSError as e:
            raise SourceError(f"cannot read '{source}': {e.strerror}") from None
    if "@" in source or source.startswith("id:"):
        return Source("msgid", msgid=clean_msgid(source))
    raise SourceError(f"'{source}' is not a message-id, a lore URL or a readable mbox/maildir/directory")
