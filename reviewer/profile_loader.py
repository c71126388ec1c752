"""Load, validate, resolve and write the declared architecture (.archreview.yml).

The file is strict: an unknown key, a wrong type, a bad version or range, or a duplicate key is a
:class:`ProfileError` naming the file, line and column, with a "did you mean" suggestion where one
is close. Every key is optional. A profile is laid over a preset: ``extends: chariot`` lays it
over the Chariot platform's declaration (reviewer/presets/chariot.yml), no ``extends`` over the
built-in baseline (reviewer/presets/baseline.yml), which declares nothing. A key written
replaces the preset's value as a whole (writing ``stack.node.packages`` replaces the package
map, it does not merge with it). An agent definition (``*.md`` with YAML front matter) is read by
:mod:`reviewer.agent` instead and only warns on what it does not map.

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

Where the declared architecture comes from (:func:`resolve_profile`, first found wins):
``--profile FILE``; ``PATH/.archreview.yml``; an architect agent definition committed in the
repository (``.claude/agents/*.md``, ``.github/agents/*.md``, ``*.agent.md`` at the root or
below ``docs/``) that maps to at least one schema key, the one that maps the most (ties: path
order); else the baseline. Each module's own profile (:func:`resolve_modules`): the root's, the
root's ``modules:`` entries whose glob matches the module's path, then what the module folder
(and each enclosing module folder) commits for itself — its own .archreview.yml, else its best
agent definition — on top. Repository files are read without following a link out of the root,
at most MAX_BYTES each; one that cannot be used is a problem (AR-MOD-003) and is skipped.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.model import Persona, Severity
from reviewer.profile import (
    AUTHORIZER_KINDS,
    BASELINE,
    BASELINE_NOTICE,
    KEY_FIELDS,
    LAYER_FAMILIES,
    PRESET_ADDITIONS,
    SCHEMA_KEYS,
    Profile,
    SizingClass,
    Suppress,
)
from reviewer.typed import (
    INT,
    NULL,
    InputError,
    Marked,
    Reader,
    compose,
    suggest,
)

PROFILE_FILENAMES = (".archreview.yml", ".archreview.yaml")
MAX_BYTES = 1_000_000
MAX_AGENT_CANDIDATES = 16  # agent definitions read per folder (the root, each module)
MAX_LISTED = 5_000  # folder entries looked at per folder while looking for agent definitions
DOCS_DEPTH = 6  # how deep below docs/ *.agent.md files are looked for
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
    from reviewer.stack.gomod import go_version_key

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

    from reviewer.stack.npm import spec_kind

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
    from reviewer.catalogue import load_catalogue

    return tuple(sorted(load_catalogue()))


def parse_profile_text(text: str, file: str) -> Profile:
    """A .archreview.yml text -> Profile (the preset it extends, the baseline by default,
    overlaid with what it sets). Raises ProfileError, and nothing else, for anything it cannot
    use."""
    try:
        return _parse_profile(text, file)
    except ProfileError:
        raise
    except InputError as err:  # reviewer.typed: YAML, shapes and types
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
        if rid not in ids:
            line, col = m.keys[key]
            raise ProfileError(f"unknown rule id {key!r}", r.file, line, col, suggest(rid, ids))
        return rid

    def by_id(body: Marked, where: str) -> dict[str, Marked]:
        if not isinstance(body.value, dict):
            raise r.wrong(body, where, "a mapping of rule id to value")
        out: dict[str, Marked] = {}
        for key, vm in body.value.items():
            rid = key.strip().upper()
            if rid not in ids:
                line, col = body.keys[key]
                raise ProfileError(f"unknown rule id {key!r}", r.file, line, col, suggest(rid, ids))
            out[rid] = vm
        return out

    for key, body in m.value.items():
        if key == "disable":
            listed = r.strings(body, "rules.disable")
            for rid, item in zip(listed, body.value, strict=False):
                if rid.upper() not in ids:
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
        elif re.fullmatch(r"(?i)AR-[A-Z]+-\d+", key.strip()) or key.strip().upper() in ids:
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
        if rid not in ids:
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


# -- loading -----------------------------------------------------------------------------------


def is_agent_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".md", ".markdown")


def _decoded(data: bytes, label: str, file: str) -> str:
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
    return _decoded(data, label, str(path))


MAX_LINK_HOPS = 40  # as the kernel's own limit: more is a loop


class _Outside(Exception):
    """A link on the path leaves the root."""


def _open_in_root(root_fd: int, real_root: str, rel: str) -> int:
    """Open repository file ``rel`` for reading below the directory ``root_fd`` (whose real
    path is ``real_root``), one component at a time with O_NOFOLLOW. A symbolic link is
    resolved by hand: its target is spliced into the remaining components, relative to the
    folder holding it (an absolute target restarts at the root when it names a place inside
    it). A ``..`` above the root or an absolute target elsewhere raises _Outside; more than
    MAX_LINK_HOPS links raise OSError(ELOOP)."""
    import errno

    folders: list[int] = []  # the open folders below the root, innermost last
    pending = rel.split("/")
    hops = 0
    try:
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                if folders:
                    os.close(folders.pop())
                    continue
                # above the root: fine only when the path comes straight back into it through
                # the root's own (real) parent folders, as ../repo/x does
                ups = 1
                while pending and pending[0] == "..":
                    pending.pop(0)
                    ups += 1
                names = [part for part in real_root.split("/") if part]
                if ups > len(names) or pending[:ups] != names[len(names) - ups :]:
                    raise _Outside
                del pending[:ups]
                continue
            here = folders[-1] if folders else root_fd
            last = not any(p not in ("", ".") for p in pending)
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            if not last:
                flags |= os.O_DIRECTORY
            try:
                fd = os.open(name, flags, dir_fd=here)
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                if not stat.S_ISLNK(os.stat(name, dir_fd=here, follow_symlinks=False).st_mode):
                    raise
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links") from None
                target = os.readlink(name, dir_fd=here)
                if target.startswith("/"):
                    inside = os.path.relpath(os.path.normpath(target), real_root)
                    if inside == ".." or inside.startswith("../"):
                        raise _Outside from None
                    while folders:
                        os.close(folders.pop())
                    target = inside
                pending[:0] = target.split("/")
                continue
            if last:
                return fd
            folders.append(fd)
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    finally:
        for fd in folders:
            os.close(fd)


def read_in_root(root: Path, rel: str, label: str, limit: int = MAX_BYTES) -> str:
    """The text of repository file ``rel`` (a ``/``-separated path below ``root``), read
    without following any link out of the root: a link inside the root is followed, one that
    leaves it (or a loop, a FIFO, a device, a folder) is a one-line ProfileError naming only
    the repository path, never the target or its content. At most ``limit`` bytes, UTF-8."""
    file = str(root / rel)
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # named by the user
    except OSError as err:
        raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
    try:
        try:
            fd = _open_in_root(root_fd, os.path.realpath(root), rel)
        except _Outside:
            raise ProfileError(
                f"{label} is a symbolic link leading outside the repository; it is not read", file
            ) from None
        except OSError as err:
            raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ProfileError(f"{label} is not a regular file; it is not read", file)
            if info.st_size > limit:
                raise ProfileError(f"{label} is over {limit:,} bytes", file)
            data = handle.read(limit + 1)
    except OSError as err:
        raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
    finally:
        os.close(root_fd)
    if len(data) > limit:
        raise ProfileError(f"{label} is over {limit:,} bytes", file)
    return _decoded(data, label, file)


def _is_file(path: Path) -> bool:
    """Whether the user-named ``path`` is a file; a folder on the way that may not be searched
    is a ProfileError (one line), not an OSError escaping the scan."""
    try:
        return path.is_file()
    except OSError as err:
        raise ProfileError(f"cannot read the file: {err.strerror or err}", str(path)) from err


def load_profile(path: str | Path, *, root: Path | None = None) -> Profile:
    """Load a .archreview.yml (strict) or an agent definition (*.md: unmapped keys warn).

    With ``root``, ``path`` is repository content (``root / path`` or a path below it): it is
    read without following links out of the root. Without it the file is one the user named,
    and trusted."""
    p = Path(path)
    label = "the agent definition" if is_agent_file(p) else "the profile"
    if root is not None:
        rel = p.relative_to(root) if p.is_relative_to(root) else p
        if rel.is_absolute():
            raise ProfileError(f"{label} is not below the repository root", str(p))
        text = read_in_root(root, rel.as_posix(), label)
        file = str(root / rel)
    else:
        if not is_agent_file(p) and not _is_file(p):
            raise ProfileError("no such file", str(p))
        text = read_limited(p, label)
        file = str(p)
    if is_agent_file(p):
        from reviewer.agent import AgentError, profile_from_agent, read_agent_text

        try:
            reading = read_agent_text(text, file)
        except AgentError as err:
            raise ProfileError(err.message, err.file, err.line, err.column) from err
        return replace(profile_from_agent(reading), source_kind="agent")
    return parse_profile_text(text, file)


def find_profile(root: Path) -> Path | None:
    """The repository's .archreview.yml (or .yaml), a link included (it is read with
    :func:`read_in_root`, which refuses one leaving the root); a folder of that name is not."""
    for name in PROFILE_FILENAMES:
        candidate = root / name
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            continue
        if not stat.S_ISDIR(mode):
            return candidate
    return None


# -- presets -----------------------------------------------------------------------------------


@functools.cache
def preset(name: str) -> Profile:
    """A preset shipped with archreview (reviewer/presets/<name>.yml), read by the strict
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


# -- where the declared architecture comes from ------------------------------------------------

Problem = tuple[str, int, str]  # repository file, line, message: AR-MOD-003


def resolve_profile(root: Path, option: str | Path | None = None) -> Profile:
    """The declared architecture of the repository at ``root``, first found wins: the file
    named by ``--profile`` (``option``: trusted, an agent definition allowed); the root's
    .archreview.yml; the agent definition committed in the repository that maps the most
    schema keys (ties: path order); the built-in baseline. Raises ProfileError for a profile
    file (option or .archreview.yml) that cannot be used; an agent definition that cannot be
    read is a problem of the result (``Profile.problems``) and is skipped. The result says
    where it came from (``source``, ``source_kind``) and carries the upgrade notice when it
    declares nothing."""
    if option is not None:
        path = Path(option)
        if not _is_file(path):
            raise ProfileError("no such file", str(path))
        return _noticed(replace(load_profile(path), source_kind="option"))
    found = find_profile(root)
    if found is not None:
        profile = load_profile(found, root=root)
        return _noticed(replace(profile, source=found.name, source_kind="file"))
    agent, problems = best_agent(root, agent_candidates(root))
    if agent is not None:
        return replace(agent, problems=tuple(problems))
    return _noticed(replace(preset("baseline"), problems=tuple(problems)))


def _noticed(profile: Profile) -> Profile:
    nothing = profile.declared is not None and not profile.declared
    return replace(profile, notice=BASELINE_NOTICE if nothing else None)


def _root_fd(root: Path) -> int | None:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None


def _listing(dir_fd: int, parts: list[str]) -> list[tuple[str, bool]]:
    """(name, is a real folder) of the folder ``parts`` below ``dir_fd``, reached without
    following a link (a linked folder is not listed); at most MAX_LISTED entries, sorted."""
    from reviewer.safefs import UnsafePath, open_dir

    try:
        fd = open_dir(dir_fd, parts) if parts else os.dup(dir_fd)
    except (UnsafePath, OSError, ValueError):
        return []
    out: list[tuple[str, bool]] = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                out.append((entry.name, is_dir))
                if len(out) >= MAX_LISTED:
                    break
    except OSError:
        return []
    finally:
        os.close(fd)
    return sorted(out)


def _folder_sources(root_fd: int, folder: str) -> tuple[str | None, list[str]]:
    """What a folder of the repository (``/``-separated, "" for the root) commits to declare
    its architecture: its .archreview.yml (a repository path, or None) and its agent
    definitions (:func:`agent_candidates`). The folder is opened once, never through a link;
    its listing says which of the places to look into."""
    from reviewer.discover import SKIP_DIRS
    from reviewer.safefs import UnsafePath, open_dir

    base = [p for p in folder.split("/") if p and p != "."]
    try:
        fd = open_dir(root_fd, base) if base else os.dup(root_fd)
    except (UnsafePath, OSError, ValueError):
        return None, []
    prefix = "/".join(base)

    def rel(*names: str) -> str:
        return "/".join([*([prefix] if prefix else []), *names])

    try:
        top = _listing(fd, [])
        folders = {name for name, is_dir in top if is_dir}
        profile = next(
            (rel(n) for n in PROFILE_FILENAMES if (n, False) in top),
            None,
        )
        found: list[str] = []
        for hidden in (".claude", ".github"):
            if hidden in folders:
                for name, is_dir in _listing(fd, [hidden, "agents"]):
                    if not is_dir and name.lower().endswith(".md"):
                        found.append(rel(hidden, "agents", name))
        found += [rel(n) for n, is_dir in top if not is_dir and n.lower().endswith(".agent.md")]
        if "docs" in folders:
            pending: list[tuple[list[str], int]] = [(["docs"], 1)]
            while pending:
                parts, depth = pending.pop()
                for name, is_dir in _listing(fd, parts):
                    if is_dir:
                        if depth < DOCS_DEPTH and name not in SKIP_DIRS:
                            pending.append(([*parts, name], depth + 1))
                    elif name.lower().endswith(".agent.md"):
                        found.append(rel(*parts, name))
    finally:
        os.close(fd)
    return profile, sorted(dict.fromkeys(found))


def agent_candidates(root: Path, folder: str = "") -> list[str]:
    """The agent definitions a folder of the repository (the root, or a module's folder,
    ``/``-separated) commits, as repository paths in path order: ``.claude/agents/*.md``,
    ``.github/agents/*.md``, ``*.agent.md`` in the folder itself and below its ``docs/`` (at
    most DOCS_DEPTH folders down). Folders are never entered through a link; a file that is a
    link is listed (reading it follows it only inside the root)."""
    root_fd = _root_fd(root)
    if root_fd is None:
        return []
    try:
        return _folder_sources(root_fd, folder)[1]
    finally:
        os.close(root_fd)


def best_agent(root: Path, candidates: list[str]) -> tuple[Profile | None, list[Problem]]:
    """Of the candidate agent definitions (repository paths), the one whose front matter and
    body map the most schema keys (ties: path order), as a profile, or None when none maps a
    key; and the problems of the candidates that could not be read. A Markdown file without
    front matter is not an agent definition (skipped quietly); one whose front matter is
    invalid, or that cannot be read (a link out of the root, too large, not UTF-8), is a
    problem. At most MAX_AGENT_CANDIDATES are read."""
    from reviewer.agent import AgentError, profile_from_agent, read_agent_text

    problems: list[Problem] = []
    best: Profile | None = None
    best_count = 0
    for number, rel in enumerate(candidates):
        if number >= MAX_AGENT_CANDIDATES:
            problems.append(
                (
                    rel,
                    1,
                    f"more than {MAX_AGENT_CANDIDATES} agent definitions: only the first "
                    f"{MAX_AGENT_CANDIDATES} by path were read",
                )
            )
            break
        try:
            text = read_in_root(root, rel, "the agent definition")
            if text.lstrip("\ufeff").split("\n", 1)[0].strip() != "---":
                continue  # no front matter: documentation, not an agent definition
            profile = profile_from_agent(read_agent_text(text, rel))
        except (ProfileError, AgentError) as err:
            problems.append((rel, err.line, err.message))
            continue
        count = len(profile.declared_keys())
        if count > best_count:
            best, best_count = profile, count
            best = replace(
                profile,
                source=rel,
                source_kind="agent",
                # a committed definition is read on every scan: only real warnings, not what
                # it leaves unmapped (init --from-agent and --profile list those)
                warnings=tuple(w for w in profile.warnings if ": not mapped: " not in w),
                notice=None,
            )
    return best, problems


def resolve_modules(root: Path, profile: Profile, modules: Iterable[str]) -> dict[str, Profile]:
    """Each module's effective profile: ``profile`` (the root's), then the entries of its
    ``modules:`` section whose glob matches the module's path (a .gitignore glob: one without
    a "/" matches the module folder's name at any depth; in file order), then what each
    enclosing module folder and the module's own folder commit for themselves, outermost first
    — its own .archreview.yml, else its best agent definition (:func:`best_agent`) — each
    laying its declared keys over the profile before it (Profile.declared_over; a module's own
    file's rule settings, exclusions and suppressions are not used: those are the reviewing
    repository's). A module that gets nothing of its own answers to ``profile`` itself (the
    same object). A module file that cannot be used is a problem of that module's profile
    (``problems``: the engine reports each once, reviewer.profile.profile_problems) and is
    skipped. Module names are paths below the root, "." for the root itself."""
    from reviewer.gitignore import parse_line

    names = sorted(dict.fromkeys(modules))
    module_set = set(names)
    globs = [(parse_line(glob), entry) for glob, entry in profile.modules]
    own: dict[str, tuple[Profile | None, list[Problem]]] = {}
    out: dict[str, Profile] = {}
    root_fd = _root_fd(root)
    try:
        for name in names:
            result = profile
            path = name.encode("utf-8", "surrogateescape")
            base = path.rsplit(b"/", 1)[-1]
            for pattern, entry in globs:
                if pattern is None or pattern.matcher is None or pattern.negated:
                    continue
                if pattern.matcher.match(base if pattern.basename else path):
                    result = replace(entry.declared_over(result), name=result.name)
            problems: list[Problem] = []
            parts = [p for p in name.split("/") if p and p != "."]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder != name and folder not in module_set:
                    continue
                if folder not in own:
                    own[folder] = (
                        _own_declaration(root, root_fd, folder)
                        if root_fd is not None
                        else (None, [])
                    )
                declared, found = own[folder]
                problems += found
                if declared is not None:
                    result = replace(
                        declared.declared_over(result),
                        name=declared.name,
                        source=declared.source,
                        source_kind=declared.source_kind,
                        warnings=declared.warnings,
                    )
            if problems:
                result = replace(
                    result, problems=tuple(dict.fromkeys((*result.problems, *problems)))
                )
            out[name] = result
    finally:
        if root_fd is not None:
            os.close(root_fd)
    return out


def _own_declaration(root: Path, root_fd: int, folder: str) -> tuple[Profile | None, list[Problem]]:
    """What a module folder commits for itself: its .archreview.yml (strict: one that cannot
    be used is a problem), else its best agent definition; (None, problems) when nothing."""
    rel, candidates = _folder_sources(root_fd, folder)
    if rel is not None:
        try:
            text = read_in_root(root, rel, "the module's profile")
            declared = parse_profile_text(text, rel)
        except ProfileError as err:
            return None, [(rel, err.line, err.message)]
        return replace(declared, source=rel, source_kind="file"), []
    if not candidates:
        return None, []
    return best_agent(root, candidates)


# -- writing -----------------------------------------------------------------------------------


def _key_value(profile: Profile, key: str) -> Any:
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


def _has_value(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def architecture_document(profile: Profile, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The architecture sections of a profile document: ``keys`` (schema keys), or by default
    every key the profile declares or gives a value (the baseline's tuned values included)."""
    wanted = set(SCHEMA_KEYS if keys is None else keys)
    doc: dict[str, Any] = {}
    for key in SCHEMA_KEYS:
        if key not in wanted:
            continue
        value = _key_value(profile, key)
        if keys is None and not (profile.declares(key) or _has_value(value)):
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
    from reviewer.typed import escape_line

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


SCHEMA_NOTES: dict[str, str] = {
    "extends": "a preset the profile is laid over: chariot (the Chariot platform's declared "
    "architecture) or baseline (declares nothing; the default)",
    "stack.go.version": "the newer of each go.mod's go and toolchain lines is compared with it",
    "stack.go.required_modules": "declared frameworks and the AWS SDK",
    "stack.go.forbidden_modules": "frameworks competing with the declared ones",
    "stack.node.packages": "package -> npm range ('*': declared, any version)",
    "stack.node.forbidden_packages": "packages competing with the declared ones",
    "layers": "the five security layers; identity is L3 (the IDN and IAM rules)",
    "layers.api.authorizer_kinds": "of COGNITO_USER_POOLS, JWT, TOKEN, REQUEST, AWS_IAM",
    "layers.data.tls_minimum": "the enforced floor; tls_preferred is recorded, not enforced",
    "events.visibility_timeout_s": "AR-EVT-003 judges visibility against 6 x function timeout",
    "sizing.classes": "memory_mb / timeout_s; patterns match logical ids and FunctionNames "
    "(never resources a generator made)",
    "persona": "what is worth saying: regular (defects with a consequence, the default), "
    "pedantic (also hygiene), auditor (also prompts to record a decision)",
    "rules": "per rule: enabled, severity, persona (moves the rule to another persona)",
    "exclude": "paths not reviewed (globs, as in .gitignore); --exclude adds to them",
    "suppressions": "path + id + reason (+ until, subject); no reason or past until: AR-MOD-004",
    "modules": "module path glob -> what those modules declare for themselves (any key of "
    "stack, layers, events, sizing, dynamodb, platform, and extends)",
}


def _rules_by_key() -> dict[str, list[str]]:
    """Which rules read which profile key (their YAML's profile.requires / tunes)."""
    from reviewer.catalogue import load_catalogue

    out: dict[str, list[str]] = {}
    for rid, meta in sorted(load_catalogue().items()):
        for key in meta.profile_keys:
            out.setdefault(key, []).append(rid)
    return out


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


def _join(*notes: str | None) -> str:
    return "\n".join(n for n in notes if n)


def _commented(text: str) -> str:
    """Every line of a YAML text behind a "#" (what `init` documents but does not declare):
    removing the first "#" of each line gives the YAML back, its notes still comments."""
    return "".join(f"#{line}\n" for line in text.splitlines())


def default_profile_text() -> str:
    """`archreview init`: a profile that declares nothing (the repository is reviewed against
    the built-in baseline) and documents every key, commented out, with the Chariot preset's
    values as examples."""
    notes: dict[str, str] = dict(SCHEMA_NOTES)
    for key, rules in _rules_by_key().items():
        notes[key] = _join(notes.get(key), f"read by {', '.join(rules)}")
    header = [
        "archreview profile: the architecture this repository declares, which the review holds",
        "it to. Written by `archreview init`. It declares nothing yet: the review uses the",
        "built-in baseline (generic AWS good practice; rules that need a declaration do not",
        "run). Uncomment (remove the first '#' of) what the repository declares, or just",
        "`extends: chariot` for the whole Chariot platform preset; the values shown are that",
        "preset's. Unknown keys and wrong types are errors (exit 2). `archreview profile show`",
        "prints the effective profile.",
    ]
    example = preset("chariot")
    doc: dict[str, Any] = {"extends": "chariot"}
    doc.update(architecture_document(example, example.declared_keys()))
    # the one key the preset leaves out: 6 x its longest class timeout (900 s)
    doc["events"] = {**doc["events"], "visibility_timeout_s": 5400}
    doc["persona"] = "regular"
    doc["rules"] = {"AR-OBS-003": {"persona": "regular", "severity": "low", "enabled": True}}
    doc["exclude"] = ["legacy/**", "examples/**"]
    doc["modules"] = {"apps/*": {"stack": {"node": {"packages": {"react": "18.3.1"}}}}}
    body = _commented(render_yaml(doc, notes))
    return render_yaml({"version": 1}, {}, header) + body


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
        notes[key] = _join(notes.get(key), f"from {where}")
    tuned = [k for k in SCHEMA_KEYS if not profile.declares(k)]
    for key in tuned:
        if _has_value(_key_value(profile, key)):
            notes[key] = _join(notes.get(key), "not declared: the baseline's value")
    header = [
        f"effective profile: {profile.name}",
        f"from: {_source_line(profile)}",
        f"declares {len(profile.declared_keys())} of {len(SCHEMA_KEYS)} keys",
    ]
    if profile.notice:
        header.append(profile.notice)
    text = render_yaml(profile_document(profile), notes, header)
    missing = [k for k in tuned if not _has_value(_key_value(profile, k))]
    if missing:
        lines = textwrap.wrap(", ".join(missing), width=96, break_on_hyphens=False)
        text += "# not declared (rules that require these do not run):\n"
        text += "".join(f"#   {line}\n" for line in lines)
    return text
