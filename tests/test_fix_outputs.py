"""Fixes in the outputs (issue 22): SARIF `fixes`, the JSON report's `fix`, a diff beside the
decision in Markdown and HTML, and the suggestion a pull request review would hold.

The findings carry hand-made fixes (reviewer.core.fixes); the diff and the suggestion are made
from the edits and their `original` lines alone (no file is read).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer import scan
from reviewer.core.fixes import Edit, Fix, Safety
from reviewer.core.types import Report
from reviewer.outputs import json_report, markdown, sarif
from reviewer.outputs.fixdiff import (
    DIFF_LINE_CHARS,
    FIX_TEXT_CHARS,
    fence,
    hunks,
    suggestion,
    unified,
)
from reviewer.outputs.html import render_html
from tests.conftest import FIXTURES
from tests.gitrepo import init, write
from tests.report_fixtures import finding, report
from tests.test_html import Browser
from tests.test_html import browser as browser  # the fixture: headless Chromium
from tests.test_sarif import check_sarif

FILE = "svc/template.yaml"
SOURCE = "    VisibilityTimeout: 30"  # line 10 of the hand-made findings; "30" is columns 24-25


def raise_timeout(line: int = 10) -> Fix:
    return Fix(
        Safety.SAFE,
        "Raise VisibilityTimeout to 1800 (6 x Worker's Timeout 300)",
        (Edit(FILE, line, 24, line, 26, "1800", SOURCE),),
    )


def retain(line: int = 8) -> Fix:
    """Two keys inserted before the resource's `Type` line."""
    return Fix(
        Safety.SAFE,
        "Keep the table on delete and replacement",
        (
            Edit(
                FILE,
                line,
                1,
                line,
                1,
                "    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
                "    Type: AWS::DynamoDB::Table",
            ),
        ),
    )


def with_fixes() -> Report:
    return report(
        [
            finding(i=0, fix=raise_timeout()),
            finding(i=1),
            finding("AR-DBS-001", i=2, fix=retain(), property=None, source="  Table:"),
        ]
    )


def without_fixes(r: Report) -> Report:
    return replace(r, findings=tuple(replace(f, fix=None) for f in r.findings))


# -- JSON ---------------------------------------------------------------------------------------


def test_json_carries_fixes_and_nothing_else_changes() -> None:
    r = with_fixes()
    data = json.loads(json_report.render(r))
    fixes = [f.get("fix") for f in data["findings"]]
    assert fixes[1] is None  # a finding without a fix has no `fix` member at all
    assert "fix" not in data["findings"][1]
    assert fixes[0] == {
        "safety": "safe",
        "description": "Raise VisibilityTimeout to 1800 (6 x Worker's Timeout 300)",
        "edits": [
            {
                "file": FILE,
                "line": 10,
                "column": 24,
                "end_line": 10,
                "end_column": 26,
                "replacement": "1800",
                "original": SOURCE,
            }
        ],
        "file_sha256": "",
    }
    # without the fix members, the report is the one a scan without fixes writes
    stripped = copy.deepcopy(data)
    for f in stripped["findings"]:
        f.pop("fix", None)
    assert stripped == json.loads(json_report.render(without_fixes(r)))


def test_json_streamed_text_is_json_dumps_and_reads_back() -> None:
    crlf = Fix(
        Safety.UNSAFE,
        "Require MFA — «é» ✓",
        (
            Edit(FILE, 3, 1, 3, 1, '  MfaConfiguration: "ON"\r\n', None),
            Edit("other/stack.json", 1, 5, 2, 1, "", 'x  "A": 1,\n  "B": 2'),
        ),
    )
    r = report([finding(i=0, fix=crlf), finding(i=1, fix=raise_timeout(11))])
    text = json_report.render(r)
    assert text == json.dumps(json_report.report_dict(r), indent=2, ensure_ascii=False) + "\n"
    back = json_report.load_report(json.loads(text))
    assert [f.fix for f in back.findings] == [f.fix for f in r.findings]


def test_json_leaves_out_what_it_cannot_carry_exactly() -> None:
    lone = Fix(Safety.SAFE, "d", (Edit(FILE, 1, 1, 1, 1, "bad \udc80 text", "x"),))
    huge = Fix(Safety.SAFE, "d", (Edit(FILE, 1, 1, 1, 2, "y", "x" * (FIX_TEXT_CHARS + 1)),))
    data = json.loads(json_report.render(report([finding(i=0, fix=lone), finding(i=1, fix=huge)])))
    assert "fix" not in data["findings"][0]  # the replacement cannot be written as it is
    assert data["findings"][1]["fix"]["edits"][0]["original"] is None  # not known, then


# -- SARIF --------------------------------------------------------------------------------------


def test_sarif_results_carry_their_fixes(tmp_path: Path) -> None:
    r = replace(with_fixes(), root=str(tmp_path))
    doc = sarif.sarif_document(r)
    run = check_sarif(doc)
    results = {res["partialFingerprints"]["archreview/v2"]: res for res in run["results"]}
    by_fp = {f.fingerprint: f for f in r.findings}
    with_fix = [fp for fp, f in by_fp.items() if f.fix is not None]
    assert all("fixes" in results[fp] for fp in with_fix)
    assert sum("fixes" in res for res in results.values()) == len(with_fix)
    for fp in with_fix:
        fix = by_fp[fp].fix
        assert fix is not None
        (sfix,) = results[fp]["fixes"]
        assert sfix["description"]["text"] == fix.description
        assert sfix["properties"]["safety"] == fix.safety.value
        (change,) = sfix["artifactChanges"]
        assert change["artifactLocation"] == {"uri": FILE, "uriBaseId": "%SRCROOT%"}
        assert [
            (
                rep["deletedRegion"]["startLine"],
                rep["deletedRegion"]["startColumn"],
                rep["deletedRegion"]["endLine"],
                rep["deletedRegion"]["endColumn"],
                rep["insertedContent"]["text"],
            )
            for rep in change["replacements"]
        ] == [(e.line, e.column, e.end_line, e.end_column, e.replacement) for e in fix.edits]
    # without fixes the document is the same as before, byte for byte
    bare = sarif.render(without_fixes(r))
    stripped = json.loads(sarif.render(r))
    for res in stripped["runs"][0]["results"]:
        res.pop("fixes", None)
    assert json.loads(bare) == stripped


def test_sarif_leaves_out_a_fix_it_cannot_place(tmp_path: Path) -> None:
    live = Fix(Safety.SAFE, "d", (Edit("aws://eu-west-1/stack", 1, 1, 1, 1, "x", None),))
    backwards = Fix(Safety.SAFE, "d", (Edit(FILE, 5, 9, 5, 2, "x", None),))
    r = replace(report([finding(i=0, fix=live), finding(i=1, fix=backwards)]), root=str(tmp_path))
    run = check_sarif(sarif.sarif_document(r))
    assert all("fixes" not in res for res in run["results"])


# -- the diff -----------------------------------------------------------------------------------


def test_unified_diff_of_a_replacement_and_an_insertion() -> None:
    assert unified(raise_timeout()) == (
        f"--- {FILE}\n+++ {FILE}\n@@ -10,1 +10,1 @@\n"
        "-    VisibilityTimeout: 30\n+    VisibilityTimeout: 1800"
    )
    assert unified(retain()) == (
        f"--- {FILE}\n+++ {FILE}\n@@ -8,1 +8,3 @@\n"
        "+    DeletionPolicy: Retain\n+    UpdateReplacePolicy: Retain\n"
        "     Type: AWS::DynamoDB::Table"
    )


def test_edits_on_adjacent_lines_make_one_hunk_and_others_their_own() -> None:
    fix = Fix(
        Safety.SAFE,
        "d",
        (
            Edit(FILE, 4, 5, 4, 6, "B", "  a a"),
            Edit(FILE, 3, 1, 3, 1, "# ", "x: 1"),
            Edit(FILE, 9, 1, 9, 2, "Z", "z"),
        ),
    )
    found = hunks(fix)
    assert [(h.line, h.old, h.new) for h in found] == [
        (3, ("x: 1", "  a a"), ("# x: 1", "  a B")),
        (9, ("z",), ("Z",)),
    ]


def test_an_edit_without_its_original_uses_the_source_line_or_shows_the_text_alone() -> None:
    on_line = Fix(Safety.SAFE, "d", (Edit(FILE, 10, 24, 10, 26, "1800"),))
    assert unified(on_line, SOURCE, 10).endswith(
        "-    VisibilityTimeout: 30\n+    VisibilityTimeout: 1800"
    )
    # a window of a long line is not the line: not used
    assert "@@ at line 10, column 24 @@\n+1800" in unified(on_line, "…" + SOURCE, 10)
    elsewhere = Fix(Safety.SAFE, "d", (Edit(FILE, 3, 1, 3, 1, "Key: 1\n"),))
    assert unified(elsewhere, SOURCE, 10).endswith("@@ at line 3, column 1 @@\n+Key: 1\n+")
    assert suggestion(on_line) is None and suggestion(elsewhere) is None


def test_the_diff_shows_hidden_characters_and_clips_long_lines() -> None:
    sneaky = "    Name: admin\u202e\u200b"
    fix = Fix(Safety.SAFE, "d", (Edit(FILE, 2, 1, 2, 1, "# x\n", sneaky + "y" * 5000),))
    diff = unified(fix)
    assert "<U+202E><U+200B>" in diff and "\u202e" not in diff and "\u200b" not in diff
    assert max(len(line) for line in diff.split("\n")) <= DIFF_LINE_CHARS + 1  # and its -/+ mark
    assert suggestion(fix) is None  # a suggestion must be the exact text: refused


def test_a_fence_is_longer_than_any_backticks_in_it() -> None:
    body = "a ``` b\n````\nc"
    fenced = fence(body, "diff")
    assert fenced.startswith("`````diff\n") and fenced.endswith("\n`````")


# -- the suggestion: the file's lines after the edits -------------------------------------------

_ALPHABET = st.text(alphabet="ab `:#\t", max_size=8)


@st.composite
def _case(draw: st.DrawFn) -> tuple[list[str], list[Edit]]:
    lines = draw(st.lists(_ALPHABET, min_size=1, max_size=8))
    edits: list[Edit] = []
    for _ in range(draw(st.integers(1, 3))):
        line = draw(st.integers(1, len(lines)))
        end_line = draw(st.integers(line, min(len(lines), line + 2)))
        column = draw(st.integers(1, len(lines[line - 1]) + 1))
        lo = column if end_line == line else 1
        end_column = draw(st.integers(lo, len(lines[end_line - 1]) + 1))
        replacement = draw(st.text(alphabet="xy\n", max_size=6))
        original = "\n".join(lines[line - 1 : end_line])
        edits.append(Edit(FILE, line, column, end_line, end_column, replacement, original))
    return lines, edits


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(t) + 1 for t in lines[: line - 1]) + column - 1


@settings(
    derandomize=True, deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow]
)
@given(_case())
def test_a_suggestion_is_the_files_lines_after_the_edits(
    case: tuple[list[str], list[Edit]],
) -> None:
    lines, edits = case
    spans = sorted(
        (
            (_offset(lines, e.line, e.column), _offset(lines, e.end_line, e.end_column), e)
            for e in edits
        ),
        key=lambda s: (s[0], s[1]),
    )
    overlap = any(b[0] < a[1] or a[0] == a[1] == b[0] == b[1] for a, b in itertools.pairwise(spans))
    covered = set().union(*(range(e.line, e.end_line + 1) for e in edits))
    gap = len(covered) != max(covered) - min(covered) + 1
    got = suggestion(Fix(Safety.SAFE, "d", tuple(edits)))
    if overlap or gap:
        assert got is None
        return
    text = "\n".join(lines)
    for start, end, e in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + e.replacement + text[end:]
    after = text.split("\n")
    first, last = min(covered), max(covered)
    expected = after[first - 1 : len(after) - (len(lines) - last)]
    if expected == lines[first - 1 : last]:
        assert got is None  # nothing changes: nothing to suggest
        return
    assert got is not None
    assert (got.file, got.line, got.end_line) == (FILE, first, last)
    assert list(got.lines) == expected


# -- Markdown -----------------------------------------------------------------------------------


def _hostile_fix() -> Fix:
    original = (
        "    Description: ``` @acme/admins <script>alert(1)</script> #12 https://evil.example"
    )
    return Fix(
        Safety.UNSAFE,
        "Narrow the policy of @acme/admins <img src=x> [x](javascript:1)",
        (Edit(FILE, 10, 5, 10, 16, "Summary", original),),
    )


def test_markdown_shows_each_fix_as_a_diff_beside_its_decision() -> None:
    r = with_fixes()
    doc = markdown.render_markdown(r)
    row = next(line for line in doc.split("\n") if "Queue0000" in line and line.startswith("| AR-"))
    assert row.endswith("(fix below: safe) |")
    other = next(
        line for line in doc.split("\n") if "Queue0001" in line and line.startswith("| AR-")
    )
    assert "fix below" not in other
    assert doc.count("<summary>Fix for ") == 2
    assert "```diff\n--- svc/template.yaml\n+++ svc/template.yaml\n@@ -10,1 +10,1 @@\n" in doc
    # the fix comes right after the table of its severity, inside the findings' section
    assert (
        doc.index("Queue0000")
        < doc.index("<summary>Fix for AR-EVT-003")
        < doc.index("### Summary by rule")
    )
    assert markdown.render_markdown(without_fixes(r)) == _drop_fix_text(doc)


def _drop_fix_text(doc: str) -> str:
    doc = doc.replace(" (fix below: safe)", "")
    return re.sub(r"\n\n<details>\n<summary>Fix for .*?\n</details>", "", doc, flags=re.S)


def test_markdown_fix_text_is_inert() -> None:
    doc = markdown.render_markdown(report([finding(fix=_hostile_fix())]))
    start = doc.index("<summary>Fix for")
    block = doc[start : doc.index("</details>", start)]
    summary, _, rest = block.partition("</summary>")
    # the description is escaped text: no tag, no link, no mention
    assert "<img" not in summary and "&lt;img src=x&gt;" in summary
    assert "@\u200dacme" in summary and "\\[x\\]" in summary
    # the lines are in a fence no line of them can close, shown as they are
    fence_open = re.search(r"^(`{3,})diff$", rest, re.M)
    assert fence_open is not None and len(fence_open.group(1)) == 4
    inside = rest[
        fence_open.end() : rest.index("\n" + fence_open.group(1) + "\n", fence_open.end())
    ]
    assert "<script>alert(1)</script>" in inside and "@acme/admins" in inside
    assert "<script>" not in doc.replace(inside, "")


# -- HTML ---------------------------------------------------------------------------------------


def test_html_shows_the_fix_under_the_decision_escaped() -> None:
    page = render_html(report([finding(i=0, fix=_hostile_fix()), finding(i=1, fix=retain(11))]))
    tags = _tags(page)
    assert tags.count("script") == 1  # only the page's own
    assert "img" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h4>Fix (unsafe)</h4>" in page and "<h4>Fix (safe)</h4>" in page
    decision = page.index("<h4>Decision</h4>")
    assert decision < page.index("<h4>Fix (unsafe)</h4>") < page.index("<h4>Consequences</h4>")
    assert "<ins>+    DeletionPolicy: Retain</ins>" in page
    assert "<del>-    Description:" in page
    # the page's style sheet (and its hash in the CSP) is the one a page without fixes has
    bare = render_html(report([finding(i=0), finding(i=1)]))
    assert _style(page) == _style(bare)


def _tags(page: str) -> list[str]:
    """Every start tag of the page, in order."""
    seen: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.append(tag)

    parser = Tags()
    parser.feed(page)
    parser.close()
    return seen


def _style(page: str) -> str:
    return page[page.index("<style>") : page.index("</style>")]


@pytest.mark.browser
def test_browser_shows_the_fix_beside_the_decision(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    path = tmp_path / "fixes.html"
    path.write_text(render_html(with_fixes()), encoding="utf-8")
    dialogs: list[str] = []

    def dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(path.as_uri())
    first = page.locator("tbody.finding").filter(has_text="Queue0000")
    first.locator("button.toggle").click()
    adr = first.locator("article.adr")
    assert adr.is_visible()
    fix = adr.locator("figure.source")
    assert fix.is_visible()
    shown = fix.inner_text()
    assert "-    VisibilityTimeout: 30" in shown and "+    VisibilityTimeout: 1800" in shown
    assert adr.locator("del").first.is_visible() and adr.locator("ins").first.is_visible()
    # the fix sits between the decision and the consequences
    headings = adr.locator("h4").all_text_contents()
    assert headings[headings.index("Decision") + 1] == "Fix (safe)"
    assert dialogs == [] and browser.errors == []
    assert all(u.startswith("file://") for u in browser.requests)


# -- end to end: a fixture scan's fixes ---------------------------------------------------------


def _apply_to_file(text: str, edits: tuple[Edit, ...]) -> str:
    """The file's text with the edits applied (by line and column, end exclusive)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = sorted(
        (
            (starts[e.line - 1] + e.column - 1, starts[e.end_line - 1] + e.end_column - 1, e)
            for e in edits
        ),
        key=lambda s: (s[0], s[1]),
        reverse=True,
    )
    for start, end, e in spans:
        text = text[:start] + e.replacement + text[end:]
    return text


def test_a_fixture_scan_carries_its_fixes_into_every_output() -> None:
    """AR-EVT-003's failing fixtures get safe fixes from the fix stage (part A); every output
    carries them, and a suggestion is exactly the file's lines after the fix."""
    root = FIXTURES / "templates" / "AR-EVT-003"
    r = scan(root)
    fixed = [f for f in r.findings if f.fix is not None and f.suppressed is None]
    assert fixed
    for f in fixed:
        assert f.fix is not None
        (file,) = {e.file for e in f.fix.edits}
        before = (root / file).read_text(encoding="utf-8")
        lines = before.split("\n")
        for e in f.fix.edits:
            assert e.original == "\n".join(lines[e.line - 1 : e.end_line])
        s = suggestion(f.fix)
        assert s is not None and s.file == file
        after = _apply_to_file(before, f.fix.edits).split("\n")
        assert after[: s.line - 1] == lines[: s.line - 1]
        assert after[s.line - 1 : s.line - 1 + len(s.lines)] == list(s.lines)
        assert after[s.line - 1 + len(s.lines) :] == lines[s.end_line :]
    run = check_sarif(sarif.sarif_document(r), root)
    assert sum("fixes" in res for res in run["results"]) == len(fixed)
    back = json_report.load_report(json.loads(json_report.render(r)))
    assert [f.fix for f in back.findings] == [f.fix for f in r.findings]
    doc = markdown.render_markdown(r)
    assert doc.count("<summary>Fix for ") == len(fixed)
    assert render_html(r).count("<h4>Fix (") == len(fixed)


def test_a_cut_inside_a_fix_closes_its_longer_fence() -> None:
    fix = Fix(Safety.SAFE, "d", (Edit(FILE, 10, 5, 10, 6, "X", "    a ``` b " + "c" * 250),))
    r = report([finding(i=k, fix=fix) for k in range(40)])
    full = markdown.render_markdown(r)
    for limit in range(2_000, len(full), 997):
        doc = markdown.render_markdown(r, max_chars=limit)
        assert len(doc) <= limit
        fence = None
        for line in doc.split("\n"):
            if line.startswith("```"):
                run = len(line) - len(line.lstrip("`"))
                if fence is None:
                    fence = run
                elif run >= fence and not line[run:].strip():
                    fence = None
        assert fence is None, limit  # every fence opened is closed


def test_the_text_report_marks_a_finding_with_a_fix() -> None:
    from reviewer.outputs.text import render_text

    out = render_text(report([finding(i=0, fix=raise_timeout()), finding(i=1)]))
    marked = [line for line in out.split("\n") if "fix available" in line]
    assert len(marked) == 1 and marked[0].endswith("· fix available (safe)")


def test_sarif_leaves_out_a_fix_inside_a_submodule(tmp_path: Path) -> None:
    """Code scanning resolves only the super-repository's files: a fix to a file of a submodule
    cannot be applied from its alerts, and is not carried."""
    top = init(tmp_path / "super")
    write(top, {".gitmodules": '[submodule "svc"]\n\tpath = mods/svc\n\turl = ../svc\n'})
    inner = Fix(Safety.SAFE, "d", (Edit("mods/svc/template.yaml", 1, 1, 1, 1, "# x\n", None),))
    outer = Fix(Safety.SAFE, "d", (Edit("template.yaml", 1, 1, 1, 1, "# x\n", None),))
    r = replace(
        report(
            [
                finding(i=0, file="mods/svc/template.yaml", fix=inner),
                finding(i=1, file="template.yaml", fix=outer),
            ]
        ),
        root=str(top),
    )
    results = check_sarif(sarif.sarif_document(r))["results"]
    assert ["fixes" in res for res in results] == [False, True]
