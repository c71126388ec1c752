"""The declared-stack rules beyond their fixtures: the precision statements of the issue, the
tree walk, and profile-driven behaviour."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.checks import stk
from reviewer.checks.mod import CHECKS as MOD_CHECKS
from reviewer.checks.stk import CHECKS, MAX_LISTED, Clash, _covered, drift_clashes, tree_facts
from reviewer.core.types import Finding, Persona
from reviewer.model.manifests.npm import (
    NpmDep,
    PackageJson,
    ranges_intersect,
    spans_meet,
    spec_kind,
)
from reviewer.model.repo import RepoIndex
from reviewer.profile import BASELINE, Profile
from reviewer.profile.loader import preset
from reviewer.runner.engine import ScanOptions, scan

BY_ID = {c.rule_id: c for c in (*CHECKS, *MOD_CHECKS)}
# the declared stack these tests judge against (the baseline declares none)
CHARIOT = preset("chariot")


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    root.mkdir(exist_ok=True)
    return root


def _run(root: Path, rule_id: str, profile: Profile = CHARIOT) -> list[Finding]:
    """Every finding of the rule, whatever its persona."""
    options = ScanOptions(
        profile=profile, checks=(BY_ID[rule_id],), strict=True, persona=Persona.AUDITOR
    )
    report = scan(root, options)
    return [f for f in report.findings if f.rule_id == rule_id]


def _pkg(**sections: dict[str, str]) -> str:
    return json.dumps({"name": "p", "version": "1.0.0", **sections}, indent=2)


def _gomod(go: str = "1.24.6", requires: str = "", toolchain: str = "") -> str:
    tc = f"\ntoolchain {toolchain}\n" if toolchain else ""
    return f"module example.com/m\n\ngo {go}\n{tc}\n{requires}"


# -- AR-STK-001 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("go", "toolchain", "declared", "expect"),
    [
        ("1.24", "go1.24.6", "1.24.6", None),  # the newer of go and toolchain counts
        ("1.24", "", "1.24.6", ("low", "go")),  # patch-level gap
        ("1.24.5", "", "1.24.6", ("low", "go")),
        ("1.23.4", "go1.24.2", "1.24.6", ("low", "toolchain")),  # toolchain decides, patch gap
        ("1.22.0", "go1.23.1", "1.24.6", ("medium", "toolchain")),
        ("1.25rc1", "", "1.24.6", ("info", "go")),  # 1.24.6 < 1.25rc1
        ("1.24.6", "", "1.25.0", ("medium", "go")),
        ("1.24.6", "", "1.24", None),  # a declared language version is met by its releases
        ("1.23", "", "1.23", None),
        ("1.23", "", "1.25", ("medium", "go")),
    ],
)
def test_go_versions(
    tmp_path: Path, go: str, toolchain: str, declared: str, expect: tuple[str, str] | None
) -> None:
    root = _repo(tmp_path, {"go.mod": _gomod(go, toolchain=toolchain)})
    found = _run(root, "AR-STK-001", replace(CHARIOT, go_version=declared))
    if expect is None:
        assert not found, [f.message for f in found]
    else:
        assert [(f.severity.value, f.property) for f in found] == [expect]


# -- AR-STK-003 --------------------------------------------------------------------------------


def test_a_library_without_a_router_and_indirect_frameworks_pass(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "schema/go.mod": _gomod(requires="require github.com/stretchr/testify v1.10.0\n"),
            "svc/go.mod": _gomod(
                requires="require (\n\tgithub.com/gorilla/mux v1.8.1\n"
                "\tgithub.com/gin-gonic/gin v1.10.0 // indirect\n)\n"
            ),
        },
    )
    assert not _run(root, "AR-STK-003")


def test_a_profile_declaring_another_router_flips_the_competitor(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "a/go.mod": _gomod(requires="require github.com/gorilla/mux v1.8.1\n"),
            "b/go.mod": _gomod(requires="require github.com/go-chi/chi/v5 v5.1.0\n"),
        },
    )
    assert [f.file for f in _run(root, "AR-STK-003")] == ["b/go.mod"]
    chi = replace(
        CHARIOT,
        go_frameworks=("github.com/go-chi/chi/v5",),
        go_forbidden=("github.com/gorilla/mux", "github.com/gin-gonic/gin"),
    )
    found = _run(root, "AR-STK-003", chi)
    assert [f.file for f in found] == ["a/go.mod"]
    assert "github.com/go-chi/chi/v5" in found[0].message


# -- AR-STK-004 / 005 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expect"),
    [
        ("^18.2.0", None),
        ("18.3.1", None),
        (">=16.8 <19", None),
        ("npm:react@^18.2.0", None),
        ("^17.0.2 || ^18.0.0", None),
        ("~18.2.0", "medium"),
        ("18.2.0", "medium"),
        ("^17.0.2", "medium"),
        ("^19.0.0", "info"),
        ("19.1.0", "info"),
        ("latest", None),
        ("github:facebook/react#v18.3.1", None),
    ],
)
def test_react_ranges(tmp_path: Path, spec: str, expect: str | None) -> None:
    root = _repo(tmp_path, {"package.json": _pkg(dependencies={"react": spec})})
    found = _run(root, "AR-STK-004")
    assert [f.severity.value for f in found] == ([expect] if expect else [])


def test_react_declared_as_a_range_in_the_profile(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"package.json": _pkg(dependencies={"react": "~18.2.0"})})
    wide = replace(CHARIOT, node_packages=(("react", "18.x"),))
    assert not _run(root, "AR-STK-004", wide)
    assert _run(root, "AR-STK-004")


@pytest.mark.parametrize(
    ("spec", "expect"),
    [("~5.4.0", None), ("^5.0.0", None), (">=4.9", None), ("^4.9.5", "medium"), ("^6.0.0", "info")],
)
def test_typescript_ranges(tmp_path: Path, spec: str, expect: str | None) -> None:
    root = _repo(tmp_path, {"package.json": _pkg(devDependencies={"typescript": spec})})
    assert [f.severity.value for f in _run(root, "AR-STK-005")] == ([expect] if expect else [])


# -- AR-STK-006 --------------------------------------------------------------------------------


def test_drift_is_one_finding_per_dependency_listing_every_module(tmp_path: Path) -> None:
    req = "require (\n\tgithub.com/acme/schema {v}\n\tgithub.com/aws/aws-sdk-go-v2 v1.36.3\n)\n"
    root = _repo(
        tmp_path,
        {
            "a/go.mod": _gomod(requires=req.format(v="v0.4.2")),
            "b/go.mod": _gomod(requires=req.format(v="v0.3.1")),
            "c/go.mod": _gomod(requires=req.format(v="v0.4.2")),
        },
    )
    found = _run(root, "AR-STK-006")
    # one finding, at the first module's manifest; the others are its related locations
    assert [(f.file, f.line, f.resource) for f in found] == [
        ("a/go.mod", 6, "github.com/acme/schema")
    ]
    assert "a v0.4.2, b v0.3.1, c v0.4.2" in found[0].message
    assert [(r.file, r.line, r.message) for r in found[0].related] == [
        ("b/go.mod", 6, "b requires v0.3.1"),
        ("c/go.mod", 6, "c requires v0.4.2"),
    ]
    assert found[0].severity.value == "low"  # not a module of this repository
    assert found[0].fingerprint == _run(root, "AR-STK-006")[0].fingerprint


def test_npm_drift_needs_ranges_with_no_common_version(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "a/package.json": _pkg(dependencies={"react": "^18.2.0", "zod": "3.23.8"}),
            "b/package.json": _pkg(dependencies={"react": "18.3.1", "zod": "3.22.4"}),
            "a/package-lock.json": "{}",
        },
    )
    found = _run(root, "AR-STK-006")
    assert [(f.file, f.resource, f.persona.value) for f in found] == [
        ("a/package.json", "zod", "regular")
    ]
    assert [(r.file, r.message) for r in found[0].related] == [
        ("b/package.json", "b '3.22.4' in dependencies")
    ]


def test_npm_drift_persona_follows_the_dependency_kind(tmp_path: Path) -> None:
    """A disagreement among devDependencies only is pedantic; as soon as two runtime entries
    disagree it is a defect, whatever the dev entries say."""
    root = _repo(
        tmp_path,
        {
            "a/package.json": _pkg(
                devDependencies={"jest": "^27.5.1"}, dependencies={"zod": "^3.0.0"}
            ),
            "b/package.json": _pkg(devDependencies={"jest": "^29.7.0", "zod": "^4.0.0"}),
            "c/package.json": _pkg(dependencies={"zod": "^3.23.0"}),
        },
    )
    found = {f.resource: f for f in _run(root, "AR-STK-006")}
    assert found["jest"].persona.value == "pedantic"
    assert found["jest"].severity.value == "info"
    # zod: only the dev entry (b, ^4) disagrees with the runtime ones (a, c agree on ^3)
    assert found["zod"].persona.value == "pedantic"
    regular = _repo(
        tmp_path / "r",
        {
            "a/package.json": _pkg(dependencies={"zod": "^3.0.0"}),
            "b/package.json": _pkg(dependencies={"zod": "^4.0.0"}),
        },
    )
    (zod,) = _run(regular, "AR-STK-006")
    assert (zod.persona.value, zod.severity.value) == ("regular", "low")
    # at the default persona the dev-only finding is hidden and counted
    report = scan(root, ScanOptions(profile=BASELINE, checks=(BY_ID["AR-STK-006"],), strict=True))
    assert [f.rule_id for f in report.findings] == []
    assert dict(report.hidden)["pedantic"] == 2


# -- AR-STK-007 / 009 and the tree -------------------------------------------------------------


def test_tree_facts_skip_vendor_node_modules_testdata_and_symlinks(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "svc/go.mod": _gomod(),
            "svc/vendor/x/x_test.go": "package x\n",
            "svc/testdata/y_test.go": "package y\n",
            "svc/_old/z_test.go": "package z\n",
            "web/node_modules/pkg/package-lock.json": "{}",
            "web/yarn.lock": "",
            "docs/adr/0001-record.md": "# 1\n",
        },
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "w_test.go").write_text("package w\n", encoding="utf-8")
    try:
        os.symlink(outside, root / "svc" / "linked")
    except OSError:
        pytest.skip("symbolic links are not available")
    assert not _run(root, "AR-STK-007")  # no test file the go command would build
    from reviewer.discover.inventory import discover
    from reviewer.model.repo import RepoIndex

    facts = tree_facts(RepoIndex(discover(root)))
    assert facts.test_files == ()
    assert facts.marker_files == frozenset({"web/yarn.lock"})
    assert facts.adr_files == ("docs/adr/0001-record.md",)


@pytest.mark.parametrize(
    ("rel", "patterns", "covered"),
    [
        ("packages/ui", ["packages/*"], True),
        ("packages/ui/deep", ["packages/*"], False),
        ("apps/admin/console", ["apps/**"], True),
        ("packages/ui", ["packages/*", "!packages/ui"], False),
        ("tools/gen", ["./tools/gen/"], True),
    ],
)
def test_workspace_globs(rel: str, patterns: list[str], covered: bool) -> None:
    assert _covered(rel, patterns) is covered


def test_front_end_test_framework_from_the_profile(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "package.json": _pkg(
                dependencies={"react": "^18.3.1"}, devDependencies={"vitest": "^2.0.0"}
            )
        },
    )
    assert _run(root, "AR-STK-007")
    assert not _run(root, "AR-STK-007", replace(CHARIOT, node_test_frameworks=("vitest",)))


def test_no_lockfile_finding_points_at_the_manifest(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"web/package.json": _pkg(dependencies={"react": "^18.3.1"})})
    found = _run(root, "AR-STK-009")
    assert [(f.file, f.line, f.module, f.resource) for f in found] == [
        ("web/package.json", 1, "web", "p")
    ]


def test_mod_002_counts_records_anywhere_and_anchors_at_gitmodules(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {".gitmodules": "", "svc/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\n"},
    )
    found = _run(root, "AR-MOD-002")
    assert [(f.file, f.severity.value, f.confidence.value) for f in found] == [
        (".gitmodules", "info", "medium")
    ]
    (root / "svc" / "doc" / "adr").mkdir(parents=True)
    (root / "svc" / "doc" / "adr" / "0001-x.md").write_text("# x\n", encoding="utf-8")
    assert not _run(root, "AR-MOD-002")


# -- bounded work (issue 15, item 4) ------------------------------------------------------------


def _reference_clashes(specs: list[str]) -> dict[str, Clash]:
    """What AR-STK-006 computed before it was made linear: every pair of distinct specs, then
    every entry against each clashing spec."""
    distinct = sorted(set(specs))
    clash: set[str] = set()
    for i, a in enumerate(distinct):
        for b in distinct[i + 1 :]:
            if ranges_intersect(a, b) is False:
                clash.update((a, b))
    out: dict[str, Clash] = {}
    for spec in clash:
        against = [k for k, other in enumerate(specs) if ranges_intersect(spec, other) is False]
        out[spec] = Clash(tuple(against[:MAX_LISTED]), len(against))
    return out


_partial = st.builds(
    lambda parts, pre: ".".join(parts) + pre,
    st.lists(st.sampled_from(["0", "1", "2", "3", "x"]), min_size=1, max_size=3),
    st.sampled_from(["", "", "", "", "-0", "-beta.1"]),
)
_comparator = st.one_of(
    st.builds(
        lambda op, p: op + p, st.sampled_from(["^", "~", ">", ">=", "<", "<=", ""]), _partial
    ),
    st.builds(lambda a, b: f"{a} - {b}", _partial, _partial),
    st.sampled_from(["*", "latest", ">3 <1", "npm:left-pad@^1.0.0", "npm:left-pad@next"]),
)
_one_run = st.lists(_comparator, min_size=1, max_size=2).map(" ".join)
_any_range = st.lists(_one_run, min_size=1, max_size=2).map(" || ".join)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.lists(st.one_of(_one_run, _any_range), min_size=2, max_size=14))
def test_drift_clashes_agree_with_every_pair(specs: list[str]) -> None:
    assert drift_clashes(specs, [10**9]) == _reference_clashes(specs)


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    st.lists(
        st.sampled_from(
            [
                "1.x",
                "^1.2.0",
                "~1.2.3",
                ">=2 <3",
                "2.x",
                ">3 <1",
                "3.x",
                "latest",
                "<1.5.0",
                ">=1.4.0",
                "1.2.3",
            ]
        ),
        min_size=2,
        max_size=30,
    )
)
def test_sorted_drift_agrees_with_every_pair_on_many_entries(specs: list[str]) -> None:
    assert drift_clashes(specs, [0]) == _reference_clashes(specs)  # no pairs needed


class _Counted:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.fn(*args)


def test_ranges_of_one_run_each_are_sorted_not_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    meet = _Counted(spans_meet)
    monkeypatch.setattr(stk, "spans_meet", meet)
    specs = [f"1.{i}.x" for i in range(2_000)]  # 2,000 ranges, no two sharing a version
    allowance = [0]
    found = drift_clashes(specs, allowance)
    assert found is not None and meet.calls == 0
    assert found["1.0.x"] == Clash(tuple(range(1, 9)), 1_999)
    assert found["1.1999.x"] == Clash(tuple(range(8)), 1_999)
    overlapping = [f">=1.{i}.0 <3" for i in range(2_000)]
    assert drift_clashes(overlapping, allowance) == {} and meet.calls == 0


def test_pairwise_comparisons_are_counted_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    meet = _Counted(spans_meet)
    monkeypatch.setattr(stk, "spans_meet", meet)
    for n in (20, 40):
        meet.calls = 0
        specs = [f"1.{i}.x || 5.{i}.x" for i in range(n)]  # unions: compared pair by pair
        allowance = [10_000]
        found = drift_clashes(specs, allowance)
        assert found is not None and len(found) == n
        assert meet.calls == n * (n - 1) // 2 == 10_000 - allowance[0]
    meet.calls = 0
    assert drift_clashes([f"1.{i}.x || 5.{i}.x" for i in range(200)], [10_000]) is None
    assert meet.calls == 0  # nothing compared when the pairs would not fit
    small = [f"1.{i}.x || 5.{i}.x" for i in range(stk.SMALL_DRIFT_GROUP)]
    allowance = [0]
    assert len(drift_clashes(small, allowance) or {}) == stk.SMALL_DRIFT_GROUP
    assert allowance == [0]  # a small group costs a bounded amount, not the allowance


def test_drift_over_the_cap_is_an_info_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stk, "MAX_DRIFT_PAIRS", 10)
    files = {
        f"m{i}/package.json": _pkg(dependencies={"zod": f"1.{i}.x || 5.{i}.x"}) for i in range(12)
    }
    root = _repo(tmp_path, files)
    found = _run(root, "AR-STK-006")
    assert [(f.file, f.severity.value, f.resource) for f in found] == [
        ("m0/package.json", "info", "zod")
    ]
    assert found[0].message == (
        "zod is declared with 12 different version ranges across 12 manifests, more than "
        "AR-STK-006 compares pair by pair (at most 10 comparisons per scan): whether they share "
        "a version was not checked"
    )


class _CountingDeps(tuple[NpmDep, ...]):
    walks = 0

    def __iter__(self) -> Any:
        type(self).walks += 1
        return super().__iter__()


def _drift_of(count: int) -> tuple[int, int, list[Any]]:
    """AR-STK-006's npm drift over two manifests of ``count`` dependencies each: how often the
    dependencies were walked, how many specs were classified, and the hits."""
    _CountingDeps.walks = 0
    packages = {}
    for side, major in (("a", 1), ("b", 2)):
        deps = [
            NpmDep(f"pkg-{i}", f"^{major}.{i % 100}.0", "dependencies", i + 2, 5)
            for i in range(count)
        ]
        deps += [
            NpmDep(f"pkg-{i}", "^9.0.0", "devDependencies", count + i + 2, 5)
            for i in range(0, count, 2)
        ]
        packages[f"{side}/package.json"] = PackageJson(
            side, None, _CountingDeps(deps), (), False, 1
        )
    repo = cast(RepoIndex, SimpleNamespace(packages=packages, module_of_file={}))
    kinds = _Counted(spec_kind)
    setattr(stk, "spec_kind", kinds)  # noqa: B010 (a module attribute mypy does not export)
    try:
        hits = list(stk._npm_drift(repo))
    finally:
        setattr(stk, "spec_kind", spec_kind)  # noqa: B010
    return _CountingDeps.walks, kinds.calls, hits


def test_npm_drift_walks_each_manifest_once() -> None:
    small = _drift_of(1_000)
    large = _drift_of(2_000)
    assert small[0] == large[0] == 2  # once per manifest, whatever its size (was once per name)
    assert (small[1], large[1]) == (2_000, 4_000)  # one classification per chosen dependency
    # ^1.x against ^2.x: every dependency drifts, one finding each (not one per manifest)
    assert len(small[2]) == 1_000 and len(large[2]) == 2_000
    hit = large[2][0]
    assert hit.path == ("dependencies", "pkg-0")  # dependencies wins over devDependencies


def test_owner_and_workspace_roots_walk_up_the_path() -> None:
    folders = {"": "go.mod", "svc": "svc/go.mod", "svc/a/b": "svc/a/b/go.mod"}
    assert stk._owner("svc/a/b/c/x_test.go", folders) == "svc/a/b"
    assert stk._owner("svc/a/x_test.go", folders) == "svc"
    assert stk._owner("x_test.go", folders) == ""
    assert stk._owner("other/x_test.go", {"svc": "svc/go.mod"}) is None


def test_workspace_matching_is_linear_and_budgeted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the regular-expression translation of this glob backtracked on a long folder name
    assert not _covered("a" * 5_000, ["**a**a**a**a**a**a**a**a**a**a**a**b"])
    monkeypatch.setattr(stk, "MAX_WORKSPACE_WORK", 2_000)
    globs = [f"pkgs/*x{i}?" for i in range(100)]
    files = {"package.json": json.dumps({"name": "root", "workspaces": globs})}
    for i in range(30):
        files[f"pkgs/m{i}/package.json"] = _pkg(dependencies={"zod": "^3.0.0"})
    root = _repo(tmp_path, files)
    found = _run(root, "AR-STK-009")
    notices = [f for f in found if f.severity.value == "info"]
    assert [(f.file, f.message.split(":")[0]) for f in notices] == [
        ("package.json", "package.json")
    ]
    assert "went over the limit of 2,000 units of work" in notices[0].message
    assert len(found) == 31  # every member lacks a lockfile, and the root too


def test_tree_facts_walk_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    depth = sys.getrecursionlimit() + 200  # about 2,400 characters of path: below PATH_MAX
    folder = root
    root.mkdir()
    for _ in range(depth):  # one by one: os.makedirs recurses too
        folder = folder / "d"
        folder.mkdir()
    (folder / "x_test.go").write_text("package x\n", encoding="utf-8")
    try:
        index = SimpleNamespace(cache={}, inventory=SimpleNamespace(root=root))
        facts = tree_facts(cast(RepoIndex, index))
        assert facts.test_files == ("/".join(["d"] * depth) + "/x_test.go",)
        assert facts.complete
    finally:  # bottom up, one by one: shutil.rmtree (pytest's clean-up) recurses too
        (folder / "x_test.go").unlink()
        while folder != root:
            folder.rmdir()
            folder = folder.parent


@settings(derandomize=True, deadline=None, max_examples=300)
@given(
    st.lists(st.sampled_from(["a", "a/b", "ab", "a/b/c", "b", "x/y", ""]), max_size=5),
    st.lists(st.sampled_from(["a", "b", "c", "ab", "x", "y", ""]), min_size=1, max_size=4).map(
        "/".join
    ),
)
def test_profile_module_paths_match_by_prefix_lookup(names: list[str], path: str) -> None:
    assert stk._Under(names).match(path) == (stk._matches(path, names) is not None)
