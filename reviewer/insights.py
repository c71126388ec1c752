"""What a Report means to a team, as pure functions over it (no I/O, no engine).

Every human format (text, Markdown, HTML, ADR) shows the same facts through these helpers:

- `movers`: the evaluations that cost a scope (the repository, a layer, a module) the most
  score points. An evaluation's share of a score is ``100 x cost / sum(weight)`` over the
  scope's evaluations, so the shares of all failed evaluations add up to ``100 - score``
  (before rounding).
- `accepted_risks`: findings suppressed with a reason; they cost nothing and are shown as such.
- `decision_title`: the decision a finding asks for (the rule's ADR title), for one-line use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from reviewer.model import LAYER_LABELS, Evaluation, Finding, Report, ScoreBlock, Severity


@dataclass(frozen=True)
class Mover:
    """One evaluation and the score points it costs its scope."""

    evaluation: Evaluation
    points: float  # 100 x cost / sum(weight) of the scope, rounded to one decimal
    findings: tuple[Finding, ...]  # the unsuppressed findings behind it (most costly first)

    @property
    def rule_id(self) -> str:
        return self.evaluation.rule_id

    @property
    def subject(self) -> str:
        """The resource (or dependency) when there is one, else the file."""
        ev = self.evaluation
        if ev.subject:
            return ev.subject
        if self.findings and self.findings[0].resource:
            return self.findings[0].resource
        return ev.file

    @property
    def where(self) -> str:
        """file:line of the most costly finding, or the file."""
        if self.findings:
            f = self.findings[0]
            return f"{f.file}:{f.line}"
        return self.evaluation.file


def _exact(value: float) -> Fraction:
    # the same exact reading of a float weight/cost as reviewer.scoring
    return Fraction(value).limit_denominator(1000)


def _round1(value: Fraction) -> float:
    from reviewer.scoring import round_half_up

    return round_half_up(value)


def findings_of(report: Report, evaluation: Evaluation) -> tuple[Finding, ...]:
    """The unsuppressed findings an evaluation was scored from, most costly first."""
    ev = evaluation
    out = [
        f
        for f in report.findings
        if f.suppressed is None
        and f.rule_id == ev.rule_id
        and f.file == ev.file
        and (ev.subject is None or f.resource == ev.subject)
    ]
    out.sort(key=lambda f: (-f.score, f.line, f.resource or "", f.property or ""))
    return tuple(out)


def movers(
    report: Report,
    *,
    layer: str | None = None,
    module: str | None = None,
    limit: int | None = 3,
) -> tuple[Mover, ...]:
    """The failed evaluations of a scope ordered by the points they cost it (largest first;
    ties by rule id, file and subject, so the order is stable)."""
    scope = [
        e
        for e in report.evaluations
        if (layer is None or e.layer == layer) and (module is None or e.module == module)
    ]
    total = sum((_exact(e.weight) for e in scope), Fraction(0))
    if total == 0:
        return ()
    failed = sorted(
        (e for e in scope if e.cost > 0),
        key=lambda e: (-e.cost, e.rule_id, e.file, e.subject or ""),
    )
    if limit is not None:
        failed = failed[:limit]
    return tuple(
        Mover(e, _round1(100 * _exact(e.cost) / total), findings_of(report, e)) for e in failed
    )


def layer_movers(report: Report, limit: int = 1) -> dict[str, tuple[Mover, ...]]:
    """For each scored layer of the report, the evaluations that moved its score most."""
    return {layer: movers(report, layer=layer, limit=limit) for layer, _ in report.layers}


def accepted_risks(report: Report) -> tuple[Finding, ...]:
    """Findings suppressed with a reason: decisions to accept the risk (they cost nothing)."""
    return tuple(f for f in report.findings if is_accepted(f))


def is_accepted(finding: Finding) -> bool:
    return finding.suppressed is not None and bool((finding.suppressed.reason or "").strip())


def suppression_note(finding: Finding) -> str:
    """'accepted risk (inline): REASON, until DATE' — plain text, not escaped."""
    s = finding.suppressed
    if s is None:
        return ""
    head = "accepted risk" if is_accepted(finding) else "suppressed"
    reason = (s.reason or "").strip()
    until = f", until {s.until}" if s.until else ""
    return f"{head} ({s.kind}){': ' + reason if reason else ''}{until}"


def score_text(block: ScoreBlock) -> str:
    """'85.0 B', or 'n/a' when nothing was weighed."""
    if block.score is None:
        return "n/a"
    return f"{block.score:.1f} {block.grade}"


def layer_label(layer: str) -> str:
    label = LAYER_LABELS.get(layer)
    return f"{layer} {label}" if label else layer


def decision_title(rule_id: str, fallback: str = "") -> str:
    """The decision a rule's findings ask for (its ADR title); the fallback for unknown ids."""
    from reviewer.catalogue import load_catalogue

    meta = load_catalogue().get(rule_id)
    return meta.adr_title if meta is not None else fallback


def severity_order(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by file and line."""
    return sorted(findings, key=lambda f: (-f.severity.rank, *f.sort_key()))


SEVERITIES: tuple[Severity, ...] = tuple(Severity)
