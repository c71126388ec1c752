"""`archreview rules [PATH]` (list the built-in rules, and with PATH the repository's own) and
`archreview rules test [PATH]` (run the repository's rules against its fixture templates).

`rules test` finds the fixtures below PATH/.archreview/tests/ (or --fixtures DIR): each file or
folder there is scanned as a small repository of its own with the repository's rules (and its
profile), and every line that carries ``# archreview: expect RULE-ID`` must have a finding of
that rule at that line; a finding of a custom rule on a line without the marker is unexpected.
Exit 0 when every expectation holds, 1 when one does not, 2 for a rule file with an error or
no fixtures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reviewer.cli.main import EXIT_FINDINGS, EXIT_OK, UsageError, cli_profile

EXPECT = re.compile(r"#\s*archreview:\s*expect\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)")
FIXTURES_DIR = (".archreview", "tests")
MAX_FIXTURES = 500


class _RulesGroup(click.Group):
    """`rules` lists when its first word is not a subcommand (`archreview rules PATH`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        words = [a for a in args if not a.startswith("-")]
        if words and words[0] not in self.commands:
            ctx.meta["rules.path"] = words[0]
            args = list(args)
            args.remove(words[0])
        return super().parse_args(ctx, args)


def _inert(text: str) -> str:
    from reviewer.core.typed import escape_line

    return escape_line(text, 2000)


def _custom(root: Path, profile_path: str | None) -> Any:
    from reviewer.checks.custom import load_custom_rules

    profile = cli_profile(profile_path, root, warn=False)
    return load_custom_rules(root, profile)


@click.group("rules", cls=_RulesGroup, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
@click.option("--profile", "profile_path", default=None, help="The profile naming rule files.")
@click.pass_context
def rules(ctx: click.Context, as_json: bool, profile_path: str | None) -> None:
    """List rules: id, layer, severity, title (with PATH, also the repository's own rules).

    `archreview rules test [PATH]` runs the repository's rules against its fixtures."""
    if ctx.invoked_subcommand is not None:
        return
    from reviewer.checks.catalogue import load_catalogue
    from reviewer.runner.engine import all_checks

    catalogue = load_catalogue()
    ids = sorted(c.rule_id for c in all_checks())
    rows: list[dict[str, str]] = [
        {
            "id": i,
            "layer": catalogue[i].layer,
            "severity": catalogue[i].severity.value,
            "title": catalogue[i].title,
        }
        for i in ids
    ]
    path = ctx.meta.get("rules.path")
    if path is not None:
        root = Path(path)
        if not root.is_dir():
            raise UsageError(f"{_inert(path)} is not a folder")
        custom = _custom(root, profile_path)
        for meta in sorted(custom.metas.values(), key=lambda m: m.id):
            rows.append(
                {
                    "id": meta.id,
                    "layer": meta.layer,
                    "severity": meta.severity.value,
                    "title": meta.title,
                    "file": meta.source,
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        where = f"  ({_inert(row['file'])})" if "file" in row else ""
        click.echo(
            f"{row['id']}  {row['layer']:<3}  {row['severity']:<8}  {_inert(row['title'])}{where}"
        )


@dataclass(frozen=True)
class Outcome:
    fixture: str
    missing: tuple[tuple[str, int, str], ...]  # (file, line, rule) expected, not found
    unexpected: tuple[tuple[str, int, str, str], ...]  # (file, line, rule, message)
    expected: int


@rules.command("test")
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--fixtures",
    "fixtures",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of fixture templates (default PATH/.archreview/tests).",
)
@click.option("--profile", "profile_path", default=None, help="The profile to scan them with.")
def test_cmd(path: Path, fixtures: Path | None, profile_path: str | None) -> None:
    """Run the repository's rules against fixtures marked `# archreview: expect ID`."""
    if not path.is_dir():
        raise UsageError(f"{_inert(str(path))} is not a folder")
    profile = cli_profile(profile_path, path, warn=False)
    from reviewer.checks.custom import load_custom_rules, read_rules

    custom = load_custom_rules(path, profile)
    texts = read_rules(path, profile.custom_rules)
    if not custom.rules:
        raise UsageError(
            f"{_inert(str(path))} has no rules in .archreview/rules/ or in its profile"
        )
    folder = fixtures if fixtures is not None else path.joinpath(*FIXTURES_DIR)
    if not folder.is_dir() or folder.is_symlink():
        raise UsageError(f"no fixtures: {_inert(str(folder))} is not a folder")
    entries = sorted(
        p for p in folder.iterdir() if not p.name.startswith(".") and not p.is_symlink()
    )
    if not entries:
        raise UsageError(f"no fixtures in {_inert(str(folder))}")
    outcomes = [run_fixture(entry, custom, profile, texts) for entry in entries[:MAX_FIXTURES]]
    failed = 0
    for o in outcomes:
        ok = not o.missing and not o.unexpected
        failed += not ok
        click.echo(f"{'ok  ' if ok else 'FAIL'}  {_inert(o.fixture)}  ({o.expected} expected)")
        for file, line, rule in o.missing:
            click.echo(f"      {_inert(file)}:{line}: expected {rule}, not found")
        for file, line, rule, message in o.unexpected:
            click.echo(f"      {_inert(file)}:{line}: unexpected {rule}: {_inert(message)[:200]}")
    click.echo(f"{len(outcomes) - failed} of {len(outcomes)} fixtures pass")
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)


def run_fixture(entry: Path, custom: Any, profile: Any, texts: list[tuple[str, bytes]]) -> Outcome:
    """Scan one fixture (a template, or a folder standing for a repository) with the custom
    rules only, and compare their findings with its `expect` markers. The rule files are
    copied into the fixture's .archreview/rules/ (the scan reads them from there)."""
    from dataclasses import replace

    from reviewer.core.types import Persona
    from reviewer.runner.engine import ScanOptions, scan

    with tempfile.TemporaryDirectory(prefix="archreview-rules-") as tmp:
        root = Path(tmp) / "fixture"
        if entry.is_dir():
            shutil.copytree(entry, root, symlinks=True, ignore=_special_files)
        else:
            root.mkdir()
            if stat.S_ISREG(entry.lstat().st_mode):  # never open a FIFO or a device
                shutil.copy(entry, root / entry.name)
        expected = _markers(root)
        rules_dir = root / ".archreview" / "rules"
        if rules_dir.is_symlink() or (rules_dir.exists() and not rules_dir.is_dir()):
            raise UsageError(f"{_inert(entry.name)}: .archreview/rules is not a folder")
        rules_dir.mkdir(parents=True, exist_ok=True)
        for i, (_, data) in enumerate(texts):
            (rules_dir / f"{i:03d}-rule.yaml").write_bytes(data)
        ids = set(custom.metas)
        options = ScanOptions(
            checks=tuple(custom.checks),
            persona=Persona.AUDITOR,
            profile=replace(profile, custom_rules=()),
            jobs=1,
        )
        report = scan(root, options)
    found = {(f.file, f.line, f.rule_id): f.message for f in report.findings if f.rule_id in ids}
    for f in report.findings:  # the bound's findings say a rule was not fully evaluated
        if f.rule_id == "AR-MOD-006" and "custom rule" in f.message:
            found[(f.file, f.line, f.rule_id)] = f.message
    wanted = {k for k in expected if k[2] in ids or k[2] == "AR-MOD-006"}
    missing = tuple(sorted(k for k in wanted if k not in found))
    unexpected = tuple(sorted((k[0], k[1], k[2], m) for k, m in found.items() if k not in wanted))
    return Outcome(entry.name, missing, unexpected, len(wanted))


def _special_files(folder: str, names: list[str]) -> set[str]:
    """What a fixture folder's copy leaves out: anything but folders, regular files and links
    (a FIFO would block the copy; links are copied as links, and the scan refuses them)."""
    left: set[str] = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            left.add(name)
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            left.add(name)
    return left


def _markers(root: Path) -> set[tuple[str, int, str]]:
    out: set[tuple[str, int, str]] = set()
    for file in sorted(root.rglob("*")):
        if file.is_symlink() or not file.is_file() or file.stat().st_size > 5_000_000:
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = file.relative_to(root).as_posix()
        for n, line in enumerate(text.splitlines(), 1):
            for m in EXPECT.finditer(line):
                out.add((rel, n, m.group(1)))
    return out
