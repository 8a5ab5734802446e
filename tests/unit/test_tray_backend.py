"""The one backend decision (tray_app.ui.backend.decide) the tray and `doctor` share: pure,
so every desktop is a row here; the real sessions are in tests/integration."""

from __future__ import annotations

import pytest

from tray_app.ui.backend import Facts, decide, forced_backend

WATCHER = dict(session_bus=True, watcher=True, dbus_fast=True)


@pytest.mark.parametrize(("facts", "backend"), [
    (Facts("linux", wayland_display="wayland-0", **WATCHER), "native"),
    (Facts("linux", x_display=":0", xembed_tray=True, gtk=True, **WATCHER), "native"),
    (Facts("linux", x_display=":0", xembed_tray=True, gtk=True, session_bus=True,
           watcher=False, dbus_fast=True), "gtk"),
    (Facts("linux", x_display=":0", xembed_tray=False, forced="xorg",
           forced_by="PYSTRAY_BACKEND"), None),
    (Facts("linux", x_display=":0", xembed_tray=True, forced="xorg",
           forced_by="PYSTRAY_BACKEND"), "xorg"),
    (Facts("linux", wayland_display="w", dbus_fast=True, forced="native",
           forced_by="config.toml [tray] backend"), "native"),
    (Facts("darwin"), "darwin"),
    (Facts("win32"), "win32"),
])
def test_who_gets_which_backend(facts, backend):
    assert decide(facts).backend == backend


def test_an_xembed_tray_without_pygobject_names_the_command_for_this_install():
    choice = decide(Facts("linux", x_display=":0", xembed_tray=True, gtk=False,
                          gtk_problem="ModuleNotFoundError: No module named 'gi'",
                          session_bus=True, watcher=False, dbus_fast=True,
                          menu_fix="sudo apt install python3-gi && pipx install --force"
                                   " --system-site-packages ecr-token-tray"))
    assert choice.backend is None and choice.final is False
    assert choice.problem == ("no usable tray on display :0: the panel has an XEmbed system tray"
                              " but PyGObject (GTK 3) does not import (ModuleNotFoundError:"
                              " No module named 'gi')")
    assert choice.fix.endswith("pipx install --force --system-site-packages ecr-token-tray")


def test_wayland_without_a_watcher_says_what_to_enable():
    choice = decide(Facts("linux", wayland_display="wayland-1", session_bus=True,
                          watcher=False, dbus_fast=True))
    assert choice.backend is None
    assert choice.problem.startswith("no system tray on display wayland-1 (Wayland")
    assert "gnome-extensions enable ubuntu-appindicators@ubuntu.com" in choice.fix
    assert "AppIndicator and KStatusNotifierItem Support" in choice.fix
    assert "waybar" in choice.fix and "ecr-token-tray watch" in choice.fix


def test_a_forced_backend_that_cannot_work_fails_at_once():
    choice = decide(Facts("linux", x_display=":0", forced="gtk", gtk=False,
                          forced_by="PYSTRAY_BACKEND"))
    assert choice.backend is None and choice.final
    assert decide(Facts("linux", x_display=":0", forced="qt",
                        forced_by="PYSTRAY_BACKEND")).problem == \
        "PYSTRAY_BACKEND=qt is not a tray backend"


def test_the_variable_wins_over_the_config_file(monkeypatch):
    monkeypatch.setenv("PYSTRAY_BACKEND", "gtk")
    assert forced_backend("native") == ("gtk", "PYSTRAY_BACKEND")
    monkeypatch.delenv("PYSTRAY_BACKEND")
    assert forced_backend("native") == ("native", "config.toml [tray] backend")
    assert forced_backend("auto") == (None, None)
