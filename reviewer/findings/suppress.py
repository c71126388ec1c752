"""Suppressions: inline template Metadata, profile entries and a baseline file.

Inline form, on a resource or at template level (then it applies to every resource):

    Metadata:
      archreview:
        ignore:
          - id: AR-API-001
            reason: "internal API behind the corporate proxy"
            until: 2027-01-31

An entry without a reason, past its `until`, or with a misspelled key does not suppress and is
itself a finding (AR-MOD-004). A suppression on a SAM resource covers the implicit resources SAM
generates from it.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from reviewer.core.typed import coerce_date, describe_value, json_position
from reviewer.core.types import Finding, Hit, Suppression, is_custom_rule_id
from reviewer.findings.fingerprint import v1 as fingerprint_v1
from reviewer.model.template import Template
from reviewer.profile import Profile

ENTRY_KEYS = ("id", "reason", "until")
BASELINE_VERSION = 2  # 2: archreview/v2 fingerprints; 1 (archreview/v1) is still read
V1_KEY = "archreview/v1:"  # read_baseline's keys for the entries of a version 1 baseline


@dataclass(frozen=True)
class Entry:
    rule_id: str
    reason: str | None
    until: str | None
    file: str
    subject: str | None  # None: every resource of the template
    kind: str  # inline | profile


@dataclass(frozen=True)
class Problem:
    """An unusable suppression entry: becomes an AR-MOD-004 Hit."""

    file: str
    subject: str | None
    path: tuple[str | int, ...]
    message: str


def _date(value: Any) -> date | None:
    """A suppression's `until`: a date, a timestamp (its date as written) or a string holding
    one; None for anything else (reviewer.core.typed.coerce_date)."""
    return coerce_date(value)


def inline_entries(template: Template, today: date) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    scopes: list[tuple[str | None, Any, tuple[str | int, ...]]] = [
        (None, template.tree.get("Metadata"), ("Metadata",))
    ]
    for res in template.resources.values():
        if not res.implicit:
            scopes.append((res.logical_id, res.node.get("Metadata"), ("Metadata",)))
    for subject, metadata, base in scopes:
        if isinstance(metadata, Mapping):
            for key in metadata:
                if key != "archreview" and _looks_like("archreview", key):
                    problems.append(
                        Problem(
                            template.file,
                            subject,
                            (*base, str(key)),
                            f"Metadata key `{key}` looks like a misspelling of `archreview`: "
                            "its suppressions do not apply",
                        )
                    )
        if not isinstance(metadata, Mapping) or "archreview" not in metadata:
            continue
        block = metadata["archreview"]
        path = (*base, "archreview")
        if not isinstance(block, Mapping):
            problems.append(
                Problem(
                    template.file,
                    subject,
                    path,
                    "Metadata.archreview must be a mapping with an `ignore` list",
                )
            )
            continue
        for key in block:
            if key != "ignore":
                problems.append(
                    Problem(
                        template.file,
                        subject,
                        (*path, str(key)),
                        f"unknown key `{key}` in Metadata.archreview (expected `ignore`)",
                    )
                )
        items = block.get("ignore")
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(
                Problem(
                    template.file,
                    subject,
                    (*path, "ignore"),
                    "Metadata.archreview.ignore must be a list",
                )
            )
            continue
        for i, item in enumerate(items):
            ipath = (*path, "ignore", i)
            entry, problem = _entry(item, template.file, subject, ipath, today, "inline")
            if problem is not None:
                problems.append(problem)
            if entry is not None:
                entries.append(entry)
    return entries, problems


def _entry(
    item: Any,
    file: str,
    subject: str | None,
    path: tuple[str | int, ...],
    today: date,
    kind: str,
) -> tuple[Entry | None, Problem | None]:
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        return None, Problem(
            file, subject, path, "a suppression entry needs an `id` (e.g. AR-API-001)"
        )
    unknown = [str(k) for k in item if k not in ENTRY_KEYS]
    rule_id = str(item["id"]).strip().upper()
    if unknown:
        return None, Problem(
            file,
            subject,
            (*path, unknown[0]),
            f"suppression of {rule_id} has unknown key `{unknown[0]}` (allowed: id, reason, until): it does not suppress",
        )
    known = _rule_ids()
    if known and rule_id not in known and not is_custom_rule_id(rule_id):  # issue 21
        close = difflib.get_close_matches(rule_id, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return None, Problem(
            file,
            subject,
            (*path, "id"),
            f"suppression names unknown rule {rule_id}{hint}: it does not suppress",
        )
    reason = item.get("reason")
    until_raw = item.get("until")
    until = _date(until_raw) if until_raw is not None else None
    if until_raw is not None and until is None:
        return None, Problem(
            file,
            subject,
            (*path, "until"),
            f"suppression of {rule_id}: `until` must be a date YYYY-MM-DD, "
            f"not {describe_value(until_raw)}: it does not suppress",
        )
    if reason is not None and not isinstance(reason, str):
        return None, Problem(
            file,
            subject,
            (*path, "reason"),
            f"suppression of {rule_id}: `reason` must be a string, "
            f"not {describe_value(reason)}: it does not suppress",
        )
    if not isinstance(reason, str) or not reason.strip():
        return None, Problem(
            file, subject, path, f"suppression of {rule_id} has no reason: it does not suppress"
        )
    if until is not None and until < today:
        return None, Problem(
            file,
            subject,
            (*path, "until"),
            f"suppression of {rule_id} expired on {until.isoformat()}: the finding stands again",
        )
    return Entry(
        rule_id, reason.strip(), until.isoformat() if until else None, file, subject, kind
    ), None


def _looks_like(expected: str, key: Any) -> bool:
    """A key that is probably a misspelling of `expected` (case, a letter or two)."""
    if not isinstance(key, str):
        return False
    folded = key.strip().lower().replace("-", "").replace("_", "")
    return folded == expected or difflib.SequenceMatcher(None, folded, expected).ratio() >= 0.8


def _rule_ids() -> frozenset[str]:
    from reviewer.checks.catalogue import load_catalogue

    return frozenset(load_catalogue())


def problems_as_hits(problems: Iterable[Problem]) -> list[Hit]:
    return [Hit(p.subject, p.path, p.message, file=p.file) for p in problems]


def profile_entries(profile: Profile, today: date) -> tuple[list[Entry], list[str]]:
    entries: list[Entry] = []
    expired: list[str] = []
    for s in profile.suppressions:
        until = _date(s.until) if s.until else None
        if not s.reason or (until is not None and until < today):
            expired.append(f"{s.path} {s.rule_id}")
            continue
        entries.append(Entry(s.rule_id, s.reason, s.until, s.path, s.subject, "profile"))
    return entries, expired


def _sources_of(templates: Mapping[str, Template], finding: Finding) -> set[str]:
    """The SAM resources an implicit resource was generated from (transitively)."""
    template = templates.get(finding.file)
    out: set[str] = set()
    if template is None or finding.resource is None:
        return out
    res = template.get(finding.resource)
    while res is not None and res.source is not None and res.source not in out:
        out.add(res.source)
        res = template.get(res.source)
    return out


def apply(
    findings: Sequence[Finding],
    entries: Sequence[Entry],
    templates: Mapping[str, Template],
    baseline: Mapping[str, str] | None = None,
    members: Mapping[str, Sequence[Finding]] | None = None,
) -> list[Finding]:
    """Mark suppressed findings. AR-MOD-004 findings are never suppressed. A merged finding
    (reviewer.findings.merge; `members`: its fingerprint -> the findings it stands for, the primary
    first) is suppressed by an inline or profile entry only when every member is, so that a
    suppression on one resource never hides another's; by a baseline when it records the
    merged finding's fingerprint."""
    out: list[Finding] = []
    by_rule: dict[str, list[Entry]] = {}  # an entry matches findings of its own rule only
    for e in entries:
        by_rule.setdefault(e.rule_id, []).append(e)
    for f in findings:
        if f.rule_id == "AR-MOD-004":
            out.append(f)
            continue
        group = members.get(f.fingerprint) if members else None
        mine = by_rule.get(f.rule_id)
        match = _match(f, mine, templates) if mine else None
        if (
            match is not None
            and group
            and any(_match(m, by_rule.get(m.rule_id, ()), templates) is None for m in group)
        ):
            match = None
        if match is not None:
            out.append(replace(f, suppressed=Suppression(match.kind, match.reason, match.until)))
        elif baseline and (reason := baseline_reason(f, baseline)) is not None:
            out.append(replace(f, suppressed=Suppression("baseline", reason)))
        else:
            out.append(f)
    return out


def _includes(templates: Mapping[str, Template], template: str, file: str) -> bool:
    """The template includes the file (an OpenAPI definition): a finding located there is
    suppressed inline in the template, on the resource it names."""
    t = templates.get(template)
    return t is not None and file in t.documents


def _match(f: Finding, entries: Sequence[Entry], templates: Mapping[str, Template]) -> Entry | None:
    subjects = {f.resource, *_sources_of(templates, f)}
    for e in entries:
        if e.rule_id != f.rule_id:
            continue
        if e.kind == "inline":
            if e.file != f.file and not _includes(templates, e.file, f.file):
                continue
            if e.subject is None or e.subject in subjects:
                return e
        else:
            if not fnmatch.fnmatchcase(f.file, e.file) and f.file != e.file:
                continue
            if e.subject is None or e.subject in subjects:
                return e
    return None


# -- baseline ---------------------------------------------------------------------------------


BASELINE_KEYS = frozenset({"fingerprint", "rule_id", "file", "resource", "property", "reason"})


def baseline_reason(f: Finding, baseline: Mapping[str, str]) -> str | None:
    """The reason a baseline (`read_baseline`) records `f` with, or None: matched by its
    archreview/v2 fingerprint, or by its archreview/v1 one (computed from the displayed
    property path) for the entries of a version 1 baseline."""
    found = baseline.get(f.fingerprint)
    if found is None:
        found = baseline.get(V1_KEY + fingerprint_v1(f.rule_id, f.file, f.resource, f.property))
    return found


def read_baseline(path: Path) -> dict[str, str]:
    """fingerprint -> reason; the entries of a version 1 baseline (archreview/v1 fingerprints,
    list items named by index) are keyed `V1_KEY + fingerprint`, so that they are matched by
    v1 fingerprint only (`baseline_reason`). Raises ValueError with a one-line message naming
    the file, line and column on a bad file: not JSON, nested too deep, a version it does not
    know, or a value of the wrong type."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"baseline {path}: nested too deep") from None
    except (OSError, ValueError) as err:
        raise ValueError(f"baseline {path}: {err}") from None

    def bad(where: tuple[str | int, ...], message: str) -> ValueError:
        line, column = json_position(text, where)
        return ValueError(f"baseline {path}:{line}:{column}: {message}")

    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        found = describe_value(data.get("findings") if isinstance(data, dict) else data)
        raise bad((), f"expected {{'version': 2, 'findings': [...]}}, found {found}")
    version = data.get("version", 1)
    if version not in (1, 2) or isinstance(version, bool):
        raise bad(
            ("version",),
            f"version must be 1 or 2 (archreview/v1 or v2 fingerprints), "
            f"not {describe_value(version)}",
        )
    prefix = V1_KEY if version == 1 else ""
    out: dict[str, str] = {}
    for i, item in enumerate(data["findings"]):
        where = ("findings", i)
        if not isinstance(item, dict):
            raise bad(where, f"findings[{i}] must be a mapping, not {describe_value(item)}")
        if "fingerprint" not in item:
            raise bad(where, f"findings[{i}] has no fingerprint")
        if not isinstance(item["fingerprint"], str):
            found = describe_value(item["fingerprint"])
            raise bad(where, f"findings[{i}].fingerprint must be a string, not {found}")
        unknown = set(item) - BASELINE_KEYS
        if unknown:
            raise bad(where, f"findings[{i}] has unknown key {sorted(unknown)[0]!r}")
        for key in sorted(BASELINE_KEYS - {"fingerprint"}):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise bad(
                    where, f"findings[{i}].{key} must be a string, not {describe_value(value)}"
                )
        out[prefix + item["fingerprint"]] = str(item.get("reason") or "baseline")
    return out


def baseline_text(findings: Iterable[Finding], today: date) -> str:
    """Every current finding that nothing else suppresses, by its archreview/v2 fingerprint
    (version 2). Findings an applied baseline already suppresses are kept with their (possibly
    edited) reason, so rewriting a baseline while applying it loses nothing (and moves a
    version 1 baseline to version 2). AR-MOD-004 findings are never recorded: a baseline cannot
    suppress them (a suppression that does not work must be fixed where it is written)."""
    items = [
        {
            "fingerprint": f.fingerprint,
            "rule_id": f.rule_id,
            "file": f.file,
            "resource": f.resource,
            "property": f.property,
            "reason": f.suppressed.reason
            if f.suppressed is not None and f.suppressed.reason
            else f"baseline {today.isoformat()}",
        }
        for f in findings
        if (f.suppressed is None or f.suppressed.kind == "baseline") and f.rule_id != "AR-MOD-004"
    ]
    items.sort(
        key=lambda i: (i["file"] or "", i["rule_id"] or "", i["resource"] or "", i["fingerprint"])
    )
    return json.dumps({"version": BASELINE_VERSION, "findings": items}, indent=2) + "\n"
