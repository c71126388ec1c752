"""OBS: monitoring, audit and compliance (CloudTrail, X-Ray, logs, alarms, AWS Config)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.checks.alarms import Watched, alarms_naming, points_at, same_text, text_of
from reviewer.checks.evt import (
    FailureLink,
    consumers_in,
    failure_sources,
    is_dead_letter_queue,
    named_as_dead_letter_queue,
    recurring_schedule,
    sam_event,
)
from reviewer.checks.facts import LAMBDA_TYPES, api_integrations, pointed
from reviewer.checks.iam import Doc, glob_match, identity_docs, statement_leaves, statements
from reviewer.checks.registry import (
    Check,
    RepoContext,
    TemplateContext,
    Yielded,
    repo_check,
    template_check,
)
from reviewer.core.fixes import DEFAULT_LOG_RETENTION_DAYS, Safety, SetValues, set_value
from reviewer.core.types import Checked, Confidence, Hit, Path, Related, lower_confidence
from reviewer.model.openapi import definition
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import NOVALUE, resolve, targets, truthy
from reviewer.model.template import MISSING, Resource, Template

TRAIL = "AWS::CloudTrail::Trail"
STATE_MACHINES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")


def _when(conditions: tuple[str, ...] | list[str]) -> str:
    return f" when {' and '.join(dict.fromkeys(conditions))}" if conditions else ""


def _setting(t: Template, node: Any, good: Any) -> tuple[bool, tuple[str, ...], bool]:
    """Is a setting `good` in every branch? (ok, conditions of the bad branches, assumed).
    An unresolvable value gets the benefit of the doubt (no high-confidence guess)."""
    if node is MISSING or node is None:
        return False, (), False
    bad: list[str] = []
    assumed = False
    for outcome in resolve(t, node):
        value = outcome.value
        if value is NOVALUE or not outcome.known:
            if value is NOVALUE:
                if not outcome.conditions:
                    return False, (), False
                bad.extend(outcome.conditions)
            continue
        if good(value):
            continue
        if not outcome.conditions:
            if outcome.assumed:
                assumed = True
                continue
            return False, (), False
        bad.extend(outcome.conditions)
    if assumed and not bad:
        return False, (), True
    return (not bad), tuple(dict.fromkeys(bad)), False


def _confidence(conditions: tuple[str, ...], assumed: bool) -> Confidence | None:
    return Confidence.MEDIUM if conditions or assumed else None


def _is_true(value: Any) -> bool:
    return truthy(value) is True


def _non_empty(value: Any) -> bool:
    return value not in ("", None)


def _inherited(t: Template, res: Resource, section: str, key: str) -> bool:
    """The SAM property comes from Globals (the resource does not set it itself)."""
    glb = t.globals.get(section)
    own = res.node.get("Properties")
    return (
        res.type.startswith("AWS::Serverless::")
        and isinstance(glb, Mapping)
        and key in glb
        and not (isinstance(own, Mapping) and key in own)
    )


def _top_template(files: list[str]) -> str:
    """The most relevant template of a repository for a repository-level finding: the
    shallowest, then the first in sorted order."""
    return min(files, key=lambda f: (f.count("/"), f))


# -- AR-OBS-001 -------------------------------------------------------------------------------


KMS_KEY = "layers.data.kms_required"

# the protections of a trail whose absence is a defect: (property, test, what is wrong, why)
_TRAIL_PROTECTIONS = (
    (
        "EnableLogFileValidation",
        _is_true,
        "does not validate its log files (EnableLogFileValidation is not true)",
        "no digest files, so nobody can prove the logs were not altered or deleted",
    ),
    (
        "IsMultiRegionTrail",
        _is_true,
        "records only the Region it is deployed in (IsMultiRegionTrail is not true)",
        "activity in every other Region, including ones nobody watches, goes unrecorded",
    ),
)


@template_check("AR-OBS-001", cross_file=True)
def trail_incomplete(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    kms_declared = ctx.profile.declares(KMS_KEY) and bool(ctx.profile.kms_required)
    for trail in t.of_type(TRAIL):
        yield Checked(trail.logical_id)
        tid = trail.logical_id
        gaps: list[tuple[str, str, str, Confidence | None]] = []
        for prop, good, head, why in _TRAIL_PROTECTIONS:
            ok, conds, assumed = _setting(t, trail.get(prop), good)
            if not ok:
                note = _when(conds) + (" (from a parameter default)" if assumed else "")
                gaps.append((prop, head + note, why, _confidence(conds, assumed)))
        if gaps:  # one finding for the trail, the second gap as a related location
            confidence: Confidence | None = None
            for gap in gaps:
                if gap[3] is not None:
                    confidence = lower_confidence(confidence or Confidence.HIGH, gap[3])
            yield Hit(
                tid,
                ("Properties", gaps[0][0]),
                f"Trail {tid} "
                + " and ".join(head for _, head, _, _ in gaps)
                + ": "
                + "; ".join(why for _, _, why, _ in gaps),
                confidence=confidence,
                related=tuple(
                    Related(tid, ("Properties", prop), f"also: {prop} is not true")
                    for prop, _, _, _ in gaps[1:]
                ),
            )
        ok, conds, assumed = _setting(t, trail.get("KMSKeyId"), _non_empty)
        if ok:
            continue
        note = _when(conds) + (" (from a parameter default)" if assumed else "")
        yield Hit(
            tid,
            ("Properties", "KMSKeyId"),
            f"Trail {tid} has no KMSKeyId{note}: "
            + (
                "the profile requires customer-managed keys (layers.data.kms_required), and its "
                "log files get only the bucket's default encryption"
                if kms_declared
                else "its log files get the bucket's default encryption (SSE-S3 unless the "
                "bucket says otherwise), with no key policy of the trail's own limiting who can "
                "decrypt them"
            ),
            confidence=_confidence(conds, assumed),
            variant="kms-key-declared" if kms_declared else "kms-key",
        )
    repo = ctx.repo
    top: tuple[str, bool] | None = repo.cache.get("obs.top_template_and_trail")
    if top is None:  # once per repository, not once per template
        top = (
            _top_template(sorted(repo.templates)),
            any(other.of_type(TRAIL) for other in repo.templates.values()),
        )
        repo.cache["obs.top_template_and_trail"] = top
    if t.file != top[0]:
        return
    if top[1]:
        return
    count = len(repo.templates)
    yield Hit(
        None,
        (),
        f"No AWS::CloudTrail::Trail in any of the {count} template(s) of the repository "
        f"(reported on {t.file}, its top-most template): record where API activity is audited "
        "(an organization trail in the management account, a landing zone) or add a "
        "multi-Region trail with log file validation",
        variant="no-trail",
    )


# -- AR-OBS-002 -------------------------------------------------------------------------------


def _names(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " and " + ids[-1]


def _inherited_by(fns: list[Resource], key: str) -> tuple[Related, ...]:
    """Related locations for the functions after the first that inherit Globals.Function.<key>
    (one finding at the Globals line stands for all of them)."""
    return tuple(Related(fn.logical_id, (), f"inherits Globals.Function.{key}") for fn in fns[1:])


@template_check("AR-OBS-002")
def tracing_not_active(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    inherited: list[Resource] = []
    inherited_state = ""
    for fn in t.functions():
        path: Path
        if fn.type == "AWS::Serverless::Function" and not fn.has("TracingConfig"):
            path = ("Properties", "Tracing")
            node = fn.get("Tracing")
        else:
            path = ("Properties", "TracingConfig", "Mode")
            config = fn.get("TracingConfig")
            node = config.get("Mode", MISSING) if isinstance(config, Mapping) else config
        ok, conds, assumed = _setting(t, node, lambda v: v == "Active")
        if ok:
            continue
        current = text_of(t, node) if node is not MISSING else None
        label = ".".join(str(p) for p in path[1:])
        state = f"{label} is {current}" if current and not conds else f"{label} is not Active"
        if _inherited(t, fn, "Function", str(path[1])) and not conds and not assumed:
            inherited.append(fn)  # one finding at the Globals line for all of them
            inherited_state = state
            continue
        if _inherited(t, fn, "Function", str(path[1])):
            state += ", from Globals.Function"
        yield Hit(
            fn.logical_id,
            path,
            f"Function {fn.logical_id} has no active X-Ray tracing ({state}){_when(conds)}: "
            "requests through it cannot be followed across services when something is slow or "
            "failing",
            confidence=_confidence(conds, assumed),
        )
    if inherited:
        ids = [fn.logical_id for fn in inherited]
        yield Hit(
            ids[0],
            ("Properties", "Tracing"),
            f"Function{'s' if len(ids) > 1 else ''} {_names(ids)} {'have' if len(ids) > 1 else 'has'} "
            f"no active X-Ray tracing ({inherited_state}, from Globals.Function): requests "
            f"through {'them' if len(ids) > 1 else 'it'} cannot be followed across services when "
            "something is slow or failing",
            related=_inherited_by(inherited, "Tracing"),
        )
    for sm in t.of_type(*STATE_MACHINES):
        prop = "Tracing" if sm.type == "AWS::Serverless::StateMachine" else "TracingConfiguration"
        config = sm.get(prop)
        node = config.get("Enabled", MISSING) if isinstance(config, Mapping) else MISSING
        if config is not MISSING and not isinstance(config, Mapping):
            node = config  # Fn::If or a parameter: judged as a whole
        ok, conds, assumed = _setting(t, node, _is_true)
        if ok:
            continue
        yield Hit(
            sm.logical_id,
            ("Properties", prop, "Enabled"),
            f"State machine {sm.logical_id} has no active X-Ray tracing ({prop}.Enabled is not "
            f"true){_when(conds)}: executions cannot be traced into the services they call",
            confidence=_confidence(conds, assumed),
        )


# -- AR-OBS-003 -------------------------------------------------------------------------------


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _function_log_group(t: Template, fn: Resource) -> Resource | None:
    """An AWS::Logs::LogGroup of the template named /aws/lambda/<the function's name>."""
    names = [n for n in (text_of(t, fn.get("FunctionName")),) if n]
    for group in t.of_type("AWS::Logs::LogGroup"):
        node = group.get("LogGroupName")
        if node is MISSING:
            continue
        if points_at(t, node, t, fn.logical_id, None) and any(
            "/aws/lambda/" in s for s in _strings(node)
        ):
            return group
        text = text_of(t, node)
        if text is not None and any(text == "/aws/lambda/" + n for n in names):
            return group
    return None


def _retention_fix(group: Resource) -> SetValues:
    days = DEFAULT_LOG_RETENTION_DAYS
    return set_value(
        Safety.SAFE,
        f"Set RetentionInDays of log group {group.logical_id} to {days} (archreview's "
        "default retention for log groups).",
        group.logical_id,
        ("Properties", "RetentionInDays"),
        days,
        "one year: archreview's default log retention (AR-OBS-003)",
    )


@template_check("AR-OBS-003")
def logs_without_retention(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for group in t.of_type("AWS::Logs::LogGroup"):
        yield Checked(group.logical_id)
        ok, conds, assumed = _setting(t, group.get("RetentionInDays"), _non_empty)
        if ok:
            continue
        yield Hit(
            group.logical_id,
            ("Properties", "RetentionInDays"),
            f"Log group {group.logical_id} has no RetentionInDays{_when(conds)}: its logs are "
            "kept, and billed, forever",
            confidence=_confidence(conds, assumed) or Confidence.HIGH,
            fix=None if conds or assumed else _retention_fix(group),
        )
    inherited: list[Resource] = []
    silent: frozenset[str] | None = None  # read only when a function lacks its log group
    for fn in t.functions():
        yield Checked(fn.logical_id)
        ok, conds, _assumed = _setting(t, fn.get("LoggingConfig", "LogGroup"), _non_empty)
        if ok:
            continue
        if _function_log_group(t, fn) is not None:
            continue
        if silent is None:
            silent = roles_that_cannot_log(t)
        if _cannot_log(ctx.repo, t, fn, silent):
            continue  # its role cannot create a log group: Lambda creates none
        if _inherited(t, fn, "Function", "LoggingConfig") and not conds:
            inherited.append(fn)  # one finding at the Globals line for all of them
            continue
        yield Hit(
            fn.logical_id,
            ("Properties", "LoggingConfig", "LogGroup"),
            f"Function {fn.logical_id} has no log group of its own{_when(conds)}: no "
            "LoggingConfig.LogGroup and no AWS::Logs::LogGroup in the template named "
            "/aws/lambda/ + its name, so Lambda creates one on first invocation, outside the "
            "stack and with no retention: its logs are kept, and billed, forever",
        )
    if inherited:
        ids = [fn.logical_id for fn in inherited]
        many = len(ids) > 1
        yield Hit(
            ids[0],
            ("Properties", "LoggingConfig", "LogGroup"),
            f"Function{'s' if many else ''} {_names(ids)} take{'' if many else 's'} "
            "LoggingConfig from Globals.Function, which names no LogGroup, and the template "
            f"declares no AWS::Logs::LogGroup named /aws/lambda/ + {'their names' if many else 'its name'}"
            f": Lambda creates {'their log groups' if many else 'its log group'} on first "
            "invocation, outside the stack and with no retention, so the logs are kept, and "
            "billed, forever (set LogGroup in Globals.Function.LoggingConfig to a declared log "
            "group, or declare one per function)",
            related=_inherited_by(inherited, "LoggingConfig"),
        )


# -- AR-OBS-004 -------------------------------------------------------------------------------


def redrive_sources(links: list[FailureLink]) -> str | None:
    """How SQS itself moves messages into a dead-letter queue ("by the RedrivePolicy of A, B"),
    or None when no source is a queue. NumberOfMessagesSent does not count such moves. Every
    other failure source (a Lambda DeadLetterConfig or OnFailure destination, an EventBridge
    rule or schedule target's DeadLetterConfig, an SNS subscription's RedrivePolicy, a pipe's
    DeadLetterConfig) sends with SendMessage, which it counts."""
    queues = sorted({k.owner.logical_id for k in links if k.owner.type == "AWS::SQS::Queue"})
    return f"by the RedrivePolicy of {', '.join(queues)}" if queues else None


def _queue_alarm(
    repo: RepoIndex, t: Template, queue: Resource, redriven: str | None
) -> tuple[list[Watched], list[Watched], list[str]]:
    """(unconditional matches, conditional matches, near misses explained). `redriven` says
    how SQS moves messages here by redrive, None when no source is a queue's redrive: then an
    alarm on NumberOfMessagesSent counts too (every message arrives by SendMessage)."""
    names = [text_of(t, queue.get("QueueName"))] if queue.has("QueueName") else []
    sure: list[Watched] = []
    conditional: list[Watched] = []
    near: list[str] = []
    qrefs = ((t.file, queue.logical_id, "QueueName"), (t.file, queue.logical_id, None))
    sent_counts = not redriven
    metrics = ("ApproximateNumberOfMessagesVisible",) + (
        ("NumberOfMessagesSent",) if sent_counts else ()
    )
    for w in alarms_naming(repo, "AWS/SQS", metrics, "QueueName", refs=qrefs, texts=tuple(names)):
        dim = w.dimension("QueueName")
        if points_at(w.template, dim, t, queue.logical_id, "QueueName") or any(
            same_text(w.template, dim, t, n) for n in names
        ):
            (conditional if w.condition else sure).append(w)
        elif points_at(w.template, dim, t, queue.logical_id, None):
            near.append(
                f"alarm {w.alarm.logical_id} names the queue with !Ref, which is its URL, not "
                "the QueueName dimension: it never fires"
            )
    if sent_counts:
        return sure, conditional, near
    for w in alarms_naming(
        repo, "AWS/SQS", ("NumberOfMessagesSent",), "QueueName", refs=qrefs, texts=tuple(names)
    ):
        dim = w.dimension("QueueName")
        if points_at(w.template, dim, t, queue.logical_id, "QueueName") or any(
            same_text(w.template, dim, t, n) for n in names
        ):
            near.append(
                f"alarm {w.alarm.logical_id} watches NumberOfMessagesSent, which does not count "
                f"the messages SQS moves here {redriven}"
            )
    return sure, conditional, near


@template_check("AR-OBS-004", cross_file=True)
def dlq_without_alarm(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for queue in t.of_type("AWS::SQS::Queue"):
        declared = is_dead_letter_queue(ctx.repo, t, queue)
        if not declared and not (
            named_as_dead_letter_queue(t, queue) and not queue.has("RedrivePolicy")
        ):
            continue
        yield Checked(queue.logical_id)
        links = failure_sources(ctx.repo, t, queue) if declared else []
        redriven = redrive_sources(links)
        if declared and not links:
            # declared by RedriveAllowPolicy alone: its sources are queues elsewhere
            redriven = "from the source queues its RedriveAllowPolicy admits"
        if _consumed(ctx.repo, t, queue):
            continue  # a function drains it (a redrive stage): failures do not rest here
        sure, conditional, near = _queue_alarm(ctx.repo, t, queue, redriven)
        if sure:
            continue
        qid = queue.logical_id
        if conditional:
            conds = [f"!{w.condition}" for w in conditional if w.condition]
            yield Hit(
                qid,
                (),
                f"Dead-letter queue {qid} is watched only by alarm(s) "
                f"{', '.join(w.alarm.logical_id for w in conditional)}, which are not created"
                f"{_when(conds)}: failures then pile up unseen",
                confidence=Confidence.MEDIUM,
            )
            continue
        what = (
            f"the dead-letter queue generated by {_sam_where(t, queue)}"
            if queue.implicit
            else f"Dead-letter queue {qid}"
        )
        extra = f" ({'; '.join(near)})" if near else ""
        if not declared:
            extra += (
                " (no redrive policy, Lambda, EventBridge or SNS setting of the templates names "
                "it as one, but its name says it is a dead-letter queue)"
            )
        scheduled = bool(links) and all(recurring_schedule(k.template, k.owner) for k in links)
        yield Hit(
            qid,
            (),
            f"{what[0].upper()}{what[1:]} has no CloudWatch alarm on "
            "ApproximateNumberOfMessagesVisible"
            + ("" if redriven else " or NumberOfMessagesSent")
            + " with a QueueName dimension naming it, as a "
            f"literal name or !GetAtt {qid}.QueueName{extra}: "
            + (
                "only a recurring schedule sends to it, so what goes unseen is that runs failed "
                "(each tick's event carries no data, and the next tick runs again)"
                if scheduled
                else "failed messages pile up unseen until they expire"
            ),
            confidence=None if declared else Confidence.LOW,
            variant="schedule-only" if scheduled else None,
        )


_CREATE_LOG_GROUP = "logs:createloggroup"
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")


def _grants_log_group(t: Template, doc: Doc) -> bool:
    """Whether a policy document may allow logs:CreateLogGroup (anything not written plainly
    counts as allowing it)."""
    for stmt in statements(t, doc):
        effect = stmt.node.get("Effect")
        if effect == "Deny":
            continue
        if effect != "Allow" or "NotAction" in stmt.node:
            return True
        for leaf in statement_leaves(t, stmt, "Action"):
            if not isinstance(leaf.value, str) or glob_match(leaf.value.lower(), _CREATE_LOG_GROUP):
                return True
    return False


def roles_that_cannot_log(t: Template) -> frozenset[str]:
    """The IAM roles of the template that surely cannot create a log group: no managed policy,
    and no statement that may allow logs:CreateLogGroup inline or in a policy of the template
    attached to them (identity_docs and statements of the IAM checks, read once per template).
    A function running as one gets no log group from Lambda (and logs nothing)."""
    roles = {r.logical_id for r in t.of_type("AWS::IAM::Role") if not r.implicit}
    may = {
        rid for rid in roles if t.resources[rid].get("ManagedPolicyArns") not in (MISSING, None, [])
    }
    attached: dict[str, set[str]] = {}  # policy resource -> the roles it attaches to
    policies = t.of_type(*_POLICY_TYPES) if roles else []
    for policy in policies:  # (their own references: not the whole graph)
        for edge in t.outgoing(policy.logical_id):
            if edge.target in roles:
                attached.setdefault(policy.logical_id, set()).add(edge.target)
    for doc in identity_docs(t):
        held = doc.resource.logical_id
        holders = {held} if held in roles else attached.get(held, set())
        if holders and not holders <= may and _grants_log_group(t, doc):
            may |= holders
    return frozenset(roles - may)


def _cannot_log(repo: RepoIndex, t: Template, fn: Resource, silent: frozenset[str]) -> bool:
    """Whether the function's execution role is one of `silent` (roles_that_cannot_log)."""
    if fn.type == "AWS::Serverless::Function" and not fn.has("Role"):
        return False  # SAM's role carries AWSLambdaBasicExecutionRole
    found = pointed(repo, t, fn.get("Role"), ("AWS::IAM::Role",))
    return found is not None and found[0] is t and found[1].logical_id in silent


def _consumed(repo: RepoIndex, t: Template, queue: Resource) -> bool:
    """Whether a Lambda event source mapping of this template reads the queue: its messages
    are then processed (retried, routed on), not left to pile up."""
    for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
        found = pointed(repo, t, esm.get("EventSourceArn"), ("AWS::SQS::Queue",))
        if found is not None and found[0] is t and found[1].logical_id == queue.logical_id:
            return True
    return False


def _sam_where(t: Template, res: Resource) -> str:
    event = sam_event(t, res)
    if event is not None:
        return f"the {event[2].get('Type')} event {event[1]} of {event[0].logical_id}"
    return res.source or res.logical_id


# -- AR-OBS-005 -------------------------------------------------------------------------------

REST_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api")
HTTP_API_TYPES = ("AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi")


def _api_of(t: Template, node: Any, types: tuple[str, ...]) -> Resource | None:
    for ref in targets(t, node):
        res = t.get(ref.target) if ref.file == t.file else None
        if res is not None and res.type in types:
            return res
    return None


def _rest_api_name(t: Template, api: Resource) -> tuple[str | None, bool]:
    """(the ApiName CloudWatch publishes, known). A RestApi's Name; else the OpenAPI title of
    an inline body; a SAM API without Name and without a definition is titled after the stack."""
    if api.has("Name"):
        return text_of(t, api.get("Name")), True
    body_key = "DefinitionBody" if api.type == "AWS::Serverless::Api" else "Body"
    body = api.get(body_key)
    spec = definition(t, api)  # a definition read from a local file (reviewer.model.openapi)
    if spec is not None and spec.file is not None and spec.body is not None:
        body = spec.body
    if isinstance(body, Mapping) and "Fn::Transform" not in body:
        info = body.get("info")
        if isinstance(info, Mapping) and "title" in info:
            return text_of(t, info.get("title")), True
        return None, False
    if api.type == "AWS::Serverless::Api" and body is MISSING and not api.has("DefinitionUri"):
        return "${AWS::StackName}", True
    return None, False


def _stage_name(t: Template, stage: Resource) -> str | None:
    return text_of(t, stage.get("StageName"))


def _stage_matches(w: Watched, t: Template, stage: Resource, name: str | None) -> bool:
    dim = w.dimension("Stage")
    if dim is MISSING:
        return True  # an alarm on the whole API covers every stage
    return points_at(w.template, dim, t, stage.logical_id, None) or same_text(
        w.template, dim, t, name
    )


def _rest_stages(t: Template) -> Iterator[tuple[Resource, Resource | None]]:
    staged: set[str] = set()
    for stage in t.of_type("AWS::ApiGateway::Stage"):
        for ref in targets(t, stage.get("DeploymentId")):
            staged.add(ref.target)
        yield stage, _api_of(t, stage.get("RestApiId"), REST_API_TYPES)
    for dep in t.of_type("AWS::ApiGateway::Deployment"):
        if dep.has("StageName") and dep.logical_id not in staged:
            yield dep, _api_of(t, dep.get("RestApiId"), REST_API_TYPES)


def _stage_label(t: Template, stage: Resource, api: Resource | None, kind: str) -> str:
    api_id = api.logical_id if api is not None else "an unresolved API"
    if stage.implicit:
        return f"{kind} stage {stage.logical_id} (generated by SAM for {api_id})"
    return f"{kind} stage {stage.logical_id} of {api_id}"


def _api_errors(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for stage, api in _rest_stages(t):
        yield Checked(stage.logical_id)
        sname = _stage_name(t, stage)
        name, known = _rest_api_name(t, api) if api is not None else (None, False)
        found = False
        for w in alarms_naming(
            ctx.repo,
            "AWS/ApiGateway",
            ("5XXError",),
            "ApiName",
            texts=(name,) if known else (),
            template=None if known else t,
        ):
            dim = w.dimension("ApiName")
            if dim is MISSING or not _stage_matches(w, t, stage, sname):
                continue
            # an API whose name is not known here (an included definition): any ApiName alarm
            # of the same template on this stage gets the benefit of the doubt
            if (known and same_text(w.template, dim, t, name)) or (not known and w.template is t):
                found = True
                break
        if found:
            continue
        label = _stage_label(t, stage, api, "REST")
        if name == "${AWS::StackName}":
            shown = "the stack name, which SAM gives an API without a Name"
        else:
            shown = f"the API's name {name!r}" if known and name else "the API's Name"
        near = [
            f"alarm {w.alarm.logical_id} gives ApiName as !Ref {api.logical_id}, which is the "
            "API's id, not its name"
            for w in alarms_naming(
                ctx.repo,
                "AWS/ApiGateway",
                ("5XXError",),
                "ApiName",
                refs=((t.file, api.logical_id, None),) if api is not None else (),
            )
            if api is not None
            and points_at(w.template, w.dimension("ApiName"), t, api.logical_id, None)
        ]
        yield Hit(
            stage.logical_id,
            (),
            f"{label[0].upper()}{label[1:]} has no CloudWatch alarm on AWS/ApiGateway 5XXError "
            f"with dimensions ApiName ({shown}) and Stage"
            + (f" ({'; '.join(near)})" if near else "")
            + ": server errors reach users unnoticed",
            confidence=None if known else Confidence.LOW,
        )
    for stage in t.of_type("AWS::ApiGatewayV2::Stage"):
        api = _api_of(t, stage.get("ApiId"), HTTP_API_TYPES)
        if api is not None and api.type == "AWS::ApiGatewayV2::Api":
            protocol = resolve(t, api.get("ProtocolType"))[0].value
            if protocol == "WEBSOCKET":
                continue  # WebSocket APIs publish other metrics
        yield Checked(stage.logical_id)
        sname = _stage_name(t, stage)
        found = any(
            api is not None
            and points_at(w.template, w.dimension("ApiId"), t, api.logical_id, None)
            and _stage_matches(w, t, stage, sname)
            for w in alarms_naming(
                ctx.repo,
                "AWS/ApiGateway",
                ("5xx",),
                "ApiId",
                refs=((t.file, api.logical_id, None),) if api is not None else (),
            )
        )
        if found:
            continue
        label = _stage_label(t, stage, api, "HTTP API")
        api_name = text_of(t, api.get("Name")) if api is not None and api.has("Name") else None
        near = [
            f"alarm {w.alarm.logical_id} watches the REST metric 5XXError by ApiName, which an "
            "HTTP API does not publish"
            for w in alarms_naming(
                ctx.repo,
                "AWS/ApiGateway",
                ("5XXError",),
                "ApiName",
                refs=((t.file, api.logical_id, None),) if api is not None else (),
                texts=(api_name,),
            )
            if api is not None
            and (
                points_at(w.template, w.dimension("ApiName"), t, api.logical_id, None)
                or same_text(w.template, w.dimension("ApiName"), t, api_name)
            )
        ]
        yield Hit(
            stage.logical_id,
            (),
            f"{label[0].upper()}{label[1:]} has no CloudWatch alarm on AWS/ApiGateway 5xx with "
            f"dimensions ApiId (!Ref {api.logical_id if api else 'the API'}) and Stage"
            + (f" ({'; '.join(near)})" if near else "")
            + ": server errors reach users unnoticed",
            confidence=None if api is not None else Confidence.LOW,
        )


def _driven_functions(ctx: TemplateContext) -> dict[str, str]:
    """API- or queue-driven functions of the template: logical id -> what drives it."""
    t = ctx.template
    out: dict[str, str] = {}
    for integ in api_integrations(ctx.repo, t):
        out.setdefault(integ.function.logical_id, f"{integ.kind} API")
    for c in consumers_in(ctx.repo, t, "function"):
        out.setdefault(c.function.logical_id, f"queue {c.queue.logical_id}")
    for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
        event = sam_event(t, esm)
        if event is not None and event[2].get("Type") == "SQS":
            out.setdefault(event[0].logical_id, f"the SQS event {event[1]}")
    return out


def _function_errors(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    driven = _driven_functions(ctx)
    for fid in sorted(driven):
        fn = t.get(fid)
        if fn is None or fn.type not in LAMBDA_TYPES:
            continue
        yield Checked(fid)
        names = [text_of(t, fn.get("FunctionName"))] if fn.has("FunctionName") else []
        found = any(
            points_at(w.template, w.dimension("FunctionName"), t, fid, None)
            or any(same_text(w.template, w.dimension("FunctionName"), t, n) for n in names)
            for w in alarms_naming(
                ctx.repo,
                "AWS/Lambda",
                ("Errors",),
                "FunctionName",
                refs=((t.file, fid, None),),
                texts=tuple(names),
            )
        )
        if found:
            continue
        yield Hit(
            fid,
            (),
            f"Function {fid}, driven by {driven[fid]}, has no CloudWatch alarm on AWS/Lambda "
            f"Errors with a FunctionName dimension naming it (!Ref {fid}): failures show up only "
            "as user complaints or dead-lettered messages",
        )


@template_check("AR-OBS-005", cross_file=True)
def missing_error_alarms(ctx: TemplateContext) -> Iterator[Yielded]:
    yield from _api_errors(ctx)
    yield from _function_errors(ctx)


# -- AR-OBS-006 -------------------------------------------------------------------------------


@template_check("AR-OBS-006")
def container_without_logs(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for task in t.of_type("AWS::ECS::TaskDefinition"):
        yield Checked(task.logical_id)
        containers = task.get("ContainerDefinitions")
        if not isinstance(containers, list):
            continue
        for i, item in enumerate(containers):
            for outcome in resolve(t, item):
                container = outcome.value
                if not isinstance(container, Mapping):
                    continue
                ok, conds, _assumed = _setting(
                    t, container.get("LogConfiguration", MISSING), _non_empty
                )
                if ok:
                    continue
                conds = (*outcome.conditions, *conds)
                name = text_of(t, container.get("Name", MISSING)) or f"#{i}"
                yield Hit(
                    task.logical_id,
                    ("Properties", "ContainerDefinitions", i, "LogConfiguration"),
                    f"Container {name} of task definition {task.logical_id} has no "
                    f"LogConfiguration{_when(conds)}: its output is lost when the task stops",
                    confidence=Confidence.MEDIUM if conds else None,
                )
                break


# -- AR-OBS-007 -------------------------------------------------------------------------------


def _has_destination(t: Template, node: Any) -> bool:
    for outcome in resolve(t, node):
        items = outcome.value if isinstance(outcome.value, list) else []
        for item in items:
            if isinstance(item, Mapping):
                group = item.get("CloudWatchLogsLogGroup")
                if isinstance(group, Mapping) and group.get("LogGroupArn") not in (None, NOVALUE):
                    return True
    return False


def _express(t: Template, sm: Resource) -> bool:
    """An Express workflow (StateMachineType, SAM Type): it keeps no execution history, so its
    logs are the only record of a failed execution. Standard is the default."""
    key = "Type" if sm.type == "AWS::Serverless::StateMachine" else "StateMachineType"
    if not sm.has(key):
        return False
    return any(o.value == "EXPRESS" for o in resolve(t, sm.get(key)))


@template_check("AR-OBS-007")
def state_machine_without_logging(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for sm in t.of_type(*STATE_MACHINES):
        prop = "Logging" if sm.type == "AWS::Serverless::StateMachine" else "LoggingConfiguration"
        sid = sm.logical_id
        express = _express(t, sm)
        variant = None if express else "standard"
        why = (
            "an Express workflow keeps no execution history, so a failed execution leaves no "
            "record of the state that failed or why"
            if express
            else "a Standard workflow's execution history (90 days, in the console and API) "
            "still shows what failed, but nothing can be searched, alarmed on or kept longer"
        )
        node = sm.get(prop)
        if node is MISSING:
            yield Hit(
                sid,
                ("Properties", prop),
                f"State machine {sid} has no {prop}: {why}",
                variant=variant,
            )
            continue
        for outcome in resolve(t, node):
            config = outcome.value
            conds = outcome.conditions
            if config is NOVALUE:
                yield Hit(
                    sid,
                    ("Properties", prop),
                    f"State machine {sid} has no {prop}{_when(conds)}: {why}",
                    confidence=Confidence.MEDIUM,
                    variant=variant,
                )
                break
            if not isinstance(config, Mapping):
                continue
            level_node = config.get("Level", "OFF")
            ok, bad, assumed = _setting(t, level_node, lambda v: v in ("ERROR", "ALL"))
            if not ok:
                level = text_of(t, level_node)
                if "Level" not in config:
                    level = "OFF (no Level set)"
                all_conds = (*conds, *bad)
                yield Hit(
                    sid,
                    ("Properties", prop, "Level"),
                    f"State machine {sid} logs at level {level}{_when(all_conds)}"
                    + (" [from a parameter default]" if assumed else "")
                    + f": set Level ERROR or ALL so failed executions are recorded ({why})",
                    confidence=Confidence.MEDIUM if all_conds or assumed else None,
                    variant=variant,
                )
                break
            if not _has_destination(t, config.get("Destinations", MISSING)):
                yield Hit(
                    sid,
                    ("Properties", prop, "Destinations"),
                    f"State machine {sid} has {prop} with no CloudWatch Logs destination"
                    f"{_when(conds)}: nothing is written anywhere ({why})",
                    confidence=Confidence.MEDIUM if conds else None,
                    variant=variant,
                )
                break


# -- AR-OBS-008 -------------------------------------------------------------------------------

CONFIG_TYPES = (
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::ConformancePack",
    "AWS::Config::OrganizationConformancePack",
    "AWS::Config::ConfigRule",
    "AWS::Config::OrganizationConfigRule",
)


COMPLIANCE_KEY = "platform.compliance_monitoring"


@repo_check("AR-OBS-008")
def no_config_recorder(ctx: RepoContext) -> Iterator[Yielded]:
    # the templates of the modules whose profile declares compliance monitoring (the root's
    # declaration, or a module's own)
    declaring = sorted(
        file
        for file, t in ctx.repo.templates.items()
        if (p := ctx.profile_for(t.module)).declares(COMPLIANCE_KEY) and p.compliance_monitoring
    )
    if not declaring:
        return
    top = _top_template(declaring)
    yield Checked(None, top)
    if any(t.of_type(*CONFIG_TYPES) for t in ctx.repo.templates.values()):
        return
    yield Hit(
        None,
        (),
        f"The profile declares compliance monitoring, but none of the {len(ctx.repo.templates)} "
        "template(s) of the repository declares an AWS Config recorder, conformance pack or "
        f"Config rule (reported on {top}, its top-most template): record where configuration "
        "compliance is recorded (a landing zone, an organization conformance pack) or add an "
        "AWS::Config::ConfigurationRecorder with a delivery channel",
        file=top,
    )


CHECKS: tuple[Check, ...] = (
    trail_incomplete,
    tracing_not_active,
    logs_without_retention,
    dlq_without_alarm,
    missing_error_alarms,
    container_without_logs,
    state_machine_without_logging,
    no_config_recorder,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
