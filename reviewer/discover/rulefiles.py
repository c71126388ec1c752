"""Finding and reading a repository's own rule files (the custom rules of issue 21).

Rule files live in ``.archreview/rules/*.yaml`` (and ``*.yml``) and at the paths the profile
lists (``rules: [paths]`` in .archreview.yml: files, or folders of rule files). They are
untrusted input like templates: read through reviewer.core.safefs (no link is followed, nothing
outside the checkout is read, a size cap applies). This module only reads their bytes and
digests them; reviewer.checks.custom parses them. It is kept apart from the rule language so
that the command line can key its output replay on the rule files (`rules_digest`) without
importing the language, its pattern engine or the checks.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from reviewer.core.safefs import UnsafePath, open_anchor, open_dir, read_file_at
from reviewer.core.typed import InputError

__all__ = [
    "MAX_RULE_BYTES",
    "MAX_RULE_FILES",
    "RULES_DIR",
    "SUFFIXES",
    "RuleFileError",
    "digest_rules",
    "read_rules",
    "rules_digest",
]

# -- bounds (counted, never timed) -----------------------------------------------------------------
MAX_RULE_BYTES = 64 * 1024  # one rule file
MAX_RULE_FILES = 200  # rule files read for one repository

RULES_DIR = (".archreview", "rules")
SUFFIXES = (".yaml", ".yml")


class RuleFileError(InputError):
    """A rule file that cannot be used: ``message`` at ``file``:``line`` with a suggestion.
    The command line exits 2 with ``file:line: message (did you mean ...?)``."""

    @classmethod
    def of(cls, err: InputError) -> RuleFileError:
        return cls(err.message, err.file, err.line, err.column, err.suggestion)

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{self.file}:{self.line}: {self.message}{hint}"


def rules_digest(root: Path, extra: tuple[str, ...] = ()) -> str:
    """The digest of the rule files of the repository at `root` (`extra`: the profile's
    `rules:` paths), from their bytes alone: what reviewer.checks.custom.load_custom_rules
    gives them (CustomRules.digest), "" when there are none. Raises RuleFileError when they
    cannot be read."""
    texts = read_rules(root, extra)
    return digest_rules(texts) if texts else ""


def digest_rules(texts: Iterable[tuple[str, bytes]]) -> str:
    """Of every rule file's path and bytes."""
    digest = hashlib.sha256()
    for path, data in texts:
        digest.update(len(path.encode("utf-8", "surrogateescape")).to_bytes(4, "big"))
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def read_rules(root: Path, extra: tuple[str, ...] = ()) -> list[tuple[str, bytes]]:
    """(repository-relative path, bytes) of every rule file, sorted by path. Raises
    RuleFileError for a path that leaves the repository, a link, or a file over the cap."""
    found: dict[str, bytes] = {}
    try:
        anchor = open_anchor(root)
    except OSError:  # the root itself cannot be opened: discovery says so
        return []
    try:
        _read_folder(anchor, RULES_DIR, found, missing_ok=True)
        for raw in extra:
            parts = _parts(raw)
            if not parts:
                continue
            try:
                parent = open_dir(anchor, parts[:-1]) if parts[:-1] else os.dup(anchor)
            except FileNotFoundError:
                raise RuleFileError(
                    f"rule path {raw!r} does not exist", ".archreview.yml"
                ) from None
            except (UnsafePath, OSError) as err:
                raise RuleFileError(f"rule path {raw!r}: {err}", ".archreview.yml") from None
            try:
                st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                raise RuleFileError(
                    f"rule path {raw!r} does not exist", ".archreview.yml"
                ) from None
            finally:
                os.close(parent)
            if stat.S_ISDIR(st.st_mode):
                _read_folder(anchor, parts, found, missing_ok=False)
            else:
                _read_one(anchor, parts, found)
    finally:
        os.close(anchor)
    return sorted(found.items())


def _parts(raw: str) -> tuple[str, ...]:
    if raw.startswith("/") or "\0" in raw:
        raise RuleFileError(
            f"rule path {raw!r} must be relative to the repository", ".archreview.yml"
        )
    parts = tuple(p for p in raw.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise RuleFileError(f"rule path {raw!r} leaves the repository", ".archreview.yml")
    return parts


def _read_folder(
    anchor: int, parts: tuple[str, ...], found: dict[str, bytes], *, missing_ok: bool
) -> None:
    shown = "/".join(parts)
    try:
        fd = open_dir(anchor, parts)
    except FileNotFoundError:
        if missing_ok:
            return
        raise RuleFileError(f"rule folder {shown} does not exist", shown) from None
    except (UnsafePath, OSError) as err:
        raise RuleFileError(f"rule folder {shown}: {err}", shown) from None
    try:
        try:
            names = sorted(n for n in os.listdir(fd) if n.endswith(SUFFIXES))
        except OSError as err:
            raise RuleFileError(
                f"rule folder {shown} cannot be listed: {err.strerror}", shown
            ) from None
        if len(names) + len(found) > MAX_RULE_FILES:
            raise RuleFileError(f"more than {MAX_RULE_FILES} rule files", shown)
        for name in names:
            path = f"{shown}/{name}"
            found[path] = _read_at(fd, name, path)
    finally:
        os.close(fd)


def _read_one(anchor: int, parts: tuple[str, ...], found: dict[str, bytes]) -> None:
    path = "/".join(parts)
    try:
        fd = open_dir(anchor, parts[:-1]) if parts[:-1] else os.dup(anchor)
    except (UnsafePath, OSError) as err:
        raise RuleFileError(f"rule file {path}: {err}", path) from None
    try:
        if len(found) + 1 > MAX_RULE_FILES:
            raise RuleFileError(f"more than {MAX_RULE_FILES} rule files", path)
        found[path] = _read_at(fd, parts[-1], path)
    finally:
        os.close(fd)


def _read_at(fd: int, name: str, path: str) -> bytes:
    try:
        return read_file_at(fd, name, max_bytes=MAX_RULE_BYTES, label=os.path.dirname(path))
    except UnsafePath as err:
        raise RuleFileError(f"the rule file cannot be read: {err}", path) from None
    except OSError as err:
        raise RuleFileError(f"the rule file cannot be read: {err.strerror or err}", path) from None
