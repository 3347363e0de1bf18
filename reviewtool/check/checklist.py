"""Findings -> the reviewer checklist: one item per question, grouped by category.

An item merges every finding of the same rule and question, with all their evidence; a
question asked of different functions (`Is a() skipped ...?`, `Are b() and c() ...?`) is
one question, naming them all.
No item is made without evidence, and pre-existing findings (already on the base) are
left out: the checklist is about what the series changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from reviewtool import rx
from reviewtool.model import CATEGORIES, SEVERITIES, STATUSES, Category, ChecklistItem, Evidence, Finding
from reviewtool.record import replace

__all__ = ["CATEGORIES", "SEVERITIES", "STATUSES", "build_checklist", "counted"]


_ORDER = {c: i for i, c in enumerate(CATEGORIES)}
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def counted(finding: Finding) -> bool:
    """True when a finding counts: not pre-existing and not judged looks-ok."""
    return not finding.pre_existing and finding.status != "looks-ok"


def build_checklist(findings: Iterable[Finding]) -> tuple[ChecklistItem, ...]:
    """Merge findings into checklist items, ordered by category, then severity, then first patch.

    Findings of one rule that ask the same question become one item with all their
    evidence. The item is `looks-ok` only when every finding in it is, with their reasons.
    """
    groups: dict[tuple[Category, str, str], list[Finding]] = {}
    names: dict[tuple[Category, str, str], list[str]] = {}
    for f in findings:
        if f.pre_existing or not f.evidence:
            continue
        shape, named = question_shape(f.question)
        key = (f.category, f.rule, shape)
        groups.setdefault(key, []).append(f)
        names.setdefault(key, []).extend(named)
    items: list[tuple[tuple[int, int, int, str], ChecklistItem]] = []
    for group_key, group in groups.items():
        category, rule, shape = group_key
        question = _fill(shape, names[group_key], [f.question for f in group])
        evidence = _merged_evidence(group)
        if not evidence:
            continue
        ok = all(f.status == "looks-ok" for f in group)
        reason = "; ".join(dict.fromkeys(f.reason for f in group if f.reason)) if ok else ""
        item = ChecklistItem(
            category=category,
            title=group[0].title,
            question=question,
            evidence=evidence,
            status="looks-ok" if ok else "needs-review",
            reason=reason,
            rules=(rule,),
        )
        severity = min(_SEVERITY_ORDER.get(f.severity, 9) for f in group)
        first_patch = min(e.patch for e in evidence)
        order = (_ORDER.get(category, len(_ORDER)), 1 if ok else 0, severity * 1000 + first_patch, rule)
        items.append((order, item))
    items.sort(key=lambda kv: kv[0])
    return _without_covered_evidence(tuple(item for _, item in items))


_NAME = r"[A-Za-z_]\w*\(\)"
_NAMES = rx.compile(rf"(?:\b(?P<verb>Is|Are) )?(?P<names>{_NAME}(?:(?:, | and | or ){_NAME})*)")
_SLOT = "\x00"


def question_shape(question: str) -> tuple[str, list[str]]:
    """The question with its first list of functions taken out, and that list.

    `Is a() skipped ...?` and `Are b() and c() skipped ...?` have the same shape: one
    concern, asked of several functions, becomes one item that names them all.
    """
    m = _NAMES.search(question)
    if m is None:
        return question, []
    verb = f"{_SLOT}verb{_SLOT} " if m.group("verb") else ""
    return question[:m.start()] + verb + _SLOT + question[m.end():], rx.findall(_NAME, m.group("names"))


def _fill(shape: str, names: list[str], questions: list[str]) -> str:
    """The question again, naming every function of the merged findings (at most five)."""
    if _SLOT not in shape or len(set(questions)) == 1:
        return questions[0]
    unique = list(dict.fromkeys(names))
    if len(unique) > 5:
        unique = unique[:4] + [f"the other {len(unique) - 4} functions"]
    before = shape.split(_SLOT, 1)[0]
    lists = [m.group("names") for q in questions if (m := _NAMES.search(q))]
    joiner = "or" if before.endswith("If ") or any(" or " in n for n in lists) else "and"
    listed = unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + f" {joiner} " + unique[-1]
    out = shape.replace(f"{_SLOT}verb{_SLOT}", "Is" if len(unique) == 1 else "Are").replace(_SLOT, listed, 1)
    return out if _SLOT not in out else questions[0]


def _key(e: Evidence) -> tuple[int, str | None, int | None, tuple[str, ...]]:
    return (e.patch, e.file, e.line, e.lines)


def _without_covered_evidence(items: tuple[ChecklistItem, ...]) -> tuple[ChecklistItem, ...]:
    """A broad question does not repeat lines a narrower one of its category already asks about.

    When every evidence line of one needs-review item is also evidence of a broader item
    (more lines, another rule) in the same category, the broader item keeps only its other
    lines, and disappears when none are left: the narrower question is the one to ask there.
    """
    open_items = [i for i in items if i.status == "needs-review"]
    covered: dict[int, set[tuple[int, str | None, int | None, tuple[str, ...]]]] = {}
    for narrow in open_items:
        keys = {_key(e) for e in narrow.evidence}
        for broad in open_items:
            if (broad is not narrow and broad.category == narrow.category and broad.rules != narrow.rules
                    and len(broad.evidence) > len(keys) and keys <= {_key(e) for e in broad.evidence}):
                covered.setdefault(id(broad), set()).update(keys)
    out = []
    for item in items:
        drop = covered.get(id(item))
        if drop:
            left = tuple(e for e in item.evidence if _key(e) not in drop)
            if not left:
                continue
            item = replace(item, evidence=left)
        out.append(item)
    return tuple(out)


def _merged_evidence(group: list[Finding]) -> tuple[Evidence, ...]:
    seen: dict[tuple[int, str | None, int | None, tuple[str, ...]], Evidence] = {}
    for f in group:
        for e in f.evidence:
            seen.setdefault((e.patch, e.file, e.line, e.lines), e)
    return tuple(sorted(seen.values(), key=lambda e: (e.patch, e.file or "", e.line or 0)))
