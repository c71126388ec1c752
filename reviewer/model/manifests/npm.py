"""package.json parser and npm dependency-spec helpers.

Parsing.  package.json is strict JSON (npm reads it with ``JSON.parse``): a comment or a trailing
comma is an error at the exact line and column of the ``/`` or the ``,``.  The standard
``json`` module cannot say where each dependency key sits (and accepts ``NaN``), so a small
position-tracking parser lives here: an explicit stack (no recursion limit on nesting), regular
expressions for whitespace and numbers, and the C-accelerated ``json.decoder.scanstring`` for
strings, which keeps a package.json with thousands of dependencies in the low milliseconds.
Duplicate keys behave as in ``JSON.parse``: the last one wins.  Columns count code points; a
leading byte-order mark is skipped (npm strips it too).

Version ranges.  Range semantics come from ``nodesemver`` (PyPI ``node-semver``), a port of
npm's own ``semver`` package: caret, tilde, x-ranges, ``*``, ``||``, hyphen ranges, comparator
sets and the prerelease rule (a prerelease version is only admitted by a comparator set that
names a prerelease of the same major.minor.patch).  The ``semver`` package, also a dependency,
only parses and compares single versions — it has no notion of npm ranges — so it cannot answer
"does ``^18.2.0`` admit 18.3.1?".  A range is parsed strictly first and, failing that, loosely,
as npm does (``npm-package-arg`` calls ``validRange(spec, true)``): loose parsing reads forms
such as ``1.2.3beta`` or ``01.2.3`` and, like npm, drops comparators it cannot read.  The
desugaring is that of nodesemver (``<1.2`` is ``<1.2.0``; recent npm writes ``<1.2.0-0``,
which admits the same versions).  nodesemver has no intersection, minimum or major helpers; those
are built on its parsed comparator sets: each set becomes one interval (lower and upper bound, each
inclusive or not) plus the major.minor.patch triples whose prereleases it admits, and the
questions are answered exactly by computing the lowest admitted version of an interval.

Intersections.  A range is also a union of spans (`Span`): runs of admitted versions, each among the
releases or among the prereleases of one major.minor.patch ("channels": a comparator set admits a
prerelease only of the triples it names), each from its lowest admitted version up to its upper
bound.  Two ranges share a version exactly when a span of one and a span of the other, in the same
channel, each start below the other's bound (`spans_meet`).  Spans are computed once per distinct
range text (`spans`, remembered), so comparing many ranges costs one parse each and a few tuple
comparisons per pair; a caller with one span per range can sort them instead of comparing pairs
(AR-STK-006 does).  Each range text is parsed once (the comparator sets are remembered apart from
nodesemver's heavier parsed objects, of which fewer are kept), so a package.json with 100,000
dependencies costs 100,000 parses, not more.

Positions.  `locate` answers from an index built once per parsed package.json (kept for the
last few manifests located), so placing every finding of a manifest with 100,000 dependencies
is linear, not quadratic.
"""

from __future__ import annotations

import bisect
import functools
import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import nodesemver

from reviewer.model.manifests import LineIndex, ManifestError, path_escapes_root

__all__ = [
    "LOCKFILES",
    "SECTIONS",
    "ManifestError",
    "NpmDep",
    "PackageJson",
    "Span",
    "SpecKind",
    "admits",
    "locate",
    "major_of_range",
    "min_version",
    "parse_package_json",
    "points_outside",
    "ranges_intersect",
    "spans",
    "spans_meet",
    "spec_kind",
]

SECTIONS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
LOCKFILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
)

SpecKind = Literal[
    "range", "tag", "git", "github", "file", "link", "url", "alias", "workspace", "invalid"
]


@dataclass(frozen=True)
class NpmDep:
    name: str
    spec: str
    section: str  # one of SECTIONS
    line: int
    column: int  # of the key's opening quote


@dataclass(frozen=True)
class PackageJson:
    name: str | None
    version: str | None
    deps: tuple[NpmDep, ...]  # in file order
    workspaces: tuple[str, ...]
    private: bool
    line_of_name: int  # line of the "name" key; 1 when there is none
    # engines.node when it is a string (npm ignores other shapes), and the (line, column) of the
    # "engines" key that holds it
    engines_node: str | None = None
    engines_at: tuple[int, int] | None = None


# --------------------------------------------------------------------------------------------
# Strict JSON with positions


class _Obj:
    __slots__ = ("entries", "key", "key_pos", "pos")

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.entries: list[tuple[str, int, object, int]] = []  # key, key pos, value, value pos
        self.key = ""
        self.key_pos = pos


class _Arr:
    __slots__ = ("items", "pos")

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.items: list[object] = []


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = (("true", True), ("false", False), ("null", None))
# The C-accelerated JSON string scanner; typeshed does not declare it.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class _Json:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)

    def fail(self, message: str, pos: int) -> ManifestError:
        return ManifestError(message, *self.lines.at(pos))

    def skip(self, i: int) -> int:
        m = _WS.match(self.text, i)
        return m.end() if m else i

    def unexpected(self, pos: int, expected: str) -> ManifestError:
        text = self.text
        if text.startswith(("//", "/*"), pos):
            return self.fail("comments are not allowed in package.json (strict JSON)", pos)
        if pos >= len(text):
            return self.fail(f"unexpected end of input, expected {expected}", pos)
        return self.fail(f"unexpected character {text[pos]!r}, expected {expected}", pos)

    def string(self, i: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, i + 1, True)
        except json.JSONDecodeError as exc:
            raise self.fail(
                exc.msg.removesuffix(" starting at").removesuffix(" at"), exc.pos
            ) from None

    def key(self, frame: _Obj, i: int) -> int:
        """Read `"key" :` at i into frame; return the index of the member's value."""
        if i >= len(self.text) or self.text[i] != '"':
            raise self.unexpected(i, "a double-quoted property name")
        frame.key, j = self.string(i)
        frame.key_pos = i
        j = self.skip(j)
        if j >= len(self.text) or self.text[j] != ":":
            raise self.unexpected(j, "':'")
        return self.skip(j + 1)

    def parse(self) -> tuple[object, int]:
        """The top-level value and its offset."""
        text = self.text
        n = len(text)
        stack: list[_Obj | _Arr] = []
        i = self.skip(0)
        while True:
            # -- one value starts at i
            if i >= n:
                raise self.unexpected(i, "a value")
            c = text[i]
            start = i
            value: object
            if c == '"':
                value, i = self.string(i)
            elif c == "{":
                j = self.skip(i + 1)
                if j < n and text[j] == "}":
                    value, i = _Obj(i), j + 1
                else:
                    frame = _Obj(i)
                    stack.append(frame)
                    i = self.key(frame, j)
                    continue
            elif c == "[":
                j = self.skip(i + 1)
                if j < n and text[j] == "]":
                    value, i = _Arr(i), j + 1
                else:
                    stack.append(_Arr(i))
                    i = j
                    continue
            elif c == "-" or "0" <= c <= "9":
                m = _NUMBER.match(text, i)
                if m is None:
                    raise self.fail("invalid number", i)
                value, i = float(m.group()), m.end()
            else:
                for word, literal in _LITERALS:
                    if text.startswith(word, i):
                        value, i = literal, i + len(word)
                        break
                else:
                    raise self.unexpected(i, "a value")
            # -- the value is complete: attach it, then read ',' or the closer
            while True:
                if not stack:
                    j = self.skip(i)
                    if j < n:
                        raise self.unexpected(j, "end of input after the top-level value")
                    return value, start
                top = stack[-1]
                if isinstance(top, _Obj):
                    top.entries.append((top.key, top.key_pos, value, start))
                    closer = "}"
                else:
                    top.items.append(value)
                    closer = "]"
                i = self.skip(i)
                if i >= n:
                    line, col = self.lines.at(top.pos)
                    what = "object" if closer == "}" else "array"
                    raise self.fail(
                        f"unexpected end of input: the {what} opened at {line}:{col} is not closed",
                        i,
                    )
                c = text[i]
                if c == ",":
                    comma = i
                    i = self.skip(i + 1)
                    if i < n and text[i] in "}]":
                        raise self.fail("trailing comma is not allowed (strict JSON)", comma)
                    if isinstance(top, _Obj):
                        i = self.key(top, i)
                    break
                if c != closer:
                    raise self.unexpected(i, f"',' or '{closer}'")
                stack.pop()
                value, start, i = top, top.pos, i + 1


def _js_truthy(value: object) -> bool:
    if isinstance(value, (_Obj, _Arr)):
        return True
    return bool(value)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object from the C scanner: its (key, value) pairs in order, duplicates kept."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_Pairs, parse_constant=_reject_constant)
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_STR = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# One member of an object whose values are all strings: key, ':', value, optional ','.
_MEMBER = re.compile(rf"[ \t\n\r]*({_STR})[ \t\n\r]*:[ \t\n\r]*{_STR}[ \t\n\r]*,?")


def _member_keys(text: str, start: int, end: int) -> list[int] | None:
    """Offsets of the keys of a string-valued object's members in text[start:end] (between the
    braces), or None unless the members follow each other exactly."""
    keys: list[int] = []
    pos = start
    for m in _MEMBER.finditer(text, start, end):
        if m.start() != pos:
            return None
        keys.append(m.start(1))
        pos = m.end()
    tail = _WS.match(text, pos, end)
    return keys if tail is not None and tail.end() == end else None


def _shallow(value: object, depth: int) -> object:
    """C-scanner values as _Obj/_Arr down to `depth` (positions unknown: -1)."""
    if depth <= 0:
        return value
    if isinstance(value, _Pairs):
        obj = _Obj(-1)
        obj.entries = [(k, -1, _shallow(v, depth - 1), -1) for k, v in value]
        return obj
    if isinstance(value, list):
        arr = _Arr(-1)
        arr.items = [_shallow(v, depth - 1) for v in value]
        return arr
    return value


def _fast_root(text: str) -> _Obj | None:
    """The happy path: the top-level object with the C scanner doing the work and dependency
    keys found by one regular-expression pass per section.  None whenever anything is off;
    the exact parser then finds and places the problem."""
    ws = _WS.match
    try:
        m = ws(text, 0)
        i = m.end() if m else 0
        if not text.startswith("{", i):
            return None
        root = _Obj(i)
        m = ws(text, i + 1)
        i = m.end() if m else i + 1
        if text.startswith("}", i):
            i += 1
        else:
            while True:
                if not text.startswith('"', i):
                    return None
                key, j = _scanstring(text, i + 1, True)
                key_pos = i
                m = ws(text, j)
                j = m.end() if m else j
                if not text.startswith(":", j):
                    return None
                m = ws(text, j + 1)
                start = m.end() if m else j + 1
                value, end = _SCAN_ONCE(text, start)
                if key in SECTIONS and isinstance(value, _Pairs):
                    if not all(isinstance(spec, str) for _, spec in value):
                        return None
                    keys = _member_keys(text, start + 1, end - 1)
                    if keys is None or len(keys) != len(value):
                        return None
                    section = _Obj(start)
                    section.entries = [
                        (name, pos, spec, -1) for (name, spec), pos in zip(value, keys, strict=True)
                    ]
                    value = section
                else:
                    value = _shallow(value, 2)
                root.entries.append((key, key_pos, value, start))
                m = ws(text, end)
                i = m.end() if m else end
                if text.startswith(",", i):
                    m = ws(text, i + 1)
                    i = m.end() if m else i + 1
                    continue
                if not text.startswith("}", i):
                    return None
                i += 1
                break
        m = ws(text, i)
        return root if (m.end() if m else i) == len(text) else None
    except Exception:  # StopIteration, JSONDecodeError, RecursionError, ValueError, ...
        return None


def _deps(found: list[tuple[int, str, str, str]], lines: LineIndex) -> list[NpmDep]:
    starts = lines.starts
    out = []
    for pos, name, spec, section in found:
        idx = bisect.bisect_right(starts, pos)
        out.append(NpmDep(name, spec, section, idx, pos - starts[idx - 1] + 1))
    return out


def _interpret(root: _Obj, lines: LineIndex) -> PackageJson:
    def fail(message: str, pos: int) -> ManifestError:
        return ManifestError(message, *lines.at(pos))

    fields: dict[str, tuple[int, object, int]] = {}
    for key, key_pos, value, value_pos in root.entries:
        fields[key] = (key_pos, value, value_pos)  # JSON.parse: the last duplicate wins

    def text_field(name: str) -> str | None:
        value = fields.get(name, (0, None, 0))[1]
        return value if isinstance(value, str) else None

    deps: list[tuple[int, str, str, str]] = []
    for section in SECTIONS:
        if section not in fields:
            continue
        _, value, value_pos = fields[section]
        if not isinstance(value, _Obj):
            raise fail(f'"{section}" must be an object of package names to versions', value_pos)
        members: dict[str, tuple[int, str]] = {}
        for name, key_pos, spec, spec_pos in value.entries:
            if not isinstance(spec, str):
                raise fail(f'"{section}" entry "{name}" must be a version string', spec_pos)
            members[name] = (key_pos, spec)
        deps.extend((key_pos, name, spec, section) for name, (key_pos, spec) in members.items())
    deps.sort(key=lambda item: item[0])

    workspaces: list[str] = []
    if "workspaces" in fields:
        _, value, value_pos = fields["workspaces"]
        if isinstance(value, _Obj):  # yarn classic: {"packages": [...], "nohoist": [...]}
            packages = {k: (v, p) for k, _, v, p in value.entries}.get("packages", (_Arr(0), 0))
            value, value_pos = packages
        if not isinstance(value, _Arr) or not all(isinstance(w, str) for w in value.items):
            raise fail('"workspaces" must be an array of folder patterns', value_pos)
        workspaces = [w for w in value.items if isinstance(w, str)]

    engines_node: str | None = None
    engines_at: tuple[int, int] | None = None
    if "engines" in fields:
        key_pos, value, _ = fields["engines"]
        if isinstance(value, _Obj):
            wanted = {k: v for k, _, v, _ in value.entries}.get("node")
            if isinstance(wanted, str) and len(wanted) <= _MAX_SPEC:
                engines_node, engines_at = wanted, lines.at(key_pos)

    name_pos = fields["name"][0] if "name" in fields else None
    return PackageJson(
        name=text_field("name"),
        version=text_field("version"),
        deps=tuple(_deps(deps, lines)),
        workspaces=tuple(workspaces),
        private=_js_truthy(fields["private"][1]) if "private" in fields else False,
        line_of_name=lines.at(name_pos)[0] if name_pos is not None else 1,
        engines_node=engines_node,
        engines_at=engines_at,
    )


def _parse_exact(text: str) -> PackageJson:
    doc = _Json(text)
    root, root_pos = doc.parse()
    if not isinstance(root, _Obj):
        raise doc.fail("package.json must contain a JSON object at the top level", root_pos)
    return _interpret(root, doc.lines)


def parse_package_json(text: str) -> PackageJson:
    """Parse package.json text; raise ManifestError (line, column) on the first problem:
    invalid or non-strict JSON (comments, trailing commas), a top level that is not an object,
    a dependency section that is not an object of strings, or workspaces that are not a list
    of strings (or yarn's ``{"packages": [...]}``)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    root = _fast_root(text)
    if root is not None:
        try:
            return _interpret(root, LineIndex(text))
        except ManifestError:
            pass  # the exact parser reports it with its position
    return _parse_exact(text)


_Where = dict[object, tuple[int, int]]
_LOCATED: dict[int, tuple[PackageJson, _Where]] = {}  # id(pkg) -> (pkg, its index)
_LOCATED_KEEP = 16


def _where(pkg: PackageJson) -> _Where:
    """(section, name) and name -> (line, column) of the first such dependency in file order,
    built once per manifest (the engine places every finding of a manifest in turn)."""
    kept = _LOCATED.get(id(pkg))
    if kept is not None and kept[0] is pkg:
        return kept[1]
    index: _Where = {}
    for dep in pkg.deps:
        index.setdefault((dep.section, dep.name), (dep.line, dep.column))
        index.setdefault(dep.name, (dep.line, dep.column))
    if len(_LOCATED) >= _LOCATED_KEEP:
        _LOCATED.clear()
    _LOCATED[id(pkg)] = (pkg, index)
    return index


def locate(pkg: PackageJson, path: tuple[str | int, ...]) -> tuple[int, int] | None:
    """(line, column) of a dependency key: ``(section, name)`` or ``(name,)`` (the first
    occurrence in file order, whatever the section), or ``("engines", "node")`` (the "engines"
    key); None when absent."""
    if path == ("engines", "node"):
        return pkg.engines_at
    if len(path) == 2:
        return _where(pkg).get((path[0], path[1]))
    if len(path) == 1 and isinstance(path[0], str):
        return _where(pkg).get(path[0])
    return None


# --------------------------------------------------------------------------------------------
# Dependency specs (npm-package-arg's classification)

_MAX_SPEC = 1024  # longer specs are "invalid" (npm caps versions at 256 characters)
_FILESPEC = re.compile(r"^(?:\.|~/|[/\\]|[a-zA-Z]:)")
_TARBALL = re.compile(r"\.(?:tgz|tar\.gz|tar)$", re.IGNORECASE)
_SCP_GIT = re.compile(r"^[^@/:\s]+@[^@/:\s]+:")
_HOSTED_URL = re.compile(
    r"^(?:git\+)?https?://(?:[^@/]+@)?(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)"
    r"/[^/#]+/[^/#]+?(?:\.git)?/?(?:#.*)?$",
    re.IGNORECASE,
)
_TAG = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
# The common range forms (`^1.2.3`, `>=2`, `1.x`), which nodesemver always accepts: classified
# without parsing them (a manifest of 100,000 dependencies would cost seconds of parsing).
_SIMPLE_RANGE = re.compile(
    r"(?:\^|~|>=|<=|>|<|=)?(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8})){0,2}"
    r"|(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8}))?\.[xX*]"
)
_PKG_NAME = re.compile(r"^(?:@[A-Za-z0-9\-~*][A-Za-z0-9\-._~*]*/)?[A-Za-z0-9\-~][A-Za-z0-9\-._~]*$")


def _is_github_shorthand(arg: str) -> bool:
    """hosted-git-info's isGitHubShorthand: "user/repo" or "user/repo#ref"."""
    first_hash = arg.find("#")
    first_slash = arg.find("/")
    second_slash = arg.find("/", first_slash + 1)
    first_colon = arg.find(":")
    space = re.search(r"\s", arg)
    first_at = arg.find("@")

    def only_after_hash(idx: int) -> bool:
        return idx == -1 or (first_hash > -1 and idx > first_hash)

    space_ok = space is None or (first_hash > -1 and space.start() > first_hash)
    if first_hash > -1:
        ends_ok = arg[first_hash - 1] != "/" if first_hash > 0 else True
    else:
        ends_ok = not arg.endswith("/")
    return (
        space_ok
        and first_slash > 0
        and ends_ok
        and not arg.startswith(".")
        and only_after_hash(first_at)
        and only_after_hash(first_colon)
        and only_after_hash(second_slash)
    )


def _split_alias(spec: str) -> tuple[str, str] | None:
    """ "npm:name@range" -> (name, range); "npm:name" -> (name, "*"); None when malformed."""
    rest = spec.strip()[4:]
    at = rest.find("@", 1)
    name, inner = (rest, "*") if at == -1 else (rest[:at], rest[at + 1 :])
    if not _PKG_NAME.match(name):
        return None
    return name, inner


@functools.lru_cache(maxsize=65536)
def spec_kind(spec: str) -> SpecKind:
    """Classify a dependency spec the way npm (npm-package-arg) does (remembered: a super-repo
    repeats the same specs in hundreds of manifests).

    ``workspace`` also covers pnpm's ``catalog:`` protocol and ``link`` yarn's ``portal:``:
    both are resolved by the workspace tooling, not by a version range written here."""
    if len(spec) > _MAX_SPEC:
        return "invalid"
    s = spec.strip()
    if _SIMPLE_RANGE.fullmatch(s):
        return "range"
    low = s.lower()
    if low.startswith("npm:"):
        alias = _split_alias(s)
        if alias is None:
            return "invalid"
        inner = alias[1].strip()
        return "alias" if _range_sets(inner) is not None or _TAG.match(inner) else "invalid"
    if low.startswith(("workspace:", "catalog:")):
        return "workspace"
    if low.startswith(("link:", "portal:")):
        return "link"
    if low.startswith("file:") or _FILESPEC.match(s):
        return "file"
    if low.startswith("github:"):
        return "github"
    if low.startswith(("gitlab:", "bitbucket:", "gist:", "git+", "git://", "ssh://")):
        return "git"
    if _SCP_GIT.match(s):
        return "git"
    if low.startswith(("http://", "https://")):
        path = low.split("#", 1)[0].rstrip("/")
        return "git" if _HOSTED_URL.match(s) or path.endswith(".git") else "url"
    if _is_github_shorthand(s):
        return "github"
    if "/" in s or "\\" in s or _TARBALL.search(s):
        return "file"
    if _range_sets(s) is not None:
        return "range"
    if _TAG.match(s):
        return "tag"
    return "invalid"


def _range_text(spec: str) -> str | None:
    """The npm range a spec stands for: itself, or an alias's inner range; else None."""
    kind = spec_kind(spec)
    if kind == "range":
        return spec.strip()
    if kind == "alias":
        alias = _split_alias(spec)
        if alias is not None and _range_sets(alias[1].strip()) is not None:
            return alias[1].strip()
    return None


def points_outside(spec: str, manifest_dir: str, repo_root_rel: str = "") -> bool:
    """Whether a local-path spec (``file:``, ``link:``, ``portal:`` or a bare ``../x``) leaves
    the repository root (AR-STK-008).

    ``manifest_dir`` is the package.json's folder and ``repo_root_rel`` the repository root,
    both posix paths relative to the scanned root (``""`` = the scanned root).  Absolute paths
    (``/x``, ``~/x``, ``C:\\x``, ``file:///x``) always point outside; other spec kinds never do."""
    if spec_kind(spec) not in ("file", "link"):
        return False
    p = spec.strip()
    low = p.lower()
    for prefix in ("file:", "link:", "portal:"):
        if low.startswith(prefix):
            p = p[len(prefix) :]
            break
    if p.startswith("//"):  # file://host/path, file:///path
        return True
    return path_escapes_root(p, manifest_dir, repo_root_rel)


# --------------------------------------------------------------------------------------------
# Ranges as intervals

_Ident = tuple[int, int | str]  # (0, n) numeric, (1, s) alphanumeric: numeric sorts first
_Key = tuple[int, int, int, int, tuple[_Ident, ...]]  # major, minor, patch, is-release, pre
_Triple = tuple[int, int, int]


@dataclass(frozen=True)
class _Bound:
    key: _Key
    inclusive: bool


@dataclass(frozen=True)
class _Set:
    """One comparator set: lo <= v <= hi (bounds optional, inclusive or not), and the triples
    whose prereleases the set admits."""

    lo: _Bound | None
    hi: _Bound | None
    pre: frozenset[_Triple]


def _key_of(sv: Any) -> _Key:
    pre = tuple((0, x) if isinstance(x, int) else (1, str(x)) for x in sv.prerelease)
    return (int(sv.major), int(sv.minor), int(sv.patch), 0 if pre else 1, pre)


def _higher_lo(a: _Bound | None, b: _Bound | None) -> _Bound | None:
    if a is None or b is None:
        return a or b
    if a.key != b.key:
        return a if a.key > b.key else b
    return a if not a.inclusive else b


def _lower_hi(a: _Bound | None, b: _Bound | None) -> _Bound | None:
    if a is None or b is None:
        return a or b
    if a.key != b.key:
        return a if a.key < b.key else b
    return a if not a.inclusive else b


def _sets_from(parsed: Any) -> tuple[_Set, ...] | None:
    sets: list[_Set] = []
    for comparators in parsed.set:
        lo: _Bound | None = None
        hi: _Bound | None = None
        pre: set[_Triple] = set()
        for comp in comparators:
            if comp.semver is nodesemver.ANY:
                continue
            op = comp.operator or ""
            if op not in ("", "=", ">=", ">", "<=", "<"):
                return None
            key = _key_of(comp.semver)
            if key[4]:
                pre.add(key[:3])
            if op in ("", "=", ">=", ">"):
                lo = _higher_lo(lo, _Bound(key, op != ">"))
            if op in ("", "=", "<=", "<"):
                hi = _lower_hi(hi, _Bound(key, op != "<"))
        sets.append(_Set(lo, hi, frozenset(pre)))
    return tuple(sets)


@functools.lru_cache(maxsize=4096)
def _parse_range(text: str) -> tuple[Any, tuple[_Set, ...]] | None:
    """nodesemver's Range for an npm range, with its comparator sets as intervals; None when
    it is not a valid range.  Strict parsing first, then loose parsing as npm does (``1.2.3beta``,
    ``01.2.3``; loose parsing drops comparators it cannot read, as npm's does)."""
    if len(text) > _MAX_SPEC:
        return None
    for loose in (False, True):
        try:
            parsed = nodesemver.Range(text, loose)
            sets = _sets_from(parsed)
        except Exception:  # nodesemver raises ValueError/TypeError/... on junk
            continue
        if sets is not None:
            return parsed, sets
    return None


@functools.lru_cache(maxsize=1 << 17)
def _range_sets(text: str) -> tuple[_Set, ...] | None:
    """The comparator sets of a range text, remembered for many more texts than
    `_parse_range` keeps (they are small; nodesemver's objects are not)."""
    parsed = _parse_range(text)
    return None if parsed is None else parsed[1]


_ZERO: _Key = (0, 0, 0, 1, ())


def _below_hi(key: _Key, hi: _Bound | None) -> bool:
    return hi is None or key < hi.key or (key == hi.key and hi.inclusive)


def _min_release(s: _Set) -> _Key | None:
    """The lowest release (non-prerelease) version in the set's interval."""
    if s.lo is None:
        cand = _ZERO
    else:
        major, minor, patch, is_release, _ = s.lo.key
        if not is_release:
            cand = (major, minor, patch, 1, ())  # x.y.z is above all its prereleases
        elif s.lo.inclusive:
            cand = s.lo.key
        else:
            cand = (major, minor, patch + 1, 1, ())
    return cand if _below_hi(cand, s.hi) else None


def _min_prerelease(s: _Set, triple: _Triple) -> _Key | None:
    """The lowest prerelease of `triple` in the set's interval (x.y.z-0 is the lowest of all)."""
    start: _Key = (*triple, 0, ((0, 0),))
    inclusive = True
    if s.lo is not None:
        if s.lo.key > start:
            start, inclusive = s.lo.key, s.lo.inclusive
        elif s.lo.key == start:
            inclusive = s.lo.inclusive
    if not inclusive:
        if start[3]:  # a release: nothing of this triple lies above it
            return None
        start = (*start[:4], (*start[4], (0, 0)))  # the immediate successor: append ".0"
    if start[:3] != triple or start[3] != 0:
        return None
    return start if _below_hi(start, s.hi) else None


def _min_admitted(s: _Set) -> _Key | None:
    candidates = [_min_release(s)] + [_min_prerelease(s, t) for t in s.pre]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def _format(key: _Key) -> str:
    base = f"{key[0]}.{key[1]}.{key[2]}"
    return base + "-" + ".".join(str(i[1]) for i in key[4]) if key[4] else base


def _merge(a: _Set, b: _Set) -> _Set:
    return _Set(_higher_lo(a.lo, b.lo), _lower_hi(a.hi, b.hi), a.pre & b.pre)


def _sets_of(spec: str) -> tuple[_Set, ...] | None:
    text = _range_text(spec)
    return None if text is None else _range_sets(text)


def admits(spec: str, version: str) -> bool | None:
    """Whether an npm range admits ``version`` (npm semantics, prereleases excluded unless the
    range names one of the same major.minor.patch).  An alias (``npm:react@^18``) is judged by
    its inner range.  None when the spec is not a range (tag, git, file, ...) or is invalid,
    or when ``version`` is not a valid semantic version."""
    text = _range_text(spec)
    parsed = None if text is None or len(version) > 256 else _parse_range(text)
    if parsed is None:
        return None
    try:
        sv = nodesemver.SemVer(version.strip(), False, False)
        return bool(parsed[0].test(sv))
    except Exception:  # not a valid version
        return None


def min_version(spec: str) -> str | None:
    """The lowest version a range admits ("^18.2.0" -> "18.2.0", ">=5 <6" -> "5.0.0",
    ">1.2.3" -> "1.2.4"); None when the spec is not a range or admits nothing."""
    sets = _sets_of(spec)
    if sets is None:
        return None
    found = [k for k in (_min_admitted(s) for s in sets) if k is not None]
    return _format(min(found)) if found else None


@dataclass(frozen=True)
class Span:
    """A run of versions a range admits: from ``low`` (the lowest, a version key) up to the
    bound ``high`` (None: no upper bound), among the releases (``channel`` None) or among the
    prereleases of one major.minor.patch (``channel`` that triple)."""

    channel: _Triple | None
    low: _Key
    high: _Bound | None

    @property
    def start(self) -> tuple[Any, ...]:
        """Where the span starts, ordered against `end`: a span starting at or above another's
        end shares nothing with it (``a.low`` is below ``b``'s bound iff a.start < b.end)."""
        return (self.low, 0)

    @property
    def end(self) -> tuple[Any, ...]:
        """Where the span ends (see `start`); no bound sorts above every start."""
        if self.high is None:
            return _NO_END
        return (self.high.key, 1 if self.high.inclusive else 0)


_NO_END: tuple[Any, ...] = ((float("inf"),), 1)


@functools.lru_cache(maxsize=1 << 17)
def spans(spec: str) -> tuple[Span, ...] | None:
    """The spans of what a spec admits (an alias by its inner range): empty when it admits no
    version at all; None when it is not a range. Remembered per spec."""
    sets = _sets_of(spec)
    if sets is None:
        return None
    out: list[Span] = []
    for s in sets:
        low = _min_release(s)
        if low is not None:
            out.append(Span(None, low, s.hi))
        for triple in sorted(s.pre):
            first = _min_prerelease(s, triple)
            if first is not None:
                out.append(Span(triple, first, s.hi))
    return tuple(dict.fromkeys(out))


def spans_meet(a: tuple[Span, ...], b: tuple[Span, ...]) -> bool:
    """Whether two unions of spans share a version: two spans of one channel meet when each
    starts below the other's upper bound (each starts below its own)."""
    for x in a:
        for y in b:
            if x.channel == y.channel and _below_hi(x.low, y.high) and _below_hi(y.low, x.high):
                return True
    return False


def ranges_intersect(a: str, b: str) -> bool | None:
    """Whether two ranges admit a common version (prerelease rule included); None when either
    spec is not a range."""
    sa, sb = spans(a), spans(b)
    if sa is None or sb is None:
        return None
    return spans_meet(sa, sb)


def _intersection_witness(a: str, b: str) -> str | None:
    """The lowest version admitted by both ranges (for tests and messages)."""
    sa, sb = _sets_of(a), _sets_of(b)
    if sa is None or sb is None:
        return None
    found = [k for x in sa for y in sb if (k := _min_admitted(_merge(x, y))) is not None]
    return _format(min(found)) if found else None


def _release_majors(s: _Set) -> tuple[int, float] | None:
    """The span of majors of the release versions in the set (upper end may be infinite)."""
    low = _min_release(s)
    if low is None:
        return None
    if s.hi is None:
        return low[0], float("inf")
    major, minor, patch, is_release, _ = s.hi.key
    if is_release and s.hi.inclusive:
        top = major
    else:  # releases lie strictly below major.minor.patch
        top = major - 1 if (minor, patch) == (0, 0) else major
    return low[0], top


def major_of_range(spec: str) -> int | None:
    """The single major version every admitted version shares (^5.4.0 -> 5, ~5.0 -> 5,
    5.x -> 5, ^0.2.3 -> 0); None for ranges spanning majors (>=4, *), ranges admitting
    nothing, and non-ranges."""
    sets = _sets_of(spec)
    if sets is None:
        return None
    majors: set[int] = set()
    for s in sets:
        span = _release_majors(s)
        if span is not None:
            if span[0] != span[1]:
                return None
            majors.add(span[0])
        majors.update(t[0] for t in s.pre if _min_prerelease(s, t) is not None)
    return majors.pop() if len(majors) == 1 else None
