"""What carrying fixes costs the outputs (issue 22): each format rendered for N hand-made findings
without fixes, then with a one-line fix on every finding, best of a few rounds.

    python bench/fix_outputs.py [N] [--rounds 3]

Prints, per format, the seconds and characters without and with fixes, and the ratio. The
findings are those of tests/report_fixtures.py (one rule, one file), so the figures are of the
formatters alone, not of a scan.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewer.core.fixes import Edit, Fix, Safety
from reviewer.outputs import RenderOptions, renderer
from tests.report_fixtures import many, report

FORMATS = ("json", "sarif", "markdown", "html", "text")


def _fix(line: int) -> Fix:
    return Fix(
        Safety.SAFE,
        "Raise VisibilityTimeout to 1800 (6 x Worker's Timeout 300)",
        (Edit("svc/template.yaml", line, 24, line, 26, "1800", "    VisibilityTimeout: 30"),),
    )


def _best(fmt: str, r: object, rounds: int) -> tuple[float, int]:
    render = renderer(fmt)
    best, size = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        out = render(r, RenderOptions())  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
        size = len(out)
    return best, size


def main(argv: list[str]) -> int:
    rounds = 3
    if "--rounds" in argv:
        at = argv.index("--rounds")
        rounds = int(argv[at + 1])
        del argv[at : at + 2]
    n = int(argv[0]) if argv else 2_000
    bare = report(many(n), root="/nonexistent")
    fixed = replace(bare, findings=tuple(replace(f, fix=_fix(f.line)) for f in bare.findings))
    print(f"{n} findings, best of {rounds}")
    print(
        f"{'format':<9} {'without s':>10} {'with s':>8} {'ratio':>6} {'chars without':>14} {'with':>10}"
    )
    for fmt in FORMATS:
        t0, c0 = _best(fmt, bare, rounds)
        t1, c1 = _best(fmt, fixed, rounds)
        print(f"{fmt:<9} {t0:>10.3f} {t1:>8.3f} {t1 / t0:>6.2f} {c0:>14} {c1:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
