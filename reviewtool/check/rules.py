"""Rule packs: load `rules/*.toml`, validate every rule, compile its patterns.

A bad pack (unknown key, invalid regex, duplicate id, missing field, unknown category
or severity, unknown analyzer) is a RulesError naming the file and the rule. The schema
is described in docs/rules.md.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewtool.check.checklist import CATEGORIES, SEVERITIES
from reviewtool.errors import RulesError

# The packs shipped with reviewtool (a source checkout or an editable install).
DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
ANALYZERS_DIR = Path(__file__).resolve().parent / "analyzers"

SCOPES = ("kernel", "any", "other")  # other: only kexec-tools/makedumpfile patches
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
_ANALYZER_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDERS = {"match", "function", "file"}

_REQUIRED = ("id", "title", "severity", "category", "message", "question", "doc")
_PATTERN_KEYS = ("functions", "added", "removed", "context", "commit_message")
_LIST_KEYS = ("paths", *_PATTERN_KEYS, "unless", "unless_message")
_KNOWN = {*_REQUIRED, *_LIST_KEYS, "analyzer", "scope", "min_added"}
_DOC_KEYS = ("what", "why", "example", "not_flagged")


@dataclass(frozen=True)
class RuleDoc:
    """The fixed documentation sections of a rule."""

    what: str
    why: str
    example: str
    not_flagged: str


@dataclass(frozen=True)
class Rule:
    """One validated rule, its patterns compiled."""

    id: str
    title: str
    severity: str
    category: str
    message: str
    question: str
    doc: RuleDoc
    pack: str  # the file it came from
    scope: str = "kernel"
    paths: tuple[str, ...] = ()
    functions: tuple[re.Pattern[str], ...] = ()
    added: tuple[re.Pattern[str], ...] = ()
    removed: tuple[re.Pattern[str], ...] = ()
    context: tuple[re.Pattern[str], ...] = ()
    commit_message: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    unless_message: tuple[re.Pattern[str], ...] = ()
    min_added: int = 0
    analyzer: str | None = None

    @property
    def line_patterns(self) -> bool:
        """True when the rule matches diff lines (added, removed or context)."""
        return bool(self.added or self.removed or self.context)


@dataclass(frozen=True)
class RuleSet:
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
    for key in (*_PATTERN_KEYS, "unless", "unless_message"):
        patterns = getattr(rule, key)
        if patterns:
            out[key] = [p.pattern for p in patterns]
    if rule.min_added:
        out["min_added"] = rule.min_added
    out["doc"] = {"what": rule.doc.what, "why": rule.doc.why, "example": rule.doc.example,
                  "not_flagged": rule.doc.not_flagged}
    return out


def pack_files(dirs: Iterable[Path]) -> list[Path]:
    """The `*.toml` packs directly inside each directory, sorted by name."""
    out: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            raise RulesError(f"rules directory {d} does not exist")
        out.extend(sorted(p for p in d.glob("*.toml") if p.is_file()))
    return out


def load_rules(dirs: Sequence[Path] | None = None, extra: Sequence[Path] = ()) -> RuleSet:
    """Load and validate the packs in `dirs` (default: the shipped rules/) plus `extra` dirs."""
    base = [DEFAULT_RULES_DIR] if dirs is None else list(dirs)
    files = pack_files([*base, *extra])
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_pack(path):
            if rule.id in seen:
                raise RulesError(f"{_shown(path)}: rule {rule.id}: duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = _shown(path)
            rules.append(rule)
    return RuleSet(tuple(rules), tuple(_shown(p) for p in files))


def _shown(path: Path) -> str:
    """A pack's path as shown to users: relative to the project for the shipped packs."""
    try:
        return str(path.resolve().relative_to(DEFAULT_RULES_DIR.parent))
    except ValueError:
        return str(path)


def load_pack(path: Path) -> list[Rule]:
    """Read one pack file and validate every rule in it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RulesError(f"{_shown(path)}: cannot read the rule pack: {e.strerror}") from None
    except UnicodeDecodeError:
        raise RulesError(f"{_shown(path)}: the rule pack is not UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{_shown(path)}: invalid TOML: {e}") from None
    unknown = set(data) - {"rule"}
    if unknown:
        raise RulesError(f"{_shown(path)}: unknown top-level key '{sorted(unknown)[0]}' (rules go in [[rule]] tables)")
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise RulesError(f"{_shown(path)}: 'rule' must be an array of tables ([[rule]])")
    out: list[Rule] = []
    ids: set[str] = set()
    for n, entry in enumerate(raw, 1):
        rule = _rule(path, n, entry)
        if rule.id in ids:
            raise RulesError(f"{_shown(path)}: rule {rule.id}: duplicate id")
        ids.add(rule.id)
        out.append(rule)
    return out


def _rule(path: Path, n: int, entry: Any) -> Rule:
    name = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else f"#{n}"

    def fail(msg: str) -> RulesError:
        return RulesError(f"{_shown(path)}: rule {name}: {msg}")

    if not isinstance(entry, dict):
        raise fail("must be a table")
    for key in sorted(entry):
        if key not in _KNOWN:
            hint = " (commit-message regexes go in 'commit_message')" if key == "messages" else ""
            raise fail(f"unknown key '{key}'{hint}")
    for key in _REQUIRED:
        if key not in entry:
            raise fail(f"missing field '{key}'")
    for key in ("id", "title", "severity", "category", "message", "question", "scope", "analyzer"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            hint = " (commit-message regexes go in 'commit_message')" if key == "message" else ""
            raise fail(f"'{key}' must be a non-empty string{hint}")
    if not _ID_RE.match(entry["id"]):
        raise fail("id must be UPPER-KEBAB-CASE, e.g. KEXEC-CRASH-PGTABLE")
    if "\n" in entry["title"]:
        raise fail("title must be one line")
    if entry["severity"] not in SEVERITIES:
        raise fail(f"unknown severity '{entry['severity']}' (one of {', '.join(SEVERITIES)})")
    if entry["category"] not in CATEGORIES:
        raise fail(f"unknown category '{entry['category']}' (one of {', '.join(CATEGORIES)})")
    scope = entry.get("scope", "kernel")
    if scope not in SCOPES:
        raise fail(f"unknown scope '{scope}' (one of {', '.join(SCOPES)})")
    if "?" not in entry["question"]:
        raise fail("question must ask something (it has no '?')")
    for key in ("message", "question"):
        _check_placeholders(entry[key], key, fail)
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_KEYS:
        value = entry.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(f"'{key}' must be a list of non-empty strings")
        lists[key] = tuple(value)
    min_added = entry.get("min_added", 0)
    if not isinstance(min_added, int) or isinstance(min_added, bool) or min_added < 0:
        raise fail("'min_added' must be a non-negative integer")
    analyzer = entry.get("analyzer")
    if analyzer is not None:
        if not _ANALYZER_RE.match(analyzer):
            raise fail(f"analyzer '{analyzer}' is not a module name")
        if not (ANALYZERS_DIR / f"{analyzer}.py").is_file():
            raise fail(f"unknown analyzer '{analyzer}' (no reviewtool/check/analyzers/{analyzer}.py)")
        used = [k for k in (*_PATTERN_KEYS, "unless", "unless_message", "min_added") if entry.get(k)]
        if used:
            raise fail(f"'{used[0]}' cannot be used with 'analyzer' (the analyzer finds the hits)")
    elif not (lists["paths"] or any(lists[k] for k in _PATTERN_KEYS)):
        raise fail("a pattern rule needs at least one of paths, functions, added, removed, context, "
                   "commit_message (or name an analyzer)")
    doc = entry["doc"]
    if not isinstance(doc, dict):
        raise fail("'doc' must be a table with what, why, example, not_flagged")
    for key in sorted(doc):
        if key not in _DOC_KEYS:
            raise fail(f"unknown key 'doc.{key}'")
    for key in _DOC_KEYS:
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise fail(f"missing field 'doc.{key}'")
    compiled = {k: _compile(lists[k], k, fail) for k in (*_PATTERN_KEYS, "unless", "unless_message")}
    return Rule(
        id=entry["id"], title=entry["title"].strip(), severity=entry["severity"],
        category=entry["category"], message=entry["message"].strip(), question=entry["question"].strip(),
        doc=RuleDoc(doc["what"].strip(), doc["why"].strip(), doc["example"].strip("\n"),
                    doc["not_flagged"].strip()),
        pack=_shown(path), scope=scope, paths=lists["paths"],
        functions=compiled["functions"], added=compiled["added"], removed=compiled["removed"],
        context=compiled["context"], commit_message=compiled["commit_message"],
        unless=compiled["unless"], unless_message=compiled["unless_message"],
        min_added=min_added, analyzer=analyzer,
    )


def _compile(patterns: tuple[str, ...], key: str, fail: Any) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.MULTILINE) if key in ("commit_message", "unless_message")
                       else re.compile(p))
        except re.error as e:
            raise fail(f"invalid regex in '{key}': {p!r}: {e}") from None
    return tuple(out)


def _check_placeholders(text: str, key: str, fail: Any) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise fail(f"'{key}' has a bad placeholder: {e} (write {{{{ and }}}} for braces)") from None
    for f in fields:
        if f not in _PLACEHOLDERS:
            raise fail(f"'{key}' uses unknown placeholder {{{f}}} (known: match, function, file)")
