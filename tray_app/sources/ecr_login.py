"""amazon-ecr-credential-helper: hosts it manages, and the expiry of its cached tokens."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file
from tray_app.hosts import parse_registry
from tray_app.model import FoundLogin
from tray_app.sources import Findings
from tray_app.sources.docker_config import (
    ECR_LOGIN,
    DockerConfig,
    ecr_login_profile,
    is_ecr_login,
)
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


def managed_hosts(config: DockerConfig) -> dict[str, str]:
    """ECR host -> the ecr-login helper name serving it (``ecr-login`` or ``ecr-login-P``)."""
    hosts = {host: name for host, name in config.cred_helpers.items()
             if is_ecr_login(name) and parse_registry(host)}
    if is_ecr_login(config.creds_store):
        for host in config.ecr_hosts_in_auths():
            hosts.setdefault(host, config.creds_store)
    return hosts


def managed_logins(config: DockerConfig, cache: dict[str, datetime]) -> Findings:
    found = Findings()
    for host, helper in managed_hosts(config).items():
        expires = cache.get(host)
        detail = ("docker-credential-ecr-login fetches a token on each use;"
                  " what matters is the AWS session behind it")
        found.logins.append(FoundLogin(
            parse_registry(host), ECR_LOGIN, f"docker-credential-{helper}", host,
            expires_at=expires, expiry_from="ecr-login-cache" if expires else None,
            managed=True, detail=detail, profile=ecr_login_profile(helper)))
    return found
