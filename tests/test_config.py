"""Settings from git config: one `git config` run gives what `git config --get KEY` gives."""

from __future__ import annotations

import email.utils
import os
import subprocess
from pathlib import Path

import pytest

from reviewtool import config

KEYS = ["reviewtool.store", "reviewtool.loreurl", "reviewtool.from", "reviewtool.fetchtimeout", "user.name",
        "user.email", "reviewtool.nosuch"]


def _git_get(key: str, cwd: Path) -> str | None:
    out = subprocess.run(["git", "config", "--get", "--", key], capture_output=True, text=True, cwd=cwd,
                         check=False)
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def test_settings_are_what_git_config_get_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    glob = tmp_path / "global"
    glob.write_text("[reviewtool]\n\tstore = ~/first\n\tstore = ~/second\n\tloreUrl = http://127.0.0.1:1/all/\n"
                    "\tfrom = \n\tfetchtimeout\n[user]\n\tname = Pat Q. Reviewer\n\temail = pat@example.org\n"
                    "[reviewtool \"sub\"]\n\tstore = not this\n")
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".git" / "config").write_text("[reviewtool]\n\tloreurl = http://127.0.0.1:2/all\n"
                                          "[user]\n\tname = Jörg Ünicode\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(glob))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for where in (tmp_path, repo):
        monkeypatch.chdir(where)
        assert [config._git_config(k) for k in KEYS] == [_git_get(k, where) for k in KEYS], where
    assert config.lore_url() == "http://127.0.0.1:2/all"
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "REVIEWTOOL_FROM"):
        monkeypatch.delenv(name, raising=False)
    assert config.reviewer_identity() == email.utils.formataddr(("Jörg Ünicode", "pat@example.org"))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")  # the environment changes git's answer: read again
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "reviewtool.loreurl")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "http://127.0.0.1:3/all")
    assert config.lore_url() == "http://127.0.0.1:3/all"
    monkeypatch.setenv("REVIEWTOOL_LORE_URL", "http://127.0.0.1:4/all")
    assert config.lore_url() == "http://127.0.0.1:4/all"
    assert config.lore_url("http://127.0.0.1:5/all/") == "http://127.0.0.1:5/all"


def test_no_git_means_nothing_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    assert config._git_config("reviewtool.loreurl") is None
    assert config.lore_url() == config.DEFAULT_LORE_URL


def test_a_prefetched_answer_is_the_same_and_a_stale_one_is_not_used(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for repo, url in ((one, "http://127.0.0.1:1/all"), (two, "http://127.0.0.1:2/all")):
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".git" / "config").write_text(f"[reviewtool]\n\tloreurl = {url}\n")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("REVIEWTOOL_LORE_URL", raising=False)
    monkeypatch.chdir(one)
    config.prefetch()
    config.prefetch()  # once is enough
    assert len(config._PENDING) == 1
    (pending,) = config._PENDING.values()
    monkeypatch.chdir(two)  # the prefetched answer is for another directory
    config.prefetch()
    assert pending.returncode is not None  # reaped
    assert config.lore_url() == "http://127.0.0.1:2/all" == _git_get("reviewtool.loreurl", two)
    assert config._PENDING == {}
    monkeypatch.chdir(one)
    config.prefetch()
    assert config.lore_url() == "http://127.0.0.1:1/all"


def test_each_command_reads_the_settings_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process (a program that calls main, the tests), a git config file changed
    between two commands is read again: the settings are kept for one command only."""
    from reviewtool.cli import main

    glob = tmp_path / "global"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(glob))
    monkeypatch.delenv("REVIEWTOOL_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("one", "two"):
        glob.write_text(f"[reviewtool]\n\tstore = {tmp_path / name}\n")
        assert main(["list"]) == 0
        assert config.store_dir() == str(tmp_path / name)
