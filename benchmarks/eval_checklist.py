#!/usr/bin/env python3
"""Measure the reviewer checklist on the labelled set of real review threads.

For each thread of benchmarks/checklist-set/labels-*.json, runs the real CLI,
`reviewtool check --format json MBOXDIR/<id>.patches.mbox` (a private store, no checkpatch
unless --checkpatch is given), and compares the categories of the needs-review checklist items
with the categories of the concerns the reviewers raised. Prints:

  - category recall without the concerns labelled `other` (no checklist category asks them): the
    headline; then over all concerns (micro), and the mean of that share over the threads with concerns;
  - recall per category (hits/total);
  - items per ack-only thread (threads on which reviewers raised nothing);
  - off-category items per concern thread (needs-review items of a category no reviewer raised
    on that thread);
  - per-rule precision: for each rule id behind a needs-review item, on how many threads it
    produced one, and the share of those threads where a reviewer raised that item's category;
  - the time taken.

The mails come from benchmarks/checklist-set/export.py (see benchmarks/checklist-set/README.md).
Run from the repository root:

    .venv/bin/python benchmarks/eval_checklist.py MBOXDIR [MBOXDIR...] [--only a01,a02] [--json out.json]

(several folders: each thread's mails are taken from the first that has them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SET_DIR = ROOT / "benchmarks" / "checklist-set"
sys.path.insert(0, str(SET_DIR))
from export import load_threads, only  # noqa: E402  (one reader of the label files, with its checks)

TAXONOMY_ORDER = [
    "kdump_impact", "alloc_failure", "relocation_path", "cache_maintenance", "el2_mode",
    "memory_reservation", "error_path", "locking_concurrency", "abi_compat", "kconfig_build", "docs",
    "commit_msg_trailers", "testing_request", "security_verification", "design_approach", "other",
]


def reviewtool_command(given: str | None) -> list[str]:
    """The CLI to run: --reviewtool, else the repository's venv entry point, else this Python's module."""
    if given:
        return [given]
    venv = ROOT / ".venv" / "bin" / "reviewtool"
    return [str(venv)] if venv.exists() else [sys.executable, "-m", "reviewtool"]


def run_check(cmd: list[str], mbox: Path, workdir: Path, checkpatch: str | None,
              history: list[str] | None = None) -> dict[str, Any]:
    """The JSON of `reviewtool check` on one mbox, with a store and caches of its own (history: the
    `--history ... --lore-url URL` arguments, or None)."""
    store = workdir / "store"
    env = dict(os.environ, REVIEWTOOL_STORE=str(store), XDG_CACHE_HOME=str(workdir / "cache"))
    args = [*cmd, "check", "--format", "json", "--fail-on", "never", "--store", str(store)]
    args += ["--checkpatch", checkpatch] if checkpatch else ["--no-checkpatch"]
    args += history or []
    out = subprocess.run([*args, "--", str(mbox)], capture_output=True, text=True, env=env, cwd=workdir,
                         timeout=600, check=False)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"reviewtool check exited {out.returncode}: {last}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def check_all(threads: list[dict[str, Any]], mboxdirs: list[Path], cmd: list[str], checkpatch: str | None,
              jobs: int, history: list[str] | None = None) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Needs-review checklist items per thread id, and the threads that could not be checked (with why)."""
    items: dict[str, list[dict[str, Any]]] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="eval-checklist-") as tmp:

        def one(t: dict[str, Any]) -> None:
            found = [d / f"{t['id']}.patches.mbox" for d in mboxdirs if (d / f"{t['id']}.patches.mbox").is_file()]
            if not found:
                failed[t["id"]] = (f"no {t['id']}.patches.mbox in {', '.join(map(str, mboxdirs))} "
                                   "(run benchmarks/checklist-set/export.py)")
                return
            mbox = found[0]
            work = Path(tmp) / t["id"]
            work.mkdir()
            try:
                result = run_check(cmd, mbox, work, checkpatch, history)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                failed[t["id"]] = str(e)
                return
            items[t["id"]] = [i for i in result.get("checklist", []) if i.get("status") == "needs-review"]

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, threads))
    return items, failed


def measure(threads: list[dict[str, Any]], items: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The numbers, from the labels and the needs-review items of each checked thread."""
    hits = total = 0
    per_thread: list[float] = []
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ack_items: list[int] = []
    off_items: list[int] = []
    rule_threads: dict[str, set[str]] = defaultdict(set)
    rule_raised: dict[str, set[str]] = defaultdict(set)
    rows: list[dict[str, Any]] = []
    for t in threads:
        if t["id"] not in items:
            continue
        got = items[t["id"]]
        flagged = {i["category"] for i in got}
        raised = {c["category"] for c in t.get("concerns", [])}
        for i in got:
            for rule in i.get("rules", []):
                rule_threads[rule].add(t["id"])
                if i["category"] in raised:
                    rule_raised[rule].add(t["id"])
        if t["kind"] == "ack-only":
            ack_items.append(len(got))
            rows.append({"id": t["id"], "kind": "ack-only", "items": len(got)})
            continue
        concerns = t.get("concerns", [])
        found = sum(c["category"] in flagged for c in concerns)
        for c in concerns:
            by_category[c["category"]][0] += c["category"] in flagged
            by_category[c["category"]][1] += 1
        hits += found
        total += len(concerns)
        if concerns:
            per_thread.append(found / len(concerns))
        off = sum(i["category"] not in raised for i in got)
        off_items.append(off)
        rows.append({"id": t["id"], "kind": "concerns", "items": len(got), "concerns": len(concerns),
                     "hits": found, "off_category_items": off,
                     "missed": sorted({c["category"] for c in concerns} - flagged)})
    order = {c: n for n, c in enumerate(TAXONOMY_ORDER)}
    rules = sorted(rule_threads, key=lambda r: (-len(rule_threads[r]), r))
    return {
        "threads_checked": len(items),
        "concerns": total,
        "recall_micro": hits / total if total else None,
        "recall_per_thread_mean": sum(per_thread) / len(per_thread) if per_thread else None,
        "recall_micro_without_other": _without_other(by_category),
        "recall_by_category": {c: {"hits": v[0], "total": v[1]}
                               for c, v in sorted(by_category.items(), key=lambda kv: order.get(kv[0], 99))},
        "ack_only_threads": len(ack_items),
        "items_per_ack_only_thread": sum(ack_items) / len(ack_items) if ack_items else None,
        "concern_threads": len(off_items),
        "off_category_items_per_concern_thread": sum(off_items) / len(off_items) if off_items else None,
        "rule_precision": [{"rule": r, "threads": len(rule_threads[r]), "raised": len(rule_raised[r]),
                            "precision": len(rule_raised[r]) / len(rule_threads[r])} for r in rules],
        "threads": rows,
    }


def _without_other(by_category: dict[str, list[int]]) -> float | None:
    """Micro recall over the concerns of the taxonomy's categories, leaving out `other` (no rule can ask it)."""
    hits = sum(v[0] for c, v in by_category.items() if c != "other")
    total = sum(v[1] for c, v in by_category.items() if c != "other")
    return hits / total if total else None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def report(m: dict[str, Any], failed: dict[str, str], seconds: float) -> str:
    out = [f"threads checked: {m['threads_checked']} ({m['concern_threads']} with concerns, "
           f"{m['ack_only_threads']} ack-only); concerns: {m['concerns']}"]
    for tid, why in sorted(failed.items()):
        out.append(f"  NOT CHECKED {tid}: {why}")
    out.append(f"category recall without the 'other' category (no checklist category asks those): micro "
               f"{_pct(m['recall_micro_without_other'])}; all concerns: micro {_pct(m['recall_micro'])}, "
               f"per-thread mean {_pct(m['recall_per_thread_mean'])}")
    out.append("recall by category:")
    for cat, v in m["recall_by_category"].items():
        out.append(f"  {cat:22s} {v['hits']:3d}/{v['total']:<3d} {_pct(v['hits'] / v['total'])}")
    out.append(f"needs-review items per ack-only thread: {_num(m['items_per_ack_only_thread'])}")
    out.append(f"off-category items per concern thread: {_num(m['off_category_items_per_concern_thread'])}")
    out.append("per-rule precision (threads with an item from the rule; share where a reviewer raised "
               "its category):")
    for r in m["rule_precision"]:
        out.append(f"  {r['rule']:32s} {r['threads']:3d} threads  {r['raised']:3d} raised  {_pct(r['precision'])}")
    out.append("per thread:")
    for row in m["threads"]:
        if row["kind"] == "ack-only":
            out.append(f"  {row['id']:6s} ack-only  {row['items']} items")
        else:
            missed = f"  missed: {', '.join(row['missed'])}" if row["missed"] else ""
            out.append(f"  {row['id']:6s} {row['hits']}/{row['concerns']} concerns  {row['items']} items "
                       f"({row['off_category_items']} off-category){missed}")
    out.append(f"time: {seconds:.1f} s")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mboxdir", type=Path, nargs="+",
                    help="the OUTDIR of export.py (holding <id>.patches.mbox); several are searched in order")
    ap.add_argument("--labels", action="append", type=Path, metavar="FILE",
                    help="label file (repeatable; default: every benchmarks/checklist-set/labels-*.json)")
    ap.add_argument("--only", metavar="IDS", help="comma-separated thread ids")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers to FILE")
    ap.add_argument("--checkpatch", metavar="PATH", help="run checkpatch.pl (a script or a kernel tree)")
    ap.add_argument("--reviewtool", metavar="PATH", help="the reviewtool command (default: .venv/bin/reviewtool)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="checks run at once")
    ap.add_argument("--history", metavar="URL",
                    help="run check --history --lore-url URL (a public-inbox holding the earlier revisions: "
                         "benchmarks/checklist-set/history_inbox.py)")
    ap.add_argument("--history-code", action="store_true",
                    help="with --history: --history=code (also earlier reviews of the same functions)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    files = args.labels or sorted(SET_DIR.glob("labels-*.json"))
    if not files:
        raise SystemExit(f"no label files in {SET_DIR}")
    threads = only(load_threads(files), args.only)
    for d in args.mboxdir:
        if not d.is_dir():
            raise SystemExit(f"{d} is not a directory: export the mails first (export.py)")
    history = None
    if args.history:
        history = ["--history=code" if args.history_code else "--history", "--lore-url", args.history]
    elif args.history_code:
        raise SystemExit("--history-code needs --history URL")
    items, failed = check_all(threads, args.mboxdir, reviewtool_command(args.reviewtool), args.checkpatch,
                              args.jobs, history)
    numbers = measure(threads, items)
    seconds = time.perf_counter() - t0
    sys.stdout.write(report(numbers, failed, seconds))
    if args.json:
        numbers.update(not_checked=failed, seconds=round(seconds, 2), label_files=[str(f) for f in files])
        args.json.write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
