"""A small GitHub REST client for the one sticky PR comment and the review of fix suggestions
(stdlib urllib only).

The endpoints used: list an issue's comments (following `Link: <...>; rel="next"`, as every
listing), create a comment, update a comment; for the review of suggestions
(reviewer.github.suggestions), list a pull request's files and reviews and a review's comments,
create a review, update a review's body, delete a review comment. Server errors (5xx), network errors and rate limits (429,
or 403 with `retry-after` / `x-ratelimit-remaining: 0`) are retried a bounded number of times
with backoff; the sleep is injectable so tests do not wait.

What a hostile or broken server (or anything between it and us) cannot do:

- get the token to another host. It goes only to the configured API origin (scheme, host and
  port): a `Link` header, a redirect or any other URL naming another origin is refused before a
  request is made. Redirects are followed by the client itself, never by urllib (whose handler
  would copy the Authorization header to the new host), and only within the origin, at most
  `MAX_REDIRECTS` times;
- see the token in an error: it is checked up front (RFC 6750 characters only, so it cannot
  inject a header line; a bad one is refused without being shown), and every error message is
  redacted;
- make us hold an unbounded body: a response is read in chunks and abandoned beyond
  `MAX_BODY` bytes (an error's body beyond `MAX_ERROR_BODY`, of which only the message is kept);
- hang us: each exchange (connect, redirects, headers, body) has a whole-request deadline
  (`DEADLINE` seconds, or `$ARCHREVIEW_GITHUB_DEADLINE`); a watchdog shuts the socket down when it
  passes, so a server that trickles a byte every few seconds is stopped too (the socket timeout
  alone counts per read). A missed deadline is final, not retried.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_CATEGORY = "archreview"
LEGACY_MARKER = "<!-- archreview:report -->"  # before the marker carried the category
ACTIONS_BOT = "github-actions[bot]"  # who posts with a workflow's GITHUB_TOKEN
API_VERSION = "2022-11-28"
USER_AGENT = "archreview-comment"
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0  # seconds; longer rate-limit waits are not worth blocking a CI job for
MAX_PAGES = 100
MAX_FILE_PAGES = 30  # a pull request's files: GitHub lists at most 3,000, 100 a page
TIMEOUT = 30.0  # seconds per socket operation (connect, one read)
DEADLINE = 60.0  # seconds for one whole exchange, redirects included
DEADLINE_ENV = "ARCHREVIEW_GITHUB_DEADLINE"
MAX_BODY = 10 * 1024 * 1024  # bytes of a successful response
MAX_ERROR_BODY = 64 * 1024  # bytes of a failed response read for its message
MAX_REDIRECTS = 5
MAX_TOKEN = 1024
CHUNK = 64 * 1024

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# RFC 6750 b64token: what a bearer token may be made of (GitHub's are letters, digits and _)
_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

Origin = tuple[str, str, int]


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


def _one_line(text: str, limit: int = 200) -> str:
    """Server-supplied text for an error message: one line of printable characters, capped."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2])
    clean = " ".join(clean.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def check_token(token: str) -> None:
    """Refuse a token that could not be a bearer token, without showing it: a newline or another
    control character would inject a header line, and non-ASCII text cannot be sent at all."""
    if not token:
        raise GitHubError(0, "the GitHub token is empty")
    if len(token) > MAX_TOKEN or not _TOKEN.fullmatch(token):
        raise GitHubError(
            0,
            "the GitHub token is malformed (it is not shown): a token is up to "
            f"{MAX_TOKEN} ASCII letters, digits and -._~+/ characters, with no spaces or newlines",
        )


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, lower-cased and with the default port filled in;
    None for anything else (another scheme, no host, a user name or password, a bad port)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def default_deadline() -> float:
    """DEADLINE, or the seconds in $ARCHREVIEW_GITHUB_DEADLINE (tests shorten it)."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise GitHubError(0, f"{DEADLINE_ENV} must be a number of seconds in (0, 3600]")
    return value


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


# -- one exchange under a deadline ---------------------------------------------------------------


class _Expired(Exception):
    """The whole-request deadline passed."""


class _TooLarge(Exception):
    """A response body over the limit."""


class _Watch:
    """The deadline of one exchange. Every socket opened for it is registered; when the deadline
    passes, a timer shuts them down, which wakes a read blocked on a trickling server."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            raise _Expired

    def timeout(self, per_operation: float) -> float:
        """A socket timeout that also keeps within the deadline."""
        self.check()
        return max(0.001, min(per_operation, self.remaining()))

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def stop(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    # the plain socket's shutdown, also for a TLS socket (no TLS close alert)
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _seconds(timeout: object) -> float:
    return float(timeout) if isinstance(timeout, int | float) else TIMEOUT


class _HTTPConnection(http.client.HTTPConnection):
    watch: _Watch

    def connect(self) -> None:
        self.timeout = self.watch.timeout(_seconds(self.timeout))
        super().connect()
        self.watch.add(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    watch: _Watch

    def connect(self) -> None:
        self.timeout = self.watch.timeout(_seconds(self.timeout))
        super().connect()  # the TLS handshake runs under the socket timeout set above
        self.watch.add(self.sock)


def _http_factory(watch: _Watch) -> Callable[..., http.client.HTTPConnection]:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        conn = _HTTPConnection(host, **kwargs)
        conn.watch = watch
        return conn

    return make


def _https_factory(watch: _Watch) -> Callable[..., http.client.HTTPConnection]:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        conn = _HTTPSConnection(host, **kwargs)
        conn.watch = watch
        return conn

    return make


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_http_factory(self.watch), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_https_factory(self.watch), req)  # http.client's verifying context


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect to any host with our headers: hand every 3xx back."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(watch: _Watch) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_HTTPHandler(watch), _HTTPSHandler(watch), _NoRedirects())


# -- the client ---------------------------------------------------------------------------------


@dataclass
class GitHub:
    token: str = field(repr=False)  # never in a repr, a log line or a traceback
    api_url: str = DEFAULT_API_URL
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    max_attempts: int = MAX_ATTEMPTS
    timeout: float = TIMEOUT
    deadline: float = field(default_factory=default_deadline)
    max_body: int = MAX_BODY
    requests: int = field(default=0, init=False)  # HTTP requests sent (redirects included)
    bytes_read: int = field(default=0, init=False)  # response body bytes read, all requests

    def __post_init__(self) -> None:
        check_token(self.token)
        self.api_url = self.api_url.rstrip("/")
        found = origin(self.api_url)
        if found is None:
            shown = _one_line(self.api_url.rpartition("@")[2], 100)  # never a password
            raise GitHubError(0, f"--api-url must be an http(s) URL without credentials: {shown!r}")
        self._origin = found

    def _url(self, path_or_url: str) -> str:
        if "://" in path_or_url or path_or_url.startswith("//"):
            if origin(path_or_url) != self._origin:
                return self._refuse(path_or_url, "a link")
            return path_or_url
        return self.api_url + path_or_url

    def _refuse(self, url: str, what: str, status: int = 0) -> NoReturn:
        try:
            host = urllib.parse.urlsplit(url).hostname or "?"
        except ValueError:
            host = "?"
        raise GitHubError(
            status,
            _redact(
                f"refusing to send the token to {_one_line(host, 100)}: {what} leads away from "
                f"the API host {self._origin[1]}",
                self.token,
            ),
        )

    def request(self, method: str, path_or_url: str, body: Any = None) -> Response:
        url = self._url(path_or_url)
        payload = None if body is None else json.dumps(body).encode("utf-8")
        last = ""
        for attempt in range(self.max_attempts):
            try:
                status, resp_headers, raw, final_url = self._exchange(method, url, payload)
            except _Expired:
                raise GitHubError(
                    0, f"{method} {_path(url)}: no complete answer within {self.deadline:g} s"
                ) from None
            except _TooLarge:
                raise GitHubError(
                    0, f"{method} {_path(url)}: the response is larger than {self.max_body} bytes"
                ) from None
            except (OSError, http.client.HTTPException, ValueError) as err:
                reason = getattr(err, "reason", None) or err
                last = f"{method} {_path(url)}: {_one_line(str(reason))}"
                if attempt + 1 < self.max_attempts:
                    self.sleep(min(MAX_WAIT, 2.0**attempt))
                    continue
                raise GitHubError(0, _redact(last, self.token)) from None
            if 200 <= status < 300:
                return Response(status, resp_headers, self._json(method, final_url, raw))
            last = f"{method} {_path(final_url)}: HTTP {status}: {_message(raw)}"
            wait = _retry_wait(status, resp_headers, attempt, self.clock())
            if wait is None or attempt + 1 >= self.max_attempts:
                raise GitHubError(status, _redact(last, self.token))
            self.sleep(wait)
        raise GitHubError(0, _redact(last or "no attempt made", self.token))

    def _json(self, method: str, url: str, raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise GitHubError(0, f"{method} {_path(url)}: the response is not JSON") from None

    def _exchange(
        self, method: str, url: str, payload: bytes | None
    ) -> tuple[int, dict[str, str], bytes, str]:
        """One request and the same-origin redirects it leads to, all under one deadline."""
        watch = _Watch(self.deadline)
        try:
            for _ in range(MAX_REDIRECTS + 1):
                status, headers, raw = self._once(watch, method, url, payload)
                location = headers.get("location")
                if status not in _REDIRECTS or not location:
                    return status, headers, raw, url
                try:
                    target = urllib.parse.urljoin(url, location.strip())
                except ValueError:
                    target = ""
                if origin(target) != self._origin:
                    self._refuse(target, f"an HTTP {status} redirect", status)
                if status == 303:
                    method, payload = "GET", None
                url = target
            raise GitHubError(status, f"{method} {_path(url)}: more than {MAX_REDIRECTS} redirects")
        finally:
            watch.stop()

    def _once(
        self, watch: _Watch, method: str, url: str, payload: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        req = urllib.request.Request(url, data=payload, method=method, headers=headers)
        self.requests += 1
        try:
            try:
                resp: Any = _opener(watch).open(req, timeout=watch.timeout(self.timeout))
            except urllib.error.HTTPError as err:  # 4xx, 5xx and every 3xx (not followed)
                resp = err
            with resp:
                status = int(resp.status if resp.status is not None else resp.getcode())
                resp_headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
                ok = 200 <= status < 300
                raw = self._read(resp, resp_headers, watch, ok)
            return status, resp_headers, raw
        except (OSError, http.client.HTTPException, ValueError):
            if watch.expired or watch.remaining() <= 0:
                raise _Expired from None
            raise

    def _read(self, resp: Any, headers: Mapping[str, str], watch: _Watch, ok: bool) -> bytes:
        """The body in chunks, never more than the limit: over it, a successful response is an
        error (a partial JSON document is of no use) and a failed one is cut (its message)."""
        limit = self.max_body if ok else MAX_ERROR_BODY
        declared = headers.get("content-length", "").strip()
        if ok and declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        read = getattr(resp, "read1", None) or resp.read
        chunks: list[bytes] = []
        total = 0
        while True:
            watch.check()
            chunk = read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            self.bytes_read += len(chunk)
            if total > limit:
                if ok:
                    raise _TooLarge
                chunks.append(chunk[: len(chunk) - (total - limit)])
                break
            chunks.append(chunk)
        watch.check()  # a socket shut down at the deadline reads as the end of the body
        if ok and (getattr(resp, "length", None) or 0) > 0:
            raise http.client.IncompleteRead(b"", resp.length)
        return b"".join(chunks)

    # -- the endpoints used ---------------------------------------------------------------------

    def _pages(
        self, url: str | None, what: str, limit: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        """The objects of a listed resource, page after page (`Link: rel="next"`), at most
        `limit` pages."""
        pages = 0
        while url is not None and pages < limit:
            resp = self.request("GET", url)
            pages += 1
            if resp.data is not None and not isinstance(resp.data, list):
                raise GitHubError(0, f"GET {_path(url)}: expected a list of {what}")
            for item in resp.data or []:
                if isinstance(item, dict):
                    yield item
            url = next_link(resp.headers.get("link"))

    def comments(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        """Every comment of an issue or pull request, following pagination."""
        url = f"/repos/{repo_path(repo)}/issues/{number}/comments?per_page=100"
        return self._pages(url, "comments")

    def create_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        resp = self.request(
            "POST", f"/repos/{repo_path(repo)}/issues/{number}/comments", {"body": body}
        )
        return _object(resp, "POST")

    def update_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        resp = self.request(
            "PATCH", f"/repos/{repo_path(repo)}/issues/comments/{comment_id}", {"body": body}
        )
        return _object(resp, "PATCH")

    # -- pull request reviews (fix suggestions, reviewer.github.suggestions) --------------------
    #
    # GitHub's limits, from its REST documentation:
    # - "List pull requests files": at most 3,000 files, up to 100 per page (per_page=100), so
    #   30 pages hold them all; a file's `patch` is left out when its diff is too large
    #   (https://docs.github.com/rest/pulls/pulls#list-pull-requests-files);
    # - "Create a review for a pull request": one request carries the review's body and all its
    #   comments; each comment is placed by `line` (and `start_line` for several lines) on the
    #   `RIGHT` side, and must lie in one hunk of the pull request's diff
    #   (https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request);
    # - a review comment's body, like an issue comment's, holds at most 65,536 characters;
    # - secondary rate limits: no more than 80 content-creating requests a minute and 500 an
    #   hour (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api);
    #   reviewer.github.suggestions keeps one push's requests that create or delete content
    #   under 80.

    def pull_files(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        """The files a pull request changes, with their patches (at most 3,000: 30 pages)."""
        url = f"/repos/{repo_path(repo)}/pulls/{number}/files?per_page=100"
        return self._pages(url, "files", MAX_FILE_PAGES)

    def reviews(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        """Every review of a pull request, oldest first."""
        return self._pages(
            f"/repos/{repo_path(repo)}/pulls/{number}/reviews?per_page=100", "reviews"
        )

    def review_comments(self, repo: str, number: int, review_id: int) -> Iterator[dict[str, Any]]:
        """The comments of one review."""
        url = f"/repos/{repo_path(repo)}/pulls/{number}/reviews/{review_id}/comments?per_page=100"
        return self._pages(url, "review comments")

    def create_review(
        self,
        repo: str,
        number: int,
        body: str,
        comments: list[dict[str, Any]],
        commit_id: str | None = None,
    ) -> dict[str, Any]:
        """Submit a review (event COMMENT: it neither approves nor requests changes) with its
        comments; without `commit_id` GitHub takes the pull request's latest commit."""
        payload: dict[str, Any] = {"body": body, "event": "COMMENT", "comments": comments}
        if commit_id:
            payload["commit_id"] = commit_id
        resp = self.request("POST", f"/repos/{repo_path(repo)}/pulls/{number}/reviews", payload)
        return _object(resp, "POST")

    def update_review(self, repo: str, number: int, review_id: int, body: str) -> dict[str, Any]:
        """Replace a submitted review's body (a review itself cannot be deleted once submitted,
        and only an approval or a change request can be dismissed)."""
        resp = self.request(
            "PUT", f"/repos/{repo_path(repo)}/pulls/{number}/reviews/{review_id}", {"body": body}
        )
        return _object(resp, "PUT")

    def delete_review_comment(self, repo: str, comment_id: int) -> None:
        self.request("DELETE", f"/repos/{repo_path(repo)}/pulls/comments/{comment_id}")

    def user_login(self) -> str:
        """The login of the token's owner (`GET /user`: personal tokens only; GitHub refuses
        it to installation tokens, a workflow's GITHUB_TOKEN included)."""
        login = _object(self.request("GET", "/user"), "GET").get("login")
        if not isinstance(login, str) or not login:
            raise GitHubError(0, "GET /user: the answer names no login")
        return login


def _path(url: str) -> str:
    """The path of a URL for a message (the host is the configured one)."""
    try:
        return _one_line(urllib.parse.urlsplit(url).path or "/", 200)
    except ValueError:
        return "?"


def _object(resp: Response, method: str) -> dict[str, Any]:
    if resp.data is None:
        return {}
    if not isinstance(resp.data, dict):
        raise GitHubError(0, f"{method}: expected a JSON object in the response")
    return dict(resp.data)


def comment_id(comment: Mapping[str, Any]) -> int:
    """A comment's id as the API gives it: a positive integer, or the answer is refused."""
    value = comment.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise GitHubError(0, "the API returned a comment without a numeric id")
    return value


_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def repo_path(repo: str) -> str:
    if not _REPO.match(repo) or ".." in repo:
        raise GitHubError(0, f"repository must be OWNER/NAME, not {_one_line(repo, 100)!r}")
    return repo


def _message(raw: bytes) -> str:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _one_line(raw[:800].decode("utf-8", "replace"))
    if isinstance(data, dict) and "message" in data:
        return _one_line(str(data["message"]))
    return _one_line(str(data)[:400])


def marker(category: str = DEFAULT_CATEGORY) -> str:
    """The hidden first line of our comment. It carries the category (the SARIF category, or
    whatever names the run), percent-encoded so it cannot end the HTML comment or hold a space:
    two runs on one pull request with different categories keep two comments."""
    return f"<!-- archreview:report category={urllib.parse.quote(category, safe='')} -->"


MARKER = marker()


def comment_author(comment: Mapping[str, Any]) -> str:
    """The login of a comment's author as the API gives it ("" when it names none)."""
    user = comment.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    return login if isinstance(login, str) else ""


def posting_identity(client: GitHub, author: str | None) -> str:
    """Who the token posts as, so that only that identity's comment is adopted:

    - `author` when given (an app's installation token posts as `<app-slug>[bot]`, which only
      the caller knows: GitHub refuses `GET /user` to installation tokens);
    - `github-actions[bot]` for a `ghs_` token (a workflow's GITHUB_TOKEN, or an installation
      token, for which `author` must then be given);
    - else the login `GET /user` names (a personal or OAuth token)."""
    if author:
        return author
    if client.token.startswith("ghs_"):
        return ACTIONS_BOT
    try:
        return client.user_login()
    except GitHubError as err:
        raise GitHubError(
            err.status,
            f"cannot tell who this token posts as ({err}); pass the login that posts with "
            "--author (the Action's comment-author input)",
        ) from None


def find_ours(
    comments: Iterator[dict[str, Any]], mark: str, author: str, *, legacy: bool = False
) -> dict[str, Any] | None:
    """The oldest comment that starts with `mark` AND was written by `author` (GitHub logins
    compare without regard to case). A marked comment by anyone else is someone's text that
    happens to start like ours: it is never adopted, overwritten or taken for a sign of a
    fork. With `legacy`, a comment of ours with the marker of older versions counts too."""
    for comment in comments:
        text = comment.get("body")
        text = text.lstrip() if isinstance(text, str) else ""
        marked = text.startswith(mark) or (
            legacy and text.startswith(LEGACY_MARKER) and not text.startswith(mark)
        )
        if marked and comment_author(comment).lower() == author.lower():
            return comment
    return None


def upsert_comment(
    client: GitHub,
    repo: str,
    number: int,
    body: str,
    *,
    author: str,
    category: str = DEFAULT_CATEGORY,
) -> tuple[str, int]:
    """Update our comment of this category (the oldest, if a race ever made two), else create
    it. Ours: it starts with the category's marker and `author` wrote it (`find_ours`).
    Returns ("updated" | "created" | "unchanged", comment id)."""
    mark = marker(category)
    if not body.startswith(mark):
        body = f"{mark}\n{body}"
    found = find_ours(
        client.comments(repo, number), mark, author, legacy=category == DEFAULT_CATEGORY
    )
    if found is not None:
        cid = comment_id(found)
        if found.get("body") == body:
            return "unchanged", cid
        client.update_comment(repo, cid, body)
        return "updated", cid
    created = client.create_comment(repo, number, body)
    return "created", comment_id(created) if created else 0
