"""Put a fresh ECR token into a Kubernetes pull secret, with the user's kubectl.

- Only the entry (or entries: ``host``, ``https://host``...) of that registry changes; every
  other registry in the secret, its labels and annotations are kept as read.
- The write is ``kubectl replace`` of the object as read, so the API server refuses it
  (409 Conflict) when someone changed the secret since: then read, merge and write once
  more; a second conflict is reported, never forced.
- Then the secret is read back: it must hold exactly the new token.
- ``restart_failed_pulls``: pods of that namespace in ``ImagePullBackOff``/``ErrImagePull``
  for this registry, that use this secret and have a controller, are deleted so the
  controller makes new ones that pull with the fresh token.

The token only travels on kubectl's stdin. Every message names context, namespace and
secret; none contains the token.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
from urllib.parse import quote

from tray_app.errors import TokenError
from tray_app.hosts import host_of
from tray_app.model import KubeSecretRef
from tray_app.renew.ecr import EcrToken
from tray_app.renew.errors import RenewError
from tray_app.settings import Paths, Settings, load_settings
from tray_app.sources.kubeconfig import load_kubeconfig
from tray_app.sources.kubernetes import (
    DATA_KEYS,
    DOCKERCFG,
    DOCKERCONFIGJSON,
    Kubectl,
    KubectlError,
    find_kubectl,
    secret_auths,
)
from tray_app.tokens import b64decode_lenient, decode_docker_auth, make_authorization_token

log = logging.getLogger(__name__)

FAILED_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull")


def kubectl_for(ref: KubeSecretRef, paths: Paths, settings: Settings) -> Kubectl:
    """kubectl bound to the secret's context - only a local or listed one."""
    executable = find_kubectl()
    if executable is None:
        raise RenewError(f"{ref.label}: kubectl not found on PATH", "install kubectl")
    config = load_kubeconfig(paths.kubeconfigs, settings.kube_contexts)
    context = config.get(ref.context)
    if context is None:
        raise RenewError(f"{ref.label}: no kubeconfig defines context {ref.context!r}",
                         "check the name (`kubectl config get-contexts`)")
    if not context.chosen:
        raise RenewError(f"{ref.label}: context {ref.context!r} is not a local cluster; not"
                         " touched", "list it in the config's [kubernetes] contexts to allow"
                         " it")
    return Kubectl.for_context(executable, ref.context, config.files)


def store_in_secret(ref: KubeSecretRef, host: str, token: EcrToken, paths: Paths,
                    create: bool = False) -> str:
    """Write the token into the secret; returns what was done. Raises RenewError."""
    settings = _settings(paths)
    kubectl = kubectl_for(ref, paths, settings)
    try:
        done = _write(kubectl, ref, host, token, create)
        _read_back(kubectl, ref, host, token)
    except KubectlError as error:
        raise RenewError(f"{ref.label}: {error.title}", error.hint) from None
    if settings.restart_failed_pulls:
        done += restart_failed_pulls(kubectl, ref, host)
    log.info("kubernetes %s: %s for %s", ref.label, done, host)
    return done


def _settings(paths: Paths) -> Settings:
    return load_settings(paths)[0]  # a broken config file: defaults (status reports it)


def _write(kubectl: Kubectl, ref: KubeSecretRef, host: str, token: EcrToken,
           create: bool) -> str:
    for attempt in (1, 2):
        current = _get(kubectl, ref)
        if current is None:
            if not create:
                raise RenewError(f"{ref.label}: the secret no longer exists",
                                 "create it with `ecr-token-tray kube secret`")
            try:
                kubectl.run("create", "--validate=false", "-f", "-", "-o", "name",
                            stdin=_encode(new_secret(ref, host, token)))
            except KubectlError as error:
                if error.kind == "exists" and attempt == 1:
                    continue  # created meanwhile: update it instead
                raise
            return "created with kubectl, read back"
        updated = with_token(current, ref, host, token)
        try:
            kubectl.run("replace", "--validate=false", "-f", "-", "-o", "name",
                        stdin=_encode(updated))
        except KubectlError as error:
            if error.kind != "conflict":
                raise
            if attempt == 2:
                raise RenewError(f"{ref.label}: the secret changed twice while it was being"
                                 " updated; not forced", "try again in a moment") from None
            log.info("kubernetes %s: conflict (resourceVersion); reading it again", ref.label)
            continue
        return "updated with kubectl" + (" after a conflict" if attempt == 2 else "") + \
            ", read back"
    raise RenewError(f"{ref.label}: could not be written", "try again")  # not reached


def _get(kubectl: Kubectl, ref: KubeSecretRef) -> dict | None:
    try:
        document = kubectl.json_raw(f"/api/v1/namespaces/{quote(ref.namespace, safe='')}"
                                    f"/secrets/{quote(ref.secret, safe='')}")
    except KubectlError as error:
        if error.kind == "not-found":
            return None
        raise
    if not isinstance(document, dict):
        raise RenewError(f"{ref.label}: kubectl printed no secret object", "try again")
    return document


def _encode(document: dict) -> bytes:
    return json.dumps(document).encode()


def new_secret(ref: KubeSecretRef, host: str, token: EcrToken) -> dict:
    config = {"auths": {host: _entry({}, token)}}
    return {
        "apiVersion": "v1", "kind": "Secret", "type": DOCKERCONFIGJSON,
        "metadata": {"name": ref.secret, "namespace": ref.namespace,
                     "labels": {"app.kubernetes.io/managed-by": "ecr-token-tray"}},
        "data": {".dockerconfigjson": _b64(config)},
    }


def with_token(secret: dict, ref: KubeSecretRef, host: str, token: EcrToken) -> dict:
    """The secret as read, with only ``host``'s entries holding the new token."""
    secret_type = secret.get("type")
    if secret_type not in DATA_KEYS:
        raise RenewError(f"{ref.label}: type {secret_type!r} is not a pull secret; not touched",
                         "point the registry at a kubernetes.io/dockerconfigjson secret")
    try:
        auths = copy.deepcopy(secret_auths(secret, ref))
    except TokenError as error:
        raise RenewError(f"{error.title}; not touched", error.hint) from None
    keys = [key for key in auths if host_of(key) == host] or [host]
    for key in keys:
        auths[key] = _entry(auths.get(key), token)
    updated = copy.deepcopy(secret)
    if secret_type == DOCKERCFG:
        payload: dict = auths
    else:
        payload = json.loads(b64decode_lenient(secret["data"][".dockerconfigjson"]))
        payload["auths"] = auths
    updated["data"][DATA_KEYS[secret_type]] = _b64(payload)
    return updated


def _entry(old: object, token: EcrToken) -> dict:
    entry = dict(old) if isinstance(old, dict) else {}
    entry["username"] = token.username
    entry["password"] = token.password
    entry["auth"] = make_authorization_token(token.password, token.username)
    return entry


def _b64(document: dict) -> str:
    return base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()


def _read_back(kubectl: Kubectl, ref: KubeSecretRef, host: str, token: EcrToken) -> None:
    current = _get(kubectl, ref)
    try:
        auths = secret_auths(current, ref) if current else {}
    except TokenError as error:
        raise RenewError(f"{error.title} when read back", error.hint) from None
    entries = [entry for key, entry in auths.items() if host_of(key) == host]
    if not entries or not all(_holds(entry, token) for entry in entries):
        raise RenewError(f"{ref.label}: read back, the secret does not hold the new token",
                         "something else rewrites it (a controller?); check the secret")


def _holds(entry: object, token: EcrToken) -> bool:
    if not isinstance(entry, dict):
        return False
    try:
        return decode_docker_auth(entry.get("auth")).password == token.password
    except TokenError:
        return False


def restart_failed_pulls(kubectl: Kubectl, ref: KubeSecretRef, host: str) -> str:
    """Delete the namespace's pods stuck pulling from ``host`` with this secret."""
    try:
        listing = kubectl.json("get", "pods", "--namespace", ref.namespace)
    except KubectlError as error:
        return f"; could not list pods to restart ({error.title})"
    pods = listing.get("items", []) if isinstance(listing, dict) else []
    stuck = [pod["metadata"]["name"] for pod in pods if _stuck_pulling(pod, ref, host)]
    if not stuck:
        return ""
    try:
        kubectl.run("delete", "pod", *stuck, "--namespace", ref.namespace, "--wait=false")
    except KubectlError as error:
        return f"; could not delete pods in ImagePullBackOff ({error.title})"
    return f"; deleted {len(stuck)} pod(s) in ImagePullBackOff: {', '.join(stuck)}"


def _stuck_pulling(pod: object, ref: KubeSecretRef, host: str) -> bool:
    if not isinstance(pod, dict):
        return False
    meta, spec, status = (pod.get(k) if isinstance(pod.get(k), dict) else {}
                          for k in ("metadata", "spec", "status"))
    if not meta.get("name") or not meta.get("ownerReferences"):
        return False  # no controller would recreate it: leave it alone
    secrets = {s.get("name") for s in spec.get("imagePullSecrets") or [] if isinstance(s, dict)}
    if ref.secret not in secrets:
        return False
    for container in (status.get("containerStatuses") or []) + \
            (status.get("initContainerStatuses") or []):
        waiting = ((container or {}).get("state") or {}).get("waiting") or {}
        image = str((container or {}).get("image", ""))
        if waiting.get("reason") in FAILED_PULL_REASONS and _image_host(image) == host:
            return True
    return False


def _image_host(image: str) -> str:
    first = image.split("/", 1)[0]
    return host_of(first) if "/" in image else ""


__all__ = ["new_secret", "restart_failed_pulls", "store_in_secret", "with_token"]
