"""Start at login on Linux sessions that do not run XDG autostart entries: sway, Hyprland, i3.

Two mechanisms, in order:
- a systemd user unit ``ecr-token-tray.service`` wanted by ``graphical-session.target``,
  when this session has that target active (sway or Hyprland started through a systemd
  session, uwsm, a display manager that starts it...);
- else the line to add to the compositor's own config (``exec`` for sway, ``exec-once`` for
  Hyprland, ``exec --no-startup-id`` for i3): we print it and never edit that file.

Pure builders (:func:`systemd_unit`, :func:`compositor_line`) plus small readers, so
``autostart status`` can say which mechanism is set up and whether it fires in this session.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tray_app import APP_NAME

UNIT_NAME = f"{APP_NAME}.service"
SESSION_TARGET = "graphical-session.target"
SYSTEMCTL_TIMEOUT = 10.0
SYSTEMD_DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin")


@dataclass(frozen=True)
class Compositor:
    name: str                     # as users know it
    config_parts: tuple[str, ...]  # under $XDG_CONFIG_HOME
    exec_prefix: str              # what starts a program once at login

    def config_path(self) -> Path:
        return config_home().joinpath(*self.config_parts)

    def line(self, argv: Sequence[str]) -> str:
        return f"{self.exec_prefix} {_shell_words(argv)}"


SWAY = Compositor("sway", ("sway", "config"), "exec")
HYPRLAND = Compositor("Hyprland", ("hypr", "hyprland.conf"), "exec-once =")
I3 = Compositor("i3", ("i3", "config"), "exec --no-startup-id")


def config_home() -> Path:
    configured = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(configured) if os.path.isabs(configured) else Path.home() / ".config"


def session_compositor(env: Mapping[str, str] | None = None) -> Compositor | None:
    """The compositor of this session when it is one that ignores XDG autostart."""
    env = os.environ if env is None else env
    desktops = {part.strip().lower() for part in env.get("XDG_CURRENT_DESKTOP", "").split(":")}
    if env.get("SWAYSOCK") or "sway" in desktops:
        return SWAY
    if env.get("HYPRLAND_INSTANCE_SIGNATURE") or "hyprland" in desktops:
        return HYPRLAND
    if env.get("I3SOCK") or "i3" in desktops:
        return I3
    return None


# -- the systemd user unit -------------------------------------------------------------------

def unit_path() -> Path:
    return config_home() / "systemd" / "user" / UNIT_NAME


def wants_link() -> Path:
    return config_home() / "systemd" / "user" / f"{SESSION_TARGET}.wants" / UNIT_NAME


def systemd_unit(argv: Sequence[str]) -> str:
    """A user service started with the graphical session and stopped with it."""
    return "\n".join([
        "[Unit]",
        "Description=ECR Token Tray: time left on your Amazon ECR logins",
        f"PartOf={SESSION_TARGET}",
        f"After={SESSION_TARGET}",
        "",
        "[Service]",
        "Type=exec",
        # the user manager's PATH rarely has ~/.local/bin (wrappers, aws, kubectl)
        f"Environment={_quoted_value('PATH=' + unit_search_path(argv))}",
        f"ExecStart={_exec_start(argv)}",
        # Quitting from the menu must stick; a tray without a panel exits 2 and stays down.
        "Restart=no",
        "",
        "[Install]",
        f"WantedBy={SESSION_TARGET}",
        "",
    ])


def unit_search_path(argv: Sequence[str], env_path: str | None = None) -> str:
    """PATH for the unit, fixed at write time (systemd expands no $HOME in Environment=):
    ~/.local/bin, the app's own folder, the existing folders of this PATH, then systemd's
    default. Relative entries ("." or empty) are dropped: they would mean the unit's cwd."""
    env_path = os.environ.get("PATH", "") if env_path is None else env_path
    local_bin = str(Path.home() / ".local" / "bin")  # may not exist yet: wrappers go there
    candidates = [local_bin, os.path.dirname(argv[0]) if argv else "",
                  *env_path.split(os.pathsep), *SYSTEMD_DEFAULT_PATH]
    folders: list[str] = []
    for folder in candidates:
        if (os.path.isabs(folder) and folder not in folders and os.pathsep not in folder
                and not any(ord(char) < 0x20 for char in folder)
                and (folder == local_bin or os.path.isdir(folder))):
            folders.append(folder)
    return os.pathsep.join(folders)


def _quoted_value(text: str) -> str:
    """One double-quoted word of a unit file: "%" is a specifier, backslash an escape."""
    return '"' + text.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"') + '"'


def _exec_start(argv: Sequence[str]) -> str:
    """systemd's command-line quoting: "%" is a specifier everywhere, "$" in arguments."""
    words = []
    for index, arg in enumerate(argv):
        if any(ord(char) < 0x20 for char in arg):
            raise ValueError(f"{arg!r} holds a control character")
        arg = arg.replace("%", "%%")
        if index:
            arg = arg.replace("$", "$$")
        if arg and not any(char in arg for char in " \t\"'\\;"):
            words.append(arg)
        else:
            words.append('"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(words)


def unit_command(text: str) -> tuple[str, ...]:
    """The ExecStart of a unit we wrote, split back into arguments."""
    import shlex

    for line in text.splitlines():
        if line.startswith("ExecStart="):
            words = shlex.split(line.removeprefix("ExecStart=").replace("%%", "%"))
            return tuple([words[0], *(word.replace("$$", "$") for word in words[1:])])
    return ()


def session_target_active() -> bool | None:
    """Is graphical-session.target active for this user? None: systemd cannot be asked."""
    state = _systemctl("is-active", SESSION_TARGET)
    if state is None:
        return None
    return state == "active"


def reload_user_manager() -> None:
    """Let a running user manager see the new unit now (best effort; login reads it anyway)."""
    _systemctl("daemon-reload")


def _systemctl(*args: str) -> str | None:
    try:
        result = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True,
                                timeout=SYSTEMCTL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = result.stdout.strip()
    # is-active answers "inactive"/"failed" with exit 3; no user manager: nothing on stdout.
    return answer or None


# -- the compositor's config line ------------------------------------------------------------

def configured_line(compositor: Compositor) -> str | None:
    """An uncommented line of the compositor's config that starts our tray, if any."""
    try:
        text = compositor.config_path().read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("exec") and APP_NAME in line and " tray" in line:
            return line
    return None


def _shell_words(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(arg) for arg in argv)
