"""`git patch-id --stable` of many patch mails in one git process.

b4 asks git once a message (a process each: 100 for a 100-patch series). The values are
b4's own: the same command on the same diff text, the commit message left out (patch-id
skips it anyway). Like b4, git runs in the current directory with an argument list; it
reads only standard input.
"""

from __future__ import annotations

from reviewtool.spawn import Command

_COMMAND = ["git", "--no-pager", "patch-id", "--stable"]


class PatchIds:
    """`git patch-id --stable` of many patch mails, running while the caller reads the rest
    of the mail: `start`, then `result`."""

    def __init__(self, bodies: list[str]) -> None:
        self._count = len(bodies)
        stream = []
        for i, body in enumerate(bodies):
            text = f"\n{body}"
            stream.append(f"commit {i + 1:040x}\n" + text[text.index("\ndiff --git ") + 1:])
        self._proc: Command | None = None
        try:  # the input is written as git starts (what the pipe takes), the ids read in result()
            self._proc = Command(_COMMAND, "".join(stream).encode())
        except OSError:
            pass

    def __enter__(self) -> PatchIds:
        return self

    def __exit__(self, *exc: object) -> None:
        """A git not asked for its result (the caller gave up on the mail) is stopped and reaped."""
        if self._proc is not None:
            self._proc.kill()

    def result(self) -> list[str | None] | None:
        """The patch-id of each body (each must hold a `diff --git`), None if git failed."""
        if self._proc is None:
            return None
        try:
            out = self._proc.output(timeout=120)
        finally:
            self._proc.kill()
        if out is None:
            return None
        # git may print more than one id for a mail (a hunk longer than its header says ends the
        # patch there; what follows is hashed apart, under the null id): b4 takes the first.
        found: list[str | None] = [None] * self._count
        for line in out.decode(errors="replace").splitlines():
            pid, _, fake = line.partition(" ")
            try:
                n = int(fake, 16)
            except ValueError:
                return None
            if 1 <= n <= self._count and found[n - 1] is None:
                found[n - 1] = pid
        return found


def patch_ids(bodies: list[str]) -> list[str | None] | None:
    """The patch-id of each body (each must hold a `diff --git`), None if git failed."""
    return PatchIds(bodies).result()
