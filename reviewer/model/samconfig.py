"""samconfig.toml: the parameter values SAM CLI deploys a template with.

A template takes the ``parameter_overrides`` of the samconfig.toml in its folder, else of the one
at the root, from the scan's environment (``--sam-env``, default ``default``): the ``deploy``
command's parameters, else the ``global`` ones. Either is a string of ``Key=Value`` words (shell
quoting) or an array of ``Key=Value`` strings.

The file is repository content and read typed: a string where a table is expected
(``[default]`` / ``deploy = "x"``), an override that is neither a string nor an array of strings,
or a TOML syntax error is a :class:`Problem` with the line it is at (best effort: TOML parsers
give no positions, so the table header or key line is found in the text), which the engine
reports as AR-MOD-003; the template is then reviewed without those values.

Each file is read and parsed once per scan (:class:`SamconfigReader`), however many templates
share it: a 4.9 MB samconfig.toml read by 100 templates was parsed 100 times (278 s).
"""

from __future__ import annotations

import hashlib
import re
import shlex
import tomllib
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.core.typed import MAPPING, describe_value, kind_of, toml_line
from reviewer.discover.inventory import Skipped, read_text

DEFAULT_ENV = "default"
COMMANDS = ("deploy", "global")  # where parameter_overrides are looked for, in this order

# Work counter: how many times a samconfig.toml text was parsed (tests assert one per file per
# scan and process).
COUNTERS: dict[str, int] = {"parses": 0}


@dataclass(frozen=True)
class Problem:
    """Why a samconfig.toml could not be used, at 1-based ``line``/``column``."""

    message: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class Overrides:
    """What one samconfig.toml gives for one environment: parameter name -> value (as
    written), and the problem that stopped the reading, if any."""

    values: dict[str, str] = field(default_factory=dict)
    problem: Problem | None = None
    skipped: Skipped | None = None  # the file could not be read at all


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_problem(err: tomllib.TOMLDecodeError, file: str) -> Problem:
    text = str(err)
    m = _TOML_AT.search(text)
    reason = _TOML_AT.sub("", text).strip()
    line, column = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
    return Problem(f"{file} could not be parsed: {reason} at line {line}", line, column)


def parse_samconfig(text: str, file: str, env: str | None = None) -> Overrides:
    """The parameter overrides of environment ``env`` (default ``default``) in samconfig.toml
    text; a syntax error or a value of the wrong type is the returned Overrides' problem."""
    COUNTERS["parses"] += 1
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return Overrides(problem=_toml_problem(err, file))
    except RecursionError:  # tomllib recurses per level of inline tables and arrays
        return Overrides(problem=Problem(f"{file} could not be parsed: nested too deep"))
    return overrides_in(data, text, file, env)


def overrides_in(data: dict[str, Any], text: str, file: str, env: str | None = None) -> Overrides:
    """The parameter overrides of ``env`` in parsed samconfig ``data`` (``text`` locates a
    problem)."""
    name = env or DEFAULT_ENV

    def wrong(path: tuple[str, ...], expected: str, value: Any) -> Overrides:
        dotted = ".".join(path)
        message = (
            f"{file}: {dotted} must be {expected}, not {describe_value(value)}: "
            "its parameter_overrides are not used"
        )
        return Overrides(problem=Problem(message, toml_line(text, path)))

    section = data.get(name)
    if section is None:
        return Overrides()
    if kind_of(section) != MAPPING:
        return wrong((name,), "a table", section)
    overrides: Any = None
    where: tuple[str, ...] = ()
    for command in COMMANDS:
        body = section.get(command)
        if body is None:
            continue
        if kind_of(body) != MAPPING:
            return wrong((name, command), "a table", body)
        params = body.get("parameters")
        if params is None:
            continue
        if kind_of(params) != MAPPING:
            return wrong((name, command, "parameters"), "a table", params)
        if "parameter_overrides" in params:
            overrides = params["parameter_overrides"]
            where = (name, command, "parameters", "parameter_overrides")
            break
    if overrides is None:
        return Overrides()
    items: list[str]
    if isinstance(overrides, str):
        try:
            items = shlex.split(overrides)
        except ValueError:  # an unclosed quote: SAM CLI would refuse it; read the words
            items = overrides.split()
    elif isinstance(overrides, list):
        for item in overrides:
            if not isinstance(item, str):
                return wrong(where, 'a string or an array of "Key=Value" strings', item)
        items = overrides
    else:
        return wrong(where, 'a string or an array of "Key=Value" strings', overrides)
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if sep:
            values[key.strip()] = value
    return Overrides(values)


class SamconfigReader:
    """The samconfig.toml files of one scan: each read and parsed once, for the scan's
    environment, whatever number of templates take their parameters from it (and whichever
    asks first: the cache keys, or the engine). Only the overrides and a digest of the text are
    kept, not the text. Also remembers which files' problems were reported, so that each is
    reported once."""

    def __init__(self, root: Path, max_bytes: int, env: str | None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.env = env
        self._read: dict[str, tuple[Overrides, str | None]] = {}
        self._reported: set[str] = set()

    def _load(self, rel: str) -> tuple[Overrides, str | None]:
        done = self._read.get(rel)
        if done is None:
            text = read_text(self.root, rel, self.max_bytes)
            if isinstance(text, Skipped):
                done = (Overrides(skipped=text), None)
            else:
                fingerprint = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                done = (parse_samconfig(text, rel, self.env), fingerprint)
            self._read[rel] = done
        return done

    def overrides(self, rel: str) -> Overrides:
        """The overrides in repository file ``rel`` (read as every repository file is, at
        most ``max_bytes``)."""
        return self._load(rel)[0]

    def fingerprint(self, rel: str) -> str | None:
        """A digest of ``rel``'s text (None when it cannot be read), for cache keys."""
        return self._load(rel)[1]

    def first_report(self, rel: str) -> bool:
        """True the first time it is asked for ``rel`` in this scan, then False."""
        if rel in self._reported:
            return False
        self._reported.add(rel)
        return True


# The reader of each scan in progress, by the identity of the scan's state object; an entry goes
# when its state does (a weak reference), so a reader lives exactly as long as its scan: through
# the cache's bookkeeping after the report is made, and no longer.
_READERS: dict[int, tuple[weakref.ref[Any], SamconfigReader]] = {}


def reader_for(scan: object, root: Path, max_bytes: int, env: str | None) -> SamconfigReader:
    """The samconfig reader of the scan whose state object is ``scan`` (reviewer.runner.engine's),
    made on first use. The engine and the cache keys share it; a worker process forked after it
    was filled inherits what it read."""
    key = id(scan)
    found = _READERS.get(key)
    if found is not None and found[0]() is scan:
        return found[1]
    reader = SamconfigReader(root, max_bytes, env)

    def forget(ref: weakref.ref[Any]) -> None:
        if _READERS.get(key, (None,))[0] is ref:
            del _READERS[key]

    _READERS[key] = (weakref.ref(scan, forget), reader)
    return reader
