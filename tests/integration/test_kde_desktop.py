"""The tray on a real, headless KDE Plasma 5.27: kwin_x11 and plasmashell (its System Tray
is the StatusNotifierHost and draws menus with libdbusmenu-qt; kded5 is the
StatusNotifierWatcher; plasmashell shows notifications), on Xvfb and a private session bus,
as an unprivileged user (tests/desktops/kde.py).

The app is the project's wheel in a plain venv (no PyGObject), as pipx / uv install it,
in a HOME with three ECR logins (10 min left, expired 1 h ago, 9 h left), automatic
renewal off and no AWS credentials (nothing renews). Clicks and hovers go through xdotool,
what Plasma draws is read back with tesseract. Plasma takes a while to start, so one
desktop and one app serve the module; the tests run in file order and the last one quits.

Plasma ignores ``ItemIsMenu``: a left click calls ``Activate`` and opens the menu only when
that call fails, which the app's answer makes it do. libdbusmenu-qt fills a submenu as it
opens, after Qt placed it still empty (4 px from the right edge, the first time): the app
announces each submenu with ``LayoutUpdated`` so Plasma has its rows before then.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import figures
from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.kde import PACKAGES, missing_tools, running_kde_desktop
from tests.desktops.session import user_session
from tests.desktops.x11 import HEIGHT, LEFT_BUTTON, RIGHT_BUTTON, WIDTH
from tests.desktops.x11_tray import (
    APP_ID,
    MENU_ROWS,
    REGISTRY_ROW,
    dock,
    notifications_closed_by_the_server,
)

pytestmark = [
    pytest.mark.kde_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs KDE Plasma 5 ({PACKAGES}; .ci/setup.sh installs them):"
                              f" missing {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def kde(tmp_path_factory):
    shots = Path(os.environ.get("ECR_TOKEN_TRAY_SCREENSHOTS")
                 or tmp_path_factory.mktemp("screenshots"))
    with user_session("kde", shots, tmp_path_factory.mktemp("logs")) as session, \
            running_kde_desktop(session) as desktop:
        figures.record("KDE Plasma ready (s)", round(desktop.seconds_to_ready, 1))
        session.start("notify-monitor", ["dbus-monitor", "--address", session.bus_address,
                                         "interface='org.freedesktop.Notifications'"])
        yield desktop


@pytest.fixture(scope="module")
def tray(kde, plain_app_venv):
    docked = dock(kde, plain_app_venv)
    figures.record("start to item registered with Plasma (s)",
                   round(docked.seconds_to_register, 1))
    try:
        yield docked
    finally:
        docked.app.stop()


def test_the_icon_docks_in_plasmas_tray_with_its_tooltip(kde, tray):
    assert "kded5" in kde.watcher_command()
    assert "plasmashell" in kde.notification_server()
    assert tray.item.props["Id"] == APP_ID
    _left, top, _right, bottom = tray.icon
    assert top >= HEIGHT - 44 and bottom <= HEIGHT, tray.icon  # in the bottom panel
    tip = tray.tooltip()
    # the tooltip (title + one line per login), not the notification bubble ("ECR login...")
    assert "ECR: expired" in tip.text and "252525252525" in tip.text, tip.text


def test_a_left_click_opens_the_menu_with_every_row(tray):
    menu = tray.open_menu(LEFT_BUTTON, "menu-left-click")
    assert REGISTRY_ROW.search(menu.text), menu.text
    for row in MENU_ROWS:
        assert menu.has(row), menu.text
    # Plasma called Activate (it ignores ItemIsMenu) and opened the menu on the error
    assert "Activate at" in tray.log() and "NotSupported" in tray.log()
    tray.close_menu()


def test_a_right_click_opens_it_and_the_submenu_is_on_screen_the_first_time(tray):
    menu = tray.open_menu(RIGHT_BUTTON, "menu-right-click")
    assert menu.has("Never expires"), menu.text
    submenu = tray.submenu_beside(menu, "submenu")  # the first time it opens
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


def test_quit_from_the_menu_exits_0_and_closes_the_notifications(kde, tray):
    menu = tray.open_menu(LEFT_BUTTON, "menu-quit")
    tray.click_row(menu, "Quit")
    assert tray.app.process.wait(30) == 0, tray.app.output()[-3000:]
    wait_until(lambda: sni.find_item(kde.session, APP_ID) is None, 10, "the item gone")
    assert not tray.app.descendants_left()
    monitor = kde.session.logs / "notify-monitor.log"
    asked, closed = wait_until(lambda: (found := notifications_closed_by_the_server(monitor))[1]
                               and found, 20, "plasmashell's NotificationClosed")
    assert asked and set(asked) <= set(closed), (asked, closed)
    kde.park_pointer()
    kde.screenshot("after-quit")
