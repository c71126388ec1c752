"""Scores as product.md defines them, computed exactly (fractions) and rounded half-up."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from reviewer.model import Confidence, Evaluation, ScoreBlock, Severity

_NUMBER = {
    Severity.CRITICAL: Fraction(95, 10),
    Severity.HIGH: Fraction(8),
    Severity.MEDIUM: Fraction(55, 10),
    Severity.LOW: Fraction(3),
    Severity.INFO: Fraction(0),
}
_FACTOR = {
    Confidence.HIGH: Fraction(1),
    Confidence.MEDIUM: Fraction(7, 10),
    Confidence.LOW: Fraction(4, 10),
}

UNWEIGHED_RULES = frozenset({"AR-MOD-005"})


@functools.cache
def finding_score(severity: Severity, confidence: Confidence) -> Fraction:
    return _NUMBER[severity] * _FACTOR[confidence]


@functools.cache
def rounded_score(severity: Severity, confidence: Confidence) -> float:
    """A finding's score as reports show it: `finding_score` rounded to 2 places."""
    return float(round(finding_score(severity, confidence), 2))


def weight(severity: Severity) -> Fraction:
    return _NUMBER[severity]


def round_half_up(value: Fraction, places: int = 1) -> float:
    quantum = Decimal(1).scaleb(-places)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def grade(score: float) -> str:
    if score >= 90:
        return "A"
    if score >= 80:
        return "B"
    if score >= 70:
        return "C"
    if score >= 60:
        return "D"
    return "F"


@functools.cache
def _exact(value: float) -> Fraction:
    """The rational a stored weight or cost stands for (they take a handful of values)."""
    return Fraction(value).limit_denominator(1000)


def score_block(evaluations: Iterable[Evaluation]) -> ScoreBlock:
    weights: dict[float, int] = {}
    costs: dict[float, int] = {}
    evaluated = failed = 0
    for ev in evaluations:
        evaluated += 1
        if ev.cost > 0:
            failed += 1
        weights[ev.weight] = weights.get(ev.weight, 0) + 1
        costs[ev.cost] = costs.get(ev.cost, 0) + 1
    # exact sums, grouped by value, over a common denominator: the same fractions as adding
    # one by one, with integer arithmetic
    denominator = 1
    for value in (*weights, *costs):
        denominator = math.lcm(denominator, _exact(value).denominator)
    total_w_n = sum(
        _exact(w).numerator * (denominator // _exact(w).denominator) * n for w, n in weights.items()
    )
    total_cost_n = sum(
        _exact(c).numerator * (denominator // _exact(c).denominator) * n for c, n in costs.items()
    )
    if total_w_n == 0:
        return ScoreBlock(None, None, evaluated, failed)
    score = _block_score(total_w_n, total_cost_n)
    return ScoreBlock(score, grade(score), evaluated, failed)


@functools.lru_cache(maxsize=4096)
def _block_score(total_w_n: int, total_cost_n: int) -> float:
    """100 * (1 - cost / weight), rounded half-up (the common denominator cancels)."""
    return round_half_up(100 * (1 - Fraction(total_cost_n, total_w_n)))
