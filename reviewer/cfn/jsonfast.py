"""A decoder for JSON templates without cfn-lint, giving the tree cfn-lint's JSON decoder gives.

cfn-lint's JSON decoder marks mappings, sequences and mapping keys (string values stay plain)
with positions computed its own way: the line is the number of newlines at or before the
offset, the column the distance from the last of them; an end line drops one when the text
has more than one line. This module computes the same marks, with the standard library's string
scanner. Anything out of the ordinary (a syntax error, a duplicate key) returns `FALLBACK`,
and the caller decodes with cfn-lint, which words the error. A test holds the two equal.
"""

from __future__ import annotations

import json.decoder
import re
from bisect import bisect_right
from typing import Any

from reviewer.cfn.nodes import DictNode, ListNode, Span4, StrNode, dict_node, list_node, str_node

FALLBACK: Any = object()

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009 - untyped in typeshed
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Fallback(Exception):
    pass


def decode_json(text: str) -> Any:
    """The decoded tree of a JSON template, or FALLBACK when cfn-lint must decide."""
    try:
        return _Decoder(text).document()
    except (_Fallback, ValueError, IndexError, RecursionError):
        return FALLBACK


class _Decoder:
    def __init__(self, text: str) -> None:
        self.s = text
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.offset = 1 if len(self.newlines) > 1 else 0

    # cfn-lint's position arithmetic, reproduced
    def _prior(self, pos: int, line: int) -> int:
        nl = self.newlines
        return nl[line - 1] if nl and bisect_right(nl, pos) else -1

    def span(self, start: int, end: int) -> Span4:
        nl = self.newlines
        beg_line = bisect_right(nl, start)
        beg_col = start - self._prior(start, beg_line)
        end_line = bisect_right(nl, end) - self.offset
        end_col = end - self._prior(end, end_line)
        return (beg_line, beg_col, end_line, end_col)

    def document(self) -> Any:
        s = self.s
        if s.startswith("\ufeff"):
            raise _Fallback("BOM")
        idx = _WS.match(s, 0).end()  # type: ignore[union-attr]
        value, end = self.value(idx)
        end = _WS.match(s, end).end()  # type: ignore[union-attr]
        if end != len(s):
            raise _Fallback("extra data")
        return value

    def value(self, idx: int) -> tuple[Any, int]:
        s = self.s
        ch = s[idx]
        if ch == '"':
            text, end = _scanstring(s, idx + 1, True)
            return text, end
        if ch == "{":
            return self.mapping(idx + 1)
        if ch == "[":
            return self.sequence(idx + 1)
        if ch == "n" and s[idx : idx + 4] == "null":
            return None, idx + 4
        if ch == "t" and s[idx : idx + 4] == "true":
            return True, idx + 4
        if ch == "f" and s[idx : idx + 5] == "false":
            return False, idx + 5
        m = _NUMBER.match(s, idx)
        if m is not None:
            integer, frac, exp = m.groups()
            if frac or exp:
                return float(integer + (frac or "") + (exp or "")), m.end()
            return int(integer), m.end()
        for name, constant in _CONSTANTS.items():
            if s.startswith(name, idx):
                return constant, idx + len(name)
        raise _Fallback("value")

    def mapping(self, start: int) -> tuple[DictNode, int]:
        s = self.s
        end = start
        pairs: list[tuple[StrNode, Any]] = []
        nextchar = s[end : end + 1]
        if nextchar != '"':
            if nextchar in " \t\n\r":
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
                nextchar = s[end : end + 1]
            if nextchar == "}":
                return dict_node((), self.span(start, end + 1)), end + 1
            if nextchar != '"':
                raise _Fallback("key")
        end += 1
        while True:
            begin = end - 1
            key, end = _scanstring(s, end, True)
            if s[end : end + 1] != ":":
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
                if s[end : end + 1] != ":":
                    raise _Fallback("colon")
            end += 1
            if s[end : end + 1] in (" ", "\t", "\n", "\r"):
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
            key_span = self.span(begin, begin + len(key))
            value, end = self.value(end)
            pairs.append((str_node(key, key_span), value))
            end = _WS.match(s, end).end()  # type: ignore[union-attr]
            nextchar = s[end : end + 1]
            end += 1
            if nextchar == "}":
                break
            if nextchar != ",":
                raise _Fallback("comma")
            end = _WS.match(s, end).end()  # type: ignore[union-attr]
            nextchar = s[end : end + 1]
            end += 1
            if nextchar != '"':
                raise _Fallback("key")
        out = dict_node((), self.span(start, end))
        for key_node, value in pairs:
            if key_node in out:
                raise _Fallback("duplicate key")  # cfn-lint words the error
            out[key_node] = value
        return out, end

    def sequence(self, start: int) -> tuple[ListNode, int]:
        s = self.s
        end = _WS.match(s, start).end()  # type: ignore[union-attr]
        values: list[Any] = []
        if s[end : end + 1] == "]":
            end += 1
        else:
            while True:
                value, end = self.value(end)
                values.append(value)
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
                nextchar = s[end : end + 1]
                end += 1
                if nextchar == "]":
                    break
                if nextchar != ",":
                    raise _Fallback("comma")
                end = _WS.match(s, end).end()  # type: ignore[union-attr]
        return list_node(values, self.span(start, end)), end
