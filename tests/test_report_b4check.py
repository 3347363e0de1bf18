"""b4's review-check protocol, checked against b4 0.16's own code.

`b4.review-perpatch-check-cmd` is read by `b4.review.checks.load_check_cmds()`, run by
`run_perpatch_checks()` (the mail on stdin, in the git top directory) and its stdout
parsed by `_run_external_cmd()`; the test drives exactly that path with
`reviewtool check --format b4 -` as the configured command.
"""

from __future__ import annotations

import argparse
import email
import json
import shlex
import subprocess
import sys
from pathlib import Path

import b4
import b4.review.checks as b4checks

from reviewtool import record
from reviewtool.model import ApplyResult, CheckResult, Series, from_json
from reviewtool.report import b4check

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "report"
PATCH_MAIL = ROOT / "fixtures" / "mail" / "v2-02.eml"  # adds fields to struct kimage_arch

RULE_PACK = '''
[[rule]]
id = "TEST-KIMAGE-ARCH-FIELD"
title = "New field in struct kimage_arch"
severity = "warning"
category = "relocation_path"
message = "A field is added to struct kimage_arch: {match}"
question = "Is the new field's offset exported through asm-offsets.c for the relocation code?"
paths = ["arch/arm64/include/asm/kexec.h"]
added = ['phys_addr_t\\s+ttbr1']
[rule.doc]
what = "Fields added to struct kimage_arch."
why = "The relocation code reads them through asm-offsets."
example = "+\\tphys_addr_t ttbr1;"
not_flagged = "Other structures."
'''


def _load() -> tuple[Series, ApplyResult, CheckResult]:
    def read(name: str) -> object:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")))


def _one_patch(series: Series, index: int) -> Series:
    return record.replace(series, patches=(series.patches[index - 1],), expected=series.expected)


def test_b4check_prints_one_entry_with_the_worst_status_and_details_b4_can_render() -> None:
    series, apply, check = _load()
    out = json.loads(b4check.render(series, check, apply))
    assert isinstance(out, list) and len(out) == 1
    entry = out[0]
    assert set(entry) == {"tool", "status", "summary", "url", "details"}
    assert entry["tool"] == "reviewtool" and entry["status"] == "fail"
    assert entry["summary"].startswith("does not apply onto v5.15-rc1; 1 error, 2 warnings, 3 notes")
    details = json.loads(entry["details"])
    assert details[0] == {"status": "fail", "context": "apply", "state": "conflict",
                          "description": "error: patch failed: arch/arm64/kernel/relocate_kernel.S:41 "
                                         "error: arch/arm64/kernel/relocate_kernel.S: patch does not apply"}
    by_ctx = {d["description"].split(" ", 1)[0]: d for d in details[1:]}
    assert by_ctx["(pre-existing)"]["status"] == "pass"
    alloc = next(d for d in details if "KEXEC-ALLOC-LOAD-TIME" in d["description"])
    assert alloc["status"] == "warn" and alloc["context"] == "alloc_failure"
    assert alloc["srcline"].startswith("+ rc = trans_pgd_create_copy(")
    assert "(arch/arm64/kernel/machine_kexec.c:156): If `trans_pgd_create_copy()` fails" in alloc["description"]


def test_b4check_status_is_warn_for_warnings_and_pass_for_notes_only() -> None:
    series, _apply, check = _load()
    one = _one_patch(series, 2)
    mine = record.replace(check, findings=tuple(f for f in check.findings
                                                     if any(e.patch == 2 for e in f.evidence)))
    entry = b4check.build(one, mine, None)[0]
    assert entry["status"] == "warn"
    assert entry["url"] == "https://lore.kernel.org/all/20210802215408.804942-3-ada@example.org/"
    notes = record.replace(mine, findings=tuple(f for f in mine.findings if f.severity == "info"))
    assert b4check.build(one, notes, None)[0]["status"] == "pass"
    empty = b4check.build(one, record.replace(check, findings=()), None)[0]
    assert empty["status"] == "pass" and empty["summary"] == "no questions raised" and empty["details"] == ""


def test_b4_runs_reviewtool_check_as_its_review_perpatch_check_cmd(tmp_path: Path, store: Path) -> None:
    tree = tmp_path / "linux"
    tree.mkdir()
    subprocess.run(["git", "init", "-q", str(tree)], check=True, timeout=30)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.toml").write_text(RULE_PACK, encoding="utf-8")
    cmd = shlex.join([sys.executable, "-m", "reviewtool", "check", "--no-checkpatch",
                      "--rules", str(rules), "--format", "b4", "-"])
    b4.setup_config(argparse.Namespace(config={"b4.review-perpatch-check-cmd": cmd}))
    perpatch, _series_cmds = b4checks.load_check_cmds()
    assert perpatch == [cmd]

    msg = email.message_from_bytes(PATCH_MAIL.read_bytes(), policy=b4.emlpolicy)
    msgid = b4.LoreMessage.get_clean_msgid(msg)
    results = b4checks.run_perpatch_checks([(msgid, msg)], perpatch, str(tree))

    assert list(results) == [msgid]
    (entry,) = results[msgid]
    assert entry["tool"] == "reviewtool", entry
    assert entry["status"] == "warn"
    assert entry["summary"] == "1 warning (relocation_path)"
    assert entry["url"].endswith(f"/{msgid}/")
    (detail,) = json.loads(entry["details"])
    assert detail["status"] == "warn" and detail["context"] == "relocation_path"
    assert "TEST-KIMAGE-ARCH-FIELD (arch/arm64/include/asm/kexec.h:15)" in detail["description"]
    assert detail["description"].endswith("exported through asm-offsets.c for the relocation code?")
    # a mail checked from stdin is not kept: b4 runs the command once per patch it shows
    assert not (store / "series").exists() or not any((store / "series").iterdir())


def test_b4_reports_a_failed_run_when_the_mail_holds_no_patch(tmp_path: Path, store: Path) -> None:
    tree = tmp_path / "linux"
    tree.mkdir()
    subprocess.run(["git", "init", "-q", str(tree)], check=True, timeout=30)
    cmd = shlex.join([sys.executable, "-m", "reviewtool", "check", "--no-checkpatch", "--format", "b4", "-"])
    msg = email.message_from_bytes((ROOT / "fixtures" / "mail" / "v2-r1.eml").read_bytes(),
                                   policy=b4.emlpolicy)
    (entry,) = b4checks.run_perpatch_checks([("x@y", msg)], [cmd], str(tree))["x@y"]
    assert entry["status"] == "fail"
    assert entry["summary"] == "exited with error code 2"
    assert "no patch found in standard input" in entry["details"]
