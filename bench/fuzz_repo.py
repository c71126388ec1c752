"""The long repository-level fuzz (issue 15): hostile checkouts, scanned and checked.

    .venv/bin/python bench/fuzz_repo.py                       # 10,000 trees, bench sizes
    .venv/bin/python bench/fuzz_repo.py --trees 500 --workers 2 --out bench/out/fuzz-repo
    .venv/bin/python bench/fuzz_repo.py --seed 1234           # replay one tree, verbosely
    .venv/bin/python bench/fuzz_repo.py --seed 1234 --size ci # a tree of the CI fuzz

Each tree comes from ``tests/hostile/trees.py`` (``generate(seed, size)``: the same seed gives
the same tree): symbolic links into and out of the root and into the cache folder, loops,
FIFOs, unreadable files, files of every kind archreview reads — up to 5 MB each with the bench
sizes — with values of the wrong type and hostile names, attacks on the cache and the ADR
folder. ``tests/hostile/harness.py`` scans it in a forked child (the engine and every renderer)
and, for every ``--cli-every``-th tree, with the command line as a subprocess, and checks each
run: no traceback, no exit 3, no hang (killed after ``--hang-limit`` seconds), at most 500 MB
of peak RSS for a command-line run, nothing changed beside the checkout, no file of the
checkout changed or removed, nothing created in it outside the cache and ADR folders.

The summary (``summary.json`` in ``--out``, and printed) gives the number of trees and runs,
the failures by class with their seeds, what is reported without failing (workflow commands,
contained check crashes, temporary files left, slow runs), the slowest trees and the peak RSS;
``failures.txt`` lists one failing seed per line with its problems, for ``--seed`` to replay.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tests.hostile import harness, trees  # noqa: E402

DEFAULT_TREES = 10_000
DEFAULT_SEED = 15_000_000  # seeds are DEFAULT_SEED + i: disjoint from the CI fuzz's


def replay(seed: int, size: str, hang_limit: float) -> int:
    tree = trees.generate(seed, size)
    print(tree.describe())
    print(tree.plan)
    for entry in tree.entries:
        extra = f" -> {entry.target!r}" if entry.kind == "link" else f" {len(entry.data)} bytes"
        mode = f" mode {entry.mode:o}" if entry.mode is not None else ""
        print(f"  {entry.kind:5} {entry.path!r}{extra}{mode}")
    harness.warm()
    outcome = harness.check(tree, hang_limit=hang_limit)
    print(outcome.report())
    for run in outcome.runs:
        if run.stderr.strip():
            print(f"--- {run.name} stderr (last 2,000 bytes)")
            print(run.stderr[-2000:].decode("utf-8", "replace"))
        if run.result.get("exception"):
            print(f"--- {run.name} exception")
            print(run.result["exception"])
    return 1 if outcome.failures else 0


def summarise(
    records: list[dict[str, Any]], seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    failures: dict[str, list[int]] = collections.defaultdict(list)
    reported: dict[str, list[int]] = collections.defaultdict(list)
    details: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    runs = 0
    peak: dict[str, Any] = {"max_rss_mib": 0, "seed": None, "run": None}
    peak_engine: dict[str, Any] = {"max_rss_mib": 0, "seed": None}
    slowest: list[tuple[float, int]] = []
    for record in records:
        runs += len(record["runs"])
        total = sum(r["seconds"] for r in record["runs"])
        slowest.append((total, record["seed"]))
        for r in record["runs"]:
            mib = r["max_rss"] // 2**20
            if r["name"] == "engine":
                if mib > peak_engine["max_rss_mib"]:
                    peak_engine = {"max_rss_mib": mib, "seed": record["seed"]}
            elif mib > peak["max_rss_mib"]:
                peak = {"max_rss_mib": mib, "seed": record["seed"], "run": r["name"]}
        for kind, _run, detail in record["problems"]:
            target = failures if kind in harness.FAILURES or kind == "harness" else reported
            if record["seed"] not in target[kind]:
                target[kind].append(record["seed"])
            details[kind][detail[:160]] += 1
    slowest.sort(reverse=True)
    return {
        "trees": len(records),
        "runs": runs,
        "seconds": round(seconds, 1),
        "size": args.size,
        "first_seed": args.first_seed,
        "hang_limit_s": args.hang_limit,
        "memory_budget_mib": harness.MEMORY_BUDGET // 2**20,
        "failures": {
            k: {"trees": len(v), "seeds": sorted(v)[:50]} for k, v in sorted(failures.items())
        },
        "reported": {
            k: {"trees": len(v), "seeds": sorted(v)[:20]} for k, v in sorted(reported.items())
        },
        "top_details": {k: c.most_common(5) for k, c in sorted(details.items())},
        "slowest": [{"seed": s, "seconds": round(t, 2)} for t, s in slowest[:10]],
        "peak_rss_command_line": peak,
        # a forked child of the bench: its RSS counts the pages it shares with its parent
        "peak_rss_engine_child": peak_engine,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", type=int, default=DEFAULT_TREES)
    parser.add_argument("--first-seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--seed", type=int, help="replay this one tree, verbosely")
    parser.add_argument("--size", choices=sorted(trees.SIZES), default="bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cli-every", type=int, default=4, help="a command-line run every N trees (0: none)"
    )
    parser.add_argument("--hang-limit", type=float, default=harness.HANG_LIMIT)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "fuzz-repo")
    parser.add_argument("--tmp", type=Path, help="parent folder of the workspaces")
    args = parser.parse_args(argv)
    if args.seed is not None:
        return replay(args.seed, args.size, args.hang_limit)
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [args.first_seed + i for i in range(args.trees)]
    records: list[dict[str, Any]] = []
    started = time.monotonic()
    with open(args.out / "records.jsonl", "w", encoding="utf-8") as log:
        for n, record in enumerate(
            harness.fuzz(
                seeds,
                size=args.size,
                workers=args.workers,
                cli_every=args.cli_every,
                hang_limit=args.hang_limit,
                parent=args.tmp,
            ),
            1,
        ):
            records.append(record)
            log.write(json.dumps(record) + "\n")
            log.flush()
            if n % 100 == 0 or n == len(seeds):
                bad = sum(
                    1 for r in records if any(p[0] in harness.FAILURES for p in r["problems"])
                )
                rate = n / (time.monotonic() - started)
                print(
                    f"{n}/{len(seeds)} trees, {bad} failing, {rate:.2f} trees/s",
                    file=sys.stderr,
                    flush=True,
                )
    summary = summarise(records, time.monotonic() - started, args)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    with open(args.out / "failures.txt", "w", encoding="utf-8") as handle:
        for record in sorted(records, key=lambda r: r["seed"]):
            problems = [
                p for p in record["problems"] if p[0] in harness.FAILURES or p[0] == "harness"
            ]
            if problems:
                handle.write(
                    f"{record['seed']}\t"
                    + "; ".join(f"{k} [{r}] {d[:200]}" for k, r, d in problems)
                    + "\n"
                )
    print(json.dumps(summary, indent=2))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
