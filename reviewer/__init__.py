"""archreview: architecture review for multi-module AWS repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__: str  # looked up on first use (importlib.metadata costs a tenth of a second)


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'reviewer' has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("archreview")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "0.1.0"
    globals()["__version__"] = version
    return version


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
