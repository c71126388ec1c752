"""IAM: least-privilege identity and resource policies.

Policies are walked as written: every `Fn::If` branch is followed with its text path (so a
finding points into the branch at fault and names its condition), parameter defaults lower
the confidence, and what cannot be resolved never yields a high-confidence finding.

An identity's explicit Deny statements (its own policies, the policies attached to it in the
template, its SAM Policies) are read with its Allows: a certain Deny that covers a grant
removes it, one that may cover part of it is said in the finding. Facts about AWS come from
dated data files in reviewer/data/: action classes (iam_actions.yaml), IAM service prefixes
(iam_prefixes.yaml) and the AWS managed policies that grant too much (managed_policies.yaml).
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from pathlib import Path as FsPath
from typing import Any, TypeVar

from reviewer.checks.facts import IDENTITY_TYPES, LAMBDA_TYPES
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.bounds import tick
from reviewer.core.datafile import load_yaml
from reviewer.core.types import Confidence, Hit, Path, Related
from reviewer.model.resolve import (
    NOVALUE,
    Branch,
    RefTo,
    Unresolved,
    branch_values,
    if_args,
    intrinsic,
    resolve,
    targets,
    truthy,
)
from reviewer.model.template import MISSING, Resource, Template

_DATA_DIR = FsPath(__file__).resolve().parent.parent / "data"
_DATA = _DATA_DIR / "iam_actions.yaml"
_PREFIX_DATA = _DATA_DIR / "iam_prefixes.yaml"
_MANAGED_DATA = _DATA_DIR / "managed_policies.yaml"
_ACCOUNT_LEVEL_DATA = _DATA_DIR / "iam_no_resource_level.json"

# -- walking written values ---------------------------------------------------------------------


# one possible value of a written node (reviewer.model.resolve.Branch)
Leaf = Branch


def branches(
    t: Template,
    node: Any,
    path: Path,
    conditions: tuple[str, ...] = (),
    assumed: bool = False,
    depth: int = 0,
) -> Iterator[Leaf]:
    """The possible values of `node` (AWS::NoValue dropped; reviewer.model.resolve.branch_values)."""
    if node is MISSING:
        return
    for branch in branch_values(t, node, path, conditions, assumed, depth):
        if branch.value is not NOVALUE:
            yield branch


def leaves(
    t: Template,
    node: Any,
    path: Path,
    conditions: tuple[str, ...] = (),
    assumed: bool = False,
    depth: int = 0,
) -> Iterator[Leaf]:
    """The scalar items of a string-or-list value, each with its own text path."""
    if node is MISSING or depth > 12:
        return
    if isinstance(node, str):  # the common case: no intrinsic to look for
        yield Leaf(node, path, conditions, assumed)
        return
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, str) and depth < 12:  # (what the call would yield for it)
                yield Leaf(item, (*path, i), conditions, assumed)
            else:
                yield from leaves(t, item, (*path, i), conditions, assumed, depth + 1)
        return
    args = if_args(node)
    if args is not None:
        cond = str(args[0])
        yield from leaves(t, args[1], (*path, "Fn::If", 1), (*conditions, cond), assumed, depth + 1)
        yield from leaves(
            t, args[2], (*path, "Fn::If", 2), (*conditions, "!" + cond), assumed, depth + 1
        )
        return
    fn = intrinsic(node)
    if fn is None:
        yield Leaf(node, path, conditions, assumed)
        return
    split = _list_parameter(t, node)
    for outcome in resolve(t, node):
        if outcome.value is NOVALUE:
            continue
        values: list[Any]
        if isinstance(outcome.value, list):
            values = outcome.value
        elif split and isinstance(outcome.value, str):
            values = [v.strip() for v in outcome.value.split(",")]
        else:
            values = [outcome.value]
        conds = tuple(dict.fromkeys((*conditions, *outcome.conditions)))
        for value in values:
            yield Leaf(value, path, conds, assumed or outcome.assumed)


def _list_parameter(t: Template, node: Any) -> bool:
    fn = intrinsic(node)
    if fn is None or fn[0] != "Ref" or not isinstance(fn[1], str):
        return False
    decl = t.parameters.get(fn[1])
    ptype = decl.get("Type") if isinstance(decl, Mapping) else None
    return isinstance(ptype, str) and (ptype == "CommaDelimitedList" or ptype.startswith("List<"))


def nested(t: Template, res: Resource, *path: str) -> list[Leaf]:
    """The possible values of a property below Properties, following Fn::If at every level.
    No leaves when the first key is absent; a MISSING leaf where a nested key is absent."""
    current = list(branches(t, res.get(path[0]), ("Properties", path[0])))
    for key in path[1:]:
        nxt: list[Leaf] = []
        for leaf in current:
            if isinstance(leaf.value, Mapping) and key in leaf.value:
                nxt.extend(
                    branches(t, leaf.value[key], (*leaf.path, key), leaf.conditions, leaf.assumed)
                )
            else:
                value = leaf.value if isinstance(leaf.value, Unresolved) else MISSING
                nxt.append(Leaf(value, (*leaf.path, key), leaf.conditions, leaf.assumed))
        current = nxt
    return current


def when(conditions: Iterable[str]) -> str:
    """' when condition X is true and Y is false' (empty when unconditional)."""
    parts = [
        f"{c[1:]} is false" if c.startswith("!") else f"{c} is true"
        for c in dict.fromkeys(conditions)
    ]
    return f" when condition {' and '.join(parts)}" if parts else ""


def lowest(*confidences: Confidence | None) -> Confidence | None:
    known = [c for c in confidences if c is not None]
    if not known:
        return None
    return min(known, key=lambda c: c.rank)


def json_or_node(node: Any) -> Any:
    """Policy documents may be written as a JSON string."""
    if isinstance(node, str):
        try:
            return json.loads(node)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return node
    return node


# -- policy documents and statements ------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    resource: Resource
    path: Path  # to the document (the mapping holding Statement)
    document: Mapping[str, Any]
    conditions: tuple[str, ...]
    assumed: bool
    label: str  # where the document sits, for messages

    def __init__(
        self,
        resource: Resource,
        path: Path,
        document: Mapping[str, Any],
        conditions: tuple[str, ...],
        assumed: bool,
        label: str,
    ) -> None:
        fields = self.__dict__  # (each IAM check makes them: as reviewer.model.resolve.Branch)
        fields["resource"] = resource
        fields["path"] = path
        fields["document"] = document
        fields["conditions"] = conditions
        fields["assumed"] = assumed
        fields["label"] = label


@dataclass(frozen=True)
class Stmt:
    doc: Doc
    path: Path
    node: Mapping[str, Any]
    conditions: tuple[str, ...]
    assumed: bool

    def __init__(
        self,
        doc: Doc,
        path: Path,
        node: Mapping[str, Any],
        conditions: tuple[str, ...],
        assumed: bool,
    ) -> None:
        fields = self.__dict__  # (as Doc)
        fields["doc"] = doc
        fields["path"] = path
        fields["node"] = node
        fields["conditions"] = conditions
        fields["assumed"] = assumed

    @property
    def resource(self) -> Resource:
        return self.doc.resource


def _docs_at(t: Template, res: Resource, node: Any, path: Path, label: str) -> Iterator[Doc]:
    for leaf in branches(t, node, path):
        doc = json_or_node(leaf.value)
        if isinstance(doc, Mapping) and "Statement" in doc:
            yield Doc(res, leaf.path, doc, leaf.conditions, leaf.assumed, label)


@dataclass(frozen=True)
class Written:
    """A policy document as written, whoever holds it: SAM Globals put the same document into
    every function of the template."""

    path: Path
    document: Mapping[str, Any]
    conditions: tuple[str, ...]
    assumed: bool
    label: str

    def held_by(self, res: Resource) -> Doc:
        return Doc(res, self.path, self.document, self.conditions, self.assumed, self.label)


# (id(item), its path, conditions, assumed) -> (item, what it holds): a SAM Policies item merged
# from Globals is the same node in every function, so it is read once per check
_ItemMemo = dict[tuple[int, Path, tuple[str, ...], bool], tuple[Any, tuple[Written, ...]]]


def _written(t: Template, res: Resource, memo: _ItemMemo | None = None) -> Iterator[Written]:
    """The identity policy documents a resource holds, in the order identity_docs gives them."""
    if res.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for pol in branches(t, res.get("Policies"), ("Properties", "Policies")):
            items = pol.value if isinstance(pol.value, list) else []
            for i, item in enumerate(items):
                for entry in branches(t, item, (*pol.path, i), pol.conditions, pol.assumed):
                    if not isinstance(entry.value, Mapping):
                        continue
                    name = entry.value.get("PolicyName")
                    label = f"inline policy {name}" if isinstance(name, str) else "an inline policy"
                    for doc in _docs_at(
                        t,
                        res,
                        entry.value.get("PolicyDocument", MISSING),
                        (*entry.path, "PolicyDocument"),
                        label,
                    ):
                        yield Written(
                            doc.path,
                            doc.document,
                            tuple(dict.fromkeys((*entry.conditions, *doc.conditions))),
                            entry.assumed or doc.assumed,
                            label,
                        )
    elif res.type.startswith("AWS::IAM::"):
        for doc in _docs_at(
            t, res, res.get("PolicyDocument"), ("Properties", "PolicyDocument"), "PolicyDocument"
        ):
            yield Written(doc.path, doc.document, doc.conditions, doc.assumed, doc.label)
    else:
        for pol in branches(t, res.get("Policies"), ("Properties", "Policies")):
            if isinstance(pol.value, Mapping) and "Statement" in pol.value:
                yield Written(pol.path, pol.value, pol.conditions, pol.assumed, "Policies")
            elif isinstance(pol.value, list):
                for i, item in enumerate(pol.value):
                    path = (*pol.path, i)
                    key = (id(item), path, pol.conditions, pol.assumed)
                    known = memo.get(key) if memo is not None else None
                    if known is None or known[0] is not item:
                        held = tuple(
                            Written(e.path, e.value, e.conditions, e.assumed, f"Policies[{i}]")
                            for e in branches(t, item, path, pol.conditions, pol.assumed)
                            if isinstance(e.value, Mapping) and "Statement" in e.value
                        )
                        known = (item, held)
                        if memo is not None:
                            memo[key] = known
                    yield from known[1]


def _identity_holders(t: Template) -> Iterator[Resource]:
    for res in t.of_type(*IDENTITY_TYPES):
        if not res.implicit:
            yield res


def _held_documents(t: Template) -> tuple[tuple[Resource, tuple[Written, ...]], ...]:
    """Each identity holder with the documents it holds, worked out once per template
    (Template.derive): every IAM check reads them."""

    def make() -> tuple[tuple[Resource, tuple[Written, ...]], ...]:
        items: _ItemMemo = {}
        return tuple((res, tuple(_written(t, res, items))) for res in _identity_holders(t))

    return t.derive(("iam.held",), t.resources, make)


def identity_docs(t: Template) -> Iterator[Doc]:
    """Identity-based policy documents: inline policies of roles, users and groups, the IAM
    policy types, and the inline statements of SAM `Policies` (functions, state machines).
    SAM-generated roles are skipped: their statements are judged on the SAM source."""
    for res, held in _held_documents(t):
        for written in held:
            yield written.held_by(res)


_Verdict = TypeVar("_Verdict")


def judged_identity_docs(
    t: Template, judge: Callable[[Template, Doc, DenyGroups], list[_Verdict]]
) -> Iterator[tuple[Doc, _Verdict]]:
    """(document, verdict) for each identity policy document (as identity_docs gives them) and
    each verdict `judge` gives on it, knowing the explicit Denies that apply to its holder. A
    document written once and held by many resources (SAM Globals merged into every function)
    is judged once per distinct set of Denies: the work grows with what is written, not with
    the number of functions times the statements. `judge` must not depend on which resource
    holds the document (its messages name the resource: the caller adds it)."""
    denies = identity_denies(t)
    verdicts: dict[
        tuple[int, Path, tuple[str, ...], bool, DenyGroups], tuple[Any, list[_Verdict]]
    ] = {}
    for res, documents in _held_documents(t):
        held = denies.get(res.logical_id, ())
        for written in documents:
            key = (id(written.document), written.path, written.conditions, written.assumed, held)
            known = verdicts.get(key)
            if known is None or known[0] is not written.document:
                known = (written.document, judge(t, written.held_by(res), held))
                verdicts[key] = known
            for verdict in known[1]:
                yield written.held_by(res), verdict


def judged_identity_groups(
    t: Template, judge: Callable[[Template, Doc, DenyGroups], list[_Verdict]]
) -> Iterator[tuple[tuple[Doc, ...], _Verdict]]:
    """Each verdict of judged_identity_docs once, with every resource that holds the written
    document, in the order they come: a policy written once in SAM Globals (or through a YAML
    alias) is one root cause, whatever the number of functions that inherit it."""
    groups: dict[int, tuple[_Verdict, list[Doc]]] = {}
    for doc, verdict in judged_identity_docs(t, judge):
        found = groups.get(id(verdict))  # the same verdict object for every holder
        if found is None:
            groups[id(verdict)] = (verdict, [doc])
        else:
            found[1].append(doc)
    for verdict, docs in groups.values():
        yield tuple(docs), verdict


def statements(t: Template, doc: Doc) -> Iterator[Stmt]:
    """The statements of a document, each with its text path. Worked out once per written
    document and template (Template.derive: every IAM check walks them), and each is still a
    work unit of every walk (reviewer.core.bounds; tests count them)."""
    document = doc.document
    key = ("iam.statements", id(document), doc.path, doc.conditions, doc.assumed)
    found = t.derive(key, document, lambda: _statement_bodies(t, doc))
    for body in found:
        tick("iam.statement")
        yield Stmt(doc, body.path, body.value, body.conditions, body.assumed)


def _statement_bodies(t: Template, doc: Doc) -> tuple[Leaf, ...]:
    found: list[Leaf] = []
    for body in branches(
        t,
        doc.document.get("Statement", MISSING),
        (*doc.path, "Statement"),
        doc.conditions,
        doc.assumed,
    ):
        if isinstance(body.value, Mapping):
            found.append(body)
        elif isinstance(body.value, list):
            for i, item in enumerate(body.value):
                for entry in branches(t, item, (*body.path, i), body.conditions, body.assumed):
                    if isinstance(entry.value, Mapping):
                        found.append(entry)
    return tuple(found)


def _stmt_leaves(t: Template, stmt: Stmt, key: str, scalars: bool) -> list[Leaf]:
    """The values written at `key` of a statement: its possible values (branches), or its
    scalar items (leaves); worked out once per statement and template (Template.derive)."""
    node = stmt.node

    def make() -> tuple[Leaf, ...]:
        walk = leaves if scalars else branches
        return tuple(
            walk(t, node.get(key, MISSING), (*stmt.path, key), stmt.conditions, stmt.assumed)
        )

    memo_key = ("iam.leaves", id(node), stmt.path, key, scalars, stmt.conditions, stmt.assumed)
    return list(t.derive(memo_key, node, make))


def _effects(t: Template, stmt: Stmt) -> list[Leaf]:
    return _stmt_leaves(t, stmt, "Effect", False)


def _allows(t: Template, stmt: Stmt) -> Leaf | None:
    """The Allow leaf of the statement's Effect (None when it never allows)."""
    for leaf in _effects(t, stmt):
        if leaf.value == "Allow":
            return leaf
    return None


def statement_leaves(t: Template, stmt: Stmt, key: str) -> list[Leaf]:
    """The scalar items written at `key` of a statement (Action, Resource ...), each with its
    text path, the statement's conditions and its own: worked out once per statement and
    template (the IAM checks and AR-OBS-003 all read them)."""
    return _stmt_leaves(t, stmt, key, True)


_leaves_of = statement_leaves


def _is_full_wildcard(action: Any) -> bool:
    """ "*" or a whole service: "s3:*" (IAM actions are case-insensitive)."""
    if not isinstance(action, str):
        return False
    text = action.strip()
    if text in ("*", "*:*"):
        return True
    service, sep, name = text.partition(":")
    return bool(sep) and name == "*" and bool(service) and "*" not in service


def _star(values: Iterable[Leaf]) -> Leaf | None:
    for leaf in values:
        if leaf.value == "*":
            return leaf
    return None


def _merge(*leaves_: Leaf | None) -> tuple[tuple[str, ...], bool, Confidence | None]:
    conds: list[str] = []
    assumed = False
    conf: Confidence | None = None
    for leaf in leaves_:
        if leaf is None:
            continue
        conds.extend(leaf.conditions)
        assumed = assumed or leaf.assumed
        conf = lowest(conf, leaf.confidence)
    return tuple(dict.fromkeys(conds)), assumed, conf


def _at(action: Leaf, star: Leaf) -> Path:
    """Point at the action, unless only the Resource "*" sits in a Fn::If branch."""
    if "Fn::If" in star.path and "Fn::If" not in action.path:
        return star.path
    return action.path


def _assumed_note(assumed: bool) -> str:
    return " (value taken from a parameter default)" if assumed else ""


def _full_wildcards(t: Template, stmt: Stmt) -> tuple[Leaf | None, list[Leaf], Leaf | None]:
    """(allow leaf, wildcard action leaves, Resource "*" leaf) of an Allow statement, worked
    out once per statement and template (AR-IAM-001 and AR-IAM-004 both ask)."""
    node = stmt.node

    def make() -> tuple[Leaf | None, tuple[Leaf, ...], Leaf | None]:
        allow = _allows(t, stmt)
        if allow is None:
            return None, (), None
        wild = tuple(a for a in _leaves_of(t, stmt, "Action") if _is_full_wildcard(a.value))
        return allow, wild, _star(_leaves_of(t, stmt, "Resource"))

    key = ("iam.wildcards", id(node), stmt.path, stmt.conditions, stmt.assumed)
    allow, wild, star = t.derive(key, node, make)
    return allow, list(wild), star


# -- how far a grant on Resource "*" reaches ----------------------------------------------------


class Reach(IntEnum):
    """How far a grant on Resource "*" reaches (reviewer/data/iam_actions.yaml): what decides
    the severity of AR-IAM-001 and AR-IAM-004."""

    NONE = 0  # what AWS's own execution-role policies grant every function on "*"
    TELEMETRY = 1  # logs, metrics, traces, alarms
    REQUEST = 2  # calls that act on the request (model invocation, speech): cost, little data
    DATA = 3  # what a service holds: read, change or delete it
    ESCALATION = 4  # change who may do what, or run as another principal
    ADMIN = 5  # every action of every service


@dataclass(frozen=True)
class _Names:
    """A list of action names from the data file: exact names and prefixes (lower case)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @staticmethod
    def of(items: Iterable[Any]) -> _Names:
        exact: set[str] = set()
        prefixes: list[str] = []
        for item in items:
            text = str(item).strip().lower()
            if text.endswith("*"):
                prefixes.append(text[:-1])
            else:
                exact.add(text)
        return _Names(frozenset(exact), tuple(prefixes))

    def covers(self, action: str) -> bool:
        """Every action `action` names is listed ("xray:Put*" inside the prefix "xray:put")."""
        text = action.strip().lower()
        fixed = text.split("*", 1)[0]
        return text in self.exact or any(fixed.startswith(p) for p in self.prefixes)

    def reaches(self, action: str) -> bool:
        """Some action `action` names is listed ("s3:Put*" can be s3:PutBucketPolicy,
        "s3:*Object" cannot)."""
        text = action.strip().lower()
        if "*" not in text and "?" not in text:
            return self.covers(text)
        fixed = re.split(r"[*?]", text, maxsplit=1)[0]
        return any(glob_match(text, e) for e in self.exact) or any(
            p.startswith(fixed) or fixed.startswith(p) for p in self.prefixes
        )


def glob_match(pattern: str, name: str) -> bool:
    """Whether an IAM action pattern ("*" any run of characters, "?" one) matches `name`, in
    time bounded by the name's length (the pattern comes from the scanned repository)."""
    pattern = re.sub(r"\*+", "*", pattern)
    if len(pattern) - pattern.count("*") > len(name):
        return False
    p = t = 0
    star, mark = -1, 0
    while t < len(name):
        if p < len(pattern) and pattern[p] in ("?", name[t]):
            p, t = p + 1, t + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark, p = p, t, p + 1
        elif star >= 0:
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    return all(c == "*" for c in pattern[p:])


@dataclass(frozen=True)
class _Facts:
    write_verbs: tuple[str, ...]
    no_resource_level: _Names
    execution_role_grants: frozenset[str]
    escalation_services: frozenset[str]
    escalation_actions: _Names
    telemetry_services: frozenset[str]
    request_services: frozenset[str]
    request_actions: _Names


@functools.cache
def _facts() -> _Facts:
    data = load_yaml(_DATA.read_text(encoding="utf-8")) or {}

    def lower(key: str) -> frozenset[str]:
        return frozenset(str(v).strip().lower() for v in data.get(key) or ())

    return _Facts(
        write_verbs=tuple(str(v).lower() for v in data.get("write_verbs") or ()),
        no_resource_level=_Names.of(data.get("no_resource_level") or ()),
        execution_role_grants=lower("execution_role_grants"),
        escalation_services=lower("escalation_services"),
        escalation_actions=_Names.of(data.get("escalation_actions") or ()),
        telemetry_services=lower("telemetry_services"),
        request_services=lower("request_services"),
        request_actions=_Names.of(data.get("request_actions") or ()),
    )


@functools.cache
def _account_level() -> dict[str, frozenset[str]]:
    """The actions the Service Authorization Reference gives no resource type, by service
    prefix (reviewer/data/iam_no_resource_level.json, dated; bench/refresh_iam_prefixes.py)."""
    data = json.loads(_ACCOUNT_LEVEL_DATA.read_text(encoding="utf-8"))
    return {str(k): frozenset(str(a) for a in v) for k, v in data["actions"].items()}


def without_resource_level(action: str) -> bool:
    """True for actions that accept only Resource "*": a named action the Service
    Authorization Reference gives no resource type (bedrock:CreateAgent), or one the hand-kept
    list in iam_actions.yaml covers (a wildcard only when it lies inside a listed prefix:
    "xray:Put*" passes, "s3:Put*" does not)."""
    if _facts().no_resource_level.covers(action):
        return True
    service, sep, name = action.strip().lower().partition(":")
    if not sep or "*" in name or "?" in name:
        return False
    return name in _account_level().get(service, frozenset())


def is_write_action(action: str) -> bool:
    """Write, delete or permission-management actions (by the verb of the action name)."""
    verbs = _facts().write_verbs
    service, sep, name = action.strip().partition(":")
    if not sep or not service or not name:
        return False
    name = name.lower()
    if "*" not in name:
        return name.startswith(verbs)  # (str.startswith takes the tuple of verbs)
    fixed = name.split("*", 1)[0]
    if not fixed:
        return True  # "*Object" can match PutObject and DeleteObject
    return fixed.startswith(verbs) or any(v.startswith(fixed) for v in verbs)


def service_reach(action: str) -> Reach:
    """How far a whole-service wildcard ("s3:*", or "*") on Resource "*" reaches."""
    text = action.strip().lower()
    if text in ("*", "*:*"):
        return Reach.ADMIN
    facts = _facts()
    service = text.split(":", 1)[0]
    if service in facts.escalation_services:
        return Reach.ESCALATION
    if service in facts.telemetry_services:
        return Reach.TELEMETRY
    if service in facts.request_services:
        return Reach.REQUEST
    return Reach.DATA


def write_reach(action: str) -> Reach:
    """How far a write action (or a wildcard over writes) on Resource "*" reaches: NONE for
    what every function's execution role gets on "*" from AWS's own managed policies."""
    text = action.strip().lower()
    facts = _facts()
    if text in facts.execution_role_grants:
        return Reach.NONE
    service = text.split(":", 1)[0]
    if service in facts.escalation_services or facts.escalation_actions.reaches(text):
        return Reach.ESCALATION
    if service in facts.telemetry_services:
        return Reach.TELEMETRY
    if facts.request_actions.covers(text):
        return Reach.REQUEST
    return Reach.DATA


@dataclass(frozen=True)
class Verdict:
    """What one check says about one written policy document: where (its worst statement),
    the message without the holder's name (the check puts it in front), the confidence and
    variant, and the document's other statements that say the same, as (path, label)."""

    path: Path
    said: str
    confidence: Confidence | None
    variant: str | None = None
    also: tuple[tuple[Path, str], ...] = ()


@dataclass(frozen=True)
class _Grant:
    """One Allow statement of a document that a check reports: how far it reaches."""

    index: int
    reach: Reach
    path: Path
    names: tuple[str, ...]
    conditions: tuple[str, ...]
    assumed: bool
    confidence: Confidence | None

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """The statement a document's finding points at: the widest reach, then the most
        certain, then the first written."""
        certain = Confidence.HIGH.rank if self.confidence is None else self.confidence.rank
        return (int(self.reach), certain, -self.index)


def _one_per_document(
    grants: list[_Grant], said: Callable[[_Grant, list[str]], str], variants: Mapping[Reach, str]
) -> list[Verdict]:
    """One verdict for a document's reported statements: the widest names every action of the
    document and is located at its own statement; the others become related locations."""
    if not grants:
        return []
    worst = max(grants, key=lambda g: g.sort_key)
    names = list(dict.fromkeys(n for g in [worst, *grants] for n in g.names))
    also = tuple(
        (g.path, f"also allows {', '.join(g.names)} on Resource '*'{when(g.conditions)}")
        for g in grants
        if g is not worst
    )
    return [
        Verdict(worst.path, said(worst, names), worst.confidence, variants.get(worst.reach), also)
    ]


def _statements_note(count: int) -> str:
    return f" in {count} statements" if count > 1 else ""


_MAX_HOLDERS_NAMED = 10


def _document_hit(docs: tuple[Doc, ...], verdict: Verdict) -> Hit:
    """The Hit for a verdict on a document that one or several resources hold."""
    name = docs[0].resource.logical_id
    others = list(
        dict.fromkeys(d.resource.logical_id for d in docs[1:] if d.resource.logical_id != name)
    )
    named = others[:_MAX_HOLDERS_NAMED]
    held = ""
    if others:
        more = len(others) - len(named)
        held = (
            f"; the document is written once and also held by "
            f"{_names([*named, *([f'{more} more'] if more else [])])}"
        )
    related = (
        *(Related(name, path, label) for path, label in verdict.also),
        *(Related(o, verdict.path, "holds the same written policy") for o in others),
    )
    return Hit(
        name,
        verdict.path,
        f"{name} ({docs[0].label}) {verdict.said}{held}",
        confidence=verdict.confidence,
        related=related,
        variant=verdict.variant,
    )


# AR-IAM-001: the rule's severity (critical) is for "*" and the services that can grant any
# other permission; the variants (rules/AR-IAM-001.yaml) for the narrower reaches.
_WILDCARD_VARIANTS: dict[Reach, str] = {
    Reach.DATA: "service-wildcard",
    Reach.REQUEST: "request-service-wildcard",
    Reach.TELEMETRY: "telemetry-wildcard",
}


_ESCALATION_SAID = {
    "iam": "grant itself any other permission, which makes it an administrator",
    "sts": "assume every role whose trust policy trusts this account, with that role's permissions",
    "organizations": "change the organization: create and remove accounts and change "
    "service control policies",
}
_TELEMETRY_SAID = {
    "logs": (
        "read, export and delete every log group (and the application data its events carry) "
        "and set the log groups' resource and account policies"
    ),
    "cloudwatch": "change and delete every metric alarm and dashboard",
    "xray": "read every trace",
}


def _wildcard_said(worst: _Grant, names: list[str], count: int) -> str:
    services = list(dict.fromkeys(n.split(":")[0] for n in names if n not in ("*", "*:*")))
    scope = f"every action of {', '.join(services)} on every resource in the account"
    if worst.reach is Reach.ADMIN:
        scope = "every action of every service on every resource in the account"
        why = "which is full administrator access"
    elif worst.reach is Reach.ESCALATION:
        esc = [n for n in names if service_reach(n) is Reach.ESCALATION]
        why = "; ".join(
            f"{n} lets the holder {_ESCALATION_SAID.get(n.split(':')[0].lower(), _ESCALATION_SAID['iam'])}"
            for n in esc
        )
    elif worst.reach is Reach.DATA:
        why = "the holder can read, change or delete everything these services hold"
    elif worst.reach is Reach.REQUEST:
        why = (
            "the holder can run and manage any job or resource of these services, at the "
            "account's cost"
        )
    else:
        parts = [
            _TELEMETRY_SAID.get(svc.lower(), "read and delete its telemetry")
            for svc in services
            if service_reach(f"{svc}:*") is Reach.TELEMETRY
        ]
        why = f"the holder can {_names(list(dict.fromkeys(parts)))}"
    sep = ", " if worst.reach is Reach.ADMIN else "; "
    return (
        f"allows {', '.join(repr(n) for n in names)} on Resource "
        f"'*'{when(worst.conditions)}{_assumed_note(worst.assumed)}{_statements_note(count)}: "
        f"{scope}{sep}{why}"
    )


def _star_on_star(t: Template, doc: Doc, denies: DenyGroups) -> list[Verdict]:
    grants: list[_Grant] = []
    narrowed: list[Deny] = []
    limits: list[Deny] = []
    for index, stmt in enumerate(statements(t, doc)):
        allow, wild, star = _full_wildcards(t, stmt)
        if allow is None or not wild or star is None:
            continue
        kept: list[Leaf] = []
        left: list[str] = []
        for leaf in wild:
            if unknown_prefix(str(leaf.value)) is not None:
                continue  # grants nothing: AR-IAM-008
            cover, deny = cover_all(str(leaf.value), denies)
            if cover is Cover.REMOVED:
                continue
            kept.append(leaf)
            if deny is not None:
                limited = _left_by_not_action(str(leaf.value), deny)
                if limited:
                    left.extend(limited)  # what a Deny with NotAction on "*" leaves
                    limits.append(deny)
                    continue
                narrowed.append(deny)
            left.append(str(leaf.value))
        if not kept:
            continue
        names = tuple(dict.fromkeys(left))
        conds, assumed, conf = _merge(allow, kept[0], star)
        reach = max(service_reach(n) for n in names)
        grants.append(_Grant(index, reach, _at(kept[0], star), names, conds, assumed, conf))
    verdicts = _narrowed(
        _one_per_document(
            grants, lambda w, names: _wildcard_said(w, names, len(grants)), _WILDCARD_VARIANTS
        ),
        narrowed,
    )
    if limits:
        where = ", ".join(dict.fromkeys(d.where for d in limits))
        note = f" (what the Deny of everything else in {where} leaves of the written actions)"
        verdicts = [replace(v, said=v.said.replace(": ", note + ": ", 1)) for v in verdicts]
    return verdicts


def _left_by_not_action(action: str, deny: Deny) -> list[str]:
    """The whole-service wildcards an Allow of `action` keeps under a Deny of everything but
    them (NotAction) on every resource: what the identity is really granted."""
    if not deny.not_action or deny.not_resource or "*" not in deny.resources:
        return []
    text = action.strip().lower()
    left = [q for q in deny.actions if _actions_overlap(q, text)]
    if left and all(_is_full_wildcard(q) and _action_covers(text, q) for q in left):
        return left
    return []


def _narrowed(verdicts: list[Verdict], denies: list[Deny]) -> list[Verdict]:
    """A document's verdicts, saying so (at medium confidence at most) when a Deny of the
    identity takes part of the grant away."""
    if not denies:
        return verdicts
    return [
        replace(
            v,
            said=v.said + _narrowed_note(denies),
            confidence=lowest(v.confidence, Confidence.MEDIUM),
        )
        for v in verdicts
    ]


@template_check("AR-IAM-001")
def allow_star_on_star(ctx: TemplateContext) -> Iterator[Yielded]:
    for docs, verdict in judged_identity_groups(ctx.template, _star_on_star):
        yield _document_hit(docs, verdict)


# -- AR-IAM-002: trust and resource policies ----------------------------------------------------

RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalServiceName",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceIp",
        "aws:VpcSourceIp",
        "aws:userid",
        "kms:CallerAccount",
        "s3:DataAccessPointAccount",
        "s3:DataAccessPointArn",
    )
)


def _restricting(t: Template, condition: Any) -> bool:
    """A Condition block that pins the caller: a positive operator (not Not*, not ...IfExists,
    not Null) on a key such as aws:SourceArn or aws:PrincipalOrgID, with a value other than
    "*"."""
    block = resolve(t, condition)[0].value if intrinsic(condition) is not None else condition
    if not isinstance(block, Mapping):
        return False
    for operator, entries in block.items():
        if not isinstance(operator, str) or not isinstance(entries, Mapping):
            continue
        op = (
            operator.split(":", 1)[1]
            if operator.startswith(("ForAnyValue:", "ForAllValues:"))
            else operator
        )
        if op.endswith("IfExists") or op == "Null" or "Not" in op:
            continue
        for key, value in entries.items():
            if not isinstance(key, str) or key.lower() not in RESTRICTING_KEYS:
                continue
            values = value if isinstance(value, list) else [value]
            if values and all(v != "*" for v in values):
                return True
    return False


def _everyone(t: Template, stmt: Stmt) -> tuple[Leaf | None, str]:
    """The Principal leaf naming everyone ("*" or {"AWS": "*"}), or an Allow with NotPrincipal."""
    for leaf in branches(
        t,
        stmt.node.get("Principal", MISSING),
        (*stmt.path, "Principal"),
        stmt.conditions,
        stmt.assumed,
    ):
        if leaf.value == "*":
            return leaf, "Principal '*'"
        if isinstance(leaf.value, Mapping):
            for kind in ("AWS", "Federated"):
                if kind not in leaf.value:
                    continue
                for item in leaves(
                    t, leaf.value[kind], (*leaf.path, kind), leaf.conditions, leaf.assumed
                ):
                    if item.value == "*":
                        return item, f"Principal {{{kind}: '*'}}"
    if "NotPrincipal" in stmt.node:
        return Leaf(
            stmt.node["NotPrincipal"], (*stmt.path, "NotPrincipal"), stmt.conditions, stmt.assumed
        ), "NotPrincipal (everyone but the listed principals)"
    return None, ""


def resource_docs(t: Template) -> Iterator[Doc]:
    """Trust and resource policies: role trust policies (and SAM functions'
    AssumeRolePolicyDocument), KMS key policies, SQS/SNS/S3 policies, EventBridge bus policies."""
    props = {
        "AWS::IAM::Role": ("AssumeRolePolicyDocument", "trust policy"),
        "AWS::Serverless::Function": ("AssumeRolePolicyDocument", "trust policy"),
        "AWS::KMS::Key": ("KeyPolicy", "key policy"),
        "AWS::SQS::QueuePolicy": ("PolicyDocument", "queue policy"),
        "AWS::SQS::QueueInlinePolicy": ("PolicyDocument", "queue policy"),
        "AWS::SNS::TopicPolicy": ("PolicyDocument", "topic policy"),
        "AWS::SNS::TopicInlinePolicy": ("PolicyDocument", "topic policy"),
        "AWS::S3::BucketPolicy": ("PolicyDocument", "bucket policy"),
        "AWS::Events::EventBus": ("Policy", "event bus policy"),
    }
    for res in t.of_type(*props):
        if res.implicit:
            continue
        key, label = props[res.type]
        yield from _docs_at(t, res, res.get(key), ("Properties", key), label)


def _shown(names: list[str]) -> str:
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


def _first_actions(t: Template, stmt: Stmt, key: str = "Action") -> str:
    names = [str(a.value) for a in _leaves_of(t, stmt, key) if isinstance(a.value, str)]
    if not names:
        return "its actions"
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return shown


def _pins_by_deny(t: Template, condition: Any) -> bool:
    """A Deny's Condition that applies to every caller but the pinned ones: every entry is a
    negated operator (StringNotEquals, ArnNotLike, NotIpAddress, ...) on a key such as
    aws:PrincipalOrgID or aws:SourceVpce, with values other than "*". ...IfExists variants do
    not count (a request without the key would pass the Deny), nor does a Deny whose other
    entries hold only sometimes (the entries of a Condition must all match)."""
    block = resolve(t, condition)[0].value if intrinsic(condition) is not None else condition
    if not isinstance(block, Mapping) or not block:
        return False
    for operator, entries in block.items():
        if not isinstance(operator, str) or not isinstance(entries, Mapping) or not entries:
            return False
        op = operator.split(":", 1)[1] if ":" in operator else operator
        if "Not" not in op or op.endswith("IfExists") or op == "Null":
            return False
        for key, value in entries.items():
            if not isinstance(key, str) or key.lower() not in RESTRICTING_KEYS:
                return False
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) and v != "*" for v in values):
                return False
    return True


_MAX_PINNING = 50  # pinning Denies read per policy document


def _pinning_denies(t: Template, found: list[Stmt]) -> list[Stmt]:
    """The certain Deny statements of a resource policy, for everyone, whose Condition spares
    only pinned callers (at most _MAX_PINNING of them)."""
    out: list[Stmt] = []
    for other in found:
        if other.conditions or other.assumed or "NotAction" in other.node:
            continue
        if "NotResource" in other.node or "NotPrincipal" in other.node:
            continue
        if [e.value for e in _effects(t, other)] != ["Deny"]:
            continue
        principal, _ = _everyone(t, other)
        if principal is None or not _pins_by_deny(t, other.node.get("Condition")):
            continue
        out.append(other)
        if len(out) >= _MAX_PINNING:
            break
    return out


def _pinned_actions(t: Template, stmt: Stmt, siblings: list[Stmt]) -> set[str]:
    """The actions (lower case) of an Allow to everyone that a Deny of the same policy covers,
    for everyone but the callers its Condition pins, on every resource the Allow names."""
    actions = [
        str(a.value).strip().lower()
        for a in _leaves_of(t, stmt, "Action")
        if isinstance(a.value, str)
    ]
    resources = [_text_leaf(r) for r in _leaves_of(t, stmt, "Resource")]
    pinned: set[str] = set()
    for other in siblings:
        tick("iam.deny")
        covered = [_text_leaf(r) for r in _leaves_of(t, other, "Resource")]
        if not (
            "*" in covered
            or (
                resources
                and all(
                    r is not None and any(c is not None and glob_match(c, r) for c in covered)
                    for r in resources
                )
            )
        ):
            continue
        denied = [
            str(a.value).strip().lower()
            for a in _leaves_of(t, other, "Action")
            if isinstance(a.value, str)
        ]
        pinned.update(a for a in actions if any(_action_covers(p, a) for p in denied))
    return pinned


@template_check("AR-IAM-002")
def public_principal(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    by_doc: dict[int, list[Stmt]] = {}
    stmts: list[Stmt] = []
    for doc in resource_docs(t):
        found = list(statements(t, doc))
        by_doc[id(doc)] = _pinning_denies(t, found)
        stmts.extend(found)
    for stmt in [*stmts, *_bus_statements(t)]:
        allow = _allows(t, stmt)
        principal, what = _everyone(t, stmt) if allow is not None else (None, "")
        if allow is None or principal is None or _restricting(t, stmt.node.get("Condition")):
            continue
        spared = _pinned_actions(t, stmt, by_doc.get(id(stmt.doc), []))
        open_actions = [
            str(a.value)
            for a in _leaves_of(t, stmt, "Action")
            if isinstance(a.value, str) and a.value.strip().lower() not in spared
        ]
        if spared and not open_actions:
            continue  # a Deny for everyone but the pinned callers stands behind every action
        conds, assumed, conf = _merge(allow, principal)
        name = stmt.resource.logical_id
        # critical: anyone may assume the role, or do everything the resource allows; a
        # resource policy that opens named actions is the high variant
        wide = stmt.doc.label == "trust policy" or any(
            _is_full_wildcard(a.value) for a in _leaves_of(t, stmt, "Action")
        )
        yield Hit(
            name,
            principal.path,
            f"{name} {stmt.doc.label} allows {what} to "
            f"{_shown(open_actions) if spared else _first_actions(t, stmt)}{when(conds)}"
            f"{_assumed_note(assumed)} with no Condition pinning the caller (aws:SourceArn, "
            "aws:SourceAccount, aws:PrincipalOrgID, ...): any AWS account, or anyone, can "
            "use it",
            confidence=conf,
            variant=None if wide else "resource-policy",
        )
    for bus in t.of_type("AWS::Events::EventBusPolicy"):
        if bus.has("Statement") or not bus.has("Principal"):
            continue
        for leaf in branches(t, bus.get("Principal"), ("Properties", "Principal")):
            if leaf.value != "*":
                continue
            cond = bus.get("Condition")
            key = resolve(t, cond.get("Key"))[0].value if isinstance(cond, Mapping) else None
            if isinstance(key, str) and key.lower() == "aws:principalorgid":
                continue
            yield Hit(
                bus.logical_id,
                leaf.path,
                f"{bus.logical_id} lets every AWS account put events on the bus (Principal '*')"
                f"{when(leaf.conditions)} without a Condition on aws:PrincipalOrgID",
                confidence=leaf.confidence,
                variant="resource-policy",
            )
    for perm in t.of_type("AWS::Lambda::Permission"):
        if resolve(t, perm.get("FunctionUrlAuthType"))[0].value == "NONE":
            continue  # a public function URL is AR-API-008's business
        if truthy(resolve(t, perm.get("InvokedViaFunctionUrl"))[0].value):
            continue  # lambda:InvokeFunction reachable only through the function URL: same
        pinned = [
            k
            for k in ("SourceArn", "SourceAccount", "PrincipalOrgID", "EventSourceToken")
            if perm.has(k)
        ]
        if pinned:
            continue
        for leaf in branches(t, perm.get("Principal"), ("Properties", "Principal")):
            if leaf.value != "*":
                continue
            name = perm.logical_id
            yield Hit(
                name,
                leaf.path,
                f"{name} lets any principal ('*') invoke the function{when(leaf.conditions)}"
                f"{_assumed_note(leaf.assumed)}: no SourceArn, SourceAccount or PrincipalOrgID "
                "narrows who may call it",
                confidence=leaf.confidence,
                variant="resource-policy",
            )
            break


def _bus_statements(t: Template) -> Iterator[Stmt]:
    """AWS::Events::EventBusPolicy written with its single Statement property."""
    for res in t.of_type("AWS::Events::EventBusPolicy"):
        if not res.has("Statement"):
            continue
        for leaf in branches(t, res.get("Statement"), ("Properties", "Statement")):
            if isinstance(leaf.value, Mapping):
                doc = Doc(
                    res, ("Properties",), {}, leaf.conditions, leaf.assumed, "event bus policy"
                )
                yield Stmt(doc, leaf.path, leaf.value, leaf.conditions, leaf.assumed)


# -- AR-IAM-003: AdministratorAccess / PowerUserAccess --------------------------------------------

_ADMIN_ARN = re.compile(
    r"^arn:(?:aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|\$\{AWS::Partition\}):iam::aws:policy/"
    r"(AdministratorAccess|PowerUserAccess)$"
)
_ADMIN_NAMES = ("AdministratorAccess", "PowerUserAccess")


def _text_of(t: Template, node: Any) -> str | None:
    """A string value with pseudo parameters kept as ${AWS::...} (Fn::Join and Fn::Sub)."""
    fn = intrinsic(node)
    if fn is not None and fn[0] == "Fn::Join":
        arg = fn[1]
        if not (
            isinstance(arg, list)
            and len(arg) == 2
            and isinstance(arg[0], str)
            and isinstance(arg[1], list)
        ):
            return None
        parts: list[str] = []
        for part in arg[1]:
            text = _text_of(t, part)
            if text is None:
                return None
            parts.append(text)
        return arg[0].join(parts)
    if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str) and fn[1].startswith("AWS::"):
        return "${" + fn[1] + "}"
    value = resolve(t, node)[0].value
    if isinstance(value, Unresolved):
        return value.text
    return value if isinstance(value, str) else None


def _admin_policy(t: Template, leaf: Leaf, node: Any, bare_names: bool) -> str | None:
    value = leaf.value
    text = value if isinstance(value, str) else _text_of(t, node)
    if not isinstance(text, str):
        return None
    text = text.strip()
    match = _ADMIN_ARN.match(text)
    if match:
        return match.group(1)
    if bare_names and text in _ADMIN_NAMES:
        return text
    return None


def _plain_map(value: Any) -> bool:
    return isinstance(value, Mapping) and intrinsic(value) is None


@template_check("AR-IAM-003")
def admin_managed_policy(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for res in t.of_type("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        if res.implicit:
            continue  # SAM-generated roles: judged on the SAM Policies below
        for leaf in _policy_leaves(t, res, "ManagedPolicyArns"):
            if _plain_map(leaf.value):
                continue  # not a policy name or ARN
            found = _admin_policy(t, leaf, res.attr(*leaf.path), bare_names=False)
            if found:
                yield _admin_hit(res, leaf, found, "ManagedPolicyArns")
    for res in t.of_type("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        for leaf in _policy_leaves(t, res, "Policies"):
            if _plain_map(leaf.value):
                continue  # an inline policy document or a SAM policy template
            found = _admin_policy(t, leaf, res.attr(*leaf.path), bare_names=True)
            if found:
                yield _admin_hit(res, leaf, found, "Policies")


def _policy_leaves(t: Template, res: Resource, prop: str) -> tuple[Leaf, ...]:
    """The items of a resource's ManagedPolicyArns or SAM Policies, worked out once per
    resource (AR-IAM-003 and AR-IAM-007 both read them)."""
    return t.derive(
        ("iam.policy-leaves", id(res), prop),
        res,
        lambda: tuple(leaves(t, res.get(prop), ("Properties", prop))),
    )


def _admin_hit(res: Resource, leaf: Leaf, policy: str, where: str) -> Hit:
    kind = {
        "AWS::IAM::User": "user",
        "AWS::IAM::Group": "group",
        "AWS::Serverless::Function": "function's generated role",
        "AWS::Serverless::StateMachine": "state machine's generated role",
    }.get(res.type, "role")
    reach = (
        "every action on every resource"
        if policy == "AdministratorAccess"
        else "every action outside IAM and Organizations management"
    )
    return Hit(
        res.logical_id,
        leaf.path,
        f"{res.logical_id} attaches the AWS managed policy {policy} through {where}"
        f"{when(leaf.conditions)}{_assumed_note(leaf.assumed)}: the {kind} may perform {reach}",
        # a ${AWS::Partition} placeholder is not uncertainty: the policy name is certain
        confidence=Confidence.MEDIUM if leaf.conditions or leaf.assumed else None,
        variant="power-user" if policy == "PowerUserAccess" else None,
    )


# -- AR-IAM-004: write and admin actions on Resource "*" ------------------------------------------


_TAG_SCOPED = re.compile(r"^[a-z0-9-]+:resourcetag/", re.IGNORECASE)


def _tag_scoped(t: Template, condition: Any) -> bool:
    """Attribute-based access control: a Condition on ...:ResourceTag/<key> scopes "*"."""
    block = resolve(t, condition)[0].value if intrinsic(condition) is not None else condition
    if not isinstance(block, Mapping):
        return False
    for operator, entries in block.items():
        if not isinstance(operator, str) or "Not" in operator or operator == "Null":
            continue
        if isinstance(entries, Mapping) and any(
            isinstance(k, str) and _TAG_SCOPED.match(k) for k in entries
        ):
            return True
    return False


# AR-IAM-004: the rule's severity (medium) is for writes to what services hold; the variants
# (rules/AR-IAM-004.yaml) for permission changes (high), telemetry (low) and calls that only
# run a billed request (low, pedantic).
_WRITE_VARIANTS: dict[Reach, str] = {
    Reach.ESCALATION: "permissions",
    Reach.TELEMETRY: "telemetry",
    Reach.REQUEST: "billed-request",
}


def _writes_said(worst: _Grant, names: list[str], count: int) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    why = (
        "these actions accept specific resource ARNs, so the grant reaches every such resource "
        "in the account"
    )
    if worst.reach is Reach.ESCALATION:
        esc = [n for n in worst.names if write_reach(n) is Reach.ESCALATION]
        why = (
            f"{', '.join(esc[:3])} on every resource lets the holder change who may do what, or "
            "act as another principal, so what it can reach is not bounded by this policy"
        )
    elif worst.reach is Reach.TELEMETRY:
        why += "; the holder can change or delete other workloads' logs, metrics and alarms"
    elif worst.reach is Reach.REQUEST:
        why = (
            "the holder can call any model or voice, billed to the account; these calls reach "
            "no stored data"
        )
    return (
        f"allows {shown} on Resource '*'{when(worst.conditions)}"
        f"{_assumed_note(worst.assumed)}{_statements_note(count)}: {why}"
    )


def _writes_on_star(t: Template, doc: Doc, denies: DenyGroups) -> list[Verdict]:
    grants: list[_Grant] = []
    narrowed: list[Deny] = []
    for index, stmt in enumerate(statements(t, doc)):
        allow, wild, star = _full_wildcards(t, stmt)
        if allow is None or star is None or wild:
            continue  # no Allow on "*", or AR-IAM-001 already reports the statement
        if _tag_scoped(t, stmt.node.get("Condition")):
            continue
        writes: list[tuple[Leaf, Reach]] = []
        for a in _leaves_of(t, stmt, "Action"):
            if not (
                isinstance(a.value, str)
                and is_write_action(a.value)
                and not without_resource_level(a.value)
            ):
                continue
            if unknown_prefix(a.value) is not None:
                continue  # grants nothing: AR-IAM-008
            if secret_read(a.value) is not None and not stmt.node.get("Condition"):
                continue  # reads every secret: AR-IAM-009
            cover, deny = cover_all(a.value, denies)
            if cover is Cover.REMOVED:
                continue
            if deny is not None:
                narrowed.append(deny)
            writes.append((a, write_reach(a.value)))
        writes = [(a, r) for a, r in writes if r is not Reach.NONE]
        if not writes:
            continue
        first = max(writes, key=lambda w: int(w[1]))[0]
        conds, assumed, conf = _merge(allow, first, star)
        names = tuple(dict.fromkeys(str(a.value) for a, _ in writes))
        reach = max(r for _, r in writes)
        grants.append(_Grant(index, reach, _at(first, star), names, conds, assumed, conf))
    return _narrowed(
        _one_per_document(
            grants, lambda w, names: _writes_said(w, names, len(grants)), _WRITE_VARIANTS
        ),
        narrowed,
    )


@template_check("AR-IAM-004")
def write_on_star(ctx: TemplateContext) -> Iterator[Yielded]:
    for docs, verdict in judged_identity_groups(ctx.template, _writes_on_star):
        yield _document_hit(docs, verdict)


# -- AR-IAM-005 / AR-IAM-006: shared roles -------------------------------------------------------


@dataclass(frozen=True)
class RoleKey:
    key: tuple[
        str, str
    ]  # (kind, identity): ("resource", file#id) | ("text", arn) | ("param", name)
    label: str
    leaf: Leaf


def role_keys(t: Template, res: Resource, prop: str) -> list[RoleKey]:
    """What a role-valued property points at, one key per possible value. Pointing at the same
    resource, the same parameter or the same literal ARN is certain, whatever the value."""
    out: list[RoleKey] = []
    for leaf in branches(t, res.get(prop), ("Properties", prop)):
        written = res.attr(*leaf.path)
        sure_at = (leaf.path, leaf.conditions)
        ref = leaf.value if isinstance(leaf.value, RefTo) else None
        if ref is None and intrinsic(written) is not None:
            found = {(r.file, r.target): r for r in targets(t, written)}
            ref = next(iter(found.values())) if len(found) == 1 else None
        if ref is not None:
            out.append(
                RoleKey(("resource", f"{ref.file}#{ref.target}"), ref.target, Leaf(ref, *sure_at))
            )
            continue
        fn = intrinsic(written)
        if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str) and fn[1] in t.parameters:
            out.append(RoleKey(("param", fn[1]), f"parameter {fn[1]}", Leaf(fn[1], *sure_at)))
            continue
        text = leaf.value.text if isinstance(leaf.value, Unresolved) else leaf.value
        if isinstance(text, str) and text.strip():
            name = text.strip()
            out.append(RoleKey(("text", name), name, leaf))
    return out


@template_check("AR-IAM-005")
def shared_function_role(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    users: dict[tuple[str, str], list[tuple[Resource, RoleKey]]] = {}
    for fn in t.of_type(*LAMBDA_TYPES):
        if not fn.has("Role"):
            continue
        seen: set[tuple[str, str]] = set()
        for key in role_keys(t, fn, "Role"):
            if key.key in seen:
                continue
            seen.add(key.key)
            users.setdefault(key.key, []).append((fn, key))
    for _key, group in sorted(users.items(), key=lambda kv: kv[0]):
        fns = list(dict.fromkeys(fn.logical_id for fn, _ in group))
        if len(fns) < 2:
            continue
        # one finding per shared role (the root cause), at its first certain user; the others
        # are related locations
        fn, rk = next((u for u in group if not u[1].leaf.conditions), group[0])
        others = [(o, ok) for o, ok in group if o.logical_id != fn.logical_id]
        named = list(
            dict.fromkeys(
                o.logical_id
                + when(ok.leaf.conditions).replace(" when", " (when")
                + (")" if ok.leaf.conditions else "")
                for o, ok in others
            )
        )
        conds = [c for _, ok in others for c in ok.leaf.conditions]
        related = tuple(Related(o.logical_id, ok.leaf.path, "shares the role") for o, ok in others)
        yield Hit(
            fn.logical_id,
            rk.leaf.path,
            f"{fn.logical_id} runs with the role {rk.label}{when(rk.leaf.conditions)}, which "
            f"{_names(named)} also use{'s' if len(named) == 1 else ''}: each function gets "
            "the union of the permissions all of them need",
            confidence=lowest(rk.leaf.confidence, Confidence.MEDIUM if conds else None),
            related=related,
        )


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@template_check("AR-IAM-006")
def shared_task_role(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    task_users: dict[tuple[str, str], list[tuple[Resource, RoleKey]]] = {}
    for task in t.of_type("AWS::ECS::TaskDefinition"):
        if not task.has("TaskRoleArn"):
            continue  # no task role: the containers get no AWS credentials
        task_keys = role_keys(t, task, "TaskRoleArn")
        exec_keys = {k.key: k for k in role_keys(t, task, "ExecutionRoleArn")}
        for tk in task_keys:
            task_users.setdefault(tk.key, []).append((task, tk))
            same = exec_keys.get(tk.key)
            if same is None:
                continue
            yield Hit(
                task.logical_id,
                tk.leaf.path,
                f"{task.logical_id} uses {tk.label} both as TaskRoleArn and as "
                f"ExecutionRoleArn{when((*tk.leaf.conditions, *same.leaf.conditions))}: the "
                "application code receives the permissions ECS needs to pull images and read "
                "secrets, and ECS the application's",
                confidence=lowest(tk.leaf.confidence, same.leaf.confidence),
                related=(Related(task.logical_id, same.leaf.path, "ExecutionRoleArn"),),
            )
            break
    for _group_key, group in sorted(task_users.items(), key=lambda kv: kv[0]):
        tasks = list(dict.fromkeys(task.logical_id for task, _ in group))
        if len(tasks) < 2:
            continue
        task, tk = group[0]  # one finding per shared role, at its first user
        others = [x for x in tasks if x != task.logical_id]
        yield Hit(
            task.logical_id,
            tk.leaf.path,
            f"{task.logical_id} shares its task role {tk.label}{when(tk.leaf.conditions)} "
            f"with {_names(others)}: every task gets the permissions of all of them",
            confidence=tk.leaf.confidence,
            related=tuple(
                Related(o, ("Properties", "TaskRoleArn"), "same task role") for o in others
            ),
        )


# -- explicit Deny: what an identity's Deny statements take away from its Allows ----------------

# per document holder (over all the identities it stands for); past it no Deny narrows
# anything and the findings stand: each action of a document is compared with each Deny
_MAX_DENIES = 200
_MAX_GROUPS = 32  # identities a policy is attached to; past it its Allows are not narrowed


@dataclass(frozen=True)
class Deny:
    """An unconditional Deny statement that applies to an identity: its action patterns (lower
    case, from Action or NotAction) and resource patterns (from Resource or NotResource; None
    where a value is not known), and where it is written, for messages."""

    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str | None, ...]
    not_resource: bool
    path: Path
    where: str


Denies = tuple[Deny, ...]
# one group of Denies per identity that holds a document
DenyGroups = tuple[Denies, ...]


class Cover(IntEnum):
    """What the Denies of an identity do to an Allow of one action pattern on Resource "*"."""

    NONE = 0
    NARROWED = 1  # part of the actions or resources is denied: the rest stands
    REMOVED = 2  # every call the Allow grants on a resource ARN is denied


def _text_leaf(leaf: Leaf) -> str | None:
    if isinstance(leaf.value, str):
        return leaf.value.strip()
    if isinstance(leaf.value, Unresolved) and leaf.value.text is not None:
        return leaf.value.text.strip()
    return None


def _denies_in(t: Template, doc: Doc, where: str) -> list[Deny]:
    """The certain Deny statements of a document: Effect Deny outside any Fn::If, no Condition,
    no value from a parameter default, every action known. Others never narrow an Allow."""
    out: list[Deny] = []
    for stmt in statements(t, doc):
        effects = _effects(t, stmt)
        if not any(e.value == "Deny" for e in effects):
            continue
        if len(effects) != 1 or effects[0].conditions or effects[0].assumed:
            continue
        if "Condition" in stmt.node:
            continue
        akey = next((k for k in ("Action", "NotAction") if k in stmt.node), None)
        rkey = next((k for k in ("Resource", "NotResource") if k in stmt.node), None)
        if akey is None or rkey is None:
            continue
        acts = _leaves_of(t, stmt, akey)
        ress = _leaves_of(t, stmt, rkey)
        if not acts or not ress:
            continue
        if any(x.conditions or x.assumed for x in (*acts, *ress)):
            continue
        if not all(isinstance(a.value, str) for a in acts):
            continue
        out.append(
            Deny(
                tuple(str(a.value).strip().lower() for a in acts),
                akey == "NotAction",
                tuple(_text_leaf(r) for r in ress),
                rkey == "NotResource",
                stmt.path,
                where,
            )
        )
    return out


def _holder_of(t: Template, target: str) -> str | None:
    """The identity a reference names: a SAM-generated role is its function's."""
    res = t.resources.get(target)
    if res is None:
        return None
    if res.implicit and res.type == "AWS::IAM::Role":
        return res.source
    return target


_ATTACH_KEYS = {
    "AWS::IAM::Policy": ("Roles", "Users", "Groups"),
    "AWS::IAM::ManagedPolicy": ("Roles", "Users", "Groups"),
    "AWS::IAM::RolePolicy": ("RoleName",),
    "AWS::IAM::UserPolicy": ("UserName",),
    "AWS::IAM::GroupPolicy": ("GroupName",),
}


def _attached_to(t: Template) -> dict[str, list[str]]:
    """policy resource -> the identities of this template it is attached to (Roles/Users/
    Groups of a policy, a role's ManagedPolicyArns, a SAM function's Policies)."""
    out: dict[str, list[str]] = {}

    def add(policy: str, identity: str | None) -> None:
        if identity is not None and identity not in out.setdefault(policy, []):
            out[policy].append(identity)

    for pol in t.of_type(*_ATTACH_KEYS):
        for key in _ATTACH_KEYS[pol.type]:
            if pol.has(key):
                for ref in targets(t, pol.get(key)):
                    if ref.file == t.file:
                        add(pol.logical_id, _holder_of(t, ref.target))
    for ident in _identity_holders(t):
        key = "ManagedPolicyArns" if ident.type.startswith("AWS::IAM::") else "Policies"
        if not ident.has(key) or _ATTACH_KEYS.get(ident.type):
            continue
        for ref in targets(t, ident.get(key)):
            found = t.resources.get(ref.target)
            if ref.file == t.file and found is not None and found.type == "AWS::IAM::ManagedPolicy":
                add(found.logical_id, ident.logical_id)
    return out


# the last template's Denies: the IAM checks of one template ask in turn (a weak reference,
# so a template is never kept alive, and one assignment, so threads see a whole pair)
_LAST_DENIES: tuple[weakref.ref[Template], dict[str, DenyGroups]] | None = None


def identity_denies(t: Template) -> dict[str, DenyGroups]:
    """holder logical id -> the certain Denies that apply to it: its own documents' and those of
    the policies attached to it in the template. A policy resource gets the Denies that apply
    to every identity it is attached to (its own only, when it is attached to none here).
    Computed once per template."""
    global _LAST_DENIES
    last = _LAST_DENIES
    if last is not None and last[0]() is t:
        return last[1]
    found = _identity_denies(t)
    _LAST_DENIES = (weakref.ref(t), found)
    return found


def _identity_denies(t: Template) -> dict[str, DenyGroups]:
    own: dict[str, list[Deny]] = {}
    memo: dict[tuple[int, Path], list[Deny]] = {}
    held = _held_documents(t)
    holders = [res for res, _ in held]
    for res, documents in held:
        for written in documents:
            key = (id(written.document), written.path)
            if key not in memo:
                doc = written.held_by(res)
                memo[key] = _denies_in(t, doc, f"{res.logical_id} ({written.label})")
            own.setdefault(res.logical_id, []).extend(memo[key])
    if not any(own.values()):
        return {}
    attached = _attached_to(t)
    per_identity: dict[str, list[Deny]] = {}
    for policy, identities in attached.items():
        for ident in identities:
            per_identity.setdefault(ident, []).extend(own.get(policy, ()))

    def capped(denies: list[Deny]) -> Denies:
        found = tuple(dict.fromkeys(denies))
        return found if len(found) <= _MAX_DENIES else ()

    out: dict[str, DenyGroups] = {}
    for res in holders:
        name = res.logical_id
        # a policy resource: the Denies of each identity it is attached to, one group each
        idents = attached.get(name) or [name]
        if len(idents) > _MAX_GROUPS:
            continue  # attached to too many identities to judge each: nothing is narrowed
        groups = tuple(capped([*own.get(i, ()), *per_identity.get(i, ())]) for i in idents)
        if sum(len(g) for g in groups) > _MAX_DENIES:
            continue  # too many to compare with every action: nothing is narrowed
        if any(groups):
            out[name] = groups
    return out


def cover_all(action: str, groups: DenyGroups) -> tuple[Cover, Deny | None]:
    """deny_cover for a document held for several identities (a policy attached to each): an
    Allow is removed only when every identity's Denies remove it, and narrowed when they
    remove or narrow it for each."""
    if not groups:
        return Cover.NONE, None
    results = [deny_cover(action, g) for g in groups]
    return min(results, key=lambda r: int(r[0]))


def _fixed(pattern: str) -> str:
    return re.split(r"[*?]", pattern, maxsplit=1)[0]


def _action_covers(pattern: str, action: str) -> bool:
    """Every action `action` names is matched by `pattern` (both lower case)."""
    if pattern in ("*", "*:*"):
        return True
    if "*" not in action and "?" not in action:
        return glob_match(pattern, action)
    # a pattern "x*" (one trailing star) covers every action that starts with "x"
    return (
        pattern.endswith("*")
        and "*" not in pattern[:-1]
        and "?" not in pattern
        and action.startswith(pattern[:-1])
    )


def _actions_overlap(pattern: str, action: str) -> bool:
    """Some action could match both (conservative: True when unsure)."""
    if "*" not in pattern and "?" not in pattern:
        return (
            glob_match(action, pattern) if ("*" in action or "?" in action) else pattern == action
        )
    if "*" not in action and "?" not in action:
        return glob_match(pattern, action)
    a, b = _fixed(pattern), _fixed(action)
    return a.startswith(b) or b.startswith(a)


# services whose ARNs have no region (and for S3 no account) field
_ARN_SHAPES: dict[str, tuple[str, str]] = {
    "s3": ("", ""),
    "iam": ("", "123456789012"),
    "cloudfront": ("", "123456789012"),
    "route53": ("", ""),
    "organizations": ("", "123456789012"),
}


def _every_arn(pattern: str, service: str) -> bool:
    """Whether a resource pattern matches every ARN of `service` in the aws partition."""
    text = pattern.replace("${AWS::Partition}", "aws")
    if "${" in text:
        return False  # this stack's region or account: other ones stay allowed
    region, account = _ARN_SHAPES.get(service, ("us-east-1", "123456789012"))
    probes = [f"arn:aws:{service}:{region}:{account}:{r}" for r in ("x", "x/y", "x:y", "x/y/z")]
    return all(glob_match(text, probe) for probe in probes)


def deny_cover(action: str, denies: Denies) -> tuple[Cover, Deny | None]:
    """What `denies` do to an Allow of `action` (a pattern) on Resource "*": REMOVED when one
    Deny surely covers every action it names on every resource ARN of its service (or limits
    it to resources named without wildcards, through NotResource), NARROWED when one may take
    part of it away, NONE otherwise."""
    text = action.strip().lower()
    service = text.split(":", 1)[0] if ":" in text else "*"
    best: tuple[Cover, Deny | None] = (Cover.NONE, None)
    for deny in denies:
        tick("iam.deny")
        if deny.not_action:
            if any(_actions_overlap(q, text) for q in deny.actions):
                acts = (
                    Cover.NARROWED
                    if not any(_action_covers(q, text) for q in deny.actions)
                    else Cover.NONE
                )
            else:
                acts = Cover.REMOVED
        elif any(_action_covers(p, text) for p in deny.actions):
            acts = Cover.REMOVED
        elif any(_actions_overlap(p, text) for p in deny.actions):
            acts = Cover.NARROWED
        else:
            acts = Cover.NONE
        if acts is Cover.NONE:
            continue
        if deny.not_resource:
            # denied everywhere but the listed resources: the Allow is limited to them
            exact = all(r is not None and "*" not in r and "?" not in r for r in deny.resources)
            res = Cover.REMOVED if exact else Cover.NARROWED
        elif any(r == "*" for r in deny.resources) or (
            service != "*"
            and "*" not in service
            and any(r is not None and _every_arn(r, service) for r in deny.resources)
        ):
            res = Cover.REMOVED
        else:
            res = Cover.NARROWED
        found = Cover(min(int(acts), int(res)))
        if found > best[0]:
            best = (found, deny)
            if found is Cover.REMOVED:
                break
    return best


def _narrowed_note(denies: list[Deny]) -> str:
    if not denies:
        return ""
    where = ", ".join(dict.fromkeys(d.where for d in denies))
    return f" (except what the Deny in {where} takes away)"


# -- AR-IAM-008: actions whose service prefix is not an IAM service prefix ----------------------


@dataclass(frozen=True)
class _Prefixes:
    date: str
    prefixes: frozenset[str]
    aliases: Mapping[str, str]


@functools.cache
def _prefix_table() -> _Prefixes:
    data = load_yaml(_PREFIX_DATA.read_text(encoding="utf-8")) or {}
    return _Prefixes(
        str(data.get("date", "")),
        frozenset(str(p).strip().lower() for p in data.get("prefixes") or ()),
        {str(k).lower(): str(v) for k, v in (data.get("aliases") or {}).items()},
    )


_PREFIX_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def unknown_prefix(action: str) -> str | None:
    """The service prefix of `action` when it is not an IAM service prefix (lower case); None
    when it is one, or when the action has no prefix to judge ("*", a wildcard or a
    placeholder in the prefix)."""
    service, sep, name = action.strip().partition(":")
    if not sep or not name:
        return None
    service = service.lower()
    if not _PREFIX_SHAPE.match(service):
        return None
    return None if service in _prefix_table().prefixes else service


def _unknown_prefixes(t: Template, doc: Doc, denies: DenyGroups) -> list[Verdict]:
    found: list[tuple[Leaf, str, str]] = []  # (action leaf, prefix, effect)
    allowed: list[str] = []  # the document's certain Allow actions (lower case)
    for stmt in statements(t, doc):
        effects = [e.value for e in _effects(t, stmt) if e.value in ("Allow", "Deny")]
        if not effects:
            continue
        for leaf in _leaves_of(t, stmt, "Action"):
            if isinstance(leaf.value, str):
                prefix = unknown_prefix(leaf.value)
                if prefix is not None:
                    found.append((leaf, prefix, str(effects[0])))
                elif effects == ["Allow"] and not leaf.conditions and "Condition" not in stmt.node:
                    allowed.append(leaf.value.strip().lower())
    if not found:
        return []
    table = _prefix_table()
    first, prefix, effect = found[0]
    names = list(
        dict.fromkeys(str(leaf.value) for leaf, p, e in found if (p, e) == (prefix, effect))
    )
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    others = list(
        dict.fromkeys(str(leaf.value) for leaf, p, e in found if (p, e) != (prefix, effect))
    )
    rest = (
        f"; {', '.join(others[:5])}{' and more' if len(others) > 5 else ''} "
        f"{'names' if len(others) == 1 else 'name'} no IAM service either"
        if others
        else ""
    )
    right = table.aliases.get(prefix)
    hint = (
        f" (the service's actions are under '{right}:')"
        if right
        else f" (not in the list of IAM service prefixes taken on {table.date})"
    )
    verb = "allows" if effect == "Allow" else "denies"
    variant = None if effect == "Allow" else "deny"
    result = (
        "the statement grants nothing: a call it was meant to allow is denied at run time "
        "unless another policy grants it under the right prefix"
        if effect == "Allow"
        else "the Deny matches no call and protects nothing"
    )
    if effect == "Allow" and right:
        meant = [f"{right}:{n.split(':', 1)[1]}".lower() for n in names]
        if all(any(glob_match(a, m) for a in allowed) for m in meant):
            # the same calls are granted under the right prefix: dead text, no failure
            result = (
                f"it grants nothing; this policy already allows the same actions under "
                f"'{right}:', so no call fails: the action is dead text"
            )
            variant = "redundant"
    said = (
        f"{verb} {shown}{when(first.conditions)}{_assumed_note(first.assumed)}: '{prefix}' is "
        f"not an IAM service prefix{hint}, so {result}{rest}"
    )
    confidence = lowest(first.confidence, None if right else Confidence.MEDIUM)
    also = tuple(
        (leaf.path, f"also names {leaf.value}")
        for leaf, _, _ in found[1:]
        if leaf.path != first.path
    )
    return [Verdict(first.path, said, confidence, variant, also)]


@template_check("AR-IAM-008")
def unknown_service_prefix(ctx: TemplateContext) -> Iterator[Yielded]:
    for docs, verdict in judged_identity_groups(ctx.template, _unknown_prefixes):
        yield _document_hit(docs, verdict)


# -- AR-IAM-007: AWS managed policies that grant admin, escalation or full service access -------


@dataclass(frozen=True)
class ManagedPolicy:
    path: str  # after arn:<partition>:iam::aws:policy/
    kind: str  # escalation | admin | full | telemetry
    grants: str
    rule: str
    sam: bool

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _Managed:
    date: str
    by_path: Mapping[str, ManagedPolicy]
    by_short: Mapping[str, ManagedPolicy]


@functools.cache
def _managed_table() -> _Managed:
    data = load_yaml(_MANAGED_DATA.read_text(encoding="utf-8")) or {}
    by_path: dict[str, ManagedPolicy] = {}
    by_short: dict[str, ManagedPolicy] = {}
    for item in data.get("policies") or ():
        pol = ManagedPolicy(
            str(item["path"]),
            str(item["kind"]),
            str(item["grants"]),
            str(item.get("rule", "AR-IAM-007")),
            bool(item.get("sam", True)),
        )
        by_path[pol.path] = pol
        if pol.sam:
            by_short[pol.name] = pol
    return _Managed(str(data.get("date", "")), by_path, by_short)


_MANAGED_ARN = re.compile(
    r"^arn:(?:aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|\$\{AWS::Partition\}):iam::aws:policy/(.+)$"
)

_MANAGED_VARIANTS = {"escalation": "escalation", "full": "full-service", "telemetry": "telemetry"}


def managed_policy(text: str, bare_names: bool) -> ManagedPolicy | None:
    """The listed AWS managed policy an ARN (or, in SAM Policies, a short name) names."""
    table = _managed_table()
    text = text.strip()
    match = _MANAGED_ARN.match(text)
    if match:
        return table.by_path.get(match.group(1))
    return table.by_short.get(text) if bare_names else None


def _attached_managed(t: Template) -> Iterator[tuple[Resource, Leaf, str, ManagedPolicy]]:
    for res in t.of_type("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        if res.implicit:
            continue  # SAM-generated roles: judged on the SAM Policies below
        for leaf in _policy_leaves(t, res, "ManagedPolicyArns"):
            if _plain_map(leaf.value):
                continue
            text = leaf.value if isinstance(leaf.value, str) else _text_of(t, res.attr(*leaf.path))
            found = managed_policy(text, bare_names=False) if isinstance(text, str) else None
            if found is not None:
                yield res, leaf, "ManagedPolicyArns", found
    for res in t.of_type("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        for leaf in _policy_leaves(t, res, "Policies"):
            if _plain_map(leaf.value):
                continue  # an inline policy document or a SAM policy template
            text = leaf.value if isinstance(leaf.value, str) else _text_of(t, res.attr(*leaf.path))
            found = managed_policy(text, bare_names=True) if isinstance(text, str) else None
            if found is not None:
                yield res, leaf, "Policies", found


_HOLDER_KIND = {
    "AWS::IAM::User": "user",
    "AWS::IAM::Group": "group",
    "AWS::Serverless::Function": "function's generated role",
    "AWS::Serverless::StateMachine": "state machine's generated role",
}


@template_check("AR-IAM-007")
def broad_managed_policy(ctx: TemplateContext) -> Iterator[Yielded]:
    for res, leaf, where, pol in _attached_managed(ctx.template):
        if pol.rule != "AR-IAM-007":
            continue  # AdministratorAccess and PowerUserAccess are AR-IAM-003's
        kind = _HOLDER_KIND.get(res.type, "role")
        yield Hit(
            res.logical_id,
            leaf.path,
            f"{res.logical_id} attaches the AWS managed policy {pol.name} through {where}"
            f"{when(leaf.conditions)}{_assumed_note(leaf.assumed)}: the {kind} may {pol.grants}",
            confidence=Confidence.MEDIUM if leaf.conditions or leaf.assumed else None,
            variant=_MANAGED_VARIANTS.get(pol.kind),
        )


# -- AR-IAM-009: reading every secret ------------------------------------------------------------

# what reads a secret's value; kms:Decrypt is what the others need under a customer key
_SECRET_READS = {
    "secretsmanager": ("secretsmanager:getsecretvalue",),
    "ssm": (
        "ssm:getparameter",
        "ssm:getparameters",
        "ssm:getparametersbypath",
        "ssm:getparameterhistory",
    ),
    "kms": ("kms:decrypt",),
}
# a resource pattern that names every secret, parameter or key of the service
_EVERY_SECRET = {
    "secretsmanager": ("secret:*",),
    "ssm": ("parameter*", "parameter/*"),
    "kms": ("key/*",),
}


def secret_read(action: str) -> str | None:
    """The service whose secrets `action` reads ("secretsmanager", "ssm", "kms"), or None.
    Whole-service wildcards are AR-IAM-001's."""
    text = action.strip().lower()
    if _is_full_wildcard(text):
        return None
    service = text.split(":", 1)[0]
    names = _SECRET_READS.get(service, ())
    return service if any(glob_match(text, n) for n in names) else None


def _every_secret(text: str, service: str) -> bool:
    if text == "*":
        return True
    text = re.sub(r"\$\{[^}]*\}", "x", text.replace("${AWS::Partition}", "aws"))
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in (service, "*"):
        return False
    if not parts[3] or not parts[4]:
        return False  # an empty region or account matches no secret, parameter or key
    return parts[5] == "*" or parts[5] in _EVERY_SECRET[service]


_SECRET_SAID = {
    "secretsmanager": (
        "can read every secret in Secrets Manager (those encrypted under the default key "
        "aws/secretsmanager need no other permission)"
    ),
    "ssm": (
        "can read every SSM parameter, SecureString values under the default key aws/ssm included"
    ),
    "kms": (
        "can decrypt whatever is encrypted under every KMS key whose key policy lets IAM "
        "policies grant its use (the default key policy does)"
    ),
}


def _secret_reads(t: Template, doc: Doc, denies: DenyGroups) -> list[Verdict]:
    hits: list[tuple[int, Leaf, Leaf, str, str, Leaf]] = []  # rank, action, resource, ...
    narrowed: list[Deny] = []
    for stmt in statements(t, doc):
        allow = _allows(t, stmt)
        if allow is None or stmt.node.get("Condition"):
            continue  # a Condition (kms:ViaService, a tag, ...) may narrow what it reads
        resources = _leaves_of(t, stmt, "Resource")
        for action in _leaves_of(t, stmt, "Action"):
            if not isinstance(action.value, str):
                continue
            service = secret_read(action.value)
            if service is None:
                continue
            every = next(
                (
                    r
                    for r in resources
                    if (x := _text_leaf(r)) is not None and _every_secret(x, service)
                ),
                None,
            )
            if every is None:
                continue
            cover, deny = cover_all(action.value, denies)
            if cover is Cover.REMOVED:
                continue
            if cover is Cover.NARROWED and deny is not None:
                narrowed.append(deny)
            rank = {"secretsmanager": 3, "kms": 2, "ssm": 1}[service]
            hits.append((rank, action, every, service, str(action.value), allow))
    if not hits:
        return []
    rank, action, every, service, _, allow = max(hits, key=lambda h: h[0])
    services = list(dict.fromkeys(h[3] for h in sorted(hits, key=lambda h: -h[0])))
    names = list(dict.fromkeys(h[4] for h in hits))
    text = _text_leaf(every) or ""
    if isinstance(every.value, Unresolved) and not re.sub(r"\$\{AWS::[A-Za-z]+\}", "", text).count(
        "${"
    ):
        # only pseudo parameters (this stack's partition, region, account): a certain pattern
        every = Leaf(text, every.path, every.conditions, every.assumed)
    conds, assumed, conf = _merge(allow, action, every)
    on = "Resource '*'" if text == "*" else repr(text)
    region = text.split(":")[3] if text.count(":") >= 5 and "${AWS::Region}" not in text else "*"
    if "${AWS::Region}" in text or region not in ("*", ""):
        on += " (one region)"
    said = (
        f"allows {', '.join(names[:5])} on {on}{when(conds)}{_assumed_note(assumed)}: the "
        "holder " + "; and ".join(_SECRET_SAID[s] for s in services) + _narrowed_note(narrowed)
    )
    if narrowed:
        conf = lowest(conf, Confidence.MEDIUM)
    variant = None if service in ("secretsmanager", "kms") else "parameters"
    also = tuple((h[1].path, f"also allows {h[4]}") for h in hits if h[1].path != action.path)
    return [Verdict(_at(action, every), said, conf, variant, also)]


@template_check("AR-IAM-009")
def reads_every_secret(ctx: TemplateContext) -> Iterator[Yielded]:
    for docs, verdict in judged_identity_groups(ctx.template, _secret_reads):
        yield _document_hit(docs, verdict)


CHECKS: tuple[Check, ...] = (
    allow_star_on_star,
    public_principal,
    admin_managed_policy,
    write_on_star,
    shared_function_role,
    shared_task_role,
    broad_managed_policy,
    unknown_service_prefix,
    reads_every_secret,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
