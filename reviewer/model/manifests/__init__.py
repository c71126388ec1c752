"""Declared-stack manifests: go.mod (``gomod``) and package.json (``npm``).

Both parsers read text only — nothing from a scanned repository is ever executed or imported —
and report the first problem as a :class:`ManifestError` carrying a 1-based line and column
(columns count Unicode code points, as Go's ``LineRune`` does), which the engine turns into an
AR-MOD-003 finding.
"""

from __future__ import annotations

import bisect
import posixpath
import re

__all__ = ["LineIndex", "ManifestError", "path_escapes_root"]


class ManifestError(Exception):
    """A manifest that cannot be parsed: ``message`` at 1-based ``line`` and ``column``."""

    message: str
    line: int
    column: int

    def __init__(self, message: str, line: int, column: int = 1) -> None:
        super().__init__(message, line, column)
        self.message = message
        self.line = max(1, line)
        self.column = max(1, column)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"

    def __reduce__(self) -> tuple[type[ManifestError], tuple[str, int, int]]:
        return (ManifestError, (self.message, self.line, self.column))


class LineIndex:
    """Offset in a text -> (line, column), both 1-based; lines end at "\\n", columns count code
    points."""

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        self.starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            self.starts.append(i + 1)
            i = find("\n", i + 1)

    def at(self, pos: int) -> tuple[int, int]:
        idx = bisect.bisect_right(self.starts, pos) - 1
        return idx + 1, pos - self.starts[idx] + 1


_DRIVE = re.compile(r"^[A-Za-z]:")


def path_escapes_root(path: str, manifest_dir: str, repo_root_rel: str = "") -> bool:
    """Whether ``path``, written in a manifest that lives in ``manifest_dir``, leaves the
    repository root ``repo_root_rel``.

    ``manifest_dir`` and ``repo_root_rel`` are posix paths relative to the same base (the scanned
    root); ``""`` or ``"."`` is that base itself.  ``path`` is taken as written in the manifest:
    backslashes count as separators (go.mod and package.json travel between systems), and an
    absolute path (``/x``, ``\\x``, ``C:x``, ``~/x``) always escapes.  The check is lexical: the
    path is normalised without touching the file system, so ``a/../../b`` escapes even if
    ``a`` does not exist.
    """
    p = path.replace("\\", "/")
    if p.startswith(("/", "~")) or _DRIVE.match(p):
        return True
    base = posixpath.normpath(manifest_dir.replace("\\", "/") or ".")
    target = posixpath.normpath(posixpath.join(base, p)) if p else base
    root = posixpath.normpath(repo_root_rel.replace("\\", "/") or ".")
    if root == ".":
        return target == ".." or target.startswith("../") or target.startswith("/")
    return not (target == root or target.startswith(root + "/"))
