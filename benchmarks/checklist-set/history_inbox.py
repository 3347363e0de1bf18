#!/usr/bin/env python3
"""Build (and serve) a loopback public-inbox holding what `check --history` needs on the labelled set.

For each labelled thread (labels-*.json beside this script) the inbox gets, from the same archive:

  - every cover letter or patch dated before the thread whose normalised subject (no `Re:`, no
    `[PATCH vN m/n]` tag, case and spaces folded) is the subject of one of the thread's own patches
    or cover letter, in any revision, with its whole thread (the replies are the review history);
  - with --code: every patch dated before the thread (at most --code-window days before) whose diff
    hunk headers name a function the thread's patches change, with its whole thread (at most
    --code-threads threads per labelled thread, the latest first): what `--history=code` searches.

Never the labelled thread itself, and never a thread any of whose mails has the held-out list
(kexec@lists.infradead.org) in To or Cc, nor the held-out "MMU enabled kexec relocation" series.
The mails are written under OUTDIR/mails/ and imported into a public-inbox v2 inbox
(OUTDIR/pi, indexed `full`: subject, phrase and diff-hunk-header searches) through the same
importer the tests use (tests/pi_import.pl). Then

    history_inbox.py serve OUTDIR [--port 8089]

runs public-inbox-httpd on 127.0.0.1 (the URL to give eval_checklist.py --history is printed).

    .venv/bin/python benchmarks/checklist-set/history_inbox.py build OUTDIR \\
        --archive linux-arm-kernel.lists.infradead.org.0=linux-arm-kernel-0.git \\
        --archive kvmarm.lists.cs.columbia.edu.0=kvmarm-0.git [--code]

The archive header indexes are those of export.py (cached in OUTDIR as index-<archive>.json).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import export  # noqa: E402  (the archive index and thread walk of the set)

ROOT = HERE.parent.parent
INBOX = "arm"
HELD_OUT_SERIES = re.compile(r"MMU enabled kexec relocation", re.I)
_TAG = re.compile(r"^\s*((re|aw|fwd?)\s*:\s*|\[[^\]]*\]\s*)+", re.I)
_HUNK_FUNC = re.compile(rb"^@@ [^@]+ @@[^\n(]*?\b([A-Za-z_]\w{3,})\s*\(", re.M)


def normalised(subject: str) -> str:
    """The subject without reply prefixes and bracket tags, lower case, spaces folded."""
    return " ".join(_TAG.sub("", subject).lower().split())


def _when(date: str) -> datetime | None:
    try:
        return datetime.fromisoformat(date)
    except ValueError:
        return None


def _top(recs: export.Index, mid: str) -> str:
    """The root of the thread mid is in (following parents and references that are archived)."""
    seen = {mid}
    while True:
        r = recs[mid]
        up = [r["parent"]] if r["parent"] in recs else [a for a in r["refs"] if a in recs]
        if not up or up[0] in seen:
            return mid
        mid = up[0]
        seen.add(mid)


def functions_of(raws: list[bytes]) -> set[str]:
    """The function names in the diff hunk headers of raw patch mails."""
    return {m.decode() for raw in raws for m in _HUNK_FUNC.findall(raw)}


def select(threads: list[dict[str, Any]], name: str, gitdir: str, outdir: Path, code: bool, window: int,
           per_thread: int) -> tuple[set[str], dict[str, int]]:
    """The message-ids of one archive to put in the inbox, and per labelled thread how many threads it added."""
    recs = export.load_index(outdir, name, gitdir)
    children = export.children_of(recs)
    by_subject: dict[str, list[str]] = {}
    for mid, r in recs.items():
        if r["kind"] in ("patch", "cover"):
            by_subject.setdefault(normalised(r["subject"]), []).append(mid)
    patch_raws: dict[str, bytes] = {}
    if code:
        specs = {recs[m]["blob"]: m for m, r in recs.items() if r["kind"] == "patch"}
        patch_raws = {specs[s]: raw for s, raw in export.read_blobs(gitdir, sorted(specs)) if raw is not None}
    patch_functions = {mid: functions_of([raw]) for mid, raw in patch_raws.items()}
    whole: dict[str, list[str]] = {}

    def thread_of(mid: str) -> list[str]:
        top = _top(recs, mid)
        if top not in whole:
            whole[top] = export.thread(recs, top, children)
        return whole[top]

    def usable(mids: list[str]) -> bool:
        return not any(recs[m]["held_out"] or HELD_OUT_SERIES.search(recs[m]["subject"]) for m in mids)

    chosen: set[str] = set()
    added: dict[str, int] = {}
    for t in threads:
        root = t["root"].strip().strip("<>")
        if root not in recs:
            print(f"SKIPPED {t['id']}: root <{root}> is not in {name}", file=sys.stderr)
            continue
        own = export.thread(recs, root, children)
        if not usable(own):
            print(f"REFUSED {t['id']}: held out", file=sys.stderr)
            continue
        before = _when(recs[root]["date"])
        if before is None:
            continue
        own_set = set(own)
        patches = export.patches_of(recs, own, root)
        subjects = {normalised(recs[m]["subject"]) for m in patches}
        tops: list[str] = []
        for s in subjects:
            for mid in by_subject.get(s, []):
                d = _when(recs[mid]["date"])
                if mid not in own_set and d is not None and d < before:
                    tops.append(_top(recs, mid))
        if code:
            wanted = functions_of([patch_raws[m] for m in patches if m in patch_raws])
            start = before - timedelta(days=window)
            hits = []
            for mid, names in patch_functions.items():
                d = _when(recs[mid]["date"])
                if mid in own_set or d is None or not start <= d < before:
                    continue
                if names & wanted:
                    hits.append((d, _top(recs, mid)))
            hits.sort(reverse=True)
            tops += list(dict.fromkeys(top for _d, top in hits))[:per_thread]
        n = 0
        for top in dict.fromkeys(tops):
            mids = [m for m in thread_of(top) if m not in own_set]
            if mids and usable(thread_of(top)):
                chosen.update(mids)
                n += 1
        added[t["id"]] = n
    return chosen, added


def write_mails(recs_by_archive: dict[str, tuple[str, export.Index, set[str]]], maildir: Path) -> list[Path]:
    """The chosen mails as files (one per mail) under maildir."""
    if maildir.exists():
        shutil.rmtree(maildir)
    maildir.mkdir(parents=True)
    files: list[Path] = []
    for gitdir, recs, mids in recs_by_archive.values():
        specs = {recs[m]["blob"]: m for m in mids}
        for _spec, raw in export.read_blobs(gitdir, sorted(specs)):
            if raw is None:
                continue
            path = maildir / f"{len(files):06d}.eml"
            path.write_bytes(raw.replace(b"\r\n", b"\n"))
            files.append(path)
    return files


def build(args: argparse.Namespace) -> int:
    outdir: Path = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    archives = export.parse_archives(args.archive)
    threads = export.load_threads(export.label_files(args.labels))
    chosen: dict[str, tuple[str, export.Index, set[str]]] = {}
    for name, gitdir in archives.items():
        group = [t for t in threads if t["archive"] == name]
        mids, added = select(group, name, gitdir, outdir, args.code, args.code_window, args.code_threads)
        chosen[name] = (gitdir, export.load_index(outdir, name, gitdir), mids)
        for tid, n in sorted(added.items()):
            print(f"{tid}\t{n} earlier threads", file=sys.stderr)
    files = write_mails(chosen, outdir / "mails")
    print(f"{len(files)} mails chosen", file=sys.stderr)
    pi = outdir / "pi"
    if pi.exists():
        shutil.rmtree(pi)
    env = _env(outdir)
    subprocess.run(["public-inbox-init", "-V2", "-L", "full", INBOX, str(pi / INBOX), f"http://127.0.0.1/{INBOX}",
                    f"{INBOX}@lists.example.org"], env=env, check=True, timeout=60)
    for k in range(0, len(files), 500):
        subprocess.run(["perl", str(ROOT / "tests" / "pi_import.pl"), INBOX, *map(str, files[k:k + 500])],
                       env=env, check=True, timeout=3600)
    print(f"inbox {pi / INBOX}: {len(files)} mails; serve it with: {sys.argv[0]} serve {outdir}", file=sys.stderr)
    return 0


def _env(outdir: Path) -> dict[str, str]:
    return dict(os.environ, PI_CONFIG=str(outdir / "pi" / "config"), HOME=str(outdir / "pi"))


def serve(args: argparse.Namespace) -> int:
    outdir: Path = args.outdir.resolve()
    print(f"serving http://127.0.0.1:{args.port}/{INBOX}", file=sys.stderr, flush=True)
    return subprocess.run(["public-inbox-httpd", "-W0", "-l", f"http://127.0.0.1:{args.port}"],
                          env=_env(outdir), check=False).returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="choose the mails and build the inbox")
    b.add_argument("outdir", type=Path)
    b.add_argument("--archive", action="append", default=[], metavar="NAME=GITDIR", required=True)
    b.add_argument("--labels", action="append", metavar="FILE")
    b.add_argument("--code", action="store_true", help="also earlier patches touching the same functions")
    b.add_argument("--code-window", type=int, default=365, metavar="DAYS")
    b.add_argument("--code-threads", type=int, default=15, metavar="N")
    s = sub.add_parser("serve", help="serve the inbox on 127.0.0.1")
    s.add_argument("outdir", type=Path)
    s.add_argument("--port", type=int, default=8089)
    args = ap.parse_args(argv)
    return build(args) if args.command == "build" else serve(args)


if __name__ == "__main__":
    sys.exit(main())
