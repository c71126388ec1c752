"""Replaying a `scan` command's outputs when nothing it reads has changed.

A warm scan of an unchanged tree would rebuild the same report and render the same bytes. The
command line keeps, in the cache, what it wrote (each format's payload, where it went, the
summary line and the exit code) under a key that digests everything the scan reads and every
option that shapes the output: archreview's code and rules, the profile, the date, the root
as given, the options, the inventory, the content of every file discovered, the listing of the
tree (the repository checks look at file names beyond the inventory), and the output settings.
The same key later means the same outputs, so they are written again without scanning.

Not used with --diff-base (the git history is an input), --write-baseline (a side effect) or
--aws (the deployed stacks are inputs), nor without a cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewer.cache.store import Cache
    from reviewer.profile import Profile

KIND = "output"


@dataclass
class Replay:
    cache: Cache
    key: str
    outputs: list[tuple[str, str | None, str]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls, root: Path, cache_dir: str, profile: Profile, values: tuple[Any, ...], settings: Any
    ) -> Replay | None:
        """The replay of `scan` on `root` with `profile`, the scan options `values`
        (parameters, sam_env, max_bytes, no_ignores, baseline, persona) and the output
        `settings` (with whatever else the scan reads that the tree's listing does not show,
        such as the digest of the repository's own rule files); None when it cannot be keyed. Each module's own profile is part of the key
        (a module's .archreview.yml or agent definition is read, not scanned)."""
        from reviewer.cache.store import (
            Cache,
            Unhashable,
            code_fingerprint,
            digest,
            remember_reads,
            text_digest,
            tree_listing,
        )
        from reviewer.core.clock import today
        from reviewer.discover.inventory import discover_and_keep

        max_bytes = values[2]
        inventory = discover_and_keep(root, max_bytes=max_bytes, exclude=profile.exclude_paths)
        contents: list[tuple[str, str | None]] = []
        for source in inventory.files:
            text = remember_reads(root, source.path, max_bytes)
            contents.append((source.path, text_digest(text) if isinstance(text, str) else None))
        cache = Cache.open(cache_dir, root=root)  # no link below the root is followed
        try:
            key = digest(
                KIND,
                code_fingerprint(),
                profile,
                _module_profiles(root, profile, inventory),
                today(),
                str(root),
                os.path.abspath(root),
                list(values),
                # plain frozen dataclasses of strings and numbers: their repr is stable
                repr((inventory.files, inventory.skipped, inventory.modules, inventory.submodules)),
                contents,
                tree_listing(root, cache.directory, remember=True),
                settings,
            )
        except Unhashable:
            return None
        return cls(cache, key)

    def play(self, write: Callable[[Path, str], None]) -> int | None:
        """Write the saved outputs again; their exit code, or None when there are none."""
        from reviewer.cache.store import forget_reads

        saved = self.cache.get(KIND, self.key)
        if not (isinstance(saved, dict) and isinstance(saved.get("exit"), int)):
            return None  # the scan runs: it reads what open() kept, then forgets it
        forget_reads()
        import click

        for _fmt, target, payload in saved["outputs"]:
            if target is None or target == "-":
                click.echo(payload, nl=False)
            else:
                write(Path(target), payload)
        for line in saved["stderr"]:
            click.echo(line, err=True)
        code: int = saved["exit"]
        return code

    def save(self, exit_code: int) -> None:
        self.cache.put(
            KIND, self.key, {"outputs": self.outputs, "stderr": self.stderr, "exit": exit_code}
        )


def _module_profiles(root: Path, profile: Profile, inventory: Any) -> dict[str, Profile]:
    """Each module's effective profile, as the engine resolves them (reviewer.runner.engine)."""
    from reviewer.profile.loader import resolve_modules

    names = [m.name for m in inventory.modules]
    resolved = resolve_modules(root, profile, names, quiet=inventory.quiet)  # the walk's word
    return {name: p for name, p in resolved.items() if p is not profile}
