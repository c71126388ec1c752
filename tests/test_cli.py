"""The command line: exit codes, formats, determinism, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli import main

BAD = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Resources:
      Jobs:
        Type: AWS::SQS::Queue
        Properties:
          KmsMasterKeyId: alias/jobs
    """
)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "template.yaml").write_text(BAD, encoding="utf-8")
    return root


def test_exit_codes_follow_fail_on(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["scan", str(root)]).exit_code == 1  # AR-EVT-001 is high
    assert runner.invoke(main, ["scan", str(root), "--fail-on", "critical"]).exit_code == 0
    assert runner.invoke(main, ["scan", str(root), "--fail-on", "never"]).exit_code == 0
    assert runner.invoke(main, ["scan", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(main, ["scan", str(root), "--profile", str(tmp_path / "nope.yml")]).exit_code == 2


def test_json_report_shape_and_determinism(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["scan", str(root), "--format", "json", "--fail-on", "never"])
    second = runner.invoke(main, ["scan", str(root), "--format", "json", "--fail-on", "never"])
    assert first.exit_code == 0
    assert first.output == second.output
    data = json.loads(first.output)
    assert data["schema_version"] == 1
    assert set(data) == {"schema_version", "tool", "root", "profile", "summary", "modules", "findings"}
    assert set(data["summary"]) >= {"score", "grade", "layers", "counts", "files"}
    finding = next(f for f in data["findings"] if f["rule_id"] == "AR-EVT-001")
    for key in ("rule_id", "title", "layer", "severity", "confidence", "score", "module", "file",
                "line", "end_line", "column", "resource", "resource_type", "property", "message",
                "fingerprint", "new", "suppressed", "adr"):
        assert key in finding
    assert finding["file"] == "svc/template.yaml"
    assert finding["module"] == "svc"
    assert finding["new"] is None
    assert data["summary"]["files"] == {"templates": 1, "go_mod": 0, "package_json": 0, "skipped": 0}


def test_output_to_files_per_format(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    out_json = tmp_path / "out" / "report.json"
    out_text = tmp_path / "out" / "report.txt"
    result = CliRunner().invoke(
        main,
        ["scan", str(root), "--format", "json", "--format", "text",
         "--output", f"json={out_json}", "--output", f"text={out_text}", "--fail-on", "never"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out_json.read_text())["findings"]
    text = out_text.read_text()
    assert "AR-EVT-001" in text and "\x1b[" not in text


def test_min_confidence_hides_findings_but_not_scores(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    low = json.loads(runner.invoke(main, ["scan", str(root), "--format", "json", "--fail-on", "never"]).output)
    high = json.loads(
        runner.invoke(main, ["scan", str(root), "--format", "json", "--fail-on", "never", "--min-confidence", "high"]).output
    )
    assert low["summary"]["score"] == high["summary"]["score"]
    assert all(f["confidence"] == "high" for f in high["findings"])


def test_text_output_shows_source_line_and_marker(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    result = CliRunner().invoke(main, ["scan", str(root), "--fail-on", "never"])
    assert "module svc" in result.output
    assert "  svc/template.yaml" in result.output
    assert "3 |   Jobs:" in result.output
    assert "Grade" in result.output


def test_rules_and_explain() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0
    assert "AR-EVT-003" in listing.output
    explained = runner.invoke(main, ["explain", "AR-EVT-003"])
    assert explained.exit_code == 0
    assert "## ADR template" in explained.output and "## References" in explained.output
    assert runner.invoke(main, ["explain", "AR-XXX-999"]).exit_code == 2


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", str(root), "--format", "json", "--fail-on", "never"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tool"]["name"] == "archreview"


def test_the_program_exits_with_the_scan_code_and_complete_output(tmp_path: Path) -> None:
    """`python -m reviewer` leaves through os._exit after flushing: the exit codes are the
    command's, and what it printed is all there."""
    import subprocess
    import sys

    from .conftest import FIXTURES

    root = FIXTURES / "repos" / "chariot-platform"

    def program(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reviewer", *args], capture_output=True, text=True, timeout=300, check=False
        )

    done = program("scan", str(root), "--no-cache", "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"]  # complete: it parses
    assert program("scan", str(root), "--no-cache", "--format", "json", "--fail-on", "info").returncode == 1
    missing = program("scan", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "is not a directory" in missing.stderr
    assert program("--version").stdout.startswith("archreview, version ")
