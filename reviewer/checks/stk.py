"""STK: the declared stack (go.mod, package.json, across modules).

Repository checks over the manifests the engine parsed (``ctx.repo.gomods``,
``ctx.repo.packages``), judged against the profile's stack declaration. Hits name the manifest
(``file=``), the dependency (subject) and its element (``("require", path)``, ``("replace",
path)``, ``("go",)``, ``(section, name)``); the engine finds the line.

Three rules need to know what is in the tree beside the manifests (Go test files, lockfiles,
pnpm-workspace.yaml, ADR files): :func:`tree_facts` walks the checkout once, by name only (no file
is opened, no symbolic link followed, the folders discovery skips are skipped) and caches the
result on the repository index.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reviewer.discover import SKIP_DIRS
from reviewer.model import Checked, Hit, Severity
from reviewer.profile import Profile
from reviewer.registry import Check, RepoContext, Yielded, repo_check
from reviewer.repo import RepoIndex
from reviewer.stack.gomod import (
    GoMod,
    gap_kind,
    go_version_key,
    newest_go,
    replace_points_outside,
)
from reviewer.stack.npm import (
    LOCKFILES,
    NpmDep,
    PackageJson,
    admits,
    major_of_range,
    min_version,
    points_outside,
    ranges_intersect,
    spec_kind,
)

AWS_SDK_V1 = "github.com/aws/aws-sdk-go"
GO_MISSING_DIRECTIVE = "1.16"  # what the go command assumes for a go.mod without a go line
FRONTEND_SECTIONS = ("dependencies", "devDependencies", "peerDependencies")
INSTALL_SECTIONS = ("dependencies", "devDependencies")
# the section whose spec stands for a package.json's version of a dependency, in order
DRIFT_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
MAX_LISTED = 8  # modules listed in one drift message

# What competes with what (AR-STK-003): a found framework and the kind of thing it is.
GO_ROUTER_KIND = "HTTP router"
NPM_STATE_KIND = "state-management library"
_GO_ROUTERS = (
    "github.com/gorilla/mux",
    "github.com/gin-gonic/gin",
    "github.com/labstack/echo",
    "github.com/go-chi/chi",
    "github.com/gofiber/fiber",
)
_NPM_STATE = ("@tanstack/react-query", "redux", "@reduxjs/toolkit", "react-redux", "swr")


# -- the tree beside the manifests ------------------------------------------------------------

MAX_TREE_ENTRIES = 400_000
_TREE_KEY = "stk.tree-facts"
ADR_DIRS = (("docs", "adr"), ("doc", "adr"), ("docs", "architecture"), ("docs", "decisions"))


@dataclass(frozen=True)
class TreeFacts:
    test_files: tuple[str, ...]  # *_test.go, repo-relative, outside testdata/_x/.x folders
    marker_files: frozenset[str]  # lockfiles and pnpm-workspace.yaml, repo-relative
    adr_files: tuple[str, ...]  # files under docs/adr, docs/architecture ... and *.adr.md
    complete: bool  # False when the walk stopped at MAX_TREE_ENTRIES


_MARKERS = frozenset((*LOCKFILES, "pnpm-workspace.yaml"))


def tree_facts(repo: RepoIndex) -> TreeFacts:
    cached = repo.cache.get(_TREE_KEY)
    if isinstance(cached, TreeFacts):
        return cached
    root = os.fspath(repo.inventory.root)
    tests: list[str] = []
    markers: set[str] = set()
    adrs: list[str] = []
    seen = 0
    complete = True
    for current, dirs, files in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(current, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and d != ".git")
        seen += len(dirs) + len(files)
        if seen > MAX_TREE_ENTRIES:
            complete = False
            break
        parts = tuple(rel_dir.split("/")) if rel_dir else ()
        ignored_by_go = any(p == "testdata" or p.startswith(("_", ".")) for p in parts)
        in_adr_dir = any(parts[i : i + 2] == pair for pair in ADR_DIRS for i in range(len(parts)))
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name.endswith("_test.go") and not ignored_by_go and not name.startswith(("_", ".")):
                tests.append(rel)
            if name in _MARKERS:
                markers.add(rel)
            if name.lower().endswith(".adr.md") or (in_adr_dir and not name.startswith(".")):
                adrs.append(rel)
    facts = TreeFacts(tuple(tests), frozenset(markers), tuple(adrs), complete)
    repo.cache[_TREE_KEY] = facts
    return facts


# -- small helpers ----------------------------------------------------------------------------


def _folder(file: str) -> str:
    return posixpath.dirname(file)


def _label(repo: RepoIndex, file: str) -> str:
    """The module a manifest belongs to, as findings name it."""
    return repo.module_of_file.get(file) or _folder(file) or "."


def _subject(mod: GoMod) -> str | None:
    return mod.module.value if mod.module is not None else None


def _alias_target(spec: str) -> str | None:
    """ "npm:@tanstack/react-query@^5" -> "@tanstack/react-query"; None when not an alias."""
    s = spec.strip()
    if not s.lower().startswith("npm:"):
        return None
    rest = s[4:]
    at = rest.find("@", 1)
    return rest if at == -1 else rest[:at]


def _real_name(dep: NpmDep) -> str:
    """The package a dependency installs (an alias installs its target)."""
    return _alias_target(dep.spec) or dep.name


def _declared(profile: Profile, name: str) -> str | None:
    for pkg, spec in profile.node_packages:
        if pkg == name:
            return spec
    return None


def _is_exact(spec: str) -> bool:
    return bool(re.fullmatch(r"\s*=?\s*v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?\s*", spec))


def _major(version_or_range: str) -> int | None:
    if _is_exact(version_or_range):
        return int(re.sub(r"^\s*=?\s*v?", "", version_or_range).split(".")[0])
    return major_of_range(version_or_range)


@lru_cache(maxsize=65536)
def _intersect(a: str, b: str) -> bool | None:
    return ranges_intersect(a, b)  # remembered: drift compares every pair of a package's specs


def _admits_declared(spec: str, declared: str) -> bool | None:
    """Whether a dependency spec admits the declared version (or, when the declaration is a
    range, shares a version with it); None when either is not a judgeable range."""
    if _is_exact(declared):
        return admits(spec, re.sub(r"^\s*=?\s*v?", "", declared).strip())
    return _intersect(spec, declared)


def _in_sections(pkg: PackageJson, sections: Iterable[str]) -> Iterator[NpmDep]:
    wanted = tuple(sections)
    for dep in pkg.deps:
        if dep.section in wanted:
            yield dep


def _span(spec: str, low: str | None) -> str:
    """What a spec admits, in words, for messages."""
    if low is None:
        return "it admits no version at all"
    if _is_exact(spec):
        return f"it pins {low}"
    return f"the lowest version it admits is {low}"


def _listing(entries: list[tuple[str, str]]) -> str:
    shown = [f"{label} {version}" for label, version in entries[:MAX_LISTED]]
    more = f" and {len(entries) - MAX_LISTED} more" if len(entries) > MAX_LISTED else ""
    return ", ".join(shown) + more


# -- AR-STK-001 -------------------------------------------------------------------------------


def _written(mod: GoMod) -> str:
    parts = []
    if mod.go is not None:
        parts.append(f"go {mod.go.value}")
    if mod.toolchain is not None:
        parts.append(f"toolchain {mod.toolchain.value}")
    return ", ".join(parts) or "no go or toolchain line"


def _same_line(have: str, want: str) -> bool:
    """A declared language version without patch (1.24) is met by any 1.24.x release."""
    m = re.fullmatch(r"(\d+)\.(\d+)", want)
    if not m:
        return False
    key = go_version_key(have)
    return len(key) > 2 and (key[1], key[2]) == (int(m.group(1)), int(m.group(2)))


@repo_check("AR-STK-001", manifests_only=True)
def go_version_below_declared(ctx: RepoContext) -> Iterator[Yielded]:
    want = ctx.profile.go_version
    if not want or go_version_key(want) == (0,):
        return
    for file, mod in sorted(ctx.repo.gomods.items()):
        yield Checked(None, file=file)
        best = newest_go(mod)
        written = _written(mod)
        if best is None:
            have = GO_MISSING_DIRECTIVE
            path: tuple[str, ...] = ("module",) if mod.module is not None else ("go",)
            what = f"has no go line (nor a toolchain line), so the go command assumes go {have}"
        else:
            have = best.value
            toolchain = mod.toolchain
            from_toolchain = toolchain is not None and (best.line, best.column) == (
                toolchain.line,
                toolchain.column,
            )
            path = ("toolchain",) if from_toolchain else ("go",)
            if mod.go is not None and toolchain is not None:
                source = "toolchain" if from_toolchain else "go"
                what = (
                    f"declares Go {have} (the newer of go {mod.go.value} and toolchain "
                    f"{toolchain.value}: the {source} line)"
                )
            else:
                what = f"declares Go {have} ({written}, no {'go' if mod.go is None else 'toolchain'} line)"
        if _same_line(have, want):
            continue
        try:
            gap = gap_kind(have, want)
        except ValueError:
            continue
        if gap == "equal":
            continue
        subject = _subject(mod)
        if gap == "newer":
            yield Hit(
                subject,
                path,
                f"{file} {what}, newer than the declared Go {want}: either the declaration is "
                "due for an upgrade decision or this module is ahead of the platform",
                severity=Severity.INFO,
                file=file,
            )
            continue
        fix = f"set `toolchain go{want}` (and raise the go line where the module may require it)"
        if gap == "patch":
            yield Hit(
                subject,
                path,
                f"{file} {what}, a patch level below the declared Go {want}: it misses the "
                f"standard-library and toolchain fixes of the later patch releases; {fix}",
                severity=Severity.LOW,
                file=file,
            )
        else:
            yield Hit(
                subject,
                path,
                f"{file} {what}, a {gap} version below the declared Go {want}; {fix}",
                file=file,
            )


# -- AR-STK-002 -------------------------------------------------------------------------------


@repo_check("AR-STK-002", manifests_only=True)
def aws_sdk_go_v1(ctx: RepoContext) -> Iterator[Yielded]:
    for file, mod in sorted(ctx.repo.gomods.items()):
        yield Checked(None, file=file)
        for req in mod.requires:
            if req.path != AWS_SDK_V1:
                continue
            how = (
                "indirectly (a dependency pulls it in: upgrade or replace that dependency)"
                if req.indirect
                else "directly"
            )
            yield Hit(
                req.path,
                ("require", req.path),
                f"{file} requires {req.path} {req.version} {how}: the AWS SDK for Go v1 reached "
                "end of support on 2025-07-31 and gets no releases, security fixes included; "
                "migrate to github.com/aws/aws-sdk-go-v2",
                file=file,
            )


# -- AR-STK-003 -------------------------------------------------------------------------------


def _matches(path: str, names: Iterable[str]) -> str | None:
    for name in names:
        if path == name or path.startswith(name + "/"):
            return name
    return None


def _declared_go_router(profile: Profile) -> str | None:
    for mod in profile.go_frameworks:
        if _matches(mod, _GO_ROUTERS):
            return mod
    return None


def _declared_state_library(profile: Profile) -> str | None:
    for name, _ in profile.node_packages:
        if name in _NPM_STATE:
            return name
    return None


@repo_check("AR-STK-003", manifests_only=True)
def competing_framework(ctx: RepoContext) -> Iterator[Yielded]:
    profile = ctx.profile
    router = _declared_go_router(profile)
    forbidden_go = tuple(m for m in profile.go_forbidden if m != AWS_SDK_V1)
    for file, mod in sorted(ctx.repo.gomods.items()):
        yield Checked(None, file=file)
        for req in mod.requires:
            if req.indirect or req.path == AWS_SDK_V1:
                continue  # an indirect requirement is not a framework the module uses
            if _matches(req.path, forbidden_go) is None:
                continue
            if router and _matches(req.path, _GO_ROUTERS):
                instead = f"the declared {GO_ROUTER_KIND} is {router}"
            else:
                instead = "the profile lists it among the competing frameworks"
            yield Hit(
                req.path,
                ("require", req.path),
                f"{file} requires {req.path} {req.version}, a framework competing with the "
                f"declared stack ({instead}): two ways of doing one job across modules",
                file=file,
            )
    state = _declared_state_library(profile)
    forbidden_npm = tuple(n for n in profile.node_forbidden if n != "react-query")
    for file, pkg in sorted(ctx.repo.packages.items()):
        yield Checked(None, file=file)
        for dep in pkg.deps:
            name = _real_name(dep)
            if name not in forbidden_npm:
                continue
            if state and name in _NPM_STATE:
                instead = f"the declared {NPM_STATE_KIND} is {state}"
            else:
                instead = "the profile lists it among the competing packages"
            yield Hit(
                dep.name,
                (dep.section, dep.name),
                f"{file} depends on {name} ({dep.spec!r} in {dep.section}), a library competing "
                f"with the declared stack ({instead})",
                file=file,
            )


# -- AR-STK-004 -------------------------------------------------------------------------------


def _outside_declared(
    file: str, dep: NpmDep, want: str, *, newer: str, missed: str
) -> Iterator[Hit]:
    """AR-STK-004/005: the finding on a dependency whose range does not admit the declared
    version `want` (nothing when it does, or when the spec is not a range: a tag, git or file:
    spec is AR-STK-008's). A range whose lowest version is of a later major than `want` is an
    upgrade decision (INFO, message `newer`); any other is a defect (message `missed`). Both
    messages are format strings over {where} (manifest, dependency, spec and section), {want},
    {major} (the range's major) and {span} (what the spec admits, in words)."""
    ok = _admits_declared(dep.spec, want)
    if ok is None or ok:
        return
    low = min_version(dep.spec)
    want_major = _major(want)
    have_major = _major(low) if low else None
    where = f"{file}: {dep.name} {dep.spec!r} in {dep.section}"
    if want_major is not None and have_major is not None and have_major > want_major:
        message = newer.format(where=where, want=want, major=have_major)
        yield Hit(dep.name, (dep.section, dep.name), message, severity=Severity.INFO, file=file)
        return
    message = missed.format(where=where, want=want, span=_span(dep.spec, low))
    yield Hit(dep.name, (dep.section, dep.name), message, file=file)


@repo_check("AR-STK-004", manifests_only=True)
def react_range(ctx: RepoContext) -> Iterator[Yielded]:
    for file, pkg in sorted(ctx.repo.packages.items()):
        yield Checked(None, file=file)
        for dep in _in_sections(pkg, FRONTEND_SECTIONS):
            if dep.name not in ("react", "react-dom") or _real_name(dep) != dep.name:
                continue
            want = _declared(ctx.profile, dep.name)
            if want is None or want.strip() in ("*", ""):
                continue
            yield from _outside_declared(
                file,
                dep,
                want,
                newer="{where} requires React {major}, newer than the declared {want}: an "
                "upgrade decision to record for the platform (and the other modules), not a "
                "defect of this module",
                missed="{where} does not admit the declared React {want} ({span}); use a range "
                "that includes {want}, such as ^{want}",
            )


# -- AR-STK-005 -------------------------------------------------------------------------------


@repo_check("AR-STK-005", manifests_only=True)
def typescript_and_react_query(ctx: RepoContext) -> Iterator[Yielded]:
    want_ts = _declared(ctx.profile, "typescript")
    tanstack = _declared(ctx.profile, "@tanstack/react-query") is not None
    for file, pkg in sorted(ctx.repo.packages.items()):
        yield Checked(None, file=file)
        for dep in pkg.deps:
            real = _real_name(dep)
            if dep.name == "typescript" and real == "typescript" and want_ts:
                yield from _outside_declared(
                    file,
                    dep,
                    want_ts,
                    newer="{where} requires TypeScript {major}, newer than the declared {want}: "
                    "an upgrade decision to record, not a defect",
                    missed="{where} admits no version of the declared TypeScript {want} ({span})",
                )
            elif real == "react-query" and tanstack:
                yield Hit(
                    dep.name,
                    (dep.section, dep.name),
                    f"{file} depends on react-query ({dep.spec!r} in {dep.section}), the legacy "
                    "package name (up to v3, no longer released); the declared stack uses "
                    "@tanstack/react-query, under which the library is published since v4",
                    file=file,
                )


# -- AR-STK-006 -------------------------------------------------------------------------------


def _go_drift(repo: RepoIndex) -> Iterator[Yielded]:
    uses: dict[str, list[tuple[str, str, bool, str]]] = {}  # path -> (file, version, direct, note)
    for file, mod in sorted(repo.gomods.items()):
        replaced = {r.old_path: r for r in mod.replaces}
        for req in mod.requires:
            rep = replaced.get(req.path)
            note = ""
            if rep is not None:
                target = rep.new_path + (f" {rep.new_version}" if rep.new_version else "")
                note = f" (replaced by {target})"
            uses.setdefault(req.path, []).append((file, req.version, not req.indirect, note))
    for path, entries in sorted(uses.items()):
        if len(entries) < 2 or not any(direct for _, _, direct, _ in entries):
            continue  # only-indirect requirements are the module graph's business
        if len({version for _, version, _, _ in entries}) < 2:
            continue
        listing = _listing([(_label(repo, f), f"{v}{note}") for f, v, _, note in entries])
        for file, version, _, _ in entries:
            yield Hit(
                path,
                ("require", path),
                f"{path} is required at {version} here but at different versions across "
                f"modules: {listing}. Modules of one platform should agree on one version "
                "(a shared schema module above all)",
                file=file,
            )


def _drift_spec(pkg: PackageJson, name: str) -> NpmDep | None:
    found = {d.section: d for d in pkg.deps if d.name == name}
    for section in DRIFT_SECTIONS:
        dep = found.get(section)
        if dep is not None:
            return dep
    return None


def _npm_drift(repo: RepoIndex) -> Iterator[Yielded]:
    names: dict[str, list[tuple[str, NpmDep]]] = {}
    for file, pkg in sorted(repo.packages.items()):
        for name in dict.fromkeys(d.name for d in pkg.deps):
            dep = _drift_spec(pkg, name)
            if dep is None or spec_kind(dep.spec) not in ("range", "alias"):
                continue
            if _real_name(dep) != name:
                continue
            names.setdefault(name, []).append((file, dep))
    for name, entries in sorted(names.items()):
        if len(entries) < 2:
            continue
        specs = sorted({dep.spec.strip() for _, dep in entries})
        if len(specs) < 2:
            continue
        clash: set[str] = set()
        for i, a in enumerate(specs):
            for b in specs[i + 1 :]:
                if _intersect(a, b) is False:
                    clash.update((a, b))
        if not clash:
            continue
        listing = _listing([(_label(repo, f), dep.spec) for f, dep in entries])
        against_of: dict[str, str] = {}  # the same spec clashes with the same entries
        for file, dep in entries:
            mine = dep.spec.strip()
            if mine not in clash:
                continue
            against = against_of.get(mine)
            if against is None:
                against = against_of[mine] = _listing(
                    [
                        (_label(repo, f), other.spec)
                        for f, other in entries
                        if _intersect(mine, other.spec.strip()) is False
                    ]
                )
            yield Hit(
                name,
                (dep.section, name),
                f"{name} is declared as {dep.spec!r} here, and no version satisfies both this "
                f"and {against}; across modules: {listing}",
                file=file,
            )


@repo_check("AR-STK-006", manifests_only=True)
def cross_module_drift(ctx: RepoContext) -> Iterator[Yielded]:
    for file in sorted((*ctx.repo.gomods, *ctx.repo.packages)):
        yield Checked(None, file=file)
    yield from _go_drift(ctx.repo)
    yield from _npm_drift(ctx.repo)


# -- AR-STK-007 -------------------------------------------------------------------------------


def _owner(path: str, folders: Iterable[str]) -> str | None:
    """The nearest folder (of ``folders``) enclosing a file."""
    best: str | None = None
    for folder in folders:
        inside = folder == "" or path.startswith(folder + "/")
        if inside and (best is None or len(folder) > len(best)):
            best = folder
    return best


def _workspace_roots(repo: RepoIndex, file: str) -> list[str]:
    """package.json files of the workspace roots that include the package of ``file``."""
    folder = _folder(file)
    out: list[str] = []
    roots: list[tuple[str, str, Any]] | None = repo.cache.get("stk.workspace_roots")
    if roots is None:  # the few manifests that declare workspaces, once per repository
        roots = [(o, _folder(o), p.workspaces) for o, p in repo.packages.items() if p.workspaces]
        repo.cache["stk.workspace_roots"] = roots
    for other, root, workspaces in roots:
        if other == file:
            continue
        if root and not folder.startswith(root + "/"):
            continue
        rel = folder[len(root) + 1 :] if root else folder
        if _covered(rel, workspaces):
            out.append(other)
    return sorted(out, key=len, reverse=True)


def _glob(pattern: str) -> re.Pattern[str]:
    """A workspaces glob: ``*`` and ``?`` stay within a folder, ``**`` spans folders."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _covered(rel: str, patterns: Iterable[str]) -> bool:
    """Whether a member folder (relative to the workspace root) matches its workspaces."""
    yes = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = (raw[1:] if negate else raw).strip().rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if pattern and _glob(pattern).match(rel):
            yes = not negate
    return yes


def _indirect_only(mod: GoMod, wanted: Iterable[str]) -> bool:
    return any(r.indirect and _matches(r.path, wanted) for r in mod.requires)


# Packages that bring a declared test framework with them: Create React App's react-scripts
# runs Jest (`react-scripts test`), and jest-cli / @jest/core are Jest itself.
CARRIERS: dict[str, tuple[str, ...]] = {"jest": ("react-scripts", "jest-cli", "@jest/core")}


def _has_test_framework(deps: Iterable[NpmDep], wanted: Iterable[str]) -> bool:
    names = set(wanted)
    for name in list(names):
        names.update(CARRIERS.get(name, ()))
    return any(_real_name(d) in names for d in deps if d.section in INSTALL_SECTIONS)


@repo_check("AR-STK-007")
def declared_test_framework(ctx: RepoContext) -> Iterator[Yielded]:
    profile = ctx.profile
    go_wanted = profile.go_test_frameworks
    if go_wanted and ctx.repo.gomods:
        facts = tree_facts(ctx.repo)
        folders = {_folder(f): f for f in ctx.repo.gomods}
        tests: dict[str, list[str]] = {}
        for test in facts.test_files:
            owner = _owner(test, folders)
            if owner is not None:
                tests.setdefault(folders[owner], []).append(test)
        for file, mod in sorted(ctx.repo.gomods.items()):
            yield Checked(None, file=file)
            found = tests.get(file)
            if not found:
                continue  # a module without tests is not judged
            if any(not r.indirect and _matches(r.path, go_wanted) for r in mod.requires):
                continue
            base = _folder(file)
            shown = ", ".join(t[len(base) + 1 :] if base else t for t in found[:3])
            more = f" and {len(found) - 3} more" if len(found) > 3 else ""
            yield Hit(
                _subject(mod),
                ("module",),
                f"{file}: the module has {len(found)} Go test file(s) ({shown}{more}) but does "
                f"not require {' or '.join(go_wanted)}, the declared test framework"
                + (" (only indirectly)" if _indirect_only(mod, go_wanted) else ""),
                file=file,
            )
    node_wanted = profile.node_test_frameworks
    if not node_wanted:
        return
    for file, pkg in sorted(ctx.repo.packages.items()):
        react = next((d for d in _in_sections(pkg, FRONTEND_SECTIONS) if d.name == "react"), None)
        if react is None:
            continue  # not a front end
        yield Checked(None, file=file)
        if _has_test_framework(pkg.deps, node_wanted):
            continue
        roots = _workspace_roots(ctx.repo, file)
        if any(_has_test_framework(ctx.repo.packages[r].deps, node_wanted) for r in roots):
            continue
        yield Hit(
            pkg.name or react.name,
            (react.section, "react"),
            f"{file} is a React front end but neither its dependencies nor devDependencies "
            f"name {' or '.join(node_wanted)}, the declared test frameworks",
            file=file,
        )


# -- AR-STK-008 -------------------------------------------------------------------------------


@repo_check("AR-STK-008", manifests_only=True)
def dependency_outside_repository(ctx: RepoContext) -> Iterator[Yielded]:
    for file, mod in sorted(ctx.repo.gomods.items()):
        yield Checked(None, file=file)
        folder = _folder(file)
        for rep in mod.replaces:
            if not replace_points_outside(rep, folder):
                continue
            yield Hit(
                rep.old_path,
                ("replace", rep.old_path),
                f"{file} replaces {rep.old_path} with {rep.new_path}, a directory outside the "
                "repository: a build anywhere but the author's machine (CI included) gets "
                "another copy or fails; publish the change and require a version, or keep the "
                "module inside the repository",
                file=file,
            )
    for file, pkg in sorted(ctx.repo.packages.items()):
        yield Checked(None, file=file)
        folder = _folder(file)
        for dep in pkg.deps:
            kind = spec_kind(dep.spec)
            if kind in ("git", "github"):
                pinned = re.search(r"#[0-9a-f]{40}$", dep.spec.strip(), re.IGNORECASE)
                why = (
                    "pinned to a commit, but fetched outside the registry, so npm audit "
                    "advisories and registry integrity checks do not cover it"
                    if pinned
                    else "following a branch or tag that can move, outside the registry's "
                    "advisories and integrity checks"
                )
                yield Hit(
                    dep.name,
                    (dep.section, dep.name),
                    f"{file}: {dep.name} comes from a git repository ({dep.spec!r} in "
                    f"{dep.section}), {why}; publish it to the registry and depend on a version",
                    file=file,
                )
            elif points_outside(dep.spec, folder):
                yield Hit(
                    dep.name,
                    (dep.section, dep.name),
                    f"{file}: {dep.name} is a local path outside the repository ({dep.spec!r} in "
                    f"{dep.section}): installs on any other machine fail or pick up another copy",
                    file=file,
                )


# -- AR-STK-009 -------------------------------------------------------------------------------


def _lockfile_in(folder: str, markers: frozenset[str]) -> str | None:
    for name in LOCKFILES:
        candidate = f"{folder}/{name}" if folder else name
        if candidate in markers:
            return candidate
    return None


def _pnpm_root(folder: str, markers: frozenset[str]) -> str | None:
    current = folder
    while True:
        parent = _folder(current) if current else None
        if parent is None:
            return None
        marker = f"{parent}/pnpm-workspace.yaml" if parent else "pnpm-workspace.yaml"
        if marker in markers:
            return parent
        current = parent


@repo_check("AR-STK-009")
def package_json_without_lockfile(ctx: RepoContext) -> Iterator[Yielded]:
    if not ctx.repo.packages:
        return
    facts = tree_facts(ctx.repo)
    markers = facts.marker_files
    for file, pkg in sorted(ctx.repo.packages.items()):
        yield Checked(None, file=file)
        if not pkg.deps:
            continue  # nothing to lock
        folder = _folder(file)
        if _lockfile_in(folder, markers):
            continue
        roots = [_folder(r) for r in _workspace_roots(ctx.repo, file)]
        pnpm = _pnpm_root(folder, markers)
        if pnpm is not None:
            roots.append(pnpm)
        if any(_lockfile_in(root, markers) for root in roots):
            continue
        where = f" or at its workspace root ({', '.join(r or '.' for r in roots)})" if roots else ""
        yield Hit(
            pkg.name,
            (),
            f"{file} has no lockfile beside it{where}: installs resolve its "
            f"{len(pkg.deps)} dependency range(s) afresh each time, so builds are not "
            "reproducible and a compromised release can slip in; commit the package manager's "
            "lockfile (package-lock.json, yarn.lock, pnpm-lock.yaml or bun.lock)",
            file=file,
        )


CHECKS: tuple[Check, ...] = (
    go_version_below_declared,
    aws_sdk_go_v1,
    competing_framework,
    react_range,
    typescript_and_react_query,
    cross_module_drift,
    declared_test_framework,
    dependency_outside_repository,
    package_json_without_lockfile,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
