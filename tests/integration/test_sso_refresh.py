"""Silent renewal of an sso-session token against a local sso-oidc (AWS_ENDPOINT_URL_SSO_OIDC)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import (
    SSO_ACCESS_TOKEN,
    SSO_PROFILES_CONFIG,
    SSO_REFRESH_TOKEN,
    SSO_START_URL,
    in_,
)
from tests.integration.sso_support import (
    RESOLVE_CREDENTIALS,
    ensure_on_two_threads,
    run_python,
    token_document,
)
from tray_app.renew import sso
from tray_app.renew.errors import BrowserNeeded
from tray_app.timeutil import parse_time

CLI_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def corp_home(home, sso_service):
    home.aws_config(SSO_PROFILES_CONFIG)
    return home


def test_an_expired_token_is_refreshed_and_the_cache_rewritten_like_the_cli(corp_home,
                                                                            sso_service):
    path = corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    before = token_document(corp_home, "corp")

    assert sso.ensure_credentials("dev", allow_browser=False) == "refreshed"

    assert sso_service.calls == {"CreateToken:refresh_token": 1}
    after = token_document(corp_home, "corp")
    assert path.stat().st_mode & 0o777 == 0o600
    assert set(after) == {"startUrl", "region", "accessToken", "expiresAt", "clientId",
                          "clientSecret", "registrationExpiresAt", "refreshToken"}
    assert after["accessToken"] in sso_service.issued_secrets
    assert after["refreshToken"] in sso_service.issued_secrets  # rotated, as AWS does
    assert (after["startUrl"], after["region"]) == (SSO_START_URL, "eu-west-1")
    for kept in ("clientId", "clientSecret", "registrationExpiresAt"):
        assert after[kept] == before[kept]
    assert CLI_TIME.match(after["expiresAt"])
    new_expiry = parse_time(after["expiresAt"])
    assert timedelta(hours=7, minutes=59) < new_expiry - datetime.now(UTC) <= timedelta(hours=8)
    assert not list(path.parent.glob("*.tmp"))

    status = corp_home.status_json()
    corp = next(s for s in status["sso_sessions"] if s["name"] == "corp")
    assert corp["state"] == "ok" and corp["refreshable"]
    assert corp["seconds_left"] > 7 * 3600


def test_a_token_in_its_last_15_minutes_is_refreshed(corp_home, sso_service):
    corp_home.sso_token("corp", SSO_START_URL, in_(10))
    assert sso.ensure_credentials("dev", allow_browser=False) == "refreshed"
    assert token_document(corp_home, "corp")["accessToken"] != SSO_ACCESS_TOKEN


def test_the_refreshed_token_gets_role_credentials_through_boto3(corp_home, sso_service):
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    sso.ensure_credentials("dev", allow_browser=False)
    sso_service.switches.strict_tokens = True  # only the token it issued is accepted now
    answer, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())
    assert answer == {"ok": True, "key_prefix": "ASIA", "has_session_token": True}
    assert sso_service.role_requests == [("222222222222", "Developer")]


def test_a_rejected_refresh_needs_the_browser_and_keeps_the_old_file(corp_home, sso_service):
    from tests import figures

    figures.add("fault cases tried")
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    sso_service.switches.refresh_accepted = False
    before = corp_home.files()
    aws_before = {k: v for k, v in before.items() if "/.aws/" in k}

    with pytest.raises(BrowserNeeded) as caught:
        sso.ensure_credentials("dev", allow_browser=False)

    assert str(caught.value) == (
        "SSO session corp (profile dev) could not be renewed silently (the SSO service"
        " answered InvalidGrantException: the session has ended) - run `ecr-token-tray login`"
        " to sign in in the browser")
    assert {k: v for k, v in corp_home.files().items() if "/.aws/" in k} == aws_before
    assert sso_service.calls == {"CreateToken:refresh_token": 1}
    assert SSO_REFRESH_TOKEN not in str(caught.value)
    figures.add("fault cases passed")


def test_a_rejected_refresh_signs_in_when_the_browser_is_allowed(corp_home, sso_service,
                                                                 fake_aws):
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    sso_service.switches.refresh_accepted = False
    assert sso.ensure_credentials("dev", allow_browser=True) == "signed-in"
    assert fake_aws.sso_logins == [["sso", "login", "--profile", "dev"]]
    assert token_document(corp_home, "corp")["accessToken"] in sso_service.issued_secrets


def test_two_threads_on_one_session_refresh_once(corp_home, sso_service):
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    results = ensure_on_two_threads(("dev", "dev-admin"), allow_browser=False)
    assert sorted(results) == ["refreshed", "valid"]
    assert sso_service.calls == {"CreateToken:refresh_token": 1}


def test_botocore_itself_can_refresh_the_file_we_rewrote(corp_home, sso_service):
    """Format check by the other reader: botocore's SSOTokenProvider loads our file, finds it
    expired, refreshes it with the fields we wrote, and resolves role credentials."""
    path = corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    sso.ensure_credentials("dev", allow_browser=False)
    document = token_document(corp_home, "corp")
    document["expiresAt"] = in_(-1).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(document))
    sso_service.switches.strict_tokens = True

    answer, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())

    assert answer["ok"], answer
    assert sso_service.calls["CreateToken:refresh_token"] == 2
    assert token_document(corp_home, "corp")["accessToken"] != document["accessToken"]
