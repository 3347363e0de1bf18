"""The store: look-ups by id, prefix, message-id and latest; refusals."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from reviewtool.errors import StoreError
from reviewtool.model import Patch, Series
from reviewtool.store import Store


def series(sid: str, msgid: str) -> Series:
    p = Patch(1, 1, "s", "[PATCH] s", f"p-{msgid}", "A <a@b>", "", "m\n", "", ())
    return Series(sid, 1, 1, "s", "A <a@b>", "2021-08-02", msgid, None, (p,))


def test_find_by_id_prefix_msgid_and_latest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for i, (sid, mid) in enumerate([("abc123", "one@x"), ("abc124", "two@x"), ("abc12", "three@x")]):
        path = Path(store.save_series(series(sid, mid), {}))
        os.utime(path / "series.json", (1000 + i, 1000 + i))
    assert store.find(None).id == "abc12"
    assert store.find("abc12").id == "abc12"  # an exact id wins over being a prefix of others
    assert store.find("abc123").id == "abc123"
    assert store.find("<two@x>").id == "abc124" and store.find("id:one@x").id == "abc123"
    assert store.find("p-two@x").id == "abc124"  # a patch's message-id finds its series
    with pytest.raises(StoreError, match="matches 3 stored series"):
        store.find("abc1")
    for bad in ("../abc123", "zzz", "abc123/..", ""):
        with pytest.raises(StoreError, match="no stored series matches"):
            store.find(bad)


def test_empty_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is empty"):
        Store(tmp_path).find(None)
    with pytest.raises(StoreError, match="is empty"):
        Store(tmp_path).find("abc")


def test_saving_one_series_from_many_places_at_once_never_fails_and_leaves_no_temporary_directory(
        tmp_path: Path) -> None:
    store = Store(tmp_path)
    versions = [{"am.mbox": b"first\n" * 5000}, {"am.mbox": b"second\n" * 7000}]
    errors: list[BaseException] = []

    def fetch_again(n: int) -> None:
        try:
            for i in range(30):
                store.save_series(series("abc123", "one@x"), versions[(n + i) % 2])
        except BaseException as e:  # collected, and reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=fetch_again, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(p.name for p in (tmp_path / "series").iterdir()) == ["abc123"]
    assert (tmp_path / "series" / "abc123" / "am.mbox").read_bytes() in [v["am.mbox"] for v in versions]
    assert store.find("abc123").msgid == "one@x"


def test_saving_an_identical_series_again_keeps_its_results_and_makes_it_the_latest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = Path(store.save_series(series("abc123", "one@x"), {"am.mbox": b"x\n"}))
    store.save_result("abc123", "rebase", {"onto": "v1"})
    second = Path(store.save_series(series("def456", "two@x"), {"am.mbox": b"y\n"}))
    os.utime(first / "series.json", (1000, 1000))
    os.utime(second / "series.json", (2000, 2000))
    assert store.find(None).id == "def456"
    store.save_series(series("abc123", "one@x"), {"am.mbox": b"x\n"})  # fetched again, unchanged
    assert store.find(None).id == "abc123"
    assert store.load_result("abc123", "rebase") == {"onto": "v1"}
    store.save_series(series("abc123", "one@x"), {"am.mbox": b"x, with a new trailer\n"})
    assert store.load_result("abc123", "rebase") is None  # a changed series drops results of the old one


def test_a_directory_left_by_a_killed_save_goes_at_the_next_save(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_series(series("abc123", "one@x"), {"am.mbox": b"x\n"})
    left = tmp_path / "series" / ".abc123.old.dead"
    (left / "x").mkdir(parents=True)
    store.save_series(series("abc123", "one@x"), {"am.mbox": b"changed\n"})
    assert sorted(p.name for p in (tmp_path / "series").iterdir()) == ["abc123"]


@pytest.mark.parametrize("damage", ['[1, 2]', '{"schema_version": 1, "patches": "zzz"}',
                                    '{"schema_version": 1, "patches": [{"index": "x"}]}'])
def test_a_damaged_series_json_is_a_store_error_that_says_to_fetch_again(damage: str, tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = Path(store.save_series(series("abc123", "one@x"), {}))
    (path / "series.json").write_text(damage)
    with pytest.raises(StoreError, match="fetch the series again"):
        store.find("abc123")
    assert store.list() == []


def test_paths_in_a_store_at_dot_are_spelled_as_pathlib_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store(".")
    assert store.path("abc123") == "series/abc123" == str(Path(".") / "series" / "abc123")
    assert store.save_series(series("abc123", "one@x"), {}) == "series/abc123"
    (tmp_path / "series" / "abc123" / "rebase.json").write_text("{")
    with pytest.raises(StoreError, match=r"^series/abc123/rebase.json is unreadable"):
        store.load_result("abc123", "rebase")
    assert Store("./s//").root == "s"


def test_a_result_of_a_store_that_cannot_hold_one_is_none(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    assert Store(tmp_path / "f").load_result("abc123", "rebase") is None  # not a directory
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert Store(tmp_path / "loop").load_result("abc123", "rebase") is None


def test_errors_other_than_not_there_are_not_taken_for_an_empty_store(tmp_path: Path) -> None:
    with pytest.raises(OSError):  # a name longer than the file system takes: pathlib raised it too
        Store(tmp_path / ("n" * 300)).list()
