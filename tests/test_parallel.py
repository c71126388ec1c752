"""The process pool and the local/cross-file split (reviewer.runner.pipeline) change nothing in the
report: the same bytes with --jobs 1 and --jobs N, cold and warm; a check that reads other
templates is declared cross-file; the engine's error containment holds in worker processes."""

from __future__ import annotations

import collections
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.generate import generate
from reviewer.checks import CHECKS
from reviewer.checks.registry import TemplateContext, template_check
from reviewer.core.types import Hit, Persona
from reviewer.outputs.fastjson import Lazy, dumps
from reviewer.outputs.json_report import render
from reviewer.runner import pipeline
from reviewer.runner.engine import ScanOptions, scan

from .conftest import FIXTURES, SHARED


def _json(root: Path, **options: Any) -> str:
    return render(scan(root, ScanOptions(**options)))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen") / "super-repo"
    generate(root, 80, 7)
    return root


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the pool even for a handful of templates."""
    monkeypatch.setattr(pipeline, "POOL_MIN_FILES", 2)


def test_generated_repo_is_the_same_whatever_the_jobs(generated: Path, tmp_path: Path) -> None:
    serial = _json(generated)  # the plain engine: no pool, no cache
    assert _json(generated, jobs=2) == serial
    assert _json(generated, jobs=3) == serial
    cache = tmp_path / "cache"
    assert _json(generated, jobs=2, cache_dir=str(cache)) == serial  # cold, filling the cache
    assert _json(generated, jobs=1, cache_dir=str(cache)) == serial  # warm: the whole report
    assert _json(generated, jobs=2, cache_dir=str(cache)) == serial


def test_example_repo_is_the_same_whatever_the_jobs(small_pool: None, tmp_path: Path) -> None:
    root = FIXTURES / "repos" / "chariot-platform"
    serial = _json(root)
    assert _json(root, jobs=2) == serial
    assert _json(root, jobs=2, cache_dir=str(tmp_path / "c")) == serial
    assert _json(root, jobs=2, cache_dir=str(tmp_path / "c")) == serial


@pytest.mark.slow
def test_corpus_is_the_same_whatever_the_jobs(tmp_path: Path) -> None:
    corpus = SHARED / "corpora" / "serverless-patterns"
    if not corpus.is_dir():
        pytest.skip("the serverless-patterns corpus is not here")
    serial = _json(corpus)
    assert _json(corpus, jobs=2) == serial
    assert _json(corpus, jobs=2, cache_dir=str(tmp_path / "c")) == serial
    assert _json(corpus, jobs=2, cache_dir=str(tmp_path / "c")) == serial


def test_workers_load_and_parent_replays(generated: Path) -> None:
    """The pool really is used, and local checks really run in the workers."""
    seen: list[pipeline.Session] = []
    original = pipeline.Session.finish

    def keep(self: pipeline.Session) -> None:
        seen.append(self)
        original(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.Session, "finish", keep)
        scan(generated, ScanOptions(jobs=2))
    (session,) = seen
    assert session.stats["loaded_remote"] > 0  # sent by the worker
    assert 0 < session.stats["loaded_here"] < session.stats["decoded"]
    assert session.stats["loaded_here"] + session.stats["loaded_remote"] == session.stats["decoded"]
    assert session.stats["replayed"] > 100  # local checks run by the worker, replayed


# -- which checks are local ---------------------------------------------------------------------


def _chariot() -> Any:
    from reviewer.profile.loader import preset

    return preset("chariot")


def _fixture_repos() -> Iterator[Path]:
    yield FIXTURES / "repos" / "chariot-platform"
    for rule_dir in sorted((FIXTURES / "templates").iterdir()):
        if rule_dir.is_dir():
            yield rule_dir


def test_every_check_reading_beyond_its_template_is_declared_cross_file(tmp_path: Path) -> None:
    """Run every template check not declared `cross_file` on every self-contained fixture
    template behind the guard that stands for the rest of the repository: none may reach
    another template, the exports, nested stacks, manifests, the inventory or a
    repository-wide memo. (Were one to, the scan would still be right — the parent runs it
    again with the whole repository — but the declaration is what keeps that rare.)"""
    reached: collections.Counter[str] = collections.Counter()
    ran: collections.Counter[str] = collections.Counter()
    original = pipeline.capture_local

    def watch(state: Any, checks: Any, ctx: Any, template: Any, *guards: Any, **kw: Any) -> Any:
        result = original(state, checks, ctx, template, *guards, **kw)
        for rule_id, cap in result.items():
            ran[rule_id] += 1
            if cap is None:
                reached[f"{rule_id} on {template.file}"] += 1
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "capture_local", watch)
        for i, root in enumerate(_fixture_repos()):  # chariot: the rules that require a key run
            scan(root, ScanOptions(jobs=1, cache_dir=str(tmp_path / str(i)), profile=_chariot()))
    local = {c.rule_id for c in CHECKS if c.kind == "template" and not c.cross_file}
    assert set(ran) == local  # every local check ran behind the guard
    assert not reached, f"undeclared cross-file reads: {sorted(reached)}"


def test_declared_cross_file_checks_read_other_templates() -> None:
    declared = {c.rule_id for c in CHECKS if c.cross_file and c.kind == "template"}
    assert {"AR-API-001", "AR-EVT-001", "AR-EVT-003", "AR-OBS-004", "AR-OBS-005"} <= declared
    assert all(c.cross_file for c in CHECKS if c.kind == "repo")


def test_an_undeclared_cross_file_check_is_run_again_by_the_parent(tmp_path: Path) -> None:
    """A check that claims to be local but counts the repository's templates: the guard stops
    it in the worker, and the parent's run with the whole repository is the one reported."""

    @template_check("AR-OBS-002")
    def counts_templates(ctx: TemplateContext) -> Iterator[Any]:
        yield Hit(None, (), f"{len(ctx.repo.templates)} templates")

    root = tmp_path / "repo"
    for name in ("a", "b", "c"):
        (root / name).mkdir(parents=True)
        (root / name / "template.yaml").write_text(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", encoding="utf-8"
        )
    checks = (counts_templates,)
    serial = render(scan(root, ScanOptions(checks=checks, persona=Persona.AUDITOR)))
    assert "3 templates" in serial
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "POOL_MIN_FILES", 1)
        parallel = render(
            scan(
                root,
                ScanOptions(checks=checks, jobs=2, cache_dir=str(tmp_path / "c"), persona=Persona.AUDITOR),
            )
        )
    assert parallel == serial


# -- error containment --------------------------------------------------------------------------


def _crashing() -> Any:
    @template_check("AR-OBS-002")
    def crashes(ctx: TemplateContext) -> Iterator[Any]:
        if ctx.template.resources:
            raise RuntimeError("boom")
        yield from ()

    return crashes


def test_a_crashing_check_is_contained_in_workers_too(generated: Path) -> None:
    checks = (*CHECKS, _crashing())
    checks = tuple(c for c in checks if c.rule_id != "AR-OBS-002" or c.name == "crashes")
    serial = render(scan(generated, ScanOptions(checks=checks)))
    assert "AR-MOD-005" in serial
    assert render(scan(generated, ScanOptions(checks=checks, jobs=2))) == serial


def test_strict_scans_raise_from_workers(generated: Path) -> None:
    checks = (_crashing(),)
    with pytest.raises(RuntimeError, match="boom"):
        scan(generated, ScanOptions(checks=checks, jobs=2, strict=True))
    with pytest.raises(RuntimeError, match="boom"):
        scan(generated, ScanOptions(checks=checks, strict=True))


def test_a_worker_that_dies_leaves_its_files_to_the_parent(generated: Path) -> None:
    """A worker killed in the middle of its chunk (here: it leaves the moment it starts its
    third file) sends nothing more; the parent loads whatever it had taken, and the report is
    the serial one."""
    import os

    serial = _json(generated)
    original = pipeline.Session.work_one
    started: list[str] = []  # in the worker (its own copy after the fork)

    def dying(self: pipeline.Session, entry: Any, *, remote: bool = False) -> Any:
        if remote:
            started.append(entry.source.path)
            if len(started) == 3:
                os._exit(0)  # gone without a word
        return original(self, entry, remote=remote)

    seen: list[pipeline.Session] = []
    keep = pipeline.Session.finish

    def finish(self: pipeline.Session) -> None:
        seen.append(self)
        keep(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.Session, "work_one", dying)
        mp.setattr(pipeline.Session, "finish", finish)
        assert _json(generated, jobs=2) == serial
    (session,) = seen
    assert session.stats["loaded_remote"] == 2  # the two files the worker finished
    assert session.stats["loaded_here"] == session.stats["decoded"] - 2


def test_parallel_scans_close_their_pipes_and_reap_their_workers(small_pool: None) -> None:
    """Many parallel scans in one process (a watch, the API, the tests): no descriptor, thread
    or child process outlives its scan."""
    import multiprocessing
    import os
    import threading

    root = FIXTURES / "repos" / "chariot-platform"
    scan(root, ScanOptions(jobs=2))  # whatever the first scan sets up once (imports, heaps)
    fds = len(os.listdir("/proc/self/fd"))
    threads = threading.active_count()
    for _ in range(6):
        scan(root, ScanOptions(jobs=3))
    assert len(os.listdir("/proc/self/fd")) == fds
    assert threading.active_count() == threads
    assert multiprocessing.active_children() == []


def test_no_fork_falls_back_to_one_process(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _json(generated)
    monkeypatch.setattr(pipeline, "_can_fork", lambda: False)
    assert _json(generated, jobs=4) == serial


def test_copies_of_a_repo_scan_alike(generated: Path, tmp_path: Path) -> None:
    """The cache is keyed by content and path, not by where the checkout is."""
    copy = tmp_path / "copy"
    shutil.copytree(generated, copy)
    cache = str(tmp_path / "cache")
    first = scan(generated, ScanOptions(jobs=2, cache_dir=cache))
    second = scan(copy, ScanOptions(jobs=2, cache_dir=cache))
    assert render(second) == render(scan(copy, ScanOptions()))
    assert second.root != first.root


# -- the JSON encoder ---------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.text(max_size=50) | st.integers() | st.booleans() | st.none() | st.floats(), inner
        )
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_fast_json_equals_json_dumps(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_fast_json_equals_json_dumps_on_a_real_report() -> None:
    from reviewer.outputs.json_report import report_dict

    data = report_dict(scan(FIXTURES / "repos" / "chariot-platform"))
    assert dumps(data) == json.dumps(data, indent=2, ensure_ascii=False)
    lazy = dict(data, findings=Lazy(data["findings"], lambda f: f))
    assert dumps(lazy) == dumps(data)
    with pytest.raises(TypeError):
        dumps({"a": object()})


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_opt_text = st.none() | _text


@st.composite
def _findings(draw: Any) -> Any:
    from reviewer.core.types import (
        AdrText,
        Confidence,
        Finding,
        Location,
        Reference,
        Severity,
        Suppression,
    )

    adr = AdrText(draw(_text), draw(_text), draw(_text), tuple(Reference("t", u) for u in draw(st.lists(_text, max_size=3))))
    return Finding(
        rule_id=draw(_text),
        title=draw(_text),
        layer=draw(_text),
        severity=draw(st.sampled_from(list(Severity))),
        confidence=draw(st.sampled_from(list(Confidence))),
        score=draw(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 10**12)),
        module=draw(_text),
        file=draw(_text),
        line=draw(st.integers(0, 10**9)),
        end_line=draw(st.integers(0, 10**9)),
        column=draw(st.integers(0, 999)),
        end_column=draw(st.integers(0, 999)),
        resource=draw(_opt_text),
        resource_type=draw(_opt_text),
        property=draw(_opt_text),
        message=draw(_text),
        fingerprint=draw(_text),
        adr=adr,
        new=draw(st.none() | st.booleans()),
        suppressed=draw(st.none() | st.builds(Suppression, _text, _opt_text, _opt_text)),
        related=tuple(
            draw(st.lists(st.builds(Location, _text, st.integers(0, 99), st.just(1), st.integers(0, 99), st.just(1), _opt_text, _opt_text), max_size=3))
        ),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_findings(), max_size=4))
def test_json_render_equals_json_dumps_of_the_report_dict(findings: list[Any]) -> None:
    """`render` writes findings and evaluations with encoders of their own: the text must be
    json.dumps(report_dict(report), indent=2) exactly, whatever the values."""
    import dataclasses

    from reviewer.core.types import Evaluation
    from reviewer.outputs.json_report import report_dict

    base = scan(FIXTURES / "repos" / "chariot-platform")
    shared = [dataclasses.replace(f, adr=base.findings[0].adr) for f in findings]  # one ADR, many findings
    evaluations = tuple(
        Evaluation(f.rule_id, f.layer, f.module, f.file, f.resource, float(i) / 3, f.line) for i, f in enumerate(findings)
    )
    report = dataclasses.replace(
        base, findings=(*base.findings, *findings, *shared), evaluations=(*base.evaluations, *evaluations)
    )
    assert render(report) == json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


def test_every_manifests_only_check_reads_only_the_manifests(tmp_path: Path) -> None:
    """The repository checks declared `manifests_only` run behind the view that holds only the
    parsed manifests, on every fixture repository, without reaching past it (were one to, it
    would run uncached — right, but slower)."""
    ran: collections.Counter[str] = collections.Counter()
    reached: list[str] = []
    original = pipeline.capture

    def watch(state: Any, check: Any, ctx: Any, template: Any, guard: Any) -> Any:
        result = original(state, check, ctx, template, guard)
        if template is None and guard is not None:  # behind the manifests view
            ran[check.rule_id] += 1
            if result is None:
                reached.append(check.rule_id)
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "capture", watch)
        for i, root in enumerate([FIXTURES / "repos" / "chariot-platform", *_fixture_repos()]):
            scan(root, ScanOptions(jobs=1, cache_dir=str(tmp_path / str(i)), profile=_chariot()))
    marked = {c.rule_id for c in CHECKS if c.manifests_only}
    assert set(ran) == marked and all(c.kind == "repo" for c in CHECKS if c.manifests_only)
    assert not reached, f"manifests_only checks reaching further: {sorted(set(reached))}"
