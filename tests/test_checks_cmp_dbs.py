"""CMP and DBS checks beyond their fixtures: the injectable clock, the runtime table, and the
profile switches (gradual deployment, multi-region, single-table limit, sizing classes)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reviewer.checks.cmp import runtime_table
from reviewer.core.types import Finding, Persona
from reviewer.profile import BASELINE, Profile, SizingClass
from reviewer.profile.loader import preset
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}
# the declarations these tests judge against (the baseline declares none of them)
CHARIOT = preset("chariot")


def findings(
    rule_id: str,
    fixture: str,
    tmp_path: Path,
    profile: Profile = CHARIOT,
    today: date | None = None,
    checks: tuple[str, ...] = (),
) -> list[Finding]:
    """Every finding of `rule_id` (whatever its persona) on one fixture."""
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    shutil.copy(FIXTURES / "templates" / fixture, root / Path(fixture).name)
    options = ScanOptions(
        profile=profile,
        checks=tuple(CHECKS[r] for r in (rule_id, *checks)),
        strict=True,
        today=today,
        persona=Persona.AUDITOR,
    )
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
    off = replace(CHARIOT, gradual_deployment=False)
    assert findings(rule_id, fixture, tmp_path / "off", profile=off) == []


def test_multi_region_rule_follows_the_profile(tmp_path: Path) -> None:
    fixture = "AR-DBS-004/fail.yaml"
    assert findings("AR-DBS-004", fixture, tmp_path / "on")
    off = replace(CHARIOT, multi_region=False)
    assert findings("AR-DBS-004", fixture, tmp_path / "off", profile=off) == []


def test_single_table_limit_comes_from_the_profile(tmp_path: Path) -> None:
    fixture = "AR-DBS-003/fail.yaml"
    assert findings("AR-DBS-003", fixture, tmp_path / "one")
    two = replace(CHARIOT, single_table_limit=2)
    assert findings("AR-DBS-003", fixture, tmp_path / "two", profile=two) == []


def test_sizing_classes_come_from_the_profile(tmp_path: Path) -> None:
    fixture = "AR-CMP-001/fail-sam-name-pattern.yaml"  # AssetIngestFunction, 256 MB / 300 s
    assert findings("AR-CMP-001", fixture, tmp_path / "default")
    profile = replace(CHARIOT, sizing_classes=(SizingClass("ingestion", 256, 300, ("ingest",)),))
    assert findings("AR-CMP-001", fixture, tmp_path / "custom", profile=profile) == []
    unclassed = replace(CHARIOT, sizing_classes=())
    assert findings("AR-CMP-001", fixture, tmp_path / "none", profile=unclassed) == []


@pytest.mark.parametrize(
    ("rule_id", "fixture"),
    [
        ("AR-CMP-001", "AR-CMP-001/fail-tag.yaml"),
        ("AR-CMP-009", "AR-CMP-009/fail-sam.yaml"),
        ("AR-CMP-010", "AR-CMP-010/fail-sam.yaml"),
        ("AR-DBS-003", "AR-DBS-003/fail.yaml"),
        ("AR-DBS-004", "AR-DBS-004/fail.yaml"),
    ],
)
def test_rules_requiring_a_declaration_do_not_run_with_the_baseline(
    rule_id: str, fixture: str, tmp_path: Path
) -> None:
    assert findings(rule_id, fixture, tmp_path / "chariot")
    assert findings(rule_id, fixture, tmp_path / "baseline", profile=BASELINE) == []


def test_timeout_over_the_api_limit_and_the_class_is_one_finding(tmp_path: Path) -> None:
    """AR-CMP-001 and AR-CMP-003 share the cause lambda-timeout: on one function's Timeout
    they are one finding, the other rule's place a related location."""
    fixture = "AR-CMP-001/fail-api-whatever-name.yaml"  # Timeout 120 s behind a REST API
    alone = findings("AR-CMP-003", fixture, tmp_path / "a")
    assert [f.property for f in alone] == ["Timeout"]
    both = [
        f
        for f in findings("AR-CMP-001", fixture, tmp_path / "b", checks=("AR-CMP-003",))
        + findings("AR-CMP-003", fixture, tmp_path / "c", checks=("AR-CMP-001",))
        if f.property == "Timeout"
    ]
    assert len({(f.file, f.resource) for f in both}) == 1
    assert len(both) == 1, [(f.rule_id, f.message) for f in both]


def test_dynamodb_table_protections_are_one_finding(tmp_path: Path) -> None:
    found = findings("AR-DBS-002", "AR-DBS-002/fail.yaml", tmp_path)
    orders = [f for f in found if f.resource == "OrdersTable"]
    assert len(orders) == 1
    assert orders[0].property == "DeletionPolicy"
    assert [r.path for r in orders[0].related] == [
        "UpdateReplacePolicy",
        "DeletionProtectionEnabled",
    ]
    assert all(r.message.startswith("also: ") for r in orders[0].related)
    assert len({(f.resource, f.property) for f in found}) == len(found)


def test_what_cloudformation_cannot_delete_is_not_reported(tmp_path: Path) -> None:
    """S3 refuses to delete a bucket that holds objects, RDS takes a final snapshot by default,
    a fixed physical name makes a replacement fail, deletion protection makes a deletion fail."""
    found = findings("AR-DBS-002", "AR-DBS-002/pass.yaml", tmp_path, profile=BASELINE)
    assert found == []
    emptied = findings("AR-DBS-002", "AR-DBS-002/fail-cdk-auto-delete.yaml", tmp_path / "cdk")
    assert [(f.resource, f.property, f.severity.value) for f in emptied] == [
        ("ReportsBucket", "DeletionPolicy", "medium")
    ]
