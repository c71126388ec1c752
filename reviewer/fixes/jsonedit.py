"""A plan written into a JSON template, as the file lays JSON out.

The file is read with a small scanner of its own (the decoder's JSON marks are cfn-lint's and
only roughly placed): objects are walked from the root by key, a member's value span is exact.
A literal is rewritten in place (a number written as a string stays a string); members are
added after the last member of an object (a resource's DeletionPolicy after its Type) with the
separator, the indentation and the key spacing the object already uses. An empty object and a
duplicated key are refused.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from reviewer.core.fixes import FixValue, GetAtt, Ref
from reviewer.fixes.plan import Insert, NoFix, Plan, Replace, Where, decoded

_WS = " \t\r\n"
_LITERAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


@dataclass(frozen=True)
class Member:
    key: str
    key_start: int
    key_end: int  # just past the closing quote
    value_start: int
    value_end: int


@dataclass(frozen=True)
class Obj:
    open: int  # the offset of "{"
    close: int  # the offset of "}"
    members: tuple[Member, ...]


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _string_end(text: str, pos: int) -> int:
    """Past the string starting at `pos` (a quote)."""
    end = pos + 1
    while end < len(text):
        c = text[end]
        if c == "\\":
            end += 2
            continue
        if c == '"':
            return end + 1
        end += 1
    raise NoFix("an unterminated string")


def _value_end(text: str, pos: int) -> int:
    """Past the JSON value starting at `pos` (iterative: any depth)."""
    if pos >= len(text):
        raise NoFix("a value is missing")
    c = text[pos]
    if c == '"':
        return _string_end(text, pos)
    if c not in "{[":
        m = _LITERAL.match(text, pos)
        if m is None:
            raise NoFix("not JSON")
        return m.end()
    depth = 0
    i = pos
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise NoFix("an unterminated container")


def read_object(text: str, pos: int) -> Obj:
    """The object whose "{" is at `pos` (after whitespace)."""
    pos = _skip_ws(text, pos)
    if pos >= len(text) or text[pos] != "{":
        raise NoFix("not an object")
    start = pos
    members: list[Member] = []
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "}":
        return Obj(start, pos, ())
    while True:
        if pos >= len(text) or text[pos] != '"':
            raise NoFix("not JSON")
        key_end = _string_end(text, pos)
        key = json.loads(text[pos:key_end])
        colon = _skip_ws(text, key_end)
        if colon >= len(text) or text[colon] != ":":
            raise NoFix("not JSON")
        vstart = _skip_ws(text, colon + 1)
        vend = _value_end(text, vstart)
        members.append(Member(key, pos, key_end, vstart, vend))
        pos = _skip_ws(text, vend)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "}":
            break
        raise NoFix("not JSON")
    keys = [m.key for m in members]
    if len(set(keys)) != len(keys):
        raise NoFix("a duplicated key")
    return Obj(start, pos, tuple(members))


def find(text: str, where: Where) -> Obj:
    obj = read_object(text, 0)
    for key in where:
        member = next((m for m in obj.members if m.key == key), None)
        if member is None:
            raise NoFix(f"{key} not found")
        obj = read_object(text, member.value_start)
    return obj


@dataclass(frozen=True)
class Style:
    unit: str  # one level of indentation ("  ", "    ", "\t")


def style_of(text: str) -> Style:
    steps: Counter[str] = Counter()
    previous = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if len(indent) > len(previous) and indent.startswith(previous):
            steps[indent[len(previous) :]] += 1
        previous = indent
    unit = steps.most_common(1)[0][0] if steps else "  "
    return Style(unit)


def scalar(value: FixValue, quoted: bool) -> tuple[str, Any]:
    if isinstance(value, (Ref, GetAtt)):
        if quoted:
            raise NoFix("a reference where a string is written")
        got = decoded(value, quoted=False)
        return json.dumps(got, ensure_ascii=False), got
    if quoted and not isinstance(value, str):
        word = str(value).lower() if isinstance(value, bool) else str(value)
        return json.dumps(word, ensure_ascii=False), decoded(value, quoted=True)
    return json.dumps(value, ensure_ascii=False), value


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _value_text(
    value: Any, indent: str, style: Style, multiline: bool, colon: str
) -> tuple[str, Any]:
    if isinstance(value, dict):
        inner = indent + style.unit
        parts: list[str] = []
        got: dict[str, Any] = {}
        for k, v in value.items():
            text, sub = _value_text(v, inner, style, multiline, colon)
            parts.append(f"{json.dumps(k, ensure_ascii=False)}{colon}{text}")
            got[k] = sub
        if multiline:
            body = ",\n".join(inner + p for p in parts)
            return "{\n" + body + "\n" + indent + "}", got
        return "{" + ", ".join(parts) + "}", got
    return scalar(value, quoted=False)


def edits(text: str, plan: Plan) -> tuple[list[tuple[int, int, str]], dict[tuple[Where, str], Any]]:
    """Offset edits (start, end, replacement) for `plan`, and what each written value decodes to."""
    style = style_of(text)
    out: list[tuple[int, int, str]] = []
    written: dict[tuple[Where, str], Any] = {}
    for where, replaces in plan.replaces.items():
        obj = find(text, where)
        for r in replaces:
            out.append(_replace(text, obj, r, where, written))
    for where, insert in plan.inserts.items():
        out.append(_insert(text, find(text, where), where, insert, style, written))
    return out, written


def _replace(
    text: str, obj: Obj, r: Replace, where: Where, written: dict[tuple[Where, str], Any]
) -> tuple[int, int, str]:
    member = next((m for m in obj.members if m.key == r.key), None)
    if member is None:
        raise NoFix(f"{r.key} not found")
    if text[member.value_start] in "{[":
        raise NoFix("not a literal")
    quoted = text[member.value_start] == '"'
    new, got = scalar(r.value, quoted)
    written[(where, r.key)] = got
    return member.value_start, member.value_end, new


def _insert(
    text: str,
    obj: Obj,
    where: Where,
    insert: Insert,
    style: Style,
    written: dict[tuple[Where, str], Any],
) -> tuple[int, int, str]:
    if not obj.members:
        raise NoFix("an empty object")
    anchor = obj.members[-1]
    if len(where) == 2:  # a resource: its own keys go after its Type
        anchor = next((m for m in obj.members if m.key == "Type"), anchor)
    first = obj.members[0]
    lead = text[obj.open + 1 : first.key_start]  # the layout before the first member
    multiline = "\n" in lead
    colon = text[anchor.key_end : anchor.value_start]
    if "\n" in colon:
        raise NoFix("a member laid out over lines")
    if multiline:
        line_start = _line_start(text, anchor.key_start)
        indent = text[line_start : anchor.key_start]
        if indent.strip(" \t"):
            raise NoFix("members share a line")
        separator = ",\n" + indent
    else:
        indent = ""
        between = (
            text[obj.members[0].value_end : obj.members[1].key_start]
            if len(obj.members) > 1
            else ", "
        )
        separator = between if between.strip(" ") == "," else ", "
    parts: list[str] = []
    for key, value in insert.entries.items():
        body, got = _value_text(value, indent, style, multiline, colon)
        parts.append(f"{separator}{json.dumps(key, ensure_ascii=False)}{colon}{body}")
        written[(where, key)] = got
    return anchor.value_end, anchor.value_end, "".join(parts)
