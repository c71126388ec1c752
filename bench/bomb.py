"""Time and peak memory of the hostile-input cases through the whole scan (issue 10).

    .venv/bin/python bench/bomb.py                 # every case, 3 warm runs each
    .venv/bin/python bench/bomb.py --repeat 5 --json bench/out/bomb.json
    .venv/bin/python bench/bomb.py --case billion-laughs

Each case runs in a fresh process (so one case's memory does not hide another's): the process
imports archreview, scans a one-template repository once to load everything a scan loads
(cfn-lint's decoder included), then scans the case's repository --repeat times with
``reviewer.runner.engine.scan``. Reported per case:

- ``cold``: the first scan of the case in a fresh process, imports included (what one CI run
  pays when the bad file is the first template it meets);
- ``warm``: the median of the repeated scans;
- ``peak RSS``: the process's high-water mark (ru_maxrss) after the case, interpreter and
  libraries included, and ``growth``: how far the scans of the case raised it above the
  warmed-up process;
- the findings the engine gave (AR-MOD-003 / 005 / 006), or the exception that escaped.

The goal for each case is <= 2 s and <= 300 MB. The cases:

- ``billion-laughs``: nine levels of nine aliases (9**10 = 3.5e9 nodes once expanded);
- ``laughs-near-cap``: an alias DAG just under cfn-lint's 250,000-node expansion cap, used by
  every resource property a policy check walks (the worst that reaches the checks);
- ``deep-flow-list`` / ``deep-flow-map`` / ``deep-block-list`` / ``deep-json``: 10,000 levels of
  ``[``, ``{a:``, ``- `` and JSON ``[`` nesting;
- ``deep-json-string``: a 10,000-deep JSON policy document written as a string (parsed by the
  checks, not by the loader);
- ``deep-samconfig``: a 10,000-deep samconfig.toml next to a template;
- ``sam-globals-fanout``: no alias, a 20,000-entry list in SAM Globals merged into 100 functions
  (a 150 KB file): the expansion no alias cap sees, bounded only by the per-file time budget;
- ``profile-laughs``: the billion laughs as a .archreview.yml (parse_profile_text).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEPTH = 10_000
GOAL_SECONDS = 2.0
GOAL_MB = 300.0


def _laughs(levels: int, fan: int, where: str) -> list[str]:
    lines = ['  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for i in range(levels):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*{previous}"] * fan) + "]")
        previous = f"l{i}"
    return [*lines, f"{where}*{previous}"]


def _policy(value: str) -> str:
    return (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n"
        f"    Properties:\n      PolicyDocument: {value}\n"
    )


def case_files(name: str) -> dict[str, str]:
    """The repository (relative path -> text) of a case."""
    if name == "billion-laughs":
        body = _laughs(9, 9, "      Tags: ")
        return {
            "template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nMetadata:\n"
            + "\n".join(body[:-1])
            + "\nResources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
            + body[-1]
            + "\n"
        }
    if name == "laughs-near-cap":
        # 9 * 9**4 = 59,049 leaves (about 66,000 nodes) per use; the anchors (~74,000) and two
        # uses: ~206,000 nodes once expanded, under the 250,000 cap; the IAM checks walk it all
        body = _laughs(4, 9, "")
        top = body[-1]
        return {
            "template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nMetadata:\n"
            + "\n".join(body[:-1])
            + "\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n"
            + "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Action: "
            + top
            + ", Resource: '*'}]}\n"
            + "      Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, Action: "
            + top
            + ", Resource: '*'}]}}]\n"
        }
    if name == "deep-flow-list":
        return {"template.yaml": _policy("[" * DEPTH + "]" * DEPTH)}
    if name == "deep-flow-map":
        return {"template.yaml": _policy("{a: " * DEPTH + "1" + "}" * DEPTH)}
    if name == "deep-block-list":
        return {"template.yaml": _policy("\n        " + "- " * DEPTH + "x")}
    if name == "deep-json":
        return {
            "template.json": '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": '
            + "[" * DEPTH
            + "]" * DEPTH
            + "}}}"
        }
    if name == "deep-json-string":
        return {"template.yaml": _policy("'" + '{"a":' * DEPTH + "1" + "}" * DEPTH + "'")}
    if name == "deep-samconfig":
        return {
            "template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P: {Type: String}\n"
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
            "samconfig.toml": "x = " + "[" * DEPTH + "]" * DEPTH + "\n",
        }
    if name == "sam-globals-fanout":
        # no alias at all: a 20,000-entry list in Globals, merged into each of 100 functions
        # (the model shares it; the checks walk it once per function): 2 million nodes to walk
        head = (
            "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n"
            "    Handler: a.b\n    Layers: ["
            + ",".join(f"l{i}" for i in range(20_000))
            + "]\nResources:\n"
        )
        functions = "".join(
            f"  F{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
            for i in range(100)
        )
        return {"template.yaml": head + functions}
    if name == "profile-laughs":
        body = _laughs(9, 9, "exclude: ")
        return {".archreview.yml": "anchors:\n" + "\n".join(body[:-1]) + "\n" + body[-1] + "\n"}
    raise SystemExit(f"unknown case {name!r}")


CASES = (
    "billion-laughs",
    "laughs-near-cap",
    "deep-flow-list",
    "deep-flow-map",
    "deep-block-list",
    "deep-json",
    "deep-json-string",
    "deep-samconfig",
    "sam-globals-fanout",
    "profile-laughs",
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_case(name: str, repeat: int) -> dict[str, Any]:
    """In this process: warm up, then time the case. (Called in a child process.)"""
    sys.path.insert(0, str(REPO))
    from datetime import date

    from reviewer.profile.loader import ProfileError, parse_profile_text
    from reviewer.runner.engine import ScanOptions, scan

    options = ScanOptions(today=date(2026, 11, 25))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as warm:
        Path(warm, "template.yaml").write_text(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        )
        from reviewer.decode.load import decode_cfnlint

        decode_cfnlint("a: &a [1]\nb: *a\n")  # the alias path: cfn-lint imported
        scan(warm, options)
    warmup = time.perf_counter() - started
    base = _rss_mb()
    files = case_files(name)
    times: list[float] = []
    outcome: str = ""
    with tempfile.TemporaryDirectory() as root:
        for rel, text in files.items():
            Path(root, rel).write_text(text, encoding="utf-8")
        for _ in range(repeat):
            t0 = time.perf_counter()
            try:
                if name.startswith("profile-"):
                    try:
                        parse_profile_text(files[".archreview.yml"], ".archreview.yml")
                        outcome = "accepted"
                    except ProfileError as err:
                        outcome = f"ProfileError: {err}"
                else:
                    report = scan(root, options)
                    engine = [
                        f"{f.rule_id} {f.file}:{f.line}: {f.message[:120]}"
                        for f in report.findings
                        if f.rule_id in ("AR-MOD-003", "AR-MOD-005", "AR-MOD-006")
                    ]
                    outcome = "; ".join(engine) or f"reviewed ({len(report.findings)} findings)"
            except Exception as err:  # reported, not hidden
                outcome = f"CRASH {type(err).__name__}: {str(err)[:120]}"
            times.append(time.perf_counter() - t0)
    peak = _rss_mb()
    return {
        "case": name,
        "bytes": sum(len(t.encode("utf-8")) for t in files.values()),
        "warmup_seconds": round(warmup, 3),
        "cold_seconds": round(warmup + times[0], 3),
        "first_seconds": round(times[0], 3),
        "warm_seconds": round(statistics.median(times[1:] or times), 3),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - base, 1),
        "outcome": outcome,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--case", action="append", choices=CASES, help="only this case (repeatable)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="scans of each case (default 3)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_case(args.one, max(1, args.repeat))))
        return 0
    results: list[dict[str, Any]] = []
    print(
        f"{'case':<18} {'bytes':>9} {'cold s':>7} {'warm s':>7} {'peak MB':>8} {'growth':>7}  outcome"
    )
    for name in args.case or CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--one", name, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            result = {"case": name, "outcome": f"child failed: {done.stderr.strip()[-300:]}"}
            print(f"{name:<18} {result['outcome']}")
            results.append(result)
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["within_goal"] = (
            result["warm_seconds"] <= GOAL_SECONDS
            and result["first_seconds"] <= GOAL_SECONDS
            and result["peak_rss_mb"] <= GOAL_MB
            and not result["outcome"].startswith("CRASH")
        )
        results.append(result)
        print(
            f"{name:<18} {result['bytes']:>9,} {result['cold_seconds']:>7.2f} {result['warm_seconds']:>7.3f} "
            f"{result['peak_rss_mb']:>8.1f} {result['rss_growth_mb']:>+7.1f}  "
            f"{'ok ' if result['within_goal'] else 'OVER'} {result['outcome'][:110]}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r.get("within_goal") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
