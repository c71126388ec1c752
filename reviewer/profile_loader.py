"""Load, validate and write the declared architecture (.archreview.yml).

The file is strict: an unknown key, a wrong type, a bad version or range, or a duplicate key is a
:class:`ProfileError` naming the file, line and column, with a "did you mean" suggestion where one
is close. Every key is optional; a key that is not written keeps the built-in default (keys
replace whole values: writing ``stack.node.packages`` replaces the default package map, it does
not merge with it). An agent definition (``*.md`` with YAML front matter) is read by
:mod:`reviewer.agent` instead and only warns on what it does not map.

Schema (``archreview profile show`` prints the effective profile in this form)::

    version: 1
    name: chariot
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
    rules: {disable: [ids], severity: {id: severity}}
    exclude: [globs]
    suppressions: [{path, id, reason, until, subject}]
"""

from __future__ import annotations

import json
import os
import re
import stat
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from reviewer.model import Severity
from reviewer.profile import DEFAULT, LAYER_FAMILIES, Profile, SizingClass, Suppress
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

AUTHORIZER_KINDS = ("COGNITO_USER_POOLS", "JWT", "TOKEN", "REQUEST", "AWS_IAM")
TLS_VERSIONS = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")

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

TOP_KEYS = (
    "version",
    "name",
    "stack",
    "layers",
    "events",
    "sizing",
    "dynamodb",
    "platform",
    "rules",
    "exclude",
    "suppressions",
)


def _rule_ids() -> tuple[str, ...]:
    from reviewer.catalogue import load_catalogue

    return tuple(sorted(load_catalogue()))


def parse_profile_text(text: str, file: str) -> Profile:
    """A .archreview.yml text -> Profile (the built-in default overlaid with what it sets).
    Raises ProfileError, and nothing else, for anything it cannot use."""
    try:
        return _parse_profile(text, file)
    except ProfileError:
        raise
    except InputError as err:  # reviewer.typed: YAML, shapes and types
        raise ProfileError.of(err) from None


def _parse_profile(text: str, file: str) -> Profile:
    doc = compose(text, file)
    if doc is None:
        return replace(DEFAULT, name=Path(file).name, source=file)
    r = Reader(file)
    top = r.mapping(doc, "the profile", TOP_KEYS)
    kw: dict[str, Any] = {"name": Path(file).name, "source": file}
    sources: list[tuple[str, str]] = []

    def cite(key: str, m: Marked) -> None:
        sources.append((key, f"{file}:{m.line}"))

    if "version" in top:
        v = top["version"]
        if v.kind != INT or v.value != 1:
            raise r.fail(
                v,
                f"unsupported profile version {v.text or v.found()!r}; this archreview reads 1",
                "1",
            )
    if "name" in top:
        kw["name"] = r.string(top["name"], "name")
    if "stack" in top:
        _stack(r, top["stack"], kw, cite)
    if "layers" in top:
        _layers(r, top["layers"], kw, cite)
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
    if "rules" in top:
        _rules(r, top["rules"], kw)
    if "exclude" in top:
        kw["exclude_paths"] = r.strings(top["exclude"], "exclude")
    if "suppressions" in top:
        kw["suppressions"] = _suppressions(r, top["suppressions"])
    kw["sources"] = tuple(sources)
    profile = replace(DEFAULT, **kw)
    where = dict(sources).get("events.visibility_timeout_s", file)
    warnings = tuple(f"{where}: {w}" for w in consistency_warnings(profile))
    return replace(profile, warnings=warnings)


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
            kw["go_sdk"] = sdks[0] if sdks else ""
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


def _layers(r: Reader, m: Marked, kw: dict[str, Any], cite: _Cite) -> None:
    allowed = {
        "network": ("enabled", "geo_restriction"),
        "api": ("enabled", "authorizer_kinds", "waf_managed_rule_groups", "waf_rate_limit"),
        "identity": ("enabled",),
        "data": ("enabled", "kms_required", "tls_minimum", "tls_preferred"),
        "monitoring": ("enabled",),
    }
    sections = r.mapping(m, "layers", tuple(allowed))
    enabled = set(DEFAULT.layers)
    for name, sm in sections.items():
        where = f"layers.{name}"
        if isinstance(sm.value, bool):  # layers: {network: false}
            body: dict[str, Marked] = {"enabled": sm}
        else:
            body = r.mapping(sm, where, allowed[name])
        if "enabled" in body:
            on = r.boolean(body["enabled"], f"{where}.enabled")
            for family in LAYER_SECTIONS[name]:
                (enabled.add if on else enabled.discard)(family)
            cite(f"{where}.enabled", body["enabled"])
        if "geo_restriction" in body:
            kw["geo_restriction"] = r.boolean(body["geo_restriction"], f"{where}.geo_restriction")
            cite(f"{where}.geo_restriction", body["geo_restriction"])
        if "authorizer_kinds" in body:
            am = body["authorizer_kinds"]
            kinds = r.strings(am, f"{where}.authorizer_kinds")
            out = []
            for kind, item in zip(kinds, am.value, strict=False):
                out.append(
                    r.choice(
                        item,
                        f"an entry of {where}.authorizer_kinds",
                        AUTHORIZER_KINDS,
                        normalise_authorizer,
                    )
                )
                del kind
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
    kw["layers"] = tuple(f for f in LAYER_FAMILIES if f in enabled)


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


def _rules(r: Reader, m: Marked, kw: dict[str, Any]) -> None:
    body = r.mapping(m, "rules", ("disable", "severity"))
    ids = _rule_ids()
    if "disable" in body:
        dm = body["disable"]
        disabled = r.strings(dm, "rules.disable")
        for rid, item in zip(disabled, dm.value, strict=False):
            if rid.upper() not in ids:
                raise r.fail(item, f"unknown rule id {rid!r}", suggest(rid.upper(), ids))
        kw["disabled_rules"] = tuple(x.upper() for x in disabled)
    if "severity" in body:
        sm = body["severity"]
        if not isinstance(sm.value, dict):
            raise r.fail(sm, "rules.severity must be a mapping of rule id to severity")
        overrides: list[tuple[str, Severity]] = []
        choices = tuple(s.value for s in Severity)
        for rid, vm in sm.value.items():
            if rid.upper() not in ids:
                line, col = sm.keys[rid]
                raise ProfileError(
                    f"unknown rule id {rid!r}", r.file, line, col, suggest(rid.upper(), ids)
                )
            sev = r.choice(vm, f"rules.severity.{rid}", choices, lambda t: t.lower())
            overrides.append((rid.upper(), Severity(sev)))
        kw["severity_overrides"] = tuple(overrides)


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
        if not is_agent_file(p) and not p.is_file():
            raise ProfileError("no such file", str(p))
        text = read_limited(p, label)
        file = str(p)
    if is_agent_file(p):
        from reviewer.agent import AgentError, profile_from_agent, read_agent_text

        try:
            reading = read_agent_text(text, file)
        except AgentError as err:
            raise ProfileError(err.message, err.file, err.line, err.column) from err
        return profile_from_agent(reading)
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


# -- writing -----------------------------------------------------------------------------------


def profile_document(profile: Profile) -> dict[str, Any]:
    """The profile in the .archreview.yml schema (every key written)."""
    sdk = (profile.go_sdk,) if profile.go_sdk else ()
    return {
        "version": 1,
        "name": profile.name,
        "stack": {
            "go": {
                "version": profile.go_version,
                "required_modules": [*profile.go_frameworks, *sdk],
                "forbidden_modules": list(profile.go_forbidden),
            },
            "node": {
                "packages": dict(profile.node_packages),
                "forbidden_packages": list(profile.node_forbidden),
            },
            "testing": {
                "go": list(profile.go_test_frameworks),
                "node": list(profile.node_test_frameworks),
            },
        },
        "layers": {
            "network": {
                "enabled": "NET" in profile.layers,
                "geo_restriction": profile.geo_restriction,
            },
            "api": {
                "enabled": "API" in profile.layers,
                "authorizer_kinds": list(profile.authorizers),
                "waf_managed_rule_groups": list(profile.waf_managed_rule_groups),
                "waf_rate_limit": profile.waf_rate_limit,
            },
            "identity": {"enabled": "IDN" in profile.layers and "IAM" in profile.layers},
            "data": {
                "enabled": "DAT" in profile.layers,
                "kms_required": profile.kms_required,
                "tls_minimum": profile.tls_minimum,
                "tls_preferred": profile.tls_preferred,
            },
            "monitoring": {"enabled": "OBS" in profile.layers},
        },
        "events": {
            "retention_days": profile.queue_retention_days,
            "visibility_timeout_s": profile.queue_visibility_s,
            "fifo_queues": list(profile.ordered_queue_patterns),
        },
        "sizing": {
            "tag": profile.sizing_tag,
            "classes": {
                c.name: {
                    "memory_mb": c.memory_mb,
                    "timeout_s": c.timeout_s,
                    "patterns": list(c.patterns),
                }
                for c in profile.sizing_classes
            },
        },
        "dynamodb": {"single_table_limit": profile.single_table_limit},
        "platform": {key: getattr(profile, attr) for key, attr in PLATFORM_KEYS.items()},
        "rules": {
            "disable": list(profile.disabled_rules),
            "severity": {rid: sev.value for rid, sev in profile.severity_overrides},
        },
        "exclude": list(profile.exclude_paths),
        "suppressions": [
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
        ],
    }


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
    notes = comments or {}
    lines = [f"# {h}" if h else "#" for h in header]

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
    "stack.go.version": "the newer of each go.mod's go and toolchain lines is compared with it",
    "stack.go.required_modules": "declared frameworks and the AWS SDK",
    "stack.go.forbidden_modules": "frameworks competing with the declared ones",
    "stack.node.packages": "package -> npm range ('*': declared, any version)",
    "stack.node.forbidden_packages": "packages competing with the declared ones",
    "layers": "the five security layers; identity is L3 (the IDN and IAM rules)",
    "layers.api.authorizer_kinds": "of COGNITO_USER_POOLS, JWT, TOKEN, REQUEST, AWS_IAM",
    "layers.data.tls_minimum": "the enforced floor; tls_preferred is recorded, not enforced",
    "events.visibility_timeout_s": "AR-EVT-003 judges visibility against 6 x function timeout",
    "sizing.classes": "memory_mb / timeout_s; patterns match logical ids and FunctionNames",
    "suppressions": "path + id + reason (+ until, subject); no reason or past until: AR-MOD-004",
}


def _rules_by_key() -> dict[str, list[str]]:
    """Which rules read which profile key (from their YAML's profile_keys)."""
    from reviewer.catalogue import load_catalogue

    out: dict[str, list[str]] = {}
    for rid, meta in sorted(load_catalogue().items()):
        for key in meta.profile_keys:
            out.setdefault(key, []).append(rid)
    return out


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Profile))


# -- init and profile show --------------------------------------------------------------------

# DEFAULT_ADDITIONS names Profile fields; these are their keys in the file.
FIELD_KEYS: dict[str, str] = {
    "sizing_classes.api": "sizing.classes.api",
    "queue_visibility_s": "events.visibility_timeout_s",
    "tls_minimum": "layers.data.tls_minimum",
}


def _join(*notes: str | None) -> str:
    return "\n".join(n for n in notes if n)


def default_profile_text() -> str:
    """The built-in default as a commented .archreview.yml (archreview init)."""
    from reviewer.profile import DEFAULT_ADDITIONS

    notes: dict[str, str] = dict(SCHEMA_NOTES)
    for key, rules in _rules_by_key().items():
        notes[key] = _join(notes.get(key), f"read by {', '.join(rules)}")
    for name, why in DEFAULT_ADDITIONS:
        key = FIELD_KEYS.get(name, name)
        notes[key] = _join(notes.get(key), f"built-in default, not in the example agent: {why}")
    header = [
        "archreview profile: the declared architecture this repository is reviewed against.",
        "Written by `archreview init` from the built-in default (the example agent definition's",
        "architecture plus the additions noted below). Every key is optional: a key left out",
        "keeps the built-in default; a key written replaces the default value as a whole.",
        "Unknown keys and wrong types are errors (exit 2). `archreview profile show` prints the",
        "effective profile.",
    ]
    return render_yaml(profile_document(DEFAULT), notes, header)


def show_profile_text(profile: Profile) -> str:
    """The effective profile, each declared value commented with its source."""
    notes: dict[str, str] = {}
    for key, where in profile.sources:
        notes[key] = _join(notes.get(key), f"from {where}")
    header = [f"effective profile: {profile.name} ({profile.source})"]
    return render_yaml(profile_document(profile), notes, header)
