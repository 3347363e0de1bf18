"""The machine-local cache files (`regex.cache`, `rule-packs.cache`): read and written safely.

Each is one marshal file in `$XDG_CACHE_HOME/reviewtool` (`~/.cache/reviewtool` when that is
unset or not absolute, as the XDG spec says). A cache is only a speed-up, so anything
unexpected means "no cache", never an error nor a wait:

- only a regular file of at most MAX_BYTES is read (opened without blocking: a FIFO or a
  device in its place is passed over, a huge file is not read);
- the file is a fixed header (magic, CRC-32, the stamp's length), the stamp as text and
  the marshalled payload; nothing is unmarshalled before the stamp and the checksum over
  both match (marshal trusts the lengths it reads: one flipped bit in a length asked it
  for gigabytes), so a file of another writer, cut short or with a flipped bit is not
  used, and the next save replaces it;
- a save writes a temporary file and renames it over the cache, with SIGINT, SIGTERM and
  SIGHUP held meanwhile, so an interrupt cannot leave the temporary file behind (the
  signal is taken as soon as the file is in place).
"""

from __future__ import annotations

import marshal
import os
import stat
from typing import Any

MAX_BYTES = 64 << 20
_MAGIC = b"reviewtool cache 1\n"


def directory() -> str | None:
    """$XDG_CACHE_HOME/reviewtool, or ~/.cache/reviewtool; None when neither is absolute."""
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        root = os.path.join(home, ".cache")
    return os.path.join(root, "reviewtool")


def path(name: str) -> str | None:
    """Where the cache file `name` lives (None: nowhere to keep it)."""
    found = directory()
    return None if found is None else os.path.join(found, name)


def _stamp_bytes(stamp: Any) -> bytes:
    return repr(stamp).encode("utf-8", "backslashreplace")


def read(name: str, stamp: Any) -> Any | None:
    """What `write(name, stamp, data)` stored, or None (missing, another stamp, damaged, not a file)."""
    where = path(name)
    if where is None:
        return None
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            blob = f.read(st.st_size + 1)  # what fstat saw: a buffer of that size, not of MAX_BYTES
        want = _stamp_bytes(stamp)
        head = _MAGIC + len(want).to_bytes(4, "big")
        if blob[:len(head)] != head or blob[len(head) + 4:len(head) + 4 + len(want)] != want:
            return None
        import zlib

        body = blob[len(head) + 4:]
        if zlib.crc32(body).to_bytes(4, "big") != blob[len(head):len(head) + 4]:
            return None
        return marshal.loads(body[len(want):])
    except (OSError, ValueError, EOFError, TypeError):
        return None
    finally:
        os.close(fd)


def write(name: str, stamp: Any, data: Any) -> None:
    """Keep `data` (marshallable) under `name`; a cache that cannot be written is only slower next time."""
    where = path(name)
    if where is None:
        return
    import zlib

    try:
        body = _stamp_bytes(stamp) + marshal.dumps(data)
    except ValueError:
        return
    blob = _MAGIC + len(_stamp_bytes(stamp)).to_bytes(4, "big") + zlib.crc32(body).to_bytes(4, "big") + body
    tmp = f"{where}.{os.getpid()}.tmp"
    held = _hold_signals()
    try:
        os.makedirs(os.path.dirname(where), mode=0o700, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, where)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    finally:
        _release_signals(held)


def _hold_signals() -> Any:
    """Block SIGINT, SIGTERM and SIGHUP; the mask to go back to (None where that cannot be done)."""
    try:
        import signal

        return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    except (AttributeError, ValueError, OSError):
        return None


def _release_signals(held: Any) -> None:
    if held is not None:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, held)
