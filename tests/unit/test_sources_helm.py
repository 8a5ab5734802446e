"""Helm's registry config: where Helm 3 keeps it on each OS (helm.sh/helm/v3 pkg/helmpath
and `--registry-config`), and its logins as `helm` rows next to Docker's."""

from __future__ import annotations

import pytest

from tests.builders import docker_auth, host
from tray_app.service.login_files import login_files
from tray_app.settings import Paths, Settings, helm_registry_config
from tray_app.snapshot import take_snapshot

DEV = host("222222222222", "eu-central-1")
LINUX_HOME, MAC_HOME, WIN_HOME = "/home/ana", "/Users/ana", r"C:\Users\ana"
APPDATA = r"C:\Users\ana\AppData\Roaming"


@pytest.mark.parametrize(("platform", "env", "home", "expected"), [
    # the OS's own folder
    ("linux", {}, LINUX_HOME, "/home/ana/.config/helm/registry/config.json"),
    ("darwin", {}, MAC_HOME, "/Users/ana/Library/Preferences/helm/registry/config.json"),
    ("win32", {"APPDATA": APPDATA}, WIN_HOME,
     r"C:\Users\ana\AppData\Roaming\helm\registry\config.json"),
    # XDG_CONFIG_HOME: Helm honours it on every OS, not only Linux
    ("linux", {"XDG_CONFIG_HOME": "/x"}, LINUX_HOME, "/x/helm/registry/config.json"),
    ("darwin", {"XDG_CONFIG_HOME": "/x"}, MAC_HOME, "/x/helm/registry/config.json"),
    ("win32", {"XDG_CONFIG_HOME": r"D:\cfg", "APPDATA": APPDATA}, WIN_HOME,
     r"D:\cfg\helm\registry\config.json"),
    # HELM_CONFIG_HOME: Helm's own folder, no `helm` added
    ("linux", {"HELM_CONFIG_HOME": "/h", "XDG_CONFIG_HOME": "/x"}, LINUX_HOME,
     "/h/registry/config.json"),
    ("darwin", {"HELM_CONFIG_HOME": "/h"}, MAC_HOME, "/h/registry/config.json"),
    ("win32", {"HELM_CONFIG_HOME": r"E:\helm", "APPDATA": APPDATA}, WIN_HOME,
     r"E:\helm\registry\config.json"),
    # HELM_REGISTRY_CONFIG wins over everything
    ("linux", {"HELM_REGISTRY_CONFIG": "/r.json", "HELM_CONFIG_HOME": "/h"}, LINUX_HOME,
     "/r.json"),
    ("darwin", {"HELM_REGISTRY_CONFIG": "/r.json"}, MAC_HOME, "/r.json"),
    ("win32", {"HELM_REGISTRY_CONFIG": r"C:\r.json", "APPDATA": APPDATA}, WIN_HOME,
     r"C:\r.json"),
    # Windows with no %APPDATA% (a service account): no place to look
    ("win32", {}, WIN_HOME, None),
])
def test_where_helm_keeps_its_registry_logins(platform, env, home, expected):
    assert helm_registry_config(env, home, platform) == expected


def test_paths_from_the_environment_point_at_helms_file(home):
    paths = Paths.from_env()
    assert paths.helm_registry_config == home.helm_config_path
    assert paths.helm_registry_config in login_files(paths)  # a change there is noticed


def test_helm_logins_are_rows_next_to_dockers(home):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    home.helm_config({DEV: {"auth": docker_auth(15)}, "public.ecr.aws": {"auth": docker_auth(-5)},
                      "ghcr.io": {"auth": "dXNlcjpwYXNz"}})
    snapshot = take_snapshot(Paths.from_env(), Settings())
    rows = {(r.host, r.source): r for r in snapshot.registries}
    assert set(rows) == {(DEV, "docker-config"), (DEV, "helm"), ("public.ecr.aws", "helm")}
    assert rows[(DEV, "helm")].state.value == "critical"
    assert rows[(DEV, "docker-config")].state.value == "ok"
    assert "anonymous pulls work" in rows[("public.ecr.aws", "helm")].detail
    assert snapshot.errors == ()


def test_a_helm_file_with_a_missing_creds_store_says_so_in_its_row(home):
    """As for Docker: with a credsStore the file's own `auth` values are leftovers; the
    store that cannot be asked is named, in the row and as a problem."""
    home.helm_config({DEV: {"auth": docker_auth(300)}}, credsStore="gone")
    snapshot = take_snapshot(Paths.from_env(), Settings())
    (row,) = [r for r in snapshot.registries if r.source == "helm"]
    assert row.expires_at is None and "docker-credential-gone" in row.detail
    (problem,) = snapshot.errors
    assert "docker-credential-gone" in problem.message


def test_no_helm_file_costs_no_import(home):
    import subprocess
    import sys

    home.docker_config({DEV: {"auth": docker_auth(300)}})
    probe = ("import sys; from tray_app.settings import Paths, Settings;"
             " from tray_app.snapshot import take_snapshot;"
             " take_snapshot(Paths.from_env(), Settings());"
             " print('tray_app.sources.helm' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], env=home.full_env(),
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
