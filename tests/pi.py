"""A real public-inbox v2 inbox served by a real public-inbox-httpd on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PublicInbox:
    """One inbox named `name` under `root`, served over HTTP on a free loopback port."""

    def __init__(self, root: Path, name: str = "kexec") -> None:
        self.root = root
        self.name = name
        self.port = free_port()
        self.env = dict(os.environ, PI_CONFIG=str(root / "pi-config"), HOME=str(root))
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/{name}"
        subprocess.run(
            ["public-inbox-init", "-V2", "-L", "full", name, str(root / "inboxes" / name),
             self.url, f"{name}@lists.example.org"],
            env=self.env, check=True, capture_output=True, timeout=60,
        )

    def add(self, files: Iterable[Path]) -> None:
        """Deliver mail files into the inbox (imported and indexed)."""
        paths = [str(f) for f in files]
        subprocess.run(["perl", str(HERE / "pi_import.pl"), self.name, *paths],
                       env=self.env, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["public-inbox-httpd", "-W0", "-l", f"http://127.0.0.1:{self.port}",
             "-1", str(self.root / "httpd.out"), "-2", str(self.root / "httpd.err")],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"public-inbox-httpd did not answer on {self.url}")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None

    def access_log(self) -> str:
        p = self.root / "httpd.err"
        return p.read_text(errors="replace") if p.exists() else ""
