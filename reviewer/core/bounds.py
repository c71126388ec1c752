"""Bounds on what a scan spends on repository content: the per-file and per-check time budgets,
the caps on findings, a cooperative work meter, and the window a finding's source excerpt keeps.

The repository is untrusted, so every stage that works on its content is bounded, and going over
a bound is a finding (AR-MOD-006) that names the stage, never a hang:

* **One template** (`file_budget()`, ``ARCHREVIEW_FILE_BUDGET`` seconds, 0 = no time limit):
  decoding, modelling (SAM expansion, the Globals merge) and its template checks — the local
  ones and the cross-file ones run for it, wherever they run (the scan's process or a pool
  worker) — share one `Ledger`. A template whose decoding or modelling goes over is not
  reviewed; one whose checks go over keeps none of its check findings (what a stopped check
  had found so far depends on the machine's speed, so it is dropped, never shown as if it were
  the whole answer) and is reported once.
* **One repository check** (`repo_check_budget()`, ``ARCHREVIEW_REPO_CHECK_BUDGET`` seconds):
  each check over the whole repository (go.mod, package.json, .gitmodules ...) on its own
  ledger; one that goes over keeps none of its findings.
* **Findings** (`findings_caps`): one check may report 5,000 findings on one template (or on
  the repository), or two per resource (per file) when that is more; all the checks of one
  template 20,000, or eight per resource. Not a matter of time, so the same on every machine,
  and linear in the input: a template CloudFormation accepts (500 resources) comes nowhere
  near them, while SAM Globals merged into every function of a template would otherwise
  multiply the findings (and the memory) by the number of functions.

A result that went over a budget depends on timing: it is never cached (reviewer.runner.pipeline).

How work is stopped, in-process:

* Cooperative checkpoints (`checkpoint()`, `tick()`): between two checks, in every resolver
  call, for every policy statement walked and every few thousand nodes a reference walk visits.
  They read the ledger's deadline, so they work on any thread and any platform.
* A real-time alarm (``SIGALRM`` via ``setitimer``) in the main thread of a POSIX process (the
  scan's, and each pool worker's own: workers are forked processes): it stops any Python code,
  checks' loops included. It cannot stop a single long call into C code (a regular expression
  match, ``json.loads`` of a long string, a sort) before that call returns, and it is not set
  off the main thread (a library caller's thread): there only the checkpoints stop work.

`COUNTS` counts the units of work the meter sees, per kind, in this process (tests read it to
show that work grows linearly with the input).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DEFAULT_FILE_BUDGET_S = 8.0
DEFAULT_REPO_CHECK_BUDGET_S = 8.0
MAX_FINDINGS_PER_CHECK = 5_000  # what one check may report on one template (or repository) ...
FINDINGS_PER_CHECK_AND_UNIT = 2  # ... or this many per resource (per file) when that is more
MAX_FINDINGS_PER_TEMPLATE = 20_000  # what all the checks run for one template may report ...
FINDINGS_PER_TEMPLATE_AND_UNIT = 8  # ... or this many per resource
_CHECK_EVERY = 1024  # ticks between two reads of the clock


class OverBudget(BaseException):
    """Work went over its budget. A BaseException, so no check's `except Exception` swallows
    it. `limit` says which bound ("5,000 findings from one check"); empty for the time."""

    def __init__(self, limit: str = "") -> None:
        super().__init__(limit)
        self.limit = limit


def findings_caps(units: int) -> tuple[int, int]:
    """(per check, per template) caps on findings for a template of `units` resources (or a
    repository of `units` files)."""
    return (
        max(MAX_FINDINGS_PER_CHECK, FINDINGS_PER_CHECK_AND_UNIT * units),
        max(MAX_FINDINGS_PER_TEMPLATE, FINDINGS_PER_TEMPLATE_AND_UNIT * units),
    )


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 and value == value and value != float("inf") else default


def file_budget() -> float:
    """Seconds one template may take, decoding to its last check (ARCHREVIEW_FILE_BUDGET;
    0 = no time limit)."""
    return _seconds("ARCHREVIEW_FILE_BUDGET", DEFAULT_FILE_BUDGET_S)


def repo_check_budget() -> float:
    """Seconds one repository check may take (ARCHREVIEW_REPO_CHECK_BUDGET; 0 = no limit)."""
    return _seconds("ARCHREVIEW_REPO_CHECK_BUDGET", DEFAULT_REPO_CHECK_BUDGET_S)


@dataclass
class Ledger:
    """What one template (or one repository check) has spent, across its stages and the
    processes they ran in, and the stage that went over, once one did. Picklable: a pool
    worker sends it back with the template it loaded."""

    seconds: float  # the budget; 0: no time limit
    spent: float = 0.0
    stage: str | None = None  # the stage that went over its budget
    limit: str = ""  # the bound it went over ("" for the time)
    where: str = ""  # the check that was running, when it was one

    @property
    def over(self) -> bool:
        return self.stage is not None


# -- the meter --------------------------------------------------------------------------------

COUNTS: dict[str, int] = {}
_ticks = 0


class _Running(threading.local):
    """The running stage's deadline (time.monotonic()) in this thread: scans in two threads of
    one process each keep their own."""

    deadline: float | None = None


_RUNNING = _Running()


def checkpoint() -> None:
    """Stop here (OverBudget) when the running stage is past its deadline."""
    deadline = _RUNNING.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise OverBudget()


def tick(kind: str, units: int = 1) -> None:
    """Count `units` of work of a kind; every so often, a checkpoint."""
    global _ticks
    COUNTS[kind] = COUNTS.get(kind, 0) + units
    _ticks += 1
    if _ticks % _CHECK_EVERY == 0:
        checkpoint()


@contextmanager
def metered(ledger: Ledger, stage: str) -> Iterator[Ledger]:
    """Run the block as `stage` of the ledger's work, with what is left of its time: past it,
    the block is stopped (alarm or checkpoint) and the ledger names the stage. An OverBudget
    raised inside (a findings cap) is recorded the same way. Nothing propagates: the caller
    reads `ledger.over` afterwards (and does not start a stage on a ledger already over). With
    no time left the block's first checkpoint stops it: blocks start with one."""
    start = time.monotonic()
    outer = _RUNNING.deadline
    remaining: float | None = None
    if ledger.seconds > 0:
        remaining = max(ledger.seconds - ledger.spent, 0.0)
        ends = start + remaining
        _RUNNING.deadline = ends if outer is None else min(outer, ends)
    try:
        with _alarm(remaining):
            yield ledger
    except OverBudget as stop:
        if ledger.stage is None:
            ledger.stage = stage
            ledger.limit = stop.limit
    finally:
        _RUNNING.deadline = outer
        ledger.spent += time.monotonic() - start


@contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Raise OverBudget in the block after `seconds` of real time (main thread, POSIX only;
    elsewhere nothing: the checkpoints still stop the work). Nests: the alarm of an enclosing
    block is put back, less the time spent."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert seconds is not None
    armed = [True]

    def on_alarm(signum: int, frame: Any) -> None:
        if armed[0]:
            armed[0] = False
            raise OverBudget()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    if outer_delay and outer_delay < seconds:  # an enclosing alarm is due first: keep it
        signal.setitimer(signal.ITIMER_REAL, outer_delay, outer_interval)
    try:
        yield
    finally:
        try:
            armed[0] = False  # (an alarm landing just before this still gets the rest done)
        finally:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
            finally:
                signal.signal(signal.SIGALRM, previous)
                if outer_delay:
                    left = max(outer_delay - (time.monotonic() - started), 0.001)
                    signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


# -- source excerpts ----------------------------------------------------------------------------

SOURCE_WINDOW = 400  # characters of a source line a finding keeps
SOURCE_BEFORE = 200  # of which at most this many before the finding's column
SOURCE_CUT = "…"  # marks the text cut from either end of a kept line


def source_window(line: str, column: int) -> str:
    """The part of a source line a finding keeps as its `source`, whatever the line's length:

    * when the 1-based `column` is at most SOURCE_BEFORE + 1, the line's first
      max(SOURCE_WINDOW, column + SOURCE_BEFORE) characters, so the column indexes it as it
      indexes the line;
    * further right, SOURCE_CUT and the line from SOURCE_BEFORE characters before the column:
      the column is then at index SOURCE_BEFORE + 1 (see `source_offset`);

    and SOURCE_CUT at the end when the line goes on past SOURCE_WINDOW characters of window."""
    at = max(column - 1, 0)
    if at <= SOURCE_BEFORE:
        end = max(SOURCE_WINDOW, at + SOURCE_BEFORE)
        return line if len(line) <= end else line[:end] + SOURCE_CUT
    start = at - SOURCE_BEFORE
    end = start + SOURCE_WINDOW
    return SOURCE_CUT + line[start:end] + (SOURCE_CUT if len(line) > end else "")


def source_offset(column: int) -> int:
    """How far left of its place in the line a character sits in a finding's `source`: a
    1-based line column `c` of the finding's line is index `c - 1 - source_offset(column)` of
    `source` (0 unless the start of the line was cut, see `source_window`)."""
    at = max(column - 1, 0)
    return 0 if at <= SOURCE_BEFORE else at - SOURCE_BEFORE - len(SOURCE_CUT)
