"""`git patch-id --stable` of many patch mails in one git process.

b4 asks git once a message (a process each: 100 for a 100-patch series). The values are
b4's own: the same command on the same diff text, the commit message left out (patch-id
skips it anyway). Like b4, git runs in the current directory with an argument list; it
reads only standard input.
"""

from __future__ import annotations

import subprocess


def patch_ids(bodies: list[str]) -> list[str | None] | None:
    """The patch-id of each body (each must hold a `diff --git`), None if git failed."""
    stream = []
    for i, body in enumerate(bodies):
        text = f"\n{body}"
        stream.append(f"commit {i + 1:040x}\n" + text[text.index("\ndiff --git ") + 1:])
    try:
        proc = subprocess.run(["git", "--no-pager", "patch-id", "--stable"], input="".join(stream).encode(),
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    # git may print more than one id for a mail (a hunk longer than its header says ends the
    # patch there; what follows is hashed apart, under the null id): b4 takes the first.
    found: list[str | None] = [None] * len(bodies)
    for line in proc.stdout.decode(errors="replace").splitlines():
        pid, _, fake = line.partition(" ")
        try:
            n = int(fake, 16)
        except ValueError:
            return None
        if 1 <= n <= len(bodies) and found[n - 1] is None:
            found[n - 1] = pid
    return found
