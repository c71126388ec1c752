"""--format junit: one testcase per (rule x resource) evaluated, failures for findings."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from reviewer import scan
from reviewer.cli import main
from reviewer.model import Persona, Severity, Suppression
from reviewer.output.junit import render

from .conftest import FIXTURES
from .report_fixtures import finding, report

# reviewed as `make example` reviews it: against its committed agent definition (reviewer.scan)
EXAMPLE = FIXTURES / "repos" / "chariot-platform"


def _cases(root: ET.Element) -> list[ET.Element]:
    return [case for suite in root.findall("testsuite") for case in suite.findall("testcase")]


def test_one_testcase_per_evaluation_and_failures_for_findings() -> None:
    report = scan(EXAMPLE)
    root = ET.fromstring(render(report).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = _cases(root)
    keys = {(e.rule_id, e.file, e.subject) for e in report.evaluations}
    assert len(cases) == len(keys) == int(root.get("tests", "-1"))
    failed = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert int(root.get("failures", "-1")) == len(failed)
    assert int(root.get("skipped", "-1")) == len(skipped) == 1  # the example's accepted risk
    assert root.get("errors") == "0"
    # every unsuppressed finding is one <failure>, in the testcase of its evaluation
    failures = [f for c in cases for f in c.findall("failure")]
    live = [f for f in report.findings if f.suppressed is None]
    assert len(failures) == len(live)
    # passes are testcases without a child
    passed = [c for c in cases if len(c) == 0]
    assert len(passed) == len(cases) - len(failed) - len(skipped) > 100
    # suites per layer add up
    for suite in root.findall("testsuite"):
        tests = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(tests)
        assert int(suite.get("failures", "-1")) == sum(t.find("failure") is not None for t in tests)
    api = next(
        c
        for c in cases
        if c.get("name") == "AR-API-001 modules/janus/cloudformation/service.json ScanApiStage"
    )
    failure = api.find("failure")
    assert failure is not None and failure.get("type") == "AR-API-001 high"
    assert api.get("classname") == "archreview.API.AR-API-001"
    assert "decision:" in (failure.text or "")


def test_hostile_text_stays_valid_xml() -> None:
    report = scan(EXAMPLE)
    bad = "\x00\x1b[31m <script>&\"'</script> ]]> \ud800"
    first = replace(report.findings[0], message=bad, resource=bad)
    doc = render(replace(report, findings=(first, *report.findings[1:])))
    root = ET.fromstring(doc.encode("utf-8", "surrogatepass"))
    texts = [f.get("message") or "" for c in _cases(root) for f in c.findall("failure")]
    assert any("<script>" in t for t in texts)


def test_suppressed_everywhere_is_skipped_with_the_reason() -> None:
    report = scan(EXAMPLE)
    target = next(f for f in report.findings if f.rule_id == "AR-API-001" and f.suppressed is None)
    findings = tuple(
        replace(f, suppressed=Suppression("profile", "behind the corporate proxy"))
        if f is target
        else f
        for f in report.findings
    )
    root = ET.fromstring(render(replace(report, findings=findings)).encode("utf-8"))
    case = next(c for c in _cases(root) if c.get("name", "").endswith(str(target.resource)))
    skipped = case.find("skipped")
    assert skipped is not None and "corporate proxy" in (skipped.get("message") or "")


def test_cli_junit_output(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    out = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        main, ["scan", str(root), "--format", "junit", "--output", str(out), "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    tree = ET.parse(out)
    assert tree.getroot().tag == "testsuites" and int(tree.getroot().get("tests", "0")) > 100


def test_each_suite_names_the_persona_and_the_hidden_findings() -> None:
    shown = report(
        [finding("AR-EVT-003", Severity.HIGH, 1), finding("AR-OBS-002", Severity.LOW, 2)],
        persona=Persona.PEDANTIC,
        hidden=(("auditor", 4),),
    )
    root = ET.fromstring(render(shown).encode("utf-8"))
    suites = root.findall("testsuite")
    assert {s.get("name") for s in suites} == {"EVT Event pipeline", "OBS L5 Monitoring and audit"}
    for suite in suites:
        assert suite[0].tag == "properties"  # before the test cases, as the schema wants
        props = {p.get("name"): p.get("value") for p in suite[0].findall("property")}
        assert props == {"persona": "pedantic", "hidden.auditor": "4"}
    failures = [f for s in suites for c in s.findall("testcase") for f in c.findall("failure")]
    assert len(failures) == 2
