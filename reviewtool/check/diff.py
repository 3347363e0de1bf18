"""The diff model: a patch's unified diff as files, hunks and numbered lines.

Parsing never raises on bad input: a malformed diff (truncated hunk, garbage, a
diff cut off mid-file) keeps whatever could be read and says what went wrong in
`PatchDiff.error`. Each hunk knows its enclosing C function or assembly symbol: from
the post-image file when one is given, else from the hunk's own lines and header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from reviewtool.check import cparse, difftext
from reviewtool.model import Patch, Series

PostImage = Callable[[str], str | None]


KINDS = ("c", "header", "asm", "kconfig", "makefile", "lds", "dt", "doc", "other")
STATUSES = ("modified", "added", "deleted", "renamed", "binary", "mode")


class DiffLine(NamedTuple):
    """One line of a hunk: kind is '+', '-' or ' '; text has no prefix and no newline."""

    kind: str
    text: str
    old_no: int | None
    new_no: int | None

    @property
    def prefixed(self) -> str:
        """The line as it appears in the diff, with its +/-/space prefix."""
        return self.kind + self.text


class DiffHunk(NamedTuple):
    """A hunk: its header, its enclosing function (or asm symbol) and its lines."""

    header: str
    function: str | None
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[DiffLine, ...]
    truncated: bool = False  # fewer lines than the header promised

    @property
    def section(self) -> str:
        """The text after the second `@@` (git's function context line)."""
        parts = self.header.split("@@", 2)
        return parts[2].strip() if len(parts) == 3 else ""

    def added(self) -> Iterator[DiffLine]:
        """The added lines, in order."""
        return (ln for ln in self.lines if ln.kind == "+")

    def removed(self) -> Iterator[DiffLine]:
        """The removed lines, in order."""
        return (ln for ln in self.lines if ln.kind == "-")

    def new_side(self) -> list[DiffLine]:
        """Context and added lines: the hunk as it reads after the patch."""
        return [ln for ln in self.lines if ln.kind != "-"]


class DiffFile(NamedTuple):
    """One file of a patch."""

    path: str  # the new path (the old one for a deleted file)
    old_path: str | None  # set when the file was renamed or copied
    kind: str  # one of KINDS
    status: str  # one of STATUSES
    hunks: tuple[DiffHunk, ...]

    def added(self) -> Iterator[tuple[DiffHunk, DiffLine]]:
        """Every added line with its hunk."""
        for h in self.hunks:
            for ln in h.lines:
                if ln.kind == "+":
                    yield h, ln

    def removed(self) -> Iterator[tuple[DiffHunk, DiffLine]]:
        """Every removed line with its hunk."""
        for h in self.hunks:
            for ln in h.lines:
                if ln.kind == "-":
                    yield h, ln


@dataclass(frozen=True)
class PatchDiff:
    """The parsed diff of one patch of a series."""

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


# --- file kinds ---------------------------------------------------------------------


def file_kind(path: str) -> str:
    """The kind of a file from its path: c, header, asm, kconfig, makefile, lds, dt, doc, other."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if path.startswith("Documentation/") or lower.endswith((".rst", ".txt", ".md")) or name.startswith("README"):
        return "doc"
    if ".lds" in lower:  # vmlinux.lds.S, module.lds.h, *.lds
        return "lds"
    if lower.endswith(".c"):
        return "c"
    if lower.endswith(".h"):
        return "header"
    if name.endswith((".S", ".s")):
        return "asm"
    if name.startswith("Kconfig"):
        return "kconfig"
    if name in ("Makefile", "Kbuild", "GNUmakefile") or lower.endswith((".mk", ".mak")) or name.startswith("Makefile."):
        return "makefile"
    if lower.endswith((".dts", ".dtsi", ".dtso")):
        return "dt"
    return "other"


# --- parsing ------------------------------------------------------------------------


def _lines_from_unidiff(hunk: object) -> tuple[DiffLine, ...]:
    out = []
    for ln in hunk:  # type: ignore[attr-defined]
        kind = ln.line_type
        if kind not in ("+", "-", " "):
            continue  # "\ No newline at end of file"
        out.append(DiffLine(kind, ln.value.rstrip("\n"), ln.source_line_no, ln.target_line_no))
    return tuple(out)


def _parse_chunk(chunk: str) -> tuple[list[DiffFile], str | None]:
    """Files of one chunk, without function context; the error text if it was malformed."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet  # lazy: check must start fast

    old, new, added, deleted, binary, mode = difftext.file_header(chunk)
    chunk = difftext.restore_blank_tail(chunk)
    try:
        pset = PatchSet(chunk)
    except (UnidiffParseError, ValueError, IndexError, AttributeError, TypeError) as exc:
        pset = None
        error: str | None = str(exc) or type(exc).__name__
    else:
        error = None
    files: list[DiffFile] = []
    if pset is not None and len(pset):
        for pf in pset:
            src = None if pf.source_file in ("/dev/null", "") else difftext.strip_prefix(pf.source_file)
            tgt = None if pf.target_file in ("/dev/null", "") else difftext.strip_prefix(pf.target_file)
            path = tgt or src or new or old or "?"
            if pf.is_binary_file:
                path = new or old or path
            hunks = tuple(
                _hunk(_header(h), h.source_start, h.source_length,
                      h.target_start, h.target_length, _lines_from_unidiff(h))
                for h in pf
            )
            file_old = old if (old and old != path) else None
            status = _status(pf.is_binary_file or binary, pf.is_added_file or added,
                             pf.is_removed_file or deleted, file_old is not None, mode and not hunks)
            files.append(DiffFile(path, file_old, file_kind(path), status, hunks))
        return files, error
    # unidiff could not read it (or found nothing): read what we can by hand
    raw, problem = difftext.read_hunks(chunk)
    if new is None and old is None and not raw:
        return [], error
    path = new or old or "?"
    hunks = tuple(_hunk(h, a, b, c, d, tuple(DiffLine(*ln) for ln in body), short)
                  for h, a, b, c, d, body, short in raw)
    file_old = old if (old and new and old != new) else None
    status = _status(binary, added, deleted, file_old is not None, mode and not hunks)
    files.append(DiffFile(path, file_old, file_kind(path), status, hunks))
    return files, problem or error


def _header(h: Any) -> str:
    """A unidiff hunk's `@@ ... @@` line, as `str(h)` starts (without making the whole text)."""
    section = f" {h.section_header}" if h.section_header else ""
    return f"@@ -{h.source_start:d},{h.source_length:d} +{h.target_start:d},{h.target_length:d} @@{section}"


def _hunk(header: str, os_: int, ol: int, ns: int, nl: int, lines: tuple[DiffLine, ...],
          truncated: bool = False) -> DiffHunk:
    return DiffHunk(header.rstrip("\n"), None, os_, ol, ns, nl, lines, truncated)


def _status(binary: bool, added: bool, deleted: bool, renamed: bool, mode_only: bool) -> str:
    if binary:
        return "binary"
    if added:
        return "added"
    if deleted:
        return "deleted"
    if renamed:
        return "renamed"
    if mode_only:
        return "mode"
    return "modified"


def parse_patch(patch: Patch, post_image: PostImage | None = None) -> PatchDiff:
    """Parse a patch's diff into files and hunks with function context; never raises."""
    return _parse(patch, post_image, {})


def parse_series(series: Series, post_image: PostImage | None = None) -> tuple[PatchDiff, ...]:
    """Parse every patch of a series, in order (the post-image is read once per path)."""
    images: dict[str, list[str] | None] = {}
    return tuple(_parse(p, post_image, images) for p in series.patches)


def _parse(patch: Patch, post_image: PostImage | None, images: dict[str, list[str] | None]) -> PatchDiff:
    text = difftext.cut_signature(difftext.normalise(patch.diff or ""))
    files: list[DiffFile] = []
    errors: list[str] = []
    for chunk in difftext.split_files(text):
        try:
            parsed, err = _parse_chunk(chunk)
        except Exception as exc:  # noqa: BLE001 - hostile input must never crash the check
            parsed, err = [], f"unreadable diff ({type(exc).__name__}: {exc})"
        if err:
            where = parsed[0].path if parsed else "diff"
            errors.append(f"{where}: {err}")
        for f in parsed:
            image = _image(f, post_image, images)
            files.append(_with_functions(f, image))
    error = "; ".join(errors) if errors else None
    if not files and error is None and text.strip():
        error = "no file changes found in the diff"
    return PatchDiff(patch.index, patch, tuple(files), error)


def _image(f: DiffFile, post_image: PostImage | None, images: dict[str, list[str] | None]) -> list[str] | None:
    if post_image is None or f.status in ("deleted", "binary") or f.kind not in ("c", "header", "asm", "lds"):
        return None
    if f.path not in images:
        try:
            text = post_image(f.path)
        except Exception:  # noqa: BLE001 - an unreadable post-image only loses precision
            text = None
        images[f.path] = None if text is None else difftext.normalise(text).split("\n")
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
