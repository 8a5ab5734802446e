"""Helm's file as Helm's own code writes and reads it (tests/helm_sdk.py: the Go library of
PyPI's helm-sdkpy, Helm's pkg/registry + ORAS, no helm binary). Real parts: that library,
the real docker CLI, the local ECR API and the TLS registry stand-in reached through the
CONNECT proxy under the real ECR host name (Helm's login checks the credentials with the
registry, as `helm registry login` does)."""

from __future__ import annotations

import json
import shutil
import stat

import pytest

from tests import helm_sdk
from tests.builders import docker_auth, host
from tests.integration import test_credential_pass
from tests.integration.test_login_docker import registry_answer
from tray_app.tokens import decode_docker_auth

pytestmark = [
    pytest.mark.skipif(not helm_sdk.available(),
                       reason=f"needs Helm's library at {helm_sdk.HELM_SDK_LIBRARY}"
                              " (.ci/setup.sh unpacks it)"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

DEV = host("222222222222", "eu-central-1")
pass_store = test_credential_pass.pass_store  # the real pass + gpg fixture, shared


def helm_env(home) -> dict[str, str]:
    """The user's environment for Helm, with no docker-credential-pass on PATH: Helm (ORAS's
    DetectDefaultNativeStore) would otherwise keep the login in `pass`, not in the file."""
    (home.root / "empty-bin").mkdir(exist_ok=True)
    return home.full_env(PATH=str(home.root / "empty-bin"))


def rows(home) -> dict:
    return {(r["host"], r["source"]): r for r in home.status_json()["registries"]}


def test_helm_writes_a_login_we_show_renew_and_helm_then_reads(home, ecr_lab):
    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    home.docker_config({DEV: {"auth": docker_auth(-30)}})
    first = home.run_cli("login", DEV, "--profile", "dev")
    assert first.returncode == 0, first.stdout + first.stderr
    token = decode_docker_auth(json.loads(home.docker_config_path.read_text())
                               ["auths"][DEV]["auth"]).password

    helm = helm_sdk.registry("login", DEV, helm_env(home), password=token)

    assert helm.returncode == 0, helm.stderr  # Helm checked it with the registry stand-in
    written = json.loads(home.helm_config_path.read_text())  # where Helm put it on Linux
    assert decode_docker_auth(written["auths"][DEV]["auth"]).password == token
    found = rows(home)
    assert found[(DEV, "helm")]["state"] == "ok"
    assert found[(DEV, "helm")]["expires_at"] == found[(DEV, "docker-config")]["expires_at"]

    # Helm's file as Helm left it, plus an unrelated login; the mode made stricter by hand
    written["auths"]["ghcr.io"] = {"auth": "dXNlcjpwYXNz"}
    home.helm_config_path.write_text(json.dumps(written, indent="\t"))
    home.helm_config_path.chmod(0o640)
    renewed = home.run_cli("login", "--all", "--profile", "dev")

    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert ecr_lab.endpoint.token_calls() == 2  # the first login, then one for both rows
    after = json.loads(home.helm_config_path.read_text())
    new_auth = after["auths"][DEV]["auth"]
    assert decode_docker_auth(new_auth).password != token
    assert registry_answer(ecr_lab, DEV, new_auth) == 200
    assert after["auths"]["ghcr.io"] == {"auth": "dXNlcjpwYXNz"}
    assert stat.S_IMODE(home.helm_config_path.stat().st_mode) == 0o640

    # Helm reads the file we wrote: its logout finds and removes our entry, keeps the rest
    out = helm_sdk.registry("logout", DEV, helm_env(home))
    assert out.returncode == 0, out.stderr
    assert set(json.loads(home.helm_config_path.read_text())["auths"]) == {"ghcr.io"}
    assert (DEV, "helm") not in rows(home)


def test_with_pass_installed_helm_keeps_the_login_in_pass_and_we_renew_it_there(
        home, ecr_lab, pass_store):
    """On Linux with docker-credential-pass on PATH, Helm 4 (ORAS's default native store)
    writes `"credsStore": "pass"` into its file and the login into `pass`. Real parts as
    above plus the real docker-credential-pass, pass and gpg (test_credential_pass.py)."""
    from tray_app.tokens import make_authorization_token

    stores = {"GNUPGHOME": pass_store["GNUPGHOME"],
              "PASSWORD_STORE_DIR": pass_store["PASSWORD_STORE_DIR"]}
    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    home.docker_config({DEV: {"auth": docker_auth(-30)}})
    assert home.run_cli("login", DEV, "--profile", "dev").returncode == 0
    token = decode_docker_auth(json.loads(home.docker_config_path.read_text())
                               ["auths"][DEV]["auth"]).password

    helm = helm_sdk.registry("login", DEV, home.full_env(**stores), password=token)

    assert helm.returncode == 0, helm.stderr
    written = json.loads(home.helm_config_path.read_text())
    assert written.get("credsStore") == "pass" and DEV not in written.get("auths", {})
    found = {(r["host"], r["source"]): r
             for r in home.status_json(**stores)["registries"]}
    assert found[(DEV, "helm")]["state"] == "ok"

    renewed = home.run_cli("login", "--all", "--profile", "dev", **stores)

    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert ecr_lab.endpoint.token_calls() == 2
    held = json.loads(pass_store["run"]("docker-credential-pass", "get", input=DEV).stdout)
    assert held["Secret"] != token
    assert registry_answer(ecr_lab, DEV, make_authorization_token(held["Secret"],
                                                                  held["Username"])) == 200
    assert json.loads(home.helm_config_path.read_text()) == written  # the store holds it

    out = helm_sdk.registry("logout", DEV, home.full_env(**stores))
    assert out.returncode == 0, out.stderr
    assert (DEV, "helm") not in {(r["host"], r["source"])
                                 for r in home.status_json(**stores)["registries"]}
