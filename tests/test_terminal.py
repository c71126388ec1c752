"""What a person sees in a terminal: the CLI driven in a pseudo-terminal of a fixed size
(colours, the source line with the property marked, the summary table, the progress bar,
--quiet, NO_COLOR), plain text through a pipe, and the pieces behind it."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from reviewer.cli.progress import ProgressBar, progress_for
from reviewer.core.types import AdrText, Persona, ScoreBlock, Severity
from reviewer.outputs.text import (
    DETAILS_PER_RULE,
    excerpt_parts,
    marked_span,
    render_text,
    source_excerpt,
)
from tests.conftest import FIXTURES, ROOT
from tests.report_fixtures import finding, many, related, report

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
ROWS, COLS = 40, 120
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and weight
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", PYTHONIOENCODING="utf-8", **extra)
    return env


def run_in_terminal(
    args: list[str], *, env: dict[str, str], timeout: float = 120
) -> tuple[int, str]:
    """Run `python -m reviewer ARGS` with stdin, stdout and stderr on a pseudo-terminal of
    ROWS x COLS and return its exit code and everything it wrote to the terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as written (no "\r\n" translation)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        close_fds=True,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _lines(screen: str) -> list[str]:
    return ANSI.sub("", screen).replace("\r", "\n").split("\n")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the example repository: no scan cache in it, so the first scan does the
    work (and shows the progress bar) whatever ran before."""
    target = tmp_path_factory.mktemp("terminal") / "chariot-platform"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".archreview-cache"))
    return target


@pytest.fixture(scope="module")
def tty_color(example: Path) -> str:
    code, out = run_in_terminal(
        ["scan", str(example), "--fail-on", "never"],
        env=_env(ARCHREVIEW_PROGRESS_DELAY="0"),
    )
    assert code == 0, out
    return out


def test_a_terminal_gets_colours_findings_marks_and_the_summary(tty_color: str) -> None:
    assert SGR.search(tty_color), "a terminal gets colours"
    assert "\x1b[1;31mhigh[AR-EVT-003]" in tty_color  # severity in its colour
    lines = _lines(tty_color)
    # the diagnostic, cargo style: header, arrow to file:line:column, the source, the marker
    at = next(i for i, line in enumerate(lines) if "high[AR-EVT-003]" in line)
    arrow = lines[at + 1]
    assert "--> modules/chariot/template.yml:193:7 · AssetProcessingQueue.VisibilityTimeout" in (
        arrow
    )
    source = next(line for line in lines[at:] if line.lstrip().startswith("193 |"))
    marker = lines[lines.index(source, at) + 1]
    assert source.strip().startswith("193 |       VisibilityTimeout: 30")
    column = source.index("VisibilityTimeout")
    assert marker[column:].startswith("^" * len("VisibilityTimeout") + " VisibilityTimeout")
    assert set(marker[:column].replace("|", "").strip()) == set()  # only the gutter before it
    assert any(line.lstrip().startswith("= Queue AssetProcessingQueue has") for line in lines)
    # the summary table at the end: grade, then one row per layer
    text = "\n".join(lines)
    assert re.search(r"Grade [A-F]  score \d+\.\d/100", text)
    assert re.search(r"layer\s+score grade\s+capped by\s+failed\s+moved most by", text)
    # the reason beside a capped grade, else a dash
    assert re.search(
        r"EVT Event pipeline\s+\d+\.\d\s+[A-F]  (-|an? [a-z -]+ finding)\s+\d+/\d+", text
    )


def test_a_terminal_shows_a_progress_bar_that_clears_itself(tty_color: str) -> None:
    assert "reviewing templates [" in tty_color
    bar = re.findall(r"reviewing templates \[[#-]+\] \d+/\d+", tty_color)
    done, total = bar[-1].rsplit(" ", 1)[1].split("/")
    assert bar and done == total == "4"  # the example's four templates that parse
    assert all(len(b) <= COLS - 1 for b in bar)  # fits the terminal
    assert "\r\x1b[K" in tty_color  # wiped before the report is printed
    report_starts = tty_color.index("Grade ")
    assert tty_color.rindex("reviewing templates") < report_starts


def test_no_color_gives_plain_text_on_a_terminal(example: Path) -> None:
    code, out = run_in_terminal(
        ["scan", str(example), "--fail-on", "never"],
        env=_env(NO_COLOR="1", ARCHREVIEW_PROGRESS_DELAY="1000"),
    )
    assert code == 0
    assert "\x1b" not in out
    assert "high[AR-EVT-003]: Queue visibility timeout" in out
    assert "Grade " in out


def test_quiet_prints_findings_without_summary_or_progress(example: Path, tmp_path: Path) -> None:
    code, out = run_in_terminal(
        ["scan", str(example), "--fail-on", "never", "--quiet"],
        env=_env(ARCHREVIEW_PROGRESS_DELAY="0"),
    )
    assert code == 0
    text = "\n".join(_lines(out))
    assert "high[AR-EVT-003]" in text and "193 |" in text
    assert "reviewing templates" not in out
    assert "Grade " not in text and "moved most by" not in text and "findings (" not in text
    # with --output, --quiet also drops the one-line note on stderr
    target = tmp_path / "report.json"
    code, out = run_in_terminal(
        [
            "scan",
            str(example),
            "--fail-on",
            "never",
            "--quiet",
            "--format",
            "json",
            "--output",
            str(target),
        ],
        env=_env(ARCHREVIEW_PROGRESS_DELAY="0"),
    )
    assert code == 0 and out == "" and target.read_text(encoding="utf-8").startswith("{")
    code, out = run_in_terminal(
        ["scan", str(example), "--fail-on", "never", "--format", "json", "--output", str(target)],
        env=_env(ARCHREVIEW_PROGRESS_DELAY="1000"),
    )
    assert code == 0 and "archreview: grade" in out


def test_a_pipe_gets_plain_text_and_no_progress_bar(example: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", str(example), "--fail-on", "never"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(ARCHREVIEW_PROGRESS_DELAY="0"),
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    assert "reviewing templates" not in proc.stderr
    assert "high[AR-EVT-003]" in proc.stdout and "Grade " in proc.stdout


# -- the report's shape: decisions first, a summary by rule last ------------------------------

NOTICE = "reviewed against the built-in baseline (this repository declares no architecture)"


def _shaped_report() -> list[str]:
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
    return render_text(shown).splitlines()


def test_the_text_report_leads_with_the_decisions_and_closes_with_the_rules() -> None:
    lines = _shaped_report()
    assert lines[:5] == [
        "Grade D  score 72.4/100 — capped by a high finding  (10 evaluations, 3 failed)",
        "Reviewed against .claude/agents/architect.md (agent definition)",
        f"note: {NOTICE}",
        "16 findings (1 critical, 12 high, 0 medium, 3 low, 0 info; 0 suppressed) in 1 template,"
        " 0 go.mod, 0 package.json",
        "12 more findings at --persona pedantic (hygiene), 3 more at --persona auditor "
        "(decisions to record): archreview scan repo --persona pedantic",
    ]
    at = {
        head: lines.index(next(line for line in lines if line.startswith(head)))
        for head in (
            "Decisions to take",
            "Findings, most severe first",
            "Scores by layer",
            "Summary by rule",
        )
    }
    assert list(at.values()) == sorted(at.values()), at
    # the decisions: worst first, each with its count, first places and the decision
    decisions = lines[at["Decisions to take"] : at["Findings, most severe first"]]
    assert decisions[0] == "Decisions to take (3 of 3, by consequence)"
    assert decisions[1] == "  1. critical AR-IAM-001 Title of AR-IAM-001"
    assert decisions[4] == "  2. high AR-EVT-003 Title of AR-EVT-003"
    assert decisions[5] == (
        "     12 findings: svc/template.yaml:10 Queue0000, svc/template.yaml:11 Queue0001, "
        "svc/template.yaml:12 Queue0002, +9 more"
    )
    assert decisions[6].startswith("     decide: Set VisibilityTimeout on the queue to at least")
    # each layer's capped grade has its reason beside it
    layers = lines[at["Scores by layer"] : at["Summary by rule"]]
    assert any(
        re.search(r"^  EVT Event pipeline +72\.4 +D  a high finding +3/10 ", x) for x in layers
    )
    # the summary by rule is the last thing printed: one row per rule, worst first
    summary = lines[at["Summary by rule"] :]
    assert summary == [
        "Summary by rule (3 rules, 16 findings)",
        "  rule        count  severity  title",
        "  AR-IAM-001      1  critical  Title of AR-IAM-001",
        "  AR-EVT-003     12  high      Title of AR-EVT-003",
        "  AR-OBS-003      3  low       Title of AR-OBS-003",
    ]


def test_the_text_report_does_not_depend_on_the_order_of_the_findings() -> None:
    findings = [*many(7, "AR-EVT-003"), *many(4, "AR-OBS-003", Severity.LOW)]
    findings += [finding("AR-EVT-001", Severity.HIGH, i) for i in range(3)]
    forward = render_text(report(findings))
    assert render_text(report(list(reversed(findings)))) == forward
    assert render_text(report(findings[5:] + findings[:5])) == forward


def _count_lines(n: int) -> list[str]:
    return render_text(report(many(n, "AR-EVT-003", Severity.HIGH))).splitlines()


def test_300_findings_of_one_rule_are_one_summary_row_and_a_bounded_text() -> None:
    lines = _count_lines(300)
    blocks = [line for line in lines if line.lstrip().startswith("high[AR-EVT-003]")]
    assert len(blocks) == DETAILS_PER_RULE
    assert (
        f"    … {300 - DETAILS_PER_RULE} more AR-EVT-003 findings not shown in full "
        "(--format json, markdown or html lists every one)"
    ) in lines
    summary = lines[lines.index("Summary by rule (1 rule, 300 findings)") :]
    assert [line for line in summary if "AR-EVT-003" in line] == [
        "  AR-EVT-003    300  high      Title of AR-EVT-003"
    ]
    assert (
        "     300 findings: svc/template.yaml:10 Queue0000, svc/template.yaml:11 Queue0001, "
        "svc/template.yaml:12 Queue0002, +297 more"
    ) in lines
    # ten times the findings, not one line more
    assert len(_count_lines(3000)) == len(lines) < 80


def test_related_locations_show_under_their_finding_capped_and_inert() -> None:
    hostile = "inherited by \x1b[31mFn\u202e"
    f = finding("AR-OBS-003", Severity.LOW, 1, related=related(7, hostile))
    lines = render_text(report([f])).splitlines()
    shown = [line.strip() for line in lines if line.strip().startswith("= related:")]
    assert shown[0] == (
        "= related: svc/other.yaml:100 Other0.Properties — inherited by \\x1b[31mFn\\u202e"
    )
    assert len(shown) == 6 and shown[-1] == "= related: +2 more"
    text = "\n".join(lines)
    assert "\x1b" not in text and "\u202e" not in text


def test_repository_text_in_the_decisions_and_the_summary_is_inert() -> None:
    evil = "\x1b[2J\x1b]8;;http://x\x07link\u202eevil\r\nnext"
    f = finding(
        "AR-EVT-003",
        Severity.HIGH,
        1,
        title=f"title {evil}",
        resource=f"Res{evil}",
        file=f"svc/{evil}.yaml",
        adr=AdrText("c", f"Decide {evil}. Second sentence.", "Good: g."),
    )
    out = render_text(report([f], root=f"/r/{evil}", hidden=(("pedantic", 1),)))
    for raw in ("\x1b", "\x07", "\u202e", "\r"):
        assert raw not in out
    lines = out.splitlines()
    assert (
        "  1. high AR-EVT-003 title \\x1b[2J\\x1b]8;;http://x\\x07link\\u202eevil\\r\\nnext"
        in lines
    )
    assert any(line.startswith("     decide: Decide \\x1b[2J") for line in lines)
    assert any(line.startswith("  AR-EVT-003      1  high      title \\x1b[2J") for line in lines)


def test_quiet_text_is_the_findings_alone() -> None:
    shown = report(many(8), hidden=(("pedantic", 2),))
    out = render_text(shown, summary=False)
    assert out.startswith("Findings, most severe first\n")
    for absent in ("Grade ", "Decisions to take", "Summary by rule", "--persona", "Reviewed"):
        assert absent not in out
    assert render_text(report([]), summary=False) == ""


def test_a_persona_above_regular_is_named_on_its_findings() -> None:
    f = finding("AR-OBS-002", Severity.LOW, 1, persona=Persona.PEDANTIC)
    out = render_text(report([f], persona=Persona.PEDANTIC, score=ScoreBlock(97.0, "B", 1, 1)))
    assert "= high confidence · score 3.0 · pedantic" in out
    assert out.startswith("Grade B  score 97.0/100  (1 evaluations, 1 failed)\n")
    assert "Persona pedantic: no finding of a higher persona was left out." in out


# -- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "end", "marked"),
    [
        ("      VisibilityTimeout: 30 # note", 7, None, "VisibilityTimeout"),
        ('    "react-dom": "17.0.2",', 5, None, '"react-dom"'),
        ("  Jobs:", 3, None, "Jobs"),
        ('[submodule "modules/nebula"]', 1, None, '[submodule "modules/nebula"]'),
        (
            "\tgithub.com/aws/aws-sdk-go-v2 v1.36.3 // indirect",
            2,
            None,
            "github.com/aws/aws-sdk-go-v2 v1.36.3 // indirect",
        ),
        (
            "      MinimumProtocolVersion: TLSv1.2_2019 # x",
            7,
            43,
            "MinimumProtocolVersion: TLSv1.2_2019",
        ),
        ("  Url: https://example.com/a:b", 3, None, "Url"),
        ("Key:", 99, None, ""),  # past the end: a one-column mark at the end
    ],
)
def test_marked_span(line: str, column: int, end: int | None, marked: str) -> None:
    start, stop = marked_span(line, column, end)
    assert stop > start or start == len(line)
    assert line[start:stop] == marked


def test_source_excerpt_expands_tabs_and_escapes_control_characters() -> None:
    shown, marker = source_excerpt("\tgithub.com/x v1", (1, 13))
    assert shown == "    github.com/x v1"
    assert marker == "    " + "^" * 12
    hostile = "  Name: \x1b[31mred\u202e"
    shown, marker = source_excerpt(hostile, marked_span(hostile, 3))
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "\\x1b[31mred\\u202e" in shown
    assert marker == "  ^^^^"


def test_a_long_line_shows_a_window_around_the_mark() -> None:
    line = '{"a": "' + "x" * 300 + '", "Timeout": 900, "b": "' + "y" * 300 + '"}'
    column = line.index('"Timeout"') + 1
    before, marked, after = excerpt_parts(line, marked_span(line, column), width=80)
    assert marked == '"Timeout"'
    assert before.startswith("…") and after.endswith("…")
    assert len(before + marked + after) <= 82
    shown, marker = source_excerpt(line, marked_span(line, column), width=80)
    assert shown[marker.index("^") :].startswith('"Timeout"')


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_waits_draws_and_wipes() -> None:
    now = [0.0]
    stream = _Tty()
    bar = ProgressBar(stream, delay=0.5, clock=lambda: now[0], width=60)
    bar(1, 10)
    assert stream.getvalue() == ""  # a short scan never shows a bar
    now[0] = 0.6
    bar(5, 10)
    drawn = stream.getvalue()
    assert drawn.startswith("\r\x1b[K") and drawn.endswith(" 5/10")
    assert len(drawn) - len("\r\x1b[K") <= 59
    assert drawn.count("#") == (59 - len("reviewing templates") - len(" 5/10") - 3) // 2
    bar(5, 10)
    assert stream.getvalue() == drawn  # nothing redrawn when nothing changed
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")
    narrow = ProgressBar(_Tty(), delay=0, width=24)
    assert len(narrow.line(3, 7)) <= 23


def test_progress_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_for(io.StringIO()) is None
    assert progress_for(_Tty(), quiet=True) is None
    assert isinstance(progress_for(_Tty()), ProgressBar)
    monkeypatch.setenv("TERM", "dumb")
    assert progress_for(_Tty()) is None
