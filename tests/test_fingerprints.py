"""Logical fingerprints, scheme archreview/v2 (product.md *Finding*): list items are named by what
identifies them, never by index, and baselines written with archreview/v1 are still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.core.types import Finding, Persona
from reviewer.findings import fingerprint as fp
from reviewer.runner.engine import ScanOptions, scan

from .gitrepo import commit, init, scan_json, write

FUNCTION = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
{policies}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
{role_policies}
"""
WILDCARD = """\
        - Statement:
            - Effect: Allow
              Action: "*"
              Resource: "*"
"""
READ_TABLE = """\
        - DynamoDBReadPolicy:
            TableName: orders
"""
ADMIN = """\
        - PolicyName: admin
          PolicyDocument:
            Statement:
{statements}"""
S3_ALL = """\
              - Effect: Allow
                Action: "s3:*"
                Resource: "*"
"""
LOGS = """\
              - Effect: Allow
                Action: logs:PutLogEvents
                Resource: "*"
"""
READ_ONLY = """\
        - PolicyName: readonly
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: arn:aws:s3:::bucket/*
"""


def _template(policies: str, role_policies: str) -> str:
    return FUNCTION.format(policies=policies.rstrip("\n"), role_policies=role_policies.rstrip("\n"))


BEFORE = _template(WILDCARD, ADMIN.format(statements=S3_ALL))
# a harmless item prepended to every list the wildcard findings sit in
AFTER = _template(READ_TABLE + WILDCARD, READ_ONLY + ADMIN.format(statements=LOGS + S3_ALL))


def _findings(root: Path) -> list[Finding]:
    return list(scan(root, ScanOptions(persona=Persona.AUDITOR)).findings)


def _by_place(findings: list[Finding]) -> dict[tuple[str, str | None, str | None], Finding]:
    return {(f.rule_id, f.resource, f.property): f for f in findings}


def test_a_prepended_list_item_changes_no_fingerprint(tmp_path: Path) -> None:
    write(tmp_path / "before", {"template.yaml": BEFORE})
    write(tmp_path / "after", {"template.yaml": AFTER})
    before = _findings(tmp_path / "before")
    after = _findings(tmp_path / "after")
    wildcard = [f for f in before if f.rule_id == "AR-IAM-001"]
    assert {f.resource for f in wildcard} == {"Fn", "Role"}, [f.rule_id for f in before]
    # the index moved, so the v1 scheme (and the displayed path) changed ...
    moved = {f.resource: f.property for f in after if f.rule_id == "AR-IAM-001"}
    assert moved == {
        "Fn": "Policies[1].Statement[0].Action",
        "Role": "Policies[1].PolicyDocument.Statement[1].Action",
    }
    # ... and every finding of the first scan has the same fingerprint in the second
    assert {f.fingerprint for f in before} <= {f.fingerprint for f in after}
    for f in wildcard:
        assert "[0]" not in (f.logical_path or "") and "[1]" not in (f.logical_path or "")


def test_the_same_list_change_is_no_new_finding_in_pr_mode(tmp_path: Path) -> None:
    """The case of issue 18 item 2: prepending a harmless DynamoDBReadPolicy to a function's
    Policies turned the existing wildcard finding into a new critical and exit 1."""
    repo = init(tmp_path / "repo")
    write(repo, {"template.yaml": BEFORE})
    commit(repo, "base")
    write(repo, {"template.yaml": AFTER})
    commit(repo, "prepend a read policy")
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1", "--persona", "auditor")
    assert data["summary"]["diff_base"] == "HEAD~1", output
    new = [f for f in data["findings"] if f["new"]]
    assert new == [], [(f["rule_id"], f["property"]) for f in new]
    assert any(f["rule_id"] == "AR-IAM-001" and not f["new"] for f in data["findings"])
    assert code == 0, output


def test_a_baseline_keeps_a_finding_whose_list_index_moved(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, {"template.yaml": BEFORE})
    baseline = tmp_path / "baseline.json"
    code, _, output = scan_json(root, "--write-baseline", str(baseline), "--fail-on", "never")
    assert code == 0, output
    written = json.loads(baseline.read_text(encoding="utf-8"))
    assert written["version"] == 2
    write(root, {"template.yaml": AFTER})
    code, data, output = scan_json(root, "--baseline", str(baseline))
    wildcard = [f for f in data["findings"] if f["rule_id"] == "AR-IAM-001"]
    assert wildcard and all(f["suppressed"]["kind"] == "baseline" for f in wildcard)
    assert code == 0, output


def test_a_version_1_baseline_is_read_by_v1_fingerprints(tmp_path: Path) -> None:
    """A baseline written before archreview/v2 recorded index paths: it still suppresses what
    it recorded (matched by the v1 fingerprint of the displayed path), and nothing else."""
    root = tmp_path / "repo"
    write(root, {"template.yaml": BEFORE})
    findings = _findings(root)
    wildcard = next(f for f in findings if f.rule_id == "AR-IAM-001" and f.resource == "Fn")
    assert wildcard.property == "Policies[0].Statement[0].Action"
    v1 = fp.v1(wildcard.rule_id, wildcard.file, wildcard.resource, wildcard.property)
    assert v1 != wildcard.fingerprint  # a path below a list item: the schemes differ
    entry = {"fingerprint": v1, "rule_id": "AR-IAM-001", "reason": "accepted in 2025"}
    old = tmp_path / "v1.json"
    old.write_text(json.dumps({"version": 1, "findings": [entry]}), encoding="utf-8")
    _, data, output = scan_json(root, "--baseline", str(old), "--persona", "auditor")
    by = {(f["rule_id"], f["resource"]): f for f in data["findings"]}
    assert by[("AR-IAM-001", "Fn")]["suppressed"] == {
        "kind": "baseline",
        "reason": "accepted in 2025",
        "until": None,
    }, output
    assert by[("AR-IAM-001", "Role")]["suppressed"] is None
    # the same value in a version 2 file is a v2 fingerprint: it matches nothing here
    new = tmp_path / "v2.json"
    new.write_text(json.dumps({"version": 2, "findings": [entry]}), encoding="utf-8")
    _, data, _ = scan_json(root, "--baseline", str(new), "--persona", "auditor")
    assert all(f["suppressed"] is None for f in data["findings"] if f["rule_id"] == "AR-IAM-001")
    # rewriting the old baseline while applying it moves it to version 2 and keeps the reason
    rewritten = tmp_path / "rewritten.json"
    scan_json(
        root, "--baseline", str(old), "--write-baseline", str(rewritten), "--persona", "auditor"
    )
    data2 = json.loads(rewritten.read_text(encoding="utf-8"))
    assert data2["version"] == 2
    kept = [i for i in data2["findings"] if i["reason"] == "accepted in 2025"]
    assert [i["fingerprint"] for i in kept] == [wildcard.fingerprint]


def test_a_baseline_of_an_unknown_version_is_one_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, {"template.yaml": BEFORE})
    bad = tmp_path / "b.json"
    bad.write_text('{"version": 7, "findings": []}', encoding="utf-8")
    code, _, output = scan_json(root, "--baseline", str(bad))
    assert code == 2 and "version must be 1 or 2" in output and "Traceback" not in output


def test_paths_without_list_items_keep_their_v1_fingerprint(tmp_path: Path) -> None:
    write(tmp_path, {"template.yaml": BEFORE})
    plain = [f for f in _findings(tmp_path) if "[" not in (f.property or "")]
    assert plain
    for f in plain:
        assert f.logical_path == f.property
        assert f.fingerprint == fp.v1(f.rule_id, f.file, f.resource, f.property)


@pytest.mark.parametrize(
    ("kind", "item", "name"),
    [
        ("Policies", {"PolicyName": "admin", "PolicyDocument": {}}, "PolicyName=admin"),
        ("Policies", "AWSLambdaBasicExecutionRole", '"AWSLambdaBasicExecutionRole"'),
        (
            "ManagedPolicyArns",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            '"arn:aws:iam::aws:policy/ReadOnlyAccess"',
        ),
        ("Statement", {"Sid": "Logs", "Effect": "Allow", "Action": "*"}, "Sid=Logs"),
        (
            "SecurityGroupIngress",
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
            "tcp 443 443 CidrIp=0.0.0.0/0",
        ),
        ("GlobalSecondaryIndexes", {"IndexName": "byUser", "KeySchema": []}, "IndexName=byUser"),
    ],
)
def test_items_are_named_from_one_table_per_list_kind(kind: str, item: Any, name: str) -> None:
    assert fp.item_name(kind, item) == name


def test_items_without_a_name_are_named_by_what_they_are() -> None:
    # a SAM policy template: its name and a digest of its parameters
    orders = fp.item_name("Policies", {"DynamoDBReadPolicy": {"TableName": "orders"}})
    users = fp.item_name("Policies", {"DynamoDBReadPolicy": {"TableName": "users"}})
    assert orders.startswith("DynamoDBReadPolicy#") and orders != users
    # a statement without Sid: what it grants, not the resource it grants it on
    wide = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
    narrowed = {**wide, "Resource": "arn:aws:s3:::b/*", "Action": ["s3:PutObject", "s3:GetObject"]}
    assert fp.item_name("Statement", wide) == fp.item_name("Statement", narrowed)
    assert fp.item_name("Statement", wide) != fp.item_name("Statement", {**wide, "Effect": "Deny"})
    # any other list: a digest without the property the finding is about
    a = fp.item_name("Things", {"Size": 1, "Colour": "red"}, leave_out="Size")
    b = fp.item_name("Things", {"Size": 9, "Colour": "red"}, leave_out="Size")
    assert a == b and a != fp.item_name("Things", {"Size": 1, "Colour": "blue"}, leave_out="Size")


def test_equal_items_get_occurrence_counters_and_distinct_paths() -> None:
    view = {"Properties": {"Policies": ["AWSLambdaBasicExecutionRole"] * 3}}
    paths = [fp.named_path(view, ("Properties", "Policies", i)) for i in range(3)]
    assert len(set(paths)) == 3
    assert paths[1] == 'Policies["AWSLambdaBasicExecutionRole"~2]'
    # an index that is not there stays an index (nothing to name)
    assert fp.named_path(view, ("Properties", "Policies", 7, "X")) == "Policies[7].X"


def test_reordering_security_group_rules_keeps_each_rules_path() -> None:
    rules = [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
    ]
    first = {"Properties": {"SecurityGroupIngress": rules}}
    second = {"Properties": {"SecurityGroupIngress": list(reversed(rules))}}
    assert fp.named_path(
        first, ("Properties", "SecurityGroupIngress", 0, "CidrIp")
    ) == fp.named_path(second, ("Properties", "SecurityGroupIngress", 1, "CidrIp"))


def test_digests_of_deep_and_huge_items_are_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(50_000):  # far past the recursion limit: the digest walks iteratively
        deep = {"k": deep}
    assert len(fp.digest(deep)) == 12 and fp.digest(deep) == fp.walked_digest(deep)
    wide = {"k": list(range(fp.MAX_DIGEST_NODES * 5))}
    # past the node budget the walk leaves the rest out: the same digest whatever follows
    longer = {"k": [*range(fp.MAX_DIGEST_NODES * 5), "more"]}
    assert fp.walked_digest(wide) == fp.walked_digest(longer)
    for digest in (fp.digest, fp.walked_digest):
        assert digest({"a": 1, "b": [2]}) == digest({"b": [2], "a": 1})
        assert digest({"a": 1, "b": [2]}) != digest({"a": 1, "b": [3]})
    # keys json cannot sort (a YAML int key beside a string) take the walk, deterministically
    odd = {1: "x", "y": 2}
    assert fp.digest(odd) == fp.digest(dict(reversed(odd.items()))) == fp.walked_digest(odd)


def test_a_renamed_template_with_a_prepended_item_keeps_its_findings(tmp_path: Path) -> None:
    """PR mode re-keys the base's findings through renames with their named paths (not the
    displayed index paths): a rename and a prepended list item in one change still match."""
    from .gitrepo import git

    repo = init(tmp_path / "repo")
    write(repo, {"old.yaml": BEFORE})
    commit(repo, "base")
    git(repo, "mv", "old.yaml", "new.yaml")
    write(repo, {"new.yaml": AFTER})
    commit(repo, "rename and prepend")
    code, data, output = scan_json(repo, "--diff-base", "HEAD~1", "--persona", "auditor")
    wildcard = [f for f in data["findings"] if f["rule_id"] == "AR-IAM-001"]
    assert wildcard and all(f["file"] == "new.yaml" and f["new"] is False for f in wildcard), output
    assert code == 0, output


def _globals(statements: int, functions: int) -> str:
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Transform: AWS::Serverless-2016-10-31",
        "Globals:",
        "  Function:",
        "    Runtime: python3.12",
        "    Policies:",
        "      - Statement:",
    ]
    for i in range(statements):
        lines += [
            "          - Effect: Allow",
            f'            Action: "{"*" if i == statements - 1 else f"s3:Get{i}"}"',
            '            Resource: "*"',
        ]
    lines.append("Resources:")
    for i in range(functions):
        lines += [f"  F{i}:", "    Type: AWS::Serverless::Function", "    Properties:"]
        lines += ["      Handler: app.handler", "      CodeUri: src/"]
    return "\n".join(lines) + "\n"


def test_naming_list_items_is_linear_in_the_list_not_in_its_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Globals list of 1,000 statements merged into 10 or 100 functions: each item is named
    once per list (remembered), whatever the number of findings that point into it."""
    calls = [0]
    real = fp.item_name

    def counting(*args: Any, **kwargs: Any) -> str:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(fp, "item_name", counting)
    named: dict[int, int] = {}
    for functions in (10, 100):
        root = tmp_path / f"f{functions}"
        write(root, {"template.yaml": _globals(1_000, functions)})
        calls[0] = 0
        findings = scan(root, ScanOptions()).findings
        assert any(f.rule_id == "AR-IAM-001" for f in findings)
        named[functions] = calls[0]
    assert 1_000 <= named[100] == named[10] <= 2 * 1_001, named
