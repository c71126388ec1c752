"""Edits on text: applying them, and showing them as a unified diff.

An Edit's lines are the file's lines split at "\\n"; its columns count characters of a line's
content (a "\\r" before the "\\n" is not content: no edit reaches into it). Replacement text
carries the file's own line ending. A UTF-8 byte order mark is not part of line 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from reviewer.core.fixes import Edit

BOM = "\ufeff"


class EditError(ValueError):
    """The edits do not fit the text (a position past a line's end, overlapping spans)."""


# the line starts of the text edits were last applied to: every fix of a file is applied to
# its text once to be proved
_LAST_OFFSETS: list[tuple[str, list[int]]] = []


def _offsets(text: str) -> list[int]:
    """The offset of each line's first character (one more entry: the end of the text)."""
    if _LAST_OFFSETS and _LAST_OFFSETS[0][0] == text:
        return _LAST_OFFSETS[0][1]
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    _LAST_OFFSETS[:] = [(text, starts)]
    return starts


def _content_end(text: str, starts: list[int], index: int) -> int:
    """The offset just past line `index`'s content (before its "\\r\\n" or "\\n")."""
    end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
    if index + 1 < len(starts) and end > starts[index] and text[end - 1] == "\r":
        end -= 1
    return end


def _offset(text: str, starts: list[int], line: int, column: int) -> int:
    if line == len(starts) + 1 and column == 1 and text.endswith("\n"):
        return len(text)  # an insertion after the last line
    if not 1 <= line <= len(starts) or column < 1:
        raise EditError(f"line {line} column {column} is outside the text")
    offset = starts[line - 1] + column - 1
    if offset > _content_end(text, starts, line - 1):
        raise EditError(f"line {line} column {column} is past the line's end")
    return offset


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` applied (all of them refer to `text` as given). Raises EditError
    when a position is outside the text or two edits overlap."""
    body = text[1:] if text.startswith(BOM) else text
    starts = _offsets(body)
    spans = sorted(
        (
            _offset(body, starts, e.line, e.column),
            _offset(body, starts, e.end_line, e.end_column),
            e.replacement,
        )
        for e in edits
    )
    out: list[str] = []
    pos = 0
    for start, end, replacement in spans:
        if end < start or start < pos:
            raise EditError("edits overlap")
        out.append(body[pos:start])
        out.append(replacement)
        pos = end
    out.append(body[pos:])
    return (BOM if body is not text else "") + "".join(out)


def _lines(text: str) -> list[str]:
    """The lines of `text` split at "\\n" only, each with its ending (other characters that
    str.splitlines breaks at are content here, as they are for git and patch)."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def diff_name(name: str) -> str:
    """A file name as git writes it in a diff header: quoted, with C escapes of its UTF-8
    bytes, when it holds a quote, a backslash, a control or a non-ASCII character (so a
    name cannot end the header line or reach the terminal as a control sequence)."""
    if all(" " <= c <= "~" and c not in '"\\' for c in name):
        return name
    escapes = {9: "\\t", 10: "\\n", 13: "\\r", 34: '\\"', 92: "\\\\"}
    body = "".join(
        escapes.get(b) or (chr(b) if 32 <= b < 127 else f"\\{b:03o}")
        for b in name.encode("utf-8", "surrogateescape")
    )
    return f'"{body}"'


def unified_diff(file: str, before: str, after: str) -> str:
    """A unified diff of one file (`a/FILE`, `b/FILE`), as `git apply` and `patch -p1` read
    it; empty when nothing changed."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        _lines(before), _lines(after), diff_name(f"a/{file}"), diff_name(f"b/{file}")
    )
    out: list[str] = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)
