"""SOURCE classification, including hostile strings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewtool.errors import SourceError
from reviewtool.fetch.sources import classify, clean_msgid

MID = "20210802215408.804942-1-pasha.tatashin@soleen.com"


@pytest.mark.parametrize("text,inbox", [
    (MID, None), (f"<{MID}>", None), (f"id:{MID}", None),
    (f"https://lore.kernel.org/linux-arm-kernel/{MID}/", "https://lore.kernel.org/linux-arm-kernel"),
    (f"https://lore.kernel.org/all/{MID}/T/", "https://lore.kernel.org/all"),
    (f"https://lore.kernel.org/all/{MID}/t.mbox.gz", "https://lore.kernel.org/all"),
    (f"https://lore.kernel.org/kexec/{MID.replace('@', '%40')}/raw", "https://lore.kernel.org/kexec"),
    (f"https://lore.kernel.org/r/{MID}", None),
    (f"https://patch.msgid.link/{MID}", None),
    (f"http://127.0.0.1:8080/kexec/{MID}/#r", "http://127.0.0.1:8080/kexec"),
])
def test_message_id_shapes(text: str, inbox: str | None) -> None:
    src = classify(text)
    assert (src.kind, src.msgid, src.inbox_url) == ("msgid", MID, inbox)


def test_existing_path_wins(tmp_path: Path) -> None:
    f = tmp_path / "a@b.mbox"
    f.write_text("")
    assert classify(str(f)).kind == "mbox"
    (tmp_path / "md" / "cur").mkdir(parents=True)
    (tmp_path / "md" / "new").mkdir()
    assert classify(str(tmp_path / "md")).kind == "maildir"
    assert classify(str(tmp_path)).kind == "dir"
    assert classify("-").kind == "stdin"


@pytest.mark.parametrize("bad", [
    "--output=x@y", "a b@c", "<>", "x@ y", "ftp://host/list/a@b/", "https://lore.kernel.org/all/",
    f"https://lore.kernel.org/all/{MID}/evil/../../x", "", "@",
])
def test_refuses(bad: str) -> None:
    with pytest.raises(SourceError):
        classify(bad)


@given(st.text(max_size=200))
def test_classify_never_crashes(text: str) -> None:
    try:
        src = classify(text)
    except SourceError as e:
        assert "\n" not in str(e).strip() or "\n" in text
        return
    if src.kind == "msgid":
        assert src.msgid and "@" in src.msgid and not src.msgid.startswith("-")
        assert not any(c.isspace() for c in src.msgid)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_clean_msgid_output_is_safe(text: str) -> None:
    try:
        mid = clean_msgid(text)
    except SourceError:
        return
    assert "@" in mid and not mid.startswith("-") and "<" not in mid and ">" not in mid


def test_the_url_check_passes_over_only_urls_it_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_url takes the default lore URL without parsing it (urllib.parse is 3 ms of a
    local check); the full check must accept it too."""
    from reviewtool import config
    from reviewtool.fetch import sources

    assert config.DEFAULT_LORE_URL in sources._CHECKED
    kept = set(sources._CHECKED)
    monkeypatch.setattr(sources, "_CHECKED", set())
    for url in kept:
        assert sources.check_url(url) == url
