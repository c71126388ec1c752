"""An edit re-runs what read it, and only that (issue 20 item 3): a cross-file check's result
is kept with what it read (reviewer.model.reads, reviewer.runner.crossfile) and replayed while
all of that is unchanged. A stale finding is a defect, so every cross-file check and every
repository check is held to it here: its fixtures become one repository, a warm scan fills the
cache, and then each edit of each kind of input those checks read — a template removed or
added, a resource removed, added or copied from another template, a number changed — is
scanned warm (from the cache) and cold (no cache): the reports must be byte-identical. The
warm scans must also replay kept results (else the test proves nothing)."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.core.types import Persona
from reviewer.decode.load import decode
from reviewer.decode.nodes import plain
from reviewer.outputs.json_report import render
from reviewer.runner import pipeline
from reviewer.runner.engine import ScanOptions, all_checks, scan

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "templates"
CROSS_RULES = sorted(
    {c.rule_id for c in all_checks() if (c.kind == "template" and c.cross_file) or c.kind == "repo"}
)
MAX_EDITS = 14  # per rule, drawn from every edit of its repository (seeded by the rule id)

Edit = tuple[str, Callable[[Path], None]]


def _build(rule: str, root: Path) -> None:
    """The rule's fixtures (files and multi-template folders) as one repository."""
    for entry in sorted((FIXTURES / rule).iterdir()):
        if entry.name == "expected.json":
            continue
        target = root / entry.name.replace(".", "-")
        if entry.is_dir():
            shutil.copytree(entry, target)
        else:
            target.mkdir(parents=True)
            shutil.copy(entry, target / ("template" + entry.suffix))


def _templates(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()
    )


def _load(path: Path) -> dict[str, Any] | None:
    """The template as plain data (short-form intrinsics as their long form), or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # the fixtures of files that cannot be read
        return None
    tree, problems = decode(text, json_first=path.suffix == ".json")
    if problems or not isinstance(tree, dict):
        return None
    data = plain(tree)
    return data if isinstance(data.get("Resources"), dict) else None


def _save(path: Path, data: dict[str, Any]) -> None:
    """Written back as JSON (which YAML also reads): the same template, every line moved."""
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def _numbers(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _numbers(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numbers(v, (*path, i))
    elif isinstance(node, int) and not isinstance(node, bool):
        yield path


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _edits(root: Path) -> list[Edit]:
    """Every edit of the kinds the cross-file checks read, on every template."""
    files = _templates(root)
    loaded = {f: _load(f) for f in files}
    out: list[Edit] = []
    for f in files:
        rel = f.relative_to(root).as_posix()
        out.append((f"remove {rel}", lambda r, rel=rel: (r / rel).unlink()))
        data = loaded[f]
        if data is None:
            continue
        for rid in list(data["Resources"])[:6]:

            def drop(r: Path, rel: str = rel, rid: str = rid) -> None:
                d = _load(r / rel)
                assert d is not None
                d["Resources"].pop(rid, None)
                _save(r / rel, d)

            out.append((f"remove {rel}:{rid}", drop))
        for path in list(_numbers(data["Resources"]))[:4]:

            def bump(r: Path, rel: str = rel, path: tuple[Any, ...] = path) -> None:
                d = _load(r / rel)
                assert d is not None
                node: Any = d["Resources"]
                for key in path[:-1]:
                    node = node[key]
                _set(d["Resources"], path, int(node[path[-1]]) * 7 + 1)
                _save(r / rel, d)

            out.append((f"change {rel}:{'.'.join(map(str, path))}", bump))
        for other in files:
            source = loaded[other]
            if other == f or source is None:
                continue
            for rid in list(source["Resources"])[:2]:

                def copy(
                    r: Path, rel: str = rel, rid: str = rid, res: Any = source["Resources"][rid]
                ) -> None:
                    d = _load(r / rel)
                    assert d is not None
                    d["Resources"][rid + "Copied"] = res
                    _save(r / rel, d)

                out.append((f"copy {other.relative_to(root).as_posix()}:{rid} to {rel}", copy))
    out.extend(_manifest_edits(root))
    out.append(("add a module", lambda r: shutil.copytree(r / _first(r), r / "zz-added")))
    return out


def _first(root: Path) -> str:
    return sorted(p.name for p in root.iterdir())[0]


def _manifest_edits(root: Path) -> Iterator[Edit]:
    """go.mod and package.json: what the repository checks read."""
    for f in sorted(root.rglob("go.mod")):
        rel = f.relative_to(root).as_posix()
        yield f"remove {rel}", lambda r, rel=rel: (r / rel).unlink()

        def require(r: Path, rel: str = rel) -> None:
            with (r / rel).open("a", encoding="utf-8") as fh:
                fh.write("\nrequire example.com/added v1.2.3\n")

        yield f"add a requirement to {rel}", require

        def toolchain(r: Path, rel: str = rel) -> None:
            text = (r / rel).read_text(encoding="utf-8")
            lines = [("go 1.19" if ln.startswith("go ") else ln) for ln in text.split("\n")]
            (r / rel).write_text("\n".join(lines), encoding="utf-8")

        yield f"change the go directive of {rel}", toolchain
    for f in sorted(root.rglob("package.json")):
        rel = f.relative_to(root).as_posix()
        yield f"remove {rel}", lambda r, rel=rel: (r / rel).unlink()

        def bump(r: Path, rel: str = rel) -> None:
            try:
                data = json.loads((r / rel).read_text(encoding="utf-8"))
            except ValueError:
                return
            deps = data.get("dependencies") if isinstance(data, dict) else None
            if isinstance(deps, dict) and deps:
                name = sorted(deps)[0]
                deps[name] = "^0.0.1" if deps[name] != "^0.0.1" else "^9.9.9"
            elif isinstance(data, dict):
                data["dependencies"] = {"added-package": "1.0.0"}
            (r / rel).write_text(json.dumps(data, indent=2), encoding="utf-8")

        yield f"change a dependency of {rel}", bump


def _report(root: Path, cache: Path | None) -> str:
    options = ScanOptions(
        cache_dir=str(cache) if cache is not None else None, jobs=1, persona=Persona.AUDITOR
    )
    return render(scan(root, options))


@pytest.mark.parametrize("rule", CROSS_RULES)
def test_an_edit_to_what_a_cross_file_check_read_is_never_stale(rule: str, tmp_path: Path) -> None:
    if not (FIXTURES / rule).is_dir():
        pytest.skip(f"{rule} has no fixtures")
    base = tmp_path / "base"
    _build(rule, base)
    cache = tmp_path / "cache"
    assert _report(base, cache) == _report(base, None)  # cold, filling the cache
    shutil.rmtree(cache / "report", ignore_errors=True)  # not replayed whole: check by check
    assert _report(base, cache) == _report(base, None)
    replayed = pipeline.LAST_STATS.get("cross_replayed", 0)
    edits = _edits(base)
    chosen = random.Random(rule).sample(edits, min(MAX_EDITS, len(edits)))
    for name, edit in chosen:
        tree = tmp_path / "tree"
        if tree.exists():
            shutil.rmtree(tree)
        shutil.copytree(base, tree)
        edit(tree)
        warm = _report(tree, cache)
        replayed += pipeline.LAST_STATS.get("cross_replayed", 0)
        assert warm == _report(tree, None), f"{rule}: stale after: {name}"
    assert replayed > 0, f"{rule}: no kept result was replayed: the test proves nothing"


def test_an_unchanged_tree_replays_every_cross_file_result(tmp_path: Path) -> None:
    """Nothing changed but the report could not be replayed whole (another output is asked
    for): every cross-file and repository check is replayed, none runs."""
    root = tmp_path / "repo"
    _build("AR-OBS-004", root)
    _build("AR-API-001", root / "api")
    cache = tmp_path / "cache"
    first = _report(root, cache)
    assert pipeline.LAST_STATS.get("cross_run", 0) > 0
    # the report entry aside, every per-file and cross-file result is kept
    shutil.rmtree(cache / "report", ignore_errors=True)
    assert _report(root, cache) == first
    assert pipeline.LAST_STATS.get("cross_run", 0) == 0
    assert pipeline.LAST_STATS.get("cross_replayed", 0) > 0


def test_cached_scans_leave_no_descriptor_open(tmp_path: Path) -> None:
    """A scan that answers from the cache (the whole report, or record by record) closes the
    cache's folders when it ends: a process that scans many times (an editor, a test run) must
    not run out of descriptors."""
    import os

    def open_fds() -> set[str]:
        return set(os.listdir("/proc/self/fd"))

    root = tmp_path / "repo"
    _build("AR-EVT-003", root)
    cache = tmp_path / "cache"
    _report(root, cache)
    before = open_fds()
    for _ in range(3):
        _report(root, cache)  # the whole report from the cache
        shutil.rmtree(cache / "report", ignore_errors=True)
        _report(root, cache)  # record by record
    assert open_fds() <= before


def test_an_edited_rule_file_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    """The repository's own rules (reviewer.checks.custom) are read like its templates: a
    changed rule file changes the report even though no template and no file name changed —
    through the scan's cache and through the command line's output replay."""
    from click.testing import CliRunner

    from reviewer.cli.main import main

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "fixtures" / "repos" / "chariot-platform", root)
    rule = root / ".archreview" / "rules" / "retention.yaml"
    cache = tmp_path / "cache"
    args = ["scan", str(root), "--format", "json", "--fail-on", "never", "--cache-dir", str(cache)]

    def severities() -> set[str]:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        return {f["severity"] for f in data["findings"] if f["rule_id"] == "CHARIOT-PLT-001"}

    assert severities() == {"medium"}
    assert severities() == {"medium"}  # replayed
    rule.write_text(
        rule.read_text(encoding="utf-8").replace("severity: medium", "severity: critical", 1),
        encoding="utf-8",
    )
    assert severities() == {"critical"}
    direct = render(scan(root, ScanOptions(cache_dir=str(cache), jobs=1, persona=Persona.AUDITOR)))
    assert direct == render(scan(root, ScanOptions(jobs=1, persona=Persona.AUDITOR)))
