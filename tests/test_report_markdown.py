"""The markdown comment: golden output, escaping, and the size limit."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reviewtool import record
from reviewtool.model import ApplyResult, CheckResult, Evidence, Finding, Series, from_json
from reviewtool.report import markdown

GOLDEN = Path(__file__).parent / "golden" / "report"


def _load() -> tuple[Series, ApplyResult, CheckResult]:
    def read(name: str) -> object:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REVIEWTOOL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_markdown_matches_golden_file() -> None:
    series, apply, check = _load()
    _golden("report.md", markdown.render(series, check, apply))


def test_markdown_header_names_base_link_and_what_did_not_apply_with_gits_message() -> None:
    series, apply, check = _load()
    text = markdown.render(series, check, apply)
    assert "base:       c500bee1c5b2 (base-commit: in the series" in text
    assert "patch link: https://lore.kernel.org/all/20210802215408.804942-1-ada@example.org/" in text
    assert "**Did not apply:** [3/3]" in text
    assert "error: arch/arm64/kernel/relocate_kernel.S: patch does not apply" in text


def test_markdown_checklist_is_a_task_list_grouped_by_category() -> None:
    series, apply, check = _load()
    text = markdown.render(series, check, apply)
    checklist = text.split("#### Reviewer checklist", 1)[1].split("#### Patches", 1)[0]
    assert checklist.index("**Kdump / crash path**") < checklist.index("**Allocation failure**")
    assert "- [x] Extra work on a crash kernel load" in checklist  # looks-ok is ticked
    assert "- [ ] **New allocation at kexec load time**: If `trans_pgd_create_copy()` fails" in checklist
    assert checklist.count("- [ ]") == 5


def test_markdown_has_one_details_section_per_patch_with_code_lines() -> None:
    series, apply, check = _load()
    text = markdown.render(series, check, apply)
    assert text.count("<details>") == text.count("</details>") == len(series.patches) + 1
    section = text.split("<summary>[2/3]", 1)[1].split("</details>", 1)[0]
    assert "```diff\n  +\t\trc = trans_pgd_create_copy(&info, &trans_pgd, PAGE_OFFSET," in section


def test_markdown_without_apply_result_says_patches_were_not_applied() -> None:
    series, _apply, check = _load()
    text = markdown.render(series, check, None)
    assert "not applied" in text and "Did not apply" not in text
    assert "base:       c500bee1c5b2 (base-commit: in the series; not applied)" in text


def test_markdown_escapes_html_and_markdown_in_subjects_and_messages() -> None:
    series, apply, check = _load()
    p = record.replace(series.patches[0], subject="mm: fix <b>bold</b> | pipe *star*")
    series = record.replace(series, patches=(p, *series.patches[1:]))
    f = record.replace(check.findings[0], message="frees <ptr> & `a<b>` too")
    check = record.replace(check, findings=(f, *check.findings[1:]))
    text = markdown.render(series, check, apply)
    assert "<b>bold" not in text
    assert "mm: fix &lt;b&gt;bold&lt;/b&gt; \\| pipe" in text  # table cell
    assert "frees &lt;ptr&gt; &amp; `a<b>` too" in text  # code span kept verbatim


def test_markdown_stays_under_the_limit_and_says_it_was_shortened() -> None:
    series, apply, check = _load()
    many = tuple(
        Finding(f"RULE-{i}", f"Title {i}", "warning", "error_path", "x" * 200, f"Question {i}?" + "y" * 100,
                (Evidence(1 + i % 3, "arch/arm64/kernel/machine_kexec.c", 78, ("+" + "z" * 300,) * 5),))
        for i in range(400)
    )
    big = record.replace(check, findings=check.findings + many)
    full = markdown.render(series, big, apply, limit=10**9)
    assert len(full) > markdown.LIMIT
    text = markdown.render(series, big, apply)
    assert len(text) <= markdown.LIMIT
    assert "see the full report" in text
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0
    assert "#### Reviewer checklist" in text


def test_markdown_cut_keeps_fences_balanced_when_even_the_checklist_is_too_long() -> None:
    series, apply, check = _load()
    item = check.checklist[1]
    items = tuple(record.replace(item, question=f"Question {i}? " + "q" * 300) for i in range(100))
    big = record.replace(check, checklist=items)
    text = markdown.render(series, big, apply, limit=5000)
    assert len(text) <= 5000
    assert text.rstrip().endswith("_Cut at the comment size limit; see the full report._")
    assert text.count("```") % 2 == 0


def test_markdown_for_a_huge_series_keeps_the_patch_table_and_caps_findings_per_patch() -> None:
    series, apply, check = _load()
    patches = tuple(record.replace(series.patches[i % 3], index=i + 1, expected=50) for i in range(50))
    series = record.replace(series, patches=patches, expected=50)
    many = tuple(
        Finding(f"RULE-{i}", f"Title {i}", "warning", "error_path", "m" * 80, f"Question {i}? " + "q" * 80,
                (Evidence(1 + i % 50, "arch/arm64/kernel/machine_kexec.c", 78, ("+x",)),))
        for i in range(2000)
    )
    text = markdown.render(series, record.replace(check, findings=many), None)
    assert len(text) <= markdown.LIMIT
    assert "_Shortened: at most 5 findings per patch; see the full report._" in text
    assert all(f"| {i:02d}/50 |" in text for i in range(1, 51))
    assert "- _and 35 more_" in text
    assert text.count("<details>") == text.count("</details>") == 50


def test_base_is_said_once_when_rebase_described_it_in_full() -> None:
    from reviewtool.model import ApplyResult, BaseChoice
    from reviewtool.report.quote import base_summary

    full = ApplyResult("s", "v5.15-rc1", "2b7ce44d34f1", BaseChoice(
        "e457da4a04c3aa", "base-commit", "e457da4a04c3 (v5.14-rc4), the series' base-commit:"), (), None, None, "/r")
    assert base_summary(full) == "e457da4a04c3 (v5.14-rc4), the series' base-commit:"
    short = ApplyResult("s", "x", "y", BaseChoice("c500bee1c5b2ff", "guessed", "3 of 3 blobs"), (), None, None, "/r")
    assert base_summary(short) == "c500bee1c5b2 (guessed from the index lines; 3 of 3 blobs)"


def test_markdown_title_without_a_cover_letter_is_the_first_patch_subject_not_an_invented_0_of_n() -> None:
    golden = Path(__file__).parent / "golden" / "report"
    series = from_json(Series, json.loads((golden / "series.json").read_text()))
    check = from_json(CheckResult, json.loads((golden / "check.json").read_text()))
    apply = from_json(ApplyResult, json.loads((golden / "apply.json").read_text()))
    text = markdown.render(record.replace(series, cover=None), check, apply)
    first_line = text.split("\n", 1)[0]
    assert " 0/" not in first_line and "1/" in first_line, first_line
