"""Random hostile checkouts, each rebuilt exactly from its seed.

``generate(seed, size)`` draws everything from ``random.Random(seed)``: the same seed and size
give the same tree, byte for byte, on every machine — with the same version of these modules
(a new piece or kind shifts the draws, so replay a failing seed from the checkout that found
it). A tree is a list of entries (files,
folders, symbolic links, FIFOs; paths are bytes, so names need not be UTF-8) and a plan for
running the scan (formats, jobs, cache, options). ``materialize`` writes it into the checkout
folder of a workspace (see ``harness.Workspace``)::

    workspace/
      checkout/   the scanned root: the tree
      victim/     a folder beside the checkout that links point into (must never change)
      home/       HOME; home/.cache is XDG_CACHE_HOME (only home/.cache/archreview may change)
      out/        where the command line writes the outputs it is given
      tmp/        TMPDIR

Link targets are relative (``../../victim``, computed from where the link sits) or absolute
(the placeholders ``{victim}``, ``{home}``, ``{checkout}`` become the workspace's paths).
Links never point at system folders or at a device a writer could replace (only at /dev/zero
and /dev/urandom, where something is read): a scan that followed one and wrote or deleted
through it must only ever damage the workspace.

A tree is made of *pieces* (``PIECES``, each registered with ``@piece(name, weight)``), chosen
by weight: one file of a kind from ``content.CONTENT``, hostile names, links, loops, FIFOs,
unreadable files, deep folders, attacks on the cache folder and on the ADR output folder.
"""

from __future__ import annotations

import json
import math
import os
import random
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import content

CACHE = b".archreview-cache"
CACHE_KINDS = (b"model", b"local", b"repo", b"report", b"output", b"base")
FORMATS = ("text", "json", "sarif", "markdown", "html", "junit")


@dataclass(frozen=True)
class Size:
    """How big files get: most are `small` bytes at most; a share `big_rate` of the content
    pieces is drawn log-uniformly between `small` and `big`."""

    name: str
    small: int
    big: int
    big_rate: float
    pieces: tuple[int, int]


CI = Size("ci", small=3_000, big=8_000, big_rate=0.1, pieces=(3, 9))
BENCH = Size("bench", small=8_000, big=5_000_000, big_rate=0.04, pieces=(4, 14))
SIZES = {s.name: s for s in (CI, BENCH)}


@dataclass(frozen=True)
class Entry:
    path: bytes  # relative to the checkout, "/"-separated
    kind: str  # file | dir | link | fifo
    data: bytes = b""
    target: bytes = b""  # link target (may hold {victim}, {home}, {checkout})
    mode: int | None = None  # chmod after everything is made (0o000: unreadable)


@dataclass
class Plan:
    """How the tree is scanned. Paths are relative to the checkout."""

    formats: tuple[str, ...] = ("text",)
    jobs: int = 1
    cache: str = "default"  # default (the command line's choice) | inside (--cache-dir
    # PATH/.archreview-cache, the old default, which a pull request can plant) | none
    sam_env: str | None = None
    baseline: bytes | None = None  # --baseline (a file of the repository the workflow names)
    profile: bytes | None = None  # --profile (likewise)
    cwd_inside: bool = True  # run from inside the checkout with PATH "."
    adr_out: bytes | None = None  # also run `archreview adr PATH --out <checkout>/<adr_out>`
    poison: bool = False  # engine: scan, replace every cache entry by a hostile one, scan again
    color: bool = False
    persona: str | None = None  # --persona (None: the profile's, else regular)


@dataclass
class Tree:
    seed: int
    size: str
    entries: list[Entry]
    plan: Plan
    pieces: list[str]
    unreadable: list[bytes] = field(default_factory=list)  # simulated for root (deny.py)
    mutable: list[bytes] = field(default_factory=list)  # checkout files a run may rewrite

    def describe(self) -> str:
        if self.seed < 0:  # a case of the corpus (tests/hostile/corpus.py)
            return f"case: {self.size}"
        return f"seed {self.seed} ({self.size}): " + ", ".join(self.pieces)


# -- the builder ----------------------------------------------------------------------------------

NAME_BITS: tuple[bytes, ...] = (
    b"a\nb",
    b"::error file=x,line=1::pwned",
    b"::add-mask::x",
    b"##[group]x",
    b"\x1b[31mred",
    b"\xe2\x80\xaeevil",  # right-to-left override
    b"\xe2\x80\xa8ls",  # line separator
    b"\xff\xfe",  # not UTF-8
    b"\x80x",
    b"\xc3",
    b" space ",
    b"-",
    b"--help",
    b"\\",
    b"'\"",
    b"`id`",
    b"$(id)",
    b"%s",
    b"\t",
    b"\r",
    b"\x7f",
    b"@org",
    b"#1",
    b"<b>",
    b"|",
    b"*",
    b"?",
    b"[x]",
    b"..x",
    b"~",
)


class Builder:
    """Collects entries and the plan while pieces are drawn (one random source for all)."""

    def __init__(self, rng: random.Random, size: Size) -> None:
        self.rng = rng
        self.size = size
        self.entries: dict[bytes, Entry] = {}
        self.folders: list[bytes] = [b""]
        self.plan = Plan()
        self.unreadable: list[bytes] = []
        self.mutable: list[bytes] = []
        self.notes: list[str] = []

    def limit(self) -> int:
        """A size for the next file."""
        s = self.size
        if self.rng.random() < s.big_rate:
            return int(math.exp(self.rng.uniform(math.log(s.small), math.log(s.big))))
        return self.rng.randint(200, s.small)

    def name(self, stem: bytes = b"x", hostile: float = 0.3) -> bytes:
        if self.rng.random() >= hostile:
            return stem
        if self.rng.random() < 0.1:  # a very long name, at the file system's limit
            return stem[:20] + b"n" * (255 - len(stem[:20]))
        bits = [self.rng.choice(NAME_BITS) for _ in range(self.rng.randint(1, 3))]
        name = b"".join(bits) + stem
        return name[:255] if name not in (b".", b"..") else b"dot" + name

    def folder(self, new: float = 0.5) -> bytes:
        """An existing folder, or a new one below an existing one."""
        base = self.rng.choice(self.folders)
        if self.rng.random() >= new:
            return base
        child = self.name(self.rng.choice([b"mod", b"services", b"infra", b"apps", b"lib"]))
        path = join(base, child)
        if path not in self.folders and self.free(path):
            self.folders.append(path)
            return path
        return base

    def free(self, path: bytes) -> bool:
        """Nothing at `path` or above it is a file, link or FIFO."""
        parts = path.split(b"/")
        for i in range(1, len(parts) + 1):
            found = self.entries.get(b"/".join(parts[:i]))
            if found is not None and (found.kind != "dir" or i == len(parts)):
                return False
        return True

    def add(self, entry: Entry) -> bool:
        if not entry.path or not self.free(entry.path):
            return False
        self.entries[entry.path] = entry
        parent = entry.path.rpartition(b"/")[0]
        if entry.kind == "dir" and entry.path not in self.folders:
            self.folders.append(entry.path)
        elif parent and parent not in self.folders:
            self.folders.append(parent)
        return True

    def file(self, path: bytes, data: bytes, mode: int | None = None) -> bool:
        return self.add(Entry(path, "file", data=data, mode=mode))

    def dir(self, path: bytes, mode: int | None = None) -> bool:
        return self.add(Entry(path, "dir", mode=mode))

    def link(self, path: bytes, target: bytes) -> bool:
        return self.add(Entry(path, "link", target=target))

    def fifo(self, path: bytes) -> bool:
        return self.add(Entry(path, "fifo"))

    def content(self, kind: str, limit: int | None = None) -> bytes:
        return content.CONTENT[kind].make(self.rng, self.limit() if limit is None else limit)

    def place(self, kind: str, folder: bytes | None = None) -> bytes:
        """A path where archreview reads a file of `kind`, below `folder`."""
        where = self.folder() if folder is None else folder
        return join(where, self.rng.choice(content.CONTENT[kind].places).encode())


def join(folder: bytes, name: bytes) -> bytes:
    return name if not folder else folder + b"/" + name


def to_victim(at: bytes, rest: bytes = b"") -> bytes:
    """A relative link target, from the folder of the link at `at`, to victim/`rest`."""
    up = b"../" * (at.count(b"/") + 1)
    return up + b"victim" + (b"/" + rest if rest else b"")


def to_root(at: bytes, rest: bytes = b"") -> bytes:
    """A relative link target, from the folder of the link at `at`, to checkout/`rest`."""
    up = b"../" * at.count(b"/")
    return (up + rest) or b"."


# -- pieces ---------------------------------------------------------------------------------------

PieceFn = Callable[[Builder], None]
PIECES: dict[str, tuple[float, PieceFn]] = {}


def piece(name: str, weight: float) -> Callable[[PieceFn], PieceFn]:
    def register(fn: PieceFn) -> PieceFn:
        PIECES[name] = (weight, fn)
        return fn

    return register


# weights of the content kinds when a piece asks for "any file"
KIND_WEIGHTS: dict[str, float] = {
    "template-yaml": 6,
    "template-json": 3,
    "template-globals": 1,
    "template-deep": 1,
    "openapi": 1,
    "gomod": 2,
    "package-json": 3,
    "samconfig": 2,
    "gitmodules": 1,
    "gitignore": 2,
    "profile": 2,
    "agent": 2,
    "baseline": 1,
    "binary": 1,
    "agent-definition": 1,
    "profile-modules": 0.5,
    "custom-rule": 0,  # written by the custom-rules piece only
}


def any_kind(rng: random.Random) -> str:
    kinds = sorted(content.CONTENT)
    weights = [KIND_WEIGHTS.get(k, 1.0) for k in kinds]
    return rng.choices(kinds, weights)[0]


@piece("file", 12)
def _file(b: Builder) -> None:
    kind = any_kind(b.rng)
    folder = b"" if kind in ("profile", "gitmodules") and b.rng.random() < 0.7 else None
    path = b.place(kind, folder)
    if b.file(path, b.content(kind)):
        b.notes.append(f"{kind} at {path!r}")
        if kind == "baseline":
            b.plan.baseline = path
        elif kind in ("agent", "profile") and b.rng.random() < 0.25:
            b.plan.profile = path


@piece("module", 3)
def _module(b: Builder) -> None:
    """A folder with the files of one module (a Go service, a front end, a SAM app)."""
    folder = b.folder(new=0.9)
    for kind in b.rng.sample(
        ["gomod", "package-json", "template-yaml", "samconfig", "gitignore"], 3
    ):
        name = content.CONTENT[kind].places[0].encode()
        b.file(join(folder, name), b.content(kind))
    b.notes.append(f"module {folder!r}")


@piece("hostile-name", 4)
def _hostile_name(b: Builder) -> None:
    kind = b.rng.choice(["template-yaml", "template-json", "package-json", "gomod", "agent"])
    place = content.CONTENT[kind].places[0].encode()
    stem, dot, ext = place.rpartition(b"/")[2].rpartition(b".")
    if b.rng.random() < 0.5:  # the file's own name is hostile (templates are found by content)
        base = b.name(stem or b"x", hostile=1.0)
        name = (
            (base[: 250 - len(ext)] + dot + ext)
            if kind.startswith("template")
            else place.rpartition(b"/")[2]
        )
        folder = b.folder()
    else:  # the folder's name is
        name = place.rpartition(b"/")[2]
        folder = join(b.folder(new=0.0), b.name(b"dir", hostile=1.0))
    path = join(folder, name)
    if b.file(path, b.content(kind)):
        b.notes.append(f"hostile name {path!r}")


@piece("link-inside", 2)
def _link_inside(b: Builder) -> None:
    target_path = b.place("template-yaml")
    b.file(target_path, b.content("template-yaml"))
    at = join(b.folder(), b.name(b"alias.yaml"))
    target = to_root(at, target_path) if b.rng.random() < 0.7 else b"{checkout}/" + target_path
    if b.rng.random() < 0.3:  # a link to a folder inside
        folder = target_path.rpartition(b"/")[0]
        target = to_root(at, folder)
    if b.link(at, target):
        b.notes.append(f"link inside {at!r}")


@piece("link-outside", 3)
def _link_outside(b: Builder) -> None:
    kind = b.rng.choice(["template-yaml", "package-json", "gomod", "profile", "agent", "gitignore"])
    at = b.place(kind, b"" if kind == "profile" else None)
    rest = b.rng.choice([b"", b"template.yaml", b"notes.md", b".ssh/id_rsa", b"docs", b".ssh"])
    roll = b.rng.random()
    if roll < 0.5:
        target = to_victim(at, rest)
    elif roll < 0.8:
        target = b"{victim}/" + rest if rest else b"{victim}"
    elif roll < 0.9:
        target = b"{home}/.ssh/id_ed25519"
    else:
        target = b.rng.choice([b"/dev/zero", b"/dev/urandom"])  # endless to read
    if b.link(at, target):
        b.notes.append(f"link out {at!r} -> {target!r}")


@piece("link-loop", 2)
def _link_loop(b: Builder) -> None:
    folder = b.folder(new=0.8)
    roll = b.rng.random()
    if roll < 0.4 and folder:  # a folder link to an ancestor
        at = join(folder, b"loop")
        b.link(at, to_root(at, b"") if b.rng.random() < 0.5 else b"..")
    elif roll < 0.7:  # a link to itself
        at = join(folder, b.name(b"template.yaml"))
        b.link(at, at.rpartition(b"/")[2])
    else:  # two links to each other
        a, c = join(folder, b"ping.yaml"), join(folder, b"pong.yaml")
        b.link(a, b"pong.yaml")
        b.link(c, b"ping.yaml")
    b.notes.append(f"loop in {folder!r}")


@piece("link-dangling", 1)
def _link_dangling(b: Builder) -> None:
    kind = b.rng.choice(["gomod", "package-json", "samconfig", "template-yaml", "gitmodules"])
    at = b.place(kind)
    if b.link(
        at, b.rng.choice([b"nowhere", b"../../../../../../../../nowhere", b"/nonexistent/x"])
    ):
        b.notes.append(f"dangling {at!r}")


@piece("fifo", 2)
def _fifo(b: Builder) -> None:
    """A FIFO where a file is read: opening it for reading blocks until a writer comes."""
    kind = b.rng.choice(
        [
            "template-yaml",
            "package-json",
            "gomod",
            "samconfig",
            "gitignore",
            "profile",
            "agent",
            "gitmodules",
        ]
    )
    at = b.place(kind, b"" if kind in ("profile", "gitmodules") else None)
    if b.fifo(at):  # never at a path the workflow names (--baseline, --profile): those are
        b.notes.append(f"fifo {at!r}")  # trusted, and a pipe there is the user's choice


@piece("unreadable", 2)
def _unreadable(b: Builder) -> None:
    """chmod 000 (which root ignores: the harness then simulates it, see deny.py)."""
    if b.rng.random() < 0.6:
        kind = b.rng.choice(
            ["template-yaml", "package-json", "gomod", "samconfig", "profile", "gitignore"]
        )
        at = b.place(kind)
        ok = b.file(at, b.content(kind), mode=0o000)
    else:
        at = join(b.folder(new=1.0), b"sealed")
        ok = b.dir(at, mode=0o000) and b.file(
            join(at, b"template.yaml"), b.content("template-yaml")
        )
    if ok:
        b.unreadable.append(at)
        b.notes.append(f"unreadable {at!r}")


@piece("deep-folders", 1)
def _deep(b: Builder) -> None:
    depth = b.rng.randint(20, 120)
    path = b.folder(new=0.0)
    for _ in range(depth):
        path = join(path, b"d")
    if b.file(join(path, b"template.yaml"), b.content("template-yaml", 600)):
        b.notes.append(f"deep folders {depth}")


@piece("nested-stack", 2)
def _nested(b: Builder) -> None:
    folder = b.folder()
    child = b.rng.choice([b"child.yaml", b"fifo.yaml", b"api.yaml"])
    parent = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Child:\n    Type: AWS::CloudFormation::Stack\n"
        f"    Properties:\n      TemplateURL: {child.decode()}\n"
        "      Parameters: {Timeout: 900}\n"
        "  Api:\n    Type: AWS::Serverless::Api\n"
        f"    Properties: {{StageName: prod, DefinitionUri: {child.decode()}}}\n"
        "Transform: AWS::Serverless-2016-10-31\n"
    )
    b.file(join(folder, b"parent.yaml"), parent.encode())
    at = join(folder, child)
    roll = b.rng.random()
    if roll < 0.3:
        b.fifo(at)
    elif roll < 0.6:
        b.link(at, to_victim(at, b"template.yaml"))
    else:
        b.file(at, b.content(b.rng.choice(["template-yaml", "openapi", "template-deep"])))
    b.notes.append(f"nested stack {at!r}")


@piece("cache-attack", 4)
def _cache_attack(b: Builder) -> None:
    """The cache folder (PATH/.archreview-cache by default) comes with the pull request."""
    rng = b.rng
    kind = rng.choice(CACHE_KINDS)
    variant = rng.randrange(9)
    if variant == 0:  # the whole cache folder is a link to the victim
        b.link(CACHE, to_victim(CACHE) if rng.random() < 0.6 else b"{victim}")
    elif variant == 1:  # issue 15, item 1: one kind's folder is a link to the victim
        b.dir(CACHE)
        b.link(CACHE + b"/" + kind, to_victim(CACHE + b"/" + kind))
    elif variant == 2:  # a shard folder is a link to a folder of the victim
        at = CACHE + b"/" + kind + b"/" + rng.choice([b"ab", b".ssh", b"00"])
        b.link(at, to_victim(at, rng.choice([b".ssh", b"docs", b""])))
    elif variant == 3:  # planted entries, named as entries are (they must survive a scan)
        for _ in range(rng.randint(1, 6)):
            key = f"{rng.getrandbits(256):064x}".encode()
            b.file(
                CACHE + b"/" + kind + b"/" + key[:2] + b"/" + key,
                rng.randbytes(rng.randint(0, 200)),
            )
        if rng.random() < 0.5:
            key = f"{rng.getrandbits(256):064x}".encode()
            at = CACHE + b"/" + kind + b"/" + key[:2] + b"/" + key
            b.link(at, to_victim(at, b"notes.md"))
    elif variant == 4:  # the cache folder is something else than a folder
        roll = rng.random()
        if roll < 0.4:
            b.file(CACHE, b"not a folder")
        elif roll < 0.7:
            b.fifo(CACHE)
        else:
            b.link(CACHE, rng.choice([to_victim(CACHE, b"notes.md"), b"nowhere"]))
    elif variant == 5:  # a kind's folder is a FIFO or a file
        b.dir(CACHE)
        if rng.random() < 0.5:
            b.fifo(CACHE + b"/" + kind)
        else:
            b.file(CACHE + b"/" + kind, b"x")
    elif variant == 6:  # its marker files are links to the victim's files
        b.dir(CACHE)
        for name in (b".gitignore", b"CACHEDIR.TAG", b"secret"):
            at = CACHE + b"/" + name
            b.link(at, to_victim(at, b"notes.md"))
    elif variant == 7:  # unreadable cache folder
        if b.dir(CACHE, mode=0o000):
            b.unreadable.append(CACHE)
    else:  # a link elsewhere in the tree into the cache folder
        at = join(b.folder(), b"cache-view")
        b.dir(CACHE + b"/" + kind)
        b.file(CACHE + b"/" + kind + b"/template.yaml", b.content("template-yaml", 500))
        b.link(at, to_root(at, CACHE))
    b.notes.append(f"cache attack {variant} ({kind.decode()})")


HAND_WRITTEN = (
    b"# 1. Keep the monolith\n\nHand-written: archreview must never overwrite this record.\n"
)


@piece("adr-attack", 1)
def _adr_attack(b: Builder) -> None:
    """The ADR output folder is in the checkout: a link out of it, a planted index.json."""
    out = b"docs/adr"
    b.plan.adr_out = out
    b.file(b"template.yaml", content.encode("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"))
    roll = b.rng.random()
    if roll < 0.4:  # issue 15, item 8: --out is a link in the repository
        b.link(out, to_victim(out, b"docs") if b.rng.random() < 0.5 else b"{victim}/docs")
    elif roll < 0.8:  # a planted index claims a hand-written record
        b.file(out + b"/0001-keep-the-monolith.md", HAND_WRITTEN)
        index = {
            "version": 1,
            "generator": "archreview adr",
            "records": [
                {
                    "number": 1,
                    "rule_id": "AR-EVT-001",
                    "module": ".",
                    "file": "0001-keep-the-monolith.md",
                    "status": "proposed",
                    "date": "2026-01-01",
                    "affected": [],
                }
            ],
        }
        b.file(out + b"/index.json", json.dumps(index).encode())
        b.mutable.append(out + b"/index.json")
    else:  # links planted where records will be written
        b.dir(out)
        for name in (b"0001-add-a-dead-letter-queue-to-every-queue.md", b"index.json"):
            at = out + b"/" + name
            b.link(at, to_victim(at, b"notes.md"))
            b.mutable.append(at)
    b.notes.append(f"adr attack {roll:.2f}")


@piece("wide-folder", 0.5)
def _wide(b: Builder) -> None:
    """Many small manifests in one folder (repository checks over many files)."""
    folder = b.folder(new=1.0)
    count = b.rng.randint(10, 40) if b.size.name == "ci" else b.rng.randint(50, 2000)
    for i in range(count):
        b.file(
            join(folder, f"p{i}/package.json".encode()),
            f'{{"name": "p{i}", "dependencies": {{"left-pad": "^1.{i}.0 || ~{i}.0.0"}}}}'.encode(),
        )
    b.notes.append(f"wide folder {count}")


# -- issue 16: where the declared architecture comes from -----------------------------------

AGENT_FOLDERS = (b".claude/agents", b".github/agents", b"", b"docs", b"docs/architecture/deep")


def _module_folder(b: Builder) -> bytes:
    """A new folder with a manifest, so discovery makes it a module."""
    folder = b.folder(new=1.0)
    if folder:
        kind = b.rng.choice(["gomod", "package-json"])
        b.file(join(folder, content.CONTENT[kind].places[0].encode()), b.content(kind, 600))
    return folder


@piece("agent-discovery", 2)
def _agent_discovery(b: Builder) -> None:
    """Agent definitions where discovery looks for them — the root's four places or a
    module's — each hostile in content, or a link out of the root, a FIFO, unreadable; or the
    agents folder itself a link; or more candidates than are read."""
    rng = b.rng
    base = b"" if rng.random() < 0.6 else _module_folder(b)
    for _ in range(rng.randint(1, 4)):
        place = rng.choice(AGENT_FOLDERS)
        suffix = b".md" if place.endswith(b"agents") else b".agent.md"
        at = join(join(base, place), b.name(b"architect") + suffix)
        roll = rng.random()
        if roll < 0.6:
            b.file(at, b.content("agent-definition"))
        elif roll < 0.7:
            target = rng.choice(
                [
                    to_victim(at, b"notes.md"),
                    b"{victim}/settings.yml",
                    b"/dev/zero",
                    b"{home}/.ssh/id_ed25519",
                ]
            )
            b.link(at, target)
        elif roll < 0.78:
            b.fifo(at)
        elif roll < 0.86:
            if b.file(at, b.content("agent-definition"), mode=0o000):
                b.unreadable.append(at)
        elif roll < 0.93:
            folder = join(base, rng.choice([b".claude/agents", b".github/agents", b"docs"]))
            b.link(folder, to_victim(folder, b"docs") if rng.random() < 0.5 else b"{victim}")
        else:
            for i in range(rng.randint(17, 24)):  # more than MAX_AGENT_CANDIDATES
                b.file(
                    join(join(base, b".claude/agents"), f"a{i:02d}.md".encode()),
                    b.content("agent", 400),
                )
    b.notes.append(f"agent discovery in {base!r}")


@piece("module-profile", 2)
def _module_profile(b: Builder) -> None:
    """A module that declares for itself — its own .archreview.yml (values of the wrong type,
    a link out of the root, a FIFO) or agent definition — or a root profile whose `modules:`
    section declares for modules."""
    rng = b.rng
    roll = rng.random()
    if roll < 0.3:
        if b.file(b".archreview.yml", b.content("profile-modules")):
            b.notes.append("modules: section")
        for _ in range(rng.randint(1, 3)):
            _module_folder(b)
        return
    folder = _module_folder(b)
    at = join(folder, b".archreview.yml")
    if roll < 0.6:
        b.file(at, b.content(rng.choice(["profile", "profile-modules"])))
    elif roll < 0.7:
        b.link(at, rng.choice([to_victim(at, b"settings.yml"), b"{victim}/notes.md", b"/dev/zero"]))
    elif roll < 0.75:
        b.fifo(at)
    else:
        place = rng.choice(content.AGENT_PLACES).encode()
        b.file(join(folder, place), b.content("agent-definition"))
    b.notes.append(f"module profile in {folder!r}")


@piece("custom-rules", 1)
def _custom_rules(b: Builder) -> None:
    """The repository's own rules (issue 21): rule files in .archreview/rules/ (hostile text,
    backtracking patterns, deep conditions, sometimes broken), or that folder or a rule file a
    link out of the root, a FIFO."""
    rng = b.rng
    roll = rng.random()
    if roll < 0.75:
        for i in range(rng.randint(1, 3)):
            b.file(f".archreview/rules/r{i}.yaml".encode(), b.content("custom-rule"))
    elif roll < 0.85:
        b.link(
            b".archreview/rules",
            rng.choice([b"{victim}", b"/etc", to_victim(b".archreview/rules")]),
        )
    elif roll < 0.92:
        b.link(b".archreview/rules/out.yaml", rng.choice([b"{victim}/settings.yml", b"/dev/zero"]))
    else:
        b.fifo(b".archreview/rules/wait.yaml")
    b.notes.append("custom rules")


GOOD = b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Jobs:\n    Type: AWS::SQS::Queue\n"


def generate(seed: int, size: Size | str = CI) -> Tree:
    """The tree of `seed`: a good template (so the scan has findings to render), then pieces."""
    size = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(seed)
    b = Builder(rng, size)
    b.file(b"good/template.yaml", GOOD)
    names = sorted(PIECES)
    weights = [PIECES[n][0] for n in names]
    chosen = rng.choices(names, weights, k=rng.randint(*size.pieces))
    for name in chosen:
        PIECES[name][1](b)
    plan = b.plan
    plan.formats = tuple(rng.sample(FORMATS, rng.randint(1, 3)))
    plan.jobs = 2 if rng.random() < 0.15 else 1
    has_cache_attack = any(note.startswith("cache attack") for note in b.notes)
    plan.cache = rng.choices(
        ["default", "inside", "none"], [0.35, 0.65 if has_cache_attack else 0.35, 0.15]
    )[0]
    plan.sam_env = rng.choice([None, None, "default", "prod", "::error::x"])
    plan.cwd_inside = rng.random() < 0.5
    plan.poison = plan.cache != "none" and rng.random() < 0.2
    plan.color = rng.random() < 0.3
    plan.persona = rng.choice([None, None, "pedantic", "auditor"])
    return Tree(seed, size.name, list(b.entries.values()), plan, b.notes, b.unreadable, b.mutable)


# -- writing a tree -------------------------------------------------------------------------------


def _fill_target(target: bytes, places: dict[bytes, bytes]) -> bytes:
    for name, value in places.items():
        target = target.replace(b"{" + name + b"}", value)
    return target


def _parents_ok(root: bytes, rel: bytes) -> bool:
    """Make the parent folders of `rel`; False when one of them exists and is not a real folder
    (never create anything through a link)."""
    parts = rel.split(b"/")[:-1]
    current = root
    for part in parts:
        current = current + b"/" + part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            os.mkdir(current)
            continue
        if not stat.S_ISDIR(st.st_mode):
            return False
    return True


def materialize(tree: Tree, checkout: Path, places: dict[str, Path]) -> list[bytes]:
    """Write the tree under `checkout`; returns the paths that could not be made (an entry
    below a file or a link). Links and FIFOs come after every file and folder, modes last."""
    root = os.fsencode(checkout)
    filled = {k.encode(): os.fsencode(v) for k, v in places.items()}
    order = {"dir": 0, "file": 0, "link": 1, "fifo": 1}
    skipped: list[bytes] = []
    for entry in sorted(tree.entries, key=lambda e: (order[e.kind], e.path)):
        path = root + b"/" + entry.path
        try:
            if not _parents_ok(root, entry.path):
                skipped.append(entry.path)
                continue
            if entry.kind == "dir":
                os.makedirs(path, exist_ok=True)
            elif entry.kind == "file":
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(entry.data)
            elif entry.kind == "link":
                os.symlink(_fill_target(entry.target, filled), path)
            else:
                os.mkfifo(path)
        except OSError:
            skipped.append(entry.path)
    for entry in sorted(tree.entries, key=lambda e: e.path, reverse=True):
        if entry.mode is not None and entry.path not in skipped:
            os.chmod(root + b"/" + entry.path, entry.mode, follow_symlinks=False)
    return skipped


def unseal(folder: Path) -> None:
    """Give every folder and file below `folder` its owner's permissions back (for removal)."""
    top = os.fsencode(folder)
    for current, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(current, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                os.chmod(path, st.st_mode | 0o700)
    if os.path.isdir(top):
        os.chmod(top, 0o700)
