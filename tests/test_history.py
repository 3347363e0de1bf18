"""history: earlier revisions found on a real public-inbox (and in the store), their replies
split into comments, each given its status in this revision (fixtures: tests/history_mails.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewtool.cli import main
from tests import history_mails as hm
from tests.pi import PublicInbox

V3 = hm.mid(3, 0)


@pytest.fixture(scope="module")
def history_mail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hm.write(tmp_path_factory.mktemp("history-mail"))


@pytest.fixture(scope="module")
def history_inbox(tmp_path_factory: pytest.TempPathFactory, history_mail: dict[str, Path]) -> Iterator[PublicInbox]:
    """v1..v4 and their replies in a public-inbox indexed with full search, on 127.0.0.1."""
    pi = PublicInbox(tmp_path_factory.mktemp("history-pi"), name="foo")
    pi.add(history_mail.values())
    pi.start()
    try:
        yield pi
    finally:
        pi.stop()


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def by_msgid(ledger: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["msgid"]: c for c in ledger["comments"]}


def thread_dirs(mail: dict[str, Path], root: Path) -> dict[int, Path]:
    """One directory per revision's posting with the replies to it, as `fetch` reads them."""
    out = {}
    for rev in (1, 2, 3):
        d = root / f"v{rev}"
        d.mkdir(parents=True)
        for name, path in mail.items():
            if name.startswith((f"v{rev}-", f"r{rev}-")):
                shutil.copy(path, d / path.name)
        out[rev] = d
    return out


def check_statuses(ledger: dict[str, Any]) -> None:
    c = by_msgid(ledger)
    assert c["r1-alice@example.com"]["status"] == "addressed"
    assert c["r1-bob@example.com"]["status"] == "unchanged"
    assert c["r1-alice-knob@example.com"]["status"] == "dropped"
    assert c["r1-alice-bar@example.com"]["status"] == "answered"
    assert c["r1-alice-bar@example.com"]["reason"].startswith("The hardware latches on the first read")
    assert c["r1-alice-bar@example.com"]["answer_msgid"] == "r1-pat-answer@example.com"
    assert c["r2-carol@example.com"]["status"] == "acked"


def test_history_from_v3_msgid_alone_finds_v1_and_v2_on_the_public_inbox(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    assert [(r["revision"], r["msgid"]) for r in ledger["revisions"]] == [(1, hm.mid(1, 0)), (2, hm.mid(2, 0))]
    assert {r["revision"]: r["found_by"] for r in ledger["revisions"]} == {1: "subject", 2: "change-id"}
    check_statuses(ledger)
    bob = by_msgid(ledger)["r1-bob@example.com"]
    assert (bob["file"], bob["function"], bob["line"], bob["now_patch"]) == (
        "drivers/foo/foo.c", "static int foo_probe(struct foo *foo)", 15, 1)
    assert bob["category"] == "locking_concurrency"
    assert bob["evidence"][0]["lines"] == ["+\tspin_lock(&foo->lock);", " \tfoo->count = 0;",
                                           "+\tspin_unlock(&foo->lock);"]


def test_history_leaves_out_mail_dated_after_the_series(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    assert "r2-erin-late@example.com" not in by_msgid(ledger)  # a reply to v2 sent after v3
    assert all(r["revision"] < 3 for r in ledger["revisions"])  # v4 came later
    assert hm.mid(4, 0) not in json.dumps(ledger)


def test_history_never_reads_the_series_own_thread(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Dave's reply to v3 carries a date before v3's: the search returns v3's thread
    ledger = run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    assert "r3-dave-skew@example.com" not in by_msgid(ledger)
    assert all(c["revision"] in (1, 2) for c in ledger["comments"])


def test_history_pairs_a_renamed_patch_and_lists_the_dropped_one(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    verdicts = {(p["previous_revision"], p["previous"], p["patch"]): (p["verdict"], p["how"])
                for p in ledger["patches"]}
    assert verdicts[(2, 1, 1)] == ("unchanged", "patch-id")
    assert verdicts[(2, 2, 2)] == ("unchanged", "patch-id")
    assert verdicts[(1, 2, None)] == ("dropped", "")
    # v1's 3/3 "read the value twice" is v2's 2/2 "read the value a second time" (by content)
    assert by_msgid(ledger)["r1-alice-bar@example.com"]["now_patch"] == 2


def test_history_offline_from_the_store_gives_the_same_ledger(
        history_inbox: PublicInbox, history_mail: dict[str, Path], tmp_path: Path, store: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    online = run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    history_inbox.stop()  # nothing may go to the network now
    try:
        again = run_json(capsys, "history", V3, "--offline")
        assert again["comments"] == online["comments"]
        # and from threads fetched as files into a fresh store, never online
        fresh = tmp_path / "fresh"
        for _rev, d in sorted(thread_dirs(history_mail, tmp_path / "threads").items()):
            assert main(["-q", "fetch", str(d), "--offline", "--store", str(fresh)]) == 0
        capsys.readouterr()
        files = run_json(capsys, "history", "--offline", "--store", str(fresh))
        assert {r["found_by"] for r in files["revisions"]} == {"store"}
        check_statuses(files)
        assert [c["status"] for c in files["comments"]] == [c["status"] for c in online["comments"]]
    finally:
        history_inbox.start()


def test_history_text_shows_each_patch_its_verdict_and_comments(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", V3, "--lore-url", history_inbox.url]) == 0
    out = capsys.readouterr().out
    assert "[1] foo: allocate the buffer in probe: unchanged (v2 #1, by patch-id)" in out
    assert "[unchanged] v1 Bob Locker, 2024-01-02, on drivers/foo/foo.c:15 (static int foo_probe" in out
    assert "answer: The hardware latches on the first read" in out
    assert "1 comment(s) still open" in out


def test_check_history_asks_about_each_open_comment_with_its_source(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, "history", V3, "--lore-url", history_inbox.url)  # v3 and its history in the store
    doc = run_json(capsys, "check", V3, "--history", "--offline", "--no-checkpatch", "--format", "json")
    from_history = [i for i in doc["checklist"] if i["sources"]]
    assert len(from_history) == 1
    item = from_history[0]
    assert item["category"] == "locking_concurrency"
    assert item["sources"] == [{"msgid": "r1-bob@example.com", "date": "2024-01-02T11:00:00+00:00",
                                "from": hm.BOB}]
    assert (item["evidence"][0]["patch"], item["evidence"][0]["line"]) == (1, 16)  # the line in v3
    assert "this version leaves those lines unchanged" in item["question"]
    assert [r["revision"] for r in doc["history"]["revisions"]] == [1, 2]
    assert all(not i["sources"] for i in doc["checklist"] if i not in from_history)


def test_reports_carry_the_ledger_and_the_reply_asks_under_the_hunk(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    check = ["check", "--history", "--offline", "--no-checkpatch", "--fail-on", "never", "--format"]
    assert main([*check, "email"]) == 0  # the series asked about is still the latest fetched
    mails = capsys.readouterr().out
    reply = next(m for m in mails.split("\nFrom reviewtool ") if f"In-Reply-To: <{hm.mid(3, 1)}>" in m)
    hunk_line = reply.index("> +\tspin_unlock(&foo->lock);")
    asked = reply.index("In v1 Bob Locker asked")
    assert hunk_line < asked and "this version leaves those lines unchanged" in " ".join(reply[asked:].split())
    assert "Questions on the series" not in reply
    assert main([*check, "markdown"]) == 0
    md = capsys.readouterr().out
    assert "#### Earlier revisions" in md and "| unchanged | 1 | Bob Locker |" in md
    assert main([*check, "sarif"]) == 0
    props = json.loads(capsys.readouterr().out)["runs"][0]["properties"]["history"]
    assert [r["revision"] for r in props["revisions"]] == [1, 2]
    assert {c["msgid"]: c["status"] for c in props["comments"]}["r1-bob@example.com"] == "unchanged"


def test_history_of_an_unknown_message_id_offline_is_one_line_and_exit_2(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "nothing-here@example.org", "--offline"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewtool: error:") and len(err.strip().splitlines()) == 1


def test_check_history_json_matches_the_documented_schema(
        history_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    from tests.test_check_golden import schema

    run_json(capsys, "history", V3, "--lore-url", history_inbox.url)
    doc = run_json(capsys, "check", V3, "--history", "--offline", "--no-checkpatch", "--format", "json")
    jsonschema.validate(doc, schema())
    assert doc["history"]["comments"] and any(i["sources"] for i in doc["checklist"])
