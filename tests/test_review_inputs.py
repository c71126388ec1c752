"""Review inputs in PR mode (issue 18 items 8 and 9): a pull request that edits what judges it
(the profile, an agent definition, a committed baseline, inline suppressions, ignore files) is
called out with what the edit hides; --base-profile judges with the base's inputs; a new risk
accepted in the same change is listed; --fail-on-incomplete fails when something was not
reviewed. Real temporary git repositories, the command line, the JSON report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.core.types import Finding, Persona
from reviewer.github.prmode import ReviewInputs, compare_with_base, input_kind, not_reviewed
from reviewer.outputs.json_report import load_report, render
from reviewer.runner.engine import ScanOptions, scan

from .gitrepo import commit, init, scan_json, write
from .test_github import REPO, TOKEN, FakeGitHub
from .test_github import github as github  # the local GitHub API server fixture

WILDCARD_FUNCTION = """\
  {name}:
    Type: AWS::Serverless::Function
{metadata}    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - Statement:
            - Effect: Allow
              Action: "*"
              Resource: "*"
"""
HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
"""
ACCEPTED = """\
    Metadata:
      archreview:
        ignore:
          - id: AR-IAM-001
            reason: "a break-glass function, reviewed by security"
"""


def _template(*names: str, suppressed: tuple[str, ...] = ()) -> str:
    return HEADER + "".join(
        WILDCARD_FUNCTION.format(name=n, metadata=ACCEPTED if n in suppressed else "")
        for n in names
    )


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Worktrees go below this test's tmp_path."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _repo(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    repo = init(tmp_path / "repo")
    write(repo, base)
    commit(repo, "base")
    write(repo, head)
    commit(repo, "the pull request")
    return repo


def _pr(data: dict[str, Any]) -> dict[str, Any]:
    pr = data["summary"]["pr"]
    assert isinstance(pr, dict)
    return pr


def _hidden(pr: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["resource"], f["severity"]) for f in pr["hidden_by_inputs"]}


def test_a_pr_that_adds_exclude_everything_is_called_out(tmp_path: Path) -> None:
    """Issue 18 item 9: `exclude: ["**"]` in the PR's .archreview.yml made the grade n/a and
    the gate green, and nothing said why."""
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {".archreview.yml": 'exclude: ["**"]\n'},
    )
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0, output  # nothing new: the gate is green ...
    assert data["findings"] == []
    pr = _pr(data)
    # ... and the report says which input changed and what it hides
    assert pr["changed_inputs"] == [{"path": ".archreview.yml", "kind": "profile"}]
    assert ("AR-IAM-001", "Fn", "critical") in _hidden(pr)
    assert pr["judged_with"] == "head" and pr["accepted_new"] == [] and pr["incomplete"] == []


def test_base_profile_judges_with_the_bases_inputs(tmp_path: Path) -> None:
    """The same PR also adds a second wildcard function: it hides its own new critical unless
    the base's profile judges it."""
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {".archreview.yml": 'exclude: ["**"]\n', "template.yaml": _template("Fn", "Other")},
    )
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0 and data["findings"] == [], output
    assert ("AR-IAM-001", "Other", "critical") in _hidden(_pr(data))
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1", "--base-profile")
    assert code == 1, output
    new = {(f["rule_id"], f["resource"]) for f in data["findings"] if f["new"]}
    assert ("AR-IAM-001", "Other") in new and ("AR-IAM-001", "Fn") not in new
    assert _pr(data)["judged_with"] == "base"
    code, _, output = scan_json(repo, "--base-profile")
    assert code == 2 and "--base-profile needs --diff-base" in output


def test_disabling_a_rule_or_lowering_its_severity_is_hidden(tmp_path: Path) -> None:
    base = {"template.yaml": _template("Fn"), ".archreview.yml": "persona: regular\n"}
    repo = _repo(tmp_path, base, {".archreview.yml": "rules:\n  AR-IAM-001: {severity: low}\n"})
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0, output
    lowered = [f for f in data["findings"] if f["rule_id"] == "AR-IAM-001"]
    assert [f["severity"] for f in lowered] == ["low"]
    assert ("AR-IAM-001", "Fn", "critical") in _hidden(_pr(data))
    write(repo, {".archreview.yml": "rules:\n  AR-IAM-001: {enabled: false}\n"})
    commit(repo, "disable it instead")
    _, data, _ = scan_json(repo, "--diff-base", "HEAD~2")
    assert ("AR-IAM-001", "Fn", "critical") in _hidden(_pr(data))


def test_a_new_inline_suppression_of_an_existing_finding_is_listed(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {"template.yaml": _template("Fn", suppressed=("Fn",))},
    )
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0, output
    pr = _pr(data)
    assert {"path": "template.yaml", "kind": "suppressions"} in pr["changed_inputs"]
    assert ("AR-IAM-001", "Fn", "critical") in _hidden(pr)
    assert pr["accepted_new"] == []  # it is not new: it existed and is now accepted


def test_a_critical_added_and_suppressed_in_one_pr_is_a_new_accepted_risk(tmp_path: Path) -> None:
    """Issue 18 item 8: the comment said "No new findings" with no word of the new risk."""
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {"template.yaml": _template("Fn", "Risky", suppressed=("Risky",))},
    )
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0, output
    pr = _pr(data)
    risky = next(
        f for f in data["findings"] if f["resource"] == "Risky" and f["rule_id"] == "AR-IAM-001"
    )
    assert risky["new"] is True and risky["suppressed"]["kind"] == "inline"
    assert pr["accepted_new"] == [risky["fingerprint"]]
    assert _hidden(pr) == set()  # listed once, as an accepted risk, not as hidden
    # an unchanged tree changes no input and accepts nothing new
    _, same, _ = scan_json(repo, "--diff-base", "HEAD")
    assert _pr(same)["changed_inputs"] == [] and _pr(same)["accepted_new"] == []


def test_a_committed_baseline_the_pr_rewrites(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn"), "baseline.json": '{"version": 2, "findings": []}\n'},
        {},
    )
    # the PR records every current finding in the committed baseline
    code, _, output = scan_json(repo, "--write-baseline", str(repo / "baseline.json"))
    assert code == 1, output
    commit(repo, "accept everything")
    baseline = str(repo / "baseline.json")
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1", "--baseline", baseline)
    assert code == 0, output
    pr = _pr(data)
    assert {"path": "baseline.json", "kind": "baseline"} in pr["changed_inputs"]
    assert ("AR-IAM-001", "Fn", "critical") in _hidden(pr)
    # judged with the base's baseline (empty), the critical is reported again (existing)
    code, data, output = scan_json(
        repo, "--diff-base", "HEAD~1", "--baseline", baseline, "--base-profile"
    )
    fn = next(f for f in data["findings"] if f["rule_id"] == "AR-IAM-001")
    assert fn["suppressed"] is None and fn["new"] is False


def test_agent_definitions_and_ignore_files_are_review_inputs(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {
            "docs/platform.agent.md": "---\nname: architect\n---\nThe platform.\n",
            ".github/agents/reviewer.md": "---\nname: r\n---\n",
            "svc/.gitignore": "*.yaml\n",
            "svc/.archreview.yml": "persona: regular\n",
            "notes/readme.md": "not an input\n",
        },
    )
    _, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert _pr(data)["changed_inputs"] == [
        {"path": ".github/agents/reviewer.md", "kind": "agent"},
        {"path": "docs/platform.agent.md", "kind": "agent"},
        {"path": "svc/.archreview.yml", "kind": "profile"},
        {"path": "svc/.gitignore", "kind": "ignore"},
    ], output


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".archreview.yml", "profile"),
        ("modules/a/.archreview.yml", "profile"),
        (".claude/agents/architect.md", "agent"),
        ("modules/a/.github/agents/x.md", "agent"),
        ("docs/System.Agent.md", "agent"),
        ("a/.gitignore", "ignore"),
        ("ci/baseline.json", "baseline"),
        ("template.yaml", None),
        (".claude/agents/notes.txt", None),
        ("docs/agents.md", None),
    ],
)
def test_input_kinds(path: str, kind: str | None) -> None:
    assert input_kind(path, baseline="ci/baseline.json") == kind


MISSING_SUBMODULE = (
    '[submodule "private"]\n\tpath = private\n\turl = https://github.com/acme/private.git\n'
)


def test_fail_on_incomplete_fails_when_a_module_was_not_reviewed(tmp_path: Path) -> None:
    """Issue 18 item 9: a module the job cannot check out is an info finding, so the gate
    passed with nothing reviewed."""
    repo = _repo(tmp_path, {"template.yaml": HEADER + "  Q:\n    Type: AWS::SQS::Queue\n"}, {})
    write(repo, {".gitmodules": MISSING_SUBMODULE})
    commit(repo, "a private submodule")
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 0, output
    incomplete = _pr(data)["incomplete"]
    assert incomplete and incomplete[0].startswith("AR-MOD-001 "), incomplete
    code, _, output = scan_json(repo, "--diff-base", "HEAD~1", "--fail-on-incomplete")
    assert code == 1, output
    # outside PR mode too; and a scan that reviewed everything passes with the flag
    assert scan_json(repo, "--fail-on-incomplete")[0] == 1
    (repo / ".gitmodules").unlink()
    assert scan_json(repo, "--fail-on-incomplete")[0] == 0


def test_not_reviewed_lists_unsuppressed_mod_001_005_006_only(tmp_path: Path) -> None:
    big = HEADER + "  Q:\n    Type: AWS::SQS::Queue\n" + "#" + "x" * 2000 + "\n"
    write(tmp_path, {".gitmodules": MISSING_SUBMODULE, "big.yaml": big})
    report = scan(tmp_path, ScanOptions(persona=Persona.AUDITOR, max_bytes=1000))
    lines = not_reviewed(report.findings)
    assert {line.split(" ", 1)[0] for line in lines} == {"AR-MOD-001", "AR-MOD-006"}, lines
    assert not_reviewed([f for f in report.findings if not f.rule_id.startswith("AR-MOD")]) == ()


def test_the_pr_diff_survives_the_json_report(tmp_path: Path) -> None:
    """`archreview comment --from REPORT.json` renders from the JSON: every field comes back."""
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {
            ".archreview.yml": 'exclude: ["other/**"]\nrules:\n  AR-IAM-001: {enabled: false}\n',
            "template.yaml": _template("Fn", "Risky", suppressed=("Risky",)),
        },
    )
    from reviewer.profile.loader import resolve_profile

    options = ScanOptions(persona=Persona.AUDITOR, profile=resolve_profile(repo))
    head = scan(repo, options)
    marked, _ = compare_with_base(repo, "HEAD~1", options, head, ReviewInputs())
    assert marked.pr is not None and marked.pr.hidden_by_inputs
    again = load_report(json.loads(render(marked)))
    assert again.pr is not None
    assert again.pr.changed_inputs == marked.pr.changed_inputs
    assert [f.fingerprint for f in again.pr.accepted_new] == [
        f.fingerprint for f in marked.pr.accepted_new
    ]
    hidden: list[Finding] = list(again.pr.hidden_by_inputs)
    assert [(f.rule_id, f.resource) for f in hidden] == [
        (f.rule_id, f.resource) for f in marked.pr.hidden_by_inputs
    ]
    assert again.pr.incomplete == marked.pr.incomplete
    # outside PR mode the JSON has no `pr` key at all (byte-identical to before)
    assert "pr" not in json.loads(render(head))["summary"]


def test_the_comment_calls_out_the_exclude_against_the_local_github_api(
    tmp_path: Path,
    github: FakeGitHub,  # a real HTTP server on 127.0.0.1 (tests/test_github.py)
) -> None:
    """Done-when of issue 18: a PR that adds `exclude: ["**"]` is called out in the comment
    posted through the GitHub API, end to end: scan --diff-base, JSON, `archreview comment`."""
    repo = _repo(
        tmp_path,
        {"template.yaml": _template("Fn")},
        {".archreview.yml": 'exclude: ["**"]\n'},
    )
    out = tmp_path / "report.json"
    code, _, output = scan_json(repo, "--diff-base", "HEAD~1", "--output", str(out))
    assert code == 0, output
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": github.url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    posted = CliRunner().invoke(main, ["comment", "--from", str(out)], env=env)
    assert posted.exit_code == 0, posted.output
    (comment,) = github.comments[7]
    body = comment["body"]
    assert "Review inputs this pull request changed" in body
    assert ".archreview.yml" in body and "AR-IAM-001" in body
