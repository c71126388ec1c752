"""Relationship edges of the model, as custom rules name them, across every template.

Each kind is derived from the model through the helpers the built-in checks use (never by
calling a built-in check):

* ``event-source``: an event source mapping from a queue, stream or table to the function that
  reads it (reviewer.checks.facts.pointed on EventSourceArn and FunctionName).
* ``invokes``: a resource that invokes a function (an API method or integration, an EventBridge
  rule or schedule, an SNS subscription or topic, an S3 notification, a permission, a URL).
* ``redrive``: a resource that sends its failures to a dead-letter queue or OnFailure
  destination (reviewer.checks.evt.failure_sources for queues; reviewer.checks.facts
  failure_target_nodes otherwise).
* ``waf``: a WAF web ACL protecting a resource (reviewer.checks.edge associations, CloudFront
  WebACLId).
* ``alarm-on``: a CloudWatch alarm watching a resource through the dimension the service
  really publishes (reviewer.checks.alarms).
* ``reads`` / ``writes``: an identity policy (of a function, its role, a policy attached to the
  role, SAM policy templates) that allows reading / writing a resource.

Direction ``out`` goes from the subject along the edge (a queue's event-source edge leads to its
consumers), ``in`` comes to it (a function's event-source edge comes from its queues). A peer
carries the conditions under which the edge exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.checks.alarms import (
    Watched,
    alarms_naming,
    points_at,
    same_text,
    text_of,
    watched_metrics,
)
from reviewer.checks.edge import associations_naming, waf_associations
from reviewer.checks.evt import failure_sources
from reviewer.checks.facts import LAMBDA_TYPES, failure_target_nodes, locate_resource, pointed
from reviewer.checks.iam import identity_docs, leaves, statements
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import RefTo, targets
from reviewer.model.template import MISSING, Resource, Template

from .values import Work

EVENT_SOURCE_TYPES = (
    "AWS::SQS::Queue",
    "AWS::Kinesis::Stream",
    "AWS::DynamoDB::Table",
    "AWS::MSK::Cluster",
    "AWS::AmazonMQ::Broker",
    "AWS::DocDB::DBCluster",
)
ROLE = "AWS::IAM::Role"
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")

# (namespace, dimension, attribute a dimension value points at, name property) per type
ALARM_DIMENSIONS: dict[str, tuple[str, str, str | None, str | None]] = {
    "AWS::SQS::Queue": ("AWS/SQS", "QueueName", "QueueName", "QueueName"),
    "AWS::Lambda::Function": ("AWS/Lambda", "FunctionName", None, "FunctionName"),
    "AWS::Serverless::Function": ("AWS/Lambda", "FunctionName", None, "FunctionName"),
    "AWS::DynamoDB::Table": ("AWS/DynamoDB", "TableName", None, "TableName"),
    "AWS::SNS::Topic": ("AWS/SNS", "TopicName", "TopicName", "TopicName"),
    "AWS::StepFunctions::StateMachine": ("AWS/States", "StateMachineArn", None, None),
    "AWS::Serverless::StateMachine": ("AWS/States", "StateMachineArn", None, None),
    "AWS::Kinesis::Stream": ("AWS/Kinesis", "StreamName", None, "Name"),
}

_READ_VERBS = (
    "get",
    "list",
    "describe",
    "query",
    "scan",
    "receive",
    "batchget",
    "select",
    "read",
    "subscribe",
)
_WRITE_VERBS = (
    "put",
    "update",
    "delete",
    "send",
    "publish",
    "batchwrite",
    "write",
    "create",
    "transactwrite",
    "change",
    "purge",
    "restore",
)
# SAM policy templates: which side each grants (by name) — the parameters name the resource
_SAM_READ = ("Read", "Poller", "Describe", "Query")
_SAM_WRITE = ("Write", "Crud", "Send", "Publish", "Put", "FullAccess", "Delete")


@dataclass(frozen=True)
class Peer:
    template: Template
    resource: Resource
    conditions: tuple[str, ...] = ()


def peers(
    repo: RepoIndex,
    t: Template,
    res: Resource,
    kind: str,
    direction: str,
    work: Work,
    metrics: tuple[str, ...] = (),
) -> list[Peer]:
    """The resources at the other end of `kind` edges of `res` (in its template `t`)."""
    work.tick()
    if kind == "event-source":
        found = _event_sources(repo, t, res, direction)
    elif kind == "invokes":
        found = _invocations(repo, t, res, direction)
    elif kind == "redrive":
        found = _redrives(repo, t, res, direction)
    elif kind == "waf":
        found = _waf(repo, t, res, direction)
    elif kind == "alarm-on":
        found = _alarms(repo, t, res, direction, metrics)
    else:
        found = _grants(repo, t, res, direction, kind)
    out: dict[tuple[str, str], Peer] = {}
    for p in found:
        work.tick()
        key = (p.template.file, p.resource.logical_id)
        known = out.get(key)
        if known is None or (known.conditions and not p.conditions):
            out[key] = p
    return list(out.values())


def _conds(*resources: Resource) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.condition for r in resources if r.condition))


# -- event-source ---------------------------------------------------------------------------------


def _mappings(repo: RepoIndex) -> list[tuple[Template, Resource, Template, Resource, Resource]]:
    """(source template, source, function template, function, mapping) of the repository."""
    key = "custom.edges.event-source"
    cached: list[tuple[Template, Resource, Template, Resource, Resource]] | None = repo.cache.get(
        key
    )
    if cached is None:
        cached = []
        for t in repo.templates.values():
            for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
                source = pointed(repo, t, esm.get("EventSourceArn"), EVENT_SOURCE_TYPES)
                fn = pointed(repo, t, esm.get("FunctionName"), LAMBDA_TYPES)
                if source is not None and fn is not None:
                    cached.append((source[0], source[1], fn[0], fn[1], esm))
        repo.cache[key] = cached
    return cached


def _event_sources(repo: RepoIndex, t: Template, res: Resource, direction: str) -> Iterator[Peer]:
    for st, source, ft, fn, esm in _mappings(repo):
        if direction == "out" and source is res:
            yield Peer(ft, fn, _conds(esm))
        elif direction == "in" and fn is res:
            yield Peer(st, source, _conds(esm))


# -- invokes --------------------------------------------------------------------------------------


def _invoker_nodes(res: Resource) -> Iterator[Any]:
    kind = res.type
    if kind == "AWS::Lambda::Permission":
        yield res.get("FunctionName")
    elif kind == "AWS::Events::Rule":
        for item in _items(res.get("Targets")):
            yield item.get("Arn", MISSING)
    elif kind == "AWS::Scheduler::Schedule":
        yield res.get("Target", "Arn")
    elif kind == "AWS::SNS::Subscription":
        yield res.get("Endpoint")
    elif kind == "AWS::SNS::Topic":
        for item in _items(res.get("Subscription")):
            yield item.get("Endpoint", MISSING)
    elif kind == "AWS::S3::Bucket":
        for item in _items(res.get("NotificationConfiguration", "LambdaConfigurations")):
            yield item.get("Function", MISSING)
    elif kind == "AWS::ApiGateway::Method":
        yield res.get("Integration", "Uri")
    elif kind == "AWS::ApiGatewayV2::Integration":
        yield res.get("IntegrationUri")
    elif kind == "AWS::Lambda::Url":
        yield res.get("TargetFunctionArn")
    elif kind == "AWS::Pipes::Pipe":
        yield res.get("Target")
    elif kind == "AWS::Cognito::UserPool":
        config = res.get("LambdaConfig")
        if isinstance(config, Mapping):
            yield from config.values()


def _items(node: Any) -> list[Mapping[str, Any]]:
    return [i for i in node if isinstance(i, Mapping)] if isinstance(node, list) else []


def _invocation_index(repo: RepoIndex) -> list[tuple[Template, Resource, Template, Resource]]:
    key = "custom.edges.invokes"
    cached: list[tuple[Template, Resource, Template, Resource]] | None = repo.cache.get(key)
    if cached is None:
        cached = []
        for t in repo.templates.values():
            for res in t:
                for node in _invoker_nodes(res):
                    if node is MISSING or node is None:
                        continue
                    fn = pointed(repo, t, node, LAMBDA_TYPES)
                    if fn is not None:
                        cached.append((t, res, fn[0], fn[1]))
        repo.cache[key] = cached
    return cached


def _invocations(repo: RepoIndex, t: Template, res: Resource, direction: str) -> Iterator[Peer]:
    for it, invoker, ft, fn in _invocation_index(repo):
        if direction == "out" and invoker is res:
            yield Peer(ft, fn, _conds(invoker))
        elif direction == "in" and fn is res:
            yield Peer(it, invoker, _conds(invoker))


# -- redrive --------------------------------------------------------------------------------------


def _redrives(repo: RepoIndex, t: Template, res: Resource, direction: str) -> Iterator[Peer]:
    if direction == "in":
        if res.type == "AWS::SQS::Queue":
            for link in failure_sources(repo, t, res):
                yield Peer(link.template, link.owner, _conds(link.owner))
            return
        for other in repo.templates.values():
            for owner, node in failure_target_nodes(other):
                if node is MISSING or node is None:
                    continue
                if any(
                    r.file == t.file and r.target == res.logical_id for r in targets(other, node)
                ):
                    yield Peer(other, owner, _conds(owner))
        return
    for owner, node in failure_target_nodes(t):
        if owner is not res or node is MISSING or node is None:
            continue
        for ref in targets(t, node):
            found = locate_resource(repo, ref) if isinstance(ref, RefTo) else None
            if found is not None:
                yield Peer(found[0], found[1], _conds(res))


# -- waf ------------------------------------------------------------------------------------------

WEB_ACL_TYPES = ("AWS::WAFv2::WebACL", "AWS::WAFRegional::WebACL", "AWS::WAF::WebACL")


def _waf(repo: RepoIndex, t: Template, res: Resource, direction: str) -> Iterator[Peer]:
    if direction == "in":
        for assoc in associations_naming(repo, (t.file, res.logical_id)):
            if not any(r.points_at(t.file, res.logical_id) for r in assoc.renderings):
                continue
            acl = pointed(repo, assoc.template, assoc.resource.get("WebACLArn"), WEB_ACL_TYPES)
            if acl is not None:
                yield Peer(acl[0], acl[1], _conds(assoc.resource))
            else:
                yield Peer(assoc.template, assoc.resource, _conds(assoc.resource))
        if res.type == "AWS::CloudFront::Distribution":
            acl = pointed(repo, t, res.get("DistributionConfig", "WebACLId"), WEB_ACL_TYPES)
            if acl is not None:
                yield Peer(acl[0], acl[1], ())
        return
    for assoc in waf_associations(repo):
        acl = pointed(repo, assoc.template, assoc.resource.get("WebACLArn"), WEB_ACL_TYPES)
        if acl is None or acl[1] is not res:
            continue
        for rendering in assoc.renderings:
            for file, lid, _ in rendering.refs:
                target = repo.template(file)
                found = target.get(lid) if target is not None else None
                if target is not None and found is not None:
                    yield Peer(target, found, _conds(assoc.resource))
    for other in repo.templates.values():
        for dist in other.of_type("AWS::CloudFront::Distribution"):
            acl = pointed(repo, other, dist.get("DistributionConfig", "WebACLId"), WEB_ACL_TYPES)
            if acl is not None and acl[1] is res:
                yield Peer(other, dist, _conds(dist))


# -- alarm-on -------------------------------------------------------------------------------------


def _metrics_of(repo: RepoIndex, namespace: str) -> tuple[str, ...]:
    key = f"custom.edges.metrics|{namespace}"
    cached: tuple[str, ...] | None = repo.cache.get(key)
    if cached is None:
        cached = tuple(
            sorted(
                {
                    w.metric
                    for w in watched_metrics(repo)
                    if w.metric is not None and (w.namespace is None or w.namespace == namespace)
                }
            )
        )
        repo.cache[key] = cached
    return cached


def _alarms(
    repo: RepoIndex, t: Template, res: Resource, direction: str, metrics: tuple[str, ...]
) -> Iterator[Peer]:
    if direction == "out":
        for w in watched_metrics(repo):
            if w.alarm is not res or (metrics and w.metric not in metrics):
                continue
            for _, node in w.dimensions:
                for ref in targets(w.template, node):
                    found = locate_resource(repo, ref) if isinstance(ref, RefTo) else None
                    if found is not None:
                        yield Peer(found[0], found[1], _conds(res))
        return
    spec = ALARM_DIMENSIONS.get(res.type)
    if spec is None:
        yield from _alarms_pointing(repo, t, res, metrics)
        return
    namespace, dimension, attr, name_prop = spec
    wanted = metrics or _metrics_of(repo, namespace)
    if not wanted:
        return
    names: list[str] = []
    if name_prop is not None and res.has(name_prop):
        name = text_of(t, res.get(name_prop))
        if name is not None:
            names.append(name)
    refs = ((t.file, res.logical_id, attr),)
    for w in alarms_naming(repo, namespace, wanted, dimension, refs=refs, texts=tuple(names)):
        dim = w.dimension(dimension)
        if points_at(w.template, dim, t, res.logical_id, attr) or any(
            same_text(w.template, dim, t, n) for n in names
        ):
            yield Peer(w.template, w.alarm, _conds(w.alarm))


def _alarms_pointing(
    repo: RepoIndex, t: Template, res: Resource, metrics: tuple[str, ...]
) -> Iterator[Peer]:
    """Alarms of a type without a known dimension: any dimension that refers to the resource."""
    w: Watched
    for w in watched_metrics(repo):
        if metrics and w.metric not in metrics:
            continue
        for _, node in w.dimensions:
            if any(
                isinstance(ref, RefTo) and ref.file == t.file and ref.target == res.logical_id
                for ref in targets(w.template, node)
            ):
                yield Peer(w.template, w.alarm, _conds(w.alarm))
                break


# -- reads / writes -------------------------------------------------------------------------------


def _action_sides(action: str) -> tuple[bool, bool]:
    """(reads, writes) of one IAM action pattern."""
    verb = action.split(":", 1)[1].lower() if ":" in action else action.lower()
    if verb.startswith("*") or verb == "":
        return True, True
    reads = any(verb.startswith(v) for v in _READ_VERBS)
    writes = any(verb.startswith(v) for v in _WRITE_VERBS)
    if verb.endswith("*") and not (reads or writes):
        return True, True
    return reads, writes


def _holders(t: Template, doc_owner: Resource) -> list[Resource]:
    """The principals a policy document acts for: its owner, and for a role or a policy
    attached to roles, the functions and state machines that run as those roles."""
    roles: list[Resource] = []
    if doc_owner.type == ROLE:
        roles.append(doc_owner)
    elif doc_owner.type in _POLICY_TYPES:
        for node in _roles_node(doc_owner):
            for ref in targets(t, node):
                role = t.get(ref.target) if isinstance(ref, RefTo) and ref.file == t.file else None
                if role is not None and role.type == ROLE:
                    roles.append(role)
    out = [doc_owner]
    for role in roles:
        if role is not doc_owner:
            out.append(role)
        for edge in t.incoming(role.logical_id):
            user = t.get(edge.source)
            if user is not None and user.type in (
                *LAMBDA_TYPES,
                "AWS::StepFunctions::StateMachine",
                "AWS::Serverless::StateMachine",
            ):
                out.append(user)
    return out


def _roles_node(policy: Resource) -> Iterable[Any]:
    roles = policy.get("Roles")
    return roles if isinstance(roles, list) else ([roles] if roles is not MISSING else [])


def _grant_index(
    repo: RepoIndex,
) -> list[tuple[Template, Resource, Template, Resource, bool, bool]]:
    """(principal template, principal, target template, target, reads, writes)."""
    key = "custom.edges.grants"
    cached: list[tuple[Template, Resource, Template, Resource, bool, bool]] | None = repo.cache.get(
        key
    )
    if cached is not None:
        return cached
    cached = []
    for t in repo.templates.values():
        for doc in identity_docs(t):
            for stmt in statements(t, doc):
                if stmt.node.get("Effect") != "Allow":
                    continue
                reads = writes = False
                for leaf in leaves(t, stmt.node.get("Action", MISSING), (*stmt.path, "Action")):
                    if isinstance(leaf.value, str):
                        r, w = _action_sides(leaf.value)
                        reads, writes = reads or r, writes or w
                if not (reads or writes):
                    continue
                for target in _targets_of(repo, t, stmt.node.get("Resource", MISSING)):
                    for holder in _holders(t, doc.resource):
                        cached.append((t, holder, target[0], target[1], reads, writes))
        for fn in t.of_type("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for name, params in _sam_templates(fn):
                reads = any(part in name for part in _SAM_READ) or "Crud" in name
                writes = any(part in name for part in _SAM_WRITE)
                for target in _targets_of(repo, t, params):
                    cached.append((t, fn, target[0], target[1], reads, writes))
    repo.cache[key] = cached
    return cached


def _sam_templates(fn: Resource) -> Iterator[tuple[str, Any]]:
    policies = fn.get("Policies")
    items = policies if isinstance(policies, list) else [policies]
    for item in items:
        if isinstance(item, Mapping) and len(item) == 1:
            name, params = next(iter(item.items()))
            if isinstance(name, str) and name.endswith("Policy") and isinstance(params, Mapping):
                yield name, params


def _targets_of(repo: RepoIndex, t: Template, node: Any) -> Iterator[tuple[Template, Resource]]:
    if node is MISSING or node is None:
        return
    for ref in targets(t, node):
        if isinstance(ref, RefTo):
            found = locate_resource(repo, ref)
            if found is not None:
                yield found


def _grants(
    repo: RepoIndex, t: Template, res: Resource, direction: str, kind: str
) -> Iterator[Peer]:
    want_read = kind == "reads"
    for pt, principal, tt, target, reads, writes in _grant_index(repo):
        if not (reads if want_read else writes):
            continue
        if direction == "out" and principal is res:
            yield Peer(tt, target, _conds(principal))
        elif direction == "in" and target is res:
            yield Peer(pt, principal, _conds(principal))
