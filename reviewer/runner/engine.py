"""The order of a scan's work: discover -> read/decode -> model -> checks -> findings -> scores.

Every file is loaded in inventory order (reviewer.runner.pipeline may do it in a worker or
read it from the cache), then each template check runs on each template, then the repository
checks, then suppressions, findings and scores (reviewer.runner.report). Parallelism and the
cache are the pipeline's business; this module only says what is done, in what order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.checks.catalogue import load_catalogue
from reviewer.checks.custom import load_custom_rules
from reviewer.checks.registry import Check, RepoContext, TemplateContext
from reviewer.core import bounds
from reviewer.core.clock import today as clock_today
from reviewer.core.types import Report
from reviewer.decode.load import decode
from reviewer.discover.inventory import (
    Inventory,
    Skipped,
    SourceFile,
    discover_once,
    forget_real_roots,
    read_text,
)
from reviewer.findings import suppress
from reviewer.findings.make import RawHit, fingerprint
from reviewer.model.build import build
from reviewer.model.repo import RepoIndex
from reviewer.model.template import Template, forget_keys
from reviewer.profile import Profile
from reviewer.runner import pipeline
from reviewer.runner.report import build_report, filter_report
from reviewer.runner.state import (
    DECODE_STAGE,
    ENGINE_RULES,
    MODEL_STAGE,
    ScanError,
    ScanOptions,
    ScanState,
    all_checks,
    budget_message,
    check_repository,
    check_template,
    engine_hit,
    module_of_file,
    parameters_for,
    rule_runs,
    skip_message,
)

if TYPE_CHECKING:
    from reviewer.aws.live import AwsOptions

__all__ = [
    "ScanError",
    "ScanOptions",
    "all_checks",
    "filter_report",
    "fingerprint",
    "module_profiles",
    "rule_runs",
    "scan",
]


def scan(root: str | os.PathLike[str], options: ScanOptions | None = None) -> Report:
    sessions: list[pipeline.Session] = []
    with pipeline.Quiet():  # no cyclic GC while millions of long-lived nodes are made
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


def _scan(
    root: str | os.PathLike[str], options: ScanOptions | None, sessions: list[pipeline.Session]
) -> Report:
    opts = options or ScanOptions()
    base = Path(root)
    if not base.is_dir():
        raise ScanError(f"{root} is not a directory")
    profile = opts.profile
    today = opts.today or clock_today()
    custom = load_custom_rules(base, profile)  # the repository's own rules (issue 21)
    catalogue = {**load_catalogue(), **custom.metas}
    inventory = discover_once(base, max_bytes=opts.max_bytes, exclude=profile.exclude_paths)
    state = ScanState(base, opts, catalogue, RepoIndex(inventory))
    state.profiles = module_profiles(base, profile, inventory)
    profiles = (profile, *state.profiles.values())
    for file, line, message in _profile_problems(profiles):  # unreadable agent definitions
        engine_hit(state, "AR-MOD-003", file, module_of_file(state, file), message, line=line)
    checks = tuple(  # enabled by the root profile or by a module's
        c
        for c in (
            opts.checks
            if opts.checks is not None
            else all_checks()
            + tuple(replace(c, identity=c.identity or custom.digest) for c in custom.checks)
        )
        if any(p.enabled(c.rule_id) for p in profiles)
    )
    state.checks = checks
    session = _open_session(state, checks, today, sessions)
    state.session = session
    if session is not None:
        cached: Report | None = session.cached_report()  # nothing read has changed
        if cached is not None:
            return cached
        session.start()
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
        check_template(state, runs, ctx)
        if opts.progress is not None:
            opts.progress(done, len(templates))
    rctx = RepoContext(state.repo, profile, today, state.profiles)
    for check in repo_checks:
        if any(rule_runs(catalogue, check.rule_id, p) for p in profiles):
            check_repository(state, check, rctx)
    if live is not None:  # deployed templates join suppressions, findings and scores
        state.repo.templates.update(live.templates)
    entries = _suppression_entries(state, today)
    _drop_gated(state)
    raws = [r for r in state.raws if r.rule_id in enabled or r.rule_id in ENGINE_RULES]
    report = build_report(state, raws, entries)
    if session is not None and opts.keep_report and not state.incomplete:
        session.store_report(report)  # (a budget's outcome depends on timing: not kept)
    _release(state)
    return report


def module_profiles(root: Path, profile: Profile, inventory: Inventory) -> dict[str, Profile]:
    """Each module's effective profile (reviewer.profile.loader.resolve_modules: the root's,
    the root's `modules:` globs, the module's own declaration on top); the modules that answer
    to the root profile itself are left out."""
    from reviewer.profile.loader import resolve_modules

    resolved = resolve_modules(
        root, profile, [m.name for m in inventory.modules], quiet=inventory.quiet
    )
    return {name: p for name, p in resolved.items() if p is not profile}


def _profile_problems(profiles: Iterable[Profile]) -> tuple[tuple[str, int, str], ...]:
    """The declaration candidates that could not be read, each once: AR-MOD-003 findings."""
    from reviewer.profile import profile_problems

    return profile_problems(profiles)


def _drop_gated(state: ScanState) -> None:
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


def _release(state: ScanState) -> None:
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
    state: ScanState, checks: tuple[Check, ...], today: date, sessions: list[pipeline.Session]
) -> pipeline.Session | None:
    """The pool and cache for this scan (reviewer.runner.pipeline), or None for a plain serial scan."""
    opts = state.options
    if opts.cache_dir is None and opts.jobs <= 1:
        return None
    session = pipeline.Session.open(state, checks, today, cache_dir=opts.cache_dir, jobs=opts.jobs)
    sessions.append(session)
    return session


def _suppression_entries(state: ScanState, today: date) -> list[suppress.Entry]:
    """Collect inline and profile suppressions; unusable ones become AR-MOD-004 hits."""
    entries: list[suppress.Entry] = []
    for template in state.repo.templates.values():
        found, problems = suppress.inline_entries(template, today)
        entries.extend(found)
        for hit in suppress.problems_as_hits(problems):
            state.raws.append(
                RawHit(
                    "AR-MOD-004", template.file, template.module, replace(hit, file=None), template
                )
            )
            state.evaluated[("AR-MOD-004", template.file, None)] = template.module
    profile_found, expired = suppress.profile_entries(state.options.profile, today)
    entries.extend(profile_found)
    for label in expired:
        engine_hit(
            state,
            "AR-MOD-004",
            ".archreview.yml",
            ".",
            f"profile suppression {label} has no reason or has expired: it does not suppress",
        )
    return [] if state.options.no_ignores else entries


def _load(state: ScanState, inventory: Inventory) -> None:
    for skipped in inventory.skipped:
        engine_hit(state, "AR-MOD-006", skipped.path, skipped.module, skip_message(skipped))
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


def _load_aws(state: ScanState, aws_options: AwsOptions) -> RepoIndex:
    """Deployed stacks as templates named aws://REGION/STACK (module aws://REGION), in an index
    of their own (the account: repository checks and cross-template facts do not mix the two),
    matched with the repository's for the AR-DRF rules; a stack that cannot be read is
    AR-MOD-006. See docs/adr/0002-live-aws-review.md."""
    from reviewer.aws import live as aws

    live = RepoIndex(state.repo.inventory)

    try:
        fetched = aws.fetch(aws_options)
    except aws.AwsFailure as err:
        raise ScanError(str(err)) from None
    for gone in fetched.unreviewed:
        state.repo.module_of_file[gone.file] = gone.module
        engine_hit(state, "AR-MOD-006", gone.file, gone.module, gone.message)
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
            engine_hit(
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
            engine_hit(state, "AR-MOD-006", stack.file, stack.module, message)
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


def _read(state: ScanState, source: SourceFile) -> str | None:
    text = read_text(state.root, source.path, state.options.max_bytes)
    if isinstance(text, Skipped):
        engine_hit(state, "AR-MOD-006", source.path, source.module, skip_message(text))
        return None
    state.lines[source.path] = tuple(text.split("\n"))
    return text


def _load_template(
    state: ScanState, source: SourceFile, samconfigs: Mapping[str, SourceFile]
) -> None:
    if isinstance(state.session, pipeline.Session):
        loaded = state.session.loaded(source)
    else:
        text = read_text(state.root, source.path, state.options.max_bytes)
        loaded = pipeline.prepare(source, text, root=state.root, max_bytes=state.options.max_bytes)
    if loaded.lines is not None:
        state.lines[source.path] = loaded.lines
    if loaded.hit is not None:
        rule_id, message, line, column = loaded.hit
        engine_hit(state, rule_id, source.path, source.module, message, line=line, column=column)
    if loaded.ledger is not None:
        if loaded.ledger.over:
            state.incomplete = True
        state.ledgers[source.path] = loaded.ledger
    template = loaded.template
    if template is None:
        return
    template.repo = state.repo
    template.parameter_values.update(parameters_for(state, template, samconfigs))
    state.repo.templates[source.path] = template
    for doc in template.documents.values():  # included OpenAPI files: findings quote them
        if doc.lines:
            state.lines.setdefault(doc.file, doc.lines)


def _load_gomod(state: ScanState, source: SourceFile) -> None:
    from reviewer.model.manifests.gomod import parse_gomod

    _load_manifest(state, source, parse_gomod, state.repo.gomods)


def _load_package(state: ScanState, source: SourceFile) -> None:
    from reviewer.model.manifests.npm import parse_package_json

    _load_manifest(state, source, parse_package_json, state.repo.packages)


def _load_manifest(
    state: ScanState, source: SourceFile, parse: Callable[[str], Any], into: dict[str, Any]
) -> None:
    """Parse a go.mod or package.json into the repository index; a parse error is AR-MOD-003
    at its line."""
    from reviewer.model.manifests import ManifestError

    text = _read(state, source)
    if text is None:
        return
    try:
        into[source.path] = parse(text)
    except ManifestError as err:
        engine_hit(
            state,
            "AR-MOD-003",
            source.path,
            source.module,
            f"{source.path} could not be parsed: {err.message} at line {err.line}",
            line=err.line,
            column=err.column,
        )
