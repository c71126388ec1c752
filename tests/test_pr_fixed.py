"""What a pull request fixed and how it moves the grade, end to end: real temporary git
repositories scanned with --diff-base, the JSON report posted by `archreview comment` to a real
HTTP server on 127.0.0.1 (test_github's FakeGitHub, port 0)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.core.types import Finding, PrDiff, Report, ScoreBlock, Severity
from reviewer.github import prmode
from reviewer.github.api import MARKER
from reviewer.github.prmode import compare_with_base, fixed_findings
from reviewer.outputs.comment import CommentOptions, render_comment
from reviewer.outputs.json_report import load_report, report_dict
from reviewer.outputs.markdown import render_markdown
from reviewer.runner.engine import ScanOptions

from .test_github import FakeGitHub, _comment, _env
from .test_github import github as github  # the fixture: a real HTTP server on 127.0.0.1

ROLE = """\
  {name}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      Policies:
        - PolicyName: access
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: {action}
                Resource: "*"
"""
SCOPED = "s3:GetObject"
EVERYTHING = '"*"'  # AR-IAM-001, critical


def _template(*roles: tuple[str, str]) -> str:
    body = "".join(ROLE.format(name=name, action=action) for name, action in roles)
    return 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n' + body


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _repo(tmp_path: Path, base: str, head: str, *, readme: bool = False) -> Path:
    """A repository whose HEAD~1 holds `base` and HEAD `head` as template.yaml."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "t")
    (repo / "template.yaml").write_text(base, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    (repo / "template.yaml").write_text(head, encoding="utf-8")
    if readme:
        (repo / "README.md").write_text("A change that reviews nothing.\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "head")
    return repo


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-01")
    return scratch


def _pr_json(tmp_path: Path, repo: Path) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        ["scan", str(repo), "--diff-base", "HEAD~1", "--format", "json", "--output", str(out)],
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(out.read_text(encoding="utf-8")), out


def _posted(tmp_path: Path, github: FakeGitHub, report: Path) -> str:
    result = _comment(report, _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    mine = [b for b in github.bodies(7) if b.startswith(MARKER)]
    assert len(mine) == 1
    return mine[0]


def _order(body: str, *headings: str) -> None:
    places = [body.index(h) for h in headings]
    assert places == sorted(places), list(zip(headings, places, strict=True))


def test_a_pull_request_that_fixes_a_critical_shows_it_under_fixed(
    tmp_path: Path, github: FakeGitHub
) -> None:
    repo = _repo(
        tmp_path,
        _template(("Worker", EVERYTHING), ("Reader", SCOPED)),
        _template(("Worker", SCOPED), ("Reader", SCOPED)),
    )
    code, data, path = _pr_json(tmp_path, repo)
    assert code == 0  # nothing new
    pr = data["summary"]["pr"]
    assert pr["fixed_total"] == 1
    assert pr["fixed_counts"] == [{"severity": "critical", "rule_id": "AR-IAM-001", "count": 1}]
    (gone,) = pr["fixed"]
    assert gone["rule_id"] == "AR-IAM-001" and gone["resource"] == "Worker"
    assert gone["file"] == "template.yaml" and gone["new"] is None
    assert not any(f["rule_id"] == "AR-IAM-001" for f in data["findings"])
    # the base was graded F (a critical caps it); the head is not
    assert pr["base_score"]["grade"] == "F"
    assert data["summary"]["grade"] != "F"

    body = _posted(tmp_path, github, path)
    assert "### What this pull request fixed: 1 finding of the base no longer reported" in body
    fixed_part = body[body.index("### What this pull request fixed") :]
    fixed_part = fixed_part[: fixed_part.index("### Grade")]
    assert re.search(r"\| critical \| \[AR-IAM-001\]\([^)]*\) \| 1 \|", fixed_part)
    assert "| critical | [AR-IAM-001]" in fixed_part and "template.yaml:" in fixed_part
    head = data["summary"]
    assert (
        f"**Grade F {pr['base_score']['score']:.1f} -> {head['grade']} {head['score']:.1f}" in body
    )
    _order(body, "## archreview: the gate", "No new findings.", "What this pull request fixed")
    _order(body, "What this pull request fixed", "### Grade", "<details>")


def test_a_pull_request_that_adds_a_critical_shows_the_grade_falling_with_the_delta(
    tmp_path: Path, github: FakeGitHub
) -> None:
    repo = _repo(
        tmp_path,
        _template(("Reader", SCOPED)),
        _template(("Reader", SCOPED), ("Worker", EVERYTHING)),
    )
    code, data, path = _pr_json(tmp_path, repo)
    assert code == 1  # a new critical fails the gate
    summary, pr = data["summary"], data["summary"]["pr"]
    before, after = pr["base_score"], summary
    assert before["grade"] != "F" and after["grade"] == "F"
    delta = round(after["score"], 1) - round(before["score"], 1)
    assert delta < 0
    body = _posted(tmp_path, github, path)
    expected = (
        f"**Grade {before['grade']} {before['score']:.1f} -> F {after['score']:.1f} "
        f"({delta:+.1f})** against the base."
    )
    assert expected in body
    # the layer that moved is named with its own change; layers that did not move are not
    iam = pr["base_layers"]["IAM"]
    moved = [line for line in body.splitlines() if line.endswith(f" | {delta:+.1f} |")]
    assert len(moved) == 1 and f"| {iam['grade']} {iam['score']:.1f} | F " in moved[0], body
    assert "What this pull request fixed\n\nNo finding of the base is gone." in body
    _order(
        body,
        "## archreview: the gate failed",
        "What this pull request introduces: 1 new finding",
        "What this pull request fixed",
        "### Grade",
    )
    assert "changes nothing" not in body


def test_a_pull_request_that_changes_nothing_says_so(tmp_path: Path, github: FakeGitHub) -> None:
    same = _template(("Worker", EVERYTHING))
    repo = _repo(tmp_path, same, same, readme=True)
    code, data, path = _pr_json(tmp_path, repo)
    assert code == 0
    pr = data["summary"]["pr"]
    assert pr["fixed"] == [] and pr["fixed_total"] == 0 and pr["fixed_counts"] == []
    assert pr["base_score"]["score"] == data["summary"]["score"]
    body = _posted(tmp_path, github, path)
    assert "**This pull request changes nothing archreview reports**" in body
    assert f"**Grade F {data['summary']['score']:.1f}, unchanged** against the base." in body
    assert "No new findings." in body and "No finding of the base is gone." in body


def test_a_renamed_template_fixes_nothing(tmp_path: Path) -> None:
    from reviewer.runner.engine import scan

    same = _template(("Worker", EVERYTHING))
    repo = _repo(tmp_path, same, same, readme=True)
    _git(repo, "mv", "template.yaml", "renamed.yaml")
    _git(repo, "commit", "-q", "-m", "rename")
    options = ScanOptions()
    report, _ = compare_with_base(repo, "HEAD~2", options, scan(repo, options))
    assert report.pr is not None
    assert report.pr.fixed == () and report.pr.fixed_total == 0
    assert not any(f.new for f in report.findings)


def test_fixed_and_base_scores_survive_the_json_round_trip(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        _template(("Worker", EVERYTHING), ("Other", EVERYTHING)),
        _template(("Worker", SCOPED), ("Reader", SCOPED)),
    )
    options = ScanOptions()
    from reviewer.runner.engine import scan

    report, _ = compare_with_base(repo, "HEAD~1", options, scan(repo, options))
    assert report.pr is not None and report.pr.fixed_total == 2
    again = load_report(json.loads(json.dumps(report_dict(report))))
    assert again.pr is not None
    assert again.pr.fixed_total == 2
    assert again.pr.fixed_counts == report.pr.fixed_counts == (("critical", "AR-IAM-001", 2),)
    assert [(f.rule_id, f.resource, f.fingerprint) for f in again.pr.fixed] == [
        (f.rule_id, f.resource, f.fingerprint) for f in report.pr.fixed
    ]
    assert again.pr.base_score == report.pr.base_score
    assert again.pr.base_layers == report.pr.base_layers
    assert render_comment(again) == render_comment(report)
    # the Markdown report's PR line says what was fixed and how the grade moved
    block, was = report.score, report.pr.base_score
    assert was is not None and was.score is not None and block.score is not None
    assert (
        f"**0 new**, **2 fixed** against `HEAD~1`; grade F {was.score:.1f} -> "
        f"{block.grade} {block.score:.1f} ({round(block.score, 1) - round(was.score, 1):+.1f}"
    ) in render_markdown(again)
    # outside PR mode the JSON has no summary.pr at all (byte-identical to before)
    assert "pr" not in report_dict(scan(repo, options))["summary"]


def test_the_cached_base_keeps_what_was_fixed_and_its_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(
        tmp_path,
        _template(("Worker", EVERYTHING)),
        _template(("Worker", SCOPED)),
    )
    from reviewer.runner.engine import scan

    options = ScanOptions(cache_dir=str(tmp_path / "cache"))
    first, _ = compare_with_base(repo, "HEAD~1", options, scan(repo, options))
    checkouts: list[str] = []
    real = prmode.checkout_base

    def counting(*args: Any) -> Any:
        checkouts.append(args[1])
        return real(*args)

    monkeypatch.setattr(prmode, "checkout_base", counting)
    second, _ = compare_with_base(repo, "HEAD~1", options, scan(repo, options))
    assert checkouts == []  # read from the cache
    assert first.pr is not None and second.pr is not None
    assert second.pr.fixed_total == first.pr.fixed_total == 1
    assert second.pr.base_score == first.pr.base_score is not None
    assert second.pr.base_layers == first.pr.base_layers


# -- bounds and hostile text, on reports built directly ----------------------------------------


def _finding(i: int, severity: Severity = Severity.CRITICAL, **extra: Any) -> Finding:
    from reviewer.core.types import AdrText, Confidence

    values: dict[str, Any] = {
        "rule_id": "AR-IAM-001",
        "title": "Wildcard policy",
        "layer": "IAM",
        "severity": severity,
        "confidence": Confidence.HIGH,
        "score": 10.0,
        "module": ".",
        "file": f"services/s{i:04d}/template.yaml",
        "line": 20,
        "end_line": 20,
        "column": 1,
        "end_column": 1,
        "resource": f"Role{i}",
        "resource_type": "AWS::IAM::Role",
        "property": "Policies",
        "message": f"Role{i} allows everything",
        "fingerprint": f"fp{i}",
        "adr": AdrText("", "", "", ()),
    }
    values.update(extra)
    return Finding(**values)


def test_fixed_findings_are_capped_but_counted_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prmode, "MAX_FIXED", 5)
    base = [_finding(i, Severity.HIGH if i % 3 else Severity.CRITICAL) for i in range(40)]
    head = [replace(base[0], fingerprint="still-here")]
    # the head keeps base[1] (same logical key), suppressed or not: not fixed
    from reviewer.runner.engine import fingerprint

    kept = fingerprint(base[1].rule_id, base[1].file, base[1].resource, base[1].logical_path)
    head.append(replace(base[1], fingerprint=kept))
    kept_fixed, total, counts = fixed_findings(base, head, {})
    assert total == 39 and len(kept_fixed) == 5
    assert {(s, r): n for s, r, n in counts} == {
        ("critical", "AR-IAM-001"): 14,
        ("high", "AR-IAM-001"): 25,
    }
    assert counts[0][0] == "critical"  # most severe first
    assert all(f.severity is Severity.CRITICAL for f in kept_fixed)
    assert base[1].resource not in {f.resource for f in kept_fixed}


def _report_with_fixed(n: int, message: str = "gone") -> Report:
    block = ScoreBlock(score=80.0, grade="B", evaluated=10, failed=1)
    fixed = tuple(_finding(i, message=message) for i in range(n))
    return Report(
        schema_version=2,
        tool_version="0.2.0",
        root=".",
        profile="baseline",
        score=block,
        layers=(("IAM", block),),
        counts=(),
        files=prmode_files(),
        modules=(),
        findings=(),
        diff_base="main",
        pr=PrDiff(
            fixed=fixed,
            fixed_total=n + 1000,  # capped: more than are kept
            fixed_counts=(("critical", "AR-IAM-001", n + 1000),),
            base_score=ScoreBlock(score=70.0, grade="C", evaluated=10, failed=2),
            base_layers=(("IAM", ScoreBlock(score=70.0, grade="C", evaluated=10, failed=2)),),
        ),
    )


def prmode_files() -> Any:
    from reviewer.core.types import FileCounts

    return FileCounts(templates=1)


def test_a_long_fixed_list_fits_the_comment_limit_and_keeps_the_grade_change() -> None:
    report = _report_with_fixed(3000)
    body = render_comment(report, CommentOptions(more_url="https://example.invalid/run"))
    assert len(body) <= 65_536
    assert "What this pull request fixed: 4000 findings of the base no longer reported" in body
    assert "| critical | [AR-IAM-001]" in body and "| 4000 |" in body
    assert "**Grade C 70.0 -> B 80.0 (+10.0)** against the base." in body
    shown = body.count("/template.yaml:20 |")  # one per fixed row
    assert 0 < shown < 3000
    assert f"+{4000 - shown} more" in body
    assert body.count("<details>") == body.count("</details>")


def test_many_new_findings_keep_their_rows_first_and_fixed_still_counted() -> None:
    report = _report_with_fixed(3000)
    new = tuple(replace(_finding(10_000 + i, message="brand new"), new=True) for i in range(3000))
    report = replace(report, findings=new)
    body = render_comment(report, CommentOptions(more_url="https://example.invalid/run"))
    assert len(body) <= 65_536
    assert "What this pull request introduces: 3000 new findings" in body
    assert "What this pull request fixed: 4000 findings of the base no longer reported" in body
    # the new findings' rows take the room; the fixed ones still point at where they all are
    shown = body.count("brand new")
    assert shown > 100 and f"+{3000 - shown} more" in body
    assert body.count("| gone |") == 0 and "+4000 more: every finding is in" in body
    assert "**Grade C 70.0 -> B 80.0 (+10.0)**" in body
    _order(body, "introduces", "brand new", "What this pull request fixed", "### Grade")


def test_fixed_rows_keep_repository_text_inert() -> None:
    hostile = "@octocat see #12 https://evil.example/x <img src=x> | ::error:: GH-1"
    report = _report_with_fixed(3, message=hostile)
    body = render_comment(report)
    assert "<img" not in body
    assert "https://evil.example" not in body
    assert "@octocat" not in body and "#12" not in body.replace("&#", "")
    assert "GH-1" not in body
    assert "\n::" not in body
