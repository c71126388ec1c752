"""MOD: repository and module structure. AR-MOD-003/005/006 are produced by the engine."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.model import Checked, Hit
from reviewer.registry import Check, RepoContext, Yielded, engine_rule, repo_check


@repo_check("AR-MOD-001")
def submodule_not_checked_out(ctx: RepoContext) -> Iterator[Yielded]:
    subs = ctx.repo.submodules
    if not subs:
        return
    yield Checked(None, ".gitmodules")
    for sub in subs:
        if sub.checked_out:
            continue
        yield Hit(
            None,
            ("submodule", sub.name),
            f"Submodule {sub.name} ({sub.path}) is declared in .gitmodules but not checked out: "
            "it was not reviewed (check out with `git submodule update --init --recursive`)",
            file=".gitmodules",
        )


@repo_check("AR-MOD-002")
def no_decision_records(ctx: RepoContext) -> Iterator[Yielded]:
    """Once per repository: no file under docs/adr, doc/adr, docs/architecture or
    docs/decisions (at any depth: submodules keep their own) and no *.adr.md anywhere."""
    from reviewer.checks.stk import ADR_DIRS, tree_facts

    facts = tree_facts(ctx.repo)
    paths = {f.path for f in ctx.repo.inventory.files}
    anchor = ".gitmodules" if ".gitmodules" in paths else "."
    if anchor == "." and (ctx.repo.inventory.root / "README.md").is_file():
        anchor = "README.md"
    yield Checked(None, file=anchor)
    if facts.adr_files or not facts.complete:
        return
    places = ", ".join(f"{a}/{b}/" for a, b in ADR_DIRS)
    yield Hit(
        None,
        (),
        f"The repository holds no architecture decision records (nothing under {places} "
        "and no *.adr.md file): the decisions behind the architecture are not written down, "
        "so reviews cannot tell a deliberate choice from drift (`archreview adr` can start them)",
        file=anchor,
    )


CHECKS: tuple[Check, ...] = (
    submodule_not_checked_out,
    no_decision_records,
    engine_rule("AR-MOD-003"),
    engine_rule("AR-MOD-004"),
    engine_rule("AR-MOD-005"),
    engine_rule("AR-MOD-006"),
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
