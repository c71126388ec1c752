"""The seed corpus: the cases of issue 15 as trees, built at test time.

Each function returns a :class:`~tests.hostile.trees.Tree` for ``harness.check``. Sizes are
parameters: the tests use the issue's sizes where the case is about size (those tests are
marked slow) and small ones elsewhere. Nothing here is committed as a file: the backtracking
``.gitignore`` pattern in particular would make git itself hang on this repository.
"""

from __future__ import annotations

import json

from .content import BACKTRACKING
from .trees import CACHE, GOOD, HAND_WRITTEN, Entry, Plan, Tree, to_victim

QUEUE = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
PARAMETERISED = (
    "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Param1:\n    Type: Number\n"
    "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
    "    Properties:\n      VisibilityTimeout: !Ref Param1\n"
)


def case(name: str, entries: list[Entry], plan: Plan | None = None, **extra: list[bytes]) -> Tree:
    """A case: the good template (its findings show the scan went on), then `entries`. Scanned
    for the auditor persona, so that every finding is reported."""
    good = Entry(b"good/template.yaml", "file", data=GOOD)
    plan = plan or Plan(formats=("text", "json"))
    plan.persona = plan.persona or "auditor"
    return Tree(-1, name, [good, *entries], plan, [name], **extra)


def inside(tree: Tree) -> Tree:
    """The same tree scanned with --cache-dir PATH/.archreview-cache: the cache the pull
    request planted is the one the user named (archreview's default before issue 15)."""
    tree.plan.cache = "inside"
    tree.size += " (--cache-dir inside)"
    return tree


def _file(path: str, data: str | bytes) -> Entry:
    return Entry(path.encode(), "file", data=data.encode() if isinstance(data, str) else data)


# -- item 1: the cache folder comes with the pull request ---------------------------------------


def cache_kind_link_to_victim(kind: bytes = b"model") -> Tree:
    """`.archreview-cache/model -> ../../victim`, the issue's attack: the scan wrote its entries
    there and its pruning deleted the victim's files."""
    at = CACHE + b"/" + kind
    return case(
        f"cache {kind.decode()} link",
        [Entry(CACHE, "dir"), Entry(at, "link", target=to_victim(at))],
    )


def cache_folder_link_to_victim(absolute: bool = False) -> Tree:
    target = b"{victim}" if absolute else to_victim(CACHE)
    return case("cache folder link", [Entry(CACHE, "link", target=target)])


def cache_planted_entries() -> Tree:
    """Files in the cache folder that archreview did not write: never deleted, never read as
    entries (they are unsigned), never followed (links)."""
    entries = [Entry(CACHE, "dir")]
    for i, kind in enumerate((b"model", b"local", b"repo", b"report", b"output")):
        for j in range(5):  # more than the scan uses: pruning would take them as stale
            key = f"{i:02x}{j:02x}".encode() * 16
            entries.append(
                Entry(
                    CACHE + b"/" + kind + b"/" + key[:2] + b"/" + key,
                    "file",
                    data=b"planted %d" % i,
                )
            )
        link = CACHE + b"/" + kind + b"/" + key[:2] + b"/" + key[::-1]
        entries.append(Entry(link, "link", target=to_victim(link, b"notes.md")))
    entries.append(Entry(CACHE + b"/notes.md", "file", data=b"a file someone keeps here\n"))
    return case("planted cache entries", entries)


def cache_poisoned(cache: str = "inside") -> Tree:
    """Scan, then replace every entry the scan wrote by a FIFO, a link to /dev/zero or into
    the victim, a folder or garbage (entry paths can be computed by anyone), then scan again."""
    return case("poisoned cache", [], Plan(formats=("text", "json"), poison=True, cache=cache))


def cache_not_a_folder(kind: str) -> Tree:
    entry = {
        "file": Entry(CACHE, "file", data=b"not a folder"),
        "fifo": Entry(CACHE, "fifo"),
        "dangling": Entry(CACHE, "link", target=b"nowhere"),
        "file-link": Entry(CACHE, "link", target=to_victim(CACHE, b"notes.md")),
    }[kind]
    return case(f"cache is a {kind}", [entry])


# -- item 2: a .gitignore pattern that backtracks -----------------------------------------------


def gitignore_backtracking(name_length: int = 100) -> Tree:
    """The pattern beside a template and a folder named with `name_length` a's: every path the
    walk considers is matched against it."""
    return case(
        "backtracking .gitignore",
        [
            _file(".gitignore", BACKTRACKING + "\n"),
            _file("a" * name_length + ".yaml", QUEUE),
            _file("a" * name_length + "/template.yaml", QUEUE),
        ],
    )


# -- item 3: values of the wrong type -----------------------------------------------------------


def profile(text: str, name: str = "profile") -> Tree:
    return case(name, [_file(".archreview.yml", text)])


def samconfig_string_for_table(text: str = '[default]\ndeploy = "x"\n') -> Tree:
    return case(
        "samconfig string for table",
        [_file("app/samconfig.toml", text), _file("app/template.yaml", QUEUE)],
        Plan(formats=("text", "json"), sam_env="default"),
    )


def inline_until_timestamp(until: str = "2030-01-01T00:00:00Z") -> Tree:
    text = QUEUE + (
        "    Metadata:\n      archreview:\n        ignore:\n"
        f"          - {{id: AR-EVT-001, reason: accepted, until: {until}}}\n"
    )
    return case("inline until timestamp", [_file("app/template.yaml", text)])


def agent_profile(front: str) -> Tree:
    text = f"---\n{front}\n---\n# Architect\n\nvisibility timeout: 360s\n"
    return case(
        "agent definition",
        [_file(".claude/agents/architect.md", text)],
        Plan(formats=("text",), profile=b".claude/agents/architect.md"),
    )


# -- items 4 and 5: work that grew with the square of the input ---------------------------------


def package_json_many_dependencies(count: int = 100_000) -> Tree:
    deps = {f"dep-{i}": f"^{i % 50}.{i % 7}.{i % 3}" for i in range(count)}
    return case(
        "many dependencies",
        [_file("web/package.json", json.dumps({"name": "web", "dependencies": deps}))],
    )


def shared_samconfig(size: int = 4_900_000, templates: int = 100) -> Tree:
    """One big samconfig.toml beside many templates: each template reads it."""
    overrides = []
    total = 0
    i = 0
    while total < size - 200:
        item = f"Param{i}=value{i}"
        overrides.append(item)
        total += len(item) + 1
        i += 1
    text = (
        '[default.deploy.parameters]\nstack_name = "app"\nparameter_overrides = "'
        + " ".join(overrides)
        + '"\n'
    )
    entries = [_file("app/samconfig.toml", text)]
    entries += [_file(f"app/t{i}.yaml", PARAMETERISED) for i in range(templates)]
    return case("shared samconfig", entries, Plan(formats=("text", "json"), sam_env="default"))


# -- item 7: stages the per-file budget did not cover -------------------------------------------


def globals_many_policies(statements: int = 5_000, functions: int = 200) -> Tree:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Globals:", "  Function:", "    Policies:"]
    lines += [
        f"      - Statement: [{{Effect: Allow, Action: 's{i}:Get*', Resource: '*'}}]"
        for i in range(statements)
    ]
    lines.append("Resources:")
    for i in range(functions):
        lines += [
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties: {Handler: a.b, Runtime: python3.12, CodeUri: src/}",
        ]
    return case("Globals with many policies", [_file("sam/template.yaml", "\n".join(lines) + "\n")])


def gitignore_huge(size: int = 4_800_000, files: int = 0) -> Tree:
    lines = []
    total = 0
    i = 0
    while total < size:
        line = f"build-{i}/**/*.{i % 97}.tmp" if i % 3 else f"!keep-{i}/[a-z]*?x{i}"
        lines.append(line)
        total += len(line) + 1
        i += 1
    extra = [_file(f"src/m{i % 20}/f{i}.yaml", "x: 1\n") for i in range(files)]
    return case("huge .gitignore", [_file(".gitignore", "\n".join(lines) + "\n"), *extra])


def many_package_jsons(count: int = 2_000) -> Tree:
    entries = [
        _file(
            f"pkgs/p{i}/package.json",
            json.dumps(
                {
                    "name": f"p{i}",
                    "dependencies": {
                        "left-pad": f"^1.{i}.0 || ~{i}.1.0",
                        "react": f">={i % 30}.0.0 <{i % 30 + 1}.0.0",
                    },
                }
            ),
        )
        for i in range(count)
    ]
    return case("many package.json", entries, Plan(formats=("text", "json")))


def one_line_json_template(size: int = 4_800_000) -> Tree:
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "D" * size,
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 10}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Runtime": "nodejs14.x", "Timeout": 900},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                            },
                        }
                    ]
                },
            },
        },
    }
    return case(
        "one-line JSON template",
        [_file("big/template.json", json.dumps(doc, separators=(",", ":")))],
        Plan(formats=("text",)),
    )


# -- item 8: writers and links -------------------------------------------------------------------


def adr_out_link(absolute: bool = False) -> Tree:
    out = b"docs/adr"
    target = b"{victim}/docs" if absolute else to_victim(out, b"docs")
    return case(
        "adr --out link",
        [_file("template.yaml", QUEUE), Entry(out, "link", target=target)],
        Plan(formats=("text",), adr_out=out),
    )


def adr_planted_index() -> Tree:
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
    return case(
        "planted ADR index",
        [
            _file("template.yaml", QUEUE),
            Entry(b"docs/adr/0001-keep-the-monolith.md", "file", data=HAND_WRITTEN),
            _file("docs/adr/index.json", json.dumps(index)),
        ],
        Plan(formats=("text",), adr_out=b"docs/adr"),
        mutable=[b"docs/adr/index.json"],
    )


def profile_link_leaving_root(target: bytes = b"settings.yml") -> Tree:
    """`.archreview.yml` is a link to a file beside the checkout whose key holds a secret: an
    unknown-key error used to name it."""
    return case(
        "profile link out",
        [Entry(b".archreview.yml", "link", target=to_victim(b".archreview.yml", target))],
    )


# -- issue 17 item 9: the git index is repository content -------------------------------------


def index_bytes(paths: list[bytes], *, version: int = 2, checksum: bool = True) -> bytes:
    """A git index (version 2 or 3) naming `paths` as they are given, even paths git would
    never write (`../x`, `/etc/passwd`), with a valid SHA-1 checksum unless told not to."""
    import hashlib
    import struct

    body = b"DIRC" + struct.pack(">II", version, len(paths))
    for path in sorted(paths):
        entry = bytes(24) + struct.pack(">I", 0o100644) + bytes(12) + bytes(20)
        entry += struct.pack(">H", min(len(path), 0xFFF)) + path
        entry += b"\0" * (8 - (len(entry) % 8))
        body += entry
    return body + (hashlib.sha1(body).digest() if checksum else bytes(19) + b"\1")


def git_index(kind: str) -> Tree:
    """A checkout whose `.git/index` is hostile, beside a `.gitignore` that ignores every
    `.yaml` and two templates: a corrupt, cut or oversized index, or one naming paths outside
    the root. The scan must neither fail nor read outside the root; the index is not used."""
    good = index_bytes([b"svc/template.yaml"])
    data = {
        "corrupt": b"DIRC" + bytes(range(256)) * 8,
        "cut": good[: len(good) // 2],
        "bad-checksum": index_bytes([b"svc/template.yaml"], checksum=False),
        "huge-count": good[:8] + b"\xff\xff\xff\xff" + good[12:],
        "outside": index_bytes([b"../victim/secret.yaml", b"/etc/passwd", b"svc/template.yaml"]),
    }[kind]
    entries = [
        _file(".gitignore", "*.yaml\n!good/template.yaml\n"),
        _file(".git/index", data),
        _file(".git/HEAD", "ref: refs/heads/main\n"),
        _file("svc/template.yaml", QUEUE),
    ]
    return case(f"hostile git index: {kind}", entries)


def git_file_pointing_outside() -> Tree:
    """`.git` as a file whose `gitdir:` names the victim folder beside the checkout."""
    return case(
        "a .git file pointing outside",
        [_file(".git", "gitdir: ../victim\n"), _file("svc/template.yaml", QUEUE)],
    )


# -- issue 17 item 1: OpenAPI definitions a template includes -----------------------------------

OPENAPI_CASES = (
    "link-leaving-root",
    "folder-link-leaving-root",
    "huge",
    "billion-laughs",
    "dotdot",
    "absolute",
    "directory",
    "fifo",
    "deep",
    "binary",
)


def _api_template(location: str, *, uri: bool = False) -> str:
    """A SAM API whose definition is `location` (AWS::Include, or DefinitionUri), and a
    function event on it."""
    if uri:
        definition = f"      DefinitionUri: {json.dumps(location)}\n"
    else:
        definition = (
            "      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n"
            f"          Parameters:\n            Location: {json.dumps(location)}\n"
        )
    return (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n"
        "    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n"
        + definition
        + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n"
        "      Timeout: 60\n      Events:\n        Get:\n          Type: Api\n"
        "          Properties: {RestApiId: !Ref Api, Path: /items, Method: get}\n"
    )


def openapi_include(kind: str, huge: int = 5_100_000) -> Tree:
    """`app/template.yaml` includes (or names by DefinitionUri) an OpenAPI file that is hostile:
    a link leaving the root (the file, or a folder on its path), over the size cap, an alias
    bomb, `..` or an absolute path out of the root, a folder, a FIFO (a read would block),
    nested deeper than any parser's stack, or binary. Each is at most one info finding on the
    API (the definition cannot be read), never a traceback, a hang or a read outside."""
    entries: list[Entry] = []
    location = "./api.yaml"
    uri = False
    if kind == "link-leaving-root":
        target = to_victim(b"app/api.yaml", b"api.yaml")
        entries.append(Entry(b"app/api.yaml", "link", target=target))
    elif kind == "folder-link-leaving-root":
        entries.append(Entry(b"app/specs", "link", target=to_victim(b"app/specs")))
        location = "specs/api.yaml"
    elif kind == "huge":
        entries.append(_file("app/api.yaml", "openapi: 3.0.1\npaths: {}\n#" + "x" * huge + "\n"))
    elif kind == "billion-laughs":
        lines = ["openapi: 3.0.1", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, 16)]
        lines.append("paths: {/x: {get: {security: *l15}}}")
        entries.append(_file("app/api.yaml", "\n".join(lines) + "\n"))
    elif kind == "dotdot":
        location = "../../victim/api.yaml"
    elif kind == "absolute":
        location = "/etc/passwd"
        uri = True
    elif kind == "directory":
        entries.append(_file("app/specs/readme.md", "not a definition\n"))
        location = "./specs"
        uri = True
    elif kind == "fifo":
        entries.append(Entry(b"app/api.yaml", "fifo"))
    elif kind == "deep":
        depth = 200_000
        entries.append(_file("app/api.json", '{"paths": ' + "[" * depth + "]" * depth + "}"))
        location = "api.json"
    elif kind == "binary":
        entries.append(_file("app/api.yaml", b"openapi: 3.0.1\n\0\0\0" + bytes(range(256))))
    else:
        raise ValueError(kind)
    entries.append(_file("app/template.yaml", _api_template(location, uri=uri)))
    return case(f"hostile OpenAPI include: {kind}", entries, Plan(formats=("text", "json")))
