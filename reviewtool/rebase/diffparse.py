"""The parts of a git diff that applying needs: paths, blob ids, modes and hunk ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_INDEX = re.compile(r"^index ([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)(?: (\d+))?$")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class DiffHunk:
    """One hunk: its ranges and its lines (prefix kept: ' ', '-', '+')."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    header: str  # the @@ line
    lines: tuple[str, ...]

    @property
    def old_lines(self) -> list[str]:
        """The pre-image text the hunk expects (context and removed lines, no prefix)."""
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "-")]

    @property
    def old_end(self) -> int:
        """Last pre-image line the hunk covers (old_start when it covers none)."""
        return self.old_start + max(self.old_len, 1) - 1

    @property
    def new_end(self) -> int:
        return self.new_start + max(self.new_len, 1) - 1


@dataclass(frozen=True)
class FileDiff:
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    old_blob: str | None  # abbreviated id from the `index` line; None when absent or new
    new_blob: str | None
    hunks: tuple[DiffHunk, ...] = ()
    binary: bool = False
    new_mode: str | None = None
    text: str = ""  # this file's part of the diff, on its own a patch git can apply

    @property
    def path(self) -> str:
        """The path to name this change by (the new one, else the old one)."""
        return self.new_path or self.old_path or ""

    @property
    def paths(self) -> tuple[str, ...]:
        """Both paths when they differ (rename/copy), else the one."""
        out = [p for p in (self.old_path, self.new_path) if p]
        return tuple(dict.fromkeys(out))


@dataclass
class _Builder:
    old_path: str | None = None
    new_path: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None
    new_mode: str | None = None
    created: bool = False
    deleted: bool = False
    binary: bool = False
    hunks: list[DiffHunk] = field(default_factory=list)
    text: str = ""

    def done(self) -> FileDiff:
        old = None if self.created else self.old_path
        new = None if self.deleted else self.new_path
        zero = {None, ""}
        old_blob = None if self.created or self.old_blob in zero or set(self.old_blob or "0") == {"0"} \
            else self.old_blob
        new_blob = None if self.deleted or self.new_blob in zero or set(self.new_blob or "0") == {"0"} \
            else self.new_blob
        return FileDiff(old, new, old_blob, new_blob, tuple(self.hunks), self.binary, self.new_mode, self.text)


def parse_diff(text: str) -> list[FileDiff]:
    """Every file of a git-style diff, in order (non-git unified diffs are accepted too)."""
    files: list[FileDiff] = []
    cur: _Builder | None = None
    start = 0
    lines = text.splitlines()

    def finish(end: int) -> None:
        if cur is not None:
            cur.text = "\n".join(lines[start:end]) + "\n"
            files.append(cur.done())

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            finish(i)
            cur, start = _Builder(), i
            a, b = _git_header_paths(line[len("diff --git "):])
            cur.old_path, cur.new_path = a, b
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ") and (
                cur is None or cur.hunks):
            finish(i)  # a plain unified diff: each ---/+++ pair starts a file
            cur, start = _Builder(), i
            i = _read_pair(cur, lines, i)
            continue
        elif cur is None:
            pass
        elif line.startswith("new file mode "):
            cur.created = True
            cur.new_mode = line.split()[-1]
        elif line.startswith("deleted file mode "):
            cur.deleted = True
        elif line.startswith("new mode "):
            cur.new_mode = line.split()[-1]
        elif line.startswith(("rename from ", "copy from ")):
            cur.old_path = _unquote(line.split(" ", 2)[2])
        elif line.startswith(("rename to ", "copy to ")):
            cur.new_path = _unquote(line.split(" ", 2)[2])
        elif m := _INDEX.match(line):
            cur.old_blob, cur.new_blob = m.group(1).lower(), m.group(2).lower()
            if m.group(3):
                cur.new_mode = cur.new_mode or m.group(3)
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            cur.binary = True
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            i = _read_pair(cur, lines, i)
            continue
        elif m := _HUNK.match(line):
            hunk, i = _read_hunk(lines, i, m)
            cur.hunks.append(hunk)
            continue
        i += 1
    finish(len(lines))
    return [f for f in files if f.path]


def _read_pair(cur: _Builder, lines: list[str], i: int) -> int:
    """Take the paths of a ---/+++ pair at line I; the index of the line after it."""
    old = _strip_prefix(lines[i][4:])
    new = _strip_prefix(lines[i + 1][4:])
    if old is None:
        cur.created = True
    else:
        cur.old_path = old
    if new is None:
        cur.deleted = True
    else:
        cur.new_path = new
    if cur.old_path is None:
        cur.old_path = cur.new_path
    if cur.new_path is None:
        cur.new_path = cur.old_path
    return i + 2


def complete_hunks(text: str) -> str:
    """TEXT with hunks that end early by blank context lines given those lines back.

    Mail software and mail parsers drop trailing whitespace, and with it a final " "
    context line (an empty line of the file); git apply then calls the patch corrupt.
    When a hunk is short by the same count on both sides, the missing lines can only
    be context: blank ones are put back.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        want_old = int(m.group(2)) if m.group(2) is not None else 1
        want_new = int(m.group(4)) if m.group(4) is not None else 1
        out.append(lines[i])
        i += 1
        while i < len(lines) and (want_old > 0 or want_new > 0):
            tag = lines[i][:1]
            if tag in (" ", ""):
                want_old, want_new = want_old - 1, want_new - 1
            elif tag == "-":
                want_old -= 1
            elif tag == "+":
                want_new -= 1
            elif tag != "\\":
                break
            out.append(lines[i])
            i += 1
        if want_old == want_new > 0:
            out.extend([" "] * want_old)
    return "\n".join(out) + "\n"


def _read_hunk(lines: list[str], i: int, m: re.Match[str]) -> tuple[DiffHunk, int]:
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    body: list[str] = []
    want_old, want_new = old_len, new_len
    j = i + 1
    while j < len(lines) and (want_old > 0 or want_new > 0):
        ln = lines[j]
        tag = ln[:1]
        if tag == " " or ln == "":
            want_old -= 1
            want_new -= 1
            ln = " " + ln[1:]
        elif tag == "-":
            want_old -= 1
        elif tag == "+":
            want_new -= 1
        elif tag != "\\":
            break
        body.append(ln)
        j += 1
    while j < len(lines) and lines[j].startswith("\\"):  # "\ No newline at end of file"
        body.append(lines[j])
        j += 1
    return DiffHunk(old_start, old_len, new_start, new_len, lines[i], tuple(body)), j


def _strip_prefix(name: str) -> str | None:
    name = name.split("\t")[0].rstrip()
    name = _unquote(name)
    if name == "/dev/null":
        return None
    if name[:2] in ("a/", "b/"):
        return name[2:]
    return name


def _git_header_paths(rest: str) -> tuple[str | None, str | None]:
    if rest.startswith('"'):
        first, _, tail = _split_quoted(rest)
        second = tail.strip()
    else:
        # "a/X b/X": split in the middle when both halves name the same path
        half = (len(rest) - 1) // 2
        if rest[half:half + 1] == " " and rest[2:half] == rest[half + 3:]:
            first, second = rest[:half], rest[half + 1:]
        else:
            first, _, second = rest.partition(" b/")
            second = "b/" + second
    return _strip_prefix(first), _strip_prefix(second)


def _split_quoted(s: str) -> tuple[str, int, str]:
    j = 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s[j] == '"':
            break
        j += 1
    return s[:j + 1], j, s[j + 1:]


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
            if nxt in "01234567" and k + 3 < len(body) + 0 and body[k + 1:k + 4].isdigit():
                out.append(int(body[k + 1:k + 4], 8))
                k += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            k += 2
            continue
        out += c.encode("utf-8")
        k += 1
    return out.decode("utf-8", "surrogateescape")
