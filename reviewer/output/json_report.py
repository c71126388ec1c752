"""The JSON report (schema_version 1): stable, sorted, byte-identical for the same tree."""

from __future__ import annotations

from typing import Any

from reviewer.model import (
    LAYER_LABELS,
    AdrText,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    Location,
    ModuleSummary,
    Reference,
    Report,
    ScoreBlock,
    Severity,
    Suppression,
)
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


def report_dict(report: Report, *, findings: bool = True) -> dict[str, Any]:
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
            "diff_base": report.diff_base,
            "evaluations": [
                {
                    "rule_id": e.rule_id,
                    "layer": e.layer,
                    "module": e.module,
                    "file": e.file,
                    "subject": e.subject,
                    "weight": e.weight,
                    "cost": e.cost,
                }
                for e in report.evaluations
            ],
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
        "findings": [finding_dict(f) for f in report.findings] if findings else [],
    }


def render(report: Report, options: RenderOptions | None = None) -> str:
    from reviewer.output.fastjson import Lazy, dumps  # = json.dumps(indent=2, ensure_ascii=False)

    data = report_dict(report, findings=False)
    data["findings"] = Lazy(report.findings, finding_dict)  # one finding's dict at a time
    return dumps(data) + "\n"


# -- reading a report back (the `comment` command renders from REPORT.json) --------------------


class ReportFormatError(ValueError):
    """The JSON is not an archreview report this version can read."""


def _score_block(data: Any) -> ScoreBlock:
    return ScoreBlock(
        score=None if data.get("score") is None else float(data["score"]),
        grade=data.get("grade"),
        evaluated=int(data.get("evaluated", 0)),
        failed=int(data.get("failed", 0)),
    )


def _layer_blocks(data: Any) -> tuple[tuple[str, ScoreBlock], ...]:
    return tuple((str(layer), _score_block(block)) for layer, block in (data or {}).items())


def _finding(data: Any) -> Finding:
    adr = data.get("adr") or {}
    sup = data.get("suppressed")
    return Finding(
        rule_id=str(data["rule_id"]),
        title=str(data.get("title") or data["rule_id"]),
        layer=str(data.get("layer") or ""),
        severity=Severity(data["severity"]),
        confidence=Confidence(data["confidence"]),
        score=float(data.get("score") or 0.0),
        module=str(data.get("module") or "."),
        file=str(data.get("file") or ""),
        line=int(data.get("line") or 1),
        end_line=int(data.get("end_line") or data.get("line") or 1),
        column=int(data.get("column") or 1),
        end_column=int(data.get("end_column") or data.get("column") or 1),
        resource=data.get("resource"),
        resource_type=data.get("resource_type"),
        property=data.get("property"),
        message=str(data.get("message") or ""),
        fingerprint=str(data.get("fingerprint") or ""),
        adr=AdrText(
            str(adr.get("context") or ""),
            str(adr.get("decision") or ""),
            str(adr.get("consequences") or ""),
            tuple(Reference(str(u), str(u)) for u in adr.get("references") or ()),
        ),
        new=data.get("new"),
        suppressed=None
        if sup is None
        else Suppression(str(sup.get("kind") or "inline"), sup.get("reason"), sup.get("until")),
        related=tuple(
            Location(
                str(r.get("file") or ""),
                int(r.get("line") or 1),
                1,
                int(r.get("line") or 1),
                1,
                r.get("resource"),
                r.get("property"),
            )
            for r in data.get("related") or ()
        ),
    )


def load_report(data: dict[str, Any]) -> Report:
    """Rebuild a Report from `report_dict` output (what `--format json` writes)."""
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise ReportFormatError("not an archreview JSON report (schema_version 1)")
    try:
        summary = data["summary"]
        files = summary.get("files") or {}
        return Report(
            schema_version=1,
            tool_version=str((data.get("tool") or {}).get("version") or ""),
            root=str(data.get("root") or "."),
            profile=str(data.get("profile") or ""),
            score=_score_block(summary),
            layers=_layer_blocks(summary.get("layers")),
            counts=tuple((str(k), int(v)) for k, v in (summary.get("counts") or {}).items()),
            files=FileCounts(
                templates=int(files.get("templates", 0)),
                go_mod=int(files.get("go_mod", 0)),
                package_json=int(files.get("package_json", 0)),
                skipped=int(files.get("skipped", 0)),
            ),
            modules=tuple(
                ModuleSummary(
                    name=str(m["name"]),
                    path=str(m.get("path") or m["name"]),
                    score=_score_block(m),
                    layers=_layer_blocks(m.get("layers")),
                )
                for m in data.get("modules") or ()
            ),
            findings=tuple(_finding(f) for f in data.get("findings") or ()),
            evaluations=tuple(
                Evaluation(
                    rule_id=str(e["rule_id"]),
                    layer=str(e["layer"]),
                    module=str(e["module"]),
                    file=str(e["file"]),
                    subject=e.get("subject"),
                    weight=float(e["weight"]),
                    cost=float(e["cost"]),
                )
                for e in summary.get("evaluations") or ()
            ),
            diff_base=summary.get("diff_base"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ReportFormatError(f"malformed archreview JSON report: {err!r}") from err
