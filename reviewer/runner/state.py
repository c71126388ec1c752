"""The state one scan works on, and running a check inside its budget.

The engine (reviewer.runner.engine) decides the order of work; the pipeline
(reviewer.runner.pipeline) decides where a piece of it runs (a worker process, or the cache).
Both work on a `ScanState` and run checks through `run_check`, which records what a check
produced (RawHit, reviewer.findings.make) and what it judged (the evaluation table). A session
that can replay a check's earlier result is consulted first (`Replayer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reviewer.checks.catalogue import RuleMeta
from reviewer.checks.registry import Check, RepoContext, TemplateContext
from reviewer.core import bounds
from reviewer.core.types import Checked, Hit
from reviewer.discover.inventory import Skipped, SourceFile
from reviewer.findings.make import RawHit
from reviewer.model.repo import RepoIndex
from reviewer.model.template import Template
from reviewer.profile import DEFAULT, Profile

if TYPE_CHECKING:
    from reviewer.aws.live import AwsOptions
    from reviewer.core.types import Persona


class Replayer(Protocol):
    """What the engine asks a session (reviewer.runner.pipeline.Session) before running a check."""

    def replay(self, state: ScanState, check: Check, template: Template) -> bool: ...

    def replay_repo(self, state: ScanState, check: Check, ctx: Any) -> bool: ...

    def replay_cross(
        self, state: ScanState, check: Check, ctx: Any, template: Template | None
    ) -> bool: ...


DECODE_STAGE = "decoding"
MODEL_STAGE = "modelling (SAM expansion, Globals merge)"
CHECKS_STAGE = "template checks"


def budget_message(
    file: str, ledger: bounds.Ledger, outcome: str = "was not fully reviewed"
) -> str:
    """The AR-MOD-006 message of a template whose ledger went over: the stage, the bound, the
    check that was running, and what became of its findings."""
    where = f", stopped in check {ledger.where}" if ledger.where else ""
    if ledger.limit:
        bound = f"its budget of {ledger.limit}{where}"
    else:
        bound = (
            f"the per-file time budget ({ledger.seconds:g} s{where}; "
            "ARCHREVIEW_FILE_BUDGET sets it)"
        )
    dropped = "; none of its check findings are reported" if ledger.stage == CHECKS_STAGE else ""
    return f"{file} {outcome}: the {ledger.stage} stage went over {bound}{dropped}"


class ScanError(Exception):
    """The scan itself failed (exit 3)."""


@dataclass(frozen=True)
class ScanOptions:
    profile: Profile = DEFAULT
    parameters: Mapping[str, Any] = field(default_factory=dict)
    sam_env: str | None = None
    max_bytes: int = 5_000_000
    strict: bool = False  # re-raise exceptions from checks (tests)
    today: date | None = None
    checks: tuple[Check, ...] | None = None
    no_ignores: bool = False  # audits: show everything, suppressed or not
    baseline: Mapping[str, str] | None = None  # fingerprint -> reason
    aws: AwsOptions | None = None  # --aws: also review deployed stacks (reviewer.aws.live, boto3)
    progress: Callable[[int, int], None] | None = (
        None  # (templates done, total): reviewer.cli.progress
    )
    jobs: int = 1  # processes for loading templates and local checks (reviewer.runner.pipeline)
    cache_dir: str | None = None  # content-hash cache folder (reviewer.cache.store); None: no cache
    # keep the whole report in the cache (the command line does not when it keeps its outputs:
    # the same inputs replay those, and pickling a large report costs seconds)
    keep_report: bool = True
    # who the report is for (product.md *Personas*); None: the profile's persona (default
    # regular). Findings of a persona above it are counted in Report.hidden, not reported.
    persona: Persona | None = None


@dataclass
class ScanState:
    root: Path
    options: ScanOptions
    catalogue: dict[str, RuleMeta]
    repo: RepoIndex
    raws: list[RawHit] = field(default_factory=list)
    evaluated: dict[tuple[str, str, str | None], str] = field(default_factory=dict)
    lines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    session: Replayer | None = None  # reviewer.runner.pipeline.Session: the pool and the cache
    # the checks this scan runs (built-in and the repository's own: reviewer.checks.custom)
    checks: tuple[Check, ...] = ()
    # each template's budget, as loading left it (reviewer.core.bounds); taken by its checks
    ledgers: dict[str, bounds.Ledger] = field(default_factory=dict)
    incomplete: bool = False  # something went over a budget: the report is not cached
    # each module's effective profile (the root's, its `modules:` globs, its own declaration);
    # a module not named here answers to the root profile (options.profile)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def profile_for(self, module: str) -> Profile:
        found = self.profiles.get(module)
        return found if found is not None else self.options.profile

    @property
    def strict(self) -> bool:
        return self.options.strict

    @property
    def max_bytes(self) -> int:
        return self.options.max_bytes

    @property
    def report_persona(self) -> Persona:
        """Who the report is for: --persona, else the profile's `persona:`."""
        found = self.options.persona
        return found if found is not None else self.options.profile.persona


def all_checks() -> tuple[Check, ...]:
    from reviewer.checks import CHECKS

    return CHECKS


def rule_runs(catalogue: Mapping[str, RuleMeta], rule_id: str, profile: Profile) -> bool:
    """Whether a rule runs under `profile`: enabled there, and every profile key it requires is
    declared (rules/<ID>.yaml `profile.requires`; without them it gives no findings and no
    evaluations)."""
    if not profile.enabled(rule_id):
        return rule_id in ENGINE_RULES
    meta = catalogue.get(rule_id)
    return meta is None or all(profile.declares(key) for key in meta.requires)


ENGINE_RULES = ("AR-MOD-003", "AR-MOD-004", "AR-MOD-005", "AR-MOD-006")


def skip_message(skipped: Skipped) -> str:
    what = {
        "too-large": "over the size limit",
        "binary": "a binary file",
        "undecodable": "not decodable as UTF-8 or UTF-16",
        "symlink-outside-root": "a symlink leaving the repository",
        "symlink-loop": "a symlink loop",
        "unreadable": "unreadable",
        "time-budget": "over the per-file time budget",
        "over-budget": "over a work limit",
    }.get(skipped.reason, skipped.reason)
    return f"{skipped.path} was not reviewed: {what} ({skipped.detail})"


def parameters_for(
    state: ScanState, template: Template, samconfigs: Mapping[str, SourceFile]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    folder = template.file.rsplit("/", 1)[0] if "/" in template.file else ""
    for candidate in (f"{folder}/samconfig.toml" if folder else "samconfig.toml", "samconfig.toml"):
        if candidate in samconfigs:
            values.update(_samconfig_overrides(state, samconfigs[candidate]))
            break
    values.update(state.options.parameters)
    return {k: v for k, v in values.items() if k in template.parameters}


def _samconfig_overrides(state: ScanState, source: SourceFile) -> dict[str, Any]:
    """The parameter_overrides of the scan's --sam-env in samconfig.toml ``source``, read and
    parsed once per scan (reviewer.model.samconfig); a file that cannot be used is reported once, as
    AR-MOD-003 at its line (AR-MOD-006 when it cannot be read), and gives no values."""
    from reviewer.model.samconfig import reader_for

    opts = state.options
    reader = reader_for(state, state.root, opts.max_bytes, opts.sam_env)
    found = reader.overrides(source.path)
    if (found.problem is not None or found.skipped is not None) and reader.first_report(
        source.path
    ):
        if found.problem is not None:
            problem = found.problem
            engine_hit(
                state,
                "AR-MOD-003",
                source.path,
                source.module,
                problem.message,
                line=problem.line,
                column=problem.column,
            )
        if found.skipped is not None:
            engine_hit(state, "AR-MOD-006", source.path, source.module, skip_message(found.skipped))
    return dict(found.values)


def engine_hit(
    state: ScanState,
    rule_id: str,
    file: str,
    module: str,
    message: str,
    line: int = 1,
    column: int = 1,
) -> None:
    hit = Hit(None, ("__line__", line, column), message, file=file)
    state.raws.append(RawHit(rule_id, file, module, hit))
    state.evaluated[(rule_id, file, None)] = module


class Journal(dict[Any, Any]):
    """The evaluation table while one template's (or one repository check's) checks run: their
    writes, in order, applied to the real table only when the work finished within its budget.
    (`run_check` and the pipeline's replays only write the table.)"""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[bool, Any, Any]] = []

    def __setitem__(self, key: Any, value: Any) -> None:
        self.ops.append((False, key, value))
        super().__setitem__(key, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.ops.append((True, key, default))
        return super().setdefault(key, default)

    def apply(self, into: dict[Any, Any]) -> None:
        apply_ops(self.ops, into)


def apply_ops(ops: Iterable[tuple[bool, Any, Any]], into: dict[Any, Any]) -> None:
    """Replay recorded writes to an evaluation table, in order (setdefault? key, value)."""
    for is_default, key, value in ops:
        if is_default:
            into.setdefault(key, value)
        else:
            into[key] = value


def contained(
    state: ScanState, ledger: bounds.Ledger, stage: str, work: Callable[[], None]
) -> bool:
    """Do `work` (checks that add to `state.raws` and `state.evaluated`) as `stage` of the
    ledger's budget. When it goes over, everything it added is taken back and False is
    returned: findings cut short at a moment that depends on the machine are never reported
    as if they were the whole answer (reviewer.core.bounds)."""
    first = len(state.raws)
    table = state.evaluated
    journal = Journal()
    state.evaluated = journal
    try:
        with bounds.metered(ledger, stage):
            work()
    finally:
        state.evaluated = table
    if ledger.over:
        del state.raws[first:]
        state.incomplete = True
        return False
    journal.apply(table)
    return True


def check_template(state: ScanState, checks: list[Check], ctx: TemplateContext) -> None:
    """Run the template checks on one template, on what is left of its budget (its decoding,
    modelling and the local checks a worker ran for it spent the rest). Over the budget, or
    over the findings caps, none of its check findings are kept and AR-MOD-006 says why."""
    template = ctx.template
    ledger = state.ledgers.pop(template.file, None) or bounds.Ledger(bounds.file_budget())
    first = len(state.raws)
    cap = bounds.findings_caps(len(template.resources))[1]

    def work() -> None:
        for check in checks:
            ledger.where = check.rule_id
            bounds.checkpoint()
            run_check(state, check, ctx, template.file, template.module, template)
            if len(state.raws) - first > cap:
                raise bounds.OverBudget(f"{cap:,} findings from the checks of one template")
        ledger.where = ""

    if not ledger.over and contained(state, ledger, CHECKS_STAGE, work):
        return
    engine_hit(
        state, "AR-MOD-006", template.file, template.module, budget_message(template.file, ledger)
    )


def check_repository(state: ScanState, check: Check, ctx: RepoContext) -> None:
    """Run one repository check on its own budget; over it, none of its findings are kept and
    AR-MOD-006 (on the repository root) names the check."""
    ledger = bounds.Ledger(bounds.repo_check_budget())

    def work() -> None:
        bounds.checkpoint()
        run_check(state, check, ctx, None, None, None)

    if contained(state, ledger, "repository checks", work):
        return
    if ledger.limit:
        bound = f"its budget of {ledger.limit}"
    else:
        bound = f"its time budget ({ledger.seconds:g} s; ARCHREVIEW_REPO_CHECK_BUDGET sets it)"
    engine_hit(
        state,
        "AR-MOD-006",
        ".",
        ".",
        f"the repository was not fully reviewed: the repository check {check.name} "
        f"({check.rule_id}) went over {bound}; none of its findings are reported",
    )


def run_check(
    state: ScanState,
    check: Check,
    ctx: Any,
    file: str | None,
    module: str | None,
    template: Template | None,
) -> None:
    session = state.session
    if session is not None and template is not None and session.replay(state, check, template):
        return  # what this local check did, run in a worker or read from the cache
    if session is not None and template is None and session.replay_repo(state, check, ctx):
        return  # a repository check over the manifests alone: cached under their contents
    if session is not None and session.replay_cross(state, check, ctx, template):
        return  # a cross-file or repository check: kept with what it read, replayed while unchanged
    produced: list[Hit] = []
    checked: list[Checked] = []
    not_judged = False
    units = len(template.resources) if template is not None else len(state.repo.inventory.files)
    cap = bounds.findings_caps(units)[0]
    try:
        for item in check.run(ctx):
            if isinstance(item, Hit):
                produced.append(item)
                if len(produced) > cap:
                    raise bounds.OverBudget(f"{cap:,} findings from one check")
            elif isinstance(item, Checked):
                checked.append(item)
            else:
                not_judged = True
    except Exception as err:
        if state.options.strict:
            raise
        where = file or "."
        engine_hit(
            state,
            "AR-MOD-005",
            where,
            module or state.repo.module_of_file.get(where, "."),
            f"check {check.name} ({check.rule_id}) crashed on {where}: {type(err).__name__}",
        )
        return
    meta = state.catalogue.get(check.rule_id)
    for hit in produced:
        hfile = hit.file or file or ".gitmodules"
        # a file the template includes (an OpenAPI definition) is part of its module
        own = hit.file is None or (template is not None and hit.file in template.documents)
        hmodule = module if own and module else module_of_file(state, hfile)
        state.raws.append(
            RawHit(check.rule_id, hfile, hmodule, hit, template if hit.file is None else None)
        )
        subject = hit.subject if template is not None and hit.file is None else None
        state.evaluated[(check.rule_id, hfile, subject)] = hmodule
    if template is not None:
        subjects: set[str | None]
        if checked or not_judged or check.enumerates:
            subjects = {c.subject for c in checked}
        else:
            types = set(meta.resource_types) if meta else set()
            subjects = {r.logical_id for r in template if r.type in types}
        for subject in subjects:
            state.evaluated.setdefault((check.rule_id, file or "", subject), module or ".")
    else:
        for c in checked:
            cfile = c.file or "."
            state.evaluated.setdefault(
                (check.rule_id, cfile, None),
                module_of_file(state, cfile),
            )


def module_of_file(state: ScanState, file: str) -> str:
    found = state.repo.module_of_file.get(file)
    return found if found is not None else _module_for(state, file)


_MODULE_PATHS: dict[int, tuple[Any, frozenset[str]]] = {}  # id(inventory) -> (it, module paths)


def _module_for(state: ScanState, file: str) -> str:
    from reviewer.discover.inventory import module_of

    inventory = state.repo.inventory
    known = _MODULE_PATHS.get(id(inventory))
    if known is None or known[0] is not inventory:
        known = (inventory, frozenset(m.path for m in inventory.modules if m.path != "."))
        _MODULE_PATHS.clear()
        _MODULE_PATHS[id(inventory)] = known
    return module_of(file, known[1])
