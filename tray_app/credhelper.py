"""The parts of handing ECR registries to amazon-ecr-credential-helper (``ecr-login``)
and back; tray_app/service/handover.py puts them together as a transaction.

- wrappers: a registry whose profile is not the one the helper would use by default gets
  ``ecr-login-<profile>``: a small script ``docker-credential-ecr-login-<profile>`` that
  runs the real helper (by its absolute path) with ``AWS_PROFILE`` set (the helper takes
  its profile only from the environment). They live outside the app's install, in
  ``~/.local/bin`` or the folder the user chose, so upgrades and uninstalls keep them.
- ``map_hosts``: ``credHelpers[HOST] = "ecr-login..."`` in Docker's config.json, and the
  now-stale plain ``auths[HOST].auth`` removed: the commit, done last.
- ``disable``: the mapping removed, and a wrapper no host uses any more.
- ``verify``: ask the helper as Docker does (``get``, the host on stdin, found on PATH as
  Docker finds it), then ``GET https://HOST/v2/`` with its answer. The secret is never
  printed.

config.json is edited through :func:`tray_app.renew.store.edit_docker_config`: atomic,
every other key and the mode kept, never a file that did not parse. The helper's own
cache (``~/.ecr/cache.json``) is only ever read, by the snapshot.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from tray_app.errors import SourceError, TrayAppError
from tray_app.fileio import write_atomic
from tray_app.hosts import RegistryRef, host_of
from tray_app.model import RegistryStatus, State
from tray_app.settings import user_home
from tray_app.sources.docker_config import (
    ECR_LOGIN,
    ECR_LOGIN_PROFILE_PREFIX,
    DockerConfig,
    ecr_login_profile,
    is_ecr_login,
    load_docker_config,
)
from tray_app.sources.ecr_login import HELPER_PROGRAM

DOCKER_SOURCES = ("docker-config", "docker-credential-")  # Docker logins it can hand over
VERIFY_HELPER_TIMEOUT = 30.0  # the helper may refresh an SSO token or call ECR first
# what helper 0.6.0 (AWS SDK for Go v2 of 2022) panics with for an `sso_session` profile
TOO_OLD_FOR_SSO_SESSION = "missing required configuration: sso_region, sso_start_url"
WRAPPER_MARK = "# written by ecr-token-tray credhelper"
INSTALL_HINT = (
    "install it: Debian/Ubuntu `sudo apt install amazon-ecr-credential-helper`,"
    " macOS `brew install docker-credential-helper-ecr`, others: a release binary from"
    " https://github.com/awslabs/amazon-ecr-credential-helper/releases")
# An AWS profile name that is safe as part of a file name and a helper name.
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,63}")


class CredHelperError(TrayAppError):
    """A credhelper step refused, with nothing changed."""


@dataclass(frozen=True)
class Target:
    """A registry to hand to ecr-login with the profile it should use (None: default)."""

    registry: RegistryRef
    profile: str | None


@dataclass(frozen=True)
class Change:
    host: str
    helper: str  # "ecr-login" or "ecr-login-<profile>"
    message: str  # one line for the user


# -- the helper and its wrappers -------------------------------------------------------------
def helper_path() -> str | None:
    return shutil.which(HELPER_PROGRAM)


def require_helper() -> str:
    path = helper_path()
    if path is None:
        raise CredHelperError(f"{HELPER_PROGRAM} is not installed (not on PATH);"
                              " nothing changed", INSTALL_HINT)
    return path


def helper_for(profile: str | None) -> str:
    """``ecr-login`` for the helper's default profile, else ``ecr-login-<profile>``."""
    if profile in (None, "default"):
        return ECR_LOGIN
    check_profile_name(profile)
    return ECR_LOGIN_PROFILE_PREFIX + profile


def check_profile_name(profile: str) -> None:
    if not _PROFILE_NAME.fullmatch(profile):
        raise CredHelperError(
            f"AWS profile {profile!r} cannot be part of a file name"
            f" (docker-credential-ecr-login-<profile>); nothing changed",
            "use a profile name of letters, digits and . _ + @ - (at most 64), e.g. copy"
            " the profile under such a name in ~/.aws/config")


def wrapper_folder(chosen: Path | None = None) -> Path:
    """Where wrappers go: the folder the user chose (``--wrapper-folder``, or
    ``[credhelper] wrapper_folder`` in config.toml), else ``~/.local/bin``. Never the app's
    own install: an upgrade or uninstall replaces that folder while Docker still runs them."""
    if chosen is not None:
        return chosen
    return user_home(os.environ) / ".local" / "bin"


def on_path(folder: Path) -> bool:
    entries = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return any(_same_folder(entry, folder) for entry in entries)


def _same_folder(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve()
    except OSError:
        return False


def wrapper_text(profile: str, helper: str) -> str:
    """The script: ``helper`` is the real helper's absolute path (Docker's PATH, or the
    tray's, need not hold its folder)."""
    return (
        "#!/bin/sh\n"
        f"{WRAPPER_MARK}: {HELPER_PROGRAM} with the AWS profile {profile}.\n"
        "# Docker runs it for the hosts config.json maps to"
        f" {ECR_LOGIN_PROFILE_PREFIX}{profile};\n"
        "# `ecr-token-tray credhelper disable HOST` removes it when no host uses it.\n"
        "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n"
        f"AWS_PROFILE={shlex.quote(profile)}\n"
        "export AWS_PROFILE\n"
        f'exec {shlex.quote(helper)} "$@"\n'
    )


def wrapper_name(profile: str) -> str:
    return f"{HELPER_PROGRAM}-{profile}"


def is_our_wrapper(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return WRAPPER_MARK.encode() in handle.read(4096)
    except OSError:
        return False


@dataclass(frozen=True)
class Written:
    """A wrapper just written, and what the file held before (None: it did not exist), so
    that a failed hand-over can put it back."""

    path: Path
    previous: bytes | None
    created: tuple[Path, ...] = ()  # folders made for it, deepest first

    def undo(self) -> None:
        """Put the file back as it was (the folders: :func:`remove_created_folders`)."""
        try:
            if self.previous is None:
                self.path.unlink(missing_ok=True)
            else:
                write_atomic(self.path, self.previous, mode=0o755)
        except OSError:
            pass  # best effort; the file is ours either way


def remove_created_folders(written: list[Written]) -> None:
    """The folders wrappers were written into that did not exist before, when empty."""
    for wrapper in written:
        for folder in wrapper.created:
            with contextlib.suppress(OSError):  # not empty: something else lives there now
                folder.rmdir()


def write_wrapper(folder: Path, profile: str, helper: str) -> Written:
    """Write (or refresh) the wrapper for ``profile`` running ``helper`` (absolute path);
    never over a file that is not ours."""
    if sys.platform == "win32":
        raise CredHelperError(f"profile {profile}: per-profile wrappers are shell scripts and"
                              " not made on Windows; nothing changed",
                              "set AWS_PROFILE for Docker, or use the default profile")
    check_profile_name(profile)
    path = folder / wrapper_name(profile)
    if path.exists() and not is_our_wrapper(path):
        raise CredHelperError(f"{path}: exists and was not written by ecr-token-tray;"
                              " nothing changed", "move it aside and try again")
    created = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    try:
        previous = path.read_bytes() if path.exists() else None
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, wrapper_text(profile, helper).encode(), mode=0o755)
    except OSError as error:
        raise CredHelperError(f"{path}: cannot write the wrapper ({error.strerror});"
                              " nothing changed", "fix the folder's permissions, or choose"
                              " another with --wrapper-folder") from None
    return Written(path, previous, tuple(created))


def find_wrapper(profile: str, folder: Path | None = None) -> Path | None:
    """Our wrapper for ``profile``: in the wrapper folder, else wherever PATH finds it."""
    candidates = [wrapper_folder(folder) / wrapper_name(profile)]
    found = shutil.which(wrapper_name(profile))
    if found:
        candidates.append(Path(found))
    return next((p for p in candidates if p.is_file() and is_our_wrapper(p)), None)


def remove_wrapper(profile: str, folder: Path | None = None) -> Path | None:
    path = find_wrapper(profile, folder)
    if path is None:
        return None
    try:
        path.unlink()
    except OSError:
        return None
    return path


# -- config.json -----------------------------------------------------------------------------
def read_config(config_path: Path) -> DockerConfig | None:
    try:
        return load_docker_config(config_path)
    except SourceError as error:
        raise CredHelperError(f"{error.title}; not touched", error.hint) from None


def refuse_creds_store(config: DockerConfig | None) -> None:
    if config is not None and is_ecr_login(config.creds_store):
        raise CredHelperError(
            f"{config.path}: `credsStore` is {config.creds_store} already - every registry"
            " goes through docker-credential-ecr-login; nothing to do",
            "remove `credsStore` first to hand registries over one by one")


def mapped_helpers(config: DockerConfig | None) -> dict[str, str]:
    """ECR-login host -> helper name, from ``credHelpers``."""
    if config is None:
        return {}
    return {host: name for host, name in config.cred_helpers.items() if is_ecr_login(name)}


def map_hosts(config_path: Path, helpers: dict[str, str]) -> None:
    """The commit: map each host to its helper in config.json and drop its now-stale plain
    ``auth``. Raises CredHelperError with the file unchanged."""
    from tray_app.renew.store import edit_docker_config

    def hand_over(document: dict) -> None:
        table = document.get("credHelpers")
        table = dict(table) if isinstance(table, dict) else {}
        table.update(helpers)
        document["credHelpers"] = table
        for key, entry in list(document["auths"].items()):
            if host_of(key) in helpers and isinstance(entry, dict) and "auth" in entry:
                document["auths"][key] = {k: v for k, v in entry.items() if k != "auth"}

    try:
        edit_docker_config(config_path, hand_over, ", ".join(helpers))
    except TrayAppError as error:
        raise CredHelperError(error.title, error.hint) from None


def disable(config_path: Path, hosts: list[str], folder: Path | None = None,
            remove_wrappers: bool = True) -> list[Change]:
    """Remove the ecr-login mapping of ``hosts``, then (``remove_wrappers``) wrappers no
    host uses any more."""
    from tray_app.renew.store import edit_docker_config

    config = read_config(config_path)
    before = mapped_helpers(config)
    wanted = [h for h in dict.fromkeys(hosts) if h in before]
    if not wanted:
        return []
    removed: dict[str, str] = {}

    def take_back(document: dict) -> None:
        removed.clear()
        table = document.get("credHelpers")
        if not isinstance(table, dict):
            return
        for key in [k for k, v in table.items()
                    if host_of(k) in wanted and isinstance(v, str) and is_ecr_login(v)]:
            removed[host_of(key)] = table.pop(key)
        if not table:
            del document["credHelpers"]

    try:
        edit_docker_config(config_path, take_back, ", ".join(wanted))
    except TrayAppError as error:
        raise CredHelperError(error.title, error.hint) from None
    still_used = set(mapped_helpers(read_config(config_path)).values())
    changes = []
    for host, helper in removed.items():
        text = f"{host}: no longer on {helper}"
        profile = ecr_login_profile(helper)
        if remove_wrappers and profile is not None and helper not in still_used:
            gone = remove_wrapper(profile, folder)
            if gone is not None:
                text += f"; removed {gone} (no host uses it now)"
                still_used.add(helper)  # removed once; later hosts need not say it again
        changes.append(Change(host, helper, text))
    return changes


def plain_login_row(registry: RegistryRef, profile: str | None) -> RegistryStatus:
    """A registry with no login now, for the re-login engine to ``docker login``."""
    return RegistryStatus(registry=registry, source="docker", expires_at=None,
                          seconds_left=None, state=State.UNKNOWN, detail="not logged in yet",
                          profile=profile)


def new_docker_login_row(registry: RegistryRef, snapshot) -> RegistryStatus:
    """``plain_login_row`` for a registry ``snapshot`` shows no login for: the profile the
    files map it to, and what Docker's credential store would make of it (the engine then
    says so before asking AWS, tray_app.stores)."""
    from tray_app.settings import Paths
    from tray_app.snapshot import configured_profile
    from tray_app.stores import store_problem

    row = plain_login_row(registry, configured_profile(registry, Paths.from_env()))
    return row._replace(store_problem=store_problem(registry.host, snapshot.stores,
                                                    snapshot.generated_at))


def remove_unused_wrappers(candidates: set[str], config_path: Path,
                           folder: Path | None = None) -> list[Path]:
    """Remove our wrappers for helpers no host maps to any more (a host moved profiles)."""
    still_used = set(mapped_helpers(read_config(config_path)).values())
    removed = []
    for helper in sorted(candidates - still_used):
        profile = ecr_login_profile(helper)
        gone = remove_wrapper(profile, folder) if profile else None
        if gone is not None:
            removed.append(gone)
    return removed


# -- verification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    verified: bool
    answer: str  # "verified", or why not (never the secret)


def verify(host: str, helper: str, wrapper: Path | None = None) -> Check:
    """Ask the helper as Docker does (found on PATH by its name), then ``GET /v2/`` with
    its answer. ``wrapper``: the file Docker must find under that name."""
    from tray_app.renew.verify import verify_login
    from tray_app.sources.cred_helper import CredentialHelper

    program = f"docker-credential-{helper}"
    found = shutil.which(program)
    if found is None and wrapper is not None:
        folder = wrapper.parent
        return Check(False, f"{folder} is not on PATH, so Docker cannot run {program} - add"
                            f' it (e.g. `export PATH="{folder}:$PATH"` in ~/.profile, then a'
                            " new shell), or choose a folder on PATH with --wrapper-folder")
    if found is None:
        return Check(False, f"{program} is not on PATH - Docker will not find it either")
    if wrapper is not None and not _same_file(Path(found), wrapper):
        return Check(False, f"Docker would run {found}, not {wrapper} - remove that one, or"
                            f" choose its folder with --wrapper-folder {Path(found).parent}")
    try:
        credential = CredentialHelper(helper, timeout=VERIFY_HELPER_TIMEOUT).get(host)
    except SourceError as error:
        if TOO_OLD_FOR_SSO_SESSION in error.title:
            profile = ecr_login_profile(helper) or "default"
            return Check(False, f"{program}: this docker-credential-ecr-login is too old for"
                                " `sso_session` profiles (Debian 12 ships 0.6.0) - install a"
                                " newer release binary, or give profile"
                                f" {profile} its own sso_start_url and sso_region")
        return Check(False, str(error))
    if credential is None:
        profile = ecr_login_profile(helper)
        sign_in = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return Check(False, f"{program} got no token (its log: ~/.ecr/log/ecr-login.log) -"
                            f" are the AWS credentials valid? e.g. `{sign_in}`")
    check = verify_login(host, credential.username, credential.password)
    return Check(check.verified, check.answer)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return False


def wrapper_mode_ok(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & stat.S_IXUSR)
    except OSError:
        return False
