"""Scores pinned on small hand-computed examples."""

from __future__ import annotations

from fractions import Fraction

from reviewer.model import Evaluation
from reviewer.scoring import grade, round_half_up, score_block


def ev(w: float, cost: float, rule: str = "AR-EVT-001") -> Evaluation:
    return Evaluation(rule, "EVT", ".", "t.yaml", "Q", w, cost)


def test_score_arithmetic_by_hand() -> None:
    # high (8.0) failed at medium confidence: cost 5.6; medium (5.5) passed; low (3.0) passed
    block = score_block([ev(8.0, 5.6), ev(5.5, 0.0), ev(3.0, 0.0)])
    # 100 x (1 - 5.6 / 16.5) = 66.0606... -> 66.1
    assert block.score == 66.1
    assert block.grade == "D"
    assert (block.evaluated, block.failed) == (3, 1)


def test_half_up_rounding_and_grades() -> None:
    assert round_half_up(Fraction(8995, 100)) == 90.0  # 89.95 rounds up
    assert grade(90.0) == "A" and grade(89.9) == "B" and grade(59.9) == "F"


def test_nothing_weighed_gives_null_score() -> None:
    block = score_block([ev(0.0, 0.0)])
    assert block.score is None and block.grade is None


def test_low_confidence_failure_counts_forty_percent() -> None:
    block = score_block([ev(8.0, 3.2)])
    assert block.score == 60.0
