"""The scan's fast paths: worker processes over template files and a content-hash cache.

The engine's order of work stays what it is (load every file in inventory order, then run each
template check on each template, then the repository checks, then suppressions and scores);
this module only decides where a piece of that work is done and whether it must be done again:

* Loading a template (decode, build the model) and running the *local* template checks on it
  is shared between the parent and forked workers (`Share`): the parent takes files from the
  front of the list as the engine asks for them, the workers take small chunks from the back,
  and they meet wherever the machine makes them meet — no share is fixed in advance. A worker
  sends each template pickled, with what each local check produced captured (its hits, the
  findings made of them, its evaluation bookkeeping); the parent captures its own files the
  same way, and replays every capture at the exact place the engine would have run the check:
  the report is byte-identical whatever the number of processes (tests/test_parallel.py).
* A check is local for a template when it reads nothing beyond that template. The registry
  declares the checks that read other templates or repository facts (`cross_file`); they, and
  every check on a template that is not self-contained (an `Fn::ImportValue`, a nested stack,
  a parent binding its parameters), run in the parent with the whole repository. Whatever a
  "local" check is, it runs against a guard that stands for the repository and the other
  templates: touching them marks the capture invalid and the parent runs that check itself.
  So a wrong declaration costs time, never correctness.
* The cache keeps, per template file, the built model (so a warm scan neither decodes nor
  imports cfn-lint) and the local captures, keyed by the file's content, path and module, and
  by archreview's code, the rules, the profile, the options and the date; per cross-file check
  and template (and per repository check), its result with what it read (reviewer.model.reads,
  reviewer.runner.crossfile), replayed while all of that is unchanged; and, per scan, the whole
  report, keyed by all of that plus every file the scan reads and the tree's listing.
* A template's budget (reviewer.core.bounds) follows it: the `Ledger` that decoding and modelling
  started, in whichever process, goes on with its local checks there and comes back with the
  template, and the engine runs the remaining checks on what is left of it. A result that
  went over a budget depends on timing, so it is never cached: not the model, not the local
  captures, not the report.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from reviewer.cache.store import (
    Cache,
    Unhashable,
    code_fingerprint,
    digest,
    forget_reads,
    read_once,
    text_digest,
    tree_listing,
)
from reviewer.core.bounds import Ledger, checkpoint, file_budget, metered
from reviewer.core.types import AdrText
from reviewer.discover.inventory import Skipped, SourceFile
from reviewer.findings.make import RawHit, make_finding
from reviewer.model import reads
from reviewer.runner.crossfile import FrozenReads, RecordingRepo, Validity
from reviewer.runner.state import (
    CHECKS_STAGE,
    DECODE_STAGE,
    MODEL_STAGE,
    Journal,
    ScanState,
    apply_ops,
    budget_message,
    parameters_for,
    rule_runs,
    run_check,
    skip_message,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from reviewer.checks.registry import Check
    from reviewer.core.types import Finding, Hit, Report
    from reviewer.model.template import Template

_PROTOCOL = pickle.HIGHEST_PROTOCOL
CROSS_VERSIONS = 8  # records kept per (check, template): an edit and its undo both stay warm
POOL_MIN_FILES = 24  # fewer templates to load than this: the pool's start-up is not worth it
NESTING_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


# -- loading one template -----------------------------------------------------------------------


@dataclass
class Loaded:
    """One template file read, decoded and built: what the engine registers for it."""

    lines: tuple[str, ...] | None  # None when the file could not be read
    template: Template | None
    hit: tuple[str, str, int, int] | None = None  # an engine finding: (rule, message, line, column)
    # what the file has spent of its budget in this scan (decoding, modelling and the local
    # checks run with it); None when it comes from the cache (nothing spent on it yet)
    ledger: Ledger | None = None


def prepare(
    source: SourceFile,
    text: str | Skipped,
    *,
    root: str | os.PathLike[str] | None = None,
    max_bytes: int = 0,
) -> Loaded:
    """Decode and build a template file, as the engine always has (the same findings for a file
    that cannot be read, is empty, or does not parse), on the file's budget (reviewer.core.bounds):
    a file whose decoding or modelling goes over it is AR-MOD-006 naming the stage. With a
    `root`, the local OpenAPI files its APIs include are read too (reviewer.model.openapi), as
    part of its modelling and with `max_bytes` as their size cap."""
    from reviewer.decode.load import decode
    from reviewer.model.build import build

    if isinstance(text, Skipped):
        return Loaded(None, None, ("AR-MOD-006", skip_message(text), 1, 1))
    lines = tuple(text.split("\n"))
    path = source.path
    if not text.strip():
        return Loaded(lines, None, ("AR-MOD-003", f"{path} is empty", 1, 1))
    ledger = Ledger(file_budget())
    if ledger.seconds:
        from reviewer.decode.load import import_decoder

        import_decoder()  # once per process: not charged to the first file decoded
    tree: Any = None
    problems: tuple[Any, ...] = ()
    template: Template | None = None
    with metered(ledger, DECODE_STAGE):
        checkpoint()
        tree, problems = decode(text, json_first=path.lower().endswith(".json"))
    if not ledger.over and tree is not None and not problems:
        with metered(ledger, MODEL_STAGE):
            checkpoint()
            template = build(path, source.module, tree, text)
            if root is not None:
                from reviewer.model.openapi import attach

                attach(template, root, max_bytes)
    if ledger.over:
        message = budget_message(path, ledger, "was not reviewed")
        return Loaded(lines, None, ("AR-MOD-006", message, 1, 1), ledger)
    if problems:
        head = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = f"{path} could not be parsed: {head.message} at line {head.line}{more}"
        return Loaded(lines, None, ("AR-MOD-003", message, head.line, head.column), ledger)
    if template is None:
        return Loaded(lines, None, ("AR-MOD-003", f"{path} holds no document", 1, 1), ledger)
    return Loaded(template.lines, template, None, ledger)


# -- captures -----------------------------------------------------------------------------------


@dataclass
class Capture:
    """What one check did on one template, to be replayed into the engine's state: the raw
    findings (rule, file, module, hit, bound to the template, and the Finding the engine makes
    of it — located, with its source line — when it is bound) and, in order, the writes to the
    evaluation table (setdefault?, key, module)."""

    raws: list[tuple[str, str, str, Hit, bool, Finding | None]]
    ops: list[tuple[bool, tuple[str, str, str | None], str]]


_NO_ADR = AdrText("", "", "")


class _CrossFile(BaseException):
    """A check running as local touched the repository or another template. (A BaseException:
    the engine's `except Exception` around a check must not take it for a crash.)"""


class _Recorder(Journal):
    """The evaluation table of a capture: its writes in order (a Journal); any read spoils it
    (the engine's bookkeeping would then depend on what other checks wrote)."""

    def __init__(self) -> None:
        super().__init__()
        self.spoiled = False

    def _read(self) -> None:
        self.spoiled = True

    def __getitem__(self, key: Any) -> Any:
        self._read()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._read()
        return super().__contains__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._read()
        return super().get(key, default)

    def __iter__(self) -> Iterator[Any]:
        self._read()
        return super().__iter__()

    def __len__(self) -> int:
        self._read()
        return super().__len__()

    def keys(self) -> Any:
        self._read()
        return super().keys()

    def values(self) -> Any:
        self._read()
        return super().values()

    def items(self) -> Any:
        self._read()
        return super().items()


class _Guarded(dict[Any, Any]):
    """A mapping that holds only the template's own entry; any other access trips the guard."""

    def __init__(self, guard: LocalRepo, own: Mapping[Any, Any]) -> None:
        super().__init__(own)
        self._guard = guard

    def _own(self, key: Any) -> bool:
        if super().__contains__(key):
            return True
        self._guard.trip()
        return False

    def __getitem__(self, key: Any) -> Any:
        self._own(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key) if self._own(key) else default

    def __contains__(self, key: object) -> bool:
        return self._own(key)

    def __iter__(self) -> Iterator[Any]:
        self._guard.trip()
        return iter(())

    def __len__(self) -> int:
        self._guard.trip()
        return 0

    def keys(self) -> Any:
        self._guard.trip()
        return {}.keys()

    def values(self) -> Any:
        self._guard.trip()
        return {}.values()

    def items(self) -> Any:
        self._guard.trip()
        return {}.items()


class _GuardCache(dict[str, Any]):
    """The repository's memo while a local check runs: the check's own entries, and per-template
    entries named after the template (`"...|{t.file}"`), which start empty; reading any other
    entry (a repository-wide fact) trips the guard."""

    def __init__(self, guard: LocalRepo, file: str) -> None:
        super().__init__()
        self._guard = guard
        self._file = file

    def _allowed(self, key: Any) -> bool:
        if super().__contains__(key) or (isinstance(key, str) and self._file in key):
            return True
        self._guard.trip()
        return False

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, default) if self._allowed(key) else default

    def __getitem__(self, key: Any) -> Any:
        self._allowed(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        return self._allowed(key) and super().__contains__(key)


class LocalRepo:
    """Stands for the repository while a local check runs on one template: it answers for that
    template only (what `pointed(repo, t, ...)` asks about t's own resources); anything else —
    another template, exports, nested stacks, manifests, the inventory — trips it."""

    def __init__(self, template: Template, inventory: Any, *, engine_side: bool) -> None:
        self._template: Template | None = template
        self.tripped = False
        self.templates = _Guarded(self, {template.file: template})
        self.module_of_file = _Guarded(self, {template.file: template.module})
        self.cache = _GuardCache(self, template.file)
        # the engine's own bookkeeping (a hit's module) may read the module list; checks may not
        self._inventory = inventory if engine_side else None

    def trip(self) -> None:
        self.tripped = True
        raise _CrossFile

    def release(self) -> None:
        self._template = None
        self.cache.clear()

    @property
    def inventory(self) -> Any:
        if self._inventory is None:
            self.trip()
        return self._inventory

    def template(self, file: str) -> Template | None:
        if self._template is not None and file == self._template.file:
            return self._template
        self.trip()
        return None

    def child_of(self, parent: Template, logical_id: str) -> Template | None:
        if parent is self._template and not parent.of_type(*NESTING_TYPES):
            return None  # no stack resource: no child
        self.trip()
        return None

    def __getattr__(self, name: str) -> Any:  # export, gomods, packages, submodules, ...
        self.trip()
        raise AttributeError(name)


class ManifestView:
    """Stands for the repository while a `manifests_only` repository check runs: the parsed
    go.mod and package.json files and their modules, and a memo of its own; anything else —
    templates, exports, the inventory, the tree — trips it, and the check runs uncached."""

    def __init__(self, repo: Any) -> None:
        self.tripped = False
        self.gomods = repo.gomods
        self.packages = repo.packages
        manifests = {f: repo.module_of_file.get(f) for f in (*repo.gomods, *repo.packages)}
        self.module_of_file = _Guarded(self, {f: m for f, m in manifests.items() if m is not None})  # type: ignore[arg-type]
        self.cache: dict[str, Any] = {}

    def trip(self) -> None:
        self.tripped = True
        raise _CrossFile

    def __getattr__(self, name: str) -> Any:  # templates, inventory, submodules, export, ...
        self.trip()
        raise AttributeError(name)


def manifests_key(repo: Any) -> str:
    """What a `manifests_only` check reads: each manifest's path, module and parsed content
    (the text digest is not kept once parsed; the parsed value's repr is plain dataclasses)."""
    return digest(
        "manifests",
        [(f, repo.module_of_file.get(f), repr(repo.gomods[f])) for f in sorted(repo.gomods)],
        [(f, repo.module_of_file.get(f), repr(repo.packages[f])) for f in sorted(repo.packages)],
    )


def self_contained(template: Template) -> bool:
    """Nothing of the template's own resolution reaches another template: no Fn::ImportValue,
    no nested stack. (Whether a parent binds its parameters is known only once all templates
    are loaded: the parent checks `parameter_sources` before replaying.)"""
    if template.of_type(*NESTING_TYPES):
        return False
    stack: list[Any] = [template.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "Fn::ImportValue" in node:
                return False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _scratch(state: ScanState, repo: Any, template: Template | None) -> tuple[ScanState, _Recorder]:
    """A scan state for capturing checks: the scan's options, catalogue and profiles, `repo`
    (the repository, or a guard standing for it), the template's lines, and a recorder as its
    evaluation table."""
    scratch = ScanState(state.root, state.options, state.catalogue, repo)
    scratch.profiles = state.profiles
    if template is not None:
        scratch.lines[template.file] = template.lines
    recorder = _Recorder()
    scratch.evaluated = recorder
    return scratch, recorder


def capture(
    state: ScanState,
    check: Check,
    ctx: Any,
    template: Template | None,
    guard: LocalRepo | ManifestView | None,
) -> Capture | None:
    """Run the engine's `run_check` for one check on one template into a scratch state and return
    what it did, or None when the check reached beyond the template (guard tripped) or its
    bookkeeping read the evaluation table."""
    scratch, recorder = _scratch(state, state.repo, template)
    try:
        if template is not None:
            run_check(scratch, check, ctx, template.file, template.module, template)
        else:  # a repository check
            run_check(scratch, check, ctx, None, None, None)
    except _CrossFile:
        return None
    if (guard is not None and guard.tripped) or recorder.spoiled:
        return None
    return _kept(scratch, scratch.raws, list(recorder.ops), template)


def capture_local(
    state: ScanState,
    checks: tuple[Check, ...],
    ctx: Any,
    template: Template,
    checks_guard: LocalRepo,
    engine_guard: LocalRepo,
    ledger: Ledger,
    *,
    strip: bool = True,
) -> dict[str, Capture | None]:
    """`capture` for every local check on one template, in one scratch state: what each check
    did, or None for a check that reached beyond the template (either guard tripped) or read
    the evaluation table. The same captures as one `capture` per check, without a scratch
    state and a recorder per check."""
    scratch, recorder = _scratch(state, engine_guard, template)
    raws_now = scratch.raws
    ops_now = recorder.ops
    file, module = template.file, template.module
    out: dict[str, Capture | None] = {}
    for check in checks:
        ledger.where = check.rule_id
        checkpoint()
        checks_guard.tripped = engine_guard.tripped = recorder.spoiled = False
        try:
            run_check(scratch, check, ctx, file, module, template)
        except _CrossFile:
            checks_guard.tripped = True
        produced = raws_now[:]
        ops = ops_now[:]
        raws_now.clear()
        ops_now.clear()
        if checks_guard.tripped or engine_guard.tripped or recorder.spoiled:
            out[check.rule_id] = None
            continue
        out[check.rule_id] = _kept(scratch, produced, ops, template, strip=strip)
    return out


def _kept(
    scratch: ScanState,
    produced: list[RawHit],
    ops: list[Any],
    template: Template | None,
    *,
    strip: bool = True,
) -> Capture | None:
    """One local check's capture from what it produced; None when a hit belongs to another
    template or is related to a location in one."""
    from reviewer.core.types import evolve

    raws: list[tuple[str, str, str, Hit, bool, Finding | None]] = []
    for raw in produced:
        if raw.template is not None and raw.template is not template:
            return None
        bound = raw.template is not None
        try:
            finding = make_finding(scratch, raw) if bound else None
        except _CrossFile:  # a related location in another template
            return None
        if finding is not None and strip:  # a capture to pickle: the ADR text is put back on
            finding = evolve(finding, adr=_NO_ADR)  # replay, kept once per rule, not per hit
        raws.append((raw.rule_id, raw.file, raw.module, raw.hit, bound, finding))
    return Capture(raws, ops)


# -- what a scan's result depends on, besides the files ------------------------------------------

_OPTION_FIELDS = ("parameters", "sam_env", "max_bytes", "no_ignores", "baseline", "persona")


def checks_key(
    checks: tuple[Check, ...],
    options: Any,
    today: date,
    profiles: Mapping[str, Any] | None = None,
) -> str | None:
    """Digest of what check results depend on besides the files: archreview's code, the checks,
    the profile and each module's own (`profiles`, read from the tree: a module's
    .archreview.yml is not a scanned file), the date, strictness. None when something has no
    stable digest."""
    try:
        return digest(
            "checks",
            code_fingerprint(),
            [(c.rule_id, c.kind, c.cross_file, c.identity or c.fn) for c in checks],
            options.profile,
            dict(profiles or {}),
            today,
            options.strict,
        )
    except Unhashable:
        return None


def options_key(options: Any) -> str | None:
    """Digest of everything but the files that a scan with these options reports: the enabled
    checks and `checks_key`, and the options that shape the findings (parameters, SAM
    environment, size limit, --no-ignores, baseline). None: cannot be keyed (or --aws, whose
    inputs are the deployed stacks)."""
    from reviewer.core.clock import today as clock_today
    from reviewer.runner.state import all_checks

    if getattr(options, "aws", None) is not None:
        return None
    profile = options.profile
    checks = tuple(
        c
        for c in (options.checks if options.checks is not None else all_checks())
        if profile.enabled(c.rule_id)
    )
    env = checks_key(checks, options, options.today or clock_today())
    if env is None:
        return None
    try:
        return digest("options", env, [getattr(options, name) for name in _OPTION_FIELDS])
    except Unhashable:
        return None


# -- the session --------------------------------------------------------------------------------


@dataclass
class _File:
    source: SourceFile
    text: str | Skipped
    key: str | None = None  # cache key of the loaded template
    local_key: str | None = None  # cache key of its local captures
    loaded: Loaded | None = None
    captures: dict[str, Capture | None] | None = None  # rule id -> capture (None: run it here)
    remote: bool = False  # loaded by a worker process (else by the parent, when it gets there)


@dataclass
class _CrossBook:
    """One subject's kept cross-file records (a template's, or the repository's): the stored
    versions, newest last, and what this scan found valid or ran again."""

    base: str
    versions: list[dict[str, tuple[FrozenReads, Capture]]] = field(default_factory=list)
    free: str | None = None  # the key of the next version
    now: dict[str, tuple[FrozenReads, Capture]] = field(default_factory=dict)
    changed: bool = False


def _records(stored: Any) -> bool:
    return isinstance(stored, dict) and all(
        isinstance(k, str)
        and isinstance(v, tuple)
        and len(v) == 2
        and isinstance(v[0], FrozenReads)
        and isinstance(v[1], Capture)
        for k, v in stored.items()
    )


@dataclass
class Session:
    """One scan's use of the pool and the cache (see the module docstring)."""

    state: ScanState
    checks: tuple[Check, ...]
    today: date
    cache: Cache | None
    jobs: int
    files: dict[str, _File] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    env: str | None = None  # digest of what check results depend on (None: do not cache them)
    report_key: str | None = None
    local_checks: tuple[Check, ...] = ()
    samconfigs: dict[str, SourceFile] = field(default_factory=dict)
    _manifests_key: str | None = None
    _validity: Validity | None = None
    _books: dict[str, _CrossBook | None] = field(default_factory=dict)
    _runs: dict[int, tuple[Check, ...]] = field(default_factory=dict)  # local checks by profile
    _tree: tuple[Any] | None = None
    _dep_keys: dict[str, str | None] = field(default_factory=dict)
    _facts: dict[str, str | None] = field(default_factory=dict)
    _share: Share | None = None  # the worker processes while templates are being loaded
    _index: dict[str, int] = field(default_factory=dict)  # a template's place in `order`
    stats: dict[str, int] = field(default_factory=dict)

    # -- set-up --------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        state: ScanState,
        checks: tuple[Check, ...],
        today: date,
        *,
        cache_dir: str | os.PathLike[str] | None,
        jobs: int,
    ) -> Session:
        cache = Cache.open(cache_dir, root=state.root) if cache_dir is not None else None
        session = cls(state, checks, today, cache, max(1, jobs))
        session._read_files()
        session._keys()
        return session

    def _read_files(self) -> None:
        state = self.state
        for source in state.repo.inventory.files:
            if source.kind == "samconfig":
                self.samconfigs[source.path] = source
            if source.kind != "template":
                continue
            text = read_once(state.root, source.path, state.options.max_bytes)
            self.files[source.path] = _File(source, text)
            self._index[source.path] = len(self.order)
            self.order.append(source.path)
        template_checks = sorted(
            (c for c in self.checks if c.kind == "template"), key=lambda c: c.rule_id
        )
        self.local_checks = tuple(c for c in template_checks if not c.cross_file)

    def _keys(self) -> None:
        """Cache keys: per template (model, local captures) and for the whole report."""
        if self.cache is None:
            return
        state = self.state
        opts = state.options
        code = code_fingerprint()
        base = digest("model", code)
        self.env = checks_key(self.checks, opts, self.today, state.profiles)
        for path in self.order:
            entry = self.files[path]
            if isinstance(entry.text, Skipped):
                continue
            src = entry.source
            entry.key = digest(base, src.path, src.module, text_digest(entry.text))
        self.report_key = self._report_key()

    def _local_key(self, entry: _File, template: Template | None = None) -> str | None:
        """The key of a template's local captures (the same in every process): the model's
        key, the checks' environment, its parameters and the files it includes (OpenAPI
        definitions, by content digest)."""
        if entry.local_key is None and entry.key is not None and self.env is not None:
            from reviewer.model.openapi import documents_digest

            params = self._params_digest(entry.source.path)
            if template is None and entry.loaded is not None:
                template = entry.loaded.template
            docs = documents_digest(template) if template is not None else []
            entry.local_key = digest(entry.key, self.env, params, docs)
        return entry.local_key

    def _params_digest(self, path: str) -> str:
        """What `parameters_for` may give this template: its samconfig files and the options."""
        opts = self.state.options
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        configs = []
        for candidate in (
            f"{folder}/samconfig.toml" if folder else "samconfig.toml",
            "samconfig.toml",
        ):
            if candidate in self.samconfigs:  # read, digested and parsed once per scan
                from reviewer.model.samconfig import reader_for

                state = self.state
                reader = reader_for(state, state.root, opts.max_bytes, opts.sam_env)
                configs.append((candidate, reader.fingerprint(candidate)))
        return digest(configs, opts.sam_env, dict(opts.parameters))

    def _report_key(self) -> str | None:
        state = self.state
        opts = state.options
        if self.env is None or getattr(opts, "aws", None) is not None:
            return None
        inventory = state.repo.inventory
        contents: list[tuple[str, str | None]] = []
        for source in inventory.files:
            entry = self.files.get(source.path)
            text = (
                entry.text
                if entry is not None
                else read_once(state.root, source.path, opts.max_bytes)
            )
            contents.append((source.path, text_digest(text) if isinstance(text, str) else None))
        try:
            return digest(  # not the root: Report.root is set on a hit (a base checkout moves)
                "report",
                self.env,
                # plain frozen dataclasses of strings and numbers: their repr is stable
                repr((inventory.files, inventory.skipped, inventory.modules, inventory.submodules)),
                contents,
                self._listing_of_tree(),
                [getattr(opts, name) for name in _OPTION_FIELDS],
            )
        except Unhashable:
            return None

    # -- the whole report ---------------------------------------------------------------------
    def cached_report(self) -> Report | None:
        if self.cache is None or self.report_key is None:
            return None
        from reviewer.core.types import Report

        # A Report; or, when the templates include files (OpenAPI definitions, which the key
        # cannot name before the templates are read), (Report, [(file, digest then)]).
        # Entries are never replaced: the first report of these templates names the files
        # they include, and the report of other contents of those files is kept under a key
        # that adds them (`_with_included`).
        stored = self.cache.get("report", self.report_key)
        if isinstance(stored, Report):  # the templates include no file
            stored = (stored, [])
        now = self._included_now(stored[1]) if _report_entry(stored) else None
        if now is not None and now != stored[1]:
            stored = self.cache.get("report", _with_included(self.report_key, now))
        if _report_entry(stored) and now is not None and stored[1] == now:
            self.stats["report_hit"] = 1
            found: Report = stored[0]
            return replace(found, root=str(self.state.root))
        return None

    def _included_now(self, included: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The same files, with the digests of their contents now."""
        from reviewer.model.openapi import fingerprint

        opts = self.state.options
        return [(f, fingerprint(self.state.root, f, opts.max_bytes)) for f, _ in included]

    def store_report(self, report: Report) -> None:
        if self.cache is not None and self.report_key is not None:
            from reviewer.model.openapi import documents_digest

            included = sorted(
                {d for t in self.state.repo.templates.values() for d in documents_digest(t)}
            )
            if not included:
                self.cache.put("report", self.report_key, report)
                return
            self.cache.put("report", self.report_key, (report, included))
            other = _with_included(self.report_key, included)
            self.cache.put("report", other, (report, included))

    # -- loading -------------------------------------------------------------------------------
    def start(self) -> None:
        """Look every template up in the cache; load the rest, in the pool when it pays."""
        forget_reads()
        misses: list[int] = []
        for i, path in enumerate(self.order):
            entry = self.files[path]
            if self.cache is not None and entry.key is not None:
                loaded = self._cached_model(entry.key)
                if loaded is not None:
                    loaded.ledger = None  # nothing spent on it in this scan yet
                    entry.loaded = loaded
                    self._cached_captures(entry)
                    continue
            misses.append(i)
        self.stats["loaded_from_cache"] = len(self.order) - len(misses)
        self.stats["decoded"] = len(misses)
        if self.jobs > 1 and len(misses) >= POOL_MIN_FILES and _can_fork():
            self._start_pool(misses)

    def _cached_model(self, key: str) -> Loaded | None:
        """The cached model of a template, current: every file its template included (its
        OpenAPI definitions) has the content it had when it was read. Entries are never
        replaced, so the first model names the files; a model read with other contents of
        them is kept under a key that adds those contents (`_with_included`)."""
        assert self.cache is not None
        from reviewer.model.openapi import documents_digest, fresh

        loaded = self.cache.get("model", key)
        if not isinstance(loaded, Loaded):
            return None
        template = loaded.template
        if template is None or not template.documents:
            return loaded
        root, max_bytes = self.state.root, self.state.options.max_bytes
        if fresh(template, root, max_bytes):
            return loaded
        now = self._included_now(documents_digest(template))
        other = self.cache.get("model", _with_included(key, now))
        current = (
            isinstance(other, Loaded)
            and other.template is not None
            and documents_digest(other.template) == now
        )
        return other if current else None

    def _cached_captures(self, entry: _File) -> None:
        if self.cache is None or self.env is None or entry.loaded is None:
            return
        if entry.loaded.template is None:
            return
        key = self._local_key(entry)
        captures = self.cache.get("local", key) if key is not None else None
        if isinstance(captures, dict):
            entry.captures = captures

    def _start_pool(self, misses: list[int]) -> None:
        """Share the files to load with jobs - 1 forked workers (reviewer.runner.pipeline.Share):
        no share is fixed in advance, so the processes finish together on any machine."""
        # The decoder is imported once, here, before the fork: the workers inherit it (and
        # share its pages) instead of each importing it again.
        from reviewer.decode.load import import_decoder

        import_decoder()
        global _ACTIVE
        _ACTIVE = self  # what the forked workers see
        try:
            self._share = Share(misses, self.jobs - 1)
        except OSError:
            self._share = None
        if self._share is None:
            _ACTIVE = None
            return
        for index in misses:
            self.files[self.order[index]].remote = True

    def loaded(self, source: SourceFile) -> Loaded:
        """The loaded template for a file (called in inventory order): from the cache, from a
        worker, or loaded here when no worker has taken it yet."""
        entry = self.files[source.path]
        share = self._share
        if entry.loaded is None and entry.remote and share is not None:
            index = self._index[source.path]
            if not share.claim(index):  # a worker has it: wait for what it sends
                sent = share.take(index)
                if sent is not None:
                    blob, cblob = sent
                    entry.loaded = pickle.loads(blob)
                    if cblob is not None:
                        entry.captures = pickle.loads(cblob)
                    self.stats["loaded_remote"] = self.stats.get("loaded_remote", 0) + 1
        if entry.loaded is None:  # here, in the parent
            entry.loaded, entry.captures = self.work_one(entry)
            self.stats["loaded_here"] = self.stats.get("loaded_here", 0) + 1
        return entry.loaded

    def work_one(
        self, entry: _File, *, remote: bool = False
    ) -> tuple[Loaded, dict[str, Capture | None] | None]:
        """Load one file and run its local checks (in a worker, in the parent while workers
        run, or for the cache); store both in the cache. The template is returned as the
        engine expects it: before parameters and repository are set. In a serial scan without
        a cache the checks are left to the engine's own loop: capturing them would only cost."""
        opts = self.state.options
        loaded = prepare(entry.source, entry.text, root=self.state.root, max_bytes=opts.max_bytes)
        ledger = loaded.ledger
        over = ledger is not None and ledger.over  # a matter of timing: never cached
        if self.cache is not None and entry.key is not None and not over:
            kept = replace(loaded, ledger=None)
            self.cache.put("model", entry.key, kept)
            if loaded.template is not None and loaded.template.documents:
                from reviewer.model.openapi import documents_digest

                included = documents_digest(loaded.template)
                self.cache.put("model", _with_included(entry.key, included), kept)
        template = loaded.template
        if (
            template is None
            or not self.local_checks
            or (self.cache is None and not remote and self._share is None)
        ):
            return loaded, None
        if ledger is None:
            ledger = loaded.ledger = Ledger(file_budget())
        try:
            with metered(ledger, CHECKS_STAGE):  # the template's budget, what decoding left
                captures = self._run_local(
                    entry, template, ledger, strip=remote or self.cache is not None
                )
        finally:
            template.parameter_values.clear()  # the engine sets them again, from the same sources
            template.targets_memo.clear()  # remembered while the guard stood for the repository
        if ledger.over:  # the engine reports it, and runs none of its checks
            return loaded, None
        cacheable = self.cache is not None and self.env is not None and entry.key is not None
        if captures is not None and cacheable:
            assert self.cache is not None
            assert entry.key is not None
            self.cache.put("local", self._local_key(entry, template) or "", captures)
        return loaded, captures

    def _run_local(
        self, entry: _File, template: Template, ledger: Ledger, *, strip: bool = True
    ) -> dict[str, Capture | None] | None:
        from reviewer.checks.registry import TemplateContext

        if not self_contained(template):
            return None
        state = self.state
        inventory = state.repo.inventory
        checks_guard = LocalRepo(template, inventory, engine_side=False)
        engine_guard = LocalRepo(template, inventory, engine_side=True)
        template.repo = checks_guard
        template.parameter_values.update(parameters_for(state, template, self.samconfigs))
        profile = state.profile_for(template.module)
        ctx = TemplateContext(template, profile, checks_guard, self.today)  # type: ignore[arg-type]
        try:
            out = capture_local(
                state,
                self._local_runs(profile),
                ctx,
                template,
                checks_guard,
                engine_guard,
                ledger,
                strip=strip,
            )
        finally:
            template.repo = None
            checks_guard.release()
            engine_guard.release()
        ledger.where = ""  # (over the budget, it names the check that was running)
        return out

    def _local_runs(self, profile: Any) -> tuple[Check, ...]:
        """The local checks the engine runs under `profile` (worked out once per profile)."""
        found = self._runs.get(id(profile))
        if found is None:
            catalogue = self.state.catalogue
            found = tuple(c for c in self.local_checks if rule_runs(catalogue, c.rule_id, profile))
            self._runs[id(profile)] = found
        return found

    def _close_pool(self, *, terminate: bool = False) -> None:
        global _ACTIVE
        if self._share is not None:
            self._share.close(terminate=terminate)
            self._share = None
        if _ACTIVE is self:
            _ACTIVE = None

    def abort(self) -> None:
        """The scan failed: stop the workers now."""
        self._close_pool(terminate=True)
        if self.cache is not None:
            self.cache.close()

    # -- checks --------------------------------------------------------------------------------
    def replay(self, state: ScanState, check: Check, template: Template) -> bool:
        """Replay a captured local check on a repository template; False: run it."""
        entry = self.files.get(template.file)
        if (
            entry is None
            or entry.captures is None
            or entry.loaded is None
            or entry.loaded.template is not template
            or template.parameter_sources
        ):
            return False
        cap = entry.captures.get(check.rule_id)
        if cap is None:
            return False
        _apply(state, cap, template)
        self.stats["replayed"] = self.stats.get("replayed", 0) + 1
        return True

    def replay_repo(self, state: ScanState, check: Check, ctx: Any) -> bool:
        """A `manifests_only` repository check: replay what it did on these manifests (from the
        cache, or captured now behind a ManifestView); False: the engine runs it."""
        if self.cache is None or self.env is None or not check.manifests_only:
            return False
        key = digest("repo-check", self.env, check.rule_id, self._manifests(state))
        cap = self.cache.get("repo", key)
        if not isinstance(cap, Capture):
            view = ManifestView(state.repo)
            guarded = replace(ctx, repo=view)
            cap = capture(state, check, guarded, None, view)
            if cap is None:
                return False
            self.cache.put("repo", key, cap)
        else:
            self.stats["repo_replayed"] = self.stats.get("repo_replayed", 0) + 1
        _apply(state, cap, None)
        return True

    # -- cross-file checks and repository checks, kept with what they read --------------------
    def replay_cross(
        self, state: ScanState, check: Check, ctx: Any, template: Template | None
    ) -> bool:
        """A cross-file template check on `template`, or a repository check (`template` None):
        replay what it found from the cache while everything it read is unchanged; else run it
        with its reads recorded (reviewer.model.reads), keep that, and replay it. False: the
        engine runs it (no cache, or something it reads cannot be recorded). A subject's
        records are one cache entry, written again (as a new version) when one changed."""
        if self.cache is None or self.env is None or getattr(state.options, "aws", None):
            return False
        if template is not None and (template.parameter_sources or not check.cross_file):
            return False
        book = self._book(template.file if template is not None else None)
        if book is None:
            return False
        validity = self._validity_now(state)
        for version in book.versions:
            record = version.get(check.rule_id)
            if record is not None and validity.holds(record[0]):
                book.now[check.rule_id] = record
                _apply(state, record[1], template)
                self.stats["cross_replayed"] = self.stats.get("cross_replayed", 0) + 1
                return True
        log = reads.ReadLog(template.file if template is not None else None)
        with reads.recording(log):
            cap = capture(state, check, replace(ctx, repo=RecordingRepo(ctx.repo)), template, None)
        if cap is None:
            return False
        self.stats["cross_run"] = self.stats.get("cross_run", 0) + 1
        frozen = validity.freeze(log, self._store_memo)
        if frozen is not None:
            book.now[check.rule_id] = (frozen, cap)
        book.changed = True
        _apply(state, cap, template)
        return True

    def _book(self, file: str | None) -> _CrossBook | None:
        name = file or ""
        if name in self._books:
            return self._books[name]
        subject = self._dep_key(file) if file is not None else "repository"
        book: _CrossBook | None = None
        if subject is not None and self.cache is not None:
            base = digest("cross", self.env, subject)
            book = _CrossBook(base)
            for version in range(CROSS_VERSIONS):
                key = digest(base, version)
                stored = self.cache.get("cross", key)
                if not _records(stored):
                    book.free = key
                    break
                book.versions.append(stored)
        self._books[name] = book
        return book

    def _keep_cross(self) -> None:
        """Write each subject's records that changed in this scan, as its next version."""
        if self.cache is None:
            return
        for book in self._books.values():
            if book is not None and book.changed and book.free is not None and book.now:
                self.cache.put("cross", book.free, book.now)
        self._books.clear()

    def _validity_now(self, state: ScanState) -> Validity:
        if self._validity is None:
            self._validity = Validity(
                state.repo.templates,
                self._dep_key,
                lambda fact: self._fact(state, fact),
                self._load_memo,
            )
        return self._validity

    def _store_memo(self, name: str, frozen: FrozenReads) -> None:
        if self.cache is not None:
            self.cache.put("reads", name, frozen)

    def _load_memo(self, name: str) -> FrozenReads | None:
        found = self.cache.get("reads", name) if self.cache is not None else None
        return found if isinstance(found, FrozenReads) else None

    def _dep_key(self, file: str) -> str | None:
        """What a template is, for a record of reads: its file's content, the parameters it
        is given (samconfig, options, a parent stack's values) and the files it includes;
        None for a file that is not a loaded template, or one that cannot be keyed."""
        if file in self._dep_keys:
            return self._dep_keys[file]
        self._dep_keys[file] = None  # (a parent cycle keys to None)
        template = dict.get(self.state.repo.templates, file)
        entry = self.files.get(file)
        key: str | None = None
        if template is not None and entry is not None and entry.key is not None:
            from reviewer.model.openapi import documents_digest

            parents = []
            for name, (parent, _) in sorted(template.parameter_sources.items()):
                parents.append((name, parent.file, self._dep_key(parent.file)))
            if all(p[2] is not None for p in parents):
                key = digest(
                    entry.key, self._params_digest(file), documents_digest(template), parents
                )
        self._dep_keys[file] = key
        return key

    def _listing_of_tree(self) -> Any:
        """The names in the scanned tree (reviewer.cache.store.tree_listing), once a scan."""
        if self._tree is None:
            self._tree = (
                tree_listing(self.state.root, self.cache.directory if self.cache else None),
            )
        return self._tree[0]

    def _fact(self, state: ScanState, fact: str) -> str | None:
        if fact not in self._facts:
            value: str | None = None
            try:
                if fact == "manifests":
                    value = self._manifests(state)
                elif fact == "inventory":
                    inv = state.repo.inventory
                    value = digest(  # the tree's names too: what checks look for in it
                        "inventory",
                        repr((inv.files, inv.skipped, inv.modules, inv.submodules)),
                        self._listing_of_tree(),
                    )
                elif fact == "exports":
                    holders = []
                    for file, template in sorted(dict.items(state.repo.templates)):
                        outputs = template.tree.get("Outputs")
                        if isinstance(outputs, Mapping) and any(
                            isinstance(o, Mapping) and "Export" in o for o in outputs.values()
                        ):
                            holders.append((file, self._dep_key(file)))
                    value = (
                        None if any(k is None for _, k in holders) else digest("exports", holders)
                    )
            except Unhashable:
                value = None
            self._facts[fact] = value
        return self._facts[fact]

    def _manifests(self, state: ScanState) -> str:
        if self._manifests_key is None:
            self._manifests_key = manifests_key(state.repo)
        return self._manifests_key

    def finish(self) -> None:
        self._close_pool()
        self._keep_cross()
        LAST_STATS.clear()
        LAST_STATS.update(self.stats)
        cache = self.cache
        if cache is None:
            self.files.clear()
            return
        for entry in self.files.values():  # entries workers wrote or the scan read
            local = self._local_key(entry) if entry.loaded and entry.loaded.template else None
            for kind, key in (("model", entry.key), ("local", local)):
                if key is not None:
                    cache.used.add(f"{kind}/{key[:2]}/{key}")
        if self.report_key is not None:
            cache.used.add(f"report/{self.report_key[:2]}/{self.report_key}")
        if cache.writes:
            cache.prune(("model", "local", "repo", "cross", "reads"), whole=("report", "output"))
        self.files.clear()  # the templates: freed now, not when the process ends
        cache.close()  # its folders' descriptors: now, not when a collection finds the session


def _with_included(key: str, included: list[tuple[str, str]]) -> str:
    """The key of an entry that depends on included files with these digests."""
    return digest(key, "included", included)


def _report_entry(stored: Any) -> bool:
    """A report entry: (Report, [(included file, digest), ...])."""
    from reviewer.core.types import Report

    return (
        isinstance(stored, tuple)
        and len(stored) == 2
        and isinstance(stored[0], Report)
        and isinstance(stored[1], list)
        and all(
            isinstance(i, tuple) and len(i) == 2 and all(isinstance(x, str) for x in i)
            for i in stored[1]
        )
    )


def _apply(state: ScanState, cap: Capture, template: Template | None) -> None:
    """Replay a capture into the engine's state: its raw findings (bound to `template` where
    they were), then its writes to the evaluation table, in order."""
    from reviewer.core.types import evolve

    for rule_id, file, module, hit, bound, finding in cap.raws:
        if finding is not None and finding.adr == _NO_ADR:  # stripped to be pickled
            finding = evolve(finding, adr=state.catalogue[rule_id].adr_for(hit.variant))
        state.raws.append(RawHit(rule_id, file, module, hit, template if bound else None, finding))
    apply_ops(cap.ops, state.evaluated)


LAST_STATS: dict[str, int] = {}  # the last finished session's counts (tests, bench)
_ACTIVE: Session | None = None  # the session a forked worker inherits


class Share:
    """The templates still to load, shared between the parent and forked workers without a
    share fixed in advance. The parent takes files from the front, one at a time, as the engine
    asks for them in inventory order; each worker takes small chunks from the back (loading
    them and running their local checks) and sends each file back as it is done. The two ends
    meet wherever the machine makes them meet, so every process stays busy until the files
    run out, whatever the files cost and however many cores there are.

    Each worker writes to a pipe of its own, drained by a thread in the parent into `inbox`, so
    a worker never waits for the parent to read. A worker that stops early (killed, or an
    error) sends nothing more: whatever it had taken and not sent, the parent loads itself."""

    def __init__(self, misses: list[int], workers: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.misses = misses  # indexes into Session.order
        self.place = {index: k for k, index in enumerate(misses)}
        self.workers = workers
        # [next place the parent takes, lowest place a worker took]: places in between are free
        self.ends = ctx.RawArray("q", [0, len(misses)])
        self.lock = ctx.Lock()
        self.inbox: dict[int, tuple[bytes, bytes | None]] = {}
        self.ready = threading.Condition()
        self.drained = False
        pipes = [ctx.Pipe(duplex=False) for _ in range(workers)]
        self.readers = [reader for reader, _ in pipes]
        writers = [writer for _, writer in pipes]
        global _SHARE
        _SHARE = self  # what the forked workers see
        self.procs: list[Any] = []
        try:
            for number in range(workers):
                proc = ctx.Process(target=_worker, args=(writers, number), daemon=True)
                proc.start()
                self.procs.append(proc)
        except OSError:
            for proc in self.procs:
                proc.kill()
                proc.join()
            for reader, writer in pipes:
                reader.close()
                writer.close()
            raise
        finally:
            _SHARE = None
        for writer in writers:  # the parent keeps the reading ends only
            writer.close()
        self.thread = threading.Thread(target=self._drain, name="archreview-drain", daemon=True)
        self.thread.start()

    def claim(self, index: int) -> bool:
        """The parent is about to load the file at `index` itself: True unless a worker has
        taken it (then `take` gives what the worker sends)."""
        place = self.place[index]
        with self.lock:
            if place >= self.ends[1]:
                return False
            self.ends[0] = max(self.ends[0], place + 1)
            return True

    def take(self, index: int) -> tuple[bytes, bytes | None] | None:
        """What a worker sent for `index`, waiting for it; None when no worker will send it."""
        with self.ready:
            while index not in self.inbox and not self.drained:
                self.ready.wait()
            return self.inbox.pop(index, None)

    def _drain(self) -> None:
        from multiprocessing.connection import wait

        readers: list[Any] = list(self.readers)
        try:
            while readers:
                for ready in wait(readers):
                    reader = cast("Connection[Any, Any]", ready)
                    try:
                        index, blob, cblob = reader.recv()
                    except (EOFError, OSError, pickle.UnpicklingError):
                        readers.remove(reader)
                        reader.close()
                        continue
                    with self.ready:
                        self.inbox[index] = (blob, cblob)
                        self.ready.notify_all()
        finally:
            with self.ready:
                self.drained = True
                self.ready.notify_all()

    def close(self, *, terminate: bool = False) -> None:
        """Wait for the workers to finish (or stop them now) and for the drain to end."""
        for proc in self.procs:
            if terminate:
                proc.kill()
            proc.join()
        if terminate:
            for reader in self.readers:
                with contextlib.suppress(OSError):
                    reader.close()
        self.thread.join()


_SHARE: Share | None = None  # the share a forked worker inherits


def _worker(writers: list[Any], number: int) -> None:
    """A worker process: take chunks of files from the back of the share, load each and run
    its local checks, send it to the parent; leave when none are left."""
    share, session = _SHARE, _ACTIVE
    writer = writers[number]
    for other in writers:
        if other is not writer:
            other.close()
    for reader in share.readers if share is not None else ():
        reader.close()
    try:
        assert share is not None
        assert session is not None
        while True:
            with share.lock:
                low, high = share.ends[0], share.ends[1]
                if high <= low:
                    break
                size = max(1, min(8, (high - low) // (4 * (share.workers + 1))))
                share.ends[1] = high - size
            for place in range(high - size, high):  # nearest the parent first
                index = share.misses[place]
                entry = session.files[session.order[index]]
                loaded, captures = session.work_one(entry, remote=True)
                blob = pickle.dumps(loaded, _PROTOCOL)
                cblob = pickle.dumps(captures, _PROTOCOL) if captures is not None else None
                writer.send((index, blob, cblob))
    finally:
        writer.close()
        os._exit(0)  # no teardown of what the worker built: the parent has it


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"


@dataclass
class Quiet:
    """No cyclic garbage collection while a scan runs: the scan allocates millions of
    long-lived objects, and every full collection walks all of them again (a third of the
    run time on a large repository). Reference counting still frees everything acyclic."""

    was_enabled: bool = False

    def __enter__(self) -> Quiet:
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def jobs_default() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
