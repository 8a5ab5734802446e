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

import pytest

from tests.desktops import x11_checks
from tests.desktops.kde import PACKAGES, missing_tools, running_kde_desktop
from tests.desktops.x11 import HEIGHT

pytestmark = [
    pytest.mark.kde_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs KDE Plasma 5 ({PACKAGES}; .ci/setup.sh installs them):"
                              f" missing {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def kde(tmp_path_factory):
    with x11_checks.desktop_for_module("kde", "KDE Plasma", tmp_path_factory,
                                       running_kde_desktop) as desktop:
        yield desktop


@pytest.fixture(scope="module")
def tray(kde, plain_app_venv):
    with x11_checks.docked_app(kde, plain_app_venv, "Plasma") as docked:
        yield docked


def test_the_icon_docks_in_plasmas_tray_with_its_tooltip(kde, tray):
    assert "kded5" in kde.watcher_command()
    assert "plasmashell" in kde.notification_server()
    _left, top, _right, bottom = tray.icon
    assert top >= HEIGHT - 44 and bottom <= HEIGHT, tray.icon  # in the bottom panel
    x11_checks.tooltip_names_the_logins(tray)


def test_a_left_click_opens_the_menu_with_every_row(tray):
    x11_checks.left_click_shows_every_row(tray)
    # Plasma called Activate (it ignores ItemIsMenu) and opened the menu on the error
    assert "Activate at" in tray.log() and "NotSupported" in tray.log()


def test_a_right_click_opens_it_and_the_submenu_is_on_screen_the_first_time(tray):
    x11_checks.right_click_opens_the_submenu_on_screen(tray)


def test_a_click_on_the_checkbox_reaches_the_app(tray):
    x11_checks.checkbox_click_reaches_the_app(tray)


def test_quit_from_the_menu_exits_0_and_closes_the_notifications(kde, tray):
    x11_checks.quit_exits_0_and_closes_notifications(kde, tray, "plasmashell")
