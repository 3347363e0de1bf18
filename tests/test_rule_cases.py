"""Every rule of every pack under rules/ fires on its fire.patch and not on its nofire.patch.

The cases live beside the packs (rules/cases/<RULE-ID>/); only the rule under test runs on
them, through the real engine (diff model, analyzers, series awareness).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.check.checklist import counted
from reviewtool.check.engine import run_engine
from reviewtool.check.rules import DEFAULT_RULES_DIR, Rule, RuleSet, load_rules
from tests.check_helpers import dir_reader, series_from_file

RULES = load_rules()
CASES = Path(DEFAULT_RULES_DIR) / "cases"


def _run(rule: Rule, case: Path) -> list[str]:
    """Run one rule on one case file; the rule ids of the counted findings (checked for sanity)."""
    series = series_from_file(case)
    result = run_engine(series, RuleSet((rule,), RULES.packs), post_image=dir_reader(case.parent / "post"),
                        base_image=dir_reader(case.parent / "base"))
    problems = [n for n in result.notes if "malformed" in n or "failed" in n]
    assert not problems, f"{case}: {problems}"
    hits = [f for f in result.findings if f.rule == rule.id and counted(f)]
    for f in hits:
        assert f.evidence, f"{rule.id}: a finding without evidence"
        assert all(e.patch >= 0 for e in f.evidence)
        assert "{" not in f.message or "}" not in f.message, f"{rule.id}: unformatted message {f.message!r}"
        assert "?" in f.question
    return [f.rule for f in hits]


@pytest.mark.parametrize("rule", RULES.rules, ids=[r.id for r in RULES.rules])
def test_rule_fires_on_its_fire_case_and_not_on_its_nofire_case(rule: Rule) -> None:
    d = CASES / rule.id
    fire, nofire = d / "fire.patch", d / "nofire.patch"
    assert fire.is_file() and nofire.is_file(), f"{rule.id} ({rule.pack}) needs {fire} and {nofire}"
    assert _run(rule, fire), f"{rule.id} does not fire on {fire}"
    assert not _run(rule, nofire), f"{rule.id} fires on {nofire}"


def test_every_case_directory_belongs_to_a_rule() -> None:
    ids = {r.id for r in RULES.rules}
    orphans = sorted(d.name for d in CASES.iterdir() if d.is_dir() and d.name not in ids)
    assert not orphans, f"case directories without a rule: {orphans}"


def test_the_shipped_packs_are_loaded() -> None:
    packs = {Path(p).name for p in RULES.packs}
    assert {"kernel-common.toml", "arm64-kexec.toml"} <= packs
    assert len(RULES.rules) >= 20
