"""What a scan does before its first template (issue 20's start-up work), held by behaviour:

- a replayed scan (nothing changed) keys its outputs without importing the checks, the rule
  language or the engine, and a scan of a repository without rule files never imports the
  rule language or its pattern engine (RE2) — while one with rule files still reads them;
- archreview's version is read from its installed metadata without importlib.metadata, and
  gives what importlib.metadata gives;
- the files discovery read whole are not read again to key the replay (`discover_and_keep`
  keeps their text for one `read_text` each);
- the content test's shortcut for `AWSTemplateFormatVersion:` decides as the full key scan.

Nothing here is timed: the figures are in docs/performance.md and bench/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.core.version import installed_version, version
from reviewer.discover.inventory import (
    classify_text,
    discover,
    discover_and_keep,
    forget_kept,
    read_text,
)

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""

RULE = """\
id: ACME-SQS-001
title: Queue keeps messages for less than four days
layer: {id: PLT, label: Platform conventions}
severity: medium
confidence: high
persona: regular
adr:
  context: A consumer that stops for a long weekend loses the messages older than four days.
  decision: Every queue keeps its messages for four days at least.
  consequences: An outage over a weekend loses no work.
select:
  types: [AWS::SQS::Queue]
require:
  property: MessageRetentionPeriod
  ge: 345600
  default: 300
message: "Queue {subject} keeps messages for less than four days ({detail})"
"""


def _repo(root: Path, *, rules: bool = False) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    if rules:
        (root / ".archreview" / "rules").mkdir(parents=True)
        (root / ".archreview" / "rules" / "queues.yaml").write_text(RULE, encoding="utf-8")
    return root


def _scan_modules(args: list[str], home: Path) -> tuple[str, set[str]]:
    """Run `archreview ARGS` in a fresh interpreter: its stdout, and every module it imported
    (from `python -X importtime`, which lists each one on stderr)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reviewer", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "XDG_CACHE_HOME": str(home),
            "ARCHREVIEW_TODAY": "2026-12-06",
        },
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return proc.stdout, modules


def test_a_replayed_scan_imports_neither_the_checks_nor_the_rule_language(
    tmp_path: Path,
) -> None:
    root = _repo(tmp_path / "repo", rules=True)
    args = ["scan", str(root), "--format", "json", "--fail-on", "never"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    cold, cold_modules = _scan_modules(args, tmp_path / "home")
    warm, warm_modules = _scan_modules(args, tmp_path / "home")
    if "reviewer.runner.engine" in warm_modules:  # archreview's own code changed meanwhile
        warm, warm_modules = _scan_modules(args, tmp_path / "home")  # (its files key the cache)
    assert warm == cold
    assert "ACME-SQS-001" in cold  # the rule file was read and its rule ran
    assert "reviewer.runner.engine" in cold_modules
    assert "reviewer.checks.custom.language" in cold_modules
    # replayed: nothing was scanned, and neither the checks nor the language were needed
    assert "reviewer.runner.engine" not in warm_modules
    assert not {m for m in warm_modules if m.startswith("reviewer.checks")}
    assert "re2" not in warm_modules
    assert "importlib.metadata" not in warm_modules  # the version is read without it


def test_a_scan_without_rule_files_never_imports_the_rule_language(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    out, modules = _scan_modules(
        ["scan", str(root), "--format", "json", "--fail-on", "never", "--no-cache"],
        tmp_path / "home",
    )
    assert '"AR-' in out  # scanned: built-in rules reported on the template
    assert "reviewer.checks.custom" in modules  # the rule files were looked for
    assert "reviewer.checks.custom.language" not in modules
    assert "reviewer.checks.custom.patterns" not in modules
    assert "re2" not in modules


# -- the version --------------------------------------------------------------------------------


def test_the_version_is_the_one_importlib_metadata_gives() -> None:
    from importlib import metadata

    try:
        expected = metadata.version("archreview")
    except metadata.PackageNotFoundError:
        pytest.skip("archreview is not installed here (a source tree)")
    assert installed_version(sys.path) == expected
    assert version() == expected


def _dist(folder: Path, name: str, headers: str, file: str = "METADATA") -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / file).write_text(headers, encoding="utf-8")


def test_the_version_is_read_from_the_first_distribution_on_the_path(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(
        first,
        "Archreview-1.2.3.dist-info",
        "Metadata-Version: 2.1\nName: archreview\nVersion: 1.2.3\n\nVersion: 9.9.9\n",
    )
    _dist(second, "archreview-4.5.6.dist-info", "Name: archreview\nVersion: 4.5.6\n")
    missing = str(tmp_path / "missing")
    assert installed_version([missing, str(first), str(second)]) == "1.2.3"
    assert installed_version([str(second), str(first)]) == "4.5.6"
    eggs = tmp_path / "eggs"
    _dist(eggs, "archreview-7.0.egg-info", "Name: archreview\nVersion: 7.0\n", "PKG-INFO")
    assert installed_version([str(eggs)]) == "7.0"
    _dist(tmp_path / "others", "archreviewer-1.0.dist-info", "Version: 1.0\n")
    assert installed_version([str(tmp_path / "others")]) is None


def test_the_version_is_left_to_importlib_metadata_when_unsure(tmp_path: Path) -> None:
    """A zip on the path, two installs in one folder, or metadata without a Version header:
    None (importlib.metadata then answers)."""
    zipped = tmp_path / "bundle.zip"
    zipped.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    twice = tmp_path / "twice"
    _dist(twice, "archreview-1.0.dist-info", "Version: 1.0\n")
    _dist(twice, "archreview-2.0.dist-info", "Version: 2.0\n")
    headless = tmp_path / "headless"
    _dist(headless, "archreview-3.0.dist-info", "Name: archreview\n\nVersion: 3.0\n")
    assert installed_version([str(zipped)]) is None
    assert installed_version([str(twice)]) is None
    assert installed_version([str(headless)]) is None
    assert installed_version([]) is None


# -- one read per file --------------------------------------------------------------------------


def test_the_walk_keeps_each_text_for_one_read(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    (root / "app" / "go.mod").write_text("module example.com/app\n\ngo 1.22\n", encoding="utf-8")
    (root / "notes.yaml").write_text("title: not a template\n", encoding="utf-8")
    try:
        inventory = discover_and_keep(root, max_bytes=1000)
        assert [f.path for f in inventory.files] == ["app/go.mod", "app/template.yaml"]
        for rel in ("app/template.yaml", "app/go.mod"):
            fresh = (root / rel).read_text(encoding="utf-8")
            (root / rel).write_text(fresh + "# edited after the walk\n", encoding="utf-8")
            assert read_text(root, rel, 1000) == fresh  # the walk's text: not read again
            assert read_text(root, rel, 1000) == fresh + "# edited after the walk\n"  # once
        # another size limit is another read; and a forgotten walk keeps nothing
        discover_and_keep(root, max_bytes=1000)
        (root / "app" / "template.yaml").write_text(TEMPLATE + "# again\n", encoding="utf-8")
        assert read_text(root, "app/template.yaml", 2000) == TEMPLATE + "# again\n"
        forget_kept()
        assert read_text(root, "app/template.yaml", 1000) == TEMPLATE + "# again\n"
        # a plain walk keeps nothing
        discover(root, max_bytes=1000)
        (root / "app" / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
        assert read_text(root, "app/template.yaml", 1000) == TEMPLATE
    finally:
        forget_kept()


def test_a_kept_text_is_the_text_read_text_gives(tmp_path: Path) -> None:
    """CRLF, a UTF-8 byte-order mark and UTF-16 are decoded by the walk as by read_text."""
    root = tmp_path / "repo"
    root.mkdir()
    texts = {
        "crlf.yaml": TEMPLATE.replace("\n", "\r\n").encode("utf-8"),
        "bom.yaml": b"\xef\xbb\xbf" + TEMPLATE.encode("utf-8"),
        "wide.yaml": b"\xff\xfe" + TEMPLATE.encode("utf-16-le"),
    }
    for name, data in texts.items():
        (root / name).write_bytes(data)
    forget_kept()
    expected = {name: read_text(root, name) for name in texts}
    try:
        inventory = discover_and_keep(root)
        assert sorted(f.path for f in inventory.files) == sorted(texts)
        for name in texts:
            (root / name).write_bytes(b"changed")
        assert {name: read_text(root, name) for name in texts} == expected
    finally:
        forget_kept()


# -- the content test ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("AWSTemplateFormatVersion: '2010-09-09'\n", "template"),
        ("AWSTemplateFormatVersion:", "template"),
        ("# a comment\nAWSTemplateFormatVersion:\t'2010-09-09'\n", "template"),
        ("Description: x\nAWSTemplateFormatVersion:x\nAWSTemplateFormatVersion: 1\n", "template"),
        ("'AWSTemplateFormatVersion': '2010-09-09'\n", "template"),  # quoted: the full scan
        # not a top-level key: decided by the rest of the text
        ("  AWSTemplateFormatVersion: x\n", None),
        ("Description: |\n  AWSTemplateFormatVersion: x\n", None),
        ("AWSTemplateFormatVersion:x\n", None),
        ("AWSTemplateFormatVersion :x\n", None),
        ("\ufeffAWSTemplateFormatVersion: x\n", None),
        # a templating source stays one, whatever its keys
        (
            "AWSTemplateFormatVersion: '2010-09-09'\nDescription: {{cookiecutter.name}}\n",
            "templating",
        ),
    ],
)
def test_the_version_key_decides_as_the_full_key_scan(text: str, kind: str | None) -> None:
    assert classify_text(text) == kind


# -- module declarations ------------------------------------------------------------------------


def test_the_walk_names_the_folders_that_declare_nothing(tmp_path: Path) -> None:
    """`Inventory.quiet` holds the folders whose listing has no declaring name; resolving the
    modules' profiles with it gives what opening every module folder gives."""
    from reviewer.profile import DEFAULT
    from reviewer.profile.loader import PROFILE_FILENAMES, resolve_modules

    root = tmp_path / "repo"
    declared = {
        "yml": ".archreview.yml",
        "yaml": ".archreview.yaml",
        "claude": ".claude/agents/arch.md",
        "github": ".github/agents/arch.md",
        "docs": "docs/design/arch.agent.md",
        "own": "Review.Agent.md",
    }
    profile_text = "version: 1\npersona: pedantic\n"
    agent_text = (
        "---\nname: arch\ndescription: designs it\nsvc_context:\n  technology_stack:\n"
        '    backend:\n      primary_language: "Go 1.23.4"\n---\nBody.\n'
    )
    for module, rel in {**declared, "plain": "README.md", "nested/inner": "notes.txt"}.items():
        folder = root / module
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        text = profile_text if rel in PROFILE_FILENAMES else agent_text
        (folder / rel).write_text(text, encoding="utf-8")
        (folder / "package.json").write_text('{"name": "m"}\n', encoding="utf-8")
    inventory = discover(root)
    names = [m.name for m in inventory.modules]
    assert set(declared) | {"plain", "nested/inner"} <= set(names)
    assert not set(declared) & inventory.quiet
    assert {"plain", "nested", "nested/inner"} <= inventory.quiet
    looked = resolve_modules(root, DEFAULT, names)
    assert resolve_modules(root, DEFAULT, names, quiet=inventory.quiet) == looked
    assert {name for name, p in looked.items() if p is not DEFAULT} == set(declared)


def test_every_name_the_profile_loader_reads_is_a_declaring_name() -> None:
    from reviewer.discover.inventory import AGENT_SUFFIX, DECLARING_NAMES
    from reviewer.profile.loader import PROFILE_FILENAMES

    assert set(PROFILE_FILENAMES) | {".claude", ".github", "docs"} <= DECLARING_NAMES
    assert AGENT_SUFFIX == ".agent.md"


def test_the_replay_keys_on_the_digest_the_scan_gives_the_rule_files(tmp_path: Path) -> None:
    """reviewer.discover.rulefiles.rules_digest (the output replay's key, without the rule
    language) is the digest load_custom_rules gives the same files; "" without rule files."""
    from reviewer.checks.custom import load_custom_rules
    from reviewer.discover.rulefiles import rules_digest
    from reviewer.profile.loader import resolve_profile

    root = _repo(tmp_path / "repo", rules=True)
    profile = resolve_profile(root)
    loaded = load_custom_rules(root, profile)
    assert loaded.files == (".archreview/rules/queues.yaml",)
    assert rules_digest(root, profile.custom_rules) == loaded.digest != ""
    (root / ".archreview" / "rules" / "queues.yaml").write_text(
        RULE.replace("severity: medium", "severity: high"), encoding="utf-8"
    )
    assert rules_digest(root, profile.custom_rules) == load_custom_rules(root, profile).digest
    assert rules_digest(root, profile.custom_rules) != loaded.digest
    assert rules_digest(_repo(tmp_path / "bare"), ()) == ""
