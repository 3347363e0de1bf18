"""The check engine: run pattern rules and analyzers over a series, with series awareness.

Pattern rules match the diff model (check/diff.py) hunk by hunk; rules that name an
analyzer take their hits from check/analyzers/<name>.py. Then the series is taken into
account (check/lineage.py): a finding on lines that a later patch removes or fixes is
dropped, and a finding whose lines were already there (on the base of a rebase result,
or moved within the patch) is marked pre-existing. Nothing here prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewtool import rx
from reviewtool.check import lineage, project
from reviewtool.check.diff import DiffFile, DiffHunk, DiffLine, PatchDiff, parse_patch, parse_series
from reviewtool.check.project import TargetTree
from reviewtool.check.rules import Rule, RuleSet
from reviewtool.model import Evidence, Finding, Patch, Series
from reviewtool.record import NamedTuple, replace

if TYPE_CHECKING:
    from reviewtool.check.analyzers import Outcome
    from reviewtool.check.helper import Helper

FileText = Callable[[str], str | None]

_MAX_LINES = 12  # lines of code kept per piece of evidence
_COMMENT = ("/*", "*", "//")
_INCLUDE = rx.compile(r"\s*#\s*include\b")


class Dropped(NamedTuple):
    """A finding left out because a later patch of the series removes or fixes its lines."""

    finding: Finding
    reason: str


class EngineResult(NamedTuple):
    """What the engine found, what it dropped, and what the reader should know."""

    findings: tuple[Finding, ...]
    dropped: tuple[Dropped, ...]
    notes: tuple[str, ...]
    rules_run: tuple[str, ...]
    timings: dict[str, float]


def kernel_path(path: str) -> bool:
    """True when a path can be in a Linux kernel tree (kexec-tools/makedumpfile paths cannot)."""
    return project.path_kind(path)[0] in ("kernel", "shared")


def is_kernel_patch(patch: Patch, paths: tuple[str, ...] | None = None) -> bool:
    """False for kexec-tools / makedumpfile / crash patches (by subject, paths and lines; no tree)."""
    if paths is not None:
        return project.decide(replace(patch, files=paths), ()).kernel
    return project.decide(patch, parse_patch(patch).files).kernel


def _project_note(index: int, total: int, d: project.Decision) -> str | None:
    """What the reader is told about a patch's project: always when it is not a kernel patch,
    and when a kernel patch was taken as one on thin evidence."""
    how = f"{d.confidence}: {d.evidence}"
    if not d.kernel:
        name = "" if d.project == "userspace" else f"{d.project}, "
        return f"patch {index}/{total} is not a kernel patch ({name}{how}): only the generic checks ran"
    if d.confidence == "low":
        return f"patch {index}/{total} is taken as a kernel patch ({how}): the kernel checks ran"
    return None


def in_scope(rule: Rule, kernel: bool) -> bool:
    """Whether a rule runs on a patch: kernel rules on kernel patches, other on the rest, any on all."""
    return rule.scope == "any" or (rule.scope == "kernel") == kernel


def run_engine(series: Series, ruleset: RuleSet, post_image: FileText | None = None,
               base_image: FileText | None = None, tree: TargetTree | None = None,
               jobs: int | None = 1) -> EngineResult:
    """Run every rule over the series and apply series awareness; never raises on bad diffs.

    TREE, the target tree when there is one, decides which patches are kernel patches.
    JOBS: with 2 or more, the analyzers also run in a forked helper process beside the
    pattern rules (check/helper.py); None: when a second CPU is free.
    """
    t0 = time.perf_counter()
    diffs = parse_series(series, post_image)
    timings = {"parse": time.perf_counter() - t0}
    total = series.expected or len(series.patches)
    notes: list[str] = []
    kernel: dict[int, bool] = {}
    added: set[str] = set()
    for pd in diffs:
        decision = project.decide(pd.patch, pd.files, tree, frozenset(added))
        added.update(p for f in pd.files if f.status == "added" for p in (f.path, f.path.rpartition("/")[0]) if p)
        kernel[pd.index] = decision.kernel
        if pd.error:
            notes.append(f"patch {pd.index}/{total}: malformed diff ({pd.error}); checked what could be read")
        if (note := _project_note(pd.index, total, decision)) is not None:
            notes.append(note)

    runner = _Analyzers(series, diffs, ruleset, post_image, base_image, kernel)
    helper = runner.helper(jobs)
    try:
        t1 = time.perf_counter()
        raw: list[lineage.Raw] = []
        cover_text = _cover_text(series)
        texts: dict[tuple[int, str], str] = {}
        for pd in diffs:
            for rule in ruleset.rules:
                if rule.analyzer or not in_scope(rule, kernel[pd.index]):
                    continue
                raw.extend(_pattern_findings(rule, pd, cover_text, texts))
        raw = _merge(raw)
        timings["rules"] = time.perf_counter() - t1
        if ruleset.analyzers:
            t = time.perf_counter()
            outcomes = runner.outcomes(helper)
            if helper is not None:
                timings["analyzers_shared"] = time.perf_counter() - t
            raw.extend(_analyzer_findings(ruleset, outcomes, runner.kernel, notes, timings))
    finally:
        if helper is not None:
            helper.close()

    t2 = time.perf_counter()
    kept, dropped = lineage.apply(raw, diffs, base_image, total)
    timings["series"] = time.perf_counter() - t2
    kept.sort(key=lambda f: (f.evidence[0].patch if f.evidence else 0,
                             (f.evidence[0].file or "") if f.evidence else "",
                             (f.evidence[0].line or 0) if f.evidence else 0, f.rule))
    return EngineResult(tuple(kept), tuple(Dropped(f, why) for f, why in dropped), tuple(notes),
                        tuple(r.id for r in ruleset.rules), timings)


# --- pattern rules ---------------------------------------------------------------------------

def _cover_text(series: Series) -> str:
    if series.cover is None:
        return ""
    trailers = "\n".join(f"{t.name}: {t.value}" for t in series.cover.trailers)
    return f"{series.cover.body}\n{trailers}"


def _message_text(patch: Patch, cover_text: str) -> str:
    trailers = "\n".join(f"{t.name}: {t.value}" for t in patch.trailers)
    return f"{patch.message}\n{trailers}\n{cover_text}"


def _path_matches(rule: Rule, f: DiffFile) -> bool:
    if not rule.paths:
        return True
    return any(rule.matches_path(p) for p in (f.path, f.old_path) if p)


def _pattern_findings(rule: Rule, pd: PatchDiff, cover_text: str,
                      texts: dict[tuple[int, str], str]) -> list[lineage.Raw]:
    patch = pd.patch
    if rule.unless_message and rule.search_any("unless_message", _message_text(patch, cover_text)):
        return []
    msg_match: re.Match[str] | None = None
    if rule.commit_message:
        if not rule.search_any("commit_message", patch.message):
            return []
        msg_match = next((m for p in rule.patterns("commit_message") if (m := p.search(patch.message))), None)
        if msg_match is None:
            return []
        match_text = _match_text(msg_match)
    files = [f for f in pd.files if _path_matches(rule, f)]
    if rule.min_added:
        added = sum(1 for f in files for h in f.hunks for ln in h.lines if ln.kind == "+" and _code(ln))
        if added < rule.min_added:
            return []
    if msg_match is not None and not (rule.paths or rule.functions or rule.line_patterns):
        s = msg_match.string
        end = s.find("\n", msg_match.start())
        ev = Evidence(pd.index, None, None, (s[s.rfind("\n", 0, msg_match.start()) + 1:end if end >= 0 else None],))
        return [lineage.Raw(rule, _finding(rule, (ev,), match_text, None, None), None, None)]
    if not rule.functions and not rule.line_patterns:
        return _file_findings(rule, pd.index, files)
    out: list[lineage.Raw] = []
    for f in files:
        for hunk in f.hunks:
            found = _match_hunk(rule, pd.index, f, hunk, texts)
            if found is not None:
                out.append(found)
    return out


def _file_findings(rule: Rule, index: int, files: list[DiffFile]) -> list[lineage.Raw]:
    """A rule on paths only: one finding per patch, one piece of evidence per file it touches.

    Files whose changes are only comments, blank lines or `#include` lines do not count,
    nor a file renamed with no change to its content.
    """
    files = [f for f in files if (not f.hunks and f.status != "renamed")
             or any(ln.kind != " " and _code(ln) and not _INCLUDE.match(ln.text) for h in f.hunks for ln in h.lines)]
    if rule.unless:
        files = [f for f in files if not any(rule.search_any("unless", ln.prefixed) for h in f.hunks for ln in h.lines)]
    if not files:
        return []
    evidence = tuple(ev for f in files if (ev := _file_evidence(index, f, rule.min_added > 0)) is not None)
    if not evidence:
        return []
    return [lineage.Raw(rule, _finding(rule, evidence, "", None, files[0].path), files[0].path, None)]


def _merge(raw: list[lineage.Raw]) -> list[lineage.Raw]:
    """One finding per rule, patch, file, function and message, with all its evidence."""
    merged: dict[tuple[str, int, str | None, str | None, str], lineage.Raw] = {}
    for r in raw:
        patch = r.finding.evidence[0].patch if r.finding.evidence else 0
        key = (r.rule.id, patch, r.path, r.function, r.finding.message)
        if key in merged:
            prev = merged[key]
            evidence = prev.finding.evidence + r.finding.evidence
            merged[key] = prev._replace(finding=replace(prev.finding, evidence=evidence))
        else:
            merged[key] = r
    return list(merged.values())


def _code(ln: DiffLine) -> bool:
    text = ln.text.strip()
    return bool(text) and not text.startswith(_COMMENT)


def _kind_text(hunk: DiffHunk, kind: str, texts: dict[tuple[int, str], str]) -> str:
    """The code lines of one kind in a hunk, joined (cached per hunk for the whole run)."""
    key = (id(hunk), kind)
    if key not in texts:
        texts[key] = "\n".join(ln.text for ln in hunk.lines if ln.kind == kind and _code(ln))
    return texts[key]


def _match_hunk(rule: Rule, index: int, f: DiffFile, hunk: DiffHunk,
                texts: dict[tuple[int, str], str]) -> lineage.Raw | None:
    if rule.functions and not (hunk.function and rule.search_any("functions", hunk.function)):
        return None
    kinds = [(k, key) for k, key in (("+", "added"), ("-", "removed"), (" ", "context")) if getattr(rule, key)]
    for kind, key in kinds:  # a look at the hunk's lines of each kind skips most hunks
        text = _kind_text(hunk, kind, texts)
        if not text or not rule.may_match(key, text):
            return None  # no such lines, or none with what a match needs
    for kind, key in kinds:  # then one search over them with all of the rule's regexes for that kind
        quick = rule.combined(key)
        if quick is not None and not quick.search(_kind_text(hunk, kind, texts)):
            return None
    lines = hunk.lines
    picked: list[int] = []
    for kind, key in kinds:
        hits = [i for i, ln in enumerate(lines) if ln.kind == kind and _code(ln) and rule.search_any(key, ln.text)]
        if not hits:
            return None
        picked.extend(hits)
    if rule.unless and any(rule.search_any("unless", ln.prefixed) for ln in lines):
        return None
    first_match = _first_match(rule, lines, kinds, picked) if _shows_match(rule) else ""
    if not any(lines[i].kind != " " for i in picked):
        picked.extend(_first_change_run(lines))
    if not picked:
        return None
    evidence = _runs(index, f.path, hunk, sorted(set(picked)))
    finding = _finding(rule, evidence, first_match.strip(), hunk.function, f.path)
    return lineage.Raw(rule, finding, f.path, hunk.function)


def _shows_match(rule: Rule) -> bool:
    """True when the rule's message or question shows `{match}`."""
    return "{match" in rule.message or "{match" in rule.question


def _first_match(rule: Rule, lines: tuple[DiffLine, ...], kinds: list[tuple[str, str]], picked: list[int]) -> str:
    """What `{match}` shows: the first regex's match on the first hit line (of the first kind)."""
    for i in picked:
        key = next(key for kind, key in kinds if kind == lines[i].kind)
        m = next((m for p in rule.patterns(key) if (m := p.search(lines[i].text))), None)
        if m is not None and (text := _match_text(m)):
            return text
    return ""


def _match_text(m: re.Match[str]) -> str:
    """What `{match}` shows: the `match` group if the regex names one, else the whole match."""
    text = m.groupdict().get("match") or m.group(0)
    return " ".join(text.split()).rstrip("( ").lstrip('"')


def _first_change_run(lines: tuple[DiffLine, ...], added_only: bool = False) -> list[int]:
    """The first run of changed lines that starts with code (not a comment or blank line)."""
    out: list[int] = []
    for i, ln in enumerate(lines):
        if ln.kind != " " and (out or (_code(ln) and not _INCLUDE.match(ln.text)
                                       and (ln.kind == "+" or not added_only))):
            out.append(i)
        elif out:
            break
        if len(out) >= _MAX_LINES // 2:
            break
    return out


def _runs(index: int, path: str, hunk: DiffHunk, picked: list[int]) -> tuple[Evidence, ...]:
    """Consecutive picked lines become one piece of evidence each."""
    lines = hunk.lines
    groups: list[list[int]] = []
    for i in picked:
        if groups and i - groups[-1][-1] <= 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for g in groups:
        g = g[:_MAX_LINES]
        out.append(Evidence(index, path, _new_line(lines, g[0]), tuple(lines[i].prefixed for i in g),
                            hunk.number, g[0]))
    return tuple(out)


def _new_line(lines: tuple[DiffLine, ...], i: int) -> int | None:
    for ln in lines[i:]:
        if ln.new_no is not None:
            return ln.new_no
    for ln in reversed(lines[:i]):
        if ln.new_no is not None:
            return ln.new_no + 1
    return None


def _file_evidence(index: int, f: DiffFile, added_only: bool = False) -> Evidence | None:
    """The first changed code of a file (added code only, if asked); a note for binary/mode changes."""
    if not f.hunks:
        return None if added_only else Evidence(index, f.path, None, (f"({f.status} file)",))
    for h in f.hunks:
        run = _first_change_run(h.lines, added_only)
        if run:
            return Evidence(index, f.path, _new_line(h.lines, run[0]), tuple(h.lines[i].prefixed for i in run),
                            h.number, run[0])
    if added_only:
        return None
    lines = f.hunks[0].lines
    run = [i for i, ln in enumerate(lines) if ln.kind != " "][:_MAX_LINES // 2]
    return Evidence(index, f.path, _new_line(lines, run[0]) if run else f.hunks[0].new_start,
                    tuple(lines[i].prefixed for i in run), 0 if run else None, run[0] if run else None)


def _finding(rule: Rule, evidence: tuple[Evidence, ...], match: str, function: str | None,
             path: str | None) -> Finding:
    values = {"match": match, "function": function or "?", "file": path or "?"}
    return Finding(
        rule=rule.id, title=rule.title, severity=rule.severity, category=rule.category,
        message=rule.message.format_map(values), question=rule.question.format_map(values),
        evidence=evidence,
    )


# --- analyzers -------------------------------------------------------------------------------

class _Analyzers:
    """The analyzers of a check, run here or shared with a helper process."""

    def __init__(self, series: Series, diffs: tuple[PatchDiff, ...], ruleset: RuleSet,
                 post_image: FileText | None, base_image: FileText | None, kernel: dict[int, bool]) -> None:
        self.names = ruleset.analyzers
        self.images = post_image is not None or base_image is not None
        self.kernel: Callable[[int], bool] = lambda i: kernel.get(i, True)
        self._args = (series, diffs, post_image, base_image)
        self._ctx: Any = None

    def _run(self, index: int) -> Outcome:
        from reviewtool.check import analyzers

        if self._ctx is None:
            series, diffs, post_image, base_image = self._args
            self._ctx = analyzers.AnalyzerContext(series=series, diffs=diffs, post_image=post_image,
                                                  base_image=base_image, kernel_patch=self.kernel)
        return analyzers.outcome(self.names[index], self._ctx)

    def helper(self, jobs: int | None) -> Helper | None:
        """A helper process to share the analyzers with, when there are some and it may run:
        not when the analyzers read a rebase result's files (through this process's git)."""
        if len(self.names) < 2 or self.images or jobs == 1:
            return None
        from reviewtool.check import helper

        if not helper.usable(jobs):
            return None
        from reviewtool.check import analyzers

        return helper.Helper.start(len(self.names), lambda i: analyzers.encode(self._run(i)))

    def outcomes(self, helper: Helper | None) -> list[Outcome]:
        """Each analyzer's outcome, in order (with the helper: whichever process ran it)."""
        if helper is None:
            return [self._run(i) for i in range(len(self.names))]
        from reviewtool.check import analyzers

        return helper.finish(self._run, lambda _, data: analyzers.decode(data))


def _analyzer_findings(ruleset: RuleSet, outcomes: list[Outcome], kernel: Callable[[int], bool], notes: list[str],
                       timings: dict[str, float]) -> list[lineage.Raw]:
    out: list[lineage.Raw] = []
    for name, found in zip(ruleset.analyzers, outcomes, strict=True):
        timings[f"analyzer:{name}"] = found.seconds
        if found.failure is not None:
            notes.append(found.failure)
            continue
        for hit in found.hits:
            rule = ruleset.get(hit.rule)
            if rule is None or rule.analyzer != name or not hit.evidence:
                continue
            evidence = tuple(e for e in hit.evidence if e.file is None or rule.matches_path(e.file))
            if not evidence:
                continue
            patches = {e.patch for e in evidence if e.patch}
            if patches and not any(in_scope(rule, kernel(p)) for p in patches):
                continue
            path = next((e.file for e in evidence if e.file), None)
            finding = _finding(rule, evidence, "", hit.function, path)
            finding = replace(finding, message=hit.message or finding.message,
                              question=hit.question or finding.question,
                              status=hit.status,
                              reason=hit.reason)
            # with its function named, lines moved in from another function are not "moved code"
            out.append(lineage.Raw(rule, finding, path, hit.function))
    return out
