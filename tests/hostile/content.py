"""Hostile content for every kind of file archreview reads, from a `random.Random`.

Each generator takes the random source and a size limit in bytes and returns the bytes of one
file: mostly well-shaped (so the scan reaches the checks behind the parser) with hostile values
planted — values of the wrong type (YAML dates, timestamps, booleans and numbers where a
string is expected, TOML strings where a table is expected), text that would drive a terminal,
a Markdown renderer or a GitHub Actions log, deep nesting, and repetition up to the limit.

Register a new kind with ``@kind(name, places=...)``: ``places`` are the file names (relative to
a module folder) archreview reads it from; the tree generator puts it there, or elsewhere under
a hostile name.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ContentFn = Callable[[random.Random, int], bytes]


@dataclass(frozen=True)
class Kind:
    name: str
    make: ContentFn
    places: tuple[str, ...]


CONTENT: dict[str, Kind] = {}


def kind(name: str, places: tuple[str, ...]) -> Callable[[ContentFn], ContentFn]:
    def register(fn: ContentFn) -> ContentFn:
        CONTENT[name] = Kind(name, fn, places)
        return fn

    return register


# -- hostile values -----------------------------------------------------------------------------

# Text that means something to a terminal, a Markdown or HTML renderer, or the Actions runner.
HOSTILE_TEXT: tuple[str, ...] = (
    "::error file=template.yaml,line=1::injected",
    "::add-mask::visible",
    "::stop-commands::resume",
    "::set-output name=grade::A",
    "##[group]hidden",
    "##[error]injected",
    "x\n::warning::after a newline",
    "x\r::notice::after a carriage return",
    "x\u2028::error::after a line separator",
    "x\x85::error::after a next-line character",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.invalid/\x07link\x1b]8;;\x07",
    "\x1b[2J\x1b[H",
    "\u202eevil\u202c",
    "\u2066isolate\u2069",
    "\u200b",
    "\ufeff",
    "@org/team",
    "#123",
    "<script>alert(1)</script>",
    "</details><img src=x onerror=alert(2)>",
    "| cell | cell |",
    "```",
    "[x](javascript:alert(3))",
    "![x](https://evil.invalid/x.png)",
    "${{ secrets.GITHUB_TOKEN }}",
    "{{ cookiecutter.project }}",
    "$(id)",
    "`id`",
    "%s%n",
    "\x00",
    "\x7f\x1c\x1d\x1e",
    "\\",
    "\"'",
    "é😀",
    "\ud800",
)

# Scalars written raw into YAML: they decode to something other than a string.
YAML_TYPED: tuple[str, ...] = (
    "2030-13-01",
    "2030-01-01",
    "2030-01-01T00:00:00Z",
    "2030-01-01 00:00:00.5+01:00",
    "yes",
    "no",
    "on",
    "off",
    "~",
    "null",
    ".inf",
    "-.nan",
    "0x1F",
    "0o17",
    "1e400",
    "-0",
    "12:30:45",
    "!!binary aGVsbG8=",
    "!!set {a: null}",
    "!!timestamp 2030-13-01",
    "!!int 99999999999999999999999",
    "!!float nan",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: {b: 1}}",
    "''",
)

# Tokens that break the document (rarely: most documents should parse).
YAML_BREAKING: tuple[str, ...] = (
    "!!python/object/apply:os.system ['touch /tmp/archreview-pwned']",
    "*undefined",
    "'unterminated",
    "{a: ",
    "&a [*a]",
    "!Unknown x",
    "\t- tab",
)


@dataclass(frozen=True)
class Raw:
    """A scalar written as it is into YAML (and as a string into JSON)."""

    text: str


@dataclass(frozen=True)
class Tag:
    """A CloudFormation intrinsic: the short form (``!Ref x``) in YAML, the long one in JSON."""

    name: str
    value: Any


def hostile_text(rng: random.Random) -> str:
    text = rng.choice(HOSTILE_TEXT)
    if rng.random() < 0.3:
        text = rng.choice(HOSTILE_TEXT) + text
    return text


def scalar(rng: random.Random) -> Any:
    """A value of any type, often the wrong one."""
    roll = rng.random()
    if roll < 0.3:
        return hostile_text(rng)
    if roll < 0.55:
        return Raw(rng.choice(YAML_TYPED))
    if roll < 0.57:
        return Raw(rng.choice(YAML_BREAKING))
    if roll < 0.67:
        return rng.choice([2**70, -1, 0, 1, 10**6, 2**31, -(2**63), 1.5, 1e308])
    if roll < 0.72:
        return rng.choice([True, False, None])
    if roll < 0.77:
        return "x" * rng.choice([0, 1, 300, 5000])
    if roll < 0.85:
        return [scalar(rng) for _ in range(rng.randint(0, 3))]
    if roll < 0.9:
        return {rng.choice(["a", "Ref", "Fn::If", "Type"]): scalar(rng)}
    return intrinsic(rng)


LOGICAL = ("Queue", "Dlq", "Fn", "Api", "Table", "Role", "Bucket", "Topic", "Stage", "Acl")


def intrinsic(rng: random.Random) -> Any:
    target = rng.choice(LOGICAL)
    return rng.choice(
        [
            Tag("Ref", target),
            Tag("Ref", "AWS::NoValue"),
            Tag("GetAtt", f"{target}.Arn"),
            Tag("GetAtt", [target, "Arn"]),
            Tag("Sub", "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${" + target + "}"),
            Tag("Sub", "${" * 3),
            Tag("If", ["Cond", Tag("Ref", target), Tag("Ref", "AWS::NoValue")]),
            Tag("ImportValue", hostile_text(rng)),
            Tag("Join", ["", [Tag("Ref", target), "x"]]),
            Tag("Select", [rng.choice([0, 99, -1, "x"]), [Tag("Ref", target)]]),
            Tag("FindInMap", ["Map", Tag("Ref", "AWS::Region"), "Key"]),
            Tag("GetAtt", [target]),
            Tag("Ref", hostile_text(rng)),
        ]
    )


def hostile_id(rng: random.Random, base: str, n: int) -> str:
    """A logical id: mostly plain, sometimes one that names nothing printable."""
    if rng.random() < 0.15:
        return base + hostile_text(rng) + str(n)
    return f"{base}{n}"


# -- YAML and JSON emitters ---------------------------------------------------------------------

_PLAIN_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:.")
_YAML_WORDS = frozenset(
    {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~", "", "<<", "="}
)


def _key(key: Any) -> str:
    if isinstance(key, Raw):
        return key.text
    text = str(key)
    if (
        set(text) <= _PLAIN_KEY
        and text.lower() not in _YAML_WORDS
        and not text[:1].isdigit()
        and not text.startswith(("-", ":", "."))
        and not text.endswith(":")
    ):
        return text
    return json.dumps(text)


def _inline(value: Any) -> str | None:
    """A scalar's YAML text, or None for a collection written as a block."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Tag):
        inner = _inline(value.value)
        return None if inner is None else f"!{value.name} {inner}"
    if isinstance(value, (dict, list)) and not value:
        return "{}" if isinstance(value, dict) else "[]"
    return None


def _block(node: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
    for key, value in items:
        head = f"{pad}{_key(key)}:" if isinstance(node, dict) else f"{pad}-"
        text = _inline(value)
        if text is not None:
            out.append(f"{head} {text}")
            continue
        if isinstance(value, Tag):
            out.append(f"{head} !{value.name}")
            value = value.value
        else:
            out.append(head)
        _block(value, indent + 2, out)


def to_yaml(doc: dict[str, Any]) -> str:
    out: list[str] = []
    _block(doc, 0, out)
    return "\n".join(out) + "\n"


def _plain(node: Any) -> Any:
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, Tag):
        name = node.name if node.name == "Ref" else f"Fn::{node.name}"
        return {name: _plain(node.value)}
    if isinstance(node, dict):
        return {str(_plain(k)): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def to_json(doc: Any, rng: random.Random) -> str:
    return json.dumps(_plain(doc), indent=rng.choice([None, 1, 2]), ensure_ascii=rng.random() < 0.5)


def encode(text: str) -> bytes:
    """UTF-8; a lone surrogate becomes bytes that are not UTF-8 (a hostile case too)."""
    return text.encode("utf-8", "surrogatepass")


def _fill(rng: random.Random, limit: int, one: Callable[[int], str], head: str = "") -> str:
    """`head` and then as many `one(n)` as fit in `limit` bytes (at least one)."""
    parts = [head]
    size = len(head)
    n = 0
    while True:
        piece = one(n)
        parts.append(piece)
        size += len(piece)
        n += 1
        if size >= limit or n > 200_000:
            break
    return "".join(parts)


# -- templates ----------------------------------------------------------------------------------


def _statement(rng: random.Random, n: int) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "Effect": rng.choice(["Allow", "Deny", Raw("yes")]),
        "Action": rng.choice(["*", "sqs:*", ["s3:GetObject", "s3:PutObject"], f"svc{n}:Get*"]),
        "Resource": rng.choice(["*", Tag("GetAtt", "Queue.Arn"), f"arn:aws:s3:::b{n}/*"]),
    }
    if rng.random() < 0.2:
        stmt["Sid"] = hostile_text(rng)
    if rng.random() < 0.1:
        stmt["Condition"] = {"StringEquals": {"aws:SourceArn": scalar(rng)}}
    return stmt


def _maybe(rng: random.Random, value: Any, rate: float = 0.15) -> Any:
    return scalar(rng) if rng.random() < rate else value


def _resource(rng: random.Random, n: int, sam: bool) -> dict[str, Any]:
    """One resource of a common type with hostile values here and there."""
    m = _maybe
    choice = rng.randrange(12 if sam else 9)
    if choice == 0:
        props: dict[str, Any] = {
            "VisibilityTimeout": m(rng, rng.choice([30, 120, 900])),
            "MessageRetentionPeriod": m(rng, 1_209_600),
            "RedrivePolicy": m(
                rng, {"deadLetterTargetArn": Tag("GetAtt", "Dlq.Arn"), "maxReceiveCount": 5}
            ),
        }
        if rng.random() < 0.3:
            props["QueueName"] = m(rng, f"q{n}.fifo", 0.5)
            props["FifoQueue"] = m(rng, True)
        return {"Type": "AWS::SQS::Queue", "Properties": props}
    if choice == 1:
        return {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "app.handler",
                "Runtime": m(
                    rng, rng.choice(["python3.12", "nodejs14.x", "go1.x", "provided.al2"])
                ),
                "Timeout": m(rng, rng.choice([3, 30, 900])),
                "MemorySize": m(rng, 128),
                "Role": m(rng, Tag("GetAtt", "Role.Arn")),
                "Code": {"ZipFile": m(rng, "def handler(e, c): pass")},
                "DeadLetterConfig": m(rng, {"TargetArn": Tag("GetAtt", "Dlq.Arn")}),
            },
        }
    if choice == 2:
        return {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": m(rng, "Retain"),
            "Properties": {
                "BillingMode": m(rng, "PAY_PER_REQUEST"),
                "KeySchema": m(rng, [{"AttributeName": "pk", "KeyType": "HASH"}]),
                "AttributeDefinitions": m(rng, [{"AttributeName": "pk", "AttributeType": "S"}]),
                "SSESpecification": m(rng, {"SSEEnabled": True}),
                "PointInTimeRecoverySpecification": m(
                    rng, {"PointInTimeRecoveryEnabled": Raw("no")}
                ),
            },
        }
    if choice == 3:
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": m(rng, {"Statement": [_statement(rng, n)]}),
                "Policies": m(
                    rng,
                    [
                        {
                            "PolicyName": m(rng, f"p{n}"),
                            "PolicyDocument": m(
                                rng,
                                rng.choice(
                                    [
                                        {"Statement": [_statement(rng, n) for _ in range(3)]},
                                        json.dumps({"Statement": [_plain(_statement(rng, n))]}),
                                    ]
                                ),
                            ),
                        }
                    ],
                ),
                "ManagedPolicyArns": m(rng, ["arn:aws:iam::aws:policy/AdministratorAccess"]),
            },
        }
    if choice == 4:
        return {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": m(rng, hostile_text(rng), 0.3),
                "BucketEncryption": m(rng, {"ServerSideEncryptionConfiguration": []}),
                "PublicAccessBlockConfiguration": m(rng, {"BlockPublicAcls": Raw("off")}),
            },
        }
    if choice == 5:
        return {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": m(rng, "sg"),
                "SecurityGroupIngress": m(
                    rng,
                    [
                        {
                            "IpProtocol": m(rng, "tcp"),
                            "FromPort": m(rng, 0),
                            "ToPort": m(rng, 65535),
                            "CidrIp": "0.0.0.0/0",
                        }
                    ],
                ),
            },
        }
    if choice == 6:
        return {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": m(rng, Tag("Ref", "Api")),
                "StageName": m(rng, "prod"),
                "MethodSettings": m(
                    rng, [{"LoggingLevel": "OFF", "ResourcePath": "/*", "HttpMethod": "*"}]
                ),
            },
        }
    if choice == 7:
        return {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                "ResourceArn": m(
                    rng,
                    Tag("Sub", "arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod"),
                ),
                "WebACLArn": m(rng, Tag("GetAtt", "Acl.Arn")),
            },
        }
    if choice == 8:
        return {
            "Type": rng.choice(
                [
                    "AWS::SNS::Topic",
                    "AWS::Events::Rule",
                    "AWS::Logs::LogGroup",
                    "AWS::KMS::Key",
                    "Custom::Thing",
                    scalar(rng),
                ]
            ),
            "Properties": m(rng, {"Name": hostile_text(rng)}, 0.5),
            "Condition": m(rng, "Cond", 0.5) if rng.random() < 0.2 else "Cond",
        }
    if choice == 9:
        events: dict[str, Any] = {
            "FromQueue": {
                "Type": "SQS",
                "Properties": {
                    "Queue": m(rng, Tag("GetAtt", "Queue.Arn")),
                    "BatchSize": m(rng, 10),
                },
            },
            "Http": {
                "Type": "Api",
                "Properties": {
                    "Path": m(rng, "/x"),
                    "Method": m(rng, "get"),
                    "RestApiId": m(rng, Tag("Ref", "Api")),
                },
            },
        }
        return {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": "app.handler",
                "Runtime": m(rng, "python3.12"),
                "CodeUri": m(rng, rng.choice(["src/", "../../victim", "/etc"])),
                "Timeout": m(rng, rng.choice([3, 30, 900])),
                "MemorySize": m(rng, 512),
                "Events": m(rng, events, 0.1),
                "Policies": m(
                    rng,
                    [
                        rng.choice(
                            [
                                "AWSLambdaBasicExecutionRole",
                                {"SQSPollerPolicy": {"QueueName": "q"}},
                                {"Statement": [_statement(rng, n)]},
                            ]
                        )
                    ],
                ),
                "AutoPublishAlias": m(rng, "live", 0.3),
                "DeploymentPreference": m(rng, {"Type": "Canary10Percent5Minutes"}, 0.3),
                "Tags": m(rng, {"archreview:sizing-class": hostile_text(rng)}),
            },
        }
    if choice == 10:
        return {
            "Type": "AWS::Serverless::Api",
            "Properties": {
                "StageName": m(rng, "prod"),
                "DefinitionUri": m(
                    rng,
                    rng.choice(
                        [
                            "api.yaml",
                            "openapi.json",
                            "../../victim/api.yaml",
                            "/dev/zero",
                            "missing.yaml",
                        ]
                    ),
                ),
                # an included definition (issue 17): the same files, links and paths
                "DefinitionBody": m(
                    rng,
                    {
                        "Fn::Transform": {
                            "Name": "AWS::Include",
                            "Parameters": {
                                "Location": rng.choice(
                                    ["./api.yaml", "api/openapi.yaml", "../victim/api.yaml", "api"]
                                )
                            },
                        }
                    },
                    0.3,
                ),
                "Auth": m(
                    rng,
                    {
                        "DefaultAuthorizer": "Cognito",
                        "Authorizers": {"Cognito": {"UserPoolArn": Tag("GetAtt", "Pool.Arn")}},
                    },
                ),
                "TracingEnabled": m(rng, True),
            },
        }
    return {
        "Type": rng.choice(["AWS::CloudFormation::Stack", "AWS::Serverless::Application"]),
        "Properties": {
            "TemplateURL": m(
                rng,
                rng.choice(
                    [
                        "child.yaml",
                        "../../victim/template.yaml",
                        "/etc/passwd",
                        "fifo.yaml",
                        ".",
                        "https://x.invalid/t.yaml",
                    ]
                ),
            ),
            "Location": m(rng, rng.choice(["child.yaml", "../victim.yaml", "/dev/zero"])),
            "Parameters": m(rng, {"Timeout": scalar(rng)}),
        },
    }


def _suppression(rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": _maybe(rng, rng.choice(["AR-EVT-001", "AR-API-001", "ar-iam-001", "AR-XXX-999"])),
        "reason": _maybe(rng, "accepted", 0.3),
        "until": Raw(
            rng.choice(
                ["2030-01-01T00:00:00Z", "2030-13-01", "2030-01-01", "yes", "1e3", "~", "[2030]"]
            )
        ),
    }
    if rng.random() < 0.2:
        entry[rng.choice(["resaon", "unti", "Id"])] = "typo"
    return entry


def template_doc(rng: random.Random, limit: int, *, sam: bool | None = None) -> dict[str, Any]:
    """A template-shaped document of about `limit` bytes."""
    sam = rng.random() < 0.5 if sam is None else sam
    doc: dict[str, Any] = {"AWSTemplateFormatVersion": _maybe(rng, "2010-09-09", 0.05)}
    if sam:
        doc["Transform"] = _maybe(rng, "AWS::Serverless-2016-10-31", 0.05)
    if rng.random() < 0.3:
        doc["Description"] = hostile_text(rng)
    if rng.random() < 0.3:
        doc["Metadata"] = {
            "archreview": {"ignore": [_suppression(rng) for _ in range(rng.randint(1, 3))]}
        }
    if rng.random() < 0.3:
        doc["Parameters"] = {
            "Timeout": {"Type": "Number", "Default": scalar(rng)},
            "Env": {"Type": "String"},
        }
    if rng.random() < 0.2:
        doc["Conditions"] = {"Cond": _maybe(rng, Tag("Equals", [Tag("Ref", "Env"), "prod"]))}
    if sam and rng.random() < 0.4:
        doc["Globals"] = {
            "Function": {
                "Timeout": scalar(rng),
                "Policies": [_statement(rng, i) for i in range(rng.randint(0, 5))],
            }
        }
    pool = [_resource(rng, n, sam) for n in range(rng.randint(1, 12))]
    for res in pool:
        if rng.random() < 0.1:
            res["Metadata"] = {"archreview": {"ignore": [_suppression(rng)]}}
    resources: dict[str, Any] = {}
    size = 200
    n = 0
    while size < limit or not resources:
        res = pool[n % len(pool)]
        base = LOGICAL[n % len(LOGICAL)] if n < len(LOGICAL) else "R"
        resources[hostile_id(rng, base, n) if n < len(pool) else f"{base}{n}"] = res
        size += 120 + len(repr(res)) // 2
        n += 1
        if n > 100_000:
            break
    doc["Resources"] = resources
    if rng.random() < 0.2:
        doc["Outputs"] = {"Out": {"Value": intrinsic(rng), "Export": {"Name": hostile_text(rng)}}}
    return doc


@kind("template-yaml", places=("template.yaml", "template.yml", "infra/stack.yaml", "cfn/app.yml"))
def template_yaml(rng: random.Random, limit: int) -> bytes:
    text = to_yaml(template_doc(rng, limit))
    if rng.random() < 0.1:  # anchors and aliases, a merge key
        text += "X-Anchors:\n  base: &base {Type: AWS::SQS::Queue}\n  again: *base\n  merged:\n    <<: *base\n"
    if rng.random() < 0.05:
        text = "%YAML 1.1\n---\n" + text + "---\n" + to_yaml(template_doc(rng, 500))
    return encode(text)


@kind("template-json", places=("template.json", "stack.template", "cfn/app.json"))
def template_json(rng: random.Random, limit: int) -> bytes:
    doc = template_doc(rng, limit)
    if rng.random() < 0.3:  # one line holding most of the file (rendering case of issue 15)
        doc["Description"] = "D" * max(0, limit - 400)
        doc["Resources"] = dict(list(doc["Resources"].items())[:3])
        return encode(json.dumps(_plain(doc), separators=(",", ":")))
    return encode(to_json(doc, rng))


@kind("template-globals", places=("template.yaml", "sam/template.yaml"))
def template_globals(rng: random.Random, limit: int) -> bytes:
    """SAM Globals with many policy statements merged into many functions (issue 15, item 7)."""
    statements = max(1, limit // 1000)
    functions = max(1, min(200, limit // 600))
    lines = ["Transform: AWS::Serverless-2016-10-31", "Globals:", "  Function:", "    Policies:"]
    lines += [
        f"      - Statement: [{{Effect: Allow, Action: 's{i}:Get*', Resource: '*'}}]"
        for i in range(statements)
    ]
    lines.append("Resources:")
    for i in range(functions):
        lines += [
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties: {Handler: a.b, Runtime: python3.12, CodeUri: src/}",
        ]
    return encode("\n".join(lines) + "\n")


@kind("template-denies", places=("template.yaml", "sam/template.yaml"))
def template_denies(rng: random.Random, limit: int) -> bytes:
    """Allow and Deny statements (NotAction, NotResource, wildcards, unknown prefixes,
    hostile text) in a policy attached to many roles, and managed policy ARNs (issue 17)."""
    count = max(1, min(limit // 400, 2_000))
    roles = max(1, min(60, limit // 2_000))
    shapes = ["Action: 's3:*'", "NotAction: ['s3:Put*', '*']", "Action: 'bedrock-runtime:*'"]
    targets = ["Resource: '*'", "NotResource: 'arn:aws:s3:::b/*'", "Resource: 'arn:*:*:*:*:*'"]
    stmts = [
        f"          - {{Effect: {rng.choice(['Allow', 'Deny'])}, {rng.choice(shapes)}, "
        f"{rng.choice(targets)}}}"
        for _ in range(count)
    ]
    # hostile text without braces: a "{{" would make it a templating source, never reviewed
    text = hostile_text(rng).replace("{", "(").replace("}", ")")
    stmts.append(f"          - {{Effect: Deny, Action: {json.dumps(text)}, Resource: '*'}}")
    lines = ["Resources:"]
    for i in range(roles):
        lines += [
            f"  R{i}:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      AssumeRolePolicyDocument: {Statement: []}",
            "      ManagedPolicyArns: ['arn:aws:iam::aws:policy/IAMFullAccess', "
            f"{json.dumps('arn:aws:iam::aws:policy/' + text)}]",
        ]
    lines += [
        "  Shared:",
        "    Type: AWS::IAM::ManagedPolicy",
        "    Properties:",
        f"      Roles: [{', '.join(f'!Ref R{i}' for i in range(roles))}]",
        "      PolicyDocument:",
        "        Statement:",
        *stmts,
    ]
    return encode("\n".join(lines) + "\n")


@kind("template-deep", places=("template.yaml", "deep.json"))
def template_deep(rng: random.Random, limit: int) -> bytes:
    """Nesting, alias expansion and a policy document as a deeply nested JSON string."""
    depth = max(10, min(limit // 2 - 100, 50_000))
    choice = rng.randrange(4)
    if choice == 0:
        value = "[" * depth + "]" * depth
        text = (
            f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: {value}\n"
        )
    elif choice == 1:
        body = '{"a":' * depth + "1" + "}" * depth
        text = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": ' + body + "}}}"
    elif choice == 2:
        inner = '{"Statement": ' * min(depth, 5000) + "[]" + "}" * min(depth, 5000)
        text = (
            "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n"
            f"        - PolicyName: p\n          PolicyDocument: {json.dumps(inner)}\n"
        )
    else:  # aliases: each level doubles the nodes, up to about the expansion cap
        levels = rng.randint(5, 20)
        lines = [
            "Resources:",
            "  Q:",
            "    Type: AWS::SQS::Queue",
            "    Metadata:",
            '      l0: &l0 ["x", "x"]',
        ]
        lines += [f"      l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, levels)]
        text = "\n".join(lines) + "\n"
    return encode(text)


@kind("openapi", places=("api.yaml", "openapi.json", "api/openapi.yaml"))
def openapi(rng: random.Random, limit: int) -> bytes:
    paths = {
        f"/p{n}/{hostile_text(rng) if n % 7 == 0 else 'x'}": {
            "get": {
                "security": _maybe(rng, [{"Cognito": []}]),
                "x-amazon-apigateway-integration": _maybe(
                    rng, {"type": "aws_proxy", "uri": intrinsic(rng)}
                ),
            }
        }
        for n in range(max(1, limit // 300))
    }
    doc = {"openapi": _maybe(rng, "3.0.1"), "info": {"title": hostile_text(rng)}, "paths": paths}
    return encode(to_yaml(doc) if rng.random() < 0.6 else to_json(doc, rng))


# -- manifests ----------------------------------------------------------------------------------

_GO_BITS = (
    "module example.com/m\n",
    "go 1.22\n",
    "go 1.99999999999999999999\n",
    "toolchain go1.24.6\n",
    "require (\n",
    ")\n",
    "replace example.com/a => ../../victim\n",
    "replace example.com/b v1.0.0 => /etc v0.0.0\n",
    "retract [v1.0.0, v1.1.0]\n",
    "exclude x v0.0.1\n",
    "// comment ::error::x\n",
    "/* block\n",
    "\x00\n",
    "\ufeff",
)


@kind("gomod", places=("go.mod",))
def gomod(rng: random.Random, limit: int) -> bytes:
    head = f"module {rng.choice(['example.com/m', hostile_text(rng), 'a/b/v2'])}\n"
    head += rng.choice(["go 1.22\n", "go 1.16\n", "go\n", "go 1.2147483648\n", ""])
    head += "".join(rng.choice(_GO_BITS) for _ in range(rng.randint(0, 4)))
    head += "require (\n"
    majors = [
        "v1.2.3",
        "v2.0.0+incompatible",
        "v0.0.0-20200101000000-abcdefabcdef",
        "v99999999999.0.0",
        "vX",
    ]

    def one(n: int) -> str:
        path = rng.choice(
            ["github.com/aws/aws-sdk-go", "github.com/gin-gonic/gin", f"example.com/dep{n}"]
        )
        return (
            f"\t{path if n % 9 else hostile_text(rng).replace(chr(10), ' ')} {rng.choice(majors)}\n"
        )

    return encode(_fill(rng, limit, one, head) + ")\n")


@kind("package-json", places=("package.json", "web/package.json", "apps/ui/package.json"))
def package_json(rng: random.Random, limit: int) -> bytes:
    specs = [
        "^18.2.0",
        "~1.2.3",
        ">=1 <2 || 3.x",
        "*",
        "latest",
        "file:../../victim",
        "link:/etc",
        "npm:react@^18",
        "github:o/r#semver:^1",
        "1.2.3 - 2.3.4",
        "workspace:*",
        "x" * 200,
        "<=>=1",
        "^" * 50 + "1",
    ]
    count = max(1, limit // 30)
    deps: Any = {
        f"dep{n}" if n % 13 else hostile_text(rng): rng.choice(specs)
        + (f".{n}" if n % 3 == 0 else "")
        for n in range(count)
    }
    doc: dict[str, Any] = {"name": _maybe(rng, "app", 0.3), "version": _maybe(rng, "1.0.0", 0.2)}
    shape = rng.random()
    if shape < 0.1:
        deps = rng.choice([["react"], "react", 5, None, {"react": {"version": "1"}}])
    doc["dependencies"] = deps
    if rng.random() < 0.3:
        doc["devDependencies"] = _maybe(rng, {"jest": "^29", "typescript": Raw("5")}, 0.5)
    if rng.random() < 0.2:
        doc["workspaces"] = _maybe(rng, ["packages/*", "../../victim", "**"], 0.5)
    if rng.random() < 0.2:
        doc["engines"] = {"node": scalar(rng) if rng.random() < 0.5 else rng.choice(specs)}
    text = to_json(doc, rng)
    if rng.random() < 0.1:  # what JSON does not allow but package.json files hold
        text = text.replace("{", "{ // comment\n", 1).replace("}", ",}", 1)
    if rng.random() < 0.05:
        text = '{"dependencies": {"a": "1"}, "dependencies": {"b": "2"}}'
    return encode(text)


def _toml_value(rng: random.Random) -> str:
    return rng.choice(
        [
            json.dumps(hostile_text(rng)),
            "1979-05-27T07:32:00Z",
            "1979-05-27",
            "07:32:00",
            "true",
            "3",
            "inf",
            "[1, 'a', [2]]",
            "{a = {b = 1}}",
            "'''multi\nline'''",
            '"""\\u0000"""',
        ]
    )


@kind("samconfig", places=("samconfig.toml",))
def samconfig(rng: random.Random, limit: int) -> bytes:
    env = rng.choice(["default", "prod", json.dumps(hostile_text(rng))])
    lines = ["version = " + rng.choice(["0.1", '"x"', "[]", "1979-05-27"])]
    shape = rng.randrange(6)
    if shape == 0:  # a string where a table is expected (issue 15, item 3)
        lines += ["[default]", f"deploy = {_toml_value(rng)}"]
    elif shape == 1:
        lines += [f"{env} = {_toml_value(rng)}"]
    elif shape == 2:
        lines += ["[default.deploy]", f"parameters = {_toml_value(rng)}"]
    elif shape == 3:
        depth = min(5000, max(2, limit // 8))
        lines += [
            "[default.deploy.parameters]",
            "parameter_overrides = " + "{a = " * depth + "1" + "}" * depth,
        ]
    else:
        lines += [
            f"[{env}.deploy.parameters]",
            f"stack_name = {_toml_value(rng) if rng.random() < 0.3 else json.dumps('stack')}",
        ]
        overrides = rng.choice(["string", "list", "typed"])
        if overrides == "typed":
            lines.append(f"parameter_overrides = {_toml_value(rng)}")
        else:

            def one(n: int) -> str:
                value = rng.choice(
                    [
                        "1",
                        "'quoted value'",
                        '"unterminated',
                        "${x}",
                        hostile_text(rng).replace('"', ""),
                    ]
                )
                return f"Param{n}={value} "

            body = _fill(rng, limit - 100, one)
            if overrides == "string":
                lines.append("parameter_overrides = " + json.dumps(body))
            else:
                lines.append("parameter_overrides = " + json.dumps(body.split(" ")))
    if rng.random() < 0.05:
        lines.append("[default")  # not TOML
    return encode("\n".join(lines) + "\n")


@kind("gitmodules", places=(".gitmodules",))
def gitmodules(rng: random.Random, limit: int) -> bytes:
    paths = [
        "mod/a",
        "../victim",
        "..",
        ".",
        "/etc",
        "a\nb",
        "::error::x",
        ".git",
        "mod/" + "m" * 300,
        "",
        "mod/a",
    ]
    urls = [
        "https://example.invalid/r.git",
        "ext::sh -c touch% /tmp/archreview-pwned",
        "../x",
        "file:///etc",
        "-oProxyCommand=id",
    ]

    def one(n: int) -> str:
        name = hostile_text(rng).replace('"', "") if n % 5 == 0 else f"m{n}"
        section = (
            f'[submodule "{name}"]\n\tpath = {rng.choice(paths)}\n\turl = {rng.choice(urls)}\n'
        )
        if rng.random() < 0.1:
            section += "[include]\n\tpath = ../victim/gitconfig\n"
        if rng.random() < 0.1:
            section += "\tpath\n\t= broken\n[submodule\n"
        return section

    return encode(_fill(rng, limit, one))


BACKTRACKING = "*a" * 12 + "*b"  # issue 15, item 2: git and naive matchers backtrack on it


@kind("gitignore", places=(".gitignore", "mod/.gitignore"))
def gitignore(rng: random.Random, limit: int) -> bytes:
    patterns = [
        "*",
        "!*",
        "**/x",
        "!/keep/",
        "\\#not-a-comment",
        "[",
        "[!",
        "[a-",
        "[]]",
        "\\",
        "trailing   ",
        "a/**/b/**/c/**/d",
        "**/**/**/**/**/**/**/*.yaml",
        "*.yaml",
        "!template.yaml",
        "/.archreview-cache",
        "?" * 200,
        "\x00",
        "é/\u202e",
        BACKTRACKING,
        "*" + "?*" * 20 + "b",
        "x" * 5000,
    ]

    def one(n: int) -> str:
        if rng.random() < 0.05:
            return ("*a" * rng.randint(3, 15)) + "*b\n"
        return rng.choice(patterns) + rng.choice(["\n", "\r\n"])

    return encode(_fill(rng, limit, one))


# -- review inputs: profile, agent definitions, baseline ----------------------------------------


def profile_doc(rng: random.Random, limit: int) -> dict[str, Any]:
    m = _maybe
    doc: dict[str, Any] = {
        "version": m(rng, 1, 0.1),
        "name": m(rng, Raw("2030-13-01") if rng.random() < 0.3 else "team", 0.5),
    }
    sections: dict[str, Any] = {
        "stack": {
            "go": {
                "version": m(rng, Raw("1.22")),
                "forbidden_modules": m(rng, ["github.com/gin-gonic/gin"]),
            },
            "node": {"packages": m(rng, {"react": Raw("18")})},
        },
        "layers": {
            "api": {"enabled": m(rng, Raw("on")), "authorizer_kinds": m(rng, ["JWT"])},
            "data": {"tls_minimum": m(rng, Raw("1.2"))},
        },
        "events": {
            "retention_days": m(rng, 14),
            "visibility_timeout_s": m(rng, Raw("1e400")),
            "fifo_queues": m(rng, ["*" + "a*" * 12 + "b"]),
        },
        "sizing": {
            "tag": m(rng, "class"),
            "classes": {
                "api": {
                    "memory_mb": m(rng, 512),
                    "timeout_s": m(rng, 29),
                    "patterns": m(rng, ["[", "*a*a*a*a*a*a*a*a*b"]),
                }
            },
        },
        "dynamodb": {"single_table_limit": m(rng, Raw("no"))},
        "platform": {"canary_releases": m(rng, Raw("yes"))},
        "rules": {"disable": m(rng, ["AR-EVT-001"]), "severity": m(rng, {"AR-API-001": Raw("on")})},
        "exclude": m(rng, ["**/" * 30 + "x", "*a*a*a*a*a*a*a*a*a*a*a*a*b", "../victim", "/"]),
        "suppressions": [
            {
                "path": m(rng, "**"),
                "id": "AR-EVT-001",
                "reason": m(rng, "ok"),
                "until": Raw(rng.choice(["2030-01-01T00:00:00Z", "2030-13-01", "2030-01-01"])),
            }
        ],
        "extends": m(rng, "chariot"),
        "modules": {"mod/*": {"stack": m(rng, "x")}},
    }
    for key in rng.sample(sorted(sections), rng.randint(1, len(sections))):
        doc[key] = sections[key]
    if rng.random() < 0.1:
        doc[hostile_text(rng)] = 1
    if limit > 20_000:  # a big profile: many suppressions
        doc["suppressions"] = [
            {"path": f"p{i}/**", "id": "AR-EVT-001", "reason": "r", "until": Raw("2030-01-01")}
            for i in range(limit // 90)
        ]
    return doc


@kind("profile", places=(".archreview.yml",))
def profile(rng: random.Random, limit: int) -> bytes:
    return encode(to_yaml(profile_doc(rng, limit)))


_AGENT_BODY = (
    "# Layer 1 - Network\n",
    "- WAF with rate limiting 2000/5min\n",
    "visibility timeout: 99999999999999999999s\n",
    "Ingestion: 512MB, 5min timeout\n",
    "```yaml\nqueue: orders.fifo\nbroken: [\n```\n",
    "retention 14 days\n",
    "KMS customer managed keys; TLS 1.2\n",
    "Ã©ðŸ\u2019¥â”œ\n",
    "| class | memory | timeout |\n|---|---|---|\n| api | 1e400MB | -5s |\n",
    "::error::from an agent body\n",
    "\x1b[31m@org/team <script>\n",
)


@kind(
    "agent",
    places=(
        "architect.agent.md",
        "docs/platform.agent.md",
        ".claude/agents/architect.md",
        ".github/agents/architect.md",
    ),
)
def agent(rng: random.Random, limit: int) -> bytes:
    front: dict[str, Any] = {
        "name": _maybe(rng, Raw("2030-13-01") if rng.random() < 0.3 else "architect", 0.4),
        "description": hostile_text(rng),
        "chariot_context": _maybe(
            rng, {"backend": {"go": Raw("1.22")}, "layers": [Raw("on")]}, 0.4
        ),
        "architectural_patterns": _maybe(
            rng, [Raw("2030-01-01T00:00:00Z"), {"event": scalar(rng)}], 0.4
        ),
    }
    head = "---\n" + to_yaml(front) + rng.choice(["---\n", "...\n", ""])

    def one(n: int) -> str:
        return rng.choice(_AGENT_BODY)

    return encode(_fill(rng, limit, one, head))


# -- issue 16: agent definitions found by discovery, module declarations ---------------------

MOJIBAKE = ("Ã©", "ðŸš€", "â”œâ”€â”€", "âœ…", "Ã¼ber", "â€™s", "ðŸ›¡ï¸")  # noqa: RUF001
# where discovery looks for an agent definition, below the root or a module's folder
AGENT_PLACES = (
    ".claude/agents/architect.md",
    ".github/agents/architect.md",
    "architect.agent.md",
    "docs/architecture/platform.agent.md",
)
_SIZING_LINES = (
    "- Asset Ingestion: 512MB, 5min timeout",
    "- Risk Assessment: 99999999999GB, 1e400min timeout",
    "- API Handlers: -5MB, 0s timeout",
    "- Notification Dispatch: 0.000001GB, 0.0001ms timeout",
    "- {label}: 1024MB, 10min timeout",
)
_PIPELINE_LINES = (
    "Primary Queue: {label}.fifo",
    "- Visibility timeout: 99999999999999999999 seconds",
    "- Visibility timeout: 30 seconds",
    "- Message retention: 14 days",
    "- Message retention: 9999999 hours",
    "Layer 1 - Network:",
    "Layer 9 - Nowhere:",
    "- AWS WAF with OWASP Top 10 rules and rate limiting",
    "- CloudFront without geographic restrictions",
    "- Encryption at rest (KMS) and in transit (TLS 1.3)",
    "- at most 99999999999999999999 DynamoDB tables per service",
    "Pattern: Blue-Green with Canary Analysis; multi-region; single-region",
)


def _agent_front(rng: random.Random) -> dict[str, Any]:
    m = _maybe
    label = rng.choice(["chariot", "svc", "x" * 200, hostile_text(rng)])
    context = {
        "technology_stack": m(
            rng,
            {
                "backend": m(
                    rng,
                    {
                        "primary_language": m(rng, rng.choice(["Go 1.24.6", "Go 99.99.99"]), 0.3),
                        "frameworks": m(rng, ["gorilla/mux", "aws-sdk-go-v2", hostile_text(rng)]),
                        "security": m(rng, ["Cognito", "JWT", Raw("2030-13-01")]),
                        "testing": m(rng, ["testify", {"a": Raw("on")}]),
                    },
                ),
                "frontend": m(
                    rng,
                    {
                        "primary_language": m(rng, "TypeScript 5.x", 0.3),
                        "framework": m(rng, rng.choice(["React 18.3.1", "React ^^^", "React"])),
                        "ui_libraries": m(rng, ["@headlessui/react", "not a package!"]),
                        "state_management": m(rng, "@tanstack/react-query"),
                        "testing": m(rng, ["Jest", Raw("yes")]),
                    },
                ),
            },
        ),
    }
    front: dict[str, Any] = {
        # written raw: the mojibake is in the file as such, as in the seed
        "name": m(rng, Raw(rng.choice(["architect", rng.choice(MOJIBAKE) + " architect"])), 0.3),
        "description": hostile_text(rng) + rng.choice(MOJIBAKE),
        "tools": m(rng, "Read, Grep"),
        f"{label}_context": m(rng, context, 0.2),
        "architectural_patterns": m(
            rng,
            {"security_architecture": {"layers": m(rng, ["VPC isolation", Raw("off"), [1, [2]]])}},
            0.2,
        ),
    }
    if rng.random() < 0.2:
        front[hostile_text(rng)] = scalar(rng)
    return front


@kind("agent-definition", places=AGENT_PLACES)
def agent_definition(rng: random.Random, limit: int) -> bytes:
    """An agent definition where discovery finds one: most have a front matter that parses
    with values of the wrong type and a body of fenced YAML that is not YAML (absurd sizes,
    timeouts and counts, mojibake, hostile text); some have no front matter, an unclosed one,
    one that is not a mapping, text that is not UTF-8, or a size over the loader's limit."""
    shape = rng.randrange(12)
    if shape == 0:
        return encode("# Our architects\n\nDocumentation, no front matter.\n" + hostile_text(rng))
    if shape == 1:
        return encode("---\nname: open\nchariot_context:\n  technology_stack: {}\n")
    if shape == 2:
        return encode(
            "---\n" + rng.choice(["- a\n- b", "just text", "[1, 2", "!!binary x"]) + "\n---\n"
        )
    if shape == 3 and limit > 4_000:  # over the 1 MB a declaration may have
        return encode("---\nname: big\n---\n" + "x" * 1_000_100)
    head = (
        "---\n"
        + to_yaml(_agent_front(rng))
        + rng.choice(["---\n", "---\n", "...\n", "\r\n---\r\n"])
    )
    label = rng.choice(["Correlation", hostile_text(rng), "x" * 300])

    def one(n: int) -> str:
        roll = rng.random()
        if roll < 0.15:
            return "```" + rng.choice(["yaml", "yml", "", "YAML extra"]) + "\n"
        if roll < 0.5:
            return "  " * rng.randint(0, 40) + rng.choice(_SIZING_LINES).format(label=label) + "\n"
        if roll < 0.8:
            return rng.choice(_PIPELINE_LINES).format(label=label) + "\n"
        if roll < 0.9:
            return rng.choice(MOJIBAKE) * rng.randint(1, 5) + " " + hostile_text(rng) + "\n"
        return hostile_text(rng) + "\n"

    data = encode(_fill(rng, limit, one, head))
    if shape == 4:  # Windows-1252 bytes: not UTF-8
        data += b"caf\xe9 \x93quoted\x94\n"
    return data


def module_declaration(rng: random.Random, rate: float = 0.15) -> dict[str, Any]:
    """What one `modules:` entry declares: mostly valid, values of the wrong type here and
    there (`rate`), a key a module entry may not set now and then."""

    def m(rng: random.Random, value: Any, share: float = rate) -> Any:
        return _maybe(rng, value, share)

    sections: dict[str, Any] = {
        "extends": m(rng, rng.choice(["chariot", "baseline", "Chariot"]), 0.2),
        "stack": {
            "go": {"version": m(rng, Raw("1.22"))},
            "node": {"packages": m(rng, {"react": "^19"})},
        },
        "layers": {"network": m(rng, False), "data": {"kms_required": m(rng, True)}},
        "sizing": {"classes": m(rng, {"api": {"memory_mb": m(rng, 512), "timeout_s": m(rng, 29)}})},
        "platform": {"canary_releases": m(rng, False)},
        "events": {"retention_days": m(rng, 4)},
    }
    entry = {k: sections[k] for k in rng.sample(sorted(sections), rng.randint(1, len(sections)))}
    if rate and rng.random() < 0.05:
        entry[rng.choice(["persona", "rules", "exclude", "modules"])] = scalar(rng)
    return entry


MODULE_GLOBS = (
    "mod/*",
    "**",
    "apps/**",
    "services/*",
    ".",
    "./services/",
    "*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
    "**/" * 30 + "x",
    "[",
    "\\",
    "mod/[!a-z]*",
)


@kind("profile-modules", places=(".archreview.yml",))
def profile_modules(rng: random.Random, limit: int) -> bytes:
    """A root profile with a `modules:` section: globs that backtrack, name nothing or
    everything, hostile text as a glob; declarations of the wrong type; sometimes the section
    itself of the wrong type. Half are valid, so that the modules' declarations are used."""
    rate = rng.choice([0.0, 0.02, 0.15])
    doc: dict[str, Any] = {"version": 1}
    if rng.random() < 0.5:
        doc["extends"] = _maybe(rng, "chariot", rate)
    count = rng.randint(1, 6) if limit <= 20_000 else limit // 120
    modules: dict[Any, Any] = {}
    for i in range(count):
        glob = rng.choice(MODULE_GLOBS) if rng.random() < 0.8 else hostile_text(rng)
        modules[f"{glob}{i}" if glob in modules else glob] = _maybe(
            rng, module_declaration(rng, rate), rate / 3
        )
    doc["modules"] = _maybe(rng, modules, rate / 3)
    return encode(to_yaml(doc))


@kind("baseline", places=("archreview-baseline.json", ".archreview/baseline.json"))
def baseline(rng: random.Random, limit: int) -> bytes:
    shape = rng.randrange(8)
    if shape == 0:
        depth = min(100_000, max(10, limit // 2))
        return encode('{"version": 1, "findings": ' + "[" * depth + "]" * depth + "}")
    if shape == 1:
        return encode(
            json.dumps(
                rng.choice(
                    [[], "x", None, {"findings": "x"}, {"findings": [1, {"fingerprint": 5}]}]
                )
            )
        )
    if shape == 2:
        return b"\xff\xfe{\x00"

    def item(n: int) -> dict[str, Any]:
        return {
            "fingerprint": _maybe(rng, f"{n:064x}", 0.05),
            "rule_id": "AR-EVT-001",
            "file": hostile_text(rng) if n % 11 == 0 else f"t{n}.yaml",
            "reason": _maybe(rng, "baseline 2026-11-25", 0.1),
        }

    items = [item(n) for n in range(max(1, limit // 160))]
    return encode(json.dumps(_plain({"version": _maybe(rng, 1, 0.1), "findings": items})))


# -- anything else ------------------------------------------------------------------------------


@kind(
    "binary",
    places=("template.yaml", "package.json", "go.mod", "samconfig.toml", ".archreview.yml"),
)
def binary(rng: random.Random, limit: int) -> bytes:
    size = min(limit, 64_000)
    choice = rng.randrange(5)
    if choice == 0:
        return rng.randbytes(size)
    if choice == 1:  # UTF-16 with a byte-order mark, or without one
        text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n" + hostile_text(rng)
        return text.encode("utf-16" if rng.random() < 0.5 else "utf-16-le", "surrogatepass")
    if choice == 2:  # good text, then a NUL past the binary probe
        return b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n" + b"#" * 9000 + b"\x00"
    if choice == 3:
        return b"\x7fELF\x02\x01\x01" + bytes(size)
    return "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n  Caf\xe9: 1\n".encode("latin-1")


# -- custom rules (issue 21) ----------------------------------------------------------------------

_RULE_TYPES = (
    "AWS::SQS::Queue",
    "AWS::Serverless::Function",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
)
_EDGES = ("event-source", "invokes", "redrive", "waf", "alarm-on", "reads", "writes")
_REGEXES = ("(a+)+$", "(a|aa)+b", "^(?i)dlq|dead[-_]?letter", "(x+x+)+y", "(a)\\1", "(?=a)a", "[")


def _rule_condition(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 0 and roll < 0.3:
        key = rng.choice(["all", "any"])
        return {key: [_rule_condition(rng, depth - 1) for _ in range(rng.randint(1, 3))]}
    if depth > 0 and roll < 0.4:
        return {"not": _rule_condition(rng, depth - 1)}
    if roll < 0.7:
        path = rng.choice(
            [
                "VisibilityTimeout",
                "Timeout",
                "Tags.*.Value",
                "RedrivePolicy.deadLetterTargetArn",
                "*",
                hostile_text(rng),
            ]
        )
        test = rng.choice(
            ["exists", "written", "equals", "one_of", "pattern", "regex", "gt", "contains"]
        )
        arg: Any = {
            "exists": True,
            "written": rng.choice([True, False]),
            "equals": scalar(rng),
            "one_of": [scalar(rng) for _ in range(rng.randint(0, 4))],
            "pattern": rng.choice([BACKTRACKING, "*", hostile_text(rng)]),
            "regex": rng.choice(_REGEXES),
            "gt": rng.choice(
                [0, 2**70, -1, 1e308, Raw("nan"), {"profile": "dynamodb.single_table_limit"}]
            ),
            "contains": scalar(rng),
        }[test]
        return {"property": path, test: arg}
    if roll < 0.9:
        edge: dict[str, Any] = {"edge": rng.choice(_EDGES), "direction": rng.choice(["in", "out"])}
        peer = "to" if edge["direction"] == "out" else "from"
        if rng.random() < 0.5:
            edge[peer] = {"module": rng.choice(["same", "other"]), "names": [BACKTRACKING]}
        if rng.random() < 0.3:
            edge["compare"] = {
                "property": "VisibilityTimeout",
                "default": 30,
                "ge": {"peer": "Timeout", "default": 3, "factor": rng.choice([6, 1e308, -1])},
            }
        return edge
    return {
        "count": {
            "types": list(rng.sample(_RULE_TYPES, 2)),
            "scope": rng.choice(["template", "module", "repository"]),
            "before": rng.choice([True, False]),
        },
        rng.choice(["gt", "le", "equals"]): rng.choice([0, 1, 2**70]),
    }


@kind("custom-rule", places=(".archreview/rules/rule.yaml", ".archreview/rules/team.yml"))
def custom_rule(rng: random.Random, limit: int) -> bytes:
    """A repository's own rule: mostly well formed (so that it is evaluated: backtracking
    patterns, edges of every kind, counts, deep conditions, hostile text in what it prints),
    sometimes broken (a wrong type, an unknown key, a deep nesting, a huge file)."""
    doc: dict[str, Any] = {
        "id": rng.choice(["ACME-EVT-001", "ACME-PLT-002", "AR-EVT-001", hostile_text(rng)])
        if rng.random() < 0.1
        else f"ACME-EVT-{rng.randint(1, 999):03d}",
        "title": hostile_text(rng) if rng.random() < 0.5 else "Queue rule",
        "layer": rng.choice(["EVT", {"id": "PLT", "label": hostile_text(rng)}]),
        "severity": rng.choice(["high", "medium", "low", "info", "urgent"])
        if rng.random() < 0.1
        else "medium",
        "confidence": "high",
        "adr": {
            "context": hostile_text(rng),
            "decision": hostile_text(rng),
            "consequences": "x",
            "references": [{"title": hostile_text(rng), "url": "https://example.invalid/"}],
        },
        "select": {
            "types": list(rng.sample(_RULE_TYPES, rng.randint(1, 3))),
            "names": [rng.choice(["*", BACKTRACKING])],
        },
        "require": _rule_condition(rng, rng.randint(0, 14)),
        "message": hostile_text(rng) + " {subject} {detail}",
    }
    if rng.random() < 0.05:
        doc[rng.choice(["requir", hostile_text(rng)])] = 1
    text = to_yaml(doc)
    if limit > 70_000 and rng.random() < 0.5:
        text += "#" + "x" * limit + "\n"  # over the rule file cap
    return encode(text)
