"""Personas, variants and `requires` in the engine (product.md *Personas*, *Profile*; issue 16):
where a finding's title, persona, severity, confidence and decision come from; the persona
filter and its hidden counts (not reported, not scored, never gating); rules that require an
undeclared profile key give nothing; the persona and the module profiles are part of every
cache key; the JSON report's version 2 fields."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.checks.catalogue import RuleMeta, Variant, load_catalogue
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.cli.main import main
from reviewer.core.types import Confidence, Hit, Location, Persona, Severity
from reviewer.outputs.json_report import load_report, render, report_dict
from reviewer.profile import Profile
from reviewer.runner import engine
from reviewer.runner.engine import ScanOptions, scan

TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Resources:
      Alpha:
        Type: AWS::SQS::Queue
      Beta:
        Type: AWS::SQS::Queue
      Gamma:
        Type: AWS::SQS::Queue
    """
)
RULE = "AR-EVT-001"  # the probes below speak for this rule, with the metadata each test sets


def _meta(**changes: Any) -> RuleMeta:
    return dataclasses.replace(load_catalogue()[RULE], **changes)


@pytest.fixture
def catalogue(monkeypatch: pytest.MonkeyPatch) -> Callable[..., RuleMeta]:
    """Set RULE's metadata for the engine of this test."""

    def set_meta(**changes: Any) -> RuleMeta:
        meta = _meta(**changes)
        patched = {**load_catalogue(), RULE: meta}
        monkeypatch.setattr(engine, "load_catalogue", lambda: patched)
        return meta

    return set_meta


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    return root


def probe(*hits: Hit) -> Check:
    @template_check(RULE)
    def check(ctx: TemplateContext) -> list[Yielded]:
        return list(hits)

    return check


def by_resource(report: Any) -> dict[str, Any]:
    return {f.resource: f for f in report.findings if f.rule_id == RULE}


VARIANTS = (
    Variant("nudge", title="A nudge", persona=Persona.PEDANTIC, severity=Severity.LOW),
    Variant(
        "record",
        title="A decision to record",
        persona=Persona.AUDITOR,
        confidence=Confidence.LOW,
        decision="Record why this queue keeps its failures.",
    ),
)


# -- where a finding's fields come from ---------------------------------------------------------


def test_hit_over_variant_over_rule(repo: Path, catalogue: Callable[..., RuleMeta]) -> None:
    meta = catalogue(
        persona=Persona.REGULAR,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        variants=VARIANTS,
    )
    check = probe(
        Hit("Alpha", (), "plain"),  # the rule's
        Hit("Beta", (), "nudge", variant="nudge"),  # the variant's
        Hit(
            "Gamma", (), "both", variant="nudge", persona=Persona.AUDITOR, severity=Severity.MEDIUM
        ),
    )
    found = by_resource(
        scan(repo, ScanOptions(checks=(check,), persona=Persona.AUDITOR, strict=True))
    )
    alpha, beta, gamma = found["Alpha"], found["Beta"], found["Gamma"]
    assert (alpha.title, alpha.persona, alpha.severity, alpha.confidence) == (
        meta.title,
        Persona.REGULAR,
        Severity.HIGH,
        Confidence.HIGH,
    )
    assert alpha.adr is meta.adr
    assert (beta.title, beta.persona, beta.severity, beta.confidence) == (
        "A nudge",
        Persona.PEDANTIC,
        Severity.LOW,
        Confidence.HIGH,
    )
    assert beta.adr is meta.adr  # no decision of its own
    assert (gamma.title, gamma.persona, gamma.severity) == (
        "A nudge",
        Persona.AUDITOR,
        Severity.MEDIUM,
    )


def test_a_variant_decision_replaces_the_rules_and_is_shared(
    repo: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    meta = catalogue(variants=VARIANTS)
    check = probe(Hit("Alpha", (), "a", variant="record"), Hit("Beta", (), "b", variant="record"))
    found = by_resource(scan(repo, ScanOptions(checks=(check,), persona=Persona.AUDITOR)))
    alpha, beta = found["Alpha"], found["Beta"]
    assert alpha.adr.decision == "Record why this queue keeps its failures."
    assert alpha.adr.context == meta.context and alpha.adr.consequences == meta.consequences
    assert alpha.adr is beta.adr  # one AdrText per (rule, variant)
    assert alpha.confidence is Confidence.LOW and alpha.title == "A decision to record"


def test_the_profile_overrides_win(repo: Path, catalogue: Callable[..., RuleMeta]) -> None:
    catalogue(variants=VARIANTS)
    check = probe(
        Hit("Alpha", (), "a", variant="nudge", severity=Severity.CRITICAL, persona=Persona.AUDITOR)
    )
    profile = Profile(
        severity_overrides=((RULE, Severity.INFO),),
        rule_personas=((RULE, Persona.REGULAR),),
    )
    (alpha,) = by_resource(scan(repo, ScanOptions(checks=(check,), profile=profile))).values()
    assert (alpha.severity, alpha.persona) == (Severity.INFO, Persona.REGULAR)


def test_an_unknown_variant_is_an_error_in_strict_scans(
    repo: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    catalogue(variants=VARIANTS)
    check = probe(Hit("Alpha", (), "a", variant="no-such-variant"))
    with pytest.raises(ValueError, match="no-such-variant"):
        scan(repo, ScanOptions(checks=(check,), strict=True))
    (alpha,) = by_resource(scan(repo, ScanOptions(checks=(check,)))).values()  # else the rule's
    assert alpha.title == load_catalogue()[RULE].title


# -- the persona filter --------------------------------------------------------------------------


def _three_personas(catalogue: Callable[..., RuleMeta]) -> Check:
    catalogue(persona=Persona.REGULAR, severity=Severity.MEDIUM, variants=VARIANTS)
    return probe(
        Hit("Alpha", (), "defect"),
        Hit("Beta", (), "hygiene", variant="nudge", severity=Severity.CRITICAL),
        Hit("Gamma", (), "prompt", variant="record", severity=Severity.CRITICAL),
    )


def test_findings_above_the_persona_are_counted_not_reported_not_scored(
    repo: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    check = _three_personas(catalogue)
    reports = {p: scan(repo, ScanOptions(checks=(check,), persona=p)) for p in Persona}
    shown = {p: sorted(by_resource(r)) for p, r in reports.items()}
    assert shown == {
        Persona.REGULAR: ["Alpha"],
        Persona.PEDANTIC: ["Alpha", "Beta"],
        Persona.AUDITOR: ["Alpha", "Beta", "Gamma"],
    }
    assert dict(reports[Persona.REGULAR].hidden) == {"pedantic": 1, "auditor": 1}
    assert dict(reports[Persona.PEDANTIC].hidden) == {"pedantic": 0, "auditor": 1}
    assert dict(reports[Persona.AUDITOR].hidden) == {"pedantic": 0, "auditor": 0}
    assert all(r.persona is p for p, r in reports.items())
    # the hidden criticals weigh nothing: a medium finding alone
    regular = reports[Persona.REGULAR]
    assert (regular.score.score, regular.score.grade) == (94.5, "C")
    assert reports[Persona.PEDANTIC].score.grade == "F"
    assert dict(regular.counts)["critical"] == 0


def test_the_persona_comes_from_the_option_else_the_profile(
    repo: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    check = _three_personas(catalogue)
    profile = Profile(persona=Persona.PEDANTIC)
    from_profile = scan(repo, ScanOptions(checks=(check,), profile=profile))
    assert from_profile.persona is Persona.PEDANTIC and sorted(by_resource(from_profile)) == [
        "Alpha",
        "Beta",
    ]
    option = scan(repo, ScanOptions(checks=(check,), profile=profile, persona=Persona.REGULAR))
    assert option.persona is Persona.REGULAR and sorted(by_resource(option)) == ["Alpha"]


def test_hidden_findings_never_gate(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--persona` on the command line: a pedantic critical fails the gate only when shown."""
    from reviewer import checks

    meta = _meta(variants=VARIANTS, severity=Severity.LOW)
    patched = {**load_catalogue(), RULE: meta}
    monkeypatch.setattr(engine, "load_catalogue", lambda: patched)
    check = probe(Hit("Beta", (), "hygiene", variant="nudge", severity=Severity.CRITICAL))
    monkeypatch.setattr(checks, "CHECKS", (check,))
    runner = CliRunner()
    base = ["scan", str(repo), "--no-cache", "--fail-on", "high", "--format", "json"]
    regular = runner.invoke(main, base)
    assert regular.exit_code == 0, regular.output
    data = json.loads(regular.stdout)
    assert data["findings"] == [] and data["summary"]["hidden"] == {"pedantic": 1, "auditor": 0}
    pedantic = runner.invoke(main, [*base, "--persona", "pedantic"])
    assert pedantic.exit_code == 1
    assert [f["persona"] for f in json.loads(pedantic.stdout)["findings"]] == ["pedantic"]
    assert runner.invoke(main, [*base, "--persona", "nobody"]).exit_code == 2


# -- requires ----------------------------------------------------------------------------------------


def test_a_rule_whose_required_keys_are_not_declared_does_not_run(
    repo: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    catalogue(requires=("events.retention_days",))
    ran: list[str] = []

    @template_check(RULE)
    def check(ctx: TemplateContext) -> list[Yielded]:
        ran.append(ctx.template.file)
        return [Hit("Alpha", (), "retention")]

    silent = scan(repo, ScanOptions(checks=(check,), profile=Profile(declared=frozenset())))
    assert ran == [] and not by_resource(silent)
    assert not [e for e in silent.evaluations if e.rule_id == RULE]  # no evaluations either
    declared = Profile(declared=frozenset({"events.retention_days"}), queue_retention_days=14)
    loud = scan(repo, ScanOptions(checks=(check,), profile=declared))
    assert ran == ["svc/template.yaml"] and by_resource(loud)
    assert [e for e in loud.evaluations if e.rule_id == RULE]


def test_required_keys_are_judged_per_module(
    tmp_path: Path, catalogue: Callable[..., RuleMeta], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that declares the key for itself runs the rule; the others do not."""
    catalogue(requires=("events.retention_days",))
    root = tmp_path / "repo"
    for name in ("declared", "silent"):
        (root / name).mkdir(parents=True)
        (root / name / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    declared = Profile(declared=frozenset({"events.retention_days"}), queue_retention_days=7)
    seen: dict[str, Any] = {}

    def resolve(root_: Path, profile: Profile, inventory: Any) -> dict[str, Profile]:
        return {"declared": declared}

    monkeypatch.setattr(engine, "module_profiles", resolve)

    @template_check(RULE)
    def check(ctx: TemplateContext) -> list[Yielded]:
        seen[ctx.template.module] = ctx.profile.queue_retention_days
        return [Hit("Alpha", (), "retention")]

    report = scan(root, ScanOptions(checks=(check,), profile=Profile(declared=frozenset())))
    assert seen == {"declared": 7}  # the module's own profile, and only there
    assert {f.module for f in report.findings if f.rule_id == RULE} == {"declared"}
    assert {e.module for e in report.evaluations if e.rule_id == RULE} == {"declared"}


def test_a_repository_checks_findings_count_only_where_its_rule_runs(
    tmp_path: Path, catalogue: Callable[..., RuleMeta], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository check runs once when any module's profile lets its rule run; what it says
    about a module whose profile does not is taken back (findings and evaluations)."""
    from reviewer.checks.registry import RepoContext, repo_check

    catalogue(requires=("events.retention_days",))
    root = tmp_path / "repo"
    for name in ("declared", "silent"):
        (root / name).mkdir(parents=True)
        (root / name / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    declared = Profile(declared=frozenset({"events.retention_days"}), queue_retention_days=7)
    monkeypatch.setattr(engine, "module_profiles", lambda *_: {"declared": declared})
    asked: list[int | None] = []

    @repo_check(RULE)
    def check(ctx: RepoContext) -> list[Yielded]:
        asked.append(ctx.profile_for("declared").queue_retention_days)
        asked.append(ctx.profile_for("silent").queue_retention_days)
        return [
            Hit(None, (), f"about {m}", file=f"{m}/template.yaml") for m in ("declared", "silent")
        ]

    report = scan(root, ScanOptions(checks=(check,), profile=Profile(declared=frozenset())))
    assert asked == [7, None]
    assert [f.module for f in report.findings if f.rule_id == RULE] == ["declared"]
    assert {e.module for e in report.evaluations if e.rule_id == RULE} == {"declared"}
    # no profile lets it run: it does not run at all
    monkeypatch.setattr(engine, "module_profiles", lambda *_: {})
    asked.clear()
    scan(root, ScanOptions(checks=(check,), profile=Profile(declared=frozenset())))
    assert asked == []


def test_a_module_declares_for_itself_through_its_own_profile_file(
    tmp_path: Path, catalogue: Callable[..., RuleMeta]
) -> None:
    """The module's .archreview.yml (read by reviewer.profile.loader.resolve_modules) reaches the
    module's checks and gates the rule there; editing it reaches a cached scan."""
    catalogue(requires=("events.retention_days",))
    root = tmp_path / "repo"
    for name in ("declared", "silent"):
        (root / name).mkdir(parents=True)
        (root / name / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    own = root / "declared" / ".archreview.yml"
    own.write_text("version: 1\nevents:\n  retention_days: 7\n", encoding="utf-8")
    seen: dict[str, Any] = {}

    @template_check(RULE)
    def check(ctx: TemplateContext) -> list[Yielded]:
        seen[ctx.template.module] = ctx.profile.queue_retention_days
        return [Hit("Alpha", (), f"retention {ctx.profile.queue_retention_days}")]

    cache = str(tmp_path / "cache")
    report = scan(root, ScanOptions(checks=(check,), cache_dir=cache))
    assert seen == {"declared": 7}
    assert [(f.module, f.message) for f in report.findings if f.rule_id == RULE] == [
        ("declared", "retention 7")
    ]
    own.write_text("version: 1\nevents:\n  retention_days: 3\n", encoding="utf-8")
    again = scan(root, ScanOptions(checks=(check,), cache_dir=cache))
    assert [f.message for f in again.findings if f.rule_id == RULE] == ["retention 3"]


# -- cache keys -------------------------------------------------------------------------------------


def test_the_persona_is_part_of_the_cache_keys(
    repo: Path, catalogue: Callable[..., RuleMeta], tmp_path: Path
) -> None:
    check = _three_personas(catalogue)
    cache = str(tmp_path / "cache")
    for persona, expected in ((Persona.REGULAR, 1), (Persona.AUDITOR, 3), (Persona.REGULAR, 1)):
        report = scan(repo, ScanOptions(checks=(check,), persona=persona, cache_dir=cache))
        assert len(by_resource(report)) == expected, persona


def test_the_command_line_replays_only_the_same_persona(repo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = [
        "scan",
        str(repo),
        "--cache-dir",
        str(tmp_path / "c"),
        "--fail-on",
        "never",
        "--format",
        "json",
    ]
    first = json.loads(runner.invoke(main, base).stdout)
    audit = json.loads(runner.invoke(main, [*base, "--persona", "auditor"]).stdout)
    again = json.loads(runner.invoke(main, base).stdout)
    assert first == again
    assert first["summary"]["persona"] == again["summary"]["persona"] == "regular"
    assert audit["summary"]["persona"] == "auditor"
    assert len(audit["findings"]) == len(first["findings"]) + sum(
        first["summary"]["hidden"].values()
    )


# -- the JSON report, version 2 ------------------------------------------------------------------------


def test_json_version_2_fields(repo: Path, catalogue: Callable[..., RuleMeta]) -> None:
    catalogue(persona=Persona.REGULAR, severity=Severity.HIGH, variants=VARIANTS)
    related = (Location("svc/template.yaml", 5, 3, 5, 3, "Beta", None, "also: Beta"),)
    check = probe(Hit("Alpha", (), "defect"), Hit("Gamma", (), "prompt", variant="record"))
    report = scan(repo, ScanOptions(checks=(check,)))
    report = dataclasses.replace(
        report, findings=tuple(dataclasses.replace(f, related=related) for f in report.findings)
    )
    data = json.loads(render(report))
    assert data == report_dict(report)
    assert data["schema_version"] == 2
    assert data["profile_source"] in ("option", "file", "agent", "baseline")
    assert data["summary"]["grade_cap"] == {"grade": "D", "reason": "a high finding"}
    assert data["summary"]["hidden"] == {"pedantic": 0, "auditor": 1}
    (finding,) = [f for f in data["findings"] if f["rule_id"] == RULE]
    assert finding["persona"] == "regular"
    assert finding["related"] == [
        {
            "file": "svc/template.yaml",
            "line": 5,
            "resource": "Beta",
            "property": None,
            "message": "also: Beta",
        }
    ]
    back = load_report(data)  # what `comment` renders from
    assert (back.persona, back.hidden, back.score.cap, back.score.cap_reason) == (
        Persona.REGULAR,
        report.hidden,
        "D",
        "a high finding",
    )
    assert back.findings[0].related[0].message == "also: Beta"
    assert back.findings[0].persona is Persona.REGULAR
    assert load_report({**data, "schema_version": 1}).persona is Persona.REGULAR  # 1 still reads


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@settings(derandomize=True, deadline=None, max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Persona)),
            st.lists(st.tuples(_text, st.integers(0, 99), st.none() | _text, _text), max_size=3),
        ),
        max_size=4,
    ),
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.none() | st.tuples(st.sampled_from("ABCDF"), _text),
)
def test_json_render_equals_json_dumps_with_version_2_fields(
    findings: list[tuple[Persona, list[tuple[str, int, str | None, str]]]],
    hidden: tuple[int, int],
    cap: tuple[str, str] | None,
) -> None:
    base = _example()
    made = tuple(
        dataclasses.replace(
            base.findings[0],
            file=f"f{i}.yaml",
            line=i + 1,
            persona=persona,
            related=tuple(
                Location(file, line, 1, line, 1, res, None, msg) for file, line, res, msg in rel
            ),
        )
        for i, (persona, rel) in enumerate(findings)
    )
    score = dataclasses.replace(
        base.score, cap=cap[0] if cap else None, cap_reason=cap[1] if cap else None
    )
    report = dataclasses.replace(
        base,
        findings=(*base.findings, *made),
        hidden=(("pedantic", hidden[0]), ("auditor", hidden[1])),
        score=score,
        profile_notice="notice",
    )
    assert render(report) == json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


_EXAMPLE: list[Any] = []


def _example() -> Any:
    if not _EXAMPLE:
        from .conftest import FIXTURES

        _EXAMPLE.append(
            scan(FIXTURES / "repos" / "chariot-platform", ScanOptions(persona=Persona.AUDITOR))
        )
    return _EXAMPLE[0]
