"""What a check read of the repository beyond its own template (issue 20 item 3).

A cross-file check on template T (or a repository check) reads other templates: it walks the
repository's templates asking each for resources of some types, looks one up by file, reads a
repository-wide memo built from all of them, resolves an export. While the runner records one
such run (reviewer.runner.pipeline), the model reports every read here, and the run's result can
be kept with what it read: on a later scan it is replayed only while all of that is unchanged.

Reads are recorded at the grain that keeps an edit cheap and the result exact:

* a template asked for resources of a type it has none of: "lacks" (file, type) — it stays valid
  while that template still has none (an edit elsewhere in it does not matter);
* any other read of a template (resources of a type it has, a resource by id, its sections,
  its resources one by one, its edges, a location): "whole" — valid while its content is;
* walking the templates: "listing" — a template added later matters only when it holds a type
  the run asked about; reading their names or their number: "exact listing";
* a repository-wide fact (exports, nested stacks, manifests, the inventory): "facts";
* a memo (RepoIndex.cache) read: what the run that built it read (`merge`).

Nothing here is a cache: only the record. One run is recorded at a time (the parent process).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class ReadLog:
    subject: str | None  # the template the check runs on (None: a repository check)
    whole: set[str] = field(default_factory=set)
    lacks: set[tuple[str, str]] = field(default_factory=set)
    queried: set[str] = field(default_factory=set)  # types asked of any other template
    listing: bool = False
    exact_listing: bool = False
    facts: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)  # reads that cannot be recorded: not kept
    # the memos it read (RepoIndex.cache key -> the record of the run that made the memo): kept
    # apart so that a memo's reads are stored and checked once, not with every reader
    memos: dict[str, ReadLog] = field(default_factory=dict)
    # memos being made now (a miss on the memo table starts one, setting it ends it): each
    # gets every read until then, the subject's too (a memo describes the whole repository)
    making: dict[str, ReadLog] = field(default_factory=dict)

    def read_whole(self, file: str) -> None:
        if file != self.subject:
            self.whole.add(file)
        for log in self.making.values():
            log.read_whole(file)

    def asked(self, file: str, types: Iterable[str], present: Iterable[str]) -> None:
        for log in self.making.values():
            log.asked(file, types, present)
        if file == self.subject:
            return
        present_set = set(present)
        for kind in types:
            self.queried.add(kind)
            if kind in present_set:
                self.whole.add(file)
            else:
                self.lacks.add((file, kind))

    def walked(self) -> None:
        self.listing = True
        for log in self.making.values():
            log.walked()

    def named_listing(self) -> None:
        self.exact_listing = True
        for log in self.making.values():
            log.named_listing()

    def fact(self, name: str) -> None:
        self.facts.add(name)
        for log in self.making.values():
            log.fact(name)

    def cannot_record(self, what: str) -> None:
        self.opaque.add(what)
        for log in self.making.values():
            log.cannot_record(what)

    def read_memo(self, key: str, made_from: ReadLog) -> None:
        self.memos.setdefault(key, made_from)
        for log in self.making.values():
            log.read_memo(key, made_from)

    def start_memo(self, key: str) -> None:
        if key not in self.making:
            self.making[key] = ReadLog(None)

    def end_memo(self, key: str) -> ReadLog:
        """The record of the memo set now: what was read since its miss; without one (set
        without asking first), everything this run read, the subject included."""
        made = self.making.pop(key, None)
        if made is not None:
            return made
        out = ReadLog(None)
        out.whole = set(self.whole)
        if self.subject is not None:
            out.whole.add(self.subject)
        out.lacks = set(self.lacks)
        out.queried = set(self.queried)
        out.listing = self.listing
        out.exact_listing = self.exact_listing
        out.facts = set(self.facts)
        out.opaque = set(self.opaque)
        out.memos = dict(self.memos)
        return out


LOG: ReadLog | None = None  # the run being recorded, if any


@contextmanager
def recording(log: ReadLog) -> Iterator[ReadLog]:
    global LOG
    previous = LOG
    LOG = log
    try:
        yield log
    finally:
        LOG = previous


def note_whole(file: str) -> None:
    log = LOG
    if log is not None:
        log.read_whole(file)


def note_fact(name: str) -> None:
    log = LOG
    if log is not None:
        log.fact(name)


def note_opaque(what: str) -> None:
    log = LOG
    if log is not None:
        log.cannot_record(what)
