"""Read the user's kubeconfig (as kubectl merges it) and pick the contexts this app may ask.

Only local clusters by default: kind (``kind-*``), minikube, k3d (``k3d-*``), Docker
Desktop, Rancher Desktop, OrbStack, colima or MicroK8s with a server on this machine or a
private network. Other contexts only when the config lists them (``[kubernetes] contexts``).
A loopback server alone does not count: ``ssh -L``, Teleport or ``kubectl port-forward``
tunnels put remote clusters (production, even) on 127.0.0.1, and a k3s kubeconfig copied
from a server names its context ``default``.

We read the files ourselves instead of asking ``kubectl config view``: some kubectl builds
(Google's version dispatcher) contact the current context's server on every run, and the
current context may be production. Every kubectl call then names a chosen context.

PyYAML is imported only when a kubeconfig exists, so ``status`` without one stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from tray_app.record import record

LOCAL_NAMES = ("minikube", "docker-desktop", "docker-for-desktop", "rancher-desktop",
               "orbstack", "colima", "microk8s")
LOCAL_PREFIXES = ("kind-", "k3d-", "colima-")
MINIKUBE_EXTENSION = "minikube.sigs.k8s.io"
# Names those tools write as the server (Docker Desktop, OrbStack, mDNS names on the laptop).
LOCAL_TOOL_HOSTS = ("localhost", "kubernetes.docker.internal", "host.docker.internal")
LOCAL_TOOL_DOMAINS = (".localhost", ".local")
# Text one of which any local context's kubeconfig entry must contain (a tool's name or
# the minikube extension): a file with none of them needs no YAML parsing.
LOCAL_MARKERS = (*LOCAL_NAMES, *LOCAL_PREFIXES, MINIKUBE_EXTENSION)


@record
class KubeContext:
    name: str
    cluster: str
    server: str
    namespace: str  # the context's default namespace ("default" when unset)
    local_because: str | None  # "kind", "minikube"..., "listed in config"; None: not asked

    @property
    def chosen(self) -> bool:
        return self.local_because is not None


@record
class KubeConfig:
    files: tuple[Path, ...]  # the files that exist and parse, in merge order
    contexts: tuple[KubeContext, ...]
    current: str | None
    problems: tuple[tuple[Path, str], ...] = ()  # (file, one clear line)

    def chosen(self) -> list[KubeContext]:
        return [c for c in self.contexts if c.chosen]

    def get(self, name: str) -> KubeContext | None:
        return next((c for c in self.contexts if c.name == name), None)


def may_name_local_context(path: Path, listed: Iterable[str] = ()) -> bool:
    """A cheap, conservative text check before parsing: False only when no context in the
    file can count as local or listed. Unreadable or odd files answer True (parse them, so
    their problem is reported)."""
    try:
        text = path.read_bytes().decode("utf-8", "replace").lower()
    except OSError:
        return True
    if "\\" in text:  # YAML escapes could spell a marker: parse to be sure
        return True
    return any(marker in text for marker in (*LOCAL_MARKERS, *(n.lower() for n in listed)))


def existing(files: Iterable[Path]) -> list[Path]:
    return [p for p in files if p.is_file()]


def load_kubeconfig(files: Iterable[Path], listed: Iterable[str] = ()) -> KubeConfig:
    """Merge the files as kubectl does: the first file to define a name (context, cluster)
    wins, the first ``current-context`` wins; missing files are skipped. A file that does
    not parse becomes a problem naming it; the others still count."""
    import yaml  # lazy: only when a kubeconfig exists

    listed = set(listed)
    present = existing(files)
    clusters: dict[str, dict] = {}
    contexts: dict[str, dict] = {}
    current: str | None = None
    problems: list[tuple[Path, str]] = []
    readable: list[Path] = []
    for path in present:
        try:
            document = yaml.safe_load(path.read_bytes())
        except OSError as error:
            problems.append((path, f"{path}: cannot read this kubeconfig ({error.strerror});"
                                   " its contexts are skipped - fix its permissions"))
            continue
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            at = f" at line {where.line + 1}" if where is not None else ""
            problems.append((path, f"{path}: not valid YAML{at}; its contexts are skipped"
                                   " - fix the file (kubectl cannot read it either)"))
            continue
        if document is None:
            continue
        if not isinstance(document, dict):
            problems.append((path, f"{path}: not a kubeconfig (top level is not a mapping);"
                                   " its contexts are skipped - fix the file"))
            continue
        readable.append(path)
        current = current or _text(document.get("current-context")) or None
        for entry in _named(document.get("clusters"), "cluster"):
            clusters.setdefault(entry[0], entry[1])
        for entry in _named(document.get("contexts"), "context"):
            contexts.setdefault(entry[0], entry[1])
    found = []
    for name, body in contexts.items():
        cluster_name = _text(body.get("cluster"))
        cluster = clusters.get(cluster_name, {})
        server = _text(cluster.get("server"))
        found.append(KubeContext(
            name=name, cluster=cluster_name, server=server,
            namespace=_text(body.get("namespace")) or "default",
            local_because=("listed in config" if name in listed
                           else local_reason(name, cluster_name, server, body, cluster))))
    return KubeConfig(tuple(readable), tuple(found), current, tuple(problems))


def _named(items: object, key: str) -> Iterable[tuple[str, dict]]:
    """``[{name: N, <key>: {...}}]`` entries, skipping malformed ones (kubectl would too)."""
    if not isinstance(items, list):
        return
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            body = item.get(key)
            yield item["name"], body if isinstance(body, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def local_reason(context: str, cluster: str, server: str, context_body: Mapping,
                 cluster_body: Mapping) -> str | None:
    """Why this context counts as a cluster on this machine; None: it does not.

    A local tool's name counts only with a server that could be that tool's: on this
    machine or a private network. A name alone is not enough (``aws eks update-kubeconfig
    --alias kind-prod`` names production anything it likes). Nor is a loopback server
    without a tool's name: a tunnel's end may be production."""
    named = _local_tool_named(context, cluster, context_body, cluster_body)
    if named and (is_loopback_server(server) or _could_be_local_tool(server)):
        return named
    return None


def _local_tool_named(context: str, cluster: str, context_body: Mapping,
                      cluster_body: Mapping) -> str | None:
    for name in (context, cluster):
        lowered = name.lower()
        if lowered in LOCAL_NAMES:
            return lowered
        for prefix in LOCAL_PREFIXES:
            if lowered.startswith(prefix):
                return prefix.rstrip("-")
    if _has_minikube_extension(context_body) or _has_minikube_extension(cluster_body):
        return "minikube"
    return None


def _could_be_local_tool(server: str) -> bool:
    """A server a laptop's cluster tool writes: a private or unspecified address (minikube's
    192.168.49.2, k3d's 0.0.0.0) or a name that resolves on the machine itself."""
    host = _server_host(server)
    if host is None:
        return False
    if host in LOCAL_TOOL_HOSTS or host.endswith(LOCAL_TOOL_DOMAINS):
        return True
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_unspecified


def _has_minikube_extension(body: Mapping) -> bool:
    extensions = body.get("extensions")
    if not isinstance(extensions, list):
        return False
    return any(isinstance(e, dict) and isinstance(e.get("extension"), dict)
               and e["extension"].get("provider") == MINIKUBE_EXTENSION for e in extensions)


def _server_host(server: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        host = urlsplit(server if "//" in server else f"//{server}").hostname
    except ValueError:
        return None
    return host or None


def is_loopback_server(server: str) -> bool:
    host = _server_host(server)
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only for servers that are not named after a local tool

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
