"""Getting messages: b4/liblore over HTTP, or from files. The only place that talks to a server."""

from __future__ import annotations

import argparse
import email.parser
import logging
import sys
from email.message import EmailMessage
from pathlib import Path

import b4
import liblore
import liblore.utils

from reviewtool.errors import FetchError, SourceError
from reviewtool.fetch.sources import Source

MAX_INPUT_BYTES = 256 * 1024 * 1024  # refuse larger inputs instead of exhausting memory

logging.getLogger("b4").addHandler(logging.NullHandler())
logging.getLogger("b4").propagate = False


def setup_b4(lore_url: str, offline: bool) -> None:
    """Configure b4 for one run: its server (midmask) and no attestation network lookups."""
    b4.setup_config(argparse.Namespace(config={
        "b4.midmask": f"{lore_url.rstrip('/')}/%s",
        "b4.linkmask": f"{lore_url.rstrip('/')}/%s",
        "b4.attestation-policy": "off",
    }))
    b4.can_network = not offline
    b4.LORENODE = None  # b4 caches the node; a new midmask needs a new one


def fetch_thread(msgid: str, lore_url: str) -> list[EmailMessage]:
    """The whole thread of msgid from the public-inbox at lore_url."""
    setup_b4(lore_url, offline=False)
    node = b4.get_lore_node()
    try:
        raw = node.get_mbox_by_msgid(msgid, nocache=True)
    except liblore.RemoteError as e:
        code = getattr(e, "status_code", None)
        if code == 404:
            raise FetchError(f"<{msgid}> not found on {lore_url}") from None
        if code is None:
            raise FetchError(f"cannot reach {lore_url}: no answer (is the server up?)") from None
        raise FetchError(f"{lore_url} answered HTTP {code} for <{msgid}>") from None
    except liblore.LibloreError as e:
        raise FetchError(f"cannot fetch <{msgid}> from {lore_url}: {e}") from None
    if not raw:
        raise FetchError(f"<{msgid}> not found on {lore_url}")
    msgs = b4.split_and_dedupe_pi_results(raw)
    return list(b4.get_strict_thread(msgs, msgid) or msgs)


def _parse_one(data: bytes) -> EmailMessage:
    return email.parser.BytesParser(policy=b4.emlpolicy, _class=EmailMessage).parsebytes(data)


def _split(data: bytes, what: str) -> list[EmailMessage]:
    if len(data) > MAX_INPUT_BYTES:
        raise SourceError(f"{what} is larger than {MAX_INPUT_BYTES >> 20} MiB: refusing to read it")
    if data.startswith(b"From "):
        return list(liblore.utils.split_mbox(data))
    return [_parse_one(data)] if data.strip() else []


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise SourceError(f"{path} is larger than {MAX_INPUT_BYTES >> 20} MiB: refusing to read it")
        return path.read_bytes()
    except OSError as e:
        raise SourceError(f"cannot read {path}: {e.strerror}") from None


def read_local(source: Source) -> list[EmailMessage]:
    """Messages from a file, maildir, directory of .patch/.eml files, or stdin."""
    if source.kind == "stdin":
        return _split(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1), "standard input")
    assert source.path is not None
    if source.kind == "mbox":
        return _split(_read(source.path), str(source.path))
    if source.kind == "maildir":
        files = sorted(p for sub in ("cur", "new") for p in (source.path / sub).iterdir() if p.is_file())
    else:
        files = sorted(p for p in source.path.iterdir()
                       if p.is_file() and p.suffix in (".patch", ".eml", ".mbox", ".mbx", ".diff"))
        if not files:
            raise SourceError(f"no .patch, .eml or .mbox files in {source.path}")
    msgs: list[EmailMessage] = []
    for f in files:
        msgs.extend(_split(_read(f), str(f)))
    return msgs
