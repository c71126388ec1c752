"""DRF: drift between the repository and deployed stacks (live mode)."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset({"AR-DRF-001", "AR-DRF-002", "AR-DRF-003", "AR-DRF-004"})
