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

import pytest

from tests.desktops import x11_checks
from tests.desktops.x11 import WIDTH
from tests.desktops.xfce import PACKAGES, missing_tools, running_xfce_desktop

pytestmark = [
    pytest.mark.xfce_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs XFCE ({PACKAGES}; .ci/setup.sh installs them):"
                              f" missing {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def xfce(tmp_path_factory):
    with x11_checks.desktop_for_module("xfce", "XFCE", tmp_path_factory,
                                       running_xfce_desktop) as desktop:
        yield desktop


@pytest.fixture(scope="module")
def tray(xfce, plain_app_venv):
    with x11_checks.docked_app(xfce, plain_app_venv, "XFCE") as docked:
        yield docked


def test_the_icon_docks_in_the_panel_with_its_tooltip(xfce, tray):
    assert "systray" in xfce.watcher_command() or "xfce4-panel" in xfce.watcher_command()
    _left, _top, right, bottom = tray.icon
    assert bottom <= 32 and right > WIDTH // 2, tray.icon  # in the panel, on the right
    x11_checks.tooltip_names_the_logins(tray)


def test_a_left_click_opens_the_menu_with_every_row(tray):
    x11_checks.left_click_shows_every_row(tray)
    assert "Activate" not in tray.log()  # XFCE honours ItemIsMenu: no Activate call


def test_a_right_click_opens_it_too_and_the_submenu_opens_on_screen(tray):
    x11_checks.right_click_opens_the_submenu_on_screen(tray)


def test_a_click_on_the_checkbox_reaches_the_app(tray):
    x11_checks.checkbox_click_reaches_the_app(tray)


def test_quit_from_the_menu_exits_0_and_closes_the_notifications(xfce, tray):
    x11_checks.quit_exits_0_and_closes_notifications(xfce, tray, "xfce4-notifyd")
