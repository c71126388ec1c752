"""The JSON report (schema_version 2): stable, sorted, byte-identical for the same tree.

Version 2 adds, per product.md *JSON report*: `profile_source` (option|file|agent|baseline) and
`profile_notice` (the one line human formats show when the baseline was used);
in the summary `persona` (who the report is for), `grade_cap` ({grade, reason} when the worst
finding capped the grade, else null; also on every layer and module) and `hidden` (per persona
above the chosen one, the unsuppressed findings not reported); per finding `persona` and
`related` locations with their `message`. In PR mode only, `summary.pr` (`pr_dict`): the new
accepted risks, the review inputs the change edits and the findings they hide, what was not
reviewed, what the change fixed (the base's findings it no longer has: whole while under a cap,
counted per severity and rule always) and the base's score overall and per layer. `load_report` reads versions 1 and 2.

A finding with a fix (issue 22) has a `fix` member, and only such a finding (a report without
fixes is the same text as before; the addition is optional, so the schema version stays 2):
`{"safety": "safe"|"unsafe", "description": ..., "edits": [{"file", "line", "column",
"end_line", "end_column", "replacement", "original"}], "file_sha256": ...}` (the SHA-256 of the
file's bytes the edits were made for, "" when not known). Lines and columns are 1-based, the end
exclusive, in characters; `replacement` is the text put in place of the span exactly (line
breaks included); `original` is the whole lines `line`..`end_line` as scanned, joined by "\n"
(null when not known, or over `reviewer.outputs.fixdiff.FIX_TEXT_CHARS`): what a diff shows and
a pull request suggestion is built from. A fix whose replacement cannot be carried exactly is
left out (`fix_dict`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from reviewer.core.fixes import Edit, Fix, Safety
from reviewer.core.types import (
    LAYER_LABELS,
    AdrText,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    Location,
    ModuleSummary,
    Persona,
    PrDiff,
    Reference,
    Report,
    ScoreBlock,
    Severity,
    Suppression,
)
from reviewer.outputs import RenderOptions
from reviewer.outputs.fastjson import dumps, plain
from reviewer.outputs.fastjson import string as _string
from reviewer.outputs.fixdiff import exact_text
from reviewer.outputs.limits import clip, clip_opt, clip_path


def _block(block: ScoreBlock) -> dict[str, Any]:
    return {"score": block.score, "evaluated": block.evaluated, "failed": block.failed}


def _cap(block: ScoreBlock) -> dict[str, Any] | None:
    """`{"grade": "D", "reason": "a high finding"}` when the worst finding capped the grade."""
    if block.cap is None:
        return None
    return {"grade": block.cap, "reason": block.cap_reason}


def _layers(
    layers: tuple[tuple[str, ScoreBlock], ...], report: Report | None = None
) -> dict[str, Any]:
    return {
        layer: {
            **_block(block),
            "grade": block.grade,
            "grade_cap": _cap(block),
            "label": report.layer_label(layer) if report else LAYER_LABELS.get(layer, layer),
        }
        for layer, block in layers
    }


_SHA256 = re.compile(r"[0-9a-f]{64}")


def fix_dict(fix: Fix) -> dict[str, Any] | None:
    """A fix as the JSON report holds it (see the module docstring), or None when a file name or
    a replacement cannot be carried exactly."""
    edits: list[dict[str, Any]] = []
    for e in fix.edits:
        file, replacement = exact_text(e.file), exact_text(e.replacement)
        if not file or replacement is None:
            return None
        edits.append(
            {
                "file": file,
                "line": e.line,
                "column": e.column,
                "end_line": e.end_line,
                "end_column": e.end_column,
                "replacement": replacement,
                "original": None if e.original is None else exact_text(e.original),
            }
        )
    return {
        "safety": fix.safety.value,
        "description": clip(fix.description),
        "edits": edits,
        "file_sha256": fix.file_sha256 if _SHA256.fullmatch(fix.file_sha256) else "",
    }


def _with_fix(data: dict[str, Any], f: Finding) -> dict[str, Any]:
    fix = None if f.fix is None else fix_dict(f.fix)
    if fix is not None:
        data["fix"] = fix
    return data


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding as the JSON report holds it: repository text (names, paths, the message, a
    suppression's reason) clipped to `reviewer.outputs.limits`, as in every other format; its
    fix, when it has one, last."""
    return _with_fix(_finding_data(f), f)


def _finding_data(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "title": clip(f.title),
        "layer": f.layer,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "score": f.score,
        "module": clip_path(f.module),
        "file": clip_path(f.file),
        "line": f.line,
        "end_line": f.end_line,
        "column": f.column,
        "end_column": f.end_column,
        "resource": clip_opt(f.resource),
        "resource_type": clip_opt(f.resource_type),
        "property": clip_opt(f.property),
        "message": clip(f.message),
        "fingerprint": f.fingerprint,
        "new": f.new,
        "persona": f.persona.value,
        "suppressed": None
        if f.suppressed is None
        else {
            "kind": clip(f.suppressed.kind),
            "reason": clip_opt(f.suppressed.reason),
            "until": clip_opt(f.suppressed.until),
        },
        "related": [
            {
                "file": clip_path(r.file),
                "line": r.line,
                "resource": clip_opt(r.logical_id),
                "property": clip_opt(r.path),
                "message": clip(r.message),
            }
            for r in f.related
        ],
        "adr": {
            "context": f.adr.context,
            "decision": f.adr.decision,
            "consequences": f.adr.consequences,
            "references": [r.url for r in f.adr.references],
        },
    }


# -- the same text, written directly ------------------------------------------------------------
# A report holds thousands of findings and evaluations, all of one shape; writing each with one
# join (keys pre-encoded, an ADR block encoded once per rule) is several times faster than
# walking their dicts. tests/test_parallel.py holds `render` equal to json.dumps(report_dict(..)).

_FINDING_KEYS = (
    "rule_id",
    "title",
    "layer",
    "severity",
    "confidence",
    "score",
    "module",
    "file",
    "line",
    "end_line",
    "column",
    "end_column",
    "resource",
    "resource_type",
    "property",
    "message",
    "fingerprint",
    "new",
    "persona",
    "suppressed",
    "related",
    "adr",
)
_MODULE_KEYS = ("name", "path", "score", "grade", "grade_cap", "evaluated", "failed", "layers")
_LAYER_KEYS = ("score", "evaluated", "failed", "grade", "grade_cap", "label")
_EVALUATION_KEYS = ("rule_id", "layer", "module", "file", "subject", "weight", "cost")
_KEY_TEXTS: dict[str, str] = {}


def _key_text(key: str) -> str:
    text = _KEY_TEXTS.get(key)
    if text is None:
        text = _KEY_TEXTS[key] = _string(key)
    return text


def _scalar_text(value: Any) -> str:
    text = plain(value)
    if text is None:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return text


def _object_text(pairs: list[tuple[str, str]], newline: str) -> str:
    """`{"k": v, ...}` from already encoded values, its members on lines indented from newline."""
    if not pairs:
        return "{}"
    inner = newline + "  "
    return (
        "{" + ",".join([f"{inner}{_key_text(key)}: {text}" for key, text in pairs]) + newline + "}"
    )


def _array_text(items: list[str], newline: str) -> str:
    if not items:
        return "[]"
    inner = newline + "  "
    return "[" + ",".join(inner + item for item in items) + newline + "]"


def _format(keys: tuple[str, ...], newline: str) -> str:
    """A %-format writing an object of these keys (values as %s), members indented from newline."""
    inner = newline + "  "
    return "{" + ",".join(f"{inner}{_key_text(k)}: %s" for k in keys) + newline + "}"


def _remembered(table: dict[str, str], value: Any, clip: Callable[[Any], Any]) -> str:
    """`clip(value)` as JSON text, kept in `table` for a plain `str` value (a subclass may
    carry more than its text; anything else is encoded each time)."""
    if type(value) is not str:
        return _scalar_text(clip(value))
    known = table.get(value)
    if known is None:
        known = table[value] = _scalar_text(clip(value))
    return known


class _Writer:
    """Writes findings, evaluations and modules as `dumps` would: each ADR block's text, each
    evaluation's constant parts and each repository name's clipped text made once."""

    def __init__(self, report: Report | None = None) -> None:
        self.report = report  # whose layer labels the layer blocks carry
        self.adr_texts: dict[tuple[int, str], tuple[AdrText, str]] = {}
        self.formats: dict[tuple[str, str], str] = {}
        # repository text clipped and encoded, once per distinct text (paths, names, titles
        # repeat across thousands of evaluations); keyed only by str values
        self.texts: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.floats: dict[float, str] = {}
        self.heads: dict[tuple[str, str, str], str] = {}  # an evaluation's up to its module
        self.glues: dict[str, tuple[str, ...]] = {}

    def text(self, value: str | None) -> str:
        """`clip_opt(value)` as JSON text."""
        return _remembered(self.texts, value, clip_opt)

    def path(self, value: str) -> str:
        """`clip_path(value)` as JSON text."""
        return _remembered(self.paths, value, clip_path)

    def number(self, value: Any) -> str:
        """A number as JSON text; a float's spelling made once per value (zeros each time:
        0.0 and -0.0 are equal keys with different spellings)."""
        if type(value) is float and value:
            known = self.floats.get(value)
            if known is None:
                known = self.floats[value] = _scalar_text(value)
            return known
        return _scalar_text(value)

    def _fmt(self, kind: str, keys: tuple[str, ...], newline: str) -> str:
        fmt = self.formats.get((kind, newline))
        if fmt is None:
            fmt = self.formats[(kind, newline)] = _format(keys, newline)
        return fmt

    def adr(self, adr: AdrText, newline: str) -> str:
        known = self.adr_texts.get((id(adr), newline))
        if known is not None and known[0] is adr:
            return known[1]
        refs = _array_text([_scalar_text(r.url) for r in adr.references], newline + "  ")
        text = _object_text(
            [
                ("context", _scalar_text(adr.context)),
                ("decision", _scalar_text(adr.decision)),
                ("consequences", _scalar_text(adr.consequences)),
                ("references", refs),
            ],
            newline,
        )
        self.adr_texts[(id(adr), newline)] = (adr, text)
        return text

    def finding(self, f: Finding, newline: str) -> str:
        inner = newline + "  "
        s = _scalar_text
        sup = f.suppressed
        suppressed = (
            "null"
            if sup is None
            else self._fmt("suppressed", ("kind", "reason", "until"), inner)
            % (s(clip(sup.kind)), s(clip_opt(sup.reason)), s(clip_opt(sup.until)))
        )
        if f.related:
            deeper = inner + "  "
            fmt = self._fmt("related", ("file", "line", "resource", "property", "message"), deeper)
            related = _array_text(
                [
                    fmt
                    % (
                        s(clip_path(r.file)),
                        s(r.line),
                        s(clip_opt(r.logical_id)),
                        s(clip_opt(r.path)),
                        s(clip(r.message)),
                    )
                    for r in f.related
                ],
                inner,
            )
        else:
            related = "[]"
        text = self._fmt("finding", _FINDING_KEYS, newline) % (
            s(f.rule_id),
            self.text(f.title),
            s(f.layer),
            s(f.severity.value),
            s(f.confidence.value),
            self.number(f.score),
            self.path(f.module),
            self.path(f.file),
            s(f.line),
            s(f.end_line),
            s(f.column),
            s(f.end_column),
            self.text(f.resource),
            self.text(f.resource_type),
            self.text(f.property),
            s(clip(f.message)),
            s(f.fingerprint),
            s(f.new),
            s(f.persona.value),
            suppressed,
            related,
            self.adr(f.adr, inner),
        )
        fix = None if f.fix is None else fix_dict(f.fix)
        if fix is None:
            return text
        # the rare finding with a fix: its member, as json.dumps(indent=2) writes it at this depth
        member = json.dumps(fix, indent=2, ensure_ascii=False).replace("\n", inner)
        closing = newline + "}"
        return f"{text[: -len(closing)]},{inner}{_key_text('fix')}: {member}{closing}"

    def evaluation(self, e: Evaluation, newline: str) -> str:
        key = (e.rule_id, e.layer, newline)
        head = self.heads.get(key)
        if head is None:
            head = self._evaluation_head(e.rule_id, e.layer, newline)
            if type(e.rule_id) is str and type(e.layer) is str:
                self.heads[key] = head
        glue = self.glues.get(newline)
        if glue is None:
            glue = self.glues[newline] = self._evaluation_glue(newline)
        return (
            f"{head}{self.path(e.module)}{glue[0]}{self.path(e.file)}{glue[1]}"
            f"{self.text(e.subject)}{glue[2]}{self.number(e.weight)}{glue[3]}"
            f"{self.number(e.cost)}{glue[4]}"
        )

    def _evaluation_head(self, rule_id: str, layer: str, newline: str) -> str:
        """An evaluation's text up to its module's value."""
        fmt = self._fmt("evaluation", _EVALUATION_KEYS, newline)
        pieces = fmt.split("%s")
        return f"{pieces[0]}{_scalar_text(rule_id)}{pieces[1]}{_scalar_text(layer)}{pieces[2]}"

    def _evaluation_glue(self, newline: str) -> tuple[str, ...]:
        """The evaluation format's text between the module, file, subject, weight and cost
        values, and after the cost."""
        return tuple(self._fmt("evaluation", _EVALUATION_KEYS, newline).split("%s")[3:])

    def module(self, m: ModuleSummary, newline: str) -> str:
        """A module as the `modules` array of `report_dict` holds it."""
        inner = newline + "  "
        block = m.score
        return self._fmt("module", _MODULE_KEYS, newline) % (
            self.path(m.name),
            self.path(m.path),
            self.number(block.score),
            _scalar_text(block.grade),
            self.cap(block, inner),
            _scalar_text(block.evaluated),
            _scalar_text(block.failed),
            self.layers(m.layers, inner),
        )

    def cap(self, block: ScoreBlock, newline: str) -> str:
        """`_cap(block)` as JSON text."""
        if block.cap is None:
            return "null"
        return self._fmt("cap", ("grade", "reason"), newline) % (
            _scalar_text(block.cap),
            _scalar_text(block.cap_reason),
        )

    def layers(self, layers: tuple[tuple[str, ScoreBlock], ...], newline: str) -> str:
        """`_layers(layers, report)` as JSON text."""
        blocks = dict(layers)  # as the dict `_layers` makes: a repeated layer's last block
        if not blocks:
            return "{}"
        if not all(type(layer) is str for layer in blocks):
            return dumps(_layers(layers, self.report)).replace("\n", newline)
        inner = newline + "  "
        fmt = self._fmt("layer", _LAYER_KEYS, inner)
        label = self.report.layer_label if self.report is not None else _builtin_label
        return _object_text(
            [
                (
                    layer,
                    fmt
                    % (
                        self.number(block.score),
                        _scalar_text(block.evaluated),
                        _scalar_text(block.failed),
                        _scalar_text(block.grade),
                        self.cap(block, inner + "  "),
                        _scalar_text(label(layer)),
                    ),
                )
                for layer, block in blocks.items()
            ],
            newline,
        )


def _builtin_label(layer: str) -> str:
    return LAYER_LABELS.get(layer, layer)


def pr_dict(pr: PrDiff) -> dict[str, Any]:
    """The PR diff (summary.pr, PR mode only): new accepted risks by fingerprint (they are in
    `findings`), the review inputs the change edits, the findings those edits hide (whole: they
    are not in `findings`), what was not reviewed, and whose inputs judged."""
    return {
        "accepted_new": [f.fingerprint for f in pr.accepted_new],
        "changed_inputs": [{"path": clip_path(p), "kind": k} for p, k in pr.changed_inputs],
        "hidden_by_inputs": [finding_dict(f) for f in pr.hidden_by_inputs],
        "incomplete": [clip(line) for line in pr.incomplete],
        "judged_with": pr.judged_with,
        "fixed": [finding_dict(f) for f in pr.fixed],
        "fixed_total": pr.fixed_total,
        "fixed_counts": [
            {"severity": sev, "rule_id": rule, "count": n} for sev, rule, n in pr.fixed_counts
        ],
        "base_score": None
        if pr.base_score is None
        else {
            **_block(pr.base_score),
            "grade": pr.base_score.grade,
            "grade_cap": _cap(pr.base_score),
        },
        "base_layers": _layers(pr.base_layers),
    }


def load_pr(data: Any, findings: tuple[Finding, ...]) -> PrDiff | None:
    """`pr_dict` read back (None when absent); accepted risks are looked up in `findings`.
    A report written before `fixed` and `base_score` existed reads back with none."""
    if data is None:
        return None
    accepted = set(data.get("accepted_new") or ())
    fixed = tuple(_finding(f) for f in data.get("fixed") or ())
    base = data.get("base_score")
    return PrDiff(
        accepted_new=tuple(f for f in findings if f.fingerprint in accepted),
        changed_inputs=tuple(
            (str(c["path"]), str(c["kind"])) for c in data.get("changed_inputs") or ()
        ),
        hidden_by_inputs=tuple(_finding(f) for f in data.get("hidden_by_inputs") or ()),
        incomplete=tuple(str(line) for line in data.get("incomplete") or ()),
        judged_with=str(data.get("judged_with") or "head"),
        fixed=fixed,
        fixed_total=int(data.get("fixed_total") or len(fixed)),
        fixed_counts=tuple(
            (str(Severity(c["severity"]).value), str(c["rule_id"]), int(c["count"]))
            for c in data.get("fixed_counts") or ()
        ),
        base_score=None if base is None else _score_block(base),
        base_layers=_layer_blocks(data.get("base_layers")),
    )


def report_dict(
    report: Report, *, findings: bool = True, evaluations: bool = True, modules: bool = True
) -> dict[str, Any]:
    """The JSON report as plain values; without `findings` (`evaluations`, `modules`) that
    array is left empty (`render_to` writes them with encoders of their own)."""
    return {
        "schema_version": report.schema_version,
        "tool": {"name": "archreview", "version": report.tool_version},
        "root": clip_path(report.root),
        "profile": clip_path(report.profile),
        "profile_source": report.profile_source,
        "profile_notice": clip_opt(report.profile_notice),
        "summary": {
            "score": report.score.score,
            "grade": report.score.grade,
            "grade_cap": _cap(report.score),
            "evaluated": report.score.evaluated,
            "failed": report.score.failed,
            "persona": report.persona.value,
            "layers": _layers(report.layers, report),
            "counts": dict(report.counts),
            "hidden": dict(report.hidden),
            "files": {
                "templates": report.files.templates,
                "go_mod": report.files.go_mod,
                "package_json": report.files.package_json,
                "skipped": report.files.skipped,
            },
            "diff_base": report.diff_base,
            **({"pr": pr_dict(report.pr)} if report.pr is not None else {}),
            "evaluations": [
                {
                    "rule_id": e.rule_id,
                    "layer": e.layer,
                    "module": clip_path(e.module),
                    "file": clip_path(e.file),
                    "subject": clip_opt(e.subject),
                    "weight": e.weight,
                    "cost": e.cost,
                }
                for e in (report.evaluations if evaluations else ())
            ],
        },
        "modules": [
            {
                "name": clip_path(m.name),
                "path": clip_path(m.path),
                "score": m.score.score,
                "grade": m.score.grade,
                "grade_cap": _cap(m.score),
                "evaluated": m.score.evaluated,
                "failed": m.score.failed,
                "layers": _layers(m.layers, report),
            }
            for m in (report.modules if modules else ())
        ],
        "findings": [finding_dict(f) for f in report.findings] if findings else [],
    }


def render(report: Report, options: RenderOptions | None = None) -> str:
    """`json.dumps(report_dict(report), indent=2, ensure_ascii=False)` and a newline."""
    from reviewer.outputs import whole

    return whole(render_to, report, options)


def render_to(report: Report, options: RenderOptions, write: Callable[[str], object]) -> None:
    """`render`'s text handed to `write` in pieces, as it is made (a large report is never
    held whole as text: the command line streams it into its output)."""
    from reviewer.outputs.fastjson import Rendered, dump

    data = report_dict(report, findings=False, evaluations=False, modules=False)
    writer = _Writer(report)
    data["modules"] = Rendered(report.modules, writer.module)
    data["summary"]["evaluations"] = Rendered(report.evaluations, writer.evaluation)
    data["findings"] = Rendered(report.findings, writer.finding)
    dump(data, write)
    write("\n")


# -- reading a report back (the `comment` command renders from REPORT.json) --------------------


class ReportFormatError(ValueError):
    """The JSON is not an archreview report this version can read."""


def _score_block(data: Any) -> ScoreBlock:
    cap = data.get("grade_cap") or {}
    return ScoreBlock(
        score=None if data.get("score") is None else float(data["score"]),
        grade=data.get("grade"),
        evaluated=int(data.get("evaluated", 0)),
        failed=int(data.get("failed", 0)),
        cap=None if not cap.get("grade") else str(cap["grade"]),
        cap_reason=None if not cap.get("reason") else str(cap["reason"]),
    )


def _layer_names(summary: Any, modules: Any) -> tuple[tuple[str, str], ...]:
    """The labels of the layers custom rules name, as the report's layer blocks carry them."""
    found: dict[str, str] = {}
    for blocks in (summary.get("layers"), *(m.get("layers") for m in modules)):
        for layer, block in (blocks or {}).items():
            label = block.get("label") if isinstance(block, dict) else None
            if layer not in LAYER_LABELS and isinstance(label, str) and label != layer:
                found.setdefault(str(layer), label)
    return tuple(sorted(found.items()))


def _layer_blocks(data: Any) -> tuple[tuple[str, ScoreBlock], ...]:
    return tuple((str(layer), _score_block(block)) for layer, block in (data or {}).items())


def _load_fix(data: Any) -> Fix | None:
    """`fix_dict` read back (None when absent)."""
    if data is None:
        return None
    edits = tuple(
        Edit(
            file=str(e["file"]),
            line=int(e["line"]),
            column=int(e["column"]),
            end_line=int(e["end_line"]),
            end_column=int(e["end_column"]),
            replacement=str(e["replacement"]),
            original=None if e.get("original") is None else str(e["original"]),
        )
        for e in data.get("edits") or ()
    )
    sha = str(data.get("file_sha256") or "")
    return Fix(
        Safety(data["safety"]),
        str(data.get("description") or ""),
        edits,
        sha if _SHA256.fullmatch(sha) else "",
    )


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
                str(r.get("message") or ""),
            )
            for r in data.get("related") or ()
        ),
        persona=Persona(data.get("persona") or "regular"),
        fix=_load_fix(data.get("fix")),
    )


def load_report(data: dict[str, Any]) -> Report:
    """Rebuild a Report from `report_dict` output (what `--format json` writes)."""
    if not isinstance(data, dict) or data.get("schema_version") not in (1, 2):
        raise ReportFormatError("not an archreview JSON report (schema_version 1 or 2)")
    try:
        summary = data["summary"]
        files = summary.get("files") or {}
        found = tuple(_finding(f) for f in data.get("findings") or ())
        return Report(
            schema_version=int(data["schema_version"]),
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
            findings=found,
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
            pr=load_pr(summary.get("pr"), found),
            persona=Persona(summary.get("persona") or "regular"),
            hidden=tuple((str(k), int(v)) for k, v in (summary.get("hidden") or {}).items()),
            profile_source=str(data.get("profile_source") or "file"),
            profile_notice=None
            if data.get("profile_notice") is None
            else str(data["profile_notice"]),
            layer_names=_layer_names(summary, data.get("modules") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ReportFormatError(f"malformed archreview JSON report: {err!r}") from err
