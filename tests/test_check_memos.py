"""What the checks work out once per template and share (issue 20, cold-scan speed): the
Template.derive memo, the resources of several types, and the IAM checks' statements and
their Action/Resource leaves. The memos must never change an answer: they are remade when the
repository the template is read with changes, never used while a run's reads are recorded,
never pickled, and dropped when a resource is added."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from reviewer.core import bounds
from reviewer.core.types import Finding, Persona
from reviewer.decode.load import decode
from reviewer.model import reads
from reviewer.model.build import build
from reviewer.model.template import KEEP_DERIVED, Resource, Template, forget_keys
from reviewer.runner.engine import ScanOptions, all_checks, scan

CHECKS = {c.rule_id: c for c in all_checks()}


def _template(text: str) -> Template:
    tree, problems = decode(text)
    assert not problems
    return build("t.yaml", ".", tree, text)


_TWO_TYPES = """\
Resources:
  Q1: {Type: AWS::SQS::Queue}
  T1: {Type: AWS::SNS::Topic}
  Q2: {Type: AWS::SQS::Queue}
"""


class _Counter:
    def __init__(self) -> None:
        self.made = 0

    def __call__(self) -> list[str]:
        self.made += 1
        return ["made", str(self.made)]


def test_derive_makes_a_fact_once_per_node() -> None:
    t = _template(_TWO_TYPES)
    node = t.resources["Q1"].properties
    make = _Counter()
    first = t.derive(("fact", id(node)), node, make)
    assert t.derive(("fact", id(node)), node, make) is first
    assert make.made == 1
    other: dict[str, Any] = {}  # another node under the same key: made for it
    assert t.derive(("fact", id(node)), other, make) == ["made", "2"]
    assert make.made == 2


def test_derive_remembers_nothing_while_reads_are_recorded() -> None:
    """A memo would hide what make() reads of other templates from the recorder: while a run
    is recorded (reviewer.model.reads), every call makes the fact again and none is kept."""
    t = _template(_TWO_TYPES)
    node = t.tree
    make = _Counter()
    with reads.recording(reads.ReadLog("other.yaml")):
        t.derive(("fact",), node, make)
        t.derive(("fact",), node, make)
    assert make.made == 2
    assert t.derived == {}
    t.derive(("fact",), node, make)  # outside a recording: kept
    t.derive(("fact",), node, make)
    assert make.made == 3


def test_derive_is_made_again_for_another_repository() -> None:
    """A check that ran first against a guard standing for the repository (the pipeline's
    local capture) must not hand its answer to a run against the real repository."""
    t = _template(_TWO_TYPES)
    make = _Counter()
    t.repo = guard = object()
    t.derive(("fact",), t.tree, make)
    t.repo = object()
    t.derive(("fact",), t.tree, make)
    assert make.made == 2
    t.repo = guard
    t.derive(("fact",), t.tree, make)
    assert make.made == 3  # only the last repository's answer is kept


def test_memos_are_not_pickled_and_a_new_resource_drops_them() -> None:
    t = _template(_TWO_TYPES)
    t.derive(("fact",), t.tree, _Counter())
    assert [r.logical_id for r in t.of_type("AWS::SQS::Queue", "AWS::SNS::Topic")] == [
        "Q1",
        "T1",
        "Q2",
    ]
    copy = pickle.loads(pickle.dumps(t))
    assert copy.derived == {}
    assert [r.logical_id for r in copy.of_type("AWS::SNS::Topic", "AWS::SQS::Queue")] == [
        "Q1",
        "T1",
        "Q2",
    ]
    res = Resource(
        "T2", "AWS::SNS::Topic", {}, {"Type": "AWS::SNS::Topic"}, t.resources["Q1"].anchor
    )
    t.add_resource(res)
    assert t.derived == {}
    assert [r.logical_id for r in t.of_type("AWS::SQS::Queue", "AWS::SNS::Topic")] == [
        "Q1",
        "T1",
        "Q2",
        "T2",
    ]


def test_resources_of_several_types_are_a_new_list_each_time() -> None:
    t = _template(_TWO_TYPES)
    first = t.of_type("AWS::SQS::Queue", "AWS::SNS::Topic")
    first.clear()
    assert len(t.of_type("AWS::SQS::Queue", "AWS::SNS::Topic")) == 3
    assert t.of_type("AWS::SQS::Queue", "AWS::Lambda::Function") == [
        t.resources["Q1"],
        t.resources["Q2"],
    ]
    assert t.of_type("AWS::S3::Bucket", "AWS::Lambda::Function") == []


# -- the IAM checks share the statements they walk ----------------------------------------------

_STATEMENTS = 40


def _iam_template() -> str:
    """A role whose statements' actions are written with Fn::Sub of a parameter: every walk
    of their leaves resolves each one (a counted unit of work, reviewer.core.bounds)."""
    statements = "\n".join(
        f"                - Effect: Allow\n"
        f"                  Action: !Sub '${{Service}}:Get{i}'\n"
        f"                  Resource: 'arn:aws:s3:::bucket{i}/*'"
        for i in range(_STATEMENTS)
    )
    return (
        "Parameters:\n  Service: {Type: String, Default: s3}\n"
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: []}\n"
        "      Policies:\n        - PolicyName: p\n          PolicyDocument:\n"
        f"            Statement:\n{statements}\n"
        "                - {Effect: Allow, Action: 's3:*', Resource: '*'}\n"
    )


def _resolved(root: Path, *rule_ids: str) -> tuple[int, list[Finding]]:
    options = ScanOptions(
        checks=tuple(CHECKS[i] for i in rule_ids), strict=True, persona=Persona.AUDITOR
    )
    before = bounds.COUNTS.get("resolve", 0)
    report = scan(root, options)
    return bounds.COUNTS.get("resolve", 0) - before, list(report.findings)


def test_the_iam_checks_resolve_a_policy_once_not_once_per_check(tmp_path: Path) -> None:
    """AR-IAM-001, -004, -008 and -009 each walk every statement's Action and Resource: the
    leaves are worked out once per template (Template.derive), so running the four resolves
    the written actions as often as running one does, and the findings are the same as when
    each check runs alone."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "template.yaml").write_text(_iam_template(), encoding="utf-8")
    rules = ("AR-IAM-001", "AR-IAM-004", "AR-IAM-008", "AR-IAM-009")
    alone, first = _resolved(root, rules[0])
    together, found = _resolved(root, *rules)
    assert alone >= _STATEMENTS  # the actions were resolved ...
    assert together < alone + _STATEMENTS  # ... not once more per further check
    singly: list[Finding] = []
    for rule in rules:
        singly.extend(_resolved(root, rule)[1])
    assert [f for f in first if f.rule_id == "AR-IAM-001"]  # the s3:* on * statement
    key = lambda f: (f.rule_id, f.file, f.line, f.message)  # noqa: E731
    assert sorted(map(key, found)) == sorted(map(key, singly))


def test_only_the_latest_templates_keep_their_derived_facts() -> None:
    """The engine runs every check of a template before the next one: the facts derived for
    older templates are dropped, so the memos do not grow with the repository."""
    forget_keys()
    templates = [_template(_TWO_TYPES) for _ in range(KEEP_DERIVED + 2)]
    for t in templates:
        t.derive(("fact",), t.tree, _Counter())
    assert [bool(t.derived) for t in templates] == [False] * 2 + [True] * KEEP_DERIVED
    make = _Counter()
    templates[0].derive(("fact",), templates[0].tree, make)  # made again, and kept
    assert make.made == 1 and templates[0].derived
    assert not templates[2].derived  # the oldest of the others made room
    forget_keys()  # after a scan: none kept
    assert not any(t.derived for t in templates)


_GRAPH = """\
Parameters:
  Stage: {Type: String}
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Queue: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Environment:
        Variables:
          TABLE: !Ref Table
          QUEUE: !Sub '${Queue.Arn}-${Stage}'
          OTHER: [!Ref Queue, plain, 3]
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - {Effect: Allow, Action: 'sqs:*', Resource: !GetAtt Queue.Arn}
"""


def test_a_resource_s_outgoing_edges_are_those_of_the_whole_graph() -> None:
    """`outgoing` finds one resource's references when it is asked (without walking the
    others); they are the graph's edges from it, in the same order, whether the graph was
    made before or after."""
    first, second = _template(_GRAPH), _template(_GRAPH)
    asked_first = {r: first.outgoing(r) for r in first.resources}
    graph = second.edges()
    for t, outgoing in ((first, asked_first), (second, None)):
        edges = t.edges()
        assert edges == graph
        for rid in t.resources:
            found = outgoing[rid] if outgoing is not None else t.outgoing(rid)
            assert found == [e for e in edges if e.source == rid]
            assert t.incoming(rid) == [e for e in edges if e.target == rid]
    assert [(e.source, e.target, e.attr) for e in graph] == [
        ("Fn", "Queue", None),
        ("Fn", "Queue", "Arn"),
        ("Fn", "Table", None),
        ("Fn", "Role", "Arn"),
        ("Role", "Queue", "Arn"),
    ]
    assert first.outgoing("Nothing") == []
