"""`archreview comment` and its GitHub client, against a real HTTP server on 127.0.0.1 that keeps
state and speaks the REST endpoints used (list with Link pagination, create, update), with a 403
mode, a 5xx-then-OK mode and a secondary-rate-limit mode."""

from __future__ import annotations

import json
import os
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

from reviewer import cli_comment, scan
from reviewer.cli import main
from reviewer.github import (
    CHUNK,
    MARKER,
    MAX_BODY,
    MAX_ERROR_BODY,
    GitHub,
    GitHubError,
    next_link,
    upsert_comment,
)
from reviewer.model import Finding, Report, Severity
from reviewer.output.json_report import load_report, report_dict
from reviewer.output.markdown import render_markdown

from .conftest import FIXTURES

EXAMPLE = FIXTURES / "repos" / "chariot-platform"
TOKEN = "ghs_testtoken0123456789abcdefSECRET"
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

    def add(self, number: int, body: str, login: str = "someone") -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append(
            {"id": self.next_id, "body": body, "user": {"login": login}}
        )
        return self.next_id

    def bodies(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get(number, [])]

    def handle(
        self, method: str, raw_path: str, auth: str | None, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        self.log.append((method, raw_path, auth))
        if auth != f"Bearer {TOKEN}":
            return 401, {}, {"message": "Bad credentials"}
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
                cid = self.add(number, text, "github-actions[bot]")
                return 201, {}, {"id": cid, "body": text}
        if len(parts) == 6 and parts[3:5] == ["issues", "comments"] and method == "PATCH":
            if self.mode == "forbidden":
                return 403, {}, {"message": "Resource not accessible by integration"}
            cid = int(parts[5])
            for items in self.comments.values():
                for c in items:
                    if c["id"] == cid:
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
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = _serve

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
    assert len(mine) == 1 and "## archreview: grade " in mine[0]
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
    assert "## archreview: grade " in summary
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
    assert "Left out to stay within the size limit" in body
    assert "### New findings (429)" in body
    assert body.index("### New findings") < body.index("already there")
    # the most severe new findings made it in
    assert "Resource00000" in body  # i=0: critical and new


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
    github.add(3, f"> quoting the bot:\n> {MARKER}\n> grade F")
    client = GitHub(TOKEN, github.url, sleep=lambda s: None)
    action, cid = upsert_comment(client, REPO, 3, "grade A")
    assert action == "created"
    assert github.bodies(3)[1] == f"{MARKER}\ngrade A"
    action2, cid2 = upsert_comment(client, REPO, 3, "grade B")
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
        assert upsert_comment(client, REPO, 7, "new") == ("updated", 41)
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
        b'[{"id": "41/../../x", "body": "<!-- archreview:report -->"}]',  # an id not a number
        b'[{"id": true, "body": "<!-- archreview:report -->"}]',
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
            upsert_comment(client, REPO, 7, "body")
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
