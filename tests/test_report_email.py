"""Mailing-list replies: threading headers, recipients, quoting and inline questions."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from reviewtool import record
from reviewtool.model import ApplyResult, CheckResult, Series, from_json
from reviewtool.report import email as replies

GOLDEN = Path(__file__).parent / "golden" / "report"
SENDER = "Rene Reviewer <rene@example.org>"
WHEN = datetime(2021, 8, 3, 9, 0, tzinfo=UTC)


def _load() -> tuple[Series, ApplyResult, CheckResult]:
    def read(name: str) -> object:
        return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return (from_json(Series, read("series")), from_json(ApplyResult, read("apply")),
            from_json(CheckResult, read("check")))


def _parse(text: str) -> EmailMessage:
    msg = email.message_from_bytes(text.encode("utf-8"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_email_replies_match_golden_files() -> None:
    series, apply, check = _load()
    built = replies.build(series, check, apply, sender=SENDER, date=WHEN)
    assert [r.name for r in built] == ["reply-00.eml", "reply-01.eml", "reply-02.eml", "reply-03.eml"]
    for r in built:
        path = GOLDEN / r.name
        if os.environ.get("REVIEWTOOL_UPDATE_GOLDEN"):
            path.write_text(r.text, encoding="utf-8")
        assert r.text == path.read_text(encoding="utf-8"), r.name


def test_email_reply_threads_under_the_patch_and_goes_to_author_and_recipients() -> None:
    series, apply, check = _load()
    built = {r.patch_index: r for r in replies.build(series, check, apply, sender=SENDER, date=WHEN)}
    p2 = series.patches[1]
    msg = _parse(built[2].text)
    assert msg["Subject"] == f"Re: {p2.full_subject}"
    assert msg["In-Reply-To"] == f"<{p2.msgid}>"
    assert msg["References"].split() == [f"<{series.msgid}>", f"<{p2.msgid}>"]
    assert msg["To"] == p2.author
    cc = [a.addr_spec for a in msg["Cc"].addresses]
    assert "ada@example.org" not in cc  # the author is in To
    assert "rene@example.org" not in cc  # the sender does not copy himself
    assert "kexec@lists.infradead.org" in cc and "will.example@example.org" in cc
    assert msg["From"] == SENDER
    assert msg["Message-ID"].startswith("<reviewtool.") and msg["Message-ID"].endswith("@example.org>")
    cover = _parse(built[0].text)
    assert cover["In-Reply-To"] == f"<{series.cover.msgid}>" if series.cover else False
    assert cover["Subject"] == "Re: [PATCH v16 0/3] arm64: MMU enabled kexec relocation"


def test_email_quotes_only_hunks_with_findings_and_puts_each_question_under_its_lines() -> None:
    series, apply, check = _load()
    built = {r.patch_index: r for r in replies.build(series, check, apply, sender=SENDER, date=WHEN)}
    body = _body(_parse(built[1].text)).split("\n")
    assert "> @@ -70,5 +70,16 @@ int machine_kexec_post_load(struct kimage *kimage)" in body
    assert not any(line.startswith("> @@ -161") for line in body)  # no finding in that hunk
    assert not any("reboot_code_buffer" in line for line in body)
    quoted = body.index("> +\t\t\t       arm64_relocate_new_kernel_size);")
    assert body[quoted + 1] == ""
    assert body[quoted + 2].startswith("Is anything written to `reloc_code` between load and reboot")
    assert body[-3:] == ["Thanks,", "Rene Reviewer", ""]
    assert all(line.startswith(">") or not line.startswith(("+", "-", "@@")) for line in body)
    assert "> [...]" in body


def test_email_quotes_commit_message_lines_for_commit_message_findings() -> None:
    series, apply, check = _load()
    built = {r.patch_index: r for r in replies.build(series, check, apply, sender=SENDER, date=WHEN)}
    body = _body(_parse(built[2].text)).split("\n")
    at = body.index("> Reviewed-by: Rene Reviewer <rene@example.org>")
    assert body[at + 2].startswith("Did the reviewer see this version of the patch")


def test_email_skips_patches_whose_findings_are_all_looks_ok_or_pre_existing() -> None:
    series, apply, check = _load()
    only = tuple(f for f in check.findings if f.status == "looks-ok" or f.pre_existing)
    built = replies.build(series, record.replace(check, findings=only, checklist=()), None,
                          sender=SENDER, date=WHEN)
    assert built == []


def test_email_cover_reply_carries_the_series_checklist_and_apply_result() -> None:
    series, apply, check = _load()
    cover = replies.build(series, check, apply, sender=SENDER, date=WHEN)[0]
    body = _body(_parse(cover.text))
    assert "Applied onto v5.15-rc1: 2/3 applied (1 clean, 1 3way), 1 conflict." in body
    assert "Allocation failure\n  - [2/3] If `trans_pgd_create_copy()` fails" in body
    assert "Kdump / crash path" not in body  # looks-ok items are not asked again
    assert "> Tested on a machine with 4K pages, kexec reboot only." in body


def test_email_without_cover_letter_says_it_in_the_reply_to_the_first_patch_one_reply_per_mail() -> None:
    """No cover letter: what is said about the series goes into the reply to patch 1, so no
    two replies answer the same mail or share a Message-ID."""
    series, apply, check = _load()
    series = record.replace(series, cover=None, msgid=series.patches[0].msgid)
    built = replies.build(series, check, apply, sender=SENDER, date=WHEN)
    first = _parse(built[0].text)
    assert built[0].patch_index == 1 and first["In-Reply-To"] == f"<{series.patches[0].msgid}>"
    assert "About the series as a whole:" in _body(first)
    assert len({r.in_reply_to for r in built}) == len(built)
    ids = [_parse(r.text)["Message-ID"] for r in built]
    assert len(set(ids)) == len(ids)
    assert not any(" 0/" in r.subject for r in built)  # no invented cover subject


def test_email_asks_each_question_once_with_its_other_places_and_names_missing_patches() -> None:
    series, apply, check = _load()
    f = next(f for f in check.findings if f.evidence and f.evidence[0].patch and f.evidence[0].file)
    twice = record.replace(f, evidence=(f.evidence[0], record.replace(f.evidence[0], line=999)))
    again = record.replace(twice, rule="OTHER-RULE")
    check = record.replace(check, findings=(twice, again))
    series = record.replace(series, missing=(3, 4, 6))
    built = replies.build(series, check, apply, sender=SENDER, date=WHEN)
    patch_reply = next(r for r in built if r.patch_index == f.evidence[0].patch)
    question_start = " ".join(f.question.split())[:40]
    assert " ".join(_body(_parse(patch_reply.text)).split()).count(question_start) == 1
    assert f"{f.evidence[0].file}:999" in " ".join(_body(_parse(patch_reply.text)).split())
    series_reply = next(r for r in built if r.patch_index in (0, 1) and "not in the thread" in r.text)
    assert "3-4, 6" in series_reply.text


def test_email_encodes_a_non_ascii_sender_and_keeps_the_body_utf8() -> None:
    series, apply, check = _load()
    built = replies.build(series, check, apply, sender="Jörg Prüfer <joerg@example.org>", date=WHEN)
    raw = built[1].text
    assert "From: =?utf-8?q?J=C3=B6rg_Pr=C3=BCfer?= <joerg@example.org>" in raw
    assert "Content-Transfer-Encoding: 8bit" in raw and raw.rstrip().endswith("Thanks,\nJörg Prüfer")
    msg = _parse(raw)
    assert msg["From"].addresses[0].display_name == "Jörg Prüfer"
    assert _body(msg).rstrip().endswith("Jörg Prüfer")


def test_email_render_is_an_mbox_of_every_reply(tmp_path: Path) -> None:
    series, apply, check = _load()
    path = tmp_path / "replies.mbox"
    path.write_text(replies.render(series, check, apply, sender=SENDER, date=WHEN), encoding="utf-8")
    box = mailbox.mbox(str(path))
    subjects = [m["Subject"] for m in box]
    box.close()
    assert subjects == [f"Re: [PATCH v16 0/3] {series.subject}"] + [f"Re: {p.full_subject}" for p in series.patches]


def test_email_cover_reply_without_series_findings_quotes_the_cover_opening() -> None:
    series, apply, check = _load()
    check = record.replace(check, findings=tuple(f for f in check.findings if f.rule != "SERIES-TESTING"))
    body = _body(_parse(replies.build(series, check, apply, sender=SENDER, date=WHEN)[0].text)).split("\n")
    assert body[1:4] == ["> Enable MMU during kexec relocation in order to improve reboot performance.",
                         "> [...]", ""]


def test_a_question_is_quoted_under_the_hunk_its_evidence_points_at_not_a_text_lookalike() -> None:
    """Two hunks hold the same line; the evidence's position, not its text, picks the hunk."""
    from reviewtool.diff import parse
    from reviewtool.model import Evidence
    from reviewtool.report.quote import locate

    diff = ("--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,3 @@\n a\n+\treturn rc;\n b\n"
            "@@ -20,2 +21,3 @@\n x\n+\treturn rc;\n y\n")
    files = parse(diff).files
    second = Evidence(1, "f.c", 22, ("+\treturn rc;",), hunk=1, first=1)
    spot = locate(files, second)
    assert spot is not None and (spot.hunk, spot.first, spot.last) == (1, 1, 1)
    by_line = locate(files, Evidence(1, "f.c", 22, ("+\treturn rc;",)))
    assert by_line is not None and by_line.hunk == 1
