"""SARIF 2.1.0 for code-scanning UIs.

Rules carry their documentation (what, why, example, not flagged) from the rule metadata
passed in. A result is located in the post-image file (uriBaseId SRCROOT, the rebased
tree) when its patch applied; otherwise in the patch itself (uriBaseId PATCHES, named like
`git format-patch` output, lines counted within the patch's diff).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from reviewtool import __version__, rx
from reviewtool.diff import parse
from reviewtool.model import ApplyResult, CheckResult, Evidence, Finding, Ledger, Patch, RebaseMatrix, Series
from reviewtool.report.quote import (
    DEFAULT_LINK_BASE,
    applied,
    apply_summary,
    matrix_rows,
    outcome_of,
    patch_diff_line,
    patch_link,
)
from reviewtool.report.safe import json_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
RuleMeta = Mapping[str, Any]


def patch_file_name(index: int, subject: str) -> str:
    """`0008-arm64-kexec-configure-EL2-vectors-for-kexec.patch`, as git format-patch names it."""
    if index == 0:
        return "0000-cover-letter.patch"
    slug = rx.sub(r"[^A-Za-z0-9.]+", "-", subject).strip("-.")[:52].rstrip("-.")
    return f"{index:04d}-{slug or 'patch'}.patch"


def file_uri(path: str) -> str:
    """A repository path as a relative URI reference (RFC 3986, as SARIF requires).

    Everything but unreserved characters and "/" is percent-encoded (UTF-8), so `a b#c?d%41.c`
    is `a%20b%23c%3Fd%2541.c`: "#" and "?" stay in the file name, a ":" in the first segment
    is no scheme. A leading "/" is encoded too: the URI stays relative to its uriBaseId.
    """
    lead = len(path) - len(path.lstrip("/"))
    return "%2F" * lead + quote(path[lead:], safe="/", errors="surrogatepass")


def _pascal(title: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in rx.findall(r"[A-Za-z0-9]+", title)) or "Rule"


def _rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    doc = meta.get("doc") or {}
    what = str(doc.get("what") or meta.get("title") or meta["id"])
    sections = [("What it checks", doc.get("what")), ("Why it matters", doc.get("why")),
                ("Example", doc.get("example")), ("Not flagged", doc.get("not_flagged"))]
    text = "\n\n".join(f"{h}:\n{v}" for h, v in sections if v)
    md = []
    for head, value in sections:
        if not value:
            continue
        md.append(f"## {head}\n\n```diff\n{value}\n```" if head == "Example" else f"## {head}\n\n{value}")
    category = str(meta.get("category", ""))
    rule: dict[str, Any] = {
        "id": str(meta["id"]),
        "name": _pascal(str(meta.get("title") or meta["id"])),
        "shortDescription": {"text": str(meta.get("title") or meta["id"])},
        "fullDescription": {"text": what},
        "defaultConfiguration": {"level": LEVELS.get(str(meta.get("severity")), "warning")},
        "properties": {"category": category, "tags": [category] if category else []},
    }
    if text:
        rule["help"] = {"text": text, "markdown": "\n\n".join(md)}
    return rule


def _rule_from_finding(f: Finding) -> dict[str, Any]:
    return {"id": f.rule, "title": f.title, "severity": f.severity, "category": f.category,
            "doc": {"what": f.message}}


def _region(ev: Evidence, start: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": start}
    if ev.lines:
        region["snippet"] = {"text": "\n".join(ev.lines) + "\n"}
    return region


class _Locator:
    """Evidence -> SARIF physical locations, per the apply result of its patch."""

    def __init__(self, series: Series, apply: ApplyResult | None) -> None:
        self.series = series
        self.apply = apply
        self.patches: dict[int, Patch] = {p.index: p for p in series.patches}
        self.parsed = {p.index: parse(p.diff).files for p in series.patches}

    def patch_uri(self, index: int) -> str:
        p = self.patches.get(index)
        return patch_file_name(index, p.subject if p else "")

    def physical(self, ev: Evidence) -> dict[str, Any]:
        if ev.file and ev.line is not None and applied(outcome_of(self.apply, ev.patch)):
            return {"artifactLocation": {"uri": file_uri(ev.file), "uriBaseId": "SRCROOT"},
                    "region": _region(ev, ev.line)}
        loc: dict[str, Any] = {"artifactLocation": {"uri": self.patch_uri(ev.patch), "uriBaseId": "PATCHES"}}
        line = patch_diff_line(self.parsed[ev.patch], ev) if ev.patch in self.parsed else None
        if line is not None:
            loc["region"] = _region(ev, line)
        return loc

    def location(self, ev: Evidence, ident: int | None = None) -> dict[str, Any]:
        loc: dict[str, Any] = {"physicalLocation": self.physical(ev)}
        if ident is not None:
            loc["id"] = ident
        if ev.file:
            who = "the series" if ev.patch == 0 else f"patch {ev.patch}"
            at = f"{ev.file}:{ev.line}" if ev.line is not None else ev.file
            loc["message"] = {"text": f"{at} in {who}"}
        return loc


def _fingerprint(f: Finding) -> str:
    parts = [f.rule] + [f"{e.file}|{'|'.join(x.strip() for x in e.lines)}" for e in f.evidence]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _result(f: Finding, rule_index: int, where: _Locator, series: Series) -> dict[str, Any]:
    evidence = list(f.evidence) or [Evidence(0, None, None)]
    first = evidence[0]
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f"{f.message} {f.question}".strip(),
                    "markdown": f"{f.message}\n\n**Ask:** {f.question}".strip()},
        "locations": [where.location(first)],
        "partialFingerprints": {"reviewtoolFinding/v1": _fingerprint(f)},
        "baselineState": "unchanged" if f.pre_existing else "new",
        "properties": {
            "category": f.category,
            "question": f.question,
            "patch": first.patch,
            "patchSubject": where.patches[first.patch].full_subject if first.patch in where.patches
            else series.subject,
            "source": f.source,
            "status": f.status,
        },
    }
    if len(evidence) > 1:
        result["relatedLocations"] = [where.location(ev, i) for i, ev in enumerate(evidence[1:], 1)]
    if f.status == "looks-ok":
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f.reason or "judged fine by the check"}]
    return result


def build(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
          rules: Sequence[RuleMeta] = (), link_base: str = DEFAULT_LINK_BASE,
          matrix: RebaseMatrix | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (one run); MATRIX (several targets) goes in the run's properties."""
    metas: dict[str, RuleMeta] = {str(m["id"]): m for m in rules}
    for f in check.findings:
        metas.setdefault(f.rule, _rule_from_finding(f))
    used = [r for r in metas if any(f.rule == r for f in check.findings)] + \
        [r for r in metas if not any(f.rule == r for f in check.findings)]
    index = {rid: i for i, rid in enumerate(used)}
    where = _Locator(series, apply)

    base_ids: dict[str, Any] = {
        "PATCHES": {"description": {"text": "The patches of the series as mailed (git format-patch "
                                            "names); lines count within each patch's diff."}},
    }
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "reviewtool", "version": __version__,
                            "rules": [_rule_descriptor(metas[r]) for r in used]}},
        "automationDetails": {"id": f"reviewtool/{series.id}/"},
        "originalUriBaseIds": base_ids,
        "artifacts": [
            {"location": {"uri": patch_file_name(p.index, p.subject), "uriBaseId": "PATCHES"},
             "description": {"text": p.full_subject},
             "properties": {"msgid": p.msgid, "link": patch_link(series, p.msgid, link_base)}}
            for p in series.patches
        ],
        "results": [_result(f, index[f.rule], where, series) for f in check.findings],
        "properties": {"series": {"id": series.id, "msgid": series.msgid, "revision": series.revision,
                                  "subject": series.subject, "expected": series.expected,
                                  "missing": list(series.missing),
                                  "link": patch_link(series, link_base=link_base)}},
    }
    if apply is not None:
        base_ids["SRCROOT"] = {"description": {"text": f"The tree after applying the series onto "
                                                      f"{apply.onto}"}}
        if PurePosixPath(apply.repo).is_absolute():
            base_ids["SRCROOT"]["uri"] = PurePosixPath(apply.repo).as_uri() + "/"
            if apply.result_commit:
                run["versionControlProvenance"] = [{
                    "repositoryUri": PurePosixPath(apply.repo).as_uri(),
                    "revisionId": apply.result_commit,
                    "mappedTo": {"uriBaseId": "SRCROOT"},
                }]
        run["properties"]["apply"] = {"onto": apply.onto, "ontoCommit": apply.onto_commit,
                                      "base": apply.base.commit, "baseHow": apply.base.how,
                                      "summary": apply_summary(apply),
                                      "resultCommit": apply.result_commit}
    if matrix is not None and len(matrix.results) > 1:
        run["properties"]["targets"] = {
            "best": matrix.best, "bestReason": matrix.best_reason,
            "results": [{"onto": r.onto, "ontoCommit": r.onto_commit, "summary": apply_summary(r),
                         "patches": {f"{n:02d}": cells[k] for n, _s, cells in matrix_rows(matrix.results)}}
                        for k, r in enumerate(matrix.results)]}
    if check.history is not None:
        run["properties"]["history"] = history_properties(check.history)
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def history_properties(ledger: Ledger) -> dict[str, Any]:
    """The review ledger in the run's properties: the revisions found and every comment with its
    status (the open ones are also checklist items)."""
    return {"revisions": [{"revision": r.revision, "msgid": r.msgid, "date": r.date} for r in ledger.revisions],
            "comments": [{"from": c.from_, "msgid": c.msgid, "date": c.date, "revision": c.revision,
                          "patch": c.patch, "file": c.file, "line": c.line, "text": c.text, "status": c.status,
                          "category": c.category, "reason": c.reason} for c in ledger.comments]}


def render(series: Series, check: CheckResult, apply: ApplyResult | None = None, *,
           rules: Sequence[RuleMeta] = (), link_base: str = DEFAULT_LINK_BASE,
           matrix: RebaseMatrix | None = None) -> str:
    """The SARIF log as JSON text."""
    return json_text(build(series, check, apply, rules=rules, link_base=link_base, matrix=matrix),
                     indent=2) + "\n"
