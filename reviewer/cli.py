"""Command line: options -> ScanOptions -> Report -> formatters. No analysis here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import click

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
    """Parameter values from a JSON or YAML file: ``{Name: value}``, ``{Parameters: {...}}`` or
    the CloudFormation CLI's ``[{ParameterKey, ParameterValue}]``. Read typed: a string value
    is its text as written (``on``, ``2030-13-01``); a wrong shape exits 2 with file:line:col."""
    if path is None:
        return {}
    from reviewer.typed import InputError, escape_line, parameters_from_text

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError) as err:
        raise UsageError(f"--parameters {path}: {getattr(err, 'strerror', None) or err}") from None
    try:
        return parameters_from_text(text, path)
    except InputError as err:
        raise UsageError(f"--parameters {escape_line(str(err), 2000)}") from None


def _load_baseline(path: str | None) -> dict[str, str] | None:
    if path is None:
        return None
    from reviewer.suppress import read_baseline
    from reviewer.typed import escape_line

    try:
        return read_baseline(Path(path))
    except ValueError as err:
        raise UsageError(escape_line(str(err), 2000)) from None


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


class _Commands(click.Group):
    """Commands defined in their own modules are imported when they are run (or listed), so
    `scan` does not pay for the imports of `adr` or `comment`."""

    lazy: ClassVar[dict[str, str]] = {}  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, _, attr = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _print_version(ctx) if value else None,
    help="Show the version and exit.",
)
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda _ctx, _param, value: _set_debug(value),
    help="Print the traceback of an internal error (exit 3); also ARCHREVIEW_DEBUG=1.",
)
def main() -> None:
    """Review the architecture of a multi-module AWS repository."""


_DEBUG = [False]  # set by --debug on the command line


def _set_debug(value: bool) -> None:
    if value:
        _DEBUG[0] = True


def _debugging() -> bool:
    return _DEBUG[0] or os.environ.get("ARCHREVIEW_DEBUG", "").strip() == "1"


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
@click.option(
    "--quiet", is_flag=True, help="Findings only: no progress bar, score summary or stderr note."
)
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True)
@click.option(
    "--persona",
    type=click.Choice(["regular", "pedantic", "auditor"]),
    default=None,
    help="Who the review is for: regular (defects with a consequence; the default), pedantic "
    "(adds hygiene and good practice), auditor (adds prompts to record a decision). Default: "
    "the profile's `persona:`, else regular.",
)
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
@click.option("--no-ignores", is_flag=True, help="Ignore every suppression (audits).")
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="A path not to review (a .gitignore-style glob; repeatable); adds to the profile's "
    "`exclude:`.",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False),
    help="Suppress the findings recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False),
    help="Record every current finding in this baseline file.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default="0: one per CPU",
    help="Processes for loading templates and running local checks.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Content-hash cache folder (default: one per checkout in the user's cache, "
    "$XDG_CACHE_HOME/archreview/trees/).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--diff-base",
    metavar="GIT_REF",
    help="PR mode: mark findings new/existing against a scan of this git revision.",
)
@click.option(
    "--sarif-category",
    default="archreview",
    show_default=True,
    help="SARIF runs[0].automationDetails.id (the code scanning category).",
)
@click.option(
    "--sarif-include-suppressed",
    is_flag=True,
    help="Keep suppressed findings in SARIF (GitHub ignores SARIF suppressions).",
)
@click.option(
    "--aws",
    "aws_live",
    is_flag=True,
    help="Also review deployed stacks and their drift from the repository (boto3, read-only).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="AWS region for --aws (repeatable; default: the profile's or AWS_REGION).",
)
@click.option(
    "--stack",
    "stack_names",
    multiple=True,
    help="Only this deployed stack for --aws (repeatable; default: every live stack).",
)
@click.option(
    "--aws-profile", help="Named AWS profile for --aws (default: the standard credential chain)."
)
def scan(
    path: Path,
    profile_path: str | None,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    quiet: bool,
    fail_on: str,
    persona: str | None,
    min_confidence: str,
    parameters_path: str | None,
    sam_env: str | None,
    max_file_size: int,
    no_ignores: bool,
    excludes: tuple[str, ...],
    baseline_path: str | None,
    write_baseline: str | None,
    jobs: int,
    cache_dir: Path | None,
    no_cache: bool,
    diff_base: str | None,
    sarif_category: str,
    sarif_include_suppressed: bool,
    aws_live: bool,
    regions: tuple[str, ...],
    stack_names: tuple[str, ...],
    aws_profile: str | None,
) -> None:
    """Review a checkout at PATH."""
    import gc

    gc.disable()  # a short-lived process making millions of objects: no cyclic collections
    from reviewer.output import RenderOptions, renderer, streamer

    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    targets = _parse_outputs(formats, outputs)
    for fmt, _ in targets:
        if fmt not in _known_formats():
            raise UsageError(f"--format {fmt} is not available in this version")
    profile = _profile(profile_path, path, exclude=excludes)
    aws_options: Any = None
    aws_errors: tuple[type[Exception], ...] = ()
    if aws_live:  # boto3 is imported only here, and only by reviewer.aws
        from reviewer.aws import AwsOptions, AwsUsageError

        aws_options = AwsOptions(regions=regions, stacks=stack_names, profile=aws_profile)
        aws_errors = (AwsUsageError,)
    elif regions or stack_names or aws_profile:
        raise UsageError("--region, --stack and --aws-profile need --aws")
    from reviewer.progress import progress_for

    bar = progress_for(sys.stderr, quiet=quiet)  # only on a terminal, only for long scans
    parameters = _load_parameters(parameters_path)
    baseline = _load_baseline(baseline_path)
    cache_folder = _cache_folder(path, cache_dir, no_cache)
    replay = None  # the outputs of an earlier run that read exactly the same (reviewer.replay)
    if diff_base is None and not write_baseline and aws_options is None and cache_folder:
        from reviewer.replay import Replay  # before the engine is imported: a hit needs none

        output_settings = (targets, min_confidence, fail_on, quiet, sarif_category)
        replay = Replay.open(
            path,
            cache_folder,
            profile,
            (parameters, sam_env, max_file_size, no_ignores, baseline, persona),
            (*output_settings, sarif_include_suppressed, _use_color(sys.stdout)),
        )
        code = replay.play(lambda p, text: _write_output(p, text, path)) if replay else None
        if code is not None:
            if bar is not None:
                bar.close()
            if not quiet:
                say_profile(profile)
            sys.exit(code)
    from reviewer.engine import ScanError, ScanOptions, filter_report
    from reviewer.engine import scan as run_scan
    from reviewer.model import Persona

    options = ScanOptions(
        persona=Persona(persona) if persona else None,
        progress=bar,
        profile=profile,
        parameters=parameters,
        sam_env=sam_env,
        max_bytes=max_file_size,
        no_ignores=no_ignores,
        baseline=baseline,
        aws=aws_options,
        jobs=jobs or _default_jobs(),
        cache_dir=cache_folder,
        keep_report=replay is None,
    )
    try:
        report = run_scan(path, options)
    except aws_errors as err:
        raise UsageError(f"--aws: {err}") from None
    except ScanError as err:
        click.echo(f"archreview: scan failed: {err}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        if bar is not None:
            bar.close()
    if diff_base is not None:
        from reviewer.prmode import DiffBaseError, GitError, compare_with_base

        try:
            report, pr_warnings = compare_with_base(path, diff_base, options, report)
        except DiffBaseError as err:
            raise UsageError(str(err)) from err
        except (GitError, ScanError) as err:
            click.echo(f"archreview: scan of --diff-base {diff_base} failed: {err}", err=True)
            sys.exit(EXIT_FAILED)
        finally:
            if bar is not None:
                bar.close()
        for message in pr_warnings:
            click.echo(f"archreview: warning: {message}", err=True)
    if write_baseline:
        from reviewer.clock import today
        from reviewer.suppress import baseline_text

        _write_output(Path(write_baseline), baseline_text(report.findings, today()), path)
    shown = filter_report(report, Confidence(min_confidence))
    for fmt, target in targets:
        stream = sys.stdout if target is None or target == "-" else None
        render_options = RenderOptions(
            color=stream is not None and _use_color(stream),
            sarif_category=sarif_category,
            include_suppressed=sarif_include_suppressed,
        )
        stream_to = streamer(fmt) if replay is None else None  # a replay keeps the text whole
        if stream_to is not None and not (fmt == "text" and quiet):
            streamed = _streaming(stream_to, shown, render_options)
            if target is None or target == "-":
                streamed(sys.stdout.write)
            else:
                _write_output(Path(target), streamed, path)
            continue
        if fmt == "text" and quiet:  # findings without the score summary
            from reviewer.output.text import render_text

            payload = render_text(shown, color=render_options.color, summary=False)
        else:
            payload = renderer(fmt)(shown, render_options)
        if target is None or target == "-":
            click.echo(payload, nl=False)
        else:
            _write_output(Path(target), payload, path)
        if replay is not None:
            replay.outputs.append((fmt, target, payload))
    if not quiet:  # after the outputs: an error or a crash before them stays one line
        say_profile(profile)
    if not quiet and any(t is not None for _, t in targets):
        score = shown.score
        summary = (
            f"archreview: grade {score.grade or '-'} ({score.score if score.score is not None else 'n/a'}), "
            f"{len(shown.unsuppressed)} findings"
        )
        click.echo(summary, err=True)
        if replay is not None:
            replay.stderr.append(summary)
    code = exit_code(shown, fail_on)
    if replay is not None:
        replay.save(code)
    sys.exit(code)


def _print_version(ctx: click.Context) -> None:
    from reviewer import __version__  # looked up only when asked for

    click.echo(f"archreview, version {__version__}")
    ctx.exit()


def _default_jobs() -> int:
    from reviewer.pipeline import jobs_default

    return jobs_default()


def _profile(
    profile_path: str | None, root: Path, *, warn: bool = True, exclude: tuple[str, ...] = ()
) -> Any:
    """The declared architecture (reviewer.profile_loader.resolve_profile): --profile (a
    .archreview.yml, or an agent definition *.md whose unmapped keys only warn), else
    .archreview.yml at the scanned root, else an agent definition committed in the repository,
    else the built-in baseline; `exclude` (--exclude) adds to its `exclude:`. A profile that
    cannot be used exits 2 with file:line. Warnings go to stderr (with `warn`)."""
    from dataclasses import replace

    from reviewer.profile_loader import ProfileError, resolve_profile
    from reviewer.typed import escape_line  # repository text in a message: one inert line

    if profile_path is not None:
        try:
            found = Path(profile_path).is_file()
        except OSError as err:  # a folder on the way that cannot be read
            why = err.strerror or type(err).__name__
            raise UsageError(f"--profile {escape_line(profile_path, 500)}: {why}") from None
        if not found:
            raise UsageError(f"--profile {escape_line(profile_path, 500)}: no such file")
    try:
        profile = resolve_profile(root, profile_path)
    except ProfileError as err:
        raise UsageError(f"profile error: {escape_line(str(err), 2000)}") from None
    if exclude:
        profile = replace(profile, exclude_paths=(*profile.exclude_paths, *exclude))
    if warn:
        for message in profile.warnings:
            click.echo(f"archreview: warning: {escape_line(message, 2000)}", err=True)
    return profile


def say_profile(profile: Any) -> None:
    """On stderr: where the declared architecture came from, and the upgrade notice when the
    repository declares nothing (each once per run)."""
    from reviewer.typed import escape_line

    click.echo(f"archreview: {escape_line(profile_line(profile), 2000)}", err=True)
    if profile.notice:
        click.echo(f"archreview: {profile.notice}", err=True)


def profile_line(profile: Any) -> str:
    """One line saying where the declared architecture came from."""
    kind = profile.source_kind
    if kind == "baseline":
        return "declared architecture: none (the built-in baseline)"
    what = {
        "option": "named by --profile",
        "file": "the repository's profile",
        "agent": "an agent definition committed in the repository",
    }.get(kind, kind)
    extends = f", the {profile.extends} preset" if profile.extends else ""
    return f"declared architecture: {profile.source} ({what}{extends})"


def _cache_folder(path: Path, cache_dir: Path | None, no_cache: bool) -> str | None:
    """--cache-dir, else a folder of the user's cache for this checkout (outside the scanned
    tree: docs/adr/0004); None with --no-cache or when the user's cache is off."""
    if no_cache:
        return None
    if cache_dir is not None:
        return str(cache_dir.absolute())
    from reviewer.cache import default_cache_dir

    return default_cache_dir(path)


def _write_output(
    path: Path, payload: str | Callable[[Callable[[str], object]], None], tree: Path
) -> None:
    """Write a file the user named (reviewer.safefs.write_user_file: atomic for a regular file,
    written in place for /dev/null, a FIFO or a link outside the scanned `tree`, no link
    followed inside it). A failure is one line on stderr: exit 2 when the path cannot be used
    (a folder, a link inside the tree, no permission), 3 when the write failed (a full disk)."""
    from reviewer.safefs import WriteError, write_user_file

    try:
        write_user_file(path, payload, tree=tree)
    except WriteError as err:
        click.echo(f"archreview: {err}", err=True)
        sys.exit(EXIT_USAGE if err.usage else EXIT_FAILED)


def _streaming(
    stream_to: Any, report: Report, options: Any
) -> Callable[[Callable[[str], object]], None]:
    def write_with(write: Callable[[str], object]) -> None:
        stream_to(report, options, write)

    return write_with


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


@main.command()
@click.option(
    "--from-agent",
    "agent_path",
    type=click.Path(dir_okay=False),
    help="Map an agent definition (Markdown with YAML front matter) instead.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing .archreview.yml.")
def init(agent_path: str | None, force: bool) -> None:
    """Write .archreview.yml: one that declares nothing and documents every key, or what an
    agent definition declares (`extends: chariot` for one that declares the Chariot preset's
    architecture)."""
    from reviewer.profile_loader import PROFILE_FILENAMES, default_profile_text

    target = Path(PROFILE_FILENAMES[0])
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it")
    if agent_path is None:
        _write_output(target, default_profile_text(), Path("."))
        click.echo(
            f"archreview: wrote {target} (declares nothing: the built-in baseline; every key "
            "is documented, commented out)"
        )
        return
    from reviewer.agent import (
        AgentError,
        agent_profile_text,
        init_report,
        profile_from_agent,
        read_agent,
    )

    try:
        found = Path(agent_path).is_file()
    except OSError as err:
        raise UsageError(f"--from-agent {agent_path}: {err.strerror or 'unreadable'}") from None
    if not found:
        raise UsageError(f"--from-agent {agent_path}: no such file")
    try:
        reading = read_agent(agent_path)
    except AgentError as err:
        raise UsageError(f"agent definition error: {err}") from err
    profile = profile_from_agent(reading)
    summary, warnings = init_report(reading, profile)
    for line in summary:
        click.echo(line)
    for line in warnings:
        click.echo(f"archreview: warning: {line}", err=True)
    _write_output(target, agent_profile_text(reading, profile), Path("."))
    extends = f" (extends the {profile.extends} preset)" if profile.extends else ""
    click.echo(f"archreview: wrote {target} from {agent_path}{extends}")


@main.group("profile")
def profile_group() -> None:
    """The declared architecture."""


@profile_group.command("show")
@click.argument(
    "path", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Declared architecture: .archreview.yml or an agent definition (*.md).",
)
def profile_show(path: Path, profile_path: str | None) -> None:
    """Print the effective profile and where it came from (--profile, else PATH/.archreview.yml,
    else an agent definition committed in the repository, else the built-in baseline)."""
    from reviewer.profile_loader import show_profile_text

    click.echo(show_profile_text(_profile(profile_path, path)), nl=False)


# -- commands defined in their own modules (one registration line each) --------------------
_Commands.lazy["adr"] = "reviewer.cli_adr:adr"  # archreview adr
_Commands.lazy["comment"] = "reviewer.cli_comment:comment"  # archreview comment


if __name__ == "__main__":
    main()


# Environment variables whose values never appear in an error message (the GitHub token of the
# Action and of `comment`, AWS credentials for --aws).
SECRET_VARIABLES = (
    "GITHUB_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
INTERNAL_ERROR_CHARS = 300


def redact_secrets(text: str) -> str:
    """``text`` with the value of every SECRET_VARIABLES variable that is set replaced by
    ``***`` (longest first, so a value holding another is hidden whole)."""
    secrets = {os.environ.get(name, "").strip() for name in SECRET_VARIABLES}
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def internal_error(err: BaseException) -> int:
    """Report an unexpected exception outside a check and return exit code 3: one line on
    stderr, ``archreview: internal error: Type: message``, with secrets redacted, control
    characters escaped and the message cut at INTERNAL_ERROR_CHARS; the traceback (redacted
    too) only with --debug or ARCHREVIEW_DEBUG=1."""
    from reviewer.typed import escape_line

    debug = _debugging()
    try:
        if debug:
            import traceback

            for line in "".join(traceback.format_exception(err)).splitlines():
                print(escape_line(redact_secrets(line), 10_000), file=sys.stderr)
        what = escape_line(type(err).__name__, 100)
        message = escape_line(redact_secrets(str(err)), INTERNAL_ERROR_CHARS)
        hint = "" if debug else " (run with --debug for the traceback)"
        print(f"archreview: internal error: {what}: {message}{hint}", file=sys.stderr)
    except Exception:  # stderr itself failing: the exit code still says it
        pass
    return EXIT_FAILED


def run() -> None:
    """The `archreview` program (console script and `python -m reviewer`): `main`, then leave
    at once. A scan ends holding hundreds of thousands of objects (templates, findings) that
    the interpreter would otherwise take apart one by one on its way out — a tenth of a second
    on a 500-template repository, seconds on a large one — for a process that is ending. Every
    file is closed by then; the standard streams are flushed here. Under a profiler or a
    coverage tracer it leaves the ordinary way, so they can write their results."""
    try:
        main()
        code: Any = 0
    except SystemExit as done:
        code = done.code
    except Exception as err:  # outside a check: exit 3, one line, no traceback
        code = internal_error(err)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): what Python itself would do
        print(code, file=sys.stderr)
        code = 1
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its results on the way out
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if code == 0:
                code = 1  # the output did not all get written (a closed pipe, a full disk)
    os._exit(code)
