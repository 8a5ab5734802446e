"""ECR pull secrets in local Kubernetes clusters, read with the user's own ``kubectl``.

Why kubectl and not a client library: it already speaks every way users authenticate
(client certificates, exec plugins such as ``aws eks get-token``, OIDC), honours
``KUBECONFIG`` and proxies exactly as the user's own commands do, and costs this app no
dependency. Each call names its context (``--context``), has a timeout and bounded output,
and secrets only ever travel on its stdin.

Which contexts: :mod:`tray_app.sources.kubeconfig`. What: secrets of type
``kubernetes.io/dockerconfigjson`` and ``kubernetes.io/dockercfg`` in every namespace the
user may list; their ECR entries' expiry comes from the token inside, as for Docker's file.

Clusters are asked at most every ``max_age`` seconds (the tray: 5 minutes) or when a
kubeconfig file changes. A cluster that does not answer (kind stopped) is a quiet notice,
not an error: its secrets from the last answer stay listed with an unknown expiry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from tray_app.errors import SourceError, TokenError
from tray_app.model import FoundLogin, KubeSecretRef
from tray_app.record import record
from tray_app.sources import Findings
from tray_app.sources.auth_file import auths_table, plain_logins
from tray_app.sources.cred_helper import OutputTooLarge, run_bounded
from tray_app.sources.kubeconfig import KubeConfig, KubeContext, load_kubeconfig
from tray_app.tokens import b64decode_lenient, json_type_name

SOURCE = "kubernetes"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
DATA_KEYS = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}
REQUEST_TIMEOUT_SECONDS = 5  # kubectl's own --request-timeout, per API request
KUBECTL_TIMEOUT_SECONDS = 15.0  # the whole kubectl run (exec auth plugins included)
MAX_LIST_BYTES = 64 * 1024 * 1024
MAX_PARALLEL_CONTEXTS = 4
SCAN_EVERY_SECONDS = 300.0

# kubectl's own words for a server that does not answer (stopped kind, VM asleep).
_UNREACHABLE = ("unable to connect to the server", "connection refused", "was refused",
                "no route to host",
                "i/o timeout", "context deadline exceeded", "client.timeout exceeded",
                "tls handshake timeout", "no such host", "network is unreachable",
                "connect: connection reset", "eof")


class KubectlError(SourceError):
    """A kubectl call failed; ``kind`` says how (unreachable, conflict, not-found...)."""

    def __init__(self, title: str, hint: str, kind: str) -> None:
        super().__init__(title, hint)
        self.kind = kind


def find_kubectl() -> str | None:
    return shutil.which("kubectl")


@record
class Kubectl:
    """The user's kubectl, bound to one context. Never runs without ``--context``."""

    executable: str
    context: str
    files: tuple[Path, ...] = ()  # the kubeconfig files that parse (KubeConfig.files)
    timeout: float = KUBECTL_TIMEOUT_SECONDS

    @classmethod
    def for_context(cls, executable: str, context: str, files: Sequence[Path]) -> Kubectl:
        return cls(executable, context, tuple(files))

    def argv(self, *args: str) -> list[str]:
        base = [self.executable, "--context", self.context]
        if len(self.files) == 1:  # one file: name it, whatever KUBECONFIG says
            base += ["--kubeconfig", str(self.files[0])]
        return [*base, f"--request-timeout={REQUEST_TIMEOUT_SECONDS}s", *args]

    def env(self) -> dict[str, str] | None:
        """Several files: kubectl merges them itself, exactly as we did - minus any file
        that does not parse, which would make kubectl refuse every context."""
        if len(self.files) <= 1:
            return None
        return {**os.environ, "KUBECONFIG": os.pathsep.join(map(str, self.files))}

    def run(self, *args: str, stdin: bytes = b"", max_output: int = MAX_LIST_BYTES) -> bytes:
        """stdout of a successful run; else KubectlError naming the context."""
        what = f"kubectl {args[0]}" if args else "kubectl"
        try:
            result = run_bounded(self.argv(*args), stdin, self.timeout, max_output,
                                 env=self.env())
        except FileNotFoundError:
            raise KubectlError("kubectl: not found on PATH", "install kubectl",
                               "missing") from None
        except subprocess.TimeoutExpired:
            raise KubectlError(f"context {self.context}: {what} gave no answer within"
                               f" {self.timeout:g} s, stopped it",
                               "an auth plugin may be waiting for input; run"
                               f" `kubectl --context {self.context} get ns` by hand",
                               "hung") from None
        except OutputTooLarge:
            raise KubectlError(f"context {self.context}: {what} printed over"
                               f" {max_output // 2**20} MiB, stopped it",
                               "too many pull secrets to read; list only some contexts",
                               "too-large") from None
        except OSError as error:
            raise KubectlError(f"kubectl: cannot run it ({error.strerror})",
                               "check that it is executable", "missing") from None
        if result.returncode != 0:
            raise classify_failure(self.context, what, result.stderr or result.stdout)
        return result.stdout

    def json(self, *args: str, stdin: bytes = b"") -> object:
        return self._parse(self.run(*args, "-o", "json", stdin=stdin))

    def json_raw(self, url: str) -> object:
        """``kubectl get --raw URL``: the API's own JSON, no discovery requests."""
        return self._parse(self.run("get", "--raw", url))

    def _parse(self, output: bytes) -> object:
        try:
            return json.loads(output)
        except (ValueError, RecursionError):
            raise KubectlError(f"context {self.context}: kubectl printed something that is"
                               " not JSON", "check kubectl's version", "bad-output") from None


def classify_failure(context: str, what: str, output: bytes) -> KubectlError:
    """kubectl's error text -> one line (never echoing more than its first line)."""
    text = output[:4096].decode("utf-8", "replace").strip()
    lowered = text.lower()
    line = _first_line(text)
    if "(conflict)" in lowered or "the object has been modified" in lowered:
        return KubectlError(f"context {context}: changed by someone else meanwhile",
                            "try again", "conflict")
    if "(notfound)" in lowered:
        return KubectlError(f"context {context}: {line}", "check the name", "not-found")
    if "(alreadyexists)" in lowered:
        return KubectlError(f"context {context}: {line}", "it exists already", "exists")
    if "(unauthorized)" in lowered or "must be logged in" in lowered:
        return KubectlError(f"context {context}: the cluster refused kubectl's credentials"
                            " (401 Unauthorized)", "renew the context's credentials (for"
                            " kind: `kind export kubeconfig`)", "unauthorized")
    if "(forbidden)" in lowered:
        return KubectlError(f"context {context}: {what} is forbidden (403)",
                            "ask for RBAC rights to list and update secrets", "forbidden")
    if "context" in lowered and ("does not exist" in lowered or "not found" in lowered):
        return KubectlError(f"context {context}: kubectl does not know this context",
                            "check your kubeconfig", "no-context")
    if any(marker in lowered for marker in _UNREACHABLE):
        return KubectlError(f"cluster {context} is not reachable",
                            "start it (kind, minikube...) if you use it", "unreachable")
    return KubectlError(f"context {context}: {what} failed ({line or 'no message'})",
                        f"run `kubectl --context {context} get secrets` by hand", "failed")


def _first_line(text: str) -> str:
    if not text:
        return ""
    from tray_app.logs import redact  # error path only

    return redact(text.splitlines()[0])[:200]


# --------------------------------------------------------------------------------------
# Reading one secret
# --------------------------------------------------------------------------------------
def secret_ref(item: dict, context: str) -> KubeSecretRef | None:
    meta = item.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    return KubeSecretRef(context, str(meta.get("namespace") or "default"), meta["name"])


def secret_auths(item: dict, ref: KubeSecretRef) -> dict:
    """The ``auths`` map inside a pull secret. TokenError with a clear line when unreadable."""
    secret_type = item.get("type")
    key = DATA_KEYS.get(secret_type)
    where = f"kubernetes {ref.label}"
    if key is None:
        return {}
    data = item.get("data")
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise TokenError(f"{where}: has no `{key}` data", "recreate the secret")
    try:
        document = json.loads(b64decode_lenient(value))
    except TokenError:
        raise TokenError(f"{where}: `{key}` is not valid base64", _recreate(ref)) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TokenError(f"{where}: `{key}` is not valid JSON", _recreate(ref)) from None
    if secret_type == DOCKERCFG:  # the legacy format is the auths map itself
        if not isinstance(document, dict):
            raise TokenError(f"{where}: `{key}` holds {json_type_name(document)}, not an"
                             " object", _recreate(ref))
        return document
    return auths_table(document, Path(where))


def _recreate(ref: KubeSecretRef) -> str:
    from tray_app.platforms import quote  # the user's shell: cmd.exe quoting on Windows

    return (f"delete it and run `ecr-token-tray kube secret HOST --context {quote(ref.context)}"
            f" --namespace {quote(ref.namespace)} --name {quote(ref.secret)}`")


def secret_logins(item: dict, context: str) -> Findings:
    """The ECR logins of one listed secret (none for other registries)."""
    found = Findings()
    ref = secret_ref(item, context)
    if ref is None:
        return found
    try:
        auths = secret_auths(item, ref)
    except TokenError as error:
        found.problem(f"kubernetes {ref.label}", str(error))
        return found
    entries = plain_logins(auths, Path(f"kubernetes {ref.label}"), SOURCE, set())
    found.problems.extend(entries.problems)
    found.logins.extend(login._replace(kubernetes=ref) for login in entries.logins)
    return found


# --------------------------------------------------------------------------------------
# Asking one cluster
# --------------------------------------------------------------------------------------
@record
class ContextScan:
    context: str
    logins: tuple[FoundLogin, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()
    unreachable: str | None = None  # the quiet line when the cluster did not answer


def list_pull_secrets(kubectl: Kubectl, namespace: str) -> list[dict]:
    """Pull secrets of every namespace; the context's own namespace when listing across
    namespaces is forbidden (a namespaced RBAC role).

    ``get --raw`` on the list URL: one request per secret type (both at once), filtered by
    the server (clusters hold many other secrets, e.g. Helm releases), and no discovery
    round trips."""
    with ThreadPoolExecutor(max_workers=len(DATA_KEYS), thread_name_prefix="kube-list") as pool:
        listings = list(pool.map(lambda t: _list_type(kubectl, namespace, t), DATA_KEYS))
    return [item for listing in listings for item in listing]


def _list_type(kubectl: Kubectl, namespace: str, secret_type: str) -> list[dict]:
    query = f"?fieldSelector=type%3D{quote(secret_type, safe='')}"
    try:
        listing = kubectl.json_raw(f"/api/v1/secrets{query}")
    except KubectlError as error:
        if error.kind != "forbidden":
            raise
        listing = kubectl.json_raw(
            f"/api/v1/namespaces/{quote(namespace, safe='')}/secrets{query}")
    listed = listing.get("items") if isinstance(listing, dict) else None
    if not isinstance(listed, list):
        raise KubectlError(f"context {kubectl.context}: the secret list has no `items`",
                           "check kubectl's version", "bad-output")
    return [item for item in listed if isinstance(item, dict)]


def scan_context(context: KubeContext, kubectl: Kubectl) -> ContextScan:
    try:
        items = list_pull_secrets(kubectl, context.namespace)
    except KubectlError as error:
        if error.kind == "unreachable":
            return ContextScan(context.name, unreachable=error.title)
        return ContextScan(context.name, problems=((f"kubernetes {context.name}",
                                                    str(error)),))
    logins: list[FoundLogin] = []
    problems: list[tuple[str, str]] = []
    for item in items:
        found = secret_logins(item, context.name)
        logins += found.logins
        problems += [(p.source, p.message) for p in found.problems]
    return ContextScan(context.name, tuple(logins), tuple(problems))


# --------------------------------------------------------------------------------------
# All chosen clusters, at most every few minutes
# --------------------------------------------------------------------------------------
class ClusterScan:
    """What the snapshot asks for. ``max_age`` 0 (``status``): ask every time; the tray
    keeps one instance and asks again only after ``max_age`` seconds or a kubeconfig change.
    """

    def __init__(self, max_age: float = 0.0, monotonic=time.monotonic) -> None:
        self.max_age = max_age
        self.monotonic = monotonic
        self.calls = 0  # scans that ran kubectl (the benchmark counts them)
        self._lock = threading.Lock()
        self._cached: tuple[tuple, float, Findings] | None = None
        self._last_seen: dict[str, tuple[FoundLogin, ...]] = {}

    def invalidate(self) -> None:
        """Ask again next time (a renewal just rewrote secrets)."""
        with self._lock:
            self._cached = None

    def findings(self, files: Sequence[Path], kube_contexts: Iterable[str]) -> Findings:
        listed = tuple(kube_contexts)
        key = (_fingerprint(files), listed)
        with self._lock:
            cached = self._cached
            if cached and cached[0] == key and self.monotonic() - cached[1] < self.max_age:
                return cached[2]
            try:
                found = self._scan(files, listed)
            except Exception as error:  # a bug here must not take the other rows with it
                import logging

                logging.getLogger(__name__).debug("reading clusters failed", exc_info=True)
                found = Findings()
                found.problem("kubernetes", f"kubernetes: could not read the clusters' pull"
                              f" secrets ({type(error).__name__}) - run with --debug and"
                              " see the log")
            self._cached = (key, self.monotonic(), found)
            return found

    def _scan(self, files: Sequence[Path], listed: tuple[str, ...]) -> Findings:
        found = Findings()
        config = load_kubeconfig(files, listed)
        for path, message in config.problems:
            found.problem(path, message)
        for name in listed:
            if config.get(name) is None:
                found.problem(f"kubernetes {name}", f"config: [kubernetes] contexts names"
                              f" {name!r}, which no kubeconfig defines - fix the name")
        chosen = [c for c in config.chosen() if c.server or c.name in listed]
        if not chosen:
            return found
        executable = find_kubectl()
        if executable is None:
            names = ", ".join(c.name for c in chosen)
            found.problem("kubectl", f"kubectl not found on PATH: the pull secrets of {names}"
                                     " are not shown - install kubectl, or set [kubernetes]"
                                     " enabled = false")
            return found
        self.calls += 1
        scans = scan_all(config, chosen, executable)
        for scan in scans:
            for source, message in scan.problems:
                found.problem(source, message)
            if scan.unreachable is None:
                self._last_seen[scan.context] = scan.logins
                found.logins.extend(scan.logins)
                continue
            found.notices.append(found_notice(scan.context, scan.unreachable))
            found.logins.extend(login._replace(
                expires_at=None, expiry_from=None, detail=scan.unreachable)
                for login in self._last_seen.get(scan.context, ()))
        return found


def found_notice(context: str, line: str):
    from tray_app.model import SourceProblem

    return SourceProblem(f"kubernetes {context}", line)


def scan_all(config: KubeConfig, chosen: list[KubeContext], executable: str
             ) -> list[ContextScan]:
    def one(context: KubeContext) -> ContextScan:
        return scan_context(context, Kubectl.for_context(executable, context.name,
                                                         config.files))

    if len(chosen) == 1:
        return [one(chosen[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CONTEXTS, len(chosen)),
                            thread_name_prefix="kube-scan") as pool:
        return list(pool.map(one, chosen))


def _fingerprint(files: Sequence[Path]) -> tuple:
    stats = []
    for path in files:
        try:
            info = os.stat(path)
        except OSError:
            stats.append(None)
            continue
        stats.append((info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(stats)
