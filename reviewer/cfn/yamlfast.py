"""A fast decoder for the common CloudFormation YAML template, without cfn-lint.

libyaml (PyYAML's C parser and composer) builds the node graph, exactly as cfn-lint's decoder
has it built; this module then constructs archreview nodes from it with the same result as
cfn-lint's constructor: marked mappings, sequences and strings, plain scalars otherwise, and the
short-form tags (`!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`,
`!Sub ...` -> `{"Fn::Sub": ...}`) built the way cfn-lint builds them (unmarked inner values).

It decodes only what it is sure of. Anything else — anchors and aliases, merge keys, duplicate
or null keys, unusual tags, any error — makes it return `FALLBACK`, and the caller decodes the
text with cfn-lint, which owns every error message. A test holds the two decoders equal, marks
included, on every fixture and on the corpus.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reviewer.cfn.nodes import DictNode, Span4, StrNode, dict_node, list_node

FALLBACK: Any = object()

# What cfn-lint reports as a match: (message, 1-based line, 1-based column).
RawProblem = tuple[str, int, int]

# Scanner errors after which cfn-lint tries the text as JSON: it decides those.
_JSON_RETRY = (
    "found character '\\t' that cannot start any token",
    "found unknown escape character",
)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_KEEP = ("Ref", "Condition")  # short forms cfn-lint does not prefix with Fn::

_SCALARS = yaml.constructor.SafeConstructor()  # only its scalar constructors are used


class _Fallback(Exception):
    pass


class _Duplicates(Exception):
    def __init__(self, matches: list[RawProblem]) -> None:
        super().__init__("duplicate keys")
        self.matches = matches


def _loader_class() -> type[Any]:
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


_LOADER = _loader_class()


def available() -> bool:
    """True when libyaml is there (the pure-Python composer gives other end marks)."""
    return _LOADER is not yaml.SafeLoader


def decode_yaml(text: str) -> Any:
    """(tree, ()) or (None, cfn-lint's matches) for a YAML template, or FALLBACK when cfn-lint
    must decide. The matches are those cfn-lint reports for a syntax error or duplicate keys."""
    if not available():
        return FALLBACK
    try:
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        if node is None:
            return dict_node({}), ()
        if "&" in text and "*" in text and _has_alias(node):
            return FALLBACK  # an alias: cfn-lint guards the expansion and records it
        return _construct(node), ()
    except (yaml.scanner.ScannerError, yaml.parser.ParserError) as err:
        problem = err.problem or ""
        mark = err.problem_mark
        if (
            isinstance(err, yaml.scanner.ScannerError)
            and (problem in _JSON_RETRY or problem.startswith("found unknown escape character"))
        ) or mark is None:
            return FALLBACK
        return None, [(problem, mark.line + 1, mark.column + 1)]
    except _Duplicates as dup:
        return None, dup.matches
    except Exception:  # any doubt: cfn-lint decides (and words the error)
        return FALLBACK


def _has_alias(root: Node) -> bool:
    """Whether a node is reached twice: the composer shares the anchored node with its
    aliases. (An anchor without an alias changes nothing.)"""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


def _span(node: Node) -> Span4:
    s, e = node.start_mark, node.end_mark
    return (s.line, s.column, e.line, e.column)


def _construct(node: Node) -> Any:
    tag = node.tag
    if isinstance(node, ScalarNode):
        if tag == _STR:
            s, e = node.start_mark, node.end_mark
            out = StrNode(node.value)
            out._m = (s.line, s.column, e.line, e.column)
            return out
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _SCALARS.construct_yaml_bool(node)
        if tag == _INT:
            return _SCALARS.construct_yaml_int(node)
        if tag == _FLOAT:
            return _SCALARS.construct_yaml_float(node)
        if tag == _TIMESTAMP:
            return _SCALARS.construct_yaml_timestamp(node)
    elif isinstance(node, MappingNode):
        if tag == _MAP:
            return _mapping(node)
    elif isinstance(node, SequenceNode) and tag == _SEQ:
        return list_node([_construct(child) for child in node.value], _span(node))
    if tag.startswith("!") and len(tag) > 1:
        return _short_form(tag[1:], node)
    raise _Fallback(tag)


def _mapping(node: MappingNode) -> DictNode:
    out = dict_node((), _span(node))
    matches: list[RawProblem] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Fallback("merge key")
        key = _construct(key_node)
        value = _construct(value_node)
        if key is None:
            raise _Fallback("null key")
        if key in out:  # as cfn-lint: both places the first time, then each further one
            if not isinstance(key, StrNode):
                raise _Fallback("unmarked duplicate key")
            here = key_node.start_mark
            if not matches:
                first = next(k for k in out if k == key).start_mark
                matches.append(_duplicate(key, first.line, first.column))
            matches.append(_duplicate(key, here.line, here.column))
        out[key] = value
    if matches:
        raise _Duplicates(matches)
    return out


def _duplicate(key: str, line: int, column: int) -> RawProblem:
    return (f"Duplicate found {key!r} (line {line + 1})", line + 1, column + 1)


def _plain_mapping(node: MappingNode) -> dict[Any, Any]:
    """A short form's mapping argument: cfn-lint builds it as a plain dict (later keys win)."""
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Fallback("merge key")
        key = _construct(key_node)
        hash(key)
        out[key] = _construct(value_node)
    return out


def _short_form(suffix: str, node: Node) -> DictNode:
    name = suffix if suffix in _KEEP else "Fn::" + suffix
    span = _span(node)
    value: Any
    if name == "Fn::GetAtt":
        if isinstance(node, ScalarNode):
            value = list_node(node.value.split(".", 1), span)
        elif isinstance(node, SequenceNode):
            value = list_node([_construct(child) for child in node.value], span)
        else:
            raise _Fallback("GetAtt mapping")
    elif isinstance(node, ScalarNode):
        value = node.value
    elif isinstance(node, SequenceNode):
        value = [_construct(child) for child in node.value]
    elif isinstance(node, MappingNode):
        value = _plain_mapping(node)
    else:  # pragma: no cover - libyaml has no other node kind
        raise _Fallback("node kind")
    return dict_node({name: value}, span)
