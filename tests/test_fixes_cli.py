"""`archreview fix PATH`: safe fixes written atomically inside the checkout, --diff, --rule,
files changed since the scan, links, and what it says remains."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli.fix import Outcome, plan_changes, run_fixes, wanted, write_change
from reviewer.cli.main import main
from reviewer.core.safefs import UnsafePath
from reviewer.core.types import Finding, Persona
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES

QUEUE = FIXTURES / "templates" / "AR-EVT-003" / "fail-sam.yaml"
TABLES = FIXTURES / "templates" / "AR-DBS-002" / "fail.yaml"


def repo(tmp_path: Path, *files: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for f in files:
        shutil.copy(f, root / f.name)
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["fix", *args])
    return result.exit_code, result.output


def test_fix_writes_the_safe_fixes_and_reports_what_remains(tmp_path: Path) -> None:
    root = repo(tmp_path, QUEUE, TABLES)
    os.chmod(root / TABLES.name, 0o640)
    code, out = run(str(root))
    assert code == 0, out
    assert "fixed fail-sam.yaml:12 AR-EVT-003 IngestQueue" in out
    assert "fixed fail.yaml:5 AR-DBS-002 OrdersTable" in out
    assert "VisibilityTimeout: 360 # NOT OK" in (root / QUEUE.name).read_text()
    assert (root / TABLES.name).stat().st_mode & 0o777 == 0o640  # the file's mode is kept
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]  # no temporary left
    left = [f for f in scan(root, ScanOptions()).findings if f.fix is not None]
    assert not left
    # a second run has nothing to do and changes no byte
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    code, out = run(str(root))
    assert code == 0 and out.startswith("0 finding(s) fixed")
    assert before == {p.name: p.read_bytes() for p in root.iterdir()}


def test_diff_writes_nothing_and_the_patch_applies(tmp_path: Path) -> None:
    root = repo(tmp_path, QUEUE, TABLES)
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    result = CliRunner().invoke(main, ["fix", str(root), "--diff"])
    assert result.exit_code == 0
    patch = result.stdout
    assert patch.startswith("--- a/fail-sam.yaml\n+++ b/fail-sam.yaml\n")
    assert before == {p.name: p.read_bytes() for p in root.iterdir()}
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (tmp_path / "fix.patch").write_text(patch)
    for cmd in (
        ["git", "apply", "--check", "-p1", str(tmp_path / "fix.patch")],
        ["patch", "-p1", "--dry-run", "-i", str(tmp_path / "fix.patch")],
    ):
        done = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    subprocess.run(
        ["git", "apply", "-p1", str(tmp_path / "fix.patch")], cwd=copy, check=True, timeout=60
    )
    run(str(root))
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == {
        p.name: p.read_bytes() for p in root.iterdir()
    }


def test_rule_limits_the_fixes_and_an_unknown_rule_is_a_usage_error(tmp_path: Path) -> None:
    root = repo(tmp_path, QUEUE, TABLES)
    queue = (root / QUEUE.name).read_bytes()
    code, out = run(str(root), "--rule", "AR-DBS-002")
    assert code == 0
    assert "AR-EVT-003" not in out.split("finding(s) fixed")[0]
    assert (root / QUEUE.name).read_bytes() == queue
    assert (
        "DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain"
        in (root / TABLES.name).read_text()
    )
    assert run(str(root), "--rule", "AR-NOPE-001")[0] == 2
    assert run(str(tmp_path / "missing"))[0] == 2


def test_crlf_template_stays_crlf(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    text = QUEUE.read_text().replace("\n", "\r\n")
    (root / "t.yaml").write_bytes(text.encode())
    assert run(str(root))[0] == 0
    data = (root / "t.yaml").read_bytes()
    assert b"VisibilityTimeout: 360" in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_a_file_changed_since_the_scan_is_not_touched(tmp_path: Path) -> None:
    root = repo(tmp_path, QUEUE)
    target = root / QUEUE.name

    def scan_then_edit() -> list[Finding]:
        found = list(scan(root, ScanOptions()).findings)
        target.write_text(
            target.read_text().replace("VisibilityTimeout: 120", "VisibilityTimeout: 121")
        )
        return found

    outcome, _ = run_fixes(root, scan_then_edit, unsafe=False, rules=(), diff=False)
    assert not outcome.fixed
    assert {why for _, why in outcome.skipped} == {"the file changed since the scan"}
    assert "VisibilityTimeout: 121" in target.read_text()


def test_the_write_refuses_bytes_changed_after_planning(tmp_path: Path) -> None:
    root = repo(tmp_path, QUEUE)
    found = wanted(scan(root, ScanOptions()).findings, unsafe=False, rules=())
    changes, _ = plan_changes(root, found, Outcome())
    (root / QUEUE.name).write_text("changed\n")
    with pytest.raises(UnsafePath):
        write_change(root, changes[0])
    assert (root / QUEUE.name).read_text() == "changed\n"


def test_links_out_of_the_checkout_are_never_written(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(QUEUE, outside / "t.yaml")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "linked")
    os.symlink(outside / "t.yaml", root / "t.yaml")
    before = (outside / "t.yaml").read_bytes()
    run(str(root))
    assert (outside / "t.yaml").read_bytes() == before
    assert os.path.islink(root / "t.yaml")
    # and directly: a planned change through a link is refused
    (tmp_path / "r2").mkdir()
    real = repo(tmp_path / "r2", QUEUE)
    found = wanted(scan(real, ScanOptions()).findings, unsafe=False, rules=())
    changes, _ = plan_changes(real, found, Outcome())
    (real / QUEUE.name).unlink()
    os.symlink(outside / "t.yaml", real / QUEUE.name)
    with pytest.raises(UnsafePath):
        write_change(real, changes[0])
    assert (outside / "t.yaml").read_bytes() == before


DISTRIBUTION = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  EdgeAcl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Scope: CLOUDFRONT
      DefaultAction: {Allow: {}}
      VisibilityConfig:
        SampledRequestsEnabled: true
        CloudWatchMetricsEnabled: true
        MetricName: edge
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior:
          TargetOriginId: origin
          ViewerProtocolPolicy: allow-all # plain HTTP too
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
        Origins:
          - Id: origin
            DomainName: example.com
            CustomOriginConfig:
              OriginProtocolPolicy: https-only
        ViewerCertificate:
          AcmCertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abc
          SslSupportMethod: sni-only
          MinimumProtocolVersion: TLSv1.2_2021
"""


def test_unsafe_fixes_only_with_unsafe(tmp_path: Path) -> None:
    from cfnlint.api import lint

    root = tmp_path / "repo"
    root.mkdir()
    (root / "t.yaml").write_text(DISTRIBUTION)
    (root / ".archreview.yml").write_text("persona: auditor\n")  # the pedantic no-WAF finding too
    code, out = run(str(root))
    assert code == 0
    assert (root / "t.yaml").read_text() == DISTRIBUTION
    assert "2 with an unsafe fix (--unsafe applies them)" in out
    code, out = run(str(root), "--unsafe")
    assert code == 0, out
    fixed = (root / "t.yaml").read_text()
    assert fixed == DISTRIBUTION.replace("allow-all", "redirect-to-https").replace(
        "MinimumProtocolVersion: TLSv1.2_2021\n",
        "MinimumProtocolVersion: TLSv1.2_2021\n"
        "        WebACLId:\n          Fn::GetAtt: [EdgeAcl, Arn]\n",  # the file's long form
    )
    auditor = ScanOptions(persona=Persona.AUDITOR)
    assert not [f for f in scan(root, auditor).findings if f.rule_id == "AR-NET-004"]
    before = {(m.rule.id, m.message) for m in lint(DISTRIBUTION)}
    assert {(m.rule.id, m.message) for m in lint(fixed)} <= before


def test_no_dead_letter_retention_fix_against_a_declared_pipeline_retention(
    tmp_path: Path,
) -> None:
    """AR-EVT-007 holds every queue to the declared retention: a 14-day dead-letter queue
    would be a new finding there, so AR-EVT-002 offers no fix."""
    dlq = FIXTURES / "templates" / "AR-EVT-002" / "fail.yaml"
    root = repo(tmp_path, dlq)
    assert [f for f in scan(root, ScanOptions()).findings if f.rule_id == "AR-EVT-002" and f.fix]
    (root / ".archreview.yml").write_text("events:\n  retention_days: 4\n")
    from reviewer.profile.loader import resolve_profile

    declared = ScanOptions(profile=resolve_profile(root, None))
    found = [f for f in scan(root, declared).findings if f.rule_id == "AR-EVT-002"]
    assert found and not [f for f in found if f.fix]
    code, _ = run(str(root), "--rule", "AR-EVT-002")
    assert code == 0
    assert (root / dlq.name).read_bytes() == dlq.read_bytes()


TWO_FIXES_ONE_PLACE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Source:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 5
  Dlq:
    Type: AWS::SQS::Queue
  Drain:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(event, context): return None"
      Timeout: 60
      Events:
        Failed:
          Type: SQS
          Properties:
            Queue: !GetAtt Dlq.Arn
"""


def test_fixes_that_meet_at_one_place_are_applied_in_rounds(tmp_path: Path) -> None:
    """Both fixes of Dlq add its missing Properties after its Type: the second waits for the
    next round, is rendered again on the new text, and goes into the Properties the first made."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "t.yaml").write_text(TWO_FIXES_ONE_PLACE)
    code, out = run(str(root))
    assert code == 0, out
    assert "fixed t.yaml:10 AR-EVT-002 Dlq" in out and "fixed t.yaml:10 AR-EVT-003 Dlq" in out
    text = (root / "t.yaml").read_text()
    assert text.split("\n").count("    Properties:") == 3  # one made for Dlq, not two
    assert "      VisibilityTimeout: 360  # 6 x the 60 s Timeout of Drain (AR-EVT-003)\n" in text
    assert not [f for f in scan(root, ScanOptions()).findings if f.fix is not None]
