"""CloudFormation YAML decoded straight from libyaml's event stream into archreview's nodes.

cfn-lint's decoder (reviewer.decode.cfnlint, the oracle and the fallback) already parses with
libyaml, but composes a tree of PyYAML nodes, then constructs a second tree of its own node
types from it in Python, checks every mapping key against every earlier key (quadratic in a
mapping's width), and archreview then converted that tree into a third (reviewer.decode.nodes).
`loads()` here reads the same parser's events (`yaml.cyaml.CParser.get_event`) once and builds
reviewer.decode.nodes types directly: one tree, no intermediate, duplicate keys found with the
mapping itself (a dict lookup per key), the work linear in the size of the text.

It reproduces, value for value and mark for mark, what `cfn_yaml.loads` of cfn-lint 1.x gives
(docs/adr/0006-decoding-on-libyaml.md lists each rule; tests/test_fast_decoder.py holds the two
equal on every fixture, the corpus and the hard cases):

- scalars resolve with PyYAML's own YAML 1.1 resolver and are built with PyYAML's own
  SafeConstructor methods (booleans `yes/no/on/off`, ints, floats, dates and timestamps);
  strings are `StrNode` with the scalar's marks;
- short-form intrinsic tags (`!Ref`, `!GetAtt`, `!Sub`, ..., any `!Name`) become a one-key
  mapping `{"Fn::Name": ...}` (`Ref` and `Condition` keep their name), with cfn-lint's
  quirks: the tagged value is the raw scalar text, or a plain list or dict; `!GetAtt a.b`
  splits at the first dot; `!GetAtt {}` is an empty list and `!GetAtt {k: v}` a mapping
  marked at line 1, column 1;
- errors are cfn-lint's matches (message, line, column), in cfn-lint's order: a parse error
  from libyaml (the same parser, so the same words), then a composer error (undefined alias,
  duplicate anchor, a second document), then the first construction error (a null key, the
  duplicate keys of the first mapping to end, a recursive alias, a scalar that does not
  construct), then the alias-expansion guard (over 250,000 nodes once aliases are expanded,
  checked when the text holds an `&`, as cfn-lint does).

What it does not reproduce it refuses (`Refused`), and the caller falls back to cfn-lint's
decoder: merge keys (`<<`), the `=` value key, tags outside the core scalar ones and `!Name`,
a tag on the wrong kind of node, a mapping or sequence used as a key, duplicate keys that are
not strings, and nesting deeper than MAX_DEPTH (cfn-lint's own limit there is Python's
recursion limit, which depends on the caller's stack).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.parser import ParserError
from yaml.resolver import Resolver
from yaml.scanner import ScannerError

from reviewer.decode.nodes import DictNode, ListNode, StrNode

MAX_EXPANDED_NODES = 250_000  # cfn-lint's _MAX_EXPANDED_NODES (a test holds the two equal)
MAX_DEPTH = 100  # deeper documents go to cfn-lint, whose limit is the Python stack's

Match = tuple[str, int, int]  # cfn-lint's match as archreview reads it: message, line, column

_STR = "tag:yaml.org,2002:str"
_OTHER = ""  # not known to be a string yet
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# the scalar tags built here, with SafeConstructor's methods (str is built directly)
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float", "timestamp", "binary")
)
_UNCONVERTED = ("Ref", "Condition")  # cfn-lint's UNCONVERTED_SUFFIXES: no "Fn::" prefix
_GETATT = "Fn::GetAtt"
_CACHE_LIMIT = 4096  # per document: built non-string scalars
# the tags of plain scalars (what PyYAML's resolver gives, from the text alone), for every
# document of the process: short texts only, and a bounded number of them
_RESOLVED: dict[str, str] = {}
_RESOLVED_LIMIT = 8192
_RESOLVED_TEXT = 64
# "!Name" -> the intrinsic's key (cfn-lint's "Fn::Name", or the name for Ref and Condition)
_SUFFIXES: dict[str, str] = {}
_SUFFIXES_LIMIT = 256


class Refused(Exception):
    """The fast decoder does not handle this document; cfn-lint's decoder decodes it."""


class Failed(Exception):
    """The document does not decode: cfn-lint's matches for it."""

    def __init__(self, matches: tuple[Match, ...]) -> None:
        super().__init__(matches[0][0] if matches else "")
        self.matches = matches


def could_not_parse(exc: BaseException) -> Failed:
    """cfn-lint's answer to an exception while loading: one match at line 1, column 1."""
    return Failed(((f"Template could not be parsed: {exc}", 1, 1),))


# cfn-lint's loader class when PyYAML has libyaml (its `FastLoader`): the same C parser, so the
# same events, marks and parse errors; without libyaml every document goes to cfn-lint
_LOADER: Any = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
_RESOLVER = Resolver()
_RESOLVERS: dict[Any, Any] = Resolver.yaml_implicit_resolvers
# the first characters for which PyYAML's resolver may give a plain scalar a tag other than
# str; with a wildcard resolver (first character None) every plain scalar goes through it
_FIRST: frozenset[str] | None = (
    None if None in _RESOLVERS else frozenset(k for k in _RESOLVERS if isinstance(k, str) and k)
)
# SafeConstructor's scalar methods read only the node (no loader state): called directly, as
# cfn-lint's loader dispatches these tags (it overrides only map, seq and str)
_CONSTRUCTOR = SafeConstructor()
_CONSTRUCTORS: dict[Any, Any] = SafeConstructor.yaml_constructors


class _Open:
    """A mapping or sequence whose end has not been read yet."""

    __slots__ = (
        "anchor",
        "dups",
        "has_key",
        "items",
        "key",
        "key_null",
        "kind",
        "size",
        "start",
        "suffix",
    )

    def __init__(
        self, kind: int, items: Any, start: Any, suffix: str | None = None, anchor: Any = None
    ) -> None:
        self.kind = kind  # _MAPPING, _TAGGED_MAPPING or _SEQUENCE
        self.items = items
        self.start = start  # the start event's mark (for the span and for errors)
        self.suffix = suffix  # "Fn::Name" for a tagged node, else None
        self.anchor = anchor  # the _Anchor of this node, or None
        self.size = 0  # the builder's expanded-node counter before this node (see compose)
        self.has_key = False
        self.key: Any = None
        self.key_null: tuple[str, Any] | None = None  # raw text and mark of a null key
        self.dups: list[Match] | None = None


class _Anchor:
    __slots__ = ("mark", "null_text", "open", "size", "value")

    def __init__(self, mark: Any) -> None:
        self.mark = mark  # the anchored node's start mark
        self.open = True  # a collection still being read: an alias to it is recursive
        self.value: Any = None
        self.size = 1
        self.null_text: str | None = None  # the raw text of an anchored null scalar

    def done(self, value: Any, size: int) -> None:
        self.open = False
        self.value = value
        # an alias adds its node's size: kept at most one over the cap, so that sums of
        # sizes stay small numbers however the aliases nest
        self.size = min(size, MAX_EXPANDED_NODES + 1)


_MAPPING, _TAGGED_MAPPING, _SEQUENCE = 0, 1, 2


def _span(start: Any, end: Any) -> tuple[int, int, int, int]:
    return (start.line, start.column, end.line, end.column)


def _suffix(tag: str) -> str:
    suffix = _SUFFIXES.get(tag)
    if suffix is None:
        name = tag[1:]
        suffix = name if name in _UNCONVERTED else "Fn::" + name
        if len(_SUFFIXES) < _SUFFIXES_LIMIT and len(tag) <= _RESOLVED_TEXT:
            _SUFFIXES[tag] = suffix
    return suffix


class _Builder:
    """One document's events -> nodes. `error` keeps the first construction error in
    cfn-lint's order; the parse goes on to the end, since a later parse error wins."""

    def __init__(self, text: str, *, marks: bool = True) -> None:
        if _LOADER is None:
            raise Refused("PyYAML without libyaml")
        self.get_event: Callable[[], Any] = _LOADER(text).get_event
        self.anchors: dict[str, _Anchor] = {}
        self.error: tuple[Match, ...] | None = None
        self.count = 1  # 1 + the entries of every distinct container: load's node cap
        self.size = 0  # the root's size once aliases are expanded
        self.built: dict[tuple[str, str], Any] = {}
        self.marks = marks  # False: plain strings, mappings and sequences (see loads)

    def fail(self, matches: tuple[Match, ...]) -> None:
        if self.error is None:
            self.error = matches

    def document(self) -> Any:
        get = self.get_event
        get()  # stream start
        event = get()
        if event.__class__ is StreamEndEvent:
            return None
        root, root_mark = self.compose()
        get()  # document end
        event = get()
        if event.__class__ is not StreamEndEvent:
            raise ComposerError(
                "expected a single document in the stream",
                root_mark,
                "but found another document",
                event.start_mark,
            )
        return root

    def resolve(self, value: str, implicit: tuple[bool, bool]) -> str:
        """PyYAML's tag for a plain scalar (remembered for the next ones, in every document:
        the tag of a plain scalar depends on its text alone)."""
        tag: str = _RESOLVER.resolve(ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
        if len(value) <= _RESOLVED_TEXT and len(_RESOLVED) < _RESOLVED_LIMIT:
            _RESOLVED[value] = tag
        return tag

    def scalar(self, event: Any, anchor: _Anchor | None) -> tuple[Any, int]:
        """A scalar event's value and its expanded size."""
        tag = event.tag
        value = event.value
        start = event.start_mark
        if tag is None or tag == "!":
            implicit = event.implicit
            if implicit[0] and (_FIRST is None or not value or value[0] in _FIRST):
                tag = _RESOLVED.get(value) or self.resolve(value, implicit)
            else:
                tag = _STR
        elif tag[0] == "!":
            suffix = _suffix(tag)
            span = _span(start, event.end_mark)
            node = DictNode()
            node._m = span
            if suffix == _GETATT:
                parts = ListNode(value.split(".", 1))
                parts._m = span
                node[suffix] = parts
                self.count += 1 + len(parts)
                return node, 2 + len(parts)
            node[suffix] = value
            self.count += 1
            return node, 2
        if tag == _STR:
            out = StrNode(value)
            out._m = (start.line, start.column, event.end_mark.line, event.end_mark.column)
            return out, 1
        if tag not in _SCALAR_TAGS:  # merge (<<), value (=), !!set, custom tags, ...
            raise Refused(f"scalar tag {tag}")
        key = (tag, value)
        if key in self.built:
            built = self.built[key]
        else:
            try:
                built = _CONSTRUCTORS[tag](
                    _CONSTRUCTOR, ScalarNode(tag, value, start, event.end_mark)
                )
            except Exception as exc:
                self.fail(could_not_parse(exc).matches)
                return None, 1
            if len(self.built) < _CACHE_LIMIT:
                self.built[key] = built
        if built is None and anchor is not None:
            anchor.null_text = value
        return built, 1

    def open(self, event: Any, mapping: bool) -> _Open:
        anchor = self.anchor(event)
        tag = event.tag
        start = event.start_mark
        suffix = None
        if tag is None or tag == "!" or tag == (_MAP if mapping else _SEQ):
            kind = _MAPPING if mapping else _SEQUENCE
        elif tag[0] == "!":
            suffix = _suffix(tag)
            if suffix == _GETATT:
                kind = _MAPPING if mapping else _SEQUENCE
            else:
                kind = _TAGGED_MAPPING if mapping else _SEQUENCE
        else:
            raise Refused(f"collection tag {tag}")
        if kind == _MAPPING:
            items: Any = DictNode()
        elif kind == _TAGGED_MAPPING:
            items = {}
        elif suffix is None or suffix == _GETATT:
            items = ListNode()
        else:
            items = []
        return _Open(kind, items, start, suffix, anchor)

    def finish(self, frame: _Open, end: Any) -> Any:
        items = frame.items
        span = _span(frame.start, end)
        self.count += len(items)
        if frame.kind == _MAPPING:
            if frame.dups:
                self.fail(tuple(frame.dups))
            if frame.suffix is None:
                items._m = span
                return items
            if not items:  # cfn-lint: `!GetAtt {}` is an empty list
                items = ListNode()
            items._m = span if isinstance(items, ListNode) else (1, 1, 1, 1)
        elif frame.suffix is None or frame.suffix == _GETATT:
            items._m = span
            if frame.suffix is None:
                return items
        node = DictNode()
        node[frame.suffix] = items
        node._m = span
        self.count += 1  # (and one more expanded node: compose counts it)
        return node

    def key(self, frame: _Open, key: Any, event: Any) -> None:
        """`key` read as the next key of the open mapping `frame`."""
        if isinstance(key, (dict, list)):
            raise Refused("a mapping or sequence as a key")
        frame.key = key
        frame.has_key = True
        if key is None:
            frame.key_null = self.null_key(event)

    def problem(self, frame: _Open, key: Any) -> None:
        """cfn-lint's errors for a null key (at once) or a duplicate key (at the mapping's end)."""
        if key is None and frame.key_null is not None:
            text, mark = frame.key_null
            frame.key_null = None
            message = f"Null key {text!r} not supported (line {mark.line + 1})"
            self.fail(((message, mark.line + 1, mark.column + 1),))
        elif key is not None:
            self.duplicate(frame, key)

    def null_key(self, event: Any) -> tuple[str, Any]:
        """The raw text and start mark of the null key `event` stands for (an alias: its
        anchor's, as the alias is the anchored node itself)."""
        if event.__class__ is AliasEvent:
            anchor = self.anchors[str(event.anchor)]
            return (anchor.null_text or "", anchor.mark)
        return (str(event.value), event.start_mark)

    def duplicate(self, frame: _Open, key: Any) -> None:
        if not isinstance(key, StrNode):
            raise Refused("a duplicate key that is not a string")
        line, column = key._m[0], key._m[1]
        message = f"Duplicate found {key!r} (line {line + 1})"
        if frame.dups is None:
            first = next(k for k in frame.items if k == key)  # once per mapping
            frame.dups = [
                (
                    f"Duplicate found {key!r} (line {first._m[0] + 1})",
                    first._m[0] + 1,
                    first._m[1] + 1,
                ),
                (message, line + 1, column + 1),
            ]
        else:
            frame.dups.append((message, line + 1, column + 1))

    def compose(self) -> tuple[Any, Any]:
        """The document's root node and its start mark: one pass over the events, the common
        cases (a string, a short-form intrinsic on a scalar, a mapping's value, a sequence's
        item, the end of an untagged node) inline.

        The open node's state lives in locals (`items`, `kind`, `key`, `has_key`) and is saved
        into its frame while a child is open. The expanded size (cfn-lint's alias guard) is one
        counter, `nodes`: a mapping or sequence adds one when it starts (and one more when it
        ends if it wraps a short-form intrinsic), a scalar or an alias adds its size when it
        becomes an item or a mapping's value (a key adds nothing), so a node's size is the
        counter's growth from its start to its end."""
        get = self.get_event
        marks = self.marks
        first = _FIRST
        resolved = _RESOLVED
        resolve = self.resolve
        stack: list[_Open] = []
        push = stack.append
        pop = stack.pop
        top: _Open | None = None
        items: Any = None
        kind = _SEQUENCE
        key: Any = None
        has_key = False
        nodes = 0  # expanded nodes so far
        count = 0  # entries of the containers closed inline (added to self.count at the end)
        root_mark = None
        while True:
            event = get()
            cls = event.__class__
            if cls is ScalarEvent:
                tag = event.tag
                if event.anchor is not None:
                    value, size = self.scalar_event(event)
                elif tag is None:
                    value = event.value
                    if (
                        event.implicit[0]
                        and (first is None or not value or value[0] in first)
                        and (resolved.get(value) or resolve(value, event.implicit)) != _STR
                    ):
                        value, size = self.scalar(event, None)  # a null, bool, number, date
                    else:
                        if marks:
                            start = event.start_mark
                            end = event.end_mark
                            value = StrNode(value)
                            value._m = (start.line, start.column, end.line, end.column)
                        size = 1
                elif tag[0] == "!" and tag != "!":  # a short-form intrinsic: !Ref, !Sub, ...
                    suffix = _suffix(tag)
                    start = event.start_mark
                    end = event.end_mark
                    span = (start.line, start.column, end.line, end.column)
                    value = DictNode()
                    value._m = span
                    if suffix == _GETATT:
                        parts = ListNode(event.value.split(".", 1))
                        parts._m = span
                        value[suffix] = parts
                        count += 1 + len(parts)
                        size = 2 + len(parts)
                    else:
                        value[suffix] = event.value
                        count += 1
                        size = 2
                else:
                    value, size = self.scalar(event, None)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                if top is None:
                    root_mark = event.start_mark
                else:
                    top.key = key
                    top.has_key = has_key
                if event.tag is None and event.anchor is None:
                    if cls is MappingStartEvent:
                        top = _Open(_MAPPING, DictNode() if marks else {}, event.start_mark)
                    else:
                        top = _Open(_SEQUENCE, ListNode() if marks else [], event.start_mark)
                else:
                    top = self.open(event, cls is MappingStartEvent)
                top.size = nodes
                nodes += 1
                push(top)
                if len(stack) > MAX_DEPTH:
                    raise Refused(f"nested deeper than {MAX_DEPTH}")
                items = top.items
                kind = top.kind
                has_key = False
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = pop()
                if frame.suffix is None and frame.anchor is None and not frame.dups:
                    if marks:
                        start = frame.start
                        end = event.end_mark
                        items._m = (start.line, start.column, end.line, end.column)
                    count += len(items)
                    value = items
                else:
                    value = self.finish(frame, event.end_mark)
                    if frame.suffix is not None:
                        nodes += 1  # the mapping that wraps a short-form intrinsic
                    if frame.anchor is not None:
                        frame.anchor.done(value, nodes - frame.size)
                size = 0  # counted already, from its start to its end
                if stack:
                    top = stack[-1]
                    items = top.items
                    kind = top.kind
                    key = top.key
                    has_key = top.has_key
                else:
                    top = None
            elif cls is AliasEvent:
                value, size = self.alias(event)
            else:  # never inside a document
                raise Refused(f"an unexpected {cls.__name__}")
            if top is None:
                self.size = nodes + size
                self.count += count
                return value, root_mark if root_mark is not None else event.start_mark
            if kind == _SEQUENCE:
                items.append(value)
                nodes += size
            elif has_key:
                has_key = False
                nodes += size
                if kind == _MAPPING and (key is None or key in items):
                    self.problem(top, key)
                items[key] = value
            elif value.__class__ is StrNode or value.__class__ is str:
                key = value
                has_key = True
            else:
                self.key(top, value, event)
                key = top.key
                has_key = True

    def anchor(self, event: Any) -> _Anchor | None:
        """The anchor a node event defines (None if it defines none): the composer's error for
        an anchor defined twice."""
        name = event.anchor
        if name is None:
            return None
        if name in self.anchors:
            raise ComposerError(
                "found duplicate anchor; first occurrence",
                self.anchors[name].mark,
                "second occurrence",
                event.start_mark,
            )
        new = _Anchor(event.start_mark)
        self.anchors[name] = new
        return new

    def scalar_event(self, event: Any) -> tuple[Any, int]:
        anchor = self.anchor(event)
        value, size = self.scalar(event, anchor)
        if anchor is not None:
            anchor.done(value, size)
        return value, size

    def alias(self, event: Any) -> tuple[Any, int]:
        """The node an alias stands for (the anchored node itself, not a copy) and its size."""
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise ComposerError(None, None, "found undefined alias", event.start_mark)
        if anchor.open:  # an alias inside its own anchored node
            problem = ConstructorError(
                None, None, "found unconstructable recursive node", anchor.mark
            )
            self.fail(could_not_parse(problem).matches)
            return None, 1
        return anchor.value, anchor.size


def loads(text: str, *, marks: bool = True) -> tuple[Any, int]:
    """Decode a YAML template as cfn-lint's `cfn_yaml.loads` does: (tree, node count for
    load's cap). Raises Failed (cfn-lint's matches), ScannerError or ParserError (libyaml's,
    which cfn-lint lets through for its JSON retry), or Refused.

    `marks=False` gives the same values for less work, for a caller that compares values
    only (a fix's proof): plain strings, and plain dicts and lists for the mappings and
    sequences without a tag or an anchor; the rest is marked as always. A duplicate key is
    then refused (its error names the first key's line) rather than reported."""
    try:
        builder = _Builder(text, marks=marks)
        root = builder.document()
        if builder.error is not None:
            raise Failed(builder.error)
        if root is None:
            root = DictNode()
            root._m = (0, 0, 0, 0)
        if "&" in text and builder.size > MAX_EXPANDED_NODES:
            raise Failed(
                (
                    (
                        f"Template resolves to more than {MAX_EXPANDED_NODES} nodes once YAML "
                        "aliases are expanded; this is not supported and may indicate YAML "
                        "alias amplification",
                        1,
                        1,
                    ),
                )
            )
        return root, builder.count
    except (Failed, Refused, ScannerError, ParserError):
        raise
    except Exception as exc:
        raise could_not_parse(exc) from None


def parser_error(err: ScannerError | ParserError) -> Match:
    """cfn-lint's match for a libyaml scanner or parser error: its problem at its mark."""
    mark = err.problem_mark
    if mark is None:  # never from libyaml; cfn-lint would fail here, the fast path refuses
        raise Refused("a parser error without a mark")
    return (str(err.problem), mark.line + 1, mark.column + 1)


def json_retry(err: ScannerError) -> bool:
    """Whether cfn-lint retries a document as JSON after this scanner error (a tab, or an
    escape YAML does not know)."""
    problem = err.problem
    return bool(problem) and (
        problem == "found character '\\t' that cannot start any token"
        or str(problem).startswith("found unknown escape character")
    )
