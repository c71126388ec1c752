"""How much repository text any output shows, decided once.

Every renderer passes repository text through `clip` (messages, titles, names, reasons), `clip`
with `PATH_CHARS` (paths) or `source_bounds` (the slice of a source line an excerpt may read)
before it escapes it, so the size of each finding's output, and the work to make it, is bounded
whatever the repository holds: a finding on a 5 MB one-line template reads and shows at most
`SOURCE_CHARS` characters of that line.

Cuts are made on the raw text, before any escaping (so never inside an escape sequence), and
never between the two halves of a surrogate pair or before a combining mark; a cut is shown
with `ELLIPSIS`. `clip` also replaces surrogate code points (text no UTF-8 encoder takes) with
U+FFFD, and is idempotent: a clipped text is not changed again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from reviewer.core.bounds import SOURCE_BEFORE, SOURCE_CUT, SOURCE_WINDOW, source_offset

TEXT_CHARS = 1_000  # a message, a title, a name, a suppression reason
PATH_CHARS = 4_096  # a file path or module folder (Linux's PATH_MAX: a real path is never cut)
SOURCE_CHARS = 200  # characters of a source line an excerpt reads around the finding's column
ELLIPSIS = "…"
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_STEP_BACK = 8  # combining marks a cut moves back over, at most


def _safe_cut(text: str, at: int) -> int:
    """`at`, or a little before it, so that text[:at] does not end half-way through a surrogate
    pair or leave a combining mark without its base character."""
    lowest = max(0, at - _MAX_STEP_BACK)
    while lowest < at < len(text):
        ch = text[at]
        if "\udc00" <= ch <= "\udfff" and "\ud800" <= text[at - 1] <= "\udbff":
            at -= 1  # keep the high surrogate with its low half: both go
        elif unicodedata.combining(ch):
            at -= 1
        else:
            break
    return at


def _safe_start(text: str, at: int) -> int:
    """`at`, or a little after it, so that text[at:] starts on a character of its own."""
    highest = min(len(text), at + _MAX_STEP_BACK)
    while 0 < at < highest:
        ch = text[at]
        if ("\udc00" <= ch <= "\udfff" and "\ud800" <= text[at - 1] <= "\udbff") or (
            unicodedata.combining(ch)
        ):
            at += 1
        else:
            break
    return at


def clip(text: str, limit: int = TEXT_CHARS) -> str:
    """`text` when it is at most `limit` characters, else its start and an ellipsis, `limit`
    characters at most in all. A surrogate code point left in the text (JSON may escape half a
    pair, `"\\ud800"`; a file name may carry undecodable bytes) becomes U+FFFD, so the result
    can always be written as UTF-8."""
    if len(text) > limit:
        text = text[: _safe_cut(text, max(0, limit - len(ELLIPSIS)))] + ELLIPSIS
    if _SURROGATE.search(text) is not None:
        text = _SURROGATE.sub(REPLACEMENT, text)
    return text


def clip_path(text: str) -> str:
    return clip(text, PATH_CHARS)


def clip_opt(text: str | None, limit: int = TEXT_CHARS) -> str | None:
    return None if text is None else clip(text, limit)


@dataclass(frozen=True)
class Bounds:
    """The slice [lo, hi) of a source line that an excerpt may read."""

    lo: int
    hi: int
    cut_left: bool  # text before lo is not shown
    cut_right: bool  # text after hi (other than the line break) is not shown


def content_end(line: str) -> int:
    """The length of a line without its line break (at most "\\r\\n", looked at from the end)."""
    tail = line[-2:]
    return len(line) - (len(tail) - len(tail.rstrip("\r\n")))


def source_bounds(line: str, column: int, chars: int = SOURCE_CHARS) -> Bounds:
    """At most `chars` characters of `line` around the 1-based `column`: the whole line when it
    is short enough, else a window starting up to a fifth of `chars` before the column (further
    back only when the column is near the end). Costs nothing in the length of the line."""
    n = content_end(line)
    if n <= chars:
        return Bounds(0, n, False, False)
    at = min(max(column - 1, 0), n)
    lo = max(0, min(at - chars // 5, n - chars))
    lo = _safe_start(line, lo)
    hi = _safe_cut(line, min(n, lo + chars))
    return Bounds(lo, hi, lo > 0, hi < n)


def line_offset(source: str, column: int) -> int:
    """How far left of its place in the line the finding's `column` sits in its `source`.

    The engine keeps only a window of a long line (`reviewer.core.bounds.source_window`): past the
    first SOURCE_BEFORE characters, `source` starts with SOURCE_CUT and the line's column `c` is
    index `c - 1 - source_offset(column)` of it. A `source` that cannot be such a window (a
    Finding built by hand or through the Python API with the whole line) is the line itself."""
    if column - 1 <= SOURCE_BEFORE or not source.startswith(SOURCE_CUT):
        return 0
    if len(source) > SOURCE_WINDOW + 2 * len(SOURCE_CUT):
        return 0
    return source_offset(column)
