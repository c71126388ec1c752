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


CHECKS: tuple[Check, ...] = (
    submodule_not_checked_out,
    engine_rule("AR-MOD-003"),
    engine_rule("AR-MOD-005"),
    engine_rule("AR-MOD-006"),
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset({"AR-MOD-002", "AR-MOD-004"})
