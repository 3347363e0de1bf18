"""A series file read as a maintainer gives it: the plain reader (no b4) against b4's, each in
a process of its own.

The plain reader runs where b4 has never been imported; b4's import changes how Python's
email package formats addresses for the whole process (it registers utf-8 headers as
unencoded), so the two readers are compared here in separate processes, through the commands
a maintainer runs. A non-ASCII author's name is the case that showed it: the plain reader
first gave `=?utf-8?b?...?=` where b4 gives the name.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ASCII_AUTHOR = ("Ada Lovelace", "ada@example.org")
UTF8_AUTHOR = ("Jörg Ünicode", "jorg@example.org")

# Each reader in a fresh interpreter: the plain one must never import b4 (asserted), b4's
# reads the file through the am step, which always goes through b4.
_READ_PLAIN = """
import json, sys
from reviewtool.fetch import local, mbox, plain
from reviewtool.fetch.sources import classify
from reviewtool.model import to_json
out = {}
for path in sys.argv[1:]:
    unreadable = mbox.Unreadable()
    msgs = local.read_local(classify(path), max_bytes=1 << 26, unreadable=unreadable)
    found = plain.attempt(msgs, path, "https://lore.kernel.org/all", unreadable)
    out[path] = found if isinstance(found, str) else to_json(found)
assert "b4" not in sys.modules
print(json.dumps(out))
"""
_READ_B4 = """
import json, sys
from reviewtool.errors import ReviewtoolError
from reviewtool.fetch import fetch
from reviewtool.model import to_json
out = {}
for path in sys.argv[1:]:
    try:
        out[path] = to_json(fetch(path, lore_url="https://lore.kernel.org/all", offline=True, am=True).series)
    except ReviewtoolError as e:
        out[path] = str(e)
print(json.dumps(out))
"""


def _env(home: Path, author: tuple[str, str] = ASCII_AUTHOR) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1", "REVIEWTOOL_STORE": "",
            "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1]}


def _git(repo: Path, *args: str, author: tuple[str, str] = ASCII_AUTHOR) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], env=_env(repo.parent / "home", author), check=True,
                          capture_output=True, text=True, timeout=60).stdout


def _series_repo(tmp_path: Path, author: tuple[str, str] = ASCII_AUTHOR) -> Path:
    """A repository with tag `base`, a branch `target` beside it and, on main, one commit of
    each kind a series carries: a text change, a binary file, a rename, a deletion, a mode
    change, a CRLF file."""
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (tmp_path / "home").mkdir(exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "lib" / "a.c").write_text("int a;\nint b;\nint c;\n")
    (repo / "lib" / "old.c").write_text("old\n")
    (repo / "lib" / "gone.c").write_text("gone\n")
    (repo / "lib" / "run.sh").write_text("#!/bin/sh\n")
    (repo / "lib" / "crlf.c").write_bytes(b"one\r\ntwo\r\n")
    (repo / "lib" / "blob.bin").write_bytes(bytes(range(256)))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "tag", "base")
    sob = f"Signed-off-by: {author[0]} <{author[1]}>"

    def commit(subject: str) -> None:
        _git(repo, "commit", "-q", "-a", "-m", f"{subject}\n\nWhy: ça marche mieux ainsi.\n\n{sob}", author=author)

    (repo / "lib" / "a.c").write_text("int a;\nint b = 1;\nint c;\n")
    commit("lib: start b at one")
    (repo / "lib" / "blob.bin").write_bytes(bytes(reversed(range(256))))
    commit("lib: reverse the blob")
    _git(repo, "mv", "lib/old.c", "lib/new.c")
    commit("lib: rename old.c")
    _git(repo, "rm", "-q", "lib/gone.c")
    commit("lib: remove gone.c")
    (repo / "lib" / "run.sh").chmod(0o755)
    commit("lib: make run.sh executable")
    (repo / "lib" / "crlf.c").write_bytes(b"one\r\n2\r\n")
    commit("lib: edit the CRLF file")
    _git(repo, "branch", "target", "base")
    return repo


def _format_patch(repo: Path, name: str, *options: str) -> Path:
    out = repo.parent / name
    _git(repo, "format-patch", "-q", "-o", str(out), *options, "base..main")
    return out


def _cat(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.glob("*.patch")))


def _read_both(paths: list[Path], home: Path) -> tuple[dict[str, object], dict[str, object]]:
    def run(code: str) -> dict[str, object]:
        proc = subprocess.run([sys.executable, "-c", code, *map(str, paths)], env=_env(home), cwd=home,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        found: dict[str, object] = json.loads(proc.stdout)
        return found

    return run(_READ_PLAIN), run(_READ_B4)


def _cli(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "reviewtool", *args], env=_env(home), cwd=home, input=stdin,
                          capture_output=True, timeout=120)


def _set_header(mail: bytes, name: bytes, value: bytes | None) -> bytes:
    """mail with header `name` replaced by value (removed when None), added when absent."""
    head, _, body = mail.partition(b"\n\n")
    pattern = re.compile(rb"^" + re.escape(name) + rb":.*(\n[ \t].*)*\n?", re.I | re.M)
    head = pattern.sub(b"", head + b"\n").rstrip(b"\n")
    if value is not None:
        head += b"\n" + name + b": " + value
    return head + b"\n\n" + body


# --- the two readers agree, in processes of their own --------------------------------------------

def test_format_patch_variants_are_read_by_the_plain_reader_as_b4_reads_them(tmp_path: Path) -> None:
    repo = _series_repo(tmp_path)
    inputs: list[Path] = []
    for name, options in {
        "cover": ("--cover-letter", "--thread", "--base=base"),
        "bare": (),
        "rfc-v3": ("--rfc", "-v3", "--subject-prefix=PATCH net-next", "--thread", "-n"),
        "zero": ("--zero-commit", "--no-signature", "--thread=deep", "--cover-letter"),
        "attach": ("--attach", "--thread"),
        "inline": ("--inline", "--thread"),
    }.items():
        out = _format_patch(repo, name, *options)
        mbox = tmp_path / f"{name}.mbox"
        mbox.write_bytes(_cat(out))
        inputs += [out, mbox]
    plain, b4 = _read_both(inputs, tmp_path / "home")
    declined = {p: why for p, why in plain.items() if isinstance(why, str)}
    assert not declined  # every one is a plain posting
    assert {p: s for p, s in plain.items() if s != b4[p]} == {}


def test_odd_but_readable_mail_is_read_by_the_plain_reader_as_b4_reads_it_or_left_to_b4(tmp_path: Path) -> None:
    repo = _series_repo(tmp_path)
    first = sorted(_format_patch(repo, "thread", "--cover-letter", "--thread").glob("*.patch"))[1].read_bytes()
    head, _, body = _set_header(first, b"Content-Transfer-Encoding", b"base64").partition(b"\n\n")
    odd = {
        "latin1": _set_header(first.replace("ça".encode(), "ça".encode("latin-1")), b"Content-Type",
                              b"text/plain; charset=iso-8859-1"),
        "latin1-undeclared": first.replace("ça".encode(), "ça".encode("latin-1")),
        "broken-base64": head + b"\n\n" + base64.encodebytes(body)[:-9] + b"!!*&\n====\n",
        "unknown-charset": _set_header(first, b"Content-Type", b"text/plain; charset=x-unknown-42"),
        "encoded-prefix": _set_header(first, b"Subject", b"=?utf-8?q?=5BPATCH_1/6=5D?= lib: start b at one"),
        "encoded-unknown-charset": _set_header(first, b"Subject", b"[PATCH 1/6] =?x-foo?q?hello?= lib"),
        "msgid-space": _set_header(first, b"Message-Id", b"<a b@example.org>"),
        "msgid-quotes": _set_header(first, b"Message-Id", b'<"a"@example.org>'),
        "no-from": _set_header(first, b"From", None),
        "no-subject": _set_header(first, b"Subject", None),
        "no-date": _set_header(first, b"Date", None),
        "bad-date": _set_header(first, b"Date", b"yesterday at noon"),
        "huge-subject": _set_header(first, b"Subject", b"[PATCH 1/6] " + b"x" * 200_000),
        "numbered-3-of-2": _set_header(first, b"Subject", b"[PATCH 3/2] lib: start b at one"),
        "twice": first + b"\n" + first,
    }
    paths = []
    for name, data in odd.items():
        path = tmp_path / f"{name}.eml"
        path.write_bytes(data if not data.startswith(b"From ") or name == "twice" else data.split(b"\n", 1)[1])
        paths.append(path)
    plain, b4 = _read_both(paths, tmp_path / "home")
    assert {p: s for p, s in plain.items() if not isinstance(s, str) and s != b4[p]} == {}
    read_plainly = {Path(p).stem for p, s in plain.items() if not isinstance(s, str)}
    assert read_plainly >= {"latin1", "broken-base64", "encoded-prefix", "msgid-space", "msgid-quotes", "no-from",
                            "no-subject", "huge-subject"}
    assert not read_plainly & {"unknown-charset", "no-date", "bad-date", "numbered-3-of-2", "twice"}  # left to b4


def test_a_non_ascii_author_is_read_by_the_plain_reader_as_b4_reads_it(tmp_path: Path) -> None:
    repo = _series_repo(tmp_path, UTF8_AUTHOR)
    out = _format_patch(repo, "cover", "--cover-letter", "--thread")
    plain, b4 = _read_both([out], tmp_path / "home")
    series = plain[str(out)]
    assert isinstance(series, dict)
    assert {p["author"] for p in series["patches"]} == {"Jörg Ünicode <jorg@example.org>"}
    assert series == b4[str(out)]


def test_rebase_branch_of_a_file_keeps_the_authors_name(tmp_path: Path) -> None:
    repo = _series_repo(tmp_path, UTF8_AUTHOR)
    out = _format_patch(repo, "bare", "-1")  # the CRLF edit alone: it applies cleanly onto target
    home = tmp_path / "home"
    proc = _cli(home, "rebase", "--store", str(tmp_path / "store"), "--repo", str(repo), "--onto", "main~1",
                "--branch", "review/one", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert _git(repo, "log", "-1", "--format=%an <%ae>", "review/one").strip() == "Jörg Ünicode <jorg@example.org>"


# --- the store and the user's repository -------------------------------------------------------------

@pytest.mark.parametrize("author", [ASCII_AUTHOR, UTF8_AUTHOR])
def test_check_of_a_file_keeps_the_am_mbox_that_fetch_wrote(tmp_path: Path, author: tuple[str, str]) -> None:
    repo = _series_repo(tmp_path, author)
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(_cat(_format_patch(repo, "cover", "--cover-letter", "--thread")))
    home, store = tmp_path / "home", tmp_path / "store"
    assert _cli(home, "fetch", "--offline", "-q", "--store", str(store), str(mbox)).returncode == 0
    (kept,) = (store / "series").iterdir()
    assert (kept / "am.mbox").is_file()
    assert _cli(home, "check", "--no-checkpatch", "--store", str(store), str(mbox)).returncode in (0, 1)
    assert (kept / "am.mbox").is_file()


def test_check_and_rebase_of_a_file_leave_the_repository_and_all_but_the_store_alone(tmp_path: Path) -> None:
    repo = _series_repo(tmp_path)
    out = _format_patch(repo, "cover", "--cover-letter", "--thread")
    (repo / "lib" / "a.c").write_text("work in progress\n")  # a dirty worktree
    _git(repo, "stash", "-q")
    (repo / "lib" / "a.c").write_text("more work\n")
    _git(repo, "add", "lib/a.c")

    def state() -> list[str]:
        return [_git(repo, "status", "--porcelain=v2", "--branch"), _git(repo, "stash", "list"),
                _git(repo, "config", "--list", "--local"), _git(repo, "for-each-ref"),
                (repo / ".git" / "index").read_bytes().hex(), (repo / "lib" / "a.c").read_text()]

    before = state()
    home, store = tmp_path / "home", tmp_path / "store"
    outside_before = {p for p in home.rglob("*")}
    mbox = _cat(out)
    for args, stdin in [(("check", "--no-checkpatch", "--repo", str(repo), str(out)), None),
                        (("check", "--no-checkpatch", "--format", "markdown", str(out)), None),
                        (("rebase", "--repo", str(repo), "--onto", "target", str(out)), None),
                        (("history", "--offline", str(out)), None),
                        (("check", "--no-checkpatch", "-"), mbox)]:
        proc = _cli(home, *args, "--store", str(store), stdin=stdin)
        assert proc.returncode in (0, 1), proc.stderr.decode()
        assert b"Traceback" not in proc.stderr
    assert state() == before
    (kept,) = (store / "series").iterdir()
    assert sorted(p.name for p in kept.iterdir()) == ["check.json", "rebase.json", "series.json", "thread.mbox"]
    written = {p.relative_to(home).as_posix() for p in home.rglob("*")} - {p.relative_to(home).as_posix()
                                                                              for p in outside_before}
    assert written <= {".cache", ".cache/reviewtool", ".cache/reviewtool/rule-packs.cache",  # the rule-pack cache
                       ".cache/reviewtool/regex.cache"}  # and the compiled regexes (rx.py)


# --- hostile files: one line on stderr and exit 2 -------------------------------------------------

def _patch_mail() -> bytes:
    return (b"From: Ada Lovelace <ada@example.org>\nSubject: [PATCH] lib: one fix\nMessage-ID: <one@example.org>\n"
            b"Date: Sat, 5 Dec 2026 10:00:00 +0000\n\nFix it.\n\nSigned-off-by: Ada Lovelace <ada@example.org>\n"
            b"---\ndiff --git a/lib/a.c b/lib/a.c\n--- a/lib/a.c\n+++ b/lib/a.c\n@@ -1 +1 @@\n-int a;\n+int a = 1;\n")


@pytest.mark.parametrize("name,data", [
    ("empty", b""),
    ("random-bytes", bytes(range(256)) * 8),
    ("no-diff", _set_header(_patch_mail(), b"Subject", b"[PATCH] words").split(b"---\n")[0]),
    ("numbered-0-of-0", _set_header(_patch_mail(), b"Subject", b"[PATCH 0/0] lib: one fix")),
    ("empty-message-id", _set_header(_patch_mail(), b"Message-ID", b"<>")),
    ("date-year-99999", _set_header(_patch_mail(), b"Date", b"Sat, 5 Dec 99999 10:00:00 +0000")),
    ("comments-nested-5000-deep", _set_header(_patch_mail(), b"From", b"(" * 5000 + b"x" + b")" * 5000 + b" <a@b.org>")),
    ("mime-nested-60-deep", _set_header(_patch_mail(), b"MIME-Version", b"1.0").replace(
        b"\n\n", b"\nContent-Type: multipart/mixed; boundary=b0\n\n" + b"".join(
            b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(60)), 1)),
])
def test_a_hostile_file_is_refused_in_one_line_with_exit_2(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / f"{name}.mbox"
    path.write_bytes(data)
    home = tmp_path / "home"
    home.mkdir()
    proc = _cli(home, "check", "--no-checkpatch", "--store", str(tmp_path / "store"), str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1 and err.startswith("reviewtool: error: "), err
    assert not (tmp_path / "store" / "series").exists()  # nothing half-written
