"""``GetAuthorizationToken`` for ECR and ECR Public, with errors in plain words.

boto3 is imported inside the functions: importing this module costs nothing.
The endpoint follows boto3's own rules, so ``AWS_ENDPOINT_URL_ECR`` and
``AWS_ENDPOINT_URL_ECR_PUBLIC`` (used by the tests' local stand-ins) work as for any tool.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from tray_app.logs import register_secret
from tray_app.renew.errors import RenewError, SsoSessionRefused
from tray_app.renew.plan import profile_label
from tray_app.tokens import TokenError, decode_docker_auth, ecr_password_expiry

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # botocore "standard" retries: throttling, 5xx and network errors, backoff
TIMEOUT_ENV = "ECR_TOKEN_TRAY_AWS_TIMEOUT"  # seconds per connect/read; default 10
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "UnauthorizedAccess"}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException",
              "RequestLimitExceeded", "ThrottledException"}
_BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidSignatureException",
                    "ExpiredTokenException", "InvalidClientTokenId", "ExpiredToken"}


@dataclass(frozen=True, repr=False)
class EcrToken:
    username: str
    password: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"EcrToken(username={self.username!r}, expires_at={self.expires_at!r})"


def aws_timeout() -> float:
    try:
        return max(0.1, float(os.environ.get(TIMEOUT_ENV, "10")))
    except ValueError:
        return 10.0


def get_token(profile: str | None, service: str, region: str) -> EcrToken:
    """One token for (profile, service, region). Raises RenewError naming profile and region."""
    import boto3
    import botocore.exceptions as boto_errors
    from botocore.config import Config

    operation = f"{service}:GetAuthorizationToken"
    config = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                    connect_timeout=aws_timeout(), read_timeout=aws_timeout())
    try:
        session = boto3.session.Session(profile_name=profile)
        client = session.client(service, region_name=region, config=config)
        log.debug("calling %s for %s in %s", operation, profile_label(profile), region)
        answer = client.get_authorization_token()
    except boto_errors.ClientError as error:
        raise _client_error(error, profile, service, region) from None
    except boto_errors.BotoCoreError as error:
        raise _botocore_error(error, profile, service, region) from None
    data = answer["authorizationData"]
    data = data[0] if isinstance(data, list) else data  # ECR: a list; ECR Public: one object
    return _token(data, profile, region)


def _token(data: dict, profile: str | None, region: str) -> EcrToken:
    encoded = data.get("authorizationToken") or ""
    register_secret(encoded)
    try:
        credential = decode_docker_auth(encoded)
    except TokenError:
        raise RenewError(f"ECR returned an unreadable token for {profile_label(profile)}"
                         f" in {region}", "try again; report it if it persists") from None
    register_secret(credential.password)
    expires = data.get("expiresAt")
    if not isinstance(expires, datetime):
        expires = ecr_password_expiry(credential.password)
    if expires is None:
        raise RenewError(f"ECR returned a token without expiry for {profile_label(profile)}"
                         f" in {region}", "try again; report it if it persists")
    return EcrToken(credential.username, credential.password, expires.astimezone(UTC))


def _client_error(error, profile: str | None, service: str, region: str) -> RenewError:
    code = error.response.get("Error", {}).get("Code", "")
    who, operation = profile_label(profile), f"{service}:GetAuthorizationToken"
    log.debug("%s failed for %s in %s: %s", operation, who, region, code)
    if code in _DENIED:
        return RenewError(f"{who} may not call {operation} in {region}",
                          "ask for that permission, or pick another profile with --profile"
                          " or [registries] in config.toml")
    if code in _THROTTLED:
        return RenewError(f"AWS throttled {operation} for {who} in {region}"
                          f" ({MAX_ATTEMPTS} attempts)", "wait a minute and try again")
    if code in _BAD_CREDENTIALS:
        return RenewError(f"AWS rejected the credentials of {who} ({code})",
                          "renew them: `aws sso login` for SSO profiles, else"
                          " `aws configure`")
    if code == "UnauthorizedException":  # sso:GetRoleCredentials answered 401
        return SsoSessionRefused(f"the SSO portal rejected the session of {who} (401)",
                          "sign in again: `ecr-token-tray login` opens the browser")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return RenewError(f"{operation} failed for {who} in {region}: {code or 'error'}"
                      f" (HTTP {status})", "try again later; see the log for details")


def _botocore_error(error, profile: str | None, service: str, region: str) -> RenewError:
    import botocore.exceptions as boto_errors

    from tray_app.renew import sso

    who = profile_label(profile)
    log.debug("%s in %s: %s", who, region, type(error).__name__)
    explained = sso.explain_sso_error(error, profile)  # SSO portal 401, no session...
    if explained is not None and not isinstance(error, boto_errors.NoCredentialsError):
        return explained
    if isinstance(error, boto_errors.ProfileNotFound):
        return RenewError(f"{who} is not defined in the AWS config",
                          "run `aws configure sso`, or fix the profile name"
                          " (--profile or [registries] in config.toml)")
    if isinstance(error, boto_errors.NoCredentialsError):
        return RenewError(f"no AWS credentials for {who}",
                          "run `aws configure sso` (or `aws configure`) to set them up")
    sso_expired = tuple(getattr(boto_errors, name) for name in (
        "UnauthorizedSSOTokenError", "SSOTokenLoadError", "TokenRetrievalError")
        if hasattr(boto_errors, name))
    if isinstance(error, sso_expired):
        return RenewError(f"the SSO session of {who} has expired or was rejected",
                          "sign in again: `ecr-token-tray login` opens the browser")
    if isinstance(error, boto_errors.ConnectTimeoutError | boto_errors.ReadTimeoutError):
        return RenewError(f"{service} in {region} did not answer in time for {who}"
                          f" ({MAX_ATTEMPTS} attempts)",
                          "check your network, VPN or proxy and try again")
    if isinstance(error, boto_errors.EndpointConnectionError | boto_errors.ConnectionError):
        return RenewError(f"cannot reach {service} in {region} for {who}: network unreachable"
                          f" ({MAX_ATTEMPTS} attempts)",
                          "check your network, VPN or proxy and try again")
    return RenewError(f"{service}:GetAuthorizationToken failed for {who} in {region}"
                      f" ({type(error).__name__})", "see the log (--debug) for details")
