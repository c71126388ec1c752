"""discover -> load -> run checks (errors contained) -> locate -> score -> Report."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import reviewer
from reviewer import bounds, suppress
from reviewer.catalogue import RuleMeta, load_catalogue
from reviewer.cfn.load import decode
from reviewer.cfn.template import Template, build, forget_keys
from reviewer.clock import today as clock_today
from reviewer.discover import (
    Inventory,
    Skipped,
    SourceFile,
    discover_once,
    forget_real_roots,
    read_text,
)
from reviewer.fingerprint import logical as logical_fingerprint
from reviewer.fingerprint import named_path
from reviewer.merge import merge
from reviewer.model import (
    Checked,
    Confidence,
    Evaluation,
    FileCounts,
    Finding,
    Hit,
    Location,
    ModuleSummary,
    Persona,
    Report,
    ScoreBlock,
    Severity,
    Span,
)
from reviewer.model import (
    Path as PathT,
)
from reviewer.profile import DEFAULT, Profile
from reviewer.registry import Check, RepoContext, TemplateContext
from reviewer.repo import RepoIndex
from reviewer.scoring import UNWEIGHED_RULES, rounded_score, score_all, weight

if TYPE_CHECKING:
    from reviewer.aws import AwsOptions

SCHEMA_VERSION = 2


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
    aws: AwsOptions | None = None  # --aws: also review deployed stacks (reviewer.aws, boto3)
    progress: Callable[[int, int], None] | None = None  # (templates done, total): reviewer.progress
    jobs: int = 1  # processes for loading templates and local checks (reviewer.pipeline)
    cache_dir: str | None = None  # content-hash cache folder (reviewer.cache); None: no cache
    # keep the whole report in the cache (the command line does not when it keeps its outputs:
    # the same inputs replay those, and pickling a large report costs seconds)
    keep_report: bool = True
    # who the report is for (product.md *Personas*); None: the profile's persona (default
    # regular). Findings of a persona above it are counted in Report.hidden, not reported.
    persona: Persona | None = None


@dataclass
class _Raw:
    rule_id: str
    file: str
    module: str
    hit: Hit
    template: Template | None = None
    finding: Finding | None = None  # made already (by a worker, or read from the cache)


@dataclass
class _State:
    root: Path
    options: ScanOptions
    catalogue: dict[str, RuleMeta]
    repo: RepoIndex
    raws: list[_Raw] = field(default_factory=list)
    evaluated: dict[tuple[str, str, str | None], str] = field(default_factory=dict)
    lines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    session: Any = None  # reviewer.pipeline.Session: the pool and the cache, when used
    # each template's budget, as loading left it (reviewer.bounds); taken by its checks
    ledgers: dict[str, bounds.Ledger] = field(default_factory=dict)
    incomplete: bool = False  # something went over a budget: the report is not cached
    # each module's effective profile (the root's, its `modules:` globs, its own declaration);
    # a module not named here answers to the root profile (options.profile)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def profile_for(self, module: str) -> Profile:
        found = self.profiles.get(module)
        return found if found is not None else self.options.profile


def all_checks() -> tuple[Check, ...]:
    from reviewer.checks import CHECKS

    return CHECKS


def scan(root: str | os.PathLike[str], options: ScanOptions | None = None) -> Report:
    from reviewer.pipeline import Quiet

    sessions: list[Any] = []
    with Quiet():  # no cyclic GC while millions of long-lived nodes are made
        try:
            report = _scan(root, options, sessions)
        except BaseException:
            for session in sessions:
                session.abort()
            raise
        finally:
            forget_real_roots()  # resolved again by the next scan in this process
        for session in sessions:
            session.finish()
    return report


def _scan(root: str | os.PathLike[str], options: ScanOptions | None, sessions: list[Any]) -> Report:
    opts = options or ScanOptions()
    base = Path(root)
    if not base.is_dir():
        raise ScanError(f"{root} is not a directory")
    profile = opts.profile
    today = opts.today or clock_today()
    catalogue = load_catalogue()
    inventory = discover_once(base, max_bytes=opts.max_bytes, exclude=profile.exclude_paths)
    state = _State(base, opts, catalogue, RepoIndex(inventory))
    state.profiles = module_profiles(base, profile, inventory)
    profiles = (profile, *state.profiles.values())
    for file, line, message in _profile_problems(profiles):  # unreadable agent definitions
        _engine_hit(state, "AR-MOD-003", file, _module_of_file(state, file), message, line=line)
    checks = tuple(  # enabled by the root profile or by a module's
        c
        for c in (opts.checks if opts.checks is not None else all_checks())
        if any(p.enabled(c.rule_id) for p in profiles)
    )
    state.session = _open_session(state, checks, today, sessions)
    if state.session is not None:
        cached: Report | None = state.session.cached_report()  # nothing read has changed
        if cached is not None:
            return cached
        state.session.start()
    _load(state, inventory)
    live = _load_aws(state, opts.aws) if opts.aws is not None else None
    enabled = {c.rule_id for c in checks}
    template_checks = sorted((c for c in checks if c.kind == "template"), key=lambda c: c.rule_id)
    repo_checks = sorted((c for c in checks if c.kind == "repo"), key=lambda c: c.rule_id)
    templates = (*state.repo.templates.values(), *(live.templates.values() if live else ()))
    gated: dict[int, list[Check]] = {}  # id(profile) -> the template checks that run under it
    for done, template in enumerate(templates, 1):
        index = live if live is not None and template.repo is live else state.repo
        module_profile = state.profile_for(template.module)
        runs = gated.get(id(module_profile))
        if runs is None:
            runs = gated[id(module_profile)] = [
                c for c in template_checks if rule_runs(catalogue, c.rule_id, module_profile)
            ]
        ctx = TemplateContext(template, module_profile, index, today)
        _check_template(state, runs, ctx)
        if opts.progress is not None:
            opts.progress(done, len(templates))
    rctx = RepoContext(state.repo, profile, today, state.profiles)
    for check in repo_checks:
        if any(rule_runs(catalogue, check.rule_id, p) for p in profiles):
            _check_repository(state, check, rctx)
    if live is not None:  # deployed templates join suppressions, findings and scores
        state.repo.templates.update(live.templates)
    entries = _suppression_entries(state, today)
    _drop_gated(state)
    raws = [r for r in state.raws if r.rule_id in enabled or r.rule_id in _ENGINE_RULES]
    report = _report(state, raws, entries)
    if state.session is not None and opts.keep_report and not state.incomplete:
        state.session.store_report(report)  # (a budget's outcome depends on timing: not kept)
    _release(state)
    return report


def module_profiles(root: Path, profile: Profile, inventory: Inventory) -> dict[str, Profile]:
    """Each module's effective profile (reviewer.profile_loader.resolve_modules: the root's,
    the root's `modules:` globs, the module's own declaration on top); the modules that answer
    to the root profile itself are left out."""
    from reviewer.profile_loader import resolve_modules

    resolved = resolve_modules(root, profile, [m.name for m in inventory.modules])
    return {name: p for name, p in resolved.items() if p is not profile}


def _profile_problems(profiles: Iterable[Profile]) -> tuple[tuple[str, int, str], ...]:
    """The declaration candidates that could not be read, each once: AR-MOD-003 findings."""
    from reviewer.profile import profile_problems

    return profile_problems(profiles)


def rule_runs(catalogue: Mapping[str, RuleMeta], rule_id: str, profile: Profile) -> bool:
    """Whether a rule runs under `profile`: enabled there, and every profile key it requires is
    declared (rules/<ID>.yaml `profile.requires`; without them it gives no findings and no
    evaluations)."""
    if not profile.enabled(rule_id):
        return rule_id in _ENGINE_RULES
    meta = catalogue.get(rule_id)
    return meta is None or all(profile.declares(key) for key in meta.requires)


def _drop_gated(state: _State) -> None:
    """Take back what a rule said about a module whose profile it does not run under: a
    repository check runs once for the whole repository (when one profile lets it), and its
    findings and evaluations count only in the modules whose own profile does."""
    if not state.profiles and all(
        rule_runs(state.catalogue, rule_id, state.options.profile)
        for rule_id in {r.rule_id for r in state.raws} | {k[0] for k in state.evaluated}
    ):
        return
    memo: dict[tuple[str, str], bool] = {}

    def keep(rule_id: str, module: str) -> bool:
        known = memo.get((rule_id, module))
        if known is None:
            known = memo[(rule_id, module)] = rule_runs(
                state.catalogue, rule_id, state.profile_for(module)
            )
        return known

    state.raws = [r for r in state.raws if keep(r.rule_id, r.module)]
    state.evaluated = {k: m for k, m in state.evaluated.items() if keep(k[0], m)}


def _release(state: _State) -> None:
    """Break the cycles between templates, the repository index and the session once the
    report is made (it refers to none of them): with the cyclic collector off during a scan
    they would otherwise keep every decoded tree alive while the report is rendered."""
    for template in state.repo.templates.values():
        template.repo = None
    state.repo.cache.clear()
    state.repo.templates.clear()
    state.raws.clear()
    state.session = None
    forget_keys()


def _open_session(
    state: _State, checks: tuple[Check, ...], today: date, sessions: list[Any]
) -> Any:
    """The pool and cache for this scan (reviewer.pipeline), or None for a plain serial scan."""
    opts = state.options
    if opts.cache_dir is None and opts.jobs <= 1:
        return None
    from reviewer.pipeline import Session

    session = Session.open(state, checks, today, cache_dir=opts.cache_dir, jobs=opts.jobs)
    sessions.append(session)
    return session


def _suppression_entries(state: _State, today: date) -> list[suppress.Entry]:
    """Collect inline and profile suppressions; unusable ones become AR-MOD-004 hits."""
    entries: list[suppress.Entry] = []
    for template in state.repo.templates.values():
        found, problems = suppress.inline_entries(template, today)
        entries.extend(found)
        for hit in suppress.problems_as_hits(problems):
            state.raws.append(
                _Raw(
                    "AR-MOD-004", template.file, template.module, replace(hit, file=None), template
                )
            )
            state.evaluated[("AR-MOD-004", template.file, None)] = template.module
    profile_found, expired = suppress.profile_entries(state.options.profile, today)
    entries.extend(profile_found)
    for label in expired:
        _engine_hit(
            state,
            "AR-MOD-004",
            ".archreview.yml",
            ".",
            f"profile suppression {label} has no reason or has expired: it does not suppress",
        )
    return [] if state.options.no_ignores else entries


_ENGINE_RULES = ("AR-MOD-003", "AR-MOD-004", "AR-MOD-005", "AR-MOD-006")


# -- loading ----------------------------------------------------------------------------------


def _load(state: _State, inventory: Inventory) -> None:
    for skipped in inventory.skipped:
        _engine_hit(state, "AR-MOD-006", skipped.path, skipped.module, _skip_message(skipped))
    samconfigs = {f.path: f for f in inventory.files if f.kind == "samconfig"}
    for source in inventory.files:
        state.repo.module_of_file[source.path] = source.module
        if source.kind == "template":
            state.counts["templates"] = state.counts.get("templates", 0) + 1
            _load_template(state, source, samconfigs)
        elif source.kind == "go_mod":
            state.counts["go_mod"] = state.counts.get("go_mod", 0) + 1
            _load_gomod(state, source)
        elif source.kind == "package_json":
            state.counts["package_json"] = state.counts.get("package_json", 0) + 1
            _load_package(state, source)
    state.repo.link_nested_stacks()


def _load_aws(state: _State, aws_options: AwsOptions) -> RepoIndex:
    """Deployed stacks as templates named aws://REGION/STACK (module aws://REGION), in an index
    of their own (the account: repository checks and cross-template facts do not mix the two),
    matched with the repository's for the AR-DRF rules; a stack that cannot be read is
    AR-MOD-006. See docs/adr/0002-live-aws-review.md."""
    from reviewer import aws

    live = RepoIndex(state.repo.inventory)

    try:
        fetched = aws.fetch(aws_options)
    except aws.AwsFailure as err:
        raise ScanError(str(err)) from None
    for gone in fetched.unreviewed:
        state.repo.module_of_file[gone.file] = gone.module
        _engine_hit(state, "AR-MOD-006", gone.file, gone.module, gone.message)
    from reviewer.pipeline import DECODE_STAGE, MODEL_STAGE, budget_message

    for stack in fetched.stacks:
        state.repo.module_of_file[stack.file] = stack.module
        ledger = bounds.Ledger(bounds.file_budget())  # a deployed template's, as a file's
        tree: Any = None
        problems: tuple[Any, ...] = ()
        with bounds.metered(ledger, DECODE_STAGE):
            bounds.checkpoint()
            tree, problems = decode(stack.text, json_first=stack.is_json)
        if not ledger.over and (problems or not isinstance(tree, dict)):
            why = problems[0].message if problems else "no document"
            _engine_hit(
                state, "AR-MOD-003", stack.file, stack.module, f"{stack.file}: {why}", line=1
            )
            continue
        built: Template | None = None
        if not ledger.over:
            with bounds.metered(ledger, MODEL_STAGE):
                bounds.checkpoint()
                built = build(stack.file, stack.module, tree, stack.text)
        if built is None:
            state.incomplete = True
            message = budget_message(stack.file, ledger, "was not reviewed")
            _engine_hit(state, "AR-MOD-006", stack.file, stack.module, message)
            continue
        template = built
        state.ledgers[stack.file] = ledger
        template.repo = live
        template.parameter_values.update(
            {k: v for k, v in stack.parameters.items() if k in template.parameters}
        )
        live.templates[stack.file] = template
        state.lines[stack.file] = template.lines
    aws.attach(state.repo, live, fetched, aws_options, state.options.sam_env)
    return live


def _skip_message(skipped: Skipped) -> str:
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


def _read(state: _State, source: SourceFile) -> str | None:
    text = read_text(state.root, source.path, state.options.max_bytes)
    if isinstance(text, Skipped):
        _engine_hit(state, "AR-MOD-006", source.path, source.module, _skip_message(text))
        return None
    state.lines[source.path] = tuple(text.split("\n"))
    return text


def _load_template(state: _State, source: SourceFile, samconfigs: Mapping[str, SourceFile]) -> None:
    from reviewer.pipeline import prepare  # read, decode, build (in a worker or from the cache)

    if state.session is not None:
        loaded = state.session.loaded(source)
    else:
        text = read_text(state.root, source.path, state.options.max_bytes)
        loaded = prepare(source, text, root=state.root, max_bytes=state.options.max_bytes)
    if loaded.lines is not None:
        state.lines[source.path] = loaded.lines
    if loaded.hit is not None:
        rule_id, message, line, column = loaded.hit
        _engine_hit(state, rule_id, source.path, source.module, message, line=line, column=column)
    if loaded.ledger is not None:
        if loaded.ledger.over:
            state.incomplete = True
        state.ledgers[source.path] = loaded.ledger
    template = loaded.template
    if template is None:
        return
    template.repo = state.repo
    template.parameter_values.update(_parameters_for(state, template, samconfigs))
    state.repo.templates[source.path] = template
    for doc in template.documents.values():  # included OpenAPI files: findings quote them
        if doc.lines:
            state.lines.setdefault(doc.file, doc.lines)


def _parameters_for(
    state: _State, template: Template, samconfigs: Mapping[str, SourceFile]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    folder = template.file.rsplit("/", 1)[0] if "/" in template.file else ""
    for candidate in (f"{folder}/samconfig.toml" if folder else "samconfig.toml", "samconfig.toml"):
        if candidate in samconfigs:
            values.update(_samconfig_overrides(state, samconfigs[candidate]))
            break
    values.update(state.options.parameters)
    return {k: v for k, v in values.items() if k in template.parameters}


def _samconfig_overrides(state: _State, source: SourceFile) -> dict[str, Any]:
    """The parameter_overrides of the scan's --sam-env in samconfig.toml ``source``, read and
    parsed once per scan (reviewer.samconfig); a file that cannot be used is reported once, as
    AR-MOD-003 at its line (AR-MOD-006 when it cannot be read), and gives no values."""
    from reviewer.samconfig import reader_for

    opts = state.options
    reader = reader_for(state, state.root, opts.max_bytes, opts.sam_env)
    found = reader.overrides(source.path)
    if (found.problem is not None or found.skipped is not None) and reader.first_report(
        source.path
    ):
        if found.problem is not None:
            problem = found.problem
            _engine_hit(
                state,
                "AR-MOD-003",
                source.path,
                source.module,
                problem.message,
                line=problem.line,
                column=problem.column,
            )
        if found.skipped is not None:
            _engine_hit(
                state, "AR-MOD-006", source.path, source.module, _skip_message(found.skipped)
            )
    return dict(found.values)


def _load_gomod(state: _State, source: SourceFile) -> None:
    from reviewer.stack.gomod import parse_gomod

    _load_manifest(state, source, parse_gomod, state.repo.gomods)


def _load_package(state: _State, source: SourceFile) -> None:
    from reviewer.stack.npm import parse_package_json

    _load_manifest(state, source, parse_package_json, state.repo.packages)


def _load_manifest(
    state: _State, source: SourceFile, parse: Callable[[str], Any], into: dict[str, Any]
) -> None:
    """Parse a go.mod or package.json into the repository index; a parse error is AR-MOD-003
    at its line."""
    from reviewer.stack import ManifestError

    text = _read(state, source)
    if text is None:
        return
    try:
        into[source.path] = parse(text)
    except ManifestError as err:
        _engine_hit(
            state,
            "AR-MOD-003",
            source.path,
            source.module,
            f"{source.path} could not be parsed: {err.message} at line {err.line}",
            line=err.line,
            column=err.column,
        )


def _engine_hit(
    state: _State,
    rule_id: str,
    file: str,
    module: str,
    message: str,
    line: int = 1,
    column: int = 1,
) -> None:
    hit = Hit(None, ("__line__", line, column), message, file=file)
    state.raws.append(_Raw(rule_id, file, module, hit))
    state.evaluated[(rule_id, file, None)] = module


# -- running ----------------------------------------------------------------------------------


class _Journal(dict[Any, Any]):
    """The evaluation table while one template's (or one repository check's) checks run: their
    writes, in order, applied to the real table only when the work finished within its budget.
    (`_run` and the pipeline's replays only write the table.)"""

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
        for is_default, key, value in self.ops:
            if is_default:
                into.setdefault(key, value)
            else:
                into[key] = value


def _contained(state: _State, ledger: bounds.Ledger, stage: str, work: Callable[[], None]) -> bool:
    """Do `work` (checks that add to `state.raws` and `state.evaluated`) as `stage` of the
    ledger's budget. When it goes over, everything it added is taken back and False is
    returned: findings cut short at a moment that depends on the machine are never reported
    as if they were the whole answer (reviewer.bounds)."""
    first = len(state.raws)
    table = state.evaluated
    journal = _Journal()
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


def _check_template(state: _State, checks: list[Check], ctx: TemplateContext) -> None:
    """Run the template checks on one template, on what is left of its budget (its decoding,
    modelling and the local checks a worker ran for it spent the rest). Over the budget, or
    over the findings caps, none of its check findings are kept and AR-MOD-006 says why."""
    from reviewer.pipeline import CHECKS_STAGE, budget_message

    template = ctx.template
    ledger = state.ledgers.pop(template.file, None) or bounds.Ledger(bounds.file_budget())
    first = len(state.raws)
    cap = bounds.findings_caps(len(template.resources))[1]

    def work() -> None:
        for check in checks:
            ledger.where = check.rule_id
            bounds.checkpoint()
            _run(state, check, ctx, template.file, template.module, template)
            if len(state.raws) - first > cap:
                raise bounds.OverBudget(f"{cap:,} findings from the checks of one template")
        ledger.where = ""

    if not ledger.over and _contained(state, ledger, CHECKS_STAGE, work):
        return
    _engine_hit(
        state, "AR-MOD-006", template.file, template.module, budget_message(template.file, ledger)
    )


def _check_repository(state: _State, check: Check, ctx: RepoContext) -> None:
    """Run one repository check on its own budget; over it, none of its findings are kept and
    AR-MOD-006 (on the repository root) names the check."""
    ledger = bounds.Ledger(bounds.repo_check_budget())

    def work() -> None:
        bounds.checkpoint()
        _run(state, check, ctx, None, None, None)

    if _contained(state, ledger, "repository checks", work):
        return
    if ledger.limit:
        bound = f"its budget of {ledger.limit}"
    else:
        bound = f"its time budget ({ledger.seconds:g} s; ARCHREVIEW_REPO_CHECK_BUDGET sets it)"
    _engine_hit(
        state,
        "AR-MOD-006",
        ".",
        ".",
        f"the repository was not fully reviewed: the repository check {check.name} "
        f"({check.rule_id}) went over {bound}; none of its findings are reported",
    )


def _run(
    state: _State,
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
        _engine_hit(
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
        hmodule = module if own and module else _module_of_file(state, hfile)
        state.raws.append(
            _Raw(check.rule_id, hfile, hmodule, hit, template if hit.file is None else None)
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
                _module_of_file(state, cfile),
            )


def _module_of_file(state: _State, file: str) -> str:
    found = state.repo.module_of_file.get(file)
    return found if found is not None else _module_for(state, file)


_MODULE_PATHS: dict[int, tuple[Any, frozenset[str]]] = {}  # id(inventory) -> (it, module paths)


def _module_for(state: _State, file: str) -> str:
    from reviewer.discover import module_of

    inventory = state.repo.inventory
    known = _MODULE_PATHS.get(id(inventory))
    if known is None or known[0] is not inventory:
        known = (inventory, frozenset(m.path for m in inventory.modules if m.path != "."))
        _MODULE_PATHS.clear()
        _MODULE_PATHS[id(inventory)] = known
    return module_of(file, known[1])


# -- findings and report ----------------------------------------------------------------------


def path_string(path: PathT) -> str | None:
    parts: list[str] = []
    elems = list(path)
    if elems and elems[0] == "Properties":
        elems = elems[1:]
    if elems and elems[0] == "__line__":
        return None
    for elem in elems:
        if isinstance(elem, int):
            if parts:
                parts[-1] += f"[{elem}]"
            else:
                parts.append(f"[{elem}]")
        else:
            parts.append(str(elem))
    return ".".join(parts) or None


def fingerprint(rule_id: str, file: str, subject: str | None, prop: str | None) -> str:
    """The logical fingerprint (reviewer.fingerprint, scheme archreview/v2) of a finding whose
    property path, with list items named, is `prop`."""
    return logical_fingerprint(rule_id, file, subject, prop)


def _named_path(raw: _Raw) -> str | None:
    """The hit's property path with list items named by what identifies them (fingerprints)."""
    hit = raw.hit
    if raw.template is None or not any(isinstance(e, int) for e in hit.path):
        return path_string(hit.path)
    res = raw.template.get(hit.subject) if hit.subject else None
    root = res.view if res is not None else raw.template.tree
    return named_path(root, hit.path)


def _locate(state: _State, raw: _Raw) -> tuple[Span, str | None]:
    hit = raw.hit
    if hit.path and hit.path[0] == "__line__":
        line = int(hit.path[1])
        col = int(hit.path[2]) if len(hit.path) > 2 else 1
        return Span(line, col, line, col), None
    if raw.template is not None:
        span = raw.template.locate(hit.subject, hit.path)
        res = raw.template.get(hit.subject) if hit.subject else None
        return span, (res.type if res else None)
    return _locate_repo(state, raw.file, hit.path), None


def _locate_repo(state: _State, file: str, path: PathT) -> Span:
    pos: tuple[int, int] | None = None
    if len(path) > 1 and path[0] == "__line__":  # a place the check located (another file's)
        pos = (int(path[1]), int(path[2]) if len(path) > 2 else 1)
    elif file in state.repo.gomods:
        from reviewer.stack.gomod import locate as go_locate

        pos = go_locate(state.repo.gomods[file], path)
    elif file in state.repo.packages:
        from reviewer.stack.npm import locate as npm_locate

        pos = npm_locate(state.repo.packages[file], path)
    elif file == ".gitmodules" and len(path) == 2 and path[0] == "submodule":
        for sub in state.repo.submodules:
            if sub.name == path[1] or sub.path == path[1]:
                pos = (sub.line, 1)
    elif file in state.repo.templates and path:
        span = state.repo.templates[file].locate(str(path[0]), path[1:])
        return span
    if pos is None:
        return Span(1, 1, 1, 1)
    return Span(pos[0], pos[1], pos[0], pos[1])


def _source_line(state: _State, file: str, line: int, column: int = 1) -> str | None:
    """The finding's source line, or the window of it around `column` that a finding keeps
    when the line is long (bounds.source_window: at most a few hundred characters, whatever the
    repository holds; `bounds.source_offset` maps the line's columns into it)."""
    lines = state.lines.get(file)
    if lines is None and file == ".gitmodules":
        text = read_text(state.root, file, state.options.max_bytes)
        if isinstance(text, str):
            lines = tuple(text.split("\n"))
            state.lines[file] = lines
    if lines and 1 <= line <= len(lines):
        return bounds.source_window(lines[line - 1], column)
    return None


def _make_finding(state: _State, raw: _Raw) -> Finding | None:
    if raw.finding is not None:
        return raw.finding
    meta = state.catalogue.get(raw.rule_id)
    if meta is None:
        return None
    hit = raw.hit
    variant = meta.variant(hit.variant)
    if variant is None and hit.variant is not None and state.options.strict:
        raise ValueError(f"{raw.rule_id} has no variant {hit.variant!r} in its rules/ file")
    profile = state.profile_for(raw.module)
    # the hit's own value, else its variant's, else the rule's; the profile's per-rule
    # severity and persona overrides win over all three
    severity = (
        profile.severity_for(raw.rule_id)
        or hit.severity
        or (variant.severity if variant else None)
        or meta.severity
    )
    confidence = hit.confidence or (variant.confidence if variant else None) or meta.confidence
    persona = (
        profile.persona_for(raw.rule_id)
        or hit.persona
        or (variant.persona if variant else None)
        or meta.persona
    )
    span, rtype = _locate(state, raw)
    prop = path_string(hit.path)
    logical_path = _named_path(raw)
    subject = hit.subject
    related: list[Location] = []
    for rel in hit.related:
        rfile = rel.file or raw.file
        if raw.template is not None and rfile == raw.file:
            rspan = raw.template.locate(rel.subject, rel.path)
        elif rel.path and rel.path[0] == "__line__":  # located by the check (another file)
            rspan = _locate_repo(state, rfile, rel.path)
        elif rfile in state.repo.templates:
            rspan = state.repo.templates[rfile].locate(rel.subject, rel.path)
        else:
            rspan = _locate_repo(state, rfile, rel.path)
        related.append(
            Location(
                rfile,
                rspan.line,
                rspan.column,
                rspan.end_line,
                rspan.end_column,
                rel.subject,
                path_string(rel.path),
                rel.label,
            )
        )
    score = rounded_score(severity, confidence)
    return Finding(
        rule_id=raw.rule_id,
        title=(variant.title if variant else None) or meta.title,
        layer=meta.layer,
        severity=severity,
        confidence=confidence,
        score=score,
        module=raw.module,
        file=raw.file,
        line=span.line,
        end_line=max(span.end_line, span.line),
        column=span.column,
        end_column=span.end_column,
        resource=subject,
        resource_type=rtype,
        property=prop,
        message=hit.message,
        fingerprint=fingerprint(raw.rule_id, raw.file, subject, logical_path),
        logical_path=logical_path,
        adr=meta.adr_for(hit.variant),
        related=tuple(related),
        source=_source_line(state, raw.file, span.line, span.column),
        persona=persona,
    )


def report_persona(options: ScanOptions) -> Persona:
    """Who the report is for: --persona, else the profile's `persona:` (default regular)."""
    return options.persona if options.persona is not None else options.profile.persona


def _report(state: _State, raws: Iterable[_Raw], entries: list[suppress.Entry]) -> Report:
    findings: list[Finding] = []
    seen: set[tuple[str, str, int, str | None, str | None, str]] = set()
    for raw in raws:
        finding = _make_finding(state, raw)
        if finding is None:
            continue
        key = (
            finding.rule_id,
            finding.file,
            finding.line,
            finding.resource,
            finding.property,
            finding.message,
        )
        if key in seen:
            continue
        seen.add(key)
        findings.append(finding)
    catalogue = state.catalogue
    merged = merge(findings, lambda rule_id: _cause_of(catalogue, rule_id))
    findings = list(merged.findings)
    if not state.options.no_ignores:
        findings = suppress.apply(
            findings, entries, state.repo.templates, state.options.baseline, merged.members
        )
    findings, hidden = _persona_filter(findings, report_persona(state.options))
    evaluations = evaluate(
        state.catalogue, state.profile_for, state.evaluated, findings, set(state.repo.templates)
    )
    return assemble(state, findings, evaluations, hidden, merged.members)


def _cause_of(catalogue: Mapping[str, RuleMeta], rule_id: str) -> str | None:
    meta = catalogue.get(rule_id)
    return meta.cause if meta is not None else None


def _persona_filter(
    findings: list[Finding], persona: Persona
) -> tuple[list[Finding], tuple[tuple[str, int], ...]]:
    """The findings shown to `persona`, and how many unsuppressed findings each persona above
    it would add (product.md *Personas*: not reported, not scored, never gating)."""
    shown: list[Finding] = []
    hidden = {p.value: 0 for p in Persona if p.rank > Persona.REGULAR.rank}
    for f in findings:
        if f.persona.rank <= persona.rank:
            shown.append(f)
        elif f.suppressed is None:
            hidden[f.persona.value] += 1
    return shown, tuple(hidden.items())


def evaluate(
    catalogue: Mapping[str, RuleMeta],
    profile_for: Callable[[str], Profile],
    evaluated: Mapping[tuple[str, str, str | None], str],
    findings: Iterable[Finding],
    template_files: set[str],
) -> tuple[Evaluation, ...]:
    """One Evaluation per (rule, resource) — (rule, file) for repository rules: what was
    judged, with a weight (the rule's severity) and a cost (its worst unsuppressed finding's
    score). Scores are computed from the findings (reviewer.scoring); evaluations count what
    was judged and tell a judged scope from one that is n/a."""
    by_key: dict[tuple[str, str, str | None], list[Finding]] = {}
    for f in findings:
        from_template = f.file in template_files and f.rule_id not in _ENGINE_RULES
        subject = f.resource if from_template else None
        by_key.setdefault((f.rule_id, f.file, subject), []).append(f)
    keys = dict(evaluated)
    for key, flist in by_key.items():
        keys.setdefault(key, flist[0].module)
    out: list[Evaluation] = []
    for (rule_id, file, subject), module in sorted(
        keys.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        meta = catalogue.get(rule_id)
        if meta is None:
            continue
        base = profile_for(module).severity_for(rule_id) or meta.severity
        w = _float_weight(base)
        cost = 0.0
        for f in by_key.get((rule_id, file, subject), ()):
            if f.suppressed is None:
                w = max(w, _float_weight(f.severity))
                cost = max(cost, f.score)
        if rule_id in UNWEIGHED_RULES:
            w, cost = 0.0, 0.0
        out.append(Evaluation(rule_id, meta.layer, module, file, subject, w, cost))
    return tuple(out)


@functools.cache
def _float_weight(severity: Severity) -> float:
    """A severity's weight as an Evaluation stores it (the exact weights are a handful of
    decimals, so comparing the floats orders them as the fractions)."""
    return float(weight(severity))


def assemble(
    state: _State,
    findings: list[Finding],
    evaluations: tuple[Evaluation, ...],
    hidden: tuple[tuple[str, int], ...] = (),
    members: Mapping[str, tuple[Finding, ...]] | None = None,
) -> Report:
    inventory = state.repo.inventory
    module_paths = {m.name: m.path for m in inventory.modules}
    scores = score_all(
        findings,
        evaluations,
        modules=module_paths,
        module_of=lambda file: _module_of_file(state, file),
        members=members,
    )
    modules = tuple(
        ModuleSummary(name, module_paths.get(name, name), block, layers)
        for name, block, layers in scores.modules
    )
    counts = _counts(findings)
    files = FileCounts(
        templates=state.counts.get("templates", 0),
        go_mod=state.counts.get("go_mod", 0),
        package_json=state.counts.get("package_json", 0),
        skipped=len(inventory.skipped),
    )
    rules = tuple(
        state.catalogue[c.rule_id].info()
        for c in sorted(state.options.checks or all_checks(), key=lambda c: c.rule_id)
        if c.rule_id in state.catalogue
    )
    profile = state.options.profile
    repository, layers = scores.repository, scores.layers
    if not (files.templates or files.go_mod or files.package_json) and not any(
        name.startswith("aws://") for name in module_paths
    ):
        # nothing was reviewed: a grade of the repository-level checks alone would read as a
        # clean bill of health (the human reports say that nothing was found)
        repository = _unscored(repository)
        layers = tuple((layer, _unscored(block)) for layer, block in layers)
    return Report(
        schema_version=SCHEMA_VERSION,
        tool_version=reviewer.__version__,
        root=str(state.root),
        profile=profile.source,
        score=repository,
        layers=layers,
        counts=counts,
        files=files,
        modules=modules,
        findings=tuple(findings),
        rules=rules,
        evaluations=evaluations,
        persona=report_persona(state.options),
        hidden=hidden,
        profile_source=profile.source_kind,
        profile_notice=profile.notice,
    )


def _unscored(block: ScoreBlock) -> ScoreBlock:
    return replace(block, score=None, grade=None, cap=None, cap_reason=None)


def _counts(findings: Iterable[Finding]) -> tuple[tuple[str, int], ...]:
    counts = {s.value: 0 for s in Severity}
    suppressed = 0
    for f in findings:
        if f.suppressed is not None:
            suppressed += 1
        else:
            counts[f.severity.value] += 1
    return (*counts.items(), ("suppressed", suppressed))


def filter_report(report: Report, min_confidence: Confidence) -> Report:
    """Hide findings below a confidence; scores are of the full scan and do not change."""
    kept = tuple(f for f in report.findings if f.confidence.rank >= min_confidence.rank)
    return replace(report, findings=kept, counts=_counts(kept))
