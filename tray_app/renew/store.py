"""Put a fresh ECR token where the registry's login lives.

- Docker rows: ``docker login --username AWS --password-stdin HOST``; Docker applies
  ``credsStore``/``credHelpers`` itself and honours ``DOCKER_CONFIG``.
- Podman rows: ``podman login --authfile FILE --username AWS --password-stdin HOST`` into
  the auth file that holds the login (``REGISTRY_AUTH_FILE`` first, as Podman does).
- Helm rows: Helm's registry config, as ``helm registry login`` writes it:
  ``auths[HOST].auth = base64("AWS:" + token)`` (atomically, every other entry and the
  mode kept), or through the credential helper that file names for the host (``store``,
  the secret on stdin). No helm binary needed; the token is the group's one token, the
  same Docker's row gets.
- ``ecr-login`` rows: nothing to store; the helper fetches tokens with the credentials the
  SSO step just made valid.
- No docker CLI and no credential store for the host: write ``config.json`` directly -
  atomically, every other key kept, mode kept (0600 for a new file), and never a file
  that did not parse.

The password only ever travels on stdin; it never appears in argv, logs or errors.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file, remove_stale_temps
from tray_app.hosts import host_of
from tray_app.model import RegistryStatus
from tray_app.renew.ecr import EcrToken
from tray_app.renew.errors import RenewError
from tray_app.settings import Paths
from tray_app.sources.docker_config import ECR_LOGIN, is_ecr_login, load_docker_config
from tray_app.tokens import make_authorization_token

log = logging.getLogger(__name__)

LOGIN_TIMEOUT = 60.0
CAS_ATTEMPTS = 20
# Docker and Podman rewrite their whole file on every login: two of our own logins at once
# would lose one entry, so logins to the same tool run one at a time.
_docker_lock = threading.Lock()
_podman_lock = threading.Lock()
_helm_lock = threading.Lock()


def store_kind(row: RegistryStatus) -> str:
    """"podman", "helm", "ecr-login" (managed: nothing to store), "kubernetes" or
    "docker"."""
    if row.kubernetes is not None:
        return "kubernetes"
    if row.source in ("podman", "helm"):
        return row.source
    if row.source == ECR_LOGIN:
        return ECR_LOGIN
    return "docker"


def store_login(row: RegistryStatus, token: EcrToken, paths: Paths) -> str:
    """Store the token for ``row``; returns where it went. Raises RenewError."""
    kind = store_kind(row)
    if kind == ECR_LOGIN:
        return "docker-credential-ecr-login fetches its own tokens"
    if kind == "kubernetes":
        from tray_app.renew.kube_store import store_in_secret

        return store_in_secret(row.kubernetes, row.host, token, paths,
                               create=row.kubernetes.create_if_missing)
    if kind == "podman":
        with _podman_lock:
            return _podman_login(row.host, token, paths)
    if kind == "helm":
        with _helm_lock:
            return _helm_login(row.host, token, paths.helm_registry_config)
    with _docker_lock:
        if shutil.which("docker"):
            return _docker_login(row.host, token, paths.docker_config)
        return _without_docker(row.host, token, paths.docker_config)


def _docker_login(host: str, token: EcrToken, config_path: Path) -> str:
    try:
        _run_login(["docker", "login", "--username", token.username, "--password-stdin",
                    host], host, token, "docker")
    except ToolLoginFailed as error:
        from tray_app.stores import explain_store_failure  # only on this error path

        known = explain_store_failure(host, error.said, str(config_path))
        if known is None:
            raise
        raise RenewError(f"{host}: {known.reason}", known.fix) from None
    return "docker login"


def _podman_login(host: str, token: EcrToken, paths: Paths) -> str:
    if not shutil.which("podman"):
        raise RenewError(f"{host}: podman is not installed (not on PATH)",
                         "install podman, or remove the login from its auth.json")
    authfile = _podman_file_for(host, paths.podman_auth_files)
    _run_login(["podman", "login", "--authfile", str(authfile), "--username", token.username,
                "--password-stdin", host], host, token, "podman")
    return f"podman login ({authfile})"


def _helm_login(host: str, token: EcrToken, config_path: Path | None) -> str:
    """Store the token as `helm registry login` does: through the credential helper Helm's
    file names for the host, else in the file itself."""
    if config_path is None:
        raise RenewError(f"{host}: cannot tell where Helm's registry config is (%APPDATA% is"
                         " not set)", "set HELM_REGISTRY_CONFIG, or run `helm registry login`")
    try:
        config = load_docker_config(config_path)
    except SourceError as error:
        raise RenewError(f"{host}: Helm's registry config: {error.title}; not touched",
                         error.hint) from None
    helper = config.store_for(host) if config else None
    if helper and is_ecr_login(helper):
        return f"docker-credential-{helper} fetches its own tokens (Helm)"
    if helper:
        from tray_app.sources.cred_helper import CredentialHelper
        from tray_app.tokens import BasicCredential

        store = CredentialHelper(helper, timeout=LOGIN_TIMEOUT)
        try:
            store.store(host, BasicCredential(token.username, token.password))
        except SourceError as error:
            raise RenewError(f"{host}: Helm's credential store: {error.title}",
                             error.hint or "run `ecr-token-tray doctor`") from None
        return f"{store.program} (Helm's {config_path})"
    write_docker_auth(config_path, host, make_authorization_token(token.password,
                                                                   token.username))
    return f"written to Helm's {config_path}"


def _podman_file_for(host: str, files: tuple[Path, ...]) -> Path:
    """The auth file that holds ``host`` (where Podman will look first), else the primary."""
    for path in files:
        try:
            document = read_json_file(path)
        except SourceError:
            continue
        auths = document.get("auths") if isinstance(document, dict) else None
        if isinstance(auths, dict) and any(host_of(key) == host for key in auths):
            return path
    return files[0]


def _run_login(argv: list[str], host: str, token: EcrToken, tool: str) -> None:
    log.debug("running %s", " ".join(argv))  # argv holds no secret: the password is stdin
    try:
        result = subprocess.run(argv, input=token.password, capture_output=True, text=True,
                                timeout=LOGIN_TIMEOUT, env=os.environ.copy())
    except FileNotFoundError:
        raise RenewError(f"{host}: {tool} is not installed (not on PATH)",
                         f"install {tool} and try again") from None
    except subprocess.TimeoutExpired:
        raise RenewError(f"{host}: `{tool} login` did not finish in {LOGIN_TIMEOUT:.0f} s",
                         "a credential helper may be waiting for input (gpg pinentry?)"
                         " - run `ecr-token-tray doctor`") from None
    if result.returncode == 0:
        return
    reason = _last_line(result.stderr) or f"exit status {result.returncode}"
    log.info("%s login for %s failed: %s", tool, host, reason)
    if "401" in reason or "unauthorized" in reason.lower():
        raise RenewError(f"{host}: the registry refused the fresh token ({tool} login: 401"
                         " Unauthorized)", "check that the profile's account may pull from"
                         " this registry")
    raise ToolLoginFailed(f"{host}: `{tool} login` failed: {reason}",
                          "run `ecr-token-tray doctor` to check the tool and its credential"
                          " store", reason)


class ToolLoginFailed(RenewError):
    """`docker login`/`podman login` failed; ``said``: the tool's own last line."""

    def __init__(self, title: str, hint: str, said: str) -> None:
        super().__init__(title, hint)
        self.said = said


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _without_docker(host: str, token: EcrToken, config_path: Path) -> str:
    try:
        config = load_docker_config(config_path)
    except SourceError as error:
        raise RenewError(f"{host}: {error.title}; not touched",
                         "fix the file, or install docker and try again") from None
    helper = config.store_for(host) if config else None
    if helper:
        raise RenewError(f"{host}: docker CLI not found, and {config_path} hands this host to"
                         f" docker-credential-{helper}", "install docker and try again")
    write_docker_auth(config_path, host, make_authorization_token(token.password,
                                                                   token.username))
    return f"written to {config_path}"


def write_docker_auth(config_path: Path, host: str, auth: str) -> None:
    """Set ``auths[host].auth`` in Docker's config.json as ``docker login`` would."""

    def set_auth(document: dict) -> None:
        keys = [key for key in document["auths"] if host_of(key) == host] or [host]
        for key in keys:
            entry = document["auths"].get(key)
            entry = dict(entry) if isinstance(entry, dict) else {}
            entry["auth"] = auth
            document["auths"][key] = entry

    edit_docker_config(config_path, set_auth, host)
    log.info("wrote the login for %s to %s", host, config_path)


def drop_store_entry(config_path: Path, host: str, configured_in: str) -> None:
    """Make Docker keep ``host``'s login in config.json itself: remove ``credsStore``, or
    ``credHelpers[host]`` (every other key and the file mode kept)."""

    def drop(document: dict) -> None:
        if configured_in == "credsStore":
            document.pop("credsStore", None)
            return
        helpers = document.get("credHelpers")
        if isinstance(helpers, dict):
            for key in [k for k in helpers if host_of(k) == host]:
                del helpers[key]

    edit_docker_config(config_path, drop, host)
    log.info("%s: removed %s from %s; logins stay in that file", host, configured_in,
             config_path)


def edit_docker_config(config_path: Path, edit: Callable[[dict], None], about: str) -> None:
    """Apply ``edit`` to Docker's config.json: every other key and the file mode kept.

    Read, merge, then replace via a temp file - but only if nobody replaced the file since
    we read it (Docker also writes by rename, so its inode changes); else read again and
    merge again (``edit`` runs on each fresh read). That keeps entries another writer (a
    concurrent ``docker login``) added while we worked. No lock is shared with Docker, so a
    writer landing in the few microseconds between our check and our rename can still be
    lost; the race test measures this. A file that does not parse is never written.
    ``about`` (a host) starts the error lines.
    """
    target = config_path.resolve() if config_path.is_symlink() else config_path
    for _ in range(CAS_ATTEMPTS):
        before = _identity(target)
        document, mode = _read_for_update(target)
        edit(document)
        try:  # Python reads 1e400 as inf; Docker could not read the `Infinity` it would write
            data = (json.dumps(document, indent="\t", allow_nan=False) + "\n").encode()
        except ValueError:
            raise RenewError(f"{target}: holds a number out of range (like 1e400) that this app"
                             " cannot write back unchanged; not touched",
                             "fix that value, or install docker and try again") from None
        try:
            replaced = _replace_if_unchanged(target, data, mode, before)
        except OSError as error:  # disk full, read-only folder: the old file stays as it was
            raise RenewError(f"{about}: cannot write {target} ({error.strerror}); not changed",
                             "free some disk space or fix the folder's permissions, then"
                             " try again") from None
        if replaced:
            return
    raise RenewError(f"{about}: {target} kept changing while this app tried to write it",
                     "another program is rewriting it; try again in a moment")


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which version of the file this is. Not ctime: a rename changes it, not the content."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_for_update(path: Path) -> tuple[dict, int]:
    try:
        document = read_json_file(path)
    except SourceError as error:
        raise RenewError(f"{error.title}; not touched", error.hint) from None
    if document is None:
        return {"auths": {}}, 0o600
    if not isinstance(document, dict) or not isinstance(document.get("auths", {}), dict):
        raise RenewError(f"{path}: not a Docker config (`auths` is not an object); not touched",
                         "fix or move the file aside and try again")
    document.setdefault("auths", {})
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o600
    return document, mode


def _replace_if_unchanged(path: Path, data: bytes, mode: int,
                          before: tuple[int, int, int] | None) -> bool:
    """Atomic write (temp file, fsync, rename) that gives up if ``path`` changed meanwhile.

    On Linux the final step swaps the files (``renameat2(RENAME_EXCHANGE)``), so we get back
    the version we displaced: if another writer's rename slipped in after our check, its
    file is put back and the caller merges again instead of losing that writer's entry.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    remove_stale_temps(path)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if _identity(path) != before:
            return False
        if before is None or not _exchange(temp, path):
            os.replace(temp, path)
            return True
        if _identity(temp) == before:
            return True  # displaced exactly the version we merged from
        ours = _identity(path)
        log.info("%s changed while it was written; merging again", path)
        if _identity(path) == ours:
            _exchange(temp, path)  # put the other writer's version back, then retry
        return False
    finally:
        temp.unlink(missing_ok=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOENT, errno.EOPNOTSUPP):
        return False  # old kernel, a file system without it, or the target just vanished
    raise OSError(error, os.strerror(error), str(second))


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)
