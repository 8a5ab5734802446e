"""What counts as a login file: the one list of files (and folders) where logins live.

A login changes without the app taking part when one of these changes: someone ran
`docker login`, `aws sso login`, edited the config, or a cluster's kubeconfig changed.
Three readers use this list and only this one: the tray's and `watch`'s change detection
(tray_app/ui/loop.py, every second), the prompt summary's staleness (`ecr-token-tray
prompt`), and the shell snippets of `prompt init` (which test it with `-nt`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    from pathlib import Path

    from tray_app.settings import Paths


def login_files(paths: Paths) -> list[Path]:
    """Docker's, Podman's and Helm's login files, the ecr-login cache, the AWS config, the
    SSO token cache (a folder: a new token file changes its mtime), the app's config and
    its record of the logins it made, and the kubeconfigs (their clusters' pull secrets
    are logins too).

    A folder stands for the files in it; change detection looks inside it too."""
    from tray_app.statefile import logins_path

    return [paths.docker_config, *paths.podman_auth_files, paths.ecr_cache, paths.aws_config,
            paths.sso_cache_dir, paths.config_file, logins_path(paths.state_dir),
            *paths.kubeconfigs, *_helm(paths)]


def _helm(paths: Paths) -> list[Path]:
    return [paths.helm_registry_config] if paths.helm_registry_config else []
