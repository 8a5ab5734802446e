"""Helm's registry config (``helm registry login``'s file) as a source and a target, with
real parts: the local ECR API and the TLS registry stand-in (reached under the real ECR
host names), the real docker CLI for Docker's side of the same token group, and a
recording credential-helper stand-in for a Helm ``credsStore``. No helm binary here
(neither Debian nor PyPI ships one): the file is written in the layout Helm 3 writes.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess

import pytest

from tests.builders import docker_auth, host
from tests.integration.test_login_docker import registry_answer
from tests.integration.test_logout import helper_calls, recording_helper, user_files
from tray_app.tokens import decode_docker_auth

DEV = host("222222222222", "eu-central-1")
DEV_OTHER_ACCOUNT = host("111111111111", "eu-central-1")
PUBLIC = "public.ecr.aws"
# Entries Helm users have besides ECR: kept exactly, as JSON values.
OTHER = {"auth": "dXNlcjpwYXNz", "identitytoken": None, "odd": [1, 2.5, {"deep": True}]}

needs_docker = pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")


def helm_document(home) -> dict:
    return json.loads(home.helm_config_path.read_text())


def password_of(auth: str) -> str:
    return decode_docker_auth(auth).password


@needs_docker
def test_one_token_renews_docker_and_helm_and_keeps_helms_other_entries(home, ecr_lab):
    home.docker_config({DEV: {"auth": docker_auth(-30)}})
    home.helm_config({DEV: {"auth": docker_auth(15)}, "ghcr.io": OTHER,
                      DEV_OTHER_ACCOUNT: {"auth": docker_auth(600)}},
                     credHelpers={}, experimental={"kept": [None, "x"]})
    home.helm_config_path.chmod(0o640)
    before = helm_document(home)
    rows = {(r["host"], r["source"]): r for r in home.status_json()["registries"]}
    assert rows[(DEV, "helm")]["state"] == "critical"
    assert rows[(DEV, "docker-config")]["state"] == "expired"

    result = home.run_cli("login", DEV, "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    assert ecr_lab.endpoint.token_calls() == 1  # one GetAuthorizationToken for both tools
    helm_auth = helm_document(home)["auths"][DEV]["auth"]
    docker_auth_now = json.loads(home.docker_config_path.read_text())["auths"][DEV]["auth"]
    assert password_of(helm_auth) == password_of(docker_auth_now)
    assert decode_docker_auth(helm_auth).username == "AWS"
    assert registry_answer(ecr_lab, DEV, helm_auth) == 200
    assert f"verified (written to Helm's {home.helm_config_path})" in result.stdout
    log = (home.state_dir / "log" / "ecr-token-tray.log").read_text()
    for secret in (password_of(helm_auth), helm_auth):  # never in output or the log
        assert secret not in result.stdout + result.stderr and secret not in log
    after = helm_document(home)
    assert {k: v for k, v in after.items() if k != "auths"} == {
        k: v for k, v in before.items() if k != "auths"}
    assert {k: v for k, v in after["auths"].items() if k != DEV} == {
        k: v for k, v in before["auths"].items() if k != DEV}
    assert stat.S_IMODE(home.helm_config_path.stat().st_mode) == 0o640
    assert sorted(p.name for p in home.helm_config_path.parent.iterdir()) == ["config.json"]
    rows = {(r["host"], r["source"]): r for r in home.status_json()["registries"]}
    assert rows[(DEV, "helm")]["state"] == "ok"
    assert rows[(DEV, "helm")]["expires_at"] == rows[(DEV, "docker-config")]["expires_at"]


def test_helm_registry_config_and_its_credential_store(home, ecr_lab, tmp_path):
    """HELM_REGISTRY_CONFIG names the file; its credsStore holds the login: read through
    the helper, renewed through `store`, the file itself untouched."""
    folder = recording_helper(home)
    custom = tmp_path / "helm-elsewhere" / "registry.json"
    custom.parent.mkdir()
    custom.write_text(json.dumps({"auths": {}, "credsStore": "rec"}, indent="\t"))
    subprocess.run([folder / "docker-credential-rec", "store"], check=True, timeout=30,
                   input=json.dumps({"ServerURL": DEV, "Username": "AWS",
                                     "Secret": password_of(docker_auth(-10))}), text=True)
    env = {"HELM_REGISTRY_CONFIG": str(custom), "PATH": home.path_with_bin}
    before = custom.read_bytes()
    (row,) = home.status_json(**env)["registries"]
    assert (row["host"], row["source"], row["state"]) == (DEV, "helm", "expired")

    result = home.run_cli("login", "--all", "--profile", "dev", **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "docker-credential-rec" in result.stdout and "verified" in result.stdout
    user, secret = json.loads((folder / "rec-store.json").read_text())[DEV]
    assert user == "AWS"
    assert registry_answer(ecr_lab, DEV, _basic(user, secret)) == 200
    assert custom.read_bytes() == before  # the store holds it; Helm's file stays as it was
    assert not home.helm_config_path.exists()  # the default place was not used
    assert any(call.startswith("store") for call in helper_calls(home))
    (row,) = home.status_json(**env)["registries"]
    assert row["state"] == "ok"


def test_a_broken_helm_file_is_one_line_and_docker_rows_still_show(home):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    home.helm_config_path.parent.mkdir(parents=True)
    home.helm_config_path.write_text('{"auths": {"' + DEV + '": ')
    before = user_files(home)

    result = home.run_cli("status")

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert str(home.helm_config_path) in line and "not valid JSON" in line
    assert "Helm's registry config" in line and "Traceback" not in result.stderr
    assert DEV.split(".")[0] in result.stdout and "docker-config" in result.stdout
    assert user_files(home) == before  # nothing written but the app's own state


def test_logout_edits_helms_file_and_keeps_every_other_entry(home):
    home.docker_config({DEV: {"auth": docker_auth(200)}})
    home.helm_config({PUBLIC: {"auth": docker_auth(-30)}, f"https://{PUBLIC}": {"auth": "eDp5"},
                      "ghcr.io": OTHER, DEV: {"auth": docker_auth(200)}},
                     extra={"kept": [1, None]})
    home.helm_config_path.chmod(0o644)
    before = helm_document(home)
    docker_before = home.docker_config_path.read_bytes()

    result = home.run_cli("logout", PUBLIC)

    assert result.returncode == 0, result.stderr
    assert f"logged out of helm ({home.helm_config_path})" in result.stdout
    after = helm_document(home)
    assert set(after["auths"]) == {"ghcr.io", DEV}
    assert after["auths"]["ghcr.io"] == OTHER and after["auths"][DEV] == before["auths"][DEV]
    assert after["extra"] == {"kept": [1, None]}
    assert stat.S_IMODE(home.helm_config_path.stat().st_mode) == 0o644
    assert home.docker_config_path.read_bytes() == docker_before


def test_logout_erases_a_helm_login_through_its_credential_store(home):
    folder = recording_helper(home)
    home.helm_config({}, credsStore="rec")
    subprocess.run([folder / "docker-credential-rec", "store"], check=True, timeout=30,
                   input=json.dumps({"ServerURL": PUBLIC, "Username": "AWS",
                                     "Secret": password_of(docker_auth(-30))}), text=True)
    before = home.helm_config_path.read_bytes()

    result = home.run_cli("logout", "--expired-public", PATH=home.path_with_bin)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "docker-credential-rec" in result.stdout
    assert f"erase {PUBLIC}" in helper_calls(home)
    assert PUBLIC not in json.loads((folder / "rec-store.json").read_text())
    assert home.helm_config_path.read_bytes() == before  # no key to remove: left as it was


def _basic(user: str, secret: str) -> str:
    from tray_app.tokens import make_authorization_token

    return make_authorization_token(secret, user)


def test_the_tray_shows_alerts_and_renews_a_helm_row(home, ecr_lab):
    """The real tray loop, menu model and actions (pystray's dummy backend, as in
    tests/unit/test_menu.py): a Helm login ending in 20 minutes is a row and an alert; a
    click renews it into Helm's file, verified against the registry stand-in."""
    from tests.unit.test_menu import Tray

    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV: {"auth": docker_auth(300.5)}})
    home.helm_config({DEV: {"auth": docker_auth(20.5)}, "ghcr.io": OTHER})
    tray = Tray()
    texts = tray.texts()
    assert "222222222222 eu-central-1 (helm) - 20m left" in texts
    assert "222222222222 eu-central-1 - 5h 00m left" in texts
    (alert,) = tray.notifier.sent
    assert alert[0] == "ECR login 222222222222 eu-central-1 (Helm) ends in 20 min"

    tray.click("222222222222 eu-central-1 (helm) - 20m left")
    tray.loop.join_worker(timeout=120)

    auths = helm_document(home)["auths"]
    assert registry_answer(ecr_lab, DEV, auths[DEV]["auth"]) == 200
    assert auths["ghcr.io"] == OTHER
    assert ecr_lab.endpoint.token_calls() == 1
    tray.loop.step()
    rows = {r.identity: r for r in tray.loop.view().snapshot.registries}
    assert rows[(DEV, "helm")].state.value == "ok"
    assert rows[(DEV, "helm")].seconds_left > 11 * 3600  # the stand-in's 12 h token


def test_ensure_renews_a_short_helm_login_before_the_job(home, ecr_lab):
    """`ensure --min 2h -- helm upgrade ...`: the Helm login with 30 minutes left is renewed
    (one token call), then COMMAND runs and its exit status is returned; a second run with
    time enough makes no AWS call."""
    home.helm_config({DEV: {"auth": docker_auth(30)}, "ghcr.io": OTHER})
    job = ["bash", "-c", 'echo "job ran with $#"; exit 3', "job", "upgrade", "web"]

    result = home.run_cli("ensure", "--min", "2h", "--profile", "dev", "--", *job)

    assert result.returncode == 3, result.stderr
    assert result.stdout == "job ran with 2\n"
    assert ecr_lab.endpoint.token_calls() == 1
    assert "(helm, profile dev): refreshed" in result.stderr
    auth = helm_document(home)["auths"][DEV]["auth"]
    assert registry_answer(ecr_lab, DEV, auth) == 200
    again = home.run_cli("ensure", "--min", "2h", "--profile", "dev", "--", *job)
    assert again.returncode == 3 and ecr_lab.endpoint.token_calls() == 1


def test_docker_and_helm_sharing_one_credential_store_log_out_together(home):
    """On macOS both tools often name the same keychain store: one login, erased once,
    Docker's placeholder key removed, both tools reported."""
    folder = recording_helper(home)
    home.docker_config({PUBLIC: {}}, credsStore="rec")
    home.helm_config({}, credsStore="rec")
    subprocess.run([folder / "docker-credential-rec", "store"], check=True, timeout=30,
                   input=json.dumps({"ServerURL": PUBLIC, "Username": "AWS",
                                     "Secret": password_of(docker_auth(-30))}), text=True)
    rows = {(r["host"], r["source"]) for r in
            home.status_json(PATH=home.path_with_bin)["registries"]}
    assert rows == {(PUBLIC, "docker-credential-rec"), (PUBLIC, "helm")}

    result = home.run_cli("logout", PUBLIC, PATH=home.path_with_bin)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "logged out of docker" in result.stdout and "logged out of helm" in result.stdout
    assert [c for c in helper_calls(home) if c.startswith("erase")] == [f"erase {PUBLIC}"]
    assert json.loads((folder / "rec-store.json").read_text()) == {}
    assert json.loads(home.docker_config_path.read_text())["auths"] == {}
