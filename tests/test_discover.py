"""Tests for reviewer.discover.inventory: one walk that classifies a repository's files."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from reviewer.discover import inventory as discover_mod
from reviewer.discover.inventory import (
    Budget,
    Inventory,
    Module,
    Skipped,
    SourceFile,
    Submodule,
    discover,
    module_of,
    parse_gitmodules,
    read_text,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "serverless-patterns"

SAM = (
    "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources: {}\n"
)


def write(root: Path, rel: str, content: str | bytes = SAM) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def kinds(inv: Inventory) -> dict[str, str]:
    return {f.path: f.kind for f in inv.files}


def skipped(inv: Inventory) -> dict[str, str]:
    return {s.path: s.reason for s in inv.skipped}


# --------------------------------------------------------------------------- classification


HELM = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
    "spec:\n  replicas: {{ .Values.replicas }}\n"
)
BACKSTAGE = (
    "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: sam-app\n"
    "spec:\n  steps:\n    - id: fetch\n      action: fetch:template\n"
    "      input:\n        values:\n          Type: AWS::Serverless::Function\n"
)
ARM = (
    '{\n  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
    'deploymentTemplate.json#",\n  "contentVersion": "1.0.0.0",\n'
    '  "resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "AWS::none"}]\n}\n'
)


def test_a_template_name_is_decided_by_content(tmp_path: Path) -> None:
    write(tmp_path, "a/template.yaml", "just: text\n")
    write(tmp_path, "b/template.yml", "")
    write(tmp_path, "c/template.json", "{}")
    write(tmp_path, "d/template.YAML", SAM)
    write(tmp_path, "e/template.Json", '{"AWSTemplateFormatVersion": "2010-09-09"}')
    write(tmp_path, "f/template.txt", SAM)  # not a template extension
    write(tmp_path, "helm/templates/template.yaml", HELM)
    write(tmp_path, "helm/templates/x/template.yaml", '{{- include "chart.service" . }}\n')
    write(tmp_path, "backstage/template.yaml", BACKSTAGE)
    write(tmp_path, "azure/template.json", ARM)
    write(tmp_path, "azure/c/template.json", "// comments: not JSON\n" + ARM)
    write(tmp_path, "g/template.yaml", "# nothing but a comment\n")
    write(tmp_path, "h/template.yaml", "- a list\n")
    write(tmp_path, "other/stack.yaml", "")  # another name: content says nothing
    # a document with top-level keys is a template only if they say so; a file named as SAM
    # names templates whose content says nothing (empty, comments, not a mapping) is taken,
    # so that AR-MOD-003 says what is wrong with it
    assert kinds(discover(tmp_path)) == {
        "b/template.yml": "template",
        "c/template.json": "template",
        "d/template.YAML": "template",
        "e/template.Json": "template",
        "g/template.yaml": "template",
        "h/template.yaml": "template",
    }


def test_content_is_decided_on_the_whole_document(tmp_path: Path) -> None:
    # a long Description before the keys that make it a template
    write(
        tmp_path,
        "late.yaml",
        "Description: x\n" + "# pad\n" * 5000 + "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    )
    # the marker only deep inside a value: not a top-level key
    write(tmp_path, "deep.yaml", "Outer:\n  AWSTemplateFormatVersion: x\n" + "  k: v\n" * 3000)
    write(
        tmp_path,
        "late.json",
        '{"Description": "' + "x" * 9000 + '", "Resources": {"B": {"Type": "AWS::S3::Bucket"}}}',
    )
    write(tmp_path, "arm.json", '{"resources": [{"Type": "AWS::S3::Bucket"}]}')
    write(tmp_path, "custom.yaml", "Resources:\n  B:\n    Type: Custom::Thing\n")
    write(tmp_path, "broken.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    assert kinds(discover(tmp_path)) == {
        "broken.yaml": "template",  # a syntax error is AR-MOD-003's business
        "custom.yaml": "template",
        "late.json": "template",
        "late.yaml": "template",
    }


@pytest.mark.parametrize(
    "content",
    [
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  F:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n"
        "      FunctionName: {{cookiecutter.project_name}}\n",
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n{% for q in queues %}\n"
        "  {{ q }}:\n    Type: AWS::SQS::Queue\n{% endfor %}\n",
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: {{ .Values.bucket }}\n",
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      BucketName: {{ bucket_name }}\n",
        '{"AWSTemplateFormatVersion": "2010-09-09", "Description": "{{cookiecutter.x}}"}',
    ],
)
def test_templating_sources_are_recognised(tmp_path: Path, content: str) -> None:
    write(tmp_path, "{{cookiecutter.name}}/template.yaml", content)
    assert kinds(discover(tmp_path)) == {"{{cookiecutter.name}}/template.yaml": "templating"}


def test_cloudformation_braces_are_not_templating(tmp_path: Path) -> None:
    # a dynamic reference, SES handlebars in a quoted string, a Step Functions JSONata expression
    write(
        tmp_path,
        "t.yaml",
        "Resources:\n  S:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
        "      Value: '{{resolve:ssm:/x}}'\n"
        "      Description: >-\n        read with a\n        {{resolve:ssm:/y}} reference\n"
        "  T:\n    Type: AWS::SES::Template\n    Properties:\n      Template:\n"
        "        HtmlPart: 'Hello {{name}}'\n        SubjectPart: Hi {{name}}\n"
        "  M:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      Definition:\n        QueryLanguage: JSONata\n"
        "        States: {A: {Type: Pass, Output: '{% $states.input %}'}}\n",
    )
    assert kinds(discover(tmp_path)) == {"t.yaml": "template"}


def test_templating_syntax_in_a_file_that_is_no_template_is_nothing(tmp_path: Path) -> None:
    write(tmp_path, "rules/r.yaml", "id: x\ntypes: [AWS::S3::Bucket]\nnote: {% if a %}\n")
    write(tmp_path, "chart/values.yaml", "image: {{ .Values.image }}\nkind: AWS::none\n")
    assert kinds(discover(tmp_path)) == {}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("stack.yaml", "AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n"),
        ("cloudfront.yml", "Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {}\n"),
        ("list.yml", "Transform:\n  - AWS::LanguageExtensions\n  - AWS::Serverless-2016-10-31\n"),
        ("bare.yaml", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"),
        ("quoted.yaml", "Resources:\n  Bucket:\n    Type: 'AWS::S3::Bucket'\n"),
        ("main.json", '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n  "Resources": {}\n}\n'),
        ("sam.json", '{"Transform":"AWS::Serverless-2016-10-31","Resources":{}}'),
        ("res.json", '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'),
        ("serverless.template", '{"AWSTemplateFormatVersion": "2010-09-09"}'),
        ("UPPER.YML", "AWSTemplateFormatVersion: '2010-09-09'\n"),
        ("crlf.yaml", "Resources:\r\n  Q:\r\n    Type: AWS::SQS::Queue\r\n"),
    ],
)
def test_templates_by_content(tmp_path: Path, name: str, content: str) -> None:
    write(tmp_path, f"p/{name}", content)
    assert kinds(discover(tmp_path)) == {f"p/{name}": "template"}


def test_utf16_template_found_by_content(tmp_path: Path) -> None:
    write(tmp_path, "s/stack.json", '{"AWSTemplateFormatVersion": "2010-09-09"}'.encode("utf-16"))
    assert kinds(discover(tmp_path)) == {"s/stack.json": "template"}


def test_non_templates_ignored(tmp_path: Path) -> None:
    write(tmp_path, "app/package-lock.json", '{"name": "x", "lockfileVersion": 3}')
    write(tmp_path, "app/tsconfig.json", '{"compilerOptions": {"strict": true}}')
    write(tmp_path, ".github/workflows/ci.yml", "on: push\njobs:\n  t:\n    runs-on: ubuntu\n")
    write(tmp_path, "docker-compose.yaml", "services:\n  db:\n    image: postgres\n")
    write(tmp_path, "openapi.yaml", "paths:\n  /x:\n    get:\n      Type: AWS::Lambda\n")
    write(tmp_path, "nested.yaml", "Outer:\n  Resources:\n    B:\n      Type: AWS::S3::Bucket\n")
    write(tmp_path, "res-no-type.yaml", "Resources:\n  B:\n    Kind: AWS::S3::Bucket\n")
    write(tmp_path, "mention.yaml", "note: uses AWS::Serverless somewhere\n")
    write(tmp_path, "README.md", SAM)
    write(tmp_path, "cfn.py", SAM)
    write(tmp_path, "blob.json", b"\x00\x01AWSTemplateFormatVersion\x00")
    write(tmp_path, "app/package.json", '{"name": "x"}')
    assert kinds(discover(tmp_path)) == {"app/package.json": "package_json"}


def test_other_kinds(tmp_path: Path) -> None:
    write(tmp_path, ".gitmodules", "")
    write(tmp_path, "svc/go.mod", "module example.com/svc\n")
    write(tmp_path, "web/package.json", "{}")
    write(tmp_path, "web/samconfig.toml", "version = 0.1\n")
    write(tmp_path, "web/.gitmodules", "")  # only the root one counts
    write(tmp_path, "web/samconfig.yaml", "version: 0.1\n")  # not a template
    assert kinds(discover(tmp_path)) == {
        ".gitmodules": "gitmodules",
        "svc/go.mod": "go_mod",
        "web/package.json": "package_json",
        "web/samconfig.toml": "samconfig",
    }


def test_source_file_fields(tmp_path: Path) -> None:
    write(tmp_path, "svc/template.yaml", "AWSTemplateFormatVersion: x\n")
    inv = discover(tmp_path)
    assert inv.files == (SourceFile("svc/template.yaml", "template", "svc", 28),)
    assert inv.root == tmp_path
    assert inv.skipped == ()


# --------------------------------------------------------------------------- what is walked


def test_skip_dirs_and_hidden_folders(tmp_path: Path) -> None:
    for name in sorted(discover_mod.SKIP_DIRS):
        write(tmp_path, f"p/{name}/template.yaml")
        write(tmp_path, f"p/{name}/package.json", "{}")
    write(tmp_path, "p/.aws-composer/2022/template.yaml")
    write(tmp_path, "p/.hidden/stack.yml")
    write(tmp_path, ".git/template.yaml")
    write(tmp_path, "sub/.git", "gitdir: ../.git/modules/sub\n")  # a submodule's .git file
    write(tmp_path, "p/buildx/template.yaml")  # only exact names are skipped
    assert sorted(kinds(discover(tmp_path))) == [
        "p/.aws-composer/2022/template.yaml",
        "p/.hidden/stack.yml",
        "p/buildx/template.yaml",
    ]


def test_nested_gitignore_with_negation_and_dir_only(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "# generated\n*.gen.yaml\nout/\n/template.json\nlocal/\n")
    write(tmp_path, "template.json", "{}")  # anchored pattern: ignored at the root only
    write(tmp_path, "a/template.json", '{"AWSTemplateFormatVersion": "2010-09-09"}')
    write(tmp_path, "a/x.gen.yaml", SAM)
    write(tmp_path, "a/out/template.yaml")  # dir-only pattern, any depth
    write(tmp_path, "a/out.yaml/template.yaml")  # not "out"
    write(tmp_path, "b/.gitignore", "!keep.gen.yaml\ntemplate.yml\n!out/\n")
    write(tmp_path, "b/keep.gen.yaml", SAM)  # re-included below b/
    write(tmp_path, "b/drop.gen.yaml", SAM)
    write(tmp_path, "b/template.yml")  # ignored by b/.gitignore
    write(tmp_path, "b/out/template.yaml")  # the folder is re-included below b/
    write(tmp_path, "c/template.yml")  # b/.gitignore does not apply here
    # git cannot re-include a file inside an ignored folder
    write(tmp_path, "d/.gitignore", "!x/template.yaml\n")
    write(tmp_path, "d/local/template.yaml")
    assert sorted(kinds(discover(tmp_path))) == [
        "a/out.yaml/template.yaml",
        "a/template.json",
        "b/keep.gen.yaml",
        "b/out/template.yaml",
        "c/template.yml",
    ]


def test_malformed_gitignore_lines_are_dropped(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "!\n[z-a]\n\\\nscratch/\n")
    write(tmp_path, "scratch/template.yaml")
    write(tmp_path, "keep/template.yaml")
    assert sorted(kinds(discover(tmp_path))) == ["keep/template.yaml"]


def test_gitignore_ignoring_a_whole_module(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "scratch\n")
    write(tmp_path, "scratch/package.json", "{}")
    write(tmp_path, "keep/package.json", "{}")
    inv = discover(tmp_path)
    assert kinds(inv) == {"keep/package.json": "package_json"}
    assert [m.path for m in inv.modules] == ["keep"]


def test_exclude_patterns(tmp_path: Path) -> None:
    write(tmp_path, "fixtures/bad/template.yaml")
    write(tmp_path, "src/a.test.yaml", SAM)
    write(tmp_path, "src/deep/b.test.yaml", SAM)
    write(tmp_path, "src/template.yaml")
    inv = discover(tmp_path, exclude=("fixtures/", "**/*.test.yaml"))
    assert sorted(kinds(inv)) == ["src/template.yaml"]
    assert len(discover(tmp_path).files) == 4


BACKTRACKING = "*a*a*a*a*a*a*a*a*a*a*a*a*b"


def test_backtracking_gitignore_pattern_is_matched_in_linear_work(tmp_path: Path) -> None:
    """The pattern a backtracking matcher never finishes on (issue 15, item 2)."""
    write(tmp_path, ".gitignore", BACKTRACKING + "\n")
    long = "a" * 240
    write(tmp_path, f"{long}/template.yaml")
    write(tmp_path, f"{long}.yaml", SAM)
    write(tmp_path, f"{long}b/template.yaml")  # ends in b: ignored
    budget = Budget()
    inv = discover(tmp_path, budget=budget)
    assert sorted(kinds(inv)) == [f"{long}.yaml", f"{long}/template.yaml"]
    assert inv.skipped == ()
    # at most one automaton step per byte of each name tested, plus a few units per test
    assert budget.matching < 4 * (3 * 246 + 20)


def test_gitignore_over_the_size_cap_is_used_in_part_and_reported(tmp_path: Path) -> None:
    head = "".join(f"scratch-{i}/\n" for i in range(100))
    filler = "".join(f"*.tmp{i}\n" for i in range(120_000))  # about 1.3 MB
    write(tmp_path, ".gitignore", head + filler + "late/\n")
    write(tmp_path, "scratch-7/template.yaml")  # ignored by a line in the first megabyte
    write(tmp_path, "late/template.yaml")  # the line after the cap is not applied
    budget = Budget()
    inv = discover(tmp_path, budget=budget)
    assert sorted(kinds(inv)) == ["late/template.yaml"]
    (report,) = inv.skipped
    assert (report.path, report.reason) == (".gitignore", "over-budget")
    assert report.detail.startswith("discovery: ")
    assert "over the 1,000,000-byte limit" in report.detail
    assert "over the 10,000-pattern limit: only the first 10,000 were used" in report.detail
    assert budget.matching < 10_000  # suffix patterns are table lookups, not automata


def test_overlong_gitignore_pattern_is_dropped_and_reported(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "x" * 5000 + "\nscratch/\n")
    write(tmp_path, "scratch/template.yaml")
    write(tmp_path, "keep/template.yaml")
    inv = discover(tmp_path)
    assert sorted(kinds(inv)) == ["keep/template.yaml"]
    assert [(s.path, s.reason) for s in inv.skipped] == [(".gitignore", "over-budget")]
    assert "longer than 4,096 bytes were not used (line 1)" in inv.skipped[0].detail


def _tree(root: Path, folders: int, files: int) -> None:
    for f in range(folders):
        for n in range(files):
            write(root, f"f{f:04d}/t{n}.yaml", SAM)


def test_walk_work_is_counted_and_grows_linearly(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    _tree(small, 20, 3)
    _tree(large, 40, 3)
    for root in (small, large):
        write(root, ".gitignore", "".join(f"*-{i}?.y[a]ml\n" for i in range(50)))
    work = []
    for root in (small, large):
        budget = Budget()
        inv = discover(root, budget=budget)
        assert len(inv.files) == len(list(root.rglob("*.yaml")))
        work.append((budget.entries, budget.matching))
    # entries: the root's own entries (the folders and .gitignore), then 3 per folder
    assert work[0][0] == 21 + 20 * 3
    assert work[1][0] == 41 + 40 * 3
    # pattern work: the same patterns on twice the names (and the folder names)
    assert work[1][1] <= 2 * work[0][1] + 200
    assert work[1][1] >= 2 * work[0][1] - 200


def test_entry_budget_stops_the_walk_and_the_scan_goes_on(tmp_path: Path) -> None:
    _tree(tmp_path, 10, 2)
    budget = Budget(entries_limit=15)
    inv = discover(tmp_path, budget=budget)
    # the root lists 10 folders; f0000 and f0001 (2 files each) fit, f0002's second does not
    assert sorted(kinds(inv)) == [
        "f0000/t0.yaml",
        "f0000/t1.yaml",
        "f0001/t0.yaml",
        "f0001/t1.yaml",
    ]
    (report,) = inv.skipped
    assert (report.path, report.reason) == ("f0002", "over-budget")
    assert report.detail == (
        "discovery: folder entries went over the limit of 15 here, so the walk stopped: files "
        "in this folder after that point and in 7 more folder(s) or link(s) were not looked at"
    )
    assert budget.entries == 16  # it stopped at the first entry over the limit
    assert discover(tmp_path, budget=Budget(entries_limit=15)) == inv  # deterministic


def test_matching_budget_stops_the_walk(tmp_path: Path) -> None:
    _tree(tmp_path, 10, 2)
    write(tmp_path, ".gitignore", "".join(f"*x{i}?\n" for i in range(1_000)))
    budget = Budget(matching_limit=5_000)
    inv = discover(tmp_path, budget=budget)
    assert [s.reason for s in inv.skipped] == ["over-budget"]
    assert inv.skipped[0].detail.startswith(
        "discovery: pattern matching work went over the limit of 5,000 here"
    )
    assert 5_000 < budget.matching < 5_000 + 1_100  # stopped within one path's patterns
    assert len(inv.files) < 20


def test_a_huge_folder_is_not_listed_whole(tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"n{i}.txt").write_bytes(b"")
    budget = Budget(entries_limit=100)
    inv = discover(tmp_path, budget=budget)
    assert budget.entries == 101
    assert [(s.path, s.reason) for s in inv.skipped] == [(".", "over-budget")]


def _in_fresh_process(code: str) -> str:
    """Run ``code`` in a new interpreter, killed after 60 s: a hang fails the test."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_are_never_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".gitignore")
    os.mkfifo(tmp_path / "package.json")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / "template.yaml")
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(tmp_path / "go.mod"))
        except OSError:
            pytest.skip("cannot bind a Unix socket here")
        devices = True
        try:
            os.mknod(tmp_path / "samconfig.toml", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        except (OSError, AttributeError):
            devices = False  # not allowed here (no CAP_MKNOD): FIFOs and sockets still run
        write(tmp_path, "real/template.yaml")
        out = _in_fresh_process(
            "import json, sys\n"
            "from reviewer.discover.inventory import discover\n"
            f"inv = discover({str(tmp_path)!r})\n"
            "print(json.dumps([[f.path for f in inv.files],"
            " sorted([s.path, s.reason, s.detail] for s in inv.skipped)]))\n"
        )
    files, skips = json.loads(out)
    assert files == ["real/template.yaml"]
    expected = [
        ["go.mod", "unreadable", "not a regular file"],
        ["package.json", "unreadable", "not a regular file"],
        ["sub/template.yaml", "unreadable", "not a regular file"],
    ]
    if devices:
        expected.insert(2, ["samconfig.toml", "unreadable", "not a regular file"])
    assert skips == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_file_swapped_for_a_fifo_after_its_stat_is_not_waited_on(tmp_path: Path) -> None:
    """The race the O_NONBLOCK open and the descriptor check are for: a stat that saw a regular
    file, then a FIFO (no writer) at the path when it is opened."""
    write(tmp_path, "regular.yaml", SAM)
    os.mkfifo(tmp_path / "template.yaml")
    out = _in_fresh_process(
        "import os\n"
        "from reviewer.discover import inventory as d\n"
        f"root = {str(tmp_path)!r}\n"
        "real_stat = os.stat\n"
        "def stat(path, *a, **k):\n"
        "    if str(path).endswith('template.yaml'):\n"
        "        return real_stat(os.path.join(root, 'regular.yaml'))\n"
        "    return real_stat(path, *a, **k)\n"
        "d.os.stat = stat\n"
        "got = d.read_text(root, 'template.yaml')\n"
        "print(got.reason, '|', got.detail)\n"
    )
    assert out.strip() == "unreadable | not a regular file"


def test_deep_folders_are_walked_within_the_budget(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(200):
        deep = deep / "d"
    write(deep, "template.yaml")
    budget = Budget()
    inv = discover(tmp_path, budget=budget)
    assert list(kinds(inv)) == ["d/" * 200 + "template.yaml"]
    assert budget.entries == 201


# --------------------------------------------------------------------------- symlinks


def test_symlink_loop(tmp_path: Path) -> None:
    write(tmp_path, "a/template.yaml")
    (tmp_path / "a" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(".", target_is_directory=True)
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "b" / "back").symlink_to(tmp_path / "a", target_is_directory=True)
    inv = discover(tmp_path)
    assert kinds(inv) == {"a/template.yaml": "template"}
    assert skipped(inv) == {
        "a/b/back": "symlink-loop",
        "a/self": "symlink-loop",
        "a/up": "symlink-loop",
    }
    loop = next(s for s in inv.skipped if s.path == "a/up")
    assert loop.module == "a"
    assert "loop" in loop.detail


def test_mutual_symlinks_terminate(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    write(tmp_path, "x/template.yaml")
    (tmp_path / "x" / "to-y").symlink_to("../y", target_is_directory=True)
    (tmp_path / "y" / "to-x").symlink_to("../x", target_is_directory=True)
    inv = discover(tmp_path)
    assert kinds(inv) == {"x/template.yaml": "template"}


def test_symlinks_inside_root_are_followed_once(tmp_path: Path) -> None:
    write(tmp_path, "shared/template.yaml")
    write(tmp_path, "hidden/node_modules/pkg/template.yaml")
    (tmp_path / "svc").mkdir()
    # a file link: found under the link's own path
    (tmp_path / "svc" / "template.yaml").symlink_to("../shared/template.yaml")
    # a folder already walked under its own path: not walked again
    (tmp_path / "alias").symlink_to("shared", target_is_directory=True)
    # a folder that the plain walk does not enter: walked once, through the link
    (tmp_path / "vendored").symlink_to("hidden/node_modules/pkg", target_is_directory=True)
    (tmp_path / "vendored2").symlink_to("hidden/node_modules/pkg", target_is_directory=True)
    inv = discover(tmp_path)
    assert sorted(kinds(inv)) == [
        "shared/template.yaml",
        "svc/template.yaml",
        "vendored/template.yaml",
    ]
    assert inv.skipped == ()


def test_symlinks_outside_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "template.yaml")
    write(outside, "dir/template.yaml")
    root = tmp_path / "repo"
    write(root, "svc/package.json", "{}")
    (root / "svc" / "template.yaml").symlink_to(outside / "template.yaml")
    (root / "svc" / "ext").symlink_to(outside / "dir", target_is_directory=True)
    (root / "svc" / "stack.yaml").symlink_to("../../outside/template.yaml")  # relative
    (root / "svc" / "notes.txt").symlink_to(outside / "template.yaml")  # not a candidate
    inv = discover(root)
    assert kinds(inv) == {"svc/package.json": "package_json"}
    assert inv.skipped == tuple(
        Skipped(p, "svc", "symlink-outside-root", s.detail)
        for p, s in zip(
            ["svc/ext", "svc/stack.yaml", "svc/template.yaml"], inv.skipped, strict=True
        )
    )
    assert all("outside the repository root" in s.detail for s in inv.skipped)
    assert isinstance(read_text(root, "svc/template.yaml"), Skipped)


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").symlink_to("missing.yaml")
    (tmp_path / "x.yaml").symlink_to("missing.yaml")  # not known to be a template
    inv = discover(tmp_path)
    assert inv.files == ()
    assert skipped(inv) == {"template.yaml": "unreadable"}


# --------------------------------------------------------------------------- bad input


def test_unreadable_file_chmod(tmp_path: Path) -> None:
    write(tmp_path, "svc/template.yaml")
    write(tmp_path, "svc/package.json", "{}")
    target = tmp_path / "svc" / "template.yaml"
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):
            pytest.skip("running as root: chmod does not stop reads (see the monkeypatched test)")
        inv = discover(tmp_path)
        assert skipped(inv) == {"svc/template.yaml": "unreadable"}
        assert kinds(inv) == {"svc/package.json": "package_json"}
    finally:
        target.chmod(0o644)


def test_unreadable_file_and_folder_monkeypatched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "svc/template.yaml")
    write(tmp_path, "svc/stack.yaml", SAM)
    write(tmp_path, "svc/package.json", "{}")
    write(tmp_path, "locked/template.yaml")
    write(tmp_path, "other/template.yaml")
    real_open, real_scandir = os.open, os.scandir
    denied = {str(tmp_path / "svc" / "template.yaml"), str(tmp_path / "svc" / "stack.yaml")}

    def fake_open(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if os.fspath(path) in denied:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    def fake_scandir(path: str) -> object:
        if os.fspath(path) == str(tmp_path / "locked"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    inv = discover(tmp_path)
    assert kinds(inv) == {"other/template.yaml": "template", "svc/package.json": "package_json"}
    assert inv.skipped == (
        Skipped("locked", ".", "unreadable", "cannot be read: Permission denied"),
        Skipped("svc/stack.yaml", "svc", "unreadable", "cannot be read: Permission denied"),
        Skipped("svc/template.yaml", "svc", "unreadable", "cannot be read: Permission denied"),
    )
    got = read_text(tmp_path, "svc/template.yaml", module="svc")
    assert got == inv.skipped[2]


def test_binary_template_is_skipped_not_dropped(tmp_path: Path) -> None:
    write(tmp_path, "svc/template.yml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    inv = discover(tmp_path)
    assert inv.files == ()
    assert skipped(inv) == {"svc/template.yml": "binary"}
    assert isinstance(read_text(tmp_path, "svc/template.yml"), Skipped)


def test_too_large_template_checked_by_size_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "big/template.yaml", SAM + "#" * 200)
    write(tmp_path, "big/stack.yaml", SAM + "#" * 200)  # found by content, then too large
    write(tmp_path, "big/other.yaml", "x: 1\n" + "#" * 200)  # not a template: no entry
    write(tmp_path, "big/package.json", "{}")
    inv = discover(tmp_path, max_bytes=100)
    assert skipped(inv) == {"big/stack.yaml": "too-large", "big/template.yaml": "too-large"}
    assert kinds(inv) == {"big/package.json": "package_json"}
    size = (tmp_path / "big" / "template.yaml").stat().st_size
    assert inv.skipped[1].detail == f"{size:,} bytes, over the 100-byte limit"

    # the named template is never opened: stat alone decides
    real_open = os.open

    def no_open(path: str, flags: int, mode: int = 0o777) -> int:
        assert not os.fspath(path).endswith("template.yaml"), "opened a too-large file"
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", no_open)
    assert skipped(discover(tmp_path, max_bytes=100))["big/template.yaml"] == "too-large"
    got = read_text(tmp_path, "big/template.yaml", max_bytes=100)
    assert isinstance(got, Skipped)
    assert got.reason == "too-large"
    assert got.detail == f"{size:,} bytes, over the 100-byte limit"


def test_too_large_detail_wording(tmp_path: Path) -> None:
    write(tmp_path, "template.yaml", b"a" * 6_291_456)
    got = read_text(tmp_path, "template.yaml")
    assert got == Skipped(
        "template.yaml", ".", "too-large", "6,291,456 bytes, over the 5,000,000-byte limit"
    )


def test_undecodable_template(tmp_path: Path) -> None:
    write(tmp_path, "svc/template.yaml", "Description: caf\xe9\n".encode("latin-1"))
    write(tmp_path, "svc/stack.yaml", b"AWSTemplateFormatVersion: x\nDescription: \xff\n")
    inv = discover(tmp_path)
    assert skipped(inv) == {"svc/stack.yaml": "undecodable", "svc/template.yaml": "undecodable"}
    got = read_text(tmp_path, "svc/template.yaml")
    assert isinstance(got, Skipped)
    assert got.reason == "undecodable"
    assert "0xe9" in got.detail


def test_read_text_encodings_and_crlf(tmp_path: Path) -> None:
    text = "Resources:\r\n  Q:\r\n    Type: AWS::SQS::Queue # caf\u00e9 \u2713\r\n"
    want = text.replace("\r\n", "\n")
    write(tmp_path, "utf8.yaml", text.encode("utf-8"))
    write(tmp_path, "bom8.yaml", b"\xef\xbb\xbf" + text.encode("utf-8"))
    write(tmp_path, "le.yaml", b"\xff\xfe" + text.encode("utf-16-le"))
    write(tmp_path, "be.yaml", b"\xfe\xff" + text.encode("utf-16-be"))
    for name in ("utf8.yaml", "bom8.yaml", "le.yaml", "be.yaml"):
        assert read_text(tmp_path, name) == want, name
    assert sorted(kinds(discover(tmp_path))) == ["be.yaml", "bom8.yaml", "le.yaml", "utf8.yaml"]
    # lone CR is left alone; only CRLF is normalised
    write(tmp_path, "cr.yaml", "a\rb\r\n")
    assert read_text(tmp_path, "cr.yaml") == "a\rb\n"


def test_read_text_utf16_without_bom_is_binary(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", "Resources: {}\n".encode("utf-16-le"))
    got = read_text(tmp_path, "x.yaml")
    assert isinstance(got, Skipped)
    assert got.reason == "binary"


def test_read_text_odd_cases(tmp_path: Path) -> None:
    write(tmp_path, "svc/odd16.yaml", b"\xff\xfea\x00b")  # truncated UTF-16
    got = read_text(tmp_path, "svc/odd16.yaml")
    assert isinstance(got, Skipped)
    assert (got.reason, got.module) == ("undecodable", "svc")
    write(tmp_path, "u32.yaml", b"\xff\xfe\x00\x00a\x00\x00\x00")
    got = read_text(tmp_path, "u32.yaml")
    assert isinstance(got, Skipped)
    assert got.reason == "undecodable"
    missing = read_text(tmp_path, "nope.yaml")
    assert isinstance(missing, Skipped)
    assert missing.reason == "unreadable"
    (tmp_path / "dir.yaml").mkdir()
    folder = read_text(tmp_path, "dir.yaml")
    assert isinstance(folder, Skipped)
    assert folder.reason == "unreadable"
    write(tmp_path, "empty.yaml", b"")
    assert read_text(tmp_path, "empty.yaml") == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "template.yaml")
    os.mkfifo(tmp_path / "stack.yaml")
    inv = discover(tmp_path)
    assert inv.files == ()
    assert skipped(inv) == {"template.yaml": "unreadable"}
    got = read_text(tmp_path, "stack.yaml")
    assert isinstance(got, Skipped)
    assert got.reason == "unreadable"


def test_multibyte_char_across_the_probe_boundary(tmp_path: Path) -> None:
    # a valid file whose 8 KB head ends inside a multi-byte character is not undecodable
    body = "AWSTemplateFormatVersion: x\n#" + "a" * (8192 - 30) + "\u00e9" * 50 + "\n"
    assert len(body.encode("utf-8")[:8192].decode("utf-8", "ignore").encode()) < 8192
    write(tmp_path, "template.yaml", body)
    assert kinds(discover(tmp_path)) == {"template.yaml": "template"}


def test_non_utf8_file_name(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.yaml"
    try:
        fd = os.open(raw, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    os.write(fd, SAM.encode())
    os.close(fd)
    inv = discover(tmp_path)
    assert inv.files == ()
    assert [(s.path, s.reason) for s in inv.skipped] == [("caf\ufffd.yaml", "undecodable")]


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        discover(tmp_path / "missing")
    write(tmp_path, "file.txt", "x")
    with pytest.raises(NotADirectoryError):
        discover(tmp_path / "file.txt")


# --------------------------------------------------------------------------- modules


def test_modules_and_membership(tmp_path: Path) -> None:
    write(tmp_path, "template.yaml")  # root file -> "."
    write(tmp_path, "svc/go.mod", "module x\n")
    write(tmp_path, "svc/template.yaml")
    write(tmp_path, "svc/fn/package.json", "{}")
    write(tmp_path, "svc/fn/src/template.yaml")  # nearest module wins
    write(tmp_path, "svc/infra/template.yaml")  # enclosing module svc
    write(tmp_path, "both/go.mod", "module y\n")
    write(tmp_path, "both/package.json", "{}")
    write(tmp_path, "loose/deep/er/stack.yaml", SAM)  # no module: top-level folder
    write(tmp_path, "empty/notes.txt", "x")  # no discovered file: no module
    inv = discover(tmp_path)
    assert inv.modules == (
        Module(".", ".", "root"),
        Module("both", "both", "go"),
        Module("loose", "loose", "folder"),
        Module("svc", "svc", "go"),
        Module("svc/fn", "svc/fn", "node"),
    )
    assert {f.path: f.module for f in inv.files} == {
        "both/go.mod": "both",
        "both/package.json": "both",
        "loose/deep/er/stack.yaml": "loose",
        "svc/fn/package.json": "svc/fn",
        "svc/fn/src/template.yaml": "svc/fn",
        "svc/go.mod": "svc",
        "svc/infra/template.yaml": "svc",
        "svc/template.yaml": "svc",
        "template.yaml": ".",
    }


def test_root_manifest_makes_a_root_module_but_top_folders_stay(tmp_path: Path) -> None:
    write(tmp_path, "package.json", "{}")
    write(tmp_path, "a/template.yaml")
    inv = discover(tmp_path)
    assert inv.modules == (Module(".", ".", "node"), Module("a", "a", "folder"))
    assert {f.path: f.module for f in inv.files} == {"a/template.yaml": "a", "package.json": "."}


def test_skipped_entries_name_their_module(tmp_path: Path) -> None:
    write(tmp_path, "lone/template.yml", b"\x00")
    inv = discover(tmp_path)
    assert inv.skipped == (Skipped("lone/template.yml", "lone", "binary", inv.skipped[0].detail),)
    assert inv.modules == (Module("lone", "lone", "folder"),)


def test_module_of() -> None:
    mods = ("a", "a/b", "c/d", ".")
    assert module_of("a/x.yaml", mods) == "a"
    assert module_of("a/b/x.yaml", mods) == "a/b"
    assert module_of("a/bc/x.yaml", mods) == "a"
    assert module_of("a/b", mods) == "a/b"
    assert module_of("c/x.yaml", mods) == "c"
    assert module_of("c/d/e/f.yaml", mods) == "c/d"
    assert module_of("z/y/x.yaml", mods) == "z"
    assert module_of("x.yaml", mods) == "."
    assert module_of("x.yaml", ()) == "."


GITMODULES = """\
# submodules of this repo
[submodule "libs/core"]
\tpath = libs/core
\turl = https://example.com/core.git
; a comment
[submodule "missing"]
    path = ./ext/missing/   # trailing comment
    url = "git@example.com:org/missing.git"
[core]
    path = not-a-submodule
[submodule "empty"]
  path=ext/empty
[submodule "nopath"]
  url = https://example.com/nopath.git
[submodule "escape"]
  path = ../outside
[submodule "dup"]
  path = libs/core
"""


def test_parse_gitmodules() -> None:
    assert parse_gitmodules(GITMODULES) == [
        ("libs/core", "libs/core", "https://example.com/core.git", 2),
        ("missing", "ext/missing", "git@example.com:org/missing.git", 6),
        ("empty", "ext/empty", None, 11),
    ]
    assert parse_gitmodules("") == []
    assert parse_gitmodules("garbage [[[\n= = =\n") == []


def test_gitmodules_with_unchecked_out_submodule(tmp_path: Path) -> None:
    write(tmp_path, ".gitmodules", GITMODULES.replace("\n", "\r\n"))
    write(tmp_path, "libs/core/.git", "gitdir: ../../.git/modules/core\n")
    write(tmp_path, "libs/core/template.yaml")
    write(tmp_path, "libs/core/go.mod", "module core\n")  # submodule kind wins
    (tmp_path / "ext" / "empty").mkdir(parents=True)
    write(tmp_path, "ext/readme.md", "x")
    inv = discover(tmp_path)
    assert inv.submodules == (
        Submodule("libs/core", "libs/core", "https://example.com/core.git", 2, True),
        Submodule("missing", "ext/missing", "git@example.com:org/missing.git", 6, False),
        Submodule("empty", "ext/empty", None, 11, False),
    )
    assert inv.modules == (
        Module(".", ".", "root"),
        Module("ext/empty", "ext/empty", "submodule"),
        Module("ext/missing", "ext/missing", "submodule"),
        Module("libs/core", "libs/core", "submodule"),
    )
    assert {f.path: f.module for f in inv.files} == {
        ".gitmodules": ".",
        "libs/core/go.mod": "libs/core",
        "libs/core/template.yaml": "libs/core",
    }


def test_unreadable_gitmodules(tmp_path: Path) -> None:
    write(tmp_path, ".gitmodules", b"\x00\x01")
    inv = discover(tmp_path)
    assert inv.submodules == ()
    assert skipped(inv) == {".gitmodules": "binary"}


# --------------------------------------------------------------------------- determinism


def test_output_is_sorted_and_deterministic(tmp_path: Path) -> None:
    for name in ("z", "a", "m-x", "m", "m.x", "B"):
        write(tmp_path, f"{name}/template.yaml")
        write(tmp_path, f"{name}/sub/template.json", "{}")
        write(tmp_path, f"{name}/bin/template.yml", b"\x00")
    first, second = discover(tmp_path), discover(tmp_path)
    assert first == second
    assert [f.path for f in first.files] == sorted(f.path for f in first.files)
    assert [s.path for s in first.skipped] == sorted(s.path for s in first.skipped)
    assert [m.path for m in first.modules] == sorted(m.path for m in first.modules)


# --------------------------------------------------------------------------- the real corpus


@pytest.mark.shared
def test_serverless_patterns_corpus() -> None:
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CORPUS} is missing on CI")
        pytest.skip("../shared not present")
    discover(CORPUS)  # warm the OS cache
    started = time.perf_counter()
    inv = discover(CORPUS)
    elapsed = time.perf_counter() - started
    counts = Counter(f.kind for f in inv.files)
    assert counts["template"] == 562
    assert counts["go_mod"] == 20
    assert counts["package_json"] == 325
    assert inv.skipped == ()
    assert "sfn-dynamodb/.aws-composer/20221206T025957326/template.yaml" in kinds(inv)
    assert (
        kinds(inv)["apigw-rest-api-lambda-ecr/cdk/code/src/AWSLamdaDemo/serverless.template"]
        == "template"
    )
    # every file's module exists
    assert {f.module for f in inv.files} <= {m.name for m in inv.modules}
    assert elapsed < 1.0, f"corpus walk took {elapsed:.3f} s"


def test_the_command_line_walk_is_kept_for_its_scan_only(tmp_path: Path) -> None:
    """The walk that keys the output replay serves the scan that follows (taken once); a
    forgotten or taken walk is never reused, so a later scan sees a changed tree."""
    from reviewer.cache.store import forget_reads
    from reviewer.discover.inventory import discover_and_keep, discover_once

    (tmp_path / "a.yaml").write_text(SAM, encoding="utf-8")
    kept = discover_and_keep(tmp_path)
    assert discover_once(tmp_path) is kept
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "template.yaml").write_text(SAM, encoding="utf-8")
    again = discover_once(tmp_path)  # taken already: a fresh walk
    assert again is not kept and len(again.files) == len(kept.files) + 1
    discover_and_keep(tmp_path, max_bytes=10)
    assert discover_once(tmp_path).files == again.files  # other settings: not that walk
    latest = discover_and_keep(tmp_path)
    forget_reads()
    assert discover_once(tmp_path) is not latest


# --------------------------------------------------------------------------- left out, --verbose


def test_generated_folders_are_one_list_and_verbose_prints_what_was_left_out(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from reviewer.cli.main import main

    for name in (".serverless", ".aws-sam", "cdk.out", "node_modules", ".terraform", "vendor"):
        assert name in discover_mod.GENERATED_DIRS
        write(tmp_path, f"app/{name}/template.yaml")
    write(tmp_path, "app/template.yaml")
    write(tmp_path, ".gitignore", "local/\n")
    write(tmp_path, "local/template.yaml")
    inv = discover(tmp_path)
    assert kinds(inv) == {"app/template.yaml": "template"}
    left = {item.path: item.why for item in inv.left_out}
    assert left["app/.serverless/"] == discover_mod.GENERATED_DIRS[".serverless"]
    assert left["local/"].startswith("untracked and ignored by .gitignore line 1")
    result = CliRunner().invoke(
        main, ["scan", str(tmp_path), "--verbose", "--no-cache", "--fail-on", "never"]
    )
    assert result.exit_code == 0, result.output
    shown = [line for line in result.stderr.splitlines() if "left out" in line]
    assert len(shown) == 7 and any("app/cdk.out/: CDK synthesised" in s for s in shown)
    quiet = CliRunner().invoke(main, ["scan", str(tmp_path), "--no-cache", "--fail-on", "never"])
    assert "left out" not in quiet.stderr


def test_the_content_test_is_linear_on_hostile_text() -> None:
    """Texts built to make a backtracking matcher quadratic (a key line of blanks, strings of
    escaped quotes, unterminated braces), 2 MB each, all decided in a child process that is
    killed after 60 s (a hang is a failure; no timing is asserted)."""
    code = (
        "from reviewer.discover.inventory import classify_text\n"
        "n = 2_000_000\n"
        "texts = [\n"
        "    'AWS::x\\na' + ' ' * n,\n"
        "    '{\"AWSTemplateFormatVersion\": \"' + '\\\\\"' * (n // 2),\n"
        "    'AWS:: ' + '{{' + ' ' * n,\n"
        "    'AWS::\\n' + 'a:' * (n // 2),\n"
        "    'AWS::\\n' + ('- ' * 1000 + '\\n') * (n // 2000),\n"
        "    'Resources:\\n' + '  Type: AWS::S3::Bucket\\n' * (n // 25),\n"
        "    \"'\" + 'AWS::' * (n // 5),\n"
        "]\n"
        "print([classify_text(t) for t in texts])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[None, 'template', None, None, None, 'template', None]"
