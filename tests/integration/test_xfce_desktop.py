"""The tray on a real, headless XFCE 4.18: xfwm4, xfce4-panel with its systray plugin (the
StatusNotifierWatcher and host, menus drawn by libdbusmenu-gtk3) and xfce4-notifyd, on Xvfb
and a private session bus, as an unprivileged user (tests/desktops/xfce.py).

The app is the project's wheel in a plain venv (no PyGObject), as pipx / uv install it,
in a HOME with three ECR logins (10 min left, expired 1 h ago, 9 h left), automatic
renewal off and no AWS credentials (nothing renews). Everything is done as a user does it:
clicks and hovers with xdotool, what the panel draws read back with tesseract. One desktop
and one app for the module (XFCE starts in a few seconds, but the steps build on each
other); the tests run in file order and the last one quits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import figures
from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.session import user_session
from tests.desktops.x11 import LEFT_BUTTON, RIGHT_BUTTON, WIDTH
from tests.desktops.x11_tray import (
    APP_ID,
    MENU_ROWS,
    REGISTRY_ROW,
    dock,
    notifications_closed_by_the_server,
)
from tests.desktops.xfce import PACKAGES, missing_tools, running_xfce_desktop

pytestmark = [
    pytest.mark.xfce_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs XFCE ({PACKAGES}; .ci/setup.sh installs them):"
                              f" missing {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def xfce(tmp_path_factory):
    shots = Path(os.environ.get("ECR_TOKEN_TRAY_SCREENSHOTS")
                 or tmp_path_factory.mktemp("screenshots"))
    with user_session("xfce", shots, tmp_path_factory.mktemp("logs")) as session, \
            running_xfce_desktop(session) as desktop:
        figures.record("XFCE ready (s)", round(desktop.seconds_to_ready, 1))
        session.start("notify-monitor", ["dbus-monitor", "--address", session.bus_address,
                                         "interface='org.freedesktop.Notifications'"])
        yield desktop


@pytest.fixture(scope="module")
def tray(xfce, plain_app_venv):
    docked = dock(xfce, plain_app_venv)
    figures.record("start to item registered with XFCE (s)",
                   round(docked.seconds_to_register, 1))
    try:
        yield docked
    finally:
        docked.app.stop()


def test_the_icon_docks_in_the_panel_with_its_tooltip(xfce, tray):
    assert "systray" in xfce.watcher_command() or "xfce4-panel" in xfce.watcher_command()
    assert tray.item.props["Id"] == APP_ID
    _left, _top, right, bottom = tray.icon
    assert bottom <= 32 and right > WIDTH // 2, tray.icon  # in the panel, on the right
    tip = tray.tooltip()
    # the tooltip (title + one line per login), not the notification bubble ("ECR login...")
    assert "ECR: expired" in tip.text and "252525252525" in tip.text, tip.text


def test_a_left_click_opens_the_menu_with_every_row(tray):
    menu = tray.open_menu(LEFT_BUTTON, "menu-left-click")
    assert REGISTRY_ROW.search(menu.text), menu.text
    for row in MENU_ROWS:
        assert menu.has(row), menu.text
    assert "Activate" not in tray.log()  # XFCE honours ItemIsMenu: no Activate call
    tray.close_menu()


def test_a_right_click_opens_it_too_and_the_submenu_opens_on_screen(tray):
    menu = tray.open_menu(RIGHT_BUTTON, "menu-right-click")
    assert menu.has("Never expires"), menu.text
    submenu = tray.submenu_beside(menu, "submenu")
    left, _top, right, _bottom = submenu.box
    assert left >= 0 and right <= WIDTH and right - left > 150, submenu.box
    assert "272727272727 ap-southeast-2" in submenu.text, submenu.text
    tray.close_menu()


def test_a_click_on_the_checkbox_reaches_the_app(tray):
    assert tray.row("Start at login").props.get("toggle-state") == 0
    menu = tray.open_menu(LEFT_BUTTON, "menu-checkbox")
    tray.click_row(menu, "Start")
    wait_until(lambda: tray.row("Start at login").props.get("toggle-state") == 1, 30,
               "Start at login checked")
    tray.desktop.park_pointer()


def test_quit_from_the_menu_exits_0_and_closes_the_notifications(xfce, tray):
    menu = tray.open_menu(LEFT_BUTTON, "menu-quit")
    tray.click_row(menu, "Quit")
    assert tray.app.process.wait(30) == 0, tray.app.output()[-3000:]
    assert sni.find_item(xfce.session, APP_ID) is None
    assert not tray.app.descendants_left()
    monitor = xfce.session.logs / "notify-monitor.log"
    asked, closed = wait_until(lambda: (found := notifications_closed_by_the_server(monitor))[1]
                               and found, 20, "xfce4-notifyd's NotificationClosed")
    assert asked and set(asked) <= set(closed), (asked, closed)
    xfce.park_pointer()
    xfce.screenshot("after-quit")
