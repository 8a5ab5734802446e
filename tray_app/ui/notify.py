"""Desktop notifications: the best path for this OS first, then fallbacks; never raises,
logs what failed.

Order on Linux/macOS: plyer (D-Bus via dbus-python, or `notify-send` on Linux), then the tray
icon's own ``notify`` (pystray: D-Bus on gtk/appindicator), then ``osascript`` on macOS /
``notify-send`` on Linux. On Windows: a balloon of the tray's own icon
(``tray_app.ui.balloon``: a click runs what it names), and plyer only when there is no icon
(plyer adds a second icon per message and blocks ~10 s). Notification text is built by
``tray_app.alerts`` and the loop: hosts, profiles, reasons; never a secret.

macOS: plyer needs pyobjus (not installed with the app), and pystray's darwin ``notify`` runs
``osascript -e`` with the text in its argv; so there the notification is ``osascript`` with
the script on stdin (argv: ``osascript -``). It shows under Script Editor's name and one line
of the body, so that line says what to do.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable

from tray_app import APP_NAME
from tray_app.alerts import Button

log = logging.getLogger(__name__)
SUBPROCESS_TIMEOUT = 10
Backend = Callable[[str, str, bool, "Button | None"], None]


def desktop_session_available() -> bool:
    """Can a notification reach a user here? (Linux: a display or a session bus.)"""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


class DesktopNotifier:
    """``send(title, body)`` -> True when some backend took the notification."""

    def __init__(self, icon_getter: Callable[[], object | None] | None = None,
                 app_name: str = APP_NAME, platform: str | None = None) -> None:
        """``platform``: whose notification path to take (the tray passes the pystray backend
        that runs, so "darwin" means AppKit's rules); the running OS when None."""
        self._icon_getter = icon_getter or (lambda: None)
        self._app_name = app_name
        self._lock = threading.Lock()  # one notification at a time, from any thread
        self._mac = False
        self.backends: list[tuple[str, Backend]] = []
        platform = platform or sys.platform
        if platform == "win32":
            self.backends += [("tray icon", self._tray_icon), ("plyer", self._plyer)]
            return
        self._mac = platform == "darwin"
        if plyer_checks_its_result(platform):
            self.backends.append(("plyer", self._plyer))
        if not self._mac:  # pystray's darwin notify puts the text in osascript's argv
            self.backends.append(("tray icon", self._tray_icon))
        self.backends.append(("osascript" if self._mac else "notify-send", self._command))

    def send(self, title: str, body: str, urgent: bool = False, *, subject: str = "",
             button: Button | None = None) -> bool:
        """``subject`` is for servers this path cannot reach; ``button`` reaches the Windows
        balloon only (a click runs its action); elsewhere the body says what to click."""
        if self._mac:
            body = action_first(body, button)
        with self._lock:
            for name, backend in self.backends:
                try:
                    backend(title, body, urgent, button)
                except Exception as error:  # any backend may break; the next one tries
                    log.warning("notification via %s failed: %s", name, _describe(error))
                    continue
                log.info("notification sent via %s: %s", name, title)
                log.debug("notification body: %s", body)
                return True
            log.error("notification could not be shown by any backend: %s", title)
            return False

    def _plyer(self, title: str, body: str, urgent: bool, button: Button | None) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from plyer import notification
            notification.notify(title=title, message=body, app_name=self._app_name,
                                timeout=10)

    def _tray_icon(self, title: str, body: str, urgent: bool, button: Button | None) -> None:
        icon = self._icon_getter()
        if icon is None or not getattr(icon, "HAS_NOTIFICATION", False):
            raise RuntimeError("no tray icon that can notify")
        balloon = getattr(icon, "balloon", None)  # Windows (tray_app.ui.balloon): clickable
        if balloon is not None:
            balloon(title, body, button, urgent)
        else:
            icon.notify(body, title)

    def _command(self, title: str, body: str, urgent: bool, button: Button | None) -> None:
        script = None
        if self._mac:
            # the script on stdin: argv (seen by every local user in `ps`) holds no text
            script = (f"display notification {_applescript(body)}"
                      f" with title {_applescript(title)}\n")
            command = ["osascript", "-"]
        else:
            if not shutil.which("notify-send"):
                raise RuntimeError("notify-send not found (install libnotify-bin)")
            command = ["notify-send", "--app-name", self._app_name,
                       "--urgency", "critical" if urgent else "normal", title, body]
        result = subprocess.run(command, capture_output=True, text=True, input=script,
                                stdin=None if script is not None else subprocess.DEVNULL,
                                timeout=SUBPROCESS_TIMEOUT, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} exited {result.returncode}: "
                               f"{result.stderr.strip()[:200]}")


def plyer_checks_its_result(platform: str | None = None) -> bool:
    """On Linux without dbus-python, plyer runs notify-send and ignores its exit status (and
    has no timeout): there our own notify-send call, which checks both, is the better path.
    On macOS plyer needs pyobjus, which the app does not install: skip it unless present."""
    platform = platform or sys.platform
    if platform == "darwin":
        return _importable("pyobjus")
    if not platform.startswith("linux"):
        return True
    return _has_dbus_python()


def action_first(body: str, button: Button | None) -> str:
    """osascript's banner shows one line of the body: make it say what to do. (A button
    that this path cannot show names the action; alerts already start with "To renew:".)"""
    if button is None or body.startswith("To "):
        return body
    return f"To {button.label.lower()}: open the tray menu\n{body}"


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _has_dbus_python() -> bool:
    try:
        import dbus  # noqa: F401
    except ImportError:
        return False
    return True


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class TerminalNotifier:
    """For `watch`: print each notification (or keep it for the redrawn screen), then pass it
    on to the desktop."""

    KEEP = 5

    def __init__(self, desktop: DesktopNotifier | None, write: Callable[[str], None] | None,
                 clock: Callable[[], str] | None = None) -> None:
        self._desktop = desktop
        self._write = write
        self._clock = clock or (lambda: "")
        self.recent: list[str] = []  # the last KEEP alerts, for a screen that is redrawn

    def send(self, title: str, body: str, urgent: bool = False, *, subject: str = "",
             button: Button | None = None) -> bool:
        stamp = self._clock()
        indent = " " * (len(stamp) + 1) if stamp else "   "
        block = (f"{stamp} {title}" if stamp else f"!! {title}") + "\n" + "".join(
            f"{indent}{line}\n" for line in body.splitlines())
        self.recent = [*self.recent, block][-self.KEEP:]
        if self._write is not None:
            self._write(block)
        if self._desktop is not None:
            self._desktop.send(title, body, urgent)
        return True
