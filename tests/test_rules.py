"""Every rule against its fixtures: the cases listed in rules/<ID>.yaml hold, and the findings
(with exact lines) match fixtures/templates/<ID>/expected.json (UPDATE_SNAPSHOTS=1 rewrites)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reviewer.catalogue import load_catalogue
from reviewer.engine import ScanOptions, all_checks, scan
from reviewer.registry import Check, TemplateContext, Yielded, template_check

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


def run_rule(rule_id: str, fixture: Path, tmp: Path) -> list[dict[str, Any]]:
    """Scan one fixture (a file, or a folder standing for a repository) with one rule."""
    if fixture.is_dir():
        root = tmp / fixture.name
        shutil.copytree(fixture, root, symlinks=True)
    else:
        root = tmp / "repo"
        root.mkdir(parents=True)
        shutil.copy(fixture, root / fixture.name)
    probes = ENGINE_PROBES.get(rule_id, ())
    options = ScanOptions(checks=(CHECKS[rule_id], *probes), strict=not probes)
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
        key = case.fixture
        if key not in results:
            results[key] = run_rule(rule_id, fixture, tmp_path / str(len(results)))
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
    snapshot(FIXTURES / "templates" / rule_id / "expected.json", results)
