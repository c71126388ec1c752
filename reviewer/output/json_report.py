"""The JSON report (schema_version 1): stable, sorted, byte-identical for the same tree."""

from __future__ import annotations

import json
from typing import Any

from reviewer.model import LAYER_LABELS, Finding, Report, ScoreBlock
from reviewer.output import RenderOptions


def _block(block: ScoreBlock) -> dict[str, Any]:
    return {"score": block.score, "evaluated": block.evaluated, "failed": block.failed}


def _layers(layers: tuple[tuple[str, ScoreBlock], ...]) -> dict[str, Any]:
    return {
        layer: {**_block(block), "grade": block.grade, "label": LAYER_LABELS.get(layer, layer)}
        for layer, block in layers
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "title": f.title,
        "layer": f.layer,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "score": f.score,
        "module": f.module,
        "file": f.file,
        "line": f.line,
        "end_line": f.end_line,
        "column": f.column,
        "end_column": f.end_column,
        "resource": f.resource,
        "resource_type": f.resource_type,
        "property": f.property,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "new": f.new,
        "suppressed": None
        if f.suppressed is None
        else {
            "kind": f.suppressed.kind,
            "reason": f.suppressed.reason,
            "until": f.suppressed.until,
        },
        "related": [
            {"file": r.file, "line": r.line, "resource": r.logical_id, "property": r.path}
            for r in f.related
        ],
        "adr": {
            "context": f.adr.context,
            "decision": f.adr.decision,
            "consequences": f.adr.consequences,
            "references": [r.url for r in f.adr.references],
        },
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema_version": report.schema_version,
        "tool": {"name": "archreview", "version": report.tool_version},
        "root": report.root,
        "profile": report.profile,
        "summary": {
            "score": report.score.score,
            "grade": report.score.grade,
            "evaluated": report.score.evaluated,
            "failed": report.score.failed,
            "layers": _layers(report.layers),
            "counts": dict(report.counts),
            "files": {
                "templates": report.files.templates,
                "go_mod": report.files.go_mod,
                "package_json": report.files.package_json,
                "skipped": report.files.skipped,
            },
        },
        "modules": [
            {
                "name": m.name,
                "path": m.path,
                "score": m.score.score,
                "grade": m.score.grade,
                "evaluated": m.score.evaluated,
                "failed": m.score.failed,
                "layers": _layers(m.layers),
            }
            for m in report.modules
        ],
        "findings": [finding_dict(f) for f in report.findings],
    }


def render(report: Report, options: RenderOptions | None = None) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
