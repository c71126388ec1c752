"""Hostile and broken input (issue 10): every bad file is a precise finding or error and the
scan goes on; nothing from the repository is executed; no credential leaks; repository text is
inert in every human format; the ADR writer stays inside --out and writes atomically.

Each bad-input test puts a good template next to the bad file (`good/template.yaml`, a queue
without a dead-letter queue: AR-EVT-001) and checks that its finding is still there, and that
no check crashed (AR-MOD-005). The time and memory of the alias bomb and the 10,000-deep
nesting cases are measured in bench/bomb.py, not here.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape as xml_escape

import pytest
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.core.types import Persona, Report
from reviewer.decode import load as load_mod
from reviewer.discover import inventory as discover_mod
from reviewer.outputs import FORMATS, RenderOptions, renderer
from reviewer.outputs.adr import write_adrs
from reviewer.profile.loader import ProfileError, load_profile, parse_profile_text
from reviewer.runner.engine import ScanOptions, scan

from .conftest import ROOT, require_shared

TODAY = date(2026, 11, 25)
GOOD = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Jobs:\n    Type: AWS::SQS::Queue\n"
ENGINE_RULES = ("AR-MOD-003", "AR-MOD-005", "AR-MOD-006")


def _repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in {"good/template.yaml": GOOD, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def _scan(root: Path, **options: Any) -> Report:
    options.setdefault("persona", Persona.AUDITOR)  # every finding, whoever it is worth saying to
    return scan(root, ScanOptions(today=TODAY, **options))


def _engine(report: Report, file: str | None = None) -> list[tuple[str, str, int, int, str]]:
    return [
        (f.rule_id, f.file, f.line, f.column, f.message)
        for f in report.findings
        if f.rule_id in ENGINE_RULES and (file is None or f.file == file)
    ]


def _goes_on(report: Report) -> None:
    """The good template was reviewed and no check crashed."""
    assert any(
        f.rule_id == "AR-EVT-001" and f.file == "good/template.yaml" for f in report.findings
    )
    assert not [f.message for f in report.findings if f.rule_id == "AR-MOD-005"]


# -- malformed YAML and JSON, duplicate keys, empty sections ----------------------------------


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "problem"),
    [
        (
            "template.yaml",
            "Resources:\n  A:\n    Type: [AWS::SQS::Queue\n",
            4,
            1,
            "did not find expected ',' or ']'",
        ),
        (
            "template.yaml",
            "Resources:\n\tA:\n    Type: AWS::SQS::Queue\n",
            2,
            1,
            "found character that cannot start any token",
        ),
        (
            "template.yaml",
            "Resources:\n  A:\n    Type: 'AWS::SQS::Queue\n",
            4,
            1,
            "found unexpected end of stream",
        ),
        (
            "template.yaml",
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n   Properties: {}\n",
            4,
            4,
            "did not find expected key",
        ),
        (
            "template.json",
            '{\n  "Resources": {\n    "A": {"Type": "AWS::SQS::Queue"},\n  }\n}\n',
            4,
            4,
            "Expecting property name enclosed in double quotes",
        ),
        (
            "template.json",
            '{\n  "Resources": {\n    "A": {"Type": "AWS::SQS::Queue"}\n',
            4,
            2,
            "Expecting ',' delimiter",
        ),
        ("template.yaml", "- a\n- b\n", 1, 1, "the top level is not a mapping"),
        ("template.yaml", "just text\n", 1, 1, "the top level is not a mapping"),
    ],
)
def test_malformed_templates_are_a_parse_finding_at_their_line(
    tmp_path: Path, name: str, text: str, line: int, column: int, problem: str
) -> None:
    report = _scan(_repo(tmp_path, {f"bad/{name}": text}))
    assert _engine(report) == [
        (
            "AR-MOD-003",
            f"bad/{name}",
            line,
            column,
            f"bad/{name} could not be parsed: {problem} at line {line}",
        )
    ]
    _goes_on(report)


@pytest.mark.parametrize(
    ("name", "text", "message", "line", "column"),
    [
        (
            "template.yaml",
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Type: AWS::SNS::Topic\n",
            "duplicate key 'Type' (first at line 3)",
            4,
            5,
        ),
        (
            "template.yaml",
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n  A:\n    Type: AWS::SNS::Topic\n",
            "duplicate key 'A' (first at line 2)",
            4,
            3,
        ),
        (
            "template.json",
            '{\n  "Resources": {\n    "A": {"Type": "AWS::SQS::Queue"},\n    "A": {"Type": "AWS::SNS::Topic"}\n  }\n}\n',
            "duplicate key 'A' (first at line 3)",
            4,
            6,
        ),
    ],
)
def test_duplicate_keys_name_the_key_and_both_lines(
    tmp_path: Path, name: str, text: str, message: str, line: int, column: int
) -> None:
    report = _scan(_repo(tmp_path, {f"bad/{name}": text}))
    assert _engine(report) == [
        (
            "AR-MOD-003",
            f"bad/{name}",
            line,
            column,
            f"bad/{name} could not be parsed: {message} at line {line}",
        )
    ]
    _goes_on(report)


@pytest.mark.parametrize(
    "text",
    [
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n"
        "Mappings:\nConditions:\nGlobals:\nResources:\nOutputs:\nMetadata:\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: ~\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: [a, b]\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources: nothing\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n  B: 5\n  C: [x]\n  D: {Type: 7}\n",
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n  Api:\nResources:\n  F:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n      Policies:\n"
        "      Environment:\n      DeploymentPreference:\n",
        "# only a comment\n",
    ],
)
def test_empty_sections_are_data_not_errors(tmp_path: Path, text: str) -> None:
    report = _scan(_repo(tmp_path, {"odd/template.yaml": text}))
    assert _engine(report) == []
    assert report.files.templates == 2
    _goes_on(report)


@pytest.mark.parametrize("text", ["", "\n  \n\n"])
def test_an_empty_file_is_a_precise_finding(tmp_path: Path, text: str) -> None:
    report = _scan(_repo(tmp_path, {"empty/template.yaml": text}))
    assert _engine(report) == [
        ("AR-MOD-003", "empty/template.yaml", 1, 1, "empty/template.yaml is empty")
    ]
    _goes_on(report)


# -- alias bombs and deep nesting -------------------------------------------------------------


def _laughs(levels: int, fan: int = 9, where: str = "Tags") -> str:
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Metadata:",
        '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    previous = "a"
    for i in range(levels):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*{previous}"] * fan) + "]")
        previous = f"l{i}"
    lines += [
        "Resources:",
        "  T:",
        "    Type: AWS::SNS::Topic",
        "    Properties:",
        f"      {where}: *{previous}",
    ]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_node_cap(tmp_path: Path) -> None:
    from cfnlint.decode.cfn_yaml import _MAX_EXPANDED_NODES as cap

    report = _scan(_repo(tmp_path, {"bomb/template.yaml": _laughs(9)}))  # 9**10 nodes once expanded
    [(rule, file, line, _, message)] = _engine(report)
    assert (rule, file, line) == ("AR-MOD-003", "bomb/template.yaml", 1)
    assert f"more than {cap} nodes once YAML aliases are expanded" in message
    _goes_on(report)


def test_aliases_below_the_cap_are_expanded_and_reviewed(tmp_path: Path) -> None:
    # 9**5 = 59,049 leaves: under the cap, decoded with the aliases shared, not copied
    report = _scan(_repo(tmp_path, {"dag/template.yaml": _laughs(4)}))
    assert _engine(report) == []
    _goes_on(report)


def test_the_loader_has_its_own_node_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Besides the alias-expansion cap, a decoded tree with more than MAX_NODES distinct nodes
    is refused (the default, 2,000,000, needs a text over 1 MB)."""
    monkeypatch.setattr(load_mod, "MAX_NODES", 50)
    text = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(40))
    for json_first in (False, True):
        body = (
            text
            if not json_first
            else json.dumps(
                {"Resources": {f"Q{i}": {"Type": "AWS::SQS::Queue"} for i in range(40)}}
            )
        )
        tree, problems = load_mod.decode(body, json_first=json_first)
        assert tree is None
        assert problems == (
            load_mod.ParseProblem("the decoded document has over 50 nodes (alias bomb?)", 1, 1),
        )
    tree, problems = load_mod.decode(GOOD)
    assert problems == () and tree is not None


DEEP = 10_000
HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("template.yaml", HEAD + "      PolicyDocument: " + "[" * DEEP + "]" * DEEP + "\n", 6),
        (
            "template.yaml",
            HEAD + "      PolicyDocument: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
            6,
        ),
        ("template.yaml", HEAD + "".join(" " * (6 + i) + f"k{i}:\n" for i in range(1_200)), 1002),
        (
            "template.json",
            '{"Resources": {"P": {"Type": "AWS::SQS::Queue", "Properties": '
            + "[" * DEEP
            + "]" * DEEP
            + "}}}",
            1,
        ),
    ],
)
def test_deep_nesting_is_a_parse_finding(tmp_path: Path, name: str, text: str, line: int) -> None:
    report = _scan(_repo(tmp_path, {f"deep/{name}": text}))
    [(rule, file, at, _, message)] = _engine(report)
    assert (rule, file, at) == ("AR-MOD-003", f"deep/{name}", line)
    assert message.startswith(f"deep/{name} could not be parsed: exceeded maximum nesting depth")
    _goes_on(report)


def test_a_deep_json_string_does_not_crash_the_checks_that_read_it(tmp_path: Path) -> None:
    deep = "[" * DEEP + "]" * DEEP
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        f"  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument: '{deep}'\n"
        f"  B:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: b\n      PolicyDocument: '{deep}'\n"
        f"  S:\n    Type: AWS::SecretsManager::Secret\n    Properties:\n      SecretString: '{deep}'\n"
        f"  R:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n      Body: '{deep}'\n"
        f"  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: '{deep}'\n"
    )
    report = _scan(_repo(tmp_path, {"deep/template.yaml": text}))
    assert _engine(report) == []
    _goes_on(report)


def test_a_deeply_nested_samconfig_does_not_end_the_scan(tmp_path: Path) -> None:
    files = {
        "svc/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P: {Type: String}\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        "svc/samconfig.toml": "x = " + "[" * DEEP + "]" * DEEP + "\n",
    }
    report = _scan(_repo(tmp_path, files))
    _goes_on(report)


def test_a_deeply_nested_samconfig_names_no_stack() -> None:
    from reviewer.aws.live import samconfig_stack

    assert samconfig_stack("x = " + "[" * DEEP + "]" * DEEP) == (None, None)


# -- what bench/fuzz.py found: checks that crashed on odd values ---------------------------

SG = "  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"


@pytest.mark.parametrize(
    "text",
    [
        # an export whose name imports: building the export index recursed without end
        "Resources:\n" + SG + "      SecurityGroupIngress:\n        - Fn::ImportValue: Loop\n"
        "Outputs:\n  O:\n    Value:\n    Export:\n      Name:\n        - Fn::ImportValue: Loop\n",
        # infinite and huge numbers where a port, an index or a timeout goes
        "Resources:\n"
        + SG
        + "      SecurityGroupIngress:\n      - IpProtocol: tcp\n        FromPort: 22\n"
        "        ToPort: .inf\n",
        "Resources:\n"
        + SG
        + "      SecurityGroupIngress:\n      - IpProtocol: tcp\n        FromPort: 22\n"
        "        ToPort: 1" + "0" * 400 + "\n",
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Runtime: !Select [.inf, [python3.8]]\n      Timeout: 1" + "0" * 400 + "\n",
        # a mapping where a policy name goes
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: {Retain: true}\n"
        "    UpdateReplacePolicy: [Retain]\n",
    ],
    ids=["export-name-imports", "infinite-port", "huge-port", "infinite-index", "policy-mapping"],
)
def test_odd_values_found_by_fuzzing_do_not_crash_a_check(tmp_path: Path, text: str) -> None:
    root = _repo(tmp_path, {"odd/template.yaml": text})
    report = _scan(root, strict=True)  # strict: a check that raises fails the test
    assert _engine(report) == []
    _goes_on(report)


# -- size limit, binary files, encodings, line endings ----------------------------------------


class _Opens:
    """Every path opened through os.open, open() or io.open while active."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real_os_open, real_open = os.open, builtins.open

        def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
            self.paths.append(os.fspath(path))
            return real_os_open(path, *args, **kwargs)

        def any_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, bytes, os.PathLike)):
                self.paths.append(os.fsdecode(os.fspath(file)))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(builtins, "open", any_open)
        monkeypatch.setattr(io, "open", any_open)

    def touched(self, path: Path) -> bool:
        return any(os.path.realpath(p) == os.path.realpath(path) for p in self.paths)


def test_a_file_over_the_default_limit_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path / "repo", {})
    big = root / "big" / "template.yaml"
    big.parent.mkdir()
    with big.open("wb") as handle:  # sparse: 5 MB + 1 byte that nobody reads
        handle.truncate(5_000_001)
    opens = _Opens(monkeypatch)
    report = _scan(root)
    assert not opens.touched(big)
    assert _engine(report) == [
        (
            "AR-MOD-006",
            "big/template.yaml",
            1,
            1,
            "big/template.yaml was not reviewed: over the size limit "
            "(5,000,001 bytes, over the 5,000,000-byte limit)",
        )
    ]
    _goes_on(report)


def test_the_size_limit_is_configurable_for_every_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pad = "# " + "x" * 400 + "\n"
    root = _repo(
        tmp_path / "repo",
        {
            "a/template.yaml": GOOD + pad,
            "b/go.mod": "module example.com/b\n\ngo 1.22\n// " + "x" * 400 + "\n",
            "c/package.json": json.dumps({"name": "c", "description": "x" * 400}),
        },
    )
    opens = _Opens(monkeypatch)
    report = _scan(root, max_bytes=300)
    for rel in ("a/template.yaml", "b/go.mod", "c/package.json"):
        assert not opens.touched(root / rel), rel
    assert sorted((r, f) for r, f, *_ in _engine(report)) == [
        ("AR-MOD-006", "a/template.yaml"),
        ("AR-MOD-006", "b/go.mod"),
        ("AR-MOD-006", "c/package.json"),
    ]
    assert all("over the 300-byte limit" in m for *_, m in _engine(report))
    _goes_on(report)


def test_a_large_file_found_by_content_is_only_sniffed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path / "repo", {"stacks/network.yml": GOOD + "#" * 20_000 + "\n"})
    reads: list[tuple[str, int]] = []
    real = discover_mod._read_fd

    def spy(path: str, want: int) -> bytes:
        reads.append((path, want))
        return real(path, want)

    monkeypatch.setattr(discover_mod, "_read_fd", spy)
    report = _scan(root, max_bytes=10_000)
    assert [want for path, want in reads if path.endswith("network.yml")] == [8192]
    assert [(r, f) for r, f, *_ in _engine(report)] == [("AR-MOD-006", "stacks/network.yml")]
    _goes_on(report)


def test_binary_files_named_like_templates(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "bin/template.yml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "bin/go.mod": b"module x\x00\n",
        },
    )
    report = _scan(root)
    assert sorted(_engine(report)) == [
        (
            "AR-MOD-006",
            "bin/go.mod",
            1,
            1,
            "bin/go.mod was not reviewed: a binary file (NUL bytes in the first 8 KB and no UTF-16 byte-order mark)",
        ),
        (
            "AR-MOD-006",
            "bin/template.yml",
            1,
            1,
            "bin/template.yml was not reviewed: a binary file (NUL bytes in the first 8 KB and no UTF-16 byte-order mark)",
        ),
    ]
    _goes_on(report)


def test_text_that_is_not_utf8_or_utf16(tmp_path: Path) -> None:
    latin = "AWSTemplateFormatVersion: '2010-09-09'\nDescription: café\nResources: {}\n".encode(
        "latin-1"
    )
    root = _repo(
        tmp_path,
        {
            "latin/template.yaml": latin,
            "utf32/template.yaml": GOOD.encode("utf-32"),
            "nobom/template.yaml": GOOD.encode("utf-16-le"),
        },
    )
    report = _scan(root)
    offset = latin.index(b"\xe9")
    assert sorted(_engine(report)) == [
        (
            "AR-MOD-006",
            "latin/template.yaml",
            1,
            1,
            f"latin/template.yaml was not reviewed: not decodable as UTF-8 or UTF-16 (not UTF-8 (byte 0xe9 at offset {offset}) and no UTF-16 byte-order mark)",
        ),
        (
            "AR-MOD-006",
            "nobom/template.yaml",
            1,
            1,
            "nobom/template.yaml was not reviewed: a binary file (NUL bytes in the first 8 KB and no UTF-16 byte-order mark)",
        ),
        (
            "AR-MOD-006",
            "utf32/template.yaml",
            1,
            1,
            "utf32/template.yaml was not reviewed: not decodable as UTF-8 or UTF-16 (UTF-32 text (byte-order mark found); only UTF-8 and UTF-16 are read)",
        ),
    ]
    _goes_on(report)


QUEUE = "AWSTemplateFormatVersion: '2010-09-09'\n# a comment\nResources:\n  Orders:\n    Type: AWS::SQS::Queue\n"


@pytest.mark.parametrize(
    "data",
    [
        QUEUE.encode("utf-8"),
        b"\xef\xbb\xbf" + QUEUE.encode("utf-8"),
        b"\xff\xfe" + QUEUE.encode("utf-16-le"),
        b"\xfe\xff" + QUEUE.encode("utf-16-be"),
        QUEUE.replace("\n", "\r\n").encode("utf-8"),
        b"\xff\xfe" + QUEUE.replace("\n", "\r\n").encode("utf-16-le"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "crlf", "utf16-crlf"],
)
def test_encodings_and_line_endings_give_the_same_findings(tmp_path: Path, data: bytes) -> None:
    report = _scan(_repo(tmp_path, {"enc/template.yaml": data}))
    assert _engine(report) == []
    found = [
        (f.rule_id, f.line, f.column, f.resource, f.source)
        for f in report.findings
        if f.file == "enc/template.yaml"
    ]
    assert ("AR-EVT-001", 4, 3, "Orders", "  Orders:") in found
    _goes_on(report)


# -- symbolic links and unreadable files ------------------------------------------------------


def test_symlink_loops_and_links_leaving_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "template.yaml").write_text(GOOD.replace("Jobs", "Outside"), encoding="utf-8")
    root = _repo(tmp_path / "repo", {"loop/sub/keep.txt": "x"})
    (root / "loop" / "sub" / "back").symlink_to(root / "loop", target_is_directory=True)
    (root / "leak").symlink_to(outside, target_is_directory=True)
    (root / "file").mkdir()
    (root / "file" / "template.yaml").symlink_to(outside / "template.yaml")
    (root / "self").mkdir()
    (root / "self" / "template.yaml").symlink_to(root / "self" / "template.yaml")
    (root / "dangling").mkdir()
    (root / "dangling" / "go.mod").symlink_to(root / "nowhere" / "go.mod")
    opens = _Opens(monkeypatch)
    report = _scan(root)
    assert not opens.touched(outside / "template.yaml")
    assert not [f for f in report.findings if f.resource == "Outside"]
    by_file = {f: (r, m) for r, f, _, _, m in _engine(report)}
    assert by_file["loop/sub/back"] == (
        "AR-MOD-006",
        "loop/sub/back was not reviewed: a symlink loop (symbolic link to loop, a folder that encloses it: following it would loop)",
    )
    assert by_file["leak"] == (
        "AR-MOD-006",
        f"leak was not reviewed: a symlink leaving the repository (symbolic link to {outside}, outside the repository root)",
    )
    assert by_file["file/template.yaml"][1].startswith(
        "file/template.yaml was not reviewed: a symlink leaving the repository"
    )
    assert by_file["self/template.yaml"][1].startswith(
        "self/template.yaml was not reviewed: unreadable (cannot be read:"
    )
    assert by_file["dangling/go.mod"] == (
        "AR-MOD-006",
        "dangling/go.mod was not reviewed: unreadable (broken symbolic link)",
    )
    assert len(by_file) == 5
    _goes_on(report)


def test_unreadable_files_and_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path, {"locked/template.yaml": GOOD, "sealed/sub/go.mod": "module x\n"})
    real_open, real_scandir = os.open, os.scandir

    def named(path: Any, dir_fd: int | None = None) -> str:
        """The path a call names, descriptors resolved (some callers walk by descriptor)."""
        if isinstance(path, int):
            return os.readlink(f"/proc/self/fd/{path}")
        text = os.fsdecode(path)
        if dir_fd is not None and not text.startswith("/"):
            return os.readlink(f"/proc/self/fd/{dir_fd}") + "/" + text
        return text

    def deny_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if named(path, kwargs.get("dir_fd")).endswith("locked/template.yaml"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    def deny_scandir(path: Any = ".") -> Any:
        if named(path).endswith("sealed"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "open", deny_open)
    monkeypatch.setattr(os, "scandir", deny_scandir)
    report = _scan(root)
    assert sorted(_engine(report)) == [
        (
            "AR-MOD-006",
            "locked/template.yaml",
            1,
            1,
            "locked/template.yaml was not reviewed: unreadable (cannot be read: Permission denied)",
        ),
        (
            "AR-MOD-006",
            "sealed",
            1,
            1,
            "sealed was not reviewed: unreadable (cannot be read: Permission denied)",
        ),
    ]
    _goes_on(report)


# -- broken manifests, agent definitions and profiles -----------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message", "line", "column"),
    [
        ("go.mod", "module\n", "usage: module module/path", 1, 1),
        (
            "go.mod",
            "module example.com/x\n\nrequire (\n  github.com/a/b v1.0.0\n",
            "syntax error (unterminated block started at 3:1)",
            3,
            1,
        ),
        (
            "go.mod",
            "module example.com/x\ngo 1.2x\n",
            "invalid go version '1.2x': must match format 1.23.0",
            2,
            1,
        ),
        (
            "go.mod",
            "module example.com/x\n/* no */\n",
            "mod files must use // comments (not /* */ comments)",
            2,
            1,
        ),
        (
            "package.json",
            '{\n  "name": "x",\n  // a comment\n  "version": "1.0.0"\n}\n',
            None,
            3,
            3,
        ),
        (
            "package.json",
            '{\n  "dependencies": {"a": "^1",}\n}\n',
            "trailing comma is not allowed (strict JSON)",
            2,
            29,
        ),
        (
            "package.json",
            "[1, 2]\n",
            "package.json must contain a JSON object at the top level",
            1,
            1,
        ),
        (
            "package.json",
            '{"dependencies": ["react"]}\n',
            '"dependencies" must be an object of package names to versions',
            1,
            18,
        ),
        (
            "package.json",
            '{"dependencies": {"react": 18}}\n',
            '"dependencies" entry "react" must be a version string',
            1,
            28,
        ),
    ],
)
def test_broken_manifests_are_a_parse_finding_at_their_position(
    tmp_path: Path, name: str, text: str, message: str | None, line: int, column: int
) -> None:
    report = _scan(_repo(tmp_path, {f"svc/{name}": text}))
    [(rule, file, at_line, at_column, said)] = _engine(report)
    assert (rule, file, at_line, at_column) == ("AR-MOD-003", f"svc/{name}", line, column)
    assert said.startswith(f"svc/{name} could not be parsed: ")
    if message is not None:
        assert said == f"svc/{name} could not be parsed: {message} at line {line}"
    _goes_on(report)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("# Architecture\n\nNo front matter here.\n", "no YAML front matter", 1),
        ("---\nname: x\n\nbody that never closes the front matter\n", "never closed", 1),
        ("---\nname: [unclosed\n---\nbody\n", "front matter: invalid YAML", 2),
        (
            "---\nname: x\nbad: \x07bell\n---\n",
            "front matter: invalid YAML: special characters are not allowed",
            3,
        ),
        ("---\n- a list\n---\n", "the front matter is not a YAML mapping", 2),
        ("---\n" + "a: " + "[" * 5000 + "]" * 5000 + "\n---\n", "nested deeper than", 2),
    ],
)
def test_bad_agent_definitions_are_profile_errors_with_a_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = tmp_path / "agent.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert message in caught.value.message
    assert (caught.value.file, caught.value.line) == (str(path), line)


def test_a_bad_agent_definition_exits_2_without_a_traceback(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {})
    agent = tmp_path / "agent.md"
    agent.write_text("No front matter at all.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(repo), "--profile", str(agent)])
    assert result.exit_code == 2
    assert f"{agent}:1:1: no YAML front matter" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "events:\n  retention_days: four\n",
            (2, 19),
            "events.retention_days must be an integer, not a string",
        ),
        (
            "layers:\n  api:\n    enabled: 3\n",
            (3, 14),
            "layers.api.enabled must be true or false, not an integer",
        ),
        ("stack:\n  node:\n    packages: [react]\n", (3, 15), "must be a mapping"),
        ("rules:\n  disable: AR-EVT-001\n", (2, 12), "must be a list of strings"),
        ("exclude: 5\n", (1, 10), "exclude must be a list of strings, not an integer"),
        ("suppressions: {a: b}\n", (1, 15), "suppressions must be a list, not a mapping"),
        ("sizing:\n  classes: []\n", (2, 12), "must be a mapping"),
        ("- a\n- b\n", (1, 1), "the profile must be a mapping, not a list"),
        ("version: 1\nversion: 1\n", (2, 1), "duplicate key 'version' (first at line 1)"),
        ("1: x\n", (1, 1), "keys must be strings"),
        (
            "name: !!python/name:os.system\n",
            (1, 7),
            "invalid value: could not determine a constructor",
        ),
        (
            "name: !!python/object/apply:os.system ['touch x']\n",
            (1, 7),
            "name must be a non-empty string, not a list",
        ),
        ("a: &a {x: 1}\nb:\n  <<: *a\n", (3, 3), "merge keys (<<) are not supported here"),
        ("name: \x1b[31m\n", (1, 7), "special characters are not allowed"),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", (1, 1), "nested deeper than"),
    ],
)
def test_profiles_with_wrong_types_name_file_line_and_column(
    text: str, where: tuple[int, int], message: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile_text(text, ".archreview.yml")
    err = caught.value
    assert message in err.message
    assert (err.file, err.line, err.column) == (".archreview.yml", *where)


# -- the real corpus ---------------------------------------------------------------------------

UNPARSEABLE = {
    "apigw-custom-domain-edge/template.yaml": (35, "could not find expected ':'"),
    "rds-sns-event-notification/template.yaml": (3, "did not find expected key"),
    "apigw-ec2/template.yaml": (80, "duplicate key 'eu-west-3' (first at line 64)"),
    "appsync-dynamodb-singletable/template.yaml": (58, "duplicate key 'AuthenticationType'"),
    "cloudfront-apigw-http-api-lambda-rust/template.yml": (
        74,
        "duplicate key 'Name' (first at line 70)",
    ),
    "cloudfront-failover-apigw-http-api-lambda-rust/cloudfront.yml": (25, "duplicate key 'Name'"),
    "cloudfront-lambda-url-rust/template.yml": (45, "duplicate key 'Name' (first at line 41)"),
    "cognito-sns-sms-origination-id-sam/template.yaml": (65, "duplicate key 'MfaConfiguration'"),
    "lambda-streaming-sdk-sam/template.yaml": (43, "duplicate key 'MidstreamErrorFunction'"),
    "msk-lambda-schema-avro-java-sam/template_original.yaml": (
        60,
        "duplicate key 'SchemaRegistryURI'",
    ),
    "multi-account-private-apigw/centralAccount/template.yaml": (234, "duplicate key 'Handler'"),
    "public-nlb-or-alb-private-api-cfn/template.yaml": (358, "duplicate key 'HealthCheckEnabled'"),
    "sam-webapp-cognito/template.yaml": (29, "duplicate key 'Name' (first at line 25)"),
    "vpc-lattice-lambda/template.yaml": (178, "duplicate key 'Description'"),
}
EMPTY_SECTIONS = (
    "_pattern-model/template.yaml",
    "apigw-lambda-sagemaker-jumpstartendpoint-cdk-python/template.yaml",
    "dynamodb-lambda-cdk-kotlin/template.yaml",
    "kinesis-lambda-ddb-cdk-java/template.yaml",
    "kinesis-lambda-py-cdk/template.yaml",
    "eventbridge-schedule-stepfunctions-sam/template.yaml",
)


def test_the_corpus_hard_cases(tmp_path: Path) -> None:
    corpus = require_shared("corpora", "serverless-patterns")
    root = tmp_path / "repo"
    for rel in (*UNPARSEABLE, *EMPTY_SECTIONS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / rel, root / rel)
    report = _scan(_repo(root, {}))
    engine = _engine(report)
    assert sorted(f for _, f, *_ in engine) == sorted(UNPARSEABLE)
    for rule, file, line, _, message in engine:
        expected_line, problem = UNPARSEABLE[file]
        assert (rule, line) == ("AR-MOD-003", expected_line), file
        assert message.startswith(f"{file} could not be parsed: {problem}"), message
    assert report.files.templates == len(UNPARSEABLE) + len(EMPTY_SECTIONS) + 1
    _goes_on(report)


# -- nothing executed --------------------------------------------------------------------------


def _planted(root: Path, sentinel: Path) -> Path:
    """A repository full of files that would create `sentinel` if anything ran them."""
    run = f"import pathlib; pathlib.Path({str(sentinel)!r}).write_text('executed')\n"
    shell = f"touch {sentinel}"
    files: dict[str, str | bytes] = {
        "conftest.py": run,
        "setup.py": run,
        "__init__.py": run,
        "sitecustomize.py": run,
        "usercustomize.py": run,
        "evil.pth": run,
        "yaml.py": run,
        "json.py": run,
        "hashlib.py": run,
        "click.py": run,
        "reviewer/__init__.py": run,
        "cfnlint/__init__.py": run,
        "jinja2/__init__.py": run,
        "Makefile": f"all:\n\t{shell}\n",
        ".archreview.yml": "name: planted\nexclude: ['node_modules/**']\n",
        "svc/go.mod": "module example.com/svc\n\ngo 1.22\n\ntool example.com/evil\n",
        "svc/main.go": f'package main\n\nimport "os/exec"\n\nfunc init() {{ exec.Command("sh", "-c", "{shell}").Run() }}\n',
        "svc/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Evil:\n    Type: AWS::SQS::Queue\n"
        f"    Properties:\n      QueueName: !!python/object/apply:os.system ['{shell}']\n",
        "tags/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        f"    Metadata:\n      a: !!python/name:os.system\n      b: !!python/object/new:os.system ['{shell}']\n",
        "web/package.json": json.dumps(
            {
                "name": "web",
                "scripts": dict.fromkeys(
                    ("preinstall", "install", "postinstall", "prepare", "test"), shell
                ),
                "dependencies": {"left-pad": f"file:../../{sentinel.name}"},
            }
        ),
        "web/.npmrc": f"init-module={sentinel}\n",
        "docs/adr/0001-x.md": f"<script>{shell}</script>\n",
        "samconfig.toml": f'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "$({shell})"\n',
    }
    return _repo(root, files)


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail on any attempt to start a process (git, a shell, anything)."""
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    for name in (
        "system",
        "posix_spawn",
        "posix_spawnp",
        "fork",
        "forkpty",
        "execv",
        "execve",
        "execvp",
        "execvpe",
    ):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    return calls


def test_planted_code_is_never_run_or_imported(tmp_path: Path, no_processes: list[Any]) -> None:
    sentinel = tmp_path / "SENTINEL"
    root = _planted(tmp_path / "repo", sentinel)
    before = set(sys.modules)
    report = _scan(root)
    out = tmp_path / "out"
    out.mkdir()
    for fmt in FORMATS:
        (out / fmt).write_text(renderer(fmt)(report, RenderOptions(color=True)), encoding="utf-8")
    write_adrs(report, tmp_path / "adr", root=root, today=TODAY)
    assert not sentinel.exists()
    assert no_processes == []
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        assert not origin.startswith(str(root)), (name, origin)
    tags = [
        m for r, f, _, _, m in _engine(report) if f in ("svc/template.yaml", "tags/template.yaml")
    ]
    assert len(tags) == 2 and all(
        "could not determine a constructor for the tag" in m for m in tags
    )
    _goes_on(report)


def test_the_cli_run_from_inside_the_repository_imports_nothing_from_it(tmp_path: Path) -> None:
    """The console script, started in the checkout (as the Action does), with planted modules
    named like the standard library and the dependencies."""
    exe = Path(sys.executable).with_name("archreview")
    if not exe.exists():
        pytest.skip("the archreview console script is not installed")
    sentinel = tmp_path / "SENTINEL"
    root = _planted(tmp_path / "repo", sentinel)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [
            *(str(exe), "scan", ".", "--format", "json", "--format", "markdown"),
            *("--output", f"markdown={tmp_path / 'report.md'}", "--fail-on", "never"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not sentinel.exists()
    assert "Traceback" not in done.stderr


def _python_invocations(action: str) -> list[str]:
    return [
        line.strip()
        for line in action.split("\n")
        if re.search(r"(python\"?|\$PYTHON\"?)\s+-", line)
    ]


def test_every_python_the_action_starts_is_isolated_from_the_checkout() -> None:
    calls = _python_invocations((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert len(calls) >= 4
    for call in calls:
        assert re.search(r"(python\"?|\$PYTHON\"?)\s+-I\b", call), call


def test_python_dash_c_in_a_checkout_really_imports_from_it(tmp_path: Path) -> None:
    """Why the test above matters: what a planted hashlib.py does to `python -c`, not to -I."""
    sentinel = tmp_path / "SENTINEL"
    (tmp_path / "hashlib.py").write_text(
        f"open({str(sentinel)!r}, 'w').close()\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run(
        [sys.executable, "-I", "-c", "import hashlib"], cwd=tmp_path, env=env, check=True
    )
    assert not sentinel.exists()
    subprocess.run([sys.executable, "-c", "import hashlib"], cwd=tmp_path, env=env, check=False)
    assert sentinel.exists()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_pr_mode_runs_git_with_fixed_arguments_and_no_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from reviewer.github import prmode

    sentinel = tmp_path / "SENTINEL"
    root = _planted(tmp_path / "repo", sentinel)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    (root / "svc" / "more.yaml").write_text(GOOD.replace("Jobs", "More"), encoding="utf-8")
    hooks = root / ".git" / "hooks"
    for hook in (
        "post-checkout",
        "pre-commit",
        "post-index-change",
        "reference-transaction",
        "fsmonitor-watchman",
    ):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {sentinel}\n", encoding="utf-8")
        (hooks / hook).chmod(0o755)
    _git(root, "config", "core.fsmonitor", str(hooks / "fsmonitor-watchman"))
    calls: list[list[str]] = []
    real_popen = subprocess.Popen

    def spy(argv: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(argv))
        assert "shell" not in kwargs or not kwargs["shell"]
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)  # prmode starts git with subprocess.Popen
    options = ScanOptions(today=TODAY, persona=Persona.AUDITOR)
    current = scan(root, options)
    marked, warnings = prmode.compare_with_base(root, base, options, current)
    assert warnings == []
    assert {f.resource for f in marked.findings if f.new} == {"More"}
    assert not sentinel.exists()
    prefix = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    allowed = {"rev-parse", "ls-tree", "worktree", "diff", "cat-file"}
    tmp = os.path.realpath(tempfile.gettempdir())  # where prmode checks out the base
    assert {argv[5] for argv in calls} >= {"rev-parse", "worktree", "diff"}
    for argv in calls:
        assert argv[:5] == prefix, argv
        assert argv[5] in allowed, argv
        for arg in argv[6:]:
            fixed = arg in {
                "--show-toplevel",
                "--show-prefix",
                "--verify",
                "--quiet",
                "-r",
                "-z",
                "add",
                "remove",
                "prune",
                "--detach",
                "--force",
                "-M",
                "--name-status",
                "--",
                "-e",
            }
            commit = re.fullmatch(r"[0-9a-f]{40}(\^\{commit\})?", arg) is not None
            temp = os.path.realpath(arg).startswith(tmp) or arg.startswith(tmp)
            assert fixed or commit or temp, (arg, argv)


# -- nothing leaked ----------------------------------------------------------------------------

GITHUB_CANARY = "ghs_ARCHREVIEWcanary0123456789abcdefXYZ"
AWS_KEY_CANARY = "AKIAARCHREVIEWCANARY9"
AWS_SECRET_CANARY = "archreview/SecretCanary/0f0e0d0c0b0a09080706050403020100"
AWS_TOKEN_CANARY = "archreviewSessionCanaryToken9876543210"
CANARIES = (GITHUB_CANARY, AWS_KEY_CANARY, AWS_SECRET_CANARY, AWS_TOKEN_CANARY)


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_CANARY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_CANARY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_CANARY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_TOKEN_CANARY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)


def _clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text
        assert "ARCHREVIEWcanary" not in text and "SecretCanary" not in text


def _exception_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + repr(err) + repr(err.args)


class _Echo(BaseHTTPRequestHandler):
    """An API that answers every request with an error echoing the credentials it was sent."""

    statuses: ClassVar[list[int]] = []
    broken_xml = False  # AWS: answer with text that is not XML

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("authorization", "")
        status = self.statuses.pop(0) if self.statuses else 500
        if self.path.startswith("/aws"):  # the CloudFormation query protocol
            said = f"denied for {auth} {body!r}"
            payload = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{AWS_KEY_CANARY}</Code>"
                f"<Message>{said if self.broken_xml else xml_escape(said)}</Message></Error>"
                "<RequestId>1</RequestId></ErrorResponse>"
            ).encode()
            content_type = "text/xml"
        else:
            payload = json.dumps(
                {"message": f"Validation failed for {auth}", "token": auth}
            ).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.send_header("link", f'<https://evil.invalid/{auth}>; rel="next"')
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = _reply

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("statuses", [[422], [401], [403], [500] * 5, [404]])
def test_the_comment_client_never_shows_the_token(echo: str, statuses: list[int]) -> None:
    from reviewer.github.api import GitHub, GitHubError

    _Echo.statuses = list(statuses)
    client = GitHub(GITHUB_CANARY, api_url=echo, sleep=lambda _: None)
    _clean(repr(client), str(vars(client).get("api_url")))
    with pytest.raises(GitHubError) as caught:
        list(client.comments("acme/app", 1))
    _clean(_exception_text(caught.value))
    with pytest.raises(GitHubError) as caught:
        client.request("GET", f"https://evil.invalid/{GITHUB_CANARY}")
    _clean(_exception_text(caught.value))


def test_the_comment_command_never_shows_the_token(
    tmp_path: Path, echo: str, canaries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewer.cli import comment as cli_comment
    from reviewer.outputs.json_report import report_dict

    monkeypatch.setattr(cli_comment, "sleep", lambda _: None)
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(report_dict(_scan(_repo(tmp_path / "repo", {})))), encoding="utf-8"
    )
    summary = tmp_path / "summary.md"
    for statuses in ([403], [422], [500] * 5):
        _Echo.statuses = list(statuses)
        result = CliRunner().invoke(
            main,
            [
                "comment",
                "--from",
                str(report),
                "--pr",
                "7",
                "--repo",
                "acme/app",
                "--api-url",
                echo,
            ],
            env={"GITHUB_STEP_SUMMARY": str(summary)},
        )
        assert result.exit_code in (0, 2, 3), result.output
        _clean(result.output, summary.read_text(encoding="utf-8") if summary.exists() else "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            _clean(_exception_text(result.exception))


def test_aws_errors_never_show_the_credentials(
    tmp_path: Path, echo: str, canaries: None, caplog: pytest.LogCaptureFixture
) -> None:
    from reviewer.aws.live import AwsFailure, AwsOptions, AwsUsageError, fetch

    caplog.set_level("WARNING")
    caplog.set_level("DEBUG", logger="reviewer")
    options = AwsOptions(regions=("us-east-1",), endpoint_url=f"{echo}/aws", max_attempts=1)
    for broken in (False, True):  # an error that echoes the credentials; a reply that is not XML
        _Echo.statuses, _Echo.broken_xml = [403], broken
        try:
            fetched = fetch(options)
        except (AwsFailure, AwsUsageError) as err:
            assert broken
            _clean(_exception_text(err))
        else:
            assert not broken
            [region] = fetched.unreviewed
            assert region.message.startswith("aws://us-east-1 was not reviewed: ")
            _clean(repr(fetched))
    _Echo.broken_xml = False
    closed = AwsOptions(regions=("us-east-1",), endpoint_url="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises((AwsFailure, AwsUsageError)) as caught:
        fetch(closed)
    _clean(_exception_text(caught.value), caplog.text)
    _Echo.statuses = [403] * 4
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            str(_repo(tmp_path / "repo", {})),
            "--aws",
            "--format",
            "json",
            "--output",
            str(out),
            "--fail-on",
            "never",
        ],
        env={"ARCHREVIEW_AWS_ENDPOINT_URL": f"{echo}/aws"},
    )
    _clean(result.output, out.read_text(encoding="utf-8") if out.exists() else "", caplog.text)


def test_a_scan_with_credentials_in_the_environment_prints_none_of_them(
    tmp_path: Path, canaries: None
) -> None:
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Token:\n    Type: String\n"
        "    Default: '${GITHUB_TOKEN}'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: !Sub '${AWS::AccountId}-${Token}-{{resolve:ssm:AWS_SECRET_ACCESS_KEY}}'\n"
    )
    root = _repo(tmp_path / "repo", {"svc/template.yaml": text, "svc/package.json": '{"name": ,}'})
    outputs = [f"{fmt}={tmp_path / ('out.' + fmt)}" for fmt in FORMATS]
    args = ["scan", str(root), "--fail-on", "never"]
    for fmt, spec in zip(FORMATS, outputs, strict=True):
        args += ["--format", fmt, "--output", spec]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    _clean(
        result.output, *((tmp_path / f"out.{fmt}").read_text(encoding="utf-8") for fmt in FORMATS)
    )


# -- repository text is inert in every human format --------------------------------------------

# a YAML double-quoted key: \e is ESC, \a BEL, \n a newline once decoded
HOSTILE_ID = (
    'Q\\e[31mRED\\e]8;;javascript:alert(1)\\aLINK\\n## Injected <script>alert(\\"ARX\\")</script>'
    " @org/team #12 | ``` [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
)
HOSTILE_DIR = "@org-team <b>bold</b> ``` | [x](javascript:alert(4))"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("hostile") / "repo"
    text = f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  "{HOSTILE_ID}":\n    Type: AWS::SQS::Queue\n'
    _repo(
        root,
        {f"{HOSTILE_DIR}/template.yaml": text, f"{HOSTILE_DIR}/package.json": '{"name": "x",}'},
    )
    report = scan(root, ScanOptions(today=TODAY, persona=Persona.AUDITOR))
    hostile = [f.resource for f in report.findings if f.resource and "Injected" in f.resource]
    assert hostile and "\x1b" in hostile[0] and "\n" in hostile[0]
    return report


def test_text_output_never_drives_the_terminal(hostile_report: Report) -> None:
    from reviewer.outputs import text as text_mod

    plain = renderer("text")(hostile_report, RenderOptions(color=False))
    assert "\x1b" not in plain and "\x07" not in plain
    coloured = renderer("text")(hostile_report, RenderOptions(color=True))
    ours = {v for v in vars(text_mod).values() if isinstance(v, str) and v.startswith("\x1b")}
    ours |= set(getattr(text_mod, "_COLORS", {}).values())
    for code in sorted(ours, key=len, reverse=True):
        coloured = coloured.replace(code, "")
    assert "\x1b" not in coloured and "\x07" not in coloured
    for output in (plain, coloured):
        assert not any(line.lstrip().startswith("## Injected") for line in output.split("\n"))


def test_markdown_output_is_inert(hostile_report: Report) -> None:
    doc = renderer("markdown")(hostile_report, RenderOptions())
    assert set(re.findall(r"<(/?[A-Za-z]+)", doc)) <= {
        "details",
        "/details",
        "summary",
        "/summary",
        "sub",
        "/sub",
    }
    assert not re.search(r"@(?!\u200d)\w", doc)
    outside_map = re.sub(r"```mermaid.*?```", "", doc, flags=re.S).replace("#L", "")
    assert not re.search(r"#(?!\u200d)\d", outside_map)
    assert "\x1b" not in doc and "\x07" not in doc
    lines = doc.split("\n")
    assert not any(line.startswith("## Injected") for line in lines)
    assert [line for line in lines if line.lstrip().startswith("```")] in (
        ["```mermaid", "```"],
        [],
    )
    assert not re.search(r"(?<!\\)\]\(\s*javascript:", doc, flags=re.I)  # no live link
    for i, line in enumerate(lines):  # no row has more cells than its header
        if line.startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            width = len(re.findall(r"(?<!\\)\|", line))
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.findall(r"(?<!\\)\|", lines[j])) == width, lines[j]
                j += 1


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def test_html_output_is_inert(hostile_report: Report) -> None:
    if "html" not in FORMATS:
        pytest.skip("no HTML renderer in this version")
    doc = renderer("html")(hostile_report, RenderOptions())
    assert "\x1b" not in doc and "\x07" not in doc
    assert (
        '<script>alert("ARX")' not in doc and "<img src=x" not in doc and "<b>bold</b>" not in doc
    )
    parser = _Tags()
    parser.feed(doc)
    for tag, attrs in parser.tags:
        assert tag != "img" or not any(name == "onerror" for name, _ in attrs)
        for name, value in attrs:
            shown = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not shown.startswith(("javascript:", "data:", "vbscript:")), (
                    tag,
                    name,
                    value,
                )
            if name.startswith("on"):
                assert "arx" not in shown and "alert" not in shown, (tag, name, value)
    assert not any("ARX" in chunk or "alert(" in chunk for chunk in parser.script_text)


def test_machine_formats_keep_the_text_exact_and_valid(hostile_report: Report) -> None:
    import xml.dom.minidom

    hostile = next(
        f.resource for f in hostile_report.findings if f.resource and "Injected" in f.resource
    )
    data = json.loads(renderer("json")(hostile_report, RenderOptions()))
    assert hostile in {f.get("resource") for f in data["findings"]}  # exact, after a round trip
    json.loads(renderer("sarif")(hostile_report, RenderOptions()))
    junit = renderer("junit")(hostile_report, RenderOptions())
    xml.dom.minidom.parseString(junit.encode("utf-8"))  # well-formed: no raw control characters


# -- the ADR writer stays inside --out and writes atomically ----------------------------------


def _report(tmp_path: Path) -> tuple[Path, Report]:
    root = _repo(tmp_path / "repo", {"svc/template.yaml": GOOD.replace("Jobs", "Orders")})
    return root, _scan(root)


def test_adr_names_from_the_repository_cannot_leave_out(tmp_path: Path) -> None:
    root, report = _report(tmp_path)
    evil = (
        "../../escape",
        "/etc/passwd",
        "..",
        "a/../../../b",
        "C:\\Windows\\x",
        "\x00",
        "-rf",
        ".",
    )
    findings = tuple(replace(f, module=evil[i % len(evil)]) for i, f in enumerate(report.findings))
    out = tmp_path / "box" / "adr"
    write_adrs(replace(report, findings=findings), out, root=root, today=TODAY)
    written = sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and "repo" not in p.parts
    )
    assert written and all(p.startswith("box/adr/") and p.count("/") == 2 for p in written), written
    names = [p.rsplit("/", 1)[1] for p in written]
    assert all(re.fullmatch(r"index\.json|\d{4,5}-[a-z0-9-]+\.md", n) for n in names), names


def test_adr_links_planted_in_out_are_replaced_not_followed(tmp_path: Path) -> None:
    root, report = _report(tmp_path)
    out = tmp_path / "adr"
    write_adrs(report, out, root=root, today=TODAY)
    victims = {}
    for existing in sorted(out.iterdir()):
        victim = tmp_path / f"victim-{existing.name}"
        victim.write_text("precious\n", encoding="utf-8")
        victims[existing.name] = victim
    shutil.rmtree(out)
    out.mkdir()
    for name, victim in victims.items():
        (out / name).symlink_to(victim)
    write_adrs(report, out, root=root, today=TODAY)
    for victim in victims.values():
        assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not (out / "index.json").is_symlink()  # replaced by the new index
    assert json.loads((out / "index.json").read_text(encoding="utf-8"))["records"]
    written = [p for p in out.iterdir() if p.suffix == ".md" and not p.is_symlink()]
    assert written and all(p.resolve().parent == out.resolve() for p in written)


def test_adr_temporary_files_are_never_written_through_a_planted_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out may sit in the reviewed checkout: a pull request can plant links there under the
    names of the writer's temporary files (a pid is easy to guess in a CI container)."""
    root, report = _report(tmp_path)
    scratch = tmp_path / "scratch"
    write_adrs(report, scratch, root=root, today=TODAY)
    names = sorted(p.name for p in scratch.iterdir())
    out = tmp_path / "adr"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    for name in names:
        for pattern in (
            f".{name}.4242.tmp",
            f".{name}.tmp",
            f"{name}.tmp",
            f".{name}.archreview-tmp",
        ):
            (out / pattern).symlink_to(victim)
    write_adrs(report, out, root=root, today=TODAY)
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.is_symlink()} == {
        p.name: p.read_bytes() for p in scratch.iterdir()
    }


def test_an_interrupted_adr_write_leaves_the_previous_files_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, report = _report(tmp_path)
    out = tmp_path / "adr"
    write_adrs(report, out, root=root, today=TODAY)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fixed = _repo(
        tmp_path / "fixed",
        {"svc/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n"},
    )
    real_replace = os.replace

    def interrupted(src: Any, dst: Any, **_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_adrs(_scan(fixed), out, root=root, today=date(2026, 12, 1))
    monkeypatch.setattr(os, "replace", real_replace)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary file left
    monkeypatch.setattr(
        os,
        "replace",
        lambda src, dst, **_: (_ for _ in ()).throw(OSError(28, "No space left on device")),
    )
    with pytest.raises(OSError, match="No space left"):
        write_adrs(_scan(fixed), out, root=root, today=date(2026, 12, 1))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_file_over_the_time_budget_is_mod_006_and_the_others_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-file time budget: a template that takes too long to decode and model becomes
    AR-MOD-006 naming the budget; the other files keep their findings."""
    from reviewer.runner.engine import ScanOptions, scan

    big = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:"]
    for i in range(6000):
        big += [f"  Topic{i}:", "    Type: AWS::SNS::Topic", "    Properties:", f"      TopicName: t{i}"]
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "template.yaml").write_text("\n".join(big) + "\n", encoding="utf-8")
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0.05")
    report = scan(tmp_path, ScanOptions(jobs=1, persona=Persona.AUDITOR))
    over = [f for f in report.findings if f.rule_id == "AR-MOD-006"]
    assert [f.file for f in over] == ["big/template.yaml"]
    assert "per-file time budget" in over[0].message
    assert any(f.rule_id == "AR-EVT-001" and f.file == "small/template.yaml" for f in report.findings)
    monkeypatch.setenv("ARCHREVIEW_FILE_BUDGET", "0")
    report = scan(tmp_path, ScanOptions(jobs=1, persona=Persona.AUDITOR))
    assert not [f for f in report.findings if f.rule_id == "AR-MOD-006"]


# -- found by the repository fuzzer (tests/hostile, issue 15) ------------------------------------


def _every_output(report: Report) -> dict[str, str]:
    """Every format, whole and streamed, as the UTF-8 bytes a file or a terminal gets."""
    from reviewer.outputs import streamer

    outputs = {}
    for fmt in FORMATS:
        text = renderer(fmt)(report, RenderOptions())
        text.encode("utf-8")
        stream = streamer(fmt)
        if stream is not None:
            parts: list[str] = []
            stream(report, RenderOptions(), parts.append)
            assert "".join(parts) == text, fmt
        outputs[fmt] = text
    return outputs


def test_a_lone_surrogate_in_a_json_string_is_not_a_crash(tmp_path: Path) -> None:
    r"""JSON may escape half of a surrogate pair (`"\ud800"`): Python reads it as a string no
    UTF-8 encoder takes. As a dependency name, a version range and a logical id it reached a
    fingerprint's hash (UnicodeEncodeError, exit 3); it is text like any other."""
    root = _repo(
        tmp_path,
        {
            "web/package.json": '{"name": "x", "dependencies": {"\\ud800": "^1", "left-pad": "\\udfff"}}',
            "api/template.json": '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": '
            '{"Q\\ud800": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "\\udc80"}}}}',
        },
    )
    report = _scan(root)
    _goes_on(report)
    outputs = _every_output(report)
    assert "api/template.json" in outputs["json"]


def test_a_symlink_loop_in_the_tree_does_not_break_an_output(tmp_path: Path) -> None:
    """Two links to each other (ping.yaml -> pong.yaml -> ping.yaml) are AR-MOD-006; SARIF's
    line hash re-read the file through `Path.resolve()`, which raises on a loop."""
    root = _repo(tmp_path, {})
    (root / "loop").mkdir()
    (root / "loop" / "ping.yaml").symlink_to("pong.yaml")
    (root / "loop" / "pong.yaml").symlink_to("ping.yaml")
    report = _scan(root)
    _goes_on(report)
    assert {f.file for f in report.findings if f.rule_id == "AR-MOD-006"} >= {"loop/ping.yaml"}
    _every_output(report)


@pytest.mark.parametrize(
    "name",
    [
        "template.yaml",
        "package.json",
        "go.mod",
        "samconfig.toml",
        ".gitignore",
        ".gitmodules",
        ".archreview.yml",
        ".claude/agents/architect.md",
    ],
)
def test_a_fifo_where_a_file_is_read_never_blocks(tmp_path: Path, name: str) -> None:
    """Opening a FIFO for reading waits for a writer that never comes: every reader of
    repository files opens without blocking and takes only regular files. The command line
    runs in a subprocess killed after 120 s (a hang is a failure)."""
    root = _repo(tmp_path / "repo", {})
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from reviewer.cli.main import run; run()"
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, "scan", str(root), "--format", "json", "--no-cache", "--persona", "auditor"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ARCHREVIEW_TODAY": "2026-11-25"},
    )
    assert "Traceback" not in done.stderr, done.stderr
    if name == ".archreview.yml" and done.returncode == 2:  # the strict profile: one line
        assert ".archreview.yml:1" in done.stderr and len(done.stderr.strip().split("\n")) == 1
        return
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)["findings"]
    assert any(f["rule_id"] == "AR-EVT-001" and f["file"] == "good/template.yaml" for f in found)


def test_a_profile_named_in_a_folder_that_cannot_be_read_is_a_usage_error(
    tmp_path: Path,
) -> None:
    """`--profile sealed/p.yml` where `sealed` cannot be read: pathlib's is_file() raises
    PermissionError there (it hides only ENOENT-like errors), which became an internal error
    (exit 3). The path is the user's: one line and exit 2. Found by the repository fuzzer
    (bench/fuzz_repo.py); made unreadable for root too by tests/hostile/deny.py."""
    root = _repo(tmp_path / "repo", {"sealed/p.yml": "version: 1\n"})
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from tests.hostile.deny import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, "scan", str(root), "--profile", str(root / "sealed" / "p.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOSTILE_DENY": json.dumps([str(root / "sealed")])},
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().split("\n")) == 1, done.stderr
