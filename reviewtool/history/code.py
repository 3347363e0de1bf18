"""The same code, reviewed before (`--history=code`): what reviewers said about the functions a
series changes when other series changed them earlier.

fetch/revisions.py finds the other series (a public-inbox search on diff hunk headers, `dfhh:`,
dated before this series); here their review replies are split into comments, each anchored in
the patch it answered, and the comments on a function this series changes become checklist items:
ranked (same file and function first, then the longer comment, then the latest) and capped.
"""

from __future__ import annotations

from datetime import datetime

from reviewtool import diff, rx
from reviewtool.history import anchor, comments
from reviewtool.history.checklist import FALLBACK, short
from reviewtool.history.classify import classify
from reviewtool.model import CATEGORIES, ChecklistItem, Evidence, MailSource, Series, when

RULE = "HISTORY-CODE"
MAX_ITEMS = 5
MAX_PER_FUNCTION = 2
MAX_FUNCTIONS = 24  # names searched for: a query stays small
MIN_WORDS = 6  # a shorter comment ("Good catch", "Ditto") says nothing to another series
_NAME = rx.compile(r"\b([A-Za-z_]\w{3,})\s*\(")
_ASM_START = rx.compile(r"^(?:SYM_(?:FUNC|CODE|INNER_LABEL)_START\w*|ENTRY)\(\s*([A-Za-z_]\w*)")
_NOT_FUNCTIONS = {"sizeof", "typeof", "while", "switch", "return", "defined", "__attribute__", "if", "for"}


def function_name(context: str | None) -> str | None:
    """The function named in a hunk header's context or a definition line, or None. In assembly
    the name is the argument of SYM_FUNC_START()/SYM_CODE_START()/ENTRY(); other upper-case
    macros (SYM_CODE_END(), DEFINE_...()) name no function."""
    if not context:
        return None
    m = _NAME.search(context)
    if m is None or m.group(1) in _NOT_FUNCTIONS:
        return None
    if m.group(1).isupper():
        arg = _ASM_START.match(context.strip())
        return arg.group(1) if arg else None
    return m.group(1)


def touched(series: Series) -> dict[str, Evidence]:
    """The functions series changes (by name, in patch order) and where: the first changed lines
    of each, as evidence."""
    out: dict[str, Evidence] = {}
    for p in series.patches:
        for f in diff.parse(p.diff).files:
            if f.kind not in ("c", "header", "asm"):
                continue
            for h in f.hunks:
                changed = [i for i, ln in enumerate(h.lines) if ln.kind in ("+", "-")]
                if not changed:
                    continue
                name = function_name(anchor.function_at(h, changed[0]))
                if name is None or name in out:
                    continue
                i0, i1 = changed[0], min(changed[-1], changed[0] + 5)
                first = h.lines[i0]
                out[name] = Evidence(p.index, f.path, first.new_no if first.new_no is not None else first.old_no,
                                     tuple(ln.prefixed for ln in h.lines[i0:i1 + 1]), h.number, i0)
    return dict(list(out.items())[:MAX_FUNCTIONS])


def lines_of(series: Series) -> dict[str, set[str]]:
    """Per file, every line series' hunks show (added, removed or context), stripped."""
    out: dict[str, set[str]] = {}
    for p in series.patches:
        for f in diff.parse(p.diff).files:
            out.setdefault(f.path, set()).update(t for h in f.hunks for t in _texts(h.lines))
    return out


def _texts(lines: tuple[diff.DiffLine, ...]) -> list[str]:
    return [ln.text.strip() for ln in lines if len(ln.text.strip()) >= anchor.MIN_LINE]


def _about_these_lines(quote: tuple[str, ...], file: str, shown: dict[str, set[str]]) -> bool:
    """Whether a quoted line (added, removed or context) is a line this series' hunks show in file
    (measured: requiring a line this series adds or removes left recall where it was)."""
    mine = shown.get(file, set())
    return any(q[1:].strip() in mine for q in quote
               if q[:1] in ("+", "-", " ") and len(q[1:].strip()) >= anchor.MIN_LINE)


_when = when


def items(current: Series, others: list[Series], limit: int = MAX_ITEMS) -> tuple[ChecklistItem, ...]:
    """Checklist items for what reviewers of other, earlier series said about the functions
    current changes (at most limit, at most MAX_PER_FUNCTION per function)."""
    wanted = touched(current)
    shown = lines_of(current)
    cutoff = _when(current.date)
    me = comments.address(current.author)
    found: list[tuple[tuple[int, int, datetime], ChecklistItem, str]] = []
    seen: set[tuple[str, str]] = set()
    for s in others:
        author = comments.address(s.author)
        patches = {p.index: p for p in s.patches}
        for r in s.replies:
            who = comments.address(r.author)
            patch = patches.get(r.patch_index or 0)
            if patch is None or r.kind or who in (author, me) or _when(r.date) >= cutoff:
                continue
            for raw in comments.split(r):
                if len(raw.words.split()) < MIN_WORDS or (r.msgid, raw.words) in seen:
                    continue
                where = anchor.locate(patch, raw.quote)
                name = function_name(where.function) if where else None
                if where is None or name is None or name not in wanted:
                    continue
                if not _about_these_lines(raw.quote, where.file, shown):
                    continue  # about other lines of the function
                seen.add((r.msgid, raw.words))
                now = wanted[name]
                category = classify(raw.words)
                item = ChecklistItem(
                    category=category if category in CATEGORIES else FALLBACK,  # type: ignore[arg-type]
                    title=f"{name}() was reviewed before",
                    question=(f"When \"{short(s.subject, 80)}\" changed {name}() ({r.date[:10]}), "
                              f"{comments.name(r.author)} said: \"{short(raw.words)}\". Does it hold for this "
                              "change too?"),
                    evidence=(now,), rules=(RULE,), reason=f"{where.file}: {name}()",
                    sources=(MailSource(r.msgid, r.date, r.author),))
                rank = (int(where.file == now.file), len(raw.words), _when(r.date))
                found.append((rank, item, name))
    found.sort(key=lambda x: x[0], reverse=True)
    out: list[ChecklistItem] = []
    per: dict[str, int] = {}
    for _rank, item, name in found:
        if len(out) >= limit:
            break
        if per.get(name, 0) < MAX_PER_FUNCTION:
            per[name] = per.get(name, 0) + 1
            out.append(item)
    return tuple(out)
