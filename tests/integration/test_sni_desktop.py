"""The tray on a real StatusNotifierItem desktop: headless sway + waybar + mako.

waybar's tray module is the StatusNotifierWatcher and the host that draws the icon and its
menu; mako is the notification server (tests/desktops/sway.py). Everything runs as an
unprivileged user on a private session bus. The app is the project's wheel in a plain venv
(no system site-packages, no PyGObject), as pipx / uv install it, started as
``ecr-token-tray``. Its HOME holds three ECR logins (10 min left, expired 1 h ago, 9 h
left) and static keys for the default profile; ECR's API is the local stand-in, and a
refresh runs the real ``docker login`` against the TLS registry stand-in behind a CONNECT
proxy. Automatic renewal is off, so every refresh seen is one the test asked for.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest
from PIL import Image, ImageChops

from tests import figures
from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.app import (
    APP_ID,
    EXPIRED,
    LATER,
    REGION_OF,
    imports_pygobject,
    password_in,
    realistic_home,
    refreshed,
    registry_row,
    start_app,
)
from tests.desktops.session import (
    monotonic,
    remove_folder,
    user_session,
    world_readable_folder,
)
from tests.desktops.sway import (
    BAR_HEIGHT,
    LEFT_BUTTON,
    RIGHT_BUTTON,
    TRAY_ICON_AT,
    build_virtual_pointer,
    missing_tools,
    running_sway_desktop,
)

pytestmark = [
    pytest.mark.sni_desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs sway, waybar and mako: missing {', '.join(missing_tools())}"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI"),
]

CRITICAL = 2  # the freedesktop urgency hint: 0 low, 1 normal, 2 critical
MENU_LABELS = ("Refresh all expiring", "Renew automatically", "Start at login",
               "Open config file", "Open log", "Quit")


@pytest.fixture(scope="module")
def virtual_pointer():
    folder = world_readable_folder("ecr-tray-vptr-")
    try:
        yield build_virtual_pointer(folder)
    finally:
        remove_folder(folder)


@pytest.fixture
def desktop(request, virtual_pointer, screenshots, tmp_path):
    name = f"sway-{request.node.name.removeprefix('test_')[:40]}"
    with user_session(name, screenshots, tmp_path / "logs") as session, \
            running_sway_desktop(session, virtual_pointer) as running:
        figures.record("sway+waybar+mako ready (s)", round(running.seconds_to_ready, 2))
        yield running


@pytest.fixture
def tray(desktop, desktop_lab, plain_app_venv):
    """The app in a realistic HOME, docked: (app, home, item)."""
    home = realistic_home(desktop.session, desktop_lab)
    app = start_app(desktop.session, plain_app_venv, desktop.app_env, desktop_lab)
    try:
        item = app.wait_for_item()
        figures.record("start to item registered with waybar (s)",
                       round(monotonic() - app.started_at, 2))
        yield app, home, item
    finally:
        app.stop()


def changed_area(before, after) -> tuple[int, int, int, int] | None:
    with Image.open(before) as first, Image.open(after) as second:
        return ImageChops.difference(first.convert("RGB"), second.convert("RGB")).getbbox()


def ocr(path, box, scratch) -> str | None:
    """The text tesseract reads in ``box`` (None when tesseract is not installed)."""
    if shutil.which("tesseract") is None:
        return None
    crop = scratch / "ocr-crop.png"
    with Image.open(path) as image:
        image.crop(box).resize(((box[2] - box[0]) * 2, (box[3] - box[1]) * 2)).save(crop)
    result = subprocess.run(["tesseract", str(crop), "-", "--psm", "6"], capture_output=True,
                            text=True, timeout=60, check=False)
    return result.stdout


def test_the_plain_venv_is_what_pipx_and_uv_give(plain_app_venv):
    config = (plain_app_venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    assert not imports_pygobject(plain_app_venv)


def test_the_item_docks_with_pixmaps_and_a_right_click_shows_its_menu(desktop, tray):
    app, _home, item = tray
    assert item.props["Id"] == APP_ID
    assert item.path == "/StatusNotifierItem" and item.menu_path == "/MenuBar"
    well_known = f"org.kde.StatusNotifierItem-{app.process.pid}-1"
    assert desktop.session.name_owner_pid(well_known) == app.process.pid
    sizes = sni.pixmap_sizes(item)
    assert len(sizes) >= 3 and (16, 16) in sizes, f"IconPixmap sizes: {sizes}"  # GNOME: 16 px
    # ARGB32 in network byte order: a round icon has a clear corner and an opaque centre
    assert sni.argb_alpha(item, 16, 0, 0) == 0 and sni.argb_alpha(item, 16, 8, 8) == 255
    wait_until(lambda: sni.item_properties(desktop.session, item.service, item.path)["Status"]
               == "NeedsAttention", 30, "Status NeedsAttention (a login has expired)")
    labels = [row.label for row in sni.menu_rows(desktop.session, item)]
    assert all(label in labels for label in MENU_LABELS), labels

    wait_until(desktop.notifications, 30, "the expiry notification")
    desktop.dismiss_notifications()  # mako's bubble sits where the menu opens
    docked = desktop.screenshot("docked")
    desktop.click(*TRAY_ICON_AT, RIGHT_BUTTON)
    menu_area = wait_until(lambda: (box := changed_area(docked, desktop.screenshot("menu")))
                           and box[3] - box[1] > 150 and box, 10,
                           "the menu to appear under waybar's tray")
    desktop.move(TRAY_ICON_AT[0] - 600, 400)  # the pointer off the icon, for the picture
    time.sleep(0.3)
    desktop.screenshot("menu")
    left, top, right, bottom = menu_area
    assert top <= BAR_HEIGHT + 10 and right > TRAY_ICON_AT[0] - 400, menu_area
    text = ocr(desktop.session.shots / "menu.png", (left, max(top, BAR_HEIGHT), right, bottom),
               desktop.session.folder)
    if text is not None:  # the rows are really drawn, readable
        assert "Quit" in text and "Refresh all expiring" in text, text
    desktop.click(20, 400)  # close the menu
    app.exited()


def test_a_left_click_opens_the_menu_too(desktop, tray):
    """waybar honours ItemIsMenu: a left click opens the menu as before, although Activate
    now answers an error (for KDE Plasma: tests/integration/test_kde_desktop.py)."""
    app, _home, _item = tray
    wait_until(desktop.notifications, 30, "the expiry notification")
    desktop.dismiss_notifications()  # mako's bubble sits where the menu opens
    desktop.move(TRAY_ICON_AT[0] - 600, 400)
    time.sleep(0.3)
    docked = desktop.screenshot("docked-left")
    desktop.click(*TRAY_ICON_AT, LEFT_BUTTON)
    menu_area = wait_until(lambda: (box := changed_area(docked, desktop.screenshot("menu-left")))
                           and box[3] - box[1] > 150 and box, 10,
                           "the menu to appear on a left click")
    desktop.move(TRAY_ICON_AT[0] - 600, 400)  # as for the right click: the final picture
    time.sleep(0.3)
    desktop.screenshot("menu-left")
    left, top, right, bottom = menu_area
    text = ocr(desktop.session.shots / "menu-left.png",
               (left, max(top, BAR_HEIGHT), right, bottom), desktop.session.folder)
    if text is not None:
        assert "Quit" in text and "Refresh all expiring" in text, text
    desktop.click(20, 400)  # close the menu
    app.exited()


def test_clicking_a_registry_row_refreshes_it_against_the_ecr_endpoint(desktop, tray,
                                                                       desktop_lab):
    app, home, item = tray
    calls_before = desktop_lab.endpoint.calls_by_region()[REGION_OF[LATER]]
    old_password = password_in(home, LATER)
    row = registry_row(sni.menu_rows(desktop.session, item), LATER)
    sni.click_row(desktop.session, item, row)
    wait_until(lambda: refreshed(desktop_lab, home, LATER, calls_before), 90,
               f"the refresh of {LATER} started from its menu row")
    assert password_in(home, LATER) != old_password
    # the row's id is stable across the rebuild, and the row now tells 12 h
    wait_until(lambda: "11h" in registry_row(sni.menu_rows(desktop.session, item), LATER).label
               or "12h" in registry_row(sni.menu_rows(desktop.session, item), LATER).label,
               30, "the row to show the new expiry")
    assert registry_row(sni.menu_rows(desktop.session, item), LATER).id == row.id
    secrets = desktop_lab.secrets()
    texts = [app.output(), *(p.read_text(errors="replace")
                             for p in home.root.rglob("*.log"))]
    texts.append((desktop.session.logs / "notify-monitor.log").read_text(errors="replace"))
    assert not [s for s in secrets for text in texts if s in text], "a secret leaked"


def test_the_expiry_notification_is_critical_with_actions_and_its_action_refreshes(
        desktop, tray, desktop_lab):
    app, home, _item = tray

    def expiry_bubble():
        return next((n for n in desktop.notifications()
                     if n.get("app-name") == APP_ID and "login" in (n.get("actions") or {})),
                    None)

    bubble = wait_until(expiry_bubble, 30, "the expiry notification in mako with a login action")
    assert bubble["actions"]["login"] == "Log in again"
    sent = [c for c in desktop.notify_calls() if c["summary"] == bubble["summary"]]
    assert sent and sent[-1]["urgency"] == CRITICAL, sent
    assert "262626262626 eu-west-1" in f"{bubble['summary']} {bubble['body']}"
    desktop.screenshot("notification")

    calls_before = desktop_lab.endpoint.calls_by_region()[REGION_OF[EXPIRED]]
    desktop.invoke(bubble["id"], "login")
    wait_until(lambda: refreshed(desktop_lab, home, EXPIRED, calls_before), 90,
               "the refresh the notification's action started")
    app.exited()


def test_the_item_registers_again_when_waybar_restarts(desktop, tray):
    app, _home, item = tray
    desktop.restart_waybar()
    again = app.wait_for_item()  # a new waybar knows no items: the app registered again
    assert desktop.session.name_owner_pid(again.service) == app.process.pid  # the same app
    assert again.path == item.path
    assert "Quit" in [row.label for row in sni.menu_rows(desktop.session, again)]


def test_quit_from_the_menu_exits_0_and_unregisters(desktop, tray):
    app, home, item = tray
    sni.click_row(desktop.session, item, sni.row_starting(sni.menu_rows(desktop.session, item),
                                                          "Quit"))
    assert app.process.wait(30) == 0, app.output()[-3000:]
    assert sni.find_item(desktop.session, APP_ID) is None
    assert app.new_files() == []
    assert not app.descendants_left()
    assert "tray stopped" in _app_log(home)


def test_sigterm_exits_0_and_leaves_nothing_behind(desktop, tray):
    app, home, _item = tray
    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(30) == 0, app.output()[-3000:]
    assert app.new_files() == []  # no temp icon file, no socket, nothing
    assert not app.descendants_left()
    assert sni.find_item(desktop.session, APP_ID) is None
    assert "tray stopped" in _app_log(home)
    assert "Traceback" not in app.output()


def _app_log(home) -> str:
    logs = list((home.state_dir / "log").glob("*.log"))
    return "".join(path.read_text(errors="replace") for path in logs)
