"""CMP: compute sizing and deployment (Lambda, Fargate)."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.checks.facts import api_integrations, function_timeout
from reviewer.model import Checked, Hit, Related, lower_confidence
from reviewer.registry import Check, TemplateContext, Yielded, template_check

REST_LIMIT_S = 29.0
HTTP_LIMIT_S = 30.0


@template_check("AR-CMP-003")
def timeout_over_integration(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    worst: dict[str, tuple[float, Hit]] = {}
    for integ in api_integrations(ctx.repo, t):
        fn = integ.function
        yield Checked(fn.logical_id)
        timeout = function_timeout(t, fn)
        if timeout.value is None:
            continue
        default = REST_LIMIT_S if integ.kind == "REST" else HTTP_LIMIT_S
        limit = integ.timeout_ms / 1000.0 if integ.timeout_ms else default
        if timeout.value <= limit:
            continue
        source = (
            f"the integration's TimeoutInMillis ({integ.timeout_ms:g} ms)"
            if integ.timeout_ms
            else f"the {integ.kind} API integration limit ({default:g} s)"
        )
        related = [Related(integ.subject, integ.timeout_path or integ.path, "API integration")]
        message = (
            f"Function {fn.logical_id} has Timeout {timeout.value:g} s, over {source} of "
            f"{integ.subject if integ.subject != fn.logical_id else 'its ' + integ.kind + ' API event'}: "
            "the client gets a 504 while the function runs on"
            + (f" [{timeout.note}]" if timeout.note else "")
        )
        hit = Hit(
            fn.logical_id,
            timeout.path,
            message,
            confidence=lower_confidence(timeout.confidence, None),
            related=tuple(related),
        )
        margin = timeout.value - limit
        if fn.logical_id not in worst or margin > worst[fn.logical_id][0]:
            worst[fn.logical_id] = (margin, hit)
    for key in sorted(worst):
        yield worst[key][1]


CHECKS: tuple[Check, ...] = (timeout_over_integration,)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {
        "AR-CMP-001",
        "AR-CMP-002",
        "AR-CMP-004",
        "AR-CMP-005",
        "AR-CMP-006",
        "AR-CMP-007",
        "AR-CMP-008",
        "AR-CMP-009",
        "AR-CMP-010",
    }
)
