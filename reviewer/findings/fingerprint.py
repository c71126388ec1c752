"""Logical fingerprints (product.md *Finding*): what makes a finding the same finding across
edits that do not concern it.

A fingerprint is a digest of the rule, the file, the logical id and the property path — never a
line number. Scheme `archreview/v2` names each list item in the path by what identifies it
instead of by its index, so inserting, removing or reordering items of a list changes no other
finding's fingerprint (prepending a harmless `DynamoDBReadPolicy` to a function's `Policies`
used to turn its existing wildcard finding into a new one). Scheme `archreview/v1` used the
index (`Policies[1].Statement[0].Action`); it is still computed, from a finding's displayed
property path, to read baselines written with it.

What identifies a list item, by the key that holds the list (one table per list kind):

* `Policies` (IAM inline policies, SAM function policies): an inline policy's `PolicyName`; a
  managed policy's ARN or a SAM short name (the string itself); a SAM policy template's name
  plus a digest of its parameters; an inline SAM policy document by a digest of its statements'
  effects and actions;
* `ManagedPolicyArns`, and any list of scalars: the value itself;
* `Statement`: the `Sid`, else a digest of what it grants (`Effect`, `Action`/`NotAction`,
  `Principal`/`NotPrincipal`) — not its `Resource` or `Condition`, so narrowing those keeps it;
* `SecurityGroupIngress` / `SecurityGroupEgress`: protocol, ports and CIDR or source/destination;
* other lists of mappings: the first of a few naming keys the item has (`Name`, `Id`, `Sid`,
  `PolicyName`, `IndexName`, `AttributeName`, `Key`, `Region`, `PathPattern`, ...), else a
  digest of the item without the key the path continues into (the property the finding is
  about may change without changing which item it is).

Two items with the same name get an occurrence counter (`~2` for the second), so a duplicate
still has a fingerprint of its own. Names longer than `MAX_LABEL` characters are digested. The
named path is only ever hashed: it never reaches an output, so repository text in it needs no
escaping.

A path without list items has the same fingerprint in both schemes: only findings below a list
item change once, when moving to v2.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

SCHEME = "archreview/v2"
V1_SCHEME = "archreview/v1"
MAX_LABEL = 120  # characters of a name kept as written; longer names are digested
MAX_DIGEST_NODES = 20_000  # nodes of an item fed to a digest (the rest is left out)
_MEMO_KEEP = 512  # lists whose item names are remembered at once (all forgotten together)

_NAMING_KEYS = (
    "PolicyName",
    "Sid",
    "Name",
    "Id",
    "IndexName",
    "AttributeName",
    "Key",
    "Region",
    "PathPattern",
    "RuleName",
    "LogicalId",
    "Type",
)
_GRANT_KEYS = ("Effect", "Action", "NotAction", "Principal", "NotPrincipal")
_SG_SOURCE_KEYS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "SourceSecurityGroupName",
    "SourcePrefixListId",
    "DestinationSecurityGroupId",
    "DestinationPrefixListId",
)
_MEMO: dict[tuple[int, str], tuple[Sequence[Any], list[str]]] = {}


def _hash(raw: str) -> str:
    # surrogatepass: a JSON template may hold half a surrogate pair ("\ud800") in a logical id
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def logical(rule_id: str, file: str, subject: str | None, named_path: str | None) -> str:
    """The `archreview/v2` fingerprint: `named_path` is the property path with list items named
    (`named_path`); without list items it equals the displayed property path."""
    return _hash(f"{rule_id}|{file}|{subject or ''}|{named_path or ''}")


def v1(rule_id: str, file: str, subject: str | None, prop: str | None) -> str:
    """The `archreview/v1` fingerprint, from the displayed property path (list indexes)."""
    return _hash(f"{rule_id}|{file}|{subject or ''}|{prop or ''}")


def digest(value: Any, leave_out: str | None = None) -> str:
    """A short digest of a decoded value, the same for equal values whatever their key order;
    `leave_out`: a key of a mapping `value` not to include. Values of plain JSON shape are
    digested through the json module (C speed); anything else (keys that are not strings,
    nesting past the recursion limit, values json cannot write) by `walked_digest`."""
    if isinstance(value, Mapping) and leave_out is not None:
        value = {k: v for k, v in value.items() if k != leave_out}
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return walked_digest(value)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def walked_digest(value: Any, leave_out: str | None = None) -> str:
    """`digest` for any value, walked iteratively (no recursion limit to reach on deep values)
    over at most MAX_DIGEST_NODES nodes (the rest is left out)."""
    h = hashlib.sha256()
    stack: list[Any] = [value]
    budget = MAX_DIGEST_NODES
    first = True
    while stack and budget > 0:
        budget -= 1
        node = stack.pop()
        if isinstance(node, Mapping):
            keys = sorted(node, key=lambda k: (str(k), type(k).__name__), reverse=True)
            h.update(b"{")
            for key in keys:
                if first and key == leave_out:
                    continue
                stack.append(_Close(str(key)))
                stack.append(node[key])
        elif isinstance(node, list | tuple):
            h.update(b"[")
            for item in reversed(node):
                stack.append(item)
                stack.append(_SEP)
        elif isinstance(node, _Close):
            h.update(b"}" + node.key.encode("utf-8", "surrogatepass"))
        elif node is _SEP:
            h.update(b",")
        else:
            h.update(b"=" + _scalar(node).encode("utf-8", "surrogatepass") + b";")
        first = False
    return h.hexdigest()[:12]


class _Close:
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


_SEP = object()


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, bool) or value is None:
        return "c" + json.dumps(value)
    return "n" + str(value)


def _text(value: Any) -> str:
    """A scalar as a name (strings as written, numbers as text), a structure by its digest."""
    if isinstance(value, str):
        return value if len(value) <= MAX_LABEL else "#" + digest(value)
    if isinstance(value, Mapping | list | tuple):
        return "#" + digest(value)
    return _scalar(value)[1:]


def _sorted_list(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(_text(v) for v in value)
    return value


def item_name(kind: str, item: Any, leave_out: str | None = None) -> str:
    """What identifies `item` of a list held under the key `kind` (see the module docstring);
    `leave_out`: the key of the item the path continues into."""
    if not isinstance(item, Mapping):
        return json.dumps(_text(item), ensure_ascii=False)
    if kind == "Policies":
        if "PolicyName" in item:
            return f"PolicyName={_text(item['PolicyName'])}"
        if "Statement" in item or "Version" in item:
            statements = item.get("Statement")
            grants = (
                [{k: _sorted_list(s.get(k)) for k in _GRANT_KEYS} for s in statements]
                if isinstance(statements, list) and all(isinstance(s, Mapping) for s in statements)
                else statements
            )
            return f"document#{digest(grants)}"
        if len(item) == 1:
            (name,) = item
            return f"{_text(str(name))}#{digest(item[name])}"
    if kind == "Statement":
        if "Sid" in item:
            return f"Sid={_text(item['Sid'])}"
        return "grant#" + digest({k: _sorted_list(item.get(k)) for k in _GRANT_KEYS})
    if kind in ("SecurityGroupIngress", "SecurityGroupEgress"):
        parts = [_text(item.get(k, "")) for k in ("IpProtocol", "FromPort", "ToPort")]
        parts += [f"{k}={_text(item[k])}" for k in _SG_SOURCE_KEYS if k in item]
        return " ".join(parts)
    for key in _NAMING_KEYS:
        if key in item and key != leave_out and not isinstance(item[key], Mapping | list):
            return f"{key}={_text(item[key])}"
    return "#" + digest(item, leave_out)


def _names(kind: str, items: Sequence[Any], leave_out: str | None) -> list[str]:
    """The name of every item of a list, with occurrence counters; remembered per list."""
    memo_key = (id(items), f"{kind}\0{leave_out or ''}")
    known = _MEMO.get(memo_key)
    if known is not None and known[0] is items and len(known[1]) == len(items):
        return known[1]
    seen: dict[str, int] = {}
    names: list[str] = []
    for item in items:
        name = item_name(kind, item, leave_out)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}~{seen[name]}")
    if len(_MEMO) >= _MEMO_KEEP:
        _MEMO.clear()
    _MEMO[memo_key] = (items, names)  # holds the list: its id stays its own
    return names


def named_path(root: Any, path: Sequence[str | int]) -> str | None:
    """The property path of `path` below `root` (a resource's view, or the template) with each
    list index replaced by the item's name; the same string as the displayed path when `path`
    has no index. An index that does not resolve (the item is not there) stays an index."""
    elems = list(path)
    cur: Any = root
    if elems and elems[0] == "Properties":
        cur = cur.get("Properties") if isinstance(cur, Mapping) else None
        elems = elems[1:]
    if elems and elems[0] == "__line__":
        return None
    parts: list[str] = []
    kind = ""
    for pos, elem in enumerate(elems):
        if isinstance(elem, int):
            label = f"[{elem}]"
            if isinstance(cur, list) and -len(cur) <= elem < len(cur):
                nxt = elems[pos + 1] if pos + 1 < len(elems) else None
                leave_out = nxt if isinstance(nxt, str) else None
                label = f"[{_names(kind, cur, leave_out)[elem]}]"
                cur = cur[elem]
            else:
                cur = None
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
        else:
            parts.append(str(elem))
            kind = str(elem)
            cur = cur.get(elem) if isinstance(cur, Mapping) else None
    return ".".join(parts) or None
