"""Paths as plain strings, spelled and tested as pathlib does it, without importing pathlib.

pathlib imports urllib.parse (and with it ipaddress): 4.5 ms of every local check, which
only joins, tests and lists a few paths. The modules a local check runs (config, store,
outfiles, fetch/sources and fetch/local, check/rules and check/rulecache) use these;
the rest of reviewtool uses pathlib.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

# what Path.is_dir() and Path.is_file() take for "not there" (Python 3.11's _IGNORED_ERRNOS)
_NOT_THERE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def pathlib_form(text: str) -> str:
    """TEXT as `str(pathlib.PurePosixPath(text))` spells it: no "." parts, no doubled or
    trailing "/" (two leading ones are kept, as POSIX allows them a meaning)."""
    if text.startswith("/"):
        root = "//" if text.startswith("//") and not text.startswith("///") else "/"
    else:
        root = ""
    parts = [p for p in text.split("/") if p and p != "."]
    return root + "/".join(parts) if root or parts else "."


def path_is(path: str, kind: Callable[[int], bool]) -> bool:
    """`Path.is_dir()` (kind `stat.S_ISDIR`) or `Path.is_file()` (`stat.S_ISREG`): False when
    the path is not there or loops; another error (permission denied, say) is raised."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        if e.errno in _NOT_THERE:
            return False
        raise
    except ValueError:  # a NUL in the path
        return False
    return kind(mode)


def exists(path: str) -> bool:
    """`Path.exists()`: False when the path is not there; another error is raised."""
    return path_is(path, _anything)


def _anything(mode: int) -> bool:
    return True


def join(directory: str, name: str) -> str:
    """`str(Path(directory) / name)` for a plain NAME: "." adds nothing."""
    if directory == ".":
        return name
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


def entries(directory: str) -> list[str]:
    """The paths of a directory's entries, as `Path(directory).iterdir()` gives them."""
    return [join(directory, name) for name in os.listdir(directory)]


def suffix(path: str) -> str:
    """`Path(path).suffix`: the name's last dot and what follows, unless the name starts or
    ends there."""
    name = pathlib_form(path).rpartition("/")[2]
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""
