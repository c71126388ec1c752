"""`.gitignore` patterns, matched as git matches them, in time linear in pattern and path.

The scanned repository is untrusted, and so are its `.gitignore` files. A pattern compiled to a
backtracking regular expression can take exponential time (``*a*a*a*a*a*a*a*a*a*a*a*a*b``
against a long name of ``a`` never finishes; git's own matcher backtracks on it too). Here
each pattern becomes a small nondeterministic automaton over its tokens, run on the path's
bytes as a bit set of live positions (one Python integer): one step per byte of the path, each
step a fixed number of integer operations on ``len(pattern)`` bits. A pattern and a path cost
O(len(pattern) x len(path)) bit operations, with no backtracking at all.

Semantics are git's (``dir.c`` and ``wildmatch.c``), on bytes (paths and patterns are UTF-8):

- a line is split at LF (a CR before it is dropped, as is a leading UTF-8 byte-order mark);
  blank lines and lines starting with ``#`` match nothing; trailing spaces are dropped unless
  escaped with ``\\``; ``\\`` escapes any character (``\\#``, ``\\!``, ``\\ ``);
- ``!`` negates: a later ``!pattern`` re-includes what an earlier one excluded, except that a
  path inside an excluded folder stays excluded (git never looks inside it; `Ignores.folder`
  returns None for such a folder);
- a trailing ``/`` matches folders only; a pattern with no other ``/`` matches the base name at
  any depth below the `.gitignore`'s folder; any other ``/`` (leading or in the middle)
  anchors it to that folder;
- ``*`` and ``?`` never match ``/``; ``[...]`` is a class with ranges, ``!`` or ``^`` negation,
  ``\\`` escapes and ``[:alpha:]``-style names; an unterminated class, or an unknown class
  name, makes the pattern match nothing (wildmatch aborts on it);
- ``**`` between slashes (or at either end) spans folders: ``**/x`` (x at any depth),
  ``x/**`` (everything inside x), ``a/**/b`` (b zero or more folders below a); elsewhere
  ``**`` is ``*``;
- within one file the last matching pattern wins; a deeper `.gitignore` is consulted before a
  shallower one, which amounts to the same rule over the files concatenated root-first.

Work is bounded. `parse_gitignore` reads at most `MAX_FILE_BYTES` of a file and
`MAX_PATTERNS` patterns, drops any pattern longer than `MAX_PATTERN_CHARS`, and says so in
`Parsed.problems`. Every evaluation charges a `Budget` (the units are the automaton steps taken
plus one per cheap test), and a budget that runs out raises `OverBudget`, so the caller decides
what a walk does next. Literal patterns (``node_modules``, ``/dist``) are looked up in hash
tables and ``*.ext`` patterns by suffix, before any automaton runs; the others are tried from
the last one backwards, after a check of their literal first and last bytes, their length and
their longest literal run (which a matching path must contain).

Tracked files (issue 17 in the project's tracker: `.gitignore` applies to untracked files
only) are `Ignores`' ``tracked`` argument: a tracked file is never ignored by a `.gitignore`,
and a folder holding tracked files is still entered, with its untracked files ignored.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PATTERNS",
    "MAX_PATTERN_CHARS",
    "Budget",
    "Ignores",
    "Matcher",
    "OverBudget",
    "Parsed",
    "Pattern",
    "PatternList",
    "Token",
    "Tracked",
    "compile_pattern",
    "parse_gitignore",
    "parse_line",
    "wildmatch",
    "workspace_glob",
]

MAX_FILE_BYTES = 1_000_000  # bytes of one .gitignore that are read
MAX_PATTERNS = 10_000  # patterns of one .gitignore that are used
MAX_PATTERN_CHARS = 4096  # a longer pattern is dropped (git paths are at most 4,096 bytes)

_SLASH = 0x2F

# Token kinds. A pattern is a sequence of tokens; position i of the automaton is "before
# token i", position len(tokens) is "matched".
LIT = 0  # one given byte
ONE = 1  # any byte but "/"  (?)
CLASS = 2  # one byte of a set that never holds "/"  ([...])
STAR = 3  # any run of bytes without "/"  (*)
ANY = 4  # any run of bytes  (a trailing ** or a workspace **)
DIRS = 5  # nothing, or any run of bytes ending in "/"  (**/ at a folder boundary)


@dataclass(frozen=True)
class Token:
    kind: int
    byte: int = 0  # LIT (a byte, or a code point in a workspace glob)
    members: frozenset[int] = frozenset()  # CLASS: the bytes it matches


class OverBudget(Exception):
    """A `Budget` ran out; ``what`` names the counter (for the caller's message)."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what}: over the limit of {limit:,}")
        self.what = what
        self.limit = limit


@dataclass
class Budget:
    """Work counters with limits. ``matching`` counts pattern work (automaton steps, one unit
    per byte of path per pattern run, plus one per table lookup or pre-filter test);
    ``entries`` counts folder entries a walk looked at. `charge` and `visit` raise
    `OverBudget` when a counter passes its limit."""

    matching_limit: int = 4_000_000
    entries_limit: int = 1_000_000
    matching: int = 0
    entries: int = 0

    def charge(self, units: int) -> None:
        self.matching += units
        if self.matching > self.matching_limit:
            raise OverBudget("pattern matching work", self.matching_limit)

    def visit(self, count: int = 1) -> None:
        self.entries += count
        if self.entries > self.entries_limit:
            raise OverBudget("folder entries", self.entries_limit)


# --------------------------------------------------------------------------- the automaton


class Matcher:
    """A compiled token sequence. `match` runs it over a whole text (bytes), anchored at both
    ends, in one pass: a bit set of live positions, advanced by a fixed number of integer
    operations per byte."""

    __slots__ = (
        "_any",
        "_class_cache",
        "_classes",
        "_dirs",
        "_keep",
        "_lits",
        "_one",
        "_skip",
        "_star",
        "accept",
        "first",
        "last",
        "min_length",
        "size",
        "start",
    )

    def __init__(self, tokens: Sequence[Token]) -> None:
        lits: dict[int, int] = {}
        classes: list[tuple[frozenset[int], int]] = []
        one = star = any_ = dirs = 0
        min_length = 0
        for i, token in enumerate(tokens):
            bit = 1 << i
            if token.kind == LIT:
                lits[token.byte] = lits.get(token.byte, 0) | bit
                min_length += 1
            elif token.kind == ONE:
                one |= bit
                min_length += 1
            elif token.kind == CLASS:
                classes.append((token.members, bit))
                min_length += 1
            elif token.kind == STAR:
                star |= bit
            elif token.kind == ANY:
                any_ |= bit
            else:
                dirs |= bit
        self._lits = lits
        self._classes = tuple(classes)
        self._class_cache: dict[int, int] = {}
        self._one = one
        self._star = star
        self._any = any_
        self._dirs = dirs
        self._skip = star | any_ | dirs  # positions that may be passed over without a byte
        self._keep = star | any_  # self-loops after which the position may still be passed
        self.size = len(tokens)
        self.accept = 1 << len(tokens)
        self.min_length = min_length
        # the bytes a matching text must start and end with, when the pattern fixes them
        self.first = tokens[0].byte if tokens and tokens[0].kind == LIT else -1
        self.last = tokens[-1].byte if tokens and tokens[-1].kind == LIT else -1
        self.start = self._close(1)

    def _close(self, live: int) -> int:
        """Add every position reachable from ``live`` by passing over ``*``, ``**`` and
        ``**/`` tokens without reading a byte: in each run of such positions, adding a live
        position's bit to the run carries up to the position after the run."""
        seeds = live & self._skip
        if not seeds:
            return live
        return live | ((seeds + self._skip) ^ self._skip ^ seeds)

    def _class_bits(self, byte: int) -> int:
        bits = self._class_cache.get(byte)
        if bits is None:
            bits = 0
            for members, bit in self._classes:
                if byte in members:
                    bits |= bit
            self._class_cache[byte] = bits
        return bits

    def match(self, text: bytes | Sequence[int], budget: Budget | None = None) -> bool:
        """Whether the whole of ``text`` matches (bytes, or code points for a pattern built
        from text: `workspace_glob`). Charges ``budget`` one unit per byte read (the run stops
        early once no position is live)."""
        live = self.start
        lits = self._lits
        classes = self._classes
        one, star, any_, dirs = self._one, self._star, self._any, self._dirs
        keep = self._keep
        skip = self._skip
        steps = 0
        for byte in text:
            steps += 1
            if byte == _SLASH:
                consume = lits.get(byte, 0) | dirs
                loop = any_ | dirs
            else:
                consume = lits.get(byte, 0) | one
                loop = star | any_ | dirs
            if classes:
                consume |= self._class_bits(byte)
            stay = live & loop
            entered = ((live & consume) << 1) | (stay & keep)
            seeds = entered & skip
            if seeds:
                entered |= (seeds + skip) ^ skip ^ seeds
            live = entered | (stay & dirs)
            if not live:
                break
        if budget is not None:
            budget.charge(steps + 1)
        return bool(live & self.accept)


# --------------------------------------------------------------------------- patterns

_CLASS_NAMES: dict[bytes, frozenset[int]] = {
    b"alnum": frozenset(b for b in range(128) if chr(b).isalnum()),
    b"alpha": frozenset(b for b in range(128) if chr(b).isalpha()),
    b"blank": frozenset(b" \t"),
    b"cntrl": frozenset([*range(32), 127]),
    b"digit": frozenset(b"0123456789"),
    b"graph": frozenset(range(33, 127)),
    b"lower": frozenset(b"abcdefghijklmnopqrstuvwxyz"),
    b"print": frozenset(range(32, 127)),
    b"punct": frozenset(string.punctuation.encode()),
    b"space": frozenset(b" \t\n\r"),  # git's own ctype: not \v or \f
    b"upper": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    b"xdigit": frozenset(b"0123456789abcdefABCDEF"),
}


def _class(pat: bytes, i: int) -> tuple[Token, int] | None:
    """The class opening at ``pat[i] == "["``: its token and the index after its "]"; None
    when wildmatch would abort (unterminated, or an unknown [:name:])."""
    n = len(pat)
    i += 1
    negated = i < n and pat[i] in (0x21, 0x5E)  # "!" or "^"
    if negated:
        i += 1
    members: set[int] = set()
    prev = -1  # the previous member byte, when a "-" after it makes a range
    first = True
    while True:
        if i >= n:
            return None
        c = pat[i]
        if c == 0x5D and not first:  # ]
            break
        first = False
        if c == 0x5C:  # backslash: the next byte, literally
            i += 1
            if i >= n:
                return None
            c = pat[i]
            members.add(c)
            prev = c
        elif c == 0x2D and prev >= 0 and i + 1 < n and pat[i + 1] != 0x5D:  # a range
            i += 1
            high = pat[i]
            if high == 0x5C:
                i += 1
                if i >= n:
                    return None
                high = pat[i]
            members.update(range(prev, high + 1))
            prev = -1
        elif c == 0x5B and i + 1 < n and pat[i + 1] == 0x3A:  # [:name:]
            close = pat.find(b"]", i + 2)
            if close < 0:
                return None
            if close - (i + 2) - 1 < 0 or pat[close - 1] != 0x3A:
                members.add(c)  # not a [:name:]: a literal "[", and go on after it
                prev = c
            else:
                named = _CLASS_NAMES.get(pat[i + 2 : close - 1])
                if named is None:
                    return None
                members.update(named)
                prev = -1
                i = close
        else:
            members.add(c)
            prev = c
        i += 1
    if negated:
        chosen = frozenset(b for b in range(256) if b not in members and b != _SLASH)
    else:
        chosen = frozenset(members - {_SLASH})
    return Token(CLASS, members=chosen), i + 1


def _tokens(pat: bytes) -> list[Token] | None:
    """wildmatch's reading of a pattern (WM_PATHNAME): its tokens, or None when it can never
    match (a class wildmatch aborts on, a trailing unescaped backslash)."""
    out: list[Token] = []
    n = len(pat)
    i = 0
    while i < n:
        c = pat[i]
        if c == 0x5C:  # backslash
            if i + 1 >= n:
                return None
            out.append(Token(LIT, pat[i + 1]))
            i += 2
        elif c == 0x3F:  # ?
            out.append(Token(ONE))
            i += 1
        elif c == 0x5B:  # [
            parsed = _class(pat, i)
            if parsed is None:
                return None
            out.append(parsed[0])
            i = parsed[1]
        elif c == 0x2A:  # *
            j = i
            while j < n and pat[j] == 0x2A:
                j += 1
            at_start = i == 0 or pat[i - 1] == _SLASH
            if j - i >= 2 and at_start and j < n and pat[j] == _SLASH:
                out.append(Token(DIRS))  # **/ : nothing, or folders; the "/" is consumed
                j += 1
            elif j - i >= 2 and at_start and (j == n or pat.startswith(b"\\/", j)):
                out.append(Token(ANY))
            else:
                out.append(Token(STAR))
            i = j
        else:
            out.append(Token(LIT, c))
            i += 1
    return out


def wildmatch(pattern: bytes, text: bytes) -> bool:
    """git's wildmatch(pattern, text, WM_PATHNAME): whether ``text`` matches ``pattern``."""
    tokens = _tokens(pattern)
    return tokens is not None and Matcher(tokens).match(text)


def workspace_glob(pattern: str) -> Matcher:
    """A package.json ``workspaces`` glob: ``*`` and ``?`` stay within a folder, ``**`` spans
    folders (anywhere in the pattern), everything else is literal. It matches code points (a
    folder name's characters, ``[ord(c) for c in name]``), not bytes: ``?`` is one character."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(Token(ANY))
            i += 2
        elif pattern[i] == "*":
            out.append(Token(STAR))
            i += 1
        elif pattern[i] == "?":
            out.append(Token(ONE))
            i += 1
        else:
            out.append(Token(LIT, ord(pattern[i])))
            i += 1
    return Matcher(out)


@dataclass(frozen=True)
class Pattern:
    """One pattern line. ``body`` is the pattern without its ``!``, its trailing ``/`` and
    (for an anchored pattern) its leading ``/``; ``basename``: it has no other ``/`` and is
    matched against the last path component at any depth; ``literal``: the bytes it matches
    exactly, when it has no wildcard."""

    text: str  # the line as written (trailing spaces trimmed), for messages
    line: int
    negated: bool
    dir_only: bool
    basename: bool
    body: bytes
    matcher: Matcher | None = field(compare=False, repr=False)  # None: matches nothing
    literal: bytes | None = None
    suffix: bytes | None = None  # "*literal" patterns: the literal the name must end with
    needle: bytes = b""  # the longest run of literal bytes: a matching text contains it


def _trim(line: bytes) -> bytes:
    """git's trim_trailing_spaces: drop trailing spaces unless the first is escaped."""
    last_space = -1
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == 0x20:
            if last_space < 0:
                last_space = i
        elif c == 0x5C:
            i += 1
            if i >= n:
                return line
            last_space = -1
        else:
            last_space = -1
        i += 1
    return line[:last_space] if last_space >= 0 else line


def compile_pattern(raw: bytes, line: int = 0) -> Pattern | None:
    """One `.gitignore` line (without its LF) as a `Pattern`; None for a blank line or a
    comment. The line's length is not checked here (`parse_gitignore` caps it)."""
    if not raw or raw[0] == 0x23:  # "#"
        return None
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]  # git reads a line as a C string
    raw = _trim(raw)
    text = raw.decode("utf-8", "replace")
    body = raw
    negated = body.startswith(b"!")
    if negated:
        body = body[1:]
    dir_only = body.endswith(b"/")
    if dir_only:
        body = body[:-1]
    basename = _SLASH not in body
    if not basename and body.startswith(b"/"):
        body = body[1:]
    tokens = _tokens(body) if body else None
    if not tokens:
        return Pattern(text, line, negated, dir_only, basename, body, None)
    matcher = Matcher(tokens)
    literal: bytes | None = None
    suffix: bytes | None = None
    if all(t.kind == LIT for t in tokens):
        literal = bytes(t.byte for t in tokens)
    elif basename and tokens[0].kind == STAR and all(t.kind == LIT for t in tokens[1:]):
        suffix = bytes(t.byte for t in tokens[1:])
    needle = b""
    run: list[int] = []
    for token in (*tokens, Token(STAR)):
        if token.kind == LIT:
            run.append(token.byte)
        else:
            if len(run) > len(needle):
                needle = bytes(run)
            run = []
    return Pattern(text, line, negated, dir_only, basename, body, matcher, literal, suffix, needle)


def parse_line(text: str, line: int = 0) -> Pattern | None:
    """`compile_pattern` for a pattern written as text (a profile's ``exclude`` entry)."""
    return compile_pattern(text.encode("utf-8", "surrogateescape"), line)


# --------------------------------------------------------------------------- one file

# A pattern tried by its automaton, with what its pre-filters need: index, folders only, matched
# against the base name, shortest match, first byte (-1: any), longest literal run, automaton.
_Candidate = tuple[int, bool, bool, int, int, bytes, Matcher]


class PatternList:
    """The patterns of one `.gitignore` (or of a profile's exclude list), for paths below
    ``base`` (a repo-relative folder, "" for the root). `match` gives the last pattern that
    matches a path, negated or not."""

    def __init__(self, base: str, patterns: Iterable[Pattern]) -> None:
        self.base = base
        self._prefix = base + "/" if base else ""
        self.patterns = tuple(patterns)
        # index -> pattern; literal tables keep the highest index per key, for files (patterns
        # that are not folder-only) and for folders (every pattern)
        self._names_file: dict[bytes, int] = {}
        self._names_dir: dict[bytes, int] = {}
        self._paths_file: dict[bytes, int] = {}
        self._paths_dir: dict[bytes, int] = {}
        self._ends_file: dict[bytes, int] = {}
        self._ends_dir: dict[bytes, int] = {}
        suffix_lengths: set[int] = set()
        by_last: dict[int, list[_Candidate]] = {}  # last literal byte -> general patterns
        loose: list[_Candidate] = []  # general patterns whose last byte is not fixed
        for index, pattern in enumerate(self.patterns):
            if pattern.matcher is None:
                continue
            if pattern.literal is not None:
                tables = (
                    (self._names_dir, self._names_file)
                    if pattern.basename
                    else (self._paths_dir, self._paths_file)
                )
                tables[0][pattern.literal] = index
                if not pattern.dir_only:
                    tables[1][pattern.literal] = index
            elif pattern.suffix is not None:
                self._ends_dir[pattern.suffix] = index
                if not pattern.dir_only:
                    self._ends_file[pattern.suffix] = index
                suffix_lengths.add(len(pattern.suffix))
            else:
                m = pattern.matcher
                needle = pattern.needle if len(pattern.needle) > 1 else b""
                entry = (
                    index,
                    pattern.dir_only,
                    pattern.basename,
                    m.min_length,
                    m.first,
                    needle,
                    m,
                )
                if m.last >= 0:
                    by_last.setdefault(m.last, []).append(entry)
                else:
                    loose.append(entry)
        self._suffix_lengths = tuple(sorted(suffix_lengths))
        self._by_last = {k: v[::-1] for k, v in by_last.items()}  # descending index
        self._loose = loose[::-1]

    def __len__(self) -> int:
        return len(self.patterns)

    def match(self, rel: str, is_dir: bool, budget: Budget | None = None) -> Pattern | None:
        """The last pattern matching repo-relative ``rel`` (a path below ``base``), or None."""
        name = rel[len(self._prefix) :] if self._prefix else rel
        path = name.encode("utf-8", "surrogateescape")
        cut = path.rfind(b"/")
        base = path[cut + 1 :] if cut >= 0 else path
        names = self._names_dir if is_dir else self._names_file
        paths = self._paths_dir if is_dir else self._paths_file
        ends = self._ends_dir if is_dir else self._ends_file
        best = max(names.get(base, -1), paths.get(path, -1))
        units = 2
        for length in self._suffix_lengths:
            if length > len(base):
                break
            units += 1
            best = max(best, ends.get(base[len(base) - length :], -1))
        if budget is not None:
            budget.charge(units)
        last = path[-1] if path else -1
        found = self._general(self._by_last.get(last, ()), best, path, base, is_dir, budget)
        found = self._general(self._loose, found, path, base, is_dir, budget)
        return self.patterns[found] if found >= 0 else None

    def _general(
        self,
        candidates: Sequence[_Candidate],
        best: int,
        path: bytes,
        base: bytes,
        is_dir: bool,
        budget: Budget | None,
    ) -> int:
        """The highest index above ``best`` among ``candidates`` (descending) that matches."""
        tested = 0
        for index, dir_only, basename, min_length, first, needle, matcher in candidates:
            if index <= best:
                break
            tested += 1
            if budget is not None and tested >= 1024:  # charged as it goes: lists are long
                budget.charge(tested)
                tested = 0
            if dir_only and not is_dir:
                continue
            text = base if basename else path
            if len(text) < min_length:
                continue
            if first >= 0 and (not text or text[0] != first):
                continue
            if needle and needle not in text:
                continue
            if matcher.match(text, budget):
                best = index
                break
        if budget is not None and tested:
            budget.charge(tested)
        return best


@dataclass(frozen=True)
class Parsed:
    """A parsed `.gitignore`: its patterns and what was left out (sentences, empty when
    nothing was)."""

    patterns: PatternList
    problems: tuple[str, ...]


def parse_gitignore(
    data: bytes,
    base: str = "",
    *,
    size: int | None = None,
    max_patterns: int = MAX_PATTERNS,
    max_pattern_chars: int = MAX_PATTERN_CHARS,
) -> Parsed:
    """Parse a `.gitignore`'s bytes (at most `MAX_FILE_BYTES` of them should be passed;
    ``size`` is the file's full size when more was left unread: the last, partial line is then
    dropped and the cut reported). At most ``max_patterns`` patterns are kept; a pattern longer
    than ``max_pattern_chars`` bytes is dropped; each is reported once in ``problems``."""
    problems: list[str] = []
    if size is not None and size > len(data):
        cut = data.rfind(b"\n")
        data = data[: cut + 1] if cut >= 0 else b""
        problems.append(
            f"{size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit: only the lines in the "
            f"first {len(data):,} bytes were used"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    patterns: list[Pattern] = []
    long_lines: list[int] = []
    extra = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw or raw[0] == 0x23:
            continue
        if len(raw) > max_pattern_chars:
            long_lines.append(number)
            continue
        if len(patterns) >= max_patterns:
            extra += 1  # counted, not compiled
            continue
        pattern = compile_pattern(raw, number)
        if pattern is not None:
            patterns.append(pattern)
    if extra:
        problems.append(
            f"{len(patterns) + extra:,} patterns, over the {max_patterns:,}-pattern limit: "
            f"only the first {max_patterns:,} were used"
        )
    if long_lines:
        shown = ", ".join(str(n) for n in long_lines[:5])
        more = f" and {len(long_lines) - 5:,} more" if len(long_lines) > 5 else ""
        problems.append(
            f"{len(long_lines):,} pattern(s) longer than {max_pattern_chars:,} bytes were "
            f"not used (line {shown}{more})"
        )
    return Parsed(PatternList(base, patterns), tuple(problems))


# --------------------------------------------------------------------------- tracked files


class Tracked:
    """What git tracks, as a walk learns it (the root's index first, then the index of each
    nested repository or submodule it meets): files, the folders holding them, the folders git
    tracks as a whole (submodules), and folders below which every file counts as tracked (an
    index that could not be read: nothing there is hidden by a `.gitignore`).

    Paths are repo-relative with forward slashes. Lookups cost O(depth of the path)."""

    __slots__ = ("_all", "_dirs", "_files")

    def __init__(self, files: Iterable[str] = ()) -> None:
        self._files: set[str] = set(files)
        self._dirs: set[str] = _folders_of(self._files)
        self._all: set[str] = set()

    def add(self, prefix: str, files: Iterable[str], folders: Iterable[str] = ()) -> None:
        """The files and whole folders an index at folder ``prefix`` ("" for the root) tracks,
        relative to it."""
        head = prefix + "/" if prefix else ""
        new = {head + f for f in files}
        self._files |= new
        self._dirs |= _folders_of(new)
        for folder in folders:
            self._dirs.add(head + folder)
            self._dirs |= _folders_of((head + folder,))
        if prefix:
            self._dirs.add(prefix)
            self._dirs |= _folders_of((prefix,))

    def add_all(self, prefix: str) -> None:
        """Every file below folder ``prefix`` ("" for the root) counts as tracked."""
        self._all.add(prefix)
        if prefix:
            self._dirs.add(prefix)
            self._dirs |= _folders_of((prefix,))

    def _below_all(self, rel: str) -> bool:
        if not self._all:
            return False
        if "" in self._all or rel in self._all:
            return True
        cut = rel.rfind("/")
        while cut > 0:
            if rel[:cut] in self._all:
                return True
            cut = rel.rfind("/", 0, cut)
        return False

    def file(self, rel: str) -> bool:
        """Whether the file at ``rel`` is tracked."""
        return rel in self._files or self._below_all(rel)

    def folder(self, rel: str) -> bool:
        """Whether the folder at ``rel`` holds tracked files (or is tracked as a whole)."""
        return rel in self._dirs or self._below_all(rel)

    def __bool__(self) -> bool:
        return bool(self._files or self._dirs or self._all)


# --------------------------------------------------------------------------- a folder's rules


class Ignores:
    """The rules in force in one folder: the profile's exclude patterns (they apply whatever
    is tracked), then each `.gitignore` from the root down to this folder. Immutable:
    `with_gitignore` and `folder` return new objects for the walk's child folders.

    ``tracked`` (a `Tracked`, or the repo-relative paths of the files git tracks; None:
    nothing is known to be tracked) limits `.gitignore` to untracked files, as git applies it:
    a tracked file is never ignored, and an ignored folder holding tracked files is still
    entered (its untracked files are then all ignored). A `Tracked` may learn more paths while
    a walk goes on (a nested repository's index): the rules see them from then on."""

    __slots__ = ("_budget", "_covered", "_exclude", "_lists", "_tracked")

    def __init__(
        self,
        lists: tuple[PatternList, ...] = (),
        *,
        exclude: PatternList | None = None,
        tracked: Tracked | frozenset[str] | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._lists = lists
        self._exclude = exclude if exclude is not None and len(exclude) else None
        self._tracked: Tracked | None = (
            Tracked(tracked) if isinstance(tracked, frozenset) else tracked
        )
        self._budget = budget
        self._covered = False  # inside an ignored folder entered for its tracked files

    @property
    def budget(self) -> Budget | None:
        return self._budget

    def _copy(self, lists: tuple[PatternList, ...], covered: bool) -> Ignores:
        new = Ignores.__new__(Ignores)
        new._lists = lists
        new._exclude = self._exclude
        new._tracked = self._tracked
        new._budget = self._budget
        new._covered = covered
        return new

    def with_gitignore(self, patterns: PatternList) -> Ignores:
        """These rules and a `.gitignore` of the folder (applied after them)."""
        if not len(patterns):
            return self
        return self._copy((*self._lists, patterns), self._covered)

    def _excluded(self, rel: str, is_dir: bool) -> Pattern | None:
        if self._exclude is None:
            return None
        found = self._exclude.match(rel, is_dir, self._budget)
        return found if found is not None and not found.negated else None

    def _gitignored(self, rel: str, is_dir: bool) -> tuple[str, Pattern | None] | None:
        """(the folder of the `.gitignore`, the pattern) that ignores ``rel``; the pattern is
        None inside an ignored folder entered for its tracked files."""
        if self._covered:
            return "", None
        for patterns in reversed(self._lists):  # the deepest file first: its last match wins
            found = patterns.match(rel, is_dir, self._budget)
            if found is not None:
                return None if found.negated else (patterns.base, found)
        return None

    def ignored(self, rel: str) -> bool:
        """Whether the file at repo-relative ``rel`` (in this folder) is ignored."""
        return self.why_ignored(rel) is not None

    def why_ignored(self, rel: str, is_dir: bool = False) -> str | None:
        """Why the file (or, with ``is_dir``, the folder) at ``rel`` is left out, as a phrase
        for `--verbose`; None when it is not. For a folder this is what `folder` decides."""
        excluded = self._excluded(rel, is_dir)
        if excluded is not None:
            return f"excluded by the profile or --exclude (`{excluded.text}`)"
        tracked = self._tracked
        if tracked is not None and (tracked.folder(rel) if is_dir else tracked.file(rel)):
            return None
        found = self._gitignored(rel, is_dir)
        if found is None:
            return None
        base, pattern = found
        if pattern is None:
            return "untracked, inside a folder a .gitignore ignores"
        where = (base + "/" if base else "") + ".gitignore"
        return f"untracked and ignored by {where} line {pattern.line} (`{pattern.text}`)"

    def folder(self, rel: str) -> Ignores | None:
        """The rules in force inside the sub-folder ``rel`` (before its own `.gitignore` is
        added), or None when the walk must not enter it."""
        if self._excluded(rel, True) is not None:
            return None
        if self._gitignored(rel, True) is None:
            return self
        if self._tracked is not None and self._tracked.folder(rel):
            return self._copy(self._lists, True)
        return None


def _folders_of(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        cut = path.rfind("/")
        while cut > 0:
            folder = path[:cut]
            if folder in out:
                break
            out.add(folder)
            cut = folder.rfind("/")
    return out
