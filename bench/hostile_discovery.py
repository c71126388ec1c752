"""Time and peak memory of the discovery and manifest cases of issue 15 (items 2, 4 and 7).

    .venv/bin/python bench/hostile_discovery.py                      # every case, this checkout
    .venv/bin/python bench/hostile_discovery.py --case deps-100000
    .venv/bin/python bench/hostile_discovery.py --source /tmp/before  # another copy of the code
    .venv/bin/python bench/hostile_discovery.py --timeout 120 --json bench/out/hostile.json

Each case writes a repository into a temporary folder and runs, in a fresh process,

    {python} -m reviewer scan PATH --format json --output /dev/null --fail-on never --no-cache

killed after ``--timeout`` seconds (default 300: the row then reads "> 300 s"). Reported per
case: the wall time, the process's peak RSS (``ru_maxrss`` from ``wait4``), the exit code and
the engine's AR-MOD-006 findings that name a budget (what the scan said it left out).
``--source DIR`` runs the code in DIR instead of this checkout (``git archive HEAD | tar -x -C
DIR`` gives the code before a change, for before/after figures).

The cases:

- ``backtrack-gitignore``: ``*a*a*a*a*a*a*a*a*a*a*a*a*b`` in .gitignore beside a folder and a
  template whose names are 200 ``a`` (a regular-expression matcher backtracks on it forever);
- ``gitignore-4.8mb``: a 4.8 MB .gitignore of about 240,000 varied patterns (anchored, negated,
  ``**``, classes, folder-only) over a tree of 300 templates in 100 folders;
- ``one-manifest-100000`` / ``one-manifest-20000``: one package.json with that many
  dependencies (4.7 MB for 100,000), the shape of the issue's report;
- ``deps-100000`` / ``deps-20000``: the same beside a second manifest naming the same packages
  with ranges that share no version (so AR-STK-006 compares, and reports, every one of them:
  twice as many findings as dependencies);
- ``manifests-2000-disjoint``: 2,000 tiny package.json files, each naming ``react`` with its own
  range (``1.N.x``: no two share a version, so every one drifts from every other);
- ``manifests-2000-overlap``: the same with ``>=1.N.0 <3`` (all overlap: nothing to report, but
  every pair must still be looked at by a pairwise algorithm);
- ``manifests-2000-unions``: the same with ``1.N.x || 5.N.x`` (unions of two ranges, the shape
  the sorted fast path does not take: pairwise comparisons under the work cap).

Figures on the 2-core development VM, 2026-12-06, shared with other work (before: the code of
commit d10ced8, run with ``--source``; after: this change). Wall time, peak RSS:

    case                      before               after
    backtrack-gitignore       > 300 s (killed)     0.20 s   31 MB
    gitignore-4.8mb           242 s    322 MB      1.31 s   49 MB  (.gitignore capped, reported)
    one-manifest-100000       > 300 s (killed)     0.76 s  110 MB
    one-manifest-20000        19.7 s    58 MB      0.30 s   53 MB
    deps-100000               > 300 s (killed)     1.16 s  147 MB  (*)
    deps-20000                84.4 s    97 MB      0.46 s   54 MB  (*)
    manifests-2000-disjoint   69.5 s   226 MB      0.91 s   59 MB
    manifests-2000-overlap    31.4 s   226 MB      1.07 s   71 MB
    manifests-2000-unions     211 s    226 MB      0.96 s   75 MB  (pair cap: one INFO finding)

(*) The engine now stops a repository check at 5,000 findings (AR-MOD-006); AR-STK-006 alone,
run in process on deps-100000, yields its 200,000 findings in about 5 s (deps-20000: 0.7 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

SAM = (
    "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
    "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def backtrack_gitignore(root: Path) -> None:
    _write(root, ".gitignore", "*a*a*a*a*a*a*a*a*a*a*a*a*b\n")
    name = "a" * 200
    _write(root, f"{name}/template.yaml", SAM)
    _write(root, f"{name}.yaml", SAM)
    _write(root, "template.yaml", SAM)


def _pattern(i: int) -> str:
    shapes = (
        f"logs-{i}/",
        f"*.tmp{i}",
        f"/build-{i}/**/out",
        f"!keep-{i}.yaml",
        f"src/**/gen-{i}-*.json",
        f"cache[0-9]-{i}?",
        f"**/scratch-{i}",
        f"docs/{i}/*.md",
    )
    return shapes[i % len(shapes)]


def gitignore_big(root: Path) -> None:
    lines: list[str] = []
    size = 0
    i = 0
    while size < 4_800_000:
        line = _pattern(i)
        lines.append(line)
        size += len(line) + 1
        i += 1
    _write(root, ".gitignore", "\n".join(lines) + "\n")
    for folder in range(100):
        for n in range(3):
            _write(root, f"svc-{folder}/stack-{n}/template.yaml", SAM)


def _deps(count: int) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        one = ",\n".join(f'    "pkg-{i}": "^1.{i % 100}.0"' for i in range(count))
        two = ",\n".join(f'    "pkg-{i}": "^2.{i % 100}.0"' for i in range(count))
        _write(
            root, "a/package.json", '{\n  "name": "a",\n  "dependencies": {\n' + one + "\n  }\n}\n"
        )
        _write(
            root, "b/package.json", '{\n  "name": "b",\n  "dependencies": {\n' + two + "\n  }\n}\n"
        )

    return build


def _one_manifest(count: int) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        deps = {f"@scope/package-{i:06d}": f"^1.{i % 100}.{i}" for i in range(count)}
        text = json.dumps({"name": "big", "dependencies": deps}, indent=2)
        _write(root, "package.json", text + "\n")

    return build


def _manifests(spec: Callable[[int], str]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        for i in range(2000):
            text = json.dumps({"name": f"m{i}", "dependencies": {"react": spec(i)}})
            _write(root, f"m{i:04d}/package.json", text + "\n")

    return build


CASES: dict[str, Callable[[Path], None]] = {
    "backtrack-gitignore": backtrack_gitignore,
    "gitignore-4.8mb": gitignore_big,
    "one-manifest-100000": _one_manifest(100_000),
    "one-manifest-20000": _one_manifest(20_000),
    "deps-100000": _deps(100_000),
    "deps-20000": _deps(20_000),
    "manifests-2000-disjoint": _manifests(lambda i: f"1.{i}.x"),
    "manifests-2000-overlap": _manifests(lambda i: f">=1.{i}.0 <3"),
    "manifests-2000-unions": _manifests(lambda i: f"1.{i}.x || 5.{i}.x"),
}


def run_case(name: str, python: str, source: Path, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"archreview-{name}-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        CASES[name](root)
        out = Path(tmp) / "report.json"
        env = dict(os.environ, PYTHONPATH=str(source), ARCHREVIEW_TODAY="2026-01-15")
        cmd = [python, "-m", "reviewer", "scan", str(root), "--format", "json"]
        cmd += ["--output", str(out), "--fail-on", "never", "--no-cache"]
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        status: int | None = None
        rss_kb = 0
        while True:
            pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                rss_kb = usage.ru_maxrss
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                _, _, usage = os.wait4(proc.pid, 0)
                rss_kb = usage.ru_maxrss
                break
            time.sleep(0.05)
        wall = time.monotonic() - start
        proc.returncode = status if status is not None else -9
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        notes: list[str] = []
        if status is not None and out.exists():
            report = json.loads(out.read_text(encoding="utf-8"))
            for finding in report.get("findings", []):
                message = str(finding.get("message", ""))
                if finding.get("rule_id") == "AR-MOD-006" or "pair by pair" in message:
                    notes.append(f"{finding.get('rule_id')}: {message[:200]}")
            counts: dict[str, int] = {}
            for finding in report.get("findings", []):
                rule = str(finding.get("rule_id"))
                counts[rule] = counts.get(rule, 0) + 1
            notes.append("findings: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return {
            "case": name,
            "wall_s": round(wall, 2),
            "timed_out": status is None,
            "exit": status,
            "peak_rss_mb": round(rss_kb / 1024, 1),
            "notes": notes[:6],
            "stderr_tail": stderr.strip().splitlines()[-3:],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--source", type=Path, default=REPO, help="the code to run")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    for name in args.case or list(CASES):
        row = run_case(name, args.python, args.source.resolve(), args.timeout)
        rows.append(row)
        wall = f"> {args.timeout:.0f} s" if row["timed_out"] else f"{row['wall_s']:.2f} s"
        print(f"{name:26} {wall:>10} {row['peak_rss_mb']:>8.1f} MB  exit {row['exit']}")
        for note in row["notes"]:
            print(f"{'':28}{note}")
        if row["exit"] not in (0, None):
            for line in row["stderr_tail"]:
                print(f"{'':28}! {line}")
        sys.stdout.flush()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
