"""STK: the declared stack (go.mod, package.json, across modules).

Repository checks over the manifests the engine parsed (``ctx.repo.gomods``,
``ctx.repo.packages``), judged against the profile's stack declaration. Hits name the manifest
(``file=``), the dependency (subject) and its element (``("require", path)``, ``("replace",
path)``, ``("go",)``, ``(section, name)``); the engine finds the line.

Three rules need to know what is in the tree beside the manifests (Go test files, lockfiles,
pnpm-workspace.yaml, ADR files): :func:`tree_facts` walks the checkout once, by name only (no file
is opened, no symbolic link followed, the folders discovery skips are skipped) and caches the
result on the repository index.

Work is linear or n log n in the dependencies and manifests, whatever the repository holds: each
manifest's dependencies are read once; AR-STK-006 compares the version ranges of one package by
sorting them when each admits one run of releases (`drift_clashes`), and pairwise only otherwise,
under a cap of `MAX_DRIFT_PAIRS` comparisons per scan (a package it cannot compare gets an INFO
finding saying so); the folders that own a file are found by walking up its path, not by trying
every module; workspace globs are matched by :func:`reviewer.discover.gitignore.workspace_glob` (linear in
pattern and path) once per member and root, within `MAX_WORKSPACE_WORK` units of work (the rest
reported by an INFO finding).
"""

from __future__ import annotations

import bisect
import os
import posixpath
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from reviewer.checks.lifecycle import lifecycle
from reviewer.checks.registry import Check, RepoContext, Yielded, repo_check
from reviewer.core.types import Checked, Hit, Related, Severity
from reviewer.discover.gitignore import Budget, Matcher, OverBudget, workspace_glob
from reviewer.discover.inventory import SKIP_DIRS
from reviewer.model.manifests.gomod import (
    GoMod,
    gap_kind,
    go_version_key,
    newest_go,
    replace_points_outside,
)
from reviewer.model.manifests.npm import (
    LOCKFILES,
    NpmDep,
    PackageJson,
    admits,
    major_of_range,
    min_version,
    points_outside,
    ranges_intersect,
    spans,
    spans_meet,
    spec_kind,
)
from reviewer.model.repo import RepoIndex
from reviewer.profile import Profile

AWS_SDK_V1 = "github.com/aws/aws-sdk-go"
GO_MISSING_DIRECTIVE = "1.16"  # what the go command assumes for a go.mod without a go line
FRONTEND_SECTIONS = ("dependencies", "devDependencies", "peerDependencies")
INSTALL_SECTIONS = ("dependencies", "devDependencies")
# the section whose spec stands for a package.json's version of a dependency, in order
DRIFT_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
MAX_LISTED = 8  # modules listed in one drift message
MAX_DRIFT_PAIRS = 250_000  # pairwise range comparisons AR-STK-006 makes in one run
SMALL_DRIFT_GROUP = 8  # distinct ranges of one package compared pair by pair at no charge
MAX_WORKSPACE_WORK = 2_000_000  # units of workspace-glob matching per repository (AR-STK-007/9)

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
    # per folder: (Go ignores it, it is inside an ADR folder), from its parent's (the walk
    # reaches a parent first): a cost per folder, not per level of its depth
    flags: dict[str, tuple[bool, bool]] = {"": (False, False)}
    for rel_dir, dirs, files in _walk(root):
        seen += len(dirs) + len(files)
        if seen > MAX_TREE_ENTRIES:
            complete = False
            break
        ignored_by_go, in_adr_dir = flags[rel_dir]
        prefix = rel_dir + "/" if rel_dir else ""
        last = rel_dir.rpartition("/")[2]
        for d in dirs:
            flags[prefix + d] = (
                ignored_by_go or d == "testdata" or d.startswith(("_", ".")),
                in_adr_dir or (last, d) in ADR_DIRS,
            )
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


def _walk(root: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk(root) top-down without following links, as (folder relative to the root, its
    sub-folders to enter, sorted, without the ones discovery skips; its other entries): with an
    explicit stack, so a tree deeper than Python's recursion limit is walked too. A folder that
    cannot be listed is passed over, as os.walk does. The caller stops it (MAX_TREE_ENTRIES)."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        links: list[str] = []
        try:
            with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as it:
                for entry in it:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if not is_dir:
                        files.append(entry.name)
                    elif entry.is_symlink():
                        links.append(entry.name)  # listed, never entered
                    else:
                        dirs.append(entry.name)
        except OSError:
            continue
        keep = sorted(d for d in dirs if d not in SKIP_DIRS and d != ".git")
        shown = sorted(keep + [d for d in links if d not in SKIP_DIRS and d != ".git"])
        yield rel_dir, shown, files
        prefix = rel_dir + "/" if rel_dir else ""
        stack.extend(prefix + d for d in reversed(keep))


# -- small helpers ----------------------------------------------------------------------------


def _folder(file: str) -> str:
    return posixpath.dirname(file)


def _label(repo: RepoIndex, file: str) -> str:
    """The module a manifest belongs to, as findings name it."""
    return repo.module_of_file.get(file) or _folder(file) or "."


def _profile(ctx: RepoContext, file: str) -> Profile:
    """The profile the module of a manifest answers to (its own declaration, else the root's)."""
    return ctx.profile_for(_label(ctx.repo, file))


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
    return ranges_intersect(a, b)  # remembered: many manifests repeat one spec


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


def _listing(entries: list[tuple[str, str]], total: int | None = None) -> str:
    """The first MAX_LISTED (label, version) pairs, and how many more of ``total`` (default:
    all of ``entries``) there are."""
    count = len(entries) if total is None else total
    shown = [f"{label} {version}" for label, version in entries[:MAX_LISTED]]
    more = f" and {count - MAX_LISTED} more" if count > MAX_LISTED else ""
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
    for file, mod in sorted(ctx.repo.gomods.items()):
        want = _profile(ctx, file).go_version
        if not want or go_version_key(want) == (0,):
            continue  # the module declares no Go version: not judged
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
                file=file,
                variant="newer",
            )
            continue
        fix = f"set `toolchain go{want}` (and raise the go line where the module may require it)"
        if gap == "patch":
            yield Hit(
                subject,
                path,
                f"{file} {what}, a patch level below the declared Go {want}: it misses the "
                f"standard-library and toolchain fixes of the later patch releases; {fix}",
                file=file,
                variant="patch",
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
                "indirectly (a dependency pulls it in, and the binary links it only if a "
                "package it imports uses it: upgrade or replace that dependency)"
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
                variant="indirect" if req.indirect else None,
            )


# -- AR-STK-003 -------------------------------------------------------------------------------


def _matches(path: str, names: Iterable[str]) -> str | None:
    for name in names:
        if path == name or path.startswith(name + "/"):
            return name
    return None


class _Under:
    """Module paths from the profile, matched as `_matches` does (the path itself, or a path
    below it) by looking up only the prefixes of a path whose length one of them has: a cost
    per path of the distinct lengths, not of the list."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self.lengths = sorted({len(n) for n in self.names})

    def __bool__(self) -> bool:
        return bool(self.names)

    def match(self, path: str) -> bool:
        for length in self.lengths:
            if length > len(path):
                break
            if (length == len(path) or path[length] == "/") and path[:length] in self.names:
                return True
        return False


def _either(names: Sequence[str]) -> str:
    """Names from the profile for a message: "a or b", the first MAX_LISTED of a long list."""
    shown = " or ".join(names[:MAX_LISTED])
    return shown + (f" (or {len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else "")


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


_FORBIDDEN_GO: dict[tuple[str, ...], _Under] = {}


def _forbidden_go(profile: Profile) -> _Under:
    """The profile's competing Go modules, matched by prefix (built once per list)."""
    key = profile.go_forbidden
    found = _FORBIDDEN_GO.get(key)
    if found is None:
        if len(_FORBIDDEN_GO) > 64:
            _FORBIDDEN_GO.clear()
        found = _FORBIDDEN_GO[key] = _Under(m for m in key if m != AWS_SDK_V1)
    return found


@repo_check("AR-STK-003", manifests_only=True)
def competing_framework(ctx: RepoContext) -> Iterator[Yielded]:
    """Each half judges only where its list is declared: the Go half under
    stack.go.forbidden_modules, the npm half under stack.node.forbidden_packages."""
    for file, mod in sorted(ctx.repo.gomods.items()):
        profile = _profile(ctx, file)
        if not profile.declares("stack.go.forbidden_modules"):
            continue
        router = _declared_go_router(profile)
        forbidden_go = _forbidden_go(profile)
        yield Checked(None, file=file)
        for req in mod.requires:
            if req.indirect or req.path == AWS_SDK_V1:
                continue  # an indirect requirement is not a framework the module uses
            if not forbidden_go.match(req.path):
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
    for file, pkg in sorted(ctx.repo.packages.items()):
        profile = _profile(ctx, file)
        if not profile.declares("stack.node.forbidden_packages"):
            continue
        state = _declared_state_library(profile)
        forbidden_npm = frozenset(n for n in profile.node_forbidden if n != "react-query")
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
        yield Hit(dep.name, (dep.section, dep.name), message, file=file, variant="newer-major")
        return
    message = missed.format(where=where, want=want, span=_span(dep.spec, low))
    yield Hit(dep.name, (dep.section, dep.name), message, file=file)


@repo_check("AR-STK-004", manifests_only=True)
def react_range(ctx: RepoContext) -> Iterator[Yielded]:
    for file, pkg in sorted(ctx.repo.packages.items()):
        profile = _profile(ctx, file)
        declared = {name: _declared(profile, name) for name in ("react", "react-dom")}
        if not any(declared.values()):
            continue  # the module declares no React version: not judged
        yield Checked(None, file=file)
        for dep in _in_sections(pkg, FRONTEND_SECTIONS):
            if dep.name not in ("react", "react-dom") or _real_name(dep) != dep.name:
                continue
            want = declared[dep.name]
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
    for file, pkg in sorted(ctx.repo.packages.items()):
        profile = _profile(ctx, file)
        want_ts = _declared(profile, "typescript")
        tanstack = _declared(profile, "@tanstack/react-query") is not None
        if not want_ts and not tanstack:
            continue  # the module declares neither: not judged
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


def _own_go_modules(repo: RepoIndex) -> frozenset[str]:
    """The module paths the repository's own go.mod files declare."""
    return frozenset(m.module.value for m in repo.gomods.values() if m.module is not None)


def _go_drift(repo: RepoIndex) -> Iterator[Yielded]:
    """One finding per module path required at different versions: at the first go.mod that
    requires it, every other one a related location."""
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
    own = _own_go_modules(repo)
    for path, entries in sorted(uses.items()):
        if len(entries) < 2 or not any(direct for _, _, direct, _ in entries):
            continue  # only-indirect requirements are the module graph's business
        versions = {version for _, version, _, _ in entries}
        if len(versions) < 2:
            continue
        shown = [(_label(repo, f), f"{v}{note}") for f, v, _, note in entries]
        first = entries[0][0]
        ours = path in own
        consequence = (
            "it is this repository's own module, so the modules disagree on its contract"
            if ours
            else "a fix or a breaking change reaches some modules and not the others"
        )
        yield Hit(
            path,
            ("require", path),
            f"{path} is required at {len(versions)} different versions across "
            f"{len(entries)} modules: {_listing(shown)}; {consequence}. Align the modules on "
            "one version",
            file=first,
            severity=Severity.MEDIUM if ours else None,
            related=tuple(
                Related(path, ("require", path), f"{label} requires {version}", file=f)
                for (f, _, _, _), (label, version) in zip(entries[1:], shown[1:], strict=True)
            ),
        )


_DRIFT_RANK = {section: rank for rank, section in enumerate(DRIFT_SECTIONS)}


def _drift_specs(pkg: PackageJson) -> Iterator[NpmDep]:
    """Each dependency name's entry in the first of DRIFT_SECTIONS that names it, in one pass
    over the manifest's dependencies."""
    chosen: dict[str, NpmDep] = {}
    for dep in pkg.deps:
        rank = _DRIFT_RANK.get(dep.section)
        if rank is None:
            continue
        have = chosen.get(dep.name)
        if have is None or rank < _DRIFT_RANK[have.section]:
            chosen[dep.name] = dep
    return iter(chosen.values())


@dataclass(frozen=True)
class Clash:
    """The entries one spec shares no version with: the first MAX_LISTED of them (indexes into
    the list given to `drift_clashes`, ascending) and how many there are."""

    first: tuple[int, ...]
    total: int


def _first(*groups: Sequence[int]) -> tuple[int, ...]:
    """The MAX_LISTED smallest indexes of ascending ``groups``."""
    return tuple(sorted(i for group in groups for i in group[:MAX_LISTED])[:MAX_LISTED])


def drift_clashes(specs: Sequence[str], allowance: list[int]) -> dict[str, Clash] | None:
    """For the specs (stripped) of one package across manifests, one per entry: each distinct
    spec that shares no version with another distinct one, and the entries whose spec shares
    none with it (its own when it admits nothing). Specs that are not ranges never clash.

    Up to SMALL_DRIFT_GROUP distinct specs are compared pair by pair (a bounded cost per
    package). Beyond that, when every spec admits one run of releases (or nothing), they are
    sorted by where the run starts and where it ends: the specs a run shares nothing with are
    those starting at or above its end and those ending at or below its start, a suffix and a
    prefix (found by bisection). Otherwise each pair of distinct specs is compared, which costs
    ``allowance[0]`` (decremented; None, and nothing compared, when the pairs would exceed it)."""
    if len(specs) == 2:  # the common case, two manifests: no tables
        a, b = specs
        sa, sb = spans(a), spans(b)
        if a == b or sa is None or sb is None or spans_meet(sa, sb):
            return {}
        return {
            a: Clash((0, 1), 2) if not sa else Clash((1,), 1),
            b: Clash((0, 1), 2) if not sb else Clash((0,), 1),
        }
    by_spec: dict[str, list[int]] = {}
    for index, spec in enumerate(specs):
        by_spec.setdefault(spec, []).append(index)
    shapes = {spec: found for spec in by_spec if (found := spans(spec)) is not None}
    if len(shapes) < 2:
        return {}
    empties = [spec for spec, found in shapes.items() if not found]
    runs = [spec for spec, found in shapes.items() if found]
    out: dict[str, Clash] = {}
    small = len(shapes) <= SMALL_DRIFT_GROUP
    if not small and all(len(shapes[s]) == 1 and shapes[s][0].channel is None for s in runs):
        empty_first = _first(*(by_spec[s] for s in empties))
        empty_total = sum(len(by_spec[s]) for s in empties)
        by_start = sorted(runs, key=lambda s: shapes[s][0].start)
        starts = [shapes[s][0].start for s in by_start]
        by_end = sorted(runs, key=lambda s: shapes[s][0].end)
        ends = [shapes[s][0].end for s in by_end]
        n = len(runs)
        after_first: list[tuple[int, ...]] = [()] * (n + 1)  # entries of by_start[k:]
        after_total = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            mine = by_spec[by_start[k]]
            after_first[k] = _first(after_first[k + 1], mine)
            after_total[k] = after_total[k + 1] + len(mine)
        before_first: list[tuple[int, ...]] = [()] * (n + 1)  # entries of by_end[:k]
        before_total = [0] * (n + 1)
        for k in range(n):
            mine = by_spec[by_end[k]]
            before_first[k + 1] = _first(before_first[k], mine)
            before_total[k + 1] = before_total[k] + len(mine)
        for spec in runs:
            run = shapes[spec][0]
            above = bisect.bisect_left(starts, run.end)  # runs starting at or above my end
            below = bisect.bisect_right(ends, run.start)  # runs ending at or below my start
            total = after_total[above] + before_total[below] + empty_total
            if total:
                first = _first(after_first[above], before_first[below], empty_first)
                out[spec] = Clash(first, total)
    else:
        ordered = sorted(shapes)
        pairs = len(ordered) * (len(ordered) - 1) // 2
        if not small:
            if pairs > allowance[0]:
                return None
            allowance[0] -= pairs
        partners: dict[str, list[str]] = {spec: [] for spec in ordered}
        for i, a in enumerate(ordered):
            spans_a = shapes[a]
            for b in ordered[i + 1 :]:
                if not spans_meet(spans_a, shapes[b]):
                    partners[a].append(b)
                    partners[b].append(a)
        for spec, others in partners.items():
            if others:
                group = [*others, spec] if not shapes[spec] else others
                first = _first(*(by_spec[o] for o in group))
                out[spec] = Clash(first, sum(len(by_spec[o]) for o in group))
    if empties:  # admits nothing: shares no version with any entry that is a range
        judged = [i for spec in shapes for i in by_spec[spec]]
        whole = Clash(tuple(sorted(judged)[:MAX_LISTED]), len(judged))
        for spec in empties:
            out[spec] = whole
    return out


RUNTIME_SECTIONS = ("dependencies", "optionalDependencies", "peerDependencies")


def _some_of(part: int, whole: int) -> str:
    """ "the ranges of 2 of the 5 modules" / "the ranges of the 2 modules"."""
    return (
        f"the ranges of the {whole} modules"
        if part == whole
        else (f"the ranges of {part} of the {whole} modules")
    )


def _clashing(specs: Sequence[str], allowance: list[int]) -> set[int] | None:
    """The indexes of the specs that share no version with another one (None: too many to
    compare within the allowance)."""
    clashes = drift_clashes(specs, allowance)
    if clashes is None:
        return None
    return {i for i, spec in enumerate(specs) if spec in clashes}


def _npm_drift(repo: RepoIndex) -> Iterator[Yielded]:
    """One finding per package whose ranges admit no common version: at the first manifest
    that clashes, every other manifest naming it a related location. A clash among runtime
    dependencies is a defect; one that only devDependencies take part in is build and test
    tooling (variant dev-dependencies)."""
    named: dict[str, list[tuple[str, NpmDep]]] = {}
    own: set[str] = set()
    for file, pkg in sorted(repo.packages.items()):
        if pkg.name:
            own.add(pkg.name)
        for dep in _drift_specs(pkg):
            named.setdefault(dep.name, []).append((file, dep))
    allowance = [MAX_DRIFT_PAIRS]
    labels: dict[str, str] = {}
    for name, found in sorted(named.items()):
        if len(found) < 2:
            continue  # one manifest names it: nothing to classify or compare
        entries = [
            (file, dep)
            for file, dep in found
            if spec_kind(dep.spec) in ("range", "alias") and _real_name(dep) == name
        ]
        if len(entries) < 2:
            continue
        stripped = [dep.spec.strip() for _, dep in entries]
        distinct = len(set(stripped))
        if distinct < 2:
            continue
        clashing = _clashing(stripped, allowance)
        if clashing is None:
            file, dep = entries[0]
            yield Hit(
                name,
                (dep.section, name),
                f"{name} is declared with {distinct:,} different version ranges across "
                f"{len(entries):,} manifests, more than AR-STK-006 compares pair by pair (at "
                f"most {MAX_DRIFT_PAIRS:,} comparisons per scan): whether they share a "
                "version was not checked",
                severity=Severity.INFO,
                file=file,
                variant="not-compared",
            )
            continue
        if not clashing:
            continue
        for file, _ in entries:
            if file not in labels:
                labels[file] = _label(repo, file)
        runtime = [k for k, (_, dep) in enumerate(entries) if dep.section in RUNTIME_SECTIONS]
        runtime_clash = len(runtime) >= 2 and bool(
            _clashing([stripped[k] for k in runtime], allowance)
        )
        primary = min(clashing)
        file, dep = entries[primary]
        shown = [(labels[f], d.spec) for f, d in entries]
        disagree = _listing([shown[k] for k in sorted(clashing)], len(clashing))
        if runtime_clash:
            ours = name in own
            consequence = (
                "it is this repository's own package, so the modules disagree on its contract"
                if ours
                else "the modules install different releases of it, so a fix or a breaking "
                "change reaches some of them and not the others"
            )
            variant = None
            severity = Severity.MEDIUM if ours else None
        else:
            consequence = (
                "only devDependencies disagree: build and test tooling that behaves "
                "differently per module, with no effect on what the modules run"
            )
            variant = "dev-dependencies"
            severity = None
        others = len(found) - len(entries)
        besides = (
            f"; {others} more {'module names' if others == 1 else 'modules name'} it by a "
            "tag, path or URL instead of a range"
            if others
            else ""
        )
        yield Hit(
            name,
            (dep.section, name),
            f"{name}: {_some_of(len(clashing), len(entries))} that declare it with a version "
            f"range admit no common version ({disagree}){besides}; {consequence}. Align them "
            "on one range",
            file=file,
            severity=severity,
            variant=variant,
            related=tuple(
                Related(name, (d.section, name), f"{labels[f]} {d.spec!r} in {d.section}", file=f)
                for k, (f, d) in enumerate(entries)
                if k != primary
            ),
        )


@repo_check("AR-STK-006", manifests_only=True)
def cross_module_drift(ctx: RepoContext) -> Iterator[Yielded]:
    for file in sorted((*ctx.repo.gomods, *ctx.repo.packages)):
        yield Checked(None, file=file)
    yield from _go_drift(ctx.repo)
    yield from _npm_drift(ctx.repo)


# -- AR-STK-007 -------------------------------------------------------------------------------


def _owner(path: str, folders: Collection[str]) -> str | None:
    """The nearest folder (of ``folders``, "" for the root) enclosing a file: its folders
    looked up from the nearest up, so the cost is the path's depth, not the folder count."""
    folder = _folder(path)
    while True:
        if folder in folders:
            return folder
        if not folder:
            return None
        folder = _folder(folder)


_Globs = tuple[tuple[bool, str | None, Matcher | None], ...]  # negated, literal, glob


def _compile_workspaces(patterns: Iterable[str]) -> _Globs:
    """A manifest's workspaces patterns, normalised ("./" and a trailing "/" dropped), each
    a literal folder or a linear-time glob."""
    out: list[tuple[bool, str | None, Matcher | None]] = []
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = (raw[1:] if negate else raw).strip().rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if not pattern:
            continue
        if "*" in pattern or "?" in pattern:
            out.append((negate, None, workspace_glob(pattern)))
        else:
            out.append((negate, pattern, None))
    return tuple(out)


def _covered_by(rel: str, globs: _Globs, budget: Budget | None) -> bool:
    """Whether a member folder (relative to the workspace root) matches compiled workspaces:
    the last pattern that matches decides (a "!" pattern excludes)."""
    points: list[int] | None = None
    for negate, literal, matcher in reversed(globs):
        if matcher is None:
            if budget is not None:
                budget.charge(1)
            if literal == rel:
                return not negate
            continue
        if points is None:
            points = [ord(c) for c in rel]
        if matcher.match(points, budget):
            return not negate
    return False


def _covered(rel: str, patterns: Iterable[str]) -> bool:
    """Whether a member folder (relative to the workspace root) matches its workspaces."""
    return _covered_by(rel, _compile_workspaces(patterns), None)


class _Workspaces:
    """The workspace roots of a repository (the manifests declaring workspaces, by folder) and
    which of them include each package, worked out once per repository within
    MAX_WORKSPACE_WORK units; ``over`` names the root where the work ran out (every package
    then counts as outside the roots not yet matched)."""

    def __init__(self, repo: RepoIndex) -> None:
        self.roots: dict[str, list[tuple[str, _Globs]]] = {}
        for other, pkg in sorted(repo.packages.items()):
            if pkg.workspaces:
                globs = _compile_workspaces(pkg.workspaces)
                self.roots.setdefault(_folder(other), []).append((other, globs))
        self.budget = Budget(matching_limit=MAX_WORKSPACE_WORK)
        self.over: str | None = None
        self.memo: dict[str, list[str]] = {}

    def of(self, file: str) -> list[str]:
        found = self.memo.get(file)
        if found is not None:
            return found
        folder = _folder(file)
        out: list[str] = []
        root = folder
        while root:  # each folder above the package's, up to the root ("")
            root = _folder(root)
            for other, globs in self.roots.get(root, ()):
                if other == file or self.over is not None:
                    continue
                rel = folder[len(root) + 1 :] if root else folder
                try:
                    if _covered_by(rel, globs, self.budget):
                        out.append(other)
                except OverBudget:
                    self.over = other
        found = self.memo[file] = sorted(out, key=len, reverse=True)
        return found

    def notice(self) -> Hit | None:
        """The INFO finding on the root where matching stopped, if it did."""
        if self.over is None:
            return None
        return Hit(
            None,
            (),
            f"{self.over}: matching its workspaces patterns against the repository's packages "
            f"went over the limit of {MAX_WORKSPACE_WORK:,} units of work, so packages after "
            "that point were taken to be outside the workspaces not yet matched",
            severity=Severity.INFO,
            file=self.over,
        )


def _workspaces(repo: RepoIndex) -> _Workspaces:
    found = repo.cache.get("stk.workspaces")
    if not isinstance(found, _Workspaces):
        found = repo.cache["stk.workspaces"] = _Workspaces(repo)
    return found


def _workspace_roots(repo: RepoIndex, file: str) -> list[str]:
    """package.json files of the workspace roots that include the package of ``file``."""
    return _workspaces(repo).of(file)


def _indirect_only(mod: GoMod, wanted: _Under) -> bool:
    return any(r.indirect and wanted.match(r.path) for r in mod.requires)


# Packages that bring a declared test framework with them: Create React App's react-scripts
# runs Jest (`react-scripts test`), and jest-cli / @jest/core are Jest itself.
CARRIERS: dict[str, tuple[str, ...]] = {"jest": ("react-scripts", "jest-cli", "@jest/core")}


def _frameworks(wanted: Iterable[str]) -> frozenset[str]:
    """The declared test frameworks and the packages that bring them (CARRIERS)."""
    names = set(wanted)
    for name in list(names):
        names.update(CARRIERS.get(name, ()))
    return frozenset(names)


def _has_test_framework(deps: Iterable[NpmDep], names: frozenset[str]) -> bool:
    return any(_real_name(d) in names for d in deps if d.section in INSTALL_SECTIONS)


@repo_check("AR-STK-007")
def declared_test_framework(ctx: RepoContext) -> Iterator[Yielded]:
    """Each half judges only the modules that declare it: stack.testing.go for go.mod files,
    stack.testing.node for React front ends."""
    if ctx.repo.gomods and any(_profile(ctx, f).go_test_frameworks for f in ctx.repo.gomods):
        facts = tree_facts(ctx.repo)
        folders = {_folder(f): f for f in ctx.repo.gomods}
        tests: dict[str, list[str]] = {}
        for test in facts.test_files:
            owner = _owner(test, folders)
            if owner is not None:
                tests.setdefault(folders[owner], []).append(test)
        for file, mod in sorted(ctx.repo.gomods.items()):
            go_wanted = _profile(ctx, file).go_test_frameworks
            if not go_wanted:
                continue  # the module declares no Go test framework
            go_under = _Under(go_wanted)
            yield Checked(None, file=file)
            found = tests.get(file)
            if not found:
                continue  # a module without tests is not judged
            if any(not r.indirect and go_under.match(r.path) for r in mod.requires):
                continue
            base = _folder(file)
            shown = ", ".join(t[len(base) + 1 :] if base else t for t in found[:3])
            more = f" and {len(found) - 3} more" if len(found) > 3 else ""
            yield Hit(
                _subject(mod),
                ("module",),
                f"{file}: the module has {len(found)} Go test file(s) ({shown}{more}) but does "
                f"not require {_either(go_wanted)}, the declared test framework"
                + (" (only indirectly)" if _indirect_only(mod, go_under) else ""),
                file=file,
            )
    for file, pkg in sorted(ctx.repo.packages.items()):
        node_wanted = _profile(ctx, file).node_test_frameworks
        if not node_wanted:
            continue  # the module declares no test framework for front ends
        names = _frameworks(node_wanted)
        react = next((d for d in _in_sections(pkg, FRONTEND_SECTIONS) if d.name == "react"), None)
        if react is None:
            continue  # not a front end
        yield Checked(None, file=file)
        if _has_test_framework(pkg.deps, names):
            continue
        roots = _workspace_roots(ctx.repo, file)
        if any(_has_test_framework(ctx.repo.packages[r].deps, names) for r in roots):
            continue
        yield Hit(
            pkg.name or react.name,
            (react.section, "react"),
            f"{file} is a React front end but neither its dependencies nor devDependencies "
            f"name {_either(node_wanted)}, the declared test frameworks",
            file=file,
        )
    notice = _workspaces(ctx.repo).notice()
    if notice is not None:
        yield notice


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


# an exact version ("2.80.0", "=2.80.0"): npm installs that release and no other
_EXACT_VERSION = re.compile(r"^=?v?\d{1,9}\.\d{1,9}\.\d{1,9}(?:[-+][0-9A-Za-z.+-]{1,80})?$")


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
        ranges = sum(1 for dep in pkg.deps if not _EXACT_VERSION.match(dep.spec.strip()))
        lockfile = (
            "commit the package manager's lockfile (package-lock.json, yarn.lock, "
            "pnpm-lock.yaml or bun.lock)"
        )
        if ranges == 0:
            # every direct dependency pinned: only what they depend on in turn can float
            yield Hit(
                pkg.name,
                (),
                f"{file} has no lockfile beside it{where}: its {len(pkg.deps)} "
                + (
                    "dependency is pinned to an exact version, but whatever it depends on"
                    if len(pkg.deps) == 1
                    else "dependencies are pinned to exact versions, but whatever they depend on"
                )
                + f" in turn (if anything) is resolved afresh on each install; {lockfile}",
                file=file,
                variant="pinned",
            )
            continue
        yield Hit(
            pkg.name,
            (),
            f"{file} has no lockfile beside it{where}: installs resolve its "
            f"{ranges} dependency range(s) afresh each time, so builds are not "
            f"reproducible and a compromised release can slip in; {lockfile}",
            file=file,
        )
    notice = _workspaces(ctx.repo).notice()
    if notice is not None:
        yield notice


# -- AR-STK-010 -------------------------------------------------------------------------------


def _go_past_support(ctx: RepoContext) -> Iterator[Yielded]:
    table = lifecycle()
    for file, mod in sorted(ctx.repo.gomods.items()):
        best = newest_go(mod)
        if best is None:
            continue
        key = go_version_key(best.value)
        if len(key) < 3 or key[1] != 1 or not isinstance(key[2], int):
            continue
        yield Checked(None, file=file)
        end = table.go_end(key[2])
        if end is None or end > ctx.today:
            continue
        toolchain = mod.toolchain
        from_toolchain = toolchain is not None and (best.line, best.column) == (
            toolchain.line,
            toolchain.column,
        )
        supported = table.go_supported(ctx.today)
        yield Hit(
            _subject(mod),
            ("toolchain",) if from_toolchain else ("go",),
            f"{file} declares Go {best.value} ({_written(mod)}): Go 1.{key[2]} has had no "
            f"security or bug fixes since {end.isoformat()} (Go supports only its two newest "
            f"releases, now {' and '.join(supported)}), and a "
            "toolchain of that release satisfies this go.mod, so builds can use a compiler "
            "and standard library with known, unfixed vulnerabilities; raise the go line (or "
            f"add a toolchain line) to go {supported[-1] if supported else 'a supported release'}"
            " or newer",
            file=file,
        )


def _node_lines(spec: str) -> tuple[list[int], bool] | None:
    """The Node.js release lines of the lifecycle table a range admits, and whether it also
    admits a line newer than the table; None when the spec is not a range."""
    table = lifecycle().node_eol
    admitted: list[int] = []
    for major, _ in table:
        low, high = (0, 1) if major == 0 else (major, major + 1)
        meets = ranges_intersect(spec, f">={low}.0.0 <{high}.0.0")
        if meets is None:
            return None
        if meets:
            admitted.append(major)
    newest = table[-1][0] if table else 0
    return admitted, bool(ranges_intersect(spec, f">={newest + 1}.0.0"))


def _node_past_support(ctx: RepoContext) -> Iterator[Yielded]:
    eol = dict(lifecycle().node_eol)
    for file, pkg in sorted(ctx.repo.packages.items()):
        spec = pkg.engines_node
        if spec is None or spec_kind(spec) != "range":
            continue
        found = _node_lines(spec)
        if found is None:
            continue
        yield Checked(None, file=file)
        admitted, newer = found
        if newer or not admitted or any(eol[m] > ctx.today for m in admitted):
            continue
        last = max(admitted, key=lambda m: eol[m])
        lines = ", ".join("0.x" if m == 0 else str(m) for m in admitted)
        supported = [m for m, day in sorted(eol.items()) if day > ctx.today and m % 2 == 0]
        shown = spec if len(spec) <= 60 else spec[:57] + "..."
        yield Hit(
            pkg.name,
            ("engines", "node"),
            f"{file} declares engines.node {shown!r}, which admits only Node.js {lines}, every "
            f"one past its end of life (the last on {eol[last].isoformat()}): the package says "
            "it runs only on releases that get no security fixes, so a runtime chosen to match "
            "the range has known, unfixed vulnerabilities, and installing on a supported release "
            "warns (or fails under engine-strict); admit a supported line"
            + (f" such as {' or '.join(str(m) for m in supported[:2])}" if supported else ""),
            file=file,
            variant="node",
        )


@repo_check("AR-STK-010", manifests_only=True)
def toolchain_past_support(ctx: RepoContext) -> Iterator[Yielded]:
    yield from _go_past_support(ctx)
    yield from _node_past_support(ctx)


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
    toolchain_past_support,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
