"""The explicit registration list: every check archreview runs, by layer module.

A test holds this list against rules/*.yaml and the catalogue in shared/spec/rules.md.
"""

from __future__ import annotations

from reviewer.checks import api, cmp, dat, dbs, drf, evt, iam, idn, mod, net, obs, stk
from reviewer.checks.registry import Check

_LAYERS = (net, api, idn, iam, dat, obs, evt, cmp, dbs, stk, mod, drf)

CHECKS: tuple[Check, ...] = tuple(check for layer in _LAYERS for check in layer.CHECKS)

# Catalogue rules whose YAML exists but whose check is not built yet, per layer module.
PLANNED: frozenset[str] = frozenset().union(*(layer.PLANNED for layer in _LAYERS))
