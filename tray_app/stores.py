"""Credential stores that cannot hold an ECR login, and what works instead.

Pure: decides from facts the sources gathered (:class:`StoreFacts`: Docker's config, which
helpers are missing from PATH or failed when asked, the ecr-login cache's expiries) plus the
OS (``platform``) and the time, so every case is testable anywhere. Known traps:
- ``credsStore``/``credHelpers`` naming a helper that is not installed: ``docker login``
  fails with "executable file not found in $PATH";
- Docker Desktop's ``desktop`` helper without Docker Desktop running: it is on PATH but
  fails (colima #167: "dial unix .../backend.sock: connect: connection refused");
- Windows Credential Manager (``wincred``, and ``desktop`` on Windows, which uses it) keeps
  at most 2560 bytes per secret; an ECR token is larger, so ``docker login`` fails with
  "The stub received bad data" (aws-cli #5636, docker-credential-helpers #22); Docker
  Desktop writes ``credsStore: desktop`` back on start (docker/for-win #9843), so the fix
  that lasts is a per-host ``credHelpers`` entry;
- amazon-ecr-credential-helper's cache holding an expired token: when the helper cannot
  fetch a new one it hands Docker the expired one (amazon-ecr-credential-helper #679).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tray_app.platforms import command_line, is_windows
from tray_app.record import record
from tray_app.sources.docker_config import ECR_LOGIN_PROFILE_PREFIX, is_ecr_login
from tray_app.timeutil import iso_utc

HELPER_MISSING = "helper-missing"  # docker-credential-NAME is not on PATH
HELPER_FAILING = "helper-failing"  # it is, but `list`/`get` fail (Docker Desktop not running)
TOO_SMALL = "too-small"  # Windows Credential Manager: 2560 bytes per secret
STALE_CACHE = "stale-ecr-login-cache"  # ecr-login would hand Docker an expired token
WINCRED_BLOB_LIMIT = 2560
WINDOWS_CREDENTIAL_MANAGER = ("wincred", "desktop")  # Docker Desktop's helper wraps wincred
DOCKER_DESKTOP = "desktop"
DOCKER_ROW_SOURCES = ("docker-config", "docker", "docker-credential-", "ecr-login")


@record
class StoreFacts:
    """What the sources found out about Docker's credential stores (no decisions)."""

    config_path: str
    creds_store: str | None
    cred_helpers: Mapping[str, str]  # host -> helper name
    missing: frozenset  # helper names whose docker-credential-NAME is not on PATH
    failing: Mapping[str, str]  # helper name -> its error line (it exists but failed)
    cache_path: str  # amazon-ecr-credential-helper's cache.json
    cache_expiries: Mapping[str, datetime]  # host -> ExpiresAt of its cached token
    platform: str
    ecr_login_installed: bool = True


@record
class StoreProblem:
    """Why a login to ``host`` cannot work in its store, and the exact fix."""

    host: str
    kind: str
    store: str  # "docker-credential-desktop"
    reason: str  # one clause, no host
    fix: str  # the command to run or the config to change
    configured_in: str = "credsStore"  # the entry that names the store, or "credHelpers"

    @property
    def blocks_login(self) -> bool:
        """Would storing a fresh token fail? (A stale ecr-login cache only misleads.)"""
        return self.kind != STALE_CACHE

    @property
    def plain_file_is_safe(self) -> bool:
        """Would dropping the store's entry from config.json lose nothing? Only when its
        helper is not installed: Docker can read nothing from that store anyway."""
        return self.kind == HELPER_MISSING and not is_ecr_login(self.store.removeprefix(
            "docker-credential-"))

    @property
    def line(self) -> str:
        return f"{self.host}: {self.reason} - fix: {self.fix}"


def store_problem(host: str, facts: StoreFacts | None, now: datetime) -> StoreProblem | None:
    """What stops a Docker login to ``host`` from working in its store; None: nothing known."""
    if facts is None:
        return None
    per_host = facts.cred_helpers.get(host)
    helper = per_host or facts.creds_store
    if not helper:
        return None  # the plain file holds it
    where = f'"credHelpers": {{"{host}": "{helper}"}}' if per_host \
        else f'"credsStore": "{helper}"'
    if is_ecr_login(helper):
        return _ecr_login_problem(host, helper, where, facts, now)
    program = f"docker-credential-{helper}"
    if is_windows(facts.platform) and helper in WINDOWS_CREDENTIAL_MANAGER:
        manager = "Windows Credential Manager" if helper == "wincred" \
            else "Docker Desktop's store (Windows Credential Manager)"
        return StoreProblem(host, TOO_SMALL, program,
                            f"{where} in {facts.config_path} keeps logins in {manager}, which"
                            f" holds at most {WINCRED_BLOB_LIMIT} bytes; an ECR token is"
                            " larger (docker login: \"The stub received bad data\")",
                            _what_works(host, helper, bool(per_host), facts))
    if helper in facts.missing:
        reason = (f"{where} in {facts.config_path} names {program}, which is not on PATH")
        if helper == DOCKER_DESKTOP:
            reason += " (it comes with Docker Desktop)"
        return StoreProblem(host, HELPER_MISSING, program, reason + ": docker login cannot"
                            " store the token", _what_works(host, helper, bool(per_host), facts),
                            "credHelpers" if per_host else "credsStore")
    if helper in facts.failing:
        if helper == DOCKER_DESKTOP:
            reason = (f"{program} fails ({facts.failing[helper]}): Docker Desktop is not"
                      " running, and its store works only while it runs")
            fix = "start Docker Desktop, or " + _what_works(host, helper, bool(per_host), facts)
        else:
            reason = f"{program} fails ({facts.failing[helper]})"
            fix = (f"run `{program} list` to see why, or "
                   + _what_works(host, helper, bool(per_host), facts))
        return StoreProblem(host, HELPER_FAILING, program, reason, fix)
    return None


def _ecr_login_problem(host: str, helper: str, where: str, facts: StoreFacts,
                       now: datetime) -> StoreProblem | None:
    program = f"docker-credential-{helper}"
    if helper in facts.missing:
        if helper.startswith(ECR_LOGIN_PROFILE_PREFIX):  # our wrapper script
            fix = (f"`ecr-token-tray credhelper enable {host}` writes it again (its folder"
                   f" must be on PATH), or `ecr-token-tray credhelper disable {host} --login`")
        else:
            fix = ("install amazon-ecr-credential-helper (Debian/Ubuntu: `sudo apt install"
                   " amazon-ecr-credential-helper`, macOS: `brew install"
                   " docker-credential-helper-ecr`), or `ecr-token-tray credhelper disable"
                   f" {host} --login`")
        return StoreProblem(host, HELPER_MISSING, program,
                            f"{where} in {facts.config_path} names {program}, which is not on"
                            " PATH: docker cannot get a token for it", fix)
    expires = facts.cache_expiries.get(host)
    if expires is not None and expires <= now:
        remove = f"{'del' if is_windows(facts.platform) else 'rm'} {_quoted(facts)}"
        return StoreProblem(host, STALE_CACHE, program,
                            f"docker-credential-ecr-login's cache holds a token that expired"
                            f" {iso_utc(expires)}; when the helper cannot fetch a new one it"
                            " hands Docker that expired token (403) instead of saying why",
                            f"`{remove}` (the helper makes a new cache), and sign in again if"
                            " its AWS session ended")
    return None


def _what_works(host: str, helper: str, per_host: bool, facts: StoreFacts) -> str:
    """The stores an ECR login works in: a per-host ecr-login entry, or the plain file."""
    enable = f"`ecr-token-tray credhelper enable {host}`"
    if not facts.ecr_login_installed:
        enable = f"install amazon-ecr-credential-helper, then {enable}"
    enable += f' ("credHelpers": {{"{host}": "ecr-login"}}: no token to store)'
    if per_host:
        plain = f'remove "{host}": "{helper}" from "credHelpers" in {facts.config_path}'
    else:
        plain = f'remove "credsStore": "{helper}" from {facts.config_path}'
    plain += " (the token then stays in that file"
    if not per_host and helper not in facts.missing:
        plain += f", and Docker stops reading the other logins kept by docker-credential-{helper}"
    plain += ")"
    if helper == DOCKER_DESKTOP and not per_host and helper not in facts.missing:
        plain += ("; Docker Desktop writes \"credsStore\": \"desktop\" back when it starts, so"
                  " the per-host entry is the fix that lasts")
    elif facts.platform == "darwin" and not per_host:
        plain += ', or set "credsStore": "osxkeychain"'
    return f"{enable}, or {plain}"


def explain_store_failure(host: str, docker_said: str, config_path: str) -> StoreProblem | None:
    """Docker's own error when storing a login failed for a reason known above but not
    seen before (Docker Desktop's helper whose `list`/`get` still work while its `store`
    needs Desktop running, colima #167; Credential Manager's size limit)."""
    said = docker_said.lower()
    enable = (f"`ecr-token-tray credhelper enable {host}`"
              f' ("credHelpers": {{"{host}": "ecr-login"}}: no token to store)')
    if "backend.sock" in said or "credstore-updated" in said:
        return StoreProblem(host, HELPER_FAILING, "docker-credential-desktop",
                            "Docker Desktop's credential store saves logins only while Docker"
                            f" Desktop runs (docker login: {docker_said})",
                            f"start Docker Desktop, or {enable}, or remove \"credsStore\":"
                            f" \"desktop\" from {config_path}")
    if "stub received bad data" in said:
        return StoreProblem(host, TOO_SMALL, "Windows Credential Manager",
                            f"Windows Credential Manager holds at most {WINCRED_BLOB_LIMIT}"
                            f" bytes; an ECR token is larger (docker login: {docker_said})",
                            f"{enable}, or remove \"credsStore\" from {config_path}")
    return None


def _quoted(facts: StoreFacts) -> str:
    """The cache path as the user's shell reads it (the shell quoting only when needed:
    importing shlex would cost every `status`)."""
    path = facts.cache_path
    if all(c.isalnum() or c in "/\\:._-~" for c in path):
        return path
    return command_line([path], facts.platform)


def needs_store_check(source: str) -> bool:
    """Is this row's login kept by Docker (so Docker's store decides whether it works)?"""
    return source.startswith(DOCKER_ROW_SOURCES)
