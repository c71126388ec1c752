"""The package's layout holds its architecture: stages that depend one way (issue 20).

The test reads every module under reviewer/ with `ast` (nothing is imported or executed) and
builds the module import graph: absolute and relative imports, imports under TYPE_CHECKING and
imports inside functions all count, because each of them ties one module to another. An import
names the module it names; the packages above it are not counted (their `__init__` runs first,
but counting it would tie every child of a package whose `__init__` imports its children into a
cycle with it).

It asserts
(a) no import cycle (the failure names the modules of each cycle and the edges that close it);
(b) no private name (`_x`, dunders excluded) of one module imported into another, or read as an
    attribute of another module (`mod._x` where `mod` is bound to a reviewer module);
(c) the stage direction: a module imports only from its own package, the stages before it, and
    the services its rank allows (`ALLOWED` below);
(d) a handful of modules at the package's top level.

`RUNNER_ALLOWANCES` names known violations tolerated while the runner is rewritten (now none);
each entry is checked to still occur, so the list can only shrink.

Run `python -m tests.test_layout` for the graph's cycles, private uses and backward edges.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "reviewer"


@dataclass(frozen=True)
class Use:
    """One import of, or private-name access to, another module, with where it is written."""

    module: str  # the importing module
    line: int
    target: str  # the module imported (or whose attribute is read)
    name: str = ""  # the private name, for private uses

    def where(self) -> str:
        return f"{self.module}:{self.line}"


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Use] = field(default_factory=list)
    private: list[Use] = field(default_factory=list)
    missing: list[Use] = field(default_factory=list)  # imports of modules that do not exist

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.modules}
        for use in self.imports:
            if use.target != use.module:
                out[use.module].add(use.target)
        return out


def module_name(package_dir: Path, package: str, path: Path) -> str:
    parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an `ImportFrom` names (relative levels resolved against `module`)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def build_graph(package_dir: Path, package: str = PACKAGE) -> Graph:
    """The import graph of the package rooted at `package_dir` (named `package`)."""
    graph = Graph()
    for path in sorted(package_dir.rglob("*.py")):
        graph.modules[module_name(package_dir, package, path)] = path
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_bytes(), filename=str(path))
        is_package = path.name == "__init__.py"
        bound: dict[str, str] = {}  # local name -> module it is bound to (by any import)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name != package and not alias.name.startswith(package + "."):
                        continue
                    if alias.name not in graph.modules:
                        graph.missing.append(Use(module, node.lineno, alias.name))
                        continue
                    graph.imports.append(Use(module, node.lineno, alias.name))
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        bound[package] = package
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_package, node)
                if source != package and not source.startswith(package + "."):
                    continue
                for alias in node.names:
                    child = f"{source}.{alias.name}"
                    if child in graph.modules:  # `from pkg import submodule`
                        graph.imports.append(Use(module, node.lineno, child))
                        bound[alias.asname or alias.name] = child
                        continue
                    if source not in graph.modules:
                        graph.missing.append(Use(module, node.lineno, source))
                        continue
                    graph.imports.append(Use(module, node.lineno, source))
                    if _private(alias.name) and source != module:
                        graph.private.append(Use(module, node.lineno, source, alias.name))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            dotted = _dotted(node.value)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head not in bound:
                continue
            target = bound[head] + ("." + rest if rest else "")
            if target in graph.modules and target != module:
                graph.private.append(Use(module, node.lineno, target, node.attr))
    graph.imports = list(dict.fromkeys(graph.imports))  # one per (module, line, target)
    return graph


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), each
    sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe_cycle(graph: Graph, component: list[str]) -> str:
    members = set(component)
    lines = [" <-> ".join(component)]
    for use in sorted(graph.imports, key=lambda u: (u.module, u.line, u.target)):
        if use.module in members and use.target in members and use.module != use.target:
            lines.append(f"    {use.where()} imports {use.target}")
    return "\n".join(lines)


# --- (c) the stage direction -----------------------------------------------------------------

# The stages a template flows through, in the order their code depends on: each may import the
# ones before it. A finding is made with its fix and its score (reviewer.findings.make calls
# reviewer.fixes and the score formula in reviewer.scores.scoring), so fixes and scores come
# before findings; neither reads the findings package.
STAGES = ("core", "discover", "decode", "model", "checks", "fixes", "scores", "findings", "outputs")


def _upto(stage: str) -> frozenset[str]:
    """The stages before `stage`."""
    return frozenset(STAGES[: STAGES.index(stage)])


# The services beside the stages, and what each may import:
# - profile: the declared architecture (presets, .archreview.yml, agent definitions). It reads
#   files (core, discover) and the manifests' version rules (model); every stage from checks on,
#   and the cache, may read it. It names rules by their files (core.package), not the catalogue.
# - cache: the signed content-addressed store (store) and the warm replay of a report (replay).
#   It keys on files and the profile; the catalogue keeps its parsed rules in it, so checks and
#   everything after may import it.
# - aws: live review of deployed stacks, modelled and compared by the drift checks.
# - runner: runs the stages with the services; github (PR mode) runs the runner twice and
#   compares; cli sits on top of everything.
# The package root (reviewer/__init__.py: `scan`, `__version__`; __main__.py) may import anything.
SERVICES_FOR_STAGES = frozenset({"profile", "cache"})
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "discover": _upto("discover"),
    "decode": _upto("decode"),
    "model": _upto("model"),
    **{stage: _upto(stage) | SERVICES_FOR_STAGES for stage in STAGES[STAGES.index("checks") :]},
    "profile": frozenset({"core", "discover", "model"}),
    "cache": frozenset({"core", "discover", "profile"}),
    "aws": frozenset(STAGES) | {"profile"},
    "runner": frozenset(STAGES) | {"profile", "cache", "aws"},
    "github": frozenset(STAGES) | {"profile", "cache", "runner"},
    "cli": frozenset(STAGES) | {"profile", "cache", "aws", "runner", "github"},
}
TOP = ""  # the package root's modules
# The modules allowed at the package's top level; everything else lives in a stage or service.
TOP_LEVEL = frozenset({PACKAGE, f"{PACKAGE}.__main__"})


def package_of(module: str) -> str:
    """The stage or service a module belongs to (TOP for the package root's modules)."""
    parts = module.split(".")
    return TOP if module in TOP_LEVEL or len(parts) < 2 else parts[1]


def backward(graph: Graph) -> list[Use]:
    """Imports against the table: into a package the importer's rank does not allow, into the
    package root, or from a package the table does not know."""
    out: list[Use] = []
    for use in graph.imports:
        source, target = package_of(use.module), package_of(use.target)
        if source in (TOP, target):
            continue
        if target == TOP or source not in ALLOWED or target not in ALLOWED[source]:
            out.append(use)
    return out


# --- known violations, named while the runner is rewritten --------------------------------------

# (importer, imported, private name or "" for an import) tolerated until the runner's rewrite
# removes it. Each entry must still occur (test_allowances_are_still_needed), so the list only
# shrinks. Empty since the runner imports reviewer.model.build (the last entry was
# reviewer.model.template forwarding `build` to it for the old runner).
RUNNER_ALLOWANCES: frozenset[tuple[str, str, str]] = frozenset()


def allowed(use: Use) -> bool:
    return (use.module, use.target, use.name) in RUNNER_ALLOWANCES


def report(graph: Graph) -> str:
    lines = ["cycles:"]
    lines += ["  " + describe_cycle(graph, c) for c in cycles(graph.edges())]
    lines.append("private names used across modules:")
    lines += [f"  {u.where()} {u.target}.{u.name}" for u in graph.private]
    lines.append("imports against the stage table:")
    lines += [f"  {u.where()} imports {u.target}" for u in backward(graph)]
    lines.append("imports of missing modules:")
    lines += [f"  {u.where()} imports {u.target}" for u in graph.missing]
    return "\n".join(lines)


# --- the tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(ROOT / PACKAGE)


def test_the_walker_sees_the_whole_package(graph: Graph) -> None:
    # every stage and service has modules, and each has imports the walker sees (the kinds of
    # import are held by the synthetic package below)
    assert {package_of(m) for m in graph.modules} >= {TOP, *ALLOWED}
    importing = {package_of(u.module) for u in graph.imports}
    assert importing >= set(ALLOWED) - {"core"}
    assert "reviewer.model.template" in graph.edges()["reviewer.model.sam"]


def test_no_import_cycle(graph: Graph) -> None:
    edges = graph.edges()
    for use in graph.imports:
        if allowed(use):
            edges[use.module].discard(use.target)
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(describe_cycle(graph, c) for c in found)


def test_no_private_name_across_modules(graph: Graph) -> None:
    found = [u for u in graph.private if not allowed(u)]
    assert not found, "private names used across modules:\n" + "\n".join(
        f"  {u.where()} uses {u.target}.{u.name}" for u in found
    )


def test_stages_depend_one_way(graph: Graph) -> None:
    found = [u for u in backward(graph) if not allowed(u)]
    assert not found, "imports against the stage table (ALLOWED):\n" + "\n".join(
        f"  {u.where()} ({package_of(u.module) or 'root'}) imports {u.target}" for u in found
    )


def test_every_import_names_a_module_that_exists(graph: Graph) -> None:
    found = graph.missing
    assert not found, "\n".join(f"{u.where()} imports {u.target}, which is gone" for u in found)


def test_a_handful_of_modules_at_the_top_level(graph: Graph) -> None:
    top = sorted(m for m in graph.modules if package_of(m) == TOP)
    assert set(top) <= TOP_LEVEL, f"modules at the package's top level: {top}"
    assert {p.name for p in (ROOT / PACKAGE).glob("*.py")} <= {"__init__.py", "__main__.py"}


def test_every_package_is_in_the_table(graph: Graph) -> None:
    assert {package_of(m) for m in graph.modules} - {TOP} <= set(ALLOWED)


def test_allowances_are_still_needed(graph: Graph) -> None:
    seen = {(u.module, u.target, "") for u in graph.imports}
    seen |= {(u.module, u.target, u.name) for u in graph.private}
    stale = sorted(RUNNER_ALLOWANCES - seen)
    assert not stale, f"RUNNER_ALLOWANCES entries that no longer occur (remove them): {stale}"


# --- the walker itself can fail -----------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_walker_finds_cycles_private_names_and_backward_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(
        pkg,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/a.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.model.b import B\n",
            "model/__init__.py": "",
            # a relative import inside a function closes the cycle a <-> b
            "model/b.py": "def f():\n    from ..core import a\n    return a\n",
            # c imports a private name, and reads another through a module alias
            "model/c.py": "from pkg.core.a import _helper\nimport pkg.model.b as bee\n"
            "x = bee._hidden\ny = bee.__name__\n",
            "model/d.py": "from . import b\nz = b._also\n",
            "model/e.py": "from pkg.gone import thing\n",
        },
    )
    graph = build_graph(pkg, "pkg")
    assert cycles(graph.edges()) == [["pkg.core.a", "pkg.model.b"]]
    assert {(u.module, u.target, u.name) for u in graph.private} == {
        ("pkg.model.c", "pkg.core.a", "_helper"),
        ("pkg.model.c", "pkg.model.b", "_hidden"),
        ("pkg.model.d", "pkg.model.b", "_also"),
    }
    assert {(u.module, u.target) for u in graph.missing} == {("pkg.model.e", "pkg.gone")}
    # core -> model goes against the stages; model -> core does not
    assert [(u.module, u.target) for u in backward(graph)] == [("pkg.core.a", "pkg.model.b")]


def test_a_clean_package_passes(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    _write(
        pkg,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/a.py": "def _own():\n    return 1\nx = _own()\n",
            "model/__init__.py": "",
            "model/b.py": "from pkg.core import a\nfrom pkg.core.a import x\ny = a.x\n",
        },
    )
    graph = build_graph(pkg, "pkg")
    assert cycles(graph.edges()) == []
    assert graph.private == []
    assert backward(graph) == []
    assert graph.missing == []


if __name__ == "__main__":
    sys.stdout.write(report(build_graph(ROOT / PACKAGE)) + "\n")
