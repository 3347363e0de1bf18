#!/usr/bin/env python3
"""Compare the two readers of a series on real mail: fetch/plain.py (no b4) against b4's (fetch/thread.py).

For every N-th patch thread of a public-inbox v2 epoch (threads sent to the held-out list are
never read: benchmarks/checklist-set/export.py's rule), two inputs are built from the archive:

  posting  the cover letter and patches of the root's revision (what `git format-patch` or
           `b4 am` would give a maintainer);
  thread   the whole thread, replies included.

Each is read by both readers (b4's without its am step), and the two Series are compared
field by field; the plain reader reads the mail as `fetch` does, with fetch/lightmail.py
where every mail has the plain shape, else with the email package. The plain reader runs in a process of its own that never imports b4 (b4's
import changes how the email package formats names, for the whole process), as it does in
`reviewtool check FILE`. It may decline (it then leaves the mail to b4), never differ.
Prints how many were the same, declined and different, with the first differences.

    .venv/bin/python benchmarks/compare_readers.py --archive NAME=GITDIR [--every 20] [--cache DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "checklist-set"))

import export  # noqa: E402  (benchmarks/checklist-set/export.py: index, threads, held-out rule)

from reviewtool.errors import ReviewtoolError  # noqa: E402
from reviewtool.fetch import lore, mbox, thread  # noqa: E402
from reviewtool.model import to_json  # noqa: E402

LORE = "https://lore.kernel.org/all"


_PLAIN_WORKER = """
import json, sys
from pathlib import Path
from reviewtool.fetch import lightmail, mbox, plain
from reviewtool.model import to_json
out = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    raws = mbox.split(path.read_bytes())
    light = lightmail.parse_all(raws)  # as fetch() reads a file: without the email package if it can
    got = plain.attempt(light, path.name, sys.argv[2], mbox.Unreadable()) if light else "not light"
    if isinstance(got, str):
        unreadable = mbox.Unreadable()
        got = plain.attempt(mbox.parse_all(raws, unreadable), path.name, sys.argv[2], unreadable)
    out[path.name] = got if isinstance(got, str) else to_json(got)
assert "b4" not in sys.modules and "liblore" not in sys.modules
json.dump(out, sys.stdout)
"""


def plain_reads(inputs: dict[str, bytes]) -> dict[str, Any]:
    """The plain reader's Series (as JSON) or reason, for each input, read in a child process."""
    with tempfile.TemporaryDirectory(prefix="compare-readers-") as tmp:
        for name, data in inputs.items():
            (Path(tmp) / name).write_bytes(data)
        proc = subprocess.run([sys.executable, "-c", _PLAIN_WORKER, tmp, LORE], capture_output=True, text=True,
                              check=True, timeout=3600)
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


def compare(raw: bytes, name: str, ours: Any) -> tuple[str, str]:
    """("same" | "declined" | "differ" | "b4-refused", detail) for one mbox."""
    if isinstance(ours, str):
        return "declined", ours
    msgs = mbox.parse_all(mbox.split(raw), mbox.Unreadable())
    try:
        theirs, _am = thread.build_series(msgs, None, name, LORE, mbox.Unreadable(), am=False)
    except ReviewtoolError as e:
        return "b4-refused", str(e)[:200]
    a, b = ours, to_json(theirs)
    if a == b:
        return "same", ""
    fields = [k for k in a if a[k] != b.get(k)]
    k = fields[0]
    return "differ", f"{', '.join(fields)}: plain {str(a[k])[:160]!r} b4 {str(b[k])[:160]!r}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", required=True, metavar="NAME=GITDIR",
                    help="a public-inbox v2 epoch and its git directory (as export.py takes it)")
    ap.add_argument("--every", type=int, default=20, help="take every N-th patch thread (default 20)")
    ap.add_argument("--cache", help="where the header index is kept (default: a temporary directory)")
    args = ap.parse_args()

    lore.setup_b4(LORE)
    cache = Path(args.cache or tempfile.mkdtemp(prefix="compare-readers-"))
    cache.mkdir(parents=True, exist_ok=True)
    name, _, gitdir = args.archive.partition("=")
    recs = export.load_index(cache, name, gitdir)
    children = export.children_of(recs)
    roots = sorted((m for m, r in recs.items() if r["parent"] is None and r["kind"] in ("patch", "cover")),
                   key=lambda m: (recs[m]["date"], m))[:: args.every]
    plan: list[tuple[str, list[str], list[str]]] = []
    held_out = 0
    for root in roots:
        mids = export.thread(recs, root, children)
        if any(recs[m]["held_out"] for m in mids):
            held_out += 1
            continue
        plan.append((root, mids, export.patches_of(recs, mids, root)))
    raws = dict(export.read_blobs(gitdir, sorted({recs[m]["blob"] for _, mids, _ in plan for m in mids})))

    counts: dict[str, collections.Counter[str]] = {"posting": collections.Counter(), "thread": collections.Counter()}
    shown: list[str] = []
    why: dict[str, collections.Counter[str]] = {"posting": collections.Counter(), "thread": collections.Counter()}
    t0 = time.perf_counter()
    inputs: dict[str, bytes] = {}
    for i, (_root, mids, patches) in enumerate(plan):
        for what, chosen in (("posting", patches), ("thread", mids)):
            data = b"".join(export.mbox_entry(raw) for m in chosen if (raw := raws.get(recs[m]["blob"])))
            if data:
                inputs[f"{i:05d}.{what}"] = data
    ours = plain_reads(inputs)
    for key, data in inputs.items():
        what = key.split(".")[1]
        root = plan[int(key.split(".")[0])][0]
        verdict, detail = compare(data, key, ours[key])
        counts[what][verdict] += 1
        if verdict == "declined":
            why[what][detail] += 1
        elif verdict != "same" and len(shown) < 15:
            shown.append(f"{verdict}: {what} <{root}>: {detail}")
    took = time.perf_counter() - t0
    print(f"{len(plan)} threads ({held_out} held out, not read) from {name}, in {took:.0f} s")
    for what, c in counts.items():
        print(f"  {what:<8} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
        print("           declined because: " + "; ".join(f"{r} {n}" for r, n in why[what].most_common(6)))
    for line in shown:
        print("  " + line)
    return 1 if any(c["differ"] for c in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
