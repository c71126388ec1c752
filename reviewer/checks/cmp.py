"""CMP: compute sizing and deployment (Lambda, Fargate)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from reviewer.checks.facts import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    LAMBDA_TYPES,
    Integration,
    api_integrations,
    confidence_of,
    function_timeout,
    pointed,
)
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.datafile import load_yaml
from reviewer.core.fixes import Safety, Setting, SetValues
from reviewer.core.types import Checked, Confidence, Hit, Path, Related, Severity, lower_confidence
from reviewer.model.openapi import API_TYPES, definition, file_label, node_at, place
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import (
    NOVALUE,
    Outcome,
    Unresolved,
    first,
    intrinsic,
    number,
    resolve,
    targets,
    truthy,
)
from reviewer.model.template import MISSING, Resource, Template
from reviewer.profile import SizingClass

REST_LIMIT_S = 29.0
HTTP_LIMIT_S = 30.0
# a Timeout at most this far over the integration timeout affects only the requests that run
# in that narrow window: AR-CMP-003 reports it at low severity
NARROW_MARGIN_S = 5.0

SAM_FUNCTION = "AWS::Serverless::Function"


# -- shared helpers ---------------------------------------------------------------------------


def _when(outcome: Outcome) -> str:
    """' when A and !B' / ' (from a parameter default)' / ''."""
    if outcome.conditions:
        return " when " + " and ".join(
            f"condition {c[1:]} is false" if c.startswith("!") else f"condition {c} is true"
            for c in outcome.conditions
        )
    if outcome.assumed:
        return " (from a parameter default)"
    return ""


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Unresolved):
        return value.text
    return None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _openapi_integrations(repo: RepoIndex, t: Template) -> Iterator[Integration]:
    """Lambda integrations of OpenAPI definitions (x-amazon-apigateway-integration), inline or
    read from a local file (reviewer.model.openapi; their paths go into the definition as if it
    were inline, and `openapi.place` locates them in the file)."""
    bodies = (
        ("AWS::ApiGateway::RestApi", "REST"),
        ("AWS::Serverless::Api", "REST"),
        ("AWS::ApiGatewayV2::Api", "HTTP"),
        ("AWS::Serverless::HttpApi", "HTTP"),
    )
    for rtype, kind in bodies:
        for api in t.of_type(rtype):
            if api.implicit:
                continue
            spec = definition(t, api)
            if spec is None or spec.body is None:
                continue  # none, or not readable: its integrations are not judged
            body, key = spec.body, spec.key
            paths = body.get("paths")
            if not isinstance(paths, Mapping):
                continue
            for route, methods in paths.items():
                if not isinstance(methods, Mapping):
                    continue
                for verb, op in methods.items():
                    if not isinstance(op, Mapping):
                        continue
                    integ = op.get("x-amazon-apigateway-integration")
                    if not isinstance(integ, Mapping) or "uri" not in integ:
                        continue
                    found = pointed(repo, t, integ["uri"], LAMBDA_TYPES)
                    if found is None or found[0] is not t:
                        continue
                    base: Path = (
                        "Properties",
                        key,
                        "paths",
                        str(route),
                        str(verb),
                        "x-amazon-apigateway-integration",
                    )
                    has_timeout = "timeoutInMillis" in integ
                    timeout = (
                        number(resolve(t, integ["timeoutInMillis"])[0].value)
                        if has_timeout
                        else None
                    )
                    yield Integration(
                        kind,
                        api.logical_id,
                        (*base, "uri"),
                        found[1],
                        timeout,
                        (*base, "timeoutInMillis") if has_timeout else None,
                    )


def invoked_asynchronously(t: Template, integ: Integration) -> bool:
    """A REST integration that sets X-Amz-Invocation-Type to a static 'Event': API Gateway
    returns at once and the function runs on its own, so no integration timeout applies."""
    holder = t.get(integ.subject)
    if holder is None or integ.subject == integ.function.logical_id or len(integ.path) < 2:
        return False
    parent = node_at(t, holder, integ.path[:-1])
    if not isinstance(parent, Mapping):
        return False
    for key in ("RequestParameters", "requestParameters"):
        params = parent.get(key)
        if not isinstance(params, Mapping):
            continue
        for name, value in params.items():
            if str(name).lower() == "integration.request.header.x-amz-invocation-type":
                return bool(resolve(t, value)[0].value == "'Event'")
    return False


def streams_response(t: Template, integ: Integration) -> bool:
    """A REST proxy integration whose response transfer mode is STREAM: API Gateway then lets
    its TimeoutInMillis go up to 15 minutes without a quota increase."""
    holder = t.get(integ.subject)
    if holder is None or integ.subject == integ.function.logical_id or len(integ.path) < 2:
        return False
    parent = node_at(t, holder, integ.path[:-1])
    if not isinstance(parent, Mapping):
        return False
    for key in ("ResponseTransferMode", "responseTransferMode"):
        if key in parent:
            return bool(resolve(t, parent[key])[0].value == "STREAM")
    return False


def all_api_integrations(repo: RepoIndex, t: Template) -> list[Integration]:
    """facts.api_integrations plus the Lambda integrations of inline OpenAPI bodies."""
    key = f"cmp_api_integrations|{t.file}"
    cached: list[Integration] | None = repo.cache.get(key)
    if cached is None:
        cached = [*api_integrations(repo, t), *_openapi_integrations(repo, t)]
        repo.cache[key] = cached
    return cached


@dataclass(frozen=True)
class QueueLink:
    """An SQS event source mapping and the function it invokes."""

    mapping: Resource
    fn_template: Template
    function: Resource


_SOURCE_TYPES = (
    "AWS::SQS::Queue",
    "AWS::Kinesis::Stream",
    "AWS::Kinesis::StreamConsumer",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::MSK::Cluster",
    "AWS::MSK::ServerlessCluster",
    "AWS::AmazonMQ::Broker",
    "AWS::DocDB::DBCluster",
)


def _mapping_reads_sqs(repo: RepoIndex, t: Template, esm: Resource) -> bool:
    if esm.implicit and esm.source:
        owner = t.get(esm.source)
        events = owner.get("Events") if owner is not None else MISSING
        if isinstance(events, Mapping):
            for name, event in events.items():
                if not isinstance(event, Mapping):
                    continue
                if esm.logical_id == f"{esm.source}{name}":
                    return event.get("Type") == "SQS"
                if esm.logical_id == f"{esm.source}{name}EventSourceMapping":
                    return True  # SNS event with SqsSubscription: SAM adds a queue
    arn = esm.get("EventSourceArn")
    if arn is MISSING:
        return False
    found = pointed(repo, t, arn, _SOURCE_TYPES)
    if found is not None:
        return found[1].type == "AWS::SQS::Queue"
    for outcome in resolve(t, arn):
        text = _text(outcome.value)
        if text and ":sqs:" in text:
            return True
    return False


def queue_links(repo: RepoIndex, t: Template) -> list[QueueLink]:
    key = f"cmp_queue_links|{t.file}"
    cached: list[QueueLink] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: list[QueueLink] = []
    for esm in t.of_type("AWS::Lambda::EventSourceMapping"):
        if not _mapping_reads_sqs(repo, t, esm):
            continue
        fn = pointed(repo, t, esm.get("FunctionName"), LAMBDA_TYPES)
        if fn is None:
            continue
        out.append(QueueLink(esm, fn[0], fn[1]))
    repo.cache[key] = out
    return out


def _from_globals(t: Template, fn: Resource, prop: str) -> bool:
    """A SAM function property inherited from Globals.Function (not written on the function)."""
    if fn.type != SAM_FUNCTION:
        return False
    glb = t.globals.get("Function")
    own = fn.node.get("Properties")
    return (
        isinstance(glb, Mapping) and prop in glb and not (isinstance(own, Mapping) and prop in own)
    )


def _values(t: Template, res: Resource, name: str) -> list[Outcome] | None:
    """Outcomes of a property, None when it is not written."""
    node = res.get(name)
    if node is MISSING:
        return None
    return list(resolve(t, node))


# -- AR-CMP-001 -------------------------------------------------------------------------------


def _tag(t: Template, fn: Resource, key: str) -> tuple[str, Path] | None:
    tags = fn.get("Tags")
    if isinstance(tags, Mapping):  # SAM: a map
        if key in tags:
            value = resolve(t, tags[key])[0].value
            if isinstance(value, str):
                return value, ("Properties", "Tags", key)
        return None
    if isinstance(tags, list):  # plain: a list of Key/Value
        for i, item in enumerate(tags):
            if isinstance(item, Mapping) and item.get("Key") == key:
                value = resolve(t, item.get("Value"))[0].value
                if isinstance(value, str):
                    return value, ("Properties", "Tags", i, "Value")
    return None


@dataclass(frozen=True)
class _Assignment:
    cls: SizingClass
    how: str
    confidence: Confidence


# CDK's singleton functions (one per stack, named by a fixed UUID: the bucket-notification
# handler, log retention, AwsCustomResource, bucket deployment) and its custom-resource
# providers keep these logical ids even when the path metadata is switched off
_RE_CDK_SINGLETON = re.compile(r"[0-9a-fA-F]{32}")
_RE_CDK_PROVIDER = re.compile(r"^Custom.*CustomResourceProvider(?:Handler|Role)[0-9A-F]{8}$")


def generator_of(res: Resource) -> str | None:
    """What made a resource, when a generator did rather than the template's author: "SAM"
    for a resource SAM's transform makes from another, "CDK" for one synthesised by the CDK
    (`aws:cdk:path` in its Metadata, or a logical id only CDK gives). A name such a resource
    carries was chosen by the generator, so it says nothing about the author's intent."""
    if res.implicit:
        return "SAM"
    metadata = res.attr("Metadata")
    if isinstance(metadata, Mapping) and "aws:cdk:path" in metadata:
        return "CDK"
    if _RE_CDK_SINGLETON.search(res.logical_id) or _RE_CDK_PROVIDER.match(res.logical_id):
        return "CDK"
    return None


def _assign(ctx: TemplateContext, fn: Resource, api_fns: set[str]) -> _Assignment | None:
    t = ctx.template
    profile = ctx.profile
    tagged = _tag(t, fn, profile.sizing_tag)
    if tagged is not None:
        cls = profile.sizing_class(tagged[0])
        if cls is None:
            return None  # a tag naming no class of the profile: not judged
        return _Assignment(cls, f"its tag {profile.sizing_tag} is {tagged[0]}", Confidence.HIGH)
    api = profile.sizing_class("api")
    if fn.logical_id in api_fns and api is not None:
        return _Assignment(api, "it is integrated with an API", Confidence.MEDIUM)
    if generator_of(fn) is not None:
        return None  # a generator chose its names: the profile's name patterns do not apply
    names = [fn.logical_id]
    fname = resolve(t, fn.get("FunctionName"))[0].value if fn.has("FunctionName") else None
    if isinstance(fname, str):
        names.append(fname)
    for cls in profile.sizing_classes:
        for pattern in cls.patterns:
            for name in names:
                if pattern and pattern.lower() in name.lower():
                    return _Assignment(
                        cls, f'its name "{name}" contains "{pattern}"', Confidence.LOW
                    )
    return None


@template_check("AR-CMP-001")
def sizing_outside_class(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    api_fns = {
        i.function.logical_id
        for i in all_api_integrations(ctx.repo, t)
        if not invoked_asynchronously(t, i)
    }
    for fn in t.functions():
        if fn.implicit:
            continue
        assigned = _assign(ctx, fn, api_fns)
        if assigned is None:
            continue
        yield Checked(fn.logical_id)
        cls = assigned.cls
        for prop, want, default, unit in (
            ("MemorySize", float(cls.memory_mb), DEFAULT_MEMORY_MB, "MB"),
            ("Timeout", float(cls.timeout_s), DEFAULT_TIMEOUT_S, "s"),
        ):
            outcomes = _values(t, fn, prop)
            if outcomes is None:
                outcomes = [Outcome(default)]
                origin = f"not set (Lambda default {_fmt(default)} {unit})"
                explicit = False
            else:
                origin = ""
                explicit = True
            for outcome in outcomes:
                value = default if outcome.value is NOVALUE else number(outcome.value)
                if value is None or value == want:
                    continue
                if prop == "Timeout" and value < want:
                    continue  # the class timeout is a budget: a shorter one stays within it
                shown = origin or f"{_fmt(value)} {unit}{_when(outcome)}"
                if explicit and outcome.value is NOVALUE:
                    shown = f"AWS::NoValue{_when(outcome)} (Lambda default {_fmt(default)} {unit})"
                if prop == "Timeout":
                    expected = (
                        f"above the class's {_fmt(want)} {unit}: an invocation may outrun the "
                        "budget the rest of the design (queue visibility, API limits) assumes"
                    )
                    variant = None
                elif value < want:
                    expected = (
                        f"below the class's {_fmt(want)} {unit}: less memory also means less "
                        "CPU, so the work runs slower and nearer its timeout"
                    )
                    variant = None
                else:
                    expected = (
                        f"above the class's {_fmt(want)} {unit}: it is billed for memory the "
                        "class does not plan for"
                    )
                    variant = "memory-above-class"
                yield Hit(
                    fn.logical_id,
                    ("Properties", prop),
                    f"Function {fn.logical_id} is in the declared sizing class {cls.name} "
                    f"({cls.memory_mb} MB / {cls.timeout_s} s) because {assigned.how}, but its "
                    f"{prop} is {shown}, {expected}",
                    confidence=lower_confidence(assigned.confidence, confidence_of(outcome)),
                    variant=variant,
                )
                break


# -- AR-CMP-002 -------------------------------------------------------------------------------


@template_check("AR-CMP-002")
def implicit_memory_or_timeout(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for fn in t.functions():
        if fn.implicit:
            continue
        where = " (nor in Globals.Function)" if fn.type == SAM_FUNCTION else ""
        unset = [
            (prop, default, unit)
            for prop, default, unit in (
                ("MemorySize", DEFAULT_MEMORY_MB, "MB"),
                ("Timeout", DEFAULT_TIMEOUT_S, "s"),
            )
            if not fn.has(prop)
        ]
        if len(unset) == 2:  # one finding: nobody chose the function's size
            yield Hit(
                fn.logical_id,
                ("Properties", "MemorySize"),
                f"Function {fn.logical_id} sets neither MemorySize nor Timeout{where}: Lambda "
                f"applies its defaults of {_fmt(DEFAULT_MEMORY_MB)} MB and "
                f"{_fmt(DEFAULT_TIMEOUT_S)} s",
                related=(Related(fn.logical_id, ("Properties", "Timeout"), "also: no Timeout"),),
            )
        elif unset:
            prop, default, unit = unset[0]
            yield Hit(
                fn.logical_id,
                ("Properties", prop),
                f"Function {fn.logical_id} sets no {prop}{where}: Lambda applies its "
                f"default of {_fmt(default)} {unit}",
            )
        for prop, default, unit in (
            ("MemorySize", DEFAULT_MEMORY_MB, "MB"),
            ("Timeout", DEFAULT_TIMEOUT_S, "s"),
        ):
            outcomes = _values(t, fn, prop)
            if outcomes is None:
                continue
            for outcome in outcomes:
                if outcome.value is NOVALUE:
                    yield Hit(
                        fn.logical_id,
                        ("Properties", prop),
                        f"Function {fn.logical_id} has {prop} resolving to AWS::NoValue"
                        f"{_when(outcome)}: Lambda then applies its default of "
                        f"{_fmt(default)} {unit}",
                        confidence=Confidence.MEDIUM
                        if outcome.conditions or outcome.assumed
                        else Confidence.HIGH,
                    )
                    break


# -- AR-CMP-003 -------------------------------------------------------------------------------


def _integration_limits(
    t: Template, integ: Integration, default: float
) -> list[tuple[float | None, Outcome | None]]:
    """Possible integration timeouts in seconds (None: written but unknown)."""
    if integ.timeout_path is None:
        return [(default, None)]
    holder = t.get(integ.subject)
    node = node_at(t, holder, integ.timeout_path) if holder is not None else MISSING
    if node is MISSING:
        return [(default, None)]
    out: list[tuple[float | None, Outcome | None]] = []
    for outcome in resolve(t, node):
        if outcome.value is NOVALUE:
            out.append((default, outcome))
            continue
        ms = number(outcome.value)
        limit = ms / 1000.0 if ms is not None else None
        if limit is not None and integ.kind == "HTTP":
            limit = min(limit, HTTP_LIMIT_S)
        out.append((limit, outcome))
    return out


def _behind_unread_definition(repo: RepoIndex, t: Template, integ: Integration) -> bool:
    """A SAM event, with no TimeoutInMillis of its own, on an API whose OpenAPI definition
    cannot be read (S3, outside the repository, unparsable): that definition may hold the
    route's integration and its timeout, so the event is not judged."""
    fn = integ.function
    if integ.subject != fn.logical_id or integ.timeout_path is not None or len(integ.path) < 3:
        return False
    props = fn.get("Events", str(integ.path[2]), "Properties")
    key = "RestApiId" if integ.kind == "REST" else "ApiId"
    if not isinstance(props, Mapping) or key not in props:
        return False  # the implicit API: SAM writes its definition
    found = pointed(repo, t, props[key], API_TYPES)
    if found is None or found[0] is not t:
        return False
    spec = definition(t, found[1])
    return spec is not None and spec.body is None


def _integration_place(t: Template, integ: Integration) -> Related:
    """The integration as a related location: in the template, or in the OpenAPI file that
    declares it."""
    path = integ.timeout_path or integ.path
    file, where = place(t, integ.subject, path)
    if file is None:
        return Related(integ.subject, path, "API integration")
    return Related(integ.subject, where, "API integration", file=file)


@template_check("AR-CMP-003")
def timeout_over_integration(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    worst: dict[str, tuple[float, Hit]] = {}
    integrations = all_api_integrations(ctx.repo, t)
    # functions behind a streaming integration (a SAM event's OpenAPI body counts too)
    streaming = {i.function.logical_id for i in integrations if streams_response(t, i)}
    # a SAM event on an API with an OpenAPI body is integrated as that body says
    in_body = {
        i.function.logical_id for i in integrations if "x-amazon-apigateway-integration" in i.path
    }
    for integ in integrations:
        fn = integ.function
        yield Checked(fn.logical_id)
        if integ.subject == fn.logical_id and fn.logical_id in in_body:
            continue
        if _behind_unread_definition(ctx.repo, t, integ):
            continue
        if invoked_asynchronously(t, integ):
            continue
        timeout = function_timeout(t, fn)
        if timeout.value is None:
            continue
        default = REST_LIMIT_S if integ.kind == "REST" else HTTP_LIMIT_S
        limits = _integration_limits(t, integ, default)
        known = [(lim, o) for lim, o in limits if lim is not None]
        failing = [(lim, o) for lim, o in known if timeout.value > lim]
        confidence = timeout.confidence
        unknown = len(known) < len(limits)
        limit: float
        outcome: Outcome | None
        if unknown:
            # TimeoutInMillis is written but cannot be resolved
            if integ.kind == "HTTP" and timeout.value > HTTP_LIMIT_S:
                limit, outcome = HTTP_LIMIT_S, None  # whatever it is, HTTP APIs stop at 30 s
            elif integ.kind == "REST" and timeout.value > REST_LIMIT_S:
                # over the default, unless the integration was raised after a quota increase
                limit, outcome, confidence = REST_LIMIT_S, None, Confidence.LOW
            elif failing:
                found_limit, outcome = failing[0]
                limit, confidence = found_limit or default, Confidence.LOW
            else:
                continue
        elif not failing:
            continue
        else:
            found_limit, outcome = max(failing, key=lambda p: p[0] or 0.0)
            limit = found_limit or default
            if len(failing) < len(known) and outcome is not None:
                confidence = lower_confidence(confidence, Confidence.MEDIUM)
            elif outcome is not None:
                confidence = lower_confidence(confidence, confidence_of(outcome))
        if fn.logical_id in worst and timeout.value - limit <= worst[fn.logical_id][0]:
            continue  # one finding per function, on its widest margin: this one is not it
        if integ.timeout_path is not None and outcome is not None and outcome.value is not NOVALUE:
            source = f"the integration's TimeoutInMillis ({_fmt(limit * 1000)} ms{_when(outcome)})"
        elif unknown:
            source = (
                f"the {integ.kind} API integration timeout ({_fmt(limit)} s; its TimeoutInMillis "
                "could not be resolved)"
            )
        else:
            source = f"the {integ.kind} API integration timeout ({_fmt(limit)} s)"
        where = (
            f"its {integ.kind} API event {integ.path[2]}"
            if integ.subject == fn.logical_id and len(integ.path) > 2
            else integ.subject + file_label(t, integ.subject, integ.timeout_path or integ.path)
        )
        inherited = " (from Globals.Function)" if _from_globals(t, fn, "Timeout") else ""
        margin = timeout.value - limit
        narrow = margin <= NARROW_MARGIN_S
        message = (
            f"Function {fn.logical_id} has Timeout {_fmt(timeout.value)} s{inherited}, over "
            f"{source} of "
            f"{where}: "
            + (
                "API Gateway stops waiting for the integration at that limit while the function "
                "runs on"
                if fn.logical_id in streaming
                else "the client gets a 504 while the function runs on"
            )
            + (
                f" (only for requests that run between {_fmt(limit)} and {_fmt(timeout.value)} s)"
                if narrow
                else ""
            )
            + (
                "; this integration streams its response, so its TimeoutInMillis may be raised "
                "to 900000 ms (15 minutes) without a quota increase"
                if fn.logical_id in streaming
                else ""
            )
            + (f" [{timeout.note}]" if timeout.note else "")
        )
        hit = Hit(
            fn.logical_id,
            timeout.path,
            message,
            severity=Severity.LOW if narrow else None,
            confidence=confidence,
            related=(_integration_place(t, integ),),
        )
        if fn.logical_id not in worst or margin > worst[fn.logical_id][0]:
            worst[fn.logical_id] = (margin, hit)
    for key in sorted(worst):
        yield worst[key][1]


# -- AR-CMP-004 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeInfo:
    deprecated: date
    successor: str | None


@dataclass(frozen=True)
class RuntimeTable:
    reviewed: date
    source: str
    runtimes: dict[str, RuntimeInfo]


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@functools.cache
def runtime_table() -> RuntimeTable:
    """reviewer/data/runtimes.yaml: the dated Lambda runtime deprecation table."""
    text = resources.files("reviewer").joinpath("data", "runtimes.yaml").read_text(encoding="utf-8")
    data = load_yaml(text)
    table: dict[str, RuntimeInfo] = {}
    for name, entry in (data.get("runtimes") or {}).items():
        successor = entry.get("successor")
        table[str(name)] = RuntimeInfo(
            _as_date(entry["deprecated"]), str(successor) if successor else None
        )
    return RuntimeTable(_as_date(data["reviewed"]), str(data.get("source", "")), table)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    return date(year, month, 28)


def _advice(runtime: str, successor: str | None) -> str:
    if runtime == "go1.x" or runtime.startswith("provided"):
        return (
            "move to provided.al2023 (Go: Handler bootstrap, a binary named bootstrap built with "
            "GOOS=linux and the GOARCH of Architectures)"
        )
    return f"move to {successor}" if successor else "move to a supported runtime"


@template_check("AR-CMP-004")
def deprecated_runtime(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    table = runtime_table()
    horizon = _add_months(ctx.today, 6)
    for fn in t.functions():
        if fn.implicit:
            continue
        package = resolve(t, fn.get("PackageType"))[0].value if fn.has("PackageType") else None
        if package == "Image":
            continue
        outcomes = _values(t, fn, "Runtime")
        if outcomes is None:
            continue
        yield Checked(fn.logical_id)
        for outcome in outcomes:
            runtime = outcome.value
            if not isinstance(runtime, str):
                continue
            info = table.runtimes.get(runtime.strip())
            if info is None:
                continue
            if info.deprecated <= ctx.today:
                severity = Severity.HIGH
                state = f"deprecated since {info.deprecated.isoformat()}: it no longer gets security patches"
            elif info.deprecated <= horizon:
                severity = Severity.MEDIUM
                state = f"deprecated on {info.deprecated.isoformat()}, within six months"
            else:
                continue
            yield Hit(
                fn.logical_id,
                ("Properties", "Runtime"),
                f"Function {fn.logical_id} runs on {runtime}{_when(outcome)}, {state}; "
                f"{_advice(runtime, info.successor)} "
                f"(runtime table reviewed {table.reviewed.isoformat()})",
                severity=severity,
                confidence=confidence_of(outcome),
            )
            break


# -- AR-CMP-005 -------------------------------------------------------------------------------


@template_check("AR-CMP-005")
def queue_consumer_unbounded(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for link in queue_links(ctx.repo, t):
        esm, fn = link.mapping, link.function
        yield Checked(esm.logical_id)
        bounded = False
        # provisioned mode bounds the pollers, and so the concurrency, by MaximumPollers
        for bound in (
            ("ScalingConfig", "MaximumConcurrency"),
            ("ProvisionedPollerConfig", "MaximumPollers"),
        ):
            if esm.has(*bound):
                values = resolve(t, esm.get(*bound))
                bounded = bounded or all(o.value is not NOVALUE for o in values)
        if bounded:
            continue
        reserved = _values(link.fn_template, fn, "ReservedConcurrentExecutions")
        conditional: Outcome | None = None
        if reserved is not None:
            unset = [o for o in reserved if o.value is NOVALUE]
            if not unset:
                continue
            conditional = unset[0]
        where = f" (defined in {link.fn_template.file})" if link.fn_template is not t else ""
        via = f"event source mapping {esm.logical_id}"
        if esm.implicit and esm.source == fn.logical_id:
            event = esm.logical_id[len(fn.logical_id) :]
            via = f"its SQS event {event}"
            if event.endswith("EventSourceMapping") and not fn.has("Events", event):
                via = f"the SQS subscription of its SNS event {event[: -len('EventSourceMapping')]}"
        note = ""
        if conditional is not None:
            note = f" (ReservedConcurrentExecutions is AWS::NoValue{_when(conditional)})"
        related = (
            (Related(fn.logical_id, ("Properties", "ReservedConcurrentExecutions"), "function"),)
            if link.fn_template is t
            else ()
        )
        queue = pointed(ctx.repo, t, esm.get("EventSourceArn"), ("AWS::SQS::Queue",))
        fifo = False
        if queue is not None and queue[1].has("FifoQueue"):
            fifo = truthy(first(queue[0], queue[1].get("FifoQueue")).value) is True
        backlog = (
            "a backlog spread over many message groups (Lambda runs one batch per group at a time)"
            if fifo
            else "a backlog"
        )
        yield Hit(
            esm.logical_id,
            ("Properties", "ScalingConfig", "MaximumConcurrency"),
            f"Function {fn.logical_id}{where} consumes {'a FIFO' if fifo else 'an'} SQS queue "
            f"through {via} with neither ScalingConfig.MaximumConcurrency (or "
            "ProvisionedPollerConfig.MaximumPollers) on the mapping nor "
            f"ReservedConcurrentExecutions on the function{note}: {backlog} can scale it up "
            "until it starves the account's concurrency",
            confidence=Confidence.MEDIUM if conditional is not None else None,
            related=related,
        )


# -- AR-CMP-006 -------------------------------------------------------------------------------


@template_check("AR-CMP-006")
def x86_function(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for fn in t.functions():
        if fn.implicit:
            continue
        outcomes = _values(t, fn, "Architectures")
        if outcomes is None:
            yield Hit(
                fn.logical_id,
                ("Properties", "Architectures"),
                f"Function {fn.logical_id} sets no Architectures, so it runs on x86_64: record "
                "whether arm64 (Graviton, lower price per GB-second) would serve",
            )
            continue
        for outcome in outcomes:
            value = outcome.value
            items = value if isinstance(value, list) else [value]
            if value is NOVALUE or "x86_64" in items:
                yield Hit(
                    fn.logical_id,
                    ("Properties", "Architectures"),
                    f"Function {fn.logical_id} runs on x86_64{_when(outcome)}: record whether "
                    "arm64 (Graviton, lower price per GB-second) would serve",
                )
                break


# -- AR-CMP-007 -------------------------------------------------------------------------------


def _containers(t: Template, task: Resource) -> Iterator[tuple[int, Mapping[str, Any]]]:
    defs = task.get("ContainerDefinitions")
    if not isinstance(defs, list):
        return
    for i, item in enumerate(defs):
        if isinstance(item, Mapping) and intrinsic(item) is None:  # Fn::If items: not judged
            yield i, item


@template_check("AR-CMP-007")
def privileged_container(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for task in t.of_type("AWS::ECS::TaskDefinition"):
        compat = first(t, task.get("RequiresCompatibilities", default=None)).value
        fargate_only = isinstance(compat, list) and compat == ["FARGATE"]
        for i, container in _containers(t, task):
            name = resolve(t, container.get("Name"))[0].value
            label = f"container {name}" if isinstance(name, str) else f"container #{i}"
            base: Path = ("Properties", "ContainerDefinitions", i)
            if "Privileged" in container:
                for outcome in resolve(t, container["Privileged"]):
                    if truthy(outcome.value) is True:
                        yield Hit(
                            task.logical_id,
                            (*base, "Privileged"),
                            f"Task definition {task.logical_id}: {label} runs Privileged"
                            f"{_when(outcome)}, "
                            + (
                                "which Fargate does not support: a task definition that "
                                "requires only FARGATE is rejected with it"
                                if fargate_only
                                else "with root access to the host and its devices"
                            ),
                            confidence=confidence_of(outcome),
                        )
                        break
            readonly = container.get("ReadonlyRootFilesystem", MISSING)
            if readonly is MISSING:
                yield Hit(
                    task.logical_id,
                    (*base, "ReadonlyRootFilesystem"),
                    f"Task definition {task.logical_id}: {label} does not set "
                    "ReadonlyRootFilesystem true, so a compromised process can modify its own "
                    "filesystem",
                    variant="writable-root",
                )
                continue
            for outcome in resolve(t, readonly):
                flag = truthy(outcome.value) if outcome.value is not NOVALUE else False
                if flag is False:
                    yield Hit(
                        task.logical_id,
                        (*base, "ReadonlyRootFilesystem"),
                        f"Task definition {task.logical_id}: {label} has ReadonlyRootFilesystem "
                        f"{'unset' if outcome.value is NOVALUE else 'false'}{_when(outcome)}, so a "
                        "compromised process can modify its own filesystem",
                        confidence=confidence_of(outcome),
                        variant="writable-root",
                    )
                    break


# -- AR-CMP-008 -------------------------------------------------------------------------------


@template_check("AR-CMP-008")
def rolling_without_circuit_breaker(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for svc in t.of_type("AWS::ECS::Service"):
        controller = (
            resolve(t, svc.get("DeploymentController", "Type"))[0].value
            if svc.has("DeploymentController", "Type")
            else "ECS"
        )
        if controller in ("CODE_DEPLOY", "EXTERNAL"):
            continue
        if not isinstance(controller, str):
            continue  # unknown controller: not judged
        strategy = (
            resolve(t, svc.get("DeploymentConfiguration", "Strategy"))[0].value
            if svc.has("DeploymentConfiguration", "Strategy")
            else "ROLLING"
        )
        if strategy != "ROLLING":
            continue  # ECS-native blue/green, linear or canary: not a rolling update
        yield Checked(svc.logical_id)
        base: Path = ("Properties", "DeploymentConfiguration", "DeploymentCircuitBreaker")
        breaker = svc.get("DeploymentConfiguration", "DeploymentCircuitBreaker")
        if isinstance(breaker, Mapping) and intrinsic(breaker) is not None:
            continue  # chosen by Fn::If: not judged
        # CloudWatch alarms with Rollback also roll a deployment back, but only when they go
        # off: a task that never starts may leave every alarm quiet
        alarms = svc.get("DeploymentConfiguration", "Alarms")
        alarm_rollback = isinstance(alarms, Mapping) and all(
            truthy(first(t, alarms.get(k)).value) is True for k in ("Enable", "Rollback")
        )
        unless = (
            "; only its deployment alarms (DeploymentConfiguration.Alarms) roll it back, when "
            "they go off"
            if alarm_rollback
            else ""
        )
        if not isinstance(breaker, Mapping):
            yield Hit(
                svc.logical_id,
                base,
                f"ECS service {svc.logical_id} uses rolling updates without a "
                "DeploymentCircuitBreaker: a task definition that never becomes healthy keeps "
                + (
                    f"the deployment churning{unless}"
                    if alarm_rollback
                    else "the deployment churning: ECS never stops it, and a stack update waits "
                    "for the service to stabilise until CloudFormation gives up, hours later, "
                    "and rolls the stack back"
                ),
                fix=_breaker_fix(svc.logical_id, base),
            )
            continue
        for key in ("Enable", "Rollback"):
            node = breaker.get(key, MISSING)
            flag = None if node is MISSING else truthy(resolve(t, node)[0].value)
            if flag is True:
                continue
            state = "not set" if node is MISSING else "false" if flag is False else "unknown"
            yield Hit(
                svc.logical_id,
                (*base, key),
                f"ECS service {svc.logical_id}: DeploymentCircuitBreaker.{key} is {state}; "
                + (
                    (
                        f"a failed rolling deployment is not stopped{unless}"
                        if alarm_rollback
                        else "a failed rolling deployment is not stopped: it churns until "
                        "CloudFormation gives up waiting for the service to stabilise, hours "
                        "later, and rolls the stack back"
                    )
                    if key == "Enable"
                    else "a failed deployment stops but the service is not returned to its last "
                    "working task definition"
                ),
                confidence=Confidence.LOW if state == "unknown" else None,
                fix=None if state == "unknown" else _breaker_fix(svc.logical_id, base),
            )
            break


def _breaker_fix(service: str, base: Path) -> SetValues:
    """Enable and Rollback both true (unsafe: a deployment ECS judges failed is stopped and
    rolled back, where it used to go on)."""
    return SetValues(
        Safety.UNSAFE,
        f"Turn on the deployment circuit breaker of ECS service {service}, with rollback.",
        service,
        tuple(Setting((*(str(p) for p in base), key), True) for key in ("Enable", "Rollback")),
    )


# -- AR-CMP-009 / AR-CMP-010: gradual deployment ------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """How traffic reaches a function: an API integration or an SQS event source mapping."""

    kind: str  # REST | HTTP | SQS
    subject: str
    path: Path
    node: Any  # the value naming the function; MISSING for SAM events
    sam_event: bool


def _entries(repo: RepoIndex, t: Template) -> dict[str, list[_Entry]]:
    out: dict[str, list[_Entry]] = {}
    for integ in all_api_integrations(repo, t):
        fn = integ.function
        sam_event = integ.subject == fn.logical_id
        holder = t.get(integ.subject)
        node = MISSING if sam_event or holder is None else holder.attr(*integ.path)
        out.setdefault(fn.logical_id, []).append(
            _Entry(integ.kind, integ.subject, integ.path, node, sam_event)
        )
    for link in queue_links(repo, t):
        if link.fn_template is not t:
            continue
        esm = link.mapping
        sam_event = esm.implicit and esm.source == link.function.logical_id
        out.setdefault(link.function.logical_id, []).append(
            _Entry(
                "SQS",
                esm.logical_id,
                ("Properties", "FunctionName"),
                MISSING if sam_event else esm.get("FunctionName"),
                sam_event,
            )
        )
    return out


def _classify_config(t: Template, node: Any) -> tuple[bool | None, str]:
    """Whether a DeploymentConfigName is gradual (Canary/Linear): True, False or None (unknown)."""
    if node is MISSING:
        return False, "no DeploymentConfigName (CodeDeployDefault.LambdaAllAtOnce)"
    for ref in targets(t, node):
        res = t.get(ref.target) if ref.file == t.file else None
        if res is not None and res.type == "AWS::CodeDeploy::DeploymentConfig":
            kind = resolve(t, res.get("TrafficRoutingConfig", "Type"))[0].value
            if kind in ("TimeBasedCanary", "TimeBasedLinear"):
                return True, f"custom configuration {res.logical_id} ({kind})"
            if kind == "AllAtOnce":
                return False, f"custom configuration {res.logical_id} (AllAtOnce)"
            return None, f"custom configuration {res.logical_id}"
    value = resolve(t, node)[0].value
    text = _text(value) or ""
    lowered = text.lower()
    if "canary" in lowered or "linear" in lowered:
        return True, text
    if "allatonce" in lowered:
        return False, text
    return None, text or "an unresolved configuration"


@dataclass(frozen=True)
class _Gradual:
    alias: Resource
    group: Resource | None
    gradual: bool | None
    detail: str


def _aliases_of(repo: RepoIndex, t: Template, fn: Resource) -> list[Resource]:
    out = []
    for alias in t.of_type("AWS::Lambda::Alias"):
        found = pointed(repo, t, alias.get("FunctionName"), LAMBDA_TYPES)
        if found is not None and found[1] is fn:
            out.append(alias)
    return out


def _alias_deployment(t: Template, alias: Resource) -> _Gradual:
    policy = alias.attr("UpdatePolicy", "CodeDeployLambdaAliasUpdate")
    if not isinstance(policy, Mapping):
        return _Gradual(alias, None, False, "no UpdatePolicy CodeDeployLambdaAliasUpdate")
    group: Resource | None = None
    for ref in targets(t, policy.get("DeploymentGroupName")):
        res = t.get(ref.target) if ref.file == t.file else None
        if res is not None and res.type == "AWS::CodeDeploy::DeploymentGroup":
            group = res
    if group is None:
        return _Gradual(alias, None, None, "a deployment group outside this template")
    enabled = group.get("Enabled")  # SAM DeploymentPreference.Enabled, carried on the group
    if enabled is not MISSING and truthy(resolve(t, enabled)[0].value) is False:
        return _Gradual(alias, group, False, "gradual deployment disabled (Enabled false)")
    gradual, detail = _classify_config(t, group.get("DeploymentConfigName"))
    return _Gradual(alias, group, gradual, detail)


def _through_alias(repo: RepoIndex, t: Template, entry: _Entry, aliases: list[Resource]) -> bool:
    ids = {a.logical_id for a in aliases}
    if any(ref.target in ids for ref in targets(t, entry.node)):
        return True
    names = []
    for alias in aliases:
        name = resolve(t, alias.get("Name"))[0].value
        if isinstance(name, str):
            names.append(name)
    for outcome in resolve(t, entry.node):
        text = _text(outcome.value) or ""
        for name in names:
            if text.endswith(":" + name) or f":{name}/invocations" in text:
                return True
    return False


def _driven(ctx: TemplateContext) -> dict[str, list[_Entry]]:
    if not ctx.profile.gradual_deployment:
        return {}
    return _entries(ctx.repo, ctx.template)


def _describe(entries: list[_Entry]) -> str:
    kinds = {"SQS" if e.kind == "SQS" else "API" for e in entries}
    if kinds == {"API", "SQS"}:
        return "API- and queue-driven"
    return "API-driven" if "API" in kinds else "queue-driven"


@template_check("AR-CMP-009")
def no_gradual_deployment(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for fid, entries in sorted(_driven(ctx).items()):
        fn = t.get(fid)
        if fn is None:
            continue
        yield Checked(fid)
        what = _describe(entries)
        aliases = _aliases_of(ctx.repo, t, fn)
        deployments = [_alias_deployment(t, a) for a in aliases]
        good = [d for d in deployments if d.gradual is not False]
        sam = fn.type == SAM_FUNCTION
        if good:
            # gradual deployment exists: traffic must reach the function through that alias
            good_aliases = [d.alias for d in good]
            for entry in entries:
                if entry.sam_event:
                    continue  # SAM points its events at the AutoPublishAlias alias
                if _through_alias(ctx.repo, t, entry, good_aliases):
                    continue
                yield Hit(
                    entry.subject,
                    entry.path,
                    f"{entry.subject} invokes function {fid} directly, not through alias "
                    f"{good_aliases[0].logical_id}: its traffic bypasses the gradual deployment",
                    related=(Related(good_aliases[0].logical_id, (), "alias"),),
                )
            continue
        if sam:
            alias_name = fn.get("AutoPublishAlias")
            pref = fn.get("DeploymentPreference")
            if alias_name is MISSING:
                yield Hit(
                    fid,
                    ("Properties", "AutoPublishAlias"),
                    f"Function {fid} is {what} but has no AutoPublishAlias and "
                    "DeploymentPreference: every deployment sends all traffic to the new code at "
                    "once",
                )
                continue
            if not isinstance(pref, Mapping):
                yield Hit(
                    fid,
                    ("Properties", "DeploymentPreference"),
                    f"Function {fid} is {what} and publishes alias {alias_name} but has no "
                    "DeploymentPreference: every deployment shifts all traffic at once",
                )
                continue
            detail = deployments[0].detail if deployments else "no Type"
            key = "Enabled" if "disabled" in detail else "Type"
            written = resolve(t, pref["Type"])[0].value if "Type" in pref else None
            if key == "Type":
                detail = f"Type {written}" if isinstance(written, str) else "no Type"
            yield Hit(
                fid,
                ("Properties", "DeploymentPreference", key),
                f"Function {fid} is {what} but its DeploymentPreference is not gradual "
                f"({detail}): use a Canary or Linear Type",
            )
            continue
        if not deployments:
            yield Hit(
                fid,
                (),
                f"Function {fid} is {what} but no AWS::Lambda::Alias with an UpdatePolicy "
                "CodeDeployLambdaAliasUpdate fronts it: every deployment sends all traffic to "
                "the new code at once",
            )
            continue
        for dep in deployments:
            if dep.group is None:
                yield Hit(
                    dep.alias.logical_id,
                    ("UpdatePolicy", "CodeDeployLambdaAliasUpdate"),
                    f"Alias {dep.alias.logical_id} of {what} function {fid} has "
                    f"{dep.detail}: new versions receive all traffic at once",
                )
            elif "disabled" in dep.detail:
                yield Hit(
                    dep.group.logical_id,
                    ("Properties", "Enabled"),
                    f"Deployment group {dep.group.logical_id} of {what} function {fid}: "
                    f"{dep.detail}",
                )
            else:
                yield Hit(
                    dep.group.logical_id,
                    ("Properties", "DeploymentConfigName"),
                    f"Deployment group {dep.group.logical_id} of {what} function {fid} uses "
                    f"{dep.detail}, not a Canary or Linear configuration: new versions receive "
                    "all traffic at once",
                    related=(Related(dep.alias.logical_id, ("UpdatePolicy",), "alias"),),
                )


def _nonempty(t: Template, node: Any) -> Outcome | None:
    """The first outcome in which a list is empty or absent; None when always non-empty."""
    if node is MISSING:
        return Outcome(NOVALUE)
    for outcome in resolve(t, node):
        value = outcome.value
        if value is NOVALUE or (isinstance(value, list) and not value):
            return outcome
    return None


def _group_rollback_gap(t: Template, group: Resource) -> tuple[Path, str] | None:
    for key in ("AlarmConfiguration", "AutoRollbackConfiguration"):
        node = group.get(key)
        if isinstance(node, Mapping) and intrinsic(node) is not None:
            return None  # chosen by Fn::If: not judged
    alarms = group.get("AlarmConfiguration")
    if not isinstance(alarms, Mapping):
        return ("Properties", "AlarmConfiguration"), "has no AlarmConfiguration"
    if _nonempty(t, alarms.get("Alarms", MISSING)) is not None:
        return ("Properties", "AlarmConfiguration", "Alarms"), "has no alarms in AlarmConfiguration"
    enabled = alarms.get("Enabled", MISSING)
    if enabled is MISSING or truthy(resolve(t, enabled)[0].value) is not True:
        return (
            ("Properties", "AlarmConfiguration", "Enabled"),
            "does not set AlarmConfiguration.Enabled true, so its alarms are not watched",
        )
    auto = group.get("AutoRollbackConfiguration")
    if not isinstance(auto, Mapping):
        return ("Properties", "AutoRollbackConfiguration"), "has no AutoRollbackConfiguration"
    if truthy(resolve(t, auto.get("Enabled", MISSING))[0].value) is not True:
        return (
            ("Properties", "AutoRollbackConfiguration", "Enabled"),
            "does not enable AutoRollbackConfiguration",
        )
    events = resolve(t, auto.get("Events", MISSING))[0].value
    if not (isinstance(events, list) and "DEPLOYMENT_STOP_ON_ALARM" in events):
        return (
            ("Properties", "AutoRollbackConfiguration", "Events"),
            "does not roll back on DEPLOYMENT_STOP_ON_ALARM",
        )
    return None


@template_check("AR-CMP-010")
def gradual_without_rollback(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for fid, entries in sorted(_driven(ctx).items()):
        fn = t.get(fid)
        if fn is None:
            continue
        what = _describe(entries)
        for alias in _aliases_of(ctx.repo, t, fn):
            dep = _alias_deployment(t, alias)
            if dep.gradual is not True or dep.group is None:
                continue
            yield Checked(fid)
            pref = fn.get("DeploymentPreference")
            if alias.implicit and isinstance(pref, Mapping):
                yield from _sam_rollback(t, fid, what, pref)
                continue
            group = dep.group
            gap = _group_rollback_gap(t, group)
            if gap is not None:
                yield Hit(
                    group.logical_id,
                    gap[0],
                    f"Deployment group {group.logical_id} of {what} function {fid} {gap[1]}: a "
                    "canary that raises errors keeps receiving traffic until the shift completes",
                    related=(Related(alias.logical_id, ("UpdatePolicy",), "alias"),),
                )
                continue
            policy = alias.attr("UpdatePolicy", "CodeDeployLambdaAliasUpdate")
            hooks = [k for k in ("BeforeAllowTrafficHook", "AfterAllowTrafficHook") if k in policy]
            if not hooks:
                yield Hit(
                    alias.logical_id,
                    ("UpdatePolicy", "CodeDeployLambdaAliasUpdate", "BeforeAllowTrafficHook"),
                    f"Alias {alias.logical_id} of {what} function {fid} rolls back on alarms but "
                    "has no BeforeAllowTrafficHook or AfterAllowTrafficHook: a version that fails "
                    "a smoke test still receives real traffic before an alarm fires",
                    variant="no-traffic-hook",
                )


def _sam_rollback(t: Template, fid: str, what: str, pref: Mapping[str, Any]) -> Iterator[Hit]:
    base: Path = ("Properties", "DeploymentPreference")
    empty = _nonempty(t, pref.get("Alarms", MISSING))
    if empty is not None:
        cond = _when(empty) if empty.conditions else ""
        yield Hit(
            fid,
            (*base, "Alarms"),
            f"Function {fid} ({what}) deploys gradually but its DeploymentPreference has no "
            f"Alarms{cond}: a canary that raises errors keeps receiving traffic until the shift "
            "completes, and nothing rolls it back",
            confidence=Confidence.MEDIUM if empty.conditions else None,
        )
        return
    hooks = pref.get("Hooks")
    if not (isinstance(hooks, Mapping) and ("PreTraffic" in hooks or "PostTraffic" in hooks)):
        yield Hit(
            fid,
            (*base, "Hooks"),
            f"Function {fid} ({what}) rolls back on alarms but its DeploymentPreference has no "
            "PreTraffic or PostTraffic hook: a version that fails a smoke test still receives "
            "real traffic before an alarm fires",
            variant="no-traffic-hook",
        )


CHECKS: tuple[Check, ...] = (
    sizing_outside_class,
    implicit_memory_or_timeout,
    timeout_over_integration,
    deprecated_runtime,
    queue_consumer_unbounded,
    x86_function,
    privileged_container,
    rolling_without_circuit_breaker,
    no_gradual_deployment,
    gradual_without_rollback,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
