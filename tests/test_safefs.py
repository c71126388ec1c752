"""Writers stay where they were told (reviewer.core.safefs, reviewer.cache.store, reviewer.outputs.adr, the command
line): the attack of issue 15 item 1 (a committed `.archreview-cache/model -> ../../victim`)
run through the real program, links at every level of the cache, foreign files in it, ADR
`--out` and index.json planted in the repository, user-named outputs that are folders, FIFOs,
`/dev/null` or `/dev/stdout`, and a full disk."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cache.store import MARKER_NAME, Cache, default_cache_dir, digest, forget_notices
from reviewer.cli.main import main
from reviewer.core import safefs

ARCHREVIEW = Path(sys.executable).with_name("archreview")
HANG = 120  # seconds: a generous bound for a hang, not a timing

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
"""


# -- helpers -------------------------------------------------------------------------------------


def _hashes(top: Path, *, skip: Path | None = None) -> dict[str, str]:
    """Every entry below `top` (links as their target text, folders as themselves), hashed;
    `skip` (a folder below top) left out."""
    out: dict[str, str] = {}
    for current, dirs, files in os.walk(top, followlinks=False):
        here = Path(current)
        if skip is not None and (here == skip or skip in here.parents):
            dirs[:] = []
            continue
        for name in sorted(dirs + files):
            path = here / name
            rel = str(path.relative_to(top))
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + f":{st.st_mtime_ns}"
            else:
                out[rel] = f"mode:{stat.S_IFMT(st.st_mode)}"
    return out


def _victim(folder: Path) -> Path:
    """A folder beside the checkout holding what an attacker would like deleted, including
    files laid out like cache entries."""
    (folder / ".ssh").mkdir(parents=True)
    (folder / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n", "utf-8")
    (folder / "docs").mkdir()
    (folder / "docs" / "plan.md").write_text("# Hand-written plan\n", encoding="utf-8")
    key = "ab" + "0" * 62
    (folder / "ab").mkdir()
    (folder / "ab" / key).write_bytes(b"not an archreview entry")
    (folder / key).write_bytes(b"also not one")
    return folder


def _checkout(folder: Path) -> Path:
    (folder / "svc").mkdir(parents=True)
    (folder / "svc" / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    return folder


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARCHREVIEW), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The program's environment: a user cache of the test's own, a fixed clock."""
    return {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "ARCHREVIEW_TODAY": "2026-11-25",
    }


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(base))
    monkeypatch.delenv("ARCHREVIEW_USER_CACHE", raising=False)
    return base


@pytest.fixture(autouse=True)
def _fresh_notices() -> Iterator[None]:
    """Each test sees the cache's once-per-folder notices afresh."""
    forget_notices()
    yield
    forget_notices()


# -- item 1: the attack, through the real program --------------------------------------------------


@pytest.mark.parametrize("where", ["planted-folder", "planted-link", "default"])
def test_a_committed_cache_link_changes_nothing_outside_the_checkout(
    tmp_path: Path, env: dict[str, str], where: str
) -> None:
    """A pull request commits `.archreview-cache/model -> ../../victim`. Scanned with the cache
    named at the planted folder, at the link itself, or with the default cache: the scan exits
    normally, and not a byte beside the checkout changes (the victim's files, the entry-shaped
    ones included, keep their content and times)."""
    work = tmp_path / "work"
    checkout = _checkout(work / "checkout")
    _victim(work / "victim")
    (checkout / ".archreview-cache").mkdir()
    os.symlink("../../victim", checkout / ".archreview-cache" / "model")
    before = _hashes(work, skip=checkout)
    inside = _hashes(checkout)
    args = ["scan", ".", "--format", "json", "--fail-on", "never"]
    if where == "planted-folder":
        args += ["--cache-dir", ".archreview-cache"]
    elif where == "planted-link":
        args += ["--cache-dir", ".archreview-cache/model"]
    for i in range(2):  # a cold and an edited run: entries written, then pruning
        (checkout / "svc" / "template.yaml").write_text(
            TEMPLATE.replace("1209600", str(1000 + i)), encoding="utf-8"
        )
        done = _run(*args, cwd=checkout, env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["findings"] is not None
        assert "Traceback" not in done.stderr
    assert _hashes(work, skip=checkout) == before
    after = _hashes(checkout)
    assert after[".archreview-cache/model"] == "link:../../victim"
    assert {k for k in after if k.startswith(".archreview-cache")} == {
        k for k in inside if k.startswith(".archreview-cache")
    }  # nothing written into the planted folder either
    if where == "default":
        real = hashlib.sha256(os.fsencode(os.path.realpath(checkout))).hexdigest()[:16]
        cache = Path(env["XDG_CACHE_HOME"]) / "archreview" / "trees" / real
        assert (cache / MARKER_NAME).is_file() and (cache / "model").is_dir()
    else:
        notices = [line for line in done.stderr.splitlines() if "notice: cache" in line]
        assert len(notices) == 1, done.stderr  # once per scan, not per entry
        assert "not used" in notices[0]


# -- links at every level of the cache -------------------------------------------------------------


def _filled(folder: Path, secret: bytes = b"s" * 32) -> tuple[Cache, list[str]]:
    """A cache folder of ours with a few entries of kind `model`."""
    store = Cache(folder, secret)
    keys = [digest("entry", i) for i in range(4)]
    for key in keys:
        store.put("model", key, {"value": key})
    store.close()
    assert (folder / MARKER_NAME).is_file()
    return Cache(folder, secret), keys


def _swap_for_link(path: Path, target: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.rglob("*"), reverse=True):
            child.unlink() if not child.is_dir() or child.is_symlink() else child.rmdir()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    os.symlink(target, path)


@pytest.mark.parametrize("level", ["kind", "shard", "entry", "marker"])
def test_links_anywhere_in_the_cache_are_misses_never_followed(
    tmp_path: Path, level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = _victim(tmp_path / "victim")
    folder = tmp_path / "cache"
    store, keys = _filled(folder)
    key = keys[0]
    path = {
        "kind": folder / "model",
        "shard": folder / "model" / key[:2],
        "entry": folder / "model" / key[:2] / key,
        "marker": folder / MARKER_NAME,
    }[level]
    target = victim / "ab" / ("ab" + "0" * 62) if level in ("entry", "marker") else victim
    _swap_for_link(path, target)
    before = _hashes(victim)

    assert store.get("model", key) is None  # a miss
    for i in range(10):  # writes: none of them lands in the victim
        store.put("model", digest("new", i), list(range(i)))
    store.put("model", key, "again")
    store.used.clear()
    store.prune(("model",))
    store.prune((), whole=("model",), keep=0)
    store.close()

    assert _hashes(victim) == before
    assert path.is_symlink()
    err = capsys.readouterr().err
    assert err.count("archreview: notice: cache") == 1, err


def test_a_cache_folder_that_is_a_link_inside_the_tree_is_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _checkout(tmp_path / "repo")
    victim = _victim(tmp_path / "victim")
    (root / "deep").mkdir()
    os.symlink(victim, root / "deep" / "cache")
    before = _hashes(victim)
    for named in (root / "deep" / "cache", root / "deep" / "cache" / "sub"):
        store = Cache(named, b"k" * 32, root=root)
        store.put("model", digest(1), 1)
        assert store.get("model", digest(1)) is None
        assert store.prune(("model",), whole=("report",), keep=0) == 0
    # opened later in the process without the root (PR mode's base cache): the same refusal,
    # even where the link leads to an empty folder (which a folder of its own would claim)
    empty = tmp_path / "empty-victim"
    empty.mkdir()
    os.symlink(empty, root / "deep" / "cache2")
    Cache(root / "deep" / "cache2", b"k" * 32, root=root).put("base", digest(5), 5)
    store = Cache(root / "deep" / "cache2", b"k" * 32)
    store.put("base", digest(5), 5)
    assert store.get("base", digest(5)) is None
    assert list(empty.iterdir()) == []
    assert _hashes(victim) == before
    assert "is a symbolic link" in capsys.readouterr().err
    # outside the tree, a link the user named is theirs: followed
    mine = tmp_path / "mine"
    mine.mkdir()
    os.symlink(mine, tmp_path / "alias")
    store = Cache(tmp_path / "alias", b"k" * 32, root=root)
    store.put("model", digest(1), 1)
    assert store.get("model", digest(1)) == 1
    assert (mine / MARKER_NAME).is_file()


def test_foreign_files_in_the_cache_are_never_deleted_or_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    store, keys = _filled(folder)
    shard = folder / "model" / keys[0][:2]
    foreign = {
        shard / (keys[0][:2] + "f" * 62): b"a file archreview did not write",
        shard / (keys[0][:2] + "e" * 62): b"ARC2" + b"\0" * 32 + b"magic, no valid MAC",
        shard / "notes.txt": b"not named like an entry",
        shard / f".{keys[0]}.0123456789abcdef.tmp": b"a temporary file",
        folder / "model" / "zz": b"not a shard",
    }
    for path, data in foreign.items():
        path.write_bytes(data)
        os.utime(path, ns=(1, 1))  # older than every entry: first in line for pruning
    signed_elsewhere = Cache(tmp_path / "other", b"o" * 32)
    signed_elsewhere.put("model", keys[1], "theirs")
    theirs = tmp_path / "other" / "model" / keys[1][:2] / keys[1]
    ours = folder / "model" / keys[1][:2] / keys[1]
    ours.write_bytes(theirs.read_bytes())  # an entry signed with another secret
    foreign[ours] = theirs.read_bytes()

    store.put("model", keys[1], "replaced?")  # something has the name: never replaced
    assert ours.read_bytes() == foreign[ours]
    assert store.get("model", keys[1]) is None
    removed = store.prune(("model",))
    for path, data in foreign.items():
        assert path.read_bytes() == data, path
    # what it did remove were our own entries, verified
    assert removed == len(keys) - 1
    assert not (folder / "model" / keys[0][:2] / keys[0]).exists()


def test_a_folder_without_our_marker_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "somebody-elses"
    (folder / "model" / "ab").mkdir(parents=True)
    (folder / "model" / "ab" / ("ab" + "1" * 62)).write_bytes(b"data")
    before = _hashes(folder)
    store = Cache(folder, b"k" * 32)
    store.put("model", digest(2), 2)
    assert store.get("model", digest(2)) is None
    assert store.prune(("model",), whole=("model",), keep=0) == 0
    assert _hashes(folder) == before
    # an empty folder is claimed; a marker signed with another secret is not ours
    empty = tmp_path / "empty"
    empty.mkdir()
    Cache(empty, b"k" * 32).put("model", digest(3), 3)
    assert Cache(empty, b"k" * 32).get("model", digest(3)) == 3
    other = Cache(empty, b"z" * 32)
    other.put("model", digest(4), 4)
    assert other.get("model", digest(3)) is None
    assert not (empty / "model" / digest(4)[:2] / digest(4)).exists()


def test_a_cache_entry_that_is_a_fifo_is_a_miss_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    store, keys = _filled(folder)
    entry = folder / "model" / keys[0][:2] / keys[0]
    entry.unlink()
    os.mkfifo(entry)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(store.get("model", keys[0])), daemon=True)
    reader.start()
    reader.join(HANG)  # O_NONBLOCK: never waits for a writer (a hang fails here)
    assert got == [None]
    assert stat.S_ISFIFO(entry.lstat().st_mode)


def test_the_default_cache_is_outside_the_tree(tmp_path: Path, user_cache: Path) -> None:
    root = _checkout(tmp_path / "repo")
    named = default_cache_dir(root)
    assert named is not None
    real = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:16]
    assert named == str(user_cache / "archreview" / "trees" / real)
    os.symlink(root, tmp_path / "alias")
    assert default_cache_dir(tmp_path / "alias") == named  # by real path
    before = _hashes(root)
    result = CliRunner().invoke(main, ["scan", str(root), "--format", "json", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    assert _hashes(root) == before
    assert (Path(named) / MARKER_NAME).is_file()


# -- ADR output ------------------------------------------------------------------------------------


def _adr_repo(tmp_path: Path) -> Path:
    import shutil

    from .conftest import FIXTURES

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repos" / "chariot-platform", repo)
    return repo


def test_adr_out_through_a_link_in_the_repository_is_refused(tmp_path: Path) -> None:
    repo = _adr_repo(tmp_path)
    victim = _victim(tmp_path / "victim")
    os.symlink("../victim", repo / "decisions")
    os.symlink(victim, repo / "docs" / "linked")
    before = _hashes(victim)
    for out in (repo / "decisions", repo / "decisions" / "adr", repo / "docs" / "linked" / "x"):
        result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "is a symbolic link inside the scanned tree" in result.output
        assert "Traceback" not in result.output
    assert _hashes(victim) == before
    # a link the user owns outside the tree is followed, as named
    mine = tmp_path / "adr-real"
    mine.mkdir()
    os.symlink(mine, tmp_path / "adr-alias")
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(tmp_path / "adr-alias")])
    assert result.exit_code == 0, result.output
    assert (mine / "index.json").is_file()


HAND_WRITTEN = """\
# 1. Record architecture decisions

We record decisions by hand. This file is the team's.
"""


def _plant_index(out: Path, records: list[dict[str, object]]) -> None:
    (out / "index.json").write_text(
        json.dumps({"version": 1, "records": records}), encoding="utf-8"
    )


def _claim(number: int, file: str, rule: str = "AR-EVT-003") -> dict[str, object]:
    return {
        "number": number,
        "rule_id": rule,
        "module": "modules/chariot",
        "file": file,
        "status": "proposed",
        "date": "2026-01-01",
    }


def test_a_planted_index_never_overwrites_a_hand_written_record(tmp_path: Path) -> None:
    repo = _adr_repo(tmp_path)
    out = repo / "decisions"
    out.mkdir()
    record = out / "0001-record-architecture-decisions.md"
    record.write_text(HAND_WRITTEN, encoding="utf-8")
    outside = tmp_path / "outside.md"
    outside.write_text("outside\n", encoding="utf-8")
    os.symlink(outside, out / "0002-a-link.md")
    _plant_index(
        out,
        [
            _claim(1, record.name),
            _claim(2, "0002-a-link.md", "AR-API-001"),
        ],
    )
    before = (_hashes(out), _hashes(tmp_path, skip=repo))
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert record.read_text(encoding="utf-8") == HAND_WRITTEN
    assert _hashes(out)["0001-record-architecture-decisions.md"] == before[0][record.name]
    assert (out / "0002-a-link.md").is_symlink() and outside.read_text("utf-8") == "outside\n"
    assert _hashes(tmp_path, skip=repo) == before[1]
    assert f"left {record} alone: it has no archreview marker" in result.output
    assert "0002-a-link.md alone: it is a symbolic link" in result.output
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    files = {r["rule_id"]: r["file"] for r in index["records"] if r["module"] == "modules/chariot"}
    assert files["AR-EVT-003"] not in (record.name, "0002-a-link.md")  # a record of its own
    assert (out / files["AR-EVT-003"]).read_text(encoding="utf-8").startswith("---\nstatus:")


def test_a_record_of_ours_is_still_refreshed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker check keeps archreview's own records updating (the hand edits inside keep
    blocks and the team's front matter survive, as before)."""
    repo = _adr_repo(tmp_path)
    out = tmp_path / "adr"
    assert CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)]).exit_code == 0
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    entry = next(r for r in index["records"] if r["rule_id"] == "AR-EVT-003")
    template = repo / "modules" / "chariot" / "template.yml"
    template.write_text("# moved\n" + template.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ARCHREVIEW_TODAY", "2026-12-01")
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
    assert result.exit_code == 0 and "left" not in result.output
    assert "date: 2026-12-01" in (out / entry["file"]).read_text(encoding="utf-8")


def test_a_planted_index_link_or_fifo_is_never_read_and_is_replaced(tmp_path: Path) -> None:
    """A link (or a FIFO) under index.json's name is not read or followed: the claims it would
    make are ignored, and archreview's own index replaces the link itself; its target keeps
    every byte. A folder there is an error (exit 2)."""
    repo = _adr_repo(tmp_path)
    out = repo / "decisions"
    out.mkdir()
    record = out / "0001-record-architecture-decisions.md"
    record.write_text(HAND_WRITTEN, encoding="utf-8")
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"version": 1, "records": [_claim(1, record.name)]}), "utf-8")
    before = target.read_bytes()
    os.symlink(target, out / "index.json")
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "index.json is a symbolic link: not read, replaced" in result.output
    assert target.read_bytes() == before
    assert not (out / "index.json").is_symlink()
    assert json.loads((out / "index.json").read_text("utf-8"))["records"]
    assert record.read_text(encoding="utf-8") == HAND_WRITTEN
    (out / "index.json").unlink()
    os.mkfifo(out / "index.json")
    done: list[int] = []
    runner = threading.Thread(
        target=lambda: done.append(
            CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)]).exit_code
        ),
        daemon=True,
    )
    runner.start()
    runner.join(HANG)  # never blocks on the FIFO
    assert done == [0]
    assert stat.S_ISREG((out / "index.json").lstat().st_mode)
    (out / "index.json").unlink()
    (out / "index.json").mkdir()
    result = CliRunner().invoke(main, ["adr", str(repo), "--out", str(out)])
    assert result.exit_code == 2 and "not a regular file" in result.output, result.output


def test_a_record_written_by_a_custom_template_carries_the_marker(tmp_path: Path) -> None:
    from reviewer.outputs.adr import is_archreview_record

    repo = _adr_repo(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "madr.md.j2").write_text(
        "---\nstatus: {{ status }}\n---\n# {{ title }}\n", "utf-8"
    )
    out = tmp_path / "adr"
    args = ["adr", str(repo), "--out", str(out), "--template-dir", str(templates)]
    assert CliRunner().invoke(main, args).exit_code == 0
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    for record in index["records"]:
        text = (out / record["file"]).read_text(encoding="utf-8")
        assert text.splitlines()[3] == f"<!-- archreview:adr {record['rule_id']} -->"
        assert is_archreview_record(text, record["rule_id"])
        assert not is_archreview_record(text, "AR-XXX-999")


# -- outputs the user names ------------------------------------------------------------------------


def test_an_output_that_is_a_folder_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = _checkout(tmp_path / "repo")
    folder = tmp_path / "somefolder"
    folder.mkdir()
    for named in (folder, root, root / "svc"):  # outside the tree, the tree, a folder in it
        done = _run("scan", str(root), "--output", str(named), "--no-cache", cwd=tmp_path, env=env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [f"archreview: cannot write {named}: Is a directory"]
    # --write-baseline is checked by the option parser before the scan: exit 2 as well
    done = _run("scan", str(root), "--write-baseline", str(folder), cwd=tmp_path, env=env)
    assert done.returncode == 2 and "is a directory" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_output_through_a_link_in_the_tree_is_refused(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = _checkout(tmp_path / "repo")
    victim = _victim(tmp_path / "victim")
    os.symlink(victim / "docs" / "plan.md", root / "report.json")
    os.symlink(victim, root / "reports")
    os.mkfifo(root / "pipe.json")
    before = _hashes(victim)
    for option in ("--output", "--write-baseline"):  # a FIFO in the tree: refused, no hang
        done = _run("scan", str(root), option, str(root / "pipe.json"), cwd=tmp_path, env=env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"archreview: cannot write {root / 'pipe.json'}: is not a regular file inside the "
            "scanned tree (archreview follows no link there and writes only regular files)"
        ]
    for target in (root / "report.json", root / "reports" / "r.json"):
        for option in ("--output", "--write-baseline"):
            result = CliRunner().invoke(
                main, ["scan", str(root), option, str(target), "--no-cache", "--quiet"]
            )
            assert result.exit_code == 2, result.output
            assert "inside the scanned tree" in result.output
            assert len(result.output.strip().splitlines()) == 1, result.output
    assert _hashes(victim) == before
    # `..` is resolved lexically, never after a planted link
    result = CliRunner().invoke(
        main,
        ["scan", str(root), "--output", str(root / "reports" / ".." / "ok.json"), "--no-cache"],
    )
    assert result.exit_code in (0, 1) and (root / "ok.json").is_file()
    assert _hashes(victim) == before


def test_init_refuses_a_planted_profile_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = _victim(tmp_path / "victim")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    os.symlink(victim / "docs" / "plan.md", checkout / ".archreview.yml")
    monkeypatch.chdir(checkout)
    before = _hashes(victim)
    result = CliRunner().invoke(main, ["init", "--force"])
    assert result.exit_code == 2 and "is a symbolic link" in result.output, result.output
    assert _hashes(victim) == before
    (checkout / ".archreview.yml").unlink()
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert stat.S_ISREG((checkout / ".archreview.yml").lstat().st_mode)


@pytest.mark.parametrize("call", ["write", "replace"])
def test_a_full_disk_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    monkeypatch.setenv("ARCHREVIEW_USER_CACHE", "off")  # only the output is written
    root = _checkout(tmp_path / "repo")
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    out.write_text("previous\n", encoding="utf-8")
    real = getattr(os, call)

    def full(*args: object, **kwargs: object) -> object:
        if call == "write" and isinstance(args[0], int) and args[0] <= 2:
            return real(*args, **kwargs)  # the standard streams still work
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, call, full)
    for fmt in ("json", "text"):  # streamed, and whole
        result = CliRunner().invoke(
            main,
            # every persona: a report with findings, so the text output writes something
            ["scan", str(root), "--format", fmt, "--output", str(out), "--no-cache", "--quiet", "--persona", "auditor"],
        )
        assert result.exit_code == 3, result.output
        assert result.output == f"archreview: cannot write {out}: No space left on device\n"
    assert out.read_text(encoding="utf-8") == "previous\n"  # the previous file is intact
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.json"]  # no temporary file


def test_dev_null_a_fifo_and_dev_stdout_still_work(tmp_path: Path, env: dict[str, str]) -> None:
    root = _checkout(tmp_path / "repo")
    args = ["scan", str(root), "--format", "json", "--fail-on", "never", "--no-cache", "--quiet"]
    assert CliRunner().invoke(main, [*args, "--output", os.devnull]).exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = CliRunner().invoke(main, [*args, "--output", str(fifo)])
    reader.join(HANG)
    assert result.exit_code == 0, result.output
    assert json.loads(got[0])["findings"] is not None
    assert stat.S_ISFIFO(fifo.lstat().st_mode)

    dev_stdout = os.lstat("/dev/stdout")
    done = _run(*args, "--output", "/dev/stdout", cwd=tmp_path, env=env)  # stdout a pipe
    assert done.returncode == 0 and json.loads(done.stdout)["findings"] is not None, done.stderr
    with open(tmp_path / "captured.json", "w", encoding="utf-8") as handle:  # a regular file
        subprocess.run(
            [str(ARCHREVIEW), *args, "--output", "/dev/stdout"],
            stdout=handle,
            env=env,
            timeout=HANG,
            check=True,
        )
    assert json.loads((tmp_path / "captured.json").read_text("utf-8"))["findings"] is not None
    after = os.lstat("/dev/stdout")  # written through, never renamed over
    assert (after.st_mode, after.st_ino) == (dev_stdout.st_mode, dev_stdout.st_ino)


# -- the primitives --------------------------------------------------------------------------------


def test_within_is_lexical_against_the_given_and_the_real_root(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "a").mkdir(parents=True)
    os.symlink(real, tmp_path / "alias")
    assert safefs.within(real / "a" / "b", real) == (str(real), ("a", "b"))
    assert safefs.within(real / "a" / "b", tmp_path / "alias") == (str(real), ("a", "b"))
    assert safefs.within(tmp_path / "alias" / "x", tmp_path / "alias") == (
        str(tmp_path / "alias"),
        ("x",),
    )
    assert safefs.within(real, real) == (str(real), ())
    assert safefs.within(real / ".." / "other", real) is None
    assert safefs.within(str(real) + "-sibling", real) is None


def test_open_dir_walks_without_following_and_creates(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.symlink(tmp_path / "a", tmp_path / "link")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    top = safefs.open_anchor(tmp_path)
    try:
        fd = safefs.open_dir(top, ["a", "b"])
        os.close(fd)
        with pytest.raises(safefs.UnsafePath, match="link is a symbolic link"):
            safefs.open_dir(top, ["link", "b"], create=True)
        os.symlink(tmp_path, tmp_path / "a" / "link")
        with pytest.raises(safefs.UnsafePath, match="a/link is a symbolic link"):
            safefs.open_dir(top, ["a", "link"], create=True)
        with pytest.raises(safefs.UnsafePath, match="is not a folder"):
            safefs.open_dir(top, "file")
        with pytest.raises(FileNotFoundError):
            safefs.open_dir(top, ["new", "deeper"])
        os.close(safefs.open_dir(top, ["new", "deeper"], create=True))
        assert (tmp_path / "new" / "deeper").is_dir()
        with pytest.raises(safefs.UnsafePath, match="another user"):
            safefs.open_dir(top, "a", owner=os.geteuid() + 1)
        with pytest.raises(ValueError, match="single path component"):
            safefs.open_dir(top, "..")
    finally:
        os.close(top)


def _two_pieces(write: Callable[[str], object]) -> None:
    write("ab")
    write("ç")


def test_write_file_at_replaces_a_link_and_never_follows_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("keep\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    os.symlink(outside, folder / "name")
    fd = safefs.open_anchor(folder)
    try:
        safefs.write_file_at(fd, "name", ("x" * 3).encode())
        assert outside.read_text("utf-8") == "keep\n"
        assert (folder / "name").read_bytes() == b"xxx" and not (folder / "name").is_symlink()
        safefs.write_file_at(fd, "streamed", _two_pieces)
        assert (folder / "streamed").read_text("utf-8") == "abç"
        assert safefs.read_file_at(fd, "streamed", max_bytes=10) == "abç".encode()
        with pytest.raises(safefs.UnsafePath, match="larger than"):
            safefs.read_file_at(fd, "streamed", max_bytes=2)
        os.symlink(outside, folder / "again")
        with pytest.raises(safefs.UnsafePath, match="symbolic link"):
            safefs.read_file_at(fd, "again", max_bytes=100)
        assert not safefs.unlink_at(fd, "again")  # a link is never unlinked as a file
        assert (folder / "again").is_symlink()
        seen = os.stat("name", dir_fd=fd)
        assert not safefs.unlink_at(fd, "streamed", expect=seen)  # not the file listed
        assert safefs.unlink_at(fd, "streamed")
    finally:
        os.close(fd)
    assert sorted(p.name for p in folder.iterdir()) == ["again", "name"]  # no temporary file


def test_write_user_file_keeps_permissions_and_writes_through_the_users_links(
    tmp_path: Path,
) -> None:
    target = tmp_path / "real.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    safefs.write_user_file(target, "new", tree=tmp_path / "repo")
    assert target.read_text("utf-8") == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    os.symlink(target, tmp_path / "latest.json")
    safefs.write_user_file(tmp_path / "latest.json", "through", tree=tmp_path / "repo")
    assert (tmp_path / "latest.json").is_symlink() and target.read_text("utf-8") == "through"
    safefs.write_user_file(tmp_path / "made" / "deep" / "x.json", "x\ud800y", tree=None)
    assert (tmp_path / "made" / "deep" / "x.json").read_bytes() == b"x?y"  # valid UTF-8
    with pytest.raises(safefs.WriteError) as caught:
        safefs.write_user_file(tmp_path, "x", tree=None)
    assert caught.value.usage and "Is a directory" in str(caught.value)


def test_a_pickle_in_a_planted_entry_never_runs(tmp_path: Path) -> None:
    """Our folder, an entry replaced by a pickle signed with another key: never unpickled."""
    folder = tmp_path / "cache"
    store, keys = _filled(folder)
    forged = Cache(tmp_path / "forger", b"f" * 32)
    payload = pickle.dumps(_Exploding())
    entry = folder / "model" / keys[0][:2] / keys[0]
    entry.write_bytes(b"ARC2" + forged._mac(keys[0], payload) + payload)
    assert store.get("model", keys[0]) is None


class _Exploding:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_explode, ())


def _explode() -> None:
    raise AssertionError("a forged cache entry was unpickled")
