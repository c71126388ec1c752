"""A plan written into a block-style YAML template, as the file writes things.

Keys are found by their marks in a fresh decoding of the file and checked against the text;
a value is rewritten only when it is a literal on its key's line (plain or quoted, keeping the
quotes), and keys are added after the last entry of a block mapping (a resource's
DeletionPolicy after its Type), at the mapping's own indentation. Anything else — a flow
mapping (`{a: 1}`), a tag, an anchor, a block scalar, a key sharing its line — is refused:
no fix rather than a wrong one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.core.fixes import FixValue, GetAtt, Ref
from reviewer.fixes.plan import Insert, NoFix, Plan, Replace, Where, decoded

# An edit on the normalised text: 0-based (line, column, end line, end column), replacement.
RawEdit = tuple[int, int, int, int, str]

_SHORT_FORM = re.compile(
    r"(?:^|[\s:\[,-])!(?:Ref|GetAtt|Sub|Join|If|Select|Split|Equals|ImportValue|FindInMap|"
    r"Base64|Cidr|GetAZs|And|Or|Not|Condition)\b"
)
_PLAIN_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
# words YAML 1.1 (PyYAML, libyaml, cfn-lint) reads as booleans or null: quoted when written
_SPECIAL = frozenset(("y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "<<", "="))
_BLOCK_SCALAR = re.compile(r":[ \t]+[|>][-+0-9]*[ \t]*(#.*)?$")
_COMMENT_GAP = re.compile(r"\S( +)#")


@dataclass(frozen=True)
class Style:
    short_form: bool  # the file writes intrinsics as !Ref / !GetAtt
    unit: int  # the indentation step
    comment_gap: str  # the spaces before an end-of-line comment


def style_of(lines: list[str]) -> Style:
    text = "\n".join(lines)
    steps: Counter[int] = Counter()
    gaps: Counter[str] = Counter()
    previous = 0
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent > previous:
            steps[indent - previous] += 1
        previous = indent
        if "#" in stripped:
            m = _COMMENT_GAP.search(stripped)
            if m is not None and stripped.count('"') == 0 and stripped.count("'") == 0:
                gaps[m.group(1)] += 1
    unit = steps.most_common(1)[0][0] if steps else 2
    gap = gaps.most_common(1)[0][0] if gaps else "  "
    return Style(bool(_SHORT_FORM.search(text)), unit if 1 <= unit <= 8 else 2, gap)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _key_pos(lines: list[str], mapping: Mapping[str, Any], key: str) -> tuple[int, int, int]:
    """(line, column, end column) of `key` as written in a block mapping, checked against the
    text: the key must be the first thing on its line (after a `- ` for a list item's first key)."""
    obj = next((k for k in mapping if k == key), None)
    span = getattr(obj, "_m", None)
    if span is None:
        raise NoFix(f"{key} has no position")
    line, col, end_line, end_col = span
    if end_line != line or not 0 <= line < len(lines):
        raise NoFix(f"{key} spans lines")
    text = lines[line]
    written = text[col:end_col]
    if written not in (key, f'"{key}"', f"'{key}'"):
        raise NoFix(f"{key} is not written where its mark says")
    before = text[:col]
    if before.strip(" ") and before.replace("-", " ").strip(" "):
        raise NoFix(f"{key} shares its line (a flow mapping)")
    return line, col, end_col


def _after_colon(lines: list[str], line: int, end_col: int) -> int:
    text = lines[line]
    pos = end_col
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos >= len(text) or text[pos] != ":":
        raise NoFix("no colon after the key")
    return pos + 1


def _scalar_span(text: str, start: int) -> tuple[int, int, str]:
    """(start, end, quote) of the scalar written from `start` on one line; quote is '', '"'
    or "'". Raises NoFix for anything but a one-line literal."""
    pos = start
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos >= len(text) or text[pos] == "#":
        return pos, pos, ""  # nothing written: a null
    first = text[pos]
    if first in "!&*{[|>%@`,?":
        raise NoFix("not a plain literal")
    if first in "\"'":
        end = pos + 1
        while end < len(text):
            c = text[end]
            if first == '"' and c == "\\":
                end += 2
                continue
            if c == first:
                if first == "'" and end + 1 < len(text) and text[end + 1] == "'":
                    end += 2
                    continue
                break
            end += 1
        if end >= len(text):
            raise NoFix("a quoted scalar that goes on past its line")
        close = end + 1
        rest = text[close:].strip(" \t")
        if rest and not rest.startswith("#"):
            raise NoFix("text after the quoted scalar")
        return pos, close, first
    m = re.search(r"[ \t]#", text[pos:])
    end = pos + m.start() if m else len(text)
    while end > pos and text[end - 1] in " \t":
        end -= 1
    if ": " in text[pos:end] or text[pos:end].endswith(":"):
        raise NoFix("a mapping on the key's line")
    return pos, end, ""


def scalar(value: FixValue, style: Style, quote: str = "") -> tuple[str, Any]:
    """(text, what it decodes to) of a value written as a YAML scalar, or NoFix when it
    cannot be one (a long-form intrinsic is a mapping)."""
    if isinstance(value, (Ref, GetAtt)):
        if not style.short_form or quote:
            raise NoFix("a long-form intrinsic where a scalar is written")
        if isinstance(value, Ref):
            return f"!Ref {value.target}", decoded(value, quoted=False)
        return f"!GetAtt {value.target}.{value.attribute}", decoded(value, quoted=False)
    if isinstance(value, bool):
        word = "true" if value else "false"
    elif isinstance(value, int):
        word = str(value)
    else:
        word = value
    if quote:
        if quote == "'":
            return "'" + word.replace("'", "''") + "'", decoded(value, quoted=True)
        return _double(word), decoded(value, quoted=True)
    if isinstance(value, str) and (not _PLAIN_SAFE.fullmatch(value) or value.lower() in _SPECIAL):
        return _double(value), value
    return word, value


def _double(word: str) -> str:
    out = ['"']
    for c in word:
        if c in '"\\':
            out.append("\\" + c)
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _block(
    key: str, value: Any, indent: int, style: Style, comment: str, comments: dict[str, str]
) -> tuple[list[str], Any]:
    """The lines writing `key: value` at `indent` (a dict value as a nested block mapping; a
    long-form intrinsic as its mapping), and what the value decodes to."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = [f"{pad}{key}:"]
        out: dict[str, Any] = {}
        for k, v in value.items():
            sub, got = _block(
                k,
                v,
                indent + style.unit,
                style,
                comments.get(f"{key}.{k}", ""),
                _sub(comments, key),
            )
            lines.extend(sub)
            out[k] = got
        return lines, out
    if isinstance(value, (Ref, GetAtt)) and not style.short_form:
        inner: dict[str, Any]
        if isinstance(value, Ref):
            inner = {"Ref": value.target}
            body = f"{pad}{' ' * style.unit}Ref: {value.target}"
        else:
            inner = {"Fn::GetAtt": [value.target, value.attribute]}
            body = f"{pad}{' ' * style.unit}Fn::GetAtt: [{value.target}, {value.attribute}]"
        return [f"{pad}{key}:", body], inner
    text, got = scalar(value, style)
    line = f"{pad}{key}: {text}"
    if comment:
        line += f"{style.comment_gap}# {_one_line(comment)}"
    return [line], got


def _sub(comments: dict[str, str], key: str) -> dict[str, str]:
    prefix = key + "."
    return {k[len(prefix) :]: v for k, v in comments.items() if k.startswith(prefix)}


def _one_line(comment: str) -> str:
    return " ".join(comment.split())


def _entry_end(lines: list[str], line: int, indent: int) -> int:
    """The last line of the mapping entry whose key is on `line` at `indent`: the lines below
    it indented deeper (or a `- ` sequence at its own indent), block scalars whole; comments
    and blank lines after its last content are not part of it."""
    last = line
    block = indent if _BLOCK_SCALAR.search(lines[line]) else None
    for i in range(line + 1, len(lines)):
        text = lines[i]
        if block is not None:
            if not text.strip() or _indent(text) > block:
                if text.strip():
                    last = i
                continue
            block = None
        if not _content(text):
            continue
        ind = _indent(text)
        if ind > indent or (ind == indent and re.match(r"-( |$)", text[ind:])):
            last = i
            if _BLOCK_SCALAR.search(text):
                block = ind
            continue
        break
    return last


def edits(
    lines: list[str], tree: Any, plan: Plan, style: Style
) -> tuple[list[RawEdit], dict[tuple[Where, str], Any]]:
    """The text edits for `plan` and, per (mapping, key), what the written value decodes to."""
    out: list[RawEdit] = []
    written: dict[tuple[Where, str], Any] = {}
    for where, replaces in plan.replaces.items():
        mapping = _at(tree, where)
        for r in replaces:
            edit, got = _replace(lines, mapping, r, style)
            out.append(edit)
            written[(where, r.key)] = got
    for where, insert in plan.inserts.items():
        edit, got = _insert(lines, _at(tree, where), where, insert, style)
        out.append(edit)
        for key, value in got.items():
            written[(where, key)] = value
    return out, written


def _at(tree: Any, where: Where) -> Mapping[str, Any]:
    node = tree
    for key in where:
        node = node[key]
    if not isinstance(node, Mapping):
        raise NoFix("not a mapping")
    return node


def _replace_span(
    lines: list[str], mapping: Mapping[str, Any], r: Replace
) -> tuple[int, int, int, str]:
    line, col, end_col = _key_pos(lines, mapping, r.key)
    start = _after_colon(lines, line, end_col)
    vstart, vend, quote = _scalar_span(lines[line], start)
    if (
        r.old is None
        and vstart != vend
        and lines[line][vstart:vend] not in ("~", "null", "Null", "NULL")
    ):
        raise NoFix("a null written in an unknown way")
    if r.old is not None and vstart == vend:
        raise NoFix("the value is not on the key's line")
    # a plain scalar continued on the next lines (indented deeper than its key): the whole
    # value is not on this line
    for i in range(line + 1, len(lines)):
        if _content(lines[i]):
            if _indent(lines[i]) > col and not quote:
                raise NoFix("a value continued on the next line")
            break
    return line, vstart, vend, quote


def _replace(
    lines: list[str], mapping: Mapping[str, Any], r: Replace, style: Style
) -> tuple[RawEdit, Any]:
    """The edit writing `r`'s value over the literal (its quotes kept), and what it decodes to."""
    line, vstart, vend, quote = _replace_span(lines, mapping, r)
    text, got = scalar(r.value, style, quote)
    if vstart == vend:  # a null: the value goes after the colon
        text = (" " if vstart > 0 and lines[line][vstart - 1] == ":" else "") + text
        if vstart < len(lines[line]) and lines[line][vstart] == "#":
            text += style.comment_gap if not text.endswith(" ") else ""
    if r.comment and not lines[line][vend:].strip():
        text += f"{style.comment_gap}# {_one_line(r.comment)}"
        vend = len(lines[line])  # the comment ends the line: no trailing blanks after it
    return (line, vstart, line, vend, text), got


def _insert(
    lines: list[str], mapping: Mapping[str, Any], where: Where, insert: Insert, style: Style
) -> tuple[RawEdit, dict[str, Any]]:
    keys = [str(k) for k in mapping]
    if not keys:
        raise NoFix("an empty mapping")
    positions = [_key_pos(lines, mapping, k) for k in keys]
    columns = {col for _line, col, _end in positions}
    if len(columns) != 1 or len({line for line, _c, _e in positions}) != len(positions):
        raise NoFix("keys not in one block column")
    indent = columns.pop()
    after: int | None = None
    if len(where) == 2 and "Type" in keys:  # a resource: its own keys go after its Type
        type_line = positions[keys.index("Type")][0]
        if _entry_end(lines, type_line, indent) == type_line:
            after = type_line
    if after is None:
        last_line = max(line for line, _c, _e in positions)
        after = _entry_end(lines, last_line, indent)
    new_lines: list[str] = []
    got: dict[str, Any] = {}
    for key, value in insert.entries.items():
        if not _PLAIN_SAFE.fullmatch(key) or ":" in key:
            raise NoFix(f"{key} cannot be written as a plain key")
        block, decoded_value = _block(
            key, value, indent, style, insert.comments.get(key, ""), insert.comments
        )
        new_lines.extend(block)
        got[key] = decoded_value
    text = lines[after]
    if after == len(lines) - 1:  # the last line, with no line break after it
        return (after, len(text), after, len(text), "".join("\n" + s for s in new_lines)), got
    return (after + 1, 0, after + 1, 0, "".join(s + "\n" for s in new_lines)), got
