"""Every output format under hostile mail text: markup, escape sequences, HTML, mentions,
odd addresses, header injection, odd file names and sizes that would make unbounded lines.

Mail is what anyone can send to a list: whatever a subject, a name or a diff holds must
come out as text in each format, never as terminal control, markup, live HTML, a ping,
an extra mail header or a 50 KB line.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reviewtool import record
from reviewtool.cli import main
from reviewtool.model import (
    ApplyResult,
    CheckResult,
    Evidence,
    Finding,
    PatchOutcome,
    Series,
    from_json,
)
from reviewtool.report import (
    b4check,
    json_report,
    markdown,
    patchwork,
    rebase_text,
    sarif,
    series_text,
    terminal,
)
from reviewtool.report import email as replies
from reviewtool.report.safe import LINE_LIMIT, for_terminal, ranges
from tests.conftest import MAIL

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "report"
SENDER = "Rene Reviewer <rene@example.org>"
# What a terminal acts on: OSC (title, hyperlink), CSI (clear screen), BEL, NUL, 8-bit CSI.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x00\x7f"
ATTACKS = ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\x00", "\x7f")


def _load() -> tuple[Series, ApplyResult, CheckResult]:
    def read(name: str) -> Any:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")))


def _with_patch(series: Series, index: int, **changes: Any) -> Series:
    patches = tuple(record.replace(p, **changes) if p.index == index else p for p in series.patches)
    return record.replace(series, patches=patches)


def _no_attack(text: str) -> None:
    for seq in ATTACKS:
        assert seq not in text, repr(seq)


# --- terminal -------------------------------------------------------------------------------

def _hostile_thread(tmp_path: Path, subject: str, name: str) -> Path:
    """The fixture thread (v2) with patch 1's subject and the cover letter's author name replaced."""
    d = tmp_path / "thread"
    shutil.copytree(MAIL, d)
    for path in d.glob("v1-*.eml"):
        path.unlink()
    p = d / "v2-01.eml"
    encoded = email.policy.default.header_factory("Subject", subject).fold(policy=email.policy.default)
    text = p.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^Subject: .*\n", lambda _m: encoded, text, count=1)
    p.write_text(text, encoding="utf-8")
    cover = d / "v2-00.eml"
    who = email.policy.default.header_factory("From", f'"{name}" <pasha.tatashin@example.org>')
    text = re.sub(r"(?m)^From: .*\n", lambda _m: who.fold(policy=email.policy.default),
                  cover.read_text(encoding="utf-8"), count=1)
    cover.write_text(text, encoding="utf-8")
    return d


def test_fetch_list_and_show_print_rich_markup_in_a_subject_as_text(
        tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subject = "[PATCH v2 1/6] arm64: [/] fix [link=https://evil.example/]here[/link] [bold red]"
    thread = _hostile_thread(tmp_path, subject, "Eve [/] [blink]Evil")
    assert main(["fetch", str(thread), "--offline"]) == 0
    fetched = capsys.readouterr().out
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert main(["show"]) == 0
    shown = capsys.readouterr().out
    for out in (fetched, shown):
        assert "arm64: [/] fix [link=https://evil.example/]here[/link] [bold red]" in out
        assert "— Eve [/] [blink]Evil, 2021-08-09" in out
    assert "Eve [/] [blink]Evil, 2021-08-09" in listed
    assert main(["show", "--json"]) == 0  # the stored series is intact
    assert json.loads(capsys.readouterr().out)["patches"][0]["subject"] == subject.split("] ", 1)[1]


def test_series_summary_on_a_terminal_shows_link_markup_literally_without_a_hyperlink() -> None:
    series, _apply, _check = _load()
    series = _with_patch(series, 1, subject="see [link=https://evil.example/]the fix[/link]")
    text = series_text.render_series(series, tty=True)
    assert "\x1b]8;" not in text  # OSC 8: a terminal hyperlink
    assert "see [link=https://evil.example/]the fix[/link]" in text


def test_terminal_renderers_strip_escape_sequences_from_mail_text() -> None:
    series, apply, check = _load()
    series = record.replace(series, subject=f"cover{HOSTILE}", author=f"Eve{HOSTILE} <e@x.org>",
                                 warnings=(f"odd{HOSTILE}",), change_id=f"id{HOSTILE}")
    series = _with_patch(series, 1, subject=f"one{HOSTILE}")
    apply = record.replace(apply, patches=tuple(
        record.replace(p, subject=f"s{HOSTILE}", detail=f"d{HOSTILE}", git_error=f"e{HOSTILE}\nf")
        for p in apply.patches))
    finding = Finding("X-ONE", "t", "warning", "error_path", f"m{HOSTILE}", f"q{HOSTILE}?",
                      (Evidence(1, f"a{HOSTILE}.c", 3, (f"+x{HOSTILE}",)),), reason=f"r{HOSTILE}")
    check = record.replace(check, findings=(finding,), notes=(f"n{HOSTILE}",))
    outputs = []
    for tty in (True, False):
        outputs.append(terminal.render(series, check, apply, tty=tty, verbose=1))
    outputs.append(series_text.render_series(series, tty=True, stored_at="/s")
                   + series_text.render_warnings(series.warnings, tty=True)
                   + series_text.render_list([series], tty=True)
                   + rebase_text.render_result(apply, series, tty=True))
    for text in outputs:
        _no_attack(text)
        assert "]0;pwned" in text  # the printable rest is still shown
    assert "\x1b" not in outputs[1]  # plain output: no escape at all


def test_a_line_break_in_a_subject_forges_no_line_of_terminal_output() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, subject="real\nreviewtool check: 0 findings\r\nall fine")
    text = terminal.render(series, check, apply)
    assert "reviewtool check: 0 findings" not in text.split("\n")
    assert "real reviewtool check: 0 findings all fine" in text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_for_terminal_gives_one_bounded_line_without_control_characters(text: str) -> None:
    out = for_terminal(text, limit=50)
    assert not re.search("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]", out)
    assert len(out) <= 50 + len(f"… [{len(text)} more characters]")
    if len(out) < len(text) and "more characters]" in out:
        assert out.startswith(out[:50])


# --- markdown -------------------------------------------------------------------------------

def _html(md_text: str) -> str:
    """The comment as a CommonMark renderer with tables and raw HTML (GitHub's dialect) shows it."""
    return str(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md_text))


def _outside_code(md_text: str) -> str:
    """The markdown without fenced blocks and code spans (where GitHub links nothing)."""
    no_blocks = re.sub(r"(?ms)^ *(`{3,}).*?^ *\1`*$", "", md_text)
    return re.sub(r"(`+).+?\1", "", no_blocks)


def test_markdown_summary_escapes_html_in_a_subject_with_entities() -> None:
    series, apply, check = _load()
    subject = '</details ><img src=x onerror=alert(1)> <a href="https://evil.example/">x</a> & [y]'
    text = markdown.render(_with_patch(series, 1, subject=subject), check, apply)
    summary = next(line for line in text.split("\n") if line.startswith("<summary>[1/3]"))
    assert summary.startswith("<summary>[1/3] &lt;/details &gt;&lt;img src=x onerror=alert(1)&gt; "
                              "&lt;a href=\"https://evil.example/\"&gt;x&lt;/a&gt; &amp; [y]:")
    rendered = _html(text)
    assert "<img" not in rendered and "<a " not in rendered
    assert rendered.count("<details>") == rendered.count("</details>") == len(series.patches) + 1


def test_markdown_table_cell_keeps_links_images_code_and_pipes_as_text() -> None:
    series, apply, check = _load()
    subject = "![img](https://evil.example/x.png) [click](https://evil.example/) | `code` *em* _u_ <b>"
    text = markdown.render(_with_patch(series, 1, subject=subject), check, apply)
    rendered = _html(text)
    cell = re.search(r"<td>1/3</td>\n<td>(.*?)</td>", rendered)
    assert cell is not None
    assert html.unescape(cell.group(1)) == subject
    assert "<img" not in rendered and "<a " not in rendered and "<em>u" not in rendered


def test_markdown_neutralises_mentions_and_issue_references_from_mail_text() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, subject="fix for @torvalds and @org/team, see #123 and GH-45")
    series = record.replace(series, warnings=("@someone asked in #99",))
    text = markdown.render(series, check, apply)
    outside = _outside_code(text)
    assert not re.search(r"(?<![A-Za-z0-9])@[A-Za-z0-9]", outside)
    assert not re.search(r"#[0-9]|(?i:gh)-[0-9]", outside)
    # it still reads the same: the only change is a zero-width joiner
    assert "fix for @torvalds" in _html(text).replace(markdown.ZWJ, "")


def test_markdown_keeps_email_addresses_as_they_are() -> None:
    series, apply, check = _load()
    text = markdown.render(_with_patch(series, 1, subject="reported by ada@example.org"), check, apply)
    assert "reported by ada@example.org" in text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e) | st.sampled_from("äß€\u200d"),
               max_size=60))
def test_markdown_plain_text_renders_as_exactly_that_text(text: str) -> None:
    rendered = _html(f"| a |\n|---|\n| {markdown.plain(text)} |\n")
    cell = re.search(r"<td>(.*?)</td>", rendered, re.S)
    shown = html.unescape(cell.group(1)) if cell else ""
    assert "<" not in (cell.group(1) if cell else "")  # no tag at all
    # HTML collapses white space when shown, so compare with it collapsed on both sides
    assert " ".join(shown.replace(markdown.ZWJ, "").split()) == " ".join(text.replace(markdown.ZWJ, "").split())


def test_markdown_cut_inside_a_long_fence_closes_it_with_that_fence() -> None:
    series, apply, check = _load()
    error = "\n".join(["error: patch failed", "```", "````", *(f"line {i} " + "x" * 200 for i in range(40))])
    apply = record.replace(apply, patches=tuple(
        record.replace(p, git_error=error) if p.outcome == "conflict" else p for p in apply.patches))
    text = markdown.render(series, check, apply, limit=2500)
    assert len(text) <= 2500
    rendered = _html(text)
    assert rendered.rstrip().endswith("<p><em>Cut at the comment size limit; see the full report.</em></p>")


def test_markdown_lists_missing_patches_as_ranges() -> None:
    series, apply, check = _load()
    missing = tuple(i for i in range(4, 5001) if i != 434)
    series = record.replace(series, expected=5000, missing=missing)
    text = markdown.render(series, check, None)
    assert "| 0004-0433/5000 | _missing from the thread (430 patches)_ | | |" in text
    assert "| 0435-5000/5000 | _missing from the thread (4566 patches)_ | | |" in text
    assert text.count("_missing from the thread") == 2


# --- SARIF ----------------------------------------------------------------------------------

# RFC 3986 URI-reference, from its ABNF (absolute URIs and relative references).
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|{_PCT})"
_URI_REF = re.compile(
    rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?://(?:[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]]|{_PCT})*)?"
    rf"(?:{_PCHAR}|/)*(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?")
_NO_SCHEME_FIRST_SEGMENT = re.compile(rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|{_PCT})*")


def test_sarif_uris_are_percent_encoded_relative_references_that_validate() -> None:
    series, apply, check = _load()
    names = ["kernel/a b#frag?q=1%41.c", "drivers/ünï cödé.c", "c:odd/x.c", "/etc/passwd", "dir/[x]{y}.h"]
    findings = tuple(Finding(f"X-{i}", "t", "warning", "error_path", "m", "q?",
                             (Evidence(1, name, 3 + i, ("+x",)),)) for i, name in enumerate(names))
    log = sarif.build(series, record.replace(check, findings=findings), apply)
    schema = json.loads((HERE / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert all(u["uriBaseId"] == "SRCROOT" for u in uris)
    assert uris[0]["uri"] == "kernel/a%20b%23frag%3Fq%3D1%2541.c"
    for name, loc in zip(names, uris, strict=True):
        uri = loc["uri"]
        assert _URI_REF.fullmatch(uri), uri
        assert _NO_SCHEME_FIRST_SEGMENT.fullmatch(uri.split("/", 1)[0]), uri  # relative: no scheme
        assert not uri.startswith("/")  # relative to SRCROOT, not the root of the disk
        assert unquote(uri) == name
    every_uri = re.findall(r'"uri": "([^"]*)"', sarif.render(series, record.replace(check, findings=findings),
                                                           apply))
    assert every_uri and all(_URI_REF.fullmatch(u) for u in every_uri)


# --- email ----------------------------------------------------------------------------------

def _parse(text: str) -> email.message.EmailMessage:
    msg = email.message_from_bytes(text.encode("utf-8", "surrogateescape"), policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def _headers(text: str) -> str:
    return text.split("\n\n", 1)[0]


def _reply(series: Series, check: CheckResult, apply: ApplyResult | None, index: int = 1,
           sender: str = SENDER) -> str:
    built = {r.patch_index: r for r in replies.build(series, check, apply, sender=sender)}
    return built[index].text


def test_email_reply_to_raw_utf8_addresses_has_ascii_headers_and_says_what_it_left_out() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, author="Jörg <jörg@exämple.org>",
                         cc=("Eve <eve@exämple.org>", "Ulf <ulf@straße.de>", "Plain <plain@example.org>"))
    text = _reply(series, check, apply, sender="Jörg Prüfer <joerg@exämple.org>")
    head = _headers(text)
    assert head.isascii()
    msg = _parse(text)
    assert msg["To"] is None  # the author's local part has no ASCII form
    assert str(msg["From"].addresses[0].addr_spec) == "joerg@xn--exmple-cua.org"
    cc = [a.addr_spec for a in msg["Cc"].addresses]
    assert "eve@xn--exmple-cua.org" in cc and "plain@example.org" in cc
    assert not any("strasse" in a or "stra" in a for a in cc)  # IDNA 2003 would name another domain
    warnings = [str(w) for w in msg.get_all("X-Reviewtool-Warning")]
    assert any(w.startswith("To: Jörg left out: <jörg@exämple.org> has a non-ASCII local part") for w in warnings)
    assert any("<ulf@straße.de>" in w for w in warnings)
    assert msg["Message-ID"].endswith("@xn--exmple-cua.org>")


def test_email_names_with_at_sign_comma_or_encoded_words_parse_back_as_written() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, author="Jo Ä@b <a@b.org>",
                         cc=('"Rene, R." <r@e.org>', "=?utf-8?q?J=C3=B6rg?= <j@x.org>", 'x@y.org (Xavier)'))
    msg = _parse(_reply(series, check, apply))
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jo Ä@b", "a@b.org")
    cc = {a.addr_spec: a.display_name for a in msg["Cc"].addresses}
    assert cc["r@e.org"] == "Rene, R." and cc["j@x.org"] == "Jörg" and cc["x@y.org"] == "Xavier"
    assert _body_of(msg).startswith("On ") and ", Jo Ä@b wrote:" in _body_of(msg).split("\n")[0]
    assert _headers(_reply(series, check, apply)).isascii()


def _body_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_email_subject_with_crlf_and_bcc_makes_no_header_and_no_control_character() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, full_subject=f"[PATCH 1/3] x\r\nBcc: evil@example.org{HOSTILE}")
    text = _reply(series, check, apply)
    msg = _parse(text)
    assert msg["Bcc"] is None
    assert not any(line.startswith("Bcc:") for line in _headers(text).split("\n"))
    assert str(msg["Subject"]).startswith("Re: [PATCH 1/3] x Bcc: evil@example.org")
    _no_attack(text)


def test_email_reply_to_a_non_ascii_message_id_is_written_without_in_reply_to() -> None:
    series, apply, check = _load()
    series = _with_patch(series, 1, msgid="ünï\r\n@example.org")
    text = _reply(series, check, apply)
    msg = _parse(text)
    assert _headers(text).isascii()
    assert msg["In-Reply-To"] is None
    assert msg["References"] == f"<{series.cover.msgid}>" if series.cover else False
    assert any("In-Reply-To" in str(w) for w in msg.get_all("X-Reviewtool-Warning"))


def test_email_body_has_no_control_character_and_no_line_over_998_bytes() -> None:
    series, apply, check = _load()
    long_line = "Reviewed-by: " + "é" * 3000 + HOSTILE
    p1 = series.patches[0]
    series = _with_patch(series, 1, message=p1.message + long_line + "\n")
    finding = Finding("X-LONG", "t", "warning", "commit_msg_trailers", "m", "Why so long?",
                      (Evidence(1, None, None, (long_line,)),))
    text = _reply(series, record.replace(check, findings=(finding,)), None)
    _no_attack(text)
    assert max(len(line.encode()) for line in text.split("\n")) <= 998
    body = _body_of(_parse(text))
    assert "more characters]" in body and "Why so long?" in body


# --- long lines and missing patches ----------------------------------------------------------

def test_ranges_collapse_runs_and_count_what_they_leave_out() -> None:
    assert ranges([*range(1, 433), 434]) == "1-432, 434"
    assert ranges([5, 3, 4, 9]) == "3-5, 9"
    assert ranges(range(1, 100, 2), most=3) == "1, 3, 5, … and 47 more"


def test_series_summary_shows_a_run_of_missing_patches_as_one_row() -> None:
    series, _apply, _check = _load()
    series = record.replace(series, expected=5000, patches=series.patches[:2])
    text = series_text.render_series(series, tty=True)
    assert "0003-5000/5000" in text and "MISSING (4998 patches)" in text
    assert len(text.split("\n")) < 20


def test_no_output_line_built_from_a_huge_subject_or_warning_is_unbounded() -> None:
    series, apply, check = _load()
    huge = "x" * 60_000
    series = record.replace(series, subject=huge, warnings=("missing patches: " + ", ".join(
        str(i) for i in range(3, 12_000, 2)),))
    series = _with_patch(series, 1, subject=huge, full_subject=f"[PATCH 1/3] {huge}")
    apply = record.replace(apply, patches=tuple(record.replace(p, subject=huge) for p in apply.patches))
    rich_text = (series_text.render_series(series, tty=True) + series_text.render_warnings(series.warnings, True)
                 + series_text.render_list([series], tty=True) + rebase_text.render_result(apply, series, tty=True))
    texts = {
        "check": terminal.render(series, check, apply),
        "rich": rich_text,
        "markdown": markdown.render(series, check, apply),
    }
    for name, text in texts.items():
        assert max(len(line) for line in text.split("\n")) <= LINE_LIMIT + 200, name
        assert "more characters]" in text, name
    # rich wraps long table cells: no printed line is long, and the whole subject is not there
    assert huge not in texts["rich"] and huge not in texts["check"]
    for r in replies.build(series, check, apply, sender=SENDER):
        assert max(len(line.encode()) for line in r.text.split("\n")) <= 998


def test_json_formats_escape_c1_and_del_controls_but_keep_the_data() -> None:
    series, apply, check = _load()
    subject = "fix \x9b31m and \x7f and \x1b[2J"
    series = _with_patch(series, 1, subject=subject, full_subject=f"[PATCH 1/3] {subject}")
    outcome = PatchOutcome(1, subject, "clean")
    apply = record.replace(apply, patches=(outcome, *apply.patches[1:]))
    for text in (json_report.render(series, check, apply), sarif.render(series, check, apply),
                 patchwork.render(series, check, apply), b4check.render(series, check, apply)):
        _no_attack(text)
        assert "\x1b" not in text
    doc = json.loads(json_report.render(series, check, apply))
    assert doc["series"]["patches"][0]["subject"] == subject
    rows = [json.loads(line) for line in patchwork.render(series, check, apply).splitlines()]
    assert rows[0]["subject"] == f"[PATCH 1/3] {subject}"


def test_progress_on_a_real_terminal_shows_markup_as_text_and_no_escape_from_mail() -> None:
    """The status line is a rich spinner, which reads markup unless given Text: a SOURCE `[/]`
    or a subject with an escape sequence must neither crash nor reach the terminal."""
    import os
    import pty
    import sys

    code = ("from reviewtool.report.console import Progress\n"
            "with Progress('fetching [/]x', verbose=1) as p:\n"
            "    p.phase('applying [link=https://evil.example/]y[/link]')\n"
            "    p.say('subject \\x1b]0;pwned\\x07 [bold]z')\n"
            "    p(1, 2, None)\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout and stderr are the terminal
        os.execv(sys.executable, [sys.executable, "-c", code])
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _pid, status = os.waitpid(pid, 0)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert "Traceback" not in out and "MarkupError" not in out
    assert "\x1b]0;" not in out and "\x1b]8;" not in out
    assert "subject" in out and "[bold]z" in out


def test_every_format_names_the_patches_missing_from_the_thread() -> None:
    series, apply, check = _load()
    series = record.replace(series, missing=(2, 3))
    assert "patches 2-3 of" in terminal.render(series, check, apply)
    assert json.loads(json_report.render(series, check, apply))["series"]["missing"] == [2, 3]
    sarif_doc = json.loads(sarif.render(series, check, apply))
    assert sarif_doc["runs"][0]["properties"]["series"]["missing"] == [2, 3]
    rows = [json.loads(x) for x in patchwork.render(series, check, apply).splitlines()]
    assert all("2-3 missing from the thread" in r["description"] for r in rows if r["patch"] > 3)
    assert "2-3" in markdown.render(series, check, apply)
    assert any("2-3 of" in r.text for r in replies.build(series, check, apply))
