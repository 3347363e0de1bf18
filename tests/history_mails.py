"""Mail for the history tests: v1 -> v2 -> v3 (and a later v4) of a small series with reviews.

The patches are real `git format-patch` output from a throw-away repository. What each
review is for (the statuses the ledger must give in v3):
- v1 1/3, Alice quotes the kmalloc lines: v2 rewrites them            -> addressed
- v1 1/3, Bob asks about the spinlock: the lines stay through v3       -> unchanged
- v1 2/3 (the debug knob), Alice: the patch leaves in v2              -> dropped
- v1 3/3, Alice asks for a comment; the author answers                -> answered
  (3/3 is renamed in v2 and changed a little: paired by content)
- v2 2/2, Carol asks about READ_ONCE, later gives Reviewed-by         -> acked
- v2 1/2, Erin replies after v3 was posted                           -> not counted (date)
- v3 1/2, Dave replies with a clock a day slow                       -> not counted (v3's own thread)
v3's cover letter links v1 (b4's `- Link to v1:` line); v2 and v3 carry a change-id.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

AUTHOR = "Pat Author <pat@example.org>"
ALICE = "Alice Reviewer <alice@example.com>"
BOB = "Bob Locker <bob@example.com>"
CAROL = "Carol Once <carol@example.com>"
DAVE = "Dave Late <dave@example.com>"
ERIN = "Erin After <erin@example.com>"
CHANGE_ID = "20240110-foo-buffer-1a2b3c4d5e6f"
LIST = "kexec@lists.example.org"

FOO = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/slab.h>
#include <linux/spinlock.h>

struct foo {
	spinlock_t lock;
	int *buf;
	int count;
};

static int foo_probe(struct foo *foo)
{
	foo->count = 0;
	return 0;
}

static int foo_init(void)
{
	return 0;
}
"""
BAR = """\
// SPDX-License-Identifier: GPL-2.0
static int bar_get(int x)
{
	return x;
}
"""

PROBE_V1 = ("\tfoo->count = 0;\n\treturn 0;",
            "\tfoo->buf = kmalloc(64, GFP_KERNEL);\n\tfoo->buf[0] = 1;\n\tspin_lock(&foo->lock);\n"
            "\tfoo->count = 0;\n\tspin_unlock(&foo->lock);\n\treturn 0;")
PROBE_V2 = ("\tfoo->count = 0;\n\treturn 0;",
            "\tfoo->buf = kzalloc(64, GFP_KERNEL);\n\tif (!foo->buf)\n\t\treturn -ENOMEM;\n\tspin_lock(&foo->lock);\n"
            "\tfoo->count = 0;\n\tspin_unlock(&foo->lock);\n\treturn 0;")
KNOB = ("static int foo_init(void)\n{\n", "static int debug_knob;\n\nstatic int foo_init(void)\n{\n"
        "\tif (debug_knob)\n\t\tpr_info(\"foo: debug\\n\");\n")
BAR_V1 = ("\treturn x;", "\tint y = x;\n\n\ty += x;\n\treturn y + x;")
BAR_V2 = ("\treturn x;", "\tint y = x;\n\n\ty += x;\n\treturn y + x + 0;")

# (subject, file, (old, new)) per patch, per revision
REVISIONS = {
    1: [("foo: allocate the buffer in probe", "drivers/foo/foo.c", PROBE_V1),
        ("foo: add a debug knob", "drivers/foo/foo.c", KNOB),
        ("bar: read the value twice", "drivers/foo/bar.c", BAR_V1)],
    2: [("foo: allocate the buffer in probe", "drivers/foo/foo.c", PROBE_V2),
        ("bar: read the value a second time", "drivers/foo/bar.c", BAR_V2)],
    3: [("foo: allocate the buffer in probe", "drivers/foo/foo.c", PROBE_V2),
        ("bar: read the value a second time", "drivers/foo/bar.c", BAR_V2)],
    4: [("foo: allocate the buffer in probe", "drivers/foo/foo.c", PROBE_V2)],
}
DATES = {1: "Mon, 01 Jan 2024 10:00:00 +0000", 2: "Wed, 10 Jan 2024 10:00:00 +0000",
         3: "Sat, 20 Jan 2024 10:00:00 +0000", 4: "Thu, 01 Feb 2024 10:00:00 +0000"}


def mid(rev: int, n: int) -> str:
    return f"2024010{rev}-foo-v{rev}-{n}-pat@example.org"


def _git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Pat Author", GIT_AUTHOR_EMAIL="pat@example.org",
               GIT_COMMITTER_NAME="Pat Author", GIT_COMMITTER_EMAIL="pat@example.org",
               GIT_AUTHOR_DATE="2024-01-01T00:00:00Z", GIT_COMMITTER_DATE="2024-01-01T00:00:00Z")
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                           env=env, timeout=30).stdout


def _patches(work: Path, rev: int) -> list[str]:
    """The diffs (`diff --git` onwards) of revision rev, from git format-patch."""
    repo = work / f"repo-v{rev}"
    (repo / "drivers/foo").mkdir(parents=True)
    _git(repo, "init", "-q")
    files = {"drivers/foo/foo.c": FOO, "drivers/foo/bar.c": BAR}
    for path, text in files.items():
        (repo / path).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    for subject, path, (old, new) in REVISIONS[rev]:
        text = (repo / path).read_text()
        assert old in text, (rev, subject)
        (repo / path).write_text(text.replace(old, new, 1))
        _git(repo, "commit", "-q", "-a", "-m", subject)
    out = _git(repo, "format-patch", "--stdout", "-U3", f"HEAD~{len(REVISIONS[rev])}..HEAD")
    return [m[m.index("diff --git"):].split("\n-- \n")[0] + "\n" for m in out.split("\nFrom ")]


def _mail(msgid: str, who: str, date: str, subject: str, body: str, reply_to: str | None = None,
          refs: tuple[str, ...] = ()) -> str:
    head = [f"From: {who}", f"To: {LIST}", f"Subject: {subject}", f"Date: {date}", f"Message-ID: <{msgid}>"]
    if reply_to:
        head.append(f"In-Reply-To: <{reply_to}>")
        head.append("References: " + " ".join(f"<{r}>" for r in (*refs, reply_to)))
    head += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    return "\n".join(head) + "\n\n" + body


def _revision(work: Path, rev: int, reply_to: str | None = None, refs: tuple[str, ...] = ()) -> dict[str, str]:
    diffs = _patches(work, rev)
    n = len(diffs)
    tag = f"PATCH v{rev}" if rev > 1 else "PATCH"
    date = DATES[rev]
    cover_body = "This series allocates foo's buffer in probe and reads bar twice.\n\n"
    if rev >= 3:
        cover_body += (f"Changes in v{rev}:\n- nothing but the rebase\n"
                       f"- Link to v1: https://lore.example.org/r/{mid(1, 0)}\n\n")
    if rev >= 2:
        cover_body += f"---\nchange-id: {CHANGE_ID}\n"
    mails = {f"v{rev}-00": _mail(mid(rev, 0), AUTHOR, date, f"[{tag} 0/{n}] foo: buffer and bar fixes",
                                 cover_body, reply_to, refs)}
    for i, (d, (subject, _p, _c)) in enumerate(zip(diffs, REVISIONS[rev], strict=True), 1):
        trailers = "\nReviewed-by: " + CAROL if rev == 3 and i == 2 else ""
        body = f"{subject} in the driver.\n\nSigned-off-by: {AUTHOR}{trailers}\n---\n{d}-- \n2.43.0\n"
        crefs = (*refs, reply_to) if reply_to else ()
        mails[f"v{rev}-{i:02d}"] = _mail(mid(rev, i), AUTHOR, date.replace(":00 +", f":{i:02d} +"),
                                         f"[{tag} {i}/{n}] {subject}", body, mid(rev, 0), crefs)
    return mails


def _reply(name: str, who: str, date: str, to: str, refs: tuple[str, ...], subject: str, body: str) -> tuple[str, str]:
    return name, _mail(f"{name}@example.com", who, date, f"Re: {subject}", body, to, refs)


def write(out: Path) -> dict[str, Path]:
    """Write every mail as out/<name>.eml; the names -> paths."""
    work = out / "git"
    mails: dict[str, str] = {}
    for rev in (1, 2):
        mails.update(_revision(work, rev))
    mails.update(_revision(work, 3))
    mails.update(_revision(work, 4))
    s1 = "[PATCH 1/3] foo: allocate the buffer in probe"
    replies = [
        _reply("r1-alice", ALICE, "Tue, 02 Jan 2024 09:00:00 +0000", mid(1, 1), (mid(1, 0),), s1,
               "On Mon, Pat Author wrote:\n> +\tfoo->buf = kmalloc(64, GFP_KERNEL);\n> +\tfoo->buf[0] = 1;\n\n"
               "kmalloc can fail here and the next line dereferences NULL. Please check the allocation.\n\n"
               "Thanks,\nAlice\n"),
        _reply("r1-bob", BOB, "Tue, 02 Jan 2024 11:00:00 +0000", mid(1, 1), (mid(1, 0),), s1,
               "Hi Pat,\n\n> +\tspin_lock(&foo->lock);\n>  \tfoo->count = 0;\n> +\tspin_unlock(&foo->lock);\n\n"
               "Why is a spinlock needed here? Nothing else takes foo->lock, and probe cannot race with itself.\n"),
        _reply("r1-alice-knob", ALICE, "Tue, 02 Jan 2024 12:00:00 +0000", mid(1, 2), (mid(1, 0),),
               "[PATCH 2/3] foo: add a debug knob",
               "> +static int debug_knob;\n\nIs this knob needed at all? Use dynamic debug instead.\n"),
        _reply("r1-alice-bar", ALICE, "Tue, 02 Jan 2024 13:00:00 +0000", mid(1, 3), (mid(1, 0),),
               "[PATCH 3/3] bar: read the value twice",
               "> +\tint y = x;\n> +\n> +\ty += x;\n\nPlease add a comment saying why the value is read twice.\n"),
        _reply("r1-pat-answer", AUTHOR, "Wed, 03 Jan 2024 08:00:00 +0000", "r1-alice-bar@example.com",
               (mid(1, 0), mid(1, 3)), "[PATCH 3/3] bar: read the value twice",
               "On Tue, Alice Reviewer wrote:\n>> +\tint y = x;\n> Please add a comment saying why the value is "
               "read twice.\n\nThe hardware latches on the first read; the second read is the real value.\n"
               "I will say so in the commit message.\n"),
        _reply("r2-carol", CAROL, "Thu, 11 Jan 2024 09:00:00 +0000", mid(2, 2), (mid(2, 0),),
               "[PATCH v2 2/2] bar: read the value a second time",
               "> +\treturn y + x + 0;\n\nShouldn't this use READ_ONCE() so the compiler keeps both reads?\n"),
        _reply("r2-carol-ack", CAROL, "Fri, 12 Jan 2024 09:00:00 +0000", "r2-carol@example.com",
               (mid(2, 0), mid(2, 2)), "[PATCH v2 2/2] bar: read the value a second time",
               "OK, the register accessors already do that.\n\nReviewed-by: Carol Once <carol@example.com>\n"),
        _reply("r2-erin-late", ERIN, "Mon, 22 Jan 2024 09:00:00 +0000", mid(2, 1), (mid(2, 0),),
               "[PATCH v2 1/2] foo: allocate the buffer in probe",
               "> +\tspin_lock(&foo->lock);\n\nLate: this lock also needs a comment about what it protects.\n"),
        _reply("r3-dave-skew", DAVE, "Fri, 19 Jan 2024 09:00:00 +0000", mid(3, 1), (mid(3, 0),),
               "[PATCH v3 1/2] foo: allocate the buffer in probe",
               "> +\tspin_lock(&foo->lock);\n\nMy clock is slow, but this is a comment on v3 itself.\n"),
    ]
    mails.update(dict(replies))
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in mails.items():
        p = out / f"{name}.eml"
        p.write_text(text)
        paths[name] = p
    return paths


# --- other series that changed the same functions before (for --history=code) ---------------
QUINN = "Quinn Other <quinn@example.net>"
RITA = "Rita Reviewer <rita@example.com>"
SAM = "Sam Second <sam@example.com>"
TOM = "Tom Third <tom@example.com>"
UMA = "Uma Later <uma@example.com>"
VIC = "Vic Elsewhere <vic@example.com>"
# foo.c as it was before: a longer probe, so that git names foo_probe in the hunk headers
FOO_BEFORE = FOO.replace("\tfoo->count = 0;\n\treturn 0;",
                         "\tfoo->count = 0;\n\tfoo->buf = NULL;\n\tfoo->count++;\n\tfoo->count--;\n"
                         "\tfoo->count = 0;\n\tfoo->count = 0;\n\treturn 0;")
# (name, subject, date, (old, new) in FOO_BEFORE, [(reply name, reviewer, date, quote, words)]);
# o1-vic is about foo_probe() lines v3 does not show (left out), o1-tom too short once the cap is met
OTHER_SERIES = [
    ("o1", "foo: reset the count under the lock", "Fri, 15 Dec 2023 10:00:00 +0000",
     ("\tfoo->count--;\n\tfoo->count = 0;\n\tfoo->count = 0;\n\treturn 0;",
      "\tfoo->count -= 1;\n\tfoo->count = 0;\n\tspin_lock(&foo->lock);\n\tfoo->count = 0;\n"
      "\tspin_unlock(&foo->lock);\n\treturn 0;"),
     [("o1-rita", RITA, "Sat, 16 Dec 2023 10:00:00 +0000", "+\tspin_lock(&foo->lock);",
       "Taking foo->lock in probe needs a comment saying what it protects: nothing else can see foo yet."),
      ("o1-sam", SAM, "Sat, 16 Dec 2023 11:00:00 +0000", "+\tspin_unlock(&foo->lock);",
       "If this lock stays, the unlock should come after the count is read back as well, please."),
      ("o1-vic", VIC, "Sat, 16 Dec 2023 13:00:00 +0000", "-\tfoo->count--;\n> +\tfoo->count -= 1;",
       "Spelling the decrement out changes nothing here; it reads like leftover debugging code and should go."),
      ("o1-tom", TOM, "Sat, 16 Dec 2023 12:00:00 +0000", "+\tspin_lock(&foo->lock);",
       "Why a spinlock and not a mutex here?")]),
    ("o2", "foo: count the probes", "Thu, 25 Jan 2024 10:00:00 +0000",  # after v3 (20 Jan): not counted
     ("\tfoo->count = 0;\n\treturn 0;", "\tfoo->count = 1;\n\treturn 0;"),
     [("o2-uma", UMA, "Fri, 26 Jan 2024 10:00:00 +0000", "+\tfoo->count = 1;",
       "Starting the count at one breaks every caller that compares it with zero in this driver.")]),
    ("o3", "foo: init returns an error", "Mon, 18 Dec 2023 10:00:00 +0000",  # another function
     ("static int foo_init(void)\n{\n\treturn 0;", "static int foo_init(void)\n{\n\treturn -ENODEV;"),
     [("o3-rita", RITA, "Tue, 19 Dec 2023 10:00:00 +0000", "+\treturn -ENODEV;",
       "Returning -ENODEV from init makes the module refuse to load on every machine at all.")]),
]


def other_mid(name: str) -> str:
    return f"{name}-quinn@example.net"


def write_other_series(out: Path) -> dict[str, Path]:
    """Single-patch series of another author that changed foo.c before (and one after) v3,
    each with reviews, as out/<name>.eml."""
    mails: dict[str, str] = {}
    for name, subject, date, (old, new), replies in OTHER_SERIES:
        repo = out / "git" / name
        (repo / "drivers/foo").mkdir(parents=True)
        _git(repo, "init", "-q")
        (repo / "drivers/foo/foo.c").write_text(FOO_BEFORE)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "base")
        text = (repo / "drivers/foo/foo.c").read_text()
        assert old in text, name
        (repo / "drivers/foo/foo.c").write_text(text.replace(old, new, 1))
        _git(repo, "commit", "-q", "-a", "-m", subject)
        d = _git(repo, "format-patch", "--stdout", "-U3", "HEAD~1..HEAD")
        d = d[d.index("diff --git"):].split("\n-- \n")[0] + "\n"
        body = f"{subject} in the driver.\n\nSigned-off-by: {QUINN}\n---\n{d}-- \n2.43.0\n"
        mails[name] = _mail(other_mid(name), QUINN, date, f"[PATCH] {subject}", body)
        for rname, who, rdate, quote, words in replies:
            mails[rname] = _mail(f"{rname}@example.com", who, rdate, f"Re: [PATCH] {subject}",
                                 f"> {quote}\n\n{words}\n", other_mid(name))
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in mails.items():
        p = out / f"{name}.eml"
        p.write_text(text)
        paths[name] = p
    return paths
