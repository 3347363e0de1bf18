"""rx: regular expressions compiled once per machine give exactly what re.compile gives."""

from __future__ import annotations

import marshal
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewtool import cachefile, rx

ROOT = Path(__file__).resolve().parents[1]
PATTERNS: list[tuple[str | bytes, int]] = [
    (r"^(?P<key>[A-Za-z-]+):\s*(?P<value>.*)$", re.M),
    (r"\b(kzalloc|kmalloc|vmalloc)\s*\(", 0),
    (r"(?i)^(re|aw|fwd):", 0),
    (r"(?<![\w>.])ptr(?!\w)", 0),
    (r"straße|ÄÖÜ|[^\x00-\x7f]+", re.I),
    (r"\w+", re.ASCII),
    (r"""
        ^ \s* (\d+) / (\d+)   # counter and total
     """, re.X),
    (r"(a)(?:b|(c))?(?(2)d|e)", 0),
    (r"(x)\1{2,5}?", re.S),
    ("|".join(f"word{i}" for i in range(300)), 0),
    (rb"^From \S+.*\d\d:\d\d:\d\d.*\d{4}", re.M),
    (rb"^Message-ID:[ \t]*<?([^\s<>]{1,200})>?", re.I | re.M),
]
SAMPLES: list[str] = ["Subject: [PATCH v2 1/3] x", "RE: hello", "a ptr->x ptr", "Straße ÄÖÜ é", "abce acd",
                      "xxxx x xxx", " 12/15 ", "word17 word299 word3000", "kzalloc (x)"]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rx.forget()
    yield tmp_path / "reviewtool" / "regex.cache"
    rx.forget()


def _same(a: re.Pattern[str] | re.Pattern[bytes], b: re.Pattern[str] | re.Pattern[bytes]) -> None:
    assert a == b  # pattern, flags and SRE code
    assert (a.groups, a.groupindex, a.flags) == (b.groups, b.groupindex, b.flags)
    for text in SAMPLES:
        s: str | bytes = text.encode() if isinstance(a.pattern, bytes) else text
        assert [m.span() for m in a.finditer(s)] == [m.span() for m in b.finditer(s)]  # type: ignore[arg-type]
        assert a.sub("<\\g<0>>" if isinstance(s, str) else b"<\\g<0>>", s) == \
            b.sub("<\\g<0>>" if isinstance(s, str) else b"<\\g<0>>", s)  # type: ignore[arg-type]


def test_a_pattern_from_the_cache_is_the_pattern_re_compiles(cache_home: Path) -> None:
    for pattern, flags in PATTERNS:
        _same(rx.compile(pattern, flags), re.compile(pattern, flags))
    rx.save()
    assert cache_home.is_file()
    rx.forget()
    loaded = rx._load()
    assert {k for k in loaded if isinstance(k[1], int)} == {(p, f) for p, f in PATTERNS}
    for pattern, flags in PATTERNS:
        _same(rx.compile(pattern, flags), re.compile(pattern, flags))
    assert not rx._changed  # every one came from the file


def test_the_helpers_match_re(cache_home: Path) -> None:
    text = "Subject: [PATCH v2 1/3] arm64: kexec\nCc: a@b\n"
    assert rx.search(r"v(\d+)", text).group(1) == "2"  # type: ignore[union-attr]
    assert rx.match(r"subject", text, re.I) is not None
    assert rx.fullmatch(r"\w+", "abc") is not None
    assert rx.findall(r"^(\w+):", text, re.M) == re.findall(r"^(\w+):", text, re.M)
    assert [m.span() for m in rx.finditer(r"\d", text)] == [m.span() for m in re.finditer(r"\d", text)]
    assert rx.split(r"[\s:]+", text, 2) == re.split(r"[\s:]+", text, maxsplit=2)
    assert rx.sub(r"(\d)", r"<\1>", text, 1) == re.sub(r"(\d)", r"<\1>", text, count=1)
    assert rx.subn(r"\d", "#", text) == re.subn(r"\d", "#", text)
    with pytest.raises(re.error):
        rx.compile(r"(unclosed")


@pytest.mark.parametrize("damage", ["garbage", "flipped-bit", "other-python", "bad-code", "wrong-shape", "bad-entry"])
def test_a_damaged_or_foreign_cache_is_not_used(cache_home: Path, damage: str) -> None:
    pattern, flags = PATTERNS[0]
    rx.compile(pattern, flags)
    rx.save()
    entries = cachefile.read("regex.cache", rx._STAMP)
    assert isinstance(entries, dict)
    if damage == "garbage":
        cache_home.write_bytes(b"\x00not marshal")
    elif damage == "flipped-bit":  # anywhere in the file: the checksum does not match
        blob = bytearray(cache_home.read_bytes())
        blob[len(blob) * 2 // 3] ^= 0x04
        cache_home.write_bytes(bytes(blob))
    elif damage == "other-python":
        cachefile.write("regex.cache", ("2.7",), entries)
    elif damage == "bad-code":  # _sre.compile validates the code it is given
        (f, code, groups, gi, ig) = marshal.loads(entries[(pattern, flags)])
        entries[(pattern, flags)] = marshal.dumps((f, [99999, *code[1:]], groups, gi, ig))
        cachefile.write("regex.cache", rx._STAMP, entries)
    elif damage == "wrong-shape":
        entries[(pattern, flags)] = marshal.dumps((1, 2))
        cachefile.write("regex.cache", rx._STAMP, entries)
    else:
        entries[(pattern, flags)] = b"\xffnot marshal"
        cachefile.write("regex.cache", rx._STAMP, entries)
    rx.forget()
    _same(rx.compile(pattern, flags), re.compile(pattern, flags))
    rx.save()
    rx.forget()
    _same(rx.compile(pattern, flags), re.compile(pattern, flags))
    assert not rx._changed  # the damaged entry was replaced by a good one


def test_a_cache_that_cannot_be_written_is_only_slower(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reviewtool").write_text("a file where the directory would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rx.forget()
    try:
        _same(rx.compile(*PATTERNS[1]), re.compile(*PATTERNS[1]))
        rx.save()  # no error
    finally:
        rx.forget()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviewtool"]
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert rx.cache_path() == str(tmp_path / "home" / ".cache" / "reviewtool" / "regex.cache")
    monkeypatch.setenv("HOME", "relative")
    assert rx.cache_path() is None


def test_every_regex_a_check_stores_rebuilds_as_re_compiles_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `check` of the fixture thread fills the cache; every entry is exact, and a second
    run, from the cache, prints the same checklist."""
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "COLUMNS": "100"}
    sample = tmp_path / "v2.mbox"
    sample.write_bytes(b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + p.read_bytes().rstrip(b"\n") + b"\n\n"
                                for p in sorted((ROOT / "fixtures" / "mail").glob("v2-*.eml"))))
    cmd = [sys.executable, "-m", "reviewtool", "check", str(sample), "--no-checkpatch",
           "--store", str(tmp_path / "store")]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kept = cachefile.read("regex.cache", rx._STAMP)
    assert isinstance(kept, dict)
    entries = {k: marshal.loads(v) for k, v in kept.items()}
    import _sre  # type: ignore[import-not-found]

    regexes = {k: v for k, v in entries.items() if isinstance(k[1], int)}
    assert len(regexes) > 80
    for (pattern, flags), entry in regexes.items():
        assert _sre.compile(pattern, *entry) == re.compile(pattern, flags), pattern
    inits = {k: v for k, v in entries.items() if not isinstance(k[1], int)}
    assert inits and all(name.startswith("<record ") for _source, name in inits)
    for (source, name), code in inits.items():  # a record's __init__, as compile makes it
        assert code == compile(source, name, "exec")
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert (first.returncode, first.stdout, first.stderr) == (second.returncode, second.stdout, second.stderr)
    assert first.returncode in (0, 1) and "Checklist" in first.stdout


def test_generated_code_from_the_cache_is_what_compile_makes(cache_home: Path) -> None:
    source = "def f(a, b=2):\n  return [a, b, 'x']\n"
    made = rx.code(source, "<test f>")
    assert made == compile(source, "<test f>", "exec")
    rx.save()
    rx.forget()
    cached = rx.code(source, "<test f>")
    assert not rx._changed and cached == made and cached is not made  # read back, not compiled
    env: dict[str, object] = {}
    exec(cached, env)  # noqa: S102
    assert env["f"](1) == [1, 2, "x"]  # type: ignore[operator]
