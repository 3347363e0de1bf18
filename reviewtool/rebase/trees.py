"""Read and edit tree objects without an index: only the directories on a changed path.

A kernel tree has ~90k files but a patch changes a handful, so a new root tree is built
from the few tree objects on the way to each changed path (read through `cat-file
--batch`, written through a long-lived `hash-object -t tree`), never from a full index.

The trees read and written are cached, since the next patch starts from the tree the
last one made. What the cache holds is bounded by what the series changes, not by the
number of patches times the tree: a directory an edit rewrites is dropped from it (a
later patch starts from the new version), and past `CACHE_ENTRIES` entries the least
recently used trees go. Dropping is always safe: a tree not cached is read again.
"""

from __future__ import annotations

from collections import OrderedDict

from reviewtool.errors import GitError
from reviewtool.rebase.gitrepo import GitRepo
from reviewtool.rebase.paths import path_problem, shown

Entry = tuple[str, str]  # (mode, oid); mode as git writes it in trees ("100644", "40000")
TREE_MODE = "40000"
CACHE_ENTRIES = 200_000  # tree entries kept in memory at most (about 50 MB), beyond the newest tree


class TreeConflict(Exception):
    """A path cannot be placed: a file stands where a directory is needed, or the reverse."""


class UnsafePath(GitError):
    """A path git refuses in a tree was about to be written (patches with one are refused
    before they are applied, so this stops a run only if that check was bypassed)."""


class Trees:
    """Cached tree reading and path-level editing on one repository."""

    def __init__(self, repo: GitRepo, limit: int = CACHE_ENTRIES) -> None:
        self.repo = repo
        self.limit = limit
        self._cache: OrderedDict[str, dict[str, Entry]] = OrderedDict()
        self._size = 0  # entries in the cache

    @property
    def cached_trees(self) -> int:
        return len(self._cache)

    @property
    def cached_entries(self) -> int:
        return self._size

    def read(self, tree: str) -> dict[str, Entry]:
        """The entries of TREE: name -> (mode, oid). The dict is shared: do not change it."""
        got = self._cache.get(tree)
        if got is not None:
            self._cache.move_to_end(tree)
            return got
        obj = self.repo.cat(tree)
        if obj is None or obj[1] != "tree":
            raise GitError(f"{tree} is not a tree object")
        entries = _parse_tree(obj[2], len(obj[0]) // 2)
        self._remember(tree, entries)
        return entries

    def _remember(self, tree: str, entries: dict[str, Entry]) -> None:
        old = self._cache.pop(tree, None)
        if old is not None:
            self._size -= len(old)
        self._cache[tree] = entries
        self._size += len(entries)
        while self._size > self.limit and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._size -= len(dropped)

    def _forget(self, tree: str) -> None:
        dropped = self._cache.pop(tree, None)
        if dropped is not None:
            self._size -= len(dropped)

    def tree_of(self, commit: str) -> str:
        """The root tree id of COMMIT."""
        obj = self.repo.cat(f"{commit}^{{tree}}")
        if obj is None:
            raise GitError(f"{commit} has no tree")
        return obj[0]

    def lookup(self, tree: str, path: str) -> Entry | None:
        """The (mode, oid) at PATH in TREE, or None."""
        parts = path.split("/")
        current = tree
        for i, name in enumerate(parts):
            entry = self.read(current).get(name)
            if entry is None:
                return None
            if i == len(parts) - 1:
                return entry
            if entry[0] != TREE_MODE:
                return None
            current = entry[1]
        return None

    def is_dir(self, tree: str, path: str) -> bool:
        """Whether PATH is a directory in TREE ('' is the root)."""
        if not path:
            return True
        entry = self.lookup(tree, path)
        return entry is not None and entry[0] == TREE_MODE

    def edit(self, tree: str, changes: dict[str, Entry | None]) -> str:
        """A new root tree: TREE with each path set to an entry, or removed when None."""
        if not changes:
            return tree
        nested: dict[str, object] = {}
        for path, entry in changes.items():
            why = path_problem(path, entry[0] if entry else None) if entry is not None else None
            if why is not None:
                raise UnsafePath(f"refusing to write the path '{shown(path)}' into a tree: {why}")
            node = nested
            parts = path.split("/")
            for name in parts[:-1]:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise TreeConflict(path)
                node = child
            if isinstance(node.get(parts[-1]), dict):
                raise TreeConflict(path)
            node[parts[-1]] = entry
        replaced: list[tuple[str, str | None]] = []  # (old tree, its new version)
        new = self._edit(tree, nested, "", replaced)
        for old, made in replaced:
            if old != made:
                self._forget(old)  # the next patch starts from the new version
        return new if new is not None else self.repo.mktree([])

    def _edit(self, tree: str | None, changes: dict[str, object], prefix: str,
              replaced: list[tuple[str, str | None]]) -> str | None:
        entries = dict(self.read(tree)) if tree is not None else {}
        for name, change in changes.items():
            if isinstance(change, dict):
                old = entries.get(name)
                if old is not None and old[0] != TREE_MODE:
                    raise TreeConflict(prefix + name)
                sub = self._edit(old[1] if old else None, change, f"{prefix}{name}/", replaced)
                if sub is None:
                    entries.pop(name, None)
                else:
                    entries[name] = (TREE_MODE, sub)
            elif change is None:
                entries.pop(name, None)
            else:
                assert isinstance(change, tuple)
                old = entries.get(name)
                if old is not None and old[0] == TREE_MODE:
                    raise TreeConflict(prefix + name)
                entries[name] = (str(change[0]), str(change[1]))
        made = self.repo.mktree([(mode, oid, name) for name, (mode, oid) in entries.items()]) if entries else None
        if tree is not None:
            replaced.append((tree, made))
        if made is not None:
            self._remember(made, entries)
        return made


def _parse_tree(data: bytes, rawlen: int) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    pos = 0
    n = len(data)
    while pos < n:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = data[pos:space].decode()
        name = data[space + 1:nul].decode("utf-8", "surrogateescape")
        oid = data[nul + 1:nul + 1 + rawlen].hex()
        entries[name] = (mode, oid)
        pos = nul + 1 + rawlen
    return entries
