"""Browser sign-in through a stand-in `aws` CLI v2 on PATH that writes the cache as v2 does.

The stand-in really runs the device authorization against the local sso-oidc, so the token
it caches is one the local SSO portal (AWS_ENDPOINT_URL_SSO) accepts.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import figures
from tests.builders import LEGACY_START_URL, SSO_PROFILES_CONFIG, SSO_START_URL, in_
from tests.integration.sso_support import (
    CALL_SSO,
    RESOLVE_CREDENTIALS,
    child_env,
    ensure_on_two_threads,
    processes_mentioning,
    run_python,
    token_document,
)
from tray_app.renew import sso
from tray_app.renew.errors import SsoLoginFailed


@pytest.fixture
def corp_home(home, sso_service, fake_aws):
    home.aws_config(SSO_PROFILES_CONFIG)
    sso_service.switches.strict_tokens = True
    return home


def test_signing_in_writes_the_cache_and_boto3_gets_role_credentials(corp_home, sso_service,
                                                                     fake_aws):
    lines: list[str] = []
    assert sso.ensure_credentials("dev", allow_browser=True, progress=lines.append) == \
        "signed-in"

    assert fake_aws.sso_logins == [["sso", "login", "--profile", "dev"]]
    assert lines[0] == "Opening the browser to sign in to corp..."
    assert any("Successfully logged into Start URL" in line for line in lines)
    cache = token_document(corp_home, "corp")
    assert cache["accessToken"] in sso_service.issued_secrets
    assert cache["refreshToken"] in sso_service.issued_secrets
    answer, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())
    assert answer == {"ok": True, "key_prefix": "ASIA", "has_session_token": True}
    assert sso_service.role_requests == [("222222222222", "Developer")]
    assert sso.can_renew_silently("dev")


def test_no_browser_is_passed_through_and_the_code_relayed(corp_home, fake_aws):
    lines: list[str] = []
    sso.ensure_credentials("dev", allow_browser=True, no_browser=True, progress=lines.append)
    assert fake_aws.sso_logins == [["sso", "login", "--profile", "dev", "--no-browser"]]
    assert "Then enter the code:" in lines
    assert any(line.startswith("https://device.sso.") for line in lines)


def test_sign_in_names_the_sso_session_or_the_legacy_profile(corp_home, fake_aws):
    assert sso.sign_in("corp") == "signed-in"
    assert sso.sign_in(LEGACY_START_URL) == "signed-in"
    assert fake_aws.sso_logins == [["sso", "login", "--sso-session", "corp"],
                                   ["sso", "login", "--profile", "ops"]]
    assert token_document(corp_home, LEGACY_START_URL)["startUrl"] == LEGACY_START_URL


def test_a_cancelled_sign_in_says_so_and_keeps_the_old_token(corp_home, fake_aws):
    figures.add("fault cases tried")
    corp_home.sso_token("corp", SSO_START_URL, in_(-5), refresh=False)
    before = token_document(corp_home, "corp")
    fake_aws.set_mode("cancel")
    with pytest.raises(SsoLoginFailed) as caught:
        sso.ensure_credentials("dev", allow_browser=True)
    assert str(caught.value) == ("SSO sign-in for session corp (profile dev) was cancelled"
                                 " - run ecr-token-tray login again")
    assert token_document(corp_home, "corp") == before
    figures.add("fault cases passed")


def test_a_sign_in_that_never_finishes_times_out_and_the_child_is_stopped(corp_home, fake_aws):
    figures.add("fault cases tried")
    fake_aws.set_mode("hang")
    with pytest.raises(SsoLoginFailed) as caught:
        sso.ensure_credentials("dev", allow_browser=True, timeout=1.5)
    assert re.fullmatch(
        r"SSO sign-in for session corp \(profile dev\) timed out after \d s - run"
        r" `ecr-token-tray login` again and finish the sign-in in the browser", str(caught.value))
    assert processes_mentioning(str(fake_aws.root)) == []
    figures.add("fault cases passed")


@pytest.mark.parametrize(("mode", "expected"), [
    ("fail", "SSO sign-in for session corp (profile dev): `aws sso login` failed (exit 255):"
             " Error when retrieving token from sso: Token has expired and refresh failed"),
    ("service-error", "SSO sign-in for session corp (profile dev): `aws sso login` was"
                      " refused by the SSO service (exit 254): An error occurred"
                      " (InvalidRequestException) when calling the StartDeviceAuthorization"
                      " operation: Invalid start URL"),
    ("exit:253", "SSO sign-in for session corp (profile dev): `aws sso login` found a"
                 " configuration problem (exit 253): aws: [ERROR]: simulated failure with"
                 " exit 253"),
    ("exit:252", "SSO sign-in for session corp (profile dev): `aws sso login` rejected its"
                 " arguments (exit 252): aws: [ERROR]: simulated failure with exit 252"),
])
def test_a_failing_aws_sso_login_reports_its_exit_code(corp_home, fake_aws, mode, expected):
    figures.add("fault cases tried")
    fake_aws.set_mode(mode)
    with pytest.raises(SsoLoginFailed) as caught:
        sso.ensure_credentials("dev", allow_browser=True)
    assert caught.value.title == expected
    figures.add("fault cases passed")


def test_two_threads_on_one_session_start_only_one_browser_sign_in(corp_home, fake_aws):
    fake_aws.set_mode("succeed", delay=1.0)  # long enough for the second to arrive
    results = ensure_on_two_threads(("dev", "dev-admin"), allow_browser=True)
    assert sorted(results) == ["signed-in", "valid"]
    assert len(fake_aws.sso_logins) == 1


def test_two_processes_on_one_session_start_only_one_browser_sign_in(corp_home, sso_service,
                                                                     fake_aws):
    fake_aws.set_mode("succeed", delay=1.0)
    env = child_env(corp_home, PATH=fake_aws.path_with_fake_first(), **sso_service.env())
    children = [subprocess.Popen(
        [sys.executable, "-c", CALL_SSO, "ensure", profile, '{"allow_browser": true}'],
        env=env, stdout=subprocess.PIPE, text=True, cwd=corp_home.root)
        for profile in ("dev", "dev-admin")]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert sorted('"signed-in"' in out for out in outputs) == [False, True]
    assert all('"valid"' in out or '"signed-in"' in out for out in outputs)
    assert len(fake_aws.sso_logins) == 1


def test_a_damaged_cache_file_is_replaced_by_the_sign_in(corp_home, sso_service, fake_aws):
    path = corp_home.sso_token("corp", SSO_START_URL, in_(120))
    path.write_bytes(b"\x00garbage")
    assert sso.ensure_credentials("dev", allow_browser=True) == "signed-in"
    assert token_document(corp_home, "corp")["accessToken"] in sso_service.issued_secrets
    assert path.stat().st_mode & 0o777 == 0o600
