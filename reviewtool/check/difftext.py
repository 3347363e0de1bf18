"""Reading unified-diff text where unidiff alone is not enough.

Per-file splitting, git headers (renames, modes, binary markers), hunks read by hand up
to a malformed or truncated line, blank context lines that mail handling stripped, and
the mail signature after the last hunk. Plain data out; the diff model is built in diff.py.
"""

from __future__ import annotations

import re

RawLine = tuple[str, str, int | None, int | None]  # kind, text, old line number, new line number
RawHunk = tuple[str, int, int, int, int, list[RawLine], bool]  # header, starts and lengths, lines, short


HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_GIT_HEADER_RE = re.compile(r"^diff --git ")


def normalise(text: str) -> str:
    """LF line ends, and a final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text


def split_files(text: str) -> list[str]:
    """Split a diff into per-file chunks at `diff --git` lines (one chunk if there are none)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if _GIT_HEADER_RE.match(ln)]
    if not starts:
        return [text]
    bounds = starts + [len(lines)]
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def strip_prefix(name: str) -> str:
    """A path from a diff header without its quotes and its a/ or b/ prefix."""
    name = name.strip()
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        name = name[1:-1]
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


def read_hunks(chunk: str) -> tuple[list[RawHunk], str | None]:
    """Read hunks by hand, keeping what precedes a malformed or truncated line."""
    hunks: list[RawHunk] = []
    problem: str | None = None
    lines = chunk.split("\n")
    i = 0
    while i < len(lines):
        m = HUNK_RE.match(lines[i])
        if not m:
            i += 1
            continue
        os_, ol, ns, nl = (int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1))
        header = lines[i]
        body: list[RawLine] = []
        o, n = os_, ns
        i += 1
        while i < len(lines) and (o < os_ + ol or n < ns + nl):
            raw = lines[i]
            kind = raw[:1] if raw else " "
            if kind == "\\":
                i += 1
                continue
            if kind not in ("+", "-", " "):
                break
            text = raw[1:]
            if kind == " ":
                body.append((" ", text, o, n))
                o += 1
                n += 1
            elif kind == "-":
                body.append(("-", text, o, None))
                o += 1
            else:
                body.append(("+", text, None, n))
                n += 1
            i += 1
        short = o < os_ + ol or n < ns + nl
        if short:
            problem = f"hunk {header.split('@@')[1].strip() if '@@' in header else header} is shorter than its header says (truncated?)"
        hunks.append((header, os_, ol, ns, nl, body, short))
    return hunks, problem


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
    if 0 < missing <= 3 and missing == want_new - got_new:
        return "\n".join(lines) + "\n" + " \n" * missing
    return chunk


def file_header(chunk: str) -> tuple[str | None, str | None, bool, bool, bool, bool]:
    """Paths and flags from a chunk's git header: (old, new, added, deleted, binary, mode)."""
    old = new = None
    added = deleted = binary = mode = False
    for ln in chunk.split("\n"):
        if ln.startswith("@@"):
            break
        if ln.startswith("diff --git "):
            m = re.match(r'^diff --git ("?a/.+?"?) ("?b/.+"?)$', ln)
            if m:
                old, new = strip_prefix(m.group(1)), strip_prefix(m.group(2))
        elif ln.startswith("--- "):
            name = ln[4:].split("\t")[0]
            if name == "/dev/null":
                added = True
            else:
                old = strip_prefix(name)
        elif ln.startswith("+++ "):
            name = ln[4:].split("\t")[0]
            if name == "/dev/null":
                deleted = True
            else:
                new = strip_prefix(name)
        elif ln.startswith(("rename from ", "copy from ")):
            old = ln.split(" ", 2)[2]
        elif ln.startswith(("rename to ", "copy to ")):
            new = ln.split(" ", 2)[2]
        elif ln.startswith("new file mode"):
            added = True
        elif ln.startswith("deleted file mode"):
            deleted = True
        elif ln.startswith(("old mode", "new mode")):
            mode = True
        elif ln.startswith(("Binary files ", "GIT binary patch")):
            binary = True
    return old, new, added, deleted, binary, mode


def cut_signature(text: str) -> str:
    """Drop a trailing email signature (`-- ` then the git version) after the last hunk."""
    idx = text.rfind("\n-- \n")
    if idx >= 0 and len(text) - idx < 200:
        return text[: idx + 1]
    return text
