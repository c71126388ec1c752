"""The routes of REST, HTTP and WebSocket APIs and how each one is authorized.

Routes come from explicit AWS::ApiGateway::Method and AWS::ApiGatewayV2::Route resources, from
SAM `Api` / `HttpApi` events (with the API's Auth.DefaultAuthorizer, Globals merged), and from
OpenAPI definitions (reviewer.model.openapi: `DefinitionBody` of SAM APIs, `Body` of RestApi /
ApiGatewayV2 Api, inline or included with AWS::Include from a local file, and a local
`DefinitionUri` / `BodyS3Location`). Each route names where it is declared and where the setting
that decides its authorization is written, so that a finding points at the right line; a path
into a definition read from a file is placed in that file (`openapi.place`). The routes of a
definition that cannot be read (S3, outside the repository, unparsable) are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewer.checks.edge import Val, values
from reviewer.checks.facts import pointed
from reviewer.core.types import Confidence, Path
from reviewer.model.openapi import Definition, definition
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import intrinsic
from reviewer.model.template import MISSING, Resource, Template

NONE = "NONE"
AWS_IAM = "AWS_IAM"
COGNITO = "COGNITO_USER_POOLS"
JWT = "JWT"
TOKEN = "TOKEN"
REQUEST = "REQUEST"
CUSTOM = "CUSTOM"  # a Lambda authorizer of unknown payload type
UNKNOWN = "UNKNOWN"

KIND_LABELS = {
    NONE: "no authorizer",
    AWS_IAM: "AWS_IAM (SigV4)",
    COGNITO: "a Cognito user pool authorizer",
    JWT: "a JWT authorizer",
    TOKEN: "a Lambda TOKEN authorizer",
    REQUEST: "a Lambda REQUEST authorizer",
    CUSTOM: "a Lambda authorizer",
    UNKNOWN: "an authorizer of unknown kind",
}

REST_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api")
HTTP_API_TYPES = ("AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi")
OPENAPI_METHODS = (
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
)


@dataclass(frozen=True)
class Auth:
    kind: str
    subject: str  # the resource where the deciding setting is written
    path: Path  # that setting, below the subject
    origin: tuple[str, Path]  # where the authorizer itself is defined (grouping for AR-API-006)
    explicit: bool  # the route itself states it (not a default, not a missing property)
    confidence: Confidence = Confidence.HIGH
    note: str = ""
    api_key: bool = False


@dataclass(frozen=True)
class Route:
    protocol: str  # REST | HTTP | WEBSOCKET
    api: Resource | None
    method: str  # upper-case HTTP method or ANY; the route key for WebSocket routes
    path: str
    subject: str  # the resource the route is declared on
    where: Path  # the route declaration below the subject
    auth: Auth
    source: str  # method | route | event | openapi | missing-connect
    private: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        if self.protocol == "WEBSOCKET":
            return self.method
        return f"{self.method} {self.path}".strip()

    @property
    def is_options(self) -> bool:
        return self.method == "OPTIONS"


def is_private(t: Template, api: Resource | None) -> bool:
    if api is None:
        return False
    config = api.get("EndpointConfiguration")
    for v in values(t, config):
        value = v.value
        if isinstance(value, str):
            return value.upper() == "PRIVATE"
        if isinstance(value, Mapping):
            kinds = value.get("Types", value.get("Type"))
            if isinstance(kinds, list):
                return [str(k).upper() for k in kinds] == ["PRIVATE"]
            if isinstance(kinds, str):
                return kinds.upper() == "PRIVATE"
    return False


def _first_text(t: Template, node: Any) -> tuple[str | None, Val]:
    vals = values(t, node)
    for v in vals:
        text = v.text()
        if text is not None:
            return text, v
    return None, vals[0]


def _same(repo: RepoIndex, t: Template, node: Any, types: tuple[str, ...]) -> Resource | None:
    found = pointed(repo, t, node, types)
    if found is None or found[0] is not t:
        return None
    return found[1]


# -- explicit REST methods -------------------------------------------------------------------


def _resource_path(repo: RepoIndex, t: Template, node: Any, depth: int = 0) -> str:
    if depth > 20:
        return "/..."
    res = _same(repo, t, node, ("AWS::ApiGateway::Resource",))
    if res is None:
        return ""
    part, _ = _first_text(t, res.get("PathPart"))
    parent = _resource_path(repo, t, res.get("ParentId"), depth + 1)
    return f"{parent}/{part if part is not None else '{?}'}"


def _rest_authorizer_kind(t: Template, authorizer: Resource | None) -> str:
    if authorizer is None:
        return CUSTOM
    text, _ = _first_text(t, authorizer.get("Type"))
    if text is None:
        return CUSTOM
    upper = text.upper()
    return upper if upper in (TOKEN, REQUEST, COGNITO) else CUSTOM


def rest_methods(repo: RepoIndex, t: Template) -> Iterator[Route]:
    for method in t.of_type("AWS::ApiGateway::Method"):
        api = _same(repo, t, method.get("RestApiId"), REST_API_TYPES)
        verb, _ = _first_text(t, method.get("HttpMethod"))
        path = _resource_path(repo, t, method.get("ResourceId")) or "/"
        mid = method.logical_id
        api_key = any(v.text() == "true" for v in values(t, method.get("ApiKeyRequired")))
        node = method.get("AuthorizationType")
        vals = values(t, node)
        chosen = next((v for v in vals if v.missing or (v.text() or "").upper() == NONE), vals[0])
        text = (chosen.text() or "").upper()
        if chosen.missing or text == NONE:
            auth = Auth(
                NONE,
                mid,
                ("Properties", "AuthorizationType"),
                (mid, ("Properties", "AuthorizationType")),
                not chosen.missing,
                chosen.confidence if not chosen.missing or chosen.conditions else Confidence.HIGH,
                chosen.note,
                api_key,
            )
        elif text == AWS_IAM:
            auth = Auth(
                AWS_IAM,
                mid,
                ("Properties", "AuthorizationType"),
                (api.logical_id if api else mid, ()),
                True,
                chosen.confidence,
                chosen.note,
                api_key,
            )
        elif text in (CUSTOM, COGNITO):
            authorizer = _same(
                repo, t, method.get("AuthorizerId"), ("AWS::ApiGateway::Authorizer",)
            )
            kind = COGNITO if text == COGNITO else _rest_authorizer_kind(t, authorizer)
            origin = (
                (authorizer.logical_id, ("Properties", "Type"))
                if authorizer
                else (mid, ("Properties", "AuthorizerId"))
            )
            auth = Auth(
                kind,
                mid,
                ("Properties", "AuthorizationType"),
                origin,
                True,
                chosen.confidence,
                chosen.note,
                api_key,
            )
        else:
            auth = Auth(
                UNKNOWN, mid, ("Properties", "AuthorizationType"), (mid, ()), True, Confidence.LOW
            )
        yield Route(
            "REST",
            api,
            (verb or "?").upper(),
            path,
            mid,
            ("Properties", "HttpMethod"),
            auth,
            "method",
            is_private(t, api),
        )


# -- explicit HTTP / WebSocket routes ------------------------------------------------------------


def protocol_of(t: Template, api: Resource | None) -> str | None:
    if api is None:
        return None
    if api.type == "AWS::Serverless::HttpApi":
        return "HTTP"
    text, _ = _first_text(t, api.get("ProtocolType"))
    if text is None:
        return "HTTP" if api.has("Body") or api.has("BodyS3Location") else None
    return text.upper()


def v2_routes(repo: RepoIndex, t: Template) -> Iterator[Route]:
    for route in t.of_type("AWS::ApiGatewayV2::Route"):
        api = _same(repo, t, route.get("ApiId"), HTTP_API_TYPES)
        key, _ = _first_text(t, route.get("RouteKey"))
        key = key or "?"
        protocol = protocol_of(t, api)
        if protocol is None:
            protocol = "WEBSOCKET" if key in ("$connect", "$disconnect") else "HTTP"
        if protocol == "WEBSOCKET":
            method, path = key, ""
        elif key == "$default":
            method, path = "ANY", "$default"
        else:
            verb, _, rest = key.partition(" ")
            method, path = verb.upper(), rest
        rid = route.logical_id
        vals = values(t, route.get("AuthorizationType"))
        chosen = next((v for v in vals if v.missing or (v.text() or "").upper() == NONE), vals[0])
        text = (chosen.text() or "").upper()
        api_key = any(v.text() == "true" for v in values(t, route.get("ApiKeyRequired")))
        setting: Path = ("Properties", "AuthorizationType")
        if chosen.missing or text == NONE:
            auth = Auth(
                NONE,
                rid,
                setting,
                (rid, setting),
                not chosen.missing,
                chosen.confidence if chosen.conditions else Confidence.HIGH,
                chosen.note,
                api_key,
            )
        elif text == AWS_IAM:
            auth = Auth(
                AWS_IAM,
                rid,
                setting,
                (api.logical_id if api else rid, ()),
                True,
                chosen.confidence,
                chosen.note,
                api_key,
            )
        elif text in (JWT, CUSTOM):
            authorizer = _same(
                repo, t, route.get("AuthorizerId"), ("AWS::ApiGatewayV2::Authorizer",)
            )
            kind = JWT if text == JWT else REQUEST
            if authorizer is not None:
                atype, _ = _first_text(t, authorizer.get("AuthorizerType"))
                if atype and atype.upper() in (JWT, REQUEST):
                    kind = atype.upper()
            origin = (
                (authorizer.logical_id, ("Properties", "AuthorizerType"))
                if authorizer
                else (rid, ("Properties", "AuthorizerId"))
            )
            auth = Auth(kind, rid, setting, origin, True, chosen.confidence, chosen.note, api_key)
        else:
            auth = Auth(UNKNOWN, rid, setting, (rid, ()), True, Confidence.LOW)
        yield Route(protocol, api, method, path, rid, ("Properties", "RouteKey"), auth, "route")


# -- SAM events ---------------------------------------------------------------------------------


def _sam_authorizer_kind(api: Resource, name: str, http: bool) -> tuple[str, Path]:
    """Kind of a named authorizer in a SAM API's Auth.Authorizers, and where it is defined."""
    if name == AWS_IAM:
        return AWS_IAM, ("Properties", "Auth", "DefaultAuthorizer")
    authorizers = api.get("Auth", "Authorizers")
    spec = authorizers.get(name) if isinstance(authorizers, Mapping) else None
    where: Path = ("Properties", "Auth", "Authorizers", name)
    if not isinstance(spec, Mapping):
        return UNKNOWN, where
    if http:
        if "JwtConfiguration" in spec:
            return JWT, where
        if "FunctionArn" in spec:
            return REQUEST, where
        return UNKNOWN, where
    if "UserPoolArn" in spec:
        return COGNITO, where
    if "FunctionArn" in spec:
        payload = spec.get("FunctionPayloadType")
        return (
            REQUEST if isinstance(payload, str) and payload.upper() == REQUEST else TOKEN
        ), where
    return UNKNOWN, where


def _sam_api(
    repo: RepoIndex, t: Template, props: Mapping[str, Any], http: bool
) -> tuple[Resource | None, bool]:
    """The SAM API an event attaches to, and whether it is known (False: defined elsewhere)."""
    key = "ApiId" if http else "RestApiId"
    if key not in props:
        implicit = t.get("ServerlessHttpApi" if http else "ServerlessRestApi")
        return implicit, implicit is not None
    api = _same(repo, t, props[key], HTTP_API_TYPES if http else REST_API_TYPES)
    return api, api is not None


def sam_event_routes(repo: RepoIndex, t: Template) -> Iterator[Route]:
    for owner in t.of_type("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        events = owner.get("Events")
        if not isinstance(events, Mapping) or intrinsic(events) is not None:
            continue
        for name, event in events.items():
            if not isinstance(event, Mapping) or event.get("Type") not in ("Api", "HttpApi"):
                continue
            http = event.get("Type") == "HttpApi"
            props = event.get("Properties")
            props = props if isinstance(props, Mapping) else {}
            api, known = _sam_api(repo, t, props, http)
            verb, _ = _first_text(t, props.get("Method", MISSING))
            path, _ = _first_text(t, props.get("Path", MISSING))
            if http and verb is None and path is None:
                method, route_path = "ANY", "$default"
            else:
                method = (verb or "ANY").upper()
                route_path = path or "/"
            if method == "ANY" and verb is not None and verb.lower() == "any":
                method = "ANY"
            event_path: Path = ("Properties", "Events", str(name))
            auth = _sam_event_auth(
                t, owner, event_path, props, api, known, http, method, route_path
            )
            if auth is None:
                continue
            yield Route(
                "HTTP" if http else "REST",
                api,
                method,
                route_path,
                owner.logical_id,
                event_path,
                auth,
                "event",
                is_private(t, api) if not http else False,
            )


def _sam_event_auth(
    t: Template,
    owner: Resource,
    event_path: Path,
    props: Mapping[str, Any],
    api: Resource | None,
    known: bool,
    http: bool,
    method: str = "ANY",
    route_path: str = "/",
) -> Auth | None:
    oid = owner.logical_id
    auth_node = props.get("Auth")
    # SAM: the Api's Auth.ApiKeyRequired applies to every method unless the event says otherwise
    api_key = (
        not http
        and api is not None
        and any(v.text() == "true" for v in values(t, api.get("Auth", "ApiKeyRequired")))
    )
    if isinstance(auth_node, Mapping) and "ApiKeyRequired" in auth_node:
        api_key = any(v.text() == "true" for v in values(t, auth_node["ApiKeyRequired"]))
    if isinstance(auth_node, Mapping) and "Authorizer" in auth_node:
        setting: Path = (*event_path, "Properties", "Auth", "Authorizer")
        text, v = _first_text(t, auth_node["Authorizer"])
        if text is None:
            return Auth(UNKNOWN, oid, setting, (oid, setting), True, Confidence.LOW)
        if text.upper() == NONE:
            return Auth(NONE, oid, setting, (oid, setting), True, v.confidence, v.note, api_key)
        if api is None:
            kind = AWS_IAM if text.upper() == AWS_IAM else UNKNOWN
            return Auth(kind, oid, setting, (oid, setting), True, Confidence.MEDIUM)
        kind, origin_path = _sam_authorizer_kind(api, text, http)
        origin = (api.logical_id, origin_path) if kind != AWS_IAM else (api.logical_id, ())
        return Auth(kind, oid, setting, origin, True, v.confidence, v.note, api_key)
    if not known or api is None:
        return None  # the API (and its default authorizer) lives elsewhere
    default = api.get("Auth", "DefaultAuthorizer")
    if default is not MISSING:
        text, v = _first_text(t, default)
        setting = ("Properties", "Auth", "DefaultAuthorizer")
        if text is None:
            return Auth(
                UNKNOWN, api.logical_id, setting, (api.logical_id, setting), False, Confidence.LOW
            )
        if text.upper() == NONE:
            return Auth(
                NONE,
                api.logical_id,
                setting,
                (api.logical_id, setting),
                False,
                v.confidence,
                v.note,
                api_key,
            )
        kind, origin_path = _sam_authorizer_kind(api, text, http)
        origin = (api.logical_id, origin_path) if kind != AWS_IAM else (api.logical_id, ())
        return Auth(kind, api.logical_id, setting, origin, False, v.confidence, v.note, api_key)
    found = definition(t, api)
    if found is not None and found.body is None:
        return None  # the definition decides, and it cannot be read: not judged
    inline = _inline_security(found, method, route_path)
    if inline is not None:
        kind, setting, origin_path, api_key_only = inline
        aid = api.logical_id
        return Auth(kind, aid, setting, (aid, origin_path), True, api_key=api_key or api_key_only)
    return Auth(NONE, oid, event_path, (oid, event_path), False, Confidence.HIGH, "", api_key)


def _operation(body: Mapping[str, Any], route_path: str, method: str) -> tuple[Any, str]:
    """The operation of a definition for a route (the any-method one when the method has
    none), and its key."""
    paths = body.get("paths")
    item = paths.get(route_path) if isinstance(paths, Mapping) else None
    op: Any = None
    op_key = method.lower()
    if isinstance(item, Mapping):
        op = item.get(op_key)
        if not isinstance(op, Mapping):
            op_key = "x-amazon-apigateway-any-method"
            op = item.get(op_key)
    return op, op_key


def _inline_security(
    found: Definition | None, method: str, route_path: str
) -> tuple[str, Path, Path, bool] | None:
    """The security an OpenAPI definition gives a route: (kind, setting path, origin path,
    API key only), or None when the definition says nothing about it."""
    if found is None or found.body is None:
        return None
    body, key = found.body, found.key
    op, op_key = _operation(body, route_path, method)
    where: Path = ("Properties", key, "paths", route_path, op_key)
    decided = operation_security(body, op if isinstance(op, Mapping) else None, where, key)
    if decided is None:
        return None
    kind, setting, scheme, api_key = decided
    origin: Path = ("Properties", key, *_schemes_path(body), scheme) if scheme else setting
    return kind, setting, origin, api_key


# -- OpenAPI definitions ------------------------------------------------------------------------


def _gateway_auth(op: Mapping[str, Any]) -> str | None:
    """The kind an operation's `x-amazon-apigateway-auth: {type: AWS_IAM|NONE}` sets (values
    are case-insensitive), UNKNOWN for another value, None when it has none."""
    ext = op.get("x-amazon-apigateway-auth")
    if not isinstance(ext, Mapping):
        return None
    kind = ext.get("type")
    if not isinstance(kind, str):
        return UNKNOWN
    upper = kind.strip().upper()
    return upper if upper in (AWS_IAM, NONE) else UNKNOWN


def operation_security(
    body: Mapping[str, Any], op: Mapping[str, Any] | None, where: Path, key: str
) -> tuple[str, Path, str | None, bool] | None:
    """How an operation is authorized by its definition: (kind, the setting's path, the
    security scheme's name, API key only), or None when neither the operation nor the API
    level says anything. The operation's `security` wins (an empty list: no authorizer), then
    its `x-amazon-apigateway-auth`, then the API-level `security`."""
    schemes = _schemes(body)
    if op is not None and "security" in op:
        kind, scheme, api_key = _requirement_kind(op["security"], schemes)
        if kind == NONE and not api_key and _gateway_auth(op) == AWS_IAM:
            return AWS_IAM, (*where, "x-amazon-apigateway-auth"), None, False
        return kind, (*where, "security"), scheme, api_key
    if op is not None:
        gateway = _gateway_auth(op)
        if gateway is not None:
            return gateway, (*where, "x-amazon-apigateway-auth"), None, False
    if "security" in body:
        kind, scheme, api_key = _requirement_kind(body["security"], schemes)
        return kind, ("Properties", key, "security"), scheme, api_key
    return None


def _schemes(body: Mapping[str, Any]) -> Mapping[str, Any]:
    schemes = body.get("securityDefinitions")
    if isinstance(schemes, Mapping):
        return schemes
    components = body.get("components")
    if isinstance(components, Mapping):
        found = components.get("securitySchemes")
        if isinstance(found, Mapping):
            return found
    return {}


def scheme_kind(scheme: Any) -> str:
    """The kind of an OpenAPI security scheme carrying API Gateway extensions."""
    if not isinstance(scheme, Mapping):
        return UNKNOWN
    authtype = scheme.get("x-amazon-apigateway-authtype")
    ext = scheme.get("x-amazon-apigateway-authorizer")
    ext_type = ext.get("type") if isinstance(ext, Mapping) else None
    if isinstance(ext_type, str):
        lowered = ext_type.lower()
        if lowered == "jwt":
            return JWT
        if lowered == "request":
            return REQUEST
        if lowered == "token":
            return TOKEN
        if lowered == "cognito_user_pools":
            return COGNITO
    if isinstance(authtype, str):
        lowered = authtype.lower()
        if lowered == "cognito_user_pools":
            return COGNITO
        if lowered == "awssigv4":
            return AWS_IAM
        if lowered == "custom":
            return CUSTOM
    if scheme.get("type") == "apiKey" and ext is None and authtype is None:
        return "API_KEY"
    return UNKNOWN


def _requirement_kind(security: Any, schemes: Mapping[str, Any]) -> tuple[str, str | None, bool]:
    """(kind, scheme name, api key only) for an OpenAPI `security` value."""
    if not isinstance(security, list):
        return UNKNOWN, None, False
    if not security:
        return NONE, None, False
    first: tuple[str, str | None] | None = None
    for requirement in security:
        if not isinstance(requirement, Mapping):
            return UNKNOWN, None, False
        if not requirement:
            return NONE, None, False  # {} : an anonymous alternative
        kinds = [(scheme_kind(schemes.get(str(name))), str(name)) for name in requirement]
        real = [(k, n) for k, n in kinds if k != "API_KEY"]
        if not real:
            return NONE, None, True  # an API key alone opens this route
        if first is None:
            first = real[0]
    if first is None:
        return UNKNOWN, None, False
    return first[0], first[1], False


def openapi_routes(
    repo: RepoIndex, t: Template, skip: set[tuple[str, str, str]]
) -> Iterator[Route]:
    for api in t.of_type(*REST_API_TYPES, *HTTP_API_TYPES):
        if api.implicit:
            continue
        found = definition(t, api)
        if found is None or found.body is None:
            continue  # no definition, or one that cannot be read: its routes are not judged
        body, key = found.body, found.key
        paths = body.get("paths")
        if not isinstance(paths, Mapping):
            continue
        http = api.type in HTTP_API_TYPES
        protocol = "HTTP" if http else "REST"
        if http and protocol_of(t, api) == "WEBSOCKET":
            continue
        # SAM applies the API's DefaultAuthorizer to the operations of a definition it edits
        # (inline or included), never to a DefinitionUri file
        default = (
            api.get("Auth", "DefaultAuthorizer")
            if api.type.startswith("AWS::Serverless::") and found.sam_auth
            else MISSING
        )
        aid = api.logical_id
        for p, item in paths.items():
            if not isinstance(item, Mapping):
                continue
            for m, op in item.items():
                mname = str(m).lower()
                if mname not in OPENAPI_METHODS or not isinstance(op, Mapping):
                    continue
                method = "ANY" if mname == "x-amazon-apigateway-any-method" else mname.upper()
                if (aid, method, str(p)) in skip:
                    continue
                where: Path = ("Properties", key, "paths", str(p), str(m))
                decided = operation_security(body, op, where, key)
                if decided is None and default is not MISSING:
                    text, v = _first_text(t, default)
                    dpath: Path = ("Properties", "Auth", "DefaultAuthorizer")
                    if text is None:
                        auth = Auth(UNKNOWN, aid, dpath, (aid, dpath), False, Confidence.LOW)
                    else:
                        kind, origin_path = _sam_authorizer_kind(api, text, http)
                        auth = Auth(
                            kind,
                            aid,
                            dpath,
                            (aid, origin_path if kind != AWS_IAM else ()),
                            False,
                            v.confidence,
                            v.note,
                        )
                elif decided is None:
                    auth = Auth(NONE, aid, where, (aid, where), False)
                else:
                    kind, setting, scheme, api_key = decided
                    scheme_path: Path = (
                        ("Properties", key, *(_schemes_path(body)), scheme) if scheme else setting
                    )
                    auth = Auth(kind, aid, setting, (aid, scheme_path), True, api_key=api_key)
                yield Route(
                    protocol,
                    api,
                    method,
                    str(p),
                    aid,
                    where,
                    auth,
                    "openapi",
                    is_private(t, api) if not http else False,
                )


def _schemes_path(body: Mapping[str, Any]) -> tuple[str, ...]:
    if isinstance(body.get("securityDefinitions"), Mapping):
        return ("securityDefinitions",)
    return ("components", "securitySchemes")


# -- all routes ---------------------------------------------------------------------------------


def routes(repo: RepoIndex, t: Template) -> list[Route]:
    """Every route of the template's APIs, with its authorization."""
    key = f"routes:{t.file}"
    cached: list[Route] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: list[Route] = [*rest_methods(repo, t), *v2_routes(repo, t)]
    events = list(sam_event_routes(repo, t))
    out.extend(events)
    seen = {(r.api.logical_id, r.method, r.path) for r in events if r.api is not None}
    out.extend(openapi_routes(repo, t, seen))
    out.extend(_missing_connect(t, out))
    repo.cache[key] = out
    return out


def _missing_connect(t: Template, found: list[Route]) -> Iterator[Route]:
    by_api: dict[str, list[Route]] = {}
    for r in found:
        if r.protocol == "WEBSOCKET" and r.api is not None:
            by_api.setdefault(r.api.logical_id, []).append(r)
    for aid, rs in sorted(by_api.items()):
        if any(r.method == "$connect" for r in rs):
            continue
        api = t.get(aid)
        if api is None:
            continue
        yield Route(
            "WEBSOCKET",
            api,
            "$connect",
            "",
            aid,
            (),
            Auth(
                NONE,
                aid,
                (),
                (aid, ()),
                False,
                Confidence.MEDIUM,
            ),
            "missing-connect",
        )
