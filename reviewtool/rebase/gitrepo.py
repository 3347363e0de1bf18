"""Isolated access to the user's repository through gitpython: plumbing only.

Every git process runs with its current directory, work tree and default index in a
private temporary directory, and GIT_DIR pointing at the repository. Nothing run from
here can therefore read or write the user's checkout or index, whatever command it is.
The only things written into the repository are objects (blobs, trees, unreachable
commits), which git collects as garbage; refs only through `update_ref`, which the
command calls for `--branch` alone.

Nothing the repository configures to run is run: the series is mail from strangers.
Hooks are off (`core.hooksPath` is an empty directory of ours), and so are merge drivers
and filters, whatever attributes name them: git 2.39 cannot be told to ignore
`info/attributes`, so every `merge.<name>.driver` the configuration defines is replaced by
git's own text merge and every `filter.<name>` emptied (see `_program_overrides`).

Children run in their own session, so a Ctrl-C typed in the terminal reaches this
process only. SIGINT, SIGTERM and SIGHUP are treated alike (unless they were ignored, as
under nohup): the signal is held until the running git call returns, then raised as
`reviewtool.errors.Interrupted` (a KeyboardInterrupt that names the signal), and the
context manager removes the temporary directory; a second signal raises at once, but
never stops that removal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

import git

from reviewtool import rx
from reviewtool.errors import GitError, Interrupted
from reviewtool.record import record

TIMEOUT = 300.0  # seconds for any single git call
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # held while a git call runs

# Settings forced for every call: stable messages and no surprises from user config.
_CONFIG = {
    "core.quotePath": "false",
    "apply.whitespace": "nowarn",
    "merge.conflictStyle": "merge",
    "diff.noprefix": "false",
    "diff.mnemonicPrefix": "false",
    "log.showSignature": "false",
    "gc.auto": "0",
    "maintenance.auto": "false",
    # private index files stay plain and self-contained (a split index would put a
    # sharedindex file into the repository)
    "index.version": "2",
    "core.splitIndex": "false",
    "core.untrackedCache": "false",
    "core.fsmonitor": "false",
    "feature.manyFiles": "false",
    "index.skipHash": "false",
    # nothing of the repository's runs (hooks, drivers and filters: module docstring);
    # core.hooksPath is set per run to an empty directory of ours
    "core.attributesFile": os.devnull,
    "merge.renormalize": "false",
    "merge.default": "text",
}

# What a merge driver of the repository's config is replaced by: git's own merge of the
# three files (the built-in driver of that name for union and binary, which a configured
# driver would otherwise shadow). %A, %O, %B are temporary files git names.
_SAFE_MERGE = {
    "union": "git merge-file --quiet --union --marker-size=%L %A %O %B",
    "binary": "exit 1",
}
_TEXT_MERGE = "git merge-file --quiet --marker-size=%L %A %O %B"
_PROGRAM_KEYS = rx.compile(r"^(merge|filter)\.(.+)\.[^.]+$")


@record
class GitResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace").rstrip("\n")


class GitRepo:
    """A repository opened for plumbing in isolation; use as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        where = Path(path) if path is not None else Path.cwd()
        try:
            self.repo = git.Repo(str(where), search_parent_directories=True)
        except git.NoSuchPathError:
            raise GitError(f"{where}: no such directory") from None
        except git.InvalidGitRepositoryError:
            raise GitError(f"{where}: not a git repository (give --repo PATH)") from None
        self.git_dir = Path(self.repo.git_dir).resolve()
        self.path = Path(self.repo.working_tree_dir or self.git_dir).resolve()
        self.tmp: Path | None = None
        self._cmd: git.Git | None = None
        self._batch: _Pipe | None = None
        self._mktree: _Pipe | None = None
        self._hash_commit: _Pipe | None = None
        self._hash_blob: _Pipe | None = None
        self._objects = 0
        self._current: subprocess.Popen[bytes] | None = None
        self._interrupted: int | None = None
        self._closing = False
        self._old_handlers: dict[int, Any] = {}
        self._hexlen = 0

    # --- lifetime ---------------------------------------------------------------------

    def __enter__(self) -> GitRepo:
        self.tmp = Path(tempfile.mkdtemp(prefix="reviewtool-rebase."))
        (self.tmp / "wt").mkdir()
        (self.tmp / "hooks").mkdir()
        self._cmd = git.Git(str(self.tmp))
        config = dict(_CONFIG, **{"core.hooksPath": str(self.tmp / "hooks")})
        self._cmd.update_environment(**_environment(self.git_dir, self.tmp, config))
        if threading.current_thread() is threading.main_thread():
            for sig in HELD_SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup: stays ignored
                    self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            overrides = self._program_overrides()
        except BaseException:
            self._release()
            raise
        if overrides:
            self._cmd.update_environment(**_environment(self.git_dir, self.tmp, {**config, **overrides}))
        return self

    def _program_overrides(self) -> dict[str, str]:
        """Settings that disarm every merge driver and filter the configuration defines.

        Attributes choose them by name from any source, `info/attributes` included, which
        git 2.39 cannot be told to skip; so each name configured is given a harmless
        definition instead: git's own merge, an empty filter that is not required.
        """
        got = self.run("config", "--null", "--get-regexp", r"^(merge|filter)\.", check=False)
        if got.returncode not in (0, 1):  # 1: none defined. Unread, nothing could be disarmed
            raise GitError(f"cannot read the configuration of {self.path}: "
                           f"{got.err.splitlines()[-1] if got.err else got.returncode}")
        out: dict[str, str] = {}
        for entry in got.stdout.split(b"\0"):
            key = entry.partition(b"\n")[0].decode("utf-8", "surrogateescape")
            m = _PROGRAM_KEYS.match(key)
            if m is None:
                continue
            kind, name = m.groups()
            if kind == "merge":
                out[f"merge.{name}.driver"] = _SAFE_MERGE.get(name, _TEXT_MERGE)
            else:
                for what in ("clean", "smudge", "process"):
                    out[f"filter.{name}.{what}"] = ""
                out[f"filter.{name}.required"] = "false"
        return out

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._release()
        if exc_type is None and self._interrupted is not None:
            raise Interrupted(self._interrupted)

    def _release(self) -> None:
        """Close everything, then give the signals back to their earlier handlers."""
        self._closing = True  # a signal now is held: it must not stop the cleanup
        try:
            self.close()
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)
            self._old_handlers.clear()
            self._closing = False

    def close(self) -> None:
        """Stop the long-lived git processes and remove the temporary directory."""
        try:
            for pipe in (self._batch, self._mktree, self._hash_commit, self._hash_blob):
                if pipe is not None:
                    pipe.close()
            self._batch = self._mktree = self._hash_commit = self._hash_blob = None
            if self._current is not None and self._current.poll() is None:
                try:
                    self._current.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._current.kill()
                    self._current.wait()
            self._current = None
        finally:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._interrupted is None:
            self._interrupted = signum
        elif not self._closing:  # asked twice: stop now (but let the cleanup finish)
            raise Interrupted(signum)

    def check_interrupt(self) -> None:
        """Raise Interrupted if a signal arrived while a git call was running."""
        if self._interrupted is not None:
            raise Interrupted(self._interrupted)

    # --- running git ------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        if self.tmp is None:
            raise RuntimeError("GitRepo used outside its context manager")
        return self.tmp

    def _git(self) -> git.Git:
        if self._cmd is None:
            raise RuntimeError("GitRepo used outside its context manager")
        return self._cmd

    def run(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True, timeout: float = TIMEOUT) -> GitResult:
        """Run `git ARGS` in isolation; raise GitError on failure when check is true."""
        self.check_interrupt()
        proc: Any = self._git().execute(
            ["git", *args], as_process=True, istream=subprocess.PIPE, env=dict(env or {}),
            start_new_session=True,
        )
        popen: subprocess.Popen[bytes] = proc.proc
        with self._watched(popen, args[0], timeout):
            out, err = popen.communicate(input or b"")
        result = GitResult(popen.returncode, out, err)
        self.check_interrupt()
        if check and result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {result.err.splitlines()[-1] if result.err else result.returncode}")
        return result

    def run_capped(self, *args: str, limit: int, input_path: Path | None = None,
                   timeout: float = TIMEOUT) -> tuple[bytes, bool]:
        """`git ARGS`'s stdout (stdin read from INPUT_PATH), read up to LIMIT bytes; True when
        it was cut there (the process is then killed: nothing past the budget is held)."""
        self.check_interrupt()
        with open(input_path or os.devnull, "rb") as stdin:
            proc: Any = self._git().execute(["git", *args], as_process=True, istream=stdin,
                                            start_new_session=True)
        popen: subprocess.Popen[bytes] = proc.proc
        chunks: list[bytes] = []
        size = 0
        cut = False
        with self._watched(popen, args[0], timeout):
            out = _stream(popen.stdout)
            while chunk := out.read1(1 << 20):  # type: ignore[attr-defined]
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    cut = True
                    popen.kill()
                    break
            _out, err = popen.communicate()
        self.check_interrupt()
        if not cut and popen.returncode != 0:
            text = err.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed: {text.splitlines()[-1] if text else popen.returncode}")
        return b"".join(chunks)[:limit] if cut else b"".join(chunks), cut

    @contextlib.contextmanager
    def _watched(self, popen: subprocess.Popen[bytes], name: str, timeout: float) -> Iterator[None]:
        """POPEN is the current process for the block, killed past TIMEOUT (then a GitError).

        A watchdog thread rather than communicate(timeout=...), whose final wait polls with
        sleeps: that costs a millisecond or two on every one of many short calls.
        """
        self._current = popen
        expired: list[bool] = []

        def kill() -> None:
            expired.append(True)
            popen.kill()

        watchdog = threading.Timer(timeout, kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield
        finally:
            watchdog.cancel()
            if popen.poll() is not None:
                self._current = None  # else close() waits for it before removing files
        if expired:
            raise GitError(f"git {name} did not finish in {timeout:.0f} s")

    def start(self, *args: str) -> Any:
        """Start a long-lived git process with pipes on stdin and stdout.

        Returns gitpython's AutoInterrupt wrapper (`.proc` is the Popen): the caller must
        keep it, as dropping it kills the process.
        """
        return self._git().execute(
            ["git", *args], as_process=True, istream=subprocess.PIPE, start_new_session=True,
        )

    # --- objects ----------------------------------------------------------------------

    def cat(self, spec: str) -> tuple[str, str, bytes] | None:
        """(oid, type, content) of SPEC through a long-lived `cat-file --batch`, or None."""
        if "\n" in spec or not spec:
            return None
        if self._batch is None:
            self._batch = _Pipe(self, "cat-file", "--batch")
        return self._batch.cat(spec)

    def mktree(self, entries: list[tuple[str, str, str]]) -> str:
        """Write a tree of (mode, oid, name) entries, the object `git mktree` writes.

        It goes through a long-lived `hash-object -t tree --stdin-paths`: `mktree` looks
        up every entry's object, which made rewriting a directory of 5,000 files cost
        60 ms, every patch. The entries' objects exist: git wrote or read each of them.
        """
        if self._mktree is None:
            self._mktree = _Pipe(self, "hash-object", "-w", "-t", "tree", "--stdin-paths")
        return self._write_through(self._mktree, tree_object(entries))

    def commit(self, tree: str, parents: list[str], author: str, committer: str, message: str) -> str:
        """Write a commit object (what `git commit-tree` writes) through a long-lived
        `hash-object -t commit --stdin-paths`; AUTHOR/COMMITTER are 'Name <email> epoch +zone'."""
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents), f"author {author}",
                 f"committer {committer}"]
        text = "\n".join(lines) + "\n\n" + message
        if not text.endswith("\n"):
            text += "\n"
        if self._hash_commit is None:
            self._hash_commit = _Pipe(self, "hash-object", "-w", "-t", "commit", "--stdin-paths")
        return self._write_through(self._hash_commit, text.encode("utf-8", "surrogateescape"))

    def write_blob(self, data: bytes) -> str:
        """Write a blob through a long-lived `hash-object -w --stdin-paths`; its id."""
        if self._hash_blob is None:
            self._hash_blob = _Pipe(self, "hash-object", "-w", "--no-filters", "--stdin-paths")
        return self._write_through(self._hash_blob, data)

    def _write_through(self, pipe: _Pipe, data: bytes) -> str:
        self._objects += 1
        path = self.workdir / f"object.{self._objects}"
        path.write_bytes(data)
        try:
            return pipe.line(str(path))
        finally:
            path.unlink(missing_ok=True)

    def resolve_commit(self, ref: str, what: str) -> str:
        """The full id of the commit REF names; refuse option-like or unknown names."""
        ref = ref.strip()
        if not ref:
            raise GitError(f"{what} is empty")
        if ref.startswith("-"):
            raise GitError(f"{what} '{ref}' starts with '-': refusing it (a ref never does)")
        if any(c in ref for c in "\n\r\0"):
            raise GitError(f"{what} {ref!r} is not a valid ref")
        got = self.cat(f"{ref}^{{commit}}")
        if got is None:
            raise GitError(f"{what} '{ref}' is not a commit in {self.path}")
        self._hexlen = len(got[0])
        return got[0]

    @property
    def hexlen(self) -> int:
        """Length of an object id in hex (40 for SHA-1 repositories, 64 for SHA-256)."""
        if not self._hexlen:
            fmt = self.repo.config_reader().get_value("extensions", "objectformat", "sha1")
            self._hexlen = 64 if str(fmt).lower() == "sha256" else 40
        return self._hexlen


class _Pipe:
    """A long-lived `git cat-file --batch` or `git hash-object --stdin-paths`."""

    def __init__(self, repo: GitRepo, *args: str) -> None:
        self.repo = repo
        self.args = args
        self._handle = repo.start(*args)  # keeps the process alive
        self.proc: subprocess.Popen[bytes] = self._handle.proc
        self.stdin: IO[bytes] = _stream(self.proc.stdin)
        self.stdout: IO[bytes] = _stream(self.proc.stdout)

    def _fail(self) -> GitError:
        self.repo.check_interrupt()
        err = self.proc.stderr.read().decode("utf-8", "replace").strip() if self.proc.stderr else ""
        return GitError(f"git {self.args[0]} stopped: {err or 'no output'}")

    def cat(self, spec: str) -> tuple[str, str, bytes] | None:
        try:
            self.stdin.write(spec.encode("utf-8") + b"\n")
            self.stdin.flush()
            header = self.stdout.readline()
        except (BrokenPipeError, OSError):
            raise self._fail() from None
        if not header:
            raise self._fail()
        parts = header.decode("utf-8", "replace").split()
        if len(parts) != 3 or parts[-1] in ("missing", "ambiguous") or not parts[2].isdigit():
            return None
        size = int(parts[2])
        data = self.stdout.read(size + 1)
        if len(data) != size + 1:
            raise self._fail()
        return parts[0], parts[1], data[:size]

    def line(self, request: str) -> str:
        """Send one line, read one line back (hash-object --stdin-paths)."""
        try:
            self.stdin.write(request.encode("utf-8", "surrogateescape") + b"\n")
            self.stdin.flush()
            got = self.stdout.readline()
        except (BrokenPipeError, OSError):
            raise self._fail() from None
        oid = got.decode().strip()
        if not oid:
            raise self._fail()
        return oid

    def close(self) -> None:
        try:
            self.stdin.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()  # idle between requests: nothing half done to lose
        self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            if s is not None:
                s.close()


def tree_object(entries: list[tuple[str, str, str]]) -> bytes:
    """The content of the tree object with these (mode, oid, name) entries, as git writes
    it: canonical octal modes, and names in git's order, a directory's as if it ended in '/'."""
    items = []
    for mode, oid, name in entries:
        octal = int(mode, 8)
        raw = name.encode("utf-8", "surrogateescape")
        items.append((raw + b"/" if octal == 0o40000 else raw, b"%o " % octal + raw + b"\0" + bytes.fromhex(oid)))
    items.sort(key=lambda item: item[0])
    return b"".join(record for _key, record in items)


def _environment(git_dir: Path, tmp: Path, config: dict[str, str]) -> dict[str, str]:
    """The environment of every git process: the repository, everything else private."""
    env = {
        "GIT_DIR": str(git_dir),
        "GIT_WORK_TREE": str(tmp / "wt"),
        "GIT_INDEX_FILE": str(tmp / "index"),
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_ATTR_NOSYSTEM": "1",
        # paths come from patches: `*` or `:(magic)` in one is a name, not a pattern
        "GIT_LITERAL_PATHSPECS": "1",
        # `git -c` settings of a caller would be read after ours and could undo them
        "GIT_CONFIG_PARAMETERS": "",
        "GIT_CONFIG_COUNT": str(len(config)),
    }
    for i, (key, value) in enumerate(config.items()):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _stream(s: IO[bytes] | None) -> IO[bytes]:
    if s is None:
        raise GitError("git process has no pipe")
    return s

