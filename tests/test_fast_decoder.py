"""The fast decoder (reviewer.decode.fastyaml, reviewer.decode.fastjson) gives what cfn-lint's
decoder gives, held against it as the oracle: the same nodes of the same types with the same
marks, or the same matches (message, line, column) before archreview merges them, on every
fixture, the corpus, the hard cases and fuzzed texts. What it refuses, cfn-lint decodes.
docs/adr/0006-decoding-on-libyaml.md records the design."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.decode import fastjson as fastjson_decode
from reviewer.decode import fastyaml, load
from reviewer.decode.nodes import DictNode, ListNode, StrNode, convert
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".yaml", ".yml", ".json", ".template")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any, Any]]:
    """Every node of a tree: its path, type, value (scalars) and span (marked nodes)."""
    span = getattr(node, "_m", None)
    if isinstance(node, dict):
        yield path, type(node).__name__, None, span
        for key, value in node.items():
            yield f"{path}/key:{key!r}", type(key).__name__, key, getattr(key, "_m", None)
            yield from _walk(value, f"{path}/{key!r}")
    elif isinstance(node, list):
        yield path, type(node).__name__, None, span
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")
    else:
        yield path, type(node).__name__, node, span


Outcome = tuple[list[tuple[str, str, Any, Any]] | None, tuple[tuple[str, int, int], ...]]


def _reference(text: str, json_first: bool) -> Outcome:
    tree, matches = load.cfnlint_matches(text, json_first=json_first)
    return (list(_walk(convert(tree))) if tree is not None else None), tuple(matches)


def _entries(tree: Any) -> int:
    """What load's node cap counts on a tree (`_too_many_nodes`): the root and every entry of
    every distinct container."""
    count, stack, seen = 0, [tree], set()
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)
    return count


def _fast(text: str, json_first: bool) -> Outcome | None:
    fast = load.decode_fast(text, json_first=json_first)
    if fast is None:
        return None
    tree, matches, count = fast
    if tree is not None:
        assert count == _entries(tree), f"{text!r}: the node count is not the tree's"
    return (list(_walk(tree)) if tree is not None else None), tuple(matches)


def _same(text: str, json_first: bool) -> bool:
    """Assert the fast decoder and cfn-lint's agree on `text`; False if the fast one refused
    it (then `decode` is cfn-lint's, converted)."""
    fast = _fast(text, json_first)
    if fast is not None:
        reference = _reference(text, json_first)
        assert fast[1] == reference[1], f"{text!r}: other matches"
        assert fast[0] == reference[0], f"{text!r}: other nodes"
    decoded = load.decode(text, json_first=json_first)
    assert decoded[1] == load.decode_reference(text, json_first=json_first)[1]
    if decoded[0] is not None:
        assert list(_walk(decoded[0])) == list(
            _walk(load.decode_reference(text, json_first=json_first)[0])
        )
    return fast is not None


def _templates(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES and ".git" not in p.parts
    )


def _parity(files: list[Path]) -> int:
    """Both readings of every file (as YAML, and JSON first); the fast path refuses none."""
    checked = 0
    from reviewer.discover.inventory import classify_text

    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if classify_text(text, named=path.stem == "template") == "templating":
            continue  # not a template: a templating source, never decoded (AR-MOD-006)
        if "not-cloudformation" in path.parts:
            continue  # a Helm chart, a Backstage entity, an Azure template: never decoded
        for json_first in (False, True):
            assert _same(text, json_first), f"{path}: refused by the fast path"
        checked += 1
    return checked


def test_every_fixture_decodes_as_cfnlint_decodes_it() -> None:
    assert _parity(_templates(ROOT / "fixtures")) > 600


def test_the_corpus_decodes_as_cfnlint_decodes_it() -> None:
    corpus = require_shared("corpora", "serverless-patterns")
    assert _parity(_templates(corpus)) >= 562


DEEP = 150  # deeper than MAX_DEPTH, shallower than cfn-lint's limits (about 200 and 490)

HARD_YAML = [
    # composer errors: libyaml's composer words them, cfn-lint wraps them
    "a: &x 1\nb: &x 2\n",
    "a: *x\n",
    "a: 1\n---\nb: 2\n",
    "---\n---\n",
    # construction errors, in cfn-lint's order
    "a: &x [*x]\n",
    "a: &x {b: *x}\n",
    "~: 1\n",
    "? !!null x\n: 1\n",
    "a: &a ~\n*a : 1\n",
    "a: 2030-13-01\n",
    "a: 2030-02-30\n",
    "a: !!bool abc\n",
    "a: !!float abc\n",
    "a: b\na: c\na: d\nb: 1\nb: 2\n",
    "x: 1\ny: 2\nx: 3\n",
    "'a': 1\n\"a\": 2\n",
    "a: {x: 1, x: 2}\nb: !If {y: 1, y: 2}\n",
    "a: {x: 1, x: 2}\nb: 2030-13-01\n",
    "a: {b: 2030-13-01, b: 1}\n",
    "a: 1\na: 2\nb: {c: 1, c: 2}\n",
    "~: 1\n~: 2\na: 1\na: 2\n",
    # parse errors: libyaml's, as cfn-lint reports them
    "a: 1\nb: [\n",
    "a: [a, b\nc: {}\n",
    "a:\n  - b\n - c\n",
    "a: 'x\n",
    "a: \x01\n",
    "a: [a, b\nc: *undefined\n",
    "a: &x 1\nb: [\n",
    # a tab or an unknown escape: cfn-lint reads the text as JSON
    "Resources:\n\tA: 1\n",
    '{"a":\t1}',
    '{"a": 1,\t"a": 2}',
    'Resources:\n  A: "\\q"\n',
    # tags
    "a: ! 'true'\nb: ! 12\n",
    "a: !!int 12\nb: !!str 12\nc: !!float 1\nd: !!null x\ne: !!str\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!map {b: 1}\nc: !!seq [1]\n",
    "a: !GetAtt {}\nb: !GetAtt {c: 1}\nc: !GetAtt [x, y]\nd: !GetAtt x.y.z\ne: !GetAtt x\n",
    "a: !Ref 12\nb: !Condition c\nc: !Ref\nd: !Sub ''\ne: !GetAtt\nf: !Foo {a: 1, a: 2}\n",
    "a: !Sub\n  - x\n  - {y: 1}\nb: !Join ['', [!Ref a, !GetAtt b.c]]\n",
    "a: !Foo &y [1]\nb: *y\n",
    "a: !If [c, !Ref F, !Ref AWS::NoValue]\n",
    "a: !Transform {Name: x, Parameters: {k: !Ref v}}\n",
    "a: !Ref &r x\nb: *r\n",
    # YAML 1.1 scalars as PyYAML resolves them
    "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: 0x1F\ng: 0o17\nh: 1_000\ni: 1:30\nj: .inf\n"
    "k: -.Inf\nl: .NaN\nm: 1e3\nn: 2020-01-01\no: 2020-01-01T10:00:00Z\n"
    "p: 2020-01-01 10:00:00.5 +02:00\nq: ~\nr: Null\ns: 0b101\nt: +12\nu: 012\n"
    "v: 6.8523015e+5\nw: 190:20:30.15\nx: ''\ny: 'yes'\nz: \"1\"\n",
    "1: a\n1.5: b\nfalse: c\n2020-01-01: d\n",
    # aliases
    "a: &a 1\nb: *a\nc: &b [*a, *a]\nd: *b\n",
    "a: &x\n  b: 1\nc: *x\nd: *x\n",
    "&k a: 1\nb: *k\n",
    "a: &a x\n*a : 1\n",
    # shapes and styles
    "",
    "\n",
    "# c\n",
    "~\n",
    "null\n",
    "- a\n",
    "just text\n",
    "? |\n  block\n: 1\n",
    "a: |\n  lit\n  eral\nb: >\n  fold\n  ed\n",
    "a: \"multi\n  line\"\nb: 'q''s'\n",
    "\ufeffa: 1\n",
    "a: 1\r\nb: 2\r\n",
    "a:\n- 1\n- 2\n",
    "x: " + "[" * 10 + "]" * 10 + "\n",
    "x: " + "{a: " * 30 + "1" + "}" * 30 + "\n",
]

HARD_JSON = [
    '{"a": 1, "b": [1, 2.5, true, null, "s"], "c": {"d": {}}, "e": []}',
    '{\n  "a": {\n    "b": "c"\n  },\n  "d": [\n    1\n  ]\n}\n',
    '{"a": 1, "a": 2}',
    '{\n"a": 1,\n"a": 2,\n"b": 3,\n"b": 4}',
    '{"a": {"x": 1, "x": 2, "y": 1, "y": 3}, "b": {"z": 1, "z": 2}}',
    '{"\\u0041": 1, "A": 2}',
    '{"k\\"q": 1, "k\\"q": 2}',
    '{"a": "\\u00e9\\n"}',
    '{"a": NaN, "b": Infinity, "c": -Infinity}',
    '{"a": 1e400, "b": -0}',
    '  {"a": 1}',
    "{}",
    "{\n}",
    '{"a": [\n]}',
    "[1, 2]",
    '\ufeff{"a": 1}',
    '{"a": 1}\n\n',
    '\n{"a":\n1}\n',
    # syntax errors: cfn-lint's own, the standard library's, or its TypeError
    '{"a": 1,}',
    '{"a" 1}',
    '{"a": 1 "b": 2}',
    "[1 2]",
    '{"a": [1 2]}',
    '{"a": }',
    '{"a": [1,]}',
    "[",
    "",
    "  ",
    '{"a": "x\ty"}',
    '{"a": "\\q"}',
    '{"a": "\\u12"}',
    '{"a": "\\u12G4"}',
    '{"a": "abc',
    '{"a": "abc\\',
    "{a: 1}",
    '{"a": 1} x',
    '{"a": 1}}',
    '{"a": tru}',
    '{"a": -}',
    '{"a": 1.}',
    '{\n  "a": 1,\n  "b" 2\n}',
    '{"a": [1, 2',
    '{"a": {"b": 1',
    '{"a":1,\n"b":\n}',
    '{"a": 01}',
    '{"\x01": 1}',
    '{"a": [}',
    '{"a": {]}',
    '{"a", 1}',
    '{"a": {"x": 1, "x": 2}, "b" 1}',
    '{"a": 1 "a": 2}',
    '{"a": [{"b": }]}',
    '{"a": 1, "a": 2',
    '{\t"a": 1,}',
    '{\t"a": }',
    '{\t"a": [1 2]}',
    '{\t"a": 1} x',
    '{\t"a": "x\ty"}',
    '{"a": "b\\q", "c": }',
]


@pytest.mark.parametrize("text", HARD_YAML + HARD_JSON)
@pytest.mark.parametrize("json_first", [False, True])
def test_hard_cases_decode_as_cfnlint_decodes_them(text: str, json_first: bool) -> None:
    assert _same(text, json_first)


REFUSED = [
    "<<: {a: 1}\nb: 2\n",  # merge keys
    "a: {<<: [{x: 1}, {y: 2}]}\n",
    "a: =\n",  # the value key
    "=: 1\n",
    "? [a]\n: 1\n",  # a sequence as a key
    "? !Ref a\n: 1\n",
    "1: a\n1: b\n",  # duplicate keys that are not strings
    "a: 1\n1: 2\ntrue: 3\n",
    "a: !!set {x, y}\n",  # tags outside the core scalar ones and !Name
    "a: !!omap [x: 1]\n",
    "a: !<tag:foo> x\n",
    "%TAG ! tag:e.com,2000:\n---\na: !x y\n",
    "a: !!str [a]\n",  # a tag on the wrong kind of node
    "x: " + "[" * DEEP + "]" * DEEP + "\n",  # deeper than MAX_DEPTH
    "x: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
    '{"a": ' + "[" * DEEP + "}",
]
REFUSED_JSON = [
    '{"a": ' + "[" * DEEP + "]" * DEEP + "}",  # deeper than MAX_DEPTH
    '{"a": ' + "[" * DEEP + "}",
    '{"a": 1' + "0" * 5000 + "}",  # a number longer than int() reads
]


@pytest.mark.parametrize(
    ("text", "json_first"),
    [(text, False) for text in REFUSED] + [(text, True) for text in REFUSED_JSON],
)
def test_what_the_fast_path_refuses_cfnlint_decodes(text: str, json_first: bool) -> None:
    """Each construct the fast path does not reproduce is refused, and `decode` then gives
    what cfn-lint's decoder gives."""
    assert load.decode_fast(text, json_first=json_first) is None
    assert not _same(text, json_first)


def _decoded(text: str) -> Any:
    tree, problems = load.decode(text)
    assert problems == ()
    return tree


def test_scalars_resolve_as_yaml_1_1_does() -> None:
    tree = _decoded(
        "a: yes\nb: off\nc: 0x1F\nd: 012\ne: 1:30\nf: 1_000\ng: 2020-01-02\n"
        "h: 2020-01-02T03:04:05Z\ni: ~\nj: '1'\nk: 1.5\n"
    )
    assert tree["a"] is True and tree["b"] is False
    assert (tree["c"], tree["d"], tree["e"], tree["f"]) == (31, 10, 90, 1000)
    assert tree["g"] == date(2020, 1, 2)
    assert tree["h"] == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert tree["i"] is None
    assert isinstance(tree["j"], StrNode) and tree["j"] == "1"
    assert tree["k"] == 1.5


def test_short_form_tags_are_cfnlint_s_mappings() -> None:
    tree = _decoded(
        "A: !GetAtt B.Arn.X\nC: !GetAtt [D, Arn]\nE: !GetAtt {}\nF: !GetAtt {G: 1}\n"
        "H: !Ref 12\nI: !Sub [x, {y: !Ref z}]\nJ: !Condition c\n"
    )
    getatt = tree["A"]["Fn::GetAtt"]
    assert isinstance(getatt, ListNode) and getatt == ["B", "Arn.X"]
    assert type(getatt[0]) is str  # cfn-lint splits the text: no marks on the parts
    assert getatt._m == tree["A"]._m == (0, 3, 0, 18)
    assert tree["C"]["Fn::GetAtt"] == ["D", "Arn"] and isinstance(
        tree["C"]["Fn::GetAtt"][0], StrNode
    )
    assert tree["E"] == {"Fn::GetAtt": []}
    assert tree["F"]["Fn::GetAtt"]._m == (1, 1, 1, 1)  # cfn-lint's copy keeps no marks
    assert tree["H"] == {"Ref": "12"} and type(tree["H"]["Ref"]) is str
    assert type(tree["I"]["Fn::Sub"]) is list and tree["I"]["Fn::Sub"][1] == {"y": {"Ref": "z"}}
    assert tree["J"] == {"Condition": "c"}


def test_duplicate_keys_are_cfnlint_s_error_at_its_place() -> None:
    tree, problems = load.decode("Resources:\n  A: 1\n  B: 2\n  A: 3\n")
    assert tree is None
    assert [(p.message, p.line, p.column) for p in problems] == [
        ("duplicate key 'A' (first at line 2)", 4, 3)
    ]
    _, problems = load.decode('{"a": 1, "a": 2}', json_first=True)
    assert [(p.message, p.line, p.column) for p in problems] == [("duplicate key 'a'", 1, 11)]


def _laughs(levels: int) -> str:
    lines = ["Metadata:", '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for i in range(levels):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = f"l{i}"
    lines += ["Resources:", "  T:", "    Type: AWS::SNS::Topic", f"    Properties: *{previous}"]
    return "\n".join(lines) + "\n"


def test_aliases_are_shared_not_expanded() -> None:
    """9**5 leaves once expanded, under the cap: decoded into a tree of a few dozen distinct
    nodes (the count load's node cap reads), aliases being the anchored nodes themselves."""
    tree, count = fastyaml.loads(_laughs(4))
    assert count < 200
    assert tree["Resources"]["T"]["Properties"] is tree["Metadata"]["l3"]
    assert _same(_laughs(4), False)


def test_billion_laughs_is_cfnlint_s_error() -> None:
    from cfnlint.decode.cfn_yaml import _MAX_EXPANDED_NODES

    assert fastyaml.MAX_EXPANDED_NODES == _MAX_EXPANDED_NODES
    with pytest.raises(fastyaml.Failed) as failed:
        fastyaml.loads(_laughs(9))  # 9**10 nodes once expanded
    [(message, line, column)] = failed.value.matches
    assert f"more than {_MAX_EXPANDED_NODES} nodes once YAML aliases are expanded" in message
    assert (line, column) == (1, 1)
    assert _same(_laughs(5), False)  # just over the cap: cfn-lint says the same


HANG = """
import sys
from reviewer.decode import load
text = sys.stdin.read()
fast = load.decode_fast(text, json_first=sys.argv[1] == "json")
assert fast is not None, "refused"
print(fast[1][:1] if fast[1] else "tree")
"""


def _decode_in_time(text: str, json_first: bool = False) -> str:
    """Decode in a child process killed after a generous 120 s (cfn-lint's decoder takes
    minutes on these texts: it compares each key with every earlier key)."""
    done = subprocess.run(
        [sys.executable, "-c", HANG, "json" if json_first else "yaml"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    return done.stdout.strip()


WIDE = 60_000


def test_a_wide_mapping_decodes_in_linear_time() -> None:
    body = "".join(f"  Queue{i}:\n    Type: AWS::SQS::Queue\n" for i in range(WIDE))
    assert _decode_in_time("Resources:\n" + body) == "tree"
    duplicated = "Resources:\n" + body + "  Queue7:\n    Type: AWS::SNS::Topic\n"
    assert "Duplicate found 'Queue7'" in _decode_in_time(duplicated)


def test_a_wide_json_object_decodes_in_linear_time() -> None:
    body = ",".join(f'"Queue{i}":{{"Type":"AWS::SQS::Queue"}}' for i in range(WIDE))
    assert _decode_in_time('{"Resources":{' + body + "}}", json_first=True) == "tree"
    duplicated = '{"Resources":{' + body + ',"Queue7":{}}}'
    assert 'Duplicate found "Queue7"' in _decode_in_time(duplicated, json_first=True)
    broken = '{"Resources":{' + body + ',"Queue7" {}}}'
    assert "Expecting ':' delimiter" in _decode_in_time(broken, json_first=True)


def test_one_tree_at_a_time() -> None:
    """The fast path builds the tree once, with no intermediate: its peak memory is the tree
    it returns (tracemalloc's count of bytes). The fallback empties cfn-lint's tree as it
    converts it, so it never holds both whole."""
    text = "Resources:\n" + "".join(
        f"  Q{i}:\n    Type: AWS::SQS::Queue\n    Properties: {{QueueName: q{i}, "
        "Tags: [{Key: a, Value: !Ref B}]}\n"
        for i in range(2000)
    )
    load.decode("a: 1\n")
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tree, _ = load.decode(text)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(tree, DictNode)
    assert peak - base < 1.1 * (held - base)
    source, _ = load.decode_cfnlint(text)
    resources, queue = source["Resources"], source["Resources"]["Q7"]
    converted = convert(source, consume=True)
    assert list(_walk(converted)) == list(_walk(tree))
    assert source == {} and resources == {} and queue == {}  # emptied as converted


# -- fuzzing: texts mutated from real templates decode alike (trees or errors) ---------------

SEEDS = [
    "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    "    Properties:\n      Tags: [{Key: a, Value: !Ref B}]\n      Delay: 10\n"
    "Outputs:\n  O: {Value: !GetAtt Q.Arn}\n",
    "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: &g\n    Runtime: python3.12\n"
    "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: *g\n"
    "  G: !If [c, yes, ~]\n",
    '{\n  "Resources": {\n    "Q": {"Type": "AWS::SQS::Queue", "Properties": {"A": [1, "x"]}}\n  }\n}\n',
]
PIECES = [
    ":",
    " ",
    "\n",
    "\t",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "!",
    "&a",
    "*a",
    "'",
    '"',
    "#",
    "\\",
    "~",
    "? ",
    "<<",
    "0",
    "yes",
    "2020-01-01",
    "!Ref ",
    "---\n",
    "  ",
    "@",
    "\x00",
    "é",
]


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.sampled_from(PIECES)) + text[at + cut :]
    return text


@settings(
    derandomize=True,
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_mutated(), st.booleans())
def test_mutated_templates_decode_as_cfnlint_decodes_them(text: str, json_first: bool) -> None:
    _same(text, json_first)


def test_fast_json_marks_follow_cfnlint_s_formula() -> None:
    """cfn-lint's JSON marks, quirks and all (`cfn_json.get_beg_end_mark`): a 0-based line,
    a column one past the bracket or quote, and, once the text has two newlines, an end line
    one short and an end column counted from the newline before that."""
    tree, _ = fastjson_decode.loads('{"a": [1], "b": {}}')
    assert (tree._m, tree["a"]._m, tree["b"]._m) == ((0, 2, 0, 20), (0, 8, 0, 10), (0, 18, 0, 19))
    assert [key._m for key in tree] == [(0, 2, 0, 3), (0, 12, 0, 13)]
    tree, _ = fastjson_decode.loads('{\n "a": [\n  1\n ]\n}\n')
    assert (tree._m, tree["a"]._m, next(iter(tree))._m) == (
        (1, 0, 4, 2),
        (2, 0, 3, 3),
        (1, 2, 0, -14),
    )
