"""`ecr-token-tray logout` with real parts: the real docker CLI logs in (client-side, no
daemon) against the TLS registry stand-in, our logout removes the login (a plain entry; one
held by a recording credential-helper stand-in; one held by the real docker-credential-pass),
and the real docker CLI then reads the file we wrote and finds no login. Podman's auth.json
is edited safely and the real `podman logout` agrees. Bad input changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import helm_sdk  # at import: its cache path is the real HOME's
from tests.builders import docker_auth, host
from tests.integration.test_credential_pass import pass_store, store_files  # noqa: F401

DEV = host("222222222222", "eu-central-1")
PUBLIC = "public.ecr.aws"
OTHER = {"auth": "dXNlcjpwYXNz", "email": None, "odd": [1, 2.5, {"deep": True}]}

needs_docker = pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")


def docker(home, *argv: str, password: str | None = None, **env: str):
    return subprocess.run(["docker", *argv], input=password, env=home.full_env(**env),
                          capture_output=True, text=True, timeout=60)


def docker_login(home, ecr_lab, registry_host: str, **env: str) -> None:
    """The real `docker login`, as a user runs it (password on stdin)."""
    region, service = (("us-east-1", "ecr-public") if registry_host == PUBLIC
                       else ("eu-central-1", "ecr"))
    password, _ = ecr_lab.issuer.issue(region, service)
    result = docker(home, "login", "--username", "AWS", "--password-stdin", registry_host,
                    password=password, **env)
    assert result.returncode == 0, result.stderr


def docker_has_no_login(home, ecr_lab, registry_host: str, **env: str) -> bool:
    """The real docker CLI reads the file we wrote: it logs in to DEV once more, rewriting
    config.json from what it parsed, and ``registry_host`` is still not in it. (Docker 28's
    `docker logout` says "Removing login credentials" whether or not there was one.)"""
    docker_login(home, ecr_lab, DEV, **env)
    return registry_host not in config(home)["auths"]


def user_files(home) -> dict:
    """Every file under HOME but the app's own log and state (XDG_STATE_HOME)."""
    state = home.env["XDG_STATE_HOME"]
    return {path: found for path, found in home.files().items()
            if not (path.startswith(state) or state.startswith(path + "/"))}


def config(home) -> dict:
    return json.loads(home.docker_config_path.read_text())


# A credential store that records every call: what docker-credential-<name> would do,
# kept in a JSON file next to it.
RECORDING_HELPER = """\
import json, sys
from pathlib import Path
here = Path(__file__).resolve().parent
store_file, calls = here / "rec-store.json", here / "rec-calls.log"
store = json.loads(store_file.read_text()) if store_file.exists() else {}
action, data = sys.argv[1], sys.stdin.read()
with calls.open("a") as log:
    log.write(f"{action} {data.strip() if action in ('erase', 'get') else ''}\\n")
failing = here / "rec-fail-erase"
fail_on = failing.read_text().split() if failing.exists() else []
if action == "store":
    entry = json.loads(data)
    store[entry["ServerURL"]] = [entry["Username"], entry["Secret"]]
elif action == "list":
    print(json.dumps({url: user for url, (user, _) in store.items()}))
elif action == "get":
    if data.strip() not in store:
        print("credentials not found in native keychain"); sys.exit(1)
    user, secret = store[data.strip()]
    print(json.dumps({"ServerURL": data.strip(), "Username": user, "Secret": secret}))
elif action == "erase":
    if data.strip() in fail_on:
        print("the keychain is locked"); sys.exit(1)
    if store.pop(data.strip(), None) is None:
        print("credentials not found in native keychain"); sys.exit(1)
store_file.write_text(json.dumps(store))
"""


def recording_helper(home) -> Path:
    path = home.root / "bin" / "docker-credential-rec"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{RECORDING_HELPER}")
    path.chmod(0o755)
    return path.parent


def helper_calls(home) -> list[str]:
    log = home.root / "bin" / "rec-calls.log"
    return log.read_text().splitlines() if log.exists() else []


@needs_docker
def test_logout_removes_a_plain_login_docker_made(home, ecr_lab):
    home.docker_config({"registry.example.com": OTHER}, psFormat="table {{.ID}}")
    docker_login(home, ecr_lab, PUBLIC)
    docker_login(home, ecr_lab, DEV)
    home.docker_config_path.chmod(0o640)
    before = config(home)  # as docker left it (it drops fields it does not know)
    assert {PUBLIC, DEV} <= set(before["auths"])

    result = home.run_cli("logout", PUBLIC)

    assert result.returncode == 0, result.stderr
    assert f"{PUBLIC}: logged out of docker ({home.docker_config_path})" in result.stdout
    after = config(home)
    del before["auths"][PUBLIC]
    assert after == before  # every other key kept as it was
    assert after["auths"][DEV]["auth"] and after["psFormat"] == "table {{.ID}}"
    assert oct(home.docker_config_path.stat().st_mode & 0o777) == oct(0o640)
    # docker itself agrees
    assert docker_has_no_login(home, ecr_lab, PUBLIC)
    rows = {r["host"] for r in home.status_json()["registries"]}
    assert PUBLIC not in rows and DEV in rows


@needs_docker
def test_logout_erases_through_the_credential_store(home, ecr_lab):
    folder = recording_helper(home)
    path = f"{folder}{os.pathsep}{os.environ['PATH']}"
    home.docker_config({}, credsStore="rec", detachKeys="ctrl-x")
    docker_login(home, ecr_lab, PUBLIC, PATH=path)  # docker stores it through the helper
    docker_login(home, ecr_lab, DEV, PATH=path)
    assert any(line.startswith("store") for line in helper_calls(home))
    assert config(home)["auths"][PUBLIC] == {}  # docker's placeholder

    result = home.run_cli("logout", f"https://{PUBLIC}/", PATH=path)

    assert result.returncode == 0, result.stderr
    assert "and docker-credential-rec" in result.stdout
    assert f"erase {PUBLIC}" in helper_calls(home)  # the URL on stdin, as docker does
    store = json.loads((folder / "rec-store.json").read_text())
    assert PUBLIC not in store and DEV in store
    after = config(home)
    assert PUBLIC not in after["auths"] and DEV in after["auths"]
    assert after["detachKeys"] == "ctrl-x" and after["credsStore"] == "rec"
    assert docker_has_no_login(home, ecr_lab, PUBLIC, PATH=path)
    for secret in ecr_lab.secrets():
        assert secret not in result.stdout + result.stderr


@needs_docker
def test_a_store_that_fails_to_erase_changes_nothing(home, ecr_lab):
    """Two URLs for the host in the store; erasing the second fails: the first is stored
    back and config.json keeps its bytes (a transaction)."""
    folder = recording_helper(home)
    path = f"{folder}{os.pathsep}{os.environ['PATH']}"
    home.docker_config({}, credsStore="rec")
    docker_login(home, ecr_lab, PUBLIC, PATH=path)
    subprocess.run([folder / "docker-credential-rec", "store"], check=True, timeout=30,
                   input=json.dumps({"ServerURL": f"https://{PUBLIC}", "Username": "AWS",
                                     "Secret": "an older client's key form"}), text=True)
    (folder / "rec-fail-erase").write_text(f"https://{PUBLIC}")
    store_before = json.loads((folder / "rec-store.json").read_text())
    config_before = home.docker_config_path.read_bytes()
    assert {PUBLIC, f"https://{PUBLIC}"} <= set(store_before)

    result = home.run_cli("logout", PUBLIC, PATH=path)

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "docker-credential-rec erase: failed" in line and "nothing logged out" in line
    assert json.loads((folder / "rec-store.json").read_text()) == store_before
    assert home.docker_config_path.read_bytes() == config_before
    assert "Traceback" not in result.stderr


@needs_docker
def test_logout_erases_from_the_real_pass_store(home, ecr_lab, pass_store):  # noqa: F811
    env = {"GNUPGHOME": pass_store["GNUPGHOME"],
           "PASSWORD_STORE_DIR": pass_store["PASSWORD_STORE_DIR"]}
    home.docker_config({}, credHelpers={PUBLIC: "pass"})
    docker_login(home, ecr_lab, PUBLIC, **env)
    listed = json.loads(pass_store["run"]("docker-credential-pass", "list").stdout)
    assert PUBLIC in listed

    result = home.run_cli("logout", PUBLIC, **env)

    assert result.returncode == 0, result.stderr
    assert "docker-credential-pass" in result.stdout
    listed = json.loads(pass_store["run"]("docker-credential-pass", "list").stdout)
    assert PUBLIC not in listed
    assert config(home)["credHelpers"] == {PUBLIC: "pass"}  # the mapping stays, as docker's
    assert docker_has_no_login(home, ecr_lab, PUBLIC, **env)


def test_podman_files_lose_only_that_login(home):
    runtime = home.podman_auth({PUBLIC: {"auth": docker_auth(-30)},
                                f"{PUBLIC}/docker/library": {"auth": docker_auth(-30)},
                                DEV: {"auth": docker_auth(200)}, "quay.io": OTHER})
    runtime.chmod(0o644)
    document = json.loads(runtime.read_text())
    document["extra"] = {"kept": [1, None]}
    runtime.write_text(json.dumps(document))
    xdg = home.podman_auth({PUBLIC: {"auth": docker_auth(-30)}},
                           Path(home.env["XDG_CONFIG_HOME"]) / "containers" / "auth.json")

    result = home.run_cli("logout", PUBLIC)

    assert result.returncode == 0, result.stderr
    after = json.loads(runtime.read_text())
    assert set(after["auths"]) == {DEV, "quay.io"}
    assert after["auths"]["quay.io"] == OTHER and after["extra"] == {"kept": [1, None]}
    assert oct(runtime.stat().st_mode & 0o777) == oct(0o644)
    assert json.loads(xdg.read_text())["auths"] == {}
    if shutil.which("podman"):  # the real podman agrees
        said = subprocess.run(["podman", "logout", "--authfile", str(runtime), PUBLIC],
                              env=home.full_env(), capture_output=True, text=True, timeout=60)
        assert said.returncode != 0 and "not logged into" in said.stderr.lower(), said.stderr


def test_expired_public_logs_out_only_where_it_is_stale(home):
    home.docker_config({PUBLIC: {"auth": docker_auth(-90)}, DEV: {"auth": docker_auth(-90)}})
    runtime = home.podman_auth({PUBLIC: {"auth": docker_auth(600)}})  # still fine: kept

    result = home.run_cli("logout", "--expired-public")

    assert result.returncode == 0, result.stderr
    assert "anonymous pulls from public.ecr.aws work again" in result.stdout
    assert set(config(home)["auths"]) == {DEV}  # a private login is renewed, not logged out
    assert PUBLIC in json.loads(runtime.read_text())["auths"]
    again = home.run_cli("logout", "--expired-public")
    assert again.returncode == 0 and "nothing to do" in again.stdout


@pytest.mark.parametrize("damage", ["invalid", "directory", "auths-list", "huge", "fifo"])
def test_bad_files_are_named_and_nothing_is_written(home, damage):
    home.podman_auth({PUBLIC: {"auth": docker_auth(-30)}})
    path = home.docker_config_path
    if damage == "invalid":
        home.write_bytes(path, b'{"auths": {"public.ecr.aws": {')
    elif damage == "directory":
        path.mkdir(parents=True)
    elif damage == "huge":  # 11 MiB of valid JSON: no credential file is that large
        home.write_bytes(path, b'{"auths": {"public.ecr.aws": {}}, "pad": "'
                         + b"x" * (11 * 2**20) + b'"}')
    elif damage == "fifo":  # would block a plain open(); refused instead
        path.parent.mkdir(parents=True)
        os.mkfifo(path)
    else:
        home.write_json(path, {"auths": [PUBLIC]})
    before = user_files(home)

    result = home.run_cli("logout", PUBLIC)

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and "nothing logged out" in line
    assert user_files(home) == before


def test_a_host_logged_in_nowhere_is_one_line(home):
    home.docker_config({DEV: {"auth": docker_auth(100)}})
    before = user_files(home)
    result = home.run_cli("logout", PUBLIC, DEV)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"{PUBLIC}: not logged in" in line
    assert user_files(home) == before  # DEV too: one transaction
    bad = home.run_cli("logout", "docker.io")
    assert bad.returncode == 2 and "not an Amazon ECR registry" in bad.stderr


@pytest.mark.skipif(shutil.which("podman") is None, reason="needs podman")
def test_podman_credential_helper_login_is_erased_through_it(home, ecr_lab):
    """auth.json's `credHelpers` (containers-auth.json(5)): the real `podman login` stores
    through the recording helper, our logout erases through it."""
    folder = recording_helper(home)
    path = f"{folder}{os.pathsep}{os.environ['PATH']}"
    authfile = home.write_json(home.podman_auth_path,
                               {"auths": {}, "credHelpers": {PUBLIC: "rec"}})
    password, _ = ecr_lab.issuer.issue("us-east-1", "ecr-public")
    login = subprocess.run(["podman", "login", "--authfile", str(authfile), "--username",
                            "AWS", "--password-stdin", PUBLIC], input=password, text=True,
                           env=home.full_env(PATH=path), capture_output=True, timeout=60)
    assert login.returncode == 0, login.stderr
    assert PUBLIC in json.loads((folder / "rec-store.json").read_text())

    result = home.run_cli("logout", PUBLIC, PATH=path)

    assert result.returncode == 0, result.stderr
    assert (f"{PUBLIC}: logged out of podman ({authfile} and docker-credential-rec)"
            in result.stdout)
    assert f"erase {PUBLIC}" in helper_calls(home)
    assert PUBLIC not in json.loads((folder / "rec-store.json").read_text())
    assert json.loads(authfile.read_text())["credHelpers"] == {PUBLIC: "rec"}


# -- Helm's registry config ---------------------------------------------------------------------
def test_helms_own_code_finds_no_login_after_ours(home, ecr_lab):
    """Helm's own registry code (tests/helm_sdk.py: Helm's pkg/registry + ORAS as a
    library) logs in to public.ecr.aws; our logout removes it; Helm's own logout then reads
    the file we wrote and finds nothing left to remove (it exits 0 either way), other
    entries stay."""
    if not helm_sdk.available():
        pytest.skip(f"needs Helm's library at {helm_sdk.HELM_SDK_LIBRARY}")
    (home.root / "empty-bin").mkdir()
    env = home.full_env(PATH=str(home.root / "empty-bin"))  # no pass: Helm uses its file
    password, _ = ecr_lab.issuer.issue("us-east-1", "ecr-public")
    login = helm_sdk.registry("login", PUBLIC, env, password=password)
    assert login.returncode == 0, login.stderr
    helm = home.helm_config_path
    document = json.loads(helm.read_text())
    assert PUBLIC in document["auths"]
    document["auths"]["ghcr.io"] = OTHER
    helm.write_text(json.dumps(document, indent="\t"))

    result = home.run_cli("logout", PUBLIC)

    assert result.returncode == 0, result.stderr
    assert f"{PUBLIC}: logged out of helm ({helm})" in result.stdout
    assert json.loads(helm.read_text())["auths"] == {"ghcr.io": OTHER}
    again = helm_sdk.registry("logout", PUBLIC, env)  # Helm parses the file we wrote
    assert again.returncode == 0, again.stderr
    assert json.loads(helm.read_text())["auths"] == {"ghcr.io": OTHER}
    assert (PUBLIC, "helm") not in {(r["host"], r["source"])
                                    for r in home.status_json()["registries"]}
