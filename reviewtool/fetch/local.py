"""Mail from files and stdin: an mbox, a maildir, a directory of .patch/.eml files.

Bounded by the input size limit and the thread's message limit; no b4 here (fetch/plain.py
reads a plain posting from these messages without it).
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING

from reviewtool.errors import SourceError
from reviewtool.fetch import mbox
from reviewtool.fetch.limits import INPUT_ENV, MAX_THREAD_MESSAGES, size
from reviewtool.fetch.sources import Source
from reviewtool.paths import entries, path_is, suffix

MAIL_SUFFIXES = (".patch", ".eml", ".mbox", ".mbx", ".diff")  # the files of a directory that are read

if TYPE_CHECKING:
    from email.message import EmailMessage


def too_many(n: int, where: str) -> None:
    if n > MAX_THREAD_MESSAGES:
        raise SourceError(f"{where} holds {n} messages: more than reviewtool reads in one thread "
                          f"(at most {MAX_THREAD_MESSAGES})")



def _refuse_size(what: str, limit: int) -> SourceError:
    return SourceError(f"{what} is larger than {size(limit)}: refusing to read it "
                       f"(the input size limit; {INPUT_ENV} sets it)")


def _read(path: str, budget: int) -> bytes:
    try:
        if os.stat(path).st_size > budget:
            raise _refuse_size(path, budget)
        with open(path, "rb") as f:
            data = f.read(budget + 1)  # a file that grows while read is still bounded
    except OSError as e:
        raise SourceError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > budget:
        raise _refuse_size(path, budget)
    return data


def read_local(source: Source, *, max_bytes: int, unreadable: mbox.Unreadable) -> list[EmailMessage]:
    """Messages from a file, maildir, directory of .patch/.eml files, or stdin.

    max_bytes bounds the whole input (all the files of a directory together)."""
    return mbox.parse_all(read_raw(source, max_bytes=max_bytes), unreadable)


def read_raw(source: Source, *, max_bytes: int) -> list[bytes]:
    """The raw messages of a file, maildir, directory of .patch/.eml files, or stdin (as
    read_local reads them, before parsing)."""
    if source.kind == "stdin":
        if sys.stdin is None:  # started with its standard input closed
            raise SourceError("standard input is closed: give SERIES as a file, or pipe a mail in")
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _refuse_size("standard input", max_bytes)
        from_stdin = mbox.split(data)
        too_many(len(from_stdin), "standard input")
        return from_stdin
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
        too_many(len(raws), str(source.path))
    return raws


def _files(source: Source) -> list[str]:
    path = source.path
    assert path is not None
    try:
        if source.kind == "maildir":
            return sorted(f for sub in ("cur", "new") for f in entries(os.path.join(path, sub))
                          if path_is(f, stat.S_ISREG))
        files = sorted(f for f in entries(path) if path_is(f, stat.S_ISREG) and suffix(f) in MAIL_SUFFIXES)
    except OSError as e:
        raise SourceError(f"cannot read {source.path}: {e.strerror}") from None
    if not files:
        raise SourceError(f"no .patch, .eml or .mbox files in {source.path}")
    return files

