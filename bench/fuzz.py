"""Fuzz the whole scan of one file: generated inputs, one process, crashes counted.

    .venv/bin/python bench/fuzz.py                      # 100,000 inputs, fixed seed
    .venv/bin/python bench/fuzz.py --count 5000 --seed 7 --render-every 10
    .venv/bin/python bench/fuzz.py --json bench/out/fuzz.json --keep-crashes bench/out/crashes

Each input is one file written into a temporary folder (a template.yaml / template.json, a
go.mod, a package.json, or a samconfig.toml next to a small template) and reviewed with
``reviewer.runner.engine.scan`` — discovery, reading (size, binary, encodings), decoding, the SAM
model, every check, locating, scoring — in this one process, the folder reused from input to
input. Inputs come from a fixed seed, so a run is repeatable:

- **mutated**: a template from fixtures/templates with 1-4 mutations: bytes flipped, inserted or
  deleted; lines deleted, duplicated, swapped or re-indented; YAML syntax planted (anchors,
  aliases, merge keys, tags including ``!!python/object/apply``, flow brackets, block scalars,
  directives, documents); a value replaced by a random intrinsic tree; truncation; re-encoding
  (UTF-16 with a BOM, a UTF-8 BOM, Latin-1, CRLF, NUL bytes);
- **structured**: resources taken from the fixtures with their property values replaced by
  random intrinsic trees (Ref, GetAtt, Sub, Join, If, Select, FindInMap, ImportValue, Split,
  ... well-formed and malformed) and values of the wrong type, serialised as YAML or JSON, SAM
  or plain, with random Parameters, Conditions, Mappings, Outputs and Globals;
- **nesting**: deep lists, mappings and JSON strings (policy documents) up to 20,000 levels,
  and alias DAGs around the expansion cap;
- **gomod**, **package_json**, **samconfig**: fixture manifests mutated, and generated ones
  with random directives, dependency specs and parameter overrides.

A *crash* is an exception escaping ``scan`` (or a renderer, with ``--render-every``): 0 are
expected. AR-MOD-005 findings (a check that raised, contained by the engine) are counted
apart, by check. Every ``--repeat-every``-th input is scanned twice and the findings compared
(the same input must give the same output). The report gives the number of inputs, crashes,
contained check crashes, inputs per second and the slowest inputs.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import string
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from reviewer.core.types import Report  # noqa: E402
from reviewer.decode.load import decode  # noqa: E402
from reviewer.outputs import FORMATS, RenderOptions, renderer  # noqa: E402
from reviewer.runner.engine import ScanOptions, scan  # noqa: E402

FIXTURES = REPO / "fixtures"
DEFAULT_COUNT = 100_000
DEFAULT_SEED = 20261125
MAX_SEED_BYTES = 20_000

Input = tuple[str, bytes, dict[str, bytes]]  # (kind, main file bytes, other files by name)

# -- seeds ------------------------------------------------------------------------------------


def _plain(node: Any) -> Any:
    """A decoded tree as plain dicts, lists and scalars (for yaml.safe_dump / json.dumps)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, (bool, int, float)) or node is None:
        return node
    return str(node)


class Seeds:
    def __init__(self) -> None:
        self.templates: list[bytes] = []
        self.gomods: list[bytes] = []
        self.packages: list[bytes] = []
        self.samconfigs: list[bytes] = []
        self.resources: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for path in sorted(FIXTURES.rglob("*")):
            if not path.is_file() or path.stat().st_size > MAX_SEED_BYTES:
                continue
            data = path.read_bytes()
            if path.name == "go.mod":
                self.gomods.append(data)
            elif path.name == "package.json":
                self.packages.append(data)
            elif path.name == "samconfig.toml":
                self.samconfigs.append(data)
            elif path.suffix in (".yaml", ".yml", ".json") and b"Resources" in data:
                self.templates.append(data)
                self._harvest(data, path.suffix == ".json")
        self.types = sorted(self.resources)

    def _harvest(self, data: bytes, is_json: bool) -> None:
        try:
            tree, problems = decode(data.decode("utf-8"), json_first=is_json)
        except Exception:  # a fixture that does not decode is no seed
            return
        if problems or not isinstance(tree, dict):
            return
        resources = tree.get("Resources")
        if not isinstance(resources, dict):
            return
        for node in resources.values():
            if isinstance(node, dict) and isinstance(node.get("Type"), str):
                self.resources[str(node["Type"])].append(_plain(node))


# -- random values ----------------------------------------------------------------------------

PSEUDO = ["AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::NoValue", "AWS::Partition"]
ATTRS = ["Arn", "QueueName", "Outputs.Url", "Endpoint.Address", "Stage", "RootResourceId", ""]
WEIRD_STRINGS = [
    "",
    " ",
    "*",
    "${}",
    "${!Literal}",
    "${AWS::Region}",
    "${Missing.Arn}",
    "${",
    "}}",
    "arn:aws:sqs:*:*:*",
    "0",
    "-1",
    "1e309",
    "NaN",
    "true",
    "False",
    "null",
    "~",
    "'",
    '"',
    "\\",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "😀",
    "@org/team",
    "<script>alert(1)</script>",
    "| a | b |",
    "```",
    "javascript:alert(1)",
    "a\nb",
    "x" * 300,
    "{{resolve:secretsmanager:s}}",
]
SCALARS: list[Any] = [0, 1, -1, 2**63, 3.5, float("inf"), True, False, None, [], {}]


class Gen:
    def __init__(self, rng: random.Random, seeds: Seeds) -> None:
        self.rng = rng
        self.seeds = seeds
        self.names = ["Queue", "Fn", "Api", "Table", "Role", "Bucket", "Topic"]
        self.rate = 0.08  # share of values confuse() replaces

    def text(self) -> str:
        r = self.rng
        if r.random() < 0.5:
            return r.choice(WEIRD_STRINGS)
        return "".join(
            r.choice(string.ascii_letters + "${}.:*-_/ ") for _ in range(r.randint(0, 24))
        )

    def scalar(self) -> Any:
        r = self.rng
        pick = r.random()
        if pick < 0.45:
            return self.text()
        if pick < 0.7:
            return r.choice(self.names + PSEUDO)
        if pick < 0.85:
            return r.randint(-5, 100_000)
        return r.choice(SCALARS)

    def name(self) -> Any:
        r = self.rng
        return r.choice(self.names) if r.random() < 0.8 else self.scalar()

    def intrinsic(self, depth: int) -> Any:
        """A random value: a scalar, a list, a mapping or an intrinsic function (often
        malformed: wrong arity, wrong argument types)."""
        r = self.rng
        if depth <= 0 or r.random() < 0.25:
            return self.scalar()
        kind = r.randrange(18)
        d = depth - 1
        if kind == 0:
            return {"Ref": self.name()}
        if kind == 1:
            if r.random() < 0.5:
                return {"Fn::GetAtt": f"{self.name()}.{r.choice(ATTRS)}"}
            return {"Fn::GetAtt": [self.name(), r.choice(ATTRS)][: r.randint(0, 3)]}
        if kind == 2:
            sub = "".join(
                r.choice(["${" + str(self.name()) + "}", "${AWS::Region}", "x", "${!y}", "${a.b}"])
                for _ in range(r.randint(0, 4))
            )
            if r.random() < 0.5:
                return {"Fn::Sub": sub}
            return {"Fn::Sub": [sub, {str(self.name()): self.intrinsic(d)}]}
        if kind == 3:
            return {"Fn::Join": [r.choice(["", ",", 1]), [self.intrinsic(d) for _ in range(3)]]}
        if kind == 4:
            return {
                "Fn::If": [self.name(), self.intrinsic(d), self.intrinsic(d)][: r.randint(1, 4)]
            }
        if kind == 5:
            return {"Fn::Select": [self.intrinsic(d), [self.intrinsic(d) for _ in range(2)]]}
        if kind == 6:
            return {"Fn::FindInMap": [self.intrinsic(d) for _ in range(r.randint(0, 4))]}
        if kind == 7:
            return {"Fn::ImportValue": self.intrinsic(d)}
        if kind == 8:
            return {"Fn::Split": [",", self.intrinsic(d)]}
        if kind == 9:
            return {
                r.choice(
                    ["Fn::Base64", "Fn::GetAZs", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString"]
                ): self.intrinsic(d)
            }
        if kind == 10:
            return {
                r.choice(["Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals"]): [
                    self.intrinsic(d) for _ in range(2)
                ]
            }
        if kind == 11:
            return {"Condition": self.name()}
        if kind == 12:
            return [self.intrinsic(d) for _ in range(r.randint(0, 4))]
        if kind == 13:
            return {str(self.scalar()): self.intrinsic(d) for _ in range(r.randint(0, 4))}
        if kind == 14:  # two keys: not an intrinsic although it looks like one
            return {"Ref": self.name(), "Fn::GetAtt": self.intrinsic(d)}
        if kind == 15:  # a policy document, maybe as a JSON string
            doc = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": r.choice(["Allow", "Deny", 1, None]),
                        "Action": self.intrinsic(d),
                        "Resource": self.intrinsic(d),
                        "Principal": r.choice(["*", {"AWS": "*"}, self.intrinsic(d)]),
                    }
                ],
            }
            return json.dumps(doc, default=str) if r.random() < 0.4 else doc
        if kind == 16:
            return {"Fn::Transform": {"Name": "AWS::Include", "Parameters": self.intrinsic(d)}}
        return self.scalar()

    def confuse(self, node: Any, depth: int = 0) -> Any:
        """Replace some values of a real resource by random ones (type confusion)."""
        r = self.rng
        if depth > 12:
            return node
        if r.random() < self.rate:
            return self.intrinsic(3)
        if isinstance(node, dict):
            return {k: self.confuse(v, depth + 1) for k, v in node.items() if r.random() > 0.05}
        if isinstance(node, list):
            return [self.confuse(v, depth + 1) for v in node]
        return node


# -- mutations --------------------------------------------------------------------------------

PLANTS = [
    ":",
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a\n",
    "!Ref ",
    "!GetAtt ",
    "!Sub ",
    "!If ",
    "!!python/object/apply:os.system ['touch /tmp/archreview-fuzz-executed']",
    "!!python/name:os.system",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!!timestamp ",
    "!!float ",
    "!Unknown ",
    "{",
    "}",
    "[",
    "]",
    '"',
    "'",
    "\t",
    "? ",
    "|",
    ">-",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "#",
    "\\u0000",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "\ufeff",
    "\r",
    "\n",
    "Resources:\n",
    "Type: AWS::Serverless::Function\n",
    "Transform: AWS::Serverless-2016-10-31\n",
    "${",
    "Fn::If: [C, a]",
    "DependsOn: ",
    "Condition: ",
]


def _mutate_bytes(rng: random.Random, data: bytearray) -> None:
    if not data:
        data.extend(rng.choice(PLANTS).encode("utf-8"))
        return
    op = rng.randrange(6)
    pos = rng.randrange(len(data))
    if op == 0:
        data[pos] = rng.randrange(256)
    elif op == 1:
        del data[pos : pos + rng.randint(1, 16)]
    elif op == 2:
        data[pos:pos] = rng.choice(PLANTS).encode("utf-8")
    elif op == 3:
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif op == 4:
        del data[pos:]
    else:
        data[pos : pos + 1] = data[pos : pos + 1] * rng.randint(2, 50)


def _mutate_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    if not lines:
        return text
    op = rng.randrange(6)
    i = rng.randrange(len(lines))
    j = rng.randrange(len(lines))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(j, lines[i])
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        lines[i] = " " * rng.choice([1, 2, 3, 4, 8]) + lines[i]
    elif op == 4:
        lines[i] = lines[i].lstrip()
    else:  # an anchor on one line, an alias on another
        if ":" in lines[i] and ":" in lines[j]:
            key_i, _, value_i = lines[i].partition(":")
            key_j, _, _ = lines[j].partition(":")
            lines[i] = f"{key_i}: &x{value_i}"
            lines[j] = f"{key_j}: *x"
    return "\n".join(lines)


def _encode(rng: random.Random, text: str) -> bytes:
    pick = rng.random()
    if pick < 0.70:
        return text.encode("utf-8", "surrogatepass")
    if pick < 0.76:
        return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
    if pick < 0.80:
        return b"\xfe\xff" + text.encode("utf-16-be", "surrogatepass")
    if pick < 0.85:
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if pick < 0.90:
        return text.replace("\n", "\r\n").encode("utf-8", "surrogatepass")
    if pick < 0.95:
        return text.encode("latin-1", "replace") + b"\xe9\xff"
    return text.encode("utf-16-le", "surrogatepass")  # no BOM: NUL bytes, binary


def _dump(rng: random.Random, doc: Any) -> tuple[str, str]:
    """(file name, text) of a document as YAML or JSON."""
    if rng.random() < 0.25:
        return "template.json", json.dumps(doc, indent=rng.choice([None, 2]), default=str)
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=rng.random() < 0.5, width=80)
    except yaml.YAMLError:
        text = json.dumps(doc, default=str)
    if rng.random() < 0.5:  # short forms, the way templates are written
        text = text.replace("Fn::GetAtt:", "!GetAtt").replace("Ref:", "!Ref")
    return "template.yaml", text


# -- inputs -----------------------------------------------------------------------------------


def mutated(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    data = rng.choice(seeds.templates)
    text = data.decode("utf-8", "replace")
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.5:
            text = _mutate_lines(rng, text)
        else:
            raw = bytearray(text.encode("utf-8"))
            _mutate_bytes(rng, raw)
            text = raw.decode("utf-8", "replace")
    name = "template.json" if text.lstrip().startswith("{") else "template.yaml"
    return name, _encode(rng, text), {}


def structured(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    names = [
        f"{rng.choice(['Queue', 'Fn', 'Api', 'Table', 'Role', 'Bucket', 'X'])}{i}"
        for i in range(rng.randint(1, 8))
    ]
    gen.names = [*names, "Cond", "Param", "ServerlessRestApi", "MyApi.Stage"]
    gen.rate = rng.choice([0.02, 0.08, 0.2, 0.5])
    resources: dict[str, Any] = {}
    for name in names:
        rtype = rng.choice(seeds.types)
        node = gen.confuse(rng.choice(seeds.resources[rtype]))
        if rng.random() < 0.1:
            node = gen.intrinsic(3)
        resources[name] = node
    doc: dict[str, Any] = {}
    if rng.random() < 0.6:
        doc["Transform"] = rng.choice(
            ["AWS::Serverless-2016-10-31", ["AWS::Serverless-2016-10-31"], gen.scalar()]
        )
    if rng.random() < 0.8:
        doc["AWSTemplateFormatVersion"] = "2010-09-09"
    if rng.random() < 0.5:
        doc["Parameters"] = {
            "Param": rng.choice(
                [
                    {"Type": "String", "Default": gen.scalar()},
                    {"Type": "AWS::SSM::Parameter::Value<String>"},
                    gen.intrinsic(2),
                ]
            )
        }
    if rng.random() < 0.4:
        doc["Conditions"] = {"Cond": gen.intrinsic(2)}
    if rng.random() < 0.3:
        doc["Mappings"] = {"M": {"K": {"V": gen.intrinsic(2)}}}
    if rng.random() < 0.4:
        doc["Globals"] = rng.choice(
            [
                {"Function": {"Timeout": gen.scalar(), "Environment": gen.intrinsic(2)}},
                {"Api": gen.intrinsic(3)},
                gen.intrinsic(2),
            ]
        )
    doc["Resources"] = resources if rng.random() < 0.95 else gen.intrinsic(2)
    if rng.random() < 0.4:
        doc["Outputs"] = {"O": {"Value": gen.intrinsic(3), "Export": {"Name": gen.intrinsic(2)}}}
    name, text = _dump(rng, doc)
    return (
        name,
        _encode(rng, text) if rng.random() < 0.2 else text.encode("utf-8", "surrogatepass"),
        {},
    )


def nesting(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    depth = rng.choice([10, 100, 500, 900, 990, 1000, 1100, 5000, 10_000, 20_000])
    kind = rng.randrange(6)
    head = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  R:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
    if kind == 0:
        body = "      PolicyDocument: " + "[" * depth + "]" * depth + "\n"
    elif kind == 1:
        body = "      PolicyDocument: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif kind == 2:
        inner = '{"a":' * depth + "1" + "}" * depth
        body = f"      PolicyDocument: '{inner}'\n"
    elif kind == 3:
        body = "".join(" " * (6 + i) + f"k{i}:\n" for i in range(min(depth, 2000)))
    elif kind == 4:
        return (
            "template.json",
            (
                '{"Resources": {"R": {"Type": "AWS::SQS::Queue", "Properties": '
                + "[" * depth
                + "]" * depth
                + "}}}"
            ).encode(),
            {},
        )
    else:  # an alias DAG around the expansion cap
        levels = rng.randint(3, 7)
        fan = rng.choice([4, 8, 9])
        lines = ["Metadata:", '  a: &a ["x","x","x","x","x","x","x","x"]']
        prev = "a"
        for i in range(levels):
            lines.append(f"  l{i}: &l{i} [" + ",".join([f"*{prev}"] * fan) + "]")
            prev = f"l{i}"
        lines.append(
            f"Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies: *{prev}"
        )
        return "template.yaml", ("\n".join(lines) + "\n").encode(), {}
    return "template.yaml", (head + body).encode(), {}


GO_LINES = [
    "module example.com/m",
    "module",
    'module "example.com/q"',
    "go 1.22",
    "go 1.21.0",
    "go 1.2x",
    "toolchain go1.24.6",
    "require github.com/aws/aws-sdk-go-v2 v1.30.0",
    "require github.com/aws/aws-lambda-go v1.47.0 // indirect",
    "require (",
    ")",
    "replace a => ../b",
    "replace a v1.0.0 => b v1.2.0",
    "exclude x v0.0.1",
    "retract [v1.0.0, v1.1.0]",
    "retract v1.2.3 // oops",
    "godebug default=go1.21",
    "tool golang.org/x/tools/cmd/stringer",
    "ignore ./node_modules",
    "// comment",
    "/* block */",
    "\tgithub.com/x/y v2.0.0",
    "\tgithub.com/x/y/v2 v2.0.0+incompatible",
    '"unterminated',
    "`raw`",
    "\ufeff",
]


def gomod(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    if seeds.gomods and rng.random() < 0.5:
        raw = bytearray(rng.choice(seeds.gomods))
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.5:
                _mutate_bytes(rng, raw)
            else:
                raw = bytearray(_mutate_lines(rng, raw.decode("utf-8", "replace")).encode("utf-8"))
        return "go.mod", bytes(raw), {}
    lines = [rng.choice(GO_LINES) for _ in range(rng.randint(0, 12))]
    return "go.mod", _encode(rng, "\n".join(lines) + "\n"), {}


SPECS = [
    "^1.2.3",
    "~1.2",
    ">=1 <2",
    "1.x",
    "*",
    "",
    "latest",
    "next",
    "npm:react@^18",
    "npm:@scope/x",
    "npm:",
    "file:../x",
    "link:../../../etc",
    "../outside",
    "/abs",
    "C:\\x",
    "git+https://github.com/a/b.git#v1",
    "github:a/b",
    "a/b#semver:^1",
    "https://x.invalid/a.tgz",
    "workspace:*",
    "catalog:",
    "1.2.3 - 2.3.4",
    "^0.0.1-beta.1",
    ">=1.2.3-rc.1 <1.2.3",
    "1.2.3beta",
    "01.2.3",
    "||",
    "<1.2",
    "x" * 2000,
    "^" * 300,
    "1." * 200,
    " " * 100 + "1",
    "v1.0.0",
    "=1.0.0",
    ">>1",
]


def package_json(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    if seeds.packages and rng.random() < 0.4:
        raw = bytearray(rng.choice(seeds.packages))
        for _ in range(rng.randint(1, 3)):
            _mutate_bytes(rng, raw)
        return "package.json", bytes(raw), {}
    deps = {
        rng.choice(
            ["react", "aws-sdk", "@aws-sdk/client-s3", "left-pad", "", "@", "a" * 300, gen.text()]
        ): rng.choice(SPECS) if rng.random() < 0.9 else gen.scalar()
        for _ in range(rng.randint(0, 8))
    }
    doc: dict[str, Any] = {
        "name": gen.text(),
        "version": rng.choice(["1.0.0", gen.text()]),
        rng.choice(
            ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]
        ): deps,
        "scripts": {"postinstall": "touch /tmp/archreview-fuzz-executed"},
    }
    if rng.random() < 0.3:
        doc["workspaces"] = rng.choice([["packages/*"], {"packages": ["a/*"]}, gen.scalar()])
    if rng.random() < 0.2:
        doc["engines"] = {"node": rng.choice(SPECS)}
    text = json.dumps(doc, indent=2)
    if rng.random() < 0.2:
        text = (
            text.replace('",\n', '", // comment\n', 1)
            if rng.random() < 0.5
            else text.replace("}", ",}", 1)
        )
    return "package.json", _encode(rng, text), {}


def samconfig(rng: random.Random, seeds: Seeds, gen: Gen) -> Input:
    template = (
        b"AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Timeout: {Type: Number, Default: 3}\n"
        b"  Name: {Type: String}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        b"      QueueName: !Ref Name\n      VisibilityTimeout: !Ref Timeout\n"
    )
    if seeds.samconfigs and rng.random() < 0.3:
        raw = bytearray(rng.choice(seeds.samconfigs))
        _mutate_bytes(rng, raw)
        return "samconfig.toml", bytes(raw), {"template.yaml": template}
    overrides = rng.choice(
        [
            '"Timeout=30 Name=q"',
            "['Timeout=30', 'Name=\"a b\"']",
            '"Timeout=\\"unterminated"',
            "42",
            "{a = 1}",
            "[" * rng.choice([5, 2000]) + "]" * rng.choice([5, 2000]),
        ]
    )
    env = rng.choice(["default", "prod", '"quoted env"'])
    text = f'version = 0.1\n[{env}.deploy.parameters]\nstack_name = "s"\nparameter_overrides = {overrides}\n'
    return (
        "samconfig.toml",
        _encode(rng, text) if rng.random() < 0.2 else text.encode(),
        {"template.yaml": template},
    )


KINDS: list[tuple[str, float, Callable[[random.Random, Seeds, Gen], Input]]] = [
    ("mutated", 0.40, mutated),
    ("structured", 0.32, structured),
    ("nesting", 0.04, nesting),
    ("gomod", 0.09, gomod),
    ("package_json", 0.10, package_json),
    ("samconfig", 0.05, samconfig),
]


# -- running ----------------------------------------------------------------------------------


def _signature(report: Report) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.file, f.line, f.column, f.resource, f.property, f.message, f.severity.value)
        for f in report.findings
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    seeds = Seeds()
    gen = Gen(rng, seeds)
    options = ScanOptions(today=date(2026, 11, 25))
    work = Path(tempfile.mkdtemp(prefix="archreview-fuzz-"))
    keep = Path(args.keep_crashes) if args.keep_crashes else None
    crashes: list[dict[str, Any]] = []
    contained: collections.Counter[str] = collections.Counter()
    contained_examples: dict[str, str] = {}
    nondeterministic: list[int] = []
    by_kind: collections.Counter[str] = collections.Counter()
    outcomes: collections.Counter[str] = collections.Counter()
    findings = 0
    slowest: list[tuple[float, int, str, str]] = []
    names = [k[0] for k in KINDS]
    weights = [k[1] for k in KINDS]
    makers = {k[0]: k[2] for k in KINDS}
    scan(work, options)  # warm imports and caches before the clock starts
    started = time.perf_counter()
    try:
        for i in range(args.count):
            kind = rng.choices(names, weights)[0]
            name, data, others = makers[kind](rng, seeds, gen)
            by_kind[kind] += 1
            for child in work.iterdir():
                child.unlink()
            (work / name).write_bytes(data)
            for other, payload in others.items():
                (work / other).write_bytes(payload)
            t0 = time.perf_counter()
            try:
                report = scan(work, options)
                if args.render_every and i % args.render_every == 0:
                    for fmt in FORMATS:
                        renderer(fmt)(report, RenderOptions(color=fmt == "text"))
                repeat = args.repeat_every and i % args.repeat_every == 0
                if repeat and _signature(scan(work, options)) != _signature(report):
                    nondeterministic.append(i)
            except Exception as err:  # a crash: what this script exists to find
                crashes.append(
                    {
                        "input": i,
                        "kind": kind,
                        "file": name,
                        "error": f"{type(err).__name__}: {err}"[:300],
                        "where": traceback.format_exc().strip().splitlines()[-3:],
                    }
                )
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{i:06d}-{name}").write_bytes(data)
                continue
            elapsed = time.perf_counter() - t0
            slowest.append((elapsed, i, kind, name))
            if len(slowest) > 4 * args.slowest:
                slowest = sorted(slowest, reverse=True)[: args.slowest]
            findings += len(report.findings)
            engine = {f.rule_id for f in report.findings} & {"AR-MOD-003", "AR-MOD-006"}
            outcomes["reviewed" if not engine else "+".join(sorted(engine))] += 1
            for f in report.findings:
                if f.rule_id == "AR-MOD-005":
                    check = (
                        f.message.split(" ", 2)[1] if f.message.startswith("check ") else f.message
                    )
                    contained[check] += 1
                    contained_examples.setdefault(check, f"input {i} ({kind}): {f.message}")
                    if keep is not None:
                        keep.mkdir(parents=True, exist_ok=True)
                        (keep / f"{i:06d}-mod005-{name}").write_bytes(data)
            if args.progress and (i + 1) % args.progress == 0:
                rate = (i + 1) / (time.perf_counter() - started)
                print(f"  {i + 1:,} inputs, {len(crashes)} crashes, {rate:,.0f}/s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wall = time.perf_counter() - started
    return {
        "inputs": args.count,
        "seed": args.seed,
        "crashes": len(crashes),
        "crash_details": crashes[:50],
        "contained_check_crashes": sum(contained.values()),
        "contained_by_check": dict(contained.most_common()),
        "contained_examples": contained_examples,
        "nondeterministic": nondeterministic[:50],
        "by_kind": dict(by_kind),
        "outcomes": dict(outcomes),
        "findings": findings,
        "wall_seconds": round(wall, 1),
        "inputs_per_second": round(args.count / wall, 1) if wall else None,
        "slowest": [
            {"seconds": round(s, 3), "input": i, "kind": k, "file": n}
            for s, i, k, n in sorted(slowest, reverse=True)[: args.slowest]
        ],
        "executed_sentinel": Path("/tmp/archreview-fuzz-executed").exists(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="inputs (default 100,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--render-every",
        type=int,
        default=50,
        help="render every format for every Kth report (0: never)",
    )
    parser.add_argument(
        "--repeat-every",
        type=int,
        default=100,
        help="scan every Kth input twice and compare (0: never)",
    )
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument(
        "--progress", type=int, default=10_000, help="a progress line every N inputs (0: none)"
    )
    parser.add_argument("--keep-crashes", metavar="DIR", help="write crashing inputs here")
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"fuzz: {result['inputs']:,} inputs (seed {result['seed']}), {result['crashes']} crashes, "
        f"{result['contained_check_crashes']} contained check crashes (AR-MOD-005), "
        f"{len(result['nondeterministic'])} nondeterministic, "
        f"{result['inputs_per_second']:,} inputs/s ({result['wall_seconds']} s)"
    )
    print(f"  by kind: {result['by_kind']}")
    print(f"  outcomes: {result['outcomes']}; {result['findings']:,} findings in all")
    for crash in result["crash_details"][:10]:
        print(
            f"  crash: input {crash['input']} ({crash['kind']}, {crash['file']}): {crash['error']}"
        )
    for check, count in list(result["contained_by_check"].items())[:10]:
        print(f"  AR-MOD-005: {check} x{count}: {result['contained_examples'][check][:200]}")
    for slow in result["slowest"][:5]:
        print(f"  slow: {slow['seconds']} s input {slow['input']} ({slow['kind']}, {slow['file']})")
    if result["executed_sentinel"]:
        print("  SOMETHING WAS EXECUTED: /tmp/archreview-fuzz-executed exists")
    return 1 if result["crashes"] or result["executed_sentinel"] else 0


if __name__ == "__main__":
    sys.exit(main())
