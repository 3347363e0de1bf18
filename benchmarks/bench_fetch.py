#!/usr/bin/env python3
"""Benchmark: `reviewtool fetch --offline` against `b4 am -m` on one generated thread.

The thread: a cover letter, 100 patches and 400 replies (a quarter of them carrying a
Reviewed-by/Acked-by/Tested-by), as one mbox. Both tools parse it, pick the revision,
collect the trailers and write an am-ready mbox. Prints the median of several rounds
and the ratio (target: reviewtool <= 1.1x b4).

    .venv/bin/python benchmarks/bench_fetch.py [--rounds 5] [--patches 100] [--replies 400]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent

HUNK = """\
@@ -{a},6 +{a},8 @@ static int kexec_step_{i}(struct kimage *kimage)
 \tunsigned long addr = kimage->start;
 \tint rc;
 
+\trc = kexec_prepare_step_{i}(kimage);
+\tif (rc)
+\t\treturn rc;
 \tflush_dcache_range(addr, addr + PAGE_SIZE);
-\treturn 0;
+\treturn rc;
 }}
"""


def patch_mail(i: int, n: int, cover: str) -> str:
    path = f"arch/arm64/kernel/kexec_step_{i % 20}.c"
    hunks = "".join(HUNK.format(a=10 + 40 * k, i=i * 10 + k) for k in range(4))
    return (f"From: Dev Eloper <dev@example.org>\nTo: kexec@lists.example.org\n"
            f"Subject: [PATCH v3 {i:03d}/{n}] arm64: kexec: step {i}\n"
            f"Date: Mon, 02 Aug 2021 17:{i % 60:02d}:00 -0400\n"
            f"Message-Id: <bench-{i}@example.org>\nIn-Reply-To: <{cover}>\nReferences: <{cover}>\n\n"
            f"Prepare step {i} at load time so that a failure is reported to\nkexec_load() "
            f"instead of at reboot.\n\nSigned-off-by: Dev Eloper <dev@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
            f"{hunks}-- \n2.30.2\n")


def reply_mail(j: int, n: int, cover: str) -> str:
    target = (j % n) + 1
    trailer = ["Reviewed-by: Rev Iewer <rev@example.com>", "Acked-by: Main Tainer <mt@example.com>",
               "Tested-by: Tes Ter <tt@example.net>", ""][j % 4]
    body = ("> +\trc = kexec_prepare_step(kimage);\n\nWhat happens when this fails at load time?\n"
            if not trailer else f"Looks good.\n\n{trailer}\n")
    return (f"From: Person {j} <p{j}@example.com>\nTo: kexec@lists.example.org\n"
            f"Subject: Re: [PATCH v3 {target:03d}/{n}] arm64: kexec: step {target}\n"
            f"Date: Tue, 03 Aug 2021 10:{j % 60:02d}:00 +0100\nMessage-Id: <reply-{j}@example.com>\n"
            f"In-Reply-To: <bench-{target}@example.org>\nReferences: <{cover}> <bench-{target}@example.org>\n\n"
            f"{body}")


def make_thread(path: Path, n: int, replies: int) -> None:
    cover = "bench-0@example.org"
    parts = [f"From: Dev Eloper <dev@example.org>\nTo: kexec@lists.example.org\n"
             f"Subject: [PATCH v3 000/{n}] arm64: kexec: a long series\n"
             f"Date: Mon, 02 Aug 2021 16:00:00 -0400\nMessage-Id: <{cover}>\n\nA long series.\n\n"
             f" {n} files changed\n\nbase-commit: {'a' * 40}\n"]
    parts += [patch_mail(i, n, cover) for i in range(1, n + 1)]
    parts += [reply_mail(j, n, cover) for j in range(replies)]
    with path.open("w") as out:
        for p in parts:
            out.write("From mboxrd@z Thu Jan  1 00:00:00 1970\n" + p + "\n")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of one run. A blocking wait: subprocess.run(timeout=...) polls with sleeps
    of up to 50 ms and rounds times up; a timer kills a run that hangs instead."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    killer = threading.Timer(600, proc.kill)
    killer.start()
    try:
        _, err = proc.communicate()
    finally:
        killer.cancel()
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed: {err.decode(errors='replace')[-500:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--patches", type=int, default=100)
    ap.add_argument("--replies", type=int, default=400)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    try:
        mbox = tmp / "thread.mbox"
        make_thread(mbox, args.patches, args.replies)
        env = dict(os.environ, HOME=str(tmp), XDG_CACHE_HOME=str(tmp / "cache"),
                   XDG_DATA_HOME=str(tmp / "data"), REVIEWTOOL_STORE=str(tmp / "store"))
        (tmp / "cwd").mkdir()  # not a git repository: b4 does no base-commit look-up
        cases = {
            "b4 am -m (offline)": [str(BIN / "b4"), "--offline-mode", "--no-stdin", "-q", "am", "-m",
                                   str(mbox), "-o", str(tmp / "b4out")],
            "reviewtool fetch --offline": [str(BIN / "reviewtool"), "-q", "fetch", str(mbox), "--offline",
                                           "--json"],
        }
        for argv in cases.values():  # warm-up (page cache, .pyc)
            timed(argv, env, tmp / "cwd")
        med = {}
        for name, argv in cases.items():
            runs = [timed(argv, env, tmp / "cwd") for _ in range(args.rounds)]
            med[name] = statistics.median(runs)
            print(f"{name:30s} median {med[name]:.3f} s  (min {min(runs):.3f}, max {max(runs):.3f}, "
                  f"{args.rounds} rounds)")
        ratio = med["reviewtool fetch --offline"] / med["b4 am -m (offline)"]
        print(f"thread: 1 cover + {args.patches} patches + {args.replies} replies "
              f"({mbox.stat().st_size / 1e6:.1f} MB)")
        print(f"ratio reviewtool/b4: {ratio:.2f}  (target <= 1.10)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
