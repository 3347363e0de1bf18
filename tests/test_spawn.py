"""reviewtool.spawn: short commands with pipes, without the subprocess module (real processes)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from reviewtool.spawn import Command


def test_output_of_a_command_that_succeeds() -> None:
    assert Command(["git", "--version"]).output(timeout=30).startswith(b"git version ")


def test_input_larger_than_a_pipe_while_the_output_is_too() -> None:
    data = os.urandom(3 << 20)  # neither side's pipe holds it: both must be serviced at once
    out = Command([sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
                  data).output(timeout=60)
    assert out == data


def test_a_failing_command_gives_none_and_its_status() -> None:
    cmd = Command([sys.executable, "-c", "print('x'); raise SystemExit(3)"])
    assert cmd.output(timeout=30) is None
    assert cmd.returncode == 3


def test_a_command_that_does_not_exist_raises_oserror() -> None:
    with pytest.raises(OSError):
        Command(["reviewtool-no-such-command-xyz"])


def test_standard_error_goes_nowhere_and_stdin_is_empty(capfd: pytest.CaptureFixture[str]) -> None:
    out = Command([sys.executable, "-c", "import sys; sys.stderr.write('noise'); print(repr(sys.stdin.read()))"])
    assert out.output(timeout=30) == b"''\n"
    assert "noise" not in capfd.readouterr().err


def test_sigpipe_is_the_default_in_the_command() -> None:
    # Python ignores SIGPIPE; a command started from it must not (git would not stop on a closed pipe)
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    cmd = Command(["sleep", "30"])
    try:
        for _ in range(100):
            status = open(f"/proc/{cmd.pid}/status").read()
            if "\nName:\tsleep" in "\n" + status:
                break
            time.sleep(0.01)
        ignored = int(status.split("SigIgn:")[1].split()[0], 16)
        assert not ignored & (1 << (signal.SIGPIPE - 1))
    finally:
        cmd.kill()


def test_a_command_that_outlives_the_deadline_is_killed_and_reaped() -> None:
    cmd = Command([sys.executable, "-c", "import time; time.sleep(60)"])
    t = time.monotonic()
    assert cmd.output(timeout=0.5) is None
    assert time.monotonic() - t < 10
    assert cmd.returncode == -signal.SIGKILL
    with pytest.raises(ChildProcessError):
        os.waitpid(cmd.pid, os.WNOHANG)


def test_kill_before_output_reaps_it() -> None:
    cmd = Command([sys.executable, "-c", "import time; time.sleep(60)"], b"input")
    cmd.kill()
    cmd.kill()
    with pytest.raises(ChildProcessError):
        os.waitpid(cmd.pid, os.WNOHANG)


def test_a_command_that_stops_reading_its_input_early() -> None:
    cmd = Command([sys.executable, "-c", "import sys; sys.stdin.buffer.read(10); print('ok')"], b"x" * (4 << 20))
    assert cmd.output(timeout=60) == b"ok\n"
