"""Unit facts behind the IAM, IDN and DAT checks: credential names, write actions, the
profile's kms_required switch, and values that must not produce high-confidence findings."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.checks.dat import is_credential_name, plaintext
from reviewer.checks.iam import is_write_action, without_resource_level
from reviewer.engine import ScanOptions, all_checks, scan
from reviewer.profile import DEFAULT

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "PASSWORD",
        "MasterUserPassword",
        "ClientSecret",
        "client_secret",
        "JWT_SECRET",
        "AuthToken",
        "OAuthToken",
        "SLACK_TOKEN",
        "ApiKey",
        "API_KEY",
        "apiKey",
        "AWS_SECRET_ACCESS_KEY",
        "PRIVATE_KEY",
        "DB_PASS",
        "ApiKeyValue",
    ],
)
def test_credential_names(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PasswordPolicy",
        "RefreshTokenValidity",
        "TokenValidityUnits",
        "GenerateSecret",
        "SecretArn",
        "SECRET_ARN",
        "SecretName",
        "PASSWORD_MIN_LENGTH",
        "TemporaryPasswordValidityDays",
        "EnableTokenRevocation",
        "ManageMasterUserPassword",
        "EventSourceToken",
        "ClientToken",
        "API_KEY_HEADER",
        "KmsKeyId",
        "AccessKeyId",
        "PublicKey",
        "Secrets",
        "TaskToken.$",
    ],
)
def test_names_that_merely_contain_a_credential_word(name: str) -> None:
    assert not is_credential_name(name)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("hunter2-prod", True),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", False),
        ("{{resolve:secretsmanager:db:SecretString:password}}", False),
        ("{{resolve:ssm-secure:/db/password:1}}", False),
        ("true", False),
        ("12", False),
        ("", False),
        ("/app/db-password", False),
        ("$.detail.token", False),
        ("method.request.header.x-api-key", False),
    ],
)
def test_plaintext_values(value: str, secret: bool) -> None:
    assert plaintext(value) is secret


@pytest.mark.parametrize(
    ("action", "write"),
    [
        ("s3:PutObject", True),
        ("s3:Put*", True),
        ("s3:*Object", True),
        ("dynamodb:Delete*", True),
        ("iam:PassRole", True),
        ("kms:Decrypt", True),
        ("sqs:SendMessage", True),
        ("apigateway:POST", True),
        ("s3:GetObject", False),
        ("s3:Get*", False),
        ("ec2:Describe*", False),
        ("dynamodb:Query", False),
        ("sqs:ReceiveMessage", False),
    ],
)
def test_write_actions(action: str, write: bool) -> None:
    assert is_write_action(action) is write


@pytest.mark.parametrize(
    ("action", "star_only"),
    [
        ("xray:PutTraceSegments", True),
        ("XRay:PutTelemetryRecords", True),
        ("cloudwatch:PutMetricData", True),
        ("logs:CreateLogDelivery", True),
        ("comprehend:DetectSentiment", True),
        ("s3:PutObject", False),
        ("s3:Put*", False),
        ("cloudwatch:PutMetricAlarm", False),
    ],
)
def test_actions_without_resource_level_permissions(action: str, star_only: bool) -> None:
    assert without_resource_level(action) is star_only


def _findings(
    rule_id: str, fixture: str, tmp: Path, *, kms_required: bool
) -> list[tuple[str | None, str]]:
    source = FIXTURES / "templates" / fixture
    root = tmp / "repo"
    if source.is_dir():
        shutil.copytree(source, root)
    else:
        root.mkdir()
        shutil.copy(source, root / source.name)
    profile = replace(DEFAULT, kms_required=kms_required)
    report = scan(root, ScanOptions(profile=profile, checks=(CHECKS[rule_id],), strict=True))
    return sorted((f.resource, f.severity.value) for f in report.findings if f.rule_id == rule_id)


def test_kms_not_required_keeps_only_missing_encryption_for_topics_and_queues(
    tmp_path: Path,
) -> None:
    found = _findings("AR-DAT-005", "AR-DAT-005/fail.yaml", tmp_path, kms_required=False)
    assert found == [("Alerts", "medium"), ("Plain", "medium")]


@pytest.mark.parametrize(
    ("rule_id", "fixture"),
    [("AR-DAT-001", "AR-DAT-001/fail.yaml"), ("AR-DAT-009", "AR-DAT-009/fail.yaml")],
)
def test_kms_not_required_turns_key_rules_off(rule_id: str, fixture: str, tmp_path: Path) -> None:
    assert _findings(rule_id, fixture, tmp_path, kms_required=False) == []


def test_kms_not_required_keeps_the_tls_clause(tmp_path: Path) -> None:
    found = _findings("AR-DAT-004", "AR-DAT-004/fail.yaml", tmp_path, kms_required=False)
    assert found == [("NothingBucket", "medium"), ("SseS3Bucket", "medium")]


UNRESOLVABLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Mode:
    Type: String
  Actions:
    Type: CommaDelimitedList
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
    Properties:
      MfaConfiguration: !Ref Mode
      UserPoolAddOns:
        AdvancedSecurityMode: !Ref Mode
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: !Ref Actions
                Resource: !ImportValue somewhere
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeySpec: !Ref Mode
      EnableKeyRotation: !Ref Mode
"""


def test_unresolvable_values_never_give_high_confidence_findings(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(UNRESOLVABLE, encoding="utf-8")
    ids = [i for i in CHECKS if i.split("-")[1] in ("IDN", "IAM", "DAT")]
    report = scan(root, ScanOptions(checks=tuple(CHECKS[i] for i in ids), strict=True))
    risky = [
        (f.rule_id, f.resource, f.property)
        for f in report.findings
        if f.confidence.value == "high"
        and f.resource in ("Pool", "Role", "Key")
        and f.property
        in ("MfaConfiguration", "UserPoolAddOns.AdvancedSecurityMode", "EnableKeyRotation")
    ]
    assert risky == []
    assert not [f for f in report.findings if f.rule_id in ("AR-IAM-001", "AR-IAM-004")]
