"""Keeping what a cross-file check found, with what it read (issue 20 item 3).

A cross-file template check (`Check.cross_file`) and a repository check read more than one
template. The pipeline records each run's reads (reviewer.model.reads) and keeps its result in
the cache with them, frozen here (`FrozenReads`); a later scan replays the result while
`Validity` finds every read unchanged, and runs the check again otherwise. A read that cannot be
recorded (a nested stack, a memo made while nothing was recorded) keeps nothing.

What a frozen record holds, and what "unchanged" means for each part:

* whole reads: (file, key) — the template's key now (its content, parameters, included files
  and the values a parent stack binds) is the key then; a file read while absent must still be;
* lacks: (file, type) — the template still has no resource of that type (or is gone);
* a walk of the templates: the listing (their files) is the same, and every template that now
  has a type the run asked about was read whole (and is unchanged);
* facts: exports, manifests, the inventory — their digest is the same;
* memos: the records of the memos it read, each checked once per scan (`memo_digests`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviewer.cache.store import Unhashable, digest
from reviewer.model import reads
from reviewer.model.reads import ReadLog


@dataclass(frozen=True)
class FrozenReads:
    whole: tuple[tuple[str, str | None], ...]
    lacks: tuple[tuple[str, str], ...]
    queried: frozenset[str]
    listing: str | None  # the listing's digest, when the run walked or named the templates
    walked: bool
    facts: tuple[tuple[str, str], ...]
    memos: tuple[str, ...]  # digests of the memos' own FrozenReads (cache kind "reads")
    subject: str | None = None  # the run's own template (its key is the record's key)


class RecordingRepo:
    """What a recorded check sees as `ctx.repo`: the repository, with the reads that do not go
    through a template or the memo table (manifests, the inventory, nested stacks) recorded as
    facts. Templates and memos record themselves (reviewer.model.repo)."""

    def __init__(self, repo: Any) -> None:
        self.wrapped = repo

    @property
    def templates(self) -> Any:
        return self.wrapped.templates

    @property
    def cache(self) -> Any:
        return self.wrapped.cache

    def export(self, name: str) -> Any:
        return self.wrapped.export(name)

    def template(self, file: str) -> Any:
        return self.wrapped.template(file)

    def child_of(self, parent: Any, logical_id: str) -> Any:
        return self.wrapped.child_of(parent, logical_id)

    @property
    def gomods(self) -> Any:
        reads.note_fact("manifests")
        return self.wrapped.gomods

    @property
    def packages(self) -> Any:
        reads.note_fact("manifests")
        return self.wrapped.packages

    @property
    def inventory(self) -> Any:
        reads.note_fact("inventory")
        return self.wrapped.inventory

    @property
    def submodules(self) -> Any:
        reads.note_fact("inventory")
        return self.wrapped.submodules

    @property
    def module_of_file(self) -> Any:
        reads.note_fact("inventory")
        return self.wrapped.module_of_file

    def __getattr__(self, name: str) -> Any:
        reads.note_opaque(f"repo.{name}")
        return getattr(self.wrapped, name)


class Validity:
    """One scan's view of what records are checked against: each template's key and resource
    types, the listing, the facts; and each memo record's verdict, decided once."""

    def __init__(
        self,
        templates: dict[str, Any],
        key_of: Callable[[str], str | None],
        fact_of: Callable[[str], str | None],
        load_memo: Callable[[str], FrozenReads | None],
    ) -> None:
        self.templates = templates
        self.key_of = key_of
        self.fact_of = fact_of
        self.load_memo = load_memo
        self._types: dict[str, frozenset[str]] = {}
        self._by_type: dict[str, set[str]] | None = None
        self._listing: str | None = None
        self._memo_verdicts: dict[str, bool] = {}
        self._memo_names: dict[int, tuple[ReadLog, str | None]] = {}

    # -- now ---------------------------------------------------------------------------------
    def types(self, file: str) -> frozenset[str]:
        found = self._types.get(file)
        if found is None:
            template = dict.get(self.templates, file)  # not a recorded read
            found = (
                frozenset(r.type for r in template.resources.values()) if template else frozenset()
            )
            self._types[file] = found
        return found

    def having(self, kind: str) -> set[str]:
        if self._by_type is None:
            index: dict[str, set[str]] = {}
            for file in dict.keys(self.templates):
                for t in self.types(file):
                    index.setdefault(t, set()).add(file)
            self._by_type = index
        return self._by_type.get(kind, set())

    def listing(self) -> str:
        if self._listing is None:
            self._listing = digest("listing", sorted(dict.keys(self.templates)))
        return self._listing

    # -- freezing ----------------------------------------------------------------------------
    def freeze(
        self, log: ReadLog, store_memo: Callable[[str, FrozenReads], None]
    ) -> FrozenReads | None:
        """The record of a run, with its memos' records stored apart; None when it read
        something that cannot be recorded or keyed."""
        if log.opaque:
            return None
        memo_digests: list[str] = []
        for key in sorted(log.memos):
            name = self._memo_name(log.memos[key], store_memo)
            if name is None:
                return None
            memo_digests.append(name)
        facts: list[tuple[str, str]] = []
        for fact in sorted(log.facts):
            value = self.fact_of(fact)
            if value is None:
                return None
            facts.append((fact, value))
        return FrozenReads(
            whole=tuple((f, self.key_of(f)) for f in sorted(log.whole)),
            # a walk's rule (below) covers every (file, type) asked: kept only without one
            lacks=() if log.listing else tuple(sorted(log.lacks)),
            queried=frozenset(log.queried),
            listing=self.listing() if (log.listing or log.exact_listing) else None,
            walked=log.listing,
            facts=tuple(facts),
            memos=tuple(memo_digests),
            subject=log.subject,
        )

    def _memo_name(
        self, memo_log: ReadLog, store_memo: Callable[[str, FrozenReads], None]
    ) -> str | None:
        """The digest a memo's record is stored under; each memo frozen once per scan."""
        known = self._memo_names.get(id(memo_log))
        if known is not None and known[0] is memo_log:
            return known[1]
        name: str | None = None
        memo = self.freeze(memo_log, store_memo)
        if memo is not None:
            try:
                name = digest("reads", memo)
            except Unhashable:
                name = None
        if name is not None and memo is not None:
            store_memo(name, memo)
            self._memo_verdicts[name] = True  # made now, from what is read now
        self._memo_names[id(memo_log)] = (memo_log, name)
        return name

    # -- checking ----------------------------------------------------------------------------
    def holds(self, frozen: FrozenReads) -> bool:
        for file, key in frozen.whole:
            if self.key_of(file) != key:
                return False
        for file, kind in frozen.lacks:
            if kind in self.types(file):
                return False
        if frozen.listing is not None:
            if frozen.listing != self.listing():
                return False
            if frozen.walked:
                read = {f for f, _ in frozen.whole}
                if frozen.subject is not None:
                    read.add(frozen.subject)
                for kind in frozen.queried:
                    if not self.having(kind) <= read:
                        return False
        for fact, value in frozen.facts:
            if self.fact_of(fact) != value:
                return False
        return all(self._memo_holds(name) for name in frozen.memos)

    def _memo_holds(self, name: str) -> bool:
        verdict = self._memo_verdicts.get(name)
        if verdict is None:
            memo = self.load_memo(name)
            verdict = memo is not None and self.holds(memo)
            self._memo_verdicts[name] = verdict
        return verdict
