"""Regular expressions compiled once per machine, not once per run.

A local `check` compiles about 200 regular expressions, a third of its own work (about
25 ms of 80 on a 2-core machine). `rx.compile` keeps what Python's compiler makes of each
(the flags, the SRE code, the group names) in `$XDG_CACHE_HOME/reviewtool/regex.cache`,
a marshal file like a .pyc, and a later run hands those back to `_sre.compile`, the C
constructor `re.compile` itself ends in, instead of parsing and compiling again.

Exactness: an entry is stored only after the pattern rebuilt from it compared equal to
`re.compile(pattern, flags)` (a Pattern's == compares pattern, flags and code); the cache
is keyed by the exact Python build and SRE version; `_sre.compile` validates code it is
given. Anything unexpected (another Python, a changed private interface, a corrupt or
unwritable file) means `re.compile` as usual: the cache is only ever a speed-up.

Only regexes written in reviewtool and in rule packs go through here; a pattern made from
the input (a name found in a patch) is compiled with `re.compile`, so the cache does not
grow with what was read. `rx.code` keeps the code objects of source reviewtool generates
(record.py's `__init__`s) the same way: a code object loaded with marshal is the one
`compile` makes, as a .pyc's is.
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import re
import sys
from types import CodeType
from typing import TYPE_CHECKING

from reviewtool import cachefile

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, AnyStr

try:
    import _sre  # type: ignore[import-not-found]
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # another implementation of Python: plain re.compile
    _sre = None

_FILE = "regex.cache"
_MAX_ENTRIES = 4096
_STAMP = ("entries marshalled one by one", sys.version, getattr(_sre, "MAGIC", None), getattr(_sre, "CODESIZE", None),
          marshal.version)

Entry = tuple[int, list[int], int, dict[str, int], tuple["str | None", ...]]

# (pattern, flags): an Entry, (source, filename): a code object; each marshalled apart, so
# that a run unmarshals only what it uses (a check uses about half of what is kept)
_entries: dict[tuple[Any, Any], bytes] | None = None
_changed = False
_new: list[tuple[Any, Any]] = []  # keys this process compiled (made_here: a helper process hands them back)


def cache_path() -> str | None:
    """Where the cache lives: None when there is no home or cache directory."""
    return cachefile.path(_FILE)


def compile(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:  # noqa: A001 - re.compile's name
    """re.compile(pattern, flags), from the cache when an earlier run compiled it."""
    flags = int(flags)
    if _sre is None:
        return re.compile(pattern, flags)
    key = (pattern, flags)
    entry = _kept(key)
    if entry is not None:
        try:
            return _sre.compile(pattern, *entry)  # type: ignore[no-any-return]
        except (TypeError, ValueError, RuntimeError, OverflowError):
            _load().pop(key, None)  # not what this Python takes: compiled again below
    compiled = re.compile(pattern, flags)
    made = _entry(pattern, flags, compiled)
    if made is not None:
        _remember(key, made)
    return compiled


_made: dict[tuple[Any, int], re.Pattern[Any]] = {}


def _pattern(pattern: AnyStr, flags: int) -> re.Pattern[AnyStr]:
    """The compiled pattern, once per process (as re's own cache does for re.search and the like)."""
    key = (pattern, flags)
    found = _made.get(key)
    if found is None:
        found = _made[key] = compile(pattern, flags)
    return found


def search(pattern: AnyStr, string: AnyStr, flags: int = 0) -> re.Match[AnyStr] | None:
    """re.search through the cache."""
    return _pattern(pattern, flags).search(string)


def match(pattern: AnyStr, string: AnyStr, flags: int = 0) -> re.Match[AnyStr] | None:
    """re.match through the cache."""
    return _pattern(pattern, flags).match(string)


def fullmatch(pattern: AnyStr, string: AnyStr, flags: int = 0) -> re.Match[AnyStr] | None:
    """re.fullmatch through the cache."""
    return _pattern(pattern, flags).fullmatch(string)


def findall(pattern: AnyStr, string: AnyStr, flags: int = 0) -> list[Any]:
    """re.findall through the cache."""
    return _pattern(pattern, flags).findall(string)


def finditer(pattern: AnyStr, string: AnyStr, flags: int = 0) -> Iterator[re.Match[AnyStr]]:
    """re.finditer through the cache."""
    return _pattern(pattern, flags).finditer(string)


def split(pattern: AnyStr, string: AnyStr, maxsplit: int = 0, flags: int = 0) -> list[Any]:
    """re.split through the cache."""
    return _pattern(pattern, flags).split(string, maxsplit)


def sub(pattern: AnyStr, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], string: AnyStr, count: int = 0,
        flags: int = 0) -> AnyStr:
    """re.sub through the cache."""
    return _pattern(pattern, flags).sub(repl, string, count)


def subn(pattern: AnyStr, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], string: AnyStr, count: int = 0,
         flags: int = 0) -> tuple[AnyStr, int]:
    """re.subn through the cache."""
    return _pattern(pattern, flags).subn(repl, string, count)


def code(source: str, filename: str) -> CodeType:
    """compile(source, filename, "exec"), from the cache when an earlier run compiled it."""
    key = (source, filename)
    found = _kept(key)
    if isinstance(found, CodeType):
        return found
    made = builtins.compile(source, filename, "exec")
    _remember(key, made)
    return made


def _entry(pattern: Any, flags: int, compiled: re.Pattern[Any]) -> Entry | None:
    """What `re._compiler.compile` hands `_sre.compile`, if rebuilding from it gives `compiled`."""
    try:
        p = _parser.parse(pattern, flags)
        code = _compiler._code(p, flags)
        groupindex = dict(p.state.groupdict)
        indexgroup: list[str | None] = [None] * p.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        entry: Entry = (flags | p.state.flags, [int(c) for c in code], p.state.groups - 1, groupindex, tuple(indexgroup))
        if _sre.compile(pattern, *entry) != compiled:
            return None
    except Exception:  # noqa: BLE001 - a private interface of another shape: no cache
        return None
    return entry


def _kept(key: tuple[Any, Any]) -> Any:
    """The value kept for key, unmarshalled; None if there is none (or it cannot be read)."""
    blob = _load().get(key)
    if blob is None:
        return None
    try:
        return marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None


def _remember(key: tuple[Any, Any], entry: Entry | CodeType) -> None:
    entries = _load()
    entries[key] = marshal.dumps(entry)
    _new.append(key)
    _keep_at_exit(entries)


def _keep_at_exit(entries: dict[tuple[Any, Any], bytes]) -> None:
    global _changed
    while len(entries) > _MAX_ENTRIES:
        del entries[next(iter(entries))]
    if not _changed:
        _changed = True
        atexit.register(save)


def _load() -> dict[tuple[Any, Any], bytes]:
    global _entries
    if _entries is None:
        kept = cachefile.read(_FILE, _STAMP)
        _entries = kept if isinstance(kept, dict) else {}
    return _entries


def made_here(since: int = 0) -> dict[tuple[Any, Any], bytes]:
    """What this process compiled that the cache did not have (marshalled entries), from the
    `since`-th one on (`made_count()` before the work: what that work compiled)."""
    entries = _entries or {}
    return {key: entries[key] for key in _new[since:] if key in entries}


def made_count() -> int:
    """How many entries this process has compiled so far."""
    return len(_new)


def adopt(made: dict[tuple[Any, Any], bytes]) -> None:
    """Keep what another process compiled (its `made_here`), to be saved with this one's."""
    if not made:
        return
    entries = _load()
    entries.update(made)
    _keep_at_exit(entries)


def save() -> None:
    """Write the cache if this run compiled something new (cachefile.py: atomically, and
    not to be cut short by an interrupt)."""
    global _changed
    if not _changed or _entries is None:
        return
    _changed = False
    cachefile.write(_FILE, _STAMP, _entries)


def forget() -> None:
    """Drop what this process loaded and made (the next compile reads the file again)."""
    global _entries, _changed
    _entries = None
    _changed = False
    _made.clear()
    _new.clear()
