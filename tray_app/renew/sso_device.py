"""Native browser sign-in (what `aws sso login` does, with botocore): the sso-oidc device
authorization flow, used when ``aws`` is missing or is CLI v1.

Reuse (or register and cache) a client registration, start a device authorization, open
the verification URL in the browser (or print it), poll CreateToken until it is approved,
then write the token cache in the AWS CLI's format. botocore is imported inside functions.
"""

from __future__ import annotations

import time

from tray_app.renew.errors import SsoLoginFailed
from tray_app.renew.sso_cache import (
    read_registration,
    registration_path,
    store_new_login,
    store_registration,
)
from tray_app.renew.sso_oidc import network_error, oidc_client, service_refused
from tray_app.renew.sso_target import Progress, Target
from tray_app.settings import Paths
from tray_app.sources.aws_config import SsoSessionConfig

DEFAULT_SCOPES = ("sso:account:access",)  # what `aws configure sso-session` registers
SLOW_DOWN_DELAY = 5  # seconds added on SlowDownException (RFC 8628 section 3.5)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def native_sign_in(paths: Paths, target: Target, *, no_browser: bool, timeout: float,
                   progress: Progress) -> None:
    """Sign in with the device authorization flow; raises SsoLoginFailed or RenewError."""
    from botocore import exceptions as botocore_errors

    session = target.session
    deadline = time.monotonic() + timeout
    client = oidc_client(session.region)
    try:
        registration = _registration(paths, client, session)
        authorization = client.start_device_authorization(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"],
            startUrl=session.start_url)
    except botocore_errors.ClientError as error:
        raise service_refused(target, error) from None
    except botocore_errors.BotoCoreError as error:
        raise network_error(target, error) from None
    deadline = min(deadline, time.monotonic() + int(authorization.get("expiresIn", 600)))
    _show_verification(session, authorization, no_browser=no_browser, progress=progress)
    response = _poll_for_token(client, registration, authorization, target, deadline)
    store_new_login(paths, session, registration, response)
    progress(f"Signed in to {session.name}.")


def _show_verification(session: SsoSessionConfig, authorization: dict, *, no_browser: bool,
                       progress: Progress) -> None:
    """Open the verification URL in the browser, or tell the user where to go."""
    url = authorization["verificationUriComplete"]
    code = authorization.get("userCode", "")
    if no_browser:
        progress(f"To sign in to {session.name}, open {url} and confirm the code {code}")
    else:
        progress(f"Opening the browser to sign in to {session.name}...")
        if not _open_browser(url):
            progress(f"No browser could be opened: open {url} and confirm the code {code}")
        else:
            progress(f"If the browser did not open, go to {url} (code {code})")


def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


def _poll_for_token(client, registration: dict, authorization: dict, target: Target,
                    deadline: float) -> dict:
    """CreateToken every ``interval`` seconds until the user approves (RFC 8628)."""
    from botocore import exceptions as botocore_errors

    interval = max(1, int(authorization.get("interval") or 5))
    while True:
        try:
            return client.create_token(
                grantType=DEVICE_GRANT,
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
            raise service_refused(target, error) from None
        except botocore_errors.BotoCoreError as error:
            raise network_error(target, error) from None
        if time.monotonic() + interval > deadline:
            raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out waiting for the"
                                 " browser approval",
                                 "run ecr-token-tray login again and approve it in the browser")
        time.sleep(interval)


def _registration(paths: Paths, client, session: SsoSessionConfig) -> dict:
    """Reuse the client registration the CLI cached; register (and cache) a new one."""
    scopes = None if session.legacy else list(DEFAULT_SCOPES)
    path = registration_path(paths, session, scopes)
    cached = read_registration(path)
    if cached is not None:
        return cached
    name = (f"botocore-client-{session.name}" if not session.legacy
            else f"botocore-client-{int(time.time())}")
    arguments = {"clientName": name, "clientType": "public"}
    if scopes:
        arguments["scopes"] = scopes
    response = client.register_client(**arguments)
    return store_registration(path, response, scopes)
