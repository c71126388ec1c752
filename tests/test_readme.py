"""The README is for users (issue 20, item 5): at most 300 lines, the two quick-start commands,
every command and every `scan` option, every dependency with its reason; measurements and
internals live in docs/, and every relative link of the docs resolves.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import click
import jsonschema
import pytest
import yaml

from reviewer.cli.main import main

from .conftest import ROOT

README = ROOT / "README.md"
MAX_LINES = 300
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_readme_is_at_most_300_lines() -> None:
    lines = _readme().splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines (at most {MAX_LINES})"


def test_the_quick_start_is_make_example_and_make_test() -> None:
    block = _section(_readme(), "Quick start").split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert commands == ["make example", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("example", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), f"the Makefile has no `{target}` target"


def _commands(group: click.Group, prefix: str = "archreview") -> list[str]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if command.hidden:
            continue
        found.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
    return found


def test_every_command_is_in_the_readme() -> None:
    text = _readme()
    commands = _commands(main)
    assert {"archreview scan", "archreview init", "archreview profile show"} <= set(commands)
    missing = [c for c in commands if not re.search(rf"{re.escape(c)}(?![\w-])", text)]
    assert not missing, f"commands the README does not mention: {missing}"


def _scan() -> click.Command:
    scan = main.get_command(click.Context(main), "scan")
    assert scan is not None
    return scan


def _scan_options() -> list[str]:
    scan = _scan()
    options = []
    for param in scan.get_params(click.Context(scan)):
        if isinstance(param, click.Option) and not param.hidden:
            options += [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
    return options


def test_every_option_scan_help_lists_is_in_the_readme() -> None:
    text = _readme()
    options = _scan_options()
    help_text = _scan().get_help(click.Context(_scan(), info_name="scan"))
    for option in options:
        assert option in help_text, option  # the same list --help prints
    assert {"--format", "--fail-on", "--diff-base", "--cache-dir", "--help"} <= set(options)
    # --fail-on must not be found inside --fail-on-incomplete
    missing = [o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
    assert not missing, f"scan options the README does not mention: {missing}"


def test_every_input_and_output_of_the_action_is_in_the_readme() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    section = _section(_readme(), "GitHub Action")
    names = [*action["inputs"], *action["outputs"]]
    assert "cache" in names
    missing = [n for n in names if f"`{n}`" not in section]
    assert not missing, f"action.yml inputs/outputs the README's GitHub Action omits: {missing}"


def _dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    specs = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for extra in project["project"].get("optional-dependencies", {}).values():
        specs += extra
    names = [re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0] for spec in specs]
    return sorted(set(names), key=names.index)


def _reasons(section: str) -> dict[str, str]:
    """Each bolded name in a bullet with the words of that bullet that are not names."""
    reasons: dict[str, str] = {}
    for bullet in re.split(r"\n- ", section)[1:]:
        bullet = bullet.split("\n\n", 1)[0]
        names = re.findall(r"\*\*([\w.-]+)\*\*", bullet)
        words = re.sub(r"\*\*[\w.-]+\*\*", "", bullet)
        for name in names:
            reasons[name.lower()] = words
    return reasons


def test_every_dependency_has_its_reason_in_the_readme() -> None:
    reasons = _reasons(_section(_readme(), "Dependencies and why"))
    for name in _dependencies():
        reason = reasons.get(name.lower())
        assert reason is not None, f"{name} (pyproject.toml) is not named in the README"
        assert len(re.findall(r"[A-Za-z]{3,}", reason)) >= 3, f"{name}: no reason given"


def test_the_dependency_check_can_fail() -> None:
    reasons = _reasons("\n- **alpha**: parses the gamma format for us.\n- **beta**\n")
    assert set(reasons) == {"alpha", "beta"}
    assert len(re.findall(r"[A-Za-z]{3,}", reasons["beta"])) < 3


def test_measurements_and_internals_live_in_docs() -> None:
    text = _readme()
    for page in ("docs/performance.md", "docs/adr/"):
        assert f"]({page})" in text, f"the README does not link {page}"
    performance = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    # every figure moved there is dated and says how it was measured
    assert "bench/run.py --repeat 3 --peers --generate 0" in performance
    assert re.search(r"^## Figures of \d{4}-\d{2}-\d{2}$", performance, re.M)
    assert not re.search(r"\d+\.\d+ s\b", text), "timings belong in docs/performance.md"


def _slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"[`*_]", "", title.strip().lower())
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    """Relative links (and anchors) of a Markdown page that do not resolve."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    broken = []
    for m in LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
            continue
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", FENCE.sub("", resolved.read_text("utf-8")), re.M)
            if anchor not in {_slug(h) for h in headings}:
                broken.append(target)
    return broken


def _pages() -> list[Path]:
    pages = [README, ROOT / "CONTRIBUTING.md", ROOT / "bench" / "README.md"]
    pages += sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs" / "adr").glob("*.md"))
    pages += [ROOT / "tests" / "data" / "README.md"]
    return [p for p in pages if p.exists()]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert not broken_links(page), f"{page.relative_to(ROOT)}: broken links"


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A title, here\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok](there.md#a-title-here) [web](https://example.com/x)\n"
        "[gone](missing.md) ![img](img/none.png) [bad anchor](there.md#nope)\n"
        "```\n[in code](ignored.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md", "img/none.png", "there.md#nope"]


def test_the_vendored_sarif_schema_is_the_oasis_one() -> None:
    """tests/data/README.md records the schema's origin, licence and digest; the file matches
    it, and it is a working validator (a wrong level is an error)."""
    data = ROOT / "tests" / "data"
    note = (data / "README.md").read_text(encoding="utf-8")
    schema_bytes = (data / "sarif-schema-2.1.0.json").read_bytes()
    assert hashlib.sha256(schema_bytes).hexdigest() in note
    assert "OASIS" in note and "licen" in note.lower()
    schema = json.loads(schema_bytes)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert schema["id"] in note
    validator = jsonschema.validators.validator_for(schema)(schema)
    run = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}}]}
    assert not list(validator.iter_errors({"version": "2.1.0", "runs": [run]}))
    run["results"][0]["level"] = "fatal"  # type: ignore[index]
    assert list(validator.iter_errors({"version": "2.1.0", "runs": [run]}))
