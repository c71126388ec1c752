"""`json.dumps(obj, indent=2, ensure_ascii=False)`, byte for byte, several times faster.

With `indent`, the standard library encodes in pure Python through a chain of generators (one
per nesting level); a report with thousands of findings spends most of its rendering time there.
This encoder walks the same value with plain recursion and the standard library's C string
escaper, and writes exactly what `json.dumps` writes for the same input (a test holds them equal
on generated values and on real reports): the same separators, the same float and integer
spellings (NaN and Infinity allowed), str subclasses and enums as their text, tuples as arrays,
and dictionary keys converted as `json` converts them.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_string: Any = json.encoder.encode_basestring  # the C escaper when the _json module is there
_INDENT = "  "


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return str(_string(key))
    if isinstance(key, float):
        return str(_string(_float(key)))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return str(_string(int.__repr__(key)))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def plain(value: Any) -> str | None:
    """A scalar (str and its subclasses, None, bool, int, float) as JSON text; None otherwise."""
    kind = type(value)
    if kind is str:
        return str(_string(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    if isinstance(value, str):
        return str(_string(value))
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    return None


def _scalar(value: Any, memo: dict[str, str]) -> str | None:
    if type(value) is str and len(value) > 40:  # long texts (ADR paragraphs) repeat: escape once
        text = memo.get(value)
        if text is None:
            text = memo[value] = str(_string(value))
        return text
    return plain(value)


class _Buffer(list[str]):
    """The top-level buffer of `dump`: the large arrays hand what they have written on to
    `write` every few hundred pieces, so a report is never held whole as text."""

    LIMIT = 512

    def __init__(self, write: Callable[[str], object]) -> None:
        super().__init__()
        self.write = write

    def flush(self) -> None:
        if self:
            self.write("".join(self))
            self.clear()


def _encode(
    value: Any, out: list[str], newline: str, memo: dict[str, str], names: dict[str, str]
) -> None:
    text = _scalar(value, memo)
    if text is not None:
        out.append(text)
        return
    if isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + _INDENT
        separator = "," + inner
        out.append("[")
        lead = inner
        streaming = type(out) is _Buffer
        render = value.render if type(value) is Rendered else None
        for item in value:
            text = render(item, inner) if render is not None else _scalar(item, memo)
            if text is not None:
                out.append(lead + text)
            else:  # each element on its own, then joined: short-lived pieces, less memory
                piece = [lead]
                _encode(item, piece, inner, memo, names)
                out.append("".join(piece))
            lead = separator
            if streaming and len(out) >= _Buffer.LIMIT:
                out.flush()  # type: ignore[attr-defined]
        out.append(newline + "]")
        return
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + _INDENT
        separator = "," + inner
        out.append("{")
        lead = inner
        for key, item in value.items():
            name = names.get(key) if type(key) is str else None
            if name is None:
                name = _key(key) + ": "
                if type(key) is str:
                    names[key] = name
            text = _scalar(item, memo)
            if text is not None:
                out.append(lead + name + text)
            else:
                out.append(lead + name)
                _encode(item, out, inner, memo, names)
            lead = separator
        out.append(newline + "}")
        return
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class Rendered(list[Any]):
    """An array whose items each render themselves: `Rendered(items, render)` encodes as the
    array whose i-th element's JSON text is `render(items[i], newline)`, where `newline` is the
    line break plus indentation of the element's own line (its nested lines go one level in).
    For encoders specialised to one shape (a finding, an evaluation), which must write what
    `dumps` would write for the same value. Only for `dumps`, like `Lazy`."""

    def __init__(self, items: Sequence[Any], render: Callable[[Any, str], str]) -> None:
        super().__init__()
        self._items = items
        self.render = render

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


def string(value: str) -> str:
    """A str as JSON text, as `dumps` writes it."""
    return str(_string(value))


class Lazy(list[Any]):
    """An array whose items are made one at a time while it is encoded (and dropped after):
    `Lazy(items, make)` encodes as `[make(i) for i in items]` without holding them all. Only
    for `dumps` (the standard library's C encoder would see an empty list)."""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], Any]) -> None:
        super().__init__()
        self._items = items
        self._make = make

    def __iter__(self) -> Iterator[Any]:
        return (self._make(item) for item in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


def dump(value: Any, write: Callable[[str], object]) -> None:
    """Hand the text of `dumps(value)` to `write`, in pieces (a large array is written as it
    is encoded, not first held whole)."""
    out = _Buffer(write)
    _encode(value, out, "\n", {}, {})
    out.flush()


def dumps(value: Any) -> str:
    """The same text as `json.dumps(value, indent=2, ensure_ascii=False)`."""
    out: list[str] = []
    _encode(value, out, "\n", {}, {})  # escaped long texts, encoded keys
    return "".join(out)
