"""Template text -> marked tree (reviewer.decode.nodes), or parse problems.

Every template is decoded here. The fast path (docs/adr/0006-decoding-on-libyaml.md) builds
archreview's nodes straight from libyaml's events (reviewer.decode.fastyaml) or the standard
library's JSON scanner (reviewer.decode.fastjson), reproducing what cfn-lint's decoder
gives: the same values and marks, the same matches at the same places. What the fast path does
not reproduce it refuses, and cfn-lint's decoder (reviewer.decode.cfnlint, loaded without the
linter) decodes that document, its tree converted into archreview nodes as it is read. cfn-lint's
decoder is also the oracle the tests hold the fast path to (`decode_reference`).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reviewer.core.types import Span

MAX_NODES = 2_000_000  # a decoded tree larger than this is refused (alias bombs, generated junk)

Match = tuple[str, int, int]  # a cfn-lint match as read here: message, line, column


@dataclass(frozen=True)
class ParseProblem:
    message: str
    line: int
    column: int


_DUP_RE = re.compile(r"Duplicate found '(?P<key>[^']*)' \(line (?P<line>\d+)\)")
# cfn-lint's JSON decoder words it differently and gives a 0-based line with a 1-based column
_DUP_JSON_RE = re.compile(r'^Duplicate found "(?P<key>.*)"$', re.S)
_SPACE = re.compile(r"\s*")  # what str.lstrip() strips


def import_decoder() -> None:
    """Load the decoder now: a process pool does it once before forking, so its workers
    inherit it (and share its pages) instead of each loading it; a per-file time budget does it
    first, so the budget does not charge it to the first file decoded. The fast path is what
    decodes; cfn-lint's decoder is loaded when a document first needs it."""
    from reviewer.decode import fastjson, fastyaml  # noqa: F401


def decode(
    text: str, *, json_first: bool = False, marks: bool = True
) -> tuple[Any, tuple[ParseProblem, ...]]:
    """Decode a template into archreview nodes (reviewer.decode.nodes: picklable, so the cache can
    hold them and a warm scan never imports cfn-lint). Returns (tree, ()) or (None, problems).
    `json_first`: the file is named .json, so a text starting with `{` is read as JSON first,
    as YAML if that fails. `marks=False`: the same values, not all of them marked (YAML read
    by the fast path: see reviewer.decode.fastyaml.loads), for a caller that compares values
    only; whether the text decodes, and its values, are the same either way."""
    fast = decode_fast(text, json_first=json_first, marks=marks)
    if fast is None:
        return decode_reference(text, json_first=json_first)
    tree, matches, count = fast
    if matches:
        return None, _problems(matches)
    if not isinstance(tree, dict):
        return None, (ParseProblem("the top level is not a mapping", 1, 1),)
    if count > MAX_NODES:
        return None, (_too_large(),)
    return tree, ()


def decode_fast(
    text: str, *, json_first: bool = False, marks: bool = True
) -> tuple[Any, tuple[Match, ...], int] | None:
    """The fast path: (tree, (), node count) or (None, cfn-lint's matches, 0); None when it
    refuses the document (reviewer.decode.fastyaml says what it refuses)."""
    from reviewer.decode.fastyaml import Refused

    # the decoders allocate a container per node and make no reference cycles: the cyclic
    # collector's passes over the growing tree would be pure overhead (about half the time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _fast(text, json_first, marks)
    except Refused:
        return None
    finally:
        if collecting:
            gc.enable()


def _fast(text: str, json_first: bool, marks: bool) -> tuple[Any, tuple[Match, ...], int]:
    """cfn-lint's `decode_str`, and archreview's JSON-first reading, on the fast decoders."""
    from yaml.parser import ParserError
    from yaml.scanner import ScannerError

    from reviewer.decode import fastjson as fastjson_decode
    from reviewer.decode import fastyaml

    if json_first and text.startswith("{", _SPACE.match(text).end()):  # type: ignore[union-attr]
        try:
            tree, count = fastjson_decode.loads(text)
            return tree, (), count
        except fastyaml.Failed as failed:
            return None, failed.matches, 0
        except fastjson_decode.NotCfnJSON:
            pass  # cfn-lint then reads the text as YAML
    try:
        tree, count = fastyaml.loads(text, marks=marks)
        return tree, (), count
    except fastyaml.Failed as failed:
        return None, failed.matches, 0
    except ParserError as err:
        return None, (fastyaml.parser_error(err),), 0
    except ScannerError as err:
        if not fastyaml.json_retry(err):
            return None, (fastyaml.parser_error(err),), 0
        scanner_error = fastyaml.parser_error(err)
    try:  # cfn-lint reads a text with a tab or an unknown escape as JSON
        tree, count = fastjson_decode.loads(text)
    except fastyaml.Failed as failed:
        return None, failed.matches, 0
    except fastjson_decode.NotCfnJSON as other:  # cfn-lint's decode_str, error by error
        if not other.line:
            message = f"Tried to parse None as JSON but got error: {other.message}"
            return None, ((message, 1, 1),), 0
        if other.message in ("No JSON object could be decoded", "Expecting value"):
            return None, (scanner_error,), 0
        return None, ((other.message, other.line, other.column),), 0
    return tree, (), count


def decode_reference(
    text: str, *, json_first: bool = False
) -> tuple[Any, tuple[ParseProblem, ...]]:
    """Decode with cfn-lint's decoder and convert its tree into archreview nodes: the fallback
    for what the fast path refuses, and the reference it is tested against. The conversion
    empties cfn-lint's containers as it goes, so the two trees are never both whole."""
    tree, problems = decode_cfnlint(text, json_first=json_first)
    if tree is None:
        return None, problems
    from reviewer.decode.nodes import convert

    return convert(tree, consume=True), ()


def decode_cfnlint(text: str, *, json_first: bool = False) -> tuple[Any, tuple[ParseProblem, ...]]:
    """Decode with cfn-lint: its own node types, or the problems it finds."""
    tree, matches = cfnlint_matches(text, json_first=json_first)
    if matches:
        return None, _problems(matches)
    return _accepted(tree, aliases=True)


def cfnlint_matches(text: str, *, json_first: bool = False) -> tuple[Any, tuple[Match, ...]]:
    """cfn-lint's decoder as archreview calls it: its tree (its own node types), or its
    matches as (message, line, column) before archreview merges them into problems."""
    from reviewer.decode import cfnlint as decoder

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
            return None, (("nesting too deep to decode", 1, 1),)
    if matches:
        # a line stays 0 where cfn-lint gives one: its JSON duplicate-key matches count lines
        # from 0 (and `_problems` adds the 1); a missing one is 1
        return None, tuple(
            (
                str(getattr(m, "message", m)),
                _number(getattr(m, "linenumber", None)),
                _number(getattr(m, "columnnumber", None)),
            )
            for m in matches
        )
    return tree, ()


def _number(value: Any) -> int:
    return 1 if value is None else int(value)


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
        return None, (_too_large(),)
    return tree, ()


def _too_large() -> ParseProblem:
    return ParseProblem(f"the decoded document has over {MAX_NODES:,} nodes (alias bomb?)", 1, 1)


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
