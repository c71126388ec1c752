"""`archreview adr`: the example repository's ADR files as snapshots, stable re-runs, resolved
and accepted records, hand edits that survive, templates, safe names, and `explain`."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer import scan as review
from reviewer.checks.catalogue import load_catalogue
from reviewer.cli.main import main
from reviewer.outputs.adr import (
    AdrError,
    merge_keep,
    read_index,
    rule_template,
    slug,
    write_adrs,
)
from reviewer.runner.engine import scan

from .conftest import FIXTURES, ROOT

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
SNAPSHOTS = ROOT / "tests" / "snapshots" / "adr"


def _copy_example(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    return repo


def _adr(repo: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _status(text: str) -> str:
    return text.split("status: ", 1)[1].split("\n", 1)[0]


def test_example_repository_adr_snapshots(tmp_path: Path) -> None:
    repo = _copy_example(tmp_path)
    out = repo / "docs" / "adr"  # beside the team's own 0001 record
    _adr(repo, out)
    written = sorted(p.name for p in out.iterdir() if p.name != "0001-record-architecture-decisions.md")
    update = os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOTS.exists()
    if update:
        if os.environ.get("CI") == "true" and not SNAPSHOTS.exists():
            pytest.fail(f"snapshots {SNAPSHOTS} are missing")
        shutil.rmtree(SNAPSHOTS, ignore_errors=True)
        SNAPSHOTS.mkdir(parents=True)
        for name in written:
            shutil.copyfile(out / name, SNAPSHOTS / name)
    assert written == sorted(p.name for p in SNAPSHOTS.iterdir()), "UPDATE_SNAPSHOTS=1 to rewrite"
    for name in written:
        assert (out / name).read_text(encoding="utf-8") == (SNAPSHOTS / name).read_text(
            encoding="utf-8"
        ), f"snapshot tests/snapshots/adr/{name} differs (UPDATE_SNAPSHOTS=1 to rewrite)"
    # numbering continues after the team's own record, most severe first
    assert written[0].startswith("0002-grant-only-the-actions")
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    report = review(repo)  # against its committed agent definition, as `archreview adr` reviews it
    assert len(index["records"]) == len({(f.rule_id, f.module) for f in report.findings})
    # the one (rule, module) whose only finding is suppressed with a reason is accepted
    accepted = [r for r in index["records"] if r["status"] == "accepted"]
    assert [(r["rule_id"], r["module"]) for r in accepted] == [("AR-DBS-004", "modules/chariot")]
    body = (out / accepted[0]["file"]).read_text(encoding="utf-8")
    assert 'Chosen option: "Accept the risk"' in body and "Single region until" in body


def test_a_record_has_every_madr_section(tmp_path: Path) -> None:
    repo = _copy_example(tmp_path)
    out = tmp_path / "adr"
    _adr(repo, out)
    entry = next(e for e in read_index(out) if e.rule_id == "AR-EVT-003")
    text = (out / entry.file).read_text(encoding="utf-8")
    assert text.startswith("---\nstatus: proposed\ndate: 2026-11-25\ndecision-makers:\n")
    for heading in (
        "# Set each consumed queue's visibility timeout to at least six times its consumer's "
        "timeout in modules/chariot",
        "## Context and Problem Statement",
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "### Consequences",
        "### Confirmation",
        "## More Information",
    ):
        assert f"\n{heading}\n" in text, heading
    # every affected resource as a file:line link relative to the ADR directory
    assert "[modules/chariot/template.yml:193](../repo/modules/chariot/template.yml#L193)" in text
    # the queue is below even the function's timeout: the rule's high variant
    assert "* Severity: high (the rule's default is medium); confidence: high" in text
    assert "* Score: 8.0 of a possible 8.0" in text
    assert "* Fix: " in text and "* Accept the risk: " in text and "* Defer: " in text
    assert "`AssetProcessingQueue`: `VisibilityTimeout` at [modules/chariot/template.yml:193]" in text
    assert "* Good, because " in text and "* Bad, because " in text
    assert "Rule AR-EVT-003 (" in text
    assert "(https://docs.aws.amazon.com/" in text


def test_rerun_changes_nothing_and_a_fix_marks_only_its_record_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _copy_example(tmp_path)
    out = tmp_path / "adr"
    _adr(repo, out)
    first = _state(out)
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-01")  # a later day changes nothing either
    _adr(repo, out)
    assert _state(out) == first

    template = repo / "modules" / "chariot" / "template.yml"
    source = template.read_text(encoding="utf-8")
    assert "VisibilityTimeout: 30 # archreview: expect AR-EVT-003" in source
    template.write_text(
        source.replace("VisibilityTimeout: 30 # archreview: expect AR-EVT-003", "VisibilityTimeout: 1800"),
        encoding="utf-8",
    )
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-02")
    output = _adr(repo, out)
    after = _state(out)
    entry = next(e for e in read_index(out) if e.rule_id == "AR-EVT-003")
    changed = sorted(name for name in after if after[name] != first.get(name))
    assert changed == sorted([entry.file, "index.json"])
    assert f"resolved  {out / entry.file}" in output
    text = (out / entry.file).read_text(encoding="utf-8")
    assert _status(text) == "resolved" and "date: 2026-12-02" in text
    assert "it was resolved on 2026-12-02" in text and "What was changed:" in text
    assert (entry.status, entry.date) == ("resolved", "2026-12-02")
    # the index changed in that record only
    before = {r["file"]: r for r in json.loads(first["index.json"][0])["records"]}
    now = {r["file"]: r for r in json.loads(after["index.json"][0])["records"]}
    assert [f for f in now if now[f] != before[f]] == [entry.file]
    # and a further run leaves the resolved record alone
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-03")
    _adr(repo, out)
    assert _state(out) == after


def test_hand_edits_between_markers_and_team_front_matter_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _copy_example(tmp_path)
    out = tmp_path / "adr"
    _adr(repo, out)
    entry = next(e for e in read_index(out) if e.rule_id == "AR-EVT-003")
    path = out / entry.file
    text = path.read_text(encoding="utf-8")
    text = text.replace("decision-makers:\n", "decision-makers:\n  - platform team\n")
    text = text.replace("informed:\n", "informed: [security]\ntags: [queues]\n")
    text = text.replace(
        "<!-- archreview:keep outcome -->\n",
        "<!-- archreview:keep outcome -->\nAgreed in the 2026-11 review: raise to 1800 s.\n",
    )
    text = text.replace(
        "## Decision Drivers\n",
        "<!-- archreview:keep -->\nA note the team added under the context.\n"
        "<!-- /archreview:keep -->\n\n## Decision Drivers\n",
    )
    path.write_text(text, encoding="utf-8")
    # a change in the finding (here: its line moves) forces a re-render
    template = repo / "modules" / "chariot" / "template.yml"
    template.write_text("# a comment line on top\n" + template.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-05")
    _adr(repo, out)
    new = path.read_text(encoding="utf-8")
    assert "date: 2026-12-05" in new and "template.yml:194" in new
    assert "decision-makers:\n  - platform team\n" in new
    assert "informed: [security]\n" in new and "tags: [queues]\n" in new
    assert "Agreed in the 2026-11 review: raise to 1800 s.\n<!-- /archreview:keep outcome -->" in new
    context = new[new.index("## Context and Problem Statement") : new.index("## Decision Drivers")]
    assert "A note the team added under the context." in context
    assert new.count("A note the team added") == 1


def test_merge_keep_places_orphans_in_their_section() -> None:
    old = "# T\n\n## A\n\nx\n<!-- archreview:keep -->\nmine\n<!-- /archreview:keep -->\n\n## B\n\ny\n"
    new = "# T\n\n## A\n\nx2\n\n## B\n\ny2\n"
    merged = merge_keep(new, old)
    assert merged.index("mine") < merged.index("## B") and "x2" in merged and "y2" in merged
    assert merge_keep(new, "no blocks") == new


def test_nygard_and_user_templates(tmp_path: Path) -> None:
    repo = _copy_example(tmp_path)
    nygard = tmp_path / "nygard"
    _adr(repo, nygard, "--template", "nygard")
    entry = next(e for e in read_index(nygard) if e.rule_id == "AR-EVT-003")
    text = (nygard / entry.file).read_text(encoding="utf-8")
    assert text.startswith(f"# {entry.number}. Set each consumed queue")
    for heading in ("## Status", "## Context", "## Decision", "## Consequences"):
        assert f"\n{heading}\n" in text
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "madr.md.j2").write_text(
        "---\nstatus: {{ status }}\ndate: {{ date }}\n---\n\n# {{ id }} {{ title }}\n\n"
        "{% for r in resources %}- {{ r.link }}\n{% endfor %}",
        encoding="utf-8",
    )
    mine = tmp_path / "mine"
    _adr(repo, mine, "--template-dir", str(custom))
    entry = next(e for e in read_index(mine) if e.rule_id == "AR-EVT-003")
    assert (mine / entry.file).read_text(encoding="utf-8").endswith(
        "- [modules/chariot/template.yml:193](../repo/modules/chariot/template.yml#L193)\n"
    )
    # templates run sandboxed: reaching for Python internals is an error, exit 2
    (custom / "madr.md.j2").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["adr", str(repo), "--out", str(tmp_path / "x"), "--template-dir", str(custom)]
    )
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(tmp_path / "y"), "--template", "nope"])
    assert result.exit_code == 2 and "not found" in result.output


HOSTILE_TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: '2010-09-09'
    Resources:
      Queue:
        Type: AWS::SQS::Queue
        Properties:
          KmsMasterKeyId: alias/jobs
    """
)


def test_hostile_names_stay_inside_the_directory_and_inert(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    evil = repo / "@org team <script>alert(1)<!-- ` | ``` ..".replace("/", "_")
    evil.mkdir(parents=True)
    (evil / "template.yaml").write_text(HOSTILE_TEMPLATE, encoding="utf-8")
    # the queue's missing dead-letter queue (nothing in the repository reads it) is pedantic
    (repo / ".archreview.yml").write_text("persona: pedantic\n", encoding="utf-8")
    out = tmp_path / "out" / "adr"
    _adr(repo, out)
    names = sorted(p.name for p in out.iterdir())
    assert "index.json" in names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["adr"]
    linked = 0
    for name in names:
        if name == "index.json":
            continue
        assert all(c.isalnum() or c in "-." for c in name) and name == name.lower(), name
        text = (out / name).read_text(encoding="utf-8")
        assert "<script>" not in text and "@org" not in text
        assert text.count("<!--") == text.count("-->")  # no comment left open
        assert "\n```" not in text
        linked += "](../../repo/%40org%20team%20%3Cscript%3Ealert%281%29%3C%21--%20%60%20%7C" in text
        if "&lt;script&gt;" in text:
            assert "in @\u200dorg team &lt;script&gt;alert(1)&lt;!-- \\` \\| \\`\\`\\` ..\n" in text
    assert linked >= 1


def test_a_record_names_only_what_the_module_declares(tmp_path: Path) -> None:
    """AR-API-001 is only tuned by the WAF keys (the baseline gives them values): a record names
    a declaration only where the module's own profile declares one, with its value."""
    repo = tmp_path / "repo"
    unprotected = (FIXTURES / "templates" / "AR-API-001" / "fail.yaml").read_text(encoding="utf-8")
    for folder in ("svc", "other"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "template.yaml").write_text(unprotected, encoding="utf-8")
    (repo / ".archreview.yml").write_text("persona: pedantic\n", encoding="utf-8")
    (repo / "svc" / "package.json").write_text('{"name": "svc", "version": "1.0.0"}\n', "utf-8")
    (repo / "svc" / ".archreview.yml").write_text(
        "layers:\n  api:\n    waf_rate_limit: true\n", encoding="utf-8"
    )
    out = tmp_path / "adr"
    _adr(repo, out)
    records = {e.module: e for e in read_index(out) if e.rule_id == "AR-API-001"}
    assert set(records) == {"svc", "other"}
    breaks = {
        module: next(
            line
            for line in (out / e.file).read_text(encoding="utf-8").splitlines()
            if line.startswith("* Expectation it breaks: ")
        )
        for module, e in records.items()
    }
    assert breaks["svc"].endswith(
        "; the profile (.archreview.yml) declares `layers.api.waf_rate_limit`: true"
    )
    assert "declares" not in breaks["other"]  # the baseline's values are no declaration
    assert breaks["other"].endswith("(API L2 API edge)")


def test_a_broken_index_is_a_usage_error(tmp_path: Path) -> None:
    repo = _copy_example(tmp_path)
    out = tmp_path / "adr"
    out.mkdir()
    (out / "index.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
    assert result.exit_code == 2 and "index" in result.output
    (out / "index.json").write_text(
        json.dumps({"version": 1, "records": [{"number": 1, "rule_id": "AR-EVT-003", "module": ".",
                                                "file": "../escape.md", "status": "proposed", "date": "x"}]}),
        encoding="utf-8",
    )
    with pytest.raises(AdrError, match="unusable file"):
        write_adrs(scan(repo), out, root=repo, today=date(2026, 11, 25))


def test_an_index_entry_must_name_a_file_of_its_own_number_once(tmp_path: Path) -> None:
    """The index may be planted: an entry whose file carries another number, or two entries
    naming one file, make it unusable (exit 2) before anything is written."""
    repo = _copy_example(tmp_path)
    out = tmp_path / "adr"
    out.mkdir()
    entry = {"rule_id": "AR-EVT-003", "module": ".", "status": "proposed", "date": "x"}
    for records in (
        [{**entry, "number": 7, "file": "0001-team-record.md"}],
        [
            {**entry, "number": 1, "file": "0001-team-record.md"},
            {**entry, "module": "other", "number": 1, "file": "0001-team-record.md"},
        ],
    ):
        (out / "index.json").write_text(json.dumps({"version": 1, "records": records}), "utf-8")
        result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert sorted(p.name for p in out.iterdir()) == ["index.json"]


def test_slug() -> None:
    assert slug("Put a WAF in front of the asset API") == "put-a-waf-in-front-of-the-asset-api"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("") == "x" and slug("ÄÖÜ café") == "aou-cafe"
    assert len(slug("word " * 40)) <= 56 and not slug("word " * 40).endswith("-")


def test_explain_prints_the_full_adr_template() -> None:
    result = CliRunner().invoke(main, ["explain", "AR-EVT-003"])
    assert result.exit_code == 0
    out = result.output
    assert "## ADR template" in out and "## References" in out
    template = rule_template(load_catalogue()["AR-EVT-003"])
    assert template in out
    for heading in (
        "## Context and Problem Statement",
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "### Consequences",
        "### Confirmation",
        "## More Information",
    ):
        assert heading in template
    assert "in {module}" in template and "{file}:{line}" in template


def test_a_file_named_in_bytes_that_are_not_utf8_gets_records_with_working_links(
    tmp_path: Path,
) -> None:
    """Fuzz seed 15000219: an agent definition whose name is not UTF-8, with a broken front
    matter, made the record's link fail to encode (exit 3). The link carries the name's
    original bytes, percent-encoded."""
    repo = tmp_path / "repo"
    agents = repo / ".claude" / "agents"
    agents.mkdir(parents=True)
    bad = Path(os.fsdecode(os.fsencode(agents) + b"/\xff\xfe-architect.md"))
    bad.write_text("---\nname: x\nstack: !Ref Nope\n---\nbody\n", encoding="utf-8")
    out = repo / "docs" / "adr"
    _adr(repo, out)
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix == ".md")
    assert "](../../.claude/agents/%FF%FE-architect.md#L" in text, text


def test_a_link_never_fails_on_a_lone_surrogate() -> None:
    from reviewer.outputs.submodules import encode_path

    assert encode_path("a b/\udcff.json") == "a%20b/%FF.json"
    assert encode_path("x\ud800y") == "x%EF%BF%BDy"
