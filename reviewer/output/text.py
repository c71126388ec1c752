"""Terminal output: findings grouped by module and file, each with its source line and the
offending property marked, then grade and layer scores. Colour only when asked for."""

from __future__ import annotations

from itertools import groupby

from reviewer.model import LAYER_LABELS, Finding, Report, Severity
from reviewer.output import RenderOptions

_COLORS = {
    Severity.CRITICAL: "\x1b[1;35m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"


def _clean(text: str) -> str:
    """Repository text never drives the terminal: control characters are shown escaped."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def render(report: Report, options: RenderOptions | None = None) -> str:
    return render_text(report, color=(options or RenderOptions()).color)


def render_text(report: Report, *, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out: list[str] = []
    visible = [f for f in report.findings if f.suppressed is None]
    by_module = groupby(visible, key=lambda f: f.module)
    grouped: dict[str, list[Finding]] = {}
    for module, items in by_module:
        grouped.setdefault(module, []).extend(items)
    for module in sorted(grouped):
        out.append(paint(_BOLD, f"module {module}"))
        findings = sorted(grouped[module], key=Finding.sort_key)
        for file, file_findings in groupby(findings, key=lambda f: f.file):
            out.append(f"  {file}")
            for f in file_findings:
                sev = paint(_COLORS[f.severity], f"{f.severity.value:<8}")
                where = f"{f.line}:{f.column}"
                subject = f" {f.resource}" if f.resource else ""
                prop = (
                    f".{f.property}"
                    if f.property and f.resource
                    else f" {f.property}"
                    if f.property
                    else ""
                )
                out.append(
                    f"    {where:>7} {sev} {f.rule_id} {_clean(f.title)}"
                    + paint(_DIM, f" [{f.confidence.value} confidence]{subject}{prop}")
                )
                if f.source is not None and f.source.strip():
                    gutter = f"{f.line:>5} | "
                    out.append("    " + paint(_DIM, gutter) + _clean(f.source.rstrip()))
                    width = max(1, len(f.source.rstrip()) - (f.column - 1))
                    if f.end_line == f.line and f.end_column > f.column:
                        width = f.end_column - f.column
                    marker = " " * (f.column - 1) + "^" * min(width, 60)
                    out.append(
                        "    " + " " * (len(gutter) - 2) + "| " + paint(_COLORS[f.severity], marker)
                    )
                out.append("      " + _clean(f.message))
            out.append("")
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    counts = dict(report.counts)
    total = sum(counts.get(s.value, 0) for s in Severity)
    summary = ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in Severity)
    out.append(
        paint(_BOLD, f"{total} finding{'s' if total != 1 else ''}")
        + f" ({summary}; {suppressed} suppressed) in {report.files.templates} templates, "
        f"{report.files.go_mod} go.mod, {report.files.package_json} package.json"
        + (f", {report.files.skipped} skipped" if report.files.skipped else "")
    )
    grade = report.score.grade or "-"
    score = "n/a" if report.score.score is None else f"{report.score.score:.1f}"
    out.append(
        paint(_BOLD, f"Grade {grade}  score {score}/100")
        + f"  ({report.score.evaluated} evaluations, {report.score.failed} failed)"
    )
    if report.layers:
        out.append("")
        out.append(f"  {'layer':<34} {'score':>6} {'grade':>5} {'failed':>7}")
        for layer, block in report.layers:
            label = f"{layer} {LAYER_LABELS.get(layer, '')}"
            s = "n/a" if block.score is None else f"{block.score:.1f}"
            out.append(
                f"  {label:<34} {s:>6} {block.grade or '-':>5} {block.failed:>3}/{block.evaluated:<3}"
            )
    return "\n".join(out) + "\n"
