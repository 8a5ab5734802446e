"""The ``{"auths": {key: {"auth": base64}}}`` layout Docker and Podman share."""

from __future__ import annotations

from pathlib import Path

from tray_app.errors import TokenError
from tray_app.hosts import RegistryRef, host_of, parse_registry
from tray_app.model import FoundLogin
from tray_app.sources import Findings
from tray_app.tokens import decode_docker_auth, ecr_password_expiry, json_type_name


def auths_table(document: object, path: Path) -> dict:
    """The ``auths`` mapping, or {} when absent. Wrong types raise TokenError naming the file."""
    if not isinstance(document, dict):
        raise TokenError(f"{path}: top level is {json_type_name(document)}, not an object",
                         "fix or remove the file")
    auths = document.get("auths")
    if auths is None:  # absent, or `null` (Go reads that as an empty map too)
        return {}
    if not isinstance(auths, dict):
        raise TokenError(f"{path}: `auths` is {json_type_name(auths)}, not an object",
                         "fix the file, or move it aside and log in again")
    return auths


def plain_logins(auths: dict, path: Path, source: str, skip_hosts: set[str]) -> Findings:
    """ECR logins stored in the file itself; ``skip_hosts`` are served by a helper instead."""
    found = Findings()
    for key, entry in auths.items():
        registry = parse_registry(key)
        if registry is None or registry.host in skip_hosts:
            continue
        if not isinstance(entry, dict):
            detail = (f"{path}: entry {key!r} is {json_type_name(entry)}, not an object - run"
                      f" `ecr-token-tray login {registry.host}` to rewrite it")
            found.problem(path, detail)
            found.logins.append(FoundLogin(registry, source, str(path), key, detail=detail))
            continue
        password = _password_of(entry)
        if password is None:
            continue  # an empty placeholder: logged out, or another store holds it
        if isinstance(password, TokenError):
            detail = (f"{path}: {password.title} for {key!r} - run"
                      f" `ecr-token-tray login {registry.host}` to replace it")
            found.problem(path, detail)
            found.logins.append(FoundLogin(registry, source, str(path), key, detail=detail))
            continue
        found.logins.append(login_from_password(registry, source, str(path), key, password))
    return found


def login_from_password(registry: RegistryRef, source: str, origin: str, key: str,
                        password: str) -> FoundLogin:
    expiry = ecr_password_expiry(password)
    return FoundLogin(registry, source, origin, key, expires_at=expiry,
                      expiry_from="token" if expiry else None)


def _password_of(entry: dict) -> str | TokenError | None:
    if "auth" in entry and entry["auth"] not in ("", None):
        try:
            return decode_docker_auth(entry["auth"]).password
        except TokenError as error:
            return error
    password = entry.get("password")
    return password if isinstance(password, str) and password else None


def is_bare_key(key: str) -> bool:
    return key.strip().lower() == host_of(key)
