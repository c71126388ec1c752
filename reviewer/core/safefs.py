"""Reading and writing files without following links archreview did not choose to follow.

The scanned repository is untrusted, and so is everything under it: a pull request can commit a
symbolic link where archreview expects a folder or a file (`.archreview-cache/model ->
../../victim`, `docs/adr -> /home/user`). Two kinds of path reach archreview's writers:

* **Paths the user names** (`--output`, `--write-baseline`, `adr --out`, `--cache-dir`, the
  profile `init` writes). Outside the scanned tree they are trusted as given: a link, a FIFO,
  `/dev/null` or `/dev/stdout` is written through, the way a shell redirection would. Inside the
  scanned tree (decided lexically, after making the path absolute, against the root as given and
  against its real path) they are not: the root is opened, then every component below it is
  opened relative to its parent's descriptor with `O_NOFOLLOW`, so a link planted by the
  repository is refused (`UnsafePath`) instead of followed, and only a regular file is replaced.
* **Paths archreview builds** under a folder it opened itself (cache entries, ADR records):
  opened relative to that folder's descriptor, one component at a time, never through a link
  (`O_NOFOLLOW`, `dir_fd=`, `follow_symlinks=False`), optionally checked for their owner.

A regular file is replaced atomically: the payload goes to a fresh, unguessable temporary file
created exclusively (`O_EXCL|O_NOFOLLOW`) beside the target, then `os.replace` moves it into
place relative to the same descriptor. An interrupted run leaves the previous file intact, and
a link that takes the target's name between two runs is replaced, never written through.

Errors on a path the user named become `WriteError`: one line, `cannot write FILE: REASON`,
marked as a usage error (the path cannot be used: a folder, a link inside the scanned tree, no
permission, a read-only file system; exit 2) or not (the write failed: a full disk, an I/O
error; exit 3).

POSIX only (`os.open` with `dir_fd`), like the rest of archreview's file handling.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable
from typing import TypeAlias

__all__ = [
    "Payload",
    "UnsafePath",
    "WriteError",
    "Writer",
    "is_usage_errno",
    "lstat_at",
    "open_anchor",
    "open_dir",
    "open_user_dir",
    "read_file_at",
    "unlink_at",
    "within",
    "write_file_at",
    "write_user_file",
]

Writer: TypeAlias = Callable[[Callable[[str], object]], None]
"""A payload that writes itself in pieces through the `write` function it is given."""

Payload: TypeAlias = str | bytes | tuple[bytes, ...] | Writer
"""Text (written as UTF-8; a lone surrogate becomes `?`, so a file is always valid UTF-8 and
never a crash), bytes, several byte strings written in order, or a `Writer`."""

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC  # a FIFO never blocks
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
_CHUNK = 1 << 18  # text pieces are encoded and written in blocks of about this many characters

# errno values that mean "this path cannot be used" (the user can fix the argument) rather than
# "the write failed" (a full disk, an I/O error)
_USAGE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "EACCES",
        "EEXIST",
        "EISDIR",
        "ELOOP",
        "ENAMETOOLONG",
        "ENOENT",
        "ENOTDIR",
        "ENXIO",
        "EPERM",
        "EROFS",
        "EXDEV",
    )
    if hasattr(errno, name)
)


class UnsafePath(Exception):
    """A path archreview will not use: a symbolic link or a non-folder where it walks without
    following links, a file that is not regular, too large, or another user's."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


class WriteError(OSError):
    """A path the user named could not be written (an OSError, its message one line).
    `usage`: the path itself cannot be used (exit 2); otherwise the write failed (exit 3)."""

    def __init__(self, path: str, reason: str, *, usage: bool) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason
        self.usage = usage


def is_usage_errno(code: int | None) -> bool:
    """Whether an OSError's errno says the path is unusable (True) or the write failed."""
    return code in _USAGE_ERRNOS


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _check_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a single path component: {name!r}")
    return name


# -- where a path lies ---------------------------------------------------------------------------


def within(
    path: str | os.PathLike[str], root: str | os.PathLike[str]
) -> tuple[str, tuple[str, ...]] | None:
    """(base, components) when `path`, made absolute and normalised lexically, is `root` or
    lies below it — `root` taken both as given (made absolute) and as its real path; None
    when it lies outside. `base` is the form of the root the path was found under; the
    components are what lies between it and the path (empty for the root itself)."""
    target = os.path.abspath(path)
    for base in dict.fromkeys((os.path.abspath(root), os.path.realpath(root))):
        if target == base:
            return base, ()
        prefix = base if base.endswith(os.sep) else base + os.sep
        if target.startswith(prefix):
            return base, tuple(target[len(prefix) :].split(os.sep))
    return None


# -- descriptors -----------------------------------------------------------------------------


def open_anchor(path: str | os.PathLike[str], *, create: bool = False, mode: int = 0o777) -> int:
    """A descriptor of a trusted folder (one the user named, or archreview's own in the
    user's cache), links in its path followed; created with its parents when `create`."""
    if create:
        with contextlib.suppress(FileExistsError):  # a file in the way: the open says so
            os.makedirs(path, mode=mode, exist_ok=True)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)


def open_dir(
    dir_fd: int,
    parts: str | Iterable[str],
    *,
    create: bool = False,
    mode: int = 0o777,
    owner: int | None = None,
    label: str = "",
) -> int:
    """A descriptor of the folder `parts` (a name, or names) below `dir_fd`, walked one
    component at a time without following links; missing components are made (with `mode`)
    when `create`. `dir_fd` stays open; the caller closes the result.

    Raises UnsafePath for a symbolic link, a non-folder, or a folder not owned by `owner`
    (labelled `label/part/...`), FileNotFoundError for a missing component (without `create`),
    and OSError otherwise."""
    names = (parts,) if isinstance(parts, str) else tuple(parts)
    current = os.dup(dir_fd)
    shown = label
    try:
        for name in names:
            _check_name(name)
            shown = os.path.join(shown, name) if shown else name
            try:
                fd = os.open(name, DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):  # made meanwhile, or a link
                    os.mkdir(name, mode, dir_fd=current)
                fd = _open_or_refuse(current, name, shown)
            except OSError as err:
                if err.errno in (errno.ENOTDIR, errno.ELOOP):
                    raise _refusal(current, name, shown) from None
                raise
            os.close(current)
            current = fd
            if owner is not None and os.fstat(current).st_uid != owner:
                raise UnsafePath(shown, "belongs to another user")
        return current
    except BaseException:
        os.close(current)
        raise


def _open_or_refuse(dir_fd: int, name: str, shown: str) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.ENOTDIR, errno.ELOOP, errno.ENOENT):
            raise _refusal(dir_fd, name, shown) from None
        raise


def _refusal(dir_fd: int, name: str, shown: str) -> UnsafePath:
    st = lstat_at(dir_fd, name)
    if st is not None and stat.S_ISLNK(st.st_mode):
        return UnsafePath(shown, "is a symbolic link")
    return UnsafePath(shown, "is not a folder")


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    """`name`'s own status below `dir_fd` (a link is not followed), or None when missing."""
    try:
        return os.stat(_check_name(name), dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


# -- reading -------------------------------------------------------------------------------------


def read_file_at(
    dir_fd: int, name: str, *, max_bytes: int, owner: int | None = None, label: str = ""
) -> bytes:
    """The bytes of the regular file `name` below `dir_fd`, opened without following a link
    (and without blocking on a FIFO). Raises FileNotFoundError when missing, UnsafePath for a
    link, a file that is not regular, larger than `max_bytes` or not owned by `owner`."""
    shown = os.path.join(label, name) if label else name
    try:
        fd = os.open(_check_name(name), READ_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnsafePath(shown, "is a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(shown, "is not a regular file")
        if owner is not None and st.st_uid != owner:
            raise UnsafePath(shown, "belongs to another user")
        if st.st_size > max_bytes:
            raise UnsafePath(shown, f"is larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        remaining = st.st_size
        while remaining > 0:  # a regular file: normally a single read
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


# -- writing -------------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_payload(fd: int, payload: Payload) -> None:
    if isinstance(payload, str):
        _write_all(fd, payload.encode("utf-8", "replace"))
    elif isinstance(payload, bytes):
        _write_all(fd, payload)
    elif isinstance(payload, tuple):
        for part in payload:
            _write_all(fd, part)
    else:
        pending: list[str] = []
        size = 0

        def write(piece: str) -> None:
            nonlocal size
            pending.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                flush()

        def flush() -> None:
            nonlocal size
            if pending:
                _write_all(fd, "".join(pending).encode("utf-8", "replace"))
                pending.clear()
                size = 0

        payload(write)
        flush()


def write_file_at(
    dir_fd: int,
    name: str,
    payload: Payload,
    *,
    mode: int = 0o666,
    fsync: bool = False,
) -> None:
    """Put `payload` at `name` below `dir_fd` atomically: a fresh temporary file created
    exclusively and without following links beside it (permission bits `mode`, less the
    umask), then `os.replace` relative to `dir_fd`. Whatever has the name is replaced — a link
    is replaced, never followed; a folder is an error. The caller decides beforehand whether
    the name may be replaced (see lstat_at). With `fsync`, the data reach the disk first."""
    _check_name(name)
    tmp = f".{name[:150]}.{os.urandom(8).hex()}.tmp"
    fd = os.open(tmp, CREATE_FLAGS, mode, dir_fd=dir_fd)
    try:
        try:
            _write_payload(fd, payload)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def unlink_at(dir_fd: int, name: str, *, expect: os.stat_result | None = None) -> bool:
    """Remove the regular file `name` below `dir_fd` (never a link, a folder or anything
    else), and only when it is still the file `expect` describes (same device and inode).
    Returns whether it was removed."""
    st = lstat_at(dir_fd, name)
    if st is None or not stat.S_ISREG(st.st_mode):
        return False
    if expect is not None and (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino):
        return False
    os.unlink(name, dir_fd=dir_fd)
    return True


# -- paths the user names ------------------------------------------------------------------------


def open_user_dir(
    path: str | os.PathLike[str], *, tree: str | os.PathLike[str] | None, create: bool = True
) -> int:
    """A descriptor of the folder the user named: followed as given outside the scanned `tree`,
    walked without following links (and made with its missing parents when `create`) inside
    it. Raises UnsafePath or OSError."""
    inside = within(path, tree) if tree is not None else None
    if inside is None:
        return open_anchor(os.path.abspath(path), create=create)
    base, parts = inside
    anchor = open_anchor(base)
    try:
        return open_dir(anchor, parts, create=create, label=base)
    finally:
        os.close(anchor)


def write_user_file(
    path: str | os.PathLike[str], payload: Payload, *, tree: str | os.PathLike[str] | None
) -> None:
    """Write a file the user named (`--output`, `--write-baseline`, `init`'s profile).

    Outside the scanned `tree`: a regular file (or a new one) is replaced atomically, its
    permission bits kept; a link is written through; a FIFO, a device (`/dev/null`) or
    `/dev/stdout` is written to in place, never renamed over; missing parent folders are made;
    a replaced file keeps its permission bits (less the umask).
    Inside the tree: every component below the root is opened without following links, and
    only a regular file (or a new one) is written, atomically; a link or anything else there
    is refused. The path is normalised lexically first (`a/link/../b` is `a/b`), so `..` never
    climbs out of a link. Raises WriteError (one line) on any failure."""
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    inside = within(absolute, tree) if tree is not None else None
    try:
        if inside is None:
            parent, name = os.path.split(absolute)
            if not name:
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            dir_fd = open_anchor(parent, create=True)
        else:
            base, parts = inside
            if not parts:
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            anchor = open_anchor(base)
            try:
                dir_fd = open_dir(anchor, parts[:-1], create=True, label=base)
            finally:
                os.close(anchor)
            name = parts[-1]
        try:
            _write_named(dir_fd, name, payload, trusted=inside is None, shown=shown)
        finally:
            os.close(dir_fd)
    except UnsafePath as err:
        what = err.reason if err.path == shown else str(err)
        raise WriteError(
            shown,
            f"{what} inside the scanned tree (archreview follows no link there and writes only "
            "regular files)",
            usage=True,
        ) from None
    except OSError as err:
        raise WriteError(shown, _reason(err), usage=is_usage_errno(err.errno)) from None


def _write_named(dir_fd: int, name: str, payload: Payload, *, trusted: bool, shown: str) -> None:
    st = lstat_at(dir_fd, name)
    if st is None or stat.S_ISREG(st.st_mode):
        keep = stat.S_IMODE(st.st_mode) if st is not None else None
        write_file_at(dir_fd, name, payload, mode=keep if keep is not None else 0o666)
        return
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    if not trusted:
        what = "is a symbolic link" if stat.S_ISLNK(st.st_mode) else "is not a regular file"
        raise UnsafePath(shown, what)
    flags = os.O_WRONLY | _CLOEXEC
    if stat.S_ISLNK(st.st_mode):  # the user's own link: written through, like `>` would
        try:
            target = os.stat(name, dir_fd=dir_fd)
        except FileNotFoundError:
            target = None
        if target is not None and stat.S_ISDIR(target.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if target is None or stat.S_ISREG(target.st_mode):
            flags |= os.O_CREAT | os.O_TRUNC
    fd = os.open(name, flags, 0o666, dir_fd=dir_fd)  # a FIFO, a device, /dev/stdout ...
    try:
        _write_payload(fd, payload)
    finally:
        os.close(fd)
