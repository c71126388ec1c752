"""Do the fixes of `archreview fix --diff` apply, and do they fix what they say, on a corpus?

    python bench/fix_corpus.py [CORPUS_DIR] [--limit N] [--unsafe] [--auditor] [--json]

For every folder of the corpus (default: ../shared/corpora/serverless-patterns; each folder is
one repository), in name order: scan it as `archreview fix --diff` does (its own profile; safe
fixes, `--unsafe` all; `--auditor`: the findings of every persona), make the patch, then in a temporary copy of the folder check it with
`git apply --check`, apply it, scan the copy again and compare. Counted:

- templates: templates scanned; patches: files the patch changes; fixes: findings with a fix
  in the patch;
- applied: files whose patch git applies; clean: fixes whose finding (by fingerprint) is gone
  on the re-scan;
- follow-ups: findings a fix revealed that their rule held back until then (`follow_up`:
  AR-DBS-002's pedantic deletion-protection variant, seen with `--auditor`);
- failures: each folder where a patch does not apply, a fixed finding is still there, or
  another finding appeared or disappeared, with the reason.

Nothing is written to the corpus. `--limit N` stops after N folders (a sample: the test
tests/test_fixes_corpus.py runs one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewer.cli.fix import run_fixes  # noqa: E402
from reviewer.core.types import Finding, Persona  # noqa: E402
from reviewer.profile.loader import ProfileError, resolve_profile  # noqa: E402
from reviewer.runner.engine import ScanOptions, scan  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "serverless-patterns"


@dataclass
class Counts:
    folders: int = 0
    templates: int = 0
    patches: int = 0
    fixes: int = 0
    applied: int = 0
    clean: int = 0
    follow_ups: int = 0  # findings a fix revealed that its rule held back (see follow_up)
    by_rule: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _scan(folder: Path, persona: Persona | None = None) -> tuple[list[Finding], int]:
    try:
        profile = resolve_profile(folder, None)
    except ProfileError:
        options = ScanOptions(persona=persona)
    else:
        options = ScanOptions(profile=profile, persona=persona)
    report = scan(folder, options)
    return list(report.findings), report.files.templates


def follow_up(found: Finding, fixed: list[Finding]) -> bool:
    """The one finding a fix may reveal (tests/test_fixes_rules.py says the same): AR-DBS-002's
    pedantic variant, which asks a table kept by its policies for DeletionProtectionEnabled
    too; the check says it only once the policies keep the table."""
    return (
        found.rule_id == "AR-DBS-002"
        and found.persona is Persona.PEDANTIC
        and "DeletionProtectionEnabled" in found.message
        and any(f.rule_id == "AR-DBS-002" and f.resource == found.resource for f in fixed)
    )


def _keys(findings: Iterable[Finding]) -> set[tuple[str, str]]:
    return {(f.rule_id, f.fingerprint) for f in findings if f.suppressed is None}


def check_folder(
    folder: Path, counts: Counts, unsafe: bool = False, persona: Persona | None = None
) -> None:
    """Scan, patch a copy, re-scan; add to `counts`."""
    templates = 0

    def scan_once() -> list[Finding]:
        nonlocal templates
        findings, templates = _scan(folder, persona)
        return findings

    outcome, before = run_fixes(folder, scan_once, unsafe=unsafe, rules=(), diff=True)
    counts.templates += templates
    if not outcome.diffs:
        return
    patch = "".join(outcome.diffs)
    counts.patches += len(outcome.diffs)
    counts.fixes += len(outcome.fixed)
    targeted = _keys(outcome.fixed)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy, symlinks=True)
        patch_file = Path(tmp) / "fix.patch"
        patch_file.write_bytes(patch.encode("utf-8"))
        check = subprocess.run(
            ["git", "apply", "--check", "--unsafe-paths", "-p1", str(patch_file)],
            cwd=copy,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check.returncode != 0:
            counts.failures.append((folder.name, "does not apply: " + check.stderr.strip()[:300]))
            return
        subprocess.run(["git", "apply", "-p1", str(patch_file)], cwd=copy, check=True, timeout=60)
        counts.applied += len(outcome.diffs)
        after, _ = _scan(copy, persona)
    left = _keys(after) & targeted
    others_before = _keys(before) - targeted
    others_after = _keys(after) - targeted
    for f in outcome.fixed:
        counts.by_rule[f.rule_id] = counts.by_rule.get(f.rule_id, 0) + 1
    if left:
        counts.failures.append((folder.name, f"still found after the fix: {sorted(left)}"))
    revealed = {
        (f.rule_id, f.fingerprint)
        for f in after
        if (f.rule_id, f.fingerprint) in others_after - others_before
        and follow_up(f, outcome.fixed)
    }
    counts.follow_ups += len(revealed)
    others_after -= revealed
    if others_before != others_after:
        gone = sorted(others_before - others_after)
        new = sorted(others_after - others_before)
        counts.failures.append((folder.name, f"other findings changed: gone {gone}, new {new}"))
    counts.clean += len(targeted - left)


def run(
    corpus: Path, limit: int | None = None, unsafe: bool = False, persona: Persona | None = None
) -> Counts:
    counts = Counts()
    start = time.perf_counter()
    folders = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.is_symlink())
    for folder in folders[:limit] if limit is not None else folders:
        counts.folders += 1
        try:
            check_folder(folder, counts, unsafe, persona)
        except Exception as err:  # a bench reports, it does not stop
            counts.failures.append((folder.name, f"{type(err).__name__}: {err}"))
    counts.seconds = time.perf_counter() - start
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--unsafe", action="store_true", help="unsafe fixes too")
    parser.add_argument(
        "--auditor", action="store_true", help="every persona's findings (not only regular)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = run(args.corpus, args.limit, args.unsafe, Persona.AUDITOR if args.auditor else None)
    if args.json:
        print(json.dumps(counts.__dict__, indent=2, sort_keys=True))
    else:
        print(
            f"folders {counts.folders}, templates {counts.templates}, patches {counts.patches} "
            f"(fixes {counts.fixes}), applied {counts.applied}, clean {counts.clean}, "
            f"follow-ups {counts.follow_ups}, failures {len(counts.failures)}, "
            f"{counts.seconds:.0f} s"
        )
        for rule, n in sorted(counts.by_rule.items()):
            print(f"  {rule}: {n}")
        for name, why in counts.failures:
            print(f"  FAIL {name}: {why}")
    return 0 if not counts.failures else 1


if __name__ == "__main__":
    sys.exit(main())
