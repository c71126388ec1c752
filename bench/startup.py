"""What a scan costs before it loads its first template, and what a warm scan costs (issue 20).

    python bench/startup.py [PATH] [--rounds 5] [--src DIR]

Four figures, each the median of `--rounds` runs, as CPU time (user + system, of the process
and its children: the shared two-core machine makes wall time noisy) and wall time:

- `archreview --version`;
- the time to the first template: `scan PATH --no-cache --jobs 1` stopped when the engine
  starts loading the first file (reviewer.runner.engine._load is replaced, in the measured
  process only, by a probe that exits);
- a warm scan with nothing changed (`--cache-dir D`, after one scan that filled D): the output
  replay answers;
- a warm scan after one edited template (a copy of PATH; a comment appended to one template
  before each run).

PATH defaults to the serverless-patterns corpus (../shared/corpora/serverless-patterns).
`--src DIR` measures another copy of the package (DIR holds `reviewer/` and `rules/`, e.g. a
`git archive` of an older commit): run from a neutral folder with PYTHONPATH=DIR. Standard
library only; nothing here is imported by `reviewer`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "serverless-patterns"

PROBE = """
import os, sys
import reviewer.runner.engine as engine
import reviewer.cli.main as cli

def first_template(*args, **kwargs):
    os._exit(0)

engine._load = first_template
sys.argv = ["archreview", *sys.argv[1:]]
cli.run()
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(CPU seconds of the command and its children, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("path", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--src", type=Path, default=None, help="another copy of the package")
    args = parser.parse_args()
    path = args.path.resolve()
    if not path.is_dir():
        print(f"startup: {path} is not a folder", file=sys.stderr)
        return 2
    env = {**os.environ, "ARCHREVIEW_TODAY": "2026-12-06"}
    with tempfile.TemporaryDirectory(prefix="archreview-startup-") as tmp:
        work = Path(tmp)
        cwd = ROOT
        if args.src is not None:
            env["PYTHONPATH"] = str(args.src.resolve())
            cwd = work  # not the checkout: its package would be imported instead
        python = sys.executable
        scan = [python, "-m", "reviewer", "scan"]
        quiet = ["--format", "json", "--output", "/dev/null", "--fail-on", "never"]
        copy = work / "tree"
        shutil.copytree(path, copy, symlinks=True)
        named = sorted(copy.rglob("template.yaml")) or sorted(copy.rglob("*.yaml"))
        edited = named[0] if named else None
        warm, edit = work / "warm", work / "edit"
        for tree, cache in ((path, warm), (copy, edit)):  # fill the caches
            timed([*scan, str(tree), *quiet, "--cache-dir", str(cache)], env, cwd)
        rows: dict[str, list[tuple[float, float]]] = {}
        probe = [python, "-c", PROBE, "scan", str(path), *quiet, "--no-cache", "--jobs", "1"]
        for number in range(args.rounds):
            rows.setdefault("--version", []).append(
                timed([python, "-m", "reviewer", "--version"], env, cwd)
            )
            rows.setdefault("first template", []).append(timed(probe, env, cwd))
            rows.setdefault("warm, nothing changed", []).append(
                timed([*scan, str(path), *quiet, "--cache-dir", str(warm)], env, cwd)
            )
            if edited is not None:
                with edited.open("a", encoding="utf-8") as fh:
                    fh.write(f"# edit {number}\n")
                rows.setdefault("warm, one edited template", []).append(
                    timed([*scan, str(copy), *quiet, "--cache-dir", str(edit)], env, cwd)
                )
    print(f"{path} ({args.rounds} rounds; medians, seconds)")
    for name, runs in rows.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        print(f"  {name:28} CPU {cpu:6.3f}   wall {wall:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
