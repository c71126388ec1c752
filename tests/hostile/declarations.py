"""The cases of issue 16 as named trees: where the declared architecture comes from.

Agent definitions in every place discovery looks (the root's and a module's), each one hostile
in its own way — a link to a secret beside the checkout, a FIFO, an unreadable file, a linked
agents folder, mojibake, an absurd body, a front matter of the wrong shape — and module
declarations: a module's own .archreview.yml linked out of the root or a FIFO, and a root
`modules:` section with backtracking globs. Used by tests/test_profile_sources.py.
"""

from __future__ import annotations

import random

from . import content
from .trees import GOOD, Entry, Plan, Tree, to_victim

MODULE = b"services/api"


def _file(path: bytes, data: bytes) -> Entry:
    return Entry(path, "file", data=data)


def agents_everywhere(seed: int = 16) -> Tree:
    """The four places below the root and below a module: links out (to the victim's secrets),
    a FIFO, an unreadable file, a linked agents folder, and hostile definitions."""
    rng = random.Random(seed)
    entries = [
        _file(b"good/template.yaml", GOOD),
        _file(MODULE + b"/go.mod", b"module example.com/api\n\ngo 1.22\n"),
    ]
    unreadable: list[bytes] = []
    for base in (b"", MODULE + b"/"):
        claude = base + b".claude/agents/"
        entries += [
            Entry(
                claude + b"secret.md", "link", target=to_victim(claude + b"secret.md", b"notes.md")
            ),
            Entry(claude + b"key.md", "link", target=b"{home}/.ssh/id_ed25519"),
            Entry(claude + b"zero.md", "link", target=b"/dev/zero"),
            Entry(claude + b"pipe.md", "fifo"),
            _file(claude + b"locked.md", content.agent_definition(rng, 2_000)),
            _file(base + b"architect.agent.md", content.agent_definition(rng, 3_000)),
            _file(base + b"docs/a/b/c/platform.agent.md", content.agent_definition(rng, 3_000)),
            Entry(base + b".github/agents", "link", target=b"{victim}"),
        ]
        unreadable.append(claude + b"locked.md")
    for i in range(6):
        entries.append(_file(b"docs/x%d.agent.md" % i, content.agent_definition(rng, 1_500)))
    for entry in entries:
        if entry.path in unreadable:
            entries[entries.index(entry)] = Entry(entry.path, "file", data=entry.data, mode=0o000)
    return Tree(
        -1,
        "agent definitions everywhere",
        entries,
        Plan(formats=("text", "json", "sarif", "markdown")),
        ["agents"],
        unreadable=unreadable,
    )


def module_declarations_out_of_the_root() -> Tree:
    """A module's own .archreview.yml linked to the victim's secrets, another a FIFO, a third
    one valid; the root's `modules:` section with backtracking globs."""
    modules = (
        "extends: chariot\nmodules:\n"
        '  "*a*a*a*a*a*a*a*a*a*a*a*a*a*b": {stack: {go: {version: "1.21"}}}\n'
        '  "' + "**/" * 30 + 'x": {layers: {network: false}}\n'
        '  "services/*": {platform: {canary_releases: false}}\n'
    )
    entries = [
        _file(b"good/template.yaml", GOOD),
        _file(b".archreview.yml", modules.encode()),
        _file(b"services/" + b"a" * 200 + b"/go.mod", b"module example.com/a\n\ngo 1.22\n"),
        _file(MODULE + b"/go.mod", b"module example.com/api\n\ngo 1.22\n"),
        Entry(
            MODULE + b"/.archreview.yml",
            "link",
            target=to_victim(MODULE + b"/.archreview.yml", b"settings.yml"),
        ),
        _file(b"apps/web/package.json", b'{"name": "web", "dependencies": {"react": "^17"}}'),
        Entry(b"apps/web/.archreview.yml", "fifo"),
        _file(b"apps/admin/package.json", b'{"name": "admin"}'),
        _file(b"apps/admin/.archreview.yml", b"stack:\n  node:\n    packages: {react: '17.0.2'}\n"),
    ]
    return Tree(
        -1, "module declarations out of the root", entries, Plan(formats=("text", "json")), ["m"]
    )
