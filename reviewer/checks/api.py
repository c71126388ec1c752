"""API: the API edge (API Gateway, WAF, throttling, authorizers)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewer.checks.edge import (
    Rendered,
    Val,
    associated,
    associations_naming,
    is_true,
    protocol_label,
    protocol_version,
    render,
    tls_tables,
    values,
    with_note,
)
from reviewer.checks.facts import LAMBDA_TYPES, pointed
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.checks.routes import (
    AWS_IAM,
    COGNITO,
    HTTP_API_TYPES,
    JWT,
    KIND_LABELS,
    NONE,
    REQUEST,
    REST_API_TYPES,
    TOKEN,
    Route,
    is_private,
    protocol_of,
    routes,
)
from reviewer.core.types import (
    Checked,
    Confidence,
    Hit,
    Path,
    Persona,
    Related,
    lower_confidence,
)
from reviewer.model.openapi import API_TYPES, definition, place
from reviewer.model.repo import RepoIndex
from reviewer.model.template import MISSING, Resource, Template

# -- stages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    resource: Resource  # AWS::ApiGateway::Stage, or an AWS::ApiGateway::Deployment with StageName
    api: Resource | None
    name: str | None
    name_val: Val

    @property
    def is_deployment(self) -> bool:
        return self.resource.type == "AWS::ApiGateway::Deployment"

    @property
    def shown_name(self) -> str:
        """The stage name for a message: the name, else as the template writes it (${Stage}
        for a parameter without a value), else 'with an unresolved name'."""
        if self.name is not None:
            return self.name
        unresolved = self.name_val.value
        return getattr(unresolved, "text", None) or "with an unresolved name"

    def describe(self) -> str:
        res = self.resource
        api = self.api.logical_id if self.api else "its REST API"
        if res.implicit:
            return f"stage {self.shown_name} that SAM generates for {res.source or api} ({res.logical_id})"
        if self.is_deployment:
            return f"stage {self.shown_name} created by deployment {res.logical_id} of API {api}"
        return f"REST API stage {res.logical_id} (API {api})"


def _api_of(repo: RepoIndex, t: Template, node: Any, types: tuple[str, ...]) -> Resource | None:
    found = pointed(repo, t, node, types)
    return found[1] if found is not None and found[0] is t else None


def rest_stages(repo: RepoIndex, t: Template) -> list[Stage]:
    out: list[Stage] = []
    staged: set[str] = set()
    for stage in t.of_type("AWS::ApiGateway::Stage"):
        api = _api_of(repo, t, stage.get("RestApiId"), REST_API_TYPES)
        val = values(t, stage.get("StageName"))[0]
        out.append(Stage(stage, api, val.text(), val))
        found = pointed(repo, t, stage.get("DeploymentId"), ("AWS::ApiGateway::Deployment",))
        if found is not None:
            staged.add(found[1].logical_id)
    for dep in t.of_type("AWS::ApiGateway::Deployment"):
        if dep.has("StageName") and dep.logical_id not in staged:
            api = _api_of(repo, t, dep.get("RestApiId"), REST_API_TYPES)
            val = values(t, dep.get("StageName"))[0]
            out.append(Stage(dep, api, val.text(), val))
    return out


def http_stages(repo: RepoIndex, t: Template) -> list[tuple[Resource, Resource | None]]:
    return [
        (stage, _api_of(repo, t, stage.get("ApiId"), HTTP_API_TYPES))
        for stage in t.of_type("AWS::ApiGatewayV2::Stage")
    ]


def _stage_subject(stage: Stage) -> str:
    """How AR-API-003/004 name a REST stage at the start of a message: by its SAM API and stage
    name when SAM generates it from an AWS::Serverless::Api, else as `Stage.describe` does."""
    sam = stage.api is not None and stage.api.type == "AWS::Serverless::Api"
    where = (
        f"SAM API {stage.api.logical_id} (stage {stage.shown_name})"
        if sam and stage.api is not None
        else stage.describe()
    )
    return f"{where[0].upper()}{where[1:]}"


def _http_stage_subject(t: Template, stage: Resource, api: Resource | None) -> str:
    """How AR-API-003/004 name an HTTP or WebSocket API stage at the start of a message."""
    kind = "WebSocket" if protocol_of(t, api) == "WEBSOCKET" else "HTTP API"
    return (
        f"{kind} stage {stage.logical_id}"
        if not stage.implicit
        else f"The stage SAM generates for {stage.source} ({stage.logical_id})"
    )


# -- AR-API-001 -----------------------------------------------------------------------------------


def _stage_association(repo: RepoIndex, t: Template, stage: Stage) -> bool:
    named = [(t.file, stage.resource.logical_id)]
    if stage.api is not None:
        named.append((t.file, stage.api.logical_id))
    for assoc in associations_naming(repo, *named):  # the only ones that can match below
        for r in assoc.renderings:
            if r.points_at(t.file, stage.resource.logical_id):
                return True
            if stage.api is None or not r.points_at(t.file, stage.api.logical_id):
                continue
            _, sep, tail = r.text.partition("/stages/")
            if not sep:
                continue
            stage_part = tail.strip("/").split("/", 1)[0]
            if stage.name is not None and stage_part == stage.name:
                return True
            if "${" in stage_part or stage.name is None:
                return True  # the stage part is not known here: benefit of the doubt
    return False


def _distribution_origins(repo: RepoIndex) -> list[tuple[Template, Resource, list[Rendered], bool]]:
    """Every CloudFront distribution of the repository: its rendered origin domains and whether
    it has a web ACL."""
    key = "api:distributions"
    cached: list[tuple[Template, Resource, list[Rendered], bool]] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: list[tuple[Template, Resource, list[Rendered], bool]] = []
    for t in repo.templates.values():
        for dist in t.of_type("AWS::CloudFront::Distribution"):
            config = dist.get("DistributionConfig")
            if not isinstance(config, Mapping):
                continue
            has_acl = any(
                not v.missing and v.value != "" for v in values(t, config.get("WebACLId", MISSING))
            ) and all(not v.missing for v in values(t, config.get("WebACLId", MISSING)))
            domains: list[Rendered] = []
            origins = config.get("Origins")
            if isinstance(origins, list):
                for origin in origins:
                    if isinstance(origin, Mapping):
                        domains.extend(render(t, origin.get("DomainName", MISSING)))
            out.append((t, dist, domains, has_acl))
    repo.cache[key] = out
    return out


def _fronting_distribution(repo: RepoIndex, t: Template, api: Resource) -> Resource | None:
    key = "api:distributions.by_origin"
    index: dict[tuple[str, str], list[int]] | None = repo.cache.get(key)
    origins = _distribution_origins(repo)
    if index is None:  # distributions by the resources their origins refer to, built once
        index = {}
        for i, (_d_tpl, _dist, domains, _acl) in enumerate(origins):
            for d in domains:
                for file, lid, _ in d.refs:
                    found = index.setdefault((file, lid), [])
                    if not found or found[-1] != i:
                        found.append(i)
        repo.cache[key] = index
    for i in index.get((t.file, api.logical_id), ()):
        _d_tpl, dist, domains, has_acl = origins[i]
        if has_acl and any(d.points_at(t.file, api.logical_id) for d in domains):
            return dist
    return None


def _execute_api_disabled(t: Template, api: Resource) -> Val | None:
    """A value of DisableExecuteApiEndpoint that leaves the default endpoint on (None: off)."""
    for v in values(t, api.get("DisableExecuteApiEndpoint")):
        if not is_true(v):
            return v
    return None


@template_check("AR-API-001", cross_file=True)
def stage_without_waf(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    repo = ctx.repo
    bypassed: set[str] = set()  # APIs already reported for their open default endpoint
    for stage in rest_stages(repo, t):
        res = stage.resource
        yield Checked(res.logical_id)
        if _stage_association(repo, t, stage):
            continue
        api = stage.api
        if is_private(t, api):
            yield Hit(
                res.logical_id,
                ("Properties", "StageName") if stage.is_deployment else (),
                f"{_capital(stage.describe())} has no AWS::WAFv2::WebACLAssociation whose "
                "ResourceArn resolves to it; the API is PRIVATE (reachable only through VPC "
                "endpoints), so its resource policy and the endpoints' policies are what limit "
                "callers: record whether in-VPC callers need WAF inspection too",
                variant="rest-private",
            )
            continue
        fronted = _fronting_distribution(repo, t, api) if api is not None else None
        if fronted is not None and api is not None:
            if api.logical_id not in bypassed:
                bypassed.add(api.logical_id)
                yield from _bypass_hit(t, api, fronted, "REST API")
            continue
        declared = _declared_waf(ctx)
        yield Hit(
            res.logical_id,
            ("Properties", "StageName") if stage.is_deployment else (),
            f"{_capital(stage.describe())} has no AWS::WAFv2::WebACLAssociation whose "
            "ResourceArn resolves to it and no CloudFront distribution with a web ACL fronts "
            "its API: requests reach the API without WAF inspection (no managed rules against "
            "common exploits, no rate-based rule)"
            + (
                f", although the profile declares a WAF at the API layer ({declared})"
                if declared
                else ""
            ),
            variant="rest-public-declared" if declared else "rest-public",
        )
    for api in t.of_type(*HTTP_API_TYPES):
        protocol = protocol_of(t, api)
        if protocol == "WEBSOCKET":
            yield Hit(
                api.logical_id,
                ("Properties", "ProtocolType"),
                f"WebSocket API {api.logical_id} cannot be associated with AWS WAF: record how "
                "its $connect route is authorized and rate-limited instead",
                variant="websocket",
            )
            continue
        if protocol is None:
            continue
        yield Checked(api.logical_id)
        fronted = _fronting_distribution(repo, t, api)
        if fronted is not None:
            yield from _bypass_hit(t, api, fronted, "HTTP API")
            continue
        generated = (
            f" (generated by SAM for the HttpApi events of {api.source})" if api.implicit else ""
        )
        yield Hit(
            api.logical_id,
            (),
            f"HTTP API {api.logical_id}{generated} cannot be associated with AWS WAF (web ACLs "
            "attach to REST API stages, load balancers, AppSync, Cognito user pools, "
            "CloudFront, App Runner and Verified Access, not to HTTP APIs): if it needs request "
            "inspection, put a CloudFront distribution with a web ACL in front of it and set "
            "DisableExecuteApiEndpoint: true; otherwise record that it does not",
            variant="http-api",
        )


def _declared_waf(ctx: TemplateContext) -> str:
    """The profile keys by which the repository declares a WAF at its API layer ('' when it
    declares none: a WAF is then good practice, not a declared control)."""
    return ", ".join(k for k in (GROUPS_KEY, RATE_KEY) if ctx.profile.declares(k))


def _capital(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}"


def _bypass_hit(t: Template, api: Resource, fronted: Resource, kind: str) -> Iterator[Hit]:
    """The finding on an API fronted by a CloudFront web ACL whose default execute-api
    endpoint stays open (nothing when the endpoint is disabled)."""
    enabled = _execute_api_disabled(t, api)
    if enabled is None:
        return
    yield Hit(
        api.logical_id,
        ("Properties", "DisableExecuteApiEndpoint"),
        with_note(
            f"{kind} {api.logical_id} sits behind CloudFront distribution "
            f"{fronted.logical_id}, which has a WAF web ACL, but its default execute-api "
            "endpoint is still enabled (DisableExecuteApiEndpoint is not true), so clients can "
            "call the API directly and bypass the WAF",
            enabled,
        ),
        confidence=enabled.confidence if enabled.conditions or enabled.assumed else None,
        variant="bypass",
        related=(Related(fronted.logical_id, (), "CloudFront distribution with the web ACL"),)
        if t.get(fronted.logical_id) is fronted
        else (),
    )


# -- AR-API-002 -----------------------------------------------------------------------------------


@dataclass
class _AclFeatures:
    """What a web ACL's rules hold, the rule groups they reference included: the AWS managed
    rule groups and the rate-based rules, each with the condition sets under which present."""

    repo: RepoIndex
    groups: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)  # by group name
    rate: list[tuple[str, ...]] = field(default_factory=list)

    def scan_statement(
        self, t: Template, node: Any, conds: tuple[str, ...], depth: int = 0
    ) -> None:
        if depth > 12 or not isinstance(node, Mapping):
            return
        for key, value in node.items():
            if key == "ManagedRuleGroupStatement" and isinstance(value, Mapping):
                vendor = values(t, value.get("VendorName", MISSING))[0].text()
                for v in values(t, value.get("Name", MISSING)):
                    name = v.text()
                    if name is not None and (vendor or "").upper() == "AWS":
                        self.groups.setdefault(name, []).append((*conds, *v.conditions))
            elif key == "RateBasedStatement":
                self.rate.append(conds)
            elif key == "RuleGroupReferenceStatement" and isinstance(value, Mapping):
                found = pointed(self.repo, t, value.get("Arn", MISSING), ("AWS::WAFv2::RuleGroup",))
                if found is not None:
                    owner, group = found
                    self.scan_rules(owner, group.get("Rules"), conds, depth + 1)
            elif isinstance(value, Mapping):
                self.scan_statement(t, value, conds, depth + 1)
            elif isinstance(value, list):
                for item in value:
                    self.scan_statement(t, item, conds, depth + 1)

    def scan_rules(self, t: Template, node: Any, conds: tuple[str, ...], depth: int = 0) -> None:
        if node is MISSING:
            return
        if isinstance(node, list):
            for item in node:
                for v in values(t, item):
                    if isinstance(v.value, Mapping):
                        self.scan_statement(
                            t, v.value.get("Statement"), (*conds, *v.conditions), depth
                        )
            return
        for v in values(t, node):
            if isinstance(v.value, list):
                for item in v.value:
                    if isinstance(item, Mapping):
                        self.scan_statement(
                            t, item.get("Statement"), (*conds, *v.conditions), depth
                        )


def _presence(cond_sets: list[tuple[str, ...]]) -> tuple[bool, str]:
    """(present in every case, note) for the condition sets under which something is present."""
    if not cond_sets:
        return False, ""
    if any(not c for c in cond_sets):
        return True, ""
    return False, "present only when " + " or ".join(" and ".join(c) for c in cond_sets)


COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
GROUPS_KEY = "layers.api.waf_managed_rule_groups"
RATE_KEY = "layers.api.waf_rate_limit"


@template_check("AR-API-002")
def web_acl_without_baseline_rules(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    profile = ctx.profile
    wanted = tuple(profile.waf_managed_rule_groups)
    groups_declared = profile.declares(GROUPS_KEY)
    for acl in t.of_type("AWS::WAFv2::WebACL"):
        acc = _AclFeatures(ctx.repo)
        acc.scan_rules(t, acl.get("Rules"), ())
        gaps: list[str] = []
        effects: list[str] = []
        conditional = False
        declared_gap = False
        for group in wanted:
            present, note = _presence(acc.groups.get(group, []))
            if present:
                continue
            conditional = conditional or bool(note)
            declared_gap = declared_gap or groups_declared
            gaps.append(f"the AWS managed rule group {group}" + (f" ({note})" if note else ""))
            effect = (
                "common exploit patterns (OWASP Top 10) pass the edge uninspected"
                if group == COMMON_RULE_SET
                else "requests pass without the managed rule groups the profile declares"
            )
            if effect not in effects:
                effects.append(effect)
        if profile.waf_rate_limit:
            present, note = _presence(acc.rate)
            if not present:
                conditional = conditional or bool(note)
                declared_gap = declared_gap or profile.declares(RATE_KEY)
                gaps.append(
                    "a rate-based rule (RateBasedStatement)" + (f" ({note})" if note else "")
                )
                effects.append("a single client can flood the backend")
        if not gaps:
            continue
        yield Hit(
            acl.logical_id,
            ("Properties", "Rules"),
            f"Web ACL {acl.logical_id} lacks " + " and ".join(gaps) + ": " + "; ".join(effects),
            confidence=Confidence.MEDIUM if conditional else None,
            # what the repository declared for its web ACLs is a defect to say by default
            persona=Persona.REGULAR if declared_gap else None,
        )


# -- AR-API-003 -----------------------------------------------------------------------------------

THROTTLE_KEYS = ("ThrottlingRateLimit", "ThrottlingBurstLimit")


def _has_throttle(t: Template, node: Any) -> bool:
    for v in values(t, node):
        if isinstance(v.value, Mapping) and any(k in v.value for k in THROTTLE_KEYS):
            return True
    return False


def _method_settings_throttle(t: Template, node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_throttle(t, item) for item in node)
    for v in values(t, node):
        if isinstance(v.value, list) and any(_has_throttle(t, item) for item in v.value):
            return True
    return False


def _usage_plan_throttles(repo: RepoIndex, t: Template, stage: Stage) -> bool:
    api = stage.api
    if api is None:
        return False
    if api.type == "AWS::Serverless::Api":
        plan = api.get("Auth", "UsagePlan")
        if isinstance(plan, Mapping):
            kind = values(t, plan.get("CreateUsagePlan", MISSING))[0].text()
            if kind == "EXISTING":
                return True  # a plan managed elsewhere: its throttle is not visible here
            if kind == "PER_API" and "Throttle" in plan:
                return True
            if kind == "SHARED":
                for other in t.of_type("AWS::Serverless::Api"):
                    shared = other.get("Auth", "UsagePlan")
                    if isinstance(shared, Mapping) and "Throttle" in shared:
                        return True
    for owner, entry in _throttled_plan_stages(repo).get((t.file, api.logical_id), ()):
        stage_r = render(owner, entry.get("Stage", MISSING))
        if any(r.points_at(t.file, stage.resource.logical_id) for r in stage_r):
            return True
        if any(r.text == stage.name or "${" in r.text for r in stage_r):
            return True
    return False


def _throttled_plan_stages(
    repo: RepoIndex,
) -> dict[tuple[str, str], list[tuple[Template, Mapping[str, Any]]]]:
    """Every ApiStages entry of a usage plan with a Throttle (the plan's or the entry's), by the
    (file, logical id) its ApiId points at: built once per repository, not per stage."""
    key = "api.throttled_plan_stages"
    cached: dict[tuple[str, str], list[tuple[Template, Mapping[str, Any]]]] | None = repo.cache.get(
        key
    )
    if cached is not None:
        return cached
    out: dict[tuple[str, str], list[tuple[Template, Mapping[str, Any]]]] = {}
    for owner in repo.templates.values():
        for plan in owner.of_type("AWS::ApiGateway::UsagePlan"):
            if plan.implicit:
                continue
            plan_throttle = plan.has("Throttle")
            api_stages = plan.get("ApiStages")
            if not isinstance(api_stages, list):
                continue
            for entry in api_stages:
                if not isinstance(entry, Mapping):
                    continue
                if not (plan_throttle or "Throttle" in entry):
                    continue
                pointed_at = {
                    (f, lid)
                    for r in render(owner, entry.get("ApiId", MISSING))
                    for f, lid, _ in r.refs
                }
                for where in pointed_at:
                    out.setdefault(where, []).append((owner, entry))
    repo.cache[key] = out
    return out


def open_routes(repo: RepoIndex, t: Template) -> dict[str, list[Route]]:
    """The routes of the template's public APIs that anyone can call (no authorizer; OPTIONS
    and WebSocket routes other than $connect left out), by the logical id of their API."""
    out: dict[str, list[Route]] = {}
    for route in routes(repo, t):
        if route.api is None or route.is_options or route.private:
            continue
        if route.protocol == "WEBSOCKET" and route.method != "$connect":
            continue
        if route.auth.kind == NONE:
            out.setdefault(route.api.logical_id, []).append(route)
    return out


def _labels(found: list[Route], most: int = 3) -> str:
    labels = list(dict.fromkeys(r.label for r in found))
    return ", ".join(labels[:most]) + (", ..." if len(labels) > most else "")


def has_resource_policy(api: Resource | None) -> bool:
    """Whether the API carries a resource policy (RestApi Policy, SAM Auth.ResourcePolicy):
    it then decides who may call the API at all, which a template reader cannot settle
    (source IPs, VPC endpoints, accounts, times)."""
    if api is None:
        return False
    if api.type == "AWS::ApiGateway::RestApi":
        return api.get("Policy") not in (MISSING, None)
    if api.type == "AWS::Serverless::Api":
        return api.get("Auth", "ResourcePolicy") not in (MISSING, None)
    return False


def _throttle_hit(
    subject: str, path: Path, head: str, open_: list[Route], api: Resource | None = None
) -> Hit:
    """AR-API-003's finding: a defect when the API has routes anyone can call, else a nudge."""
    if open_:
        who = "anyone the API's resource policy admits" if has_resource_policy(api) else "anyone"
        return Hit(
            subject,
            path,
            f"{head}: only the account-wide limit (shared by every API of the account in the "
            f"Region) stands between a burst and the backend, and {_labels(open_)} "
            f"{'is' if len(open_) == 1 else 'are'} reachable without an authorizer, so {who} "
            "can drive that burst, run up the backend's cost and starve the other APIs",
            variant="open",
        )
    return Hit(
        subject,
        path,
        f"{head}: only the account-wide limit stands between a burst of its callers and the "
        "backend",
        variant="authorized",
    )


_DEFINITION_KEYS = ("Body", "BodyS3Location", "DefinitionBody", "DefinitionUri")


def _mock_only(repo: RepoIndex, t: Template, api: Resource | None) -> bool:
    """A plain REST API (no OpenAPI definition) every method of which, written in this
    template, answers with a MOCK integration: there is no backend a burst could reach."""
    if api is None or api.type != "AWS::ApiGateway::RestApi":
        return False
    if any(api.get(k) is not MISSING for k in _DEFINITION_KEYS):
        return False
    methods = [
        m
        for m in t.of_type("AWS::ApiGateway::Method")
        if _api_of(repo, t, m.get("RestApiId"), ("AWS::ApiGateway::RestApi",)) is api
    ]
    if not methods:
        return False
    for method in methods:
        kinds = values(t, method.get("Integration", "Type"))
        if any(not k.known or (k.text() or "").upper() != "MOCK" for k in kinds):
            return False
    return True


@template_check("AR-API-003", cross_file=True)
def api_without_throttling(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    repo = ctx.repo
    # a route that needs an API key is not open for a burst: requests without a key stop at
    # the gateway (AR-API-005 still says that a key is not authorization)
    exposed = {
        api: keyless
        for api, found in open_routes(repo, t).items()
        if (keyless := [r for r in found if not r.auth.api_key])
    }
    for stage in rest_stages(repo, t):
        res = stage.resource
        yield Checked(res.logical_id)
        if _mock_only(repo, t, stage.api):
            continue  # MOCK integrations only: no backend for a burst to reach or bill
        if stage.is_deployment:
            desc = res.get("StageDescription")
            if isinstance(desc, Mapping) and (
                any(k in desc for k in THROTTLE_KEYS)
                or _method_settings_throttle(t, desc.get("MethodSettings", MISSING))
            ):
                continue
            path: Path = ("Properties", "StageDescription", "MethodSettings")
        else:
            if _method_settings_throttle(t, res.get("MethodSettings")):
                continue
            path = ("Properties", "MethodSettings")
        if _usage_plan_throttles(repo, t, stage):
            continue
        where = _stage_subject(stage)
        yield _throttle_hit(
            res.logical_id,
            path,
            f"{where} sets no ThrottlingRateLimit/ThrottlingBurstLimit in MethodSettings and no "
            "usage plan with a Throttle covers it",
            exposed.get(stage.api.logical_id, []) if stage.api is not None else [],
            stage.api,
        )
    for stage_res, api in http_stages(repo, t):
        yield Checked(stage_res.logical_id)
        if _has_throttle(t, stage_res.get("DefaultRouteSettings")):
            continue
        route_settings = stage_res.get("RouteSettings")
        if any(
            isinstance(v.value, Mapping)
            and any(_has_throttle(t, item) for item in v.value.values())
            for v in values(t, route_settings)
        ):
            continue
        owner = _http_stage_subject(t, stage_res, api)
        yield _throttle_hit(
            stage_res.logical_id,
            ("Properties", "DefaultRouteSettings"),
            f"{owner} sets no ThrottlingRateLimit/ThrottlingBurstLimit in DefaultRouteSettings "
            "or RouteSettings",
            exposed.get(api.logical_id, []) if api is not None else [],
        )


# -- AR-API-004 -----------------------------------------------------------------------------------


def _log_destination(t: Template, node: Any) -> tuple[bool, Val | None]:
    """(has a destination in every case, the value that lacks one)."""
    for v in values(t, node):
        if v.missing:
            return False, v
        if isinstance(v.value, Mapping):
            dest = v.value.get("DestinationArn", MISSING)
            for d in values(t, dest):
                if d.missing:
                    return False, Val(
                        d.value, (*v.conditions, *d.conditions), v.assumed or d.assumed
                    )
    return True, None


@template_check("AR-API-004")
def api_stage_without_access_logs(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    repo = ctx.repo
    for stage in rest_stages(repo, t):
        res = stage.resource
        yield Checked(res.logical_id)
        base: Path = ("Properties", "StageDescription") if stage.is_deployment else ("Properties",)
        node = (
            res.get(*base[1:], "AccessLogSetting")
            if stage.is_deployment
            else res.get("AccessLogSetting")
        )
        ok, lacking = _log_destination(t, node)
        if ok or lacking is None:
            continue
        path: Path = (
            (*base, "AccessLogSetting")
            if node is MISSING
            else (*base, "AccessLogSetting", "DestinationArn")
        )
        where = _stage_subject(stage)
        yield Hit(
            res.logical_id,
            path,
            with_note(
                f"{where} writes no access log (no AccessLogSetting with a "
                "DestinationArn): requests, callers and authorizer decisions leave no record",
                lacking,
            ),
            confidence=lacking.confidence if lacking.conditions or lacking.assumed else None,
        )
    for stage_res, api in http_stages(repo, t):
        yield Checked(stage_res.logical_id)
        node = stage_res.get("AccessLogSettings")
        ok, lacking = _log_destination(t, node)
        if ok or lacking is None:
            continue
        path = (
            ("Properties", "AccessLogSettings")
            if node is MISSING
            else ("Properties", "AccessLogSettings", "DestinationArn")
        )
        owner = _http_stage_subject(t, stage_res, api)
        yield Hit(
            stage_res.logical_id,
            path,
            with_note(
                f"{owner} writes no access log (no AccessLogSettings with a DestinationArn): "
                "requests, callers and authorizer decisions leave no record",
                lacking,
            ),
            confidence=lacking.confidence if lacking.conditions or lacking.assumed else None,
        )


# -- AR-API-005 -----------------------------------------------------------------------------------


def _route_message(route: Route, t: Template | None = None) -> str:
    api = route.api.logical_id if route.api is not None else "its API"
    auth = route.auth
    key_note = " (an API key alone is not authorization)" if auth.api_key else ""
    if route.source == "method":
        state = (
            "has AuthorizationType NONE"
            if auth.explicit
            else "sets no AuthorizationType (it defaults to NONE)"
        )
        head = f"Method {route.subject} ({route.label} on API {api}) {state}{key_note}"
    elif route.source == "route":
        state = (
            "has AuthorizationType NONE"
            if auth.explicit
            else "sets no AuthorizationType (it defaults to NONE)"
        )
        kind = "WebSocket route" if route.protocol == "WEBSOCKET" else "Route"
        head = f"{kind} {route.subject} ({route.label} on API {api}) {state}{key_note}"
    elif route.source == "event":
        event = str(route.where[-1]) if route.where else "?"
        if auth.explicit:
            state = "sets Auth.Authorizer NONE"
        elif auth.subject != route.subject:
            state = f"inherits DefaultAuthorizer NONE from API {api}"
        else:
            state = f"sets no Auth.Authorizer and API {api} has no Auth.DefaultAuthorizer"
        head = f"Event {event} of {route.subject} ({route.label}) {state}{key_note}"
    elif route.source == "openapi":
        if auth.api_key:
            state = "is secured only by an API key (an API key alone is not authorization)"
        elif auth.explicit and auth.path and auth.path[-1] == "x-amazon-apigateway-auth":
            state = "sets x-amazon-apigateway-auth type NONE"
        elif auth.explicit:
            state = "has an empty security requirement"
        else:
            state = "has no security requirement and the API no default authorizer"
        found = definition(t, route.api) if t is not None and route.api is not None else None
        written = f" (in {found.file})" if found is not None and found.file else ""
        head = f"OpenAPI route {route.label} of API {api}{written} {state}"
    else:
        head = f"WebSocket API {api} declares routes but no $connect route, so connections are accepted without an authorizer"
    tail = (
        ": anyone holding an API key of the API's usage plans can call it; keys identify "
        "client applications, are shared and long-lived, and name no user"
        if auth.api_key
        else ": anyone who can reach the API can call it"
    )
    if has_resource_policy(route.api):
        tail += ", within what the API's resource policy admits"
    if route.private:
        tail += " (the API is PRIVATE: reachable only through VPC endpoints)"
    return head + tail + (f" [{auth.note}]" if auth.note else "")


def _hit_location(route: Route) -> tuple[str, Path]:
    auth = route.auth
    if auth.explicit and auth.subject == route.subject:
        return auth.subject, auth.path
    if route.source in ("method", "route"):
        return route.subject, auth.path
    return route.subject, route.where


def _declared_by(t: Template, route: Route) -> str:
    """Where a route is declared, in a few words (related-location labels)."""
    if route.source == "method":
        return f"Method {route.subject}"
    if route.source == "route":
        return f"Route {route.subject}"
    if route.source == "event":
        event = str(route.where[-1]) if route.where else "?"
        return f"event {event} of {route.subject}"
    if route.source == "openapi":
        found = definition(t, route.api) if route.api is not None else None
        if found is not None and found.file is not None:
            return f"the OpenAPI definition in {found.file}"
        return "the inline OpenAPI definition"
    return "no $connect route"


def placed(t: Template, subject: str | None, path: Path) -> tuple[str | None, Path]:
    """Where a hit on (subject, path) goes: the template (None, path), or the included
    OpenAPI file and the place there (reviewer.model.openapi.place)."""
    return place(t, subject, path)


def placed_related(t: Template, subject: str | None, path: Path, label: str) -> Related:
    """A related location, in the template or in the included OpenAPI file it points into
    (named explicitly: the hit itself may be in the other file)."""
    file, where = place(t, subject, path)
    return Related(subject, where, label, file=file or t.file)


def _located(t: Template, rel: Related) -> Related:
    """A related location in the template, located here (`("__line__", line, column)`): a hit
    in another file (an included OpenAPI file) has no template to locate it with."""
    if rel.file not in (None, t.file) or (rel.path and rel.path[0] == "__line__"):
        return rel
    span = t.locate(rel.subject, rel.path)
    return Related(rel.subject, ("__line__", span.line, span.column), rel.label, file=t.file)


def _unread_definitions(t: Template) -> Iterator[Hit]:
    """AR-API-005 variant definition-unread: an API whose definition is a local file (or an
    inline JSON string) that cannot be read; its routes are not judged, and this says why. A
    definition read from S3 or computed at deploy time is not reported: nothing is wrong."""
    for api in t.of_type(*API_TYPES):
        if api.implicit:
            continue
        found = definition(t, api)
        if found is None or found.body is not None or not found.local:
            continue
        what = f" {found.file}" if found.file is not None else ""
        yield Hit(
            api.logical_id,
            found.where,
            f"API {api.logical_id}: its OpenAPI definition{what} cannot be read: "
            f"{found.problem}; the authorization of the routes it declares is not judged",
            variant="definition-unread",
        )


MAX_RELATED_ROUTES = 50  # related locations of one AR-API-005 finding (an API's other routes)


def _same_route(a: Route, b: Route) -> bool:
    """Two declarations of one route of one API (an ANY method covers the others)."""
    return a.path == b.path and (a.method == b.method or "ANY" in (a.method, b.method))


@template_check("AR-API-005")
def route_without_authorizer(ctx: TemplateContext) -> Iterator[Yielded]:
    """One finding per API: its routes anyone can call share the cause (the API puts no
    authorizer in front of them), so the first is the finding and the others related
    locations; a route declared twice (its SAM event and an explicit Method, or the OpenAPI
    definition) is one route."""
    t = ctx.template
    groups: dict[str, list[Route]] = {}
    for route in routes(ctx.repo, t):
        if route.is_options:
            continue
        if route.protocol == "WEBSOCKET" and route.method != "$connect":
            continue
        yield Checked(route.subject)
        if route.auth.kind != NONE:
            continue
        key = route.api.logical_id if route.api is not None else f"?{route.subject}"
        groups.setdefault(key, []).append(route)
    yield from _unread_definitions(t)
    for members in groups.values():
        # the most certain declaration leads (routes() lists explicit resources first)
        primary = min(members, key=lambda r: -r.auth.confidence.rank)
        subject, path = _hit_location(primary)
        others: list[Route] = []
        related: list[Related] = []
        listed: dict[str, set[str]] = {}  # path -> methods of the other routes listed
        for route in members:
            if route is primary:
                continue
            rsubject, rpath = _hit_location(route)
            if _same_route(route, primary):
                label = f"the same route {route.label}, also declared by {_declared_by(t, route)}"
            else:
                methods = listed.setdefault(route.path, set())
                if not (
                    route.method in methods
                    or "ANY" in methods
                    or (route.method == "ANY" and methods)
                ):
                    others.append(route)
                methods.add(route.method)
                label = f"also reachable without an authorizer: {route.label} ({_declared_by(t, route)})"
            if len(related) < MAX_RELATED_ROUTES:  # the message counts them all
                related.append(placed_related(t, rsubject, rpath, label))
        api = primary.api
        file, where = placed(t, subject, path)
        if api is not None and (api.logical_id != subject or file is not None):
            found = definition(t, api) if file is not None else None
            if found is not None:  # the finding is in the included file: where it is included
                related.append(
                    Related(api.logical_id, found.where, f"API {api.logical_id}", file=t.file)
                )
            else:
                related.append(Related(api.logical_id, (), "API", file=t.file))
        if file is not None:  # the hit is in the included file: its related, located here
            related = [_located(t, r) for r in related]
        message = _route_message(primary, t)
        if others:
            count = len(others)
            message += (
                f"; so can {count} more route{'s' if count > 1 else ''} of the API: "
                f"{_labels(others, 4)}"
            )
        yield Hit(
            subject,
            where,
            message,
            confidence=max((r.auth.confidence for r in members), key=lambda c: c.rank),
            related=tuple(related),
            file=file,
            variant="private" if primary.private else None,
        )


# -- AR-API-006 -----------------------------------------------------------------------------------

_ALIASES = {
    "LAMBDA": (TOKEN, REQUEST),
    "CUSTOM": (TOKEN, REQUEST),
    "COGNITO": (COGNITO,),
    "COGNITO_USER_POOL": (COGNITO,),
    "IAM": (AWS_IAM,),
    "SIGV4": (AWS_IAM,),
}


def declared_kinds(names: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for name in names:
        key = str(name).strip().upper().replace("-", "_")
        out.update(_ALIASES.get(key, (key,)))
    return out


def _authorizer_resources(t: Template) -> Iterator[tuple[Resource, str, Path]]:
    for res in t.of_type("AWS::ApiGateway::Authorizer"):
        text = values(t, res.get("Type"))[0].text()
        if text:
            yield res, text.upper(), ("Properties", "Type")
    for res in t.of_type("AWS::ApiGatewayV2::Authorizer"):
        text = values(t, res.get("AuthorizerType"))[0].text()
        if text:
            yield res, text.upper(), ("Properties", "AuthorizerType")


@template_check("AR-API-006")
def undeclared_authorizer_kind(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    declared = declared_kinds(tuple(ctx.profile.authorizers))
    judged = (AWS_IAM, COGNITO, JWT, TOKEN, REQUEST)
    groups: dict[tuple[str, str, Path], list[Route]] = {}
    for route in routes(ctx.repo, t):
        if route.is_options or route.auth.kind not in judged:
            continue
        yield Checked(route.subject)
        if route.auth.kind in declared:
            continue
        if route.auth.kind == AWS_IAM and route.private:
            continue  # IAM on a private API is the internal service-to-service pattern
        origin_subject, origin_path = route.auth.origin
        groups.setdefault((route.auth.kind, origin_subject, origin_path), []).append(route)
    reported: set[tuple[str, Path]] = set()
    for (kind, origin_subject, origin_path), members in groups.items():
        first = members[0]
        api = first.api.logical_id if first.api is not None else "its API"
        if kind == AWS_IAM:
            subject, path = first.auth.subject, first.auth.path
        else:
            subject, path = (
                (origin_subject, origin_path)
                if t.get(origin_subject)
                else (first.auth.subject, first.auth.path)
            )
        reported.add((subject, path))
        count = f"{len(members)} route{'s' if len(members) > 1 else ''}"
        labels = ", ".join(r.label for r in members[:3]) + (", ..." if len(members) > 3 else "")
        file, where = placed(t, subject, path)  # a scheme in an included OpenAPI file: there
        yield Hit(
            subject,
            where,
            f"API {api}: {count} ({labels}) authorized by {KIND_LABELS[kind]}, a kind the "
            f"profile does not declare (declared: {', '.join(sorted(declared)) or 'none'}); this "
            "is a decision record, not a defect: adopt a declared kind or record why this one",
            file=file,
        )
    for res, kind, path in _authorizer_resources(t):
        yield Checked(res.logical_id)
        if kind in declared or (res.logical_id, path) in reported:
            continue
        label = {
            COGNITO: KIND_LABELS[COGNITO],
            JWT: KIND_LABELS[JWT],
            TOKEN: KIND_LABELS[TOKEN],
            REQUEST: KIND_LABELS[REQUEST],
        }.get(kind, kind)
        yield Hit(
            res.logical_id,
            path,
            f"Authorizer {res.logical_id} is {label}, a kind the profile does not declare "
            f"(declared: {', '.join(sorted(declared)) or 'none'}); this is a decision record, "
            "not a defect: adopt a declared kind or record why this one",
        )


# -- AR-API-007 -----------------------------------------------------------------------------------

MAPPING_TYPES = {
    "AWS::ApiGateway::BasePathMapping": "RestApiId",
    "AWS::ApiGateway::BasePathMappingV2": "RestApiId",
    "AWS::ApiGatewayV2::ApiMapping": "ApiId",
}


def _mapped_apis(repo: RepoIndex) -> list[tuple[Template, Resource, tuple[Rendered, ...]]]:
    key = "api:domain_mappings"
    cached: list[tuple[Template, Resource, tuple[Rendered, ...]]] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: list[tuple[Template, Resource, tuple[Rendered, ...]]] = []
    for owner in repo.templates.values():
        for mapping in owner.of_type(*MAPPING_TYPES):
            prop = MAPPING_TYPES[mapping.type]
            out.append((owner, mapping, tuple(render(owner, mapping.get(prop)))))
    repo.cache[key] = out
    return out


TLS_KEY = "layers.data.tls_minimum"
DEPRECATED_BELOW = (1, 2)  # TLS 1.0 and 1.1 are deprecated (RFC 8996)


@dataclass(frozen=True)
class TlsFloor:
    """The TLS floor a custom domain is judged against: the profile's when it declares one,
    else the baseline's (TLS 1.2)."""

    version: tuple[int, ...]
    declared: bool

    @property
    def label(self) -> str:
        return ".".join(str(p) for p in self.version)


def tls_floor(ctx: TemplateContext) -> TlsFloor:
    declared = ctx.profile.declares(TLS_KEY)
    version = protocol_version(ctx.profile.tls_minimum) if declared else None
    return TlsFloor(version or DEPRECATED_BELOW, declared and version is not None)


def _tls_findings(
    t: Template,
    subject: str,
    path: Path,
    node: Any,
    default: str,
    what: str,
    floor: TlsFloor,
) -> Iterator[Hit]:
    tables = tls_tables()
    for v in values(t, node):
        name = default if v.missing else v.text()
        if name is None:
            continue
        policy = tables.apigateway_policy(name)
        if policy is None:
            continue
        version = protocol_version(policy.min)
        if version is None or version >= floor.version:
            continue
        how = (
            f"has SecurityPolicy {name}"
            if not v.missing
            else f"sets no SecurityPolicy (CloudFormation then uses {name})"
        )
        deprecated = version < DEPRECATED_BELOW
        if floor.declared:
            why = f"below the declared minimum TLS {floor.label}"
        else:
            why = "which RFC 8996 deprecates"
        fix = (  # TLS_1_2 meets a floor of 1.2 only; above it, only a TLS 1.3 policy does
            "set SecurityPolicy TLS_1_2 or an enhanced SecurityPolicy_TLS13_* policy"
            if floor.version <= DEPRECATED_BELOW
            else "set an enhanced SecurityPolicy_TLS13_* policy, which REST API domains offer"
        )
        yield Hit(
            subject,
            path,
            with_note(
                f"{what} {how}: clients can still connect with {protocol_label(policy.min)}, "
                f"{why} ({fix})",
                v,
            ),
            confidence=lower_confidence(v.confidence, Confidence.MEDIUM)
            if v.missing
            else v.confidence,
            variant="tls-deprecated" if deprecated else "tls-below-declared",
        )
        return


def _mtls(repo: RepoIndex, owner: Template, node: Any) -> bool:
    """Whether the custom domain a mapping's DomainName points at authenticates clients with
    mutual TLS."""
    found = pointed(
        repo, owner, node, ("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName")
    )
    return found is not None and found[1].has("MutualTlsAuthentication")


@template_check("AR-API-007", cross_file=True)
def domain_weak_tls_or_default_endpoint(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    tables = tls_tables()
    floor = tls_floor(ctx)
    for dom in t.of_type("AWS::ApiGateway::DomainName"):
        yield Checked(dom.logical_id)
        yield from _tls_findings(
            t,
            dom.logical_id,
            ("Properties", "SecurityPolicy"),
            dom.get("SecurityPolicy"),
            tables.apigateway_rest_default,
            f"Custom domain {dom.logical_id}",
            floor,
        )
    for dom in t.of_type("AWS::ApiGatewayV2::DomainName"):
        yield Checked(dom.logical_id)
        configs = dom.get("DomainNameConfigurations")
        if isinstance(configs, list):
            for i, cfg in enumerate(configs):
                if isinstance(cfg, Mapping):
                    yield from _tls_findings(
                        t,
                        dom.logical_id,
                        ("Properties", "DomainNameConfigurations", i, "SecurityPolicy"),
                        cfg.get("SecurityPolicy", MISSING),
                        tables.apigateway_http_default,
                        f"Custom domain {dom.logical_id}",
                        floor,
                    )
    apis = [
        a for a in t.of_type(*REST_API_TYPES, *HTTP_API_TYPES) if not a.implicit or a.has("Domain")
    ]
    for api in apis:
        domain = api.get("Domain")
        sam_domain = isinstance(domain, Mapping)
        if sam_domain and isinstance(domain, Mapping):
            default = (
                tables.apigateway_rest_default
                if api.type == "AWS::Serverless::Api"
                else tables.apigateway_http_default
            )
            yield from _tls_findings(
                t,
                api.logical_id,
                ("Properties", "Domain", "SecurityPolicy"),
                domain.get("SecurityPolicy", MISSING),
                default,
                f"The custom domain of SAM API {api.logical_id}",
                floor,
            )
        mapping: tuple[Template, Resource] | None = None
        if not sam_domain:
            for owner, res, renderings in _mapped_apis(ctx.repo):
                if any(r.points_at(t.file, api.logical_id) for r in renderings):
                    mapping = (owner, res)
                    break
            if mapping is None:
                continue
        if is_private(t, api):
            continue
        yield Checked(api.logical_id)
        enabled = _execute_api_disabled(t, api)
        if enabled is None:
            continue
        if mapping is None:
            via = "its SAM Domain block"
            mtls = isinstance(domain, Mapping) and "MutualTlsAuthentication" in domain
        else:
            owner, res = mapping
            via = f"{res.type.split('::')[-1]} {res.logical_id}"
            mtls = _mtls(ctx.repo, owner, res.get("DomainName"))
        state = (
            "leaves DisableExecuteApiEndpoint unset"
            if enabled.missing
            else "has DisableExecuteApiEndpoint false"
        )
        if mtls:
            effect = (
                "the default https://ID.execute-api.REGION.amazonaws.com endpoint still answers "
                "beside it without asking for a client certificate, so callers skip the "
                "domain's mutual TLS"
            )
        else:
            effect = (
                "the default https://ID.execute-api.REGION.amazonaws.com endpoint still answers "
                "beside it (the same stages, authorizers and WAF; clients can bypass only what "
                "is attached to the domain, such as its TLS policy or a base-path layout)"
            )
        yield Hit(
            api.logical_id,
            ("Properties", "DisableExecuteApiEndpoint"),
            with_note(
                f"API {api.logical_id} is served on a custom domain ({via}) but {state}: {effect}",
                enabled,
            ),
            confidence=lower_confidence(Confidence.MEDIUM, enabled.confidence)
            if not sam_domain
            else enabled.confidence,
            variant="mtls-bypass" if mtls else "default-endpoint",
        )


# -- AR-API-008 -----------------------------------------------------------------------------------

AUTH_ACTIONS = ("authenticate-cognito", "authenticate-oidc")


def _forwards(t: Template, actions: Any) -> tuple[bool, bool]:
    """(forwards to a target group, authenticates before it)"""
    forward = False
    authenticated = False
    items: list[Any] = []
    if isinstance(actions, list):
        items = actions
    else:
        for v in values(t, actions):
            if isinstance(v.value, list):
                items = v.value
                break
    for action in items:
        if not isinstance(action, Mapping):
            continue
        kind = (values(t, action.get("Type", MISSING))[0].text() or "").lower()
        if kind in AUTH_ACTIONS:
            authenticated = True
        elif kind == "forward":
            forward = True
    return forward, authenticated


def _internet_facing_alb(
    repo: RepoIndex, t: Template, node: Any
) -> tuple[Template, Resource] | None:
    found = pointed(repo, t, node, ("AWS::ElasticLoadBalancingV2::LoadBalancer",))
    if found is None:
        return None
    owner, lb = found
    lb_type = values(owner, lb.get("Type"))[0]
    if not lb_type.missing and (lb_type.text() or "").lower() != "application":
        return None
    scheme = values(owner, lb.get("Scheme"))
    if any(not s.known for s in scheme):
        return None  # the scheme is not known here: no guess
    if all(not s.missing and (s.text() or "").lower() == "internal" for s in scheme):
        return None
    return found


_API_TYPES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::", "AWS::Serverless::Api", "AWS::AppSync::")


def _behind_an_api(repo: RepoIndex, t: Template, url: Resource) -> bool | None:
    """Whether the function a Function URL serves is also reached through an API in this
    template: a SAM Api/HttpApi event, or a reference to it from an API Gateway, AppSync or
    Lambda permission resource for apigateway.amazonaws.com. Only then does the URL bypass
    an edge; otherwise it is the function's only way in. None when the function is not in
    this template (a parameter, an import): what else serves it is not known here."""
    target = url.source
    if target is None:
        found = pointed(repo, t, url.get("TargetFunctionArn"), LAMBDA_TYPES)
        if found is None or found[0] is not t:
            return None
        target = found[1].logical_id
    function = t.get(target)
    if function is not None:
        events = function.get("Events")
        if isinstance(events, Mapping) and any(
            isinstance(e, Mapping) and e.get("Type") in ("Api", "HttpApi") for e in events.values()
        ):
            return True
    for edge in t.incoming(target):
        source = t.get(edge.source)
        if source is None:
            continue
        if source.type.startswith(_API_TYPES):
            return True
        if source.type == "AWS::Lambda::Permission":
            principal = values(t, source.get("Principal"))
            if any("apigateway" in (v.text() or "") for v in principal):
                return True
    return False


@template_check("AR-API-008", cross_file=True)
def entry_point_bypassing_edge(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    repo = ctx.repo
    for url in t.of_type("AWS::Lambda::Url"):
        yield Checked(url.logical_id)
        for v in values(t, url.get("AuthType")):
            if v.text() != "NONE":
                continue
            who = (
                f"SAM function {url.source} (FunctionUrlConfig)"
                if url.implicit
                else f"Function URL {url.logical_id}"
            )
            behind = _behind_an_api(repo, t, url)
            confidence = v.confidence
            if behind is None:
                said = (
                    f"{who} has AuthType NONE: anyone with the URL can invoke the function; no "
                    "authorizer, WAF or throttling applies to calls through the URL"
                )
                variant = "function-url-only"
                confidence = lower_confidence(Confidence.MEDIUM, v.confidence)
            elif behind:
                said = (
                    f"{who} has AuthType NONE: anyone with the URL can invoke the function, "
                    "bypassing the API edge in front of it (WAF, throttling, authorizers)"
                )
                variant = "function-url"
            else:
                said = (
                    f"{who} has AuthType NONE: anyone with the URL can invoke the function, its "
                    "only way in; no authorizer, WAF or throttling stands in front of it, so "
                    "authenticating callers and limiting their rate is left to its code and its "
                    "reserved concurrency"
                )
                variant = "function-url-only"
            yield Hit(
                url.logical_id,
                ("Properties", "AuthType"),
                with_note(said, v),
                confidence=confidence,
                variant=variant,
            )
            break
    listeners: list[tuple[Resource, Path, Resource, Template, Resource]] = []
    for listener in t.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        alb = _internet_facing_alb(repo, t, listener.get("LoadBalancerArn"))
        if alb is None:
            continue
        listeners.append((listener, ("Properties", "DefaultActions"), listener, alb[0], alb[1]))
    by_listener = {entry[0].logical_id: entry for entry in listeners}
    for rule in t.of_type("AWS::ElasticLoadBalancingV2::ListenerRule"):
        found = pointed(
            repo, t, rule.get("ListenerArn"), ("AWS::ElasticLoadBalancingV2::Listener",)
        )
        if found is None or found[0] is not t or found[1].logical_id not in by_listener:
            continue
        _l, _p, listener, lb_tpl, lb = by_listener[found[1].logical_id]
        listeners.append((rule, ("Properties", "Actions"), listener, lb_tpl, lb))
    for res, path, listener, lb_tpl, lb in listeners:
        yield Checked(res.logical_id)
        forward, authenticated = _forwards(t, res.get(*path[1:]))
        if not forward or authenticated:
            continue
        if associated(repo, lb_tpl.file, lb.logical_id) is not None:
            continue
        what = (
            f"Listener {res.logical_id}"
            if res is listener
            else f"Listener rule {res.logical_id} (listener {listener.logical_id})"
        )
        yield Hit(
            res.logical_id,
            path,
            f"{what} of internet-facing load balancer {lb.logical_id} forwards to a target group "
            "with no authenticate-cognito or authenticate-oidc action before the forward, and no "
            "WAF web ACL is associated with the load balancer: anyone on the internet reaches "
            "its targets with no authentication or request filtering in front of them",
            related=(Related(lb.logical_id, (), "load balancer"),) if lb_tpl is t else (),
            variant="load-balancer",
        )


# -- AR-API-009 -----------------------------------------------------------------------------------


@template_check("AR-API-009", cross_file=True)
def appsync_weakly_guarded(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for api in t.of_type("AWS::AppSync::GraphQLApi"):
        aid = api.logical_id
        yield Checked(aid)
        auth = values(t, api.get("AuthenticationType"))
        primary = next((v for v in auth if v.text() == "API_KEY"), None)
        if primary is not None:
            others: list[str] = []
            extra = api.get("AdditionalAuthenticationProviders")
            for v in values(t, extra):
                if isinstance(v.value, list):
                    for provider in v.value:
                        if isinstance(provider, Mapping):
                            kind = values(t, provider.get("AuthenticationType", MISSING))[0].text()
                            if kind and kind != "API_KEY":
                                others.append(kind)
            if not others:
                yield Hit(
                    aid,
                    ("Properties", "AuthenticationType"),
                    with_note(
                        f"AppSync API {aid} is authorized only by API_KEY: a key shipped to "
                        "clients identifies no user, so resolvers cannot authorize per caller",
                        primary,
                    ),
                    confidence=primary.confidence,
                    variant="api-key-only",
                )
        for v in values(t, api.get("LogConfig")):
            if v.missing:
                yield Hit(
                    aid,
                    ("Properties", "LogConfig"),
                    with_note(
                        f"AppSync API {aid} has no LogConfig (FieldLogLevel, "
                        "CloudWatchLogsRoleArn): requests and resolver errors leave no record",
                        v,
                    ),
                    confidence=v.confidence,
                    variant="no-logging",
                )
                break
        visibility = [v.text() for v in values(t, api.get("Visibility"))]
        if all(v == "PRIVATE" for v in visibility):
            continue
        if associated(ctx.repo, t.file, aid) is not None:
            continue
        declared = _declared_waf(ctx)
        yield Hit(
            aid,
            ("Properties", "Visibility"),
            f"AppSync API {aid} is public (Visibility GLOBAL, the default) and no "
            "AWS::WAFv2::WebACLAssociation resolves to its ARN: queries reach the resolvers "
            "without WAF inspection or rate limiting"
            + (
                f", although the profile declares a WAF at the API layer ({declared})"
                if declared
                else ""
            ),
            variant="no-waf",
            persona=Persona.REGULAR if declared else None,
        )


CHECKS: tuple[Check, ...] = (
    stage_without_waf,
    web_acl_without_baseline_rules,
    api_without_throttling,
    api_stage_without_access_logs,
    route_without_authorizer,
    undeclared_authorizer_kind,
    domain_weak_tls_or_default_endpoint,
    entry_point_bypassing_edge,
    appsync_weakly_guarded,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
