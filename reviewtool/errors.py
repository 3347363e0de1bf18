"""Error types. Every failure a user can cause is a ReviewtoolError: one line, exit 2."""


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
