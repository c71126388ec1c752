"""One typed reader for the values archreview reads from a repository and from the user.

Every input with a schema goes through here: ``.archreview.yml`` and agent front matter (YAML),
``--parameters`` files (YAML or JSON), samconfig.toml (TOML), baselines (JSON) and inline
suppressions in templates. A value of the wrong type is a :class:`TypedError` (an
:class:`InputError`) that names the file, the 1-based line and column, what was expected and what
was found, with a suggestion where one is close. The callers turn it into a finding (AR-MOD-003 /
AR-MOD-004) or, for a strict input, a one-line error that exits 2; never a traceback.

YAML is composed, not constructed: :func:`compose` builds :class:`Marked` nodes from PyYAML's
node graph and converts each scalar itself, so implicit typing cannot raise (``2030-13-01`` is a
timestamp by YAML 1.1's pattern but not a date; constructing it raises ``ValueError``). Each
scalar keeps its text as written and its resolved kind; a reader asks for the type it expects and
converts the text: a string field gets the text as written (``on``, ``1.10``, ``2030-13-01``), a
boolean field takes a YAML boolean, an integer field an integer, a date field a date or timestamp
or a string holding one.
"""

from __future__ import annotations

import datetime as dt
import json
import json.decoder
import json.scanner
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_NODES = 100_000  # a document larger than this is refused (alias bombs)
MAX_DEPTH = 64  # deeper nesting is refused (the composer and the readers recurse)

# The kinds of a YAML value (a scalar's resolved kind, or the collection it is).
STR, INT, FLOAT, BOOL, NULL, TIMESTAMP = "str", "int", "float", "bool", "null", "timestamp"
MAPPING, LIST = "mapping", "list"

_CORE_TAGS = {
    "tag:yaml.org,2002:str": STR,
    "tag:yaml.org,2002:int": INT,
    "tag:yaml.org,2002:float": FLOAT,
    "tag:yaml.org,2002:bool": BOOL,
    "tag:yaml.org,2002:null": NULL,
    "tag:yaml.org,2002:timestamp": TIMESTAMP,
}
_MERGE_TAG = "tag:yaml.org,2002:merge"


class InputError(Exception):
    """An input archreview cannot use: ``message`` at ``file``:``line``:``column`` (1-based),
    with an optional suggestion ("did you mean ...?")."""

    def __init__(
        self,
        message: str,
        file: str,
        line: int = 1,
        column: int = 1,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message, file, line, column, suggestion)
        self.message = message
        self.file = file
        self.line = max(1, line)
        self.column = max(1, column)
        self.suggestion = suggestion

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{self.file}:{self.line}:{self.column}: {self.message}{hint}"


class TypedError(InputError):
    """A value of the wrong type: ``where`` must be ``expected``, not ``found``."""

    def __init__(
        self,
        file: str,
        line: int,
        column: int,
        expected: str,
        found: str,
        suggestion: str | None = None,
        *,
        where: str = "the value",
    ) -> None:
        super().__init__(f"{where} must be {expected}, not {found}", file, line, column, suggestion)
        self.expected = expected
        self.found = found
        self.where = where


# -- showing repository text in a message ------------------------------------------------------


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a one-line message: control, format (bidi) and separator characters
    escaped, cut at ``limit`` characters."""
    cut = text if len(text) <= limit else text[:limit]
    out = repr(cut)  # repr escapes what is not printable, bidi controls included
    return out if cut is text else f"{out}..."


def escape_line(text: str, limit: int = 300) -> str:
    """``text`` as one inert terminal line: every control, format (bidi) or separator character
    escaped (``\\x1b``, ``\\u202e``, ``\\n``), then cut at ``limit`` characters."""
    parts: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            parts.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            parts.append(ch)
    line = "".join(parts)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (a misspelling or a case difference), or None."""
    import difflib  # only when a message needs a suggestion

    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    low = {c.lower(): c for c in options}
    return low.get(word.lower())


# -- YAML with positions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """A YAML value with its 1-based position. A mapping keeps its keys' positions; a scalar
    keeps its text as written (quotes removed) and its resolved kind (STR, INT, FLOAT, BOOL,
    NULL, TIMESTAMP). ``value`` is ``dict[str, Marked]``, ``list[Marked]``, or the scalar as
    Python reads it without risk: None, a bool, an int, a float, else the text (timestamps
    stay text: :func:`parse_date` reads them)."""

    value: Any
    line: int
    column: int
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    kind: str = STR
    text: str = ""

    @property
    def is_scalar(self) -> bool:
        return self.kind not in (MAPPING, LIST)

    def plain(self) -> Any:
        """The value without positions."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def found(self) -> str:
        """What this value is, for a message: "a mapping", "an integer (14)", "null"."""
        return describe(self.kind, None if self.kind in (MAPPING, LIST, NULL) else self.text)


_ARTICLES = {
    STR: "a string",
    INT: "an integer",
    FLOAT: "a number",
    BOOL: "a boolean",
    NULL: "null",
    TIMESTAMP: "a date",
    MAPPING: "a mapping",
    LIST: "a list",
}


def describe(kind: str, text: str | None = None) -> str:
    """A kind for a message, with the text as written when given: ``a boolean ('on')``."""
    name = _ARTICLES.get(kind, kind)
    if text is None:
        return name
    if kind in (INT, FLOAT, BOOL) and len(text) <= 40 and text.isprintable():
        return f"{name} ({text})"  # 5, 1.10, on: as written, unquoted
    if kind == TIMESTAMP:
        if parse_date(text) is None:
            name = "an impossible date"  # 2030-13-01: a timestamp by its shape only
        elif ":" in text:
            name = "a timestamp"
    return f"{name} ({shown(text)})"


def kind_of(value: Any) -> str:
    """The kind of a plain value (from JSON, TOML or a decoded template)."""
    if isinstance(value, dict):
        return MAPPING
    if isinstance(value, (list, tuple)):
        return LIST
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, (dt.date, dt.time)):
        return TIMESTAMP
    if isinstance(value, str):
        return STR
    return type(value).__name__


def describe_value(value: Any) -> str:
    """A plain value's kind for a message, with a short scalar shown: ``a string ('x')``."""
    kind = kind_of(value)
    if kind in (MAPPING, LIST, NULL):
        return describe(kind)
    if kind == TIMESTAMP:
        return describe(kind, value.isoformat())
    if kind in (STR, INT, FLOAT, BOOL):
        return describe(kind, value if isinstance(value, str) else json.dumps(value))
    return f"a {kind}"


def _yaml_error(err: yaml.YAMLError, file: str, line_offset: int) -> InputError:
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        column = mark.column + 1 if mark else 1
        problem = err.problem or "invalid YAML"
        context = f" {err.context}" if err.context else ""
        return InputError(f"invalid YAML: {problem}{context}", file, line, column)
    return InputError(f"invalid YAML: {err}", file, 1 + line_offset)


def compose(text: str, file: str, line_offset: int = 0) -> Marked | None:
    """Parse one YAML document into :class:`Marked` values; None for an empty document.

    Raises InputError for a syntax error, a duplicate or non-string key, a merge key, a tag
    outside YAML's core schema, several documents, more than MAX_NODES nodes (aliases are
    counted at each use) or nesting deeper than MAX_DEPTH. No constructor runs on the document:
    scalars are converted by :func:`_scalar`, which cannot fail."""
    try:
        loader = yaml.SafeLoader(text)  # its reader rejects control characters right away
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise InputError(
            f"invalid YAML: {err.reason} (character #x{err.character:04x})",
            file,
            line + line_offset,
            column,
        ) from None
    try:
        node = loader.get_single_node()
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise InputError(
            f"invalid YAML: nested deeper than {MAX_DEPTH} levels", file, 1 + line_offset
        ) from None
    except yaml.YAMLError as err:
        raise _yaml_error(err, file, line_offset) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    budget = [MAX_NODES]

    def walk(n: yaml.Node, depth: int) -> Marked:
        budget[0] -= 1
        if budget[0] < 0:
            raise InputError(
                f"the document has over {MAX_NODES:,} nodes (alias bomb?)", file, 1 + line_offset
            )
        line = n.start_mark.line + 1 + line_offset
        col = n.start_mark.column + 1
        if depth > MAX_DEPTH:
            raise InputError(
                f"invalid YAML: nested deeper than {MAX_DEPTH} levels", file, line, col
            )
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Marked] = {}
            keys: dict[str, tuple[int, int]] = {}
            for knode, vnode in n.value:
                kline = knode.start_mark.line + 1 + line_offset
                kcol = knode.start_mark.column + 1
                if knode.tag == _MERGE_TAG:
                    raise InputError("merge keys (<<) are not supported here", file, kline, kcol)
                if not isinstance(knode, yaml.ScalarNode):
                    found = "a mapping" if isinstance(knode, yaml.MappingNode) else "a list"
                    raise InputError(f"keys must be strings, not {found}", file, kline, kcol)
                key = _scalar(loader, knode, file, kline, kcol)
                if key.kind != STR:
                    raise InputError(
                        f"keys must be strings, not {key.found()}", file, kline, kcol, key.text
                    )
                name = key.text
                if name in out:
                    first = keys[name][0]
                    raise InputError(
                        f"duplicate key {name!r} (first at line {first})", file, kline, kcol
                    )
                keys[name] = (kline, kcol)
                out[name] = walk(vnode, depth + 1)
            return Marked(out, line, col, keys, MAPPING)
        if isinstance(n, yaml.SequenceNode):
            return Marked([walk(item, depth + 1) for item in n.value], line, col, kind=LIST)
        assert isinstance(n, yaml.ScalarNode)
        return _scalar(loader, n, file, line, col)

    return walk(node, 0)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar(loader: yaml.SafeLoader, n: yaml.ScalarNode, file: str, line: int, col: int) -> Marked:
    """A scalar node as a Marked value, converted by its resolved tag without risk: a value the
    converter refuses (``0x_``, an integer of 5,000 digits) stays text, as YAML 1.2 reads it."""
    kind = _CORE_TAGS.get(n.tag)
    if kind is None:
        raise InputError(
            f"invalid value: could not determine a constructor for the tag {n.tag!r}",
            file,
            line,
            col,
        )
    # a double-quoted "\ud800" is a lone surrogate: text no file name or output can encode
    text = _SURROGATE.sub("\ufffd", str(n.value))
    value: Any = text
    try:
        if kind == NULL:
            value = None
        elif kind == BOOL:
            value = yaml.constructor.SafeConstructor.bool_values[text.lower()]
        elif kind == INT:
            value = loader.construct_yaml_int(n)
        elif kind == FLOAT:
            value = loader.construct_yaml_float(n)
    except (ValueError, OverflowError, KeyError, TypeError, yaml.YAMLError):
        kind, value = STR, text
    return Marked(value, line, col, kind=kind, text=text)


# -- dates -------------------------------------------------------------------------------------

_TIMESTAMP = yaml.constructor.SafeConstructor.timestamp_regexp


def parse_date(text: str) -> dt.date | None:
    """The date of ``YYYY-MM-DD`` or of a YAML timestamp (``2030-01-01T00:00:00Z``,
    ``2001-12-14 21:59:43.10 -5``): the date as written, whatever its zone; None when the text
    is neither or names no real day or time (``2030-13-01``)."""
    m = _TIMESTAMP.match(text.strip())
    if m is None:
        return None
    try:
        day = dt.date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
        if m.group("hour") is not None:
            dt.time(int(m.group("hour")), int(m.group("minute")), int(m.group("second")))
        if m.group("tz_hour") is not None and int(m.group("tz_hour")) > 23:
            return None
    except ValueError:
        return None
    return day


def coerce_date(value: Any) -> dt.date | None:
    """A date from a decoded value: a datetime's date as written, a date, or a string holding
    one (see :func:`parse_date`); None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_date(value)
    return None


# -- the reader --------------------------------------------------------------------------------


class Reader:
    """Reads typed values out of :class:`Marked` nodes of one file; every refusal is an
    :class:`InputError` (a :class:`TypedError` for a wrong type) at the value's position."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, m: Marked, message: str, suggestion: str | None = None) -> InputError:
        return InputError(message, self.file, m.line, m.column, suggestion)

    def wrong(
        self, m: Marked, where: str, expected: str, suggestion: str | None = None
    ) -> TypedError:
        return TypedError(self.file, m.line, m.column, expected, m.found(), suggestion, where=where)

    def mapping(
        self, m: Marked, where: str, allowed: Iterable[str] | None = None
    ) -> dict[str, Marked]:
        """A mapping; with ``allowed``, a key outside it is an error naming the closest one."""
        if m.kind != MAPPING:
            raise self.wrong(m, where, "a mapping")
        if allowed is not None:
            names = tuple(allowed)
            for key in m.value:
                if key not in names:
                    line, col = m.keys[key]
                    dotted = key if where.startswith("the ") else f"{where}.{key}"
                    raise InputError(
                        f"unknown key {dotted!r}; allowed here: {', '.join(names)}",
                        self.file,
                        line,
                        col,
                        suggest(key, names),
                    )
        return dict(m.value)

    def sequence(self, m: Marked, where: str, expected: str = "a list") -> list[Marked]:
        if m.kind != LIST:
            raise self.wrong(m, where, expected)
        return list(m.value)

    def boolean(self, m: Marked, where: str) -> bool:
        if m.kind != BOOL:
            hint = None
            if m.kind == STR and m.text.strip().lower() in ("true", "false", "yes", "no"):
                hint = "true" if m.text.strip().lower() in ("true", "yes") else "false"
            raise self.wrong(m, where, "true or false", hint)
        return bool(m.value)

    def integer(self, m: Marked, where: str, low: int, high: int) -> int:
        if m.kind != INT or not isinstance(m.value, int):
            hint = m.text.strip() if m.kind == STR and m.text.strip().isdigit() else None
            raise self.wrong(m, where, "an integer", hint)
        if not low <= m.value <= high:
            raise self.fail(m, f"{where} must be between {low} and {high}, not {m.value}")
        return int(m.value)

    def text(self, m: Marked, where: str) -> str | None:
        """A scalar's text as written, whatever YAML would have typed it (``on``, ``1.10``,
        ``2030-13-01``); None for null; a mapping or a list is an error."""
        if not m.is_scalar:
            raise self.wrong(m, where, "a string")
        return None if m.kind == NULL else m.text

    def string(self, m: Marked, where: str) -> str:
        """A non-empty string, stripped: the scalar's text as written."""
        if not m.is_scalar or m.kind == NULL:
            raise self.wrong(m, where, "a non-empty string")
        if not m.text.strip():
            raise TypedError(
                self.file, m.line, m.column, "a non-empty string", "an empty string", where=where
            )
        return m.text.strip()

    def strings(self, m: Marked, where: str) -> tuple[str, ...]:
        """A list of non-empty strings, without repeats."""
        items = self.sequence(m, where, "a list of strings")
        return tuple(dict.fromkeys(self.string(item, f"an entry of {where}") for item in items))

    def choice(
        self,
        m: Marked,
        where: str,
        choices: tuple[str, ...],
        normalise: Callable[[str], str] | None = None,
    ) -> str:
        raw = self.string(m, where)
        value = normalise(raw) if normalise else raw
        if value not in choices:
            raise self.fail(
                m,
                f"{where} must be one of {', '.join(choices)}, not {raw!r}",
                suggest(value, choices),
            )
        return value

    def date(self, m: Marked, where: str) -> dt.date:
        """A date: a YAML date or timestamp (its date as written) or a string holding one."""
        day = parse_date(m.text) if m.kind in (STR, TIMESTAMP) else None
        if day is None:
            raise self.wrong(m, where, "a date YYYY-MM-DD")
        return day


# -- TOML and JSON positions (best effort) -----------------------------------------------------

_TOML_HEADER = re.compile(r"\s*\[\[?([^\]]*)\]")  # linear: no lazy part before the "]"
_TOML_KEY = re.compile(
    r"""^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)
_TOML_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


def _toml_dotted(text: str) -> tuple[str, ...] | None:
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOML_PART.match(text, pos)
        if m is None or m.end() == pos:
            return None
        raw = m.group(1)
        if raw.startswith('"'):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = raw[1:-1]
        elif raw.startswith("'"):
            raw = raw[1:-1]
        parts.append(raw)
        pos = m.end()
    return tuple(parts)


def toml_line(text: str, path: tuple[str, ...]) -> int:
    """The 1-based line where the TOML value at ``path`` is written (best effort): the key line
    ``name = ...`` inside its table, else the table header ``[a.b]``, else the header or key
    line of its nearest written ancestor; 1 when none is found. TOML parsers give no positions,
    so this reads the text line by line (multi-line strings may mislead it)."""
    best: tuple[int, int] = (0, 1)  # (how much of the path matched, line)
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header is not None:
            dotted = _toml_dotted(header.group(1))
            if dotted is None:
                continue
            table = dotted
            full = table
        else:
            key = _TOML_KEY.match(line)
            if key is None:
                continue
            dotted = _toml_dotted(key.group(1))
            if dotted is None:
                continue
            full = table + dotted
        size = len(full)
        if size <= len(path) and full == path[:size] and size > best[0]:
            best = (size, number)
            if size == len(path):
                break
    return best[1]


def json_position(text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    """The 1-based (line, column) of the JSON object or array at ``path`` (keys and indexes), or
    of its nearest enclosing one (best effort: scalars have no recorded position). The text is
    parsed again with the pure-Python scanner, each container's start offset recorded; call it
    only to report an error."""
    starts: dict[int, int] = {}
    decoder = json.JSONDecoder()
    parse_object = getattr(decoder, "parse_object")  # noqa: B009 (not in the type stubs)
    parse_array = getattr(decoder, "parse_array")  # noqa: B009

    def on_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = parse_object(s_and_end, *args)
        starts[id(value)] = s_and_end[1] - 1
        return value, end

    def on_array(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = parse_array(s_and_end, *args)
        starts[id(value)] = s_and_end[1] - 1
        return value, end

    setattr(decoder, "parse_object", on_object)  # noqa: B010
    setattr(decoder, "parse_array", on_array)  # noqa: B010
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        data, _end = decoder.raw_decode(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return 1, 1
    offset = starts.get(id(data), 0)
    node = data
    for step in path:
        in_dict = isinstance(node, dict) and isinstance(step, str) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if not (in_dict or in_list):
            break
        node = node[step]
        if id(node) in starts and isinstance(node, (dict, list)):
            offset = starts[id(node)]
    lead = len(text) - len(text.lstrip("\ufeff"))
    offset += lead
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


# -- --parameters files ------------------------------------------------------------------------


def _parameter_value(r: Reader, m: Marked, where: str) -> Any:
    """A parameter value: a scalar (a string as written; null, a boolean or a number as YAML
    reads it) or a list of them (a CommaDelimitedList)."""
    if m.kind == LIST:
        return [_parameter_value(r, item, f"an entry of {where}") for item in m.value]
    if m.kind == MAPPING:
        raise r.wrong(m, where, "a string, a number, a boolean or a list")
    if m.kind in (STR, TIMESTAMP):
        return m.text
    return m.value


def parameters_from_text(text: str, file: str) -> dict[str, Any]:
    """Parameter values from a ``--parameters`` file (JSON or YAML): ``{Name: value}``,
    ``{Parameters: {Name: value}}`` or ``[{ParameterKey: Name, ParameterValue: value}]``.
    Raises InputError with the position of anything it cannot use."""
    doc = compose(text, file)
    r = Reader(file)
    if doc is None:
        raise InputError("the file is empty; expected a mapping of parameter names to values", file)
    out: dict[str, Any] = {}
    if doc.kind == LIST:  # the CloudFormation CLI's form
        for item in doc.value:
            body = r.mapping(item, "an entry of the parameter list")
            if "ParameterKey" not in body:
                raise r.fail(item, "an entry of the parameter list needs ParameterKey")
            name = r.string(body["ParameterKey"], "ParameterKey")
            value = body.get("ParameterValue")
            out[name] = None if value is None else _parameter_value(r, value, name)
        return out
    top = r.mapping(doc, "the parameters file")
    params = top.get("Parameters", doc)
    for name, value in r.mapping(params, "Parameters").items():
        out[name] = _parameter_value(r, value, name)
    return out
