"""Helm's registry login file (``helm registry login``): Docker's layout, Helm's own file.

Since Helm 3.18 Helm no longer reads Docker's logins, so an ECR login for ``helm pull
oci://...`` lives here and expires on its own. Plain ``auths`` and the file's
``credsStore``/``credHelpers`` are read exactly as for Docker (the same code); every row
has the source ``helm``. Where the file is: :func:`tray_app.settings.helm_registry_config`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.sources import Findings
from tray_app.sources.docker_config import file_logins, is_ecr_login, load_docker_config
from tray_app.sources.ecr_login import managed_logins

SOURCE = "helm"


def helm_logins(path: Path, ecr_cache: dict[str, datetime] | None = None) -> Findings:
    """ECR logins in Helm's registry config; a file that cannot be used is one problem
    naming it (the other sources go on). A host Helm's file hands to ecr-login is an
    ``ecr-login`` row (one with Docker's, when Docker's file maps it too: the helper and
    its cache serve both tools alike)."""
    found = Findings()
    try:
        config = load_docker_config(path)
    except SourceError as error:
        found.problem(path, f"Helm's registry config: {error}")
        return found
    if config is None:
        return found
    found.extend(file_logins(config, SOURCE))
    found.extend(managed_logins(config, ecr_cache or {}))
    if any(name and not is_ecr_login(name)
           for name in (config.creds_store, *config.cred_helpers.values())):
        from tray_app.sources.cred_helper import helper_logins  # runs helpers: only then

        found.extend(helper_logins(config, SOURCE))
    return found
