"""`reviewtool review`: fetch + rebase + check in one go, every format, the exit codes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest

from reviewtool.cli import main
from reviewtool.outfiles import MANIFEST
from tests.conftest import MAIL, ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def _base_files() -> dict[str, str]:
    """The tree the fixture mails were made from (fixtures/make_mails.py)."""
    spec = importlib.util.spec_from_file_location("make_mails", ROOT / "fixtures" / "make_mails.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.BASE)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.fixture(scope="module")
def linux(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A target tree: tag v5.14-rc4 is the series' base; branch `moved` conflicts with patch 3."""
    repo = tmp_path_factory.mktemp("target") / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    for path, text in _base_files().items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v5.14-rc4")
    git(repo, "tag", "v5.14-rc4")
    git(repo, "checkout", "-q", "-b", "moved")
    kconfig = repo / "arch/arm64/Kconfig"
    kconfig.write_text(kconfig.read_text().replace("\tselect KEXEC_CORE\n", "\tselect KEXEC_CORE if MMU\n"))
    git(repo, "commit", "-q", "-a", "-m", "arm64: Kconfig: KEXEC_CORE only with an MMU")
    git(repo, "checkout", "-q", "master")
    return repo


def _state(repo: Path) -> tuple[str, str, str, str]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "symbolic-ref", "HEAD"),
            git(repo, "status", "--porcelain", "--untracked-files=all"),
            git(repo, "for-each-ref", "--format=%(refname) %(objectname)"))


def review(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["review", str(MAIL), "--offline", "--no-checkpatch", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_review_writes_every_format_and_prints_only_the_chosen_one(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    before = _state(linux)
    code, stdout, stderr = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux),
                                  "--output-dir", str(out_dir), "--format", "markdown",
                                  "--from", "Rene Reviewer <rene@example.org>", "--fail-on", "never")
    assert code == 0, stderr
    assert _state(linux) == before  # the user's repository is untouched
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    asked = sorted({e["patch"] for f in report["findings"] if not f["pre_existing"] and f["status"] != "looks-ok"
                    for e in f["evidence"]} - {0})
    assert asked, "the shipped rules find something in the fixture series"
    replies = [f"reply-{i:02d}.eml" for i in [0, *asked]]
    names = sorted(p.name for p in out_dir.iterdir() if p.name != MANIFEST)
    assert names == sorted(["patchwork.jsonl", "report.json", "report.md", "report.sarif", *replies])
    assert stdout == (out_dir / "report.md").read_text(encoding="utf-8")
    assert stdout.startswith("### reviewtool: \\[PATCH v2 0/6\\] arm64: MMU enabled kexec relocation")
    assert "result:     6/6 applied (6 clean)" in stdout
    assert "fetched v2" in stderr and "6/6 applied" in stderr and f"wrote {len(names)} files" in stderr

    sarif = json.loads((out_dir / "report.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(SCHEMA).validate(sarif)
    # every result on a file points into the tree; only questions about a message point into the patches
    on_messages = {f["rule"] for f in report["findings"] if all(e["file"] is None for e in f["evidence"])}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "SRCROOT"
               or r["ruleId"] in on_messages for r in sarif["runs"][0]["results"])
    assert report["rebase"]["onto"] == "v5.14-rc4"
    rows = [json.loads(x) for x in (out_dir / "patchwork.jsonl").read_text().splitlines()]
    assert [r["patch"] for r in rows] == [1, 2, 3, 4, 5, 6]
    reply = (out_dir / f"reply-{asked[0]:02d}.eml").read_text(encoding="utf-8")
    assert "From: Rene Reviewer <rene@example.org>" in reply
    assert f"In-Reply-To: <20210809215402.804942-{asked[0] + 1}-pasha.tatashin@example.org>" in reply
    assert [p.name for p in out_dir.glob(".*")] == [MANIFEST]  # no temp file left behind


def test_review_json_on_stdout_and_progress_only_on_stderr(
        linux: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux), "--json",
                                  "--fail-on", "never")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["series"]["revision"] == 2 and doc["rebase"]["onto"] == "v5.14-rc4"
    assert "fetched v2" not in stdout and "fetched v2" in stderr


def test_review_of_a_patch_that_does_not_apply_exits_1_and_0_with_fail_on_never(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _err = review(capsys, "--onto", "moved", "--repo", str(linux), "--format", "json")
    assert code == 1
    code, stdout, stderr = review(capsys, "--onto", "moved", "--repo", str(linux), "--format", "patchwork",
                                  "--fail-on", "never", "--output-dir", str(tmp_path / "out"))
    assert code == 0
    rows = [json.loads(x) for x in stdout.splitlines()]
    assert rows[2]["state"] == "fail" and rows[2]["description"].startswith("does not apply onto moved")
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "**Did not apply:** [3/6] arm64: kexec: configure EL2 vectors for kexec" in md
    assert "arch/arm64/Kconfig" in md
    assert "conflict" in stderr


def test_review_exits_1_when_a_finding_reaches_fail_on(
        linux: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _stdout, _stderr = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux), "--format", "sarif",
                                    "--fail-on", "warning")
    assert code == 1
    code, _stdout, _stderr = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux), "--format", "sarif",
                                    "--fail-on", "never")
    assert code == 0


@pytest.mark.parametrize("argv, message", [
    (["--onto", "no-such-ref"], "'no-such-ref' is not a commit"),
    (["--onto=-x"], "refusing"),
    (["--onto", "v5.14-rc4", "-v", "9"], "no v9"),
])
def test_review_exits_2_with_one_line_on_bad_input(
        argv: list[str], message: str, linux: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = review(capsys, *argv, "--repo", str(linux))
    assert code == 2
    assert stdout == ""
    lines = [x for x in stderr.splitlines() if x.startswith("reviewtool: error:")]
    assert len(lines) == 1 and message in lines[0], stderr


def test_review_exits_2_for_a_missing_source(store: Path, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    code = main(["review", str(tmp_path / "nothing.mbox"), "--onto", "HEAD", "--offline"])
    err = capsys.readouterr().err
    assert code == 2 and "reviewtool: error:" in err and "Traceback" not in err


def _first_patches(tmp_path: Path, count: int) -> Path:
    """The fixture series' cover letter and its first `count` patches, as a mail directory."""
    d = tmp_path / f"first-{count}"
    d.mkdir()
    for i in range(count + 1):
        shutil.copy(MAIL / f"v2-{i:02d}.eml", d)
    return d


def _review_into(capsys: pytest.CaptureFixture[str], source: Path, linux: Path, out_dir: Path,
                 *argv: str) -> tuple[int, str]:
    code = main(["review", str(source), "--offline", "--no-checkpatch", "--onto", "v5.14-rc4", "--repo",
                 str(linux), "--output-dir", str(out_dir), "--fail-on", "never", "--format", "b4", *argv])
    return code, capsys.readouterr().err


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def test_review_removes_only_the_replies_an_earlier_run_wrote_and_nobody_edited(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "reply-07.eml").write_text("my own draft\n")
    (out_dir / "reply-09.eml").mkdir()  # a directory named like a reply this run does not write
    (out_dir / "reply-09.eml" / "keep").write_text("mine\n")
    (out_dir / "notes.txt").write_text("mine\n")
    code, err = _review_into(capsys, MAIL, linux, out_dir)
    assert code == 0, err
    first = sorted(p.name for p in out_dir.glob("reply-*.eml") if p.is_file())
    assert {"reply-00.eml", "reply-04.eml", "reply-05.eml", "reply-07.eml"} <= set(first)
    # without --from the replies are signed with git's identity (conftest sets GIT_AUTHOR_*)
    assert "From: Test Author <author@example.org>" in (out_dir / "reply-00.eml").read_text(encoding="utf-8")
    with (out_dir / "reply-05.eml").open("a", encoding="utf-8") as fh:
        fh.write("\nA comment of mine.\n")  # edited: the reviewer's, from now on

    # a later run writes replies to patches 1-3 only: its own stale reply-04 goes (it would
    # thread wrongly), the edited reply-05, the draft, the directory and the notes stay
    code, err = _review_into(capsys, _first_patches(tmp_path, 3), linux, out_dir)
    assert code == 0, err
    assert not (out_dir / "reply-04.eml").exists()
    assert (out_dir / "reply-05.eml").read_text(encoding="utf-8").endswith("A comment of mine.\n")
    assert (out_dir / "reply-07.eml").read_text() == "my own draft\n"
    assert (out_dir / "reply-09.eml" / "keep").read_text() == "mine\n"
    assert (out_dir / "notes.txt").read_text() == "mine\n"
    assert (out_dir / "reply-00.eml").is_file() and (out_dir / "report.md").is_file()


def test_review_output_files_honour_the_umask(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for umask, mode in ((0o022, 0o644), (0o027, 0o640)):
        out_dir = tmp_path / f"out-{umask:o}"
        old = os.umask(umask)
        try:
            code, err = _review_into(capsys, MAIL, linux, out_dir)
        finally:
            os.umask(old)
        assert code == 0, err
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out_dir.iterdir()}
        assert set(modes.values()) == {mode}, modes


def test_review_with_a_directory_in_the_way_of_a_reply_changes_nothing_and_says_so_in_one_line(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    code, err = _review_into(capsys, _first_patches(tmp_path, 3), linux, out_dir)
    assert code == 0, err
    (out_dir / "reply-05.eml").mkdir()  # the next run writes reply-05.eml
    before = _files(out_dir)
    code, err = _review_into(capsys, MAIL, linux, out_dir)
    assert _files(out_dir) == before  # not one file of the set was replaced
    assert code == 2
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.startswith("reviewtool:")]
    assert lines == [f"reviewtool: error: cannot write {out_dir / 'reply-05.eml'}: it is a directory; "
                     f"nothing was written to {out_dir}"], err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([*before, "reply-05.eml"])


def test_check_and_review_mark_the_same_findings_pre_existing(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A target that already carries patches 1-4: both commands read "pre-existing" against it."""
    target = tmp_path / "target"
    git(tmp_path, "clone", "-q", str(linux), str(target))
    git(target, "checkout", "-q", "-b", "with-first", "v5.14-rc4")
    git(target, "am", "-q", *(str(MAIL / f"v2-0{i}.eml") for i in range(1, 5)))
    code, stdout, stderr = review(capsys, "--onto", "with-first", "--repo", str(target), "--json",
                                  "--fail-on", "never")
    assert code == 0, stderr
    reviewed = json.loads(stdout)
    assert main(["check", "--format", "json", "--no-checkpatch", "--fail-on", "never"]) == 0
    checked = json.loads(capsys.readouterr().out)

    def pre(doc: dict[str, object]) -> list[tuple[str, int]]:
        return sorted((f["rule"], f["evidence"][0]["patch"]) for f in doc["findings"]  # type: ignore[attr-defined]
                      if f["pre_existing"])

    assert pre(reviewed) == pre(checked), (pre(reviewed), pre(checked))
    assert ("ALLOC-UNCHECKED", 4) in pre(checked), "patch 4 is on the target: its findings are old"
