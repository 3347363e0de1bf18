"""Getting messages: a thread from a public-inbox server, or mail from files and stdin."""

from __future__ import annotations

import argparse
import logging
import sys
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

import b4
import liblore.utils

from reviewtool.errors import FetchError, SourceError
from reviewtool.fetch import http, mbox
from reviewtool.fetch.limits import INPUT_ENV, MAX_INPUT_BYTES, MAX_THREAD_MESSAGES, size
from reviewtool.fetch.sources import Source

__all__ = ["MAX_INPUT_BYTES", "fetch_thread", "read_local", "setup_b4"]

logging.getLogger("b4").addHandler(logging.NullHandler())
logging.getLogger("b4").propagate = False


def setup_b4(lore_url: str) -> None:
    """Configure b4 for one run: its server (midmask, for links) and no network at all.

    fetch gets the thread itself (fetch/http.py); b4 only parses, so it must never go to the
    network on its own (attestation look-ups, Patchwork, trailers from other threads).
    """
    b4.setup_config(argparse.Namespace(config={
        "b4.midmask": f"{lore_url.rstrip('/')}/%s",
        "b4.linkmask": f"{lore_url.rstrip('/')}/%s",
        "b4.attestation-policy": "off",
    }))
    b4.can_network = False
    b4.LORENODE = None  # b4 caches the node; never let a stale one be used


def inbox_base(lore_url: str) -> str:
    """The inbox URL b4 would ask: a bare server URL means its `/all` inbox (as b4 does)."""
    url = http.check_url(lore_url.rstrip("/"))
    if urllib.parse.urlsplit(url).path in ("", "/"):
        url += "/all"
    return url


def _too_many(n: int, where: str) -> None:
    if n > MAX_THREAD_MESSAGES:
        raise SourceError(f"{where} holds {n} messages: more than reviewtool reads in one thread "
                          f"(at most {MAX_THREAD_MESSAGES})")


def fetch_thread(msgid: str, lore_url: str, *, timeout: float, max_bytes: int,
                 unreadable: mbox.Unreadable) -> list[EmailMessage]:
    """The whole thread of msgid from the public-inbox at lore_url."""
    base = inbox_base(lore_url)
    raw = http.get_thread_mbox(base, msgid, timeout=timeout, max_bytes=max_bytes)
    if not raw:
        raise FetchError(f"<{http.shown(msgid)}> not found on {lore_url}")
    # b4's split_and_dedupe_pi_results, with each message parsed safely.
    pref = b4.get_main_config().get("listid-preference", "")
    listid_pref = [x.strip() for x in pref.split(",")] if isinstance(pref, str) and pref else None
    raws = liblore.utils.split_and_dedupe_as_bytes(raw, listid_preference=listid_pref)
    _too_many(len(raws), f"the thread of <{http.shown(msgid)}>")
    msgs = mbox.parse_all(raws, unreadable)
    try:
        return list(b4.get_strict_thread(msgs, msgid) or msgs)
    except mbox.HEADER_ERRORS:  # b4 failed on a header of the message asked for: keep the thread whole
        return msgs


def _refuse_size(what: str, limit: int) -> SourceError:
    return SourceError(f"{what} is larger than {size(limit)}: refusing to read it "
                       f"(the input size limit; {INPUT_ENV} sets it)")


def _read(path: Path, budget: int) -> bytes:
    try:
        if path.stat().st_size > budget:
            raise _refuse_size(str(path), budget)
        with path.open("rb") as f:
            data = f.read(budget + 1)  # a file that grows while read is still bounded
    except OSError as e:
        raise SourceError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > budget:
        raise _refuse_size(str(path), budget)
    return data


def read_local(source: Source, *, max_bytes: int, unreadable: mbox.Unreadable) -> list[EmailMessage]:
    """Messages from a file, maildir, directory of .patch/.eml files, or stdin.

    max_bytes bounds the whole input (all the files of a directory together)."""
    if source.kind == "stdin":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _refuse_size("standard input", max_bytes)
        from_stdin = mbox.split(data)
        _too_many(len(from_stdin), "standard input")
        return mbox.parse_all(from_stdin, unreadable)
    assert source.path is not None
    files = [source.path] if source.kind == "mbox" else _files(source)
    raws: list[bytes] = []
    total = 0
    for f in files:
        data = _read(f, max_bytes)
        total += len(data)
        if total > max_bytes:
            raise _refuse_size(f"{source.path} (its files together)", max_bytes)
        raws.extend(mbox.split(data))
        _too_many(len(raws), str(source.path))
    return mbox.parse_all(raws, unreadable)


def _files(source: Source) -> list[Path]:
    assert source.path is not None
    try:
        if source.kind == "maildir":
            return sorted(p for sub in ("cur", "new") for p in (source.path / sub).iterdir() if p.is_file())
        files = sorted(p for p in source.path.iterdir()
                       if p.is_file() and p.suffix in (".patch", ".eml", ".mbox", ".mbx", ".diff"))
    except OSError as e:
        raise SourceError(f"cannot read {source.path}: {e.strerror}") from None
    if not files:
        raise SourceError(f"no .patch, .eml or .mbox files in {source.path}")
    return files
