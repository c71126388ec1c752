"""Where a finding in a git submodule can be shown (issue 18 item 7).

Code scanning and the pull request's file links resolve files of the repository that was
checked out; a file inside a submodule belongs to another repository, so a result there would
point at nothing. Such a finding is anchored at its submodule's entry in the super-repository's
`.gitmodules` instead, and says where it really is: the submodule's path, the file and line
inside it, and a link to that line in the submodule's repository at the commit the
super-repository records (when the URL is a plain https URL and git can tell the commit).

The `.gitmodules` read is the one at the top of the enclosing git repository, through
`reviewer.discover.inventory.read_text` (never through a link out of that folder, at most 1 MB). The
recorded commits come from `git ls-tree -r HEAD` with fixed arguments (no path from the
repository) and a time limit (`reviewer.discover.git.gitlinks`), run once per renderer and only when
there are submodules; outside a git checkout there is no link.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MAX_GITMODULES_BYTES = 1_000_000
_PLAIN_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~-]+)+/?")
_SCP_GITHUB = re.compile(r"git@github\.com:([A-Za-z0-9._-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?")


@dataclass(frozen=True)
class Anchor:
    """A finding's place in a submodule, seen from the super-repository."""

    gitmodules: str  # `.gitmodules`, relative to the super-repository's top
    line: int  # the submodule's [submodule "..."] line in it
    submodule: str  # the submodule's path in the super-repository
    inner: str  # the file's path inside the submodule
    url: str | None  # the file's line in the submodule's repository at the recorded commit


def top_of(root: Path) -> tuple[Path, str] | None:
    """The enclosing git repository's top folder and the scanned root's prefix in it ('' or
    'a/b/'), or None outside one."""
    try:
        start = root.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python 3.11)
        return None
    for parent in (start, *start.parents):
        if (parent / ".git").exists():
            rel = start.relative_to(parent).as_posix()
            return parent, "" if rel == "." else rel + "/"
    return None


def browse_url(url: str | None, commit: str | None, inner: str, line: int) -> str | None:
    """https link to `inner`:`line` at `commit` in the repository at `url` (an https URL, or
    GitHub's `git@github.com:owner/name` form), or None for anything else: a relative URL, a
    URL with a user name, query or unusual characters, or no commit."""
    if not url or not commit or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        return None
    scp = _SCP_GITHUB.fullmatch(url)
    if scp is not None:
        base = f"https://github.com/{scp.group(1)}/{scp.group(2)}"
    elif _PLAIN_URL.fullmatch(url):
        base = url.rstrip("/")
        base = base[:-4] if base.endswith(".git") else base
    else:
        return None
    return f"{base}/blob/{commit}/{encode_path(inner)}#L{max(line, 1)}"


def encode_path(path: str) -> str:
    """`path` percent-encoded for a URI path (RFC 3986): every byte but the unreserved
    characters and `/`. Names read from the file system keep their original bytes
    (surrogateescape); any other lone surrogate (from a JSON escape) becomes U+FFFD, so the
    URI stays valid UTF-8 and encoding never fails."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = _LONE_SURROGATE.sub("\ufffd", path).encode("utf-8")
    return quote(raw, safe="/")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Submodules:
    """The submodules of the repository enclosing a scanned root, read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        found = top_of(root)
        self.top, self.prefix = found if found is not None else (root, "")
        self.in_git = found is not None  # else no commit is asked for (git would look above)
        self._entries: dict[str, tuple[str | None, int]] | None = None
        self._commits: dict[str, str] | None = None

    def entries(self) -> dict[str, tuple[str | None, int]]:
        """Submodule path -> (its URL, its line in .gitmodules)."""
        if self._entries is None:
            from reviewer.discover.inventory import parse_gitmodules, read_text

            text = read_text(self.top, ".gitmodules", MAX_GITMODULES_BYTES)
            entries = parse_gitmodules(text) if isinstance(text, str) else []
            self._entries = {path.rstrip("/"): (url, line) for _, path, url, line in entries}
        return self._entries

    def commits(self) -> dict[str, str]:
        """Submodule path -> the commit the super-repository's HEAD records for it."""
        if self._commits is None:
            self._commits = {}
            if self.in_git and self.entries():
                from reviewer.discover.git import DiffBaseError, GitError, gitlinks

                # fixed arguments: the whole tree's gitlinks, no path from .gitmodules
                with contextlib.suppress(DiffBaseError, GitError, OSError):
                    self._commits = dict(gitlinks(self.top, "HEAD"))
        return self._commits

    def anchor(self, file: str, line: int) -> Anchor | None:
        """Where to show a finding at `file` (relative to the scanned root) and `line`, when the
        file lies inside a submodule of the enclosing repository; else None."""
        if not self.entries():
            return None
        entries = self.entries()
        full = self.prefix + file
        end = len(full)
        while (end := full.rfind("/", 0, end)) > 0:  # the deepest enclosing folder first
            found = entries.get(full[:end])
            if found is not None:
                url, gm_line = found
                inner = full[end + 1 :]
                link = browse_url(url, self.commits().get(full[:end]), inner, line)
                return Anchor(".gitmodules", gm_line, full[:end], inner, link)
        return None
