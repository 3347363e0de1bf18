"""fetch on threads shaped like the real ones: bot mails, partial series, format-patch files,
pasted patches, replies to other revisions, orphan trailers; files and a real public-inbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewtool.cli import main
from reviewtool.fetch import series_from_mbox
from reviewtool.model import Series
from tests import fetch_threads as ft
from tests.pi import PublicInbox


def read(tmp_path: Path, msgs: list[bytes], revision: int | None = None) -> Series:
    path = tmp_path / "thread.mbox"
    path.write_bytes(ft.mbox(msgs))
    return series_from_mbox(path, revision)


def names(s: Series) -> list[tuple[int, str]]:
    return [(p.index, p.subject) for p in s.patches]


def test_robot_suggestion_is_a_reply_not_a_revision_or_a_patch(tmp_path: Path) -> None:
    s = read(tmp_path, ft.mce_series_with_robot())
    assert s.revision == 1 and s.expected == 4 and s.other_revisions == ()
    assert names(s) == [(i, f"x86/mce: step {i} of the tidy") for i in range(1, 5)]
    robot = [r for r in s.replies if r.kind == "robot-suggestion"]
    assert [r.subject for r in robot] == ["[RFC PATCH] x86/mce: mce_foo() can be static"]
    assert robot[0].patch_index == 2 and robot[0].trailers == ()
    assert all(t.from_.startswith("Bob") for p in s.patches for t in p.trailers)


def test_tip_bot_notification_is_not_patch_two_of_a_one_patch_posting(tmp_path: Path) -> None:
    s = read(tmp_path, ft.one_patch_with_tip_bot())
    assert s.expected == 1 and names(s) == [(1, "x86/boot: Fix the early console")] and s.missing == ()
    kinds = {r.subject: r.kind for r in s.replies}
    assert kinds == {"[tip: x86/urgent] x86/boot: Fix the early console": "commit-notification",
                     "Re: [PATCH] x86/boot: Fix the early console": "applied"}


def test_summary_names_the_mails_kept_as_bot_replies(tmp_path: Path, store: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.mbox"
    path.write_bytes(ft.mbox(ft.one_patch_with_tip_bot() + ft.mce_series_with_robot()[-2:-1]))
    assert main(["fetch", str(path), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "commit notification, kept as a reply: [tip: x86/urgent] x86/boot: Fix the early console" in out
    assert "applied notice, kept as a reply: Re: [PATCH] x86/boot: Fix the early console (Bob Maintainer)" in out


def test_a_single_patch_of_a_larger_series_is_named_by_its_own_subject(tmp_path: Path) -> None:
    s = read(tmp_path, ft.single_of_larger())
    assert s.subject == "kexec: keep the crash kernel's memory map"
    assert s.expected == 7 and s.missing == (1, 2, 4, 5, 6, 7)


def test_an_older_higher_numbered_different_patch_is_not_a_newer_revision(tmp_path: Path) -> None:
    s = read(tmp_path, ft.v6_older_than_v5())
    assert s.revision == 5 and s.other_revisions == (6,)
    assert not any("newer revision" in w for w in s.warnings)
    assert "also in the thread, other patches (not revisions of this series): v6" in s.warnings


def test_a_later_one_patch_fix_in_reply_does_not_take_the_thread_from_its_series(tmp_path: Path) -> None:
    s = read(tmp_path, ft.series_with_a_later_fix_in_reply())  # b4 takes the fix: it was posted last
    assert (s.revision, s.subject, len(s.patches)) == (2, "coresight: etm4x: Fixes for the sysfs API", 3)
    assert "also in the thread, other patches (not revisions of this series): v1" in s.warnings
    fix = read(tmp_path, ft.series_with_a_later_fix_in_reply(), revision=1)
    assert names(fix) == [(1, "coresight: etm4x: Fix BMVAL misuse")]


def test_an_applied_notice_with_the_commit_attached_is_a_reply_not_a_patch(tmp_path: Path) -> None:
    s = read(tmp_path, ft.series_with_applied_notices())
    assert (s.revision, s.subject) == (3, "spi: Convert to YAML schemas")
    assert names(s) == [(1, "dt-bindings: spi: sun4i: Add YAML schemas"),
                        (2, "dt-bindings: spi: sun6i: Add YAML schemas")]
    assert s.other_revisions == ()
    notices = [r for r in s.replies if r.kind == "applied"]
    assert sorted((r.patch_index, r.subject) for r in notices) == [
        (1, 'Applied "spi: sun4i: Add YAML schemas" to the spi tree'),
        (2, 'Applied "spi: sun6i: Add YAML schemas" to the spi tree')]


def test_a_later_revision_of_the_same_series_still_warns(tmp_path: Path) -> None:
    s = read(tmp_path, ft.v17_with_v16_replies(), revision=16)
    assert "a newer revision is in the thread: v17 (use -v 17)" in s.warnings


def test_a_long_gap_is_ranges_not_a_row_per_patch(tmp_path: Path, store: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.mbox"
    path.write_bytes(ft.mbox(ft.stable_partial()))
    assert main(["fetch", str(path), "--offline"]) == 0
    got = capsys.readouterr()
    assert "thread incomplete: 433 of 434 patches not in this thread: 1-432, 434" in got.err
    assert len(got.err) < 300 and got.out.count("MISSING") == 2
    assert "v1 [434 patches] net: fix a leak" in got.out


@pytest.mark.parametrize("cover", [True, False])
def test_git_format_patch_files_without_message_id_are_taken(tmp_path: Path, cover: bool) -> None:
    folder = ft.format_patch_dir(tmp_path / "out", cover)
    s = series_from_mbox(folder)
    assert names(s) == [(1, "lib: fix 1"), (2, "lib: fix 2")]
    assert (s.cover is not None) == cover
    assert s.subject == ("lib: Two fixes" if cover else "lib: fix 1")
    assert any("without a Message-ID" in w for w in s.warnings)
    again = series_from_mbox(folder)
    assert again.id == s.id and [p.msgid for p in again.patches] == [p.msgid for p in s.patches]


def test_format_patch_directory_is_fetched_and_stored(tmp_path: Path, store: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = ft.format_patch_dir(tmp_path / "out", cover=False)
    assert main(["fetch", str(folder), "--offline", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["index"] for p in d["patches"]] == [1, 2]
    am = next((store / "series").iterdir()) / "am.mbox"
    assert am.read_bytes().count(b"From git@z") == 2


def test_a_mail_left_out_is_named_in_the_warning(tmp_path: Path) -> None:
    deep = b"Content-Type: multipart/mixed; boundary=b0\n\n"
    for i in range(40):
        deep += f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n".encode()
    bad = (b"From: x <x@example.org>\nSubject: Re: [PATCH] kexec: fix the purgatory checksum\n"
           b"Message-ID: <deep-one@example.org>\nMIME-Version: 1.0\n" + deep)
    s = read(tmp_path, ft.reply_with_pasted_patch()[:1] + [bad])
    assert any("left out" in w and "<deep-one@example.org>" in w for w in s.warnings)


def test_signed_off_by_of_a_pasted_patch_is_not_a_trailer(tmp_path: Path) -> None:
    s = read(tmp_path, ft.reply_with_pasted_patch())
    assert s.patches[0].trailers == ()
    assert s.replies[0].trailers == ()


def test_tested_by_to_a_cover_not_in_the_archive_applies_to_the_series(tmp_path: Path, store: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    msgs = [m for m in ft.v17_with_v16_replies() if b"[PATCH v17" not in m]
    s = read(tmp_path, msgs)
    assert s.revision == 16
    given = [(t.name, t.from_, t.source) for t in s.patches[0].trailers]
    assert given == [("Tested-by", "Carol Tester <carol@example.org>", "cover")]
    assert [r.patch_index for r in s.replies if r.trailers] == [0]
    path = tmp_path / "v16.mbox"
    path.write_bytes(ft.mbox(msgs))
    assert main(["fetch", str(path), "--offline"]) == 0
    assert "trailers: +1 Tested-by" in capsys.readouterr().out
    am = next((store / "series").iterdir()) / "am.mbox"
    assert b"Tested-by: Carol Tester <carol@example.org>" in am.read_bytes()


def test_replies_to_v16_are_not_counted_for_v17(tmp_path: Path, store: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    s = read(tmp_path, ft.v17_with_v16_replies())
    assert s.revision == 17 and s.replies == () and s.other_replies == 2
    assert all(p.trailers == () for p in s.patches)
    assert main(["fetch", str(tmp_path / "thread.mbox"), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "2 replies to other revisions in the thread, not counted for v17" in out
    assert "replies (" not in out


def test_summary_trailer_counts_equal_the_table(tmp_path: Path, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.mbox"
    path.write_bytes(ft.mbox(ft.mce_series_with_robot()))
    assert main(["fetch", str(path), "--offline"]) == 0
    out = capsys.readouterr().out
    assert out.count("+1 Reviewed-by") == 2 and "trailers: +1 Reviewed-by" in out


# --- the same threads through a real public-inbox-httpd on 127.0.0.1 -----------------------


@pytest.fixture(scope="module")
def bot_inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInbox]:
    root = tmp_path_factory.mktemp("pi-bots")
    files = []
    for i, m in enumerate(ft.mce_series_with_robot() + ft.one_patch_with_tip_bot()):
        f = root / f"m{i:02d}.eml"
        f.write_bytes(m)
        files.append(f)
    pi = PublicInbox(root / "pi", name="bots")
    pi.add(files)
    pi.start()
    try:
        yield pi
    finally:
        pi.stop()


def test_bot_mails_fetched_over_http_stay_replies(bot_inbox: PublicInbox, store: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "20200901-2-alice@example.org", "--lore-url", bot_inbox.url, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["subject"] for p in d["patches"]] == [f"x86/mce: step {i} of the tidy" for i in range(1, 5)]
    assert {r["kind"] for r in d["replies"]} == {"", "robot-suggestion"}
    assert main(["fetch", "20201010-1-alice@example.org", "--lore-url", bot_inbox.url, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["expected"] == 1 and len(d["patches"]) == 1
    assert sorted(r["kind"] for r in d["replies"]) == ["applied", "commit-notification"]
