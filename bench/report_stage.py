"""CPU time of the report stage and of each renderer, on one scan (issue 20).

    .venv/bin/python bench/report_stage.py                       # the corpus, 7 rounds
    .venv/bin/python bench/report_stage.py /tmp/gen562 --rounds 11

Scans TARGET once in this process (`--jobs 1 --no-cache`), then times, in CPU time
(time.process_time) over ROUNDS rounds, with the cyclic collector off as in the command line: `build_report` on the scan's own hits (making the
findings, merging, suppressing, the persona filter, the evaluations and the scores) and each
format's renderer on the report. Fix rendering (reviewer.fixes, its own stage) is done once
before the rounds and reused, so `build_report` counts the report stage alone. Reported: the
median and the minimum per step, in milliseconds; on a shared machine, compare minimums.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("ARCHREVIEW_TODAY", "2026-12-06")

import reviewer.findings.make as make  # noqa: E402
import reviewer.runner.engine as engine  # noqa: E402
from reviewer.core.types import Report  # noqa: E402
from reviewer.outputs import RenderOptions, renderer, streamer  # noqa: E402
from reviewer.runner.state import ScanOptions  # noqa: E402

FORMATS = ("json", "sarif", "markdown", "text", "junit")


def cpu_times(step: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.process_time()
        step()
        out.append(time.process_time() - start)
    return out


def render_step(name: str, report: Report) -> Callable[[], object]:
    """One rendering of `report` in format `name`, its text dropped (streamed when it can be)."""
    options = RenderOptions()
    stream = streamer(name)
    if stream is not None:
        streaming = stream
        return lambda: streaming(report, options, lambda _: None)
    render = renderer(name)
    return lambda: render(report, options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "target", nargs="?", default=str(REPO.parent / "shared/corpora/serverless-patterns")
    )
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    fixes: dict[int, tuple[Any, Any]] = {}
    render_fix = vars(make)["render_fix"]  # reviewer.fixes.render_fix, as make.py calls it

    def fix_once(fix: Any, **kw: Any) -> Any:  # each fix rendered once, then reused
        if id(fix) not in fixes:
            fixes[id(fix)] = (fix, render_fix(fix, **kw))
        return fixes[id(fix)][1]

    vars(make)["render_fix"] = fix_once
    times: dict[str, list[float]] = {}
    build: Callable[..., Report] = vars(engine)["build_report"]

    def timed_build(state: Any, raws: Any, entries: Any) -> Report:
        report = build(state, raws, entries)  # the fixes rendered here, once
        times["build_report"] = cpu_times(lambda: build(state, raws, entries), args.rounds)
        return report

    vars(engine)["build_report"] = timed_build
    gc.disable()  # as the command line runs
    report = engine.scan(Path(args.target), ScanOptions(jobs=1))  # no cache_dir: no cache
    for name in FORMATS:
        times[f"render {name}"] = cpu_times(render_step(name, report), args.rounds)
    print(f"{args.target}: {len(report.findings)} findings, {len(report.evaluations)} evaluations")
    for step_name, ts in times.items():
        median, least = statistics.median(ts) * 1000, min(ts) * 1000
        print(f"  {step_name:16} median {median:7.1f} ms   min {least:7.1f} ms")


if __name__ == "__main__":
    main()
