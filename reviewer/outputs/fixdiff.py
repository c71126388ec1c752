"""A finding's fix as the outputs show it: a small unified diff per file, and the lines a pull
request suggestion puts in place of the lines it comments on.

Pure functions of a Finding's `Fix` (and its `source` line); no file is read. An `Edit` carries
`original`, the whole lines its span touches as the scan read them, so the old side of a diff and
the new lines are made from the edit alone: the lines with the replacement put in place of the
span. Edits of one fix in one file whose lines meet or overlap make one block. An edit without
`original` is shown on the finding's own `source` line when it lies on that line, else as the
replacement text alone at its line and column (the old side is not known then), and never
becomes a suggestion.

Every line shown is clipped (`DIFF_LINE_CHARS`, `DIFF_LINES` per side) and made visible:
control and invisible format characters (bidi overrides, zero-width characters) are written as
`<U+202E>`, so a diff cannot hide what it changes. A suggestion, which must be the file's exact
text, is refused when its lines hold such characters (or U+FFFD, the mark of undecodable bytes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from reviewer.core.bounds import SOURCE_CUT
from reviewer.core.fixes import Edit, Fix
from reviewer.outputs.limits import ELLIPSIS, clip

FIX_TEXT_CHARS = 20_000  # an Edit's `original` or `replacement` longer than this is not carried
DIFF_LINE_CHARS = 300  # characters of one diff line shown
DIFF_LINES = 40  # lines shown per side of a hunk
SUGGESTION_LINES = 200  # lines a suggestion may replace or hold


@dataclass(frozen=True)
class Hunk:
    """One block of a fix in one file. `known`: `old` is the file's text at lines `line`..;
    else `old` is empty and `new` is the replacement alone, put at `line`:`column`."""

    file: str
    line: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    known: bool = True
    column: int = 1


@dataclass(frozen=True)
class Suggestion:
    """What a pull request review comment suggests: lines `line`..`end_line` of `file` become
    `lines` (GitHub replaces the commented lines with the suggestion block)."""

    file: str
    line: int
    end_line: int
    lines: tuple[str, ...]


def exact_text(text: str) -> str | None:
    """Text a fix carries exactly as it is, or None: longer than FIX_TEXT_CHARS, or holding a
    lone surrogate (text no UTF-8 writer takes; replacing it would change what the fix says)."""
    if len(text) > FIX_TEXT_CHARS or any("\ud800" <= ch <= "\udfff" for ch in text):
        return None
    return text


def split_lines(text: str) -> list[str]:
    """`text` cut at every line break (CRLF, CR or LF); "" is one empty line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _offset(lines: Sequence[str], first: int, line: int, column: int) -> int | None:
    """The index in "\\n".join(lines) of (line, column), or None when outside the lines."""
    k = line - first
    if not 0 <= k < len(lines) or not 1 <= column <= len(lines[k]) + 1:
        return None
    return sum(len(text) + 1 for text in lines[:k]) + column - 1


def _apply(first: int, lines: Sequence[str], edits: Sequence[Edit]) -> list[str] | None:
    """`lines` (from line `first` on) with `edits` applied, or None when an edit falls outside
    them or two edits overlap."""
    text = "\n".join(lines)
    spans: list[tuple[int, int, int, str]] = []
    for n, e in enumerate(edits):
        start = _offset(lines, first, e.line, e.column)
        end = _offset(lines, first, e.end_line, e.end_column)
        if start is None or end is None or end < start:
            return None
        spans.append((start, end, n, "\n".join(split_lines(e.replacement))))
    spans.sort()
    out: list[str] = []
    at = 0
    last: tuple[int, int] | None = None
    for start, end, _, replacement in spans:
        if start < at or (start == end and last == (start, end)):
            return None  # overlapping edits, or two insertions at one place: no single result
        out += [text[at:start], replacement]
        at, last = end, (start, end)
    out.append(text[at:])
    return "".join(out).split("\n")


def _originals(edits: Sequence[Edit]) -> tuple[int, list[str]] | None:
    """(first line, the lines) the originals of `edits` cover, or None when one is not known,
    they disagree, or they leave a gap."""
    known: dict[int, str] = {}
    for e in edits:
        if e.original is None or exact_text(e.original) is None:
            return None
        lines = split_lines(e.original)
        if len(lines) != e.end_line - e.line + 1:
            return None
        for k, text in enumerate(lines):
            if known.setdefault(e.line + k, text) != text:
                return None
    if not known:
        return None
    first, last = min(known), max(known)
    if len(known) != last - first + 1:
        return None
    return first, [known[i] for i in range(first, last + 1)]


def _groups(edits: Sequence[Edit]) -> list[list[Edit]]:
    """Edits of one file in runs whose lines meet or overlap (by start line)."""
    runs: list[list[Edit]] = []
    end = 0
    for e in sorted(edits, key=lambda e: (e.line, e.column, e.end_line, e.end_column)):
        if runs and e.line <= end + 1:
            runs[-1].append(e)
            end = max(end, e.end_line)
        else:
            runs.append([e])
            end = e.end_line
    return runs


def _with_source(e: Edit, source: str | None, line: int) -> Edit:
    """`e` with the finding's source line as its original, when it lies on that line and the
    source is the whole line (not a window of a long one)."""
    if e.original is not None or source is None or not (e.line == e.end_line == line):
        return e
    text = source.rstrip("\r\n")
    if text.startswith(SOURCE_CUT) or text.endswith(SOURCE_CUT) or "\n" in text or "\r" in text:
        return e
    return Edit(e.file, e.line, e.column, e.end_line, e.end_column, e.replacement, text)


def hunks(fix: Fix, source: str | None = None, line: int = 0) -> list[Hunk]:
    """The fix as blocks, one per file and run of lines, in file and line order. `source` and
    `line`: the finding's source line and its number (the old side of an edit on that line
    whose `original` is not known)."""
    by_file: dict[str, list[Edit]] = {}
    for e in fix.edits:
        by_file.setdefault(e.file, []).append(_with_source(e, source, line))
    out: list[Hunk] = []
    for file in sorted(by_file):
        for run in _groups(by_file[file]):
            covered = _originals(run)
            new = _apply(covered[0], covered[1], run) if covered is not None else None
            if covered is not None and new is not None:
                out.append(Hunk(file, covered[0], tuple(covered[1]), tuple(new)))
                continue
            for e in run:
                out.append(
                    Hunk(file, e.line, (), tuple(split_lines(e.replacement)), False, e.column)
                )
    return out


def suggestion(fix: Fix) -> Suggestion | None:
    """The fix as one suggestion: every edit in one file, their originals known and covering one
    run of lines, the result free of characters that would hide what it is; else None."""
    files = {e.file for e in fix.edits}
    if len(files) != 1:
        return None
    covered = _originals(fix.edits)
    if covered is None:
        return None
    first, old = covered
    new = _apply(first, old, fix.edits)
    if new is None or len(old) > SUGGESTION_LINES or len(new) > SUGGESTION_LINES:
        return None
    if old == new or any(not _plain_line(text) for text in (*old, *new)):
        return None
    return Suggestion(files.pop(), first, first + len(old) - 1, tuple(new))


def _plain_line(text: str) -> bool:
    for ch in text:
        if ch == "\t":
            continue
        if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            return False
    return True


def visible(text: str, limit: int = DIFF_LINE_CHARS) -> str:
    """One line as a diff shows it: control and invisible format characters written as
    `<U+XXXX>` (a tab stays a tab), at most `limit` characters in all (a cut ends in an
    ellipsis, never inside such a name)."""
    out: list[str] = []
    size = 0
    for ch in clip(text, limit):
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            ch = f"<U+{ord(ch):04X}>"
        if size + len(ch) > limit - len(ELLIPSIS):
            out.append(ELLIPSIS)
            break
        out.append(ch)
        size += len(ch)
    return "".join(out)


@dataclass(frozen=True)
class DiffLine:
    """A line of a shown diff: kind is ' ' (context), '-', '+' or '@' (a hunk header)."""

    kind: str
    text: str


def _side(lines: Sequence[str], kind: str) -> list[DiffLine]:
    shown = [DiffLine(kind, visible(text)) for text in lines[:DIFF_LINES]]
    if len(lines) > DIFF_LINES:
        shown.append(DiffLine(kind, f"{ELLIPSIS} {len(lines) - DIFF_LINES} more lines"))
    return shown


def diff_lines(hunk: Hunk) -> list[DiffLine]:
    """A hunk as unified-diff lines: the header, the lines both sides share at the start and
    end as context, the old lines, the new lines."""
    if not hunk.known:
        return [
            DiffLine("@", f"@@ at line {hunk.line}, column {hunk.column} @@"),
            *_side(hunk.new, "+"),
        ]
    old, new = list(hunk.old), list(hunk.new)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    header = f"@@ -{hunk.line},{len(old)} +{hunk.line},{len(new)} @@"
    return [
        DiffLine("@", header),
        *_side(old[:head], " "),
        *_side(old[head : len(old) - tail], "-"),
        *_side(new[head : len(new) - tail], "+"),
        *_side(old[len(old) - tail :], " "),
    ]


def unified(fix: Fix, source: str | None = None, line: int = 0) -> str:
    """The fix as a unified diff (file headers, hunks), every line visible and clipped."""
    out: list[str] = []
    current = None
    for hunk in hunks(fix, source, line):
        if hunk.file != current:
            name = visible(hunk.file)
            out += [f"--- {name}", f"+++ {name}"]
            current = hunk.file
        out += [d.text if d.kind == "@" else d.kind + d.text for d in diff_lines(hunk)]
    return "\n".join(out)


def fence(text: str, info: str = "") -> str:
    """`text` in a Markdown code fence longer than any run of backticks in it (nothing in it
    can close the fence)."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{info}\n{text}\n{marks}"
