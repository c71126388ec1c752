"""Every rule against its fixtures: the cases listed in rules/<ID>.yaml hold, and the findings
(with exact lines) match fixtures/templates/<ID>/expected.json (UPDATE_SNAPSHOTS=1 rewrites)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewer.checks.catalogue import load_catalogue
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.types import Persona
from reviewer.profile import Profile
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES, snapshot

CHECKS = {c.rule_id: c for c in all_checks()}
CATALOGUE = load_catalogue()
# Live-mode rules (AR-DRF-*) compare the repository with deployed stacks: their cases run
# against moto in tests/test_aws.py (test_drf_cases), which declares each case's deployed side.
LIVE_RULES = frozenset(i for i in CHECKS if i.startswith("AR-DRF-"))
RULES_WITH_CASES = sorted(
    i for i in CHECKS if CATALOGUE.get(i) and CATALOGUE[i].cases and i not in LIVE_RULES
)


@template_check("AR-TST-999")
def crash_probe(ctx: TemplateContext) -> list[Yielded]:
    """Raises on a resource named CrashProbe: how AR-MOD-005's fixtures make a check crash."""
    if "CrashProbe" in ctx.template.resources:
        raise KeyError("CrashProbe")
    return []


ENGINE_PROBES: dict[str, tuple[Check, ...]] = {"AR-MOD-005": (crash_probe,)}


def case_profile(name: str | None) -> Profile | None:
    """The profile a case is scanned with (`profile:` in its entry): a preset name such as
    `chariot`; None, the scan's default (the built-in baseline)."""
    if name is None:
        return None
    from reviewer.profile.loader import preset

    return preset(name)


def run_rule(
    rule_id: str, fixture: Path, tmp: Path, profile: Profile | None = None
) -> list[dict[str, Any]]:
    """Scan one fixture (a file, or a folder standing for a repository) with one rule."""
    if fixture.is_dir():
        root = tmp / fixture.name
        shutil.copytree(fixture, root, symlinks=True)
    else:
        root = tmp / "repo"
        root.mkdir(parents=True)
        shutil.copy(fixture, root / fixture.name)
    probes = ENGINE_PROBES.get(rule_id, ())
    # every persona: a case asserts the persona of what it expects
    options = ScanOptions(
        checks=(CHECKS[rule_id], *probes), strict=not probes, persona=Persona.AUDITOR
    )
    if profile is not None:
        options = replace(options, profile=profile)
    report = scan(root, options)
    return [
        {
            "rule_id": f.rule_id,
            "file": f.file,
            "line": f.line,
            "column": f.column,
            "resource": f.resource,
            "property": f.property,
            "severity": f.severity.value,
            "confidence": f.confidence.value,
            "message": f.message,
            "persona": f.persona.value,
        }
        for f in report.findings
        if f.rule_id == rule_id
    ]


@pytest.mark.parametrize("rule_id", RULES_WITH_CASES)
def test_rule_cases_and_snapshot(rule_id: str, tmp_path: Path) -> None:
    meta = CATALOGUE[rule_id]
    results: dict[str, list[dict[str, Any]]] = {}
    for case in meta.cases:
        fixture = FIXTURES / case.fixture
        key = case.fixture if case.profile is None else f"{case.fixture} (profile {case.profile})"
        if key not in results:
            results[key] = run_rule(
                rule_id, fixture, tmp_path / str(len(results)), case_profile(case.profile)
            )
        found = results[key]
        if case.expect == "pass":
            assert not found, f"{rule_id} case {case.id}: {case.fixture} should pass, got {found}"
        else:
            assert found, f"{rule_id} case {case.id}: {case.fixture} should fail"
            if case.says:
                assert any(
                    case.says in f["message"]
                    or case.says == f["severity"]
                    or case.says == f["confidence"]
                    for f in found
                ), f"{rule_id} case {case.id}: no finding says {case.says!r}: {found}"
            if case.persona is not None:
                assert any(
                    f["persona"] == case.persona.value
                    and (not case.says or case.says in f["message"] or case.says in f.values())
                    for f in found
                ), f"{rule_id} case {case.id}: no finding of persona {case.persona}: {found}"
    # the persona is asserted by the cases that name one, not kept in the snapshots
    kept = {
        k: [{n: v for n, v in f.items() if n != "persona"} for f in fs] for k, fs in results.items()
    }
    snapshot(FIXTURES / "templates" / rule_id / "expected.json", kept)
