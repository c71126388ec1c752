"""The injectable clock: ARCHREVIEW_TODAY=YYYY-MM-DD fixes 'today' (tests, reproducible runs)."""

from __future__ import annotations

import os
from datetime import date


def today() -> date:
    fixed = os.environ.get("ARCHREVIEW_TODAY")
    if fixed:
        try:
            return date.fromisoformat(fixed.strip())
        except ValueError as err:
            raise ValueError(f"ARCHREVIEW_TODAY must be YYYY-MM-DD, not {fixed!r}") from err
    return date.today()
