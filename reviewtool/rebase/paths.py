"""Paths git refuses to put in an index or a tree (read-cache.c `verify_path`, fsck).

A patch is mail from a stranger. A path that would reach into `.git` on a checkout, climb
out of the tree with `..`, or that `git fsck` flags, is refused before anything is
written. The in-process apply path builds trees without git's index, so it must apply
git's rules itself; they are applied here with both the NTFS and the HFS+ spellings of
`.git`, whatever the platform (git does so only on Windows and macOS; fsck always does).
"""

from __future__ import annotations

from reviewtool.diff import DiffFile as FileDiff

SYMLINK_MODE = "120000"

# Code points HFS+ ignores in names, so `.g\u200cit` is `.git` there (utf8.c next_hfs_char).
_HFS_IGNORED = frozenset([*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])


def path_problem(path: str, mode: str | None = None) -> str | None:
    """Why git would refuse PATH (MODE: the entry's mode as octal text), or None when fine."""
    if not path:
        return "an empty path"
    if "\0" in path:
        return "a NUL character in the path"
    if path.startswith("/"):
        return "an absolute path"
    symlink = mode == SYMLINK_MODE
    pos = 0
    for part in path.split("/"):
        why = _component_problem(part, path[pos:], symlink)
        if why is not None:
            return why
        pos += len(part) + 1
    return None


def _component_problem(part: str, rest: str, symlink: bool) -> str | None:
    """What git's verify_path says of the component PART (REST: the path from PART on)."""
    if not part:
        return "an empty path component"
    if part in (".", ".."):
        return f"a '{part}' component"
    dotgit = "a '.git' component" if part.lower() == ".git" else \
        f"'{shown(part)}', which is '.git' to NTFS or HFS+"
    if part.lower() == ".git" or _hfs_dot(part, "git"):
        return dotgit
    if symlink and (part.lower() == ".gitmodules" or _hfs_dot(part, "gitmodules")):
        return "'.gitmodules' as a symbolic link"
    # NTFS also splits at a backslash (git looks after each one but a leading one)
    for start in [0, *(i + 1 for i, c in enumerate(part) if c == "\\" and i > 0)]:
        if _ntfs_dot(part[start:].split("\\", 1)[0], "git", "git~1"):
            return dotgit
        # as git does, only a last component (or one followed by a stream name) counts here
        if symlink and _ntfs_dot_generic(rest[start:], "gitmodules", "gi7eba"):
            return "'.gitmodules' as a symbolic link"
    return None


def patch_problem(files: list[FileDiff]) -> str | None:
    """Why git would refuse a path of one patch's files (old names, new names, rename
    and copy targets), as a sentence naming the path; None when every path is fine."""
    for fd in files:
        if fd.new_mode and _is_directory_mode(fd.new_mode):
            # `git apply --cached` takes it, and writes a tree whose entry is a blob
            return (f"file mode {fd.new_mode} of '{shown(fd.path)}' refused (a directory): "
                    "git would write a broken tree")
        for path, mode in ((fd.old_path, None), (fd.new_path, fd.new_mode)):
            if path is None:
                continue
            why = path_problem(path, mode)
            if why is not None:
                return f"path '{shown(path)}' refused ({why}): git never puts such a path in a tree"
    return None


def _is_directory_mode(mode: str) -> bool:
    try:
        return int(mode, 8) & 0o170000 == 0o040000
    except ValueError:
        return False  # not a mode at all: git apply says so


def shown(path: str) -> str:
    """PATH with what cannot be seen (zero-width code points, control characters) escaped."""
    return "".join(c if c.isprintable() and ord(c) not in _HFS_IGNORED
                   else c.encode("unicode_escape").decode("ascii") for c in path)


def _ntfs_tail_ok(rest: str) -> bool:
    """What NTFS strips after a name: only spaces and dots, up to the end or a `:stream`."""
    return set(rest.split(":", 1)[0]) <= {" ", "."}


def _ntfs_dot(name: str, word: str, short: str) -> bool:
    """`.git` or `git~1`, followed by only spaces and dots, or by `:stream` (is_ntfs_dotgit)."""
    low = name.lower()
    for prefix in ("." + word, short):
        if low.startswith(prefix) and _ntfs_tail_ok(name[len(prefix):]):
            return True
    return False


def _ntfs_dot_generic(name: str, word: str, shortname_prefix: str) -> bool:
    """is_ntfs_dot_generic: `.WORD`, its 6-letter short name `WORD~1`..`~4`, or the fall-back
    short name (SHORTNAME_PREFIX up to a `~N`), each followed by only spaces, dots or a stream."""
    low = name.lower()
    if low.startswith("." + word):
        return _ntfs_tail_ok(name[len(word) + 1:])
    if low[:6] == word[:6] and len(low) > 7 and low[6] == "~" and low[7] in "1234":
        return _ntfs_tail_ok(name[8:])
    saw_tilde = False
    i = 0
    while i < 8:
        if i >= len(name):
            return False
        c = name[i]
        if saw_tilde:
            if not c.isascii() or not c.isdigit():
                return False
        elif c == "~":
            i += 1
            if i >= len(name) or name[i] not in "123456789":
                return False
            saw_tilde = True
        elif i >= 6 or not c.isascii() or c.lower() != shortname_prefix[i]:
            return False
        i += 1
    return _ntfs_tail_ok(name[8:])


def _hfs_dot(name: str, word: str) -> bool:
    """`.WORD` once the code points HFS+ ignores are dropped, in any case (is_hfs_dot_generic)."""
    kept = "".join(c for c in name if ord(c) not in _HFS_IGNORED)
    return kept.isascii() and kept.lower() == "." + word
