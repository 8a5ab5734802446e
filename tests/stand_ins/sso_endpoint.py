"""A local AWS IAM Identity Center: the `sso` portal API and `sso-oidc`, on 127.0.0.1.

boto3 (and the stand-in `aws`) reach it through ``AWS_ENDPOINT_URL_SSO`` and
``AWS_ENDPOINT_URL_SSO_OIDC`` (see :meth:`SsoEndpoint.env`), exactly the way the real
services are addressed, speaking their REST-JSON protocol:

- sso: ``GET /federation/credentials?role_name=&account_id=`` with the access token in
  ``x-amz-sso_bearer_token`` -> ``roleCredentials`` (fake ASIA key, secret, session token,
  expiration in epoch milliseconds).
- sso-oidc: ``POST /client/register``, ``POST /device_authorization``, ``POST /token``
  (grant types ``refresh_token`` and the device code grant).

Switches on ``endpoint.switches``: ``refresh_accepted`` (False: InvalidGrantException),
``portal_unauthorized`` (GetRoleCredentials answers 401 UnauthorizedException),
``pending_polls`` (the device code grant answers AuthorizationPendingException that many
times, then approves), ``slow_down_polls``, ``deny_device`` (AccessDeniedException),
``never_approve`` (pending forever), ``strict_tokens`` (only tokens this endpoint issued
are accepted; otherwise any non-empty token is). ``endpoint.revoke(token)``: the portal
answers 401 to that access token from now on (signed out elsewhere, revoked by an admin),
whatever its expiry says. ``calls`` counts calls per operation;
``issued_secrets`` lists every token and key handed out (for leak scans).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCESS_TOKEN_SECONDS = 8 * 3600
CLIENT_SECRET_DAYS = 90


@dataclass
class Switches:
    refresh_accepted: bool = True
    portal_unauthorized: bool = False
    pending_polls: int = 0
    slow_down_polls: int = 0
    deny_device: bool = False
    never_approve: bool = False
    strict_tokens: bool = False
    access_token_seconds: int = ACCESS_TOKEN_SECONDS
    interval: int = 1  # seconds between device-code polls the client is told to wait


@dataclass
class _Device:
    client_id: str
    start_url: str
    polls: int = 0


@dataclass
class _State:
    switches: Switches = field(default_factory=Switches)
    calls: Counter = field(default_factory=Counter)
    clients: dict[str, dict] = field(default_factory=dict)  # clientId -> {secret, scopes}
    devices: dict[str, _Device] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    revoked_tokens: set[str] = field(default_factory=set)
    issued_secrets: list[str] = field(default_factory=list)
    role_requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SsoEndpoint:
    """Start with ``with sso_endpoint() as endpoint:``; ``endpoint.env()`` gives the env vars."""

    def __init__(self) -> None:
        self.state = _State()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="sso-endpoint")

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def switches(self) -> Switches:
        return self.state.switches

    @property
    def calls(self) -> Counter:
        return self.state.calls

    @property
    def issued_secrets(self) -> list[str]:
        with self.state.lock:
            return list(self.state.issued_secrets)

    @property
    def role_requests(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.role_requests)

    def revoke(self, access_token: str) -> None:
        """GetRoleCredentials answers 401 UnauthorizedException to this token from now on."""
        with self.state.lock:
            self.state.revoked_tokens.add(access_token)

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_SSO": self.url, "AWS_ENDPOINT_URL_SSO_OIDC": self.url}

    def start(self) -> SsoEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def sso_endpoint() -> Iterator[SsoEndpoint]:
    endpoint = SsoEndpoint().start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _new(prefix: str, size: int = 24) -> str:
    return prefix + secrets.token_urlsafe(size)


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output clean
        pass

    # -- plumbing ------------------------------------------------------------------------
    def _send(self, status: int, body: dict, error_type: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error_type: str, message: str, oauth_error: str = "") -> None:
        body = {"message": message}
        if oauth_error:
            body.update({"error": oauth_error, "error_description": message})
        self._send(status, body, error_type)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            document = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def _count(self, operation: str) -> None:
        with self.state.lock:
            self.state.calls[operation] += 1

    def _issue(self, prefix: str, size: int = 48) -> str:
        value = _new(prefix, size)
        with self.state.lock:
            self.state.issued_secrets.append(value)
        return value

    # -- sso (the portal) ----------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/federation/credentials":
            self._error(404, "ResourceNotFoundException", "no such operation")
            return
        self._count("GetRoleCredentials")
        query = parse_qs(url.query)
        token = self.headers.get("x-amz-sso_bearer_token", "")
        switches = self.state.switches
        with self.state.lock:
            known = token in self.state.access_tokens
            revoked = token in self.state.revoked_tokens
        if (switches.portal_unauthorized or not token or revoked
                or (switches.strict_tokens and not known)):
            self._error(401, "UnauthorizedException", "Session token not found or invalid")
            return
        account = query.get("account_id", [""])[0]
        role = query.get("role_name", [""])[0]
        with self.state.lock:
            self.state.role_requests.append((account, role))
        expiration_ms = int((time.time() + 3600) * 1000)
        self._send(200, {"roleCredentials": {
            "accessKeyId": "ASIA" + secrets.token_hex(8).upper(),
            "secretAccessKey": self._issue("ssoSecretKey", 30),
            "sessionToken": self._issue("IQoJb3JpZ2luX2VjE", 120),
            "expiration": expiration_ms,
        }})

    # -- sso-oidc --------------------------------------------------------------------------
    def do_POST(self) -> None:
        route = {"/client/register": self._register,
                 "/device_authorization": self._device_authorization,
                 "/token": self._token}.get(urlparse(self.path).path)
        body = self._body()
        if route is None:
            self._error(404, "ResourceNotFoundException", "no such operation")
            return
        route(body)

    def _register(self, body: dict) -> None:
        self._count("RegisterClient")
        client_id = _new("client-", 16)
        client_secret = self._issue("clientsecret-", 48)
        with self.state.lock:
            self.state.clients[client_id] = {"secret": client_secret,
                                             "scopes": body.get("scopes") or []}
        now = int(time.time())
        self._send(200, {"clientId": client_id, "clientSecret": client_secret,
                         "clientIdIssuedAt": now,
                         "clientSecretExpiresAt": now + CLIENT_SECRET_DAYS * 86400})

    def _client_ok(self, body: dict) -> bool:
        with self.state.lock:
            client = self.state.clients.get(body.get("clientId", ""))
        if client is None:  # registered before this endpoint started (a FakeHome cache file)
            return bool(body.get("clientSecret"))
        return client["secret"] == body.get("clientSecret")

    def _device_authorization(self, body: dict) -> None:
        self._count("StartDeviceAuthorization")
        if not self._client_ok(body):
            self._error(401, "InvalidClientException", "Invalid client", "invalid_client")
            return
        device_code = _new("devicecode-", 32)
        user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        with self.state.lock:
            self.state.devices[device_code] = _Device(body["clientId"], body.get("startUrl", ""))
        self._send(200, {
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": "https://device.sso.example.invalid/",
            "verificationUriComplete": f"https://device.sso.example.invalid/?user_code={user_code}",
            "expiresIn": 600,
            "interval": self.state.switches.interval,
        })

    def _token(self, body: dict) -> None:
        grant = body.get("grantType", "")
        self._count(f"CreateToken:{'refresh_token' if grant == 'refresh_token' else 'device_code'}")
        if not self._client_ok(body):
            self._error(401, "InvalidClientException", "Invalid client", "invalid_client")
            return
        if grant == "refresh_token":
            self._refresh(body)
        elif grant == "urn:ietf:params:oauth:grant-type:device_code":
            self._device_token(body)
        else:
            self._error(400, "UnsupportedGrantTypeException", "unsupported grant",
                        "unsupported_grant_type")

    def _refresh(self, body: dict) -> None:
        switches = self.state.switches
        with self.state.lock:
            known = body.get("refreshToken") in self.state.refresh_tokens
        if (not switches.refresh_accepted or not body.get("refreshToken")
                or (switches.strict_tokens and not known)):
            self._error(400, "InvalidGrantException", "Refresh token has expired",
                        "invalid_grant")
            return
        self._send_tokens(with_refresh=True)

    def _device_token(self, body: dict) -> None:
        switches = self.state.switches
        with self.state.lock:
            device = self.state.devices.get(body.get("deviceCode", ""))
            if device is not None:
                device.polls += 1
            client = self.state.clients.get(body.get("clientId", ""), {})
        if device is None:
            self._error(400, "ExpiredTokenException", "Device code expired", "expired_token")
            return
        if switches.deny_device:
            self._error(400, "AccessDeniedException", "Access denied", "access_denied")
            return
        if device.polls <= switches.slow_down_polls:
            self._error(400, "SlowDownException", "Slow down", "slow_down")
            return
        if switches.never_approve or device.polls <= switches.slow_down_polls + \
                switches.pending_polls:
            self._error(400, "AuthorizationPendingException", "Authorization pending",
                        "authorization_pending")
            return
        with self.state.lock:
            del self.state.devices[body["deviceCode"]]
        # Like Identity Center: refresh tokens only for clients registered with scopes.
        self._send_tokens(with_refresh=bool(client.get("scopes")))

    def _send_tokens(self, with_refresh: bool) -> None:
        access = self._issue("aoaAAAAAG", 96)
        response = {"accessToken": access, "tokenType": "Bearer",
                    "expiresIn": self.state.switches.access_token_seconds}
        with self.state.lock:
            self.state.access_tokens.add(access)
        if with_refresh:
            refresh = self._issue("aorAAAAAG", 96)
            with self.state.lock:
                self.state.refresh_tokens.add(refresh)
            response["refreshToken"] = refresh
        self._send(200, response)
