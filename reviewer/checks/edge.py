"""Helpers shared by the network (NET) and API-edge (API) checks: values with the conditions
they depend on, ARN rendering that remembers which resources an ARN is built from (across
Fn::ImportValue), the WAF association index, and the TLS ranking tables shipped as data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

from reviewer.core.datafile import load_yaml
from reviewer.core.types import Confidence, lower_confidence
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import (
    NOVALUE,
    PSEUDO,
    Unresolved,
    intrinsic,
    resolve,
    sam_alias,
)
from reviewer.model.template import MISSING, Resource, Template

MAX_RENDERINGS = 16
MAX_RENDER_DEPTH = 12

# -- values --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Val:
    """One possible value of a property, with what it depends on."""

    value: Any  # a plain value, NOVALUE, MISSING or an Unresolved
    conditions: tuple[str, ...] = ()
    assumed: bool = False

    @property
    def known(self) -> bool:
        return not isinstance(self.value, Unresolved)

    @property
    def missing(self) -> bool:
        return self.value is MISSING or self.value is NOVALUE

    @property
    def confidence(self) -> Confidence:
        if not self.known:
            return Confidence.LOW
        if self.conditions or self.assumed:
            return Confidence.MEDIUM
        return Confidence.HIGH

    @property
    def note(self) -> str:
        if self.conditions:
            return "when " + " and ".join(self.conditions)
        if self.assumed:
            return "from a parameter default"
        return ""

    def text(self) -> str | None:
        if isinstance(self.value, bool):
            return str(self.value).lower()
        if isinstance(self.value, (str, int, float)):
            return str(self.value)
        return None


def values(t: Template, node: Any) -> list[Val]:
    """Every possible value of `node` (Fn::If branches kept; MISSING when absent)."""
    if node is MISSING:
        return [Val(MISSING)]
    return [Val(o.value, o.conditions, o.assumed) for o in resolve(t, node)]


def with_note(message: str, *vals: Val) -> str:
    notes: list[str] = []
    for v in vals:
        if v.note and v.note not in notes:
            notes.append(v.note)
    return message + (f" ({'; '.join(notes)})" if notes else "")


def confidence(*vals: Val) -> Confidence:
    out = Confidence.HIGH
    for v in vals:
        out = lower_confidence(out, v.confidence)
    return out


def is_true(v: Val) -> bool:
    value = v.value
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(v: Val) -> bool:
    value = v.value
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def text_of(v: Val) -> str | None:
    return v.text()


# -- ARN rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A string value with its unknown parts as ${...}, and the resources it is built from."""

    text: str
    refs: frozenset[tuple[str, str, str | None]]  # (file, logical id, attribute)
    conditions: tuple[str, ...] = ()
    assumed: bool = False

    def points_at(self, file: str, logical_id: str) -> bool:
        return any(f == file and lid == logical_id for f, lid, _ in self.refs)


def _join(parts: list[Rendered], sep: str = "") -> Rendered:
    conditions: list[str] = []
    refs: set[tuple[str, str, str | None]] = set()
    assumed = False
    for p in parts:
        refs |= p.refs
        conditions.extend(c for c in p.conditions if c not in conditions)
        assumed = assumed or p.assumed
    return Rendered(sep.join(p.text for p in parts), frozenset(refs), tuple(conditions), assumed)


def _combine(options: list[list[Rendered]], sep: str = "") -> list[Rendered]:
    out: list[Rendered] = []
    for combo in itertools.islice(itertools.product(*options), MAX_RENDERINGS):
        out.append(_join(list(combo), sep))
    return out or [Rendered("", frozenset())]


def render(t: Template, node: Any, depth: int = 0) -> list[Rendered]:
    """The possible renderings of a string-valued node (an ARN, a domain name ...)."""
    if depth > MAX_RENDER_DEPTH or node is MISSING or node is None:
        return [Rendered("${?}", frozenset())]
    if isinstance(node, bool):
        return [Rendered(str(node).lower(), frozenset())]
    if isinstance(node, (str, int, float)):
        return [Rendered(str(node), frozenset())]
    fn = intrinsic(node)
    if fn is None:
        return [Rendered("${?}", frozenset())]
    name, arg = fn
    if name == "Ref" and isinstance(arg, str):
        return _render_name(t, arg, None, depth)
    if name == "Fn::GetAtt":
        base: str | None = None
        attr: str | None = None
        if isinstance(arg, str):
            base, _, attr_s = arg.partition(".")
            attr = attr_s or None
        elif isinstance(arg, list) and arg and isinstance(arg[0], str):
            base = arg[0]
            attr = arg[1] if len(arg) > 1 and isinstance(arg[1], str) else None
        if base is None:
            return [Rendered("${?}", frozenset())]
        target = sam_alias(t, base)
        if target in t.resources:
            token = f"{base}.{attr}" if attr else base
            return [Rendered("${" + token + "}", frozenset({(t.file, target, attr)}))]
        return [Rendered("${" + base + "}", frozenset())]
    if name == "Fn::Sub":
        return _render_sub(t, arg, depth)
    if name == "Fn::Join":
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
            items = arg[1]
            if isinstance(items, list):
                return _combine([render(t, item, depth + 1) for item in items], arg[0])
            return [Rendered("${?}", frozenset())]
        return [Rendered("${?}", frozenset())]
    if name == "Fn::If":
        if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
            out: list[Rendered] = []
            for branch, label in ((arg[1], arg[0]), (arg[2], "!" + arg[0])):
                for r in render(t, branch, depth + 1):
                    out.append(Rendered(r.text, r.refs, (label, *r.conditions), r.assumed))
            return out[:MAX_RENDERINGS]
        return [Rendered("${?}", frozenset())]
    if name == "Fn::ImportValue":
        return _render_import(t, arg, depth)
    # Select, FindInMap, ... : plain resolution
    outs: list[Rendered] = []
    for o in resolve(t, node):
        if isinstance(o.value, (str, int, float)) and not isinstance(o.value, bool):
            outs.append(Rendered(str(o.value), frozenset(), o.conditions, o.assumed))
        elif isinstance(o.value, Unresolved) and o.value.text:
            outs.append(Rendered(o.value.text, frozenset(), o.conditions, o.assumed))
        else:
            outs.append(Rendered("${?}", frozenset(), o.conditions, o.assumed))
    return outs or [Rendered("${?}", frozenset())]


def _render_name(t: Template, name: str, attr: str | None, depth: int) -> list[Rendered]:
    if name in PSEUDO:
        return [Rendered("${" + name + "}", frozenset())]
    if name in t.parameters:
        outs: list[Rendered] = []
        for o in resolve(t, {"Ref": name}):
            if isinstance(o.value, (str, int, float)) and not isinstance(o.value, bool):
                outs.append(Rendered(str(o.value), frozenset(), o.conditions, o.assumed))
            else:
                outs.append(Rendered("${" + name + "}", frozenset(), o.conditions, o.assumed))
        return outs or [Rendered("${" + name + "}", frozenset())]
    target = sam_alias(t, name)
    if target in t.resources:
        return [Rendered("${" + name + "}", frozenset({(t.file, target, attr)}))]
    return [Rendered("${" + name + "}", frozenset())]


def _render_sub(t: Template, arg: Any, depth: int) -> list[Rendered]:
    text: str | None = None
    variables: Mapping[str, Any] | None = None
    if isinstance(arg, str):
        text = arg
    elif isinstance(arg, list) and arg and isinstance(arg[0], str):
        text = arg[0]
        if len(arg) > 1 and isinstance(arg[1], Mapping):
            variables = arg[1]
    if text is None:
        return [Rendered("${?}", frozenset())]
    pieces: list[list[Rendered]] = []
    pos = 0
    while pos < len(text):
        start = text.find("${", pos)
        if start == -1:
            pieces.append([Rendered(text[pos:], frozenset())])
            break
        if start > pos:
            pieces.append([Rendered(text[pos:start], frozenset())])
        end = text.find("}", start)
        if end == -1:
            pieces.append([Rendered(text[start:], frozenset())])
            break
        token = text[start + 2 : end].strip()
        pos = end + 1
        if token.startswith("!"):
            pieces.append([Rendered("${" + token[1:] + "}", frozenset())])
            continue
        if variables is not None and token in variables:
            pieces.append(render(t, variables[token], depth + 1))
        elif token in t.aliases:
            pieces.append(
                [Rendered("${" + token + "}", frozenset({(t.file, t.aliases[token], None)}))]
            )
        elif "." in token and token.split(".", 1)[0] in t.resources:
            base, attr = token.split(".", 1)
            pieces.append([Rendered("${" + token + "}", frozenset({(t.file, base, attr)}))])
        else:
            pieces.append(_render_name(t, token, None, depth + 1))
    return _combine(pieces)


def _render_import(t: Template, arg: Any, depth: int) -> list[Rendered]:
    names = render(t, arg, depth + 1)
    repo = t.repo
    out: list[Rendered] = []
    for name in names[:4]:
        if repo is None:
            out.append(Rendered("${ImportValue}", frozenset(), name.conditions, True))
            continue
        match = repo.export(name.text)
        if match is None:
            out.append(
                Rendered("${ImportValue " + name.text + "}", frozenset(), name.conditions, True)
            )
            continue
        exporter, value_node, exact = match
        for r in render(exporter, value_node, depth + 1):
            out.append(
                Rendered(
                    r.text,
                    r.refs,
                    (*name.conditions, *r.conditions),
                    r.assumed or name.assumed or not exact,
                )
            )
    return out or [Rendered("${ImportValue}", frozenset())]


# -- WAF associations -------------------------------------------------------------------------

WAF_ASSOCIATION_TYPES = ("AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::WebACLAssociation")


@dataclass(frozen=True)
class Association:
    template: Template
    resource: Resource
    renderings: tuple[Rendered, ...]


def waf_associations(repo: RepoIndex) -> list[Association]:
    """Every WAF web ACL association of the repository, with its ResourceArn rendered."""
    key = "edge:waf_associations"
    cached: list[Association] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: list[Association] = []
    for t in repo.templates.values():
        for assoc in t.of_type(*WAF_ASSOCIATION_TYPES):
            out.append(Association(t, assoc, tuple(render(t, assoc.get("ResourceArn")))))
    repo.cache[key] = out
    return out


def associated(repo: RepoIndex, file: str, logical_id: str) -> Association | None:
    """An association whose ResourceArn is built from the given resource."""
    for assoc in associations_naming(repo, (file, logical_id)):
        if any(r.points_at(file, logical_id) for r in assoc.renderings):
            return assoc
    return None


def associations_naming(repo: RepoIndex, *resources: tuple[str, str]) -> list[Association]:
    """The associations whose ResourceArn renderings refer to one of `resources` ((file,
    logical id)), in `waf_associations` order: an index built once per repository, so a check
    does not scan every association of the repository for each stage."""
    key = "edge:waf_associations.by_resource"
    index: dict[tuple[str, str], list[int]] | None = repo.cache.get(key)
    everything = waf_associations(repo)
    if index is None:
        index = {}
        for i, assoc in enumerate(everything):
            for r in assoc.renderings:
                for file, lid, _ in r.refs:
                    found = index.setdefault((file, lid), [])
                    if not found or found[-1] != i:
                        found.append(i)
        repo.cache[key] = index
    picked: set[int] = set()
    for resource in resources:
        picked.update(index.get(resource, ()))
    return [everything[i] for i in sorted(picked)]


# -- TLS tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsPolicy:
    name: str
    rank: int
    min: str  # lowest protocol accepted: "1.0", "1.2", "1.3", "SSLv3"


@dataclass(frozen=True)
class TlsTables:
    cloudfront: dict[str, TlsPolicy]
    cloudfront_floor: dict[str, str]
    cloudfront_default_certificate: str
    cloudfront_default: str
    apigateway: dict[str, TlsPolicy]
    apigateway_patterns: tuple[tuple[str, str], ...]
    apigateway_rest_default: str
    apigateway_http_default: str

    def apigateway_policy(self, name: str) -> TlsPolicy | None:
        if name in self.apigateway:
            return self.apigateway[name]
        for prefix, minimum in self.apigateway_patterns:
            if name.startswith(prefix):
                return TlsPolicy(name, -1, minimum)
        return None


def _policies(section: Mapping[str, Any]) -> dict[str, TlsPolicy]:
    out: dict[str, TlsPolicy] = {}
    for name, spec in section.items():
        if isinstance(spec, Mapping):
            out[str(name)] = TlsPolicy(str(name), int(spec["rank"]), str(spec["min"]))
    return out


@lru_cache(maxsize=1)
def tls_tables() -> TlsTables:
    text = (
        importlib_resources.files("reviewer").joinpath("data/tls.yaml").read_text(encoding="utf-8")
    )
    data = load_yaml(text)
    cf = data["cloudfront"]
    ag = data["apigateway"]
    return TlsTables(
        cloudfront=_policies(cf["policies"]),
        cloudfront_floor={str(k): str(v) for k, v in cf["floor"].items()},
        cloudfront_default_certificate=str(cf["default_certificate_policy"]),
        cloudfront_default=str(cf["default_policy"]),
        apigateway=_policies(ag["policies"]),
        apigateway_patterns=tuple((str(p["prefix"]), str(p["min"])) for p in ag["patterns"]),
        apigateway_rest_default=str(ag["rest_default_policy"]),
        apigateway_http_default=str(ag["http_default_policy"]),
    )


def protocol_version(text: str) -> tuple[int, ...] | None:
    """'TLSv1.2', 'TLS1.2', '1.2', 'TLS_1_2' -> (1, 2); 'SSLv3' -> (0,)."""
    cleaned = text.strip().upper()
    if cleaned.startswith("SSL"):
        return (0,)
    for prefix in ("TLSV", "TLS_", "TLS"):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix) :]
            break
    cleaned = cleaned.replace("_", ".")
    parts = cleaned.split(".")
    try:
        return tuple(int(p) for p in parts if p != "")
    except ValueError:
        return None


def protocol_label(minimum: str) -> str:
    return minimum if minimum.upper().startswith("SSL") else f"TLS {minimum}"


# -- misc ---------------------------------------------------------------------------------------


def mapping_items(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping) and intrinsic(node) is None:
        for key, value in node.items():
            yield str(key), value


def novalue(v: Val) -> bool:
    return v.value is NOVALUE
