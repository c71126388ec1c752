"""Scores and grades as product.md *Scores* defines them (docs/adr/0005-scores-that-cannot-be-diluted.md).

A finding's score is its severity's number (critical 9.5, high 8.0, medium 5.5, low 3.0, info 0)
times its confidence factor (high 1.0, medium 0.7, low 0.4). A scope — the repository, a layer,
a module, a module's layer — scores

    100 x product over the scope's scored findings of (1 - finding score / 100)

computed exactly (integers) and rounded half-up to one decimal, and its grade is the worse of
the score's band (A >= 90, B >= 80, C >= 70, D >= 60, else F) and the cap of its worst finding
(critical F, high D, medium C, low B; a low-confidence finding one step milder; info nothing).
Scored findings are the report's unsuppressed findings (the persona filter has already removed
the ones above the chosen persona), except the rules that say something was not reviewed
(AR-MOD-001/005/006), which weigh nothing and cap nothing. Passing evaluations do not enter
the formula: they only tell a scope that was judged (a score) from one that was not (n/a).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from reviewer.core.types import Confidence, Evaluation, Finding, ScoreBlock, Severity, layer_order

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

# Findings that say something was not reviewed (a submodule not checked out, a check that
# crashed, a file skipped): they weigh nothing and cap nothing (product.md *Scores*).
UNWEIGHED_RULES = frozenset({"AR-MOD-001", "AR-MOD-005", "AR-MOD-006"})

GRADES = ("A", "B", "C", "D", "F")  # index = how bad: a cap level is an index here


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
    """The band of a score."""
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
def cap_level(severity: Severity, confidence: Confidence) -> int:
    """How far a finding caps its scope's grade, as an index into GRADES: critical 4 (F),
    high 3 (D), medium 2 (C), low 1 (B), info 0 (nothing); low confidence one step milder."""
    level = severity.rank
    if confidence is Confidence.LOW and level > 0:
        level -= 1
    return level


def weighs(finding: Finding) -> bool:
    """Whether a finding enters its scopes' scores and grades."""
    return finding.suppressed is None and finding.rule_id not in UNWEIGHED_RULES


def own_cap(finding: Finding) -> tuple[Severity, Confidence]:
    """What caps a finding's scopes: its own severity and confidence (a merged finding's are
    those of its harshest member: see reviewer.runner.engine)."""
    return finding.severity, finding.confidence


def cap_reason(severity: Severity, confidence: Confidence) -> str:
    """Why a scope's grade is capped, for humans: "a high finding", "a low-confidence critical
    finding"."""
    what = f"low-confidence {severity.value}" if confidence is Confidence.LOW else severity.value
    article = "an" if what[0] in "aeiou" else "a"
    return f"{article} {what} finding"


# A product this small rounds to 0.0 whatever its exact value (0.04 < the 0.05 that rounds up):
# no need to build the exact integers of thousands of factors.
_ZERO_BELOW = math.log(0.04 / 100)


@functools.lru_cache(maxsize=4096)
def product_score(counts: tuple[tuple[int, int], ...]) -> float:
    """100 x prod((1 - s/100) ** n) over (s in hundredths of a point, n) pairs, exact, rounded
    half-up to one decimal."""
    estimate = sum(n * math.log1p(-s / 10_000) for s, n in counts if s)
    if estimate < _ZERO_BELOW:
        return 0.0
    numerator = 1
    exponent = 0
    for s, n in counts:
        if s:
            numerator *= (10_000 - s) ** n
            exponent += n
    denominator = 10_000**exponent
    # round half-up of 100 x numerator / denominator to one decimal: floor(1000 x q + 1/2) / 10
    tenths: int = (2000 * numerator + denominator) // (2 * denominator)
    return tenths / 10


@functools.cache
def _hundredths(severity: Severity, confidence: Confidence) -> int:
    value = finding_score(severity, confidence) * 100
    assert value.denominator == 1
    return int(value)


def scope_block(
    findings: Iterable[Finding],
    evaluations: Iterable[Evaluation] = (),
    *,
    cap_of: Callable[[Finding], tuple[Severity, Confidence]] = own_cap,
) -> ScoreBlock:
    """The score block of one scope from its findings (only the weighed ones count) and its
    evaluations (counted; a scope with no weighed evaluation and no scored finding is n/a).
    `cap_of`: the severity and confidence a finding caps with (a merged finding keeps the
    harshest of its members')."""
    evaluated = failed = 0
    judged = False
    for e in evaluations:
        evaluated += 1
        if e.cost > 0:
            failed += 1
        if e.rule_id not in UNWEIGHED_RULES:
            judged = True
    return _scope_block(evaluated, failed, judged, _weighed(findings, cap_of))


# A weighed finding as every scope it is in counts it: its score in hundredths, how far it
# caps, and the severity and confidence it caps with (made once per finding).
_Weighed = tuple[int, int, tuple[Severity, Confidence]]


def _weighed(
    findings: Iterable[Finding], cap_of: Callable[[Finding], tuple[Severity, Confidence]]
) -> list[_Weighed]:
    return [w for w in map(_weigh_with(cap_of), findings) if w is not None]


def _weigh_with(
    cap_of: Callable[[Finding], tuple[Severity, Confidence]],
) -> Callable[[Finding], _Weighed | None]:
    def weigh(f: Finding) -> _Weighed | None:
        if f.suppressed is not None or f.rule_id in UNWEIGHED_RULES:  # not `weighs(f)`
            return None
        caps = cap_of(f)
        return _hundredths(f.severity, f.confidence), cap_level(*caps), caps

    return weigh


def _scope_block(evaluated: int, failed: int, judged: bool, weighed: list[_Weighed]) -> ScoreBlock:
    """`scope_block` of a scope whose evaluations are counted (`judged`: one of them weighs)
    and whose weighed findings are `weighed`, in report order."""
    if not weighed:  # most scopes (a module's layer): judged and clean, or n/a
        return _unscored_block(evaluated, failed) if not judged else _clean_block(evaluated, failed)
    counts: dict[int, int] = {}
    worst = 0
    why: tuple[Severity, Confidence] | None = None
    for hundredths, level, caps in weighed:
        counts[hundredths] = counts.get(hundredths, 0) + 1
        if level > worst:
            worst, why = level, caps
    score = product_score(tuple(sorted(counts.items())))
    band = GRADES.index(grade(score))
    if why is None or worst < band:
        return ScoreBlock(score, GRADES[band], evaluated, failed)
    capped = GRADES[worst]
    return ScoreBlock(score, capped, evaluated, failed, cap=capped, cap_reason=cap_reason(*why))


@functools.lru_cache(maxsize=1024)
def _unscored_block(evaluated: int, failed: int) -> ScoreBlock:
    """The block of a scope with no scored finding and no weighed evaluation (one per counts:
    blocks are frozen)."""
    return ScoreBlock(None, None, evaluated, failed)


@functools.lru_cache(maxsize=1024)
def _clean_block(evaluated: int, failed: int) -> ScoreBlock:
    """The block of a judged scope with no scored finding: the empty product, 100."""
    score = product_score(())
    return ScoreBlock(score, grade(score), evaluated, failed)


def harshest_caps(
    members: Mapping[str, Iterable[Finding]],
) -> Callable[[Finding], tuple[Severity, Confidence]]:
    """What caps each finding: its own severity and confidence, or for a merged finding those
    of its harshest member (`members`: a merged finding's fingerprint -> the findings it
    stands for; product.md *Personas*: a merged finding keeps the harshest cap)."""
    worst: dict[str, tuple[Severity, Confidence]] = {}
    for key, group in members.items():
        caps = [(f.severity, f.confidence) for f in group]
        if caps:
            worst[key] = max(caps, key=lambda c: cap_level(*c))

    def cap_of(f: Finding) -> tuple[Severity, Confidence]:
        return worst.get(f.fingerprint) or (f.severity, f.confidence)

    return cap_of


def finding_modules(f: Finding, module_of: Callable[[str], str]) -> tuple[str, ...]:
    """The modules a finding concerns: its own, and those of its related locations in other
    files (a dependency pinned differently across modules counts in each of them)."""
    modules = [f.module]
    for loc in f.related:
        if loc.file != f.file:
            module = module_of(loc.file)
            if module not in modules:
                modules.append(module)
    return tuple(modules)


@dataclass(frozen=True)
class Scores:
    """Every scope's block: the repository, its layers, and each module with its layers."""

    repository: ScoreBlock
    layers: tuple[tuple[str, ScoreBlock], ...]
    modules: tuple[tuple[str, ScoreBlock, tuple[tuple[str, ScoreBlock], ...]], ...]


def layer_blocks(
    findings: Iterable[Finding],
    evaluations: Iterable[Evaluation],
    cap_of: Callable[[Finding], tuple[Severity, Confidence]] = own_cap,
) -> tuple[tuple[str, ScoreBlock], ...]:
    """One block per layer (rule family) that has an evaluation or a finding, in LAYER_ORDER."""
    scope = _Scope()
    weigh = _weigh_with(cap_of)
    for f in findings:
        scope.add(f.layer, weigh(f))
    for e in evaluations:
        scope.count(e.layer, 1, e.cost > 0, e.rule_id not in UNWEIGHED_RULES)
    return scope.layer_blocks()


def score_all(
    findings: Sequence[Finding],
    evaluations: Sequence[Evaluation],
    *,
    modules: Iterable[str] = (),
    module_of: Callable[[str], str] | None = None,
    members: Mapping[str, Iterable[Finding]] | None = None,
) -> Scores:
    """The scores of a report: the repository over all its findings, each layer over its own,
    each module (those named in `modules`, in evaluations or in findings) over the findings
    that concern it (`module_of`: a related location's file -> its module; None: a finding
    concerns its own module only). `members`: merged findings' members (harshest cap).

    Each finding is weighed once and each evaluation counted once (per module and layer);
    every scope sums what concerns it, in report order."""
    weigh = _weigh_with(harshest_caps(members or {}))
    repository = _Scope()
    per_module: dict[str, _Scope] = {}
    for f in findings:
        weighed = weigh(f)
        repository.add(f.layer, weighed)
        for name in finding_modules(f, module_of) if module_of else (f.module,):
            scope = per_module.get(name)
            if scope is None:
                scope = per_module[name] = _Scope()
            scope.add(f.layer, weighed)
    kinds = Counter(
        (e.module, e.layer, e.cost > 0, e.rule_id not in UNWEIGHED_RULES) for e in evaluations
    )
    for (module, layer, failed, judged), n in kinds.items():
        repository.count(layer, n, failed, judged)
        scope = per_module.get(module)
        if scope is None:
            scope = per_module[module] = _Scope()
        scope.count(layer, n, failed, judged)
    names = sorted(set(modules) | set(per_module))
    empty = _Scope()
    blocks = []
    for name in names:
        scope = per_module.get(name, empty)
        blocks.append((name, scope.block(), scope.layer_blocks()))
    return Scores(repository.block(), repository.layer_blocks(), tuple(blocks))


class _Scope:
    """What a scope's blocks are made of: its weighed findings in report order and its
    evaluations counted (how many, how many failed, whether one weighs), whole and per layer
    (a layer is there once a finding of it, weighed or not, or an evaluation is)."""

    __slots__ = ("evaluated", "failed", "judged", "layers", "weighed")

    def __init__(self) -> None:
        self.weighed: list[_Weighed] = []
        self.evaluated = 0
        self.failed = 0
        self.judged = False
        self.layers: dict[str, _Scope] = {}

    def add(self, layer: str, weighed: _Weighed | None) -> None:
        part = self.layers.get(layer)
        if part is None:
            part = self.layers[layer] = _Scope()
        if weighed is not None:
            self.weighed.append(weighed)
            part.weighed.append(weighed)

    def count(self, layer: str, n: int, failed: bool, judged: bool) -> None:
        part = self.layers.get(layer)
        if part is None:
            part = self.layers[layer] = _Scope()
        for scope in (self, part):
            scope.evaluated += n
            if failed:
                scope.failed += n
            if judged:
                scope.judged = True

    def block(self) -> ScoreBlock:
        return _scope_block(self.evaluated, self.failed, self.judged, self.weighed)

    def layer_blocks(self) -> tuple[tuple[str, ScoreBlock], ...]:
        """One block per layer, in LAYER_ORDER (then the layers custom rules name)."""
        return tuple((layer, self.layers[layer].block()) for layer in layer_order(self.layers))
