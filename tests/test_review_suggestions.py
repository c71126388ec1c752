"""Fix suggestions as a pull request review (issue 22), against the local GitHub API server of
tests/test_github.py (FakeGitHub: files with patches, reviews, review comments, their updates and
deletions, GitHub's 422 for a comment outside the diff).

What is shown: `archreview comment --suggest-fixes` posts one review whose comments hold the
lines after each fix in a `suggestion` block, only for new findings on lines the pull request
added, and replaces it on the next push (the old one's suggestions deleted, its body rewritten);
a re-run of the same push posts nothing; someone else's review is left alone; limits hold.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewer.core.fixes import Edit, Fix, Safety
from reviewer.core.types import Report, Suppression
from reviewer.github import suggestions
from reviewer.github.api import MARKER, GitHub
from reviewer.github.suggestions import (
    MAX_CHANGES,
    MAX_SUGGESTIONS,
    PullDiff,
    parse_patch,
    plan,
    publish,
)
from tests.conftest import ROOT
from tests.report_fixtures import finding, report
from tests.test_github import REPO, TOKEN, FakeGitHub, _comment, _env, _report_file
from tests.test_github import github as github  # the fixture: the local GitHub API server
from tests.test_github import sleeps as sleeps  # the fixture: backoff recorded, not slept

FILE = "svc/template.yaml"
BOT = "github-actions[bot]"
HEAD1, HEAD2 = "1" * 40, "2" * 40
# lines 5-7 were there; the pull request added 8-13 (a queue and a table)
PATCH = (
    "@@ -5,3 +5,9 @@ Resources:\n"
    "   Queue:\n"
    "     Type: AWS::SQS::Queue\n"
    "     Properties:\n"
    "+      VisibilityTimeout: 30\n"
    "+  Table:\n"
    "+    Type: AWS::DynamoDB::Table\n"
    "+    Properties:\n"
    "+      BillingMode: PAY_PER_REQUEST\n"
    "+  Other: 1"
)


def raise_timeout(line: int = 8) -> Fix:
    return Fix(
        Safety.SAFE,
        "Raise VisibilityTimeout to 1800 (6 x Worker's Timeout 300)",
        (Edit(FILE, line, 26, line, 28, "1800", "      VisibilityTimeout: 30"),),
    )


def retain(line: int = 10) -> Fix:
    return Fix(
        Safety.SAFE,
        "Keep the table on delete and replacement",
        (
            Edit(
                FILE,
                line,
                1,
                line,
                1,
                "    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
                "    Type: AWS::DynamoDB::Table",
            ),
        ),
    )


def pr_report(root: Path, *, second_push: bool = False) -> Report:
    """New findings with fixes on added lines (8 and 10), one on a line the pull request did not
    change (30), one that was already there, one suppressed; on the second push the queue's
    finding is fixed and another appears."""
    findings = [
        finding("AR-DBS-001", i=1, line=10, new=True, fix=retain()),
        finding(i=2, line=30, new=True, fix=raise_timeout(30)),
        finding(i=3, line=8, new=False, fix=raise_timeout()),
        finding(i=4, line=8, new=True, fix=raise_timeout(), suppressed=Suppression("inline", "ok")),
    ]
    if second_push:
        findings.append(
            finding(
                "AR-EVT-006",
                i=5,
                line=12,
                new=True,
                fix=Fix(
                    Safety.UNSAFE,
                    "Switch to provisioned capacity",
                    (
                        Edit(
                            FILE,
                            12,
                            20,
                            12,
                            35,
                            "PROVISIONED",
                            "      BillingMode: PAY_PER_REQUEST",
                        ),
                    ),
                ),
            )
        )
    else:
        findings.insert(0, finding(i=0, line=8, new=True, fix=raise_timeout()))
    return replace(report(findings), root=str(root), diff_base="origin/main")


def _push(tmp_path: Path, github: FakeGitHub, head: str, r: Report) -> Any:
    env = _env(tmp_path, github)
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"number": 7, "head": {"sha": head}}}), encoding="utf-8"
    )
    return _comment(_report_file(tmp_path, r), env, "--suggest-fixes")


def _ours(github: FakeGitHub) -> list[dict[str, Any]]:
    mark = suggestions.marker("archreview")
    return [r for r in github.reviews.get(7, []) if r["body"].startswith(mark)]


def _suggested(body: str) -> list[str]:
    found = re.search(r"^(`{3,})suggestion\n(.*?)\n\1$", body, re.S | re.M)
    assert found is not None, body
    return found.group(2).split("\n")


def test_a_review_of_suggestions_is_posted_and_replaced_on_the_next_push(
    tmp_path: Path, github: FakeGitHub, sleeps: list[float]
) -> None:
    github.files[7] = [{"filename": FILE, "status": "modified", "patch": PATCH}]
    someone = github.add_review(
        7,
        suggestions.marker("archreview") + "\nnot ours",
        "mallory",
        [{"path": FILE, "line": 8, "body": "mine"}],
    )

    first = _push(tmp_path, github, HEAD1, pr_report(tmp_path))
    assert first.exit_code == 0, first.output
    assert "fix suggestions: created review" in first.output
    (review,) = [r for r in _ours(github) if r["user"]["login"] == BOT]
    assert review["commit_id"] == HEAD1
    comments = sorted(github.comments_of(review["id"]), key=lambda c: c["line"])
    # only the new, unsuppressed findings whose fix lies on lines the pull request added
    assert [(c["path"], c.get("start_line"), c["line"], c["side"]) for c in comments] == [
        (FILE, None, 8, "RIGHT"),
        (FILE, None, 10, "RIGHT"),
    ]
    # a suggestion block holds the file's lines after the edit
    assert _suggested(comments[0]["body"]) == ["      VisibilityTimeout: 1800"]
    assert _suggested(comments[1]["body"]) == [
        "    DeletionPolicy: Retain",
        "    UpdateReplacePolicy: Retain",
        "    Type: AWS::DynamoDB::Table",
    ]
    assert "Safe fix" in comments[0]["body"]
    # the sticky comment still lists every new finding, the one on an unchanged line included
    (sticky,) = [b for b in github.bodies(7) if b.startswith(MARKER)]
    assert "Queue0002" in sticky and "Queue0000" in sticky

    # the same push again: nothing new is posted, nothing deleted
    posts = _count(github, "POST")
    again = _push(tmp_path, github, HEAD1, pr_report(tmp_path))
    assert again.exit_code == 0, again.output
    assert "fix suggestions: unchanged" in again.output
    assert _count(github, "POST") == posts and _count(github, "DELETE") == 0

    # the next push: a new review; the old one's suggestions deleted and its body replaced
    second = _push(tmp_path, github, HEAD2, pr_report(tmp_path, second_push=True))
    assert second.exit_code == 0, second.output
    assert "1 earlier review replaced (2 comments deleted)" in second.output
    (current,) = [r for r in _ours(github) if r["user"]["login"] == BOT]
    assert current["id"] != review["id"] and current["commit_id"] == HEAD2
    assert github.comments_of(review["id"]) == []
    old = next(r for r in github.reviews[7] if r["id"] == review["id"])
    assert old["body"].startswith(suggestions.retired_marker("archreview"))
    new_comments = sorted(github.comments_of(current["id"]), key=lambda c: c["line"])
    assert [c["line"] for c in new_comments] == [10, 12]
    assert _suggested(new_comments[1]["body"]) == ["      BillingMode: PROVISIONED"]
    assert "Unsafe fix" in new_comments[1]["body"]
    # someone else's review that starts like ours is never touched
    theirs = next(r for r in github.reviews[7] if r["id"] == someone)
    assert theirs["body"].endswith("not ours") and len(github.comments_of(someone)) == 1
    assert TOKEN not in first.output + again.output + second.output

    # a push that leaves nothing to suggest retires the review and posts none
    gone = replace(pr_report(tmp_path), findings=())
    third = _push(tmp_path, github, "3" * 40, gone)
    assert third.exit_code == 0, third.output
    assert "fix suggestions: removed" in third.output
    assert [r for r in _ours(github) if r["user"]["login"] == BOT] == []
    assert github.comments_of(current["id"]) == []


def _count(github: FakeGitHub, method: str) -> int:
    return sum(1 for m, p, _ in github.log if m == method and "/pulls/" in p)


def test_suggestions_are_off_by_default(
    tmp_path: Path, github: FakeGitHub, sleeps: list[float]
) -> None:
    github.files[7] = [{"filename": FILE, "status": "modified", "patch": PATCH}]
    result = _comment(_report_file(tmp_path, pr_report(tmp_path)), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    assert github.reviews == {} and not any("/pulls/" in p for _, p, _ in github.log)


def test_a_read_only_token_gets_a_notice_not_a_failure(
    tmp_path: Path, github: FakeGitHub, sleeps: list[float]
) -> None:
    github.files[7] = [{"filename": FILE, "status": "modified", "patch": PATCH}]
    github.add(7, "someone else's")
    github.mode = "forbidden"
    result = _push(tmp_path, github, HEAD1, pr_report(tmp_path))
    assert result.exit_code == 0, result.output
    assert github.reviews == {}


def test_limits_on_suggestions_and_deletions(github: FakeGitHub) -> None:
    """Never more than MAX_SUGGESTIONS comments in a review; never more than MAX_CHANGES
    deletions in a run (the rest are deleted by the next run)."""
    n = MAX_SUGGESTIONS + 20
    lines = "".join("+      VisibilityTimeout: 30\n" for _ in range(n))
    github.files[7] = [
        {"filename": FILE, "status": "added", "patch": f"@@ -0,0 +1,{n} @@\n{lines}"}
    ]
    old = github.add_review(
        7,
        suggestions.marker("archreview"),
        BOT,
        [{"path": FILE, "line": k + 1, "body": "old"} for k in range(MAX_CHANGES + 10)],
    )
    many = report([finding(i=k, line=k + 1, new=True, fix=raise_timeout(k + 1)) for k in range(n)])
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    out = publish(client, REPO, 7, many, author=BOT, category="archreview", commit=HEAD1)
    assert out.suggestions == MAX_SUGGESTIONS
    assert len(github.comments_of(out.review_id)) == MAX_SUGGESTIONS
    # one change kept for the old review's body, which waits for its comments to be gone
    assert (out.deleted, out.retired, out.pending) == (MAX_CHANGES - 1, 0, 1)
    assert len(github.comments_of(old)) == 11
    # the next run (a re-run: the same suggestions) finishes the old review's deletion
    out = publish(client, REPO, 7, many, author=BOT, category="archreview", commit=HEAD1)
    assert (out.action, out.deleted, out.retired, out.pending) == ("unchanged", 11, 1, 0)
    assert github.comments_of(old) == []
    # every content-creating request of a run stays under GitHub's 80 a minute
    assert MAX_CHANGES + 1 < 80


def test_text_from_the_repository_is_inert_in_a_suggestion(github: FakeGitHub) -> None:
    original = "      Description: `` ``` @acme/admins"
    fix = Fix(
        Safety.SAFE,
        "Describe it as @acme/admins <img src=x> wants",
        (Edit(FILE, 8, 7, 8, 18, "Summary", original),),
    )
    hidden = Fix(Safety.SAFE, "d", (Edit(FILE, 9, 1, 9, 1, "# \u202e\n", "  Table:"),))
    r = report(
        [finding(i=0, line=8, new=True, fix=fix), finding(i=1, line=9, new=True, fix=hidden)]
    )
    diff = PullDiff.from_files([{"filename": FILE, "status": "modified", "patch": PATCH}])
    (only,) = plan(r, diff)
    assert only.finding.line == 8  # a suggestion that would hide a character is not made
    body = only.body
    assert "\n````suggestion\n      Summary: `` ``` @acme/admins\n````" in body
    head = body.split("````suggestion")[0]
    assert "<img" not in head and "&lt;img src=x&gt;" in head and "@\u200dacme" in head


def test_parse_patch_and_where_a_comment_may_sit() -> None:
    patch = (
        "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        "@@ -10,2 +10,3 @@ Resources:\n x\n+y\n z\n\\ No newline at end of file"
    )
    assert [(h.start, h.end, sorted(h.added)) for h in parse_patch(patch)] == [
        (1, 3, [2]),
        (10, 12, [11]),
    ]
    diff = PullDiff.from_files(
        [
            {"filename": "a.yaml", "status": "modified", "patch": patch},
            {"filename": "gone.yaml", "status": "removed", "patch": "@@ -1 +0,0 @@\n-x"},
            {"filename": "big.yaml", "status": "modified"},  # no patch: too large to list
        ]
    )
    assert diff.changed("a.yaml", 2, 2) and diff.changed("a.yaml", 1, 3)
    assert diff.changed("a.yaml", 10, 12)
    assert not diff.changed("a.yaml", 1, 1)  # in the diff, but not a changed line
    assert not diff.changed("a.yaml", 3, 10)  # across two hunks
    assert not diff.changed("gone.yaml", 1, 1) and not diff.changed("big.yaml", 1, 1)


def test_suggestions_are_placed_relative_to_the_repository() -> None:
    diff = PullDiff.from_files(
        [{"filename": "infra/" + FILE, "status": "modified", "patch": PATCH}]
    )
    r = report([finding(i=0, line=8, new=True, fix=raise_timeout())])
    assert plan(r, diff) == []
    (p,) = plan(r, diff, "infra/")
    assert p.path == "infra/" + FILE


@pytest.mark.parametrize("overlapping", [True, False])
def test_one_suggestion_per_line(overlapping: bool) -> None:
    diff = PullDiff.from_files([{"filename": FILE, "status": "modified", "patch": PATCH}])
    other = raise_timeout() if overlapping else retain()
    r = report(
        [
            finding(i=0, line=8, new=True, fix=raise_timeout()),
            finding("AR-EVT-009", i=1, line=8, new=True, fix=other),
        ]
    )
    assert len(plan(r, diff)) == (1 if overlapping else 2)


# -- the Action, end to end: a real scan, a real fix, a real diff ---------------------------------


def test_the_actions_comment_step_posts_suggestions_when_the_input_is_on(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """The base keeps a queue's visibility timeout at 1800 s; the pull request lowers it to 30 s
    (a new AR-EVT-003 finding whose fix the fix stage writes). With `suggest-fixes: true` the
    Comment step posts the sticky comment and a review suggesting the line back at 1800."""
    from tests.test_action import EXAMPLE, _base_env, _context, _git, _run_step, _step

    repo = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, repo)
    template = repo / "modules" / "chariot" / "template.yml"
    lowered = template.read_text(encoding="utf-8")
    assert "      VisibilityTimeout: 30 # archreview: expect AR-EVT-003\n" in lowered
    template.write_text(
        lowered.replace(
            "VisibilityTimeout: 30 # archreview", "VisibilityTimeout: 1800 # archreview"
        ),
        encoding="utf-8",
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    template.write_text(lowered, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "lower the visibility timeout")
    diff = _git(repo, "diff", base, "HEAD", "--", "modules/chariot/template.yml")
    github.files[7] = [
        {
            "filename": "modules/chariot/template.yml",
            "status": "modified",
            "patch": diff[diff.index("@@") :],
        }
    ]

    context = _context({"suggest-fixes": "true"}, base, ROOT)
    env = _base_env(tmp_path, github, repo, base)
    code, log, outputs = _run_step(_step("Review the architecture"), context, env, tmp_path, repo)
    assert code == 1, log  # a new high finding fails the scan step; the comment step still runs
    context["steps"]["scan"] = {"outputs": outputs}
    code, log, _ = _run_step(_step("Comment"), context, env, tmp_path, repo)
    assert code == 0, log
    assert "fix suggestions: created review" in log
    (review,) = _ours(github)
    (comment,) = github.comments_of(review["id"])
    line = (
        lowered.split("\n").index("      VisibilityTimeout: 30 # archreview: expect AR-EVT-003") + 1
    )
    assert (comment["path"], comment["line"]) == ("modules/chariot/template.yml", line)
    assert _suggested(comment["body"]) == [
        "      VisibilityTimeout: 1800 # archreview: expect AR-EVT-003"
    ]
    assert "AR-EVT-003" in comment["body"] and TOKEN not in log
    # the input is off by default: the same step posts no review
    github.reviews.clear()
    github.review_comments.clear()
    context["inputs"]["suggest-fixes"] = "false"
    code, log, _ = _run_step(_step("Comment"), context, env, tmp_path, repo)
    assert code == 0, log
    assert github.reviews == {} and "fix suggestions" not in log


def test_a_refused_review_is_a_notice_and_the_old_one_is_still_retired(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull request moved on between the listing of its files and the review: GitHub
    refuses a comment outside its diff (422). Nothing is suggested; the old review is retired."""
    github.files[7] = [{"filename": FILE, "status": "modified", "patch": PATCH}]
    old = github.add_review(
        7, suggestions.marker("archreview"), BOT, [{"path": FILE, "line": 8, "body": "old"}]
    )
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    stale = [{"filename": FILE, "status": "modified", "patch": "@@ -30 +30 @@\n-x\n+y"}]
    monkeypatch.setattr(client, "pull_files", lambda repo, number: iter(stale))
    r = report([finding(i=0, line=30, new=True, fix=raise_timeout(30))])
    out = publish(client, REPO, 7, r, author=BOT, category="archreview", commit=HEAD1)
    assert out.action == "refused" and "422" in out.refused
    assert (out.review_id, out.suggestions, out.retired) == (0, 0, 1)
    assert github.comments_of(old) == [] and len(github.reviews[7]) == 1


def test_many_earlier_reviews_are_retired_a_bounded_number_per_run(github: FakeGitHub) -> None:
    github.files[7] = [{"filename": FILE, "status": "modified", "patch": PATCH}]
    earlier = [
        github.add_review(7, suggestions.marker("archreview"), BOT) for _ in range(MAX_CHANGES + 5)
    ]
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    nothing = report([])
    out = publish(client, REPO, 7, nothing, author=BOT, category="archreview", commit=HEAD1)
    assert (out.action, out.retired, out.pending) == ("removed", MAX_CHANGES, 5)
    assert sum(1 for m, p, _ in github.log if m == "PUT") == MAX_CHANGES
    out = publish(client, REPO, 7, nothing, author=BOT, category="archreview", commit=HEAD1)
    assert (out.retired, out.pending) == (5, 0)
    assert _ours(github) == [] and len(earlier) == len(github.reviews[7])
