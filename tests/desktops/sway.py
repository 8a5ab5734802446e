"""A real StatusNotifierItem desktop, headless: sway + waybar + mako on a private bus.

waybar's ``tray`` module is both the ``org.kde.StatusNotifierWatcher`` and the host that
draws icons and menus (libdbusmenu-gtk); mako is the notification server; grim takes
screenshots. A headless seat has no pointer, so ``vptr`` (tests/desktops/vptr, built here
with wayland-scanner + gcc) keeps a ``zwlr_virtual_pointer_v1`` and clicks where told.
No Xwayland: the session is Wayland only. Recipe and pitfalls:
/work/shared/reference/sni-wayland-desktop (team notes), summarised in the README.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.desktop import wait_until
from tests.desktops.session import (
    UserSession,
    end_process,
    make_readable,
    monotonic,
    notify_calls,
)

TOOLS = ("sway", "waybar", "mako", "makoctl", "grim", "dbus-daemon", "dbus-monitor", "busctl",
         "setpriv", "wayland-scanner", "gcc", "jq")  # makoctl needs jq
VPTR_SOURCES = Path(__file__).parent / "vptr"
WIDTH, HEIGHT = 1280, 720
BAR_HEIGHT = 30
# waybar's tray is the rightmost module (padding 10 px, icons 24 px): the first icon's centre
TRAY_ICON_AT = (WIDTH - 10 - 12, BAR_HEIGHT // 2)
LEFT_BUTTON, RIGHT_BUTTON = 272, 273  # BTN_LEFT, BTN_RIGHT (linux/input-event-codes.h)

SWAY_CONFIG = f"""\
output * bg #335577 solid_color
output HEADLESS-1 resolution {WIDTH}x{HEIGHT}
default_border none
"""
WAYBAR_CONFIG = {
    "layer": "top", "position": "top", "height": BAR_HEIGHT,
    "modules-left": ["sway/workspaces"], "modules-center": ["clock"], "modules-right": ["tray"],
    "clock": {"format": "{:%H:%M}", "interval": 60}, "tray": {"icon-size": 24, "spacing": 8},
}
WAYBAR_STYLE = """\
* { font-family: "DejaVu Sans"; font-size: 13px; }
window#waybar { background: #202020; color: #ffffff; }
#tray { padding: 0 10px; }
"""
MAKO_CONFIG = """\
font=DejaVu Sans 11
default-timeout=0
max-visible=5
"""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def build_virtual_pointer(folder: Path) -> Path:
    """Compile vptr from vp.xml + vptr.c (wayland-scanner, gcc, libwayland-client)."""
    folder.mkdir(parents=True, exist_ok=True)
    xml, source = VPTR_SOURCES / "vp.xml", VPTR_SOURCES / "vptr.c"
    for argv in (["wayland-scanner", "client-header", str(xml), "vp-client.h"],
                 ["wayland-scanner", "private-code", str(xml), "vp-protocol.c"],
                 ["gcc", "-O1", "-I.", "-o", "vptr", str(source), "vp-protocol.c",
                  "-lwayland-client"]):
        subprocess.run(argv, cwd=folder, check=True, capture_output=True, timeout=120)
    make_readable(folder)
    return folder / "vptr"


class SwayDesktop:
    def __init__(self, session: UserSession, vptr: Path) -> None:
        self.session = session
        self.vptr_binary = vptr
        self.wayland_display = ""
        self.pointer: subprocess.Popen | None = None
        self.mako: subprocess.Popen | None = None
        self.waybar: subprocess.Popen | None = None
        self.seconds_to_ready = 0.0

    @property
    def app_env(self) -> dict[str, str]:
        """What a program started in this session sees (Wayland only, no DISPLAY)."""
        return {"WAYLAND_DISPLAY": self.wayland_display, "XDG_SESSION_TYPE": "wayland",
                "XDG_CURRENT_DESKTOP": "sway"}

    def start(self) -> None:
        s = self.session
        started = monotonic()
        config = s.folder / "config"
        config.mkdir(exist_ok=True)
        (config / "sway.conf").write_text(SWAY_CONFIG)
        (config / "waybar.json").write_text(json.dumps(WAYBAR_CONFIG))
        (config / "waybar.css").write_text(WAYBAR_STYLE)
        (s.home / ".config" / "mako").mkdir(parents=True, exist_ok=True)
        (s.home / ".config" / "mako" / "config").write_text(MAKO_CONFIG)
        s.give_all()
        s.start("dbus", ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                         f"--address={s.bus_address}"])
        wait_until(lambda: (s.runtime / "bus").exists(), 10, "the session bus socket", 0.05)
        s.start("sway", ["sway", "-c", str(config / "sway.conf")],
                env={"WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1",
                     "WLR_RENDERER": "pixman"})
        socket = wait_until(lambda: next((p for p in sorted(s.runtime.glob("wayland-*"))
                                          if not p.name.endswith(".lock")), None),
                            20, "sway's Wayland socket", 0.05)
        self.wayland_display = socket.name
        self.start_waybar()
        self.pointer = s.start("vptr", [str(self.vptr_binary)], env=self.app_env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = self.pointer.stdout.readline().decode().strip()
        assert ready == "ready", f"virtual pointer did not start: {self._log('vptr')}"
        self.mako = s.start("mako", ["mako"], env=self.app_env)
        # what the app sends, as the server receives it (makoctl list shows no urgency)
        s.start("notify-monitor", ["dbus-monitor", "--address", s.bus_address,
                                   "type='method_call',interface='org.freedesktop.Notifications'"
                                   ",member='Notify'"])
        self.wait_for_watcher()
        # guard against passing for the wrong reason: D-Bus activation could start dunst
        wait_until(lambda: s.name_owner_pid("org.freedesktop.Notifications") == self.mako.pid,
                   20, "mako to own org.freedesktop.Notifications")
        self.seconds_to_ready = monotonic() - started

    def start_waybar(self) -> None:
        config = self.session.folder / "config"
        self.waybar = self.session.start("waybar", ["waybar", "-c", str(config / "waybar.json"),
                                                    "-s", str(config / "waybar.css")],
                                         env=self.app_env)

    def wait_for_watcher(self) -> None:
        wait_until(lambda: self.session.name_owner_pid("org.kde.StatusNotifierWatcher")
                   == self.waybar.pid, 30, "waybar's tray to own org.kde.StatusNotifierWatcher")

    def restart_waybar(self) -> None:
        """The panel restarts (a crash, a config reload): a new StatusNotifierWatcher."""
        end_process(self.waybar)
        self.start_waybar()
        self.wait_for_watcher()

    def _log(self, name: str) -> str:
        path = self.session.logs / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    # -- input and screen --------------------------------------------------------------
    def _pointer(self, line: str) -> None:
        self.pointer.stdin.write(f"{line}\n".encode())
        self.pointer.stdin.flush()
        assert self.pointer.stdout.readline().decode().strip() == "ok", self._log("vptr")

    def click(self, x: int, y: int, button: int = LEFT_BUTTON) -> None:
        self._pointer(f"abs {x} {y} {WIDTH} {HEIGHT}")
        self._pointer(f"btn {button} 1")
        self._pointer(f"btn {button} 0")

    def move(self, x: int, y: int) -> None:
        self._pointer(f"abs {x} {y} {WIDTH} {HEIGHT}")

    def screenshot(self, name: str) -> Path:
        path = self.session.shots / f"{name}.png"
        result = self.session.run(["grim", str(path)], env=self.app_env)
        assert result.returncode == 0, f"grim failed: {result.stderr}"
        return path

    # -- notifications (mako) ----------------------------------------------------------
    def notifications(self) -> list[dict]:
        """``makoctl list``: each notification's id, app-name, summary, body, urgency, actions."""
        result = self.session.run(["makoctl", "list"], env=self.app_env)
        if result.returncode != 0 or not result.stdout.strip():
            return []
        document = json.loads(result.stdout)
        data = document.get("data", [[]])
        return [{key: value.get("data") if isinstance(value, dict) else value
                 for key, value in entry.items()} for entry in (data[0] if data else [])]

    def notify_calls(self) -> list[dict]:
        return notify_calls(self.session.logs / "notify-monitor.log")

    def dismiss_notifications(self) -> None:
        self.session.run(["makoctl", "dismiss", "--all"], env=self.app_env)

    def invoke(self, notification_id: int, action: str) -> None:
        """What a click on the bubble's action button does."""
        result = self.session.run(["makoctl", "invoke", "-n", str(notification_id), action],
                                  env=self.app_env)
        assert result.returncode == 0, f"makoctl invoke failed: {result.stderr}"


@contextmanager
def running_sway_desktop(session: UserSession, vptr: Path) -> Iterator[SwayDesktop]:
    desktop = SwayDesktop(session, vptr)
    try:
        desktop.start()
        yield desktop
    finally:
        session.stop()
