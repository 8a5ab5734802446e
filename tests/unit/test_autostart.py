"""Start at login: the real CLI in a temporary HOME (Linux), and the pure builders."""

from __future__ import annotations

import plistlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tray_app import __version__
from tray_app.autostart import (
    LAUNCH_AGENT_LABEL,
    AutostartError,
    desktop_entry,
    exec_argv,
    launch_agent_plist,
    parse_desktop_entry,
    windows_run_value,
)

INSTALLED_SCRIPT = Path(sys.executable).with_name("ecr-token-tray")  # pip's console script


def run_installed(program: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def autostart_file(home) -> Path:
    return Path(home.env["XDG_CONFIG_HOME"]) / "autostart" / "ecr-token-tray.desktop"


def glib_exec_argv(entry_path: Path) -> list[str]:
    """How GLib (what GNOME, Xfce and most session managers use) reads the Exec line."""
    gi = pytest.importorskip("gi")
    gi.require_version("Gio", "2.0")
    from gi.repository import Gio, GLib

    if Path(exec_argv(parse_desktop_entry(entry_path.read_text())["Exec"])[0]).exists():
        # The launcher GNOME uses: it also checks the program exists.
        assert Gio.DesktopAppInfo.new_from_filename(str(entry_path)) is not None
    keyfile = GLib.KeyFile()
    keyfile.load_from_file(str(entry_path), GLib.KeyFileFlags.NONE)
    exec_value = keyfile.get_string("Desktop Entry", "Exec")
    # GLib expands field codes ("%%" -> "%") and then splits with shell rules.
    ok, argv = GLib.shell_parse_argv(exec_value.replace("%%", "%"))
    assert ok
    return argv


@pytest.fixture
def script_in_awkward_folder(tmp_path) -> Path:
    """The installed program reached through a folder with spaces, quotes, $ and backticks.

    (Not "%": the spec escapes it as "%%", but GLib checks the program exists before
    expanding that, so GNOME would ignore such an entry whatever we write.)
    """
    folder = tmp_path / "My Apps $HOME \"tray\" `x` (1)"
    folder.mkdir()
    link = folder / "ecr-token-tray"
    link.symlink_to(INSTALLED_SCRIPT)
    return link


def test_enable_status_disable_round_trip_through_the_cli(home):
    env = home.full_env()
    entry = autostart_file(home)

    before = run_installed(INSTALLED_SCRIPT, "autostart", "status", env=env)
    assert before.returncode == 1
    assert before.stdout.strip() == f"autostart disabled: {entry} does not exist"

    enabled = run_installed(INSTALLED_SCRIPT, "autostart", "enable", env=env)
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout.strip() == (f"autostart enabled: {entry} starts {INSTALLED_SCRIPT} tray")
    first_content = entry.read_text()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o644

    again = run_installed(INSTALLED_SCRIPT, "autostart", "enable", env=env)
    assert again.returncode == 0
    assert entry.read_text() == first_content  # idempotent
    assert sorted(p.name for p in entry.parent.iterdir()) == ["ecr-token-tray.desktop"]

    shown = run_installed(INSTALLED_SCRIPT, "autostart", "status", env=env)
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"autostart enabled: {entry} starts {INSTALLED_SCRIPT} tray"

    disabled = run_installed(INSTALLED_SCRIPT, "autostart", "disable", env=env)
    assert disabled.returncode == 0
    assert disabled.stdout.strip() == f"autostart disabled: removed {entry}"
    assert not entry.exists()

    twice = run_installed(INSTALLED_SCRIPT, "autostart", "disable", env=env)
    assert twice.returncode == 0
    assert "already disabled" in twice.stdout
    assert run_installed(INSTALLED_SCRIPT, "autostart", env=env).returncode == 1


def test_entry_is_valid_for_desktop_file_validate(home, script_in_awkward_folder):
    result = run_installed(script_in_awkward_folder, "autostart", "enable", env=home.full_env())
    assert result.returncode == 0, result.stderr
    validate = subprocess.run(["desktop-file-validate", str(autostart_file(home))],
                              capture_output=True, text=True, timeout=30)
    assert validate.returncode == 0
    assert validate.stdout + validate.stderr == ""  # not even a hint


def test_exec_line_runs_the_installed_program(home, script_in_awkward_folder):
    env = home.full_env()
    assert run_installed(script_in_awkward_folder, "autostart", "enable", env=env).returncode == 0
    argv = glib_exec_argv(autostart_file(home))
    assert argv == [str(script_in_awkward_folder), "tray"]
    assert exec_argv(parse_desktop_entry(autostart_file(home).read_text())["Exec"]) == argv

    version = subprocess.run([argv[0], "--version"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0
    assert version.stdout.strip() == f"ecr-token-tray {__version__}"


def test_cli_run_as_a_module_starts_this_python(home):
    """No installed script on PATH: the entry runs this interpreter with -m tray_app."""
    env = home.full_env(PATH="/usr/bin:/bin")
    result = home.run_cli("autostart", "enable", PATH="/usr/bin:/bin")
    assert result.returncode == 0, result.stderr
    argv = glib_exec_argv(autostart_file(home))
    assert argv == [str(Path(sys.executable).absolute()), "-m", "tray_app", "tray"]
    version = subprocess.run([*argv[:3], "--version"], env=env, capture_output=True, text=True,
                             timeout=60, cwd="/")
    assert version.stdout.strip() == f"ecr-token-tray {__version__}"


def test_status_names_an_entry_whose_program_is_gone(home, tmp_path):
    link = tmp_path / "gone" / "ecr-token-tray"
    link.parent.mkdir()
    link.symlink_to(INSTALLED_SCRIPT)
    env = home.full_env()
    assert run_installed(link, "autostart", "enable", env=env).returncode == 0
    shutil.rmtree(link.parent)

    status = run_installed(INSTALLED_SCRIPT, "autostart", "status", env=env)
    assert status.returncode == 1
    assert status.stdout.strip() == (
        f"autostart broken: {autostart_file(home)}: it starts {link}, which does not exist"
        " - run `ecr-token-tray autostart enable` again")
    assert status.stderr == ""


def test_an_entry_the_desktop_marked_hidden_counts_as_disabled(home):
    entry = autostart_file(home)
    entry.parent.mkdir(parents=True)
    entry.write_text(desktop_entry(INSTALLED_SCRIPT) + "Hidden=true\n")
    status = run_installed(INSTALLED_SCRIPT, "autostart", "status", env=home.full_env())
    assert status.returncode == 1
    assert status.stdout.startswith("autostart disabled:")


def test_a_folder_that_cannot_be_written_gives_one_line(home):
    config = Path(home.env["XDG_CONFIG_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "autostart").write_text("a file where a folder should be\n")
    result = run_installed(INSTALLED_SCRIPT, "autostart", "enable", env=home.full_env())
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"ecr-token-tray: {config / 'autostart' / 'ecr-token-tray.desktop'}:"
                               " cannot write the login entry")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("program", [
    "/opt/ecr-token-tray/ecr-token-tray",
    "/home/ann lee/.local/bin/ecr-token-tray",
    "/srv/a\\b/\"quoted\"/$dollar/`tick`/100%/ecr-token-tray",
    "/tmp/semi;colon/#hash/(paren)/ecr-token-tray",
])
def test_desktop_exec_quoting_agrees_with_glib(tmp_path, program):
    entry = tmp_path / "ecr-token-tray.desktop"
    entry.write_text(desktop_entry(program, ["tray", "two words"]))
    expected = [program, "tray", "two words"]
    assert glib_exec_argv(entry) == expected
    assert exec_argv(parse_desktop_entry(entry.read_text())["Exec"]) == expected


def test_desktop_entry_refuses_a_path_with_a_newline():
    with pytest.raises(AutostartError):
        desktop_entry("/tmp/bad\nname/ecr-token-tray")


def test_launch_agent_plist_round_trips_through_plistlib():
    program = "/Applications/ECR Token Tray.app/Contents/MacOS/ecr-token-tray"
    data = launch_agent_plist([program, "tray"])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')
    assert plistlib.loads(data) == {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": [program, "tray"],
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }


def test_windows_run_value_quotes_the_program_always():
    assert windows_run_value(r"C:\Program Files\ECR Token Tray\ecr-token-tray.exe") == (
        r'"C:\Program Files\ECR Token Tray\ecr-token-tray.exe" tray')
    assert windows_run_value(r"C:\Tools\ecr-token-tray.exe") == (
        r'"C:\Tools\ecr-token-tray.exe" tray')


def test_windows_run_value_for_a_pip_install_runs_pythonw():
    value = windows_run_value(r"C:\Users\Ann Lee\venv\Scripts\pythonw.exe",
                              ["-m", "tray_app", "tray"])
    assert value == r'"C:\Users\Ann Lee\venv\Scripts\pythonw.exe" -m tray_app tray'


def test_windows_run_value_quotes_arguments_as_windows_parses_them():
    value = windows_run_value(r"C:\App\ecr-token-tray.exe",
                              ["tray", r"C:\My Config\x.toml", 'say "hi"', ""])
    assert value == r'"C:\App\ecr-token-tray.exe" tray "C:\My Config\x.toml" "say \"hi\"" ""'


def test_windows_run_value_refuses_a_quote_in_the_program():
    with pytest.raises(AutostartError):
        windows_run_value('C:\\odd"name\\ecr-token-tray.exe')
