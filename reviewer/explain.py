"""The rule page: what `archreview explain ID` prints and docs/rules/ID.md holds."""

from __future__ import annotations

from reviewer.adr import rule_template
from reviewer.catalogue import RuleMeta


def render_explain(meta: RuleMeta, examples: tuple[str, str] | None = None) -> str:
    lines = [
        f"# {meta.id}: {meta.title}",
        "",
        "| id | layer | severity | confidence | since | profile keys |",
        "|---|---|---|---|---|---|",
        f"| {meta.id} | {meta.layer} | {meta.severity.value} | {meta.confidence.value} | {meta.since} "
        f"| {', '.join(meta.profile_keys) or '-'} |",
        "",
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
