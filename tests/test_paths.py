"""reviewtool.paths against pathlib itself: the same spelling, the same answers."""

from __future__ import annotations

import stat
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewtool import paths

_PART = st.sampled_from(["", ".", "..", "a", "b.c", ".d", "e.", "x.tar.gz", " ", "~"])


@given(st.lists(_PART, max_size=6), st.sampled_from(["", "/", "//", "///"]), st.booleans())
def test_pathlib_form_is_pathlibs_spelling(parts: list[str], root: str, trailing: bool) -> None:
    text = root + "/".join(parts) + ("/" if trailing else "")
    if not text:
        return  # not a path anyone gives
    assert paths.pathlib_form(text) == str(PurePosixPath(text))


@given(st.lists(_PART, min_size=1, max_size=4))
def test_suffix_is_pathlibs(parts: list[str]) -> None:
    text = "/".join(parts)
    assert paths.suffix(text) == PurePosixPath(text).suffix


def test_path_is_and_entries_answer_as_pathlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f.patch").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name in ("d", "f.patch", "loop", "dangling", "nowhere", "f.patch/below", "nul\0"):
        p = tmp_path / name
        assert paths.path_is(str(p), stat.S_ISDIR) == p.is_dir(), name
        assert paths.path_is(str(p), stat.S_ISREG) == p.is_file(), name
    assert sorted(paths.entries(str(tmp_path))) == sorted(str(p) for p in tmp_path.iterdir())
    monkeypatch.chdir(tmp_path)
    assert sorted(paths.entries(".")) == sorted(str(p) for p in Path(".").iterdir())


def test_path_is_raises_where_pathlib_does(tmp_path: Path) -> None:
    long = tmp_path / ("n" * 5000)  # ENAMETOOLONG: not "not there", so pathlib raises it
    with pytest.raises(OSError):
        long.is_dir()
    with pytest.raises(OSError):
        paths.path_is(str(long), stat.S_ISDIR)
