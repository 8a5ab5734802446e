"""amazon-ecr-credential-helper: hosts it manages, and the expiry of its cached tokens."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file
from tray_app.hosts import parse_registry
from tray_app.model import FoundLogin
from tray_app.sources import Findings
from tray_app.sources.docker_config import ECR_LOGIN, DockerConfig
from tray_app.timeutil import parse_time

HELPER_PROGRAM = "docker-credential-ecr-login"


def read_cache_expiries(path: Path) -> dict[str, datetime]:
    """Host -> latest ``ExpiresAt`` in ``cache.json``, matched by ``ProxyEndpoint``."""
    document = read_json_file(path)
    if document is None:
        return {}
    entries = document.get("Registries") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise SourceError(f"{path}: no `Registries` object",
                          "delete the file; docker-credential-ecr-login recreates it")
    expiries: dict[str, datetime] = {}
    for entry in entries.values():
        if not isinstance(entry, dict):
            continue
        registry = parse_registry(entry.get("ProxyEndpoint"))
        expires = parse_time(entry.get("ExpiresAt"))
        if registry is None or expires is None:
            continue
        if registry.host not in expiries or expires > expiries[registry.host]:
            expiries[registry.host] = expires
    return expiries


def managed_hosts(config: DockerConfig) -> list[str]:
    hosts = [host for host, name in config.cred_helpers.items()
             if name == ECR_LOGIN and parse_registry(host)]
    if config.creds_store == ECR_LOGIN:
        hosts += [h for h in config.ecr_hosts_in_auths() if h not in config.cred_helpers]
    return hosts


def managed_logins(config: DockerConfig, cache: dict[str, datetime]) -> Findings:
    found = Findings()
    for host in managed_hosts(config):
        expires = cache.get(host)
        detail = ("docker-credential-ecr-login fetches a token on each use;"
                  " what matters is the AWS session behind it")
        found.logins.append(FoundLogin(
            parse_registry(host), ECR_LOGIN, HELPER_PROGRAM, host, expires_at=expires,
            expiry_from="ecr-login-cache" if expires else None, managed=True, detail=detail))
    return found
