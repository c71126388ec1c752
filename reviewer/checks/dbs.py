"""DBS: data stores and recovery."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset(
    {"AR-DBS-001", "AR-DBS-002", "AR-DBS-003", "AR-DBS-004", "AR-DBS-005"}
)
