"""`archreview pre-commit [FILE]...`: the pre-commit hook. Review the whole tree, report only the
findings in the files of the commit.

Rules that look across files (an export and its importers, a nested stack and its parent, a
dependency pinned differently in two modules, a queue and the function that consumes it) are
only right when the whole tree is reviewed, so the hook always reviews all of it. What it shows
and what fails the commit is narrower: the findings located in the files being committed (or
with a related location there), so a commit is never blocked by findings it does not touch.

The files are the arguments (pre-commit passes the staged files its `files:` pattern selects,
and every file with `pre-commit run --all-files`); with none, the files staged in git's index
(`git diff --cached`, run with fixed arguments and hooks off, as in PR mode).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.core.types import Finding, Report

if TYPE_CHECKING:
    from reviewer.profile import Profile

EXIT_OK, EXIT_USAGE = 0, 2


class _Usage(click.ClickException):
    exit_code = EXIT_USAGE


def staged_files(root: Path) -> set[str]:
    """The paths staged in git's index (added, copied, modified, renamed, type changed) under
    `root`, relative to it with forward slashes."""
    from reviewer.github.prmode import GitError, git

    try:
        done = git(
            ["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMRT", "--relative"],
            root,
            check=True,
        )
    except (GitError, OSError) as err:
        raise _Usage(
            f"cannot list the staged files (is {root} in a git repository?): {err}"
        ) from None
    return {p.decode("utf-8", "surrogateescape") for p in done.stdout.split(b"\0") if p}


def relative_to_root(files: tuple[str, ...], root: Path) -> set[str]:
    """FILE arguments (relative to the working directory) as paths relative to `root`; files
    outside it are dropped."""
    base = Path(os.path.abspath(root))
    out: set[str] = set()
    for name in files:
        full = Path(os.path.abspath(name))
        try:
            out.add(full.relative_to(base).as_posix())
        except ValueError:
            continue
    return out


def in_files(finding: Finding, files: set[str]) -> bool:
    """Whether a finding is located in, or has a related location in, one of `files`."""
    return finding.file in files or any(loc.file in files for loc in finding.related)


def only_in(report: Report, files: set[str]) -> Report:
    """The report with only the findings of `files` (scores stay those of the whole tree)."""
    from dataclasses import replace

    return replace(report, findings=tuple(f for f in report.findings if in_files(f, files)))


def _profile(option: str | None, root: Path) -> Profile:
    """The declared architecture as `scan` finds it; one line and exit 2 when it is unusable."""
    from reviewer.core.typed import escape_line
    from reviewer.profile.loader import ProfileError, resolve_profile

    try:
        return resolve_profile(root, option)
    except (ProfileError, OSError) as err:
        raise _Usage(f"profile error: {escape_line(str(err), 2000)}") from None


@click.command("pre-commit")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--root",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, exists=True),
    help="The tree to review (the repository root pre-commit runs from).",
)
@click.option(
    "--profile", "profile_path", help="Declared architecture (default: as scan finds it)."
)
@click.option(
    "--persona",
    type=click.Choice(["regular", "pedantic", "auditor"]),
    help="What is worth saying (default: the profile's, else regular).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low", "info", "never"]),
    default="high",
    show_default=True,
    help="Fail on findings in these files at or above this severity.",
)
def pre_commit(
    files: tuple[str, ...],
    root: str,
    profile_path: str | None,
    persona: str | None,
    fail_on: str,
) -> None:
    """Review the whole tree; report only the findings in FILES (default: the staged files)."""
    from reviewer.cli.main import exit_code
    from reviewer.core.types import Persona
    from reviewer.outputs.text import render_text
    from reviewer.runner.engine import ScanOptions, scan

    where = Path(root)
    chosen = relative_to_root(files, where) if files else staged_files(where)
    profile = _profile(profile_path, where)
    options = ScanOptions(profile=profile, persona=Persona(persona) if persona else None)
    report = scan(where, options)
    shown = only_in(report, chosen)
    live = [f for f in shown.findings if f.suppressed is None]
    if live:
        click.echo(render_text(shown, color=False, summary=False), nl=False)
    others = sum(1 for f in report.findings if f.suppressed is None) - len(live)
    click.echo(
        f"archreview: {len(live)} finding{'s' if len(live) != 1 else ''} in the "
        f"{len(chosen)} file{'s' if len(chosen) != 1 else ''} of this commit"
        + (f" ({others} elsewhere in the tree, not shown)" if others else ""),
        err=True,
    )
    sys.exit(exit_code(shown, fail_on))
