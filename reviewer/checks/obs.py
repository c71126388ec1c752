"""OBS: monitoring, audit and compliance."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {
        "AR-OBS-001",
        "AR-OBS-002",
        "AR-OBS-003",
        "AR-OBS-004",
        "AR-OBS-005",
        "AR-OBS-006",
        "AR-OBS-007",
        "AR-OBS-008",
    }
)
