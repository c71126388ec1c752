"""The dated lifecycle table (reviewer/data/lifecycle.yaml) and the rules that read it:
AR-DBS-006 (services, database engines) and AR-STK-010 (toolchains), judged against the
scan's clock."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
import yaml

from reviewer.checks.lifecycle import engine_major, lifecycle
from reviewer.core.types import Finding, Persona
from reviewer.runner.engine import ScanOptions, all_checks, scan

CHECKS = {c.rule_id: c for c in all_checks()}


def _scan(rule_id: str, root: Path, today: str, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    monkeypatch.setenv("ARCHREVIEW_TODAY", today)
    report = scan(
        root, ScanOptions(checks=(CHECKS[rule_id],), strict=True, persona=Persona.AUDITOR)
    )
    return [f for f in report.findings if f.rule_id == rule_id]


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_every_entry_is_dated_and_sourced() -> None:
    raw = yaml.safe_load(
        resources.files("reviewer").joinpath("data", "lifecycle.yaml").read_text("utf-8")
    )
    assert isinstance(raw["date"], date) and raw["source"]
    for entry in [*raw["services"], *raw["engines"]]:
        assert isinstance(entry["end"], date), entry
        assert str(entry["source"]).startswith("https://"), entry
    for name in ("go", "node"):
        assert str(raw["toolchains"][name]["source"]).startswith("https://")
    table = lifecycle()
    assert table.taken == raw["date"]
    assert lifecycle() is table  # loaded once


def test_go_release_is_supported_until_two_newer_releases_exist() -> None:
    table = lifecycle()
    released = dict(table.go_released)
    assert table.go_end(21) == released[(1, 23)]
    assert table.go_end(22) == released[(1, 24)]
    newest = table.go_released[-1][0][1]
    assert table.go_end(newest) is None  # its end is not known yet
    assert table.go_end(newest - 1) is None
    # older than the table: ended no later than the third listed release
    first = table.go_released[0][0][1]
    assert table.go_end(first - 5) == table.go_released[2][1]
    # the two newest releases out on a day, newest first
    day_of_124 = released[(1, 24)]
    assert table.go_supported(day_of_124) == ("1.24", "1.23")


@pytest.mark.parametrize(
    ("engine", "version", "major"),
    [
        ("mysql", "5.7.44", "5.7"),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", "5.7"),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", "8.0"),
        ("postgres", "12.19", "12"),
        ("postgres", "9.6.24", "9.6"),
        ("aurora-postgresql", "13", "13"),
        ("postgres", "latest", None),
        ("sqlserver-ex", "15.00", None),
    ],
)
def test_engine_major(engine: str, version: str, major: str | None) -> None:
    assert engine_major(engine, version) == major


def test_engine_lookup_is_by_engine_and_major() -> None:
    table = lifecycle()
    assert table.engine("MySQL", "5.7.44") is not None  # Engine is case-insensitive
    assert table.engine("mysql", "8.4.3") is None
    assert table.engine("postgres", "5.7.44") is None  # another engine's major
    assert table.engine("aurora", None) is not None  # every Aurora MySQL version 1
    assert table.engine("postgres", None) is None  # no EngineVersion: RDS's default


_PG13 = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      EngineVersion: "13.15"
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: "20"
"""


def test_engine_is_past_on_its_end_date_and_not_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path, {"template.yaml": _PG13})
    end = lifecycle().engine("postgres", "13.15")
    assert end is not None
    assert _scan("AR-DBS-006", root, "2026-02-27", monkeypatch) == []
    found = _scan("AR-DBS-006", root, end.end.isoformat(), monkeypatch)
    assert len(found) == 1 and "standard support ended on 2026-02-28" in found[0].message
    assert found[0].property == "EngineVersion"


def test_qldb_ledger_before_and_after_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Resources:\n  L:\n    Type: AWS::QLDB::Ledger\n    Properties: {PermissionsMode: STANDARD}\n"
    root = _repo(tmp_path, {"template.yaml": text})
    assert _scan("AR-DBS-006", root, "2025-07-30", monkeypatch) == []
    (found,) = _scan("AR-DBS-006", root, "2025-07-31", monkeypatch)
    assert found.severity.value == "high" and "Amazon QLDB" in found.message


def test_engine_from_an_if_branch_is_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _PG13.replace(
        'EngineVersion: "13.15"', 'EngineVersion: !If [Old, "13.15", "16.3"]'
    ).replace("Resources:", "Conditions:\n  Old: !Equals [a, b]\nResources:")
    root = _repo(tmp_path, {"template.yaml": text})
    (found,) = _scan("AR-DBS-006", root, "2026-11-25", monkeypatch)
    assert found.confidence.value == "medium" and "condition Old is true" in found.message


def test_go_line_judged_by_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path, {"go.mod": "module example.com/m\n\ngo 1.23\n"})
    released = dict(lifecycle().go_released)
    ends = released[(1, 25)]
    day_before = date.fromordinal(ends.toordinal() - 1).isoformat()
    assert _scan("AR-STK-010", root, day_before, monkeypatch) == []
    (found,) = _scan("AR-STK-010", root, ends.isoformat(), monkeypatch)
    assert found.file == "go.mod" and found.line == 3
    assert f"no security or bug fixes since {ends.isoformat()}" in found.message
    assert "now 1.25 and 1.24" in found.message  # the two supported releases that day


def test_toolchain_line_newer_than_the_go_line_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _repo(tmp_path / "a", {"go.mod": "module m\n\ngo 1.26\n\ntoolchain go1.21.4\n"})
    assert _scan("AR-STK-010", old, "2026-11-25", monkeypatch) == []  # go 1.26 is newer
    new = _repo(tmp_path / "b", {"go.mod": "module m\n\ngo 1.20\n\ntoolchain go1.26.1\n"})
    assert _scan("AR-STK-010", new, "2026-11-25", monkeypatch) == []
    stale = _repo(tmp_path / "c", {"go.mod": "module m\n\ngo 1.20\n\ntoolchain go1.22.1\n"})
    (found,) = _scan("AR-STK-010", stale, "2026-11-25", monkeypatch)
    assert found.line == 5  # the toolchain line is the newer one


@pytest.mark.parametrize(
    ("spec", "reported"),
    [
        (">=14 <17", True),
        ("^16.20.0 || ^18.19.0", True),
        ("16.x", True),
        ("0.12.x", True),
        (">=18", False),  # admits lines newer than the table
        ("^20 || ^22", False),  # 22 is supported on 2026-11-25
        ("*", False),
        ("latest", False),  # not a range: not judged
        ("^3.0.0", False),  # admits no Node.js line of the table (io.js): not judged
    ],
)
def test_node_engines_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, reported: bool
) -> None:
    text = json.dumps({"name": "x", "engines": {"node": spec}})
    root = _repo(tmp_path, {"package.json": text})
    found = _scan("AR-STK-010", root, "2026-11-25", monkeypatch)
    assert bool(found) is reported
    if found:
        assert found[0].file == "package.json" and found[0].line == 1


def test_node_20_becomes_past_on_its_end_of_life(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path, {"package.json": '{\n  "engines": {\n    "node": "20.x"\n  }\n}\n'})
    assert _scan("AR-STK-010", root, "2026-04-29", monkeypatch) == []
    (found,) = _scan("AR-STK-010", root, "2026-04-30", monkeypatch)
    assert found.line == 2  # the "engines" key
    assert "the last on 2026-04-30" in found.message


@pytest.mark.parametrize(
    "engines",
    ['"engines": ["node"]', '"engines": {"node": 14}', '"engines": {"node": null}', '"engines": 3'],
)
def test_engines_of_the_wrong_shape_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines: str
) -> None:
    root = _repo(tmp_path, {"package.json": '{"name": "x", ' + engines + "}"})
    assert _scan("AR-STK-010", root, "2026-11-25", monkeypatch) == []
