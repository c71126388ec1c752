"""DRF: drift between the repository and deployed stacks (live mode, `scan --aws`).

The engine loads each deployed stack's processed template as a template named
`aws://REGION/STACK` (module `aws://REGION`) into an index of its own (the account), and
`reviewer.aws.live.attach` records on that index's `cache["aws"]` a `LiveFacts`: for every deployed
stack, its ListStackResources listing, its parameter values and the repository template it was
matched with, and the repository's index. The DRF rules are template checks that act on the
deployed templates only: each compares its deployed template with the matched repository
template, so findings name the stack (`aws://REGION/STACK`) and a logical id, and a stack with no
repository counterpart is not compared. See docs/adr/0002-live-aws-review.md.

Both sides go through the same SAM model. moto returns a SAM template as written and the model
expands it exactly as it expands the repository's; real AWS returns it expanded
(TemplateStage=Processed), so ids SAM derives with a hash (`<Fn>Version<hash>`,
`<Api>Deployment<hash>`, `<Layer><hash>`), ids it generates that the model does not name, and
SAM resources that vanish into what they generate (connectors) are matched with that in mind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.types import Checked, Confidence, Hit, Severity
from reviewer.model.sam import SAM_TO_CFN

if TYPE_CHECKING:
    from reviewer.model.repo import RepoIndex
    from reviewer.model.template import Template

LIVE_PREFIX = "aws://"


@dataclass(frozen=True)
class LiveStack:
    """A deployed stack as the DRF rules see it."""

    file: str  # aws://REGION/STACK
    region: str
    name: str
    resources: Mapping[str, str] = field(default_factory=dict)  # ListStackResources: id -> type
    parameters: Mapping[str, str] = field(default_factory=dict)
    repo_file: str | None = None  # the repository template matched with this stack
    matched_by: str | None = None  # "mapping" | "samconfig" | "name"


@dataclass(frozen=True)
class LiveFacts:
    """What `reviewer.aws.live.attach` puts on the deployed templates' index (`cache["aws"]`)."""

    stacks: Mapping[str, LiveStack] = field(default_factory=dict)  # by file
    repo: RepoIndex | None = None  # the repository's index
    # the registered checks, passed in (reviewer.checks lists this module among them): AR-DRF-004
    # runs the other layers' template rules on both sides of each pair
    checks: tuple[Check, ...] = ()


def is_live(file: str) -> bool:
    """A finding or template from a deployed stack (kept out of SARIF)."""
    return file.startswith(LIVE_PREFIX)


# -- SAM in mind ------------------------------------------------------------------------------

_SAM_TO_CFN = {
    **SAM_TO_CFN,
    "AWS::Serverless::WebSocketApi": "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::LayerVersion": "AWS::Lambda::LayerVersion",  # under a hashed id
}
# SAM resources whose logical id does not survive the transform (they become what they generate)
_VANISHING = {"AWS::Serverless::Connector"}
# Ids SAM generates once per template, not prefixed by the resource that caused them
_SAM_GLOBAL_PREFIXES = (
    "ServerlessRestApi",
    "ServerlessHttpApi",
    "ServerlessWebSocketApi",
    "ServerlessDeploymentApplication",
    "CodeDeployServiceRole",
    "ServerlessUsagePlan",
    "ServerlessApiKey",
)
_SAM_HASH = re.compile(r"[0-9a-f]{10}")
_CUSTOM = "AWS::CloudFormation::CustomResource"


def cfn_type(rtype: str) -> str:
    """The CloudFormation type a resource type is deployed as (SAM types become theirs; custom
    resources compare as one type)."""
    if rtype.startswith("Custom::"):
        return _CUSTOM
    return _SAM_TO_CFN.get(rtype, rtype)


@dataclass
class Comparison:
    only_repo: list[str] = field(default_factory=list)
    only_deployed: list[str] = field(default_factory=list)
    both: list[tuple[str, str]] = field(default_factory=list)  # (repo id, deployed id)
    expected_absent: list[str] = field(default_factory=list)  # repo ids whose Condition is false


@dataclass(frozen=True)
class _Pair:
    repo: Template
    deployed: Template
    live: LiveStack
    index: RepoIndex  # the repository's


def _pair(ctx: TemplateContext) -> _Pair | None:
    if not is_live(ctx.template.file):
        return None
    facts = ctx.repo.cache.get("aws")
    if not isinstance(facts, LiveFacts):
        return None
    live = facts.stacks.get(ctx.template.file)
    if live is None or live.repo_file is None or facts.repo is None:
        return None
    repo = facts.repo.templates.get(live.repo_file)
    if repo is None:
        return None
    return _Pair(repo, ctx.template, live, facts.repo)


def compare(pair: _Pair, cache: dict[str, Any]) -> Comparison:
    key = f"drf:{pair.deployed.file}"
    found = cache.get(key)
    if isinstance(found, Comparison):
        return found
    out = _compare(pair)
    cache[key] = out
    return out


def _compared(ctx: TemplateContext) -> tuple[_Pair, Comparison] | None:
    """The deployed stack `ctx.template` paired with its repository template, and how their
    resources compare (None when the template is no deployed stack of a repository template)."""
    pair = _pair(ctx)
    if pair is None:
        return None
    return pair, compare(pair, ctx.repo.cache)


def _compare(pair: _Pair) -> Comparison:
    repo, deployed, live = pair.repo, pair.deployed, pair.live
    # deployed: the processed template's resources and what ListStackResources lists (moto
    # lists nothing for the types it does not model, so the template is the reference)
    deployed_ids: dict[str, str] = {rid: res.type for rid, res in deployed.resources.items()}
    for rid, rtype in live.resources.items():
        if rid and rid not in deployed_ids:
            deployed_ids[rid] = rtype
    expanded = repo.is_sam and not deployed.is_sam  # real AWS: the deployed side is processed
    hashed = {d[:-10]: d for d in deployed_ids if len(d) > 10 and _SAM_HASH.fullmatch(d[-10:])}
    out = Comparison()
    matched: set[str] = set()
    for rid, res in repo.resources.items():
        if rid in deployed_ids:
            out.both.append((rid, rid))
            matched.add(rid)
            continue
        if expanded:
            if rid in hashed:
                out.both.append((rid, hashed[rid]))
                matched.add(hashed[rid])
                continue
            if res.type in _VANISHING:
                continue
        if res.condition and condition_value(repo, res.condition, live.parameters) is False:
            out.expected_absent.append(rid)
            continue
        out.only_repo.append(rid)
    sam_sources = tuple(
        rid for rid, res in repo.resources.items() if res.type.startswith("AWS::Serverless::")
    )
    for did in deployed_ids:
        if did in matched or did in repo.resources:
            continue
        if expanded and (
            did.startswith(_SAM_GLOBAL_PREFIXES) or any(did.startswith(s) for s in sam_sources)
        ):
            continue  # generated by SAM from a repository resource the model does not expand so
        out.only_deployed.append(did)
    return out


# -- conditions with the deployed stack's parameter values ------------------------------------


def condition_value(
    template: Template, name: str, parameters: Mapping[str, str], depth: int = 0
) -> bool | None:
    """A named condition of `template` evaluated with `parameters` (else the template's own
    values); None when it cannot be decided."""
    if depth > 20:
        return None
    return _condition(template, template.conditions.get(name), parameters, depth + 1)


def _condition(
    template: Template, node: Any, parameters: Mapping[str, str], depth: int
) -> bool | None:
    if isinstance(node, bool):
        return node
    if not isinstance(node, Mapping) or len(node) != 1:
        return None
    key, arg = next(iter(node.items()))
    if key == "Condition" and isinstance(arg, str):
        return condition_value(template, arg, parameters, depth)
    if key == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
        inner = _condition(template, arg[0], parameters, depth + 1)
        return None if inner is None else not inner
    if key in ("Fn::And", "Fn::Or") and isinstance(arg, list):
        values = [_condition(template, item, parameters, depth + 1) for item in arg]
        if key == "Fn::And":
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
        left, right = (_scalar(template, item, parameters) for item in arg)
        if left is None or right is None:
            return None
        return left == right
    return None


def _scalar(template: Template, node: Any, parameters: Mapping[str, str]) -> str | None:
    from reviewer.model.resolve import first

    if isinstance(node, Mapping) and len(node) == 1 and isinstance(node.get("Ref"), str):
        name = node["Ref"]
        if name in parameters:
            return str(parameters[name])
    value = first(template, node).value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


# -- the rules --------------------------------------------------------------------------------


def _where(pair: _Pair) -> str:
    return f"the deployed stack {pair.live.name} in {pair.live.region}"


def _type_of(pair: _Pair, rid: str) -> str:
    listed = pair.live.resources.get(rid)
    if listed:
        return listed
    res = pair.deployed.get(rid)
    return res.type if res is not None else ""


@template_check("AR-DRF-001", cross_file=True)
def resource_not_deployed(ctx: TemplateContext) -> Iterator[Yielded]:
    if (compared := _compared(ctx)) is None:
        return
    pair, cmp = compared
    yield from map(Checked, [rid for rid, _ in cmp.both] + cmp.expected_absent)
    for rid in cmp.only_repo:
        res = pair.repo.resources[rid]
        line = pair.repo.locate(rid, ()).line
        what = "generated by SAM from " + str(res.source) if res.implicit else "declared"
        yield Hit(
            rid,
            (),
            f"{rid} ({res.type}) is {what} in {pair.repo.file} (line {line}) but {_where(pair)} "
            "has no such resource: the change is not deployed, or the stack was deployed from "
            "another template",
            confidence=Confidence.MEDIUM if res.implicit else None,
        )


@template_check("AR-DRF-002", cross_file=True)
def resource_not_in_repository(ctx: TemplateContext) -> Iterator[Yielded]:
    if (compared := _compared(ctx)) is None:
        return
    pair, cmp = compared
    yield from map(Checked, [did for _, did in cmp.both])
    for did in cmp.only_deployed:
        yield Hit(
            did,
            (),
            f"{did} ({_type_of(pair, did) or 'unknown type'}) is in {_where(pair)} but not in "
            f"{pair.repo.file}: it was added outside the repository (by hand, another tool or "
            "another template), and the next deployment from the repository removes it",
        )


@template_check("AR-DRF-003", cross_file=True)
def resource_type_differs(ctx: TemplateContext) -> Iterator[Yielded]:
    if (compared := _compared(ctx)) is None:
        return
    pair, cmp = compared
    for rid, did in cmp.both:
        yield Checked(did)
        repo_type = pair.repo.resources[rid].type
        deployed_type = _type_of(pair, did)
        if not repo_type or not deployed_type or cfn_type(repo_type) == cfn_type(deployed_type):
            continue
        yield Hit(
            did,
            ("Type",),
            f"{did} is {repo_type} in {pair.repo.file} but {deployed_type} in {_where(pair)}: "
            "CloudFormation cannot change a resource's type in place, so the next deployment "
            "fails on it or replaces it",
        )


def _inner_hits(
    ctx: TemplateContext, template: Template, index: RepoIndex
) -> dict[tuple[str, str | None], Hit]:
    """(rule, subject) -> the first hit of every enabled template rule of another layer, run
    on `template` as part of `index` (the repository's or the account's)."""
    facts = ctx.repo.cache.get("aws")
    checks = facts.checks if isinstance(facts, LiveFacts) else ()
    key = f"drf:inner:{template.file}"
    cached = ctx.repo.cache.get(key)
    if isinstance(cached, dict):
        return cached
    inner_ctx = TemplateContext(template, ctx.profile, index, ctx.today)
    out: dict[tuple[str, str | None], Hit] = {}
    for check in checks:
        if check.kind != "template" or check.rule_id.startswith("AR-DRF-"):
            continue
        if not ctx.profile.enabled(check.rule_id):
            continue
        try:
            hits = [h for h in check.run(inner_ctx) if isinstance(h, Hit)]
        except Exception:  # a crashing rule is AR-MOD-005 in the engine's own run
            continue
        for hit in hits:
            out.setdefault((check.rule_id, hit.subject), hit)
    ctx.repo.cache[key] = out
    return out


@template_check("AR-DRF-004", cross_file=True)
def protection_missing_when_deployed(ctx: TemplateContext) -> Iterator[Yielded]:
    from reviewer.checks.catalogue import load_catalogue

    if (compared := _compared(ctx)) is None:
        return
    pair, cmp = compared
    deployed_to_repo = {did: rid for rid, did in cmp.both}
    repo_hits = _inner_hits(ctx, pair.repo, pair.index)
    deployed_hits = _inner_hits(ctx, pair.deployed, ctx.repo)
    catalogue = load_catalogue()
    for did, _ in cmp.both:
        yield Checked(did)
    for (rule_id, subject), hit in sorted(
        deployed_hits.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        meta = catalogue.get(rule_id)
        base = ctx.profile.severity_for(rule_id) or (meta.severity if meta else None)
        if base is None or base is Severity.INFO:
            continue  # decision records, not protections
        if subject is None:
            repo_subject: str | None = None
        elif subject in deployed_to_repo:
            repo_subject = deployed_to_repo[subject]
            if cfn_type(pair.repo.resources[repo_subject].type) != cfn_type(
                _type_of(pair, subject)
            ):
                continue  # another kind of resource: AR-DRF-003's business
        else:
            continue  # not in the repository: AR-DRF-002's business
        if (rule_id, repo_subject) in repo_hits:
            continue  # fails in both: the repository's own finding says so
        title = meta.title if meta else rule_id
        confidence = Confidence.MEDIUM
        if hit.confidence is not None and hit.confidence.rank < confidence.rank:
            confidence = hit.confidence
        yield Hit(
            subject,
            hit.path,
            f"{rule_id} ({title}) passes for {repo_subject or pair.repo.file} in "
            f"{pair.repo.file} but fails in {_where(pair)}: {hit.message}",
            confidence=confidence,
        )


CHECKS: tuple[Check, ...] = (
    resource_not_deployed,
    resource_not_in_repository,
    resource_type_differs,
    protection_missing_when_deployed,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
