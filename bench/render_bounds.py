"""Time and peak memory of `archreview scan` on a one-line JSON template, per output format
(issue 15, item 7: rendering must be bounded like every other stage).

    .venv/bin/python bench/render_bounds.py                  # 4.8 MB, every format
    .venv/bin/python bench/render_bounds.py --mb 2 --format text --json bench/out/render.json

The template is minified JSON on one line: a Description of MB megabytes, then QUEUES SQS
queues, so every finding's source line is the whole file and its column lies megabytes into it.
Each format runs in a fresh process (`python -m reviewer scan --no-cache --jobs 1`); reported:
wall time and the process's peak RSS (ru_maxrss of the child), output size and findings.

Before the renderers capped source excerpts, text output of the 4.8 MB case took 166-237 s and
560-577 MB (JSON: about 1 s); the goal is the same order as JSON output for every format.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")


def write_template(path: Path, megabytes: float, queues: int) -> None:
    resources = {
        f"Queue{i:06d}": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"q{i}",
                "VisibilityTimeout": 30,
                "MessageRetentionPeriod": 60,
            },
        }
        for i in range(queues)
    }
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "x" * int(megabytes * 1_000_000),
        "Resources": resources,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")


_WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'exit': p.returncode, 'seconds': time.perf_counter() - t,\n"
    "    'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,\n"
    "    'stderr': p.stderr[-500:]}))\n"
)


def run(repo: Path, fmt: str, out: Path, timeout: float) -> dict[str, object]:
    """One scan in a fresh process; a wrapper process reports its wall time and peak RSS."""
    command = [
        sys.executable, "-m", "reviewer", "scan", str(repo), "--format", fmt,
        "--output", str(out), "--no-cache", "--jobs", "1", "--fail-on", "never",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    measured = json.loads(proc.stdout)
    return {
        "format": fmt,
        "exit": measured["exit"],
        "seconds": round(measured["seconds"], 2),
        "peak_rss_mb": round(measured["rss_kb"] / 1024, 1),
        "output_bytes": out.stat().st_size if out.exists() else 0,
        "stderr": measured["stderr"].strip().splitlines()[-1:] if measured["exit"] else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.8)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--format", action="append", choices=FORMATS)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        write_template(repo / "template.json", args.mb, args.queues)
        for fmt in args.format or FORMATS:
            result = run(repo, fmt, Path(tmp) / f"out.{fmt}", args.timeout)
            results.append(result)
            print(
                f"{fmt:<9} {result['seconds']:>7.2f} s  peak {result['peak_rss_mb']:>7} MB"
                f"  {result['output_bytes']:>9} bytes  exit {result['exit']}"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
