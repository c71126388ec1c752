"""The command line: exit codes, formats, determinism, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from reviewer.cli.main import main

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
    # AR-EVT-001 on a queue nothing in the repository reads: pedantic, low
    pedantic = ["scan", str(root), "--persona", "pedantic"]
    assert runner.invoke(main, [*pedantic, "--fail-on", "low"]).exit_code == 1
    assert runner.invoke(main, [*pedantic, "--fail-on", "medium"]).exit_code == 0
    assert runner.invoke(main, [*pedantic, "--fail-on", "never"]).exit_code == 0
    # at the default persona it is not reported, so it never gates
    assert runner.invoke(main, ["scan", str(root), "--fail-on", "low"]).exit_code == 0
    assert runner.invoke(main, ["scan", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(main, ["scan", str(root), "--profile", str(tmp_path / "nope.yml")]).exit_code == 2


def test_json_report_shape_and_determinism(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    args = ["scan", str(root), "--format", "json", "--fail-on", "never", "--persona", "auditor"]
    first = runner.invoke(main, args)
    second = runner.invoke(main, args)
    assert first.exit_code == 0
    assert first.output == second.output
    data = json.loads(first.stdout)
    assert data["schema_version"] == 2
    assert set(data) == {
        "schema_version", "tool", "root", "profile", "profile_source", "profile_notice", "summary",
        "modules", "findings",
    }
    assert set(data["summary"]) >= {"score", "grade", "grade_cap", "hidden", "layers", "counts", "files"}
    finding = next(f for f in data["findings"] if f["rule_id"] == "AR-EVT-001")
    for key in ("rule_id", "title", "layer", "severity", "confidence", "score", "module", "file",
                "line", "end_line", "column", "resource", "resource_type", "property", "message",
                "fingerprint", "new", "persona", "related", "suppressed", "adr"):
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
        ["scan", str(root), "--format", "json", "--format", "text", "--persona", "pedantic",
         "--output", f"json={out_json}", "--output", f"text={out_text}", "--fail-on", "never"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out_json.read_text())["findings"]
    text = out_text.read_text()
    assert "AR-EVT-001" in text and "\x1b[" not in text


def test_min_confidence_hides_findings_but_not_scores(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    args = ["scan", str(root), "--format", "json", "--fail-on", "never", "--persona", "auditor"]
    low = json.loads(runner.invoke(main, args).stdout)
    high = json.loads(runner.invoke(main, [*args, "--min-confidence", "high"]).stdout)
    assert low["summary"]["score"] == high["summary"]["score"]
    # AR-EVT-001 on a queue nothing in the repository reads is a low-confidence finding
    assert ("AR-EVT-001", "low") in {(f["rule_id"], f["confidence"]) for f in low["findings"]}
    assert all(f["confidence"] == "high" for f in high["findings"])
    assert len(high["findings"]) < len(low["findings"])


def test_quiet_text_with_no_findings_still_writes_its_output_file(tmp_path: Path) -> None:
    """--quiet text is the findings only: with none at the chosen persona the output is empty,
    and it is still written, replacing what the file held (the first run and a cached replay)."""
    root = _repo(tmp_path)  # its one finding is pedantic: none at the default persona
    out = tmp_path / "out" / "report.txt"
    args = ["scan", str(root), "--quiet", "--format", "text", "--output", str(out),
            "--cache-dir", str(tmp_path / "cache")]
    for _ in range(2):
        out.parent.mkdir(exist_ok=True)
        out.write_text("previous\n", encoding="utf-8")
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and result.output == "", result.output
        assert out.read_text(encoding="utf-8") == ""
    # the same command at a persona that reports the finding writes it there
    assert CliRunner().invoke(main, [*args, "--persona", "pedantic"]).exit_code == 0
    assert "AR-EVT-001" in out.read_text(encoding="utf-8")


def test_text_output_shows_source_line_and_marker(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    args = ["scan", str(root), "--fail-on", "never", "--persona", "auditor"]
    result = CliRunner().invoke(main, args)
    assert "--> svc/template.yaml:3:" in result.output
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


# -- internal errors: exit 3, one line, no traceback unless --debug (issue 15) ---------------

_BOOM = """
import sys
import reviewer.runner.engine

MESSAGE = sys.argv.pop()


def boom(*args, **kwargs):
    raise RuntimeError(MESSAGE)


reviewer.runner.engine.scan = boom
sys.argv = ["archreview", *sys.argv[1:]]
from reviewer.cli.main import run

run()
"""


def _crash(
    args: list[str], message: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """archreview with `args`, where the scan raises RuntimeError(message)."""
    import os

    full = {k: v for k, v in os.environ.items() if k != "ARCHREVIEW_DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", _BOOM, *args, message],
        capture_output=True,
        text=True,
        timeout=120,
        env={**full, **(env or {})},
        check=False,
    )


def test_an_internal_error_exits_3_with_one_escaped_redacted_capped_line(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    token = "ghs_" + "A1b2" * 9
    message = f"bad \x1b[31mthing\u202e with {token}\nsecond line " + "x" * 600
    done = _crash(["scan", str(root), "--no-cache"], message, {"GITHUB_TOKEN": token})
    assert done.returncode == 3
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    prefix = "archreview: internal error: RuntimeError: "
    hint = " (run with --debug for the traceback)"
    assert line.startswith(prefix) and line.endswith(hint)
    body = line[len(prefix) : -len(hint)]
    assert body.startswith("bad \\x1b[31mthing\\u202e with ***\\x0asecond line xxx")
    assert len(body) == 300 and body.endswith("...")
    assert token not in done.stderr and "\x1b" not in done.stderr


def test_an_internal_error_with_debug_shows_the_redacted_traceback(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    for args, env in (
        (["--debug", "scan", str(root), "--no-cache"], {}),
        (["scan", str(root), "--no-cache"], {"ARCHREVIEW_DEBUG": "1"}),
    ):
        done = _crash(args, f"leaked {secret}", {"AWS_SECRET_ACCESS_KEY": secret, **env})
        assert done.returncode == 3
        assert "Traceback (most recent call last)" in done.stderr
        assert "in boom\nRuntimeError: leaked ***\n" in done.stderr  # -c: no source line
        last = done.stderr.splitlines()[-1]
        assert last == "archreview: internal error: RuntimeError: leaked ***"
        assert secret not in done.stderr


def test_debug_is_a_documented_global_option() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "--debug" in result.output and "ARCHREVIEW_DEBUG=1" in result.output
    assert CliRunner().invoke(main, ["--debug", "rules"]).exit_code == 0


def test_a_crashing_check_is_still_mod_005_and_the_scan_goes_on(tmp_path: Path) -> None:
    """Exit 3 is only for errors outside a check: a check that raises is a finding."""
    from dataclasses import replace

    from reviewer.core.types import Hit
    from reviewer.runner.engine import ScanOptions, all_checks, scan

    def explode(_ctx: object) -> list[Hit]:
        raise RuntimeError("check bug")

    broken = tuple(replace(c, fn=explode) if c.rule_id == "AR-EVT-001" else c for c in all_checks())
    report = scan(_repo(tmp_path), ScanOptions(checks=broken))
    rules = {f.rule_id for f in report.findings}
    assert "AR-MOD-005" in rules and "AR-EVT-001" not in rules


# -- the first hour (issue 19) ------------------------------------------------------------------


def test_nothing_to_review_is_said_plainly_in_every_human_format_and_exits_0(
    tmp_path: Path,
) -> None:
    root = tmp_path / "docs-only"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "README.md").write_text("# notes\n", encoding="utf-8")
    (root / "config.yaml").write_text("name: not a template\n", encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(main, ["scan", str(root), "--no-cache"])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0] == (
        f"Nothing to review in {root}: no CloudFormation/SAM template, go.mod or package.json "
        "was found."
    )
    assert lines[1].startswith("archreview looks for CloudFormation and SAM templates")
    # no grade: the repository-level checks alone are no clean bill of health
    assert lines[2].startswith("Grade n/a: nothing was reviewed")
    assert "found nothing to review" not in text.stderr  # the report on stdout already says it
    md = runner.invoke(main, ["scan", str(root), "--no-cache", "--format", "markdown"])
    assert md.exit_code == 0
    assert "\n\n> [!WARNING]\n> **Nothing to review in " in md.stdout
    assert "docs-only: no CloudFormation/SAM template, go.mod or package.json was found.**" in (
        md.stdout
    )
    html = runner.invoke(main, ["scan", str(root), "--no-cache", "--format", "html"])
    assert 'id="nothing-found"' in html.stdout
    # a machine format on stdout: the sentence goes to stderr (--quiet: no stderr note at all)
    data = runner.invoke(main, ["scan", str(root), "--no-cache", "--format", "json"])
    assert data.exit_code == 0
    summary = json.loads(data.stdout)["summary"]
    assert summary["files"]["templates"] == 0
    assert summary["score"] is None and summary["grade"] is None
    assert f"archreview: found nothing to review in {root}: no CloudFormation/SAM" in data.stderr
    quiet = runner.invoke(main, ["scan", str(root), "--no-cache", "--format", "json", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    # a repository with a template says nothing of the kind
    reviewed = runner.invoke(main, ["scan", str(_repo(tmp_path)), "--no-cache"])
    assert "Nothing to review" not in reviewed.stdout
    assert "nothing to review" not in reviewed.stderr


def test_two_formats_are_never_glued_together_on_stdout(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    both = runner.invoke(main, ["scan", str(root), "--format", "json", "--format", "html"])
    assert both.exit_code == 2
    assert both.stdout == ""
    assert (
        "json and html would both be written to stdout; give each format its own file: "
        "--output json=report.json --output html=report.html"
    ) in both.stderr
    # the same request with one --output file is refused with the same kind of fix
    one_file = runner.invoke(
        main,
        ["scan", str(root), "--format", "json", "--format", "html", "--output", "r.out"],
    )
    assert one_file.exit_code == 2
    assert "--output json=r.out --output html=report.html" in one_file.stderr
    # one format on stdout and the other in a file is fine
    html = tmp_path / "report.html"
    ok = runner.invoke(
        main,
        ["scan", str(root), "--format", "json", "--format", "html", "--output", f"html={html}"],
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["findings"] is not None
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_a_finding_that_something_was_not_reviewed_gates_only_with_fail_on_incomplete(
    tmp_path: Path,
) -> None:
    """Spec *Scores*: AR-MOD-001/005/006 weigh nothing and cap nothing; they fail the gate only
    with --fail-on-incomplete (here a template that is not UTF-8: AR-MOD-006, medium)."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_bytes(
        b'AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n\xff\xfe\x00bad'
    )
    runner = CliRunner()
    plain = runner.invoke(
        main, ["scan", str(root), "--no-cache", "--fail-on", "info", "--format", "json"]
    )
    found = json.loads(plain.stdout)["findings"]
    assert [f["rule_id"] for f in found] == ["AR-MOD-006"] and found[0]["severity"] == "medium"
    assert plain.exit_code == 0, plain.output
    strict = runner.invoke(
        main, ["scan", str(root), "--no-cache", "--fail-on", "info", "--fail-on-incomplete"]
    )
    assert strict.exit_code == 1, strict.output
