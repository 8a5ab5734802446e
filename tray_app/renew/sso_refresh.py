"""Silent renewal: sso-oidc ``CreateToken`` with the cached refresh token (grant
``refresh_token``), as botocore's ``SSOTokenProvider`` does, then rewrite the cache file
in the AWS CLI's format. botocore is imported inside functions only."""

from __future__ import annotations

import logging

from tray_app.logs import register_secret
from tray_app.renew.errors import BrowserNeeded, RenewError
from tray_app.renew.sso_cache import read_token_document, store_refreshed_token
from tray_app.renew.sso_oidc import error_code, network_error, oidc_client
from tray_app.renew.sso_target import Target
from tray_app.settings import Paths

log = logging.getLogger("tray_app.renew.sso")  # one logger for the whole SSO step

# Answers meaning "this refresh token or registration is done for": sign in again.
REFUSED_CODES = {"InvalidGrantException", "ExpiredTokenException", "InvalidClientException",
                 "UnauthorizedClientException", "AccessDeniedException",
                 "UnauthorizedException", "InvalidRequestException"}
REFRESH_FIELDS = ("clientId", "clientSecret", "refreshToken", "registrationExpiresAt")


class RefreshRefused(Exception):
    """The session cannot be renewed silently; ``reason`` says why in plain words."""

    def __init__(self, reason: RenewError) -> None:
        super().__init__(str(reason))
        self.reason = reason


def refresh(paths: Paths, target: Target) -> None:
    """sso-oidc CreateToken with the refresh token; rewrite the cache as botocore does.

    Raises RefreshRefused (a sign-in is needed) or RenewError (network, service trouble)."""
    from botocore import exceptions as botocore_errors

    document = _refresh_document(paths, target)
    client = oidc_client(target.session.region)
    try:
        response = client.create_token(grantType="refresh_token",
                                       clientId=document["clientId"],
                                       clientSecret=document["clientSecret"],
                                       refreshToken=document["refreshToken"])
    except botocore_errors.ClientError as error:
        raise _refused(target, error) from None
    except botocore_errors.BotoCoreError as error:
        raise network_error(target, error) from None
    store_refreshed_token(paths, target.session, document, response)


def _refresh_document(paths: Paths, target: Target) -> dict:
    """The cache file, when it holds everything a refresh needs (secrets registered)."""
    document = read_token_document(paths, target.session)
    if not all(isinstance(document.get(f), str) and document.get(f) for f in REFRESH_FIELDS):
        raise RefreshRefused(BrowserNeeded(
            f"SSO {target.label}: the cached token has no complete refresh data",
            "run `ecr-token-tray login` to sign in in the browser"))
    for secret in (document.get("accessToken"), document["refreshToken"],
                   document["clientSecret"]):
        register_secret(secret)
    return document


def _refused(target: Target, error) -> Exception:
    """RefreshRefused when the service says the session has ended, else RenewError."""
    code, status = error_code(error)
    log.info("SSO refresh for %s refused: %s (HTTP %s)", target.label, code, status)
    if code in REFUSED_CODES or status in (400, 401, 403):
        return RefreshRefused(BrowserNeeded(
            f"SSO {target.label} could not be renewed silently (the SSO service answered"
            f" {code or status}: the session has ended)",
            "run `ecr-token-tray login` to sign in in the browser"))
    return RenewError(f"SSO {target.label}: renewal failed ({code or status})",
                      "try again later")
