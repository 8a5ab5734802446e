"""The tray on Ubuntu's desktop: a real, headless GNOME Shell 43 with the AppIndicator
extension (tests/desktops/gnome.py), as an unprivileged user on private buses.

The app is the same plain-venv install as on sway (no PyGObject), in the same realistic
HOME (three ECR logins, static keys, the local ECR endpoint and the TLS registry stand-in),
automatic renewal off. The top bar, the menu and the message tray are read through
``Eval``; clicks go through a Clutter virtual pointer, as a mouse's would.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests import figures
from tests.desktop import wait_until
from tests.desktops.app import (
    APP_ID,
    EXPIRED,
    LATER,
    REGION_OF,
    SOON,
    realistic_home,
    refreshed,
    start_app,
)
from tests.desktops.gnome import missing_tools, running_gnome_desktop
from tests.desktops.session import monotonic, user_session

pytestmark = [
    pytest.mark.gnome_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs GNOME Shell: missing {', '.join(missing_tools())}"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI"),
]

GNOME_CRITICAL = 3  # MessageTray.Urgency.CRITICAL
MENU_LABELS = ("Refresh all expiring", "Renew automatically", "Start at login",
               "Open config file", "Open log", "Quit")


@pytest.fixture
def gnome(request, screenshots, tmp_path):
    name = f"gnome-{request.node.name.removeprefix('test_')[:40]}"
    with user_session(name, screenshots, tmp_path / "logs") as session, \
            running_gnome_desktop(session) as running:
        figures.record("GNOME Shell ready (s)", round(running.seconds_to_ready, 2))
        # guard against passing for the wrong reason: with gjs missing, D-Bus activation
        # could hand org.freedesktop.Notifications to dunst or mako
        server = running.notification_server()
        assert "org.gnome.Shell.Notifications" in server, server
        running.dismiss_session_notices()  # GNOME shows at most 3 banners in a queue
        yield running


@pytest.fixture
def tray(gnome, desktop_lab, plain_app_venv):
    """The app in a realistic HOME, shown in the top bar: (app, home, indicator)."""
    home = realistic_home(gnome.session, desktop_lab)
    app = start_app(gnome.session, plain_app_venv, gnome.app_env, desktop_lab)
    try:
        app.wait_for_item()
        figures.record("start to item registered with GNOME Shell (s)",
                       round(monotonic() - app.started_at, 2))
        indicator = wait_until(lambda: app.exited() or ((shown := gnome.indicator(APP_ID))
                                                        and shown["iconLoaded"] and shown), 30,
                               "the indicator and its icon in GNOME's top bar")
        yield app, home, indicator
    finally:
        app.stop()


def test_the_icon_sits_in_the_top_bar_a_click_opens_its_menu_and_quit_exits_0(gnome, tray):
    app, _home, indicator = tray
    assert indicator["visible"] and indicator["title"]
    x, y, width, height = indicator["box"]
    assert y < 40 and width > 0 and height > 0, indicator["box"]  # in the top bar
    labels = wait_until(lambda: all(label in [i["label"] for i in gnome.indicator(APP_ID)["items"]]
                                    for label in MENU_LABELS)
                        and [i["label"] for i in gnome.indicator(APP_ID)["items"]], 30,
                        "the menu rows")
    assert any(label.startswith("262626262626 eu-west-1") for label in labels), labels
    gnome.dismiss_banner()  # the expiry banner stays until acted on (the other test's job)
    gnome.screenshot("docked")

    gnome.click(x + width / 2, y + height / 2)
    wait_until(lambda: gnome.indicator(APP_ID)["menuShown"], 10, "the menu to open on a click")
    time.sleep(0.3)  # a frame or two after the open animation, for the screenshot
    gnome.screenshot("menu")

    gnome.activate_row(APP_ID, "Quit")
    assert app.process.wait(30) == 0, app.output()[-3000:]
    wait_until(lambda: gnome.indicator(APP_ID) is None, 10, "the icon to leave the top bar")
    assert not app.descendants_left()


def test_a_critical_banner_arrives_and_its_action_button_refreshes(gnome, tray, desktop_lab):
    app, home, _indicator = tray
    note = wait_until(lambda: next((n for n in gnome.app_notifications(APP_ID)
                                    if "Log in again" in n["actions"]), None), 30,
                      "the expiry notification in GNOME's message tray")
    assert note["urgency"] == GNOME_CRITICAL, note
    assert "262626262626 eu-west-1" in f"{note['title']} {note['body']}"
    banner = gnome.show_banner_of(APP_ID, note["title"])
    gnome.screenshot("banner")
    button = next((b for b in banner["buttons"] if b["label"] == "Log in again"), None)
    assert button, banner

    calls_before = desktop_lab.endpoint.calls_by_region()[REGION_OF[EXPIRED]]
    x, y, width, height = button["box"]
    gnome.click(x + width / 2, y + height / 2)
    wait_until(lambda: refreshed(desktop_lab, home, EXPIRED, calls_before), 90,
               "the refresh the banner's button started")
    app.exited()


def test_a_row_click_refreshes_and_the_open_menu_follows(gnome, tray, desktop_lab):
    """GNOME's extension keeps its copy of the menu and updates it only from the item's
    signals (LayoutUpdated, ItemsPropertiesUpdated): the rows must follow a refresh."""
    app, home, _indicator = tray
    calls_before = desktop_lab.endpoint.calls_by_region()[REGION_OF[LATER]]
    gnome.activate_row(APP_ID, "272727272727 ap-southeast-2")
    wait_until(lambda: refreshed(desktop_lab, home, LATER, calls_before), 90,
               "the refresh started from the row in GNOME's menu")

    def rows_followed():
        rows = [i for i in gnome.indicator(APP_ID)["items"] if i["label"][:1].isdigit()]
        later = next(i for i in rows if i["label"].startswith("272727272727 ap-southeast-2"))
        return ("11h" in later["label"] or "12h" in later["label"]) and all(
            i["sensitive"] for i in rows) and rows

    rows = wait_until(rows_followed, 30, "GNOME's menu to show the new expiry, rows enabled")
    assert len(rows) == 3, rows
    app.exited()


def test_after_the_renewal_at_start_the_menu_rows_are_enabled_again(gnome, desktop_lab,
                                                                     plain_app_venv):
    """The default config renews what expires as the tray starts, while GNOME first reads
    the menu: its copy must not keep the rows greyed out (disabled while busy)."""
    home = realistic_home(gnome.session, desktop_lab, automatic_renewal=True)
    app = start_app(gnome.session, plain_app_venv, gnome.app_env, desktop_lab)
    try:
        wait_until(lambda: app.exited() or gnome.indicator(APP_ID), 30, "the indicator")
        wait_until(lambda: refreshed(desktop_lab, home, SOON, 0), 90,
                   "the automatic renewal of the 10-minute login")

        def renewed_rows_enabled():
            # GNOME's copy may still be the one it read before the renewal began (enabled,
            # "9m left"): wait for the copy that shows the renewed login, enabled.
            rows = [i for i in gnome.indicator(APP_ID)["items"] if i["label"][:1].isdigit()]
            soon = [i["label"] for i in rows if i["label"].startswith("252525252525 us-west-2")]
            renewed = bool(soon) and ("11h" in soon[0] or "12h" in soon[0])
            return len(rows) == 3 and renewed and all(i["sensitive"] for i in rows) and rows

        wait_until(renewed_rows_enabled, 30,
                   "GNOME's menu rows, the renewed login's among them, enabled after the renewal")
    finally:
        app.stop()

