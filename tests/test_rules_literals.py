"""Required literals: every text a regex matches holds one of them (so skipping the rest is exact)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.check.literals import required
from reviewtool.check.rules import load_rules

ATOMS = st.sampled_from(["a", "b", "c", "ab", "\\.", "\\(", "[ab]", "[^a]", "[]a]", ".", "\\w", "\\s", "\\b",
                         "^", "$", "{", "x{,}", "(?=a)", "(?!b)", "(?<=a)", "\\n"])
QUANTIFIERS = st.sampled_from(["", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "{1}", "+?", "*+"])


def regexes() -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        group = st.tuples(st.sampled_from(["(", "(?:", "(?P<g>"]), st.lists(inner, min_size=1, max_size=3),
                          QUANTIFIERS).map(lambda t: f"{t[0]}{'|'.join(t[1])}){t[2]}".replace("(?P<g>", "(", 0))
        return st.lists(st.one_of(group, st.tuples(ATOMS, QUANTIFIERS).map("".join)), min_size=1,
                        max_size=4).map("".join)

    return st.recursive(st.tuples(ATOMS, QUANTIFIERS).map("".join), grow, max_leaves=8)


def valid(source: str) -> re.Pattern[str] | None:
    if source.count("(?P<g>") > 1:
        return None
    try:
        return re.compile(source, re.MULTILINE)
    except re.error:
        return None


@settings(max_examples=1000, deadline=None)
@given(regexes(), st.text(alphabet="abc.( \nx{}", max_size=16))
def test_a_text_a_regex_matches_holds_one_of_its_required_literals(source: str, text: str) -> None:
    pattern = valid(source)
    if pattern is None:
        return
    need = required((source,))
    if need is not None and pattern.search(text):
        assert any(s in text for s in need), (source, text, need)
    if need is not None:
        assert all(need)  # never the empty string


def test_what_is_not_followed_gives_no_literals() -> None:
    for source in (r"(a)\1", r"(?i)abc", r"a(?#note)?", r"(?x)a b", r"(?i:abc)", r"\x41", r"(?P<n>a)(?P=n)", r"a|", r"\d+",
                   r"(?(1)a|b)"):
        assert required((source,)) is None, source
    assert required((r"\bkexec_crash_image\b", r"KEXEC_TYPE_CRASH")) == {"kexec_crash_image", "KEXEC_TYPE_CRASH"}
    assert required((r"\b(pgd|pud)_populate\s*\(",)) == {"_populate"}
    assert required((r"ab+c",)) in ({"ab"}, {"c"})  # never "abc": b may repeat


def test_every_shipped_regex_holds_its_literals_on_lines_it_matches() -> None:
    lines = ["\tif (kimage != kexec_crash_image && kimage->head & IND_DONE)", "\tmsr\tsctlr_el2, x0",
             "\tBUG_ON(!page);", "EXPORT_SYMBOL(foo);", "\tdefault y", "#if 0", "\tdc civac, x0",
             "\t__flush_dcache_area(addr, size);", "\tpmd_populate_kernel(mm, pmd, pte);", "Tested-by: A <a@b>"]
    for rule in load_rules().rules:
        for key in ("functions", "added", "removed", "context", "unless", "commit_message", "unless_message"):
            sources = getattr(rule, key)
            need = required(sources) if sources else None
            for line in lines:
                if need is not None and any(re.search(p, line, re.MULTILINE) for p in sources):
                    assert any(s in line for s in need), (rule.id, key, line)
