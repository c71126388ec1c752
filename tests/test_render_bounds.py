"""Every output is bounded per finding, whatever the repository holds (issue 15, item 7).

A finding on a 5 MB one-line template used to be rendered whole: the terminal excerpt walked
every character of the line (166 s and 560 MB for a 4.8 MB template). Now each renderer cuts
repository text to the caps in `reviewer.outputs.limits` before escaping it: a source line to a
window of `SOURCE_CHARS` characters around the finding's column, messages and names to
`TEXT_CHARS`, paths to `PATH_CHARS`. These tests render findings whose every text field is
megabytes long and hold each format's output, and the work behind the excerpt, to a bound.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewer import scan
from reviewer.core.types import (
    AdrText,
    Confidence,
    Finding,
    Location,
    Report,
    Severity,
    Suppression,
)
from reviewer.outputs import FORMATS, RenderOptions, renderer
from reviewer.outputs import text as text_mod
from reviewer.outputs.limits import (
    ELLIPSIS,
    PATH_CHARS,
    SOURCE_CHARS,
    TEXT_CHARS,
    clip,
    source_bounds,
)
from reviewer.outputs.markdown import render_markdown
from tests.conftest import FIXTURES, ROOT

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
HUGE = 5_000_000
PER_FINDING = 100_000  # bytes of output a finding may add, in any format


@pytest.fixture(scope="module")
def example() -> Report:
    return scan(EXAMPLE)  # against its committed agent definition


BASE = Finding(
    rule_id="AR-EVT-003",
    title="Queue visibility timeout below the consumer's timeout",
    layer="EVT",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    score=8.0,
    module=".",
    file="template.json",
    line=1,
    end_line=1,
    column=1,
    end_column=2,
    resource="Queue",
    resource_type="AWS::SQS::Queue",
    property="VisibilityTimeout",
    message="a message",
    fingerprint="0" * 32,
    adr=AdrText("context", "decision", "consequences"),
)


def _line(fill: str = "x") -> str:
    """A 5 MB line of minified JSON with a key half-way and one near the end."""
    half = HUGE // 2
    return '{"a":"' + fill * half + '","Key":1,"b":"' + fill * half + '","End":2}'


# the long texts, made once and shared by every finding (the test process stays small)
BIG_MESSAGE = "message " + "M" * HUGE
BIG_TITLE = "title " + "M" * HUGE
BIG_RESOURCE = "Res" + "R" * HUGE
BIG_TYPE = "AWS::" + "T" * HUGE
BIG_PROPERTY = "Prop" + "P" * HUGE
BIG_RELATED = (Location("other/" * 1000, 1, 1, 1, 1, "L" * HUGE, "p" * HUGE),)


def _huge(base: Finding, source: str, column: int, i: int, **changes: Any) -> Finding:
    return replace(
        base,
        message=BIG_MESSAGE,
        title=BIG_TITLE,
        resource=BIG_RESOURCE,
        resource_type=BIG_TYPE,
        property=BIG_PROPERTY,
        module="mod" + "/m" * 3000,  # a path longer than a real one can be
        file="dir/" * 1500 + "template.json",
        line=1,
        end_line=1,
        column=column,
        end_column=column + HUGE,  # the span runs to the end of the line
        source=source,
        fingerprint=f"{i:032x}",
        related=BIG_RELATED,
        **changes,
    )


def _report(example: Report, findings: list[Finding]) -> Report:
    return replace(example, findings=tuple(findings), diff_base="origin/main")


LINE = _line()


def _hostile_report(example: Report) -> Report:
    base = BASE
    line = LINE
    at_key = line.index('"Key"') + 1
    findings = [
        _huge(base, line, 1, 0, new=True),  # at the start of the line
        _huge(base, line, at_key, 1, new=False),  # in the middle, on a key
        _huge(base, line, len(line), 2),  # at its end
        _huge(base, line, len(line) + 50, 3),  # past its end (a stale column)
        _huge(
            base,
            line,
            at_key,
            4,
            suppressed=Suppression("inline", "reason " + "r" * HUGE, "2099-01-01"),
        ),
    ]
    return _report(example, findings)


def _render(name: str, report: Report) -> str:
    return renderer(name)(report, RenderOptions(include_suppressed=True))


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_is_bounded_per_finding(example: Report, name: str) -> None:
    hostile = _hostile_report(example)
    empty = _render(name, _report(example, []))
    out = _render(name, hostile)
    assert len(out) - len(empty) < PER_FINDING * len(hostile.findings), (name, len(out))
    # the long texts were cut, and the cut is shown
    assert "M" * (TEXT_CHARS + 1) not in out and "x" * (SOURCE_CHARS + 1) not in out
    assert "P" * (TEXT_CHARS + 1) not in out and "L" * (TEXT_CHARS + 1) not in out
    assert ELLIPSIS in out or "\\u2026" in out


def test_the_excerpt_reads_a_window_not_the_line(
    example: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work counter: characters of source lines the excerpt code looks at."""
    seen = 0
    cells = text_mod._cells

    def counting(ch: str, at: int) -> str:
        nonlocal seen
        seen += 1
        return cells(ch, at)

    monkeypatch.setattr(text_mod, "_cells", counting)
    hostile = _hostile_report(example)
    for name in ("text", "html"):
        seen = 0
        _render(name, hostile)
        assert 0 < seen <= SOURCE_CHARS * len(hostile.findings), (name, seen)


def test_the_terminal_excerpt_keeps_the_mark_in_view(example: Report) -> None:
    hostile = _hostile_report(example)
    out = text_mod.render_text(replace(hostile, findings=hostile.findings[1:2]))
    source = next(line for line in out.splitlines() if line.lstrip().startswith("1 | "))
    marker = out.splitlines()[out.splitlines().index(source) + 1]
    # 20 columns of context before the mark, as for any long line, and "…" at both cuts
    assert source.startswith("    1 | …" + "x" * 18 + '","Key":1,"b":"xxx')
    assert source.endswith("xx…")
    col = source.index('"Key"')
    assert marker[col : col + 5] == "^^^^^"  # the key is marked, under it
    assert len(source) < 200


def test_json_keeps_no_source_and_clips_names(example: Report) -> None:
    data = json.loads(_render("json", _hostile_report(example)))
    for f in data["findings"]:
        assert "source" not in f
        for key in ("message", "title", "resource", "resource_type", "property"):
            assert len(f[key]) <= TEXT_CHARS and f[key].endswith(ELLIPSIS)
        assert len(f["file"]) <= PATH_CHARS
        assert len(f["related"][0]["resource"]) <= TEXT_CHARS
    assert len(data["findings"][4]["suppressed"]["reason"]) <= TEXT_CHARS


def test_the_comment_stays_bounded(example: Report) -> None:
    from reviewer.cli.comment import render_body

    body = render_body(_hostile_report(example))
    assert len(body) < 65_536
    assert len(render_markdown(_hostile_report(example))) < PER_FINDING * 5 + 50_000


# -- the cut is safe for escaping -------------------------------------------------------------

NASTY = "&<>\"'`|*_[]@#\x1b\u202e\u200d"  # entities, Markdown, ANSI, bidi, zero-width joiner


@pytest.mark.parametrize("name", FORMATS)
def test_cuts_are_made_before_escaping(example: Report, name: str) -> None:
    base = BASE
    long = (NASTY * (HUGE // len(NASTY) // 10))[: HUGE // 10]
    line = long + '"Key": 1' + long
    f = replace(
        base,
        message=long,
        resource=long,
        property=long,
        line=1,
        end_line=1,
        column=len(long) + 1,
        end_column=len(long) + 6,
        source=line,
    )
    out = _render(name, _report(example, [f]))
    if name == "html":
        # every & starts a whole entity: no escape sequence was cut in two (the findings
        # table; the page's own script has its && operators)
        table = out[
            out.index('id="findings-table"') : out.index("</table>", out.index("findings-table"))
        ]
        for m in re.finditer("&", table):
            entity = re.match(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", table[m.start() :])
            assert entity, table[m.start() : m.start() + 12]
        assert "\u202e" not in out and "\x1b" not in out
        assert htmllib.unescape(out).count('"Key"') >= 1
    elif name == "text":
        assert "\x1b" not in out and "\u202e" not in out
        assert "\\x1b" in out  # shown escaped, whole
    elif name == "markdown":
        assert "\u202e" not in out and "\x1b" not in out
        assert "\\\n" not in out and "\\|" in out  # no lone backslash left at a cut
    elif name in ("json", "sarif"):
        json.loads(out)
    elif name == "junit":
        import xml.etree.ElementTree as ET

        ET.fromstring(out.split("\n", 1)[1])


def test_clip_never_splits_a_pair_or_a_combining_mark() -> None:
    pair = "\ud83d\ude00"  # one emoji as two surrogate code points (surrogatepass text)
    text = "a" * 9 + pair + "b" * 10
    assert clip(text, 11) == "a" * 9 + ELLIPSIS  # not "a"*9 + "\ud83d" + "…"
    accented = "a" * 9 + "e\u0301" + "b" * 10
    assert clip(accented, 11) == "a" * 9 + ELLIPSIS  # the accent stays with its e
    assert clip("short") == "short"
    once = clip("z" * 5000)
    assert len(once) == TEXT_CHARS and clip(once) == once  # idempotent


def test_source_bounds_are_bounded_and_whole_for_short_lines() -> None:
    assert source_bounds("short line\r\n", 3) == source_bounds("short line", 3)
    b = source_bounds("short line\r\n", 3)
    assert (b.lo, b.hi, b.cut_left, b.cut_right) == (0, 10, False, False)
    line = "y" * HUGE
    for column in (1, 100, HUGE // 2, HUGE - 10, HUGE + 99):
        b = source_bounds(line, column)
        assert b.hi - b.lo <= SOURCE_CHARS
        at = min(column - 1, HUGE)
        assert b.lo <= at <= b.hi


# -- end to end: a 4.8 MB one-line template through the command line --------------------------


def _one_line_template(path: Path, queues: int = 20) -> None:
    resources = {
        f"Queue{i:03d}": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": f"q{i}", "VisibilityTimeout": 30},
        }
        for i in range(queues)
    }
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "x" * 4_800_000,
        "Resources": resources,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_a_one_line_template_renders_in_bounded_output(tmp_path: Path, fmt: str) -> None:
    """The issue's case: every finding's source is the same 4.8 MB line. A hang guard (killed
    after 300 s on two busy cores), not a timing test: before the fix the text output alone
    took 166 s and 560 MB."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _one_line_template(repo / "template.json")
    out = tmp_path / f"report.{fmt}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "scan",
            str(repo),
            "--format",
            fmt,
            "--output",
            str(out),
            "--no-cache",
            "--fail-on",
            "never",
            "--persona",  # every finding, whatever persona its rule has
            "auditor",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rendered = out.read_text(encoding="utf-8")
    if fmt == "text":  # the text shows a few findings of each rule in full and counts the rest
        total = re.search(r"^(\d+) findings? \(", rendered, re.MULTILINE)
        findings = int(total.group(1)) if total else 0
    else:
        findings = rendered.count('class="finding ')
    assert findings >= 20
    assert len(rendered) < 60_000 + PER_FINDING * findings
    assert "x" * (SOURCE_CHARS + 1) not in rendered


def test_rendering_a_huge_report_does_not_hang(example: Report) -> None:
    """All formats of the hostile report in a thread, a generous hang guard (60 s)."""
    hostile = _hostile_report(example)
    done: list[str] = []

    def run() -> None:
        for name in FORMATS:
            _render(name, hostile)
            done.append(name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert done == list(FORMATS), f"still rendering after 60 s; done: {done}"


@pytest.mark.parametrize("name", FORMATS)
def test_surrogates_never_reach_an_output(example: Report, name: str) -> None:
    """JSON may escape half a surrogate pair ("\\ud800"); a file name may carry undecodable
    bytes. Such text is replaced with U+FFFD on its way out, so every output encodes as UTF-8."""
    f = replace(
        BASE,
        message="half \ud800 pair",
        resource="Q\udfff",
        property="P\ud83d",
        file="dir\udcff/template.json",
        module="dir\udcff",
        source='{"Q\ud800": 1}',
        suppressed=None,
    )
    out = _render(name, _report(example, [f, replace(f, fingerprint="1" * 32, new=True)]))
    out.encode("utf-8")  # no UnicodeEncodeError
    assert "\ufffd" in out or "\\ufffd" in out or "\\ud800" in out
