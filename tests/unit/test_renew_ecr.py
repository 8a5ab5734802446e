"""GetAuthorizationToken against the local ECR endpoint (AWS_ENDPOINT_URL_ECR), in process."""

from __future__ import annotations

import pytest

from tests.stand_ins.ecr_endpoint import running_ecr_endpoint, unreachable_url
from tests.stand_ins.registry import PROFILE_KEYS, EcrLab
from tray_app.logs import redact
from tray_app.renew.ecr import EcrToken, get_token
from tray_app.renew.errors import RenewError
from tray_app.tokens import ecr_password_expiry


@pytest.fixture
def endpoint(home, monkeypatch):
    EcrLab.credentials_file(home.root)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("ECR_TOKEN_TRAY_AWS_TIMEOUT", "1")
    with running_ecr_endpoint() as running:
        for name, value in running.env().items():
            monkeypatch.setenv(name, value)
        yield running


def test_token_for_profile_and_region(endpoint):
    token = get_token("dev", "ecr", "us-west-2")
    assert token.username == "AWS"
    assert token.password in endpoint.issuer.passwords
    assert token.expires_at == ecr_password_expiry(token.password)  # API and token agree
    assert endpoint.calls == {("ecr", "us-west-2", PROFILE_KEYS["dev"][0]): 1}
    assert token.password not in repr(token)
    assert redact(f"password={token.password}") == "password=<redacted>"
    assert redact(token.password) == "<redacted>"


def test_public_token(endpoint):
    token = get_token(None, "ecr-public", "us-east-1")
    assert isinstance(token, EcrToken)
    assert endpoint.calls == {("ecr-public", "us-east-1", PROFILE_KEYS["default"][0]): 1}


@pytest.mark.parametrize("switch, value, expected", [
    ("deny", True, "profile dev may not call ecr:GetAuthorizationToken in us-west-2"),
    ("throttle", True, "AWS throttled ecr:GetAuthorizationToken for profile dev in us-west-2"),
    ("server_error", True, "failed for profile dev in us-west-2: ServerException (HTTP 500)"),
    ("slow", 2.0, "ecr in us-west-2 did not answer in time for profile dev"),
])
def test_faults_become_plain_words(endpoint, switch, value, expected):
    setattr(endpoint.faults, switch, value)
    with pytest.raises(RenewError) as raised:
        get_token("dev", "ecr", "us-west-2")
    assert expected in str(raised.value)
    assert raised.value.hint  # every error says what to do


def test_unreachable(endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    with pytest.raises(RenewError, match="cannot reach ecr in eu-west-1 for profile ops:"
                                         " network unreachable"):
        get_token("ops", "ecr", "eu-west-1")


def test_missing_profile_and_missing_credentials(endpoint, home):
    with pytest.raises(RenewError, match="profile nosuch is not defined"):
        get_token("nosuch", "ecr", "eu-west-1")
    (home.root / ".aws" / "credentials").unlink()
    with pytest.raises(RenewError, match=r"no AWS credentials for the default profile - run"
                                         r" `aws configure sso`"):
        get_token(None, "ecr", "eu-west-1")
