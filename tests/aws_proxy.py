"""A small fault-injecting HTTP proxy on 127.0.0.1 in front of moto's server, for what moto
cannot produce: pages (moto answers ListStacks and ListStackResources in one page), AccessDenied
on one stack only, throttling, and credentials AWS refuses.

CloudFormation speaks the AWS query protocol: a form-encoded POST with `Action=...`, answered
with XML. The proxy reads the action and its parameters, answers a fault itself when one is
armed, else forwards the request unchanged and, for the paginated actions, cuts moto's complete
answer into pages whose NextToken is the offset of the next page.
"""

from __future__ import annotations

import http.client
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
# action -> (result element, list element) of the actions the proxy pages
PAGED = {
    "ListStacks": ("ListStacksResult", "StackSummaries"),
    "ListStackResources": ("ListStackResourcesResult", "StackResourceSummaries"),
}


@dataclass
class Call:
    action: str
    params: dict[str, str]
    answered: int  # HTTP status the client got


@dataclass
class Faults:
    page_size: dict[str, int] = field(default_factory=dict)  # action -> items per page
    deny: set[tuple[str, str]] = field(default_factory=set)  # (action, stack name)
    throttle: dict[str, int] = field(default_factory=dict)  # action -> responses still throttled
    refuse_credentials: bool = False  # every call: InvalidClientTokenId


class FaultProxy:
    """`with FaultProxy(upstream) as proxy:` ... `proxy.url` is the endpoint to give boto3."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = Faults()
        self.calls: list[Call] = []
        self.headers_seen: list[str] = []  # header names only: values may hold the signature
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def actions(self) -> list[str]:
        with self._lock:
            return [c.action for c in self.calls]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.faults = Faults()

    # -- the handler ----------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                params = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
                action = params.get("Action", "")
                status, payload = proxy._answer(action, params, self.path, dict(self.headers), body)
                with proxy._lock:
                    proxy.calls.append(Call(action, params, status))
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def _answer(
        self, action: str, params: dict[str, str], path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        faults = self.faults
        with self._lock:
            self.headers_seen.extend(headers)
            if faults.refuse_credentials:
                return 403, _error(
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                )
            if faults.throttle.get(action, 0) > 0:
                faults.throttle[action] -= 1
                return 400, _error("Throttling", "Rate exceeded")
        stack = params.get("StackName", "")
        for denied_action, name in faults.deny:
            if denied_action == action and (stack == name or f"/{name}/" in stack):
                return 403, _error(
                    "AccessDenied",
                    f"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                    f"cloudformation:{action} on resource: {stack}",
                )
        status, payload = self._forward(path, headers, body)
        size = faults.page_size.get(action)
        if status == 200 and size:
            payload = _page(payload, action, size, int(params.get("NextToken") or 0))
        return status, payload

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            skip = {"host", "content-length", "connection"}
            conn.request(
                "POST", path, body, {k: v for k, v in headers.items() if k.lower() not in skip}
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _error(code: str, message: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>archreview-proxy</RequestId>"
        "</ErrorResponse>"
    ).encode()


def _page(payload: bytes, action: str, size: int, start: int) -> bytes:
    result_tag, list_tag = PAGED[action]
    ET.register_namespace("", NS)
    root = ET.fromstring(payload)
    result = root.find(f"{{{NS}}}{result_tag}")
    items = result.find(f"{{{NS}}}{list_tag}") if result is not None else None
    if result is None or items is None:
        return payload
    members = list(items)
    for member in members:
        items.remove(member)
    for member in members[start : start + size]:
        items.append(member)
    for old in result.findall(f"{{{NS}}}NextToken"):
        result.remove(old)
    if start + size < len(members):
        token = ET.SubElement(result, f"{{{NS}}}NextToken")
        token.text = str(start + size)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@contextmanager
def proxy_in_front_of(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as proxy:
        yield proxy
