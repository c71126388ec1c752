"""`archreview adr PATH --out DIR`: write or refresh one ADR file per (rule, module)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("adr")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the ADR files and their index.json (created when missing; inside PATH, "
    "reached without following links).",
)
@click.option(
    "--template",
    default="madr",
    show_default=True,
    help="Template: madr or nygard (built in), or a file name in --template-dir.",
)
@click.option(
    "--template-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory whose templates (madr.md.j2, nygard.md.j2, ...) replace the built-in ones.",
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Declared architecture: .archreview.yml or an agent definition (*.md).",
)
def adr(
    path: Path,
    out_dir: Path,
    template: str,
    template_dir: Path | None,
    profile_path: str | None,
) -> None:
    """Write or refresh the Architecture Decision Records (MADR) for the findings in PATH."""
    from reviewer.checks.catalogue import load_catalogue
    from reviewer.cli.main import EXIT_FAILED, EXIT_USAGE, UsageError, cli_profile
    from reviewer.core.clock import today
    from reviewer.core.safefs import WriteError
    from reviewer.discover.inventory import discover_once
    from reviewer.outputs.adr import AdrError, declared_values, write_adrs
    from reviewer.runner.engine import ScanError, ScanOptions, module_profiles, scan

    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    profile = cli_profile(profile_path, path)
    try:
        report = scan(path, ScanOptions(profile=profile))
    except ScanError as err:
        click.echo(f"archreview: scan failed: {err}", err=True)
        sys.exit(EXIT_FAILED)
    keys = sorted({key for meta in load_catalogue().values() for key in meta.profile_keys})
    # each module's effective profile, as the scan judged it (a module may declare for itself)
    by_module = module_profiles(path, profile, discover_once(path, exclude=profile.exclude_paths))
    declared: dict[str, dict[str, str]] = {}

    def expectations(module: str) -> dict[str, str]:
        # only what that profile declares: a record never claims a declaration that does not exist
        if module not in declared:
            declared[module] = declared_values(by_module.get(module, profile), keys)
        return declared[module]

    try:
        outcome = write_adrs(
            report,
            out_dir,
            root=path,
            today=today(),
            template=template,
            template_dir=template_dir,
            expectations=expectations,
        )
    except AdrError as err:
        raise UsageError(str(err)) from err
    except WriteError as err:  # one line: 2 when the path cannot be used, 3 for a full disk
        click.echo(f"archreview: {err}", err=True)
        sys.exit(EXIT_USAGE if err.usage else EXIT_FAILED)
    if outcome.index_replaced is not None:
        click.echo(
            f"archreview: notice: {out_dir / 'index.json'} {outcome.index_replaced}: not read, "
            "replaced by archreview's index",
            err=True,
        )
    for name, why in outcome.left_alone:
        click.echo(
            f"archreview: notice: left {out_dir / name} alone: it {why}",
            err=True,
        )
    for name in outcome.resolved:
        click.echo(f"resolved  {out_dir / name}")
    for name in outcome.created:
        click.echo(f"created   {out_dir / name}")
    for name in outcome.updated:
        click.echo(f"updated   {out_dir / name}")
    click.echo(f"archreview: ADRs in {out_dir}: {outcome.summary()}", err=True)
