"""IAM: least-privilege identity and resource policies."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.checks.facts import as_list, identity_policies, statements
from reviewer.model import Confidence, Hit
from reviewer.registry import Check, TemplateContext, Yielded, template_check


def _wildcard_action(action: object) -> bool:
    return isinstance(action, str) and (
        action == "*"
        or (
            action.endswith(":*")
            and ":" in action
            and action.count(":") == 1
            and action.split(":")[1] == "*"
        )
    )


@template_check("AR-IAM-001")
def allow_star_on_star(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for doc in identity_policies(t):
        for stmt in statements(t, doc):
            effect = stmt.node.get("Effect")
            if effect != "Allow" or "Action" not in stmt.node:
                continue
            actions, a_cond = as_list(t, stmt.node.get("Action"))
            resources, r_cond = as_list(t, stmt.node.get("Resource"))
            wild = sorted({a for a in actions if _wildcard_action(a)})
            if not wild or "*" not in resources:
                continue
            conditions = tuple(dict.fromkeys((*stmt.conditions, *a_cond, *r_cond)))
            when = f" when {' and '.join(conditions)}" if conditions else ""
            yield Hit(
                doc.resource.logical_id,
                (*stmt.path, "Action"),
                f"{doc.resource.logical_id} allows {', '.join(repr(a) for a in wild)} on "
                f"Resource '*'{when}: full control of "
                + (
                    "every service"
                    if "*" in wild
                    else "every resource of " + ", ".join(a.split(":")[0] for a in wild if a != "*")
                ),
                confidence=Confidence.MEDIUM if conditions else None,
            )


CHECKS: tuple[Check, ...] = (allow_star_on_star,)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {"AR-IAM-002", "AR-IAM-003", "AR-IAM-004", "AR-IAM-005", "AR-IAM-006"}
)
