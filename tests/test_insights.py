"""Scores through the whole engine on a hand-computed example, severity overrides, what moved
each score most, and accepted risks shown in every human format."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reviewer.checks.registry import TemplateContext, template_check
from reviewer.core.types import (
    Checked,
    Confidence,
    Hit,
    Persona,
    Report,
    ScoreBlock,
    Severity,
    Suppression,
)
from reviewer.outputs import insights
from reviewer.outputs.adr import write_adrs
from reviewer.outputs.markdown import render_markdown
from reviewer.outputs.text import render_text
from reviewer.profile import DEFAULT
from reviewer.runner.engine import ScanOptions, scan
from tests.report_fixtures import DECISION, finding, many, related, report

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


# The hits carry their severity, confidence and persona, so these numbers do not move when a
# rule's calibration in rules/ does (a profile's severity override still wins over them).


@template_check("AR-EVT-001")
def _dlq(ctx: TemplateContext):  # type: ignore[no-untyped-def]
    for name in ("A", "B", "C", "D"):
        yield Checked(name)
    for name in ("A", "D"):  # high (8.0) x medium confidence (0.7) = 5.6
        yield Hit(
            name,
            ("Properties", "RedrivePolicy"),
            f"{name} has no dead-letter queue",
            severity=Severity.HIGH,
            confidence=Confidence.MEDIUM,
            persona=Persona.REGULAR,
        )


@template_check("AR-DAT-005")
def _kms(ctx: TemplateContext):  # type: ignore[no-untyped-def]
    for name in ("A", "B", "C", "D"):
        yield Checked(name)
    yield Hit(  # medium (5.5) x low confidence (0.4) = 2.2
        "B",
        ("Properties", "KmsMasterKeyId"),
        "B has no key",
        severity=Severity.MEDIUM,
        confidence=Confidence.LOW,
        persona=Persona.REGULAR,
    )


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
    # spec *Scores*: 100 x the product of (1 - score / 100) over the scope's scored findings.
    # EVT-001 on A: high x medium confidence = 5.6; D is an accepted risk and costs nothing.
    # DAT-005 on B: medium x low confidence = 2.2.
    layers = dict(report.layers)
    assert layers["EVT"].score == 94.4  # 100 x 0.944
    assert (layers["EVT"].grade, layers["EVT"].cap_reason) == ("D", "a high finding")
    assert layers["DAT"].score == 97.8  # 100 x 0.978
    # a low-confidence medium finding caps one step milder than C: B
    assert (layers["DAT"].grade, layers["DAT"].cap_reason) == (
        "B",
        "a low-confidence medium finding",
    )
    # 100 x 0.944 x 0.978 = 92.32... -> 92.3, capped at D by the high finding
    assert (report.score.score, report.score.grade, report.score.cap) == (92.3, "D", "D")
    assert (report.score.evaluated, report.score.failed) == (8, 2)
    assert insights.grade_line(report.score) == "D (92.3/100) — capped by a high finding"


def test_what_moved_each_score_most(repo: Path) -> None:
    report = _scan(repo)
    top = insights.movers(report)
    # without A: 100 x 0.978 = 97.8, 5.5 more than 92.3; without B: 94.4, 2.1 more
    assert [(m.rule_id, m.subject, m.points) for m in top] == [
        ("AR-EVT-001", "A", 5.5),
        ("AR-DAT-005", "B", 2.1),
    ]
    assert top[0].where == "template.yaml:3"  # the resource line: RedrivePolicy is missing
    by_layer = insights.layer_movers(report)
    assert [(m.subject, m.points) for m in by_layer["EVT"]] == [("A", 5.6)]  # 100 - 94.4
    assert [(m.subject, m.points) for m in by_layer["DAT"]] == [("B", 2.2)]  # 100 - 97.8
    assert insights.movers(report, module="nowhere") == ()


def test_a_severity_override_changes_the_score(repo: Path) -> None:
    lowered = _scan(repo, severity_overrides=(("AR-EVT-001", Severity.LOW),))
    finding = next(f for f in lowered.findings if f.rule_id == "AR-EVT-001" and f.resource == "A")
    assert finding.severity == Severity.LOW and finding.score == 2.1  # 3.0 x 0.7
    # 100 x (1 - 0.021) x (1 - 0.022) = 95.746... -> 95.7, capped at B by either low finding
    assert (lowered.score.score, lowered.score.grade) == (95.7, "B")
    raised = _scan(repo, severity_overrides=(("AR-DAT-005", Severity.HIGH),))
    # 100 x (1 - 0.056) x (1 - 0.032) = 91.379... -> 91.4; a low-confidence high caps at C,
    # the medium-confidence high on A at D
    assert (raised.score.score, raised.score.grade) == (91.4, "D")
    assert _scan(repo).score.score == 92.3


def test_an_accepted_risk_is_shown_as_such_in_every_human_format(
    repo: Path, tmp_path: Path
) -> None:
    report = _scan(repo)
    accepted = insights.accepted_risks(report)
    assert [(f.rule_id, f.resource) for f in accepted] == [("AR-EVT-001", "D")]
    note = "accepted risk (inline): replayed from the source system, until 2027-06-30"
    assert insights.suppression_note(accepted[0]) == note

    text = render_text(report)
    assert text.startswith("Grade D  score 92.3/100 — capped by a high finding")
    summary = text[text.index("Scores by layer") :]
    assert "Accepted risks (1, not counted in the scores)" in summary
    assert f"AR-EVT-001 template.yaml:{accepted[0].line} D [high]: {note}" in summary
    assert "moved most by: AR-EVT-001 A (template.yaml:" in summary
    assert "EVT Event pipeline" in summary and "94.4" in summary
    assert "D has no dead-letter queue" not in text  # not listed as a live finding

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


# -- the shared summaries, on reports built by hand -------------------------------------------


def test_first_sentence_of_a_decision() -> None:
    assert insights.first_sentence(DECISION) == (
        "Set VisibilityTimeout on the queue to at least six times the function's Timeout, "
        "e.g. 1800 s for a 300 s function."
    )
    assert (
        insights.first_sentence("Use  TLS 1.2\n or later. Then rotate.") == "Use TLS 1.2 or later."
    )
    assert insights.first_sentence("No full stop at all") == "No full stop at all"
    long = insights.first_sentence("word " * 500)
    assert len(long) == insights.DECISION_CHARS and long.endswith("…")


def test_decisions_are_grouped_by_rule_and_title_and_ordered_by_consequence() -> None:
    findings = [
        *many(5, "AR-OBS-003", Severity.LOW),  # low, many
        *many(2, "AR-EVT-001", Severity.HIGH),  # high x2
        finding("AR-EVT-003", Severity.HIGH, 50),  # high x1: after EVT-001 (fewer)
        finding("AR-IAM-001", Severity.CRITICAL, 60, confidence=Confidence.LOW),  # 3.8
        # a variant of one rule with its own title is its own decision
        finding("AR-DAT-001", Severity.MEDIUM, 70),
        finding("AR-DAT-001", Severity.LOW, 71, title="Variant title"),
        # suppressed findings take no decision
        finding("AR-NET-001", Severity.CRITICAL, 80, suppressed=Suppression("inline", "ok")),
    ]
    groups = insights.decision_groups(findings)
    assert [(g.rule_id, g.title, g.count) for g in groups] == [
        ("AR-EVT-001", "Title of AR-EVT-001", 2),  # 8.0
        ("AR-EVT-003", "Title of AR-EVT-003", 1),  # 8.0, one finding
        ("AR-DAT-001", "Title of AR-DAT-001", 1),  # 5.5
        ("AR-IAM-001", "Title of AR-IAM-001", 1),  # 3.8 (a low-confidence critical)
        ("AR-OBS-003", "Title of AR-OBS-003", 5),  # 3.0, five findings
        ("AR-DAT-001", "Variant title", 1),  # 3.0, one finding
    ]
    evt = groups[0]
    assert evt.severity is Severity.HIGH and evt.score == 8.0 and evt.more == 0
    assert [f.resource for f in evt.where()] == ["Queue0000", "Queue0001"]
    obs = groups[4]
    assert len(obs.where()) == 3 and obs.more == 2
    assert evt.decision == insights.first_sentence(DECISION)
    # a group that holds several severities lists them, worst first
    mixed = insights.decision_groups(
        [finding("AR-DAT-005", Severity.LOW, 1), finding("AR-DAT-005", Severity.MEDIUM, 2)]
    )
    assert len(mixed) == 1 and mixed[0].severity is Severity.MEDIUM
    assert insights.severity_label(mixed[0].severities) == "medium, low"


def test_the_hidden_count_sentence() -> None:
    shown = report(many(1), hidden=(("pedantic", 12), ("auditor", 3)), root="repo")
    assert insights.hidden_sentence(shown) == (
        "12 more findings at --persona pedantic (hygiene), 3 more at --persona auditor "
        "(decisions to record): archreview scan repo --persona pedantic"
    )
    # a persona with nothing left out is not named; the command shows the first that has some
    only_auditor = report(many(1), hidden=(("pedantic", 0), ("auditor", 1)), root="my repo")
    assert insights.hidden_sentence(only_auditor) == (
        "1 more finding at --persona auditor (decisions to record): "
        "archreview scan 'my repo' --persona auditor"
    )
    # what the chosen persona already shows is never counted as hidden
    pedantic = report(many(1), persona=Persona.PEDANTIC, hidden=(("pedantic", 9), ("auditor", 2)))
    assert insights.hidden_counts(pedantic) == ((Persona.AUDITOR, 2),)
    nothing = report(many(1), persona=Persona.AUDITOR, hidden=(("pedantic", 0), ("auditor", 0)))
    assert insights.hidden_sentence(nothing) == (
        "Persona auditor: no finding of a higher persona was left out."
    )


def test_the_grade_cap_is_named_only_when_it_set_the_grade() -> None:
    capped = ScoreBlock(92.3, "D", 8, 2, cap="D", cap_reason="a high finding")
    assert insights.cap_note(capped) == "capped by a high finding"
    assert insights.grade_line(capped) == "D (92.3/100) — capped by a high finding"
    # the score's own band is already D: the cap did not change the grade
    earned = ScoreBlock(61.0, "D", 8, 2, cap="D", cap_reason="a high finding")
    assert insights.cap_note(earned) is None and insights.grade_line(earned) == "D (61.0/100)"
    assert insights.cap_note(ScoreBlock(95.0, "A", 8, 0)) is None
    assert insights.grade_line(ScoreBlock(None, None, 0, 0)) == "n/a (nothing was weighed)"


@pytest.mark.parametrize(
    ("source", "profile", "line"),
    [
        ("baseline", "built-in baseline", "Reviewed against the built-in baseline"),
        (
            "agent",
            ".claude/agents/architect.md",
            "Reviewed against .claude/agents/architect.md (agent definition)",
        ),
        ("file", ".archreview.yml", "Reviewed against .archreview.yml (profile file)"),
        ("option", "/tmp/p.yml", "Reviewed against /tmp/p.yml (--profile)"),
    ],
)
def test_the_profile_line_says_which_declaration_was_used(
    source: str, profile: str, line: str
) -> None:
    assert insights.profile_line(report(many(1), profile=profile, profile_source=source)) == line


def test_related_locations_are_capped() -> None:
    f = finding(related=related(8))
    shown, more = insights.related_shown(f)
    assert len(shown) == insights.RELATED_SHOWN == 5 and more == 3
    assert insights.related_subject(shown[0]) == "Other0.Properties"
    assert insights.related_shown(finding()) == ((), 0)


def test_movers_follow_the_product_formula() -> None:
    # two highs (8.0) and a low-confidence medium (2.2): 100 x 0.92 x 0.92 x 0.978 = 82.78 -> 82.8
    findings = [
        *many(2, "AR-EVT-001", Severity.HIGH),
        finding("AR-DAT-005", Severity.MEDIUM, 9, confidence=Confidence.LOW),
        finding("AR-MOD-001", Severity.INFO, 10),  # weighs nothing
        finding("AR-MOD-005", Severity.HIGH, 11),  # says something was not reviewed: no weight
    ]
    top = insights.movers(report(findings), limit=None)
    # without one high: 100 x 0.92 x 0.978 = 89.98 -> 90.0, 7.2 more; without the medium:
    # 100 x 0.92 x 0.92 = 84.64 -> 84.6, 1.8 more
    assert [(m.rule_id, m.subject, m.points) for m in top] == [
        ("AR-EVT-001", "Queue0000", 7.2),
        ("AR-EVT-001", "Queue0001", 7.2),
        ("AR-DAT-005", "Queue0009", 1.8),
    ]
