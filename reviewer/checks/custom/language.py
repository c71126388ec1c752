"""The custom rule language: one rule per YAML file, read into frozen dataclasses.

Every value is read through reviewer.core.typed (positions, types, "did you mean" suggestions);
anything wrong is a RuleFileError at its file and line. Nothing in a rule is executed: the
conditions are data that reviewer.checks.custom.evaluate interprets, and the patterns are globs
or RE2 expressions (reviewer.checks.custom.patterns). docs/custom-rules.md teaches the language
and reviewer/data/custom-rule.schema.json describes it for editors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reviewer.core.typed import (
    BOOL,
    FLOAT,
    INT,
    LIST,
    MAPPING,
    NULL,
    InputError,
    Marked,
    Reader,
    compose,
    suggest,
)
from reviewer.core.types import (
    CUSTOM_RULE_ID,
    LAYER_LABELS,
    Confidence,
    Persona,
    Reference,
    Severity,
)
from reviewer.discover.rulefiles import MAX_RULE_BYTES as MAX_RULE_BYTES  # one rule file
from reviewer.discover.rulefiles import MAX_RULE_FILES as MAX_RULE_FILES
from reviewer.discover.rulefiles import RuleFileError as RuleFileError

from .patterns import PatternError, Regex, check_glob, compile_regex

# -- bounds (counted, never timed) -----------------------------------------------------------------
MAX_DEPTH = 12  # nesting of conditions (all/any/not, selectors' `where`)
MAX_NODES = 256  # conditions in one rule
MAX_PATH_PARTS = 16  # segments of a property path
MAX_LIST = 256  # items of one_of, types, globs ...
MAX_TEXT = 4000  # characters of a title, message or ADR paragraph
MAX_WORK = 200_000  # evaluation steps of one rule on one template (values, peers, subjects)

RULE_ID = CUSTOM_RULE_ID
LAYER_ID = re.compile(r"[A-Z][A-Z0-9]{1,7}")
# a layer's label is shown in every report: plain words only (inert in every format)
LAYER_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,&/()+-]{0,39}")

TYPE_SHAPE = re.compile(r"[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+")  # when no schema is at hand
EDGE_KINDS = ("event-source", "invokes", "redrive", "waf", "alarm-on", "reads", "writes")
DIRECTIONS = ("out", "in")
SCOPES = ("template", "module", "repository")
RELATIVE = ("same", "other")
GENERATED = ("include", "exclude", "only")
REPORTS = ("each", "first")
VALUE_TESTS = ("equals", "one_of", "pattern", "regex", "gt", "ge", "lt", "le", "contains")
PRESENCE_TESTS = ("exists", "written")
NUMERIC_OPS = ("gt", "ge", "lt", "le", "equals")
CONDITION_KEYS = (
    "all",
    "any",
    "not",
    "property",
    "attribute",
    "type",
    "name",
    "tag",
    "edge",
    "count",
)
WILD = "*"

RULE_KEYS = (
    "id",
    "title",
    "description",
    "layer",
    "severity",
    "confidence",
    "persona",
    "requires",
    "adr",
    "select",
    "where",
    "require",
    "cases",
    "message",
    "report",
)
ADR_KEYS = ("title", "context", "decision", "consequences", "options", "references")
SELECT_KEYS = ("types", "generated", "modules", "paths", "names", "tags")
PEER_KEYS = (*SELECT_KEYS, "module", "template", "where")
CASE_KEYS = ("id", "when", "require", "severity", "confidence", "persona", "message", "report")
PROPERTY_KEYS = ("property", "attribute", *PRESENCE_TESTS, *VALUE_TESTS, "default")
EDGE_KEYS = ("edge", "direction", "to", "from", "metric", "count", "every", "compare")
COMPARE_KEYS = ("property", "default", "gt", "ge", "lt", "le")
PEER_VALUE_KEYS = ("peer", "default", "factor")
COUNT_KEYS = ("count", *NUMERIC_OPS)
COUNT_SELECT_KEYS = (*SELECT_KEYS, "scope", "before", "where")


# -- the rule as data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileValue:
    """A number read from the profile (`{profile: dynamodb.single_table_limit}`)."""

    key: str


Num = float | ProfileValue


@dataclass(frozen=True)
class Selector:
    types: tuple[str, ...] = ()
    generated: str = "include"  # resources SAM generates: include | exclude | only
    modules: tuple[str, ...] = ()  # module path globs
    paths: tuple[str, ...] = ()  # template path globs
    names: tuple[str, ...] = ()  # logical id globs
    tags: tuple[tuple[str, str], ...] = ()  # (key, value glob)
    module: str | None = None  # peers only: same | other module than the subject
    template: str | None = None  # peers only: same | other template than the subject
    where: Cond | None = None  # peers only: a condition on the peer


@dataclass(frozen=True)
class Prop:
    """A test of a property (below Properties) or of a resource attribute (DeletionPolicy)."""

    path: tuple[str | int, ...]
    attribute: bool
    test: str  # exists | written | equals | one_of | pattern | regex | gt | ge | lt | le | contains
    arg: Any  # bool, scalar, tuple of scalars, glob text, Regex, Num
    default: Any = None
    has_default: bool = False
    line: int = 1


@dataclass(frozen=True)
class TypeIs:
    types: tuple[str, ...]


@dataclass(frozen=True)
class NameIs:
    glob: str | None
    regex: Regex | None


@dataclass(frozen=True)
class TagIs:
    """The resource carries tag `key` (a CloudFormation list or a SAM map), with a value
    matching the glob."""

    key: str
    glob: str = "*"


@dataclass(frozen=True)
class Compare:
    """subject.path <op> factor x peer.peer_path, for every peer across an edge."""

    path: tuple[str | int, ...]
    default: float | None
    op: str
    peer_path: tuple[str | int, ...]
    peer_default: float | None
    factor: float


@dataclass(frozen=True)
class Edge:
    kind: str
    direction: str
    peer: Selector
    metrics: tuple[str, ...] = ()
    count: tuple[str, Num] | None = None
    every: Selector | None = None
    compare: Compare | None = None


@dataclass(frozen=True)
class Count:
    selector: Selector
    scope: str
    before: bool
    op: str
    value: Num


@dataclass(frozen=True)
class All:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = All | AnyOf | Not | Prop | TypeIs | NameIs | TagIs | Edge | Count


@dataclass(frozen=True)
class Case:
    id: str | None
    when: Cond | None
    require: Cond
    severity: Severity | None = None
    confidence: Confidence | None = None
    persona: Persona | None = None
    message: str | None = None
    report: str = "each"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    layer: str
    layer_label: str
    severity: Severity
    confidence: Confidence
    persona: Persona
    description: str
    adr_title: str
    context: str
    decision: str
    consequences: str
    options: tuple[str, ...]
    references: tuple[Reference, ...]
    requires: tuple[str, ...]
    select: Selector
    where: Cond | None
    cases: tuple[Case, ...]
    file: str  # repository-relative path of the rule file
    line: int = 1
    edges: tuple[str, ...] = field(default=())  # edge kinds the rule reads (for `rules` listing)


# -- reading --------------------------------------------------------------------------------------


def parse_rule(text: str, file: str) -> Rule:
    """A rule file's text -> Rule. Raises RuleFileError, and nothing else."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RULE_BYTES:
        raise RuleFileError(f"the rule file is larger than {MAX_RULE_BYTES} bytes", file)
    try:
        doc = compose(text, file)
    except InputError as err:
        raise RuleFileError.of(err) from None
    if doc is None:
        raise RuleFileError("the rule file is empty: one rule per file (id, title, ...)", file)
    try:
        return _Parser(file).rule(doc)
    except RuleFileError:
        raise
    except InputError as err:
        raise RuleFileError.of(err) from None


class _Parser:
    def __init__(self, file: str) -> None:
        self.r = Reader(file)
        self.file = file
        self.nodes = 0
        self.edges: list[str] = []

    # helpers ----------------------------------------------------------------------------------

    def fail(self, m: Marked, message: str, suggestion: str | None = None) -> RuleFileError:
        return RuleFileError(message, self.file, m.line, m.column, suggestion)

    def key_fail(
        self, m: Marked, key: str, message: str, suggestion: str | None = None
    ) -> RuleFileError:
        line, col = m.keys.get(key, (m.line, m.column))
        return RuleFileError(message, self.file, line, col, suggestion)

    def text(self, m: Marked, where: str) -> str:
        value = self.r.string(m, where)
        if len(value) > MAX_TEXT:
            raise self.fail(m, f"{where} is longer than {MAX_TEXT} characters")
        return value

    def choice(self, m: Marked, where: str, choices: tuple[str, ...]) -> str:
        return self.r.choice(m, where, choices, lambda t: t.strip().lower())

    def strings(self, m: Marked, where: str) -> tuple[str, ...]:
        items = (m,) if m.is_scalar else tuple(self.r.sequence(m, where, "a string or a list"))
        if len(items) > MAX_LIST:
            raise self.fail(m, f"{where} has more than {MAX_LIST} entries")
        return tuple(dict.fromkeys(self.text(i, f"an entry of {where}") for i in items))

    def globs(self, m: Marked, where: str) -> tuple[str, ...]:
        out = self.strings(m, where)
        for g in out:
            try:
                check_glob(g)
            except PatternError as err:
                raise self.fail(m, f"{where}: {err}") from None
        return out

    def regex(self, m: Marked, where: str) -> Regex:
        source = self.r.text(m, where)
        if source is None:
            raise self.r.wrong(m, where, "a regular expression")
        try:
            return compile_regex(source)
        except PatternError as err:
            raise self.fail(m, f"{where}: {err}") from None

    def number(self, m: Marked, where: str) -> Num:
        if m.kind == MAPPING:
            body = self.r.mapping(m, where, ("profile",))
            if "profile" not in body:
                raise self.fail(m, f"{where} must be a number or {{profile: KEY}}", "profile")
            return ProfileValue(self.profile_key(body["profile"], f"{where}.profile"))
        return self.plain_number(m, where)

    def plain_number(self, m: Marked, where: str) -> float:
        if m.kind not in (INT, FLOAT) or isinstance(m.value, bool):
            raise self.r.wrong(m, where, "a number")
        value = float(m.value)
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(m, f"{where} must be a finite number")
        return value

    def profile_key(self, m: Marked, where: str) -> str:
        from reviewer.profile import SCHEMA_KEYS

        key = self.r.string(m, where)
        if key not in SCHEMA_KEYS:
            raise self.fail(m, f"{where}: unknown profile key {key!r}", suggest(key, SCHEMA_KEYS))
        return key

    def scalar(self, m: Marked, where: str) -> Any:
        if not m.is_scalar or m.kind == NULL:
            raise self.r.wrong(m, where, "a string, number or boolean")
        if m.kind in (BOOL, INT, FLOAT):
            return m.value
        return m.text

    def path(self, m: Marked, where: str) -> tuple[str | int, ...]:
        if m.kind == LIST:
            items = self.r.sequence(m, where)
            parts: list[str | int] = []
            for item in items:
                if item.kind == INT and not isinstance(item.value, bool):
                    parts.append(int(item.value))
                else:
                    parts.append(self.r.string(item, f"an entry of {where}"))
        else:
            raw = self.r.string(m, where)
            parts = [int(p) if p.isdigit() else p for p in raw.split(".")]
            if any(p == "" for p in parts):
                raise self.fail(m, f"{where}: an empty segment in {raw!r} (write A.B.C)")
        if not parts:
            raise self.fail(m, f"{where} is empty")
        if len(parts) > MAX_PATH_PARTS:
            raise self.fail(m, f"{where} has more than {MAX_PATH_PARTS} segments")
        if parts[0] == "Properties":
            raise self.fail(
                m,
                f"{where} is read below Properties: leave 'Properties.' out",
                ".".join(map(str, parts[1:])),
            )
        return tuple(parts)

    def count_node(self, m: Marked, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(m, f"the rule has more than {MAX_NODES} conditions")
        if depth > MAX_DEPTH:
            raise self.fail(m, f"conditions are nested deeper than {MAX_DEPTH} levels")

    # the rule ------------------------------------------------------------------------------------

    def rule(self, doc: Marked) -> Rule:
        top = self.r.mapping(doc, "the rule", RULE_KEYS)
        for key in ("id", "title", "layer", "severity", "confidence", "adr", "select"):
            if key not in top:
                raise self.fail(
                    doc,
                    f"the rule has no {key!r}: every rule names id, title, layer, "
                    "severity, confidence, adr and select",
                )
        rule_id = self.rule_id(top["id"])
        layer, label = self.layer(top["layer"])
        severity = Severity(self.choice(top["severity"], "severity", tuple(Severity)))
        confidence = Confidence(self.choice(top["confidence"], "confidence", tuple(Confidence)))
        persona = (
            Persona(self.choice(top["persona"], "persona", tuple(Persona)))
            if "persona" in top
            else Persona.REGULAR
        )
        requires: tuple[str, ...] = ()
        if "requires" in top:
            items = self.r.sequence(top["requires"], "requires")
            requires = tuple(self.profile_key(i, "an entry of requires") for i in items)
        adr = self.r.mapping(top["adr"], "adr", ADR_KEYS)
        for key in ("context", "decision", "consequences"):
            if key not in adr:
                raise self.fail(top["adr"], f"adr has no {key!r} (context, decision, consequences)")
        references: list[Reference] = []
        if "references" in adr:
            for item in self.r.sequence(adr["references"], "adr.references"):
                ref = self.r.mapping(item, "the reference", ("title", "url"))
                if "url" not in ref:
                    raise self.fail(item, "a reference needs a url (and a title)")
                url = self.text(ref["url"], "url")
                if not url.startswith(("https://", "http://")):
                    raise self.fail(ref["url"], "a reference url must start with https://")
                title = self.text(ref["title"], "title") if "title" in ref else url
                references.append(Reference(title, url))
        options = self.strings(adr["options"], "adr.options") if "options" in adr else ()
        select = self.selector(top["select"], "select", SELECT_KEYS, 0)
        where = self.condition(top["where"], 0) if "where" in top else None
        default_report = (
            self.choice(top["report"], "report", REPORTS) if "report" in top else "each"
        )
        message = self.text(top["message"], "message") if "message" in top else None
        if ("require" in top) == ("cases" in top):
            raise self.fail(doc, "a rule has either `require` (one condition) or `cases` (several)")
        cases: list[Case] = []
        if "require" in top:
            cases.append(
                Case(
                    None,
                    None,
                    self.condition(top["require"], 0),
                    message=message,
                    report=default_report,
                )
            )
        else:
            items = self.r.sequence(top["cases"], "cases")
            if not items:
                raise self.fail(top["cases"], "cases is empty")
            seen: set[str] = set()
            for item in items:
                case = self.case(item, message, default_report)
                if case.id is not None:
                    if case.id in seen:
                        raise self.fail(item, f"two cases are named {case.id!r}")
                    seen.add(case.id)
                cases.append(case)
        return Rule(
            id=rule_id,
            title=self.text(top["title"], "title"),
            layer=layer,
            layer_label=label,
            severity=severity,
            confidence=confidence,
            persona=persona,
            description=self.text(top["description"], "description")
            if "description" in top
            else "",
            adr_title=self.text(adr["title"], "adr.title") if "title" in adr else "",
            context=self.text(adr["context"], "adr.context"),
            decision=self.text(adr["decision"], "adr.decision"),
            consequences=self.text(adr["consequences"], "adr.consequences"),
            options=options,
            references=tuple(references),
            requires=requires,
            select=select,
            where=where,
            cases=tuple(cases),
            file=self.file,
            line=doc.line,
            edges=tuple(dict.fromkeys(self.edges)),
        )

    def rule_id(self, m: Marked) -> str:
        value = self.r.string(m, "id")
        if value.upper().startswith("AR-"):
            raise self.fail(
                m,
                f"id {value!r} uses archreview's own prefix AR-: give your team's "
                "prefix (ACME-DAT-001)",
            )
        if not RULE_ID.fullmatch(value):
            raise self.fail(
                m,
                f"id {value!r} must be upper-case words joined by '-', starting with your team's "
                "prefix (ACME-DAT-001)",
                value.upper() if RULE_ID.fullmatch(value.upper()) else None,
            )
        return value

    def layer(self, m: Marked) -> tuple[str, str]:
        if m.kind == MAPPING:
            body = self.r.mapping(m, "layer", ("id", "label"))
            if "id" not in body or "label" not in body:
                raise self.fail(
                    m, "a new layer names its id and label ({id: PLT, label: Platform})"
                )
            layer = self.r.string(body["id"], "layer.id")
            label = self.text(body["label"], "layer.label")
            if not LAYER_LABEL.fullmatch(label):
                raise self.fail(
                    body["label"],
                    "layer.label must be up to 40 letters, digits, spaces and . , & / ( ) + -",
                )
            if layer in LAYER_LABELS:
                return layer, LAYER_LABELS[layer]
            if not LAYER_ID.fullmatch(layer):
                raise self.fail(
                    body["id"], f"layer id {layer!r} must be 2-8 upper-case letters or digits"
                )
            return layer, label
        layer = self.r.string(m, "layer")
        if layer not in LAYER_LABELS:
            raise self.fail(
                m,
                f"unknown layer {layer!r}: one of {', '.join(LAYER_LABELS)}, or a new one as "
                "{id: XYZ, label: ...}",
                suggest(layer, tuple(LAYER_LABELS)),
            )
        return layer, LAYER_LABELS[layer]

    def case(self, m: Marked, message: str | None, report: str) -> Case:
        body = self.r.mapping(m, "the case", CASE_KEYS)
        if "require" not in body:
            raise self.fail(m, "a case has no `require`")
        return Case(
            id=self.text(body["id"], "case id") if "id" in body else None,
            when=self.condition(body["when"], 0) if "when" in body else None,
            require=self.condition(body["require"], 0),
            severity=Severity(self.choice(body["severity"], "severity", tuple(Severity)))
            if "severity" in body
            else None,
            confidence=Confidence(self.choice(body["confidence"], "confidence", tuple(Confidence)))
            if "confidence" in body
            else None,
            persona=Persona(self.choice(body["persona"], "persona", tuple(Persona)))
            if "persona" in body
            else None,
            message=self.text(body["message"], "message") if "message" in body else message,
            report=self.choice(body["report"], "report", REPORTS) if "report" in body else report,
        )

    # selectors -----------------------------------------------------------------------------------

    def selector(self, m: Marked, where: str, keys: tuple[str, ...], depth: int) -> Selector:
        body = self.r.mapping(m, where, keys)
        kw: dict[str, Any] = {}
        if "types" in body:
            kw["types"] = self.types(body["types"], f"{where}.types")
        if "generated" in body:
            g = body["generated"]
            if g.kind == BOOL:
                kw["generated"] = "include" if g.value else "exclude"
            else:
                kw["generated"] = self.choice(g, f"{where}.generated", GENERATED)
        if "modules" in body:
            kw["modules"] = self.globs(body["modules"], f"{where}.modules")
        if "paths" in body:
            kw["paths"] = self.globs(body["paths"], f"{where}.paths")
        if "names" in body:
            kw["names"] = self.globs(body["names"], f"{where}.names")
        if "tags" in body:
            tags = self.r.mapping(body["tags"], f"{where}.tags")
            if len(tags) > MAX_LIST:
                raise self.fail(body["tags"], f"{where}.tags has more than {MAX_LIST} entries")
            kw["tags"] = tuple(
                (k, check_glob(self.text(v, f"{where}.tags.{k}"))) for k, v in tags.items()
            )
        if "module" in body:
            kw["module"] = self.choice(body["module"], f"{where}.module", RELATIVE)
        if "template" in body:
            kw["template"] = self.choice(body["template"], f"{where}.template", RELATIVE)
        if "where" in body:
            kw["where"] = self.condition(body["where"], depth + 1)
        return Selector(**kw)

    def types(self, m: Marked, where: str) -> tuple[str, ...]:
        from .vocabulary import known_types

        out = self.strings(m, where)
        known = known_types()
        for t in out:
            if t in known or _custom_type(t) or (not known and TYPE_SHAPE.fullmatch(t)):
                continue
            raise self.fail(m, f"{where}: unknown resource type {t!r}", suggest(t, known))
        return out

    # conditions ----------------------------------------------------------------------------------

    def condition(self, m: Marked, depth: int) -> Cond:
        self.count_node(m, depth)
        if m.kind != MAPPING:
            raise self.r.wrong(m, "a condition", "a mapping (all, any, not, property, edge, ...)")
        keys = [k for k in m.value if k in CONDITION_KEYS]
        if not keys:
            first = next(iter(m.value), "")
            raise self.key_fail(
                m,
                first,
                f"unknown condition {first!r}; a condition is one of: {', '.join(CONDITION_KEYS)}",
                suggest(first, CONDITION_KEYS + PROPERTY_KEYS),
            )
        kind = keys[0]
        if kind in ("all", "any"):
            body = self.r.mapping(m, "the condition", (kind,))
            items = self.r.sequence(body[kind], kind)
            if not items:
                raise self.fail(body[kind], f"{kind} is empty")
            parsed = tuple(self.condition(i, depth + 1) for i in items)
            return All(parsed) if kind == "all" else AnyOf(parsed)
        if kind == "not":
            body = self.r.mapping(m, "the condition", ("not",))
            return Not(self.condition(body["not"], depth + 1))
        if kind in ("property", "attribute"):
            return self.prop(m)
        if kind == "type":
            body = self.r.mapping(m, "the condition", ("type",))
            return TypeIs(self.types(body["type"], "type"))
        if kind == "name":
            body = self.r.mapping(m, "the condition", ("name",))
            return self.name(body["name"])
        if kind == "tag":
            body = self.r.mapping(m, "the condition", ("tag",))
            node = body["tag"]
            if node.kind == MAPPING:
                spec = self.r.mapping(node, "tag", ("key", "value"))
                if "key" not in spec:
                    raise self.fail(node, "tag names its key ({key: owner, value: 'team-*'})")
                value = self.globs(spec["value"], "tag.value")[0] if "value" in spec else "*"
                return TagIs(self.text(spec["key"], "tag.key"), value)
            return TagIs(self.text(node, "tag"))
        if kind == "edge":
            return self.edge(m, depth)
        return self.count(m, depth)

    def name(self, m: Marked) -> NameIs:
        if m.kind == MAPPING:
            body = self.r.mapping(m, "name", ("glob", "regex"))
            if len(body) != 1:
                raise self.fail(m, "name takes one of glob or regex")
            if "regex" in body:
                return NameIs(None, self.regex(body["regex"], "name.regex"))
            return NameIs(self.globs(body["glob"], "name.glob")[0], None)
        return NameIs(self.globs(m, "name")[0], None)

    def prop(self, m: Marked) -> Prop:
        body = self.r.mapping(m, "the property condition", PROPERTY_KEYS)
        if ("property" in body) == ("attribute" in body):
            raise self.fail(m, "a property condition names one of property or attribute")
        attribute = "attribute" in body
        where = "attribute" if attribute else "property"
        path = self.path(body[where], where)
        tests = [k for k in body if k in PRESENCE_TESTS or k in VALUE_TESTS]
        if len(tests) != 1:
            raise self.fail(
                m,
                f"a property condition has exactly one test: {', '.join(PRESENCE_TESTS + VALUE_TESTS)}"
                + (f" (it has {', '.join(tests)})" if tests else ""),
            )
        test = tests[0]
        arg_node = body[test]
        arg: Any
        if test in PRESENCE_TESTS:
            arg = self.r.boolean(arg_node, test)
        elif test in ("equals", "contains"):
            arg = self.scalar(arg_node, test)
        elif test == "one_of":
            items = self.r.sequence(arg_node, "one_of")
            if len(items) > MAX_LIST:
                raise self.fail(arg_node, f"one_of has more than {MAX_LIST} entries")
            arg = tuple(self.scalar(i, "an entry of one_of") for i in items)
        elif test == "pattern":
            arg = self.globs(arg_node, "pattern")[0]
        elif test == "regex":
            arg = self.regex(arg_node, "regex")
        else:
            arg = self.number(arg_node, test)
        default: Any = None
        has_default = "default" in body
        if has_default:
            if test in PRESENCE_TESTS:
                raise self.key_fail(m, "default", f"a default means nothing to {test}")
            default = self.scalar(body["default"], "default")
        return Prop(path, attribute, test, arg, default, has_default, m.line)

    def edge(self, m: Marked, depth: int) -> Edge:
        body = self.r.mapping(m, "the edge condition", EDGE_KEYS)
        kind = self.r.string(body["edge"], "edge")
        if kind not in EDGE_KINDS:
            raise self.fail(
                body["edge"],
                f"unknown edge kind {kind!r}; one of {', '.join(EDGE_KINDS)}",
                suggest(kind, EDGE_KINDS),
            )
        self.edges.append(kind)
        direction = (
            self.choice(body["direction"], "direction", DIRECTIONS)
            if "direction" in body
            else "out"
        )
        wanted, other = ("to", "from") if direction == "out" else ("from", "to")
        if other in body:
            raise self.key_fail(
                m, other, f"an edge going {direction} names its peer with `{wanted}:`", wanted
            )
        peer = (
            self.selector(body[wanted], wanted, PEER_KEYS, depth) if wanted in body else Selector()
        )
        metrics: tuple[str, ...] = ()
        if "metric" in body:
            if kind != "alarm-on":
                raise self.key_fail(m, "metric", "metric is for alarm-on edges only")
            metrics = self.strings(body["metric"], "metric")
        count: tuple[str, Num] | None = None
        if "count" in body:
            spec = self.r.mapping(body["count"], "count", NUMERIC_OPS)
            if len(spec) != 1:
                raise self.fail(body["count"], f"count takes one of {', '.join(NUMERIC_OPS)}")
            op, node = next(iter(spec.items()))
            count = (op, self.number(node, f"count.{op}"))
        every = self.selector(body["every"], "every", PEER_KEYS, depth) if "every" in body else None
        compare = self.compare(body["compare"]) if "compare" in body else None
        if sum(x is not None for x in (count, every, compare)) > 1:
            raise self.fail(m, "an edge condition takes at most one of count, every, compare")
        return Edge(kind, direction, peer, metrics, count, every, compare)

    def compare(self, m: Marked) -> Compare:
        body = self.r.mapping(m, "compare", COMPARE_KEYS)
        if "property" not in body:
            raise self.fail(m, "compare names the subject's property")
        ops = [k for k in body if k in ("gt", "ge", "lt", "le")]
        if len(ops) != 1:
            raise self.fail(m, "compare takes one of gt, ge, lt, le")
        op = ops[0]
        other = self.r.mapping(body[op], f"compare.{op}", PEER_VALUE_KEYS)
        if "peer" not in other:
            raise self.fail(body[op], f"compare.{op} names the peer's property with `peer:`")
        return Compare(
            path=self.path(body["property"], "compare.property"),
            default=self.plain_number(body["default"], "compare.default")
            if "default" in body
            else None,
            op=op,
            peer_path=self.path(other["peer"], "peer"),
            peer_default=self.plain_number(other["default"], "default")
            if "default" in other
            else None,
            factor=self.plain_number(other["factor"], "factor") if "factor" in other else 1.0,
        )

    def count(self, m: Marked, depth: int) -> Count:
        body = self.r.mapping(m, "the count condition", COUNT_KEYS)
        ops = [k for k in body if k in NUMERIC_OPS]
        if len(ops) != 1:
            raise self.fail(m, f"a count condition takes one of {', '.join(NUMERIC_OPS)}")
        spec = self.r.mapping(body["count"], "count", COUNT_SELECT_KEYS)
        scope = self.choice(spec["scope"], "count.scope", SCOPES) if "scope" in spec else "template"
        before = self.r.boolean(spec["before"], "count.before") if "before" in spec else False
        selector = self.selector(
            _without(body["count"], ("scope", "before")), "count", (*SELECT_KEYS, "where"), depth
        )
        return Count(selector, scope, before, ops[0], self.number(body[ops[0]], ops[0]))


def _without(m: Marked, keys: tuple[str, ...]) -> Marked:
    return Marked(
        {k: v for k, v in m.value.items() if k not in keys},
        m.line,
        m.column,
        {k: v for k, v in m.keys.items() if k not in keys},
        m.kind,
        m.text,
    )


def _custom_type(name: str) -> bool:
    """Third-party and module types (Org::Service::Thing::MODULE, Custom::X) are allowed."""
    return name.startswith("Custom::") or name.endswith("::MODULE")
