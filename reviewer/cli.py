"""Command line: options -> ScanOptions -> Report -> formatters. No analysis here."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from reviewer import __version__
from reviewer.model import Confidence, Report, Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
FAIL_ON = ("critical", "high", "medium", "low", "info", "never")


class UsageError(click.ClickException):
    exit_code = EXIT_USAGE


def _parse_outputs(
    formats: tuple[str, ...], outputs: tuple[str, ...]
) -> list[tuple[str, str | None]]:
    fmts = list(dict.fromkeys(formats)) or ["text"]
    mapped: dict[str, str] = {}
    plain: list[str] = []
    for out in outputs:
        name, sep, target = out.partition("=")
        if sep and name in _known_formats():
            mapped[name] = target
        else:
            plain.append(out)
    if len(plain) > 1 or (plain and len(fmts) > 1):
        raise UsageError("with several formats, give one FORMAT=FILE --output for each")
    result: list[tuple[str, str | None]] = []
    for fmt in fmts:
        result.append((fmt, mapped.get(fmt, plain[0] if plain else None)))
    for name in mapped:
        if name not in fmts:
            result.append((name, mapped[name]))
    return result


def _known_formats() -> tuple[str, ...]:
    from reviewer.output import FORMATS

    return FORMATS


def _load_parameters(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"--parameters {path}: {err}") from err
    if isinstance(data, list):  # CloudFormation CLI form
        out: dict[str, Any] = {}
        for item in data:
            if isinstance(item, dict) and "ParameterKey" in item:
                out[str(item["ParameterKey"])] = item.get("ParameterValue")
        return out
    if isinstance(data, dict):
        params = data.get("Parameters", data)
        if isinstance(params, dict):
            return {str(k): v for k, v in params.items()}
    raise UsageError(f"--parameters {path}: expected a mapping of parameter names to values")


def _use_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def exit_code(report: Report, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    pr_mode = report.diff_base is not None
    for f in report.findings:
        if f.suppressed is not None:
            continue
        if pr_mode and f.new is not True:
            continue
        if f.severity.rank >= threshold:
            return EXIT_FINDINGS
    return EXIT_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archreview")
def main() -> None:
    """Review the architecture of a multi-module AWS repository."""


@main.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Declared architecture: .archreview.yml or an agent definition (*.md).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["text", "json", "sarif", "markdown", "html", "junit"]),
    help="Output format (repeatable).",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    help="FILE, or FORMAT=FILE with several formats (default stdout).",
)
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True)
@click.option(
    "--min-confidence",
    type=click.Choice(["high", "medium", "low"]),
    default="low",
    show_default=True,
)
@click.option(
    "--parameters",
    "parameters_path",
    type=click.Path(dir_okay=False),
    help="Parameter values (JSON/YAML map).",
)
@click.option("--sam-env", help="samconfig.toml environment for parameter_overrides.")
@click.option(
    "--max-file-size",
    type=int,
    default=5_000_000,
    show_default=True,
    help="Bytes; larger files are not reviewed (AR-MOD-006).",
)
def scan(
    path: Path,
    profile_path: str | None,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    quiet: bool,
    fail_on: str,
    min_confidence: str,
    parameters_path: str | None,
    sam_env: str | None,
    max_file_size: int,
) -> None:
    """Review a checkout at PATH."""
    from reviewer.engine import ScanError, ScanOptions, filter_report
    from reviewer.engine import scan as run_scan
    from reviewer.output import renderer

    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    targets = _parse_outputs(formats, outputs)
    for fmt, _ in targets:
        if fmt not in _known_formats():
            raise UsageError(f"--format {fmt} is not available in this version")
    profile = _profile(profile_path, path)
    options = ScanOptions(
        profile=profile,
        parameters=_load_parameters(parameters_path),
        sam_env=sam_env,
        max_bytes=max_file_size,
    )
    try:
        report = run_scan(path, options)
    except ScanError as err:
        click.echo(f"archreview: scan failed: {err}", err=True)
        sys.exit(EXIT_FAILED)
    shown = filter_report(report, Confidence(min_confidence))
    for fmt, target in targets:
        if fmt == "text":
            from reviewer.output.text import render as render_text

            stream = sys.stdout if target is None else None
            payload = render_text(shown, color=stream is not None and _use_color(stream))
        else:
            payload = renderer(fmt)(shown)
        if target is None or target == "-":
            click.echo(payload, nl=False)
        else:
            _write_atomic(Path(target), payload)
    if not quiet and any(t is not None for _, t in targets):
        score = shown.score
        click.echo(
            f"archreview: grade {score.grade or '-'} ({score.score if score.score is not None else 'n/a'}), "
            f"{len(shown.unsuppressed)} findings",
            err=True,
        )
    sys.exit(exit_code(shown, fail_on))


def _profile(profile_path: str | None, root: Path) -> Any:
    from reviewer.profile import DEFAULT

    if profile_path is None:
        return DEFAULT
    if not Path(profile_path).is_file():
        raise UsageError(f"--profile {profile_path}: no such file")
    return replace(DEFAULT, source=profile_path)


def _write_atomic(path: Path, payload: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.archreview-tmp")
    tmp.write_text(payload, encoding="utf-8")
    os.replace(tmp, path)


@main.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
def rules_cmd(as_json: bool) -> None:
    """List rules: id, layer, severity, title."""
    from reviewer.catalogue import load_catalogue
    from reviewer.engine import all_checks

    catalogue = load_catalogue()
    ids = sorted(c.rule_id for c in all_checks())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": i,
                        "layer": catalogue[i].layer,
                        "severity": catalogue[i].severity.value,
                        "title": catalogue[i].title,
                    }
                    for i in ids
                ],
                indent=2,
            )
        )
        return
    for i in ids:
        meta = catalogue[i]
        click.echo(f"{i}  {meta.layer:<3}  {meta.severity.value:<8}  {meta.title}")


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """The full rule text and ADR template."""
    from reviewer.catalogue import load_catalogue
    from reviewer.explain import render_explain

    catalogue = load_catalogue()
    meta = catalogue.get(rule_id.upper())
    if meta is None:
        raise UsageError(f"unknown rule {rule_id}; see `archreview rules`")
    click.echo(render_explain(meta), nl=False)


if __name__ == "__main__":
    main()
