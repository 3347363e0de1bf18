"""Golden files for `reviewtool check` text (plain, not a TTY) and JSON on a sample series.

The sample (tests/golden/check/sample.mbox, made by make_sample.py there) is fetched into a
store with the real fetch layer, then checked with every shipped rule and analyzer. When a
rule or analyzer changes on purpose, regenerate with
`REVIEWTOOL_UPDATE_GOLDEN=1 pytest tests/test_check_golden.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewtool.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "check"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "check-json.md"
UPDATE = os.environ.get("REVIEWTOOL_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = str(tmp_path_factory.mktemp("golden") / "store")
    assert main(["fetch", str(GOLDEN / "sample.mbox"), "--offline", "--store", store, "-q"]) == 0
    return store


def check(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--store", store, *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with REVIEWTOOL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def schema() -> dict[str, Any]:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert block, "docs/check-json.md has no JSON Schema block"
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def test_text_report_matches_the_golden_file(sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, sample_store)
    assert "\x1b[" not in out  # not a TTY: no colour codes
    assert out.splitlines()[0] == "reviewtool check: arm64: kexec: relocate with the MMU on"
    compare("sample.txt", out)
    assert code in (0, 1)


def test_json_report_matches_the_golden_file_and_the_documented_schema(
        sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, sample_store, "--format", "json")
    data = json.loads(out)
    jsonschema.validate(data, schema())
    assert set(data["timings"]) >= {"parse", "rules", "checklist", "total"}
    data["timings"] = {}
    compare("sample.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    errors = [f for f in data["findings"]
              if f["severity"] == "error" and not f["pre_existing"] and f["status"] != "looks-ok"]
    assert code == (1 if errors else 0)
    # --json is the same output
    code2, out2 = check(capsys, sample_store, "--json")
    assert json.loads(out2)["findings"] == json.loads(out)["findings"] and code2 == code


def test_the_sample_exercises_the_whole_check(sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = check(capsys, sample_store, "--json")
    data = json.loads(out)
    cats = {i["category"] for i in data["checklist"]}
    assert {"kdump_impact", "alloc_failure", "relocation_path", "cache_maintenance", "kconfig_build"} <= cats
    assert any(i["status"] == "looks-ok" and i["reason"] for i in data["checklist"])
    assert any(f["pre_existing"] for f in data["findings"])
    assert any(d["rule"] == "COMMON-BUG-ON" and d["patch"] == 1 and d["reason"] for d in data["dropped"])
    assert sum(1 for n in data["notes"] if "checkpatch.pl was not run" in n) == 1
    # the stored result is the same CheckResult
    stored = Path(sample_store) / "series" / data["series_id"] / "check.json"
    assert json.loads(stored.read_text())["findings"] == data["findings"]


def test_verbose_text_lists_dropped_and_pre_existing_findings(
        sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, quiet = check(capsys, sample_store)
    _, verbose = check(capsys, sample_store, "--verbose")
    assert "dropped: COMMON-BUG-ON" not in quiet and "dropped: COMMON-BUG-ON" in verbose
    assert "(pre-existing)" not in quiet and "(pre-existing)" in verbose
    assert "fixed later in the series" in quiet.splitlines()[1]
