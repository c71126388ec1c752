"""NET: network (VPC, security groups, edge)."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {"AR-NET-001", "AR-NET-002", "AR-NET-003", "AR-NET-004", "AR-NET-005", "AR-NET-006"}
)
