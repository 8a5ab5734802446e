"""Where a menu click runs (issue 18, defect 7): on the one action worker, for every front end.

"Start at login" in an i3 session with graphical-session.target runs `systemctl --user`
(up to 10 s per call on a busy user manager). Here that systemctl is the stand-in of
tests/stand_ins/systemctl.py in hold mode: it waits until the test releases it, so the test
looks at the tray while the click is still running, and nothing depends on a duration.
- native tray (StatusNotifierItem on a private D-Bus): the bus keeps answering, and a second
  click waits for the first instead of running beside it;
- pystray gtk (Xvfb + trayer, real GTK): the icon's menu still opens while systemctl runs.
(The pystray darwin path: tests/unit/test_macos_threads.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop import missing_tools, running_desktop, wait_until
from tests.stand_ins.systemctl import fake_systemctl, waiting_calls

pytest.importorskip("dbus_fast")
from dbus_fast import Variant

from tests.integration.test_desktop import _gtk_available, icon_line, open_menu
from tests.integration.test_native_tray import (
    ITEM,
    ITEM_INTERFACE,
    MENU,
    MENU_INTERFACE,
    session_on_private_bus,
)

UNIT = Path(".config/systemd/user/ecr-token-tray.service")


def held_systemctl(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(systemctl folder, release file, env of an i3 session that uses systemd)."""
    folder, release = tmp_path / "systemd", tmp_path / "release"
    fake_systemctl(folder, "active", hold=release)
    env = {"PATH": f"{folder}:{os.environ['PATH']}", "I3SOCK": str(tmp_path / "i3.sock"),
           "XDG_CURRENT_DESKTOP": "i3"}
    return folder, release, env


@pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")
def test_native_tray_answers_the_bus_and_serialises_clicks_while_systemctl_runs(home,
                                                                                tmp_path):
    home.app_config("[renew]\nautomatic = false\n")
    systemd, release, env = held_systemctl(tmp_path)
    with session_on_private_bus(home, tmp_path / "session") as session:
        session.watcher.start()
        session.start_app(**env)
        session.wait_registered()
        start_at_login = session.layout()[1]["Start at login"]["id"]

        def click() -> None:
            session.panel.ok(session.item_name, MENU, MENU_INTERFACE, "Event", "isvu",
                             [start_at_login, "clicked", Variant("i", 0), 0])

        click()
        wait_until(lambda: waiting_calls(systemd), 30, "the held systemctl call")
        # the bus loop is free: the panel's calls are answered while systemctl runs
        assert session.layout()[1]["Start at login"]["id"] == start_at_login
        assert session.panel.get(session.item_name, ITEM, ITEM_INTERFACE, "Status")
        # a second click waits for the first: never two systemctl calls at once
        click()
        wait_until(lambda: "waits for toggle-autostart" in session.log()
                   or len(waiting_calls(systemd)) > 1, 30, "the tray to take the second click")
        assert waiting_calls(systemd) == ["--user is-active graphical-session.target"]
        release.touch()
        # first click: enable (is-active, write the unit, daemon-reload); second: disable
        wait_until(lambda: session.log().count("menu action toggle-autostart done") == 2, 30,
                   "both clicks to finish")
        assert (systemd / "systemctl.log").read_text().splitlines() == [
            "--user is-active graphical-session.target", "--user daemon-reload",
            "--user daemon-reload"]
        assert not (home.root / UNIT).exists()
        assert session.layout()[1]["Start at login"]["toggle-state"] == 0


@pytest.mark.desktop
@pytest.mark.skipif(bool(missing_tools()), reason="needs a headless desktop (Xvfb, trayer)")
def test_gtk_tray_menu_opens_while_a_click_waits_for_systemctl(home, tmp_path):
    if not _gtk_available():
        pytest.skip("PyGObject (gi) with GTK 3 is not installed in this Python")
    home.app_config("[renew]\nautomatic = false\n")
    systemd, release, env = held_systemctl(tmp_path)
    with running_desktop(tmp_path / "desktop") as desktop:
        output = (tmp_path / "app-output.txt").open("w")
        app = subprocess.Popen([sys.executable, "-m", "tray_app", "--debug"], cwd=home.root,
                               env=home.full_env(**desktop.env, **env, PYSTRAY_BACKEND="gtk"),
                               stdout=output, stderr=subprocess.STDOUT)
        output.close()
        try:
            wait_until(lambda: icon_line(desktop), 30, "the icon to dock into trayer")
            open_menu(desktop)
            # Up x4: from the bottom (Quit) over "Open log", "Open config file" to the row
            desktop.run("xdotool", "key", "Up", "Up", "Up", "Up", "Return")
            wait_until(lambda: waiting_calls(systemd), 30, "the held systemctl call")
            # GTK's main loop is free: the menu opens again while systemctl still runs
            open_menu(desktop)
            assert waiting_calls(systemd)
            desktop.run("xdotool", "key", "Escape")
            release.touch()
            wait_until((home.root / UNIT).exists, 30, "the systemd unit of Start at login")
            desktop.run("xdotool", "key", "Escape")
        finally:
            app.terminate()
            assert app.wait(30) == 0
    assert "Traceback" not in (tmp_path / "app-output.txt").read_text()
