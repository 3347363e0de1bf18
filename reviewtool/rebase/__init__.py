"""rebase: apply a Series onto a target ref in isolation. The only package that runs git."""

from __future__ import annotations

from reviewtool.rebase.blobs import BlobReader, read_blob
from reviewtool.rebase.series import apply_series, apply_series_multi, rebase_matrix

__all__ = ["BlobReader", "apply_series", "apply_series_multi", "read_blob", "rebase_matrix"]
