"""Short helper commands (`git config`, `git patch-id`) without the subprocess module.

Importing subprocess (with threading, selectors and their imports) is about 3 ms of a
local check, which only ever runs two small git commands: one that reads nothing and one
fed a few kilobytes. `Command` starts one with `os.posix_spawnp` and an argument list (no
shell), its standard error to /dev/null, and `output` feeds its input and reads its
output with `poll`, as `Popen.communicate` does, under a deadline.

As with subprocess's defaults: SIGPIPE and SIGXFSZ are the default in the command (Python
ignores them), and it gets no descriptor of ours but its standard streams (every
descriptor Python opens is close-on-exec).
"""

from __future__ import annotations

import os
import select
import signal
import time

_DEFAULT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))
_CHUNK = 1 << 16


class Command:
    """A command started with pipes to its standard input and output (OSError if it cannot
    be started: git missing, say)."""

    def __init__(self, argv: list[str], stdin: bytes | None = None) -> None:
        self.returncode: int | None = None
        self._input = memoryview(stdin) if stdin is not None else None
        out_r, out_w = os.pipe()
        in_r = in_w = -1
        try:
            actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [(os.POSIX_SPAWN_DUP2, out_w, 1)]
            if stdin is not None:
                in_r, in_w = os.pipe()
                actions.append((os.POSIX_SPAWN_DUP2, in_r, 0))
            else:
                actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
            actions.append((os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0))
            self.pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions,
                                       setsigdef=_DEFAULT_SIGNALS)
        except BaseException:
            for fd in (out_r, in_w):
                if fd >= 0:
                    os.close(fd)
            raise
        finally:
            for fd in (out_w, in_r):
                if fd >= 0:
                    os.close(fd)
        self._out: int | None = out_r
        self._in: int | None = in_w if in_w >= 0 else None
        if self._in is not None:  # what the pipe takes now: the command works while the caller does
            os.set_blocking(self._in, False)
            while self._input and self._write_some(would_block=False):
                pass
            if not self._input:
                self._close_input()

    def output(self, timeout: float) -> bytes | None:
        """Feed the input, read the output until the command ends: what it printed when it
        exited 0; None when it failed, or did not end within `timeout` seconds (then it is
        killed)."""
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        try:
            poller = select.poll()
            if self._out is not None:
                poller.register(self._out, select.POLLIN)
            if self._in is not None:
                poller.register(self._in, select.POLLOUT)
            while self._out is not None or self._in is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    return None
                for fd, _ in poller.poll(left * 1000):
                    if fd == self._out:
                        chunk = os.read(fd, _CHUNK)
                        if chunk:
                            chunks.append(chunk)
                        else:
                            poller.unregister(fd)
                            os.close(fd)
                            self._out = None
                    elif fd == self._in:
                        if not self._write_some():
                            poller.unregister(fd)
                            self._close_input()
        except OSError:
            self.kill()
            return None
        self._wait()
        return b"".join(chunks) if self.returncode == 0 else None

    def _write_some(self, would_block: bool = True) -> bool:
        """Write what the pipe takes; False once all is written, the command stopped reading,
        or (`would_block` False) the pipe is full."""
        assert self._in is not None and self._input is not None
        try:
            written = os.write(self._in, self._input[:_CHUNK])
        except BlockingIOError:
            return would_block
        except BrokenPipeError:  # it stopped reading: its exit status says why
            self._input = memoryview(b"")
            return False
        self._input = self._input[written:]
        return bool(self._input)

    def _close_input(self) -> None:
        if self._in is not None:
            os.close(self._in)
            self._in = None

    def _wait(self) -> None:
        while self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                self.returncode = -1
                return
            self.returncode = os.waitstatus_to_exitcode(status)

    def kill(self) -> None:
        """Stop the command if it still runs, reap it, and close the pipes (every exit path)."""
        self._close_input()
        if self._out is not None:
            os.close(self._out)
            self._out = None
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self._wait()
