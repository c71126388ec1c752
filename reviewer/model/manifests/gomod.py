"""go.mod parser and Go version helpers.

The parser follows the go command's own strict parser (``golang.org/x/mod/modfile``,
``modfile.Parse`` without a version fixer) closely enough that a file it accepts, the go command
accepts, and a file the go command rejects is a :class:`~reviewer.model.manifests.ManifestError` here:

* Lexing: ``//`` comments (``/* */`` is an error), double-quoted strings with Go escapes
  (back-quoted tokens are lexed but, as in Go, rejected where a path is expected), the punctuation
  ``( ) [ ] { } ,``, and identifiers made of any other printable, non-space characters.
* Statements: one per line, or factored into a block ``verb (`` ... ``)``; blocks are allowed for
  ``module godebug require exclude replace retract tool ignore``.  ``( )`` in the middle of a line
  is not a block.
* Directives: ``module``, ``go`` (``1.23``, ``1.21.0``, ``1.21rc1``), ``toolchain`` (``go1.24.6``,
  ``default``), ``godebug key=value``, ``require``/``exclude path version``, ``replace old [v] =>
  new [v]`` (a replacement without version must be a directory: ``./x``, ``../x``, ``/x``, ``C:``),
  ``retract v`` / ``retract [low, high]``, ``tool path``, ``ignore path``.  Versions must be valid
  Go semantic versions (``v1.2.3``; the shorthands ``v1``/``v1.2`` are canonicalised to ``v1.0.0``
  / ``v1.2.0`` as Go does) and agree with the path's major suffix (``/v2`` needs ``v2.x.y``; a path
  without suffix needs v0/v1 or ``+incompatible``).  ``// indirect`` (or ``// indirect; note``) as
  the line's end-of-line comment marks a requirement indirect.

Errors, as in Go, come in two passes: syntax errors (lexer, unterminated block) first, then the
first directive error in file order.  Deliberate differences from Go: an unterminated block is
reported at the line that opens it (Go reports the end of file and names that line in its
message), and a Windows-style replacement directory (``..\\x``) is accepted, since the reviewer may
run on any system.

Every element carries the 1-based line and column of its value token: the module path, the ``go``
version, the toolchain name, a requirement's module path, a replacement's *old* path, a retraction's
first token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

from reviewer.model.manifests import LineIndex, ManifestError, path_escapes_root

__all__ = [
    "GoDirective",
    "GoMod",
    "GoReplace",
    "GoRequire",
    "ManifestError",
    "compare_go_versions",
    "gap_kind",
    "go_version_key",
    "is_directory_path",
    "locate",
    "newest_go",
    "parse_gomod",
    "replace_points_outside",
    "toolchain_version",
]


@dataclass(frozen=True)
class GoRequire:
    path: str
    version: str
    indirect: bool
    line: int
    column: int


@dataclass(frozen=True)
class GoReplace:
    old_path: str
    old_version: str | None
    new_path: str
    new_version: str | None
    line: int
    column: int


@dataclass(frozen=True)
class GoDirective:
    value: str
    line: int
    column: int


@dataclass(frozen=True)
class GoMod:
    """A parsed go.mod.  ``godebugs`` ("key=value"), ``tools`` and ``ignores`` (paths) go beyond
    what the checks need and default to empty."""

    module: GoDirective | None
    go: GoDirective | None
    toolchain: GoDirective | None
    requires: tuple[GoRequire, ...]
    replaces: tuple[GoReplace, ...]
    excludes: tuple[GoRequire, ...]
    retracts: tuple[GoDirective, ...]
    godebugs: tuple[GoDirective, ...] = ()
    tools: tuple[GoDirective, ...] = ()
    ignores: tuple[GoDirective, ...] = ()


# --------------------------------------------------------------------------------------------
# Lexer


class _Tok(NamedTuple):
    kind: str  # EOF NL COMMENT EOLCOMMENT STRING IDENT ( ) [ ] { } ,
    text: str
    pos: int


_EOL = frozenset({"EOF", "NL", "EOLCOMMENT"})
_PUNCT = frozenset("()[]{},")
_SPACE = re.compile(r"[ \t\r]*")
_DQ_BODY = re.compile(r'"(?:[^"\\\n]|\\[\s\S])*')
_BQ_BODY = re.compile(r"`[^`\n]*")
_IDENT_RUN = re.compile(r"(?:[^\s()\[\]{},/]|/(?![/*]))+")


def _is_ident(c: str) -> bool:
    return c not in " ()[]{}," and not c.isspace() and c.isprintable()


def _lex(text: str, lines: LineIndex) -> Iterator[_Tok]:
    def fail(message: str, pos: int) -> ManifestError:
        return ManifestError(message, *lines.at(pos))

    n = len(text)
    i = 0
    while True:
        space = _SPACE.match(text, i)
        i = space.end() if space else i
        if i >= n:
            yield _Tok("EOF", "", n)
            return
        c = text[i]
        if text.startswith("//", i):
            line_start = text.rfind("\n", 0, i) + 1
            suffix = bool(text[line_start:i].strip())
            end = text.find("\n", i)
            end = n if end == -1 else end + 1
            yield _Tok("EOLCOMMENT" if suffix else "COMMENT", text[i:end].rstrip("\r\n"), i)
            i = end
            continue
        if text.startswith("/*", i):
            raise fail("mod files must use // comments (not /* */ comments)", i)
        if c == "\n":
            yield _Tok("NL", c, i)
            i += 1
        elif c in _PUNCT:
            yield _Tok(c, c, i)
            i += 1
        elif c in '"`':
            m = (_DQ_BODY if c == '"' else _BQ_BODY).match(text, i)
            assert m is not None
            end = m.end()
            if end >= n:
                raise fail("unexpected EOF in string", i)
            if text[end] == "\n":
                raise fail("unexpected newline in string", end)
            yield _Tok("STRING", text[i : end + 1], i)
            i = end + 1
        else:
            if c == "\ufeff":
                raise fail("unexpected byte-order mark (go.mod must be plain UTF-8)", i)
            if not _is_ident(c):
                raise fail(f"unexpected input character {c!r}", i)
            m = _IDENT_RUN.match(text, i)
            assert m is not None
            word = m.group()
            end = m.end()
            if not word.isprintable():
                k = next(k for k, ch in enumerate(word) if not ch.isprintable())
                word, end = word[:k], i + k
            if text.startswith("/*", end):
                raise fail("mod files must use // comments (not /* */ comments)", end)
            yield _Tok("IDENT", word, i)
            i = end


# --------------------------------------------------------------------------------------------
# Syntax: lines and blocks


@dataclass
class _Line:
    tokens: list[_Tok]
    suffix: str | None  # end-of-line comment text, "//..."


@dataclass
class _Block:
    verb: list[_Tok]
    lines: list[_Line]


class _Parser:
    def __init__(self, text: str, lines: LineIndex) -> None:
        self.lines = lines
        self.toks = _lex(text, lines)
        self.tok = next(self.toks)

    def peek(self) -> _Tok:
        return self.tok

    def lex(self) -> _Tok:
        tok = self.tok
        if tok.kind != "EOF":
            self.tok = next(self.toks)
        return tok

    def fail(self, message: str, pos: int) -> ManifestError:
        return ManifestError(message, *self.lines.at(pos))

    def parse_file(self) -> list[_Line | _Block]:
        stmts: list[_Line | _Block] = []
        while True:
            kind = self.peek().kind
            if kind in ("NL", "COMMENT"):
                self.lex()
            elif kind == "EOF":
                return stmts
            else:
                stmts.append(self.parse_stmt())

    def parse_stmt(self) -> _Line | _Block:
        tokens = [self.lex()]
        while True:
            tok = self.lex()
            if tok.kind in _EOL:
                return _Line(tokens, tok.text if tok.kind == "EOLCOMMENT" else None)
            if tok.kind == "(":
                nxt = self.peek()
                if nxt.kind in _EOL:
                    return self.parse_block(tokens)
                if nxt.kind == ")":
                    rparen = self.lex()
                    if self.peek().kind in _EOL:
                        self.lex()
                        return _Block(tokens, [])
                    tokens += [tok, rparen]
                    continue
            tokens.append(tok)

    def parse_block(self, verb: list[_Tok]) -> _Block:
        block = _Block(verb, [])
        while True:
            tok = self.peek()
            if tok.kind in ("EOLCOMMENT", "NL", "COMMENT"):
                self.lex()
            elif tok.kind == "EOF":
                line, col = self.lines.at(verb[0].pos)
                raise ManifestError(
                    f"syntax error (unterminated block started at {line}:{col})", line, col
                )
            elif tok.kind == ")":
                self.lex()
                after = self.peek()
                if after.kind not in _EOL:
                    raise self.fail(
                        "syntax error (expected newline after closing paren)", after.pos
                    )
                self.lex()
                return block
            else:
                block.lines.append(self.parse_line())

    def parse_line(self) -> _Line:
        tokens = [self.lex()]
        while True:
            tok = self.lex()
            if tok.kind in _EOL:
                return _Line(tokens, tok.text if tok.kind == "EOLCOMMENT" else None)
            tokens.append(tok)


# --------------------------------------------------------------------------------------------
# Go strings, module versions and paths

_SIMPLE_ESCAPES = {
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "v": b"\v",
    "\\": b"\\",
    '"': b'"',
}
_HEX = frozenset("0123456789abcdefABCDEF")


def _go_unquote(s: str) -> str:
    """strconv.Unquote for a double-quoted Go string literal; ValueError when invalid."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise ValueError("invalid syntax")
    body = s[1:-1]
    if "\n" in body:
        raise ValueError("invalid syntax")
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == '"':
            raise ValueError("invalid syntax")
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("invalid syntax")
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[e]
            i += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not set(digits) <= _HEX:
                raise ValueError("invalid syntax")
            value = int(digits, 16)
            if e == "x":
                out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    raise ValueError("invalid syntax")
                out += chr(value).encode("utf-8")
            i += 2 + width
        elif e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not set(digits) <= set("01234567") or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            out.append(int(digits, 8))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return out.decode("utf-8", "replace")


def _parse_string(tok: str) -> str:
    """modfile.parseString: unquote "..." tokens; other quotes are not allowed."""
    if tok.startswith('"'):
        return _go_unquote(tok)
    if any(q in tok for q in "\"'`"):
        raise ValueError("unquoted string cannot contain quote")
    return tok


_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"v({_NUM})(?:\.({_NUM})(?:\.({_NUM})"
    rf"(-{_PRE_ID}(?:\.{_PRE_ID})*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?"
)


def _canonical_version(v: str) -> str:
    """module.CanonicalVersion: "" when v is not a Go semantic version."""
    m = _SEMVER.fullmatch(v)
    if m is None:
        return ""
    major, minor, patch, pre, build = m.groups()
    canon = f"v{major}.{minor or '0'}.{patch or '0'}{pre or ''}"
    return canon + "+incompatible" if build == "+incompatible" else canon


_DIGITS = frozenset("0123456789")


def _split_path_version(path: str) -> tuple[str, str, bool]:
    """module.SplitPathVersion."""
    if path.startswith("gopkg.in/"):
        i = len(path)
        if path.endswith("-unstable"):
            i -= len("-unstable")
        while i > 0 and path[i - 1] in _DIGITS:
            i -= 1
        if i <= 1 or path[i - 1] != "v" or path[i - 2] != ".":
            return path, "", False
        prefix, major = path[: i - 2], path[i - 2 :]
        if len(major) <= 2 or (major[2] == "0" and major != ".v0"):
            return path, "", False
        return prefix, major, True
    i = len(path)
    dot = False
    while i > 0 and (path[i - 1] in _DIGITS or path[i - 1] == "."):
        dot = dot or path[i - 1] == "."
        i -= 1
    if i <= 1 or i == len(path) or path[i - 1] != "v" or path[i - 2] != "/":
        return path, "", True
    prefix, major = path[: i - 2], path[i - 2 :]
    if dot or len(major) <= 2 or major[2] == "0" or major == "/v1":
        return path, "", False
    return prefix, major, True


def _check_path_major(v: str, path_major: str) -> str | None:
    """module.CheckPathMajor: an error message, or None when the version fits the path."""
    if path_major.startswith(".v") and path_major.endswith("-unstable"):
        path_major = path_major[: -len("-unstable")]
    if v.startswith("v0.0.0-") and path_major == ".v1":
        return None
    m = _SEMVER.fullmatch(v)
    major = f"v{m.group(1)}" if m else ""
    if path_major == "":
        if major in ("v0", "v1") or (m is not None and m.group(5) == "+incompatible"):
            return None
        want = "v0 or v1"
    else:
        if major == path_major[1:]:
            return None
        want = path_major[1:]
    return f"should be {want}, not {major}"


def is_directory_path(ns: str) -> bool:
    """modfile.IsDirectoryPath: a replacement target that is a local directory."""
    return (
        ns in (".", "..")
        or ns.startswith(("./", "../", "/", ".\\", "..\\", "\\"))
        or (len(ns) >= 2 and ns[0].isascii() and ns[0].isalpha() and ns[1] == ":")
    )


def replace_points_outside(rep: GoReplace, manifest_dir: str, repo_root_rel: str = "") -> bool:
    """Whether a replace directive's local directory leaves the repository root (AR-STK-008).

    ``manifest_dir`` is the go.mod's folder and ``repo_root_rel`` the repository root, both
    posix paths relative to the scanned root.  A replacement by another module (with a version)
    is not a path and never points outside."""
    if rep.new_version is not None or not is_directory_path(rep.new_path):
        return False
    return path_escapes_root(rep.new_path, manifest_dir, repo_root_rel)


# --------------------------------------------------------------------------------------------
# Directives

_GO_VERSION_RE = re.compile(r"([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?")
_TOOLCHAIN_RE = re.compile(r"^default$|^go1($|\.)")
_BLOCK_VERBS = frozenset(
    {"module", "godebug", "require", "exclude", "replace", "retract", "tool", "ignore"}
)


def _is_indirect(suffix: str | None) -> bool:
    if suffix is None:
        return False
    f = suffix.removeprefix("//").split()
    return (len(f) == 1 and f[0] == "indirect") or (len(f) > 1 and f[0] == "indirect;")


class _Builder:
    def __init__(self, lines: LineIndex) -> None:
        self.lines = lines
        self.module: GoDirective | None = None
        self.go: GoDirective | None = None
        self.toolchain: GoDirective | None = None
        self.requires: list[GoRequire] = []
        self.excludes: list[GoRequire] = []
        self.replaces: list[GoReplace] = []
        self.retracts: list[GoDirective] = []
        self.godebugs: list[GoDirective] = []
        self.tools: list[GoDirective] = []
        self.ignores: list[GoDirective] = []

    def pos(self, tok: _Tok) -> tuple[int, int]:
        return self.lines.at(tok.pos)

    def fail(self, start: _Tok, message: str) -> ManifestError:
        return ManifestError(message, *self.pos(start))

    def string(self, start: _Tok, tok: _Tok) -> str:
        try:
            return _parse_string(tok.text)
        except ValueError as exc:
            raise self.fail(start, f"invalid quoted string: {exc}") from None

    def version(self, start: _Tok, verb: str, path: str, tok: _Tok) -> str:
        what = f"{verb} {path}".strip()
        try:
            text = _parse_string(tok.text)
        except ValueError as exc:
            raise self.fail(start, f"{what}: version {tok.text} invalid: {exc}") from None
        canon = _canonical_version(text)
        if not canon:
            raise self.fail(start, f'{what}: version "{text}" invalid: must be of the form v1.2.3')
        return canon

    def path_major(self, start: _Tok, verb: str, path: str) -> str:
        _, major, ok = _split_path_version(path)
        if not ok:
            raise self.fail(start, f"{verb} {path}: invalid module path")
        return major

    def check_major(self, start: _Tok, verb: str, path: str, version: str, major: str) -> None:
        problem = _check_path_major(version, major)
        if problem:
            raise self.fail(start, f'{verb} {path}: version "{version}" invalid: {problem}')

    def add(self, verb: str, start: _Tok, args: list[_Tok], suffix: str | None) -> None:
        if verb == "go":
            self.add_go(start, args)
        elif verb == "toolchain":
            self.add_toolchain(start, args)
        elif verb == "module":
            if self.module is not None:
                raise self.fail(start, "repeated module statement")
            if len(args) != 1:
                raise self.fail(start, "usage: module module/path")
            self.module = GoDirective(self.string(start, args[0]), *self.pos(args[0]))
        elif verb == "godebug":
            if len(args) != 1 or any(q in args[0].text for q in "\"`',") or "=" not in args[0].text:
                raise self.fail(start, "usage: godebug key=value")
            self.godebugs.append(GoDirective(args[0].text, *self.pos(args[0])))
        elif verb in ("require", "exclude"):
            if len(args) != 2:
                raise self.fail(start, f"usage: {verb} module/path v1.2.3")
            path = self.string(start, args[0])
            version = self.version(start, verb, path, args[1])
            self.check_major(start, verb, path, version, self.path_major(start, verb, path))
            target = self.requires if verb == "require" else self.excludes
            indirect = verb == "require" and _is_indirect(suffix)
            target.append(GoRequire(path, version, indirect, *self.pos(args[0])))
        elif verb == "replace":
            self.add_replace(start, args)
        elif verb == "retract":
            self.add_retract(start, args)
        elif verb in ("tool", "ignore"):
            if len(args) != 1:
                raise self.fail(start, f"{verb} directive expects exactly one argument")
            value = GoDirective(self.string(start, args[0]), *self.pos(args[0]))
            (self.tools if verb == "tool" else self.ignores).append(value)
        else:
            raise self.fail(start, f"unknown directive: {verb}")

    def add_go(self, start: _Tok, args: list[_Tok]) -> None:
        if self.go is not None:
            raise self.fail(start, "repeated go statement")
        if len(args) != 1:
            raise self.fail(start, "go directive expects exactly one argument")
        if not _GO_VERSION_RE.fullmatch(args[0].text):
            raise self.fail(start, f"invalid go version '{args[0].text}': must match format 1.23.0")
        self.go = GoDirective(args[0].text, *self.pos(args[0]))

    def add_toolchain(self, start: _Tok, args: list[_Tok]) -> None:
        if self.toolchain is not None:
            raise self.fail(start, "repeated toolchain statement")
        if len(args) != 1:
            raise self.fail(start, "toolchain directive expects exactly one argument")
        if not _TOOLCHAIN_RE.search(args[0].text):
            raise self.fail(
                start,
                f"invalid toolchain version '{args[0].text}': must match format go1.23.0 or default",
            )
        self.toolchain = GoDirective(args[0].text, *self.pos(args[0]))

    def add_replace(self, start: _Tok, args: list[_Tok]) -> None:
        texts = [a.text for a in args]
        arrow = 1 if len(texts) >= 2 and texts[1] == "=>" else 2
        if len(texts) < arrow + 2 or len(texts) > arrow + 3 or texts[arrow] != "=>":
            raise self.fail(
                start,
                "usage: replace module/path [v1.2.3] => other/module v1.4\n"
                "\t or replace module/path [v1.2.3] => ../local/directory",
            )
        old = self.string(start, args[0])
        major = self.path_major(start, "replace", old)
        old_version: str | None = None
        if arrow == 2:
            old_version = self.version(start, "replace", old, args[1])
            self.check_major(start, "replace", old, old_version, major)
        new = self.string(start, args[arrow + 1])
        new_version: str | None = None
        if len(args) == arrow + 2:
            if not is_directory_path(new):
                if "@" in new:
                    raise self.fail(
                        start,
                        "replacement module must match format 'path version', not 'path@version'",
                    )
                raise self.fail(
                    start,
                    "replacement module without version must be directory path "
                    "(rooted or starting with . or ..)",
                )
        else:
            new_version = self.version(start, "replace", new, args[arrow + 2])
            if is_directory_path(new):
                raise self.fail(
                    start, f"replacement module directory path {new!r} cannot have version"
                )
        self.replaces.append(GoReplace(old, old_version, new, new_version, *self.pos(args[0])))

    def add_retract(self, start: _Tok, args: list[_Tok]) -> None:
        texts = [a.text for a in args]
        if not texts or texts[0] == "(":
            raise self.fail(start, "retract: expected '[' or version")
        if texts[0] != "[":
            value = self.version(start, "retract", "", args[0])
            rest = texts[1:]
        else:
            if len(texts) < 2:
                raise self.fail(start, "retract: expected version after '['")
            low = self.version(start, "retract", "", args[1])
            if len(texts) < 3 or texts[2] != ",":
                raise self.fail(start, "retract: expected ',' after version")
            if len(texts) < 4:
                raise self.fail(start, "retract: expected version after ','")
            high = self.version(start, "retract", "", args[3])
            if len(texts) < 5 or texts[4] != "]":
                raise self.fail(start, "retract: expected ']' after version")
            value = f"[{low}, {high}]"
            rest = texts[5:]
        if rest:
            raise self.fail(start, f"retract: unexpected token after version: {rest[0]!r}")
        self.retracts.append(GoDirective(value, *self.pos(args[0])))

    def build(self) -> GoMod:
        if self.retracts and self.module is None:
            first = self.retracts[0]
            raise ManifestError(
                "no module directive found, so retract cannot be used", first.line, first.column
            )
        return GoMod(
            module=self.module,
            go=self.go,
            toolchain=self.toolchain,
            requires=tuple(self.requires),
            replaces=tuple(self.replaces),
            excludes=tuple(self.excludes),
            retracts=tuple(self.retracts),
            godebugs=tuple(self.godebugs),
            tools=tuple(self.tools),
            ignores=tuple(self.ignores),
        )


def parse_gomod(text: str) -> GoMod:
    """Parse go.mod text; raise ManifestError (line, column) at the first error.

    A leading UTF-8 byte-order mark is an error, as it is for the go command."""
    lines = LineIndex(text)
    stmts = _Parser(text, lines).parse_file()
    builder = _Builder(lines)
    for stmt in stmts:
        if isinstance(stmt, _Line):
            builder.add(stmt.tokens[0].text, stmt.tokens[0], stmt.tokens[1:], stmt.suffix)
            continue
        verb = " ".join(t.text for t in stmt.verb)
        if len(stmt.verb) > 1 or verb not in _BLOCK_VERBS:
            raise builder.fail(stmt.verb[0], f"unknown block type: {verb}")
        for line in stmt.lines:
            builder.add(verb, line.tokens[0], line.tokens, line.suffix)
    return builder.build()


# --------------------------------------------------------------------------------------------
# Go versions (go/version, cmd/go/internal/gover)


def _cut_int(x: str) -> tuple[int, str] | None:
    i = 0
    while i < len(x) and x[i] in _DIGITS:
        i += 1
    if i == 0 or (x[0] == "0" and i != 1):
        return None
    return int(x[:i]), x[i:]


def _parse_gover(x: str) -> tuple[int, int, int, str, int] | None:
    """gover.parse: (major, minor, patch, kind, pre) with -1 for an absent patch/pre number."""
    cut = _cut_int(x)
    if cut is None:
        return None
    major, x = cut
    if x == "":
        return major, 0, 0, "", -1
    if x[0] != ".":
        return None
    cut = _cut_int(x[1:])
    if cut is None:
        return None
    minor, x = cut
    if x == "":
        # Before Go 1.21 "1.20" meant "1.20.0"; from 1.21 on it is the language version,
        # below 1.21rc1 and 1.21.0.
        return major, minor, (0 if (major, minor) < (1, 21) else -1), "", -1
    if x[0] == ".":
        cut = _cut_int(x[1:])
        if cut is None or cut[1] != "":
            return None
        return major, minor, cut[0], "", -1
    i = 0
    while i < len(x) and x[i] not in _DIGITS:
        if not ("a" <= x[i] <= "z"):
            return None
        i += 1
    if i == 0:
        return None
    kind, x = x[:i], x[i:]
    if x == "":
        return major, minor, -1, kind, -1
    cut = _cut_int(x)
    if cut is None or cut[1] != "":
        return None
    return major, minor, -1, kind, cut[0]


def toolchain_version(name: str) -> str:
    """gover.FromToolchain: "go1.24.6" -> "1.24.6"; "" for "default", "local" or junk."""
    if "\\" in name or "/" in name:
        return ""
    if name.startswith("go"):
        v = name[2:]
    elif "-go" in name:
        v = name[name.index("-go") + 3 :]
    else:
        return ""
    for sep in (" ", "\t", "-"):
        if sep in v:
            v = v[: v.index(sep)]
    return v if _parse_gover(v) is not None else ""


def go_version_key(v: str) -> tuple[int | str, ...]:
    """A sort key for Go versions, in the go command's order.

    Accepts language/release versions ("1.24", "1.24.6", "1.25rc1") and toolchain names
    ("go1.24.6").  The rule (go/version.Compare):

    * compare major, minor, then patch numerically;
    * from Go 1.21 on, a version without patch ("1.21", the *language* version) is below every
      release of that line: 1.21 < 1.21rc1 < 1.21.0 < 1.21.1; before 1.21, "1.20" = "1.20.0";
    * pre-releases (alpha/beta/rc, compared by name then number) sit between the language
      version and the .0 release: 1.21 < 1.21beta1 < 1.21rc1 < 1.21rc2 < 1.21.0;
    * so 1.24 < 1.24.6 < 1.25rc1 < 1.25.0;
    * malformed versions sort below all valid ones and equal to each other.
    """
    s = v.strip()
    if s.startswith("go"):
        s = toolchain_version(s)
    parsed = _parse_gover(s)
    if parsed is None:
        return (0,)
    return (1, *parsed)


def compare_go_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as a is older than, the same as, or newer than b (see go_version_key)."""
    ka, kb = go_version_key(a), go_version_key(b)
    return (ka > kb) - (ka < kb)


def newest_go(mod: GoMod) -> GoDirective | None:
    """The newer of the ``go`` directive and the ``toolchain`` (as a version: "go1.24.6" ->
    "1.24.6", at the toolchain's position); "default"/"local" and unparseable toolchains are
    ignored.  On a tie the ``go`` directive wins."""
    best = mod.go
    if mod.toolchain is not None:
        tv = toolchain_version(mod.toolchain.value)
        if tv and (best is None or compare_go_versions(tv, best.value) > 0):
            best = GoDirective(tv, mod.toolchain.line, mod.toolchain.column)
    return best


def gap_kind(have: str, want: str) -> Literal["newer", "equal", "patch", "minor", "major"]:
    """How far ``have`` is from ``want``: "newer"/"equal", else the first component that
    differs — "major", "minor", or "patch" (which includes language version vs release and
    rc vs release of the same minor: 1.24 vs 1.24.6 is "patch", 1.23.4 vs 1.24.6 is "minor").

    Raises ValueError when either version is malformed."""
    kh, kw = go_version_key(have), go_version_key(want)
    if kh == (0,) or kw == (0,):
        raise ValueError(f"not a Go version: {have if kh == (0,) else want!r}")
    if kh > kw:
        return "newer"
    if kh == kw:
        return "equal"
    if kh[1] != kw[1]:
        return "major"
    if kh[2] != kw[2]:
        return "minor"
    return "patch"


def locate(mod: GoMod, path: tuple[str | int, ...]) -> tuple[int, int] | None:
    """(line, column) of an element of a parsed go.mod, or None.

    Paths: ("module",), ("go",), ("toolchain",), ("require", module_path),
    ("exclude", module_path), ("replace", old_path), ("retract", value), ("tool", path),
    ("godebug", key); an int instead of the name picks the n-th entry of that list.
    Names match the first entry in file order.
    """
    if not path:
        return None
    head, rest = path[0], path[1:]
    if head in ("module", "go", "toolchain"):
        d = {"module": mod.module, "go": mod.go, "toolchain": mod.toolchain}[str(head)]
        return (d.line, d.column) if d is not None and not rest else None
    if len(rest) != 1 or head not in _LISTS:
        return None
    entries, first = _entries(mod, str(head))
    key = rest[0]
    if isinstance(key, int):
        return entries[key][1:] if 0 <= key < len(entries) else None
    return first.get(key)


_LISTS = ("require", "exclude", "replace", "retract", "tool", "ignore", "godebug")
_Entries = tuple[list[tuple[str, int, int]], dict[str, tuple[int, int]]]
_LOCATED: dict[tuple[int, str], tuple[GoMod, _Entries]] = {}  # (id(mod), list) -> index
_LOCATED_KEEP = 64


def _entries(mod: GoMod, head: str) -> _Entries:
    """A go.mod list as (name, line, column) entries and name -> the first one's position,
    built once per parsed go.mod and list (the engine places every finding in turn: a lookup
    per finding must not scan the whole list)."""
    kept = _LOCATED.get((id(mod), head))
    if kept is not None and kept[0] is mod:
        return kept[1]
    entries: list[tuple[str, int, int]]
    if head in ("require", "exclude"):
        entries = [(r.path, r.line, r.column) for r in getattr(mod, f"{head}s")]
    elif head == "replace":
        entries = [(r.old_path, r.line, r.column) for r in mod.replaces]
    elif head in ("retract", "tool", "ignore"):
        entries = [(d.value, d.line, d.column) for d in getattr(mod, f"{head}s")]
    else:
        entries = [(d.value.split("=", 1)[0], d.line, d.column) for d in mod.godebugs]
    first: dict[str, tuple[int, int]] = {}
    for name, line, column in entries:
        first.setdefault(name, (line, column))
    if len(_LOCATED) >= _LOCATED_KEEP:
        _LOCATED.clear()
    _LOCATED[(id(mod), head)] = (mod, (entries, first))
    return entries, first
