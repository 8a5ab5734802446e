"""What the CLI prints on Windows, asked for on Linux through the ``platform`` seam
(tray_app.platforms): the same functions run for real under Wine in
tests/integration/test_windows_wine.py."""

from __future__ import annotations

import ntpath
import os
from pathlib import Path

from tests.builders import docker_auth, host
from tray_app import autostart, platforms
from tray_app.commands import doctor
from tray_app.install_info import Installation

PROGRAM_FILES_PYTHON = r"C:\Program Files\Python313\python.exe"
USER_PYTHON = r"C:\Users\me\AppData\Local\Programs\Python\Python313\python.exe"


def test_config_json_on_windows_gets_no_chmod_advice(home):
    path = home.docker_config({host(): {"auth": docker_auth(60)}})
    path.chmod(0o666)  # what Python reports for every writable file on Windows
    (check, *_) = doctor.check_docker_config(path, platform="win32")
    assert (check.level, check.fix) == ("pass", "")
    assert "mode" not in check.detail and "chmod" not in check.detail
    (linux, *_) = doctor.check_docker_config(path, platform="linux")
    assert linux.level == "warn" and linux.fix == f"chmod 600 {path}"


def test_pip_uninstall_on_windows_is_cmd_spelling():
    installed = Installation("system", Path("C:/Program Files/Python313"))
    line = installed.uninstall_command_on("win32", python=PROGRAM_FILES_PYTHON)
    assert line == (r'"C:\Program Files\Python313\python.exe" -m tray_app autostart disable,'
                    r' then "C:\Program Files\Python313\python.exe" -m pip uninstall'
                    " ecr-token-tray")
    assert ";" not in line and "'" not in line and "\\\\" not in line
    plain = installed.uninstall_command_on("win32", python=USER_PYTHON)
    assert '"' not in plain  # no space, no quotes: pastes into PowerShell as well


def test_pip_uninstall_on_linux_stays_posix():
    line = Installation("venv", Path("/opt/ett")).uninstall_command_on(
        "linux", python="/opt/my venv/bin/python")
    assert line == ("ecr-token-tray autostart disable; '/opt/my venv/bin/python' -m pip"
                    " uninstall ecr-token-tray")


def test_pipx_and_bundle_uninstall_on_windows():
    pipx = Installation("pipx", Path("C:/Users/me/pipx/venvs/ecr-token-tray"))
    assert pipx.uninstall_command_on("win32") == (
        "ecr-token-tray autostart disable, then pipx uninstall ecr-token-tray")
    bundle = Installation("bundle", Path(r"C:\Users\me\Apps\ecr token tray"))
    line = bundle.uninstall_command_on("win32")
    assert line.startswith('"C:') and 'ecr-token-tray-cli.exe" autostart disable, then delete' \
        in line


def test_autostart_status_on_windows_shows_the_run_value_as_written():
    value = autostart.windows_run_value(PROGRAM_FILES_PYTHON.replace("python.exe",
                                                                      "pythonw.exe"),
                                        ("-m", "tray_app", "tray"))
    command = autostart._split_windows_command(value)
    status = autostart.AutostartStatus(True, r"HKCU\Software\...\Run\ecr-token-tray",
                                       tuple(command))
    line = status.describe(platform="win32")
    assert line.endswith(value)  # what `reg query` shows, not doubled backslashes
    assert "\\\\" not in line


def test_doctor_looks_for_aws_exe_in_windows_places_only(tmp_path):
    environ = {"PATH": r"C:\Windows\system32;C:\Tools", "ProgramFiles": r"C:\Program Files"}
    places = doctor.aws_candidates("win32", environ)
    assert places == [r"C:\Windows\system32\aws.exe", r"C:\Windows\system32\aws.cmd",
                      r"C:\Tools\aws.exe", r"C:\Tools\aws.cmd",
                      r"C:\Program Files\Amazon\AWSCLIV2\aws.exe"]
    assert not any(p.startswith("/") for p in places)
    assert all(ntpath.isabs(p) for p in places)


def test_doctor_on_linux_still_knows_the_usual_aws_places():
    places = doctor.aws_candidates("linux", {"PATH": f"/opt/bin{os.pathsep}/usr/local/bin"})
    assert places[:2] == ["/opt/bin/aws", "/usr/local/bin/aws"]
    assert "/usr/bin/aws" in places


def test_docker_advice_on_windows_names_docker_desktop(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker here
    check = doctor.check_docker("win32")
    assert "apt" not in check.fix and "Docker Desktop" in check.fix


def test_windows_stop_signals_exist_in_windows_signal_module_names():
    # CPython's signal module on Windows: SIGABRT SIGBREAK SIGFPE SIGILL SIGINT SIGSEGV SIGTERM
    windows_signals = {"SIGABRT", "SIGBREAK", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM"}
    assert set(platforms.stop_signal_names("win32")) <= windows_signals


def test_an_unreadable_file_on_windows_gets_no_chmod_advice():
    from tray_app.fileio import unreadable_hint

    path = Path(r"C:\Users\me\.docker\config.json")
    assert "chmod" not in unreadable_hint(path, "win32")
    assert unreadable_hint(Path("/home/me/.docker/config.json"), "linux").startswith(
        "run `chmod u+r")


def test_home_on_windows_is_userprofile_even_when_git_bash_sets_home():
    from tray_app.settings import user_home

    env = {"HOME": "H:\\", "USERPROFILE": r"C:\Users\me"}
    assert str(user_home(env, "win32")) == r"C:\Users\me"
    assert str(user_home({"HOME": "/home/me", "USERPROFILE": "x"}, "linux")) == "/home/me"
