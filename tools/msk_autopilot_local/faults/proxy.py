"""The proxy itself: an HTTP server on 127.0.0.1 that forwards each request to the upstream or
answers it with the fault its plan decides, and serves its own control endpoints."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.faults.error_replies import error_reply, render
from msk_autopilot_local.faults.identify import RequestIdentifier, RequestIdentity
from msk_autopilot_local.faults.plan import FaultKind, FaultPlan, FaultPlanError
from msk_autopilot_local.faults.stats import Decision, FaultState, InjectedFault, ProxyStats

__all__ = ["CONTROL_PREFIX", "FaultProxy", "FaultProxyError", "fault_proxy"]

CONTROL_PREFIX = "/_fault_proxy"
# Never faulted, never counted as service requests: the emulator's and moto's own endpoints.
PASSTHROUGH_PREFIXES = ("/_msk_emulator", "/moto-api")
_IDLE_CONNECTION_SECONDS = 60.0
_UPSTREAM_TIMEOUT_SECONDS = 60.0
_MAX_BODY_BYTES = 64 * 1024 * 1024
_MAX_CHUNKS = 100_000
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)


class FaultProxyError(LocalToolError):
    """The proxy cannot start: an upstream that is no http:// URL, or a port it cannot bind."""


class _DropConnection(Exception):
    """Close the client's connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = _IDLE_CONNECTION_SECONDS
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        proxy = self.server.proxy
        try:
            body = self._read_body()
        except ValueError as error:
            self._reply(400, [("Content-Type", "application/json")], _message(str(error)))
            self.close_connection = True
            return
        split = urlsplit(self.path)
        target = split.path + (f"?{split.query}" if split.query else "")
        path = split.path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._control(path.removeprefix(CONTROL_PREFIX), body)
            return
        if any(path == p or path.startswith(p + "/") for p in PASSTHROUGH_PREFIXES):
            proxy._state.count_passthrough()
            self._forward(target, body)
            return
        identity = proxy.identifier.identify(self.command, target, dict(self.headers), body)
        decision = proxy._state.decide(identity)
        try:
            self._apply(decision, identity, target, body)
        except _DropConnection:
            self.close_connection = True  # nothing was written: the client sees EOF

    def _apply(
        self, decision: Decision, identity: RequestIdentity, target: str, body: bytes
    ) -> None:
        proxy = self.server.proxy
        match decision.kind:
            case None:
                proxy._state.forwarded(identity)
                self._forward(target, body)
            case FaultKind.DELAY:
                time.sleep(decision.delay_seconds)
                proxy._state.forwarded(identity)
                self._forward(target, body)
            case FaultKind.DROP_BEFORE:
                raise _DropConnection
            case FaultKind.DROP_AFTER:
                proxy._state.forwarded(identity)
                try:
                    self._upstream(target, body)  # the service acts; its answer is lost
                except OSError:
                    proxy._state.count_upstream_error()
                raise _DropConnection
            case _:
                model = proxy.identifier.model(identity.service)
                reply = error_reply(decision.kind, identity, model)
                self._reply(*render(reply, identity, dict(self.headers)))

    def _read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise ValueError("malformed Content-Length") from None
            if length < 0 or length > _MAX_BODY_BYTES:
                raise ValueError("bad or too large Content-Length")
            return self.rfile.read(length) if length else b""
        chunks: list[bytes] = []
        total = 0
        for _ in range(_MAX_CHUNKS):
            try:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ValueError("malformed chunked body") from None
            if size < 0 or total + size > _MAX_BODY_BYTES:
                raise ValueError("bad or too large chunk")
            if size == 0:
                for _ in range(_MAX_CHUNKS):  # trailers, up to the blank line
                    if not self.rfile.readline(1024).strip():
                        return b"".join(chunks)
                raise ValueError("too many trailers")
            total += size
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after the chunk
        raise ValueError("too many chunks")

    def _upstream(self, target: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        headers = {
            name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP
        }
        connection = http.client.HTTPConnection(
            proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout
        )
        try:
            connection.request(self.command, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            reply_headers = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in _HOP_BY_HOP
            ]
            if self.command == "HEAD" and response.getheader("Content-Length") is not None:
                reply_headers.append(("Content-Length", str(response.getheader("Content-Length"))))
            return response.status, reply_headers, data
        finally:
            connection.close()

    def _forward(self, target: str, body: bytes) -> None:
        try:
            status, headers, data = self._upstream(target, body)
        except OSError as error:
            self.server.proxy._state.count_upstream_error()
            message = _message(
                f"fault proxy: upstream {self.server.proxy.upstream} failed: {error}"
            )
            self._reply(502, [("Content-Type", "application/json")], message)
            return
        self._reply(status, headers, data)

    def _reply(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD" or not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, route: str, body: bytes) -> None:
        proxy = self.server.proxy
        routes = {"/stats", "/stats/reset", "/faults", "/plan"}
        status, payload = 200, None
        if (self.command, route) == ("GET", "/stats"):
            payload = proxy.stats().to_dict()
        elif (self.command, route) == ("POST", "/stats/reset"):
            proxy.reset_stats()
            payload = proxy.stats().to_dict()
        elif (self.command, route) == ("GET", "/faults"):
            payload = {"faults": [fault.to_dict() for fault in proxy.injected()]}
        elif (self.command, route) == ("GET", "/plan"):
            payload = proxy.plan.to_dict()
        elif self.command in {"PUT", "POST"} and route == "/plan":
            try:
                proxy.plan = FaultPlan.from_json(body or b"{}")
                payload = proxy.plan.to_dict()
            except FaultPlanError as error:
                status, payload = 400, {"message": str(error)}
        elif route in routes:
            status, payload = 405, {"message": f"{self.command} is not allowed on {route}"}
        else:
            status, payload = 404, {"message": f"no fault proxy endpoint {CONTROL_PREFIX}{route}"}
        self._reply(status, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR (HTTPServer's default) lets a restart bind despite TIME_WAIT; a port another
    # process listens on still fails loudly.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away mid-answer is routine here; anything else is reported."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake the threads that wait on idle keep-alive connections, so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class FaultProxy:
    """The proxy: `start()`, `endpoint_url`, `stats()`, `plan` (settable), `stop()`."""

    def __init__(
        self,
        upstream: str,
        plan: FaultPlan | None = None,
        *,
        port: int = 0,
        upstream_timeout: float = _UPSTREAM_TIMEOUT_SECONDS,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise FaultProxyError(f"upstream must be an http://host:port URL, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.identifier = RequestIdentifier()
        self._state = FaultState(plan or FaultPlan.none())
        self._host, self._port = "127.0.0.1", port  # never reachable from other machines
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not running")
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    @property
    def plan(self) -> FaultPlan:
        return self._state.plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        """Replace the plan (rule skip/limit budgets start over; counters are kept)."""
        self._state.set_plan(plan)

    def stats(self) -> ProxyStats:
        return self._state.snapshot()

    def injected(self) -> list[InjectedFault]:
        """The injected faults, oldest first (the last 10,000)."""
        return self._state.injected()

    def reset_stats(self) -> None:
        self._state.reset()

    def start(self) -> FaultProxy:
        if self._server is not None:
            raise RuntimeError("the fault proxy is already running")
        try:
            self._server = _ProxyServer((self._host, self._port), self)
        except OverflowError:  # what bind() raises for a port number out of range
            raise FaultProxyError(f"cannot serve on port {self._port}: ports are 0-65535") from None
        except OSError as error:
            raise FaultProxyError(
                f"cannot serve on {self._host}:{self._port}: {error.strerror or error}; "
                "stop what listens there or choose another port"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name=f"fault-proxy-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextlib.contextmanager
def fault_proxy(
    upstream: str, plan: FaultPlan | None = None, *, port: int = 0
) -> Iterator[FaultProxy]:
    """Serve a fault proxy in front of `upstream` on 127.0.0.1 for the duration of the block."""
    proxy = FaultProxy(upstream, plan, port=port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
