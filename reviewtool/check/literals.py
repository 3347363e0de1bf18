"""Required literals: strings one of which must be in any text a regex matches.

`required(sources)` reads the regex sources themselves (no compiling) and returns a set
of strings such that, whenever one of the regexes matches a text, the text contains one
of the strings; or None when it cannot tell. The engine tests these with `in` before it
compiles and runs a rule's regexes, so most hunks are passed over without either.

Only what is certain is used: a literal run of a regex, or the alternatives of a group
of literal runs. Anything not understood (back-references, case-insensitive or verbose
flags, unusual escapes) gives None, and the regexes are then simply run.
"""

from __future__ import annotations

from reviewtool import rx

Factor = frozenset[str]  # one of these strings is in every match


class _Unknown(Exception):
    """The regex uses something this reader does not follow."""


_KNOWN: dict[tuple[str, ...], Factor | None] = {}


def required(sources: tuple[str, ...]) -> Factor | None:
    """Strings one of which is in any text that one of `sources` matches (None: no such set known).

    Worked out once per process, or taken from what `known` was given (the validated-pack
    cache keeps them with the rules: check/rulecache.py)."""
    try:
        return _KNOWN[sources]
    except KeyError:
        found = _KNOWN[sources] = _required(sources)
        return found


def known(found: dict[tuple[str, ...], Factor | None]) -> None:
    """Take the factors of these sources as worked out (by this module, in an earlier run)."""
    _KNOWN.update(found)


def _required(sources: tuple[str, ...]) -> Factor | None:
    out: set[str] = set()
    for source in sources:
        try:
            parser = _Parser(source)
            factor = parser.alternation()
            if parser.i != len(source):
                raise _Unknown
        except (_Unknown, ValueError, IndexError):
            return None
        if factor is None:
            return None
        out |= factor
    return frozenset(out) if out else None


_PLAIN = rx.compile(r"[A-Za-z0-9_ ,:;'\"/<>=!@%&~`-]+")  # characters that only stand for themselves
_ZERO_ESCAPES = frozenset("bBAZ")
_CLASS_ESCAPES = frozenset("dDsSwW")
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}


class _Parser:
    """A reader of one regex source, at position `i`."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def alternation(self) -> Factor | None:
        """Branches up to `)` or the end: the union of each branch's best factor."""
        branches = [self.sequence()]
        while self.i < len(self.s) and self.s[self.i] == "|":
            self.i += 1
            branches.append(self.sequence())
        if any(b is None for b in branches):
            return None
        return frozenset(s for b in branches if b is not None for s in b)

    def sequence(self) -> Factor | None:
        """One branch: the factor (literal run or group) whose shortest string is longest."""
        factors: list[Factor] = []
        run: list[str] = []

        def end_run() -> None:
            if run:
                factors.append(frozenset({"".join(run)}))
                run.clear()

        while self.i < len(self.s) and self.s[self.i] not in "|)":
            plain = _PLAIN.match(self.s, self.i)
            if plain is not None and plain.end() - self.i > 1:
                # ordinary characters, each matched once (but the last, which a quantifier may follow)
                run.append(self.s[self.i:plain.end() - 1])
                self.i = plain.end() - 1
            kind, char, group = self.atom()
            times = self.quantifier()
            if kind == "lit" and times == 1:
                run.append(char)  # exactly once: the run goes on
            elif kind == "lit" and times > 1:
                run.append(char)  # at least once, maybe more: the run stops after it
                end_run()
            elif kind == "zero":
                continue  # takes no characters: neighbours stay neighbours
            else:
                end_run()
                if group is not None and times >= 1:
                    factors.append(group)
        end_run()
        if not factors:
            return None
        return max(factors, key=lambda f: (min(len(s) for s in f), -len(f)))

    def atom(self) -> tuple[str, str, Factor | None]:
        """(kind, character, group factor): kind is lit, zero (takes no characters), other or group."""
        c = self.s[self.i]
        if c == "\\":
            return self._escape()
        if c == "[":
            self._skip_class()
            return "other", "", None
        if c == "(":
            return self._group()
        self.i += 1
        if c in "^$":
            return "zero", "", None
        if c == ".":
            return "other", "", None
        if c in "*+?":
            raise _Unknown  # a quantifier with nothing before it
        return "lit", c, None

    def quantifier(self) -> int:
        """0: the atom may be absent; 1: exactly once; 2: at least once (maybe more)."""
        s = self.s
        if self.i >= len(s):
            return 1
        c = s[self.i]
        if c in "*?+":
            self.i += 1
            times = 2 if c == "+" else 0
        elif c == "{":
            end = s.find("}", self.i)
            body = s[self.i + 1:end] if end > 0 else ""
            low, _, high = body.partition(",")
            if end < 0 or not (low.isdigit() or (low == "" and "," in body)) or (high and not high.isdigit()):
                return 1  # not a quantifier: `{` is a literal, read as the next atom
            self.i = end + 1
            n = int(low or "0")
            times = 0 if n == 0 else (1 if body == low and n == 1 else 2)
        else:
            return 1
        if self.i < len(s) and s[self.i] in "?+":  # lazy or possessive
            self.i += 1
        return times

    def _escape(self) -> tuple[str, str, Factor | None]:
        nxt = self.s[self.i + 1:self.i + 2]
        self.i += 2
        if not nxt:
            raise _Unknown
        if nxt in _ZERO_ESCAPES:
            return "zero", "", None
        if nxt in _CLASS_ESCAPES:
            return "other", "", None
        if nxt in _CHAR_ESCAPES:
            return "lit", _CHAR_ESCAPES[nxt], None
        if nxt.isalnum() or nxt == "_":
            raise _Unknown  # back-references, \x, \u, \N{...}, octal
        return "lit", nxt, None

    def _skip_class(self) -> None:
        s = self.s
        j = self.i + 1
        j += s[j:j + 1] == "^"
        j += s[j:j + 1] == "]"  # a `]` first is a member
        while j < len(s) and s[j] != "]":
            j += 2 if s[j] == "\\" else 1
        if j >= len(s):
            raise _Unknown
        self.i = j + 1

    def _group(self) -> tuple[str, str, Factor | None]:
        s = self.s
        head = s[self.i:self.i + 4]
        if head.startswith(("(?=", "(?!", "(?<=", "(?<!")):
            self.i += 3 if head[2] in "=!" else 4
            self.alternation()  # a look-around: takes no characters
            self._close()
            return "zero", "", None
        if head.startswith("(?P<"):
            self.i = s.index(">", self.i) + 1
        elif head.startswith("(?:"):
            self.i += 3
        elif head.startswith("(?"):
            raise _Unknown  # flags, comments, back-references by name, conditional groups
        else:
            self.i += 1
        factor = self.alternation()
        self._close()
        return "group", "", factor

    def _close(self) -> None:
        if self.i >= len(self.s) or self.s[self.i] != ")":
            raise _Unknown
        self.i += 1
