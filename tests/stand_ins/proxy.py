"""A local HTTPS CONNECT proxy that sends every ECR host name to the local registry.

Docker (Go) and Python's urllib honour ``HTTPS_PROXY``; with ``NO_PROXY=127.0.0.1,localhost``
boto3 still reaches the local AWS endpoints directly. TLS runs end to end through the
tunnel, so the client checks the registry's certificate for the REAL host name
(``123456789012.dkr.ecr.us-west-2.amazonaws.com``) against the test CA in ``SSL_CERT_FILE``.
No /etc/hosts entry and no privileged port are needed.
"""

from __future__ import annotations

import re
import select
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.stand_ins.ecr_endpoint import QuietHandler, TrackedServer
from tray_app.hosts import parse_registry


@dataclass
class Proxy:
    url: str
    target_port: int
    tunnels: Counter = field(default_factory=Counter)  # CONNECT host -> count
    lock: threading.Lock = field(default_factory=threading.Lock)
    # more host names to tunnel: (full-match pattern, local port), e.g. AWS API hosts to a
    # tests.stand_ins.tls_front in front of a stand-in endpoint
    routes: list[tuple[re.Pattern, int]] = field(default_factory=list)

    def port_for(self, host: str) -> int | None:
        if parse_registry(host) is not None:
            return self.target_port
        return next((port for pattern, port in self.routes if pattern.fullmatch(host)), None)


def _handler_for(proxy: Proxy) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_CONNECT(self) -> None:
            host, _, port = self.path.rpartition(":")
            target = proxy.port_for(host.lower()) if port == "443" else None
            if target is None:
                self.send_response(403, "only ECR hosts are tunnelled")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with proxy.lock:
                proxy.tunnels[host.lower()] += 1
            upstream = socket.create_connection(("127.0.0.1", target), timeout=10)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            relay(self.connection, upstream)

    return Handler


def relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy both ways until one side closes, then close ``upstream``. A TLS client may hold
    decrypted bytes that select cannot see (``pending``)."""
    sockets = [client, upstream]
    pending = getattr(client, "pending", lambda: 0)
    try:
        while True:
            if pending():
                readable = [client]
            else:
                readable, _, broken = select.select(sockets, [], sockets, 30)
                if broken or not readable:
                    return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()


@contextmanager
def running_proxy(target_port: int) -> Iterator[Proxy]:
    proxy = Proxy(url="", target_port=target_port)
    server = TrackedServer(("127.0.0.1", 0), _handler_for(proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    with server.serving("connect-proxy"):
        yield proxy
