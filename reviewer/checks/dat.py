"""DAT: data protection (KMS at rest, TLS in transit, secrets)."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.cfn.resolve import NOVALUE, resolve, truthy
from reviewer.model import Confidence, Hit, Severity
from reviewer.registry import Check, TemplateContext, Yielded, template_check


@template_check("AR-DAT-005")
def topic_or_queue_without_cmk(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for topic in t.of_type("AWS::SNS::Topic"):
        if not topic.has("KmsMasterKeyId"):
            yield Hit(
                topic.logical_id,
                ("Properties", "KmsMasterKeyId"),
                f"SNS topic {topic.logical_id} has no KmsMasterKeyId: messages are stored "
                "unencrypted at rest",
            )
            continue
        for outcome in resolve(t, topic.get("KmsMasterKeyId")):
            if outcome.value is NOVALUE:
                yield Hit(
                    topic.logical_id,
                    ("Properties", "KmsMasterKeyId"),
                    f"SNS topic {topic.logical_id} is unencrypted when "
                    + " and ".join(outcome.conditions),
                    confidence=Confidence.MEDIUM,
                )
                break
    for queue in t.of_type("AWS::SQS::Queue"):
        if queue.implicit or queue.has("KmsMasterKeyId"):
            continue
        managed = truthy(resolve(t, queue.get("SqsManagedSseEnabled"))[0].value)
        if managed is False:
            yield Hit(
                queue.logical_id,
                ("Properties", "SqsManagedSseEnabled"),
                f"SQS queue {queue.logical_id} turns SSE-SQS off and sets no KmsMasterKeyId: "
                "messages are stored unencrypted",
                severity=Severity.MEDIUM,
            )
        else:
            yield Hit(
                queue.logical_id,
                ("Properties", "KmsMasterKeyId"),
                f"SQS queue {queue.logical_id} is encrypted with the SQS-owned key (SSE-SQS) "
                "rather than a customer-managed KMS key: no key policy or CloudTrail record of "
                "key use",
                severity=Severity.LOW,
            )


CHECKS: tuple[Check, ...] = (topic_or_queue_without_cmk,)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {
        "AR-DAT-001",
        "AR-DAT-002",
        "AR-DAT-003",
        "AR-DAT-004",
        "AR-DAT-006",
        "AR-DAT-007",
        "AR-DAT-008",
        "AR-DAT-009",
        "AR-DAT-010",
    }
)
