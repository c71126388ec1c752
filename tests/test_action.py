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

from reviewer.cli.main import main
from reviewer.github.api import MARKER

from .conftest import FIXTURES, ROOT
from .test_github import REPO, TOKEN, FakeGitHub
from .test_github import github as github  # the local server fixture
from .test_sarif import check_sarif

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
ACTION = ROOT / "action.yml"
INPUTS = {
    "path",
    "profile",
    "fail-on",
    "fail-on-incomplete",
    "base-profile",
    "persona",
    "baseline",
    "args",
    "diff",
    "comment",
    "comment-author",
    "suggest-fixes",
    "sarif",
    "category",
    "github-token",
    "cache",
}
OUTPUTS = {"grade", "score", "new-count", "report-file", "sarif-file"}
VENV = Path(sys.executable).parent.parent  # the test environment stands for the action's venv
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
    assert set(action["outputs"]) == OUTPUTS
    assert action["inputs"]["sarif"]["default"] == "auto"
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
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
    assert "actions/upload-artifact" in used


def test_scripts_take_inputs_through_env_only() -> None:
    for step in _steps():
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step.get("shell") == "bash"
    referenced = set()
    for step in _steps():
        # an input reaches a script through env:, or decides whether a step runs (cache)
        for value in [*(step.get("env") or {}).values(), step.get("if", "")]:
            referenced |= set(re.findall(r"inputs\.([\w-]+)", str(value)))
    for key in INPUTS:
        assert key in referenced, key


def test_upload_and_comment_run_even_when_the_scan_fails() -> None:
    upload = next(s for s in _steps() if "upload-sarif" in str(s.get("uses", "")))
    assert str(upload["if"]).startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    comment = _step("Comment")
    assert str(comment["if"]).startswith("always()")
    assert '"$ARCHREVIEW" "${args[@]}"' in comment["run"] and "args=(comment " in comment["run"]
    artifact = _step("artifact")
    assert str(artifact["if"]).startswith("always()")
    assert "steps.upload.outcome != 'success'" in artifact["if"]


def test_the_action_leaves_the_callers_path_alone() -> None:
    """Issue 18, item 5: the virtualenv is called by absolute path; GITHUB_PATH (and
    GITHUB_ENV) are never written, so later steps of the caller's job keep their python."""
    for step in _steps():
        run = step.get("run", "")
        assert "GITHUB_PATH" not in run and "GITHUB_ENV" not in run, step.get("name")
        for line in run.splitlines():
            words = line.strip().split()
            assert not (words and words[0] in ("archreview", "python", "pip")), line
    assert (
        _step("Review")["env"]["ARCHREVIEW"] == "${{ steps.install.outputs.venv }}/bin/archreview"
    )


def test_install_uses_the_actions_checkout_pinned_requirements_and_a_pip_cache() -> None:
    python = next(s for s in _steps() if "setup-python" in str(s.get("uses", "")))
    assert python["with"]["python-version"] == "3.11"
    cache = next(s for s in _steps() if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"] == "~/.cache/pip"
    assert "steps.pip-key.outputs.hash" in cache["with"]["key"]
    key = _step("Pip cache key")
    assert "action-requirements.txt" in key["run"]
    install = _step("Install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '--require-hashes --no-deps -r "$ACTION_PATH/action-requirements.txt"' in install["run"]
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
    hashes: dict[str, list[str]] = {}
    text = (ROOT / "action-requirements.txt").read_text(encoding="utf-8")
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split()
        name, sep, version = spec.partition("==")
        assert sep and version, f"not pinned: {line}"
        pins[canonicalize_name(name)] = version
        hashes[canonicalize_name(name)] = [o for o in options if o.startswith("--hash=sha256:")]
        assert len(hashes[canonicalize_name(name)]) == len(options), line
    # --require-hashes: every pin has hashes; those with compiled wheels one per platform file
    assert all(hashes.values()), [k for k, v in hashes.items() if not v]
    for compiled in ("pyyaml", "markupsafe", "regex"):
        assert len(hashes[compiled]) >= 10, compiled  # Linux x86_64/arm64, macOS, Windows ...
    assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for v in hashes.values() for h in v)
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
    context: dict[str, Any] = {
        "inputs": {**defaults, **inputs},
        "github": {
            "event_name": "pull_request",
            "event": {"pull_request": {"number": 7, "base": {"sha": base}}},
            "token": TOKEN,
            "action_path": str(action_path),
        },
        "runner": {"os": "Linux"},
        "steps": {"install": {"outputs": {"venv": str(VENV)}}},
    }
    # a default may be an expression (github-token: ${{ github.token }})
    context["inputs"] = {k: _expand(v, context) for k, v in context["inputs"].items()}
    return context


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
    assert body.startswith(MARKER)
    assert "### What this pull request introduces: 1 new finding" in body
    assert "AssetApiStage" in body.split("already there")[0]
    assert outputs["new-count"] == "1"
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
    assert "## archreview: the gate passed" in (tmp_path / "summary.md").read_text("utf-8")


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
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    assert wf["permissions"] == {}  # nothing at the workflow level
    assert wf["concurrency"]["cancel-in-progress"] is True
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "pull-requests": "write",
    }
    steps = job["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    assert checkout["with"]["submodules"] == "recursive"
    assert checkout["with"]["fetch-depth"] == 0
    assert re.fullmatch(r"actions/checkout@[0-9a-f]{40}", checkout["uses"])
    ours = next(s for s in steps if str(s.get("uses", "")).startswith("archreview/archreview@"))
    assert re.fullmatch(r"archreview/archreview@[0-9a-f]{40}", ours["uses"])
    assert set(ours.get("with", {})) <= INPUTS
    # issue 18, item 6: a push to main records findings without failing on existing ones
    assert ours["with"]["fail-on"] == (
        "${{ github.event_name == 'pull_request' && 'high' || 'never' }}"
    )
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"]
        for value in (step.get("env") or {}).values():
            assert "outputs." in value, value  # only our own outputs reach a script
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pull_request_target" in readme and "fork" in readme


def _zizmor() -> str:
    found = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(found).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("zizmor is not installed (the dev extra installs it)")
        pytest.skip("zizmor is not installed (pip install -e '.[dev]')")
    return found


def _zizmor_findings(target: Path) -> tuple[int, str]:
    done = subprocess.run(
        [_zizmor(), "--offline", "--no-progress", "--format", "plain", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return done.returncode, done.stdout + done.stderr


def test_zizmor_finds_nothing_in_the_action(tmp_path: Path) -> None:
    """Issue 18, item 6: zizmor's default persona, offline, on action.yml."""
    folder = tmp_path / "action"
    folder.mkdir()
    shutil.copy(ACTION, folder / "action.yml")
    code, out = _zizmor_findings(folder / "action.yml")
    assert code == 0 and "No findings" in out, out


def test_zizmor_finds_nothing_in_the_readme_workflow(tmp_path: Path) -> None:
    """The README's workflow as a user copies it, audited by zizmor's default persona."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitHub Action", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "archreview.yml").write_text(block.group(1), encoding="utf-8")
    code, out = _zizmor_findings(workflows / "archreview.yml")
    assert code == 0 and "No findings" in out, out


def test_zizmor_sees_what_the_readme_workflow_avoids(tmp_path: Path) -> None:
    """The check above can fail: the README's workflow with persisted credentials (the
    issue's example) is flagged."""
    wf = _readme_workflow()
    triggers = wf.pop(True, None) or wf.pop("on")
    job = next(iter(wf["jobs"].values()))
    checkout = next(s for s in job["steps"] if "checkout" in str(s.get("uses", "")))
    del checkout["with"]["persist-credentials"]
    target = tmp_path / "bad.yml"
    target.write_text(yaml.safe_dump({"on": triggers, **wf}), encoding="utf-8")
    code, out = _zizmor_findings(target)
    assert code != 0 and "artipacked" in out, out


# -- the base commit of a shallow checkout (issue 18, item 6) -----------------------------------


def test_a_shallow_checkout_fetches_the_base_commit_without_storing_the_token(
    tmp_path: Path, workspace: tuple[Path, str]
) -> None:
    repo, base = workspace
    origin = tmp_path / "origin.git"
    _git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow))
    missing = subprocess.run(
        ["git", "cat-file", "-e", f"{base}^{{commit}}"], cwd=shallow, capture_output=True
    )
    assert missing.returncode != 0  # the base is not there yet
    context = _context({}, base, ROOT)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    step = _step("Fetch the pull request's base commit")
    code, log, _ = _run_step(step, context, env, tmp_path, shallow)
    assert code == 0, log
    assert _git(shallow, "cat-file", "-t", base) == "commit"
    config = (shallow / ".git" / "config").read_text(encoding="utf-8")
    assert "extraheader" not in config.lower() and TOKEN not in config
    assert TOKEN not in log
    # and the scan then runs in PR mode against it
    scan_env = {**env, "RUNNER_TEMP": str(tmp_path / "rt"), "GITHUB_ACTIONS": "true"}
    (tmp_path / "rt").mkdir()
    code, log, outputs = _run_step(_step("Review"), context, scan_env, tmp_path, shallow)
    assert code == 1 and outputs["new-count"] == "1", log


def test_the_scan_step_passes_persona_baseline_and_args(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    repo, base = workspace
    env = _base_env(tmp_path, github, repo, base)
    # a baseline of everything: nothing is left to judge
    code, log, outputs = _run_step(
        _step("Review"),
        _context({"diff": "false", "fail-on": "never"}, base, ROOT),
        env,
        tmp_path,
        repo,
    )
    assert code == 0, log
    everything = int(outputs["new-count"])
    assert everything > 0
    baseline = repo / "baseline.json"
    assert CliRunner().invoke(
        main,
        ["scan", str(repo), "--write-baseline", str(baseline), "--persona", "auditor", "--quiet"],
    ).exit_code in (0, 1)
    inputs = {
        "diff": "false",
        "baseline": str(baseline),
        "persona": "auditor",
        "args": "--exclude modules/janus/** --min-confidence high",
    }
    code, log, outputs = _run_step(
        _step("Review"), _context(inputs, base, ROOT), env, tmp_path, repo
    )
    data = json.loads(Path(outputs["report-file"]).read_text(encoding="utf-8"))
    assert code == 0, log
    assert data["summary"]["hidden"] == {"pedantic": 0, "auditor": 0}  # the auditor sees all
    assert not any(f["file"].startswith("modules/janus/") for f in data["findings"])
    assert {f["confidence"] for f in data["findings"]} <= {"high"}
    assert outputs["new-count"] == "0"


def test_a_push_writes_the_job_summary_without_a_comment(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    """Issue 18, item 6: the job summary is always written; a push has no pull request."""
    repo, base = workspace
    context = _context({"fail-on": "never"}, base, ROOT)
    context["github"]["event_name"] = "push"
    context["github"]["event"] = {}
    env = {**_base_env(tmp_path, github, repo, base), "GITHUB_EVENT_NAME": "push"}
    code, log, outputs = _run_step(_step("Review"), context, env, tmp_path, repo)
    assert code == 0, log
    context["steps"]["scan"] = {"outputs": outputs}
    code, log, _ = _run_step(_step("Comment"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "## archreview: the gate passed" in (tmp_path / "summary.md").read_text("utf-8")
    assert github.log == []  # no comment, no API call


# -- archreview's cache between runs (issue 20, item 3) ---------------------------------------

GH_TOKEN = re.compile(r"'(?:[^']|'')*'|&&|\|\||==|!=|!|\(|\)|,|[A-Za-z_][\w.-]*|\s+")


def _condition(expr: str, context: dict[str, Any], *, cancelled: bool = False) -> bool:
    """Evaluate a step's `if:` the way the runner does, for the subset action.yml uses:
    strings, context lookups (missing: ''), == != && || ! ( ), cancelled() and format()."""
    expr = EXPR.sub(lambda m: m.group(1), expr.strip())
    tokens = GH_TOKEN.findall(expr)
    assert "".join(tokens) == expr, f"unsupported expression: {expr}"
    words = [t for t in tokens if not t.isspace()]
    functions = {
        "cancelled": lambda: cancelled,
        "always": lambda: True,
        "format": lambda text, *args: text.format(*args),
    }
    code = []
    for at, word in enumerate(words):
        if word.startswith("'"):
            code.append(repr(word[1:-1].replace("''", "'")))
        elif word in ("&&", "||", "!"):
            code.append({"&&": " and ", "||": " or ", "!": " not "}[word])
        elif word in ("==", "!=", "(", ")", ","):
            code.append(word)
        elif at + 1 < len(words) and words[at + 1] == "(":
            assert word in functions, word
            code.append(word)
        else:
            code.append(repr(_lookup(context, word)))
    return bool(eval("".join(code), {"__builtins__": {}}, functions))


def _event(name: str, ref: str, *, cache: str = "true", scan: str = "success") -> dict[str, Any]:
    return {
        "inputs": {"cache": cache},
        "github": {
            "event_name": name,
            "ref": ref,
            "event": {"repository": {"default_branch": "main"}},
        },
        "steps": {
            "cache-key": {"outputs": {"dir": "/runner/temp/archreview-cache"}},
            "scan": {"outcome": scan},
        },
    }


def _cache_step(kind: str) -> dict[str, Any]:
    (step,) = [s for s in _steps() if str(s.get("uses", "")).startswith(f"actions/cache/{kind}@")]
    return step


def test_the_condition_evaluator_reads_what_the_runner_reads() -> None:
    """The evaluator below the cache tests can say no: each operator changes its answer."""
    ctx = _event("push", "refs/heads/main")
    assert _condition("github.event_name == 'push'", ctx)
    assert not _condition("github.event_name != 'push'", ctx)
    assert not _condition("!cancelled() && inputs.cache == 'true'", ctx, cancelled=True)
    assert _condition("${{ inputs.missing == '' || false_value }}", ctx)
    assert _condition(
        "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)", ctx
    )
    assert not _condition("github.ref == format('refs/tags/{0}', 'main')", ctx)
    with pytest.raises(AssertionError):
        _condition("github.ref == `main`", ctx)


SAVE_CASES = [
    # (event, ref, cache input, scan outcome, cancelled) -> saved?
    (("push", "refs/heads/main", "true", "success", False), True),
    (("push", "refs/heads/main", "true", "failure", False), True),  # findings fail the gate
    (("push", "refs/heads/main", "true", "skipped", False), False),  # the install failed
    (("push", "refs/heads/main", "true", "success", True), False),
    (("push", "refs/heads/main", "false", "success", False), False),
    (("push", "refs/heads/feature", "true", "success", False), False),
    (("push", "refs/tags/main", "true", "success", False), False),  # a tag named like it
    (("pull_request", "refs/pull/7/merge", "true", "success", False), False),
    # pull_request_target runs with the base branch's ref: still never saved
    (("pull_request_target", "refs/heads/main", "true", "success", False), False),
    (("schedule", "refs/heads/main", "true", "success", False), False),
    (("workflow_dispatch", "refs/heads/main", "true", "success", False), False),
]


@pytest.mark.parametrize(("case", "saved"), SAVE_CASES)
def test_the_cache_is_saved_only_by_a_push_to_the_default_branch(
    case: tuple[str, str, str, str, bool], saved: bool
) -> None:
    event, ref, cache, outcome, cancelled = case
    ctx = _event(event, ref, cache=cache, scan=outcome)
    assert _condition(_cache_step("save")["if"], ctx, cancelled=cancelled) is saved


@pytest.mark.parametrize(
    ("event", "ref"),
    [
        ("pull_request", "refs/pull/7/merge"),
        ("pull_request_target", "refs/heads/main"),
        ("push", "refs/heads/main"),
        ("push", "refs/heads/feature"),
    ],
)
def test_the_cache_is_restored_by_every_run_unless_turned_off(event: str, ref: str) -> None:
    restore = _cache_step("restore")
    key = _step_by_id("cache-key")
    assert _condition(restore["if"], _event(event, ref))
    assert _condition(key["if"], _event(event, ref))
    assert not _condition(restore["if"], _event(event, ref, cache="false"))
    assert not _condition(key["if"], _event(event, ref, cache="false"))


def _step_by_id(step_id: str) -> dict[str, Any]:
    (step,) = [s for s in _steps() if s.get("id") == step_id]
    return step


def test_the_cache_steps_keep_the_folder_the_scan_uses() -> None:
    names = [s.get("id") or s.get("name") for s in _steps()]
    restore, save = _cache_step("restore"), _cache_step("save")
    order = [
        names.index(x) for x in ("install", "cache-key", restore["name"], "scan", save["name"])
    ]
    assert order == sorted(order), names  # key, restore before the scan; save after it
    folder = "${{ steps.cache-key.outputs.dir }}"
    assert restore["with"]["path"] == save["with"]["path"] == folder
    assert _step_by_id("scan")["env"]["CACHE_HOME"] == folder
    assert 'export XDG_CACHE_HOME="$CACHE_HOME"' in _step_by_id("scan")["run"]
    assert restore["with"]["key"] == save["with"]["key"] == "${{ steps.cache-key.outputs.key }}"
    assert restore["with"]["restore-keys"].splitlines() == [
        "${{ steps.cache-key.outputs.profile-prefix }}",
        "${{ steps.cache-key.outputs.prefix }}",
    ]
    # restore and save from the same pinned release of actions/cache
    pins = {
        PINNED.match(line).group(2)
        for line in ACTION.read_text("utf-8").splitlines()  # type: ignore[union-attr]
        if "uses: actions/cache" in line
    }
    assert len(pins) == 1, pins


def _cache_key_outputs(tmp_path: Path, repo: Path, profile: str = "") -> dict[str, str]:
    context = {
        "inputs": {"path": str(repo), "profile": profile, "cache": "true"},
        "steps": {"install": {"outputs": {"venv": str(VENV)}}},
    }
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "user-cache"),
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "ARCHREVIEW_TODAY": os.environ.get("ARCHREVIEW_TODAY", ""),
    }
    code, log, outputs = _run_step(_step_by_id("cache-key"), context, env, tmp_path, repo)
    assert code == 0, log
    return outputs


def test_the_cache_key_is_os_version_and_profile_with_restore_prefixes(tmp_path: Path) -> None:
    from importlib.metadata import version

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    first = _cache_key_outputs(tmp_path, repo)
    assert first["dir"] == str(tmp_path / "runner-temp" / "archreview-cache")
    assert first["prefix"] == f"archreview-Linux-{version('archreview')}-"
    assert first["profile-prefix"].startswith(first["prefix"])
    assert re.fullmatch(re.escape(first["prefix"]) + r"[0-9a-f]{16}-", first["profile-prefix"])
    assert first["key"] == first["profile-prefix"] + "4242-1"
    assert _cache_key_outputs(tmp_path, repo) == first  # the same inputs: the same key
    # another declared architecture: another profile digest, the same broad prefix
    (repo / ".archreview.yml").write_text("version: 1\nextends: baseline\n", encoding="utf-8")
    other = _cache_key_outputs(tmp_path, repo)
    assert other["prefix"] == first["prefix"]
    assert other["profile-prefix"] != first["profile-prefix"]
    # the profile input is what the scan reads too: it decides the digest
    chosen = tmp_path / "team.yml"
    chosen.write_text("version: 1\nextends: chariot\n", encoding="utf-8")
    given = _cache_key_outputs(tmp_path, repo, str(chosen))
    assert given["profile-prefix"] not in (first["profile-prefix"], other["profile-prefix"])


def test_a_restored_cache_makes_the_next_job_warm(
    tmp_path: Path, github: FakeGitHub, workspace: tuple[Path, str]
) -> None:
    """The scan keeps its cache in the folder the steps save, with the secret that signs it:
    a later job (a new runner temp, the folder restored) reads it instead of writing anew."""
    repo, base = workspace
    folder = tmp_path / "job1" / "archreview-cache"
    context = _context({"diff": "false", "fail-on": "never"}, base, ROOT)
    context["steps"]["cache-key"] = {"outputs": {"dir": str(folder)}}
    env = _base_env(tmp_path, github, repo, base)
    code, log, first = _run_step(_step("Review"), context, env, tmp_path, repo)
    assert code == 0, log
    own = folder / "archreview"
    assert (own / "secret").is_file()  # the secret travels with the entries it signs
    (tree,) = (own / "trees").iterdir()
    assert (tree / "archreview-cache.mark").is_file()
    written = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert len(written) > 3
    # the next job: actions/cache restores the folder into a new runner temp
    restored = tmp_path / "job2" / "archreview-cache"
    shutil.copytree(folder, restored)
    context["steps"]["cache-key"] = {"outputs": {"dir": str(restored)}}
    code, log, second = _run_step(_step("Review"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "archreview-cache.mark" not in log and "another secret" not in log
    again = sorted(p.relative_to(restored) for p in restored.rglob("*") if p.is_file())
    assert again == written  # every entry was read back, none written anew
    assert second["new-count"] == first["new-count"]
    # without the secret that signed them (caching the tree folder alone), nothing is reused
    unsigned = tmp_path / "job3" / "archreview-cache"
    shutil.copytree(folder, unsigned)
    (unsigned / "archreview" / "secret").unlink()
    context["steps"]["cache-key"] = {"outputs": {"dir": str(unsigned)}}
    code, log, _ = _run_step(_step("Review"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "another secret" in log


# -- pre-commit -------------------------------------------------------------------------------


def _staged_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=a@example.com", "-c", "user.name=a", "commit", "-qm", "base")
    return repo


def _hook(repo: Path, *files: str) -> Any:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    argv = hook["entry"].split() + list(hook.get("args", [])) + list(files)
    assert argv[0] == "archreview"
    cwd = os.getcwd()
    try:
        os.chdir(repo)  # pre-commit runs hooks from the repository root
        return CliRunner().invoke(main, argv[1:])
    finally:
        os.chdir(cwd)


def test_pre_commit_hook(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "archreview" and hook["language"] == "python"
    assert hook["pass_filenames"] is True and hook["require_serial"] is True
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


def test_pre_commit_reports_only_the_findings_of_the_committed_files(tmp_path: Path) -> None:
    """Issue 18, item 8: the hook reviews the whole tree and reports only the findings in the
    files of the commit; the whole tree has high findings elsewhere."""
    repo = _staged_repo(tmp_path)
    whole = CliRunner().invoke(main, ["scan", str(repo), "--format", "json", "--quiet"])
    findings = json.loads(whole.stdout)["findings"]
    by_file: dict[str, set[str]] = {}
    for f in findings:
        if f["suppressed"] is None:
            by_file.setdefault(f["file"], set()).add(f["severity"])
    high = next(f for f, sev in sorted(by_file.items()) if "high" in sev)
    calm = next(
        f for f, sev in sorted(by_file.items()) if not sev & {"critical", "high"} and f != high
    )
    # a commit touching a file with only lower findings passes and shows only that file's
    (repo / calm).write_text((repo / calm).read_text("utf-8") + "\n", encoding="utf-8")
    _git(repo, "add", calm)
    result = _hook(repo, calm)
    assert result.exit_code == 0, result.output
    shown = set(re.findall(r"--> (\S+?):\d+", result.stdout))
    assert shown <= {calm} and shown, result.output
    assert "elsewhere in the tree, not shown" in result.stderr
    # without arguments the hook reads git's index: the same answer
    assert _hook(repo).stdout == result.stdout
    # a commit touching a file with a high finding fails
    failed = _hook(repo, high)
    assert failed.exit_code == 1 and high in failed.stdout
    # nothing of the commit's: nothing shown, exit 0, even though the tree has high findings
    (repo / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    quiet = _hook(repo, "notes.yaml")
    assert quiet.exit_code == 0 and quiet.stdout == ""


def test_pre_commit_outside_git_without_files_is_a_usage_error(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    shutil.copytree(EXAMPLE, repo)
    env_dir = tmp_path / "ceiling"
    env_dir.mkdir()
    cwd = os.getcwd()
    try:
        os.chdir(repo)
        result = CliRunner().invoke(
            main, ["pre-commit"], env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2 and "staged files" in result.output
