"""Rule packs: load `rules/*.toml`, validate every rule, compile its patterns when used.

A bad pack (unknown key, invalid regex, duplicate id, missing field, unknown category
or severity, unknown analyzer) is a RulesError naming the file and the rule. The schema
is described in docs/rules.md. Validation compiles every regex; a rule keeps the regex
sources and compiles them again on first use, so a run pays only for the rules it uses.
`load_rules(cache=True)` reuses packs validated before (check/rulecache.py).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from reviewtool import rx
from reviewtool.check.checklist import CATEGORIES, SEVERITIES
from reviewtool.check.literals import required
from reviewtool.check.patterns import alternation, compiled, glob_match
from reviewtool.errors import RulesError
from reviewtool.model import Category, Severity
from reviewtool.paths import exists, join, path_is, pathlib_form
from reviewtool.record import NamedTuple

if TYPE_CHECKING:
    from reviewtool.check.rulecache import PackCache

    StrPath = str | os.PathLike[str]

# The packs ship inside the package as package data (reviewtool/rules/*.toml), so a wheel
# install finds them beside the code. Read as files: the package is never imported from a
# zip, and importlib.resources would cost ~10 ms of start-up for nothing.
_HERE = os.path.dirname(os.path.realpath(__file__))
DEFAULT_RULES_DIR = os.path.join(os.path.dirname(_HERE), "rules")
ANALYZERS_DIR = os.path.join(_HERE, "analyzers")

SCOPES = ("kernel", "any", "other")  # other: only kexec-tools/makedumpfile patches
_ID_RE = r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$"  # compiled when a pack is validated
_ANALYZER_RE = r"^[a-z][a-z0-9_]*$"
_PLACEHOLDERS = {"match", "function", "file"}

_REQUIRED = ("id", "title", "severity", "category", "message", "question", "doc")
_PATTERN_KEYS = ("functions", "added", "removed", "context", "commit_message")
REGEX_KEYS = (*_PATTERN_KEYS, "unless", "unless_message")
_MESSAGE_KEYS = ("commit_message", "unless_message")  # matched in multi-line mode
_LIST_KEYS = ("paths", *REGEX_KEYS)
_KNOWN = {*_REQUIRED, *_LIST_KEYS, "analyzer", "scope", "min_added"}
_DOC_KEYS = ("what", "why", "example", "not_flagged")


class RuleDoc(NamedTuple):
    """The fixed documentation sections of a rule."""

    what: str
    why: str
    example: str
    not_flagged: str


class Rule(NamedTuple):
    """One validated rule; its regexes are kept as source and compiled on first use."""

    id: str
    title: str
    severity: Severity
    category: Category
    message: str
    question: str
    doc: RuleDoc
    pack: str  # the file it came from
    scope: str = "kernel"
    paths: tuple[str, ...] = ()  # fnmatch globs
    functions: tuple[str, ...] = ()  # regex sources, from here on
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    commit_message: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    unless_message: tuple[str, ...] = ()
    min_added: int = 0
    analyzer: str | None = None

    @property
    def line_patterns(self) -> bool:
        """True when the rule matches diff lines (added, removed or context)."""
        return bool(self.added or self.removed or self.context)

    def patterns(self, key: str) -> tuple[re.Pattern[str], ...]:
        """The compiled regexes of one key ('added', 'unless', ...), in order; compiled once."""
        return compiled(getattr(self, key), _flags(key))

    def combined(self, key: str) -> re.Pattern[str] | None:
        """One regex that matches a line (or message) where any of the key's regexes does.

        Multi-line mode: on one line it means what each regex means alone, and on lines
        joined with newlines it finds every line a regex matches (and maybe more). None when
        the regexes cannot be joined (back-references, flags): use `patterns(key)` then.
        """
        return alternation(getattr(self, key))

    def may_match(self, key: str, text: str) -> bool:
        """False when none of the key's regexes can match the text, True when one may.

        False means a string that every match holds is missing from the text; it is found
        from the regex sources, without compiling them (check/literals.py).
        """
        need = required(getattr(self, key))
        if need is None:
            return True
        for s in need:  # a loop, not any(genexpr): this runs for every rule and hunk
            if s in text:
                return True
        return False

    def search_any(self, key: str, text: str) -> bool:
        """True when one of the key's regexes matches the text (one line, or a message)."""
        if not self.may_match(key, text):
            return False
        combined = self.combined(key)
        if combined is not None:
            return combined.search(text) is not None
        return any(p.search(text) for p in self.patterns(key))

    def matches_path(self, path: str) -> bool:
        """True when the path matches one of the rule's `paths` globs (or it has none)."""
        if not self.paths:
            return True
        key = (self.paths, path)
        found = _PATH_MATCHES.get(key)
        if found is None:
            if len(_PATH_MATCHES) > 65536:  # a long process that reads many trees
                _PATH_MATCHES.clear()
            found = _PATH_MATCHES[key] = any(glob_match(path, g) for g in self.paths)
        return found


_PATH_MATCHES: dict[tuple[tuple[str, ...], str], bool] = {}  # (globs, path): whether one matches


class RuleSet(NamedTuple):
    """Every loaded rule, in pack order, and the packs they came from."""

    rules: tuple[Rule, ...]
    packs: tuple[str, ...]

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    @property
    def analyzers(self) -> tuple[str, ...]:
        """The analyzers the rules name, each once, in order."""
        return tuple(dict.fromkeys(r.analyzer for r in self.rules if r.analyzer))


def rule_meta(rule: Rule) -> dict[str, Any]:
    """A rule as plain data (patterns as their source text), for JSON and report formats."""
    out: dict[str, Any] = {
        "id": rule.id, "title": rule.title, "severity": rule.severity, "category": rule.category,
        "scope": rule.scope, "pack": rule.pack, "message": rule.message, "question": rule.question,
    }
    if rule.analyzer:
        out["analyzer"] = rule.analyzer
    if rule.paths:
        out["paths"] = list(rule.paths)
    for key in REGEX_KEYS:
        patterns = getattr(rule, key)
        if patterns:
            out[key] = list(patterns)
    if rule.min_added:
        out["min_added"] = rule.min_added
    out["doc"] = {"what": rule.doc.what, "why": rule.doc.why, "example": rule.doc.example,
                  "not_flagged": rule.doc.not_flagged}
    return out


def pack_files(dirs: Iterable[StrPath]) -> list[str]:
    """The `*.toml` packs directly inside each directory, sorted by name."""
    out: list[str] = []
    for given in dirs:
        d = pathlib_form(os.fspath(given))
        if not path_is(d, stat.S_ISDIR):
            raise RulesError(f"rules directory {d} " + ("is not a directory" if exists(d) else "does not exist"))
        with os.scandir(d) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".toml") and e.is_file())
        out.extend(join(d, name) for name in names)
    return out


def load_rules(dirs: Sequence[StrPath] | None = None, extra: Sequence[StrPath] = (), *,
               cache: bool = False) -> RuleSet:
    """Load and validate the packs in `dirs` (default: the shipped rules/) plus `extra` dirs.

    With `cache`, a pack whose bytes are the ones validated by an earlier run (of the same
    reviewtool) is taken from the validated-pack cache instead of being validated again.
    """
    base = [DEFAULT_RULES_DIR] if dirs is None else list(dirs)
    files = pack_files([*base, *extra])
    packs = None
    if cache:
        from reviewtool.check.rulecache import PackCache

        packs = PackCache.open()
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    shown = [_shown(p) for p in files]
    for path, name in zip(files, shown, strict=True):
        for rule in load_pack(path, packs):
            if rule.id in seen:
                raise RulesError(f"{name}: rule {rule.id}: duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = name
            rules.append(rule)
    if packs is not None:
        packs.save()
    return RuleSet(tuple(rules), tuple(shown))


def _shown(path: str) -> str:
    """A pack's path as shown to users: relative to the project for the shipped packs."""
    inside = os.path.realpath(path)
    top = os.path.dirname(DEFAULT_RULES_DIR)
    if inside.startswith(top + "/"):
        return inside[len(top) + 1:]
    return path


def load_pack(path: StrPath, cache: PackCache | None = None) -> list[Rule]:
    """Read one pack file and validate every rule in it (or take it from `cache`, unchanged)."""
    path = pathlib_form(os.fspath(path))
    shown = _shown(path)
    try:
        with open(path, "rb") as fh:
            content = fh.read()
    except OSError as e:
        raise RulesError(f"{shown}: cannot read the rule pack: {e.strerror}") from None
    if cache is not None:
        got = cache.get(path, content)
        if got is not None:
            return got
    rules = _validate(shown, content)
    if cache is not None:
        cache.put(path, content, rules)
    return rules


def _validate(shown: str, content: bytes) -> list[Rule]:
    import tomllib  # only when a pack is validated

    try:
        text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise RulesError(f"{shown}: the rule pack is not UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{shown}: invalid TOML: {e}") from None
    unknown = set(data) - {"rule"}
    if unknown:
        raise RulesError(f"{shown}: unknown top-level key '{sorted(unknown)[0]}' (rules go in [[rule]] tables)")
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise RulesError(f"{shown}: 'rule' must be an array of tables ([[rule]])")
    out: list[Rule] = []
    ids: set[str] = set()
    for n, entry in enumerate(raw, 1):
        rule = _rule(shown, n, entry)
        if rule.id in ids:
            raise RulesError(f"{shown}: rule {rule.id}: duplicate id")
        ids.add(rule.id)
        out.append(rule)
    return out


def _rule(shown: str, n: int, entry: Any) -> Rule:
    name = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else f"#{n}"

    def fail(msg: str) -> RulesError:
        return RulesError(f"{shown}: rule {name}: {msg}")

    if not isinstance(entry, dict):
        raise fail("must be a table")
    _check_keys(entry, fail)
    _check_fields(entry, fail)
    scope = entry.get("scope", "kernel")
    if scope not in SCOPES:
        raise fail(f"unknown scope '{scope}' (one of {', '.join(SCOPES)})")
    lists = _lists(entry, fail)
    min_added = entry.get("min_added", 0)
    if not isinstance(min_added, int) or isinstance(min_added, bool) or min_added < 0:
        raise fail("'min_added' must be a non-negative integer")
    analyzer = entry.get("analyzer")
    _check_matching(entry, lists, analyzer, fail)
    doc = _doc(entry["doc"], fail)
    for key in REGEX_KEYS:
        _check_regexes(lists[key], key, fail)
    return Rule(
        id=entry["id"], title=entry["title"].strip(), severity=cast(Severity, entry["severity"]),
        category=cast(Category, entry["category"]), message=entry["message"].strip(), question=entry["question"].strip(),
        doc=doc,
        pack=shown, scope=scope, paths=lists["paths"],
        functions=lists["functions"], added=lists["added"], removed=lists["removed"],
        context=lists["context"], commit_message=lists["commit_message"],
        unless=lists["unless"], unless_message=lists["unless_message"],
        min_added=min_added, analyzer=analyzer,
    )


Fail = Callable[[str], RulesError]


def _check_keys(entry: dict[str, Any], fail: Fail) -> None:
    """No unknown key, every required one."""
    for key in sorted(entry):
        if key not in _KNOWN:
            hint = " (commit-message regexes go in 'commit_message')" if key == "messages" else ""
            raise fail(f"unknown key '{key}'{hint}")
    for key in _REQUIRED:
        if key not in entry:
            raise fail(f"missing field '{key}'")


def _check_fields(entry: dict[str, Any], fail: Fail) -> None:
    """The one-string fields: present, well formed, from their vocabularies."""
    for key in ("id", "title", "severity", "category", "message", "question", "scope", "analyzer"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            hint = " (commit-message regexes go in 'commit_message')" if key == "message" else ""
            raise fail(f"'{key}' must be a non-empty string{hint}")
    if not rx.match(_ID_RE, entry["id"]):
        raise fail("id must be UPPER-KEBAB-CASE, e.g. KEXEC-CRASH-PGTABLE")
    if "\n" in entry["title"]:
        raise fail("title must be one line")
    if entry["severity"] not in SEVERITIES:
        raise fail(f"unknown severity '{entry['severity']}' (one of {', '.join(SEVERITIES)})")
    if entry["category"] not in CATEGORIES:
        raise fail(f"unknown category '{entry['category']}' (one of {', '.join(CATEGORIES)})")
    if "?" not in entry["question"]:
        raise fail("question must ask something (it has no '?')")
    for key in ("message", "question"):
        _check_placeholders(entry[key], key, fail)


def _lists(entry: dict[str, Any], fail: Fail) -> dict[str, tuple[str, ...]]:
    """The list fields (a lone string is a list of one)."""
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_KEYS:
        value = entry.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(f"'{key}' must be a list of non-empty strings")
        lists[key] = tuple(value)
    return lists


def _check_matching(entry: dict[str, Any], lists: dict[str, tuple[str, ...]], analyzer: str | None,
                    fail: Fail) -> None:
    """A rule finds its hits either by an analyzer or by patterns, never both, never neither."""
    if analyzer is not None:
        if not rx.match(_ANALYZER_RE, analyzer):
            raise fail(f"analyzer '{analyzer}' is not a module name")
        if not path_is(os.path.join(ANALYZERS_DIR, f"{analyzer}.py"), stat.S_ISREG):
            raise fail(f"unknown analyzer '{analyzer}' (no reviewtool/check/analyzers/{analyzer}.py)")
        used = [k for k in (*_PATTERN_KEYS, "unless", "unless_message", "min_added") if entry.get(k)]
        if used:
            raise fail(f"'{used[0]}' cannot be used with 'analyzer' (the analyzer finds the hits)")
    elif not (lists["paths"] or any(lists[k] for k in _PATTERN_KEYS)):
        raise fail("a pattern rule needs at least one of paths, functions, added, removed, context, "
                   "commit_message (or name an analyzer)")


def _doc(doc: Any, fail: Fail) -> RuleDoc:
    """The rule's documentation table, every section present."""
    if not isinstance(doc, dict):
        raise fail("'doc' must be a table with what, why, example, not_flagged")
    for key in sorted(doc):
        if key not in _DOC_KEYS:
            raise fail(f"unknown key 'doc.{key}'")
    for key in _DOC_KEYS:
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise fail(f"missing field 'doc.{key}'")
    return RuleDoc(doc["what"].strip(), doc["why"].strip(), doc["example"].strip("\n"), doc["not_flagged"].strip())


def _check_regexes(patterns: tuple[str, ...], key: str, fail: Any) -> None:
    for p in patterns:
        try:
            rx.compile(p, _flags(key))
        except re.error as e:
            raise fail(f"invalid regex in '{key}': {p!r}: {e}") from None


def _flags(key: str) -> int:
    return re.MULTILINE if key in _MESSAGE_KEYS else 0


def _check_placeholders(text: str, key: str, fail: Any) -> None:
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise fail(f"'{key}' has a bad placeholder: {e} (write {{{{ and }}}} for braces)") from None
    for f in fields:
        if f not in _PLACEHOLDERS:
            raise fail(f"'{key}' uses unknown placeholder {{{f}}} (known: match, function, file)")
