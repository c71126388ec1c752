"""OBS and EVT behaviour that `cases:` cannot express: profile-driven expectations and
parameter values given on the command line."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from reviewer.core.types import Finding, Persona, Report
from reviewer.profile import DEFAULT, Profile
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}
TEMPLATES = FIXTURES / "templates"


def _report(rule_id: str, fixture: Path, tmp: Path, **options: Any) -> Report:
    root = tmp / "repo"
    if fixture.is_dir():
        shutil.copytree(fixture, root)
    else:
        root.mkdir(parents=True)
        shutil.copy(fixture, root / fixture.name)
    options.setdefault("persona", Persona.AUDITOR)  # every finding, whatever its persona
    return scan(root, ScanOptions(checks=(CHECKS[rule_id],), strict=True, **options))


def _scan(rule_id: str, fixture: Path, tmp: Path, **options: Any) -> list[Finding]:
    report = _report(rule_id, fixture, tmp, **options)
    return [f for f in report.findings if f.rule_id == rule_id]


def _declaring(*keys: str, **values: Any) -> Profile:
    """The baseline with `keys` declared and set to `values` (Profile field names)."""
    return dataclasses.replace(DEFAULT, declared=frozenset(keys), **values)


def test_queue_retention_follows_the_declared_retention(tmp_path: Path) -> None:
    profile = _declaring("events.retention_days", queue_retention_days=7)
    found = _scan("AR-EVT-007", TEMPLATES / "AR-EVT-007" / "fail.yaml", tmp_path, profile=profile)
    by_queue = {f.resource: f for f in found}
    assert "WeekQueue" not in by_queue  # 7 days is what this profile declares
    shorter, longer = by_queue["DefaultRetentionQueue"], by_queue["AssetJobs"]  # 4 days, 14 days
    assert (shorter.persona, shorter.severity.value) == (Persona.REGULAR, "low")
    assert "a backlog older than that is deleted" in shorter.message
    # keeping messages longer than declared is a departure to record, not a defect
    assert (longer.persona, longer.severity.value) == (Persona.AUDITOR, "info")
    assert longer.title == "Queue keeps messages longer than the declared event pipeline"
    # the ordering clause is not declared here: no FifoQueue finding
    assert all(f.property == "MessageRetentionPeriod" for f in found)


def test_ordered_queue_patterns_follow_the_declaration(tmp_path: Path) -> None:
    profile = _declaring(
        "events.retention_days",
        "events.fifo_queues",
        queue_retention_days=14,
        ordered_queue_patterns=("*week*",),
    )
    found = _scan("AR-EVT-007", TEMPLATES / "AR-EVT-007" / "fail.yaml", tmp_path, profile=profile)
    fifo = [f for f in found if f.property == "FifoQueue"]
    assert [f.resource for f in fifo] == ["WeekQueue"]
    assert fifo[0].confidence.value == "low"  # matched by logical id only
    assert fifo[0].severity.value == "medium"


def test_queue_settings_are_not_judged_without_a_declared_retention(tmp_path: Path) -> None:
    # events.retention_days is required: declaring the ordered queues alone does not run the rule
    profile = _declaring("events.fifo_queues", ordered_queue_patterns=("*asset-processing*",))
    report = _report(
        "AR-EVT-007", TEMPLATES / "AR-EVT-007" / "fail.yaml", tmp_path, profile=profile
    )
    assert not [f for f in report.findings if f.rule_id == "AR-EVT-007"]
    assert not [e for e in report.evaluations if e.rule_id == "AR-EVT-007"]


def test_config_recorder_only_where_compliance_monitoring_is_declared(tmp_path: Path) -> None:
    fixture = TEMPLATES / "AR-OBS-008" / "fail.yaml"
    assert not _scan("AR-OBS-008", fixture, tmp_path / "baseline")
    declared_off = _declaring("platform.compliance_monitoring", compliance_monitoring=False)
    assert not _scan("AR-OBS-008", fixture, tmp_path / "off", profile=declared_off)
    declared_on = _declaring("platform.compliance_monitoring", compliance_monitoring=True)
    found = _scan("AR-OBS-008", fixture, tmp_path / "on", profile=declared_on)
    assert [(f.persona, f.severity.value) for f in found] == [(Persona.AUDITOR, "info")]


def test_repository_level_config_finding_names_the_top_most_template(tmp_path: Path) -> None:
    profile = _declaring("platform.compliance_monitoring", compliance_monitoring=True)
    found = _scan("AR-OBS-008", TEMPLATES / "AR-OBS-008" / "fail-repo", tmp_path, profile=profile)
    assert [(f.file, f.line, f.severity.value) for f in found] == [("template.yaml", 1, "info")]


def test_a_module_that_declares_compliance_monitoring_gets_the_finding(tmp_path: Path) -> None:
    # the root declares nothing; the module "audited" declares compliance monitoring for itself
    root = tmp_path / "repo"
    for module in ("plain", "audited"):
        (root / module).mkdir(parents=True)
        shutil.copy(TEMPLATES / "AR-OBS-008" / "fail.yaml", root / module / "template.yaml")
    (root / "audited" / ".archreview.yml").write_text(
        "platform:\n  compliance_monitoring: true\n", encoding="utf-8"
    )
    report = scan(
        root,
        ScanOptions(checks=(CHECKS["AR-OBS-008"],), strict=True, persona=Persona.AUDITOR),
    )
    found = [f for f in report.findings if f.rule_id == "AR-OBS-008"]
    assert [f.file for f in found] == ["audited/template.yaml"]


def test_globals_logging_config_inherited_by_three_functions_is_one_finding(
    tmp_path: Path,
) -> None:
    found = _scan("AR-OBS-003", TEMPLATES / "AR-OBS-003" / "fail-globals.yaml", tmp_path)
    assert len(found) == 1
    finding = found[0]
    assert (finding.resource, finding.line) == ("Ingest", 12)  # the Globals LoggingConfig line
    assert [(r.logical_id, r.message) for r in finding.related] == [
        ("Enrich", "inherits Globals.Function.LoggingConfig"),
        ("Publish", "inherits Globals.Function.LoggingConfig"),
    ]
    assert [r.line for r in finding.related] == [18, 20]


def test_globals_tracing_inherited_by_three_functions_is_one_finding(tmp_path: Path) -> None:
    found = _scan("AR-OBS-002", TEMPLATES / "AR-OBS-002" / "fail-globals.yaml", tmp_path)
    assert len(found) == 1
    assert found[0].line == 11  # Globals.Function.Tracing
    assert [r.logical_id for r in found[0].related] == ["Payments", "Refunds"]
    assert found[0].persona is Persona.PEDANTIC


def test_trail_gaps_are_one_finding_and_the_key_a_separate_nudge(tmp_path: Path) -> None:
    found = _scan("AR-OBS-001", TEMPLATES / "AR-OBS-001" / "fail.yaml", tmp_path)
    by_property = {f.property: f for f in found}
    assert set(by_property) == {"EnableLogFileValidation", "KMSKeyId"}
    gaps = by_property["EnableLogFileValidation"]
    assert [(r.path, r.message) for r in gaps.related] == [
        ("IsMultiRegionTrail", "also: IsMultiRegionTrail is not true")
    ]
    assert by_property["KMSKeyId"].persona is Persona.PEDANTIC
    assert "profile" not in by_property["KMSKeyId"].message  # nothing was declared


def test_the_default_persona_hides_nudges_and_counts_them(tmp_path: Path) -> None:
    # a queue nothing in the repository reads: a pedantic finding, not shown by default
    fixture = TEMPLATES / "AR-EVT-001" / "fail-no-consumer.yaml"
    report = _report("AR-EVT-001", fixture, tmp_path / "regular", persona=Persona.REGULAR)
    assert not [f for f in report.findings if f.rule_id == "AR-EVT-001"]
    assert dict(report.hidden)["pedantic"] == 1
    shown = _scan("AR-EVT-001", fixture, tmp_path / "pedantic", persona=Persona.PEDANTIC)
    assert [f.resource for f in shown] == ["AuditQueue"]


def test_timeout_from_parameter_values_is_certain(tmp_path: Path) -> None:
    fixture = TEMPLATES / "AR-EVT-003" / "fail-parameter-default.yaml"
    found = _scan("AR-EVT-003", fixture, tmp_path, parameters={"WorkerTimeout": "200"})
    assert len(found) == 1
    assert found[0].confidence.value == "high"
    assert "the 200 s Timeout of Worker" in found[0].message
    assert "from the parameter values" in found[0].message


def test_parameter_values_can_make_the_queue_pass(tmp_path: Path) -> None:
    fixture = TEMPLATES / "AR-EVT-003" / "fail-parameter-default.yaml"
    assert not _scan("AR-EVT-003", fixture, tmp_path, parameters={"WorkerTimeout": "100"})


# -- issue 17: dead-letter queues fed by SendMessage, stream consumers ------------------------


def test_sent_messages_alarm_counts_until_a_queue_redrives_into_the_dlq(tmp_path: Path) -> None:
    source = (TEMPLATES / "AR-OBS-004" / "pass-sendmessage.yaml").read_text(encoding="utf-8")
    fixture = tmp_path / "in" / "template.yaml"
    fixture.parent.mkdir(parents=True)
    fixture.write_text(source, encoding="utf-8")
    assert _scan("AR-OBS-004", fixture, tmp_path / "before") == []
    # the same rule dead-letter queue now also receives another queue's redrives, which SQS
    # moves itself: NumberOfMessagesSent no longer sees every message that arrives
    fixture.write_text(
        source
        + "  Work:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n"
        + "        deadLetterTargetArn: !GetAtt RuleDlq.Arn\n        maxReceiveCount: 5\n",
        encoding="utf-8",
    )
    (found,) = _scan("AR-OBS-004", fixture, tmp_path / "after")
    assert found.resource == "RuleDlq"
    assert "does not count the messages SQS moves here by the RedrivePolicy of Work" in (
        found.message
    )


def test_stream_destination_in_one_branch_is_medium_and_names_the_condition(
    tmp_path: Path,
) -> None:
    text = """AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  Prod: !Equals [!Ref "AWS::AccountId", "123456789012"]
Resources:
  S:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  F:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: i.h
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: "x"}
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt S.Arn
      FunctionName: !Ref F
      StartingPosition: LATEST
      MaximumRetryAttempts: 2
      BisectBatchOnFunctionError: true
      DestinationConfig: !If
        - Prod
        - OnFailure: {Destination: arn:aws:sqs:eu-west-1:123456789012:failed}
        - !Ref AWS::NoValue
"""
    fixture = tmp_path / "in" / "template.yaml"
    fixture.parent.mkdir(parents=True)
    fixture.write_text(text, encoding="utf-8")
    (found,) = _scan("AR-EVT-008", fixture, tmp_path / "scan")
    assert found.confidence.value == "medium"
    assert "no DestinationConfig.OnFailure when !Prod" in found.message


def test_function_dead_letter_queue_is_a_related_location_of_the_stream_finding(
    tmp_path: Path,
) -> None:
    found = _scan("AR-EVT-008", TEMPLATES / "AR-EVT-008" / "fail.yaml", tmp_path)
    (with_dlq,) = [f for f in found if f.resource == "FunctionDlqMapping"]
    assert [(r.logical_id, r.message) for r in with_dlq.related] == [
        ("ConsumerWithDlq", "function-level dead-letter queue, never used for stream records")
    ]
    assert with_dlq.title.startswith("Stream consumer relying on a function-level")
    # every stream mapping of the fixture is judged, and nothing else is reported
    assert {f.resource for f in found} == {
        "ClicksMapping",
        "OrdersMapping",
        "RetryForeverMapping",
        "FunctionDlqMapping",
        "KafkaMapping",
        "SelfManagedMapping",
        "ParallelMapping",
    }
