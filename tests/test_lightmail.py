"""lightmail: a mail of the plain shape reads exactly as the email package reads it.

Every answer a LightMessage gives is compared with the email package's on the same bytes:
on the fixture mails, on real `git format-patch` output, and on generated headers,
addresses and dates (hypothesis), including the shapes just outside what it takes.
"""

from __future__ import annotations

import email.utils
import string
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reviewtool.fetch import bots, headers, lightmail, mbox, plain
from reviewtool.fetch.lightmail import LightMessage

ROOT = Path(__file__).resolve().parents[1]
MAILS = sorted((ROOT / "fixtures" / "mail").glob("*.eml"))


def assert_same(raw: bytes) -> LightMessage | None:
    """The light reading of raw, checked against the email package's; None if not light."""
    light = lightmail.parse(raw)
    if light is None:
        return None
    msg = mbox.parse(raw, mbox.Unreadable())
    assert msg is not None
    assert list(light.raw_items()) == [(n, str(v)) for n, v in msg.raw_items()]
    assert headers.sender(light) == headers.sender(msg)
    for name in ("To", "Cc", "Bcc", "Reply-To"):
        assert headers.addresses(light, name) == headers.addresses(msg, name)
    assert headers.date(light) == headers.date(msg)
    assert headers.date(light).isoformat() == headers.date(msg).isoformat()  # type: ignore[union-attr]
    assert light.charset() == msg.get_content_charset()
    assert headers.payload(light) == headers.payload(msg)
    assert bots._text(light) == bots._text(msg)
    assert bots.bot_kind(light) == bots.bot_kind(msg)
    for name in ("Message-Id", "In-Reply-To", "References"):
        assert headers.clean_msgid(light, name) == headers.clean_msgid(msg, name)
    for name in {n.lower() for n, _ in msg.raw_items()} - lightmail._STRUCTURED:
        assert light.get_all(name) == [str(v) for v in msg.get_all(name, [])]
    assert lightmail.thread_mbox([light]) == mbox.thread_mbox([msg])
    return light


def test_fixture_mails_read_the_same() -> None:
    light = [p.name for p in MAILS if assert_same(p.read_bytes()) is not None]
    assert len(light) >= len(MAILS) // 2, light  # most fixture mails have the plain shape


def _format_patch(tmp_path: Path, author: str) -> list[bytes]:
    repo = tmp_path / "repo"
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a.u-thor+x@example.org", "GIT_COMMITTER_NAME": "C",
           "GIT_COMMITTER_EMAIL": "c@example.org", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, timeout=60)

    repo.mkdir()
    git("init", "-q", "-b", "main")
    (repo / "a.c").write_text("int a;\n")
    git("add", "a.c")
    git("commit", "-q", "-m", "base")
    for i in range(3):
        (repo / "a.c").write_text(f"int a = {i};\nFrom here on\n")
        git("commit", "-q", "-a", "-m", f"a: set {i}\n\nFrom now on ça marche.\n\nSigned-off-by: {author} <a@b.org>")
    git("format-patch", "-q", "--cover-letter", "--thread=shallow", "--to", "<list@vger.kernel.org>",
        "--cc", '"Rafael J. Wysocki" <rjw@example.net>', "--cc", "Will Deacon <will@kernel.org>",
        "-o", str(tmp_path / "out"), "HEAD~3")
    return [p.read_bytes() for p in sorted((tmp_path / "out").glob("*.patch"))]


def test_format_patch_output_reads_the_same_and_makes_the_same_series(tmp_path: Path) -> None:
    raws = [mbox.split(r)[0] for r in _format_patch(tmp_path, "Pat Q. Author")]
    light = [assert_same(r) for r in raws]
    assert all(m is not None for m in light)
    msgs = mbox.parse_all(raws, mbox.Unreadable())
    ours = plain.read(light, "x", None, mbox.Unreadable())  # type: ignore[arg-type]
    assert ours is not None and ours == plain.read(msgs, "x", None, mbox.Unreadable())
    assert lightmail.thread_mbox(light) == mbox.thread_mbox(msgs)  # type: ignore[arg-type]


def test_mail_of_other_shapes_is_left_to_the_email_package(tmp_path: Path) -> None:
    (good,) = [mbox.split(r)[0] for r in _format_patch(tmp_path, "Pat Author")][1:2]
    assert lightmail.parse(good) is not None
    head, body = good.split(b"\n\n", 1)
    for bad in (
        good.replace(b"\n", b"\r\n"),
        head.replace(b"From: Pat Author", b"From: =?UTF-8?q?J=C3=B6rg?=") + b"\n\n" + body,
        head.replace(b"From: Pat Author", "From: Jörg".encode()) + b"\n\n" + body,
        head.replace(b"Content-Transfer-Encoding: 8bit", b"Content-Transfer-Encoding: base64") + b"\n\n" + body,
        head.replace(b"Content-Type: text/plain", b"Content-Type: multipart/mixed") + b"\n\n" + body,
        head.replace(b"From: Pat Author <a.u-thor+x@example.org>", b"From: a@b (Pat)") + b"\n\n" + body,
        head + b"\nCc: a@b,,c@d\n\n" + body,
        head + b"\nCc: " + b", ".join(b"x%d@example.org" % i for i in range(2000)) + b"\n\n" + body,
        head + b"\nDate: Tue, 3 Aug 2021 14:54:00 -0400\n\n" + body,  # two dates
        head.replace(b"\nDate: ", b"\nX-Date: ") + b"\n\n" + body,  # none
        head.replace(b"+0000", b"+0000 (UTC)") + b"\n\n" + body,
        head + b"\n\tcontinued\n\n" + body,  # a continuation of Content-Transfer-Encoding
        head + b"\nContent-Disposition: attachment; filename=x.patch\n\n" + body,
        head.replace(b"charset=UTF-8", b"charset=UTF-8; charset=latin1") + b"\n\n" + body,
        head.replace(b"charset=UTF-8", b"charset*=utf-8''x") + b"\n\n" + body,
        head + b"\nX-Odd\x0bheader: 1\n\n" + body,
        head,
    ):
        assert lightmail.parse(bad) is None, bad[:300]


# --- generated: addresses, address lists, dates, whole headers ---------------------------------

_ATOM = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.", min_size=1, max_size=8)
_NAME_CHARS = string.ascii_letters + string.digits + " .,:;@<>()[]\\\"'!#-_\t" + "äöüßéÅ\u00a0\u2003"
_NAMES = st.one_of(st.text(alphabet=_NAME_CHARS, max_size=24), st.lists(_ATOM, min_size=1, max_size=4).map(" ".join))
_ADDRS = st.builds(lambda lp, dom: f"{lp}@{dom}", st.lists(_ATOM, min_size=1, max_size=3).map(".".join),
                   st.lists(st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=6), min_size=1,
                            max_size=3).map(".".join))


@st.composite
def _address(draw: st.DrawFn) -> str:
    name, addr = draw(_NAMES), draw(_ADDRS)
    shape = draw(st.sampled_from(["bare", "angle", "plain", "quoted", "quoted-escaped", "nospace", "comment"]))
    return {"bare": addr, "angle": f"<{addr}>", "plain": f"{name} <{addr}>", "quoted": f'"{name}" <{addr}>',
            "quoted-escaped": f'"{email.utils.quote(name)}" <{addr}>', "nospace": f"{name}<{addr}>",
            "comment": f"{addr} ({name})"}[shape]


@settings(max_examples=600, deadline=None)
@given(_address(), st.sampled_from(["", " ", "  ", "\t"]))
@example("Pasha Tatashin <pasha.tatashin@soleen.com>", "")
@example('"Rafael J. Wysocki" <rjw@rjwysocki.net>', "")
@example("Rafael J. Wysocki <rjw@rjwysocki.net>", " ")
@example("Jörg Rödel <joro@8bytes.org>", "")
@example('"Doe, John" <j@example.org>', "")
def test_a_plain_address_reads_as_parseaddr_reads_it(text: str, pad: str) -> None:
    found = lightmail.mailbox(pad + text + pad)
    if found is not None:
        assert found == email.utils.parseaddr(pad + text + pad)


def test_the_usual_addresses_are_plain() -> None:
    for text in ("Pasha Tatashin <pasha.tatashin@soleen.com>", '"Rafael J. Wysocki" <rjw@rjwysocki.net>',
                 "<robh+dt@kernel.org>", "linux-kernel@vger.kernel.org", "Jörg Rödel <joro@8bytes.org>",
                 "Rafael J. Wysocki <rjw@rjwysocki.net>", '"Doe, John" <j@example.org>'):
        assert lightmail.mailbox(text) == email.utils.parseaddr(text), text


@settings(max_examples=400, deadline=None)
@given(st.lists(_address(), min_size=1, max_size=5), st.sampled_from([", ", ",", " , ", ",\n ", ",\n\t"]))
def test_a_plain_address_list_reads_as_getaddresses_reads_it(items: list[str], sep: str) -> None:
    value = sep.join(items)
    found = lightmail.mailboxes([value])
    if found is not None:
        assert found == email.utils.getaddresses([value])


_DAYS = ["Mon, ", "Tue, ", "Sun,  ", "", "Xyz, "]
_MONTHS = ["Jan", "feb", "MAR", "Sep", "Dec", "Foo"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example("Mon, ", 9, "Aug", 99, 17, 54, 2, "-0400")  # "0099": email.utils reads 1999
@given(st.sampled_from(_DAYS), st.integers(0, 32), st.sampled_from(_MONTHS),
       st.one_of(st.integers(0, 120), st.integers(1890, 2100)),
       st.integers(0, 25), st.integers(0, 61), st.one_of(st.none(), st.integers(0, 61)),
       st.sampled_from(["+0000", "-0000", "-0400", "+0530", "+1400", "-2359", "+2400", "+0099", "GMT", "UT"]))
def test_a_plain_date_reads_as_the_email_package_reads_it(day: str, d: int, mon: str, y: int, hh: int, mm: int,
                                                        ss: int | None, tz: str) -> None:
    text = f"{day}{d} {mon} {y:04d} {hh:02d}:{mm:02d}{'' if ss is None else f':{ss:02d}'} {tz}"
    found = lightmail.date(text)
    if found is not None:
        raw = f"Message-Id: <a@b>\nFrom: a@b\nDate: {text}\n\nbody\n".encode()
        msg = mbox.parse(raw, mbox.Unreadable())
        assert msg is not None
        theirs = headers.date(msg)
        assert theirs == found and theirs.isoformat() == found.isoformat()  # type: ignore[union-attr]


_VALUES = st.text(alphabet=string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", "") + "é",
                  max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES, st.lists(_address(), min_size=1, max_size=3), st.lists(_address(), max_size=3),
       st.sampled_from(["", "Content-Type: text/plain; charset=UTF-8\n", 'Content-Type: text/plain; charset="us-ascii"\n',
                        "Content-Type: TEXT/PLAIN\nContent-Transfer-Encoding: 7bit\n",
                        "Content-Type: text/plain; charset=nonesuch\n",
                        'Content-Type: text/plain; format=flowed; charset="iso-8859-1"; delsp=yes\n',
                        "Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n",
                        'Content-Disposition: inline; filename="x.patch"\n',
                        "Content-Disposition: attachment\n", "Content-Type: text/plain; charset=a; charset=b\n"]),
       st.binary(max_size=60), st.sampled_from(["", "\n", "From me\n>From you\n"]))
def test_generated_mail_reads_the_same(subject: str, to: list[str], cc: list[str], ctype: str, body: bytes,
                                       tail: str) -> None:
    head = (f"Message-Id: <x.1@example.org>\nFrom: {to[0]}\nTo: {', '.join(to)}\n"
            + (f"Cc: {cc[0]},\n {', '.join(cc[1:]) or cc[0]}\n" if cc else "")
            + f"Subject: {subject}\nDate: Tue, 3 Aug 2021 14:54:00 -0400\nIn-Reply-To: <p@example.org>\n{ctype}")
    assert_same(head.encode("utf-8", "surrogateescape") + b"\n" + body + tail.encode())


@given(st.binary(max_size=300))
def test_the_built_in_sha1_is_hashlibs(data: bytes) -> None:
    import hashlib

    from reviewtool.fetch.texts import sha1_hex

    assert sha1_hex(data) == hashlib.sha1(data).hexdigest()
