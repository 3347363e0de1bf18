"""Rule packs: loading, validation (every kind of bad pack), and `reviewtool rules`."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from reviewtool.check.rules import load_pack, load_rules, rule_meta
from reviewtool.cli import main
from reviewtool.errors import RulesError

GOOD = '''
[[rule]]
id = "TEST-GOOD"
title = "A good rule"
severity = "warning"
category = "kdump_impact"
paths = ["arch/*/kernel/machine_kexec*.c"]
added = ['\\btrans_pgd_create_copy\\s*\\(']
message = "found {match} in {function}"
question = "Is this a question?"

[rule.doc]
what = "w"
why = "y"
example = "+x"
not_flagged = "n"
'''


def write_pack(tmp_path: Path, text: str, name: str = "pack.toml") -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def bad(tmp_path: Path, old: str, new: str) -> str:
    assert old in GOOD
    d = write_pack(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RulesError) as exc:
        load_rules([d])
    msg = str(exc.value)
    assert "pack.toml" in msg and "\n" not in msg
    return msg


def test_a_good_pack_loads_with_compiled_patterns(tmp_path: Path) -> None:
    rs = load_rules([write_pack(tmp_path, GOOD)])
    rule = rs.get("TEST-GOOD")
    assert rule is not None and rule.severity == "warning" and rule.scope == "kernel"
    assert rule.patterns("added")[0].search("\trc = trans_pgd_create_copy(&info,")
    assert rule.search_any("added", "\trc = trans_pgd_create_copy(&info,")
    assert not rule.search_any("added", "\trc = trans_pgd_create(&info,")
    assert rule_meta(rule)["added"] == ["\\btrans_pgd_create_copy\\s*\\("]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('paths = [', 'pathz = [', "rule TEST-GOOD: unknown key 'pathz'"),
    ("added = ['\\btrans_pgd_create_copy", "added = ['\\b(trans_pgd_create_copy", "invalid regex in 'added'"),
    ('question = "Is this a question?"\n', '', "rule TEST-GOOD: missing field 'question'"),
    ('category = "kdump_impact"', 'category = "kdump"', "unknown category 'kdump'"),
    ('severity = "warning"', 'severity = "fatal"', "unknown severity 'fatal'"),
    ('severity = "warning"', 'severity = "warning"\nscope = "userspace"', "unknown scope 'userspace'"),
    ('id = "TEST-GOOD"', 'id = "test_good"', "UPPER-KEBAB"),
    ('paths = [', 'analyzer = "nosuchanalyzer"\npaths = [', "unknown analyzer 'nosuchanalyzer'"),
    ('question = "Is this a question?"', 'question = "This is a verdict."', "no '?'"),
    ('message = "found {match} in {function}"', 'message = "found {symbol}"', "unknown placeholder {symbol}"),
    ('message = "found {match} in {function}"', "message = ['^Fixes:']", "commit_message"),
    ('not_flagged = "n"', '', "missing field 'doc.not_flagged'"),
    ('not_flagged = "n"', 'not_flagged = "n"\nauthor = "me"', "unknown key 'doc.author'"),
    ('title = "A good rule"', 'title = "A good rule"\nmin_added = -1', "'min_added' must be a non-negative"),
    ('title = "A good rule"', 'title = "A good rule"\nunless = "x"\nunless_message = [1]', "'unless_message'"),
])
def test_a_bad_rule_is_an_error_naming_the_file_and_the_rule(tmp_path: Path, old: str, new: str,
                                                              expected: str) -> None:
    assert expected in bad(tmp_path, old, new)


def test_a_pattern_rule_needs_something_to_match(tmp_path: Path) -> None:
    text = GOOD.replace('paths = ["arch/*/kernel/machine_kexec*.c"]\n', "").replace(
        "added = ['\\btrans_pgd_create_copy\\s*\\(']\n", "")
    d = write_pack(tmp_path, text)
    with pytest.raises(RulesError, match="needs at least one of paths"):
        load_rules([d])


def test_an_analyzer_rule_cannot_also_have_patterns(tmp_path: Path) -> None:
    text = GOOD.replace('paths = [', 'analyzer = "alloc"\npaths = [')
    d = write_pack(tmp_path, text)
    with pytest.raises(RulesError, match="'added' cannot be used with 'analyzer'"):
        load_rules([d])


def test_duplicate_ids_in_one_pack_and_across_packs_are_errors(tmp_path: Path) -> None:
    d = write_pack(tmp_path, GOOD + GOOD)
    with pytest.raises(RulesError, match=r"pack.toml: rule TEST-GOOD: duplicate id"):
        load_rules([d])
    (d / "pack.toml").write_text(GOOD, encoding="utf-8")
    (d / "other.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RulesError, match=r"rule TEST-GOOD: duplicate id \(also in .*other.toml\)"):
        load_rules([d])


def test_a_rule_id_of_a_shipped_pack_cannot_be_reused_by_an_extra_pack(tmp_path: Path) -> None:
    d = write_pack(tmp_path, GOOD.replace('"TEST-GOOD"', '"KEXEC-MMU-STATE"'))
    with pytest.raises(RulesError, match="KEXEC-MMU-STATE: duplicate id"):
        load_rules(extra=[d])


def test_invalid_toml_and_a_missing_directory_are_clear_errors(tmp_path: Path) -> None:
    d = write_pack(tmp_path, "[[rule]\nid = ")
    with pytest.raises(RulesError, match="pack.toml: invalid TOML"):
        load_rules([d])
    with pytest.raises(RulesError, match="does not exist"):
        load_rules([tmp_path / "nowhere"])
    d2 = write_pack(tmp_path, 'title = "x"\n', "top.toml")
    with pytest.raises(RulesError, match="top.toml: unknown top-level key 'title'"):
        load_pack(d2 / "top.toml")


def test_the_shipped_packs_are_valid_and_every_rule_is_documented() -> None:
    rs = load_rules()
    assert len({r.id for r in rs.rules}) == len(rs.rules)
    for r in rs.rules:
        assert r.doc.what and r.doc.why and r.doc.example and r.doc.not_flagged, r.id
        assert "?" in r.question, r.id
    assert any(r.scope == "any" for r in rs.rules) and any(r.scope == "other" for r in rs.rules)


# --- the commands ---------------------------------------------------------------------------


def test_rules_lists_every_rule_and_rules_show_prints_its_documentation(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rid in ("KEXEC-MMU-STATE", "COMMON-BUG-ON", "KEXECTOOLS-KERNEL-INTERFACE"):
        assert rid in out
    assert "\x1b[" not in out  # not a TTY: plain text
    assert main(["rules", "show", "kexec-mmu-state"]) == 0
    doc = capsys.readouterr().out
    for section in ("What it checks", "Why it matters", "Example", "Not flagged", "Question asked"):
        assert section in doc
    assert re.search(r"\+\s+msr\s+sctlr_el1", doc)  # the example diff comes from the rule data


def test_rules_json_and_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"id", "title", "severity", "category", "question", "doc", "pack"} <= set(data[0])
    assert main(["rules", "show", "NO-SUCH-RULE"]) == 2
    assert "no rule NO-SUCH-RULE" in capsys.readouterr().err
    assert main(["rules", "frobnicate"]) == 2


def test_a_bad_extra_pack_makes_rules_and_check_exit_2_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_pack(tmp_path, GOOD.replace('severity = "warning"', 'severity = "loud"'))
    for argv in (["rules", "--rules", str(d)], ["check", "--rules", str(d)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "pack.toml: rule TEST-GOOD: unknown severity 'loud'" in err[0]


def test_packs_of_a_directory_given_as_dot_are_named_as_pathlib_does(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_pack(tmp_path, GOOD.replace('"TEST-GOOD"', '"KEXEC-MMU-STATE"'), "b.toml")
    monkeypatch.chdir(d)
    with pytest.raises(RulesError, match=r"^b\.toml: rule KEXEC-MMU-STATE: duplicate id"):
        load_rules(extra=["."])
    with pytest.raises(RulesError, match=r"^rules directory b\.toml is not a directory$"):
        load_rules(extra=["./b.toml"])
