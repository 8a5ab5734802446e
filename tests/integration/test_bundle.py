"""The PyInstaller Linux bundle: built once per test session with the real build script.

It must answer `status --json` exactly as the source does, know its version, hold the
modules that are imported by name at run time, and point the autostart entry at itself.
Building takes a minute or two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT, FakeHome, docker_auth, host, in_
from tray_app import __version__
from tray_app.autostart import exec_argv, parse_desktop_entry
from tray_app.cli import COMMANDS

BUILD_SCRIPT = REPO_ROOT / "installer" / "pyinstaller" / "build.sh"
REGISTRY = host("222222222222", "eu-central-1")


@pytest.fixture(scope="session")
def linux_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    env = {**os.environ, "PYTHON": sys.executable}
    built = subprocess.run(["bash", str(BUILD_SCRIPT), str(out)], env=env, capture_output=True,
                           text=True, timeout=1200, cwd=out)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    program = out / "ecr-token-tray" / "ecr-token-tray"
    assert built.stdout.strip().splitlines()[-1] == f"built: {program}"
    assert not (out / ".work").exists()
    return program


@pytest.fixture
def home_with_logins(home) -> FakeHome:
    home.docker_config({REGISTRY: {"auth": docker_auth(45)}})
    home.aws_config("[profile dev]\nsso_session = corp\nsso_account_id = 222222222222\n"
                    "sso_role_name = Dev\nregion = eu-central-1\n\n[sso-session corp]\n"
                    "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n")
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))
    return home


def run_bundle(program: Path, *args: str, home: FakeHome) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], env=home.full_env(), capture_output=True,
                          text=True, timeout=120, cwd=home.root)


def without_clock(document: dict) -> dict:
    """The document minus what moves between two runs a moment apart."""
    document = dict(document)
    document.pop("generated_at")
    for row in document["registries"] + document["sso_sessions"]:
        row.pop("seconds_left")
    return document


def test_bundle_answers_status_json_like_the_source(linux_bundle, home_with_logins):
    result = run_bundle(linux_bundle, "status", "--json", home=home_with_logins)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"generated_at", "registries", "sso_sessions", "errors"}
    assert [(r["host"], r["source"], r["state"], r["profile"]) for r in document["registries"]
            ] == [(REGISTRY, "docker-config", "warning", "dev")]
    assert [(s["name"], s["state"]) for s in document["sso_sessions"]] == [("corp", "ok")]

    from_source = home_with_logins.status_json()
    assert without_clock(document) == without_clock(from_source)


def test_bundle_version_and_every_command(linux_bundle, home):
    version = run_bundle(linux_bundle, "--version", home=home)
    assert (version.returncode, version.stdout.strip()) == (0, f"ecr-token-tray {__version__}")
    for command in COMMANDS:  # each is imported by name at run time
        shown = run_bundle(linux_bundle, command, "--help", home=home)
        assert shown.returncode == 0, f"{command}: {shown.stderr}"
        assert shown.stdout.startswith(f"usage: ecr-token-tray {command}")


def test_bundle_holds_the_modules_chosen_at_run_time(linux_bundle):
    listing = subprocess.run(
        [sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b",
         str(linux_bundle)], capture_output=True, text=True, timeout=120, check=True)
    modules = {line.strip() for line in listing.stdout.splitlines()}
    expected = {"pystray._appindicator", "pystray._gtk", "pystray._xorg",
                "plyer.platforms.linux.notification", "tray_app.autostart",
                *(f"tray_app.commands.{name}" for name in COMMANDS)}
    assert expected <= modules, expected - modules


def test_bundle_autostart_entry_starts_the_bundle(linux_bundle, home):
    enabled = run_bundle(linux_bundle, "autostart", "enable", home=home)
    assert enabled.returncode == 0, enabled.stderr
    entry = Path(home.env["XDG_CONFIG_HOME"]) / "autostart" / "ecr-token-tray.desktop"
    assert exec_argv(parse_desktop_entry(entry.read_text())["Exec"]) == [
        str(linux_bundle), "tray"]
    assert run_bundle(linux_bundle, "autostart", "status", home=home).returncode == 0
    assert run_bundle(linux_bundle, "autostart", "disable", home=home).returncode == 0
    assert not entry.exists()
