"""What a Report means to a team, as pure functions over it (no I/O, no engine).

Every human format (text, Markdown, HTML, ADR) shows the same facts through these helpers, so
that they agree with each other; the helpers return plain text (or structures of it) and each
renderer escapes it for its medium.

- `grade_line`, `cap_note`, `profile_line`, `hidden_sentence`: the lines a human report opens
  with: the grade and why it is capped, which declared architecture the review used, and how
  many findings a higher persona would add (spec *Personas*, *Scores*, *Profile*).
- `decision_groups`: the unsuppressed findings grouped by rule (and by title, when a rule's
  variants carry different titles), ordered by consequence: the worst score first, then the
  most findings. The first `DECISIONS_SHOWN` are the "decisions to take"; all of them make the
  per-rule summary that closes each report.
- `movers`: the findings that cost a scope (the repository, a layer, a module) the most score
  points. A scope's score is 100 x the product of (1 - score / 100) over its scored findings
  (spec *Scores*, reviewer.scores.scoring); a finding's points are what the scope's score would gain
  without it.
- `accepted_risks`: findings suppressed with a reason; they cost nothing and are shown as such.
- `decision_title`: the decision a finding asks for (the rule's ADR title), for one-line use.
- `nothing_found_parts`: when the scan found nothing to review, the sentence saying so and what
  archreview looks for; every human format opens with it.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewer.core.types import (
    LAYER_LABELS,
    Finding,
    Location,
    Persona,
    Report,
    ScoreBlock,
    Severity,
)

DECISIONS_SHOWN = 7  # decision groups a report opens with; the rest are in the summary by rule
WHERE_SHOWN = 3  # locations named per decision group
RELATED_SHOWN = 5  # related locations shown under a finding
DECISION_CHARS = 300  # a decision sentence longer than this is cut

# -- the opening lines ------------------------------------------------------------------------


def band(score: float) -> str:
    """The grade a score earns by itself (spec *Scores*: A >= 90 ... else F)."""
    from reviewer.scores.scoring import grade

    return grade(score)


_GRADE_RANK = {"A": 0, "B": 1, "C": 2, "D": 3, "F": 4}


def capped_by(block: ScoreBlock) -> str | None:
    """What capped the grade ('a high finding') when the worst finding, not the score, set it;
    else None (no cap, or a score whose band is already at or below the cap)."""
    if block.cap is None or block.grade is None or block.grade != block.cap:
        return None
    if block.score is not None:
        earned = _GRADE_RANK.get(band(block.score), 0)
        if earned >= _GRADE_RANK.get(block.cap, 0):
            return None  # the score alone gives this grade
    return (block.cap_reason or "").strip() or "the worst finding"


def cap_note(block: ScoreBlock) -> str | None:
    """'capped by a high finding' (see `capped_by`), or None."""
    reason = capped_by(block)
    return f"capped by {reason}" if reason else None


def grade_line(block: ScoreBlock) -> str:
    """'D (72.4/100) — capped by a high finding', 'A (96.0/100)', or 'n/a (nothing was weighed)'."""
    if block.score is None or block.grade is None:
        return "n/a (nothing was weighed)"
    line = f"{block.grade} ({block.score:.1f}/100)"
    note = cap_note(block)
    return f"{line} — {note}" if note else line


_SOURCE_KIND = {
    "option": "--profile",
    "file": "profile file",
    "agent": "agent definition",
}


def profile_line(report: Report) -> str:
    """Which declared architecture the review used, as one sentence (plain text)."""
    if report.profile_source == "baseline":
        return "Reviewed against the built-in baseline"
    kind = _SOURCE_KIND.get(report.profile_source, report.profile_source)
    name = report.profile.strip() or "(unnamed profile)"
    return f"Reviewed against {name} ({kind})"


_PERSONA_MEANS = {
    Persona.PEDANTIC: "hygiene",
    Persona.AUDITOR: "decisions to record",
}


def hidden_counts(report: Report) -> tuple[tuple[Persona, int], ...]:
    """The personas above the report's whose findings were left out, with how many, in persona
    order; personas with none are left out, and so is anything the report's persona shows."""
    counts: dict[Persona, int] = {}
    for name, count in report.hidden:
        try:
            persona = Persona(name)
        except ValueError:
            continue
        if persona.rank > report.persona.rank and count > 0:
            counts[persona] = counts.get(persona, 0) + count
    return tuple(sorted(counts.items(), key=lambda pc: pc[0].rank))


def scan_command(report: Report, persona: Persona) -> str:
    """The command that shows the findings of `persona`: 'archreview scan ROOT --persona X'."""
    return f"archreview scan {shlex.quote(report.root or '.')} --persona {persona.value}"


def hidden_parts(report: Report) -> tuple[str, str | None]:
    """`hidden_sentence` in two pieces, for formats that set the command apart: the counts
    (or the no-finding-left-out sentence) and the command, None when nothing was left out."""
    counts = hidden_counts(report)
    if not counts:
        return f"Persona {report.persona.value}: no finding of a higher persona was left out.", None
    parts = []
    for i, (persona, count) in enumerate(counts):
        what = (f"{count} more finding{'s' if count != 1 else ''}") if i == 0 else f"{count} more"
        parts.append(f"{what} at --persona {persona.value} ({_PERSONA_MEANS[persona]})")
    return ", ".join(parts), scan_command(report, counts[0][0])


def hidden_sentence(report: Report) -> str:
    """How many findings a higher persona would add and how to see them, e.g.
    '12 more findings at --persona pedantic (hygiene), 3 more at --persona auditor (decisions to
    record): archreview scan . --persona pedantic'; or, when there are none, which persona the
    report is for and that nothing was left out."""
    lead, command = hidden_parts(report)
    return f"{lead}: {command}" if command else lead


# -- nothing to review -------------------------------------------------------------------------

# What discovery reviews (reviewer.discover.inventory, spec *What is scanned*), for the user who got nothing.
LOOKS_FOR = (
    "CloudFormation and SAM templates (YAML or JSON files of any name whose top-level keys say "
    "so: AWSTemplateFormatVersion, a Transform of AWS::Serverless, or Resources of AWS:: "
    "types), go.mod and package.json files, outside .git, generated and vendored folders "
    "(node_modules, vendor, dist, build ...) and untracked files that .gitignore ignores"
)


def nothing_to_review(report: Report) -> bool:
    """True when the scan found no template, go.mod or package.json (and no deployed stack
    with --aws): every score and grade then judges nothing."""
    files = report.files
    if files.templates or files.go_mod or files.package_json:
        return False
    return not any(m.name.startswith("aws://") for m in report.modules)


def nothing_found_parts(report: Report) -> tuple[str, str] | None:
    """When there was nothing to review, the sentence saying so ('Nothing to review in ROOT:
    no CloudFormation/SAM template, go.mod or package.json was found.') and what archreview
    looks for; None otherwise."""
    if not nothing_to_review(report):
        return None
    skipped = report.files.skipped
    also = f" ({plural(skipped, 'file')} skipped)" if skipped else ""
    lead = (
        f"Nothing to review in {report.root or '.'}: no CloudFormation/SAM template, go.mod "
        f"or package.json was found{also}."
    )
    return lead, f"archreview looks for {LOOKS_FOR}."


def nothing_found_sentence(report: Report) -> str | None:
    """`nothing_found_parts` as one paragraph of plain text, or None."""
    parts = nothing_found_parts(report)
    return " ".join(parts) if parts else None


# -- decisions and the summary by rule --------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`])")
_ABBREVIATION = re.compile(r"(?:\be\.g|\bi\.e|\betc|\bvs|\bcf)\.$", re.IGNORECASE)


def first_sentence(text: str, limit: int = DECISION_CHARS) -> str:
    """The first sentence of a paragraph, on one line (whitespace folded), at most `limit`
    characters (cut with an ellipsis). 'e.g.'-style abbreviations do not end a sentence. Only
    the first `4 x limit` characters are read, however long the text."""
    flat = " ".join(text[: 4 * limit].split())
    for m in _SENTENCE_END.finditer(flat):
        if _ABBREVIATION.search(flat[: m.start()]):
            continue
        flat = flat[: m.start()]
        break
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


@dataclass(frozen=True)
class DecisionGroup:
    """The unsuppressed findings of one rule (and title): one decision to take."""

    rule_id: str
    title: str
    findings: tuple[Finding, ...]  # most costly first, then by file, line, resource

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def severity(self) -> Severity:
        """The worst severity of the group."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=Severity.INFO)

    @property
    def score(self) -> float:
        """The worst score of the group."""
        return max((f.score for f in self.findings), default=0.0)

    @property
    def severities(self) -> tuple[Severity, ...]:
        """Every severity the group holds, worst first."""
        return tuple(sorted({f.severity for f in self.findings}, key=lambda s: -s.rank))

    @property
    def decision(self) -> str:
        """The decision in one sentence: the first sentence of the worst finding's ADR decision
        (plain text, not escaped)."""
        return first_sentence(self.findings[0].adr.decision) if self.findings else ""

    def where(self, limit: int = WHERE_SHOWN) -> tuple[Finding, ...]:
        """The first `limit` findings: the places a reader looks at first."""
        return self.findings[:limit]

    @property
    def more(self) -> int:
        """Findings beyond those `where` names."""
        return max(0, self.count - WHERE_SHOWN)


def _cost_order(f: Finding) -> tuple[float, int, tuple[str, int, str, str, str, str]]:
    return (-f.score, -f.severity.rank, f.sort_key())


def decision_groups(findings: Iterable[Finding]) -> tuple[DecisionGroup, ...]:
    """Unsuppressed findings grouped by (rule, title), ordered by consequence: the worst score
    first, then the worst severity, then the most findings, then rule id and title (a stable
    order for equal groups)."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.suppressed is None:
            groups.setdefault((f.rule_id, f.title), []).append(f)
    made = [
        DecisionGroup(rule, title, tuple(sorted(fs, key=_cost_order)))
        for (rule, title), fs in groups.items()
    ]
    made.sort(key=lambda g: (-g.score, -g.severity.rank, -g.count, g.rule_id, g.title))
    return tuple(made)


def report_groups(report: Report) -> tuple[DecisionGroup, ...]:
    """`decision_groups` of a report's findings."""
    return decision_groups(report.findings)


def severity_label(severities: Sequence[Severity]) -> str:
    """'high' or 'high, medium': the severities of a summary row, worst first."""
    return ", ".join(s.value for s in severities)


# -- related locations ------------------------------------------------------------------------


def related_shown(finding: Finding, limit: int = RELATED_SHOWN) -> tuple[tuple[Location, ...], int]:
    """The related locations a human format shows under a finding, and how many more it has."""
    shown = finding.related[:limit]
    return shown, len(finding.related) - len(shown)


def related_subject(loc: Location) -> str:
    """'Resource.Path', 'Resource' or '' for a related location (plain text)."""
    return ".".join(n for n in (loc.logical_id, loc.path) if n)


# -- what moved a score -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """One finding and the score points it costs its scope."""

    finding: Finding
    points: float  # what the scope's score would gain without this finding, one decimal

    @property
    def rule_id(self) -> str:
        return self.finding.rule_id

    @property
    def subject(self) -> str:
        """The resource (or dependency) when there is one, else the file."""
        return self.finding.resource or self.finding.file

    @property
    def where(self) -> str:
        """file:line of the finding."""
        return f"{self.finding.file}:{self.finding.line}"


def movers(
    report: Report,
    *,
    layer: str | None = None,
    module: str | None = None,
    limit: int | None = 3,
) -> tuple[Mover, ...]:
    """The scored findings of a scope ordered by the points they cost it (largest first; ties
    by rule id, file, line and subject, so the order is stable). A finding's points are the
    scope's score without it minus the scope's score, both computed as reviewer.scores.scoring does:
    what fixing that finding alone would give back."""
    from reviewer.scores.scoring import finding_score, product_score, weighs

    scope = [
        f
        for f in report.findings
        if weighs(f)
        and f.severity is not Severity.INFO
        and (layer is None or f.layer == layer)
        and (module is None or f.module == module)
    ]
    if not scope:
        return ()
    counts: Counter[int] = Counter(
        int(finding_score(f.severity, f.confidence) * 100) for f in scope
    )
    with_all = product_score(tuple(sorted(counts.items())))
    gain: dict[int, float] = {}
    for value in counts:
        without = counts.copy()
        without[value] -= 1
        others = tuple(sorted((v, n) for v, n in without.items() if n))
        gain[value] = round(product_score(others) - with_all, 1)
    ranked = sorted(
        scope,
        key=lambda f: (
            -gain[int(finding_score(f.severity, f.confidence) * 100)],
            f.rule_id,
            f.file,
            f.line,
            f.resource or "",
        ),
    )
    if limit is not None:
        ranked = ranked[:limit]
    return tuple(Mover(f, gain[int(finding_score(f.severity, f.confidence) * 100)]) for f in ranked)


def layer_movers(report: Report, limit: int = 1) -> dict[str, tuple[Mover, ...]]:
    """For each scored layer of the report, the findings that moved its score most."""
    return {layer: movers(report, layer=layer, limit=limit) for layer, _ in report.layers}


# -- accepted risks ---------------------------------------------------------------------------


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
    from reviewer.checks.catalogue import load_catalogue

    meta = load_catalogue().get(rule_id)
    return meta.adr_title if meta is not None else fallback


def severity_order(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by file and line."""
    return sorted(findings, key=lambda f: (-f.severity.rank, *f.sort_key()))


def plural(n: int, word: str) -> str:
    """'1 finding', '3 findings'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)
