"""Inline suppressions, AR-MOD-004, --no-ignores and baselines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.core.types import Persona
from reviewer.runner.engine import ScanOptions, scan


def _queue(name: str, *entry: str, key: str = "archreview") -> str:
    """YAML for an encrypted SQS queue whose Metadata `key` holds one ignore entry, given as
    its lines (the first one starts the list item)."""
    first, *rest = entry
    lines = [
        f"  {name}:",
        "    Type: AWS::SQS::Queue",
        "    Metadata:",
        f"      {key}:",
        "        ignore:",
        f"          - {first}",
        *(f"            {line}" for line in rest),
        "    Properties:",
        "      KmsMasterKeyId: alias/jobs",
    ]
    return "".join(f"{line}\n" for line in lines)


TEMPLATE = (
    "AWSTemplateFormatVersion: '2010-09-09'\n"
    "Transform: AWS::Serverless-2016-10-31\n"
    "Resources:\n"
    + _queue(
        "Accepted",
        "id: AR-EVT-001",
        'reason: "replayed from the source system; a DLQ adds nothing"',
        "until: 2027-06-30",
    )
    + _queue("NoReason", "id: AR-EVT-001")
    + _queue("Expired", "id: AR-EVT-001", 'reason: "temporary"', "until: 2025-01-31")
    + _queue("Misspelled", "id: AR-EVT-001", 'reasn: "typo"')
    + """\
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      archreview:
        ignore:
          - id: AR-API-001
            reason: "internal API behind the corporate proxy"
    Properties:
      Handler: bootstrap
      Runtime: provided.al2023
      CodeUri: .
      Events:
        Get:
          Type: Api
          Properties: {Path: /, Method: get}
"""
)


def _repo(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path


def test_inline_suppressions_and_mod_004(tmp_path: Path) -> None:
    report = scan(_repo(tmp_path), ScanOptions(strict=True, persona=Persona.AUDITOR))
    by = {(f.rule_id, f.resource): f for f in report.findings}
    accepted = by[("AR-EVT-001", "Accepted")]
    assert accepted.suppressed is not None and accepted.suppressed.kind == "inline"
    assert accepted.suppressed.until == "2027-06-30"
    for name in ("NoReason", "Expired", "Misspelled"):
        assert by[("AR-EVT-001", name)].suppressed is None
    mod4 = sorted((f.resource, f.line, f.message) for f in report.findings if f.rule_id == "AR-MOD-004")
    assert [m[0] for m in mod4] == ["Expired", "Misspelled", "NoReason"]
    # lines of TEMPLATE: Expired's `until` 29, Misspelled's `reasn` 38, NoReason's entry 19
    assert "expired on 2025-01-31" in mod4[0][2] and mod4[0][1] == 29
    assert "unknown key `reasn`" in mod4[1][2] and mod4[1][1] == 38
    assert "no reason" in mod4[2][2] and mod4[2][1] == 19
    # a suppression on a SAM function covers the stage SAM generates for its event
    stage = by[("AR-API-001", "ServerlessRestApiProdStage")]
    assert stage.suppressed is not None and "corporate proxy" in (stage.suppressed.reason or "")


def test_suppressed_findings_do_not_cost_score(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    with_ignores = scan(root, ScanOptions(strict=True, persona=Persona.AUDITOR))
    audit = scan(root, ScanOptions(strict=True, no_ignores=True, persona=Persona.AUDITOR))
    assert all(f.suppressed is None for f in audit.findings)
    assert with_ignores.score.score is not None and audit.score.score is not None
    assert with_ignores.score.score > audit.score.score


def test_baseline_round_trip(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    audit = ["--persona", "auditor"]
    first = runner.invoke(main, ["scan", str(root), "--write-baseline", str(baseline), "--format", "json", *audit])
    assert first.exit_code == 1
    data = json.loads(baseline.read_text())
    assert data["version"] == 2 and all(i["reason"] == "baseline 2026-11-25" for i in data["findings"])
    second = runner.invoke(main, ["scan", str(root), "--baseline", str(baseline), "--format", "json", *audit])
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    kinds = {f["suppressed"]["kind"] for f in report["findings"] if f["suppressed"] and f["rule_id"] != "AR-MOD-004"}
    assert "baseline" in kinds
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "findings": [{"fingerprnt": "x"}]}')
    assert runner.invoke(main, ["scan", str(root), "--baseline", str(bad)]).exit_code == 2


MISSPELLED = (
    "AWSTemplateFormatVersion: '2010-09-09'\n"
    "Resources:\n"
    + _queue(
        "Typo", "id: AR-EVT-001", 'reason: "never applied: the key is misspelled"', key="archreveiw"
    )
    + _queue("Lower", "id: ar-evt-001", 'reason: "ids are case-insensitive"')
    + _queue("Unknown", "id: AR-EVT-01", 'reason: "a rule that does not exist"')
)


def test_misspellings_are_reported_never_silently_ignored(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(MISSPELLED, encoding="utf-8")
    report = scan(tmp_path, ScanOptions(strict=True, persona=Persona.AUDITOR))
    by = {(f.rule_id, f.resource): f for f in report.findings}
    assert by[("AR-EVT-001", "Typo")].suppressed is None
    assert by[("AR-EVT-001", "Lower")].suppressed is not None
    assert by[("AR-EVT-001", "Unknown")].suppressed is None
    mod4 = {f.resource: f.message for f in report.findings if f.rule_id == "AR-MOD-004"}
    assert "misspelling of `archreview`" in mod4["Typo"]
    assert "unknown rule AR-EVT-01" in mod4["Unknown"] and "did you mean AR-EVT-001" in mod4["Unknown"]
    assert "Lower" not in mod4


def test_rewriting_a_baseline_while_applying_it_keeps_its_entries(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    runner = CliRunner()
    runner.invoke(main, ["scan", str(root), "--write-baseline", str(first), "--fail-on", "never"])
    data = json.loads(first.read_text())
    data["findings"][0]["reason"] = "accepted by the platform team"
    first.write_text(json.dumps(data))
    result = runner.invoke(
        main,
        ["scan", str(root), "--baseline", str(first), "--write-baseline", str(second), "--fail-on", "never"],
    )
    assert result.exit_code == 0, result.output
    again = json.loads(second.read_text())
    assert [i["fingerprint"] for i in again["findings"]] == [i["fingerprint"] for i in data["findings"]]
    assert again["findings"][0]["reason"] == "accepted by the platform team"


def test_a_baseline_never_records_mod_004(tmp_path: Path) -> None:
    """AR-MOD-004 (a suppression that does not work) is never suppressed, so recording it in a
    baseline would only be a line that never matches: it is left out, everything else is kept."""
    root = _repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    audit = ["--persona", "auditor", "--fail-on", "never", "--no-cache"]
    result = CliRunner().invoke(
        main, ["scan", str(root), "--format", "json", "--write-baseline", str(baseline), *audit]
    )
    report = json.loads(result.stdout)
    mod4 = [f for f in report["findings"] if f["rule_id"] == "AR-MOD-004"]
    assert len(mod4) >= 3, result.output  # no reason, expired, misspelled key
    recorded = json.loads(baseline.read_text())["findings"]
    assert recorded and all(i["rule_id"] != "AR-MOD-004" for i in recorded)
    others = {f["fingerprint"] for f in report["findings"] if f["rule_id"] != "AR-MOD-004" and not f["suppressed"]}
    assert others <= {i["fingerprint"] for i in recorded}
