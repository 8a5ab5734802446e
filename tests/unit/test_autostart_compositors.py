"""Start at login on sway, Hyprland and i3, which run no XDG autostart entries: a systemd
user unit when graphical-session.target is in use, else the exact config line to add.

Real: the installed CLI in a temporary HOME, `systemd-analyze --user verify` on the unit it
writes, `sh` parsing the printed config line (the compositors run exec lines with sh -c),
and this machine's own `systemctl` (no user manager in CI: it cannot answer). Stood in: a
`systemctl --user` whose graphical-session.target is active or not
(tests/stand_ins/systemctl.py), since no systemd user manager runs here.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stand_ins.systemctl import fake_systemctl

INSTALLED_SCRIPT = Path(sys.executable).with_name("ecr-token-tray")
SESSIONS = {  # compositor -> (its session variables, config file, exec prefix)
    "sway": ({"SWAYSOCK": "/run/user/1000/sway-ipc.sock", "XDG_CURRENT_DESKTOP": "sway"},
             "sway/config", "exec"),
    "Hyprland": ({"HYPRLAND_INSTANCE_SIGNATURE": "abc_123", "XDG_CURRENT_DESKTOP": "Hyprland"},
                 "hypr/hyprland.conf", "exec-once ="),
    "i3": ({"I3SOCK": "/run/user/1000/i3/ipc-socket.1", "XDG_CURRENT_DESKTOP": "i3"},
           "i3/config", "exec --no-startup-id"),
}


@pytest.fixture
def program(tmp_path) -> Path:
    """The installed script under a folder name that needs quoting everywhere."""
    folder = tmp_path / "My Apps $HOME (1)"
    folder.mkdir()
    link = folder / "ecr-token-tray"
    link.symlink_to(INSTALLED_SCRIPT)
    return link


def shown(program: Path) -> str:
    """How messages show a path that needs quoting (as in the desktop entry's Exec)."""
    return '"' + str(program).replace("$", "\\$") + '"'


def cli(program: Path, home, *args: str, path: str | None = None, **session: str):
    env = home.full_env(**session)
    for name in ("SWAYSOCK", "HYPRLAND_INSTANCE_SIGNATURE", "I3SOCK"):
        if name not in session:
            env.pop(name, None)
    if path:
        env["PATH"] = path
    return subprocess.run([str(program), "autostart", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def stand_in_path(tmp_path: Path, state: str) -> str:
    bin_dir = tmp_path / f"systemd-{state}"
    fake_systemctl(bin_dir, state)
    return f"{bin_dir}:{os.environ['PATH']}"


@pytest.mark.parametrize("compositor", sorted(SESSIONS))
def test_with_graphical_session_target_a_systemd_user_unit_is_enabled(
        home, tmp_path, program, compositor):
    session, _config, _prefix = SESSIONS[compositor]
    path = stand_in_path(tmp_path, "active")
    config = Path(home.env["XDG_CONFIG_HOME"])
    unit = config / "systemd" / "user" / "ecr-token-tray.service"
    wants = config / "systemd" / "user" / "graphical-session.target.wants" / unit.name

    enabled = cli(program, home, "enable", path=path, **session)
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout.strip() == (
        f"autostart enabled: {unit} (systemd user unit, starts with graphical-session.target)"
        f" starts {shown(program)} tray")
    assert wants.is_symlink() and os.readlink(wants) == "../ecr-token-tray.service"
    assert "WantedBy=graphical-session.target" in unit.read_text()
    assert not (config / "autostart").exists()  # no XDG entry that would never fire
    assert "--user daemon-reload" in (tmp_path / "systemd-active" / "systemctl.log").read_text()

    status = cli(program, home, "status", path=path, **session)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines() == [
        f"autostart enabled: {unit} starts {shown(program)} tray",
        "in this session: yes (graphical-session.target is active; systemd user unit)"]

    # From a session that does not use the target (an SSH shell, another desktop) it says so.
    elsewhere = cli(program, home, "status", path=stand_in_path(tmp_path, "inactive"))
    assert elsewhere.stdout.splitlines()[1] == (
        "in this session: no (graphical-session.target is not active here; it starts in"
        " sessions that use it)")

    disabled = cli(program, home, "disable", path=path, **session)
    assert disabled.returncode == 0
    assert disabled.stdout.splitlines()[0] == f"autostart disabled: removed {unit}"
    assert not unit.exists() and not wants.is_symlink()


def test_the_unit_passes_systemd_analyze_verify(home, tmp_path, program):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: run .ci/setup.sh (package systemd)")
    session, _, _ = SESSIONS["sway"]
    assert cli(program, home, "enable", path=stand_in_path(tmp_path, "active"),
               **session).returncode == 0
    unit = Path(home.env["XDG_CONFIG_HOME"]) / "systemd" / "user" / "ecr-token-tray.service"
    verify = subprocess.run([analyze, "--user", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60, env=home.full_env())
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
    # verify checks that ExecStart's program exists: it must be the program, not "$$HOME".
    program.unlink()
    missing = subprocess.run([analyze, "--user", "verify", str(unit)], capture_output=True,
                             text=True, timeout=60, env=home.full_env())
    assert f"Command {program} is not executable" in missing.stderr


@pytest.mark.parametrize("compositor", sorted(SESSIONS))
def test_without_the_target_enable_prints_the_config_line_and_status_follows_it(
        home, tmp_path, program, compositor):
    session, config_name, prefix = SESSIONS[compositor]
    config = Path(home.env["XDG_CONFIG_HOME"]) / config_name
    # This machine's own systemctl: no user manager runs, so the target is not in use.
    enabled = cli(program, home, "enable", **session)
    assert enabled.returncode == 2
    line = f"{prefix} {shlex.quote(str(program))} tray"
    assert enabled.stderr == (
        f"ecr-token-tray: {compositor} does not run XDG autostart entries and this session"
        f" does not use graphical-session.target - add this line to {config}: {line}\n")
    assert not Path(home.env["XDG_CONFIG_HOME"]).joinpath("autostart").exists()

    before = cli(program, home, "status", **session)
    assert before.returncode == 1
    assert before.stdout.splitlines()[1] == (
        f"{compositor} does not run XDG autostart entries: `ecr-token-tray autostart enable`"
        " sets it up")

    # The line is what the compositor's `sh -c` runs: our program, then `tray`.
    words = line.removeprefix(prefix).strip()
    parsed = subprocess.run(["sh", "-c", f"set -- {words}; printf '%s\\n' \"$@\""],
                            capture_output=True, text=True, timeout=30)
    assert parsed.stdout.splitlines() == [str(program), "tray"]

    config.parent.mkdir(parents=True)
    config.write_text(f"# my {compositor} config\nbindsym Mod4+Return exec foot\n{line}\n")
    after = cli(program, home, "status", **session)
    assert after.returncode == 0, after.stdout
    assert after.stdout.splitlines()[1] == (
        f"in this session: yes ({compositor} runs its config's exec lines)")
    again = cli(program, home, "enable", **session)
    assert (again.returncode, again.stdout.strip()) == (
        0, f"autostart already set up: {config} starts the tray")
    disabled = cli(program, home, "disable", **session)
    assert disabled.stdout.splitlines()[-1] == (
        f"{config} still starts the tray: remove this line yourself: {line}")


def test_an_xdg_entry_is_reported_useless_in_a_sway_session(home, program):
    assert cli(program, home, "enable").returncode == 0  # a desktop with XDG autostart
    session, _, _ = SESSIONS["sway"]
    status = cli(program, home, "status", **session)
    assert status.returncode == 1
    assert status.stdout.strip().endswith(
        "sway does not run XDG autostart entries - run `ecr-token-tray autostart enable` in"
        " your sway session")


def test_the_tray_s_check_asks_no_systemctl(home, tmp_path, program):
    """The tray's "Start at login" check runs on its D-Bus loop: it reads files, and never
    waits for `systemctl --user` (which may hang for its timeout)."""
    session, _config, _prefix = SESSIONS["sway"]
    path = stand_in_path(tmp_path, "active")
    assert cli(program, home, "enable", path=path, **session).returncode == 0
    log = tmp_path / "systemd-active" / "systemctl.log"
    calls_before = log.read_text().count("is-active")
    env = {**home.full_env(**session), "PATH": path}
    checked = subprocess.run(
        [sys.executable, "-c", "from tray_app.autostart import is_enabled; print(is_enabled())"],
        env=env, capture_output=True, text=True, timeout=60)
    assert checked.stdout.strip() == "True", checked.stderr
    assert log.read_text().count("is-active") == calls_before


def unit_environment(unit: Path) -> dict[str, str]:
    """The unit's Environment= assignments, unquoted as systemd does (specifiers: %% only)."""
    values = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for word in shlex.split(line.removeprefix("Environment=")):
                name, _, value = word.replace("%%", "%").partition("=")
                values[name] = value
    return values


def test_the_unit_s_path_holds_local_bin_and_this_path(home, tmp_path, program):
    """The user manager's PATH lacks ~/.local/bin: the unit carries one, fixed at write time."""
    tools = tmp_path / "tools 100% \"mine\""
    tools.mkdir()
    stand_in = stand_in_path(tmp_path, "active")
    session, _, _ = SESSIONS["sway"]
    enabled = cli(program, home, "enable", path=f".:{tools}:/no/such/folder:{stand_in}",
                  **session)
    assert enabled.returncode == 0, enabled.stderr
    unit = Path(home.env["XDG_CONFIG_HOME"]) / "systemd" / "user" / "ecr-token-tray.service"
    folders = unit_environment(unit)["PATH"].split(":")
    assert folders[0] == str(Path(home.env["HOME"]) / ".local" / "bin")
    assert str(program.parent) in folders and str(tools) in folders and "/usr/bin" in folders
    assert "." not in folders and "/no/such/folder" not in folders
    verify = subprocess.run([shutil.which("systemd-analyze") or "systemd-analyze", "--user",
                             "verify", str(unit)], capture_output=True, text=True, timeout=60,
                            env=home.full_env())
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
