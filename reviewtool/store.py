"""The on-disk store: one directory per series, written atomically.

    <store>/series/<id>/series.json   the Series (schema_version inside)
    <store>/series/<id>/am.mbox       am-ready mbox (trailers applied, as b4 am makes it)
    <store>/series/<id>/thread.mbox   the raw thread as fetched
    <store>/series/<id>/<name>.json   later results (rebase.json, check.json)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from reviewtool.errors import StoreError
from reviewtool.model import SCHEMA_VERSION, Series, from_json, to_json

_NAME = re.compile(r"[\w-]+")  # could be a store id (a directory name) or a prefix of one


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.series_root = root / "series"

    def path(self, series_id: str) -> Path:
        return self.series_root / series_id

    def save_series(self, series: Series, files: dict[str, bytes]) -> Path:
        """Write series.json and the given files into a temp dir, then rename it in place.

        Fetching the same series again replaces the old copy in one rename.
        """
        final = self.path(series.id)
        try:
            self.series_root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{series.id}.", dir=self.series_root))
        except OSError as e:
            raise StoreError(f"cannot write to the store {self.root}: {e.strerror}") from None
        try:
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            (tmp / "series.json").write_text(
                json.dumps(to_json(series), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            old = None
            if final.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{series.id}.old.", dir=self.series_root))
                os.rename(final, old / "x")
            os.rename(tmp, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def save_result(self, series_id: str, name: str, data: Any) -> Path:
        """Write <name>.json next to a stored series (temp file, then rename)."""
        target = self.path(series_id) / f"{name}.json"
        if not target.parent.is_dir():
            raise StoreError(f"no stored series {series_id}")
        fd, tmpname = tempfile.mkstemp(prefix=f".{name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(to_json(data), fh, indent=1, ensure_ascii=False)
                fh.write("\n")
            os.replace(tmpname, target)
        except BaseException:
            Path(tmpname).unlink(missing_ok=True)
            raise
        return target

    def load_result(self, series_id: str, name: str) -> Any | None:
        target = self.path(series_id) / f"{name}.json"
        try:
            return json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise StoreError(f"{target} is unreadable: {e}") from None

    def _dirs(self) -> list[Path]:
        """The series directories, newest fetch first (nothing is read)."""
        if not self.series_root.is_dir():
            return []
        dirs = [d for d in self.series_root.iterdir() if d.is_dir() and not d.name.startswith(".")]
        dirs.sort(key=lambda d: (d / "series.json").stat().st_mtime if (d / "series.json").exists() else 0,
                  reverse=True)
        return dirs

    def list(self) -> list[Series]:
        """Every stored series, newest fetch first."""
        out = []
        for d in self._dirs():
            try:
                out.append(self._load_dir(d))
            except StoreError:
                continue
        return out

    def _load_dir(self, d: Path) -> Series:
        try:
            data = json.loads((d / "series.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise StoreError(f"{d / 'series.json'} is unreadable: {e}") from None
        if data.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(
                f"{d / 'series.json'} has schema version {data.get('schema_version')}, "
                f"this reviewtool reads {SCHEMA_VERSION}: fetch the series again"
            )
        return from_json(Series, data)

    def find(self, key: str | None) -> Series:
        """A series by store id (or unique prefix), by message-id, or the latest when key is None.

        Only a look-up by message-id reads more than the one series asked for.
        """
        dirs = self._dirs()
        if key is None:
            for d in dirs:
                try:
                    return self._load_dir(d)
                except StoreError:
                    continue
        if not dirs or key is None:
            raise StoreError(f"the store {self.root} is empty: run 'reviewtool fetch' first")
        if _NAME.fullmatch(key):
            hits = [d for d in dirs if d.name.startswith(key)]
            exact = [d for d in hits if d.name == key]
            if exact or len(hits) == 1:
                return self._load_dir((exact or hits)[0])
            if len(hits) > 1:
                raise StoreError(f"'{key}' matches {len(hits)} stored series: give more of the id")
        mid = key.strip().strip("<>")
        if mid.startswith("id:"):
            mid = mid[3:]
        series = self.list()
        for s in series:
            if s.msgid == mid:
                return s
        for s in series:
            if any(p.msgid == mid for p in s.patches):
                return s
        raise StoreError(f"no stored series matches '{key}' (see 'reviewtool list')")
