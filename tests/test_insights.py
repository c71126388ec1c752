"""Scores through the whole engine on a hand-computed example, severity overrides, what moved
each score most, and accepted risks shown in every human format."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reviewer import insights
from reviewer.adr import write_adrs
from reviewer.engine import ScanOptions, scan
from reviewer.model import Checked, Confidence, Hit, Report, Severity
from reviewer.output.markdown import render_markdown
from reviewer.output.text import render_text
from reviewer.profile import DEFAULT
from reviewer.registry import TemplateContext, template_check

QUEUES = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Resources:
      A:
        Type: AWS::SQS::Queue
      B:
        Type: AWS::SQS::Queue
      C:
        Type: AWS::SQS::Queue
      D:
        Type: AWS::SQS::Queue
        Metadata:
          archreview:
            ignore:
              - id: AR-EVT-001
                reason: "replayed from the source system"
                until: 2027-06-30
    """
)


@template_check("AR-EVT-001")  # high (8.0), medium confidence (0.7) in the catalogue
def _dlq(ctx: TemplateContext):  # type: ignore[no-untyped-def]
    for name in ("A", "B", "C", "D"):
        yield Checked(name)
    yield Hit("A", ("Properties", "RedrivePolicy"), "A has no dead-letter queue")
    yield Hit("D", ("Properties", "RedrivePolicy"), "D has no dead-letter queue")


@template_check("AR-DAT-005")  # medium (5.5), high confidence in the catalogue
def _kms(ctx: TemplateContext):  # type: ignore[no-untyped-def]
    for name in ("A", "B", "C", "D"):
        yield Checked(name)
    yield Hit("B", ("Properties", "KmsMasterKeyId"), "B has no key", confidence=Confidence.LOW)


def _scan(root: Path, **overrides: object) -> Report:
    profile = replace(DEFAULT, **overrides) if overrides else DEFAULT  # type: ignore[arg-type]
    return scan(root, ScanOptions(profile=profile, checks=(_dlq, _kms), strict=True))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(QUEUES, encoding="utf-8")
    return root


def test_scores_by_hand_through_the_engine(repo: Path) -> None:
    report = _scan(repo)
    # EVT-001: w = 4 x 8.0 = 32; A costs 8.0 x 0.7 = 5.6; D is an accepted risk and costs 0
    # DAT-005: w = 4 x 5.5 = 22; B costs 5.5 x 0.4 = 2.2 (low confidence: 40 %)
    layers = dict(report.layers)
    assert layers["EVT"].score == 82.5 and layers["EVT"].grade == "B"  # 100 (1 - 5.6/32)
    assert layers["DAT"].score == 90.0 and layers["DAT"].grade == "A"  # 100 (1 - 2.2/22)
    # 100 (1 - 7.8/54) = 85.555... -> 85.6
    assert (report.score.score, report.score.grade) == (85.6, "B")
    assert (report.score.evaluated, report.score.failed) == (8, 2)
    costs = {(e.rule_id, e.subject): (e.weight, e.cost) for e in report.evaluations}
    assert costs[("AR-EVT-001", "A")] == (8.0, 5.6)
    assert costs[("AR-EVT-001", "D")] == (8.0, 0.0)
    assert costs[("AR-DAT-005", "B")] == (5.5, 2.2)


def test_what_moved_each_score_most(repo: Path) -> None:
    report = _scan(repo)
    top = insights.movers(report)
    # 100 x 5.6 / 54 = 10.37 and 100 x 2.2 / 54 = 4.07: together 100 - 85.56
    assert [(m.rule_id, m.subject, m.points) for m in top] == [
        ("AR-EVT-001", "A", 10.4),
        ("AR-DAT-005", "B", 4.1),
    ]
    assert top[0].where == "template.yaml:3"  # the resource line: RedrivePolicy is missing
    by_layer = insights.layer_movers(report)
    assert [(m.subject, m.points) for m in by_layer["EVT"]] == [("A", 17.5)]  # 5.6 / 32
    assert [(m.subject, m.points) for m in by_layer["DAT"]] == [("B", 10.0)]  # 2.2 / 22
    assert insights.movers(report, module="nowhere") == ()


def test_a_severity_override_changes_the_score(repo: Path) -> None:
    lowered = _scan(repo, severity_overrides=(("AR-EVT-001", Severity.LOW),))
    finding = next(f for f in lowered.findings if f.rule_id == "AR-EVT-001" and f.resource == "A")
    assert finding.severity == Severity.LOW and finding.score == 2.1  # 3.0 x 0.7
    # 100 (1 - (2.1 + 2.2) / (12 + 22)) = 87.35... -> 87.4
    assert lowered.score.score == 87.4
    raised = _scan(repo, severity_overrides=(("AR-DAT-005", Severity.HIGH),))
    # 100 (1 - (5.6 + 3.2) / (32 + 32)) = 86.25 -> 86.3 (half up)
    assert raised.score.score == 86.3
    assert _scan(repo).score.score == 85.6


def test_an_accepted_risk_is_shown_as_such_in_every_human_format(
    repo: Path, tmp_path: Path
) -> None:
    report = _scan(repo)
    accepted = insights.accepted_risks(report)
    assert [(f.rule_id, f.resource) for f in accepted] == [("AR-EVT-001", "D")]
    note = "accepted risk (inline): replayed from the source system, until 2027-06-30"
    assert insights.suppression_note(accepted[0]) == note

    text = render_text(report)
    summary = text[text.index("Grade B") :]
    assert "Accepted risks (1, not counted in the scores)" in summary
    assert f"AR-EVT-001 template.yaml:{accepted[0].line} D [high]: {note}" in summary
    assert "moved most by: AR-EVT-001 A (template.yaml:" in summary
    assert "EVT Event pipeline" in summary and "82.5" in summary

    md = render_markdown(report)
    section = md[md.index("### Accepted risks (1)") :]
    assert note in section and "`D`" in section
    findings = md[md.index("### Findings") : md.index("### Accepted risks")]
    assert "D has no dead-letter queue" not in findings  # not listed as a live finding

    out = tmp_path / "adr"
    write_adrs(report, out, root=repo, today=date(2026, 11, 25))
    record = next(p for p in out.glob("*.md") if "dead-letter" in p.name)
    body = record.read_text(encoding="utf-8")
    assert "status: proposed" in body  # A still stands
    assert f"*({note})*" in body
