"""Patchwork checks: one JSON object per line per patch, ready for `pwclient check-create`.

Each object has Patchwork's check fields (`state`: success|warning|fail, `context`,
`description` under 255 characters, `target_url` when given) plus `msgid`, `patch` and
`subject` to find the patch with `pwclient list -m MSGID`. Context `reviewtool` carries
the patch's overall state (apply result and findings); with `per_category`, one more
line per checklist category that has findings, context `reviewtool-<category>`
(Patchwork contexts are slugs: letters, digits, `-` and `_`). Series-level findings have
no patch to attach to and are left to the other formats.
"""

from __future__ import annotations

from typing import Any

from reviewtool.model import ApplyResult, CheckResult, Finding, Series
from reviewtool.report.quote import (
    SEVERITY_RANK,
    active,
    category_order,
    findings_for_patch,
    one_line,
    outcome_of,
    worst_severity,
)
from reviewtool.report.safe import json_text, ranges

CONTEXT = "reviewtool"
DESCRIPTION_MAX = 254
_STATE = {"error": "fail", "warning": "warning", "info": "success", None: "success"}
_RANK = {"success": 0, "warning": 1, "fail": 2}


def _questions(findings: list[Finding]) -> str:
    n = len(findings)
    if not n:
        return "no questions"
    cats = ", ".join(category_order(f.category for f in findings))
    return f"{n} question{'s' if n > 1 else ''} ({cats})"


def build(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
          per_category: bool = False, target_url: str | None = None) -> list[dict[str, Any]]:
    """The check objects, in patch order."""
    out: list[dict[str, Any]] = []
    for p in series.patches:
        findings = [f for f in findings_for_patch(check, p.index) if active(f)]
        state = _STATE.get(worst_severity(findings), "warning")
        oc = outcome_of(apply, p.index)
        if oc is None:
            applies = ""
        elif oc.outcome == "conflict":
            state = "fail"
            applies = f"does not apply onto {apply.onto if apply else '?'}; "
        elif oc.outcome == "already-upstream":
            applies = "already upstream; "
        else:
            applies = f"{oc.outcome} onto {apply.onto if apply else '?'}; "
        gone = [m for m in series.missing if m < p.index]
        if gone:  # the patch is checked without what those patches would have changed first
            applies = f"patch{'es' if len(gone) > 1 else ''} {ranges(gone)} missing from the thread; " + applies
        base = {"patch": p.index, "msgid": p.msgid, "subject": p.full_subject}
        rows = [(CONTEXT, state, applies + _questions(findings))]
        if per_category:
            for cat in category_order(f.category for f in findings):
                mine = [f for f in findings if f.category == cat]
                mine.sort(key=lambda f: -SEVERITY_RANK.get(f.severity, 0))
                more = f" (+{len(mine) - 1} more)" if len(mine) > 1 else ""
                rows.append((f"{CONTEXT}-{cat}", _STATE.get(mine[0].severity, "warning"),
                             mine[0].question + more))
        for context, st, desc in rows:
            obj = {**base, "state": st, "context": context,
                   "description": one_line(desc, DESCRIPTION_MAX)}
            if target_url:
                obj["target_url"] = target_url
            out.append(obj)
    return out


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           per_category: bool = False, target_url: str | None = None) -> str:
    """JSON lines, one check per line."""
    rows = build(series, check, apply, per_category=per_category, target_url=target_url)
    return "".join(json_text(r) + "\n" for r in rows)
