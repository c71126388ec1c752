"""The content-hash cache: signed pickles under `.archreview-cache/` (or --cache-dir).

Entries are addressed by a key that digests everything their value depends on (file content,
path, archreview's version and code, the rules, the profile, the options); a changed input is a
different key, never a stale hit. Each entry is written atomically (a temporary file renamed
into place) and carries a MAC (keyed BLAKE2b) of its key and payload under a secret kept outside the scanned tree
(`$XDG_CACHE_HOME/archreview/secret`, or `ARCHREVIEW_CACHE_SECRET`): a cache directory that
comes with a repository — a pull request can add one — is never unpickled. A missing, corrupt,
truncated or unsigned entry is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from reviewer.discover import SKIP_DIRS, Skipped, read_text

DEFAULT_DIRNAME = ".archreview-cache"
FORMAT = 2  # bump when the meaning of an entry changes
_MAGIC = b"ARC2"
_MAC_BYTES = 32
_PROTOCOL = pickle.HIGHEST_PROTOCOL


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


def code_fingerprint() -> str:
    """archreview's own code and data as installed: a file's path, size and modification time,
    for every file of the package and of the rule catalogue (a source checkout changes without
    a version bump)."""
    from reviewer import __version__
    from reviewer.catalogue import rules_dir

    package = Path(__file__).resolve().parent
    entries: list[tuple[str, int, int]] = []
    for folder in (package, rules_dir()):
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
    return digest(FORMAT, __version__, sys.version, entries)


# -- the store ----------------------------------------------------------------------------------


def user_cache_dir() -> str | None:
    """archreview's folder in the user's cache (`$XDG_CACHE_HOME/archreview`, else
    `~/.cache/archreview`): the cache's secret, and the parsed rule catalogue. None when
    ARCHREVIEW_USER_CACHE=off."""
    if os.environ.get("ARCHREVIEW_USER_CACHE") == "off":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archreview")


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
    """A directory of signed entries, `kind/ab/abcdef...` by key."""

    def __init__(self, directory: Path, secret: bytes | None = None) -> None:
        self.directory = directory
        self.secret = secret if secret is not None else (_secret() or secrets.token_bytes(32))
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.used: set[str] = set()  # relative paths read or written in this scan

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> Cache:
        return cls(Path(directory))

    def _mac(self, key: str, payload: bytes | memoryview) -> bytes:
        """The entry's signature: keyed BLAKE2b (a MAC by design, and twice as fast as
        HMAC-SHA256 on the large entries a warm scan reads) over the key and the payload."""
        secret = self.secret if len(self.secret) <= 64 else hashlib.sha256(self.secret).digest()
        mac = hashlib.blake2b(key=secret, digest_size=_MAC_BYTES, person=b"archreview")
        raw = key.encode()
        mac.update(len(raw).to_bytes(4, "big") + raw)
        mac.update(payload)
        return mac.digest()

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / key

    def get_blob(self, kind: str, key: str) -> memoryview | None:
        """The verified payload of an entry, or None."""
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            self.misses += 1
            return None
        head = len(_MAGIC) + _MAC_BYTES
        payload = memoryview(data)[head:]
        mac = self._mac(key, payload)
        if not data.startswith(_MAGIC) or not hmac.compare_digest(data[len(_MAGIC) : head], mac):
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(f"{kind}/{key[:2]}/{key}")
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
        """Write an entry atomically; a cache that cannot be written is silently skipped."""
        path = self._path(kind, key)
        mac = self._mac(key, payload)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        try:
            if not path.parent.is_dir():
                self._mark_directory()
                path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(_MAGIC + mac + payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self.writes += 1
        self.used.add(f"{kind}/{key[:2]}/{key}")

    def _mark_directory(self) -> None:
        """A new cache folder says what it is: git ignores it (it sits in the scanned tree by
        default) and backup tools may skip it (CACHEDIR.TAG)."""
        if self.directory.is_dir():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in (
            (".gitignore", "# archreview's cache (content-hash keyed; safe to delete)\n*\n"),
            ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# archreview\n"),
        ):
            with contextlib.suppress(OSError):
                (self.directory / name).write_text(text, encoding="utf-8")

    def put(self, kind: str, key: str, value: Any) -> None:
        try:
            payload = pickle.dumps(value, _PROTOCOL)
        except Exception:
            return
        self.put_blob(kind, key, payload)

    def prune(self, kinds: tuple[str, ...], *, whole: tuple[str, ...] = (), keep: int = 2) -> int:
        """Remove entries this scan did not use: of each of `kinds` (per file: old versions of
        edited files) once they outnumber the used ones; of each of `whole` (per scan: large)
        all but the `keep` most recent. Returns how many were removed."""
        removed = 0
        for kind in (*kinds, *whole):
            stale: list[tuple[int, Path]] = []
            used = 0
            base = self.directory / kind
            try:
                shards = list(os.scandir(base))
            except OSError:
                continue
            for shard in shards:
                try:
                    entries = list(os.scandir(shard.path))
                except OSError:
                    continue
                for entry in entries:
                    if f"{kind}/{shard.name}/{entry.name}" in self.used:
                        used += 1
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISREG(st.st_mode):
                        stale.append((st.st_mtime_ns, Path(entry.path)))
            if kind in kinds and len(stale) <= used:
                continue
            stale.sort()
            doomed = stale if kind in kinds else stale[: max(0, len(stale) - keep)]
            for _, path in doomed:
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    continue
        return removed


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
    from reviewer.discover import forget_kept

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
