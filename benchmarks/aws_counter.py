"""Counts every request any AWS SDK call would make, for the "zero AWS calls" figures.

The tests' stand-ins (tests/stand_ins/) count only the operations they implement; this one
counts any request on any path for every service the app could reach (``counting_env``
points each ``AWS_ENDPOINT_URL_*`` here) and answers 500, so nothing slips through
uncounted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICES = ("ECR", "ECR_PUBLIC", "SSO", "SSO_OIDC", "STS")


@dataclass
class AwsCounter:
    url: str = ""
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url,
                **{f"AWS_ENDPOINT_URL_{service}": self.url for service in SERVICES}}


@contextmanager
def counting_aws_endpoint() -> Iterator[AwsCounter]:
    counter = AwsCounter()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _count(self) -> None:
            target = self.headers.get("X-Amz-Target", "")
            with counter.lock:
                counter.requests.append(f"{self.command} {self.path} {target}".strip())
            self.send_error(500)

        do_GET = do_POST = do_PUT = do_DELETE = _count

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    counter.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counter
    finally:
        server.shutdown()
        server.server_close()
