"""`archreview comment --from REPORT.json`: post or update the one sticky PR comment.

The Markdown report (new findings first) is rendered from the JSON report, kept under GitHub's
65,536-character limit, and written to the pull request as ONE comment found again by a hidden
marker. When the token may not comment (403/404: a pull request from a fork gets a read-only
token), the report goes to the job summary ($GITHUB_STEP_SUMMARY) with a notice and the command
exits 0. The token is read from GITHUB_TOKEN and never printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from reviewer.github import (
    DEFAULT_API_URL,
    MARKER,
    GitHub,
    GitHubError,
    check_token,
    repo_path,
    upsert_comment,
)
from reviewer.model import Report

COMMENT_LIMIT = 65_536  # characters GitHub accepts in a comment body
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
    from reviewer.output.sarif import repo_prefix

    return repo_prefix(Path(root))


def link_base(report: Report, repo: str, event: dict[str, Any]) -> str:
    """Absolute blob URLs for file links (relative links do not resolve in a comment)."""
    sha = _head_sha(event)
    if not sha:
        return ""
    server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{repo}/blob/{sha}/{_repo_prefix(report.root)}"


def render_body(report: Report, *, link: str = "", limit: int = COMMENT_LIMIT) -> str:
    """The comment: the marker, then the Markdown report fitted under `limit` characters."""
    from reviewer.output.markdown import render_markdown

    room = limit - len(MARKER) - 2
    body = f"{MARKER}\n{render_markdown(report, max_chars=room, link_base=link)}"
    if len(body) >= limit:  # the renderer keeps to max_chars; this is a last guard
        body = body[: limit - 1]
    return body


def _workflow_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def notice(message: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        click.echo(f"::notice title=archreview::{_workflow_escape(message)}")
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
    from reviewer.output.json_report import ReportFormatError, load_report

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
def comment(report_path: str, number: int | None, repo: str | None, api_url: str | None) -> None:
    """Render the Markdown report and post or update the one PR comment (Action)."""
    report = _load(report_path)
    event = _event()
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        raise _Usage("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    number = number or pr_number(event)
    if number is None:
        raise _Usage("no pull request: pass --pr N or run on a pull_request event")
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
    body = render_body(report, link=link_base(report, repo, event))
    try:
        action, comment_id = upsert_comment(client, repo, number, body)
    except GitHubError as err:
        message = str(err).replace(token, "***")
        summary = write_summary(body)
        where = "the job summary" if summary else "nowhere ($GITHUB_STEP_SUMMARY is not set)"
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
        f"archreview: {action} comment {comment_id} on {repo}#{number} ({len(body)} characters)"
    )
