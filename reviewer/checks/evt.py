"""EVT: the event pipeline (SQS, SNS, EventBridge, asynchronous Lambda)."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.cfn.resolve import NOVALUE, resolve
from reviewer.cfn.template import Resource, Template
from reviewer.checks.facts import (
    DEFAULT_VISIBILITY_S,
    event_source_mappings,
    failure_targets,
    function_timeout,
    numeric,
    queue_name_matches,
)
from reviewer.model import Checked, Confidence, Hit, Related, lower_confidence
from reviewer.registry import Check, TemplateContext, Yielded, template_check


@template_check("AR-EVT-001")
def queue_without_dlq(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    refs, literals = failure_targets(ctx.repo)
    for queue in t.of_type("AWS::SQS::Queue"):
        if (t.file, queue.logical_id) in refs or queue.has("RedriveAllowPolicy"):
            continue
        if any(queue_name_matches(t, queue, lit) for lit in literals):
            continue
        if queue.implicit:
            continue
        if not queue.has("RedrivePolicy"):
            yield Hit(
                queue.logical_id,
                ("Properties", "RedrivePolicy"),
                f"Queue {queue.logical_id} has no RedrivePolicy: messages that keep failing "
                "are retried until they expire and are lost",
            )
            continue
        outcomes = resolve(t, queue.get("RedrivePolicy"))
        for outcome in outcomes:
            if outcome.value is NOVALUE:
                when = " and ".join(outcome.conditions) or "a condition"
                yield Hit(
                    queue.logical_id,
                    ("Properties", "RedrivePolicy"),
                    f"Queue {queue.logical_id} has no dead-letter queue when {when} "
                    "(RedrivePolicy resolves to AWS::NoValue)",
                    confidence=Confidence.MEDIUM,
                )
                break


@template_check("AR-EVT-003")
def visibility_below_timeout(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    worst: dict[str, tuple[float, Hit]] = {}
    for m in event_source_mappings(ctx.repo, t):
        if m.queue is None or m.function is None:
            continue
        q_tpl, queue = m.queue
        f_tpl, fn = m.function
        timeout = function_timeout(f_tpl, fn)
        visibility = numeric(q_tpl, queue, "VisibilityTimeout", DEFAULT_VISIBILITY_S)
        yield_subject = queue.logical_id if q_tpl is t else m.mapping.logical_id
        yield Checked(yield_subject)
        if timeout.value is None or visibility.value is None:
            continue
        if visibility.value >= 6 * timeout.value:
            continue
        confidence = lower_confidence(timeout.confidence, visibility.confidence)
        where_timeout = "" if timeout.explicit else " (the default)"
        if _from_globals(f_tpl, fn):
            where_timeout = " (from Globals)"
        notes = "; ".join(n for n in (visibility.note, timeout.note) if n)
        message = (
            f"Queue {queue.logical_id} has VisibilityTimeout {visibility.value:g} s, below 6 x the "
            f"{timeout.value:g} s Timeout{where_timeout} of {fn.logical_id} that consumes it "
            f"(needs >= {6 * timeout.value:g} s): messages become visible again while still "
            "being processed and are handled twice" + (f" [{notes}]" if notes else "")
        )
        related = (Related(fn.logical_id, timeout.path, "function timeout"),) if f_tpl is t else ()
        if q_tpl is t:
            hit = Hit(
                queue.logical_id, visibility.path, message, confidence=confidence, related=related
            )
        else:
            hit = Hit(
                m.mapping.logical_id,
                ("Properties", "EventSourceArn"),
                message + f" (queue defined in {q_tpl.file})",
                confidence=lower_confidence(confidence, Confidence.MEDIUM),
                related=related,
            )
        key = hit.subject or ""
        if key not in worst or timeout.value > worst[key][0]:
            worst[key] = (timeout.value, hit)
    for _, hit in sorted(worst.values(), key=lambda p: p[1].subject or ""):
        yield hit


def _from_globals(template: Template, fn: Resource) -> bool:
    glb = template.globals.get("Function")
    own = fn.node.get("Properties")
    return (
        isinstance(glb, dict)
        and "Timeout" in glb
        and not (isinstance(own, dict) and "Timeout" in own)
    )


CHECKS: tuple[Check, ...] = (queue_without_dlq, visibility_below_timeout)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {"AR-EVT-002", "AR-EVT-004", "AR-EVT-005", "AR-EVT-006", "AR-EVT-007"}
)
