"""The report: findings merged (one per root cause), suppressed, filtered for the persona,
evaluated and scored, assembled into the frozen Report every output renders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from reviewer.checks.catalogue import RuleMeta
from reviewer.core.types import (
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    ModuleSummary,
    Persona,
    Report,
    ScoreBlock,
    Severity,
)
from reviewer.core.version import version as tool_version
from reviewer.findings import suppress
from reviewer.findings.make import RatingMemo, RawHit, make_finding
from reviewer.findings.merge import merge
from reviewer.profile import Profile
from reviewer.runner.state import ENGINE_RULES, ScanOptions, ScanState, module_of_file
from reviewer.scores.scoring import UNWEIGHED_RULES, score_all, weight

SCHEMA_VERSION = 2


def report_persona(options: ScanOptions) -> Persona:
    """Who the report is for: --persona, else the profile's `persona:` (default regular)."""
    return options.persona if options.persona is not None else options.profile.persona


def build_report(state: ScanState, raws: Iterable[RawHit], entries: list[suppress.Entry]) -> Report:
    findings: list[Finding] = []
    seen: set[tuple[str, str, int, str | None, str | None, str]] = set()
    memo: RatingMemo = {}
    for raw in raws:
        finding = make_finding(state, raw, memo)
        if finding is None:
            continue
        key = (
            finding.rule_id,
            finding.file,
            finding.line,
            finding.resource,
            finding.property,
            finding.message,
        )
        if key in seen:
            continue
        seen.add(key)
        findings.append(finding)
    catalogue = state.catalogue
    merged = merge(findings, lambda rule_id: cause_of(catalogue, rule_id))
    findings = list(merged.findings)
    if not state.options.no_ignores:
        findings = suppress.apply(
            findings, entries, state.repo.templates, state.options.baseline, merged.members
        )
    findings, hidden = _persona_filter(findings, report_persona(state.options))
    evaluations = evaluate(
        state.catalogue, state.profile_for, state.evaluated, findings, set(state.repo.templates)
    )
    return assemble(state, findings, evaluations, hidden, merged.members)


def cause_of(catalogue: Mapping[str, RuleMeta], rule_id: str) -> str | None:
    meta = catalogue.get(rule_id)
    return meta.cause if meta is not None else None


def _persona_filter(
    findings: list[Finding], persona: Persona
) -> tuple[list[Finding], tuple[tuple[str, int], ...]]:
    """The findings shown to `persona`, and how many unsuppressed findings each persona above
    it would add (product.md *Personas*: not reported, not scored, never gating)."""
    shown: list[Finding] = []
    hidden = {p.value: 0 for p in Persona if p.rank > Persona.REGULAR.rank}
    for f in findings:
        if f.persona.rank <= persona.rank:
            shown.append(f)
        elif f.suppressed is None:
            hidden[f.persona.value] += 1
    return shown, tuple(hidden.items())


def evaluate(
    catalogue: Mapping[str, RuleMeta],
    profile_for: Callable[[str], Profile],
    evaluated: Mapping[tuple[str, str, str | None], str],
    findings: Iterable[Finding],
    template_files: set[str],
) -> tuple[Evaluation, ...]:
    """One Evaluation per (rule, resource) — (rule, file) for repository rules: what was
    judged, with a weight (the rule's severity) and a cost (its worst unsuppressed finding's
    score). Scores are computed from the findings (reviewer.scores.scoring); evaluations count what
    was judged and tell a judged scope from one that is n/a."""
    by_key: dict[tuple[str, str, str | None], list[Finding]] = {}
    for f in findings:
        from_template = f.file in template_files and f.rule_id not in ENGINE_RULES
        subject = f.resource if from_template else None
        by_key.setdefault((f.rule_id, f.file, subject), []).append(f)
    keys = dict(evaluated)
    for key, flist in by_key.items():
        keys.setdefault(key, flist[0].module)
    # in order of rule, file and subject (None as ""), ties as met (the index): rule by rule,
    # each rule's keys a sort of plain tuples, compared without a key function
    per_rule: dict[str, list[tuple[str, str, int, str | None, str]]] = {}
    for i, ((rule_id, file, subject), module) in enumerate(keys.items()):
        per_rule.setdefault(rule_id, []).append((file, subject or "", i, subject, module))
    with_findings = {rule_id for rule_id, _, _ in by_key}
    profiles: dict[str, Profile] = {}  # module -> its profile
    out: list[Evaluation] = []
    for rule_id in sorted(per_rule):
        meta = catalogue.get(rule_id)
        if meta is None:
            continue
        layer, unweighed = meta.layer, rule_id in UNWEIGHED_RULES
        found = rule_id in with_findings
        under: dict[int, float] = {}  # id(profile) -> the rule's weight under it
        weights: dict[str, float] = {}  # module -> the rule's weight there
        judged = per_rule[rule_id]
        judged.sort()
        for file, _, _, subject, module in judged:
            w = weights.get(module)
            if w is None:
                profile = profiles.get(module)
                if profile is None:
                    profile = profiles[module] = profile_for(module)
                w = under.get(id(profile))
                if w is None:
                    w = under[id(profile)] = _float_weight(
                        profile.severity_for(rule_id) or meta.severity
                    )
                weights[module] = w
            cost = 0.0
            if found:
                for f in by_key.get((rule_id, file, subject), ()):
                    if f.suppressed is None:
                        w = max(w, _float_weight(f.severity))
                        cost = max(cost, f.score)
            if unweighed:
                w, cost = 0.0, 0.0
            out.append(Evaluation(rule_id, layer, module, file, subject, w, cost))
    return tuple(out)


@functools.cache
def _float_weight(severity: Severity) -> float:
    """A severity's weight as an Evaluation stores it (the exact weights are a handful of
    decimals, so comparing the floats orders them as the fractions)."""
    return float(weight(severity))


def assemble(
    state: ScanState,
    findings: list[Finding],
    evaluations: tuple[Evaluation, ...],
    hidden: tuple[tuple[str, int], ...] = (),
    members: Mapping[str, tuple[Finding, ...]] | None = None,
) -> Report:
    inventory = state.repo.inventory
    module_paths = {m.name: m.path for m in inventory.modules}
    scores = score_all(
        findings,
        evaluations,
        modules=module_paths,
        module_of=lambda file: module_of_file(state, file),
        members=members,
    )
    modules = tuple(
        ModuleSummary(name, module_paths.get(name, name), block, layers)
        for name, block, layers in scores.modules
    )
    counts = _counts(findings)
    files = FileCounts(
        templates=state.counts.get("templates", 0),
        go_mod=state.counts.get("go_mod", 0),
        package_json=state.counts.get("package_json", 0),
        skipped=len(inventory.skipped),
    )
    rules = tuple(
        state.catalogue[c.rule_id].info()
        for c in sorted(state.checks, key=lambda c: c.rule_id)
        if c.rule_id in state.catalogue
    )
    profile = state.options.profile
    repository, layers = scores.repository, scores.layers
    if not (files.templates or files.go_mod or files.package_json) and not any(
        name.startswith("aws://") for name in module_paths
    ):
        # nothing was reviewed: a grade of the repository-level checks alone would read as a
        # clean bill of health (the human reports say that nothing was found)
        repository = _unscored(repository)
        layers = tuple((layer, _unscored(block)) for layer, block in layers)
    return Report(
        schema_version=SCHEMA_VERSION,
        tool_version=tool_version(),
        root=str(state.root),
        profile=profile.source,
        score=repository,
        layers=layers,
        counts=counts,
        files=files,
        modules=modules,
        findings=tuple(findings),
        rules=rules,
        evaluations=evaluations,
        persona=report_persona(state.options),
        hidden=hidden,
        profile_source=profile.source_kind,
        profile_notice=profile.notice,
    )


def _unscored(block: ScoreBlock) -> ScoreBlock:
    return replace(block, score=None, grade=None, cap=None, cap_reason=None)


def _counts(findings: Iterable[Finding]) -> tuple[tuple[str, int], ...]:
    counts = {s.value: 0 for s in Severity}
    suppressed = 0
    for f in findings:
        if f.suppressed is not None:
            suppressed += 1
        else:
            counts[f.severity.value] += 1
    return (*counts.items(), ("suppressed", suppressed))


def filter_report(report: Report, min_confidence: Confidence) -> Report:
    """Hide findings below a confidence; scores are of the full scan and do not change."""
    kept = tuple(f for f in report.findings if f.confidence.rank >= min_confidence.rank)
    return replace(report, findings=kept, counts=_counts(kept))
