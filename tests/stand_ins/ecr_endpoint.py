"""A local ECR / ECR Public API speaking their JSON protocol, issuing realistic tokens.

boto3 reaches it through ``AWS_ENDPOINT_URL_ECR`` and ``AWS_ENDPOINT_URL_ECR_PUBLIC``
(see :meth:`EcrEndpoint.env`). The region and access key of each call come from the SigV4
``Authorization`` header, as AWS reads them. Passwords are ECR's real format
(``tray_app.tokens.make_ecr_password``) with a 12 h expiry and a random payload, and the
:class:`TokenIssuer` remembers them so :mod:`tests.stand_ins.registry` accepts only those.

Fault switches (``endpoint.faults``): ``throttle`` (every call answers
ThrottlingException), ``throttle_first`` (that many calls are throttled, then it works),
``deny`` (AccessDeniedException), ``server_error`` (HTTP 500), ``slow`` (seconds to wait
before answering). ``deny_regions`` limits AccessDenied to some regions.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tray_app.tokens import make_authorization_token, make_ecr_password

PRIVATE_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
TOKEN_LIFETIME = timedelta(hours=12)
_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


class QuietHandler(BaseHTTPRequestHandler):
    """Base of the stand-ins' handlers: HTTP/1.1 keep-alive as AWS and registries speak it,
    and no per-request lines in the test output."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass


class TrackedServer(ThreadingHTTPServer):
    """A threading HTTP server that leaves no thread behind: on close it cuts open
    connections (boto3 keeps idle keep-alive ones) and joins every handler thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address, handler) -> None:
        super().__init__(address, handler)
        self._open: set = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    @contextmanager
    def serving(self, name: str) -> Iterator[None]:
        """Serve on a daemon thread called ``name`` until the block ends, then stop."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=name, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self.stop(thread)

    def stop(self, thread: threading.Thread) -> None:
        self.shutdown()
        thread.join(5)
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()  # joins the handler threads


@dataclass(frozen=True)
class IssuedToken:
    region: str
    service: str  # "ecr" or "ecr-public"
    expires_at: datetime


class TokenIssuer:
    """Every password handed out, so the registry can accept exactly those (thread-safe)."""

    def __init__(self, lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self.lifetime = lifetime
        self._issued: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, region: str, service: str) -> tuple[str, datetime]:
        expires = (datetime.now(UTC) + self.lifetime).replace(microsecond=0)
        payload = base64.b64encode(secrets.token_bytes(600)).decode()  # real tokens are ~2 KB
        password = make_ecr_password(expires, payload)
        with self._lock:
            self._issued[password] = IssuedToken(region, service, expires)
        return password, expires

    def accepts(self, username: str, password: str, host: str) -> bool:
        """True for an unexpired password issued for the region (or ECR Public) of ``host``."""
        with self._lock:
            token = self._issued.get(password)
        if username != "AWS" or token is None or token.expires_at <= datetime.now(UTC):
            return False
        if token.service == "ecr-public":
            return host in ("public.ecr.aws", "ecr-public.aws.com")
        return f".{token.region}." in host

    @property
    def passwords(self) -> list[str]:
        with self._lock:
            return list(self._issued)


@dataclass
class Faults:
    throttle: bool = False
    throttle_first: int = 0
    deny: bool = False
    deny_regions: frozenset[str] = frozenset()
    server_error: bool = False
    slow: float = 0.0


@dataclass
class EcrEndpoint:
    """A running endpoint; ``calls`` counts GetAuthorizationToken per (service, region, key)."""

    url: str
    issuer: TokenIssuer
    account_for_key: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    calls: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_ECR": self.url, "AWS_ENDPOINT_URL_ECR_PUBLIC": self.url}

    def token_calls(self, service: str = "ecr") -> int:
        with self.lock:
            return sum(n for (svc, _, _), n in self.calls.items() if svc == service)

    def calls_by_region(self, service: str = "ecr") -> Counter:
        with self.lock:
            counted: Counter = Counter()
            for (svc, region, _), n in self.calls.items():
                if svc == service:
                    counted[region] += n
            return counted


def _handler_for(endpoint: EcrEndpoint) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            scope = _SCOPE.search(self.headers.get("Authorization", ""))
            if scope is None:
                return self._error(403, "MissingAuthenticationTokenException",
                                   "Missing Authentication Token")
            access_key, region, _service = scope.groups()
            if target not in (PRIVATE_TARGET, PUBLIC_TARGET):
                return self._error(400, "UnknownOperationException", f"unknown {target}")
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return self._error(400, "SerializationException", "bad JSON")
            asked = request.get("registryIds") if isinstance(request, dict) else None
            public = target == PUBLIC_TARGET
            with endpoint.lock:
                endpoint.calls[("ecr-public" if public else "ecr", region, access_key)] += 1
                faults = endpoint.faults
                throttled = faults.throttle or faults.throttle_first > 0
                if faults.throttle_first > 0:
                    faults.throttle_first -= 1
            if faults.slow:
                endpoint.stopping.wait(faults.slow)
            if faults.server_error:
                return self._error(500, "ServerException", "internal error")
            if throttled:
                return self._error(400, "ThrottlingException", "Rate exceeded")
            if faults.deny or region in faults.deny_regions:
                operation = "ecr-public" if public else "ecr"
                return self._error(400, "AccessDeniedException",
                                   f"User: arn:aws:iam::123456789012:user/test is not authorized"
                                   f" to perform: {operation}:GetAuthorizationToken")
            password, expires = endpoint.issuer.issue(region, "ecr-public" if public else "ecr")
            token = make_authorization_token(password)
            if public:
                data: object = {"authorizationToken": token, "expiresAt": expires.timestamp()}
            else:
                # one entry per registryIds entry, as ECR answers (docker-credential-ecr-login
                # asks for the registry's account); none asked: the caller's own account
                accounts = asked or [endpoint.account_for_key.get(access_key, "123456789012")]
                data = [{"authorizationToken": token, "expiresAt": expires.timestamp(),
                         "proxyEndpoint": f"https://{account}.dkr.ecr.{region}.amazonaws.com"}
                        for account in accounts]
            self._reply(200, {"authorizationData": data})

        def _error(self, status: int, code: str, message: str) -> None:
            self._reply(status, {"__type": code, "message": message})

        def _reply(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", secrets.token_hex(16))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def running_ecr_endpoint(issuer: TokenIssuer | None = None) -> Iterator[EcrEndpoint]:
    """Serve on 127.0.0.1:<free port> until the block ends."""
    endpoint = EcrEndpoint(url="", issuer=issuer or TokenIssuer())
    server = TrackedServer(("127.0.0.1", 0), _handler_for(endpoint))
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}"
    with server.serving("ecr-endpoint"):
        try:
            yield endpoint
        finally:
            endpoint.stopping.set()  # before the server stops: slow answers give up


def unreachable_url() -> str:
    """An http URL on loopback where nothing listens (connection refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
