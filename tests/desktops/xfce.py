"""XFCE 4.18, headless: Xvfb + xfwm4 + xfce4-panel + xfce4-notifyd on a private bus.

The panel's ``systray`` plugin (run out of process, ``panel-2-systray``) is both the
``org.kde.StatusNotifierWatcher`` and the host that draws SNI icons and their menus
(libdbusmenu-gtk3); xfce4-notifyd shows notifications. The panel is ours: one 32 px panel
at the top with an expanding separator and the systray plugin, no clock (it would change
the panel's pixels every minute). Pitfalls: ``xfce4-panel -d`` (do not wait for a window
manager), ``xfwm4 --compositor=off``, and xfce4-notifyd started by hand (mako, dunst and
it all ship a D-Bus activation file for ``org.freedesktop.Notifications``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.desktop import wait_until
from tests.desktops.session import UserSession, command_line, monotonic
from tests.desktops.x11 import WIDTH, X11Desktop, missing_x11_tools

NOTIFYD = Path("/usr/lib/x86_64-linux-gnu/xfce4/notifyd/xfce4-notifyd")
TOOLS = ("xfwm4", "xfce4-panel")
PACKAGES = "xfce4-panel xfwm4 xfce4-notifyd xfconf"
PANEL_HEIGHT = 32
PANEL_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="{PANEL_HEIGHT}"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
        <value type="int" value="2"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator">
      <property name="expand" type="bool" value="true"/>
      <property name="style" type="uint" value="0"/>
    </property>
    <property name="plugin-2" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
    </property>
  </property>
</channel>
"""


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not NOTIFYD.exists():
        missing.append("xfce4-notifyd")
    return missing + missing_x11_tools()


class XfceDesktop(X11Desktop):
    desktop_name = "XFCE"
    panel_strip = (0, 0, WIDTH, PANEL_HEIGHT)

    def start(self) -> None:
        s = self.session
        started = monotonic()
        channel = s.home / ".config/xfce4/xfconf/xfce-perchannel-xml"
        channel.mkdir(parents=True)
        (channel / "xfce4-panel.xml").write_text(PANEL_XML)
        self.start_display_and_bus()
        self.spawn("xfwm4", ["xfwm4", "--compositor=off"])
        self.notifyd = self.spawn("xfce4-notifyd", [str(NOTIFYD)])
        wait_until(lambda: s.name_owner_pid("org.freedesktop.Notifications")
                   == self.notifyd.pid, 30, "xfce4-notifyd to own org.freedesktop.Notifications")
        self.panel = self.spawn("xfce4-panel", ["xfce4-panel", "-d"])
        wait_until(lambda: s.has_name("org.kde.StatusNotifierWatcher"), 60,
                   "the panel's systray plugin to own org.kde.StatusNotifierWatcher")
        self.wait_still(self.panel_strip, "the panel drawn")
        self.seconds_to_ready = monotonic() - started

    def watcher_command(self) -> str:
        return command_line(self.session.name_owner_pid("org.kde.StatusNotifierWatcher"))


@contextmanager
def running_xfce_desktop(session: UserSession) -> Iterator[XfceDesktop]:
    desktop = XfceDesktop(session)
    try:
        desktop.start()
        yield desktop
    finally:
        session.stop()
