"""The validated-pack cache: rule packs that passed validation, so a run need not re-validate them.

One file, `$XDG_CACHE_HOME/reviewtool/rule-packs.cache` (marshal, like a .pyc), maps a
pack's resolved path to the exact bytes that were validated and the rules made of them.
An entry is used only when the pack file still holds those bytes and the validator is the
same (this reviewtool, this Python, the same analyzer modules); anything else, or an
unreadable cache, means a full validation. The cache is only a speed-up: it is written
atomically, and a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

from reviewtool import __version__, cachefile
from reviewtool.check import checklist, literals, rules
from reviewtool.check.rules import REGEX_KEYS, Rule, RuleDoc

_FILE = "rule-packs.cache"
_MAX_ENTRIES = 64
_FIELDS = Rule._fields


def cache_file() -> str | None:
    """Where the cache lives (None when there is no home directory to put it in)."""
    return cachefile.path(_FILE)


def fingerprint() -> tuple[Any, ...]:
    """What validation depends on besides the pack: the code, the Python, the analyzer modules."""
    code = []
    for source in (rules.__file__, checklist.__file__, literals.__file__, __file__):
        st = os.stat(source or "")
        code.append((st.st_size, st.st_mtime_ns))
    try:
        analyzers = tuple(sorted(n for n in os.listdir(rules.ANALYZERS_DIR) if n.endswith(".py")))
    except OSError:
        analyzers = ()
    return (__version__, sys.implementation.cache_tag, marshal.version, tuple(code), analyzers,
            _FIELDS)


class PackCache:
    """The cache entries of one run: read once, looked up per pack, written back if changed."""

    def __init__(self, path: str | None, entries: dict[str, tuple[Any, ...]],
                 stamp: tuple[Any, ...]) -> None:
        self.path = path
        self.entries = entries
        self.stamp = stamp
        self.changed = False

    @classmethod
    def open(cls) -> PackCache:
        """The cache as stored (empty when missing, unreadable or made by another validator)."""
        stamp = fingerprint()
        kept = cachefile.read(_FILE, stamp)
        return cls(cache_file(), kept if isinstance(kept, dict) else {}, stamp)

    def get(self, pack: str, content: bytes) -> list[Rule] | None:
        """The rules of a pack validated with exactly these bytes, or None (the literals
        their regexes require go to check/literals.py)."""
        entry = self.entries.get(os.path.realpath(pack))
        if not isinstance(entry, tuple) or len(entry) != 3 or entry[0] != content or not isinstance(entry[2], dict):
            return None
        try:
            found = [_rule(values) for values in entry[1]]
        except (TypeError, ValueError, IndexError):
            return None
        literals.known(entry[2])
        return found

    def put(self, pack: str, content: bytes, validated: list[Rule]) -> None:
        """Remember the rules validated from these bytes of a pack, and the literals their
        regexes require (worked out once, here)."""
        key = os.path.realpath(pack)
        self.entries.pop(key, None)
        needs = {sources: literals.required(sources) for r in validated for k in REGEX_KEYS
                 if (sources := getattr(r, k))}
        self.entries[key] = (content, tuple(_values(r) for r in validated), needs)
        while len(self.entries) > _MAX_ENTRIES:
            del self.entries[next(iter(self.entries))]
        self.changed = True

    def save(self) -> None:
        """Write the cache back when an entry was added (cachefile.py: atomically, and a cache
        that cannot be written is only slower next time)."""
        if not self.changed or self.path is None:
            return
        cachefile.write(_FILE, self.stamp, self.entries)
        self.changed = False


def _values(rule: Rule) -> tuple[Any, ...]:
    """A rule as plain values (its fields in order, the doc as a tuple)."""
    return tuple(tuple(v) if isinstance(v, RuleDoc) else v
                 for v in (getattr(rule, name) for name in _FIELDS))


def _rule(values: tuple[Any, ...]) -> Rule:
    """The rule back from `_values`."""
    if len(values) != len(_FIELDS):
        raise ValueError("a cached rule of another shape")
    kwargs = dict(zip(_FIELDS, values, strict=True))
    kwargs["doc"] = RuleDoc(*kwargs["doc"])
    return Rule(**kwargs)
