"""action.yml, the README's workflow and .pre-commit-hooks.yaml.

The action's archreview steps are run locally with bash, with the env each step declares (its
`${{ }}` expressions evaluated here), GITHUB_* variables pointing at a local GitHub server, and
temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, against the example repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reviewer.cli import main
from reviewer.github import MARKER

from .conftest import FIXTURES, ROOT
from .test_github import REPO, TOKEN, FakeGitHub
from .test_github import github as github  # the local server fixture
from .test_sarif import check_sarif

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
ACTION = ROOT / "action.yml"
INPUTS = {"path", "profile", "fail-on", "diff", "comment", "sarif", "category"}
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d+(?:\.\d+)*\s*$"
)
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _steps() -> list[dict[str, Any]]:
    steps = _action()["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def _step(name_part: str) -> dict[str, Any]:
    return next(s for s in _steps() if name_part in str(s.get("name", "")))


# -- the metadata -----------------------------------------------------------------------------


def test_action_metadata() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    assert action["inputs"]["category"]["default"] == "archreview"
    assert action["inputs"]["diff"]["default"] == "auto"
    assert set(action["outputs"]) == {"grade", "score", "sarif-file"}
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.scan.outputs.{name} }}}}"


def test_every_action_used_is_pinned_by_sha_with_a_version_comment() -> None:
    lines = [line for line in ACTION.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    used = {}
    for line in lines:
        m = PINNED.match(line)
        assert m, f"not pinned by a commit SHA with a version comment: {line.strip()}"
        used[m.group(1)] = m.group(2)
    assert "actions/setup-python" in used
    assert "github/codeql-action/upload-sarif" in used


def test_scripts_take_inputs_through_env_only() -> None:
    for step in _steps():
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step.get("shell") == "bash"
    referenced = set()
    for step in _steps():
        for value in (step.get("env") or {}).values():
            referenced |= set(re.findall(r"inputs\.([\w-]+)", str(value)))
    for key in ("path", "profile", "fail-on", "diff", "sarif", "category"):
        assert key in referenced, key


def test_upload_and_comment_run_even_when_the_scan_fails() -> None:
    upload = next(s for s in _steps() if "upload-sarif" in str(s.get("uses", "")))
    assert str(upload["if"]).startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    comment = _step("Comment")
    assert str(comment["if"]).startswith("always()")
    assert "archreview comment" in comment["run"]


def test_install_uses_the_actions_checkout_pinned_requirements_and_a_pip_cache() -> None:
    python = next(s for s in _steps() if "setup-python" in str(s.get("uses", "")))
    assert python["with"]["python-version"] == "3.11"
    cache = next(s for s in _steps() if "actions/cache" in str(s.get("uses", "")))
    assert cache["with"]["path"] == "~/.cache/pip"
    assert "steps.pip-key.outputs.hash" in cache["with"]["key"]
    key = _step("Pip cache key")
    assert "action-requirements.txt" in key["run"]
    install = _step("Install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '-r "$ACTION_PATH/action-requirements.txt"' in install["run"]
    assert '--no-deps --no-build-isolation "$ACTION_PATH"' in install["run"]


def test_pip_cache_key_step_hashes_the_requirements(tmp_path: Path) -> None:
    import hashlib

    context = {
        "github": {"action_path": str(ROOT)},
        "steps": {"python": {"outputs": {"python-path": sys.executable}}},
    }
    env = {"PATH": os.environ.get("PATH", "")}
    code, log, outputs = _run_step(_step("Pip cache key"), context, env, tmp_path, tmp_path)
    assert code == 0, log
    digest = hashlib.sha256((ROOT / "action-requirements.txt").read_bytes()).hexdigest()
    assert outputs == {"hash": digest[:20]}


def test_action_requirements_pin_every_runtime_dependency() -> None:
    import tomllib

    pins: dict[str, str] = {}
    for line in (ROOT / "action-requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"not pinned: {line}"
        pins[canonicalize_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [Requirement(r) for r in project["project"]["dependencies"]]
    wanted += [Requirement(r) for r in project["build-system"]["requires"]]
    for req in wanted:
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} is not pinned in action-requirements.txt"
        assert req.specifier.contains(pins[key], prereleases=True), (req, pins[key])


# -- running the steps ------------------------------------------------------------------------


def _lookup(context: dict[str, Any], expr: str) -> str:
    value: Any = context
    for part in expr.split("."):
        value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return ""
    return "" if value is None else str(value)


def _expand(value: Any, context: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        expr = m.group(1)
        assert re.fullmatch(r"[\w.-]+", expr), f"unsupported expression in env: {expr}"
        return _lookup(context, expr)

    return EXPR.sub(sub, str(value))


def _outputs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


def _run_step(
    step: dict[str, Any], context: dict[str, Any], base_env: dict[str, str], tmp: Path, cwd: Path
) -> tuple[int, str, dict[str, str]]:
    output = tmp / f"output-{len(list(tmp.glob('output-*')))}"
    output.write_text("", encoding="utf-8")
    env = {**base_env, "GITHUB_OUTPUT": str(output)}
    for key, value in (step.get("env") or {}).items():
        env[key] = _expand(value, context)
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr, _outputs(output)


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, str]:
    """The example repository as a git repository: a base commit, then a pull request that
    deletes the chariot API's WAF association."""
    repo = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    template = repo / "modules" / "chariot" / "template.yml"
    text = template.read_text(encoding="utf-8")
    start = text.index("  ApiWebAclAssociation:")
    end = text.index("\n\n  ", start) + 1
    template.write_text(text[:start] + text[end:], encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "drop the WAF association")
    return repo, base


def _context(inputs: dict[str, str], base: str, action_path: Path) -> dict[str, Any]:
    defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}
    return {
        "inputs": {**defaults, **inputs},
        "github": {
            "event_name": "pull_request",
            "event": {"pull_request": {"number": 7, "base": {"sha": base}}},
            "token": TOKEN,
            "action_path": str(action_path),
        },
        "runner": {"os": "Linux"},
        "steps": {},
    }


def _base_env(tmp: Path, github: FakeGitHub, repo: Path, base: str) -> dict[str, str]:
    event = tmp / "event.json"
    event.write_text(
        json.dumps(
            {"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": "b" * 40}}}
        ),
        encoding="utf-8",
    )
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_")) and k != "CI"
    }
    env.update(
        {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_WORKSPACE": str(repo),
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": github.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
            "GITHUB_SHA": "c" * 40,
        }
    )
    return env


def test_the_actions_archreview_steps_run_against_the_example(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    repo, base = workspace
    context = _context({}, base, ROOT)
    env = _base_env(tmp_path, github, repo, base)
    scan_step = _step("Review the architecture")
    code, log, outputs = _run_step(scan_step, context, env, tmp_path, repo)
    # the pull request drops a WAF association: a new high finding fails the step ...
    assert code == 1, log
    assert "AR-API-001" in log  # the text report is in the log
    # ... but the outputs are written
    report_file = Path(outputs["report-file"])
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert outputs["grade"] == data["summary"]["grade"] and outputs["grade"] in "ABCDF"
    assert float(outputs["score"]) == data["summary"]["score"]
    assert data["summary"]["diff_base"] == base
    new = [f for f in data["findings"] if f["new"]]
    assert [(f["rule_id"], f["resource"]) for f in new] == [("AR-API-001", "AssetApiStage")]
    sarif = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    run = check_sarif(sarif, repo)
    assert run["automationDetails"]["id"] == "archreview/"
    assert run["properties"]["diffBase"] == base
    # the comment step (if: always()) posts the one sticky comment
    context["steps"]["scan"] = {"outputs": outputs}
    comment_step = _step("Comment")
    code, log, _ = _run_step(comment_step, context, env, tmp_path, repo)
    assert code == 0, log
    (body,) = github.bodies(7)
    assert body.startswith(MARKER) and "### New findings (1)" in body
    assert "AssetApiStage" in body.split("already there")[0]
    assert TOKEN not in log
    # a re-run updates it in place
    code, log, _ = _run_step(comment_step, context, env, tmp_path, repo)
    assert code == 0 and len(github.bodies(7)) == 1


def test_the_scan_step_honours_its_inputs(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    repo, base = workspace
    context = _context(
        {"diff": "false", "fail-on": "never", "sarif": "false", "path": "modules/chariot"},
        base,
        ROOT,
    )
    env = _base_env(tmp_path, github, repo, base)
    code, log, outputs = _run_step(_step("Review the architecture"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "sarif-file" not in outputs
    data = json.loads(Path(outputs["report-file"]).read_text(encoding="utf-8"))
    assert data["summary"]["diff_base"] is None
    assert all(f["new"] is None for f in data["findings"])
    assert "template.yml" in {f["file"] for f in data["findings"]}  # relative to `path`
    assert not any(f["file"].startswith("modules/") for f in data["findings"])


def test_a_fork_pull_request_degrades_to_the_job_summary(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    repo, base = workspace
    github.mode = "forbidden"
    context = _context({"fail-on": "never"}, base, ROOT)
    env = _base_env(tmp_path, github, repo, base)
    code, log, outputs = _run_step(_step("Review the architecture"), context, env, tmp_path, repo)
    assert code == 0, log
    context["steps"]["scan"] = {"outputs": outputs}
    code, log, _ = _run_step(_step("Comment"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "::notice title=archreview::" in log
    assert "grade" in (tmp_path / "summary.md").read_text(encoding="utf-8")


# -- the README workflow ----------------------------------------------------------------------


def _readme_workflow() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitHub Action", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "the GitHub Action section has no yaml workflow"
    data = yaml.safe_load(block.group(1))
    assert isinstance(data, dict)
    return data


def test_readme_workflow() -> None:
    wf = _readme_workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    assert wf["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "pull-requests": "write",
    }
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["submodules"] == "recursive"
    assert checkout["with"]["fetch-depth"] == 0
    assert re.fullmatch(r"actions/checkout@[0-9a-f]{40}", checkout["uses"])
    ours = next(s for s in steps if str(s.get("uses", "")).startswith("archreview/archreview@"))
    assert set(ours.get("with", {})) <= INPUTS
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pull_request_target" in readme and "fork" in readme


# -- pre-commit -------------------------------------------------------------------------------


def test_pre_commit_hook(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "archreview" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for name in (
        "template.yaml",
        "infra/edge.yml",
        "svc/service.json",
        "go.mod",
        "a/package.json",
        ".gitmodules",
        "samconfig.toml",
    ):
        assert files.search(name), name
    assert not files.search("main.go")
    # the hook's command line works (pre-commit runs it from the repository root)
    argv = hook["entry"].split() + list(hook.get("args", []))
    assert argv[:3] == ["archreview", "scan", "."]
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    cwd = os.getcwd()
    try:
        os.chdir(repo)
        result = CliRunner().invoke(main, argv[1:])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1  # the example has high findings
