"""The sso-oidc client shared by the silent refresh and the native sign-in, and the plain
words for its failures. botocore is imported inside functions only."""

from __future__ import annotations

from tray_app.renew.errors import RenewError, SsoLoginFailed
from tray_app.renew.sso_target import Target


def oidc_client(region: str):
    """An unsigned sso-oidc client (the OIDC calls need no AWS credentials)."""
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.Session()
    session.set_config_variable("profile", None)  # AWS_PROFILE may name a missing profile
    config = Config(signature_version=UNSIGNED, connect_timeout=5, read_timeout=20,
                    retries={"mode": "standard", "max_attempts": 3})
    return session.create_client("sso-oidc", region_name=region, config=config)


def error_code(error) -> tuple[str, int | None]:
    """A botocore ClientError's error code and HTTP status."""
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, status


def network_error(target: Target, error: BaseException) -> RenewError:
    return RenewError(f"cannot reach the SSO service in {target.session.region} for"
                      f" {target.label} ({type(error).__name__})",
                      "check the network connection, then run `ecr-token-tray login` again")


def service_refused(target: Target, error) -> SsoLoginFailed:
    code, status = error_code(error)
    return SsoLoginFailed(f"SSO sign-in for {target.label} was refused by the SSO service"
                          f" ({code or 'HTTP'} {status})",
                          "check sso_start_url and sso_region in ~/.aws/config")
