"""--history=code: what reviewers said when other, earlier series changed the functions this series
changes, found by a diff hunk header search (dfhh:) on a real public-inbox-httpd on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewtool.cli import main
from tests import history_mails as hm
from tests.pi import PublicInbox

V3 = hm.mid(3, 0)


@pytest.fixture(scope="module")
def code_inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInbox]:
    """The v1..v4 mails and the other series that changed foo.c, indexed `full`, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("history-code-mail")
    pi = PublicInbox(tmp_path_factory.mktemp("history-code-pi"), name="foo")
    pi.add([*hm.write(root / "series").values(), *hm.write_other_series(root / "other").values()])
    pi.start()
    try:
        yield pi
    finally:
        pi.stop()


def check_json(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> Any:
    """check on v3, fetched from the inbox first, with argv."""
    assert main(["fetch", V3, "--lore-url", url, "-q"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["check", V3, "--no-checkpatch", "--fail-on", "never", "--format", "json", "--lore-url", url, *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def code_items(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in doc["checklist"] if "HISTORY-CODE" in i["rules"]]


def test_history_code_surfaces_earlier_reviews_of_the_same_function_ranked_capped_with_sources(
        code_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = check_json(capsys, code_inbox.url, "--history=code")
    items = code_items(doc)
    # three reviews of foo_probe() in o1: at most two per function, the longer first
    assert [i["sources"][0]["msgid"] for i in items] == ["o1-rita@example.com", "o1-sam@example.com"]
    rita = items[0]
    assert rita["sources"] == [{"msgid": "o1-rita@example.com", "date": "2023-12-16T10:00:00+00:00",
                                "from": hm.RITA}]
    assert rita["title"] == "foo_probe() was reviewed before"
    assert rita["category"] == "locking_concurrency"
    assert "Rita Reviewer said" in rita["question"] and "foo: reset the count under the lock" in rita["question"]
    ev = rita["evidence"][0]
    assert (ev["patch"], ev["file"]) == (1, "drivers/foo/foo.c")  # the lines of this series
    # the ledger of the series' own earlier revisions is there as with --history
    assert [r["revision"] for r in doc["history"]["revisions"]] == [1, 2]
    assert any("HISTORY-OPEN" in i["rules"] for i in doc["checklist"])


def test_history_code_leaves_out_reviews_after_the_series_and_of_other_functions(
        code_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = check_json(capsys, code_inbox.url, "--history=code")
    sources = {s["msgid"] for i in code_items(doc) for s in i["sources"]}
    assert "o2-uma@example.com" not in sources  # dated after v3
    assert "o3-rita@example.com" not in sources  # about foo_init(), which v3 does not change
    assert "o1-vic@example.com" not in sources  # about lines of foo_probe() that v3 does not show
    assert not sources & {"r1-bob@example.com", "r1-alice@example.com"}  # the series' own history is not "code"
    assert "o1-rita@example.com" in sources  # the search did find the earlier series


def test_plain_history_makes_no_code_search_and_no_code_items(
        code_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = check_json(capsys, code_inbox.url, "--history")
    assert not code_items(doc)
    assert any("HISTORY-OPEN" in i["rules"] for i in doc["checklist"])


def test_history_code_offline_says_so_and_adds_nothing(
        code_inbox: PublicInbox, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["history", V3, "--lore-url", code_inbox.url, "--json"])  # v3 and its history in the store
    capsys.readouterr()
    code = main(["check", V3, "--history=code", "--offline", "--no-checkpatch", "--fail-on", "never",
                 "--format", "json"])
    out = capsys.readouterr()
    assert code == 0
    assert not code_items(json.loads(out.out))
    assert "history=code: the public-inbox is not searched offline" in out.err


def test_history_with_a_value_other_than_code_is_refused_with_exit_2(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--history=everything", "--no-checkpatch"]) == 2
    err = capsys.readouterr().err
    assert "error: argument --history: ignored explicit argument 'everything'" in err
    assert "Traceback" not in err
