"""The validated-pack cache: used only for the exact bytes validated, never hiding a bad pack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewtool import cachefile
from reviewtool.check.rulecache import cache_file, fingerprint
from reviewtool.check.rules import load_rules
from reviewtool.cli import main
from reviewtool.errors import RulesError
from tests.test_rules import GOOD, write_pack


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def _rewrite_cache(change: str) -> None:
    """Edit the stored cache: the title of every cached TEST-GOOD rule, or its validator stamp."""
    found = cache_file()
    path = None if found is None else Path(found)
    assert path is not None and path.is_file()
    stamp, entries = fingerprint(), cachefile.read("rule-packs.cache", fingerprint())
    assert isinstance(entries, dict)
    if change == "stamp":
        stamp = ("another reviewtool",)
    else:
        for key, (content, rules, needs) in entries.items():
            entries[key] = (content, tuple((r[0], change, *r[2:]) if r[0] == "TEST-GOOD" else r for r in rules),
                            needs)
    cachefile.write("rule-packs.cache", stamp, entries)


def test_an_unchanged_pack_comes_from_the_cache(tmp_path: Path) -> None:
    d = write_pack(tmp_path, GOOD)
    first = load_rules([d], cache=True)
    found = cache_file()
    path = None if found is None else Path(found)
    assert path is not None and path.is_file()
    assert load_rules([d], cache=True) == first
    _rewrite_cache("title from the cache")
    cached = load_rules([d], cache=True).get("TEST-GOOD")
    assert cached is not None and cached.title == "title from the cache"  # it really was not re-read
    fresh = load_rules([d]).get("TEST-GOOD")  # without the cache: validated from the file
    assert fresh is not None and fresh.title == "A good rule"


def test_the_shipped_packs_from_the_cache_equal_a_full_validation() -> None:
    load_rules(cache=True)
    assert load_rules(cache=True) == load_rules()


def test_the_literals_kept_with_the_rules_are_the_ones_worked_out_from_their_regexes() -> None:
    from reviewtool.check import literals
    from reviewtool.check.rules import REGEX_KEYS

    ruleset = load_rules(cache=True)
    found = cache_file()
    path = None if found is None else Path(found)
    assert path is not None
    stored = cachefile.read("rule-packs.cache", fingerprint())
    assert isinstance(stored, dict)
    kept = {k: v for _content, _rules, needs in stored.values() for k, v in needs.items()}
    wanted = {sources for r in ruleset.rules for key in REGEX_KEYS if (sources := getattr(r, key))}
    assert set(kept) == wanted
    assert kept == {sources: literals._required(sources) for sources in wanted}
    assert sum(v is not None for v in kept.values()) > len(kept) // 2  # most rules have a literal to look for


def test_an_edited_pack_is_validated_again_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    d = write_pack(tmp_path, GOOD)
    pack = d / "pack.toml"
    load_rules([d], cache=True)
    st = pack.stat()
    text = pack.read_text(encoding="utf-8")
    bad = text.replace("\\btrans_pgd_create_copy", "\\b(rans_pgd_create_copy")
    assert len(bad) == len(text)
    pack.write_text(bad, encoding="utf-8")
    os.utime(pack, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert pack.stat().st_size == st.st_size and pack.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(RulesError, match=r"pack.toml: rule TEST-GOOD: invalid regex in 'added'"):
        load_rules([d], cache=True)


def test_a_cache_of_another_validator_or_a_damaged_cache_is_not_used(tmp_path: Path) -> None:
    d = write_pack(tmp_path, GOOD)
    load_rules([d], cache=True)
    _rewrite_cache("title from the cache")
    _rewrite_cache("stamp")
    rule = load_rules([d], cache=True).get("TEST-GOOD")
    assert rule is not None and rule.title == "A good rule"
    found = cache_file()
    path = None if found is None else Path(found)
    assert path is not None
    path.write_bytes(b"\x00not marshal data")
    rule = load_rules([d], cache=True).get("TEST-GOOD")
    assert rule is not None and rule.title == "A good rule"
    _rewrite_cache("title from the rewritten cache")  # the damaged cache was replaced by a good one
    rule = load_rules([d], cache=True).get("TEST-GOOD")
    assert rule is not None and rule.title == "title from the rewritten cache"


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    d = write_pack(tmp_path, GOOD)
    for _ in range(2):
        rule = load_rules([d], cache=True).get("TEST-GOOD")
        assert rule is not None and rule.title == "A good rule"
    assert blocker.read_text(encoding="utf-8").startswith("a file")


def test_check_reports_a_pack_edited_after_it_was_cached(tmp_path: Path, store: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    d = write_pack(tmp_path, GOOD)
    assert main(["check", "--rules", str(d)]) == 2  # the store is empty, but the packs were loaded
    assert "the store" in capsys.readouterr().err
    found = cache_file()
    path = None if found is None else Path(found)
    assert path is not None
    assert str((d / "pack.toml").resolve()) in (cachefile.read("rule-packs.cache", fingerprint()) or {})
    pack = d / "pack.toml"
    pack.write_text(pack.read_text(encoding="utf-8").replace('"warning"', '"loud"'), encoding="utf-8")
    assert main(["check", "--rules", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pack.toml: rule TEST-GOOD: unknown severity 'loud'" in err[0]
