"""PR mode (--diff-base) against real temporary git repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reviewer.cli.main import main
from reviewer.core.types import Persona
from reviewer.github.prmode import (
    _parse_name_status,
    base_fingerprints,
    compare_with_base,
    logical_keys,
    relative_renames,
)
from reviewer.runner.engine import ScanOptions, fingerprint, scan

from . import gitrepo
from .conftest import FIXTURES

PROTECTED = FIXTURES / "templates" / "AR-API-001" / "pass-join.yaml"
UNPROTECTED = FIXTURES / "templates" / "AR-API-001" / "fail.yaml"

AUDITOR = Persona.AUDITOR  # every finding, whoever it is worth saying to

# A repository that declares a WAF at its API layer: a public REST stage outside it is a high,
# regular AR-API-001 (without the declaration it is pedantic and medium, and gates nothing).
DECLARES_A_WAF = (
    "layers:\n  api:\n    waf_managed_rule_groups: [AWSManagedRulesCommonRuleSet]\n"
    "    waf_rate_limit: true\n"
)


def _declare_a_waf(repo: Path) -> None:
    (repo / ".archreview.yml").write_text(DECLARES_A_WAF, encoding="utf-8")


_git = gitrepo.git
_init = gitrepo.init


def _commit(path: Path, message: str) -> str:
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", message)
    return _git(path, "rev-parse", "HEAD")


def _scan_json(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    # every persona: these tests follow findings, whoever they are worth saying to
    result = CliRunner().invoke(main, ["scan", str(root), "--format", "json", "--persona", "auditor", *args])
    data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, data, result.output


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Worktrees go below this test's tmp_path, so leftovers are visible."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def _no_leftovers(repo: Path, scratch: Path) -> None:
    assert len(_git(repo, "worktree", "list", "--porcelain").split("\n\n")) == 1
    assert list(scratch.iterdir()) == []


def test_deleting_the_waf_association_makes_api_001_new_on_an_unchanged_line(
    tmp_path: Path, scratch: Path
) -> None:
    repo = _init(tmp_path / "repo")
    _declare_a_waf(repo)
    text = PROTECTED.read_text(encoding="utf-8")
    (repo / "template.yaml").write_text(text, encoding="utf-8")
    _commit(repo, "protected API")
    head = text[: text.index("  Association:")]
    (repo / "template.yaml").write_text(head, encoding="utf-8")
    _commit(repo, "drop the WAF association")

    code, data, output = _scan_json(repo, "--diff-base", "HEAD~1")
    assert code == 1, output  # AR-API-001 is high and new
    assert data["summary"]["diff_base"] == "HEAD~1"
    api = [f for f in data["findings"] if f["rule_id"] == "AR-API-001"]
    assert len(api) == 1 and api[0]["new"] is True and api[0]["resource"] == "Stage"
    # the stage line is the same line in both commits: no line filter would have caught it
    line = api[0]["line"]
    assert text.splitlines()[line - 1] == head.splitlines()[line - 1] == "  Stage: # OK"
    diff = _git(repo, "diff", "-U0", "HEAD~1", "HEAD")
    assert f"+{head.splitlines()[line - 1]}" not in diff
    # everything else was there before
    others = [f for f in data["findings"] if f["rule_id"] != "AR-API-001"]
    assert others and all(f["new"] is False for f in others)
    # scores are of the full scan, PR mode or not
    code_full, full, _ = _scan_json(repo)
    assert full["summary"]["score"] == data["summary"]["score"]
    assert all(f["new"] is None for f in full["findings"]) and full["summary"]["diff_base"] is None
    assert code_full == 1
    _no_leftovers(repo, scratch)


def test_a_renamed_template_keeps_its_findings_existing(tmp_path: Path, scratch: Path) -> None:
    repo = _init(tmp_path / "repo")
    _declare_a_waf(repo)
    (repo / "api").mkdir()
    shutil.copy(UNPROTECTED, repo / "api" / "template.yaml")
    _commit(repo, "an unprotected API")
    _git(repo, "mv", "api", "edge-api")
    _commit(repo, "rename the folder")

    code, data, output = _scan_json(repo, "--diff-base", "HEAD~1", "--fail-on", "high")
    assert data["findings"], output
    in_templates = [f for f in data["findings"] if f["file"].endswith(".yaml")]
    assert in_templates and all(f["file"] == "edge-api/template.yaml" for f in in_templates)
    assert all(f["new"] is False for f in data["findings"])
    assert any(f["rule_id"] == "AR-API-001" and f["severity"] == "high" for f in in_templates)
    assert code == 0  # --fail-on applies to new findings only
    code_full, _, _ = _scan_json(repo, "--fail-on", "high")
    assert code_full == 1
    _no_leftovers(repo, scratch)


def test_uncommitted_changes_and_a_new_finding_fail_the_check(tmp_path: Path) -> None:
    repo = _init(tmp_path / "repo")
    _declare_a_waf(repo)
    shutil.copy(PROTECTED, repo / "template.yaml")
    base = _commit(repo, "protected")
    (repo / "svc").mkdir()
    shutil.copy(UNPROTECTED, repo / "svc" / "template.yaml")  # not committed: the work tree counts
    code, data, _ = _scan_json(repo, "--diff-base", base, "--fail-on", "high")
    assert code == 1
    new = {f["file"] for f in data["findings"] if f["new"]}
    assert new == {"svc/template.yaml"}


def test_a_subfolder_scan_compares_the_same_subfolder(tmp_path: Path) -> None:
    repo = _init(tmp_path / "repo")
    (repo / "infra").mkdir()
    shutil.copy(UNPROTECTED, repo / "infra" / "api.yaml")
    shutil.copy(UNPROTECTED, repo / "outside.yaml")
    base = _commit(repo, "base")
    _git(repo, "mv", "infra/api.yaml", "infra/edge.yaml")
    code, data, _ = _scan_json(repo / "infra", "--diff-base", base)
    assert code == 0
    assert "edge.yaml" in {f["file"] for f in data["findings"]}
    assert not any(f["file"].startswith("outside") for f in data["findings"])
    assert all(f["new"] is False for f in data["findings"])


def test_submodules_are_compared_from_their_own_history(tmp_path: Path, scratch: Path) -> None:
    sub = _init(tmp_path / "svc-repo")
    shutil.copy(UNPROTECTED, sub / "template.yaml")
    _commit(sub, "service")
    sup = _init(tmp_path / "platform")
    (sup / "README.md").write_text("platform\n", encoding="utf-8")
    _declare_a_waf(sup)  # for its modules too
    _git(sup, "submodule", "add", "-q", str(sub), "modules/svc")
    base = _commit(sup, "add the service module")
    # a change to the super-repository only: every finding in the submodule stays existing
    (sup / "infra").mkdir()
    shutil.copy(PROTECTED, sup / "infra" / "edge.yaml")
    _commit(sup, "edge")
    code, data, output = _scan_json(sup, "--diff-base", base, "--fail-on", "high")
    in_module = [f for f in data["findings"] if f["file"].startswith("modules/svc/")]
    assert in_module, output
    assert all(f["new"] is False for f in in_module)
    assert code == 0, output
    _no_leftovers(sup, scratch)
    assert len(_git(sup / "modules" / "svc", "worktree", "list", "--porcelain").split("\n\n")) == 1
    # now the submodule itself regresses: its new finding is new
    inner = sup / "modules" / "svc"
    (inner / "more").mkdir()
    shutil.copy(UNPROTECTED, inner / "more" / "template.yaml")
    _commit(inner, "another API")
    _commit(sup, "bump the module")
    code, data, output = _scan_json(sup, "--diff-base", base, "--fail-on", "high")
    new = {f["file"] for f in data["findings"] if f["new"]}
    assert new == {"infra/edge.yaml", "modules/svc/more/template.yaml"}, output
    assert code == 1


def test_bad_refs_and_no_repository_are_usage_errors(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(PROTECTED, plain / "template.yaml")
    runner = CliRunner()
    result = runner.invoke(main, ["scan", str(plain), "--diff-base", "HEAD"])
    assert result.exit_code == 2 and "not inside" in result.output
    repo = _init(tmp_path / "repo")
    shutil.copy(PROTECTED, repo / "template.yaml")
    _commit(repo, "base")
    for ref in ("no-such-branch", "--output=/tmp/x", ""):
        result = runner.invoke(main, ["scan", str(repo), "--diff-base", ref])
        assert result.exit_code == 2, (ref, result.output)


def test_rename_parsing_and_rekeying() -> None:
    raw = b"M\0a.yaml\0R097\0old/t.yaml\0new/t.yaml\0D\0gone.json\0C100\0x\0y\0"
    renames = _parse_name_status(raw)
    assert renames == {"old/t.yaml": "new/t.yaml"}
    assert relative_renames({"infra/a.yaml": "infra/b.yaml", "a": "infra/c"}, "infra/") == {
        "a.yaml": "b.yaml"
    }


def test_base_fingerprints_follow_renames(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(UNPROTECTED, root / "old.yaml")
    report = scan(root, ScanOptions(persona=AUDITOR))
    fps = base_fingerprints(logical_keys(report.findings), {"old.yaml": "new.yaml"})
    f = next(f for f in report.findings if f.file == "old.yaml")
    assert fingerprint(f.rule_id, "new.yaml", f.resource, f.logical_path) in fps
    assert f.fingerprint not in fps


def _platform_without_its_submodule(tmp_path: Path) -> tuple[Path, str]:
    """A super-repository whose one submodule is recorded in the base but not checked out."""
    sub = _init(tmp_path / "svc-repo")
    shutil.copy(UNPROTECTED, sub / "template.yaml")
    _commit(sub, "service")
    sup = _init(tmp_path / "platform")
    _git(sup, "submodule", "add", "-q", str(sub), "modules/svc")
    base = _commit(sup, "add")
    _git(sup, "submodule", "deinit", "-q", "--all")  # not checked out here
    return sup, base


def test_api_returns_warnings_for_missing_submodules(tmp_path: Path) -> None:
    sup, base = _platform_without_its_submodule(tmp_path)
    report = scan(sup, ScanOptions(persona=AUDITOR))
    marked, warnings = compare_with_base(sup, base, ScanOptions(persona=AUDITOR), report)
    assert marked.diff_base == base
    assert any("modules/svc" in w and "not checked out" in w for w in warnings)


def test_live_findings_are_never_new() -> None:
    from dataclasses import replace as dc_replace

    from reviewer.github.prmode import mark_new

    report = scan(PROTECTED.parent, ScanOptions(persona=AUDITOR))
    f = report.findings[0]
    live = dc_replace(f, file="aws://eu-west-1/orders", fingerprint="a" * 32)
    drift = dc_replace(f, layer="DRF", rule_id="AR-DRF-001", fingerprint="b" * 32)
    marked = mark_new(dc_replace(report, findings=(f, live, drift)), set(), "main")
    assert [x.new for x in marked.findings] == [True, False, False]


def _count_checkouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The base commits PR mode checks out from now on (it still checks them out)."""
    from reviewer.github import prmode

    checkouts: list[str] = []
    real_checkout = prmode.checkout_base

    def counting(toplevel: Path, commit: str, into: Path) -> Any:
        checkouts.append(commit)
        return real_checkout(toplevel, commit, into)

    monkeypatch.setattr(prmode, "checkout_base", counting)
    return checkouts


def _marks(report: Any) -> list[tuple[str, str, bool | None]]:
    return sorted((f.rule_id, f.fingerprint, f.new) for f in report.findings)


def test_the_base_is_scanned_once_then_read_from_the_cache(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run against the same base reads REF's findings from the cache: no worktree, no
    scan of REF; the answer is the same. A new commit, another profile or no cache: scanned."""
    from dataclasses import replace as dc_replace

    from reviewer.profile import DEFAULT

    repo = _init(tmp_path / "repo")
    text = PROTECTED.read_text(encoding="utf-8")
    (repo / "old.yaml").write_text(text, encoding="utf-8")
    base = _commit(repo, "protected API")
    _git(repo, "mv", "old.yaml", "template.yaml")  # a rename: REF's findings follow it
    (repo / "template.yaml").write_text(text[: text.index("  Association:")], encoding="utf-8")
    options = ScanOptions(cache_dir=str(tmp_path / "cache"), persona=AUDITOR)
    report = scan(repo, options)

    checkouts = _count_checkouts(monkeypatch)
    first, warnings = compare_with_base(repo, base, options, report)
    assert checkouts == [base] and warnings == []
    new = [f for f in first.findings if f.new]
    assert [f.rule_id for f in new] == ["AR-API-001"]  # the rest existed (renamed file)

    second, _ = compare_with_base(repo, base, options, report)
    assert checkouts == [base]  # read back: nothing checked out
    assert _marks(second) == _marks(first)
    _no_leftovers(repo, scratch)

    compare_with_base(repo, base, ScanOptions(persona=AUDITOR), report)  # no cache: scanned
    assert len(checkouts) == 2
    other = ScanOptions(
        cache_dir=options.cache_dir,
        profile=dc_replace(DEFAULT, disabled_rules=("AR-API-001",)),
        persona=AUDITOR,
    )
    compare_with_base(repo, base, other, report)  # another profile: another key
    assert len(checkouts) == 3

    (repo / "other.yaml").write_text(text, encoding="utf-8")
    later = _commit(repo, "another template")
    third, _ = compare_with_base(repo, later, options, report)
    assert checkouts[-1] == later  # a new base commit: scanned
    # that commit holds the unprotected API already: the regression is no longer new (a base
    # keyed by anything less than its tree would have answered from the first commit)
    assert [f.new for f in third.findings if f.rule_id == "AR-API-001"] == [False]


def test_a_base_with_missing_submodules_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sup, base = _platform_without_its_submodule(tmp_path)
    options = ScanOptions(cache_dir=str(tmp_path / "cache"), persona=AUDITOR)
    report = scan(sup, options)
    checkouts = _count_checkouts(monkeypatch)
    for _ in range(2):
        _, warnings = compare_with_base(sup, base, options, report)
        assert any("not checked out" in w for w in warnings)
    assert checkouts == [base, base]


# -- time limits on git (issue 15, item 2) ------------------------------------------------------

BACKTRACKING = "*a*a*a*a*a*a*a*a*a*a*a*a*b"
HANG_LIMIT = 120  # seconds: a run still going then has hung (each git gets a few seconds)


def test_git_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.github.prmode import GIT_TIMEOUT, DiffBaseError, git_timeout

    monkeypatch.delenv("ARCHREVIEW_GIT_TIMEOUT", raising=False)
    assert git_timeout() == GIT_TIMEOUT
    monkeypatch.setenv("ARCHREVIEW_GIT_TIMEOUT", " 2.5 ")
    assert git_timeout() == 2.5
    for bad in ("0", "-1", "soon", "nan", "inf"):
        monkeypatch.setenv("ARCHREVIEW_GIT_TIMEOUT", bad)
        with pytest.raises(DiffBaseError, match="ARCHREVIEW_GIT_TIMEOUT="):
            git_timeout()


def _hanging_git(tmp_path: Path, when: str) -> Path:
    """A `git` for PATH that hangs (with a child holding its output open, as a git that
    started another git would) when its arguments contain ``when``, else runs the real git.
    The pids of what it started go to hung.pids beside it."""
    real = shutil.which("git")
    assert real is not None
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" {when} "*)\n'
        "  sleep 300 &\n"
        f'  echo $$ $! >> "{bin_dir}/hung.pids"\n'
        "  sleep 300\n"
        "  exit 0;;\n"
        "esac\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_a_git_that_hangs_is_killed_with_its_children(tmp_path: Path) -> None:
    import os
    import sys
    import time

    bin_dir = _hanging_git(tmp_path, "worktree add")
    code = (
        "from pathlib import Path\n"
        "from reviewer.github.prmode import GitError, git\n"
        "try:\n"
        f"    git(['worktree', 'add', '--detach', 'x', 'HEAD'], Path({str(tmp_path)!r}))\n"
        "except GitError as err:\n"
        "    print(err)\n"
    )
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env["ARCHREVIEW_GIT_TIMEOUT"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "git worktree add timed out after 1 s (ARCHREVIEW_GIT_TIMEOUT sets the limit per git "
        "command)\n"
    )
    pids = [int(p) for p in (bin_dir / "hung.pids").read_text(encoding="ascii").split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)  # the whole process group is gone


def _backtracking_repository(root: Path) -> Path:
    """Two commits: a template, then a .gitignore holding the pattern git's matcher (and a
    regular-expression one) backtracks on and a folder and a template named by a long run of
    "a". The second commit is written with plumbing, which never matches ignore patterns, and
    an untracked long "a" name sits in the working tree as well."""
    repo = _init(root)
    (repo / "template.yaml").write_text(UNPROTECTED.read_text(encoding="utf-8"), encoding="utf-8")
    _commit(repo, "one")
    long = "a" * 200
    (repo / ".gitignore").write_text(BACKTRACKING + "\n", encoding="utf-8")
    (repo / long).mkdir()
    (repo / long / "template.yaml").write_text(
        PROTECTED.read_text(encoding="utf-8"), encoding="utf-8"
    )
    for rel in (".gitignore", f"{long}/template.yaml"):
        blob = _git(repo, "hash-object", "-w", rel)
        _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}")
    tree = _git(repo, "write-tree")
    commit = _git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "two")
    _git(repo, "update-ref", "HEAD", commit)
    (repo / f"{long}.yaml").write_text("Resources: {}\n", encoding="utf-8")  # untracked
    return repo


def _cli(repo: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    env = dict(os.environ, ARCHREVIEW_GIT_TIMEOUT="2" if path else "30")
    if path:
        env["PATH"] = f"{path}{os.pathsep}{os.environ['PATH']}"
    command = [sys.executable, "-m", "reviewer", "scan", str(repo), "--format", "json"]
    return subprocess.run(
        [*command, "--no-cache", "--fail-on", "never", "--persona", "auditor", *args],
        cwd=repo.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
        check=False,
    )


def test_backtracking_gitignore_scan_and_diff_base_finish(tmp_path: Path, scratch: Path) -> None:
    repo = _backtracking_repository(tmp_path / "repo")
    plain = _cli(repo)
    assert plain.returncode == 0, plain.stderr
    files = {f["file"] for f in json.loads(plain.stdout)["findings"]}
    assert "a" * 200 + "/template.yaml" in files  # not ignored: the name does not end in b
    pr = _cli(repo, "--diff-base", "HEAD~1")
    assert "Traceback" not in pr.stderr
    if pr.returncode == 3:  # a git that backtracks on the pattern: stopped, one line
        assert len(pr.stderr.strip().splitlines()) == 1, pr.stderr
        assert "timed out after 30 s" in pr.stderr
    else:
        assert pr.returncode == 0, pr.stderr
        marked = json.loads(pr.stdout)["findings"]
        assert {f["file"] for f in marked if f["new"]} == {"a" * 200 + "/template.yaml"}
    _no_leftovers(repo, scratch)


def test_a_git_timeout_in_pr_mode_is_a_one_line_error(tmp_path: Path, scratch: Path) -> None:
    repo = _backtracking_repository(tmp_path / "repo")
    bin_dir = _hanging_git(tmp_path, "worktree add")
    done = _cli(repo, "--diff-base", "HEAD~1", path=str(bin_dir))
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == (
        "archreview: scan of --diff-base HEAD~1 failed: git worktree add timed out after 2 s "
        "(ARCHREVIEW_GIT_TIMEOUT sets the limit per git command)\n"
    )
    _no_leftovers(repo, scratch)
