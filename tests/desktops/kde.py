"""KDE Plasma 5.27, headless on X: Xvfb + kwin_x11 + plasmashell on a private bus.

plasmashell builds its default layout on first start (a 44 px bottom panel with the
System Tray applet = the StatusNotifierHost, and the clock) and owns
``org.freedesktop.Notifications``; D-Bus activation starts kded5, whose
statusnotifierwatcher module owns ``org.kde.StatusNotifierWatcher`` (kglobalaccel5,
kactivitymanagerd, kscreen follow). kwin_x11 composites through Mesa llvmpipe on Xvfb.
``plasma-workspace`` alone has no shell package: ``plasma-desktop`` brings it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from tests.desktop import wait_until
from tests.desktops.session import BusError, UserSession, command_line, monotonic
from tests.desktops.x11 import HEIGHT, X11Desktop, missing_x11_tools

TOOLS = ("kwin_x11", "plasmashell", "kded5")
SHELL_PACKAGE = "/usr/share/plasma/shells/org.kde.plasma.desktop"
PACKAGES = "plasma-workspace kwin-x11 plasma-desktop"
PANEL_HEIGHT = 44
CLOCK_LEFT = 1140  # the clock and "show desktop" sit right of this: they change, leave them out
WATCHER = "org.kde.StatusNotifierWatcher"


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not Path(SHELL_PACKAGE).is_dir():
        missing.append("plasma-desktop (the shell package)")
    return missing + missing_x11_tools()


class KdeDesktop(X11Desktop):
    desktop_name = "KDE"
    extra_env: ClassVar[dict[str, str]] = {"KDE_FULL_SESSION": "true", "KDE_SESSION_VERSION": "5",
                                           "QT_QPA_PLATFORM": "xcb"}
    panel_strip = (0, HEIGHT - PANEL_HEIGHT, CLOCK_LEFT, HEIGHT)
    above_panel = (0, 0, CLOCK_LEFT + 140, HEIGHT - PANEL_HEIGHT)

    def start(self) -> None:
        s = self.session
        started = monotonic()
        self.start_display_and_bus()
        self.spawn("kwin_x11", ["kwin_x11"])
        wait_until(lambda: s.has_name("org.kde.KWin"), 60, "kwin_x11 on the bus")
        self.plasmashell = self.spawn("plasmashell", ["plasmashell"])
        wait_until(lambda: self._alive() and s.has_name(WATCHER) and self._host_registered(),
                   90, "plasmashell's tray registered with kded5's StatusNotifierWatcher")
        self.wait_still(self.panel_strip, "the panel drawn")
        self.seconds_to_ready = monotonic() - started

    def _alive(self) -> bool:
        code = self.plasmashell.poll()
        assert code is None, f"plasmashell exited with {code}: {self.log_tail('plasmashell')}"
        return True

    def _host_registered(self) -> bool:
        try:
            return self.session.get_property(WATCHER, "/StatusNotifierWatcher", WATCHER,
                                             "IsStatusNotifierHostRegistered") is True
        except BusError:
            return False

    def watcher_command(self) -> str:
        return command_line(self.session.name_owner_pid(WATCHER))

    def notification_server(self) -> str:
        return command_line(self.session.name_owner_pid("org.freedesktop.Notifications"))


@contextmanager
def running_kde_desktop(session: UserSession) -> Iterator[KdeDesktop]:
    desktop = KdeDesktop(session)
    try:
        desktop.start()
        yield desktop
    finally:
        session.stop()
