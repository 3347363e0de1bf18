"""`reviewtool history` for a 15-patch series (v3, with v1 and v2 reviewed) against a loopback
public-inbox holding a large list: N generated mails (default 20,000; --mails 90000 for a
lore-sized list, whose import takes a while), indexed with full search.

    .venv/bin/python benchmarks/bench_history.py [--mails N]

Prints the wall time of the whole command (a process, as a user runs it) and, in process,
the time of its parts: the search over HTTP, reading the answer (b4), building the ledger.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pi import PublicInbox  # noqa: E402

PATCHES = 15


def filler(out: Path, n: int) -> list[Path]:
    """n unrelated mails: other series' patches and replies, in a few large files."""
    files = []
    per = 5000
    for k in range(0, n, per):
        p = out / f"filler-{k // per:03d}.mbox"
        with p.open("w") as f:
            for i in range(k, min(n, k + per)):
                f.write(f"From x@y Thu Jan  1 00:00:00 1970\nFrom: Dev {i % 97} <dev{i % 97}@example.net>\n"
                        f"Subject: [PATCH {i % 7 + 1}/7] subsys{i % 53}: change number {i}\n"
                        f"Date: Mon, 1 Jan 2024 {i % 24:02d}:{i % 60:02d}:00 +0000\n"
                        f"Message-ID: <filler-{i}@example.net>\n\n"
                        f"Change {i}.\n---\ndiff --git a/f{i % 300}.c b/f{i % 300}.c\n--- a/f{i % 300}.c\n"
                        f"+++ b/f{i % 300}.c\n@@ -1,1 +1,1 @@\n-old {i}\n+new {i}\n\n")
        files.append(p)
    return files


def series(out: Path) -> tuple[list[Path], str]:
    """v1..v3 of a 15-patch series with a review on every patch of v1 and v2."""
    paths = []
    for rev, day in ((1, 2), (2, 9), (3, 16)):
        tag = f"PATCH v{rev}" if rev > 1 else "PATCH"
        cover = f"bench-v{rev}-0@example.org"
        mails = [(cover, f"[{tag} 00/{PATCHES}] bench: a series", "Cover.\n", None)]
        for i in range(1, PATCHES + 1):
            body = (f"bench: change {i}\n\nSigned-off-by: A <a@example.org>\n---\n"
                    f"diff --git a/b{i}.c b/b{i}.c\n--- a/b{i}.c\n+++ b/b{i}.c\n@@ -1,3 +1,4 @@ int f{i}(void)\n"
                    f" {{\n+\tx{i} = kmalloc(8, GFP_KERNEL){';' if rev == 1 else '; /* v' + str(rev) + ' */'}\n"
                    f"\ty{i}();\n }}\n")
            mails.append((f"bench-v{rev}-{i}@example.org", f"[{tag} {i:02d}/{PATCHES}] bench: change {i}", body, cover))
            if rev < 3:
                mails.append((f"bench-r{rev}-{i}@example.org", f"Re: [{tag} {i:02d}/{PATCHES}] bench: change {i}",
                              f"> +\tx{i} = kmalloc(8, GFP_KERNEL);\n\nThis can fail.\n",
                              f"bench-v{rev}-{i}@example.org"))
        p = out / f"series-v{rev}.mbox"
        with p.open("w") as f:
            for mid, subject, body, parent in mails:
                who = "R <r@example.com>" if subject.startswith("Re:") else "A <a@example.org>"
                head = f"From x@y Thu Jan  1 00:00:00 1970\nFrom: {who}\nSubject: {subject}\n" \
                       f"Date: Tue, {day} Jan 2024 10:00:00 +0000\nMessage-ID: <{mid}>\n"
                if parent:
                    head += f"In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
                f.write(head + "\n" + body + "\n")
        paths.append(p)
    return paths, "bench-v3-0@example.org"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=20_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    pi = PublicInbox(work / "pi", name="big")
    t = time.monotonic()
    split = work / "split"
    split.mkdir()
    files = []
    for f in filler(work, args.mails):  # pi_import.pl takes one mail per file
        text = f.read_text()
        for k, m in enumerate(text.split("From x@y ")[1:]):
            p = split / f"{f.stem}-{k}.eml"
            p.write_text("From x@y " + m)
            files.append(p)
    mboxes, v3 = series(work)
    for s in mboxes:
        for k, m in enumerate(s.read_text().split("From x@y ")[1:]):
            p = split / f"{s.stem}-{k}.eml"
            p.write_text("From x@y " + m)
            files.append(p)
    for k in range(0, len(files), 2000):
        pi.add(files[k:k + 2000])
    print(f"imported {len(files)} mails in {time.monotonic() - t:.0f} s")
    pi.start()
    env = dict(os.environ, REVIEWTOOL_STORE=str(work / "store"))
    try:
        rt = str(Path(sys.executable).parent / "reviewtool")
        subprocess.run([rt, "-q", "fetch", v3, "--lore-url", pi.url], env=env, check=True, capture_output=True)
        for _ in range(2):
            t = time.monotonic()
            res = subprocess.run([rt, "history", v3, "--lore-url", pi.url, "--json"], env=env,
                                 capture_output=True, text=True)
            if res.returncode:
                sys.exit(f"history failed ({res.returncode}): {res.stderr}")
            out = res.stdout
            wall = time.monotonic() - t
        comments = len(json.loads(out)["comments"])
        print(f"history (process, second run): {wall:.2f} s wall, {comments} comments")
        os.environ["REVIEWTOOL_STORE"] = str(work / "store2")
        from reviewtool.fetch import revisions
        from reviewtool.history.ledger import Earlier, build
        from reviewtool.store import Store

        current = Store(work / "store").find(v3)
        t = time.monotonic()
        found = revisions.search(current, pi.url, timeout=60, max_bytes=1 << 28)
        t_search = time.monotonic() - t
        t = time.monotonic()
        build(current, [Earlier(f.series, f.found_by) for f in found])
        t_ledger = time.monotonic() - t
        print(f"in process: search + reading the threads {t_search:.2f} s, ledger {t_ledger:.3f} s")
    finally:
        pi.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
