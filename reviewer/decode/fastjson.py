"""CloudFormation JSON decoded by the standard library's C scanner, marked as cfn-lint marks it.

cfn-lint decodes a JSON template (`cfn_json.loads`) with a pure-Python scanner that keeps a
start and end mark on every object, array and key, and checks each key against every earlier
key of its object. `loads()` here gives the same tree as archreview nodes in two linear passes:

1. `json.JSONDecoder` (the C scanner) parses the text; its `object_pairs_hook` builds each
   object as a `DictNode` with `StrNode` keys and finds a duplicate key with a dict lookup;
2. one regular-expression pass over the text finds, in document order, each `{`, `[`, `}`,
   `]` and string (a string followed by `:` is a key) and walks the tree alongside it,
   setting the marks and turning lists into `ListNode`s.

The marks are cfn-lint's, quirks included: a 0-based line with a 1-based column, an object or
array that starts just after its bracket, and an end line one less than the newlines before
the end when the document has two or more newlines (`cfn_json.get_beg_end_mark`). String
values are plain `str` (cfn-lint marks keys only).

Errors are cfn-lint's. A duplicate key: the first object to end that holds one, every
occurrence after the first and the first, at its key's position. A syntax error: the C scanner
stops at the same place as cfn-lint's scanner, and `_syntax_error` words it as cfn-lint does
(its scanner says "Invalid control character '\\t' at" one character further on, for one) or
says which other error cfn-lint meets there (the standard library's own, in an array or at the
top level; a TypeError for a missing value in an object), for the caller to act on as
cfn-lint does. What it cannot place (a number too long for `int`, nesting deeper than
MAX_DEPTH, a message it does not know) is `Refused`, and cfn-lint decodes the document.
"""

from __future__ import annotations

import json
import re
from array import array
from bisect import bisect_right
from typing import Any

from reviewer.decode.fastyaml import Failed, Match, Refused
from reviewer.decode.nodes import DictNode, ListNode, StrNode

MAX_DEPTH = 100  # deeper documents go to cfn-lint (its limit is the Python stack's)

# a string (group 1; followed by `:` it is a key: group 2) or a bracket, in a text the C
# scanner accepted: outside strings no other character is a quote or a bracket
_TOKEN = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")([ \t\n\r]*:)?|[{}\[\]]', re.S)
_NEWLINE = re.compile("\n")


class _Duplicate(Exception):
    def __init__(self, closed: int, indexes: list[int], key: str) -> None:
        super().__init__(key)
        self.closed = closed  # the object is the `closed`-th to end (1-based)
        self.indexes = indexes  # its duplicate keys' positions among its keys, cfn-lint's order
        self.key = key  # the first duplicate key (cfn-lint names only this one)


def _decoder(closed: list[int]) -> json.JSONDecoder:
    def pairs(items: list[tuple[str, Any]]) -> DictNode:
        closed[0] += 1
        node = DictNode()
        for index, (key, value) in enumerate(items):
            if key in node:
                _duplicates(closed[0], items, index)
            node[StrNode(key)] = value
        return node

    return json.JSONDecoder(object_pairs_hook=pairs)


def _duplicates(closed: int, items: list[tuple[str, Any]], at: int) -> None:
    """Raise cfn-lint's duplicate error for an object whose key `at` repeats an earlier one:
    the occurrences after the first, in order, with the first put right after the first
    repeat (cfn-lint's `check_duplicates`)."""
    seen: dict[str, int] = {}
    order: list[int] = []
    for index, (key, _) in enumerate(items):
        if key in seen:
            order.append(index)
            if len(order) == 1:
                order.append(seen[key])
        else:
            seen[key] = index
    raise _Duplicate(closed, order, items[at][0])


class _Marks:
    """cfn-lint's `get_beg_end_mark` over the newline positions of a text."""

    def __init__(self, text: str) -> None:
        self.newlines = [m.start() for m in _NEWLINE.finditer(text)]
        self.offset = 1 if len(self.newlines) > 1 else 0

    def start(self, pos: int) -> tuple[int, int]:
        line = bisect_right(self.newlines, pos)
        return line, pos - (self.newlines[line - 1] if line else -1)

    def span(self, start: int, end: int) -> tuple[int, int, int, int]:
        newlines = self.newlines
        line, column = self.start(start)
        count = bisect_right(newlines, end)
        end_line = count - self.offset
        end_column = end - (newlines[end_line - 1] if count else -1)
        return (line, column, end_line, end_column)


def _mark(root: Any, text: str, marks: _Marks) -> tuple[Any, int]:
    """Set the marks of every object, array and key of `root` from the text, in document
    order, with lists replaced by ListNodes; returns (root, node count for load's cap)."""
    if not isinstance(root, (dict, list)):
        return root, 1
    span = marks.span
    # where each token starts, in document order (a bracket ends one further): the walk
    # below takes them in turn
    places = array("q", [m.start() for m in _TOKEN.finditer(text)])
    count = 1
    if isinstance(root, list):
        root = ListNode(root)
    top: Any = root
    items: Any = iter(root.items()) if isinstance(root, dict) else enumerate(root)
    start = places[0] + 1
    at = 1
    stack: list[tuple[Any, Any, int]] = []
    while True:
        for key, value in items:
            if top.__class__ is DictNode:
                begin = places[at]
                at += 1
                key._m = span(begin, begin + len(key))
            cls = value.__class__
            if cls is str:
                at += 1
            elif cls is DictNode or cls is list:
                stack.append((top, items, start))
                if len(stack) >= MAX_DEPTH:
                    raise Refused(f"nested deeper than {MAX_DEPTH}")
                start = places[at] + 1
                at += 1
                if cls is list:
                    value = top[key] = ListNode(value)
                    items = enumerate(value)
                else:
                    items = iter(value.items())
                top = value
                break
        else:
            top._m = span(start, places[at] + 1)
            at += 1
            count += len(top)
            if not stack:
                return root, count
            top, items, start = stack.pop()


def _duplicate_matches(text: str, marks: _Marks, found: _Duplicate) -> tuple[Match, ...]:
    """cfn-lint's matches for the duplicate keys of the `found.closed`-th object to end: the
    keys' positions come from a pass over the text up to that object's end."""
    closed = 0
    keys: list[list[int]] = []
    for token in _TOKEN.finditer(text):
        char = token.group()[0]
        if char == "{":
            keys.append([])
        elif char == "}":
            closed += 1
            mine = keys.pop()
            if closed == found.closed:
                message = f'Duplicate found "{found.key}"'
                out: list[Match] = []
                for index in found.indexes:
                    line, column = marks.start(mine[index])
                    out.append((message, line, column + 1))
                return tuple(out)
        elif token.group(2) is not None:
            keys[-1].append(token.start())
    raise Refused("the duplicate key's object was not found again")  # pragma: no cover


class NotCfnJSON(Exception):
    """cfn-lint's JSON decoder fails on the text with an error other than its own
    `JSONDecodeError`: the standard library's (`message` at `line`, `column`), or, for a
    missing value in an object, a TypeError of its own making (`line` 0). cfn-lint then reads
    the text as YAML (a `.json` file) or reports it (after a YAML scanner error)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _type_error_text() -> str:
    """What cfn-lint's decoder says when it builds its 'Expecting value' error inside an
    object: it passes a string as a position to `str.count`."""
    try:
        "".count("\n", 0, "0")  # type: ignore[arg-type]
    except TypeError as err:
        return str(err)
    return "TypeError"  # pragma: no cover


TYPE_ERROR = _type_error_text()


def _context(text: str, pos: int) -> str:
    """The bracket of the innermost object or array open at `pos` ("" at the top level), in a
    text whose part before `pos` the C scanner accepted; Refused if that part nests deeper
    than MAX_DEPTH (cfn-lint's recursion may have ended it first)."""
    stack: list[str] = []
    for token in _TOKEN.finditer(text, 0, pos):
        char = token.group()[0]
        if char == "{" or char == "[":
            stack.append(char)
            if len(stack) > MAX_DEPTH:
                raise Refused(f"nested deeper than {MAX_DEPTH}")
        elif char == "}" or char == "]":
            stack.pop()
    return stack[-1] if stack else ""


def _syntax_error(text: str, err: json.JSONDecodeError) -> Exception:
    """cfn-lint's outcome for the first syntax error, which the C scanner found at the same
    place: its own match (Failed), another error (NotCfnJSON), or Refused."""
    msg, pos = err.msg, err.pos
    if msg == "Invalid control character at":
        msg, pos = f"Invalid control character {text[pos]!r} at", pos + 1
    elif msg == "Invalid \\escape":
        msg, pos = f"Invalid \\escape: {text[pos + 1]!r}", pos + 1
    elif msg == "Expecting ',' delimiter" or msg == "Expecting value":
        context = _context(text, pos)
        if context == "{" and msg == "Expecting value":
            return NotCfnJSON(TYPE_ERROR)
        if context != "{":
            return NotCfnJSON(msg, err.lineno, err.colno)
    elif msg == "Extra data":
        return NotCfnJSON(msg, err.lineno, err.colno)
    elif msg not in _CFN_MESSAGES:
        return Refused(f"a JSON error cfn-lint may word differently: {msg}")
    line = text.count("\n", 0, pos) + 1
    return Failed(((msg, line, pos - text.rfind("\n", 0, pos) + 1),))


# the C scanner's errors that cfn-lint's scanner raises with the same words at the same place
_CFN_MESSAGES = frozenset(
    {
        "Expecting property name enclosed in double quotes",
        "Expecting ':' delimiter",
        "Expecting ',' delimiter",
        "Unterminated string starting at",
        "Invalid \\uXXXX escape",
    }
)


def loads(text: str) -> tuple[Any, int]:
    """Decode a JSON template as cfn-lint's `cfn_json.loads` does: (tree, node count for
    load's cap). Raises Failed (cfn-lint's own error: its matches), NotCfnJSON (another
    error) or Refused."""
    if text.startswith("\ufeff"):
        raise Refused("a byte order mark")  # json.loads refuses it with its own error
    closed = [0]
    try:
        value = _decoder(closed).decode(text)
    except _Duplicate as found:
        raise Failed(_duplicate_matches(text, _Marks(text), found)) from None
    except json.JSONDecodeError as err:
        raise _syntax_error(text, err) from None
    except (ValueError, RecursionError) as err:  # a number too long for int(), deep nesting
        raise Refused(f"not decoded by the fast path: {type(err).__name__}") from None
    return _mark(value, text, _Marks(text))
