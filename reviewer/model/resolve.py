"""Resolver: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::If, Fn::FindInMap,
Fn::ImportValue, parameters and local nested-stack parameters.

Nothing here raises on template content: what cannot be known is an `Unresolved` value, which
checks turn into lower confidence. Evaluation is bounded (depth and number of outcomes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.core.bounds import tick
from reviewer.core.types import Confidence, Path
from reviewer.model.template import MISSING, SUB_TOKEN, Template, getatt, sub_parts

# The reference graph lives with the template (its edges); these names are read from here too.
from reviewer.model.template import PSEUDO as PSEUDO
from reviewer.model.template import Reference as Reference
from reviewer.model.template import intrinsic as intrinsic
from reviewer.model.template import references as references
from reviewer.model.template import sam_alias as sam_alias

MAX_OUTCOMES = 16
MAX_DEPTH = 24


# The value types below are made tens of thousands of times in a scan: each writes its fields
# straight into its __dict__ (what the generated __init__ of a frozen dataclass does through
# object.__setattr__, field by field, at twice the cost); frozen, compared and hashed as before.


@dataclass(frozen=True)
class Unresolved:
    reason: str
    text: str | None = None  # partial rendering, unknown parts as ${...}

    def __init__(self, reason: str, text: str | None = None) -> None:
        fields = self.__dict__
        fields["reason"] = reason
        fields["text"] = text


@dataclass(frozen=True)
class RefTo:
    """A resource: `Ref` (attr None) or `Fn::GetAtt` (attr set), possibly in another template."""

    target: str
    attr: str | None
    file: str

    def __init__(self, target: str, attr: str | None, file: str) -> None:
        fields = self.__dict__
        fields["target"] = target
        fields["attr"] = attr
        fields["file"] = file


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NOVALUE: Any = _NoValue()


@dataclass(frozen=True)
class Outcome:
    value: Any
    conditions: tuple[str, ...] = ()
    assumed: bool = False  # from a parameter Default, an export matched by pattern, ...

    def __init__(self, value: Any, conditions: tuple[str, ...] = (), assumed: bool = False) -> None:
        fields = self.__dict__
        fields["value"] = value
        fields["conditions"] = conditions
        fields["assumed"] = assumed

    @property
    def known(self) -> bool:
        return not isinstance(self.value, Unresolved)

    @property
    def certain(self) -> bool:
        return self.known and not self.conditions and not self.assumed


@dataclass(frozen=True)
class Branch:
    """One possible value of a written node: where it is written (inside Fn::If branches too,
    so a finding lands on the branch's line), under which conditions, and whether it comes from
    a parameter default. MISSING when absent, an Unresolved when unknown."""

    value: Any
    path: Path
    conditions: tuple[str, ...] = ()
    assumed: bool = False

    def __init__(
        self, value: Any, path: Path, conditions: tuple[str, ...] = (), assumed: bool = False
    ) -> None:
        fields = self.__dict__
        fields["value"] = value
        fields["path"] = path
        fields["conditions"] = conditions
        fields["assumed"] = assumed

    @property
    def known(self) -> bool:
        return not isinstance(self.value, Unresolved)

    @property
    def missing(self) -> bool:
        return self.value is MISSING

    @property
    def confidence(self) -> Confidence | None:
        """None when certain (the rule's own confidence applies)."""
        if not self.known:
            return Confidence.LOW
        if self.conditions or self.assumed:
            return Confidence.MEDIUM
        return None


MAX_IF_DEPTH = 8  # nested Fn::If followed as branches; deeper ones are resolved in place


def if_args(node: Any) -> list[Any] | None:
    """The [condition, then, else] of an Fn::If node, or None."""
    fn = intrinsic(node)
    if fn is None or fn[0] != "Fn::If":
        return None
    arg = fn[1]
    if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
        return arg
    return None


def branch_values(
    t: Template,
    node: Any,
    path: Path,
    conditions: tuple[str, ...] = (),
    assumed: bool = False,
    depth: int = 0,
    step: Callable[[], None] | None = None,
) -> Iterator[Branch]:
    """The possible values of a written node: Fn::If branches followed with their text paths
    (`path` + "Fn::If", 1|2), other intrinsics resolved in place (NOVALUE kept: the caller
    decides what an absent value means). `step` is called once per node and per resolved
    outcome (a caller's work meter)."""
    if step is not None:
        step()
    if isinstance(node, (str, list)):  # (the common case: neither Fn::If nor an intrinsic)
        yield Branch(node, path, conditions, assumed)
        return
    args = if_args(node)
    if args is not None and depth < MAX_IF_DEPTH:
        cond = str(args[0])
        yield from branch_values(
            t, args[1], (*path, "Fn::If", 1), (*conditions, cond), assumed, depth + 1, step
        )
        yield from branch_values(
            t, args[2], (*path, "Fn::If", 2), (*conditions, "!" + cond), assumed, depth + 1, step
        )
        return
    if intrinsic(node) is not None:
        for outcome in resolve(t, node):
            if step is not None:
                step()
            yield Branch(
                outcome.value,
                path,
                tuple(dict.fromkeys((*conditions, *outcome.conditions))),
                assumed or outcome.assumed,
            )
        return
    yield Branch(node, path, conditions, assumed)


def targets(template: Template, node: Any) -> list[RefTo]:
    """The resources a value points at: through Ref/GetAtt/Sub, parameters bound by a parent
    stack, and Fn::ImportValue exports of other templates of the repository. Remembered per
    template and node (checks ask about the same alarm dimension for every function)."""
    memo = template.targets_memo
    known = memo.get(id(node))
    if known is not None and known[0] is node:
        return list(known[1])
    found = _targets(template, node)
    memo[id(node)] = (node, tuple(found))  # holds the node: its id stays its own
    return found


def _targets(template: Template, node: Any) -> list[RefTo]:
    found: list[RefTo] = []
    for outcome in resolve(template, node):
        if isinstance(outcome.value, RefTo):
            found.append(outcome.value)
    for ref in references(template, node):
        candidate = RefTo(ref.target, ref.attr, template.file)
        if ref.target in template.resources and candidate not in found:
            found.append(candidate)
    return found


# -- values -----------------------------------------------------------------------------------


def resolve(template: Template, node: Any, depth: int = 0) -> tuple[Outcome, ...]:
    """Possible values of `node` (several when Fn::If is involved)."""
    if depth > MAX_DEPTH:
        return (Outcome(Unresolved("too deep")),)
    fn = intrinsic(node)
    if fn is None:
        if isinstance(node, list):
            return (_resolve_list(template, node, depth),)
        return (Outcome(node),)
    tick("resolve")  # evaluations are work units of the file's budget (reviewer.core.bounds)
    name, arg = fn
    handler = _HANDLERS.get(name)
    if handler is None:
        return (Outcome(Unresolved(f"{name} is not evaluated")),)
    return handler(template, arg, depth)[:MAX_OUTCOMES]


def first(template: Template, node: Any) -> Outcome:
    return resolve(template, node)[0]


def _resolve_list(template: Template, node: list[Any], depth: int) -> Outcome:
    items: list[Any] = []
    conditions: list[str] = []
    assumed = False
    for item in node:
        outcome = resolve(template, item, depth + 1)[0]
        if outcome.value is NOVALUE:
            continue
        items.append(outcome.value)
        conditions.extend(c for c in outcome.conditions if c not in conditions)
        assumed = assumed or outcome.assumed
    return Outcome(items, tuple(conditions), assumed)


def _ref(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    if not isinstance(arg, str):
        return (Outcome(Unresolved("Ref to a non-string")),)
    if arg == "AWS::NoValue":
        return (Outcome(NOVALUE),)
    if arg in PSEUDO:
        return (Outcome(Unresolved(f"pseudo parameter {arg}", "${" + arg + "}")),)
    if arg in template.parameters:
        return _parameter(template, arg, depth)
    target = sam_alias(template, arg)
    if target in template.resources or arg in template.resources:
        return (Outcome(RefTo(target, None, template.file)),)
    return (Outcome(Unresolved(f"Ref to unknown {arg}")),)


def _parameter(template: Template, name: str, depth: int) -> tuple[Outcome, ...]:
    if name in template.parameter_values:
        return (Outcome(template.parameter_values[name]),)
    bound = template.parameter_sources.get(name)
    if bound is not None:
        parent, value_node = bound
        return resolve(parent, value_node, depth + 1)
    decl = template.parameters.get(name)
    if isinstance(decl, Mapping) and "Default" in decl:
        default = decl["Default"]
        ptype = decl.get("Type")
        if isinstance(ptype, str) and ptype.startswith("AWS::SSM::Parameter"):
            return (Outcome(Unresolved(f"SSM parameter {name}")),)
        return (Outcome(default, assumed=True),)
    return (Outcome(Unresolved(f"parameter {name} has no value", "${" + name + "}")),)


def _getatt_handler(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    parsed = getatt(arg)
    if parsed is None:
        return (Outcome(Unresolved("malformed Fn::GetAtt")),)
    base, attr = parsed
    base = sam_alias(template, base)
    if base in template.resources:
        nested = _nested_output(template, base, attr, depth)
        if nested is not None:
            return nested
        return (Outcome(RefTo(base, attr, template.file)),)
    return (Outcome(Unresolved(f"Fn::GetAtt of unknown {base}")),)


def _nested_output(
    template: Template, base: str, attr: str | None, depth: int
) -> tuple[Outcome, ...] | None:
    """GetAtt Child.Outputs.X of a local nested stack resolves into the child's output."""
    if not attr or not attr.startswith("Outputs.") or template.repo is None:
        return None
    child = template.repo.child_of(template, base)
    if child is None:
        return None
    output = child.outputs.get(attr.split(".", 1)[1])
    if not isinstance(output, Mapping) or "Value" not in output:
        return None
    return resolve(child, output["Value"], depth + 1)


def _sub(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    text, variables = sub_parts(arg)
    if text is None:
        return (Outcome(Unresolved("malformed Fn::Sub")),)
    conditions: list[str] = []
    assumed = False
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        nonlocal assumed
        token = match.group(1).strip()
        if variables is not None and token in variables:
            outcome = resolve(template, variables[token], depth + 1)[0]
        elif token in template.aliases:
            outcome = Outcome(RefTo(template.aliases[token], None, template.file))
        elif "." in token and token.split(".", 1)[0] in template.resources:
            outcome = Outcome(RefTo(token.split(".", 1)[0], token.split(".", 1)[1], template.file))
        else:
            outcome = _ref(template, token, depth + 1)[0]
        conditions.extend(c for c in outcome.conditions if c not in conditions)
        assumed = assumed or outcome.assumed
        if isinstance(outcome.value, (str, int, float)) and not isinstance(outcome.value, bool):
            return str(outcome.value)
        unknown.append(token)
        return "${" + token + "}"

    rendered = SUB_TOKEN.sub(replace, text).replace("${!", "${")
    if unknown:
        return (Outcome(Unresolved("Fn::Sub with unknown parts: " + ", ".join(unknown), rendered)),)
    return (Outcome(rendered, tuple(conditions), assumed),)


def _join(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return (Outcome(Unresolved("malformed Fn::Join")),)
    parts = resolve(template, arg[1], depth + 1)[0]
    if not isinstance(parts.value, list):
        return (Outcome(Unresolved("Fn::Join of an unknown list")),)
    texts: list[str] = []
    for part in parts.value:
        if isinstance(part, (str, int, float)) and not isinstance(part, bool):
            texts.append(str(part))
        else:
            return (Outcome(Unresolved("Fn::Join with unknown parts")),)
    return (Outcome(arg[0].join(texts), parts.conditions, parts.assumed),)


def _select(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    if not (isinstance(arg, list) and len(arg) == 2):
        return (Outcome(Unresolved("malformed Fn::Select")),)
    index = resolve(template, arg[0], depth + 1)[0]
    items = resolve(template, arg[1], depth + 1)[0]
    try:
        i = int(index.value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        return (Outcome(Unresolved("Fn::Select with an unknown index")),)
    if isinstance(items.value, list) and 0 <= i < len(items.value):
        return (Outcome(items.value[i], index.conditions + items.conditions, items.assumed),)
    return (Outcome(Unresolved("Fn::Select of an unknown list")),)


def _if(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
        return (Outcome(Unresolved("malformed Fn::If")),)
    cond = arg[0]
    out: list[Outcome] = []
    for branch, label in ((arg[1], cond), (arg[2], "!" + cond)):
        for outcome in resolve(template, branch, depth + 1):
            out.append(Outcome(outcome.value, (label, *outcome.conditions), outcome.assumed))
    return tuple(out)


def _find_in_map(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    if not (isinstance(arg, list) and len(arg) >= 3):
        return (Outcome(Unresolved("malformed Fn::FindInMap")),)
    keys: list[str] = []
    assumed = False
    for part in arg[:3]:
        outcome = resolve(template, part, depth + 1)[0]
        if not isinstance(outcome.value, (str, int)):
            return (Outcome(Unresolved("Fn::FindInMap with unknown keys")),)
        assumed = assumed or outcome.assumed
        keys.append(str(outcome.value))
    mappings = template.section("Mappings")
    value: Any = mappings
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return (Outcome(Unresolved("Fn::FindInMap key not in the mapping")),)
        value = value[key]
    return (Outcome(value, (), assumed),)


def _import_value(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    name = resolve(template, arg, depth + 1)[0]
    if template.repo is None:
        return (Outcome(Unresolved("Fn::ImportValue outside a repository scan")),)
    text = name.value if isinstance(name.value, str) else None
    if text is None and isinstance(name.value, Unresolved):
        text = name.value.text
    if text is None:
        return (Outcome(Unresolved("Fn::ImportValue of an unknown name")),)
    match = template.repo.export(text)
    if match is None:
        return (Outcome(Unresolved(f"no export named {text} in the repository")),)
    exporter, value_node, exact = match
    return tuple(
        Outcome(o.value, o.conditions, o.assumed or not exact or name.assumed)
        for o in resolve(exporter, value_node, depth + 1)
    )


def _passthrough_unknown(template: Template, arg: Any, depth: int) -> tuple[Outcome, ...]:
    return (Outcome(Unresolved("value known only at deploy time")),)


_HANDLERS = {
    "Ref": _ref,
    "Fn::GetAtt": _getatt_handler,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::ImportValue": _import_value,
    "Fn::GetAZs": _passthrough_unknown,
    "Fn::Base64": _passthrough_unknown,
    "Fn::Cidr": _passthrough_unknown,
    "Fn::Split": _passthrough_unknown,
}


# -- conveniences for checks -------------------------------------------------------------------


def number(value: Any) -> float | None:
    """A finite number written as a number or a string, else None (a bool, "inf", "nan", an
    integer too large for a float: no CloudFormation property takes those)."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            found = float(value)
        elif isinstance(value, str):
            found = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return found if math.isfinite(found) else None


def truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
