"""PR mode (`scan --diff-base REF`): which findings does this change introduce?

The tree at REF is checked out in a temporary `git worktree add --detach` (and each submodule
that REF records, from the submodule's own repository), scanned with the same options, and then
removed. REF's findings are re-keyed through the renames `git diff -M --name-status REF` reports,
so a renamed template keeps its findings "existing". A finding of the current scan is new when
its logical fingerprint (rule, file, logical id, property path — never a line number) is absent
from REF's findings. Line-based filtering would miss the regressions this exists for: deleting a
WAF association makes AR-API-001 appear on a stage line the change never touched.

REF's side is cached (with a cache): its logical findings are kept under a key made of REF's
git tree id — which names every file's content and every submodule's commit, so it names the
whole base checkout — and everything else the scan's result depends on (archreview's code and
rules, the profile, the date, the options, the scanned root's place in the repository). A later
run against the same base reads them back without checking anything out or scanning it again:
a pull request's every push re-scans only its own side. A base whose submodules could not all be
checked out is not cached (fetching them later must change the answer).

Only git itself runs, with fixed arguments, hooks disabled and no prompts; nothing from the
repository is executed. Every git command has a time limit (`GIT_TIMEOUT` seconds, or
``ARCHREVIEW_GIT_TIMEOUT`` from the environment): git runs in a process group of its own, and
when the limit passes the whole group is killed (a child git keeping the output pipe open cannot
make the wait hang) and the scan fails with one line naming the command (exit 3). A repository
can make git itself slow: a `.gitignore` pattern that git's matcher backtracks on, a huge tree.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reviewer.engine import ScanOptions, fingerprint, scan
from reviewer.model import Finding, Report

GIT_TIMEOUT = 600.0  # seconds per git command; ARCHREVIEW_GIT_TIMEOUT overrides it
MAX_SUBMODULE_DEPTH = 8
_GIT_ENV_DROP = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
)


class DiffBaseError(Exception):
    """REF cannot be compared against (not a git checkout, unknown ref): a usage error."""


class GitError(Exception):
    """A git command failed while preparing the base tree: the scan failed."""


@dataclass
class BaseTree:
    """The checked-out base: where it is, the worktrees to remove, and what went wrong."""

    path: Path
    worktrees: list[tuple[Path, Path]] = field(default_factory=list)  # (repository, worktree)
    warnings: list[str] = field(default_factory=list)
    submodules: list[tuple[str, Path, str]] = field(default_factory=list)  # (path, repo, commit)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    return env


def git_timeout() -> float:
    """Seconds each git command may take: ARCHREVIEW_GIT_TIMEOUT when set (a number above 0;
    anything else is a usage error), else GIT_TIMEOUT."""
    raw = os.environ.get("ARCHREVIEW_GIT_TIMEOUT", "").strip()
    if not raw:
        return GIT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise DiffBaseError(
            f"ARCHREVIEW_GIT_TIMEOUT={raw[:40]!r} is not a number of seconds above 0"
        )
    return value


def _command(args: Sequence[str]) -> str:
    """The git command, for messages: its verb and, when it has one, its sub-verb."""
    words = ["git", args[0]] if args else ["git"]
    if len(args) > 1 and not args[1].startswith("-") and args[0] in ("worktree", "submodule"):
        words.append(args[1])
    return " ".join(words)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # git and any git it started
    except (ProcessLookupError, PermissionError):
        proc.kill()


def git(
    args: Sequence[str], cwd: Path, *, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run git with fixed arguments in `cwd`: no hooks, no fsmonitor, no prompts, and a time
    limit (`git_timeout`) after which git's whole process group is killed (GitError)."""
    cmd = [
        "git",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
        *args,
    ]
    timeout = git_timeout()
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: killed whole on a timeout
        )
    except FileNotFoundError as err:
        raise DiffBaseError("--diff-base needs git on PATH") from err
    try:
        out, err_out = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipes
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            proc.wait()
        raise GitError(
            f"{_command(args)} timed out after {timeout:g} s "
            "(ARCHREVIEW_GIT_TIMEOUT sets the limit per git command)"
        ) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    done = subprocess.CompletedProcess(cmd, proc.returncode, out, err_out)
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            f"git {' '.join(args[:2])} failed: {detail[-1] if detail else done.returncode}"
        )
    return done


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def resolve(root: Path, ref: str) -> tuple[Path, str, str]:
    """(repository top level, the scanned root's prefix in it ('' or 'a/b/'), commit of REF)."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise DiffBaseError(f"--diff-base {ref!r} is not a git revision")
    top = git(["rev-parse", "--show-toplevel"], root, check=False)
    if top.returncode != 0:
        raise DiffBaseError(f"--diff-base needs a git checkout: {root} is not inside one")
    toplevel = Path(_out(top))
    prefix = _out(git(["rev-parse", "--show-prefix"], root))
    commit = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel, check=False)
    if commit.returncode != 0:
        raise DiffBaseError(
            f"--diff-base {ref}: no such commit in {toplevel} "
            "(in GitHub Actions, check out with fetch-depth: 0)"
        )
    return toplevel, prefix, _out(commit)


def _gitlinks(repo: Path, commit: str) -> list[tuple[str, str]]:
    """(path, commit) of each submodule recorded in `commit`."""
    listing = git(["ls-tree", "-r", "-z", commit], repo).stdout
    out: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry.startswith(b"160000 "):
            continue
        meta, _, path = entry.partition(b"\t")
        out.append((path.decode("utf-8", "surrogateescape"), meta.split(b" ")[2].decode()))
    return out


def _add_worktree(repo: Path, commit: str, dest: Path, tree: BaseTree) -> None:
    git(["worktree", "add", "--detach", "--quiet", str(dest), commit], repo)
    tree.worktrees.append((repo, dest))


def _add_submodules(
    repo: Path, commit: str, dest: Path, rel: str, tree: BaseTree, depth: int
) -> None:
    if depth > MAX_SUBMODULE_DEPTH:
        return
    for path, sub_commit in _gitlinks(repo, commit):
        head_sub = repo / path
        target = dest / path
        label = f"{rel}{path}"
        if not (head_sub / ".git").exists():
            tree.warnings.append(
                f"submodule {label} is not checked out here: its base findings are unknown "
                "(check out with submodules: recursive)"
            )
            continue
        have = git(["cat-file", "-e", f"{sub_commit}^{{commit}}"], head_sub, check=False)
        if have.returncode != 0:
            tree.warnings.append(
                f"submodule {label}: base commit {sub_commit[:12]} is not available locally, so "
                "all its findings count as new (fetch the submodule's history)"
            )
            continue
        if target.exists() and any(target.iterdir()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        _add_worktree(head_sub, sub_commit, target, tree)
        tree.submodules.append((label, head_sub, sub_commit))
        _add_submodules(head_sub, sub_commit, target, f"{label}/", tree, depth + 1)


def checkout_base(toplevel: Path, commit: str, into: Path) -> BaseTree:
    """Check out `commit` (and the submodules it records) below `into`."""
    tree = BaseTree(into / "tree")
    try:
        _add_worktree(toplevel, commit, tree.path, tree)
        _add_submodules(toplevel, commit, tree.path, "", tree, 0)
    except Exception:
        remove_base(tree)
        raise
    return tree


def remove_base(tree: BaseTree) -> None:
    for repo, worktree in reversed(tree.worktrees):
        git(["worktree", "remove", "--force", "--force", str(worktree)], repo, check=False)
    for repo in dict.fromkeys(repo for repo, _ in tree.worktrees):
        git(["worktree", "prune"], repo, check=False)
    tree.worktrees.clear()


def _parse_name_status(raw: bytes, base: str = "") -> dict[str, str]:
    """old -> new for the renames in `git diff -M --name-status -z` output."""
    fields = raw.split(b"\0")
    renames: dict[str, str] = {}
    i = 0
    while i < len(fields):
        status = fields[i].decode("ascii", "replace")
        if not status:
            i += 1
            continue
        if status[0] in "RC":
            old = fields[i + 1].decode("utf-8", "surrogateescape")
            new = fields[i + 2].decode("utf-8", "surrogateescape")
            if status[0] == "R":
                renames[base + old] = base + new
            i += 3
        else:
            i += 2
    return renames


def renames_since(
    toplevel: Path, commit: str, submodules: Sequence[tuple[str, Path, str]]
) -> dict[str, str]:
    """Renames between `commit` and the working tree (top-level relative paths), including
    renames inside the submodules checked out for the base."""
    renames = _parse_name_status(
        git(["diff", "-M", "--name-status", "-z", commit, "--"], toplevel).stdout
    )
    for label, repo, sub_commit in submodules:
        done = git(["diff", "-M", "--name-status", "-z", sub_commit, "--"], repo, check=False)
        if done.returncode == 0:
            renames.update(_parse_name_status(done.stdout, f"{label}/"))
    return renames


def relative_renames(renames: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Renames as paths relative to the scanned root (both ends inside it)."""
    out: dict[str, str] = {}
    for old, new in renames.items():
        if old.startswith(prefix) and new.startswith(prefix):
            out[old[len(prefix) :]] = new[len(prefix) :]
    return out


LogicalKey = tuple[str, str, "str | None", "str | None"]  # rule, file, resource, property


def logical_keys(findings: Sequence[Finding]) -> list[LogicalKey]:
    """What a finding's logical fingerprint is made of, once per distinct finding, in order."""
    return list(dict.fromkeys((f.rule_id, f.file, f.resource, f.property) for f in findings))


def base_fingerprints(keys: Sequence[LogicalKey], renames: Mapping[str, str]) -> set[str]:
    """REF's logical fingerprints (from `logical_keys`), recomputed with each file's name in
    the current tree."""
    return {
        fingerprint(rule_id, renames.get(file, file), resource, prop)
        for rule_id, file, resource, prop in keys
    }


def _live(f: Finding) -> bool:
    """Findings of the live AWS review (deployed stacks, drift): a change to the repository
    does not introduce them, and REF is not reviewed live again."""
    return f.file.startswith("aws://") or f.layer == "DRF"


def mark_new(report: Report, fingerprints: set[str], ref: str) -> Report:
    from reviewer.model import evolve

    marked = tuple(
        evolve(f, new=not _live(f) and f.fingerprint not in fingerprints) for f in report.findings
    )
    return replace(report, findings=marked, diff_base=ref)


BASE_KIND = "base"


def _base_key(toplevel: Path, commit: str, prefix: str, options: ScanOptions) -> str | None:
    """The cache key of REF's findings (see the module docstring), or None: no cache, or a
    value that has no stable digest."""
    if options.cache_dir is None:
        return None
    from reviewer.pipeline import options_key

    scan_key = options_key(options)
    if scan_key is None:
        return None
    tree = git(["rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}"], toplevel, check=False)
    if tree.returncode != 0:
        return None
    from reviewer.cache import digest

    return digest(BASE_KIND, scan_key, _out(tree), prefix)


def _cached_base(options: ScanOptions, key: str | None) -> dict[str, Any] | None:
    if key is None or options.cache_dir is None:
        return None
    from reviewer.cache import Cache

    saved = Cache.open(options.cache_dir).get(BASE_KIND, key)
    if (
        isinstance(saved, dict)
        and isinstance(saved.get("keys"), list)
        and isinstance(saved.get("submodules"), list)
    ):
        return saved
    return None


def _store_base(options: ScanOptions, key: str | None, value: dict[str, Any]) -> None:
    if key is None or options.cache_dir is None:
        return
    from reviewer.cache import Cache

    cache = Cache.open(options.cache_dir)
    cache.put(BASE_KIND, key, value)
    cache.prune((), whole=(BASE_KIND,), keep=4)


def compare_with_base(
    root: Path, ref: str, options: ScanOptions, report: Report
) -> tuple[Report, list[str]]:
    """The current `report` with every finding marked new or existing against REF, and any
    warnings (submodules whose base could not be checked out)."""
    toplevel, prefix, commit = resolve(root, ref)
    base_options = replace(options, baseline=None, no_ignores=True, aws=None)
    key = _base_key(toplevel, commit, prefix, base_options)
    saved = _cached_base(base_options, key)
    if saved is not None:  # REF scanned before, with everything that shapes its findings
        submodules = [(label, Path(repo), sub) for label, repo, sub in saved["submodules"]]
        renames = relative_renames(renames_since(toplevel, commit, submodules), prefix)
        return mark_new(report, base_fingerprints(saved["keys"], renames), ref), []
    workdir = Path(tempfile.mkdtemp(prefix="archreview-base-"))
    try:
        tree = checkout_base(toplevel, commit, workdir)
        try:
            renames = relative_renames(renames_since(toplevel, commit, tree.submodules), prefix)
            base_root = tree.path / prefix if prefix else tree.path
            base_findings: tuple[Finding, ...] = ()
            if base_root.is_dir():
                base_findings = scan(base_root, base_options).findings
        finally:
            remove_base(tree)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    keys = logical_keys(base_findings)
    if not tree.warnings:
        kept = [(label, str(repo), sub) for label, repo, sub in tree.submodules]
        _store_base(base_options, key, {"keys": keys, "submodules": kept})
    return mark_new(report, base_fingerprints(keys, renames), ref), tree.warnings
