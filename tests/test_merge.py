"""One finding per root cause (reviewer.findings.merge; product.md *Personas*, last paragraph): each
merge shape on its own, the merge's independence from order, its place before suppressions,
and the invariant on every fixture and the example repository — no two findings of a run share
(file, resource, property, cause)."""

from __future__ import annotations

import collections
import dataclasses
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.checks.catalogue import RuleMeta, load_catalogue
from reviewer.checks.registry import TemplateContext, Yielded, template_check
from reviewer.core.types import (
    AdrText,
    Confidence,
    Finding,
    Hit,
    Location,
    Persona,
    Severity,
)
from reviewer.findings.merge import merge
from reviewer.runner import report
from reviewer.runner.engine import ScanOptions, scan
from reviewer.scores.scoring import rounded_score

from .conftest import FIXTURES

_ADR = AdrText("", "", "")


def f(
    rule: str = "AR-DBS-002",
    resource: str | None = "Table",
    prop: str | None = "DeletionPolicy",
    *,
    line: int = 5,
    column: int = 3,
    severity: Severity = Severity.MEDIUM,
    confidence: Confidence = Confidence.HIGH,
    message: str = "m",
    persona: Persona = Persona.REGULAR,
    file: str = "t.yaml",
    related: tuple[Location, ...] = (),
) -> Finding:
    from reviewer.runner.engine import fingerprint

    return Finding(
        rule_id=rule,
        title=rule,
        layer=rule.split("-")[1],
        severity=severity,
        confidence=confidence,
        score=rounded_score(severity, confidence),
        module=".",
        file=file,
        line=line,
        end_line=line,
        column=column,
        end_column=column + 1,
        resource=resource,
        resource_type=None,
        property=prop,
        message=message,
        fingerprint=fingerprint(rule, file, resource, prop),
        adr=_ADR,
        related=related,
        persona=persona,
    )


def no_cause(rule_id: str) -> str | None:
    return None


# -- the shapes -----------------------------------------------------------------------------------


def test_same_rule_same_resource_and_property_merge_into_the_worst() -> None:
    low = f(message="no point-in-time recovery", severity=Severity.LOW, line=9)
    high = f(message="no deletion policy", severity=Severity.HIGH, line=7)
    elsewhere = f(resource="Other", line=20)
    out = merge([low, high, elsewhere], no_cause)
    assert len(out.findings) == 2
    merged = next(x for x in out.findings if x.resource == "Table")
    assert merged.message == "no deletion policy"  # the primary: the highest score
    assert (merged.severity, merged.score) == (Severity.HIGH, high.score)
    assert merged.fingerprint == high.fingerprint == low.fingerprint  # rule, file, id, property
    assert [(r.line, r.message) for r in merged.related] == [(9, "no point-in-time recovery")]
    assert out.members[merged.fingerprint] == (high, low)


def test_same_rule_same_span_different_resources_merge_with_the_resources_related() -> None:
    # a Globals value inherited by three functions: located at the Globals line for each
    fns = [
        f("AR-OBS-003", name, "Tracing", line=6, message=f"{name} is not traced")
        for name in ("Fn3", "Fn1", "Fn2")
    ]
    out = merge(fns, no_cause)
    assert len(out.findings) == 1
    merged = out.findings[0]
    assert merged.resource == "Fn1"  # equal scores: the first in report order
    assert [(r.logical_id, r.message) for r in merged.related] == [
        ("Fn2", "Fn2 is not traced"),
        ("Fn3", "Fn3 is not traced"),
    ]


def test_different_properties_of_one_resource_stay_apart() -> None:
    # two missing settings both located at the resource's own line: two causes
    out = merge([f(prop="AtRestEncryptionEnabled"), f(prop="TransitEncryptionEnabled")], no_cause)
    assert len(out.findings) == 2 and not out.members


def test_two_rules_that_share_a_cause_merge_at_one_resource_and_property() -> None:
    causes = {"AR-CMP-001": "function-timeout", "AR-CMP-003": "function-timeout"}
    sizing = f("AR-CMP-001", "Fn", "Timeout", severity=Severity.LOW, message="over its class")
    api = f("AR-CMP-003", "Fn", "Timeout", severity=Severity.HIGH, message="over the API limit")
    other_fn = f("AR-CMP-001", "Other", "Timeout", line=30)
    out = merge([sizing, api, other_fn], causes.get)
    assert len(out.findings) == 2
    merged = next(x for x in out.findings if x.resource == "Fn")
    assert merged.rule_id == "AR-CMP-003" and merged.severity is Severity.HIGH
    assert [r.message for r in merged.related] == ["AR-CMP-001: over its class"]
    # without the shared cause they are two findings
    assert len(merge([sizing, api], no_cause).findings) == 2


def test_a_merged_finding_keeps_the_harshest_cap_and_the_mildest_persona() -> None:
    primary = f(severity=Severity.MEDIUM, persona=Persona.PEDANTIC, message="a")  # 5.5
    harsh = f(severity=Severity.CRITICAL, confidence=Confidence.LOW, message="b", line=9)  # 3.8
    out = merge([primary, harsh], no_cause)
    (merged,) = out.findings
    assert merged.score == 5.5 and merged.message == "a"
    assert merged.persona is Persona.REGULAR  # worth saying when any member is
    assert out.members[merged.fingerprint] == (primary, harsh)  # the engine caps by the harshest


def test_related_locations_are_kept_and_not_repeated() -> None:
    shared = Location("t.yaml", 40, 1, 40, 1, "Alias", "UpdatePolicy", "alias")
    a = f(message="a", related=(shared,), severity=Severity.HIGH)
    b = f(message="b", related=(shared, Location("t.yaml", 50, 1, 50, 1, "X", None, "x")), line=8)
    (merged,) = merge([a, b], no_cause).findings
    assert [(r.logical_id, r.message) for r in merged.related] == [
        ("Alias", "alias"),
        ("Table", "b"),
        ("X", "x"),
    ]


_findings = st.builds(
    f,
    st.sampled_from(("AR-DBS-002", "AR-CMP-001", "AR-CMP-003")),
    st.sampled_from(("A", "B", None)),
    st.sampled_from(("P", "Q", None)),
    line=st.integers(1, 4),
    column=st.integers(1, 2),
    severity=st.sampled_from(list(Severity)),
    confidence=st.sampled_from(list(Confidence)),
    message=st.sampled_from(("x", "y")),
    persona=st.sampled_from(list(Persona)),
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.lists(_findings, max_size=12), st.randoms(use_true_random=False))
def test_merging_does_not_depend_on_order_and_leaves_one_finding_per_cause(
    findings: list[Finding], rnd: object
) -> None:
    causes = {"AR-CMP-001": "timeout", "AR-CMP-003": "timeout"}.get
    shuffled = list(findings)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first, second = merge(findings, causes), merge(shuffled, causes)
    assert first.findings == second.findings
    keys = collections.Counter(
        (x.file, x.resource, x.property, causes(x.rule_id) or x.rule_id) for x in first.findings
    )
    assert max(keys.values(), default=1) == 1
    assert list(first.findings) == sorted(first.findings, key=Finding.sort_key)
    # nothing is lost: every input finding is a merged finding or one of its members
    kept = {id(m) for group in first.members.values() for m in group} | {
        id(x) for x in first.findings
    }
    assert all(
        id(x) in kept or any(x == m for g in first.members.values() for m in g) for x in findings
    )
    assert sum(len(g) - 1 for g in first.members.values()) == len(findings) - len(first.findings)


# -- in the engine ----------------------------------------------------------------------------------

GLOBALS = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Timeout: 900
    Resources:
      One:
        Type: AWS::Serverless::Function
        Properties: {Handler: index.handler, Runtime: python3.12, CodeUri: .}
      Two:
        Type: AWS::Serverless::Function
        Properties: {Handler: index.handler, Runtime: python3.12, CodeUri: .}
        Metadata:
          archreview:
            ignore:
              - {id: RULE, reason: "batch job, long by design"}
      Three:
        Type: AWS::Serverless::Function
        Properties: {Handler: index.handler, Runtime: python3.12, CodeUri: .}
    """
)


def _plain_rule() -> str:
    """A rule that runs under every profile (no `requires`): the probe below speaks for it."""
    catalogue = load_catalogue()
    return next(
        rid
        for rid, meta in sorted(catalogue.items())
        if not meta.requires and meta.severity is not Severity.INFO and not rid.startswith("AR-MOD")
    )


@pytest.fixture
def globals_repo(tmp_path: Path) -> tuple[Path, str]:
    rule = _plain_rule()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(GLOBALS.replace("RULE", rule), encoding="utf-8")
    return root, rule


def _timeout_probe(rule: str, names: tuple[str, ...] = ("One", "Two", "Three")):  # type: ignore[no-untyped-def]
    @template_check(rule)
    def probe(ctx: TemplateContext) -> list[Yielded]:
        return [
            Hit(n, ("Properties", "Timeout"), f"{n} runs for up to 900 s")
            for n in names
            if n in ctx.template.resources
        ]

    return probe


def test_the_engine_merges_a_globals_value_into_one_finding(globals_repo: tuple[Path, str]) -> None:
    root, rule = globals_repo
    report = scan(
        root, ScanOptions(checks=(_timeout_probe(rule),), no_ignores=True, persona=Persona.AUDITOR)
    )
    found = [x for x in report.findings if x.rule_id == rule]
    assert len(found) == 1
    (merged,) = found
    assert (merged.resource, merged.line) == ("One", 5)  # the Globals line
    assert [r.logical_id for r in merged.related] == ["Three", "Two"]
    assert all(r.line == 5 and r.message.endswith("runs for up to 900 s") for r in merged.related)


def test_a_merged_finding_is_suppressed_only_when_every_member_is(
    globals_repo: tuple[Path, str],
) -> None:
    root, rule = globals_repo
    # Two is suppressed inline; One and Three are not: the merged finding stands
    report = scan(root, ScanOptions(checks=(_timeout_probe(rule),), persona=Persona.AUDITOR))
    (merged,) = [x for x in report.findings if x.rule_id == rule]
    assert merged.suppressed is None
    # when Two alone has the Globals value's finding, its suppression applies
    only_two = scan(
        root, ScanOptions(checks=(_timeout_probe(rule, ("Two",)),), persona=Persona.AUDITOR)
    )
    (alone,) = [x for x in only_two.findings if x.rule_id == rule]
    assert alone.suppressed is not None and alone.suppressed.reason == "batch job, long by design"


def test_a_merged_finding_is_scored_once(globals_repo: tuple[Path, str]) -> None:
    root, rule = globals_repo
    options = ScanOptions(no_ignores=True, persona=Persona.AUDITOR)
    three = scan(root, dataclasses.replace(options, checks=(_timeout_probe(rule),)))
    one = scan(root, dataclasses.replace(options, checks=(_timeout_probe(rule, ("One",)),)))
    assert three.score.score == one.score.score


# -- the invariant on every fixture -------------------------------------------------------------------


def _roots() -> list[Path]:
    return [FIXTURES / "templates", FIXTURES / "repos" / "chariot-platform"]


def _profiles() -> list[object]:
    """The baseline, and the chariot preset (the rules that require a declaration run too)."""
    from reviewer.profile import DEFAULT
    from reviewer.profile.loader import preset

    return [DEFAULT, preset("chariot")]


def _cause(catalogue: dict[str, RuleMeta], rule_id: str) -> str | None:
    """A rule's declared cause (a repository's own rule, not in the catalogue, declares none)."""
    meta = catalogue.get(rule_id)
    return meta.cause if meta is not None else None


@pytest.mark.parametrize("root", _roots(), ids=lambda p: p.name)
def test_no_two_findings_share_file_resource_property_and_cause(root: Path) -> None:
    catalogue = load_catalogue()
    for profile in _profiles():
        report = scan(root, ScanOptions(profile=profile, persona=Persona.AUDITOR, no_ignores=True))  # type: ignore[arg-type]
        assert report.findings
        keys = collections.Counter(
            (x.file, x.resource, x.property, _cause(catalogue, x.rule_id) or x.rule_id)
            for x in report.findings
        )
        repeated = [k for k, n in keys.items() if n > 1]
        assert not repeated, repeated[:5]


def test_cause_of_reads_the_catalogue() -> None:
    catalogue = load_catalogue()
    assert all(report.cause_of(catalogue, rid) == meta.cause for rid, meta in catalogue.items())
