#!/usr/bin/env python3
"""Rebuild the mails of every labelled thread from the public-inbox archives they came from.

For each thread of benchmarks/checklist-set/labels-*.json this writes, into OUTDIR:

  <id>.mbox          the whole thread (the root and every reply below it)
  <id>.patches.mbox  the cover letter and patches of the root's revision only: the tool's input

Each label names its archive (a public-inbox v2 epoch, e.g. "linux-arm-kernel.lists.infradead.org.0");
give the git directory of each archive with --archive NAME=GITDIR. The header index of an archive
(message-id, parent, references, subject, sender, date, and whether To/Cc name the held-out list)
is built in one `git cat-file --batch` pass and cached as OUTDIR/index-<NAME>.json; it is rebuilt
when the archive's HEAD moves.

Held out: a thread any of whose mails has kexec@lists.infradead.org in To or Cc is never
exported. It is skipped with a message on stderr (and any earlier output for it is removed),
and the exit status is 1.

    .venv/bin/python benchmarks/checklist-set/export.py \\
        --archive linux-arm-kernel.lists.infradead.org.0=PATH/TO/arm/git/0.git \\
        --archive kvmarm.lists.cs.columbia.edu.0=PATH/TO/kvmarm/git/0.git  OUTDIR

Only the Python standard library and git are needed.
"""

from __future__ import annotations

import argparse
import email
import email.header
import email.policy
import email.utils
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HELD_OUT_LIST = "kexec@lists.infradead.org"
INDEX_VERSION = 1
MSGID = re.compile(r"<([^<>\s]+)>")
REVISION = re.compile(r"\bv(\d+)\b", re.I)
Index = dict[str, dict[str, Any]]


# ------------------------------------------------------------------ labels
def only(threads: list[dict[str, Any]], ids: str | None) -> list[dict[str, Any]]:
    """The threads named by --only (comma-separated ids), all of them without it; an unknown id stops."""
    if not ids:
        return threads
    wanted = set(ids.split(","))
    unknown = wanted - {t["id"] for t in threads}
    if unknown:
        raise SystemExit(f"--only: no labelled thread {', '.join(sorted(unknown))}")
    return [t for t in threads if t["id"] in wanted]


def label_files(paths: list[str] | None) -> list[Path]:
    """The label files given, else every labels-*.json beside this script."""
    return [Path(p) for p in paths] if paths else sorted(HERE.glob("labels-*.json"))


def load_threads(files: Iterable[Path]) -> list[dict[str, Any]]:
    """Every labelled thread of the files, in file order; ids must be unique."""
    threads: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SystemExit(f"cannot read labels {path}: {e}") from None
        for t in data.get("threads", []):
            tid = t.get("id")
            if not tid or not t.get("root") or not t.get("archive"):
                raise SystemExit(f"{path}: a thread lacks id, root or archive: {t!r:.120}")
            if tid in seen:
                raise SystemExit(f"{path}: thread id {tid} is also in {seen[tid]}")
            if t.get("kind") not in ("concerns", "ack-only"):
                raise SystemExit(f"{path}: thread {tid}: kind must be 'concerns' or 'ack-only'")
            seen[tid] = path
            threads.append(t)
    return threads


# ------------------------------------------------------------------ git
def _git(gitdir: str, *args: str) -> str:
    out = subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, text=True,
                         timeout=600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {gitdir}: {out.stderr.strip()}")
    return out.stdout


def read_blobs(gitdir: str, specs: list[str]) -> Iterator[tuple[str, bytes | None]]:
    """(spec, bytes or None when missing) for each `rev:path` spec, with one `git cat-file --batch`."""
    proc = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:  # a thread: git's output pipe would fill while we are still writing
        try:
            for spec in specs:
                stdin.write(spec.encode() + b"\n")
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for spec in specs:
            header = stdout.readline().split()
            if not header:
                raise SystemExit(f"git cat-file stopped early in {gitdir}")
            if header[-1] == b"missing":
                yield spec, None
                continue
            data = stdout.read(int(header[2]))
            stdout.read(1)
            yield spec, data
    finally:
        writer.join()
        stdout.close()
        proc.wait(timeout=60)


# ------------------------------------------------------------------ index
def _text(value: Any) -> str:
    if value is None:
        return ""
    try:
        parts = email.header.decode_header(str(value))
        text = "".join(b.decode(c or "utf-8", "replace") if isinstance(b, bytes) else b for b, c in parts)
    except (LookupError, ValueError):
        text = str(value)
    return re.sub(r"\s+", " ", text).strip()


def kind_of(subject: str) -> str:
    """'patch', 'cover', 'reply' or 'other', from the subject."""
    s = subject.strip()
    if re.match(r"(?i)^(re|aw|fwd?)\s*:", s):
        return "reply"
    tag = re.search(r"\[[^\]]*\b(PATCH|RFC)\b[^\]]*\]", s, re.I)
    if not tag:
        return "other"
    n = re.search(r"(\d+)\s*/\s*(\d+)", tag.group(0))
    return "cover" if n and int(n.group(1)) == 0 else "patch"


def revision_of(subject: str) -> int:
    tag = re.search(r"\[[^\]]*\]", subject)
    m = REVISION.search(tag.group(0)) if tag else None
    return int(m.group(1)) if m else 1


def header_record(spec: str, raw: bytes) -> dict[str, Any] | None:
    end = raw.find(b"\n\n")
    msg = email.message_from_bytes(raw if end < 0 else raw[:end + 1], policy=email.policy.compat32)
    ids = MSGID.findall(msg.get("message-id") or "")
    if not ids:
        return None
    mid = ids[0]
    irt = MSGID.findall(msg.get("in-reply-to") or "")
    refs = MSGID.findall(msg.get("references") or "")
    parent = irt[-1] if irt else (refs[-1] if refs else None)
    try:
        date = email.utils.parsedate_to_datetime(msg.get("date") or "").isoformat()
    except (TypeError, ValueError, IndexError):
        date = ""
    recipients = " ".join(str(v) for h in ("to", "cc") for v in msg.get_all(h) or [])
    subject = _text(msg.get("subject"))
    return {"mid": mid, "blob": spec, "parent": None if parent == mid else parent, "refs": refs,
            "subject": subject, "from": _text(msg.get("from")), "date": date, "kind": kind_of(subject),
            "held_out": HELD_OUT_LIST in recipients.lower()}


def build_index(gitdir: str) -> Index:
    """Header records of every mail of the epoch; a later commit of a message-id replaces an earlier."""
    commits = _git(gitdir, "log", "--reverse", "--format=%H").split()
    recs: Index = {}
    for spec, raw in read_blobs(gitdir, [c + ":m" for c in commits]):
        rec = header_record(spec, raw) if raw is not None else None
        if rec is not None:
            recs[rec["mid"]] = rec
    return recs


def load_index(outdir: Path, name: str, gitdir: str) -> Index:
    """The cached index of an archive, rebuilt when missing, stale or from an older format."""
    path = outdir / f"index-{name}.json"
    head = _git(gitdir, "rev-parse", "HEAD").strip()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("version") == INDEX_VERSION and cached.get("head") == head:
            messages: Index = cached["messages"]
            return messages
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    t0 = time.perf_counter()
    print(f"indexing {name} ({gitdir}) ...", file=sys.stderr)
    messages = build_index(gitdir)
    _write_atomic(path, json.dumps({"version": INDEX_VERSION, "head": head, "messages": messages}).encode())
    print(f"indexed {len(messages)} mails of {name} in {time.perf_counter() - t0:.0f} s -> {path}",
          file=sys.stderr)
    return messages


# ------------------------------------------------------------------ threads
def children_of(recs: Index) -> dict[str, list[str]]:
    """Replies of each message; a reply whose parent is not archived hangs off its nearest archived ancestor."""
    children: dict[str, list[str]] = {}
    for mid, r in recs.items():
        up = [r["parent"]] if r["parent"] in recs else [a for a in reversed(r["refs"]) if a in recs and a != mid]
        if up:
            children.setdefault(up[0], []).append(mid)
    for v in children.values():
        v.sort(key=lambda m: recs[m]["date"])
    return children


def thread(recs: Index, root: str, children: dict[str, list[str]]) -> list[str]:
    """The root and everything below it, depth first, plus mails that cite the root but lost their parent."""
    seen: set[str] = set()
    order: list[str] = []
    stack = [root]
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in recs:
            continue
        seen.add(mid)
        order.append(mid)
        stack.extend(reversed(children.get(mid, [])))
    order += [m for m, r in recs.items() if m not in seen and root in r["refs"]]
    return order


def patches_of(recs: Index, mids: list[str], root: str) -> list[str]:
    """Cover and patches of the root's revision (a v2 posted in reply to v1 is not mixed in)."""
    rev = revision_of(recs[root]["subject"])
    return [m for m in mids if recs[m]["kind"] in ("patch", "cover") and revision_of(recs[m]["subject"]) == rev]


# ------------------------------------------------------------------ mbox
def mbox_entry(raw: bytes) -> bytes:
    """One mboxrd entry with a 'From ' line made of the sender and Date, so re-exports are identical."""
    raw = raw.replace(b"\r\n", b"\n")
    end = raw.find(b"\n\n")
    msg = email.message_from_bytes(raw if end < 0 else raw[:end + 1], policy=email.policy.compat32)
    sender = re.sub(r"\s", "", email.utils.parseaddr(msg.get("from") or "")[1]) or "MAILER-DAEMON"
    try:
        stamp = email.utils.parsedate_to_datetime(msg.get("date") or "").timestamp()
    except (TypeError, ValueError, IndexError):
        stamp = 0
    body = re.sub(rb"(?m)^(>*From )", rb">\1", raw)
    if not body.endswith(b"\n"):
        body += b"\n"
    return b"From %s %s\n%s\n" % (sender.encode(), time.asctime(time.gmtime(stamp)).encode(), body)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file renamed into place: an interrupted run leaves no half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; the mails are public
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ------------------------------------------------------------------ main
def parse_archives(values: list[str]) -> dict[str, str]:
    archives: dict[str, str] = {}
    for v in values:
        name, sep, gitdir = v.partition("=")
        if not sep or not name or not gitdir:
            raise SystemExit(f"--archive {v}: use NAME=GITDIR")
        if not Path(gitdir).is_dir():
            raise SystemExit(f"--archive {v}: {gitdir} is not a directory")
        archives[name] = gitdir
    return archives


def export(threads: list[dict[str, Any]], archives: dict[str, str], outdir: Path) -> int:
    """Write the mboxes of every thread; 0 when all were written, 1 when one was refused or missing."""
    failed = 0
    by_archive: dict[str, list[dict[str, Any]]] = {}
    for t in threads:
        by_archive.setdefault(t["archive"], []).append(t)
    for name, group in by_archive.items():
        if name not in archives:
            print(f"SKIPPED {', '.join(t['id'] for t in group)}: no --archive {name}=GITDIR given",
                  file=sys.stderr)
            failed += len(group)
            continue
        gitdir = archives[name]
        recs = load_index(outdir, name, gitdir)
        children = children_of(recs)
        plan: list[tuple[str, list[str], list[str]]] = []
        for t in group:
            tid, root = t["id"], t["root"].strip().strip("<>")
            if root not in recs:
                print(f"SKIPPED {tid}: root <{root}> is not in {name}", file=sys.stderr)
                failed += 1
                continue
            mids = thread(recs, root, children)
            if any(recs[m]["held_out"] for m in mids):
                print(f"REFUSED {tid}: a mail of <{root}> is addressed to {HELD_OUT_LIST}; that list's "
                      "threads are held out for evaluation: remove this thread from the labels", file=sys.stderr)
                for suffix in (".mbox", ".patches.mbox"):
                    (outdir / f"{tid}{suffix}").unlink(missing_ok=True)
                failed += 1
                continue
            plan.append((tid, mids, patches_of(recs, mids, root)))
        specs = sorted({recs[m]["blob"] for _, mids, _ in plan for m in mids})
        raws = dict(read_blobs(gitdir, specs))
        for tid, mids, patches in plan:
            for suffix, chosen in ((".mbox", mids), (".patches.mbox", patches)):
                entries = [mbox_entry(raw) for m in chosen if (raw := raws.get(recs[m]["blob"])) is not None]
                _write_atomic(outdir / f"{tid}{suffix}", b"".join(entries))
            print(f"{tid}\t{len(mids)} mails, {len(patches)} patch mails\t{outdir / tid}.mbox")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=Path, help="where the mboxes and the cached indexes go")
    ap.add_argument("--archive", action="append", default=[], metavar="NAME=GITDIR",
                    help="the git directory of a public-inbox v2 epoch named in the labels (repeatable)")
    ap.add_argument("--labels", action="append", metavar="FILE",
                    help="label file (repeatable; default: every labels-*.json beside this script)")
    ap.add_argument("--only", metavar="IDS", help="comma-separated thread ids")
    args = ap.parse_args(argv)
    threads = only(load_threads(label_files(args.labels)), args.only)
    archives = parse_archives(args.archive)
    args.outdir.mkdir(parents=True, exist_ok=True)
    return export(threads, archives, args.outdir)


if __name__ == "__main__":
    sys.exit(main())
