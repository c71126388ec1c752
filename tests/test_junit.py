"""--format junit: one testcase per (rule x resource) evaluated, failures for findings."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from reviewer import scan
from reviewer.cli.main import main
from reviewer.core.types import Persona, Severity, Suppression
from reviewer.outputs.junit import render

from .conftest import FIXTURES
from .report_fixtures import finding, report

# reviewed as `make example` reviews it: against its committed agent definition (reviewer.scan)
EXAMPLE = FIXTURES / "repos" / "chariot-platform"


def _cases(root: ET.Element) -> list[ET.Element]:
    return [case for suite in root.findall("testsuite") for case in suite.findall("testcase")]


def test_one_testcase_per_finding_or_passing_evaluation_and_one_failure_each() -> None:
    """Issue 18 item 8: a testcase holds at most one <failure> (one testcase per finding), and
    info findings are not failures."""
    report = scan(EXAMPLE)
    root = ET.fromstring(render(report).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = _cases(root)
    named = {(f.rule_id, f.file, f.resource) for f in report.findings}
    named |= {(f.rule_id, f.file, None) for f in report.findings}
    passing = {(e.rule_id, e.file, e.subject) for e in report.evaluations} - named
    assert len(cases) == len(report.findings) + len(passing) == int(root.get("tests", "-1"))
    assert all(len(c.findall("failure")) <= 1 for c in cases)
    failed = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    live = [f for f in report.findings if f.suppressed is None]
    above_info = [f for f in live if f.severity is not Severity.INFO]
    assert len(failed) == len(above_info) == int(root.get("failures", "-1"))
    assert int(root.get("skipped", "-1")) == len(skipped) == 1  # the example's accepted risk
    assert root.get("errors") == "0"
    passed = [c for c in cases if len(c) == 0]
    assert len(passed) == len(passing) > 100
    for suite in root.findall("testsuite"):
        tests = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(tests)
        assert int(suite.get("failures", "-1")) == sum(t.find("failure") is not None for t in tests)
    api = next(
        c
        for c in cases
        if c.get("name", "").startswith(
            "AR-API-001 modules/janus/cloudformation/service.json ScanApiStage"
        )
    )
    failure = api.find("failure")
    assert failure is not None and failure.get("type") == "AR-API-001 high"
    assert api.get("classname") == "archreview.API.AR-API-001"
    assert "decision:" in (failure.text or "")


def test_two_findings_on_one_resource_are_two_testcases_and_info_passes() -> None:
    one = finding("AR-EVT-003", Severity.HIGH, 1)
    two = replace(finding("AR-EVT-003", Severity.MEDIUM, 2), resource=one.resource, file=one.file)
    remark = finding("AR-OBS-002", Severity.INFO, 3)
    root = ET.fromstring(render(report([one, two, remark])).encode("utf-8"))
    cases = _cases(root)
    evt = [c for c in cases if c.get("classname") == "archreview.EVT.AR-EVT-003"]
    assert len(evt) == 2 and all(len(c.findall("failure")) == 1 for c in evt)
    info = next(c for c in cases if c.get("classname") == "archreview.OBS.AR-OBS-002")
    assert info.find("failure") is None and info.find("skipped") is None
    out = info.find("system-out")
    assert out is not None and "AR-OBS-002" in (out.text or "")
    assert root.get("failures") == "2" and root.get("tests") == "3"


def test_hostile_text_stays_valid_xml() -> None:
    report = scan(EXAMPLE)
    bad = "\x00\x1b[31m <script>&\"'</script> ]]> \ud800"
    at = next(
        i
        for i, f in enumerate(report.findings)
        if f.suppressed is None and f.severity is not Severity.INFO
    )
    first = replace(report.findings[at], message=bad, resource=bad)
    findings = (*report.findings[:at], first, *report.findings[at + 1 :])
    doc = render(replace(report, findings=findings))
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
