"""`--format markdown`: the example repository's document as a snapshot, hostile repository
text rendered inert, PR mode, and truncation under a size limit."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.engine import scan
from reviewer.model import (
    AdrText,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    ModuleSummary,
    Report,
    ScoreBlock,
    Severity,
    Suppression,
)
from reviewer.output import renderer
from reviewer.output.markdown import GITHUB_COMMENT_LIMIT, code, render_markdown, text

from .conftest import FIXTURES, ROOT

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
SNAPSHOTS = ROOT / "tests" / "snapshots" / "markdown"


def text_snapshot(path: Path, actual: str) -> None:
    """Compare with a text snapshot; UPDATE_SNAPSHOTS=1 rewrites it (review the diff)."""
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            pytest.fail(f"snapshot {path} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"snapshot {path.relative_to(ROOT)} differs (UPDATE_SNAPSHOTS=1)"


def test_example_repository_markdown_snapshot() -> None:
    report = replace(scan(EXAMPLE), tool_version="@@VERSION@@", root="@@ROOT@@")
    doc = render_markdown(report)
    text_snapshot(SNAPSHOTS / "chariot-platform.md", doc)
    assert len(doc) < GITHUB_COMMENT_LIMIT
    assert doc.startswith("## archreview: grade ")
    assert "### Scores by layer" in doc and "### Modules x layers" in doc
    assert "```mermaid" in doc and "classDef gA" in doc
    assert "[modules/chariot/template.yml:193](modules/chariot/template.yml#L193)" in doc
    assert "Set each consumed queue's visibility timeout" in doc  # the decision line
    assert "### Accepted risks (1)" in doc


def test_markdown_is_a_registered_format_and_a_cli_choice(tmp_path: Path) -> None:
    report = scan(EXAMPLE)
    assert renderer("markdown")(report, None) == render_markdown(report)  # type: ignore[arg-type]
    out = tmp_path / "report.md"
    result = CliRunner().invoke(
        main, ["scan", str(EXAMPLE), "--format", "markdown", "--output", str(out), "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render_markdown(report)


# -- hostile text ------------------------------------------------------------------------------

HOSTILE = (
    "@org/team <script>alert(1)</script> | cell ``` fence\n## Injected heading\r\n"
    "<img src=x onerror=alert(1)> [link](javascript:alert(1)) ![i](http://x/y.png) "
    "&lt;b&gt; #123 \u202eevil\u202c *bold* _it_ ~~s~~ `tick`"
)


def _finding(rule: str, severity: Severity, **kw: object) -> Finding:
    base = {
        "rule_id": rule,
        "title": "t",
        "layer": "API",
        "severity": severity,
        "confidence": Confidence.HIGH,
        "score": severity.number,
        "module": "modules/api",
        "file": "modules/api/template.yaml",
        "line": 7,
        "end_line": 7,
        "column": 3,
        "end_column": 9,
        "resource": "Api",
        "resource_type": "AWS::ApiGateway::Stage",
        "property": None,
        "message": "plain message",
        "fingerprint": f"fp-{rule}-{kw.get('line', 7)}",
        "adr": AdrText("c", "d", "Good: g. Bad: b."),
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def _report(findings: list[Finding], modules: tuple[str, ...] = ("modules/api",)) -> Report:
    block = ScoreBlock(72.5, "C", 4, 1)
    return Report(
        schema_version=1,
        tool_version="0",
        root="/r",
        profile="built-in default",
        score=block,
        layers=(("API", block),),
        counts=(("critical", 0), ("high", len(findings)), ("medium", 0), ("low", 0), ("info", 0), ("suppressed", 0)),
        files=FileCounts(templates=1),
        modules=tuple(ModuleSummary(m, m, block, (("API", block),)) for m in modules),
        findings=tuple(findings),
        evaluations=(Evaluation("AR-API-001", "API", modules[0], findings[0].file, findings[0].resource, 8.0, 8.0),),
    )


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_hostile_repository_text_is_rendered_inert() -> None:
    hostile = _finding(
        "AR-API-001",
        Severity.HIGH,
        module=f"modules/{HOSTILE}",
        file=f"modules/{HOSTILE}/template.yaml",
        resource=HOSTILE,
        property=HOSTILE,
        message=HOSTILE,
        suppressed=None,
    )
    accepted = _finding(
        "AR-API-003",
        Severity.HIGH,
        line=9,
        resource="Stage`|@x",
        suppressed=Suppression("inline", HOSTILE, "2027-01-31"),
    )
    report = replace(_report([hostile, accepted], (hostile.module, "modules/api")), diff_base=HOSTILE)
    report = replace(report, findings=(replace(hostile, new=True), replace(accepted, new=False)))
    doc = render_markdown(report)
    lines = doc.split("\n")
    # no raw HTML from the repository: our own <details>/<summary>/<sub> only
    tags = set(re.findall(r"<(/?[A-Za-z]+)", doc))
    assert tags <= {"details", "/details", "summary", "/summary", "sub", "/sub"}, tags
    assert "&lt;script&gt;" in doc and "&amp;lt;b&amp;gt;" in doc
    # no @mention or #reference: each @ and #digit is followed by a zero-width joiner
    assert not re.search(r"@(?!\u200d)\w", doc)
    outside = re.sub(r"```mermaid.*?```", "", doc, flags=re.S).replace("#L", "")
    assert not re.search(r"#(?!\u200d)\d", outside)
    # no bidi overrides survive
    assert "\u202e" not in doc
    # the newline in the text does not start a heading, and no fence but the mermaid one opens
    assert not any(line.startswith("## Injected") for line in lines)
    assert [line for line in lines if line.lstrip().startswith("```")] == ["```mermaid", "```"]
    # every table row has exactly as many cell separators as its header
    for i, line in enumerate(lines):
        if line.startswith("| ") and lines[i + 1].startswith("|---"):
            width = _unescaped_pipes(line)
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                assert _unescaped_pipes(lines[j]) == width, lines[j]
                j += 1
    # links stay links: the target is percent-encoded, the label escaped
    assert "(modules/%40org/team%20%3Cscript%3E" in doc
    # the mermaid labels carry only plain characters and #code; entities
    mermaid = doc[doc.index("```mermaid") : doc.index("```", doc.index("```mermaid") + 3)]
    assert "<" not in mermaid and "@" not in mermaid and '"]' in mermaid
    for line in mermaid.split("\n")[2:]:
        assert line.count('"') in (0, 2), line


def test_escaping_helpers() -> None:
    assert text("a|b") == "a\\|b"
    assert text("x\ny") == "x y"
    assert text("@here") == "@\u200dhere"
    assert text("<b>&") == "&lt;b&gt;&amp;"
    assert code("Queue.Arn") == "`Queue.Arn`"
    assert code("a`b") == "a\\`b"
    assert code("a|b") == "a\\|b"


def test_pr_mode_puts_new_findings_first() -> None:
    old = _finding("AR-API-003", Severity.CRITICAL, line=3, new=False, message="old one")
    new = _finding("AR-API-001", Severity.LOW, line=9, new=True, message="new one")
    doc = render_markdown(replace(_report([old, new]), diff_base="origin/main"))
    assert doc.index("### New findings (1) against `origin/main`") < doc.index("new one")
    assert doc.index("new one") < doc.index("<details>") < doc.index("old one")
    assert "**1 new** against `origin/main`" in doc


def test_truncation_drops_the_least_severe_sections_first() -> None:
    findings = []
    for i, sev in enumerate([Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW] * 60):
        findings.append(_finding(f"AR-API-00{1 + i % 4}", sev, line=i + 1, message="x" * 200, module=f"m{i % 3}"))
    report = _report(findings, ("m0", "m1", "m2"))
    full = render_markdown(report)
    limit = len(full) // 2
    cut = render_markdown(report, max_chars=limit)
    assert len(cut) <= limit
    assert "Left out to stay within the size limit" in cut
    assert "low findings in m0" in cut and "the map of modules and layers" in cut
    assert "**Critical**" in cut and "**Low**" not in cut
    assert cut.endswith("</sub>\n")
    small = render_markdown(report, max_chars=2000)
    assert len(small) <= 2000 and "20 critical findings in m0" in small
    tiny = render_markdown(report, max_chars=600)
    assert len(tiny) <= 600 and "truncated" in tiny
    assert tiny.count("```") % 2 == 0
    assert render_markdown(report, max_chars=len(full)) == full
