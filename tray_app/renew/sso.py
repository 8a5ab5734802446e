"""AWS IAM Identity Center (SSO): keep a profile's session usable, a browser only when needed.

Order of attempts for a profile: the cached access token is still good -> nothing to do;
it is (nearly) expired but holds a refresh token with a live client registration -> refresh
it silently with sso-oidc ``CreateToken`` (grant ``refresh_token``), as botocore's
``SSOTokenProvider`` does, and rewrite the cache file in the AWS CLI's format; otherwise,
when allowed, sign in in the browser with ``aws sso login`` (CLI v2), or natively with the
sso-oidc device authorization when ``aws`` is missing or is CLI v1.

Only one sign-in or refresh per SSO session runs at a time: a lock per session inside the
process, and a lock file in the app's state dir across processes (tray + CLI). Whoever
waited re-reads the cache afterwards and does nothing when the session became good.

This module is the public entry and the decision flow; each step lives in its own module:
``sso_target`` (which session a profile means), ``sso_cache`` (the AWS CLI's token cache),
``sso_refresh`` (silent renewal), ``sso_cli`` (``aws sso login``), ``sso_device`` (native
device authorization) and ``sso_oidc`` (the sso-oidc client they share).

boto3/botocore are imported inside functions only; tokens never leave these modules except
in the cache files the AWS CLI itself writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.renew.errors import BrowserNeeded, RenewError, SsoLoginFailed, SsoSessionRefused
from tray_app.renew.sso_cache import NO_TOKEN, read_state, token_id
from tray_app.renew.sso_cli import AwsCli, aws_cli_at, cli_sign_in, find_aws_cli
from tray_app.renew.sso_device import native_sign_in
from tray_app.renew.sso_refresh import RefreshRefused, refresh
from tray_app.renew.sso_target import (
    Progress,
    Target,
    load_config,
    target_for_profile,
    target_for_session,
)
from tray_app.settings import Paths
from tray_app.sources.aws_config import load_aws_config

__all__ = ["AwsCli", "CachedSession", "Progress", "aws_cli_at", "cached_session",
           "can_renew_silently", "ensure_credentials", "explain_sso_error", "find_aws_cli",
           "profile_name", "sign_in"]

log = logging.getLogger(__name__)

_locks_guard = threading.Lock()
_session_locks: dict[str, threading.Lock] = {}


# --------------------------------------------------------------------------------------
# Public interface (see notes/interfaces.md)
# --------------------------------------------------------------------------------------
def ensure_credentials(profile: str | None, *, allow_browser: bool, no_browser: bool = False,
                       timeout: float = 600.0, progress: Progress | None = None,
                       force_sign_in: bool = False, refused_token_id: str | None = None) -> str:
    """Make the profile's AWS credentials usable, without a browser when possible.

    Returns "not-sso", "valid", "refreshed" or "signed-in". Raises BrowserNeeded,
    SsoLoginFailed or RenewError (messages name the session and profile).

    ``force_sign_in``: the SSO portal refused the cached token although its ``expiresAt``
    says it is good (signed out elsewhere, revoked): do not trust it; refresh silently when
    possible, else sign in in the browser (BrowserNeeded when not allowed). When the cache
    no longer holds the refused token (``refused_token_id`` from :func:`cached_session`;
    default: the token cached at this call) someone renewed it meanwhile: "valid"."""
    paths = Paths.from_env()
    config = load_config(paths)
    name = profile_name(profile)
    target = target_for_profile(config, name)
    if target is None:
        return "not-sso"
    refused = None
    if force_sign_in:
        refused = refused_token_id or token_id(paths, target.session) or NO_TOKEN
    return _ensure(paths, target, allow_browser=allow_browser, no_browser=no_browser,
                   timeout=timeout, progress=progress or _default_progress, refused=refused)


@dataclass(frozen=True)
class CachedSession:
    """The SSO session behind a profile and a fingerprint of its cached access token."""

    key: str  # the AWS CLI's cache key of the session (same session, same key)
    name: str
    token_id: str | None  # sha256 prefix of the cached access token (never the token)


def cached_session(profile: str | None) -> CachedSession | None:
    """Local files only: the profile's SSO session and which access token the cache holds
    now. None: not an SSO profile, or the config is unreadable."""
    found = _local_target(profile)
    if found is None or found[1] is None:
        return None
    paths, target = found
    session = target.session
    return CachedSession(session.cache_key, session.name, token_id(paths, session))


def _local_target(profile: str | None) -> tuple[Paths, Target | None] | None:
    """Local files only: the profile's SSO target (None: not an SSO profile), or None
    altogether when the AWS config cannot be read."""
    paths = Paths.from_env()
    try:
        config = load_aws_config(paths.aws_config)
        return paths, target_for_profile(config, profile_name(profile))
    except (SourceError, RenewError):
        return None


def sign_in(session_name: str, *, no_browser: bool = False, timeout: float = 600.0,
            progress: Progress | None = None) -> str:
    """The tray's "Sign in..." for one SSO session (by name, or start URL for legacy).

    Refreshes silently when that is enough; returns "valid" when the session is good."""
    paths = Paths.from_env()
    config = load_config(paths)
    target = target_for_session(config, session_name)
    return _ensure(paths, target, allow_browser=True, no_browser=no_browser,
                   timeout=timeout, progress=progress or _default_progress)


def can_renew_silently(profile: str | None) -> bool:
    """Local files only: True when the profile is not SSO, its token is still usable, or
    it holds a refresh token with a live registration."""
    found = _local_target(profile)
    if found is None:
        return False
    paths, target = found
    if target is None:
        return True
    state = read_state(paths, target.session)
    now = datetime.now(UTC)
    return state.usable(now) or state.refreshable(now)


def explain_sso_error(error: BaseException, profile: str | None) -> RenewError | None:
    """Plain words for botocore's SSO errors raised while resolving a profile's credentials
    (e.g. the SSO portal answering 401 to GetRoleCredentials). None: not an SSO error."""
    from botocore import exceptions as botocore_errors

    name = profile_name(profile)
    if isinstance(error, botocore_errors.UnauthorizedSSOTokenError):
        return SsoSessionRefused(f"the SSO portal refused the session of profile {name} (401:"
                             " signed out or revoked)",
                             f"run `ecr-token-tray login --profile {name}` to sign in again")
    if isinstance(error, botocore_errors.TokenRetrievalError | botocore_errors.SSOTokenLoadError):
        return BrowserNeeded(f"profile {name} has no usable SSO session (not signed in or"
                             " expired)",
                             f"run `ecr-token-tray login --profile {name}` to sign in")
    if isinstance(error, botocore_errors.SSOError):
        return RenewError(f"SSO credentials for profile {name} failed ({type(error).__name__})",
                          f"run `ecr-token-tray login --profile {name}`")
    if isinstance(error, botocore_errors.NoCredentialsError):
        return RenewError(f"profile {name} has no AWS credentials",
                          "run `aws configure sso` to set it up")
    return None


def profile_name(profile: str | None) -> str:
    """The profile boto3 and the CLI would use: the given one, else $AWS_PROFILE, else default."""
    return (profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
            or "default")


# --------------------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------------------
def _ensure(paths: Paths, target: Target, *, allow_browser: bool, no_browser: bool,
            timeout: float, progress: Progress, refused: str | None = None) -> str:
    """``refused``: id of a cached token the SSO portal rejected (the cache cannot be
    trusted while it still holds that token)."""
    def trusted() -> bool:  # the cache no longer holds the refused token
        return refused is None or token_id(paths, target.session) not in (refused, None)

    now = datetime.now(UTC)
    if refused is None and read_state(paths, target.session).fresh(now):
        return "valid"
    deadline = time.monotonic() + timeout
    with _session_lock(paths, target, deadline):
        state = read_state(paths, target.session)  # someone may have signed in meanwhile
        now = datetime.now(UTC)
        if state.fresh(now) and trusted():
            return "valid"
        declined: RenewError | None = None
        if state.refreshable(now):
            progress(f"Renewing the SSO session {target.session.name} silently...")
            try:
                refresh(paths, target)
                return "refreshed"
            except RefreshRefused as error:
                declined = error.reason
            except RenewError:
                if state.usable(now) and trusted():
                    return "valid"  # offline, but the token still works for a while
                raise
        if not allow_browser:
            if state.usable(now) and trusted():
                return "valid"
            raise _browser_needed(target, refused, declined)
        _browser_sign_in(paths, target, no_browser=no_browser,
                         timeout=max(1.0, deadline - time.monotonic()), progress=progress)
        return "signed-in"


def _browser_needed(target: Target, refused: str | None, declined: RenewError | None
                    ) -> RenewError:
    """Why a session needs a sign-in the caller did not allow."""
    if refused is not None:
        return BrowserNeeded(
            f"the SSO portal refused {target.label} (signed out or revoked):"
            " a sign-in is needed",
            "run `ecr-token-tray login` (or click Sign in) to sign in in the browser")
    return declined or BrowserNeeded(
        f"SSO {target.label} has expired and cannot be renewed without signing in",
        "run `ecr-token-tray login` (or click Sign in) to sign in in the browser")


@contextlib.contextmanager
def _session_lock(paths: Paths, target: Target, deadline: float) -> Iterator[None]:
    key = target.session.cache_key
    with _locks_guard:
        lock = _session_locks.setdefault(key, threading.Lock())
    if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out waiting for another"
                             " sign-in to finish", "finish or cancel that sign-in, then try"
                             " again")
    try:
        with _process_lock(paths.state_dir / "locks" / f"sso-{key}.lock", target, deadline):
            yield
    finally:
        lock.release()


@contextlib.contextmanager
def _process_lock(path: Path, target: Target, deadline: float) -> Iterator[None]:
    """An advisory lock file shared by the tray and the CLI (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # Windows: the in-process lock is all we have
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        log.warning("no cross-process SSO lock (%s): %s", path, error.strerror)
        yield
        return
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SsoLoginFailed(
                        f"SSO sign-in for {target.label} timed out waiting for a sign-in"
                        " running in another ecr-token-tray process",
                        "finish or cancel that sign-in, then try again") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(handle)  # closing releases the lock


# --------------------------------------------------------------------------------------
# Browser sign-in: `aws sso login`, or natively when aws is missing or v1
# --------------------------------------------------------------------------------------
def _browser_sign_in(paths: Paths, target: Target, *, no_browser: bool, timeout: float,
                     progress: Progress) -> None:
    cli = find_aws_cli()
    if cli is not None and cli.major is not None and cli.major >= 2:
        cli_sign_in(cli, target, no_browser=no_browser, timeout=timeout, progress=progress)
    else:
        why = "is missing" if cli is None else f"at {cli.path} is CLI v{cli.major or '?'}"
        log.info("aws %s: signing in to %s natively", why, target.label)
        native_sign_in(paths, target, no_browser=no_browser, timeout=timeout,
                       progress=progress)
    if not read_state(paths, target.session).usable(datetime.now(UTC)):
        raise SsoLoginFailed(f"SSO sign-in for {target.label} finished but left no valid"
                             f" token in {paths.sso_cache_dir}",
                             "run `aws sso login` yourself to see what happens")


def _default_progress(line: str) -> None:
    log.info("%s", line)
    if sys.stderr is not None and _wants_terminal():
        print(line, file=sys.stderr)


def _wants_terminal() -> bool:
    return bool(sys.stderr and sys.stderr.isatty())
