"""Nothing archreview prints under GitHub Actions reads as a workflow command (issue 18, item 4).

The runner takes a line whose text after white space starts with `::`, and a line holding `##[`
anywhere, as a command. `reviewer.outputs.inert` puts one filter in front of stdout and stderr;
these tests hold it: the pure function, the stream (commands split across writes), each output
format through the real `archreview` program with hostile file names, and archreview's own
annotations.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.outputs.inert import (
    ZWSP,
    ActionsLogStream,
    has_command,
    neutralise,
    workflow_command,
)

from .conftest import FIXTURES

# what tests/hostile/harness.py flags too: `::` after leading white space, `##[` anywhere
_COMMAND = re.compile(r"^\s*::|##\[")

QUEUE = (FIXTURES / "templates" / "AR-EVT-003" / "fail.yaml").read_text(encoding="utf-8")
HOSTILE = (
    "::error file=x,line=1::APPROVED.yaml",
    "##[group]x.yaml",
    "  ::add-mask::y.yaml",
    "a\u00a0::warning::z.yaml",
)


def commands(text: str) -> list[str]:
    return [line for line in re.split(r"\r\n|\r|\n", text) if _COMMAND.search(line)]


# -- the function ---------------------------------------------------------------------------


def test_each_form_of_command_is_broken_and_reads_the_same() -> None:
    for line in (
        "::error::x",
        "   ::warning file=a::b",
        "\t::stop-commands::tok",
        "text ##[group]name",
        "##[error]x",
        "\u2003::notice::em space is white space to the runner",
        "a\r::error::after a carriage return",
    ):
        out = neutralise(line)
        assert not commands(out) and not has_command(out), out
        assert out.replace(ZWSP, "") == line
    # what is not a command is left alone
    for line in ("a::b", "x :: y", "# [x]", "## [x]", ":single"):
        assert neutralise(line) == line


def test_machine_styles_keep_the_values_exact() -> None:
    value = {"file": "##[group]x.yaml", "message": "a\n::error::b"}
    text = json.dumps(value, indent=2)
    out = neutralise(text, "json")
    assert not commands(out) and json.loads(out) == value
    xml = '<testcase name="##[group]x">\n::error::y &amp; z</testcase>'
    out = neutralise(xml, "xml")
    assert not commands(out)
    node = ET.fromstring(out)
    assert node.get("name") == "##[group]x" and node.text == "\n::error::y & z"


@settings(derandomize=True, deadline=None, max_examples=300)
@given(
    st.text(alphabet=st.sampled_from(list(":#[ \t\n\rxa\u00a0")), max_size=60),
    st.lists(st.integers(min_value=0, max_value=60), max_size=6),
)
def test_the_stream_breaks_commands_split_across_writes(text: str, cuts: list[int]) -> None:
    """Whatever the text and however it is cut into writes (and flushed between them), the
    stream writes no command, and without the inserted characters it is the text."""
    raw = io.StringIO()
    stream = ActionsLogStream(raw)
    points = sorted({c for c in cuts if c < len(text)} | {0, len(text)})
    for start, end in itertools.pairwise(points):
        stream.write(text[start:end])
        stream.flush()
    stream.release()
    out = raw.getvalue()
    assert not commands(out), (text, cuts, out)
    assert out.replace(ZWSP, "") == text


def test_the_stream_refuses_bytes_like_a_text_stream() -> None:
    stream = ActionsLogStream(io.StringIO())
    with pytest.raises(TypeError):
        stream.write(b"x")  # type: ignore[arg-type]


def test_our_own_annotations_stay_one_command() -> None:
    line = workflow_command("notice", "100% done\n::error::x ##[group]", title="arch:review, 1")
    assert line.startswith("::notice title=arch%3Areview%2C 1::")
    assert "\n" not in line and "##[" not in line
    assert "100%25 done%0A::error::x" in line
    raw = io.StringIO()
    stream = ActionsLogStream(raw)
    stream.write("  ")  # a held-back line start is written first, not glued to ours
    stream.command(line)
    assert raw.getvalue() == "  " + line + "\n"


# -- the program ------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    root.mkdir()
    for name in HOSTILE:
        (root / name).write_text(QUEUE, encoding="utf-8")
    folder = root / "##[group]folder"
    folder.mkdir()
    (folder / "template.yaml").write_text(
        QUEUE.replace("Queue:", '"Queue\\n::error::x##[endgroup]":', 1), encoding="utf-8"
    )


def _archreview(args: list[str], cwd: Path, actions: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["ARCHREVIEW_TODAY"] = "2026-06-01"
    if actions:
        env["GITHUB_ACTIONS"] = "true"
    return subprocess.run(
        [sys.executable, "-I", "-c", "from reviewer.cli.main import run; run()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "sarif", "junit"])
def test_no_format_on_stdout_carries_a_command_under_actions(tmp_path: Path, fmt: str) -> None:
    _tree(tmp_path / "repo")
    args = [
        "scan",
        ".",
        "--no-cache",
        "--persona",
        "auditor",
        "--format",
        fmt,
        "--fail-on",
        "never",
    ]
    plain = _archreview(args, tmp_path / "repo", actions=False)
    guarded = _archreview(args, tmp_path / "repo", actions=True)
    assert plain.returncode == guarded.returncode == 0, guarded.stderr
    if fmt in ("text", "markdown"):  # the hostile names reach these outputs as lines
        assert commands(plain.stdout), "the test must be able to fail"
    assert not commands(guarded.stdout) and not commands(guarded.stderr)
    if fmt in ("json", "sarif"):  # the same document to a JSON reader
        assert json.loads(guarded.stdout) == json.loads(plain.stdout)
    elif fmt == "junit":
        assert ET.tostring(ET.fromstring(guarded.stdout)) == ET.tostring(
            ET.fromstring(plain.stdout)
        )
    else:  # the same text once the invisible characters are taken out
        assert guarded.stdout.replace(ZWSP, "") == plain.stdout
    for name in HOSTILE:
        if fmt == "json":
            files = {f["file"] for f in json.loads(guarded.stdout)["findings"]}
            assert name in files


def test_messages_on_stderr_are_guarded_too(tmp_path: Path) -> None:
    """A usage error naming a hostile path: the message is one of archreview's own lines."""
    done = _archreview(["scan", "::error::missing ##[group]"], tmp_path, actions=True)
    assert done.returncode == 2
    assert "missing" in done.stderr and not commands(done.stderr + done.stdout)


def test_the_comment_notice_is_our_one_command(tmp_path: Path) -> None:
    """`archreview comment`'s notice under Actions is a real command, and the only one."""
    from click.testing import CliRunner

    from reviewer.cli.comment import notice

    runner = CliRunner(env={"GITHUB_ACTIONS": "true"})
    with runner.isolation() as (out, _err, *_):
        notice("could not comment ##[group] on\n::error::x")
        text = out.getvalue().decode()
    assert text.startswith("::notice title=archreview::") and text.count("\n") == 1
    assert "##[" not in text


def test_adversarial_output_is_filtered_in_linear_time() -> None:
    """Shapes that would make a back-scan per `::` quadratic (one CR then millions of lines, a
    5 MB line of colons, a 5 MB text in one write and in 1-character writes) finish in a fresh
    process well within a generous hang limit."""
    code = (
        "import io\n"
        "from reviewer.outputs.inert import ActionsLogStream, neutralise\n"
        "neutralise('\\r' + ' ::x\\n' * 1_000_000)\n"
        "neutralise('a' + '::' * 2_500_000)\n"
        "neutralise('##[' * 1_500_000, 'json')\n"
        "s = ActionsLogStream(io.StringIO())\n"
        "s.write('\\r' + ' ::x\\n' * 1_000_000)\n"
        "for ch in ' ' * 200_000 + ' :' * 100_000 + '#' * 100_000: s.write(ch)\n"
        "s.release()\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "done"
