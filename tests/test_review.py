"""`reviewtool review`: fetch + rebase + check in one go, every format, the exit codes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from reviewtool.cli import main
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
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(["patchwork.jsonl", "report.json", "report.md", "report.sarif", *replies])
    assert stdout == (out_dir / "report.md").read_text(encoding="utf-8")
    assert stdout.startswith("### reviewtool: \\[PATCH v2 0/6\\] arm64: MMU enabled kexec relocation")
    assert "result:     6/6 applied (6 clean)" in stdout
    assert "fetched v2" in stderr and "6/6 applied" in stderr and f"wrote {len(names)} files" in stderr

    sarif = json.loads((out_dir / "report.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(SCHEMA).validate(sarif)
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "SRCROOT"
               for r in sarif["runs"][0]["results"])
    assert report["rebase"]["onto"] == "v5.14-rc4"
    rows = [json.loads(x) for x in (out_dir / "patchwork.jsonl").read_text().splitlines()]
    assert [r["patch"] for r in rows] == [1, 2, 3, 4, 5, 6]
    reply = (out_dir / f"reply-{asked[0]:02d}.eml").read_text(encoding="utf-8")
    assert "From: Rene Reviewer <rene@example.org>" in reply
    assert f"In-Reply-To: <20210809215402.804942-{asked[0] + 1}-pasha.tatashin@example.org>" in reply
    assert not list(out_dir.glob(".*"))  # no temp file left behind


def test_review_json_on_stdout_and_progress_only_on_stderr(
        linux: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux), "--json",
                                  "--fail-on", "never")
    assert code == 0
    doc = json.loads(stdout)
    assert doc["series"]["revision"] == 2 and doc["rebase"]["onto"] == "v5.14-rc4"
    assert "fetched v2" not in stdout and "fetched v2" in stderr


def test_review_exits_1_when_a_patch_does_not_apply_even_with_fail_on_never(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = review(capsys, "--onto", "moved", "--repo", str(linux), "--format", "patchwork",
                                  "--fail-on", "never", "--output-dir", str(tmp_path / "out"))
    assert code == 1
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


def test_review_replaces_stale_replies_from_an_earlier_run(
        linux: Path, store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "reply-07.eml").write_text("old\n")
    (out_dir / "notes.txt").write_text("mine\n")
    code, _o, _e = review(capsys, "--onto", "v5.14-rc4", "--repo", str(linux), "--output-dir", str(out_dir),
                          "--fail-on", "never", "--format", "b4")
    assert code == 0
    assert not (out_dir / "reply-07.eml").exists()
    assert (out_dir / "notes.txt").read_text() == "mine\n"
    # without --from the replies are signed with git's identity (conftest sets GIT_AUTHOR_*)
    assert "From: Test Author <author@example.org>" in (out_dir / "reply-00.eml").read_text(encoding="utf-8")


