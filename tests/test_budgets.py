"""Every stage that works on repository content is bounded (reviewer.core.bounds): a template's
decoding, modelling and checks share one time budget, each repository check has its own, and
findings and Globals copies are capped; going over is one AR-MOD-006 naming the stage, the
other files keep their findings, and nothing cut short is cached as a complete result.

No test here measures speed: a check that never finishes on its own is stopped by the budget
(each such check gives up by itself after 60 s, so a budget that does not work fails the test
instead of hanging it), and linearity is shown with the meter's work counters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.checks.registry import Check, RepoContext, TemplateContext, repo_check, template_check
from reviewer.core import bounds
from reviewer.core.types import Finding, Hit, Report
from reviewer.model import sam
from reviewer.runner import pipeline
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import ROOT

HANG_S = 60.0  # a stopped check gives up by itself after this long: the budget did not work

# -- checks that take as long as they are told to -------------------------------------------------

SLOW = {"on": True, "cooperative": False}


def _stall(what: str) -> None:
    """Wait until the budget stops us (or HANG_S passes)."""
    if not SLOW["on"]:
        return
    give_up = time.monotonic() + HANG_S
    while time.monotonic() < give_up:
        if SLOW["cooperative"]:
            bounds.checkpoint()  # what the resolver and the statement walk do
        time.sleep(0.005)


def _queue_hits(ctx: TemplateContext, what: str) -> Iterator[Hit]:
    t = ctx.template
    for queue in t.of_type("AWS::SQS::Queue"):
        yield Hit(queue.logical_id, ("Properties",), f"{queue.logical_id}: {what}")
        if t.file.startswith("slow/"):
            _stall(what)


def slow_local(ctx: TemplateContext) -> Iterator[Hit]:
    yield from _queue_hits(ctx, "found by the local check")


def slow_cross(ctx: TemplateContext) -> Iterator[Hit]:
    yield from _queue_hits(ctx, "found by the cross-file check")


def slow_repo(ctx: RepoContext) -> Iterator[Hit]:
    for file in sorted(ctx.repo.gomods):
        yield Hit(None, ("__line__", 1, 1), f"{file}: found by the repository check", file=file)
        _stall("repo")


LOCAL = template_check("AR-EVT-001")(slow_local)
CROSS = template_check("AR-EVT-002", cross_file=True)(slow_cross)
REPO = repo_check("AR-STK-002", manifests_only=True)(slow_repo)


def _checks(*mine: Check) -> tuple[Check, ...]:
    ids = {c.rule_id for c in mine}
    return (*(c for c in all_checks() if c.rule_id not in ids), *mine)


@pytest.fixture(autouse=True)
def _reset(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    SLOW.update(on=True, cooperative=False)
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "1")
    monkeypatch.setenv("ARCHREVIEW_REPO_CHECK_BUDGET", "1")
    monkeypatch.setattr(pipeline, "POOL_MIN_FILES", 1)  # the pool even for two templates
    yield
    SLOW.update(on=True, cooperative=False)


QUEUES = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  {name}:
    Type: AWS::SQS::Queue
  {name}Topic:
    Type: AWS::SNS::Topic
"""


def _repo(root: Path) -> Path:
    for folder, name in (("fine", "Fine"), ("slow", "Slow")):
        (root / folder).mkdir(parents=True)
        (root / folder / "template.yaml").write_text(QUEUES.format(name=name), encoding="utf-8")
    (root / "svc").mkdir()
    (root / "svc" / "go.mod").write_text("module example.com/svc\n\ngo 1.22\n", encoding="utf-8")
    return root


def _of(report: Report, file: str) -> list[tuple[str, str | None, str]]:
    return [(f.rule_id, f.resource, f.message) for f in report.findings if f.file == file]


def _mod006(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == "AR-MOD-006"]


# -- the template's budget -------------------------------------------------------------------------

MODES: dict[str, dict[str, Any]] = {
    "serial": {},
    "serial-cached": {"cache": True},
    "pool-cached": {"jobs": 2, "cache": True},
    "pool": {"jobs": 2},
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("check", [LOCAL, CROSS], ids=["local", "cross-file"])
def test_template_checks_over_budget_are_one_mod006_and_the_rest_stays(
    tmp_path: Path, mode: str, check: Check
) -> None:
    root = _repo(tmp_path / "repo")
    settings: dict[str, Any] = dict(MODES[mode])
    cache = tmp_path / "cache" if settings.pop("cache", False) else None
    options = ScanOptions(
        checks=_checks(check), cache_dir=str(cache) if cache else None, **settings
    )

    over = scan(root, options)

    stopped = _mod006(over)
    assert [(f.file, f.resource) for f in stopped] == [("slow/template.yaml", None)]
    message = stopped[0].message
    assert "slow/template.yaml was not fully reviewed: the template checks stage" in message
    assert "per-file time budget (1 s" in message
    assert check.rule_id in message  # the check that was running
    # none of the slow template's check findings (not even the one found before the stop)
    assert [rule for rule, _, _ in _of(over, "slow/template.yaml")] == ["AR-MOD-006"]
    assert [e.rule_id for e in over.evaluations if e.file == "slow/template.yaml"] == [
        "AR-MOD-006"
    ]  # its checks' evaluations went with their findings

    SLOW["on"] = False
    whole = scan(root, options)  # the same scan, nothing slow: nothing replayed from the above
    assert not _mod006(whole)
    assert (check.rule_id, "Slow", f"Slow: found by the {_kind(check)} check") in _of(
        whole, "slow/template.yaml"
    )
    # the other template lost nothing
    assert _of(over, "fine/template.yaml") == _of(whole, "fine/template.yaml")
    assert (check.rule_id, "Fine", f"Fine: found by the {_kind(check)} check") in _of(
        over, "fine/template.yaml"
    )
    assert _of(over, "svc/go.mod") == _of(whole, "svc/go.mod")


def _kind(check: Check) -> str:
    return "cross-file" if check.cross_file else "local"


def test_a_cooperative_check_is_stopped_off_the_main_thread(tmp_path: Path) -> None:
    """No alarm off the main thread: the checkpoints (between checks, in the resolver, in
    the statement walk, here in the check's loop) stop the work."""
    root = _repo(tmp_path / "repo")
    SLOW["cooperative"] = True
    out: list[Report] = []
    worker = threading.Thread(
        target=lambda: out.append(scan(root, ScanOptions(checks=_checks(LOCAL)))), daemon=True
    )
    worker.start()
    worker.join(HANG_S * 2)
    assert not worker.is_alive()
    stopped = _mod006(out[0])
    assert [f.file for f in stopped] == ["slow/template.yaml"]
    assert "template checks stage" in stopped[0].message


# -- repository checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("cached", [False, True], ids=["plain", "cached"])
def test_a_repository_check_over_its_budget_is_one_mod006(tmp_path: Path, cached: bool) -> None:
    root = _repo(tmp_path / "repo")
    options = ScanOptions(
        checks=_checks(REPO), cache_dir=str(tmp_path / "cache") if cached else None
    )
    over = scan(root, options)
    stopped = _mod006(over)
    assert [(f.file, f.rule_id) for f in stopped] == [(".", "AR-MOD-006")]
    assert "the repository check slow_repo (AR-STK-002) went over its time budget (1 s" in (
        stopped[0].message
    )
    assert "ARCHREVIEW_REPO_CHECK_BUDGET" in stopped[0].message
    assert not [f for f in over.findings if f.rule_id == "AR-STK-002"]

    SLOW["on"] = False
    whole = scan(root, options)
    assert not _mod006(whole)
    assert [f.message for f in whole.findings if f.rule_id == "AR-STK-002"] == [
        "svc/go.mod: found by the repository check"
    ]
    for file in ("fine/template.yaml", "slow/template.yaml"):  # templates untouched
        assert _of(over, file) == _of(whole, file)


# -- findings caps (no clock involved) -------------------------------------------------------------


def many_hits(ctx: TemplateContext) -> Iterator[Hit]:
    if ctx.template.file.startswith("slow/"):
        for i in range(int(os.environ.get("TEST_BUDGET_HITS", "0"))):
            yield Hit("Slow", ("Properties", f"P{i}"), f"hit {i}")


MANY = template_check("AR-EVT-001")(many_hits)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_check_over_the_findings_cap_drops_its_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")  # no clock: only the cap
    monkeypatch.setattr(bounds, "MAX_FINDINGS_PER_CHECK", 10)
    root = _repo(tmp_path / "repo")
    options = ScanOptions(checks=_checks(MANY), jobs=jobs)

    monkeypatch.setenv("TEST_BUDGET_HITS", "10")
    at_cap = scan(root, options)
    assert not _mod006(at_cap)
    assert len([f for f in at_cap.findings if f.rule_id == "AR-EVT-001"]) == 10

    monkeypatch.setenv("TEST_BUDGET_HITS", "11")
    over = scan(root, options)
    stopped = _mod006(over)
    assert [f.file for f in stopped] == ["slow/template.yaml"]
    assert "its budget of 10 findings from one check, stopped in check AR-EVT-001" in (
        stopped[0].message
    )
    assert [rule for rule, _, _ in _of(over, "slow/template.yaml")] == ["AR-MOD-006"]
    assert _of(over, "fine/template.yaml") == _of(at_cap, "fine/template.yaml")


def test_the_checks_of_one_template_share_a_findings_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")
    monkeypatch.setenv("TEST_BUDGET_HITS", "8")
    root = _repo(tmp_path / "repo")
    # the chariot preset declares what the queue and topic are judged against (retention, keys)
    from reviewer.profile.loader import preset

    options = ScanOptions(checks=_checks(MANY), profile=preset("chariot"))
    report = scan(root, options)
    slow_findings = len(_of(report, "slow/template.yaml"))
    assert slow_findings > 8 and not _mod006(report)
    monkeypatch.setattr(bounds, "MAX_FINDINGS_PER_TEMPLATE", slow_findings - 1)
    monkeypatch.setattr(bounds, "FINDINGS_PER_TEMPLATE_AND_UNIT", 0)
    stopped = _mod006(scan(root, options))
    assert [f.file for f in stopped] == ["slow/template.yaml"]
    assert f"its budget of {slow_findings - 1:,} findings from the checks of one template" in (
        stopped[0].message
    )


def test_caps_grow_with_the_template() -> None:
    assert bounds.findings_caps(10) == (5_000, 20_000)
    assert bounds.findings_caps(10_000) == (20_000, 80_000)


# -- the Globals fan-out: linear work, bounded copies ----------------------------------------------


def _globals_template(statements: int, functions: int, local_policies: bool = False) -> str:
    stars = "\n".join(  # two statements every function is reported for
        f"            - {{Effect: Allow, Action: '{a}', Resource: '*'}}" for a in ("*", "s3:*")
    )
    plain = "\n".join(
        f"            - {{Effect: Allow, Action: s3:GetObject, Resource: 'arn:aws:s3:::b{i}/*'}}"
        for i in range(statements - 2)
    )
    local = "      Policies: [AWSLambdaBasicExecutionRole]\n" if local_policies else ""
    functions_text = "".join(
        f"  F{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n{local}"
        for i in range(functions)
    )
    return (
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n"
        "    Handler: a.b\n    Policies:\n      - Version: '2012-10-17'\n        Statement:\n"
        f"{stars}\n{plain}\nResources:\n{functions_text}"
    )


def _statement_visits(root: Path) -> tuple[int, Report]:
    before = bounds.COUNTS.get("iam.statement", 0)
    report = scan(root, ScanOptions())
    return bounds.COUNTS.get("iam.statement", 0) - before, report


def test_globals_policy_statements_are_walked_once_not_once_per_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15's case (5,000 statements in SAM Globals, merged into 200 functions) completes,
    every function is still reported, and the statements walked do not grow with the number
    of functions (they did: functions x statements per check)."""
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")
    visits: dict[int, int] = {}
    for functions in (20, 200):
        root = tmp_path / f"f{functions}"
        root.mkdir()
        (root / "template.yaml").write_text(_globals_template(5_000, functions), "utf-8")
        visits[functions], report = _statement_visits(root)
        assert not _mod006(report)
        # one finding for the document written once (issue 16: one per root cause), at the
        # first function, every other function a related location
        (found,) = [f for f in report.findings if f.rule_id == "AR-IAM-001"]
        reported = {found.resource, *(r.logical_id for r in found.related)}
        assert reported == {f"F{i}" for i in range(functions)}
    # per check walking them (four IAM checks, and the Deny statements collected once), not per F
    assert 5_000 <= visits[200] == visits[20] <= 6 * 5_000


def test_globals_merged_into_functions_with_their_own_policies_stay_linear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each function's own Policies make the merge copy the Globals list into it: the
    statements are still judged once per written document."""
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")
    visits: dict[int, int] = {}
    for functions in (10, 40):
        root = tmp_path / f"f{functions}"
        root.mkdir()
        text = _globals_template(500, functions, local_policies=True)
        (root / "template.yaml").write_text(text, "utf-8")
        visits[functions], report = _statement_visits(root)
        assert len([f for f in report.findings if f.rule_id == "AR-IAM-001"]) == 1
    assert visits[40] == visits[10]


def test_copies_out_of_globals_are_capped_and_never_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Globals list copied into every function that writes its own (the copy is SAM's merge)
    stops the modelling at the cap: AR-MOD-006 naming the stage; not kept in the cache."""
    layers = ",".join(f"l{i}" for i in range(60))
    functions = "".join(
        f"  F{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
        "      Layers: [mine]\n"
        for i in range(10)
    )
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n"
        f"    Handler: a.b\n    Layers: [{layers}]\nResources:\n{functions}",
        encoding="utf-8",
    )
    options = ScanOptions(cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(sam, "MAX_GLOBALS_COPIES", 500)  # 10 functions x 61 layers: over
    stopped = _mod006(scan(root, options))
    assert [f.message for f in stopped] == [
        "template.yaml was not reviewed: the modelling (SAM expansion, Globals merge) stage "
        "went over its budget of 500 entries copied from Globals into resources"
    ]
    monkeypatch.setattr(sam, "MAX_GLOBALS_COPIES", 10_000)
    assert not _mod006(scan(root, options))  # the capped model was not cached


# -- source excerpts -------------------------------------------------------------------------------


@pytest.mark.parametrize("column", [1, 150, 201, 202, 450, 99_000, 100_001])
def test_a_source_window_keeps_the_column_findable(column: int) -> None:
    line = "".join(chr(0x41 + i % 26) for i in range(100_000))
    kept = bounds.source_window(line, column)
    assert len(kept) <= bounds.SOURCE_WINDOW + bounds.SOURCE_BEFORE + 2
    at = column - 1 - bounds.source_offset(column)
    if column <= len(line):
        assert kept[at] == line[column - 1]
    assert kept.startswith(bounds.SOURCE_CUT) == (column - 1 > bounds.SOURCE_BEFORE)
    assert bounds.source_window("short line", column if column < 200 else 1) == "short line"


def test_findings_on_a_huge_line_keep_a_window_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-line JSON template of 250 KB: each finding's source is a few hundred characters
    around its column, not the line."""
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")
    resources = ",".join(
        f'"Q{i}":{{"Type":"AWS::SQS::Queue","Properties":{{"QueueName":"q{i}"}}}}'
        for i in range(3_000)
    )
    text = '{"AWSTemplateFormatVersion":"2010-09-09","Resources":{' + resources + "}}"
    assert len(text) > 200_000 and "\n" not in text
    (tmp_path / "template.json").write_text(text, encoding="utf-8")
    # queues nothing reads (AR-EVT-001 nudges: pedantic), judged against the chariot preset's
    # declared retention (AR-EVT-007)
    from reviewer.core.types import Persona
    from reviewer.profile.loader import preset

    report = scan(tmp_path, ScanOptions(persona=Persona.PEDANTIC, profile=preset("chariot")))
    findings = [f for f in report.findings if f.file == "template.json" and f.source]
    assert len(findings) >= 3_000  # one per queue at least
    for f in findings:
        assert f.source is not None
        assert len(f.source) <= bounds.SOURCE_WINDOW + 2
        if f.resource is not None and f.column > 1:
            at = f.column - 1 - bounds.source_offset(f.column)
            assert f.source[at:].startswith(text[f.column - 1 : f.column + 9])


# -- the command line ------------------------------------------------------------------------------

RUNNER = """
import sys, time
from reviewer import checks
from reviewer.core import bounds
from reviewer.core.types import Hit, Severity
from reviewer.checks.registry import template_check

def slow(ctx):
    for queue in ctx.template.of_type("AWS::SQS::Queue"):
        yield Hit(queue.logical_id, ("Properties",), "before the stop", severity=Severity.LOW)
        if ctx.template.file.startswith("slow/"):
            give_up = time.monotonic() + {hang}
            while time.monotonic() < give_up:
                pass  # a pure-Python loop: the alarm stops it

checks.CHECKS = (template_check("AR-EVT-001")(slow),)  # the only check: its findings are low
from reviewer.cli.main import run
run()
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_reports_the_stop_and_exits_as_documented(
    tmp_path: Path, jobs: str
) -> None:
    """A pure-Python loop in a check is stopped by the alarm, in the scan's process and in a
    pool worker; the scan exits 0 at the default --fail-on high (the only findings: the
    other template's low one and AR-MOD-006, medium), and the JSON report has the one
    AR-MOD-006. Killed after 2 x HANG_S: a hang fails."""
    root = _repo(tmp_path / "repo")
    runner = tmp_path / "runner.py"
    runner.write_text(textwrap.dedent(RUNNER).replace("{hang}", str(HANG_S)), encoding="utf-8")
    out = tmp_path / "report.json"
    env = {**os.environ, "ARCHREVIEW_FILE_BUDGET": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(runner), "scan", str(root), "--format", "json", "--output",
         str(out), "--jobs", jobs, "--no-cache"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_S * 2, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    stopped = [f for f in data["findings"] if f["rule_id"] == "AR-MOD-006"]
    assert [f["file"] for f in stopped] == ["slow/template.yaml"]
    assert (
        "template checks stage went over the per-file time budget (1 s" in (stopped[0]["message"])
    )
    assert [
        (f["rule_id"], f["file"]) for f in data["findings"] if f["rule_id"] != "AR-MOD-006"
    ] == [("AR-EVT-001", "fine/template.yaml")]


# -- the meter itself ------------------------------------------------------------------------------


def test_the_alarm_stops_a_block_and_puts_back_the_alarm_it_found() -> None:
    fired: list[int] = []

    def theirs(signum: int, frame: Any) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        signal.setitimer(signal.ITIMER_REAL, HANG_S)  # someone else's (a test timeout's)
        ledger = bounds.Ledger(0.05)
        with bounds.metered(ledger, "the stage"):
            time.sleep(HANG_S)  # a pure wait: only the alarm ends it
        assert (ledger.over, ledger.stage, ledger.limit) == (True, "the stage", "")
        assert ledger.spent < HANG_S / 2
        assert signal.getsignal(signal.SIGALRM) is theirs
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= HANG_S
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_ledger_with_no_time_left_stops_at_the_first_checkpoint() -> None:
    ledger = bounds.Ledger(1.0, spent=1.5)
    reached = []
    with bounds.metered(ledger, "late"):
        bounds.checkpoint()
        reached.append(True)
    assert ledger.stage == "late" and not reached
    unlimited = bounds.Ledger(0.0, spent=100.0)  # 0: no time limit
    with bounds.metered(unlimited, "any"):
        bounds.checkpoint()
        reached.append(True)
    assert not unlimited.over and reached == [True]


def test_ticks_are_counted_and_check_the_clock() -> None:
    """Off the main thread (no alarm there), a loop that ticks is stopped by its ticks."""
    before = bounds.COUNTS.get("test.unit", 0)
    ledger = bounds.Ledger(0.05)

    def count() -> None:
        with bounds.metered(ledger, "counting"):
            give_up = time.monotonic() + HANG_S
            while time.monotonic() < give_up:
                bounds.tick("test.unit")

    worker = threading.Thread(target=count, daemon=True)
    worker.start()
    worker.join(HANG_S * 2)
    assert ledger.over and ledger.spent < HANG_S / 2
    assert bounds.COUNTS["test.unit"] > before
