"""The bundled example super-repository: its whole JSON report is held as a snapshot. It is
scanned as `make example` scans it: against the architecture its committed agent definition
declares (reviewer.scan resolves the profile as the command line does)."""

from __future__ import annotations

import json

from reviewer import scan
from reviewer.outputs.json_report import report_dict

from .conftest import FIXTURES, ROOT, snapshot

EXAMPLE = FIXTURES / "repos" / "chariot-platform"


def test_example_repository_report_snapshot() -> None:
    data = report_dict(scan(EXAMPLE))
    data["root"] = "@@ROOT@@"
    data["tool"]["version"] = "@@VERSION@@"
    snapshot(ROOT / "tests" / "snapshots" / "chariot-platform.json", data)


def test_example_repository_exercises_the_platform() -> None:
    data = report_dict(scan(EXAMPLE))
    modules = {m["name"] for m in data["modules"]}
    assert {"modules/chariot", "modules/janus", "modules/tabularium", "infra"} <= modules
    rules = {f["rule_id"] for f in data["findings"]}
    assert {"AR-MOD-001", "AR-MOD-003", "AR-EVT-003", "AR-CMP-003", "AR-API-001", "AR-IAM-001"} <= rules
    json.dumps(data)  # serialisable
