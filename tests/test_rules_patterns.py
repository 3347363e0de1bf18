"""Joined regexes and globs mean exactly what the rule's own regexes and fnmatch mean."""

from __future__ import annotations

import fnmatch
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.check.patterns import alternation, glob_match
from reviewtool.check.rules import Rule, RuleDoc

PIECES = [
    r"\bkexec\b", r"(?P<match>crash\w*)", r"(?i)never\s+(get|reach)", r"^\s*default\s+y\b", r"[]a]+b",
    r"[^\]x]\)", r"\(\?P<not_a_group>", r"(a|b)c$", r"(?:x)(?P<match>y)", r"^Tested-by:", r"\\1",
    r"(?<![\w>.])page(?!\w)", r"[(?P<in_class>]", r"(?i:MiXeD)", r"\d{2,}", r"^$", r"e\s+f",
]
TEXTS = st.text(alphabet="abcdefgkxy \t\\()[]<>?P:_-1crashnevrtgTsdbyMiXD\n", max_size=40)


def rule_with(key: str, sources: list[str]) -> Rule:
    doc = RuleDoc("w", "y", "e", "n")
    return Rule("TEST-X", "t", "warning", "docs", "m", "q?", doc, "pack", **{key: tuple(sources)})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4), TEXTS)
def test_one_joined_regex_finds_a_line_exactly_when_one_of_the_regexes_does(sources: list[str], text: str) -> None:
    line = text.replace("\n", " ")
    rule = rule_with("added", sources)
    expected = any(re.search(p, line) for p in sources)
    assert rule.search_any("added", line) == expected
    assert alternation(tuple(sources)) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4), TEXTS)
def test_message_regexes_are_joined_in_multi_line_mode(sources: list[str], text: str) -> None:
    rule = rule_with("commit_message", sources)
    expected = any(re.search(p, text, re.MULTILINE) for p in sources)
    assert rule.search_any("commit_message", text) == expected


@given(TEXTS)
def test_on_joined_lines_the_joined_regex_finds_every_line_one_finds(text: str) -> None:
    lines = text.split("\n")
    joined = alternation(tuple(PIECES))
    assert joined is not None
    if any(re.search(p, ln) for p in PIECES for ln in lines):
        assert joined.search("\n".join(lines))


def test_regexes_that_cannot_be_joined_are_searched_one_by_one() -> None:
    for sources in ([r"(a)\1"], [r"(?P<x>a)(?P=x)"], [r"(a)?(?(1)b|c)"], ["a", "(?a)b"]):
        assert alternation(tuple(sources)) is None
    rule = rule_with("unless", [r"(ab)\1", "zz"])
    assert rule.search_any("unless", "xababx") and rule.search_any("unless", "zz")
    assert not rule.search_any("unless", "abx")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab/.*?[]!c", max_size=12), st.text(alphabet="ab/.c", max_size=14))
def test_globs_match_as_fnmatch_does(pattern: str, path: str) -> None:
    try:
        expected = fnmatch.fnmatchcase(path, pattern)
    except re.error:
        return
    assert glob_match(path, pattern) == expected


def test_rule_paths() -> None:
    rule = rule_with("paths", ["arch/*/kernel/machine_kexec*.c", "kernel/kexec?.c"])
    assert rule.matches_path("arch/arm64/kernel/machine_kexec_file.c")
    assert rule.matches_path("arch/a/b/kernel/machine_kexec.c")  # '*' crosses '/'
    assert rule.matches_path("kernel/kexec1.c") and not rule.matches_path("kernel/kexec12.c")
    assert not rule.matches_path("arch/arm64/kernel/machine_kexec.h")
    assert rule_with("added", ["x"]).matches_path("anything/at/all")
