"""Property tests over the parsers that read repository content (issue 10, fuzzing).

For each reader: no exception escapes but the documented error type, and the same input gives
the same output. The readers are the template loader (reviewer.decode.load.decode, then the
template model's build), the resolver (resolve / targets / references over generated
intrinsic trees), the go.mod parser, package.json and its range helpers, the profile loader
and the agent-definition reader. Examples are few here to keep the suite fast; bench/fuzz.py
runs 100,000 generated inputs through the whole scan.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.decode.load import ParseProblem, decode
from reviewer.model.build import build
from reviewer.model.manifests import ManifestError
from reviewer.model.manifests.gomod import GoMod, parse_gomod
from reviewer.model.manifests.npm import (
    PackageJson,
    admits,
    major_of_range,
    min_version,
    parse_package_json,
    points_outside,
    ranges_intersect,
    spec_kind,
)
from reviewer.model.resolve import MAX_OUTCOMES, Outcome, RefTo, references, resolve, targets
from reviewer.model.template import Template
from reviewer.profile import Profile
from reviewer.profile.agent import AgentError, profile_from_agent, read_agent_text
from reviewer.profile.document import TOP_KEYS
from reviewer.profile.loader import ProfileError, parse_profile_text

PROPERTY = settings(
    derandomize=True,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- generators -------------------------------------------------------------------------------

NAMES = ["Queue", "Fn", "Api", "Table", "Role", "Param", "Cond", "AWS::Region", "AWS::NoValue"]
WEIRD = [
    "",
    "*",
    "${",
    "${Queue.Arn}",
    "${!x}",
    "${AWS::Region}",
    "a\nb",
    "\x1b[31m",
    "\u202e",
    "@org/team",
    "<script>",
    "|",
    "```",
    "1e309",
    "-0",
]
scalars = st.one_of(
    st.sampled_from(NAMES + WEIRD),
    st.text(max_size=12),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
FUNCTIONS = [
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::Select",
    "Fn::FindInMap",
    "Fn::ImportValue",
    "Fn::Split",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Equals",
    "Fn::Not",
    "Fn::Transform",
]


def _intrinsics(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FUNCTIONS), children, min_size=1, max_size=1),
        st.dictionaries(st.sampled_from(FUNCTIONS + NAMES), children, max_size=3),
        st.builds(
            lambda n, a: {"Fn::GetAtt": f"{n}.{a}"}, st.sampled_from(NAMES), st.text(max_size=6)
        ),
        st.builds(
            lambda c, a, b: {"Fn::If": [c, a, b]}, st.sampled_from(NAMES), children, children
        ),
        st.builds(
            lambda s, v: {"Fn::Sub": [s, v]},
            st.sampled_from(WEIRD),
            st.dictionaries(st.sampled_from(NAMES), children, max_size=2),
        ),
        st.builds(
            lambda d, xs: {"Fn::Join": [d, xs]},
            st.sampled_from(["", ",", 1]),
            st.lists(children, max_size=3),
        ),
        st.builds(lambda i, xs: {"Fn::Select": [i, xs]}, children, st.lists(children, max_size=3)),
    )


trees = st.recursive(scalars, _intrinsics, max_leaves=25)

RESOURCE_TYPES = [
    "AWS::SQS::Queue",
    "AWS::Lambda::Function",
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::IAM::Role",
    "AWS::DynamoDB::Table",
    "AWS::CloudFormation::Stack",
    "AWS::Serverless::Application",
    "",
]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A template-shaped document whose values are random (often malformed) intrinsic trees."""
    resources = {
        name: draw(
            st.one_of(
                st.fixed_dictionaries(
                    {"Type": st.sampled_from(RESOURCE_TYPES)},
                    optional={
                        "Properties": st.dictionaries(
                            st.sampled_from(
                                [
                                    "Timeout",
                                    "Events",
                                    "Policies",
                                    "QueueName",
                                    "Environment",
                                    "CodeUri",
                                ]
                            ),
                            trees,
                            max_size=4,
                        ),
                        "Condition": trees,
                        "DependsOn": trees,
                        "DeletionPolicy": trees,
                    },
                ),
                trees,
            )
        )
        for name in draw(st.lists(st.sampled_from(NAMES[:5]), max_size=4, unique=True))
    }
    doc: dict[str, Any] = {"Resources": resources}
    for section in ("Parameters", "Conditions", "Mappings", "Outputs", "Globals"):
        if draw(st.booleans()):
            doc[section] = draw(st.dictionaries(st.sampled_from(NAMES), trees, max_size=3))
    if draw(st.booleans()):
        doc["Transform"] = draw(
            st.sampled_from(["AWS::Serverless-2016-10-31", ["AWS::Serverless-2016-10-31"], 5])
        )
    return doc


def _dump(doc: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(doc, default=str)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


YAML_BITS = [
    "Resources:",
    "\n",
    "  ",
    "- ",
    ": ",
    "Type: AWS::SQS::Queue",
    "&a ",
    "*a",
    "<<: *a",
    "!Ref x",
    "!GetAtt a.b",
    "!Sub '${x}'",
    "!If [c, a, b]",
    "!!python/object/apply:os.system [id]",
    "!!binary aGk=",
    "!!set {a: null}",
    "{",
    "}",
    "[",
    "]",
    '"',
    "'",
    "\t",
    "? ",
    "|\n",
    "---\n",
    "%YAML 1.1\n",
    "#",
    "\ufeff",
    "\x00",
    "Transform: AWS::Serverless-2016-10-31",
    "Globals:",
    "AWSTemplateFormatVersion: '2010-09-09'",
]
yaml_soup = st.lists(st.sampled_from(YAML_BITS), max_size=40).map("".join)
template_texts = st.one_of(
    st.text(max_size=300),
    yaml_soup,
    st.builds(_dump, documents(), st.booleans()),
)

# -- loader -----------------------------------------------------------------------------------


def _loaded(text: str, json_first: bool) -> tuple[Any, tuple[ParseProblem, ...]]:
    tree, problems = decode(text, json_first=json_first)
    if problems:
        assert tree is None
        assert all(isinstance(p, ParseProblem) and p.line >= 1 and p.column >= 1 for p in problems)
    else:
        assert isinstance(tree, dict)
    return tree, problems


def _model(t: Template) -> list[tuple[str, str, bool, str | None]]:
    return sorted((r.logical_id, r.type, r.implicit, r.condition) for r in t)


@PROPERTY
@given(template_texts, st.booleans())
def test_loader_only_reports_problems_and_is_deterministic(text: str, json_first: bool) -> None:
    tree, problems = _loaded(text, json_first)
    again, problems_again = _loaded(text, json_first)
    assert problems == problems_again
    assert tree == again
    if tree is not None:
        t = build("template.yaml", ".", tree, text)
        assert _model(t) == _model(build("template.yaml", ".", again, text))
        for res in t:
            t.locate(res.logical_id, ("Properties", "Timeout"))


# -- resolver ---------------------------------------------------------------------------------


def _template(doc: dict[str, Any]) -> Template:
    text = _dump(doc, as_json=False)
    tree, problems = decode(text)
    assert not problems, problems
    return build("template.yaml", ".", tree, text)


def _outcomes(t: Template, node: Any) -> tuple[Outcome, ...]:
    outcomes = resolve(t, node)
    assert 1 <= len(outcomes) <= MAX_OUTCOMES
    assert all(isinstance(o, Outcome) for o in outcomes)
    return outcomes


@PROPERTY
@given(documents(), trees)
def test_resolver_never_raises_and_is_deterministic(doc: dict[str, Any], value: Any) -> None:
    doc["Outputs"] = {"Probe": {"Value": value}}
    t = _template(doc)
    nodes = [t.outputs["Probe"]["Value"], *(r.view for r in t)]
    for node in nodes:
        assert repr(_outcomes(t, node)) == repr(_outcomes(t, node))
        found = targets(t, node)
        assert all(isinstance(r, RefTo) for r in found)
        assert found == targets(t, node)
        refs = list(references(t, node))
        assert refs == list(references(t, node))
    edges = t.edges()
    assert all(e.source in t.resources and e.target in t.resources for e in edges)


def _manifest(parse: Any, text: str) -> Any:
    """The parsed manifest, or its error as (message, line, column) with a valid position."""
    try:
        return parse(text)
    except ManifestError as err:
        found = (err.message, err.line, err.column)
    assert found[1] >= 1 and found[2] >= 1 and found[0]
    return found


# -- go.mod -----------------------------------------------------------------------------------

GO_BITS = [
    "module example.com/m\n",
    "go 1.22\n",
    "go 1.21rc1\n",
    "toolchain go1.24.6\n",
    "require (\n",
    ")\n",
    "require a.b/c v1.2.3\n",
    "\tgithub.com/x/y/v2 v2.0.0+incompatible // indirect\n",
    "replace a => ../b\n",
    "replace a v1 => b v1.2\n",
    "retract [v1.0.0, v1.1.0]\n",
    "exclude x v0.0.1\n",
    "godebug a=b\n",
    "tool t\n",
    "ignore ./x\n",
    "// c\n",
    "/* c */\n",
    '"q\\"uoted"',
    "`raw`",
    "(",
    ")",
    "[",
    ",",
    "=>",
    " ",
    "\r\n",
    "\ufeff",
    "\x00",
]


@PROPERTY
@given(
    st.one_of(st.text(max_size=200), st.lists(st.sampled_from(GO_BITS), max_size=30).map("".join))
)
def test_gomod_raises_only_manifest_error_and_is_deterministic(text: str) -> None:
    first = _manifest(parse_gomod, text)
    assert isinstance(first, (GoMod, tuple))
    assert _manifest(parse_gomod, text) == first


# -- package.json and ranges ------------------------------------------------------------------

SPEC_BITS = [
    "^",
    "~",
    ">=",
    "<",
    "=",
    " ",
    "||",
    "-",
    "1",
    "2",
    ".",
    "x",
    "*",
    "0",
    "rc",
    "+b",
    "v",
    "npm:",
    "a@",
    "file:",
    "../",
    "/",
    "#",
    "workspace:",
    ":",
]
specs = st.one_of(
    st.text(max_size=40), st.lists(st.sampled_from(SPEC_BITS), max_size=20).map("".join)
)


@PROPERTY
@given(specs, specs, st.text(max_size=20))
def test_range_helpers_never_raise_and_are_deterministic(a: str, b: str, version: str) -> None:
    results = (
        spec_kind(a),
        admits(a, version),
        admits(a, b),
        min_version(a),
        major_of_range(a),
        ranges_intersect(a, b),
        points_outside(a, "apps/web", ""),
    )
    again = (
        spec_kind(a),
        admits(a, version),
        admits(a, b),
        min_version(a),
        major_of_range(a),
        ranges_intersect(a, b),
        points_outside(a, "apps/web", ""),
    )
    assert results == again


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), specs),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c, max_size=3)
    ),
    max_leaves=15,
)
packages = st.builds(
    lambda deps, extra: json.dumps({"name": "x", "dependencies": deps, **extra}),
    st.one_of(st.dictionaries(st.text(max_size=10), specs, max_size=4), json_values),
    st.dictionaries(
        st.sampled_from(["devDependencies", "workspaces", "private", "scripts"]),
        json_values,
        max_size=3,
    ),
)
JSON_BITS = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"a"',
    '"dependencies"',
    "1",
    "true",
    "null",
    "//",
    "/*",
    "*/",
    " ",
    "\n",
    "NaN",
    "\ufeff",
    "-",
    "e",
    "\\u",
]


@PROPERTY
@given(
    st.one_of(
        packages,
        st.text(max_size=120),
        st.lists(st.sampled_from(JSON_BITS), max_size=30).map("".join),
    )
)
def test_package_json_raises_only_manifest_error_and_is_deterministic(text: str) -> None:
    first = _manifest(parse_package_json, text)
    assert isinstance(first, (PackageJson, tuple))
    assert _manifest(parse_package_json, text) == first


# -- profile and agent ------------------------------------------------------------------------

profile_values = st.recursive(
    st.one_of(
        scalars,
        st.sampled_from(["1", "AR-EVT-001", "high", "2026-01-01", "^18", "go1.22", "TLSv1.2"]),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    *TOP_KEYS,
                    "go",
                    "node",
                    "enabled",
                    "disable",
                    "severity",
                    "retention_days",
                    "classes",
                    "id",
                    "reason",
                    "path",
                    "x",
                ]
            ),
            c,
            max_size=4,
        ),
    ),
    max_leaves=20,
)
profiles = st.builds(
    lambda doc: yaml.safe_dump(doc, sort_keys=False),
    st.dictionaries(st.sampled_from(TOP_KEYS), profile_values, max_size=5),
)


def _profile_or_error(text: str) -> Profile | tuple[str, str, int, int]:
    try:
        return parse_profile_text(text, ".archreview.yml")
    except ProfileError as err:
        return (err.message, err.file, err.line, err.column)


@PROPERTY
@given(st.one_of(profiles, yaml_soup, st.text(max_size=200)))
def test_profile_loader_raises_only_profile_error_and_is_deterministic(text: str) -> None:
    first = _profile_or_error(text)
    if isinstance(first, tuple):
        assert first[1] == ".archreview.yml" and first[2] >= 1 and first[3] >= 1
    assert _profile_or_error(text) == first


def _agent_or_error(text: str) -> Profile | tuple[str, str, int]:
    try:
        reading = read_agent_text(text, "agent.md")
    except AgentError as err:
        return (err.message, err.file, err.line)
    return profile_from_agent(reading)


agent_bodies = st.lists(
    st.sampled_from(
        [
            "# Layer 1 - Network\n",
            "- WAF with rate limiting 2000/5min\n",
            "visibility timeout: 360s\n",
            "Ingestion: 512MB, 5min timeout\n",
            "```yaml\nqueue: orders.fifo\n```\n",
            "retention 14 days\n",
            "KMS customer managed keys; TLS 1.2\n",
            "Ã©ðŸ\u2019¥â”œ\n",  # mojibake
            "no geo restriction\n",
            "\x1b[31m@org/team <script>\n",
        ]
    ),
    max_size=8,
).map("".join)
agents = st.builds(
    lambda front, body: f"---\n{front}---\n{body}",
    st.one_of(
        st.builds(
            lambda d: yaml.safe_dump(d, sort_keys=False),
            st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "description",
                        "chariot_context",
                        "architectural_patterns",
                        "technology_stack",
                        "backend",
                        "layers",
                    ]
                ),
                profile_values,
                max_size=4,
            ),
        ),
        yaml_soup,
    ),
    agent_bodies,
)


@PROPERTY
@given(st.one_of(agents, st.text(max_size=200), st.builds(lambda s: "---\n" + s, yaml_soup)))
def test_agent_reader_raises_only_agent_error_and_is_deterministic(text: str) -> None:
    first = _agent_or_error(text)
    if isinstance(first, tuple):
        assert first[1] == "agent.md" and first[2] >= 1
    assert _agent_or_error(text) == first


# -- values YAML and TOML type on their own (issue 15, item 3) -----------------------------------
# `yaml.safe_dump` quotes a string that would read as a date, a number or a boolean, so the
# generators above never wrote `name: 2030-13-01` (a date YAML cannot build) or `until:
# 2030-01-01T00:00:00Z` (a timestamp where a date is compared). These write such scalars raw,
# wherever a string, a number or a date is expected.

from tests.hostile.content import YAML_TYPED, Raw, to_yaml  # noqa: E402

raw_scalars = st.one_of(
    st.sampled_from(YAML_TYPED).map(Raw),
    st.sampled_from(["2030-01-01", "1e400", "0x1F", "on", "no", "~", "12:30:45"]).map(Raw),
    scalars,
)
typed_values = st.recursive(
    raw_scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    *TOP_KEYS,
                    "go",
                    "node",
                    "version",
                    "packages",
                    "enabled",
                    "disable",
                    "severity",
                    "retention_days",
                    "classes",
                    "memory_mb",
                    "patterns",
                    "id",
                    "path",
                    "reason",
                    "until",
                ]
            ),
            c,
            max_size=4,
        ),
    ),
    max_leaves=20,
)
typed_profiles = st.builds(
    lambda doc: to_yaml(doc),
    st.dictionaries(st.sampled_from(TOP_KEYS), typed_values, min_size=1, max_size=5),
)


@PROPERTY
@given(typed_profiles)
def test_profile_loader_reads_yaml_typed_scalars_or_names_their_line(text: str) -> None:
    first = _profile_or_error(text)
    if isinstance(first, tuple):
        assert first[1] == ".archreview.yml" and first[2] >= 1 and first[3] >= 1
    assert _profile_or_error(text) == first


typed_agents = st.builds(
    lambda doc, body: "---\n" + to_yaml(doc) + "---\n" + body,
    st.dictionaries(
        st.sampled_from(
            ["name", "description", "chariot_context", "architectural_patterns", "technology_stack"]
        ),
        typed_values,
        min_size=1,
        max_size=4,
    ),
    agent_bodies,
)


@PROPERTY
@given(typed_agents)
def test_agent_reader_reads_yaml_typed_scalars_or_names_their_line(text: str) -> None:
    first = _agent_or_error(text)
    if isinstance(first, tuple):
        assert first[1] == "agent.md" and first[2] >= 1
    assert _agent_or_error(text) == first


# -- samconfig.toml, baselines, .gitmodules ------------------------------------------------------

TOML_VALUES = [
    '"x"',
    "'A=1 B=2'",
    '"A=\'unterminated"',
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
    "true",
    "3",
    "inf",
    "nan",
    '["A=1", 2]',
    '["A=1", "B=2"]',
    "{a = 1}",
    "{a = {b = {c = 1}}}",
    "[]",
]
TOML_KEYS = ["default", "prod", "deploy", "global", "parameters", "parameter_overrides", "version"]
toml_lines = st.one_of(
    st.builds(
        lambda path: "[" + ".".join(path) + "]",
        st.lists(st.sampled_from(TOML_KEYS), min_size=1, max_size=4),
    ),
    st.builds(
        lambda key, value: f"{key} = {value}",
        st.lists(st.sampled_from(TOML_KEYS), min_size=1, max_size=3).map(".".join),
        st.sampled_from(TOML_VALUES),
    ),
    st.sampled_from(["[default", "= 1", "a = ", '"""', "\x00", "\ufeff", "# c"]),
)
samconfigs = st.one_of(
    st.lists(toml_lines, max_size=10).map("\n".join),
    st.text(max_size=100),
    st.integers(min_value=1, max_value=3000).map(lambda n: "a = " + "[" * n + "]" * n),
)


@PROPERTY
@given(samconfigs, st.sampled_from([None, "default", "prod", "::error::x"]))
def test_samconfig_reader_returns_values_or_a_problem_and_is_deterministic(
    text: str, env: str | None
) -> None:
    from reviewer.model.samconfig import Overrides, parse_samconfig

    first = parse_samconfig(text, "samconfig.toml", env)
    assert isinstance(first, Overrides)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in first.values.items())
    if first.problem is not None:
        assert first.problem.line >= 1 and first.problem.message
    assert parse_samconfig(text, "samconfig.toml", env) == first


baseline_items = st.one_of(
    st.fixed_dictionaries(
        {"fingerprint": st.one_of(st.text(max_size=8), st.integers(), st.none())},
        optional={
            "rule_id": scalars,
            "file": scalars,
            "resource": scalars,
            "property": scalars,
            "reason": scalars,
            "extra": scalars,
        },
    ),
    json_values,
)
baselines = st.one_of(
    st.builds(
        lambda items, version: json.dumps({"version": version, "findings": items}),
        st.lists(baseline_items, max_size=4),
        st.one_of(st.just(1), scalars),
    ),
    st.builds(json.dumps, json_values),
    st.integers(min_value=1, max_value=100_000).map(
        lambda n: '{"version": 1, "findings": ' + "[" * n + "]" * n + "}"
    ),
    st.lists(st.sampled_from(JSON_BITS), max_size=30).map("".join),
)


@PROPERTY
@given(baselines)
def test_baseline_reader_raises_only_value_error(text: str) -> None:
    import tempfile
    from pathlib import Path

    from reviewer.findings.suppress import read_baseline

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baseline.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            found: Any = read_baseline(path)
        except ValueError as err:
            found = str(err)
            assert "\n" not in found and str(path) in found
        else:
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in found.items())


GITMODULES_BITS = [
    '[submodule "a"]\n',
    '[submodule "a\\"b"]\n',
    "[submodule]\n",
    "[submodule\n",
    "\tpath = mod/a\n",
    "\tpath = ../victim\n",
    "\tpath = /etc\n",
    "\tpath = ..\n",
    "\tpath\n",
    "\turl = ext::sh -c x\n",
    "\turl = https://example.invalid/r.git\n",
    "[include]\n\tpath = ../x\n",
    "; comment\n",
    "# comment\n",
    "\\\n",
    '"',
    "=",
    "\x00",
    "\ufeff",
]


@PROPERTY
@given(
    st.one_of(
        st.lists(st.sampled_from(GITMODULES_BITS), max_size=20).map("".join),
        st.text(max_size=200),
    )
)
def test_gitmodules_parser_never_raises_and_keeps_paths_inside(text: str) -> None:
    from reviewer.discover.inventory import parse_gitmodules

    first = parse_gitmodules(text)
    assert parse_gitmodules(text) == first
    for _name, path, _url, line in first:
        assert line >= 1
        assert not path.startswith("/") and ".." not in path.split("/"), path
