"""cachefile: a cache file is only ever a speed-up: nothing in its place blocks, fails or lingers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from reviewtool import cachefile


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "reviewtool" / "x.cache"


def test_what_is_written_is_read_back_for_the_same_stamp_only(cache: Path) -> None:
    cachefile.write("x.cache", ("v", 1), {("a", 1): b"payload", "k": [1, 2, 3]})
    assert cachefile.read("x.cache", ("v", 1)) == {("a", 1): b"payload", "k": [1, 2, 3]}
    assert cachefile.read("x.cache", ("v", 2)) is None
    assert sorted(p.name for p in cache.parent.iterdir()) == ["x.cache"]  # no temporary file left
    assert cache.parent.stat().st_mode & 0o777 == 0o700


def test_every_flipped_bit_and_every_cut_is_caught_before_anything_is_unmarshalled(cache: Path) -> None:
    cachefile.write("x.cache", ("stamp", 3), {"key": list(range(50)), "t": (1, "two")})
    good = cache.read_bytes()
    assert cachefile.read("x.cache", ("stamp", 3)) == {"key": list(range(50)), "t": (1, "two")}
    t = time.monotonic()
    for i in range(len(good)):
        for bit in range(8):
            damaged = bytearray(good)
            damaged[i] ^= 1 << bit
            cache.write_bytes(bytes(damaged))
            assert cachefile.read("x.cache", ("stamp", 3)) is None, (i, bit)
        cache.write_bytes(good[:i])
        assert cachefile.read("x.cache", ("stamp", 3)) is None, i
    assert time.monotonic() - t < 30  # a length marshal trusted once asked for gigabytes


def test_no_fifo_device_or_huge_file_is_read(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    os.mkfifo(cache)
    t = time.monotonic()
    assert cachefile.read("x.cache", "stamp") is None  # no writer: an open that blocked would hang here
    assert time.monotonic() - t < 1
    cache.unlink()
    cache.symlink_to("/dev/zero")
    assert cachefile.read("x.cache", "stamp") is None
    cache.unlink()
    with cache.open("wb") as f:
        f.truncate(cachefile.MAX_BYTES + 1)  # sparse: costs no disk
    assert cachefile.read("x.cache", "stamp") is None
    cache.unlink()
    cache.mkdir()
    assert cachefile.read("x.cache", "stamp") is None
    cachefile.write("x.cache", "stamp", {})  # a directory in the way: not written, no error
    assert cache.is_dir() and sorted(p.name for p in cache.parent.iterdir()) == ["x.cache"]


def test_the_cache_directory_follows_the_xdg_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for value in ("", "relative/dir"):
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert cachefile.directory() == str(tmp_path / "home" / ".cache" / "reviewtool")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cachefile.directory() == str(tmp_path / "xdg" / "reviewtool")


def test_an_interrupt_waits_until_the_file_is_in_place() -> None:
    got: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        held = cachefile._hold_signals()
        os.kill(os.getpid(), signal.SIGINT)
        assert got == []  # held while the file is written and renamed
        cachefile._release_signals(held)
        assert got == [signal.SIGINT]  # taken as soon as it is released
    finally:
        signal.signal(signal.SIGINT, previous)
