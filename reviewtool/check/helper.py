"""Run a list of jobs from both ends: a forked helper process from the front, this one from the back.

The analyzers of a check are independent of each other and take most of its time; with a
second CPU they can run beside the pattern rules. `Helper.start` forks a process that takes
jobs from the front of the list while this one does other work (the pattern rules); then
`finish` takes jobs from the back until the two meet, and gathers what the helper did.

Each side says which job it takes before starting it, over a pipe, so a job is run twice
at most when both take the same one at the same moment (its two results are equal; one is
kept). The results come back in list order, whichever process ran each job, so what a
check reports does not depend on how the work was shared.

The helper is a fork of this process: it sees the series, the parsed diffs and the rule
packs as they are, with nothing copied or sent but the results (marshalled by the
caller's `encode`, rebuilt by its `decode`), and the regular expressions it compiled (kept
in this process's cache). It never prints, never runs exit handlers (it ends with
`os._exit`), and ends when this process stops listening. If it fails in any way (it cannot
be forked, it dies, it sends what cannot be read), this process runs the jobs it did not
finish itself: the helper only ever changes how long a check takes.
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from reviewtool import rx

_HEADER = 9  # a message: its kind (one byte), the job's index and the length of what follows (4 bytes each)
_CLAIM, _DONE, _REGEXES = 0, 1, 2
_PIPE_BYTES = 1 << 20  # results the helper can send before this process reads them


def usable(jobs: int | None) -> bool:
    """Whether a helper may be forked: JOBS is 2 or more (None: when a second CPU is free),
    and no other thread runs (a fork copies only the calling thread; another one's locks
    would stay held in the helper)."""
    if (jobs is not None and jobs < 2) or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return False
    if jobs is not None:
        return True
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) >= 2


class Helper:
    """A forked process running jobs[0], jobs[1], ... until this process takes the rest."""

    def __init__(self, pid: int, claims: int, results: int, count: int) -> None:
        self.pid: int | None = pid
        self._claims = claims  # write end: the index of each job this process takes (4 bytes)
        self._results = results  # read end: the helper's claims and results
        self._count = count
        self._buffer = b""
        self.claimed = -1  # the last job the helper took
        self.done: dict[int, Any] = {}  # what the helper sent, by job index (encoded)
        self.regexes: dict[Any, bytes] = {}

    @classmethod
    def start(cls, count: int, run: Callable[[int], Any]) -> Helper | None:
        """Fork a helper that runs `run(0)`, `run(1)`, ... (each result must marshal); None
        when it cannot be forked."""
        claims_r = claims_w = results_r = results_w = -1
        try:
            claims_r, claims_w = os.pipe()
            results_r, results_w = os.pipe()
            _widen(results_r)
            pid = os.fork()
        except OSError:
            for fd in (claims_r, claims_w, results_r, results_w):
                if fd >= 0:
                    os.close(fd)
            return None
        if pid == 0:  # the helper: never returns
            _serve(claims_r, results_w, count, run, (claims_w, results_r))
        os.close(claims_r)
        os.close(results_w)
        os.set_blocking(results_r, False)
        return cls(pid, claims_w, results_r, count)

    def finish(self, run: Callable[[int], Any], decode: Callable[[int, Any], Any]) -> list[Any]:
        """Run jobs from the back until reaching one the helper took, then wait for the helper;
        every job's result, in order (`decode` rebuilds the helper's)."""
        mine: dict[int, Any] = {}
        try:
            last = self._count - 1
            while last >= 0:
                self._read()
                if last <= self.claimed:
                    break
                self._claim(last)
                mine[last] = run(last)
                last -= 1
            self._close_claims()
            self._read(wait=True)
        finally:
            self.close()
        rx.adopt(self.regexes)
        results = []
        for i in range(self._count):
            if i in mine:
                results.append(mine[i])
            elif i in self.done:
                results.append(decode(i, self.done[i]))
            else:  # the helper stopped before it: run it here
                results.append(run(i))
        return results

    def _claim(self, index: int) -> None:
        if self._claims < 0:
            return
        try:
            os.write(self._claims, index.to_bytes(4, "little"))
        except OSError:  # the helper has ended: what it did not finish is run here
            self._close_claims()

    def _close_claims(self) -> None:
        if self._claims >= 0:
            os.close(self._claims)
            self._claims = -1

    def _read(self, wait: bool = False) -> None:
        """Take in what the helper has sent; with `wait`, everything, until it closes its end."""
        if self._results < 0:
            return
        if wait:
            os.set_blocking(self._results, True)
        while True:
            try:
                chunk = os.read(self._results, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                os.close(self._results)
                self._results = -1
                return
            self._buffer += chunk
            self._messages()

    def _messages(self) -> None:
        buf, at = self._buffer, 0
        while len(buf) - at >= _HEADER:
            kind = buf[at]
            index = int.from_bytes(buf[at + 1:at + 5], "little")
            end = at + _HEADER + int.from_bytes(buf[at + 5:at + 9], "little")
            if len(buf) < end:
                break
            body = buf[at + _HEADER:end]
            at = end
            try:
                if kind == _CLAIM:
                    self.claimed = max(self.claimed, index)
                elif kind == _DONE:
                    self.done[index] = marshal.loads(body)
                elif kind == _REGEXES:
                    found = marshal.loads(body)
                    if isinstance(found, dict):
                        self.regexes = found
            except (ValueError, EOFError, TypeError):  # unreadable: the job is run here
                pass
        self._buffer = buf[at:]  # what is left of a message not yet whole (copied once a read)

    def close(self) -> None:
        """Stop the helper if it still runs, and reap it (on every path: an error, Ctrl-C)."""
        self._close_claims()
        if self._results >= 0:
            os.close(self._results)
            self._results = -1
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)  # (an interrupted wait is retried by Python itself)
            except ChildProcessError:
                pass


def _widen(fd: int) -> None:
    """Let the helper send up to _PIPE_BYTES before it has to wait for this process to read."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # the usual 64 KiB: the helper waits now and then
        pass


def _serve(claims: int, results: int, count: int, run: Callable[[int], Any], parents: Sequence[int]) -> None:
    """The helper process: take jobs from the front until this process has taken the next one."""
    code = 1
    try:
        made = rx.made_count()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, signal.SIG_DFL)  # stopped with the command, quietly
        for fd in parents:
            os.close(fd)
        os.set_blocking(claims, False)
        theirs = count  # the first job this process has taken (it takes them from the back)
        pending = b""
        for index in range(count):
            try:
                pending += os.read(claims, 1 << 12)
            except BlockingIOError:
                pass
            while len(pending) >= 4:
                theirs = min(theirs, int.from_bytes(pending[:4], "little"))
                pending = pending[4:]
            if index >= theirs:
                break
            _send(results, _CLAIM, index, b"")
            _send(results, _DONE, index, marshal.dumps(run(index)))
        _send(results, _REGEXES, 0, marshal.dumps(rx.made_here(made)))
        code = 0
    except BaseException:  # noqa: BLE001 - whatever it is, this process runs the job instead
        code = 1
    finally:
        os._exit(code)


def _send(fd: int, kind: int, index: int, body: bytes) -> None:
    data = memoryview(bytes((kind,)) + index.to_bytes(4, "little") + len(body).to_bytes(4, "little") + body)
    while data:
        data = data[os.write(fd, data):]
