"""The SSO portal refuses a cached token that still looks valid (signed out elsewhere, revoked
by an admin): `login` renews the session once - silently when the refresh token still works,
else one browser sign-in per SSO session - and asks ECR once more; automatic renewal (no
browser) skips the rows with a line saying a sign-in is needed.

Real parts: the Docker CLI, the TLS registry under the real ECR names, the local ECR API,
the local sso/sso-oidc (AWS_ENDPOINT_URL_SSO*) and the stand-in `aws` v2 on PATH.
"""

from __future__ import annotations

import shutil

import pytest

from tests import figures
from tests.builders import (
    SSO_ACCESS_TOKEN,
    SSO_PROFILES_CONFIG,
    SSO_REFRESH_TOKEN,
    SSO_START_URL,
    docker_auth,
    host,
    in_,
)
from tests.integration.leak_support import scannable, secret_hits
from tests.integration.sso_support import run_python, token_document
from tests.integration.test_login_docker import registry_answer, stored_auths

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

# dev in two regions, dev-admin in a third: three token groups, all on SSO session corp.
DEV_HOSTS = [host("222222222222", "eu-central-1"), host("222222222222", "us-east-1")]
ADMIN_HOST = host("222222222222", "us-west-2")
ALL_HOSTS = [*DEV_HOSTS, ADMIN_HOST]


@pytest.fixture
def revoked_home(home, ecr_lab, sso_service, fake_aws):
    """Only SSO credentials; expired docker logins; the cache holds a token good for 4 more
    hours that the portal has revoked (401 to GetRoleCredentials)."""
    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.app_config(f'[registries."{ADMIN_HOST}"]\nprofile = "dev-admin"\n')
    home.env.update(sso_service.env())
    home.env["PATH"] = fake_aws.path_with_fake_first()
    home.docker_config({h: {"auth": docker_auth(-60)} for h in ALL_HOSTS})
    home.docker_config_path.chmod(0o600)
    sso_service.revoke(SSO_ACCESS_TOKEN)
    return home


def test_a_revoked_session_signs_in_once_and_every_registry_works(revoked_home, ecr_lab,
                                                                  sso_service, fake_aws):
    home = revoked_home
    home.sso_token("corp", SSO_START_URL, in_(240), refresh=False)
    sessions = {s["name"]: s for s in home.status_json()["sso_sessions"]}
    assert sessions["corp"]["state"] == "ok"  # by the cache, all is well

    result = home.run_cli("login", "--all")

    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_aws.sso_logins == [["sso", "login", "--profile", "dev"]] or \
        fake_aws.sso_logins == [["sso", "login", "--profile", "dev-admin"]], fake_aws.sso_logins
    refreshed = [line for line in result.stdout.splitlines() if line.startswith("refreshed")]
    assert len(refreshed) == 3 and all("verified" in line for line in refreshed), result.stdout
    auths = stored_auths(home)
    for registry_host in ALL_HOSTS:
        assert registry_answer(ecr_lab, registry_host, auths[registry_host]) == 200
    new_token = token_document(home, "corp")["accessToken"]
    assert new_token != SSO_ACCESS_TOKEN and new_token in sso_service.issued_secrets
    assert ecr_lab.endpoint.token_calls() == 3  # refused calls never reached ECR
    hits = secret_hits({"stdout": result.stdout, "stderr": result.stderr,
                        "aws argv": fake_aws.argv_log.read_text()},
                       scannable(ecr_lab.secrets(), sso_service.issued_secrets,
                                 [SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN]))
    figures.record("revoked-session login secrets found", len(hits))
    assert hits == []


def test_a_revoked_token_with_a_live_refresh_token_is_renewed_without_a_browser(
        revoked_home, ecr_lab, sso_service, fake_aws):
    home = revoked_home
    home.sso_token("corp", SSO_START_URL, in_(240), refresh=True)

    result = home.run_cli("login", "--all")

    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_aws.sso_logins == []
    assert sso_service.calls["CreateToken:refresh_token"] == 1  # once for the session
    auths = stored_auths(home)
    for registry_host in ALL_HOSTS:
        assert registry_answer(ecr_lab, registry_host, auths[registry_host]) == 200
    assert token_document(home, "corp")["accessToken"] in sso_service.issued_secrets


def test_a_portal_that_refuses_even_the_new_sign_in_is_not_asked_again(
        revoked_home, ecr_lab, sso_service, fake_aws):
    home = revoked_home
    home.sso_token("corp", SSO_START_URL, in_(240), refresh=False)
    before = home.docker_config_path.read_bytes()
    sso_service.switches.portal_unauthorized = True  # every token, the new one too

    result = home.run_cli("login", "--all")

    assert result.returncode == 1
    assert len(fake_aws.sso_logins) == 1  # one sign-in, one retry per group, no loop
    lines = [line for line in result.stdout.splitlines() if "222222222222" in line]
    assert len(lines) == 3 and all(line.startswith("failed") for line in lines), result.stdout
    assert all("the SSO portal refused the session of profile" in line for line in lines)
    assert home.docker_config_path.read_bytes() == before
    # each group: a refused call, then one retry after the renewal (3 groups)
    assert sso_service.calls["GetRoleCredentials"] == 6


# The engine as automatic renewal calls it, in a fresh interpreter: botocore fixes its SSO
# token cache folder (~/.aws/sso/cache) when it is first imported, so in this test process it
# could still point at an earlier test's HOME.
RENEW_WITHOUT_BROWSER = """
import json
from tray_app.renew.engine import LoginOptions, renew
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
paths = Paths.from_env()
rows = take_snapshot(paths, Settings.load(paths.config_file)).registries
report = renew(rows, LoginOptions(allow_browser=False))
print(json.dumps({"ok": report.ok, "outcomes": [
    {"host": o.host, "result": o.result, "message": o.message} for o in report.outcomes]}))
"""


def test_automatic_renewal_skips_a_revoked_session_saying_a_sign_in_is_needed(
        revoked_home, ecr_lab, sso_service, fake_aws):
    home = revoked_home
    home.sso_token("corp", SSO_START_URL, in_(240), refresh=False)
    before = home.docker_config_path.read_bytes()

    report, child = run_python(home, RENEW_WITHOUT_BROWSER, timeout=120)

    assert fake_aws.sso_logins == []
    assert report["ok"] is False
    outcomes = {o["host"]: o for o in report["outcomes"]}
    assert set(outcomes) == set(ALL_HOSTS)
    for outcome in outcomes.values():
        assert outcome["result"] == "skipped", outcome["message"]
        assert "the SSO portal refused session corp" in outcome["message"]
        assert "a sign-in is needed" in outcome["message"]
    assert sso_service.calls["GetRoleCredentials"] == 3  # each group asked once, no retry
    assert home.docker_config_path.read_bytes() == before
    assert token_document(home, "corp")["accessToken"] == SSO_ACCESS_TOKEN  # not touched
    hits = secret_hits({"stdout": child.stdout, "stderr": child.stderr},
                       scannable(sso_service.issued_secrets, [SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN]))
    assert hits == []
