"""Running git on the scanned checkout, safely: fixed arguments, hooks and fsmonitor disabled, no
prompts, the caller's GIT_DIR-like variables dropped, and a time limit per command (`GIT_TIMEOUT`
seconds, or ``ARCHREVIEW_GIT_TIMEOUT`` from the environment). git runs in a process group of its
own; when the limit passes the whole group is killed (a child git keeping the output pipe open
cannot make the wait hang) and `GitError` names the command. Nothing from the repository is
executed. PR mode (reviewer.github.prmode), the pre-commit hook and the outputs' submodule links
(reviewer.outputs.submodules) run git through here.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT = 600.0  # seconds per git command; ARCHREVIEW_GIT_TIMEOUT overrides it
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


def gitlinks(repo: Path, commit: str) -> list[tuple[str, str]]:
    """(path, commit) of each submodule recorded in `commit`."""
    listing = git(["ls-tree", "-r", "-z", commit], repo).stdout
    out: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry.startswith(b"160000 "):
            continue
        meta, _, path = entry.partition(b"\t")
        out.append((path.decode("utf-8", "surrogateescape"), meta.split(b" ")[2].decode()))
    return out
