"""Patchwork check lines: fields pwclient check-create takes, one line per patch."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from reviewtool import record
from reviewtool.model import ApplyResult, CheckResult, Series, from_json
from reviewtool.report import patchwork

GOLDEN = Path(__file__).parent / "golden" / "report"
STATES = {"pending", "success", "warning", "fail"}  # Patchwork's Check.STATE_CHOICES
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")  # Patchwork's Check.context is a SlugField


def _load() -> tuple[Series, ApplyResult, CheckResult]:
    def read(name: str) -> object:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")))


def test_patchwork_writes_one_json_object_per_line_per_patch() -> None:
    series, apply, check = _load()
    lines = patchwork.render(series, check, apply, target_url="https://ci.example.org/job/7").splitlines()
    rows = [json.loads(x) for x in lines]
    assert [r["patch"] for r in rows] == [1, 2, 3]
    assert [r["msgid"] for r in rows] == [p.msgid for p in series.patches]
    for r in rows:
        assert r["state"] in STATES and SLUG.match(r["context"]) and r["context"] == "reviewtool"
        assert len(r["description"]) < 255
        assert r["target_url"] == "https://ci.example.org/job/7"


def test_patchwork_state_follows_apply_result_and_worst_active_finding() -> None:
    series, apply, check = _load()
    rows = patchwork.build(series, check, apply)
    assert [r["state"] for r in rows] == ["warning", "warning", "fail"]
    assert rows[2]["description"].startswith("does not apply onto v5.15-rc1")
    assert rows[0]["description"] == "clean onto v5.15-rc1; 2 questions (cache_maintenance)"
    clean = record.replace(check, findings=())
    assert [r["state"] for r in patchwork.build(series, clean, None)] == ["success"] * 3


def test_patchwork_per_category_adds_one_context_per_category_with_findings() -> None:
    series, apply, check = _load()
    rows = patchwork.build(series, check, apply, per_category=True)
    contexts = [(r["patch"], r["context"], r["state"]) for r in rows]
    assert (1, "reviewtool-cache_maintenance", "warning") in contexts
    assert (2, "reviewtool-alloc_failure", "warning") in contexts
    assert (3, "reviewtool-relocation_path", "fail") in contexts
    assert not any(c == "reviewtool-kdump_impact" for _p, c, _s in contexts)  # looks-ok only
    assert not any(c == "reviewtool-kconfig_build" for _p, c, _s in contexts)  # pre-existing only
    assert all(SLUG.match(c) for _p, c, _s in contexts)
    assert "target_url" not in rows[0]


def test_patchwork_description_is_cut_under_255_characters() -> None:
    series, apply, check = _load()
    f = record.replace(check.findings[2], question="Why? " * 200)
    rows = patchwork.build(series, record.replace(check, findings=(f,)), apply, per_category=True)
    assert all(len(r["description"]) <= 254 for r in rows)
    cut = next(r for r in rows if r["context"] == "reviewtool-alloc_failure")
    assert cut["description"].startswith("Why? Why?") and cut["description"].endswith("…")


def test_patchwork_matches_golden_file() -> None:
    series, apply, check = _load()
    text = patchwork.render(series, check, apply, per_category=True)
    path = GOLDEN / "patchwork.jsonl"
    if os.environ.get("REVIEWTOOL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
