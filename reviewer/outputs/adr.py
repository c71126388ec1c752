"""Architecture Decision Records from a Report: one file per (rule, module).

`write_adrs(report, out_dir, root=...)` renders each record with a jinja2 template (MADR 4.0 by
default, Nygard as the second built-in, or the user's own from a template directory) and keeps
the set stable across runs:

- numbering lives in ``out_dir/index.json``; a record keeps its number and file name for ever,
  new records take the next free number (after every NNNN-*.md already in the directory);
- status: *proposed* while a finding stands, *accepted* when every finding of the rule in the
  module is suppressed with a reason, *resolved* (dated) when the findings are gone;
- the front-matter date changes only when the generated text does, so a re-run over the same
  tree touches nothing;
- text between ``<!-- archreview:keep NAME -->`` and ``<!-- /archreview:keep NAME -->`` (the
  name is optional) and the team's front-matter fields (everything but status and date) survive
  a re-run;
- files are written atomically, only inside ``out_dir``, with names made of digits, lower-case
  letters and dashes, through a descriptor of ``out_dir`` opened once (`reviewer.core.safefs`): when
  ``out_dir`` lies inside the scanned tree no link on the way to it is followed, and no link in
  it is read or written through;
- the index is repository content when ``out_dir`` is: it is read without following a link, with
  a size cap, and trusted only to name files inside ``out_dir``; an existing file is rewritten
  only when it carries archreview's marker for the index entry's rule (`is_archreview_record`),
  so a planted index cannot make ``adr`` overwrite a record the team wrote by hand: such a file
  is left alone, with a notice, and its rule and module get a record of their own.

Text from the scanned repository reaches the templates escaped for Markdown
(`reviewer.outputs.markdown.text`); the templates run in jinja2's sandbox.
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from reviewer.checks.catalogue import RuleMeta, load_catalogue
from reviewer.core import safefs
from reviewer.core.types import LAYER_LABELS, Finding, Report, Severity
from reviewer.outputs.markdown import code as md_code
from reviewer.outputs.markdown import text as md_text
from reviewer.outputs.submodules import encode_path
from reviewer.profile import LAYER_FAMILIES, Profile

INDEX_NAME = "index.json"
INDEX_VERSION = 1
INDEX_MAX_BYTES = 32 << 20  # an index larger than this is not one archreview wrote
RECORD_MAX_BYTES = 4 << 20  # nor is a record
BUILTIN_TEMPLATES: dict[str, str] = {"madr": "madr.md.j2", "nygard": "nygard.md.j2"}
TEMPLATE_DIR = Path(__file__).parent / "templates"
MANAGED_FRONT_MATTER = ("status", "date")
PROPOSED, ACCEPTED, RESOLVED = "proposed", "accepted", "resolved"

_FILE_RE = re.compile(r"^(\d{4,5})-[a-z0-9-]+\.md$")
_KEEP_RE = re.compile(
    r"<!-- archreview:keep(?: (?P<name>[A-Za-z0-9_.-]+))? -->\n?"
    r"(?P<body>.*?)"
    r"<!-- /archreview:keep(?: [A-Za-z0-9_.-]+)? -->",
    re.S,
)
_HEADING_RE = re.compile(r"^#{1,6} .*$", re.M)
_FRONT_KEY_RE = re.compile(r"^([A-Za-z0-9_-]+)\s*:")


class AdrError(Exception):
    """The ADR directory, its index or a template cannot be used (exit 2)."""


# -- what a record is made of ------------------------------------------------------------------


@dataclass(frozen=True)
class Affected:
    """One finding of a record, as plain data (kept in the index for resolved records)."""

    file: str
    line: int
    resource: str | None
    resource_type: str | None
    prop: str | None  # the property path ("property" in the index)
    message: str
    severity: str
    confidence: str
    score: float
    suppressed_kind: str | None = None
    suppressed_reason: str | None = None
    suppressed_until: str | None = None

    @classmethod
    def of(cls, f: Finding) -> Affected:
        s = f.suppressed
        return cls(
            file=f.file,
            line=f.line,
            resource=f.resource,
            resource_type=f.resource_type,
            prop=f.property,
            message=f.message,
            severity=f.severity.value,
            confidence=f.confidence.value,
            score=f.score,
            suppressed_kind=s.kind if s else None,
            suppressed_reason=s.reason if s else None,
            suppressed_until=s.until if s else None,
        )

    @property
    def accepted(self) -> bool:
        return self.suppressed_kind is not None and bool((self.suppressed_reason or "").strip())

    def as_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["property"] = data.pop("prop")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Affected:
        return cls(
            file=str(data["file"]),
            line=int(data["line"]),
            resource=_opt(data.get("resource")),
            resource_type=_opt(data.get("resource_type")),
            prop=_opt(data.get("property")),
            message=str(data.get("message", "")),
            severity=str(data.get("severity", "info")),
            confidence=str(data.get("confidence", "high")),
            score=float(data.get("score", 0.0)),
            suppressed_kind=_opt(data.get("suppressed_kind")),
            suppressed_reason=_opt(data.get("suppressed_reason")),
            suppressed_until=_opt(data.get("suppressed_until")),
        )


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Record:
    rule_id: str
    module: str
    affected: tuple[Affected, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule_id, self.module)

    @property
    def status(self) -> str:
        if self.affected and all(a.accepted for a in self.affected):
            return ACCEPTED
        return PROPOSED

    @property
    def severity(self) -> Severity:
        return max((Severity(a.severity) for a in self.affected), key=lambda s: s.rank)


def records(report: Report) -> list[Record]:
    """One record per (rule, module) with findings, suppressed ones included."""
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        grouped.setdefault((f.rule_id, f.module), []).append(f)
    return [
        Record(rule, module, tuple(Affected.of(f) for f in sorted(fs, key=Finding.sort_key)))
        for (rule, module), fs in sorted(grouped.items())
    ]


# -- the index ---------------------------------------------------------------------------------


@dataclass
class Entry:
    number: int
    rule_id: str
    module: str
    file: str
    status: str
    date: str
    affected: list[Affected] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "rule_id": self.rule_id,
            "module": self.module,
            "file": self.file,
            "status": self.status,
            "date": self.date,
            "affected": [a.as_dict() for a in self.affected],
        }


def read_index(out_dir: Path) -> list[Entry]:
    """The entries of `out_dir`'s index (none when it has no index); see read_index_at."""
    try:
        fd = safefs.open_anchor(out_dir)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise AdrError(f"{out_dir}: {err.strerror or err}") from None
    try:
        return read_index_at(fd, out_dir)[0]
    finally:
        os.close(fd)


def read_index_at(out_fd: int, out_dir: Path) -> tuple[list[Entry], str | None]:
    """The entries of the index in the folder `out_fd` (shown as `out_dir`), and its text (None
    when there is none). The index may be repository content: it is read without following a
    link and at most INDEX_MAX_BYTES; every entry must name a file of its own number, once."""
    path = out_dir / INDEX_NAME
    try:
        raw = safefs.read_file_at(out_fd, INDEX_NAME, max_bytes=INDEX_MAX_BYTES)
    except FileNotFoundError:
        return [], None
    except safefs.UnsafePath as err:
        raise AdrError(f"{path}: {err.reason}; not used as an archreview ADR index") from None
    except OSError as err:
        raise AdrError(f"{path}: not a readable archreview ADR index ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise AdrError(f"{path}: not a readable archreview ADR index ({err})") from err
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        raise AdrError(f"{path}: not an archreview ADR index (version {INDEX_VERSION})")
    records = data.get("records") or []
    if not isinstance(records, list):
        raise AdrError(f"{path}: its records are not a list")
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    numbers: set[int] = set()
    files: set[str] = set()
    for i, item in enumerate(records):
        try:
            entry = Entry(
                number=int(item["number"]),
                rule_id=str(item["rule_id"]),
                module=str(item["module"]),
                file=str(item["file"]),
                status=str(item["status"]),
                date=str(item["date"]),
                affected=[Affected.from_dict(a) for a in item.get("affected") or []],
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise AdrError(f"{path}: record {i + 1} is malformed ({err})") from err
        match = _FILE_RE.match(entry.file)
        if not match or not 0 < entry.number < 100_000 or int(match.group(1)) != entry.number:
            raise AdrError(f"{path}: record {i + 1} names an unusable file {entry.file!r}")
        key = (entry.rule_id, entry.module)
        if key in seen or entry.number in numbers or entry.file in files:
            raise AdrError(f"{path}: record {i + 1} repeats a rule/module, a number or a file")
        seen.add(key)
        numbers.add(entry.number)
        files.add(entry.file)
        entries.append(entry)
    return entries, text


def index_text(entries: Iterable[Entry]) -> str:
    doc = {
        "version": INDEX_VERSION,
        "generator": "archreview adr",
        "records": [e.as_dict() for e in sorted(entries, key=lambda e: e.number)],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    # The index may live inside the reviewed repository: keep the one word that makes the
    # template detector take a JSON file for a CloudFormation template out of its raw text.
    return text.replace("AWSTemplateFormatVersion", "\\u0041WSTemplateFormatVersion")


# -- names -------------------------------------------------------------------------------------


def slug(value: str, limit: int = 56) -> str:
    """Lower-case ASCII letters, digits and single dashes; never empty, never a path."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(s) > limit:
        cut = s[: limit + 1]
        s = cut[: cut.rfind("-")] if "-" in cut else s[:limit]
    return s.strip("-") or "x"


def module_words(module: str) -> str:
    return "the repository root" if module in (".", "") else module


def title_for(meta: RuleMeta, module: str) -> str:
    """The decision as a title, the module named: "Put a WAF ... in modules/janus"."""
    if module in (".", ""):
        return f"{meta.adr_title} at the repository root"
    return f"{meta.adr_title} in {md_text(module)}"


def file_name(number: int, meta: RuleMeta, module: str) -> str:
    mod = "root" if module in (".", "") else slug(module, 32)
    return f"{number:04d}-{slug(meta.adr_title)}-{mod}.md"


# -- rendering ---------------------------------------------------------------------------------


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """Templates from `template_dir` first, then the built-in ones; sandboxed, strict."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise AdrError(f"--template-dir {template_dir}: no such directory")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_text
    env.filters["code"] = md_code
    return env


def template_name(template: str) -> str:
    return BUILTIN_TEMPLATES.get(template, template)


def _split_consequences(text: str) -> tuple[list[str], list[str], list[str]]:
    """'Good: ... Bad: ...' -> good, bad and anything before the first label."""
    good: list[str] = []
    bad: list[str] = []
    other: list[str] = []
    pieces = re.split(r"\b(Good|Bad):\s*", text)
    if pieces[0].strip():
        other.append(pieces[0].strip())
    for label, body in zip(pieces[1::2], pieces[2::2], strict=True):
        (good if label == "Good" else bad).append(body.strip())
    return good, bad, other


def _options(meta: RuleMeta) -> list[dict[str, str]]:
    out = []
    for option in meta.options:
        name, sep, body = option.partition(": ")
        if not sep:
            name, body = option, ""
        out.append({"name": name.strip(), "text": body.strip()})
    return out


def rule_context(meta: RuleMeta) -> dict[str, Any]:
    good, bad, other = _split_consequences(meta.consequences)
    return {
        "id": meta.id,
        "name": meta.name,
        "title": meta.title,
        "adr_title": meta.adr_title,
        "layer": meta.layer,
        "layer_label": f"{meta.layer} {LAYER_LABELS.get(meta.layer, meta.layer_label)}".strip(),
        "security_layer": meta.layer in LAYER_FAMILIES,
        "severity": meta.severity.value,
        "confidence": meta.confidence.value,
        "description": meta.description,
        "context": meta.context,
        "decision": meta.decision,
        "consequences": meta.consequences,
        "good": good,
        "bad": bad,
        "other": other,
        "options": _options(meta),
        "references": [{"title": r.title, "url": r.url} for r in meta.references],
        "nist": list(meta.nist),
        "owasp": list(meta.owasp),
        "profile_keys": list(meta.profile_keys),
    }


def _inert_meta(meta: RuleMeta) -> RuleMeta:
    from dataclasses import replace

    from reviewer.core.types import Reference

    return replace(
        meta,
        title=md_text(meta.title),
        adr_title=md_text(meta.adr_title),
        description=md_text(meta.description, 4000),
        context=md_text(meta.context, 4000),
        decision=md_text(meta.decision, 4000),
        consequences=md_text(meta.consequences, 4000),
        options=tuple(md_text(o) for o in meta.options),
        references=tuple(Reference(md_text(r.title), r.url) for r in meta.references),
    )


def _relative_link(root: Path, out_dir: Path, file: str) -> str | None:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", file):  # aws://REGION/STACK
        return None
    rel = os.path.relpath(root / file, out_dir).replace(os.sep, "/")
    return rel


def _affected_context(a: Affected, root: Path | None, out_dir: Path | None) -> dict[str, Any]:
    location = md_text(f"{a.file}:{a.line}")
    target = _relative_link(root, out_dir, a.file) if root and out_dir else None
    link = f"[{location}]({encode_path(target)}#L{a.line})" if target else location
    note = ""
    if a.suppressed_kind is not None:
        reason = (a.suppressed_reason or "").strip()
        until = f", until {a.suppressed_until}" if a.suppressed_until else ""
        head = "accepted risk" if a.accepted else "suppressed"
        note = md_text(f"{head} ({a.suppressed_kind}){': ' + reason if reason else ''}{until}")
    return {
        "link": link,
        "location": location,
        "subject": md_code(a.resource) if a.resource else md_text(a.file),
        "resource": md_code(a.resource) if a.resource else "",
        "resource_type": md_code(a.resource_type) if a.resource_type else "",
        "property": md_code(a.prop) if a.prop else "",
        "message": md_text(a.message),
        "severity": a.severity,
        "confidence": a.confidence,
        "score": f"{a.score:.1f}",
        "accepted": a.accepted,
        "note": note,
    }


def _expectation_lines(meta: RuleMeta, expectations: Mapping[str, str] | None) -> list[str]:
    """The rule's profile keys that the profile declares, with their values (`expectations`
    holds only declared keys: see declared_values); None: the placeholders `explain` prints.
    A section (`stack.testing`) is left out when keys below it are named, which say it exactly."""
    keys = [k for k in meta.profile_keys if expectations is None or k in expectations]
    keys = [k for k in keys if not any(other.startswith(k + ".") for other in keys)]
    if expectations is None:
        return [f"`{key}`: {{declared value}}" for key in keys]
    return [f"`{key}`: {md_text(expectations[key])}" for key in keys]


def context(
    meta: RuleMeta,
    record: Record,
    *,
    number: int,
    status: str,
    day: str,
    root: Path | None = None,
    out_dir: Path | None = None,
    expectations: Mapping[str, str] | None = None,
    profile: str = "",
) -> dict[str, Any]:
    """Everything a template sees; repository text in it is already escaped."""
    affected = list(record.affected)
    live = [a for a in affected if a.suppressed_kind is None] or affected
    top = max(live, key=lambda a: (a.score, Severity(a.severity).rank)) if live else None
    severity = record.severity if affected else meta.severity
    return {
        "number": number,
        "id": f"{number:04d}",
        "title": title_for(meta, record.module),
        "status": status,
        "date": day,
        "proposed": status == PROPOSED,
        "accepted": status == ACCEPTED,
        "resolved": status == RESOLVED,
        "module": md_text(module_words(record.module)),
        "rule": rule_context(meta),
        "severity": severity.value,
        "weight": f"{severity.number:.1f}",
        "confidence": top.confidence if top else meta.confidence.value,
        "score": f"{top.score:.1f}" if top else "0.0",
        "resources": [_affected_context(a, root, out_dir) for a in affected],
        "accepted_count": sum(1 for a in affected if a.accepted),
        "expectations": _expectation_lines(meta, expectations),
        "profile": md_text(profile) if profile else "",
    }


def render(env: jinja2.Environment, template: str, ctx: Mapping[str, Any]) -> str:
    try:
        text = env.get_template(template_name(template)).render(**ctx)
    except jinja2.TemplateNotFound as err:
        raise AdrError(f"template {template!r} not found ({err.name})") from err
    except jinja2.TemplateError as err:
        raise AdrError(f"template {template!r}: {err}") from err
    # templates may be generous with blank lines: at most one in a row, one final newline
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def rule_template(meta: RuleMeta, template: str = "madr") -> str:
    """The ADR a rule's findings produce, with placeholders for what a scan fills in
    (what `archreview explain ID` prints)."""
    placeholder = {
        "link": "[{file}:{line}]({path relative to the ADR directory}#L{line})",
        "location": "{file}:{line}",
        "subject": "`{resource}`",
        "resource": "`{resource}`",
        "resource_type": "`{resource type}`",
        "property": "`{property}`",
        "message": "{what archreview found}",
        "severity": meta.severity.value,
        "confidence": meta.confidence.value,
        "score": "{score}",
        "accepted": False,
        "note": "",
    }
    from reviewer.scores.scoring import finding_score

    ctx = context(
        meta,
        Record(meta.id, "{module}", ()),
        number=0,
        status=PROPOSED,
        day="{YYYY-MM-DD}",
    )
    ctx.update(
        number="N",
        id="NNNN",
        title=f"{meta.adr_title} in {{module}}",
        module="{module}",
        resources=[placeholder],
        score=f"{float(finding_score(meta.severity, meta.confidence)):.1f}",
        confidence=meta.confidence.value,
    )
    return render(environment(), template, ctx)


# -- merging with what is on disk --------------------------------------------------------------


def _front_matter(text: str) -> tuple[list[tuple[str, str]], str] | None:
    """(key, raw lines) blocks of a leading YAML front matter, and the rest of the text."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    if end < 0:
        return None
    blocks: list[tuple[str, str]] = []
    for line in text[4 : end + 1].splitlines(keepends=True):
        match = _FRONT_KEY_RE.match(line)
        if match:
            blocks.append((match.group(1), line))
        elif blocks:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + line)
    return blocks, text[end + 5 :]


def _merge_front_matter(new: str, old: str) -> str:
    """The team's front-matter fields (all but status and date) from the old file."""
    new_fm = _front_matter(new)
    old_fm = _front_matter(old)
    if new_fm is None or old_fm is None:
        return new
    blocks, rest = new_fm
    merged = list(blocks)
    keys = [k for k, _ in merged]
    for key, raw in old_fm[0]:
        if key in MANAGED_FRONT_MATTER:
            continue
        if key in keys:
            merged[keys.index(key)] = (key, raw)
        else:
            merged.append((key, raw if raw.endswith("\n") else raw + "\n"))
            keys.append(key)
    return "---\n" + "".join(raw for _, raw in merged) + "---\n" + rest


class _BlockKeys:
    """A keep block's key: its name, or `#n` for the n-th block without one, in text order."""

    def __init__(self) -> None:
        self.anonymous = 0

    def of(self, name: str | None) -> str:
        if name is not None:
            return name
        self.anonymous += 1
        return f"#{self.anonymous}"


def _keep_blocks(text: str) -> list[tuple[str, str, str | None, str]]:
    """(key, body, heading above it, original name or '') for each keep block."""
    out = []
    keys = _BlockKeys()
    for match in _KEEP_RE.finditer(text):
        name = match.group("name")
        key = keys.of(name)
        headings = _HEADING_RE.findall(text, 0, match.start())
        out.append((key, match.group("body"), headings[-1] if headings else None, name or ""))
    return out


def _block_text(name: str, body: str) -> str:
    label = f" {name}" if name else ""
    return f"<!-- archreview:keep{label} -->\n{body}<!-- /archreview:keep{label} -->"


def merge_keep(new: str, old: str) -> str:
    """Carry every keep block of the old text into the new one: same name, same place;
    a block the new text has no slot for goes to the end of the section it was in."""
    old_blocks = _keep_blocks(old)
    if not old_blocks:
        return new
    bodies = {key: body for key, body, _, _ in old_blocks}
    new_keys: set[str] = set()
    keys = _BlockKeys()

    def swap(match: re.Match[str]) -> str:
        name = match.group("name")
        key = keys.of(name)
        new_keys.add(key)
        if key not in bodies:
            return match.group(0)
        return _block_text(name or "", bodies[key])

    merged = _KEEP_RE.sub(swap, new)
    for key, body, heading, name in old_blocks:
        if key in new_keys:
            continue
        block = _block_text(name, body) + "\n"
        at = merged.find(heading + "\n") if heading is not None else -1
        if heading is None or at < 0:
            merged = merged.rstrip("\n") + "\n\n" + block
            continue
        after = _HEADING_RE.search(merged, at + len(heading) + 1)
        pos = after.start() if after else len(merged)
        head, tail = merged[:pos].rstrip("\n"), merged[pos:]
        merged = head + "\n\n" + block + ("\n" + tail if tail else "")
    return merged


# -- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    index_changed: bool = False
    left_alone: tuple[tuple[str, str], ...] = ()  # (file, why): files the index claims, not ours
    index_replaced: str | None = None  # why an index.json in the way was not read, but replaced

    def summary(self) -> str:
        text = (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.resolved)} resolved, {len(self.unchanged)} unchanged"
        )
        return text + (f", {len(self.left_alone)} left alone" if self.left_alone else "")


def marker(rule_id: str) -> str:
    """The line that marks a record as archreview's (added after the front matter when the
    template does not say so itself)."""
    return f"<!-- archreview:adr {rule_id} -->"


def is_archreview_record(text: str, rule_id: str) -> bool:
    """Whether `text` is a record archreview wrote for `rule_id`: it carries the marker, or
    the sentence by which the built-in MADR or Nygard template names its rule (records of
    earlier versions)."""
    return (
        marker(rule_id) in text
        or f"Written by `archreview adr` from rule {rule_id}:" in text
        or f"Rule {rule_id} re-checks this decision on every `archreview scan`" in text
    )


def _with_marker(text: str, rule_id: str) -> str:
    if is_archreview_record(text, rule_id):
        return text
    line = marker(rule_id) + "\n"
    end = text.find("\n---\n", 3) if text.startswith("---\n") else -1
    if end < 0:
        return line + text
    return text[: end + 5] + line + text[end + 5 :]


def _existing(out_fd: int, name: str) -> tuple[str | None, str | None]:
    """(text, None) for a regular UTF-8 file, (None, None) when there is none, (None, why)
    for anything that cannot be a record archreview wrote (a link, a folder, too large ...)."""
    try:
        raw = safefs.read_file_at(out_fd, name, max_bytes=RECORD_MAX_BYTES)
    except FileNotFoundError:
        return None, None
    except safefs.UnsafePath as err:
        return None, err.reason
    except OSError as err:
        return None, f"cannot be read ({err.strerror or err})"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"


def _write_at(out_fd: int, out_dir: Path, name: str, payload: str) -> None:
    """Write out_dir/name atomically (a fresh temporary file, then os.replace, relative to the
    folder's descriptor: a link named `name` is replaced, never followed); name is a plain
    file name. A failure is a WriteError."""
    if name != INDEX_NAME and not _FILE_RE.match(name):
        raise AdrError(f"refusing to write {name!r}: not an ADR file name")
    try:
        safefs.write_file_at(out_fd, name, payload)
    except OSError as err:
        raise safefs.WriteError(
            str(out_dir / name), err.strerror or str(err), usage=safefs.is_usage_errno(err.errno)
        ) from None


def _numbers_in(out_fd: int) -> set[int]:
    found: set[int] = set()
    for name in os.listdir(out_fd):
        match = re.match(r"^(\d{4,5})-", name)
        if match and name.endswith(".md"):
            found.add(int(match.group(1)))
    return found


def _open_out(out_dir: Path, root: Path) -> int:
    """The descriptor of --out (made when missing); inside the scanned tree, reached without
    following a link."""
    try:
        return safefs.open_user_dir(out_dir, tree=root, create=True)
    except safefs.UnsafePath as err:
        raise AdrError(
            f"--out {out_dir}: {err} inside the scanned tree (archreview does not follow it)"
        ) from None
    except (NotADirectoryError, FileExistsError):
        raise AdrError(f"--out {out_dir}: not a directory") from None
    except OSError as err:
        raise safefs.WriteError(
            str(out_dir), err.strerror or str(err), usage=safefs.is_usage_errno(err.errno)
        ) from None


def write_adrs(
    report: Report,
    out_dir: Path,
    *,
    root: Path,
    today: date,
    template: str = "madr",
    template_dir: Path | None = None,
    expectations: Callable[[str], Mapping[str, str]] | None = None,
    catalogue: Mapping[str, RuleMeta] | None = None,
) -> Outcome:
    """Create, update or resolve the ADR files in out_dir for the findings of `report`.
    `expectations`: a module's name -> what its profile declares (declared_values); None: a
    record names no declaration.
    Raises AdrError (a folder, an index or a template that cannot be used) or
    safefs.WriteError (a write that failed)."""
    cat = dict(catalogue if catalogue is not None else load_catalogue())
    for info in report.rules:  # a repository's own rules (reviewer.checks.custom)
        if info.source and info.id not in cat:
            cat[info.id] = _inert_meta(RuleMeta.from_info(info))  # repository text: inert
    env = environment(template_dir)
    try:
        env.get_template(template_name(template))
    except jinja2.TemplateNotFound as err:
        raise AdrError(f"template {template!r} not found ({err.name})") from err
    except jinja2.TemplateError as err:
        raise AdrError(f"template {template!r}: {err}") from err
    out_fd = _open_out(out_dir, root)
    try:
        return _write_adrs_at(
            out_fd, report, out_dir, root, today, template, env, expectations, cat
        )
    finally:
        os.close(out_fd)


def _write_adrs_at(
    out_fd: int,
    report: Report,
    out_dir: Path,
    root: Path,
    today: date,
    template: str,
    env: jinja2.Environment,
    expectations: Callable[[str], Mapping[str, str]] | None,
    cat: Mapping[str, RuleMeta],
) -> Outcome:
    out_abs = Path(os.path.abspath(out_dir)).resolve()  # for the links in the records only
    root_abs = root.resolve()
    in_the_way = safefs.lstat_at(out_fd, INDEX_NAME)
    replaced: str | None = None
    claimed: list[Entry]
    old_index: str | None
    if in_the_way is not None and (
        stat.S_ISLNK(in_the_way.st_mode)
        or not (stat.S_ISREG(in_the_way.st_mode) or stat.S_ISDIR(in_the_way.st_mode))
    ):  # a link or a FIFO under the index's name: never read or followed, replaced
        replaced = "is a symbolic link" if stat.S_ISLNK(in_the_way.st_mode) else "is not a file"
        claimed, old_index = [], None
    else:
        claimed, old_index = read_index_at(out_fd, out_dir)
    entries: list[Entry] = []
    texts: dict[str, str | None] = {}
    left_alone: list[tuple[str, str]] = []
    for entry in claimed:  # the index may be planted: its claims are checked on disk
        text, refusal = _existing(out_fd, entry.file)
        if refusal is None and text is not None and not is_archreview_record(text, entry.rule_id):
            refusal = f"has no archreview marker, though {INDEX_NAME} names it for {entry.rule_id}"
        if refusal is not None:
            left_alone.append((entry.file, refusal))
            continue
        texts[entry.file] = text
        entries.append(entry)
    by_key = {(e.rule_id, e.module): e for e in entries}
    current = {r.key: r for r in records(report)}
    used = _numbers_in(out_fd) | {e.number for e in claimed}
    next_number = max(used, default=0) + 1
    fresh = sorted(
        (r for k, r in current.items() if k not in by_key and k[0] in cat),
        key=lambda r: (-r.severity.rank, r.rule_id, r.module),
    )
    for rec in fresh:
        meta = cat[rec.rule_id]
        entry = Entry(
            next_number, rec.rule_id, rec.module, file_name(next_number, meta, rec.module), "", ""
        )
        entries.append(entry)
        by_key[rec.key] = entry
        next_number += 1
    # the profile's file name only: an absolute path would make every record differ per machine
    profile = os.path.basename(report.profile.replace("\\", "/").rstrip("/"))
    sync = _Sync(
        env, template, root_abs, out_abs, expectations, profile, today.isoformat(), out_fd, out_dir
    )
    done: dict[str, list[str]] = {"created": [], "updated": [], "resolved": [], "unchanged": []}
    for entry in sorted(entries, key=lambda e: e.number):
        found = current.get((entry.rule_id, entry.module))
        old = texts.get(entry.file)
        if entry.file not in texts:  # a new record: its name is normally free
            old, refusal = _existing(out_fd, entry.file)
            if refusal is not None or old is not None:
                left_alone.append((entry.file, refusal or "already exists"))
                entries.remove(entry)
                continue
        done[sync.one(entry, found, cat.get(entry.rule_id), old)].append(entry.file)
    index = index_text(entries)
    if index != old_index:
        _write_at(out_fd, out_dir, INDEX_NAME, index)
    return Outcome(
        tuple(done["created"]),
        tuple(done["updated"]),
        tuple(done["resolved"]),
        tuple(done["unchanged"]),
        index != old_index,
        tuple(left_alone),
        replaced,
    )


@dataclass(frozen=True)
class _Sync:
    """Brings one index entry and its file up to date with the current findings."""

    env: jinja2.Environment
    template: str
    root: Path
    out_dir: Path
    expectations: Callable[[str], Mapping[str, str]] | None
    profile: str
    today: str
    out_fd: int
    shown_dir: Path  # --out as given, for messages

    def produce(
        self, entry: Entry, meta: RuleMeta, rec: Record, status: str, day: str, old: str | None
    ) -> str:
        ctx = context(
            meta,
            rec,
            number=entry.number,
            status=status,
            day=day,
            root=self.root,
            out_dir=self.out_dir,
            expectations=self.expectations(rec.module) if self.expectations else {},
            profile=self.profile,
        )
        text = _with_marker(render(self.env, self.template, ctx), meta.id)
        if old is not None:
            text = merge_keep(_merge_front_matter(text, old), old)
        return text

    def one(
        self, entry: Entry, found: Record | None, meta: RuleMeta | None, old: str | None
    ) -> str:
        """Update entry (status, date, affected) and its file (whose text is `old`, None when
        there is none); say what happened."""
        was = entry.status
        if found is not None:
            status, rec = found.status, found
            entry.affected = list(found.affected)
        else:
            status, rec = RESOLVED, Record(entry.rule_id, entry.module, tuple(entry.affected))
        if meta is None:  # a rule that no longer exists: nothing to render
            if was == RESOLVED:
                return "unchanged"
            entry.status, entry.date = RESOLVED, self.today
            return "resolved"
        if old is None and was == RESOLVED and status == RESOLVED:
            return "unchanged"  # resolved, and the team removed the file: leave it gone
        if (
            old is not None
            and entry.date
            and status == was
            and self.produce(entry, meta, rec, status, entry.date, old) == old
        ):
            return "unchanged"
        payload = self.produce(entry, meta, rec, status, self.today, old)
        entry.status, entry.date = status, self.today
        if payload == old:
            return "unchanged"
        _write_at(self.out_fd, self.shown_dir, entry.file, payload)
        if not was:
            return "created"
        if status == RESOLVED and was != RESOLVED:
            return "resolved"
        return "updated"


def declared_values(profile: Profile, keys: Iterable[str]) -> dict[str, str]:
    """What `profile` declares for `keys` (dotted schema keys), one line each. A key it does not
    declare (one a rule only tunes, read at the baseline's value) is left out: a record never
    claims a declaration that does not exist."""
    from reviewer.profile.document import profile_document

    declared = [key for key in keys if profile.declares(key)]
    return expectation_values(profile_document(profile, profile.declared_keys()), declared)


def expectation_values(profile_document: Mapping[str, Any], keys: Iterable[str]) -> dict[str, str]:
    """Dotted profile keys ('events.retention_days') -> their declared value, as one line."""
    out: dict[str, str] = {}
    for key in keys:
        node: Any = profile_document
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            out[key] = _one_line(node)
    return out


def _one_line(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_one_line(v)}" for k, v in value.items()) or "none"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(_one_line(v) for v in value) or "none"
    return str(value)
