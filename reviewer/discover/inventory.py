"""One walk of a repository root that finds and classifies the files archreview reads.

The walk never executes or imports anything from the repository, never leaves the root
through a symbolic link, never loops, and never stops on bad input: every file it cannot
take (too large, binary, undecodable, unreadable, a link out of the root or into a loop)
is reported as a :class:`Skipped` entry and the walk goes on.

Symbolic links to folders inside the root are followed after the plain walk, so each real
folder is walked once, under its own path when it has one; a link to a folder that was
already walked is not followed again (its files are in the inventory already).

The walk's work is bounded by construction (:class:`reviewer.discover.gitignore.Budget`): it counts the
folder entries it looks at (each component of a symbolic link it resolves counts too) and the
work of matching `.gitignore` and ``exclude`` patterns (linear in pattern and path,
:mod:`reviewer.discover.gitignore`). When a count passes its limit the walk stops where it is, reports
the folder as skipped (reason ``over-budget``, detail starting "discovery:") and the scan goes
on with what was found. Each `.gitignore` is read up to 1 MB and 10,000 patterns; what is
left out of one is reported the same way, naming the file.

Nothing is opened in a way that can block: only regular files are read (checked before the
open and again on the open descriptor), and they are opened with ``O_NONBLOCK``, so a FIFO,
socket or device file that takes a file's place is never waited on.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reviewer.discover import gitignore
from reviewer.discover.gitignore import (
    Budget,
    Ignores,
    OverBudget,
    PatternList,
    Tracked,
    parse_gitignore,
    parse_line,
)
from reviewer.discover.gitindex import read_tracked

__all__ = [
    "DEFAULT_MAX_BYTES",
    "GENERATED_DIRS",
    "SKIP_DIRS",
    "Budget",
    "ContentKind",
    "FileKind",
    "Inventory",
    "LeftOut",
    "Module",
    "SkipReason",
    "Skipped",
    "SourceFile",
    "Submodule",
    "classify_text",
    "discover",
    "left_out_lines",
    "module_of",
    "parse_gitmodules",
    "read_text",
]

# "templating": a templating source (cookiecutter, Jinja, Go/Helm) that speaks of
# CloudFormation: listed so that the review says it was not reviewable (AR-MOD-006), never read
FileKind = Literal["template", "go_mod", "package_json", "gitmodules", "samconfig", "templating"]
SkipReason = Literal[
    "too-large",
    "binary",
    "undecodable",
    "symlink-outside-root",
    "symlink-loop",
    "unreadable",
    "over-budget",
]
ModuleKind = Literal["submodule", "go", "node", "folder", "root"]

DEFAULT_MAX_BYTES = 5_000_000

# The one list of generated and vendored folders the walk never enters, whatever their depth,
# with what they hold (printed by `scan --verbose`). Their content is either produced from the
# repository's sources (reviewed where they are written) or somebody else's code.
GENERATED_DIRS: dict[str, str] = {
    ".git": "git's own data",
    "node_modules": "installed Node packages",
    "vendor": "vendored dependencies (Go modules, PHP, Ruby)",
    "dist": "build output",
    "build": "build output",
    "target": "build output (Maven, Cargo)",
    ".next": "Next.js build output",
    ".aws-sam": "SAM build output (sam build), copies of the templates",
    "cdk.out": "CDK synthesised templates (cdk synth), generated from the CDK code",
    ".serverless": "Serverless Framework package output (CloudFormation it generated)",
    ".terraform": "Terraform providers and modules",
    "coverage": "test coverage reports",
    ".venv": "a Python virtual environment (installed packages)",
    "__pycache__": "Python bytecode",
    ".archreview-cache": "archreview's own cache",
}
SKIP_DIRS: frozenset[str] = frozenset(GENERATED_DIRS)

_SNIFF_EXTS = frozenset({".yaml", ".yml", ".json", ".template"})
_TEMPLATE_EXTS = frozenset({".yaml", ".yml", ".json"})
_FIXED_KINDS: dict[str, FileKind] = {
    "go.mod": "go_mod",
    "package.json": "package_json",
    "samconfig.toml": "samconfig",
}
_SNIFF_BYTES = 4096  # content test: first 4 KB
_PROBE_BYTES = 8192  # binary test: NUL bytes in the first 8 KB

_BOM_UTF8 = codecs.BOM_UTF8
_BOM_UTF16_LE = codecs.BOM_UTF16_LE
_BOM_UTF16_BE = codecs.BOM_UTF16_BE
_BOM_UTF32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)

_RE_TRANSFORM = re.compile(r"""(?m)^[ \t]*['"]?Transform['"]?[ \t]*:|"Transform"\s*:""")
_RE_RESOURCES = re.compile(r"""(?m)^['"]?Resources['"]?[ \t]*:|"Resources"\s*:\s*\{""")
_RE_TYPE_AWS = re.compile(r"""['"]?Type['"]?\s*:\s*['"]?AWS::""")

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class SourceFile:
    path: str  # repo-relative, forward slashes
    kind: FileKind
    module: str
    size: int


@dataclass(frozen=True)
class Skipped:
    path: str
    module: str
    reason: SkipReason
    detail: str  # a human sentence


@dataclass(frozen=True)
class Submodule:
    name: str
    path: str  # repo-relative
    url: str | None
    line: int  # 1-based line of the [submodule "..."] header in .gitmodules
    checked_out: bool  # folder exists and holds at least one entry


@dataclass(frozen=True)
class Module:
    name: str  # == path, or "." for the root
    path: str
    kind: ModuleKind


@dataclass(frozen=True)
class LeftOut:
    """A folder or file the walk left out on purpose (a generated or vendored folder, a path
    a .gitignore or the exclude list leaves out), for `--verbose`."""

    path: str
    why: str


@dataclass(frozen=True)
class Inventory:
    root: Path
    files: tuple[SourceFile, ...]  # sorted by path
    skipped: tuple[Skipped, ...]  # sorted by path
    modules: tuple[Module, ...]  # sorted by path, the root first
    submodules: tuple[Submodule, ...]  # in .gitmodules order
    left_out: tuple[LeftOut, ...] = ()  # sorted by path; at most MAX_LEFT_OUT
    # what the walk could not use (a git index it could not read): (repository file, message)
    notices: tuple[tuple[str, str], ...] = ()
    # the folders the walk listed whole without an entry named as a declaration of
    # architecture is (DECLARING_NAMES, *AGENT_SUFFIX); "." for the root
    quiet: frozenset[str] = frozenset()


# The names through which a folder declares its architecture (reviewer.profile.loader: a
# .archreview.yml, agent definitions under .claude/ .github/ docs/, *.agent.md files): a
# folder with none of them declares nothing, and its declaration need not be looked for.
DECLARING_NAMES = frozenset({".archreview.yml", ".archreview.yaml", ".claude", ".github", "docs"})
AGENT_SUFFIX = ".agent.md"


MAX_LEFT_OUT = 10_000


def left_out_lines(inventory: Inventory) -> list[str]:
    """What the walk left out, one line each, for `--verbose`."""
    lines = [f"{item.path}: {item.why}" for item in inventory.left_out]
    if len(inventory.left_out) >= MAX_LEFT_OUT:
        lines.append(f"(the list stops at {MAX_LEFT_OUT:,} entries)")
    return lines


# --------------------------------------------------------------------------- modules


def module_of(path: str, module_paths: Iterable[str]) -> str:
    """The module a repo-relative path belongs to: the nearest enclosing module folder
    (a path equal to a module folder belongs to it), else its top-level folder, else "."
    (the root module). "." in ``module_paths`` is the last resort, never an enclosing
    module of files in sub-folders."""
    return _module_of(path, frozenset(module_paths))


def _module_of(path: str, modules: frozenset[str]) -> str:
    if path in modules and path not in ("", "."):
        return path
    head = path
    while True:
        cut = head.rfind("/")
        if cut < 0:
            break
        head = head[:cut]
        if head in modules:
            return head
    cut = path.find("/")
    return path[:cut] if cut > 0 else "."


# --------------------------------------------------------------------------- decoding


def _too_large(size: int, max_bytes: int) -> str:
    return f"{size:,} bytes, over the {max_bytes:,}-byte limit"


def _decode(data: bytes, *, final: bool = True) -> str | tuple[SkipReason, str]:
    """Decode file bytes (the whole file, or its head when ``final`` is false).

    UTF-8 (a BOM is dropped) or UTF-16 with a BOM; binary when NUL bytes show in the first
    8 KB without a UTF-16 BOM; otherwise undecodable. CRLF becomes LF."""
    if data.startswith(_BOM_UTF32):
        return "undecodable", "UTF-32 text (byte-order mark found); only UTF-8 and UTF-16 are read"
    if data.startswith(_BOM_UTF16_LE) or data.startswith(_BOM_UTF16_BE):
        encoding = "utf-16-le" if data.startswith(_BOM_UTF16_LE) else "utf-16-be"
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(data[2:], final)
        except UnicodeDecodeError as exc:
            return "undecodable", (
                f"invalid {encoding.upper()} text at byte {exc.start + 2:,} "
                "after a UTF-16 byte-order mark"
            )
    else:
        if b"\x00" in data[:_PROBE_BYTES]:
            return "binary", "NUL bytes in the first 8 KB and no UTF-16 byte-order mark"
        skip = 3 if data.startswith(_BOM_UTF8) else 0
        try:
            text = codecs.getincrementaldecoder("utf-8")("strict").decode(data[skip:], final)
        except UnicodeDecodeError as exc:
            offset = exc.start + skip
            return "undecodable", (
                f"not UTF-8 (byte 0x{data[offset]:02x} at offset {offset:,}) "
                "and no UTF-16 byte-order mark"
            )
    return text.replace("\r\n", "\n")


def _lenient(head: bytes) -> str:
    """The first 4 KB decoded leniently, for the content test."""
    if head.startswith(_BOM_UTF16_LE):
        return head[2 : 2 + _SNIFF_BYTES].decode("utf-16-le", "replace")
    if head.startswith(_BOM_UTF16_BE):
        return head[2 : 2 + _SNIFF_BYTES].decode("utf-16-be", "replace")
    return head[:_SNIFF_BYTES].decode("utf-8-sig", "replace")


def _looks_like_template(text: str) -> bool:
    if "AWSTemplateFormatVersion" in text:
        return True
    if "AWS::Serverless" in text and _RE_TRANSFORM.search(text):
        return True
    return _RE_RESOURCES.search(text) is not None and _RE_TYPE_AWS.search(text) is not None


# --------------------------------------------------------------------------- content test
#
# Whether a file is a CloudFormation/SAM template is decided by its content, whatever its name
# (spec *What is scanned*), on the whole document within the size limit: its top-level keys say
# so (`AWSTemplateFormatVersion`; `Transform` naming AWS::Serverless; `Resources` holding an
# entry whose Type is AWS::... or Custom::...). The keys are read from the text, without
# parsing it, so a template with a syntax error is still recognised (and AR-MOD-003 reports
# the error), and a Helm chart, a Backstage entity or an Azure ARM template named
# template.yaml is not taken. Templating sources (cookiecutter, Jinja, Go/Helm templates) that
# mention CloudFormation are recognised and kept apart: they are not reviewable as written.

_CFN_MARKERS = ("AWSTemplateFormatVersion", "AWS::", "Custom::", "Alexa::")
# a line at column 0 that is not blank or a comment: where a top-level key may start
_RE_YAML_TOP = re.compile(r"(?m)^(?=[^\s#])")
# ":" ending a plain key: followed by a blank or the end of the line
_RE_KEY_COLON = re.compile(r":(?=[ \t\n]|$)")
_NOT_A_KEY = frozenset("-[]{}?&*!|>%@`,")
_RE_RESOURCE_TYPE = re.compile(
    r"""['"]?Type['"]?[ \t]*:[ \t]*[\['"]?[ \t]*['"]?(?:AWS|Custom|Alexa)::[A-Za-z0-9]"""
)
# templating syntax that no CloudFormation template holds: cookiecutter and Jinja variables,
# Go/Helm actions, Jinja statements. `{{resolve:...}}` (a CloudFormation dynamic reference)
# and `{% ... %}` JSONata expressions in Step Functions definitions do not match.
_RE_TEMPLATING = re.compile(
    r"\{\{-?\s*(?:cookiecutter\b|\.[A-Za-z_]|(?:if|else|end|range|with|define|template|include)\b)"
    r"|\{%-?\s*(?:if|elif|else|endif|for|endfor|set|endset|macro|endmacro|include|import|from"
    r"|block|endblock|extends|raw|endraw|call|endcall|filter|endfilter)\b"
)
# YAML only: `{{` where a value or an item starts (unquoted: YAML itself cannot read it)
_RE_TEMPLATING_VALUE = re.compile(
    r"(?m)^[ \t]*(?:-[ \t]+)?(?:[^\s#'\"{][^\n:#]*:[ \t]+)?\{\{(?![ \t]*resolve:)"
)

ContentKind = Literal["template", "templating"]


def _yaml_key(line: str) -> str | None:
    """The key a top-level YAML line starts with, if it starts with one. Linear in the line
    (no regular expression that can backtrack on a hostile line)."""
    first = line[0]
    if first in _NOT_A_KEY:
        return None
    if first in "'\"":
        close = line.find(first, 1)
        if close < 0:
            return None
        rest = line[close + 1 :].lstrip(" \t")
        if not rest.startswith(":") or not (len(rest) == 1 or rest[1] in " \t"):
            return None
        return line[1:close].replace("''", "'") if first == "'" else line[1:close]
    colon = _RE_KEY_COLON.search(line)
    if colon is None:
        return None
    key = line[: colon.start()].rstrip(" \t")
    return None if " #" in key or "\t#" in key else key


def _yaml_keys(text: str) -> dict[str, str]:
    """The top-level keys of a YAML text (every document in it), each with the text of its
    value (up to the next line at column 0; the first occurrence wins). Linear in the text."""
    keys: dict[str, str] = {}
    starts = [m.start() for m in _RE_YAML_TOP.finditer(text)]
    starts.append(len(text))
    for i in range(len(starts) - 1):
        start, end = starts[i], starts[i + 1]
        newline = text.find("\n", start, end)
        line_end = end if newline < 0 else newline
        key = _yaml_key(text[start:line_end])
        if key is not None:
            keys.setdefault(key.strip(), text[start:end])
    return keys


def _json_template(body: str, named: bool = False) -> bool | None:
    """Whether a JSON text's top-level keys make it a template (a file ``named`` as a
    template whose JSON has no keys at all is one); None when it does not parse as JSON (the
    caller then decides on its text)."""
    try:
        tree = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(tree, dict) or not tree:
        return named
    if "AWSTemplateFormatVersion" in tree:
        return True
    transform = tree.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    if any(isinstance(n, str) and n.startswith("AWS::Serverless") for n in names):
        return True
    resources = tree.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict)
        and isinstance(r.get("Type"), str)
        and r["Type"].startswith(("AWS::", "Custom::", "Alexa::"))
        for r in resources.values()
    )


def _cfn_keys(keys: dict[str, str]) -> bool:
    if "AWSTemplateFormatVersion" in keys:
        return True
    if "AWS::Serverless" in keys.get("Transform", ""):
        return True
    resources = keys.get("Resources")
    return resources is not None and _RE_RESOURCE_TYPE.search(resources) is not None


def classify_text(text: str, *, named: bool = False) -> ContentKind | None:
    """The kind of content: "template" when the text's top-level keys make it a
    CloudFormation/SAM template, "templating" when it is a templating source (cookiecutter,
    Jinja, Go/Helm) that speaks of CloudFormation, None otherwise. Linear in the text.

    ``named``: the file is named template.yaml/.yml/.json, as SAM names templates. The
    content still decides whenever it says anything (a document with top-level keys is a
    template only if they say so); a named file whose content says nothing - empty, comments
    only, not a mapping - is taken, so that AR-MOD-003 says what is wrong with it."""
    marked = any(marker in text for marker in _CFN_MARKERS)
    if not marked and not named:
        return None
    body = text.lstrip("\ufeff \t\n")
    is_json = body.startswith("{") or body.startswith("[")
    if _RE_TEMPLATING.search(text) or (
        not is_json and "{{" in text and _RE_TEMPLATING_VALUE.search(text)
    ):
        # a templating source that produces CloudFormation reads like a template
        return "templating" if marked and _looks_like_template(text) else None
    if is_json:
        decided = _json_template(body, named)
        if decided is not None:
            return "template" if decided else None
        # not valid JSON: a broken template is still one (AR-MOD-003 says why it does not parse)
        return "template" if _looks_like_template(body) else None
    if _starts_a_line(text, _VERSION_KEY):  # the common case, without listing every key
        return "template"
    keys = _yaml_keys(text)
    if not keys:
        return "template" if named else None
    return "template" if _cfn_keys(keys) else None


_VERSION_KEY = "AWSTemplateFormatVersion:"


def _starts_a_line(text: str, key: str) -> bool:
    """Whether a line of `text` starts with `key` (a plain top-level key and its colon)
    followed by a blank or the end of the line: `_yaml_keys` would then find that key, and
    `_cfn_keys` take the text for a template."""
    if text.startswith(key) and _blank_or_end(text, len(key)):
        return True
    at = text.find("\n" + key)
    while at >= 0:
        after = at + 1 + len(key)
        if _blank_or_end(text, after):
            return True
        at = text.find("\n" + key, after)
    return False


def _blank_or_end(text: str, at: int) -> bool:
    return at == len(text) or text[at] in " \t\n"


# --------------------------------------------------------------------------- reading


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _read_bytes(abs_path: str, max_bytes: int, limit: int | None) -> tuple[bytes, int]:
    """Read the first ``limit`` bytes of a regular file, or all of it when ``limit`` is
    None; returns (bytes, size on disk).

    The size is checked with stat before the file is opened (a file over ``max_bytes`` is
    never opened when all of it is wanted). Raises OSError when it cannot be read,
    _NotRegular for a folder, FIFO, socket or device, and _TooLarge."""
    st = os.stat(abs_path)
    if not stat.S_ISREG(st.st_mode):
        raise _NotRegular
    size = st.st_size
    if limit is None and size > max_bytes:
        raise _TooLarge(size)
    data = _read_fd(abs_path, max_bytes + 1 if limit is None else limit)
    if limit is None and len(data) > max_bytes:
        raise _TooLarge(len(data))  # it grew after the stat
    return data, max(size, len(data))


def _read_fd(abs_path: str, want: int) -> bytes:
    """Up to ``want`` bytes from the start of a regular file. O_NONBLOCK: should the file have
    been swapped for a FIFO after the caller's stat, do not hang on it; and the descriptor is
    checked to be a regular file before anything is read from it (a device, FIFO or socket
    raises _NotRegular)."""
    fd = os.open(abs_path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _NotRegular
        chunks: list[bytes] = []
        got = 0
        while got < want:
            chunk = os.read(fd, min(want - got, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except BlockingIOError as exc:
        raise _NotRegular from exc
    finally:
        os.close(fd)
    return b"".join(chunks)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _NotRegular(Exception):
    pass


def _unreadable(exc: OSError) -> str:
    why = exc.strerror or exc.__class__.__name__
    return f"cannot be read: {why}"


def read_text(
    root: Path | str,
    rel: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    module: str | None = None,
) -> str | Skipped:
    """The text of repo-relative file ``rel``, or a :class:`Skipped` saying why not.

    Size first (too-large, without reading), then bytes: binary when NUL bytes show in the
    first 8 KB and there is no UTF-16 BOM; UTF-8 (BOM dropped) or UTF-16 LE/BE with a BOM;
    else undecodable. CRLF is normalised to LF. A path whose real location is outside the
    root is not read. ``module`` names the module for the Skipped entry (default: the
    top-level folder). A text that `discover_and_keep` kept is taken instead (once)."""
    if _KEPT_TEXTS:
        kept = _KEPT_TEXTS.get((os.path.abspath(root), max_bytes))
        found = kept.pop(rel, None) if kept is not None else None
        if found is not None:
            return found
    mod = module if module is not None else _module_of(rel, frozenset())
    root_str = os.fspath(root)
    abs_path = os.path.join(root_str, *rel.split("/"))
    try:
        if not _inside(os.path.realpath(abs_path), _real_root(root_str)):
            return Skipped(rel, mod, "symlink-outside-root", _outside_detail(abs_path))
        data, _size = _read_bytes(abs_path, max_bytes, None)
    except _TooLarge as exc:
        return Skipped(rel, mod, "too-large", _too_large(exc.size, max_bytes))
    except _NotRegular:
        return Skipped(rel, mod, "unreadable", "not a regular file")
    except OSError as exc:
        return Skipped(rel, mod, "unreadable", _unreadable(exc))
    decoded = _decode(data)
    if isinstance(decoded, str):
        return decoded
    return Skipped(rel, mod, decoded[0], decoded[1])


_REAL_ROOTS: dict[str, str] = {}


def _real_root(root: str) -> str:
    """The root's real path, resolved once per scan rather than once per file read (a scan
    reads every discovered file; `forget_real_roots` clears it when the scan's reads end)."""
    real = _REAL_ROOTS.get(root)
    if real is None:
        if len(_REAL_ROOTS) > 64:
            _REAL_ROOTS.clear()
        real = _REAL_ROOTS[root] = os.path.realpath(root)
    return real


def forget_real_roots() -> None:
    _REAL_ROOTS.clear()


def _outside_detail(abs_path: str) -> str:
    try:
        target = os.readlink(abs_path)
    except OSError:
        return "a symbolic link on its path leads outside the repository root"
    return f"symbolic link to {target}, outside the repository root"


# --------------------------------------------------------------------------- .gitmodules

_RE_SECTION = re.compile(r"""^\[\s*submodule\s+"((?:[^"\\]|\\.)*)"\s*\]""", re.IGNORECASE)
_RE_OTHER_SECTION = re.compile(r"^\[")
_RE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


def _config_value(raw: str) -> str:
    """A git-config value: quotes removed, escapes resolved, an unquoted # or ; ends it."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(nxt, nxt))
            i += 1
        elif ch in "#;" and not quoted:
            break
        else:
            out.append(ch)
        i += 1
    return "".join(out).strip()


def _clean_rel(path: str) -> str | None:
    """A repo-relative folder path with forward slashes, or None if it leaves the root."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    return "/".join(parts)


def parse_gitmodules(text: str) -> list[tuple[str, str, str | None, int]]:
    """(name, path, url, header line) for each submodule with a usable path, in file order.

    git-config syntax: ``[submodule "name"]`` then ``path = ...`` / ``url = ...``; comments
    start with # or ;. A later entry for the same path is dropped. Never runs git."""
    entries: list[tuple[str, dict[str, str], int]] = []
    current: dict[str, str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        section = _RE_SECTION.match(stripped)
        if section:
            name = re.sub(r"\\(.)", r"\1", section.group(1))
            current = {}
            entries.append((name, current, number))
            continue
        if _RE_OTHER_SECTION.match(stripped):
            current = None
            continue
        key = _RE_KEY.match(stripped)
        if key and current is not None:
            current.setdefault(key.group(1).lower(), _config_value(key.group(2) or ""))
    out: list[tuple[str, str, str | None, int]] = []
    seen: set[str] = set()
    for name, values, number in entries:
        path = _clean_rel(values.get("path", ""))
        if path is None or path in seen:
            continue
        seen.add(path)
        url = values.get("url") or None
        out.append((name, path, url, number))
    return out


def _has_entries(abs_path: str) -> bool:
    try:
        with os.scandir(abs_path) as it:
            return any(True for _ in it)
    except OSError:
        return False


# --------------------------------------------------------------------------- the walk


@dataclass
class _Frame:
    abs: str  # path to open (may go through a followed symlink)
    rel: str  # repo-relative, "" for the root
    real: str  # real path of the folder
    chain: tuple[str, ...]  # real paths of the folder and its ancestors on this path
    ignores: Ignores  # the rules in force in the folder, before its own .gitignore


@dataclass
class _Link:
    abs: str
    rel: str
    parent: _Frame
    ignores: Ignores  # the ignore rules in force inside the folder the link stands for


def exclude_patterns(exclude: Iterable[str]) -> PatternList:
    """The profile's and the command line's ``exclude`` globs, as one root `.gitignore`."""
    found = (parse_line(line, number) for number, line in enumerate(exclude, start=1))
    return PatternList("", (p for p in found if p is not None))


class _Walker:
    def __init__(self, root: str, max_bytes: int, exclude: tuple[str, ...], budget: Budget) -> None:
        self.root = root
        self.root_real = os.path.realpath(root)
        self.max_bytes = max_bytes
        self.budget = budget
        # what git tracks: a .gitignore applies to untracked files only
        self.tracked = Tracked()
        self.notices: list[tuple[str, str]] = []
        self.left_out: list[LeftOut] = []
        self._index(root, "")
        self.ignores = Ignores(
            exclude=exclude_patterns(exclude), tracked=self.tracked, budget=budget
        )
        self.files: list[tuple[str, FileKind, int]] = []
        # (path, reason, detail, kind when it is a file of a known kind)
        self.skipped: list[tuple[str, SkipReason, str, FileKind | None]] = []
        self.visited: set[str] = set()
        self.links: list[_Link] = []
        self.quiet: list[str] = []  # folders listed whole without a declaring name
        # with `texts`, the text of each file found, as read_text would return it
        self.texts: dict[str, str] | None = None

    def _index(self, folder: str, rel: str) -> None:
        """Learn what the git index of the working tree at ``folder`` tracks. An index that
        cannot be read leaves the .gitignore files in force there, as if nothing were tracked,
        and says so."""
        if not os.path.lexists(os.path.join(folder, ".git")):
            return
        found = read_tracked(folder, self.root_real, shown=rel)
        self.budget.visit(len(found.files) // 64 + 1)
        if found.problem is not None:
            where = found.where if found.where.startswith(".git") or rel else ".git"
            self.notices.append(
                (
                    where,
                    f"{found.where}: {found.problem}; the .gitignore files are applied to "
                    f"every file{' below ' + rel if rel else ''}, tracked or not",
                )
            )
            return
        self.tracked.add(rel, found.files, found.folders)

    def _leave(self, rel: str, why: str) -> None:
        if len(self.left_out) < MAX_LEFT_OUT:
            self.left_out.append(LeftOut(rel, why))

    # ---- driving

    def run(self) -> None:
        root_frame = _Frame(self.root, "", self.root_real, (self.root_real,), self.ignores)
        self.visited.add(self.root_real)
        stack = [root_frame]
        where = "."
        try:
            while True:
                while stack:
                    frame = stack.pop()
                    where = frame.rel or "."
                    stack.extend(reversed(self._scan(frame)))
                if not self.links:
                    break
                self.links.sort(key=lambda link: link.rel, reverse=True)
                link = self.links.pop()
                where = link.rel
                followed = self._follow(link)
                if followed is not None:
                    stack.append(followed)
        except OverBudget as over:
            left = len(stack) + len(self.links)
            self._skip(
                where,
                "over-budget",
                f"discovery: {over.what} went over the limit of {over.limit:,} here, so the "
                "walk stopped: files in this folder after that point"
                + (f" and in {left:,} more folder(s) or link(s)" if left else "")
                + " were not looked at",
            )

    def _realpath(self, path: str) -> str:
        """os.path.realpath, charged to the entry budget by the components it resolves."""
        self.budget.visit(path.count(os.sep) + 1)
        return os.path.realpath(path)

    def _follow(self, link: _Link) -> _Frame | None:
        real = self._realpath(link.abs)
        if not _inside(real, self.root_real):
            self._skip(link.rel, "symlink-outside-root", _outside_detail(link.abs))
            return None
        if real in link.parent.chain:
            where = os.path.relpath(real, self.root_real).replace(os.sep, "/")
            self._skip(
                link.rel,
                "symlink-loop",
                f"symbolic link to {where}, a folder that encloses it: following it would loop",
            )
            return None
        if real in self.visited:
            return None  # walked already under its own path
        self.visited.add(real)
        return _Frame(link.abs, link.rel, real, (*link.parent.chain, real), link.ignores)

    def _skip(
        self, rel: str, reason: SkipReason, detail: str, kind: FileKind | None = None
    ) -> None:
        self.skipped.append((rel, reason, detail, kind))

    # ---- one folder

    def _scan(self, frame: _Frame) -> list[_Frame]:
        listed: list[os.DirEntry[str]] = []
        try:
            with os.scandir(frame.abs) as it:
                for entry in it:  # counted as listed: a huge folder stops at the budget
                    self.budget.visit()
                    listed.append(entry)
        except OSError as exc:
            self._skip(frame.rel or ".", "unreadable", _unreadable(exc))
            return []
        entries = sorted(listed, key=lambda e: e.name)
        if not any(declaring(entry.name) for entry in entries):
            self.quiet.append(frame.rel or ".")
        ignores = frame.ignores
        for entry in entries:
            if entry.name == ".gitignore":
                patterns = self._gitignore(entry, frame)
                if patterns is not None:
                    ignores = ignores.with_gitignore(patterns)
                break
        prefix = frame.rel + "/" if frame.rel else ""
        if frame.rel and any(entry.name == ".git" for entry in entries):
            self._index(frame.abs, frame.rel)  # a submodule's or a nested repository's
        children: list[_Frame] = []
        for entry in entries:
            name = entry.name
            if name == ".git":
                continue
            rel = prefix + name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if name in SKIP_DIRS:
                    self._leave(rel + "/", GENERATED_DIRS[name])
                    continue
                inner = ignores.folder(rel)
                if inner is None:
                    self._leave(rel + "/", ignores.why_ignored(rel, True) or "ignored")
                    continue
                if not _utf8_name(name):
                    self._skip(_printable(rel), "undecodable", "folder name is not valid UTF-8")
                    continue
                if entry.is_symlink():
                    self.links.append(_Link(entry.path, rel, frame, inner))
                    continue
                real = os.path.join(frame.real, name)
                self.visited.add(real)
                children.append(_Frame(entry.path, rel, real, (*frame.chain, real), inner))
            else:
                self._file(entry, name, rel, frame.rel == "", ignores)
        return children

    def _gitignore(self, entry: os.DirEntry[str], frame: _Frame) -> PatternList | None:
        """The folder's .gitignore, read as git reads it (bytes, any encoding) up to
        gitignore.MAX_FILE_BYTES; what is left out of it is reported (over-budget)."""
        rel = (frame.rel + "/" if frame.rel else "") + ".gitignore"
        if not entry.is_file():
            return None
        if entry.is_symlink() and not _inside(self._realpath(entry.path), self.root_real):
            return None
        try:
            st = entry.stat()
            if not stat.S_ISREG(st.st_mode):
                return None
            data = _read_fd(entry.path, gitignore.MAX_FILE_BYTES)
        except _NotRegular:
            return None
        except OSError as exc:
            self._skip(rel, "unreadable", _unreadable(exc))
            return None
        size = max(st.st_size, len(data))
        parsed = parse_gitignore(data, frame.rel, size=size if size > len(data) else None)
        if parsed.problems:
            self._skip(rel, "over-budget", "discovery: " + "; ".join(parsed.problems))
        return parsed.patterns

    # ---- one file

    def _file(
        self, entry: os.DirEntry[str], name: str, rel: str, at_root: bool, ignores: Ignores
    ) -> None:
        kind: FileKind | None = _FIXED_KINDS.get(name)
        sniff = False  # decided by content, whatever the name
        if kind is None:
            if at_root and name == ".gitmodules":
                kind = "gitmodules"
            else:
                stem, dot, ext = name.rpartition(".")
                if not dot or "." + ext.lower() not in _SNIFF_EXTS:
                    return
                sniff = True
                if stem == "template" and "." + ext.lower() in _TEMPLATE_EXTS:
                    # named as SAM names templates: when it cannot be read, it is reported as
                    # a template not reviewed (its content cannot say otherwise)
                    kind = "template"
        why = ignores.why_ignored(rel)
        if why is not None:
            if sniff or kind is not None:
                self._leave(rel, why)
            return
        # a candidate that cannot be read is reported whatever its name: its content is unknown
        if not _utf8_name(name):
            self._skip(_printable(rel), "undecodable", "file name is not valid UTF-8", kind)
            return
        is_link = entry.is_symlink()
        if is_link and not _inside(self._realpath(entry.path), self.root_real):
            self._skip(rel, "symlink-outside-root", _outside_detail(entry.path), kind)
            return
        try:
            st = entry.stat()
            if not stat.S_ISREG(st.st_mode):
                raise _NotRegular
            size = st.st_size
            if kind is not None and size > self.max_bytes:
                self._skip(rel, "too-large", _too_large(size, self.max_bytes), kind)
                return
            # a candidate is read whole (within the size limit): it is decided on its content
            want = self.max_bytes + 1 if sniff and size <= self.max_bytes else _PROBE_BYTES
            head = _read_fd(entry.path, want)
        except _NotRegular:
            if kind is not None:
                self._skip(rel, "unreadable", "not a regular file", kind)
            return
        except FileNotFoundError as exc:
            if kind is not None:
                detail = "broken symbolic link" if is_link else _unreadable(exc)
                self._skip(rel, "unreadable", detail, kind)
            return
        except OSError as exc:
            self._skip(rel, "unreadable", _unreadable(exc), kind)
            return
        size = max(size, len(head))
        if sniff:
            self._candidate(rel, head, size, kind)
            return
        assert kind is not None
        decoded = _decode(head, final=size <= len(head))
        if isinstance(decoded, str):
            self.files.append((rel, kind, size))
            if self.texts is not None and size <= len(head):  # read whole
                self.texts[rel] = decoded
        else:
            self._skip(rel, decoded[0], decoded[1], kind)

    def _candidate(self, rel: str, data: bytes, size: int, kind: FileKind | None) -> None:
        """A .yaml/.yml/.json/.template file, read whole: a template, a templating source or
        nothing, by its content. ``kind`` is "template" for a file named template.*: one that
        cannot be decoded is then reported, not dropped."""
        if size > self.max_bytes:  # only its head was read: decided on that
            if _looks_like_template(_lenient(data[:_PROBE_BYTES])):
                self._skip(rel, "too-large", _too_large(size, self.max_bytes), "template")
            return
        utf16 = data.startswith(_BOM_UTF16_LE) or data.startswith(_BOM_UTF16_BE)
        if not utf16 and kind is None and not any(m.encode() in data for m in _CFN_MARKERS):
            return  # cannot be a template: nothing to decode
        text = _decode(data)
        if not isinstance(text, str):
            if kind is not None or _looks_like_template(_lenient(data[:_PROBE_BYTES])):
                self._skip(rel, text[0], text[1], "template")
            return
        found = classify_text(text, named=kind is not None)
        if found is not None:
            self.files.append((rel, found, size))
            if self.texts is not None:
                self.texts[rel] = text


def declaring(name: str) -> bool:
    """Whether a folder's entry `name` may declare its architecture (DECLARING_NAMES)."""
    return name in DECLARING_NAMES or name.lower().endswith(AGENT_SUFFIX)


def _utf8_name(name: str) -> bool:
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# --------------------------------------------------------------------------- discover

_KIND_RANK: dict[str, int] = {"submodule": 3, "go": 2, "node": 1}


def discover(
    root: Path | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: tuple[str, ...] = (),
    budget: Budget | None = None,
    texts: dict[str, str] | None = None,
) -> Inventory:
    """Walk ``root`` once and return what is in it: templates, go.mod, package.json, the
    root .gitmodules and samconfig.toml files, the files skipped (with the reason), the
    modules and the submodules. Raises NotADirectoryError when ``root`` is not a folder.

    ``budget`` bounds the walk (default: `Budget()`'s limits); the caller may pass one to
    set other limits or to read the work done afterwards. With ``texts``, the text of every
    file of the inventory that the walk read whole (it decides a template by its content) is
    put there by path, as `read_text` gives it: the walk has read and decoded it already."""
    root_path = Path(root)
    root_str = os.fspath(root_path)
    if not os.path.isdir(root_str):
        raise NotADirectoryError(f"{root_str} is not a folder")
    walker = _Walker(root_str, max_bytes, tuple(exclude), budget or Budget())
    walker.texts = texts
    walker.run()

    # Submodules, from the root .gitmodules when it was found and could be read.
    submodules: list[Submodule] = []
    if any(path == ".gitmodules" for path, _, _ in walker.files):
        text = read_text(root_path, ".gitmodules", max_bytes, module=".")
        if isinstance(text, str):
            for name, path, url, line in parse_gitmodules(text):
                abs_path = os.path.join(root_str, *path.split("/"))
                checked_out = (
                    _inside(os.path.realpath(abs_path), walker.root_real)
                    and os.path.isdir(abs_path)
                    and _has_entries(abs_path)
                )
                submodules.append(Submodule(name, path, url, line, checked_out))
        else:
            walker.files = [f for f in walker.files if f[0] != ".gitmodules"]
            if texts is not None:
                texts.pop(".gitmodules", None)
            walker.skipped.append((text.path, text.reason, text.detail, "gitmodules"))

    # Modules: submodules, then folders holding go.mod or package.json.
    kinds: dict[str, ModuleKind] = {}
    for sub in submodules:
        kinds[sub.path] = "submodule"
    manifests = [(p, k) for p, k, _ in walker.files] + [
        (p, k) for p, _, _, k in walker.skipped if k is not None
    ]
    for path, kind in manifests:
        if kind not in ("go_mod", "package_json"):
            continue
        folder = path.rpartition("/")[0] or "."
        new: ModuleKind = "go" if kind == "go_mod" else "node"
        old = kinds.get(folder)
        if old is None or _KIND_RANK[new] > _KIND_RANK[old]:
            kinds[folder] = new
    module_set = frozenset(kinds)

    files = sorted(
        (SourceFile(p, k, _module_of(p, module_set), s) for p, k, s in walker.files),
        key=lambda f: f.path,
    )
    skipped = sorted(
        (Skipped(p, _module_of(p, module_set), r, d) for p, r, d, _ in walker.skipped),
        key=lambda s: (s.path, s.reason),
    )
    for module in {f.module for f in files} | {s.module for s in skipped}:
        if module not in kinds:
            kinds[module] = "root" if module == "." else "folder"
    modules = sorted(
        (Module(name, name, kind) for name, kind in kinds.items()),
        key=lambda m: (m.path != ".", m.path),
    )
    return Inventory(
        root_path,
        tuple(files),
        tuple(skipped),
        tuple(modules),
        tuple(submodules),
        tuple(sorted(walker.left_out, key=lambda item: item.path)),
        tuple(walker.notices),
        frozenset(walker.quiet),
    )


# -- one walk per command ------------------------------------------------------------------------

_KEPT: dict[tuple[str, int, tuple[str, ...]], Inventory] = {}
# the texts the kept walks read, by (root, max_bytes): each is given once to `read_text`
_KEPT_TEXTS: dict[tuple[str, int], dict[str, str]] = {}


def _kept_key(
    root: Path | str, max_bytes: int, exclude: tuple[str, ...]
) -> tuple[str, int, tuple[str, ...]]:
    return (os.path.abspath(root), max_bytes, tuple(exclude))


def discover_and_keep(
    root: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, exclude: tuple[str, ...] = ()
) -> Inventory:
    """`discover`, kept for the scan that follows in this process: the command line walks the
    tree to key its output replay, and on a miss the scan must not walk it again. Taken by
    `discover_once`, or dropped by `forget_kept` (reviewer.cache.store.forget_reads).

    The text of each file the walk read whole is kept as well, and the next `read_text` of
    that file (with the same root and `max_bytes`) takes it instead of reading the file again:
    the replay key digests every file's text right after this walk."""
    texts: dict[str, str] = {}
    inventory = discover(root, max_bytes=max_bytes, exclude=exclude, texts=texts)
    _KEPT[_kept_key(root, max_bytes, exclude)] = inventory
    _KEPT_TEXTS[(os.path.abspath(root), max_bytes)] = texts
    return inventory


def discover_once(
    root: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, exclude: tuple[str, ...] = ()
) -> Inventory:
    """The inventory `discover_and_keep` kept for this root and these settings, else a walk."""
    kept = _KEPT.pop(_kept_key(root, max_bytes, exclude), None)
    return kept if kept is not None else discover(root, max_bytes=max_bytes, exclude=exclude)


def forget_kept() -> None:
    _KEPT.clear()
    _KEPT_TEXTS.clear()
