"""`archreview init [PATH]` (issue 19, item 3): it writes PATH/.archreview.yml, not the current
folder's; it groups an agent definition's repeated warnings (--verbose lists them); it ends
with what it wrote, one line per documented change of the preset it applied, and the one
command to run next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reviewer.cli.main import main
from reviewer.profile import CHARIOT_ADDITIONS
from reviewer.profile.agent import read_agent
from reviewer.profile.loader import load_profile

from .conftest import FIXTURES

HARBOR = FIXTURES / "agents" / "harbor-architect.agent.md"  # 12 lines of mojibake, like the seed
LEDGER = FIXTURES / "agents" / "ledger-architect.agent.md"  # its own architecture, no preset


def _init(cwd: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["init", *args])


def test_init_writes_into_path_not_where_you_stand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _init(elsewhere, str(repo), monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert not (elsewhere / ".archreview.yml").exists()
    written = repo / ".archreview.yml"
    assert load_profile(written).extends is None  # declares nothing: the baseline
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"archreview: wrote {written}: it declares nothing")
    assert lines[-1] == f"Next: archreview scan {repo}"
    # the next command is the one that reads what was written
    scanned = CliRunner().invoke(main, ["scan", str(repo), "--no-cache", "--format", "json"])
    report = json.loads(scanned.stdout)
    assert (report["profile"], report["profile_source"]) == (".archreview.yml", "file")


def test_init_without_path_writes_into_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _init(tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".archreview.yml").is_file()
    assert result.stdout.splitlines()[-1] == "Next: archreview scan ."


def test_init_refuses_a_missing_folder_a_file_and_an_existing_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _init(tmp_path, "nope", monkeypatch=monkeypatch)
    assert missing.exit_code == 2
    assert "nope: no such directory" in missing.output
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    a_file = _init(tmp_path, "file.txt", monkeypatch=monkeypatch)
    assert a_file.exit_code == 2
    assert "file.txt" in a_file.output
    assert not (tmp_path / "nope").exists()
    # a profile under the other accepted name counts as existing too, and is what --force replaces
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".archreview.yaml").write_text("version: 1\n", encoding="utf-8")
    again = _init(tmp_path, "repo", monkeypatch=monkeypatch)
    assert again.exit_code == 2
    assert ".archreview.yaml already exists; pass --force" in again.output
    forced = _init(tmp_path, "repo", "--force", monkeypatch=monkeypatch)
    assert forced.exit_code == 0, forced.output
    assert not (repo / ".archreview.yml").exists()
    assert "Written by `archreview init`" in (repo / ".archreview.yaml").read_text(encoding="utf-8")


def test_init_from_agent_groups_repeated_warnings_and_ends_with_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    result = _init(tmp_path, "--from-agent", str(HARBOR), "repo", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    mojibake = [n for n in read_agent(HARBOR).warnings if "mojibake" in n.message]
    assert len(mojibake) == 12
    warned = result.stderr.splitlines()
    grouped = [line for line in warned if "mojibake" in line]
    assert grouped == [
        f"archreview: warning: {HARBOR}: 12 lines with mojibake, first at "
        f"{mojibake[0].line}:{mojibake[0].column} ('ðŸ“Š' (probably '📊')): UTF-8 text that was "
        "decoded as Windows-1252 and saved again; re-save the file as UTF-8 from the original; "
        "--verbose lists them"
    ]
    # a warning of another kind is kept as it is
    assert any(f"{HARBOR}:60: contradiction" in line for line in warned)
    out = result.stdout.splitlines()
    assert out[0].startswith(f"archreview: read {HARBOR}: ")
    assert out[0].endswith("(--verbose lists the mapping)")
    assert out[1].startswith("archreview: wrote repo/.archreview.yml: extends: chariot")
    # one line per documented change of the preset: the api class, the visibility left out,
    # TLS 1.3 kept as a preference
    changes = out[2:-1]
    assert len(changes) == len(CHARIOT_ADDITIONS) == 3
    assert any("sizing.classes.api" in line and "`api` class" in line for line in changes)
    assert any("visibility_timeout_s: left unset" in line for line in changes)
    assert any("TLS 1.3 is kept as tls_preferred" in line for line in changes)
    assert out[-1] == "Next: archreview scan repo"
    assert load_profile(repo / ".archreview.yml").extends == "chariot"


def test_init_from_agent_with_verbose_lists_every_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _init(tmp_path, "--from-agent", str(HARBOR), "--verbose", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    lines = [n.line for n in read_agent(HARBOR).warnings if "mojibake" in n.message]
    listed = [line for line in result.stderr.splitlines() if "mojibake" in line]
    assert [int(line.split(f"{HARBOR}:", 1)[1].split(":", 1)[0]) for line in listed] == lines
    assert "lines with mojibake" not in result.stderr
    # and the mapping, one line per value
    assert "(--verbose lists the mapping)" not in result.stdout
    assert len(result.stdout.splitlines()) > 20


def test_init_from_an_agent_of_its_own_says_what_it_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _init(tmp_path, "--from-agent", str(LEDGER), ".", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    profile = load_profile(tmp_path / ".archreview.yml")
    assert profile.extends is None
    out = result.stdout.splitlines()
    n = len(profile.declared_keys())
    assert out[1].startswith(
        f"archreview: wrote .archreview.yml: the {n} keys {LEDGER.name} declares, each citing its line"
    )
    assert out[-1] == "Next: archreview scan ."
