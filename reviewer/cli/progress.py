"""A progress bar on stderr for long scans: shown only on a terminal, only once a scan has run
for a moment, and wiped when it ends, so short scans, pipes, CI logs and --quiet stay clean.

The engine reports `(done, total)` through `ScanOptions.progress`; `ProgressBar` draws it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_DELAY = 0.5  # seconds before the bar appears: faster scans never show one
_DELAY_ENV = "ARCHREVIEW_PROGRESS_DELAY"
_CLEAR = "\r\x1b[K"


def wanted(stream: TextIO) -> bool:
    """A bar goes to `stream` only when it is a terminal that can redraw a line."""
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def delay_from_env() -> float:
    """ARCHREVIEW_PROGRESS_DELAY=SECONDS overrides how long a scan runs before the bar shows."""
    raw = os.environ.get(_DELAY_ENV)
    if raw is None:
        return DEFAULT_DELAY
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_DELAY


class ProgressBar:
    """Callable as `bar(done, total)`; `close()` wipes the line it drew (if it drew one)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        label: str = "reviewing templates",
        delay: float = DEFAULT_DELAY,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        self.stream = stream
        self.label = label
        self.delay = delay
        self.clock = clock
        self.width = width
        self.started = clock()
        self.shown = False
        self._last = ""

    def _columns(self) -> int:
        if self.width is not None:
            return self.width
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            import shutil  # only off a terminal, with no width given

            return shutil.get_terminal_size().columns

    def line(self, done: int, total: int) -> str:
        """The bar as text, fitted to the terminal width."""
        total = max(total, 1)
        done = min(max(done, 0), total)
        counter = f" {done}/{total}"
        columns = max(self._columns() - 1, 20)  # never write into the last column
        room = columns - len(self.label) - len(counter) - 3
        if room < 10:
            return f"{self.label}{counter}"[:columns]
        filled = room * done // total
        return f"{self.label} [{'#' * filled}{'-' * (room - filled)}]{counter}"

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and self.clock() - self.started < self.delay:
            return
        text = self.line(done, total)
        if text == self._last:
            return
        self.shown = True
        self._last = text
        self.stream.write(_CLEAR + text)
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.shown = False
            self._last = ""


def progress_for(stream: TextIO, *, quiet: bool = False) -> ProgressBar | None:
    """The bar for a scan reporting to `stream`, or None (quiet, or not a terminal)."""
    if quiet or not wanted(stream):
        return None
    return ProgressBar(stream, delay=delay_from_env())
