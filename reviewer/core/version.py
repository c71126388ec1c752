"""archreview's version, looked up once.

importlib.metadata costs a few hundredths of a second to import (zipfile, email, csv ...), and
every scan asks for the version (the cache keys, the reports' tool version). The version is
read here from the installed distribution's METADATA as importlib.metadata finds it: the
first `archreview-*.dist-info` (or `.egg-info`) folder along sys.path. Anything out of the
ordinary (a zip on the path, two installs side by side, a file without a Version header) is
left to importlib.metadata itself, so the answer is always the one it gives.
"""

from __future__ import annotations

import functools
import os
import re
import sys

DISTRIBUTION = "archreview"
FALLBACK = "0.2.0"  # running from a source tree: no installed distribution


@functools.cache
def version() -> str:
    found = installed_version(sys.path)
    if found is not None:
        return found
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a source tree
        return FALLBACK


def installed_version(path: list[str]) -> str | None:
    """The Version header of the first archreview distribution metadata folder in the folders
    of `path` (sys.path), in their order; None when the quick look cannot be sure (no folder
    found, a path entry that is a file such as a zip, several candidates in one folder, no
    Version header), and importlib.metadata is asked instead."""
    for entry in path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return None  # a zip on the path: importlib.metadata reads inside it
        except OSError:
            continue  # not there: importlib.metadata skips it too
        matches = [n for n in names if _is_metadata_dir(n)]
        if not matches:
            continue
        if len(matches) > 1:
            return None
        return _version_header(os.path.join(folder, matches[0]))
    return None


_NORMALISE = re.compile(r"[-_.]+")


def _is_metadata_dir(name: str) -> bool:
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in ("dist-info", "egg-info"):
        return False
    project = stem.partition("-")[0]
    return _NORMALISE.sub("_", project).lower() == DISTRIBUTION


def _version_header(folder: str) -> str | None:
    """The Version header of a .dist-info folder's METADATA (an .egg-info's PKG-INFO)."""
    name = "PKG-INFO" if folder.lower().endswith(".egg-info") else "METADATA"
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    return None  # the headers end at the first blank line
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() == "version":
                    return value.strip() or None
    except (OSError, UnicodeDecodeError):
        return None
    return None
