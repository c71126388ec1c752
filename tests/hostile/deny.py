"""Unreadable files for a process running as root, which chmod 000 does not stop.

``install(paths)`` makes the listed files and folders (absolute paths) behave in this process
as they would for an ordinary user after ``chmod 000``: opening one (or anything below a
listed folder) raises PermissionError, listing a listed folder raises PermissionError, and
``stat`` of anything below a listed folder does too. Paths are compared after resolving
links, and a ``dir_fd`` or a descriptor is resolved through /proc/self/fd, so the
simulation also holds for openat-style code.

Run as a program (``python -I -c 'from tests.hostile.deny import main; main()' scan ...``)
it installs the paths from the HOSTILE_DENY environment variable (a JSON list) and then runs
archreview's command line.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import threading
from collections.abc import Iterable
from typing import Any

_state = threading.local()


def _busy() -> bool:
    return bool(getattr(_state, "busy", False))


class _Denied:
    def __init__(self, paths: Iterable[str | bytes]) -> None:
        self.paths = [os.fsencode(os.path.realpath(p)) for p in paths]

    def _resolve(self, path: Any, dir_fd: int | None = None) -> bytes | None:
        if isinstance(path, int):
            try:
                return os.fsencode(os.readlink(f"/proc/self/fd/{path}"))
            except OSError:
                return None
        try:
            raw = os.fsencode(path)
        except TypeError:
            return None
        if dir_fd is not None and not raw.startswith(b"/"):
            try:
                raw = os.fsencode(os.readlink(f"/proc/self/fd/{dir_fd}")) + b"/" + raw
            except OSError:
                return None
        return os.fsencode(os.path.realpath(raw))

    def hit(self, path: Any, dir_fd: int | None = None, *, inside_only: bool = False) -> bool:
        """`path` is a listed path (unless inside_only) or lies below a listed folder."""
        if _busy():
            return False
        _state.busy = True
        try:
            real = self._resolve(path, dir_fd)
        finally:
            _state.busy = False
        if real is None:
            return False
        for denied in self.paths:
            if real.startswith(denied + b"/") or (not inside_only and real == denied):
                return True
        return False


def _error(path: Any) -> PermissionError:
    return PermissionError(
        13, "Permission denied", os.fsdecode(path) if not isinstance(path, int) else str(path)
    )


def install(paths: Iterable[str | bytes]) -> None:
    denied = _Denied(paths)
    if not denied.paths:
        return
    real_open, real_io_open = os.open, io.open
    real_scandir, real_listdir = os.scandir, os.listdir
    real_stat, real_lstat = os.stat, os.lstat

    def deny_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if denied.hit(path, dir_fd):
            raise _error(path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def deny_io_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int) and denied.hit(file):
            raise _error(file)
        return real_io_open(file, *args, **kwargs)

    def deny_scandir(path: Any = ".") -> Any:
        if denied.hit(path):
            raise _error(path)
        return real_scandir(path)

    def deny_listdir(path: Any = ".") -> list[Any]:
        if denied.hit(path):
            raise _error(path)
        return real_listdir(path)

    def deny_stat(path: Any, *, dir_fd: int | None = None, follow_symlinks: bool = True) -> Any:
        if not isinstance(path, int) and denied.hit(path, dir_fd, inside_only=True):
            raise _error(path)
        return real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    def deny_lstat(path: Any, *, dir_fd: int | None = None) -> Any:
        if denied.hit(path, dir_fd, inside_only=True):
            raise _error(path)
        return real_lstat(path, dir_fd=dir_fd)

    os.open = deny_open
    io.open = deny_io_open
    builtins.open = deny_io_open
    os.scandir = deny_scandir
    os.listdir = deny_listdir
    os.stat = deny_stat
    os.lstat = deny_lstat


def main() -> None:
    install(json.loads(os.environ.get("HOSTILE_DENY", "[]")))
    from reviewer.cli.main import run

    run()
