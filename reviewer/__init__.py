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
        version = "0.2.0"
    globals()["__version__"] = version
    return version


if TYPE_CHECKING:
    import os

    from reviewer.model import Report
    from reviewer.profile import Profile


def scan(path: str | os.PathLike[str], profile: Profile | None = None) -> Report:
    """Review a checkout with a profile; when None, the one the repository declares, found as
    the command line finds it (its .archreview.yml, else an agent definition it commits, else
    the built-in baseline: reviewer.profile_loader.resolve_profile). Raises
    reviewer.profile_loader.ProfileError for a .archreview.yml that cannot be used."""
    from pathlib import Path

    from reviewer.engine import ScanOptions
    from reviewer.engine import scan as _scan

    if profile is None:
        from reviewer.profile_loader import resolve_profile

        profile = resolve_profile(Path(path))
    return _scan(path, ScanOptions(profile=profile))


__all__ = ["__version__", "scan"]
