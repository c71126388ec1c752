"""SARIF 2.1.0 for GitHub code scanning.

One run; every rule of the run in tool.driver.rules (name, short and full description, help text
and Markdown from the ADR text, an absolute helpUri, tags, precision, security-severity, default
level); one result per unsuppressed finding with a single-line region at the property, the
resource and the finding's related locations (with what each adds) as related locations, its
persona in the result's properties (the run's persona and the findings it left out, per persona,
in the run's) and two partial fingerprints: `primaryLocationLineHash`, computed
the way GitHub's upload action computes it (so uploads through the REST API match uploads through
the Action), and our logical fingerprint under `archreview/v2` (list items named by what
identifies them, never by index: reviewer.findings.fingerprint).

Artifact URIs are relative to the enclosing git repository and percent-encoded (RFC 3986: a
file name with a space, `<`, `#` or a newline is still one valid URI). A finding in a file of a
git submodule is anchored at the submodule's line in `.gitmodules` (code scanning resolves only
files of the repository that was checked out), and its message names the submodule, the file
and line in it and a link to that line at the recorded commit (reviewer.outputs.submodules).

A finding with a fix (issue 22) carries it as the result's `fixes`: one fix, its description and
its safety (`properties.safety`: safe | unsafe), with one `artifactChanges` entry per file and a
replacement per edit (`deletedRegion` with all four of startLine, startColumn, endLine and
endColumn, 1-based, end exclusive, in Unicode code points as the run's `columnKind` says; an
insertion is an empty region; `insertedContent.text` is the replacement exactly, line breaks
included). A fix that touches a file of a submodule or a deployed stack, or whose text is too
large to carry exactly, is left out.

Findings on deployed stacks (file `aws://...`) have no file in the repository and are left out.
GitHub ignores SARIF suppressions, so suppressed findings are left out unless asked for.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reviewer.core.fixes import Fix
from reviewer.core.types import (
    LAYER_LABELS,
    AdrText,
    Confidence,
    Finding,
    Reference,
    Report,
    RuleInfo,
    Severity,
)
from reviewer.outputs import RenderOptions
from reviewer.outputs.fixdiff import exact_text
from reviewer.outputs.limits import clip, clip_opt, clip_path
from reviewer.outputs.submodules import Submodules, encode_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "archreview/v2"  # reviewer.findings.fingerprint.SCHEME
LINE_HASH_KEY = "primaryLocationLineHash"

# GitHub code scanning limits (docs: "SARIF results exceed limit").
MAX_RESULTS = 25_000
MAX_RELATED = 100  # locations shown per result (1,000 accepted)
MAX_TAGS = 10  # tags shown per rule (20 accepted)
MAX_DESCRIPTION = 1_024
MAX_HASHED_BYTES = 5_000_000  # the scan's default --max-file-size; larger: the upload action hashes

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
_FALLBACK_HOMEPAGE = "https://github.com/archreview/archreview"


# -- primaryLocationLineHash ------------------------------------------------------------------
#
# GitHub's upload action (github/codeql-action, src/fingerprints.ts) fills in
# partialFingerprints.primaryLocationLineHash when a result lacks it; uploads through the REST
# API do not. The algorithm, re-implemented here from its description:
#
# * the file is read as UTF-8 and walked one UTF-16 code unit at a time;
# * spaces and tabs are skipped, CR becomes LF, and an LF right after a CR is skipped (any
#   skipped character clears the "after a CR" state);
# * a rolling polynomial hash over the last 100 kept characters, base 37, in wrapping 64-bit
#   arithmetic: h = 37 * h + c - 37**100 * (the character leaving the window);
# * after the last character the value 65535 is fed once, then 100 zeros;
# * the hash of a line is taken when the window starts at the line's first kept character,
#   i.e. it covers the 100 kept characters from the start of that line on; it is written as
#   unsigned lower-case hex without padding, followed by ":" and the number of times that hex
#   value has been seen so far in the file (":1" for the first).

_BLOCK = 100
_BASE = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_BASE, _BLOCK, 1 << 64)
_EOF = 65535
_LF = 10


def _utf16_units(text: str) -> array[int]:
    units = array("H")
    units.frombytes(text.encode("utf-16-le", errors="surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return units


def line_hashes(text: str) -> list[str]:
    """primaryLocationLineHash of every line of `text`: element i is the hash of line i + 1.

    A text ending in a line break has one more entry (the empty line after it), like GitHub's.
    """
    hashes = LineHashes(text)
    hashes.hash_of(len(hashes.starts))
    return hashes.done


class LineHashes:
    """The line hashes of a text, made as far as they are asked for (a report's findings in a
    file are in line order: a file is hashed up to its last finding's line, once).

    Computed from prefix hashes rather than by rolling the window: with `h[i]` the hash of
    the first i kept code units (h[i + 1] = 37 * h[i] + c[i]), the window of the 100 units
    from s hashes to h[s + 100] - 37**100 * h[s], all modulo 2**64. The kept units are the
    text's with line breaks normalised and spaces and tabs removed up front (CRLF -> LF first,
    so that a CR, a space and an LF are two line breaks, as in the walk described above).
    tests/test_sarif.py holds it to GitHub's published values, tests/test_sarif_linehash.py
    to that walk."""

    def __init__(self, text: str) -> None:
        kept = text.replace("\r\n", "\n").replace("\r", "\n").translate(_DROPPED)
        units = _utf16_units(kept)
        self.starts = [0]  # where each line starts: at the first unit, and after each LF
        find = units.index
        try:
            at = 0
            while True:
                at = find(_LF, at) + 1
                self.starts.append(at)
        except ValueError:
            pass
        units.extend(_PADDING)  # after the text: 65535 once, then zeros
        self._units = units
        self._prefix = [0]
        self._seen: dict[str, int] = {}
        self.done: list[str] = []  # the hashes of lines 1.. so far

    def hash_of(self, line: int) -> str | None:
        """The hash of 1-based `line`, or None past the text's lines."""
        if not 1 <= line <= len(self.starts):
            return None
        done = self.done
        if line > len(done):
            prefix = self._prefix
            end = self.starts[line - 1] + _BLOCK + 1  # the prefix hashes needed: h[0..end)
            if end > len(prefix):
                append = prefix.append
                value = prefix[-1]
                for current in self._units[len(prefix) - 1 : end - 1]:
                    value = (_BASE * value + current) & _MASK
                    append(value)
            seen = self._seen
            for start in self.starts[len(done) : line]:
                key = format((prefix[start + _BLOCK] - _FIRST_MOD * prefix[start]) & _MASK, "x")
                count = seen[key] = seen.get(key, 0) + 1
                done.append(f"{key}:{count}")
        return done[line - 1]


_DROPPED = str.maketrans("", "", " \t")
_PADDING = array("H", [_EOF] + [0] * _BLOCK)


def _read(path: Path) -> str | None:
    """A file's text as GitHub reads it (UTF-8, invalid bytes replaced), or None when it is
    over MAX_HASHED_BYTES or cannot be read."""
    try:
        if path.stat().st_size > MAX_HASHED_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


# -- the document -----------------------------------------------------------------------------


@cache
def homepage() -> str:
    """The project URL from pyproject.toml ([project.urls] Homepage), as installed."""
    from importlib import metadata

    try:
        urls = metadata.metadata("archreview").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() == "homepage" and url.strip().startswith("https://"):
            return url.strip().rstrip("/")
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            url = str(data["project"]["urls"]["Homepage"])
            if url.startswith("https://"):
                return url.rstrip("/")
        except (KeyError, TypeError, ValueError):
            pass
    return _FALLBACK_HOMEPAGE


def help_uri(rule_id: str) -> str:
    return f"{homepage()}/blob/main/docs/rules/{rule_id}.md"


def rule_help_uri(rule: RuleInfo, root: Path, head: tuple[str | None, str | None]) -> str | None:
    """A built-in rule's page in archreview's docs; a repository's own rule (its `source`):
    the rule file at the head commit of the scanned repository (`head`: its browse URL and
    commit, `head_of`), or None when either is unknown (no link rather than one to
    archreview's docs, which do not describe the rule)."""
    if not rule.source:
        return help_uri(rule.id)
    from reviewer.outputs.submodules import browse_url

    return browse_url(head[0], head[1], repo_prefix(root) + rule.source, 1)


def head_of(root: Path) -> tuple[str | None, str | None]:
    """(repository URL, head commit) of the git repository enclosing `root`: GitHub Actions'
    GITHUB_SERVER_URL/GITHUB_REPOSITORY, else the `origin` remote; `git rev-parse HEAD`, else
    GITHUB_SHA. Git runs with fixed arguments (reviewer.discover.git); (None, None) outside one."""
    import contextlib
    import os

    from reviewer.outputs.submodules import top_of

    found = top_of(root)
    if found is None:
        return None, None
    top = found[0]
    url: str | None = None
    commit: str | None = None
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if server and repo:
        url = f"{server.rstrip('/')}/{repo}"
    with contextlib.suppress(Exception):  # no git, a timeout, no remote: no link
        from reviewer.discover.git import git

        out = git(["rev-parse", "HEAD"], top, check=False)
        if out.returncode == 0:
            commit = out.stdout.decode("ascii", "replace").strip()
        if url is None:
            remote = git(["remote", "get-url", "origin"], top, check=False)
            if remote.returncode == 0:
                url = remote.stdout.decode("utf-8", "replace").strip()
    return url, commit or os.environ.get("GITHUB_SHA")


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _help(rule: RuleInfo) -> dict[str, str]:
    adr = rule.adr
    refs = list(adr.references)
    if rule.source:  # a repository's own rule: its text is inert in the Markdown help
        from dataclasses import replace

        from reviewer.outputs.markdown import text as md

        plain_title = rule.title
        rule = replace(rule, title=md(rule.title), layer_label=md(rule.layer_label))
        adr = AdrText(
            md(adr.context, 4000),
            md(adr.decision, 4000),
            md(adr.consequences, 4000),
            tuple(Reference(md(r.title), r.url) for r in adr.references),
        )
        md_refs = list(adr.references)
        text_help = _help_text(replace(rule, title=plain_title), rule.adr, refs)
        return {"text": text_help, "markdown": _help_markdown(rule, adr, md_refs)}
    return {"text": _help_text(rule, adr, refs), "markdown": _help_markdown(rule, adr, refs)}


def _help_text(rule: RuleInfo, adr: AdrText, refs: list[Reference]) -> str:
    text = [
        rule.title,
        "",
        f"Layer: {rule.layer_label or LAYER_LABELS.get(rule.layer, rule.layer)}. Severity: {rule.severity}. "
        f"Confidence: {rule.confidence}.",
        "",
        f"Context: {adr.context}",
        "",
        f"Decision: {adr.decision}",
        "",
        f"Consequences: {adr.consequences}",
    ]
    if refs:
        text += ["", "References:", *(f"- {r.title}: {r.url}" for r in refs)]
    return "\n".join(text)


def _help_markdown(rule: RuleInfo, adr: AdrText, refs: list[Reference]) -> str:
    md = [
        f"**{rule.title}**",
        "",
        f"Layer **{rule.layer_label or LAYER_LABELS.get(rule.layer, rule.layer)}** · severity **{rule.severity}**"
        f" · confidence **{rule.confidence}**",
        "",
        "#### Context",
        "",
        adr.context,
        "",
        "#### Decision",
        "",
        adr.decision,
        "",
        "#### Consequences",
        "",
        adr.consequences,
    ]
    if refs:
        md += ["", "#### References", "", *(f"- [{r.title}]({r.url})" for r in refs)]
    return "\n".join(md)


def _rule_from_finding(f: Finding) -> RuleInfo:
    return RuleInfo(
        id=f.rule_id,
        name=f.rule_id,
        title=f.title,
        layer=f.layer,
        severity=f.severity,
        confidence=f.confidence,
        description=f.title,
        adr=AdrText(f.adr.context, f.adr.decision, f.adr.consequences, f.adr.references),
        tags=("security", f.layer),
    )


def _rules(report: Report, findings: Sequence[Finding]) -> list[RuleInfo]:
    """Every rule of the run, plus any rule a finding names that the report does not list."""
    known: dict[str, RuleInfo] = {r.id: r for r in report.rules}
    missing = sorted({f.rule_id for f in findings} - set(known))
    if missing:
        from reviewer.checks.catalogue import load_catalogue

        catalogue = load_catalogue()
        for rule_id in missing:
            meta = catalogue.get(rule_id)
            if meta is not None:
                known[rule_id] = meta.info()
            else:
                known[rule_id] = _rule_from_finding(
                    next(f for f in findings if f.rule_id == rule_id)
                )
    return [known[k] for k in sorted(known)]


def _tags(rule: RuleInfo) -> list[str]:
    tags = ["security", rule.layer, *rule.tags]
    return list(dict.fromkeys(t for t in tags if t))[:MAX_TAGS]


def _descriptor(rule: RuleInfo, severity: Severity, uri: str | None = None) -> dict[str, Any]:
    link = {} if rule.source and uri is None else {"helpUri": uri or help_uri(rule.id)}
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _clip(rule.title)},
        "fullDescription": {"text": _clip(rule.description)},
        "help": _help(rule),
        **link,
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "tags": _tags(rule),
            "precision": _PRECISION[rule.confidence],
            "security-severity": f"{severity.number:.1f}",
            "problem.severity": _PROBLEM_SEVERITY[severity],
        },
    }


_PROBLEM_SEVERITY = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "recommendation",
    Severity.INFO: "recommendation",
}


def repo_prefix(root: Path) -> str:
    """The scanned root relative to the enclosing git repository ('' at its top), so that
    artifact URIs are relative to the repository GitHub knows, not to a scanned sub-folder."""
    try:
        start = root.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python 3.11)
        return ""
    for parent in (start, *start.parents):
        if (parent / ".git").exists():
            rel = start.relative_to(parent).as_posix()
            return "" if rel == "." else rel + "/"
    return ""


_REPO_LEVEL_FALLBACKS = (".gitmodules", ".archreview.yml", ".archreview.yaml")


def _uri_file(root: Path, file: str) -> str:
    """The file a result points at, never empty: repository-level findings without a file point
    at .gitmodules (or the profile)."""
    clean = clip_path(file).replace("\\", "/").lstrip("/")
    while clean.startswith("./"):
        clean = clean[2:]
    if clean and clean != ".":
        return clean
    for candidate in _REPO_LEVEL_FALLBACKS:
        if (root / candidate).is_file():
            return candidate
    return _REPO_LEVEL_FALLBACKS[0]


def _inside(root: Path, file: str, base: Path | None = None) -> Path | None:
    """`root / file` resolved, when it is a file below `root` (`base`: root resolved)."""
    try:
        base = base or root.resolve()
        path = (root / file).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            return None
    except (OSError, RuntimeError, ValueError):  # a name too long, a link loop, a NUL byte
        return None
    return path


_RESOURCES = re.compile(r"""^\s*["']?Resources["']?\s*:""")
_KEY_AT_START = re.compile(r"""^(\s*)["']?([^"'\s:]+)["']?\s*:""")


def declarations(lines: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Line and column where each logical id is first written at the start of a line below
    `Resources` (YAML or JSON): one pass over the file, however many findings point into it."""
    found = [i for i, line in enumerate(lines) if _RESOURCES.match(line)]
    if not found:
        return {}
    top = [i for i in found if not lines[i][:1].isspace()]  # YAML: the top-level key
    start = (top or found)[0]
    out: dict[str, tuple[int, int]] = {}
    for i in range(start + 1, len(lines)):
        m = _KEY_AT_START.match(lines[i])
        if m:
            out.setdefault(m.group(2), (i + 1, len(m.group(1)) + 1))
    return out


class _Files:
    """Lazily read source files below the scanned root (for line hashes and resource lines)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.submodules = Submodules(root)
        self._hashes: dict[str, LineHashes | None] = {}
        self._lines: dict[str, list[str] | None] = {}
        self._texts: dict[str, str | None] = {}  # read once for both of the above
        self._base: Path | bool | None = None  # the root resolved (False: it cannot be)
        self._declarations: dict[str, dict[str, tuple[int, int]]] = {}

    def declaration(self, file: str, logical_id: str) -> tuple[int, int] | None:
        """Where `logical_id` is declared in `file` (see `declarations`), or None."""
        known = self._declarations.get(file)
        if known is None:
            lines = self.lines(file)
            known = self._declarations[file] = declarations(lines) if lines is not None else {}
        return known.get(logical_id)

    def gitmodules_hash(self, region: Mapping[str, int]) -> str | None:
        """The line hash of a submodule's line in the repository's .gitmodules."""
        key = "\0.gitmodules"
        if key not in self._hashes:
            path = _inside(self.submodules.top, ".gitmodules")
            text = _read(path) if path is not None else None
            self._hashes[key] = LineHashes(text) if text is not None else None
        hashes = self._hashes[key]
        return hashes.hash_of(region.get("startLine", 1)) if hashes is not None else None

    def hash_of(self, file: str, line: int) -> str | None:
        if file not in self._hashes:
            text = self._text(file)
            self._hashes[file] = LineHashes(text) if text is not None else None
        hashes = self._hashes[file]
        return hashes.hash_of(line) if hashes is not None else None

    def lines(self, file: str) -> list[str] | None:
        if file not in self._lines:
            text = self._text(file)
            # (str.splitlines breaks at CR, LF and CRLF alike: as reading with universal
            # newlines, then splitting, would)
            self._lines[file] = text.splitlines() if text is not None else None
        return self._lines[file]

    def _text(self, file: str) -> str | None:
        if file not in self._texts:
            if self._base is None:
                try:
                    self._base = self.root.resolve()
                except (OSError, RuntimeError):  # no file below it can be read (`_inside`)
                    self._base = False
            base = self._base
            path = _inside(self.root, file, base) if isinstance(base, Path) else None
            self._texts[file] = _read(path) if path is not None else None
        return self._texts[file]


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    start = max(line, 1)
    region = {"startLine": start}
    if column >= 1:
        region["startColumn"] = column
        if end_line == line and end_column > column:
            region["endColumn"] = end_column
    return region


def _physical(uri: str, region: dict[str, int]) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": encode_path(uri), "uriBaseId": "%SRCROOT%"},
        "region": region,
    }


def _place(
    file: str, region: dict[str, int], uri_prefix: str, files: _Files
) -> tuple[dict[str, Any], str]:
    """The physical location of `region` in `file` (relative to the scanned root), and a note
    for the message: empty, or where a finding inside a submodule really is (it is shown at the
    submodule's line in .gitmodules)."""
    anchor = files.submodules.anchor(file, region["startLine"])
    if anchor is None:
        return _physical(uri_prefix + file, region), ""
    where = f"{clip_path(anchor.inner)}:{region['startLine']}"
    note = f" (in submodule {clip_path(anchor.submodule)} at {where}"
    note += f": {anchor.url})" if anchor.url else ")"
    return _physical(anchor.gitmodules, {"startLine": max(anchor.line, 1)}), note


def _result(
    f: Finding, rule_index: int, uri_prefix: str, files: _Files, include_suppressed: bool
) -> dict[str, Any]:
    file = _uri_file(files.root, f.file)
    line = max(f.line, 1)
    physical, note = _place(
        file, _region(line, f.column, f.end_line, f.end_column), uri_prefix, files
    )
    location: dict[str, Any] = {"physicalLocation": physical}
    resource = clip_opt(f.resource)
    if resource:
        fq = f"{resource}.{clip(f.property)}" if f.property else resource
        location["logicalLocations"] = [
            {"name": resource, "fullyQualifiedName": fq, "kind": "resource"}
        ]
    related: list[dict[str, Any]] = []
    if resource and f.resource_type:  # a template resource (not a dependency name)
        decl = files.declaration(file, resource)
        rline, rcol = decl if decl is not None else (line, max(f.column, 1))
        what = f"{resource} ({clip(f.resource_type)})"
        rphysical, rnote = _place(
            file, {"startLine": rline, "startColumn": rcol}, uri_prefix, files
        )
        related.append(
            {
                "id": 0,
                "physicalLocation": rphysical,
                "message": {"text": f"resource {what}{rnote}"},
            }
        )
    for loc in f.related:
        if len(related) >= MAX_RELATED:
            break
        if loc.file.startswith("aws://"):
            continue
        rfile = _uri_file(files.root, loc.file)
        label = clip(loc.logical_id) if loc.logical_id else rfile
        if loc.path:
            label += f".{clip(loc.path)}"
        text = f"{label}: {clip(loc.message)}" if loc.message else f"related: {label}"
        lphysical, lnote = _place(
            rfile, _region(loc.line, loc.column, loc.end_line, loc.end_column), uri_prefix, files
        )
        related.append(
            {
                "id": len(related),
                "physicalLocation": lphysical,
                "message": {"text": text + lnote},
            }
        )
    fingerprints = {FINGERPRINT_KEY: f.fingerprint}
    line_hash = files.hash_of(file, line) if not note else files.gitmodules_hash(physical["region"])
    if line_hash is not None:
        fingerprints[LINE_HASH_KEY] = line_hash
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": clip(f.message or f.title) + note},
        "locations": [location],
    }
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = fingerprints
    props: dict[str, Any] = {
        "severity": f.severity.value,
        "security-severity": f"{f.severity.number:.1f}",
        "confidence": f.confidence.value,
        "score": f.score,
        "layer": f.layer,
        "module": clip_path(f.module),
        "persona": f.persona.value,
    }
    if f.new is not None:
        props["new"] = f.new
    result["properties"] = props
    if f.fix is not None:
        fix = _fix(f.fix, uri_prefix, files)
        if fix is not None:
            result["fixes"] = [fix]
    if include_suppressed and f.suppressed is not None:
        s = f.suppressed
        justification = f"{clip(s.kind)}: {clip(s.reason or 'no reason')}" + (
            f" (until {clip(s.until)})" if s.until else ""
        )
        result["suppressions"] = [
            {
                "kind": "inSource" if s.kind == "inline" else "external",
                "status": "accepted",
                "justification": justification,
            }
        ]
    return result


def _fix(fix: Fix, uri_prefix: str, files: _Files) -> dict[str, Any] | None:
    """A SARIF fix object, or None when it cannot be carried whole (see the module docstring)."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for e in fix.edits:
        file = clip_path(e.file).replace("\\", "/").lstrip("/")
        text = exact_text(e.replacement)
        if (
            not file
            or file != e.file
            or file.startswith("aws://")
            or text is None
            or files.submodules.anchor(file, max(e.line, 1)) is not None
            or min(e.line, e.column, e.end_line, e.end_column) < 1
            or (e.end_line, e.end_column) < (e.line, e.column)
        ):
            return None
        region = {
            "startLine": e.line,
            "startColumn": e.column,
            "endLine": e.end_line,
            "endColumn": e.end_column,
        }
        changes.setdefault(file, []).append(
            {"deletedRegion": region, "insertedContent": {"text": text}}
        )
    if not changes:
        return None
    return {
        "description": {"text": clip(fix.description) or "Apply the edits"},
        "artifactChanges": [
            {
                "artifactLocation": {
                    "uri": encode_path(uri_prefix + file),
                    "uriBaseId": "%SRCROOT%",
                },
                "replacements": replacements,
            }
            for file, replacements in sorted(changes.items())
        ],
        "properties": {"safety": fix.safety.value},
    }


def _priority(f: Finding) -> tuple[int, int, int, float]:
    return (f.suppressed is None, f.severity.rank, f.confidence.rank, f.score)


def select(findings: Iterable[Finding], include_suppressed: bool) -> tuple[list[Finding], int]:
    """The findings that become results (most severe first when over the limit), and how many
    qualified before the limit."""
    eligible = [
        f
        for f in findings
        if not f.file.startswith("aws://") and (include_suppressed or f.suppressed is None)
    ]
    total = len(eligible)
    if total > MAX_RESULTS:
        ranked = sorted(eligible, key=_priority, reverse=True)[:MAX_RESULTS]
        keep = {id(f) for f in ranked}
        eligible = [f for f in eligible if id(f) in keep]
    return eligible, total


def automation_id(category: str) -> str:
    """GitHub reads the category as automationDetails.id up to its final '/'."""
    category = category.strip() or "archreview"
    return category if category.endswith("/") else category + "/"


def sarif_document(report: Report, options: RenderOptions | None = None) -> dict[str, Any]:
    opts = options or RenderOptions()
    root = Path(report.root)
    chosen, total = select(report.findings, opts.include_suppressed)
    rules = _rules(report, chosen)
    worst: dict[str, Severity] = {}
    for f in chosen:
        if f.suppressed is None and (
            f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank
        ):
            worst[f.rule_id] = f.severity
    index = {r.id: i for i, r in enumerate(rules)}
    head = head_of(root) if any(r.source for r in rules) else (None, None)
    files = _Files(root)
    prefix = repo_prefix(root)
    results = [_result(f, index[f.rule_id], prefix, files, opts.include_suppressed) for f in chosen]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "archreview",
                "semanticVersion": report.tool_version,
                "version": report.tool_version,
                "informationUri": homepage(),
                "rules": [
                    _descriptor(
                        r,
                        worst.get(r.id, r.severity),
                        rule_help_uri(r, root, head) if r.source else None,
                    )
                    for r in rules
                ],
            }
        },
        "automationDetails": {"id": automation_id(opts.sarif_category)},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    properties: dict[str, Any] = {
        "score": report.score.score,
        "grade": report.score.grade,
        "profile": clip_path(report.profile),
        "persona": report.persona.value,
        "hidden": dict(report.hidden),
    }
    if report.diff_base is not None:
        properties["diffBase"] = report.diff_base
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if total > len(chosen):
        note = (
            f"{total} results exceed GitHub's limit of {MAX_RESULTS} per run: the {len(chosen)} "
            f"most severe are kept and {total - len(chosen)} left out (see the JSON report)"
        )
        properties["truncated"] = {"results": total, "kept": len(chosen), "limit": MAX_RESULTS}
        invocation["toolExecutionNotifications"] = [{"level": "warning", "message": {"text": note}}]
    run["invocations"] = [invocation]
    run["properties"] = properties
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, options: RenderOptions | None = None) -> str:
    """The SARIF log: `json.dumps(sarif_document(...), indent=2, ensure_ascii=False)` and a
    newline (written by reviewer.outputs.fastjson, the same text several times faster)."""
    from reviewer.outputs import whole

    return whole(render_to, report, options)


def render_to(report: Report, options: RenderOptions, write: Callable[[str], object]) -> None:
    """`render`'s text handed to `write` in pieces."""
    from reviewer.outputs.fastjson import dump

    dump(sarif_document(report, options), write)
    write("\n")


def results_by_fingerprint(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Test and tooling helper: results keyed by our logical fingerprint."""
    out: dict[str, dict[str, Any]] = {}
    for run in document.get("runs", []):
        for result in run.get("results", []):
            out[result["partialFingerprints"][FINGERPRINT_KEY]] = result
    return out
