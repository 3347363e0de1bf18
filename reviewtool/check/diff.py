"""The check's view of a series' diffs: the core diff model plus each hunk's function.

Parsing is `reviewtool.diff` (one parse per patch, shared with rebase and report); here
each hunk learns its enclosing C function or assembly symbol: from the post-image file
when one is given, else from the hunk's own lines and header.
"""

from __future__ import annotations

from collections.abc import Callable

from reviewtool import diff as core
from reviewtool.check import cparse
from reviewtool.diff import DiffFile, DiffHunk, DiffLine, file_kind
from reviewtool.model import Patch, Series
from reviewtool.record import record

__all__ = ["DiffFile", "DiffHunk", "DiffLine", "PatchDiff", "file_kind", "locate_hunk", "parse_patch",
           "parse_series"]

PostImage = Callable[[str], str | None]


@record
class PatchDiff:
    """The parsed diff of one patch of a series, with function context."""

    index: int
    patch: Patch
    files: tuple[DiffFile, ...]
    error: str | None = None

    def file(self, path: str) -> DiffFile | None:
        """The file with this (new) path, if the patch touches it."""
        for f in self.files:
            if f.path == path:
                return f
        return None


def parse_patch(patch: Patch, post_image: PostImage | None = None) -> PatchDiff:
    """Parse a patch's diff into files and hunks with function context; never raises."""
    return _parse(patch, post_image, {})


def parse_series(series: Series, post_image: PostImage | None = None) -> tuple[PatchDiff, ...]:
    """Parse every patch of a series, in order (the post-image is read once per path)."""
    images: dict[str, list[str] | None] = {}
    return tuple(_parse(p, post_image, images) for p in series.patches)


def _parse(patch: Patch, post_image: PostImage | None, images: dict[str, list[str] | None]) -> PatchDiff:
    parsed = core.parse(patch.diff or "")
    files = tuple(_with_functions(f, _image(f, post_image, images)) for f in parsed.files)
    return PatchDiff(patch.index, patch, files, parsed.error)


def _image(f: DiffFile, post_image: PostImage | None, images: dict[str, list[str] | None]) -> list[str] | None:
    if post_image is None or f.status in ("deleted", "binary") or f.kind not in ("c", "header", "asm", "lds"):
        return None
    if f.path not in images:
        try:
            text = post_image(f.path)
        except Exception:  # noqa: BLE001 - an unreadable post-image only loses precision
            text = None
        images[f.path] = None if text is None else core.normalise(text).split("\n")
    return images[f.path]


# --- function context ------------------------------------------------------------------


def _first_change(hunk: DiffHunk) -> int | None:
    """Index of the first changed line that is code (not blank, not only a comment)."""
    first = None
    for i, ln in enumerate(hunk.lines):
        if ln.kind == " ":
            continue
        if first is None:
            first = i
        code = ln.text.strip()
        if code and not code.startswith(("/*", "*", "//")):
            return i
    return first


def _new_no_at(hunk: DiffHunk, idx: int) -> int:
    """The new-side line number at hunk line `idx` (for a removed line: the next new line)."""
    for ln in hunk.lines[idx:]:
        if ln.new_no is not None:
            return ln.new_no
    return hunk.new_start + hunk.new_len


def _function_of(f: DiffFile, hunk: DiffHunk, image: list[str] | None) -> str | None:
    first = _first_change(hunk)
    if first is None:
        first = 0
    if image is not None and hunk.lines:
        offset = locate_hunk(hunk, image)
        if offset is not None:
            line = _new_no_at(hunk, first) + offset
            if f.kind in ("c", "header"):
                fn = cparse.function_at("\n".join(image), line)
                return fn.name if fn else None
            decided, name = cparse.asm_symbol_in_lines(image[:line])
            if decided:
                return name
    texts = [ln.text for ln in hunk.lines]
    if f.kind in ("c", "header"):
        decided, name = cparse.c_function_in_lines(texts, first)
    elif f.kind in ("asm", "lds"):
        decided, name = cparse.asm_symbol_in_lines(texts[: first + 1])
    else:
        return None
    if decided:
        return name
    return cparse.function_from_section(hunk.section, f.kind)


def _with_functions(f: DiffFile, image: list[str] | None) -> DiffFile:
    if not f.hunks or f.kind not in ("c", "header", "asm", "lds"):
        return f
    hunks = tuple(h._replace(function=_function_of(f, h, image)) for h in f.hunks)
    return f._replace(hunks=hunks)


def locate_hunk(hunk: DiffHunk, image_lines: list[str]) -> int | None:
    """Offset to add to the hunk's new line numbers to find them in `image_lines`.

    The post-image may be the result of the whole series, where later patches moved
    lines: the hunk's new side is looked for at its own position first, then anywhere,
    nearest first. None when the image no longer holds these lines.
    """
    side = hunk.new_side()
    if not side or side[0].new_no is None:
        return None
    texts = [ln.text for ln in side]
    start = side[0].new_no - 1

    def matches(at: int) -> bool:
        return 0 <= at and at + len(texts) <= len(image_lines) and image_lines[at:at + len(texts)] == texts

    if matches(start):
        return 0
    candidates = [i for i, t in enumerate(image_lines) if t == texts[0] and matches(i)]
    if not candidates:
        return None
    best = min(candidates, key=lambda i: abs(i - start))
    return best - start
