from __future__ import annotations

from reviewer.outputs.ruledocs import expected_pages


def test_generated_rule_docs_are_current() -> None:
    stale = [
        str(path)
        for path, text in expected_pages().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale docs (run `make docs`): {stale}"
