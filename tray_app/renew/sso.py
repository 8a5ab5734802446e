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

boto3/botocore are imported inside functions only; tokens never leave this module except
in the cache files the AWS CLI itself writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file, write_atomic
from tray_app.logs import redact, register_secret
from tray_app.renew.errors import BrowserNeeded, RenewError, SsoLoginFailed, SsoSessionRefused
from tray_app.settings import Paths
from tray_app.sources.aws_config import (
    AwsConfig,
    Profile,
    SsoSessionConfig,
    load_aws_config,
    read_sso_token,
)
from tray_app.timeutil import parse_time

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

REFRESH_WINDOW = timedelta(minutes=15)  # botocore and the CLI refresh inside this window
STILL_USABLE = timedelta(minutes=1)  # a token this close to expiry is not worth using
DEFAULT_SCOPES = ("sso:account:access",)  # what `aws configure sso-session` registers
CACHE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
VERSION_TIMEOUT = 15.0
_AWS_VERSION = re.compile(r"aws-cli/(\d+)\.(\S+)")

# Exit codes of the AWS CLI v2 (see docs: "AWS CLI return codes").
EXIT_CANCELLED = 130
_EXIT_MEANING = {
    252: ("rejected its arguments (exit 252)", "update the AWS CLI v2, then run"
          " `ecr-token-tray login` again"),
    253: ("found a configuration problem (exit 253)", "check the profile with"
          " `aws configure sso`, then run `ecr-token-tray login` again"),
    254: ("was refused by the SSO service (exit 254)", "check the start URL and region in"
          " ~/.aws/config, then run `ecr-token-tray login` again"),
    255: ("failed (exit 255)", "run `ecr-token-tray login` again; `aws sso login --debug`"
          " shows the details"),
}

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
    config = _load_config(paths)
    name = profile_name(profile)
    target = _target_for_profile(config, name)
    if target is None:
        return "not-sso"
    refused = None
    if force_sign_in:
        refused = refused_token_id or _token_id(paths, target.session) or _NO_TOKEN
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
    paths = Paths.from_env()
    try:
        config = load_aws_config(paths.aws_config)
        target = _target_for_profile(config, profile_name(profile))
    except (SourceError, RenewError):
        return None
    if target is None:
        return None
    session = target.session
    return CachedSession(session.cache_key, session.name, _token_id(paths, session))


def sign_in(session_name: str, *, no_browser: bool = False, timeout: float = 600.0,
            progress: Progress | None = None) -> str:
    """The tray's "Sign in..." for one SSO session (by name, or start URL for legacy).

    Refreshes silently when that is enough; returns "valid" when the session is good."""
    paths = Paths.from_env()
    config = _load_config(paths)
    target = _target_for_session(config, session_name)
    return _ensure(paths, target, allow_browser=True, no_browser=no_browser,
                   timeout=timeout, progress=progress or _default_progress)


def can_renew_silently(profile: str | None) -> bool:
    """Local files only: True when the profile is not SSO, its token is still usable, or
    it holds a refresh token with a live registration."""
    paths = Paths.from_env()
    try:
        config = load_aws_config(paths.aws_config)
        target = _target_for_profile(config, profile_name(profile))
    except (SourceError, RenewError):
        return False
    if target is None:
        return True
    state = _read_state(paths, target.session)
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
# Which session, and how to sign in to it
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    session: SsoSessionConfig
    profile: str | None  # the profile holding the SSO settings (for `aws sso login --profile`)
    requested_profile: str | None  # what the caller asked for (for messages)

    @property
    def label(self) -> str:
        shown = self.requested_profile or self.profile
        return (f"session {self.session.name}" + (f" (profile {shown})" if shown else ""))


def _load_config(paths: Paths) -> AwsConfig:
    try:
        return load_aws_config(paths.aws_config)
    except SourceError as error:
        raise RenewError(error.title, error.hint) from None


def _target_for_profile(config: AwsConfig, name: str) -> _Target | None:
    profile = config.profiles.get(name)
    if profile is None:
        return None  # not in the config file: static keys, env vars or instance role
    holder = _sso_profile(config, profile)
    if holder is None:
        return None
    session = config.session_of(holder)
    if session is not None:
        return _Target(session, holder.name, name)
    if holder.sso_session:
        problem = next((p for p in config.problems
                        if f"[sso-session {holder.sso_session}]" in p), None)
        if problem:
            raise RenewError(f"profile {name}: {problem.split(' - ')[0]}",
                             "add sso_start_url and sso_region, or run"
                             " `aws configure sso-session`")
        raise RenewError(f"profile {name} names sso_session {holder.sso_session!r}, which has"
                         f" no [sso-session {holder.sso_session}] section in {config.path}",
                         "add that section or run `aws configure sso`")
    raise RenewError(f"profile {name} has sso_start_url but no sso_region in {config.path}",
                     "add sso_region or run `aws configure sso`")


def _sso_profile(config: AwsConfig, profile: Profile) -> Profile | None:
    """The profile in a source_profile chain that carries the SSO settings."""
    seen: set[str] = set()
    current: Profile | None = profile
    while current is not None and current.name not in seen:
        seen.add(current.name)
        if current.uses_sso:
            return current
        current = config.profiles.get(current.source_profile or "")
    return None


def _target_for_session(config: AwsConfig, session_name: str) -> _Target:
    session = config.sessions.get(session_name)
    if session is None:
        raise RenewError(f"no SSO session named {session_name!r} in {config.path}",
                         "run `aws configure sso` to set it up")
    users = [p for p in config.profiles.values()
             if (holder := _sso_profile(config, p)) is not None
             and config.session_of(holder) == session and holder is p]
    # sso-session: `aws sso login --sso-session S`; legacy needs a profile that names it.
    profile = users[0].name if users and session.legacy else None
    if session.legacy and profile is None:
        raise RenewError(f"no profile uses SSO start URL {session.start_url}",
                         "run `aws configure sso`")
    return _Target(session, profile, None)


# --------------------------------------------------------------------------------------
# The cached token
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _State:
    expires_at: datetime | None
    refresh_possible: bool
    registration_expires_at: datetime | None

    def usable(self, now: datetime, margin: timedelta = STILL_USABLE) -> bool:
        return self.expires_at is not None and self.expires_at - now > margin

    def fresh(self, now: datetime) -> bool:
        return self.usable(now, REFRESH_WINDOW)

    def refreshable(self, now: datetime) -> bool:
        return (self.refresh_possible and self.registration_expires_at is not None
                and self.registration_expires_at > now)


def _read_state(paths: Paths, session: SsoSessionConfig) -> _State:
    try:
        token = read_sso_token(paths.sso_cache_dir, session)
    except SourceError as error:
        log.warning("SSO cache unreadable, treating session %s as signed out: %s",
                    session.name, error)
        return _State(None, False, None)
    if token is None:
        return _State(None, False, None)
    return _State(token.expires_at, token.has_refresh_token and not session.legacy,
                  token.registration_expires_at)


_NO_TOKEN = "none"  # the id of "no token cached" (a refused session with no cache file)


def _token_id(paths: Paths, session: SsoSessionConfig) -> str | None:
    """Which access token the cache holds: a short sha256 (comparable, not the secret)."""
    token = _read_token_document(paths, session).get("accessToken")
    if not isinstance(token, str) or not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _token_path(paths: Paths, session: SsoSessionConfig) -> Path:
    return paths.sso_cache_dir / f"{session.cache_key}.json"


def _read_token_document(paths: Paths, session: SsoSessionConfig) -> dict:
    try:
        document = read_json_file(_token_path(paths, session))
    except SourceError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("accessToken"), str):
        return document
    try:
        found = read_sso_token(paths.sso_cache_dir, session)  # a file found by start URL
    except SourceError:
        found = None
    if found is not None:
        try:
            document = read_json_file(found.path)
        except SourceError:
            document = None
    return document if isinstance(document, dict) else {}


def _write_cache(path: Path, document: dict) -> None:
    """The CLI's format: compact JSON, times as %Y-%m-%dT%H:%M:%SZ; atomic, mode 0600."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, json.dumps(document).encode(), mode=0o600)
    except OSError as error:  # disk full, read-only folder: the old file stays as it was
        raise RenewError(f"{path}: cannot write the SSO token cache ({error.strerror});"
                         " not changed", "free some disk space or fix the folder's"
                         " permissions, then try again") from None


def _cache_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(CACHE_TIME_FORMAT)


# --------------------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------------------
def _ensure(paths: Paths, target: _Target, *, allow_browser: bool, no_browser: bool,
            timeout: float, progress: Progress, refused: str | None = None) -> str:
    """``refused``: id of a cached token the SSO portal rejected (the cache cannot be
    trusted while it still holds that token)."""
    def trusted() -> bool:  # the cache no longer holds the refused token
        return refused is None or _token_id(paths, target.session) not in (refused, None)

    now = datetime.now(UTC)
    if refused is None and _read_state(paths, target.session).fresh(now):
        return "valid"
    deadline = time.monotonic() + timeout
    with _session_lock(paths, target, deadline):
        state = _read_state(paths, target.session)  # someone may have signed in meanwhile
        now = datetime.now(UTC)
        if state.fresh(now) and trusted():
            return "valid"
        declined: RenewError | None = None
        if state.refreshable(now):
            progress(f"Renewing the SSO session {target.session.name} silently...")
            try:
                _refresh(paths, target)
                return "refreshed"
            except _RefreshRefused as error:
                declined = error.reason
            except RenewError:
                if state.usable(now) and trusted():
                    return "valid"  # offline, but the token still works for a while
                raise
        if not allow_browser:
            if state.usable(now) and trusted():
                return "valid"
            if refused is not None:
                raise BrowserNeeded(
                    f"the SSO portal refused {target.label} (signed out or revoked):"
                    " a sign-in is needed",
                    "run `ecr-token-tray login` (or click Sign in) to sign in in the browser")
            raise declined or BrowserNeeded(
                f"SSO {target.label} has expired and cannot be renewed without signing in",
                "run `ecr-token-tray login` (or click Sign in) to sign in in the browser")
        _browser_sign_in(paths, target, no_browser=no_browser,
                         timeout=max(1.0, deadline - time.monotonic()), progress=progress)
        return "signed-in"


@contextlib.contextmanager
def _session_lock(paths: Paths, target: _Target, deadline: float) -> Iterator[None]:
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
def _process_lock(path: Path, target: _Target, deadline: float) -> Iterator[None]:
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
# Silent refresh
# --------------------------------------------------------------------------------------
class _RefreshRefused(Exception):
    def __init__(self, reason: RenewError) -> None:
        super().__init__(str(reason))
        self.reason = reason


_REFUSED_CODES = {"InvalidGrantException", "ExpiredTokenException", "InvalidClientException",
                  "UnauthorizedClientException", "AccessDeniedException",
                  "UnauthorizedException", "InvalidRequestException"}


def _refresh(paths: Paths, target: _Target) -> None:
    """sso-oidc CreateToken with the refresh token; rewrite the cache as botocore does."""
    from botocore import exceptions as botocore_errors

    document = _read_token_document(paths, target.session)
    fields = ("clientId", "clientSecret", "refreshToken", "registrationExpiresAt")
    if not all(isinstance(document.get(f), str) and document.get(f) for f in fields):
        raise _RefreshRefused(BrowserNeeded(
            f"SSO {target.label}: the cached token has no complete refresh data",
            "run `ecr-token-tray login` to sign in in the browser"))
    for secret in (document.get("accessToken"), document["refreshToken"],
                   document["clientSecret"]):
        register_secret(secret)
    client = _oidc_client(target.session.region)
    try:
        response = client.create_token(grantType="refresh_token",
                                       clientId=document["clientId"],
                                       clientSecret=document["clientSecret"],
                                       refreshToken=document["refreshToken"])
    except botocore_errors.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        log.info("SSO refresh for %s refused: %s (HTTP %s)", target.label, code, status)
        if code in _REFUSED_CODES or status in (400, 401, 403):
            raise _RefreshRefused(BrowserNeeded(
                f"SSO {target.label} could not be renewed silently (the SSO service answered"
                f" {code or status}: the session has ended)",
                "run `ecr-token-tray login` to sign in in the browser")) from None
        raise RenewError(f"SSO {target.label}: renewal failed ({code or status})",
                         "try again later") from None
    except botocore_errors.BotoCoreError as error:
        raise _network_error(target, error) from None
    _store_token(paths, target.session, document, response)


def _store_token(paths: Paths, session: SsoSessionConfig, previous: dict, response: dict
                 ) -> None:
    access_token = response["accessToken"]
    register_secret(access_token)
    register_secret(response.get("refreshToken"))
    expires_at = datetime.now(UTC) + timedelta(seconds=int(response["expiresIn"]))
    document = {
        **previous,  # the file is the AWS CLI's: keys this app does not know are kept
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": access_token,
        "expiresAt": _cache_time(expires_at),
        "clientId": previous["clientId"],
        "clientSecret": previous["clientSecret"],
        "registrationExpiresAt": previous["registrationExpiresAt"],
        "refreshToken": response.get("refreshToken") or previous["refreshToken"],
    }
    _write_cache(_token_path(paths, session), document)


def _oidc_client(region: str):
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.Session()
    session.set_config_variable("profile", None)  # AWS_PROFILE may name a missing profile
    config = Config(signature_version=UNSIGNED, connect_timeout=5, read_timeout=20,
                    retries={"mode": "standard", "max_attempts": 3})
    return session.create_client("sso-oidc", region_name=region, config=config)


def _network_error(target: _Target, error: BaseException) -> RenewError:
    return RenewError(f"cannot reach the SSO service in {target.session.region} for"
                      f" {target.label} ({type(error).__name__})",
                      "check the network connection, then run `ecr-token-tray login` again")


# --------------------------------------------------------------------------------------
# Browser sign-in: `aws sso login`, or natively when aws is missing or v1
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AwsCli:
    path: str
    major: int | None  # None: installed but its version could not be read
    version: str


def find_aws_cli(path_env: str | None = None) -> AwsCli | None:
    """The `aws` first on PATH and its major version (runs `aws --version`)."""
    found = shutil.which("aws", path=path_env)
    return aws_cli_at(found) if found else None


def aws_cli_at(executable: str) -> AwsCli:
    try:
        result = subprocess.run([executable, "--version"], capture_output=True, text=True,
                                timeout=VERSION_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return AwsCli(executable, None, "unknown")
    match = _AWS_VERSION.search(f"{result.stdout}\n{result.stderr}")
    if not match:
        return AwsCli(executable, None, "unknown")
    return AwsCli(executable, int(match.group(1)), f"{match.group(1)}.{match.group(2)}")


def _browser_sign_in(paths: Paths, target: _Target, *, no_browser: bool, timeout: float,
                     progress: Progress) -> None:
    cli = find_aws_cli()
    if cli is not None and cli.major is not None and cli.major >= 2:
        _cli_sign_in(paths, cli, target, no_browser=no_browser, timeout=timeout,
                     progress=progress)
    else:
        why = "is missing" if cli is None else f"at {cli.path} is CLI v{cli.major or '?'}"
        log.info("aws %s: signing in to %s natively", why, target.label)
        _native_sign_in(paths, target, no_browser=no_browser, timeout=timeout,
                        progress=progress)
    if not _read_state(paths, target.session).usable(datetime.now(UTC)):
        raise SsoLoginFailed(f"SSO sign-in for {target.label} finished but left no valid"
                             f" token in {paths.sso_cache_dir}",
                             "run `aws sso login` yourself to see what happens")


def _cli_sign_in(paths: Paths, cli: AwsCli, target: _Target, *, no_browser: bool,
                 timeout: float, progress: Progress) -> None:
    if target.profile is not None:
        argv = [cli.path, "sso", "login", "--profile", target.profile]
    else:
        argv = [cli.path, "sso", "login", "--sso-session", target.session.name]
    if no_browser:
        argv.append("--no-browser")
    progress(f"Opening the browser to sign in to {target.session.name}..." if not no_browser
             else f"Sign in to {target.session.name} with the link below...")
    log.info("running %s", " ".join(argv[1:]))
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)  # --profile/--sso-session says which; a stale one breaks aws
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, errors="replace",
                                 env=env, start_new_session=True)
    except OSError as error:
        raise SsoLoginFailed(f"SSO sign-in for {target.label}: cannot run {cli.path}"
                             f" ({error.strerror})", "reinstall the AWS CLI v2") from None
    lines: list[str] = []
    reader = threading.Thread(target=_relay_output, args=(child, lines, progress),
                              name="aws-sso-login-output", daemon=True)
    reader.start()
    try:
        code = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(child)
        reader.join(timeout=5)
        raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out after"
                             f" {_duration(timeout)}",
                             "run `ecr-token-tray login` again and finish the sign-in in the"
                             " browser") from None
    except KeyboardInterrupt:
        _stop(child)
        raise SsoLoginFailed(f"SSO sign-in for {target.label} was cancelled",
                             "run ecr-token-tray login again") from None
    reader.join(timeout=5)
    if code == 0:
        progress(f"Signed in to {target.session.name}.")
        return
    if code in (EXIT_CANCELLED, -2, -15):
        raise SsoLoginFailed(f"SSO sign-in for {target.label} was cancelled",
                             "run ecr-token-tray login again")
    what, hint = _EXIT_MEANING.get(code, (f"failed (exit {code})",
                                          "run `ecr-token-tray login` again"))
    last = _last_line(lines)
    raise SsoLoginFailed(f"SSO sign-in for {target.label}: `aws sso login` {what}"
                         + (f": {last}" if last else ""), hint)


def _relay_output(child: subprocess.Popen, lines: list[str], progress: Progress) -> None:
    """aws prints the verification URL and code (needed with --no-browser); never tokens."""
    assert child.stdout is not None
    for raw in child.stdout:
        line = redact(raw.rstrip())
        if line.strip():
            lines.append(line)
            progress(line)


def _stop(child: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        child.terminate()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            child.kill()
        child.wait(timeout=5)


def _last_line(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:200]
    return ""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


# -- native device authorization (what `aws sso login` does, with boto3) ------------------
SLOW_DOWN_DELAY = 5  # seconds added on SlowDownException (RFC 8628 section 3.5)


def _native_sign_in(paths: Paths, target: _Target, *, no_browser: bool, timeout: float,
                    progress: Progress) -> None:
    from botocore import exceptions as botocore_errors

    session = target.session
    deadline = time.monotonic() + timeout
    client = _oidc_client(session.region)
    try:
        registration = _registration(paths, client, session)
        authorization = client.start_device_authorization(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            startUrl=session.start_url)
    except botocore_errors.ClientError as error:
        raise _service_refused(target, error) from None
    except botocore_errors.BotoCoreError as error:
        raise _network_error(target, error) from None
    url = authorization["verificationUriComplete"]
    code = authorization.get("userCode", "")
    deadline = min(deadline, time.monotonic() + int(authorization.get("expiresIn", 600)))
    if no_browser:
        progress(f"To sign in to {session.name}, open {url} and confirm the code {code}")
    else:
        progress(f"Opening the browser to sign in to {session.name}...")
        if not _open_browser(url):
            progress(f"No browser could be opened: open {url} and confirm the code {code}")
        else:
            progress(f"If the browser did not open, go to {url} (code {code})")
    response = _poll_for_token(client, registration, authorization, target, deadline)
    _store_new_login(paths, session, registration, response)
    progress(f"Signed in to {session.name}.")


def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


def _poll_for_token(client, registration: dict, authorization: dict, target: _Target,
                    deadline: float) -> dict:
    from botocore import exceptions as botocore_errors

    interval = max(1, int(authorization.get("interval") or 5))
    while True:
        try:
            return client.create_token(
                grantType="urn:ietf:params:oauth:grant-type:device_code",
                clientId=registration["clientId"], clientSecret=registration["clientSecret"],
                deviceCode=authorization["deviceCode"])
        except client.exceptions.AuthorizationPendingException:
            pass
        except client.exceptions.SlowDownException:
            interval += SLOW_DOWN_DELAY
        except client.exceptions.ExpiredTokenException:
            raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out: the sign-in code"
                                 " expired before it was approved",
                                 "run ecr-token-tray login again") from None
        except client.exceptions.AccessDeniedException:
            raise SsoLoginFailed(f"SSO sign-in for {target.label} was cancelled (denied in the"
                                 " browser)", "run ecr-token-tray login again") from None
        except botocore_errors.ClientError as error:
            raise _service_refused(target, error) from None
        except botocore_errors.BotoCoreError as error:
            raise _network_error(target, error) from None
        if time.monotonic() + interval > deadline:
            raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out waiting for the"
                                 " browser approval",
                                 "run ecr-token-tray login again and approve it in the browser")
        time.sleep(interval)


def _service_refused(target: _Target, error) -> SsoLoginFailed:
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return SsoLoginFailed(f"SSO sign-in for {target.label} was refused by the SSO service"
                          f" ({code or 'HTTP'} {status})",
                          "check sso_start_url and sso_region in ~/.aws/config")


def _registration_key(session: SsoSessionConfig, scopes: list[str] | None) -> str:
    """The CLI v2's registration cache key (botocore.utils.SSOTokenFetcher)."""
    args = {"tool": "botocore", "startUrl": session.start_url, "region": session.region,
            "scopes": scopes, "session_name": None if session.legacy else session.name}
    return hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()


def _registration(paths: Paths, client, session: SsoSessionConfig) -> dict:
    """Reuse the client registration the CLI cached; register (and cache) a new one."""
    scopes = None if session.legacy else list(DEFAULT_SCOPES)
    path = paths.sso_cache_dir / f"{_registration_key(session, scopes)}.json"
    try:
        cached = read_json_file(path)
    except SourceError:
        cached = None
    if isinstance(cached, dict) and isinstance(cached.get("clientSecret"), str):
        expires = parse_time(cached.get("expiresAt"))
        if expires and expires - datetime.now(UTC) > REFRESH_WINDOW and cached.get("clientId"):
            register_secret(cached["clientSecret"])
            return cached
    name = (f"botocore-client-{session.name}" if not session.legacy
            else f"botocore-client-{int(time.time())}")
    arguments = {"clientName": name, "clientType": "public"}
    if scopes:
        arguments["scopes"] = scopes
    response = client.register_client(**arguments)
    register_secret(response["clientSecret"])
    registration = {
        "clientId": response["clientId"],
        "clientSecret": response["clientSecret"],
        "expiresAt": _cache_time(datetime.fromtimestamp(response["clientSecretExpiresAt"],
                                                        UTC)),
    }
    if scopes:
        registration["scopes"] = scopes
    _write_cache(path, registration)
    return registration


def _store_new_login(paths: Paths, session: SsoSessionConfig, registration: dict,
                     response: dict) -> None:
    register_secret(response["accessToken"])
    register_secret(response.get("refreshToken"))
    expires_at = datetime.now(UTC) + timedelta(seconds=int(response["expiresIn"]))
    document = {
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": response["accessToken"],
        "expiresAt": _cache_time(expires_at),
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": registration["expiresAt"],
    }
    if response.get("refreshToken"):
        document["refreshToken"] = response["refreshToken"]
    _write_cache(_token_path(paths, session), document)


def _default_progress(line: str) -> None:
    log.info("%s", line)
    if sys.stderr is not None and _wants_terminal():
        print(line, file=sys.stderr)


def _wants_terminal() -> bool:
    return bool(sys.stderr and sys.stderr.isatty())
