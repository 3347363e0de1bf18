#!/usr/bin/env python3
"""Benchmark `reviewtool check` against checkpatch.pl on a generated 15-patch arm64 series.

The series is made with git in a temporary repository (kernel-like files; 20-169 changed
lines a patch, about 530 in all, like the series measured in ref/rebase-and-lint-perf.md),
exported with `git format-patch` (cover letter, threaded, base-commit) and joined into
series.mbox. Then, median of --runs runs each:

  a. `reviewtool check series.mbox --no-checkpatch` as a subprocess: reading the mail, every
     rule and analyzer, keeping the series and the result in a temporary store;
  b. `reviewtool check ID --no-checkpatch`: the same series from the store;
  c. `checkpatch.pl --no-tree` on each of the 15 patch files, one run each, in sequence;
  d. `checkpatch.pl --no-tree` once over all 15 patch files;
and the floor under (a): a Python that only imports the standard-library and third-party
modules a check of series.mbox imports, and the same check run again in a warm process
(everything imported, every regular expression compiled, and the C parse caches kept: a
lower bound of the work).

Python writes no bytecode when PYTHONDONTWRITEBYTECODE is set (as in some sandboxes); the
timed runs drop it and a warm-up run writes the .pyc files, as an installed tool has them.

    .venv/bin/python benchmarks/bench_check.py [--runs 5] [--checkpatch PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVIEWTOOL = [sys.executable, "-m", "reviewtool"]

FILES = {
    "arch/arm64/kernel/machine_kexec.c": "c", "arch/arm64/kernel/relocate_kernel.S": "asm",
    "arch/arm64/include/asm/kexec.h": "h", "arch/arm64/mm/trans_pgd.c": "c",
    "arch/arm64/include/asm/trans_pgd.h": "h", "arch/arm64/kernel/asm-offsets.c": "c",
    "arch/arm64/kernel/machine_kexec_file.c": "c", "arch/arm64/kernel/kexec_image.c": "c",
    "arch/arm64/kernel/hibernate.c": "c", "arch/arm64/Kconfig": "kconfig",
    "Documentation/arch/arm64/kdump.rst": "doc",
}
# (file, changed lines) for each of the 15 patches
PLAN = [
    ("arch/arm64/kernel/machine_kexec.c", 20), ("arch/arm64/include/asm/kexec.h", 35),
    ("arch/arm64/kernel/machine_kexec.c", 169), ("arch/arm64/mm/trans_pgd.c", 40),
    ("arch/arm64/include/asm/trans_pgd.h", 25), ("arch/arm64/kernel/relocate_kernel.S", 60),
    ("arch/arm64/kernel/asm-offsets.c", 30), ("arch/arm64/kernel/machine_kexec.c", 45),
    ("arch/arm64/Kconfig", 22), ("arch/arm64/kernel/machine_kexec_file.c", 28),
    ("arch/arm64/kernel/relocate_kernel.S", 38), ("arch/arm64/kernel/machine_kexec.c", 50),
    ("arch/arm64/kernel/kexec_image.c", 24), ("arch/arm64/kernel/hibernate.c", 30),
    ("Documentation/arch/arm64/kdump.rst", 21),
]


def c_function(rng: random.Random, name: str, size: int) -> list[str]:
    out = [f"static int {name}(struct kimage *kimage, unsigned long flags)", "{", "\tint rc = 0, i;",
           "\tvoid *page;", ""]
    while len(out) < size - 3:
        k = rng.randrange(1000)
        pick = rng.randrange(6)
        if pick == 0:
            out += [f"\tpage = kzalloc(sizeof(struct kexec_part_{k}), GFP_KERNEL);", "\tif (!page)",
                    "\t\treturn -ENOMEM;"]
        elif pick == 1:
            out += ["\tfor (i = 0; i < kimage->nr_segments; i++) {", f"\t\trc = kexec_do_segment_{k}(kimage, i);",
                    "\t\tif (rc)", "\t\t\tbreak;", "\t}"]
        elif pick == 2:
            out += [f"\tpr_debug(\"segment {k}: %lx\\n\", kimage->segment[{k % 16}].mem);"]
        elif pick == 3:
            out += ["\tdcache_clean_inval_poc((unsigned long)page,", "\t\t\t       (unsigned long)page + PAGE_SIZE);"]
        elif pick == 4:
            out += ["\t/*", f"\t * Step {k}: keep the page tables and the list of pages in sync",
                    "\t * with what the relocation code expects to find.", "\t */"]
        else:
            out += [f"\tkimage->arch.field_{k} = __pa(page);"]
    return out + ["\treturn rc;", "}", ""]


def asm_function(rng: random.Random, name: str, size: int) -> list[str]:
    out = [f"SYM_CODE_START({name})"]
    while len(out) < size - 2:
        r = rng.randrange(28)
        out.append(rng.choice([f"\tldr\tx{r}, [x0, #KIMAGE_HEAD]", f"\tadd\tx{r}, x{r}, #PAGE_SIZE",
                               f"\tcmp\tx{r}, x{(r + 1) % 28}", "\tb.ne\t1f", f"\tstr\tx{r}, [x1], #8",
                               f"\tmov\tx{r}, xzr", "1:"]))
    return out + [f"SYM_CODE_END({name})", ""]


def other_block(kind: str, name: str, size: int) -> list[str]:
    if kind == "kconfig":
        out = []
        for i in range(size // 5):
            out += [f"config ARM64_{name.upper()}_{i}", f"\tbool \"Option {i} for {name}\"",
                    "\tdepends on KEXEC_CORE", "\thelp", f"\t  Option {i} of the kexec relocation."]
        return out + [""]
    if kind == "h":
        return [f"int {name}_{i}(struct kimage *kimage, unsigned long arg);" for i in range(size - 1)] + [""]
    return [f"Paragraph {i} about {name}: what the crash kernel needs and how it is loaded." for i in range(size - 1)] + [""]


def block(rng: random.Random, kind: str, name: str, size: int) -> list[str]:
    if kind == "c":
        return c_function(rng, name, size)
    if kind == "asm":
        return asm_function(rng, name, size)
    return other_block(kind, name, size)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.org",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env=env, timeout=120).stdout


def make_series(work: Path) -> Path:
    """Build the repository and the 15 patches; return the directory of .patch files."""
    rng = random.Random(15)
    repo = work / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    for path, kind in FILES.items():
        f = repo / path
        f.parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        for i in range(10):
            lines += block(rng, kind, f"base_{f.stem.replace('-', '_').replace('.', '_')}_{i}", 30)
        f.write_text("\n".join(lines) + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    for n, (path, size) in enumerate(PLAN, 1):
        f = repo / path
        lines = f.read_text().split("\n")
        # rewrite a few lines of an existing block, and add a new block of the planned size
        at = 35 + 2 * n
        lines[at] = lines[at].replace("rc", "ret") + " /* reworked */"
        new = block(rng, FILES[path], f"kexec_step_{n}", max(8, size - 2))
        lines[60:60] = new
        f.write_text("\n".join(lines))
        git(repo, "commit", "-q", "-a", "-m",
            f"arm64: kexec: step {n} of the MMU-on relocation\n\nStep {n}: rework part of the kexec "
            f"relocation so that it can run with the MMU on.\n\nSigned-off-by: Bench Author <bench@example.org>")
    out = work / "patches"
    git(repo, "format-patch", "-q", "--cover-letter", "--thread=shallow", f"--base={base}", "-o", str(out),
        f"{base}..HEAD")
    return out


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one run, waited for with a blocking wait.

    `subprocess.run(timeout=...)` polls the child with sleeps that double up to 50 ms, which
    rounds every time up to the next step (0.0635, 0.1135, 0.1635 s ...); a timer kills a
    run that hangs instead.
    """
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    killer = threading.Timer(600, proc.kill)
    killer.start()
    try:
        proc.wait()
    finally:
        killer.cancel()
    return time.perf_counter() - t


_FLOOR_CHILD = """
import json, sys, time, io, contextlib
from reviewtool.cli import main
argv, runs = json.loads(sys.argv[1]), int(sys.argv[2])
times = []
for _ in range(runs + 1):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)
    times.append(time.perf_counter() - t)
print(json.dumps({"warm": times[1:], "modules": sorted(sys.modules)}))
"""


def floor(check_argv: list[str], runs: int, env: dict[str, str]) -> tuple[tuple[float, float, float], int,
                                                                           tuple[float, float, float]]:
    """(importing the library modules a check imports, how many, the check in a warm process)."""
    out = json.loads(subprocess.run([sys.executable, "-c", _FLOOR_CHILD, json.dumps(check_argv), str(runs)], env=env,
                                    check=True, capture_output=True, text=True, timeout=600).stdout)
    warm = sorted(out["warm"])
    builtin = set(sys.builtin_module_names) | {"__main__", "site", "sitecustomize", "_distutils_hack"}
    modules = [m for m in out["modules"] if not m.startswith(("reviewtool", "encodings", "__editable__"))
               and m not in builtin and not m.startswith("_frozen")]
    code = "import " + ", ".join(modules)
    imports = median_of(runs, lambda: timed([sys.executable, "-c", code], env))
    return imports, len(modules), (statistics.median(warm), warm[0], warm[-1])


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, float, float]:
    times = [fn() for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--checkpatch", help="checkpatch.pl (default: scripts/get-checkpatch.sh's cache)")
    ap.add_argument("--keep", help="keep the generated series and store in this directory")
    args = ap.parse_args()

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        patches = make_series(work)
        files = sorted(p for p in patches.glob("*.patch") if not p.name.startswith("0000-"))
        changed = sum(int(x) for p in files for x in
                      subprocess.run(["git", "apply", "--numstat", str(p)], capture_output=True, text=True,
                                     check=True, timeout=60).stdout.split()[:2])
        store = work / "store"
        mbox = work / "series.mbox"
        mbox.write_bytes(b"".join(p.read_bytes() for p in sorted(patches.glob("*.patch"))))
        subprocess.run([*REVIEWTOOL, "fetch", str(patches), "--offline", "--store", str(store), "-q"],
                       check=True, env=env, timeout=300, stdout=subprocess.DEVNULL)
        listing = json.loads(subprocess.run([*REVIEWTOOL, "list", "--store", str(store), "--json"], env=env,
                                            check=True, capture_output=True, text=True, timeout=60).stdout)
        sid = listing[0]["id"]
        check_cmd = [*REVIEWTOOL, "check", sid, "--store", str(store), "--no-checkpatch"]
        warm = subprocess.run([*check_cmd, "--json"], env=env, capture_output=True, text=True, timeout=300)
        result = json.loads(warm.stdout)
        rt = median_of(args.runs, lambda: timed(check_cmd, env))
        mbox_cmd = [*REVIEWTOOL, "check", str(mbox), "--store", str(work / "store-mbox"), "--no-checkpatch"]
        timed(mbox_cmd, env)  # warm-up: .pyc files
        rt_mbox = median_of(args.runs, lambda: timed(mbox_cmd, env))
        imports, n_modules, warm = floor(mbox_cmd[3:], args.runs, env)

        script = args.checkpatch or subprocess.run(
            ["bash", str(ROOT / "scripts" / "get-checkpatch.sh")], capture_output=True, text=True, check=True,
            timeout=900).stdout.strip().splitlines()[-1]
        perl = shutil.which("perl") or "perl"
        cp = [perl, script, "--no-tree", "-q"]
        each = median_of(args.runs, lambda: sum(timed([*cp, str(p)], env) for p in files))
        once = median_of(args.runs, lambda: timed([*cp, *map(str, files)], env))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"series: {len(files)} patches, {changed} changed lines; "
          f"{len(result['rules_run'])} rules and analyzers; {len(result['findings'])} findings, "
          f"{len(result['checklist'])} checklist items")
    print("in-process phases (s): " + ", ".join(f"{k} {v:.3f}" for k, v in result["timings"].items()))
    print(f"{'case':<52} {'median s':>9} {'min':>7} {'max':>7}")
    for name, (med, lo, hi) in (("reviewtool check series.mbox (no checkpatch)", rt_mbox),
                                ("reviewtool check ID, from the store (no checkpatch)", rt),
                                ("checkpatch.pl --no-tree, 15 separate runs", each),
                                ("checkpatch.pl --no-tree, one run over all 15", once)):
        print(f"{name:<52} {med:>9.3f} {lo:>7.3f} {hi:>7.3f}")
    print(f"{'floor: importing its ' + str(n_modules) + ' library modules':<52} "
          f"{imports[0]:>9.3f} {imports[1]:>7.3f} {imports[2]:>7.3f}")
    print(f"{'floor: the same check again, in a warm process':<52} {warm[0]:>9.3f} {warm[1]:>7.3f} {warm[2]:>7.3f}")
    for what, t in (("check series.mbox", rt_mbox[0]), ("check ID", rt[0])):
        print(f"speed-up of {what}: {each[0] / t:.1f}x vs 15 checkpatch runs, {once[0] / t:.1f}x vs one run")
    print(f"floor of check series.mbox (library imports + warm work): {imports[0] + warm[0]:.3f} s, "
          f"{each[0] / (imports[0] + warm[0]):.1f}x vs 15 checkpatch runs")
    ratio = each[0] / rt_mbox[0]
    print(f"target, check series.mbox >= 20x faster than 15 checkpatch runs: {'met' if ratio >= 20 else 'NOT met'} "
          f"({ratio:.1f}x); <= 0.1 s on this machine: {'met' if rt_mbox[0] <= 0.1 else 'NOT met'} "
          f"({rt_mbox[0]:.3f} s, floor {imports[0] + warm[0]:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
