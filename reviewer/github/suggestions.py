"""Fixes as one pull request review of `suggestion` blocks (issue 22), replaced on every push.

Which fixes: those of NEW, unsuppressed findings (PR mode) whose edits make one suggestion
(reviewer.outputs.fixdiff.suggestion: one file, one run of lines, exact text) on lines the pull
request changed: the suggested lines lie in one hunk of the file's diff (GitHub places a review
comment only there) and at least one of them is an added line. Most severe first, at most
`MAX_SUGGESTIONS`, never two on the same line (GitHub applies one suggestion per line in a
batch). Every other finding, fixed or not, keeps its place in the sticky comment, which holds
them all.

A suggestion block holds the lines after the edit; GitHub puts them in place of the commented
lines (`start_line`..`line`, on the RIGHT side) when someone commits the suggestion. The block's
fence is longer than any run of backticks in the lines, so nothing in them can close it; the
rest of the comment (rule, title, the fix's description) is escaped Markdown
(reviewer.outputs.markdown.text): no mention, link or HTML from the repository.

One review per push: the review's body starts with a hidden marker that carries the category,
and holds a digest of what it suggests at which commit. On the next run the reviews that carry
the marker AND were written by the identity the token posts as (as for the sticky comment) are
ours: one with the same digest is kept as it is (a re-run posts nothing); every other one is
retired. A submitted review cannot be deleted, and only an approval or a change request can be
dismissed, so retiring one deletes its comments (the suggestions) and rewrites its body to a
line saying it was replaced, under another marker, so it is never taken for ours again.

When GitHub refuses the review (HTTP 422: the pull request moved on between the listing of its
files and the review, or placed a line differently), nothing is suggested for this push and the
earlier reviews are still retired; the command says so in a notice and does not fail.

GitHub's limits (their sources are cited in reviewer.github.api): at most 3,000 files are
listed; a comment holds at most 65,536 characters (a longer suggestion is left out); no more
than 80 content-creating requests a minute, so one run creates one review and deletes at most
`MAX_CHANGES` comments and bodies (what is left is done by the next run).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewer.core.types import Finding, Report
from reviewer.github.api import GitHub, GitHubError, comment_author, comment_id
from reviewer.outputs.fixdiff import Suggestion, fence, suggestion
from reviewer.outputs.markdown import text

# GitHub documents no number of comments per review; tools that post hundreds in one review
# report 422s and 502s, and every comment is a notification. A review that suggests more than
# this many fixes is better read as the list in the sticky comment.
MAX_SUGGESTIONS = 50  # review comments in one review
# each deletion and each body update is a content request: with the review, one run stays
# under the secondary rate limit of 80 content-creating requests a minute (reviewer.github.api)
MAX_CHANGES = 60  # review comments deleted and review bodies rewritten in one run
COMMENT_LIMIT = 65_536  # characters in a review comment's body, and in the review's

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_DIGEST = re.compile(r"<!-- archreview:digest=([0-9a-f]{64}) -->")


def marker(category: str) -> str:
    """The hidden first line of our review (the category percent-encoded, as the comment's)."""
    return f"<!-- archreview:suggestions category={urllib.parse.quote(category, safe='')} -->"


def retired_marker(category: str) -> str:
    return (
        f"<!-- archreview:suggestions-replaced category={urllib.parse.quote(category, safe='')} -->"
    )


# -- where a pull request may be commented on ---------------------------------------------------


@dataclass(frozen=True)
class DiffHunk:
    """The new side of one hunk: lines `start`..`end`, of which `added` are the added ones."""

    start: int
    end: int
    added: frozenset[int]


def parse_patch(patch: str) -> tuple[DiffHunk, ...]:
    """The hunks of a file's unified diff (the `patch` GitHub lists), new side only. Lines
    that are not part of a hunk are ignored; the work is linear in the patch."""
    out: list[DiffHunk] = []
    start = line = 0
    added: set[int] = set()
    inside = False

    def close() -> None:
        if inside and line > start:
            out.append(DiffHunk(start, line - 1, frozenset(added)))

    for raw in patch.split("\n"):
        head = _HUNK.match(raw)
        if head is not None:
            close()
            start = line = int(head.group(1))
            added = set()
            inside = True
            continue
        if not inside:
            continue
        kind = raw[:1]
        if kind == "+":
            added.add(line)
            line += 1
        elif kind == " ":
            line += 1
        elif kind not in ("-", "\\", ""):  # a removed line, "\ No newline", the last break
            close()
            inside = False
    close()
    return tuple(out)


@dataclass(frozen=True)
class PullDiff:
    """Per file path (relative to the repository), the hunks of the pull request's diff."""

    files: Mapping[str, tuple[DiffHunk, ...]] = field(default_factory=dict)

    @classmethod
    def from_files(cls, files: Iterable[Mapping[str, Any]]) -> PullDiff:
        """From `GET /pulls/{n}/files` items: a removed file, or one without a patch (too
        large, binary), has no line to comment on."""
        out: dict[str, tuple[DiffHunk, ...]] = {}
        for item in files:
            name, patch = item.get("filename"), item.get("patch")
            if isinstance(name, str) and isinstance(patch, str) and item.get("status") != "removed":
                out[name] = parse_patch(patch)
        return cls(out)

    def changed(self, path: str, start: int, end: int) -> bool:
        """Whether lines `start`..`end` of `path` lie in one hunk and one of them was added."""
        for hunk in self.files.get(path, ()):
            if hunk.start <= start and end <= hunk.end:
                return any(n in hunk.added for n in range(start, end + 1))
        return False


# -- what the review says --------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    finding: Finding
    suggestion: Suggestion
    path: str  # relative to the repository
    body: str


def _body(f: Finding, s: Suggestion) -> str:
    assert f.fix is not None
    if f.fix.safety.value == "safe":
        safety = "Safe fix: it cannot break a running system or take away access."
    else:
        safety = (
            "Unsafe fix: it changes what users or callers experience; check who relies on the "
            "current behaviour before committing it."
        )
    return "\n".join(
        [
            f"**{text(f.rule_id)}** · {text(f.title)} ({f.severity.value}, new)",
            "",
            text(f.fix.description),
            "",
            fence("\n".join(s.lines), "suggestion"),
            "",
            f"<sub>{safety} `archreview fix` applies safe fixes locally.</sub>",
        ]
    )


def _rank(f: Finding) -> tuple[int, int, tuple[str, int, str, str, str, str]]:
    return (-f.severity.rank, -f.confidence.rank, f.sort_key())


def plan(report: Report, diff: PullDiff, prefix: str = "") -> list[Planned]:
    """The suggestions of a review (see the module docstring). `prefix`: the scanned root
    relative to the repository ('' at its top, else ending in '/')."""
    chosen: list[Planned] = []
    taken: dict[str, set[int]] = {}
    candidates = [
        f
        for f in report.findings
        if f.new is True
        and f.suppressed is None
        and f.fix is not None
        and not f.file.startswith("aws://")
    ]
    for f in sorted(candidates, key=_rank):
        if len(chosen) >= MAX_SUGGESTIONS:
            break
        assert f.fix is not None
        s = suggestion(f.fix)
        if s is None:
            continue
        path = prefix + s.file
        lines = set(range(s.line, s.end_line + 1))
        if not diff.changed(path, s.line, s.end_line) or lines & taken.get(path, set()):
            continue
        body = _body(f, s)
        if len(body) >= COMMENT_LIMIT:
            continue
        taken.setdefault(path, set()).update(lines)
        chosen.append(Planned(f, s, path, body))
    return chosen


def review_comments(planned: Sequence[Planned]) -> list[dict[str, Any]]:
    """The `comments` of the review request."""
    out: list[dict[str, Any]] = []
    for p in planned:
        item: dict[str, Any] = {
            "path": p.path,
            "body": p.body,
            "line": p.suggestion.end_line,
            "side": "RIGHT",
        }
        if p.suggestion.line < p.suggestion.end_line:
            item["start_line"] = p.suggestion.line
            item["start_side"] = "RIGHT"
        out.append(item)
    return out


def digest(commit: str | None, comments: Sequence[Mapping[str, Any]]) -> str:
    data = json.dumps([commit or "", list(comments)], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def review_body(category: str, planned: Sequence[Planned], commit: str | None, sha: str) -> str:
    n = len(planned)
    at = f" at {text(commit[:12])}" if commit else ""
    return (
        f"{marker(category)}\n<!-- archreview:digest={sha} -->\n"
        f"archreview suggests {'a fix' if n == 1 else f'{n} fixes'} for new findings on lines "
        f"this pull request changed{at}. Every finding stays in the archreview comment; this "
        "review is replaced on the next push."
    )


# -- one review per push ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    action: str  # created | unchanged | removed | refused | none
    review_id: int  # the review that now holds the suggestions (0: none)
    suggestions: int  # how many it holds
    retired: int  # earlier reviews of ours replaced in this run
    deleted: int  # their comments deleted in this run
    pending: int  # earlier reviews left for the next run (over MAX_CHANGES)
    refused: str = ""  # why GitHub refused the review (HTTP 422), when it did


def _digest_of(review: Mapping[str, Any]) -> str | None:
    found = _DIGEST.search(str(review.get("body") or ""))
    return found.group(1) if found is not None else None


def _ours(review: Mapping[str, Any], mark: str, author: str) -> bool:
    body = review.get("body")
    return (
        isinstance(body, str)
        and body.lstrip().startswith(mark)
        and comment_author(review).lower() == author.lower()
    )


def publish(
    client: GitHub,
    repo: str,
    number: int,
    report: Report,
    *,
    author: str,
    category: str,
    commit: str | None,
    prefix: str = "",
) -> Outcome:
    """Post this push's review of suggestions and retire the earlier ones (module docstring)."""
    diff = PullDiff.from_files(client.pull_files(repo, number))
    planned = plan(report, diff, prefix)
    comments = review_comments(planned)
    sha = digest(commit, comments)
    mark = marker(category)
    ours = [r for r in client.reviews(repo, number) if _ours(r, mark, author)]
    keep = 0
    action = "none"
    refused = ""
    if planned:
        same = [r for r in ours if _digest_of(r) == sha]
        if same:
            keep, action = comment_id(same[0]), "unchanged"
        else:
            try:
                created = client.create_review(
                    repo, number, review_body(category, planned, commit, sha), comments, commit
                )
                keep, action = comment_id(created), "created"
            except GitHubError as err:
                if err.status != 422:
                    raise
                # GitHub placed the diff differently (a new push meanwhile, a rename): the
                # review is refused whole; the earlier ones are still retired below
                refused = str(err)
    retired = deleted = pending = used = 0
    for review in ours:
        rid = comment_id(review)
        if rid == keep:
            continue
        # listed whole before any is deleted (deleting while paging would skip some)
        mine = [
            comment_id(c)
            for c in client.review_comments(repo, number, rid)
            if comment_author(c).lower() == author.lower()
        ]
        now = mine[: max(0, MAX_CHANGES - used - 1)]  # room kept for the body's update
        for cid in now:
            client.delete_review_comment(repo, cid)
        deleted += len(now)
        used += len(now)
        if len(now) < len(mine) or used >= MAX_CHANGES:
            pending += 1
            continue
        note = "replaced by the review of the latest push" if keep else "no fix to suggest now"
        client.update_review(
            repo, number, rid, f"{retired_marker(category)}\narchreview's suggestions: {note}."
        )
        retired += 1
        used += 1
    if refused:
        action = "refused"
    elif not planned and retired:
        action = "removed"
    return Outcome(action, keep, len(planned) if keep else 0, retired, deleted, pending, refused)
