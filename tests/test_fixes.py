"""Fixes (issue 22): the renderer keeps the file as written, and refuses what it cannot do for
certain; Edit arithmetic; the catalogue's fix classes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reviewer.checks.catalogue import FIX_CLASSES, load_catalogue
from reviewer.core.fixes import (
    Edit,
    GetAtt,
    Ref,
    Safety,
    Setting,
    SetValues,
    add_properties,
    set_value,
)
from reviewer.decode.load import decode
from reviewer.fixes import Source, SourceError, apply_edits, render_fix, render_on
from reviewer.fixes.text import EditError, diff_name, unified_diff
from reviewer.profile import Profile


def render(text: str, intent: SetValues, name: str = "t.yaml") -> str | None:
    """The file's text once the fix is applied, or None when there is no fix."""
    try:
        source = Source(name, text.encode("utf-8"))
    except SourceError:
        return None
    fix = render_on(source, intent)
    if fix is None:
        return None
    return apply_edits(text, fix.edits)


def visibility(value: int = 360, comment: str = "") -> SetValues:
    return set_value(Safety.SAFE, "d", "Q", ("Properties", "VisibilityTimeout"), value, comment)


def tree(text: str, json_first: bool = False) -> object:
    got, problems = decode(text.replace("\r\n", "\n"), json_first=json_first)
    assert not problems
    return got


# -- YAML ---------------------------------------------------------------------------------------


def test_a_literal_is_replaced_in_place_keeping_its_quotes_and_comment() -> None:
    text = (
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        '      VisibilityTimeout: "120"   # keep me\n'
        "      DelaySeconds: 0\n"
    )
    out = render(text, visibility(comment="ignored: the line has a comment"))
    assert out == text.replace('"120"', '"360"')


def test_a_missing_key_goes_after_the_last_entry_with_the_comment_gap_of_the_file() -> None:
    text = (
        "Resources:\n"
        "  Q: # the queue\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      DelaySeconds: 0 # one space\n"
        "      Tags:\n"
        "      - Key: a\n"
        "        Value: b\n"
        "\n"
        "  Other:\n"
        "    Type: AWS::SQS::Queue\n"
    )
    out = render(text, visibility(comment="6 x 60 s"))
    assert out is not None
    lines = out.split("\n")
    assert lines[8] == "      VisibilityTimeout: 360 # 6 x 60 s"  # after the indentless list
    assert out.replace("      VisibilityTimeout: 360 # 6 x 60 s\n", "") == text


def test_resource_level_keys_go_after_the_type_line() -> None:
    text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      A: 1\n"
    intent = add_properties(
        Safety.SAFE, "d", "T", (("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain"))
    )
    out = render(text, intent)
    assert out == (
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n"
        "    UpdateReplacePolicy: Retain\n    Properties:\n      A: 1\n"
    )


def test_a_missing_mapping_is_made_with_the_files_indent_unit() -> None:
    text = (
        "Resources:\n"
        "    T:\n"
        "        Type: AWS::DynamoDB::Table\n"
        "        Properties:\n"
        "            BillingMode: PAY_PER_REQUEST\n"
    )
    intent = set_value(
        Safety.SAFE,
        "d",
        "T",
        ("Properties", "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
        True,
    )
    out = render(text, intent)
    assert out == text + (
        "            PointInTimeRecoverySpecification:\n"
        "                PointInTimeRecoveryEnabled: true\n"
    )


def test_crlf_lines_stay_crlf_and_the_last_line_without_a_break_is_kept_so() -> None:
    text = "Resources:\r\n  Q:\r\n    Type: AWS::SQS::Queue\r\n    Properties:\r\n      A: 1"
    out = render(text, visibility())
    assert out == text + "\r\n      VisibilityTimeout: 360"
    assert "\n" not in out.replace("\r\n", "")


def test_a_byte_order_mark_is_kept() -> None:
    text = "\ufeffResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 5\n"
    out = render(text, visibility())
    assert out == text.replace(": 5", ": 360")


def test_references_follow_the_files_intrinsic_form() -> None:
    short = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      QueueName: !Sub '${AWS::StackName}-q'\n"
    )
    long = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      QueueName:\n        Fn::Sub: '${AWS::StackName}-q'\n"
    )
    intent = SetValues(
        Safety.SAFE,
        "d",
        "Q",
        (
            Setting(("Properties", "KmsMasterKeyId"), Ref("Key")),
            Setting(("Properties", "Other"), GetAtt("Key", "Arn")),
        ),
    )
    assert render(short, intent) == short + (
        "      KmsMasterKeyId: !Ref Key\n      Other: !GetAtt Key.Arn\n"
    )
    assert render(long, intent) == long + (
        "      KmsMasterKeyId:\n        Ref: Key\n      Other:\n        Fn::GetAtt: [Key, Arn]\n"
    )


def test_a_null_value_is_filled_in_and_not_added_twice() -> None:
    text = (
        "Resources:\n  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays:\n"
    )
    intent = set_value(Safety.SAFE, "d", "L", ("Properties", "RetentionInDays"), 365)
    assert render(text, intent) == text.replace("RetentionInDays:", "RetentionInDays: 365")


def test_words_yaml_reads_as_booleans_are_quoted() -> None:
    text = "Resources:\n  P:\n    Type: AWS::Cognito::UserPool\n    Properties:\n      A: 1\n"
    intent = set_value(Safety.UNSAFE, "d", "P", ("Properties", "MfaConfiguration"), "ON")
    assert render(text, intent) == text + '      MfaConfiguration: "ON"\n'


def test_a_block_scalar_ending_in_a_comment_like_line_is_not_split() -> None:
    text = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      Doc: |\n        text\n        # not a comment: part of the text\n"
    )
    out = render(text, visibility())
    assert out == text + "      VisibilityTimeout: 360\n"


@pytest.mark.parametrize(
    "properties",
    [
        "    Properties: {VisibilityTimeout: 30}\n",  # a flow mapping
        "    Properties:\n      VisibilityTimeout: !Ref Visibility\n",  # a parameter
        "    Properties:\n      VisibilityTimeout: !If [Fast, 30, 60]\n",  # a condition
        "    Properties:\n      VisibilityTimeout: &v 30\n",  # an anchor
        "    Properties:\n      VisibilityTimeout: >-\n        30\n",  # a block scalar
        "    Properties: !If\n      - Fast\n      - {DelaySeconds: 1}\n      - {}\n",
        "    Properties:\n      VisibilityTimeout: 30\n        # continued\n"
        "        40\n",  # a plain scalar over two lines
    ],
)
def test_no_fix_rather_than_a_wrong_one(properties: str) -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n" + properties
    assert render(text, visibility()) is None


def test_applying_twice_changes_nothing() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    once = render(text, visibility())
    assert once is not None
    assert render(once, visibility()) is None  # already set: nothing to do


def test_other_line_breaks_get_no_fix() -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Description: a\u2028b\n"
    assert render(text, visibility()) is None


# -- JSON ---------------------------------------------------------------------------------------


def test_json_member_added_with_the_objects_layout() -> None:
    text = (
        "{\n"
        '    "Resources" : {\n'
        '        "Q" : {\n'
        '            "Type" : "AWS::SQS::Queue",\n'
        '            "Properties" : {\n'
        '                "DelaySeconds" : 0\n'
        "            }\n"
        "        }\n"
        "    }\n"
        "}\n"
    )
    out = render(text, visibility(comment="JSON has no comments"), "t.json")
    assert out == text.replace(
        '"DelaySeconds" : 0\n', '"DelaySeconds" : 0,\n                "VisibilityTimeout" : 360\n'
    )
    intent = set_value(
        Safety.SAFE,
        "d",
        "Q",
        ("Properties", "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
        True,
    )
    nested = render(text, intent, "t.json")
    assert nested is not None
    assert json.loads(nested)["Resources"]["Q"]["Properties"][
        "PointInTimeRecoverySpecification"
    ] == {"PointInTimeRecoveryEnabled": True}
    assert (
        '                "PointInTimeRecoverySpecification" : {\n'
        '                    "PointInTimeRecoveryEnabled" : true\n'
        "                }\n" in nested
    )


def test_json_inline_object_and_string_numbers() -> None:
    text = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "30"}}}}'
    assert render(text, visibility(), "t.json") == text.replace('"30"', '"360"')
    text2 = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"A": 1}}}}'
    assert render(text2, visibility(), "t.json") == text2.replace(
        '"A": 1', '"A": 1, "VisibilityTimeout": 360'
    )
    intent = add_properties(Safety.SAFE, "d", "Q", (("DeletionPolicy", "Retain"),))
    assert render(text2, intent, "t.json") == text2.replace(
        '"Type": "AWS::SQS::Queue"', '"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain"'
    )


def test_json_crlf_and_refusals() -> None:
    text = '{\r\n  "Resources": {\r\n    "Q": {\r\n      "Type": "AWS::SQS::Queue"\r\n    }\r\n  }\r\n}\r\n'
    out = render(text, visibility(), "t.json")
    assert out == text.replace(
        '"Type": "AWS::SQS::Queue"\r\n',
        '"Type": "AWS::SQS::Queue",\r\n      "Properties": {\r\n        "VisibilityTimeout": 360\r\n      }\r\n',
    )
    empty = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}'
    assert render(empty, visibility(), "t.json") is None
    ref = '{"Resources": {"Q": {"Type": "X", "Properties": {"VisibilityTimeout": {"Ref": "P"}}}}}'
    assert render(ref, visibility(), "t.json") is None


# -- Edits, diffs ---------------------------------------------------------------------------------


def test_apply_edits_refuses_overlaps_and_positions_past_a_line() -> None:
    text = "ab\r\ncd\n"
    assert apply_edits(text, [Edit("f", 1, 3, 1, 3, "X"), Edit("f", 3, 1, 3, 1, "e\n")]) == (
        "abX\r\ncd\ne\n"
    )
    with pytest.raises(EditError):
        apply_edits(text, [Edit("f", 1, 4, 1, 4, "X")])  # into the \r
    with pytest.raises(EditError):
        apply_edits(text, [Edit("f", 1, 1, 1, 3, "X"), Edit("f", 1, 2, 1, 2, "Y")])


def test_diff_names_are_quoted_like_git() -> None:
    assert diff_name("a/plain.yaml") == "a/plain.yaml"
    assert diff_name('a/x"\x1b.yaml') == '"a/x\\"\\033.yaml"'
    diff = unified_diff("t.yaml", "a\nb", "a\nc")
    assert diff.endswith("+c\n\\ No newline at end of file\n")


# -- the file the fix is rendered on ---------------------------------------------------------------


def test_render_fix_reads_inside_the_checkout_only(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    os.symlink(outside, root / "t.yaml")
    os.symlink(tmp_path, root / "link")
    for name in ("t.yaml", "link/outside.yaml", "../outside.yaml"):
        assert (
            render_fix(visibility(), template=None, file=name, root=root, profile=Profile()) is None
        )
    (root / "sub" / "t.yaml").write_text(outside.read_text())
    fix = render_fix(visibility(), template=None, file="sub/t.yaml", root=root, profile=Profile())
    assert fix is not None and fix.edits[0].file == "sub/t.yaml"


def test_render_fix_refuses_a_file_changed_since_the_scan(tmp_path: Path) -> None:
    from reviewer.model.build import build

    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    (tmp_path / "t.yaml").write_text(text + "# edited after the scan\n")
    template = build("t.yaml", "", tree(text), text)  # type: ignore[arg-type]
    assert (
        render_fix(visibility(), template=template, file="t.yaml", root=tmp_path, profile=Profile())
        is None
    )
    (tmp_path / "t.yaml").write_text(text)
    assert render_fix(
        visibility(), template=template, file="t.yaml", root=tmp_path, profile=Profile()
    )


def test_edits_carry_the_lines_they_replace() -> None:
    text = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 3\n"
    )
    fix = render_on(Source("t.yaml", text.encode()), visibility())
    assert fix is not None
    assert [e.original for e in fix.edits] == ["      VisibilityTimeout: 3"]


# -- catalogue -----------------------------------------------------------------------------------


def test_every_rule_says_its_fix_class_and_why() -> None:
    catalogue = load_catalogue()
    for meta in catalogue.values():
        assert meta.fix_class in FIX_CLASSES, meta.id
        assert meta.fix_note, meta.id
        if meta.fix_class == "none":
            assert meta.fix_note.startswith("Cannot be fixed mechanically: "), meta.id
    safe = {m.id for m in catalogue.values() if m.fix_class == "safe"}
    assert {
        "AR-EVT-003",
        "AR-DBS-002",
        "AR-DAT-002",
        "AR-EVT-002",
        "AR-OBS-003",
        "AR-DAT-006",
    } <= safe


def test_proofs_are_bounded_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import reviewer.fixes as fixes

    groups = "".join(
        f"  Logs{i}:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: g{i}\n"
        for i in range(40)
    )
    text = "Resources:\n" + groups
    source = Source("t.yaml", text.encode())
    monkeypatch.setattr(fixes, "PROOF_BUDGET_CHARS", 10 * len(source.text))
    rendered = [
        render_on(
            source,
            set_value(Safety.SAFE, "d", f"Logs{i}", ("Properties", "RetentionInDays"), 365),
        )
        for i in range(40)
    ]
    assert sum(f is not None for f in rendered) == 10  # then no more work on this file
    assert fixes.proof_spent(source.digest) == 10 * len(source.text)
