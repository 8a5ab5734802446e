"""`ecr-token-tray doctor` on realistic temporary HOMEs, with a PATH built from the real tools.

PATH holds links to the real docker, podman, credential helpers and notify-send of this
machine (whichever are installed), plus the stand-in `aws` when a test wants one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, docker_auth, host, in_
from tests.stand_ins.fake_aws_cli import FakeAwsCli

REAL_TOOLS = ("docker", "podman", "docker-credential-pass", "docker-credential-ecr-login",
              "notify-send")


def tools_dir(root: Path, names=REAL_TOOLS) -> Path:
    """A bin dir with links to the real tools (only those installed here)."""
    directory = root / "tools"
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        found = shutil.which(name)
        if found and not (directory / name).exists():
            (directory / name).symlink_to(found)
    return directory


def doctor(home, path: str, **env: str):
    # No desktop unless a test gives one (other tests may have set these in this process).
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "DBUS_SESSION_BUS_ADDRESS": "",
           "PYSTRAY_BACKEND": "", **env}
    result = home.run_cli("doctor", PATH=path, **env)
    assert "Traceback" not in result.stderr + result.stdout
    return result


def line(output: str, name: str) -> list[str]:
    """The result lines of one check (with their fix lines), runs of spaces made one."""
    lines = [" ".join(text.split()) for text in output.splitlines()]
    found = []
    for index, text in enumerate(lines):
        if text.split(" ", 1)[-1].startswith(name) and text[:4] in ("PASS", "WARN", "FAIL"):
            found.append(text + ("\n" + lines[index + 1] if index + 1 < len(lines)
                                 and lines[index + 1].startswith("fix:") else ""))
    return found


def _without_empty(env: dict[str, str]) -> dict[str, str]:
    """Unset (not empty) the variables a test blanked, as a shell without them has."""
    return {name: value for name, value in env.items() if value}


@pytest.fixture
def aws_v2(tmp_path):
    return FakeAwsCli.install(tmp_path / "aws-v2")


def test_a_healthy_machine_passes(home, tmp_path, aws_v2):
    if not shutil.which("docker") or not shutil.which("docker-credential-pass"):
        pytest.skip("needs the docker CLI and docker-credential-pass")
    home.docker_config({host(): {"auth": docker_auth(600)}}, credsStore="pass")
    home.aws_config(SSO_PROFILES_CONFIG)
    home.sso_token("corp", SSO_START_URL, in_(200))
    path = aws_v2.path_with_fake_first(str(tools_dir(tmp_path)))

    result = doctor(home, path)

    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert line(out, "docker")[0].startswith("PASS docker Docker version")
    assert line(out, "aws CLI") == [f"PASS aws CLI AWS CLI v2.22.0 ({aws_v2.executable}):"
                                    " sign-ins run `aws sso login`"]
    assert line(out, "credential helpers")[0].startswith(
        "PASS credential helpers docker-credential-pass")
    assert line(out, "config.json")[0].endswith("(mode 0600)")
    assert any("SSO session corp (dev, dev-admin): signed in, 3h" in text
               and "silent refresh yes" in text for text in line(out, "SSO session"))
    assert out.rstrip().splitlines()[-1].endswith(" 0 fail")


def test_broken_setups_fail_with_a_fix_each(home, tmp_path, aws_v2):
    config = home.docker_config({host(): {"auth": docker_auth(60)}}, credsStore="desktop",
                                credHelpers={host("333333333333", "us-west-2"): "ecr-login"})
    config.chmod(0o644)
    home.aws_config(SSO_PROFILES_CONFIG + "\n[profile broken]\nsso_session = gone\n"
                    "\n[sso-session half]\nsso_region = eu-west-1\n")
    path = aws_v2.path_with_fake_first(str(tools_dir(tmp_path, ("docker",))))

    result = doctor(home, path)

    assert result.returncode == 1
    out = result.stdout
    helpers = line(out, "credential helpers")
    assert f"FAIL credential helpers {config} names docker-credential-desktop for credsStore," \
           " but it is not on PATH" in helpers[0]
    assert f"fix: install docker-credential-desktop, or remove it from {config}" in helpers[0]
    assert any("docker-credential-ecr-login for 333333333333.dkr.ecr.us-west-2.amazonaws.com"
               in text and text.startswith("FAIL") for text in helpers)
    (permissions,) = line(out, "config.json")
    assert permissions.startswith(f"WARN config.json {config} is readable by others"
                                  " (mode 0644)")
    assert permissions.endswith(f"fix: chmod 600 {config}")
    sso_lines = "\n".join(line(out, "SSO config"))
    assert "profile broken names sso_session 'gone', which has no [sso-session] section" \
        in sso_lines
    assert "[sso-session half] lacks sso_start_url or sso_region" in sso_lines
    assert "fix: add it or run `aws configure sso`" in sso_lines
    assert any(text.startswith("WARN SSO session") and "SSO session corp (dev, dev-admin):"
               " not signed in" in text and "fix: run `ecr-token-tray login --profile dev`"
               in text for text in line(out, "SSO session"))
    assert out.rstrip().splitlines()[-1].endswith(" fail") and " 0 fail" not in out


def test_aws_v1_first_on_path_points_at_the_v2_behind_it(home, tmp_path, aws_v2):
    aws_v1 = FakeAwsCli.install(tmp_path / "aws-v1", major=1)
    path = aws_v1.path_with_fake_first(aws_v2.path_with_fake_first(str(tools_dir(tmp_path))))
    (aws,) = line(doctor(home, path).stdout, "aws CLI")
    assert aws.startswith(f"WARN aws CLI {aws_v1.executable} is AWS CLI v1.29.0, which"
                          " has no `aws sso login`: SSO sign-ins run natively")
    assert f"fix: put {aws_v2.bin_dir} before the v1 on PATH (AWS CLI v2.22.0 is at" \
           f" {aws_v2.executable})" in aws


def test_missing_tools_are_warnings_not_failures(home, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = doctor(home, str(empty))
    out = result.stdout
    assert line(out, "docker")[0].startswith("WARN docker docker CLI not found on PATH")
    assert line(out, "podman")[0].startswith("PASS podman not installed")
    aws = line(out, "aws CLI")[0]
    # /usr/bin/aws may be a v2 on this machine; either way the sign-in still works natively.
    assert aws.startswith("WARN aws CLI no `aws` on PATH: SSO sign-ins run natively")
    assert line(out, "config.json")[0].startswith("PASS config.json")
    assert result.returncode in (0, 1)
    assert not any(text.startswith("FAIL") and "tray" not in text for text in out.splitlines())


def test_an_unreadable_config_json_fails_naming_the_file(home, tmp_path):
    config = home.write_bytes(home.docker_config_path, b'{"auths": {')
    result = doctor(home, str(tools_dir(tmp_path)))
    assert result.returncode == 1
    (check,) = line(result.stdout, "config.json")
    assert check.startswith(f"FAIL config.json {config}: not valid JSON")


def test_tray_backend_and_notification_path(home, tmp_path):
    if not shutil.which("notify-send"):
        pytest.skip("needs notify-send")
    tools = str(tools_dir(tmp_path))
    without_display = doctor(home, tools).stdout
    (tray,) = line(without_display, "tray")
    assert tray.startswith("WARN tray") and "no graphical session" in tray
    assert "fix: start it inside your desktop session, or use `ecr-token-tray watch`" in tray

    bus = tmp_path / "bus"
    with_display = doctor(home, tools, DISPLAY=":77",
                          DBUS_SESSION_BUS_ADDRESS=f"unix:path={bus}").stdout
    (tray,) = line(with_display, "tray")
    (notifications,) = line(with_display, "notifications")
    # :77 has no X server: the tray would not start, and doctor says so (it used to PASS)
    assert tray.startswith("FAIL tray cannot open a tray on display :77 (the X server does"
                           " not answer")
    assert notifications.startswith("PASS notifications")
    assert f"notify-send ({Path(tools) / 'notify-send'})" in notifications

    forced = doctor(home, tools, DISPLAY=":77", PYSTRAY_BACKEND="xorg").stdout
    (tray,) = line(forced, "tray")
    assert tray.startswith("WARN tray") and "pystray backend xorg: an icon without a menu" \
        in tray


def test_no_notification_path_at_all_is_a_warning(home, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = doctor(home, str(empty), PYSTRAY_BACKEND="xorg", DISPLAY=":77").stdout
    (notifications,) = line(out, "notifications")
    assert notifications.startswith("WARN notifications no way to show notifications")
    assert "fix: install libnotify-bin (notify-send)" in notifications


def home_tree(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, mode, mtime (ns) and content (file bytes, link target)."""
    entries = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        if path.is_symlink():
            content: object = os.readlink(path)
        elif path.is_file():
            content = path.read_bytes()
        else:
            content = None
        entries[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, content)
    return entries


@pytest.mark.parametrize("session", ["ssh shell without XDG variables", "desktop session"])
def test_doctor_only_reads(home, tmp_path, session):
    """A lived-in HOME stays byte-for-byte as it was: no ~/.cache, no log, no state."""
    home.docker_config({host(): {"auth": docker_auth(600)}}, credsStore="pass")
    home.aws_config(SSO_PROFILES_CONFIG)
    home.sso_token("corp", SSO_START_URL, in_(200))
    home.app_config("[thresholds]\nwarning_minutes = 30\n")
    before = home_tree(home.root)
    # The real tools of this machine (docker, podman, aws, helpers) after them on PATH.
    path = f"{tools_dir(tmp_path)}:/usr/local/bin:/usr/bin:/bin"
    if session == "desktop session":
        env = {"DISPLAY": ":99", "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/bus"}
    else:  # GLib falls back to creating ~/.cache when XDG_RUNTIME_DIR is unset
        env = {name: "" for name in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                                      "XDG_CACHE_HOME", "XDG_DATA_HOME")}
    result = subprocess.run([sys.executable, "-m", "tray_app", "doctor"],
                            env=_without_empty(home.full_env(PATH=path, **env)),
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "doctor: " in result.stdout
    assert home_tree(home.root) == before
