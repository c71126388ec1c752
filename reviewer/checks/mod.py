"""MOD: repository and module structure. AR-MOD-003/005 are produced by the engine, and so is
AR-MOD-006 for files and stages left out; AR-MOD-006's repository check here says, once per
repository, what discovery found but cannot review (templating sources, an unreadable git
index)."""

from __future__ import annotations

from collections.abc import Iterator

from reviewer.checks.registry import Check, RepoContext, Yielded, engine_rule, repo_check
from reviewer.core.types import Checked, Hit


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
        "and no *.adr.md file): the decisions behind the architecture are not recorded beside "
        "it, so a review of this repository cannot tell a deliberate choice from drift "
        "(`archreview adr` can start them)",
        file=anchor,
    )


MAX_NAMED = 10  # templating sources named in the message; the count says how many there are


@repo_check("AR-MOD-006")
def not_reviewable(ctx: RepoContext) -> Iterator[Yielded]:
    """Once per repository: the templating sources discovery recognised (cookiecutter, Jinja,
    Go/Helm templates that speak of CloudFormation), which no rule can read as written; and
    once per git index that could not be read (the .gitignore files then apply to tracked
    files too)."""
    inventory = ctx.repo.inventory
    sources = sorted(f.path for f in inventory.files if f.kind == "templating")
    if sources:
        yield Checked(None, file=sources[0])
        named = ", ".join(sources[:MAX_NAMED])
        more = f" and {len(sources) - MAX_NAMED:,} more" if len(sources) > MAX_NAMED else ""
        count = "1 file is" if len(sources) == 1 else f"{len(sources):,} files are"
        yield Hit(
            None,
            (),
            f"{count} templating sources (cookiecutter, Jinja or Go templates) that produce "
            f"CloudFormation: {named}{more}. They are not valid templates until rendered, so "
            "no rule reviewed them; review the rendered templates instead",
            file=sources[0],
            variant="templating-source",
        )
    for file, message in inventory.notices:
        yield Checked(None, file=file)
        yield Hit(
            None,
            (),
            f"The git index could not be read ({message}): a committed file that a .gitignore "
            "line matches is left out of the review, as if it were untracked",
            file=file,
            variant="git-index",
        )


CHECKS: tuple[Check, ...] = (
    submodule_not_checked_out,
    no_decision_records,
    engine_rule("AR-MOD-003"),
    engine_rule("AR-MOD-004"),
    engine_rule("AR-MOD-005"),
    not_reviewable,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
