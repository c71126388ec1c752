"""The declared architecture a repository is reviewed against.

`Profile` is the one interface checks read expectations from. `DEFAULT` is the architecture
declared by the example agent definition plus the documented additions listed in
`DEFAULT_ADDITIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.model import Severity

# The families of the seed's five security layers (L1 NET, L2 API, L3 IDN + IAM, L4 DAT, L5 OBS)
LAYER_FAMILIES: tuple[str, ...] = ("NET", "API", "IDN", "IAM", "DAT", "OBS")


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
    name: str = "default"
    source: str = "built-in default"
    # stack
    go_version: str = "1.24.6"
    go_frameworks: tuple[str, ...] = ("github.com/gorilla/mux",)
    go_sdk: str = "github.com/aws/aws-sdk-go-v2"
    go_forbidden: tuple[str, ...] = (
        "github.com/gin-gonic/gin",
        "github.com/labstack/echo",
        "github.com/labstack/echo/v4",
        "github.com/go-chi/chi",
        "github.com/go-chi/chi/v5",
        "github.com/gofiber/fiber",
        "github.com/gofiber/fiber/v2",
    )
    go_test_frameworks: tuple[str, ...] = ("github.com/stretchr/testify",)
    node_packages: tuple[tuple[str, str], ...] = (
        ("react", "18.3.1"),
        ("react-dom", "18.3.1"),
        ("typescript", "5.x"),
        ("@tanstack/react-query", "*"),
        ("@headlessui/react", "*"),
        ("@tremor/react", "*"),
        ("tailwindcss", "*"),
    )
    node_forbidden: tuple[str, ...] = (
        "redux",
        "@reduxjs/toolkit",
        "react-redux",
        "swr",
        "react-query",
    )
    node_test_frameworks: tuple[str, ...] = ("jest", "@playwright/test", "playwright")
    # layers
    layers: tuple[str, ...] = ("NET", "API", "IDN", "IAM", "DAT", "OBS")
    authorizers: tuple[str, ...] = ("COGNITO_USER_POOLS", "JWT", "TOKEN", "REQUEST")
    waf_managed_rule_groups: tuple[str, ...] = ("AWSManagedRulesCommonRuleSet",)
    waf_rate_limit: bool = True
    kms_required: bool = True
    tls_minimum: str = "TLSv1.2"
    tls_preferred: str = "TLSv1.3"
    geo_restriction: bool = True
    # event pipeline
    queue_retention_days: int = 14
    queue_visibility_s: int | None = None
    ordered_queue_patterns: tuple[str, ...] = ("*asset-processing*",)
    # sizing
    sizing_classes: tuple[SizingClass, ...] = (
        SizingClass("ingestion", 512, 300, ("ingest",)),
        SizingClass("correlation", 1024, 600, ("correlat",)),
        SizingClass("assessment", 2048, 900, ("assess",)),
        SizingClass("notification", 256, 120, ("notif", "dispatch")),
        SizingClass("api", 512, 29, ()),
    )
    sizing_tag: str = "archreview:sizing-class"
    single_table_limit: int = 1
    # platform declarations
    private_subnets_behind_lb: bool = True
    gradual_deployment: bool = True
    multi_region: bool = True
    compliance_monitoring: bool = True
    # rule control
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    disabled_rules: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    suppressions: tuple[Suppress, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # where each declared value came from: (schema key, "file:line"), for init and profile show
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # the schema keys (`stack.go.version`, `sizing.classes`, ...) this profile declares, itself
    # or through the preset it extends; None: every key (the first version's built-in default)
    declared: frozenset[str] | None = None

    def declares(self, key: str) -> bool:
        """Whether the repository declared `key` (a rule that requires it runs only then; a
        rule that merely tunes on it reads the baseline's value otherwise)."""
        return self.declared is None or key in self.declared

    def severity_for(self, rule_id: str) -> Severity | None:
        for rid, severity in self.severity_overrides:
            if rid == rule_id:
                return severity
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


DEFAULT = Profile()

# What the built-in default adds to, or changes from, the example's declared architecture.
DEFAULT_ADDITIONS: tuple[tuple[str, str], ...] = (
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
