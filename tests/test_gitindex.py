"""Tests for reviewer.discover.gitindex (the tracked paths, read from .git/index without running git)
and for discovery applying .gitignore to untracked files only (issue 17 item 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reviewer.discover import gitindex
from reviewer.discover.gitindex import parse_index, read_tracked
from reviewer.discover.inventory import discover
from tests.hostile import corpus, harness

SAM = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"

needs_git = pytest.mark.skipif(
    shutil.which("git") is None and os.environ.get("CI") != "true", reason="git is not installed"
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        capture_output=True,
        timeout=60,
        check=True,
        env={**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return done.stdout.decode()


def write(root: Path, rel: str, text: str = SAM) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def repo_with(tmp_path: Path, files: dict[str, str], *, fmt: str = "sha1") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", f"--object-format={fmt}")
    for rel, text in files.items():
        write(root, rel, text)
    git(root, "add", "-f", *files)
    return root


def templates(root: Path) -> list[str]:
    return sorted(f.path for f in discover(root).files if f.kind == "template")


# --------------------------------------------------------------------------- parsing


@needs_git
@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_index_lists_what_git_tracks(tmp_path: Path, version: str) -> None:
    names = {f"d{i}/sub/{'x' * i}.yaml": "a: 1\n" for i in range(1, 40)}
    names["top.json"] = "{}"
    root = repo_with(tmp_path, names)
    git(root, "update-index", "--index-version", version)
    if version == "3":  # an extended flag (intent-to-add) makes git keep version 3
        write(root, "new.yaml", "b: 2\n")
        git(root, "add", "-N", "new.yaml")
    found = read_tracked(str(root), os.path.realpath(root))
    assert found.problem is None
    expected = set(git(root, "ls-files", "-z").split("\0")) - {""}
    assert found.files == expected
    assert "d5/sub/xxxxx.yaml" in found.files


@needs_git
def test_a_sha256_repository_is_read(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"a/template.yaml": SAM}, fmt="sha256")
    found = read_tracked(str(root), os.path.realpath(root))
    assert (found.problem, found.files) == (None, frozenset({"a/template.yaml"}))


@needs_git
def test_a_submodule_is_a_tracked_folder(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"a.yaml": "x: 1\n"})
    blob = "a1" * 20
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{blob},libs/shared")
    found = read_tracked(str(root), os.path.realpath(root))
    assert found.folders == frozenset({"libs/shared"}) and "libs/shared" not in found.files


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "no DIRC signature"),
        (b"DIRC" + bytes(range(256)) * 4, "not one git writes"),
        (corpus.index_bytes([b"a.yaml"], checksum=False), "checksum"),
        (corpus.index_bytes([b"a.yaml"])[:40], "checksum"),  # cut: its trailer is not a checksum
        (corpus.index_bytes([b"../outside.yaml"]), "a path git would not write"),
        (corpus.index_bytes([b"/etc/passwd"]), "a path git would not write"),
        (corpus.index_bytes([b"a/./b.yaml"]), "a path git would not write"),
    ],
)
def test_a_bad_index_is_a_problem_never_an_exception(data: bytes, why: str) -> None:
    found = parse_index(data)
    assert found.problem is not None and why in found.problem
    assert found.files == frozenset()


def test_every_cut_of_an_index_is_a_problem() -> None:
    """An index cut anywhere (its checksum then fails, or it is too short) is refused; with the
    checksum recomputed over the cut bytes, the entries' own bounds refuse it."""
    import hashlib

    whole = corpus.index_bytes([b"a/" + b"x" * n + b".yaml" for n in range(1, 30)])
    assert parse_index(whole).problem is None
    for cut in range(0, len(whole) - 1, 7):
        assert parse_index(whole[:cut]).problem is not None
        body = whole[:cut]
        resealed = body + hashlib.sha1(body).digest()
        assert parse_index(resealed).problem is not None or cut == len(whole) - 20


def test_an_entry_count_over_the_limit_is_refused_before_reading_entries() -> None:
    data = corpus.index_bytes([b"a.yaml", b"b.yaml", b"c.yaml"])
    found = parse_index(data, max_entries=2)
    assert found.problem is not None and "over the limit" in found.problem


def test_an_index_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    index = tmp_path / ".git" / "index"
    with index.open("wb") as handle:  # sparse: the size is what counts, nothing is read
        handle.truncate(gitindex.MAX_INDEX_BYTES + 1)
    found = read_tracked(str(tmp_path), os.path.realpath(tmp_path))
    assert found.problem is not None and "limit" in found.problem


# --------------------------------------------------------------------------- where the index is


def test_a_git_file_pointing_outside_the_checkout_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index").write_bytes(corpus.index_bytes([b"svc/template.yaml"]))
    root = tmp_path / "repo"
    write(root, ".git", f"gitdir: {elsewhere}\n")
    found = read_tracked(str(root), os.path.realpath(root))
    assert found.problem is not None and "not followed" in found.problem
    write(root, ".git", "gitdir: ../elsewhere\n")
    assert read_tracked(str(root), os.path.realpath(root)).problem is not None


def test_a_linked_dot_git_or_index_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index").write_bytes(corpus.index_bytes([b"svc/template.yaml"]))
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".git").symlink_to(elsewhere, target_is_directory=True)
    assert "symbolic link" in str(read_tracked(str(root), os.path.realpath(root)).problem)
    (root / ".git").unlink()
    (root / ".git").mkdir()
    (root / ".git" / "index").symlink_to(elsewhere / "index")
    assert "symbolic link" in str(read_tracked(str(root), os.path.realpath(root)).problem)


def test_a_submodule_git_file_into_the_checkouts_own_modules_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    modules = root / ".git" / "modules" / "lib"
    modules.mkdir(parents=True)
    (modules / "index").write_bytes(corpus.index_bytes([b"template.yaml"]))
    write(root, "lib/.git", "gitdir: ../.git/modules/lib\n")
    found = read_tracked(str(root / "lib"), os.path.realpath(root), shown="lib")
    assert (found.problem, found.files) == (None, frozenset({"template.yaml"}))


# --------------------------------------------------------------------------- discovery


@needs_git
def test_a_committed_template_is_reviewed_whatever_gitignore_says(tmp_path: Path) -> None:
    root = repo_with(tmp_path, {"svc/template.yaml": SAM, "gen/template.yaml": SAM})
    git(root, "commit", "-q", "-m", "x", "--no-gpg-sign", "--author", "a <a@b>")
    write(root, ".gitignore", "*.yaml\ngen/\n")
    write(root, "svc/local.yaml")  # untracked: ignored
    write(root, "gen/other.yaml")  # untracked, in an ignored folder holding a tracked file
    write(root, "scratch/template.yaml")  # untracked: ignored
    inventory = discover(root)
    assert templates(root) == ["gen/template.yaml", "svc/template.yaml"]
    assert inventory.notices == ()
    left = {item.path: item.why for item in inventory.left_out}
    assert "untracked and ignored by .gitignore line 1" in left["svc/local.yaml"]
    assert "scratch/template.yaml" in left and "gen/other.yaml" in left


@needs_git
def test_a_nested_repositorys_index_counts_below_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    inner = root / "lib"
    inner.mkdir()
    git(inner, "init", "-q")
    write(inner, "template.yaml")
    git(inner, "add", "template.yaml")
    write(root, ".gitignore", "*.yaml\n")
    write(root, "top.yaml")
    assert templates(root) == ["lib/template.yaml"]


@pytest.mark.parametrize("kind", ["corrupt", "cut", "bad-checksum", "huge-count", "outside"])
def test_an_unreadable_index_falls_back_to_gitignore_with_a_notice(
    tmp_path: Path, kind: str
) -> None:
    tree = corpus.git_index(kind)
    root = tmp_path / "repo"
    for entry in tree.entries:
        path = root / entry.path.decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.data)
    inventory = discover(root)
    # *.yaml ignores svc/template.yaml, tracked or not, since the index cannot be trusted
    assert templates(root) == ["good/template.yaml"]
    assert [file for file, _ in inventory.notices] == [".git/index"]
    assert "applied to every file" in inventory.notices[0][1]


def test_with_no_git_folder_gitignore_applies_and_nothing_is_said(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.yaml\n")
    write(tmp_path, "a/template.yaml")
    inventory = discover(tmp_path)
    assert (inventory.files, inventory.notices) == ((), ())


# --------------------------------------------------------------------------- hostile runs


@pytest.mark.parametrize("kind", ["corrupt", "cut", "huge-count", "outside"])
def test_hostile_git_index_scans_cleanly(kind: str) -> None:
    """The command line and the engine on a checkout with a hostile index: no traceback, no
    hang, nothing outside the checkout read or changed (the harness checks), and the notice is
    a finding."""
    outcome = harness.check(corpus.git_index(kind))
    assert outcome.failures == [], outcome.report()
    assert b".git/index" in outcome.run("cli").stdout


def test_hostile_git_file_pointing_outside_scans_cleanly() -> None:
    outcome = harness.check(corpus.git_file_pointing_outside())
    assert outcome.failures == [], outcome.report()
