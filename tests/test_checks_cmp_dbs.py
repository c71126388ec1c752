"""CMP and DBS checks beyond their fixtures: the injectable clock, the runtime table, and the
profile switches (gradual deployment, multi-region, single-table limit, sizing classes)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reviewer.checks.cmp import runtime_table
from reviewer.engine import ScanOptions, all_checks, scan
from reviewer.model import Finding
from reviewer.profile import DEFAULT, Profile, SizingClass

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}


def findings(
    rule_id: str,
    fixture: str,
    tmp_path: Path,
    profile: Profile = DEFAULT,
    today: date | None = None,
) -> list[Finding]:
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    shutil.copy(FIXTURES / "templates" / fixture, root / Path(fixture).name)
    options = ScanOptions(profile=profile, checks=(CHECKS[rule_id],), strict=True, today=today)
    return [f for f in scan(root, options).findings if f.rule_id == rule_id]


def test_runtime_table_is_dated_and_covers_the_catalogue_examples() -> None:
    table = runtime_table()
    assert table.reviewed >= date(2026, 1, 1)
    assert table.source.startswith("https://docs.aws.amazon.com/lambda/")
    for runtime in ("go1.x", "provided", "nodejs18.x", "python3.9", "java8", "dotnet6", "ruby3.2"):
        assert runtime in table.runtimes, runtime
    assert table.runtimes["go1.x"].successor == "provided.al2023"
    assert table.runtimes["provided"].successor == "provided.al2023"


def test_runtime_severity_follows_the_injected_clock(tmp_path: Path) -> None:
    fixture = "AR-CMP-004/fail-soon.yaml"  # nodejs22.x, deprecated on 2027-04-30
    early = findings("AR-CMP-004", fixture, tmp_path / "a", today=date(2026, 6, 1))
    assert early == []  # more than six months ahead
    soon = findings("AR-CMP-004", fixture, tmp_path / "b", today=date(2027, 1, 15))
    assert [f.severity.value for f in soon] == ["medium"]
    late = findings("AR-CMP-004", fixture, tmp_path / "c", today=date(2027, 5, 1))
    assert [f.severity.value for f in late] == ["high"]
    assert "deprecated since 2027-04-30" in late[0].message


@pytest.mark.parametrize(
    ("rule_id", "fixture"),
    [
        ("AR-CMP-009", "AR-CMP-009/fail-sam.yaml"),
        ("AR-CMP-009", "AR-CMP-009/fail-plain.yaml"),
        ("AR-CMP-010", "AR-CMP-010/fail-sam.yaml"),
        ("AR-CMP-010", "AR-CMP-010/fail-plain.yaml"),
    ],
)
def test_gradual_deployment_rules_follow_the_profile(
    rule_id: str, fixture: str, tmp_path: Path
) -> None:
    assert findings(rule_id, fixture, tmp_path / "on")
    off = replace(DEFAULT, gradual_deployment=False)
    assert findings(rule_id, fixture, tmp_path / "off", profile=off) == []


def test_multi_region_rule_follows_the_profile(tmp_path: Path) -> None:
    fixture = "AR-DBS-004/fail.yaml"
    assert findings("AR-DBS-004", fixture, tmp_path / "on")
    off = replace(DEFAULT, multi_region=False)
    assert findings("AR-DBS-004", fixture, tmp_path / "off", profile=off) == []


def test_single_table_limit_comes_from_the_profile(tmp_path: Path) -> None:
    fixture = "AR-DBS-003/fail.yaml"
    assert findings("AR-DBS-003", fixture, tmp_path / "one")
    two = replace(DEFAULT, single_table_limit=2)
    assert findings("AR-DBS-003", fixture, tmp_path / "two", profile=two) == []


def test_sizing_classes_come_from_the_profile(tmp_path: Path) -> None:
    fixture = "AR-CMP-001/fail-sam-name-pattern.yaml"  # AssetIngestFunction, 256 MB / 300 s
    assert findings("AR-CMP-001", fixture, tmp_path / "default")
    profile = replace(DEFAULT, sizing_classes=(SizingClass("ingestion", 256, 300, ("ingest",)),))
    assert findings("AR-CMP-001", fixture, tmp_path / "custom", profile=profile) == []
    unclassed = replace(DEFAULT, sizing_classes=())
    assert findings("AR-CMP-001", fixture, tmp_path / "none", profile=unclassed) == []
