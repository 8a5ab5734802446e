"""Helm's registry config on Windows, with the app's Windows build under Wine
(tests/wine_support.py: python.org's embeddable CPython 3.13, ``sys.platform == "win32"``):
found at ``%APPDATA%\\helm\\registry\\config.json`` as Helm finds it there, shown in
`status` and `doctor`, and edited by `logout` in Windows' own paths.

Real parts: the Windows CPython, the app's wheel, Wine's %APPDATA% and Windows paths. Not
real: helm.exe (not installed; the file is in the layout Helm writes).
"""

from __future__ import annotations

import json

import pytest

from tests import wine_support
from tests.builders import docker_auth, host

pytestmark = [pytest.mark.wine,
              pytest.mark.skipif(bool(wine_support.missing()),
                                 reason=wine_support.missing() or "wine present")]

DEV = host("222222222222", "eu-central-1")
PUBLIC = "public.ecr.aws"


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    prefix = wine_support.session_prefix(tmp_path_factory.mktemp("wine-helm"))
    yield prefix
    prefix.stop()


def app(wine, *args: str) -> list[str]:
    return [wine.python, "-m", "tray_app", *args]


def test_helm_file_under_appdata_is_read_checked_and_logged_out_of(wine):
    helm_file = wine.profile / "AppData" / "Roaming" / "helm" / "registry" / "config.json"
    helm_file.parent.mkdir(parents=True, exist_ok=True)
    helm_file.write_text(json.dumps({"auths": {DEV: {"auth": docker_auth(15)},
                                               PUBLIC: {"auth": docker_auth(-30)},
                                               "ghcr.io": {"auth": "dTpw"}}}, indent="\t"))
    windows_path = (r"C:\users" + f"\\{wine.user}"
                    + r"\AppData\Roaming\helm\registry\config.json")

    status, doctor, logout, after = wine.batch([
        app(wine, "status", "--json"), app(wine, "doctor", "--json"),
        app(wine, "logout", PUBLIC), app(wine, "status", "--json")])

    rows = {(r["host"], r["source"]): r for r in json.loads(status.stdout)["registries"]}
    assert rows[(DEV, "helm")]["state"] == "critical"
    assert "anonymous pulls work" in rows[(PUBLIC, "helm")]["detail"]
    (check,) = [c for c in json.loads(doctor.stdout) if c["name"] == "helm config"]
    assert check["level"] == "pass" and check["detail"].lower() == windows_path.lower()
    assert logout.returncode == 0, logout.stdout + logout.stderr
    assert f"logged out of helm ({windows_path}" in logout.stdout
    assert set(json.loads(helm_file.read_text())["auths"]) == {DEV, "ghcr.io"}
    assert {(r["host"], r["source"]) for r in json.loads(after.stdout)["registries"]} == {
        (DEV, "helm")}
    for result in (status, doctor, logout, after):
        assert "Traceback" not in result.stderr
