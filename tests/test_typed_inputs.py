"""The typed reader (reviewer.core.typed) and every input read through it: .archreview.yml, agent
front matter, --parameters, samconfig.toml, inline suppressions and baselines (issue 15, item 3;
samconfig parsed once per scan, item 5).

A wrong type in a repository's input is a finding or a one-line error with file:line, never a
traceback; YAML's implicit typing never raises (``2030-13-01`` is a date by its shape only)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.core.typed import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    STR,
    TIMESTAMP,
    InputError,
    Reader,
    TypedError,
    coerce_date,
    compose,
    escape_line,
    json_position,
    parameters_from_text,
    parse_date,
    toml_line,
)
from reviewer.core.types import Persona
from reviewer.decode.load import decode
from reviewer.findings.suppress import inline_entries, read_baseline
from reviewer.model import samconfig
from reviewer.model.build import build
from reviewer.model.samconfig import Overrides, parse_samconfig
from reviewer.profile import Profile
from reviewer.profile.loader import ProfileError, parse_profile_text
from reviewer.runner.engine import ScanOptions, scan

PROPERTY = settings(derandomize=True, deadline=None, max_examples=300, database=None)
TODAY = dt.date(2026, 11, 25)

# -- the composer and the reader ---------------------------------------------------------------


def test_scalars_keep_their_text_and_a_kind_and_never_raise() -> None:
    doc = compose(
        "a: 2030-13-01\nb: on\nc: 1.10\nd: 0x_\ne: ~\nf: 'on'\ng: 2030-01-01T00:00:00Z\n"
        "h: 14\ni: " + "9" * 5000 + "\n",
        "f.yml",
    )
    assert doc is not None
    got = {
        k: (m.kind, m.value if m.kind != STR or len(m.text) < 20 else "long", m.text[:12])
        for k, m in doc.value.items()
    }
    assert got == {
        "a": (TIMESTAMP, "2030-13-01", "2030-13-01"),  # no date is built: month 13 is no error
        "b": (BOOL, True, "on"),
        "c": (FLOAT, 1.1, "1.10"),
        "d": (STR, "0x_", "0x_"),  # resolved as an int by its shape, unreadable as one
        "e": (NULL, None, "~"),
        "f": (STR, "on", "on"),
        "g": (TIMESTAMP, "2030-01-01T00:00:00Z", "2030-01-01T0"),
        "h": (INT, 14, "14"),
        "i": (STR, "long", "999999999999"),  # past Python's int-string limit: text
    }


def test_a_string_field_gets_the_text_as_written() -> None:
    doc = compose("a: 2030-13-01\nb: on\nc: 1.10\nd: 1e3\ne: ''\nf: [x]\ng: null\n", "p.yml")
    assert doc is not None
    r = Reader("p.yml")
    v = doc.value
    assert [r.string(v[k], k) for k in "abcd"] == ["2030-13-01", "on", "1.10", "1e3"]
    for key, found in (("e", "an empty string"), ("f", "a list"), ("g", "null")):
        with pytest.raises(TypedError) as caught:
            r.string(v[key], key)
        err = caught.value
        assert (err.file, err.line, err.column) == ("p.yml", "abcdefg".index(key) + 1, 4)
        assert (err.expected, err.found) == ("a non-empty string", found)
        assert str(err) == f"p.yml:{err.line}:4: {key} must be a non-empty string, not {found}"


def test_typed_errors_name_what_was_found_as_written() -> None:
    doc = compose("n: 2030-13-01\nb: 'yes'\nd: soon\n", "p.yml")
    assert doc is not None
    r = Reader("p.yml")
    with pytest.raises(
        TypedError, match=r"n must be an integer, not an impossible date \('2030-13-01'\)"
    ):
        r.integer(doc.value["n"], "n", 0, 10)
    with pytest.raises(TypedError) as caught:
        r.boolean(doc.value["b"], "b")
    assert caught.value.suggestion == "true" and "not a string ('yes')" in caught.value.message
    with pytest.raises(TypedError, match="d must be a date YYYY-MM-DD, not a string"):
        r.date(doc.value["d"], "d")


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("? [a]\n: b\n", "keys must be strings, not a list", (1, 3)),
        ("2030-13-01: x\n", "keys must be strings, not an impossible date", (1, 1)),
        ("a: !!binary aGk=\n", "could not determine a constructor", (1, 4)),
        ("a: !Ref x\n", "could not determine a constructor for the tag '!Ref'", (1, 4)),
        ("a: *nowhere\n", "found undefined alias", (1, 4)),
    ],
)
def test_compose_refuses_with_a_position(text: str, message: str, where: tuple[int, int]) -> None:
    with pytest.raises(InputError) as caught:
        compose(text, "x.yml")
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == where


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2030-01-01", dt.date(2030, 1, 1)),
        ("2030-01-01T00:00:00Z", dt.date(2030, 1, 1)),
        ("2030-01-01t23:59:59.5-05:00", dt.date(2030, 1, 1)),  # the date as written
        ("2001-12-14 21:59:43.10 -5", dt.date(2001, 12, 14)),
        (" 2030-1-2 ", dt.date(2030, 1, 2)),
        ("2030-13-01", None),
        ("2030-02-30", None),
        ("2030-01-01T25:00:00Z", None),
        ("2030-01-01T00:00:00+99", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_date(text: str, day: dt.date | None) -> None:
    assert parse_date(text) == day


def test_coerce_date_reads_decoded_values() -> None:
    aware = dt.datetime(2030, 1, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert coerce_date(aware) == dt.date(2030, 1, 1)
    assert coerce_date(dt.date(2030, 1, 2)) == dt.date(2030, 1, 2)
    assert coerce_date("2030-01-03T00:00:00Z") == dt.date(2030, 1, 3)
    odd: tuple[Any, ...] = (True, 20300101, 1.5, None, [], {})
    assert [coerce_date(v) for v in odd] == [None] * 6


def test_escape_line_makes_text_inert_and_short() -> None:
    assert escape_line("a\x1b[31m\u202eb\nc\x00") == "a\\x1b[31m\\u202eb\\x0ac\\x00"
    long = escape_line("x" * 1000, 300)
    assert len(long) == 300 and long.endswith("...")


def test_toml_line_finds_headers_and_keys() -> None:
    text = (
        "version = 0.1\n"
        "[default]\n"
        'deploy = "x"\n'
        "[default.global.parameters]\n"
        'stack_name = "a"\n'
        '[ "prod" . deploy . parameters ]\n'
        "parameter_overrides = [1]\n"
    )
    assert toml_line(text, ("default", "deploy")) == 3
    assert toml_line(text, ("default", "deploy", "parameters")) == 3  # its nearest ancestor
    assert toml_line(text, ("default", "global", "parameters", "parameter_overrides")) == 4
    assert toml_line(text, ("prod", "deploy", "parameters", "parameter_overrides")) == 7
    assert toml_line(text, ("missing",)) == 1


def test_json_position_points_at_the_container() -> None:
    text = '{\n  "findings": [\n    {"a": 1},\n    {"b": [2]}\n  ]\n}\n'
    assert json_position(text, ("findings", 1)) == (4, 5)
    assert json_position(text, ("findings", 1, "b")) == (4, 11)
    assert json_position(text, ("findings", 9)) == (2, 15)  # past the end: the list
    assert json_position("not json", ("x",)) == (1, 1)


# -- the profile -------------------------------------------------------------------------------


def test_yaml_typed_values_in_string_fields_are_their_text() -> None:
    profile = parse_profile_text(
        "name: 2030-13-01\n"
        "stack:\n"
        "  go: {version: 1.10}\n"
        "  node: {packages: {react: 18, typescript: 5.0}, forbidden_packages: [on, 2030-01-01]}\n"
        "sizing: {tag: no}\n"
        "exclude: [2030-01-01T00:00:00Z, 1.50]\n",
        ".archreview.yml",
    )
    assert profile.name == "2030-13-01"
    assert profile.go_version == "1.10"  # not 1.1
    assert dict(profile.node_packages) == {"react": "18", "typescript": "5.0"}
    assert profile.node_forbidden == ("on", "2030-01-01")
    assert profile.sizing_tag == "no"
    assert profile.exclude_paths == ("2030-01-01T00:00:00Z", "1.50")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("version: true\n", (1, 10), "unsupported profile version 'true'"),
        ("version: '1'\n", (1, 10), "unsupported profile version '1'"),
        ("events:\n  retention_days: 2030-13-01\n", (2, 19), "an impossible date ('2030-13-01')"),
        ("layers:\n  api:\n    enabled: 'on'\n", (3, 14), "not a string ('on')"),
        (
            "suppressions:\n  - {path: a, id: AR-STK-008, until: 2030-13-01}\n",
            (2, 38),
            "until must be a date YYYY-MM-DD, not an impossible date",
        ),
        (
            "suppressions:\n  - {path: a, id: AR-STK-008, until: [1]}\n",
            (2, 38),
            "until must be a date YYYY-MM-DD, not a list",
        ),
        ("suppressions:\n  - {path: a, id: AR-STK-008, reason: {a: 1}}\n", (2, 39), "a mapping"),
        ("name: !!timestamp 2030-13-01\n", (1, 7), None),  # explicit tag: still text, accepted
    ],
)
def test_profile_type_errors_have_a_position(
    text: str, where: tuple[int, int], message: str | None
) -> None:
    if message is None:
        assert parse_profile_text(text, ".archreview.yml").name == "2030-13-01"
        return
    with pytest.raises(ProfileError) as caught:
        parse_profile_text(text, ".archreview.yml")
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == where


def test_profile_suppression_until_may_be_a_date_a_timestamp_or_a_string() -> None:
    profile = parse_profile_text(
        "suppressions:\n"
        "  - {path: a, id: AR-STK-008, reason: r, until: 2030-01-02}\n"
        "  - {path: b, id: AR-STK-008, reason: r, until: 2030-01-03T10:00:00Z}\n"
        "  - {path: c, id: AR-STK-008, reason: r, until: '2030-01-04'}\n"
        "  - {path: d, id: AR-STK-008, reason: yes, until: ~}\n",
        ".archreview.yml",
    )
    assert [(s.until, s.reason) for s in profile.suppressions] == [
        ("2030-01-02", "r"),
        ("2030-01-03", "r"),
        ("2030-01-04", "r"),
        (None, "yes"),  # the reason as written, not True
    ]


# Every YAML scalar spelling (plain, quoted, tagged, anchored, aliased) and a few collections.
YAML_SCALARS = [
    "2030-13-01",
    "2030-01-01",
    "2030-01-01T00:00:00Z",
    "2001-12-14 21:59:43.10 -5",
    "on",
    "off",
    "yes",
    "no",
    "true",
    "False",
    "~",
    "null",
    "",
    "1.10",
    "1e3",
    ".inf",
    "-.nan",
    "0x_",
    "0x1F",
    "0o17",
    "0b101",
    "1:30",
    "1_000",
    "14",
    "0",
    "-1",
    "9" * 30,
    "9" * 5000,
    "'quoted'",
    "''",
    '"esc\\x1b[31m"',
    '"\\u202e"',
    "!!str 5",
    "!!int 5",
    "!!binary aGk=",
    "!!timestamp 2030-13-01",
    "!custom x",
    "&anchor 1",
    "*undefined",
    "[]",
    "{}",
    "[1, on, 2030-13-01]",
    "{a: 1}",
    "AR-EVT-001",
    "high",
    "TLSv1.2",
    "18.3.1",
    "github.com/x/y",
    "*asset*",
    "COGNITO_USER_POOLS",
]

PROFILE_FIELDS: list[tuple[Any, ...]] = [
    ("version",),
    ("name",),
    ("stack", "go", "version"),
    ("stack", "go", "required_modules"),
    ("stack", "go", "required_modules", 0),
    ("stack", "go", "forbidden_modules", 0),
    ("stack", "node", "packages"),
    ("stack", "node", "packages", "react"),
    ("stack", "node", "forbidden_packages", 0),
    ("stack", "testing", "go", 0),
    ("stack", "testing", "node"),
    ("layers", "network"),
    ("layers", "network", "enabled"),
    ("layers", "network", "geo_restriction"),
    ("layers", "api", "authorizer_kinds", 0),
    ("layers", "api", "waf_managed_rule_groups", 0),
    ("layers", "api", "waf_rate_limit"),
    ("layers", "data", "kms_required"),
    ("layers", "data", "tls_minimum"),
    ("layers", "data", "tls_preferred"),
    ("events", "retention_days"),
    ("events", "visibility_timeout_s"),
    ("events", "fifo_queues", 0),
    ("sizing", "tag"),
    ("sizing", "classes", "api", "memory_mb"),
    ("sizing", "classes", "api", "timeout_s"),
    ("sizing", "classes", "api", "patterns", 0),
    ("dynamodb", "single_table_limit"),
    ("platform", "canary_releases"),
    ("rules", "disable", 0),
    ("rules", "severity", "AR-EVT-001"),
    ("exclude", 0),
    ("suppressions", 0, "path"),
    ("suppressions", 0, "id"),
    ("suppressions", 0, "reason"),
    ("suppressions", 0, "until"),
    ("suppressions", 0, "subject"),
]


class Raw(str):
    """A YAML fragment written as is."""


def _place(tree: dict[Any, Any], path: tuple[Any, ...], raw: str) -> None:
    node: Any = tree
    for step, nxt in zip(path, [*path[1:], None], strict=True):
        if nxt is None:
            if isinstance(node, dict) and step not in node:
                node[step] = Raw(raw)
            elif isinstance(node, list) and not node:
                node.append(Raw(raw))
            return
        fresh: Any = [] if isinstance(nxt, int) else {}
        if isinstance(node, dict):
            node = node.setdefault(step, fresh)
        elif isinstance(node, list):
            if not node:
                node.append(fresh)
            node = node[0]
        if isinstance(node, Raw) or type(node) is not type(fresh):
            return  # another field wrote a scalar or another shape here


def _emit(node: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, value in node.items():
        if isinstance(value, Raw):
            lines.append(f"{pad}{key}: {value}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(_emit(value, indent + 1) or [f"{pad}  {{}}"])
        else:
            lines.append(f"{pad}{key}:")
            for item in value:
                if isinstance(item, Raw):
                    lines.append(f"{pad}  - {item}")
                else:
                    inner = _emit(item, indent + 2)
                    lines.append(f"{pad}  - {inner[0].strip()}" if inner else f"{pad}  - {{}}")
                    lines.extend(inner[1:])
    return lines


# A value each field accepts: mixed with the scalars above, so that a document gets past its
# first field and the later fields are read too.
VALID: dict[tuple[Any, ...], str] = {
    ("version",): "1",
    ("stack", "go", "version"): "1.10",
    ("stack", "go", "required_modules"): "[github.com/x/y]",
    ("stack", "go", "required_modules", 0): "github.com/aws/aws-sdk-go-v2",
    ("stack", "go", "forbidden_modules", 0): "github.com/gin-gonic/gin",
    ("stack", "node", "packages"): "{react: 18}",
    ("stack", "node", "packages", "react"): "^18.2.0",
    ("stack", "testing", "node"): "[jest, 2030-01-01]",
    ("layers", "network"): "false",
    ("layers", "network", "enabled"): "off",
    ("layers", "network", "geo_restriction"): "no",
    ("layers", "api", "authorizer_kinds", 0): "cognito",
    ("layers", "api", "waf_managed_rule_groups", 0): "AWSManagedRulesCommonRuleSet",
    ("layers", "api", "waf_rate_limit"): "on",
    ("layers", "data", "kms_required"): "yes",
    ("layers", "data", "tls_minimum"): "'1.2'",
    ("layers", "data", "tls_preferred"): "TLSv1.3",
    ("events", "retention_days"): "7",
    ("events", "visibility_timeout_s"): "~",
    ("sizing", "classes", "api", "memory_mb"): "512",
    ("sizing", "classes", "api", "timeout_s"): "30",
    ("dynamodb", "single_table_limit"): "2",
    ("platform", "canary_releases"): "false",
    ("rules", "disable", 0): "ar-evt-001",
    ("rules", "severity", "AR-EVT-001"): "LOW",
    ("suppressions", 0, "id"): "AR-EVT-001",
    ("suppressions", 0, "until"): "2030-01-01T00:00:00Z",
}


def _pick(path: tuple[Any, ...], raw: str, valid: bool) -> tuple[tuple[Any, ...], str]:
    return (path, VALID.get(path, "on")) if valid else (path, raw)


profile_documents = st.lists(
    st.builds(
        _pick,
        st.sampled_from(PROFILE_FIELDS),
        st.sampled_from(YAML_SCALARS),
        st.sampled_from([True, True, False]),
    ),
    min_size=1,
    max_size=8,
).map(lambda picks: _document(picks))


def _document(picks: list[tuple[tuple[Any, ...], str]]) -> str:
    tree: dict[Any, Any] = {}
    for path, raw in picks:
        _place(tree, path, raw)
    if "suppressions" in tree and isinstance(tree["suppressions"], list):  # the required keys
        _place(tree, ("suppressions", 0, "path"), "'*'")
        _place(tree, ("suppressions", 0, "id"), "AR-EVT-001")
    if "sizing" in tree and isinstance(tree["sizing"], dict) and "classes" in tree["sizing"]:
        _place(tree, ("sizing", "classes", "api", "memory_mb"), "256")
        _place(tree, ("sizing", "classes", "api", "timeout_s"), "10")
    return "\n".join(_emit(tree)) + "\n"


@PROPERTY
@given(profile_documents)
def test_every_yaml_scalar_in_every_profile_field_is_a_profile_or_a_profile_error(
    text: str,
) -> None:
    result: Profile | ProfileError
    try:
        result = parse_profile_text(text, ".archreview.yml")
    except ProfileError as err:
        result = err
    if isinstance(result, ProfileError):
        assert result.file == ".archreview.yml" and result.line >= 1 and result.column >= 1
        assert "\n" not in str(result) and "\x1b" not in str(result)
    else:
        assert isinstance(result, Profile)


def test_the_generated_profiles_reach_both_outcomes_and_every_field() -> None:
    """The property above is not vacuous: its documents parse into every field."""
    ok = parse_profile_text(
        _document([(path, "x") for path in PROFILE_FIELDS if path[-1] in ("name", "tag")]),
        ".archreview.yml",
    )
    assert (ok.name, ok.sizing_tag) == ("x", "x")
    text = _document(
        [(("suppressions", 0, "id"), "AR-EVT-001"), (("suppressions", 0, "path"), "a")]
    )
    assert text == "suppressions:\n  - id: AR-EVT-001\n    path: a\n"
    assert parse_profile_text(text, ".archreview.yml").suppressions[0].rule_id == "AR-EVT-001"


# -- samconfig.toml ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[default]\ndeploy = "x"\n', 2, "default.deploy must be a table, not a string ('x')"),
        ("default = 5\n", 1, "default must be a table, not an integer (5)"),
        ("[default.deploy]\nparameters = [1]\n", 2, "default.deploy.parameters must be a table"),
        (
            "[default.deploy.parameters]\nstack_name = 'a'\nparameter_overrides = 5\n",
            3,
            "parameter_overrides must be a string or an array",
        ),
        (
            "[default.global.parameters]\nparameter_overrides = ['A=1', {b = 2}]\n",
            2,
            "not a mapping",
        ),
        ("[default\n", 1, "could not be parsed"),
        ("a = 1\nb = = 2\n", 2, "could not be parsed"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", 1, "could not be parsed"),
    ],
)
def test_samconfig_wrong_types_are_problems_with_a_line(text: str, line: int, message: str) -> None:
    found = parse_samconfig(text, "svc/samconfig.toml")
    assert found.values == {} and found.problem is not None
    assert message in found.problem.message and found.problem.line == line
    assert found.problem.message.startswith("svc/samconfig.toml")


def test_samconfig_overrides_deploy_first_then_global_string_or_array() -> None:
    text = (
        "[default.global.parameters]\nparameter_overrides = 'Stage=global'\n"
        "[default.deploy.parameters]\nparameter_overrides = \"Stage=prod Name='a b' Bad\"\n"
        "[prod.deploy.parameters]\nparameter_overrides = ['Stage=p', 'Size=1']\n"
    )
    assert parse_samconfig(text, "s").values == {"Stage": "prod", "Name": "a b"}
    assert parse_samconfig(text, "s", "prod").values == {"Stage": "p", "Size": "1"}
    assert parse_samconfig(text, "s", "staging") == Overrides()


TOML_VALUES = [
    '"x"',
    "'lit'",
    '"""multi\nline"""',
    '"Stage=prod Size=2"',
    '"Stage=\'unclosed"',
    "1",
    "0x1f",
    "1.5",
    "inf",
    "nan",
    "true",
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
    "[]",
    '["A=1", "B=2"]',
    '[1, "a"]',
    "[[1], {a = 1}]",
    "{}",
    "{a = 1}",
    "{parameters = {parameter_overrides = 1}}",
]
TOML_PLACES = [
    "default = {v}\n",
    "[default]\ndeploy = {v}\n",
    "[default]\nglobal = {v}\n",
    "[default.deploy]\nparameters = {v}\n",
    "[default.deploy.parameters]\nparameter_overrides = {v}\n",
    "[default.global.parameters]\nparameter_overrides = {v}\n",
    "[default.deploy.parameters]\nstack_name = {v}\n",
    "[prod]\ndeploy = {v}\n",
    "junk = {v}\n",
    "[[default]]\nx = {v}\n",
]

samconfig_texts = st.lists(
    st.tuples(st.sampled_from(TOML_PLACES), st.sampled_from(TOML_VALUES)),
    min_size=1,
    max_size=3,
    unique_by=lambda pick: pick[0].split("\n")[0],  # one definition of each table
).map(lambda picks: "".join(place.format(v=v) for place, v in picks))


@PROPERTY
@given(samconfig_texts, st.sampled_from([None, "default", "prod"]))
def test_samconfig_is_overrides_or_a_problem_never_an_exception(text: str, env: str | None) -> None:
    found = parse_samconfig(text, "samconfig.toml", env)
    assert isinstance(found, Overrides)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in found.values.items())
    if found.problem is not None:
        assert found.values == {} and found.problem.line >= 1
        assert "\n" not in found.problem.message


# A queue whose visibility timeout is a parameter, consumed by a 60 s function: AR-EVT-003 fires
# when the parameter's value is below 360 s, and says the value came from the parameter values.
TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Vis: {Type: Number}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Vis
      KmsMasterKeyId: alias/q
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Runtime: provided.al2023
      CodeUri: .
      Timeout: 60
      Events:
        Q:
          Type: SQS
          Properties: {Queue: !GetAtt Q.Arn}
"""


def _templates(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"svc{i:03d}"
        folder.mkdir(parents=True)
        (folder / "template.yaml").write_text(TEMPLATE, encoding="utf-8")


def _short_visibility(report: Any) -> list[str]:
    return sorted(
        f.file
        for f in report.findings
        if f.rule_id == "AR-EVT-003" and "from the parameter values" in f.message
    )


@pytest.mark.parametrize(("cached", "jobs"), [(False, 1), (True, 1), (True, 2)])
def test_a_samconfig_shared_by_100_templates_is_parsed_once(
    tmp_path: Path, cached: bool, jobs: int
) -> None:
    """Item 5 of issue 15: one parse per scan, not one per template: the cache keys, the
    engine and the cache's bookkeeping after the report share one reader. With jobs=2 a forked
    worker that loads templates before the parent reads the file parses it at most once itself
    (the counter here sees this process only)."""
    root = tmp_path / "repo"
    _templates(root, 100)
    (root / "samconfig.toml").write_text(
        "[default.deploy.parameters]\nparameter_overrides = 'Vis=30'\n", encoding="utf-8"
    )
    before = samconfig.COUNTERS["parses"]
    options = ScanOptions(jobs=jobs, cache_dir=str(tmp_path / "cache") if cached else None)
    report = scan(root, options)
    assert samconfig.COUNTERS["parses"] - before == 1
    # and every one of the 100 templates got its value from it
    assert _short_visibility(report) == [f"svc{i:03d}/template.yaml" for i in range(100)]


def test_each_template_takes_its_folders_samconfig_else_the_roots(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _templates(root, 3)
    (root / "svc000" / "samconfig.toml").write_text(
        "[default.deploy.parameters]\nparameter_overrides = 'Vis=30'\n", encoding="utf-8"
    )
    (root / "samconfig.toml").write_text(
        "[default.deploy.parameters]\nparameter_overrides = 'Vis=900'\n"
        "[prod.deploy.parameters]\nparameter_overrides = ['Vis=20']\n",
        encoding="utf-8",
    )
    assert _short_visibility(scan(root, ScanOptions())) == ["svc000/template.yaml"]
    assert _short_visibility(scan(root, ScanOptions(sam_env="prod"))) == [
        "svc001/template.yaml",  # svc000's own samconfig has no prod environment
        "svc002/template.yaml",
    ]


def test_a_samconfig_of_the_wrong_shape_is_one_finding_at_its_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _templates(root, 3)
    (root / "samconfig.toml").write_text('version = 0.1\n[default]\ndeploy = "x"\n')
    report = scan(root, ScanOptions())
    found = [f for f in report.findings if f.file == "samconfig.toml"]
    assert [(f.rule_id, f.line) for f in found] == [("AR-MOD-003", 3)]
    assert "default.deploy must be a table, not a string ('x')" in found[0].message
    assert _short_visibility(report) == []  # no values from it; the templates are still reviewed
    assert report.files.templates == 3
    assert {f.file for f in report.findings if f.file.endswith("template.yaml")} == {
        f"svc{i:03d}/template.yaml" for i in range(3)
    }


# -- inline suppressions -----------------------------------------------------------------------


def _inline(entry: dict[str, str]) -> str:
    body = "\n".join(
        f"{'- ' if i == 0 else '  '}{key}: {raw}" for i, (key, raw) in enumerate(entry.items())
    )
    indented = "\n".join(f"          {line}" for line in body.splitlines())
    return (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Metadata:\n"
        "      archreview:\n"
        "        ignore:\n"
        f"{indented}\n"
        "    Properties:\n"
        "      KmsMasterKeyId: alias/q\n"
    )


def _entries(text: str) -> tuple[list[Any], list[Any]]:
    tree, problems = decode(text)
    assert not problems and isinstance(tree, dict), problems
    return inline_entries(build("t.yaml", ".", tree, text), TODAY)


@pytest.mark.parametrize(
    ("until", "kept"),
    [
        ("2030-01-01T00:00:00Z", "2030-01-01"),
        ("2030-01-01", "2030-01-01"),
        ("'2030-01-01'", "2030-01-01"),
        ("'2030-01-01T10:00:00+05:00'", "2030-01-01"),
        ("2026-11-25T23:59:59-12:00", "2026-11-25"),  # today, as written: still valid
    ],
)
def test_inline_until_may_be_a_date_a_timestamp_or_a_string(until: str, kept: str) -> None:
    entries, problems = _entries(_inline({"id": "AR-EVT-001", "reason": "r", "until": until}))
    assert problems == [] and [e.until for e in entries] == [kept]


@pytest.mark.parametrize(
    ("entry", "message", "key"),
    [
        ({"until": "[2030-01-01]"}, "`until` must be a date YYYY-MM-DD, not a list", "until"),
        ({"until": "on"}, "`until` must be a date YYYY-MM-DD, not a boolean (true)", "until"),
        ({"until": "20300101"}, "not an integer (20300101)", "until"),
        ({"until": "soon"}, "not a string ('soon')", "until"),
        ({"until": "2025-01-31T00:00:00Z"}, "expired on 2025-01-31", "until"),
        ({"reason": "{a: 1}"}, "`reason` must be a string, not a mapping", "reason"),
        ({"reason": "yes"}, "`reason` must be a string, not a boolean (true)", "reason"),
        ({"reason": "~"}, "has no reason", None),
    ],
)
def test_inline_wrong_types_are_mod_004_at_their_key(
    entry: dict[str, str], message: str, key: str | None
) -> None:
    entries, problems = _entries(_inline({"id": "AR-EVT-001", "reason": "r", **entry}))
    assert entries == [] and len(problems) == 1
    assert message in problems[0].message
    assert problems[0].path[-1] == (key if key is not None else 0)


INLINE_KEYS = ["id", "reason", "until", "subject", "reasn"]


@PROPERTY
@given(
    st.dictionaries(
        st.sampled_from(INLINE_KEYS),
        st.sampled_from(
            [s for s in YAML_SCALARS if not s.startswith(("!", "*", "&"))]
            + ["AR-EVT-001", "'ok'", "2026-11-24T23:00:00-05:00"]
        ),
        min_size=1,
        max_size=4,
    )
)
def test_inline_suppressions_are_entries_or_problems_never_an_exception(
    entry: dict[str, str],
) -> None:
    text = _inline(entry)
    tree, problems = decode(text)
    if problems or not isinstance(tree, dict):
        return  # not a template: AR-MOD-003, tested elsewhere
    entries, found = inline_entries(build("t.yaml", ".", tree, text), TODAY)
    assert len(entries) + len(found) == 1
    for e in entries:
        assert e.until is None or dt.date.fromisoformat(e.until) >= TODAY
    for p in found:
        assert p.message and "\n" not in p.message


def test_a_timestamp_until_in_a_template_scans_cleanly(tmp_path: Path) -> None:
    """The crash of issue 15: a datetime compared with a date."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        _inline({"id": "AR-EVT-001", "reason": "r", "until": "2030-01-01T00:00:00Z"})
    )
    report = scan(root, ScanOptions(strict=True, persona=Persona.AUDITOR))
    evt = [f for f in report.findings if f.rule_id == "AR-EVT-001"]
    assert evt and all(f.suppressed is not None for f in evt)
    assert evt[0].suppressed is not None and evt[0].suppressed.until == "2030-01-01"


# -- baselines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({"findings": 5}, (1, 1), "found an integer (5)"),
        ([], (1, 1), "found a list"),
        ({"findings": [{"fingerprint": "a"}, 7]}, (1, 14), "findings[1] must be a mapping"),
        ({"findings": [{"rule_id": "x"}]}, (1, 15), "findings[0] has no fingerprint"),
        ({"findings": [{"fingerprint": 5}]}, (1, 15), "findings[0].fingerprint must be a string"),
        ({"findings": [{"fingerprint": "a", "reason": ["x"]}]}, (1, 15), "reason must be a string"),
        ({"findings": [{"fingerprint": "a", "x": 1}]}, (1, 15), "unknown key 'x'"),
    ],
)
def test_baseline_type_errors_name_file_line_and_column(
    tmp_path: Path, data: Any, where: tuple[int, int], message: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"^baseline ") as caught:
        read_baseline(path)
    text = str(caught.value)
    assert text.startswith(f"baseline {path}:{where[0]}:{where[1]}: ") and message in text


def test_baseline_positions_on_an_indented_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    items = [{"fingerprint": "a"}, {"fingerprint": "b"}, {"fingerprint": "c", "file": 3}]
    path.write_text(json.dumps({"version": 1, "findings": items}, indent=2))
    with pytest.raises(ValueError, match=r":10:5: findings\[2\]\.file must be a string"):
        read_baseline(path)


def test_a_deeply_nested_baseline_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deep"):
        read_baseline(path)


# -- --parameters ------------------------------------------------------------------------------


def test_parameter_values_are_read_typed() -> None:
    assert parameters_from_text(
        "Stage: 2030-13-01\nFlag: on\nVer: 1.10\nNone_: ~\nList: [a, 2030-01-01]\n", "p.yml"
    ) == {
        "Stage": "2030-13-01",
        "Flag": True,
        "Ver": 1.1,
        "None_": None,
        "List": ["a", "2030-01-01"],
    }
    assert parameters_from_text('{"Parameters": {"A": "x", "B": 3}}', "p.json") == {
        "A": "x",
        "B": 3,
    }
    assert parameters_from_text(
        '[{"ParameterKey": "A", "ParameterValue": "2030-13-01"}, {"ParameterKey": "B"}]', "p.json"
    ) == {"A": "2030-13-01", "B": None}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("A: {x: 1}\n", (1, 4), "A must be a string, a number, a boolean or a list, not a mapping"),
        ("- 5\n", (1, 3), "an entry of the parameter list must be a mapping, not an integer (5)"),
        ("- {ParameterValue: x}\n", (1, 3), "needs ParameterKey"),
        ("- {ParameterKey: [a]}\n", (1, 18), "ParameterKey must be a non-empty string, not a list"),
        ("Parameters: 5\n", (1, 13), "Parameters must be a mapping, not an integer (5)"),
        ("5\n", (1, 1), "the parameters file must be a mapping"),
        ("", (1, 1), "the file is empty"),
        ("A: 2030-13-01\nA: 1\n", (2, 1), "duplicate key 'A'"),
    ],
)
def test_parameter_file_errors_have_a_position(
    text: str, where: tuple[int, int], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        parameters_from_text(text, "p.yml")
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == where


# -- the command line: each crash of issue 15, end to end --------------------------------------


def _archreview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "ARCHREVIEW_TODAY": "2026-11-25", **(env or {})}
    full.pop("ARCHREVIEW_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        capture_output=True,
        text=True,
        timeout=120,  # a hang is a failure
        env=full,
        check=False,
    )


def _plain_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties: {KmsMasterKeyId: alias/q}\n"
    )
    return root


def test_cli_a_yaml_date_in_a_profile_string_field_is_its_text(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "repo")
    (root / ".archreview.yml").write_text("name: 2030-13-01\nsizing: {tag: on}\n")
    done = _archreview("scan", str(root), "--no-cache", "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    shown = _archreview("profile", "show", str(root))
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert 'name: "2030-13-01"' in shown.stdout and 'tag: "on"' in shown.stdout


def test_cli_a_wrong_type_in_the_profile_exits_2_with_one_line(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "repo")
    (root / ".archreview.yml").write_text("version: 1\nevents:\n  retention_days: 2030-13-01\n")
    done = _archreview("scan", str(root), "--no-cache")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: profile error: {root}/.archreview.yml:3:19: events.retention_days must be an "
        "integer, not an impossible date ('2030-13-01')"
    ]


def test_cli_a_samconfig_with_a_string_for_a_table_is_a_finding(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "repo")
    (root / "samconfig.toml").write_text('[default]\ndeploy = "x"\n')
    (root / "template.yaml").write_text(
        (root / "template.yaml").read_text() + "Parameters:\n  Stage: {Type: String}\n"
    )
    done = _archreview("scan", str(root), "--no-cache", "--format", "json")
    assert done.returncode == 1 and "Traceback" not in done.stderr  # AR-MOD-003 is high
    found = [
        (f["rule_id"], f["file"], f["line"])
        for f in json.loads(done.stdout)["findings"]
        if f["file"] == "samconfig.toml"
    ]
    assert found == [("AR-MOD-003", "samconfig.toml", 2)]


def test_cli_a_timestamp_until_scans(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        _inline({"id": "AR-EVT-001", "reason": "r", "until": "2030-01-01T00:00:00Z"})
    )
    done = _archreview(
        "scan", str(root), "--no-cache", "--format", "json", "--fail-on", "never", "--persona", "auditor"
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr
    (evt,) = [f for f in json.loads(done.stdout)["findings"] if f["rule_id"] == "AR-EVT-001"]
    assert evt["suppressed"]["until"] == "2030-01-01"


def test_cli_a_wrong_until_type_is_mod_004_with_its_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        _inline({"id": "AR-EVT-001", "reason": "r", "until": "[2030-01-01]"})
    )
    # AR-EVT-001 on a queue nothing in the repository reads is pedantic and low
    done = _archreview(
        "scan", str(root), "--no-cache", "--format", "json", "--persona", "pedantic",
        "--fail-on", "low",
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    findings = json.loads(done.stdout)["findings"]
    # the entry with an unusable `until` suppresses nothing: AR-EVT-001 stands
    assert [f["suppressed"] for f in findings if f["rule_id"] == "AR-EVT-001"] == [None]
    mod4 = [f for f in findings if f["rule_id"] == "AR-MOD-004"]
    assert [(f["file"], f["line"]) for f in mod4] == [("template.yaml", 10)]
    assert "`until` must be a date YYYY-MM-DD, not a list" in mod4[0]["message"]


def test_cli_parameters_and_baseline_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "repo")
    params = tmp_path / "params.yml"
    params.write_text("Stage: 2030-13-01\nSize: {a: 1}\n")
    done = _archreview("scan", str(root), "--no-cache", "--parameters", str(params))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: --parameters {params}:2:7: Size must be a string, a number, a boolean or a "
        "list, not a mapping"
    ]
    params.write_text("Stage: 2030-13-01\n")  # a date by its shape: the text is the value
    done = _archreview(
        "scan", str(root), "--no-cache", "--parameters", str(params), "--persona", "pedantic",
        "--fail-on", "low",
    )
    assert done.returncode == 1  # AR-EVT-001 (pedantic, low), as without them
    assert not [  # only where the declared architecture came from (issue 16)
        line for line in done.stderr.splitlines() if not line.startswith("archreview: ")
    ]
    assert "declared architecture: none" in done.stderr
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"findings": [\n  {"fingerprint": 5}\n]}\n')
    done = _archreview("scan", str(root), "--no-cache", "--baseline", str(baseline))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"Error: baseline {baseline}:2:3: findings[0].fingerprint must be a string, "
        "not an integer (5)"
    )


def test_cli_agent_front_matter_with_yaml_typed_values(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "repo")
    agent = tmp_path / "agent.md"
    agent.write_text(
        "---\nname: 2030-13-01\nchariot_context:\n  technology_stack:\n    backend:\n"
        "      primary_language: 2030-13-01\n      frameworks: [on, 1.10]\n---\nBody.\n"
    )
    done = _archreview(
        "scan", str(root), "--no-cache", "--profile", str(agent), "--fail-on", "never"
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr


def test_a_lone_surrogate_in_a_profile_is_replaced_and_the_scan_goes_on(tmp_path: Path) -> None:
    """Fuzz seed 15000754: a `modules:` glob written as "\\ud800..." (a lone surrogate, which
    YAML's double quotes allow) crashed the module matcher when it encoded the glob."""
    profile = parse_profile_text('modules:\n  "\\ud800svc/*":\n    stack: {go: {version: \"1.22\"}}\n', "p.yml")
    assert all("\ud800" not in glob for glob, _ in profile.modules)
    (tmp_path / ".archreview.yml").write_text(
        'name: "x\\udc80y"\nmodules:\n  "\\ud800svc/*":\n    stack: {go: {version: \"1.22\"}}\n', encoding="utf-8"
    )
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "go.mod").write_text("module x\n\ngo 1.21\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", str(tmp_path), "--no-cache", "--fail-on", "never"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
