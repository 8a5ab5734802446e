"""What the SSO step decides from local files alone: nothing here reaches a network.

The sso-oidc endpoint env var points at a closed port, so any AWS call would fail the test
with a "cannot reach" error instead of passing silently.
"""

from __future__ import annotations

import socket

import pytest

from tests.builders import LEGACY_START_URL, SSO_PROFILES_CONFIG, SSO_START_URL, in_
from tray_app.renew import sso
from tray_app.renew.errors import BrowserNeeded, RenewError


@pytest.fixture
def offline(monkeypatch):
    """AWS endpoints on a port nobody listens on; no `aws` on PATH."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("PATH", "/nonexistent")


def aws_files(home) -> dict:
    """~/.aws only (the app's state dir may gain a lock file)."""
    return {name: value for name, value in home.files().items() if "/.aws/" in name}


@pytest.fixture
def sso_home(home, offline):
    home.aws_config(SSO_PROFILES_CONFIG)
    return home


def test_a_profile_without_sso_needs_nothing(sso_home):
    assert sso.ensure_credentials("static", allow_browser=False) == "not-sso"
    assert sso.ensure_credentials("not-in-config", allow_browser=False) == "not-sso"
    assert sso.can_renew_silently("static")


def test_a_fresh_token_is_valid_without_any_call(sso_home):
    sso_home.sso_token("corp", SSO_START_URL, in_(120))
    before = sso_home.files()
    assert sso.ensure_credentials("dev", allow_browser=False) == "valid"
    assert sso.can_renew_silently("dev")
    assert sso_home.files() == before  # not even a lock file: nothing to do


def test_the_default_profile_comes_from_aws_profile(sso_home, monkeypatch):
    sso_home.sso_token("corp", SSO_START_URL, in_(120))
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert sso.profile_name(None) == "dev"
    assert sso.ensure_credentials(None, allow_browser=False) == "valid"


def test_legacy_profiles_cannot_refresh(sso_home):
    # Even a cache file holding a refresh token: legacy (start URL in the profile) sessions
    # are never refreshed by botocore or the CLI.
    sso_home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(-5), refresh=True,
                       region="us-east-1")
    assert not sso.can_renew_silently("ops")
    with pytest.raises(BrowserNeeded) as caught:
        sso.ensure_credentials("ops", allow_browser=False)
    assert str(caught.value) == (
        f"SSO session {LEGACY_START_URL} (profile ops) has expired and cannot be renewed"
        " without signing in - run `ecr-token-tray login` (or click Sign in) to sign in in"
        " the browser")


def test_a_nearly_expired_unrefreshable_token_still_counts_as_valid_when_unattended(sso_home):
    sso_home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(10), refresh=False,
                       region="us-east-1")
    assert sso.can_renew_silently("ops")
    assert sso.ensure_credentials("ops", allow_browser=False) == "valid"


def test_refreshable_means_refresh_token_and_live_registration(sso_home):
    sso_home.sso_token("corp", SSO_START_URL, in_(-30), registration_days=10)
    assert sso.can_renew_silently("dev")
    sso_home.sso_token("corp", SSO_START_URL, in_(-30), registration_days=-1)
    assert not sso.can_renew_silently("dev")
    with pytest.raises(BrowserNeeded, match=r"session corp \(profile dev\) has expired"):
        sso.ensure_credentials("dev", allow_browser=False)


def test_never_signed_in_needs_the_browser(sso_home):
    assert not sso.can_renew_silently("dev-admin")
    with pytest.raises(BrowserNeeded, match="profile dev-admin"):
        sso.ensure_credentials("dev-admin", allow_browser=False)


def test_a_profile_naming_a_missing_sso_session_is_a_config_error(home, offline):
    home.aws_config("[profile dev]\nsso_session = gone\nsso_account_id = 222222222222\n")
    with pytest.raises(RenewError) as caught:
        sso.ensure_credentials("dev", allow_browser=True)
    assert not isinstance(caught.value, BrowserNeeded)
    assert "profile dev names sso_session 'gone'" in str(caught.value)
    assert "[sso-session gone]" in str(caught.value)
    assert not sso.can_renew_silently("dev")


def test_an_sso_session_lacking_fields_is_a_config_error(home, offline):
    home.aws_config("[profile dev]\nsso_session = corp\n\n[sso-session corp]\n"
                    f"sso_start_url = {SSO_START_URL}\n")
    with pytest.raises(RenewError, match=r"profile dev: .*\[sso-session corp\] lacks"):
        sso.ensure_credentials("dev", allow_browser=True)


def test_a_legacy_profile_without_region_is_a_config_error(home, offline):
    home.aws_config(f"[profile ops]\nsso_start_url = {LEGACY_START_URL}\n")
    with pytest.raises(RenewError, match="profile ops has sso_start_url but no sso_region"):
        sso.ensure_credentials("ops", allow_browser=True)


def test_an_unparsable_config_file_names_the_file(home, offline):
    path = home.aws_config("[profile dev\nsso_session = corp\n")
    with pytest.raises(RenewError, match=str(path)):
        sso.ensure_credentials("dev", allow_browser=False)
    assert not sso.can_renew_silently("dev")


def test_source_profile_chains_use_the_sso_profile_behind_them(home, offline):
    home.aws_config(SSO_PROFILES_CONFIG + "\n[profile deploy]\nrole_arn = "
                    "arn:aws:iam::444444444444:role/Deploy\nsource_profile = dev\n")
    home.sso_token("corp", SSO_START_URL, in_(120))
    assert sso.ensure_credentials("deploy", allow_browser=False) == "valid"


def test_sign_in_to_an_unknown_session_says_so(sso_home):
    with pytest.raises(RenewError, match="no SSO session named 'other'"):
        sso.sign_in("other")


def test_sign_in_to_a_good_session_opens_nothing(sso_home):
    sso_home.sso_token("corp", SSO_START_URL, in_(120))
    assert sso.sign_in("corp") == "valid"


def test_a_refresh_that_cannot_reach_the_service_says_so(sso_home):
    sso_home.sso_token("corp", SSO_START_URL, in_(-5))
    before = aws_files(sso_home)
    with pytest.raises(RenewError, match=r"cannot reach the SSO service in eu-west-1 for"
                                         r" session corp \(profile dev\)") as caught:
        sso.ensure_credentials("dev", allow_browser=True)
    assert not isinstance(caught.value, BrowserNeeded)
    assert aws_files(sso_home) == before  # the previous login is left in place


def test_offline_with_a_still_usable_token_keeps_it(sso_home):
    sso_home.sso_token("corp", SSO_START_URL, in_(10))
    assert sso.ensure_credentials("dev", allow_browser=False) == "valid"


def test_a_damaged_cache_file_means_signed_out_not_a_crash(sso_home):
    path = sso_home.sso_token("corp", SSO_START_URL, in_(120))
    path.write_bytes(b'{"startUrl": "https://corp.awsapps.com/start", "accessTo')
    before = aws_files(sso_home)
    assert not sso.can_renew_silently("dev")
    with pytest.raises(BrowserNeeded, match=r"session corp \(profile dev\)"):
        sso.ensure_credentials("dev", allow_browser=False)
    assert aws_files(sso_home) == before  # left for the next sign-in to replace
