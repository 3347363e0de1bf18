"""Settings: flags > environment (REVIEWTOOL_*) > git config `reviewtool.*` > defaults."""

from __future__ import annotations

import os
from typing import Any

DEFAULT_LORE_URL = "https://lore.kernel.org/all"
STORE_ENV = "REVIEWTOOL_STORE"
LORE_URL_ENV = "REVIEWTOOL_LORE_URL"


def _git_config(key: str) -> str | None:
    """git config --get KEY; read-only, never writes. Missing git or key is simply "not set"."""
    return _git_settings(_where()).get(key.lower())


def _where() -> tuple[str, tuple[tuple[str, str], ...]]:
    """What git's answer depends on besides the files: the directory and the environment."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    env = tuple(sorted((k, v) for k, v in os.environ.items()
                       if k.startswith("GIT_") or k in ("HOME", "XDG_CONFIG_HOME")))
    return cwd, env


Where = tuple[str, tuple[tuple[str, str], ...]]
_SETTINGS: dict[Where, dict[str, str]] = {}
_PENDING: dict[Where, Any] = {}  # a `git config` started by prefetch(), not read yet
_COMMAND = ["git", "config", "-z", "--get-regexp", r"^(reviewtool|user)\."]


def forget() -> None:
    """Drop the settings read so far (a command reads them afresh: git config files may have
    changed since the last command of this process)."""
    for pending in _PENDING.values():
        pending.kill()
    _PENDING.clear()
    _SETTINGS.clear()


def prefetch() -> None:
    """Start the `git config` run now, to be read when a setting is first looked up: git
    works while the caller does something else (a check loads its rule packs)."""
    where = _where()
    if where in _SETTINGS or where in _PENDING:
        return
    from reviewtool.spawn import Command

    for stale in _PENDING.values():  # started for another directory or environment
        stale.kill()
    _PENDING.clear()
    try:
        _PENDING[where] = Command(_COMMAND)
    except OSError:
        pass


def _git_settings(where: Where) -> dict[str, str]:
    """Every reviewtool.* and user.* setting, from one `git config` run (not one per key)."""
    found = _SETTINGS.get(where)
    if found is not None:
        return found
    from reviewtool.spawn import Command  # only when a setting is looked up in git

    found = {}
    stdout: bytes | None = None
    try:
        proc = _PENDING.pop(where, None) or Command(_COMMAND)
        try:
            stdout = proc.output(timeout=10)
        finally:
            proc.kill()
    except OSError:
        pass
    if stdout is not None:
        for item in stdout.split(b"\0"):
            name, _, value = item.partition(b"\n")
            text = value.decode("utf-8", "replace").strip()
            if text:  # the last value of a key wins, as with --get; an empty one is "not set"
                found[name.decode("utf-8", "replace").lower()] = text
            else:
                found.pop(name.decode("utf-8", "replace").lower(), None)
    _SETTINGS.clear()
    _SETTINGS[where] = found
    return found


def setting(flag: str | None, env: str, git_key: str, default: str | None = None) -> str | None:
    """The first of: the flag, $env, git config git_key, default."""
    if not from_git(flag, env):
        return flag or os.environ[env]
    return _git_config(git_key) or default


def from_git(flag: str | None, env: str) -> bool:
    """Whether `setting(flag, env, ...)` asks git config: neither the flag nor $env gives it."""
    return not flag and not os.environ.get(env)


def lore_url(flag: str | None = None) -> str:
    url = setting(flag, LORE_URL_ENV, "reviewtool.loreurl", DEFAULT_LORE_URL)
    assert url is not None
    return url.rstrip("/")


def store_dir(flag: str | None = None) -> str:
    """The store: --store, $REVIEWTOOL_STORE, git config reviewtool.store, else the user's cache."""
    value = setting(flag, STORE_ENV, "reviewtool.store")
    cache = None if value else os.environ.get("XDG_CACHE_HOME")
    if cache:
        return os.path.join(cache, "reviewtool")
    path = os.path.expanduser(value or "~")
    if path.startswith("~"):  # "~user" of no such user, or no home directory at all
        from reviewtool.errors import StoreError

        raise StoreError(f"cannot tell where the store is ({value or 'no home directory'}): "
                         "give --store DIR or set REVIEWTOOL_STORE")
    return path if value else os.path.join(path, ".cache", "reviewtool")


def reviewer_identity(flag: str | None = None) -> str | None:
    """Who signs reply emails: `--from`, else $REVIEWTOOL_FROM, git config reviewtool.from,
    else git's user.name/user.email (or $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL); None if unknown."""
    chosen = setting(flag, "REVIEWTOOL_FROM", "reviewtool.from")
    if chosen:
        return chosen
    addr = setting(None, "GIT_AUTHOR_EMAIL", "user.email")
    if not addr:
        return None
    import email.utils

    return email.utils.formataddr((setting(None, "GIT_AUTHOR_NAME", "user.name") or "", addr))
