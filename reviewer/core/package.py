"""Where archreview's own files are: the package folder and the rule catalogue's YAML files.

Several stages read them (the catalogue its rules, the profile the rule ids a profile may name,
the cache the installed code it keys on), so they live here, below all of them.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # reviewer/
RULE_FILE = re.compile(r"^AR-[A-Z]{3}-\d{3}\.yaml$")


def rules_dir() -> Path:
    """The rule files: reviewer/_rules in a wheel, rules/ next to the package in a checkout."""
    packaged = PACKAGE_DIR / "_rules"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / "rules"


def rule_ids(directory: Path | None = None) -> tuple[str, ...]:
    """The ids of the rules in `directory` (default: the installed ones), sorted: a rule file is
    named after its id (reviewer.checks.catalogue holds every file to that)."""
    folder = directory or rules_dir()
    return tuple(
        sorted(p.name[: -len(".yaml")] for p in folder.glob("AR-*.yaml") if RULE_FILE.match(p.name))
    )
