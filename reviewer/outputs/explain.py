"""The rule page: what `archreview explain ID` prints and docs/rules/ID.md holds."""

from __future__ import annotations

from reviewer.checks.catalogue import RuleMeta
from reviewer.outputs.adr import rule_template


def render_explain(meta: RuleMeta, examples: tuple[str, str] | None = None) -> str:
    lines = [
        f"# {meta.id}: {meta.title}",
        "",
        "| id | layer | severity | confidence | persona | requires | tunes | since |",
        "|---|---|---|---|---|---|---|---|",
        f"| {meta.id} | {meta.layer} | {meta.severity.value} | {meta.confidence.value} "
        f"| {meta.persona.value} | {', '.join(meta.requires) or '-'} "
        f"| {', '.join(meta.tunes) or '-'} | {meta.since} |",
        "",
        *_variants(meta),
        *([f"**Calibration.** {meta.calibration}", ""] if meta.calibration else []),
        *([f"**Fix ({meta.fix_class}).** {meta.fix_note}", ""] if meta.fix_note else []),
        "## What it finds",
        "",
        meta.description,
        "",
        "## ADR template",
        "",
        "`archreview adr PATH --out DIR` writes this record (MADR 4.0) once per module where the "
        "rule finds something; the placeholders in braces are filled from the findings.",
        "",
        "````markdown",
        rule_template(meta).rstrip("\n"),
        "````",
        "",
    ]
    if examples is not None:
        fail, ok = examples
        lines += ["## Before (fails)", "", "```yaml", fail.rstrip(), "```", ""]
        lines += ["## After (passes)", "", "```yaml", ok.rstrip(), "```", ""]
    lines += ["## References", ""]
    lines += [f"- [{r.title}]({r.url})" for r in meta.references]
    if meta.nist:
        lines.append(f"- NIST SP 800-53: {', '.join(meta.nist)}")
    if meta.owasp:
        lines.append(f"- OWASP: {', '.join(meta.owasp)}")
    return "\n".join(lines) + "\n"


def _variants(meta: RuleMeta) -> list[str]:
    """The cases of the rule that differ from it (`variants:` in the rule file), one row each."""
    if not meta.variants:
        return []
    rows = ["| variant | title | persona | severity | confidence |", "|---|---|---|---|---|"]
    for v in meta.variants:
        rows.append(
            f"| {v.id} | {v.title or meta.title} | {(v.persona or meta.persona).value} "
            f"| {(v.severity or meta.severity).value} "
            f"| {(v.confidence or meta.confidence).value} |"
        )
    return [*rows, ""]
