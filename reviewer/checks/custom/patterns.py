"""Text patterns of custom rules: globs and RE2 regular expressions, both linear in the text.

A rule file is untrusted input (a pull request can change it), so a pattern must not be able to
make a scan hang. Globs are matched by a two-pointer walk (``*`` backtracks at most to the last
star: time linear in pattern x text). Regular expressions run on RE2 (google-re2), which never
backtracks; each expression is capped in length and in the memory RE2 may give its program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

MAX_PATTERN_CHARS = 256  # a longer glob or regular expression is refused
RE2_MAX_MEM = 1 << 20  # bytes RE2 may use for one compiled expression


class PatternError(ValueError):
    """A pattern that cannot be used (too long, not a valid RE2 expression)."""


def glob_match(pattern: str, text: str) -> bool:
    """``*`` matches any run of characters (slashes included), ``?`` one character; everything
    else matches itself. Linear: on a mismatch the walk resumes after the last star only."""
    p = t = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star = p
            mark = t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def path_glob_match(pattern: str, path: str) -> bool:
    """A path glob: ``**`` crosses folders, ``*`` and ``?`` stay within one; a pattern without
    a slash matches the last component (as .gitignore does)."""
    if "/" not in pattern:
        return _segment_match(pattern, path.rsplit("/", 1)[-1])
    return _path_match(pattern.strip("/").split("/"), path.strip("/").split("/"))


def _segment_match(pattern: str, text: str) -> bool:
    if "/" in text:
        return False
    return glob_match(pattern, text)


def _path_match(parts: list[str], names: list[str]) -> bool:
    """Component-wise matching with ``**``; iterative over (part, name) positions, each visited
    once (a table of len(parts) x len(names) booleans)."""
    n, m = len(parts), len(names)
    # ok[i][j]: parts[i:] matches names[j:]
    ok = [[False] * (m + 1) for _ in range(n + 1)]
    ok[n][m] = True
    for i in range(n - 1, -1, -1):
        for j in range(m, -1, -1):
            if parts[i] == "**":
                ok[i][j] = ok[i + 1][j] or (j < m and ok[i][j + 1])
            else:
                ok[i][j] = j < m and _segment_match(parts[i], names[j]) and ok[i + 1][j + 1]
    return ok[0][0]


@dataclass(frozen=True)
class Regex:
    """A compiled RE2 expression (searched: anchor with ^ and $ to match the whole text)."""

    source: str
    compiled: Any = field(compare=False, repr=False)

    def search(self, text: str) -> bool:
        return self.compiled.search(text) is not None


def compile_regex(source: str) -> Regex:
    """RE2 of `source`, or PatternError (too long, or not an expression RE2 accepts: RE2 has
    no backreferences and no lookaround)."""
    if len(source) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False
    try:
        compiled = re2.compile(source, options)
    except Exception as err:  # re2.error, or a TypeError on odd input
        raise PatternError(f"not a regular expression RE2 accepts ({_first_line(err)})") from None
    return Regex(source, compiled)


def check_glob(source: str) -> str:
    if len(source) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    return source


def _first_line(err: Exception) -> str:
    arg = err.args[0] if err.args else ""
    raw = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    text = raw.splitlines()[0] if raw else type(err).__name__
    return text[:120] + "; RE2 has no backreferences or lookaround"
