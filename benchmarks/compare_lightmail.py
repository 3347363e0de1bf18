#!/usr/bin/env python3
"""Compare fetch/lightmail.py with the email package on every mail of real threads.

For every N-th thread of a public-inbox v2 epoch (threads sent to the held-out list are never
read: benchmarks/checklist-set/export.py's rule), each mail is read by lightmail; where it
takes the mail, every answer reviewtool reads from it (raw headers, sender, recipients, date,
charset, body, the text the bot rules read, message-ids, unstructured headers, the mail
written back for the store) is compared with the email package's, by the comparison
tests/test_lightmail.py makes. Prints how many mails were light, how many answers differed
(none may), and why the others were left to the email package.

    .venv/bin/python benchmarks/compare_lightmail.py --archive NAME=GITDIR [--every 10] [--cache DIR]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "checklist-set"))
sys.path.insert(0, str(HERE.parent))

import export  # noqa: E402  (benchmarks/checklist-set/export.py: index, threads, held-out rule)

from reviewtool.fetch import lightmail, mbox  # noqa: E402
from tests.test_lightmail import assert_same  # noqa: E402  (the comparison the tests make)


def why_not(raw: bytes) -> str:
    """The first reason lightmail leaves a mail to the email package."""
    end = raw.find(b"\n\n")
    if end <= 0:
        return "no body"
    if b"\r" in raw:
        return "CR line ends"
    try:
        head = raw[:end].decode("ascii")
    except UnicodeDecodeError:
        return "8-bit header"
    headers = lightmail._headers(head)
    if headers is None:
        return "header syntax"
    for name, value in headers:
        key = name.lower()
        if "=?" in value:
            return f"encoded word in {key}"
        if key == "content-type" and not lightmail._CTYPE.fullmatch(" ".join(value.split())):
            return f"content-type {' '.join(value.split()).split(';')[0].lower()}"
        if key == "content-transfer-encoding" and not lightmail._CTE.fullmatch(value):
            return f"transfer encoding {value.strip().lower()}"
        if key in lightmail._ADDRESS_HEADERS and lightmail.mailboxes([lightmail._spaced(value)]) is None:
            return f"address form in {key}"
    dates = [v for n, v in headers if n.lower() == "date"]
    if len(dates) == 1 and lightmail.date(dates[0]) is None:
        return "date form"
    if not lightmail._plain(headers):
        return "a header missing, repeated, too long or with a control character"
    return "other"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", required=True, metavar="NAME=GITDIR",
                    help="a public-inbox v2 epoch and its git directory (as export.py takes it)")
    ap.add_argument("--every", type=int, default=10, help="take every N-th thread (default 10)")
    ap.add_argument("--cache", help="where the header index is kept (default: a temporary directory)")
    args = ap.parse_args()

    cache = Path(args.cache or tempfile.mkdtemp(prefix="compare-lightmail-"))
    cache.mkdir(parents=True, exist_ok=True)
    name, _, gitdir = args.archive.partition("=")
    recs = export.load_index(cache, name, gitdir)
    children = export.children_of(recs)
    roots = sorted((m for m, r in recs.items() if r["parent"] is None), key=lambda m: (recs[m]["date"], m))
    mids: list[str] = []
    held_out = threads = 0
    for root in roots[:: args.every]:
        found = export.thread(recs, root, children)
        if any(recs[m]["held_out"] for m in found):
            held_out += 1
            continue
        threads += 1
        mids.extend(found)
    raws = dict(export.read_blobs(gitdir, sorted({recs[m]["blob"] for m in mids})))

    t0 = time.perf_counter()
    counts: collections.Counter[str] = collections.Counter()
    why: collections.Counter[str] = collections.Counter()
    shown: list[str] = []
    for m in mids:
        raw = raws.get(recs[m]["blob"])
        if raw is None:
            continue
        for one in mbox.split(export.mbox_entry(raw)):
            counts["mails"] += 1
            try:
                light = assert_same(one)
            except AssertionError as e:
                counts["different"] += 1
                if len(shown) < 10:
                    shown.append(f"<{m}>: {str(e).splitlines()[0][:200]}")
                continue
            if light is None:
                why[why_not(one)] += 1
            else:
                counts["light, every answer the same"] += 1
    took = time.perf_counter() - t0
    print(f"{threads} threads ({held_out} held out, not read) from {name}, {counts['mails']} mails, in {took:.0f} s")
    print("  " + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "mails"))
    print("  left to the email package: " + "; ".join(f"{r} {n}" for r, n in why.most_common(8)))
    for line in shown:
        print("  different: " + line)
    return 1 if counts["different"] else 0


if __name__ == "__main__":
    sys.exit(main())
