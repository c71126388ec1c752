"""cfn-lint's decoder loaded on its own (reviewer.decode.cfnlint) decodes exactly as the ordinary
`import cfnlint.decode` does, without importing the linter. It is the fallback of the fast
decoder (tests/test_fast_decoder.py holds the two equal) and is loaded only when a document
needs it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.decode import cfnlint as decoder
from reviewer.decode import load
from reviewer.decode.nodes import convert
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".yaml", ".yml", ".json", ".template")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any, Any]]:
    """Every node of a converted tree: its path, type, scalar value and span."""
    span = getattr(node, "_m", None)
    if isinstance(node, dict):
        yield path, "map", None, span
        for key, value in node.items():
            yield f"{path}/key:{key}", type(key).__name__, str(key), getattr(key, "_m", None)
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        yield path, "seq", None, span
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")
    else:
        yield path, type(node).__name__, node, span


def _both(text: str) -> tuple[Any, Any]:
    """(private decoder result, full cfn-lint import result), each as (nodes, problems)."""
    private = decoder.load()
    assert decoder.PRIVATE, "the private decoder fell back to the ordinary import"
    full = importlib.import_module("cfnlint.decode.decode")
    assert private is not full

    def run(module: Any) -> tuple[list[Any] | None, list[tuple[str, int, int]]]:
        tree, matches = module.decode_str(text)
        problems = [(str(m.message), int(m.linenumber), int(m.columnnumber)) for m in matches]
        return (list(_walk(convert(tree))) if tree is not None else None), problems

    return run(private), run(full)


def _templates(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES and ".git" not in p.parts
    )


def _assert_parity(files: list[Path]) -> int:
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        private, full = _both(text)
        assert private == full, f"{path}: the private decoder differs from cfn-lint's"
        checked += 1
    return checked


def test_private_decoder_matches_cfnlint_on_every_fixture() -> None:
    assert _assert_parity(_templates(ROOT / "fixtures")) > 100


@pytest.mark.parametrize(
    "text",
    [
        "Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n",  # duplicate key (cfn-lint's own error)
        "Resources: [a, b\nOutputs: {}\n",  # a YAML parser error
        "Resources:\n\tA: 1\n",  # a tab: cfn-lint retries as JSON
        '{"Resources": {"A": {"Type": "X"}, "A": {"Type": "Y"}}}',  # JSON duplicate
        "Resources:\n  A: !Sub '${B}'\n  C: !GetAtt D.Arn\n  E: !If [c, !Ref F, !Ref AWS::NoValue]\n",
        "a: &x {b: 1}\nc: *x\n",
        "",
    ],
)
def test_private_decoder_matches_cfnlint_on_hard_cases(text: str) -> None:
    private, full = _both(text)
    assert private == full


def test_private_decoder_matches_cfnlint_on_the_corpus() -> None:
    corpus = require_shared("corpora", "serverless-patterns")
    assert _assert_parity(_templates(corpus)) >= 562


PROBE = """
import sys
from reviewer.decode import cfnlint as decoder
from reviewer.decode import load
tree, problems = load.decode(sys.argv[1])
print(decoder.PRIVATE, bool(tree), [p.message for p in problems])
print(",".join(sorted(m for m in ("cfnlint", "cfnlint.rules", "sympy", "networkx") if m in sys.modules)))
print(decoder.PREFIX + ".decode.decode" in sys.modules)
"""

# a merge key: the fast decoder (reviewer.decode.fastyaml) refuses it, cfn-lint's decoder decodes it
REFUSED = "Resources:\n  T:\n    <<: {Type: AWS::SNS::Topic}\n"


def _probe(text: str, **env: str) -> tuple[str, str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, text],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    first, second, third = proc.stdout.split("\n")[:3]
    return first, second, third


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n", ""),
        ("Resources:\n  T: 1\n  T: 2\n", "duplicate key 'T'"),
        ("Resources: [a, b\nOutputs: {}\n", "expected ',' or ']'"),
    ],
)
def test_decoding_loads_no_cfnlint_code(text: str, problem: str) -> None:
    """Good and bad templates alike are decoded by the fast path: neither `cfnlint` (and its
    sympy, networkx) nor cfn-lint's decoder modules are loaded."""
    first, loaded, private = _probe(text)
    assert first.startswith("True ")
    assert problem in first
    assert loaded == ""
    assert private == "False"


def test_a_refused_document_is_decoded_without_the_linter() -> None:
    first, loaded, private = _probe(REFUSED)
    assert first == "True True []"
    assert loaded == ""
    assert private == "True"


def test_the_ordinary_import_on_request() -> None:
    first, loaded, _ = _probe(REFUSED, ARCHREVIEW_CFNLINT_IMPORT="full")
    assert first == "False True []"
    assert "cfnlint" in loaded.split(",")


def test_a_changed_cfnlint_layout_falls_back_to_the_ordinary_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decoder, "_DECODER", None)
    monkeypatch.setattr(decoder, "PRIVATE", True)
    monkeypatch.setattr(decoder, "_MODULES", (*decoder._MODULES, "cfnlint.decode.not_there"))
    module = decoder.load()
    assert not decoder.PRIVATE
    assert module is importlib.import_module("cfnlint.decode.decode")
    tree, problems = load.decode_reference("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    assert problems == () and tree["Resources"]["T"]["Type"] == "AWS::SNS::Topic"
