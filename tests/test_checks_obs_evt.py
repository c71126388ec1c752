"""OBS and EVT behaviour that `cases:` cannot express: profile-driven expectations and
parameter values given on the command line."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from reviewer.engine import ScanOptions, all_checks, scan
from reviewer.profile import DEFAULT

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}
TEMPLATES = FIXTURES / "templates"


def _scan(rule_id: str, fixture: Path, tmp: Path, **options: Any) -> list[Any]:
    root = tmp / "repo"
    if fixture.is_dir():
        shutil.copytree(fixture, root)
    else:
        root.mkdir()
        shutil.copy(fixture, root / fixture.name)
    report = scan(root, ScanOptions(checks=(CHECKS[rule_id],), strict=True, **options))
    return [f for f in report.findings if f.rule_id == rule_id]


def test_queue_retention_follows_the_profile(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, queue_retention_days=7, ordered_queue_patterns=())
    found = _scan("AR-EVT-007", TEMPLATES / "AR-EVT-007" / "fail.yaml", tmp_path, profile=profile)
    flagged = {f.resource for f in found}
    assert "WeekQueue" not in flagged  # 7 days is what this profile declares
    assert {"DefaultRetentionQueue", "AssetJobs"} <= flagged  # 4 days, 14 days
    assert all(f.property == "MessageRetentionPeriod" for f in found)


def test_ordered_queue_patterns_follow_the_profile(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, ordered_queue_patterns=("*week*",))
    found = _scan("AR-EVT-007", TEMPLATES / "AR-EVT-007" / "fail.yaml", tmp_path, profile=profile)
    fifo = {f.resource for f in found if f.property == "FifoQueue"}
    assert fifo == {"WeekQueue"}
    assert next(f for f in found if f.property == "FifoQueue").confidence.value == "low"


def test_config_recorder_only_where_compliance_monitoring_is_declared(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, compliance_monitoring=False)
    assert not _scan(
        "AR-OBS-008", TEMPLATES / "AR-OBS-008" / "fail.yaml", tmp_path, profile=profile
    )


def test_repository_level_trail_finding_names_the_top_most_template(tmp_path: Path) -> None:
    found = _scan("AR-OBS-008", TEMPLATES / "AR-OBS-008" / "fail-repo", tmp_path)
    assert [(f.file, f.line, f.severity.value) for f in found] == [("template.yaml", 1, "info")]


def test_timeout_from_parameter_values_is_certain(tmp_path: Path) -> None:
    fixture = TEMPLATES / "AR-EVT-003" / "fail-parameter-default.yaml"
    found = _scan("AR-EVT-003", fixture, tmp_path, parameters={"WorkerTimeout": "200"})
    assert len(found) == 1
    assert found[0].confidence.value == "high"
    assert "the 200 s Timeout of Worker" in found[0].message
    assert "from the parameter values" in found[0].message


def test_parameter_values_can_make_the_queue_pass(tmp_path: Path) -> None:
    fixture = TEMPLATES / "AR-EVT-003" / "fail-parameter-default.yaml"
    assert not _scan("AR-EVT-003", fixture, tmp_path, parameters={"WorkerTimeout": "100"})
