"""Inline suppressions, AR-MOD-004, --no-ignores and baselines."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main
from reviewer.engine import ScanOptions, scan

TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Accepted:
        Type: AWS::SQS::Queue
        Metadata:
          archreview:
            ignore:
              - id: AR-EVT-001
                reason: "replayed from the source system; a DLQ adds nothing"
                until: 2027-06-30
        Properties:
          KmsMasterKeyId: alias/jobs
      NoReason:
        Type: AWS::SQS::Queue
        Metadata:
          archreview:
            ignore:
              - id: AR-EVT-001
        Properties:
          KmsMasterKeyId: alias/jobs
      Expired:
        Type: AWS::SQS::Queue
        Metadata:
          archreview:
            ignore:
              - id: AR-EVT-001
                reason: "temporary"
                until: 2025-01-31
        Properties:
          KmsMasterKeyId: alias/jobs
      Misspelled:
        Type: AWS::SQS::Queue
        Metadata:
          archreview:
            ignore:
              - id: AR-EVT-001
                reasn: "typo"
        Properties:
          KmsMasterKeyId: alias/jobs
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
    report = scan(_repo(tmp_path), ScanOptions(strict=True))
    by = {(f.rule_id, f.resource): f for f in report.findings}
    accepted = by[("AR-EVT-001", "Accepted")]
    assert accepted.suppressed is not None and accepted.suppressed.kind == "inline"
    assert accepted.suppressed.until == "2027-06-30"
    for name in ("NoReason", "Expired", "Misspelled"):
        assert by[("AR-EVT-001", name)].suppressed is None
    mod4 = sorted((f.resource, f.line, f.message) for f in report.findings if f.rule_id == "AR-MOD-004")
    assert [m[0] for m in mod4] == ["Expired", "Misspelled", "NoReason"]
    assert "expired on 2025-01-31" in mod4[0][2] and mod4[0][1] == 29
    assert "unknown key `reasn`" in mod4[1][2] and mod4[1][1] == 38
    assert "no reason" in mod4[2][2] and mod4[2][1] == 19
    # a suppression on a SAM function covers the stage SAM generates for its event
    stage = by[("AR-API-001", "ServerlessRestApiProdStage")]
    assert stage.suppressed is not None and "corporate proxy" in (stage.suppressed.reason or "")


def test_suppressed_findings_do_not_cost_score(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    with_ignores = scan(root, ScanOptions(strict=True))
    audit = scan(root, ScanOptions(strict=True, no_ignores=True))
    assert all(f.suppressed is None for f in audit.findings)
    assert with_ignores.score.score is not None and audit.score.score is not None
    assert with_ignores.score.score > audit.score.score


def test_baseline_round_trip(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    first = runner.invoke(main, ["scan", str(root), "--write-baseline", str(baseline), "--format", "json"])
    assert first.exit_code == 1
    data = json.loads(baseline.read_text())
    assert data["version"] == 1 and all(i["reason"] == "baseline 2026-11-25" for i in data["findings"])
    second = runner.invoke(main, ["scan", str(root), "--baseline", str(baseline), "--format", "json"])
    assert second.exit_code == 0, second.output
    report = json.loads(second.output)
    kinds = {f["suppressed"]["kind"] for f in report["findings"] if f["suppressed"] and f["rule_id"] != "AR-MOD-004"}
    assert "baseline" in kinds
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "findings": [{"fingerprnt": "x"}]}')
    assert runner.invoke(main, ["scan", str(root), "--baseline", str(bad)]).exit_code == 2
