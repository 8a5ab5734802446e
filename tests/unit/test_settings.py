"""Paths from the environment (read at call time) and the optional config.toml."""

import os
import sys
from pathlib import Path

import pytest

from tray_app.errors import TrayAppError
from tray_app.settings import Paths, Settings, podman_auth_files


def test_no_config_file_means_defaults(tmp_path):
    settings = Settings.load(tmp_path / "absent.toml")
    assert settings == Settings()
    assert (settings.warning_minutes, settings.critical_minutes) == (60, 15)
    assert settings.notify_minutes == (60, 15, 0)


def test_full_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("""
[thresholds]
warning_minutes = 90
critical_minutes = 20

[notifications]
minutes_before = [0, 30, 90, 30]

[renew]
automatic = false

[registries."222222222222.dkr.ecr.eu-central-1.amazonaws.com"]
profile = "dev"

[registries."https://333333333333.dkr.ecr.us-west-2.amazonaws.com/"]
ignore = true
""")
    settings = Settings.load(path)
    assert (settings.warning_minutes, settings.critical_minutes) == (90, 20)
    assert settings.notify_minutes == (90, 30, 0)
    assert settings.auto_renew is False
    assert settings.profile_for_host == {"222222222222.dkr.ecr.eu-central-1.amazonaws.com": "dev"}
    assert settings.ignored_hosts == {"333333333333.dkr.ecr.us-west-2.amazonaws.com"}


def test_a_bom_is_accepted(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[thresholds]\nwarning_minutes = 30\n")
    assert Settings.load(path).warning_minutes == 30


@pytest.mark.parametrize(("text", "message"), [
    ("[thresholds\n", "not valid TOML"),
    ("thresholds = 5\n", "[thresholds] must be a table"),
    ("[thresholds]\nwarning_minutes = -1\n", "warning_minutes must be a whole number"),
    ("[thresholds]\nwarning_minutes = '60'\n", "warning_minutes must be a whole number"),
    ("[thresholds]\ncritical_minutes = true\n", "critical_minutes must be a whole number"),
    ("[thresholds]\nwarning_minutes = 10\ncritical_minutes = 20\n", "must not exceed"),
    ("[notifications]\nminutes_before = 5\n", "minutes_before must be a list"),
    ("[notifications]\nminutes_before = [5, -1]\n", "minutes_before must be a list"),
    ("[renew]\nautomatic = 'yes'\n", "renew.automatic must be true or false"),
    ("[registries]\nfoo = 1\n", "must be a table"),
    ("[registries.222222222222.dkr.ecr.eu-central-1.amazonaws.com]\nprofile = 'dev'\n",
     "write the host in quotes"),
    ("[registries.'public.ecr.aws']\nprofile = 3\n", "profile must be a profile name"),
    ("[registries.'public.ecr.aws']\nignore = 'yes'\n", "ignore must be true or false"),
    ("[public_ecr]\nauto_logout = 1\n", "public_ecr.auto_logout must be true or false"),
    ("public_ecr = true\n", "[public_ecr] must be a table"),
])
def test_bad_config_names_the_file_and_the_key(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(TrayAppError) as caught:
        Settings.load(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.hint


def test_undecodable_config_is_a_clear_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TrayAppError, match="not valid TOML"):
        Settings.load(path)


def test_paths_follow_the_environment(home, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "awscfg"))
    monkeypatch.setenv("AWS_ECR_CACHE_DIR", str(tmp_path / "ecrcache"))
    monkeypatch.setenv("ECR_TOKEN_TRAY_CONFIG", str(tmp_path / "mine.toml"))
    paths = Paths.from_env()
    assert paths.home == home.root
    assert paths.docker_config == tmp_path / "dockercfg" / "config.json"
    assert paths.aws_config == tmp_path / "awscfg"
    assert paths.ecr_cache == tmp_path / "ecrcache" / "cache.json"
    assert paths.config_file == tmp_path / "mine.toml"
    assert paths.sso_cache_dir == home.root / ".aws" / "sso" / "cache"


def test_default_paths_live_under_home(home):
    paths = Paths.from_env()
    assert paths.docker_config == home.root / ".docker" / "config.json"
    assert paths.aws_config == home.root / ".aws" / "config"
    assert paths.ecr_cache == home.root / ".ecr" / "cache.json"
    if sys.platform.startswith("linux"):
        assert paths.config_file == home.config_toml
        assert paths.state_dir == home.state_dir


def test_podman_auth_file_precedence(tmp_path):
    home = tmp_path / "h"
    explicit = {"REGISTRY_AUTH_FILE": str(tmp_path / "explicit.json"),
                "XDG_RUNTIME_DIR": str(tmp_path / "run"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert podman_auth_files(explicit, home) == (tmp_path / "explicit.json",)
    without = {k: v for k, v in explicit.items() if k != "REGISTRY_AUTH_FILE"}
    expected = (tmp_path / "cfg" / "containers" / "auth.json",)
    if sys.platform.startswith("linux"):
        expected = (tmp_path / "run" / "containers" / "auth.json", *expected)
    assert podman_auth_files(without, home) == expected
    assert podman_auth_files({}, home) == (home / ".config" / "containers" / "auth.json",)


def test_paths_are_read_at_call_time_not_import_time(home, monkeypatch, tmp_path):
    first = Paths.from_env().docker_config
    monkeypatch.setenv("DOCKER_CONFIG", os.fspath(tmp_path / "later"))
    assert Paths.from_env().docker_config == Path(tmp_path / "later" / "config.json") != first


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG shortcut is Linux-only")
@pytest.mark.parametrize("xdg", [{}, {"XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st"},
                                 {"XDG_CONFIG_HOME": "relative", "XDG_STATE_HOME": ""}])
def test_linux_folders_match_platformdirs(home, monkeypatch, xdg):
    """settings.app_dirs skips importing platformdirs on Linux; it must give the same folders."""
    from platformdirs import PlatformDirs

    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in xdg.items():
        monkeypatch.setenv(name, value)
    expected = PlatformDirs("ecr-token-tray", appauthor=False)
    paths = Paths.from_env()
    assert paths.config_file.parent == expected.user_config_path
    assert paths.state_dir == expected.user_state_path
    assert paths.log_dir == expected.user_log_path
