"""`--format markdown`: the example repository's document as a snapshot, hostile repository
text rendered inert, PR mode, and truncation under a size limit."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer import scan
from reviewer.cli.main import main
from reviewer.core.types import (
    AdrText,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    Location,
    ModuleSummary,
    Report,
    ScoreBlock,
    Severity,
    Suppression,
)
from reviewer.outputs import renderer
from reviewer.outputs.markdown import GITHUB_COMMENT_LIMIT, code, render_markdown, text

from .conftest import FIXTURES, ROOT
from .report_fixtures import finding, many, report

# reviewed as `make example` reviews it: against its committed agent definition (reviewer.scan)
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
    assert "### Decisions to take" in doc and "### Summary by rule" in doc
    assert "### Scores by layer" in doc and "### Modules x layers" in doc
    assert "```mermaid" in doc and "classDef gA" in doc
    assert "[modules/chariot/template.yml:193](modules/chariot/template.yml#L193)" in doc
    assert "Set each consumed queue's visibility timeout" in doc  # the decision line
    assert "- Decide: Set VisibilityTimeout on the AWS::SQS::Queue to at least six times" in doc
    assert "### Accepted risks (1)" in doc


def test_markdown_is_a_registered_format_and_a_cli_choice(tmp_path: Path) -> None:
    report = scan(EXAMPLE)
    assert renderer("markdown")(report, None) == render_markdown(report)  # type: ignore[arg-type]
    out = tmp_path / "report.md"
    result = CliRunner().invoke(
        main,
        ["scan", str(EXAMPLE), "--format", "markdown", "--output", str(out), "--fail-on", "never"],
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
        counts=(
            ("critical", 0),
            ("high", len(findings)),
            ("medium", 0),
            ("low", 0),
            ("info", 0),
            ("suppressed", 0),
        ),
        files=FileCounts(templates=1),
        modules=tuple(ModuleSummary(m, m, block, (("API", block),)) for m in modules),
        findings=tuple(findings),
        evaluations=(
            Evaluation(
                "AR-API-001", "API", modules[0], findings[0].file, findings[0].resource, 8.0, 8.0
            ),
        ),
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
        title=HOSTILE,
        suppressed=None,
        related=tuple(
            Location(f"modules/{HOSTILE}/x.yaml", 3 + k, 1, 3 + k, 2, HOSTILE, HOSTILE, HOSTILE)
            for k in range(7)
        ),
        adr=AdrText("c", HOSTILE, "Good: g. Bad: b."),
    )
    accepted = _finding(
        "AR-API-003",
        Severity.HIGH,
        line=9,
        resource="Stage`|@x",
        suppressed=Suppression("inline", HOSTILE, "2027-01-31"),
    )
    report = replace(
        _report([hostile, accepted], (hostile.module, "modules/api")), diff_base=HOSTILE
    )
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
    # the related locations are in the finding's cell: five of them, then a count
    row = next(line for line in lines if line.startswith("| AR-API-001 |"))
    assert row.count("(modules/%40org/team%20%3Cscript%3E") == 1 + 5 and "+2 more |" in row
    # the decision and the summary by rule carry the title and decision inert too
    assert "1. **High** · AR-API-001 · @\u200dorg/team &lt;script&gt;" in doc
    assert "- Decide: @\u200dorg/team &lt;script&gt;" in doc
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
        findings.append(
            _finding(
                f"AR-API-00{1 + i % 4}", sev, line=i + 1, message="x" * 200, module=f"m{i % 3}"
            )
        )
    report = _report(findings, ("m0", "m1", "m2"))
    full = render_markdown(report)
    limit = len(full) // 2
    cut = render_markdown(report, max_chars=limit)
    assert len(cut) <= limit
    assert "Left out to stay within the size limit" in cut
    assert "low findings in m0" in cut and "the map of modules and layers" in cut
    assert "**Critical** (" in cut and "**Low** (" not in cut
    assert cut.endswith("</sub>\n")
    small = render_markdown(report, max_chars=4000)  # the opening and the tables, little more
    assert len(small) <= 4000 and "20 critical findings in m0" in small
    tiny = render_markdown(report, max_chars=600)
    assert len(tiny) <= 600 and "truncated" in tiny
    assert tiny.count("```") % 2 == 0
    assert render_markdown(report, max_chars=len(full)) == full


# -- decisions first, a summary by rule last ---------------------------------------------------

NOTICE = "reviewed against the built-in baseline (this repository declares no architecture)"


def test_the_document_leads_with_the_decisions_and_closes_with_the_rules() -> None:
    findings = [
        *many(12, "AR-EVT-003", Severity.HIGH),
        finding("AR-IAM-001", Severity.CRITICAL, 40),
        *many(3, "AR-OBS-003", Severity.LOW),
    ]
    shown = report(
        findings,
        hidden=(("pedantic", 12), ("auditor", 3)),
        profile=".claude/agents/architect.md",
        profile_source="agent",
        profile_notice=NOTICE,
    )
    doc = render_markdown(shown)
    assert doc.split("\n")[:10] == [
        "## archreview: grade D (72.4/100) — capped by a high finding",
        "",
        "Reviewed against .claude/agents/architect.md (agent definition).",
        "",
        "> [!NOTE]",
        f"> {NOTICE}",
        "",
        "**16 findings** (1 critical, 12 high, 0 medium, 3 low, 0 info; 0 suppressed, 0 accepted "
        "risks) in 1 template, 0 go.mod, 0 package.json. 10 evaluations, 3 failed.",
        "",
        "12 more findings at --persona pedantic (hygiene), 3 more at --persona auditor "
        "(decisions to record): `archreview scan repo --persona pedantic`",
    ]
    heads = [
        "### Decisions to take",
        "### Scores by layer",
        "### Findings (16)",
        "### Summary by rule (3 rules, 16 findings)",
        "<sub>archreview 0</sub>",
    ]
    at = [doc.index(h) for h in heads]
    assert at == sorted(at)
    decisions = doc[at[0] : at[1]]
    assert decisions.startswith(
        "### Decisions to take\n\n1. **Critical** · AR-IAM-001 · Title of AR-IAM-001\n"
        "   - 1 finding: [svc/template.yaml:50](svc/template.yaml#L50) `Queue0040`\n"
        "   - Decide: Set VisibilityTimeout on the queue to at least six times the function's "
        "Timeout, e.g. 1800 s for a 300 s function.\n"
        "2. **High** · AR-EVT-003 · Title of AR-EVT-003\n"
    )
    summary = doc[at[3] : at[4]]
    assert summary.split("\n")[2:7] == [
        "| Rule | Count | Severity | Title |",
        "|---|---:|---|---|",
        "| AR-IAM-001 | 1 | critical | Title of AR-IAM-001 |",
        "| AR-EVT-003 | 12 | high | Title of AR-EVT-003 |",
        "| AR-OBS-003 | 3 | low | Title of AR-OBS-003 |",
    ]
    # every finding is still listed, collapsed
    listing = doc[at[2] : at[3]]
    assert listing.index("<details>") < listing.index("Queue0011") < listing.index("</details>")


def test_300_findings_of_one_rule_are_one_summary_row_and_one_decision() -> None:
    doc = render_markdown(report(many(300, "AR-EVT-003", Severity.HIGH)))
    assert doc.count("| AR-EVT-003 | 300 | high | Title of AR-EVT-003 |") == 1
    assert (
        "   - 300 findings: [svc/template.yaml:10](svc/template.yaml#L10) `Queue0000`, "
        "[svc/template.yaml:11](svc/template.yaml#L11) `Queue0001`, "
        "[svc/template.yaml:12](svc/template.yaml#L12) `Queue0002`, +297 more"
    ) in doc
    assert doc.count("1. **High**") == 1 and "2. **" not in doc


def test_nothing_hidden_and_an_uncapped_grade_say_so() -> None:
    doc = render_markdown(
        report(many(1), score=ScoreBlock(91.0, "A", 3, 1), profile_source="baseline")
    )
    assert doc.startswith(
        "## archreview: grade A (91.0/100)\n\nReviewed against the built-in baseline."
    )
    assert "Persona regular: no finding of a higher persona was left out." in doc
    assert "[!NOTE]" not in doc


def test_the_summary_by_rule_goes_before_the_medium_findings_under_a_limit() -> None:
    findings = [
        finding(f"AR-API-00{1 + i % 9}", Severity.MEDIUM, i, message="m" * 300) for i in range(90)
    ]
    shown = report(findings)
    full = render_markdown(shown)
    the_map = full.index("### Findings") - full.index("### Map")
    cut = render_markdown(shown, max_chars=len(full) - the_map)  # the map and a bit more
    assert "the map of modules and layers; the summary by rule." in cut
    assert "### Map" not in cut and "### Summary by rule" not in cut
    assert "### Decisions to take" in cut and "**Medium** (90)" in cut
