"""The profile (.archreview.yml): strict loading with file:line errors and suggestions, the
built-in baseline and the chariot preset (with its documented additions), lookup order, and the
rules' profile keys."""

from __future__ import annotations

import re
import textwrap
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reviewer.checks.catalogue import load_catalogue
from reviewer.cli.main import main
from reviewer.cli.profile_text import default_profile_text
from reviewer.core.types import Severity
from reviewer.profile import (
    CHARIOT_ADDITIONS,
    CONTROL_KEYS,
    DEFAULT,
    SCHEMA_KEYS,
    Profile,
    SizingClass,
)
from reviewer.profile.document import profile_document
from reviewer.profile.loader import (
    ProfileError,
    load_profile,
    parse_profile_text,
    preset,
)

CHARIOT = preset("chariot")


def _load(text: str) -> Profile:
    return parse_profile_text(textwrap.dedent(text), ".archreview.yml")


def _error(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        _load(text)
    return info.value


def _same(a: Profile, b: Profile) -> bool:
    return replace(a, name="x", source="y") == replace(b, name="x", source="y")


# -- the built-in baseline and the chariot preset ----------------------------------------------


def test_the_baseline_declares_nothing_and_gives_only_the_tuned_values() -> None:
    p = DEFAULT
    assert p == Profile() == preset("baseline")
    assert p.declared == frozenset() and p.declared_keys() == ()
    assert not any(p.declares(key) for key in SCHEMA_KEYS)
    # the values rules tuned by these keys read when nothing is declared (spec *Profile*)
    assert p.tls_minimum == "TLSv1.2"
    assert p.waf_managed_rule_groups == ("AWSManagedRulesCommonRuleSet",)
    assert p.waf_rate_limit is True
    assert set(p.authorizers) == {"COGNITO_USER_POOLS", "JWT", "TOKEN", "REQUEST", "AWS_IAM"}
    assert p.layers == ("NET", "API", "IDN", "IAM", "DAT", "OBS")
    # no stack, sizing, customer-managed keys, geo restriction, canary, multi-region, compliance
    assert (p.go_version, p.go_frameworks, p.node_packages, p.go_test_frameworks) == (
        None,
        (),
        (),
        (),
    )
    assert p.sizing_classes == () and p.kms_required is None and p.geo_restriction is None
    assert (p.gradual_deployment, p.multi_region, p.compliance_monitoring) == (None, None, None)
    assert p.single_table_limit is None and p.queue_retention_days is None


def test_the_chariot_preset_is_the_example_architecture() -> None:
    p = CHARIOT
    assert p.declared is not None and set(p.declared) == set(SCHEMA_KEYS) - {
        "events.visibility_timeout_s"  # left out on purpose: CHARIOT_ADDITIONS
    }
    assert p.go_version == "1.24.6"
    assert dict(p.node_packages)["react"] == "18.3.1"
    assert dict(p.node_packages)["typescript"] == "5.x"
    assert {"@tanstack/react-query", "@headlessui/react", "@tremor/react", "tailwindcss"} <= set(
        dict(p.node_packages)
    )
    assert p.go_frameworks == ("github.com/gorilla/mux",)
    assert p.go_sdk == "github.com/aws/aws-sdk-go-v2"
    assert p.go_test_frameworks == ("github.com/stretchr/testify",)
    assert {"jest", "@playwright/test"} <= set(p.node_test_frameworks)
    assert p.layers == ("NET", "API", "IDN", "IAM", "DAT", "OBS")
    assert {"COGNITO_USER_POOLS", "JWT"} <= set(p.authorizers)
    assert p.queue_retention_days == 14
    assert p.ordered_queue_patterns == ("*asset-processing*",)
    sizes = {c.name: (c.memory_mb, c.timeout_s) for c in p.sizing_classes}
    assert sizes == {
        "ingestion": (512, 300),
        "correlation": (1024, 600),
        "assessment": (2048, 900),
        "notification": (256, 120),
        "api": (512, 29),
    }
    assert p.single_table_limit == 1
    assert p.private_subnets_behind_lb
    assert p.gradual_deployment
    assert p.multi_region
    assert p.compliance_monitoring
    # the documented deviations from the example's declaration
    assert p.queue_visibility_s is None
    assert (p.tls_minimum, p.tls_preferred) == ("TLSv1.2", "TLSv1.3")
    assert {name for name, _ in CHARIOT_ADDITIONS} == {
        "sizing_classes.api",
        "queue_visibility_s",
        "tls_minimum",
    }


def test_init_text_declares_nothing_and_documents_every_key() -> None:
    text = default_profile_text()
    loaded = parse_profile_text(text, ".archreview.yml")
    assert _same(loaded, DEFAULT)
    assert loaded.declared == frozenset() and loaded.warnings == ()
    active = [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]
    assert active == ["version: 1"]
    # uncommented, the documentation is a valid profile that declares every key
    uncommented = "".join(
        line[1:] + "\n" if re.match(r"#[^ #]|#$|#  ", line) else line + "\n"
        for line in text.splitlines()
    )
    documented = yaml.safe_load(uncommented)
    full = parse_profile_text(uncommented, "uncommented.yml")
    assert full.declared is not None and set(full.declared) == set(SCHEMA_KEYS)
    assert full.persona.value == "regular" and full.exclude_paths and full.modules
    for key in SCHEMA_KEYS:
        node: Any = documented
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, key
            node = node[part]
    for key in ("extends", "persona", "rules", "exclude", "modules"):
        assert key in documented, key


def test_every_profile_key_named_by_a_rule_exists_in_the_schema() -> None:
    sections = {key.rsplit(".", n)[0] for key in SCHEMA_KEYS for n in (1, 2)}
    for meta in load_catalogue().values():
        for key in meta.profile_keys:
            assert key in SCHEMA_KEYS or key in sections or key in CONTROL_KEYS, (
                f"{meta.id}: profile key {key} is not in the schema"
            )


# -- loading -----------------------------------------------------------------------------------


def test_a_key_left_out_is_not_declared_and_a_key_written_replaces_the_presets() -> None:
    text = """
        stack:
          go:
            version: "1.23"
          node:
            packages:
              react: ^19.0.0
        """
    p = _load(text)
    assert p.go_version == "1.23"
    assert p.node_packages == (("react", "^19.0.0"),)
    assert p.go_frameworks == () and p.sizing_classes == ()
    assert p.declared == {"stack.go.version", "stack.node.packages"}
    assert p.declares("stack") and p.declares("stack.go") and not p.declares("stack.testing")
    assert dict(p.sources)["stack.go.version"] == ".archreview.yml:4"
    # over the chariot preset: the rest is the preset's, declared through it
    c = _load("extends: chariot\n" + textwrap.dedent(text))
    assert (c.go_version, c.node_packages) == ("1.23", (("react", "^19.0.0"),))
    assert c.go_frameworks == CHARIOT.go_frameworks
    assert c.sizing_classes == CHARIOT.sizing_classes
    assert c.declared == CHARIOT.declared and c.extends == "chariot"
    assert dict(c.sources)["stack.go.version"] == ".archreview.yml:5"
    assert dict(c.sources)["sizing.classes"].startswith("preset:chariot:")


def test_full_profile_maps_to_every_field() -> None:
    p = _load(
        """
        version: 1
        name: ledger
        stack:
          go:
            version: go1.25.1
            required_modules: [github.com/go-chi/chi/v5, github.com/aws/aws-sdk-go-v2]
            forbidden_modules: [github.com/gorilla/mux]
          node:
            packages: {react: "19.1.0", typescript: "~5.6.0"}
            forbidden_packages: [redux]
          testing:
            go: [github.com/onsi/ginkgo/v2]
            node: [vitest]
        layers:
          network: false
          api:
            authorizer_kinds: [iam, cognito]
            waf_managed_rule_groups: [AWSManagedRulesSQLiRuleSet]
            waf_rate_limit: false
          identity: {enabled: true}
          data: {kms_required: false, tls_minimum: "1.3", tls_preferred: TLS 1.3}
          monitoring: {enabled: false}
        events: {retention_days: 4, visibility_timeout_s: 900, fifo_queues: ["*settlement*"]}
        sizing:
          tag: sizing
          classes:
            settlement: {memory_mb: 3072, timeout_s: 150, patterns: [Settle]}
        dynamodb: {single_table_limit: 3}
        platform:
          private_subnets_behind_load_balancer: false
          canary_releases: false
          multi_region_recovery: false
          compliance_monitoring: false
        rules:
          disable: [ar-stk-009]
          severity: {AR-STK-003: High}
        exclude: ["legacy/**"]
        suppressions:
          - path: modules/janus/go.mod
            id: AR-STK-008
            reason: fork under review upstream
            until: 2027-01-31
            subject: github.com/example/tabularium
          - {path: infra/*.yaml, id: AR-API-001}
        """
    )
    assert p.name == "ledger"
    assert p.go_version == "1.25.1"
    assert p.go_frameworks == ("github.com/go-chi/chi/v5",)
    assert p.go_sdk == "github.com/aws/aws-sdk-go-v2"
    assert p.go_forbidden == ("github.com/gorilla/mux",)
    assert p.node_packages == (("react", "19.1.0"), ("typescript", "~5.6.0"))
    assert p.node_forbidden == ("redux",)
    assert p.go_test_frameworks == ("github.com/onsi/ginkgo/v2",)
    assert p.node_test_frameworks == ("vitest",)
    assert p.layers == ("API", "IDN", "IAM", "DAT")
    assert p.authorizers == ("AWS_IAM", "COGNITO_USER_POOLS")
    assert p.waf_managed_rule_groups == ("AWSManagedRulesSQLiRuleSet",)
    assert not p.waf_rate_limit
    assert not p.kms_required
    assert (p.tls_minimum, p.tls_preferred) == ("TLSv1.3", "TLSv1.3")
    assert (p.queue_retention_days, p.queue_visibility_s) == (4, 900)
    assert p.ordered_queue_patterns == ("*settlement*",)
    assert p.sizing_tag == "sizing"
    assert p.sizing_classes == (SizingClass("settlement", 3072, 150, ("settle",)),)
    assert p.single_table_limit == 3
    assert not (p.private_subnets_behind_lb)
    assert not (p.gradual_deployment)
    assert not (p.multi_region)
    assert not p.compliance_monitoring
    assert p.disabled_rules == ("AR-STK-009",)
    assert p.severity_for("AR-STK-003") is Severity.HIGH
    assert p.exclude_paths == ("legacy/**",)
    first, second = p.suppressions
    assert (first.until, first.subject, first.reason) == (
        "2027-01-31",
        "github.com/example/tabularium",
        "fork under review upstream",
    )
    assert second.reason is None  # AR-MOD-004 reports it; loading keeps it
    assert not p.enabled("AR-NET-001")
    assert not p.enabled("AR-OBS-001")
    assert p.enabled("AR-IAM-001")
    assert p.enabled("AR-STK-001")
    assert not p.enabled("AR-STK-009")
    assert p.warnings == ()  # 900 s >= 6 x 150 s
    # what it writes, and nothing else (api and data are not switched, network has no
    # geo_restriction)
    assert p.declared == set(SCHEMA_KEYS) - {
        "layers.api.enabled",
        "layers.data.enabled",
        "layers.network.geo_restriction",
    }


def test_persona_and_rules_in_both_forms() -> None:
    p = _load(
        """
        persona: Pedantic
        rules:
          disable: [AR-STK-009]
          severity: {AR-STK-003: low}
          persona: {ar-obs-003: auditor}
          AR-CMP-002: {persona: regular, severity: High}
          AR-NET-005: {enabled: false}
          AR-API-001: {enabled: true}
        """
    )
    assert p.persona.value == "pedantic"
    assert p.disabled_rules == ("AR-STK-009", "AR-NET-005")
    assert not p.enabled("AR-NET-005") and p.enabled("AR-API-001")
    assert p.severity_for("AR-STK-003") is Severity.LOW
    assert p.severity_for("AR-CMP-002") is Severity.HIGH
    assert (
        p.persona_for("AR-OBS-003") is not None and p.persona_for("AR-OBS-003").value == "auditor"
    )
    assert (
        p.persona_for("AR-CMP-002") is not None and p.persona_for("AR-CMP-002").value == "regular"
    )
    assert p.persona_for("AR-IAM-001") is None
    assert p.declared == frozenset()  # steering the review declares no architecture


@pytest.mark.parametrize(
    ("text", "line", "message", "suggestion"),
    [
        ("stak:\n  go: {}\n", 1, "unknown key 'stak'", "stack"),
        ("stack:\n  go:\n    verison: '1.24'\n", 3, "unknown key 'stack.go.verison'", "version"),
        (
            "layers:\n  api:\n    authoriser_kinds: [JWT]\n",
            3,
            "authoriser_kinds",
            "authorizer_kinds",
        ),
        ("platform:\n  canary_release: true\n", 2, "platform.canary_release", "canary_releases"),
        ("events:\n  retention_days: '14'\n", 2, "must be an integer", "14"),
        ("events:\n  retention_days: 30\n", 2, "between 1 and 14", None),
        ("stack:\n  go:\n    version: 1.2x\n", 3, "is not a Go version", None),
        (
            "stack:\n  node:\n    packages:\n      react: 18.3.1 or newer\n",
            4,
            "not an npm version range",
            "18.3.1",
        ),
        (
            "stack:\n  go:\n    required_modules: [gorilla/mux]\n",
            3,
            "not a Go module path",
            "github.com/gorilla/mux",
        ),
        (
            "layers:\n  api:\n    authorizer_kinds: [COGNITO_USERPOOLS]\n",
            3,
            "must be one of",
            "COGNITO_USER_POOLS",
        ),
        ("layers:\n  data:\n    tls_minimum: '1.5'\n", 3, "must be one of", None),
        ("layers:\n  network:\n    enabled: 'yes'\n", 3, "must be true or false", "true"),
        ("rules:\n  disable: [AR-STK-099]\n", 2, "unknown rule id", "AR-STK-009"),
        ("rules:\n  severity:\n    AR-STK-001: severe\n", 3, "must be one of", None),
        ("rules:\n  AR-STK-001: {persona: noisy}\n", 2, "must be one of", None),
        ("rules:\n  AR-STK-099: {enabled: false}\n", 2, "unknown rule id", "AR-STK-009"),
        ("rules:\n  disabel: [AR-STK-001]\n", 2, "unknown key 'rules.disabel'", "disable"),
        ("persona: everyone\n", 1, "persona must be one of", None),
        ("extends: chariott\n", 1, "extends must be one of", "chariot"),
        ("modules: [a]\n", 1, "modules must be", None),
        ("modules:\n  apps/*: {rules: {}}\n", 2, "unknown key 'modules.apps/*.rules'", None),
        ("modules:\n  apps/*:\n    stack: {go: {version: x}}\n", 3, "is not a Go version", None),
        (
            "suppressions:\n  - path: a\n    id: AR-STK-008\n    reasn: x\n",
            4,
            "unknown key 'a suppression.reasn'",
            "reason",
        ),
        (
            "suppressions:\n  - path: a\n    id: AR-STK-008\n    until: soon\n",
            4,
            "until must be a date",
            None,
        ),
        ("sizing:\n  classes:\n    api: {memory_mb: 512}\n", 3, "needs timeout_s", None),
        ("stack:\n  go: {}\nstack: {}\n", 3, "duplicate key 'stack' (first at line 1)", None),
        ("stack: [\n", 2, "invalid YAML", None),
        ("version: 2\n", 1, "unsupported profile version", "1"),
        ("- a\n- b\n", 1, "the profile must be a mapping", None),
    ],
)
def test_strict_errors_name_file_line_and_a_suggestion(
    text: str, line: int, message: str, suggestion: str | None
) -> None:
    err = _error(text)
    assert err.line == line, str(err)
    assert message in err.message, str(err)
    assert err.suggestion == suggestion, str(err)
    assert str(err).startswith(f".archreview.yml:{line}:")
    if suggestion:
        assert f"did you mean {suggestion!r}?" in str(err)


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("exclude: *a8")
    with pytest.raises(ProfileError, match="alias bomb"):
        parse_profile_text("\n".join(lines) + "\n", "bomb.yml")


def test_visibility_below_six_times_a_class_timeout_warns_with_its_line() -> None:
    p = _load(
        """
        extends: chariot
        events:
          visibility_timeout_s: 30
        """
    )
    assert len(p.warnings) == 1
    warning = p.warnings[0]
    assert warning.startswith(".archreview.yml:4: ")
    assert "AR-EVT-003" in warning
    assert "ingestion 300 s" in warning
    assert "5400 s" in warning


def test_empty_profile_is_the_baseline() -> None:
    assert _same(_load("# nothing declared\n"), DEFAULT)
    assert _load("# nothing declared\n").declared == frozenset()


# -- lookup through the CLI --------------------------------------------------------------------


def _shown(args: list[str]) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(main, ["profile", "show", *args])
    data = yaml.safe_load(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, data, result.output


def test_lookup_order_profile_option_then_root_file_then_baseline(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    code, data, out = _shown([str(root)])
    assert code == 0
    assert "stack" not in data and data["name"] == "baseline"
    assert "# from: built-in baseline (nothing declared)" in out
    assert "reviewed against the built-in baseline" in out
    (root / ".archreview.yml").write_text("stack:\n  go:\n    version: '1.23'\n", encoding="utf-8")
    code, data, out = _shown([str(root)])
    assert code == 0
    assert data["stack"]["go"]["version"] == "1.23"
    assert "# from " in out
    assert ".archreview.yml:3" in out
    other = tmp_path / "other.yml"
    other.write_text("stack:\n  go:\n    version: '1.25'\n", encoding="utf-8")
    code, data, _ = _shown([str(root), "--profile", str(other)])
    assert code == 0
    assert data["stack"]["go"]["version"] == "1.25"


def test_a_bad_root_profile_exits_2_with_file_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".archreview.yml").write_text(
        "layers:\n  netwrok: {enabled: false}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["scan", str(root), "--fail-on", "never"])
    assert result.exit_code == 2
    assert re.search(r"\.archreview\.yml:2:3: unknown key 'layers\.netwrok'", result.output)
    assert "did you mean 'network'?" in result.output
    code, _, out = _shown([str(root)])
    assert code == 2
    assert "netwrok" in out


def test_missing_profile_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profile", "show", "--profile", str(tmp_path / "no.yml")])
    assert result.exit_code == 2


def test_profile_layers_switch_rules_off_in_a_scan(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Db:\n"
        "    Type: AWS::RDS::DBInstance\n    Properties:\n      PubliclyAccessible: true\n",
        encoding="utf-8",
    )
    from reviewer.runner.engine import ScanOptions, scan

    on = {f.rule_id for f in scan(root, ScanOptions()).findings}
    off_profile = load_profile(_write(tmp_path / "p.yml", "layers:\n  network: false\n"))
    off = {f.rule_id for f in scan(root, ScanOptions(profile=off_profile)).findings}
    assert "AR-NET-001" in on
    assert not {r for r in off if r.startswith("AR-NET-")}
    assert off - {"AR-NET-001"}  # the other layers still run


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_profile_fields_are_all_written_by_profile_show() -> None:
    doc = profile_document(CHARIOT)
    # every declared value of the preset is in the document, and it loads back to the preset
    text = yaml.safe_dump(doc)
    for f in fields(Profile):
        if f.name in ("source", "warnings", "sources", "source_kind", "extends", "persona"):
            continue
        value = getattr(CHARIOT, f.name)
        if isinstance(value, str) and value:
            assert value in text, f.name
    from reviewer.profile.document import render_yaml

    again = parse_profile_text(render_yaml(doc), "again.yml")
    assert _same(again, CHARIOT)


# -- the repository's own profile is read without following links out of it (issue 15) -------


def _scan_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    )
    return root


def _secret_outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yml"
    secret.write_text("name: TOP-SECRET-VALUE\nversion: [TOP-SECRET-LINE\n")  # also invalid
    return secret


def _cli_error(root: Path) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", str(root), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,  # a FIFO that blocked the read would be killed here
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.mark.parametrize("form", ["absolute", "relative", "via-folder"])
def test_a_profile_link_leaving_the_root_is_an_error_that_echoes_nothing(
    tmp_path: Path, form: str
) -> None:
    root = _scan_repo(tmp_path)
    secret = _secret_outside(tmp_path)
    if form == "absolute":
        (root / ".archreview.yml").symlink_to(secret)
    elif form == "relative":
        (root / ".archreview.yml").symlink_to("../outside/secret.yml")
    else:
        (root / "cfg").symlink_to(secret.parent, target_is_directory=True)
        (root / ".archreview.yml").symlink_to("cfg/secret.yml")
    stderr = _cli_error(root)
    assert stderr == (
        f"Error: profile error: {root}/.archreview.yml:1:1: the profile is a symbolic link "
        "leading outside the repository; it is not read\n"
    )
    assert "TOP-SECRET" not in stderr and "outside" not in stderr.replace("outside the", "")


@pytest.mark.parametrize("target", ["cfg/p.yml", "./cfg/../cfg/p.yml", "../repo/cfg/p.yml", "ABS"])
def test_a_profile_link_inside_the_root_is_followed(tmp_path: Path, target: str) -> None:
    root = _scan_repo(tmp_path)
    (root / "cfg").mkdir()
    (root / "cfg" / "p.yml").write_text("name: linked\n")
    link = str(root / "cfg" / "p.yml") if target == "ABS" else target
    (root / ".archreview.yml").symlink_to(link)
    profile = load_profile(root / ".archreview.yml", root=root)
    assert profile.name == "linked"
    result = CliRunner().invoke(main, ["profile", "show", str(root)])
    assert result.exit_code == 0 and "name: linked" in result.output


def test_a_profile_link_loop_fifo_folder_or_huge_file_is_a_one_line_error(tmp_path: Path) -> None:
    import os

    root = _scan_repo(tmp_path)
    profile = root / ".archreview.yml"
    profile.symlink_to(".archreview.yml")
    assert "too many levels of symbolic links" in _cli_error(root)
    profile.unlink()
    os.mkfifo(profile)
    assert "the profile is not a regular file; it is not read" in _cli_error(root)
    profile.unlink()
    (root / "cfg").mkdir()
    profile.symlink_to("cfg")
    assert "cannot read the profile" in _cli_error(root)
    profile.unlink()
    profile.write_text("# " + "x" * 1_000_001 + "\n")
    assert "the profile is over 1,000,000 bytes" in _cli_error(root)


def test_a_user_named_profile_outside_the_tree_is_trusted(tmp_path: Path) -> None:
    root = _scan_repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "real.yml").write_text("name: named-by-the-user\n")
    (outside / "link.yml").symlink_to(outside / "real.yml")
    result = CliRunner().invoke(
        main, ["profile", "show", str(root), "--profile", str(outside / "link.yml")]
    )
    assert result.exit_code == 0 and "name: named-by-the-user" in result.output


def test_profile_errors_and_warnings_reach_the_terminal_inert(tmp_path: Path) -> None:
    root = _scan_repo(tmp_path)
    (root / ".archreview.yml").write_text(
        'stack:\n  node:\n    packages:\n      "\\e[31mreact\\u202e": "nope"\n'
    )
    result = CliRunner().invoke(main, ["scan", str(root), "--no-cache"])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert (
        "stack.node.packages.\\x1b[31mreact\\u202e: 'nope' is not an npm version" in result.output
    )
    (root / ".archreview.yml").write_text(
        "events: {visibility_timeout_s: 30}\n"
        'sizing:\n  classes:\n    "slow\\e]8;;x\\a": {memory_mb: 512, timeout_s: 600}\n'
    )
    result = CliRunner().invoke(main, ["profile", "show", str(root)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "slow\\x1b]8;;x\\x07 600 s" in result.output  # the consistency warning, escaped
