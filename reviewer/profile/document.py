"""The .archreview.yml document: its schema, parsing and validation, the presets, and writing
a profile back as a document (`archreview init`, `profile show`, the ADR's appendix).

The profile readers build on it: reviewer.profile.loader (files and where the declared
architecture comes from) and reviewer.profile.agent (agent definitions).

The file is strict: an unknown key, a wrong type, a bad version or range, or a duplicate key is a
:class:`ProfileError` naming the file, line and column, with a "did you mean" suggestion where one
is close. Every key is optional. A profile is laid over a preset: ``extends: chariot`` lays it
over the Chariot platform's declaration (reviewer/profile/presets/chariot.yml), no ``extends`` over the
built-in baseline (reviewer/profile/presets/baseline.yml), which declares nothing. A key written
replaces the preset's value as a whole (writing ``stack.node.packages`` replaces the package
map, it does not merge with it). An agent definition (``*.md`` with YAML front matter) is read by
:mod:`reviewer.profile.agent` instead and only warns on what it does not map.

Schema (``archreview profile show`` prints the effective profile in this form; the declarable
keys, dotted, are :data:`reviewer.profile.SCHEMA_KEYS`)::

    version: 1
    name: chariot
    extends: chariot | baseline
    stack:
      go: {version, required_modules, forbidden_modules}
      node: {packages: {name: range}, forbidden_packages}
      testing: {go: [module paths], node: [package names]}
    layers:
      network: {enabled, geo_restriction}
      api: {enabled, authorizer_kinds, waf_managed_rule_groups, waf_rate_limit}
      identity: {enabled}            # L3: IDN and IAM rules
      data: {enabled, kms_required, tls_minimum, tls_preferred}
      monitoring: {enabled}
    events: {retention_days, visibility_timeout_s, fifo_queues}
    sizing: {tag, classes: {name: {memory_mb, timeout_s, patterns}}}
    dynamodb: {single_table_limit}
    platform: {private_subnets_behind_load_balancer, canary_releases, multi_region_recovery,
               compliance_monitoring}
    persona: regular | pedantic | auditor
    rules: {disable: [ids], severity: {id: severity}, persona: {id: persona},
            <id>: {enabled, severity, persona}}
    exclude: [globs]
    suppressions: [{path, id, reason, until, subject}]
    modules: {<module path glob>: {extends, stack, layers, events, sizing, dynamodb, platform}}
"""

from __future__ import annotations

import functools
import json
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.core.package import rule_ids
from reviewer.core.typed import (
    INT,
    NULL,
    InputError,
    Marked,
    Reader,
    compose,
    suggest,
)
from reviewer.core.types import Persona, Severity, is_custom_rule_id
from reviewer.profile import (
    AUTHORIZER_KINDS,
    BASELINE,
    KEY_FIELDS,
    LAYER_FAMILIES,
    PRESET_ADDITIONS,
    SCHEMA_KEYS,
    Profile,
    SizingClass,
    Suppress,
)

MAX_BYTES = 1_000_000
MAX_MODULE_ENTRIES = 256  # entries of a `modules:` section (each is matched against each module)

TLS_VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
PERSONAS = tuple(p.value for p in Persona)

# The five layers of the declared architecture and the rule families each one switches.
LAYER_SECTIONS: dict[str, tuple[str, ...]] = {
    "network": ("NET",),
    "api": ("API",),
    "identity": ("IDN", "IAM"),
    "data": ("DAT",),
    "monitoring": ("OBS",),
}


class ProfileError(InputError):
    """A profile that cannot be used: ``message`` at ``file``:``line``:``column``."""

    @classmethod
    def of(cls, err: InputError) -> ProfileError:
        return cls(err.message, err.file, err.line, err.column, err.suggestion)


# -- value checks shared with the agent reader ------------------------------------------------


def valid_go_version(text: str) -> bool:
    from reviewer.model.manifests.gomod import go_version_key

    shape = r"[1-9][0-9]*\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)|(rc|beta|alpha)[1-9][0-9]*)?"
    return bool(re.fullmatch(shape, text)) and go_version_key(text) != (0,)


def normalise_go_version(text: str) -> str:
    """ "go1.24.6" / "v1.24.6" / "1.24.6" -> "1.24.6"."""
    t = text.strip()
    for prefix in ("go", "v"):
        if t.lower().startswith(prefix) and len(t) > len(prefix) and t[len(prefix)].isdigit():
            t = t[len(prefix) :]
    return t


def valid_npm_range(text: str) -> bool:
    """A version range read strictly (npm itself reads loosely and drops what it cannot read;
    a declaration should say what it means)."""
    import nodesemver

    from reviewer.model.manifests.npm import spec_kind

    if spec_kind(text) != "range":
        return False
    try:
        nodesemver.Range(text.strip(), False)
    except Exception:  # nodesemver raises ValueError (and TypeError on odd input)
        return False
    return True


def normalise_tls(text: str) -> str:
    """ "1.2" / "TLS 1.2" / "tls1.2" / "TLSv1.2" / "TLS_1_2" -> "TLSv1.2"."""
    m = re.fullmatch(r"(?i)\s*(?:tls\s*v?\s*[_ ]?)?1[._]([0-3])\s*", text)
    return f"TLSv1.{m.group(1)}" if m else text.strip()


def normalise_authorizer(text: str) -> str:
    t = text.strip().upper().replace("-", "_").replace(" ", "_")
    aliases = {
        "COGNITO": "COGNITO_USER_POOLS",
        "COGNITO_USER_POOL": "COGNITO_USER_POOLS",
        "IAM": "AWS_IAM",
        "SIGV4": "AWS_IAM",
        "LAMBDA_TOKEN": "TOKEN",
        "LAMBDA_REQUEST": "REQUEST",
    }
    return aliases.get(t, t)


# -- the schema --------------------------------------------------------------------------------

ARCHITECTURE_SECTIONS = ("stack", "layers", "events", "sizing", "dynamodb", "platform")
TOP_KEYS = (
    "version",
    "name",
    "extends",
    *ARCHITECTURE_SECTIONS,
    "persona",
    "rules",
    "exclude",
    "suppressions",
    "modules",
)
# what one entry of `modules:` may declare: the architecture, over a preset
MODULE_KEYS = ("extends", *ARCHITECTURE_SECTIONS)
PRESETS = ("baseline", "chariot")
PRESET_DIR = Path(__file__).resolve().parent / "presets"


def _rule_ids() -> tuple[str, ...]:
    return rule_ids()  # the rule files' names: the profile is read before any check is loaded


def parse_profile_text(text: str, file: str) -> Profile:
    """A .archreview.yml text -> Profile (the preset it extends, the baseline by default,
    overlaid with what it sets). Raises ProfileError, and nothing else, for anything it cannot
    use."""
    try:
        return _parse_profile(text, file)
    except ProfileError:
        raise
    except InputError as err:  # reviewer.core.typed: YAML, shapes and types
        raise ProfileError.of(err) from None


def _parse_profile(text: str, file: str, base: Profile | None = None) -> Profile:
    doc = compose(text, file)
    if doc is None:
        start = base if base is not None else preset("baseline")
        return replace(start, name=Path(file).name, source=file, extends=None)
    r = Reader(file)
    top = r.mapping(doc, "the profile", TOP_KEYS)
    if "version" in top:
        v = top["version"]
        if v.kind != INT or v.value != 1:
            raise r.fail(
                v,
                f"unsupported profile version {v.text or v.found()!r}; this archreview reads 1",
                "1",
            )
    profile = _declared(r, top, file, base)
    kw: dict[str, Any] = {"name": Path(file).name, "source": file}
    if "name" in top:
        kw["name"] = r.string(top["name"], "name")
    if "persona" in top:
        kw["persona"] = Persona(
            r.choice(top["persona"], "persona", PERSONAS, lambda t: t.strip().lower())
        )
    if "rules" in top:
        if isinstance(top["rules"].value, list):  # the repository's own rule files (issue 21)
            kw["custom_rules"] = r.strings(top["rules"], "rules")
        else:
            _rules(r, top["rules"], kw)
    if "exclude" in top:
        kw["exclude_paths"] = r.strings(top["exclude"], "exclude")
    if "suppressions" in top:
        kw["suppressions"] = _suppressions(r, top["suppressions"])
    if "modules" in top:
        kw["modules"] = _modules(r, top["modules"], file)
    profile = replace(profile, **kw)
    where = dict(profile.sources).get("events.visibility_timeout_s", file)
    warnings = tuple(f"{where}: {w}" for w in consistency_warnings(profile))
    return replace(profile, warnings=warnings)


def _declared(r: Reader, top: Mapping[str, Marked], file: str, base: Profile | None) -> Profile:
    """The architecture sections of a mapping (the profile, or one entry of `modules:`) over
    the preset it extends."""
    extends = None
    if "extends" in top:
        extends = r.choice(top["extends"], "extends", PRESETS, lambda t: t.strip().lower())
    start = preset(extends or "baseline") if base is None else base
    kw: dict[str, Any] = {}
    switches: dict[str, bool] = {}
    sources: list[tuple[str, str]] = []

    def cite(key: str, m: Marked) -> None:
        sources.append((key, f"{file}:{m.line}"))

    if "stack" in top:
        _stack(r, top["stack"], kw, cite)
    if "layers" in top:
        _layers(r, top["layers"], kw, switches, cite)
    if "events" in top:
        _events(r, top["events"], kw, cite)
    if "sizing" in top:
        _sizing(r, top["sizing"], kw, cite)
    if "dynamodb" in top:
        d = r.mapping(top["dynamodb"], "dynamodb", ("single_table_limit",))
        if "single_table_limit" in d:
            kw["single_table_limit"] = r.integer(
                d["single_table_limit"], "dynamodb.single_table_limit", 1, 10_000
            )
            cite("dynamodb.single_table_limit", d["single_table_limit"])
    if "platform" in top:
        p = r.mapping(top["platform"], "platform", tuple(PLATFORM_KEYS))
        for key, attr in PLATFORM_KEYS.items():
            if key in p:
                kw[attr] = r.boolean(p[key], f"platform.{key}")
                cite(f"platform.{key}", p[key])
    if switches:
        on = set(start.layers)
        for family, enabled in switches.items():
            (on.add if enabled else on.discard)(family)
        kw["layers"] = tuple(f for f in LAYER_FAMILIES if f in on)
    keys = {key for key, _ in sources if key in KEY_FIELDS}
    declared = None if start.declared is None else start.declared | keys
    cited = dict(start.sources)
    cited.update(sources)
    return replace(
        start,
        **kw,
        declared=declared,
        sources=tuple(sorted(cited.items())),
        extends=extends,
        source_kind="file",
        notice=None,
    )


def _modules(r: Reader, m: Marked, file: str) -> tuple[tuple[str, Profile], ...]:
    """`modules:`: module path glob -> what those modules declare (each entry over the preset it
    extends, else over nothing: only the keys it writes apply to the module)."""
    if not isinstance(m.value, dict):
        raise r.wrong(m, "modules", "a mapping of module path globs to declarations")
    if len(m.value) > MAX_MODULE_ENTRIES:
        raise r.fail(m, f"modules has {len(m.value):,} entries; at most {MAX_MODULE_ENTRIES}")
    out: list[tuple[str, Profile]] = []
    for glob, body in m.value.items():
        line, col = m.keys[glob]
        pattern = module_glob(glob)
        if not pattern:
            raise ProfileError("an empty module glob", r.file, line, col)
        entry = r.mapping(body, f"modules.{glob}", MODULE_KEYS)
        declared = _declared(r, entry, file, None)
        out.append((pattern, replace(declared, name=f"modules.{glob}", source=f"{file}:{line}")))
    return tuple(out)


def module_glob(text: str) -> str:
    """A `modules:` glob as module paths are written: "/"-separated, relative, no "./"."""
    t = text.strip().replace("\\", "/")
    while t.startswith("./"):
        t = t[2:]
    return t.strip("/") or ("." if text.strip() in (".", "./") else "")


PLATFORM_KEYS: dict[str, str] = {
    "private_subnets_behind_load_balancer": "private_subnets_behind_lb",
    "canary_releases": "gradual_deployment",
    "multi_region_recovery": "multi_region",
    "compliance_monitoring": "compliance_monitoring",
}

_Cite = Callable[[str, Marked], None]


def _stack(r: Reader, m: Marked, kw: dict[str, Any], cite: _Cite) -> None:
    s = r.mapping(m, "stack", ("go", "node", "testing"))
    if "go" in s:
        g = r.mapping(s["go"], "stack.go", ("version", "required_modules", "forbidden_modules"))
        if "version" in g:
            raw = r.string(g["version"], "stack.go.version")
            version = normalise_go_version(raw)
            if not valid_go_version(version):
                raise r.fail(
                    g["version"],
                    f"stack.go.version {raw!r} is not a Go version (1.24, 1.24.6, 1.25rc1)",
                )
            kw["go_version"] = version
            cite("stack.go.version", g["version"])
        if "required_modules" in g:
            mods = r.strings(g["required_modules"], "stack.go.required_modules")
            for mod, item in zip(mods, g["required_modules"].value, strict=False):
                _check_module_path(r, item, mod)
            sdks = [x for x in mods if x.startswith("github.com/aws/aws-sdk-go")]
            kw["go_sdk"] = sdks[0] if sdks else None
            kw["go_frameworks"] = tuple(x for x in mods if x not in sdks[:1])
            cite("stack.go.required_modules", g["required_modules"])
        if "forbidden_modules" in g:
            mods = r.strings(g["forbidden_modules"], "stack.go.forbidden_modules")
            for mod, item in zip(mods, g["forbidden_modules"].value, strict=False):
                _check_module_path(r, item, mod)
            kw["go_forbidden"] = mods
            cite("stack.go.forbidden_modules", g["forbidden_modules"])
    if "node" in s:
        n = r.mapping(s["node"], "stack.node", ("packages", "forbidden_packages"))
        if "packages" in n:
            pk = n["packages"]
            if not isinstance(pk.value, dict):
                raise r.fail(
                    pk,
                    f"stack.node.packages must be a mapping of package name to version range, "
                    f"not {pk.found()}",
                )
            packages: list[tuple[str, str]] = []
            for name, spec_m in pk.value.items():
                spec = r.string(spec_m, f"stack.node.packages.{name}")
                if not valid_npm_range(spec):
                    raise r.fail(
                        spec_m,
                        f"stack.node.packages.{name}: {spec!r} is not an npm version range "
                        "(18.3.1, ^18.2.0, 5.x, >=5 <6, *)",
                        _range_hint(spec),
                    )
                packages.append((name, spec))
            kw["node_packages"] = tuple(packages)
            cite("stack.node.packages", pk)
        if "forbidden_packages" in n:
            kw["node_forbidden"] = r.strings(
                n["forbidden_packages"], "stack.node.forbidden_packages"
            )
            cite("stack.node.forbidden_packages", n["forbidden_packages"])
    if "testing" in s:
        t = r.mapping(s["testing"], "stack.testing", ("go", "node"))
        if "go" in t:
            kw["go_test_frameworks"] = r.strings(t["go"], "stack.testing.go")
            cite("stack.testing.go", t["go"])
        if "node" in t:
            kw["node_test_frameworks"] = r.strings(t["node"], "stack.testing.node")
            cite("stack.testing.node", t["node"])


def _check_module_path(r: Reader, m: Marked, path: str) -> None:
    if " " in path or "." not in path.split("/", 1)[0]:
        hint = None
        if "/" in path and " " not in path and "." not in path.split("/", 1)[0]:
            hint = f"github.com/{path}"
        raise r.fail(m, f"{path!r} is not a Go module path (github.com/owner/repo)", hint)


def _range_hint(spec: str) -> str | None:
    m = re.match(r"\s*[vV]?(\d+(?:\.\d+){0,2}(?:\.x)?)", spec)
    return m.group(1) if m else None


def _layers(
    r: Reader, m: Marked, kw: dict[str, Any], switches: dict[str, bool], cite: _Cite
) -> None:
    allowed = {
        "network": ("enabled", "geo_restriction"),
        "api": ("enabled", "authorizer_kinds", "waf_managed_rule_groups", "waf_rate_limit"),
        "identity": ("enabled",),
        "data": ("enabled", "kms_required", "tls_minimum", "tls_preferred"),
        "monitoring": ("enabled",),
    }
    sections = r.mapping(m, "layers", tuple(allowed))
    for name, sm in sections.items():
        where = f"layers.{name}"
        if isinstance(sm.value, bool):  # layers: {network: false}
            body: dict[str, Marked] = {"enabled": sm}
        else:
            body = r.mapping(sm, where, allowed[name])
        if "enabled" in body:
            on = r.boolean(body["enabled"], f"{where}.enabled")
            for family in LAYER_SECTIONS[name]:
                switches[family] = on
            cite(f"{where}.enabled", body["enabled"])
        if "geo_restriction" in body:
            kw["geo_restriction"] = r.boolean(body["geo_restriction"], f"{where}.geo_restriction")
            cite(f"{where}.geo_restriction", body["geo_restriction"])
        if "authorizer_kinds" in body:
            am = body["authorizer_kinds"]
            r.strings(am, f"{where}.authorizer_kinds")
            out = [
                r.choice(
                    item,
                    f"an entry of {where}.authorizer_kinds",
                    AUTHORIZER_KINDS,
                    normalise_authorizer,
                )
                for item in am.value
            ]
            kw["authorizers"] = tuple(dict.fromkeys(out))
            cite(f"{where}.authorizer_kinds", am)
        if "waf_managed_rule_groups" in body:
            wm = body["waf_managed_rule_groups"]
            groups = r.strings(wm, f"{where}.waf_managed_rule_groups")
            for group, item in zip(groups, wm.value, strict=False):
                if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", group):
                    raise r.fail(item, f"{group!r} is not a WAF managed rule group name")
            kw["waf_managed_rule_groups"] = groups
            cite(f"{where}.waf_managed_rule_groups", wm)
        if "waf_rate_limit" in body:
            kw["waf_rate_limit"] = r.boolean(body["waf_rate_limit"], f"{where}.waf_rate_limit")
            cite(f"{where}.waf_rate_limit", body["waf_rate_limit"])
        if "kms_required" in body:
            kw["kms_required"] = r.boolean(body["kms_required"], f"{where}.kms_required")
            cite(f"{where}.kms_required", body["kms_required"])
        for key in ("tls_minimum", "tls_preferred"):
            if key in body:
                kw[key] = r.choice(body[key], f"{where}.{key}", TLS_VERSIONS, normalise_tls)
                cite(f"{where}.{key}", body[key])


def _events(r: Reader, m: Marked, kw: dict[str, Any], cite: _Cite) -> None:
    e = r.mapping(m, "events", ("retention_days", "visibility_timeout_s", "fifo_queues"))
    if "retention_days" in e:
        # SQS keeps messages from 60 seconds to 14 days
        kw["queue_retention_days"] = r.integer(e["retention_days"], "events.retention_days", 1, 14)
        cite("events.retention_days", e["retention_days"])
    if "visibility_timeout_s" in e:
        vm = e["visibility_timeout_s"]
        kw["queue_visibility_s"] = (
            None if vm.value is None else r.integer(vm, "events.visibility_timeout_s", 0, 43_200)
        )
        cite("events.visibility_timeout_s", vm)
    if "fifo_queues" in e:
        kw["ordered_queue_patterns"] = r.strings(e["fifo_queues"], "events.fifo_queues")
        cite("events.fifo_queues", e["fifo_queues"])


def _sizing(r: Reader, m: Marked, kw: dict[str, Any], cite: _Cite) -> None:
    s = r.mapping(m, "sizing", ("tag", "classes"))
    if "tag" in s:
        kw["sizing_tag"] = r.string(s["tag"], "sizing.tag")
        cite("sizing.tag", s["tag"])
    if "classes" in s:
        cm = s["classes"]
        if not isinstance(cm.value, dict):
            raise r.fail(
                cm,
                "sizing.classes must be a mapping of class name to "
                f"{{memory_mb, timeout_s, patterns}}, not {cm.found()}",
            )
        classes: list[SizingClass] = []
        for name, body_m in cm.value.items():
            where = f"sizing.classes.{name}"
            body = r.mapping(body_m, where, ("memory_mb", "timeout_s", "patterns"))
            for required in ("memory_mb", "timeout_s"):
                if required not in body:
                    raise r.fail(body_m, f"{where} needs {required}")
            memory = r.integer(body["memory_mb"], f"{where}.memory_mb", 128, 10_240)
            timeout = r.integer(body["timeout_s"], f"{where}.timeout_s", 1, 900)
            patterns = (
                tuple(p.lower() for p in r.strings(body["patterns"], f"{where}.patterns"))
                if "patterns" in body
                else ()
            )
            classes.append(SizingClass(name, memory, timeout, patterns))
            cite(where, body_m)
        kw["sizing_classes"] = tuple(classes)
        cite("sizing.classes", cm)


RULE_KEYS = ("enabled", "severity", "persona")


def _rules(r: Reader, m: Marked, kw: dict[str, Any]) -> None:
    """`rules:` — `disable: [ids]`, `severity: {id: severity}`, `persona: {id: persona}`, and
    per rule `<id>: {enabled, severity, persona}` (both forms may be mixed)."""
    if not isinstance(m.value, dict):
        raise r.wrong(m, "rules", "a mapping")
    ids = _rule_ids()
    disabled: list[str] = []
    severities: dict[str, Severity] = {}
    personas: dict[str, Persona] = {}
    severity_choices = tuple(s.value for s in Severity)

    def rule_id(key: str) -> str:
        rid = key.strip().upper()
        if rid not in ids and not is_custom_rule_id(rid):  # a repository's own rule (issue 21)
            line, col = m.keys[key]
            raise ProfileError(f"unknown rule id {key!r}", r.file, line, col, suggest(rid, ids))
        return rid

    def by_id(body: Marked, where: str) -> dict[str, Marked]:
        if not isinstance(body.value, dict):
            raise r.wrong(body, where, "a mapping of rule id to value")
        out: dict[str, Marked] = {}
        for key, vm in body.value.items():
            rid = key.strip().upper()
            if rid not in ids and not is_custom_rule_id(rid):
                line, col = body.keys[key]
                raise ProfileError(f"unknown rule id {key!r}", r.file, line, col, suggest(rid, ids))
            out[rid] = vm
        return out

    for key, body in m.value.items():
        if key == "files":  # the repository's own rule files (issue 21)
            kw["custom_rules"] = r.strings(body, "rules.files")
        elif key == "disable":
            listed = r.strings(body, "rules.disable")
            for rid, item in zip(listed, body.value, strict=False):
                if rid.upper() not in ids and not is_custom_rule_id(rid.upper()):
                    raise r.fail(item, f"unknown rule id {rid!r}", suggest(rid.upper(), ids))
                disabled.append(rid.upper())
        elif key == "severity":
            for rid, vm in by_id(body, "rules.severity").items():
                severities[rid] = Severity(
                    r.choice(vm, f"rules.severity.{rid}", severity_choices, str.lower)
                )
        elif key == "persona":
            for rid, vm in by_id(body, "rules.persona").items():
                personas[rid] = Persona(
                    r.choice(vm, f"rules.persona.{rid}", PERSONAS, lambda t: t.strip().lower())
                )
        elif (
            re.fullmatch(r"(?i)AR-[A-Z]+-\d+", key.strip())
            or key.strip().upper() in ids
            or is_custom_rule_id(key.strip())
        ):
            rid = rule_id(key)
            entry = r.mapping(body, f"rules.{key}", RULE_KEYS)
            if "enabled" in entry and not r.boolean(entry["enabled"], f"rules.{key}.enabled"):
                disabled.append(rid)
            if "severity" in entry:
                severities[rid] = Severity(
                    r.choice(
                        entry["severity"], f"rules.{key}.severity", severity_choices, str.lower
                    )
                )
            if "persona" in entry:
                personas[rid] = Persona(
                    r.choice(
                        entry["persona"],
                        f"rules.{key}.persona",
                        PERSONAS,
                        lambda t: t.strip().lower(),
                    )
                )
        else:
            line, col = m.keys[key]
            allowed = ("disable", "severity", "persona", "<rule id>")
            raise ProfileError(
                f"unknown key 'rules.{key}'; allowed here: {', '.join(allowed)}",
                r.file,
                line,
                col,
                suggest(key, ("disable", "severity", "persona")),
            )
    if disabled:
        kw["disabled_rules"] = tuple(dict.fromkeys(disabled))
    if severities:
        kw["severity_overrides"] = tuple(severities.items())
    if personas:
        kw["rule_personas"] = tuple(personas.items())


def _suppressions(r: Reader, m: Marked) -> tuple[Suppress, ...]:
    if not isinstance(m.value, list):
        raise r.wrong(m, "suppressions", "a list")
    ids = _rule_ids()
    out: list[Suppress] = []
    for item in m.value:
        body = r.mapping(item, "a suppression", ("path", "id", "reason", "until", "subject"))
        for required in ("path", "id"):
            if required not in body:
                raise r.fail(item, f"a suppression needs {required}")
        rid = r.string(body["id"], "suppression id").upper()
        if rid not in ids and not is_custom_rule_id(rid):  # a repository's own rule (issue 21)
            raise r.fail(body["id"], f"unknown rule id {rid!r}", suggest(rid, ids))
        reason = None
        if "reason" in body:  # empty or null: AR-MOD-004 reports it
            reason = (r.text(body["reason"], "suppression reason") or "").strip() or None
        until = None
        if "until" in body and body["until"].kind != NULL:
            until = r.date(body["until"], "until").isoformat()
        subject = r.string(body["subject"], "suppression subject") if "subject" in body else None
        out.append(
            Suppress(r.string(body["path"], "suppression path"), rid, reason, until, subject)
        )
    return tuple(out)


# -- consistency -------------------------------------------------------------------------------


def consistency_warnings(profile: Profile) -> list[str]:
    """Declared numbers that contradict each other (AR-EVT-003's 6x rule)."""
    out: list[str] = []
    v = profile.queue_visibility_s
    if v is not None:
        short = [c for c in profile.sizing_classes if v < 6 * c.timeout_s]
        if short:
            worst = max(short, key=lambda c: c.timeout_s)
            named = ", ".join(f"{c.name} {c.timeout_s} s" for c in short)
            out.append(
                f"the declared queue visibility timeout ({v} s) is below 6 x the declared "
                f"function timeout of the sizing classes {named}: AR-EVT-003 requires a queue "
                f"that triggers a function to keep messages invisible for at least 6 x its "
                f"timeout (for {worst.name}: {6 * worst.timeout_s} s); the declaration "
                "contradicts itself"
            )
    return out


def decode_text(data: bytes, label: str, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ProfileError(f"{label} is not UTF-8 text", file, line) from err


def read_limited(path: Path, label: str) -> str:
    """A file the user named (``--profile``, ``--from-agent``): trusted, links followed; at
    most MAX_BYTES, UTF-8."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_BYTES:
                raise ProfileError(f"{label} is over {MAX_BYTES:,} bytes", str(path))
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise ProfileError(f"cannot read {label}: {err.strerror or err}", str(path)) from err
    if len(data) > MAX_BYTES:
        raise ProfileError(f"{label} is over {MAX_BYTES:,} bytes", str(path))
    return decode_text(data, label, str(path))


# -- presets -----------------------------------------------------------------------------------


@functools.cache
def preset(name: str) -> Profile:
    """A preset shipped with archreview (reviewer/profile/presets/<name>.yml), read by the strict
    loader: ``baseline`` declares nothing (its values are the ones rules tuned by a key read
    when the key is not declared; it equals ``Profile()``), ``chariot`` is the Chariot
    platform's declaration over it."""
    if name not in PRESETS:
        raise ProfileError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}", "extends")
    file = f"preset:{name}"
    text = (PRESET_DIR / f"{name}.yml").read_text(encoding="utf-8")
    if name == "baseline":
        parsed = _parse_profile(text, file, base=Profile())
        return replace(
            parsed,
            name="baseline",
            source=BASELINE.source,
            source_kind="baseline",
            declared=frozenset(),
            sources=(),
            extends=None,
        )
    parsed = _parse_profile(text, file)
    return replace(parsed, source=f"the {name} preset", extends=name, warnings=())


def recognised_preset(profile: Profile) -> str | None:
    """The preset whose architecture ``profile`` declares: the same value for every
    architecture field, apart from the preset's documented additions to the declaration it was
    made from (PRESET_ADDITIONS: the chariot preset adds an ``api`` sizing class, leaves the
    contradicting queue visibility out and enforces TLS 1.2). None when there is none."""
    from reviewer.profile import ARCHITECTURE_FIELDS

    for name, additions in PRESET_ADDITIONS.items():
        if not additions:
            continue
        base = preset(name)
        skipped = {a for a, _ in additions if "." not in a}
        added = {a.split(".", 1)[1] for a, _ in additions if a.startswith("sizing_classes.")}
        same = True
        for attr in ARCHITECTURE_FIELDS:
            if attr in skipped:
                continue
            mine, theirs = getattr(profile, attr), getattr(base, attr)
            if attr == "sizing_classes":
                ok = {c.name: c for c in theirs}
                got = {c.name: c for c in mine}
                without = {n: c for n, c in ok.items() if n not in added}
                same = got in (ok, without)
            else:
                same = mine == theirs
            if not same:
                break
        if same:
            return name
    return None


# -- writing -----------------------------------------------------------------------------------


def key_value(profile: Profile, key: str) -> Any:
    """The value of one schema key in the .archreview.yml form (None: no value)."""
    p = profile
    if key == "stack.go.required_modules":
        return [*p.go_frameworks, *([p.go_sdk] if p.go_sdk else [])]
    if key == "stack.node.packages":
        return dict(p.node_packages)
    if key.startswith("layers.") and key.endswith(".enabled"):
        section = key.split(".")[1]
        return all(f in p.layers for f in LAYER_SECTIONS[section])
    if key == "sizing.classes":
        return {
            c.name: {
                "memory_mb": c.memory_mb,
                "timeout_s": c.timeout_s,
                "patterns": list(c.patterns),
            }
            for c in p.sizing_classes
        }
    value = getattr(p, KEY_FIELDS[key][0])
    return list(value) if isinstance(value, tuple) else value


def has_value(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def architecture_document(profile: Profile, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The architecture sections of a profile document: ``keys`` (schema keys), or by default
    every key the profile declares or gives a value (the baseline's tuned values included)."""
    wanted = set(SCHEMA_KEYS if keys is None else keys)
    doc: dict[str, Any] = {}
    for key in SCHEMA_KEYS:
        if key not in wanted:
            continue
        value = key_value(profile, key)
        if keys is None and not (profile.declares(key) or has_value(value)):
            continue
        node = doc
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return doc


def profile_document(profile: Profile, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The profile in the .archreview.yml schema: its architecture (see
    :func:`architecture_document`), then what steers the review, where set."""
    doc: dict[str, Any] = {"version": 1, "name": profile.name}
    if profile.extends and keys is not None:
        doc["extends"] = profile.extends
    doc.update(architecture_document(profile, keys))
    if profile.persona is not Persona.REGULAR:
        doc["persona"] = profile.persona.value
    rules: dict[str, Any] = {}
    if profile.disabled_rules:
        rules["disable"] = list(profile.disabled_rules)
    if profile.severity_overrides:
        rules["severity"] = {rid: sev.value for rid, sev in profile.severity_overrides}
    if profile.rule_personas:
        rules["persona"] = {rid: persona.value for rid, persona in profile.rule_personas}
    if rules:
        doc["rules"] = rules
    if profile.exclude_paths:
        doc["exclude"] = list(profile.exclude_paths)
    if profile.suppressions:
        doc["suppressions"] = [
            {
                k: v
                for k, v in (
                    ("path", s.path),
                    ("id", s.rule_id),
                    ("reason", s.reason),
                    ("until", s.until),
                    ("subject", s.subject),
                )
                if v is not None
            }
            for s in profile.suppressions
        ]
    if profile.modules:
        doc["modules"] = {
            glob: {
                **({"extends": entry.extends} if entry.extends else {}),
                **architecture_document(entry, entry.declared_keys()),
            }
            for glob, entry in profile.modules
        }
    return doc


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@-]*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    # a JSON string is a YAML double-quoted scalar; what would act on a terminal (DEL, C1
    # controls, bidi and other format characters, line separators) is written as an escape
    quoted = json.dumps(text, ensure_ascii=False)
    return _INERT.sub(lambda m: _escape(m.group()), quoted)


_INERT = re.compile(
    r"[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _inert(text: str) -> str:
    """A comment's text with every control, format or separator character escaped (a line
    separator would end the comment for a YAML reader); its own newlines kept."""
    from reviewer.core.typed import escape_line

    return "\n".join(escape_line(line, 1_000_000) for line in text.split("\n"))


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _key(key: str) -> str:
    return key if _PLAIN.fullmatch(key) and key.lower() not in _RESERVED else json.dumps(key)


def render_yaml(
    doc: Mapping[str, Any],
    comments: Mapping[str, str] | None = None,
    header: Iterable[str] = (),
) -> str:
    """Block-style YAML for a profile document; ``comments`` maps dotted keys to a comment
    written above the key."""
    notes = {k: _inert(v) for k, v in (comments or {}).items()}
    lines = [f"# {_inert(h)}" if h else "#" for h in header]

    def emit(node: Mapping[str, Any], indent: int, prefix: str) -> None:
        pad = "  " * indent
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            for note in notes.get(dotted, "").splitlines():
                for part in textwrap.wrap(
                    note, width=max(40, 98 - len(pad)), break_on_hyphens=False
                ) or [""]:
                    lines.append(f"{pad}# {part}")
            if isinstance(value, Mapping):
                if not value:
                    lines.append(f"{pad}{_key(key)}: {{}}")
                else:
                    lines.append(f"{pad}{_key(key)}:")
                    emit(value, indent + 1, dotted + ".")
            elif isinstance(value, list):
                if not value:
                    lines.append(f"{pad}{_key(key)}: []")
                elif all(not isinstance(v, (Mapping, list)) for v in value):
                    lines.append(f"{pad}{_key(key)}: [{', '.join(_scalar(v) for v in value)}]")
                else:
                    lines.append(f"{pad}{_key(key)}:")
                    for item in value:
                        first = True
                        for k, v in item.items():
                            lead = "- " if first else "  "
                            lines.append(f"{pad}  {lead}{_key(k)}: {_scalar(v)}")
                            first = False
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(value)}")

    emit(doc, 0, "")
    return "\n".join(lines) + "\n"


def field_names() -> tuple[str, ...]:
    """The declarable schema keys, dotted, as rule files name them in ``profile: {requires,
    tunes}`` (reviewer.profile.SCHEMA_KEYS)."""
    return SCHEMA_KEYS


# -- init and profile show --------------------------------------------------------------------

# CHARIOT_ADDITIONS names Profile fields; these are their keys in the file.
FIELD_KEYS: dict[str, str] = {
    "sizing_classes.api": "sizing.classes.api",
    "queue_visibility_s": "events.visibility_timeout_s",
    "tls_minimum": "layers.data.tls_minimum",
}


def join_notes(*notes: str | None) -> str:
    """The notes given, one a line (the comment above a key in a written profile)."""
    return "\n".join(n for n in notes if n)


def _source_line(profile: Profile) -> str:
    kinds = {
        "option": "named by --profile",
        "file": "the repository's profile",
        "agent": "an agent definition committed in the repository",
        "baseline": "nothing declared",
    }
    how = kinds.get(profile.source_kind, profile.source_kind)
    extends = f"; extends the {profile.extends} preset" if profile.extends else ""
    return f"{profile.source} ({how}{extends})"


def show_profile_text(profile: Profile) -> str:
    """The effective profile, each declared value commented with its source; the keys it does
    not declare are listed at the end (rules that require them do not run; rules tuned by
    them read the baseline's value, shown)."""
    notes: dict[str, str] = {}
    for key, where in profile.sources:
        notes[key] = join_notes(notes.get(key), f"from {where}")
    tuned = [k for k in SCHEMA_KEYS if not profile.declares(k)]
    for key in tuned:
        if has_value(key_value(profile, key)):
            notes[key] = join_notes(notes.get(key), "not declared: the baseline's value")
    header = [
        f"effective profile: {profile.name}",
        f"from: {_source_line(profile)}",
        f"declares {len(profile.declared_keys())} of {len(SCHEMA_KEYS)} keys",
    ]
    if profile.notice:
        header.append(profile.notice)
    text = render_yaml(profile_document(profile), notes, header)
    missing = [k for k in tuned if not has_value(key_value(profile, k))]
    if missing:
        lines = textwrap.wrap(", ".join(missing), width=96, break_on_hyphens=False)
        text += "# not declared (rules that require these do not run):\n"
        text += "".join(f"#   {line}\n" for line in lines)
    return text
