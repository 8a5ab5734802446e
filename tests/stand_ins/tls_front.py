"""TLS in front of a plain-HTTP stand-in, so a program that insists on ``https://`` and a
real AWS host name (Go's AWS SDK inside docker-credential-ecr-login, which has no endpoint
override) reaches it through :mod:`tests.stand_ins.proxy`. The certificate is the test CA's
server certificate, which names the AWS API hosts (``tests.stand_ins.registry``)."""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.stand_ins.proxy import relay


class _Front(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def tls_front(upstream_port: int, ca) -> Iterator[int]:
    """Serve TLS on a free local port, relaying the plain bytes to ``upstream_port``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.server_cert, ca.server_key)
    context.set_alpn_protocols(["http/1.1"])

    class Relay(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                client = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
            except OSError:
                client.close()
                return
            try:
                relay(client, upstream)
            finally:
                client.close()

    server = _Front(("127.0.0.1", 0), Relay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="tls-front", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
