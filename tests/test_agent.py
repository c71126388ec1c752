"""Agent definitions as declared architectures: strict front matter, lenient body with cited
lines, mojibake, the visibility contradiction, init --from-agent, and the profile it gives
changing what scan reports."""

from __future__ import annotations

import json
import textwrap
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.profile import (
    ARCHITECTURE_FIELDS,
    CHARIOT_ADDITIONS,
    DEFAULT,
    Profile,
    SizingClass,
)
from reviewer.profile.agent import (
    AgentError,
    mapped_profile,
    mojibake,
    profile_from_agent,
    read_agent,
    read_agent_text,
)
from reviewer.profile.loader import load_profile, preset

from .conftest import FIXTURES, require_shared

AGENTS = FIXTURES / "agents"
LIKE_SEED = AGENTS / "platform-architect.agent.md"
LEDGER = AGENTS / "ledger-architect.agent.md"

# Profile fields that say where a profile came from, not what it declares.
PROVENANCE = (
    "name",
    "source",
    "warnings",
    "sources",
    "source_kind",
    "extends",
    "notice",
    "problems",
)
CHARIOT = preset("chariot")


def _line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _differences(a: Profile, b: Profile) -> dict[str, tuple[Any, Any]]:
    return {
        f.name: (getattr(a, f.name), getattr(b, f.name))
        for f in fields(Profile)
        if f.name not in PROVENANCE and getattr(a, f.name) != getattr(b, f.name)
    }


def _assert_chariot_apart_from_additions(mapped: Profile) -> None:
    """What the example's declaration maps to is the chariot preset, except CHARIOT_ADDITIONS
    (and the key the preset leaves out is the one more key it declares)."""
    diff = {k for k in _differences(mapped, CHARIOT) if k in ARCHITECTURE_FIELDS}
    listed = {name.split(".", 1)[0] for name, _ in CHARIOT_ADDITIONS}
    assert diff == listed, sorted(diff)
    assert mapped.declared is not None and CHARIOT.declared is not None
    assert mapped.declared ^ CHARIOT.declared <= {"events.visibility_timeout_s", "sizing.tag"}
    # sizing: the additions are whole classes the declaration lacks
    added = {name.split(".", 1)[1] for name, _ in CHARIOT_ADDITIONS if "." in name}
    declared = {c.name: c for c in mapped.sizing_classes}
    preset_classes = {c.name: c for c in CHARIOT.sizing_classes}
    assert set(preset_classes) - set(declared) == added
    assert all(declared[n] == preset_classes[n] for n in declared)
    # deviations: the declared values the preset deliberately leaves out
    assert mapped.queue_visibility_s == 30
    assert CHARIOT.queue_visibility_s is None
    assert mapped.tls_minimum == "TLSv1.3"
    assert CHARIOT.tls_minimum == "TLSv1.2"
    assert mapped.tls_preferred == CHARIOT.tls_preferred == "TLSv1.3"


def _assert_chariot(profile: Profile) -> None:
    """The effective profile is the chariot preset: every architecture value and the declared
    keys (where it came from aside)."""
    assert {k for k in _differences(profile, CHARIOT) if k != "declared"} == set()
    assert profile.declared == CHARIOT.declared
    assert profile.extends == "chariot"


# -- the seed and a definition written like it -------------------------------------------------


def test_the_seed_gives_the_default_apart_from_the_documented_additions() -> None:
    seed = require_shared("seed", "system-architect.agent.md")
    reading = read_agent(seed)
    _assert_chariot_apart_from_additions(mapped_profile(reading))
    profile = profile_from_agent(reading)
    _assert_chariot(profile)
    sources = dict(profile.sources)
    assert sources["stack.go.version"].endswith(":160")
    assert sources["events.visibility_timeout_s"].endswith(":442")
    assert sources["sizing.classes.ingestion"].endswith(":446")
    warned = {n.line for n in reading.warnings}
    assert {226, 336, 350, 442} <= warned
    contradiction = next(n for n in reading.warnings if n.line == 442)
    assert "30 s" in contradiction.message
    assert "ingestion 300 s" in contradiction.message
    assert "AR-EVT-003" in contradiction.message


def test_init_from_the_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = require_shared("seed", "system-architect.agent.md")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--from-agent", str(seed)])
    assert result.exit_code == 0, result.output
    assert f"{seed}:442: contradiction" in result.stderr
    # the seed's mojibake lines are one warning: how many, where the first is, how to see all
    mojibake = [line for line in result.stderr.splitlines() if "mojibake" in line]
    assert len(mojibake) == 1, result.stderr
    count = sum(1 for n in read_agent(seed).warnings if "mojibake" in n.message)
    assert count > 20
    assert f"{seed}: {count} lines with mojibake, first at 226:" in mojibake[0]
    assert mojibake[0].endswith("--verbose lists them")
    # stdout: one line for the mapping, what was written, the preset's changes, the next command
    assert len(result.stdout.splitlines()) <= 8, result.stdout
    assert "(--verbose lists the mapping)" in result.stdout
    assert result.stdout.splitlines()[-1] == "Next: archreview scan ."
    written = (tmp_path / ".archreview.yml").read_text(encoding="utf-8")
    assert "\nextends: chariot\n" in written
    _assert_chariot(load_profile(tmp_path / ".archreview.yml"))


def test_init_from_the_seed_with_verbose_lists_every_warning_and_the_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = require_shared("seed", "system-architect.agent.md")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--from-agent", str(seed), "--verbose"])
    assert result.exit_code == 0, result.output
    lines = [n for n in read_agent(seed).warnings if "mojibake" in n.message]
    mojibake = [line for line in result.stderr.splitlines() if "mojibake" in line]
    assert len(mojibake) == len(lines) > 20
    assert f"{seed}:226:" in mojibake[0]
    assert "lines with mojibake" not in result.stderr
    # the whole mapping, a line per value, with the line it came from
    assert f"events.visibility_timeout_s = 30  ({seed}:442" in result.stdout
    assert "(--verbose lists the mapping)" not in result.stdout
    # --verbose before the command works the same
    before = CliRunner().invoke(main, ["--verbose", "init", "--from-agent", str(seed), "--force"])
    assert before.exit_code == 0, before.output
    assert len([x for x in before.stderr.splitlines() if "mojibake" in x]) == len(lines)


def test_a_definition_written_like_the_seed_reads_as_the_chariot_preset() -> None:
    reading = read_agent(LIKE_SEED)
    _assert_chariot_apart_from_additions(mapped_profile(reading))
    _assert_chariot(profile_from_agent(reading))


def test_init_from_agent_writes_that_profile_with_cited_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--from-agent", str(LIKE_SEED), "--verbose"])
    assert result.exit_code == 0, result.output
    written = tmp_path / ".archreview.yml"
    text = written.read_text(encoding="utf-8")
    loaded = load_profile(written)
    _assert_chariot(loaded)
    assert not _differences(loaded, profile_from_agent(read_agent(LIKE_SEED)))
    name = LIKE_SEED.name
    assert f"# - stack.go.version: {name}:{_line(LIKE_SEED, 'Go 1.24.6')}: primary_language" in text
    ingestion = _line(LIKE_SEED, "Asset Ingestion")
    assert f"# - sizing.classes.ingestion: {name}:{ingestion}: - Asset Ingestion" in text
    assert f"# WARNING: {name}:{_line(LIKE_SEED, 'Visibility timeout')}: contradiction" in text
    assert "# - sizing.classes.api: an `api` class of 512 MB" in text  # the preset's additions
    # the report names what it mapped, what it did not, and warns on stderr
    visibility = _line(LIKE_SEED, "Visibility timeout")
    assert f"events.visibility_timeout_s = 30  ({LIKE_SEED}:{visibility}" in result.stdout
    assert "not mapped" in result.stdout
    assert "'LocalStack'" in result.stdout
    assert f"{LIKE_SEED}:{visibility}: contradiction" in result.stderr
    orbit = _line(LIKE_SEED, "Orbit architect starting")
    column = LIKE_SEED.read_text(encoding="utf-8").splitlines()[orbit - 1].index("ð") + 1
    assert f"{LIKE_SEED}:{orbit}:{column}: mojibake 'ðŸš€' (probably '🚀')" in result.stderr


def test_init_never_overwrites_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".archreview.yml").write_text("name: mine\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--from-agent", str(LIKE_SEED)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert (tmp_path / ".archreview.yml").read_text(encoding="utf-8") == "name: mine\n"
    assert runner.invoke(main, ["init"]).exit_code == 2
    assert runner.invoke(main, ["init", "--force"]).exit_code == 0
    # declares nothing: the baseline
    loaded = load_profile(tmp_path / ".archreview.yml")
    assert replace(loaded, name=DEFAULT.name, source=DEFAULT.source) == DEFAULT


# -- a second definition where every mapped value differs --------------------------------------


def test_every_value_of_a_different_declaration_lands_with_its_line() -> None:
    reading = read_agent(LEDGER)
    p = profile_from_agent(reading)
    src = {k: int(v.rsplit(":", 1)[1]) for k, v in p.sources}

    def cited(key: str, needle: str) -> None:
        assert src[key] == _line(LEDGER, needle), (key, src.get(key))

    example = mapped_profile(read_agent(LIKE_SEED))
    # versions
    assert p.go_version == "1.23.4" != example.go_version
    cited("stack.go.version", "Go 1.23.4")
    assert dict(p.node_packages) == {
        "react": "19.1.0",
        "react-dom": "19.1.0",
        "typescript": "5.6",
        "swr": "*",
        "@mui/material": "*",
    }
    cited("stack.node.packages.react", "React 19.1.0")
    cited("stack.node.packages.typescript", "TypeScript 5.6")
    assert p.go_frameworks == ("github.com/go-chi/chi/v5",)
    assert "github.com/gorilla/mux" in p.go_forbidden
    assert not any("go-chi" in m for m in p.go_forbidden)
    cited("stack.go.required_modules", '"chi"')
    assert "@tanstack/react-query" in p.node_forbidden
    assert "swr" not in p.node_forbidden
    assert p.go_test_frameworks == ("github.com/onsi/ginkgo/v2", "github.com/onsi/gomega")
    assert p.node_test_frameworks == ("vitest",)
    # each sizing class
    assert p.sizing_classes == (
        SizingClass("ingestion", 1024, 90, ("ingest",)),
        SizingClass("correlation", 1536, 120, ("correlat",)),
        SizingClass("assessment", 3072, 150, ("assess",)),
        SizingClass("notification", 128, 30, ("notif", "dispatch")),
        SizingClass("report-generation", 4096, 150, ("reportgeneration", "report-generation")),
    )
    for name, needle in (
        ("ingestion", "Statement Ingestion"),
        ("correlation", "Fraud Correlation"),
        ("assessment", "Risk Assessment"),
        ("notification", "Notification Dispatch"),
        ("report-generation", "Report Generation"),
    ):
        cited(f"sizing.classes.{name}", needle)
    example_sizes = {(c.name, c.memory_mb, c.timeout_s) for c in example.sizing_classes}
    assert not example_sizes & {(c.name, c.memory_mb, c.timeout_s) for c in p.sizing_classes}
    # retention, visibility, ordered queues
    assert (p.queue_retention_days, p.queue_visibility_s) == (4, 900)
    cited("events.retention_days", "Message retention: 4 days")
    cited("events.visibility_timeout_s", "Visibility timeout: 15 minutes")
    assert p.ordered_queue_patterns == ("*settlement*",)
    cited("events.fifo_queues", "ledger-settlement.fifo")
    # authorizer kinds and layers
    assert p.authorizers == ("TOKEN", "REQUEST", "AWS_IAM")
    cited("layers.api.authorizer_kinds", 'security: ["IAM"]')
    assert p.layers == ("API", "DAT", "OBS")
    assert p.waf_managed_rule_groups == (
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    )
    assert not p.waf_rate_limit
    assert not p.geo_restriction
    assert not p.kms_required
    cited("layers.api.waf_rate_limit", "No rate limiting")
    cited("layers.network.geo_restriction", "without geographic")
    cited("layers.data.kms_required", "AWS-owned keys")
    assert (p.tls_minimum, p.tls_preferred) == ("TLSv1.2", "TLSv1.2")
    assert p.tls_minimum != example.tls_minimum
    cited("layers.data.tls_minimum", "TLS 1.2")
    assert p.single_table_limit == 3
    cited("dynamodb.single_table_limit", "at most 3 tables")
    # platform declarations
    assert not p.private_subnets_behind_lb
    cited("platform.private_subnets_behind_load_balancer", "public subnets")
    assert not p.gradual_deployment
    cited("platform.canary_releases", "All-at-once")
    assert not p.multi_region
    cited("platform.multi_region_recovery", "Single-region")
    assert not p.compliance_monitoring
    cited("platform.compliance_monitoring", "No AWS Config")
    # every mapped value differs from the example's
    same = {k for k in ARCHITECTURE_FIELDS if getattr(p, k) == getattr(example, k)}
    assert same == {"go_sdk", "sizing_tag"}, same
    assert p.extends is None  # no preset declares this architecture
    # 900 s >= 6 x the longest declared timeout (150 s): no contradiction
    assert not any("contradiction" in n.message for n in reading.warnings)


def test_the_second_definition_round_trips_through_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init", "--from-agent", str(LEDGER)])
    assert result.exit_code == 0, result.output
    loaded = load_profile(tmp_path / ".archreview.yml")
    assert not _differences(loaded, profile_from_agent(read_agent(LEDGER)))
    text = (tmp_path / ".archreview.yml").read_text(encoding="utf-8")
    assert f"# from {LEDGER.name}:{_line(LEDGER, 'Report Generation')}" in text


# -- front matter strict, body lenient ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# Architect\n\nNo front matter here.\n", 1, "no YAML front matter"),
        ("---\nname: x\nchariot_context: {}\n", 1, "never closed"),
        ("---\nname: x\nmetadata:\n  type: [a\n---\nbody\n", 4, "front matter: invalid YAML"),
        ("---\nname: x\nname: y\n---\n", 3, "duplicate key 'name'"),
        ("---\n- a\n- b\n---\n", 2, "not a YAML mapping"),
        ("---\n---\n# empty\n", 2, "not a YAML mapping"),
    ],
)
def test_front_matter_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AgentError) as info:
        read_agent_text(text, "agent.md")
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    assert str(info.value).startswith(f"agent.md:{line}:")


def test_cli_exits_2_on_a_bad_front_matter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.agent.md"
    bad.write_text("# just markdown\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--from-agent", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1:1: no YAML front matter" in result.output
    assert not (tmp_path / ".archreview.yml").exists()
    repo = tmp_path / "repo"
    repo.mkdir()
    result = runner.invoke(main, ["scan", str(repo), "--profile", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1:1" in result.output


def test_body_blocks_are_read_line_by_line_even_when_not_yaml() -> None:
    text = textwrap.dedent(
        """\
        ---
        name: x
        ---
        Intro.
        ```yaml
        Pipeline: {broken: [yaml
          Primary Queue: x-orders.fifo
            - Visibility timeout: 2 min
          - Order Ingestion: 0.5GB, 45 seconds timeout
        ```
        ```go
        // Visibility timeout: 1 seconds  (not a yaml block: ignored)
        ```
        - Message retention: 3 days  (prose outside a block: ignored)
        """
    )
    reading = read_agent_text(text, "a.md")
    got = {(d.key, d.line) for d in reading.declared}
    assert got == {
        ("events.fifo_queues", 7),
        ("events.visibility_timeout_s", 8),
        ("sizing.classes.ingestion", 9),
    }
    by_key = {d.key: d.value for d in reading.declared}
    assert by_key["events.fifo_queues"] == "*x-orders*"
    assert by_key["events.visibility_timeout_s"] == 120
    assert by_key["sizing.classes.ingestion"] == SizingClass("ingestion", 512, 45, ("ingest",))
    # 120 s < 6 x 45 s: contradiction on line 8, naming line 9
    warning = next(n for n in reading.warnings if n.line == 8)
    assert "ingestion 45 s (line 9) needs 270 s" in warning.message


def test_mojibake_is_recognised_with_what_was_meant() -> None:
    assert mojibake('echo "ðŸ“Š report"') == ("ðŸ“Š", "📊")
    assert mojibake("â”œâ”€â”€ services/") == ("â”œâ”€â”€", "├──")
    assert mojibake("plain ASCII") is None
    assert mojibake("Café, naïve, São Paulo, Zürich") is None
    assert mojibake("emoji done right: 🚀 ✅") is None


def test_an_agent_file_as_profile_warns_but_scans(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "go.mod").write_text("module example.com/x\n\ngo 1.23.4\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["scan", str(repo), "--profile", str(LEDGER), "--format", "json", "--fail-on", "never"],
    )
    assert result.exit_code == 0, result.output
    assert "not mapped" not in result.stdout
    data = json.loads(result.stdout)
    assert data["profile"] == str(LEDGER)
    assert not [f for f in data["findings"] if f["rule_id"] == "AR-STK-001"]  # declared 1.23.4
    # unmapped keys only warn, with their lines
    result = CliRunner().invoke(
        main,
        ["scan", str(repo), "--profile", str(LIKE_SEED), "--format", "json", "--fail-on", "never"],
    )
    assert result.exit_code == 0, result.output
    local = _line(LIKE_SEED, "LocalStack")
    assert f"warning: {LIKE_SEED}:{local}: not mapped" in result.stderr
    assert [
        f["severity"] for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "AR-STK-001"
    ] == ["medium"]


# -- the declaration changes what scan reports -------------------------------------------------


def _agent_declaring_go(tmp_path: Path, version: str) -> Path:
    text = LIKE_SEED.read_text(encoding="utf-8").replace("Go 1.24.6", f"Go {version}")
    path = tmp_path / f"agent-{version}.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("declared", "expect"), [("1.23", None), ("1.25", "medium")])
def test_declared_go_version_decides_ar_stk_001(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str, expect: str | None
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "go.mod").write_text(
        "module example.com/svc\n\ngo 1.23\n\nrequire github.com/aws/aws-lambda-go v1.47.0\n",
        encoding="utf-8",
    )
    agent = _agent_declaring_go(tmp_path, declared)
    monkeypatch.chdir(repo)
    runner = CliRunner()
    init = runner.invoke(main, ["init", "--from-agent", str(agent)])
    assert init.exit_code == 0, init.output
    assert (
        yaml.safe_load((repo / ".archreview.yml").read_text())["stack"]["go"]["version"] == declared
    )
    result = runner.invoke(main, ["scan", ".", "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["profile"].endswith(".archreview.yml")
    found = [f for f in data["findings"] if f["rule_id"] == "AR-STK-001"]
    if expect is None:
        assert not found, found
    else:
        assert [(f["severity"], f["file"], f["line"]) for f in found] == [(expect, "go.mod", 3)]
        assert f"the declared Go {declared}" in found[0]["message"]


def test_profile_show_of_an_agent_cites_its_lines() -> None:
    result = CliRunner().invoke(main, ["profile", "show", "--profile", str(LEDGER)])
    assert result.exit_code == 0, result.output
    assert f"# from {LEDGER}:{_line(LEDGER, 'Go 1.23.4')}" in result.stdout
    shown = yaml.safe_load(result.stdout)
    assert shown["stack"]["go"]["version"] == "1.23.4"
    assert replace(CHARIOT).go_version == "1.24.6"
    assert shown["name"] == "ledger-architect" and "sizing" in shown
