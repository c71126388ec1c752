"""The declared architecture a repository is reviewed against.

`Profile` is the one interface checks read expectations from. It has one field per schema key of
.archreview.yml; a key the repository does not declare has the value None (or ``()`` for a
list), except the few keys the built-in baseline gives a value to (TLS minimum, WAF rule groups
and rate-based rule, authorizer kinds, the layers switched on, the sizing tag's name).
`Profile.declares(key)` says whether a key was declared: a rule that *requires* a key does not
run without it, a rule that *tunes* on a key reads the baseline's value when it is not declared.

The schema keys, exactly as rule files name them in ``profile: {requires, tunes}`` and as
``archreview profile show`` prints them (`SCHEMA_KEYS`, the authoritative list)::

    stack.go.version                   stack.go.required_modules     stack.go.forbidden_modules
    stack.node.packages                stack.node.forbidden_packages
    stack.testing.go                   stack.testing.node
    layers.network.enabled             layers.network.geo_restriction
    layers.api.enabled                 layers.api.authorizer_kinds   layers.api.waf_managed_rule_groups
    layers.api.waf_rate_limit
    layers.identity.enabled
    layers.data.enabled                layers.data.kms_required      layers.data.tls_minimum
    layers.data.tls_preferred
    layers.monitoring.enabled
    events.retention_days              events.visibility_timeout_s   events.fifo_queues
    sizing.tag                         sizing.classes
    dynamodb.single_table_limit
    platform.private_subnets_behind_load_balancer                    platform.canary_releases
    platform.multi_region_recovery     platform.compliance_monitoring

A section name (``stack.testing``, ``layers.api``) is declared when any key below it is.
`CONTROL_KEYS` (``persona``, ``rules``, ``exclude``, ``suppressions``, ``modules``,
``extends``) steer the review; they are not declarations of the architecture.

`DEFAULT` (= `BASELINE`) is the built-in baseline, `Profile()`: it declares nothing. The
Chariot platform's declaration is the preset ``chariot`` (reviewer/profile/presets/chariot.yml, read
by :func:`reviewer.profile.document.preset`): the example agent definition's architecture plus
the documented additions `CHARIOT_ADDITIONS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from reviewer.core.types import Persona, Severity

# The families of the seed's five security layers (L1 NET, L2 API, L3 IDN + IAM, L4 DAT, L5 OBS)
LAYER_FAMILIES: tuple[str, ...] = ("NET", "API", "IDN", "IAM", "DAT", "OBS")

# Every authorizer kind archreview knows: the baseline accepts any of them.
AUTHORIZER_KINDS: tuple[str, ...] = ("COGNITO_USER_POOLS", "JWT", "TOKEN", "REQUEST", "AWS_IAM")

# schema key -> the Profile fields it sets
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "stack.go.version": ("go_version",),
    "stack.go.required_modules": ("go_frameworks", "go_sdk"),
    "stack.go.forbidden_modules": ("go_forbidden",),
    "stack.node.packages": ("node_packages",),
    "stack.node.forbidden_packages": ("node_forbidden",),
    "stack.testing.go": ("go_test_frameworks",),
    "stack.testing.node": ("node_test_frameworks",),
    "layers.network.enabled": ("layers",),
    "layers.network.geo_restriction": ("geo_restriction",),
    "layers.api.enabled": ("layers",),
    "layers.api.authorizer_kinds": ("authorizers",),
    "layers.api.waf_managed_rule_groups": ("waf_managed_rule_groups",),
    "layers.api.waf_rate_limit": ("waf_rate_limit",),
    "layers.identity.enabled": ("layers",),
    "layers.data.enabled": ("layers",),
    "layers.data.kms_required": ("kms_required",),
    "layers.data.tls_minimum": ("tls_minimum",),
    "layers.data.tls_preferred": ("tls_preferred",),
    "layers.monitoring.enabled": ("layers",),
    "events.retention_days": ("queue_retention_days",),
    "events.visibility_timeout_s": ("queue_visibility_s",),
    "events.fifo_queues": ("ordered_queue_patterns",),
    "sizing.tag": ("sizing_tag",),
    "sizing.classes": ("sizing_classes",),
    "dynamodb.single_table_limit": ("single_table_limit",),
    "platform.private_subnets_behind_load_balancer": ("private_subnets_behind_lb",),
    "platform.canary_releases": ("gradual_deployment",),
    "platform.multi_region_recovery": ("multi_region",),
    "platform.compliance_monitoring": ("compliance_monitoring",),
}
SCHEMA_KEYS: tuple[str, ...] = tuple(KEY_FIELDS)
# the layer switches and the rule families each one turns on or off
LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "layers.network.enabled": ("NET",),
    "layers.api.enabled": ("API",),
    "layers.identity.enabled": ("IDN", "IAM"),
    "layers.data.enabled": ("DAT",),
    "layers.monitoring.enabled": ("OBS",),
}
CONTROL_KEYS: tuple[str, ...] = (
    "persona",
    "rules",
    "exclude",
    "suppressions",
    "modules",
    "extends",
)
# The Profile fields that hold the declared architecture (what a module may declare for itself).
ARCHITECTURE_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in KEY_FIELDS.values() for name in names)
)
# The kinds of place a profile comes from (`Profile.source_kind`), in the order they are tried.
SOURCE_KINDS: tuple[str, ...] = ("option", "file", "agent", "baseline")

BASELINE_NOTICE = (
    "reviewed against the built-in baseline: this repository declares no architecture, so the "
    "rules that need one do not run; declare it in .archreview.yml (`archreview init PATH` "
    "writes one that documents every key). archreview 0.1 applied the Chariot preset here: "
    "`extends: chariot` keeps that"
)


@dataclass(frozen=True)
class SizingClass:
    name: str
    memory_mb: int
    timeout_s: int
    patterns: tuple[str, ...] = ()  # case-insensitive substrings of the logical id / FunctionName


@dataclass(frozen=True)
class Suppress:
    path: str  # glob, repo-relative
    rule_id: str
    reason: str | None
    until: str | None = None
    subject: str | None = None  # logical id / dependency name, or None for every subject


@dataclass(frozen=True)
class Profile:
    name: str = "baseline"
    source: str = "built-in baseline"  # the file the profile came from (repo-relative when found)
    # stack (None / (): not declared)
    go_version: str | None = None
    go_frameworks: tuple[str, ...] = ()
    go_sdk: str | None = None
    go_forbidden: tuple[str, ...] = ()
    go_test_frameworks: tuple[str, ...] = ()
    node_packages: tuple[tuple[str, str], ...] = ()
    node_forbidden: tuple[str, ...] = ()
    node_test_frameworks: tuple[str, ...] = ()
    # layers (the baseline reviews every layer; the tuned values below are the baseline's)
    layers: tuple[str, ...] = LAYER_FAMILIES
    authorizers: tuple[str, ...] = AUTHORIZER_KINDS
    waf_managed_rule_groups: tuple[str, ...] = ("AWSManagedRulesCommonRuleSet",)
    waf_rate_limit: bool = True
    kms_required: bool | None = None
    tls_minimum: str = "TLSv1.2"
    tls_preferred: str | None = None
    geo_restriction: bool | None = None
    # event pipeline
    queue_retention_days: int | None = None
    queue_visibility_s: int | None = None
    ordered_queue_patterns: tuple[str, ...] = ()
    # sizing
    sizing_classes: tuple[SizingClass, ...] = ()
    sizing_tag: str = "archreview:sizing-class"
    single_table_limit: int | None = None
    # platform declarations
    private_subnets_behind_lb: bool | None = None
    gradual_deployment: bool | None = None
    multi_region: bool | None = None
    compliance_monitoring: bool | None = None
    # review control
    persona: Persona = Persona.REGULAR
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    disabled_rules: tuple[str, ...] = ()
    rule_personas: tuple[tuple[str, Persona], ...] = ()
    exclude_paths: tuple[str, ...] = ()
    # `rules:` as a list (or `rules: {files: [...]}`): the repository's own rule files and
    # folders besides .archreview/rules/ (reviewer.checks.custom), repository-relative
    custom_rules: tuple[str, ...] = ()
    suppressions: tuple[Suppress, ...] = ()
    # the root profile's `modules:` section: module path glob -> what it declares for them
    # (a profile whose declared keys are laid over the module's: Profile.declared_over)
    modules: tuple[tuple[str, Profile], ...] = ()
    # the schema keys (`stack.go.version`, `sizing.classes`, ...) this profile declares, itself
    # or through the preset it extends; None: every key
    declared: frozenset[str] | None = frozenset()
    # provenance (not compared: two profiles that declare the same are equal)
    source_kind: str = field(default="baseline", compare=False)  # option|file|agent|baseline
    extends: str | None = field(default=None, compare=False)  # the preset laid under it
    notice: str | None = field(default=None, compare=False)  # one line for every human format
    # (file, line, message): candidates that could not be read (the engine reports AR-MOD-003)
    problems: tuple[tuple[str, int, str], ...] = field(default=(), compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # where each declared value came from: (schema key, "file:line"), for init and profile show
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def declares(self, key: str) -> bool:
        """Whether the repository declared `key` (a rule that requires it runs only then; a
        rule that merely tunes on it reads the baseline's value otherwise). A section
        (``stack.testing``) is declared when a key below it is; a key below a declared one
        (``sizing.classes.api``) is declared with it."""
        if self.declared is None or key in self.declared:
            return True
        return any(d.startswith(key + ".") or key.startswith(d + ".") for d in self.declared)

    def declared_keys(self) -> tuple[str, ...]:
        """The declared schema keys, in schema order."""
        return tuple(k for k in SCHEMA_KEYS if self.declared is None or k in self.declared)

    def declared_over(self, base: Profile) -> Profile:
        """``base`` with this profile's declared architecture on top (a `modules:` entry or a
        module's own declaration over the profile the module inherits): the fields of each
        declared key, and for ``layers.<name>.enabled`` that layer's switch only."""
        keys = set(self.declared_keys())
        changes: dict[str, Any] = {}
        on = set(base.layers)
        for key in keys:
            families = LAYER_KEYS.get(key)
            if families is None:
                changes.update((name, getattr(self, name)) for name in KEY_FIELDS[key])
                continue
            for family in families:
                (on.add if family in self.layers else on.discard)(family)
        changes["layers"] = tuple(f for f in LAYER_FAMILIES if f in on)
        declared = None if base.declared is None else base.declared | keys
        cited = dict(base.sources)
        cited.update((k, v) for k, v in self.sources if k.split(".")[0] in _SECTIONS)
        return replace(base, **changes, declared=declared, sources=tuple(sorted(cited.items())))

    def severity_for(self, rule_id: str) -> Severity | None:
        for rid, severity in self.severity_overrides:
            if rid == rule_id:
                return severity
        return None

    def persona_for(self, rule_id: str) -> Persona | None:
        """The persona the profile moves `rule_id` to (``rules: {ID: {persona: ...}}``)."""
        for rid, persona in self.rule_personas:
            if rid == rule_id:
                return persona
        return None

    def enabled(self, rule_id: str) -> bool:
        """Not disabled by id, and not in one of the five security layers that the profile
        leaves out (`layers`: NET, API, IDN, IAM, DAT, OBS)."""
        if rule_id in self.disabled_rules:
            return False
        parts = rule_id.split("-")
        family = parts[1] if len(parts) == 3 else ""
        return family not in LAYER_FAMILIES or family in self.layers

    def sizing_class(self, name: str) -> SizingClass | None:
        for cls in self.sizing_classes:
            if cls.name == name:
                return cls
        return None


_SECTIONS = frozenset(key.split(".")[0] for key in SCHEMA_KEYS)

BASELINE = Profile()
DEFAULT = BASELINE  # the built-in default is the baseline (0.1 applied the Chariot preset)

# What the chariot preset adds to, or changes from, the example agent definition's declared
# architecture (Profile field names; a dotted name is one part of a field).
CHARIOT_ADDITIONS: tuple[tuple[str, str], ...] = (
    ("sizing_classes.api", "an `api` class of 512 MB / 29 s for API-integrated functions"),
    (
        "queue_visibility_s",
        "left unset: the declared 30 s contradicts the declared 300 s ingestion timeout "
        "under AR-EVT-003 (visibility must be >= 6 x timeout)",
    ),
    (
        "tls_minimum",
        "TLSv1.2 is enforced; the declared TLS 1.3 is kept as tls_preferred, since not every "
        "AWS endpoint offers it",
    ),
)
DEFAULT_ADDITIONS = CHARIOT_ADDITIONS  # the name of 0.1
# preset name -> its documented additions to the architecture it was made from
PRESET_ADDITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "baseline": (),
    "chariot": CHARIOT_ADDITIONS,
}


def profile_problems(profiles: Iterable[Profile]) -> tuple[tuple[str, int, str], ...]:
    """The problems of several profiles (the root's and its modules'), each once, in order:
    what the engine reports as AR-MOD-003."""
    return tuple(dict.fromkeys(p for profile in profiles for p in profile.problems))
