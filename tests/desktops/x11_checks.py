"""What the XFCE and KDE Plasma tests share: one desktop and one docked app per module, and
the checks a user's clicks make on either panel. The modules keep what differs (where the
panel is, whether a left click reaches ``Activate``, which process shows notifications)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tests import figures
from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.session import UserSession, user_session
from tests.desktops.x11 import LEFT_BUTTON, RIGHT_BUTTON, WIDTH, X11Desktop
from tests.desktops.x11_tray import (
    APP_ID,
    MENU_ROWS,
    REGISTRY_ROW,
    DockedTray,
    dock,
    notifications_closed_by_the_server,
)


@contextmanager
def desktop_for_module(name: str, label: str, tmp_path_factory,
                       running: Callable[[UserSession], AbstractContextManager[X11Desktop]]
                       ) -> Iterator[X11Desktop]:
    """The desktop, its ready time as a figure, and a monitor of notification traffic."""
    shots = Path(os.environ.get("ECR_TOKEN_TRAY_SCREENSHOTS")
                 or tmp_path_factory.mktemp("screenshots"))
    with user_session(name, shots, tmp_path_factory.mktemp("logs")) as session, \
            running(session) as desktop:
        figures.record(f"{label} ready (s)", round(desktop.seconds_to_ready, 1))
        session.start("notify-monitor", ["dbus-monitor", "--address", session.bus_address,
                                         "interface='org.freedesktop.Notifications'"])
        yield desktop


@contextmanager
def docked_app(desktop: X11Desktop, venv: Path, label: str) -> Iterator[DockedTray]:
    docked = dock(desktop, venv)
    figures.record(f"start to item registered with {label} (s)",
                   round(docked.seconds_to_register, 1))
    try:
        yield docked
    finally:
        docked.app.stop()


def tooltip_names_the_logins(tray: DockedTray) -> None:
    assert tray.item.props["Id"] == APP_ID
    tip = tray.tooltip()
    # the tooltip (title + one line per login), not the notification bubble ("ECR login...")
    assert "ECR: expired" in tip.text and "252525252525" in tip.text, tip.text


def left_click_shows_every_row(tray: DockedTray) -> None:
    menu = tray.open_menu(LEFT_BUTTON, "menu-left-click")
    assert REGISTRY_ROW.search(menu.text), menu.text
    for row in MENU_ROWS:
        assert menu.has(row), menu.text
    tray.close_menu()


def right_click_opens_the_submenu_on_screen(tray: DockedTray) -> None:
    menu = tray.open_menu(RIGHT_BUTTON, "menu-right-click")
    assert menu.has("Never expires"), menu.text
    submenu = tray.submenu_beside(menu, "submenu")  # the first time it opens
    left, _top, right, _bottom = submenu.box
    assert left >= 0 and right <= WIDTH and right - left > 150, submenu.box
    assert "272727272727 ap-southeast-2" in submenu.text, submenu.text
    tray.close_menu()


def checkbox_click_reaches_the_app(tray: DockedTray) -> None:
    assert tray.row("Start at login").props.get("toggle-state") == 0
    menu = tray.open_menu(LEFT_BUTTON, "menu-checkbox")
    tray.click_row(menu, "Start")
    wait_until(lambda: tray.row("Start at login").props.get("toggle-state") == 1, 30,
               "Start at login checked")
    tray.desktop.park_pointer()


def quit_exits_0_and_closes_notifications(desktop: X11Desktop, tray: DockedTray,
                                          server: str) -> None:
    menu = tray.open_menu(LEFT_BUTTON, "menu-quit")
    tray.click_row(menu, "Quit")
    assert tray.app.process.wait(30) == 0, tray.app.output()[-3000:]
    wait_until(lambda: sni.find_item(desktop.session, APP_ID) is None, 10, "the item gone")
    assert not tray.app.descendants_left()
    monitor = desktop.session.logs / "notify-monitor.log"
    asked, closed = wait_until(lambda: (found := notifications_closed_by_the_server(monitor))[1]
                               and found, 20, f"{server}'s NotificationClosed")
    assert asked and set(asked) <= set(closed), (asked, closed)
    desktop.park_pointer()
    desktop.screenshot("after-quit")
