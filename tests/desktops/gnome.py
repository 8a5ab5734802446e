"""Ubuntu's desktop, headless: GNOME Shell 43 with the AppIndicator extension.

``gnome-shell --headless --virtual-monitor`` (software rendering) on a private session bus
and a private system bus (the shell looks for logind when /run/systemd/seats exists; an
allow-all dbus-daemon answers instead). Debian/Ubuntu's AppIndicator extension
(``ubuntu-appindicators@ubuntu.com``) is the StatusNotifierWatcher and draws the item in the
top bar; GNOME's own notification service shows banners in the message tray.

GNOME 43 has no ``--unsafe-mode``; a three-line test extension sets it, so ``Eval`` (to
read the top bar, the menu and the message tray, and to drive a virtual pointer) and the
``Screenshot`` API work over D-Bus. These helpers read GNOME 43 internals
(``Main.panel.statusArea``, ``menu._getMenuItems()``, ``Main.messageTray``); GNOME 45+
changed the extension format, expect to adapt them there. Team notes:
/work/shared/reference/gnome-shell-headless.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.desktop import wait_until
from tests.desktops.session import BusError, UserSession, command_line, monotonic

TOOLS = ("gnome-shell", "gjs", "gsettings", "dbus-daemon", "busctl", "setpriv")
APPINDICATOR = "ubuntu-appindicators@ubuntu.com"  # Debian's UUID (not appindicatorsupport@rgcjonas)
UNSAFE_MODE = "unsafe-mode@tests.ecr-token-tray"
EXTENSIONS_FOLDER = Path("/usr/share/gnome-shell/extensions")
WIDTH, HEIGHT = 1280, 720
SHELL = ("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell")
SCREENSHOT = ("org.gnome.Shell.Screenshot", "/org/gnome/Shell/Screenshot",
              "org.gnome.Shell.Screenshot")
BANNER_SHOWN = 2  # MessageTray.State.SHOWN

SYSTEM_BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={socket}</listen>
<auth>EXTERNAL</auth><policy context="default"><allow user="*"/><allow own="*"/>
<allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
"""
UNSAFE_MODE_JS = """\
function init() {}
function enable() { global.context.unsafe_mode = true; }
function disable() { global.context.unsafe_mode = false; }
"""


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not (EXTENSIONS_FOLDER / APPINDICATOR).is_dir():
        missing.append("gnome-shell-extension-appindicator")
    return missing


def _js_string(text: str) -> str:
    return json.dumps(text)


def indicator_js(item_id: str) -> str:
    """JS that sets ``ind``: the AppIndicator extension's top-bar button for ``item_id``."""
    return ("const ind = Object.values(Main.panel.statusArea).find(a => a && a._indicator"
            f" && a._indicator.id === {_js_string(item_id)}) || null;")


POINTER_JS = (
    "const {Clutter, GLib} = imports.gi; if (!global._testPointer) global._testPointer ="
    " Clutter.get_default_backend().get_default_seat().create_virtual_device("
    "Clutter.InputDeviceType.POINTER_DEVICE); const dev = global._testPointer;"
    " const click = (x, y) => { const t = GLib.get_monotonic_time();"
    " dev.notify_absolute_motion(t, x, y);"
    " dev.notify_button(t + 1000, Clutter.BUTTON_PRIMARY, Clutter.ButtonState.PRESSED);"
    " dev.notify_button(t + 2000, Clutter.BUTTON_PRIMARY, Clutter.ButtonState.RELEASED); };")


class GnomeDesktop:
    def __init__(self, session: UserSession) -> None:
        self.session = session
        self.shell = None  # subprocess.Popen
        self.system_bus_address = f"unix:path={session.folder}/system_bus_socket"
        self.seconds_to_ready = 0.0

    @property
    def app_env(self) -> dict[str, str]:
        return {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland",
                "XDG_CURRENT_DESKTOP": "GNOME"}

    def start(self) -> None:
        s = self.session
        started = monotonic()
        extension = s.home / ".local/share/gnome-shell/extensions" / UNSAFE_MODE
        extension.mkdir(parents=True)
        (extension / "metadata.json").write_text(json.dumps(
            {"uuid": UNSAFE_MODE, "name": "Unsafe mode for tests", "shell-version": ["43"],
             "description": "global.context.unsafe_mode = true (Eval, Screenshot over D-Bus)"}))
        (extension / "extension.js").write_text(UNSAFE_MODE_JS)
        config = s.folder / "system-bus.conf"
        config.write_text(SYSTEM_BUS_CONFIG.format(socket=f"{s.folder}/system_bus_socket"))
        s.give_all()
        s.start("system-bus", ["dbus-daemon", f"--config-file={config}", "--nofork",
                               "--nopidfile"])
        s.start("session-bus", ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                f"--address={s.bus_address}"])
        wait_until(lambda: (s.runtime / "bus").exists()
                   and (s.folder / "system_bus_socket").exists(), 10, "the two buses", 0.05)
        enabled = s.run(["gsettings", "set", "org.gnome.shell", "enabled-extensions",
                         f"['{APPINDICATOR}', '{UNSAFE_MODE}']"])
        assert enabled.returncode == 0, enabled.stderr
        self.shell = s.start("gnome-shell", ["gnome-shell", "--headless", "--virtual-monitor",
                                             f"{WIDTH}x{HEIGHT}"],
                             env={"DBUS_SYSTEM_BUS_ADDRESS": self.system_bus_address,
                                  "XDG_SESSION_TYPE": "wayland"})
        wait_until(lambda: self._shell_alive()
                   and s.name_owner_pid("org.kde.StatusNotifierWatcher") == self.shell.pid
                   and self._eval_quiet("global.context.unsafe_mode") is True, 90,
                   "gnome-shell with the AppIndicator extension and unsafe mode")
        self.eval("Main.overview.hide(); true")
        self.seconds_to_ready = monotonic() - started

    def _shell_alive(self) -> bool:
        code = self.shell.poll()
        assert code is None, f"gnome-shell exited with {code}: {self.log_tail()}"
        return True

    def log_tail(self) -> str:
        path = self.session.logs / "gnome-shell.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # -- Eval and screenshots ------------------------------------------------------------
    def eval(self, js: str) -> object:
        ok, result = self.session.call(*SHELL, "Eval", "s", js)
        if not ok:
            raise AssertionError(f"Eval failed: {result}")
        return json.loads(result) if result else None

    def _eval_quiet(self, js: str) -> object:
        try:
            return self.eval(js)
        except (AssertionError, BusError, ValueError):
            return None

    def eval_json(self, body: str) -> object:
        """Run a JS function body; its return value comes back through JSON."""
        return json.loads(self.eval(f"JSON.stringify((() => {{ {body} }})())"))

    def screenshot(self, name: str) -> Path:
        path = self.session.shots / f"{name}.png"
        ok, _used = self.session.call(*SCREENSHOT, "Screenshot", "bbs", "false", "false",
                                      str(path))
        assert ok, "GNOME's Screenshot API refused"
        return path

    def click(self, x: float, y: float) -> None:
        """A primary-button click through a Clutter virtual pointer (as a mouse does)."""
        self.eval_json(POINTER_JS + f"click({x}, {y}); return true;")

    # -- the top bar -------------------------------------------------------------------
    def indicator(self, item_id: str) -> dict | None:
        """The item's top-bar button: title, box (x, y, w, h), menu state and rows."""
        return self.eval_json(indicator_js(item_id) + (
            "if (!ind) return null; const box = ind.menu.actor; return {isOpen: ind.menu.isOpen,"
            " menuShown: ind.menu.isOpen && box.visible && box.opacity === 255,"
            " iconLoaded: !!(ind._icon && ind._icon.gicon), visible: ind.visible,"
            " title: ind._indicator.title, box: ind.get_transformed_position().concat("
            "ind.get_transformed_size()), items: ind.menu._getMenuItems().map(i => ({"
            "label: i.label ? i.label.text : '', sensitive: i.reactive,"
            " checked: i._ornament === 2}))};"))

    def activate_row(self, item_id: str, label: str) -> None:
        """Press a menu row as a click does (activate() needs a real Clutter event: the
        extension calls event.get_time())."""
        done = self.eval_json(indicator_js(item_id) + (
            "if (!ind) return false; const it = ind.menu._getMenuItems().find(i => i.label"
            f" && i.label.text.startsWith({_js_string(label)})); if (!it) return false;"
            " it.activate(imports.gi.Clutter.Event.new(imports.gi.Clutter.EventType."
            "BUTTON_RELEASE)); return true;"))
        assert done, f"no row {label!r} in the indicator's menu"

    def close_menus(self, item_id: str) -> None:
        self.eval_json(indicator_js(item_id) + "if (ind) ind.menu.close(); return true;")

    def dismiss_banner(self) -> None:
        """Take the banner on screen away (as a click on its close button would)."""
        self.eval("Main.messageTray._notification && Main.messageTray._notification.destroy();"
                  " Main.messageTray._updateState(); true")

    # -- notifications -----------------------------------------------------------------
    def notification_server(self) -> str:
        """The command line of the process owning org.freedesktop.Notifications."""
        pid = wait_until(lambda: self.session.name_owner_pid("org.freedesktop.Notifications"),
                         20, "a notification server")
        return command_line(pid)

    def dismiss_session_notices(self) -> list[str]:
        """GNOME queues at most 3 banners: drop the session's own notices ("System was put
        in unsafe mode", "Logged in as a privileged user"...) so the app's banner shows."""
        time.sleep(1.5)  # they arrive just after start-up
        return self.eval_json(
            "const s = Main.messageTray.getSources(); const t = s.map(x => x.notifications.map("
            "n => n.title)).flat(); s.forEach(x => x.destroy()); return t;")

    def app_notifications(self, app_title: str) -> list[dict]:
        return self.eval_json(
            "const src = Main.messageTray.getSources().find(s => s.title === "
            f"{_js_string(app_title)}); return src ? src.notifications.map(n => ({{"
            "title: n.title, body: n.bannerBodyText, urgency: n.urgency,"
            " actions: (n.actions || []).map(a => a.label)})) : [];")

    def banner(self) -> dict | None:
        """The banner on screen: title, source, state, and its buttons with their boxes."""
        return self.eval_json(
            "const n = Main.messageTray._notification; const b = Main.messageTray._banner;"
            " if (!n) return null; return {title: n.title, source: n.source.title,"
            " state: Main.messageTray._notificationState, buttons: b && b._buttonBox ?"
            " b._buttonBox.get_children().map(x => ({label: x.label, box:"
            " x.get_transformed_position().concat(x.get_transformed_size())})) : []};")

    def show_banner_of(self, app_title: str, title_part: str, timeout: float = 20) -> dict:
        """Wait until the app's banner containing ``title_part`` is shown, dropping banners
        of others that hold the screen (a banner only hides on user activity)."""
        def shown():
            banner = self.banner()
            if banner and banner["state"] == BANNER_SHOWN:
                if banner["source"] == app_title and title_part in banner["title"]:
                    return banner
                self.eval("Main.messageTray._notification.destroy(); true")
            self.eval("Main.messageTray._updateState(); true")
            return None

        return wait_until(shown, timeout, f"the {title_part!r} banner of {app_title}", 0.3)


@contextmanager
def running_gnome_desktop(session: UserSession) -> Iterator[GnomeDesktop]:
    desktop = GnomeDesktop(session)
    try:
        desktop.start()
        yield desktop
    finally:
        session.stop()
