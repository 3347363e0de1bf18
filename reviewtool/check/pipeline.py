"""One check of a series: engine + checkpatch (beside it, in parallel) + checklist -> CheckResult."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from reviewtool.check.checklist import build_checklist
from reviewtool.check.engine import Dropped, FileText, run_engine
from reviewtool.check.rules import RuleSet
from reviewtool.model import CheckResult, DroppedFinding, Finding, Series

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor
    from pathlib import Path

    from reviewtool.check.project import TargetTree


def dropped_finding(d: Dropped) -> DroppedFinding:
    """The record of a finding dropped because a later patch removed or fixed its lines."""
    ev = d.finding.evidence[0] if d.finding.evidence else None
    return DroppedFinding(d.finding.rule, ev.patch if ev else 0, ev.file if ev else None,
                          ev.line if ev else None, d.reason)


def check_series(series: Series, ruleset: RuleSet, *, post_image: FileText | None = None,
                 base_image: FileText | None = None, checkpatch: Path | None = None,
                 checkpatch_missing: str = "", tree: TargetTree | None = None,
                 jobs: int | None = 1) -> CheckResult:
    """Run every rule and analyzer (and checkpatch when given) and build the checklist.

    checkpatch runs in worker threads while the engine works; `checkpatch_missing` is
    the note to record when it is not run. JOBS: processes the engine may use (run_engine).
    """
    start = time.perf_counter()
    cp_future: Future[tuple[list[Finding], list[str]]] | None = None
    pool: ThreadPoolExecutor | None = None
    if checkpatch is not None and series.patches:
        from concurrent.futures import ThreadPoolExecutor  # only when checkpatch runs

        from reviewtool.check.external import run_checkpatch

        pool = ThreadPoolExecutor(max_workers=1)
        cp_future = pool.submit(run_checkpatch, checkpatch, series)
    try:
        result = run_engine(series, ruleset, post_image=post_image, base_image=base_image, tree=tree, jobs=jobs)
        findings = list(result.findings)
        notes = list(result.notes)
        timings = dict(result.timings)
        rules_run = list(result.rules_run)
        if cp_future is not None:
            t = time.perf_counter()
            cp_findings, cp_notes = cp_future.result()
            timings["checkpatch_wait"] = time.perf_counter() - t
            findings.extend(cp_findings)
            notes.extend(cp_notes)
            rules_run.append("checkpatch")
        elif checkpatch_missing:
            notes.append(checkpatch_missing)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    t = time.perf_counter()
    findings.sort(key=_order)
    checklist = build_checklist(findings)
    timings["checklist"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    return CheckResult(
        series_id=series.id, findings=tuple(findings), checklist=checklist,
        rules_run=tuple(rules_run), notes=tuple(notes), dropped=tuple(dropped_finding(d) for d in result.dropped),
        timings={k: round(v, 4) for k, v in timings.items()},
    )


def _order(f: Finding) -> tuple[int, str, int, str]:
    ev = f.evidence[0] if f.evidence else None
    return (ev.patch if ev else 0, (ev.file or "") if ev else "", (ev.line or 0) if ev else 0, f.rule)
