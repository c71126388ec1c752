"""Reports built by hand for the output tests: any number of findings of any rule, with the
fields a scan fills (persona, hidden counts, profile source, grade cap, related locations),
without running the engine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from reviewer.core.types import (
    AdrText,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    Location,
    ModuleSummary,
    Persona,
    Report,
    ScoreBlock,
    Severity,
)

DECISION = (
    "Set VisibilityTimeout on the queue to at least six times the function's Timeout, e.g. "
    "1800 s for a 300 s function. Alternatively lower the Timeout."
)


def finding(
    rule_id: str = "AR-EVT-003",
    severity: Severity = Severity.HIGH,
    i: int = 0,
    **changes: Any,
) -> Finding:
    """Finding number `i` of a rule: its own resource, line and fingerprint."""
    confidence = changes.pop("confidence", Confidence.HIGH)
    fields: dict[str, Any] = {
        "rule_id": rule_id,
        "title": f"Title of {rule_id}",
        "layer": rule_id.split("-")[1],
        "severity": severity,
        "confidence": confidence,
        "score": round(severity.number * confidence.factor, 2),
        "module": "svc",
        "file": "svc/template.yaml",
        "line": 10 + i,
        "end_line": 10 + i,
        "column": 5,
        "end_column": 9,
        "resource": f"Queue{i:04d}",
        "resource_type": "AWS::SQS::Queue",
        "property": "VisibilityTimeout",
        "message": f"Queue{i:04d} has a message",
        "fingerprint": hashlib.sha256(f"{rule_id}/{i}".encode()).hexdigest()[:32],
        "adr": AdrText("The context.", DECISION, "Good: g. Bad: b."),
        "source": "    VisibilityTimeout: 30",
    }
    fields.update(changes)
    return Finding(**fields)


def counts_of(findings: Iterable[Finding]) -> tuple[tuple[str, int], ...]:
    found = list(findings)
    live = [f for f in found if f.suppressed is None]
    return (
        *((s.value, sum(1 for f in live if f.severity == s)) for s in Severity),
        ("suppressed", len(found) - len(live)),
    )


def report(
    findings: Iterable[Finding],
    *,
    score: ScoreBlock | None = None,
    persona: Persona = Persona.REGULAR,
    hidden: tuple[tuple[str, int], ...] = (),
    profile: str = ".archreview.yml",
    profile_source: str = "file",
    profile_notice: str | None = None,
    root: str = "repo",
) -> Report:
    found = tuple(findings)
    block = score or ScoreBlock(72.4, "D", 10, 3, cap="D", cap_reason="a high finding")
    layers = tuple(sorted({f.layer for f in found})) or ("EVT",)
    modules = tuple(sorted({f.module for f in found})) or ("svc",)
    first = found[0] if found else finding()
    return Report(
        schema_version=2,
        tool_version="0",
        root=root,
        profile=profile,
        score=block,
        layers=tuple((layer, block) for layer in layers),
        counts=counts_of(found),
        files=FileCounts(templates=1),
        modules=tuple(ModuleSummary(m, m, block, ((layers[0], block),)) for m in modules),
        findings=found,
        evaluations=(
            Evaluation(first.rule_id, first.layer, first.module, first.file, None, 8.0, 8.0),
        ),
        persona=persona,
        hidden=hidden,
        profile_source=profile_source,
        profile_notice=profile_notice,
    )


def related(n: int, message: str = "also here") -> tuple[Location, ...]:
    """`n` related locations, each on its own line of another file."""
    return tuple(
        Location("svc/other.yaml", 100 + k, 3, 100 + k, 9, f"Other{k}", "Properties", message)
        for k in range(n)
    )


def many(n: int, rule_id: str = "AR-EVT-003", severity: Severity = Severity.HIGH) -> list[Finding]:
    return [finding(rule_id, severity, i) for i in range(n)]
