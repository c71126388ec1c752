"""A small GitHub REST client for the one sticky PR comment (stdlib urllib only).

Three endpoints are used: list an issue's comments (following `Link: <...>; rel="next"`),
create a comment, update a comment. Server errors (5xx), network errors and rate limits (429,
or 403 with `retry-after` / `x-ratelimit-remaining: 0`) are retried a bounded number of times
with backoff; the sleep is injectable so tests do not wait. The token is sent only to the API
host it was configured for and never appears in an error message.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_URL = "https://api.github.com"
MARKER = "<!-- archreview:report -->"
API_VERSION = "2022-11-28"
USER_AGENT = "archreview-comment"
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0  # seconds; longer rate-limit waits are not worth blocking a CI job for
MAX_PAGES = 100
TIMEOUT = 30.0

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class GitHubError(Exception):
    """A request that failed for good. `status` is the HTTP status (0: no response)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    data: Any


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def next_link(header: str | None) -> str | None:
    """The rel="next" URL of a Link header, if any."""
    if not header:
        return None
    for part in header.split(","):
        m = _LINK_NEXT.search(part)
        if m:
            return m.group(1).strip()
    return None


def _retry_wait(status: int, headers: Mapping[str, str], attempt: int, now: float) -> float | None:
    """Seconds to wait before retrying, or None when the response is final."""
    backoff = min(MAX_WAIT, 2.0**attempt)
    retry_after = headers.get("retry-after")
    if status in (403, 429) and retry_after is not None:
        try:
            return min(MAX_WAIT, max(0.0, float(retry_after)))
        except ValueError:
            return backoff
    if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset")
        try:
            wait = float(reset) - now if reset else backoff
        except ValueError:
            wait = backoff
        return min(MAX_WAIT, max(1.0, wait)) if wait <= MAX_WAIT else None
    if status == 429 or status >= 500:
        return backoff
    return None


@dataclass
class GitHub:
    token: str = field(repr=False)  # never in a repr, a log line or a traceback
    api_url: str = DEFAULT_API_URL
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    max_attempts: int = MAX_ATTEMPTS
    timeout: float = TIMEOUT
    requests: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        parsed = urllib.parse.urlsplit(self.api_url)
        if parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise GitHubError(0, f"--api-url must be an http(s) URL, not {self.api_url!r}")
        self._origin = (parsed.scheme, parsed.netloc)

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            parsed = urllib.parse.urlsplit(path_or_url)
            if (parsed.scheme, parsed.netloc) != self._origin:
                raise GitHubError(0, f"refusing to send the token to {parsed.netloc}")
            return path_or_url
        return self.api_url + path_or_url

    def request(self, method: str, path_or_url: str, body: Any = None) -> Response:
        url = self._url(path_or_url)
        payload = None if body is None else json.dumps(body).encode("utf-8")
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        last = ""
        for attempt in range(self.max_attempts):
            self.requests += 1
            req = urllib.request.Request(url, data=payload, method=method, headers=headers)
            status = 0
            raw = b""
            resp_headers: dict[str, str] = {}
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    status = resp.status
                    raw = resp.read()
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            except urllib.error.HTTPError as err:
                status = err.code
                raw = err.read() or b""
                resp_headers = {k.lower(): v for k, v in (err.headers or {}).items()}
            except (urllib.error.URLError, OSError, TimeoutError) as err:
                last = f"{method} {url}: {getattr(err, 'reason', err)}"
                if attempt + 1 < self.max_attempts:
                    self.sleep(min(MAX_WAIT, 2.0**attempt))
                    continue
                raise GitHubError(0, _redact(last, self.token)) from None
            if 200 <= status < 300:
                data = json.loads(raw.decode("utf-8")) if raw.strip() else None
                return Response(status, resp_headers, data)
            last = f"{method} {urllib.parse.urlsplit(url).path}: HTTP {status}: {_message(raw)}"
            wait = _retry_wait(status, resp_headers, attempt, self.clock())
            if wait is None or attempt + 1 >= self.max_attempts:
                raise GitHubError(status, _redact(last, self.token))
            self.sleep(wait)
        raise GitHubError(0, _redact(last or "no attempt made", self.token))

    # -- the endpoints used ---------------------------------------------------------------------

    def comments(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        """Every comment of an issue or pull request, following pagination."""
        url: str | None = f"/repos/{repo_path(repo)}/issues/{number}/comments?per_page=100"
        pages = 0
        while url is not None and pages < MAX_PAGES:
            resp = self.request("GET", url)
            pages += 1
            for item in resp.data or []:
                if isinstance(item, dict):
                    yield item
            url = next_link(resp.headers.get("link"))

    def create_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        resp = self.request(
            "POST", f"/repos/{repo_path(repo)}/issues/{number}/comments", {"body": body}
        )
        return dict(resp.data or {})

    def update_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        resp = self.request(
            "PATCH", f"/repos/{repo_path(repo)}/issues/comments/{comment_id}", {"body": body}
        )
        return dict(resp.data or {})


_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def repo_path(repo: str) -> str:
    if not _REPO.match(repo) or ".." in repo:
        raise GitHubError(0, f"repository must be OWNER/NAME, not {repo!r}")
    return repo


def _message(raw: bytes) -> str:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")[:200]
    if isinstance(data, dict) and "message" in data:
        return str(data["message"])[:200]
    return str(data)[:200]


def upsert_comment(
    client: GitHub, repo: str, number: int, body: str, marker: str = MARKER
) -> tuple[str, int]:
    """Update the comment carrying `marker` (the oldest, if a race ever made two), else create
    it. Returns ("updated" | "created" | "unchanged", comment id)."""
    if not body.startswith(marker):
        body = f"{marker}\n{body}"
    for comment in client.comments(repo, number):
        text = str(comment.get("body") or "")
        if text.lstrip().startswith(marker):
            comment_id = int(comment["id"])
            if text == body:
                return "unchanged", comment_id
            client.update_comment(repo, comment_id, body)
            return "updated", comment_id
    created = client.create_comment(repo, number, body)
    return "created", int(created.get("id") or 0)
