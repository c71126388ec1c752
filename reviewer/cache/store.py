"""The content-hash cache: signed pickles in a folder of the user's cache (or --cache-dir).

Entries are addressed by a key that digests everything their value depends on (file content,
path, archreview's version and code, the rules, the profile, the options); a changed input is a
different key, never a stale hit. Each entry is written atomically (a temporary file renamed
into place) and carries a MAC (keyed BLAKE2b) of its key and payload under a secret kept outside
the scanned tree (`$XDG_CACHE_HOME/archreview/secret`, or `ARCHREVIEW_CACHE_SECRET`): an entry
that comes with a repository — a pull request can add one — is never unpickled. A missing,
corrupt, truncated or unsigned entry is a miss, never an error.

Where it lives (docs/adr/0004): by default outside the scanned tree, in
`$XDG_CACHE_HOME/archreview/trees/<16 hex digits of the SHA-256 of the root's real path>`
(`default_cache_dir`). A `--cache-dir` outside the scanned tree is trusted as named; one inside
it is reached from the root one component at a time without following links. Below the folder,
everything is opened relative to descriptors archreview opened itself (`reviewer.core.safefs`), so a
link planted anywhere in it (a kind, a shard, an entry, the marker) is a miss with a notice,
never followed. The folder is archreview's when it carries a marker signed with the secret
(`archreview-cache.mark`, written when archreview makes the folder, finds it empty, or finds it
in its own folder of the user's cache); any other folder is not used at all. Nothing already in
the folder is ever replaced, and pruning removes only regular files named like entries whose
content verifies under the secret.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import hmac
import os
import pickle
import re
import secrets
import stat
import sys
import weakref
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from reviewer.core import safefs
from reviewer.discover.inventory import SKIP_DIRS, Skipped, read_text

DEFAULT_DIRNAME = ".archreview-cache"  # where earlier versions kept it, in the scanned tree
FORMAT = 2  # bump when the meaning of an entry changes
MARKER_NAME = "archreview-cache.mark"
MAX_ENTRY_BYTES = 1 << 30  # a larger file in the cache is not one of its entries
_MAGIC = b"ARC2"
_MAC_BYTES = 32
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_MARK_HEAD = b"archreview cache folder, format 2\n"
_KIND_RE = re.compile(r"^[a-z]{1,32}$")
_SHARD_RE = re.compile(r"^[0-9a-f]{2}$")
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")  # digest()'s SHA-256, in hex
_NOTICED: set[str] = set()  # folders already reported in this process
_SPLITS: dict[str, tuple[str, tuple[str, ...]]] = {}  # see _split


class Unhashable(Exception):
    """A value has no stable digest (an object shown by its address): do not cache."""


# -- digests ------------------------------------------------------------------------------------


def digest(*parts: Any) -> str:
    """A stable hex digest of plain values: the same input gives the same digest in every run
    (no hash randomisation, sets and mappings in sorted order, dataclasses field by field)."""
    h = hashlib.sha256()
    for part in parts:
        _feed(h, part)
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, bytes):
        h.update(b"bytes:%d:" % len(value) + value)
    elif isinstance(value, enum.Enum):
        h.update(f"enum:{type(value).__name__}.{value.name};".encode())
    elif isinstance(value, (date, datetime, PurePath)):
        h.update(f"{type(value).__name__}:{value};".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc:{type(value).__qualname__}(".encode())
        for f in dataclasses.fields(value):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(value, f.name))
        h.update(b")")
    elif isinstance(value, Mapping):
        h.update(b"map{")
        for key_digest, item in sorted((digest(k), v) for k, v in value.items()):
            h.update(key_digest.encode())
            _feed(h, item)
        h.update(b"}")
    elif isinstance(value, (set, frozenset)):
        h.update(b"set{" + ",".join(sorted(digest(v) for v in value)).encode() + b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"seq[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif callable(value):
        module = getattr(value, "__module__", None)
        name = getattr(value, "__qualname__", None)
        if not module or not name or "<" in name:
            raise Unhashable(repr(value))
        h.update(f"fn:{module}.{name};".encode())
    else:
        raise Unhashable(type(value).__name__)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache  # once per process: the installed code does not change under a scan
def code_fingerprint() -> str:
    """archreview's own code and data as installed: a file's path, size and modification time,
    for every file of the package and of the rule catalogue (a source checkout changes without
    a version bump)."""
    from reviewer.core.package import PACKAGE_DIR, rules_dir
    from reviewer.core.version import version

    entries: list[tuple[str, int, int]] = []
    for folder in (PACKAGE_DIR, rules_dir()):
        for current, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(current, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                entries.append((os.path.relpath(path, folder), st.st_size, st.st_mtime_ns))
    return digest(FORMAT, version(), sys.version, entries)


# -- the store ----------------------------------------------------------------------------------


def user_cache_dir() -> str | None:
    """archreview's folder in the user's cache (`$XDG_CACHE_HOME/archreview`, else
    `~/.cache/archreview`): the cache's secret, and the parsed rule catalogue. None when
    ARCHREVIEW_USER_CACHE=off."""
    if os.environ.get("ARCHREVIEW_USER_CACHE") == "off":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archreview")


def default_cache_dir(root: str | os.PathLike[str]) -> str | None:
    """The cache folder of a scanned tree when --cache-dir is not given: outside the tree, in
    the user's cache, one folder per checkout (`trees/` and the first 16 hex digits of the
    SHA-256 of the root's real path). None when the user's cache is off."""
    base = user_cache_dir()
    if base is None:
        return None
    name = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:16]
    return os.path.join(base, "trees", name)


def _secret() -> bytes | None:
    env = os.environ.get("ARCHREVIEW_CACHE_SECRET")
    if env:
        return env.encode("utf-8")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "archreview", "secret")
    try:
        with open(path, "rb") as fh:
            key = fh.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path + f".{os.getpid()}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        try:
            os.link(path + f".{os.getpid()}", path)  # first writer wins
        except FileExistsError:
            pass
        finally:
            os.unlink(path + f".{os.getpid()}")
        with open(path, "rb") as fh:
            key = fh.read()
        return key if len(key) >= 32 else None
    except OSError:
        return None


class Cache:
    """A folder of signed entries, `kind/ab/abcdef...` by key, all reached through descriptors.

    The folder is opened once (see the module docstring for where it may lie and what makes it
    archreview's); each kind's folder is opened below it and kept open, each shard and entry is
    opened below that, without following links. Anything unexpected on the way — a link, a
    non-folder where a folder belongs, another user's file, an entry archreview did not sign —
    is a miss, reported once per folder and process on stderr, never an error of the scan and
    never a write through it. Nothing that is already there is ever replaced, and pruning
    removes only regular files named like entries whose content carries this secret's MAC."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        secret: bytes | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.secret = secret if secret is not None else (_secret() or secrets.token_bytes(32))
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.used: set[str] = set()  # relative paths read or written in this scan
        self.anchor, self.parts = _split(self.directory, root)
        self._uid = os.geteuid()
        self._fds: dict[str, int] = {}  # "" -> the folder, kind -> its folder
        self._refused: set[str] = set()  # kinds whose folder is not usable
        self._off = False
        self._finalizer = weakref.finalize(self, _close_all, self._fds)

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
    ) -> Cache:
        """The cache in `directory`; `root` is the scanned tree (see the module docstring)."""
        return cls(Path(directory), root=root)

    def close(self) -> None:
        """Close the folder's descriptors (reopened by the next use)."""
        _close_all(self._fds)

    def _mac_object(self, key: str) -> Any:
        """Keyed BLAKE2b (a MAC by design, and twice as fast as HMAC-SHA256 on the large entries
        a warm scan reads), fed with the key; the payload follows."""
        secret = self.secret if len(self.secret) <= 64 else hashlib.sha256(self.secret).digest()
        mac = hashlib.blake2b(key=secret, digest_size=_MAC_BYTES, person=b"archreview")
        raw = key.encode()
        mac.update(len(raw).to_bytes(4, "big") + raw)
        return mac

    def _mac(self, key: str, payload: bytes | memoryview) -> bytes:
        """The entry's signature, over the key and the payload."""
        mac = self._mac_object(key)
        mac.update(payload)
        return bytes(mac.digest())

    def _marker(self) -> bytes:
        return _MARK_HEAD + self._mac(MARKER_NAME, _MARK_HEAD).hex().encode() + b"\n"

    # -- opening ---------------------------------------------------------------------------------
    def _notice(self, what: str) -> None:
        """One line on stderr, once per folder and process: a cache never fails a scan."""
        shown = os.fspath(self.directory)
        if shown in _NOTICED:
            return
        _NOTICED.add(shown)
        sys.stderr.write(f"archreview: notice: cache {shown}: {what}\n")

    def _disable(self, what: str) -> None:
        self._off = True
        self._notice(f"not used: {what}")

    def _folder(self) -> int | None:
        """The cache folder's descriptor: opened (made when missing) and checked once."""
        if self._off:
            return None
        fd = self._fds.get("")
        if fd is not None:
            return fd
        try:
            fd, made = self._open_folder()
        except safefs.UnsafePath as err:
            named = os.path.abspath(err.path) == os.path.abspath(self.directory)
            what = f"it {err.reason}" if named else str(err)
            self._disable(f"{what} (archreview does not follow it, nor write through it)")
            return None
        except OSError as err:
            self._disable(f"cannot be opened ({err.strerror or err})")
            return None
        try:
            owned = self._owned(fd, made)
        except safefs.UnsafePath as err:
            owned = f"{err} (archreview does not follow it)"
        except OSError as err:
            owned = f"its {MARKER_NAME} cannot be read or written ({err.strerror or err})"
        if owned is not None:
            os.close(fd)
            self._disable(owned)
            return None
        self._fds[""] = fd
        return fd

    def _open_folder(self) -> tuple[int, bool]:
        """(descriptor, whether archreview made the folder just now)."""
        if not self.parts:  # a folder outside the scanned tree: trusted as named
            try:
                return safefs.open_anchor(self.anchor), False
            except FileNotFoundError:
                return safefs.open_anchor(self.anchor, create=True, mode=0o700), True
        anchor = safefs.open_anchor(self.anchor)  # the scanned root, then no link below it
        try:
            parent = safefs.open_dir(
                anchor, self.parts[:-1], create=True, mode=0o700, label=self.anchor
            )
        finally:
            os.close(anchor)
        try:
            made = safefs.lstat_at(parent, self.parts[-1]) is None
            if made:
                os.mkdir(self.parts[-1], 0o700, dir_fd=parent)
            label = os.path.join(self.anchor, *self.parts[:-1])
            return safefs.open_dir(parent, self.parts[-1], label=label), made
        finally:
            os.close(parent)

    def _owned(self, fd: int, made: bool) -> str | None:
        """None when the folder is archreview's (its marker is signed with this secret), or is
        claimed now (made just now, empty, or in archreview's own folder of the user's cache);
        else why it is not used."""
        if os.fstat(fd).st_uid != self._uid:
            return "it belongs to another user"
        try:
            mark = safefs.read_file_at(fd, MARKER_NAME, max_bytes=4096, owner=self._uid)
        except FileNotFoundError:
            mark = None
        if mark is not None:
            if hmac.compare_digest(mark, self._marker()):
                return None
            return (
                f"its {MARKER_NAME} was written with another secret "
                "(delete the folder to start afresh)"
            )
        own = user_cache_dir()
        if not (made or _empty(fd) or (own is not None and safefs.within(self.directory, own))):
            return f"it is not archreview's (no {MARKER_NAME}); delete it or choose another --cache-dir"
        safefs.write_file_at(fd, MARKER_NAME, self._marker(), mode=0o600)  # first: it claims
        for name, text in (
            (".gitignore", "# archreview's cache (content-hash keyed; safe to delete)\n*\n"),
            ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# archreview\n"),
        ):
            if safefs.lstat_at(fd, name) is None:
                with contextlib.suppress(OSError):
                    safefs.write_file_at(fd, name, text, mode=0o600)
        return None

    def _kind(self, kind: str, *, create: bool) -> int | None:
        fd = self._fds.get(kind)
        if fd is not None:
            return fd
        if not _KIND_RE.match(kind) or kind in self._refused:
            return None
        folder = self._folder()
        if folder is None:
            return None
        try:
            fd = safefs.open_dir(folder, kind, create=create, mode=0o700, owner=self._uid)
        except FileNotFoundError:
            return None
        except (safefs.UnsafePath, OSError) as err:
            self._refused.add(kind)
            self._notice(f"{err}: a miss, nothing written through it")
            return None
        self._fds[kind] = fd
        return fd

    def _shard(self, kind: str, key: str, *, create: bool) -> int | None:
        """The shard folder of an entry (the caller closes it), or None."""
        if not _KEY_RE.match(key):
            return None
        kind_fd = self._kind(kind, create=create)
        if kind_fd is None:
            return None
        try:
            return safefs.open_dir(
                kind_fd, key[:2], create=create, mode=0o700, owner=self._uid, label=kind
            )
        except FileNotFoundError:
            return None
        except (safefs.UnsafePath, OSError) as err:
            self._notice(f"{err}: a miss, nothing written through it")
            return None

    # -- entries ---------------------------------------------------------------------------------
    def get_blob(self, kind: str, key: str) -> memoryview | None:
        """The verified payload of an entry, or None."""
        shard = self._shard(kind, key, create=False)
        if shard is None:
            self.misses += 1
            return None
        name = f"{kind}/{key[:2]}/{key}"
        try:
            data = safefs.read_file_at(shard, key, max_bytes=MAX_ENTRY_BYTES, owner=self._uid)
        except FileNotFoundError:
            data = None
        except safefs.UnsafePath as err:
            self._notice(f"{name} {err.reason}: a miss")
            data = None
        except OSError:
            data = None
        finally:
            os.close(shard)
        if data is None:
            self.misses += 1
            return None
        head = len(_MAGIC) + _MAC_BYTES
        payload = memoryview(data)[head:]
        if not (
            data.startswith(_MAGIC)
            and len(data) >= head
            and hmac.compare_digest(data[len(_MAGIC) : head], self._mac(key, payload))
        ):
            self._notice(f"{name} is not an entry signed with this cache's secret: a miss")
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(name)
        return payload

    def get(self, kind: str, key: str) -> Any:
        """The unpickled value of an entry, or None (missing, unsigned or corrupt)."""
        payload = self.get_blob(kind, key)
        if payload is None:
            return None
        try:
            return pickle.loads(payload)
        except Exception:
            self.hits -= 1
            self.misses += 1
            return None

    def put_blob(self, kind: str, key: str, payload: bytes) -> None:
        """Write an entry atomically, unless something already has its name (an entry another
        process wrote meanwhile, or a file that is not archreview's: never replaced). A cache
        that cannot be written is skipped, with a notice."""
        shard = self._shard(kind, key, create=True)
        if shard is None:
            return
        name = f"{kind}/{key[:2]}/{key}"
        try:
            if safefs.lstat_at(shard, key) is not None:
                self.used.add(name)  # never pruned by this scan, never replaced
                return
            safefs.write_file_at(
                shard, key, (_MAGIC + self._mac(key, payload), payload), mode=0o600
            )
        except OSError as err:
            self._notice(f"{name} could not be written ({err.strerror or err})")
            return
        finally:
            os.close(shard)
        self.writes += 1
        self.used.add(name)

    def put(self, kind: str, key: str, value: Any) -> None:
        try:
            payload = pickle.dumps(value, _PROTOCOL)
        except Exception:
            return
        self.put_blob(kind, key, payload)

    # -- pruning ---------------------------------------------------------------------------------
    def prune(self, kinds: tuple[str, ...], *, whole: tuple[str, ...] = (), keep: int = 2) -> int:
        """Remove entries this scan did not use: of each of `kinds` (per file: old versions of
        edited files) once they outnumber the used ones; of each of `whole` (per scan: large)
        all but the `keep` most recent. Only in a folder carrying this secret's marker, and only
        regular files named like entries whose content verifies (magic and MAC): nothing else
        is ever removed. Returns how many were removed."""
        removed = 0
        for kind in (*kinds, *whole):
            kind_fd = self._kind(kind, create=False)
            if kind_fd is None:
                continue
            stale: list[tuple[int, str, str, os.stat_result]] = []
            used = 0
            try:
                with os.scandir(kind_fd) as listing:
                    shards = sorted(
                        e.name
                        for e in listing
                        if _SHARD_RE.match(e.name) and e.is_dir(follow_symlinks=False)
                    )
            except OSError:
                continue
            for shard in shards:
                for name, st in self._entries(kind_fd, kind, shard):
                    if f"{kind}/{shard}/{name}" in self.used:
                        used += 1
                    else:
                        stale.append((st.st_mtime_ns, shard, name, st))
            if kind in kinds and len(stale) <= used:
                continue
            stale.sort(key=lambda item: item[:3])
            doomed = stale if kind in kinds else stale[: max(0, len(stale) - keep)]
            for _, shard, name, st in doomed:
                removed += self._remove(kind_fd, kind, shard, name, st)
        return removed

    def _entries(self, kind_fd: int, kind: str, shard: str) -> list[tuple[str, os.stat_result]]:
        """The regular files of a shard named like its entries, owned by us, single-linked."""
        try:
            fd = safefs.open_dir(kind_fd, shard, owner=self._uid, label=kind)
        except (safefs.UnsafePath, OSError) as err:
            self._notice(f"{err}: not pruned")
            return []
        found: list[tuple[str, os.stat_result]] = []
        try:
            with os.scandir(fd) as listing:
                for entry in listing:
                    if not (_KEY_RE.match(entry.name) and entry.name.startswith(shard)):
                        continue  # a temporary file, or something that is not an entry
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode) and st.st_uid == self._uid and st.st_nlink == 1:
                        found.append((entry.name, st))
        except OSError:
            pass
        finally:
            os.close(fd)
        return found

    def _remove(self, kind_fd: int, kind: str, shard: str, key: str, seen: os.stat_result) -> int:
        """Unlink one stale entry after checking, through a descriptor opened without following
        links, that it is still the file listed and that its content is signed by us."""
        try:
            shard_fd = safefs.open_dir(kind_fd, shard, owner=self._uid, label=kind)
        except (safefs.UnsafePath, OSError):
            return 0
        try:
            fd = os.open(key, safefs.READ_FLAGS, dir_fd=shard_fd)
            try:
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino) or st.st_nlink != 1:
                    return 0
                if not self._verify(fd, key):
                    self._notice(
                        f"{kind}/{shard}/{key} is not signed with this cache's secret: kept"
                    )
                    return 0
            finally:
                os.close(fd)
            return int(safefs.unlink_at(shard_fd, key, expect=seen))
        except OSError:
            return 0
        finally:
            os.close(shard_fd)

    def _verify(self, fd: int, key: str) -> bool:
        """Whether the open entry carries the magic and a valid MAC (read in blocks)."""
        head = b""
        want = len(_MAGIC) + _MAC_BYTES
        while len(head) < want:
            chunk = os.read(fd, want - len(head))
            if not chunk:
                return False
            head += chunk
        if not head.startswith(_MAGIC):
            return False
        mac = self._mac_object(key)
        while chunk := os.read(fd, 1 << 20):
            mac.update(chunk)
        return hmac.compare_digest(head[len(_MAGIC) :], mac.digest())


def forget_notices() -> None:
    """Report each cache folder's anomalies again (they are reported once per process)."""
    _NOTICED.clear()


def _close_all(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


def _empty(fd: int) -> bool:
    with os.scandir(fd) as listing:
        return next(listing, None) is None


def _split(directory: Path, root: str | os.PathLike[str] | None) -> tuple[str, tuple[str, ...]]:
    """(trusted anchor, components walked without following links) for a cache folder: below
    the scanned `root` when it lies inside it, else the folder itself. A folder once opened with
    its root keeps that split for later opens in the process that do not know the root (the
    base cache of PR mode)."""
    path = os.path.abspath(directory)
    if root is None:
        return _SPLITS.get(path, (path, ()))
    inside = safefs.within(path, root)
    split = inside if inside is not None and inside[1] else (path, ())  # the root: as named
    _SPLITS[path] = split
    return split


# -- what a scan reads, for keys ------------------------------------------------------------

_READ: dict[tuple[str, str, int], str | Skipped] = {}  # reads kept by remember_reads()
_LISTINGS: dict[tuple[str, str | None], str] = {}


def remember_reads(root: Path, rel: str, max_bytes: int) -> str | Skipped:
    """`read_text`, kept for the scan that follows in this process: the command line reads
    every file to key its output replay, and on a miss the scan must not read them again.
    Kept only until that scan starts loading (forget_reads), so a later scan in the same
    process never sees a stale text."""
    text = read_text(root, rel, max_bytes)
    _READ[(os.fspath(root), rel, max_bytes)] = text
    return text


def read_once(root: Path, rel: str, max_bytes: int) -> str | Skipped:
    found = _READ.pop((os.fspath(root), rel, max_bytes), None)
    return found if found is not None else read_text(root, rel, max_bytes)


def forget_reads() -> None:
    from reviewer.discover.inventory import forget_kept

    _READ.clear()
    _LISTINGS.clear()
    forget_kept()


def tree_listing(root: Path, skip: Path | None, *, remember: bool = False) -> str:
    """`_tree_listing`; with `remember`, kept for the next call in this process (until
    forget_reads)."""
    key = (os.path.abspath(root), os.path.abspath(skip) if skip is not None else None)
    found = _LISTINGS.pop(key, None)
    if found is None:
        found = _tree_listing(root, skip)
    if remember:
        _LISTINGS[key] = found
    return found


def _tree_listing(root: Path, skip: Path | None) -> str:
    """A digest of every path under the root (folders skipped by discovery left out, and the
    cache folder): the repository checks look at file names beyond the inventory (tests,
    lockfiles, ADRs), so a file added or removed anywhere is a different key."""
    skip_name = os.path.basename(os.path.normpath(skip)) if skip is not None else None
    skip_real = os.path.realpath(skip) if skip is not None else None
    names: list[str] = []
    stack = [(os.fspath(root), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            names.append(rel + "/?")
            continue
        names.append(rel + "/")
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if not is_dir:
                names.append(f"{rel}/{entry.name}")
            elif entry.name in SKIP_DIRS or (
                entry.name == skip_name and os.path.realpath(entry.path) == skip_real
            ):
                continue
            else:
                subfolders.append((entry.path, f"{rel}/{entry.name}"))
        stack.extend(reversed(subfolders))
    return digest(names)
