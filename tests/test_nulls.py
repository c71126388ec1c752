"""A property written with no value (`AuthorizationType:` with nothing after the colon) is not
set, for every rule: the template model drops nulls once (issue 17 item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.types import Persona
from reviewer.decode.load import decode
from reviewer.model.build import build
from reviewer.model.template import MISSING, drop_nulls, walk
from reviewer.runner.engine import ScanOptions, all_checks, scan

CHECKS = {c.rule_id: c for c in all_checks()}


def model(text: str):  # type: ignore[no-untyped-def]
    tree, problems = decode(text)
    assert problems == ()
    return build("t.yaml", ".", tree, text)


def findings(tmp_path: Path, rule_id: str, text: str) -> list[str]:
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    report = scan(tmp_path, ScanOptions(checks=(CHECKS[rule_id],), persona=Persona.AUDITOR))
    return [f.message for f in report.findings if f.rule_id == rule_id]


def test_a_null_property_is_not_set() -> None:
    t = model(
        "Resources:\n  M:\n    Type: AWS::ApiGateway::Method\n    Properties:\n"
        "      AuthorizationType:\n      HttpMethod: GET\n      Integration:\n"
        "        Type: MOCK\n        Uri:\n      Tags:\n        -\n        - Key: a\n"
    )
    method = t.resources["M"]
    assert method.get("AuthorizationType") is MISSING
    assert not method.has("AuthorizationType")
    assert method.get("AuthorizationType", default=None) is None
    assert not method.has("Integration", "Uri") and method.get("Integration", "Type") == "MOCK"
    assert method.get("Tags") == [{"Key": "a"}]  # a null item is not an item
    assert "AuthorizationType" not in method.properties


def test_walk_treats_a_null_as_missing_at_any_depth() -> None:
    tree = {"A": None, "B": {"C": None}, "D": [None]}
    assert walk(tree, ("A",)) is MISSING
    assert walk(tree, ("B", "C"), default="d") == "d"
    assert walk(tree, ("D", 0)) is MISSING
    assert walk(tree, ("B",)) == {"C": None}


def test_intrinsic_arguments_are_left_as_written() -> None:
    node = {"X": {"Fn::If": ["C", None, {"Ref": "AWS::NoValue"}]}, "Y": None}
    assert drop_nulls(node) == 1
    assert node == {"X": {"Fn::If": ["C", None, {"Ref": "AWS::NoValue"}]}}


def test_shared_nodes_are_cleaned_once() -> None:
    shared: dict[str, object] = {"K": None, "L": 1}
    node = {"a": shared, "b": shared, "c": [shared, shared]}
    assert drop_nulls(node) == 1
    assert shared == {"L": 1}


def test_a_null_in_a_function_does_not_hide_the_globals_value() -> None:
    t = model(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Timeout: 30\n"
        "    Tracing:\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Runtime: python3.12\n      Handler: a.h\n      CodeUri: .\n      Timeout:\n"
    )
    function = t.resources["F"]
    assert function.get("Timeout") == 30  # the function's null sets nothing: Globals applies
    assert not function.has("Tracing")


@pytest.mark.parametrize(
    ("rule_id", "null", "value", "says"),
    [
        (
            "AR-API-005",
            "      AuthorizationType:\n",
            "      AuthorizationType: AWS_IAM\n",
            "GET /",
        ),
        (
            "AR-API-004",
            "      AccessLogSetting:\n",
            "      AccessLogSetting:\n        DestinationArn: arn:aws:logs:eu-west-1:1:log-group:x\n",
            "writes no access log",
        ),
    ],
)
def test_rules_see_a_null_as_not_set(
    tmp_path: Path, rule_id: str, null: str, value: str, says: str
) -> None:
    head = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Api:\n"
        "    Type: AWS::ApiGateway::RestApi\n    Properties:\n      Name: a\n"
        "  Dep:\n    Type: AWS::ApiGateway::Deployment\n    Properties:\n      RestApiId: !Ref Api\n"
    )
    if rule_id == "AR-API-005":
        body = (
            "  M:\n    Type: AWS::ApiGateway::Method\n    Properties:\n      RestApiId: !Ref Api\n"
            "      ResourceId: !GetAtt Api.RootResourceId\n      HttpMethod: GET\n"
            "      Integration:\n        Type: MOCK\n"
        )
    else:
        body = (
            "  S:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      RestApiId: !Ref Api\n"
            "      DeploymentId: !Ref Dep\n      StageName: prod\n"
        )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    open_one = findings(tmp_path / "a", rule_id, head + body + null)
    closed = findings(tmp_path / "b", rule_id, head + body + value)
    assert any(says in m for m in open_one), open_one
    assert not any(says in m for m in closed), closed
