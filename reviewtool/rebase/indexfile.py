"""Tiny private index files, written and read in process (git index format v2/v3).

Each patch needs an index holding only the few paths it touches; writing it here instead
of running `git update-index`, and reading `git apply --cached`'s result here instead of
running `git ls-files`, saves two git processes per patch. Only stage-0 entries with
zeroed stat data are written: `git apply --cached` looks at nothing else.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

Entry = tuple[str, str, str]  # (mode as octal text, oid, path)


def write_index(path: Path, entries: list[Entry], rawlen: int = 20) -> None:
    """Write an index (version 2) with ENTRIES, stage 0, sorted as git sorts them.

    RAWLEN is the object id size in bytes: 20 (SHA-1) or 32 (SHA-256 repositories).
    """
    items = sorted(entries, key=lambda e: e[2].encode("utf-8", "surrogateescape"))
    body = bytearray(b"DIRC" + struct.pack(">II", 2, len(items)))
    algo = "sha256" if rawlen == 32 else "sha1"
    for mode, oid, name in items:
        raw = bytes.fromhex(oid)
        name_b = name.encode("utf-8", "surrogateescape")
        start = len(body)
        body += struct.pack(">10I", 0, 0, 0, 0, 0, 0, int(mode, 8), 0, 0, 0)
        body += raw
        body += struct.pack(">H", min(len(name_b), 0xFFF))
        body += name_b
        pad = 8 - ((len(body) - start) % 8)
        body += b"\0" * pad
    body += hashlib.new(algo, bytes(body)).digest()
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(bytes(body))
    tmp.replace(path)


def read_index(path: Path, rawlen: int = 20) -> list[Entry] | None:
    """The stage-0 entries of a version 2 or 3 index, or None for anything else (v4, split)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3):
        return None
    out: list[Entry] = []
    pos = 12
    for _ in range(count):
        start = pos
        mode = struct.unpack(">I", data[pos + 24:pos + 28])[0]
        pos += 40
        oid = data[pos:pos + rawlen].hex()
        pos += rawlen
        flags = struct.unpack(">H", data[pos:pos + 2])[0]
        pos += 2
        if flags & 0x4000:  # extended flags (v3)
            pos += 2
        nul = data.index(b"\0", pos)
        name = data[pos:nul].decode("utf-8", "surrogateescape")
        pos = nul
        entry_len = pos - start
        pos = start + ((entry_len + 8) // 8) * 8  # 1 to 8 NULs end an entry
        if (flags >> 12) & 0x3 == 0:
            out.append((f"{mode:o}", oid, name))
    end = len(data) - rawlen
    while pos + 8 <= end:  # extensions: a split or sparse index is left to git
        sig, size = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        if sig in (b"link", b"sdir"):
            return None
        pos += 8 + size
    return out
