"""archreview: architecture review for multi-module AWS repositories."""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

try:
    __version__ = metadata.version("archreview")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

if TYPE_CHECKING:
    import os

    from reviewer.model import Report
    from reviewer.profile import Profile


def scan(path: str | os.PathLike[str], profile: Profile | None = None) -> Report:
    """Review a checkout with a profile (the built-in default when None)."""
    from reviewer.engine import ScanOptions
    from reviewer.engine import scan as _scan
    from reviewer.profile import DEFAULT

    return _scan(path, ScanOptions(profile=profile or DEFAULT))


__all__ = ["__version__", "scan"]
