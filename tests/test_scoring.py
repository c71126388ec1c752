"""Scores and grades (product.md *Scores*, docs/adr/0005): hand-computed examples, the four
properties the spec lists as hypothesis properties over generated reports, and the issue's
"forty copies plus a wildcard" repository scanned end to end."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.core.types import (
    AdrText,
    Confidence,
    Evaluation,
    Finding,
    Location,
    Persona,
    ScoreBlock,
    Severity,
    Suppression,
)
from reviewer.runner.engine import ScanOptions, scan
from reviewer.scores.scoring import (
    GRADES,
    Scores,
    cap_level,
    grade,
    product_score,
    round_half_up,
    rounded_score,
    scope_block,
    score_all,
)

_ADR = AdrText("", "", "")
_N = 0


def finding(
    severity: Severity = Severity.HIGH,
    confidence: Confidence = Confidence.HIGH,
    *,
    rule: str = "AR-IAM-001",
    module: str = ".",
    resource: str = "R",
    suppressed: bool = False,
    related: tuple[Location, ...] = (),
) -> Finding:
    global _N
    _N += 1
    layer = rule.split("-")[1]
    return Finding(
        rule_id=rule,
        title="t",
        layer=layer,
        severity=severity,
        confidence=confidence,
        score=rounded_score(severity, confidence),
        module=module,
        file=f"{module}/template.yaml",
        line=_N,
        end_line=_N,
        column=1,
        end_column=1,
        resource=resource,
        resource_type=None,
        property=None,
        message="m",
        fingerprint=f"fp{_N}",
        adr=_ADR,
        suppressed=Suppression("inline", "why") if suppressed else None,
        related=related,
        persona=Persona.REGULAR,
    )


def ev(
    rule: str = "AR-IAM-001", module: str = ".", subject: str = "R", cost: float = 0.0
) -> Evaluation:
    return Evaluation(
        rule, rule.split("-")[1], module, f"{module}/template.yaml", subject, 8.0, cost
    )


def evs_for(findings: list[Finding]) -> list[Evaluation]:
    """The failed evaluations the engine records for these findings."""
    return [ev(f.rule_id, f.module, f.resource or "", f.score) for f in findings]


# -- by hand ------------------------------------------------------------------------------------


def test_one_finding_by_hand() -> None:
    # a high finding at medium confidence scores 8.0 x 0.7 = 5.6: 100 x (1 - 0.056) = 94.4,
    # band A, but a high finding caps the grade at D
    f = finding(Severity.HIGH, Confidence.MEDIUM)
    block = scope_block([f], [*evs_for([f]), ev(subject="Other")])
    assert block.score == 94.4
    assert block.grade == "D"
    assert (block.cap, block.cap_reason) == ("D", "a high finding")
    assert (block.evaluated, block.failed) == (2, 1)


def test_product_by_hand() -> None:
    # critical (9.5) x 2 and a medium-confidence low (3.0 x 0.7 = 2.1):
    # 100 x 0.905^2 x 0.979 = 80.181... -> 80.2, band B, capped at F by the critical
    fs = [
        finding(Severity.CRITICAL),
        finding(Severity.CRITICAL),
        finding(Severity.LOW, Confidence.MEDIUM),
    ]
    block = scope_block(fs, evs_for(fs))
    assert block.score == 80.2
    assert (block.grade, block.cap, block.cap_reason) == ("F", "F", "a critical finding")


def test_a_low_confidence_finding_caps_one_step_milder() -> None:
    block = scope_block([finding(Severity.CRITICAL, Confidence.LOW)])  # 9.5 x 0.4 = 3.8: 96.2
    assert (block.score, block.grade, block.cap_reason) == (
        96.2,
        "D",
        "a low-confidence critical finding",
    )
    low = scope_block([finding(Severity.LOW, Confidence.LOW)])  # a low one caps nothing
    assert (low.score, low.grade, low.cap) == (98.8, "A", None)


def test_the_band_wins_when_it_is_worse_than_the_cap() -> None:
    fs = [finding(Severity.MEDIUM) for _ in range(8)]  # 100 x 0.945^8 = 63.6: D, cap C
    block = scope_block(fs)
    assert (block.score, block.grade, block.cap, block.cap_reason) == (63.6, "D", None, None)


def test_info_and_not_reviewed_findings_weigh_nothing_and_cap_nothing() -> None:
    fs = [
        finding(Severity.INFO),
        finding(Severity.HIGH, rule="AR-MOD-005"),
        finding(Severity.HIGH, rule="AR-MOD-006"),
        finding(Severity.HIGH, rule="AR-MOD-001"),
    ]
    block = scope_block(fs[:1])
    assert (block.score, block.grade, block.cap) == (100.0, "A", None)
    # findings that say something was not reviewed do not even make a scope judged
    assert scope_block(fs[1:], [ev("AR-MOD-006")]).score is None


def test_suppressed_findings_weigh_nothing() -> None:
    block = scope_block([finding(Severity.CRITICAL, suppressed=True)], [ev()])
    assert (block.score, block.grade) == (100.0, "A")


def test_nothing_evaluated_is_na() -> None:
    block = scope_block([], [])
    assert block == ScoreBlock(None, None, 0, 0)


def test_half_up_rounding_and_bands() -> None:
    assert round_half_up(Fraction(8995, 100)) == 90.0  # 89.95 rounds up
    assert grade(90.0) == "A" and grade(89.9) == "B" and grade(59.9) == "F"
    # 100 x (1 - 0.0385) x (1 - 0.0385) = 92.448225 -> 92.4 (the exact product, not a float's)
    assert product_score(((385, 2),)) == 92.4
    assert product_score(((950, 10_000),)) == 0.0  # far below 0.05: no big integers made


def test_a_finding_about_several_modules_counts_in_each() -> None:
    elsewhere = Location("b/go.mod", 3, 1, 3, 1, "x", None, "also pinned here")
    f = finding(Severity.MEDIUM, rule="AR-STK-006", module="a", related=(elsewhere,))
    scores = score_all(
        [f], evs_for([f]), modules=("a", "b", "c"), module_of=lambda p: p.split("/")[0]
    )
    by_name = {name: block for name, block, _ in scores.modules}
    assert by_name["a"].score == by_name["b"].score == 94.5
    assert by_name["a"].grade == by_name["b"].grade == "C"
    assert by_name["c"].score is None
    assert scores.repository.score == 94.5  # once in the repository


def test_a_merged_finding_caps_as_its_harshest_member() -> None:
    primary = finding(Severity.MEDIUM)  # 5.5: the highest score
    member = finding(Severity.CRITICAL, Confidence.LOW)  # 3.8, but caps at D
    scores = score_all(
        [primary], evs_for([primary]), members={primary.fingerprint: (primary, member)}
    )
    assert scores.repository.score == 94.5
    assert (scores.repository.grade, scores.repository.cap_reason) == (
        "D",
        "a low-confidence critical finding",
    )


# -- the four properties ------------------------------------------------------------------------

RULES = ("AR-IAM-001", "AR-NET-002", "AR-DAT-003", "AR-OBS-001", "AR-MOD-006", "AR-STK-006")
MODULES = ("a", "b", "c")

findings_st = st.builds(
    finding,
    st.sampled_from(list(Severity)),
    st.sampled_from(list(Confidence)),
    rule=st.sampled_from(RULES),
    module=st.sampled_from(MODULES),
    resource=st.sampled_from(("R1", "R2", "R3")),
    suppressed=st.booleans(),
)
passes_st = st.builds(
    ev,
    st.sampled_from(RULES),
    st.sampled_from(MODULES),
    st.sampled_from(("P1", "P2", "P3")),
)


def scored(
    findings: list[Finding], passes: list[Evaluation], modules: tuple[str, ...] = MODULES
) -> Scores:
    return score_all(findings, evs_for(findings) + passes, modules=modules)


def scopes(s: Scores) -> dict[str, ScoreBlock]:
    """Every scope of a Scores by a name."""
    out = {"repository": s.repository}
    out.update({f"layer {n}": b for n, b in s.layers})
    for name, block, layers in s.modules:
        out[f"module {name}"] = block
        out.update({f"module {name} layer {n}": b for n, b in layers})
    return out


def not_better(after: ScoreBlock, before: ScoreBlock) -> bool:
    """`after` is no better than `before` (n/a compares with nothing: gaining a first evaluation
    is not a rise)."""
    if before.score is None or after.score is None:
        return True
    assert before.grade is not None and after.grade is not None
    return after.score <= before.score and GRADES.index(after.grade) >= GRADES.index(before.grade)


SETTINGS = settings(derandomize=True, deadline=None, max_examples=300)


@SETTINGS
@given(st.lists(findings_st, max_size=12), st.lists(passes_st, max_size=6), findings_st)
def test_property_1_adding_a_finding_never_raises_any_score_or_grade(
    findings: list[Finding], passes: list[Evaluation], extra: Finding
) -> None:
    before = scopes(scored(findings, passes))
    after = scopes(scored([*findings, extra], passes))
    for name, block in before.items():
        assert not_better(after[name], block), name


@SETTINGS
@given(st.lists(findings_st, min_size=1, max_size=12), st.lists(passes_st, max_size=6), st.data())
def test_property_1_removing_any_finding_never_lowers(
    findings: list[Finding], passes: list[Evaluation], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(findings) - 1))
    full = scopes(scored(findings, passes))
    fewer = scopes(scored(findings[:i] + findings[i + 1 :], passes))
    for name, block in fewer.items():
        assert not_better(full[name], block), name


@SETTINGS
@given(
    st.lists(findings_st, max_size=12),
    st.lists(passes_st, max_size=6),
    st.lists(passes_st, min_size=1, max_size=20),
    st.integers(1, 40),
)
def test_property_2_passing_resources_templates_and_modules_change_nothing(
    findings: list[Finding], passes: list[Evaluation], more: list[Evaluation], new_modules: int
) -> None:
    before = scopes(scored(findings, passes))
    added = [
        Evaluation(e.rule_id, e.layer, e.module, "new.yaml", "New", e.weight, 0.0) for e in more
    ]
    fresh = tuple(f"new{i}" for i in range(new_modules))
    added += [ev("AR-IAM-001", name, "Fine") for name in fresh]
    after = scopes(scored(findings, passes + added, (*MODULES, *fresh)))
    for name, block in before.items():
        if block.score is None:  # n/a gains its first evaluation: A, not a rise
            assert after[name].score in (None, 100.0)
            continue
        assert (after[name].score, after[name].grade, after[name].cap) == (
            block.score,
            block.grade,
            block.cap,
        )
    for name in fresh:
        assert (after[f"module {name}"].score, after[f"module {name}"].grade) == (100.0, "A")


@SETTINGS
@given(st.lists(findings_st, max_size=12), st.lists(passes_st, max_size=6))
def test_property_3_the_grade_is_capped_by_the_worst_finding(
    findings: list[Finding], passes: list[Evaluation]
) -> None:
    s = scored(findings, passes)
    for name, block in scopes(s).items():
        inside = [f for f in findings if _in_scope(f, name)]
        weighed = [
            f
            for f in inside
            if f.suppressed is None and f.rule_id not in ("AR-MOD-001", "AR-MOD-005", "AR-MOD-006")
        ]
        if block.grade is None:
            assert not weighed
            continue
        worst = max((cap_level(f.severity, f.confidence) for f in weighed), default=0)
        assert GRADES.index(block.grade) >= worst, name
        if block.cap is not None:
            assert block.grade == block.cap == GRADES[worst] and block.cap_reason


def _in_scope(f: Finding, name: str) -> bool:
    parts = name.split()
    if parts[0] == "repository":
        return True
    if parts[0] == "layer":
        return f.layer == parts[1]
    if f.module != parts[1]:
        return False
    return len(parts) == 2 or f.layer == parts[3]


@SETTINGS
@given(st.lists(findings_st, max_size=12), st.lists(passes_st, max_size=6))
def test_property_4_the_repository_is_never_better_than_its_worst_layer(
    findings: list[Finding], passes: list[Evaluation]
) -> None:
    s = scored(findings, passes)
    for _name, layer in s.layers:
        assert not_better(s.repository, layer)
    for _name, module, _ in s.modules:  # nor than its worst module
        assert not_better(s.repository, module)


# -- the case, end to end -----------------------------------------------------------------

COMPLIANT = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDlq.Arn
        maxReceiveCount: 5
  JobsDlq:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
"""
WILDCARD = """\
  Admin:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: everything
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: "*"
                Resource: "*"
"""
# the repository before: one module whose roles grant everything (nothing passes there)
EXISTING = (
    "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
    + WILDCARD
    + WILDCARD.replace("Admin", "Root")
)


def _repo(root: Path, copies: int) -> Path:
    (root / "core").mkdir(parents=True)
    (root / "core" / "template.yaml").write_text(EXISTING, encoding="utf-8")
    for i in range(copies):
        folder = root / f"svc{i:02d}"
        folder.mkdir()
        (folder / "template.yaml").write_text(COMPLIANT + WILDCARD, encoding="utf-8")
    return root


def test_forty_copies_of_a_compliant_template_with_a_wildcard_role_do_not_raise_the_grade(
    tmp_path: Path,
) -> None:
    options = ScanOptions(persona=Persona.AUDITOR)
    before = scan(_repo(tmp_path / "before", 0), options)
    one = scan(_repo(tmp_path / "one", 1), options)
    forty = scan(_repo(tmp_path / "forty", 40), options)
    assert before.score.score is not None
    wildcard = [f for f in one.findings if f.resource == "Admin" and f.suppressed is None]
    assert wildcard and max(f.severity.rank for f in wildcard) >= Severity.HIGH.rank, json.dumps(
        [(f.rule_id, f.severity.value) for f in one.findings]
    )
    for fewer, more in ((before, one), (one, forty)):
        assert not_better(more.score, fewer.score)
        for layer, block in dict(fewer.layers).items():
            assert not_better(dict(more.layers)[layer], block), layer
    assert forty.score.grade in ("D", "F")
    # the case reproduces the issue: the first version's formula rose here
    assert _first_formula(forty.evaluations) > _first_formula(before.evaluations)
    # each copy is its own module, graded by its own wildcard
    copies = [m for m in forty.modules if m.name.startswith("svc")]
    assert len(copies) == 40 and len({(m.score.score, m.score.grade) for m in copies}) == 1


def _first_formula(evaluations: tuple[Evaluation, ...]) -> float:
    """0.1's repository score: 100 x (1 - sum(cost) / sum(weight)) over its evaluations."""
    weighed = [
        e for e in evaluations if e.rule_id not in ("AR-MOD-001", "AR-MOD-005", "AR-MOD-006")
    ]
    total = sum(Fraction(e.weight).limit_denominator(1000) for e in weighed)
    cost = sum(Fraction(e.cost).limit_denominator(1000) for e in weighed)
    return float(100 * (1 - cost / total))
