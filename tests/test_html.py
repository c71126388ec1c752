"""`--format html`: one self-contained page, escaped, and tested in a real browser.

The browser test opens the report of the example repository in headless Chromium (Debian's
`chromium` package, driven by Playwright; no browser download), checks what a person sees and
does (grade, counts, filters, sorting, a finding's ADR and source, keyboard, dark scheme, print)
and saves a screenshot. `UPDATE_SCREENSHOT=1 pytest tests/test_html.py -k browser` also copies
that screenshot to docs/img/report.png (the one the README shows). With CI=true a browser test
that cannot run fails instead of skipping.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer import scan
from reviewer.cli.main import main
from reviewer.core.types import (
    AdrText,
    Confidence,
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
from reviewer.outputs import RenderOptions, insights, renderer
from reviewer.outputs.html import render_html
from tests.conftest import FIXTURES, ROOT
from tests.report_fixtures import finding, many
from tests.report_fixtures import related as related_locations
from tests.report_fixtures import report as hand_report

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "img" / "report.png"


@pytest.fixture(scope="module")
def example() -> Report:
    return scan(EXAMPLE)


@pytest.fixture(scope="module")
def page_html(example: Report) -> str:
    return render_html(example)


# -- the document -----------------------------------------------------------------------------


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.raw[self._in].append(data)


def _parse(doc: str) -> _Tags:
    parser = _Tags()
    parser.feed(doc)
    parser.close()
    return parser


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def test_one_self_contained_page(page_html: str, example: Report) -> None:
    parsed = _parse(page_html)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1 and tags.count("style") == 1
    for tag, attrs in parsed.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "form"), tag
        assert "src" not in attrs, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)  # no inline event handlers
            if name == "href":
                assert value is not None
                assert value.startswith(("#", "https://", "http://")), value
    style = "".join(parsed.raw["style"])
    assert "url(" not in style and "@import" not in style
    csp = next(
        a["content"]
        for t, a in parsed.tags
        if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"
    )
    assert csp is not None
    assert "default-src 'none'" in csp and "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    # the hashes admit exactly the inline style sheet and script
    assert f"style-src '{_sha(style)}'" in csp
    assert f"script-src '{_sha(''.join(parsed.raw['script']))}'" in csp
    # nothing but the page: no timestamp, the same report gives the same bytes
    assert render_html(example) == page_html


def test_grade_counts_layers_map_and_findings_are_there(page_html: str, example: Report) -> None:
    block = example.score
    assert block.score is not None and block.grade is not None
    assert f'data-grade="{block.grade}" data-score="{block.score:.1f}"' in page_html
    counts = dict(example.counts)
    for severity in Severity:
        assert (
            f'data-count="{severity.value}"><dt>{severity.value.capitalize()}</dt>'
            f"<dd>{counts[severity.value]}</dd>" in page_html
        )
    live = [f for f in example.findings if f.suppressed is None]
    assert page_html.count('<tbody class="finding') == len(live)
    assert f"Findings ({len(live)})" in page_html
    for layer, _ in example.layers:
        assert f'<tr data-layer="{layer}">' in page_html
    assert '<svg class="heatmap"' in page_html
    cells = re.findall(
        r'<g class="cell" role="button" tabindex="0" data-module="([^"]*)"', page_html
    )
    scored = {m.name for m in example.modules if m.score.evaluated}
    assert set(cells) == scored
    # the accepted risk is listed as such, not as a finding
    assert "Accepted risks (1)" in page_html and "accepted risk (inline)" in page_html


def test_registry_and_cli_write_the_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["scan", str(EXAMPLE), "--format", "html", "--output", str(out), "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert renderer("html")(scan(EXAMPLE), RenderOptions()) == text


def test_an_empty_report_renders() -> None:
    empty = Report(
        schema_version=1,
        tool_version="0",
        root="/tmp/nothing",
        profile="default",
        score=ScoreBlock(None, None, 0, 0),
        layers=(),
        counts=(*((s.value, 0) for s in Severity), ("suppressed", 0)),
        files=FileCounts(),
        modules=(),
        findings=(),
    )
    doc = render_html(empty)
    assert "No findings." in doc and "Nothing was evaluated." in doc
    assert "no score" in doc and 'data-grade=""' in doc


# -- hostile text -----------------------------------------------------------------------------

EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\u202e&amp;'


def _hostile_report() -> Report:
    finding = Finding(
        rule_id="AR-EVT-003",
        title=f"title {EVIL}",
        layer="EVT",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        score=8.0,
        module=f"mod{EVIL}",
        file=f"svc/{EVIL}.yaml",
        line=3,
        end_line=3,
        column=3,
        end_column=3,
        resource=f"Res{EVIL}",
        resource_type="AWS::SQS::Queue",
        property=f"Prop{EVIL}",
        message=f"message {EVIL} </style></script><svg onload=alert(3)>",
        fingerprint="f" * 32,
        adr=AdrText(
            context=f"context {EVIL}",
            decision="decision",
            consequences="consequences",
            references=(
                Reference("bad", "javascript:alert(4)"),
                Reference("data", "data:text/html,<script>alert(5)</script>"),
                Reference("spaced", " java\tscript:alert(6)"),
                Reference("good", "https://docs.aws.amazon.com/x?a=1&b=<2>"),
            ),
        ),
        related=tuple(
            Location(f"svc/{EVIL}", 4 + k, 1, 4 + k, 1, f"Other{EVIL}", "Prop", f"also {EVIL}")
            for k in range(7)
        ),
        source=f"  Name{EVIL}: \x1b[31mvalue",
    )
    accepted = replace(
        finding,
        rule_id="AR-DAT-005",
        suppressed=Suppression("inline", f"reason {EVIL}", "2027-01-01"),
    )
    block = ScoreBlock(50.0, "F", 2, 1)
    return Report(
        schema_version=1,
        tool_version=f"1{EVIL}",
        root=f"/repo/{EVIL}",
        profile=f"profile{EVIL}",
        score=block,
        layers=(("EVT", block),),
        counts=(
            ("critical", 0),
            ("high", 1),
            ("medium", 0),
            ("low", 0),
            ("info", 0),
            ("suppressed", 1),
        ),
        files=FileCounts(templates=1),
        modules=(ModuleSummary(f"mod{EVIL}", f"mod{EVIL}", block, (("EVT", block),)),),
        findings=(finding, accepted),
        diff_base=f"main{EVIL}",
    )


def test_repository_text_is_escaped_everywhere() -> None:
    doc = render_html(_hostile_report())
    parsed = _parse(doc)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1 and "img" not in tags
    assert [t for t in tags if t == "svg"] == ["svg", "svg"]  # the layer bar and the map
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs)
        href = attrs.get("href")
        assert href is None or href.startswith(("#", "https://"))
    assert "javascript:" not in "".join(a.get("href") or "" for _, a in parsed.tags)
    assert 'href="https://docs.aws.amazon.com/x?a=1&amp;b=&lt;2&gt;"' in doc
    assert "alert(1)" in doc  # shown as text ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img" in doc  # ... escaped
    assert "\u202e" not in doc and "\x1b" not in doc  # nothing reorders or drives the text
    assert "\\x1b[31mvalue" in doc  # a control character in source is shown, escaped
    assert "&amp;amp;" in doc  # an entity in the repository stays literal text
    assert "</style></script>" not in doc
    # five related locations under the finding, then a count; their messages escaped
    detail = doc[doc.index('id="f-1-detail"') :]
    assert detail.count("<dt>Related</dt>") == 6 and "<dd>+2 more</dd>" in detail
    assert "&mdash; also &lt;script&gt;alert(1)&lt;/script&gt;" in detail


# -- decisions first, a summary by rule last --------------------------------------------------

NOTICE = "reviewed against the built-in baseline (this repository declares no architecture)"


def _shaped() -> Report:
    findings = [
        *many(12, "AR-EVT-003", Severity.HIGH),
        finding("AR-IAM-001", Severity.CRITICAL, 40, related=related_locations(2, "inherited")),
        *many(3, "AR-OBS-003", Severity.LOW),
    ]
    return hand_report(
        findings,
        hidden=(("pedantic", 12), ("auditor", 3)),
        profile=".claude/agents/architect.md",
        profile_source="agent",
        profile_notice=NOTICE,
    )


def _section_ids(doc: str) -> list[str]:
    main = doc[doc.index("<main>") : doc.index("</main>")]
    return [a.get("id") or "" for t, a in _parse(main).tags if t == "section"]


def test_the_page_leads_with_the_decisions_and_closes_with_the_rules() -> None:
    doc = render_html(_shaped())
    ids = _section_ids(doc)
    assert ids[0] == "decisions" and ids[-1] == "rules-summary", ids
    assert ids.index("findings") < ids.index("rules-summary")
    header = doc[doc.index('<header class="top">') : doc.index("</header>")]
    verdict = header.index('id="verdict">Grade D (72.4/100) <span class="cap">— capped by a high')
    profile = header.index(
        'id="profile-line">Reviewed against .claude/agents/architect.md (agent definition)</p>'
    )
    notice = header.index(f'id="profile-notice">{NOTICE}</p>')
    hidden = header.index(
        'id="hidden-note">12 more findings at --persona pedantic (hygiene), 3 more at --persona '
        "auditor (decisions to record): <code>archreview scan repo --persona pedantic</code></p>"
    )
    assert verdict < profile < notice < hidden
    decisions = doc[
        doc.index('id="decisions"') : doc.index("</section>", doc.index('id="decisions"'))
    ]
    rules = re.findall(r'<li class="s-(\w+)" data-rule="([^"]+)"', decisions)
    assert rules == [("critical", "AR-IAM-001"), ("high", "AR-EVT-003"), ("low", "AR-OBS-003")]
    assert "12 findings: " in decisions and ", +9 more</span>" in decisions
    # each place links to its finding in the table below
    for anchor in re.findall(r'href="#(f-\d+)"', decisions):
        assert f'id="{anchor}"' in doc
    summary = doc[doc.index('id="rules-summary"') :]
    rows = re.findall(
        r'<tr data-rule="([^"]+)"><td class="mono">[^<]*</td><td class="num">(\d+)', summary
    )
    assert rows == [("AR-IAM-001", "1"), ("AR-EVT-003", "12"), ("AR-OBS-003", "3")]


def test_300_findings_of_one_rule_are_one_summary_row_and_all_listed() -> None:
    doc = render_html(hand_report(many(300)))
    summary = doc[doc.index('id="rules-summary"') :]
    assert summary.count("<tr data-rule=") == 1 and '<td class="num">300</td>' in summary
    assert doc.count('<tbody class="finding') == 300  # the full listing, collapsed by the script
    decisions = doc[doc.index('id="decisions"') : doc.index('id="grade"')]
    assert decisions.count("<li ") == 1 and ", +297 more" in decisions


# -- in a browser -----------------------------------------------------------------------------


def _playwright() -> Any:
    """The Playwright sync API, or a skip (a failure under CI=true) saying why it can't run."""
    why = None
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            from playwright import sync_api
        except ImportError:
            why = "playwright is not installed (pip install -e '.[dev]')"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run: {why}; CI=true forbids skipping")
        pytest.skip(why)
    return sync_api


@dataclass
class Browser:
    page: Any
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A page in headless Debian Chromium with a fresh profile, its errors and requests."""
    sync_api = _playwright()
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000},
            color_scheme="light",
            reduced_motion="reduce",
        )
        try:
            seen = Browser(context.new_page())
            seen.page.on(
                "console", lambda m: seen.errors.append(m.text) if m.type == "error" else None
            )
            seen.page.on("pageerror", lambda e: seen.errors.append(str(e)))
            seen.page.on("request", lambda r: seen.requests.append(r.url))
            yield seen
        finally:
            context.close()


def write_example_report(folder: Path) -> tuple[Path, Report]:
    """The example's report as a file; its root is shown relative to the checkout, the way
    `archreview scan fixtures/repos/chariot-platform` shows it."""
    report = replace(scan(EXAMPLE), root=EXAMPLE.relative_to(ROOT).as_posix())
    path = folder / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path, report


def take_screenshot(page: Any, path: Path) -> None:
    """The picture the README shows: the top of the report and the start of its findings,
    high-severity findings listed and the first one opened."""
    page.get_by_role("button", name=re.compile(r"^High")).click()
    page.locator("tbody.finding:not([hidden]) button.toggle").first.click()
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate(
        "Math.ceil(document.querySelector('tbody.finding:not([hidden]) tr.detail')"
        ".getBoundingClientRect().bottom + 24)"
    )
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height}
    )


def _visible_rows(page: Any) -> list[dict[str, str]]:
    result: list[dict[str, str]] = page.eval_on_selector_all(
        "#findings-table tbody.finding:not([hidden])",
        "els => els.map(e => ({severity: e.dataset.severity, layer: e.dataset.layer,"
        " module: e.dataset.module, score: e.dataset.score}))",
    )
    return result


@pytest.mark.browser
def test_browser_report_of_the_example(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    path, report = write_example_report(tmp_path)
    page.goto(path.as_uri())
    live = [f for f in report.findings if f.suppressed is None]
    counts = dict(report.counts)

    # grade and counts as shown
    assert report.score.score is not None
    assert page.locator(".grade-letter").inner_text() == report.score.grade
    assert page.locator(".grade-score").inner_text().startswith(f"{report.score.score:.1f}")
    for severity in Severity:
        shown = page.locator(f'#counts [data-count="{severity.value}"] dd').inner_text()
        assert shown == str(counts[severity.value])
    assert page.locator("#findings-h").inner_text() == f"Findings ({len(live)})"
    assert len(_visible_rows(page)) == len(live)
    assert (
        page.locator("#filter-status").inner_text()
        == f"Showing {len(live)} of {len(live)} findings."
    )
    # styles applied (the CSP hash admitted the sheet): the grade is a coloured block
    background = page.locator(".grade-letter").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")

    # details start closed
    assert page.locator("tr.detail:not([hidden])").count() == 0

    # severity filter: click, the rows are those of that severity; click another, both
    page.get_by_role("button", name=re.compile(r"^Critical")).click()
    rows = _visible_rows(page)
    assert len(rows) == counts["critical"] and {r["severity"] for r in rows} == {"critical"}
    assert (
        page.get_by_role("button", name=re.compile(r"^Critical")).get_attribute("aria-pressed")
        == "true"
    )
    page.get_by_role("button", name=re.compile(r"^High")).click()
    rows = _visible_rows(page)
    assert len(rows) == counts["critical"] + counts["high"]
    assert {r["severity"] for r in rows} == {"critical", "high"}
    assert (
        page.locator("#filter-status").inner_text()
        == f"Showing {len(rows)} of {len(live)} findings."
    )

    # layer and module filters combine with it
    page.get_by_role("button", name="Reset filters").click()
    assert len(_visible_rows(page)) == len(live)
    page.select_option("#filter-layer", "STK")
    rows = _visible_rows(page)
    assert rows and len(rows) == sum(1 for f in live if f.layer == "STK")
    page.select_option("#filter-module", "apps/console")
    rows = _visible_rows(page)
    expected = sum(1 for f in live if f.layer == "STK" and f.module == "apps/console")
    assert len(rows) == expected and {r["module"] for r in rows} == {"apps/console"}
    page.fill("#filter-text", "no such finding anywhere")
    assert _visible_rows(page) == [] and page.locator("#no-match").is_visible()
    page.get_by_role("button", name="Reset filters").click()

    # sorting by score: descending, ascending, back to severity order
    header = page.locator("th[aria-sort]")
    page.locator("#sort-score").click()
    scores = [float(r["score"]) for r in _visible_rows(page)]
    assert (
        scores == sorted(scores, reverse=True) and header.get_attribute("aria-sort") == "descending"
    )
    page.locator("#sort-score").click()
    scores = [float(r["score"]) for r in _visible_rows(page)]
    assert scores == sorted(scores) and header.get_attribute("aria-sort") == "ascending"
    page.locator("#sort-score").click()
    assert header.get_attribute("aria-sort") == "none"

    # a finding opens its ADR and its source line, by keyboard too
    first = page.locator("tbody.finding").first
    toggle = first.locator("button.toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    detail = first.locator("tr.detail")
    assert detail.is_visible()
    text = detail.inner_text()
    top = insights.severity_order(live)[0]
    assert top.message in text and "Decision:" in text and "Consequences".upper() in text.upper()
    if top.source:
        assert detail.locator("figure.source mark").count() == 1
        assert f"{top.line} |" in detail.locator("figure.source").inner_text()
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "false" and not detail.is_visible()
    focus = toggle.evaluate("e => getComputedStyle(e).outlineStyle")
    assert focus != "none"  # a visible focus ring on the focused control

    # a heatmap cell lists its findings
    cell = page.locator('.heatmap .cell[data-module="modules/janus"][data-layer="EVT"]')
    cell.focus()
    page.keyboard.press("Enter")
    rows = _visible_rows(page)
    assert rows and {(r["module"], r["layer"]) for r in rows} == {("modules/janus", "EVT")}
    assert page.locator("#filter-module").input_value() == "modules/janus"
    page.get_by_role("button", name="Reset filters").click()

    # print: no controls, every finding open
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    assert page.locator("tr.detail").first.is_visible()
    page.emulate_media(media="screen")

    # dark scheme
    light = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert light != dark
    page.emulate_media(color_scheme="light")

    # the screenshot (docs/img/report.png with UPDATE_SCREENSHOT=1)
    page.reload()
    shot = tmp_path / "report.png"
    take_screenshot(page, shot)
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)

    # nothing but the file itself was loaded, and nothing complained (CSP included)
    assert set(browser.requests) == {path.as_uri()}
    assert browser.errors == []


@pytest.mark.browser
def test_browser_shows_the_decisions_first_and_links_them_to_their_findings(
    browser: Browser, tmp_path: Path
) -> None:
    page = browser.page
    path = tmp_path / "shaped.html"
    path.write_text(render_html(_shaped()), encoding="utf-8")
    page.goto(path.as_uri())
    # the first section rendered in the page, and it starts in the first screen
    tops = page.eval_on_selector_all(
        "main section",
        "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => [e.id, e.getBoundingClientRect().top])",
    )
    assert tops[0][0] == "decisions"
    assert tops[0][1] == min(top for _, top in tops) and tops[0][1] < 1000
    assert tops[-1][0] == "rules-summary" and tops[-1][1] == max(top for _, top in tops)
    items = page.locator("#decisions ol.decisions > li")
    assert items.count() == 3
    assert items.first.locator(".rule").inner_text() == "AR-IAM-001"
    assert items.first.locator(".sev").inner_text().lower() == "critical"
    # a place in a decision opens its finding, even when the filters had hidden it
    page.get_by_role("button", name=re.compile(r"^Low")).click()
    link = page.locator("#decisions li").nth(1).locator("a").first
    target = (link.get_attribute("href") or "")[1:]
    assert page.locator(f"#{target}").is_hidden()  # a high finding, filtered out
    link.click()
    finding_body = page.locator(f"#{target}")
    page.wait_for_function(
        "id => !document.getElementById(id).hidden && "
        "!document.getElementById(id + '-detail').hidden",
        arg=target,
    )
    assert finding_body.get_attribute("data-severity") == "high"
    assert page.locator(f"#{target}-detail").is_visible()
    assert browser.errors == []


@pytest.mark.browser
def test_browser_runs_no_injected_script(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    path = tmp_path / "hostile.html"
    path.write_text(render_html(_hostile_report()), encoding="utf-8")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.locator("button.toggle").first.click()
    assert dialogs == []
    title = page.locator("button.toggle").first.inner_text()
    assert "<script>alert(1)</script>" in html.unescape(title)
    assert page.locator("img").count() == 0
    assert browser.errors == []
