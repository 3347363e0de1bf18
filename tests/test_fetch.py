"""`reviewtool fetch`, `list`, `show`: files, stdin and a real public-inbox-httpd on 127.0.0.1."""

from __future__ import annotations

import email
import json
import mailbox
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.cli import main
from tests.conftest import MAIL, mails
from tests.pi import PublicInbox, free_port

V2_COVER = "20210809215402.804942-1-pasha.tatashin@example.org"
V2_P3 = "20210809215402.804942-4-pasha.tatashin@example.org"
V1_COVER = "20210802215401.804941-1-pasha.tatashin@example.org"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def fail(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("reviewtool: error: "), err
    return lines[0]


def stored(store: Path) -> list[Path]:
    root = store / "series"
    return sorted(root.iterdir()) if root.exists() else []


def trailers(patch: dict[str, Any]) -> set[tuple[str, str]]:
    return {(t["name"], t["from"].split(" <")[0]) for t in patch["trailers"]}


def check_v2(d: dict[str, Any]) -> None:
    assert d["revision"] == 2 and d["expected"] == 6 and d["missing"] == []
    assert d["subject"] == "arm64: MMU enabled kexec relocation"
    assert d["author"] == "Pavel Tatashin <pasha.tatashin@example.org>"
    assert d["msgid"] == V2_COVER and d["cover"]["msgid"] == V2_COVER
    assert [p["index"] for p in d["patches"]] == [1, 2, 3, 4, 5, 6]
    assert d["patches"][3]["subject"] == "arm64: kexec: install a copy of the linear-map"
    assert d["patches"][3]["files"] == ["arch/arm64/kernel/machine_kexec.c"]
    assert d["base_commit"] and len(d["base_commit"]) == 40
    # The cover letter's Reviewed-by lands on every patch; single-patch trailers stay put.
    for p in d["patches"]:
        assert ("Reviewed-by", "James Morse") in trailers(p)
    assert ("Acked-by", "Marc Zyngier") in trailers(d["patches"][2])
    assert ("Tested-by", "Pingfan Liu") in trailers(d["patches"][4])
    for i in (0, 1, 3, 5):
        assert not {n for n, _ in trailers(d["patches"][i])} & {"Acked-by", "Tested-by"}


# --- local sources -------------------------------------------------------------------


def test_fetch_patch_directory_picks_newest_revision_and_collects_trailers(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", str(MAIL), "--offline")
    check_v2(d)
    assert d["other_revisions"] == [1]
    files = {p.name for p in (store / "series" / d["id"]).iterdir()}
    assert files == {"series.json", "am.mbox", "thread.mbox"}
    saved = json.loads((store / "series" / d["id"] / "series.json").read_text())
    assert saved["schema_version"] == 1 and saved == d


def test_fetch_v1_with_revision_flag(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", str(MAIL), "--offline", "-v", "1")
    assert d["revision"] == 1 and d["expected"] == 5 and d["msgid"] == V1_COVER
    assert d["other_revisions"] == [2]
    assert ("Reviewed-by", "James Morse") in trailers(d["patches"][1])
    assert trailers(d["patches"][0]) == set()


def test_fetch_unknown_revision_is_an_error(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = fail(capsys, "fetch", str(MAIL), "--offline", "-v", "7")
    assert "no v7" in line and "v1, v2" in line
    assert stored(store) == []


def test_fetch_mbox_file_and_am_mbox_has_trailers(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mbox = tmp_path / "thread.mbox"
    with mbox.open("wb") as out:
        for f in mails("v2-"):
            out.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + f.read_bytes() + b"\n")
    d = run_json(capsys, "fetch", str(mbox), "--offline")
    check_v2(d)
    am = (store / "series" / d["id"] / "am.mbox").read_text()
    assert am.count("\nFrom git@z ") + am.startswith("From git@z ") == 6
    assert "Acked-by: Marc Zyngier <maz@example.org>" in am


def test_fetch_maildir(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = mailbox.Maildir(tmp_path / "md")
    for f in mails("v2-"):
        md.add(f.read_bytes())
    check_v2(run_json(capsys, "fetch", str(tmp_path / "md"), "--offline"))


def test_fetch_from_stdin(store: Path) -> None:
    data = b"".join(b"From x@z Thu Jan  1 00:00:00 1970\n" + f.read_bytes() + b"\n" for f in mails("v2-"))
    r = subprocess.run([sys.executable, "-m", "reviewtool", "fetch", "-", "--offline", "--json"],
                       input=data, capture_output=True, timeout=60, env=os.environ)
    assert r.returncode == 0, r.stderr
    check_v2(json.loads(r.stdout))


def test_fetch_is_idempotent(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_json(capsys, "fetch", str(MAIL), "--offline")
    b = run_json(capsys, "fetch", str(MAIL), "--offline")
    assert a == b
    assert [p.name for p in stored(store)] == [a["id"]]


def test_incomplete_thread_is_flagged(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    part = tmp_path / "part"
    part.mkdir()
    for f in mails("v2-"):
        if f.name != "v2-03.eml":
            shutil.copy(f, part)
    d = run_json(capsys, "fetch", str(part), "--offline")
    assert d["missing"] == [3]
    assert [p["index"] for p in d["patches"]] == [1, 2, 4, 5, 6]
    assert any("missing 3/6" in w for w in d["warnings"])
    main(["fetch", str(part), "--offline"])
    out = capsys.readouterr()
    assert "MISSING" in out.out and "thread incomplete: missing 3/6" in out.err


def test_summary_line_and_table(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", str(MAIL), "--offline"]) == 0
    out = capsys.readouterr()
    assert "v2 [6 patches] arm64: MMU enabled kexec relocation — Pavel Tatashin, 2021-08-09" in out.out
    assert "+1 Acked-by" in out.out and "+1 Tested-by" in out.out
    assert "newer revision" not in out.err


def test_older_revision_warns_about_newer(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["fetch", str(MAIL), "--offline", "-v", "1"])
    assert "a newer revision is in the thread: v2" in capsys.readouterr().err


def test_replies_kept_with_their_patch(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", str(MAIL), "--offline")
    by_author = {r["author"].split(" <")[0]: r for r in d["replies"] if r["patch_index"] is not None}
    assert by_author["Catalin Marinas"]["patch_index"] == 4
    assert "trans_pgd_create_copy() fails" in by_author["Catalin Marinas"]["body"]
    assert by_author["Catalin Marinas"]["trailers"] == []
    assert by_author["Pavel Tatashin"]["patch_index"] == 4  # the author's answer, two levels down
    assert by_author["James Morse"]["patch_index"] == 0


def test_encoded_bodies_decode(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", str(MAIL), "--offline")
    bodies = {r["msgid"]: r["body"] for r in d["replies"]}
    assert "Reviewed-by: James Morse" in bodies["YQ2-cover-review@example.com"]  # base64
    assert "looks right to me \u2014 thanks" in bodies["YQ2-ack3@example.com"]  # quoted-printable
    assert "caf\u00e9 lab" in bodies["YQ2-tested@example.net"]  # ISO-8859-1


def test_non_utf8_patch_body(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = (MAIL / "v2-01.eml").read_bytes()
    head, body = src.split(b"\n\n", 1)
    body = body.replace(b"Currently,", "Actuellement (d\u00e9j\u00e0),".encode("latin-1"), 1)
    one = tmp_path / "one"
    one.mkdir()
    (one / "p.eml").write_bytes(head + b"\nContent-Type: text/plain; charset=ISO-8859-1\n"
                                b"Content-Transfer-Encoding: 8bit\n\n" + body)
    d = run_json(capsys, "fetch", str(one), "--offline")
    assert d["patches"][0]["message"].startswith("Actuellement (d\u00e9j\u00e0),")


def test_file_with_no_patches_is_a_clear_error(tmp_path: Path, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    only = tmp_path / "replies"
    only.mkdir()
    for f in mails("v2-r"):
        shutil.copy(f, only)
    assert "no patch found" in fail(capsys, "fetch", str(only), "--offline")
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert "no message found" in fail(capsys, "fetch", str(empty), "--offline")
    junk = tmp_path / "junk.mbox"
    junk.write_bytes(b"\x00\xff garbage \x01\n" * 50)
    assert fail(capsys, "fetch", str(junk), "--offline")
    assert stored(store) == []


def test_bad_sources(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "not a message-id" in fail(capsys, "fetch", "no-such-file", "--offline")
    assert "--offline" in fail(capsys, "fetch", "abc@example.org", "--offline")
    assert "unsupported URL" not in fail(capsys, "fetch", "https://lore.kernel.org/linux-arm-kernel/", "--offline")
    assert fail(capsys, "fetch", "--", "--output=x@y")
    assert stored(store) == []


def test_list_and_show(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", str(MAIL), "--offline")
    listing = json.loads((main(["list", "--json"]), capsys.readouterr().out)[1])
    assert [x["id"] for x in listing] == [d["id"]]
    assert run_json(capsys, "show", d["id"][:6]) == d
    assert run_json(capsys, "show", f"<{V2_COVER}>") == d
    assert run_json(capsys, "show") == d
    assert "no stored series matches" in fail(capsys, "show", "ffffff")


def test_show_on_empty_store(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is empty" in fail(capsys, "show")


def test_unwritable_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "cannot write to the store" in fail(capsys, "fetch", str(MAIL), "--offline", "--store",
                                               str(blocker / "sub"))


# --- over HTTP, from a real public-inbox-httpd ---------------------------------------------


def test_fetch_by_msgid_from_public_inbox(public_inbox: PublicInbox, store: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", V2_COVER, "--lore-url", public_inbox.url)
    check_v2(d)
    assert d["link"] == f"{public_inbox.url}/{V2_COVER}/"
    assert (store / "series" / d["id"] / "thread.mbox").read_bytes().count(b"\nFrom mboxrd@z") >= 11


@pytest.mark.parametrize("shape", [
    "{url}/{mid}/", "{url}/{mid}", "{url}/{mid}/T/", "{url}/{mid}/t/", "{url}/{mid}/t.mbox.gz",
    "{url}/{mid}/raw", "<{mid}>", "id:{mid}",
])
def test_fetch_each_source_shape(shape: str, public_inbox: PublicInbox, store: Path,
                                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWTOOL_LORE_URL", public_inbox.url)
    source = shape.format(url=public_inbox.url, mid=V2_P3)
    d = run_json(capsys, "fetch", source)
    check_v2(d)


def test_lore_url_from_git_config(public_inbox: PublicInbox, store: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "gitconfig"
    cfg.write_text(f"[reviewtool]\n\tloreurl = {public_inbox.url}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    check_v2(run_json(capsys, "fetch", V2_COVER))


def test_patch_msgid_link_uses_configured_server(public_inbox: PublicInbox, store: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "fetch", f"https://patch.msgid.link/{V2_P3}", "--lore-url", public_inbox.url)
    check_v2(d)


def test_unknown_msgid_is_not_found(public_inbox: PublicInbox, store: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    line = fail(capsys, "fetch", "nosuch@example.org", "--lore-url", public_inbox.url)
    assert line == f"reviewtool: error: <nosuch@example.org> not found on {public_inbox.url}"
    assert stored(store) == []


def test_server_down_fails_fast_and_clearly(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/kexec"
    t0 = time.monotonic()
    line = fail(capsys, "fetch", V2_COVER, "--lore-url", url)
    assert time.monotonic() - t0 < 10
    assert f"cannot reach {url}" in line
    assert stored(store) == []


def test_duplicate_patch_is_flagged_and_ignored(tmp_path: Path, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    d2 = tmp_path / "dup"
    d2.mkdir()
    for f in mails("v2-"):
        shutil.copy(f, d2)
    # The same 3/6 posted again under a new Message-ID, and an exact copy of 4/6.
    again = (MAIL / "v2-03.eml").read_text().replace("-4-pasha.tatashin@example.org>",
                                                     "-99-pasha.tatashin@example.org>", 1)
    (d2 / "v2-03-again.eml").write_text(again)
    shutil.copy(MAIL / "v2-04.eml", d2 / "v2-04-copy.eml")
    d = run_json(capsys, "fetch", str(d2), "--offline")
    check_v2(d)
    assert sorted(d["duplicates"]) == sorted(["20210809215402.804942-99-pasha.tatashin@example.org",
                                              "20210809215402.804942-5-pasha.tatashin@example.org"])
    assert any("2 duplicate message(s) ignored" in w for w in d["warnings"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([
    b"From x@z Thu Jan  1 00:00:00 1970\n", b"Subject: [PATCH v2 1/2] x\n", b"Message-Id: <a@b>\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Type: text/plain; charset=bogus-7\n",
    b"\n", b"diff --git a/../../etc/passwd b/../../etc/passwd\n", b"@@ -1 +1 @@\n", b"+x\n",
    b"\xff\xfe\x00", b"=?utf-8?b?////?=\n", b"In-Reply-To: <a@b>\n", b"Subject: Re: [PATCH 0/1] y\n",
]), max_size=40))
def test_hostile_mbox_never_crashes(tmp_path: Path, store: Path, chunks: list[bytes]) -> None:
    from reviewtool.errors import ReviewtoolError
    from reviewtool.fetch import fetch

    f = tmp_path / "h.mbox"
    f.write_bytes(b"".join(chunks))
    try:
        got = fetch(str(f), lore_url="https://lore.kernel.org/all", offline=True)
    except ReviewtoolError:
        return
    assert got.series.patches


def test_split_body_keeps_a_trailing_blank_context_line() -> None:
    from reviewtool.fetch.texts import split_body

    msg, diff = split_body("Why.\n\nSigned-off-by: A <a@b>\n---\n x | 1 +\n\ndiff --git a/x b/x\n--- a/x\n"
                           "+++ b/x\n@@ -1,2 +1,3 @@\n a\n+b\n \n\nbase-commit: abc\n-- \n2.30.2\n")
    assert msg == "Why.\n\nSigned-off-by: A <a@b>\n"
    assert diff.endswith("+b\n \n")


def test_batched_patch_ids_equal_b4s_own(tmp_path: Path) -> None:
    import b4

    from reviewtool.fetch import series_from_mbox

    series = series_from_mbox(MAIL)
    assert len(series.patches) == 6
    for p in series.patches:
        raw = (MAIL / f"v2-{p.index:02d}.eml").read_bytes()
        lmsg = b4.LoreMessage(email.message_from_bytes(raw, policy=b4.emlpolicy))
        assert p.patch_id and p.patch_id == b4.LoreMessage.get_patch_id(lmsg.body)
