"""Analyzers: Python checks for what line patterns cannot do well.

Each analyzer is a module `reviewtool.check.analyzers.<name>` with
`analyze(ctx: AnalyzerContext) -> list[Hit]`. A hit names a rule (defined in
`rules/*-analyzers.toml`) and carries its evidence; the engine turns it into a finding.
Analyzers never print, and a hit without evidence is never produced.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from reviewtool import rx
from reviewtool.check.diff import DiffFile, DiffHunk, PatchDiff
from reviewtool.errors import RulesError
from reviewtool.model import Evidence, Series, Status
from reviewtool.record import NamedTuple, field, fields, record

FileText = Callable[[str], str | None]
T = TypeVar("T")

ANALYZERS = ("alloc", "loadtime", "crashpath", "arm64asm", "commitmsg", "uapi", "kconfig", "uninit", "el2")
_NAME_RE = rx.compile(r"^[a-z][a-z0-9_]*$")
MAX_EVIDENCE_LINES = 12


def _always(_: int) -> bool:
    return True


@record
class AnalyzerContext:
    """What an analyzer sees: the series, its parsed diffs, and the trees when known."""

    series: Series
    diffs: tuple[PatchDiff, ...]
    post_image: FileText | None = None  # file text in the rebased result (or None)
    base_image: FileText | None = None  # file text on the base (or None)
    kernel_patch: Callable[[int], bool] = _always  # False for kexec-tools/makedumpfile patches
    _images: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False, repr=False)
    _shared: dict[Callable[..., Any], Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, make: Callable[[AnalyzerContext], T]) -> T:
        """`make(self)`, computed once per run for every analyzer that asks (e.g. the series' allocator wrappers)."""
        if make not in self._shared:
            self._shared[make] = make(self)
        value: T = self._shared[make]
        return value

    def image(self, path: str, side: str = "post") -> str | None:
        """The text of a file in the rebased result ("post") or on the base ("base"), cached."""
        reader = self.post_image if side == "post" else self.base_image
        if reader is None:
            return None
        key = (side, path)
        if key not in self._images:
            try:
                self._images[key] = reader(path)
            except Exception:  # noqa: BLE001 - an unreadable tree only costs precision
                self._images[key] = None
        return self._images[key]

    def kernel_diffs(self) -> Iterable[PatchDiff]:
        """The diffs of kernel patches (others only get the generic checks)."""
        return (pd for pd in self.diffs if self.kernel_patch(pd.index))


class Hit(NamedTuple):
    """One thing an analyzer found, tied to the rule it belongs to."""

    rule: str
    evidence: tuple[Evidence, ...]
    message: str | None = None  # overrides the rule's message
    status: Status = "needs-review"  # or "looks-ok", with a reason
    reason: str = ""
    question: str | None = None  # a sharper question than the rule's, when the analyzer knows more
    function: str | None = None  # the function the evidence is in, when the question is about that place


def run_analyzer(name: str, ctx: AnalyzerContext) -> list[Hit]:
    """Import `reviewtool.check.analyzers.<name>` (lazily) and run its `analyze(ctx)`."""
    if not _NAME_RE.match(name):
        raise RulesError(f"analyzer '{name}' is not a module name")
    try:
        module = importlib.import_module(f"reviewtool.check.analyzers.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"reviewtool.check.analyzers.{name}":
            raise RulesError(f"unknown analyzer '{name}' (one of {', '.join(ANALYZERS)})") from exc
        raise
    analyze: Callable[[AnalyzerContext], list[Hit]] = module.analyze
    return [h for h in analyze(ctx) if h.evidence]


class Outcome(NamedTuple):
    """What running one analyzer gave: its hits, or the note saying why it failed; and how
    long it took."""

    hits: tuple[Hit, ...]
    failure: str | None
    seconds: float


def outcome(name: str, ctx: AnalyzerContext) -> Outcome:
    """Run one analyzer; one that raises is a note (one broken analyzer must not hide the rest)."""
    t = time.perf_counter()
    try:
        hits = tuple(run_analyzer(name, ctx))
    except Exception as e:  # noqa: BLE001 - see above
        return Outcome((), f"analyzer '{name}' failed ({type(e).__name__}: {e}); its rules did not run",
                       time.perf_counter() - t)
    return Outcome(hits, None, time.perf_counter() - t)


def encode(found: Outcome) -> tuple[Any, ...]:
    """An outcome as marshal can write it (from a helper process: check/helper.py)."""
    names = _evidence_fields()
    return (tuple((*h[:1], tuple(tuple(getattr(e, n) for n in names) for e in h.evidence), *h[2:])
                  for h in found.hits), found.failure, found.seconds)


def decode(data: Any) -> Outcome:
    """The outcome `encode` wrote."""
    hits, failure, seconds = data
    return Outcome(tuple(Hit(h[0], tuple(Evidence(*e) for e in h[1]), *h[2:]) for h in hits), failure, seconds)


def _evidence_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Evidence))


# --- evidence --------------------------------------------------------------------------

def evidence(patch: int, path: str, hunk: DiffHunk, first: int, last: int | None = None) -> Evidence:
    """Evidence from hunk lines `first`..`last` (inclusive indexes), consecutive as in the diff.

    `line` is the new-side number of the first line that has one, so the lines can be
    followed through later patches.
    """
    last = first if last is None else last
    lines = hunk.lines[first:last + 1][:MAX_EVIDENCE_LINES]
    return Evidence(patch, path, new_line_at(hunk, first), tuple(ln.prefixed for ln in lines), hunk.number, first)


def new_line_at(hunk: DiffHunk, idx: int) -> int | None:
    """The new-side line number at hunk line `idx` (a removed line: the line after it)."""
    for ln in hunk.lines[idx:]:
        if ln.new_no is not None:
            return ln.new_no
    for ln in reversed(hunk.lines[:idx]):
        if ln.new_no is not None:
            return ln.new_no + 1
    return None


def code(text: str) -> str:
    """A source line without its trailing `//` or one-line `/* */` comment, stripped."""
    if "/*" in text:
        text = rx.sub(r"/\*.*?\*/", "", text)
    if "//" in text:
        text = text.split("//", 1)[0]
    return text.strip()


def is_comment_or_blank(text: str) -> bool:
    """True for blank lines and lines that are only comment."""
    t = text.strip()
    return not t or t.startswith(("/*", "*", "//")) or not code(text)


def norm_line(text: str) -> str:
    """A line with its white space collapsed (moved code is compared modulo white space)."""
    return " ".join(text.split())


class SeriesLines(NamedTuple):
    """Every removed and every added line of the series, white space collapsed."""

    removed: frozenset[str]
    added: frozenset[str]

    def moved(self, kind: str, text: str) -> bool:
        """True when a removed line is added back, or an added line removed, anywhere in the series."""
        key = norm_line(text)
        return bool(key) and key in (self.added if kind == "-" else self.removed)


def series_lines(ctx: AnalyzerContext) -> SeriesLines:
    """The series' removed and added lines (use through `ctx.shared(series_lines)`)."""
    removed: set[str] = set()
    added: set[str] = set()
    for pd in ctx.diffs:
        for f in pd.files:
            for h in f.hunks:
                for ln in h.lines:
                    if ln.kind == "-":
                        removed.add(norm_line(ln.text))
                    elif ln.kind == "+":
                        added.add(norm_line(ln.text))
    return SeriesLines(frozenset(removed), frozenset(added))


def c_files(pd: PatchDiff) -> Iterable[DiffFile]:
    """The C source and header files of a patch (not deleted)."""
    return (f for f in pd.files if f.kind in ("c", "header") and f.status != "deleted")
