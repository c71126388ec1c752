"""SARIF 2.1.0: valid against the official schema, and what GitHub code scanning needs.

Every SARIF document this module produces goes through `check_sarif`: schema validation against
the OASIS schema vendored in tests/data/sarif-schema-2.1.0.json plus GitHub's own rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jsonschema
import pytest
from click.testing import CliRunner

from reviewer import scan as review
from reviewer.cli.main import main
from reviewer.core.types import Persona, Report, Severity, Suppression
from reviewer.outputs import RenderOptions
from reviewer.outputs import sarif as sarif_mod
from reviewer.outputs.sarif import line_hashes, sarif_document
from reviewer.profile.loader import preset
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES, ROOT
from .report_fixtures import finding, related, report

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"  # see tests/data/README.md
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def check_sarif(doc: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """Schema-valid and within GitHub's rules; with `root`, the line hashes are checked against
    the files. Returns the run."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["automationDetails"]["id"].endswith("/")
    driver = run["tool"]["driver"]
    assert driver["name"] == "archreview"
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        assert rule["name"]
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and rule["help"]["markdown"]
        if rule["id"].startswith("AR-"):
            url = urlsplit(rule["helpUri"])
            assert url.scheme == "https" and url.netloc, rule["helpUri"]
            assert url.path.endswith(f"/docs/rules/{rule['id']}.md")
        else:  # the repository's own rule (issue 21): its file at the head commit, if known
            assert urlsplit(rule.get("helpUri", "https://x")).scheme == "https"
        props = rule["properties"]
        assert "security" in props["tags"] and len(props["tags"]) <= 10
        assert props["precision"] in {"very-high", "high", "medium", "low"}
        assert isinstance(props["security-severity"], str)
        assert 0.0 <= float(props["security-severity"]) <= 10.0
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    assert len(run["results"]) <= 25_000
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert result["ruleId"] == rule["id"]
        assert result["level"] in {"error", "warning", "note"}
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        phys = result["locations"][0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        assert uri and "\\" not in uri and not uri.startswith(("/", "./")) and "://" not in uri
        assert ".." not in uri.split("/")
        region = phys["region"]
        assert region["startLine"] >= 1
        assert region.get("endLine", region["startLine"]) == region["startLine"]
        fps = result["partialFingerprints"]
        assert re.fullmatch(r"[0-9a-f]{32}", fps["archreview/v2"])
        for rel in result.get("relatedLocations", []):
            assert rel["physicalLocation"]["region"]["startLine"] >= 1
        file = root / unquote(_strip_prefix(root, uri)) if root is not None else None
        if file is not None and file.is_file():  # repository-level findings may name .gitmodules
            assert re.fullmatch(r"[0-9a-f]+:\d+", fps["primaryLocationLineHash"])
            expected = line_hashes(file.read_text(encoding="utf-8"))[region["startLine"] - 1]
            assert fps["primaryLocationLineHash"] == expected
    return run


def _strip_prefix(root: Path, uri: str) -> str:
    prefix = sarif_mod.repo_prefix(root)
    assert uri.startswith(prefix)
    return uri[len(prefix) :]


# -- primaryLocationLineHash ------------------------------------------------------------------

# Published expectations of GitHub's upload action (src/fingerprints.test.ts in
# github/codeql-action): input text -> the hash of every line.
KNOWN = {
    "": ["c129715d7a2bc9a3:1"],
    " a\nb\n  \t\tc\n d": [
        "271789c17abda88f:1",
        "54703d4cd895b18:1",
        "180aee12dab6264:1",
        "a23a3dc5e078b07b:1",
    ],
    " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End": [
        "8b7cf3e952e7aeb2:1",
        "b1ae1287ec4718d9:1",
        "bff680108adb0fcc:1",
        "c6805c5e1288b612:1",
        "b86d3392aea1be30:1",
        "e6ceba753e1a442:1",
    ],
    "Lorem ipsum dolor sit amet.\n" * 10: [
        *(f"a7f2ff13bc495cf2:{i}" for i in range(1, 7)),
        "a7f2ff1481e87703:1",
        "a9cf91f7bbf1862b:1",
        "55ec222b86bcae53:1",
        "cc97dc7b1d7d8f7b:1",
        "c129715d7a2bc9a3:1",
    ],
}
TRAILING = [
    "e9496ae3ebfced30:1",
    "fb7c023a8b9ccb3f:1",
    "ce8ba1a563dcdaca:1",
    "e20e36e16fcb0cc8:1",
    "b3edc88f2938467e:1",
    "c8e28b0b4002a3a0:1",
    "c129715d7a2bc9a3:1",
]


@pytest.mark.parametrize("text", list(KNOWN))
def test_line_hash_matches_githubs_published_values(text: str) -> None:
    assert line_hashes(text) == KNOWN[text]


@pytest.mark.parametrize(
    "text",
    [
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
        " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
        " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
        " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
    ],
)
def test_line_hash_normalises_line_endings(text: str) -> None:
    assert line_hashes(text) == TRAILING


def _closed_form(stream: list[int], start: int) -> int:
    """The hash of the 100 kept characters from `start`, straight from the definition:
    sum of c[k] * 37**(99 - k) modulo 2**64 (past the end: 65535 once, then zeros)."""
    padded = [*stream, 65535, *([0] * 100)]
    return sum(c * pow(37, 99 - k, 1 << 64) for k, c in enumerate(padded[start : start + 100])) % (
        1 << 64
    )


def test_line_hash_is_the_polynomial_of_the_next_100_kept_characters() -> None:
    # kept characters: no spaces or tabs; CRLF -> LF. Lines longer than the window, a
    # non-BMP character (two UTF-16 code units) and a repeated line.
    lines = ["Resources:", "\tQueue:   # \U0001f600", "x" * 250, "  Queue:   # \U0001f600", "end"]
    text = "\r\n".join(lines)
    kept: list[int] = []
    for ch in text.replace("\r\n", "\n").replace(" ", "").replace("\t", ""):
        data = ch.encode("utf-16-le")
        kept += [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
    starts = [0] + [i + 1 for i, c in enumerate(kept) if c == 10]
    got = line_hashes(text)
    assert len(got) == len(lines)
    seen: dict[str, int] = {}
    for i, start in enumerate(starts):
        value = format(_closed_form(kept, start), "x")
        seen[value] = seen.get(value, 0) + 1
        assert got[i] == f"{value}:{seen[value]}"


# -- the example repository -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_report() -> Report:
    # as `make example` reviews it: against its committed agent definition
    return review(EXAMPLE)


def test_example_sarif_is_valid_and_github_ready(example_report: Report) -> None:
    doc = json.loads(sarif_mod.render(example_report, RenderOptions()))
    run = check_sarif(doc, EXAMPLE)
    assert run["automationDetails"]["id"] == "archreview/"
    visible = [f for f in example_report.findings if f.suppressed is None]
    # the defects of the default persona (issue 16 left the hygiene nudges to --persona pedantic)
    assert len(run["results"]) == len(visible) > 30
    # every rule that ran is described, plus any rule a finding names
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {r.id for r in example_report.rules} <= set(ids)
    assert {f.rule_id for f in visible} <= set(ids)
    # each result: level from its severity, our fingerprint, the property's own line
    by_fp = sarif_mod.results_by_fingerprint(doc)
    for f in visible:
        result = by_fp[f.fingerprint]
        assert result["level"] == LEVELS[f.severity.value]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] == f.line
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
            f.file
        )
        assert result["properties"]["persona"] == f.persona.value
    assert run["properties"]["persona"] == example_report.persona.value
    # the resource is a related location, at its declaration when it is declared
    stage = next(f for f in visible if f.rule_id == "AR-API-001" and f.resource == "ScanApiStage")
    rel = by_fp[stage.fingerprint]["relatedLocations"][0]
    decl = rel["physicalLocation"]["region"]["startLine"]
    lines = (EXAMPLE / stage.file).read_text(encoding="utf-8").splitlines()
    assert '"ScanApiStage"' in lines[decl - 1]
    assert "ScanApiStage" in rel["message"]["text"]


def test_personas_and_related_messages(tmp_path: Path) -> None:
    """Each result names its persona, the run names its own and how many findings each higher
    persona would add; a related location carries what it adds."""
    pedantic = finding(
        "AR-OBS-002",
        Severity.LOW,
        1,
        persona=Persona.PEDANTIC,
        related=related(2, "inherited by function Fn"),
    )
    shown = report(
        [pedantic, finding("AR-EVT-003", Severity.HIGH, 2)],
        persona=Persona.PEDANTIC,
        hidden=(("auditor", 4),),
        root=str(tmp_path),
    )
    run = check_sarif(sarif_document(shown))
    assert run["properties"]["persona"] == "pedantic"
    assert run["properties"]["hidden"] == {"auditor": 4}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["AR-OBS-002"]["properties"]["persona"] == "pedantic"
    assert by_rule["AR-EVT-003"]["properties"]["persona"] == "regular"
    messages = [loc["message"]["text"] for loc in by_rule["AR-OBS-002"]["relatedLocations"]]
    assert messages == [
        "resource Queue0001 (AWS::SQS::Queue)",
        "Other0.Properties: inherited by function Fn",
        "Other1.Properties: inherited by function Fn",
    ]


def test_rule_descriptors(example_report: Report) -> None:
    doc = sarif_document(example_report)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    api1 = rules["AR-API-001"]
    assert (
        api1["helpUri"]
        == "https://github.com/archreview/archreview/blob/main/docs/rules/AR-API-001.md"
    )
    assert api1["properties"]["tags"][:2] == ["security", "API"]
    assert api1["properties"]["security-severity"] == "8.0"
    assert api1["properties"]["precision"] == "medium"  # the rule's confidence
    assert api1["defaultConfiguration"]["level"] == "error"
    assert "#### Decision" in api1["help"]["markdown"]
    assert "Decision:" in api1["help"]["text"]
    assert len(rules["AR-API-001"]["fullDescription"]["text"]) <= 1024
    # the documentation page behind each helpUri exists for every rule with a check
    from reviewer.runner.engine import all_checks

    for check in all_checks():
        if check.rule_id in rules:
            assert (ROOT / "docs" / "rules" / f"{check.rule_id}.md").is_file(), check.rule_id


def test_helpuri_comes_from_pyproject() -> None:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert sarif_mod.homepage() == data["project"]["urls"]["Homepage"].rstrip("/")


# -- suppressions, aws://, the result limit, the category ---------------------------------------


def _suppressed_report(report: Report) -> Report:
    first = report.findings[0]
    findings = (replace(first, suppressed=Suppression("inline", "accepted", "2027-01-31")),)
    findings += tuple(f for f in report.findings[1:] if f.suppressed is None)
    return replace(report, findings=findings)


def test_suppressed_results_are_left_out_unless_asked(example_report: Report) -> None:
    report = _suppressed_report(example_report)
    suppressed = [f for f in report.findings if f.suppressed is not None]
    default = sarif_document(report)
    check_sarif(default)
    fps = sarif_mod.results_by_fingerprint(default)
    assert all(f.fingerprint not in fps for f in suppressed)
    kept = sarif_document(report, RenderOptions(include_suppressed=True))
    check_sarif(kept)
    fps = sarif_mod.results_by_fingerprint(kept)
    result = fps[suppressed[0].fingerprint]
    assert result["suppressions"][0]["kind"] == "inSource"
    assert "accepted" in result["suppressions"][0]["justification"]


def test_aws_findings_are_left_out(example_report: Report) -> None:
    live = replace(example_report.findings[0], file="aws://eu-west-1/chariot", fingerprint="f" * 32)
    report = replace(example_report, findings=(*example_report.findings, live))
    doc = sarif_document(report)
    check_sarif(doc)
    assert "f" * 32 not in sarif_mod.results_by_fingerprint(doc)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in doc["runs"][0]["results"]
    }
    assert not any("aws:" in u for u in uris)


def test_repository_level_findings_never_have_an_empty_uri(example_report: Report) -> None:
    f = replace(example_report.findings[0], file=".", fingerprint="e" * 32, rule_id="AR-MOD-005")
    doc = sarif_document(replace(example_report, findings=(f,)))
    check_sarif(doc)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ]
    assert uri.endswith(".gitmodules")


def test_over_the_limit_the_most_severe_are_kept(
    example_report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sarif_mod.MAX_RESULTS == 25_000  # GitHub's limit of results per run
    monkeypatch.setattr(sarif_mod, "MAX_RESULTS", 20)
    base = example_report.findings[0]
    findings = tuple(
        replace(base, severity=sev, fingerprint=f"{i:032x}", line=1 + i % 5)
        for i, sev in enumerate(
            [Severity.LOW] * 15 + [Severity.CRITICAL] * 5 + [Severity.HIGH] * 10
        )
    )
    doc = sarif_document(replace(example_report, findings=findings))
    run = check_sarif(doc)
    assert len(run["results"]) == 20
    levels = [r["properties"]["severity"] for r in run["results"]]
    assert levels.count("critical") == 5 and levels.count("high") == 10 and levels.count("low") == 5
    assert run["properties"]["truncated"] == {"results": 30, "kept": 20, "limit": 20}
    note = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert "30 results" in note and "most severe" in note


def test_cli_writes_sarif_with_category_and_include_suppressed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    out = tmp_path / "out.sarif"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "scan",
            str(root),
            "--format",
            "sarif",
            "--output",
            str(out),
            "--fail-on",
            "never",
            "--sarif-category",
            "arch/edge",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    run = check_sarif(doc, root)
    assert run["automationDetails"]["id"] == "arch/edge/"
    # no git repository above the copy: URIs are relative to the scanned root
    assert all(
        not r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("/")
        for r in run["results"]
    )
    with_sup = tmp_path / "with.sarif"
    runner.invoke(
        main,
        [
            "scan",
            str(root),
            "--format",
            "sarif",
            "--output",
            str(with_sup),
            "--fail-on",
            "never",
            "--sarif-include-suppressed",
            "--quiet",
        ],
    )
    doc2 = json.loads(with_sup.read_text(encoding="utf-8"))
    check_sarif(doc2, root)
    assert len(doc2["runs"][0]["results"]) == len(run["results"]) + 1  # the example's one


def test_uris_are_relative_to_the_repository_when_a_subfolder_is_scanned(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE / "infra", repo / "platform" / "infra")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    # the edge distribution's finding (no geo restriction) needs the chariot declarations
    doc = sarif_document(scan(repo / "platform", ScanOptions(profile=preset("chariot"))))
    run = check_sarif(doc, repo / "platform")
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "platform/infra/edge.yaml" in uris and all(u.startswith("platform/") for u in uris)


@pytest.mark.parametrize("include_suppressed", [False, True])
def test_render_is_json_dumps_of_the_document_and_streams_the_same(
    include_suppressed: bool,
) -> None:
    """SARIF is written by the fast encoder: the text must be the standard library's, and the
    pieces `render_to` hands out must add up to it (the command line streams them)."""
    report = review(FIXTURES / "repos" / "chariot-platform")
    options = RenderOptions(include_suppressed=include_suppressed)
    text = sarif_mod.render(report, options)
    assert text == json.dumps(sarif_document(report, options), indent=2, ensure_ascii=False) + "\n"
    pieces: list[str] = []
    sarif_mod.render_to(report, options, pieces.append)
    assert "".join(pieces) == text


def test_cli_streams_large_outputs_to_files_and_stdout(tmp_path: Path) -> None:
    """Without a cache (nothing to replay) JSON and SARIF are streamed into their targets: the
    bytes are those of the pure renderers."""
    from reviewer.outputs import json_report

    root = FIXTURES / "repos" / "chariot-platform"
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            str(root),
            "--no-cache",
            "--fail-on",
            "never",
            "--format",
            "json",
            "--output",
            f"json={out}",
            "--format",
            "sarif",
            "--output",
            "sarif=-",
        ],
    )
    assert result.exit_code == 0, result.output
    report = review(root)  # the profile the command line resolves: the agent definition
    assert out.read_text(encoding="utf-8") == json_report.render(report)
    assert result.stdout == sarif_mod.render(report, RenderOptions())


def test_artifact_uris_are_percent_encoded(tmp_path: Path) -> None:
    """Issue 18 item 8: a file name with `<`, spaces, `#`, `%` or a newline is one valid
    RFC 3986 URI reference that decodes to the file's name."""
    template = (FIXTURES / "templates" / "AR-API-001" / "fail.yaml").read_text(encoding="utf-8")
    names = ["a b <c>.yaml", "x#1%20y.yaml", "new\nline.yaml", "caf\u00e9.yaml"]
    for name in names:
        (tmp_path / name).write_text(template, encoding="utf-8")
    doc = sarif_document(scan(tmp_path, ScanOptions(persona=Persona.AUDITOR)))
    run = check_sarif(doc, tmp_path)
    uris = set()
    for result in run["results"]:
        for loc in [*result["locations"], *result.get("relatedLocations", [])]:
            uris.add(loc["physicalLocation"]["artifactLocation"]["uri"])
    assert {unquote(u) for u in uris} >= set(names), uris
    for uri in uris:
        assert re.fullmatch(r"[A-Za-z0-9._~/%-]+", uri), uri
    assert quote("a b <c>.yaml") in uris and "x%231%2520y.yaml" in uris


def _submodule_repo(tmp_path: Path) -> tuple[Path, str]:
    """A super-repository whose submodule `mods/svc` holds a template with findings; its
    .gitmodules names the submodule's GitHub URL. Returns (super, the recorded commit)."""

    def git(cwd: Path, *args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "protocol.file.allow=always", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    svc = tmp_path / "svc"
    svc.mkdir()
    git(svc, "init", "-q", "-b", "main")
    shutil.copy(FIXTURES / "templates" / "AR-API-001" / "fail.yaml", svc / "template.yaml")
    git(svc, "add", "-A")
    git(svc, "commit", "-q", "-m", "svc")
    top = tmp_path / "super"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    (top / "README.md").write_text("super\n", encoding="utf-8")
    git(top, "submodule", "add", "-q", str(svc), "mods/svc")
    git(
        top,
        "config",
        "-f",
        ".gitmodules",
        "submodule.mods/svc.url",
        "https://github.com/acme/svc.git",
    )
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "super")
    return top, git(svc, "rev-parse", "HEAD")


def test_findings_in_a_submodule_are_anchored_at_gitmodules(tmp_path: Path) -> None:
    """Issue 18 item 7: code scanning resolves only the super-repository's files."""
    top, recorded = _submodule_repo(tmp_path)
    report_ = scan(top, ScanOptions(persona=Persona.AUDITOR))
    inside = [f for f in report_.findings if f.file.startswith("mods/svc/")]
    assert inside
    doc = sarif_document(report_)
    run = check_sarif(doc, top)
    gitmodules = (top / ".gitmodules").read_text(encoding="utf-8").split("\n")
    header = next(i for i, line in enumerate(gitmodules, start=1) if line.startswith("[submodule"))
    anchored = [
        r
        for r in run["results"]
        if "in submodule mods/svc at template.yaml:" in r["message"]["text"]
    ]
    assert len(anchored) == len([f for f in inside if f.suppressed is None])
    hashes = line_hashes((top / ".gitmodules").read_text(encoding="utf-8"))
    for result in anchored:
        phys = result["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == ".gitmodules"
        assert phys["region"] == {"startLine": header}
        assert result["partialFingerprints"]["primaryLocationLineHash"] == hashes[header - 1]
        line = int(
            result["message"]["text"].split("at template.yaml:")[1].split(":")[0].split(")")[0]
        )
        link = f"https://github.com/acme/svc/blob/{recorded}/template.yaml#L{line}"
        assert link in result["message"]["text"]
        for rel in result.get("relatedLocations", []):
            assert not rel["physicalLocation"]["artifactLocation"]["uri"].startswith("mods/svc/")
    # files of the super-repository itself are not moved
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] != ".gitmodules"
        or "in submodule" in r["message"]["text"]
        or r["ruleId"].startswith("AR-MOD")
        for r in run["results"]
    )


def test_a_submodule_url_that_is_not_plain_https_gives_no_link() -> None:
    from reviewer.outputs.submodules import browse_url

    commit = "a" * 40
    assert browse_url("https://github.com/o/r.git", commit, "x y.yaml", 3) == (
        f"https://github.com/o/r/blob/{commit}/x%20y.yaml#L3"
    )
    assert browse_url("git@github.com:o/r.git", commit, "t.yaml", 1) == (
        f"https://github.com/o/r/blob/{commit}/t.yaml#L1"
    )
    for url in (
        "../svc",
        "https://user@evil/x",
        "javascript:alert(1)",
        "https://h/a b",
        "https://h/x?y=1",
    ):
        assert browse_url(url, commit, "t.yaml", 1) is None
    assert browse_url("https://github.com/o/r", "HEAD", "t.yaml", 1) is None
