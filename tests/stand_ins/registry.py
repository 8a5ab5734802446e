"""A small TLS registry that accepts only passwords the local ECR endpoint issued.

``GET /v2/`` answers 401 with ``WWW-Authenticate: Basic realm=...`` until the client sends
``AWS:<password>`` for an unexpired password issued for the host's region, then 200 - the
handshake ``docker login`` and ``podman login`` perform. The server certificate is signed
by a test CA made with the ``openssl`` CLI at test time; it names every ECR host form the
tests use, so clients that trust the CA (``SSL_CERT_FILE``) see a valid certificate for the
REAL ECR host names. :mod:`tests.stand_ins.proxy` routes those names here.
"""

from __future__ import annotations

import base64
import binascii
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.stand_ins.ecr_endpoint import QuietHandler, TokenIssuer, TrackedServer

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
)


@dataclass(frozen=True)
class TestCA:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_test_ca(folder: Path, regions: tuple[str, ...] = REGIONS) -> TestCA:
    """A throwaway CA and a server certificate for ``*.dkr.ecr.<region>.amazonaws.com``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    names = [f"DNS:*.dkr.ecr.{region}.amazonaws.com" for region in regions]
    # the AWS API hosts Go programs (docker-credential-ecr-login) reach through the proxy
    names += [f"DNS:{api}.{region}.amazonaws.com" for region in regions
              for api in ("api.ecr", "portal.sso")]
    names += ["DNS:public.ecr.aws", "DNS:ecr-public.aws.com", "DNS:localhost", "IP:127.0.0.1"]
    extensions = folder / "server.ext"
    extensions.write_text(f"subjectAltName={','.join(names)}\n"
                          "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=ecr-token-tray test CA", "-keyout", str(ca_key), "-out", str(ca_cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=ecr registry stand-in",
            "-keyout", str(key), "-out", str(csr))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert))
    return TestCA(ca_cert, cert, key)


@dataclass
class Registry:
    """A running registry: ``port`` on 127.0.0.1; ``answers`` counts (host, status)."""

    port: int
    issuer: TokenIssuer
    ca: TestCA
    answers: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse_all: bool = False  # fault switch: answer 401 even to issued passwords

    def accepted(self, host: str) -> int:
        with self.lock:
            return self.answers[(host, 200)]


def _handler_for(registry: Registry) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            if self.path.rstrip("/") != "/v2":
                return self._answer(host, 404, {"errors": [{"code": "NAME_UNKNOWN"}]})
            if self._authorized(host):
                return self._answer(host, 200, {})
            self._answer(host, 401, {"errors": [{"code": "UNAUTHORIZED",
                                                 "message": "authentication required"}]},
                         {"WWW-Authenticate": f'Basic realm="https://{host}/",service="ecr"'})

        def _authorized(self, host: str) -> bool:
            scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                username, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return not registry.refuse_all and registry.issuer.accepts(username, password, host)

        def _answer(self, host: str, status: int, document: object,
                    headers: dict[str, str] | None = None) -> None:
            import json

            with registry.lock:
                registry.answers[(host, status)] += 1
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def running_registry(issuer: TokenIssuer, ca: TestCA) -> Iterator[Registry]:
    registry = Registry(0, issuer, ca)
    server = TrackedServer(("127.0.0.1", 0), _handler_for(registry))
    registry.port = server.server_address[1]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.server_cert, ca.server_key)
    # handshake in the handler thread, so one stuck client cannot stall accept()
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    with server.serving("registry"):
        yield registry


# Fake static keys per profile (not real AWS keys; shaped like them so redaction is tested).
PROFILE_KEYS = {
    "default": ("AKIAEXAMPLEDEFAULT01", "defaultSecretKeyExample0000000000000000000"),
    "dev": ("AKIAEXAMPLEDEVPROF01", "devSecretKeyExample000000000000000000000000"),
    "ops": ("AKIAEXAMPLEOPSPROF01", "opsSecretKeyExample000000000000000000000000"),
}


@dataclass
class EcrLab:
    """The local ECR endpoint, the TLS registry and the proxy that routes ECR names to it."""

    ca: TestCA
    issuer: TokenIssuer
    endpoint: object  # tests.stand_ins.ecr_endpoint.EcrEndpoint
    registry: Registry
    proxy: object  # tests.stand_ins.proxy.Proxy

    def env(self) -> dict[str, str]:
        """What tools need to reach the stand-ins the way they reach AWS."""
        no_proxy = "127.0.0.1,localhost"
        return {
            **self.endpoint.env(),  # type: ignore[attr-defined]
            "HTTPS_PROXY": self.proxy.url, "https_proxy": self.proxy.url,  # type: ignore[attr-defined]
            "NO_PROXY": no_proxy, "no_proxy": no_proxy,
            "SSL_CERT_FILE": str(self.ca.ca_cert),
            "AWS_EC2_METADATA_DISABLED": "true",  # no 1 s IMDS probe when keys are missing
        }

    @staticmethod
    def credentials_file(home_root: Path, profiles: tuple[str, ...] = tuple(PROFILE_KEYS)
                         ) -> Path:
        """``~/.aws/credentials`` with static fake keys for ``profiles``."""
        path = home_root / ".aws" / "credentials"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(
            f"[{name}]\naws_access_key_id = {PROFILE_KEYS[name][0]}\n"
            f"aws_secret_access_key = {PROFILE_KEYS[name][1]}\n\n" for name in profiles))
        path.chmod(0o600)
        return path

    def secrets(self) -> list[str]:
        """Every secret in play: issued passwords (and their docker auth form), AWS keys."""
        from tray_app.tokens import make_authorization_token

        found = [s for keys in PROFILE_KEYS.values() for s in keys]
        for password in self.issuer.passwords:
            found += [password, make_authorization_token(password)]
        return found


@contextmanager
def running_ecr_lab(ca: TestCA) -> Iterator[EcrLab]:
    from tests.stand_ins.ecr_endpoint import running_ecr_endpoint
    from tests.stand_ins.proxy import running_proxy

    issuer = TokenIssuer()
    with running_ecr_endpoint(issuer) as endpoint, running_registry(issuer, ca) as registry, \
            running_proxy(registry.port) as proxy:
        yield EcrLab(ca, issuer, endpoint, registry, proxy)
