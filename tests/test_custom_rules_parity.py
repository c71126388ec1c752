"""Five built-in rules of different shapes, re-expressed as custom rules
(fixtures/custom-rules/builtins/.archreview/rules/X-*.yaml), give the same findings as the built-ins — the same
(rule, file, line, logical id, property, severity) once X- is mapped to AR- — on every fixture
of the rule (fixtures/templates/AR-.../, with the profile each case names) and on the whole
serverless-patterns corpus.

AR-DAT-002: a property. AR-CMP-002: a property SAM Globals may give. AR-OBS-004: a relationship
(an alarm on a dead-letter queue, across templates). AR-EVT-003: a comparison across an edge
with a factor. AR-DBS-003: a count."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reviewer.checks.catalogue import load_catalogue
from reviewer.checks.custom import build
from reviewer.checks.custom.language import parse_rule
from reviewer.core.types import Persona, Report
from reviewer.profile import Profile
from reviewer.runner import engine
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES, require_shared

BUILTINS = FIXTURES / "custom-rules" / "builtins" / ".archreview" / "rules"
RULES = ("AR-DAT-002", "AR-CMP-002", "AR-OBS-004", "AR-EVT-003", "AR-DBS-003")
CHECKS = {c.rule_id: c for c in all_checks()}
CATALOGUE = load_catalogue()

Row = tuple[str, str, int, str | None, str | None, str]


def _custom(rule_id: str) -> Any:
    path = BUILTINS / f"X-{rule_id[3:]}.yaml"
    rule = parse_rule(path.read_text(encoding="utf-8"), path.name)
    return build((rule,))


def _profile(name: str | None) -> Profile:
    if name is None:
        return Profile()
    from reviewer.profile.loader import preset

    return preset(name)


def _rows(report: Report, rule_id: str) -> tuple[list[Row], list[Row]]:
    """(the built-in's rows, the custom rule's rows with X- mapped to AR-)."""
    mine = "X-" + rule_id[3:]
    builtin: list[Row] = []
    custom: list[Row] = []
    for f in report.findings:
        row = (rule_id, f.file, f.line, f.resource, f.property, f.severity.value)
        if f.rule_id == rule_id:
            builtin.append(row)
        elif f.rule_id == mine:
            custom.append(row)
    return sorted(builtin), sorted(custom)


def _scan(root: Path, rule_id: str, profile: Profile) -> Report:
    """Scan with the built-in and its re-expression (handed to the engine as the repository's
    own rules would be: the corpus is read-only, so no rule file is written into it)."""
    custom = _custom(rule_id)
    options = ScanOptions(
        checks=(CHECKS[rule_id], *custom.checks),
        strict=True,
        persona=Persona.AUDITOR,
        profile=profile,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "load_custom_rules", lambda root, profile: custom)
        return scan(root, options)


def _cases() -> list[tuple[str, str, str | None, bool]]:
    """(rule, fixture, profile, whether the rule's cases expect it to fail there): the cases of
    rules/<ID>.yaml, then every other fixture of the rule's folder."""
    out: dict[tuple[str, str, str | None], bool] = {}
    for rule_id in RULES:
        for case in CATALOGUE[rule_id].cases:
            key = (rule_id, case.fixture, case.profile)
            out[key] = out.get(key, False) or case.expect == "fail"
        folder = FIXTURES / "templates" / rule_id
        for entry in sorted(folder.iterdir()):
            key = (rule_id, f"templates/{rule_id}/{entry.name}", None)
            if entry.name != "expected.json" and key not in out:
                out[key] = False
    return [(*key, fails) for key, fails in out.items()]


@pytest.mark.parametrize(("rule_id", "fixture", "profile", "fails"), _cases())
def test_custom_rule_matches_builtin_on_its_fixtures(
    rule_id: str, fixture: str, profile: str | None, fails: bool, tmp_path: Path
) -> None:
    source = FIXTURES / fixture
    root = tmp_path / "repo"
    if source.is_dir():
        shutil.copytree(source, root, symlinks=True)
    else:
        root.mkdir()
        shutil.copy(source, root / source.name)
    builtin, custom = _rows(_scan(root, rule_id, _profile(profile)), rule_id)
    if fails:  # the comparison is not vacuous where the rule's cases expect findings
        assert builtin, f"{rule_id} finds nothing on {fixture}"
    assert custom == builtin


@pytest.mark.slow
@pytest.mark.parametrize("rule_id", RULES)
def test_custom_rule_matches_builtin_on_the_corpus(rule_id: str) -> None:
    corpus = require_shared("corpora", "serverless-patterns")
    profile = _profile("chariot" if rule_id == "AR-DBS-003" else None)
    builtin, custom = _rows(_scan(corpus, rule_id, profile), rule_id)
    assert builtin, f"{rule_id} finds nothing on the corpus: the comparison would be vacuous"
    missing = sorted(set(builtin) - set(custom))
    extra = sorted(set(custom) - set(builtin))
    assert not missing and not extra, (missing[:10], extra[:10])
    assert custom == builtin
