"""One thread mbox over HTTP(S), within limits: the only code in fetch/ that talks to a server.

public-inbox serves a thread as `<inbox>/<msgid>/t.mbox.gz`. It is streamed, gunzipped as it
arrives and refused past the input limit (decompressed), so a gzip bomb or an endless answer
costs no more memory than the limit; only http and https are followed (redirects too, at
most MAX_REDIRECTS); and the whole exchange, from resolving the host to the last byte, has
one deadline, enforced from outside the download so that no slow server can stretch it.
Nothing is cached: every fetch asks the server.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable

import requests
import urllib3

from reviewtool import __version__
from reviewtool.errors import FetchError, ReviewtoolError, SourceError
from reviewtool.fetch.limits import INPUT_ENV, TIMEOUT_ENV, size
from reviewtool.fetch.sources import check_url, shown

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_MBOX_START = b"From "
class _Download:
    """The GET (and redirects) of one URL, run in a worker thread so the caller can give up
    at the deadline whatever the server does (a trickle, a stall in the headers)."""

    def __init__(self, session: requests.Session, deadline: float, max_bytes: int) -> None:
        self.session = session
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.cancelled = threading.Event()
        self.response: requests.Response | None = None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0 or self.cancelled.is_set():
            raise _OutOfTime
        return left

    def request(self, method: str, url: str, data: dict[str, str] | None = None) -> requests.Response:
        """method url, redirects followed by hand: http(s) only, at most MAX_REDIRECTS."""
        for _hop in range(MAX_REDIRECTS + 1):
            left = self.remaining()
            resp = self.session.request(method, url, data=data, allow_redirects=False, stream=True,
                                        timeout=(left, left), headers={"Accept-Encoding": "identity"})
            if not resp.is_redirect:
                self.response = resp
                return resp
            target = urllib.parse.urljoin(url, resp.headers.get("Location", ""))
            resp.close()
            try:
                check_url(target.split("#", 1)[0].split("?", 1)[0])
            except SourceError:
                raise FetchError(f"{shown(url)} redirects to {shown(target)!r}, which is not http(s): "
                                 "not following it") from None
            url = target
        raise FetchError(f"{shown(url)} redirects more than {MAX_REDIRECTS} times (a redirect loop?)")

    def body(self, resp: requests.Response, what: str) -> bytes:
        """The mbox in resp's body (gzip'd as public-inbox sends it, or plain), streamed and
        refused past max_bytes, read or decompressed."""
        raw: urllib3.HTTPResponse = resp.raw
        head = b""
        sink: _Gunzip | _Plain | None = None
        received = 0
        while True:
            self.remaining()
            data = raw.read1(_CHUNK, decode_content=True)
            if not data:
                break
            received += len(data)
            if received > self.max_bytes:
                raise _TooBig
            if sink is None:
                head += data
                if len(head) < len(_MBOX_START):
                    continue
                sink, data = _sink(head, resp, self.max_bytes, what), head
            sink.feed(data)
        if sink is None:
            if not head:
                return b""
            sink = _sink(head, resp, self.max_bytes, what)
            sink.feed(head)
        return sink.result()

    def cancel(self) -> None:
        self.cancelled.set()
        resp = self.response
        if resp is not None:
            try:
                resp.raw.shutdown()  # wakes a read blocked on this socket
            except (ValueError, RuntimeError, OSError):
                pass


class _OutOfTime(Exception):
    pass


class _TooBig(Exception):
    pass


class _Gunzip:
    """gzip members, decompressed as they come, never more than `limit` bytes of output."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.out = bytearray()
        self.z = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes) -> None:
        try:
            while data:
                if self.z.eof:  # the next gzip member (public-inbox may send several)
                    self.z = zlib.decompressobj(wbits=31)
                self.out += self.z.decompress(data, self.limit + 1 - len(self.out))
                if len(self.out) > self.limit:
                    raise _TooBig
                data = self.z.unused_data if self.z.eof else self.z.unconsumed_tail
        except zlib.error as e:
            raise FetchError(f"{self.what}: the answer is not valid gzip data ({e})") from None

    def result(self) -> bytes:
        if not self.z.eof:
            raise FetchError(f"{self.what}: the answer was cut short (the gzip data is incomplete)")
        return bytes(self.out)


class _Plain:
    """An mbox sent without compression (a mirror, a proxy that decompressed it)."""

    def __init__(self) -> None:
        self.out = bytearray()

    def feed(self, data: bytes) -> None:
        self.out += data

    def result(self) -> bytes:
        return bytes(self.out)


def _sink(head: bytes, resp: requests.Response, limit: int, what: str) -> _Gunzip | _Plain:
    if head.startswith(_GZIP_MAGIC):
        return _Gunzip(limit, what)
    if head.startswith(_MBOX_START):
        return _Plain()
    ctype = shown(resp.headers.get("Content-Type", "") or "an unknown type", 60)
    raise FetchError(f"{what}: the server answered with {ctype}, not an mbox (gzip'd or plain)")


def _transport_error(e: BaseException, base: str) -> Exception:
    """One line for an error of requests, urllib3 or the socket (_OutOfTime for a timeout)."""
    if isinstance(e, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
        return _OutOfTime()
    if isinstance(e, requests.exceptions.SSLError):
        return FetchError(f"cannot fetch from {base}: TLS error ({shown(str(e), 160)})")
    reason = e.args[0] if e.args else None
    reason = getattr(reason, "reason", reason)  # requests wraps urllib3's MaxRetryError
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return FetchError(f"cannot reach {base}: no answer (is the server up?)")
    if isinstance(e, (requests.exceptions.ConnectionError, urllib3.exceptions.ProtocolError,
                      requests.exceptions.ChunkedEncodingError, ConnectionError)):
        return FetchError(f"the connection to {base} was cut short before the answer was complete")
    if isinstance(e, (urllib3.exceptions.DecodeError, requests.exceptions.ContentDecodingError)):
        return FetchError(f"{base} sent an answer that cannot be decoded ({shown(str(e), 160)})")
    return FetchError(f"cannot fetch from {base}: {shown(str(e) or type(e).__name__, 160)}")


def _fetch(job: _Download, base: str, msgid: str) -> bytes:
    qmsgid = urllib.parse.quote_plus(msgid)
    what = f"<{shown(msgid)}> from {base}"
    resp = job.request("GET", f"{base}/{qmsgid}/t.mbox.gz")
    if resp.status_code == 404:
        # As b4 (liblore) does: the message may be in another inbox of the same server, which
        # the server's own /<msgid>/ redirect names.
        resp.close()
        parts = urllib.parse.urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        head = job.request("HEAD", f"{origin}/{qmsgid}/")
        head.close()
        if head.status_code != 200:
            raise FetchError(f"<{shown(msgid)}> not found on {base}")
        found = urllib.parse.urlsplit(head.url).path.rstrip("/")
        resp = job.request("GET", f"{origin}{found}/t.mbox.gz")
    if resp.status_code == 404:
        raise FetchError(f"<{shown(msgid)}> not found on {base}")
    if resp.status_code != 200:
        raise FetchError(f"{base} answered HTTP {resp.status_code} for <{shown(msgid)}>")
    try:
        return job.body(resp, what)
    finally:
        resp.close()


def get_thread_mbox(base: str, msgid: str, *, timeout: float, max_bytes: int) -> bytes:
    """The thread of msgid from the public-inbox at base, as mbox bytes (b"" if it is empty)."""
    return _bounded(base, f"the thread of <{shown(msgid)}> from {base}", timeout, max_bytes,
                    lambda job: _fetch(job, base, msgid))


def search_mbox(base: str, query: str, *, timeout: float, max_bytes: int) -> bytes:
    """The mbox of the threads a public-inbox search finds (b"" when nothing matched), within
    the same deadline and size limit as a thread fetch."""
    url = f"{base}/?x=m&t=1&q={urllib.parse.quote_plus(query)}"

    def step(job: _Download) -> bytes:
        resp = job.request("POST", url, data={"x": "m"})
        try:
            if resp.status_code == 404:
                return b""
            if resp.status_code != 200:
                raise FetchError(f"the search on {base} answered HTTP {resp.status_code}")
            return job.body(resp, f"the search answer from {base}")
        finally:
            resp.close()

    return _bounded(base, f"the search answer from {base}", timeout, max_bytes, step)


def _bounded(base: str, what: str, timeout: float, max_bytes: int, step: Callable[[_Download], bytes]) -> bytes:
    """Run step (the requests of one download) in a worker thread under one deadline and
    size limit; every failure is one FetchError line naming the limit it hit."""
    check_url(base)
    outcome: list[bytes | BaseException] = []
    with requests.Session() as session:
        session.headers["User-Agent"] = f"reviewtool/{__version__}"
        job = _Download(session, time.monotonic() + timeout, max_bytes)

        def run() -> None:
            try:
                outcome.append(step(job))
            except (_OutOfTime, _TooBig, ReviewtoolError) as e:
                outcome.append(e)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as e:
                outcome.append(_transport_error(e, base))
            except BaseException as e:  # a bug: raised again in the caller's thread
                outcome.append(e)

        worker = threading.Thread(target=run, name="reviewtool-fetch", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive() or not outcome:
            job.cancel()
            result: bytes | BaseException = _OutOfTime()
        else:
            result = outcome[0]
    if isinstance(result, _OutOfTime):
        raise FetchError(f"no complete answer from {base} within {timeout:g} s "
                         f"(the fetch time limit; {TIMEOUT_ENV} sets it)")
    if isinstance(result, _TooBig):
        raise FetchError(f"{what} is larger than {size(max_bytes)} "
                         f"(decompressed): refusing it (the input size limit; {INPUT_ENV} sets it)")
    if isinstance(result, BaseException):
        raise result
    return result
