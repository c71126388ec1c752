"""Where the declared architecture comes from (issue 16): --profile, the root's .archreview.yml,
an agent definition committed in the repository, the built-in baseline; the presets; each
module's own declaration; the upgrade notice; --exclude; and the example repository reviewed
against its own agent definition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.profile import BASELINE, BASELINE_NOTICE, SCHEMA_KEYS, Profile, profile_problems
from reviewer.profile.document import PRESET_DIR
from reviewer.profile.loader import (
    DOCS_DEPTH,
    MAX_AGENT_CANDIDATES,
    ProfileError,
    agent_candidates,
    best_agent,
    parse_profile_text,
    preset,
    resolve_modules,
    resolve_profile,
)

from .conftest import FIXTURES, ROOT

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
EXAMPLE_AGENT = ".claude/agents/platform-architect.md"
CHARIOT = preset("chariot")
# the declared-stack rules of the issue: they need a declaration to run
DECLARED_STACK = (
    "AR-STK-001",
    "AR-STK-003",
    "AR-STK-004",
    "AR-STK-005",
    "AR-STK-007",
    "AR-CMP-001",
)


def _agent(go: str = "1.23.4", *, extra: str = "", body: str = "") -> str:
    """A small agent definition: Go version (one key), plus what `extra` adds under the
    backend and `body` below the front matter."""
    return (
        "---\n"
        "name: svc-architect\n"
        "description: designs the service\n"
        "svc_context:\n"
        "  technology_stack:\n"
        "    backend:\n"
        f'      primary_language: "Go {go}"\n'
        f"{extra}"
        "---\n"
        f"# Service architect\n{body}"
    )


TWO_KEYS = '      frameworks: ["chi"]\n'  # stack.go.version + required/forbidden modules


def _write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


# -- the order: --profile, .archreview.yml, an agent definition, the baseline ------------------


def test_first_found_wins_and_says_where_it_came_from(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    p = resolve_profile(root)
    assert (p.source_kind, p.source, p.notice) == ("baseline", "built-in baseline", BASELINE_NOTICE)
    assert p == BASELINE

    _write(root, ".claude/agents/svc.md", _agent("1.23.4"))
    p = resolve_profile(root)
    assert (p.source_kind, p.source, p.go_version) == ("agent", ".claude/agents/svc.md", "1.23.4")
    assert p.declared == {"stack.go.version"} and p.notice is None

    _write(root, ".archreview.yml", "stack:\n  go:\n    version: '1.22'\n")
    p = resolve_profile(root)
    assert (p.source_kind, p.source, p.go_version) == ("file", ".archreview.yml", "1.22")

    named = _write(tmp_path, "named.yml", "extends: chariot\n")
    p = resolve_profile(root, named)
    assert (p.source_kind, p.source, p.extends) == ("option", str(named), "chariot")
    assert p.go_version == CHARIOT.go_version and p.declared == CHARIOT.declared


def test_an_agent_definition_named_by_profile_is_an_option(tmp_path: Path) -> None:
    agent = _write(tmp_path, "mine.agent.md", _agent("1.21"))
    p = resolve_profile(_repo(tmp_path), agent)
    assert (p.source_kind, p.go_version, p.declared) == ("option", "1.21", {"stack.go.version"})


def test_a_profile_file_that_declares_nothing_carries_the_notice(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, ".archreview.yml", "exclude: ['legacy/**']\nrules:\n  disable: [AR-OBS-001]\n")
    p = resolve_profile(root)
    assert p.source_kind == "file" and p.notice == BASELINE_NOTICE
    _write(root, ".archreview.yml", "extends: chariot\n")
    assert resolve_profile(root).notice is None


def test_the_presets_ship_beside_the_code_and_load_strictly() -> None:
    assert sorted(p.name for p in PRESET_DIR.glob("*.yml")) == ["baseline.yml", "chariot.yml"]
    assert preset("baseline") == Profile() == BASELINE
    with pytest.raises(ProfileError, match="unknown preset"):
        preset("nope")
    # a preset file is an ordinary profile: --profile accepts it and gives the preset
    p = resolve_profile(Path("."), PRESET_DIR / "chariot.yml")
    assert replace(p, source=CHARIOT.source) == CHARIOT


# -- agent definitions committed in the repository ---------------------------------------------


@pytest.mark.parametrize(
    "rel",
    [
        ".claude/agents/architect.md",
        ".github/agents/architect.md",
        "architect.agent.md",
        "docs/architect.agent.md",
        "docs/design/platform/architect.agent.md",
    ],
)
def test_agent_definitions_are_found_in_the_four_places(tmp_path: Path, rel: str) -> None:
    root = _repo(tmp_path)
    _write(root, rel, _agent())
    assert agent_candidates(root) == [rel]
    assert resolve_profile(root).source == rel


@pytest.mark.parametrize(
    "rel",
    [
        ".claude/architect.md",  # not below agents/
        ".claude/agents/notes.txt",
        "architect.md",  # at the root only *.agent.md
        "services/architect.agent.md",  # below docs/ only
        "docs/node_modules/x/architect.agent.md",
        "docs/" + "d/" * DOCS_DEPTH + "architect.agent.md",  # deeper than DOCS_DEPTH
    ],
)
def test_other_places_are_not_looked_at(tmp_path: Path, rel: str) -> None:
    root = _repo(tmp_path)
    _write(root, rel, _agent())
    assert agent_candidates(root) == []
    assert resolve_profile(root).source_kind == "baseline"


def test_the_one_that_maps_most_keys_wins_ties_by_path(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, "docs/b.agent.md", _agent("1.21"))
    _write(root, ".github/agents/a.md", _agent("1.22"))
    assert resolve_profile(root).source == ".github/agents/a.md"  # one key each: path order
    _write(root, "z.agent.md", _agent("1.23", extra=TWO_KEYS))
    p = resolve_profile(root)
    assert (p.source, p.go_version) == ("z.agent.md", "1.23")
    assert p.declared == {
        "stack.go.version",
        "stack.go.required_modules",
        "stack.go.forbidden_modules",
    }


def test_documentation_and_unrelated_agents_are_passed_over_quietly(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, ".claude/agents/README.md", "# Our agents\n\nNo front matter: documentation.\n")
    _write(
        root,
        ".claude/agents/reviewer.md",
        "---\nname: code-reviewer\ndescription: reviews diffs\ntools: Read\n---\nReview code.\n",
    )
    p = resolve_profile(root)
    assert p.source_kind == "baseline" and p.problems == ()


def _secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    return _write(outside, "secret.agent.md", _agent("1.1") + "TOP-SECRET-VALUE\n")


@pytest.mark.parametrize("case", ["bad-yaml", "unclosed", "link-out", "fifo", "huge", "latin1"])
def test_a_candidate_that_cannot_be_read_is_a_problem_and_is_skipped(
    tmp_path: Path, case: str
) -> None:
    root = _repo(tmp_path)
    _write(root, ".github/agents/good.md", _agent("1.22"))
    rel = ".claude/agents/bad.md"
    bad = root / rel
    bad.parent.mkdir(parents=True)
    if case == "bad-yaml":
        bad.write_text("---\nname: x\nsvc_context: [unclosed\n---\n", encoding="utf-8")
    elif case == "unclosed":
        bad.write_text("---\nname: x\n", encoding="utf-8")
    elif case == "link-out":
        bad.symlink_to(_secret(tmp_path))
    elif case == "fifo":
        os.mkfifo(bad)
    elif case == "huge":
        bad.write_text(_agent() + "x" * 1_000_001, encoding="utf-8")
    else:
        bad.write_bytes(_agent().encode() + "caf\xe9\n".encode("latin-1"))
    p = resolve_profile(root)
    assert (p.source, p.go_version) == (".github/agents/good.md", "1.22")
    assert len(p.problems) == 1
    file, line, message = p.problems[0]
    assert file == rel and line >= 1
    assert "TOP-SECRET" not in message and "outside" not in message.replace("outside the", "")
    expected = {
        "bad-yaml": "invalid YAML",
        "unclosed": "never closed",
        "link-out": "symbolic link leading outside the repository",
        "fifo": "not a regular file",
        "huge": "over 1,000,000 bytes",
        "latin1": "not UTF-8",
    }[case]
    assert expected in message, message


def test_a_linked_agents_folder_is_not_entered(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    outside = tmp_path / "elsewhere"
    _write(outside, "agents/x.md", _agent())
    (root / ".claude").mkdir()
    (root / ".claude" / "agents").symlink_to(outside / "agents", target_is_directory=True)
    (root / "docs").symlink_to(outside, target_is_directory=True)
    assert agent_candidates(root) == []


def test_at_most_so_many_candidates_are_read(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    for i in range(MAX_AGENT_CANDIDATES + 3):
        _write(root, f".claude/agents/a{i:03d}.md", _agent(f"1.{i + 1}"))
    found = agent_candidates(root)
    best, problems = best_agent(root, found)
    assert best is not None and best.source == ".claude/agents/a000.md"
    assert [p[0] for p in problems] == [found[MAX_AGENT_CANDIDATES]]
    assert "only the first" in problems[0][2]


def test_an_unreadable_candidate_is_an_ar_mod_003_finding(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, ".claude/agents/bad.md", "---\nname: x\nsvc_context: [unclosed\n---\n")
    _write(root, "go.mod", "module example.com/x\n\ngo 1.23\n")
    from reviewer import scan

    report = scan(root)
    found = [f for f in report.findings if f.rule_id == "AR-MOD-003"]
    assert [(f.file, f.line) for f in found] == [(".claude/agents/bad.md", 3)], found


# -- each module's own declaration -------------------------------------------------------------

SUPER = {
    ".archreview.yml": (
        "extends: chariot\n"
        "modules:\n"
        "  services/*:\n"
        "    platform: {canary_releases: false}\n"
        "  apps/**:\n"
        "    layers: {network: false}\n"
    ),
    "services/api/go.mod": "module example.com/api\n\ngo 1.23\n",
    "services/api/.archreview.yml": "stack:\n  go:\n    version: '1.23'\n",
    "services/billing/go.mod": "module example.com/billing\n\ngo 1.23\n",
    "apps/web/package.json": json.dumps(
        {"name": "web", "dependencies": {"react": "^17.0.2", "react-dom": "^17.0.2"}}
    ),
    "apps/web/.claude/agents/web.md": (
        "---\nname: web-architect\nweb_context:\n  technology_stack:\n    frontend:\n"
        '      framework: "React 17.0.2"\n      primary_language: "TypeScript 5.6"\n---\n'
    ),
    "apps/admin/package.json": json.dumps(
        {"name": "admin", "dependencies": {"react": "^17.0.2", "react-dom": "^17.0.2"}}
    ),
}


def _super_repo(tmp_path: Path) -> Path:
    root = _repo(tmp_path)
    for rel, text in SUPER.items():
        _write(root, rel, text)
    return root


def test_modules_answer_to_their_own_stacks(tmp_path: Path) -> None:
    root = _super_repo(tmp_path)
    top = resolve_profile(root)
    names = [".", "apps/admin", "apps/web", "services/api", "services/billing", "infra"]
    got = resolve_modules(root, top, names)
    assert set(got) == set(names)
    # nothing of their own: the root's profile itself
    assert got["."] is top and got["infra"] is top
    # the Go service: its own .archreview.yml on top of the root's modules: glob
    api = got["services/api"]
    assert (api.go_version, api.gradual_deployment, api.source) == (
        "1.23",
        False,
        "services/api/.archreview.yml",
    )
    assert api.node_packages == CHARIOT.node_packages  # the rest is the root's
    billing = got["services/billing"]
    assert (billing.go_version, billing.gradual_deployment) == ("1.24.6", False)
    assert billing.declared == CHARIOT.declared
    # the React front end: its own agent definition; the glob switched its network layer off
    web = got["apps/web"]
    assert dict(web.node_packages) == {
        "react": "17.0.2",
        "react-dom": "17.0.2",
        "typescript": "5.6",
    }
    assert (web.source, web.source_kind) == ("apps/web/.claude/agents/web.md", "agent")
    assert "NET" not in web.layers and "API" in web.layers and web.go_version == "1.24.6"
    admin = got["apps/admin"]
    assert dict(admin.node_packages)["react"] == "18.3.1" and "NET" not in admin.layers


def test_a_nested_module_inherits_its_enclosing_modules_declaration(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, "platform/.archreview.yml", "stack:\n  go:\n    version: '1.22'\n")
    _write(root, "platform/web/.archreview.yml", "stack:\n  node:\n    packages: {react: '19'}\n")
    got = resolve_modules(root, BASELINE, ["platform", "platform/web", "platform/tools/x"])
    assert got["platform"].go_version == "1.22" and got["platform"].node_packages == ()
    assert (got["platform/web"].go_version, got["platform/web"].node_packages) == (
        "1.22",
        (("react", "19"),),
    )
    # a folder that is no module declares nothing for the modules below it
    _write(root, "platform/tools/.archreview.yml", "stack:\n  go:\n    version: '1.21'\n")
    assert resolve_modules(root, BASELINE, ["platform/tools/x"])["platform/tools/x"] is BASELINE


def test_a_modules_file_that_cannot_be_used_is_a_problem(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(root, "svc/.archreview.yml", "stack:\n  go:\n    verison: '1.22'\n")
    _secret(tmp_path)
    (root / "linked").mkdir()
    (root / "linked" / ".archreview.yml").symlink_to(tmp_path / "outside" / "secret.agent.md")
    got = resolve_modules(root, CHARIOT, ["svc", "linked"])
    assert got["svc"] == CHARIOT and got["linked"] == CHARIOT
    assert got["svc"].problems == (
        (
            "svc/.archreview.yml",
            3,
            "unknown key 'stack.go.verison'; "
            "allowed here: version, required_modules, forbidden_modules",
        ),
    )
    ((file, _, message),) = got["linked"].problems
    assert file == "linked/.archreview.yml" and "outside the repository" in message
    assert "TOP-SECRET" not in message
    assert len(profile_problems([CHARIOT, got["svc"], got["svc"], got["linked"]])) == 2


def test_a_modules_own_file_declares_architecture_not_review_settings(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    _write(
        root,
        "svc/.archreview.yml",
        "persona: auditor\nexclude: ['**']\nrules: {disable: [AR-IAM-001]}\n"
        "layers: {monitoring: false}\n",
    )
    svc = resolve_modules(root, BASELINE, ["svc"])["svc"]
    assert "OBS" not in svc.layers and svc.declared == {"layers.monitoring.enabled"}
    assert (svc.persona, svc.exclude_paths, svc.disabled_rules) == (BASELINE.persona, (), ())


def _json_scan(*args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(
        main, ["scan", *args, "--format", "json", "--fail-on", "never", "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_a_go_module_and_a_react_module_are_judged_against_their_own_stacks(
    tmp_path: Path,
) -> None:
    """In a scan: the Go service that declares Go 1.23 for itself has no AR-STK-001, its
    sibling held to the root's 1.24.6 does; the front end that declares React 17 has no
    AR-STK-004, its sibling held to the root's 18.3.1 does."""
    root = _super_repo(tmp_path)
    data, _ = _json_scan(str(root))
    by_rule: dict[str, set[str]] = {}
    for f in data["findings"]:
        by_rule.setdefault(f["rule_id"], set()).add(f["module"])
    assert "services/billing" in by_rule.get("AR-STK-001", set())
    assert "services/api" not in by_rule.get("AR-STK-001", set())
    assert "apps/admin" in by_rule.get("AR-STK-004", set())
    assert "apps/web" not in by_rule.get("AR-STK-004", set())


# -- the command line ---------------------------------------------------------------------------


def test_every_run_says_where_the_declaration_came_from_and_the_notice_once(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path)
    _, stderr = _json_scan(str(root))
    assert stderr.count("archreview: declared architecture: none (the built-in baseline)\n") == 1
    assert stderr.count(f"archreview: {BASELINE_NOTICE}\n") == 1
    quiet = CliRunner().invoke(
        main, ["scan", str(root), "--format", "json", "--quiet", "--fail-on", "never"]
    )
    assert quiet.exit_code == 0 and quiet.stderr == ""
    _write(root, "docs/platform.agent.md", _agent("1.22"))
    _, stderr = _json_scan(str(root))
    assert (
        "archreview: declared architecture: docs/platform.agent.md (an agent definition "
        "committed in the repository)\n" in stderr
    )
    assert BASELINE_NOTICE not in stderr


def test_exclude_in_the_profile_and_on_the_command_line_add_up(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    admin = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Admin:\n"
        "    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Action: 'sts:AssumeRole',"
        " Principal: {Service: lambda.amazonaws.com}}]}\n"
        "      Policies:\n        - PolicyName: all\n"
        "          PolicyDocument: {Statement: [{Effect: Allow, Action: '*', Resource: '*'}]}\n"
    )
    for folder in ("app", "legacy", "examples", "tmp"):
        _write(root, f"{folder}/template.yaml", admin)

    def files(*args: str) -> set[str]:
        data, _ = _json_scan(str(root), *args)
        return {f["file"].split("/")[0] for f in data["findings"]}

    assert files() == {"app", "legacy", "examples", "tmp"}
    _write(root, ".archreview.yml", "exclude: ['legacy/**']\n")
    assert files() == {"app", "examples", "tmp"}
    assert files("--exclude", "examples/", "--exclude", "tmp/*.yaml") == {"app"}


def test_profile_show_prints_the_effective_profile_and_its_source() -> None:
    result = CliRunner().invoke(main, ["profile", "show", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == (
        f"# from: {EXAMPLE_AGENT} (an agent definition committed in the repository; extends "
        "the chariot preset)"
    )
    assert f"# from {EXAMPLE_AGENT}:" in result.stdout
    assert 'version: "1.24.6"' in result.stdout
    assert "# not declared (rules that require these do not run):" in result.stdout
    assert "events.visibility_timeout_s" in lines[-1]


def test_init_then_profile_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    shown = runner.invoke(main, ["profile", "show"])
    assert shown.exit_code == 0
    assert "# from: .archreview.yml (the repository's profile)" in shown.stdout
    assert "declares 0 of" in shown.stdout and BASELINE_NOTICE in shown.stdout


def test_the_python_api_finds_the_declaration_as_the_command_line_does() -> None:
    from reviewer import scan

    report = scan(EXAMPLE)
    assert report.profile == EXAMPLE_AGENT
    assert report.profile_source == "agent"


# -- the example repository ---------------------------------------------------------------------


def test_the_example_commits_its_architect_and_it_reads_as_the_chariot_preset() -> None:
    p = resolve_profile(EXAMPLE)
    assert (p.source, p.source_kind, p.extends, p.problems) == (
        EXAMPLE_AGENT,
        "agent",
        "chariot",
        (),
    )
    assert {k: getattr(p, k) for k in vars(CHARIOT) if k not in ("name", "source")} == {
        k: getattr(CHARIOT, k) for k in vars(CHARIOT) if k not in ("name", "source")
    } | {
        "source_kind": "agent",
        "warnings": (),
        "sources": p.sources,
    }


def _declared_stack(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (f["rule_id"], f["file"], f["line"], f["severity"], f["confidence"], f["message"])
        for f in data["findings"]
        if f["rule_id"] in DECLARED_STACK
    )


def test_the_example_with_its_agent_gives_the_declared_stack_findings_of_the_chariot_preset(
    tmp_path: Path,
) -> None:
    own, stderr = _json_scan(str(EXAMPLE))
    assert f"declared architecture: {EXAMPLE_AGENT}" in stderr
    assert own["profile_source"] == "agent"
    preset_file = _write(tmp_path, "chariot.yml", "extends: chariot\n")
    with_preset, _ = _json_scan(str(EXAMPLE), "--profile", str(preset_file))
    assert with_preset["profile_source"] == "option"
    found = _declared_stack(own)
    assert found == _declared_stack(with_preset)
    # go.mod Go version, React/TypeScript ranges, frameworks, test tools, sizing classes
    assert {f[0] for f in found} == set(DECLARED_STACK), found


def test_a_plain_profile_declaring_nothing_keeps_only_the_facts_that_hold_for_everyone(
    tmp_path: Path,
) -> None:
    plain = _write(tmp_path, ".archreview.yml", "version: 1\n")
    data, stderr = _json_scan(str(EXAMPLE), "--profile", str(plain))
    rules = {f["rule_id"] for f in data["findings"]}
    assert not rules & set(DECLARED_STACK), sorted(rules & set(DECLARED_STACK))
    assert {"AR-STK-002", "AR-STK-006"} <= rules  # the AWS SDK for Go v1; drift
    assert BASELINE_NOTICE in stderr


def test_make_example_says_which_file_it_used() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "scan",
            str(EXAMPLE),
            "--fail-on",
            "never",
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert f"archreview: declared architecture: {EXAMPLE_AGENT}" in done.stderr
    assert EXAMPLE_AGENT in done.stdout  # the text report names it too (Report.profile_source)


def test_every_schema_key_is_named_once() -> None:
    assert len(set(SCHEMA_KEYS)) == len(SCHEMA_KEYS) == 29
    assert all(key.count(".") in (1, 2) for key in SCHEMA_KEYS)


@pytest.mark.parametrize(
    ("glob", "matched"),
    [
        ("services/*", {"services/api", "services/billing"}),
        ("services/**", {"services/api", "services/api/worker", "services/billing"}),
        ("api", {"services/api", "apps/api"}),  # no "/": the folder's name at any depth
        ("./services/api/", {"services/api"}),
        ("**", {".", "services/api", "services/api/worker", "services/billing", "apps/api"}),
        (".", {"."}),
        ("*a*a*a*a*a*a*a*a*a*a*a*a*a*b", set()),
    ],
)
def test_modules_globs_match_module_paths(glob: str, matched: set[str]) -> None:
    profile = parse_profile_text(
        f"modules:\n  {json.dumps(glob)}:\n    stack: {{go: {{version: '1.21'}}}}\n", "p.yml"
    )
    names = [".", "services/api", "services/api/worker", "services/billing", "apps/api"]
    got = resolve_modules(Path("/nonexistent"), profile, names)
    assert {n for n, p in got.items() if p.go_version == "1.21"} == matched


def test_a_modules_section_is_bounded() -> None:
    from reviewer.profile.document import MAX_MODULE_ENTRIES

    entries = "".join(f"  m{i}/*: {{}}\n" for i in range(MAX_MODULE_ENTRIES + 1))
    with pytest.raises(ProfileError, match="at most"):
        parse_profile_text("modules:\n" + entries, "p.yml")
    entries = "".join(f"  m{i}/*: {{}}\n" for i in range(MAX_MODULE_ENTRIES))
    assert len(parse_profile_text("modules:\n" + entries, "p.yml").modules) == MAX_MODULE_ENTRIES


# -- hostile input: agent definitions found by discovery, module declarations -------------------


def _hostile_clean(tree: Any) -> Any:
    from tests.hostile import harness

    outcome = harness.check(tree)
    assert not outcome.failures, outcome.report()
    for run in outcome.runs:
        for marker in harness.SECRET_MARKERS:
            assert marker not in run.stdout + run.stderr, (run.name, marker)
            assert marker.decode() not in json.dumps(run.result), (run.name, marker)
    return outcome


def test_hostile_agent_definitions_in_every_place_are_problems_not_failures() -> None:
    from tests.hostile import declarations

    outcome = _hostile_clean(declarations.agents_everywhere())
    engine = outcome.run("engine")
    assert engine.result["profile_problems"] >= 6  # the links out, FIFOs, unreadable files
    assert outcome.run("cli").code in (0, 1)


def test_module_declarations_linked_out_of_the_root_are_problems_not_failures() -> None:
    from tests.hostile import declarations

    outcome = _hostile_clean(declarations.module_declarations_out_of_the_root())
    assert outcome.run("cli").code in (0, 1)
    assert "declared architecture: .archreview.yml" in outcome.run("cli").stderr.decode()


def test_the_short_fuzz_plants_agent_definitions_and_module_declarations() -> None:
    from tests.hostile.trees import generate
    from tests.test_hostile_repo import SMALL_FUZZ_SEEDS

    notes = [note for seed in SMALL_FUZZ_SEEDS for note in generate(seed, "ci").pieces]
    assert sum("agent discovery" in n for n in notes) >= 20
    assert sum("module profile" in n or "modules: section" in n for n in notes) >= 20


def test_a_named_profile_behind_a_folder_that_may_not_be_searched_is_a_profile_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fuzz seed 15003263: `--profile` below a folder without search permission raised the
    OSError of its `stat` out of the scan instead of the one-line profile error."""
    from reviewer.profile.loader import ProfileError, resolve_profile

    named = tmp_path / "sealed" / "architect.agent.md"

    def denied(self: Path, *args: object, **kwargs: object) -> os.stat_result:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "stat", denied)
    with pytest.raises(ProfileError, match="Permission denied"):
        resolve_profile(tmp_path, named)
    with pytest.raises(ProfileError, match="Permission denied"):
        resolve_profile(tmp_path, tmp_path / "sealed" / "p.yml")
