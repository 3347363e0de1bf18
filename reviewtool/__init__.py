"""reviewtool: fetch, rebase and review Linux kernel patch series."""

__version__ = "0.1.0"
