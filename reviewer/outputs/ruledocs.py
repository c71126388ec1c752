"""docs/rules/<ID>.md, generated from rules/<ID>.yaml and the rule's fixtures.

`python -m reviewer.outputs.ruledocs write` regenerates; `python -m reviewer.outputs.ruledocs check` fails when stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reviewer.checks.catalogue import RuleMeta, load_catalogue
from reviewer.outputs.explain import render_explain

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLE_LINES = 80


def _example(meta: RuleMeta, expect: str) -> str | None:
    for case in meta.cases:
        if case.expect != expect:
            continue
        path = ROOT / "fixtures" / case.fixture
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) > MAX_EXAMPLE_LINES:
                lines = [*lines[:MAX_EXAMPLE_LINES], "# ... (truncated)"]
            return "\n".join(lines)
    return None


def page(meta: RuleMeta) -> str:
    fail = _example(meta, "fail")
    ok = _example(meta, "pass")
    examples = (fail, ok) if fail is not None and ok is not None else None
    return render_explain(meta, examples)


def expected_pages() -> dict[Path, str]:
    from reviewer.checks import CHECKS

    catalogue = load_catalogue()
    out: dict[Path, str] = {}
    for check in CHECKS:
        meta = catalogue.get(check.rule_id)
        if meta is not None:
            out[ROOT / "docs" / "rules" / f"{meta.id}.md"] = page(meta)
    return out


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "check"
    pages = expected_pages()
    if mode == "write":
        for path, text in pages.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return 0
    stale = [
        p for p, text in pages.items() if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    for p in stale:
        print(f"stale: {p.relative_to(ROOT)} (run `make docs`)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
