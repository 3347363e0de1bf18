"""The email replies, delivered to a real public-inbox and fetched back through b4.

Replies for the fixture series are written, delivered with public-inbox-mda (with its
recipient pre-check on), served by public-inbox-httpd on 127.0.0.1 and fetched again
with `reviewtool fetch`: each must thread under the patch it answers, b4 must not take
any of them for a patch or a new revision, and no trailer may come from them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from reviewtool.check.pipeline import check_series
from reviewtool.check.rules import load_rules
from reviewtool.cli import main
from reviewtool.fetch import fetch
from reviewtool.model import Series, from_json
from reviewtool.report import email as replies
from tests.conftest import MAIL, mails
from tests.pi import PublicInbox

V2_COVER = "20210809215402.804942-1-pasha.tatashin@example.org"
SENDER = "Rene Reviewer <rene@example.org>"
RoundTrip = tuple[Series, list[replies.ReplyMail], Series]  # original, replies, fetched back
MESSAGE_RULE = '''
[[rule]]
id = "TEST-MEASURED-ON-ONE-MACHINE"
title = "Numbers from one machine"
severity = "info"
category = "testing_request"
message = "The commit message gives timings from one machine."
question = "Was the series also tested with kdump, not only with kexec reboot?"
commit_message = ['^Cavium ThunderX2:$']
[rule.doc]
what = "Timings from a single machine in a commit message."
why = "Reviewers ask which configurations were tested."
example = "Cavium ThunderX2:"
not_flagged = "Messages without timings."
'''


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundTrip]:
    root = tmp_path_factory.mktemp("roundtrip")
    rules = root / "rules"
    rules.mkdir()
    (rules / "message.toml").write_text(MESSAGE_RULE, encoding="utf-8")
    original = fetch(str(MAIL), lore_url="https://lore.kernel.org/all", offline=True).series
    check = check_series(original, load_rules(extra=[rules]))
    built = replies.build(original, check, None, sender=SENDER, date=datetime(2021, 8, 10, 9, 0, tzinfo=UTC))

    pi = PublicInbox(root / "pi")
    pi.add(mails(""))
    subprocess.run(["git", "config", "-f", pi.env["PI_CONFIG"], "publicinboxmda.spamcheck", "none"],
                   check=True, timeout=30)
    out = root / "replies"
    out.mkdir()
    for r in built:
        path = out / r.name
        path.write_text(r.text, encoding="utf-8")
        with path.open("rb") as fh:
            subprocess.run(["public-inbox-mda"], stdin=fh, check=True, capture_output=True, timeout=60,
                           env=dict(pi.env, ORIGINAL_RECIPIENT=f"{pi.name}@lists.example.org"))
    pi.start()
    try:
        yield original, built, _fetch_over_http(pi)
    finally:
        pi.stop()


def _fetch_over_http(pi: PublicInbox) -> Series:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["fetch", V2_COVER, "--lore-url", pi.url, "--json"]) == 0
    return from_json(Series, json.loads(buf.getvalue()))


def test_replies_were_written_for_the_cover_and_the_patches_with_findings(roundtrip: RoundTrip) -> None:
    _original, built, _fetched = roundtrip
    indexes = [r.patch_index for r in built]
    assert indexes[0] == 0 and 4 in indexes and 5 in indexes  # the linear-map copy, the MMU switch
    patch5 = next(r for r in built if r.patch_index == 5)
    assert "> Cavium ThunderX2:" in patch5.text  # a commit-message finding quotes the message


def test_every_reply_threads_under_the_patch_it_answers(roundtrip: RoundTrip) -> None:
    original, built, fetched = roundtrip
    by_msgid = {r.msgid: r for r in fetched.replies}
    for mail in built:
        msgid = mail.text.split("Message-ID: <", 1)[1].split(">", 1)[0]
        assert msgid in by_msgid, f"{mail.name} is not in the fetched thread"
        got = by_msgid[msgid]
        assert got.patch_index == mail.patch_index, mail.name
        assert got.in_reply_to == mail.in_reply_to
        assert got.author == SENDER
        target = original.cover.msgid if mail.patch_index == 0 and original.cover else \
            original.patches[mail.patch_index - 1].msgid
        assert mail.in_reply_to == target


def test_b4_takes_no_reply_for_a_patch_or_a_new_revision(roundtrip: RoundTrip) -> None:
    original, _built, fetched = roundtrip
    assert fetched.revision == original.revision == 2
    assert fetched.expected == 6
    assert [p.msgid for p in fetched.patches] == [p.msgid for p in original.patches]
    assert fetched.other_revisions == ()  # the v2 thread holds v2 only: a reply taken for a patch would add one
    assert fetched.missing == () and fetched.duplicates == ()
    assert not any("newer revision" in w for w in fetched.warnings)


def test_no_trailer_is_invented_from_the_replies(roundtrip: RoundTrip) -> None:
    original, built, fetched = roundtrip
    ours = {m.text.split("Message-ID: <", 1)[1].split(">", 1)[0] for m in built}
    for p in fetched.patches:
        assert not any(t.msgid in ours for t in p.trailers), p.subject
    for r in fetched.replies:
        if r.msgid in ours:
            assert r.trailers == ()
    before = {p.index: sorted((t.name, t.value) for t in p.trailers) for p in original.patches}
    after = {p.index: sorted((t.name, t.value) for t in p.trailers) for p in fetched.patches}
    assert after == before
