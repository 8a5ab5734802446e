"""SSO faults (the portal answering 401) and the leak scan over every SSO path."""

from __future__ import annotations

import logging

import pytest

from tests import figures
from tests.builders import (
    SSO_ACCESS_TOKEN,
    SSO_PROFILES_CONFIG,
    SSO_REFRESH_TOKEN,
    SSO_START_URL,
    in_,
)
from tests.integration.sso_support import (
    RESOLVE_CREDENTIALS,
    call_sso_in_child,
    recording_browser,
    run_python,
)
from tests.stand_ins.fake_aws_cli import FakeAwsCli
from tray_app.errors import TrayAppError
from tray_app.renew import sso


@pytest.fixture
def corp_home(home, sso_service):
    home.aws_config(SSO_PROFILES_CONFIG)
    return home


def test_the_sso_portal_answering_401_is_explained(corp_home, sso_service):
    figures.add("fault cases tried")
    corp_home.sso_token("corp", SSO_START_URL, in_(120))  # locally fine, revoked remotely
    sso_service.switches.portal_unauthorized = True
    assert sso.ensure_credentials("dev", allow_browser=False) == "valid"  # no AWS poll
    answer, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())
    assert answer == {
        "ok": False, "kind": "UnauthorizedSSOTokenError",
        "message": "the SSO portal refused the session of profile dev (401: signed out or"
                   " revoked) - run `ecr-token-tray login --profile dev` to sign in again"}
    assert sso_service.calls == {"GetRoleCredentials": 1}
    figures.add("fault cases passed")


def test_force_sign_in_distrusts_a_refused_token_the_cache_calls_valid(corp_home, sso_service,
                                                                      tmp_path, monkeypatch):
    from tray_app.renew.errors import BrowserNeeded

    figures.add("fault cases tried")
    corp_home.sso_token("corp", SSO_START_URL, in_(240), refresh=False)
    fake = FakeAwsCli.install(tmp_path / "fake-aws")
    monkeypatch.setenv("PATH", fake.path_with_fake_first())
    refused = sso.cached_session("dev")
    assert refused is not None and refused.name == "corp" and refused.token_id
    assert SSO_ACCESS_TOKEN not in repr(refused)  # a fingerprint, not the token

    assert sso.ensure_credentials("dev", allow_browser=True) == "valid"  # unchanged default
    with pytest.raises(BrowserNeeded) as caught:
        sso.ensure_credentials("dev", allow_browser=False, force_sign_in=True)
    assert caught.value.title == ("the SSO portal refused session corp (profile dev) (signed"
                                  " out or revoked): a sign-in is needed")
    assert fake.sso_logins == []

    assert sso.ensure_credentials("dev", allow_browser=True, force_sign_in=True,
                                  refused_token_id=refused.token_id) == "signed-in"
    # dev-admin was refused with the same old token: the session is already renewed
    assert sso.ensure_credentials("dev-admin", allow_browser=True, force_sign_in=True,
                                  refused_token_id=refused.token_id) == "valid"
    assert fake.sso_logins == [["sso", "login", "--profile", "dev"]]
    assert sso.cached_session("dev").token_id != refused.token_id
    figures.add("fault cases passed")


def test_force_sign_in_refreshes_silently_when_the_refresh_token_works(corp_home,
                                                                       sso_service):
    corp_home.sso_token("corp", SSO_START_URL, in_(240), refresh=True)
    assert sso.ensure_credentials("dev", allow_browser=False, force_sign_in=True) == \
        "refreshed"
    assert sso_service.calls["CreateToken:refresh_token"] == 1


def test_no_sso_session_at_all_is_explained(corp_home, sso_service):
    answer, _ = run_python(corp_home, RESOLVE_CREDENTIALS, "dev", **sso_service.env())
    assert answer["ok"] is False
    assert answer["message"] == ("profile dev has no usable SSO session (not signed in or"
                                 " expired) - run `ecr-token-tray login --profile dev` to"
                                 " sign in")


def test_no_secret_reaches_output_messages_logs_or_argv(corp_home, sso_service, fake_aws,
                                                        tmp_path, caplog):
    """Every SSO path at debug level; then scan all that a user or a log could see."""
    seen: list[str] = []
    log_lines: list[str] = []
    caplog.set_level(logging.DEBUG, logger="tray_app")

    def attempt(call) -> None:
        try:
            seen.append(str(call()))
        except TrayAppError as error:
            seen.append(str(error))
            seen.append(repr(error))

    # 1. silent refresh, 2. rejected refresh, 3. browser sign-in with --no-browser
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    attempt(lambda: sso.ensure_credentials("dev", allow_browser=False, progress=seen.append))
    corp_home.sso_token("corp", SSO_START_URL, in_(-5))
    sso_service.switches.refresh_accepted = False
    attempt(lambda: sso.ensure_credentials("dev", allow_browser=False, progress=seen.append))
    attempt(lambda: sso.ensure_credentials("dev", allow_browser=True, no_browser=True,
                                           progress=seen.append))
    # 4. cancelled and failing `aws sso login`
    for mode in ("cancel", "fail"):
        corp_home.sso_token("corp", SSO_START_URL, in_(-5), refresh=False)
        fake_aws.set_mode(mode)
        attempt(lambda: sso.ensure_credentials("dev", allow_browser=True, progress=seen.append))
    # 5. native device flow (aws v1), in a child like a user's process
    aws_v1 = FakeAwsCli.install(tmp_path / "aws-v1", major=1)
    script, opened = recording_browser(tmp_path / "browser")
    corp_home.sso_token("corp", SSO_START_URL, in_(-5), refresh=False)
    answer, child = call_sso_in_child(
        corp_home, "ensure", "dev", options='{"allow_browser": true}', **sso_service.env(),
        PATH=aws_v1.path_with_fake_first(), BROWSER=str(script))
    assert answer["result"] == "signed-in"
    seen += [child.stdout, child.stderr, opened.read_text()]
    # 6. what `status` shows about the session afterwards
    status = corp_home.run_cli("--debug", "status", "--json")
    seen += [status.stdout, status.stderr]
    # The app logs only under "tray_app" (botocore's own debug log is not ours to write):
    # its raw messages, before any redaction, must already be clean.
    log_lines += [record.getMessage() for record in caplog.records
                  if record.name.startswith("tray_app")]
    assert log_lines, "the SSO step logged nothing to scan"

    secrets = {SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN, "client-secret-example",
               *sso_service.issued_secrets}
    assert len(secrets) >= 8  # tokens, refresh tokens, client secrets, role keys were issued
    argv = [" ".join(a) for a in fake_aws.invocations + aws_v1.invocations]
    places = {"output and messages": seen, "logs": log_lines, "child argv": argv}
    found = {place: [s for s in secrets for text in texts if s in text]
             for place, texts in places.items()}
    figures.add("SSO secrets found", sum(len(hits) for hits in found.values()))
    assert found == {"output and messages": [], "logs": [], "child argv": []}
    assert any("user_code=" in text for text in seen)  # the scan looked at real output
