"""archreview: architecture review for multi-module AWS repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__: str  # looked up on first use (importlib.metadata costs a tenth of a second)


def __getattr__(name: str) -> str:
    """`reviewer.__version__` for users; archreview's own modules ask reviewer.core.version."""
    if name != "__version__":
        raise AttributeError(f"module 'reviewer' has no attribute {name!r}")
    from reviewer.core.version import version

    globals()["__version__"] = found = version()
    return found


if TYPE_CHECKING:
    import os

    from reviewer.core.types import Report
    from reviewer.profile import Profile


def scan(path: str | os.PathLike[str], profile: Profile | None = None) -> Report:
    """Review a checkout with a profile; when None, the one the repository declares, found as
    the command line finds it (its .archreview.yml, else an agent definition it commits, else
    the built-in baseline: reviewer.profile.loader.resolve_profile). Raises
    reviewer.profile.loader.ProfileError for a .archreview.yml that cannot be used."""
    from pathlib import Path

    from reviewer.runner.engine import ScanOptions
    from reviewer.runner.engine import scan as _scan

    if profile is None:
        from reviewer.profile.loader import resolve_profile

        profile = resolve_profile(Path(path))
    return _scan(path, ScanOptions(profile=profile))


__all__ = ["__version__", "scan"]
