"""Credential stores that cannot hold an ECR login, with real parts: the real docker CLI with a
``credsStore`` naming a helper that is not installed, a ``docker-credential-desktop``
stand-in that fails as Docker Desktop's does when Desktop is not running (colima #167), and
the REAL docker-credential-ecr-login handing Docker an expired token from its cache
(amazon-ecr-credential-helper #679). AWS is the local ECR stand-in; Windows' Credential
Manager is a platform seam (tests/unit/test_stores.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import docker_auth, host
from tests.stand_ins.ecr_endpoint import unreachable_url
from tests.stand_ins.registry import PROFILE_KEYS

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")
# What Docker Desktop's helper prints when Desktop is not running (colima #167).
DESKTOP_NOT_RUNNING = ('Post "http://ipc/registry/credstore-updated": dial unix'
                       " /home/me/.docker/desktop/backend.sock: connect: connection refused")

needs_docker = pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")


def docker_login(home, registry_host: str, password: str, **env: str):
    """The real `docker login`, as a user would run it (password on stdin)."""
    return subprocess.run(["docker", "login", "--username", "AWS", "--password-stdin",
                           registry_host], input=password, env=home.full_env(**env),
                          capture_output=True, text=True, timeout=60)


@needs_docker
def test_creds_store_naming_a_missing_helper(home, ecr_lab):
    home.docker_config({DEV: {}}, credsStore="desktop")
    before = home.docker_config_path.read_bytes()
    # the premise, with the real docker CLI: its login fails inside docker
    password, _ = ecr_lab.issuer.issue("eu-central-1", "ecr")
    refused = docker_login(home, DEV, password)
    assert refused.returncode != 0
    assert "docker-credential-desktop" in refused.stderr, refused.stderr

    status = home.run_cli("status")
    assert "which is not on PATH (it comes with Docker Desktop)" in status.stdout
    assert f"    fix: `ecr-token-tray credhelper enable {DEV}`" in status.stdout
    row = home.status_json()["registries"][0]
    assert row["store_problem"]["kind"] == "helper-missing"

    login = home.run_cli("login", DEV, OPS, "--profile", "dev")
    assert login.returncode == 1
    failed = [line for line in login.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 2  # one line per registry: named, why, fix
    assert all("not on PATH" in line and "fix: `ecr-token-tray credhelper enable" in line
               for line in failed)
    assert any(OPS.split(".")[0] in line for line in failed)  # a new host is checked too
    assert ecr_lab.endpoint.token_calls() == 0  # said before asking AWS
    assert home.docker_config_path.read_bytes() == before

    doctor = home.run_cli("doctor")
    assert f"FAIL  credential store    {DEV}: \"credsStore\": \"desktop\"" in doctor.stdout, \
        doctor.stdout


@needs_docker
def test_docker_desktop_helper_when_desktop_is_not_running(home, ecr_lab):
    home.credential_helper("desktop", f"echo '{DESKTOP_NOT_RUNNING}'\nexit 1\n")
    home.docker_config({DEV: {}}, credsStore="desktop")
    path = home.path_with_bin
    password, _ = ecr_lab.issuer.issue("eu-central-1", "ecr")
    refused = docker_login(home, DEV, password, PATH=path)  # the real CLI meets the helper
    assert refused.returncode != 0 and "backend.sock" in refused.stderr, refused.stderr

    status = home.run_cli("status", PATH=path)
    assert "Docker Desktop is not running, and its store works only while it runs" \
        in status.stdout, status.stdout
    assert "fix: start Docker Desktop, or `ecr-token-tray credhelper enable" in status.stdout
    doctor = home.run_cli("doctor", PATH=path)
    assert "FAIL  credential store" in doctor.stdout and "start Docker Desktop" in doctor.stdout

    login = home.run_cli("login", DEV, "--profile", "dev", PATH=path)
    assert login.returncode == 1 and "Docker Desktop is not running" in login.stdout
    assert ecr_lab.endpoint.token_calls() == 0

    # the fix the line gives (the plain-file store) makes the login work
    home.docker_config({DEV: {}})
    fixed = home.run_cli("login", DEV, "--profile", "dev", PATH=path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "store_problem" not in home.status_json(PATH=path)["registries"][0]


def helper_cache(home, registry_host: str, expires: datetime, password: str) -> None:
    """~/.ecr/cache.json in docker-credential-ecr-login 0.6's own key layout
    (``<region>-<base64(access key id + md5(""))>-<account>``, cache/build.go)."""
    region = registry_host.split(".")[3]
    account = registry_host.split(".")[0]
    checksum = base64.b64encode(PROFILE_KEYS["default"][0].encode()
                                + hashlib.md5(b"").digest()).decode()
    stamp = lambda when: when.isoformat().replace("+00:00", "Z")  # noqa: E731
    home.write_json(home.root / ".ecr" / "cache.json", {"Registries": {
        f"{region}-{checksum}-{account}": {
            "AuthorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
            "RequestedAt": stamp(expires - timedelta(hours=12)),
            "ExpiresAt": stamp(expires),
            "ProxyEndpoint": f"https://{registry_host}",
            "Service": "ecr"}}, "Version": "1.0"})


@pytest.mark.skipif(shutil.which("docker-credential-ecr-login") is None,
                    reason="needs docker-credential-ecr-login (amazon-ecr-credential-helper)")
def test_ecr_login_cache_serving_an_expired_token(home, ecr_lab):
    expired_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    password = base64.b64decode(docker_auth(-120)).decode().partition(":")[2]
    helper_cache(home, DEV, expired_at, password)
    home.docker_config({}, credHelpers={DEV: "ecr-login"})
    # the real helper cannot reach ECR (a proxy where nothing listens) ...
    offline = {"HTTPS_PROXY": unreachable_url(), "AWS_REGION": "eu-central-1"}
    served = subprocess.run(["docker-credential-ecr-login", "get"], input=DEV,
                            env=home.full_env(**offline), capture_output=True, text=True,
                            timeout=120)
    # ... and hands Docker the expired token from its cache (#679)
    assert served.returncode == 0 and json.loads(served.stdout)["Secret"] == password

    status = home.run_cli("status")
    assert "docker-credential-ecr-login's cache holds a token that expired" in status.stdout
    cache = home.root / ".ecr" / "cache.json"
    assert f"fix: `rm {cache}` (the helper makes a new cache)" in status.stdout, status.stdout
    assert home.status_json()["registries"][0]["store_problem"]["kind"] == \
        "stale-ecr-login-cache"
    doctor = home.run_cli("doctor")
    assert "WARN  credential store" in doctor.stdout and f"rm {cache}" in doctor.stdout

    # the fix: without the cache the helper says why instead of serving a dead token
    cache.unlink()
    honest = subprocess.run(["docker-credential-ecr-login", "get"], input=DEV,
                            env=home.full_env(**offline), capture_output=True, text=True,
                            timeout=120)
    assert honest.returncode != 0 and password not in honest.stdout
    assert "store_problem" not in home.status_json()["registries"][0]


@needs_docker
def test_a_desktop_store_that_fails_only_when_storing_is_explained(home, ecr_lab):
    """colima #167 exactly: Docker Desktop's helper reads (`list`, `get`) but its `store`
    needs Desktop running. Nothing to see before the login; the real `docker login` fails
    and `login` says why in Docker Desktop's terms, with the fix."""
    home.credential_helper("desktop", (
        'case "$1" in\n'
        "  list) echo '{}';;\n"
        "  get) cat >/dev/null; echo 'credentials not found in native keychain'; exit 1;;\n"
        f"  store) cat >/dev/null; echo '{DESKTOP_NOT_RUNNING}'; exit 1;;\n"
        "esac\n"))
    home.docker_config({}, credsStore="desktop")
    path = home.path_with_bin
    login = home.run_cli("login", DEV, "--profile", "dev", PATH=path)
    assert login.returncode == 1
    line = next(line for line in login.stdout.splitlines() if line.startswith("failed"))
    assert "Docker Desktop's credential store saves logins only while Docker Desktop runs" \
        in line, line
    assert "start Docker Desktop, or `ecr-token-tray credhelper enable" in line
    assert ecr_lab.endpoint.token_calls() == 1  # not knowable before the store step


@needs_docker
def test_the_tray_fixes_a_missing_desktop_helper_in_one_click(home, ecr_lab, monkeypatch):
    """Docker Desktop removed, `credsStore: desktop` left behind: the tray's menu offers
    "Fix: keep logins in config.json"; one click removes credsStore (every other key kept)
    and logs in again with the real docker CLI, into config.json, working."""
    from tests.builders import in_
    from tests.integration.test_login_docker import registry_answer, stored_auths
    from tests.loop_support import FakeClock, RecordingNotifier
    from tray_app.settings import Paths
    from tray_app.ui.actions import TrayActions
    from tray_app.ui.loop import TrayLoop
    from tray_app.ui.menu import PLAIN_FILE_FIX, AutostartView, menu_entries

    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    home.app_config(f'[renew]\nautomatic = false\n[registries."{DEV}"]\nprofile = "dev"\n')
    home.docker_config({DEV: {}}, credsStore="desktop", psFormat="table {{.ID}}")
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    entries = {e.key: e for e in menu_entries(loop.view(), AutostartView())}
    notice = entries[f"store|{DEV}|docker-credential-desktop"]
    fix = next(e for e in notice.submenu if e.text == PLAIN_FILE_FIX)

    TrayActions(loop, Paths.from_env(), on_quit=lambda: None).dispatch(fix.action)
    loop.join_worker(timeout=120)

    document = json.loads(home.docker_config_path.read_text())
    assert "credsStore" not in document and document["psFormat"] == "table {{.ID}}"
    assert registry_answer(ecr_lab, DEV, stored_auths(home)[DEV]) == 200
    assert ecr_lab.endpoint.token_calls() == 1
    loop.nudge()
    loop.step()
    (row,) = loop.view().snapshot.registries
    assert row.store_problem is None and row.source == "docker-config"
