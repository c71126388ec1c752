"""Command line: options -> ScanOptions -> Report -> formatters. No analysis here."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import click

from reviewer.core.types import Confidence, Report, Severity

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
    if len(plain) > 1 and len(fmts) == 1:
        raise UsageError(
            f"{len(plain)} --output files for one format; give one, or one --format and one "
            "--output FORMAT=FILE for each file"
        )
    if plain and len(fmts) > 1:
        raise UsageError(
            "several formats cannot share one --output file; "
            + _one_file_each(fmts, {fmts[0]: plain[0], **mapped})
        )
    result: list[tuple[str, str | None]] = []
    for fmt in fmts:
        result.append((fmt, mapped.get(fmt, plain[0] if plain else None)))
    for name in mapped:
        if name not in fmts:
            result.append((name, mapped[name]))
    to_stdout = [fmt for fmt, target in result if target is None or target == "-"]
    if len(to_stdout) > 1:  # two documents glued together on stdout are neither
        raise UsageError(
            f"{' and '.join(to_stdout)} would both be written to stdout; "
            + _one_file_each(to_stdout, {})
        )
    return result


# the file name suggested for each format in a usage message
_SUGGESTED_FILE = {
    "text": "report.txt",
    "json": "report.json",
    "sarif": "report.sarif",
    "markdown": "report.md",
    "html": "report.html",
    "junit": "report.xml",
}


def _one_file_each(fmts: list[str], mapped: dict[str, str]) -> str:
    """The fix for several formats aimed at one place: 'give each format its own file:
    --output json=report.json --output html=report.html'."""
    fixes = [
        f"--output {fmt}={mapped.get(fmt) or _SUGGESTED_FILE.get(fmt, 'report.' + fmt)}"
        for fmt in fmts
    ]
    return "give each format its own file: " + " ".join(fixes)


def _known_formats() -> tuple[str, ...]:
    from reviewer.outputs import FORMATS

    return FORMATS


def _load_parameters(path: str | None) -> dict[str, Any]:
    """Parameter values from a JSON or YAML file: ``{Name: value}``, ``{Parameters: {...}}`` or
    the CloudFormation CLI's ``[{ParameterKey, ParameterValue}]``. Read typed: a string value
    is its text as written (``on``, ``2030-13-01``); a wrong shape exits 2 with file:line:col."""
    if path is None:
        return {}
    from reviewer.core.typed import InputError, escape_line, parameters_from_text

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
    from reviewer.core.typed import escape_line
    from reviewer.findings.suppress import read_baseline

    try:
        return read_baseline(Path(path))
    except ValueError as err:
        raise UsageError(escape_line(str(err), 2000)) from None


def _use_color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def exit_code(report: Report, fail_on: str, *, fail_on_incomplete: bool = False) -> int:
    """EXIT_FINDINGS when a finding is at or above `fail_on` (in PR mode: a new one) other
    than one saying something was not reviewed, or with `fail_on_incomplete` when something
    was not reviewed (reviewer.github.prmode.not_reviewed, new or
    not: what was not reviewed is not reviewed now); else EXIT_OK."""
    if fail_on_incomplete:
        from reviewer.github.prmode import not_reviewed

        if not_reviewed(report.findings):
            return EXIT_FINDINGS
    if fail_on == "never":
        return EXIT_OK
    from reviewer.scores.scoring import UNWEIGHED_RULES

    threshold = Severity(fail_on).rank
    pr_mode = report.diff_base is not None
    for f in report.findings:
        if f.suppressed is not None:
            continue
        if f.rule_id in UNWEIGHED_RULES:
            continue  # "not reviewed" (AR-MOD-001/005/006) gates only with --fail-on-incomplete
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

    def invoke(self, ctx: click.Context) -> Any:
        """A repository's rule file with an error (reviewer.checks.custom) exits 2 with
        `file:line: message (did you mean ...?)`, whichever command read it."""
        try:
            return super().invoke(ctx)
        except Exception as err:
            from reviewer.discover.rulefiles import RuleFileError

            if not isinstance(err, RuleFileError):
                raise
            from reviewer.core.typed import escape_line

            raise UsageError(f"rule file error: {escape_line(str(err), 2000)}") from None

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The description, then the two commands a new user needs (before the options and
        the command list)."""
        super().format_help_text(ctx, formatter)
        with formatter.section("Start here"):
            formatter.write_dl(START_HERE)


# `archreview --help` (and `archreview` alone): what to run first, in the order a user needs it.
START_HERE: tuple[tuple[str, str], ...] = (
    ("archreview scan PATH", "review the repository checked out at PATH"),
    (
        "archreview init PATH",
        "write PATH/.archreview.yml: the architecture the repository declares, which scan "
        "holds it to",
    ),
)


class _SectionedCommand(click.Command):
    """A command whose --help lists its options in titled sections and ends with examples.
    An option no section names is listed under "Other options", never left out."""

    def __init__(
        self,
        *args: Any,
        sections: tuple[tuple[str, tuple[str, ...]], ...] = (),
        examples: tuple[tuple[str, str], ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sections = sections  # (title, parameter names)
        self.examples = examples  # (what it does, the command)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records: dict[str, tuple[str, str]] = {}
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):  # PATH is in the usage line
                continue
            record = param.get_help_record(ctx)
            if record is not None and param.name is not None:
                records[param.name] = record
        grouped = [
            (title, [records[name] for name in names if name in records])
            for title, names in self.sections
        ]
        placed = {name for _, names in self.sections for name in names}
        grouped.append(("Other options", [r for n, r in records.items() if n not in placed]))
        # one column for the option names across every section (click's own limit, 30)
        width = min(30, max((len(term) for _, rows in grouped for term, _ in rows), default=0))
        for title, rows in grouped:
            if rows:
                with formatter.section(title):
                    formatter.write_dl(
                        [(term.ljust(width) if text else term, text) for term, text in rows]
                    )

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.examples:
            with formatter.section("Examples"):
                for what, command in self.examples:
                    formatter.write_text(what)
                    for line in command.split("\n"):  # as written: a command is not rewrapped
                        formatter.write(f"{'':>{formatter.current_indent + 2}}{line}\n")
        super().format_epilog(ctx, formatter)


# `archreview scan --help`: its options by what they are for (parameter names), and examples.
SCAN_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Output", ("formats", "outputs", "quiet", "verbose", "min_confidence")),
    ("SARIF for code scanning", ("sarif_category", "sarif_include_suppressed")),
    (
        "Gate (the exit code)",
        ("fail_on", "fail_on_incomplete", "baseline_path", "write_baseline", "no_ignores"),
    ),
    ("Profile and personas", ("profile_path", "persona")),
    ("What is read", ("excludes", "parameters_path", "sam_env", "max_file_size")),
    ("PR mode", ("diff_base", "base_profile")),
    ("Cache and speed", ("jobs", "cache_dir", "no_cache")),
    ("Live AWS", ("aws_live", "regions", "stack_names", "aws_profile")),
)
SCAN_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Review the repository you are in; the report goes to the terminal:", "archreview scan ."),
    (
        "One HTML file to open in a browser, and the JSON for other tools:",
        "archreview scan . --format html --output html=report.html \\\n"
        "    --format json --output json=report.json",
    ),
    (
        "In CI on a pull request: exit 1 on a new high or critical finding:",
        "archreview scan . --diff-base origin/main --fail-on high",
    ),
)


_VERBOSE = "archreview.verbose"  # key in the root context's meta: set by --verbose


def _set_verbose(ctx: click.Context, value: bool) -> None:
    if value:
        ctx.find_root().meta[_VERBOSE] = True


def verbose() -> bool:
    """True when --verbose was given, before the command (`archreview --verbose scan`) or
    after it (`archreview scan PATH --verbose`). Kept in the invocation's context, so one
    run's flag never leaks into the next in the same process."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(_VERBOSE))


# --verbose on the group and on each command that says more with it (see verbose()).
verbose_option = click.option(
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _set_verbose(ctx, value),
    help="More detail on stderr: every warning of a kind instead of one line per kind.",
)


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
@verbose_option
def main() -> None:
    """Review the architecture of a multi-module AWS repository."""


_DEBUG = [False]  # set by --debug on the command line


def _set_debug(value: bool) -> None:
    if value:
        _DEBUG[0] = True


def _debugging() -> bool:
    return _DEBUG[0] or os.environ.get("ARCHREVIEW_DEBUG", "").strip() == "1"


@main.command(
    cls=_SectionedCommand,
    sections=SCAN_SECTIONS,
    examples=SCAN_EXAMPLES,
    short_help="Review the repository checked out at PATH.",
)
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@verbose_option
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
    help="Output format (repeatable): text for a terminal (the default), json, sarif (code "
    "scanning), markdown (a PR comment), html (one file for a browser), junit.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE|FORMAT=FILE",
    help="Where to write (default stdout). With several formats, one FORMAT=FILE each: only "
    "one format can go to stdout.",
)
@click.option(
    "--quiet", is_flag=True, help="Findings only: no progress bar, score summary or stderr note."
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when a reported finding is at or above this severity (with --diff-base: a "
    "new one).",
)
@click.option(
    "--fail-on-incomplete",
    is_flag=True,
    help="Also exit 1 when something was not reviewed: a module not checked out (AR-MOD-001), "
    "a crashed check (AR-MOD-005), a file skipped or over a budget (AR-MOD-006).",
)
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
    help="Leave findings below this confidence out of the outputs and the gate (scores keep them).",
)
@click.option(
    "--parameters",
    "parameters_path",
    type=click.Path(dir_okay=False),
    help="Parameter values (JSON/YAML map).",
)
@click.option(
    "--sam-env", metavar="NAME", help="samconfig.toml environment whose parameter_overrides apply."
)
@click.option(
    "--max-file-size",
    type=int,
    default=5_000_000,
    show_default=True,
    metavar="BYTES",
    help="Larger files are not reviewed (an AR-MOD-006 finding says so).",
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
    metavar="N",
    help="Processes for loading templates and running local checks (default 0: one per CPU, "
    "at most 8).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Content-hash cache folder (default: one per checkout in the user's cache, "
    "$XDG_CACHE_HOME/archreview/trees/).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--diff-base",
    metavar="GIT_REF",
    help="Also review the tree at GIT_REF and mark each finding new or existing; --fail-on "
    "then counts new findings only.",
)
@click.option(
    "--base-profile",
    is_flag=True,
    help="With --diff-base: judge with GIT_REF's review inputs (profile or agent definition, "
    "baseline), so that a pull request cannot switch its own review off.",
)
@click.option(
    "--sarif-category",
    default="archreview",
    metavar="ID",
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
    metavar="REGION",
    help="AWS region for --aws (repeatable; default: the profile's or AWS_REGION).",
)
@click.option(
    "--stack",
    "stack_names",
    multiple=True,
    metavar="NAME",
    help="Only this deployed stack for --aws (repeatable; default: every live stack).",
)
@click.option(
    "--aws-profile",
    metavar="NAME",
    help="Named AWS profile for --aws (default: the standard credential chain).",
)
def scan(
    path: Path,
    profile_path: str | None,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    quiet: bool,
    fail_on: str,
    fail_on_incomplete: bool,
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
    base_profile: bool,
    sarif_category: str,
    sarif_include_suppressed: bool,
    aws_live: bool,
    regions: tuple[str, ...],
    stack_names: tuple[str, ...],
    aws_profile: str | None,
) -> None:
    """Review the repository checked out at PATH: its CloudFormation/SAM templates, go.mod
    and package.json files, against the architecture it declares (--profile FILE, else
    PATH/.archreview.yml, else an agent definition committed in it, else the built-in
    baseline)."""
    import gc

    gc.disable()  # a short-lived process making millions of objects: no cyclic collections
    from reviewer.outputs import RenderOptions, renderer, streamer

    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    targets = _parse_outputs(formats, outputs)
    if base_profile and diff_base is None:
        raise UsageError("--base-profile needs --diff-base (it judges with that ref's inputs)")
    for fmt, _ in targets:
        if fmt not in _known_formats():
            raise UsageError(f"--format {fmt} is not available in this version")
    profile = cli_profile(profile_path, path, exclude=excludes)
    if (
        verbose()
    ):  # what discovery leaves out and why (reviewer.discover.inventory.GENERATED_DIRS ...)
        from reviewer.core.typed import escape_line
        from reviewer.discover.inventory import discover, left_out_lines
        from reviewer.outputs.inert import neutralise

        walked = discover(path, max_bytes=max_file_size, exclude=profile.exclude_paths)
        for line in left_out_lines(walked):
            click.echo(neutralise(f"archreview: left out {escape_line(line, 2000)}"), err=True)
    aws_options: Any = None
    aws_errors: tuple[type[Exception], ...] = ()
    if aws_live:  # boto3 is imported only here, and only by reviewer.aws.live
        from reviewer.aws.live import AwsOptions, AwsUsageError

        aws_options = AwsOptions(regions=regions, stacks=stack_names, profile=aws_profile)
        aws_errors = (AwsUsageError,)
    elif regions or stack_names or aws_profile:
        raise UsageError("--region, --stack and --aws-profile need --aws")
    from reviewer.cli.progress import progress_for

    bar = progress_for(sys.stderr, quiet=quiet)  # only on a terminal, only for long scans
    parameters = _load_parameters(parameters_path)
    baseline = _load_baseline(baseline_path)
    cache_folder = _cache_folder(path, cache_dir, no_cache)
    replay = (
        None  # the outputs of an earlier run that read exactly the same (reviewer.cache.replay)
    )
    custom_rules = _custom_rules_digest(path, profile)
    if (
        diff_base is None
        and not write_baseline
        and aws_options is None
        and cache_folder
        and custom_rules is not None
    ):
        from reviewer.cache.replay import Replay  # before the engine is imported: a hit needs none

        output_settings = (
            targets,
            min_confidence,
            (fail_on, fail_on_incomplete),
            quiet,
            sarif_category,
        )
        replay = Replay.open(
            path,
            cache_folder,
            profile,
            (parameters, sam_env, max_file_size, no_ignores, baseline, persona),
            (*output_settings, sarif_include_suppressed, _use_color(sys.stdout), custom_rules),
        )
        code = replay.play(lambda p, text: _write_output(p, text, path)) if replay else None
        if code is not None:
            if bar is not None:
                bar.close()
            if not quiet:
                say_profile(profile)
            sys.exit(code)
    from reviewer.core.types import Persona
    from reviewer.runner.engine import ScanError, ScanOptions, filter_report
    from reviewer.runner.engine import scan as run_scan

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
        from reviewer.github.prmode import DiffBaseError, GitError, ReviewInputs, compare_with_base

        review_inputs = ReviewInputs(profile_path, excludes, baseline_path, base_profile)
        try:
            report, pr_warnings = compare_with_base(path, diff_base, options, report, review_inputs)
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
        from reviewer.core.clock import today
        from reviewer.findings.suppress import baseline_text

        _write_output(Path(write_baseline), baseline_text(report.findings, today()), path)
    shown = filter_report(report, Confidence(min_confidence))
    from reviewer.outputs.inert import set_stdout_style

    for fmt, target in targets:
        stream = sys.stdout if target is None or target == "-" else None
        if stream is not None:
            set_stdout_style(fmt)  # under GitHub Actions: JSON/SARIF/JUnit values stay exact
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
            from reviewer.outputs.text import render_text

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
    # on stderr unless the text report on stdout opens with it already (or --quiet: no note)
    said = quiet or any(f == "text" and t in (None, "-") for f, t in targets)
    nothing = None if said else nothing_found_line(shown, path)
    if nothing is not None:
        click.echo(nothing, err=True)
        if replay is not None:
            replay.stderr.append(nothing)
    if not quiet and any(t is not None for _, t in targets):
        score = shown.score
        summary = (
            f"archreview: grade {score.grade or '-'} ({score.score if score.score is not None else 'n/a'}), "
            f"{len(shown.unsuppressed)} findings"
        )
        click.echo(summary, err=True)
        if replay is not None:
            replay.stderr.append(summary)
    code = exit_code(shown, fail_on, fail_on_incomplete=fail_on_incomplete)
    if replay is not None:
        replay.save(code)
    sys.exit(code)


def _print_version(ctx: click.Context) -> None:
    from reviewer.core.version import version  # looked up only when asked for

    click.echo(f"archreview, version {version()}")
    ctx.exit()


def _custom_rules_digest(path: Path, profile: Any) -> str | None:
    """The digest of the repository's own rule files (reviewer.checks.custom), which the
    output replay must key on (their contents are not in the tree's listing); None when they
    cannot be read (the scan reports why, and nothing is replayed). Only the files are read:
    the rule language and the checks are not imported, so that a replayed scan needs neither."""
    from reviewer.discover.rulefiles import rules_digest

    try:
        return rules_digest(Path(path), tuple(getattr(profile, "custom_rules", ())))
    except Exception:
        return None


def _default_jobs() -> int:
    from reviewer.runner.pipeline import jobs_default

    return jobs_default()


def cli_profile(
    profile_path: str | None, root: Path, *, warn: bool = True, exclude: tuple[str, ...] = ()
) -> Any:
    """The declared architecture (reviewer.profile.loader.resolve_profile): --profile (a
    .archreview.yml, or an agent definition *.md whose unmapped keys only warn), else
    .archreview.yml at the scanned root, else an agent definition committed in the repository,
    else the built-in baseline; `exclude` (--exclude) adds to its `exclude:`. A profile that
    cannot be used exits 2 with file:line. Warnings go to stderr (with `warn`)."""
    from dataclasses import replace

    from reviewer.core.typed import escape_line  # repository text in a message: one inert line
    from reviewer.profile.loader import ProfileError, resolve_profile

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
    if warn and profile.warnings:
        from reviewer.profile.agent import (
            grouped_warnings,  # an agent definition's mojibake: one line
        )

        for message in grouped_warnings(profile.warnings, verbose=verbose()):
            click.echo(f"archreview: warning: {escape_line(message, 2000)}", err=True)
    return profile


def say_profile(profile: Any) -> None:
    """On stderr: where the declared architecture came from, and the upgrade notice when the
    repository declares nothing (each once per run)."""
    from reviewer.core.typed import escape_line

    click.echo(f"archreview: {escape_line(profile_line(profile), 2000)}", err=True)
    if profile.notice:
        click.echo(f"archreview: {profile.notice}", err=True)


def nothing_found_line(report: Report, path: Path) -> str | None:
    """The stderr line of a scan that found nothing to review (reviewer.outputs.insights
    .nothing_to_review), naming PATH and what archreview looks for; None otherwise."""
    from reviewer.core.typed import escape_line
    from reviewer.outputs.insights import LOOKS_FOR, nothing_to_review

    if not nothing_to_review(report):
        return None
    skipped = report.files.skipped
    also = f"; {skipped} file{'s' if skipped != 1 else ''} skipped" if skipped else ""
    return (
        f"archreview: found nothing to review in {escape_line(str(path), 2000)}: no "
        f"CloudFormation/SAM template, go.mod or package.json{also} (it looks for {LOOKS_FOR})"
    )


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
    from reviewer.cache.store import default_cache_dir

    return default_cache_dir(path)


def _write_output(
    path: Path, payload: str | Callable[[Callable[[str], object]], None], tree: Path
) -> None:
    """Write a file the user named (reviewer.core.safefs.write_user_file: atomic for a regular file,
    written in place for /dev/null, a FIFO or a link outside the scanned `tree`, no link
    followed inside it). A failure is one line on stderr: exit 2 when the path cannot be used
    (a folder, a link inside the tree, no permission), 3 when the write failed (a full disk)."""
    from reviewer.core.safefs import WriteError, write_user_file

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


@main.command()
@click.argument("rule_id")
@click.option(
    "--path",
    "repo",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="The repository whose own rules (.archreview/rules/) may hold RULE_ID.",
)
def explain(rule_id: str, repo: Path) -> None:
    """The full rule text and ADR template."""
    from reviewer.checks.catalogue import load_catalogue
    from reviewer.outputs.explain import render_explain

    catalogue = load_catalogue()
    meta = catalogue.get(rule_id.upper())
    if meta is None and repo.is_dir():
        from reviewer.checks.custom import load_custom_rules
        from reviewer.core.typed import escape_line

        custom = load_custom_rules(repo, cli_profile(None, repo, warn=False))
        meta = custom.metas.get(rule_id)
        if meta is not None:  # repository text: every line made inert for the terminal
            text = render_explain(meta)
            click.echo("\n".join(escape_line(line, 4000) for line in text.split("\n")), nl=False)
            return
    if meta is None:
        raise UsageError(f"unknown rule {rule_id}; see `archreview rules`")
    click.echo(render_explain(meta), nl=False)


@main.command(short_help="Write PATH/.archreview.yml: the architecture the repository declares.")
@click.argument(
    "path", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--from-agent",
    "agent_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write what this agent definition (Markdown with YAML front matter) declares.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing profile.")
@verbose_option
def init(path: Path, agent_path: str | None, force: bool) -> None:
    """Write PATH/.archreview.yml (PATH: the current folder by default), the profile `scan
    PATH` reads. Without --from-agent it declares nothing (the built-in baseline) and documents
    every key, commented out. With --from-agent FILE it holds what that agent definition
    declares, each value citing its line, or `extends: chariot` for a definition of the
    Chariot preset's architecture. --verbose lists the whole mapping and every warning."""
    from reviewer.cli.profile_text import default_profile_text
    from reviewer.core.typed import escape_line
    from reviewer.profile.loader import PROFILE_FILENAMES

    if not path.is_dir():
        what = "is not a directory" if os.path.lexists(path) else "no such directory"
        raise UsageError(f"{escape_line(str(path), 500)}: {what}")
    present = [path / n for n in PROFILE_FILENAMES if os.path.lexists(path / n)]
    if present and not force:
        raise UsageError(
            f"{escape_line(str(present[0]), 500)} already exists; pass --force to overwrite it"
        )
    target = present[0] if present else path / PROFILE_FILENAMES[0]
    shown = escape_line(str(target), 500)
    if agent_path is None:
        _write_output(target, default_profile_text(), path)
        click.echo(
            f"archreview: wrote {shown}: it declares nothing (the built-in baseline) and "
            "documents every key, commented out; uncomment what your architecture declares"
        )
        click.echo(f"Next: {_scan_command(path)}")
        return
    from reviewer.profile.agent import (
        AgentError,
        agent_profile_text,
        grouped_warnings,
        init_report,
        profile_from_agent,
        read_agent,
    )

    try:
        found = Path(agent_path).is_file()
    except OSError as err:
        raise UsageError(f"--from-agent {agent_path}: {err.strerror or 'unreadable'}") from None
    if not found:
        raise UsageError(f"--from-agent {escape_line(agent_path, 500)}: no such file")
    try:
        reading = read_agent(agent_path)
    except AgentError as err:
        raise UsageError(f"agent definition error: {escape_line(str(err), 2000)}") from err
    profile = profile_from_agent(reading)
    mapping, warnings = init_report(reading, profile)
    for line in grouped_warnings(warnings, verbose=verbose()):
        click.echo(f"archreview: warning: {escape_line(line, 2000)}", err=True)
    if verbose():
        for line in mapping:
            click.echo(escape_line(line, 2000))
    else:
        click.echo(_mapping_line(reading))
    _write_output(target, agent_profile_text(reading, profile), path)
    for line in _written_lines(shown, reading, profile):
        click.echo(line)
    click.echo(f"Next: {_scan_command(path)}")


def _scan_command(path: Path) -> str:
    """The command that reviews PATH with the profile init wrote there."""
    import shlex

    from reviewer.core.typed import escape_line

    return f"archreview scan {escape_line(shlex.quote(str(path)), 500)}"


def _mapping_line(reading: Any) -> str:
    """init --from-agent without --verbose: the mapping in one line."""
    from reviewer.core.typed import escape_line

    parts = [f"{len(reading.declared_keys())} declared values mapped to profile keys"]
    if reading.unmapped:
        n = len(reading.unmapped)
        parts.append(f"{n} line{'s' if n != 1 else ''} not mapped")
    if reading.ignored_keys:
        n = len(reading.ignored_keys)
        parts.append(f"{n} agent setting{'s' if n != 1 else ''} ignored")
    return (
        f"archreview: read {escape_line(reading.file, 500)}: {', '.join(parts)} "
        "(--verbose lists the mapping)"
    )


def _written_lines(shown: str, reading: Any, profile: Any) -> list[str]:
    """What init --from-agent wrote, and one line for each documented addition or deviation
    of the preset it extends (reviewer.profile.PRESET_ADDITIONS)."""
    from reviewer.core.typed import escape_line
    from reviewer.profile import PRESET_ADDITIONS, SCHEMA_KEYS
    from reviewer.profile.document import FIELD_KEYS

    file = escape_line(Path(reading.file).name, 500)
    if profile.extends:
        additions = PRESET_ADDITIONS.get(profile.extends, ())
        changes = f", with the preset's {len(additions)} documented changes:" if additions else ""
        lines = [
            f"archreview: wrote {shown}: extends: {profile.extends} ({file} declares the "
            f"{profile.extends} preset's architecture){changes}"
        ]
        lines += [f"  - {FIELD_KEYS.get(key, key)}: {why}" for key, why in additions]
        return lines
    declared = len(profile.declared_keys())
    missing = sum(1 for k in SCHEMA_KEYS if not profile.declares(k))
    keys = f"{declared} key{'s' if declared != 1 else ''}"
    rest = ""
    if missing:
        what = f"the {missing} keys" if missing > 1 else "the one key"
        rest = f"; {what} it does not declare, at the end (rules that require one do not run)"
    return [f"archreview: wrote {shown}: the {keys} {file} declares, each citing its line{rest}"]


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
    from reviewer.profile.document import show_profile_text

    click.echo(show_profile_text(cli_profile(profile_path, path)), nl=False)


# -- commands defined in their own modules (one registration line each) --------------------
_Commands.lazy["adr"] = "reviewer.cli.adr:adr"  # archreview adr
_Commands.lazy["rules"] = "reviewer.cli.rules:rules"  # archreview rules [PATH], rules test
_Commands.lazy["fix"] = "reviewer.cli.fix:fix"  # archreview fix: apply the findings' fixes
_Commands.lazy["comment"] = "reviewer.cli.comment:comment"  # archreview comment
_Commands.lazy["pre-commit"] = "reviewer.cli.precommit:pre_commit"  # the pre-commit hook


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
    from reviewer.core.typed import escape_line

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
    from reviewer.outputs.inert import guard_standard_streams, release_standard_streams

    guard_standard_streams()  # under GitHub Actions: no line printed becomes a workflow command
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
    release_standard_streams()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its results on the way out
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if code == 0:
                code = 1  # the output did not all get written (a closed pipe, a full disk)
    os._exit(code)
