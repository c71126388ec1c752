"""The model, resolver, locator and engine on small inline templates."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reviewer.core.types import Persona
from reviewer.decode.load import decode
from reviewer.discover.inventory import discover
from reviewer.model.build import build
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import RefTo, Unresolved, resolve, targets
from reviewer.runner.engine import ScanOptions, scan

SAM = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage:
        Type: String
        Default: prod
      Limit:
        Type: Number
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Globals:
      Function:
        Timeout: 40
        MemorySize: 256
      Api:
        MethodSettings:
          - HttpMethod: '*'
            ResourcePath: /*
    Resources:
      Api:
        Type: AWS::Serverless::Api
        Properties:
          StageName: !Ref Stage
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: bootstrap
          Runtime: provided.al2023
          CodeUri: .
          Timeout: !If [IsProd, 60, 10]
          Events:
            Get:
              Type: Api
              Properties:
                Path: /
                Method: get
            Queue:
              Type: SQS
              Properties:
                Queue: !GetAtt Q.Arn
      Q:
        Type: AWS::SQS::Queue
        Properties:
          QueueName: !Sub "${AWS::StackName}-${Stage}-jobs"
          VisibilityTimeout: !Ref Limit
      Assoc:
        Type: AWS::WAFv2::WebACLAssociation
        Properties:
          WebACLArn: arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y
          ResourceArn: !Sub "arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Api.Stage}"
    """
)


def _template(text: str = SAM):
    tree, problems = decode(text)
    assert not problems
    return build("template.yaml", ".", tree, text)


def test_globals_are_merged_and_locate_to_the_globals_line() -> None:
    t = _template()
    fn = t.get("Fn")
    assert fn is not None
    assert fn.get("MemorySize") == 256
    span = t.locate("Fn", ("Properties", "MemorySize"))
    assert span.line == 14  # Globals.Function.MemorySize
    assert t.locate("Fn", ("Properties", "Timeout")).line == 30  # own value wins over Globals


def test_implicit_sam_resources_exist_and_point_at_their_source() -> None:
    t = _template()
    stage = t.get("ServerlessRestApiProdStage")
    assert stage is not None and stage.source == "ServerlessRestApi"
    assert t.get(t.aliases["Api.Stage"]) is not None  # explicit Api: its generated stage
    esm = t.get("FnQueue")
    assert esm is not None and esm.type == "AWS::Lambda::EventSourceMapping"
    assert t.locate("FnQueue", ("Properties", "EventSourceArn")).line == 40  # Queue: !GetAtt Q.Arn
    assert t.get("FnRole") is not None and t.get("FnGetPermissionProd") is not None
    # the MethodSettings of the implicit stage come from Globals.Api
    assert t.locate("ServerlessRestApiProdStage", ("Properties", "MethodSettings")).line == 16


def test_missing_property_points_at_the_resource_line() -> None:
    t = _template()
    assert t.locate("Q", ("Properties", "RedrivePolicy")).line == 41


def test_resolver_keeps_both_if_branches_and_marks_defaults() -> None:
    t = _template()
    fn = t.get("Fn")
    assert fn is not None
    outcomes = resolve(t, fn.get("Timeout"))
    assert [(o.value, o.conditions) for o in outcomes] == [(60, ("IsProd",)), (10, ("!IsProd",))]
    q = t.get("Q")
    assert q is not None
    name = resolve(t, q.get("QueueName"))[0]
    assert isinstance(name.value, Unresolved)
    assert name.value.text == "${AWS::StackName}-prod-jobs"
    limit = resolve(t, q.get("VisibilityTimeout"))[0]
    assert isinstance(limit.value, Unresolved)
    stage = resolve(t, t.get("Api").get("StageName"))[0]  # type: ignore[union-attr]
    assert stage.value == "prod" and stage.assumed


def test_sam_stage_alias_in_sub_resolves_to_the_generated_stage() -> None:
    t = _template()
    assoc = t.get("Assoc")
    assert assoc is not None
    found = {(r.target, r.attr) for r in targets(t, assoc.get("ResourceArn"))}
    assert ("Api", None) in found and (t.aliases["Api.Stage"], None) in found


def test_parameter_values_override_defaults(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(SAM, encoding="utf-8")
    report = scan(tmp_path, ScanOptions(parameters={"Limit": "600", "Stage": "prod"}, strict=True))
    assert not [f for f in report.findings if f.rule_id == "AR-EVT-003"]
    report = scan(tmp_path, ScanOptions(parameters={"Limit": "100"}, strict=True))
    evt = [f for f in report.findings if f.rule_id == "AR-EVT-003"]
    assert len(evt) == 1 and evt[0].line == 45 and evt[0].confidence.value == "medium"


def test_import_value_and_nested_stack_parameters(tmp_path: Path) -> None:
    (tmp_path / "queue.yaml").write_text(
        textwrap.dedent(
            """\
            AWSTemplateFormatVersion: '2010-09-09'
            Resources:
              Jobs:
                Type: AWS::SQS::Queue
            Outputs:
              JobsArn:
                Value: !GetAtt Jobs.Arn
                Export:
                  Name: shared-jobs-arn
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "parent.yaml").write_text(
        textwrap.dedent(
            """\
            AWSTemplateFormatVersion: '2010-09-09'
            Resources:
              Child:
                Type: AWS::CloudFormation::Stack
                Properties:
                  TemplateURL: ./child.yaml
                  Parameters:
                    Timeout: 120
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "child.yaml").write_text(
        textwrap.dedent(
            """\
            AWSTemplateFormatVersion: '2010-09-09'
            Parameters:
              Timeout:
                Type: Number
                Default: 3
            Resources:
              Fn:
                Type: AWS::Lambda::Function
                Properties:
                  Timeout: !Ref Timeout
              Mapping:
                Type: AWS::Lambda::EventSourceMapping
                Properties:
                  EventSourceArn: !ImportValue shared-jobs-arn
                  FunctionName: !Ref Fn
            """
        ),
        encoding="utf-8",
    )
    inv = discover(tmp_path)
    assert {f.path for f in inv.files} == {"queue.yaml", "parent.yaml", "child.yaml"}
    report = scan(tmp_path, ScanOptions(strict=True))
    evt = [f for f in report.findings if f.rule_id == "AR-EVT-003"]
    assert len(evt) == 1
    # the queue lives in queue.yaml: the finding sits on the queue, naming the consumer
    assert evt[0].file == "queue.yaml" and evt[0].resource == "Jobs"
    assert "120" in evt[0].message and "Fn" in evt[0].message


def test_repo_index_export_patterns() -> None:
    inv = discover(Path(__file__).parent)  # any inventory will do
    repo = RepoIndex(inv)
    t = _template(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "Outputs:\n  A:\n    Value: !Ref Q\n    Export:\n      Name: !Sub '${AWS::StackName}-QueueUrl'\n"
    )
    repo.templates[t.file] = t
    found = repo.export("orders-QueueUrl")
    assert found is not None and found[2] is False


def test_alias_bomb_is_a_parse_finding_not_a_hang(tmp_path: Path) -> None:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    prev = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    lines += ["Resources:", "  T:", "    Type: AWS::SNS::Topic", "    Properties:", "      DisplayName: *j"]
    (tmp_path / "template.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scan(tmp_path, ScanOptions(checks=(), strict=True))
    assert [f.rule_id for f in report.findings] == ["AR-MOD-003"]
    assert "alias" in report.findings[0].message


def test_empty_sections_are_data(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\nResources:\n", encoding="utf-8"
    )
    report = scan(tmp_path, ScanOptions(strict=True))
    problems = [f for f in report.findings if f.rule_id in ("AR-MOD-003", "AR-MOD-005", "AR-MOD-006")]
    assert problems == []
    assert report.files.templates == 1


def test_a_crashing_check_is_contained(tmp_path: Path) -> None:
    from reviewer.checks import evt
    from reviewer.checks.registry import template_check

    @template_check("AR-EVT-003")
    def boom(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")
        yield

    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        encoding="utf-8",
    )
    report = scan(tmp_path, ScanOptions(checks=(boom, evt.queue_without_dlq), persona=Persona.AUDITOR))
    ids = sorted(f.rule_id for f in report.findings)
    assert ids == ["AR-EVT-001", "AR-MOD-005"]
    crash = next(f for f in report.findings if f.rule_id == "AR-MOD-005")
    assert "boom" in crash.message and "RuntimeError" in crash.message
    with pytest.raises(RuntimeError):
        scan(tmp_path, ScanOptions(checks=(boom,), strict=True))


def test_refto_for_getatt() -> None:
    t = _template()
    fn = t.get("FnQueue")
    assert fn is not None
    assert resolve(t, fn.get("EventSourceArn"))[0].value == RefTo("Q", "Arn", "template.yaml")


def test_evolve_is_replace_without_init() -> None:
    import dataclasses

    from reviewer.core.types import AdrText, Finding, evolve

    from .conftest import FIXTURES

    report = scan(FIXTURES / "templates" / "AR-API-001", ScanOptions())
    f = report.findings[0]
    other = AdrText("c", "d", "e")
    assert evolve(f, new=True, adr=other) == dataclasses.replace(f, new=True, adr=other)
    assert evolve(f, new=True) is not f and f.new is None
    assert hash(evolve(f, new=False)) == hash(dataclasses.replace(f, new=False))
    with pytest.raises(TypeError, match="no field 'nope'"):
        evolve(f, nope=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        evolve(f).new = True  # type: ignore[misc]
    assert isinstance(evolve(f), Finding)
