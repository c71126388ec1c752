"""`archreview comment --from REPORT.json`: post or update the one sticky PR comment.

The comment (`reviewer.outputs.comment`: the gate, what the pull request introduces, then the
rest) is rendered from the JSON report under GitHub's 65,536-character limit and written to the
pull request as ONE comment, found again by a hidden marker that carries the category AND by its
author: the identity the token posts as (`--author`, else `github-actions[bot]` for a workflow's
token, else the login `GET /user` names for a personal token). A marked comment written by
anyone else is left alone. The whole report also goes to the job summary ($GITHUB_STEP_SUMMARY),
always; when the token may not comment (403/404: a pull request from a fork gets a read-only
token) a notice says so and the command exits 0. The token is read from GITHUB_TOKEN and never
printed.

With `--suggest-fixes` (the Action's `suggest-fixes` input, off by default) it also posts the
fixes of new findings on lines the pull request changed as one review of `suggestion` blocks,
and replaces the review of the previous push (reviewer.github.suggestions).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewer.core.types import Report
from reviewer.github.api import (
    DEFAULT_API_URL,
    DEFAULT_CATEGORY,
    GitHub,
    GitHubError,
    check_token,
    marker,
    posting_identity,
    repo_path,
    upsert_comment,
)

if TYPE_CHECKING:
    from reviewer.outputs.comment import CommentOptions, FileLink

COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment body
SUMMARY_LIMIT = 1_000_000  # characters written to the job summary (GitHub takes 1 MiB a step)
EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3


def sleep(seconds: float) -> None:
    """Backoff between retries (tests replace it)."""
    time.sleep(seconds)


class _Usage(click.ClickException):
    exit_code = EXIT_USAGE


def _event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pr_number(event: dict[str, Any]) -> int | None:
    """The pull request of a pull_request / pull_request_target / issue_comment event."""
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return int(pr["number"])
    issue = event.get("issue")
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def _head_sha(event: dict[str, Any]) -> str | None:
    pr = event.get("pull_request")
    if isinstance(pr, dict):
        head = pr.get("head")
        if isinstance(head, dict) and isinstance(head.get("sha"), str):
            return str(head["sha"])
    return os.environ.get("GITHUB_SHA") or None


def _repo_prefix(root: str) -> str:
    from reviewer.outputs.sarif import repo_prefix

    return repo_prefix(Path(root))


def link_base(report: Report, repo: str, event: dict[str, Any]) -> str:
    """Absolute blob URLs for file links (relative links do not resolve in a comment)."""
    sha = _head_sha(event)
    if not sha:
        return ""
    server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{repo}/blob/{sha}/{_repo_prefix(report.root)}"


def submodule_links(report: Report, repo: str, event: dict[str, Any]) -> FileLink | None:
    """Links for files inside git submodules (issue 18, item 7): the head commit of this
    repository does not hold them, so a finding there links to its line in the submodule's
    repository at the recorded commit, or else to the submodule's entry in `.gitmodules`."""
    root = Path(report.root)
    try:
        if not root.is_dir():
            return None
    except OSError:
        return None
    from reviewer.outputs.submodules import Submodules

    subs = Submodules(root)
    sha = _head_sha(event)
    server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")

    def link(file: str, line: int) -> str | None:
        anchor = subs.anchor(file, line)
        if anchor is None:
            return None
        if anchor.url:
            return anchor.url
        return f"{server}/{repo}/blob/{sha}/.gitmodules#L{anchor.line}" if sha else None

    return link


def render_body(
    report: Report,
    *,
    link: str = "",
    limit: int = COMMENT_LIMIT,
    category: str = DEFAULT_CATEGORY,
    options: CommentOptions | None = None,
) -> str:
    """The comment: the category's marker, then the comment fitted under `limit` characters."""
    from reviewer.outputs.comment import CommentOptions, render_comment

    mark = marker(category)
    room = limit - len(mark) - 2
    settings = replace(options or CommentOptions(), link_base=link, limit=room)
    body = f"{mark}\n{render_comment(report, settings)}"
    if len(body) >= limit:  # the renderer keeps to its limit; this is a last guard
        body = body[: limit - 1]
    return body


def more_link(repo: str, number: int, sarif_uploaded: bool) -> tuple[str, str]:
    """Where "+N more" points: the code scanning alerts of this pull request when the SARIF
    upload succeeded, else this run's page (its job summary and the report artifact)."""
    server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    if sarif_uploaded:
        return (
            f"{server}/{repo}/security/code-scanning?query=is%3Aopen+pr%3A{number}",
            "the code scanning alerts of this pull request",
        )
    run = os.environ.get("GITHUB_RUN_ID", "")
    if run.isdigit():
        return (
            f"{server}/{repo}/actions/runs/{run}",
            "this run's job summary and its report artifact",
        )
    return "", "the JSON report"


def notice(message: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from reviewer.outputs.inert import emit_command

        emit_command("notice", message, title="archreview")
    else:
        click.echo(f"archreview: notice: {message}")


def write_summary(markdown: str) -> bool:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n")
    except OSError:
        return False
    return True


def _load(path: str) -> Report:
    from reviewer.outputs.json_report import ReportFormatError, load_report

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return load_report(data)
    except OSError as err:
        raise _Usage(f"--from {path}: {err.strerror or err}") from err
    except ValueError as err:  # JSON errors and ReportFormatError
        kind = "not an archreview JSON report" if isinstance(err, ReportFormatError) else "not JSON"
        raise _Usage(f"--from {path}: {kind} ({err})") from err


@click.command("comment")
@click.option(
    "--from",
    "report_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The JSON report written by `archreview scan --format json`.",
)
@click.option("--pr", "number", type=click.IntRange(min=1), help="Pull request number.")
@click.option("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY).")
@click.option("--api-url", help="GitHub API URL (default: $GITHUB_API_URL or api.github.com).")
@click.option(
    "--category",
    default=DEFAULT_CATEGORY,
    show_default=True,
    help="Carried by the comment's hidden marker: runs with different categories (the SARIF "
    "category) keep one comment each on a pull request.",
)
@click.option(
    "--author",
    default="",
    help="The login the token posts as, whose marked comment is updated: `<app-slug>[bot]` "
    "for a GitHub App's token (default: github-actions[bot] for a workflow's GITHUB_TOKEN, "
    "else the login GET /user names).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low", "info", "never"]),
    default="high",
    show_default=True,
    help="The scan's --fail-on, for the gate line.",
)
@click.option(
    "--fail-on-incomplete", is_flag=True, help="The scan's --fail-on-incomplete, for the gate line."
)
@click.option(
    "--sarif-uploaded",
    is_flag=True,
    help="The SARIF upload succeeded: '+N more' links to the code scanning alerts of the pull "
    "request (else to this run's job summary and artifact).",
)
@click.option(
    "--suggest-fixes",
    is_flag=True,
    help="Also post the fixes of new findings on lines the pull request changed as one review "
    "of suggestions, replacing the previous push's (needs pull-requests: write).",
)
@click.option(
    "--summary-only",
    is_flag=True,
    help="Write the report to the job summary only (no pull request, no token needed).",
)
def comment(
    report_path: str,
    number: int | None,
    repo: str | None,
    api_url: str | None,
    category: str,
    author: str,
    fail_on: str,
    fail_on_incomplete: bool,
    sarif_uploaded: bool,
    suggest_fixes: bool,
    summary_only: bool,
) -> None:
    """Render the report and post or update the one PR comment (Action)."""
    from reviewer.outputs.comment import CommentOptions

    report = _load(report_path)
    event = _event()
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if summary_only:
        _summary_only(report, repo, event, category, fail_on, fail_on_incomplete, sarif_uploaded)
        return
    if not repo:
        raise _Usage("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    number = number or pr_number(event)
    if number is None:
        raise _Usage("no pull request: pass --pr N or run on a pull_request event")
    if not category.strip() or len(category) > 200:
        raise _Usage("--category must be 1 to 200 characters")
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise _Usage("GITHUB_TOKEN is not set")
    try:
        check_token(token)  # before anything could show it: a bad token is never echoed
        repo_path(repo)
        client = GitHub(
            token, api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL, sleep=sleep
        )
    except GitHubError as err:
        raise _Usage(str(err).replace(token, "***")) from None
    url, label = more_link(repo, number, sarif_uploaded)
    options = CommentOptions(
        fail_on=fail_on,
        fail_on_incomplete=fail_on_incomplete,
        more_url=url,
        more_label=label,
        file_link=submodule_links(report, repo, event),
    )
    link = link_base(report, repo, event)
    body = render_body(report, link=link, category=category, options=options)
    # the job summary holds the whole report, whatever happens to the comment
    full = render_body(report, link=link, category=category, options=options, limit=SUMMARY_LIMIT)
    summary = write_summary(full)
    where = "the job summary" if summary else "nowhere ($GITHUB_STEP_SUMMARY is not set)"
    try:
        identity = posting_identity(client, author.strip() or None)
    except GitHubError as err:
        message = str(err).replace(token, "***")
        click.echo(f"archreview: {message}; the report was written to {where}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        action, comment_id = upsert_comment(
            client, repo, number, body, author=identity, category=category
        )
    except GitHubError as err:
        message = str(err).replace(token, "***")
        if err.status in (403, 404):
            notice(
                f"could not comment on {repo}#{number} ({message}); a pull request from a fork "
                f"gets a read-only token. The report was written to {where}."
            )
            sys.exit(EXIT_OK)
        click.echo(
            f"archreview: comment failed: {message}; the report was written to {where}", err=True
        )
        sys.exit(EXIT_USAGE if err.status == 401 else EXIT_FAILED)
    click.echo(
        f"archreview: {action} comment {comment_id} on {repo}#{number} as {identity} "
        f"({len(body)} characters)"
    )
    if suggest_fixes:
        _suggest(client, repo, number, report, event, identity, category, token)


def _pr_head(event: dict[str, Any]) -> str | None:
    """The pull request's head commit (never GITHUB_SHA: on a pull_request event that is the
    merge commit, which a review cannot be placed on); None lets GitHub take the latest."""
    pr = event.get("pull_request")
    head = pr.get("head") if isinstance(pr, dict) else None
    sha = head.get("sha") if isinstance(head, dict) else None
    ok = isinstance(sha, str) and len(sha) == 40 and all(c in "0123456789abcdef" for c in sha)
    return sha if ok else None


def _suggest(
    client: GitHub,
    repo: str,
    number: int,
    report: Report,
    event: dict[str, Any],
    identity: str,
    category: str,
    token: str,
) -> None:
    """Post this push's review of fix suggestions and retire the previous one."""
    from reviewer.github.suggestions import publish

    try:
        outcome = publish(
            client,
            repo,
            number,
            report,
            author=identity,
            category=category,
            commit=_pr_head(event),
            prefix=_repo_prefix(report.root),
        )
    except GitHubError as err:
        message = str(err).replace(token, "***")
        if err.status in (403, 404):
            notice(f"could not post fix suggestions on {repo}#{number} ({message})")
            sys.exit(EXIT_OK)
        click.echo(f"archreview: fix suggestions failed: {message}", err=True)
        sys.exit(EXIT_USAGE if err.status == 401 else EXIT_FAILED)
    if outcome.refused:
        notice(
            f"GitHub refused the review of fix suggestions ({outcome.refused.replace(token, '***')})"
        )
    left = f", {outcome.pending} left for the next run" if outcome.pending else ""
    click.echo(
        f"archreview: fix suggestions: {outcome.action}"
        + (f" review {outcome.review_id}" if outcome.review_id else "")
        + f" with {outcome.suggestions}; {outcome.retired} earlier review"
        + ("" if outcome.retired == 1 else "s")
        + f" replaced ({outcome.deleted} comments deleted{left})"
    )


def _summary_only(
    report: Report,
    repo: str | None,
    event: dict[str, Any],
    category: str,
    fail_on: str,
    fail_on_incomplete: bool,
    sarif_uploaded: bool,
) -> None:
    """The report in the job summary, for a run that posts no comment (a push, comment off)."""
    from reviewer.outputs.comment import CommentOptions

    valid = bool(repo) and _valid_repo(repo or "")
    url, label = more_link(repo or "", 0, False) if valid else ("", "the JSON report")
    if valid and sarif_uploaded:
        server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
        url, label = f"{server}/{repo}/security/code-scanning", "the code scanning alerts"
    options = CommentOptions(
        fail_on=fail_on, fail_on_incomplete=fail_on_incomplete, more_url=url, more_label=label
    )
    link = link_base(report, repo or "", event) if valid else ""
    body = render_body(report, link=link, category=category, options=options, limit=SUMMARY_LIMIT)
    if write_summary(body):
        click.echo("archreview: the report was written to the job summary")
    else:
        click.echo("archreview: $GITHUB_STEP_SUMMARY is not set: no job summary written", err=True)


def _valid_repo(repo: str) -> bool:
    try:
        repo_path(repo)
    except GitHubError:
        return False
    return True
