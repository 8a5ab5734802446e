"""Faults during `ecr-token-tray login` (issue 3 section 4, issue 7 section 3).

Every fault gives its documented line naming registry and profile, a failing registry does
not block the others, no half-written file is left, and a failed refresh leaves the previous
login in place. Faults come from the stand-ins' switches or from the real environment
(closed port, missing tools, a credential store that does not exist).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests import figures
from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, docker_auth, host, in_
from tests.stand_ins.ecr_endpoint import unreachable_url
from tests.stand_ins.registry import EcrLab

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

EU = host("111111111111", "eu-central-1")
US = host("333333333333", "us-west-2")


@pytest.fixture(autouse=True)
def count_fault_case():
    figures.add("login fault cases tried")


def passed() -> None:
    """Called as a fault test's last line: the case held every promise."""
    figures.add("login fault cases passed")


def expired_logins(home, *hosts: str) -> bytes:
    home.docker_config({h: {"auth": docker_auth(-60)} for h in hosts})
    return home.docker_config_path.read_bytes()


def entry(home, registry_host: str) -> dict:
    return json.loads(home.docker_config_path.read_text())["auths"].get(registry_host, {})


def line_for(output: str, registry_host_label: str) -> str:
    lines = [line for line in output.splitlines() if registry_host_label in line]
    assert lines, output
    return lines[0]


def assert_no_temp_files(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == []


def assert_untouched(home, before: bytes) -> None:
    assert home.docker_config_path.read_bytes() == before
    assert stat.S_IMODE(home.docker_config_path.stat().st_mode) == 0o600
    assert_no_temp_files(home.docker_config_path.parent)


def test_network_unreachable(home, ecr_lab):
    before = expired_logins(home, US)
    result = home.run_cli("login", "--all", "--profile", "dev",
                          AWS_ENDPOINT_URL_ECR=unreachable_url())
    assert result.returncode == 1
    line = line_for(result.stdout, "333333333333 us-west-2")
    assert line.startswith("failed")
    assert ("cannot reach ecr in us-west-2 for profile dev: network unreachable (3 attempts)"
            in line)
    assert "check your network" in line
    assert_untouched(home, before)
    passed()


def test_timeout(home, ecr_lab):
    before = expired_logins(home, US)
    ecr_lab.endpoint.faults.slow = 2.0
    result = home.run_cli("login", "--all", "--profile", "dev", ECR_TOKEN_TRAY_AWS_TIMEOUT="0.5")
    assert result.returncode == 1
    assert "ecr in us-west-2 did not answer in time for profile dev" in result.stdout
    assert_untouched(home, before)
    passed()


def test_throttling_gives_up_after_bounded_retries(home, ecr_lab):
    before = expired_logins(home, US)
    ecr_lab.endpoint.faults.throttle = True
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 1
    assert ("AWS throttled ecr:GetAuthorizationToken for profile dev in us-west-2 (3 attempts)"
            " - wait a minute and try again") in result.stdout
    assert ecr_lab.endpoint.token_calls() == 3  # bounded: botocore standard mode, 3 attempts
    assert_untouched(home, before)
    passed()


def test_throttling_then_success_after_backoff(home, ecr_lab):
    expired_logins(home, US)
    ecr_lab.endpoint.faults.throttle_first = 2
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ecr_lab.endpoint.token_calls() == 3
    assert ecr_lab.issuer.accepts("AWS", _password(entry(home, US)["auth"]), US)
    passed()


def test_access_denied_in_one_region_does_not_block_the_other(home, ecr_lab):
    expired_logins(home, EU, US)
    before_us = entry(home, US)
    ecr_lab.endpoint.faults.deny_regions = frozenset({"us-west-2"})
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 1
    us_line = line_for(result.stdout, "333333333333 us-west-2")
    assert us_line.startswith("failed")
    assert "profile dev may not call ecr:GetAuthorizationToken in us-west-2" in us_line
    assert line_for(result.stdout, "111111111111 eu-central-1").startswith("refreshed")
    assert entry(home, US) == before_us  # the previous login stays
    assert ecr_lab.issuer.accepts("AWS", _password(entry(home, EU)["auth"]), EU)
    assert "1 of 2 registries hold a working login." in result.stdout
    assert_no_temp_files(home.docker_config_path.parent)
    passed()


def test_server_error(home, ecr_lab):
    before = expired_logins(home, US)
    ecr_lab.endpoint.faults.server_error = True
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 1
    assert ("ecr:GetAuthorizationToken failed for profile dev in us-west-2: ServerException"
            " (HTTP 500)") in result.stdout
    assert ecr_lab.endpoint.token_calls() == 3
    assert_untouched(home, before)
    passed()


def test_no_credentials(home, ecr_lab):
    before = expired_logins(home, US)
    (home.root / ".aws" / "credentials").unlink()
    result = home.run_cli("login", "--all")
    assert result.returncode == 1
    assert ("no AWS credentials for the default profile - run `aws configure sso`"
            in result.stdout)
    assert_untouched(home, before)
    passed()


def test_unknown_profile(home, ecr_lab):
    before = expired_logins(home, US)
    result = home.run_cli("login", "--all", "--profile", "nosuch")
    assert result.returncode == 1
    assert "profile nosuch" in line_for(result.stdout, "333333333333 us-west-2")
    assert_untouched(home, before)
    passed()


def test_docker_login_failing(home, ecr_lab):
    """A credential store that does not exist: the real docker login would fail, so `login`
    says so first (tray_app.stores), naming the helper and the fix, without a token call."""
    home.docker_config({US: {}}, credsStore="nosuchstore")
    before = home.docker_config_path.read_bytes()
    result = home.run_cli("login", US, "--profile", "dev")
    assert result.returncode == 1
    line = line_for(result.stdout, "333333333333 us-west-2")
    assert "names docker-credential-nosuchstore, which is not on PATH" in line
    assert "fix: `ecr-token-tray credhelper enable" in line
    assert "profile dev" in line
    assert ecr_lab.endpoint.token_calls() == 0
    assert_untouched(home, before)
    passed()


def test_registry_refuses_the_fresh_token(home, ecr_lab):
    before = expired_logins(home, US)
    ecr_lab.registry.refuse_all = True
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 1
    line = line_for(result.stdout, "333333333333 us-west-2")
    assert "the registry refused the fresh token" in line and "profile dev" in line
    assert_untouched(home, before)
    passed()


def test_registry_refuses_an_ecr_login_managed_check(home, ecr_lab):
    home.docker_config({}, credHelpers={US: "ecr-login"})
    ecr_lab.registry.refuse_all = True
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 1
    assert "the registry refused the fresh token (HTTP 401)" in result.stdout
    passed()


def _path_without(tmp_path: Path, *tools: str) -> str:
    """A PATH holding python3 plus every tool of the real PATH except ``tools``."""
    bin_dir = tmp_path / "bin-without"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bin_dir / name
            if name not in tools and not target.exists():
                target.symlink_to(Path(folder) / name)
    return str(bin_dir)


def test_docker_missing_with_a_credential_store(home, ecr_lab, tmp_path):
    home.docker_config({US: {}}, credsStore="pass")
    before = home.docker_config_path.read_bytes()
    result = home.run_cli("login", US, "--profile", "dev", PATH=_path_without(tmp_path, "docker"))
    assert result.returncode == 1
    line = line_for(result.stdout, "333333333333 us-west-2")
    assert "docker CLI not found" in line and "docker-credential-pass" in line
    assert_untouched(home, before)
    passed()


def test_podman_missing(home, ecr_lab, tmp_path):
    home.podman_auth({US: {"auth": docker_auth(-60)}})
    before = home.podman_auth_path.read_bytes()
    result = home.run_cli("login", "--all", "--profile", "dev",
                          PATH=_path_without(tmp_path, "podman"))
    assert result.returncode == 1
    assert "podman is not installed" in line_for(result.stdout, "333333333333 us-west-2")
    assert home.podman_auth_path.read_bytes() == before
    passed()


def test_direct_write_never_touches_a_file_it_cannot_parse(home, ecr_lab, tmp_path):
    home.docker_config_path.parent.mkdir(parents=True)
    home.docker_config_path.write_text('{"auths": {"' + US + '": {"auth": "x"}},')  # truncated
    home.docker_config_path.chmod(0o600)
    before = home.docker_config_path.read_bytes()
    result = home.run_cli("login", US, "--profile", "dev", PATH=_path_without(tmp_path, "docker"))
    assert result.returncode == 1
    line = line_for(result.stdout, "333333333333 us-west-2")
    assert "not valid JSON" in line and "not touched" in line
    assert_untouched(home, before)
    passed()


def _sso_home(home, fake_aws, sso_service) -> None:
    """SSO profiles (tests.builders), no static keys for them, every stand-in in the env."""
    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.env.update(sso_service.env())
    home.env["PATH"] = fake_aws.path_with_fake_first()


def test_sso_portal_answers_401(home, ecr_lab, sso_service, fake_aws):
    _sso_home(home, fake_aws, sso_service)
    home.sso_token("corp", SSO_START_URL, in_(240))
    dev_host = host("222222222222", "eu-central-1")
    before = expired_logins(home, dev_host)
    sso_service.switches.portal_unauthorized = True
    result = home.run_cli("login", "--all")
    assert result.returncode == 1
    line = line_for(result.stdout, "222222222222 eu-central-1")
    assert line.startswith("failed")
    assert "the SSO portal refused the session of profile dev" in line
    # renewed once (silently: the cache holds a refresh token), asked once more, then gave up
    assert sso_service.calls["CreateToken:refresh_token"] == 1
    assert fake_aws.sso_logins == []
    assert_untouched(home, before)
    passed()


def test_sso_login_cancelled(home, ecr_lab, sso_service, fake_aws):
    _sso_home(home, fake_aws, sso_service)
    EcrLab.credentials_file(home.root, ("default",))
    home.sso_token("corp", SSO_START_URL, in_(-30), refresh=False)
    dev_host, other = host("222222222222", "eu-central-1"), host("555555555555", "us-west-2")
    home.app_config(f'[registries."{other}"]\nprofile = "default"\n')
    expired_logins(home, dev_host, other)
    before_dev = entry(home, dev_host)
    fake_aws.set_mode("cancel")
    result = home.run_cli("login", "--all")
    assert result.returncode == 1
    line = line_for(result.stdout, "222222222222 eu-central-1")
    assert line.startswith("failed") and "cancelled" in line and "profile dev" in line
    assert line_for(result.stdout, "555555555555 us-west-2").startswith("refreshed")
    assert entry(home, dev_host) == before_dev
    assert len(fake_aws.sso_logins) == 1
    passed()


def _password(auth: str) -> str:
    from tray_app.tokens import decode_docker_auth

    return decode_docker_auth(auth).password
