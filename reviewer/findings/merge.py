"""One finding per root cause (product.md *Personas*, last paragraph).

Checks report what they see, one Hit at a time; several of them can be one root cause:

* the same rule, or rules that declare the same `cause:` in their rules/ file, at the same
  file, resource and property (one property reported twice for two reasons; a function
  timeout over an API limit and over its sizing class, AR-CMP-003 and AR-CMP-001);
* the same rule on the same property at the same place for different resources (a Globals
  line five functions inherit, the SAM construct several generated resources come from).

Different properties of one resource are different causes (a check that knows they are one,
such as a table's deletion protections, yields one Hit with related locations itself).

`merge` turns each such group into one finding. Its primary is the member with the highest
score (then the harshest cap, the persona shown most widely, the first in report order). The
merged finding is the primary — its rule, title, message, severity, confidence, score,
fingerprint and ADR text — shown at the mildest persona of its members (it is worth saying
when any of them is) and capping scores as its harshest member (reviewer.runner.engine keeps the
members for that); every other member becomes a related location carrying its message, after
the primary's own related locations and followed by the member's. A group is the connected set of findings
linked by either key, so the result does not depend on the input's order; the output is sorted
as the report sorts.

Pure: findings in, findings out, with each merged finding's members (the engine suppresses a
merged finding only where every member is suppressed, and caps grades by the harshest member).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from reviewer.core.types import Finding, Location, evolve
from reviewer.scores.scoring import cap_level


@dataclass(frozen=True)
class Merged:
    findings: tuple[Finding, ...]  # in report order (`order`)
    # fingerprint of a merged finding -> its members (the primary first), for those that merged
    members: Mapping[str, tuple[Finding, ...]]


def cause_key(finding: Finding, cause_of: Callable[[str], str | None]) -> tuple[Hashable, ...]:
    """What one root cause is: the rule's declared `cause` (else the rule) at a file, resource
    and property."""
    cause = cause_of(finding.rule_id) or finding.rule_id
    return ("cause", cause, finding.file, finding.resource, finding.property)


def span_key(finding: Finding) -> tuple[Hashable, ...] | None:
    """The same rule on the same property written once for several resources (a Globals value
    five functions inherit, the SAM construct its generated resources come from): the same
    file, line, column and property. Only for findings on a resource's property (a finding
    with neither is located at its file's first line when nothing better is known); different
    properties of one resource stay apart even where a missing one is located at the resource."""
    if finding.resource is None or finding.property is None:
        return None
    return ("span", finding.rule_id, finding.file, finding.line, finding.column, finding.property)


def order(f: Finding) -> tuple[Hashable, ...]:
    """Report order (Finding.sort_key), made total: findings that tie on it are ordered by
    the rest of what they say, so merging does not depend on the order it is given."""
    return (
        *f.sort_key(),
        f.column,
        f.end_line,
        f.end_column,
        f.severity.rank,
        f.confidence.rank,
        f.persona.rank,
        f.fingerprint,
        tuple(
            (r.file, r.line, r.column, r.logical_id or "", r.path or "", r.message)
            for r in f.related
        ),
    )


def _primary_order(f: Finding) -> tuple[Hashable, ...]:
    return (-f.score, -cap_level(f.severity, f.confidence), f.persona.rank, *order(f))


def _location(member: Finding, primary: Finding) -> Location:
    same = member.rule_id == primary.rule_id
    label = member.message if same else f"{member.rule_id}: {member.message}"
    return Location(
        member.file,
        member.line,
        member.column,
        member.end_line,
        member.end_column,
        member.resource,
        member.property,
        label,
    )


def _place(loc: Location) -> tuple[str, int, int, str | None, str | None, str]:
    """A related location once per place and message (another rule's message at the primary's
    own place says something of its own)."""
    return (loc.file, loc.line, loc.column, loc.logical_id, loc.path, loc.message)


def combine(group: Sequence[Finding]) -> tuple[Finding, tuple[Finding, ...]]:
    """One finding for a group of findings of one root cause (see the module docstring), and
    the group's members, the primary first, the others in report order."""
    if len(group) == 1:  # most groups: the finding alone
        return group[0], (group[0],)
    primary = min(group, key=_primary_order)
    others = sorted((f for f in group if f is not primary), key=order)
    if not others:
        return primary, (primary,)
    related: list[Location] = []
    seen: set[tuple[str, int, int, str | None, str | None, str]] = {
        (primary.file, primary.line, primary.column, primary.resource, primary.property, "")
    }

    def add(loc: Location) -> None:
        place = _place(loc)
        if place not in seen:
            seen.add(place)
            related.append(loc)

    for loc in primary.related:
        add(loc)
    for member in others:
        add(_location(member, primary))
        for loc in member.related:
            add(loc)
    persona = min((f.persona for f in group), key=lambda p: p.rank)
    merged = evolve(primary, related=tuple(related), persona=persona)
    return merged, (primary, *others)


def merge(findings: Sequence[Finding], cause_of: Callable[[str], str | None]) -> Merged:
    """Merge the findings of one root cause (see the module docstring)."""
    parent = list(range(len(findings)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[Hashable, ...], int] = {}
    for i, f in enumerate(findings):
        for key in (cause_key(f, cause_of), span_key(f)):
            if key is None:
                continue
            j = first.setdefault(key, i)
            if j != i:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[Finding]] = {}
    for i, f in enumerate(findings):
        groups.setdefault(find(i), []).append(f)
    out: list[Finding] = []
    members: dict[str, tuple[Finding, ...]] = {}
    for group in groups.values():
        merged, group_members = combine(group)
        out.append(merged)
        if len(group_members) > 1:
            members[merged.fingerprint] = group_members
    return Merged(tuple(in_report_order(out)), members)


def in_report_order(findings: list[Finding]) -> list[Finding]:
    """`sorted(findings, key=order)`, the whole `order` made only for findings whose
    Finding.sort_key ties (few: it is most of `order`)."""
    findings = sorted(findings, key=Finding.sort_key)
    out: list[Finding] = []
    for _, run in groupby(findings, key=Finding.sort_key):
        tied = list(run)
        if len(tied) > 1:
            tied.sort(key=order)
        out.extend(tied)
    return out
