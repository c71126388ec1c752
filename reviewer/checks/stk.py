"""STK: the declared stack (go.mod, package.json, across modules)."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {
        "AR-STK-001",
        "AR-STK-002",
        "AR-STK-003",
        "AR-STK-004",
        "AR-STK-005",
        "AR-STK-006",
        "AR-STK-007",
        "AR-STK-008",
        "AR-STK-009",
    }
)
