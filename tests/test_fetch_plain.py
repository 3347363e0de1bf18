"""The reader of plain postings without b4 (fetch/plain.py, headers.py, mbox.py) against b4's own.

Every case reads the same mail both ways: the plain reader must give b4's Series exactly, or
decline (and then b4 reads it). Its header reads are compared with b4's and liblore's on
generated hostile input; a local check of a plain posting is shown not to import b4.
"""

from __future__ import annotations

import email.message
import functools
import inspect
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import b4
import liblore.utils
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.fetch import headers, mbox, plain, thread
from reviewtool.fetch.lore import setup_b4
from reviewtool.model import Series, to_json
from tests import fetch_threads as ft

ROOT = Path(__file__).resolve().parent.parent
LORE = "https://lore.kernel.org/all"
ENV = {**os.environ, "REVIEWTOOL_STORE": "", "GIT_CONFIG_NOSYSTEM": "1"}


def both(raw: bytes) -> tuple[Series | str, Series]:
    """(the plain reader's Series or why it declined, b4's Series) of one mbox."""
    unreadable = mbox.Unreadable()
    ours = plain.attempt(mbox.parse_all(mbox.split(raw), unreadable), "t.mbox", LORE, unreadable)
    setup_b4(LORE)
    theirs, am = thread.build_series(mbox.parse_all(mbox.split(raw), mbox.Unreadable()), None, "t.mbox", LORE,
                                     mbox.Unreadable(), am=False)
    assert am is None
    return ours, theirs


def same_as_b4(raw: bytes) -> Series:
    ours, theirs = both(raw)
    assert isinstance(ours, Series), f"declined: {ours}"
    assert to_json(ours) == to_json(theirs)
    return ours


def git(repo: Path, *args: str, author: str = "Jörg Ünicode") -> str:
    env = {**ENV, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "jorg@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "jorg@example.org", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def format_patch(tmp_path: Path, *extra: str, patches: int = 3, author: str = "Jörg Ünicode") -> Path:
    """A real `git format-patch` series of a fresh repository: its output directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = functools.partial(globals()["git"], author=author)
    git(repo, "init", "-q", "-b", "main")
    (repo / "lib").mkdir()
    for i in range(patches):
        (repo / "lib" / f"f{i}.c").write_text("int a;\nint b;\nint c;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    for i in range(patches):
        (repo / "lib" / f"f{i}.c").write_text(f"int a;\nint b{i} = {i};\nint c;\n")
        git(repo, "commit", "-q", "-a", "-m", f"lib: change f{i}\n\nMake b{i} start at {i}: ça marche.\n\n"
                                                 "Signed-off-by: Jörg Ünicode <jorg@example.org>")
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", f"--base={base}", "-o", str(out), *extra, f"{base}..HEAD")
    return out


def cat(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.glob("*.patch")))


# --- postings the plain reader takes, exactly as b4 reads them -----------------------------------

@pytest.mark.parametrize("extra", [
    ("--cover-letter", "--thread=shallow"),
    ("--cover-letter", "--thread=deep", "-v3"),
    ("--thread=shallow", "--subject-prefix=PATCH RFC"),
    ("--cover-letter",),  # no Message-ID: ids from the files' bytes
])
def test_format_patch_output_is_read_as_b4_reads_it(tmp_path: Path, extra: tuple[str, ...]) -> None:
    s = same_as_b4(cat(format_patch(tmp_path, *extra)))
    assert [p.index for p in s.patches] == [1, 2, 3]
    assert s.base_commit and all(p.patch_id for p in s.patches)
    assert s.patches[0].author == "Jörg Ünicode <jorg@example.org>"


def test_a_format_patch_directory_is_read_as_an_mbox_of_it(tmp_path: Path) -> None:
    out = format_patch(tmp_path, "--cover-letter")
    from reviewtool.fetch import fetch

    got = fetch(str(out), lore_url=LORE, offline=True, am=False)
    assert got.am_mbox is None and got.series.cover is not None
    assert "given ids made from their content" in " ".join(got.series.warnings)
    again = fetch(str(out), lore_url=LORE, offline=True)  # with the am step: b4's reader
    assert to_json(again.series) == to_json(got.series)


@pytest.mark.parametrize("build", [
    lambda: ft.single_of_larger(),
    lambda: ft.stable_partial(),
    lambda: ft.stable_partial(total=12, present=3),
    lambda: [ft.mail("[PATCH] lib: one fix", "one@x", body=ft.patch_body("Fix.", ft.diff("lib/a.c")))],
])
def test_single_patches_and_partial_series(build: Callable[[], list[bytes]]) -> None:
    s = same_as_b4(ft.mbox(build()))
    assert s.patches and not s.replies


def test_encoded_headers_other_charsets_and_metadata() -> None:
    cover_body = ("Two changes.\n\nJoerg Unicode (2):\n  a\n  b\n\n 2 files changed, 2 insertions(+), "
                  "2 deletions(-)\n\nbase-commit: 0123456789abcdef0123456789abcdef01234567\n"
                  "change-id: 20210801-tidy-0a1b2c\nprerequisite-patch-id: " + "ab" * 20 + "\n")
    mails = [ft.mail("[PATCH v4 0/2] =?utf-8?q?lib=3A_t=C3=BCdy?=", "c@x", sender="=?utf-8?q?J=C3=B6rg?= <j@x.org>",
                     body=cover_body, to="=?iso-8859-1?q?J=F6rg?= <j@x.org>, list@vger.kernel.org")]
    for i in (1, 2):
        body = ft.patch_body(f"Fix {i}: caf\xe9.", ft.diff(f"lib/{i}.c", new="caf\xe9"))
        latin = ft.mail(f"[PATCH v4 {i}/2] lib: fix {i}", f"{i}@x", sender="=?utf-8?q?J=C3=B6rg?= <j@x.org>",
                        reply_to="c@x", body="")
        latin = latin.replace(b"charset=UTF-8", b"charset=ISO-8859-1") + body.encode("latin-1")
        mails.append(latin)
    s = same_as_b4(ft.mbox(mails))
    assert s.revision == 4 and s.change_id == "20210801-tidy-0a1b2c" and s.prerequisite_patch_ids
    assert "café" in s.patches[0].diff and s.author == "Jörg <j@x.org>"


# --- what the plain reader leaves to b4 -----------------------------------------------------------

@pytest.mark.parametrize("name", ["mce_series_with_robot", "one_patch_with_tip_bot", "v6_older_than_v5",
                                  "reply_with_pasted_patch", "v17_with_v16_replies"])
def test_threads_with_replies_bots_or_two_revisions_are_left_to_b4(name: str) -> None:
    ours, _theirs = both(ft.mbox(getattr(ft, name)()))
    assert isinstance(ours, str)


def test_a_cover_letter_answering_another_mail_with_a_trailer_line_is_left_to_b4() -> None:
    """b4 may take such a cover letter for a reply (it carries a trailer and answers a mail)."""
    mails = [ft.mail("[PATCH v2 0/1] lib: fix", "c@x", reply_to="v1@x", body="Link: https://x.org/1\nAcked-by: A <a@x.org>\n"),
             ft.mail("[PATCH v2 1/1] lib: fix", "1@x", reply_to="c@x", body=ft.patch_body("Fix.", ft.diff("lib/a.c")))]
    ours, theirs = both(ft.mbox(mails))
    assert ours == "a mail that answers another and may carry trailers"
    assert theirs.cover is None  # b4 took it for a reply: the readers would have differed


def test_a_cover_letter_sent_in_reply_is_left_to_b4(tmp_path: Path) -> None:
    """format-patch --in-reply-to: b4 takes the cover letter's `base-commit:` line for a
    trailer, and so the cover letter for a reply as well as the cover letter; the plain
    reader does not guess."""
    raw = cat(format_patch(tmp_path, "--cover-letter", "--thread=shallow", "--in-reply-to=<v1@example.org>"))
    ours, theirs = both(raw)
    assert ours == "a mail that answers another and may carry trailers"
    assert theirs.cover is not None and theirs.cover.msgid in {r.msgid for r in theirs.replies}


def test_every_fixture_thread_is_read_the_same_or_left_to_b4() -> None:
    """The fixture threads, the patch mails of each (replies left out), and the fixture series."""
    builders = [f for n, f in vars(ft).items() if inspect.isfunction(f) and f.__module__ == ft.__name__
                and not inspect.signature(f).parameters.keys() - {"index", "total", "present"}
                and n not in ("diff", "mail", "patch_body", "mbox")]
    threads = [f() for f in builders]
    postings = [[m for m in t if not headers.subject(_subject_of(m)).reply] for t in threads]
    cases = [ft.mbox(t) for t in threads + postings if t]
    cases += [ft.mbox([(ROOT / "fixtures" / "mail" / f"v{v}-0{i}.eml").read_bytes() for i in range(n)])
              for v, n in ((1, 6), (2, 7))]
    taken = 0
    for raw in cases:
        ours, theirs = both(raw)
        if isinstance(ours, Series):
            taken += 1
            assert to_json(ours) == to_json(theirs)
    assert len(cases) >= 15 and taken >= 7  # the postings without bots, replies or a second revision


def _subject_of(raw: bytes) -> str:
    return next(line[9:].decode() for line in raw.split(b"\n") if line.startswith(b"Subject: "))


# --- the header reads, against b4's and liblore's -------------------------------------------------

_PREFIX_WORDS = st.sampled_from(["PATCH", "RFC", "v2", "v10", "RESEND", "PATCHv3", "1/3", "0/12", "10000/10001",
                                 "net-next", "3/2", "[", "]", ",", ";", "Re:", "Aw:", "Fwd:", "=?utf-8?q?f=C3=B6?=",
                                 "PATCH,", "v2;", "\t", "  "])
_SUBJECTS = st.lists(st.one_of(_PREFIX_WORDS, st.text(max_size=6)), max_size=10).map(" ".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_SUBJECTS)
def test_subject_reads_as_b4s_lore_subject(text: str) -> None:
    mine = headers.subject(text)
    theirs = b4.LoreSubject(text)
    assert mine == headers.Subject(theirs.full_subject, theirs.subject, theirs.reply, theirs.resend, theirs.patch,
                                   theirs.revision, theirs.counter, theirs.expected, theirs.revision_inferred,
                                   theirs.counters_inferred)


_NAMES = st.sampled_from(["Jörg", "=?utf-8?q?J=C3=B6rg?=", "=?iso-8859-1?q?J=F6rg_?= Ü", '"Last, First"', "a@b",
                          "=?unknown-8bit?q?x=FF?=", "(comment)", "", "Bob (Work)", "=?utf-8?b?w7w=?="])
_ADDRS = st.sampled_from(["<a@x.org>", "<jörg@exämple.org>", "a@x.org", "<>", "<a@x.org>, <b@y.org>"])


@settings(max_examples=300, deadline=None)
@given(_NAMES, _ADDRS, st.sampled_from(["Mon, 02 Aug 2021 10:00:00 +0000", "2 Aug 2021 10:00 -0700",
                                        "Mon, 02 Aug 2021 10:00:00 -9900", "Mon, 02 Aug 2021 10:00:00"]))
def test_sender_date_and_addresses_read_as_b4_reads_them(name: str, addr: str, date: str) -> None:
    raw = f"From: {name} {addr}\nTo: {name} {addr}\nCc: {addr}\nDate: {date}\nMessage-ID: <m@x>\nSubject: s\n\nbody\n"
    msg = mbox.parse(raw.encode(), mbox.Unreadable())
    assert msg is not None
    try:
        lmsg = b4.LoreMessage(msg)
    except mbox.HEADER_ERRORS:
        return
    assert headers.sender(msg) == (lmsg.fromname, lmsg.fromemail)
    assert headers.date(msg) == lmsg.date
    assert headers.payload(msg) == lmsg.body
    for h in ("To", "Cc", "From"):
        values = [b4.LoreMessage.clean_header(str(v)) for v in msg.get_all(h, [])]
        assert [headers.clean_header(str(v)) for v in msg.get_all(h, [])] == values


def test_payload_reads_as_b4s_get_payload() -> None:
    parts = email.message.EmailMessage()
    parts["Message-ID"] = "<p@x>"
    parts.set_content("Please see the patch.\n")
    parts.add_attachment("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", subtype="x-patch")
    parts.add_attachment("second part\n", subtype="plain", cte="base64")
    quoted = mbox.parse(b"Message-ID: <q@x>\nContent-Type: text/plain; charset=iso-8859-1\n"
                        b"Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nsoft\n", mbox.Unreadable())
    for msg in (mbox.parse(parts.as_bytes(), mbox.Unreadable()), quoted):
        assert msg is not None
        assert headers.payload(msg) == b4.LoreMessage.get_payload(msg, use_patch=True)[0]


_LINES = st.sampled_from([b"From a@b Mon Sep 17 00:00:00 2001", b"From mboxrd@z Thu Jan  1 00:00:00 1970",
                          b">From x", b">>From y", b"From not a separator", b"", b"Subject: s", b"body",
                          b"\r", b"From: a@b"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30))
def test_mbox_split_is_liblores(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    if data.startswith(b"From "):
        assert mbox.split(data) == liblore.utils.split_mbox_as_bytes(data)


def test_the_raw_thread_is_written_as_b4_writes_it(tmp_path: Path) -> None:
    raw = cat(format_patch(tmp_path, "--cover-letter", "--thread=shallow")) + ft.mbox(ft.reply_with_pasted_patch())
    msgs = mbox.parse_all(mbox.split(raw), mbox.Unreadable())
    out = io.BytesIO()
    b4.save_mboxrd_mbox(msgs, out, mangle_from=True)
    assert mbox.thread_mbox(msgs) == out.getvalue()


# --- the product: a local check of a plain posting -----------------------------------------------

# What a local check of C code must not import: b4 and its network stack; gitpython; and
# what only costs start-up time (dataclasses and inspect: records stand in; shutil,
# tempfile and importlib.resources: argparse's width and tree_sitter_c's query files;
# subprocess and threading, for two small git commands: spawn.py; pathlib: paths.py; the
# email package, with socket, selectors and urllib.parse behind it, for mail of the plain
# shape: fetch/lightmail.py).
NOT_IMPORTED = ("b4", "liblore", "requests", "dkim", "git", "dataclasses", "inspect", "shutil", "tempfile",
                "importlib.resources", "subprocess", "threading", "pathlib")
NOT_IMPORTED_FOR_PLAIN_MAIL = ("email", "email.utils", "email.message", "email.parser", "socket", "selectors",
                               "urllib.parse", "ipaddress")


@pytest.mark.parametrize("author", ["Jörg Ünicode", "Pat Author"])
def test_check_of_a_plain_posting_does_not_import_b4_and_keeps_no_am_mbox(tmp_path: Path, author: str) -> None:
    out = format_patch(tmp_path, "--cover-letter", "--thread=shallow", author=author)
    not_imported = NOT_IMPORTED + (NOT_IMPORTED_FOR_PLAIN_MAIL if author.isascii() else ())
    series = tmp_path / "series.mbox"
    series.write_bytes(cat(out))
    store = tmp_path / "store"
    code = (f"import sys\nNOT_IMPORTED = {not_imported!r}\nfrom reviewtool.cli import main\nrc = main(sys.argv[1:])\n"
            "print('IMPORTED', sorted(m for m in NOT_IMPORTED if m in sys.modules),"
            " file=sys.stderr)\nsys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code, "check", str(series), "--store", str(store),
                           "--no-checkpatch", "--json"], env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert "IMPORTED []" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["rules_run"] and "findings" in result
    (kept,) = (store / "series").iterdir()
    assert sorted(p.name for p in kept.iterdir()) == ["check.json", "series.json", "thread.mbox"]
    subprocess.run([sys.executable, "-m", "reviewtool", "fetch", str(series), "--offline", "--store", str(store), "-q"],
                   env=ENV, check=True, capture_output=True, timeout=120)
    assert (kept / "am.mbox").read_bytes().count(b"From git@z") == 3


def test_patch_ids_of_a_long_series_and_of_one_given_up_on() -> None:
    """Past 400 patches the input is not written ahead (git's answer might fill its pipe):
    the ids are the same either way. A reader that gives up stops git."""
    from reviewtool.fetch.patchids import PatchIds, patch_ids

    bodies = ["Fix.\n\n---\n" + ft.diff(f"lib/f{i}.c") for i in range(450)]
    every = patch_ids(bodies)
    assert every is not None and None not in every and len(set(every)) == 450
    assert every == (patch_ids(bodies[:400]) or []) + (patch_ids(bodies[400:]) or [])
    with PatchIds(bodies[:3]) as running:
        proc = running._proc
    assert proc is not None and proc.returncode is not None


def test_patch_ids_are_b4s_when_git_prints_two_for_one_mail() -> None:
    """A hunk longer than its header says: git ends the patch there and prints a second id
    (under the null commit) for the rest. b4 takes the first; so must the batch, for every
    patch of it (the last one used to get the second id)."""
    from reviewtool.fetch.patchids import patch_ids

    odd = ("Fix.\n\n---\ndiff --git a/x b/x\nindex 1111111..2222222 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
           " one line more than the header says\ndiff --git a/y b/y\nindex 1111111..2222222 100644\n--- a/y\n+++ b/y\n"
           "@@ -1 +1 @@\n-c\n+d\n")
    plain_body = "Fix.\n\n---\n" + ft.diff("lib/a.c")
    got = patch_ids([plain_body, odd])
    assert got == [b4.LoreMessage.get_patch_id(plain_body), b4.LoreMessage.get_patch_id(odd)]
    assert got[0] != got[1]


def test_a_binary_patch_keeps_the_blank_line_that_ends_it_and_applies(tmp_path: Path) -> None:
    """git ends a binary patch with a blank line; the diff of the Series lost it, and rebase
    then failed with git's "corrupt binary patch" on a patch `git apply` takes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "fw.bin").write_bytes(bytes(range(256)) * 4)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", "base")
    (repo / "fw.bin").write_bytes(bytes(reversed(range(256))) * 5)
    git(repo, "commit", "-q", "-a", "-m", "fw: refresh the blob\n\nSigned-off-by: Jörg Ünicode <jorg@example.org>")
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "--binary", "-o", str(out), "base..HEAD")
    s = same_as_b4(cat(out))
    assert s.patches[0].diff.endswith("\n\n") and "GIT binary patch" in s.patches[0].diff
    store = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-m", "reviewtool", "rebase", str(out), "--repo", str(repo), "--onto", "base",
                           "--store", str(store), "--json"], env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [p["outcome"] for p in json.loads(proc.stdout)["patches"]] == ["clean"]


def test_mails_sharing_one_message_id_are_named_as_the_reason_no_patch_is_found(tmp_path: Path) -> None:
    """Every mail with the same Message-ID: the cover letter is read, the patches are
    duplicates; the error says so instead of asking whether it is a thread of replies."""
    mails = [ft.mail("[PATCH 0/2] lib: two", "same@x", body="Two.\n")]
    mails += [ft.mail(f"[PATCH {i}/2] lib: fix {i}", "same@x", body=ft.patch_body("Fix.", ft.diff(f"lib/{i}.c")))
              for i in (1, 2)]
    (tmp_path / "t.mbox").write_bytes(ft.mbox(mails))
    proc = subprocess.run([sys.executable, "-m", "reviewtool", "check", str(tmp_path / "t.mbox"), "--store",
                           str(tmp_path / "store")], env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"reviewtool: error: no patch found in {tmp_path / 't.mbox'}: 2 mail(s) have the Message-ID of an earlier "
        "mail and were left out as duplicates"]


def test_address_lists_of_fifty_thousand_are_cut_before_any_parser_reads_them(tmp_path: Path) -> None:
    """The email package's address parser is quadratic: a 1.4 MB Cc took minutes in both
    readers (b4 parses From: the same way). mbox.py cuts an address header past
    MAX_ADDRESS_CHARS after its last whole address, so both readers read the first ones (the
    60 s timeouts guard the runs; each takes about a second)."""
    many = ", ".join(f"Person {i} <p{i}@example.org>" for i in range(50_000))
    mails = [ft.mail("[PATCH] lib: one fix", "one@x", body=ft.patch_body("Fix.", ft.diff("lib/a.c")),
                     extra=f"Cc: {many}"),
             ft.mail("Re: [PATCH] lib: one fix", "two@x", reply_to="one@x", sender=f"{ft.BOB}, {many}",
                     body="Reviewed-by: Bob Maintainer <bob@example.org>\n", to=many)]
    (tmp_path / "t.mbox").write_bytes(ft.mbox(mails[:1]))
    (tmp_path / "thread.mbox").write_bytes(ft.mbox(mails))
    for args in (["check", str(tmp_path / "t.mbox"), "--no-checkpatch"], ["fetch", "--offline", "-q", str(tmp_path / "thread.mbox")]):
        proc = subprocess.run([sys.executable, "-m", "reviewtool", *args, "--store", str(tmp_path / "store")], env=ENV,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode in (0, 1), proc.stderr
    for kept in (tmp_path / "store" / "series").iterdir():
        series = json.loads((kept / "series.json").read_text())
        cc_read = series["patches"][0]["cc"]
        assert cc_read[0] == "Person 0 <p0@example.org>" and 400 < len(cc_read) < 50_000
        if series["replies"]:
            assert series["replies"][0]["author"] == ft.BOB
            assert series["patches"][0]["trailers"][0]["value"] == "Bob Maintainer <bob@example.org>"
    short = [ft.mail("[PATCH] lib: one fix", "one@x", body=ft.patch_body("Fix.", ft.diff("lib/a.c")),
                     extra="Cc: Person 0 <p0@example.org>, =?utf-8?q?J=C3=B6rg?= <j@x.org>")]
    assert same_as_b4(ft.mbox(short)).patches[0].cc == ("Person 0 <p0@example.org>", "Jörg <j@x.org>")


def test_a_references_list_of_twenty_thousand_keeps_its_root_and_parents_and_is_read_quickly(tmp_path: Path) -> None:
    """b4 builds References checking each id against all before it (20,000 ids: 3.8 s, 100,000
    minutes). Past MAX_LIST_CHARS the list keeps its first id and its last ones, so the reply
    still finds its patch (the 60 s timeout guards the run)."""
    refs = [f"ref{i}@example.org" for i in range(100_000)]
    patch = ft.mail("[PATCH] lib: one fix", "one@x", body=ft.patch_body("Fix.", ft.diff("lib/a.c")))
    reply = ft.mail("Re: [PATCH] lib: one fix", "two@x", sender=ft.BOB, reply_to="one@x", refs=["root@x", *refs, "one@x"],
                    body="Reviewed-by: Bob Maintainer <bob@example.org>\n")
    reply = reply.replace(b"In-Reply-To: <one@x>\n", b"")  # found through References alone
    msg = mbox.parse(reply, mbox.Unreadable())
    assert msg is not None
    kept = str(msg["References"]).split()
    assert kept[0] == "<root@x>" and kept[-1] == "<one@x>" and len(" ".join(kept)) <= mbox.MAX_LIST_CHARS
    (tmp_path / "t.mbox").write_bytes(ft.mbox([patch, reply]))
    proc = subprocess.run([sys.executable, "-m", "reviewtool", "fetch", "--offline", "-q", "--json", str(tmp_path / "t.mbox"),
                           "--store", str(tmp_path / "store")], env=ENV, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (kept_dir,) = (tmp_path / "store" / "series").iterdir()
    series = json.loads((kept_dir / "series.json").read_text())
    assert [t["value"] for t in series["patches"][0]["trailers"]] == ["Bob Maintainer <bob@example.org>"]
