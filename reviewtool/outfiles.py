"""Writing files for the user: one file atomically, or a set of files as a whole.

Files are created with mode 0666 less the umask, as any program's output is (a temporary
file from `tempfile.mkstemp` would keep its private 0600 after the rename). A set is staged
in a hidden directory inside the target directory and renamed into place only once every
file of it was written, so a failure leaves the directory as it was. The names a set wrote
are kept in a manifest, so that a later set removes only the files an earlier set wrote
(and the user did not change since), never anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    StrPath = str | os.PathLike[str]

MANIFEST = ".reviewtool-manifest.json"
_STAGE_PREFIX = ".reviewtool-stage-"


class OutputError(OSError):
    """A file of the output could not be written; `str()` is one line for the user."""

    def __init__(self, path: StrPath, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


def reason(e: OSError) -> str:
    """An OSError's cause in a few lowercase words ("permission denied")."""
    if isinstance(e, OutputError):
        return e.reason
    if isinstance(e, PermissionError):
        return "permission denied"
    text = e.strerror or str(e) or type(e).__name__
    return text[:1].lower() + text[1:]


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


def _create(path: StrPath, data: bytes) -> None:
    """Write a new file at path (which must not exist), mode 0666 less the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_atomic(path: StrPath, data: str | bytes) -> str:
    """Write one file: a temporary file in the same directory, then a rename over path.

    Raises OutputError (an OSError) with a one-line message; no temporary file is left.
    """
    path = os.fspath(path)
    if _is_dir(path):
        raise OutputError(path, "it is a directory")
    payload = _as_bytes(data)
    head, name = os.path.split(path)
    while True:
        tmp = os.path.join(head, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            _create(tmp, payload)
            break
        except FileExistsError:
            continue
        except BaseException as e:
            _unlink(tmp)
            if isinstance(e, OSError):
                raise OutputError(path, reason(e)) from None
            raise
    try:
        os.replace(tmp, path)
    except BaseException as e:
        _unlink(tmp)
        if isinstance(e, OSError):
            raise OutputError(path, reason(e)) from None
        raise
    return path


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def write_set(directory: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write every file of `files` (plain names) into `directory`, all of them or none.

    The files an earlier set wrote into `directory` and this one does not are removed,
    unless they were changed since; files the tool did not write are never touched.
    Raises OutputError; on failure the directory is as it was.
    """
    from pathlib import Path  # only a set of files (review --output-dir): a check writes one

    directory = Path(directory)
    for name in files:
        if not _plain_name(name):
            raise ValueError(f"not a plain file name: {name!r}")
    blocked = [directory / n for n in files if _is_dir(directory / n)]
    if blocked:
        raise OutputError(blocked[0], "it is a directory")
    payloads = {name: _as_bytes(data) for name, data in files.items()}
    earlier = _read_manifest(directory)
    manifest = json.dumps({"written-by": "reviewtool",
                           "files": {n: _digest(d) for n, d in sorted(payloads.items())}},
                          indent=1) + "\n"
    with _stage(directory) as stage:
        for name, data in payloads.items():
            try:
                _create(stage / name, data)
            except OSError as e:
                raise OutputError(directory / name, reason(e)) from None
        try:
            _create(stage / MANIFEST, manifest.encode())
        except OSError as e:
            raise OutputError(directory / MANIFEST, reason(e)) from None
        _commit(stage, directory, [*payloads, MANIFEST])
    for name, digest in earlier.items():
        if name not in payloads:
            _remove_if_unchanged(directory / name, digest)
    return [directory / name for name in payloads]


@contextlib.contextmanager
def _stage(directory: Path) -> Iterator[Path]:
    """A hidden directory inside `directory`, removed on the way out whatever happens."""
    try:
        import tempfile  # only a set of files is staged: writing one file needs neither
        from pathlib import Path

        stage = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=directory))
    except OSError as e:
        raise OutputError(directory, reason(e)) from None
    try:
        yield stage
    finally:
        import shutil

        shutil.rmtree(stage, ignore_errors=True)


def _commit(stage: Path, directory: Path, names: list[str]) -> None:
    """Rename every staged file into place; if one rename fails, put back what was there."""
    saved: dict[str, Path | None] = {}  # name -> a hard link to the file it replaces (None: none was)
    current = ""
    try:
        for current in names:
            target = directory / current
            backup = stage / f".old-{current}"
            try:
                os.link(target, backup, follow_symlinks=False)
                saved[current] = backup
            except FileNotFoundError:
                saved[current] = None
            except OSError:  # no hard link possible here: this one cannot be put back
                pass
            os.replace(stage / current, target)
    except BaseException as e:
        for name, before in saved.items():
            if (stage / name).exists():  # not renamed in yet: nothing to undo
                continue
            with contextlib.suppress(OSError):
                if before is not None:
                    os.replace(before, directory / name)
                else:
                    (directory / name).unlink()
        if isinstance(e, OSError):
            raise OutputError(directory / current, reason(e)) from None
        raise


def _read_manifest(directory: Path) -> dict[str, str]:
    """{name: sha256} of the files the previous set wrote; {} when unknown."""
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {n: d for n, d in files.items()
            if isinstance(n, str) and isinstance(d, str) and _plain_name(n) and n != MANIFEST}


def _remove_if_unchanged(path: Path, digest: str) -> None:
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or _digest(path.read_bytes()) != digest:
            return
        path.unlink()
    except OSError:
        return


def _digest(data: bytes) -> str:
    import hashlib  # only a set of files needs it, not every command that writes one file

    return hashlib.sha256(data).hexdigest()


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name \
        and os.sep not in name and not name.startswith(_STAGE_PREFIX)


def _is_dir(path: StrPath) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
