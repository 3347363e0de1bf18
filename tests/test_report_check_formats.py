"""`reviewtool check --format F` for every report format: each prints only its own output."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from pathlib import Path

import jsonschema
import pytest

from reviewtool.cli import main
from tests.conftest import MAIL, ROOT


def check(capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    code = main(["check", str(MAIL), "--no-checkpatch", "--format", fmt, "--fail-on", "never"])
    out = capsys.readouterr().out
    assert code == 0
    return out


def test_check_format_markdown(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = check(capsys, "markdown")
    assert out.startswith("### reviewtool: \\[PATCH v2 0/6\\]")
    assert "#### Reviewer checklist" in out and "<details>" in out


def test_check_format_sarif_validates(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = json.loads(check(capsys, "sarif"))
    schema = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all("help" in r for r in rules)  # the shipped rules' docs came through `check`


def test_check_format_patchwork(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.loads(x) for x in check(capsys, "patchwork").splitlines()]
    assert [r["patch"] for r in rows] == [1, 2, 3, 4, 5, 6]


def test_check_format_b4(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (entry,) = json.loads(check(capsys, "b4"))
    assert entry["tool"] == "reviewtool" and entry["status"] in ("pass", "warn", "fail")


def test_check_format_email_is_an_mbox_of_replies(store: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "replies.mbox"
    path.write_text(check(capsys, "email"), encoding="utf-8")
    box = mailbox.mbox(str(path), factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default))
    msgs = list(box)
    box.close()
    assert msgs and all(str(m["Subject"]).startswith("Re: [PATCH v2 ") for m in msgs)
    assert all(m["In-Reply-To"] for m in msgs)
    # signed as git's identity says (conftest sets GIT_AUTHOR_*), not with the placeholder
    assert {str(m["From"]) for m in msgs} == {"Test Author <author@example.org>"}
