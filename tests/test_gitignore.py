"""Tests for reviewer.discover.gitignore: git's .gitignore semantics, matched in linear time.

The semantics are checked three ways: hand-written cases for each rule, a differential test
against ``git check-ignore --no-index`` itself on generated trees and .gitignore files (a git
repository built at test time in a temporary folder, patterns kept to shapes git's own
backtracking matcher handles quickly, git run with a timeout), and a second differential test
against pathspec's GitIgnoreSpec on the pattern shapes where pathspec agrees with git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.discover.gitignore import (
    MAX_FILE_BYTES,
    Budget,
    Ignores,
    OverBudget,
    PatternList,
    Tracked,
    compile_pattern,
    parse_gitignore,
    parse_line,
    wildmatch,
    workspace_glob,
)

GIT = shutil.which("git")
GIT_TIMEOUT = 60  # seconds: git on a safe pattern answers in milliseconds
BACKTRACKING = "*a*a*a*a*a*a*a*a*a*a*a*a*b"


def rules(text: str, base: str = "") -> PatternList:
    return parse_gitignore(text.encode("utf-8"), base).patterns


def ignored_paths(
    gitignores: Mapping[str, str],
    paths: Iterable[tuple[str, bool]],
    *,
    exclude: str = "",
    tracked: frozenset[str] | None = None,
) -> set[str]:
    """The paths (file or folder) a walk would leave out: a path inside a folder that is not
    entered is left out with it, as git does."""
    out: set[str] = set()
    top = Ignores(exclude=rules(exclude) if exclude else None, tracked=tracked).with_gitignore(
        rules(gitignores.get("", ""))
    )
    for path, is_dir in paths:
        current: Ignores | None = top
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            assert current is not None
            current = current.folder(folder)
            if current is None:
                break
            current = current.with_gitignore(rules(gitignores.get(folder, ""), folder))
        if current is None:
            out.add(path)
        elif is_dir:
            if current.folder(path) is None:
                out.add(path)
        elif current.ignored(path):
            out.add(path)
    return out


# --------------------------------------------------------------------------- the rules


def test_blank_lines_and_comments_match_nothing() -> None:
    assert ignored_paths({"": "\n# a\n\n   \n#b\n"}, [("a", False), ("#b", False)]) == set()
    # an escaped hash is a pattern
    assert ignored_paths({"": "\\#b\n"}, [("#b", False), ("b", False)]) == {"#b"}


def test_trailing_spaces_are_dropped_unless_escaped() -> None:
    paths = [("a", False), ("a ", False), ("b  ", False), ("b", False)]
    assert ignored_paths({"": "a   \n"}, paths) == {"a"}
    assert ignored_paths({"": "a\\ \n"}, paths) == {"a "}
    # the spaces before an escaped one stay; the unescaped ones after it go
    assert ignored_paths({"": "b \\  \n"}, paths) == {"b  "}
    assert ignored_paths({"": "b\\ \\ \n"}, paths) == {"b  "}


def test_crlf_and_byte_order_mark() -> None:
    parsed = parse_gitignore(b"\xef\xbb\xbfa\r\nb\r\n")
    assert [p.text for p in parsed.patterns.patterns] == ["a", "b"]


def test_negation_and_an_excluded_parent() -> None:
    tree = [("x.log", False), ("keep.log", False), ("logs", True), ("logs/keep.log", False)]
    got = ignored_paths({"": "*.log\n!keep.log\nlogs/\n"}, tree)
    assert got == {"x.log", "logs", "logs/keep.log"}  # the folder's file cannot come back
    # negating the folder itself brings it back
    assert ignored_paths({"": "logs/\n!logs/\n"}, tree) == set()
    # an escaped "!" is a literal
    assert ignored_paths({"": "\\!x\n"}, [("!x", False), ("x", False)]) == {"!x"}


def test_anchoring_by_a_leading_or_middle_slash() -> None:
    tree = [("a", True), ("a/b", False), ("c", True), ("c/a", True), ("c/a/b", False)]
    assert ignored_paths({"": "/a\n"}, tree) == {"a", "a/b"}
    assert ignored_paths({"": "a/b\n"}, tree) == {"a/b"}  # not c/a/b
    assert ignored_paths({"": "a\n"}, tree) == {"a", "a/b", "c/a", "c/a/b"}
    # in a nested file the anchor is that file's folder
    assert ignored_paths({"c": "/a\n"}, tree) == {"c/a", "c/a/b"}


def test_trailing_slash_matches_folders_only() -> None:
    tree = [("out", False), ("x", True), ("x/out", True), ("x/out/f", False)]
    assert ignored_paths({"": "out/\n"}, tree) == {"x/out", "x/out/f"}


def test_star_and_question_mark_stay_within_a_folder() -> None:
    assert wildmatch(b"a*", b"abc")
    assert not wildmatch(b"a*", b"a/b")
    assert not wildmatch(b"a?b", b"a/b")
    assert wildmatch(b"a?b", b"axb")
    tree = [("a", True), ("a/x.yaml", False), ("a/b", True), ("a/b/x.yaml", False)]
    assert ignored_paths({"": "a/*.yaml\n"}, tree) == {"a/x.yaml"}


def test_classes() -> None:
    assert wildmatch(b"[a-c]x", b"bx") and not wildmatch(b"[a-c]x", b"dx")
    assert wildmatch(b"[!a-c]x", b"dx") and not wildmatch(b"[!a-c]x", b"ax")
    assert wildmatch(b"[^a-c]x", b"dx") and not wildmatch(b"[^a-c]x", b"cx")
    assert wildmatch(b"[]]", b"]") and wildmatch(b"[!]]", b"a")
    assert wildmatch(b"[a-]", b"-") and wildmatch(b"[\\]]", b"]")
    assert wildmatch(b"[[:digit:]]", b"7") and not wildmatch(b"[[:digit:]]", b"a")
    assert wildmatch(b"[[:a]", b":")  # not a class name: "[", ":" and "a"
    assert not wildmatch(b"[!a]", b"/")  # a class never matches a slash
    assert not wildmatch(b"[[:nope:]]", b"n")  # an unknown name: the pattern matches nothing
    assert not wildmatch(b"[abc", b"a")  # unterminated: nothing
    assert not wildmatch(b"a\\", b"a")  # a trailing backslash: nothing


def test_double_star_forms() -> None:
    assert wildmatch(b"**/x", b"x") and wildmatch(b"**/x", b"a/b/x")
    assert (
        wildmatch(b"x/**", b"x/a") and wildmatch(b"x/**", b"x/a/b") and not wildmatch(b"x/**", b"x")
    )
    assert wildmatch(b"a/**/b", b"a/b") and wildmatch(b"a/**/b", b"a/x/y/b")
    assert not wildmatch(b"a/**/b", b"a/xb")
    assert wildmatch(b"a**b", b"axyb") and not wildmatch(b"a**b", b"ax/yb")  # ** is * here
    tree = [("d", True), ("d/e", True), ("d/e/x.tmp", False), ("x.tmp", False)]
    assert ignored_paths({"": "**/e/*.tmp\n"}, tree) == {"d/e/x.tmp"}
    assert ignored_paths({"": "d/**\n"}, tree) == {"d/e", "d/e/x.tmp"}


def test_nested_files_apply_to_their_subtree_and_the_last_match_wins() -> None:
    tree = [("a", True), ("a/t.yaml", False), ("b", True), ("b/t.yaml", False), ("t.yaml", False)]
    gitignores = {"": "*.yaml\n", "a": "!t.yaml\n"}
    assert ignored_paths(gitignores, tree) == {"b/t.yaml", "t.yaml"}
    assert ignored_paths({"": "!t.yaml\n*.yaml\n"}, tree) == {"a/t.yaml", "b/t.yaml", "t.yaml"}
    assert ignored_paths({"": "*.yaml\n!t.yaml\n"}, tree) == set()


def test_exclude_applies_before_and_whatever_is_tracked() -> None:
    tree = [("a", True), ("a/t.yaml", False), ("t.yaml", False)]
    tracked = frozenset({"a/t.yaml", "t.yaml"})
    got = ignored_paths({"": "!a/\n"}, tree, exclude="a/\n", tracked=tracked)
    assert got == {"a", "a/t.yaml"}


def test_tracked_files_are_never_ignored() -> None:
    tree = [
        ("t.yaml", False),
        ("u.yaml", False),
        ("gen", True),
        ("gen/t.yaml", False),
        ("gen/u.yaml", False),
        ("other", True),
        ("other/u.yaml", False),
    ]
    tracked = frozenset({"t.yaml", "gen/t.yaml"})
    got = ignored_paths({"": "*.yaml\ngen/\nother/\n"}, tree, tracked=tracked)
    # gen/ is entered for its tracked file; its untracked file stays ignored
    assert got == {"u.yaml", "gen/u.yaml", "other", "other/u.yaml"}
    assert ignored_paths({"": "*.yaml\n"}, tree) == {
        "t.yaml",
        "u.yaml",
        "gen/t.yaml",
        "gen/u.yaml",
        "other/u.yaml",
    }


def test_tracked_learns_nested_indexes_and_whole_folders() -> None:
    tracked = Tracked({"a/t.yaml"})
    assert tracked.file("a/t.yaml") and tracked.folder("a") and not tracked.file("a/u.yaml")
    tracked.add("libs/one", {"src/template.yaml"}, {"vendor/sub"})
    assert tracked.file("libs/one/src/template.yaml")
    assert tracked.folder("libs") and tracked.folder("libs/one/src")
    assert tracked.folder("libs/one/vendor/sub") and not tracked.file("libs/one/other.yaml")
    tracked.add_all("everything")
    assert tracked.file("everything/x/y.yaml") and tracked.folder("everything/x")
    assert not tracked.file("everythingelse/y.yaml")
    assert not Tracked() and Tracked({"x"})


def test_why_ignored_names_the_file_line_and_pattern() -> None:
    tracked = Tracked({"keep/t.yaml"})
    top = Ignores(exclude=rules("fixtures/\n"), tracked=tracked).with_gitignore(
        rules("# comment\n*.yaml\nkeep/\n")
    )
    assert top.why_ignored("u.yaml") == "untracked and ignored by .gitignore line 2 (`*.yaml`)"
    assert top.why_ignored("keep/t.yaml") is None  # tracked
    assert top.why_ignored("fixtures", True) == (
        "excluded by the profile or --exclude (`fixtures/`)"
    )
    inner = top.folder("keep")
    assert inner is not None  # entered for its tracked file
    # inside an ignored folder entered for its tracked files, every untracked file is ignored
    assert inner.why_ignored("keep/new.txt") == "untracked, inside a folder a .gitignore ignores"
    deep = top.folder("sub")
    assert deep is not None
    deep = deep.with_gitignore(rules("*.json\n", "sub"))
    assert deep.why_ignored("sub/a.json") == (
        "untracked and ignored by sub/.gitignore line 1 (`*.json`)"
    )


def test_literal_suffix_and_general_patterns_share_last_match_wins() -> None:
    # one pattern of each index kind, in an order where each overrides the one before
    text = "x.yaml\n!*.yaml\n*.y?ml\n!x.y[a]ml\n"
    assert ignored_paths({"": text}, [("x.yaml", False)]) == set()
    assert ignored_paths({"": text + "x.yaml\n"}, [("x.yaml", False)]) == {"x.yaml"}
    assert ignored_paths({"": "*.y?ml\n!*.yaml\n"}, [("x.yaml", False)]) == set()


# --------------------------------------------------------------------------- bounded work


def _work(pattern: str, text: str) -> tuple[bool, int]:
    compiled = parse_line(pattern)
    assert compiled is not None and compiled.matcher is not None
    budget = Budget()
    return compiled.matcher.match(text.encode(), budget), budget.matching


def test_matching_work_is_linear_in_the_path() -> None:
    # the pattern that makes a backtracking matcher run forever: one step per byte here
    for n in (100, 1_000, 10_000):
        matched, work = _work(BACKTRACKING, "a" * n)
        assert not matched
        assert work == n + 1
    matched, work = _work(BACKTRACKING, "a" * 5_000 + "b")
    assert matched and work == 5_002
    # a long pattern costs no more steps: its positions are bits of one integer
    long_pattern = "*a" * 2_000 + "*b"
    assert _work(long_pattern, "a" * 3_000) == (False, 3_001)
    assert _work(long_pattern, "a" * 2_000 + "b")[0]


def test_the_backtracking_pattern_finishes_in_a_fresh_process() -> None:
    """A hang guard: a regression to a backtracking matcher would never finish."""
    code = (
        "from reviewer.discover.gitignore import wildmatch\n"
        f"assert not wildmatch({BACKTRACKING!r}.encode(), b'a' * 200_000)\n"
        "assert not wildmatch(b'a/**/' * 500 + b'b', b'a/' * 20_000)\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"


def test_a_budget_stops_the_work() -> None:
    patterns = rules("\n".join(f"*x{i}?" for i in range(100)) + "\n")
    budget = Budget(matching_limit=1_000)

    def many() -> None:
        for i in range(1_000):
            patterns.match(f"f{i}y", False, budget)

    with pytest.raises(OverBudget) as info:
        many()
    assert info.value.what == "pattern matching work"
    assert budget.matching > 1_000


def test_literal_and_suffix_patterns_need_no_automaton() -> None:
    many = "".join(f"name-{i}\n*.ext{i}\n/top-{i}/x\n" for i in range(3_000))
    patterns = rules(many)
    budget = Budget()
    for i in range(500):
        patterns.match(f"a/b/name-{i}", False, budget)
        patterns.match(f"a/c.ext{i}", False, budget)
    # a few table lookups per path, not one per pattern (9,000 patterns)
    assert budget.matching <= 1_000 * 10


def test_caps_on_one_file() -> None:
    lines = [f"p{i}" for i in range(12)] + ["x" * 50, "y"]
    parsed = parse_gitignore(
        ("\n".join(lines) + "\n").encode(), max_patterns=10, max_pattern_chars=40
    )
    assert [p.text for p in parsed.patterns.patterns] == [f"p{i}" for i in range(10)]
    assert parsed.problems == (
        "13 patterns, over the 10-pattern limit: only the first 10 were used",
        "1 pattern(s) longer than 40 bytes were not used (line 13)",
    )
    cut = parse_gitignore(b"a\nb\nccc", size=MAX_FILE_BYTES + 5)
    assert [p.text for p in cut.patterns.patterns] == ["a", "b"]  # the partial line is dropped
    assert cut.problems[0].startswith(f"{MAX_FILE_BYTES + 5:,} bytes, over the")


def test_workspace_glob() -> None:
    assert workspace_glob("packages/*").match(b"packages/a")
    assert not workspace_glob("packages/*").match(b"packages/a/b")
    assert workspace_glob("packages/**").match(b"packages/a/b")
    assert workspace_glob("apps/**/web").match(b"apps/x/y/web")
    assert workspace_glob("a?").match(b"ab") and not workspace_glob("a?").match(b"a/")
    assert not workspace_glob("**a**a**a**a**a**a**a**a**a**a**b").match(b"a" * 10_000)
    assert workspace_glob("[x]").match(b"[x]")  # no classes in workspaces: literal


# --------------------------------------------------------------------------- against git

_SEGMENTS = ["a", "b", "ab", "ba", "a.b", "x.log", "c", "a b", "#c", "!d", "[a]", "b*", "é"]
_ATOMS = [
    "a",
    "b",
    "c",
    ".",
    "*",
    "**",
    "?",
    "/",
    "[a-b]",
    "[!a]",
    "[^b]",
    "[]a]",
    "[[:alpha:]]",
    "\\*",
    "\\!",
    "\\#",
    "\\ ",
    "x.log",
    " ",
    "é",
]


@st.composite
def _trees(draw: st.DrawFn, segments: list[str]) -> list[tuple[str, bool]]:
    paths = draw(
        st.lists(
            st.tuples(st.lists(st.sampled_from(segments), min_size=1, max_size=4), st.booleans()),
            min_size=1,
            max_size=12,
        )
    )
    kinds: dict[str, bool] = {}
    for parts, is_dir in paths:
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if kinds.get(prefix) is False:
                break
            kinds[prefix] = True
        else:
            path = "/".join(parts)
            if path not in kinds:
                kinds[path] = is_dir
    return sorted(kinds.items())


@st.composite
def _lines(draw: st.DrawFn, atoms: list[str]) -> str:
    body = "".join(draw(st.lists(st.sampled_from(atoms), min_size=0, max_size=6)))
    if body.count("*") > 4:  # git's matcher backtracks: keep it quick
        body = body.replace("*", "")
    head = draw(st.sampled_from(["", "", "!", "/", "!/", "#", "\\"]))
    tail = draw(st.sampled_from(["", "", "/", " ", "\\"]))
    return head + body + tail


@st.composite
def _cases(
    draw: st.DrawFn,
    atoms: list[str] = _ATOMS,
    segments: list[str] = _SEGMENTS,
    nested: bool = True,
) -> tuple[list[tuple[str, bool]], dict[str, str]]:
    tree = draw(_trees(segments))
    folders = [""] + ([p for p, d in tree if d] if nested else [])
    gitignores: dict[str, str] = {}
    for folder in draw(st.lists(st.sampled_from(folders), min_size=1, max_size=3, unique=True)):
        gitignores[folder] = "\n".join(draw(st.lists(_lines(atoms), max_size=6))) + "\n"
    return tree, gitignores


def _git_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=home,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        LC_ALL="C",
    )
    return env


def git_ignored(tree: list[tuple[str, bool]], gitignores: Mapping[str, str]) -> set[str]:
    assert GIT is not None
    with tempfile.TemporaryDirectory(prefix="archreview-gitignore-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        env = _git_env(tmp)
        subprocess.run(
            [GIT, "init", "-q", "--template=", str(root)],
            env=env,
            check=True,
            timeout=GIT_TIMEOUT,
            capture_output=True,
        )
        for path, is_dir in tree:
            target = root / path
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"")
        for folder, text in gitignores.items():
            where = root / folder if folder else root
            (where / ".gitignore").write_bytes(text.encode("utf-8"))
        names = [p for p, _ in tree if p.rsplit("/", 1)[-1] != ".gitignore"]
        done = subprocess.run(
            [GIT, "check-ignore", "--no-index", "--stdin", "-z"],
            cwd=root,
            env=env,
            input=b"".join(n.encode("utf-8") + b"\0" for n in names),
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return {p.decode("utf-8") for p in done.stdout.split(b"\0") if p}


needs_git = pytest.mark.skipif(
    GIT is None and not os.environ.get("CI"), reason="git is not installed"
)


@needs_git
@settings(
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_cases())
def test_agrees_with_git_check_ignore(case: tuple[list[tuple[str, bool]], dict[str, str]]) -> None:
    tree, gitignores = case
    assert ignored_paths(gitignores, tree) == git_ignored(tree, gitignores)


# --------------------------------------------------------------------------- against pathspec

# Shapes where pathspec's GitIgnoreSpec and git agree (the git test above covers the rest):
# no escapes, no classes beyond plain ranges, ASCII names (pathspec matches characters where
# git matches bytes: for git "?" does not match "é", two bytes in UTF-8).
_PLAIN_ATOMS = ["a", "b", "c", ".", "*", "**", "?", "/", "[a-b]", "x.log"]
_ASCII_SEGMENTS = [s for s in _SEGMENTS if s.isascii()]


def _pathspec_ignored(tree: list[tuple[str, bool]], text: str) -> set[str]:
    from pathspec import GitIgnoreSpec

    spec = GitIgnoreSpec.from_lines(text.split("\n"))
    out: set[str] = set()
    for path, is_dir in tree:
        parts = path.split("/")
        hidden = False
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            folder = depth < len(parts) or is_dir
            result = spec.check_file(sub + "/" if folder else sub).include
            if result:
                hidden = True
                break
        if hidden:
            out.add(path)
    return out


@settings(derandomize=True, deadline=None, max_examples=400)
@given(_cases(_PLAIN_ATOMS, _ASCII_SEGMENTS, nested=False))
def test_agrees_with_pathspec_on_plain_patterns(
    case: tuple[list[tuple[str, bool]], dict[str, str]],
) -> None:
    from pathspec import GitIgnoreSpec

    tree, gitignores = case
    kept: list[str] = []
    for line in gitignores.get("", "").split("\n"):
        try:
            GitIgnoreSpec.from_lines([line])
            empty = line.lstrip("!").strip("/ ") == ""  # "/", "!/": pathspec matches all
        except Exception:  # pathspec rejects it
            empty = True
        if empty:  # git reads it as a pattern matching nothing
            assert ignored_paths({"": line + "\n"}, tree) == set()
            continue
        kept.append(line)
    text = "\n".join(kept)
    assert ignored_paths({"": text}, tree) == _pathspec_ignored(tree, text)


def test_compile_pattern_flags() -> None:
    p = compile_pattern(b"!/a/b/  ")
    assert p is not None
    assert (p.negated, p.dir_only, p.basename, p.body) == (True, True, False, b"a/b")
    assert compile_pattern(b"") is None and compile_pattern(b"#x") is None
    q = compile_pattern(b"*.log")
    assert q is not None and q.suffix == b".log" and q.basename
