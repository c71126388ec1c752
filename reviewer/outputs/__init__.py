"""Formatters: pure functions of a Report (and of rendering options, never of the engine).

Each format is a module `reviewer.outputs.<module>` with `render(report, options) -> str`; a
format whose output grows with the findings (JSON, SARIF) also has `render_to(report, options,
write)`, which hands the same text to `write` in pieces as it is made, so the command line can
stream a large report into its output instead of first holding it whole.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from reviewer.core.types import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False  # text: ANSI colours
    sarif_category: str = "archreview"  # SARIF runs[0].automationDetails.id
    include_suppressed: bool = False  # SARIF: keep suppressed results


Renderer = Callable[[Report, RenderOptions], str]
Streamer = Callable[[Report, RenderOptions, Callable[[str], object]], None]

# format name -> module below reviewer.outputs (one line per format)
MODULES: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "junit": "junit",
    "markdown": "markdown",
    "html": "html",
}

FORMATS: tuple[str, ...] = tuple(MODULES)


def renderer(name: str) -> Renderer:
    module = importlib.import_module(f"reviewer.outputs.{MODULES[name]}")
    render: Renderer = module.render
    return render


def whole(stream_to: Streamer, report: Report, options: RenderOptions | None) -> str:
    """What `stream_to` writes for the report, as one text (a streaming format's `render`)."""
    parts: list[str] = []
    stream_to(report, options or RenderOptions(), parts.append)
    return "".join(parts)


def streamer(name: str) -> Streamer | None:
    """The format's `render_to`, or None when it renders only whole."""
    module = importlib.import_module(f"reviewer.outputs.{MODULES[name]}")
    stream: Streamer | None = getattr(module, "render_to", None)
    return stream
