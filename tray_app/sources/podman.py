"""Podman/Buildah/Skopeo ``auth.json`` files (same ``auths`` layout as Docker)."""

from __future__ import annotations

from pathlib import Path

from tray_app.errors import SourceError, TokenError
from tray_app.fileio import read_json_file
from tray_app.sources import Findings
from tray_app.sources.auth_file import auths_table, plain_logins


def podman_logins(auth_files: tuple[Path, ...]) -> Findings:
    """Logins from Podman's auth files; a host found in an earlier file hides later ones,
    as Podman itself looks them up (runtime file first, then the XDG config one)."""
    found = Findings()
    for path in auth_files:
        try:
            document = read_json_file(path)
            if document is None:
                continue
            auths = auths_table(document, path)
        except (SourceError, TokenError) as error:
            found.problem(path, str(error))
            continue
        seen = {login.registry.host for login in found.logins}
        found.extend(plain_logins(auths, path, "podman", skip_hosts=seen))
    return found
