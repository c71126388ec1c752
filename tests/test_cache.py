"""The content-hash cache (reviewer.cache.store, reviewer.runner.pipeline): a warm scan reports exactly what
a cold one does, an edit in one template reaches the findings of the others, a damaged or
foreign cache is ignored, and a warm scan never imports cfn-lint."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer.cache.store import MARKER_NAME, Cache, default_cache_dir, digest
from reviewer.cli.main import main
from reviewer.core.types import Persona, Report
from reviewer.outputs.json_report import render
from reviewer.profile import DEFAULT
from reviewer.runner import pipeline
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _everything(options: dict[str, Any]) -> dict[str, Any]:
    """Every rule and every finding: the chariot preset (the rules that require a declaration
    run) and the auditor persona (nothing hidden), unless a test says otherwise."""
    from reviewer.profile.loader import preset

    return {"persona": Persona.AUDITOR, "profile": preset("chariot"), **options}


def _fresh(root: Path, **options: Any) -> str:
    return render(scan(root, ScanOptions(**_everything(options))))


def _cached(root: Path, cache: Path, **options: Any) -> str:
    return render(scan(root, ScanOptions(cache_dir=str(cache), jobs=1, **_everything(options))))


def _findings(text: str) -> set[tuple[str, str, str | None]]:
    import json

    return {(f["rule_id"], f["file"], f["resource"]) for f in json.loads(text)["findings"]}


class Sessions:
    """The sessions of the scans run while it is active (to read their stats)."""

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        self.seen: list[pipeline.Session] = []
        original = pipeline.Session.finish

        def keep(session: pipeline.Session) -> None:
            self.seen.append(session)
            original(session)

        mp.setattr(pipeline.Session, "finish", keep)

    @property
    def last(self) -> dict[str, int]:
        return self.seen[-1].stats


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Sessions:
    return Sessions(monkeypatch)


# -- warm equals cold ---------------------------------------------------------------------------


def test_warm_scans_equal_cold_ones(tmp_path: Path, sessions: Sessions) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    cold = _fresh(root)
    cache = tmp_path / "cache"
    assert _cached(root, cache) == cold
    assert sessions.last["decoded"] > 0
    assert _cached(root, cache) == cold
    assert sessions.last.get("report_hit") == 1  # nothing changed: the whole report


def test_one_edit_reuses_every_other_template(tmp_path: Path, sessions: Sessions) -> None:
    root = tmp_path / "repo"
    _write(
        root,
        {
            f"svc{i}/template.yaml": (
                "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
                f"  Queue{i}:\n    Type: AWS::SQS::Queue\n"
                f"    Properties:\n      MessageRetentionPeriod: {300000 + i}\n"
            )
            for i in range(6)
        },
    )
    cache = tmp_path / "cache"
    _cached(root, cache)
    (root / "svc3" / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Queue3:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      MessageRetentionPeriod: 1209600\n",
        encoding="utf-8",
    )
    assert _cached(root, cache) == _fresh(root)
    assert sessions.last["decoded"] == 1
    assert sessions.last["loaded_from_cache"] == 5
    assert "report_hit" not in sessions.last


# -- a stale cache never hides a finding --------------------------------------------------------

EXPORTER = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Parking:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
Outputs:
  ParkingArn:
    Value: !GetAtt Parking.Arn
    Export:
      Name: parking-queue-arn
"""

IMPORTER = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
"""

IMPORTER_WITH_DLQ = (
    IMPORTER
    + """\
      RedrivePolicy:
        deadLetterTargetArn: !ImportValue parking-queue-arn
        maxReceiveCount: 5
"""
)


def _edit_and_compare(
    tmp_path: Path, files: dict[str, str], edit: Callable[[Path], None]
) -> tuple[str, str]:
    """Scan with the cache, edit, scan again with the cache: the second scan must be what a
    scan without any cache says. Returns (before, after)."""
    root = tmp_path / "repo"
    _write(root, files)
    cache = tmp_path / "cache"
    before = _cached(root, cache)
    assert before == _fresh(root)
    edit(root)
    after = _cached(root, cache)
    assert after == _fresh(root)
    assert after != before
    return before, after


def test_export_consumer_edit_reaches_the_unchanged_exporter(tmp_path: Path) -> None:
    """Only the importing template changes; the exporting one's findings must follow."""
    before, after = _edit_and_compare(
        tmp_path,
        {"shared/exports.yaml": EXPORTER, "svc/template.yaml": IMPORTER},
        lambda root: (root / "svc" / "template.yaml").write_text(IMPORTER_WITH_DLQ),
    )
    parking_is_a_dlq = ("AR-OBS-004", "shared/exports.yaml", "Parking")
    assert parking_is_a_dlq not in _findings(before)
    assert parking_is_a_dlq in _findings(after)


def test_renamed_export_reaches_the_unchanged_importer(tmp_path: Path) -> None:
    """Only the exporting template changes; what the importer's queue redrives to follows."""
    before, after = _edit_and_compare(
        tmp_path,
        {"shared/exports.yaml": EXPORTER, "svc/template.yaml": IMPORTER_WITH_DLQ},
        lambda root: (root / "shared" / "exports.yaml").write_text(
            EXPORTER.replace("parking-queue-arn", "renamed-arn")
        ),
    )
    assert ("AR-OBS-004", "shared/exports.yaml", "Parking") in _findings(before)
    assert ("AR-OBS-004", "shared/exports.yaml", "Parking") not in _findings(after)
    assert ("AR-EVT-001", "shared/exports.yaml", "Parking") in _findings(after)


def test_deleted_waf_association_reaches_the_unchanged_api(tmp_path: Path) -> None:
    source = FIXTURES / "templates" / "AR-API-001" / "pass-import-value"
    files = {
        str(p.relative_to(source)): p.read_text(encoding="utf-8") for p in source.rglob("*.yaml")
    }

    def drop_association(root: Path) -> None:
        edge = root / "edge" / "template.yaml"
        text = edge.read_text(encoding="utf-8")
        edge.write_text(text[: text.index("  Association:")], encoding="utf-8")

    before, after = _edit_and_compare(tmp_path, files, drop_association)
    unprotected = ("AR-API-001", "api/template.yaml", "Stage")
    assert unprotected not in _findings(before)
    assert unprotected in _findings(after)


PARENT = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: child.yaml
      Parameters:
        Retention: {retention}
"""

CHILD = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Retention:
    Type: Number
    Default: 1209600
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: !Ref Retention
"""


def test_parent_stack_edit_reaches_the_unchanged_child(tmp_path: Path) -> None:
    before, after = _edit_and_compare(
        tmp_path,
        {"stacks/parent.yaml": PARENT.format(retention=1209600), "stacks/child.yaml": CHILD},
        lambda root: (root / "stacks" / "parent.yaml").write_text(PARENT.format(retention=3600)),
    )
    short_retention = ("AR-EVT-007", "stacks/child.yaml", "Work")
    assert short_retention not in _findings(before)
    assert short_retention in _findings(after)


def test_samconfig_and_module_changes_reach_unchanged_templates(tmp_path: Path) -> None:
    files = {"svc/template.yaml": CHILD}
    _, after = _edit_and_compare(
        tmp_path,
        files,
        lambda root: _write(
            root,
            {
                "svc/samconfig.toml": (
                    '[default.deploy.parameters]\nparameter_overrides = "Retention=3600"\n'
                ),
            },
        ),
    )
    assert ("AR-EVT-007", "svc/template.yaml", "Work") in _findings(after)
    _edit_and_compare(
        tmp_path / "modules",
        files,
        lambda root: _write(root, {"svc/go.mod": "module example.invalid/svc\n\ngo 1.24.6\n"}),
    )


def test_profile_and_date_are_part_of_the_key(tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    cache = tmp_path / "cache"
    default = _cached(root, cache)
    from dataclasses import replace
    from datetime import date

    other = replace(DEFAULT, name="other", queue_retention_days=1, kms_required=False)
    assert _cached(root, cache, profile=other) == _fresh(root, profile=other)
    assert _cached(root, cache, today=date(2031, 1, 1)) == _fresh(root, today=date(2031, 1, 1))
    assert _cached(root, cache) == default


# -- a damaged or foreign cache -----------------------------------------------------------------


def _entries(cache: Path) -> list[Path]:
    return [p for p in cache.glob("*/*/*") if p.is_file()]  # kind/shard/key


def test_the_cache_folder_says_what_it_is(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _cached(FIXTURES / "repos" / "chariot-platform", cache)
    assert (cache / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text(encoding="utf-8").startswith("Signature: 8a477f59")
    assert (cache / MARKER_NAME).read_bytes() == Cache(cache)._marker()  # signed: ours


def test_corrupt_entries_are_ignored(tmp_path: Path, sessions: Sessions) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    cold = _fresh(root)
    cache = tmp_path / "cache"
    _cached(root, cache)
    entries = _entries(cache)
    assert entries
    for i, path in enumerate(entries):  # truncated, garbled, emptied
        data = path.read_bytes()
        path.write_bytes(
            data[: len(data) // 2] if i % 3 == 0 else b"" if i % 3 == 1 else data[::-1]
        )
    assert _cached(root, cache) == cold
    assert sessions.last["decoded"] > 0


def test_entries_signed_with_another_secret_are_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions: Sessions
) -> None:
    """A cache directory that arrives with the repository (a pull request can add one) is
    not trusted: its entries carry another key's signature. Whole (its marker is another
    key's: the folder is not used at all), or entry by entry inside a folder of ours."""
    root = FIXTURES / "repos" / "chariot-platform"
    attacker = "the attacker's secret, long enough to use"
    monkeypatch.setenv("ARCHREVIEW_CACHE_SECRET", attacker)
    planted_folder = tmp_path / "planted"
    _cached(root, planted_folder)
    planted = Cache(planted_folder)
    for path in _entries(planted_folder):  # every payload a pickle that would run code
        payload = pickle.dumps(Exploding())
        path.write_bytes(b"ARC2" + planted._mac(path.name, payload) + payload)
    monkeypatch.setenv("ARCHREVIEW_CACHE_SECRET", "our own secret, not the same as that one")
    before = {p: p.read_bytes() for p in _entries(planted_folder)}
    assert _cached(root, planted_folder) == _fresh(root)
    assert sessions.last["decoded"] > 0
    assert {p: p.read_bytes() for p in _entries(planted_folder)} == before  # not used at all

    ours = tmp_path / "ours"
    _cached(root, ours)
    entries = _entries(ours)
    assert entries
    for path in entries:  # our folder, each entry swapped for one signed by the attacker
        payload = pickle.dumps(Exploding())
        path.write_bytes(b"ARC2" + planted._mac(path.name, payload) + payload)
    assert _cached(root, ours) == _fresh(root)
    assert sessions.last["decoded"] > 0


class Exploding:
    def __reduce__(self) -> Any:
        return (_explode, ())


def _explode() -> None:
    raise AssertionError("a foreign cache entry was unpickled")


def test_unwritable_cache_is_no_error(tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    assert _cached(root, blocker / "cache") == _fresh(root)


def test_writes_are_atomic(tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    cache = tmp_path / "cache"
    _cached(root, cache)
    assert not list(cache.rglob("*.tmp"))
    assert all(p.parent.name == p.name[:2] for p in _entries(cache))


def test_old_entries_are_pruned(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    cache = tmp_path / "cache"
    for i in range(5):
        _write(root, {"template.yaml": IMPORTER.replace("1209600", str(1000 + i))})
        _cached(root, cache)
    assert len([p for p in (cache / "model").rglob("*") if p.is_file()]) <= 3


def test_digest_is_stable_and_refuses_addresses() -> None:
    assert digest({"b": 1, "a": {2, 3}}) == digest({"a": {3, 2}, "b": 1})
    assert digest(DEFAULT) == digest(DEFAULT)
    with pytest.raises(Exception, match="object"):
        digest(object())


# -- the command line ---------------------------------------------------------------------------


def _copy_example(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "repo"
    shutil.copytree(
        FIXTURES / "repos" / "chariot-platform",
        target,
        ignore=shutil.ignore_patterns(".archreview-cache"),
    )
    return target


def test_cli_caches_outside_the_tree_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default cache is a folder of the user's cache for this checkout (docs/adr/0004):
    the scanned tree gains nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = _copy_example(tmp_path)
    listing = sorted(p.relative_to(root) for p in root.rglob("*"))
    runner = CliRunner()
    args = ["scan", str(root), "--format", "json", "--fail-on", "never", "--quiet"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert not (root / ".archreview-cache").exists()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == listing
    default = default_cache_dir(root)
    assert default is not None
    assert default.startswith(str(tmp_path / "xdg" / "archreview" / "trees"))
    assert [p for p in (Path(default) / "output").rglob("*") if p.is_file()]
    second = runner.invoke(main, args)
    assert second.output == first.output
    elsewhere = tmp_path / "elsewhere"
    third = runner.invoke(main, [*args, "--cache-dir", str(elsewhere), "--jobs", "2"])
    assert third.output == first.output
    assert elsewhere.is_dir()
    off = tmp_path / "off"
    shutil_root = _copy_example(off)
    fourth = runner.invoke(
        main,
        [
            "scan",
            str(shutil_root),
            "--no-cache",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--quiet",
        ],
    )
    assert fourth.exit_code == 0
    assert not (shutil_root / ".archreview-cache").exists()
    assert not Path(default_cache_dir(shutil_root) or "/nonexistent").exists()


PROBE = """
import sys
from reviewer.runner.engine import ScanOptions, scan
scan(sys.argv[1], ScanOptions(cache_dir=sys.argv[2], jobs=1))
assert "cfnlint" not in sys.modules, "the linter was imported (only its decoder is needed)"
print("reviewer.decode.fastyaml" in sys.modules)  # the decoder is loaded when a file is decoded
"""


def _imports_cfnlint(root: Path, cache: Path) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(cache)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    return proc.stdout.strip().splitlines()[-1] == "True"


ALIASED = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties: &props
      MessageRetentionPeriod: 1209600
  B:
    Type: AWS::SQS::Queue
    Properties: *props
"""


def test_warm_scans_do_not_import_cfnlint(tmp_path: Path) -> None:
    """Nothing changed: the cached models stand in for decoding, cfn-lint's decoder is not
    loaded. One template edited: only that one is decoded (with cfn-lint's decoder, archreview's
    only one, loaded without the linter: the probe fails if `cfnlint` itself is imported)."""
    root = tmp_path / "repo"
    _write(root, {"a/template.yaml": ALIASED, "b/template.yaml": IMPORTER})
    cache = tmp_path / "cache"
    assert _imports_cfnlint(root, cache)  # cold: every template is decoded
    assert not _imports_cfnlint(root, cache)  # nothing changed
    (root / "b" / "template.yaml").write_text(IMPORTER.replace("1209600", "600"))
    assert _imports_cfnlint(root, cache)  # the edited template is decoded ...
    assert not _imports_cfnlint(root, cache)  # ... once


def test_an_edit_decodes_only_the_edited_template(tmp_path: Path, sessions: Sessions) -> None:
    root = tmp_path / "repo"
    _write(root, {"a/template.yaml": ALIASED, "b/template.yaml": IMPORTER})
    cache = tmp_path / "cache"
    _cached(root, cache)
    (root / "b" / "template.yaml").write_text(IMPORTER.replace("1209600", "600"))
    assert _cached(root, cache) == _fresh(root)
    assert sessions.last["decoded"] == 1
    assert sessions.last["loaded_from_cache"] == 1


def _same_tree(a: Any, b: Any) -> bool:
    """Same kinds, values, key order and marks (line, column) all the way down."""
    if isinstance(a, dict) != isinstance(b, dict) or isinstance(a, list) != isinstance(b, list):
        return False
    for attr in ("start_mark", "end_mark"):
        ma, mb = getattr(a, attr, None), getattr(b, attr, None)
        if (ma is None) != (mb is None):
            return False
        if ma is not None and (ma.line, ma.column) != (mb.line, mb.column):
            return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            _same_tree(x, y) and _same_tree(a[x], b[y]) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_cached_trees_keep_cfnlint_marks() -> None:
    """What the cache and the workers carry: cfn-lint's tree as archreview nodes, pickled and
    loaded back without cfn-lint, every mark the locator reads intact."""
    from reviewer.decode.load import decode, decode_cfnlint
    from reviewer.decode.nodes import DictNode, ListNode, StrNode

    count = 0
    for path in sorted((FIXTURES / "templates").rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        json_first = path.suffix == ".json"
        theirs, _ = decode_cfnlint(text, json_first=json_first)
        ours, _ = decode(text, json_first=json_first)
        if theirs is None:
            continue
        back = pickle.loads(pickle.dumps(ours, pickle.HIGHEST_PROTOCOL))
        assert _same_tree(back, theirs), path
        count += 1
    assert count > 300
    tree, _ = decode("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {A: [x]}\n")
    back = pickle.loads(pickle.dumps(tree))
    assert isinstance(back, DictNode)
    item = back["Resources"]["Q"]["Properties"]["A"]
    assert isinstance(item, ListNode)
    assert isinstance(item[0], StrNode)
    assert (item[0].start_mark.line, item[0].start_mark.column) == (3, 21)
    assert back.get("Missing", {}).start_mark.line == back.start_mark.line


def test_report_entries_are_reports(tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    cache = tmp_path / "cache"
    _cached(root, cache)
    store = Cache(cache)
    reports = [p for p in (cache / "report").rglob("*") if p.is_file()]
    assert len(reports) == 1
    assert isinstance(store.get("report", reports[0].name), Report)


def test_outputs_to_special_files_are_written_not_renamed_over(tmp_path: Path) -> None:
    """`--output /dev/null` (the bench's) must leave /dev/null a device: an atomic write renames
    a temporary file over its target, which for a special file would replace it."""
    import stat

    from reviewer.core.safefs import write_user_file

    def _write_atomic(path: Path, payload: str) -> None:
        write_user_file(path, payload, tree=tmp_path / "repo")

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    _write_atomic(fifo, "payload")
    reader.join(10)
    assert got == ["payload"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    _write_atomic(Path(os.devnull), "x" * 100)
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
    regular = tmp_path / "out.json"
    _write_atomic(regular, "one")
    _write_atomic(regular, "two")
    assert regular.read_text(encoding="utf-8") == "two"


def test_cli_keeps_its_outputs_not_the_whole_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line keeps what it wrote (replayed when nothing changed) and the per-file
    entries, not a pickled report besides; other output settings scan again, warm, and give the
    same findings."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = _copy_example(tmp_path)
    runner = CliRunner()
    args = ["scan", str(root), "--fail-on", "never", "--quiet"]
    first = runner.invoke(main, [*args, "--format", "json"])
    assert first.exit_code == 0, first.output
    cache = Path(default_cache_dir(root) or "/nonexistent")
    assert [p for p in (cache / "output").rglob("*") if p.is_file()]
    assert [p for p in (cache / "model").rglob("*") if p.is_file()]
    assert not (cache / "report").exists()
    sarif = runner.invoke(main, [*args, "--format", "sarif"])
    results = json.loads(sarif.output)["runs"][0]["results"]
    live = [f for f in json.loads(first.output)["findings"] if f["suppressed"] is None]
    assert sorted(r["partialFingerprints"]["archreview/v2"] for r in results) == sorted(
        f["fingerprint"] for f in live
    )


def test_manifest_checks_are_cached_under_the_manifests(tmp_path: Path, sessions: Sessions) -> None:
    """The STK checks that read only go.mod and package.json are replayed while the manifests
    are unchanged (a template edit does not run them again) and run again on a manifest edit:
    each scan equals a scan without a cache."""
    import json

    root = _copy_example(tmp_path)
    cache = tmp_path / "cache"
    marked = {c.rule_id for c in pipeline_checks() if c.manifests_only}
    assert {"AR-STK-004", "AR-STK-006"} <= marked
    assert _cached(root, cache) == _fresh(root)
    assert "repo_replayed" not in sessions.last

    template = next(root.rglob("template.y*ml"))
    template.write_text(template.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _cached(root, cache) == _fresh(root)
    assert sessions.last.get("repo_replayed") == len(marked)

    package = next(p for p in sorted(root.rglob("package.json")) if '"react"' in p.read_text(encoding="utf-8"))
    data = json.loads(package.read_text(encoding="utf-8"))
    section = "dependencies" if "react" in data.get("dependencies", {}) else "devDependencies"
    data[section]["react"] = "^16.14.0"  # outside the declared React 18: AR-STK-004 at this file
    package.write_text(json.dumps(data, indent=2), encoding="utf-8")
    warm = _cached(root, cache)
    assert warm == _fresh(root)
    rel = package.relative_to(root).as_posix()
    assert ("AR-STK-004", rel, "react") in _findings(warm)
    assert "repo_replayed" not in sessions.last  # the manifests changed: every one ran again


def pipeline_checks() -> tuple[Any, ...]:
    from reviewer.checks import CHECKS

    return CHECKS
