"""The diff model: a patch's unified diff as files, hunks and numbered lines, parsed once.

Every layer reads a patch through this module: rebase applies from it, check analyses it,
report quotes from it (by position: patch, file, hunk, line). It is built on unidiff, with
a reader of its own for what unidiff does not keep (git's extended headers: renames, modes,
blob ids, binary markers, C-quoted paths) and for hunks unidiff refuses (truncated or
malformed ones keep what precedes the damage).

Parsing never raises on bad input: a malformed diff keeps whatever could be read and says
what went wrong in `ParsedDiff.error`. Paths are read the way `git apply -p1` reads them:
`a/`/`b/` in git diffs, and the first component of each path in other unified diffs
(quilt's `linux.orig/arch/...` and `linux/arch/...`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

from reviewtool import rx
from reviewtool.record import NamedTuple

FileKind = Literal["c", "header", "asm", "kconfig", "makefile", "lds", "dt", "doc", "other"]
FileStatus = Literal["modified", "added", "deleted", "renamed", "binary", "mode"]
LineKind = Literal["+", "-", " "]

HUNK_RE = rx.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_INDEX_RE = rx.compile(r"^index ([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)(?: (\d+))?$")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_MAX_RESTORED_BLANKS = 3  # blank context lines a mailer may have cut from the end of a diff


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
    """A hunk: its header and ranges, its lines, and (filled in by check) its function."""

    header: str
    function: str | None
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[DiffLine, ...]
    truncated: bool = False  # fewer lines than the header promised
    no_newline_old: bool = False  # "\ No newline at end of file" after the last pre-image line
    no_newline_new: bool = False  # ... after the last post-image line
    number: int = 0  # the hunk's position in its file, from 0: evidence points at (patch, file, hunk, line)
    offset: int = 0  # the 1-based line of its `@@` header in the patch's diff text

    @property
    def section(self) -> str:
        """The text after the second `@@` (git's function context line)."""
        parts = self.header.split("@@", 2)
        return parts[2].strip() if len(parts) == 3 else ""

    @property
    def old_end(self) -> int:
        """The last pre-image line the hunk covers (old_start when it covers none)."""
        return self.old_start + max(self.old_len, 1) - 1

    @property
    def new_end(self) -> int:
        """The last post-image line the hunk covers (new_start when it covers none)."""
        return self.new_start + max(self.new_len, 1) - 1

    def added(self) -> Iterator[DiffLine]:
        """The added lines, in order."""
        return (ln for ln in self.lines if ln.kind == "+")

    def removed(self) -> Iterator[DiffLine]:
        """The removed lines, in order."""
        return (ln for ln in self.lines if ln.kind == "-")

    def old_side(self) -> list[str]:
        """The pre-image text the hunk expects: context and removed lines."""
        return [ln.text for ln in self.lines if ln.kind != "+"]

    def new_side(self) -> list[DiffLine]:
        """Context and added lines: the hunk as it reads after the patch."""
        return [ln for ln in self.lines if ln.kind != "-"]


class DiffFile(NamedTuple):
    """One file of a patch."""

    path: str  # the new path (the old one for a deleted file)
    old_path: str | None  # the path before the patch; None for a new file
    new_path: str | None  # the path after the patch; None for a deleted file
    kind: str  # one of FileKind
    status: str  # one of FileStatus
    hunks: tuple[DiffHunk, ...]
    old_blob: str | None = None  # abbreviated blob ids from the `index` line (None: absent or new)
    new_blob: str | None = None
    new_mode: str | None = None
    mode_change: bool = False  # `old mode`/`new mode` lines
    binary: bool = False
    text: str = ""  # this file's part of the diff: on its own, a patch git can apply

    @property
    def renamed_from(self) -> str | None:
        """The old path of a renamed or copied file, else None."""
        return self.old_path if self.old_path is not None and self.old_path != self.path else None

    @property
    def paths(self) -> tuple[str, ...]:
        """Both paths when they differ (rename or copy), else the one."""
        return tuple(dict.fromkeys(p for p in (self.old_path, self.new_path) if p))

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


class ParsedDiff(NamedTuple):
    """A whole patch's diff: its files, what could not be read, and the text git applies."""

    files: tuple[DiffFile, ...]
    error: str | None
    text: str  # the diff as read: line ends normalised, blank context cut by mailers restored

    def file(self, path: str) -> DiffFile | None:
        """The file with this path (new or old), if the patch touches it."""
        for f in self.files:
            if f.path == path or f.old_path == path:
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


@lru_cache(maxsize=512)
def parse(diff: str) -> ParsedDiff:
    """The files and hunks of a patch's diff text (cached: each layer asks for the same text)."""
    text = cut_signature(normalise(diff))
    files: list[DiffFile] = []
    errors: list[str] = []
    texts: list[str] = []
    for start, chunk in _chunks(text):
        try:
            parsed, err, chunk_text = _parse_chunk(chunk)
        except Exception as exc:  # noqa: BLE001 - hostile input must never crash a command
            parsed, err, chunk_text = [], f"unreadable diff ({type(exc).__name__}: {exc})", chunk
        texts.append(chunk_text)
        if err:
            errors.append(f"{parsed[0].path if parsed else 'diff'}: {err}")
        files.extend(f._replace(hunks=tuple(h._replace(number=i, offset=h.offset + start)
                                            for i, h in enumerate(f.hunks))) for f in parsed)
    error = "; ".join(errors) if errors else None
    if not files and error is None and text.strip():
        error = "no file changes found in the diff"
    return ParsedDiff(tuple(files), error, "".join(texts))


def normalise(text: str) -> str:
    """LF line ends when every line of the text ends in CRLF (a mail passed through a CRLF
    transport), and a final newline. A CR inside a line, or at the end of only some lines,
    is file content (a patch to a file with CRLF line ends) and stays."""
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        text = text.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def cut_signature(text: str) -> str:
    """Drop a trailing email signature (`-- ` then the git version) after the last hunk."""
    idx = text.rfind("\n-- \n")
    if idx >= 0 and len(text) - idx < 200:
        return text[: idx + 1]
    return text


def split_files(text: str) -> list[str]:
    """Split a diff into per-file chunks: at `diff --git` lines, and at each `---`/`+++` pair of
    a plain unified diff that is not inside a hunk. Text before the first file is dropped."""
    return [chunk for _start, chunk in _chunks(text)]


def _chunks(text: str) -> list[tuple[int, str]]:
    """The per-file chunks of `split_files`, each with the number of lines before it."""
    lines = io.StringIO(text).readlines()  # at LF only: a CR is part of a line, as git reads it
    starts: list[int] = []
    git_header = False  # inside a `diff --git` header, before its hunks
    remaining = 0  # pre-image + post-image lines the current hunk still expects
    for i, ln in enumerate(lines):
        if remaining > 0:
            tag = ln[:1]
            remaining -= 2 if tag in (" ", "\n") else 1 if tag in ("+", "-") else 0
            if tag in (" ", "\n", "+", "-", "\\"):
                continue
            remaining = 0
        if ln.startswith("diff --git "):
            starts.append(i)
            git_header = True
        elif ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            if not git_header:
                starts.append(i)
            git_header = False
        elif m := HUNK_RE.match(ln.rstrip("\n")):
            git_header = False
            remaining = int(m.group(2) or 1) + int(m.group(4) or 1)
    if not starts:
        return [(0, text)] if text.strip() else []
    bounds = [*starts, len(lines)]
    return [(a, "".join(lines[a:b])) for a, b in zip(bounds, bounds[1:], strict=False)]


class _Header(NamedTuple):
    """What a file's header says: paths, flags, blob ids and modes."""

    old: str | None
    new: str | None
    added: bool
    deleted: bool
    binary: bool
    mode_change: bool
    old_blob: str | None
    new_blob: str | None
    new_mode: str | None
    git: bool  # a `diff --git` header (paths carry a/ and b/), else a plain unified diff


def file_header(chunk: str) -> _Header:
    """Read a chunk's header, up to its first hunk."""
    old = new = old_blob = new_blob = new_mode = None
    added = deleted = binary = mode = git = False
    for ln in chunk.split("\n"):
        if ln.startswith("@@"):
            break
        if ln.startswith("diff --git "):
            git = True
            old, new = _git_header_paths(ln[len("diff --git "):])
        elif ln.startswith("--- "):
            name = _path(ln[4:], git)
            added = added or name is None
            old = name or old
        elif ln.startswith("+++ "):
            name = _path(ln[4:], git)
            deleted = deleted or name is None
            new = name or new
        elif ln.startswith(("rename from ", "copy from ")):
            old = _unquote(ln.split(" ", 2)[2])
        elif ln.startswith(("rename to ", "copy to ")):
            new = _unquote(ln.split(" ", 2)[2])
        elif ln.startswith("new file mode"):
            added, new_mode = True, ln.split()[-1]
        elif ln.startswith("deleted file mode"):
            deleted = True
        elif ln.startswith(("old mode", "new mode")):
            mode = True
            new_mode = ln.split()[-1] if ln.startswith("new mode") else new_mode
        elif m := _INDEX_RE.match(ln):
            old_blob, new_blob = m.group(1).lower(), m.group(2).lower()
            new_mode = new_mode or m.group(3)
        elif ln.startswith(("Binary files ", "GIT binary patch")):
            binary = True
    return _Header(old, new, added, deleted, binary, mode, old_blob, new_blob, new_mode, git)


def _parse_chunk(chunk: str) -> tuple[list[DiffFile], str | None, str]:
    """The file(s) of one chunk, the error text if it was malformed, and the chunk as read."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet  # lazy: commands that never read a diff start faster

    head = file_header(chunk)
    chunk = restore_blank_tail(chunk)
    error: str | None = None
    try:
        pset = PatchSet(chunk)
    except (UnidiffParseError, ValueError, IndexError, AttributeError, TypeError) as exc:
        pset, error = None, str(exc) or type(exc).__name__
    if pset is not None and len(pset):
        rows = chunk.split("\n")
        files = [_file(head, _unidiff_hunks(pf, rows), bool(pf.is_binary_file), bool(pf.is_added_file),
                       bool(pf.is_removed_file), chunk, pf.source_file, pf.target_file) for pf in pset]
        return files, error, chunk
    # unidiff could not read it (or found nothing): read what can be read by hand
    hunks, problem = read_hunks(chunk)
    if head.new is None and head.old is None and not hunks:
        return [], error, chunk
    return [_file(head, hunks, False, False, False, chunk)], problem or error, chunk


def _file(head: _Header, hunks: tuple[DiffHunk, ...], binary: bool, added: bool, deleted: bool, chunk: str,
          source: str | None = None, target: str | None = None) -> DiffFile:
    src = _path(source, head.git) if source is not None else head.old
    tgt = _path(target, head.git) if target is not None else head.new
    added = added or head.added or (source is not None and src is None and tgt is not None)
    deleted = deleted or head.deleted or (target is not None and tgt is None and src is not None)
    old = None if added else (head.old if head.git else src) or src or tgt
    new = None if deleted else (head.new if head.git else tgt) or tgt or src
    path = new or old or "?"
    binary = binary or head.binary
    status = _status(binary, added, deleted, old is not None and new is not None and old != new,
                     head.mode_change and not hunks)
    zero = {None, ""}
    old_blob = None if added or head.old_blob in zero or set(head.old_blob or "0") == {"0"} else head.old_blob
    new_blob = None if deleted or head.new_blob in zero or set(head.new_blob or "0") == {"0"} else head.new_blob
    return DiffFile(path, old, new, file_kind(path), status, hunks, old_blob, new_blob, head.new_mode,
                    head.mode_change, binary, chunk)


def _unidiff_hunks(pf: Any, rows: list[str]) -> tuple[DiffHunk, ...]:
    """The hunks of one unidiff file; each header is the chunk's own `@@` line (`rows`)."""
    out = []
    for h in pf:
        lines: list[DiffLine] = []
        no_old = no_new = False
        first_no = None
        for ln in h:
            first_no = ln.diff_line_no if first_no is None else first_no
            kind = ln.line_type
            if kind in ("+", "-", " "):
                lines.append(DiffLine(kind, ln.value.rstrip("\n"), ln.source_line_no, ln.target_line_no))
            elif kind == "\\" and lines:
                no_old = no_old or lines[-1].kind in ("-", " ")
                no_new = no_new or lines[-1].kind in ("+", " ")
        at = (first_no or 1) - 1
        header = rows[at - 1] if 0 < at <= len(rows) and rows[at - 1].startswith("@@") else (
            f"@@ -{h.source_start:d},{h.source_length:d} +{h.target_start:d},{h.target_length:d} @@"
            + (f" {h.section_header}" if h.section_header else ""))
        out.append(DiffHunk(header, None, h.source_start, h.source_length, h.target_start, h.target_length,
                            tuple(lines), False, no_old, no_new, 0, at))
    return tuple(out)


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


def read_hunks(chunk: str) -> tuple[tuple[DiffHunk, ...], str | None]:
    """Read hunks by hand, keeping what precedes a malformed or truncated line."""
    hunks: list[DiffHunk] = []
    problem: str | None = None
    lines = chunk.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the chunk's final newline, not a blank context line
    i = 0
    while i < len(lines):
        m = HUNK_RE.match(lines[i])
        if not m:
            i += 1
            continue
        hunk, i = _read_hunk(lines, i, m)
        if hunk.truncated:
            problem = f"hunk {m.group(0).split('@@')[1].strip()} is shorter than its header says (truncated?)"
        hunks.append(hunk)
    return tuple(hunks), problem


def _read_hunk(lines: list[str], i: int, m: re.Match[str]) -> tuple[DiffHunk, int]:
    os_, ol, ns, nl = int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1)
    header, start = lines[i], i
    body: list[DiffLine] = []
    no_old = no_new = False
    o, n = os_, ns
    i += 1
    while i < len(lines) and (o < os_ + ol or n < ns + nl or lines[i].startswith("\\")):
        raw = lines[i]
        kind = raw[:1] if raw else " "
        if kind == "\\":
            if body:
                no_old = no_old or body[-1].kind != "+"
                no_new = no_new or body[-1].kind != "-"
            i += 1
            continue
        if kind not in ("+", "-", " "):
            break
        body.append(DiffLine(kind, raw[1:], o if kind != "+" else None, n if kind != "-" else None))
        o += kind != "+"
        n += kind != "-"
        i += 1
    short = o < os_ + ol or n < ns + nl
    return DiffHunk(header, None, os_, ol, ns, nl, tuple(body), short, no_old, no_new, 0, start + 1), i


def restore_blank_tail(chunk: str) -> str:
    """Put back blank context lines that mail handling stripped from the end of a diff.

    A hunk that ends on an empty source line has a last line of a single space; mailers
    and archives often drop it (trailing whitespace). When the last hunk is short by the
    same small number of lines on both sides, those lines can only have been blank context.
    """
    lines = chunk.rstrip("\n").split("\n")
    start = next((i for i in range(len(lines) - 1, -1, -1) if HUNK_RE.match(lines[i])), None)
    if start is None:
        return chunk
    m = HUNK_RE.match(lines[start])
    assert m is not None
    want_old, want_new = int(m.group(2) or 1), int(m.group(4) or 1)
    got_old = got_new = 0
    for ln in lines[start + 1:]:
        kind = ln[:1]
        if kind == "-":
            got_old += 1
        elif kind == "+":
            got_new += 1
        elif kind in (" ", ""):
            got_old += 1
            got_new += 1
        elif kind != "\\":
            return chunk  # something else follows: not a clean cut
    missing = want_old - got_old
    if 0 < missing <= _MAX_RESTORED_BLANKS and missing == want_new - got_new:
        return "\n".join(lines) + "\n" + " \n" * missing
    return chunk


# --- paths ------------------------------------------------------------------------------


def _path(name: str, git: bool) -> str | None:
    """A path from a ---/+++ line as `git apply -p1` reads it; None for /dev/null."""
    name = _unquote(name.split("\t")[0].rstrip())
    if name == "/dev/null" or not name:
        return None
    if git:
        return name[2:] if name[:2] in ("a/", "b/") else name
    return name.split("/", 1)[1] if "/" in name.strip("/") else name


def _git_header_paths(rest: str) -> tuple[str | None, str | None]:
    if rest.startswith('"'):
        first, tail = _split_quoted(rest)
        second = tail.strip()
    else:
        # "a/X b/X": split in the middle when both halves name the same path
        half = (len(rest) - 1) // 2
        if rest[half:half + 1] == " " and rest[2:half] == rest[half + 3:]:
            first, second = rest[:half], rest[half + 1:]
        else:
            first, _, second = rest.partition(" b/")
            second = "b/" + second
    return _path(first, True), _path(second, True)


def _split_quoted(s: str) -> tuple[str, str]:
    j = 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s[j] == '"':
            break
        j += 1
    return s[:j + 1], s[j + 1:]


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path ("a/f\\303\\251")."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    k = 0
    while k < len(body):
        c = body[k]
        if c == "\\" and k + 1 < len(body):
            nxt = body[k + 1]
            if body[k + 1:k + 4].isdigit() and nxt in "01234567":
                out.append(int(body[k + 1:k + 4], 8) & 0xFF)
                k += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            k += 2
            continue
        out += c.encode("utf-8", "surrogateescape")
        k += 1
    return out.decode("utf-8", "surrogateescape")
