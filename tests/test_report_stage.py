"""The report stage made cheaper (issue 20) says exactly what its definitions say:

* `score_all` weighs each finding and counts each evaluation once and sums them per scope; it
  equals every scope scored on its own by `scope_block` (the definition) on generated reports;
* `evaluate` lists evaluations by rule, file and subject (None as ""), ties in the order met,
  with the weight of the module's profile;
* `merge`'s report order sorts by the whole `order` only where `Finding.sort_key` ties: the
  same list as sorting by `order`;
* make_finding's rating memo (what a rule, variant and profile give a finding) changes no
  finding;
* the JSON writer's own encoders for modules and evaluations write what `json.dumps` writes
  for `report_dict`, whatever the numbers (0.0 and -0.0, NaN, integers) and names.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.checks.catalogue import load_catalogue
from reviewer.core.types import (
    Confidence,
    Evaluation,
    Finding,
    Location,
    ModuleSummary,
    Persona,
    ScoreBlock,
    Severity,
    Suppression,
    layer_order,
)
from reviewer.findings.merge import in_report_order, order
from reviewer.outputs.json_report import render, report_dict
from reviewer.profile import Profile
from reviewer.runner.report import evaluate
from reviewer.scores.scoring import (
    finding_modules,
    harshest_caps,
    scope_block,
    score_all,
    weight,
)

from . import report_fixtures as rf

_settings = settings(max_examples=150, deadline=None, derandomize=True)

_RULES = ["AR-IAM-001", "AR-EVT-003", "AR-MOD-001", "ACME-XYZ-001", "AR-NET-002"]
_MODULES = ["svc", "api", "lib/x", "."]


@st.composite
def _finding(draw: Any) -> Finding:
    rule = draw(st.sampled_from(_RULES))
    module = draw(st.sampled_from(_MODULES))
    related = tuple(
        Location(f"{m}/template.yaml", 3, 1, 3, 1, None, None, "also")
        for m in draw(st.lists(st.sampled_from(_MODULES), max_size=2))
    )
    return rf.finding(
        rule,
        draw(st.sampled_from(list(Severity))),
        draw(st.integers(0, 5)),
        confidence=draw(st.sampled_from(list(Confidence))),
        module=module,
        file=f"{module}/template.yaml",
        layer=rule.split("-")[1],
        suppressed=draw(st.none() | st.just(Suppression("inline", "why"))),
        related=related,
        fingerprint=draw(st.sampled_from(["a", "b", "c", "d"])),
    )


@st.composite
def _evaluation(draw: Any) -> Evaluation:
    rule = draw(st.sampled_from(_RULES))
    return Evaluation(
        rule,
        rule.split("-")[1],
        draw(st.sampled_from(_MODULES)),
        "f.yaml",
        None,
        8.0,
        draw(st.sampled_from([0.0, 5.5, 8.0])),
    )


def _module_of(file: str) -> str:
    return file.rsplit("/", 1)[0]


@_settings
@given(
    st.lists(_finding(), max_size=12),
    st.lists(_evaluation(), max_size=12),
    st.lists(st.sampled_from(_MODULES), max_size=2),
)
def test_score_all_equals_each_scope_scored_on_its_own(
    findings: list[Finding], evaluations: list[Evaluation], extra: list[str]
) -> None:
    members = {"a": tuple(findings[:3])} if findings else {}
    got = score_all(findings, evaluations, modules=extra, module_of=_module_of, members=members)
    cap_of = harshest_caps(members)

    def layers(fs: list[Finding], evs: list[Evaluation]) -> tuple[tuple[str, ScoreBlock], ...]:
        names = layer_order([*(f.layer for f in fs), *(e.layer for e in evs)])
        return tuple(
            (
                layer,
                scope_block(
                    [f for f in fs if f.layer == layer],
                    [e for e in evs if e.layer == layer],
                    cap_of=cap_of,
                ),
            )
            for layer in names
        )

    assert got.repository == scope_block(findings, evaluations, cap_of=cap_of)
    assert got.layers == layers(findings, evaluations)
    names = sorted(
        {*extra, *(e.module for e in evaluations)}
        | {m for f in findings for m in finding_modules(f, _module_of)}
    )
    expected = []
    for name in names:
        fs = [f for f in findings if name in finding_modules(f, _module_of)]
        evs = [e for e in evaluations if e.module == name]
        expected.append((name, scope_block(fs, evs, cap_of=cap_of), layers(fs, evs)))
    assert got.modules == tuple(expected)


def test_evaluations_come_by_rule_file_and_subject_with_each_modules_weight() -> None:
    catalogue = load_catalogue()
    strict = Profile(severity_overrides=(("AR-EVT-003", Severity.CRITICAL),))
    profiles = {"api": strict}
    evaluated = {
        ("AR-EVT-003", "b.yaml", "Q"): "svc",
        ("AR-EVT-003", "a.yaml", ""): "api",
        ("AR-EVT-003", "a.yaml", None): "api",  # ties with "" as a subject: comes after it
        ("AR-DAT-001", "z.yaml", "T"): "svc",
        ("AR-EVT-003", "a.yaml", "A"): "svc",
        ("NOT-A-RULE", "a.yaml", None): "svc",  # not in the catalogue: no evaluation
    }
    finding = rf.finding("AR-EVT-003", Severity.HIGH, 1, file="b.yaml", resource="Q")
    out = evaluate(
        catalogue,
        lambda module: profiles.get(module, Profile()),
        evaluated,
        [finding],
        {"a.yaml", "b.yaml", "z.yaml"},
    )
    assert [(e.rule_id, e.file, e.subject, e.module) for e in out] == [
        ("AR-DAT-001", "z.yaml", "T", "svc"),
        ("AR-EVT-003", "a.yaml", "", "api"),
        ("AR-EVT-003", "a.yaml", None, "api"),
        ("AR-EVT-003", "a.yaml", "A", "svc"),
        ("AR-EVT-003", "b.yaml", "Q", "svc"),
    ]
    base = float(weight(catalogue["AR-EVT-003"].severity))
    assert [e.weight for e in out[1:4]] == [9.5, 9.5, base]  # "api"'s profile: critical
    assert out[-1].cost == finding.score  # its finding's score, at least a high one's weight
    assert out[-1].weight == max(base, 8.0)


@_settings
@given(st.lists(_finding(), max_size=14))
def test_report_order_equals_sorting_by_the_whole_order(findings: list[Finding]) -> None:
    # few lines and resources: many findings tie on sort_key and are told apart by the rest
    assert in_report_order(list(findings)) == sorted(findings, key=order)


_numbers = st.sampled_from([0.0, -0.0, 1.0, 5.5, 100.0, 72.4, math.nan, math.inf, 0, 3, 100])
_names = st.sampled_from(
    ["svc", "api", "", "a" * 5000, "q\ud800x", "ünï", 'quo"te\n', "EVT", "NET", "ACME"]
)


@st.composite
def _block(draw: Any) -> ScoreBlock:
    cap = draw(st.none() | st.sampled_from(["D", "F"]))
    return ScoreBlock(
        draw(st.none() | _numbers),
        draw(st.none() | st.sampled_from(["A", "F"])),
        draw(st.integers(0, 3)),
        draw(st.integers(0, 3)),
        cap=cap,
        cap_reason=None if cap is None else draw(st.sampled_from(["a high finding", "x\ud800"])),
    )


@_settings
@given(
    st.lists(
        st.builds(
            ModuleSummary,
            _names,
            _names,
            _block(),
            st.lists(
                st.tuples(st.sampled_from(["EVT", "NET", "ACME", "IAM"]), _block()), max_size=4
            ).map(tuple),
        ),
        max_size=4,
    ),
    st.lists(
        st.builds(
            Evaluation,
            st.sampled_from(["AR-EVT-003", "ACME-X-001"]),
            st.sampled_from(["EVT", "ACME"]),
            _names,
            _names,
            st.none() | _names,
            _numbers,
            _numbers,
        ),
        max_size=6,
    ),
)
def test_json_modules_and_evaluations_are_written_as_json_dumps_writes_them(
    modules: list[ModuleSummary], evaluations: list[Evaluation]
) -> None:
    base = rf.report([rf.finding(i=1)])
    report = dataclasses.replace(
        base,
        modules=tuple(modules),
        evaluations=(*evaluations, *evaluations),  # repeated: the memoised texts are reused
        layer_names=(("ACME", "Acme checks"),),
    )
    assert render(report) == json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


class _Sources:
    """The least a FindingSources needs for hits located by the check (`__line__` paths)."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        from pathlib import Path
        from types import SimpleNamespace

        self.root = Path(".")
        self.catalogue = load_catalogue()
        self.repo: Any = SimpleNamespace(gomods={}, packages={}, templates={}, submodules=())
        self.lines: dict[str, tuple[str, ...]] = {"a/go.mod": ("module a",), "b/go.mod": ()}
        self.profiles = profiles
        self.strict = True
        self.max_bytes = 1 << 20
        self.report_persona = Persona.AUDITOR

    def profile_for(self, module: str) -> Profile:
        return self.profiles.get(module, Profile())


def test_the_rating_memo_changes_no_finding() -> None:
    """make_finding with the memo build_report keeps gives what it gives without one, for hits
    of one rule in modules under different profiles and with their own severity/persona."""
    from reviewer.core.types import Hit
    from reviewer.findings.make import RatingMemo, RawHit, make_finding

    loud = Profile(
        severity_overrides=(("AR-EVT-003", Severity.LOW),),
        rule_personas=(("AR-EVT-003", Persona.AUDITOR),),
    )
    sources = _Sources({"a": loud})
    hits = [
        Hit("Q", ("__line__", 2), "plain"),
        Hit("Q", ("__line__", 1), "own severity", severity=Severity.CRITICAL),
        Hit("Q", ("__line__", 2), "own persona", persona=Persona.PEDANTIC),
        Hit("Q", ("__line__", 2, 4), "own confidence", confidence=Confidence.LOW),
        Hit("Q", ("__line__", 1), "plain again"),
    ]
    raws = [
        RawHit(rule, f"{module}/go.mod", module, hit)
        for rule in ("AR-EVT-003", "AR-DAT-001", "NOT-A-RULE")
        for module in ("a", "b")
        for hit in hits
    ]
    memo: RatingMemo = {}
    with_memo = [make_finding(sources, raw, memo) for raw in raws]
    without = [make_finding(sources, raw) for raw in raws]
    assert with_memo == without
    assert len(memo) < len(raws)  # shared: the memo did its work
    made = [f for f in with_memo if f is not None]
    assert len(made) == 20  # the rule not in the catalogue makes none
    in_a = {f.message: f for f in made if f.rule_id == "AR-EVT-003" and f.module == "a"}
    in_b = {f.message: f for f in made if f.rule_id == "AR-EVT-003" and f.module == "b"}
    assert in_a["plain"].severity is Severity.LOW and in_a["plain"].persona is Persona.AUDITOR
    assert in_a["own severity"].severity is Severity.LOW  # the profile's override wins
    assert in_b["own severity"].severity is Severity.CRITICAL
    assert in_b["own persona"].persona is Persona.PEDANTIC
    assert in_a["own confidence"].score < in_a["plain"].score
