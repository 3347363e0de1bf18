"""Settings: flags > environment (REVIEWTOOL_*) > git config `reviewtool.*` > defaults."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_LORE_URL = "https://lore.kernel.org/all"


def _git_config(key: str) -> str | None:
    # Read-only lookup; never writes. Missing git or key is simply "not set".
    import subprocess  # only when a setting is looked up in git: `check --store DIR` starts faster

    try:
        out = subprocess.run(
            ["git", "config", "--get", "--", key],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def setting(flag: str | None, env: str, git_key: str, default: str | None = None) -> str | None:
    """The first of: the flag, $env, git config git_key, default."""
    if flag:
        return flag
    if os.environ.get(env):
        return os.environ[env]
    return _git_config(git_key) or default


def lore_url(flag: str | None = None) -> str:
    url = setting(flag, "REVIEWTOOL_LORE_URL", "reviewtool.loreurl", DEFAULT_LORE_URL)
    assert url is not None
    return url.rstrip("/")


def store_dir(flag: str | None = None) -> Path:
    """The store: --store, $REVIEWTOOL_STORE, git config reviewtool.store, else the user's cache."""
    value = setting(flag, "REVIEWTOOL_STORE", "reviewtool.store")
    try:
        if value:
            return Path(value).expanduser()
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # "~user" of no such user, or no home directory at all
        from reviewtool.errors import StoreError

        raise StoreError(f"cannot tell where the store is ({value or 'no home directory'}): "
                         "give --store DIR or set REVIEWTOOL_STORE") from None
    return Path(cache) / "reviewtool"


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
