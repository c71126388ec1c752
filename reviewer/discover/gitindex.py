"""The paths git tracks in a checkout, read from its index file without running git.

`.gitignore` applies to untracked files only (a committed template is reviewed whatever a
`.gitignore` line says), so discovery needs the tracked paths. Running git on the scanned
repository is not an option (its configuration can run programs: ``core.fsmonitor``,
``core.hooksPath`` ...), so the index is parsed here, as untrusted bytes:

- the index file is ``<gitdir>/index``: ``<folder>/.git/index`` when ``.git`` is a folder, or
  the folder named by a ``gitdir: PATH`` line when ``.git`` is a file (submodules and
  worktrees). Such a link is followed only into the checkout's own ``.git`` folder
  (``<root>/.git/...``, where git keeps the submodules of the checkout) or into the
  ``.git/modules/`` folder of a folder above the root (the superproject, when the scanned root
  is itself a submodule); anywhere else (a worktree's ``.git/worktrees/NAME`` in another
  checkout, ``/etc``, a link out of the root) it is not read. ``.git`` itself may not be a
  symbolic link, and the index is opened without following one;
- versions 2, 3 and 4 (v4 compresses each path against the previous one), SHA-1 or SHA-256
  object names (``extensions.objectFormat`` in the gitdir's ``config``); the trailing checksum
  is verified (a zero one, written with ``index.skipHash``, is accepted);
- at most `MAX_INDEX_BYTES` bytes and `MAX_ENTRIES` entries; every offset and length is
  checked before it is used. A split index (``core.splitIndex``: the entries live partly in
  another file) is not read.

What cannot be read gives an `IndexRead` with a ``problem``: the caller (reviewer.discover.inventory)
then applies the `.gitignore` files below that folder as if nothing were tracked, as archreview
did before it read the index, and says so in a notice (an AR-MOD-006 finding at info).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
from dataclasses import dataclass

__all__ = [
    "MAX_ENTRIES",
    "MAX_INDEX_BYTES",
    "IndexRead",
    "find_gitdir",
    "parse_index",
    "read_tracked",
]

MAX_INDEX_BYTES = 64 * 1024 * 1024  # an index of about 600,000 files
MAX_ENTRIES = 1_000_000
_MAX_LINK_BYTES = 4096  # a `.git` file: "gitdir: PATH"
_MAX_CONFIG_BYTES = 64 * 1024

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)

_MODE_TYPE = 0o170000
_MODE_DIR = 0o040000  # a sparse-index directory entry
_MODE_GITLINK = 0o160000  # a submodule
_RE_OBJECT_FORMAT = re.compile(
    rb"(?im)^[ \t]*objectformat[ \t]*=[ \t]*\"?sha256\"?[ \t]*(?:[#;].*)?$"
)


@dataclass(frozen=True)
class IndexRead:
    """What one index says: the tracked files, the folders git tracks as a whole (submodules,
    sparse-index directories), relative to the folder holding ``.git``, with forward slashes;
    or why it could not be read (``problem``: a phrase, for a notice)."""

    files: frozenset[str] = frozenset()
    folders: frozenset[str] = frozenset()
    problem: str | None = None
    where: str = ""  # the index file, for the notice (relative to the root when inside it)


class _Corrupt(Exception):
    pass


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """git's offset varint (varint.c): 7 bits a byte, high bit set on all but the last, each
    continuation adding one before the shift."""
    if pos >= end:
        raise _Corrupt("truncated path length")
    c = data[pos]
    pos += 1
    value = c & 0x7F
    while c & 0x80:
        if pos >= end or value > (1 << 32):
            raise _Corrupt("bad path length")
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 0x7F)
    return value, pos


def _clean(path: bytes) -> bool:
    """A path git itself could have written: relative, no empty, "." or ".." component."""
    if not path or path.startswith(b"/") or path.endswith(b"/"):
        return False
    return all(part not in (b"", b".", b"..") for part in path.split(b"/"))


def parse_index(data: bytes, *, hash_size: int = 20, max_entries: int = MAX_ENTRIES) -> IndexRead:
    """The tracked paths of an index file's bytes. Never raises on bad input: a corrupt, cut,
    unsupported or oversized index is an `IndexRead` whose ``problem`` says why."""
    try:
        files, folders = _parse(data, hash_size, max_entries)
    except _Corrupt as err:
        return IndexRead(problem=str(err))
    return IndexRead(frozenset(files), frozenset(folders))


def _parse(data: bytes, hash_size: int, max_entries: int) -> tuple[set[str], set[str]]:
    size = len(data)
    if size < 12 + hash_size or data[:4] != b"DIRC":
        raise _Corrupt("not an index file (no DIRC signature)")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise _Corrupt(f"index version {version} is not one git writes (2, 3 or 4)")
    if count > max_entries:
        raise _Corrupt(f"{count:,} entries, over the limit of {max_entries:,}")
    end = size - hash_size  # the checksum follows the entries and extensions
    trailer = data[end:]
    if trailer != bytes(hash_size):  # all zeros: written with index.skipHash
        algorithm = hashlib.sha256 if hash_size == 32 else hashlib.sha1
        if algorithm(memoryview(data)[:end]).digest() != trailer:
            raise _Corrupt("its checksum does not match its content")
    fixed = 40 + hash_size + 2  # stat data, object name, flags
    files: set[str] = set()
    folders: set[str] = set()
    previous = b""
    pos = 12
    for _ in range(count):
        start = pos
        if pos + fixed > end:
            raise _Corrupt("cut short in its entries")
        mode = struct.unpack_from(">I", data, pos + 24)[0]
        flags = struct.unpack_from(">H", data, pos + 40 + hash_size)[0]
        pos += fixed
        if flags & 0x4000:  # extended flags
            if version < 3:
                raise _Corrupt("extended flags in a version 2 index")
            if pos + 2 > end:
                raise _Corrupt("cut short in its entries")
            pos += 2
        if version == 4:
            strip, pos = _varint(data, pos, end)
            if strip > len(previous):
                raise _Corrupt("a path prefix longer than the previous path")
            nul = data.find(b"\0", pos, end)
            if nul < 0:
                raise _Corrupt("an unterminated path")
            path = previous[: len(previous) - strip] + data[pos:nul]
            pos = nul + 1
        else:
            length = flags & 0x0FFF
            if length < 0x0FFF:
                nul = pos + length
                if nul >= end or data[nul] != 0:
                    raise _Corrupt("a path whose length does not match its flags")
            else:
                nul = data.find(b"\0", pos, end)
                if nul < 0:
                    raise _Corrupt("an unterminated path")
            path = data[pos:nul]
            pos = start + ((nul - start + 8) & ~7)  # 1 to 8 NULs pad the entry to 8 bytes
            if pos > end or data[nul:pos].strip(b"\0"):
                raise _Corrupt("bad padding after a path")
        previous = path
        kind = mode & _MODE_TYPE
        if kind == _MODE_DIR and path.endswith(b"/"):
            path = path[:-1]
            if _clean(path):
                folders.add(path.decode("utf-8", "surrogateescape"))
            continue
        if not _clean(path):
            raise _Corrupt("a path git would not write")
        text = path.decode("utf-8", "surrogateescape")
        if kind == _MODE_GITLINK:
            folders.add(text)
        else:
            files.add(text)
    while pos < end:  # extensions: a 4-byte signature and a 4-byte size each
        if pos + 8 > end:
            raise _Corrupt("cut short in its extensions")
        signature = data[pos : pos + 4]
        length = struct.unpack_from(">I", data, pos + 4)[0]
        if signature == b"link":
            raise _Corrupt("a split index (core.splitIndex), which is not read")
        pos += 8 + length
    if pos != end:
        raise _Corrupt("cut short in its extensions")
    return files, folders


# --------------------------------------------------------------------------- finding the index


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _read_small(path: str, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of a regular file, opened without following a link; None when it
    is missing, a link, not a regular file or over the limit."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return None if len(data) > limit else data


def find_gitdir(folder: str, root_real: str) -> tuple[str | None, str | None]:
    """The git directory of ``folder`` (which holds a ``.git`` entry): (real path, None), or
    (None, why not) when it may not or cannot be used. ``root_real`` is the scanned root's
    real path."""
    dot_git = os.path.join(folder, ".git")
    try:
        st = os.lstat(dot_git)
    except OSError as err:
        return None, f".git cannot be read ({err.strerror or type(err).__name__})"
    if stat.S_ISLNK(st.st_mode):
        return None, ".git is a symbolic link, which is not followed"
    if stat.S_ISDIR(st.st_mode):
        return os.path.realpath(dot_git), None
    if not stat.S_ISREG(st.st_mode):
        return None, ".git is neither a folder nor a file"
    data = _read_small(dot_git, _MAX_LINK_BYTES)
    if data is None:
        return None, ".git is a file that cannot be read or is too large"
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    if not line.startswith(b"gitdir:"):
        return None, '.git is a file without a "gitdir:" line'
    target = line[len(b"gitdir:") :].strip()
    if not target or b"\0" in target:
        return None, '.git names no folder on its "gitdir:" line'
    target_text = target.decode("utf-8", "surrogateescape")
    real = os.path.realpath(os.path.join(folder, target_text))
    own = os.path.join(root_real, ".git")
    if _inside(real, own) and real != own:
        return real, None
    parent = os.path.dirname(root_real)
    while True:  # a superproject's .git/modules, in a folder above the root
        if real.startswith(os.path.join(parent, ".git", "modules") + os.sep):
            return real, None
        above = os.path.dirname(parent)
        if above == parent:
            break
        parent = above
    return None, (
        '.git points (with "gitdir:") outside the checkout\'s own .git folder and outside a '
        "superproject's .git/modules folder, so it is not followed"
    )


def _hash_size(gitdir: str) -> int:
    config = _read_small(os.path.join(gitdir, "config"), _MAX_CONFIG_BYTES)
    if config is not None and _RE_OBJECT_FORMAT.search(config):
        return 32
    return 20


def read_tracked(
    folder: str, root_real: str, *, max_entries: int = MAX_ENTRIES, shown: str = ""
) -> IndexRead:
    """The paths git tracks in the working tree at ``folder`` (which holds ``.git``), relative
    to it. ``shown`` names the folder in a problem (repo-relative, "" for the root). A git
    directory without an index (nothing added yet) tracks nothing."""
    where = (shown + "/" if shown else "") + ".git"
    gitdir, why = find_gitdir(folder, root_real)
    if gitdir is None:
        return IndexRead(problem=why, where=where)
    index = os.path.join(gitdir, "index")
    if _inside(gitdir, root_real):
        where = os.path.relpath(index, root_real).replace(os.sep, "/")
    try:
        st = os.lstat(index)
    except FileNotFoundError:
        return IndexRead(where=where)  # nothing staged yet: nothing is tracked
    except OSError as err:
        return IndexRead(problem=f"cannot be read ({err.strerror})", where=where)
    if stat.S_ISLNK(st.st_mode):
        return IndexRead(problem="is a symbolic link, which is not followed", where=where)
    if st.st_size > MAX_INDEX_BYTES:
        return IndexRead(
            problem=f"{st.st_size:,} bytes, over the {MAX_INDEX_BYTES:,}-byte limit", where=where
        )
    data = _read_small(index, MAX_INDEX_BYTES)
    if data is None:
        return IndexRead(problem="cannot be read as a regular file", where=where)
    found = parse_index(data, hash_size=_hash_size(gitdir), max_entries=max_entries)
    return IndexRead(found.files, found.folders, found.problem, where)
