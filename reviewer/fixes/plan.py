"""What a SetValues intent changes in a decoded template, before any text is written.

The plan is made on a tree decoded afresh from the file as it is on disk (nulls and all, as
written), and says, per mapping, which keys get a new literal and which keys are added. The
format editors (yamledit, jsonedit) turn it into text edits; `expected` says what the tree must
decode to once they are applied, which the renderer checks before it offers the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewer.core.fixes import FixValue, GetAtt, Ref, SetValues

Where = tuple[str, ...]  # the keys from the document's root down to a mapping


class NoFix(Exception):
    """The intent cannot be written as a certain, minimal edit (the reason is for tests)."""


@dataclass
class Replace:
    """A key that exists with a literal scalar: its value is rewritten."""

    key: str
    value: FixValue
    comment: str
    old: Any


@dataclass
class Insert:
    """Keys added to one mapping, in order; a value that is a dict is a new nested mapping."""

    entries: dict[str, Any] = field(default_factory=dict)  # key -> FixValue | dict
    comments: dict[str, str] = field(default_factory=dict)  # key -> comment on its value


@dataclass
class Plan:
    replaces: dict[Where, list[Replace]] = field(default_factory=dict)
    inserts: dict[Where, Insert] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.replaces and not self.inserts


def is_intrinsic(node: Any) -> bool:
    """A mapping that is an intrinsic function (`Ref`, `Fn::*`, `Condition`) or holds one as
    a key: not a mapping the renderer may add keys to."""
    if not isinstance(node, Mapping):
        return False
    return (
        any(
            isinstance(k, str) and (k == "Ref" or k.startswith("Fn::") or k == "Condition")
            for k in node
        )
        and len(node) == 1
    )


def same(old: Any, value: FixValue) -> bool:
    """The value written already means `value` (a number or boolean may be written as text)."""
    if isinstance(value, (Ref, GetAtt)):
        return bool(old == decoded(value, quoted=False))
    if isinstance(value, bool):
        return old is value or (isinstance(old, str) and old.strip().lower() == str(value).lower())
    if isinstance(value, int):
        if isinstance(old, bool):
            return False
        if isinstance(old, int):
            return old == value
        return isinstance(old, str) and old.strip() == str(value)
    return isinstance(old, str) and old == value


def decoded(value: Any, *, quoted: bool) -> Any:
    """What `value` decodes to once written (`quoted`: a scalar written in quotes)."""
    if isinstance(value, Ref):
        return {"Ref": value.target}
    if isinstance(value, GetAtt):
        return {"Fn::GetAtt": [value.target, value.attribute]}
    if isinstance(value, dict):
        return {k: decoded(v, quoted=False) for k, v in value.items()}
    if quoted:
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def make_plan(tree: Any, intent: SetValues) -> Plan:
    """The plan for `intent` on `tree`; raises NoFix when a step cannot be taken for certain."""
    resources = tree.get("Resources") if isinstance(tree, Mapping) else None
    if not isinstance(resources, Mapping):
        raise NoFix("no Resources mapping")
    resource = resources.get(intent.resource)
    if not isinstance(resource, Mapping) or is_intrinsic(resource):
        raise NoFix(f"resource {intent.resource} is not a mapping")
    plan = Plan()
    base: Where = ("Resources", intent.resource)
    for setting in intent.settings:
        if not setting.path:
            raise NoFix("an empty path")
        node: Mapping[str, Any] = resource
        where = base
        for depth, key in enumerate(setting.path):
            last = depth == len(setting.path) - 1
            if key not in node:
                rest = setting.path[depth + 1 :]
                value: Any = setting.value
                for inner in reversed(rest):
                    value = {inner: value}
                insert = plan.inserts.setdefault(where, Insert())
                _merge(insert.entries, key, value)
                if setting.comment:
                    insert.comments[".".join(setting.path[depth:])] = setting.comment
                break
            child = node[key]
            if last:
                if same(child, setting.value):
                    break
                if isinstance(child, (Mapping, list)):
                    raise NoFix(f"{'.'.join(setting.path)} is not a literal")
                plan.replaces.setdefault(where, []).append(
                    Replace(key, setting.value, setting.comment, child)
                )
                break
            if not isinstance(child, Mapping) or is_intrinsic(child):
                raise NoFix(f"{'.'.join(setting.path[: depth + 1])} is not a plain mapping")
            node = child
            where = (*where, key)
    return plan


def _merge(entries: dict[str, Any], key: str, value: Any) -> None:
    if key in entries and isinstance(entries[key], dict) and isinstance(value, dict):
        for k, v in value.items():
            _merge(entries[key], k, v)
    elif key in entries:
        raise NoFix(f"{key} is set twice")
    else:
        entries[key] = value


def expected(tree: Any, plan: Plan, written: dict[tuple[Where, str], Any]) -> Any:
    """`tree` (as decoded) as it must decode once the plan's edits are applied; `written` holds, per
    (mapping, key), the value as it decodes (what the editor wrote). `tree` is not changed:
    the mappings on the changed paths are copied, the rest is shared."""
    out = dict(tree)
    copied: set[Where] = {()}

    def mapping(where: Where) -> dict[str, Any]:
        node = out
        for depth in range(len(where)):
            key = where[depth]
            if where[: depth + 1] not in copied:
                node[key] = dict(node[key])
                copied.add(where[: depth + 1])
            node = node[key]
        return node

    for where, replaces in plan.replaces.items():
        node = mapping(where)
        for r in replaces:
            node[r.key] = written[(where, r.key)]
    for where, insert in plan.inserts.items():
        node = mapping(where)
        for key in insert.entries:
            node[key] = written[(where, key)]
    return out
