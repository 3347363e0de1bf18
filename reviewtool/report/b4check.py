"""b4's external review-check protocol: the JSON list a `b4.review-perpatch-check-cmd` prints.

b4 0.16 (b4/review/checks.py, `_run_external_cmd`) runs the command in the top directory
of the current git tree, writes one patch email to its stdin and parses stdout as
`[{"tool", "status": "pass|warn|fail", "summary", "url", "details"}]`. Its review TUI keeps
one result per tool and patch, so this prints exactly one entry; `details` is a JSON list
in the shape b4 renders for its own checkpatch/Patchwork results
(`{"status", "context", "state", "description", "srcline", "url"}`).
"""

from __future__ import annotations

import json
from typing import Any

from reviewtool.model import ApplyResult, CheckResult, Finding, Series
from reviewtool.report.quote import (
    DEFAULT_LINK_BASE,
    SEVERITY_RANK,
    active,
    category_order,
    one_line,
    outcome_of,
    patch_link,
)
from reviewtool.report.safe import json_text

TOOL = "reviewtool"
_STATUS = {"error": "fail", "warning": "warn", "info": "pass"}
_ORDER = {"pass": 0, "warn": 1, "fail": 2}


def _status(f: Finding) -> str:
    return _STATUS.get(f.severity, "warn") if active(f) else "pass"


def _detail(f: Finding) -> dict[str, str]:
    ev = f.evidence[0] if f.evidence else None
    where = ""
    if ev is not None and ev.file:
        where = f" ({ev.file}:{ev.line})" if ev.line is not None else f" ({ev.file})"
    prefix = "(pre-existing) " if f.pre_existing else ""
    suffix = ""
    if f.status == "looks-ok":
        suffix = f" [looks OK: {f.reason}]" if f.reason else " [looks OK]"
    entry = {
        "status": _status(f),
        "context": f.category,
        "state": f.severity,
        "description": one_line(f"{prefix}{f.rule}{where}: {one_line(f.question or f.message, 400)}{suffix}",
                                600),
    }
    if ev is not None and ev.lines:
        entry["srcline"] = one_line(ev.lines[0], 200)
    return entry


def build(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
          link_base: str = DEFAULT_LINK_BASE) -> list[dict[str, str]]:
    """The one-entry list b4 expects for the patch (or patches) in `series`."""
    findings = sorted(check.findings, key=lambda f: (-_ORDER[_status(f)], -SEVERITY_RANK.get(f.severity, 0)))
    status = max((_status(f) for f in findings), key=_ORDER.__getitem__, default="pass")
    conflicts = [o for o in (outcome_of(apply, p.index) for p in series.patches)
                 if o is not None and o.outcome == "conflict"]
    if conflicts:
        status = "fail"
    counts: dict[str, int] = {}
    for f in findings:
        if active(f):
            counts[f.severity] = counts.get(f.severity, 0) + 1
    parts = [f"{counts[s]} {'note' if s == 'info' else s}{'s' if counts[s] > 1 else ''}"
             for s in sorted(counts, key=lambda s: -SEVERITY_RANK.get(s, 0))]
    cats = category_order(f.category for f in findings if active(f))
    summary = ", ".join(parts) + (f" ({', '.join(cats)})" if cats else "") if parts else "no questions raised"
    if conflicts:
        summary = f"does not apply onto {apply.onto if apply else '?'}; {summary}"
    url = patch_link(series, series.patches[0].msgid, link_base) if len(series.patches) == 1 else \
        patch_link(series, link_base=link_base)
    entry: dict[str, Any] = {"tool": TOOL, "status": status, "summary": one_line(summary, 200), "url": url}
    details = [_detail(f) for f in findings]
    for o in conflicts:
        details.insert(0, {"status": "fail", "context": "apply", "state": "conflict",
                           "description": one_line(o.git_error or o.detail or "does not apply", 400)})
    entry["details"] = json.dumps(details) if details else ""
    return [entry]


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           link_base: str = DEFAULT_LINK_BASE) -> str:
    """The JSON text for stdout."""
    return json_text(build(series, check, apply, link_base=link_base)) + "\n"
