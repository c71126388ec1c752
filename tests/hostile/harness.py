"""Run one scan of a hostile tree and check it.

A tree is written into the checkout of a fresh :class:`Workspace`; the surroundings and the
checkout are hashed (content, mode and link target of every entry, links never followed,
FIFOs never opened); then it is scanned, by one or more runs:

- ``engine``: in a forked child of this process (so a hang can be killed and the memory of
  the run read from ``wait4``), ``reviewer.runner.engine.scan`` with the profile, baseline and
  options the command line would use, then every renderer of ``reviewer.outputs`` (and the
  streaming variant where there is one); with ``plan.poison`` the cache entries the scan wrote
  are then replaced by hostile ones (FIFOs, links to /dev/zero and into the victim, folders)
  and the tree is scanned again;
- ``cli``: the ``archreview`` command line as a subprocess, the way the Action runs it (text on
  stdout, the other formats to files, from inside the checkout or not), under
  ``GITHUB_ACTIONS=true``;
- ``adr``: ``archreview adr PATH --out DIR`` when the tree plants an ADR folder.

After each run the checks apply (``Problem.kind``):

- failures (``FAILURES``): ``traceback`` (on stderr), ``exception`` (escaping the engine or a
  renderer), ``hang`` (killed after the hang limit), ``crash`` (killed by a signal),
  ``exit-3`` (the scan itself failed), ``exit`` (another code than 0/1/2/3), ``memory`` (peak
  RSS of a command-line run over the budget), ``outside-write`` (anything changed beside the
  checkout), ``checkout-clobber`` (a file the checkout held before the scan changed or
  disappeared), ``checkout-write`` (a new file in the checkout outside the cache folder and
  the ADR folder the run was given);
- reported, not failed (``REPORTED``): ``workflow-command`` (a line of the output that the
  Actions runner would take as a command; issue 18, item 4), ``check-crash`` (an AR-MOD-005
  finding: a check raised and the engine contained it), ``temp-leftover`` (files left in
  TMPDIR), ``slow`` (a run over the slow limit but under the hang limit).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import io
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import deny
from .trees import CACHE, Tree, materialize, unseal

REPO = Path(__file__).resolve().parents[2]
TODAY = "2026-11-25"
HANG_LIMIT = float(os.environ.get("HOSTILE_HANG_LIMIT", "120"))
SLOW_LIMIT = float(os.environ.get("HOSTILE_SLOW_LIMIT", "30"))
# issue 15: no hostile input of at most 5 MB may take more than 500 MB
MEMORY_BUDGET = 500 * 1024 * 1024
ADDRESS_LIMIT = 6 * 1024**3  # a safety net for the machine, far above the budget
FILE_SIZE_LIMIT = 1024**3

FAILURES = (
    "traceback",
    "exception",
    "hang",
    "crash",
    "exit-3",
    "exit",
    "memory",
    "outside-write",
    "checkout-clobber",
    "checkout-write",
)
REPORTED = ("workflow-command", "check-crash", "temp-leftover", "slow")


@dataclass(frozen=True)
class Problem:
    kind: str
    run: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} [{self.run}]: {self.detail}"


@dataclass
class Run:
    name: str
    code: int | None = None  # exit code; None when killed by a signal
    signal: int | None = None
    seconds: float = 0.0
    max_rss: int = 0  # bytes
    killed: bool = False
    stdout: bytes = b""
    stderr: bytes = b""
    result: dict[str, Any] = field(default_factory=dict)  # engine: what the child reported


@dataclass
class Outcome:
    label: str
    runs: list[Run] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def failures(self) -> list[Problem]:
        return [p for p in self.problems if p.kind in FAILURES]

    def of(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def run(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)

    def report(self) -> str:
        lines = [self.label]
        for r in self.runs:
            lines.append(
                f"  {r.name}: exit {r.code} signal {r.signal} killed {r.killed} "
                f"{r.seconds:.2f} s {r.max_rss // 2**20} MiB"
            )
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


# -- the workspace ------------------------------------------------------------------------------

VICTIM: dict[str, bytes] = {
    ".ssh/id_rsa": b"-----BEGIN OPENSSH PRIVATE KEY-----\nVICTIM-KEY\n-----END OPENSSH PRIVATE KEY-----\n",
    ".ssh/known_hosts": b"github.com ssh-ed25519 AAAA\n",
    "notes.md": b"# Notes\npassword: HUNTER2-VICTIM-SECRET\nname: victim\n",
    "settings.yml": b"api_key_HUNTER2-VICTIM-SECRET: x\n",
    "docs/0001-decision.md": b"# 1. A decision written by hand\n",
    "docs/index.md": b"# Decisions\n",
    "template.yaml": b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  OutsideSecretQueue:\n    Type: AWS::SQS::Queue\n",
    "api.yaml": b"openapi: 3.0.1\ninfo: {title: victim}\npaths: {}\n",
    "gitconfig": b"[core]\n\thooksPath = /tmp/evil\n",
    "deep/a/b/c.txt": b"deep\n",
    "ab/0123456789abcdef": b"shaped like a cache entry\n",
    "00/keep": b"keep\n",
}
HOME: dict[str, bytes] = {
    ".ssh/id_ed25519": b"HOME-KEY\n",
    ".gitconfig": b"[user]\n\tname = someone\n",
    ".cache/other-tool/keep": b"another tool's cache\n",
    ".config/archreview/keep": b"config\n",
}
SECRET_MARKERS = (b"HUNTER2-VICTIM-SECRET", b"VICTIM-KEY", b"HOME-KEY")


class Workspace:
    """checkout/ (the tree), victim/ and home/ (must not change), out/, tmp/."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.checkout = base / "checkout"
        self.victim = base / "victim"
        self.home = base / "home"
        self.out = base / "out"
        self.tmp = base / "tmp"
        self.extra_env: dict[str, str] = {}  # what a test adds to every run's environment
        for folder in (self.checkout, self.victim, self.home, self.out, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        for top, files in ((self.victim, VICTIM), (self.home, HOME)):
            for rel, data in files.items():
                path = top / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        os.chmod(self.victim / ".ssh" / "id_rsa", 0o600)
        (self.victim / "link").symlink_to("notes.md")

    @property
    def cache_home(self) -> Path:
        return self.home / ".cache"

    @property
    def user_cache(self) -> Path:
        """archreview's own folder in the user's cache: the only place beside the checkout a
        scan may write (its secret, its rule catalogue)."""
        return self.cache_home / "archreview"

    def places(self) -> dict[str, Path]:
        return {"victim": self.victim, "home": self.home, "checkout": self.checkout}

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.cache_home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "ARCHREVIEW_TODAY": TODAY,
            "GITHUB_ACTIONS": "true",
            "CI": "true",
        }
        env.update(self.extra_env)
        env.update(extra)
        return env

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            unseal(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def workspace(parent: Path | None = None) -> Iterator[Workspace]:
    base = Path(tempfile.mkdtemp(prefix="hostile-", dir=parent))
    ws = Workspace(base)
    try:
        yield ws
    finally:
        ws.cleanup()


# -- snapshots ----------------------------------------------------------------------------------

Snapshot = dict[bytes, tuple[Any, ...]]


def snapshot(top: Path, skip: Callable[[bytes], bool] = lambda rel: False) -> Snapshot:
    """Every entry below `top` by relative path: its type, mode, and its content digest (a
    file) or target (a link). Links are never followed, FIFOs never opened."""
    found: Snapshot = {}
    root = os.fsencode(top)
    stack = [b""]
    while stack:
        rel = stack.pop()
        folder = root + (b"/" + rel if rel else b"")
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            found[rel + b"/?"] = ("unlistable",)
            continue
        for name in names:
            sub = rel + b"/" + name if rel else name
            if skip(sub):
                continue
            path = root + b"/" + sub
            try:
                st = os.lstat(path)
            except OSError:
                found[sub] = ("vanished",)
                continue
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                found[sub] = ("dir", mode)
                stack.append(sub)
            elif stat.S_ISLNK(st.st_mode):
                found[sub] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                found[sub] = ("file", mode, st.st_size, _digest(path))
            else:
                found[sub] = ("special", stat.S_IFMT(st.st_mode), mode)
    return found


def _digest(path: bytes) -> str:
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        return f"unreadable:{err.errno}"
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    out = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        what = "created" if a is None else "removed" if b is None else "changed"
        out.append(f"{what} {path!r}")
    return out


def _under(rel: bytes, folder: bytes) -> bool:
    return rel == folder or rel.startswith(folder + b"/")


# -- workflow commands --------------------------------------------------------------------------

_COMMAND = re.compile(rb"^\s*::|##\[")


def workflow_commands(output: bytes | str) -> list[str]:
    """Lines the GitHub Actions runner could take as a workflow command: starting, after
    white space, with `::`, or holding `##[` (issue 18, item 4)."""
    data = output.encode("utf-8", "surrogatepass") if isinstance(output, str) else output
    return [
        line[:120].decode("utf-8", "replace")
        for line in re.split(rb"\r\n|\r|\n", data)
        if _COMMAND.search(line)
    ]


# -- runs ---------------------------------------------------------------------------------------


def _limits() -> None:
    """In the child: memory and file size safety nets, its own process group."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _reap(
    pid: int, deadline: float, started: float, kill: Callable[[], None]
) -> tuple[int, Any, bool]:
    """wait4 the child until the deadline, killing it then. (status, rusage, killed)."""
    killed = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done == pid:
            return status, usage, killed
        if not killed and time.monotonic() > deadline:
            kill()
            killed = True
            _, status, usage = os.wait4(pid, 0)
            return status, usage, killed
        time.sleep(0.005 if time.monotonic() - started < 1 else 0.05)


def _finish(run: Run, status: int, usage: Any, killed: bool, started: float) -> None:
    run.seconds = time.monotonic() - started
    run.max_rss = usage.ru_maxrss * 1024
    run.killed = killed
    if os.WIFSIGNALED(status):
        run.signal = os.WTERMSIG(status)
    else:
        run.code = os.WEXITSTATUS(status)


# Runs the command as its own child and writes that child's peak RSS (KiB) to argv[1]. A
# process forked from this one starts with this process's pages, and the peak RSS the kernel
# reports survives exec: forked from a test process of a few hundred MiB, every command would
# seem to take that much. Forked from this small launcher instead, the figure is the command's.
_LAUNCHER = """
import os, signal, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as handle:
    handle.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status))
"""


def run_command(
    ws: Workspace, name: str, argv: list[str], *, cwd: Path, env: dict[str, str], hang_limit: float
) -> Run:
    """A subprocess with its own session (killed whole on a hang), its output in files; its
    peak memory measured from a small launcher (see _LAUNCHER)."""
    run = Run(name)
    out_path, err_path = ws.base / f".hostile-{name}.stdout", ws.base / f".hostile-{name}.stderr"
    rss_path = ws.base / f".hostile-{name}.rss"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(rss_path), *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_limits,
        )

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        status, usage, killed = _reap(proc.pid, started + hang_limit, started, kill)
        proc.returncode = 0  # reaped above: keep Popen from waiting again
        if not killed:  # a worker the scan started may outlive it: never leave one behind
            kill()
    _finish(run, status, usage, killed, started)
    with contextlib.suppress(OSError, ValueError):  # killed: the launcher's own figure stays
        run.max_rss = int(rss_path.read_text(encoding="ascii")) * 1024
    rss_path.unlink(missing_ok=True)
    run.stdout, run.stderr = out_path.read_bytes(), err_path.read_bytes()
    out_path.unlink()
    err_path.unlink()
    return run


def run_forked(
    name: str, work: Callable[[], dict[str, Any]], *, hang_limit: float, output: Path
) -> Run:
    """`work()` in a forked child; its result (JSON) comes back through a pipe. The child's
    stdout and stderr go to files beside `output`."""
    run = Run(name)
    read_end, write_end = os.pipe()
    out_path, err_path = output.with_suffix(".stdout"), output.with_suffix(".stderr")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(read_end)
            os.setpgid(0, 0)
            _limits()
            for fd, path in ((1, out_path), (2, err_path)):
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(target, fd)
                os.close(target)
            # the parent's sys.stdout/sys.stderr may not write to fds 1 and 2 (pytest's capture)
            sys.stdout = io.TextIOWrapper(
                io.FileIO(1, "w", closefd=False), "utf-8", "backslashreplace"
            )
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), "utf-8", "backslashreplace"
            )
            try:
                result = work()
            except BaseException:
                result = {"exception": traceback.format_exc(), "stage": "harness"}
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            data = json.dumps(result, default=str).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = started + hang_limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([read_end], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_end)

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    status, usage, killed = _reap(pid, deadline, started, kill)
    if not killed:
        kill()  # workers of the scan's pool, if any were left
    _finish(run, status, usage, killed, started)
    with contextlib.suppress(ValueError):
        run.result = json.loads(b"".join(chunks) or b"{}")
    for attr, path in (("stdout", out_path), ("stderr", err_path)):
        with contextlib.suppress(OSError):
            setattr(run, attr, path.read_bytes())
            path.unlink()
    return run


# -- the engine run (in the forked child) -------------------------------------------------------


def _denied_paths(ws: Workspace, tree: Tree) -> list[str]:
    return [os.fsdecode(os.fsencode(ws.checkout) + b"/" + rel) for rel in tree.unreadable]


def _enter(ws: Workspace, tree: Tree) -> None:
    """The child's environment: the workspace's home, cache and temporary folders."""
    for key, value in ws.env().items():
        if key != "PATH":
            os.environ[key] = value
    tempfile.tempdir = None
    os.chdir(ws.checkout if tree.plan.cwd_inside else ws.out)
    if os.geteuid() == 0 and tree.unreadable:
        deny.install(_denied_paths(ws, tree))


def cache_dir(root: Path, mode: str) -> Path | None:
    """The cache folder of a plan's cache mode: the command line's default for `root`,
    PATH/.archreview-cache (inside the tree, where a pull request can plant one), or none."""
    if mode == "none":
        return None
    if mode == "inside":
        return root / CACHE.decode()
    from reviewer.cache import store as cache

    default = getattr(cache, "default_cache_dir", None)
    if default is None:  # before issue 15: the cache sat in the scanned tree
        return root / CACHE.decode()
    found = default(root)
    return None if found is None else Path(found)


def _entry_files(cache: Path) -> dict[bytes, tuple[int, int]]:
    """Regular files below a cache folder (links not followed): path -> (inode, mtime)."""
    found: dict[bytes, tuple[int, int]] = {}
    top = os.fsencode(cache)
    try:
        if not stat.S_ISDIR(os.lstat(top).st_mode):
            return found
    except OSError:
        return found
    for current, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(current, d))]
        for name in files:
            path = os.path.join(current, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    found[path] = (st.st_ino, st.st_mtime_ns)
    return found


def poison(cache: Path, seed: int, victim: Path, before: dict[bytes, tuple[int, int]]) -> int:
    """Replace every file the scan wrote below the cache folder (what was not there `before`)
    by something hostile; returns how many. Entry paths can be computed by anyone with
    archreview's code (keys are digests of the content, not of the secret), so a pull request
    can plant these where the next scan reads, when the cache is in the tree."""
    rng = random.Random(seed)
    done = 0
    for path, ident in sorted(_entry_files(cache).items()):
        if before.get(path) == ident:
            continue
        os.unlink(path)
        choice = rng.randrange(6)
        if choice == 0:
            os.mkfifo(path)
        elif choice == 1:
            os.symlink(b"/dev/zero", path)
        elif choice == 2:
            os.symlink(os.fsencode(victim) + b"/notes.md", path)
        elif choice == 3:
            os.mkdir(path)
            with open(path + b"/x", "wb") as handle:
                handle.write(b"x")
        elif choice == 4:
            with open(path, "wb") as handle:
                handle.write(rng.randbytes(rng.randint(0, 100)))
        else:
            os.symlink(b"../" * 8 + b"nowhere", path)
        done += 1
    return done


def engine_work(ws: Workspace, tree: Tree) -> dict[str, Any]:
    """What the engine child does: profile, baseline, scan (twice with `poison`), render."""
    _enter(ws, tree)
    from reviewer.findings.suppress import read_baseline
    from reviewer.outputs import FORMATS, RenderOptions, renderer, streamer
    from reviewer.profile import DEFAULT
    from reviewer.profile import loader as profile_loader
    from reviewer.profile.loader import ProfileError, find_profile, load_profile
    from reviewer.runner.engine import ScanOptions, scan

    plan = tree.plan
    root = ws.checkout
    result: dict[str, Any] = {"usage": [], "outputs": {}, "stage": None, "exception": None}
    stage = "profile"
    try:
        profile = DEFAULT
        resolve = getattr(profile_loader, "resolve_profile", None)  # issue 16 on
        named = root / os.fsdecode(plan.profile) if plan.profile else None
        if resolve is not None:  # as the command line: --profile, .archreview.yml, an agent
            try:
                profile = resolve(root, named)
            except ProfileError as err:
                result["usage"].append(f"profile: {err}"[:300])
            result["profile_problems"] = len(getattr(profile, "problems", ()))
        else:
            if named is not None:  # named by the user (the workflow): trusted as a path
                target: Path | None = named
                inside: Path | None = None
            else:  # found in the repository: no link out of the root may be followed
                target, inside = find_profile(root), root
            if target is not None:
                takes_root = "root" in inspect.signature(load_profile).parameters  # issue 15 on
                try:
                    profile = (
                        load_profile(target, root=inside) if takes_root else load_profile(target)
                    )
                except ProfileError as err:
                    result["usage"].append(f"profile: {err}"[:300])
        stage = "baseline"
        baseline = None
        if plan.baseline is not None:
            try:
                baseline = read_baseline(root / os.fsdecode(plan.baseline))
            except ValueError as err:
                result["usage"].append(f"baseline: {err}"[:300])
        stage = "scan"
        cache = cache_dir(root, plan.cache)
        extra: dict[str, Any] = {}
        if plan.persona and "persona" in {f.name for f in dataclasses.fields(ScanOptions)}:
            from reviewer.core.types import Persona  # type: ignore[attr-defined,unused-ignore]

            extra["persona"] = Persona(plan.persona)
        options = ScanOptions(
            today=date.fromisoformat(TODAY),
            profile=profile,
            sam_env=plan.sam_env,
            jobs=plan.jobs,
            cache_dir=None if cache is None else str(cache),
            baseline=baseline,
            **extra,
        )
        before = _entry_files(cache) if cache is not None else {}
        try:
            report = scan(root, options)
        except Exception as err:  # a rule file with an error (issue 21): exit 2, one line
            if type(err).__name__ != "RuleFileError":
                raise
            result["usage"].append(f"rules: {err}"[:300])
            result["findings"] = 0  # refused, as the command line refuses it (exit 2)
            return result
        if plan.poison and cache is not None:
            result["poisoned"] = poison(cache, tree.seed, ws.victim, before)
            stage = "rescan"
            report = scan(root, options)
        result["findings"] = len(report.findings)
        result["check_crashes"] = sorted(
            {f.message[:200] for f in report.findings if f.rule_id == "AR-MOD-005"}
        )
        for fmt in FORMATS:
            stage = f"render {fmt}"
            text = renderer(fmt)(report, RenderOptions(color=plan.color))
            stream = streamer(fmt)
            if stream is not None:
                stage = f"stream {fmt}"
                size = 0

                def count(piece: str) -> None:
                    nonlocal size
                    size += len(piece)

                stream(report, RenderOptions(color=plan.color), count)
            result["outputs"][fmt] = {
                "chars": len(text),
                "longest_line": max((len(line) for line in text.split("\n")), default=0),
                "commands": workflow_commands(text)[:3],
            }
    except BaseException:
        result["stage"] = stage
        result["exception"] = traceback.format_exc()[-4000:]
    return result


# -- checking one tree --------------------------------------------------------------------------


def persona_args(persona: str | None) -> list[str]:
    """``--persona X`` when the command line has the option, else nothing."""
    from reviewer.cli import main as cli

    names = {p.name for p in getattr(cli.scan, "params", ())}
    return ["--persona", persona] if persona and "persona" in names else []


def archreview_argv() -> list[str]:
    """The command line of the repository this harness lives in (not whatever `archreview` is
    installed): `python -I`, so neither the working directory nor PYTHON* variables reach
    sys.path, as with the console script."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from reviewer.cli.main import run; run()"
    return [sys.executable, "-I", "-c", code]


def _command(ws: Workspace, tree: Tree, argv: list[str]) -> list[str]:
    if os.geteuid() == 0 and tree.unreadable:  # root ignores chmod 000: simulate it
        code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from tests.hostile.deny import main; main()"
        return [sys.executable, "-I", "-c", code, *argv]
    return [*archreview_argv(), *argv]


def _command_env(ws: Workspace, tree: Tree) -> dict[str, str]:
    """The workspace's environment, and the paths the deny shim makes unreadable (root)."""
    if os.geteuid() == 0 and tree.unreadable:
        return ws.env(HOSTILE_DENY=json.dumps(_denied_paths(ws, tree)))
    return ws.env()


def cli_args(ws: Workspace, tree: Tree) -> list[str]:
    """`archreview scan ...` as the Action runs it: the first format on stdout, the others
    into files of out/."""
    plan = tree.plan
    path = "." if plan.cwd_inside else str(ws.checkout)
    args = ["scan", path]
    for i, fmt in enumerate(plan.formats):
        args += ["--format", fmt]
        if i:
            args += ["--output", f"{fmt}={ws.out / ('report.' + fmt)}"]
    args += ["--jobs", str(plan.jobs)]
    if plan.cache == "none":
        args.append("--no-cache")
    elif plan.cache == "inside":
        args += [
            "--cache-dir",
            CACHE.decode() if plan.cwd_inside else str(ws.checkout / CACHE.decode()),
        ]
    if plan.sam_env is not None:
        args += ["--sam-env", plan.sam_env]
    if plan.baseline is not None:
        args += ["--baseline", os.fsdecode(os.fsencode(ws.checkout) + b"/" + plan.baseline)]
    if plan.profile is not None:
        args += ["--profile", os.fsdecode(os.fsencode(ws.checkout) + b"/" + plan.profile)]
    return args + persona_args(plan.persona)


def adr_args(ws: Workspace, tree: Tree) -> list[str]:
    out = tree.plan.adr_out or b"docs/adr"
    if tree.plan.cwd_inside:
        return ["adr", ".", "--out", os.fsdecode(out)]
    return ["adr", str(ws.checkout), "--out", os.fsdecode(os.fsencode(ws.checkout) + b"/" + out)]


def _surroundings(ws: Workspace) -> Snapshot:
    base = os.fsencode(ws.base)
    skip_abs = [os.fsencode(p) for p in (ws.checkout, ws.user_cache, ws.tmp, ws.out)]
    skip_rel = [p[len(base) + 1 :] for p in skip_abs]
    return snapshot(
        ws.base, lambda rel: rel.startswith(b".hostile-") or any(_under(rel, s) for s in skip_rel)
    )


def check_run(run: Run, problems: list[Problem], *, subprocess_run: bool) -> None:
    name = run.name
    if run.killed:
        problems.append(Problem("hang", name, f"killed after {run.seconds:.0f} s"))
    elif run.signal is not None:
        problems.append(Problem("crash", name, f"killed by signal {run.signal}"))
    elif run.seconds > SLOW_LIMIT:
        problems.append(Problem("slow", name, f"{run.seconds:.1f} s"))
    if b"Traceback" in run.stderr:
        tail = run.stderr.decode("utf-8", "replace").strip().split("\n")[-1][:300]
        problems.append(Problem("traceback", name, tail))
    if subprocess_run and run.code is not None and not run.killed:
        if run.code == 3:
            line = run.stderr.decode("utf-8", "replace").strip().split("\n")[-1][:300]
            problems.append(Problem("exit-3", name, line))
        elif run.code not in (0, 1, 2):
            problems.append(Problem("exit", name, f"exit {run.code}"))
    if subprocess_run and run.max_rss > MEMORY_BUDGET:
        problems.append(Problem("memory", name, f"{run.max_rss // 2**20} MiB"))
    for stream, data in (("stdout", run.stdout), ("stderr", run.stderr)):
        found = workflow_commands(data)
        if found:
            problems.append(Problem("workflow-command", name, f"{stream}: {found[0]!r}"))
    result = run.result
    if result.get("exception"):
        last = result["exception"].strip().split("\n")[-1][:300]
        problems.append(Problem("exception", name, f"{result.get('stage')}: {last}"))
    elif not subprocess_run and not run.killed and run.signal is None and "findings" not in result:
        problems.append(Problem("crash", name, f"the child reported nothing (exit {run.code})"))
    for fmt, out in result.get("outputs", {}).items():
        if out.get("commands"):
            problems.append(Problem("workflow-command", name, f"{fmt}: {out['commands'][0]!r}"))
    for message in result.get("check_crashes", ()):
        problems.append(Problem("check-crash", name, message))


def _check_tree(
    ws: Workspace,
    run: str,
    tree: Tree,
    before_out: Snapshot,
    before_in: Snapshot,
    problems: list[Problem],
    allowed: list[bytes],
) -> None:
    for change in changes(before_out, _surroundings(ws)):
        problems.append(Problem("outside-write", run, change))
    after_in = snapshot(ws.checkout)
    for path, was in before_in.items():
        if path in tree.mutable or after_in.get(path) == was:
            continue
        now = after_in.get(path)
        what = "removed" if now is None else "changed"
        problems.append(Problem("checkout-clobber", run, f"{what} {path!r}"))
    for path in sorted(set(after_in) - set(before_in)):
        if not any(_under(path, a) for a in allowed):
            problems.append(Problem("checkout-write", run, f"created {path!r}"))
    leftovers = sorted(os.listdir(ws.tmp))
    if leftovers:
        problems.append(Problem("temp-leftover", run, ", ".join(repr(n) for n in leftovers[:5])))
        unseal(ws.tmp)
        shutil.rmtree(ws.tmp, ignore_errors=True)
        ws.tmp.mkdir()


def _allowed(
    ws: Workspace, tree: Tree, before_in: Snapshot, extra: bytes | None = None
) -> list[bytes]:
    """Where a run may create files in the checkout: the cache folder of its plan when that is
    in the tree (archreview's default before issue 15, or --cache-dir naming it) and a real
    folder or missing, and likewise the ADR folder it was given."""
    allowed = []
    cache = cache_dir(ws.checkout, tree.plan.cache)
    in_tree = None
    if cache is not None and _under(os.fsencode(cache), os.fsencode(ws.checkout)):
        in_tree = os.fsencode(cache)[len(os.fsencode(ws.checkout)) + 1 :]
    for rel in (in_tree, extra):
        if rel and before_in.get(rel, ("dir",))[0] == "dir":
            allowed.append(rel)
    return allowed


def check(
    tree: Tree,
    *,
    engine: bool = True,
    cli: bool = True,
    hang_limit: float = HANG_LIMIT,
    parent: Path | None = None,
    keep: Callable[[Workspace], None] | None = None,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Write `tree` into a fresh workspace, run it, check every run. `keep(ws)` is called
    before the workspace is removed (tests use it to look at what is left); `env` is added to
    the environment of every run."""
    outcome = Outcome(tree.describe())
    with workspace(parent) as ws:
        ws.extra_env.update(env or {})
        skipped = materialize(tree, ws.checkout, ws.places())
        if skipped:
            outcome.label += f" ({len(skipped)} entries could not be made)"
        before_out = _surroundings(ws)
        before_in = snapshot(ws.checkout)
        allowed = _allowed(ws, tree, before_in)
        problems = outcome.problems
        if engine:
            r = run_forked(
                "engine",
                lambda: engine_work(ws, tree),
                hang_limit=hang_limit,
                output=ws.base / ".hostile-engine",
            )
            outcome.runs.append(r)
            check_run(r, problems, subprocess_run=False)
            _check_tree(ws, "engine", tree, before_out, before_in, problems, allowed)
        if cli:
            cwd = ws.checkout if tree.plan.cwd_inside else ws.out
            r = run_command(
                ws,
                "cli",
                _command(ws, tree, cli_args(ws, tree)),
                cwd=cwd,
                env=_command_env(ws, tree),
                hang_limit=hang_limit,
            )
            outcome.runs.append(r)
            check_run(r, problems, subprocess_run=True)
            _check_tree(ws, "cli", tree, before_out, before_in, problems, allowed)
        if tree.plan.adr_out is not None:
            cwd = ws.checkout if tree.plan.cwd_inside else ws.out
            r = run_command(
                ws,
                "adr",
                _command(ws, tree, adr_args(ws, tree)),
                cwd=cwd,
                env=_command_env(ws, tree),
                hang_limit=hang_limit,
            )
            outcome.runs.append(r)
            check_run(r, problems, subprocess_run=True)
            adr_allowed = _allowed(ws, tree, before_in, tree.plan.adr_out)
            _check_tree(ws, "adr", tree, before_out, before_in, problems, adr_allowed)
        if keep is not None:
            keep(ws)
    return outcome


# -- many trees ---------------------------------------------------------------------------------


def warm() -> None:
    """Import what a scan and the renderers use, once, in the process that forks the runs."""
    import importlib

    from reviewer.checks.catalogue import load_catalogue
    from reviewer.decode.load import import_decoder
    from reviewer.outputs import MODULES
    from reviewer.runner.engine import all_checks

    for module in (
        "reviewer.runner.engine",
        "reviewer.runner.pipeline",
        "reviewer.cache.store",
        "reviewer.findings.suppress",
        "reviewer.profile.loader",
        "reviewer.profile.agent",
        *(f"reviewer.outputs.{m}" for m in MODULES.values()),
    ):
        importlib.import_module(module)
    all_checks()
    import_decoder()
    load_catalogue()


def outcome_dict(seed: int, outcome: Outcome) -> dict[str, Any]:
    return {
        "seed": seed,
        "label": outcome.label,
        "runs": [
            {
                "name": r.name,
                "code": r.code,
                "signal": r.signal,
                "seconds": round(r.seconds, 3),
                "max_rss": r.max_rss,
                "killed": r.killed,
            }
            for r in outcome.runs
        ],
        "problems": [[p.kind, p.run, p.detail] for p in outcome.problems],
    }


def _worker(
    tasks: int, results: int, size: str, cli_every: int, hang_limit: float, parent: Path | None
) -> None:
    from .trees import generate

    with (
        os.fdopen(tasks, "rb", buffering=0) as inbox,
        os.fdopen(results, "wb", buffering=0) as outbox,
    ):
        while True:
            line = b""
            while not line.endswith(b"\n"):
                chunk = inbox.read(1)
                if not chunk:
                    return
                line += chunk
            seed = int(line)
            try:
                tree = generate(seed, size)
                outcome = check(
                    tree,
                    cli=cli_every > 0 and seed % cli_every == 0,
                    hang_limit=hang_limit,
                    parent=parent,
                )
                record = outcome_dict(seed, outcome)
            except Exception:
                record = {
                    "seed": seed,
                    "label": f"seed {seed}",
                    "runs": [],
                    "problems": [["harness", "harness", traceback.format_exc()[-2000:]]],
                }
            outbox.write(json.dumps(record).encode() + b"\n")


def fuzz(
    seeds: list[int],
    *,
    size: str = "ci",
    workers: int = 2,
    cli_every: int = 5,
    hang_limit: float = HANG_LIMIT,
    parent: Path | None = None,
) -> Iterator[dict[str, Any]]:
    """Check the tree of every seed, `workers` at a time (forked processes, each fed one seed at
    a time); yields each tree's outcome as a dict (``outcome_dict``) as it finishes. Every
    `cli_every`-th seed also gets a command-line run (0: none)."""
    warm()
    pending = list(reversed(seeds))
    pids: dict[int, int] = {}  # result fd -> worker pid
    inboxes: dict[int, int | None] = {}  # result fd -> the worker's task fd (None: closed)
    buffers: dict[int, bytes] = {}

    def feed(fd: int) -> None:
        task = inboxes[fd]
        if task is None:
            return
        if pending:
            os.write(task, b"%d\n" % pending.pop())
        else:  # nothing left: the worker reads the end of its input and leaves
            os.close(task)
            inboxes[fd] = None

    for _ in range(max(1, min(workers, len(seeds)))):
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(task_w)
                os.close(result_r)
                for fd, task in inboxes.items():
                    os.close(fd)
                    if task is not None:
                        os.close(task)
                _worker(task_r, result_w, size, cli_every, hang_limit, parent)
            except BaseException:
                traceback.print_exc()
                code = 70
            finally:
                os._exit(code)
        os.close(task_r)
        os.close(result_w)
        pids[result_r], inboxes[result_r], buffers[result_r] = pid, task_w, b""
        feed(result_r)
    try:
        while pids:
            ready, _, _ = select.select(list(pids), [], [])
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # the worker ended
                    os.waitpid(pids.pop(fd), 0)
                    os.close(fd)
                    task = inboxes.pop(fd)
                    if task is not None:
                        os.close(task)
                    continue
                buffers[fd] += chunk
                while b"\n" in buffers[fd]:
                    line, _, buffers[fd] = buffers[fd].partition(b"\n")
                    feed(fd)
                    yield json.loads(line)
    finally:
        for fd, pid in pids.items():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
            task = inboxes.get(fd)
            if task is not None:
                os.close(task)
