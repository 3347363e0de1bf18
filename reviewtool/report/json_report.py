"""JSON output of `reviewtool check`: the CheckResult, a short series header and counts.

The schema is documented (with a JSON Schema) in docs/check-json.md.
"""

from __future__ import annotations

from typing import Any

from reviewtool.model import ApplyResult, CheckResult, Series, to_json
from reviewtool.report.safe import json_text


def build(series: Series, check: CheckResult, apply: ApplyResult | None = None) -> dict[str, Any]:
    """The JSON document as plain data."""
    counted = [f for f in check.findings if not f.pre_existing and f.status != "looks-ok"]
    doc: dict[str, Any] = {
        "schema_version": check.schema_version,
        "series": {
            "id": series.id, "subject": series.subject, "revision": series.revision,
            "expected": series.expected, "missing": list(series.missing), "msgid": series.msgid,
            "patches": [{"index": p.index, "subject": p.subject, "msgid": p.msgid} for p in series.patches],
        },
        "summary": {
            "findings": len(counted),
            "by_severity": {s: sum(1 for f in counted if f.severity == s) for s in ("error", "warning", "info")},
            "looks_ok": sum(1 for f in check.findings if f.status == "looks-ok" and not f.pre_existing),
            "pre_existing": sum(1 for f in check.findings if f.pre_existing),
            "checklist_items": len(check.checklist),
        },
    }
    if apply is not None:
        doc["rebase"] = {"onto": apply.onto, "onto_commit": apply.onto_commit,
                         "base": apply.base.commit, "result_commit": apply.result_commit}
    body = to_json(check)
    body.pop("schema_version", None)
    doc.update(body)
    return doc


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None) -> str:
    """The JSON text for stdout."""
    return json_text(build(series, check, apply), indent=2) + "\n"
