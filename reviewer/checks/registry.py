"""Checks and their registration. A check is a function of a context that yields Hits (and
optionally Checked markers for the subjects it evaluated); it never computes a line, reads a
file or builds a Finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from reviewer.core.types import Checked, Hit, NotJudged

if TYPE_CHECKING:
    from reviewer.model.repo import RepoIndex
    from reviewer.model.template import Template
    from reviewer.profile import Profile

Yielded = Hit | Checked | NotJudged


@dataclass(frozen=True)
class TemplateContext:
    template: Template
    profile: Profile
    repo: RepoIndex
    today: date


@dataclass(frozen=True)
class RepoContext:
    repo: RepoIndex
    profile: Profile  # the root profile
    today: date
    # each module's effective profile where it differs from the root's (reviewer.runner.engine)
    profiles: Mapping[str, Profile] = field(default_factory=dict)

    def profile_for(self, module: str) -> Profile:
        """The profile `module` answers to (its own declaration, else the root's): a
        repository check judges each module's files against it."""
        found = self.profiles.get(module)
        return found if found is not None else self.profile


TemplateFn = Callable[[TemplateContext], Iterable[Yielded]]
RepoFn = Callable[[RepoContext], Iterable[Yielded]]


@dataclass(frozen=True)
class Check:
    rule_id: str
    kind: Literal["template", "repo", "engine"]
    fn: Callable[[Any], Iterable[Yielded]]
    # True when the check names what it judges with Checked(...): then a template where it
    # yields nothing has no evaluation, instead of every resource of the rule's types passing.
    enumerates: bool = False
    # True when the check reads other templates or repository-wide facts through ctx.repo
    # (exports, nested stacks, alarms, WAF associations, ...): it always runs with the whole
    # repository and its results are never cached (reviewer.runner.pipeline). A check that only
    # looks up its own template's resources is local.
    cross_file: bool = False
    # A repository check that reads nothing but the parsed manifests (go.mod, package.json) and
    # their modules: its results are cached under those manifests' contents (reviewer.runner.pipeline;
    # a guard holds it to this, and a check that reaches further simply runs uncached).
    manifests_only: bool = False
    # what the check is, for cache keys, when its function cannot name it (a repository's own
    # rule, reviewer.checks.custom: the digest of its rule file); "" for built-in checks
    identity: str = ""

    @property
    def name(self) -> str:
        return getattr(self.fn, "__name__", self.rule_id)

    def run(self, ctx: Any) -> Iterator[Yielded]:
        yield from self.fn(ctx)


def _enumerates(fn: Callable[..., Any]) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and "Checked" in code.co_names


def template_check(
    rule_id: str, *, enumerates: bool | None = None, cross_file: bool = False
) -> Callable[[TemplateFn], Check]:
    """Register a template check. `enumerates` defaults to whether the function refers to
    `Checked` (it names the subjects it judges). `cross_file`: the check reads other
    templates or repository facts (tests/test_parallel.py holds every check to it)."""

    def wrap(fn: TemplateFn) -> Check:
        return Check(
            rule_id,
            "template",
            fn,
            _enumerates(fn) if enumerates is None else enumerates,
            cross_file,
        )

    return wrap


def repo_check(rule_id: str, *, manifests_only: bool = False) -> Callable[[RepoFn], Check]:
    def wrap(fn: RepoFn) -> Check:
        # the repository is their input
        return Check(rule_id, "repo", fn, cross_file=True, manifests_only=manifests_only)

    return wrap


def _no_hits(ctx: Any) -> Iterable[Yielded]:
    return ()


def engine_rule(rule_id: str) -> Check:
    """A rule whose findings the engine itself produces (parse errors, crashes, skipped files)."""
    return Check(rule_id, "engine", _no_hits)


def build_registry(checks: Iterable[Check]) -> dict[str, Check]:
    registry: dict[str, Check] = {}
    for check in checks:
        if check.rule_id in registry:
            raise ValueError(f"{check.rule_id} is registered twice")
        registry[check.rule_id] = check
    return registry
