"""Formatters: pure functions of a Report."""

from __future__ import annotations

from collections.abc import Callable

from reviewer.model import Report

Renderer = Callable[[Report], str]


def renderer(name: str) -> Renderer:
    if name == "json":
        from reviewer.output.json_report import render

        return render
    if name == "text":
        from reviewer.output.text import render_plain

        return render_plain
    raise KeyError(name)


FORMATS = ("text", "json")
