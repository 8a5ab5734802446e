"""Docker's ``config.json``: plain ``auths``, and which helper serves which host."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from tray_app.errors import SourceError, TokenError
from tray_app.fileio import read_json_file
from tray_app.hosts import host_of, parse_registry
from tray_app.record import record
from tray_app.sources import Findings
from tray_app.sources.auth_file import auths_table, plain_logins

ECR_LOGIN = "ecr-login"
# `ecr-login-<profile>`: a wrapper `credhelper enable` writes that runs ecr-login with that
# AWS profile (the helper itself takes its profile only from the environment).
ECR_LOGIN_PROFILE_PREFIX = ECR_LOGIN + "-"


def is_ecr_login(helper: str | None) -> bool:
    """Is ``helper`` (a credHelpers/credsStore value) amazon-ecr-credential-helper?"""
    return bool(helper) and (helper == ECR_LOGIN or helper.startswith(ECR_LOGIN_PROFILE_PREFIX))


def ecr_login_profile(helper: str) -> str | None:
    """The AWS profile an ``ecr-login-<profile>`` wrapper pins; None for plain ecr-login."""
    if helper.startswith(ECR_LOGIN_PROFILE_PREFIX):
        return helper[len(ECR_LOGIN_PROFILE_PREFIX):] or None
    return None


@record
class DockerConfig:
    """The parts of Docker's config.json that hold logins."""

    path: Path
    auths: Mapping = MappingProxyType({})
    creds_store: str | None = None
    cred_helpers: Mapping[str, str] = MappingProxyType({})  # host -> helper name

    def store_for(self, host: str) -> str | None:
        """The helper Docker uses for ``host`` (None: the file itself), as docker/cli decides."""
        return self.cred_helpers.get(host) or self.creds_store

    def ecr_hosts_in_auths(self) -> list[str]:
        hosts = (parse_registry(key) for key in self.auths)
        return list(dict.fromkeys(ref.host for ref in hosts if ref is not None))


def load_docker_config(path: Path) -> DockerConfig | None:
    """None when there is no file. Unreadable or ill-typed content raises SourceError."""
    document = read_json_file(path)
    if document is None:
        return None
    try:
        auths = auths_table(document, path)
    except TokenError as error:
        raise SourceError(error.title, error.hint) from None
    store = document.get("credsStore")
    helpers = document.get("credHelpers")
    helpers = {} if helpers is None else helpers  # `null` means none, as in Docker
    if store is not None and not isinstance(store, str):
        raise SourceError(f"{path}: `credsStore` is not a string", "fix the file")
    if not isinstance(helpers, dict):
        raise SourceError(f"{path}: `credHelpers` is not an object", "fix the file")
    return DockerConfig(
        path=path,
        auths=auths,
        creds_store=store or None,
        cred_helpers={host_of(k): v for k, v in helpers.items() if isinstance(v, str) and v},
    )


def file_logins(config: DockerConfig, source: str = "docker-config") -> Findings:
    """Logins kept in config.json itself (hosts with no helper in charge). ``source``:
    the rows' source (Helm's registry config has this layout too: "helm")."""
    if config.creds_store:
        return Findings()  # Docker ignores leftover plain `auth` values when a store is set
    return plain_logins(config.auths, config.path, source, set(config.cred_helpers))


def helper_names(config: DockerConfig) -> set[str]:
    """Every credential helper the config names (``credsStore`` and ``credHelpers``)."""
    return {name for name in (config.creds_store, *config.cred_helpers.values()) if name}


def missing_helpers(config: DockerConfig, environ: Mapping[str, str] | None = None,
                    platform: str | None = None) -> frozenset[str]:
    """The helpers whose ``docker-credential-NAME`` is on no PATH folder (Windows: with one
    of PATHEXT's endings). Stats only: no subprocess, no shutil (``status`` stays light)."""
    environ = os.environ if environ is None else environ
    windows = (platform or sys.platform) == "win32"
    folders = [d for d in environ.get("PATH", "").split(";" if windows else os.pathsep) if d]
    endings = ([e.lower() for e in environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(";") if e]
               if windows else [""])
    return frozenset(name for name in helper_names(config)
                     if not any(_is_program(os.path.join(folder, f"docker-credential-{name}{e}"),
                                            windows)
                                for folder in folders for e in endings))


def _is_program(path: str, windows: bool) -> bool:
    return os.path.isfile(path) and (windows or os.access(path, os.X_OK))
