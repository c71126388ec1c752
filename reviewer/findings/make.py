"""The findings stage: a check's Hit, bound to its file, module and template (RawHit), made
into a located Finding — line and column from the model's marks, the source line, the rule's
severity, confidence and persona as the profile and the hit's variant set them, the logical
fingerprint, and the fix (reviewer.fixes).

Checks never compute a line; this module is where every Hit is located.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reviewer.checks.catalogue import RuleMeta
from reviewer.core import bounds
from reviewer.core.types import (
    AdrText,
    Confidence,
    Finding,
    Hit,
    Location,
    Persona,
    Severity,
    Span,
)
from reviewer.core.types import Path as PathT
from reviewer.discover.inventory import read_text
from reviewer.findings.fingerprint import logical as logical_fingerprint
from reviewer.findings.fingerprint import named_path
from reviewer.fixes import render_fix
from reviewer.scores.scoring import rounded_score

if TYPE_CHECKING:
    from reviewer.model.repo import RepoIndex
    from reviewer.model.template import Template
    from reviewer.profile import Profile


class FindingSources(Protocol):
    """What locating a hit reads: the scan's catalogue, repository, file lines and profiles."""

    root: Path
    catalogue: dict[str, RuleMeta]
    repo: RepoIndex
    lines: dict[str, tuple[str, ...]]

    @property
    def strict(self) -> bool: ...

    @property
    def max_bytes(self) -> int: ...

    @property
    def report_persona(self) -> Persona: ...

    def profile_for(self, module: str) -> Profile: ...


@dataclass
class RawHit:
    rule_id: str
    file: str
    module: str
    hit: Hit
    template: Template | None = None
    finding: Finding | None = None  # made already (by a worker, or read from the cache)


def path_string(path: PathT) -> str | None:
    parts: list[str] = []
    elems = list(path)
    if elems and elems[0] == "Properties":
        elems = elems[1:]
    if elems and elems[0] == "__line__":
        return None
    for elem in elems:
        if isinstance(elem, int):
            if parts:
                parts[-1] += f"[{elem}]"
            else:
                parts.append(f"[{elem}]")
        else:
            parts.append(str(elem))
    return ".".join(parts) or None


def fingerprint(rule_id: str, file: str, subject: str | None, prop: str | None) -> str:
    """The logical fingerprint (reviewer.findings.fingerprint, scheme archreview/v2) of a finding whose
    property path, with list items named, is `prop`."""
    return logical_fingerprint(rule_id, file, subject, prop)


def _named_path(raw: RawHit, prop: str | None) -> str | None:
    """The hit's property path with list items named by what identifies them (fingerprints);
    `prop`: its path_string, the same when no list item is in the path."""
    hit = raw.hit
    if raw.template is None or not any(isinstance(e, int) for e in hit.path):
        return prop
    res = raw.template.get(hit.subject) if hit.subject else None
    root = res.view if res is not None else raw.template.tree
    return named_path(root, hit.path)


def _locate(state: FindingSources, raw: RawHit) -> tuple[Span, str | None]:
    hit = raw.hit
    if hit.path and hit.path[0] == "__line__":
        line = int(hit.path[1])
        col = int(hit.path[2]) if len(hit.path) > 2 else 1
        return Span(line, col, line, col), None
    if raw.template is not None:
        span = raw.template.locate(hit.subject, hit.path)
        res = raw.template.get(hit.subject) if hit.subject else None
        return span, (res.type if res else None)
    return locate_repo(state, raw.file, hit.path), None


def locate_repo(state: FindingSources, file: str, path: PathT) -> Span:
    pos: tuple[int, int] | None = None
    if len(path) > 1 and path[0] == "__line__":  # a place the check located (another file's)
        pos = (int(path[1]), int(path[2]) if len(path) > 2 else 1)
    elif file in state.repo.gomods:
        from reviewer.model.manifests.gomod import locate as go_locate

        pos = go_locate(state.repo.gomods[file], path)
    elif file in state.repo.packages:
        from reviewer.model.manifests.npm import locate as npm_locate

        pos = npm_locate(state.repo.packages[file], path)
    elif file == ".gitmodules" and len(path) == 2 and path[0] == "submodule":
        for sub in state.repo.submodules:
            if sub.name == path[1] or sub.path == path[1]:
                pos = (sub.line, 1)
    elif file in state.repo.templates and path:
        span = state.repo.templates[file].locate(str(path[0]), path[1:])
        return span
    if pos is None:
        return Span(1, 1, 1, 1)
    return Span(pos[0], pos[1], pos[0], pos[1])


def source_line(state: FindingSources, file: str, line: int, column: int = 1) -> str | None:
    """The finding's source line, or the window of it around `column` that a finding keeps
    when the line is long (bounds.source_window: at most a few hundred characters, whatever the
    repository holds; `bounds.source_offset` maps the line's columns into it)."""
    lines = state.lines.get(file)
    if lines is None and file == ".gitmodules":
        text = read_text(state.root, file, state.max_bytes)
        if isinstance(text, str):
            lines = tuple(text.split("\n"))
            state.lines[file] = lines
    if lines and 1 <= line <= len(lines):
        return bounds.source_window(lines[line - 1], column)
    return None


@dataclass(frozen=True)
class Rating:
    """What a finding takes from its rule, variant and module's profile (the same for every hit
    of one rule under one profile with the same variant and own values)."""

    profile: Profile
    severity: Severity
    confidence: Confidence
    persona: Persona
    score: float
    title: str
    layer: str
    adr: AdrText


# (rule, id(profile), the hit's variant, severity, confidence and persona)
RatingKey = tuple[str, int, str | None, Severity | None, Confidence | None, Persona | None]
RatingMemo = dict[RatingKey, Rating | None]  # make_finding's memo (one per scan)


def make_finding(
    state: FindingSources, raw: RawHit, memo: RatingMemo | None = None
) -> Finding | None:
    """The located Finding of a hit (None when its rule is not in the catalogue). `memo`: a
    dict kept across the hits of one scan (while its profiles live), where what a rule, a
    variant and a profile give a finding is worked out once."""
    if raw.finding is not None:
        return raw.finding
    hit = raw.hit
    profile = state.profile_for(raw.module)
    rating: Rating | None
    if memo is None:
        rating = _rate(state, raw, profile)
    else:
        # the memo lives while the profiles do (one scan): their ids name them
        key = (raw.rule_id, id(profile), hit.variant, hit.severity, hit.confidence, hit.persona)
        try:
            rating = memo[key]
        except KeyError:
            rating = memo[key] = _rate(state, raw, profile)
    if rating is None:
        return None
    severity, confidence, persona = rating.severity, rating.confidence, rating.persona
    span, rtype = _locate(state, raw)
    prop = path_string(hit.path)
    logical_path = _named_path(raw, prop)
    subject = hit.subject
    related: list[Location] = []
    for rel in hit.related:
        rfile = rel.file or raw.file
        if raw.template is not None and rfile == raw.file:
            rspan = raw.template.locate(rel.subject, rel.path)
        elif rel.path and rel.path[0] == "__line__":  # located by the check (another file)
            rspan = locate_repo(state, rfile, rel.path)
        elif rfile in state.repo.templates:
            rspan = state.repo.templates[rfile].locate(rel.subject, rel.path)
        else:
            rspan = locate_repo(state, rfile, rel.path)
        related.append(
            Location(
                rfile,
                rspan.line,
                rspan.column,
                rspan.end_line,
                rspan.end_column,
                rel.subject,
                path_string(rel.path),
                rel.label,
            )
        )
    return Finding(
        rule_id=raw.rule_id,
        title=rating.title,
        layer=rating.layer,
        severity=severity,
        confidence=confidence,
        score=rating.score,
        module=raw.module,
        file=raw.file,
        line=span.line,
        end_line=max(span.end_line, span.line),
        column=span.column,
        end_column=span.end_column,
        resource=subject,
        resource_type=rtype,
        property=prop,
        message=hit.message,
        fingerprint=fingerprint(raw.rule_id, raw.file, subject, logical_path),
        logical_path=logical_path,
        adr=rating.adr,
        related=tuple(related),
        source=source_line(state, raw.file, span.line, span.column),
        persona=persona,
        fix=None  # a finding the report's persona hides is never shown: nor is its fix
        if hit.fix is None or persona.rank > state.report_persona.rank
        else render_fix(
            hit.fix, template=raw.template, file=raw.file, root=state.root, profile=rating.profile
        ),
    )


def _rate(state: FindingSources, raw: RawHit, profile: Profile) -> Rating | None:
    meta = state.catalogue.get(raw.rule_id)
    if meta is None:
        return None
    hit = raw.hit
    variant = meta.variant(hit.variant)
    if variant is None and hit.variant is not None and state.strict:
        raise ValueError(f"{raw.rule_id} has no variant {hit.variant!r} in its rules/ file")
    # the hit's own value, else its variant's, else the rule's; the profile's per-rule
    # severity and persona overrides win over all three
    severity = (
        profile.severity_for(raw.rule_id)
        or hit.severity
        or (variant.severity if variant else None)
        or meta.severity
    )
    confidence = hit.confidence or (variant.confidence if variant else None) or meta.confidence
    persona = (
        profile.persona_for(raw.rule_id)
        or hit.persona
        or (variant.persona if variant else None)
        or meta.persona
    )
    return Rating(
        profile=profile,
        severity=severity,
        confidence=confidence,
        persona=persona,
        score=rounded_score(severity, confidence),
        title=(variant.title if variant else None) or meta.title,
        layer=meta.layer,
        adr=meta.adr_for(hit.variant),
    )
