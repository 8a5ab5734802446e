"""The app's icon on an X11 panel (XFCE, KDE Plasma), driven as a user would: found by
what changed in the panel when the app started, clicked and hovered with xdotool, its
menus and tooltip read back from screenshots with tesseract."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.app import APP_ID, RunningApp, offline_home, start_app
from tests.desktops.session import monotonic
from tests.desktops.x11 import (
    HEIGHT,
    WIDTH,
    Box,
    Shown,
    X11Desktop,
    centre,
    changed_box,
    read_words,
    reddest_change,
)

MENU_ROWS = ("Refresh all expiring", "Renew automatically", "Start at login", "Open log",
             "Quit")
REGISTRY_ROW = re.compile(r"252525252525 us-west-2 - \d+m left")
SUBMENU = "Never"  # "Never expires: use ecr-login", a submenu of the two plain logins


@dataclass
class DockedTray:
    desktop: X11Desktop
    app: RunningApp
    item: sni.Item
    icon: Box
    seconds_to_register: float

    @property
    def menu_region(self) -> Box:
        """Where menus and tooltips open: the screen except the panel."""
        top, bottom = self.desktop.panel_strip[1], self.desktop.panel_strip[3]
        return (0, bottom, WIDTH, HEIGHT) if top == 0 else (0, 0, WIDTH, top)

    def open_menu(self, button: int, name: str) -> Shown:
        before = self.desktop.screenshot(f"before-{name}")
        self.desktop.click(*centre(self.icon), button)
        return self.desktop.appeared(before, name, self.menu_region, 150)

    def close_menu(self) -> None:
        self.desktop.key("Escape")
        time.sleep(0.3)
        self.desktop.key("Escape")  # a submenu takes one more
        self.desktop.park_pointer()
        time.sleep(1.0)

    def tooltip(self) -> Shown:
        self.desktop.park_pointer()
        time.sleep(1.0)
        before = self.desktop.screenshot("before-tooltip")
        self.desktop.move(*centre(self.icon))
        return self.desktop.appeared(before, "tooltip", self.menu_region, 14, timeout=30)

    def submenu_beside(self, menu: Shown, name: str) -> Shown:
        """Hover the submenu row; what then appears left or right of the menu."""
        self.desktop.move(*menu.word(SUBMENU).centre)
        left, _top, right, _bottom = menu.box
        sides = [(0, 0, left, HEIGHT), (right, 0, WIDTH, HEIGHT)]

        def shown() -> Shown | None:
            shot = self.desktop.screenshot(name)
            for side in sides:
                if side[2] - side[0] < 2:
                    continue
                box = changed_box(menu.shot, shot, side)
                if box and box[3] - box[1] >= 30:
                    time.sleep(0.5)
                    shot = self.desktop.screenshot(name)
                    box = changed_box(menu.shot, shot, side) or box
                    return Shown(box, shot, tuple(read_words(shot, box,
                                                             self.desktop.session.folder)))
            return None

        return wait_until(shown, 20, "the submenu beside the menu", 0.5)

    def click_row(self, menu: Shown, word: str) -> None:
        self.desktop.click(*menu.word(word).centre)

    def row(self, prefix: str) -> sni.MenuRow:
        return sni.row_starting(sni.menu_rows(self.desktop.session, self.item), prefix)

    def log(self) -> str:
        path = self.desktop.session.home / ".local/state/ecr-token-tray/log/ecr-token-tray.log"
        return path.read_text(errors="replace") if path.exists() else ""


def dock(desktop: X11Desktop, venv: Path) -> DockedTray:
    """The app in a HOME with three logins; returns once its icon is drawn in the panel."""
    offline_home(desktop.session)
    desktop.park_pointer()
    before = desktop.screenshot("panel-before-app")
    app = start_app(desktop.session, venv, desktop.app_env, None, "--debug")
    item = app.wait_for_item(60)
    seconds = monotonic() - app.started_at

    def icon() -> Box | None:
        box = reddest_change(before, desktop.screenshot("docked"), desktop.panel_strip)
        return box if box and box[2] - box[0] >= 12 and box[3] - box[1] >= 12 else None

    box = wait_until(lambda: app.exited() or icon(), 30, "the icon drawn in the panel", 0.5)
    return DockedTray(desktop, app, item, box, seconds)


def notifications_closed_by_the_server(monitor_log: Path) -> tuple[list[int], list[int]]:
    """From dbus-monitor's log: the ids the app asked to close (CloseNotification), and
    the ids the server then reported closed by that call (NotificationClosed reason 3)."""
    text = monitor_log.read_text(errors="replace") if monitor_log.exists() else ""
    asked, closed = [], []
    for block in re.split(r"\n(?=method call|signal|method return|error)", text):
        numbers = [int(n) for n in re.findall(r"^\s+uint32 (\d+)$", block, re.MULTILINE)]
        if "member=CloseNotification" in block and numbers:
            asked.append(numbers[0])
        elif "member=NotificationClosed" in block and len(numbers) == 2 and numbers[1] == 3:
            closed.append(numbers[0])
    return asked, closed


__all__ = ["APP_ID", "MENU_ROWS", "REGISTRY_ROW", "DockedTray", "dock",
           "notifications_closed_by_the_server"]
