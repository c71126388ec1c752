"""Frozen, typed result types shared by the engine, the checks and the formatters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

from reviewer.core.fixes import Fix, FixIntent

_T = TypeVar("_T")
_FIELD_NAMES: dict[type, frozenset[str]] = {}


def evolve(obj: _T, **changes: Any) -> _T:
    """`dataclasses.replace` for the frozen result types of this module (plain fields, no
    `__post_init__`, no slots): a copy with `changes`, made without calling `__init__`. A scan
    copies hundreds of thousands of findings (a replayed ADR text, PR mode's `new` flag), and
    `replace` costs several times more per copy."""
    kind = type(obj)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = frozenset(f.name for f in fields(kind))  # type: ignore[arg-type]
    unknown = changes.keys() - names
    if unknown:
        raise TypeError(f"{kind.__name__} has no field {sorted(unknown)[0]!r}")
    new = object.__new__(kind)
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    return new


PathElem = str | int
Path = tuple[PathElem, ...]


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe (info 0 .. critical 4)."""
        return _SEVERITY_RANK[self]

    @property
    def number(self) -> float:
        """GitHub security-severity number."""
        return _SEVERITY_NUMBER[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_SEVERITY_NUMBER = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _CONFIDENCE_RANK[self]

    @property
    def factor(self) -> float:
        return _CONFIDENCE_FACTOR[self]

    def __str__(self) -> str:
        return self.value


_CONFIDENCE_RANK = {Confidence.HIGH: 2, Confidence.MEDIUM: 1, Confidence.LOW: 0}
_CONFIDENCE_FACTOR = {Confidence.HIGH: 1.0, Confidence.MEDIUM: 0.7, Confidence.LOW: 0.4}


class Persona(StrEnum):
    """Who a finding is worth saying to (product.md *Personas*): each persona includes the
    ones before it."""

    REGULAR = "regular"  # a defect with a concrete consequence
    PEDANTIC = "pedantic"  # hygiene and good practice whose absence is not a defect by itself
    AUDITOR = "auditor"  # prompts to record a decision

    @property
    def rank(self) -> int:
        return _PERSONA_RANK[self]

    def __str__(self) -> str:
        return self.value


_PERSONA_RANK = {Persona.REGULAR: 0, Persona.PEDANTIC: 1, Persona.AUDITOR: 2}


def lower_confidence(a: Confidence, b: Confidence | None) -> Confidence:
    """The less certain of two confidences."""
    if b is None:
        return a
    return a if a.rank <= b.rank else b


@dataclass(frozen=True)
class Span:
    """A 1-based region of a file."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    logical_id: str | None = None
    path: str | None = None
    message: str = ""  # for a related location: what it adds ("inherited by Fn", ...)


@dataclass(frozen=True)
class Related:
    """A resource or property that a finding also concerns (checks name it by path)."""

    subject: str | None
    path: Path = ()
    label: str = ""
    # another file (a repository check's related manifest, another template); None: the hit's
    file: str | None = None


@dataclass(frozen=True)
class Hit:
    """What a check yields: a subject (logical id, dependency name or None for the file),
    a path below it, and a message. The engine computes file, line and column."""

    subject: str | None
    path: Path
    message: str
    severity: Severity | None = None
    confidence: Confidence | None = None
    related: tuple[Related, ...] = ()
    file: str | None = None  # repository checks name the file they speak of
    variant: str | None = None  # the rule's variant (rules/<ID>.yaml `variants:`) this hit is
    persona: Persona | None = None  # overrides the variant's and the rule's persona
    fix: FixIntent | None = None  # what should change (reviewer.fixes renders it as edits)


@dataclass(frozen=True)
class Checked:
    """What a check yields for a subject it evaluated (a pass unless a Hit names it too)."""

    subject: str | None
    file: str | None = None


@dataclass(frozen=True)
class NotJudged:
    """What a check yields when it judges nothing in this template (a profile switch is off, or
    nothing it applies to is there): without it, every resource of the rule's types counts as
    a pass."""

    reason: str = ""


@dataclass(frozen=True)
class Suppression:
    kind: str  # inline | baseline | profile
    reason: str | None
    until: str | None = None


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True)
class AdrText:
    context: str
    decision: str
    consequences: str
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    layer: str
    severity: Severity
    confidence: Confidence
    score: float
    module: str
    file: str
    line: int
    end_line: int
    column: int
    end_column: int
    resource: str | None
    resource_type: str | None
    property: str | None
    message: str
    fingerprint: str
    adr: AdrText
    new: bool | None = None
    suppressed: Suppression | None = None
    related: tuple[Location, ...] = ()
    source: str | None = None  # the offending source line, for human formats
    persona: Persona = Persona.REGULAR
    # the property path with list items named by what identifies them, not by index: what the
    # fingerprint is made of (reviewer.findings.fingerprint); None where the finding names no property
    logical_path: str | None = None
    fix: Fix | None = None  # the edits that resolve this finding (reviewer.fixes)

    def sort_key(self) -> tuple[str, int, str, str, str, str]:
        return (
            self.file,
            self.line,
            self.rule_id,
            self.resource or "",
            self.property or "",
            self.message,
        )


@dataclass(frozen=True)
class Evaluation:
    """One (rule, resource) pair, or (rule, file) for repository rules."""

    rule_id: str
    layer: str
    module: str
    file: str
    subject: str | None
    weight: float
    cost: float

    @property
    def failed(self) -> bool:
        return self.cost > 0


@dataclass(frozen=True)
class ScoreBlock:
    score: float | None
    grade: str | None
    evaluated: int
    failed: int
    cap: str | None = None  # the grade the worst finding caps this scope to (spec *Scores*)
    cap_reason: str | None = None  # why, for humans: "a high finding"


@dataclass(frozen=True)
class ModuleSummary:
    name: str
    path: str
    score: ScoreBlock
    layers: tuple[tuple[str, ScoreBlock], ...]


@dataclass(frozen=True)
class FileCounts:
    templates: int = 0
    go_mod: int = 0
    package_json: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class RuleInfo:
    """What formatters need to know about a rule that ran."""

    id: str
    name: str
    title: str
    layer: str
    severity: Severity
    confidence: Confidence
    description: str
    adr: AdrText
    tags: tuple[str, ...] = ()
    source: str = ""  # a repository's own rule: its rule file (repository-relative)
    layer_label: str = ""  # the label of a layer a custom rule names


@dataclass(frozen=True)
class PrDiff:
    """What a pull request changes besides its findings (PR mode, reviewer.github.prmode): the risks it
    accepts, the review inputs it edits and what those edits hide, what was not reviewed."""

    # findings new in this change that are suppressed: risks it accepts (inline, profile, ...)
    accepted_new: tuple[Finding, ...] = ()
    # (path, kind) of the review inputs the change edits; kind: profile | agent | baseline |
    # suppressions | ignore
    changed_inputs: tuple[tuple[str, str], ...] = ()
    # findings the base's review inputs report (unsuppressed, or at a higher severity) that the
    # head's inputs hide: excluded, disabled, suppressed, moved to another persona or lowered
    hidden_by_inputs: tuple[Finding, ...] = ()
    # what was not reviewed, one line each (AR-MOD-001/005/006 findings: a module not checked
    # out, a file skipped or over a budget, a check that crashed)
    incomplete: tuple[str, ...] = ()
    judged_with: str = "head"  # whose review inputs judged the findings: head | base
    # what the change fixed: the base's unsuppressed findings whose logical fingerprint (renames
    # followed) the head no longer has, most severe first, at most reviewer.github.prmode.MAX_FIXED
    fixed: tuple[Finding, ...] = ()
    fixed_total: int = 0  # how many the change fixed (more than len(fixed) when capped)
    # (severity, rule id, count) of EVERY fixed finding, most severe first (complete when capped)
    fixed_counts: tuple[tuple[str, str, int], ...] = ()
    base_score: ScoreBlock | None = None  # the base's overall score (None: not known)
    base_layers: tuple[tuple[str, ScoreBlock], ...] = ()  # the base's score per layer


@dataclass(frozen=True)
class Report:
    schema_version: int
    tool_version: str
    root: str
    profile: str
    score: ScoreBlock
    layers: tuple[tuple[str, ScoreBlock], ...]
    counts: tuple[tuple[str, int], ...]
    files: FileCounts
    modules: tuple[ModuleSummary, ...]
    findings: tuple[Finding, ...]
    rules: tuple[RuleInfo, ...] = ()
    evaluations: tuple[Evaluation, ...] = field(default=(), repr=False)
    diff_base: str | None = None
    persona: Persona = Persona.REGULAR  # the persona the report was made for
    hidden: tuple[tuple[str, int], ...] = ()  # persona -> findings above the chosen one
    profile_source: str = "file"  # option | file | agent | baseline
    profile_notice: str | None = None  # one line every human format shows (baseline upgrade)
    pr: PrDiff | None = None  # PR mode only (--diff-base)
    # the labels of the layers custom rules name, as a JSON report carries them (a report read
    # back has no rule metadata); a scanned report finds them in `rules`
    layer_names: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def unsuppressed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed is None)

    def layer_label(self, layer: str, default: str | None = None) -> str:
        """The label of `layer` in this report (a built-in layer's, or a custom rule's)."""
        for name, label in self.layer_names:
            if name == layer:
                return label
        return layer_label(layer, self.rules, default)


LAYER_LABELS: dict[str, str] = {
    "NET": "L1 Network",
    "API": "L2 API edge",
    "IDN": "L3 Identity",
    "IAM": "L3 IAM",
    "DAT": "L4 Data protection",
    "OBS": "L5 Monitoring and audit",
    "EVT": "Event pipeline",
    "CMP": "Compute sizing and deployment",
    "DBS": "Data stores and recovery",
    "STK": "Declared stack",
    "MOD": "Repository and modules",
    "DRF": "Drift",
}
LAYER_ORDER: tuple[str, ...] = tuple(LAYER_LABELS)


# A repository's own rule id (reviewer.checks.custom): the team's prefix, never archreview's AR-
CUSTOM_RULE_ID = re.compile(r"[A-Z][A-Z0-9]{0,15}(-[A-Z0-9]{1,16}){1,4}")


def is_custom_rule_id(text: str) -> bool:
    """Whether `text` has the shape of a custom rule's id (ACME-DAT-001). A profile and an
    inline suppression may name one before the rule files are read; an id of that shape that
    no rule declares simply matches nothing."""
    return bool(CUSTOM_RULE_ID.fullmatch(text)) and not text.startswith("AR-")


def layer_order(layers: Iterable[str]) -> list[str]:
    """`layers` in report order: the built-in layers in LAYER_ORDER, then the layers custom rules
    name (reviewer.checks.custom), by id."""
    wanted = set(layers)
    return [la for la in LAYER_ORDER if la in wanted] + sorted(wanted - set(LAYER_ORDER))


def layer_label(layer: str, rules: Iterable[RuleInfo] = (), default: str | None = None) -> str:
    """A layer's label: the built-in one, else the label the custom rule naming it gives
    (reviewer.checks.custom checks it is plain words), else `default` (the layer's id)."""
    if layer in LAYER_LABELS:
        return LAYER_LABELS[layer]
    for rule in rules:
        if rule.layer == layer and rule.layer_label:
            return rule.layer_label
    return layer if default is None else default
