"""IAM semantics (issue 17): explicit Deny narrows Allow, unknown service prefixes, AWS managed
policies and reads of every secret. The rule fixtures cover the findings' text; these tests hold
the facts and the edges behind them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reviewer.checks.iam import (
    Cover,
    Deny,
    deny_cover,
    managed_policy,
    secret_read,
    unknown_prefix,
)
from reviewer.core import bounds
from reviewer.core.types import Finding, Persona
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import ROOT

CHECKS = {c.rule_id: c for c in all_checks()}
DATA = ROOT / "reviewer" / "data"


def _findings(tmp: Path, text: str, *rule_ids: str) -> list[Finding]:
    root = tmp / "repo"
    root.mkdir(parents=True, exist_ok=True)
    (root / "template.yaml").write_text(text, encoding="utf-8")
    options = ScanOptions(
        checks=tuple(CHECKS[i] for i in rule_ids), strict=True, persona=Persona.AUDITOR
    )
    return [f for f in scan(root, options).findings if f.rule_id in rule_ids]


def _deny(
    actions: tuple[str, ...],
    resources: tuple[str | None, ...],
    *,
    not_action: bool = False,
    not_resource: bool = False,
) -> Deny:
    return Deny(actions, not_action, resources, not_resource, ("Properties",), "R (test)")


# -- explicit Deny --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "deny", "expected"),
    [
        # AWS's "publish SMS only": every topic ARN is denied, phone numbers are left
        ("sns:Publish", _deny(("sns:publish",), ("arn:aws:sns:*:*:*",)), Cover.REMOVED),
        ("s3:PutObject", _deny(("s3:*",), ("arn:${AWS::Partition}:s3:::*",)), Cover.REMOVED),
        ("s3:Put*", _deny(("s3:p*",), ("*",)), Cover.REMOVED),
        ("s3:*", _deny(("s3:delete*",), ("*",)), Cover.NARROWED),
        ("s3:PutObject", _deny(("s3:*",), ("arn:aws:s3:::prod/*",)), Cover.NARROWED),
        # this stack's region only: other regions stay allowed
        (
            "sqs:SendMessage",
            _deny(("sqs:*",), ("arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:*",)),
            Cover.NARROWED,
        ),
        (
            "dynamodb:PutItem",
            _deny(("dynamodb:*",), ("arn:aws:dynamodb:*:*:table/*",)),
            Cover.NARROWED,
        ),
        ("dynamodb:PutItem", _deny(("s3:*",), ("*",)), Cover.NONE),
        # NotAction: everything but the listed actions is denied
        ("s3:DeleteObject", _deny(("s3:putobject",), ("*",), not_action=True), Cover.REMOVED),
        ("s3:PutObject", _deny(("s3:putobject",), ("*",), not_action=True), Cover.NONE),
        ("s3:*", _deny(("s3:putobject",), ("*",), not_action=True), Cover.NARROWED),
        # NotResource: only the listed resources are left
        (
            "sqs:SendMessage",
            _deny(("sqs:*",), ("arn:aws:sqs:eu-west-1:1:q",), not_resource=True),
            Cover.REMOVED,
        ),
        (
            "sqs:SendMessage",
            _deny(("sqs:*",), ("arn:aws:sqs:*:*:q-*",), not_resource=True),
            Cover.NARROWED,
        ),
        # an unknown resource value is never taken for a match
        ("sqs:SendMessage", _deny(("sqs:*",), (None,)), Cover.NARROWED),
        ("*", _deny(("*",), ("*",)), Cover.REMOVED),
    ],
)
def test_deny_cover(action: str, deny: Deny, expected: Cover) -> None:
    assert deny_cover(action, (deny,))[0] is expected


SMS = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: sms
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: sns:Publish, Resource: "*"}
              - {Effect: Deny, Action: sns:Publish, Resource: "arn:aws:sns:*:*:*"%s}
"""


def test_publish_sms_only_pattern_is_not_reported_and_a_conditional_deny_keeps_it(
    tmp_path: Path,
) -> None:
    assert _findings(tmp_path / "a", SMS % "", "AR-IAM-004") == []
    conditional = SMS % ", Condition: {Bool: {aws:SecureTransport: 'false'}}"
    (found,) = _findings(tmp_path / "b", conditional, "AR-IAM-004")
    assert "sns:Publish" in found.message and found.confidence.value == "high"


SHARED_POLICY = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: a.b, CodeUri: .}
  Other:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: guard
          PolicyDocument: {Statement: [{Effect: Deny, Action: "s3:*", Resource: "*"}]}
  Writes:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: writes
      Roles: [!Ref FnRole, !Ref Other]
      PolicyDocument: {Statement: [{Effect: Allow, Action: s3:PutObject, Resource: "*"}]}
  Guard:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: guard
      Roles: [!Ref FnRole]
      PolicyDocument: {Statement: [{Effect: Deny, Action: "s3:Put*", Resource: "*"}]}
"""


def test_a_policy_attached_to_several_identities_is_narrowed_only_by_denies_all_of_them_have(
    tmp_path: Path,
) -> None:
    # FnRole (SAM-generated) gets Guard's Deny and Other its own inline one: both deny
    # s3:PutObject, so the shared policy's Allow grants nothing to either
    assert _findings(tmp_path / "a", SHARED_POLICY, "AR-IAM-004") == []
    # without Other's Deny, Other keeps the grant: the policy is reported
    text = SHARED_POLICY.replace('Effect: Deny, Action: "s3:*"', 'Effect: Allow, Action: "s3:Get*"')
    (found,) = _findings(tmp_path / "b", text, "AR-IAM-004")
    assert found.resource == "Writes"


def test_denies_past_the_cap_narrow_nothing_and_work_stays_bounded(tmp_path: Path) -> None:
    denies = "\n".join(
        f"              - {{Effect: Deny, Action: s3:PutObject, Resource: 'arn:aws:s3:::b{i}/*'}}"
        for i in range(400)
    )
    text = (SMS % "").replace(
        '              - {Effect: Deny, Action: sns:Publish, Resource: "arn:aws:sns:*:*:*"}',
        "              - {Effect: Allow, Action: s3:PutObject, Resource: '*'}\n" + denies,
    )
    before = bounds.COUNTS.get("iam.deny", 0)
    found = _findings(tmp_path, text, "AR-IAM-004")
    # past 200 Denies for one identity none is used: the finding stands, at its own confidence
    assert len(found) == 1 and found[0].confidence.value == "high"
    assert bounds.COUNTS.get("iam.deny", 0) - before == 0


# -- unknown service prefixes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("bedrock-runtime:InvokeModel", "bedrock-runtime"),
        ("EventBridge:PutEvents", "eventbridge"),
        ("bedrock:InvokeModel", None),
        ("S3:GetObject", None),
        ("*", None),
        ("s3*:Get", None),
        ("${Prefix}:GetObject", None),
        ("no-colon", None),
    ],
)
def test_unknown_prefix(action: str, expected: str | None) -> None:
    assert unknown_prefix(action) == expected


def test_prefix_table_is_dated_sourced_and_its_aliases_point_at_known_prefixes() -> None:
    data = yaml.safe_load((DATA / "iam_prefixes.yaml").read_text(encoding="utf-8"))
    assert str(data["date"]) and "Service Authorization Reference" in data["source"]
    prefixes = set(data["prefixes"])
    assert len(prefixes) > 400 and {"s3", "bedrock", "execute-api", "rds-db"} <= prefixes
    for wrong, right in data["aliases"].items():
        assert wrong not in prefixes and right in prefixes


def test_unknown_prefix_is_its_own_finding_not_broad_access(tmp_path: Path) -> None:
    text = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: ["bedrock-runtime:*", "bedrock-runtime:PutThing"], Resource: "*"}
"""
    found = _findings(tmp_path, text, "AR-IAM-001", "AR-IAM-004", "AR-IAM-008")
    assert [f.rule_id for f in found] == ["AR-IAM-008"]
    assert "grants nothing" in found[0].message


# -- AWS managed policies -------------------------------------------------------------------


def test_managed_policy_table_matches_sam_short_names() -> None:
    """Every short name the table lets SAM expand is one SAM expands to that very ARN, and the
    names it does not are unknown to SAM (aws-sam-translator's own table)."""
    import samtranslator

    sam_file = (
        Path(samtranslator.__file__).parent / "internal" / "data" / "aws_managed_policies.json"
    )
    sam = json.loads(sam_file.read_text(encoding="utf-8"))["aws"]
    data = yaml.safe_load((DATA / "managed_policies.yaml").read_text(encoding="utf-8"))
    assert str(data["date"]) and data["source"].startswith("https://docs.aws.amazon.com/")
    for item in data["policies"]:
        assert item["kind"] in {"escalation", "admin", "full", "telemetry"}
        short = item["path"].rsplit("/", 1)[-1]
        if item.get("sam", True):
            assert sam[short] == f"arn:aws:iam::aws:policy/{item['path']}"
        else:
            assert short not in sam


@pytest.mark.parametrize(
    ("text", "bare", "expected"),
    [
        ("arn:aws:iam::aws:policy/IAMFullAccess", False, "IAMFullAccess"),
        (
            "arn:${AWS::Partition}:iam::aws:policy/job-function/SystemAdministrator",
            False,
            "SystemAdministrator",
        ),
        ("arn:aws-cn:iam::aws:policy/AmazonS3FullAccess", False, "AmazonS3FullAccess"),
        ("AmazonS3FullAccess", True, "AmazonS3FullAccess"),
        ("AmazonS3FullAccess", False, None),  # a bare name means nothing in ManagedPolicyArns
        ("arn:aws:iam::123456789012:policy/IAMFullAccess", False, None),  # customer managed
        ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", False, None),
        ("AmazonDynamoDBFullAccess_v2", True, None),  # SAM does not expand it
    ],
)
def test_managed_policy_lookup(text: str, bare: bool, expected: str | None) -> None:
    found = managed_policy(text, bare_names=bare)
    assert (found.name if found else None) == expected


def test_administrator_access_stays_one_finding_of_ar_iam_003(tmp_path: Path) -> None:
    text = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
"""
    found = _findings(tmp_path, text, "AR-IAM-003", "AR-IAM-007")
    assert [f.rule_id for f in found] == ["AR-IAM-003"]


# -- reading every secret -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("secretsmanager:GetSecretValue", "secretsmanager"),
        ("secretsmanager:Get*", "secretsmanager"),
        ("SSM:GetParametersByPath", "ssm"),
        ("ssm:GetParameter*", "ssm"),
        ("kms:Decrypt", "kms"),
        ("kms:*", None),  # a whole-service wildcard: AR-IAM-001's
        ("secretsmanager:ListSecrets", None),
        ("ssm:PutParameter", None),
    ],
)
def test_secret_read(action: str, expected: str | None) -> None:
    assert secret_read(action) == expected


def test_kms_decrypt_on_star_is_one_finding_of_ar_iam_009(tmp_path: Path) -> None:
    text = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: [kms:Decrypt, s3:PutObject], Resource: "*"}
"""
    found = _findings(tmp_path, text, "AR-IAM-004", "AR-IAM-009")
    assert sorted(f.rule_id for f in found) == ["AR-IAM-004", "AR-IAM-009"]
    (writes,) = [f for f in found if f.rule_id == "AR-IAM-004"]
    assert "kms:Decrypt" not in writes.message and "s3:PutObject" in writes.message


def test_a_policy_attached_to_many_identities_is_judged_without_narrowing(tmp_path: Path) -> None:
    roles = "".join(
        f"  R{i}:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: "
        "lambda.amazonaws.com}, Action: sts:AssumeRole}]}\n"
        "      Policies: [{PolicyName: g, PolicyDocument: {Statement: [{Effect: Deny, "
        "Action: 's3:*', Resource: '*'}]}}]\n"
        for i in range(40)
    )
    text = (
        "Resources:\n"
        + roles
        + "  Shared:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
        + f"      Roles: [{', '.join(f'!Ref R{i}' for i in range(40))}]\n"
        + "      PolicyDocument: {Statement: [{Effect: Allow, Action: s3:PutObject, Resource: '*'}]}\n"
    )
    # every role denies s3:*, but 40 identities are past the cap: the grant is reported as
    # written (never a claim built on a partial reading)
    (found,) = _findings(tmp_path, text, "AR-IAM-004")
    assert found.resource == "Shared"
    # the same shape with 3 roles is narrowed away
    small = (
        "Resources:\n"
        + "".join(roles.split("  R3:")[0])
        + "  Shared:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
        + "      Roles: [!Ref R0, !Ref R1, !Ref R2]\n"
        + "      PolicyDocument: {Statement: [{Effect: Allow, Action: s3:PutObject, Resource: '*'}]}\n"
    )
    assert _findings(tmp_path / "small", small, "AR-IAM-004") == []


@pytest.mark.parametrize(("seed", "limit"), [(1, 20_000), (2, 400_000), (3, 900_000)])
def test_hostile_allow_and_deny_floods_finish_without_a_traceback(
    tmp_path: Path, seed: int, limit: int
) -> None:
    """A policy of thousands of Allow/Deny statements (NotAction, NotResource, wildcards,
    unknown prefixes, hostile text) attached to many roles, each with managed policy ARNs: the
    scan ends (a subprocess killed after 60 s fails) with a report and no traceback."""
    import random
    import subprocess
    import sys

    from .hostile import content

    root = tmp_path / "repo"
    root.mkdir()
    body = content.CONTENT["template-denies"].make(random.Random(seed), limit)
    (root / "template.yaml").write_bytes(body)
    out = tmp_path / "report.json"
    argv = [sys.executable, "-m", "reviewer", "scan", str(root), "--no-cache"]
    argv += ["--format", "json", "--output", str(out), "--fail-on", "never", "--quiet"]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"Traceback" not in done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert any(f["rule_id"] == "AR-IAM-007" for f in report["findings"])


# -- actions that take no resource type ------------------------------------------------------


def test_account_level_actions_on_star_are_not_a_lack_of_scoping(tmp_path: Path) -> None:
    """Judging found AR-IAM-004 saying bedrock:CreateAgent and the like "accept specific
    resource ARNs": the Service Authorization Reference gives them no resource type, so "*" is
    the only Resource they take. Only the actions that do take ARNs are named."""
    text = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - Statement:
            - Effect: Allow
              Action: [bedrock:CreateAgent, aoss:CreateCollection]
              Resource: '*'
            - Effect: Allow
              Action: [transcribe:StartTranscriptionJob, s3:PutObject]
              Resource: '*'
"""
    found = _findings(tmp_path, text, "AR-IAM-004")
    assert len(found) == 1, [f.message for f in found]
    message = found[0].message
    assert "s3:PutObject" in message
    for account_level in ("bedrock:CreateAgent", "aoss:CreateCollection", "StartTranscription"):
        assert account_level not in message


def test_the_account_level_table_is_dated_sourced_and_knows_both_kinds() -> None:
    data = json.loads((DATA / "iam_no_resource_level.json").read_text(encoding="utf-8"))
    assert data["date"] and "Service Authorization Reference" in data["source"]
    assert "createagent" in data["actions"]["bedrock"]
    assert "invokemodel" not in data["actions"]["bedrock"]  # takes foundation-model ARNs
    assert "putobject" not in data["actions"].get("s3", [])
