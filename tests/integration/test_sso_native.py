"""The native sign-in (sso-oidc device authorization with boto3) when `aws` is v1 or missing.

Runs in a fresh interpreter each time: Python's webbrowser reads $BROWSER once per process,
and $BROWSER is a recording stand-in so no real browser is ever started.
"""

from __future__ import annotations

import json

import pytest

from tests import figures
from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, in_
from tests.integration.sso_support import (
    RESOLVE_CREDENTIALS,
    call_sso_in_child,
    recording_browser,
    run_python,
    token_document,
)
from tests.stand_ins.fake_aws_cli import FakeAwsCli


@pytest.fixture
def aws_v1(tmp_path):
    return FakeAwsCli.install(tmp_path / "aws-v1", major=1)


@pytest.fixture
def browser(tmp_path):
    return recording_browser(tmp_path / "browser")


@pytest.fixture
def corp_home(home, sso_service):
    home.aws_config(SSO_PROFILES_CONFIG)
    sso_service.switches.strict_tokens = True
    return home


def native_env(sso_service, aws_v1, browser, **extra) -> dict:
    script, _ = browser
    return {**sso_service.env(), "PATH": aws_v1.path_with_fake_first("/usr/bin:/bin"),
            "BROWSER": str(script), **extra}


def test_with_aws_v1_the_device_flow_runs_natively(corp_home, sso_service, aws_v1, browser):
    sso_service.switches.pending_polls = 1  # the user approves on the second poll
    answer, _ = call_sso_in_child(corp_home, "ensure", "dev", options='{"allow_browser": true}',
                                  **native_env(sso_service, aws_v1, browser))

    assert answer["result"] == "signed-in", answer
    assert aws_v1.sso_logins == []  # v1 was asked its version, never `sso login`
    assert aws_v1.invocations == [["--version"]]
    opened = browser[1].read_text().split()
    assert len(opened) == 1 and opened[0].startswith("https://device.sso.example.invalid/?user_code=")
    assert answer["progress"][0] == "Opening the browser to sign in to corp..."
    assert sso_service.calls == {"RegisterClient": 1, "StartDeviceAuthorization": 1,
                                 "CreateToken:device_code": 2}

    cache = token_document(corp_home, "corp")
    assert set(cache) == {"startUrl", "region", "accessToken", "expiresAt", "clientId",
                          "clientSecret", "registrationExpiresAt", "refreshToken"}
    assert cache["accessToken"] in sso_service.issued_secrets
    registrations = [json.loads(p.read_text()) for p in corp_home.sso_cache_dir.glob("*.json")
                     if "accessToken" not in json.loads(p.read_text())]
    assert registrations == [{"clientId": cache["clientId"], "clientSecret": cache["clientSecret"],
                              "expiresAt": cache["registrationExpiresAt"],
                              "scopes": ["sso:account:access"]}]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in corp_home.sso_cache_dir.iterdir())

    # boto3 (and so the AWS CLI v2) sees the session: the portal accepts the new token.
    resolved, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())
    assert resolved["ok"], resolved


def test_the_cached_registration_is_reused(corp_home, sso_service, aws_v1, browser):
    env = native_env(sso_service, aws_v1, browser)
    call_sso_in_child(corp_home, "sign_in", "corp", **env)
    corp_home.sso_token("corp", SSO_START_URL, in_(-30), refresh=False)  # session ended
    answer, _ = call_sso_in_child(corp_home, "sign_in", "corp", **env)
    assert answer["result"] == "signed-in"
    assert sso_service.calls["RegisterClient"] == 1
    assert sso_service.calls["StartDeviceAuthorization"] == 2


def test_without_aws_and_with_no_browser_the_link_and_code_are_printed(
        corp_home, sso_service, browser, tmp_path):
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    answer, _ = call_sso_in_child(
        corp_home, "ensure", "dev", options='{"allow_browser": true, "no_browser": true}',
        **{**sso_service.env(), "PATH": str(empty_bin), "BROWSER": str(browser[0])})
    assert answer["result"] == "signed-in", answer
    (line,) = answer["progress"][:1]
    assert line.startswith("To sign in to corp, open https://device.sso.example.invalid/"
                           "?user_code=") and " and confirm the code " in line
    assert not browser[1].exists()


def test_native_sign_in_times_out_when_nobody_approves(corp_home, sso_service, aws_v1,
                                                       browser):
    figures.add("fault cases tried")
    sso_service.switches.never_approve = True
    answer, _ = call_sso_in_child(
        corp_home, "ensure", "dev", options='{"allow_browser": true, "timeout": 2.5}',
        **native_env(sso_service, aws_v1, browser))
    assert answer["error"] == "SsoLoginFailed"
    assert answer["message"] == (
        "SSO sign-in for session corp (profile dev) timed out waiting for the browser approval"
        " - run ecr-token-tray login again and approve it in the browser")
    assert not (corp_home.sso_cache_dir / "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"
                ).exists()
    figures.add("fault cases passed")


def test_native_sign_in_denied_in_the_browser_is_a_cancel(corp_home, sso_service, aws_v1,
                                                          browser):
    figures.add("fault cases tried")
    sso_service.switches.deny_device = True
    answer, _ = call_sso_in_child(corp_home, "sign_in", "corp",
                                  **native_env(sso_service, aws_v1, browser))
    assert answer["message"] == ("SSO sign-in for session corp was cancelled (denied in the"
                                 " browser) - run ecr-token-tray login again")
    figures.add("fault cases passed")


def test_after_slow_down_the_poll_goes_on_and_signs_in(corp_home, sso_service,
                                                                   aws_v1, browser):
    # One SlowDownException adds 5 s to the 1 s interval (RFC 8628): this test takes ~6 s.
    sso_service.switches.slow_down_polls = 1
    answer, _ = call_sso_in_child(corp_home, "sign_in", "corp",
                                  **native_env(sso_service, aws_v1, browser))
    assert answer["result"] == "signed-in", answer
    assert sso_service.calls["CreateToken:device_code"] == 2
