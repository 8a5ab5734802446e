"""Start the tray at login: one entry per OS, pointing at the installed program.

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/ecr-token-tray.desktop``.
- macOS: ``~/Library/LaunchAgents/<LAUNCH_AGENT_LABEL>.plist``, loaded with ``launchctl``.
- Windows: the ``ecr-token-tray`` value under ``HKCU\\...\\CurrentVersion\\Run``.

The entry content comes from pure builders (:func:`desktop_entry`,
:func:`launch_agent_plist`, :func:`windows_run_value`) so it is testable on any OS. Every
entry names the program by absolute path, because a login session's PATH rarely holds
``~/.local/bin`` or a venv. Enabling twice rewrites the same entry; disabling removes it.

Entries are written 0644, not the 0600 used for credential files: they hold only the
program's path (no secret), that is the mode the desktops' own "startup applications"
tools and launchd's documentation use, and what matters for safety is that nobody else can
write them (launchd refuses a group- or world-writable plist).
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.fileio import write_atomic
from tray_app.platforms import command_line, is_windows

DESKTOP_FILE_NAME = f"{APP_NAME}.desktop"
LAUNCH_AGENT_LABEL = "io.github.ecr-token-tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = APP_NAME
ENTRY_MODE = 0o644
TRAY_ARGS = ("tray",)
LAUNCHCTL_TIMEOUT = 15.0


class AutostartError(TrayAppError):
    """The login entry could not be read, written or removed."""


@dataclass(frozen=True)
class LaunchCommand:
    """The program (absolute path) and arguments that start the tray."""

    program: Path
    args: tuple[str, ...] = TRAY_ARGS

    @property
    def argv(self) -> list[str]:
        return [str(self.program), *self.args]


@dataclass(frozen=True)
class AutostartStatus:
    enabled: bool
    entry: str                       # the file or registry value that holds the entry
    command: tuple[str, ...] = ()     # what the entry starts, when it could be read
    problem: str = ""                 # why an existing entry will not work
    session: str = ""                 # whether it fires in this session, when worth saying

    def describe(self, platform: str | None = None) -> str:
        if self.problem:
            first = f"autostart broken: {self.entry}: {self.problem}"
        elif self.enabled:
            first = f"autostart enabled: {self.entry} starts {_shown(self.command, platform)}"
        else:
            first = f"autostart disabled: {self.entry} does not exist"
        return f"{first}\n{self.session}" if self.session else first


# -- the program to start ----------------------------------------------------------------

def launch_command() -> LaunchCommand:
    """How to start the tray from a login session, by absolute path.

    A PyInstaller bundle is its own executable; an installed ``ecr-token-tray`` script is
    the one running now (``sys.argv[0]``) or the one on PATH; otherwise this interpreter
    runs the package (``python -m tray_app``).
    """
    if getattr(sys, "frozen", False):
        return LaunchCommand(_frozen_tray_program(Path(sys.executable).absolute()))
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    on_windows = sys.platform == "win32"
    if running and running.stem == APP_NAME and running.is_file() and not on_windows:
        return LaunchCommand(running.absolute())
    found = None if on_windows else shutil.which(APP_NAME)
    if found:
        return LaunchCommand(Path(found).absolute())
    # On Windows the pip console script opens a console window: use pythonw instead.
    return LaunchCommand(_windowless_python(), ("-m", "tray_app", *TRAY_ARGS))


def _frozen_tray_program(executable: Path) -> Path:
    """The Windows bundle also holds a console twin (``-cli.exe``): log in to the windowed one."""
    windowed = executable.with_name(executable.name.replace("-cli.exe", ".exe"))
    return windowed if windowed != executable and windowed.is_file() else executable


def _windowless_python() -> Path:
    python = Path(sys.executable).absolute()
    pythonw = python.with_name("pythonw.exe")
    return pythonw if sys.platform == "win32" and pythonw.is_file() else python


# -- pure builders -----------------------------------------------------------------------

def desktop_entry(exec_path: Path | str, args: Sequence[str] = TRAY_ARGS,
                  autostart: bool = True) -> str:
    """An XDG autostart entry (Desktop Entry Specification 1.4) that runs the tray.

    ``autostart=False`` gives the application-menu entry (same launcher, no session keys).
    """
    exec_line = " ".join(_desktop_exec_quote(arg) for arg in [str(exec_path), *args])
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=ECR Token Tray",
        "GenericName=ECR login monitor",
        "Comment=Time left on your Amazon ECR logins; renew them in one click",
        f"Exec={_escape_desktop_string(exec_line)}",
        f"Icon={APP_NAME}",
        "Terminal=false",
        "Categories=Development;",
        "StartupNotify=false",
    ]
    if autostart:
        lines += [
            "X-GNOME-Autostart-enabled=true",
            # The tray icon docks only when the panel is up: start after it.
            "X-GNOME-Autostart-Delay=5",
            "X-KDE-autostart-phase=2",
        ]
    return "\n".join(lines) + "\n"


_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED_IN_QUOTES = set('"`$\\')


def _desktop_exec_quote(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec requires ("%" becomes "%%")."""
    if any(ord(char) < 0x20 for char in arg):
        raise AutostartError(f"cannot start {arg!r} at login: the path holds a control character",
                             "install the app under a plain folder name")
    arg = arg.replace("%", "%%")
    if arg and not (_EXEC_RESERVED & set(arg)) and arg == arg.strip():
        return arg
    escaped = "".join(f"\\{char}" if char in _EXEC_ESCAPED_IN_QUOTES else char for char in arg)
    return f'"{escaped}"'


def _escape_desktop_string(value: str) -> str:
    return value.replace("\\", "\\\\")


def launch_agent_plist(program_args: Sequence[str]) -> bytes:
    """A macOS LaunchAgent: start once at login (RunAtLoad), never restart in a loop."""
    document = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": [str(arg) for arg in program_args],
        "RunAtLoad": True,
        "KeepAlive": False,            # quitting the tray from its menu must stick
        "ProcessType": "Interactive",  # a UI app: do not throttle it
        "LimitLoadToSessionType": "Aqua",
    }
    return plistlib.dumps(document, fmt=plistlib.FMT_XML, sort_keys=True)


def windows_run_value(exe: Path | str, args: Sequence[str] = TRAY_ARGS) -> str:
    """The Run key's command line: the program always quoted, arguments as Windows parses them."""
    exe = str(exe)
    if '"' in exe:
        raise AutostartError(f"cannot start {exe!r} at login: the path holds a quote",
                             "install the app under a plain folder name")
    quoted_args = subprocess.list2cmdline(list(args))
    return f'"{exe}" {quoted_args}' if quoted_args else f'"{exe}"'


# -- parsing back what we wrote (status) -------------------------------------------------

def parse_desktop_entry(text: str) -> dict[str, str]:
    """Keys of the [Desktop Entry] group, values unescaped (locale keys kept as written)."""
    values: dict[str, str] = {}
    in_main_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            in_main_group = line == "[Desktop Entry]"
            continue
        key, sep, value = line.partition("=")
        if in_main_group and sep:
            values.setdefault(key.strip(), _unescape_desktop_string(value.strip()))
    return values


def _unescape_desktop_string(value: str) -> str:
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\", ";": "\\;"}
    out, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value) and value[index + 1] in table:
            out.append(table[value[index + 1]])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def exec_argv(exec_value: str) -> list[str]:
    """Split an (unescaped) Exec value into arguments, the reverse of the quoting above."""
    argv: list[str] = []
    current: list[str] = []
    has_arg = in_quotes = False
    index = 0
    while index < len(exec_value):
        char = exec_value[index]
        if in_quotes:
            if char == "\\" and index + 1 < len(exec_value):
                current.append(exec_value[index + 1])
                index += 1
            elif char == '"':
                in_quotes = False
            else:
                current.append(char)
        elif char == '"':
            in_quotes = has_arg = True
        elif char in " \t":
            if has_arg:
                argv.append("".join(current))
                current, has_arg = [], False
        else:
            current.append(char)
            has_arg = True
        index += 1
    if in_quotes:
        raise ValueError("unterminated quote in Exec")
    if has_arg:
        argv.append("".join(current))
    return [arg.replace("%%", "%") for arg in argv]


# -- the three platforms -----------------------------------------------------------------

def xdg_autostart_path() -> Path:
    configured = os.environ.get("XDG_CONFIG_HOME", "")
    config_home = Path(configured) if os.path.isabs(configured) else Path.home() / ".config"
    return config_home / "autostart" / DESKTOP_FILE_NAME


def launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def _write_entry(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data, ENTRY_MODE)
    except OSError as error:
        raise AutostartError(f"{path}: cannot write the login entry ({error.strerror})",
                             f"check that you own {path.parent}") from None


def _remove_entry(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise AutostartError(f"{path}: cannot remove the login entry ({error.strerror})",
                             f"remove it by hand: rm {path}") from None
    return True


def _program_problem(command: Sequence[str]) -> str:
    if not command:
        return "it starts nothing"
    program = Path(command[0])
    if not program.is_absolute() or not program.is_file():
        return (f"it starts {command[0]}, which does not exist"
                f" - run `{APP_NAME} autostart enable` again")
    return ""


class _Xdg:
    @staticmethod
    def status() -> AutostartStatus:
        path = xdg_autostart_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AutostartStatus(False, str(path))
        except (OSError, UnicodeDecodeError) as error:
            return AutostartStatus(False, str(path), problem=f"cannot read it ({error})")
        keys = parse_desktop_entry(text)
        if keys.get("Hidden") == "true" or keys.get("X-GNOME-Autostart-enabled") == "false":
            return AutostartStatus(False, str(path))
        try:
            command = tuple(exec_argv(keys.get("Exec", "")))
        except ValueError as error:
            return AutostartStatus(True, str(path), problem=f"bad Exec line ({error})")
        return AutostartStatus(True, str(path), command, _program_problem(command))

    @staticmethod
    def enable(command: LaunchCommand) -> str:
        path = xdg_autostart_path()
        _write_entry(path, desktop_entry(command.program, command.args).encode())
        return f"autostart enabled: {path} starts {_shown(command.argv)}"

    @staticmethod
    def disable() -> str:
        path = xdg_autostart_path()
        if _remove_entry(path):
            return f"autostart disabled: removed {path}"
        return f"autostart already disabled: {path} does not exist"


class _Launchd:
    @staticmethod
    def status() -> AutostartStatus:
        path = launch_agent_path()
        try:
            document = plistlib.loads(path.read_bytes())
        except FileNotFoundError:
            return AutostartStatus(False, str(path))
        except (OSError, plistlib.InvalidFileException, ValueError) as error:
            return AutostartStatus(False, str(path), problem=f"cannot read it ({error})")
        command = tuple(str(arg) for arg in document.get("ProgramArguments", []))
        return AutostartStatus(True, str(path), command, _program_problem(command))

    @staticmethod
    def enable(command: LaunchCommand) -> str:
        path = launch_agent_path()
        _write_entry(path, launch_agent_plist(command.argv))
        # Load it now unless launchd already has it (the file alone applies from the next
        # login). Loading starts the tray (RunAtLoad); if one is running, the new one exits:
        # one tray per user (tray_app.ui.instance).
        if _launchd_job_state() is None:
            loaded = _launchctl("bootstrap", _gui_domain(), str(path))
            if not loaded:
                return (f"autostart enabled: {path} (applies from your next login;"
                        " launchctl could not load it now)")
        return f"autostart enabled: {path} starts {_shown(command.argv)}"

    @staticmethod
    def disable() -> str:
        path = launch_agent_path()
        removed = _remove_entry(path)
        # bootout stops a running job: only unload when that would not quit the tray the
        # user is looking at. A loaded job without KeepAlive never restarts by itself and
        # is forgotten at logout.
        if _launchd_job_state() == "loaded":
            _launchctl("bootout", f"{_gui_domain()}/{LAUNCH_AGENT_LABEL}")
        if removed:
            return f"autostart disabled: removed {path}"
        return f"autostart already disabled: {path} does not exist"


def _gui_domain() -> str:
    return f"gui/{os.getuid()}"


def _launchctl(*args: str) -> bool:
    try:
        result = subprocess.run(["launchctl", *args], capture_output=True, text=True,
                                timeout=LAUNCHCTL_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _launchd_job_state() -> str | None:
    """None when launchd does not know the job, "running" or "loaded" otherwise."""
    try:
        result = subprocess.run(["launchctl", "print", f"{_gui_domain()}/{LAUNCH_AGENT_LABEL}"],
                                capture_output=True, text=True, timeout=LAUNCHCTL_TIMEOUT,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return "running" if "pid = " in result.stdout else "loaded"


class _WindowsRun:
    ENTRY = f"HKCU\\{RUN_KEY}\\{RUN_VALUE_NAME}"

    @staticmethod
    def status() -> AutostartStatus:
        import winreg  # Windows only

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return AutostartStatus(False, _WindowsRun.ENTRY)
        except OSError as error:
            return AutostartStatus(False, _WindowsRun.ENTRY, problem=f"cannot read it ({error})")
        command = tuple(_split_windows_command(str(value)))
        return AutostartStatus(True, _WindowsRun.ENTRY, command, _program_problem(command))

    @staticmethod
    def enable(command: LaunchCommand) -> str:
        import winreg  # Windows only

        value = windows_run_value(command.program, command.args)
        try:
            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0,
                                    winreg.KEY_SET_VALUE) as key:
                winreg.SetValueEx(key, RUN_VALUE_NAME, 0, winreg.REG_SZ, value)
        except OSError as error:
            raise AutostartError(f"{_WindowsRun.ENTRY}: cannot write ({error})",
                                 "check your registry permissions") from None
        return f"autostart enabled: {_WindowsRun.ENTRY} = {value}"

    @staticmethod
    def disable() -> str:
        import winreg  # Windows only

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0,
                                winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE_NAME)
        except FileNotFoundError:
            return f"autostart already disabled: {_WindowsRun.ENTRY} does not exist"
        except OSError as error:
            raise AutostartError(f"{_WindowsRun.ENTRY}: cannot remove ({error})",
                                 "remove it in Task Manager > Startup apps") from None
        return f"autostart disabled: removed {_WindowsRun.ENTRY}"


def _split_windows_command(value: str) -> list[str]:
    """The program of a Run value (quoted or not) followed by the rest, split on spaces."""
    if value.startswith('"'):
        program, _, rest = value[1:].partition('"')
    else:
        program, _, rest = value.partition(" ")
    return [program, *rest.split()]


class _LinuxSession:
    """XDG autostart, except on compositors that ignore it (sway, Hyprland, i3): there a
    systemd user unit when graphical-session.target is in use, else the config line to add
    (tray_app.autostart_wm)."""

    @staticmethod
    def status(ask_systemd: bool = True) -> AutostartStatus:
        from tray_app import autostart_wm as wm

        compositor = wm.session_compositor()
        unit = wm.unit_path()
        if wm.wants_link().is_symlink() and unit.is_file():
            command = wm.unit_command(unit.read_text(encoding="utf-8", errors="replace"))
            active = wm.session_target_active() if ask_systemd else None
            session = {True: f"in this session: yes ({wm.SESSION_TARGET} is active; systemd"
                             " user unit)",
                       False: f"in this session: no ({wm.SESSION_TARGET} is not active here;"
                              " it starts in sessions that use it)",
                       None: "in this session: cannot tell (no systemd user manager to ask)"}
            return AutostartStatus(True, str(unit), command, _program_problem(command),
                                   session[active])
        xdg = _Xdg.status()
        if xdg.enabled and compositor is not None:
            return replace(xdg, problem=f"{compositor.name} does not run XDG autostart entries"
                           f" - run `{APP_NAME} autostart enable` in your {compositor.name}"
                           " session")
        if xdg.enabled or compositor is None:
            return xdg
        line = wm.configured_line(compositor)
        config = str(compositor.config_path())
        if line:
            return AutostartStatus(True, config, (line,), session=f"in this session: yes"
                                   f" ({compositor.name} runs its config's exec lines)")
        return AutostartStatus(False, config, session=f"{compositor.name} does not run XDG"
                               f" autostart entries: `{APP_NAME} autostart enable` sets it up")

    @staticmethod
    def enable(command: LaunchCommand) -> str:
        from tray_app import autostart_wm as wm

        compositor = wm.session_compositor()
        if compositor is None:
            return _Xdg.enable(command)
        if wm.session_target_active():
            unit, link = wm.unit_path(), wm.wants_link()
            try:
                text = wm.systemd_unit(command.argv)
            except ValueError as error:
                raise AutostartError(f"cannot start {command.program} at login: {error}",
                                     "install the app under a plain folder name") from None
            _write_entry(unit, text.encode())
            _link(link, Path("..") / unit.name)
            wm.reload_user_manager()
            return (f"autostart enabled: {unit} (systemd user unit, starts with"
                    f" {wm.SESSION_TARGET}) starts {_shown(command.argv)}")
        config, line = compositor.config_path(), compositor.line(command.argv)
        if wm.configured_line(compositor):
            return f"autostart already set up: {config} starts the tray"
        raise AutostartError(
            f"{compositor.name} does not run XDG autostart entries and this session does not"
            f" use {wm.SESSION_TARGET}", f"add this line to {config}: {line}")

    @staticmethod
    def disable() -> str:
        from tray_app import autostart_wm as wm

        done = []
        removed_link = _remove_entry(wm.wants_link()) if wm.wants_link().is_symlink() else False
        if _remove_entry(wm.unit_path()) or removed_link:
            wm.reload_user_manager()
            done.append(f"autostart disabled: removed {wm.unit_path()}")
        xdg = _Xdg.disable()
        if not done or xdg.startswith("autostart disabled"):
            done.append(xdg)
        compositor = wm.session_compositor()
        line = wm.configured_line(compositor) if compositor else None
        if compositor and line:
            done.append(f"{compositor.config_path()} still starts the tray: remove this line"
                        f" yourself: {line}")
        return "\n".join(done)


def _link(link: Path, target: Path) -> None:
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
    except OSError as error:
        raise AutostartError(f"{link}: cannot write the login entry ({error.strerror})",
                             f"check that you own {link.parent}") from None


def _backend():
    if sys.platform == "win32":
        return _WindowsRun
    if sys.platform == "darwin":
        return _Launchd
    return _LinuxSession


def _shown(argv: Sequence[str], platform: str | None = None) -> str:
    """The command as this OS's user would type it (Windows: as the Run value holds it,
    not with a desktop entry's doubled backslashes)."""
    if is_windows(platform):
        return command_line(argv, platform)
    return " ".join(_desktop_exec_quote(arg).replace("%%", "%") for arg in argv)


# -- the interface the CLI and the tray's "Start at login" item use ----------------------

def status() -> AutostartStatus:
    return _backend().status()


def is_enabled() -> bool:
    """Whether a login entry is set up, from files alone: the tray asks on its D-Bus loop,
    where a `systemctl --user` call could stall every menu request."""
    backend = _backend()
    if backend is _LinuxSession:
        return _LinuxSession.status(ask_systemd=False).enabled
    return backend.status().enabled


def enable() -> str:
    """Write (or rewrite) the login entry for the program running now; one line back."""
    return _backend().enable(launch_command())


def disable() -> str:
    """Remove the login entry; one line back. Removing a missing entry is fine."""
    return _backend().disable()
