"""`reviewtool check` end to end: exit codes, a stored rebase result (real git), mbox input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reviewtool.cli import main
from reviewtool.model import ApplyResult, BaseChoice, PatchOutcome, Series, to_json
from reviewtool.store import Store
from tests.check_helpers import series_from_text

ROOT = Path(__file__).resolve().parents[1]

KC = "kernel/kexec_core.c"
FN = "struct page *kimage_alloc_control_pages(struct kimage *image,"

PACK = '''
[[rule]]
id = "TEST-ERROR-BUG"
title = "BUG_ON as an error"
severity = "error"
category = "error_path"
added = ['\\bBUG_ON\\s*\\(']
message = "BUG_ON added"
question = "Why crash?"
[rule.doc]
what = "w"
why = "y"
example = "+BUG_ON(x);"
not_flagged = "n"

[[rule]]
id = "TEST-WARN-TRACE"
title = "trace_printk as a warning"
severity = "warning"
category = "design_approach"
added = ['\\btrace_printk\\s*\\(']
message = "trace_printk added"
question = "Is this debug output meant to stay?"
[rule.doc]
what = "w"
why = "y"
example = "+trace_printk(x);"
not_flagged = "n"
'''


def mail(subject: str, body_lines: str, path: str = KC) -> str:
    return (f"From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
            f"From: Dev <dev@example.org>\nSubject: [PATCH] {subject}\n\nA change.\n\n"
            f"Signed-off-by: Dev <dev@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
            + body_lines)


def store_series(root: Path, text: str, series_id: str) -> Series:
    series = series_from_text(text, series_id)
    Store(root).save_series(series, {})
    return series


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    d = tmp_path / "extra-rules"
    d.mkdir()
    (d / "test.toml").write_text(PACK, encoding="utf-8")
    return d


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["check", *argv, "--json"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, json.loads(out.out)


BUG = f"@@ -50,2 +50,3 @@ {FN}\n \tpages = alloc(image, order);\n+\tBUG_ON(!pages);\n \treturn pages;\n"
TRACE = f"@@ -50,2 +50,3 @@ {FN}\n \tpages = alloc(image, order);\n+\ttrace_printk(\"x\");\n \treturn pages;\n"
MOVED_BUG = (f"@@ -50,3 +50,5 @@ {FN}\n \tpages = alloc(image, order);\n-\tBUG_ON(!pages);\n"
             "+\tif (order) {\n+\t\tBUG_ON(!pages);\n+\t}\n \treturn pages;\n")


@pytest.mark.parametrize(("body", "fail_on", "expected"), [
    (BUG, None, 1), (BUG, "error", 1), (BUG, "warning", 1), (BUG, "never", 0),
    (TRACE, None, 0), (TRACE, "error", 0), (TRACE, "warning", 1), (TRACE, "never", 0),
    (MOVED_BUG, "warning", 0),  # pre-existing (moved) findings do not count
])
def test_exit_code_follows_fail_on(tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str],
                                   body: str, fail_on: str | None, expected: int) -> None:
    store = tmp_path / "store"
    store_series(store, mail("kexec: change", body), "exit-case")
    argv = ["exit-case", "--store", str(store), "--rules", str(pack), "--no-checkpatch"]
    if fail_on:
        argv += ["--fail-on", fail_on]
    code, data = run(capsys, *argv)
    assert code == expected
    assert any(f["rule"].startswith("TEST-") for f in data["findings"])


def test_check_with_an_empty_store_or_unknown_series_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--store", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.startswith("reviewtool: error: the store")
    store_series(tmp_path / "s", mail("x", BUG), "known")
    assert main(["check", "nope", "--store", str(tmp_path / "s")]) == 2
    assert "no stored series matches 'nope'" in capsys.readouterr().err


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def commit_file(repo: Path, path: str, text: str, message: str) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_with_a_rebase_result_findings_already_on_the_base_are_pre_existing(
        tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    old = textwrap.dedent(f"""\
        {FN}
        \t\t\t\t\t unsigned int order)
        {{
        \tpages = alloc(image, order);
        \treturn pages;
        }}
        """)
    base = commit_file(repo, KC, old, "base")
    # upstream (the target) already gained the same BUG_ON in the same function
    onto = commit_file(repo, KC, old.replace("\treturn pages;", "\tBUG_ON(!pages);\n\treturn pages;"), "upstream")
    result = commit_file(repo, KC, old.replace("\treturn pages;", "\tBUG_ON(!pages);\n\ttrace_printk(\"x\");\n"
                                                 "\treturn pages;"), "the series")
    body = (f"@@ -4,2 +4,4 @@ {FN}\n \tpages = alloc(image, order);\n+\tBUG_ON(!pages);\n"
            "+\ttrace_printk(\"x\");\n \treturn pages;\n")
    store = tmp_path / "store"
    series = store_series(store, mail("kexec: check the control pages", body), "rebased")
    apply = ApplyResult(series_id=series.id, onto="master", onto_commit=onto,
                        base=BaseChoice(base, "base-commit"),
                        patches=(PatchOutcome(1, series.patches[0].subject, "3way", commit=result),),
                        result_commit=result, result_tree=None, repo=str(repo))
    Store(store).save_result(series.id, "rebase", apply)
    head = git(repo, "rev-parse", "HEAD")
    code, data = run(capsys, "rebased", "--store", str(store), "--rules", str(pack), "--fail-on", "warning")
    by_rule = {f["rule"]: f for f in data["findings"]}
    assert by_rule["TEST-ERROR-BUG"]["pre_existing"] and by_rule["TEST-ERROR-BUG"]["reason"] == "already on the base"
    assert not by_rule["TEST-WARN-TRACE"]["pre_existing"]
    assert code == 1 and data["summary"]["pre_existing"] >= 1
    assert data["rebase"]["result_commit"] == result
    assert "TEST-ERROR-BUG" not in {r for i in data["checklist"] for r in i["rules"]}
    # the repository itself is untouched, and checkpatch is looked for in it (and said missing)
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    assert any(f"{repo}/scripts/checkpatch.pl does not exist" in n for n in data["notes"])
    assert to_json(apply)["repo"] == str(repo)


def test_an_mbox_path_is_fetched_into_the_store_and_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mbox = tmp_path / "one.mbox"
    text = mail("kexec: check", BUG).replace(
        "Subject:", "Message-Id: <one@example.org>\nDate: Fri, 01 Mar 2024 12:00:00 +0000\nSubject:")
    # a Latin-1 byte that is not UTF-8 in the message body
    mbox.write_bytes(text.replace("A change.", "A caf\xe9 change.").encode("latin-1"))
    store = tmp_path / "store"
    code, data = run(capsys, str(mbox), "--store", str(store), "--no-checkpatch")
    assert code == 0 and any(f["rule"] == "COMMON-BUG-ON" for f in data["findings"])
    assert (store / "series" / data["series_id"] / "check.json").is_file()
    assert "checkpatch.pl was not run (--no-checkpatch)" in data["notes"]


def test_check_format_email_warns_when_the_replies_would_be_signed_by_the_placeholder(
        tmp_path: Path) -> None:
    import os
    import sys

    sample = Path(__file__).parent / "golden" / "check" / "sample.mbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "REVIEWTOOL_"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=str(tmp_path / "none"))
    argv = [sys.executable, "-m", "reviewtool", "check", "--format", "email", "--no-checkpatch",
            "--fail-on", "never", "--store", str(tmp_path / "store"), str(sample)]
    run = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "you@example.org" in run.stdout and "warning: replies are signed" in run.stderr
    env["REVIEWTOOL_FROM"] = "Rene Reviewer <rene@example.org>"
    signed = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert "warning: replies are signed" not in signed.stderr and "rene@example.org" in signed.stdout


def test_check_fits_an_80_column_terminal_and_verbose_keeps_the_code_whole(tmp_path: Path) -> None:
    """COLUMNS=80: prose wraps with a hanging indent, code is cut with an ellipsis; --verbose
    and a pipe without COLUMNS keep every code line whole."""
    import os
    import sys

    sample = Path(__file__).parent / "golden" / "check" / "sample.mbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWTOOL_")}
    argv = [sys.executable, "-m", "reviewtool", "check", "--no-checkpatch", "--fail-on", "never",
            "--store", str(tmp_path / "store"), str(sample)]

    def run(*extra: str, columns: str | None = None) -> str:
        e = dict(env, COLUMNS=columns) if columns else {k: v for k, v in env.items() if k != "COLUMNS"}
        got = subprocess.run([*argv, *extra], capture_output=True, text=True, env=e, timeout=120, check=False)
        assert got.returncode == 0, got.stderr
        return got.stdout

    narrow = run(columns="80")
    wide = run()
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert max(len(line) for line in wide.splitlines()) > 80  # the sample has long lines to fold
    assert "…" in narrow and "…" not in wide
    continued = [ln for ln in narrow.splitlines() if ln.startswith("       ") and not ln.lstrip().startswith("-")]
    assert continued, "wrapped prose continues under its own indent"
    verbose = run("--verbose", columns="80")
    assert "…" not in "\n".join(ln for ln in verbose.splitlines() if ln.startswith("            "))


def test_dash_v_after_a_command_is_verbose_and_after_fetch_a_revision(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).parent / "golden" / "check" / "sample.mbox"
    store = str(tmp_path / "store")
    assert main(["fetch", str(sample), "--offline", "--store", store, "-q", "-v", "3"]) == 0
    capsys.readouterr()
    assert main(["check", "--no-checkpatch", "--fail-on", "never", "--store", store, "-v"]) == 0
    verbose = capsys.readouterr().out
    assert main(["check", "--no-checkpatch", "--fail-on", "never", "--store", store]) == 0
    quiet = capsys.readouterr().out
    assert "dropped: " in verbose and "dropped: " not in quiet


@pytest.mark.parametrize("columns", ["50", "80", "200"])
def test_help_is_laid_out_as_argparses_own_formatter_lays_it_out(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser's formatter reads the width without shutil; the help must not change."""
    import argparse

    from reviewtool.cli import build_parser

    monkeypatch.setenv("COLUMNS", columns)
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for p in [parser, *subs.choices.values()]:
        ours = p.format_help()
        p.formatter_class = argparse.HelpFormatter
        assert ours == p.format_help()
    assert len(subs.choices) >= 8


def test_a_check_with_stdout_or_stderr_closed(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    mbox = tmp_path / "s.mbox"
    mbox.write_bytes(b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + p.read_bytes().rstrip(b"\n") + b"\n\n"
                             for p in sorted((ROOT / "fixtures" / "mail").glob("v2-0*.eml"))))
    cmd = [sys.executable, "-m", "reviewtool", "check", str(mbox), "--no-checkpatch", "--store", str(tmp_path / "s")]
    no_stderr = subprocess.run(cmd + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                               pass_fds=(), check=False, preexec_fn=lambda: os.close(2))
    assert no_stderr.returncode == 0 and no_stderr.stdout.startswith(b"{")
    no_stdout = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False,
                               preexec_fn=lambda: os.close(1), text=True)
    assert no_stdout.returncode == 2
    assert no_stdout.stderr == "reviewtool: error: standard output is closed: there is nowhere to write the result\n"


def test_a_profiler_still_gets_its_results(tmp_path: Path) -> None:
    """The process ends with os._exit after a command, except under a profiler or tracer,
    which writes its results once main has returned."""
    out = tmp_path / "prof.out"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "reviewtool", "--version"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("reviewtool ")
    assert out.is_file() and out.stat().st_size > 0
