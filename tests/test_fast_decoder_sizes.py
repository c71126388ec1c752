"""The fast YAML decoder's alias guard counts what cfn-lint's does (issue 20).

cfn-lint refuses a template whose tree, once YAML aliases are expanded, has more than
`_MAX_EXPANDED_NODES` nodes: a mapping or sequence counts one plus its values (keys are not
counted), a scalar one, a shared node its whole size each time it appears. The fast decoder
counts the same while it reads the events (one counter; reviewer.decode.fastyaml.compose).
Here the count is recomputed that way on the decoded tree, and the guard is moved to the
count and one below it: the document must pass at its count and fail just below it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from reviewer.decode import fastyaml
from tests.conftest import require_shared


def expanded_size(tree: Any) -> int:
    """cfn-lint's count of a tree's nodes with aliases expanded (memoised per node)."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, dict):
            total = 1 + sum(size(v) for v in node.values())
        elif isinstance(node, list):
            total = 1 + sum(size(v) for v in node)
        else:
            total = 1
        sizes[id(node)] = total
        return total

    return size(tree)


def _flow(rnd: random.Random, depth: int, anchors: list[str]) -> str:
    """A random flow-style YAML value: scalars of every resolved kind, short-form
    intrinsics on scalars, sequences and mappings, anchors on any of them and aliases."""
    r = rnd.random()
    if depth > 4 or r < 0.35:
        text = rnd.choice(
            ["x", "1", "~", "yes", "'q'", "!Ref r", "!GetAtt a.b", "!Sub s", "2020-01-01", "1.5"]
        )
    elif r < 0.55:
        text = "[" + ", ".join(_flow(rnd, depth + 1, anchors) for _ in range(rnd.randint(0, 3)))
        text += "]"
    elif r < 0.8:
        keys = rnd.sample(["a", "b", "c", "d", "e"], rnd.randint(0, 3))
        text = "{" + ", ".join(f"{k}: {_flow(rnd, depth + 1, anchors)}" for k in keys) + "}"
    else:
        tag = rnd.choice(["!If ", "!Join ", "!GetAtt ", "!Select "])
        items = (_flow(rnd, depth + 1, anchors) for _ in range(rnd.randint(0, 3)))
        text = tag + "[" + ", ".join(items) + "]"
    if anchors and rnd.random() < 0.2:
        return "*" + rnd.choice(anchors)
    if rnd.random() < 0.25 and not text.startswith("!"):
        anchors.append(f"n{len(anchors)}")
        return f"&{anchors[-1]} {text}"
    return text


def documents() -> list[str]:
    rnd = random.Random(2026)
    docs = []
    for _ in range(600):
        anchors: list[str] = []
        docs.append("".join(f"k{i}: {_flow(rnd, 0, anchors)}\n" for i in range(1, 5)))
    docs += [
        "a: &a 1\nb: *a\nc: &b [*a, *a]\nd: *b\n",
        "a: &x\n  b: !GetAtt q.r\nc: *x\nd: [*x, *x]\n",
        "&k a: 1\nb: *k\n",
        "a: !Foo &y [1]\nb: *y\n",
        "a: !Ref &r x\nb: *r\n",
        "a: &t !GetAtt {}\nb: *t\nc: !GetAtt {k: v}\n",
        "&root {a: [1, 2], b: &s {c: d}, e: *s}\n",
    ]
    return docs


def _with_anchors(text: str) -> bool:
    return "&" in text


@pytest.mark.parametrize("source", ["generated", "corpus"])
def test_the_alias_guard_counts_what_cfn_lint_counts(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "generated":
        docs = documents()
    else:
        corpus = require_shared("corpora", "serverless-patterns")
        docs = [p.read_text("utf-8") for p in sorted(corpus.rglob("*.yaml")) if p.is_file()]
    checked = 0
    for text in filter(_with_anchors, docs):
        monkeypatch.setattr(fastyaml, "MAX_EXPANDED_NODES", 10**9)
        try:
            tree, _count = fastyaml.loads(text)
        except (fastyaml.Failed, fastyaml.Refused):
            continue  # a document that does not decode has no count to hold
        size = expanded_size(tree)
        monkeypatch.setattr(fastyaml, "MAX_EXPANDED_NODES", size)
        fastyaml.loads(text)
        monkeypatch.setattr(fastyaml, "MAX_EXPANDED_NODES", size - 1)
        with pytest.raises(fastyaml.Failed, match="nodes once YAML aliases are expanded"):
            fastyaml.loads(text)
        checked += 1
    assert checked >= (300 if source == "generated" else 1)
