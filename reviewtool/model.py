"""The objects that cross layers: small frozen records (reviewtool/record.py) with a JSON round-trip.

fetch produces a `Series`, rebase an `ApplyResult`, check a `CheckResult` (findings and
the checklist). Nothing else crosses to the formatters.
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, get_args

from reviewtool.record import field, fields, is_record, record

SCHEMA_VERSION = 1

# --- the shared vocabulary: every layer and every output speaks these words -----------

Category = Literal["kdump_impact", "alloc_failure", "relocation_path", "cache_maintenance", "el2_mode",
                   "memory_reservation", "error_path", "locking_concurrency", "abi_compat", "kconfig_build",
                   "docs", "commit_msg_trailers", "testing_request", "security_verification",
                   "design_approach"]
# The fixed checklist categories, in the order every output shows them, with their titles.
CATEGORIES: dict[str, str] = {
    "kdump_impact": "kdump / crash path",
    "alloc_failure": "allocation failure",
    "relocation_path": "relocation path",
    "cache_maintenance": "cache and TLB maintenance",
    "el2_mode": "EL2 / VHE",
    "memory_reservation": "memory reservation",
    "error_path": "error paths",
    "locking_concurrency": "locking and concurrency",
    "abi_compat": "ABI and user-visible interfaces",
    "kconfig_build": "Kconfig and build",
    "docs": "documentation",
    "commit_msg_trailers": "commit message and trailers",
    "testing_request": "testing",
    "security_verification": "security and verification",
    "design_approach": "design and approach",
}
Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
Status = Literal["needs-review", "looks-ok"]
STATUSES: tuple[str, ...] = get_args(Status)
Outcome = Literal["clean", "offset", "3way", "conflict", "already-upstream", "already-applied", "skipped",
                  "missing", "not-applicable"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
BaseHow = Literal["--base", "base-commit", "guessed", "onto"]

T = TypeVar("T")


@record
class Trailer:
    """A `Name: value` line: written in the patch, or given in a reply."""

    name: str
    value: str
    from_: str  # who gave it ("Name <addr>"); the patch author for in-body trailers
    source: str = "reply"  # "in-body" | "reply" | "cover" (a reply to the cover letter)
    msgid: str | None = None  # the reply that carried it


@record
class Reply:
    """A message in the thread that is neither a patch nor a cover letter."""

    msgid: str
    author: str
    date: str
    subject: str
    in_reply_to: str | None
    body: str
    patch_index: int | None  # 0 = the cover letter, N = patch N, None = elsewhere
    trailers: tuple[Trailer, ...] = ()
    # "" a person's reply; else a mail sent by automation or bookkeeping, kept as a reply:
    # "robot-suggestion", "commit-notification", "applied"
    kind: str = ""


@record
class Cover:
    """The cover letter of the series (patch 0/N)."""

    msgid: str
    subject: str
    author: str
    date: str
    body: str
    trailers: tuple[Trailer, ...] = ()


@record
class Patch:
    """One patch of the chosen revision, as b4 would apply it."""

    index: int
    expected: int
    subject: str  # without the [PATCH vN i/M] prefix
    full_subject: str
    msgid: str
    author: str  # "Name <addr>"
    date: str
    message: str  # commit message body (above the first ---), in-body trailers included
    diff: str  # the unified diff, as text
    files: tuple[str, ...]
    trailers: tuple[Trailer, ...] = ()  # follow-up trailers only (in-body ones are in message)
    in_body_trailers: tuple[Trailer, ...] = ()
    patch_id: str | None = None  # git patch-id --stable
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()


@record
class Series:
    """A revision of a patch series with everything collected from its thread."""

    id: str  # store id
    revision: int
    expected: int
    subject: str
    author: str
    date: str
    msgid: str  # the cover letter's, else the first patch's
    cover: Cover | None
    patches: tuple[Patch, ...]
    missing: tuple[int, ...] = ()
    duplicates: tuple[str, ...] = ()  # msgids of duplicate copies that were dropped
    other_revisions: tuple[int, ...] = ()
    base_commit: str | None = None
    prerequisite_patch_ids: tuple[str, ...] = ()
    change_id: str | None = None
    replies: tuple[Reply, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = ""
    other_replies: int = 0  # replies in the thread to other revisions (not in `replies`)
    link: str | None = None
    schema_version: int = SCHEMA_VERSION


# --- rebase ---------------------------------------------------------------------------

@record
class Hunk:
    """A hunk that failed to apply, with its line range in the target file."""

    path: str
    header: str
    start: int
    length: int


@record
class PatchOutcome:
    """What happened to one patch when the series was applied: one of OUTCOMES, with the detail."""

    index: int
    subject: str
    outcome: Outcome
    paths: tuple[str, ...] = ()
    detail: str = ""
    git_error: str = ""
    upstream_commit: str | None = None
    failed_hunks: tuple[Hunk, ...] = ()
    commit: str | None = None  # the commit made for this patch, when it applied
    # when its content was compared with the target (it did not apply): the added lines that
    # tell something, and how many of them are there already
    added_lines: int = 0
    added_present: int = 0


@record
class BaseChoice:
    """The commit the series was applied on, and how it was chosen."""

    commit: str | None
    how: BaseHow
    detail: str = ""


@record
class ApplyResult:
    """The result of a rebase: the base, each patch's outcome, and the commit made (if any)."""

    series_id: str
    onto: str
    onto_commit: str
    base: BaseChoice
    patches: tuple[PatchOutcome, ...]
    result_commit: str | None
    result_tree: str | None
    repo: str
    branch: str | None = None
    expected: int = 0  # M of the series' N/M: every N in 1..M has one of `patches`
    scanned: str = ""  # what was read for already-upstream patches, and what was left out and why
    scanned_commits: int = 0
    schema_version: int = SCHEMA_VERSION


@record
class RebaseMatrix:
    """One series applied onto several targets in one run: a result per target, in the order
    given, and the target that takes the series best."""

    series_id: str
    results: tuple[ApplyResult, ...]
    best: str  # the `onto` of the best result
    best_reason: str = ""
    schema_version: int = SCHEMA_VERSION


# --- check ----------------------------------------------------------------------------


@record
class Evidence:
    """Where a finding is: patch n of the series, file and new-side line, and the lines themselves."""

    patch: int  # 0 = series level / cover
    file: str | None
    line: int | None  # line in the post-image (new side) of the file
    lines: tuple[str, ...] = ()  # the lines themselves, with their +/-/space prefix
    hunk: int | None = None  # the hunk's number in the file, in the patch's diff (reviewtool.diff)
    first: int | None = None  # the index of the first of `lines` in that hunk


@record
class Finding:
    """One thing a rule, an analyzer or checkpatch found, with its evidence and question."""

    rule: str
    title: str
    severity: Severity
    category: Category
    message: str
    question: str
    evidence: tuple[Evidence, ...]
    source: str = "reviewtool"  # "reviewtool" | "checkpatch"
    pre_existing: bool = False
    status: Status = "needs-review"
    reason: str = ""


@record
class MailSource:
    """A mail a checklist item rests on: its message-id, date and sender."""

    msgid: str
    date: str
    from_: str


@record
class ChecklistItem:
    """One question of the reviewer checklist, with all the evidence for it."""

    category: Category
    title: str
    question: str
    evidence: tuple[Evidence, ...]
    status: Status = "needs-review"
    reason: str = ""
    rules: tuple[str, ...] = ()
    sources: tuple[MailSource, ...] = ()  # the mails an item from history rests on


@record
class DroppedFinding:
    """A finding left out because a later patch of the series removes or fixes its lines."""

    rule: str
    patch: int
    file: str | None
    line: int | None
    reason: str

    def describe(self) -> str:
        """One line: the rule, where it was, and why it was dropped."""
        where = f"patch {self.patch}" + (f" {self.file}" if self.file else "")
        where += f":{self.line}" if self.file and self.line else ""
        return f"{self.rule} in {where}: {self.reason}"


@record
class CheckResult:
    """The result of a check: findings, the checklist, what was dropped, the rules run, notes, timings."""

    series_id: str
    findings: tuple[Finding, ...]
    checklist: tuple[ChecklistItem, ...]
    rules_run: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dropped: tuple[DroppedFinding, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    history: Ledger | None = None  # with --history: what earlier revisions were told
    schema_version: int = SCHEMA_VERSION


# --- history: the review ledger -------------------------------------------------------

CommentStatus = Literal["addressed", "answered", "acked", "unchanged", "dropped", "unknown"]
COMMENT_STATUSES: tuple[str, ...] = get_args(CommentStatus)
OPEN_STATUSES = ("unchanged", "unknown")  # the comments `check --history` asks about again
Verdict = Literal["unchanged", "changed", "new", "dropped"]
VERDICTS: tuple[str, ...] = get_args(Verdict)


@record
class LedgerRevision:
    """An earlier revision of the series that history found, and how it was found."""

    revision: int
    msgid: str
    date: str
    subject: str = ""
    link: str | None = None
    found_by: str = ""  # "change-id", "subject", "link", "store"
    replies: int = 0  # the replies read (dated before the series)


@record
class Comment:
    """One reviewer comment on an earlier revision: the lines it quoted, the reviewer's words,
    where it points in that revision and in this one, and its status in this one."""

    from_: str
    msgid: str
    date: str
    revision: int
    patch: int  # the patch of `revision` it was about (0: the cover letter)
    text: str  # the reviewer's words
    status: CommentStatus
    category: str  # a CATEGORIES key, or "other"
    file: str | None = None
    function: str | None = None
    line: int | None = None  # first quoted line, new side, in `revision`'s patch
    quote: tuple[str, ...] = ()  # the lines it answers, as quoted
    reason: str = ""  # why this status (for `answered`: the first line of the answer)
    answer_msgid: str | None = None
    now_patch: int | None = None  # the patch of this revision it maps to
    evidence: tuple[Evidence, ...] = ()  # the lines in this revision (for open comments)


@record
class PatchHistory:
    """A patch of this revision (or one that left the series), paired with the previous
    revision's as range-diff pairs them, and the verdict."""

    verdict: Verdict
    subject: str
    patch: int | None  # index in this revision (None: dropped)
    previous: int | None = None  # index in the previous revision (None: new)
    previous_revision: int | None = None
    how: str = ""  # "patch-id", "subject", "content"


@record
class Ledger:
    """What earlier revisions of a series were told, and where each comment stands now."""

    series_id: str
    revision: int
    revisions: tuple[LedgerRevision, ...]
    patches: tuple[PatchHistory, ...] = ()
    comments: tuple[Comment, ...] = ()
    trailers: tuple[Trailer, ...] = ()  # trailers given on earlier revisions
    notes: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION


def when(date: str, *, unreadable_last: bool = False) -> datetime:
    """A model date (ISO 8601) as an aware datetime (naive ones are UTC). An unreadable date
    sorts first, or last with `unreadable_last` (where "after the series" must exclude it)."""
    try:
        d = datetime.fromisoformat(date)
    except ValueError:
        return (datetime.max if unreadable_last else datetime.min).replace(tzinfo=UTC)
    return d if d.tzinfo else d.replace(tzinfo=UTC)


# --- JSON round-trip ------------------------------------------------------------------

_RENAMES = {"from_": "from"}
_UNRENAMES = {v: k for k, v in _RENAMES.items()}


def to_json(obj: Any) -> Any:
    """Plain JSON-able data from a model object (tuples become lists, `from_` -> `from`)."""
    cls = type(obj)
    if cls is str or cls is int or obj is None or cls is bool or cls is float:  # most of it: as it is
        return obj
    if cls is tuple or cls is list:
        return [to_json(x) for x in obj]
    if is_record(obj) and not isinstance(obj, type):
        return {key: to_json(getattr(obj, name)) for name, key in _keys(type(obj))}
    if isinstance(obj, (list, tuple)):
        return [to_json(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj


def from_json(cls: type[T], data: Any) -> T:
    """Rebuild a model object from `to_json` output; unknown keys are ignored."""
    return typing.cast(T, _build(cls, data))


def _build(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        inner = [a for a in args if a is not type(None)]
        return _build(inner[0], data)
    if origin is tuple:
        return tuple(_build(args[0], x) for x in data)
    if origin is dict:
        return dict(data)
    if isinstance(tp, type) and is_record(tp):
        kwargs = {}
        for name, key, hint in _fields(tp):
            if key in data:
                kwargs[name] = _build(hint, data[key])
        return typing.cast(Any, tp)(**kwargs)
    return data


def prepare_from_json(cls: type) -> None:
    """Resolve, ahead of use, the field types `from_json(cls, ...)` needs for CLS and every
    record inside it (a helper process does it while it waits for its work)."""
    todo, seen = [cls], set()
    while todo:
        tp = todo.pop()
        if tp in seen:
            continue
        seen.add(tp)
        hints = [hint for _, _, hint in _fields(tp)]
        while hints:
            hint = hints.pop()
            if isinstance(hint, type) and is_record(hint):
                todo.append(hint)
            hints.extend(typing.get_args(hint))


_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, JSON key) of each field of a record, once per class."""
    got = _KEYS.get(cls)
    if got is None:
        got = _KEYS[cls] = tuple((f.name, _RENAMES.get(f.name, f.name)) for f in fields(cls))
    return got


_FIELDS: dict[type, tuple[tuple[str, str, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(field name, JSON key, resolved type) of each field of a record, resolved once per class."""
    got = _FIELDS.get(cls)
    if got is None:
        hints = typing.get_type_hints(cls)
        got = _FIELDS[cls] = tuple((f.name, _RENAMES.get(f.name, f.name), hints[f.name])
                                   for f in fields(cls))
    return got
