"""The command as a process under hostile conditions: signals, a read-only store, a file
system that refuses a write, a stdout that cannot encode, a broken installation.

Every test runs the real `reviewtool` in a subprocess. File permissions are those an
ordinary user meets: when the tests run as root (who may write anything), the command runs
without the capabilities that override file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
CAP_FOWNER), so a directory of mode 0555 is read-only to it, as it is to its owner.
"""

from __future__ import annotations

import base64
import ctypes
import importlib.util
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MAIL, ROOT

REVIEWTOOL = Path(sys.executable).parent / "reviewtool"
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3


def _as_an_ordinary_user(then: Callable[[], None] | None = None) -> Callable[[], None]:
    """A preexec_fn: as root, drop the capabilities that ignore file modes (from the
    bounding set, so the command keeps none after exec); then run `then`."""
    def apply() -> None:
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
                if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
        if then is not None:
            then()

    return apply


class Sandbox:
    """A directory tree with its own HOME and store, where the command runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "store"
        self.home = root / "home"
        self.home.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        return dict(os.environ, HOME=str(self.home), XDG_CACHE_HOME=str(self.home / ".cache"),
                    XDG_CONFIG_HOME=str(self.home / ".config"), XDG_DATA_HOME=str(self.home / ".share"),
                    REVIEWTOOL_STORE=str(self.store), **extra)

    def run(self, *argv: str, env: dict[str, str] | None = None, then: Callable[[], None] | None = None,
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if "stdout" not in kwargs:
            kwargs["capture_output"] = True
        return subprocess.run([str(REVIEWTOOL), *argv], cwd=self.root, env=self.env(**(env or {})), text=True,
                              timeout=120, check=False, preexec_fn=_as_an_ordinary_user(then), **kwargs)

    def series_dirs(self) -> list[str]:
        d = self.store / "series"
        return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture(autouse=True)
def _writable_again(tmp_path: Path) -> Any:
    """Let pytest remove what a test made read-only."""
    yield
    for d, _dirs, _files in os.walk(tmp_path):
        os.chmod(d, 0o755)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def make_target(where: Path) -> Path:
    """The tree the fixture series was made from, tagged v5.14-rc4."""
    spec = importlib.util.spec_from_file_location("make_mails", ROOT / "fixtures" / "make_mails.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    repo = where / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    for path, text in module.BASE.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v5.14-rc4")
    git(repo, "tag", "v5.14-rc4")
    return repo


def copy_mails(where: Path, leave_out: str = "") -> Path:
    d = where / f"mails-{leave_out or 'all'}"
    d.mkdir()
    for f in MAIL.glob("*.eml"):
        if f.name != leave_out:
            shutil.copy(f, d)
    return d


def read_only(path: Path) -> None:
    for d, _dirs, files in os.walk(path):
        for f in files:
            os.chmod(os.path.join(d, f), 0o444)
        os.chmod(d, 0o555)


def messages(stderr: str) -> list[str]:
    """What the command said on stderr, without progress output."""
    return [x for x in stderr.splitlines() if x.startswith("reviewtool:")]


# --- the store cannot be written -------------------------------------------------------------


def test_a_read_only_series_is_still_rebased_checked_and_reviewed_with_a_warning(sandbox: Sandbox) -> None:
    repo = make_target(sandbox.root)
    mails = copy_mails(sandbox.root)
    first = sandbox.run("fetch", str(mails), "--offline", "-q")
    assert first.returncode == 0, first.stderr
    [sid] = sandbox.series_dirs()
    read_only(sandbox.store / "series" / sid)
    stored = sorted(p.name for p in (sandbox.store / "series" / sid).iterdir())
    not_kept = f"cannot write to the store at {sandbox.store}: permission denied"

    res = sandbox.run("rebase", "--onto", "v5.14-rc4", "--repo", str(repo))
    assert res.returncode == 0, res.stderr
    assert "6/6 applied" in res.stdout
    assert messages(res.stderr) == [f"reviewtool: warning: rebase result not kept: {not_kept}"]

    res = sandbox.run("check", "--no-checkpatch", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    assert messages(res.stderr) == [f"reviewtool: warning: check result not kept: {not_kept}"]

    res = sandbox.run("fetch", str(mails), "--offline", "-q")  # the same thread again: nothing to write
    assert res.returncode == 0 and messages(res.stderr) == [], res.stderr

    res = sandbox.run("review", str(mails), "--offline", "--no-checkpatch", "--onto", "v5.14-rc4",
                      "--repo", str(repo), "--fail-on", "never", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert messages(res.stderr) == [f"reviewtool: warning: rebase result not kept: {not_kept}",
                                    f"reviewtool: warning: check result not kept: {not_kept}"]

    assert sandbox.series_dirs() == [sid]  # no temporary or old copy left by any of them
    assert sorted(p.name for p in (sandbox.store / "series" / sid).iterdir()) == stored


def test_fetching_a_changed_series_into_a_read_only_store_is_one_line_and_leaves_nothing(
        sandbox: Sandbox) -> None:
    first = sandbox.run("fetch", str(copy_mails(sandbox.root, leave_out="v2-r1.eml")), "--offline", "-q")
    assert first.returncode == 0, first.stderr
    [sid] = sandbox.series_dirs()
    read_only(sandbox.store / "series" / sid)
    before = (sandbox.store / "series" / sid / "series.json").read_bytes()

    res = sandbox.run("fetch", str(copy_mails(sandbox.root)), "--offline", "-q")  # one more reply: new trailers
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert messages(res.stderr) == [f"reviewtool: error: cannot write to the store at {sandbox.store}: "
                                    "permission denied"]
    assert sandbox.series_dirs() == [sid]
    assert (sandbox.store / "series" / sid / "series.json").read_bytes() == before

    read_only(sandbox.store)  # nothing at all can be written: a new series cannot be kept either
    res = sandbox.run("fetch", str(MAIL), "--offline", "-q", "-v", "1")
    assert res.returncode == 2 and messages(res.stderr) == [
        f"reviewtool: error: cannot write to the store at {sandbox.store}: permission denied"], res.stderr
    assert sandbox.series_dirs() == [sid]


def test_fetches_of_one_series_at_once_all_succeed_and_leave_one_copy(sandbox: Sandbox) -> None:
    sources = [copy_mails(sandbox.root), copy_mails(sandbox.root, leave_out="v2-r1.eml"),
               copy_mails(sandbox.root, leave_out="v2-r2.eml")]  # one series, three states of its thread
    procs = [subprocess.Popen([str(REVIEWTOOL), "fetch", str(src), "--offline", "-q"], cwd=sandbox.root,
                              env=sandbox.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for src in sources * 2]
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    assert results == [(0, "")] * len(procs)
    assert sandbox.series_dirs() == ["c56fef616ce5"]
    res = sandbox.run("show", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["id"] == "c56fef616ce5"


# --- signals -----------------------------------------------------------------------------------


def big_thread(where: Path, megabytes: int) -> Path:
    """The fixture series with one reply carrying a large attachment (a log, say)."""
    mbox = where / "big.mbox"
    with mbox.open("wb") as out:
        for p in sorted(MAIL.glob("v2-0*.eml")):
            out.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + p.read_bytes().rstrip(b"\n") + b"\n\n")
        out.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
                  b"From: Big <big@example.org>\n"
                  b"Subject: Re: [PATCH v2 0/6] arm64: MMU enabled kexec relocation\n"
                  b"Date: Tue, 10 Aug 2021 09:00:00 +0100\nMessage-Id: <big-log@example.org>\n"
                  b"In-Reply-To: <20210809215402.804942-1-pasha.tatashin@example.org>\n"
                  b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                  b"--b\nContent-Type: text/plain\n\nThe log of the crash is attached.\n\n"
                  b"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
        out.write(base64.encodebytes(os.urandom(megabytes * 3 << 18)))
        out.write(b"\n--b--\n\n")
    return mbox


def test_sigterm_while_a_fetch_writes_the_store_leaves_no_temporary_directory(sandbox: Sandbox) -> None:
    mbox = big_thread(sandbox.root, 16)
    series_root = sandbox.store / "series"
    for _attempt in range(5):  # the signal must land while the series is being written
        shutil.rmtree(sandbox.store, ignore_errors=True)
        proc = subprocess.Popen([str(REVIEWTOOL), "fetch", str(mbox), "--offline", "-q"], cwd=sandbox.root,
                                env=sandbox.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if series_root.exists() and any(p.name.startswith(".") for p in series_root.iterdir()):
                break  # its temporary directory is there: it is writing the series
            time.sleep(0.0005)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # it was done before the signal came: too late to mean anything
            continue
        assert proc.returncode == 143, err
        assert messages(err) == ["reviewtool: interrupted (SIGTERM)"] and "Traceback" not in err
        assert [p.name for p in series_root.iterdir() if p.name.startswith(".")] == []
        if not any(series_root.iterdir()):  # stopped mid-write, and cleaned up after itself
            return
    pytest.fail("the signal never arrived while the series was being written")


@pytest.mark.parametrize("signum, code, said", [
    (signal.SIGINT, 130, "reviewtool: interrupted"),
    (signal.SIGTERM, 143, "reviewtool: interrupted (SIGTERM)"),
])
@pytest.mark.parametrize("delay", [0, 0.02, 0.05, 0.1])
def test_a_signal_right_at_the_start_ends_the_command_in_one_line(
        delay: float, signum: int, code: int, said: str, tmp_path: Path) -> None:
    """Sent while the command is still importing its modules (the delay counts from when
    reviewtool's own code was loaded: before that the interpreter is starting, and a signal
    is CPython's to handle). `fetch -` waits on stdin, so the command is running whatever the
    delay."""
    env = dict(os.environ, REVIEWTOOL_STORE=str(tmp_path / "store"), PYTHONPROFILEIMPORTTIME="1")
    proc = subprocess.Popen([str(REVIEWTOOL), "fetch", "-", "--offline"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # -X importtime: a line as each module finishes importing
        seen.append(line)
        if line.rstrip().endswith(b"| reviewtool.cli"):
            break
    time.sleep(delay)
    proc.send_signal(signum)
    _out, rest = proc.communicate(timeout=60)
    err = b"".join(seen + [rest]).decode()
    said_lines = [x for x in err.splitlines() if not x.startswith("import time:")]
    assert "Traceback" not in err
    assert said_lines == [said]
    assert proc.returncode == code


# --- output files, stdout, the boundary ------------------------------------------------------


def _file_size_limit(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return apply


def test_review_output_set_is_left_as_it_was_when_one_file_cannot_be_written(sandbox: Sandbox) -> None:
    repo = make_target(sandbox.root)
    out_dir = sandbox.root / "out"
    review = ["review", "--offline", "--no-checkpatch", "--onto", "v5.14-rc4", "--repo", str(repo),
              "--output-dir", str(out_dir), "--fail-on", "never", "--format", "json"]
    first_three = sandbox.root / "first-three"
    first_three.mkdir()
    for i in range(4):
        shutil.copy(MAIL / f"v2-{i:02d}.eml", first_three)
    first = sandbox.run(*review[:1], str(first_three), *review[1:])
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}

    # files over 64 KiB cannot be written: report.md fits, report.sarif (written after it) does not
    res = sandbox.run(*review[:1], str(copy_mails(sandbox.root)), *review[1:],
                      then=_file_size_limit(64 << 10))
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert messages(res.stderr)[-1] == (f"reviewtool: error: cannot write {out_dir / 'report.sarif'}: "
                                        f"file too large; nothing was written to {out_dir}")


def test_output_a_terminal_cannot_encode_is_escaped_not_a_traceback(sandbox: Sandbox) -> None:
    assert sandbox.run("fetch", str(MAIL), "--offline", "-q").returncode == 0
    ascii_out = {"PYTHONIOENCODING": "ascii"}
    for argv in (["show"], ["list"]):
        res = sandbox.run(*argv, env=ascii_out)
        assert res.returncode == 0 and res.stderr == "", res.stderr
        assert "arm64: MMU enabled kexec relocation \\u2014" in res.stdout  # the em dash, escaped
    res = sandbox.run("show", "--json", env=ascii_out)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert res.stdout.isascii()
    assert json.loads(res.stdout) == json.loads(sandbox.run("show", "--json").stdout)  # escapes are JSON's


def test_stdout_on_a_full_disk_is_one_line(sandbox: Sandbox) -> None:
    with open("/dev/full", "w") as full:
        res = sandbox.run("rules", stdout=full, stderr=subprocess.PIPE)
    assert res.returncode == 2
    assert res.stderr == "reviewtool: error: no space left on device\n"


def test_an_unexpected_exception_is_an_internal_error_in_one_line_with_the_traceback_on_demand(
        sandbox: Sandbox) -> None:
    broken = sandbox.root / "broken"
    (broken / "rich").mkdir(parents=True)
    (broken / "rich" / "__init__.py").write_text('raise RuntimeError("rich is broken")\n')
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(broken), os.environ.get("PYTHONPATH")]))}
    res = sandbox.run("list", env=env)
    assert res.returncode == 3
    assert res.stderr.splitlines() == [
        "reviewtool: internal error: RuntimeError: rich is broken (a bug in reviewtool: please report it "
        "with the command line and the output of REVIEWTOOL_DEBUG=1 reviewtool ...)"]
    for debug_env, flag in (({"REVIEWTOOL_DEBUG": "1"}, []), ({}, ["--debug"])):
        res = sandbox.run(*flag, "list", env={**env, **debug_env})
        assert res.returncode == 3
        assert res.stderr.startswith("Traceback (most recent call last):")
        assert res.stderr.splitlines()[-1].startswith("reviewtool: internal error: RuntimeError: rich is broken")


def test_a_store_inside_a_read_only_directory_is_one_line(sandbox: Sandbox) -> None:
    """(And the permission tests mean something: the command cannot write a 0555 directory.)"""
    probe = sandbox.root / "probe"
    probe.mkdir()
    read_only(probe)
    res = sandbox.run("fetch", str(MAIL), "--offline", "-q", "--store", str(probe / "store"))
    assert res.returncode == 2 and "permission denied" in res.stderr
    assert stat.S_IMODE(probe.stat().st_mode) == 0o555


def test_a_store_that_cannot_be_entered_is_an_error_not_an_empty_store(sandbox: Sandbox) -> None:
    assert sandbox.run("fetch", str(MAIL), "--offline", "-q").returncode == 0
    sandbox.store.chmod(0o666)  # readable, but no search permission
    for argv in (("list",), ("show",), ("check", "--no-checkpatch")):
        res = sandbox.run(*argv)
        assert res.returncode == 2, (argv, res.stdout, res.stderr)
        assert "permission denied" in res.stderr and "empty" not in res.stderr + res.stdout, argv


def test_a_store_that_is_a_file_only_costs_the_warning(sandbox: Sandbox) -> None:
    (sandbox.root / "f").write_text("")
    res = sandbox.run("check", str(MAIL), "--no-checkpatch", "--store", "f", "--json")
    assert res.returncode in (0, 1), res.stderr
    assert json.loads(res.stdout)["findings"] is not None
    assert "series not kept" in res.stderr and "Errno" not in res.stderr


def test_a_missing_file_is_named_as_one_not_as_a_store_miss(sandbox: Sandbox) -> None:
    assert sandbox.run("fetch", str(MAIL), "--offline", "-q").returncode == 0
    for key, why in (("./nothere.mbox", "no such file or directory"), ("sub/x", "no such file or directory")):
        res = sandbox.run("check", key, "--no-checkpatch")
        assert res.returncode == 2
        assert res.stderr.strip().splitlines() == [f"reviewtool: error: cannot read {key}: {why}"]


def test_check_of_a_closed_standard_input_is_one_line(sandbox: Sandbox) -> None:
    res = sandbox.run("check", "-", "--no-checkpatch", stdin=None, then=lambda: os.close(0))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "reviewtool: error: standard input is closed: give SERIES as a file, or pipe a mail in"]
