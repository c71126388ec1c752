"""archreview's version, looked up once (importlib.metadata costs a tenth of a second)."""

from __future__ import annotations

import functools


@functools.cache
def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("archreview")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.2.0"
