"""checkpatch.pl integration, with the real script from Debian's linux-source-6.12.

scripts/get-checkpatch.sh extracts checkpatch.pl and the files it reads into a cache
outside the repository (nothing from the kernel is committed); `make test` runs it first.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reviewtool.check.external import category_of, parse_output, run_checkpatch
from reviewtool.cli import main
from reviewtool.store import Store
from tests.check_helpers import series_from_text

ROOT = Path(__file__).resolve().parent.parent
KC = "kernel/kexec_core.c"


@pytest.fixture(scope="session")
def checkpatch() -> Path:
    """checkpatch.pl, extracted once per machine by scripts/get-checkpatch.sh."""
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)  # the real home: the test run sets HOME elsewhere
    dest = Path(os.environ.get("REVIEWTOOL_CHECKPATCH_DIR") or home / ".cache" / "reviewtool" / "checkpatch")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "get-checkpatch.sh"), str(dest)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"scripts/get-checkpatch.sh failed: {done.stderr}"
    script = Path(done.stdout.strip().splitlines()[-1])
    assert script.is_file() and (script.parent / "spelling.txt").is_file()
    return script


def mail(subject: str, hunk: str, author: str = "Dev <dev@example.org>",
         signer: str = "Dev <dev@example.org>") -> str:
    return (f"From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
            f"From: {author}\nSubject: [PATCH] {subject}\n\nMake the control page check stricter.\n\n"
            f"Signed-off-by: {signer}\n---\n"
            f"diff --git a/{KC} b/{KC}\nindex 1111111..2222222 100644\n--- a/{KC}\n+++ b/{KC}\n" + hunk)


STYLE = "@@ -50,2 +50,5 @@ int f(void)\n \tint a;\n+\tif(a==1) {\n+\t\ta = 2;\n+\t}\n \treturn a;\n"
CLEAN = "@@ -50,2 +50,3 @@ int f(void)\n \tint a;\n+\ta = 2;\n \treturn a;\n"


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["check", *argv, "--json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    data: dict[str, Any] = json.loads(out.out)
    return data


def test_checkpatch_reports_become_findings_mapped_to_categories(
        checkpatch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    series = series_from_text(mail("kexec: style", STYLE)
                              + mail("kexec: fine", CLEAN, author="Someone Else <else@example.org>"), "cp")
    Store(tmp_path).save_series(series, {})
    data = check_json(capsys, "cp", "--store", str(tmp_path), "--checkpatch", str(checkpatch))
    cp = [f for f in data["findings"] if f["source"] == "checkpatch"]
    spacing = [f for f in cp if f["rule"] == "checkpatch:SPACING"]
    assert spacing and spacing[0]["severity"] == "error" and spacing[0]["category"] == "design_approach"
    ev = spacing[0]["evidence"][0]
    assert ev["patch"] == 1 and ev["file"] == KC and ev["line"] == 51
    assert ev["lines"][0] == "+\tif(a==1) {"
    sob = [f for f in cp if f["rule"] == "checkpatch:NO_AUTHOR_SIGN_OFF"]
    assert sob and sob[0]["evidence"][0]["patch"] == 2 and sob[0]["category"] == "commit_msg_trailers"
    assert "checkpatch" in data["rules_run"]
    assert not any("checkpatch.pl was not run" in n for n in data["notes"])
    assert any(i["rules"] == ["checkpatch:SPACING"] for i in data["checklist"])


def test_checkpatch_is_found_in_the_target_repository(
        checkpatch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "linux" / "scripts"
    tree.mkdir(parents=True)
    for name in ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch"):
        shutil.copy2(checkpatch.parent / name, tree / name)
    Store(tmp_path / "s").save_series(series_from_text(mail("kexec: style", STYLE), "repo-cp"), {})
    data = check_json(capsys, "repo-cp", "--store", str(tmp_path / "s"), "--repo", str(tmp_path / "linux"))
    assert any(f["rule"] == "checkpatch:SPACING" for f in data["findings"])
    # and --no-checkpatch turns it off, saying so once
    data = check_json(capsys, "repo-cp", "--store", str(tmp_path / "s"), "--repo", str(tmp_path / "linux"),
                      "--no-checkpatch")
    assert not any(f["source"] == "checkpatch" for f in data["findings"])
    assert sum("checkpatch.pl was not run" in n for n in data["notes"]) == 1


def test_run_checkpatch_checks_every_patch_in_parallel(checkpatch: Path) -> None:
    series = series_from_text("".join(mail(f"kexec: style {i}", STYLE) for i in range(4)))
    findings, notes = run_checkpatch(checkpatch, series, jobs=2)
    assert not notes
    assert {f.evidence[0].patch for f in findings if f.rule == "checkpatch:SPACING"} == {1, 2, 3, 4}


def test_a_missing_checkpatch_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(tmp_path).save_series(series_from_text(mail("x", CLEAN), "nocp"), {})
    assert main(["check", "nocp", "--store", str(tmp_path), "--checkpatch", str(tmp_path / "nope.pl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewtool: error: --checkpatch") and "no checkpatch.pl there" in err


def test_checkpatch_output_parsing() -> None:
    text = (
        "WARNING:SUSPECT_CODE_INDENT: suspect code indent for conditional statements (8, 12)\n"
        "#20: FILE: arch/arm64/kernel/machine_kexec.c:13:\n+\tif(a==b) {\n+\t    x();\n\n"
        "ERROR:SPACING: spaces required around that '==' (ctx:VxV)\n"
        "#20: FILE: arch/arm64/kernel/machine_kexec.c:13:\n+\tif(a==b) {\n \t    ^\n\n"
        "CHECK:OOM_MESSAGE: Possible unnecessary 'out of memory' message\n#31: FILE: mm/x.c:7:\n+\tif (!p)\n\n"
        "ERROR:NO_AUTHOR_SIGN_OFF: Missing Signed-off-by: line by nominal patch author 'A <a@b>'\n\n"
        "NOTE: For some of the reported defects, checkpatch may be able to\n"
        "      mechanically convert to the typical style using --fix or --fix-inplace.\n"
    )
    found = parse_output(text, 3)
    assert [(f.rule, f.severity, f.category) for f in found] == [
        ("checkpatch:SUSPECT_CODE_INDENT", "warning", "design_approach"),
        ("checkpatch:SPACING", "error", "design_approach"),
        ("checkpatch:OOM_MESSAGE", "info", "alloc_failure"),
        ("checkpatch:NO_AUTHOR_SIGN_OFF", "error", "commit_msg_trailers"),
    ]
    assert found[1].evidence[0].lines == ("+\tif(a==b) {",)  # the caret line is not code
    assert found[0].evidence[0].line == 13 and found[3].evidence[0].file is None
    assert category_of("BAD_FIXES_TAG") == "commit_msg_trailers" and category_of("CONFIG_DESCRIPTION") == "kconfig_build"
