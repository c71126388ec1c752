"""`archreview fix PATH`: apply the fixes of the findings in PATH, then say what remains.

Safe fixes by default (`--unsafe` adds those that change what users or callers experience),
`--rule` limits them, `--diff` prints them as a unified diff (`git apply` / `patch -p1` read it)
and writes nothing. A file is written atomically, reached without following a link below PATH,
and only when its bytes are still those the scan read (each edit carries the lines it replaces);
fixes of one file that touch the same lines are applied one per round, and the repository is
scanned again after each round (at most `ROUNDS`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from reviewer.core.fixes import Edit, Safety
from reviewer.core.types import Finding

ROUNDS = 3  # scans that apply fixes; a fix left by an overlap waits for the next round


@dataclass
class FileChange:
    """The fixes chosen for one file, and the text they make."""

    file: str
    data: bytes  # the bytes the fixes were planned on
    before: str
    after: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Outcome:
    fixed: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why)
    diffs: list[str] = field(default_factory=list)


def wanted(findings: Iterable[Finding], *, unsafe: bool, rules: Sequence[str]) -> list[Finding]:
    """The findings whose fix is to be applied (unsuppressed, of the chosen rules and safety)."""
    out: list[Finding] = []
    for f in findings:
        if f.fix is None or not f.fix.edits or f.suppressed is not None:
            continue
        if rules and f.rule_id not in rules:
            continue
        if f.fix.safety is Safety.UNSAFE and not unsafe:
            continue
        out.append(f)
    return out


def _lines_span(edit: Edit) -> tuple[int, int]:
    return edit.line, max(edit.end_line, edit.line)


def _overlaps(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    """Edits that touch a common line (two insertions at one place count: their order would
    be a guess)."""
    for x in a:
        for y in b:
            (x0, x1), (y0, y1) = _lines_span(x), _lines_span(y)
            if x0 <= y1 and y0 <= x1:
                return True
    return False


def _still_scanned(source_text: str, edits: Sequence[Edit]) -> bool:
    """Every edit's `original` (the lines as scanned) is what the file holds now (with the
    fix's file digest, a second look at the lines the edits replace)."""
    lines = source_text.split("\n")
    for e in edits:
        if e.original is None:
            return False
        if "\n".join(lines[e.line - 1 : e.end_line]) != e.original:
            return False
    return True


def plan_changes(
    root: Path, findings: list[Finding], outcome: Outcome
) -> tuple[list[FileChange], int]:
    """Per file, the fixes that can be applied together; returns them and how many fixes
    wait for another round (they touch lines another fix of this round changes)."""
    from reviewer.decode.load import decode
    from reviewer.fixes import SourceError, apply_edits, read_source

    by_file: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        by_file.setdefault(f.file, []).append(f)
    changes: list[FileChange] = []
    waiting = 0
    for file, group in by_file.items():
        try:
            source = read_source(root, file)
        except SourceError as err:
            outcome.skipped.extend((f, str(err)) for f in group)
            continue
        chosen: list[Finding] = []
        edits: list[Edit] = []
        seen: set[tuple[Edit, ...]] = set()
        for f in group:
            assert f.fix is not None
            own = f.fix.edits
            if own in seen:  # the same change for two findings (one root cause)
                chosen.append(f)
                continue
            if f.fix.file_sha256 != source.digest or not _still_scanned(source.text, own):
                outcome.skipped.append((f, "the file changed since the scan"))
                continue
            if _overlaps(edits, own):
                waiting += 1
                continue
            seen.add(own)
            chosen.append(f)
            edits.extend(own)
        if not edits:
            continue
        after = apply_edits(source.raw, edits)
        text = after[1:] if after.startswith("\ufeff") else after
        _tree, problems = decode(text.replace("\r\n", "\n"), json_first=file.endswith(".json"))
        if problems:
            outcome.skipped.extend((f, "the fixes together do not decode") for f in chosen)
            continue
        changes.append(FileChange(file, source.data, source.raw, after, chosen))
    return changes, waiting


def write_change(root: Path, change: FileChange) -> None:
    """Replace the file atomically, below `root` without following a link, when its bytes
    are still those the fixes were planned on. Raises OSError or safefs.UnsafePath."""
    from reviewer.core import safefs

    parts = [p for p in change.file.split("/") if p]
    anchor = safefs.open_anchor(os.fspath(root))
    try:
        folder = safefs.open_dir(anchor, parts[:-1]) if len(parts) > 1 else os.dup(anchor)
        try:
            name = parts[-1]
            st = safefs.lstat_at(folder, name)
            if st is None:
                raise FileNotFoundError(change.file)
            current = safefs.read_file_at(folder, name, max_bytes=max(len(change.data), 1) * 2)
            if current != change.data:
                raise safefs.UnsafePath(change.file, "changed since the scan")
            safefs.write_file_at(
                folder, name, change.after.encode("utf-8"), mode=st.st_mode & 0o7777
            )
        finally:
            os.close(folder)
    finally:
        os.close(anchor)


def run_fixes(
    root: Path,
    scan_once: Callable[[], list[Finding]],
    *,
    unsafe: bool,
    rules: Sequence[str],
    diff: bool,
) -> tuple[Outcome, list[Finding]]:
    """Apply (or, with `diff`, show) the fixes; returns the outcome and the findings of the
    last scan (what remains)."""
    from reviewer.core import safefs
    from reviewer.fixes.text import unified_diff

    outcome = Outcome()
    findings = scan_once()
    for _ in range(1 if diff else ROUNDS):
        chosen = wanted(findings, unsafe=unsafe, rules=rules)
        if not chosen:
            break
        changes, waiting = plan_changes(root, chosen, outcome)
        if diff:
            outcome.diffs.extend(unified_diff(c.file, c.before, c.after) for c in changes)
            outcome.fixed.extend(f for c in changes for f in c.findings)
            break
        for change in changes:
            try:
                write_change(root, change)
            except (OSError, safefs.UnsafePath) as err:
                why = err.reason if isinstance(err, safefs.UnsafePath) else str(err)
                outcome.skipped.extend((f, f"not written: {why}") for f in change.findings)
                continue
            outcome.fixed.extend(change.findings)
        findings = scan_once()
        if not waiting or not changes:
            break
    return outcome, findings


def _shown_diff(text: str) -> str:
    """A diff for a terminal: control characters of the repository's text escaped (a piped
    diff is written exactly, for git apply)."""
    from reviewer.core.typed import escape_line

    return "".join(escape_line(line, 100_000) + "\n" for line in text.split("\n")[:-1])


@click.command("fix")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--unsafe",
    is_flag=True,
    help="Also apply the fixes that change what users or callers experience.",
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; write nothing."
)
@click.option(
    "--rule", "rules", multiple=True, metavar="ID", help="Only the fixes of this rule (repeatable)."
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Declared architecture: .archreview.yml or an agent definition (*.md).",
)
def fix(
    path: Path, unsafe: bool, show_diff: bool, rules: tuple[str, ...], profile_path: str | None
) -> None:
    """Apply the safe fixes of the findings in PATH (--unsafe: all), then scan again and say
    what was fixed and what remains. Exit 3 when a fix could not be written (the file changed
    since the scan, a link, a write error); 2 on a usage error."""
    from reviewer.checks.catalogue import load_catalogue
    from reviewer.cli.main import EXIT_FAILED, UsageError
    from reviewer.core.typed import escape_line
    from reviewer.profile.loader import ProfileError, resolve_profile
    from reviewer.runner.engine import ScanError, ScanOptions, scan

    if not path.is_dir():
        raise UsageError(f"{escape_line(str(path))} is not a directory")
    catalogue = load_catalogue()
    unknown = [r for r in rules if r not in catalogue]
    if unknown:
        raise UsageError(f"--rule {escape_line(unknown[0], 60)}: no such rule")
    try:
        profile = resolve_profile(path, profile_path)
    except ProfileError as err:
        raise UsageError(f"profile error: {escape_line(str(err), 2000)}") from None

    def scan_once() -> list[Finding]:
        return list(scan(path, ScanOptions(profile=profile)).findings)

    try:
        outcome, remaining = run_fixes(path, scan_once, unsafe=unsafe, rules=rules, diff=show_diff)
    except ScanError as err:
        click.echo(f"archreview: scan failed: {escape_line(str(err))}", err=True)
        sys.exit(EXIT_FAILED)
    if show_diff:
        text = "".join(outcome.diffs)
        click.echo(_shown_diff(text) if sys.stdout.isatty() else text, nl=False)
    out = sys.stderr if show_diff else sys.stdout
    verb = "would be fixed" if show_diff else "fixed"
    for f in outcome.fixed:
        action = "would fix" if show_diff else "fixed"
        line = f"{action} {f.file}:{f.line} {f.rule_id} {f.resource or ''}".rstrip()
        print(escape_line(line), file=out)
    for f, why in outcome.skipped:
        print(escape_line(f"not fixed {f.file}:{f.line} {f.rule_id}: {why}"), file=out)
    left = wanted(remaining, unsafe=True, rules=rules)
    safe_left = [f for f in left if f.fix is not None and f.fix.safety is Safety.SAFE]
    open_findings = [f for f in remaining if f.suppressed is None]
    left_count = len(open_findings) - (len(outcome.fixed) if show_diff else 0)
    summary = f"{len(outcome.fixed)} finding(s) {verb}; {left_count} finding(s) remain"
    if not show_diff:
        extra = []
        if safe_left:
            extra.append(f"{len(safe_left)} with a safe fix not applied")
        if len(left) > len(safe_left) and not unsafe:
            extra.append(f"{len(left) - len(safe_left)} with an unsafe fix (--unsafe applies them)")
        if extra:
            summary += " (" + ", ".join(extra) + ")"
    print(summary, file=out)
    if outcome.skipped and not show_diff:
        sys.exit(EXIT_FAILED)
