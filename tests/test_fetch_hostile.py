"""fetch under hostile input: hostile mail, hostile servers, huge threads.

Every failure is one line on stderr and exit 2, or the fetch simply works. The servers here
are real HTTP servers on 127.0.0.1, each misbehaving in one way; the normal path is the real
public-inbox-httpd of tests/pi.py.
"""

from __future__ import annotations

import email
import email.utils
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import b4
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.cli import main
from reviewtool.errors import ReviewtoolError
from reviewtool.fetch import am, fetch, limits, mbox
from reviewtool.model import to_json
from tests.conftest import MAIL, mails
from tests.pi import PublicInbox
from tests.test_fetch import fail  # exit 2, one line on stderr, no traceback

ROOT = Path(__file__).resolve().parent.parent
V2_COVER = "20210809215402.804942-1-pasha.tatashin@example.org"
V2_P1 = "20210809215402.804942-2-pasha.tatashin@example.org"
LORE = "https://lore.kernel.org/all"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return dict(json.loads(out.out))


def stored(store: Path) -> list[Path]:
    root = store / "series"
    return sorted(root.iterdir()) if root.exists() else []


def as_mbox(raws: list[bytes]) -> bytes:
    return b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + r.rstrip(b"\n") + b"\n\n" for r in raws)


def thread_mbox() -> bytes:
    return as_mbox([f.read_bytes() for f in mails("")])


# --- a misbehaving HTTP server on 127.0.0.1 ------------------------------------------------


def _gzip_of_zeros(total: int) -> Iterator[bytes]:
    """A gzip stream of `total` zero bytes (forever if total < 0), made as it is sent."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    sent = 0
    while total < 0 or sent < total:
        out = z.compress(block)
        sent += len(block)
        if out:
            yield out
    yield z.flush()


class Hostile(BaseHTTPRequestHandler):
    """GET /<behaviour>/<msgid>/t.mbox.gz answers as <behaviour> says."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes
    stopping: threading.Event
    thread: bytes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _head(self, code: int, ctype: str = "application/gzip", **headers: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _stream(self, chunks: Iterator[bytes], pause: float = 0.0) -> None:
        deadline = time.monotonic() + 60
        try:
            for chunk in chunks:
                if self.stopping.is_set() or time.monotonic() > deadline:
                    return
                self.wfile.write(chunk)
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except OSError:  # the client gave up: that is the point
            return

    def do_HEAD(self) -> None:
        self._head(404, "text/plain")

    def do_GET(self) -> None:
        what = self.path.strip("/").split("/")[0]
        good = gzip.compress(self.thread)
        if what == "good":  # two gzip members, as a server may send
            half = len(self.thread) // 2
            self._head(200)
            self.wfile.write(gzip.compress(self.thread[:half]) + gzip.compress(self.thread[half:]))
        elif what == "plain":
            self._head(200, "text/plain")
            self.wfile.write(self.thread)
        elif what == "moved":
            self._head(302, "text/plain", Location=self.path.replace("/moved/", "/good/", 1))
        elif what == "html":
            self._head(200, "text/html; charset=utf-8")
            self.wfile.write(b"<!DOCTYPE html><html><body>Please enable JavaScript</body></html>\n" * 50)
        elif what == "corrupt":
            self._head(200)
            self.wfile.write(good[:10] + bytes(range(256)) * 40)
        elif what == "tofile":
            self._head(302, "text/plain", Location="file:///etc/passwd")
        elif what == "loop":
            self._head(302, "text/plain", Location=self.path)
        elif what == "cut":  # promises more than it sends, then hangs up
            self._head(200, Content_Length=str(len(good) * 10))
            self.wfile.write(good[: len(good) // 2])
        elif what == "truncated":  # no length, a gzip stream that stops half way
            self._head(200)
            self.wfile.write(good[: len(good) // 2])
        elif what == "bomb":
            self._head(200)
            self._stream(_gzip_of_zeros(64 << 20))
        elif what == "endless":
            self._head(200)
            self._stream(_gzip_of_zeros(-1))
        elif what == "endlessplain":
            self._head(200, "text/plain")
            self._stream(iter(lambda: b"From x@y Thu Jan  1 00:00:00 1970\nSubject: x\n\n" + b"a\n" * 30000, None))
        elif what == "trickle":  # a byte at a time, for ever
            self._head(200)
            self._stream((good[i % len(good): i % len(good) + 1] for i in range(10 ** 6)), pause=0.2)
        elif what == "slowheaders":  # the headers themselves never end
            self._stream(iter([b"HTTP/1.0 200 OK\r\n"] + [b"X-Wait: a\r\n"] * 10 ** 6), pause=0.2)
        else:
            self._head(404, "text/plain")


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """http://127.0.0.1:PORT, where /<behaviour>/... misbehaves (see Hostile)."""
    stopping = threading.Event()
    handler = type("H", (Hostile,), {"stopping": stopping, "thread": thread_mbox()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()


# A small launcher forks the command, so that its peak RSS is its own: a process started from
# pytest directly is credited with pytest's own peak at exec time (Linux keeps the higher of the
# two in ru_maxrss), and the suite's memory would decide the test.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "reviewtool", *sys.argv[2:]])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def cli(*argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str, str, int]:
    """Run `python -m reviewtool` in a process: (exit code, stdout, stderr, its peak RSS in KiB)."""
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, rss.name, *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=ROOT,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            raise AssertionError(f"reviewtool {' '.join(argv)} took more than {timeout} s") from None
        peak = int(rss.read() or 0)
    return proc.returncode, out.decode(), err.decode(), peak


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("reviewtool: error: "), err
    return lines[0]


# --- 1. hostile mail: addresses, nesting -----------------------------------------------------


def patch_mail(sender: bytes = b"Pavel Tatashin <pasha.tatashin@example.org>", *, extra: bytes = b"",
               msgid: str = V2_P1) -> bytes:
    """The fixture's patch 1/6 with another From: and more headers."""
    src = (MAIL / "v2-01.eml").read_bytes()
    src = src.replace(b"From: Pavel Tatashin <pasha.tatashin@example.org>", b"From: " + sender, 1)
    src = src.replace(f"Message-Id: <{V2_P1}>".encode(), f"Message-Id: <{msgid}>".encode(), 1)
    return src.replace(b"MIME-Version: 1.0\n", b"MIME-Version: 1.0\n" + extra, 1)


def reply(sender: bytes, body: bytes, msgid: str, parent: str = V2_P1, *, extra: bytes = b"") -> bytes:
    return (b"From: " + sender + b"\nSubject: Re: [PATCH v2 1/6] arm64: kexec: flush image\n"
            b"Date: Tue, 10 Aug 2021 09:00:00 +0100\nMessage-Id: <" + msgid.encode() + b">\n"
            b"In-Reply-To: <" + parent.encode() + b">\nReferences: <" + parent.encode() + b">\n" + extra +
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body)


def nested_multipart(depth: int) -> bytes:
    opening = b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(depth))
    closing = b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    return b"Content-Type: multipart/mixed; boundary=b0\n\n" + opening + (
        b"--b%d\nContent-Type: text/plain\n\nhello\n--b%d--\n" % (depth, depth)) + closing


def write(path: Path, *raws: bytes) -> str:
    path.write_bytes(as_mbox(list(raws)))
    return str(path)


def test_raw_utf8_author_address_is_kept_in_series_and_am_mbox(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "t.mbox", patch_mail("Jörg <jörg@exämple.org>".encode()))
    d = run_json(capsys, "fetch", src, "--offline")
    assert d["author"] == d["patches"][0]["author"] == "Jörg <jörg@exämple.org>"
    am = (store / "series" / d["id"] / "am.mbox").read_bytes()
    assert "\nFrom: Jörg <jörg@exämple.org>\n".encode() in am
    # git am reads the author back as it was sent.
    info = subprocess.run(["git", "mailinfo", "--encoding=UTF-8", os.devnull, os.devnull], input=am,
                          capture_output=True, check=True, timeout=30).stdout.decode()
    assert "Author: Jörg\nEmail: jörg@exämple.org\n" in info


def test_at_sign_in_display_name_is_read_not_a_traceback(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "t.mbox", patch_mail("Jo Ä@b <a@b.org>".encode()))
    d = run_json(capsys, "fetch", src, "--offline")
    assert [p["index"] for p in d["patches"]] == [1]
    assert (store / "series" / d["id"] / "am.mbox").read_bytes().count(b"From git@z") == 1


def test_raw_utf8_addresses_in_recipients_and_trailers(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patch = patch_mail(extra="Cc: Jörg <jörg@exämple.org>, Jo Ä@b <a@b.org>, =?utf-8?q?R=C3=A9mi?= <r@x.org>\n"
                       .encode())
    review = reply("Jörg <jörg@exämple.org>".encode(), "Nice.\n\nReviewed-by: Jörg <jörg@exämple.org>\n".encode(),
                   "r1@exämple.org")
    d = run_json(capsys, "fetch", write(tmp_path / "t.mbox", patch, review), "--offline")
    p = d["patches"][0]
    assert "Jörg <jörg@exämple.org>" in p["cc"]
    assert ("Reviewed-by", "Jörg <jörg@exämple.org>") in {(t["name"], t["value"]) for t in p["trailers"]}
    am = (store / "series" / d["id"] / "am.mbox").read_bytes()
    assert "Reviewed-by: Jörg <jörg@exämple.org>\n".encode() in am


def test_thousand_nested_multiparts_alone_is_one_line(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = patch_mail(extra=nested_multipart(1000))
    assert len(bomb) > 60_000
    line = fail(capsys, "fetch", write(tmp_path / "t.mbox", bomb), "--offline")
    assert "could not be read" in line and "nested too deeply" in line
    assert stored(store) == []


def test_nested_multipart_reply_is_left_out_and_the_thread_still_fetches(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d").mkdir()
    for f in mails("v2-"):
        (tmp_path / "d" / f.name).write_bytes(f.read_bytes())
    for n, depth in ((1, 1000), (2, limits.MAX_MIME_DEPTH + 1)):
        (tmp_path / "d" / f"evil{n}.eml").write_bytes(
            reply(b"Evil <e@x.org>", b"", f"evil{n}@x.org", extra=nested_multipart(depth)))
    d = run_json(capsys, "fetch", str(tmp_path / "d"), "--offline")
    assert [p["index"] for p in d["patches"]] == [1, 2, 3, 4, 5, 6]
    assert any(w.startswith("2 message(s) could not be read") for w in d["warnings"]), d["warnings"]


def test_headers_nested_past_the_parser_are_one_line_or_read(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = b"(" * 1000 + b")" * 1000
    for n, extra in enumerate([b"To: " + deep + b" a@b.org\n", b"References: " + deep + b" <x@y>\n",
                               b"Content-Type: text/plain; charset=" + deep + b"utf-8\n"]):
        src = write(tmp_path / f"t{n}.mbox", patch_mail(extra=extra))
        code = main(["fetch", src, "--offline"])
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err and "internal error" not in err, err
        if code == 2:
            one_error_line(err)
    line = fail(capsys, "fetch", write(tmp_path / "f.mbox", patch_mail(deep + b" Pavel <p@example.org>")),
                "--offline")
    assert "b4 failed on it (RecursionError)" in line


# --- 2. the network path: every transport error is one line --------------------------------


@pytest.mark.parametrize("url", ["file:///srv/lore", "ftp://lore.example.org/all", "http://", "https:///all",
                                 "http://[::1", "http://lore.example.org:99999/all", "lore.kernel.org/all",
                                 "http://lore.example.org/all?x=1", "http://lore .example.org/all"])
def test_lore_url_must_be_http_or_https_with_a_host(
        url: str, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fail(capsys, "fetch", V2_COVER, "--lore-url", url)
    assert "is not an http:// or https:// URL with a host" in line
    assert stored(store) == []


@pytest.mark.parametrize("behaviour,expect", [
    ("html", "answered with text/html; charset=utf-8, not an mbox"),
    ("corrupt", "is not valid gzip data"),
    ("tofile", "redirects to 'file:///etc/passwd', which is not http(s): not following it"),
    ("loop", "redirects more than 5 times (a redirect loop?)"),
    ("cut", "was cut short before the answer was complete"),
    ("truncated", "the answer was cut short (the gzip data is incomplete)"),
])
def test_misbehaving_server_is_one_line(behaviour: str, expect: str, hostile_server: str, store: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    line = fail(capsys, "fetch", V2_COVER, "--lore-url", f"{hostile_server}/{behaviour}")
    assert expect in line
    assert stored(store) == []


@pytest.mark.parametrize("behaviour", ["good", "plain", "moved"])
def test_gzip_members_plain_mbox_and_a_redirect_still_fetch(
        behaviour: str, hostile_server: str, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", V2_COVER, "--lore-url", f"{hostile_server}/{behaviour}")
    assert d["revision"] == 2 and [p["index"] for p in d["patches"]] == [1, 2, 3, 4, 5, 6]


def test_transport_errors_are_fetch_errors_with_one_line(hostile_server: str) -> None:
    from reviewtool.errors import FetchError

    for behaviour in ("html", "corrupt", "tofile", "loop", "cut", "truncated"):
        with pytest.raises(FetchError) as e:
            fetch(V2_COVER, lore_url=f"{hostile_server}/{behaviour}")
        assert "\n" not in str(e.value)


# --- 3. limits: size, time, and no cache ---------------------------------------------------


def cached_mail(cache: Path) -> list[Path]:
    """Files under XDG_CACHE_HOME other than reviewtool's compiled regexes (rx.py), which hold
    nothing read from the input."""
    return [p for p in cache.rglob("*") if p.is_file() and p.relative_to(cache) != Path("reviewtool/regex.cache")]


def test_gzip_bomb_is_refused_at_the_size_limit_in_little_memory(hostile_server: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    code, _out, err, rss_kib = cli("fetch", V2_COVER, "--lore-url", f"{hostile_server}/bomb",
                                   "--store", str(tmp_path / "store"),
                                   env={"REVIEWTOOL_MAX_INPUT_MIB": "4", "XDG_CACHE_HOME": str(cache)})
    assert code == 2, err
    line = one_error_line(err)
    assert "is larger than 4 MiB (decompressed): refusing it" in line and "REVIEWTOOL_MAX_INPUT_MIB" in line
    assert rss_kib < 160 * 1024  # the server offers 64 MiB: none of it is held past the limit
    assert cached_mail(cache) == []
    assert not (tmp_path / "store").exists() or stored(tmp_path / "store") == []


@pytest.mark.parametrize("behaviour", ["endless", "endlessplain"])
def test_endless_answer_stops_at_the_size_limit(behaviour: str, hostile_server: str, store: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWTOOL_MAX_INPUT_MIB", "2")
    line = fail(capsys, "fetch", V2_COVER, "--lore-url", f"{hostile_server}/{behaviour}")
    assert "is larger than 2 MiB" in line


@pytest.mark.parametrize("behaviour", ["trickle", "slowheaders"])
def test_slow_server_hits_the_one_deadline(behaviour: str, hostile_server: str, store: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWTOOL_FETCH_TIMEOUT", "1.5")
    t0 = time.monotonic()
    line = fail(capsys, "fetch", V2_COVER, "--lore-url", f"{hostile_server}/{behaviour}")
    assert time.monotonic() - t0 < 6
    assert "no complete answer from" in line and "within 1.5 s" in line and "REVIEWTOOL_FETCH_TIMEOUT" in line


def test_deadline_comes_from_git_config_and_bad_values_are_one_line(
        hostile_server: str, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "gitconfig"
    cfg.write_text("[reviewtool]\n\tfetchtimeout = 1\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    assert "within 1 s" in fail(capsys, "fetch", V2_COVER, "--lore-url", f"{hostile_server}/trickle")
    for bad in ("soon", "0", "-3", "nan", "inf"):
        monkeypatch.setenv("REVIEWTOOL_FETCH_TIMEOUT", bad)
        assert "is not a number of seconds" in fail(capsys, "fetch", V2_COVER, "--lore-url", hostile_server)
    monkeypatch.delenv("REVIEWTOOL_FETCH_TIMEOUT")
    monkeypatch.setenv("REVIEWTOOL_MAX_INPUT_MIB", "lots")
    assert "is not a number of MiB" in fail(capsys, "fetch", str(MAIL), "--offline")


def test_fetch_from_public_inbox_leaves_nothing_in_b4s_cache(public_inbox: PublicInbox, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    code, out, err, _rss = cli("fetch", V2_COVER, "--lore-url", public_inbox.url, "--json",
                               "--store", str(tmp_path / "store"), env={"XDG_CACHE_HOME": str(cache)})
    assert code == 0, err
    assert json.loads(out)["expected"] == 6
    assert cached_mail(cache) == []


def test_local_input_limit_counts_all_files_of_a_directory(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWTOOL_MAX_INPUT_MIB", "1")
    (tmp_path / "d").mkdir()
    for n in range(3):  # each under the limit, together over it
        (tmp_path / "d" / f"{n}.eml").write_bytes(patch_mail(msgid=f"p{n}@x") + b"x" * 400_000 + b"\n")
    line = fail(capsys, "fetch", str(tmp_path / "d"), "--offline")
    assert "(its files together) is larger than 1 MiB" in line


# --- 4. and 5. size: big patches, big series, deep threads -----------------------------------


def big_patch(lines: int) -> bytes:
    added = b"".join(b"+static const char line_%07d[] = \"generated for the fetch test\";\n" % i
                     for i in range(lines))
    return (b"From: A U Thor <a@example.org>\nSubject: [PATCH] add a generated table\n"
            b"Date: Mon, 09 Aug 2021 17:54:02 -0400\nMessage-Id: <big@example.org>\n\n"
            b"Add a table.\n\nSigned-off-by: A U Thor <a@example.org>\n---\n"
            b"diff --git a/table.c b/table.c\nnew file mode 100644\nindex 0000000..1111111\n"
            b"--- /dev/null\n+++ b/table.c\n@@ -0,0 +1,%d @@\n" % lines + added + b"-- \n2.39.5\n")


def test_a_200k_line_patch_fetches_in_linear_time(tmp_path: Path) -> None:
    # 13 MB: b4's get_msg_as_bytes, which grows one bytes object line by line, spent minutes
    # on it; written in one join it takes a few seconds. The timeout only guards against that.
    (tmp_path / "big.eml").write_bytes(big_patch(200_000))
    code, out, err, _rss = cli("fetch", str(tmp_path / "big.eml"), "--offline", "--json",
                               "--store", str(tmp_path / "store"), timeout=60)
    assert code == 0, err
    d = json.loads(out)
    assert d["patches"][0]["diff"].count("\n+static const char line_") == 200_000
    am = (tmp_path / "store" / "series" / d["id"] / "am.mbox").read_bytes()
    assert am.count(b"\n+static const char line_") == 200_000


def series_mbox(n: int, numbers: list[int] | None = None, width: int | None = None) -> bytes:
    """n patches of a series of n (or just the patches `numbers` of it)."""
    width = width or len(str(n))
    raws = [f"From: A U Thor <a@example.org>\nSubject: [PATCH {0:0{width}d}/{n}] a series\n"
            f"Date: Mon, 09 Aug 2021 17:54:02 -0400\nMessage-Id: <s0@example.org>\n\nCover.\n".encode()]
    for i in numbers or range(1, n + 1):
        raws.append(f"From: A U Thor <a@example.org>\nSubject: [PATCH {i:0{width}d}/{n}] change f{i}\n"
                    f"Date: Mon, 09 Aug 2021 17:54:02 -0400\nMessage-Id: <s{i}@example.org>\n"
                    f"In-Reply-To: <s0@example.org>\n\nChange f{i}.\n\nSigned-off-by: A U Thor <a@example.org>\n"
                    f"---\ndiff --git a/f{i} b/f{i}\n--- a/f{i}\n+++ b/f{i}\n@@ -1 +1 @@\n-a\n+b\n".encode())
    return as_mbox(raws)


def test_series_past_the_maximum_is_refused_in_one_line(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = limits.MAX_SERIES_PATCHES + 1
    (tmp_path / "s.mbox").write_bytes(series_mbox(n))
    t0 = time.monotonic()
    line = fail(capsys, "fetch", str(tmp_path / "s.mbox"), "--offline")
    assert f"has {n} patches: more than reviewtool reads in one series (at most 2000)" in line
    assert time.monotonic() - t0 < 30  # refused before b4 reads the messages
    assert stored(store) == []


def test_thread_past_the_message_limit_is_refused(tmp_path: Path, store: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    n = limits.MAX_THREAD_MESSAGES + 1
    (tmp_path / "t.mbox").write_bytes(as_mbox([b"Subject: x\nMessage-Id: <m%d@x>\n\nx\n" % i for i in range(n)]))
    line = fail(capsys, "fetch", str(tmp_path / "t.mbox"), "--offline")
    assert f"holds {n} messages: more than reviewtool reads in one thread (at most 10000)" in line


def chain(depth: int, *, trailers: int = 0) -> bytes:
    """A patch and a chain of `depth` replies, each answering the one before."""
    raws = [big_patch(3).replace(b"<big@example.org>", b"<c0@example.org>")]
    for i in range(1, depth + 1):
        given = "".join(f"Tested-by: R{i} <r{i}@example.org>\n" for _ in range(trailers))
        raws.append(f"From: R{i} <r{i}@example.org>\nSubject: Re: [PATCH] add a generated table\n"
                    f"Date: Tue, 10 Aug 2021 09:00:00 +0100\nMessage-Id: <c{i}@example.org>\n"
                    f"In-Reply-To: <c{i - 1}@example.org>\nReferences: <c0@example.org> <c{i - 1}@example.org>\n"
                    f"\n> quoted\n\nAnswer {i}.\n\n{given}".encode())
    return as_mbox(raws)


def test_a_3000_deep_chain_of_replies_fetches_in_linear_time(tmp_path: Path) -> None:
    # b4 walks from each reply up to its patch gathering trailers: cubic in the depth
    # (minutes here). Replies past MAX_REPLY_DEPTH are read as replies, not walked.
    (tmp_path / "c.mbox").write_bytes(chain(3000, trailers=1))
    code, out, err, _rss = cli("fetch", str(tmp_path / "c.mbox"), "--offline", "--json",
                               "--store", str(tmp_path / "store"), timeout=60)
    assert code == 0, err
    d = json.loads(out)
    assert len(d["replies"]) == 3000
    assert f"{3000 - limits.MAX_REPLY_DEPTH} repl(ies) nested more than 100 deep" in " ".join(d["warnings"])
    given = {t["value"] for t in d["patches"][0]["trailers"]}
    assert "R1 <r1@example.org>" in given and "R99 <r99@example.org>" in given
    assert "R2000 <r2000@example.org>" not in given


def test_patch_given_more_trailers_than_the_maximum_is_refused(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.mbox").write_bytes(chain(limits.MAX_PATCH_TRAILERS // 2, trailers=3))
    d = run_json(capsys, "fetch", str(tmp_path / "ok.mbox"), "--offline")  # repeats count once
    assert len(d["patches"][0]["trailers"]) == limits.MAX_PATCH_TRAILERS // 2
    raws = [big_patch(3)]
    for i in range(limits.MAX_PATCH_TRAILERS + 1):  # each reply answers the patch itself
        raws.append(f"From: R{i} <r{i}@example.org>\nSubject: Re: [PATCH] add a generated table\n"
                    f"Message-Id: <w{i}@example.org>\nIn-Reply-To: <big@example.org>\n\n"
                    f"Tested-by: R{i} <r{i}@example.org>\n".encode())
    (tmp_path / "many.mbox").write_bytes(as_mbox(raws))
    line = fail(capsys, "fetch", str(tmp_path / "many.mbox"), "--offline")
    assert "patch 1/1 in" in line and "more than reviewtool takes (at most 200)" in line


def b4s_own_am_mbox(msgs: list[email.message.EmailMessage]) -> bytes:
    """The am mbox as b4 alone makes it (b4 configured as fetch configures it)."""
    lmbx = b4.LoreMailbox()
    for m in msgs:
        lmbx.add_message(m)
    lser = lmbx.get_series(codereview_trailers=False)
    out = io.BytesIO()
    b4.save_git_am_mbox(lser.get_am_ready(addlink=False, allowbadchars=True), out)
    return out.getvalue()


@pytest.mark.parametrize("thread", ["fixtures", "chain"])
def test_am_mbox_is_byte_identical_to_b4s(thread: str, tmp_path: Path) -> None:
    raw = thread_mbox() if thread == "fixtures" else chain(30, trailers=2)
    (tmp_path / "t.mbox").write_bytes(raw)
    got = fetch(str(tmp_path / "t.mbox"), lore_url=LORE, offline=True)
    assert got.am_mbox.count(b"From git@z") == len(got.series.patches)
    assert got.am_mbox == b4s_own_am_mbox(mbox.parse_all(mbox.split(raw), mbox.Unreadable()))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["plain line", "", "\r", "trailing cr\r", "crs\r\r\r", "caf\u00e9 \u2014 ok",
                                 "+added", "-removed", "From not a separator", ">From quoted", " \t"]),
                max_size=30),
       st.sampled_from(["A U Thor <a@example.org>", "J\u00f6rg Pr\u00fcfer <joerg@example.org>",
                        '"Last, First" <lf@example.org>', "=?utf-8?q?R=C3=A9mi?= <r@example.org>"]),
       st.sampled_from(["a subject", "a subject long enough that b4 has to wrap the header line across "
                        "more than one line of the am mbox, with some words"]))
def test_am_writer_matches_b4s_writer(lines: list[str], sender: str, subject: str) -> None:
    msg = email.message.EmailMessage()
    msg.add_header("Subject", f"[PATCH] {subject}")
    msg.add_header("From", sender)
    msg.add_header("Date", "Mon, 09 Aug 2021 17:54:02 -0400")
    msg.add_header("Message-Id", "<a@example.org>")
    msg.set_payload("\n".join(lines) + "\n", charset="utf-8")
    out = io.BytesIO()
    b4.save_git_am_mbox([msg], out)
    assert am.am_mbox([msg]) == out.getvalue()


# --- 6. patch numbers: far apart, or past what b4 reads --------------------------------------


def warnings_of(capsys: pytest.CaptureFixture[str], src: str) -> list[str]:
    assert main(["fetch", src, "--offline"]) == 0
    err = capsys.readouterr().err
    assert all(len(line) < 300 for line in err.splitlines()), err
    return [ln.removeprefix("warning: ") for ln in err.splitlines() if ln.startswith("warning: ")]


def test_missing_patches_collapse_into_runs_in_one_short_warning(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.mbox").write_bytes(series_mbox(5000, numbers=[1, 5000]))
    assert "thread incomplete: 4998 of 5000 patches not in this thread: 2-4999" in warnings_of(
        capsys, str(tmp_path / "a.mbox"))
    (tmp_path / "b.mbox").write_bytes(series_mbox(1000, numbers=list(range(1, 1001, 2))))
    found = [w for w in warnings_of(capsys, str(tmp_path / "b.mbox")) if w.startswith("thread incomplete")]
    assert found == ["thread incomplete: 500 of 1000 patches not in this thread: 2, 4, 6, 8, 10, 12, ..."]


def test_five_digit_patch_numbers_are_reported(tmp_path: Path, store: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.mbox").write_bytes(series_mbox(10001, numbers=[10000, 10001]))
    found = [w for w in warnings_of(capsys, str(tmp_path / "s.mbox")) if "numbered past" in w]
    assert found == ["3 message(s) numbered past 9999/9999 (00000/10001, 10000/10001, ...): b4 reads at most "
                     "four digits, so each was taken as a single patch"]


def test_four_digit_numbers_give_no_such_warning(tmp_path: Path, store: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.mbox").write_bytes(series_mbox(9999, numbers=[1, 9999]))
    assert not [w for w in warnings_of(capsys, str(tmp_path / "s.mbox")) if "numbered past" in w]


# --- 7. the property: any mail either fetches or is one line of the project's error ----------

_ADDRESSES = st.one_of(
    st.sampled_from([
        "Jörg <jörg@exämple.org>", "Jo Ä@b <a@b.org>", "=?utf-8?q?R=C3=A9mi_Ma=40x?= <r@x.org>",
        "=?bogus-8?b?////?= <a@b.org>", "=?utf-8?b?////?=", "", "<>", "@", "a@", "undisclosed-recipients:;",
        '"Last, First" <lf@example.org>', "x@y (Comment (nested))", "(" * 300 + ")" * 300 + " <c@d.org>",
        "A <a@b.org>, B <b@c.org>,, ,", "J\udcf6rg <j@x.org>", "\x1b[31mred\x1b[0m <r@x.org>",
    ]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(lambda t: f"{t} <{t}@x.org>"),
)
_SUBJECTS = st.one_of(
    st.builds(lambda pre, n, m, rest: f"{pre}[PATCH v{n} {n}/{m}] {rest}",
              st.sampled_from(["", "Re: ", "Aw: Re: ", "[RFC]"]), st.integers(0, 120_000),
              st.integers(0, 120_000), st.sampled_from(["x", "[/]", "[link=x]y[/link]", "[bold]b", ""])),
    st.sampled_from(["[PATCH] fix", "[PATCH 1/2] a", "[PATCH 2/2] b", "[PATCH 0/2] cover", "Re: [PATCH 1/2] a",
                     "=?utf-8?q?=5BPATCH_1/1=5D_caf=C3=A9?=", "[PATCH 1/1]\x00\x07\x1b]8;;http://x\x1b\\t",
                     "[PATCH 00001/00002] padded", "[PATCH 10000/10001] far", "[PATCH\t1/1]\r y"]),
    st.text(max_size=40),
)
_MSGIDS = st.sampled_from(["<p0@x>", "<p1@x>", "<p2@x>", "<r1@x>", "<r2@x>", "", "<>", "<a@b> (comment)",
                           "<ex\u00e4mple@x>", "(" * 300 + ")" * 300 + " <p1@x>", "garbage"])
_BODIES = st.sampled_from([
    "Fix it.\n\nSigned-off-by: A <a@b.org>\n---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n",
    "Fix it.\n---\ndiff --git a/../../etc/passwd b/../../etc/passwd\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
    "> quoted\n\nReviewed-by: Jörg <jörg@exämple.org>\nAcked-by: =?utf-8?q?x?= <x@y>\n",
    "Tested-by: \x1b[31m[link=file:///x]me[/link] <m@e.org>\n", "", "\r\n\r\n", "caf\u00e9 \u2014 \ud7ff\n",
    "From here on\n>From there\n-- \n2.39\n",
])
_PARTS = st.tuples(
    st.sampled_from(["text/plain", "text/x-patch", "text/html", "application/octet-stream", "bogus", ""]),
    st.sampled_from(["utf-8", "iso-8859-1", "bogus-7", "", "utf-7"]),
    st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", ""]),
)


def _encode(body: str, charset: str, cte: str) -> bytes:
    try:
        data = body.encode(charset or "utf-8", errors="surrogateescape")
    except (LookupError, UnicodeError):
        data = body.encode("utf-8", errors="surrogateescape")
    if cte == "base64":
        import base64

        return base64.encodebytes(data)
    if cte == "quoted-printable":
        import quopri

        return quopri.encodestring(data)
    return data


@st.composite
def hostile_mail(draw: st.DrawFn) -> bytes:
    headers = [("From", draw(_ADDRESSES)), ("To", draw(_ADDRESSES)), ("Cc", draw(_ADDRESSES)),
               ("Subject", draw(_SUBJECTS)), ("Message-Id", draw(_MSGIDS)), ("In-Reply-To", draw(_MSGIDS)),
               ("References", draw(_MSGIDS)), ("Date", draw(st.sampled_from(
                   ["Mon, 09 Aug 2021 17:54:02 -0400", "yesterday", "", "Mon, 99 Foo 99999 99:99:99 +9999"])))]
    headers = [h for h in headers if draw(st.booleans()) or h[0] in ("Subject", "Message-Id")]
    ctype, charset, cte = draw(_PARTS)
    body = _encode(draw(_BODIES), charset, cte)
    depth = draw(st.sampled_from([0, 0, 1, 3, limits.MAX_MIME_DEPTH + 2]))
    head = b"".join(f"{n}: {v}\n".encode("utf-8", errors="surrogateescape") for n, v in headers)
    if draw(st.booleans()):  # 8-bit bytes that are not UTF-8 in a header
        head += b"X-Latin: caf\xe9\nSubject: second \xff subject\n"
    part = (f"Content-Type: {ctype}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n").encode() + body
    if depth:
        part = nested_multipart(depth).replace(b"Content-Type: text/plain\n\nhello\n", part, 1)
    return head + b"MIME-Version: 1.0\n" + part


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(hostile_mail(), min_size=1, max_size=5), st.booleans())
def test_any_mail_fetches_or_is_one_line_of_the_projects_error(
        tmp_path: Path, store: Path, mails_: list[bytes], one_file: bool) -> None:
    src = tmp_path / "h.mbox"
    src.write_bytes(as_mbox(mails_) if one_file or len(mails_) > 1 else mails_[0])
    try:
        got = fetch(str(src), lore_url=LORE, offline=True)
    except ReviewtoolError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert got.series.patches
    json.dumps(to_json(got.series), ensure_ascii=False).encode()  # what the store writes
