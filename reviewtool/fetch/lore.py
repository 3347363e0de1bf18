"""Getting messages: a thread from a public-inbox server, or mail from files and stdin."""

from __future__ import annotations

import argparse
import logging
import urllib.parse
from email.message import EmailMessage

import b4
import liblore.utils

from reviewtool.errors import FetchError
from reviewtool.fetch import http, mbox
from reviewtool.fetch.local import too_many
from reviewtool.fetch.sources import check_url, shown

__all__ = ["fetch_thread", "setup_b4"]

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
    url = check_url(lore_url.rstrip("/"))
    if urllib.parse.urlsplit(url).path in ("", "/"):
        url += "/all"
    return url


def fetch_thread(msgid: str, lore_url: str, *, timeout: float, max_bytes: int,
                 unreadable: mbox.Unreadable) -> list[EmailMessage]:
    """The whole thread of msgid from the public-inbox at lore_url."""
    base = inbox_base(lore_url)
    raw = http.get_thread_mbox(base, msgid, timeout=timeout, max_bytes=max_bytes)
    if not raw:
        raise FetchError(f"<{shown(msgid)}> not found on {lore_url}")
    # b4's split_and_dedupe_pi_results, with each message parsed safely.
    pref = b4.get_main_config().get("listid-preference", "")
    listid_pref = [x.strip() for x in pref.split(",")] if isinstance(pref, str) and pref else None
    raws = liblore.utils.split_and_dedupe_as_bytes(raw, listid_preference=listid_pref)
    too_many(len(raws), f"the thread of <{shown(msgid)}>")
    msgs = mbox.parse_all(raws, unreadable)
    try:
        return list(b4.get_strict_thread(msgs, msgid) or msgs)
    except mbox.HEADER_ERRORS:  # b4 failed on a header of the message asked for: keep the thread whole
        return msgs
