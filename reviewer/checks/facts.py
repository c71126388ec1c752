"""Shared semantic facts for checks: what a function's timeout is, which function a mapping
invokes, which queue it reads, which functions sit behind an API, which queues are failure
targets. Each fact carries the path it was read from and how certain it is."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from reviewer.core.types import Confidence, Hit, Path
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import NOVALUE, Outcome, RefTo, Unresolved, number, resolve, targets
from reviewer.model.template import MISSING, Resource, Template

LAMBDA_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
DEFAULT_TIMEOUT_S = 3.0
DEFAULT_MEMORY_MB = 128.0
DEFAULT_VISIBILITY_S = 30.0


def confidence_of(outcome: Outcome) -> Confidence:
    if not outcome.known:
        return Confidence.LOW
    if outcome.conditions or outcome.assumed:
        return Confidence.MEDIUM
    return Confidence.HIGH


@dataclass(frozen=True)
class Number:
    """A numeric setting: its value, where it is written, and how sure we are."""

    value: float | None
    path: Path
    confidence: Confidence
    explicit: bool
    note: str = ""


def numeric(template: Template, res: Resource, name: str, default: float) -> Number:
    """The largest possible value of a numeric property (all Fn::If branches considered)."""
    path: Path = ("Properties", name)
    node = res.get(name)
    if node is MISSING:
        return Number(
            default, path, Confidence.HIGH, False, f"{name} not set (default {default:g})"
        )
    best: Number | None = None
    for outcome in resolve(template, node):
        if outcome.value is NOVALUE:
            cand = Number(default, path, Confidence.MEDIUM, False, "AWS::NoValue branch")
        else:
            value = number(outcome.value)
            if value is None:
                reason = (
                    outcome.value.reason
                    if isinstance(outcome.value, Unresolved)
                    else "not a number"
                )
                cand = Number(None, path, Confidence.LOW, True, reason)
            else:
                note = ""
                if outcome.conditions:
                    note = "when " + " and ".join(outcome.conditions)
                elif outcome.assumed:
                    note = "from a parameter default"
                cand = Number(value, path, confidence_of(outcome), True, note)
        if best is None or (cand.value or -1) > (best.value or -1):
            best = cand
    return best or Number(None, path, Confidence.LOW, True, "unknown")


def function_timeout(template: Template, fn: Resource) -> Number:
    return numeric(template, fn, "Timeout", DEFAULT_TIMEOUT_S)


_Branch = TypeVar("_Branch")


def property_hits(
    t: Template,
    res: Resource,
    prop: str,
    unset: str,
    follow: Callable[[Template, Resource, str], Iterable[_Branch]],
    judge: Callable[[Resource, _Branch], Hit | None],
    *,
    first: bool = False,
) -> Iterator[Hit]:
    """The findings on a property a resource should write. When `res` does not write `prop`:
    one hit at ("Properties", prop) with the message `unset`. When it does: the hits `judge`
    makes of the branches `follow(t, res, prop)` gives (with `first`, the first hit only)."""
    if not res.has(prop):
        yield Hit(res.logical_id, ("Properties", prop), unset)
        return
    for branch in follow(t, res, prop):
        hit = judge(res, branch)
        if hit is None:
            continue
        yield hit
        if first:
            return


def locate_resource(repo: RepoIndex, ref: RefTo) -> tuple[Template, Resource] | None:
    template = repo.template(ref.file)
    if template is None:
        return None
    res = template.get(ref.target)
    if res is None:
        return None
    return template, res


def pointed(
    repo: RepoIndex, template: Template, node: Any, types: tuple[str, ...]
) -> tuple[Template, Resource] | None:
    """The resource of one of `types` that a value points at (Ref, GetAtt, Sub, ImportValue,
    aliases and nested-stack parameters followed)."""
    if node is MISSING or node is None:
        return None
    for ref in targets(template, node):
        found = locate_resource(repo, ref)
        if found is None:
            continue
        owner, res = found
        if res.type in types:
            return owner, res
        if res.type == "AWS::Lambda::Alias" and any(t in LAMBDA_TYPES for t in types):
            return pointed(repo, owner, res.get("FunctionName"), types)
        if res.type == "AWS::Lambda::Version" and any(t in LAMBDA_TYPES for t in types):
            return pointed(repo, owner, res.get("FunctionName"), types)
    return None


# -- event source mappings ---------------------------------------------------------------------


# -- API integrations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Integration:
    kind: str  # REST | HTTP
    subject: str  # resource holding the integration (method, integration, or the function)
    path: Path
    function: Resource
    timeout_ms: float | None
    timeout_path: Path | None


def api_integrations(repo: RepoIndex, template: Template) -> Iterator[Integration]:
    for method in template.of_type("AWS::ApiGateway::Method"):
        integ = method.get("Integration")
        if not isinstance(integ, Mapping):
            continue
        found = pointed(repo, template, integ.get("Uri"), LAMBDA_TYPES)
        if found is None or found[0] is not template:
            continue
        timeout = (
            number(resolve(template, integ.get("TimeoutInMillis"))[0].value)
            if "TimeoutInMillis" in integ
            else None
        )
        yield Integration(
            "REST",
            method.logical_id,
            ("Properties", "Integration", "Uri"),
            found[1],
            timeout,
            ("Properties", "Integration", "TimeoutInMillis")
            if "TimeoutInMillis" in integ
            else None,
        )
    for integ_res in template.of_type("AWS::ApiGatewayV2::Integration"):
        found = pointed(repo, template, integ_res.get("IntegrationUri"), LAMBDA_TYPES)
        if found is None or found[0] is not template:
            continue
        api = pointed(repo, template, integ_res.get("ApiId"), ("AWS::ApiGatewayV2::Api",))
        if api is not None and api[1].get("ProtocolType") == "WEBSOCKET":
            continue
        timeout = (
            number(resolve(template, integ_res.get("TimeoutInMillis"))[0].value)
            if integ_res.has("TimeoutInMillis")
            else None
        )
        yield Integration(
            "HTTP",
            integ_res.logical_id,
            ("Properties", "IntegrationUri"),
            found[1],
            timeout,
            ("Properties", "TimeoutInMillis") if integ_res.has("TimeoutInMillis") else None,
        )
    for fn in template.of_type("AWS::Serverless::Function"):
        events = fn.get("Events")
        if not isinstance(events, Mapping):
            continue
        for name, event in events.items():
            if not isinstance(event, Mapping) or event.get("Type") not in ("Api", "HttpApi"):
                continue
            props = event.get("Properties")
            props = props if isinstance(props, Mapping) else {}
            timeout = (
                number(resolve(template, props.get("TimeoutInMillis"))[0].value)
                if "TimeoutInMillis" in props
                else None
            )
            path: Path = ("Properties", "Events", str(name))
            yield Integration(
                "REST" if event.get("Type") == "Api" else "HTTP",
                fn.logical_id,
                path,
                fn,
                timeout,
                (*path, "Properties", "TimeoutInMillis") if "TimeoutInMillis" in props else None,
            )


# -- failure targets ---------------------------------------------------------------------------


def _json_or_node(node: Any) -> Any:
    if isinstance(node, str):
        try:
            return json.loads(node)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return node
    return node


def failure_target_nodes(template: Template) -> Iterator[tuple[Resource, Any]]:
    """(resource, node) pairs whose node names a failure destination (DLQ / OnFailure)."""
    for res in template:
        t = res.type
        if t == "AWS::SQS::Queue":
            redrive = _json_or_node(res.get("RedrivePolicy"))
            if isinstance(redrive, Mapping):
                yield res, redrive.get("deadLetterTargetArn", MISSING)
        elif t == "AWS::Lambda::Function":
            yield res, res.get("DeadLetterConfig", "TargetArn")
        elif t == "AWS::Serverless::Function":
            yield res, res.get("DeadLetterQueue", "TargetArn")
        elif t == "AWS::Events::Rule":
            tgts = res.get("Targets")
            if isinstance(tgts, list):
                for tgt in tgts:
                    if isinstance(tgt, Mapping):
                        dlq = tgt.get("DeadLetterConfig")
                        if isinstance(dlq, Mapping):
                            yield res, dlq.get("Arn", MISSING)
        elif t == "AWS::Scheduler::Schedule":
            yield res, res.get("Target", "DeadLetterConfig", "Arn")
        elif t == "AWS::SNS::Subscription":
            redrive = _json_or_node(res.get("RedrivePolicy"))
            if isinstance(redrive, Mapping):
                yield res, redrive.get("deadLetterTargetArn", MISSING)
        elif t in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
            yield res, res.get("DestinationConfig", "OnFailure", "Destination")
        elif t == "AWS::Pipes::Pipe":
            yield res, res.get("SourceParameters", "SqsQueueParameters", "DeadLetterConfig", "Arn")
            for key in ("DynamoDBStreamParameters", "KinesisStreamParameters"):
                yield res, res.get("SourceParameters", key, "DeadLetterConfig", "Arn")


# -- identity policies -------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDoc:
    resource: Resource
    path: Path  # to the document (mapping holding Statement)
    document: Mapping[str, Any]


IDENTITY_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
)


@dataclass(frozen=True)
class Statement:
    path: Path
    node: Mapping[str, Any]
    conditions: tuple[str, ...]


def statements(template: Template, doc: PolicyDoc) -> Iterator[Statement]:
    body = doc.document.get("Statement")
    items: list[tuple[Path, Any]]
    if isinstance(body, list):
        items = [((*doc.path, "Statement", i), s) for i, s in enumerate(body)]
    else:
        items = [((*doc.path, "Statement"), body)]
    for path, node in items:
        for outcome in resolve(template, node):
            if isinstance(outcome.value, Mapping):
                yield Statement(path, outcome.value, outcome.conditions)


def as_list(template: Template, node: Any) -> tuple[list[Any], tuple[str, ...]]:
    """A string-or-list value resolved to a flat list, with the conditions involved."""
    conditions: list[str] = []
    out: list[Any] = []
    for outcome in resolve(template, node):
        conditions.extend(c for c in outcome.conditions if c not in conditions)
        value = outcome.value
        if isinstance(value, list):
            out.extend(value)
        elif value is not NOVALUE:
            out.append(value)
    return out, tuple(conditions)
