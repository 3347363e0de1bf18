#!/usr/bin/env python3
"""Benchmark: apply a 15-patch arm64 series onto a kernel-size tree, four ways.

    python benchmarks/bench_rebase.py [--cache DIR] [--runs 5] [--settle 5] [--skip-a]

Needs Debian's kernel source (`apt-get install -y linux-source-6.12`). The first run
unpacks it to the cache (default ~/.cache/reviewtool-bench, outside this repository),
makes it a git repository (Debian's trailing `/*` ignore block removed, `git add -A -f`,
one commit, tag `bench-base`, repacked), generates the series as commits and mails and a
target `bench-target` = bench-base + 300 unrelated commits (git fast-import) + two
commits next to the series' hunks (patch 02 then needs a 3-way merge, patch 05
conflicts). Later runs reuse all of it.

Timed, median of RUNS after one warm-up run that also gives the peak RSS (the largest
single process, from getrusage of a wrapper):
  floor  `git merge-tree --write-tree` cherry-pick of the 15 commits (3 git calls each)
  (c)    `reviewtool rebase SERIES --onto bench-target` (the series fetched beforehand)
  (b)    sparse worktree of the touched paths + `b4 shazam` (am flags -3) + remove
  (a)    `git worktree add` + `git am -3` (skipping the conflict) + `git worktree remove`

With --histories, the trees maintainers and CI have, with the same 15 patches mailed without
`base-commit:` (so nothing tells the base): (a) a one-commit import of the target's tree,
(b) a `git clone --depth 1` of the target, (c) the target with its history; on each,
`reviewtool rebase` against `b4 shazam` and `git am -3` (the worktree cases above), and on
(c) three targets in one run against one. Medians of RUNS, peak RSS of each process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
SCENARIO = "bench-scenario-v1"
IDENT = {"GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.org",
         "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.org",
         "GIT_AUTHOR_DATE": "2024-12-02T00:00:00Z", "GIT_COMMITTER_DATE": "2024-12-02T00:00:00Z"}
K = "arch/arm64/kernel/"
# (file, fraction of the file where the patch inserts a block, lines in the block)
SERIES: list[tuple[str, list[tuple[str, float | None, int]]]] = [
    ("arm64: kexec: add the KHO state to kimage_arch",
     [("arch/arm64/include/asm/kexec.h", 0.55, 14), (K + "machine_kexec.c", 0.15, 22)]),
    ("arm64: kexec: describe the relocation registers",  # 3-way: upstream edits its context
     [(K + "relocate_kernel.S", 0.30, 12)]),
    ("arm64: trans_pgd: allow a caller-provided allocator limit",
     [("arch/arm64/mm/trans_pgd.c", 0.40, 40), ("arch/arm64/include/asm/trans_pgd.h", 0.70, 6)]),
    ("arm64: kexec: add asm-offsets for the KHO fields",
     [(K + "asm-offsets.c", 0.60, 8)]),
    ("arm64: kexec: preserve the KHO area across relocation",  # conflicts: upstream rewrote its line
     [(K + "machine_kexec.c", 0.35, 30)]),
    ("arm64: Kconfig: add ARM64_KEXEC_HANDOVER",
     [("arch/arm64/Kconfig", 0.45, 12)]),
    ("arm64: kexec: add kexec_handover.c",
     [(K + "kexec_handover.c", None, 120), (K + "Makefile", 0.50, 2)]),
    ("arm64: kexec: hand the KHO FDT to the next kernel",
     [(K + "machine_kexec.c", 0.55, 25)]),
    ("arm64: kexec_file: load the KHO scratch area",
     [(K + "machine_kexec_file.c", 0.50, 35)]),
    ("arm64: kexec_image: refuse images without KHO support when asked",
     [(K + "kexec_image.c", 0.60, 20)]),
    ("arm64: kexec: flush the KHO area at load time",
     [(K + "machine_kexec.c", 0.72, 18)]),
    ("arm64: hibernate: keep the KHO area out of the image",
     [(K + "hibernate.c", 0.50, 24)]),
    ("arm64: kexec: report the KHO area in kexec_image_info",
     [(K + "machine_kexec.c", 0.88, 10)]),
    ("Documentation: arm64: describe Kexec HandOver",
     [("Documentation/arch/arm64/kdump.rst", 0.90, 30)]),
    ("MAINTAINERS: add the arm64 KHO files",
     [("MAINTAINERS", 0.40, 6)]),
]
THREE_WAY_PATCH, CONFLICT_PATCH = 2, 5


# --- helpers ------------------------------------------------------------------------------


def git(repo: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
        check: bool = True, cwd: Path | None = None) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full.update(IDENT, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    full.update(env or {})
    out = subprocess.run(["git", "-C", str(cwd or repo), *args], input=input, capture_output=True,
                         env=full, timeout=3600, check=False)
    if check and out.returncode != 0:
        raise SystemExit(f"git {' '.join(args[:3])} failed: {out.stderr.decode(errors='replace')[-500:]}")
    return out.stdout.decode("utf-8", "replace")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_kernel(cache: Path) -> Path:
    repo = cache / "linux-source-6.12"
    if (repo / ".git").is_dir() and git(repo, "tag", "-l", "bench-base").strip():
        return repo
    if not TARBALL.exists():
        raise SystemExit(f"{TARBALL} is missing: apt-get install -y linux-source-6.12")
    cache.mkdir(parents=True, exist_ok=True)
    if not repo.is_dir():
        say(f"unpacking {TARBALL} (about 20 s)...")
        with tarfile.open(TARBALL) as tar:
            tar.extractall(cache, filter="tar")
    ignore = repo / ".gitignore"
    text = ignore.read_text()
    cut = text.rfind("#\n# Debian packaging")
    if cut >= 0:
        ignore.write_text(text[:cut])
    say("git init + add -A -f + commit (about a minute)...")
    git(repo, "init", "-q", "-b", "master")
    git(repo, "config", "gc.auto", "0")
    git(repo, "add", "-A", "-f")
    git(repo, "commit", "-q", "-m", "Linux 6.12 (Debian linux-source-6.12)")
    git(repo, "tag", "bench-base")
    say("git repack -a -d (a few minutes)...")
    git(repo, "repack", "-a", "-d", "-q")
    return repo


def _block(title: str, path: str, n: int, salt: int) -> list[str]:
    if path.endswith((".rst", "MAINTAINERS")) or path.endswith("Kconfig") or path.endswith("Makefile"):
        if path.endswith("Kconfig"):
            lines = ["", "config ARM64_KEXEC_HANDOVER", '\tbool "Kexec HandOver (KHO) support"',
                     "\tdepends on KEXEC_FILE", "\thelp"]
            lines += [f"\t  Keep memory state {i} across kexec for the next kernel." for i in range(n - 5)]
            return lines
        if path.endswith("Makefile"):
            return ["obj-$(CONFIG_ARM64_KEXEC_HANDOVER)\t+= kexec_handover.o"][:n] + [""] * max(0, n - 1)
        if path == "MAINTAINERS":
            return ["ARM64 KEXEC HANDOVER", "M:\tBench Author <bench@example.org>",
                    "L:\tkexec@lists.infradead.org", "S:\tMaintained",
                    "F:\tarch/arm64/kernel/kexec_handover.c", ""][:n]
        return [f"Kexec HandOver keeps selected memory across kexec ({salt}.{i})." for i in range(n)]
    if path.endswith(".S"):
        return [f"\t/* {title}: step {i} keeps x{i % 30} for the copy loop */" for i in range(n)]
    body = [f"/* {title} */", f"static int kho_step_{salt}(struct kimage *kimage)", "{"]
    body += [f"\tkimage->arch.kho_state[{i}] = {i};" for i in range(max(0, n - 5))]
    body += ["\treturn 0;", "}"]
    return body[:n] if n < len(body) else body


def _anchor(lines: list[str], frac: float) -> int:
    """Index after which to insert: the first blank line at or after frac of the file whose
    two lines before are non-blank and unique in the file (so upstream can find them)."""
    start = int(len(lines) * frac)
    for i in range(max(start, 2), len(lines)):
        before = lines[i - 2:i]
        if not lines[i].strip() and all(b.strip() and lines.count(b) == 1 for b in before):
            return i
    raise SystemExit(f"no anchor after {frac:.0%} of a {len(lines)}-line file")


def build_scenario(repo: Path, cache: Path) -> dict[str, str]:
    """The series (commits + mbox) and the target; cached under refs/tags/bench-*."""
    state = cache / f"{SCENARIO}.json"
    if state.exists() and git(repo, "tag", "-l", "bench-target").strip():
        data: dict[str, str] = json.loads(state.read_text())
        return data
    say("generating the series and the target...")
    base = git(repo, "rev-parse", "bench-base^{commit}").strip()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scenario.", dir=cache))
    env = {"GIT_INDEX_FILE": str(tmp / "index")}
    git(repo, "read-tree", base, env=env)
    parent = base
    anchors: dict[int, tuple[str, int, str]] = {}
    for n, (title, edits) in enumerate(SERIES, start=1):
        for path, frac, size in edits:
            if frac is None:
                text = "// SPDX-License-Identifier: GPL-2.0-only\n" + "\n".join(_block(title, path, size, n)) + "\n"
            else:
                lines = git(repo, "cat-file", "blob", f"{parent}:{path}").split("\n")
                at = _anchor(lines, frac)
                anchors.setdefault(n, (path, at, lines[at - 2] + "\n" + lines[at - 1]))
                block = _block(title, path, size, n)
                if n == CONFLICT_PATCH:  # also rewrite the line before the block
                    lines[at - 1] = lines[at - 1] + " /* KHO: keep */"
                lines[at + 1:at + 1] = block
                text = "\n".join(lines)
            oid = git(repo, "hash-object", "-w", "--stdin", input=text.encode()).strip()
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{oid},{path}", env=env)
        tree = git(repo, "write-tree", env=env).strip()
        msg = f"{title}\n\nBench series patch {n}.\n\nSigned-off-by: Bench Author <bench@example.org>\n"
        parent = git(repo, "commit-tree", tree, "-p", parent, input=msg.encode()).strip()
    git(repo, "update-ref", "refs/heads/bench-series", parent)
    series_dir = cache / "series"
    shutil.rmtree(series_dir, ignore_errors=True)
    git(repo, "format-patch", "-q", "--cover-letter", "--thread", "--base=bench-base",
        "--subject-prefix=PATCH v3", "-o", str(series_dir), "bench-base..bench-series")
    mbox = b"".join(p.read_bytes() for p in sorted(series_dir.glob("*.patch")))
    (cache / "series.mbox").write_bytes(mbox)
    _make_target(repo, base, anchors, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    data = {"base": base, "series": parent, "target": git(repo, "rev-parse", "bench-target^{commit}").strip()}
    state.write_text(json.dumps(data))
    return data


def _make_target(repo: Path, base: str, anchors: dict[int, tuple[str, int, str]], tmp: Path) -> None:
    """bench-base + 300 unrelated one-file commits + two next to the series (fast-import)."""
    files = [ln for ln in git(repo, "ls-tree", "-r", "--name-only", base, "--", "drivers").split("\n")
             if ln.endswith(".c")]
    picked = files[:: max(1, len(files) // 300)][:300]
    out = bytearray(b"")
    t = 1733097600

    def commit(message: str, changes: list[tuple[str, bytes]], first: bool) -> None:
        nonlocal t
        t += 60
        out.extend(f"commit refs/heads/bench-target\ncommitter Up Stream <up@example.org> {t} +0000\n".encode())
        data = message.encode()
        out.extend(b"data %d\n" % len(data) + data + b"\n")
        if first:
            out.extend(f"from {base}\n".encode())
        for path, content in changes:
            out.extend(f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(content) + content + b"\n")

    reloc_path, _, reloc_lines = anchors[THREE_WAY_PATCH]
    conf_path, _, conf_lines = anchors[CONFLICT_PATCH]
    for i, path in enumerate(picked):
        content = git(repo, "cat-file", "blob", f"{base}:{path}").encode() + f"/* upstream {i} */\n".encode()
        commit(f"drivers: unrelated change {i}\n", [(path, content)], first=(i == 0))
        if i == 100:  # a line in the context of patch 02: plain apply fails, 3-way is clean
            lines = git(repo, "cat-file", "blob", f"{base}:{reloc_path}").split("\n")
            k = lines.index(reloc_lines.split("\n")[0])  # the first context line of patch 02
            lines[k] = lines[k] + " /* upstream */"
            commit("arm64: relocate_kernel: note\n", [(reloc_path, "\n".join(lines).encode())], False)
        if i == 200:  # the line patch 05 rewrites, rewritten differently: a conflict
            lines = git(repo, "cat-file", "blob", f"{base}:{conf_path}").split("\n")
            k = lines.index(conf_lines.split("\n")[1])  # the line patch 05 rewrites
            lines[k] = lines[k] + " /* upstream rewrote this */"
            commit("arm64: kexec: upstream edit\n", [(conf_path, "\n".join(lines).encode())], False)
    git(repo, "fast-import", "--quiet", "--force", input=bytes(out))
    git(repo, "tag", "-f", "bench-target", "refs/heads/bench-target")


# --- the cases ----------------------------------------------------------------------------


def case_floor(repo: Path, data: dict[str, str], _cache: Path) -> None:
    commits = git(repo, "rev-list", "--reverse", f"{data['base']}..{data['series']}").split()
    tip = data["target"]
    for c in commits:
        ours = git(repo, "commit-tree", f"{tip}^{{tree}}", "-p", f"{c}^", input=b"x\n").strip()
        res = subprocess.run(["git", "-C", str(repo), "merge-tree", "--write-tree", ours, c],
                             capture_output=True, text=True, timeout=600, check=False)
        if res.returncode == 0:
            tree = res.stdout.split("\n", 1)[0]
            tip = git(repo, "commit-tree", tree, "-p", tip, input=b"y\n").strip()


def case_reviewtool(repo: Path, data: dict[str, str], cache: Path) -> None:
    env = dict(os.environ, REVIEWTOOL_STORE=str(cache / "store"))
    # A blocking wait: subprocess.run(timeout=...) polls with sleeps of up to 50 ms and would
    # round this one process's time up; a timer kills a run that hangs instead.
    proc = subprocess.Popen([sys.executable, "-m", "reviewtool", "rebase", data["series_id"], "--onto",
                             "bench-target", "--repo", str(repo), "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(600, proc.kill)
    killer.start()
    try:
        out, err = proc.communicate()
    finally:
        killer.cancel()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"reviewtool rebase failed: {err}")
    data["last_reviewtool"] = out


_IN_PROCESS = """
import sys, time
from pathlib import Path
from reviewtool.rebase import apply_series
from reviewtool.store import Store
series = Store(Path(sys.argv[1])).find(sys.argv[2])
t0 = time.perf_counter()
apply_series(series, "bench-target", repo=sys.argv[3])
print(time.perf_counter() - t0)
"""


def case_in_process(repo: Path, data: dict[str, str], cache: Path) -> float:
    """apply_series alone, timed inside the process: (c) without interpreter start and imports."""
    res = subprocess.run([sys.executable, "-c", _IN_PROCESS, str(cache / "store"), data["series_id"], str(repo)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    return float(res.stdout.strip())


def _am_all(wt: Path, am: list[str], extra: dict[str, str] | None = None) -> int:
    """Run git am (or b4 shazam) and skip past conflicts; the number of skips."""
    skips = 0
    first = subprocess.run(am, cwd=wt, capture_output=True, text=True, timeout=3600, check=False,
                           env=dict(os.environ, **IDENT, **(extra or {})))
    ok = first.returncode == 0
    while not ok and skips < 20:
        skips += 1
        res = subprocess.run(["git", "am", "--skip"], cwd=wt, capture_output=True, text=True, timeout=3600,
                             check=False, env=dict(os.environ, **IDENT))
        ok = res.returncode == 0
    return skips


def case_worktree_am(repo: Path, data: dict[str, str], cache: Path) -> None:
    wt = cache / "wt-a"
    subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(wt)], capture_output=True,
                   check=False)
    git(repo, "worktree", "add", "-q", "--detach", str(wt), "bench-target")
    try:
        data["skips_a"] = str(_am_all(wt, ["git", "am", "-3", "-q", str(cache / "series.mbox")]))
    finally:
        git(repo, "worktree", "remove", "--force", str(wt))


def case_sparse_b4(repo: Path, data: dict[str, str], cache: Path) -> None:
    wt = cache / "wt-b"
    subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(wt)], capture_output=True,
                   check=False)
    git(repo, "worktree", "add", "-q", "--no-checkout", "--detach", str(wt), "bench-target")
    try:
        paths = sorted({p for _t, edits in SERIES for p, _f, _n in edits})
        git(repo, "sparse-checkout", "set", "--no-cone", *paths, cwd=wt)
        git(repo, "checkout", "-q", "--detach", "bench-target", cwd=wt)
        b4 = str(Path(sys.executable).with_name("b4"))
        flags = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "b4.shazam-am-flags", "GIT_CONFIG_VALUE_0": "-3"}
        data["skips_b"] = str(_am_all(wt, [b4, "--offline-mode", "-q", "shazam", "-m",
                                           str(cache / "series.mbox")], flags))
    finally:
        git(repo, "worktree", "remove", "--force", str(wt))


CASES: dict[str, Callable[[Path, dict[str, str], Path], float | None]] = {
    "floor": case_floor, "c": case_reviewtool, "c-work": case_in_process, "b": case_sparse_b4,
    "a": case_worktree_am,
}
LABELS = {
    "floor": "floor: merge-tree cherry-pick of the 15 commits",
    "c": "(c) reviewtool rebase",
    "c-work": "    of which apply_series (timed in process)",
    "b": "(b) sparse worktree + b4 shazam (-3)",
    "a": "(a) git worktree add + git am -3 + remove",
}


def peak_rss(name: str, args: argparse.Namespace, series_id: str) -> float:
    """MiB: run the case once in a wrapper process and read its children's peak RSS."""
    cmd = [sys.executable, __file__, "--cache", str(args.cache), "--one", name, "--series-id", series_id]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if res.returncode != 0:
        raise SystemExit(f"warm-up of {name} failed: {res.stderr[-2000:]}")
    return float(res.stdout.strip().splitlines()[-1])


def ensure_histories(repo: Path, cache: Path) -> dict[str, Path]:
    """(a) a one-commit import of bench-target's tree (objects borrowed through alternates),
    (b) a `git clone --depth 1` of bench-target, (c) the repository itself; and the series
    mbox without base-commit:."""
    one, shallow = cache / "onecommit", cache / "shallow"
    if not (one / ".git").is_dir():
        git(one.parent, "init", "-q", "-b", "master", str(one))
        (one / ".git/objects/info/alternates").write_text(f"{repo / '.git/objects'}\n")
        tree = git(repo, "rev-parse", "refs/tags/bench-target^{tree}").strip()
        commit = git(one, "commit-tree", tree, "-m", "Linux 6.12 (import)").strip()
        git(one, "update-ref", "refs/heads/master", commit)
        git(one, "tag", "bench-target", commit)
    if not (shallow / ".git").is_dir():
        say("git clone --depth 1 (about 15 s)...")
        git(cache, "clone", "-q", "--depth", "1", "--branch", "bench-target", f"file://{repo}", str(shallow))
    nobase = cache / "series-nobase.mbox"
    if not nobase.exists():
        text = (cache / "series.mbox").read_bytes()
        nobase.write_bytes(b"".join(ln for ln in text.splitlines(keepends=True) if not ln.startswith(b"base-commit: ")))
    return {"a": one, "b": shallow, "c": repo}


def _timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB of the process (and its largest child) and its exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return took, usage.ru_maxrss / 1024, proc.returncode


def _am_case(tree: Path, mbox: Path, cache: Path, b4: bool) -> tuple[float, float]:
    wt = cache / ("wt-h-b4" if b4 else "wt-h-am")
    subprocess.run(["git", "-C", str(tree), "worktree", "remove", "--force", str(wt)], capture_output=True,
                   check=False)
    t0 = time.perf_counter()
    if b4:
        git(tree, "worktree", "add", "-q", "--no-checkout", "--detach", str(wt), "refs/tags/bench-target")
        paths = sorted({p for _t, edits in SERIES for p, _f, _n in edits})
        git(tree, "sparse-checkout", "set", "--no-cone", *paths, cwd=wt)
        git(tree, "checkout", "-q", "--detach", "refs/tags/bench-target", cwd=wt)
        flags = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "b4.shazam-am-flags", "GIT_CONFIG_VALUE_0": "-3"}
        _am_all(wt, [str(Path(sys.executable).with_name("b4")), "--offline-mode", "-q", "shazam", "-m",
                     str(mbox)], flags)
    else:
        git(tree, "worktree", "add", "-q", "--detach", str(wt), "refs/tags/bench-target")
        _am_all(wt, ["git", "am", "-3", "-q", str(mbox)])
    git(tree, "worktree", "remove", "--force", str(wt))
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def histories(args: argparse.Namespace, repo: Path) -> int:
    trees = ensure_histories(repo, args.cache)
    store = args.cache / "store-nobase"
    env = dict(os.environ, REVIEWTOOL_STORE=str(store))
    got = subprocess.run([sys.executable, "-m", "reviewtool", "fetch", str(args.cache / "series-nobase.mbox"),
                          "--offline", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    sid = str(json.loads(got.stdout)["id"])
    base = [sys.executable, "-m", "reviewtool", "rebase", sid, "--json"]
    three = ["--onto", "refs/tags/bench-target", "--onto", "refs/tags/bench-target~100",
             "--onto", "refs/tags/bench-base"]
    rows: list[tuple[str, float, float]] = []
    for name, tree in trees.items():
        for what, cmd in (("reviewtool rebase, one target", [*base, "--onto", "refs/tags/bench-target"]),
                          ("reviewtool rebase, three targets", [*base, *three])):
            if what.endswith("three targets") and name != "c":
                continue
            runs = [_timed([*cmd, "--repo", str(tree)], ROOT, env) for _ in range(args.runs)]
            if any(code not in (0, 1) for _t, _r, code in runs):
                raise SystemExit(f"reviewtool rebase failed on ({name})")
            rows.append((f"({name}) {what}", statistics.median(t for t, _r, _c in runs),
                         max(r for _t, r, _c in runs)))
            say(f"({name}) {what}: median {rows[-1][1]:.3f} s, {rows[-1][2]:.0f} MiB")
        if args.skip_a:
            continue
        for what, b4 in (("b4 shazam -3 (sparse worktree)", True), ("git worktree add + git am -3", False)):
            runs2 = [_am_case(tree, args.cache / "series-nobase.mbox", args.cache, b4) for _ in range(max(1, args.runs // 2))]
            rows.append((f"({name}) {what}", statistics.median(t for t, _r in runs2), max(r for _t, r in runs2)))
            say(f"({name}) {what}: median {rows[-1][1]:.3f} s")
    print(f"{'tree and tool (15 patches, no base-commit:)':52} {'median s':>9} {'peak RSS MiB':>13}")
    for label, med, rss in rows:
        print(f"{label:52} {med:9.3f} {rss:13.0f}")
    by = {label: med for label, med, _rss in rows}
    one, many = by.get("(c) reviewtool rebase, one target"), by.get("(c) reviewtool rebase, three targets")
    if one and many:
        print(f"three targets / one target = {many / one:.2f}x   (target: at most 2x)")
    print("targets: each reviewtool case at most 1 s and 300 MiB")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "reviewtool-bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of sync+sleep before each case")
    ap.add_argument("--skip-a", action="store_true", help="leave out the slow full-worktree case")
    ap.add_argument("--histories", action="store_true",
                    help="the one-commit import, the --depth 1 clone and the history, no base-commit:")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--series-id", help=argparse.SUPPRESS)
    args = ap.parse_args()
    repo = ensure_kernel(args.cache)
    data = build_scenario(repo, args.cache)
    if args.histories:
        return histories(args, repo)
    data["series_id"] = args.series_id or _fetch_once(args.cache)
    if args.one:
        CASES[args.one](repo, data, args.cache)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(max(ru, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if args.one == "floor" else 0) / 1024)
        return 0
    files = int(git(repo, "ls-tree", "-r", "--name-only", "bench-target").count("\n"))
    say(f"tree: {files} files; series: 15 patches; target: bench-base + "
        f"{git(repo, 'rev-list', '--count', 'bench-base..bench-target').strip()} commits")
    results: dict[str, tuple[float, float, float, float]] = {}
    for name in ("floor", "c", "c-work", "b", "a"):
        if name == "a" and args.skip_a:
            continue
        os.sync()
        time.sleep(args.settle)
        rss = peak_rss(name, args, data["series_id"])
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            inner = CASES[name](repo, data, args.cache)
            times.append(inner if inner is not None else time.perf_counter() - t0)
        results[name] = (statistics.median(times), min(times), max(times), rss)
        say(f"{LABELS[name]}: median {results[name][0]:.3f} s")
    _report(results, data)
    return 0


def _fetch_once(cache: Path) -> str:
    """Fetch the series mbox into the bench store (untimed), return its id."""
    store = cache / "store"
    env = dict(os.environ, REVIEWTOOL_STORE=str(store))
    res = subprocess.run([sys.executable, "-m", "reviewtool", "fetch", str(cache / "series.mbox"), "--offline",
                          "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if res.returncode != 0:
        raise SystemExit(f"reviewtool fetch failed: {res.stderr}")
    return str(json.loads(res.stdout)["id"])


def _report(results: dict[str, tuple[float, float, float, float]], data: dict[str, str]) -> None:
    print(f"{'case':48} {'median s':>9} {'min-max s':>14} {'peak RSS MiB':>13}")
    for name, (med, lo, hi, rss) in results.items():
        print(f"{LABELS[name]:48} {med:9.3f} {lo:6.2f}-{hi:<7.2f} {rss:13.0f}")
    if "last_reviewtool" in data:
        out = json.loads(data["last_reviewtool"])
        counts: dict[str, int] = {}
        for p in out["patches"]:
            counts[p["outcome"]] = counts.get(p["outcome"], 0) + 1
        print(f"reviewtool outcomes: {counts}")
    c = results.get("c")
    if c:
        if "floor" in results:
            print(f"(c) / floor = {c[0] / results['floor'][0]:.2f}x   (target: within 1.5x)")
            if "c-work" in results:
                print(f"(c) apply_series alone / floor = {results['c-work'][0] / results['floor'][0]:.2f}x")
        if "a" in results:
            print(f"(a) / (c)   = {results['a'][0] / c[0]:.1f}x   (target: at least 10x)")
        if "b" in results:
            print(f"(b) / (c)   = {results['b'][0] / c[0]:.1f}x")
        print(f"(c) peak RSS = {c[3]:.0f} MiB   (target: under 150 MiB)")


if __name__ == "__main__":
    sys.exit(main())
