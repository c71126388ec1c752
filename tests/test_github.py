"""`archreview comment` and its GitHub client, against a real HTTP server on 127.0.0.1 that keeps
state and speaks the REST endpoints used (list with Link pagination, create, update; for the
review of fix suggestions, tests/test_review_suggestions.py: a pull request's files, its reviews,
a review's comments, create and update a review, delete a review comment), with a 403 mode, a
5xx-then-OK mode and a secondary-rate-limit mode."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from reviewer import scan
from reviewer.cli import comment as cli_comment
from reviewer.cli.main import main
from reviewer.core.types import Finding, Report, Severity
from reviewer.github.api import (
    ACTIONS_BOT,
    CHUNK,
    LEGACY_MARKER,
    MARKER,
    MAX_BODY,
    MAX_ERROR_BODY,
    GitHub,
    GitHubError,
    marker,
    next_link,
    upsert_comment,
)
from reviewer.outputs.json_report import load_report, report_dict
from reviewer.outputs.markdown import render_markdown

from .conftest import FIXTURES

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
TOKEN = "ghs_testtoken0123456789abcdefSECRET"
PERSONAL = "ghp_personal0123456789abcdefSECRET"
APP = "ghs_apptoken0123456789abcdefSECRET"
REPO = "acme/platform"


@dataclass
class FakeGitHub:
    """GitHub's issue-comment endpoints, in memory. `mode`: ok | forbidden | flaky | ratelimit |
    down | echo-token. `page_size` forces pagination."""

    mode: str = "ok"
    page_size: int = 2
    failures: int = 2  # flaky / ratelimit: how many requests fail first
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)
    next_id: int = 1000
    url: str = ""
    # token -> login it posts as; None: an installation token (GET /user is refused to it)
    users: dict[str, str | None] = field(
        default_factory=lambda: {TOKEN: None, PERSONAL: "octocat", APP: None}
    )
    posts_as: dict[str, str] = field(
        default_factory=lambda: {TOKEN: "github-actions[bot]", APP: "acme-reviewer[bot]"}
    )
    # pull request reviews (fix suggestions): number -> files as `GET /pulls/{n}/files` lists
    # them (filename, status, patch); number -> reviews; review comment id -> comment
    files: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    review_comments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, number: int, body: str, login: str = "someone") -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append(
            {"id": self.next_id, "body": body, "user": {"login": login}}
        )
        return self.next_id

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def add_review(
        self, number: int, body: str, login: str, comments: list[dict[str, Any]] | None = None
    ) -> int:
        """A submitted review (state COMMENTED) and its comments, as someone posted them."""
        self.next_id += 1
        rid = self.next_id
        self.reviews.setdefault(number, []).append(
            {"id": rid, "body": body, "user": {"login": login}, "state": "COMMENTED"}
        )
        for c in comments or []:
            self.next_id += 1
            self.review_comments[self.next_id] = {
                **c,
                "id": self.next_id,
                "pull_request_review_id": rid,
                "user": {"login": login},
            }
        return rid

    def comments_of(self, review_id: int) -> list[dict[str, Any]]:
        return [
            c for c in self.review_comments.values() if c["pull_request_review_id"] == review_id
        ]

    def _page(self, url: Any, items: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
        """One page of a listing, with GitHub's Link header when more follow."""
        query = parse_qs(url.query)
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        chunk = items[start : start + self.page_size]
        headers = {}
        last = max(1, -(-len(items) // self.page_size))
        if page < last:
            base = f"{self.url}{url.path}?per_page={self.page_size}"
            headers["Link"] = (
                f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
            )
        return 200, headers, chunk

    def _right_side(self, number: int, path: str) -> list[tuple[int, int]]:
        """(first, last) new-side line of each hunk of a file's patch: where GitHub lets a
        review comment sit."""
        for f in self.files.get(number, []):
            if f["filename"] == path and "patch" in f:
                spans = []
                heads = r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@"
                for m in re.finditer(heads, f["patch"], re.M):
                    first, count = int(m.group(1)), int(m.group(2) or 1)
                    spans.append((first, first + count - 1))
                return spans
        return []

    def _review(
        self, number: int, method: str, parts: list[str], url: Any, body: bytes, poster: str
    ) -> tuple[int, dict[str, str], Any]:
        """The pull request review endpoints: files, reviews, a review's comments."""
        if len(parts) == 6 and parts[5] == "files" and method == "GET":
            return self._page(url, self.files.get(number, []))
        if len(parts) == 6 and parts[5] == "reviews" and method == "GET":
            return self._page(url, self.reviews.get(number, []))
        if len(parts) == 6 and parts[5] == "reviews" and method == "POST":
            if self.mode == "forbidden":
                return 403, {}, {"message": "Resource not accessible by integration"}
            data = json.loads(body)
            if data.get("event") != "COMMENT" or not data.get("body"):
                return 422, {}, {"message": "Unprocessable Entity"}
            for c in data.get("comments", []):
                assert len(c["body"]) < 65_536
                first = c.get("start_line", c["line"])
                spans = self._right_side(number, c["path"])
                if c.get("side") != "RIGHT" or not any(
                    lo <= first <= c["line"] <= hi for lo, hi in spans
                ):
                    unresolved = {
                        "message": "Unprocessable Entity",
                        "errors": ["Line could not be resolved"],
                    }
                    return 422, {}, unresolved
            self.add_review(number, data["body"], poster, data.get("comments", []))
            review = self.reviews[number][-1]
            review["commit_id"] = data.get("commit_id")
            return 200, {}, review
        if len(parts) == 7 and parts[5] == "reviews" and method == "PUT":
            for review in self.reviews.get(number, []):
                if review["id"] == int(parts[6]):
                    if review["user"]["login"] != poster:
                        return 403, {}, {"message": "Resource not accessible by integration"}
                    review["body"] = json.loads(body)["body"]
                    return 200, {}, review
            return 404, {}, {"message": "Not Found"}
        if len(parts) == 8 and parts[5] == "reviews" and parts[7] == "comments" and method == "GET":
            return self._page(url, self.comments_of(int(parts[6])))
        return 404, {}, {"message": "Not Found"}

    def handle(
        self, method: str, raw_path: str, auth: str | None, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        self.log.append((method, raw_path, auth))
        token = (auth or "").removeprefix("Bearer ")
        if token not in self.users:
            return 401, {}, {"message": "Bad credentials"}
        poster = self.users[token] or self.posts_as[token]
        if self.mode == "echo-token":
            return 422, {}, {"message": f"Validation failed for {auth}"}
        if self.mode == "down":
            return 503, {}, {"message": "Service unavailable"}
        if self.mode in ("flaky", "ratelimit") and self.failures > 0:
            self.failures -= 1
            if self.mode == "flaky":
                return 502, {}, {"message": "Bad gateway"}
            return (
                403,
                {"Retry-After": "3"},
                {"message": "You have exceeded a secondary rate limit"},
            )
        url = urlsplit(raw_path)
        parts = url.path.strip("/").split("/")
        if url.path == "/user" and method == "GET":
            login = self.users[token]
            if login is None:
                return 403, {}, {"message": "Resource not accessible by integration"}
            return 200, {}, {"login": login, "id": 1}
        if (
            len(parts) == 6
            and parts[:1] == ["repos"]
            and parts[3] == "issues"
            and parts[5] == "comments"
        ):
            number = int(parts[4])
            if f"{parts[1]}/{parts[2]}" != REPO:
                return 404, {}, {"message": "Not Found"}
            if method == "GET":
                query = parse_qs(url.query)
                page = int(query.get("page", ["1"])[0])
                items = self.comments.get(number, [])
                start = (page - 1) * self.page_size
                chunk = items[start : start + self.page_size]
                headers = {}
                last = max(1, -(-len(items) // self.page_size))
                if page < last:
                    base = f"{self.url}{url.path}?per_page={self.page_size}"
                    headers["Link"] = (
                        f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
                    )
                return 200, headers, chunk
            if method == "POST":
                if self.mode == "forbidden":
                    return 403, {}, {"message": "Resource not accessible by integration"}
                text = json.loads(body)["body"]
                assert len(text) < 65_536
                cid = self.add(number, text, poster)
                return 201, {}, {"id": cid, "body": text}
        if len(parts) == 6 and parts[3:5] == ["pulls", "comments"] and method == "DELETE":
            found = self.review_comments.get(int(parts[5]))
            if found is None:
                return 404, {}, {"message": "Not Found"}
            if found["user"]["login"] != poster:
                return 403, {}, {"message": "Resource not accessible by integration"}
            del self.review_comments[int(parts[5])]
            return 204, {}, None
        if (
            len(parts) >= 6
            and parts[:1] == ["repos"]
            and parts[3] == "pulls"
            and parts[4].isdigit()
        ):
            if f"{parts[1]}/{parts[2]}" != REPO:
                return 404, {}, {"message": "Not Found"}
            return self._review(int(parts[4]), method, parts, url, body, poster)
        if len(parts) == 6 and parts[3:5] == ["issues", "comments"] and method == "PATCH":
            if self.mode == "forbidden":
                return 403, {}, {"message": "Resource not accessible by integration"}
            cid = int(parts[5])
            for items in self.comments.values():
                for c in items:
                    if c["id"] == cid:
                        if c["user"]["login"] != poster:  # as for a token that may not
                            return 403, {}, {"message": "Resource not accessible by integration"}
                        c["body"] = json.loads(body)["body"]
                        return 200, {}, c
            return 404, {}, {"message": "Not Found"}
        return 404, {}, {"message": "Not Found"}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                status, headers, data = state.handle(
                    self.command, self.path, self.headers.get("Authorization"), body
                )
            payload = b"" if status == 204 else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(cli_comment, "sleep", waited.append)
    return waited


@pytest.fixture(scope="module")
def example() -> Report:
    return scan(EXAMPLE)  # against its committed agent definition


def _report_file(tmp_path: Path, report: Report) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_dict(report)), encoding="utf-8")
    return path


def _env(tmp_path: Path, github: FakeGitHub, number: int = 7) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"number": number, "head": {"sha": "a" * 40}}}),
        encoding="utf-8",
    )
    summary = tmp_path / "summary.md"
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": github.url,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_ACTIONS": "true",
    }


def _comment(report: Path, env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, ["comment", "--from", str(report), *args], env=env)


# -- the sticky comment -----------------------------------------------------------------------


def test_creates_one_comment_then_updates_it_in_place(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    for i in range(5):  # other people's comments, over three pages
        github.add(7, f"comment {i}")
    report = _report_file(tmp_path, example)
    env = _env(tmp_path, github)
    first = _comment(report, env)
    assert first.exit_code == 0, first.output
    assert "created comment" in first.output
    mine = [b for b in github.bodies(7) if b.startswith(MARKER)]
    assert len(mine) == 1 and "## archreview: the gate " in mine[0]
    # file links are absolute blob URLs at the pull request's head
    assert f"https://github.com/{REPO}/blob/{'a' * 40}/fixtures/repos/chariot-platform/" in mine[0]
    # a second run with a changed report updates the same comment, never a second one
    more = replace(example, findings=example.findings[:-3])
    second = _comment(_report_file(tmp_path, more), env)
    assert second.exit_code == 0, second.output
    assert "updated comment" in second.output
    assert len(github.bodies(7)) == 6
    assert sum(b.startswith(MARKER) for b in github.bodies(7)) == 1
    # the listing followed the Link header through every page
    gets = [p for m, p, _ in github.log if m == "GET"]
    assert any("page=3" in p for p in gets)
    assert [m for m, _, _ in github.log].count("PATCH") == 1
    # the token went in the Authorization header and never to the output
    assert all(a == f"Bearer {TOKEN}" for _, _, a in github.log)
    assert TOKEN not in first.output + second.output
    assert sleeps == []


def test_unchanged_body_is_not_rewritten(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    report = _report_file(tmp_path, example)
    env = _env(tmp_path, github)
    assert _comment(report, env).exit_code == 0
    again = _comment(report, env)
    assert again.exit_code == 0 and "unchanged comment" in again.output
    assert [m for m, _, _ in github.log].count("PATCH") == 0


def test_forbidden_writes_the_job_summary_and_exits_0(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.mode = "forbidden"
    env = _env(tmp_path, github)
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 0, result.output
    assert "::notice title=archreview::" in result.output and "fork" in result.output
    assert TOKEN not in result.output
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "## archreview: the gate " in summary
    assert github.bodies(7) == []


def test_server_errors_are_retried_with_backoff(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.mode = "flaky"
    result = _comment(_report_file(tmp_path, example), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    assert sleeps == [1.0, 2.0]  # exponential, injected: the test does not wait
    assert sum(b.startswith(MARKER) for b in github.bodies(7)) == 1


def test_secondary_rate_limit_waits_retry_after(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.mode = "ratelimit"
    result = _comment(_report_file(tmp_path, example), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    assert sleeps == [3.0, 3.0]
    assert len(github.bodies(7)) == 1


def test_persistent_failure_is_bounded_and_reported(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.mode = "down"
    env = _env(tmp_path, github)
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 3
    assert len(github.log) == 5 and len(sleeps) == 4  # bounded
    assert "HTTP 503" in result.output and TOKEN not in result.output
    assert "archreview" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


def test_the_token_is_redacted_from_errors(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.mode = "echo-token"
    result = _comment(_report_file(tmp_path, example), _env(tmp_path, github))
    assert result.exit_code == 3
    assert "Validation failed for Bearer ***" in result.output
    assert TOKEN not in result.output


def test_bad_credentials_are_a_credentials_error(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    env = {**_env(tmp_path, github), "GITHUB_TOKEN": "wrong"}
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 2 and "HTTP 401" in result.output


def test_flags_override_the_environment(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    result = _comment(
        _report_file(tmp_path, example), env, "--pr", "12", "--repo", REPO, "--api-url", github.url
    )
    assert result.exit_code == 0, result.output
    assert len(github.bodies(12)) == 1


def test_usage_errors(tmp_path: Path, github: FakeGitHub, example: Report) -> None:
    report = _report_file(tmp_path, example)
    base = _env(tmp_path, github)
    assert _comment(report, {**base, "GITHUB_TOKEN": ""}).exit_code == 2
    assert _comment(report, {**base, "GITHUB_REPOSITORY": ""}).exit_code == 2
    assert _comment(report, {**base, "GITHUB_EVENT_PATH": ""}).exit_code == 2
    assert _comment(report, {**base, "GITHUB_REPOSITORY": "../../etc"}).exit_code == 2
    assert _comment(report, {**base, "GITHUB_API_URL": "file:///etc/passwd"}).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 99}', encoding="utf-8")
    assert _comment(bad, base).exit_code == 2
    bad.write_text("not json", encoding="utf-8")
    assert _comment(bad, base).exit_code == 2
    assert _comment(tmp_path / "missing.json", base).exit_code == 2
    assert github.log == []


# -- the body ---------------------------------------------------------------------------------


def _many(example: Report, n: int) -> Report:
    base = next(f for f in example.findings if f.resource and f.suppressed is None)
    severities = list(Severity)
    findings: list[Finding] = []
    for i in range(n):
        findings.append(
            replace(
                base,
                severity=severities[i % 5],
                resource=f"Resource{i:05d}",
                message=f"finding number {i} " + "x" * 80,
                fingerprint=f"{i:032x}",
                new=(i % 7 == 0),
            )
        )
    return replace(example, findings=tuple(findings), diff_base="origin/main")


def test_body_stays_under_the_limit_with_new_findings_first(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    big = _many(example, 3000)
    assert len(render_markdown(big)) > 65_536
    result = _comment(_report_file(tmp_path, big), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    (body,) = github.bodies(7)
    assert len(body) < 65_536
    assert body.startswith(MARKER)
    assert "Left out to stay within GitHub's comment limit" in body
    assert "### What this pull request introduces: 429 new findings" in body
    assert body.index("What this pull request introduces") < body.index("already there")
    # the most severe new findings made it in
    assert "Resource00000" in body  # i=0: critical and new
    assert body.count("<details>") == body.count("</details>")


def _platform_pr(example: Report, new_modules: int, old_modules: int) -> Report:
    """A pull request adding `new_modules` services, each with a new critical wildcard policy,
    to a platform of `old_modules` modules that each have an existing medium finding."""
    base = next(f for f in example.findings if f.resource and f.suppressed is None)
    module = example.modules[0]
    findings: list[Finding] = []
    modules = []
    for i in range(max(new_modules, old_modules)):
        name = f"services/svc{i:03d}"
        modules.append(replace(module, name=name, path=name))
        if i < new_modules:
            findings.append(
                replace(
                    base,
                    rule_id="AR-IAM-001",
                    title="IAM policy grants every action on every resource",
                    severity=Severity.CRITICAL,
                    module=name,
                    file=f"{name}/template.yaml",
                    line=12,
                    resource="ServiceRole",
                    property="Policies.AllowAll.PolicyDocument.Statement.Star.Action",
                    message=f"ServiceRole of {name} allows Action '*' on Resource '*'",
                    fingerprint=f"new{i:029x}",
                    new=True,
                )
            )
        if i < old_modules:
            findings.append(
                replace(
                    base,
                    severity=Severity.MEDIUM,
                    module=name,
                    file=f"{name}/old.yaml",
                    resource=f"Queue{i:03d}",
                    message="an existing medium finding " + "y" * 60,
                    fingerprint=f"old{i:029x}",
                    new=False,
                )
            )
    return replace(
        example, findings=tuple(findings), modules=tuple(modules), diff_base="origin/main"
    )


@pytest.mark.parametrize(("new_modules", "old_modules"), [(300, 300), (20, 700)])
def test_a_large_pull_request_comment_leads_with_every_new_finding(
    tmp_path: Path,
    github: FakeGitHub,
    example: Report,
    sleeps: list[float],
    new_modules: int,
    old_modules: int,
) -> None:
    """Issue 18, item 1: 300 services each with a new critical wildcard policy, and a PR on a
    700-module platform: the comment counts every new finding by rule and severity, lists them
    as rows while they fit, points at the rest, and only then shows the tables."""
    report = _platform_pr(example, new_modules, old_modules)
    env = {**_env(tmp_path, github), "GITHUB_RUN_ID": "4242"}
    result = _comment(_report_file(tmp_path, report), env, "--sarif-uploaded")
    assert result.exit_code == 0, result.output
    (body,) = github.bodies(7)
    assert len(body) < 65_536
    assert "## archreview: the gate failed against `origin/main`" in body
    assert f"**Gate failed**: {new_modules} new findings at or above high." in body
    intro = body.index(f"### What this pull request introduces: {new_modules} new findings")
    assert intro < body.index("Scores by layer") < body.index("already there")
    assert intro < 2_000  # the lead of the comment, not after the tables
    # the count per rule and severity names every one of them
    assert f"AR-IAM-001.md) | {new_modules} | IAM policy grants" in body
    rows = [
        line
        for line in body.split("\n")
        if line.startswith("| critical | [AR-IAM-001]") and "/template.yaml:12]" in line
    ]
    named = [i for i in range(new_modules) if f"services/svc{i:03d}/template.yaml" in body]
    assert len(rows) == len(named) >= min(new_modules, 100)
    if len(rows) < new_modules:  # the rest: "+N more" with the code scanning alerts of this PR
        assert (
            f"+{new_modules - len(rows)} more: every finding is in [the code scanning alerts of "
            f"this pull request](https://github.com/{REPO}/security/code-scanning?query="
            "is%3Aopen+pr%3A7)"
        ) in body
    assert body.count("<details>") == body.count("</details>")
    assert body.count("```") % 2 == 0
    # the job summary holds the whole report, every new finding as a row
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert (
        sum(
            line.startswith("| critical | [AR-IAM-001]") and "/template.yaml:12]" in line
            for line in summary.split("\n")
        )
        == new_modules
    )


def test_more_links_to_the_run_when_the_sarif_upload_did_not_happen(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    report = _platform_pr(example, 900, 0)
    env = {**_env(tmp_path, github), "GITHUB_RUN_ID": "4242"}
    assert _comment(_report_file(tmp_path, report), env).exit_code == 0
    (body,) = github.bodies(7)
    assert (
        f"every finding is in [this run's job summary and its report artifact]"
        f"(https://github.com/{REPO}/actions/runs/4242)"
    ) in body
    assert "code-scanning" not in body


def test_repository_text_makes_no_link_mention_or_reference(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    """Issue 18, item 8: bare URLs, `GH-1`, `#12` and `@user` from the repository are shown
    but GitHub links none of them (a ZWJ inside each)."""
    base = next(f for f in example.findings if f.resource and f.suppressed is None)
    hostile = replace(
        base,
        severity=Severity.CRITICAL,
        new=True,
        message="see https://evil.example/x and www.evil.example, GH-1, #12, @acme/admins, "
        "x@evil.example",
        resource="see https://evil.example/y|GH-2",
        fingerprint="f" * 32,
    )
    report = replace(example, findings=(hostile,), diff_base="origin/main")
    assert _comment(_report_file(tmp_path, report), _env(tmp_path, github)).exit_code == 0
    (body,) = github.bodies(7)
    for raw in ("https://evil", "www.evil", "GH-1", "GH-2", "#12", "@acme", "@evil"):
        assert raw not in body, raw
    assert "https:\u200d//evil.example/x" in body and "GH\u200d-1" in body


# -- whose comment is ours (issue 18, item 3) ----------------------------------------------------


def test_a_marked_comment_by_another_user_is_left_alone_and_ours_is_created(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    planted = f"{MARKER}\nLGTM, approved by the architecture board"
    theirs = github.add(7, planted, "mallory")
    legacy = github.add(7, f"{LEGACY_MARKER}\nan old report", "mallory")
    env = _env(tmp_path, github)
    first = _comment(_report_file(tmp_path, example), env)
    assert first.exit_code == 0, first.output
    assert "created comment" in first.output and "fork" not in first.output
    bodies = github.comments[7]
    assert [c["body"] for c in bodies if c["id"] in (theirs, legacy)] == [
        planted,
        f"{LEGACY_MARKER}\nan old report",
    ]
    ours = [c for c in bodies if c["user"]["login"] == ACTIONS_BOT]
    assert len(ours) == 1 and ours[0]["body"].startswith(MARKER)
    # the next run updates ours, still leaving theirs alone; nothing was ever PATCHed but ours
    second = _comment(_report_file(tmp_path, replace(example, findings=())), env)
    assert "updated comment" in second.output
    assert len(github.comments[7]) == 3
    patched = [p for m, p, _ in github.log if m == "PATCH"]
    assert patched == [f"/repos/{REPO}/issues/comments/{ours[0]['id']}"]


def test_the_marker_carries_the_category(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    report = _report_file(tmp_path, example)
    env = _env(tmp_path, github)
    for category in ("archreview", "archreview-infra", "archreview", "archreview-infra"):
        assert _comment(report, env, "--category", category).exit_code == 0
    bodies = github.bodies(7)
    assert len(bodies) == 2
    assert bodies[0].startswith(marker("archreview") + "\n")
    assert bodies[1].startswith("<!-- archreview:report category=archreview-infra -->\n")
    # a category cannot end the HTML comment or break the marker's line
    assert (
        marker("x --> <b>@team\n")
        == "<!-- archreview:report category=x%20--%3E%20%3Cb%3E%40team%0A -->"
    )


def test_our_comment_with_the_marker_of_older_versions_is_adopted(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    old = github.add(7, f"{LEGACY_MARKER}\nthe report of 0.2", ACTIONS_BOT)
    result = _comment(_report_file(tmp_path, example), _env(tmp_path, github))
    assert "updated comment" in result.output
    assert github.bodies(7)[0].startswith(MARKER) and github.comments[7][0]["id"] == old


def test_a_personal_token_posts_as_the_login_get_user_names(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    bots = github.add(7, f"{MARKER}\nthe bot's", ACTIONS_BOT)
    mine = github.add(7, f"{MARKER}\nmine", "octocat")
    env = {**_env(tmp_path, github), "GITHUB_TOKEN": PERSONAL}
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 0, result.output
    assert f"updated comment {mine}" in result.output and "as octocat" in result.output
    assert github.bodies(7)[0] == f"{MARKER}\nthe bot's" and github.comments[7][0]["id"] == bots
    assert ("GET", "/user", f"Bearer {PERSONAL}") in github.log


def test_an_app_token_posts_as_the_author_it_is_given(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    """An installation token posts as `<app-slug>[bot]` and may not read GET /user: the
    Action's comment-author input names it. Without it, the token is taken for the workflow's
    and the app's own comment is not found (a second one is created, nothing is overwritten)."""
    ours = github.add(7, f"{MARKER}\nthe app's", "acme-reviewer[bot]")
    env = {**_env(tmp_path, github), "GITHUB_TOKEN": APP}
    result = _comment(_report_file(tmp_path, example), env, "--author", "acme-reviewer[bot]")
    assert result.exit_code == 0, result.output
    assert f"updated comment {ours}" in result.output
    assert not any(p == "/user" for _, p, _ in github.log)
    assert len(github.bodies(7)) == 1


def test_who_posts_cannot_be_told_is_a_usage_error_not_a_fork(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    github.users["ghp_revoked0123456789"] = None  # a personal token GET /user refuses
    env = {**_env(tmp_path, github), "GITHUB_TOKEN": "ghp_revoked0123456789"}
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 2
    assert "--author" in result.output and "fork" not in result.output
    assert github.bodies(7) == []
    assert "## archreview: the gate" in Path(env["GITHUB_STEP_SUMMARY"]).read_text("utf-8")


def test_render_body_guard() -> None:
    report = scan(EXAMPLE)
    body = cli_comment.render_body(report, limit=2_000)
    assert len(body) < 2_000 and body.startswith(MARKER)


# -- the JSON carries what the comment shows --------------------------------------------------


def test_json_round_trip_renders_the_same_markdown(example: Report) -> None:
    data = json.loads(json.dumps(report_dict(example)))
    loaded = load_report(data)
    assert report_dict(loaded) == data
    assert render_markdown(loaded) == render_markdown(example)
    pr = replace(
        example,
        diff_base="origin/main",
        findings=tuple(replace(f, new=i % 2 == 0) for i, f in enumerate(example.findings)),
    )
    loaded_pr = load_report(json.loads(json.dumps(report_dict(pr))))
    assert loaded_pr.diff_base == "origin/main"
    assert render_markdown(loaded_pr) == render_markdown(pr)


# -- the client -------------------------------------------------------------------------------


def test_next_link() -> None:
    header = (
        '<https://api.github.com/repositories/1/issues/7/comments?page=2>; rel="next", '
        '<https://api.github.com/repositories/1/issues/7/comments?page=5>; rel="last"'
    )
    assert next_link(header) == "https://api.github.com/repositories/1/issues/7/comments?page=2"
    assert next_link('<https://x/y?page=1>; rel="prev"') is None
    assert next_link(None) is None


def test_the_token_never_follows_a_link_to_another_host(github: FakeGitHub) -> None:
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    with pytest.raises(GitHubError) as err:
        client.request("GET", "https://evil.example/steal")
    assert "refusing" in str(err.value) and TOKEN not in str(err.value)
    assert github.log == []


def test_network_errors_are_retried_then_reported() -> None:
    waited: list[float] = []
    client = GitHub(TOKEN, "http://127.0.0.1:9", sleep=waited.append, max_attempts=3, timeout=2)
    with pytest.raises(GitHubError) as err:
        client.request("GET", "/repos/acme/platform/issues/1/comments")
    assert err.value.status == 0 and len(waited) == 2 and TOKEN not in str(err.value)


def test_upsert_matches_only_a_comment_that_starts_with_the_marker(github: FakeGitHub) -> None:
    github.add(3, f"> quoting the bot:\n> {MARKER}\n> grade F", ACTIONS_BOT)
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    action, cid = upsert_comment(client, REPO, 3, "grade A", author=ACTIONS_BOT)
    assert action == "created"
    assert github.bodies(3)[1] == f"{MARKER}\ngrade A"
    action2, cid2 = upsert_comment(client, REPO, 3, "grade B", author=ACTIONS_BOT)
    assert (action2, cid2) == ("updated", cid)
    assert github.bodies(3)[0].startswith("> quoting")


# -- hostile or broken servers: the token stays home, nothing unbounded, nothing hangs ---------
#
# Each server below is a real HTTP server on 127.0.0.1 (port 0) in a thread, scripted by a
# function of the request. A second server on another port stands for "another host": it
# records every request it gets, and must get none.


@dataclass
class Scripted:
    url: str
    port: int
    log: list[tuple[str, str, str | None]]  # method, path, Authorization header
    stop: threading.Event = field(default_factory=threading.Event)  # set at teardown


ReplyFn = Any  # Callable[[BaseHTTPRequestHandler, Scripted], None]


@contextmanager
def _scripted(reply: ReplyFn) -> Iterator[Scripted]:
    log: list[tuple[str, str, str | None]] = []
    box: list[Scripted] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            log.append((self.command, self.path, self.headers.get("Authorization")))
            with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up on us
                reply(self, box[0])

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a handler still trickling must not hold up the teardown
    port = server.server_address[1]
    box.append(Scripted(f"http://127.0.0.1:{port}", port, log))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield box[0]
    finally:
        box[0].stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _send(handler: BaseHTTPRequestHandler, status: int, data: Any, **headers: str) -> None:
    payload = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    for k, v in headers.items():
        handler.send_header(k.replace("_", "-"), v)
    handler.end_headers()
    handler.wfile.write(payload)


def _recorder(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
    _send(handler, 200, [])


@pytest.fixture
def elsewhere() -> Iterator[Scripted]:
    """Another host (another port): whatever reaches it was sent where the token must not go."""
    with _scripted(_recorder) as server:
        yield server


def _bounded(call: Any, limit: float = 30.0) -> Any:
    """Run `call` in a thread; a hang guard, not a timing test: fail if it has not returned
    after `limit` seconds. Returns what it returned or raised."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as err:  # handed back to the test
            box.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still waiting after {limit} s"
    return box[0]


LOCATIONS = [
    "{other}/steal",  # another port
    "//127.0.0.1:{other_port}/steal",  # scheme-relative
    "http://localhost:{port}/repos/acme/platform/issues/7/comments",  # another host name
    "http://someone@127.0.0.1:{port}/repos/acme/platform/issues/7/comments",  # credentials
    "https://127.0.0.1:{port}/repos/acme/platform/issues/7/comments",  # another scheme
]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", LOCATIONS)
def test_a_redirect_away_from_the_api_host_is_refused(
    elsewhere: Scripted, status: int, location: str
) -> None:
    def redirect(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        target = location.format(other=elsewhere.url, other_port=elsewhere.port, port=me.port)
        _send(handler, status, {"message": "Moved"}, Location=target)

    with _scripted(redirect) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        with pytest.raises(GitHubError) as err:
            list(client.comments(REPO, 7))
        with pytest.raises(GitHubError):
            client.create_comment(REPO, 7, "hello")
    assert "refusing to send the token" in str(err.value) and TOKEN not in str(err.value)
    assert err.value.status == status
    assert elsewhere.log == []  # nothing reached another host, with or without a token
    assert len(api.log) == 2 and client.requests == 2  # one request each, not retried


def test_the_comment_command_refuses_a_redirect_to_another_host(
    tmp_path: Path, elsewhere: Scripted, example: Report, sleeps: list[float]
) -> None:
    def redirect(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        _send(handler, 302, {}, Location=f"{elsewhere.url}/repos/acme/platform/issues/7/comments")

    with _scripted(redirect) as api:
        env = {**_env(tmp_path, FakeGitHub(url=api.url)), "GITHUB_ACTIONS": "false"}
        result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 3, result.output
    assert "refusing to send the token to 127.0.0.1" in result.stderr
    assert TOKEN not in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert elsewhere.log == []
    assert "archreview" in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_within_the_api_host_is_followed_a_few_times(status: int) -> None:
    def reply(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        if handler.path.startswith("/moved"):
            _send(handler, 200, [{"id": 5, "body": "hi"}])
        else:
            # an absolute URL of the same origin, spelt with an upper-case scheme
            _send(handler, status, {}, Location=f"HTTP://127.0.0.1:{me.port}/moved?page=1")

    with _scripted(reply) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        assert list(client.comments(REPO, 7)) == [{"id": 5, "body": "hi"}]
    assert [p.split("?")[0] for _, p, _ in api.log] == [
        "/repos/acme/platform/issues/7/comments",
        "/moved",
    ]
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in api.log)


def test_a_redirect_loop_stops() -> None:
    def loop(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        _send(handler, 307, {}, Location=f"/again{len(me.log)}")

    with _scripted(loop) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        with pytest.raises(GitHubError) as err:
            client.request("GET", "/x")
    assert "more than 5 redirects" in str(err.value)
    assert len(api.log) == 6 == client.requests


def test_a_pagination_link_to_another_host_is_refused(elsewhere: Scripted) -> None:
    def page(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        link = f'<{elsewhere.url}/repos/acme/platform/issues/7/comments?page=2>; rel="next"'
        _send(handler, 200, [{"id": 1, "body": "first page"}], Link=link)

    with _scripted(page) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        with pytest.raises(GitHubError) as err:
            list(client.comments(REPO, 7))
    assert "refusing" in str(err.value) and len(api.log) == 1
    assert elsewhere.log == []


def test_urls_in_a_response_body_are_never_requested(elsewhere: Scripted) -> None:
    """The client builds every URL from the configured API URL and the ids it reads; the many
    absolute URLs a GitHub answer carries are data, never followed."""
    comments = [
        {
            "id": 41,
            "body": f"{MARKER}\nold",
            "url": f"{elsewhere.url}/repos/acme/platform/issues/comments/41",
            "html_url": f"{elsewhere.url}/acme/platform/pull/7#issuecomment-41",
            "user": {"login": "github-actions[bot]", "url": f"{elsewhere.url}/users/x"},
        }
    ]

    def reply(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        if handler.command == "GET":
            _send(handler, 200, comments)
        else:
            _send(handler, 200, {**comments[0], "body": "new"})

    with _scripted(reply) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        assert upsert_comment(client, REPO, 7, "new", author=ACTIONS_BOT) == ("updated", 41)
    assert [(m, p) for m, p, _ in api.log] == [
        ("GET", "/repos/acme/platform/issues/7/comments?per_page=100"),
        ("PATCH", "/repos/acme/platform/issues/comments/41"),
    ]
    assert elsewhere.log == []


@pytest.mark.parametrize(
    "answer",
    [
        b"<html>not json</html>",
        b"[" * 100_000,  # nested past the parser's recursion limit
        b'{"comments": []}',  # an object where a list is expected
        # an id not a number, in a comment that is ours
        b'[{"id": "41/../../x", "body": "<!-- archreview:report category=archreview -->", '
        b'"user": {"login": "github-actions[bot]"}}]',
        b'[{"id": true, "body": "<!-- archreview:report -->", '
        b'"user": {"login": "github-actions[bot]"}}]',
        b"\xff\xfe",
    ],
)
def test_a_malformed_answer_is_an_error_not_a_crash(answer: bytes) -> None:
    def reply(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    with _scripted(reply) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        with pytest.raises(GitHubError) as err:
            upsert_comment(client, REPO, 7, "body", author=ACTIONS_BOT)
    assert "\n" not in str(err.value) and TOKEN not in str(err.value)
    assert [m for m, _, _ in api.log] == ["GET"]  # nothing written on the strength of it


def _trickle_body(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
    """Headers at once, then the body one byte at a time, a second apart (never finishes in
    time: each read is well within the socket timeout, the whole is not)."""
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.flush()
    for _ in range(1000):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        if me.stop.wait(1.0):
            return


def _trickle_headers(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
    """The status line and headers one byte a second: urllib's per-read timeout never fires."""
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 500 + b"\r\n\r\n"
    for byte in head:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        if me.stop.wait(1.0):
            return


def _silent(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
    """Accepts the request and says nothing until the test ends."""
    me.stop.wait(120)


@pytest.mark.parametrize("server", [_trickle_body, _trickle_headers, _silent])
def test_a_slow_server_meets_the_whole_request_deadline(
    server: ReplyFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHREVIEW_GITHUB_DEADLINE", "2")
    with _scripted(server) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        assert client.deadline == 2.0
        outcome = _bounded(lambda: client.request("GET", "/repos/acme/platform/issues/7/comments"))
    assert isinstance(outcome, GitHubError), outcome  # an error, not a result
    assert "no complete answer within 2 s" in str(outcome)
    assert len(api.log) == 1  # a missed deadline is final: no retry multiplies the wait


def test_the_comment_command_stops_a_trickling_server(
    tmp_path: Path, example: Report, sleeps: list[float]
) -> None:
    with _scripted(_trickle_body) as api:
        env = {
            **_env(tmp_path, FakeGitHub(url=api.url)),
            "ARCHREVIEW_GITHUB_DEADLINE": "2",
        }
        result = _bounded(lambda: _comment(_report_file(tmp_path, example), env))
    assert result.exit_code == 3, result.output
    assert "no complete answer within 2 s" in result.stderr
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


def test_a_bad_deadline_setting_is_a_usage_error(
    tmp_path: Path, github: FakeGitHub, example: Report
) -> None:
    env = {**_env(tmp_path, github), "ARCHREVIEW_GITHUB_DEADLINE": "soon"}
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 2 and "ARCHREVIEW_GITHUB_DEADLINE" in result.output
    assert github.log == []


def _endless(declare: bool) -> ReplyFn:
    def reply(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        """400 MB of a JSON array, made as it is sent (the server holds none of it)."""
        handler.send_response(200)
        if declare:
            handler.send_header("Content-Length", str(400 * 1024 * 1024))
        else:
            handler.send_header("Connection", "close")  # the body ends when the socket does
        handler.end_headers()
        handler.wfile.write(b"[")
        chunk = b'{"id": 1, "body": "x"},' * 4096
        for _ in range(400 * 1024 * 1024 // len(chunk)):
            handler.wfile.write(chunk)

    return reply


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "until-close"])
def test_an_oversized_answer_is_abandoned(declare: bool) -> None:
    with _scripted(_endless(declare)) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        outcome = _bounded(lambda: client.request("GET", "/repos/acme/platform/issues/7/comments"))
    assert isinstance(outcome, GitHubError), outcome
    assert f"larger than {MAX_BODY} bytes" in str(outcome)
    # bounded by construction: never more than the cap and one chunk was read (and held)
    assert client.bytes_read <= MAX_BODY + CHUNK
    if declare:  # a declared length over the cap is refused before reading the body
        assert client.bytes_read == 0
    else:
        assert client.bytes_read > MAX_BODY  # it did read up to the cap, then stopped
    assert len(api.log) == 1


def test_an_oversized_error_body_is_cut_to_its_message() -> None:
    def reply(handler: BaseHTTPRequestHandler, me: Scripted) -> None:
        handler.send_response(422)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'{"message": "')
        for _ in range(50 * 16):  # 50 MB, made as it is sent
            handler.wfile.write(b"v" * 65536)
        handler.wfile.write(b'"}')

    with _scripted(reply) as api:
        client = GitHub(TOKEN, api.url, sleep=lambda s: None)
        outcome = _bounded(lambda: client.request("GET", "/x"))
    assert isinstance(outcome, GitHubError) and outcome.status == 422
    assert client.bytes_read <= MAX_ERROR_BODY + CHUNK
    assert len(str(outcome)) < 400


MALFORMED_TOKENS = [
    "ghs_SECRETPART\nX-Injected: yes",  # a header line of its own
    "ghs_SECRETPART\r\nX-Injected: yes",
    "ghs_SECRETPART X-Injected",  # a space
    "ghs_SECRETPARTé",  # not ASCII
    "ghs_SECRETPART\u2028more",  # a Unicode line separator
    "ghs_SECRETPART\x1b[31m",  # a terminal escape
    "ghs_SECRETPART" + "A" * 5000,  # too long to be a token
]


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_a_malformed_token_is_refused_without_showing_it(
    tmp_path: Path, github: FakeGitHub, example: Report, token: str
) -> None:
    with pytest.raises(GitHubError) as err:
        GitHub(token, github.url)
    assert "SECRETPART" not in str(err.value) and "malformed" in str(err.value)
    env = {**_env(tmp_path, github), "GITHUB_TOKEN": token}
    result = _comment(_report_file(tmp_path, example), env)
    assert result.exit_code == 2, result.output
    assert "malformed" in result.stderr and "it is not shown" in result.stderr
    assert "SECRETPART" not in result.output and "Injected" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2  # click's "Error:" line, no traceback
    assert isinstance(result.exception, SystemExit)
    assert github.log == []  # nothing was sent


def test_a_malformed_token_in_a_real_process_leaves_no_traceback(
    tmp_path: Path, github: FakeGitHub, example: Report
) -> None:
    env = {
        **os.environ,
        **_env(tmp_path, github),
        "GITHUB_TOKEN": "ghs_SECRETPART\r\nX-Injected: yes",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "comment",
            "--from",
            str(_report_file(tmp_path, example)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "SECRETPART" not in proc.stderr + proc.stdout
    assert "malformed" in proc.stderr
    assert github.log == []


# -- files inside git submodules (issue 18, item 7) ----------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@example.com",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@example.com",
        },
    )
    return done.stdout.strip()


def test_comment_links_for_submodule_files_point_at_the_submodules_repository(
    tmp_path: Path, github: FakeGitHub, sleeps: list[float]
) -> None:
    """A finding in a submodule's file links to that line in the submodule's repository at the
    commit the super-repository records (the head commit of this repository does not hold the
    file); a finding of the super-repository still links at the head commit."""
    queue = (FIXTURES / "templates" / "AR-EVT-003" / "fail.yaml").read_text(encoding="utf-8")
    inner = tmp_path / "nebula"
    inner.mkdir()
    (inner / "template.yaml").write_text(queue, encoding="utf-8")
    _git(inner, "init", "-q", "-b", "main")
    _git(inner, "add", "-A")
    _git(inner, "commit", "-qm", "nebula")
    recorded = _git(inner, "rev-parse", "HEAD")
    top = tmp_path / "platform"
    (top / "infra").mkdir(parents=True)
    (top / "infra" / "template.yaml").write_text(queue, encoding="utf-8")
    _git(top, "init", "-q", "-b", "main")
    _git(top, "submodule", "add", "-q", str(inner), "modules/nebula")
    gitmodules = (top / ".gitmodules").read_text(encoding="utf-8")
    (top / ".gitmodules").write_text(
        gitmodules.replace(str(inner), "https://github.com/acme/nebula.git"), encoding="utf-8"
    )
    _git(top, "add", "-A")
    _git(top, "commit", "-qm", "platform")
    report = scan(top)
    files = {f.file for f in report.findings}
    assert {"modules/nebula/template.yaml", "infra/template.yaml"} <= files
    report = replace(report, findings=tuple(replace(f, new=True) for f in report.findings))
    result = _comment(_report_file(tmp_path, report), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    (body,) = github.bodies(7)
    line = next(f.line for f in report.findings if f.file == "modules/nebula/template.yaml")
    assert (
        f"[modules/nebula/template.yaml:{line}]"
        f"(https://github.com/acme/nebula/blob/{recorded}/template.yaml#L{line})"
    ) in body
    assert f"https://github.com/{REPO}/blob/{'a' * 40}/infra/template.yaml#L" in body
    assert f"blob/{'a' * 40}/modules/nebula/" not in body.split("### Grade")[0]


# -- a pull request that switches the review off (issue 18, item 9) ------------------------------


def test_a_pull_request_that_excludes_everything_is_called_out(
    tmp_path: Path, github: FakeGitHub, sleeps: list[float]
) -> None:
    """The PR adds `exclude: ["**"]` to .archreview.yml: nothing is left to judge and the gate
    passes, but the comment names the changed review input and lists what it hides, before
    the grade."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    with (repo / ".archreview.yml").open("a", encoding="utf-8") as fh:
        fh.write('exclude: ["**"]\n')
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "switch the review off")
    out = tmp_path / "pr.json"
    args = ["scan", str(repo), "--diff-base", base, "--no-cache", "--format", "json"]
    done = CliRunner().invoke(main, [*args, "--output", str(out), "--quiet"])
    assert done.exit_code == 0, done.output  # nothing is judged: the gate itself passes
    hidden = json.loads(out.read_text(encoding="utf-8"))["summary"]["pr"]["hidden_by_inputs"]
    assert hidden
    result = _comment(out, _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    (body,) = github.bodies(7)
    section = body.index("### Review inputs this pull request changed")
    assert section < body.index("### Grade")
    assert "- profile: `.archreview.yml`" in body
    assert f"**These changes hide {len(hidden)} findings** that the base's review inputs" in body
    worst = max(hidden, key=lambda f: Severity(f["severity"]).rank)
    assert f"| {worst['severity']} | [{worst['rule_id']}]" in body[section:]


def test_a_new_critical_suppressed_in_the_same_change_is_a_new_accepted_risk(
    tmp_path: Path, github: FakeGitHub, example: Report, sleeps: list[float]
) -> None:
    """Issue 18, item 8: no longer "No new findings" and nothing else."""
    from reviewer.core.types import PrDiff, Suppression

    base = next(f for f in example.findings if f.resource and f.suppressed is None)
    accepted = replace(
        base,
        severity=Severity.CRITICAL,
        new=True,
        suppressed=Suppression("inline", "the platform team accepts it until the rewrite"),
        fingerprint="c" * 32,
    )
    report = replace(
        example,
        findings=(accepted,),
        diff_base="origin/main",
        pr=PrDiff(accepted_new=(accepted,)),
    )
    result = _comment(_report_file(tmp_path, report), _env(tmp_path, github))
    assert result.exit_code == 0, result.output
    (body,) = github.bodies(7)
    lead = body.split("### Grade")[0]
    assert "No new findings." in lead
    assert "**This pull request accepts 1 new risk**" in lead
    assert "accepted risk (inline): the platform team accepts it until the rewrite" in lead
    assert f"| critical | [{accepted.rule_id}]" in lead
