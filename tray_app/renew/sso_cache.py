"""The AWS CLI's SSO token cache (~/.aws/sso/cache): read its state, write it as the CLI does.

Files are the CLI's own: compact JSON, times as %Y-%m-%dT%H:%M:%SZ, written atomically with
mode 0600, keys this app does not know kept on rewrite. Tokens are registered with the log
redactor as soon as they are read or received.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file, write_atomic
from tray_app.logs import register_secret
from tray_app.renew.errors import RenewError
from tray_app.settings import Paths
from tray_app.sources.aws_config import SsoSessionConfig, read_sso_token
from tray_app.timeutil import parse_time

log = logging.getLogger("tray_app.renew.sso")  # one logger for the whole SSO step

REFRESH_WINDOW = timedelta(minutes=15)  # botocore and the CLI refresh inside this window
STILL_USABLE = timedelta(minutes=1)  # a token this close to expiry is not worth using
CACHE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NO_TOKEN = "none"  # the id of "no token cached" (a refused session with no cache file)


@dataclass(frozen=True)
class State:
    """What the cache says about a session's access token (no secrets)."""

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


def read_state(paths: Paths, session: SsoSessionConfig) -> State:
    try:
        token = read_sso_token(paths.sso_cache_dir, session)
    except SourceError as error:
        log.warning("SSO cache unreadable, treating session %s as signed out: %s",
                    session.name, error)
        return State(None, False, None)
    if token is None:
        return State(None, False, None)
    return State(token.expires_at, token.has_refresh_token and not session.legacy,
                 token.registration_expires_at)


def token_id(paths: Paths, session: SsoSessionConfig) -> str | None:
    """Which access token the cache holds: a short sha256 (comparable, not the secret)."""
    token = read_token_document(paths, session).get("accessToken")
    if not isinstance(token, str) or not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def token_path(paths: Paths, session: SsoSessionConfig) -> Path:
    return paths.sso_cache_dir / f"{session.cache_key}.json"


def read_token_document(paths: Paths, session: SsoSessionConfig) -> dict:
    """The session's cache file as a dict ({} when missing or unreadable)."""
    try:
        document = read_json_file(token_path(paths, session))
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


def write_cache(path: Path, document: dict) -> None:
    """The CLI's format: compact JSON, times as %Y-%m-%dT%H:%M:%SZ; atomic, mode 0600."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, json.dumps(document).encode(), mode=0o600)
    except OSError as error:  # disk full, read-only folder: the old file stays as it was
        raise RenewError(f"{path}: cannot write the SSO token cache ({error.strerror});"
                         " not changed", "free some disk space or fix the folder's"
                         " permissions, then try again") from None


def cache_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(CACHE_TIME_FORMAT)


def store_refreshed_token(paths: Paths, session: SsoSessionConfig, previous: dict,
                          response: dict) -> None:
    """Rewrite the cache file after a refresh (sso-oidc CreateToken response)."""
    access_token = response["accessToken"]
    register_secret(access_token)
    register_secret(response.get("refreshToken"))
    expires_at = datetime.now(UTC) + timedelta(seconds=int(response["expiresIn"]))
    document = {
        **previous,  # the file is the AWS CLI's: keys this app does not know are kept
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": access_token,
        "expiresAt": cache_time(expires_at),
        "clientId": previous["clientId"],
        "clientSecret": previous["clientSecret"],
        "registrationExpiresAt": previous["registrationExpiresAt"],
        "refreshToken": response.get("refreshToken") or previous["refreshToken"],
    }
    write_cache(token_path(paths, session), document)


def store_new_login(paths: Paths, session: SsoSessionConfig, registration: dict,
                    response: dict) -> None:
    """Write the cache file after a device-authorization sign-in."""
    register_secret(response["accessToken"])
    register_secret(response.get("refreshToken"))
    expires_at = datetime.now(UTC) + timedelta(seconds=int(response["expiresIn"]))
    document = {
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": response["accessToken"],
        "expiresAt": cache_time(expires_at),
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": registration["expiresAt"],
    }
    if response.get("refreshToken"):
        document["refreshToken"] = response["refreshToken"]
    write_cache(token_path(paths, session), document)


# -- client registrations (what `aws sso login` caches next to the token) ------------------
def registration_path(paths: Paths, session: SsoSessionConfig, scopes: list[str] | None
                      ) -> Path:
    """The CLI v2's registration cache file (key as botocore.utils.SSOTokenFetcher)."""
    args = {"tool": "botocore", "startUrl": session.start_url, "region": session.region,
            "scopes": scopes, "session_name": None if session.legacy else session.name}
    key = hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
    return paths.sso_cache_dir / f"{key}.json"


def read_registration(path: Path) -> dict | None:
    """A cached registration still good for longer than the refresh window, else None."""
    try:
        cached = read_json_file(path)
    except SourceError:
        cached = None
    if isinstance(cached, dict) and isinstance(cached.get("clientSecret"), str):
        expires = parse_time(cached.get("expiresAt"))
        if expires and expires - datetime.now(UTC) > REFRESH_WINDOW and cached.get("clientId"):
            register_secret(cached["clientSecret"])
            return cached
    return None


def store_registration(path: Path, response: dict, scopes: list[str] | None) -> dict:
    """Cache a new sso-oidc RegisterClient response in the CLI's format; returns it."""
    register_secret(response["clientSecret"])
    registration = {
        "clientId": response["clientId"],
        "clientSecret": response["clientSecret"],
        "expiresAt": cache_time(datetime.fromtimestamp(response["clientSecretExpiresAt"],
                                                       UTC)),
    }
    if scopes:
        registration["scopes"] = scopes
    write_cache(path, registration)
    return registration
