"""`ecr-token-tray login` end to end: the real Docker CLI (and Podman, docker-credential-pass)
against the local ECR API and a TLS registry reached under the real ECR host names."""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.builders import docker_auth, host
from tray_app.tokens import decode_docker_auth

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

DEV_HOSTS = [host("111111111111", "eu-central-1"), host("222222222222", "eu-central-1"),
             host("333333333333", "us-west-2")]


def registry_answer(lab, registry_host: str, auth: str) -> int:
    """GET https://HOST/v2/ through the lab's proxy with the stored credential (test's own
    client, independent of the app's verify step)."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": lab.proxy.url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(
            cafile=str(lab.ca.ca_cert))))
    request = urllib.request.Request(f"https://{registry_host}/v2/",
                                     headers={"Authorization": f"Basic {auth}"})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def stored_auths(home) -> dict[str, str]:
    document = json.loads(home.docker_config_path.read_text())
    return {key: entry["auth"] for key, entry in document["auths"].items() if "auth" in entry}


def test_login_all_replaces_expired_docker_logins_with_working_ones(home, ecr_lab):
    home.docker_config({h: {"auth": docker_auth(-120)} for h in DEV_HOSTS}
                       | {"registry.example.com": {"auth": "dXNlcjpwYXNz"}},
                       psFormat="table {{.ID}}")
    home.docker_config_path.chmod(0o600)
    before = home.status_json()
    assert {r["state"] for r in before["registries"]} == {"expired"}

    result = home.run_cli("login", "--all", "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("refreshed")]
    assert len(lines) == 3 and all("verified" in line for line in lines)
    auths = stored_auths(home)
    for registry_host in DEV_HOSTS:
        assert registry_answer(ecr_lab, registry_host, auths[registry_host]) == 200
        assert decode_docker_auth(auths[registry_host]).username == "AWS"
    assert auths["registry.example.com"] == "dXNlcjpwYXNz"  # docker kept the other login
    document = json.loads(home.docker_config_path.read_text())
    assert document["psFormat"] == "table {{.ID}}"
    after = {r["host"]: r for r in home.status_json()["registries"]}
    for registry_host in DEV_HOSTS:
        assert after[registry_host]["state"] == "ok"
        assert 11 * 3600 < after[registry_host]["seconds_left"] <= 12 * 3600
    # docker reached the registry under the real names, through the proxy
    assert set(DEV_HOSTS) <= set(ecr_lab.proxy.tunnels)
    # one token per region for the profile: eu-central-1 and us-west-2
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1, "us-west-2": 1}


def test_login_records_api_expiry_for_tokens_that_carry_none(home, ecr_lab):
    """status falls back to the expiry the app recorded (logins.json) from the API."""
    registry_host = DEV_HOSTS[0]
    home.docker_config({registry_host: {"auth": docker_auth(-5)}})
    result = home.run_cli("login", registry_host, "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = json.loads((home.state_dir / "logins.json").read_text())
    entry = recorded["registries"][registry_host]
    assert entry["profile"] == "dev" and entry["expires_at"].endswith("Z")
    assert stat.S_IMODE((home.state_dir / "logins.json").stat().st_mode) == 0o600


def test_login_host_in_url_form_and_new_host(home, ecr_lab):
    home.docker_config({DEV_HOSTS[0]: {"auth": docker_auth(-5)}})
    new_host = host("444444444444", "ap-south-1")
    result = home.run_cli("login", f"https://{DEV_HOSTS[0]}/", new_host, "--profile", "ops")
    assert result.returncode == 0, result.stdout + result.stderr
    auths = stored_auths(home)
    assert registry_answer(ecr_lab, new_host, auths[new_host]) == 200
    assert registry_answer(ecr_lab, DEV_HOSTS[0], auths[DEV_HOSTS[0]]) == 200


def test_login_rejects_a_host_that_is_not_ecr(home, ecr_lab):
    home.docker_config({DEV_HOSTS[0]: {"auth": docker_auth(-5)}})
    result = home.run_cli("login", "registry.example.com", DEV_HOSTS[0], "--profile", "dev")
    assert result.returncode == 1
    assert "registry.example.com: not an Amazon ECR registry host" in result.stdout
    assert registry_answer(ecr_lab, DEV_HOSTS[0], stored_auths(home)[DEV_HOSTS[0]]) == 200


def test_login_expiring_only_touches_logins_that_need_it(home, ecr_lab):
    fresh, stale = DEV_HOSTS[0], DEV_HOSTS[2]
    fresh_auth = docker_auth(600)
    home.docker_config({fresh: {"auth": fresh_auth}, stale: {"auth": docker_auth(10)}})
    result = home.run_cli("login", "--expiring", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    auths = stored_auths(home)
    assert auths[fresh] == fresh_auth
    assert registry_answer(ecr_lab, stale, auths[stale]) == 200
    assert ecr_lab.endpoint.calls_by_region() == {"us-west-2": 1}


def test_public_ecr_uses_ecr_public_in_us_east_1(home, ecr_lab):
    home.docker_config({"public.ecr.aws": {"auth": docker_auth(-30)}})
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ecr_lab.endpoint.calls_by_region("ecr-public") == {"us-east-1": 1}
    assert ecr_lab.endpoint.token_calls("ecr") == 0
    assert registry_answer(ecr_lab, "public.ecr.aws", stored_auths(home)["public.ecr.aws"]) == 200


def test_profile_from_config_toml_and_calls_per_profile(home, ecr_lab):
    """N registries over R regions: exactly R token calls per profile."""
    regions = ["eu-central-1", "us-west-2", "ap-south-1"]
    dev = [host(f"{n:012d}", region) for n in (11, 12) for region in regions]
    ops = [host(f"{n:012d}", region) for n in (21, 22) for region in regions]
    home.docker_config({h: {"auth": docker_auth(-60)} for h in dev + ops})
    home.app_config("".join(f'[registries."{h}"]\nprofile = "{"dev" if h in dev else "ops"}"\n'
                            for h in dev + ops))
    result = home.run_cli("login", "--all")
    assert result.returncode == 0, result.stdout + result.stderr
    calls = ecr_lab.endpoint.calls
    for profile in ("dev", "ops"):
        from tests.stand_ins.registry import PROFILE_KEYS

        key = PROFILE_KEYS[profile][0]
        per_region = {region: calls[("ecr", region, key)] for region in regions}
        assert per_region == dict.fromkeys(regions, 1), per_region
    assert ecr_lab.endpoint.token_calls() == 2 * len(regions)
    auths = stored_auths(home)
    assert all(registry_answer(ecr_lab, h, auths[h]) == 200 for h in dev + ops)


@pytest.fixture
def pass_store(home, tmp_path):
    """docker-credential-pass on a throwaway gpg key in a temporary GNUPGHOME/password store."""
    if not (shutil.which("docker-credential-pass") and shutil.which("pass")
            and shutil.which("gpg")):
        pytest.skip("needs pass, gpg and docker-credential-pass")
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    store = tmp_path / "password-store"
    env = home.full_env(GNUPGHOME=str(gnupg), PASSWORD_STORE_DIR=str(store))
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                    "--quick-gen-key", "ecr-token-tray test <test@example.invalid>",
                    "default", "default", "never"],
                   env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(["pass", "init", "test@example.invalid"], env=env, check=True,
                   capture_output=True, timeout=60)
    home.env.update(GNUPGHOME=str(gnupg), PASSWORD_STORE_DIR=str(store))
    yield env
    subprocess.run(["gpgconf", "--kill", "all"], env=env, capture_output=True, timeout=30)


def helper_get(env: dict, registry_host: str) -> dict:
    result = subprocess.run(["docker-credential-pass", "get"], input=registry_host, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_creds_store_pass_gets_the_fresh_login(home, ecr_lab, pass_store):
    registry_host = DEV_HOSTS[2]
    stale = base64.b64decode(docker_auth(-60)).decode().partition(":")[2]
    subprocess.run(["docker-credential-pass", "store"], env=pass_store, check=True,
                   input=json.dumps({"ServerURL": registry_host, "Username": "AWS",
                                     "Secret": stale}),
                   capture_output=True, text=True, timeout=30)
    home.docker_config({}, credsStore="pass")
    assert home.status_json()["registries"][0]["state"] == "expired"

    result = home.run_cli("login", "--all", "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    stored = helper_get(pass_store, registry_host)
    assert stored["Secret"] != stale
    auth = base64.b64encode(f"AWS:{stored['Secret']}".encode()).decode()
    assert registry_answer(ecr_lab, registry_host, auth) == 200
    document = json.loads(home.docker_config_path.read_text())
    assert document["credsStore"] == "pass"
    assert "auth" not in document["auths"].get(registry_host, {})  # the secret is in pass
    row = home.status_json()["registries"][0]
    assert row["source"] == "docker-credential-pass" and row["state"] == "ok"


def test_podman_login_goes_to_its_auth_file(home, ecr_lab):
    if shutil.which("podman") is None:
        pytest.skip("needs podman")
    registry_host = DEV_HOSTS[1]
    home.podman_auth({registry_host: {"auth": docker_auth(-30)}})
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    auth = json.loads(home.podman_auth_path.read_text())["auths"][registry_host]["auth"]
    assert registry_answer(ecr_lab, registry_host, auth) == 200
    assert not home.docker_config_path.exists()  # podman's login stayed podman's
    row = home.status_json()["registries"][0]
    assert row["source"] == "podman" and row["state"] == "ok"


def test_ecr_login_rows_are_checked_not_stored(home, ecr_lab):
    registry_host = DEV_HOSTS[0]
    home.docker_config({}, credHelpers={registry_host: "ecr-login"})
    before = home.docker_config_path.read_bytes()
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "credentials work, verified" in result.stdout
    assert home.docker_config_path.read_bytes() == before
    assert ecr_lab.endpoint.token_calls() == 1


def test_direct_write_without_docker_keeps_keys_and_mode(home, ecr_lab, tmp_path):
    """No docker CLI on PATH and no credential store: config.json is written directly."""
    bin_dir = tmp_path / "bin-without-docker"
    bin_dir.mkdir()
    python = Path(os.path.realpath(shutil.which("python3") or "/usr/bin/python3"))
    (bin_dir / "python3").symlink_to(python)
    registry_host = DEV_HOSTS[0]
    home.docker_config({registry_host: {"auth": docker_auth(-30), "email": "kept@example.com"},
                        "registry.example.com": {"auth": "dXNlcjpwYXNz"}},
                       proxies={"default": {"noProxy": "x"}}, currentContext="default")
    home.docker_config_path.chmod(0o640)
    result = home.run_cli("login", "--all", "--profile", "dev", PATH=str(bin_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "written to" in result.stdout
    document = json.loads(home.docker_config_path.read_text())
    assert document["proxies"] == {"default": {"noProxy": "x"}}
    assert document["currentContext"] == "default"
    assert document["auths"]["registry.example.com"] == {"auth": "dXNlcjpwYXNz"}
    assert document["auths"][registry_host]["email"] == "kept@example.com"
    assert registry_answer(ecr_lab, registry_host, document["auths"][registry_host]["auth"]) == 200
    assert stat.S_IMODE(home.docker_config_path.stat().st_mode) == 0o640
    leftovers = [p.name for p in home.docker_config_path.parent.iterdir()
                 if p.name != "config.json"]
    assert leftovers == []


def test_everything_expired_one_browser_sign_in_per_sso_session(home, ecr_lab, sso_service,
                                                               fake_aws):
    """The issue's "done when": SSO sessions and logins all expired -> `login --all` signs
    in once per SSO session (stand-in `aws sso login`) and every registry works again."""
    from tests.builders import LEGACY_START_URL, SSO_PROFILES_CONFIG, SSO_START_URL, in_

    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()  # only SSO credentials from here on
    home.env.update(sso_service.env())
    home.env["PATH"] = fake_aws.path_with_fake_first()
    home.sso_token("corp", SSO_START_URL, in_(-90), refresh=False)
    home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(-90), refresh=False,
                   region="us-east-1")
    dev_hosts = [host("222222222222", "eu-central-1"), host("222222222222", "us-east-1")]
    ops_hosts = [host("333333333333", "us-west-2")]
    home.docker_config({h: {"auth": docker_auth(-120)} for h in dev_hosts + ops_hosts})

    result = home.run_cli("login", "--all", "--no-browser")

    assert result.returncode == 0, result.stdout + result.stderr
    logins = fake_aws.sso_logins
    assert len(logins) == 2, logins  # once for the corp session, once for the legacy profile
    assert all("--no-browser" in argv for argv in logins)
    auths = stored_auths(home)
    for registry_host in dev_hosts + ops_hosts:
        assert registry_answer(ecr_lab, registry_host, auths[registry_host]) == 200
    rows = {r["host"]: r for r in home.status_json()["registries"]}
    assert {rows[h]["profile"] for h in dev_hosts} == {"dev"}
    assert rows[ops_hosts[0]]["profile"] == "ops"
    assert {r["state"] for r in rows.values()} == {"ok"}
    assert ecr_lab.endpoint.token_calls() == 3  # dev: 2 regions, ops: 1
