"""EVT: the event pipeline (SQS, SNS, EventBridge, asynchronous Lambda)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reviewer.checks.facts import (
    DEFAULT_TIMEOUT_S,
    DEFAULT_VISIBILITY_S,
    LAMBDA_TYPES,
    confidence_of,
    failure_target_nodes,
    pointed,
)
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.fixes import MAX_QUEUE_RETENTION_S, Safety, SetValues, set_value
from reviewer.core.types import Checked, Confidence, Hit, NotJudged, Related, lower_confidence
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import (
    NOVALUE,
    Unresolved,
    first,
    intrinsic,
    number,
    resolve,
    targets,
    truthy,
)
from reviewer.model.template import MISSING, Resource, Template

QUEUE = "AWS::SQS::Queue"
DEFAULT_RETENTION_S = 345_600.0  # 4 days
MAX_RETENTION_S = 1_209_600.0  # 14 days


# -- shared helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One possible value of a numeric setting, with where it comes from."""

    value: float | None
    confidence: Confidence
    note: str  # "" when certain; else why it is uncertain (condition, default, parent stack)
    explicit: bool


def values(template: Template, res: Resource, name: str, default: float) -> list[Value]:
    """Every possible value of a numeric property (one per Fn::If branch), with provenance."""
    node = res.get(name)
    if node is MISSING:
        return [Value(default, Confidence.HIGH, f"{name} not set: default {default:g} s", False)]
    origin = _origin(template, node)
    out: list[Value] = []
    for outcome in resolve(template, node):
        if outcome.value is NOVALUE:
            when = " and ".join(outcome.conditions)
            out.append(
                Value(
                    default,
                    Confidence.MEDIUM,
                    f"AWS::NoValue when {when}: default {default:g} s",
                    False,
                )
            )
            continue
        value = number(outcome.value)
        notes: list[str] = []
        if origin and outcome.assumed and not outcome.conditions:
            notes.append(f"{name} from the Default of {origin}")
        elif origin:
            notes.append(f"{name} from {origin}")
        elif outcome.assumed:
            notes.append(f"{name} from a parameter Default")
        if outcome.conditions:
            notes.append(
                f"{name} {value:g} s when " + " and ".join(outcome.conditions)
                if value is not None
                else "when " + " and ".join(outcome.conditions)
            )
        if value is None:
            reason = (
                outcome.value.reason if isinstance(outcome.value, Unresolved) else "not a number"
            )
            out.append(Value(None, Confidence.LOW, reason, True))
        else:
            out.append(Value(value, confidence_of(outcome), "; ".join(notes), True))
    return out


def _origin(template: Template, node: Any) -> str:
    """Where a parameter-valued property gets its value: a parent stack, --parameters."""
    if isinstance(node, Mapping) and len(node) == 1 and "Ref" in node:
        name = node["Ref"]
        if isinstance(name, str) and name in template.parameters:
            if name in template.parameter_values:
                return f"parameter {name} from the parameter values"
            bound = template.parameter_sources.get(name)
            if bound is not None:
                return f"parameter {name} passed by the parent stack in {bound[0].file}"
            return f"parameter {name}"
    return ""


def _texts(template: Template, node: Any) -> list[tuple[str, bool]]:
    """Possible texts of a value: (text, exact). Unknown parts stay as ${...} (exact False)."""
    out: list[tuple[str, bool]] = []
    if node is MISSING or node is None:
        return out
    for outcome in resolve(template, node):
        value = outcome.value
        if isinstance(value, str):
            out.append((value, not outcome.assumed))
        elif isinstance(value, Unresolved) and value.text:
            out.append((value.text, False))
    return out


def queue_names(template: Template, queue: Resource) -> list[str]:
    return [text for text, _ in _texts(template, queue.get("QueueName"))]


def _names_queue(
    target_text: str, target_tpl: Template, queue_tpl: Template, queue: Resource
) -> bool:
    """A literal (or partly known) ARN or name that names this queue."""
    for name in queue_names(queue_tpl, queue):
        if "${" in name and target_tpl is not queue_tpl:
            continue
        if target_text == name or target_text.endswith(":" + name):
            return True
    return False


def _json(node: Any) -> Any:
    if isinstance(node, str):
        import json

        try:
            return json.loads(node)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return node
    return node


@dataclass(frozen=True)
class FailureLink:
    """A resource that sends its failures to a destination: the resources and texts it names."""

    template: Template
    owner: Resource
    refs: frozenset[tuple[str, str]]  # (file, logical id)
    texts: tuple[str, ...]


def _failure_nodes(t: Template) -> Iterator[tuple[Resource, Any]]:
    yield from failure_target_nodes(t)
    # a RedrivePolicy written as Fn::If: the dead-letter queue of each branch
    for res in t.of_type(QUEUE, "AWS::SNS::Subscription"):
        node = res.get("RedrivePolicy")
        if intrinsic(node) is None:
            continue
        for outcome in resolve(t, node):
            policy = _json(outcome.value)
            if isinstance(policy, Mapping) and "deadLetterTargetArn" in policy:
                yield res, policy["deadLetterTargetArn"]


def _failure_links(repo: RepoIndex) -> list[FailureLink]:
    cached: list[FailureLink] | None = repo.cache.get("evt.failure_links")
    if cached is None:
        cached = []
        for t in repo.templates.values():
            for res, node in _failure_nodes(t):
                if node is MISSING or node is None:
                    continue
                refs = frozenset((ref.file, ref.target) for ref in targets(t, node))
                texts = tuple(text for text, _ in _texts(t, node))
                cached.append(FailureLink(t, res, refs, texts))
        repo.cache["evt.failure_links"] = cached
    return cached


def failure_sources(repo: RepoIndex, template: Template, queue: Resource) -> list[FailureLink]:
    """The resources that use `queue` as their dead-letter queue or OnFailure destination:
    another queue's RedrivePolicy, a Lambda DeadLetterConfig (SAM DeadLetterQueue), an
    EventBridge target or schedule DeadLetterConfig, an SNS subscription RedrivePolicy, an
    EventInvokeConfig or event source mapping OnFailure, a pipe's DeadLetterConfig."""
    key = (template.file, queue.logical_id)
    return [
        link
        for link in _failure_candidates(repo, key, queue_names(template, queue))
        if key in link.refs
        or any(_names_queue(text, link.template, template, queue) for text in link.texts)
    ]


def _failure_candidates(
    repo: RepoIndex, key: tuple[str, str], names: list[str]
) -> list[FailureLink]:
    """The failure links that could name the queue: by reference, or by a text equal to one of
    its names or ending in ':' + one of them — in `_failure_links` order, through an index built
    once (a scan of every link for every queue grows with the square of the repository)."""
    index: tuple[dict[tuple[str, str], list[int]], dict[str, list[int]]] | None = repo.cache.get(
        "evt.failure_links.index"
    )
    links = _failure_links(repo)
    if index is None:
        by_ref: dict[tuple[str, str], list[int]] = {}
        by_text: dict[str, list[int]] = {}
        for i, link in enumerate(links):
            for ref in link.refs:
                by_ref.setdefault(ref, []).append(i)
            for text in link.texts:
                suffixes = {text} | {text[j + 1 :] for j, ch in enumerate(text) if ch == ":"}
                for suffix in suffixes:
                    by_text.setdefault(suffix, []).append(i)
        index = (by_ref, by_text)
        repo.cache["evt.failure_links.index"] = index
    found = set(index[0].get(key, ()))
    for name in names:
        found.update(index[1].get(name, ()))
    return [links[i] for i in sorted(found)]


_DLQ_NAME = re.compile(r"dlq|dead[-_]?letter", re.IGNORECASE)


def named_as_dead_letter_queue(template: Template, queue: Resource) -> bool:
    """The queue's logical id or QueueName says it is a dead-letter queue (application code or a
    state machine may send failures to it, which the templates cannot show)."""
    return bool(_DLQ_NAME.search(queue.logical_id)) or any(
        _DLQ_NAME.search(name) for name in queue_names(template, queue)
    )


def is_dead_letter_queue(repo: RepoIndex, template: Template, queue: Resource) -> bool:
    """The queue is a failure target, or declares itself one (RedriveAllowPolicy that does
    not deny every source)."""
    if failure_sources(repo, template, queue):
        return True
    allow = _json(queue.get("RedriveAllowPolicy"))
    if allow is MISSING:
        return False
    if isinstance(allow, Mapping):
        permission = resolve(template, allow.get("redrivePermission"))[0].value
        return bool(permission != "denyAll")
    return True


def _lambda_of(repo: RepoIndex, template: Template, node: Any) -> tuple[Template, Resource] | None:
    return pointed(repo, template, node, LAMBDA_TYPES)


def sam_event(template: Template, res: Resource) -> tuple[Resource, str, Mapping[str, Any]] | None:
    """For a resource SAM generated from an event: (function, event name, event)."""
    if not res.implicit or res.source is None:
        return None
    owner = template.get(res.source)
    if owner is None:
        return None
    events = owner.get("Events")
    if not isinstance(events, Mapping):
        return None
    best: tuple[Resource, str, Mapping[str, Any]] | None = None
    for name, event in events.items():
        if not isinstance(event, Mapping):
            continue
        eid = f"{owner.logical_id}{name}"
        if res.logical_id == eid or (
            res.logical_id.startswith(eid) and (best is None or len(str(name)) > len(best[1]))
        ):
            best = (owner, str(name), event)
            if res.logical_id == eid:
                break
    return best


def _where(template: Template, res: Resource) -> str:
    """How a resource is named in a message: SAM-generated ones by the event that made them."""
    event = sam_event(template, res)
    if event is not None:
        fn, name, spec = event
        return f"the {spec.get('Type')} event {name} of {fn.logical_id}"
    return res.logical_id


@dataclass(frozen=True)
class Consumer:
    """A Lambda function reading an SQS queue through an event source mapping."""

    mapping_template: Template
    mapping: Resource
    queue_template: Template
    queue: Resource
    function_template: Template
    function: Resource


def sqs_consumers(repo: RepoIndex) -> list[Consumer]:
    cached: list[Consumer] | None = repo.cache.get("evt.consumers")
    if cached is not None:
        return cached
    out: list[Consumer] = []
    for t in repo.templates.values():
        for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
            queue = pointed(repo, t, esm.get("EventSourceArn"), (QUEUE,))
            fn = _lambda_of(repo, t, esm.get("FunctionName"))
            if queue is None or fn is None:
                continue
            out.append(Consumer(t, esm, queue[0], queue[1], fn[0], fn[1]))
    repo.cache["evt.consumers"] = out
    return out


def consumers_in(repo: RepoIndex, template: Template, side: str) -> list[Consumer]:
    """The consumers whose queue (side "queue") or function (side "function") is in
    `template`, in `sqs_consumers` order: an index built once, so a check does not scan every
    consumer of the repository for each template."""
    key = f"evt.consumers.by_{side}"
    index: dict[int, list[Consumer]] | None = repo.cache.get(key)
    if index is None:
        index = {}
        for c in sqs_consumers(repo):
            owner = c.queue_template if side == "queue" else c.function_template
            index.setdefault(id(owner), []).append(c)
        repo.cache[key] = index
    return index.get(id(template), [])


def _is_fifo(template: Template, queue: Resource) -> list[tuple[bool, tuple[str, ...]]]:
    """(fifo, conditions) per branch of FifoQueue."""
    if not queue.has("FifoQueue"):
        return [(False, ())]
    return [
        (truthy(o.value) is True, o.conditions)
        for o in resolve(template, queue.get("FifoQueue"))
        if o.value is not NOVALUE
    ] or [(False, ())]


# -- AR-EVT-001 -------------------------------------------------------------------------------


def recurring_schedule(template: Template, res: Resource) -> bool:
    """An EventBridge rule or EventBridge Scheduler schedule that fires on a rate or cron
    expression and matches no event pattern (not a one-time `at()` schedule): each of its
    events carries no data of its own, and the next one comes at the next tick."""
    if res.type not in ("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
        return False
    if res.type == "AWS::Events::Rule" and res.has("EventPattern"):
        return False
    if not res.has("ScheduleExpression"):
        return False
    texts = [o.value for o in resolve(template, res.get("ScheduleExpression"))]
    return bool(texts) and all(
        isinstance(v, str) and v.strip().lower().startswith(("rate(", "cron(")) for v in texts
    )


def _piped_queues(repo: RepoIndex) -> dict[tuple[str, str], tuple[Template, str]]:
    """The queues an EventBridge pipe reads (its Source): (file, logical id) -> (the pipe's
    template, the pipe's logical id)."""
    cached: dict[tuple[str, str], tuple[Template, str]] | None = repo.cache.get("evt.piped_queues")
    if cached is None:
        cached = {}
        for t in repo.templates.values():
            for pipe in t.of_type("AWS::Pipes::Pipe"):
                found = pointed(repo, t, pipe.get("Source"), (QUEUE,))
                if found is not None:
                    cached.setdefault((found[0].file, found[1].logical_id), (t, pipe.logical_id))
        repo.cache["evt.piped_queues"] = cached
    return cached


def queue_consumer(repo: RepoIndex, template: Template, queue: Resource) -> tuple[str, bool] | None:
    """What reads `queue` and retries what it cannot process, as far as the repository shows:
    (a label, whether it is declared in the queue's own template), or None when no Lambda event
    source mapping or EventBridge pipe of the repository reads it (its consumer is application
    code or lives elsewhere)."""
    for c in consumers_in(repo, template, "queue"):
        if c.queue is queue:
            return (
                f"function {c.function.logical_id}"
                + ("" if c.function_template is template else f" in {c.function_template.file}"),
                c.mapping_template is template,
            )
    piped = _piped_queues(repo).get((template.file, queue.logical_id))
    if piped is not None:
        owner, pipe = piped
        where = "" if owner is template else f" in {owner.file}"
        return f"EventBridge pipe {pipe}{where}", owner is template
    return None


@template_check("AR-EVT-001", cross_file=True)
def queue_without_dlq(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for queue in t.of_type(QUEUE):
        if queue.implicit:
            continue  # generated by SAM (SqsSubscription, DLQ of an event): not configurable
        if is_dead_letter_queue(ctx.repo, t, queue):
            continue
        if not queue.has("RedrivePolicy") and named_as_dead_letter_queue(t, queue):
            continue  # by its name a dead-letter queue that code or a workflow writes to
        qid = queue.logical_id
        consumer = queue_consumer(ctx.repo, t, queue)
        fifo = any(fifo for fifo, _ in _is_fifo(t, queue))
        variant: str | None = "no-visible-consumer"
        if consumer is None:
            consequence = (
                "no Lambda event source mapping or EventBridge pipe of the repository reads it, "
                "so what happens to a message its consumer cannot process depends on that "
                "consumer; without a dead-letter queue, a message that keeps failing is received "
                "again until MessageRetentionPeriod expires, then deleted without a trace"
            )
            confidence: Confidence | None = Confidence.LOW
        else:
            label, local = consumer
            variant = "fifo" if fifo else None
            consequence = (
                f"{label} reads it, so a message that keeps failing is received again after "
                "every visibility timeout until MessageRetentionPeriod expires, then deleted "
                "without a trace"
                + (
                    "; in a FIFO queue it also holds back every later message of its message "
                    "group until then"
                    if fifo
                    else ""
                )
            )
            confidence = None if local else Confidence.MEDIUM
        if not queue.has("RedrivePolicy"):
            yield Hit(
                qid,
                ("Properties", "RedrivePolicy"),
                f"Queue {qid} has no RedrivePolicy and is not itself a dead-letter queue or "
                f"failure destination: {consequence}",
                confidence=confidence,
                variant=variant,
            )
            continue
        for outcome in resolve(t, queue.get("RedrivePolicy")):
            missing: tuple[str, ...] | None = None
            if outcome.value is NOVALUE:
                missing = outcome.conditions
            else:
                policy = _json(outcome.value)
                if isinstance(policy, Mapping) and "deadLetterTargetArn" in policy:
                    for inner in resolve(t, policy["deadLetterTargetArn"]):
                        if inner.value is NOVALUE:
                            missing = (*outcome.conditions, *inner.conditions)
                            break
            if missing is not None:
                when = " and ".join(missing) or "a condition holds"
                yield Hit(
                    qid,
                    ("Properties", "RedrivePolicy"),
                    f"Queue {qid} has no dead-letter queue when {when} (its RedrivePolicy "
                    f"resolves to AWS::NoValue in that branch): {consequence}",
                    confidence=lower_confidence(Confidence.MEDIUM, confidence),
                    variant=variant,
                )
                break


# -- AR-EVT-002 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redrive:
    template: Template
    source: Resource
    dlq_template: Template
    dlq: Resource
    conditions: tuple[str, ...]
    exact: bool


def _redrives(repo: RepoIndex) -> list[Redrive]:
    cached: list[Redrive] | None = repo.cache.get("evt.redrives")
    if cached is not None:
        return cached
    out: list[Redrive] = []
    seen: set[tuple[int, int, int, int, tuple[str, ...], bool]] = set()
    queues = [(t, q) for t in repo.templates.values() for q in t.of_type(QUEUE)]
    for t in repo.templates.values():
        for src in t.of_type(QUEUE):
            if not src.has("RedrivePolicy"):
                continue
            for outcome in resolve(t, src.get("RedrivePolicy")):
                policy = _json(outcome.value)
                if not isinstance(policy, Mapping) or "deadLetterTargetArn" not in policy:
                    continue
                node = policy["deadLetterTargetArn"]
                found: list[tuple[Template, Resource, bool]] = []
                for ref in targets(t, node):
                    owner = repo.template(ref.file)
                    res = owner.get(ref.target) if owner is not None else None
                    if owner is not None and res is not None and res.type == QUEUE:
                        found.append((owner, res, owner is t))
                if not found:
                    for text, _exact in _texts(t, node):
                        for qt, q in queues:
                            if q is not src and _names_queue(text, t, qt, q):
                                found.append((qt, q, False))
                for owner, res, exact in found:
                    key = (id(t), id(src), id(owner), id(res), outcome.conditions, exact)
                    if key not in seen:  # the same link once (templates compare by identity)
                        seen.add(key)
                        out.append(Redrive(t, src, owner, res, outcome.conditions, exact))
    repo.cache["evt.redrives"] = out
    return out


def _redrives_into(repo: RepoIndex, dlq: Resource) -> list[Redrive]:
    """The redrives whose dead-letter queue is `dlq`, in `_redrives` order (indexed once per
    repository instead of a scan of every redrive for every queue)."""
    index: dict[int, list[Redrive]] | None = repo.cache.get("evt.redrives.by_dlq")
    if index is None:
        index = {}
        for r in _redrives(repo):
            index.setdefault(id(r.dlq), []).append(r)
        repo.cache["evt.redrives.by_dlq"] = index
    return index.get(id(dlq), [])


def _days(seconds: float) -> str:
    days = seconds / 86400
    if days != int(days):
        return f"{seconds:g} s"
    return "1 day" if days == 1 else f"{days:g} days"


def _retention(v: Value) -> str:
    assert v.value is not None
    return _days(v.value) + ("" if v.explicit else " (the SQS default: no MessageRetentionPeriod)")


@template_check("AR-EVT-002", cross_file=True)
def dlq_retention_not_longer(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for dlq in t.of_type(QUEUE):
        links = _redrives_into(ctx.repo, dlq)
        standard: list[tuple[Redrive, tuple[str, ...]]] = []
        for link in links:
            for fifo, conds in _is_fifo(link.template, link.source):
                if not fifo:
                    standard.append((link, (*link.conditions, *conds)))
                    break
        if not standard:
            continue
        yield Checked(dlq.logical_id)
        dlq_values = values(t, dlq, "MessageRetentionPeriod", DEFAULT_RETENTION_S)
        worst: tuple[tuple[int, float], Hit] | None = None
        for link, conds in standard:
            src_values = values(
                link.template, link.source, "MessageRetentionPeriod", DEFAULT_RETENTION_S
            )
            for dv in dlq_values:
                for sv in src_values:
                    if dv.value is None or sv.value is None:
                        continue
                    shorter = dv.value < sv.value
                    equal = dv.value == sv.value and dv.value < MAX_RETENTION_S
                    if not (shorter or equal):
                        continue
                    confidence = lower_confidence(dv.confidence, sv.confidence)
                    notes = [v.note for v in (dv, sv) if v.note and v.explicit]
                    if conds:
                        confidence = lower_confidence(confidence, Confidence.MEDIUM)
                        notes.append("when " + " and ".join(conds))
                    if not link.exact:
                        confidence = lower_confidence(confidence, Confidence.MEDIUM)
                    where = "" if link.template is t else f" (in {link.template.file})"
                    relation = "shorter than" if shorter else "no longer than"
                    message = (
                        f"Dead-letter queue {dlq.logical_id} keeps messages {_retention(dv)}, "
                        f"{relation} the {_retention(sv)} of its standard source queue "
                        f"{link.source.logical_id}{where}: a standard queue keeps the original "
                        "enqueue timestamp, so a message that aged in the source expires early in "
                        f"the dead-letter queue (set MessageRetentionPeriod to {MAX_RETENTION_S:.0f})"
                        + (f" [{'; '.join(notes)}]" if notes else "")
                    )
                    related = (
                        (
                            Related(
                                link.source.logical_id,
                                ("Properties", "MessageRetentionPeriod"),
                                "source queue",
                            ),
                        )
                        if link.template is t
                        else ()
                    )
                    hit = Hit(
                        dlq.logical_id,
                        ("Properties", "MessageRetentionPeriod"),
                        message,
                        confidence=confidence,
                        related=related,
                        variant=None if shorter else "equal",
                    )
                    rank = (confidence.rank, sv.value - dv.value)
                    if worst is None or rank > worst[0]:
                        worst = (rank, hit)
        if worst is not None:
            # a declared pipeline retention other than 14 days: AR-EVT-007 would then report
            # the 14 days this fix writes (the two rules meet only by shortening the source)
            declared = ctx.profile.declares("events.retention_days") and (
                ctx.profile.queue_retention_days != MAX_QUEUE_RETENTION_S // 86400
            )
            certain = len(dlq_values) == 1 and _certain(dlq_values[0]) and not declared
            fix = set_value(
                Safety.SAFE,
                f"Set MessageRetentionPeriod of dead-letter queue {dlq.logical_id} to "
                f"{MAX_QUEUE_RETENTION_S} (14 days, the longest SQS allows).",
                dlq.logical_id,
                ("Properties", "MessageRetentionPeriod"),
                MAX_QUEUE_RETENTION_S,
                "14 days: the dead-letter queue outlives its source queue (AR-EVT-002)",
            )
            yield replace(worst[1], fix=fix) if certain else worst[1]


# -- AR-EVT-003 -------------------------------------------------------------------------------


def _timeout_from_globals(template: Template, fn: Resource) -> bool:
    glb = template.globals.get("Function")
    own = fn.node.get("Properties")
    return (
        fn.type == "AWS::Serverless::Function"
        and isinstance(glb, Mapping)
        and "Timeout" in glb
        and not (isinstance(own, Mapping) and "Timeout" in own)
    )


@template_check("AR-EVT-003", cross_file=True)
def visibility_below_timeout(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    by_queue: dict[str, list[Consumer]] = {}
    for c in consumers_in(ctx.repo, t, "queue"):
        by_queue.setdefault(c.queue.logical_id, []).append(c)
    for qid in sorted(by_queue):
        queue = by_queue[qid][0].queue
        yield Checked(qid)
        visibility = values(t, queue, "VisibilityTimeout", DEFAULT_VISIBILITY_S)
        worst: tuple[tuple[int, float], Hit] | None = None
        for c in by_queue[qid]:
            fn = c.function
            for tv in values(c.function_template, fn, "Timeout", DEFAULT_TIMEOUT_S):
                for vv in visibility:
                    if tv.value is None or vv.value is None or vv.value >= 6 * tv.value:
                        continue
                    hit = _visibility_hit(t, c, vv, tv)
                    rank = (hit.confidence.rank if hit.confidence else 2, 6 * tv.value - vv.value)
                    if worst is None or rank > worst[0]:
                        worst = (rank, hit)
        if worst is not None:
            fix = _visibility_fix(t, queue, by_queue[qid], visibility)
            yield worst[1] if fix is None else replace(worst[1], fix=fix)


MAX_VISIBILITY_S = 43_200  # the longest visibility timeout SQS accepts (12 hours)


def _certain(v: Value) -> bool:
    """A value written plainly (or the service default because nothing is written)."""
    return v.value is not None and (
        v.note == ""
        or (not v.explicit and re.fullmatch(r"\w+ not set: default \S+ s", v.note) is not None)
    )


def _visibility_fix(
    t: Template, queue: Resource, consumers: list[Consumer], visibility: list[Value]
) -> SetValues | None:
    """Set the queue's VisibilityTimeout to 6 x the longest Timeout of its consumers, as a
    literal with a comment saying where it came from; None when any value is uncertain (a
    parameter, a condition, another stack's value)."""
    if len(visibility) != 1 or not _certain(visibility[0]):
        return None
    longest: tuple[float, Consumer] | None = None
    for c in consumers:
        timeouts = values(c.function_template, c.function, "Timeout", DEFAULT_TIMEOUT_S)
        if len(timeouts) != 1 or not _certain(timeouts[0]):
            return None
        value = timeouts[0].value
        assert value is not None
        if longest is None or value > longest[0]:
            longest = (value, c)
    if longest is None or longest[0] != int(longest[0]):
        return None
    need = 6 * int(longest[0])
    if need > MAX_VISIBILITY_S:
        return None
    fn = longest[1].function
    owner = longest[1].function_template
    where = "" if owner is t else f" in {owner.file}"
    return set_value(
        Safety.SAFE,
        f"Set VisibilityTimeout of {queue.logical_id} to {need} (6 x the {longest[0]:g} s "
        f"Timeout of {fn.logical_id}{where}).",
        queue.logical_id,
        ("Properties", "VisibilityTimeout"),
        need,
        f"6 x the {longest[0]:g} s Timeout of {fn.logical_id}{where} (AR-EVT-003)",
    )


def _visibility_hit(t: Template, c: Consumer, vv: Value, tv: Value) -> Hit:
    fn = c.function
    queue = c.queue
    assert tv.value is not None
    assert vv.value is not None
    if _timeout_from_globals(c.function_template, fn):
        source = " (from Globals.Function.Timeout)"
    elif not tv.explicit:
        source = " (the Lambda default: no Timeout set)"
    else:
        source = ""
    fn_where = "" if c.function_template is t else f" in {c.function_template.file}"
    event = sam_event(c.mapping_template, c.mapping)
    if event is not None:
        via = f"through its {event[2].get('Type')} event {event[1]}"
    else:
        via = f"through the event source mapping {c.mapping.logical_id}"
    if c.mapping_template is not t and c.mapping_template is not c.function_template:
        via += f" in {c.mapping_template.file}"
    shown = "VisibilityTimeout" if vv.explicit else "the default VisibilityTimeout"
    notes = [n for n in (vv.note if vv.explicit else "", tv.note) if n]
    if not vv.explicit and vv.note.startswith("AWS::NoValue"):
        notes.insert(0, vv.note)
    below = vv.value < tv.value
    advised = f"AWS advises >= {6 * tv.value:g} s"
    if below:
        message = (
            f"Queue {queue.logical_id} has {shown} {vv.value:g} s, below even the {tv.value:g} s "
            f"Timeout{source} of {fn.logical_id}{fn_where}, which consumes it {via}: Lambda "
            "rejects an event source mapping on such a queue, so the deployment fails, and where "
            "the Timeout was raised after the mapping existed, messages become visible again "
            f"while still being processed and are handled twice ({advised}, 6 x the Timeout)"
        )
    else:
        message = (
            f"Queue {queue.logical_id} has {shown} {vv.value:g} s, below 6 x the {tv.value:g} s "
            f"Timeout{source} of {fn.logical_id}{fn_where}, which consumes it {via} ({advised}): "
            "when Lambda is throttled and retries a batch it has already received, the messages "
            "can become visible again before the batch is processed and are then handled twice"
        )
    message += f" [{'; '.join(notes)}]" if notes else ""
    confidence = lower_confidence(vv.confidence, tv.confidence)
    if c.mapping_template is not t or c.function_template is not t:
        confidence = lower_confidence(confidence, Confidence.MEDIUM)
    related: list[Related] = []
    if c.function_template is t:
        related.append(Related(fn.logical_id, ("Properties", "Timeout"), "function timeout"))
    if c.mapping_template is t:
        related.append(
            Related(c.mapping.logical_id, ("Properties", "EventSourceArn"), "event source mapping")
        )
    return Hit(
        queue.logical_id,
        ("Properties", "VisibilityTimeout"),
        message,
        confidence=confidence,
        related=tuple(related),
        variant="below-timeout" if below else None,
    )


# -- AR-EVT-004 -------------------------------------------------------------------------------

_ASYNC_PRINCIPALS = {
    "s3.amazonaws.com": "S3",
    "sns.amazonaws.com": "SNS",
    "events.amazonaws.com": "EventBridge",
}


def _invoker_label(t: Template, res: Resource, kind: str) -> str:
    event = sam_event(t, res)
    if event is not None:
        return f"its {event[2].get('Type')} event {event[1]}"
    return f"{kind} {res.logical_id}"


def _async_invokers(repo: RepoIndex, t: Template) -> dict[str, list[tuple[str, str]]]:
    """function logical id -> [(invoking resource, label)] for asynchronous invokers: S3
    notifications, SNS subscriptions, EventBridge rules and schedules (plain or SAM events);
    an AWS::Lambda::Permission for S3, SNS or EventBridge counts when nothing else names the
    invoker (the bucket, topic or rule may live in another stack)."""
    found: dict[str, list[tuple[str, str]]] = {}
    by_permission: dict[str, list[tuple[str, str]]] = {}

    def add(into: dict[str, list[tuple[str, str]]], node: Any, res: Resource, label: str) -> None:
        target = _lambda_of(repo, t, node)
        if target is None or target[0] is not t:
            return
        lst = into.setdefault(target[1].logical_id, [])
        if all(existing != label for _, existing in lst):
            lst.append((res.logical_id, label))

    for res in t:
        kind = res.type
        if kind == "AWS::S3::Bucket":
            configs = res.get("NotificationConfiguration", "LambdaConfigurations")
            for item in configs if isinstance(configs, list) else []:
                if isinstance(item, Mapping):
                    add(found, item.get("Function"), res, f"S3 bucket {res.logical_id}")
        elif kind == "AWS::SNS::Subscription":
            if _protocol(t, res.get("Protocol")) == "lambda":
                add(found, res.get("Endpoint"), res, _invoker_label(t, res, "SNS subscription"))
        elif kind == "AWS::SNS::Topic":
            subs = res.get("Subscription")
            for item in subs if isinstance(subs, list) else []:
                if isinstance(item, Mapping) and _protocol(t, item.get("Protocol")) == "lambda":
                    add(found, item.get("Endpoint"), res, f"SNS topic {res.logical_id}")
        elif kind == "AWS::Events::Rule":
            tgts = res.get("Targets")
            what = "schedule" if res.has("ScheduleExpression") else "EventBridge rule"
            for item in tgts if isinstance(tgts, list) else []:
                if isinstance(item, Mapping):
                    add(found, item.get("Arn"), res, _invoker_label(t, res, what))
        elif kind == "AWS::Scheduler::Schedule":
            add(found, res.get("Target", "Arn"), res, _invoker_label(t, res, "schedule"))
        elif kind == "AWS::Lambda::Permission":
            principal = resolve(t, res.get("Principal"))[0].value
            if isinstance(principal, str) and principal in _ASYNC_PRINCIPALS:
                what = f"{_ASYNC_PRINCIPALS[principal]} (permission"
                label = _invoker_label(t, res, what)
                add(
                    by_permission,
                    res.get("FunctionName"),
                    res,
                    label + (")" if label.startswith(what) else ""),
                )
    for fid, entries in by_permission.items():
        if fid not in found:
            found[fid] = entries
    return found


def _on_failure_configs(repo: RepoIndex, t: Template, fn: Resource) -> list[tuple[Resource, Any]]:
    out: list[tuple[Resource, Any]] = []
    for cfg in t.of_type("AWS::Lambda::EventInvokeConfig"):
        target = _lambda_of(repo, t, cfg.get("FunctionName"))
        if target is not None and target[1] is fn:
            out.append((cfg, cfg.get("DestinationConfig")))
    return out


def _present(t: Template, node: Any, *path: str) -> tuple[bool, tuple[str, ...]]:
    """Whether `node` (then `path` below it) is set in every Fn::If branch: (True, ()) when
    always set, (False, conditions) when set except where those conditions hold, (False, ())
    when never set."""
    if node is MISSING or node is None:
        return False, ()
    gaps: list[str] = []
    for outcome in resolve(t, node):
        value = outcome.value
        if value is NOVALUE or value in ("", None):
            if not outcome.conditions:
                return False, ()
            gaps.extend(c for c in outcome.conditions if c not in gaps)
            continue
        if path:
            if not isinstance(value, Mapping):
                continue  # unknown shape: benefit of the doubt
            ok, inner = _present(t, value.get(path[0], MISSING), *path[1:])
            if not ok:
                conds = (*outcome.conditions, *inner)
                if not conds:
                    return False, ()
                gaps.extend(c for c in conds if c not in gaps)
    return (not gaps), tuple(gaps)


def _async_limits(repo: RepoIndex, t: Template, fn: Resource) -> tuple[str, str]:
    """How many retries and how much event age Lambda allows before it discards an event,
    for a message: the EventInvokeConfig's MaximumRetryAttempts and MaximumEventAgeInSeconds
    when written as numbers, else Lambda's defaults (two retries, six hours)."""
    retries, age = "Lambda's two retries", "six hours"
    for cfg, _ in _on_failure_configs(repo, t, fn):
        n = number(resolve(t, cfg.get("MaximumRetryAttempts"))[0].value)
        if cfg.has("MaximumRetryAttempts") and n is not None:
            retries = (
                "its first attempt (MaximumRetryAttempts 0)"
                if n == 0
                else f"{n:g} retr{'y' if n == 1 else 'ies'} (MaximumRetryAttempts)"
            )
        a = number(resolve(t, cfg.get("MaximumEventAgeInSeconds"))[0].value)
        if cfg.has("MaximumEventAgeInSeconds") and a is not None:
            age = f"{a:g} s (MaximumEventAgeInSeconds)"
    return retries, age


@template_check("AR-EVT-004")
def async_function_without_dlq(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    invokers = _async_invokers(ctx.repo, t)
    for fid in sorted(invokers):
        fn = t.get(fid)
        if fn is None:
            continue
        yield Checked(fid)
        sam = fn.type == "AWS::Serverless::Function"
        prop = "DeadLetterQueue" if sam else "DeadLetterConfig"
        dlq_ok, dlq_gaps = _present(t, fn.get(prop), "TargetArn")
        if dlq_ok:
            continue
        gaps: list[str] | None = list(dlq_gaps) if dlq_gaps else None
        covered = False
        for _cfg, node in _on_failure_configs(ctx.repo, t, fn):
            ok, cfg_gaps = _present(t, node, "OnFailure", "Destination")
            if ok:
                covered = True
                break
            if cfg_gaps:
                gaps = [*(gaps or []), *cfg_gaps]
        if covered:
            continue
        names = [label for _, label in invokers[fid]]
        labels = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        first = invokers[fid][0][0]
        when = f" when {' and '.join(dict.fromkeys(gaps))}" if gaps else ""
        decision = (
            "DeadLetterQueue or EventInvokeConfig.DestinationConfig.OnFailure"
            if sam
            else "DeadLetterConfig.TargetArn or an AWS::Lambda::EventInvokeConfig with DestinationConfig.OnFailure"
        )
        scheduled = all(
            (res := t.get(rid)) is not None and recurring_schedule(t, res)
            for rid, _ in invokers[fid]
        )
        retries, age = _async_limits(ctx.repo, t, fn)
        if scheduled:
            consequence = (
                f"a run that still fails after {retries} is dropped with no record; "
                "the schedule's event carries no data and the next tick runs again, so what is "
                "lost is the knowledge that a run failed"
            )
        else:
            consequence = (
                f"an event that still fails after {retries}, or is older than {age}, is "
                "discarded with no record"
            )
        yield Hit(
            fid,
            ("Properties", prop),
            f"Function {fid} is invoked asynchronously (by {labels}) but has no dead-letter queue "
            f"or OnFailure destination{when}: {consequence} (set {decision})",
            confidence=Confidence.MEDIUM if gaps else None,
            related=(Related(first, (), "asynchronous invoker"),) if first in t.resources else (),
            variant="recurring-schedule" if scheduled else None,
        )


# -- AR-EVT-005 -------------------------------------------------------------------------------

_SNS_REDRIVE_PROTOCOLS = ("sqs", "lambda", "http", "https")


def _protocol(t: Template, node: Any) -> str | None:
    value = resolve(t, node)[0].value
    return value.lower() if isinstance(value, str) else None


_LAMBDA_TARGETS = (*LAMBDA_TYPES, "AWS::Lambda::Alias", "AWS::Lambda::Version")


# the property that names the resource itself, by type (an ARN a Sub builds from the name)
_NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def _resource_names(t: Template) -> dict[str, Resource]:
    """The template's resources by the name they set (QueueName, TopicName, ...), for the ARNs
    that a Sub builds from a name instead of referencing the resource."""
    names: dict[str, Resource] = {}
    for res in t:
        prop = _NAME_PROPERTIES.get(res.type)
        if prop is not None and res.has(prop):
            for name, exact in _texts(t, res.get(prop)):
                if exact and "${" not in name:
                    names.setdefault(name, res)
    return names


def _local_target(t: Template, node: Any, names: Mapping[str, Resource]) -> Resource | None:
    """The resource of this template a target ARN or endpoint names, by reference or by an ARN
    built from its name (None: an import, a parameter, another account's or Region's resource:
    something declared elsewhere)."""
    for ref in targets(t, node):
        res = t.get(ref.target) if ref.file == t.file else None
        if res is not None:
            return res
    for text, _ in _texts(t, node):
        if text.startswith("arn:") and text.count(":") >= 5:
            found = names.get(re.split(r"[:/]", text)[-1])
            if found is not None:
                return found
    return None


def _target_kind(
    t: Template, rule: Resource, target: Mapping[str, Any], names: Mapping[str, Resource]
) -> tuple[str | None, Resource | None]:
    """The variant of a rule target and the resource of this template it names: a recurring
    schedule, an API destination (an HTTP endpoint), a resource of this template, or (None)
    a target declared elsewhere. Only the template's own resources and literal ARNs are
    read."""
    node = target.get("Arn", MISSING)
    local = _local_target(t, node, names)
    if recurring_schedule(t, rule):
        return "recurring-schedule", local
    if local is not None and local.type == "AWS::Events::ApiDestination":
        return "http-endpoint", local
    if any(":api-destination/" in text for text, _ in _texts(t, node)):
        return "http-endpoint", None
    return ("local-target" if local is not None else None), local


def _sns_kind(
    t: Template, protocol: str, endpoint: Any, names: Mapping[str, Resource]
) -> tuple[str | None, Resource | None]:
    if protocol in ("http", "https"):
        return "http-endpoint", None
    local = _local_target(t, endpoint, names)
    return ("local-target" if local is not None else None), local


# EventBridge's built-in targets (EBS snapshots, EC2 reboot/stop/terminate): the ARN as written,
# pseudo parameters of a Sub included
_BUILT_IN_TARGET = re.compile(
    r"^arn:(?:\$\{AWS::Partition\}|aws[a-z-]*):events:.{0,80}:target/([A-Za-z0-9._-]{1,64})$"
)


def _delivery(
    service: str, kind: str | None, local: Resource | None, built_in: str | None = None
) -> str:
    """What an undelivered event costs, by the kind of target (the variants of AR-EVT-005)."""
    what = "events" if service == "EventBridge" else "messages"
    if kind == "http-endpoint":
        within = (
            "EventBridge's retries (up to 24 hours by default)"
            if service == "EventBridge"
            else "SNS's retries"
        )
        return f"{what} the endpoint does not accept within {within} are dropped"
    if kind == "recurring-schedule":
        return (
            "a tick EventBridge cannot deliver is dropped; the event carries no data and the next "
            "tick comes at the next interval"
        )
    dropped = f"{what} {service} cannot deliver after its retries are dropped"
    if kind == "local-target" and local is not None:
        text = (
            f"{dropped}, but {local.logical_id} is declared in this template, so delivery fails "
            "only when its resource policy, a key or the resource itself is broken, which this "
            "template controls"
        )
        if local.type in _LAMBDA_TARGETS:
            text += (
                " (Lambda takes the event into its own asynchronous queue; what fails inside the "
                "function needs the function's own dead-letter queue or OnFailure destination)"
            )
        return text
    if built_in is not None:
        return (
            f"{dropped}; the target is EventBridge's built-in {built_in} action, so a call that "
            "fails (a permission of the rule's role, a resource that is gone) leaves no trace"
        )
    return (
        f"{dropped}; the target is not declared in this template (another stack, account or "
        "Region), so its policy and availability can change without this template"
    )


@template_check("AR-EVT-005")
def delivery_without_dlq(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    names = _resource_names(t)
    for rule in t.of_type("AWS::Events::Rule"):
        tgts = rule.get("Targets")
        if not isinstance(tgts, list):
            continue
        yield Checked(rule.logical_id)
        event = sam_event(t, rule)
        for i, item in enumerate(tgts):
            for outcome in resolve(t, item):
                target = outcome.value
                if not isinstance(target, Mapping):
                    continue
                ok, gaps = _present(t, target.get("DeadLetterConfig", MISSING), "Arn")
                if ok:
                    continue
                conds = (*outcome.conditions, *gaps)
                tid = resolve(t, target.get("Id"))[0].value
                kind, local = _target_kind(t, rule, target, names)
                arn = item.get("Arn") if isinstance(item, Mapping) else None
                if isinstance(arn, Mapping) and "Fn::Sub" in arn:
                    sub = arn["Fn::Sub"]
                    arn = sub[0] if isinstance(sub, list) and sub else sub
                found = _BUILT_IN_TARGET.match(arn) if isinstance(arn, str) else None
                built_in = found.group(1) if found else None
                if event is not None:
                    fn, name, spec = event
                    etype = spec.get("Type")
                    fix = (
                        "a CloudWatchEvent event cannot take a DeadLetterConfig: use an "
                        "EventBridgeRule event with DeadLetterConfig"
                        if etype == "CloudWatchEvent"
                        else "set DeadLetterConfig on the event"
                    )
                    message = (
                        f"The {etype} event {name} of {fn.logical_id} creates EventBridge rule "
                        f"{rule.logical_id} whose target has no dead-letter queue"
                        f"{_when(conds)}: {_delivery('EventBridge', kind, local, built_in)} "
                        f"({fix})"
                    )
                else:
                    message = (
                        f"Target {tid if isinstance(tid, str) else i} of EventBridge rule "
                        f"{rule.logical_id} has no DeadLetterConfig{_when(conds)}: "
                        f"{_delivery('EventBridge', kind, local, built_in)}"
                    )
                yield Hit(
                    rule.logical_id,
                    ("Properties", "Targets", i, "DeadLetterConfig"),
                    message,
                    confidence=Confidence.MEDIUM if conds else None,
                    variant=kind,
                )
                break
    for sub in t.of_type("AWS::SNS::Subscription"):
        protocol = _protocol(t, sub.get("Protocol"))
        if protocol not in _SNS_REDRIVE_PROTOCOLS:
            continue
        yield Checked(sub.logical_id)
        ok, gaps = _present(t, sub.get("RedrivePolicy"))
        if ok:
            continue
        event = sam_event(t, sub)
        if event is not None:
            what = (
                f"The SNS event {event[1]} of {event[0].logical_id} creates SNS subscription "
                f"{sub.logical_id} ({protocol}) with no RedrivePolicy"
            )
        else:
            what = f"SNS subscription {sub.logical_id} ({protocol}) has no RedrivePolicy"
        kind, local = _sns_kind(t, protocol, sub.get("Endpoint"), names)
        yield Hit(
            sub.logical_id,
            ("Properties", "RedrivePolicy"),
            f"{what}{_when(gaps)}: {_delivery('SNS', kind, local)}",
            confidence=Confidence.MEDIUM if gaps else None,
            variant=kind,
        )
    for topic in t.of_type("AWS::SNS::Topic"):
        subs = topic.get("Subscription")
        if not isinstance(subs, list):
            continue
        judged = False
        for i, item in enumerate(subs):
            if not isinstance(item, Mapping):
                continue
            protocol = _protocol(t, item.get("Protocol"))
            if protocol not in _SNS_REDRIVE_PROTOCOLS:
                continue
            judged = True
            kind, local = _sns_kind(t, protocol, item.get("Endpoint", MISSING), names)
            yield Hit(
                topic.logical_id,
                ("Properties", "Subscription", i),
                f"SNS topic {topic.logical_id} has an inline {protocol} subscription, which "
                f"cannot carry a RedrivePolicy: {_delivery('SNS', kind, local)} (declare an "
                "AWS::SNS::Subscription with RedrivePolicy instead)",
                variant=kind,
            )
        if judged:
            yield Checked(topic.logical_id)


def _when(conditions: tuple[str, ...]) -> str:
    return f" when {' and '.join(dict.fromkeys(conditions))}" if conditions else ""


# -- AR-EVT-006 -------------------------------------------------------------------------------


def _sqs_source(
    repo: RepoIndex, t: Template, esm: Resource
) -> tuple[str | None, Confidence] | None:
    """(queue logical id or None, confidence) when the mapping reads an SQS queue."""
    node = esm.get("EventSourceArn")
    queue = pointed(repo, t, node, (QUEUE,))
    if queue is not None:
        return queue[1].logical_id, Confidence.HIGH
    event = sam_event(t, esm)
    if event is not None and event[2].get("Type") == "SQS":
        return None, Confidence.HIGH
    for text, _ in _texts(t, node):
        if re.search(r"(^|:)sqs:", text):
            return None, Confidence.MEDIUM
    return None


def _batches(t: Template, esm: Resource) -> tuple[bool, tuple[str, ...]]:
    """(whether the mapping takes more than one message per batch in some branch, the
    conditions of those branches when others take one). BatchSize 1 needs no partial batch
    response; unset, AWS::NoValue or unknown count as more (the SQS default is 10)."""
    if not esm.has("BatchSize"):
        return True, ()
    outcomes = resolve(t, esm.get("BatchSize"))
    more = [o for o in outcomes if o.value is NOVALUE or number(o.value) != 1]
    if not more:
        return False, ()
    if len(more) == len(outcomes):
        return True, ()
    return True, tuple(dict.fromkeys(c for o in more for c in o.conditions))


@template_check("AR-EVT-006")
def sqs_without_partial_batch(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
        source = _sqs_source(ctx.repo, t, esm)
        if source is None:
            continue
        yield Checked(esm.logical_id)
        batched, batch_conds = _batches(t, esm)
        if not batched:
            continue  # a batch of one message: a partial response would change nothing
        qid, confidence = source
        if batch_conds:
            confidence = lower_confidence(confidence, Confidence.MEDIUM)
        gaps: list[str] = []
        always_missing = not esm.has("FunctionResponseTypes")
        for outcome in resolve(t, esm.get("FunctionResponseTypes")) if not always_missing else ():
            items = outcome.value if isinstance(outcome.value, list) else [outcome.value]
            if "ReportBatchItemFailures" in items:
                continue
            if not outcome.conditions:
                always_missing = True
                break
            gaps.extend(c for c in outcome.conditions if c not in gaps)
        if not always_missing and not gaps:
            continue
        if not always_missing:
            confidence = lower_confidence(confidence, Confidence.MEDIUM)
        else:
            gaps = []
        fn = _lambda_of(ctx.repo, t, esm.get("FunctionName"))
        fname = fn[1].logical_id if fn is not None else "its function"
        event = sam_event(t, esm)
        queue = f"queue {qid}" if qid else "an SQS queue"
        if event is not None and event[2].get("Type") == "SNS":
            what = (
                f"The SqsSubscription of SNS event {event[1]} of {event[0].logical_id} reads "
                f"{queue} without ReportBatchItemFailures, and SqsSubscription cannot set it "
                "(subscribe your own queue and add an SQS event with FunctionResponseTypes)"
            )
        elif event is not None:
            what = (
                f"The SQS event {event[1]} of {event[0].logical_id} reads {queue} without "
                "FunctionResponseTypes [ReportBatchItemFailures]"
            )
        else:
            what = (
                f"Event source mapping {esm.logical_id} ({queue} -> {fname}) has no "
                "FunctionResponseTypes [ReportBatchItemFailures]"
            )
        once = _receives_once(t, qid)
        yield Hit(
            esm.logical_id,
            ("Properties", "FunctionResponseTypes"),
            what
            + _when((*gaps, *(c for c in batch_conds if c not in gaps)))
            + (
                ": one failing message fails the whole batch, and with maxReceiveCount 1 every "
                "message of it, those that succeeded too, is moved to the dead-letter queue"
                if once
                else ": one failing message makes the whole batch return to the queue, and the "
                "messages that succeeded are processed again"
            ),
            confidence=confidence,
        )


def _receives_once(t: Template, qid: str | None) -> bool:
    """Whether the queue's RedrivePolicy moves a message to its dead-letter queue after one
    receive (maxReceiveCount 1 in every branch): a failed batch then goes there whole."""
    queue = t.get(qid) if qid else None
    if queue is None or queue.type != "AWS::SQS::Queue":
        return False
    policy = queue.get("RedrivePolicy")
    outcomes = resolve(t, policy) if policy is not MISSING else []
    counts = []
    for o in outcomes:
        value = o.value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return False
        if not isinstance(value, Mapping):
            return False
        counts.append(number(first(t, value.get("maxReceiveCount", MISSING)).value))
    return bool(counts) and all(c == 1 for c in counts)


# -- AR-EVT-007 -------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9*?]", "", text.lower())


def _ordered(patterns: tuple[str, ...], name: str, literal_name: bool) -> str | None:
    for pattern in patterns:
        if literal_name and fnmatch.fnmatchcase(name.lower(), pattern.lower()):
            return pattern
        if not literal_name and fnmatch.fnmatchcase(_squash(name), _squash(pattern)):
            return pattern
    return None


RETENTION_KEY = "events.retention_days"
FIFO_KEY = "events.fifo_queues"


@template_check("AR-EVT-007")
def queue_differs_from_profile(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    profile = ctx.profile
    days = profile.queue_retention_days if profile.declares(RETENTION_KEY) else None
    retention = days is not None
    patterns = profile.ordered_queue_patterns if profile.declares(FIFO_KEY) else ()
    if not retention and not patterns:
        yield NotJudged("the profile declares no event pipeline (events.retention_days)")
        return
    wanted = float(days or 0) * 86400
    for queue in t.of_type(QUEUE):
        if queue.implicit:
            continue
        yield Checked(queue.logical_id)
        for v in (
            values(t, queue, "MessageRetentionPeriod", DEFAULT_RETENTION_S) if retention else ()
        ):
            if v.value is None or v.value == wanted:
                continue
            shown = (
                f"MessageRetentionPeriod {v.value:g} s ({_days(v.value)})"
                if v.explicit
                else (f"no MessageRetentionPeriod (the SQS default, {_days(v.value)})")
            )
            shorter = v.value < wanted
            consequence = (
                "a backlog older than that is deleted during an outage the declared pipeline "
                "expects it to survive"
                if shorter
                else "messages are kept longer than the declared pipeline says"
            )
            yield Hit(
                queue.logical_id,
                ("Properties", "MessageRetentionPeriod"),
                f"Queue {queue.logical_id} has {shown}, not the {days} "
                f"days ({wanted:.0f} s) the profile declares for the event pipeline"
                + (f" [{v.note}]" if v.note and v.explicit else "")
                + f": {consequence}",
                confidence=lower_confidence(Confidence.HIGH, v.confidence),
                variant=None if shorter else "retention-longer",
            )
            break
        yield from _ordering(t, queue, patterns)


def _ordering(t: Template, queue: Resource, patterns: tuple[str, ...]) -> Iterator[Hit]:
    if not patterns:
        return
    names = _texts(t, queue.get("QueueName"))
    match: tuple[str, str, Confidence] | None = None
    for text, exact in names:
        pattern = _ordered(patterns, text, True)
        if pattern is not None:
            match = (
                text,
                pattern,
                Confidence.HIGH if exact and "${" not in text else Confidence.MEDIUM,
            )
            break
    if match is None and not queue.has("QueueName"):
        pattern = _ordered(patterns, queue.logical_id, False)
        if pattern is not None:
            match = (queue.logical_id, pattern, Confidence.LOW)
    if match is None:
        return
    name, pattern, confidence = match
    for fifo, conds in _is_fifo(t, queue):
        if fifo:
            continue
        basis = (
            f"its QueueName {name!r}"
            if queue.has("QueueName")
            else f"its logical id {name!r}, with no QueueName,"
        )
        yield Hit(
            queue.logical_id,
            ("Properties", "FifoQueue"),
            f"Queue {queue.logical_id} ({basis} matches the ordered-queue pattern "
            f"{pattern!r} of the profile) is not FIFO{_when(conds)}: messages can be delivered "
            "out of order and more than once",
            confidence=lower_confidence(confidence, Confidence.MEDIUM if conds else None),
            variant="not-fifo",
        )
        return


# -- AR-EVT-008 -------------------------------------------------------------------------------

_STREAM_TYPES = {
    "AWS::Kinesis::Stream": "Kinesis",
    "AWS::Kinesis::StreamConsumer": "Kinesis",
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::DynamoDB::GlobalTable": "DynamoDB",
    "AWS::MSK::Cluster": "MSK",
    "AWS::MSK::ServerlessCluster": "MSK",
}
_SAM_STREAM_EVENTS = {
    "Kinesis": "Kinesis",
    "DynamoDB": "DynamoDB",
    "MSK": "MSK",
    "SelfManagedKafka": "Kafka",
}
_STREAM_LABEL = {
    "Kinesis": "Kinesis stream",
    "DynamoDB": "DynamoDB stream",
    "MSK": "Amazon MSK topic",
    "Kafka": "self-managed Kafka topic",
}


def stream_source(
    repo: RepoIndex, template: Template, esm: Resource
) -> tuple[str, tuple[Template, Resource] | None] | None:
    """The kind of stream an event source mapping reads (Kinesis, DynamoDB, MSK, Kafka) and
    the stream's resource when the template declares it, or None for a queue, a broker or a
    source that cannot be told."""
    event = sam_event(template, esm)
    if event is not None:
        kind = event[2].get("Type")
        if not isinstance(kind, str) or kind not in _SAM_STREAM_EVENTS:
            return None
        found = pointed(repo, template, esm.get("EventSourceArn"), tuple(_STREAM_TYPES))
        return _SAM_STREAM_EVENTS[kind], found
    if esm.has("SelfManagedEventSource"):
        return "Kafka", None
    node = esm.get("EventSourceArn")
    found = pointed(repo, template, node, tuple(_STREAM_TYPES))
    if found is not None:
        return _STREAM_TYPES[found[1].type], found
    for text, _ in _texts(template, node):
        low = text.lower()
        if ":kinesis:" in low:
            return "Kinesis", None
        if ":dynamodb:" in low and "/stream/" in low:
            return "DynamoDB", None
        if ":kafka:" in low:
            return "MSK", None
    return None


def _unbounded(template: Template, esm: Resource, name: str) -> bool:
    """The setting is unset or -1 (no limit) in every branch; an unresolvable value counts as
    a limit (benefit of the doubt)."""
    node = esm.get(name)
    if node is MISSING:
        return True
    outcomes = resolve(template, node)
    return all(o.value is NOVALUE or number(o.value) == -1 for o in outcomes)


def _expiry(kind: str, stream: tuple[Template, Resource] | None) -> str:
    """When a record leaves the stream, for the message."""
    if kind == "DynamoDB":
        return "after 24 hours, when it leaves the DynamoDB stream"
    if kind == "Kinesis":
        if stream is not None and stream[1].type == "AWS::Kinesis::Stream":
            hours = number(resolve(stream[0], stream[1].get("RetentionPeriodHours"))[0].value)
            if stream[1].has("RetentionPeriodHours") and hours is not None:
                return f"after {hours:g} hours, the stream's RetentionPeriodHours"
            if not stream[1].has("RetentionPeriodHours"):
                return "after 24 hours, the stream's default retention"
        return "when it leaves the stream, after 24 hours by default and up to 365 days"
    return "when the topic's retention removes it"


def _no_limit(esm: Resource) -> str:
    """How a mapping leaves its retries unlimited, for a message."""
    retry = (
        "MaximumRetryAttempts -1" if esm.has("MaximumRetryAttempts") else "no MaximumRetryAttempts"
    )
    age = (
        "MaximumRecordAgeInSeconds -1"
        if esm.has("MaximumRecordAgeInSeconds")
        else "no MaximumRecordAgeInSeconds"
    )
    return f"{retry} and {age} (unlimited retries)"


def _stalled(template: Template, esm: Resource, kind: str) -> str:
    """What waits behind a batch that keeps failing, for a message."""
    if kind in ("MSK", "Kafka"):
        return "the partition processes nothing else"
    factor = number(resolve(template, esm.get("ParallelizationFactor"))[0].value)
    if esm.has("ParallelizationFactor") and (factor is None or factor > 1):
        return "the shard's later records with the same partition key wait"
    return "the shard processes nothing else"


def _written(template: Template, res: Resource, name: str) -> str:
    """A property's value as written, for a message."""
    value = resolve(template, res.get(name))[0].value
    found = number(value)
    return f"{found:g}" if found is not None else "(unresolved)"


def _batch_isolated(template: Template, esm: Resource) -> bool:
    """BisectBatchOnFunctionError true, or the function reports batch item failures."""
    if any(
        truthy(o.value) is True for o in resolve(template, esm.get("BisectBatchOnFunctionError"))
    ):
        return True
    types = esm.get("FunctionResponseTypes")
    for outcome in resolve(template, types) if types is not MISSING else ():
        value = outcome.value
        if isinstance(value, list) and "ReportBatchItemFailures" in value:
            return True
    return False


def _function_dlq(
    repo: RepoIndex, template: Template, esm: Resource
) -> tuple[Resource, str] | None:
    """The consuming function and the property holding its dead-letter queue, when set."""
    fn = _lambda_of(repo, template, esm.get("FunctionName"))
    if fn is None or fn[0] is not template:
        return None
    prop = "DeadLetterQueue" if fn[1].type == "AWS::Serverless::Function" else "DeadLetterConfig"
    ok, _gaps = _present(template, fn[1].get(prop), "TargetArn")
    return (fn[1], prop) if ok else None


@template_check("AR-EVT-008", cross_file=True)
def stream_without_failure_handling(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
        source = stream_source(ctx.repo, t, esm)
        if source is None:
            continue
        kind, stream = source
        yield Checked(esm.logical_id)
        where = _where(t, esm)
        fn = _lambda_of(ctx.repo, t, esm.get("FunctionName"))
        fname = fn[1].logical_id if fn is not None else "its function"
        if where != esm.logical_id:
            article = "an" if kind == "MSK" else "a"
            head = f"{where[0].upper()}{where[1:]} ({article} {_STREAM_LABEL[kind]})"
        else:
            head = f"Event source mapping {where} ({_STREAM_LABEL[kind]} to {fname})"
        destination, gaps = _present(t, esm.get("DestinationConfig"), "OnFailure", "Destination")
        retries_unbounded = _unbounded(t, esm, "MaximumRetryAttempts")
        age_unbounded = _unbounded(t, esm, "MaximumRecordAgeInSeconds")
        # Kafka: with an on-failure destination and unlimited retries Lambda caps them at 10
        unbounded = (
            retries_unbounded and age_unbounded and not (kind in ("MSK", "Kafka") and destination)
        )
        expiry = _expiry(kind, stream)
        dlq = _function_dlq(ctx.repo, t, esm)
        conf = Confidence.MEDIUM if gaps else None
        if not destination:
            when = f" when {' and '.join(gaps)}" if gaps else ""
            if unbounded:
                what = (
                    f"has no DestinationConfig.OnFailure{when}, {_no_limit(esm)}: a batch that "
                    f"keeps failing is retried until its oldest record expires ({expiry}); "
                    f"{_stalled(t, esm, kind)} meanwhile, and the expired records are then "
                    "dropped with no copy kept"
                )
            else:
                limits = [
                    f"{name} {_written(t, esm, name)}"
                    for name in ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
                    if not _unbounded(t, esm, name)
                ] or ["its retries"]
                what = (
                    f"has no DestinationConfig.OnFailure{when}: the records of a batch that still "
                    f"fails when {' or '.join(limits)} run{'s' if len(limits) == 1 else ''} out "
                    "are skipped with no copy kept"
                )
            related: tuple[Related, ...] = ()
            if dlq is not None:
                what += (
                    f"; the DeadLetter{'Queue' if dlq[1] == 'DeadLetterQueue' else 'Config'} of "
                    f"{dlq[0].logical_id} does not catch them: Lambda sends only failed "
                    "asynchronous invocations there, never stream records"
                )
                related = (
                    Related(
                        dlq[0].logical_id,
                        ("Properties", dlq[1]),
                        "function-level dead-letter queue, never used for stream records",
                    ),
                )
            yield Hit(
                esm.logical_id,
                ("Properties", "DestinationConfig", "OnFailure"),
                f"{head} {what} (set DestinationConfig.OnFailure.Destination to a queue, topic "
                f"or bucket{', and MaximumRetryAttempts' if unbounded else ''})",
                confidence=conf,
                related=related,
                variant="function-dlq" if dlq is not None else None,
            )
        elif unbounded:
            yield Hit(
                esm.logical_id,
                ("Properties", "MaximumRetryAttempts"),
                f"{head} has {_no_limit(esm)}: a batch that keeps failing is retried until its "
                f"oldest record expires ({expiry}) before the on-failure destination receives "
                f"it, and {_stalled(t, esm, kind)} meanwhile (set MaximumRetryAttempts)",
                variant="unbounded-retries",
            )
        if kind in ("Kinesis", "DynamoDB") and not _batch_isolated(t, esm):
            yield Hit(
                esm.logical_id,
                ("Properties", "BisectBatchOnFunctionError"),
                f"{head} neither sets BisectBatchOnFunctionError nor reports batch item failures "
                "(FunctionResponseTypes ReportBatchItemFailures): one record that fails makes its "
                "whole batch fail, so the batch's other records are retried with it and, when "
                "Lambda gives up on the batch, discarded with it",
                variant="no-bisect",
            )


CHECKS: tuple[Check, ...] = (
    queue_without_dlq,
    dlq_retention_not_longer,
    visibility_below_timeout,
    async_function_without_dlq,
    delivery_without_dlq,
    sqs_without_partial_batch,
    queue_differs_from_profile,
    stream_without_failure_handling,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
