"""Load a profile from a file and resolve where the declared architecture comes from.

The document itself (schema, parsing, presets, writing) is reviewer.profile.document; an agent
definition (``*.md`` with YAML front matter) is read by reviewer.profile.agent.

Where the declared architecture comes from (:func:`resolve_profile`, first found wins):
``--profile FILE``; ``PATH/.archreview.yml``; an architect agent definition committed in the
repository (``.claude/agents/*.md``, ``.github/agents/*.md``, ``*.agent.md`` at the root or
below ``docs/``) that maps to at least one schema key, the one that maps the most (ties: path
order); else the baseline. Each module's own profile (:func:`resolve_modules`): the root's, the
root's ``modules:`` entries whose glob matches the module's path, then what the module folder
(and each enclosing module folder) commits for itself — its own .archreview.yml, else its best
agent definition — on top. Repository files are read without following a link out of the root,
at most MAX_BYTES each; one that cannot be used is a problem (AR-MOD-003) and is skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable
from dataclasses import replace
from pathlib import Path

from reviewer.profile import (
    BASELINE_NOTICE,
    Profile,
)
from reviewer.profile.document import MAX_BYTES, decode_text, read_limited

# What loading raises and reads, importable from here as before the document had its own module.
from reviewer.profile.document import ProfileError as ProfileError
from reviewer.profile.document import parse_profile_text as parse_profile_text
from reviewer.profile.document import preset as preset

PROFILE_FILENAMES = (".archreview.yml", ".archreview.yaml")
MAX_AGENT_CANDIDATES = 16  # agent definitions read per folder (the root, each module)
MAX_LISTED = 5_000  # folder entries looked at per folder while looking for agent definitions
DOCS_DEPTH = 6  # how deep below docs/ *.agent.md files are looked for


# -- loading -----------------------------------------------------------------------------------


def is_agent_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".md", ".markdown")


MAX_LINK_HOPS = 40  # as the kernel's own limit: more is a loop


class _Outside(Exception):
    """A link on the path leaves the root."""


def _open_in_root(root_fd: int, real_root: str, rel: str) -> int:
    """Open repository file ``rel`` for reading below the directory ``root_fd`` (whose real
    path is ``real_root``), one component at a time with O_NOFOLLOW. A symbolic link is
    resolved by hand: its target is spliced into the remaining components, relative to the
    folder holding it (an absolute target restarts at the root when it names a place inside
    it). A ``..`` above the root or an absolute target elsewhere raises _Outside; more than
    MAX_LINK_HOPS links raise OSError(ELOOP)."""
    import errno

    folders: list[int] = []  # the open folders below the root, innermost last
    pending = rel.split("/")
    hops = 0
    try:
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                if folders:
                    os.close(folders.pop())
                    continue
                # above the root: fine only when the path comes straight back into it through
                # the root's own (real) parent folders, as ../repo/x does
                ups = 1
                while pending and pending[0] == "..":
                    pending.pop(0)
                    ups += 1
                names = [part for part in real_root.split("/") if part]
                if ups > len(names) or pending[:ups] != names[len(names) - ups :]:
                    raise _Outside
                del pending[:ups]
                continue
            here = folders[-1] if folders else root_fd
            last = not any(p not in ("", ".") for p in pending)
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            if not last:
                flags |= os.O_DIRECTORY
            try:
                fd = os.open(name, flags, dir_fd=here)
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                if not stat.S_ISLNK(os.stat(name, dir_fd=here, follow_symlinks=False).st_mode):
                    raise
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links") from None
                target = os.readlink(name, dir_fd=here)
                if target.startswith("/"):
                    inside = os.path.relpath(os.path.normpath(target), real_root)
                    if inside == ".." or inside.startswith("../"):
                        raise _Outside from None
                    while folders:
                        os.close(folders.pop())
                    target = inside
                pending[:0] = target.split("/")
                continue
            if last:
                return fd
            folders.append(fd)
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    finally:
        for fd in folders:
            os.close(fd)


def read_in_root(root: Path, rel: str, label: str, limit: int = MAX_BYTES) -> str:
    """The text of repository file ``rel`` (a ``/``-separated path below ``root``), read
    without following any link out of the root: a link inside the root is followed, one that
    leaves it (or a loop, a FIFO, a device, a folder) is a one-line ProfileError naming only
    the repository path, never the target or its content. At most ``limit`` bytes, UTF-8."""
    file = str(root / rel)
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # named by the user
    except OSError as err:
        raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
    try:
        try:
            fd = _open_in_root(root_fd, os.path.realpath(root), rel)
        except _Outside:
            raise ProfileError(
                f"{label} is a symbolic link leading outside the repository; it is not read", file
            ) from None
        except OSError as err:
            raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ProfileError(f"{label} is not a regular file; it is not read", file)
            if info.st_size > limit:
                raise ProfileError(f"{label} is over {limit:,} bytes", file)
            data = handle.read(limit + 1)
    except OSError as err:
        raise ProfileError(f"cannot read {label}: {err.strerror or err}", file) from None
    finally:
        os.close(root_fd)
    if len(data) > limit:
        raise ProfileError(f"{label} is over {limit:,} bytes", file)
    return decode_text(data, label, file)


def _is_file(path: Path) -> bool:
    """Whether the user-named ``path`` is a file; a folder on the way that may not be searched
    is a ProfileError (one line), not an OSError escaping the scan."""
    try:
        return path.is_file()
    except OSError as err:
        raise ProfileError(f"cannot read the file: {err.strerror or err}", str(path)) from err


def load_profile(path: str | Path, *, root: Path | None = None) -> Profile:
    """Load a .archreview.yml (strict) or an agent definition (*.md: unmapped keys warn).

    With ``root``, ``path`` is repository content (``root / path`` or a path below it): it is
    read without following links out of the root. Without it the file is one the user named,
    and trusted."""
    p = Path(path)
    label = "the agent definition" if is_agent_file(p) else "the profile"
    if root is not None:
        rel = p.relative_to(root) if p.is_relative_to(root) else p
        if rel.is_absolute():
            raise ProfileError(f"{label} is not below the repository root", str(p))
        text = read_in_root(root, rel.as_posix(), label)
        file = str(root / rel)
    else:
        if not is_agent_file(p) and not _is_file(p):
            raise ProfileError("no such file", str(p))
        text = read_limited(p, label)
        file = str(p)
    if is_agent_file(p):
        from reviewer.profile.agent import AgentError, profile_from_agent, read_agent_text

        try:
            reading = read_agent_text(text, file)
        except AgentError as err:
            raise ProfileError(err.message, err.file, err.line, err.column) from err
        return replace(profile_from_agent(reading), source_kind="agent")
    return parse_profile_text(text, file)


def find_profile(root: Path) -> Path | None:
    """The repository's .archreview.yml (or .yaml), a link included (it is read with
    :func:`read_in_root`, which refuses one leaving the root); a folder of that name is not."""
    for name in PROFILE_FILENAMES:
        candidate = root / name
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            continue
        if not stat.S_ISDIR(mode):
            return candidate
    return None


# -- where the declared architecture comes from ------------------------------------------------

Problem = tuple[str, int, str]  # repository file, line, message: AR-MOD-003


def resolve_profile(root: Path, option: str | Path | None = None) -> Profile:
    """The declared architecture of the repository at ``root``, first found wins: the file
    named by ``--profile`` (``option``: trusted, an agent definition allowed); the root's
    .archreview.yml; the agent definition committed in the repository that maps the most
    schema keys (ties: path order); the built-in baseline. Raises ProfileError for a profile
    file (option or .archreview.yml) that cannot be used; an agent definition that cannot be
    read is a problem of the result (``Profile.problems``) and is skipped. The result says
    where it came from (``source``, ``source_kind``) and carries the upgrade notice when it
    declares nothing."""
    if option is not None:
        path = Path(option)
        if not _is_file(path):
            raise ProfileError("no such file", str(path))
        return _noticed(replace(load_profile(path), source_kind="option"))
    found = find_profile(root)
    if found is not None:
        profile = load_profile(found, root=root)
        return _noticed(replace(profile, source=found.name, source_kind="file"))
    agent, problems = best_agent(root, agent_candidates(root))
    if agent is not None:
        return replace(agent, problems=tuple(problems))
    return _noticed(replace(preset("baseline"), problems=tuple(problems)))


def _noticed(profile: Profile) -> Profile:
    nothing = profile.declared is not None and not profile.declared
    return replace(profile, notice=BASELINE_NOTICE if nothing else None)


def _root_fd(root: Path) -> int | None:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None


def _listing(dir_fd: int, parts: list[str]) -> list[tuple[str, bool]]:
    """(name, is a real folder) of the folder ``parts`` below ``dir_fd``, reached without
    following a link (a linked folder is not listed); at most MAX_LISTED entries, sorted."""
    from reviewer.core.safefs import UnsafePath, open_dir

    try:
        fd = open_dir(dir_fd, parts) if parts else os.dup(dir_fd)
    except (UnsafePath, OSError, ValueError):
        return []
    out: list[tuple[str, bool]] = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                out.append((entry.name, is_dir))
                if len(out) >= MAX_LISTED:
                    break
    except OSError:
        return []
    finally:
        os.close(fd)
    return sorted(out)


def _quiet(fd: int) -> bool:
    """Whether none of the first MAX_LISTED entries of the folder `fd` (those `_listing` looks
    at) has a name through which a folder declares its architecture
    (reviewer.discover.inventory.declaring): then the folder declares nothing."""
    from reviewer.discover.inventory import declaring

    try:
        with os.scandir(fd) as entries:
            for count, entry in enumerate(entries, 1):
                if declaring(entry.name):
                    return False
                if count >= MAX_LISTED:
                    break
    except OSError:
        return False  # the listing (_listing) says what it can
    return True


def _folder_sources(root_fd: int, folder: str) -> tuple[str | None, list[str]]:
    """What a folder of the repository (``/``-separated, "" for the root) commits to declare
    its architecture: its .archreview.yml (a repository path, or None) and its agent
    definitions (:func:`agent_candidates`). The folder is opened once, never through a link;
    its listing says which of the places to look into."""
    from reviewer.core.safefs import UnsafePath, open_dir
    from reviewer.discover.inventory import SKIP_DIRS

    base = [p for p in folder.split("/") if p and p != "."]
    try:
        fd = open_dir(root_fd, base) if base else os.dup(root_fd)
    except (UnsafePath, OSError, ValueError):
        return None, []
    if _quiet(fd):  # most folders hold no declaring name: their names say so
        os.close(fd)
        return None, []
    prefix = "/".join(base)

    def rel(*names: str) -> str:
        return "/".join([*([prefix] if prefix else []), *names])

    try:
        top = _listing(fd, [])
        folders = {name for name, is_dir in top if is_dir}
        profile = next(
            (rel(n) for n in PROFILE_FILENAMES if (n, False) in top),
            None,
        )
        found: list[str] = []
        for hidden in (".claude", ".github"):
            if hidden in folders:
                for name, is_dir in _listing(fd, [hidden, "agents"]):
                    if not is_dir and name.lower().endswith(".md"):
                        found.append(rel(hidden, "agents", name))
        found += [rel(n) for n, is_dir in top if not is_dir and n.lower().endswith(".agent.md")]
        if "docs" in folders:
            pending: list[tuple[list[str], int]] = [(["docs"], 1)]
            while pending:
                parts, depth = pending.pop()
                for name, is_dir in _listing(fd, parts):
                    if is_dir:
                        if depth < DOCS_DEPTH and name not in SKIP_DIRS:
                            pending.append(([*parts, name], depth + 1))
                    elif name.lower().endswith(".agent.md"):
                        found.append(rel(*parts, name))
    finally:
        os.close(fd)
    return profile, sorted(dict.fromkeys(found))


def agent_candidates(root: Path, folder: str = "") -> list[str]:
    """The agent definitions a folder of the repository (the root, or a module's folder,
    ``/``-separated) commits, as repository paths in path order: ``.claude/agents/*.md``,
    ``.github/agents/*.md``, ``*.agent.md`` in the folder itself and below its ``docs/`` (at
    most DOCS_DEPTH folders down). Folders are never entered through a link; a file that is a
    link is listed (reading it follows it only inside the root)."""
    root_fd = _root_fd(root)
    if root_fd is None:
        return []
    try:
        return _folder_sources(root_fd, folder)[1]
    finally:
        os.close(root_fd)


def best_agent(root: Path, candidates: list[str]) -> tuple[Profile | None, list[Problem]]:
    """Of the candidate agent definitions (repository paths), the one whose front matter and
    body map the most schema keys (ties: path order), as a profile, or None when none maps a
    key; and the problems of the candidates that could not be read. A Markdown file without
    front matter is not an agent definition (skipped quietly); one whose front matter is
    invalid, or that cannot be read (a link out of the root, too large, not UTF-8), is a
    problem. At most MAX_AGENT_CANDIDATES are read."""
    if not candidates:
        return None, []  # (the agent reader is not imported for nothing)
    from reviewer.profile.agent import AgentError, profile_from_agent, read_agent_text

    problems: list[Problem] = []
    best: Profile | None = None
    best_count = 0
    for number, rel in enumerate(candidates):
        if number >= MAX_AGENT_CANDIDATES:
            problems.append(
                (
                    rel,
                    1,
                    f"more than {MAX_AGENT_CANDIDATES} agent definitions: only the first "
                    f"{MAX_AGENT_CANDIDATES} by path were read",
                )
            )
            break
        try:
            text = read_in_root(root, rel, "the agent definition")
            if text.lstrip("\ufeff").split("\n", 1)[0].strip() != "---":
                continue  # no front matter: documentation, not an agent definition
            profile = profile_from_agent(read_agent_text(text, rel))
        except (ProfileError, AgentError) as err:
            problems.append((rel, err.line, err.message))
            continue
        count = len(profile.declared_keys())
        if count > best_count:
            best, best_count = profile, count
            best = replace(
                profile,
                source=rel,
                source_kind="agent",
                # a committed definition is read on every scan: only real warnings, not what
                # it leaves unmapped (init --from-agent and --profile list those)
                warnings=tuple(w for w in profile.warnings if ": not mapped: " not in w),
                notice=None,
            )
    return best, problems


def resolve_modules(
    root: Path, profile: Profile, modules: Iterable[str], *, quiet: Collection[str] = ()
) -> dict[str, Profile]:
    """Each module's effective profile: ``profile`` (the root's), then the entries of its
    ``modules:`` section whose glob matches the module's path (a .gitignore glob: one without
    a "/" matches the module folder's name at any depth; in file order), then what each
    enclosing module folder and the module's own folder commit for themselves, outermost first
    — its own .archreview.yml, else its best agent definition (:func:`best_agent`) — each
    laying its declared keys over the profile before it (Profile.declared_over; a module's own
    file's rule settings, exclusions and suppressions are not used: those are the reviewing
    repository's). A module that gets nothing of its own answers to ``profile`` itself (the
    same object). A module file that cannot be used is a problem of that module's profile
    (``problems``: the engine reports each once, reviewer.profile.profile_problems) and is
    skipped. Module names are paths below the root, "." for the root itself. `quiet` names
    folders known to hold no declaring name (reviewer.discover.inventory.Inventory.quiet, from
    the same walk): they are not opened again."""
    from reviewer.discover.gitignore import parse_line

    names = sorted(dict.fromkeys(modules))
    module_set = set(names)
    globs = [(parse_line(glob), entry) for glob, entry in profile.modules]
    own: dict[str, tuple[Profile | None, list[Problem]]] = {}
    out: dict[str, Profile] = {}
    root_fd = _root_fd(root)
    try:
        for name in names:
            result = profile
            path = name.encode("utf-8", "surrogateescape")
            base = path.rsplit(b"/", 1)[-1]
            for pattern, entry in globs:
                if pattern is None or pattern.matcher is None or pattern.negated:
                    continue
                if pattern.matcher.match(base if pattern.basename else path):
                    result = replace(entry.declared_over(result), name=result.name)
            problems: list[Problem] = []
            parts = [p for p in name.split("/") if p and p != "."]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder != name and folder not in module_set:
                    continue
                if folder not in own:
                    own[folder] = (
                        _own_declaration(root, root_fd, folder)
                        if root_fd is not None and folder not in quiet
                        else (None, [])
                    )
                declared, found = own[folder]
                problems += found
                if declared is not None:
                    result = replace(
                        declared.declared_over(result),
                        name=declared.name,
                        source=declared.source,
                        source_kind=declared.source_kind,
                        warnings=declared.warnings,
                    )
            if problems:
                result = replace(
                    result, problems=tuple(dict.fromkeys((*result.problems, *problems)))
                )
            out[name] = result
    finally:
        if root_fd is not None:
            os.close(root_fd)
    return out


def _own_declaration(root: Path, root_fd: int, folder: str) -> tuple[Profile | None, list[Problem]]:
    """What a module folder commits for itself: its .archreview.yml (strict: one that cannot
    be used is a problem), else its best agent definition; (None, problems) when nothing."""
    rel, candidates = _folder_sources(root_fd, folder)
    if rel is not None:
        try:
            text = read_in_root(root, rel, "the module's profile")
            declared = parse_profile_text(text, rel)
        except ProfileError as err:
            return None, [(rel, err.line, err.message)]
        return replace(declared, source=rel, source_kind="file"), []
    if not candidates:
        return None, []
    return best_agent(root, candidates)
