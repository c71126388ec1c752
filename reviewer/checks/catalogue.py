"""Rule metadata: one YAML file per rule under rules/ (shipped in the wheel as reviewer/_rules)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reviewer.core.package import PACKAGE_DIR, rules_dir
from reviewer.core.types import AdrText, Confidence, Persona, Reference, RuleInfo, Severity

ID_RE = re.compile(r"^AR-[A-Z]{3}-\d{3}$")
REQUIRED_KEYS = (
    "id",
    "name",
    "title",
    "layer",
    "severity",
    "confidence",
    "resource_types",
    "since",
    "description",
    "adr",
    "references",
    "nist",
    "owasp",
    # who a finding is worth saying to: regular | pedantic | auditor (product.md *Personas*)
    "persona",
    # {requires: [...], tunes: [...]}: the profile schema keys without which the rule does not
    # run, and those it reads when declared (else the baseline's value)
    "profile",
    # why this severity and confidence, per case where they differ
    "calibration",
)
# `variants`: cases with their own title/persona/severity/confidence/decision; `cause`: rules
# that share a root cause merge at one resource and property (reviewer.findings.merge).
# `fix`: {class: safe | unsafe | none, note: what the fix writes, or why there is none}
OPTIONAL_KEYS = ("cases", "variants", "cause", "fix")
FIX_CLASSES = ("safe", "unsafe", "none")


class CatalogueError(Exception):
    pass


@dataclass(frozen=True)
class Case:
    id: str
    fixture: str  # file below fixtures/templates/<ID>/ (or fixtures/repos/...)
    expect: str  # fail | pass
    says: str = ""
    persona: Persona | None = None  # the persona the expected finding has (tests/test_rules.py)
    profile: str | None = None  # a preset or profile file the case is scanned with


@dataclass(frozen=True)
class Variant:
    """One case of a rule with a consequence of its own: what it changes from the rule."""

    id: str
    title: str | None = None
    persona: Persona | None = None
    severity: Severity | None = None
    confidence: Confidence | None = None
    decision: str | None = None


@dataclass(frozen=True)
class RuleMeta:
    id: str
    name: str
    title: str
    layer: str
    severity: Severity
    confidence: Confidence
    resource_types: tuple[str, ...]
    since: str
    description: str
    adr_title: str
    context: str
    decision: str
    consequences: str
    options: tuple[str, ...]
    references: tuple[Reference, ...]
    nist: tuple[str, ...]
    owasp: tuple[str, ...]
    cases: tuple[Case, ...]
    persona: Persona = Persona.REGULAR
    requires: tuple[str, ...] = ()  # profile keys without which the rule does not run
    tunes: tuple[str, ...] = ()  # profile keys it reads when declared (else the baseline's)
    calibration: str = ""
    variants: tuple[Variant, ...] = ()
    cause: str | None = None
    # a repository's own rule (reviewer.checks.custom): its file, repository-relative (the SARIF
    # help link points at it), and the label of the layer it names ("" for a built-in layer)
    source: str = ""
    layer_label: str = ""
    fix_class: str = "none"  # safe | unsafe | none (rules/<ID>.yaml `fix:`; reviewer.fixes)
    fix_note: str = ""  # what the fix writes, or why the rule's findings cannot be fixed

    @property
    def profile_keys(self) -> tuple[str, ...]:
        """Every profile key the rule reads (required first)."""
        return (*self.requires, *(k for k in self.tunes if k not in self.requires))

    def variant(self, variant_id: str | None) -> Variant | None:
        if variant_id is None:
            return None
        for v in self.variants:
            if v.id == variant_id:
                return v
        return None

    @functools.cached_property
    def adr(self) -> AdrText:
        """One AdrText per rule, shared by all its findings (reports render and cache it once)."""
        return AdrText(self.context, self.decision, self.consequences, self.references)

    @functools.cached_property
    def variant_adrs(self) -> dict[str, AdrText]:
        """The AdrText of each variant with a decision of its own (shared by that variant's
        findings); the other variants use the rule's."""
        return {
            v.id: AdrText(self.context, v.decision, self.consequences, self.references)
            for v in self.variants
            if v.decision
        }

    def adr_for(self, variant_id: str | None) -> AdrText:
        """The ADR text of a finding of this rule and variant."""
        if variant_id is None or not self.variants:
            return self.adr
        return self.variant_adrs.get(variant_id, self.adr)

    @classmethod
    def from_info(cls, info: RuleInfo) -> RuleMeta:
        """The metadata a report carries of a rule (a repository's own rule, whose file the
        output stage does not read again), for the outputs that render rule pages and ADRs."""
        return cls(
            id=info.id,
            name=info.name,
            title=info.title,
            layer=info.layer,
            severity=info.severity,
            confidence=info.confidence,
            resource_types=(),
            since="",
            description=info.description,
            adr_title=info.title,
            context=info.adr.context,
            decision=info.adr.decision,
            consequences=info.adr.consequences,
            options=(),
            references=info.adr.references,
            nist=(),
            owasp=(),
            cases=(),
            source=info.source,
            layer_label=info.layer_label,
        )

    def info(self) -> RuleInfo:
        tags = (
            ("custom", self.layer)
            if self.source
            else ("security", self.layer, *self.nist, *self.owasp)
        )
        return RuleInfo(
            id=self.id,
            name=self.name,
            title=self.title,
            layer=self.layer,
            severity=self.severity,
            confidence=self.confidence,
            description=self.description,
            adr=self.adr,
            tags=tags,
            source=self.source,
            layer_label=self.layer_label,
        )


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def parse_rule(data: Any, where: str) -> RuleMeta:
    if not isinstance(data, dict):
        raise CatalogueError(f"{where}: not a mapping")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    unknown = [k for k in data if k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS]
    if missing or unknown:
        raise CatalogueError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    rule_id = _text(data, "id", where)
    if not ID_RE.match(rule_id):
        raise CatalogueError(f"{where}: bad id {rule_id}")
    adr = data["adr"]
    if not isinstance(adr, dict):
        raise CatalogueError(f"{where}: 'adr' must be a mapping")
    refs = []
    for ref in data.get("references") or []:
        if not isinstance(ref, dict) or "url" not in ref or "title" not in ref:
            raise CatalogueError(f"{where}: each reference needs title and url")
        refs.append(Reference(str(ref["title"]), str(ref["url"])))
    cases = []
    for case in data.get("cases") or []:
        if not isinstance(case, dict) or not {"id", "fixture", "expect"} <= set(case):
            raise CatalogueError(f"{where}: each case needs id, fixture and expect")
        if case["expect"] not in ("fail", "pass"):
            raise CatalogueError(f"{where}: case {case['id']}: expect must be fail or pass")
        unknown_case = set(case) - {"id", "fixture", "expect", "says", "persona", "profile"}
        if unknown_case:
            raise CatalogueError(f"{where}: case {case['id']}: unknown keys {sorted(unknown_case)}")
        cases.append(
            Case(
                str(case["id"]),
                str(case["fixture"]),
                str(case["expect"]),
                str(case.get("says", "")),
                _persona(case["persona"], where) if case.get("persona") else None,
                str(case["profile"]) if case.get("profile") else None,
            )
        )
    options = adr.get("options") or []
    requires, tunes = _profile_keys(data, where)
    return RuleMeta(
        id=rule_id,
        name=_text(data, "name", where),
        title=_text(data, "title", where),
        layer=_text(data, "layer", where),
        severity=Severity(data["severity"]),
        confidence=Confidence(data["confidence"]),
        resource_types=tuple(str(t) for t in data.get("resource_types") or []),
        since=str(data["since"]),
        description=_text(data, "description", where),
        adr_title=_text(adr, "title", where + " adr"),
        context=_text(adr, "context", where + " adr"),
        decision=_text(adr, "decision", where + " adr"),
        consequences=_text(adr, "consequences", where + " adr"),
        options=tuple(
            str(o) if not isinstance(o, dict) else "; ".join(f"{k}: {v}" for k, v in o.items())
            for o in options
        ),
        references=tuple(refs),
        nist=tuple(str(n) for n in data.get("nist") or []),
        owasp=tuple(str(o) for o in data.get("owasp") or []),
        cases=tuple(cases),
        persona=_persona(data["persona"], where),
        requires=requires,
        tunes=tunes,
        calibration=_text(data, "calibration", where),
        variants=_variants(data.get("variants"), where),
        cause=str(data["cause"]) if data.get("cause") else None,
        **_fix(data.get("fix"), where),
    )


def _fix(block: Any, where: str) -> dict[str, str]:
    """The rule's fix class and note (no `fix:` block: none, unexplained)."""
    if block is None:
        return {}
    if not isinstance(block, dict) or set(block) != {"class", "note"}:
        raise CatalogueError(f"{where}: 'fix' must be a mapping of class and note")
    if block["class"] not in FIX_CLASSES:
        raise CatalogueError(f"{where}: fix class must be one of {', '.join(FIX_CLASSES)}")
    return {"fix_class": str(block["class"]), "fix_note": _text(block, "note", where + " fix")}


def _persona(value: Any, where: str) -> Persona:
    try:
        return Persona(str(value))
    except ValueError:
        raise CatalogueError(f"{where}: persona must be regular, pedantic or auditor") from None


def _profile_keys(data: dict[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    block = data.get("profile")
    if not isinstance(block, dict) or set(block) - {"requires", "tunes"}:
        raise CatalogueError(f"{where}: 'profile' must be a mapping of requires/tunes lists")
    lists = [block.get("requires") or [], block.get("tunes") or []]
    if not all(isinstance(keys, list) and all(isinstance(k, str) for k in keys) for keys in lists):
        raise CatalogueError(f"{where}: 'profile' requires/tunes must be lists of profile keys")
    return tuple(lists[0]), tuple(lists[1])


def _variants(block: Any, where: str) -> tuple[Variant, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise CatalogueError(f"{where}: 'variants' must map variant ids to their changes")
    out: list[Variant] = []
    allowed = {"title", "persona", "severity", "confidence", "decision"}
    for vid, body in block.items():
        body = body or {}
        if not isinstance(body, dict) or set(body) - allowed:
            raise CatalogueError(f"{where}: variant {vid}: keys must be among {sorted(allowed)}")
        try:
            out.append(
                Variant(
                    id=str(vid),
                    title=str(body["title"]).strip() if body.get("title") else None,
                    persona=Persona(body["persona"]) if body.get("persona") else None,
                    severity=Severity(body["severity"]) if body.get("severity") else None,
                    confidence=Confidence(body["confidence"]) if body.get("confidence") else None,
                    decision=str(body["decision"]).strip() if body.get("decision") else None,
                )
            )
        except ValueError as err:
            raise CatalogueError(f"{where}: variant {vid}: {err}") from None
    return tuple(out)


# libyaml when PyYAML has it (ten times faster on the rule files; same result for this input)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def load_catalogue(directory: Path | None = None) -> dict[str, RuleMeta]:
    """The rule catalogue: every `AR-*.yaml` of `directory` (default: the installed rules). The
    installed catalogue is also kept parsed in the user's cache folder, next to the cache's
    secret and signed with it, under a key of the rule files' names, sizes and modification
    times (and archreview's and Python's versions): like Python's own bytecode cache, it spares
    every later run parsing 84 YAML files."""
    folder = directory or rules_dir()
    paths = sorted(folder.glob("AR-*.yaml"))
    store, key = _parsed_store(paths) if directory is None else (None, None)
    if store is not None and key is not None:
        kept = store.get("catalogue", key)
        if isinstance(kept, dict) and all(isinstance(m, RuleMeta) for m in kept.values()):
            return kept
    rules: dict[str, RuleMeta] = {}
    for path in paths:
        meta = parse_rule(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER), path.name)
        if meta.id != path.stem:
            raise CatalogueError(f"{path.name}: id {meta.id} does not match the file name")
        rules[meta.id] = meta
    if store is not None and key is not None:
        store.put("catalogue", key, rules)
        store.prune((), whole=("catalogue",), keep=4)  # other installs and versions
    return rules


def _parsed_store(paths: list[Path]) -> tuple[Any, str | None]:
    """Where the parsed catalogue is kept (None when the user's cache folder is unusable)."""
    import os
    import sys

    from reviewer.cache.store import Cache, digest, user_cache_dir
    from reviewer.core.version import version

    base = user_cache_dir()
    if base is None:
        return None, None
    entries = []
    # the rule files, and the code that parses them into what is kept
    for path in (*paths, Path(__file__), PACKAGE_DIR / "core" / "types.py"):
        try:
            st = path.stat()
        except OSError:
            return None, None
        entries.append((path.name, st.st_size, st.st_mtime_ns))
    key = digest(
        "catalogue", version(), sys.version, os.fspath(paths[0].parent) if paths else "", entries
    )
    return Cache(Path(base) / "catalogue"), key
