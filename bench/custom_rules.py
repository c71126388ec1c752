"""What custom rules cost: the five built-ins re-expressed as custom rules
(fixtures/custom-rules/builtins/.archreview/rules) against the built-ins themselves, on the
serverless-patterns corpus (../shared/corpora/serverless-patterns) or a folder given.

For each rule: the built-in's findings and seconds, the custom rule's findings and seconds, and
the most evaluation steps the custom rule used on one template (its bound is
reviewer.checks.custom.language.MAX_WORK). Timings are wall-clock on this machine (median of
--repeat runs); the step counts are exact.

    python bench/custom_rules.py [PATH] [--repeat N]

Measured 2026-12-06 on the development machine (2 cores, median of 3 runs in one process,
serial scans without a cache; seconds include discovery and decoding, which the two sides
share):

    rule         built-in s findings  custom s findings max steps
    AR-DAT-002         0.62       84      0.58       84        48
    AR-CMP-002         0.58      211      0.60      211       137
    AR-OBS-004         0.61       49      0.60       49       413
    AR-EVT-003         0.57       22      0.64       22       139
    AR-DBS-003         0.93        4      0.83        4        60

The same findings; no measurable cost over the built-ins; the busiest template takes 413 of
the 200,000 steps a rule may use on one template.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewer.checks.custom import build  # noqa: E402
from reviewer.checks.custom import values as custom_values  # noqa: E402
from reviewer.checks.custom.language import parse_rule  # noqa: E402
from reviewer.core.types import Persona  # noqa: E402
from reviewer.profile.loader import preset  # noqa: E402
from reviewer.runner import engine  # noqa: E402
from reviewer.runner.engine import ScanOptions, all_checks, scan  # noqa: E402

RULES = ("AR-DAT-002", "AR-CMP-002", "AR-OBS-004", "AR-EVT-003", "AR-DBS-003")
RULE_DIR = ROOT / "fixtures" / "custom-rules" / "builtins" / ".archreview" / "rules"


def _custom(rule_id: str) -> Any:
    path = RULE_DIR / f"X-{rule_id[3:]}.yaml"
    return build((parse_rule(path.read_text(encoding="utf-8"), path.name),))


def _timed(root: Path, checks: tuple[Any, ...], custom: Any, profile: Any) -> tuple[float, int]:
    """Seconds of one scan with `checks`, and the findings of their rules."""
    setattr(engine, "load_custom_rules", lambda _root, _profile: custom)  # noqa: B010
    start = time.perf_counter()
    report = scan(root, ScanOptions(checks=checks, persona=Persona.AUDITOR, profile=profile))
    ids = {c.rule_id for c in checks} - {"AR-MOD-006"}
    return time.perf_counter() - start, sum(f.rule_id in ids for f in report.findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", nargs="?", default=str(ROOT.parent / "shared" / "corpora" / "serverless-patterns")
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    root = Path(args.path)
    checks = {c.rule_id: c for c in all_checks()}
    used: list[int] = []
    original = custom_values.Work.tick

    def counting(self: Any, units: int = 1) -> None:
        original(self, units)
        if self.used > (used[-1] if used else 0):
            if used:
                used[-1] = self.used
            else:
                used.append(self.used)

    print(f"corpus: {root}")
    print(
        f"{'rule':<12} {'built-in s':>10} {'findings':>8} {'custom s':>9} {'findings':>8} {'max steps':>9}"
    )
    for rule_id in RULES:
        custom = _custom(rule_id)
        profile = preset("chariot") if rule_id == "AR-DBS-003" else preset("baseline")
        none = build(())
        builtin = [_timed(root, (checks[rule_id],), none, profile) for _ in range(args.repeat)]
        used.clear()
        custom_values.Work.tick = counting  # type: ignore[method-assign]
        try:
            mine = [_timed(root, tuple(custom.checks), custom, profile) for _ in range(args.repeat)]
        finally:
            custom_values.Work.tick = original  # type: ignore[method-assign]
        print(
            f"{rule_id:<12} {statistics.median(t for t, _ in builtin):>10.2f} {builtin[0][1]:>8} "
            f"{statistics.median(t for t, _ in mine):>9.2f} {mine[0][1]:>8} {used[0] if used else 0:>9}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
