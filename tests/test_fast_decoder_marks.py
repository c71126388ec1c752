"""A fix's proof decodes the edited file without marks (issue 20): `decode(text, marks=False)`
must say the same as `decode(text)` about every text, whether it decodes and to what values,
on the fixtures, the corpus, the decoder's hard cases and generated documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewer.decode.load import decode
from reviewer.decode.nodes import DictNode, ListNode, StrNode
from tests.conftest import require_shared
from tests.test_fast_decoder import HARD_YAML
from tests.test_fast_decoder_sizes import documents

ROOT = Path(__file__).resolve().parents[1]


def typed(node: Any) -> Any:
    """A tree as nested tuples that keep every scalar's type (Python's equality takes 1, 1.0
    and True for one another); a marked string is a string."""
    if isinstance(node, dict):
        return ("map", tuple((typed(k), typed(v)) for k, v in node.items()))
    if isinstance(node, list):
        return ("seq", tuple(typed(v) for v in node))
    if isinstance(node, str):
        return ("str", str(node))
    return (type(node).__name__, node)


def _texts(source: str) -> list[str]:
    if source == "hard":
        return [*HARD_YAML, *documents()]
    if source == "fixtures":
        folder = ROOT / "fixtures"
    else:
        folder = require_shared("corpora", "serverless-patterns")
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file():
            try:
                texts.append(path.read_text("utf-8").replace("\r\n", "\n"))
            except (OSError, UnicodeDecodeError):
                continue
    return texts


@pytest.mark.parametrize("source", ["hard", "fixtures", "corpus"])
def test_decoding_without_marks_gives_the_same_values(source: str) -> None:
    texts = _texts(source)
    assert len(texts) > 50
    plain_strings = 0
    for text in texts:
        for json_first in (False, True):
            marked, problems = decode(text, json_first=json_first)
            bare, bare_problems = decode(text, json_first=json_first, marks=False)
            assert (marked is None) == (bare is None), text
            assert bool(problems) == bool(bare_problems), text
            if marked is not None:
                assert typed(bare) == typed(marked), text
                plain_strings += type(next(iter(bare), None)) is str
    assert plain_strings > 0  # the mark-free path was taken


def test_without_marks_the_untagged_nodes_are_plain() -> None:
    text = "a: x\nb: [1, y]\nc: {d: !Ref e}\nf: &g [h]\ni: *g\n"
    bare, _ = decode(text, marks=False)
    marked, _ = decode(text)
    assert type(bare) is dict and type(bare["b"]) is list and type(bare["a"]) is str
    assert type(marked) is DictNode and type(marked["b"]) is ListNode
    assert type(marked["a"]) is StrNode
    assert bare == marked
    # anchored nodes stay marked (an alias is the anchored node itself)
    assert bare["f"] is bare["i"] and type(bare["f"]) is ListNode


def test_a_duplicate_key_without_marks_is_still_a_problem() -> None:
    text = "Resources:\n  A: {Type: x}\n  A: {Type: y}\n"
    assert decode(text, marks=False)[1] == decode(text)[1] != ()
