"""Unit facts behind the IAM, IDN and DAT checks: credential names, write actions, the
profile's kms_required switch, and values that must not produce high-confidence findings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.checks.dat import is_credential_name, plaintext
from reviewer.checks.iam import (
    Reach,
    glob_match,
    is_write_action,
    service_reach,
    without_resource_level,
    write_reach,
)
from reviewer.core.types import Finding, Persona, Report
from reviewer.profile import DEFAULT, Profile
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES, ROOT

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
        ("lambda:SendDurableExecutionCallbackSuccess", True),
        ("s3:PutObject", False),
        ("s3:Put*", False),
        ("cloudwatch:PutMetricAlarm", False),
    ],
)
def test_actions_without_resource_level_permissions(action: str, star_only: bool) -> None:
    assert without_resource_level(action) is star_only


KMS = "layers.data.kms_required"


def _scan(rule_id: str, fixture: str, tmp: Path, profile: Profile) -> Report:
    source = FIXTURES / "templates" / fixture
    root = tmp / "repo"
    if source.is_dir():
        shutil.copytree(source, root)
    else:
        root.mkdir(parents=True)
        shutil.copy(source, root / source.name)
    options = ScanOptions(
        profile=profile, checks=(CHECKS[rule_id],), strict=True, persona=Persona.AUDITOR
    )
    return scan(root, options)


def _kms_profile(declared: bool, required: bool | None) -> Profile:
    """The baseline, with layers.data.kms_required declared (as `required`) or not."""
    return replace(
        DEFAULT,
        kms_required=required,
        declared=frozenset({KMS}) if declared else frozenset(),
    )


def _findings(
    rule_id: str, fixture: str, tmp: Path, *, declared: bool, required: bool | None = None
) -> list[tuple[str | None, str, str]]:
    report = _scan(rule_id, fixture, tmp, _kms_profile(declared, required))
    return sorted(
        (f.resource, f.severity.value, f.persona.value)
        for f in report.findings
        if f.rule_id == rule_id
    )


@pytest.mark.parametrize(("declared", "required"), [(False, None), (True, False)])
def test_without_a_kms_requirement_only_a_queue_with_encryption_off_is_judged(
    tmp_path: Path, declared: bool, required: bool | None
) -> None:
    """SNS disk encryption and SSE-SQS are on by default: a topic or queue without a KMS key
    is not a finding unless the repository declares the requirement (issue 16's labels: noise
    every time); a queue with SSE-SQS turned off has no encryption at all."""
    found = _findings(
        "AR-DAT-005", "AR-DAT-005/fail.yaml", tmp_path, declared=declared, required=required
    )
    assert found == [("Plain", "medium", "regular")]


def test_a_declared_kms_requirement_judges_topics_and_queues(tmp_path: Path) -> None:
    found = _findings("AR-DAT-005", "AR-DAT-005/fail.yaml", tmp_path, declared=True, required=True)
    assert found == [
        ("Alerts", "medium", "regular"),
        ("Jobs", "medium", "regular"),
        ("Plain", "medium", "regular"),
    ]


@pytest.mark.parametrize(
    ("rule_id", "fixture"),
    [("AR-DAT-001", "AR-DAT-001/fail.yaml"), ("AR-DAT-009", "AR-DAT-009/fail.yaml")],
)
@pytest.mark.parametrize(("declared", "required"), [(False, None), (True, False)])
def test_key_rules_judge_nothing_without_a_kms_requirement(
    rule_id: str, fixture: str, tmp_path: Path, declared: bool, required: bool | None
) -> None:
    """Not declared: the rule does not run (profile.requires). Declared false: it runs and
    judges nothing, so the log groups and tables do not count as passes either."""
    report = _scan(rule_id, fixture, tmp_path, _kms_profile(declared, required))
    assert not [f for f in report.findings if f.rule_id == rule_id]
    assert not [e for e in report.evaluations if e.rule_id == rule_id]


@pytest.mark.parametrize(
    ("rule_id", "fixture"),
    [("AR-DAT-001", "AR-DAT-001/fail.yaml"), ("AR-DAT-009", "AR-DAT-009/fail.yaml")],
)
def test_key_rules_judge_under_a_declared_requirement_and_say_so(
    rule_id: str, fixture: str, tmp_path: Path
) -> None:
    report = _scan(rule_id, fixture, tmp_path, _kms_profile(True, True))
    found = [f for f in report.findings if f.rule_id == rule_id]
    assert found
    assert all("the profile requires customer managed KMS keys" in f.message for f in found)
    assert {f.persona.value for f in found} == {"regular"}


def test_without_a_kms_requirement_a_bucket_keeps_only_the_pedantic_tls_case(
    tmp_path: Path,
) -> None:
    found = _findings("AR-DAT-004", "AR-DAT-004/fail.yaml", tmp_path, declared=False)
    assert found == [("NothingBucket", "low", "pedantic"), ("SseS3Bucket", "low", "pedantic")]
    declared = _findings(
        "AR-DAT-004", "AR-DAT-004/fail.yaml", tmp_path / "d", declared=True, required=True
    )
    assert declared == [
        ("NothingBucket", "low", "pedantic"),
        ("NothingBucket", "medium", "regular"),
        ("SseS3Bucket", "low", "pedantic"),
        ("SseS3Bucket", "medium", "regular"),
    ]


def test_messages_never_claim_an_undeclared_kms_requirement(tmp_path: Path) -> None:
    for rule_id, fixture in (
        ("AR-DAT-004", "AR-DAT-004/fail.yaml"),
        ("AR-DAT-005", "AR-DAT-005/fail.yaml"),
    ):
        report = _scan(rule_id, fixture, tmp_path / rule_id, _kms_profile(False, None))
        assert report.findings
        assert not [f for f in report.findings if "profile" in f.message or "declared" in f.message]


@pytest.mark.parametrize(
    ("action", "reach"),
    [
        ("*", Reach.ADMIN),
        ("*:*", Reach.ADMIN),
        ("iam:*", Reach.ESCALATION),
        ("STS:*", Reach.ESCALATION),
        ("s3:*", Reach.DATA),
        ("states:*", Reach.DATA),
        ("polly:*", Reach.REQUEST),
        ("execute-api:*", Reach.REQUEST),
        ("logs:*", Reach.TELEMETRY),
        ("cloudwatch:*", Reach.TELEMETRY),
    ],
)
def test_how_far_a_whole_service_wildcard_reaches(action: str, reach: Reach) -> None:
    assert service_reach(action) is reach


@pytest.mark.parametrize(
    ("action", "reach"),
    [
        ("logs:CreateLogGroup", Reach.NONE),
        ("logs:PutLogEvents", Reach.NONE),
        ("ec2:CreateNetworkInterface", Reach.NONE),
        ("logs:Create*", Reach.TELEMETRY),  # a wildcard reaches past the execution-role grants
        ("logs:DeleteLogGroup", Reach.TELEMETRY),
        ("iam:PassRole", Reach.ESCALATION),
        ("iam:Tag*", Reach.ESCALATION),
        ("sts:AssumeRole", Reach.ESCALATION),
        ("s3:PutBucketPolicy", Reach.ESCALATION),
        ("s3:Put*", Reach.ESCALATION),  # can be s3:PutBucketPolicy
        ("s3:*Object", Reach.DATA),  # cannot
        ("s3:PutObject", Reach.DATA),
        ("kms:Decrypt", Reach.DATA),
        ("lambda:UpdateFunctionCode", Reach.ESCALATION),
        ("bedrock:InvokeModel", Reach.REQUEST),
        ("bedrock:InvokeModelWithResponseStream", Reach.REQUEST),
    ],
)
def test_how_far_a_write_on_every_resource_reaches(action: str, reach: Reach) -> None:
    assert write_reach(action) is reach


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("s3:put*", "s3:putbucketpolicy", True),
        ("s3:*object", "s3:putobject", True),
        ("s3:*object", "s3:putobjectacl", False),
        ("s3:put?ucketpolicy", "s3:putbucketpolicy", True),
        ("*", "kms:creategrant", True),
        ("**:*grant", "kms:creategrant", True),
        ("kms:creategrant", "kms:creategrant", True),
        ("kms:creategrants", "kms:creategrant", False),
    ],
)
def test_glob_match(pattern: str, name: str, matches: bool) -> None:
    assert glob_match(pattern, name) is matches


def test_glob_match_is_bounded_on_a_hostile_pattern() -> None:
    """A pattern that makes a backtracking regular expression explode (many "*a" then a
    character the name lacks) is answered in time bounded by the name: killed after 60 s."""
    code = (
        "from reviewer.checks.iam import glob_match\n"
        "p = '*a' * 5000 + '*b'\n"
        "assert not glob_match(p, 'a' * 40)\n"
        "assert not glob_match('*a' * 30 + 'b', 'a' * 40)\n"
        "assert glob_match('*' * 1_000_000 + 'a', 'a' * 40)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _iam(rule_id: str, fixture: str, tmp: Path) -> list[Finding]:
    report = _scan(rule_id, fixture, tmp, DEFAULT)
    return [f for f in report.findings if f.rule_id == rule_id]


def test_a_policy_document_is_one_finding_at_its_widest_statement(tmp_path: Path) -> None:
    found = {f.resource: f for f in _iam("AR-IAM-001", "AR-IAM-001/fail-reach.yaml", tmp_path)}
    assert {r: f.severity.value for r, f in found.items()} == {
        "DeployRole": "critical",
        "WorkflowPolicy": "high",
        "SpeechPolicy": "medium",
        "StateMachineRole": "low",
    }
    workflow = found["WorkflowPolicy"]
    assert workflow.property == "PolicyDocument.Statement[1].Action"  # states:*, the widest
    assert [(r.path, r.message) for r in workflow.related] == [
        ("PolicyDocument.Statement[0].Action", "also allows polly:* on Resource '*'"),
        ("PolicyDocument.Statement[2].Action", "also allows translate:* on Resource '*'"),
    ]
    assert {f.persona.value for f in found.values()} == {"regular"}


def test_a_document_written_once_is_one_finding_with_its_holders_related(
    tmp_path: Path,
) -> None:
    (found,) = _iam("AR-IAM-001", "AR-IAM-001/fail-shared.yaml", tmp_path)
    assert found.resource == "ReaderFunction"
    assert [(r.logical_id, r.message) for r in found.related] == [
        ("WriterFunction", "holds the same written policy"),
        ("CleanerFunction", "holds the same written policy"),
    ]


def test_write_severities_follow_what_the_actions_reach(tmp_path: Path) -> None:
    found = _iam("AR-IAM-004", "AR-IAM-004/fail-reach.yaml", tmp_path)
    assert sorted((f.resource, f.severity.value, f.persona.value) for f in found) == [
        ("BucketPolicyWriter", "high", "regular"),
        ("LogJanitorPolicy", "low", "regular"),
        ("ModelPolicy", "low", "pedantic"),
        ("PipelineRole", "high", "regular"),
    ]


def test_a_shared_role_is_one_pedantic_finding(tmp_path: Path) -> None:
    found = _iam("AR-IAM-005", "AR-IAM-005/fail.yaml", tmp_path)
    assert [(f.resource, f.persona.value) for f in found] == [
        ("IngestFunction", "pedantic"),
        ("LegacyA", "pedantic"),
    ]
    assert [r.logical_id for r in found[0].related] == ["ReportFunction"]


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
