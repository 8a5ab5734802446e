"""The native tray (StatusNotifierItem + dbusmenu + Notifications) on a private session bus.

The app runs as users start it (``python -m tray_app``) in a realistic HOME, on a private
``dbus-daemon --session`` where the test plays the panel: ``tests/sni_watcher.py`` is the
StatusNotifierWatcher and ``tests.sni_support.PanelClient`` calls what a host calls
(properties, GetLayout, AboutToShow, Event) and records every signal. Clicks run the real
refresh: docker CLI, the local ECR endpoint and registry (``ecr_lab``).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.builders import docker_auth, host
from tests.desktop import missing_tools, running_desktop, wait_until
from tray_app.tokens import decode_docker_auth

pytest.importorskip("dbus_fast")
from dbus_fast import Variant

from tests.sni_support import (
    ITEM_INTERFACE,
    MENU_INTERFACE,
    PanelClient,
    Watcher,
    private_bus,
    stop,
)

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None,
                                reason="needs dbus-daemon")

EXPIRED = host("333333333333", "us-west-2")
LATER = host("444444444444", "eu-west-1")
ITEM, MENU = "/StatusNotifierItem", "/MenuBar"


class Session:
    """A private bus, the test's watcher, the panel client and the running app."""

    def __init__(self, home, folder: Path, address: str) -> None:
        self.home = home
        self.folder = folder
        self.address = address
        self.watcher = Watcher(address, folder)
        self.panel = PanelClient(address)
        self.app: subprocess.Popen | None = None
        self.tmp = folder / "tmp"
        self.tmp.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        return self.home.full_env(DBUS_SESSION_BUS_ADDRESS=self.address, DISPLAY="",
                                  WAYLAND_DISPLAY="wayland-test", TMPDIR=str(self.tmp),
                                  **extra)

    def start_app(self, *args: str, **extra: str) -> subprocess.Popen:
        output = (self.folder / "app-output.txt").open("w")
        self.app = subprocess.Popen([sys.executable, "-m", "tray_app", "--debug", *args],
                                    env=self.env(**extra), cwd=self.home.root, stdout=output,
                                    stderr=subprocess.STDOUT)
        output.close()
        return self.app

    @property
    def item_name(self) -> str:
        return f"org.kde.StatusNotifierItem-{self.app.pid}-1"

    def wait_registered(self, count: int = 1) -> str:
        wait_until(lambda: len(self.watcher.registrations()) >= count, 30,
                   "the item to register with the watcher")
        return self.watcher.registrations()[-1]

    def prop(self, name: str):
        return self.panel.get(self.item_name, ITEM, ITEM_INTERFACE, name)

    def layout(self) -> tuple[int, dict[str, dict]]:
        """(revision, {label: {"id": .., properties.., "children": {...}}})."""
        revision, root = self.panel.ok(self.item_name, MENU, MENU_INTERFACE, "GetLayout",
                                       "iias", [0, -1, []])
        return revision, _rows(root[2])

    def log(self) -> str:
        path = self.home.root / ".local/state/ecr-token-tray/log/ecr-token-tray.log"
        return path.read_text() if path.exists() else ""

    def output(self) -> str:
        return (self.folder / "app-output.txt").read_text()

    def close(self) -> None:
        if self.app is not None:
            stop(self.app)
        self.watcher.stop()
        self.panel.close()


def _rows(children) -> dict[str, dict]:
    rows = {}
    for child in children:
        item_id, properties, grandchildren = child.value
        values = {key: value.value for key, value in properties.items()}
        label = values.get("label", f"separator {item_id}")
        rows[label] = {"id": item_id, **values, "children": _rows(grandchildren)}
    return rows


def row_starting(rows: dict[str, dict], prefix: str) -> tuple[str, dict]:
    return next((label, row) for label, row in rows.items() if label.startswith(prefix))


@contextmanager
def session_on_private_bus(home, folder: Path):
    with private_bus(folder) as address:
        session = Session(home, folder, address)
        try:
            yield session
        finally:
            session.close()


@pytest.fixture
def session(home, tmp_path):
    with session_on_private_bus(home, tmp_path / "session") as running:
        yield running


def password_in(home, registry_host: str) -> str:
    document = json.loads(home.docker_config_path.read_text())
    return decode_docker_auth(document["auths"][registry_host]["auth"]).password


# --------------------------------------------------------------------------------------
# The item
# --------------------------------------------------------------------------------------
def test_the_item_registers_and_shows_icon_tooltip_and_status(home, session):
    from PIL import Image

    from tray_app.ui.icon import icon_for

    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)},
                        LATER: {"auth": docker_auth(540)}})
    home.app_config("[renew]\nautomatic = false\n")
    session.watcher.start()
    session.start_app()
    assert session.wait_registered() == ITEM
    assert session.item_name in session.panel.names()
    # the object path, from the connection that owns the item's well-known name
    assert session.watcher.registered_by()[-1] == (ITEM, session.panel.owner(session.item_name))
    wait_until(lambda: "333333333333" in session.prop("ToolTip")[3], 30, "the tooltip")

    assert session.prop("Id") == "ecr-token-tray"
    assert session.prop("Category") == "ApplicationStatus"
    assert session.prop("Title") == "ECR token tray"
    assert session.prop("Status") == "NeedsAttention"  # a login has expired
    assert session.prop("ItemIsMenu") is True
    assert session.prop("Menu") == MENU
    _, _, title, text = session.prop("ToolTip")
    assert title.startswith("ECR: expired") and "333333333333 us-west-2" in title
    assert text.splitlines()[0].startswith("333333333333 us-west-2: expired")
    assert text.splitlines()[1].startswith("444444444444 eu-west-1: 8h")

    pixmaps = session.prop("IconPixmap")
    assert [(w, h) for w, h, _ in pixmaps] == [(s, s) for s in (16, 22, 24, 32, 48, 64)]
    for width, height, data in pixmaps:
        assert len(data) == width * height * 4
    # ARGB32 in network byte order: byte 0 alpha, then red, green, blue
    width, height, data = pixmaps[-1]
    argb = Image.frombytes("RGBA", (width, height), bytes(data))
    alpha, red, green, blue = argb.split()
    shown = Image.merge("RGBA", (red, green, blue, alpha))
    from tests.builders import in_  # noqa: F401  (the snapshot below is the app's own)
    assert shown.getpixel((32, 32))[3] == 255  # the centre of the disc is opaque
    assert shown.getpixel((0, 0))[3] == 0  # the corner is transparent
    assert icon_for(None, 64).size == (64, 64)

    # clicks on the icon never start anything (the item is a menu); Activate answers an
    # error, on which KDE Plasma (it ignores ItemIsMenu) opens the menu instead
    reply = session.panel.call(session.item_name, ITEM, ITEM_INTERFACE, "Activate", "ii",
                               [10, 10])
    assert reply.error_name == "org.freedesktop.DBus.Error.NotSupported", reply.body
    assert "ItemIsMenu" in reply.body[0]
    session.panel.ok(session.item_name, ITEM, ITEM_INTERFACE, "SecondaryActivate", "ii",
                     [10, 10])
    assert "Refreshing" not in session.log()
    assert session.app.poll() is None


def test_menu_layout_ids_and_a_click_that_refreshes_for_real(home, ecr_lab, session):
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)},
                        LATER: {"auth": docker_auth(540)}})
    home.app_config("[renew]\nautomatic = false\n")
    session.watcher.start()
    session.start_app()
    session.wait_registered()
    wait_until(lambda: any(label.startswith("333333333333") for label in session.layout()[1]),
               30, "the registry rows in the menu")
    assert session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "AboutToShow", "i",
                            [0]) == [False]
    _, rows = session.layout()
    labels = list(rows)
    assert labels[0].startswith("333333333333 us-west-2 - expired")
    assert labels[1].startswith("444444444444 eu-west-1 - 8h")
    for label in ("Refresh all expiring", "Renew automatically", "Start at login",
                  "Open config file", "Open log", "Quit"):
        assert label in rows
    assert rows["Renew automatically"]["toggle-type"] == "checkmark"
    assert rows["Renew automatically"]["toggle-state"] == 0  # automatic = false
    assert rows["Start at login"]["toggle-state"] == 0
    assert rows["Refresh all expiring"]["enabled"] is True
    expired_label, expired_row = row_starting(rows, "333333333333")
    assert bytes(expired_row["icon-data"]).startswith(b"\x89PNG")  # the state dot
    assert [row["type"] for label, row in rows.items() if label.startswith("separator")] \
        == ["separator"] * 3

    properties = session.panel.ok(session.item_name, MENU, MENU_INTERFACE,
                                  "GetGroupProperties", "aias",
                                  [[expired_row["id"]], ["label"]])[0]
    assert properties[0][0] == expired_row["id"]
    assert properties[0][1]["label"].value == expired_label
    (label,) = session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "GetProperty", "is",
                                [expired_row["id"], "label"])
    assert label.value == expired_label

    # a click on the expired row runs the real refresh
    from dbus_fast import Variant
    session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "Event", "isvu",
                     [expired_row["id"], "clicked", Variant("i", 0), 0])
    wait_until(lambda: password_in(home, EXPIRED) in ecr_lab.issuer.passwords, 90,
               "the clicked refresh of 333333333333 us-west-2")
    assert "us-west-2" in "".join(ecr_lab.endpoint.calls_by_region())

    # the same row keeps its id across rebuilds; its text follows
    wait_until(lambda: row_starting(session.layout()[1], "333333333333")[0] != expired_label,
               60, "the refreshed row's new text")
    _, after = session.layout()
    new_label, new_row = row_starting(after, "333333333333")
    assert new_row["id"] == expired_row["id"] and "11h" in new_label
    assert {label: row["id"] for label, row in after.items() if label in rows} \
        == {label: row["id"] for label, row in rows.items() if label in after}
    updates = session.panel.seen("ItemsPropertiesUpdated", session.panel.owner(
        session.item_name)) + session.panel.seen("LayoutUpdated")
    assert updates
    wait_until(lambda: session.prop("Status") == "Active", 30, "the status after the refresh")
    assert session.panel.seen("NewStatus")


def _submenus(children) -> dict[int, list]:
    """{id: children} of the rows of a GetLayout reply that are submenus."""
    return {child.value[0]: child.value[2] for child in children
            if child.value[1].get("children-display", Variant("s", "")).value == "submenu"}


def test_a_host_reading_one_level_at_a_time_gets_each_submenu_before_it_opens(home,
                                                                               session):
    """libdbusmenu-qt (KDE Plasma) asks GetLayout(id, 1) and fills a submenu only once it
    opens, after Qt placed it empty. A reply that leaves a submenu's rows out is followed
    by LayoutUpdated(revision, submenu), once per revision: the host fetches them first."""
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)},
                        LATER: {"auth": docker_auth(540)}})
    home.app_config("[renew]\nautomatic = false\n")
    session.watcher.start()
    session.start_app()
    session.wait_registered()
    app = session.panel.owner(session.item_name)

    def one_level() -> tuple[int, list]:
        revision, root = session.panel.ok(session.item_name, MENU, MENU_INTERFACE,
                                          "GetLayout", "iias", [0, 1, []])
        return revision, root[2]

    wait_until(lambda: _submenus(one_level()[1]), 30, "the Never expires submenu")
    revision, children = one_level()
    submenus = _submenus(children)
    assert all(rows == [] for rows in submenus.values())  # one level: no rows below

    def announced() -> list[list]:
        return [m.body for m in session.panel.seen("LayoutUpdated", app)]

    wait_until(lambda: all([revision, i] in announced() for i in submenus), 10,
               f"LayoutUpdated for the submenus {sorted(submenus)}")
    for submenu in submenus:
        _, node = session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "GetLayout",
                                   "iias", [submenu, 1, []])
        labels = [row.value[1]["label"].value for row in node[2]]
        assert labels and all(label[:12].isdigit() for label in labels), labels

    # the same revision again, or the whole tree (GTK hosts, GNOME): nothing more is sent
    count = len(announced())
    one_level()
    session.layout()
    session.prop("Id")  # a round trip: a signal sent before this reply has arrived
    assert len(announced()) == count, announced()


def test_quit_from_the_menu_ends_the_tray_with_zero(home, session):
    session.watcher.start()
    session.start_app()
    session.wait_registered()
    quit_id = session.layout()[1]["Quit"]["id"]
    from dbus_fast import Variant
    session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "Event", "isvu",
                     [quit_id, "clicked", Variant("s", ""), 0])
    assert session.app.wait(30) == 0
    assert "quit from the menu" in session.log() and "tray stopped" in session.log()


def test_the_item_registers_again_when_the_watcher_restarts_or_comes_late(home, session):
    home.app_config('[tray]\nbackend = "native"\n')  # no watcher yet: forced, it waits
    session.start_app()
    wait_until(lambda: "no StatusNotifierWatcher yet" in session.log(), 30,
               "the tray to start without a watcher")
    session.watcher.start()  # the panel starts late
    assert session.wait_registered() == ITEM
    session.watcher.stop()  # the panel restarts
    session.watcher.start()
    assert session.wait_registered() == ITEM
    assert session.app.poll() is None


# --------------------------------------------------------------------------------------
# Stopping
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_ends_the_tray_cleanly(home, session, signal_number):
    runtime = Path(home.env["XDG_RUNTIME_DIR"])
    before = sorted(p.name for p in runtime.iterdir())
    session.watcher.start()
    session.start_app()
    session.wait_registered()
    session.app.send_signal(signal_number)
    assert session.app.wait(30) == 0
    name = signal.Signals(signal_number).name
    assert f"{name} received: stopping" in session.log() and "tray stopped" in session.log()
    assert sorted(p.name for p in runtime.iterdir()) == before  # the lock file is gone too
    assert list(session.tmp.iterdir()) == []
    assert "Traceback" not in session.output()


# --------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------
def _alert(server, summary: str) -> dict:
    return wait_until(lambda: next((c for c in server.calls if c["summary"] == summary), None),
                      60, f"the notification {summary!r}")


def test_an_alert_with_buttons_runs_the_rows_refresh_and_then_replaces_its_bubble(
        home, ecr_lab, session):
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)},
                        LATER: {"auth": docker_auth(540)}})
    home.app_config("[renew]\nautomatic = false\n")
    server = session.panel.serve_notifications(["body", "actions", "body-markup"])
    session.watcher.start()
    session.start_app()
    alert = _alert(server, "ECR login 333333333333 us-west-2 expired")
    assert alert["app_name"] == "ecr-token-tray" and alert["replaces_id"] == 0
    assert alert["hints"]["urgency"] == 2  # critical: it has expired
    width, height, stride, alpha, bits, channels, pixels = alert["hints"]["image-data"]
    assert (width, height, stride, alpha, bits, channels) == (64, 64, 256, True, 8, 4)
    assert len(pixels) == 64 * 64 * 4
    assert alert["actions"] == ["default", "Log in again", "login", "Log in again"]
    # the action first, then the details (short: mako cuts long bodies)
    assert alert["body"] == "Press Log in again to renew.\n333333333333 us-west-2 expired"

    session.panel.in_loop(server.ActionInvoked, alert["id"], "login")  # the user presses it
    wait_until(lambda: password_in(home, EXPIRED) in ecr_lab.issuer.passwords, 90,
               "the refresh the button runs")
    done = _alert(server, "ECR logins refreshed")
    assert done["replaces_id"] == alert["id"]  # the same bubble, now saying it is done
    assert done["hints"]["urgency"] == 1 and done["actions"] == []
    assert "333333333333 us-west-2" in done["body"]


@pytest.mark.parametrize("how", ["menu", "SIGTERM", "dismissed first"])
def test_quit_closes_the_notifications_still_on_screen(home, session, how):
    """A critical bubble stays until closed, and its button would run nothing once the tray
    is gone: at Quit (menu or signal) the tray closes what it sent and is still shown."""
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)}})
    home.app_config("[renew]\nautomatic = false\n")
    server = session.panel.serve_notifications(["body", "actions"])
    session.watcher.start()
    session.start_app()
    alert = _alert(server, "ECR login 333333333333 us-west-2 expired")
    if how == "dismissed first":  # the user closed it: nothing is left to close
        session.panel.in_loop(server.NotificationClosed, alert["id"], 2)
        wait_until(lambda: session.panel.seen("NotificationClosed"), 10, "the close signal")
        session.prop("Id")  # a round trip: the app has read the signal too
    if how == "SIGTERM":
        session.app.send_signal(signal.SIGTERM)
    else:
        quit_id = session.layout()[1]["Quit"]["id"]
        session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "Event", "isvu",
                         [quit_id, "clicked", Variant("s", ""), 0])
    assert session.app.wait(30) == 0
    if how == "dismissed first":
        assert server.closed == []
    else:
        assert server.closed == [alert["id"]]
        assert "closed 1 notification(s) still shown" in session.log()
    assert "tray stopped" in session.log()


def test_a_server_without_buttons_gets_what_to_click_in_the_menu(home, session):
    from tests.stand_ins.registry import EcrLab

    EcrLab.credentials_file(home.root)  # the profile has keys: a click would renew it
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)}})
    home.app_config("[renew]\nautomatic = false\n")
    server = session.panel.serve_notifications(["body"])
    session.watcher.start()
    session.start_app()
    alert = _alert(server, "ECR login 333333333333 us-west-2 expired")
    assert alert["actions"] == []
    assert alert["body"] == ("To renew: click it in the tray menu to log in again\n"
                             "333333333333 us-west-2 expired")


@pytest.mark.desktop
@pytest.mark.skipif(bool(missing_tools()), reason="needs Xvfb and dunst")
def test_dunst_shows_the_buttons_and_its_default_action_runs_the_refresh(home, ecr_lab,
                                                                         tmp_path):
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)}})
    home.app_config("[renew]\nautomatic = false\n")
    with running_desktop(tmp_path / "desktop", with_tray=False) as desktop:
        watcher = Watcher(desktop.bus_address, tmp_path).start()
        panel = PanelClient(desktop.bus_address)
        try:
            (capabilities,) = panel.ok("org.freedesktop.Notifications",
                                       "/org/freedesktop/Notifications",
                                       "org.freedesktop.Notifications", "GetCapabilities")
            assert "actions" in capabilities  # dunst 1.9 offers buttons
            app = subprocess.Popen([sys.executable, "-m", "tray_app"], cwd=home.root,
                                   env=home.full_env(**desktop.env, WAYLAND_DISPLAY=""),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                call = wait_until(lambda: [c for c in desktop.notify_calls()
                                           if "ECR login 333333333333 us-west-2 expired" in c],
                                  60, "the alert on dunst")[0]
                assert call[0] == "ecr-token-tray"
                start = call.index("default")
                assert call[start:start + 4] == ["default", "Log in again", "login",
                                                 "Log in again"]
                monitor = desktop.notify_log.read_text()
                assert 'string "urgency"\n         variant             byte 2' in monitor
                desktop.run("dunstctl", "action", "0")  # what a click on the bubble does
                wait_until(lambda: password_in(home, EXPIRED) in ecr_lab.issuer.passwords,
                           90, "the refresh dunst's action runs")
            finally:
                assert stop(app) == 0
        finally:
            panel.close()
            watcher.stop()


@pytest.mark.desktop
@pytest.mark.skipif(bool(missing_tools()), reason="needs Xvfb and dunst")
def test_dunst_no_longer_shows_the_critical_bubble_after_quit(home, tmp_path):
    home.docker_config({EXPIRED: {"auth": docker_auth(-2880)}})
    home.app_config("[renew]\nautomatic = false\n")
    with running_desktop(tmp_path / "desktop", with_tray=False) as desktop:
        watcher = Watcher(desktop.bus_address, tmp_path).start()
        try:
            app = subprocess.Popen([sys.executable, "-m", "tray_app"], cwd=home.root,
                                   env=home.full_env(**desktop.env, WAYLAND_DISPLAY=""),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until(lambda: desktop.run("dunstctl", "count", "displayed").strip()
                           not in ("", "0"), 60, "the critical alert on dunst's screen")
            finally:
                assert stop(app) == 0  # SIGTERM: stops like Quit
            wait_until(lambda: desktop.run("dunstctl", "count", "displayed").strip() == "0",
                       20, "dunst to take the bubble away")
            assert "member=CloseNotification" in desktop.notify_log.read_text()
        finally:
            watcher.stop()


def test_the_tray_ends_with_its_desktop_session(home, tmp_path):
    """The session bus closing (logout) ends the tray with 0, like Quit."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                               "--print-address=1"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    session = Session(home, tmp_path, address)
    try:
        session.watcher.start()
        session.start_app()
        session.wait_registered()
        session.panel.close()
        session.watcher.stop()
        stop(daemon)
        assert session.app.wait(30) == 0
        assert "the session bus closed: stopping" in session.log()
        assert "tray stopped" in session.log()
    finally:
        session.close()
        stop(daemon)
