"""archreview's own marked node types: the decoded tree the model and the checks read.

A decoded template is a tree of `DictNode`, `ListNode` and `StrNode` (plus plain ints, floats,
bools, None and the rare date or bytes scalar). Each marked node has `start_mark` and
`end_mark`, each with 0-based `line` and `column` attributes, exactly as cfn-lint's decoder
gives them, so the locator reads them the same way.

These types exist so that a decoded tree is small and can be pickled into the cache and loaded
back fast without importing cfn-lint (whose node classes are built at import time and drag the
whole linter in). A node keeps its span as one tuple `_m = (start line, start column, end line,
end column)`; the marks are made when asked for (only the locator asks). Pickling uses the
default protocol on purpose: no Python code runs per node when a tree is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Span4 = tuple[int, int, int, int]
_ORIGIN: Span4 = (0, 0, 0, 0)


class Mark:
    """A 0-based position (the attributes the locator reads)."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mark) and self.line == other.line and self.column == other.column

    def __hash__(self) -> int:
        return hash((self.line, self.column))

    def __repr__(self) -> str:
        return f"Mark({self.line}, {self.column})"


class _Marked:
    """The marks of a node, made from its span when asked for (only the locator asks)."""

    __slots__ = ()
    _m: Span4

    @property
    def start_mark(self) -> Mark:
        return Mark(self._m[0], self._m[1])

    @property
    def end_mark(self) -> Mark:
        return Mark(self._m[2], self._m[3])


class StrNode(_Marked, str):
    """A string scalar (or mapping key) with its span. (A str subclass cannot have slots.)"""

    def __deepcopy__(self, memo: dict[int, Any]) -> StrNode:
        return self  # immutable


class DictNode(_Marked, dict[Any, Any]):
    """A mapping with its span. `get` with a mapping default returns it marked like this one,
    as cfn-lint's dict node does, so the locator behaves the same on defaults."""

    __slots__ = ("_m",)

    def get(self, key: Any, default: Any = None) -> Any:
        if isinstance(default, dict):
            default = dict_node(default, self._m)
        return dict.get(self, key, default)

    def __deepcopy__(self, memo: dict[int, Any]) -> DictNode:
        from copy import deepcopy

        out = dict_node((), self._m)
        memo[id(self)] = out
        for k, v in self.items():
            out[deepcopy(k, memo)] = deepcopy(v, memo)
        return out


class ListNode(_Marked, list[Any]):
    """A sequence with its span."""

    __slots__ = ("_m",)

    def __deepcopy__(self, memo: dict[int, Any]) -> ListNode:
        from copy import deepcopy

        out = list_node((), self._m)
        memo[id(self)] = out
        out.extend(deepcopy(v, memo) for v in self)
        return out


def str_node(value: str, span: Span4) -> StrNode:
    out = StrNode(value)
    out._m = span
    return out


def dict_node(items: Any, span: Span4 = _ORIGIN) -> DictNode:
    out = DictNode(items)
    out._m = span
    return out


def list_node(items: Any, span: Span4 = _ORIGIN) -> ListNode:
    out = ListNode(items)
    out._m = span
    return out


def _span(start: Any, end: Any) -> Span4:
    """(start line, start column, end line, end column) from two marks (no end: the start)."""
    if end is None:
        end = start
    return (int(start.line), int(start.column), int(end.line), int(end.column))


def _leaf(node: Any) -> Any:
    """A scalar of a marked tree as archreview keeps it: a marked string as StrNode, an
    unmarked string as str, anything else as it is."""
    if isinstance(node, str):
        start = getattr(node, "start_mark", None)
        if start is not None:
            return str_node(str(node), _span(start, getattr(node, "end_mark", None)))
        return node if type(node) is str else str(node)
    return node


def _shell(node: Any) -> Any:
    """An empty archreview container with the marks of `node` (a dict or list)."""
    start = getattr(node, "start_mark", None)
    end = getattr(node, "end_mark", None)
    if isinstance(node, dict):
        return dict_node((), _span(start, end)) if start is not None else {}
    return list_node((), _span(start, end)) if start is not None else []


def convert(tree: Any, *, consume: bool = False) -> Any:
    """A tree of any marked node types (cfn-lint's) as archreview nodes. Shared containers
    (YAML aliases) stay shared; unmarked values are kept as they are. With `consume`, each
    source container is emptied once converted, so that the source tree shrinks as the new one
    grows and the two are never both whole in memory. Iterative: any depth."""
    if not isinstance(tree, (dict, list)):
        return _leaf(tree)
    memo: dict[int, Any] = {}  # id of a source container -> its conversion
    root = _shell(tree)
    memo[id(tree)] = root
    stack: list[tuple[Any, Any, Any]] = [
        (tree, root, iter(tree.items() if isinstance(tree, dict) else tree))
    ]
    while stack:
        source, out, items = stack[-1]
        descend = False
        for item in items:
            if isinstance(out, dict):
                key, value = item
                key = _leaf(key)
            else:
                value = item
            if isinstance(value, (dict, list)):
                converted = memo.get(id(value))
                if converted is None:
                    converted = _shell(value)
                    memo[id(value)] = converted
                    children = value.items() if isinstance(value, dict) else value
                    stack.append((value, converted, iter(children)))
                    descend = True
            else:
                converted = _leaf(value)
            if isinstance(out, dict):
                out[key] = converted
            else:
                out.append(converted)
            if descend:
                break
        if not descend:
            stack.pop()
            if consume:
                source.clear()
    return root


def plain(node: Any) -> Any:
    """A decoded tree as plain dicts (string keys), lists and scalars: for comparing two
    decodings, or writing a tree back out with json/yaml."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node
