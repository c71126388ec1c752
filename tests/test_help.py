"""Help that teaches (issue 19, item 5): `archreview` alone and `archreview --help` show the two
commands a new user needs; `scan --help` groups its options by what they are for and ends with
examples that run; `init --help` takes a PATH like scan. The texts are snapshots under
tests/snapshots/help/ (UPDATE_SNAPSHOTS=1 rewrites them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reviewer.cli.main import SCAN_EXAMPLES, SCAN_SECTIONS, main, scan

from .conftest import FIXTURES, ROOT, text_snapshot

SNAPSHOTS = ROOT / "tests" / "snapshots" / "help"


def _help(*args: str) -> click.testing.Result:
    # a fixed width: click wraps to the terminal's, which differs between machines
    return CliRunner().invoke(main, list(args), prog_name="archreview", env={"COLUMNS": "80"})


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("archreview", ()),
        ("archreview--help", ("--help",)),
        ("scan--help", ("scan", "--help")),
        ("init--help", ("init", "--help")),
    ],
)
def test_help_snapshots(name: str, args: tuple[str, ...]) -> None:
    result = _help(*args)
    # `archreview` alone is a missing command: the help on stderr, exit 2 (click's convention)
    assert result.exit_code == (2 if not args else 0), result.output
    text_snapshot(SNAPSHOTS / f"{name}.txt", result.output)


def test_archreview_alone_shows_the_two_commands_a_new_user_needs() -> None:
    for args in ((), ("--help",)):
        out = _help(*args).output
        start = out.index("Start here:")
        assert start < out.index("Options:") < out.index("Commands:")
        block = out[start : out.index("Options:")]
        assert "archreview scan PATH" in block
        assert "archreview init PATH" in block
        assert "PATH/.archreview.yml" in block


def _sections(out: str) -> dict[str, str]:
    """The titled blocks of a help text: title -> its text (without the title line)."""
    lines = out.splitlines(keepends=True)
    found: dict[str, str] = {}
    title = ""
    for line in lines:
        if line.strip() and not line.startswith(" ") and line.rstrip().endswith(":"):
            title = line.rstrip()[:-1]
            found[title] = ""
        elif title:
            found[title] += line
    return found


def test_scan_help_groups_every_option_under_what_it_is_for() -> None:
    out = _help("scan", "--help").stdout
    sections = _sections(out)
    expected = [title for title, _ in SCAN_SECTIONS]
    # the groups, in the order a user meets them
    for wanted in (
        "Output",
        "Gate",
        "Profile and personas",
        "PR mode",
        "Cache and speed",
        "Live AWS",
    ):
        assert any(t.startswith(wanted) for t in expected), wanted
    assert [t for t in sections if t in expected] == expected
    # every option is named in a section; only --help is left for "Other options"
    named = {name for _, names in SCAN_SECTIONS for name in names}
    options = [p for p in scan.params if isinstance(p, click.Option)]
    assert {p.name for p in options if p.name != "help"} <= named, (
        "a new scan option: add it to reviewer.cli.main.SCAN_SECTIONS"
    )
    assert sections["Other options"].split() == [
        "-h,",
        "--help",
        "Show",
        "this",
        "message",
        "and",
        "exit.",
    ]
    # and each option is listed exactly once, in the section that names it
    options_text = out[: out.index("\nExamples:")]
    for title, names in SCAN_SECTIONS:
        for name in names:
            param = next((p for p in options if p.name == name), None)
            if param is None:
                continue
            flag = max(param.opts, key=len)
            assert f"  {flag}" in sections[title], (flag, title)
            listed = re.findall(
                rf"^  (?:-\w, )?{re.escape(flag)}(?=[ \n])", options_text, re.MULTILINE
            )
            assert len(listed) == 1, flag


def test_scan_help_ends_with_three_examples_that_parse() -> None:
    out = _help("scan", "--help").stdout
    examples = _sections(out)["Examples"]
    assert out.rstrip().endswith(examples.rstrip())
    assert len(SCAN_EXAMPLES) == 3
    for what, command in SCAN_EXAMPLES:
        assert what in examples
        args = shlex.split(command.replace("\\\n", " "))
        assert args[:2] == ["archreview", "scan"]
        # each example is a command scan accepts as written (options, formats, outputs)
        ctx = scan.make_context("scan", args[2:])
        assert ctx.params["path"] == Path(".")


def test_the_first_example_reviews_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = FIXTURES / "templates" / "AR-API-007"
    monkeypatch.chdir(repo)
    args = shlex.split(SCAN_EXAMPLES[0][1])[1:]
    result = CliRunner().invoke(main, [*args, "--no-cache", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert "AR-API-007" in result.stdout


def test_init_help_takes_a_path_like_scan() -> None:
    out = _help("init", "--help").stdout
    assert out.startswith("Usage: archreview init [OPTIONS] [PATH]")
    assert "PATH/.archreview.yml" in out
    assert "--from-agent FILE" in out
    assert "--verbose" in out


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_quick_start_is_two_commands_that_review_the_example_and_test() -> None:
    quick = _readme_section("Quick start")
    block = quick.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert commands == ["make example", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "fixtures/repos/" in makefile.split("\nexample:", 1)[1].split("\n\n", 1)[0]


def test_every_command_of_the_first_hour_is_one_archreview_accepts() -> None:
    section = _readme_section("The first hour") + _readme_section("Quick start")
    commands = re.findall(r"`(archreview [^`]+)`", section)
    assert len(commands) >= 5
    for command in commands:
        args = shlex.split(command)[1:]
        name = args[0]
        cmd = main.get_command(click.Context(main), name) if not name.startswith("-") else None
        if cmd is None or args[1:] in (["--help"],):
            continue
        try:
            cmd.make_context(name, args[1:])
        except click.UsageError as err:
            pytest.fail(f"README: `{command}`: {err}")
