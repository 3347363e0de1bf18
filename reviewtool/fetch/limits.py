"""How much fetch reads, and for how long: the limits on input from files and from the network.

Every limit is refused in one line that names it (docs/limits.md). Two can be changed:
REVIEWTOOL_MAX_INPUT_MIB (the size of the input, decompressed) and REVIEWTOOL_FETCH_TIMEOUT
(or git config reviewtool.fetchtimeout: seconds for the whole network fetch).
"""

from __future__ import annotations

import os

from reviewtool.errors import FetchError, SourceError

MAX_INPUT_BYTES = 256 * 1024 * 1024  # refuse larger inputs (decompressed) instead of exhausting memory
MAX_THREAD_MESSAGES = 10_000  # messages in one thread or input: each costs b4 tens of KB
MAX_SERIES_PATCHES = 2_000  # patches of one revision; stable review series are under 1,000
MAX_REPLY_DEPTH = 100  # replies below the top of a thread that b4 collects trailers from
MAX_PATCH_TRAILERS = 200  # distinct trailers given in replies to one patch (with its cover letter's)
MAX_MIME_DEPTH = 32  # multipart levels in one mail; real mail uses 3 or 4
B4_MAX_PATCH_NUMBER = 9999  # b4 reads N/M of at most four digits each
DEFAULT_FETCH_TIMEOUT = 60.0  # seconds for the whole network fetch

INPUT_ENV = "REVIEWTOOL_MAX_INPUT_MIB"
TIMEOUT_ENV = "REVIEWTOOL_FETCH_TIMEOUT"
TIMEOUT_GIT_KEY = "reviewtool.fetchtimeout"


def max_input_bytes() -> int:
    """The input size limit: $REVIEWTOOL_MAX_INPUT_MIB (MiB), else MAX_INPUT_BYTES."""
    value = os.environ.get(INPUT_ENV, "").strip()
    if not value:
        return MAX_INPUT_BYTES
    try:
        mib = int(value)
    except ValueError:
        mib = 0
    if mib < 1:
        raise SourceError(f"{INPUT_ENV}={value[:40]!r} is not a number of MiB (1 or more)")
    return mib * 1024 * 1024


def fetch_timeout() -> float:
    """Seconds for a whole network fetch: $REVIEWTOOL_FETCH_TIMEOUT, git config
    reviewtool.fetchtimeout, else DEFAULT_FETCH_TIMEOUT."""
    from reviewtool import config

    value = (config.setting(None, TIMEOUT_ENV, TIMEOUT_GIT_KEY) or "").strip()
    if not value:
        return DEFAULT_FETCH_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 1e6:
        raise FetchError(f"fetch timeout {value[:40]!r} ({TIMEOUT_ENV} or {TIMEOUT_GIT_KEY}) "
                         "is not a number of seconds above 0")
    return seconds


def size(n: int) -> str:
    """A byte count as a user reads it: 256 MiB, 4 MiB, 1.5 KiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
