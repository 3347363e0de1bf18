"""The analyzers shared with a forked helper process (check/helper.py, `check --jobs`).

What a check reports must not depend on which process ran which analyzer, and the helper
must never outlive the command or change its outcome when it fails: each case here runs
real forks.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from reviewtool import rx
from reviewtool.check import helper
from reviewtool.check.helper import Helper
from reviewtool.cli import main

SAMPLE = Path(__file__).resolve().parent / "golden" / "check" / "sample.mbox"


def _zombies() -> list[int]:
    """Children of this process that ended and were never reaped."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("helper") / "store")
    assert main(["fetch", str(SAMPLE), "--offline", "--store", path, "-q"]) == 0
    return path


def _check(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["check", "--store", store, "--no-checkpatch", "--json", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, json.loads(out.out)


def test_a_check_reports_the_same_whichever_process_runs_each_analyzer(
        store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code1, alone = _check(capsys, store, "--jobs", "1")
    code2, shared = _check(capsys, store, "--jobs", "2")
    assert "analyzers_shared" in shared["timings"]  # the helper did run
    assert "analyzers_shared" not in alone["timings"]
    assert {k for k in shared["timings"] if k.startswith("analyzer:")} == \
        {k for k in alone["timings"] if k.startswith("analyzer:")}
    alone.pop("timings")
    shared.pop("timings")
    assert (code1, alone) == (code2, shared)
    assert alone["findings"]  # the sample gives the analyzers something to find
    assert _zombies() == []


def test_text_output_is_the_golden_file_with_a_helper(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    main(["check", "--store", store, "--jobs", "2"])
    out = capsys.readouterr().out
    assert out == (SAMPLE.parent / "sample.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1_0", "\u0663", " 2"])
def test_a_bad_jobs_value_is_a_usage_error(store: str, capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["check", "--store", store, "--jobs", value]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("reviewtool check: error: argument -j/--jobs: expected a number of "
                                    f"processes (1 or more), not {value!r}")


def test_usable_needs_two_jobs_and_no_other_thread() -> None:
    import threading

    assert not helper.usable(1)
    assert helper.usable(2)  # asked for: even with one CPU
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not helper.usable(2)
        assert not helper.usable(None)
    finally:
        stop.set()
        t.join()


# --- the helper itself, on jobs that say where they ran ------------------------------------

def _where(i: int) -> tuple[int, int]:
    return i, os.getpid()


def test_both_processes_take_jobs_and_the_results_come_back_in_order() -> None:
    def slow(i: int) -> tuple[int, int]:
        time.sleep(0.02)
        return _where(i)

    h = Helper.start(12, slow)
    assert h is not None
    pid = h.pid
    time.sleep(0.05)  # this process is busy elsewhere (the pattern rules) while the helper starts
    results = h.finish(slow, lambda _, data: tuple(data))
    assert [r[0] for r in results] == list(range(12))
    ran_in = {r[1] for r in results}
    assert ran_in == {os.getpid(), pid}  # each process ran some
    # the helper took jobs from the front, this process from the back
    first_here = min(r[0] for r in results if r[1] == os.getpid())
    assert all(r[1] == pid for r in results[:first_here])
    assert h.pid is None and _zombies() == []
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_a_helper_that_dies_leaves_its_jobs_to_this_process() -> None:
    parent = os.getpid()

    def dies(i: int) -> tuple[int, int]:
        if os.getpid() != parent and i == 2:
            os._exit(3)
        return _where(i)

    h = Helper.start(8, dies)
    assert h is not None
    time.sleep(0.1)
    results = h.finish(lambda i: (i, os.getpid()), lambda _, data: tuple(data))
    assert [r[0] for r in results] == list(range(8))
    assert all(r[1] == parent for r in results[2:])
    assert _zombies() == []


def test_a_result_that_cannot_be_sent_is_computed_here() -> None:
    parent = os.getpid()

    def unsendable(i: int) -> Any:
        if os.getpid() != parent:
            return {i, lambda: None}  # marshal refuses it: the helper stops
        return i

    h = Helper.start(4, unsendable)
    assert h is not None
    time.sleep(0.05)
    assert h.finish(unsendable, lambda _, data: data) == [0, 1, 2, 3]


def test_a_failure_in_this_process_stops_and_reaps_the_helper() -> None:
    h = Helper.start(1000, lambda i: time.sleep(0.01) or i)
    assert h is not None
    pid = h.pid
    assert pid is not None

    def boom(i: int) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h.finish(boom, lambda _, data: data)
    assert h.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    h.close()  # twice is fine


def test_a_helper_stopped_by_ctrl_c_leaves_its_jobs_here() -> None:
    h = Helper.start(1000, lambda i: time.sleep(0.01) or i)
    assert h is not None and h.pid is not None
    os.kill(h.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the whole group
    results = h.finish(lambda i: i, lambda _, data: data)
    assert results == list(range(1000))


def test_regexes_the_helper_compiled_are_kept_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rx.forget()
    pattern = f"helper-made-{os.getpid()}-[0-9]+"
    parent = os.getpid()

    def compiles(i: int) -> int:
        if os.getpid() != parent:
            rx.compile(pattern)
        return i

    h = Helper.start(1, compiles)
    assert h is not None
    time.sleep(0.1)
    assert h.finish(compiles, lambda _, data: data) == [0]
    assert (pattern, 0) in rx._load()  # adopted from the helper, to be saved with this process's
    rx.save()
    rx.forget()
    assert (pattern, 0) in rx._load()  # read back from the file
    rx.forget()
