"""A repository's own rules (issue 21): the language, its errors (exit 2 with file:line and a
suggestion), its bounds, `archreview rules` / `rules test` / `explain`, the profile's rule
paths, and custom findings in every output format (custom id, layer and help link)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.checks.custom import CustomRules, load_custom_rules
from reviewer.checks.custom import language as lang
from reviewer.checks.custom.language import RuleFileError, parse_rule
from reviewer.checks.custom.patterns import glob_match, path_glob_match
from reviewer.cli.main import main
from reviewer.core.types import Confidence, Persona, Report, Severity
from reviewer.github.prmode import input_kind
from reviewer.profile import Profile
from reviewer.runner.engine import ScanOptions, scan

from . import gitrepo
from .conftest import FIXTURES

ERRORS = FIXTURES / "custom-rules" / "errors"
BUILTINS = FIXTURES / "custom-rules" / "builtins"
EXAMPLE = FIXTURES / "repos" / "chariot-platform"

HEADER = """\
id: {id}
title: {title}
layer: {layer}
severity: medium
confidence: high
adr:
  context: A test rule.
  decision: Hold the test to it.
  consequences: The test says whether it holds.
  references:
    - title: A reference
      url: https://example.com/rule
"""


def rule_text(
    body: str, *, rid: str = "ACME-EVT-001", title: str = "Queue rule", layer: str = "EVT"
) -> str:
    return HEADER.format(id=rid, title=title, layer=layer) + textwrap.dedent(body)


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def custom_findings(
    report: Report, prefix: str = "ACME-"
) -> list[tuple[str, str, int, str | None, str | None, str]]:
    return sorted(
        (
            (f.rule_id, f.file, f.line, f.resource, f.property, f.severity.value)
            for f in report.findings
            if f.rule_id.startswith(prefix)
        ),
        key=lambda row: tuple("" if v is None else str(v) for v in row),
    )


def run_scan(root: Path, profile: Profile | None = None) -> Report:
    return scan(root, ScanOptions(persona=Persona.AUDITOR, profile=profile or Profile()))


QUEUES = """\
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  Prod: !Equals [!Ref AWS::AccountId, "123456789012"]
Resources:
  ShortQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 20
      Tags:
        - {Key: owner, Value: payments}
  LongQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
  SometimesQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !If [Prod, 300, 10]
      RedrivePolicy: '{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:1:dlq", "maxReceiveCount": 3}'
"""


# -- rule files with errors: exit 2, file:line, a suggestion ---------------------------------------

ERROR_CASES = {
    "unknown-key.yaml": (12, "unknown key 'requir'", "require"),
    "unknown-type.yaml": (11, "unknown resource type 'AWS::SQS::Queu'", "AWS::SQS::Queue"),
    "unknown-edge.yaml": (12, "unknown edge kind 'alarm'", "alarm-on"),
    "unknown-condition.yaml": (12, "unknown condition 'propery'", "property"),
    "unknown-layer.yaml": (4, "unknown layer 'DATA'", "DAT"),
    "builtin-prefix.yaml": (2, "archreview's own prefix AR-", None),
    "backreference.yaml": (12, "not a regular expression RE2 accepts", None),
    "wrong-peer-key.yaml": (12, "names its peer with `from:`", "from"),
}


def test_every_error_fixture_is_listed() -> None:
    assert sorted(p.name for p in ERRORS.glob("*.yaml")) == sorted(ERROR_CASES)


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_rule_file_error_exits_2_with_file_line_and_suggestion(name: str, tmp_path: Path) -> None:
    line, message, suggestion = ERROR_CASES[name]
    root = repo(tmp_path, {"template.yaml": QUEUES})
    (root / ".archreview" / "rules").mkdir(parents=True)
    shutil.copy(ERRORS / name, root / ".archreview" / "rules" / name)
    result = CliRunner().invoke(main, ["scan", str(root)])
    assert result.exit_code == 2, result.output
    expected = f".archreview/rules/{name}:{line}: "
    assert expected in result.output and message in result.output, result.output
    if suggestion is not None:
        assert f"(did you mean {suggestion!r}?)" in result.output
    assert "Traceback" not in result.output
    # every command that reads the rules says the same
    listing = CliRunner().invoke(main, ["rules", str(root)])
    assert listing.exit_code == 2 and expected in listing.output


def test_rule_file_error_str_is_file_line_message() -> None:
    err = RuleFileError("unknown key 'x'", "r.yaml", 3, 5, "y")
    assert str(err) == "r.yaml:3: unknown key 'x' (did you mean 'y'?)"


def test_yaml_syntax_error_is_a_rule_file_error() -> None:
    with pytest.raises(RuleFileError) as err:
        parse_rule("id: [\n", "broken.yaml")
    assert err.value.file == "broken.yaml" and err.value.line >= 1


def test_empty_and_missing_keys() -> None:
    with pytest.raises(RuleFileError, match="empty"):
        parse_rule("", "e.yaml")
    with pytest.raises(RuleFileError, match="has no 'select'"):
        parse_rule(HEADER.format(id="ACME-A-1", title="t", layer="EVT"), "e.yaml")
    with pytest.raises(RuleFileError, match="either `require`"):
        parse_rule(rule_text("select: {types: [AWS::SQS::Queue]}\n"), "e.yaml")


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    root = repo(
        tmp_path,
        {".archreview/rules/a.yaml": rule_text(body), ".archreview/rules/b.yaml": rule_text(body)},
    )
    with pytest.raises(RuleFileError, match=r"also declared in \.archreview/rules/a\.yaml"):
        load_custom_rules(root, Profile())


# -- bounds -------------------------------------------------------------------------------------


def test_nesting_and_size_bounds() -> None:
    deep = "property: VisibilityTimeout\nge: 1\n"
    cond: Any = {"property": "VisibilityTimeout", "ge": 1}
    for _ in range(lang.MAX_DEPTH + 2):
        cond = {"not": cond}
    text = rule_text("select: {types: [AWS::SQS::Queue]}\nrequire: " + json.dumps(cond) + "\n")
    with pytest.raises(RuleFileError, match="nested deeper than"):
        parse_rule(text, "deep.yaml")
    many = {"all": [{"property": "VisibilityTimeout", "ge": i} for i in range(lang.MAX_NODES + 5)]}
    text = rule_text("select: {types: [AWS::SQS::Queue]}\nrequire: " + json.dumps(many) + "\n")
    with pytest.raises(RuleFileError, match="more than 256 conditions"):
        parse_rule(text, "wide.yaml")
    big = rule_text("select: {types: [AWS::SQS::Queue]}\nrequire: {" + deep.strip() + "}\n")
    big += "# " + "x" * lang.MAX_RULE_BYTES + "\n"
    with pytest.raises(RuleFileError, match="larger than"):
        parse_rule(big, "big.yaml")
    with pytest.raises(RuleFileError, match="longer than 256"):
        parse_rule(
            rule_text(
                "select: {types: [AWS::SQS::Queue]}\nrequire: {property: QueueName, regex: '"
                + "a" * 300
                + "'}\n"
            ),
            "r.yaml",
        )


def test_a_rule_over_its_work_bound_is_reported_and_the_scan_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = """\
    select: {types: [AWS::SQS::Queue]}
    require: {property: VisibilityTimeout, ge: 60}
    """
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)})
    full = run_scan(root)
    assert custom_findings(full), "the rule finds something within its bound"
    monkeypatch.setattr(lang, "MAX_WORK", 5)
    cut = run_scan(root)
    assert not custom_findings(cut)
    notes = [f for f in cut.findings if f.rule_id == "AR-MOD-006" and "ACME-EVT-001" in f.message]
    assert len(notes) == 1 and "not fully evaluated on template.yaml" in notes[0].message
    assert "bound of 5 evaluation steps" in notes[0].message
    # the built-in checks still ran
    assert {f.rule_id for f in cut.findings} - {"AR-MOD-006"} == {
        f.rule_id for f in full.findings
    } - {"ACME-EVT-001"} - {"AR-MOD-006"}


def test_regular_expressions_do_not_backtrack(tmp_path: Path) -> None:
    """A pattern that takes exponential time on a backtracking engine, on a long value: RE2
    answers (the subprocess is killed after 60 s, a hang limit, not a timing)."""
    code = textwrap.dedent(
        """
        from reviewer.checks.custom.patterns import compile_regex, glob_match
        r = compile_regex("(a+)+$")
        assert not r.search("a" * 200000 + "!")
        assert not glob_match("*a" * 12 + "*b", "a" * 200000)
        print("done")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0 and "done" in done.stdout, done.stderr


_ALPHABET = "ab*?"


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.text(_ALPHABET, max_size=8), st.text("ab", max_size=10))
def test_glob_matches_like_a_regular_expression(pattern: str, text: str) -> None:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    assert glob_match(pattern, text) == bool(re.fullmatch(regex, text, re.DOTALL))


def test_path_globs() -> None:
    assert path_glob_match("modules/**", "modules/janus/cloudformation")
    assert path_glob_match("modules/*", "modules/janus")
    assert not path_glob_match("modules/*", "modules/janus/cloudformation")
    assert path_glob_match("*.json", "modules/janus/cloudformation/service.json")
    assert path_glob_match("**/service.json", "modules/janus/cloudformation/service.json")


# -- the language on the model -----------------------------------------------------------------------


def test_properties_values_conditions_and_json_strings(tmp_path: Path) -> None:
    body = """\
    select: {types: [AWS::SQS::Queue]}
    cases:
      - id: visibility
        require: {property: VisibilityTimeout, ge: 60}
      - id: redrive
        severity: low
        when: {property: RedrivePolicy, written: true}
        require: {property: RedrivePolicy.maxReceiveCount, ge: 5}
    """
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)})
    report = run_scan(root)
    found = {
        (f.resource, f.property, f.severity, f.confidence)
        for f in report.findings
        if f.rule_id == "ACME-EVT-001"
    }
    assert found == {
        ("ShortQueue", "VisibilityTimeout", Severity.MEDIUM, Confidence.HIGH),
        # only when Prod is false: a finding on that branch, at medium confidence
        ("SometimesQueue", "VisibilityTimeout.Fn::If[2]", Severity.MEDIUM, Confidence.MEDIUM),
        # a JSON string read as what it holds; the case's own severity
        ("SometimesQueue", "RedrivePolicy.maxReceiveCount", Severity.LOW, Confidence.HIGH),
    }


def test_tags_names_not_and_any(tmp_path: Path) -> None:
    body = """\
    select: {types: [AWS::SQS::Queue], names: ["*Queue"]}
    require:
      any:
        - {property: Tags.*.Key, equals: owner}
        - {name: {regex: "^Long"}}
    """
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)})
    assert [f[3] for f in custom_findings(run_scan(root))] == ["SometimesQueue"]
    body = "select: {types: [AWS::SQS::Queue], tags: {owner: pay*}}\nrequire: {not: {property: VisibilityTimeout, lt: 60}}\n"
    root2 = repo(
        tmp_path / "two", {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)}
    )
    assert [f[3] for f in custom_findings(run_scan(root2))] == ["ShortQueue"]


PIPELINE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 40
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 100
      RedrivePolicy: {deadLetterTargetArn: !GetAtt JobsDlq.Arn, maxReceiveCount: 5}
  JobsDlq:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        Jobs:
          Type: SQS
          Properties: {Queue: !GetAtt Jobs.Arn}
"""
ALARMS = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DlqDepth:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions: [{Name: QueueName, Value: !ImportValue jobs-dlq-name}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
"""


def test_comparison_across_an_edge_with_a_factor_and_globals(tmp_path: Path) -> None:
    body = """\
    select: {types: [AWS::SQS::Queue]}
    where: {edge: event-source, direction: out}
    require:
      edge: event-source
      compare: {property: VisibilityTimeout, default: 30, ge: {peer: Timeout, default: 3, factor: 6}}
    """
    root = repo(
        tmp_path, {"service/template.yaml": PIPELINE, ".archreview/rules/r.yaml": rule_text(body)}
    )
    (finding,) = [f for f in run_scan(root).findings if f.rule_id == "ACME-EVT-001"]
    assert (finding.resource, finding.property) == ("Jobs", "VisibilityTimeout")
    assert "6 x the 40 Timeout of Worker" in finding.message  # Globals.Function.Timeout


def test_relationship_to_a_peer_that_meets_a_condition(tmp_path: Path) -> None:
    """A consumed queue's dead-letter queue must be watched by an alarm (two edges)."""
    body = """\
    select: {types: [AWS::SQS::Queue]}
    where: {edge: event-source, direction: out}
    require:
      edge: redrive
      to: {where: {edge: alarm-on, direction: in, metric: ApproximateNumberOfMessagesVisible}}
    """
    files = {"service/template.yaml": PIPELINE, ".archreview/rules/r.yaml": rule_text(body)}
    root = repo(tmp_path, files)
    assert [f[3] for f in custom_findings(run_scan(root))] == ["Jobs"]
    watched = PIPELINE + textwrap.indent(ALARMS.split("Resources:\n", 1)[1], "").replace(
        "!ImportValue jobs-dlq-name", "!GetAtt JobsDlq.QueueName"
    )
    root2 = repo(tmp_path / "two", {**files, "service/template.yaml": watched})
    assert custom_findings(run_scan(root2)) == []


def test_counts_with_a_profile_value_and_requires(tmp_path: Path) -> None:
    body = """\
    requires: [dynamodb.single_table_limit]
    select: {types: [AWS::SQS::Queue]}
    require:
      count: {types: [AWS::SQS::Queue], scope: template}
      le: {profile: dynamodb.single_table_limit}
    """
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)})
    assert custom_findings(run_scan(root)) == []  # not declared: the rule does not run
    from dataclasses import replace

    declared = replace(
        Profile(), single_table_limit=2, declared=frozenset({"dynamodb.single_table_limit"})
    )
    assert len(custom_findings(run_scan(root, declared))) == 3  # 3 queues > 2: each is over


def test_modules_selector_and_other_module_peers(tmp_path: Path) -> None:
    reader = """\
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      Reader:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: a.b
          Role: !GetAtt Role.Arn
          Code: {ZipFile: x}
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: {}
          Policies:
            - PolicyName: p
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: [sqs:ReceiveMessage]
                    Resource: !ImportValue other-queue-arn
    """
    body = """\
    select: {types: [AWS::Lambda::Function], modules: ["billing"]}
    require: {not: {edge: reads, to: {module: other}}}
    """
    files = {
        "billing/template.yaml": textwrap.dedent(reader),
        "billing/go.mod": "module example.com/billing\n\ngo 1.22\n",
        "shipping/template.yaml": QUEUES.replace("  LongQueue:\n", "  LongQueue:\n")
        + "Outputs:\n  Arn:\n    Value: !GetAtt LongQueue.Arn\n    Export: {Name: other-queue-arn}\n",
        "shipping/go.mod": "module example.com/shipping\n\ngo 1.22\n",
        ".archreview/rules/r.yaml": rule_text(body),
    }
    root = repo(tmp_path, files)
    found = custom_findings(run_scan(root))
    assert [(f[1], f[3]) for f in found] == [("billing/template.yaml", "Reader")]


# -- commands -------------------------------------------------------------------------------------


def test_rules_lists_builtins_and_with_a_path_the_repository_rules() -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["rules"])
    assert plain.exit_code == 0 and "AR-EVT-003" in plain.output and "X-DAT-002" not in plain.output
    listed = runner.invoke(main, ["rules", str(BUILTINS), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in json.loads(listed.output)}
    assert rows["X-DAT-002"]["file"] == ".archreview/rules/X-DAT-002.yaml"
    assert "AR-DAT-002" in rows


def test_explain_a_custom_rule() -> None:
    result = CliRunner().invoke(main, ["explain", "X-OBS-004", "--path", str(BUILTINS)])
    assert result.exit_code == 0, result.output
    assert "# X-OBS-004: Dead-letter queue without an alarm" in result.output
    assert "Every dead-letter queue has a CloudWatch alarm" in result.output
    assert CliRunner().invoke(main, ["explain", "X-NOPE-1", "--path", str(BUILTINS)]).exit_code == 2


def test_rules_test_passes_on_the_builtin_fixtures() -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(BUILTINS)])
    assert result.exit_code == 0, result.output
    assert "13 of 13 fixtures pass" in result.output


def test_rules_test_fails_on_a_missing_or_an_unexpected_finding(tmp_path: Path) -> None:
    root = tmp_path / "team"
    shutil.copytree(BUILTINS, root)
    fixture = root / ".archreview" / "tests" / "X-DAT-002-fail.yaml"
    lines = fixture.read_text().splitlines()
    marked = [i for i, line in enumerate(lines) if "archreview: expect X-DAT-002" in line]
    lines[marked[0]] = lines[marked[0]].split("  # archreview: expect")[0]  # an unexpected finding
    lines[1] += "  # archreview: expect X-DAT-002"  # a missing one
    fixture.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["rules", "test", str(root)])
    assert result.exit_code == 1, result.output
    assert "FAIL  X-DAT-002-fail.yaml" in result.output
    assert "X-DAT-002-fail.yaml:2: expected X-DAT-002, not found" in result.output
    assert f"X-DAT-002-fail.yaml:{marked[0] + 1}: unexpected X-DAT-002" in result.output
    assert "12 of 13 fixtures pass" in result.output


def test_rules_test_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = repo(tmp_path, {"template.yaml": QUEUES})
    assert runner.invoke(main, ["rules", "test", str(empty)]).exit_code == 2  # no rules
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    (empty / ".archreview" / "rules").mkdir(parents=True)
    (empty / ".archreview" / "rules" / "r.yaml").write_text(rule_text(body))
    no_fixtures = runner.invoke(main, ["rules", "test", str(empty)])
    assert no_fixtures.exit_code == 2 and "no fixtures" in no_fixtures.output
    shutil.copy(ERRORS / "unknown-edge.yaml", empty / ".archreview" / "rules" / "bad.yaml")
    broken = runner.invoke(main, ["rules", "test", str(empty)])
    assert broken.exit_code == 2 and ".archreview/rules/bad.yaml:12:" in broken.output


def test_profile_lists_rule_paths(tmp_path: Path) -> None:
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    root = repo(
        tmp_path,
        {
            "template.yaml": QUEUES,
            "platform/rules/visibility.yaml": rule_text(body),
            ".archreview.yml": "version: 1\nrules: [platform/rules]\n",
        },
    )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["scan", str(root), "--format", "json", "--output", str(out), "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    ids = {f["rule_id"] for f in json.loads(out.read_text())["findings"]}
    assert "ACME-EVT-001" in ids
    (root / ".archreview.yml").write_text("version: 1\nrules: [../outside]\n")
    escaped = CliRunner().invoke(main, ["scan", str(root)])
    assert escaped.exit_code == 2 and "leaves the repository" in escaped.output


def test_rule_files_are_not_read_through_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    outside.write_text(rule_text(body))
    root = repo(tmp_path, {"template.yaml": QUEUES})
    (root / ".archreview" / "rules").mkdir(parents=True)
    os.symlink(outside, root / ".archreview" / "rules" / "linked.yaml")
    result = CliRunner().invoke(main, ["scan", str(root)])
    assert result.exit_code == 2 and "symbolic link" in result.output
    (root / ".archreview" / "rules" / "linked.yaml").unlink()
    (root / ".archreview" / "rules").rmdir()
    os.symlink(tmp_path, root / ".archreview" / "rules")
    result = CliRunner().invoke(main, ["scan", str(root)])
    assert result.exit_code == 2 and "symbolic link" in result.output


def test_digest_covers_every_rule_file_path_and_bytes(tmp_path: Path) -> None:
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    root = repo(tmp_path, {".archreview/rules/a.yaml": rule_text(body)})
    first = load_custom_rules(root, Profile())
    assert first.files == (".archreview/rules/a.yaml",) and len(first.digest) == 64
    (root / ".archreview/rules/a.yaml").write_text(rule_text(body) + "# changed\n")
    second = load_custom_rules(root, Profile())
    (root / ".archreview/rules/a.yaml").rename(root / ".archreview/rules/b.yaml")
    third = load_custom_rules(root, Profile())
    assert len({first.digest, second.digest, third.digest}) == 3
    (tmp_path / "none").mkdir()
    assert load_custom_rules(tmp_path / "none", Profile()) == CustomRules()


def test_pr_mode_names_changed_rule_files() -> None:
    assert input_kind(".archreview/rules/a.yaml") == "rules"
    assert input_kind("services/x/.archreview/rules/b.yml") == "rules"
    assert input_kind(".archreview/rules/README.md") is None


# -- every output format -------------------------------------------------------------------------------


def test_every_output_format_shows_a_custom_finding(tmp_path: Path) -> None:
    """A rule of a new layer, in a git repository with a GitHub remote: every format names the
    custom id and the layer, the SARIF rule's help link is the rule file at the head commit,
    and the rule's text (hostile on purpose) is inert."""
    from dataclasses import replace

    from reviewer.outputs import RenderOptions, html, json_report, junit, markdown, sarif, text
    from reviewer.outputs.adr import write_adrs

    body = """\
    select: {types: [AWS::SQS::Queue]}
    require: {property: VisibilityTimeout, ge: 60}
    message: "Queue {subject} is too quick ({detail})"
    """
    title = "Queue <b>too</b> quick ::error::x"
    rule = rule_text(
        body, rid="ACME-PLT-007", title=f'"{title}"', layer="{id: PLT, label: Platform conventions}"
    )
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/quick.yaml": rule})
    gitrepo.init(root)
    gitrepo.git(root, "-c", "user.email=a@b", "-c", "user.name=a", "add", "-A")
    gitrepo.git(root, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "x")
    gitrepo.git(root, "remote", "add", "origin", "https://github.com/acme/shop.git")
    head = gitrepo.git(root, "rev-parse", "HEAD")
    report = run_scan(root)
    ours = [f for f in report.findings if f.rule_id == "ACME-PLT-007"]
    assert ours and all(f.layer == "PLT" for f in ours)
    assert "PLT" in dict(report.layers)
    options = RenderOptions()

    rendered_text = text.render(report, options)
    assert "ACME-PLT-007" in rendered_text and "PLT Platform conventions" in rendered_text

    doc = json.loads(json_report.render(report, options))
    assert doc["summary"]["layers"]["PLT"]["label"] == "Platform conventions"
    assert any(f["rule_id"] == "ACME-PLT-007" and f["layer"] == "PLT" for f in doc["findings"])

    log = json.loads(sarif.render(report, options))
    (descriptor,) = [
        r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "ACME-PLT-007"
    ]
    assert (
        descriptor["helpUri"]
        == f"https://github.com/acme/shop/blob/{head}/.archreview/rules/quick.yaml#L1"
    )
    assert "Platform conventions" in descriptor["help"]["text"]
    assert "<b>" not in descriptor["help"]["markdown"]
    assert any(r["ruleId"] == "ACME-PLT-007" for r in log["runs"][0]["results"])

    md = markdown.render(report, options)
    assert "ACME-PLT-007" in md and "<b>too</b>" not in md
    assert "| PLT Platform conventions |" in md

    page = html.render(report, options)
    assert "ACME-PLT-007" in page and "<b>too</b>" not in page and "&lt;b&gt;too" in page
    assert '<span class="lbl">Platform conventions</span>' in page

    xml = junit.render(report, options)
    assert "ACME-PLT-007" in xml and "<b>too</b>" not in xml
    assert 'testsuite name="PLT Platform conventions"' in xml

    out = tmp_path / "adr"
    outcome = write_adrs(replace(report), out, root=root, today=date(2026, 1, 1))
    written = "\n".join(p.read_text() for p in out.glob("*.md"))
    assert "ACME-PLT-007" in written and "PLT Platform conventions" in written
    assert "<b>too</b>" not in written
    assert outcome is not None


def test_example_repository_shows_its_own_rules() -> None:
    report = run_scan(EXAMPLE)
    found = custom_findings(report, "CHARIOT-")
    assert found == [
        (
            "CHARIOT-EVT-101",
            "modules/janus/cloudformation/service.json",
            196,
            "ScanQueue",
            None,
            "high",
        ),
        (
            "CHARIOT-PLT-001",
            "modules/janus/cloudformation/service.json",
            201,
            "ScanQueue",
            "MessageRetentionPeriod",
            "medium",
        ),
    ]
    assert dict(report.layers)["PLT"].failed == 1


def test_fifos_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO as a rule file is refused (exit 2); a FIFO among the fixtures is left out. Run
    in a subprocess killed after 60 s: a hang is a failure, not a timing."""
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    root = repo(tmp_path, {"template.yaml": QUEUES, ".archreview/rules/r.yaml": rule_text(body)})
    os.mkfifo(root / ".archreview" / "rules" / "wait.yaml")
    cli = [sys.executable, "-m", "reviewer"]
    cwd = Path(__file__).parents[1]
    done = subprocess.run(
        [*cli, "scan", str(root)], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    (root / ".archreview" / "rules" / "wait.yaml").unlink()
    tests = root / ".archreview" / "tests"
    tests.mkdir()
    marked = QUEUES.replace(
        "VisibilityTimeout: 20", "VisibilityTimeout: 20  # archreview: expect ACME-EVT-001"
    ).replace("300, 10]", "300, 10]  # archreview: expect ACME-EVT-001")
    (tests / "q.yaml").write_text(marked)
    os.mkfifo(tests / "pipe.yaml")
    (tests / "folder").mkdir()
    os.mkfifo(tests / "folder" / "pipe.yaml")
    done = subprocess.run(
        [*cli, "rules", "test", str(root)], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert "FAIL  q.yaml" not in done.stdout, done.stdout
    assert "ok    q.yaml" in done.stdout, done.stdout + done.stderr


def test_the_json_schema_describes_the_rule_files() -> None:
    """reviewer/data/custom-rule.schema.json (for editors) accepts every rule the loader
    accepts here, and refuses the structural mistakes of the error fixtures."""
    import jsonschema
    import yaml

    schema_path = Path(lang.__file__).parents[2] / "data" / "custom-rule.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = [
        *(BUILTINS / ".archreview" / "rules").glob("*.yaml"),
        *(EXAMPLE / ".archreview" / "rules").glob("*.yaml"),
    ]
    assert len(good) == 7
    for path in good:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert not errors, (path.name, [e.message for e in errors])
    for name in (
        "unknown-key.yaml",
        "unknown-edge.yaml",
        "unknown-condition.yaml",
        "builtin-prefix.yaml",
    ):
        doc = yaml.safe_load((ERRORS / name).read_text(encoding="utf-8"))
        assert list(validator.iter_errors(doc)), name


def test_custom_findings_are_suppressed_and_tuned_like_builtins(tmp_path: Path) -> None:
    """An inline suppression, a profile suppression and a profile severity name a custom id
    as they name a built-in one; an AR- id that does not exist is still an error."""
    body = "select: {types: [AWS::SQS::Queue]}\nrequire: {property: VisibilityTimeout, ge: 60}\n"
    suppressed = QUEUES.replace(
        "  ShortQueue:\n    Type: AWS::SQS::Queue\n",
        "  ShortQueue:\n    Type: AWS::SQS::Queue\n    Metadata:\n      archreview:\n"
        "        ignore:\n          - {id: ACME-EVT-001, reason: drained by a batch job}\n",
    )
    profile = (
        "version: 1\n"
        "rules:\n  ACME-EVT-001: {severity: high}\n"
        "suppressions:\n"
        "  - {path: template.yaml, id: ACME-EVT-001, subject: SometimesQueue, reason: prod only}\n"
    )
    root = repo(
        tmp_path,
        {
            "template.yaml": suppressed,
            ".archreview/rules/r.yaml": rule_text(body),
            ".archreview.yml": profile,
        },
    )
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main, ["scan", str(root), "--format", "json", "--output", str(out), "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    found = [f for f in json.loads(out.read_text())["findings"] if f["rule_id"] == "ACME-EVT-001"]
    by_resource = {f["resource"]: f for f in found}
    assert by_resource["ShortQueue"]["suppressed"]["kind"] == "inline"
    assert by_resource["SometimesQueue"]["suppressed"]["kind"] == "profile"
    assert all(f["severity"] == "high" for f in found)
    assert not any(f["rule_id"] == "AR-MOD-004" for f in json.loads(out.read_text())["findings"])
    (root / ".archreview.yml").write_text("version: 1\nrules:\n  AR-EVT-099: {severity: high}\n")
    assert CliRunner().invoke(main, ["scan", str(root)]).exit_code == 2
