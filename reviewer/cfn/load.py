"""The only user of cfn-lint's decoder (reviewer.cfn.decoder): text -> marked tree, or parse problems.

cfn-lint's decoder gives CloudFormation YAML (short-form tags) and JSON as dict/str subclasses
that carry start and end marks, rejects duplicate keys, and guards alias expansion. Every
template is decoded here (archreview has no YAML loader of its own), imported lazily, and
converted into reviewer.cfn.nodes types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reviewer.model import Span

MAX_NODES = 2_000_000  # a decoded tree larger than this is refused (alias bombs, generated junk)


@dataclass(frozen=True)
class ParseProblem:
    message: str
    line: int
    column: int


_DUP_RE = re.compile(r"Duplicate found '(?P<key>[^']*)' \(line (?P<line>\d+)\)")
# cfn-lint's JSON decoder words it differently and gives a 0-based line with a 1-based column
_DUP_JSON_RE = re.compile(r'^Duplicate found "(?P<key>.*)"$', re.S)


def import_decoder() -> None:
    """Load cfn-lint's decoder now: a process pool does it once before forking, so its
    workers inherit it (and share its pages) instead of each loading it; a per-file time
    budget does it first, so the budget does not charge it to the first file decoded."""
    from reviewer.cfn import decoder

    decoder.load()


def decode(text: str, *, json_first: bool = False) -> tuple[Any, tuple[ParseProblem, ...]]:
    """Decode a template with cfn-lint's decoder and convert the tree into archreview nodes
    (reviewer.cfn.nodes: picklable, so the cache can hold them and a warm scan never imports
    cfn-lint). Returns (tree, ()) or (None, problems)."""
    tree, problems = decode_cfnlint(text, json_first=json_first)
    if tree is None:
        return None, problems
    from reviewer.cfn.nodes import convert

    return convert(tree), ()


def decode_cfnlint(text: str, *, json_first: bool = False) -> tuple[Any, tuple[ParseProblem, ...]]:
    """Decode with cfn-lint: its own node types, or the problems it finds."""
    from reviewer.cfn import decoder

    cfnlint_decode = decoder.load()
    cfn_json = cfnlint_decode.cfn_json
    decode_str = cfnlint_decode.decode_str
    tree: Any = None
    matches: list[Any] = []
    if json_first and text.lstrip().startswith("{"):
        try:
            tree = cfn_json.loads(text)
        except cfn_json.JSONDecodeError as err:
            matches = list(err.matches)
        except Exception:  # fall back to the YAML path, which also reads JSON
            tree = None
        if tree is None and not matches:
            tree, matches = decode_str(text)
    else:
        try:
            tree, matches = decode_str(text)
        except RecursionError:
            return None, (ParseProblem("nesting too deep to decode", 1, 1),)
    if matches:
        return None, _problems(
            (
                str(getattr(m, "message", m)),
                int(getattr(m, "linenumber", 1) or 1),
                int(getattr(m, "columnnumber", 1) or 1),
            )
            for m in matches
        )
    return _accepted(tree, aliases=True)


def _problems(matches: Iterable[tuple[str, int, int]]) -> tuple[ParseProblem, ...]:
    """cfn-lint's matches (message, line, column) as problems: duplicate keys merged per key."""
    problems: list[ParseProblem] = []
    seen: set[tuple[str, int]] = set()
    duplicates: dict[str, list[tuple[int, int]]] = {}
    for msg, line, col in matches:
        dup = _DUP_RE.search(msg)
        if dup:
            duplicates.setdefault(dup.group("key"), []).append((int(dup.group("line")), col))
            continue
        dup = _DUP_JSON_RE.match(msg)
        if dup:
            duplicates.setdefault(dup.group("key"), []).append((line + 1, col))
            continue
        if (msg, line) in seen:
            continue
        seen.add((msg, line))
        problems.append(ParseProblem(msg, line, col))
    for key, places in duplicates.items():
        places.sort()
        first_line = places[0][0]
        line, col = places[-1]
        where = f" (first at line {first_line})" if line != first_line else ""
        problems.append(ParseProblem(f"duplicate key '{key}'{where}", line, col))
    problems.sort(key=lambda p: (p.line, p.column, p.message))
    return tuple(problems)


def _accepted(tree: Any, *, aliases: bool) -> tuple[Any, tuple[ParseProblem, ...]]:
    if tree is not None and not isinstance(tree, dict):
        return None, (ParseProblem("the top level is not a mapping", 1, 1),)
    if tree is not None and aliases and _too_many_nodes(tree):
        return None, (
            ParseProblem(f"the decoded document has over {MAX_NODES:,} nodes (alias bomb?)", 1, 1),
        )
    return tree, ()


def _too_many_nodes(tree: Any) -> bool:
    count = 0
    stack = [tree]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            return True
        if isinstance(node, dict):
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(node.values())
        elif isinstance(node, list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(node)
    return False


def mark(node: Any) -> Span | None:
    """1-based span of a decoded node, or None for values without marks (ints, bools, None)."""
    start = getattr(node, "start_mark", None)
    end = getattr(node, "end_mark", None)
    if start is None:
        return None
    line = int(start.line) + 1
    col = int(start.column) + 1
    if end is None:
        return Span(line, col, line, col)
    end_line = int(end.line) + 1
    end_col = int(end.column) + 1
    if end_line > line and end.column == 0:
        end_line -= 1
        end_col = col
    if end_line < line:
        end_line, end_col = line, col
    return Span(line, col, end_line, end_col)
