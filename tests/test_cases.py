"""Every case of every rule reads as one thing (issue 19, item 4): the text a user gets for each
finding of the rule fixtures (fixtures/templates/AR-*/) -- its title, message and decision --
rendered per rule into tests/snapshots/cases/<ID>.txt (UPDATE_SNAPSHOTS=1 rewrites them; read
the diff: a title or decision that contradicts the message is a defect), and checks of the
contradictions the issue found, so they cannot come back."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.core.types import Finding, Persona
from reviewer.profile.loader import load_profile
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES, ROOT, text_snapshot
from .test_rules import CATALOGUE, CHECKS, ENGINE_PROBES, RULES_WITH_CASES, case_profile

SNAPSHOTS = ROOT / "tests" / "snapshots" / "cases"


def _findings(rule_id: str, fixture: Path, tmp: Path, profile_name: str | None) -> list[Finding]:
    """The rule's findings on one fixture (a file, or a folder standing for a repository), at
    every persona."""
    if fixture.is_dir():
        root = tmp / fixture.name
        shutil.copytree(fixture, root, symlinks=True)
    else:
        root = tmp / "repo"
        root.mkdir(parents=True)
        shutil.copy(fixture, root / fixture.name)
    probes = ENGINE_PROBES.get(rule_id, ())
    options = ScanOptions(
        checks=(CHECKS[rule_id], *probes), strict=not probes, persona=Persona.AUDITOR
    )
    profile = case_profile(profile_name)
    if profile is not None:
        options = replace(options, profile=profile)
    return [f for f in scan(root, options).findings if f.rule_id == rule_id]


def _case_findings(rule_id: str, tmp: Path) -> dict[str, list[Finding]]:
    """Each failing fixture of the rule's cases (with the profile the case names): its findings."""
    out: dict[str, list[Finding]] = {}
    for case in CATALOGUE[rule_id].cases:
        if case.expect != "fail":
            continue
        key = case.fixture if case.profile is None else f"{case.fixture} (profile {case.profile})"
        if key not in out:
            out[key] = _findings(
                rule_id, FIXTURES / case.fixture, tmp / str(len(out)), case.profile
            )
    return out


def render_cases(rule_id: str, found: dict[str, list[Finding]]) -> str:
    """The rule's cases as a reader meets them: one block per (title, decision) pair, with the
    message of every finding that has them."""
    meta = CATALOGUE[rule_id]
    groups: dict[tuple[str, str], list[str]] = {}
    for key, findings in found.items():
        for f in findings:
            where = f"{key}:{f.line} {f.resource or '-'}"
            line = f"  - [{f.persona.value}, {f.severity.value}] {where}: {f.message}"
            groups.setdefault((f.title, f.adr.decision), []).append(line)
    out = [f"{rule_id}: {meta.title}", f"ADR title: {meta.adr_title}", ""]
    for (title, decision), lines in groups.items():
        out += [f"title: {title}", f"decision: {decision}", "findings:", *lines, ""]
    return "\n".join(out)


@pytest.mark.parametrize("rule_id", RULES_WITH_CASES)
def test_every_case_text_snapshot(rule_id: str, tmp_path: Path) -> None:
    found = _case_findings(rule_id, tmp_path)
    assert any(found.values()), f"{rule_id}: no failing case fixture produced a finding"
    meta = CATALOGUE[rule_id]
    for findings in found.values():
        for f in findings:
            # a finding of a variant with a title of its own carries it, and the variant's decision
            titled = [v for v in meta.variants if v.title == f.title]
            assert f.title == meta.title or titled, (rule_id, f.title)
            for v in titled:
                if v.decision:
                    assert f.adr.decision == v.decision, (rule_id, v.id)
    text_snapshot(SNAPSHOTS / f"{rule_id}.txt", render_cases(rule_id, found))


# -- the contradictions issue 19 found ----------------------------------------------------------


def _all(rule_id: str, tmp: Path) -> list[Finding]:
    return [f for fs in _case_findings(rule_id, tmp).values() for f in fs]


def test_a_go_module_newer_than_declared_is_not_called_below_it(tmp_path: Path) -> None:
    newer = [f for f in _all("AR-STK-001", tmp_path) if "newer than the declared" in f.message]
    assert newer
    for f in newer:
        assert "below" not in f.title
        assert "newer than the declared" in f.title
        assert "Raise the module" not in f.adr.decision


def _with_profile(rule_id: str, fixture: Path, profile_text: str, tmp: Path) -> list[Finding]:
    """The rule's findings on a fixture file scanned with a profile written beside it."""
    root = tmp / "repo"
    root.mkdir(parents=True)
    shutil.copy(fixture, root / fixture.name)
    (root / ".archreview.yml").write_text(profile_text, encoding="utf-8")
    profile = load_profile(root / ".archreview.yml")
    options = ScanOptions(checks=(CHECKS[rule_id],), persona=Persona.AUDITOR, profile=profile)
    return [f for f in scan(root, options).findings if f.rule_id == rule_id]


TLS_13 = "version: 1\nlayers:\n  data:\n    tls_minimum: TLSv1.3\n"


def test_a_tls_1_3_minimum_is_not_told_to_set_tls_1_2(tmp_path: Path) -> None:
    fixtures = FIXTURES / "templates" / "AR-API-007"
    found = [
        f
        for i, name in enumerate(("fail.yaml", "pass.yaml", "pass.json"))
        for f in _with_profile("AR-API-007", fixtures / name, TLS_13, tmp_path / str(i))
    ]
    below = [f for f in found if f.title == "API custom domain below the declared TLS minimum"]
    old = [f for f in found if f.title == "API custom domain admits TLS 1.0 or 1.1"]
    assert below, "a TLS_1_2 domain is below a declared TLS 1.3 minimum"
    assert old
    for f in below + old:
        assert "below the declared minimum TLS 1.3" in f.message
        assert "TLS_1_2" not in f.message.split("below the declared minimum", 1)[1]
        assert "enhanced SecurityPolicy_TLS13_*" in f.message
    for f in below:
        assert f.adr.decision.startswith("Set a SecurityPolicy that requires the declared minimum")
        assert "TLS 1.2 or newer" not in f.adr.decision
    # the baseline's floor (TLS 1.2) still names TLS_1_2 as the fix
    baseline = _findings("AR-API-007", fixtures / "fail.yaml", tmp_path / "baseline", None)
    deprecated = [f for f in baseline if f.title == "API custom domain admits TLS 1.0 or 1.1"]
    assert deprecated
    assert all("set SecurityPolicy TLS_1_2 or an enhanced" in f.message for f in deprecated)


def test_each_variant_with_a_decision_of_its_own_is_told_it(tmp_path: Path) -> None:
    """The endpoint cases of AR-API-007 are told to close the endpoint, not to change TLS."""
    endpoint = [f for f in _all("AR-API-007", tmp_path) if "default endpoint" in f.title]
    assert endpoint
    for f in endpoint:
        assert f.adr.decision.startswith("Set DisableExecuteApiEndpoint: true")
        assert "SecurityPolicy" not in f.adr.decision


STAGE_FROM_A_PARAMETER = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /
            Method: get
"""


def test_a_stage_named_by_a_parameter_is_named_as_the_template_writes_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(STAGE_FROM_A_PARAMETER, encoding="utf-8")
    ids = ("AR-API-001", "AR-API-003", "AR-API-004")
    options = ScanOptions(checks=tuple(CHECKS[i] for i in ids), persona=Persona.AUDITOR)
    found = [f for f in scan(root, options).findings if f.rule_id in ids]
    assert {f.rule_id for f in found} == set(ids)
    for f in found:
        assert "${Stage}" in f.message, f.message
        assert "?" not in f.message, f.message


def test_no_message_prints_an_unknown_value_as_a_question_mark(tmp_path: Path) -> None:
    for rule_id in RULES_WITH_CASES:
        for f in _all(rule_id, tmp_path / rule_id):
            assert " ? " not in f"{f.title} {f.message} ", (rule_id, f.message)
