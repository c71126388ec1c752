"""JUnit XML for CI dashboards, one testsuite per layer. A testcase is either a passing
evaluation (rule x resource, or rule x file for repository rules, that no finding names) or one
finding: so a failing testcase holds exactly one `<failure>`, as JUnit readers expect (several
failures in one testcase are shown as one, or counted wrongly). An unsuppressed finding above
info is a failure; an info finding is a passing testcase that says what it found in
`<system-out>` (info is a remark, it fails nothing, as it gates nothing); a suppressed finding
is `<skipped>` with its reason. Each suite names the run's persona (and the findings a higher
persona would add) in its properties."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from reviewer.core.types import LAYER_ORDER, Evaluation, Finding, Report, Severity
from reviewer.outputs import RenderOptions
from reviewer.outputs.limits import clip, clip_path

# Characters XML 1.0 cannot carry (repository text may contain them).
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_Key = tuple[str, str, str | None]


def _xml(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _case_name(rule_id: str, file: str, subject: str | None, prop: str | None = None) -> str:
    name = f"{rule_id} {clip_path(file)}" + (f" {clip(subject)}" if subject else "")
    return name + (f" {clip(prop)}" if prop else "")


def _group(
    evaluations: Iterable[Evaluation], findings: Iterable[Finding]
) -> list[tuple[_Key, str, str, Finding | None]]:
    """Testcases as (rule, file, subject), layer, module and the finding (None: a pass): every
    finding, and every evaluation that no finding names."""
    named: set[_Key] = set()
    cases: list[tuple[_Key, str, str, Finding | None]] = []
    for f in findings:
        cases.append(((f.rule_id, f.file, f.resource), f.layer, f.module, f))
        named.add((f.rule_id, f.file, f.resource))
        named.add((f.rule_id, f.file, None))
    seen: set[_Key] = set()
    for e in evaluations:
        key: _Key = (e.rule_id, e.file, e.subject)
        if key in named or key in seen:
            continue
        seen.add(key)
        cases.append((key, e.layer, e.module, None))
    return cases


def _failure_text(f: Finding) -> str:
    where = f"{clip_path(f.file)}:{f.line}:{f.column}"
    resource, rtype, prop = (clip(n or "-") for n in (f.resource, f.resource_type, f.property))
    lines = [
        f"{where} {f.rule_id} [{f.severity}/{f.confidence}] {clip(f.message)}",
        f"resource: {resource} ({rtype}), property: {prop}",
        f"decision: {clip(f.adr.decision)}",
    ]
    if f.new is not None:
        lines.append("new in this change" if f.new else "already present on the diff base")
    return "\n".join(lines)


def _properties(suite: ET.Element, report: Report) -> None:
    """The run's persona, and the findings it left out per higher persona, as the suite's
    properties (JUnit has no place for them elsewhere)."""
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="persona", value=report.persona.value)
    for name, count in report.hidden:
        ET.SubElement(props, "property", name=f"hidden.{_xml(clip(name))}", value=str(count))


def _sort_key(case: tuple[_Key, str, str, Finding | None]) -> tuple[object, ...]:
    (rule_id, file, subject), layer, _, f = case
    where = (f.line, f.property or "", f.message) if f is not None else (0, "", "")
    return (_ORDER.get(layer, 99), rule_id, file, subject or "", *where)


_ORDER = {layer: i for i, layer in enumerate(LAYER_ORDER)}


def junit_tree(report: Report) -> ET.Element:
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    root = ET.Element("testsuites", name="archreview")
    for case_key in sorted(_group(report.evaluations, report.findings), key=_sort_key):
        (rule_id, file, subject), layer, module, f = case_key
        suite = suites.get(layer)
        if suite is None:
            label = report.layer_label(layer)
            suite = ET.SubElement(root, "testsuite", name=f"{layer} {label}")
            suite.set("tests", "0")
            _properties(suite, report)
            suites[layer] = suite
        prop = f.property if f is not None else None
        case = ET.SubElement(
            suite,
            "testcase",
            name=_xml(_case_name(rule_id, file, subject, prop)),
            classname=_xml(f"archreview.{layer}.{rule_id}"),
            file=_xml(clip_path(file)),
            time="0",
        )
        if f is not None:
            case.set("line", str(f.line))
        case.set("module", _xml(clip_path(module)))
        totals["tests"] += 1
        if f is None:
            continue
        if f.suppressed is not None:
            totals["skipped"] += 1
            s = f.suppressed
            reason = f"suppressed ({clip(s.kind)}): {clip(s.reason or 'no reason')}"
            ET.SubElement(case, "skipped", message=_xml(reason))
        elif f.severity is Severity.INFO:
            out = ET.SubElement(case, "system-out")
            out.text = _xml(_failure_text(f))
        else:
            totals["failures"] += 1
            failure = ET.SubElement(
                case, "failure", message=_xml(clip(f.message)), type=f"{f.rule_id} {f.severity}"
            )
            failure.text = _xml(_failure_text(f))
    for suite in suites.values():
        tests = suite.findall("testcase")
        suite.set("tests", str(len(tests)))
        suite.set("failures", str(sum(1 for t in tests if t.find("failure") is not None)))
        suite.set("errors", "0")
        suite.set("skipped", str(sum(1 for t in tests if t.find("skipped") is not None)))
        suite.set("time", "0")
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    root.set("time", "0")
    return root


def render(report: Report, options: RenderOptions | None = None) -> str:
    tree = junit_tree(report)
    ET.indent(tree)
    body = ET.tostring(tree, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
