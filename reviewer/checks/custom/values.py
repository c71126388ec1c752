"""The possible values of a property path, as the model resolves them.

A resource's properties already carry SAM Globals (reviewer.model.sam); intrinsic functions are
resolved with the template's parameter values (profile, samconfig, defaults) by
reviewer.model.resolve. An ``Fn::If`` gives one value per branch, each with the conditions it
depends on and its own text path (so a finding lands on the branch's line, as the built-ins'
do). A property written as a JSON string (an SQS RedrivePolicy) is read as the structure it
holds when a path goes below it. ``AWS::NoValue`` is an absent value, located at the key that
resolves to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.core.types import Path
from reviewer.model.resolve import NOVALUE, Branch, branch_values
from reviewer.model.template import MISSING, Resource, Template

from .language import WILD


class Work:
    """Counted evaluation steps of one rule on one template; over `limit`, OverLimit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def tick(self, units: int = 1) -> None:
        self.used += units
        if self.used > self.limit:
            raise OverLimit(self.limit)


class OverLimit(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


# one possible value at a path (reviewer.model.resolve.Branch)
Val = Branch


def expand(
    t: Template,
    node: Any,
    path: Path,
    work: Work,
    conditions: tuple[str, ...] = (),
    assumed: bool = False,
) -> Iterator[Val]:
    """The possible values of a written node (NOVALUE kept: the caller locates it), each step
    counted on the rule's meter."""
    return branch_values(t, node, path, conditions, assumed, step=work.tick)


def _structured(value: Any) -> Any:
    """A JSON string read as what it holds (for paths that go below it)."""
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")) and len(value) < 65536:
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return value
    return value


def possible(
    t: Template, res: Resource, path: tuple[str | int, ...], work: Work, *, attribute: bool = False
) -> list[Val]:
    """Every possible value at `path` below the resource's Properties (or, for an attribute,
    below the resource: DeletionPolicy, Condition, Metadata.X). A missing key gives one MISSING
    value at the path of that key (below the branch of its parent); a wildcard over a missing
    or empty collection gives no values."""
    start = [Val(res.view, ())] if attribute else [Val(res.properties, ("Properties",))]
    current = start
    for seg in path:
        nxt: list[Val] = []
        for val in current:
            work.tick()
            if val.missing or not val.known:
                nxt.append(
                    val
                    if val.missing
                    else Val(val.value, (*val.path, seg), val.conditions, val.assumed)
                )
                continue
            holder = _structured(val.value)
            if seg == WILD:
                items: list[tuple[str | int, Any]]
                if isinstance(holder, Mapping):
                    items = [(str(k), v) for k, v in holder.items()]
                elif isinstance(holder, list):
                    items = list(enumerate(holder))
                else:
                    items = []
                for key, child in items:
                    nxt.extend(_child(t, child, (*val.path, key), val, work))
                continue
            child = MISSING
            if isinstance(holder, Mapping) and isinstance(seg, str):
                child = holder.get(seg, MISSING)
            elif (
                isinstance(holder, list)
                and isinstance(seg, int)
                and -len(holder) <= seg < len(holder)
            ):
                child = holder[seg]
            if child is MISSING or child is None:
                nxt.append(Val(MISSING, (*val.path, seg), val.conditions, val.assumed))
                continue
            nxt.extend(_child(t, child, (*val.path, seg), val, work))
        current = nxt
    return current


def _child(t: Template, node: Any, path: Path, parent: Val, work: Work) -> Iterator[Val]:
    for v in expand(t, node, path, work, parent.conditions, parent.assumed):
        if v.value is NOVALUE or v.value is None:
            yield Val(MISSING, path, v.conditions, v.assumed)
        else:
            yield v


def written(res: Resource, path: tuple[str | int, ...], *, attribute: bool = False) -> bool:
    """Whether the key at `path` is written (SAM Globals count), whatever its value."""
    node: Any = res.view if attribute else res.properties
    for seg in path:
        if seg == WILD:
            return isinstance(node, (Mapping, list)) and len(node) > 0
        node = _step(_structured(node), seg)
        if node is MISSING:
            return False
        if node is None:
            return False
    return True


def _step(node: Any, seg: str | int) -> Any:
    """The child of a map (by key) or a list (by index), or MISSING."""
    if isinstance(node, Mapping) and isinstance(seg, str):
        return node.get(seg, MISSING)
    if isinstance(node, list) and isinstance(seg, int) and -len(node) <= seg < len(node):
        return node[seg]
    return MISSING
