"""Where Helm 3 keeps its registry logins on each OS (helm.sh/helm/v3 pkg/helmpath and
`--registry-config`): a pure function of (env, home, platform), so every OS's answer is
tested on every runner (this file is in conftest's PORTABLE list)."""

from __future__ import annotations

import pytest

from tray_app.settings import helm_registry_config

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
