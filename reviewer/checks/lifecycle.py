"""The dated lifecycle table (reviewer/data/lifecycle.yaml): AWS services, database engine
versions and toolchains past their end of support, loaded once. Checks compare the dates with
the scan's clock; nothing here reads the clock or the repository."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from reviewer.core.datafile import load_yaml


@dataclass(frozen=True)
class Retired:
    """One dated end of support: what it is, when it ended, what to move to, and where the
    date comes from."""

    name: str
    end: date
    successor: str
    source: str
    extended_support: bool = True  # engines: RDS Extended Support exists for this version


@dataclass(frozen=True)
class Lifecycle:
    taken: date  # when the facts were taken (the table's `date:`)
    services: tuple[tuple[frozenset[str], Retired], ...]  # resource types -> retirement
    engines: tuple[tuple[str, str, Retired], ...]  # (engine, major or "*", retirement)
    go_released: tuple[tuple[tuple[int, int], date], ...]  # ((1, minor), release date), ascending
    go_source: str
    node_eol: tuple[tuple[int, date], ...]  # (major, end of life), ascending
    node_source: str

    def service(self, resource_type: str) -> Retired | None:
        for types, retired in self.services:
            if resource_type in types:
                return retired
        return None

    def engine(self, engine: str, version: str | None) -> Retired | None:
        """The retirement of an engine version, by its major part; None when not listed."""
        engine = engine.lower()
        major = engine_major(engine, version) if version is not None else None
        for name, wanted, retired in self.engines:
            if name == engine and (wanted == "*" or (major is not None and wanted == major)):
                return retired
        return None

    def go_end(self, minor: int) -> date | None:
        """The date Go 1.<minor> stopped (or will stop) being supported: the release date of Go
        1.<minor+2>; for a release older than the table, the third listed release's date (it
        ended no later than that). None when the table does not know yet."""
        released = dict(self.go_released)
        end = released.get((1, minor + 2))
        if end is not None:
            return end
        if self.go_released and (1, minor) < self.go_released[0][0]:
            return self.go_released[min(2, len(self.go_released) - 1)][1]
        return None

    def go_supported(self, today: date) -> tuple[str, ...]:
        """The two newest Go releases out on `today`, newest first."""
        out = [f"{k[0]}.{k[1]}" for k, day in self.go_released if day <= today]
        return tuple(reversed(out[-2:]))


_MAJOR = {
    "mysql": re.compile(r"(\d+\.\d+)"),
    "aurora-mysql": re.compile(r"(\d+\.\d+)"),
    "mariadb": re.compile(r"(\d+\.\d+)"),
    "postgres": re.compile(r"(9\.\d+|\d+)"),
    "aurora-postgresql": re.compile(r"(9\.\d+|\d+)"),
}


def engine_major(engine: str, version: str) -> str | None:
    """The major part of an EngineVersion ("5.7" of 5.7.44 and 5.7.mysql_aurora.2.11.2, "12" of
    12.19, "9.6" of 9.6.24); None when the version does not start with one."""
    pattern = _MAJOR.get(engine.lower())
    if pattern is None:
        return None
    m = pattern.match(version.strip())
    return m.group(1) if m else None


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _retired(entry: dict[str, Any]) -> Retired:
    return Retired(
        str(entry["name"]),
        _day(entry["end"]),
        str(entry["successor"]),
        str(entry["source"]),
        bool(entry.get("extended_support", True)),
    )


def _minor(key: Any) -> tuple[int, int]:
    major, minor = str(key).split(".")
    return int(major), int(minor)


@functools.cache
def lifecycle() -> Lifecycle:
    """reviewer/data/lifecycle.yaml, parsed and checked once."""
    text = resources.files("reviewer").joinpath("data", "lifecycle.yaml").read_text("utf-8")
    data = load_yaml(text)
    services = tuple(
        (frozenset(str(t) for t in entry["types"]), _retired(entry)) for entry in data["services"]
    )
    engines = tuple(
        (str(entry["engine"]).lower(), str(entry["major"]), _retired(entry))
        for entry in data["engines"]
    )
    go = data["toolchains"]["go"]
    node = data["toolchains"]["node"]
    return Lifecycle(
        taken=_day(data["date"]),
        services=services,
        engines=engines,
        go_released=tuple(sorted((_minor(k), _day(v)) for k, v in go["released"].items())),
        go_source=str(go["source"]),
        node_eol=tuple(sorted((int(k), _day(v)) for k, v in node["end_of_life"].items())),
        node_source=str(node["source"]),
    )
