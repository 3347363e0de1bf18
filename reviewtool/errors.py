"""Error types. Every failure a user can cause is a ReviewtoolError: one line, exit 2.

Exit status of the command: 0 ok, 1 findings or conflicts, 2 bad input (ReviewtoolError),
3 an internal error (a bug: one line, the traceback with --debug or REVIEWTOOL_DEBUG=1),
128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), after every cleanup ran.
"""

INTERNAL_ERROR_EXIT = 3


class ReviewtoolError(Exception):
    """A failure with a message a user can act on."""

    exit_code = 2


class SourceError(ReviewtoolError):
    """SOURCE is not something fetch understands, or it holds no patches."""


class FetchError(ReviewtoolError):
    """The thread could not be retrieved (server down, not found)."""


class StoreError(ReviewtoolError):
    """The local store has no such series, or could not be written."""


class GitError(ReviewtoolError):
    """A repository, ref or git operation problem."""


class RulesError(ReviewtoolError):
    """A rule pack is invalid."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised where the process was, so that every cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
