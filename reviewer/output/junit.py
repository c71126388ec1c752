"""JUnit XML for CI dashboards: one testcase per evaluation (rule x resource, or rule x file for
repository rules), a failure per unsuppressed finding, `skipped` when every finding of the
evaluation is suppressed. One testsuite per layer; each names the run's persona (and the findings
a higher persona would add) in its properties."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from reviewer.model import LAYER_LABELS, LAYER_ORDER, Evaluation, Finding, Report
from reviewer.output import RenderOptions
from reviewer.output.limits import clip, clip_path

# Characters XML 1.0 cannot carry (repository text may contain them).
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_Key = tuple[str, str, str | None]


def _xml(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _case_name(rule_id: str, file: str, subject: str | None) -> str:
    return f"{rule_id} {clip_path(file)}" + (f" {clip(subject)}" if subject else "")


def _group(
    evaluations: Iterable[Evaluation], findings: Iterable[Finding]
) -> dict[_Key, tuple[str, str, list[Finding]]]:
    """(rule, file, subject) -> (layer, module, findings), evaluations first, in a stable order."""
    cases: dict[_Key, tuple[str, str, list[Finding]]] = {}
    for e in evaluations:
        cases.setdefault((e.rule_id, e.file, e.subject), (e.layer, e.module, []))
    for f in findings:
        key: _Key = (f.rule_id, f.file, f.resource)
        if key not in cases:
            fallback: _Key = (f.rule_id, f.file, None)
            key = fallback if fallback in cases else key
        cases.setdefault(key, (f.layer, f.module, []))[2].append(f)
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


def junit_tree(report: Report) -> ET.Element:
    cases = _group(report.evaluations, report.findings)
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    order = {layer: i for i, layer in enumerate(LAYER_ORDER)}
    root = ET.Element("testsuites", name="archreview")
    for key in sorted(cases, key=lambda k: (order.get(cases[k][0], 99), k[0], k[1], k[2] or "")):
        layer, module, found = cases[key]
        rule_id, file, subject = key
        suite = suites.get(layer)
        if suite is None:
            label = LAYER_LABELS.get(layer, layer)
            suite = ET.SubElement(root, "testsuite", name=f"{layer} {label}")
            suite.set("tests", "0")
            _properties(suite, report)
            suites[layer] = suite
        case = ET.SubElement(
            suite,
            "testcase",
            name=_xml(_case_name(rule_id, file, subject)),
            classname=_xml(f"archreview.{layer}.{rule_id}"),
            file=_xml(clip_path(file)),
            time="0",
        )
        live = [f for f in found if f.suppressed is None]
        if found:
            case.set("line", str(min(f.line for f in found)))
        case.set("module", _xml(clip_path(module)))
        totals["tests"] += 1
        if live:
            totals["failures"] += 1
            for f in live:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=_xml(clip(f.message)),
                    type=f"{f.rule_id} {f.severity}",
                )
                failure.text = _xml(_failure_text(f))
        elif found:
            totals["skipped"] += 1
            s = found[0].suppressed
            reason = (
                f"suppressed ({clip(s.kind)}): {clip(s.reason or 'no reason')}"
                if s
                else "suppressed"
            )
            ET.SubElement(case, "skipped", message=_xml(reason))
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
