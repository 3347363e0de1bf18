"""The on-disk store: one directory per series, written atomically.

    <store>/series/<id>/series.json   the Series (schema_version inside)
    <store>/series/<id>/am.mbox       am-ready mbox (trailers applied, as b4 am makes it)
    <store>/series/<id>/thread.mbox   the raw thread as fetched
    <store>/series/<id>/<name>.json   later results (rebase.json, check.json)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reviewtool import rx
from reviewtool.errors import StoreError
from reviewtool.model import SCHEMA_VERSION, Series, from_json, to_json
from reviewtool.outfiles import reason, write_atomic
from reviewtool.paths import exists, join, path_is, pathlib_form

_NAME = rx.compile(r"[\w-]+")  # could be a store id (a directory name) or a prefix of one

if TYPE_CHECKING:
    StrPath = str | os.PathLike[str]


class Store:
    def __init__(self, root: StrPath) -> None:
        self.root = pathlib_form(os.fspath(root))
        self.series_root = join(self.root, "series")

    def path(self, series_id: str) -> str:
        return join(self.series_root, series_id)

    def save_series(self, series: Series, files: dict[str, bytes]) -> str:
        """Keep a series: series.json and `files` in <store>/series/<id>/, replaced in one rename.

        The files are written into a hidden temporary directory that is renamed into place
        under the store's lock, so two fetches of one series at once both succeed. When the
        stored copy already holds the same bytes nothing is written (a read-only copy is
        fine then). Raises StoreError, with no temporary directory left, on any failure.
        """
        final = self.path(series.id)
        payload = dict(files)
        payload["series.json"] = _json_bytes(series)
        with self._writing():
            with self._lock():  # under the lock: another save may be renaming `final` right now
                if _holds(final, payload):
                    _touch(join(final, "series.json"))  # a fetch again makes it the latest
                    return final
                if exists(final) and not os.access(final, os.W_OK):
                    raise PermissionError(errno.EACCES, "permission denied", final)
            os.makedirs(self.series_root, exist_ok=True)
            tmp: str | None = _fresh_dir(self.series_root, f".{series.id}.")
            try:
                assert tmp is not None
                for name, data in payload.items():
                    with open(join(tmp, name), "wb") as fh:
                        fh.write(data)
                with self._lock():
                    if _holds(final, payload):  # another fetch of it got there first
                        _touch(join(final, "series.json"))
                        return final
                    self._replace(final, tmp)
                    tmp = None
            finally:
                if tmp is not None:
                    _remove_tree(tmp)
        return final

    def _replace(self, final: str, new: str) -> None:
        """Put the directory `new` at `final`, moving the old copy aside and removing it."""
        stale_prefix = f".{os.path.basename(final)}.old."
        for name in os.listdir(self.series_root):
            if name.startswith(stale_prefix):  # left by a run that was killed
                _remove_tree(join(self.series_root, name))
        old = join(self.series_root, f"{stale_prefix}{os.urandom(4).hex()}")
        try:
            os.rename(final, old)
        except FileNotFoundError:
            os.rename(new, final)
            return
        try:
            os.rename(new, final)
        except BaseException:
            os.rename(old, final)
            raise
        try:
            _remove_tree(old)
        except KeyboardInterrupt:  # interrupted while removing it: finish, then stop
            _remove_tree(old)
            raise

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """The store's write lock (the file .lock in the store); with no store yet, no lock."""
        lock = join(self.root, ".lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:
            yield
            return
        except OSError:  # read-only: comparing needs no lock, writing will say why it cannot
            try:
                fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                yield
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a failure to write the store into one StoreError line."""
        try:
            yield
        except OSError as e:
            raise StoreError(f"cannot write to the store at {self.root}: {reason(e)}") from None

    def make_latest(self, series_id: str) -> None:
        """The stored series becomes the latest fetched (the default SERIES of the next command);
        a store that cannot be written keeps its order."""
        _touch(join(self.path(series_id), "series.json"))

    def save_result(self, series_id: str, name: str, data: Any) -> str:
        """Write <name>.json next to a stored series (temp file, then rename).

        Raises StoreError when the series is not stored or its directory cannot be written.
        """
        directory = self.path(series_id)
        target = join(directory, f"{name}.json")
        if not path_is(directory, stat.S_ISDIR):
            raise StoreError(f"no stored series {series_id}")
        with self._writing():
            write_atomic(target, _json_bytes(data))
        return target

    def load_result(self, series_id: str, name: str) -> Any | None:
        """<name>.json of a stored series; None when there is none (or no store to hold one:
        a store that is a file or a symlink loop was already said to be unwritable)."""
        target = join(self.path(series_id), f"{name}.json")
        try:
            with open(target, encoding="utf-8") as fh:
                return json.loads(fh.read())
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise StoreError(f"{target} is unreadable: {reason(e)}") from None
        except ValueError as e:
            raise StoreError(f"{target} is unreadable: {e}") from None

    def _dirs(self) -> list[str]:
        """The series directories, newest fetch first (nothing is read)."""
        if not path_is(self.series_root, stat.S_ISDIR):
            return []
        try:
            dirs = [d for d in (join(self.series_root, n) for n in os.listdir(self.series_root)
                                if not n.startswith(".")) if path_is(d, stat.S_ISDIR)]
        except OSError as e:
            raise StoreError(f"cannot read the store at {self.root}: {reason(e)}") from None
        dirs.sort(key=_fetched_at, reverse=True)
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

    def _load_dir(self, d: str) -> Series:
        where = join(d, "series.json")
        try:
            with open(where, encoding="utf-8") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError) as e:
            raise StoreError(f"{where} is unreadable: {reason(e) if isinstance(e, OSError) else e}"
                             ) from None
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"{where} has schema version {version}, "
                f"this reviewtool reads {SCHEMA_VERSION}: fetch the series again"
            )
        try:
            return from_json(Series, data)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
            raise StoreError(f"{where} is damaged ({type(e).__name__}): fetch the series again"
                             ) from None

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
            hits = [d for d in dirs if os.path.basename(d).startswith(key)]
            exact = [d for d in hits if os.path.basename(d) == key]
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


def _fetched_at(d: str) -> float:
    """When the series in d was last fetched (0 when it cannot be told, or it just went away)."""
    try:
        return os.stat(join(d, "series.json")).st_mtime
    except OSError:
        return 0.0


def _holds(d: str, files: dict[str, bytes]) -> bool:
    """Whether directory d has each of `files` with exactly these bytes."""
    chunk = 1 << 20
    for name, data in files.items():
        try:
            with open(join(d, name), "rb") as fh:
                if os.fstat(fh.fileno()).st_size != len(data):
                    return False
                view = memoryview(data)
                for start in range(0, len(data), chunk):
                    if fh.read(chunk) != view[start:start + chunk]:
                        return False
        except OSError:
            return False
    return True


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _remove_tree(path: str) -> None:
    import shutil  # only to remove a copy: a command that only reads or adds a series never does

    shutil.rmtree(path, ignore_errors=True)


def _fresh_dir(parent: str, prefix: str) -> str:
    """A new private directory in PARENT, as tempfile.mkdtemp makes it (without importing
    tempfile and shutil, 5 ms of a command that keeps one series)."""
    while True:
        path = join(parent, f"{prefix}{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path


def _json_bytes(data: Any) -> bytes:
    """A stored record as one line of JSON: json's C encoder writes it, where an indented
    file goes through the pure-Python one (1.6 ms of a check's series and result)."""
    return (json.dumps(to_json(data), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
