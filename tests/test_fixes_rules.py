"""Every rule whose fix is safe (and every rule with unsafe fixes, applied with --unsafe), on
each of its failing fixtures (issue 22's definition of done):
the finding is gone on re-scan, no other finding appears or disappears, cfn-lint reports nothing
new on the fixed file, applying the fixes again changes nothing, and the lines the edits do not
touch are byte-identical (comments included)."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from reviewer.checks.catalogue import load_catalogue
from reviewer.cli.fix import Outcome, plan_changes, wanted, write_change
from reviewer.core.fixes import Edit
from reviewer.core.types import Finding, Persona
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES

CLASSES = {m.id: m.fix_class for m in load_catalogue().values() if m.fix_class != "none"}
# failing fixtures whose values are uncertain (a condition, a parameter, a parent stack): no fix
NO_FIX = {
    "AR-EVT-003": {"fail-condition.yaml", "fail-parameter-default.yaml", "fail-nested-stack"},
    "AR-OBS-003": {"fail-condition.yaml"},
    "AR-DAT-006": {"fail-if.yaml"},
    "AR-DAT-003": {"fail-if.yaml"},
    "AR-IDN-002": {"fail-if.yaml"},
}


def findings(root: Path) -> list[Finding]:
    return list(scan(root, ScanOptions(persona=Persona.AUDITOR)).findings)


def keys(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule_id, f.fingerprint) for f in found}


def cfn_lint(text: str) -> set[tuple[str, str]]:
    from cfnlint.api import lint

    return {(m.rule.id, m.message) for m in lint(text)}


def untouched_lines_kept(before: str, after: str, edits: list[Edit]) -> None:
    """Lines no edit replaces are kept as they were, in order; a replaced line keeps its
    comment; insertions only add lines where an insertion is."""
    replaced = {
        n
        for e in edits
        if (e.line, e.column) != (e.end_line, e.end_column)
        for n in range(e.line, e.end_line + 1)
    }
    inserted_at = {e.line for e in edits if (e.line, e.column) == (e.end_line, e.end_column)}
    old, new = before.split("\n"), after.split("\n")
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        assert tag != "delete", f"lines {i1 + 1}-{i2} were removed"
        if tag == "insert":
            assert {i1 + 1, i1} & inserted_at, f"lines added at {i1 + 1} where no edit inserts"
            continue
        for n in range(i1 + 1, i2 + 1):  # a replaced line, or the last line an insertion extends
            assert n in replaced or n in inserted_at, f"line {n} changed but no edit replaces it"
    for n in replaced:
        line = old[n - 1]
        if "#" in line:
            comment = line[line.index(" #") :] if " #" in line else ""
            assert comment.strip() in after, f"the comment of line {n} was lost"


def follow_up(found: Finding, fixed: list[Finding]) -> bool:
    """The one finding a fix may reveal: AR-DBS-002's pedantic variant, which asks a table kept
    by its policies for DeletionProtectionEnabled too (the check says it only once the
    policies keep the table, so it is not there before the fix)."""
    return (
        found.rule_id == "AR-DBS-002"
        and found.persona is Persona.PEDANTIC
        and "DeletionProtectionEnabled" in found.message
        and any(f.rule_id == "AR-DBS-002" and f.resource == found.resource for f in fixed)
    )


def fail_fixtures(rule_id: str) -> list[Path]:
    return sorted(
        p for p in (FIXTURES / "templates" / rule_id).iterdir() if p.name.startswith("fail")
    )


def copy_fixture(fixture: Path, tmp: Path) -> Path:
    root = tmp / "repo"
    tmp.mkdir(parents=True, exist_ok=True)
    if fixture.is_dir():
        shutil.copytree(fixture, root, symlinks=True)
    else:
        root.mkdir()
        shutil.copy(fixture, root / fixture.name)
    return root


@pytest.mark.parametrize("rule_id", sorted(CLASSES))
def test_fixes_on_every_failing_fixture(rule_id: str, tmp_path: Path) -> None:
    unsafe = CLASSES[rule_id] == "unsafe"
    fixed_any = False
    for n, fixture in enumerate(fail_fixtures(rule_id)):
        root = copy_fixture(fixture, tmp_path / str(n))
        before = findings(root)
        chosen = wanted(before, unsafe=unsafe, rules=(rule_id,))
        # a rule's fixes are of the class its rule file declares
        assert all(f.fix is not None and f.fix.safety.value == CLASSES[rule_id] for f in chosen)
        if fixture.name in NO_FIX.get(rule_id, ()):
            assert not chosen, f"{fixture.name}: a fix where a value is uncertain"
            continue
        if not chosen:
            continue
        texts = {f.file: (root / f.file).read_text(encoding="utf-8") for f in chosen}
        lint_before = {file: cfn_lint(text) for file, text in texts.items()}
        outcome = Outcome()
        changes, waiting = plan_changes(root, chosen, outcome)
        assert not outcome.skipped and not waiting
        for change in changes:
            write_change(root, change)
        fixed_any = True
        after = findings(root)
        targeted = keys(chosen)
        assert not keys(after) & targeted, f"{fixture.name}: still found after the fix"
        appeared = [f for f in after if (f.rule_id, f.fingerprint) not in keys(before)]
        assert all(follow_up(f, chosen) for f in appeared), f"{fixture.name}: {appeared}"
        assert keys(after) - keys(appeared) == keys(before) - targeted, (
            f"{fixture.name}: other findings disappeared"
        )
        for file, text in texts.items():
            new_text = (root / file).read_text(encoding="utf-8")
            assert cfn_lint(new_text) <= lint_before[file], f"{fixture.name}: cfn-lint says more"
            edits = [e for f in chosen if f.file == file and f.fix for e in f.fix.edits]
            untouched_lines_kept(text, new_text, list(dict.fromkeys(edits)))
        # again: nothing left to do, and the files stay as they are
        again = wanted(after, unsafe=unsafe, rules=(rule_id,))
        assert not again, f"{fixture.name}: a second pass still has fixes"
        snapshot = {file: (root / file).read_bytes() for file in texts}
        second, _ = plan_changes(root, again, Outcome())
        assert not second
        assert snapshot == {file: (root / file).read_bytes() for file in texts}
    assert fixed_any, f"{rule_id} declares {CLASSES[rule_id]} fixes but no failing fixture got one"
