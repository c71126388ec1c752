"""The declared-stack rules beyond their fixtures: the precision statements of the issue, the
tree walk, and profile-driven behaviour."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.checks.mod import CHECKS as MOD_CHECKS
from reviewer.checks.stk import CHECKS, _covered, tree_facts
from reviewer.engine import ScanOptions, scan
from reviewer.model import Finding
from reviewer.profile import DEFAULT, Profile

BY_ID = {c.rule_id: c for c in (*CHECKS, *MOD_CHECKS)}


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    root.mkdir(exist_ok=True)
    return root


def _run(root: Path, rule_id: str, profile: Profile = DEFAULT) -> list[Finding]:
    report = scan(root, ScanOptions(profile=profile, checks=(BY_ID[rule_id],), strict=True))
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
    found = _run(root, "AR-STK-001", replace(DEFAULT, go_version=declared))
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
        DEFAULT,
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
    wide = replace(DEFAULT, node_packages=(("react", "18.x"),))
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


def test_drift_one_finding_per_module_listing_every_version(tmp_path: Path) -> None:
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
    assert [(f.file, f.line, f.resource) for f in found] == [
        ("a/go.mod", 6, "github.com/acme/schema"),
        ("b/go.mod", 6, "github.com/acme/schema"),
        ("c/go.mod", 6, "github.com/acme/schema"),
    ]
    assert all("a v0.4.2, b v0.3.1, c v0.4.2" in f.message for f in found)


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
    assert {(f.file, f.resource) for f in found} == {("a/package.json", "zod"), ("b/package.json", "zod")}


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
    from reviewer.discover import discover
    from reviewer.repo import RepoIndex

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
        {"package.json": _pkg(dependencies={"react": "^18.3.1"}, devDependencies={"vitest": "^2.0.0"})},
    )
    assert _run(root, "AR-STK-007")
    assert not _run(root, "AR-STK-007", replace(DEFAULT, node_test_frameworks=("vitest",)))


def test_no_lockfile_finding_points_at_the_manifest(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"web/package.json": _pkg(dependencies={"react": "^18.3.1"})})
    found = _run(root, "AR-STK-009")
    assert [(f.file, f.line, f.module, f.resource) for f in found] == [("web/package.json", 1, "web", "p")]


def test_mod_002_counts_records_anywhere_and_anchors_at_gitmodules(tmp_path: Path) -> None:
    root = _repo(tmp_path, {".gitmodules": "", "svc/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\n"})
    found = _run(root, "AR-MOD-002")
    assert [(f.file, f.severity.value, f.confidence.value) for f in found] == [(".gitmodules", "info", "medium")]
    (root / "svc" / "doc" / "adr").mkdir(parents=True)
    (root / "svc" / "doc" / "adr" / "0001-x.md").write_text("# x\n", encoding="utf-8")
    assert not _run(root, "AR-MOD-002")
