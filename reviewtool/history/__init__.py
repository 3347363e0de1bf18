"""history: the review ledger. What earlier revisions of a series were told, anchored to
their lines, and whether this revision answers it.

Analysis only, like check/: it reads `Series` (with their replies) and the diff model, and
imports neither b4 nor git. fetch/revisions.py finds the earlier revisions; the command
layer hands them here (`ledger.build`).
"""
