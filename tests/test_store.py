"""The store: look-ups by id, prefix, message-id and latest; refusals."""

from __future__ import annotations

import os
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
        path = store.save_series(series(sid, mid), {})
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
