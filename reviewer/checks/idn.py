"""IDN: identity (Cognito user pools and clients)."""

from __future__ import annotations

from reviewer.registry import Check

CHECKS: tuple[Check, ...] = ()

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset({"AR-IDN-001", "AR-IDN-002", "AR-IDN-003", "AR-IDN-004"})
