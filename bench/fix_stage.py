"""CPU time of the fix stage and of decoding, on a corpus (issue 20).

    python bench/fix_stage.py [CORPUS_DIR] [--rounds N]

1. Scans the corpus once in this process (`--jobs 1 --no-cache`, JSON to /dev/null), recording
   every call of the fix stage (`render_fix`: one per finding with a fix intent that the
   report's persona shows). Then replays those calls N times, with nothing remembered from
   an earlier round (reviewer.fixes.forget), and prints the CPU seconds of a round (minimum and
   median) with the number of decodings a round makes (the file once, then one proof each).
2. Decodes every template of the corpus (bench/decode_only.py's discovery) with
   reviewer.decode.load.decode, N rounds, and prints the CPU seconds of a round.

CPU time (time.process_time) rather than wall time: other processes share the machine. On a
busy machine the minimum is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "serverless-patterns"


def _rounds(work: Any, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return times


def _summary(times: list[float]) -> str:
    return f"min {min(times):.3f} s, median {statistics.median(times):.3f} s"


def fix_stage(corpus: Path, rounds: int) -> None:
    from click.testing import CliRunner

    import reviewer.decode.load as load
    import reviewer.findings.make as make
    import reviewer.fixes as fixes
    from reviewer.cli.main import main

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    render = fixes.render_fix  # what reviewer.findings.make calls

    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return render(*args, **kwargs)

    vars(make)["render_fix"] = recorded
    try:
        argv = ["scan", str(corpus), "--format", "json", "--output", os.devnull]
        result = CliRunner().invoke(
            main, [*argv, "--fail-on", "never", "--no-cache", "--jobs", "1"]
        )
    finally:
        vars(make)["render_fix"] = render
    if result.exit_code != 0:
        raise SystemExit(f"the scan failed: {result.output}")

    decodes = [0]
    decode = load.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        decodes[0] += 1
        return decode(*args, **kwargs)

    fixed = [0]

    def replay() -> None:
        fixes.forget()
        decodes[0] = 0
        fixed[0] = sum(render(*a, **k) is not None for a, k in calls)

    load.decode = counted
    try:
        times = _rounds(replay, rounds)
    finally:
        load.decode = decode
        fixes.forget()
    print(
        f"fix stage: {len(calls)} render_fix calls, {fixed[0]} fixes, {decodes[0]} decodings "
        f"a round; CPU per round {_summary(times)}"
    )


def decoding(corpus: Path, rounds: int) -> None:
    from decode_only import find_templates

    from reviewer.decode.load import decode

    texts = []
    for rel in find_templates(corpus):
        try:
            texts.append((corpus.joinpath(rel).read_text("utf-8"), rel.endswith(".json")))
        except (OSError, UnicodeDecodeError):
            continue

    def once() -> None:
        for text, is_json in texts:
            decode(text, json_first=is_json)

    print(f"decoding: {len(texts)} templates; CPU per round {_summary(_rounds(once, rounds))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    os.environ.setdefault("ARCHREVIEW_TODAY", "2026-12-06")
    corpus = Path(args.corpus)
    fix_stage(corpus, args.rounds)
    decoding(corpus, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
