"""Read an agent definition (Markdown with YAML front matter) as a declared architecture.

The front matter is read strictly: a file without it, an unclosed one, invalid YAML or a front
matter that is not a mapping is an :class:`AgentError` with file:line (the CLI exits 2). What it
maps: ``<x>_context.technology_stack`` (backend and frontend languages, frameworks, security,
testing) and ``architectural_patterns.security_architecture.layers``.

The body is read leniently. Its fenced ``yaml`` blocks are often not valid YAML (the example's
event pipeline and security layers are prose in YAML clothing), so they are never parsed as YAML:
each line is matched on its own against a small set of recognisers (queue names ending in .fifo,
visibility timeout, message retention, "Label: 512MB, 5min timeout" sizing lines, "Layer N -"
headings, WAF / rate limiting / geo restriction / private subnets / authorizers / KMS / TLS /
AWS Config / single-table / deployment pattern / multi-region phrases). Every value found is a
:class:`Declared` with the line it came from. Lines that carry numbers with units but match no
recogniser are listed as not mapped, and so are front-matter keys under the architecture
sections that have no profile key. Mojibake (UTF-8 read as Windows-1252, such as "ðŸ" or "â”œ")
is a warning with its line.

:func:`mapped_profile` turns a reading into a :class:`~reviewer.profile.Profile`: the keys it
declares over the built-in baseline (``Profile.declared``: those keys). :func:`profile_from_agent`
returns that, or the preset it recognises: on the example agent definition the mapping differs
from the chariot preset exactly by :data:`reviewer.profile.CHARIOT_ADDITIONS`, so the example
reads as the chariot preset.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reviewer.core.typed import NULL, InputError, Marked, compose
from reviewer.profile import (
    AUTHORIZER_KINDS,
    BASELINE,
    KEY_FIELDS,
    LAYER_FAMILIES,
    Profile,
    SizingClass,
)
from reviewer.profile.document import (
    LAYER_SECTIONS,
    ProfileError,
    normalise_go_version,
    read_limited,
    valid_go_version,
    valid_npm_range,
)

# -- results -----------------------------------------------------------------------------------


class AgentError(Exception):
    """An agent definition whose front matter cannot be read."""

    def __init__(self, message: str, file: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message, file, line, column)
        self.message = message
        self.file = file
        self.line = max(1, line)
        self.column = max(1, column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Declared:
    """One value the agent definition declares, with the line it came from."""

    key: str  # schema key of .archreview.yml, e.g. "stack.go.version", "sizing.classes.ingestion"
    value: Any
    line: int
    text: str  # the source line, stripped


@dataclass(frozen=True)
class Note:
    line: int
    message: str
    column: int = 0  # 1-based; 0 when the note is about the whole line

    def where(self, file: str) -> str:
        """'file:line', or 'file:line:column' when the note has a column."""
        return f"{file}:{self.line}:{self.column}" if self.column else f"{file}:{self.line}"


@dataclass
class AgentReading:
    file: str
    name: str | None = None
    context: str | None = None  # "chariot" for chariot_context
    declared: list[Declared] = field(default_factory=list)
    unmapped: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    ignored_keys: list[str] = field(default_factory=list)  # agent runtime settings
    lines: list[str] = field(default_factory=list, repr=False)

    def values(self, key: str) -> list[Declared]:
        return [d for d in self.declared if d.key == key]

    def first(self, key: str) -> Declared | None:
        found = self.values(key)
        return found[0] if found else None

    def line_text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 1 <= line <= len(self.lines) else ""

    def declared_keys(self) -> list[str]:
        return list(dict.fromkeys(d.key for d in self.declared))


# -- vocabulary --------------------------------------------------------------------------------

# Go modules known by their short names in agent definitions.
GO_MODULES: dict[str, str] = {
    "gorilla/mux": "github.com/gorilla/mux",
    "mux": "github.com/gorilla/mux",
    "aws-sdk-go-v2": "github.com/aws/aws-sdk-go-v2",
    "aws-sdk-go v2": "github.com/aws/aws-sdk-go-v2",
    "aws-sdk-go": "github.com/aws/aws-sdk-go",
    "gin": "github.com/gin-gonic/gin",
    "echo": "github.com/labstack/echo/v4",
    "chi": "github.com/go-chi/chi/v5",
    "fiber": "github.com/gofiber/fiber/v2",
    "testify": "github.com/stretchr/testify",
    "ginkgo": "github.com/onsi/ginkgo/v2",
    "gomega": "github.com/onsi/gomega",
    "gomock": "go.uber.org/mock",
}
# HTTP routers: declaring one makes the others competing frameworks (AR-STK-003).
GO_ROUTERS: tuple[tuple[str, ...], ...] = (
    ("github.com/gorilla/mux",),
    ("github.com/gin-gonic/gin",),
    ("github.com/labstack/echo", "github.com/labstack/echo/v4"),
    ("github.com/go-chi/chi", "github.com/go-chi/chi/v5"),
    ("github.com/gofiber/fiber", "github.com/gofiber/fiber/v2"),
)
# npm state-management libraries: declaring one makes the others competitors.
NODE_STATE: tuple[tuple[str, ...], ...] = (
    ("@tanstack/react-query", "react-query"),
    ("redux", "@reduxjs/toolkit", "react-redux"),
    ("swr",),
)
NODE_TESTING: dict[str, tuple[str, ...]] = {
    "jest": ("jest",),
    "playwright": ("@playwright/test", "playwright"),
    "vitest": ("vitest",),
    "cypress": ("cypress",),
    "mocha": ("mocha",),
}
# canonical order of node test frameworks in a profile
_NODE_TEST_ORDER = ("jest", "@playwright/test", "playwright", "vitest", "cypress", "mocha")

# sizing-class names and the logical-id substrings that select them
SIZING_WORDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ingest", "ingestion", ("ingest",)),
    ("correlat", "correlation", ("correlat",)),
    ("assess", "assessment", ("assess",)),
    ("notif", "notification", ("notif", "dispatch")),
    ("dispatch", "notification", ("notif", "dispatch")),
    ("api", "api", ()),
)

# top-level front-matter keys that configure the agent itself, not the architecture
AGENT_RUNTIME_KEYS = frozenset(
    {
        "name",
        "description",
        "metadata",
        "triggers",
        "capabilities",
        "constraints",
        "behavior",
        "communication",
        "integration",
        "optimization",
        "hooks",
        "output_config",
        "examples",
        "sophistication_patterns",
        "quality_standards",
        "metrics",
        "tools",
        "model",
        "color",
    }
)

# -- reading -----------------------------------------------------------------------------------


def read_agent(path: str | Path) -> AgentReading:
    p = Path(path)
    try:
        text = read_limited(p, "the agent definition")
    except ProfileError as err:
        raise AgentError(err.message, err.file, err.line, err.column) from err
    return read_agent_text(text, str(p))


def read_agent_text(text: str, file: str) -> AgentReading:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r").strip() != "---":
        raise AgentError(
            "no YAML front matter: an agent definition starts with a line '---', then YAML "
            "(name, description, <x>_context, architectural_patterns), then a closing '---'",
            file,
            1,
        )
    end = next(
        (i for i in range(1, len(lines)) if lines[i].rstrip("\r").strip() in ("---", "...")),
        None,
    )
    if end is None:
        raise AgentError(
            "the front matter opened at line 1 is never closed by a '---' line", file, 1
        )
    front = "\n".join(lines[1:end])
    try:
        doc = compose(front, file, line_offset=1)
    except InputError as err:
        raise AgentError(f"front matter: {err.message}", file, err.line, err.column) from err
    if doc is None or not isinstance(doc.value, dict):
        raise AgentError("the front matter is not a YAML mapping", file, 2)
    reading = AgentReading(file, lines=[line.rstrip("\r") for line in lines])
    for number, line in enumerate(lines, start=1):
        found = mojibake(line)
        if found:
            bad, meant = found
            hint = f" (probably {meant!r})" if meant else ""
            # the first run of its text is the first mojibake run: an earlier one would be it
            column = line.find(bad) + 1
            reading.warnings.append(Note(number, f"mojibake {bad!r}{hint}: {MOJIBAKE_WHY}", column))
    _front_matter(reading, doc)
    _body(reading, lines, end + 1)
    _contradictions(reading)
    return reading


# -- mojibake ----------------------------------------------------------------------------------

MOJIBAKE_WHY = (
    "UTF-8 text that was decoded as Windows-1252 and saved again; re-save the file as UTF-8 "
    "from the original"
)
# a mojibake warning as profiles and init print it: "FILE:LINE:COLUMN: mojibake 'ðŸ“Š' ...: why"
_MOJIBAKE_WARNING = re.compile(
    r"(?P<file>.+):(?P<line>\d+):(?P<column>\d+): mojibake (?P<what>.+): " + re.escape(MOJIBAKE_WHY)
)


def grouped_warnings(lines: Iterable[str], *, verbose: bool = False) -> list[str]:
    """Warning lines for a terminal: the mojibake warnings of a file with more than one are
    folded into one line where the first was ("FILE: 29 lines with mojibake, first at 226:1
    ('ðŸ“Š'): ...; --verbose lists them"); other warnings, and every line with `verbose`,
    as they are. An emoji-laden definition otherwise buries its one real warning under
    dozens of identical ones."""
    lines = list(lines)
    if verbose:
        return lines
    counts: dict[str, int] = {}
    for line in lines:
        found = _MOJIBAKE_WARNING.fullmatch(line)
        if found:
            counts[found["file"]] = counts.get(found["file"], 0) + 1
    out: list[str] = []
    folded: set[str] = set()
    for line in lines:
        found = _MOJIBAKE_WARNING.fullmatch(line)
        if found is None or counts[found["file"]] == 1:
            out.append(line)
        elif found["file"] not in folded:
            folded.add(found["file"])
            out.append(
                f"{found['file']}: {counts[found['file']]} lines with mojibake, first at "
                f"{found['line']}:{found['column']} ({found['what']}): {MOJIBAKE_WHY}; "
                "--verbose lists them"
            )
    return out


_CP1252_EXTRA = {
    ch: b for b in range(0x80, 0xA0) for ch in [bytes([b]).decode("cp1252", errors="ignore")] if ch
}
_MOJIBAKE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _as_bytes(ch: str) -> int | None:
    o = ord(ch)
    if o < 0x100:
        return o
    return _CP1252_EXTRA.get(ch)


def mojibake(line: str) -> tuple[str, str | None] | None:
    """The first mojibake run in a line (UTF-8 bytes shown as Windows-1252 characters) and
    what it probably meant, or None."""
    if line.isascii():
        return None
    codes: list[int] = []
    index: list[int] = []
    for i, ch in enumerate(line):
        b = _as_bytes(ch)
        if b is None:
            codes.append(0x3F)  # a character outside the 1252 table cannot be mojibake
        else:
            codes.append(b)
        index.append(i)
    data = bytes(codes)
    m = _MOJIBAKE.search(data)
    if m is None:
        return None
    # extend over neighbouring runs (a 4-byte emoji whose bytes were partly lost)
    start, stop = m.start(), m.end()
    while True:
        nxt = _MOJIBAKE.match(data, stop)
        if nxt is None or nxt.end() == stop:
            break
        stop = nxt.end()
    bad = line[index[start] : index[stop - 1] + 1]
    meant = data[start:stop].decode("utf-8", errors="replace")
    return bad, (meant if "\ufffd" not in meant else None)


# -- front matter ------------------------------------------------------------------------------


def _text(m: Marked) -> str | None:
    """A scalar's text as written (``1.10``, ``on``, ``2030-13-01``); None for null, a mapping
    or a list. The front matter is read for words, whatever type YAML would give them."""
    return m.text if m.is_scalar and m.kind != NULL else None


def _str_items(m: Marked) -> Iterator[tuple[str, Marked]]:
    """A string, or each string of a list, with its position."""
    text = _text(m)
    if text is not None:
        yield text, m
    elif isinstance(m.value, list):
        for item in m.value:
            text = _text(item)
            if text is not None:
                yield text, item


def _src(m: Marked, fallback: str) -> str:
    v = m.plain()
    return f"{fallback}: {v}" if not isinstance(v, (dict, list)) else fallback


def _front_matter(reading: AgentReading, doc: Marked) -> None:
    top: dict[str, Marked] = doc.value
    name = top.get("name")
    name_text = _text(name) if name is not None else None
    if name_text is not None:
        reading.name = name_text.strip() or None
    for key, value in top.items():
        line = doc.keys[key][0]
        ctx = re.fullmatch(r"([A-Za-z0-9-]+)_context", key)
        if ctx and isinstance(value.value, dict):
            reading.context = reading.context or ctx.group(1).lower()
            _context(reading, key, value)
        elif key == "architectural_patterns" and isinstance(value.value, dict):
            _patterns(reading, key, value)
        elif key in AGENT_RUNTIME_KEYS:
            reading.ignored_keys.append(key)
        else:
            reading.unmapped.append(Note(line, f"front-matter key {key!r} is not mapped"))


def _unmapped_leaves(reading: AgentReading, where: str, m: Marked, line: int) -> None:
    if isinstance(m.value, dict) and m.value:
        for k, v in m.value.items():
            _unmapped_leaves(reading, f"{where}.{k}", v, m.keys[k][0])
    else:
        reading.unmapped.append(Note(line, f"{where} is not mapped (no profile key)"))


def _context(reading: AgentReading, where: str, ctx: Marked) -> None:
    for key, value in ctx.value.items():
        line = ctx.keys[key][0]
        if key == "technology_stack" and isinstance(value.value, dict):
            _tech_stack(reading, f"{where}.{key}", value)
        else:
            _unmapped_leaves(reading, f"{where}.{key}", value, line)


def _tech_stack(reading: AgentReading, where: str, stack: Marked) -> None:
    for part, body in stack.value.items():
        line = stack.keys[part][0]
        here = f"{where}.{part}"
        if part == "backend" and isinstance(body.value, dict):
            _backend(reading, here, body)
        elif part == "frontend" and isinstance(body.value, dict):
            _frontend(reading, here, body)
        else:
            _unmapped_leaves(reading, here, body, line)


def _add(reading: AgentReading, key: str, value: Any, m: Marked, text: str) -> None:
    """Record a front-matter value; it cites the whole source line when there is one."""
    reading.declared.append(Declared(key, value, m.line, reading.line_text(m.line) or text))


def go_module_for(name: str) -> str | None:
    n = name.strip()
    low = n.lower()
    if low in GO_MODULES:
        return GO_MODULES[low]
    if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}/[\w.~/-]+", low):
        return n  # a module path as such
    if re.fullmatch(r"[\w.-]+/[\w.-]+", n):
        return f"github.com/{n}"
    return None


def _backend(reading: AgentReading, where: str, body: Marked) -> None:
    for key, value in body.value.items():
        line = body.keys[key][0]
        here = f"{where}.{key}"
        text = _text(value)
        if key == "primary_language" and text is not None:
            m = re.search(r"(?i)\bgo(?:lang)?\s*v?(\d+\.\d+(?:\.\d+|(?:rc|beta)\d+)?)\b", text)
            if m and valid_go_version(normalise_go_version(m.group(1))):
                _add(reading, "stack.go.version", m.group(1), value, _src(value, key))
            else:
                reading.unmapped.append(
                    Note(line, f"{here} {text!r} is not a Go version (Go 1.24.6)")
                )
        elif key == "frameworks":
            for text, item in _str_items(value):
                mod = go_module_for(text)
                if mod is None:
                    reading.unmapped.append(Note(item.line, f"{here}: {text!r} is not mapped"))
                else:
                    _add(reading, "stack.go.required_modules", mod, item, f"{key}: {text}")
        elif key == "security":
            for text, item in _str_items(value):
                kinds = _authorizers_in(text, item=True)
                if kinds:
                    for kind in kinds:
                        _add(reading, "layers.api.authorizer_kinds", kind, item, f"{key}: {text}")
                else:
                    reading.unmapped.append(
                        Note(item.line, f"{here}: {text!r} is not an authorizer kind (not mapped)")
                    )
        elif key == "testing":
            for text, item in _str_items(value):
                mod = GO_MODULES.get(text.strip().lower())
                if mod is None and "/" in text:
                    mod = go_module_for(text)
                if mod is None:
                    reading.unmapped.append(
                        Note(item.line, f"{here}: {text!r} is not a Go module (not mapped)")
                    )
                else:
                    _add(reading, "stack.testing.go", mod, item, f"{key}: {text}")
        else:
            _unmapped_leaves(reading, here, value, line)


_PKG = re.compile(r"(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*")


def _frontend(reading: AgentReading, where: str, body: Marked) -> None:
    for key, value in body.value.items():
        line = body.keys[key][0]
        here = f"{where}.{key}"
        text = _text(value)
        if key == "primary_language" and text is not None:
            m = re.search(r"(?i)\btypescript\s*v?(\S+)", text)
            if m and valid_npm_range(m.group(1)):
                _add(reading, "stack.node.packages.typescript", m.group(1), value, _src(value, key))
            else:
                reading.unmapped.append(Note(line, f"{here} {text!r} is not mapped"))
        elif key == "framework" and text is not None:
            m = re.search(r"(?i)\breact\s*v?(\S+)", text)
            if m and valid_npm_range(m.group(1)):
                _add(reading, "stack.node.packages.react", m.group(1), value, _src(value, key))
            else:
                reading.unmapped.append(Note(line, f"{here} {text!r} is not mapped"))
        elif key in ("ui_libraries", "state_management"):
            for text, item in _str_items(value):
                pkg = text.strip()
                if _PKG.fullmatch(pkg):
                    _add(reading, f"stack.node.{key}", pkg, item, f"{key}: {text}")
                else:
                    reading.unmapped.append(
                        Note(item.line, f"{here}: {text!r} is not an npm package (not mapped)")
                    )
        elif key == "testing":
            for text, item in _str_items(value):
                pkgs = NODE_TESTING.get(text.strip().lower())
                if pkgs is None:
                    reading.unmapped.append(Note(item.line, f"{here}: {text!r} is not mapped"))
                else:
                    for pkg in pkgs:
                        _add(reading, "stack.testing.node", pkg, item, f"{key}: {text}")
        else:
            _unmapped_leaves(reading, here, value, line)


_LAYER_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(vpc|network|subnet|security groups?)\b", "network"),
    (r"\b(api gateway|waf|rate limit)", "api"),
    (r"\b(cognito|authentication|identity|rbac|authori[sz]ation|iam)\b", "identity"),
    (r"\b(encryption|kms|data)\b", "data"),
    (r"\b(audit|logging|monitoring|cloudtrail)\b", "monitoring"),
)


def _patterns(reading: AgentReading, where: str, pats: Marked) -> None:
    for key, value in pats.value.items():
        line = pats.keys[key][0]
        here = f"{where}.{key}"
        if key == "security_architecture" and isinstance(value.value, dict):
            for k, v in value.value.items():
                if k == "layers" and isinstance(v.value, list):
                    for text, item in _str_items(v):
                        _front_layer(reading, text, item)
                else:
                    _unmapped_leaves(reading, f"{here}.{k}", v, value.keys[k][0])
        else:
            _unmapped_leaves(reading, here, value, line)


def _front_layer(reading: AgentReading, text: str, item: Marked) -> None:
    low = text.lower()
    hits = [section for pattern, section in _LAYER_WORDS if re.search(pattern, low)]
    if not hits:
        reading.unmapped.append(Note(item.line, f"security layer {text!r} is not mapped"))
        return
    source = reading.line_text(item.line) or f"layers: {text}"
    section = hits[0]
    _add(reading, f"layers.{section}.enabled", True, item, source)
    # what the layer line also declares
    for d in _line_values(text):
        reading.declared.append(Declared(d[0], d[1], item.line, source))


# -- body --------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_HEADING = re.compile(r"^\s*-?\s*([^:#]+?):\s*(?:#.*)?$")
_UNITS = re.compile(
    r"(?i)\b\d+(?:\.\d+)?\s*(?:mb|gb|mib|gib|ms|s|sec|secs|seconds|m|min|mins|minutes|h|hours|"
    r"d|days)\b"
)


def _body(reading: AgentReading, lines: list[str], start: int) -> None:
    fence: str | None = None
    yaml_block = False
    sections: list[tuple[int, str]] = []
    for i in range(start, len(lines)):
        number = i + 1
        raw = lines[i].rstrip("\r")
        m = _FENCE.match(raw)
        if m:
            if fence is None:
                fence = m.group(1)
                yaml_block = m.group(2).lower() in ("yaml", "yml")
                sections = []
            elif raw.strip().startswith(fence[0] * len(fence)) and not m.group(2):
                fence = None
                yaml_block = False
            continue
        if not yaml_block:
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip())
        while sections and sections[-1][0] >= indent:
            sections.pop()
        heading = _HEADING.match(raw)
        section_text = " / ".join(s for _, s in sections)
        found = _body_line(stripped, section_text, reading.context)
        for key, value in found:
            reading.declared.append(Declared(key, value, number, stripped))
        if heading:
            sections.append((indent, heading.group(1).strip()))
        if not found and _UNITS.search(stripped):
            reading.unmapped.append(Note(number, f"{stripped!r} is not mapped"))


_SIZING = re.compile(
    r"(?i)^-?\s*(?P<label>[A-Za-z][A-Za-z0-9 /&-]*?)\s*:\s*(?P<mem>\d+(?:\.\d+)?)\s*"
    r"(?P<mu>mb|gb|mib|gib)\s*,\s*(?P<t>\d+(?:\.\d+)?)\s*"
    r"(?P<tu>ms|s|sec|secs|seconds|m|min|mins|minutes)\b"
)
_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "secs": 1, "seconds": 1}
_MINUTES = ("m", "min", "mins", "minutes")


def _seconds(amount: str, unit: str) -> int:
    u = unit.lower()
    factor = 60.0 if u in _MINUTES else _SECONDS.get(u, 1)
    return round(float(amount) * factor)


def _megabytes(amount: str, unit: str) -> int:
    return round(float(amount) * (1024 if unit.lower() in ("gb", "gib") else 1))


def sizing_class_for(label: str) -> tuple[str, tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", label.lower())
    for word in words:
        for stem, name, patterns in SIZING_WORDS:
            if word.startswith(stem):
                return name, patterns
    name = "-".join(words) or "class"
    return name, tuple(dict.fromkeys(("".join(words), name)))


def _body_line(text: str, section: str, context: str | None) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    low = text.lower()
    sizing = _SIZING.match(text)
    if sizing:
        name, patterns = sizing_class_for(sizing.group("label"))
        memory = _megabytes(sizing.group("mem"), sizing.group("mu"))
        timeout = _seconds(sizing.group("t"), sizing.group("tu"))
        out.append((f"sizing.classes.{name}", SizingClass(name, memory, timeout, patterns)))
        return out
    layer = re.match(r"(?i)^-?\s*layer\s+([1-5])\b", text)
    if layer:
        section_name = tuple(LAYER_SECTIONS)[int(layer.group(1)) - 1]
        out.append((f"layers.{section_name}.enabled", True))
        return out
    for fifo in re.findall(r"\b([A-Za-z0-9_-]+)\.fifo\b", text):
        out.append(("events.fifo_queues", fifo_pattern(fifo, context)))
    vis = re.search(
        r"(?i)visibility(?:\s*timeout)?\s*:?\s*(\d+(?:\.\d+)?)\s*"
        r"(ms|s|sec|secs|seconds|m|min|mins|minutes)\b",
        text,
    )
    if vis:
        out.append(("events.visibility_timeout_s", _seconds(vis.group(1), vis.group(2))))
    ret = re.search(r"(?i)retention(?:\s*period)?\s*:?\s*(\d+)\s*(d|days?|h|hours?)\b", text)
    if ret:
        amount = int(ret.group(1))
        days = amount if ret.group(2).lower().startswith("d") else amount / 24
        out.append(("events.retention_days", days))
    in_deploy = re.search(r"(?i)deploy|release", section) or "deploy" in low
    if in_deploy and re.search(r"canary|blue[- /]?green|linear\s*\d*", low):
        out.append(("platform.canary_releases", True))
    elif in_deploy and re.search(r"all[- ]at[- ]once", low):
        out.append(("platform.canary_releases", False))
    out.extend(_line_values(text))
    return out


def _negated(low: str, phrase: str) -> bool:
    return bool(re.search(rf"\b(no|not|without|none)\b[^,;.]*{phrase}", low))


def _line_values(text: str) -> list[tuple[str, Any]]:
    """Values a security-layer or platform phrase declares."""
    out: list[tuple[str, Any]] = []
    low = text.lower()
    if re.search(r"\bwaf\b", low) and "owasp" in low:
        out.append(("layers.api.waf_managed_rule_groups", "AWSManagedRulesCommonRuleSet"))
    for group in re.findall(r"\bAWSManagedRules\w+", text):
        out.append(("layers.api.waf_managed_rule_groups", group))
    if re.search(r"rate[- ]limit", low):
        out.append(("layers.api.waf_rate_limit", not _negated(low, "rate[- ]limit")))
    if re.search(r"geo(?:graphic(?:al)?)?[- ]restrict", low):
        out.append(
            ("layers.network.geo_restriction", not _negated(low, "geo(?:graphic(?:al)?)?[- ]"))
        )
    if re.search(r"private\s+subnets?", low):
        out.append(("platform.private_subnets_behind_load_balancer", True))
    elif re.search(r"public\s+subnets?", low):
        out.append(("platform.private_subnets_behind_load_balancer", False))
    for kind in _authorizers_in(text):
        out.append(("layers.api.authorizer_kinds", kind))
    if re.search(r"encryption\s+at\s+rest", low):
        if re.search(r"aws[- ]owned|sse-sqs|service[- ]managed|s3[- ]managed", low) or _negated(
            low, "kms"
        ):
            out.append(("layers.data.kms_required", False))
        elif "kms" in low:
            out.append(("layers.data.kms_required", True))
    tls = re.search(r"\btls\s*v?(1\.[0-3])\b", low)
    if tls:
        out.append(("layers.data.tls_minimum", f"TLSv{tls.group(1)}"))
    if re.search(r"\baws\s+config\b|compliance\s+monitoring", low):
        negated = _negated(low, r"(aws\s+config|compliance\s+monitoring)")
        out.append(("platform.compliance_monitoring", not negated))
    if re.search(r"single[- ]table", low):
        out.append(("dynamodb.single_table_limit", 1))
    tables = re.search(r"at most (\d+) (?:dynamodb )?tables? per (?:service|stack|template)", low)
    if tables:
        out.append(("dynamodb.single_table_limit", int(tables.group(1))))
    if re.search(r"multi[- ]region|cross[- ]region", low):
        out.append(("platform.multi_region_recovery", True))
    elif re.search(r"single[- ]region", low):
        out.append(("platform.multi_region_recovery", False))
    return out


def _authorizers_in(text: str, *, item: bool = False) -> list[str]:
    """Authorizer kinds a phrase declares; ``item`` for one entry of a list of security
    technologies (where a bare "Cognito" or "JWT" names the mechanism)."""
    low = text.lower()
    kinds: list[str] = []
    if re.search(r"\bcognito\s+(user\s+pools?|auth\w*)", low) or (
        item and re.fullmatch(r"\s*(amazon\s+|aws\s+)?cognito\s*", low)
    ):
        kinds.append("COGNITO_USER_POOLS")
    if re.search(r"\b(custom|lambda)\s+authori[sz]ers?\b", low):
        kinds.extend(("TOKEN", "REQUEST"))
    if (item and re.fullmatch(r"\s*jwts?\s*", low)) or re.search(r"\bjwt\s+authori[sz]ers?\b", low):
        kinds.append("JWT")
    if re.search(r"\biam\s+(auth\w*)|\bsigv4\b|\baws_iam\b", low) or (
        item and re.fullmatch(r"\s*(aws\s+)?iam\s*", low)
    ):
        kinds.append("AWS_IAM")
    return kinds


def fifo_pattern(queue: str, context: str | None) -> str:
    """ "chariot-asset-processing" (of chariot-asset-processing.fifo, in chariot_context) ->
    "*asset-processing*": the project prefix varies by stack, the rest names the queue."""
    core = queue
    if context and core.lower().startswith(context.lower() + "-"):
        core = core[len(context) + 1 :]
    return f"*{core}*"


# -- consistency -------------------------------------------------------------------------------


def _contradictions(reading: AgentReading) -> None:
    vis = reading.first("events.visibility_timeout_s")
    if vis is None:
        return
    classes = [d for d in reading.declared if d.key.startswith("sizing.classes.")]
    short = [d for d in classes if vis.value < 6 * d.value.timeout_s]
    if not short:
        return
    worst = max(short, key=lambda d: d.value.timeout_s)
    named = ", ".join(
        f"{d.value.name} {d.value.timeout_s} s (line {d.line}) needs {6 * d.value.timeout_s} s"
        for d in short
    )
    reading.warnings.append(
        Note(
            vis.line,
            f"contradiction: the declared queue visibility timeout of {vis.value} s is below "
            f"6 x the declared function timeouts, which AR-EVT-003 requires of a queue that "
            f"triggers a function: {named}. With {vis.value} s a message becomes visible again "
            f"while the {worst.value.name} function is still processing it and is delivered twice. "
            f"Declare at least {6 * worst.value.timeout_s} s, per-queue values, or no "
            "visibility (the chariot preset declares none)",
        )
    )


# -- profile -----------------------------------------------------------------------------------


def _union(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _router_group(mod: str) -> int | None:
    for i, group in enumerate(GO_ROUTERS):
        if mod in group:
            return i
    return None


def mapped_profile(reading: AgentReading) -> Profile:
    """The keys a reading declares, over the built-in baseline (``declared``: those keys)."""
    kw: dict[str, Any] = {}
    sources: dict[str, int] = {}
    warnings: list[Note] = list(reading.warnings)

    def cite(key: str, found: list[Declared]) -> None:
        if found:
            sources.setdefault(key, found[0].line)

    def scalar(key: str) -> Declared | None:
        found = reading.values(key)
        if not found:
            return None
        first = found[0]
        for other in found[1:]:
            if other.value != first.value:
                warnings.append(
                    Note(
                        other.line,
                        f"{key} is declared as {other.value!r} here but as {first.value!r} at "
                        f"line {first.line}; the first is used",
                    )
                )
        cite(key, found)
        return first

    # stack: Go
    if (d := scalar("stack.go.version")) is not None:
        kw["go_version"] = normalise_go_version(str(d.value))
    mods = reading.values("stack.go.required_modules")
    if mods:
        cite("stack.go.required_modules", mods)
        names = _union(d.value for d in mods)
        sdks = [m for m in names if m.startswith("github.com/aws/aws-sdk-go-v2")]
        if sdks:
            kw["go_sdk"] = sdks[0]
        kw["go_frameworks"] = tuple(m for m in names if m not in sdks[:1])
        routers = {g for m in names if (g := _router_group(m)) is not None}
        if routers:
            kw["go_forbidden"] = tuple(
                m for i, group in enumerate(GO_ROUTERS) if i not in routers for m in group
            )
            sources.setdefault("stack.go.forbidden_modules", mods[0].line)
    tests = reading.values("stack.testing.go")
    if tests:
        cite("stack.testing.go", tests)
        kw["go_test_frameworks"] = tuple(_union(d.value for d in tests))
    # stack: node
    packages: list[tuple[str, str]] = []
    if (d := scalar("stack.node.packages.react")) is not None:
        packages += [("react", str(d.value)), ("react-dom", str(d.value))]
    if (d := scalar("stack.node.packages.typescript")) is not None:
        packages.append(("typescript", str(d.value)))
    state = reading.values("stack.node.state_management")
    ui = reading.values("stack.node.ui_libraries")
    for d in (*state, *ui):
        if d.value not in {name for name, _ in packages}:
            packages.append((d.value, "*"))
    if packages:
        kw["node_packages"] = tuple(packages)
        first = min(
            (d.line for d in reading.declared if d.key.startswith("stack.node.")), default=1
        )
        sources.setdefault("stack.node.packages", first)
    if state:
        declared_state = {d.value for d in state}
        groups = [g for g in NODE_STATE if declared_state & set(g)]
        if groups:
            forbidden: list[str] = []
            for group in NODE_STATE:
                if group in groups:
                    # a declared library's legacy names compete with it too
                    forbidden.extend(p for p in group[1:] if p not in declared_state)
                else:
                    forbidden.extend(group)
            kw["node_forbidden"] = tuple(_ordered_forbidden(forbidden))
            sources.setdefault("stack.node.forbidden_packages", state[0].line)
    ntests = reading.values("stack.testing.node")
    if ntests:
        cite("stack.testing.node", ntests)
        got = {d.value for d in ntests}
        kw["node_test_frameworks"] = tuple(
            [p for p in _NODE_TEST_ORDER if p in got] + sorted(got - set(_NODE_TEST_ORDER))
        )
    # layers
    enabled: set[str] = set()
    for section, families in LAYER_SECTIONS.items():
        found = reading.values(f"layers.{section}.enabled")
        if found:
            cite(f"layers.{section}.enabled", found)
            if any(d.value for d in found):
                enabled.update(families)
    if enabled:
        # the definition lists its layers as a whole: the ones it leaves out are off
        kw["layers"] = tuple(f for f in LAYER_FAMILIES if f in enabled)
        first = min(line for key, line in sources.items() if key.startswith("layers."))
        for section in LAYER_SECTIONS:
            sources.setdefault(f"layers.{section}.enabled", first)
    kinds = reading.values("layers.api.authorizer_kinds")
    if kinds:
        cite("layers.api.authorizer_kinds", kinds)
        got = {d.value for d in kinds}
        kw["authorizers"] = tuple(k for k in AUTHORIZER_KINDS if k in got)
    groups_found = reading.values("layers.api.waf_managed_rule_groups")
    if groups_found:
        cite("layers.api.waf_managed_rule_groups", groups_found)
        kw["waf_managed_rule_groups"] = tuple(_union(d.value for d in groups_found))
    for key, attr in (
        ("layers.api.waf_rate_limit", "waf_rate_limit"),
        ("layers.network.geo_restriction", "geo_restriction"),
        ("layers.data.kms_required", "kms_required"),
        ("platform.private_subnets_behind_load_balancer", "private_subnets_behind_lb"),
        ("platform.canary_releases", "gradual_deployment"),
        ("platform.multi_region_recovery", "multi_region"),
        ("platform.compliance_monitoring", "compliance_monitoring"),
        ("dynamodb.single_table_limit", "single_table_limit"),
    ):
        if (d := scalar(key)) is not None:
            kw[attr] = d.value
    if (d := scalar("layers.data.tls_minimum")) is not None:
        kw["tls_minimum"] = d.value
        kw["tls_preferred"] = d.value
    # events
    if (d := scalar("events.retention_days")) is not None:
        days = d.value
        if (isinstance(days, float) and not days.is_integer()) or not 1 <= days <= 14:
            warnings.append(
                Note(
                    d.line,
                    f"message retention {days} days is not a whole number of days "
                    "between 1 and 14 (SQS keeps messages up to 14 days): not used",
                )
            )
        else:
            kw["queue_retention_days"] = int(days)
    if (d := scalar("events.visibility_timeout_s")) is not None:
        kw["queue_visibility_s"] = int(d.value)
    fifo = reading.values("events.fifo_queues")
    if fifo:
        cite("events.fifo_queues", fifo)
        kw["ordered_queue_patterns"] = tuple(_union(d.value for d in fifo))
    # sizing
    classes: dict[str, SizingClass] = {}
    for d in reading.declared:
        if d.key.startswith("sizing.classes."):
            cls: SizingClass = d.value
            if cls.name in classes and classes[cls.name] != cls:
                warnings.append(
                    Note(d.line, f"sizing class {cls.name} is declared twice; the first is used")
                )
                continue
            if not (128 <= cls.memory_mb <= 10_240 and 1 <= cls.timeout_s <= 900):
                warnings.append(
                    Note(
                        d.line,
                        f"sizing class {cls.name} ({cls.memory_mb} MB, {cls.timeout_s} s) is "
                        "outside Lambda's limits (128-10240 MB, 1-900 s): not used",
                    )
                )
                continue
            classes.setdefault(cls.name, cls)
            sources.setdefault(d.key, d.line)
    if classes:
        kw["sizing_classes"] = tuple(classes.values())
        sources.setdefault(
            "sizing.classes", min(s for k, s in sources.items() if k.startswith("sizing.classes."))
        )
    if "tls_minimum" in kw:
        sources.setdefault("layers.data.tls_preferred", sources["layers.data.tls_minimum"])
    file = reading.file
    notes = [f"{n.where(file)}: {n.message}" for n in sorted(warnings, key=lambda n: n.line)]
    notes += [f"{file}:{n.line}: not mapped: {n.message}" for n in reading.unmapped]
    return replace(
        BASELINE,
        name=reading.name or Path(file).stem,
        source=file,
        source_kind="agent",
        warnings=tuple(notes),
        sources=tuple((k, f"{file}:{line}") for k, line in sorted(sources.items())),
        declared=frozenset(k for k in sources if k in KEY_FIELDS),
        **kw,
    )


def profile_from_agent(reading: AgentReading) -> Profile:
    """The profile an agent definition declares: what it maps (:func:`mapped_profile`), or,
    when that is the architecture a preset was made from (apart from the preset's documented
    additions: reviewer.profile.document.recognised_preset), that preset — the seed gives the
    chariot preset. The profile cites the definition's lines either way."""
    from reviewer.profile.document import preset, recognised_preset

    mapped = mapped_profile(reading)
    name = recognised_preset(mapped) if mapped.declared else None
    if name is None:
        return mapped
    cited = dict(preset(name).sources)
    cited.update(mapped.sources)
    return replace(
        preset(name),
        name=mapped.name,
        source=mapped.source,
        source_kind=mapped.source_kind,
        extends=name,
        warnings=mapped.warnings,
        sources=tuple(sorted(cited.items())),
    )


# competing state libraries, in the order a profile lists them
_STATE_ORDER = ("redux", "@reduxjs/toolkit", "react-redux", "swr", "react-query")


def _ordered_forbidden(names: list[str]) -> list[str]:
    """Competing state libraries in the canonical order, then the rest."""
    base = [n for n in _STATE_ORDER if n in names]
    return base + [n for n in names if n not in base]


# -- init --------------------------------------------------------------------------------------

_DERIVED = {
    "stack.go.forbidden_modules": "the HTTP routers competing with the declared one",
    "stack.node.forbidden_packages": "the state libraries competing with the declared one",
    "layers.data.tls_preferred": "the declared TLS version",
}


def _doc_key(key: str) -> str:
    if key.startswith("stack.node.packages.") or key in (
        "stack.node.state_management",
        "stack.node.ui_libraries",
    ):
        return "stack.node.packages"
    return key


def _leaf_keys(doc: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """The keys init comments on: leaves, the package map, and each sizing class."""
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        if dotted == "sizing.classes" and isinstance(value, dict):
            yield dotted
            yield from (f"{dotted}.{name}" for name in value)
        elif isinstance(value, dict) and value and dotted != "stack.node.packages":
            yield from _leaf_keys(value, dotted + ".")
        else:
            yield dotted


def _cited_lines(file: str, found: list[Declared]) -> list[str]:
    seen: list[int] = []
    lines: list[str] = []
    for d in found:
        if d.line not in seen:
            seen.append(d.line)
            lines.append(f"{file}:{d.line}: {d.text}")
    return lines


def agent_profile_text(reading: AgentReading, profile: Profile) -> str:
    """The profile an agent definition declares, as a commented .archreview.yml. When the
    definition declares a preset's architecture (``profile.extends``), the file says
    ``extends: <preset>`` and lists the preset's documented additions and the definition's
    lines; otherwise it writes the keys the definition declares, each citing its source
    lines, and lists the keys it does not declare (rules that require them do not run)."""
    from reviewer.profile import PRESET_ADDITIONS, SCHEMA_KEYS
    from reviewer.profile.document import FIELD_KEYS, profile_document, render_yaml

    file = Path(reading.file).name
    by_line = {n.line: n.message for n in reading.warnings}
    header = [f"archreview profile written by `archreview init --from-agent {reading.file}`."]
    if profile.extends:
        additions = PRESET_ADDITIONS.get(profile.extends, ())
        header += [
            f"{file} declares the architecture of the {profile.extends} preset, which this",
            "profile extends. The preset's additions to that declaration:",
            *(f"- {FIELD_KEYS.get(key, key)}: {why}" for key, why in additions),
            f"The lines of {file} it was read from:",
        ]
        cited_at: set[int] = set()
        for key in reading.declared_keys():
            values = reading.values(key)
            cited_at.update(d.line for d in values)
            lines = _cited_lines(file, values)
            more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
            header.append(f"- {key}: {'; '.join(lines[:3])}{more}")
        header += [
            f"WARNING: {file}:{line}: {message}"
            for line, message in sorted(by_line.items())
            if line in cited_at
        ]
        wrapped = [
            part
            for line in header
            for part in textwrap.wrap(
                line, width=96, subsequent_indent="  ", break_on_hyphens=False
            )
        ]
        doc = {"version": 1, "name": profile.name, "extends": profile.extends}
        return render_yaml(doc, {}, wrapped)
    cited: dict[str, list[Declared]] = {}
    for d in reading.declared:
        cited.setdefault(_doc_key(d.key), []).append(d)
    doc = profile_document(profile, profile.declared_keys())
    notes: dict[str, str] = {}
    for key in _leaf_keys(doc):
        if key.startswith(("version", "name")):
            continue
        found = cited.get(key)
        if key == "layers.data.tls_preferred":
            found = cited.get("layers.data.tls_minimum")
        if key == "sizing.classes":
            found = None
            if any(k.startswith("sizing.classes.") for k in cited):
                continue
        if found:
            lines = _cited_lines(file, found)
            more = f" (and {len(lines) - 6} more)" if len(lines) > 6 else ""
            head = [f"from {line}" for line in lines[:6]]
            if key in _DERIVED:
                head.insert(0, f"{_DERIVED[key]}:")
            if more:
                head[-1] += more
            for d in found:
                if d.line in by_line and f"WARNING: {by_line[d.line]}" not in head:
                    head.append(f"WARNING: {by_line[d.line]}")
            notes[key] = "\n".join(head)
        elif key in _DERIVED and key in dict(profile.sources):
            where = dict(profile.sources)[key].rsplit(":", 1)[1]
            text = reading.line_text(int(where))
            notes[key] = f"{_DERIVED[key]}, derived from {file}:{where}: {text}"
    header += [
        "Each declared value cites its source line. Review the WARNING comments. Keys the",
        "definition does not declare are left out: rules that require them do not run, rules",
        "tuned by them read the built-in baseline's value.",
    ]
    text = render_yaml(doc, notes, header)
    missing = [k for k in SCHEMA_KEYS if not profile.declares(k)]
    if missing:
        wrapped = textwrap.wrap(", ".join(missing), width=94, break_on_hyphens=False)
        text += f"# not declared in {file}:\n" + "".join(f"#   {line}\n" for line in wrapped)
    return text


def init_report(reading: AgentReading, profile: Profile) -> tuple[list[str], list[str]]:
    """(summary lines, warning lines) for archreview init --from-agent."""
    file = reading.file
    summary = [f"read {file}: {len(reading.declared_keys())} declared values mapped"]
    for key in reading.declared_keys():
        found = reading.values(key)
        first = found[0]
        value = first.value
        if isinstance(value, SizingClass):
            value = f"{value.memory_mb} MB / {value.timeout_s} s"
        elif (
            len(found) > 1
            and len({d.value for d in found if not isinstance(d.value, SizingClass)}) > 1
        ):
            value = ", ".join(str(v) for v in _union(d.value for d in found))
        summary.append(f"  {key} = {value}  ({file}:{first.line}: {first.text})")
    if reading.unmapped:
        summary.append(f"not mapped ({len(reading.unmapped)}):")
        summary += [f"  {file}:{n.line}: {n.message}" for n in reading.unmapped]
    if reading.ignored_keys:
        summary.append(
            "agent settings ignored (not architecture): " + ", ".join(reading.ignored_keys)
        )
    warnings = [
        f"{n.where(file)}: {n.message}" for n in sorted(reading.warnings, key=lambda n: n.line)
    ]
    extra = [
        w for w in profile.warnings if not any(w.endswith(n.message) for n in reading.warnings)
    ]
    warnings += [w for w in extra if ": not mapped: " not in w]
    return summary, warnings
