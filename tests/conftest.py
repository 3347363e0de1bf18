"""Shared fixtures: a hermetic environment, the fixture mails, a real public-inbox server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pi import PublicInbox

ROOT = Path(__file__).resolve().parent.parent
MAIL = ROOT / "fixtures" / "mail"

# b4 and git read and write under HOME/XDG dirs: keep the whole run away from the real ones.
_HOME = tempfile.mkdtemp(prefix="reviewtool-test-home-")
os.environ.update({
    "HOME": _HOME,
    "XDG_CACHE_HOME": f"{_HOME}/.cache",
    "XDG_DATA_HOME": f"{_HOME}/.local/share",
    "XDG_CONFIG_HOME": f"{_HOME}/.config",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.org",
})
os.environ.pop("REVIEWTOOL_STORE", None)
os.environ.pop("REVIEWTOOL_LORE_URL", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty store for this test, used by default by every command."""
    d = tmp_path / "store"
    monkeypatch.setenv("REVIEWTOOL_STORE", str(d))
    return d


@pytest.fixture(scope="session")
def mail_dir() -> Path:
    return MAIL


def mails(prefix: str) -> list[Path]:
    return sorted(MAIL.glob(f"{prefix}*.eml"))


@pytest.fixture(scope="session")
def public_inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInbox]:
    """The fixture thread (v1, v2 and replies) in a public-inbox served on 127.0.0.1."""
    pi = PublicInbox(tmp_path_factory.mktemp("pi"))
    pi.add(mails(""))
    pi.start()
    try:
        yield pi
    finally:
        pi.stop()
