"""Which tray front end this desktop gets. One decision, used by the tray and by `doctor`.

Linux, in order:
1. ``native`` (``tray_app.ui.freedesktop``) when a StatusNotifierWatcher owns its name on
   the session bus: KDE Plasma, GNOME with the AppIndicator extension, waybar, XFCE...;
2. else pystray's ``gtk`` backend (XEmbed: trayer, stalonetray, i3bar) when an X display
   has an XEmbed system tray and PyGObject with GTK 3 imports;
3. else no icon, and one line saying what to install or enable.
``PYSTRAY_BACKEND`` (appindicator, gtk, xorg) or ``[tray] backend`` in config.toml (auto,
native, gtk, appindicator, xorg) forces a choice; the variable wins over the file.
macOS and Windows always use pystray's own backend.

``gather_facts`` asks the machine (D-Bus, X, PyGObject); ``decide`` is pure. `doctor` runs
``gather_facts`` in a child interpreter (``python -m tray_app.ui.backend``), so its own
process loads none of the GUI libraries.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.settings import TRAY_BACKENDS

log = logging.getLogger(__name__)
NATIVE, GTK, APPINDICATOR, XORG = "native", "gtk", "appindicator", "xorg"
PYSTRAY_CHOICES = (GTK, APPINDICATOR, XORG)
WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"
BUS_TIMEOUT = 3.0

GNOME_HINT = ("GNOME: `gnome-extensions enable ubuntu-appindicators@ubuntu.com` (Ubuntu) or"
              " install the \"AppIndicator and KStatusNotifierItem Support\" extension")


def require_desktop() -> None:
    """Fail with one line, before any GUI import, when there is no desktop to show a tray."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise TrayAppError(
            "no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set), so no tray icon",
            f"use `{APP_NAME} status` for a table or `{APP_NAME} watch` for a live view")


def xembed_hint(menu_fix: str) -> str:
    """XEmbed trays need pystray's gtk backend, so PyGObject, which pip cannot bring."""
    return f"an XEmbed tray needs PyGObject (GTK 3): {menu_fix}"


@dataclass(frozen=True)
class Facts:
    platform: str
    x_display: str | None = None
    wayland_display: str | None = None
    session_bus: bool = False  # we could connect to the session bus
    watcher: bool | None = None  # a StatusNotifierWatcher is there (None: cannot ask)
    dbus_fast: bool = False
    xembed_tray: bool | None = None  # an XEmbed tray owns _NET_SYSTEM_TRAY_S<n> (None: no X)
    gtk: bool | None = None  # PyGObject + GTK 3 import (None: not probed)
    gtk_problem: str | None = None
    forced: str | None = None  # a backend the user forced
    forced_by: str | None = None  # "PYSTRAY_BACKEND" or the config file
    menu_fix: str = "install PyGObject (python3-gi gir1.2-gtk-3.0)"  # fits this install
    notification_server: bool | None = None  # org.freedesktop.Notifications owned/activatable


@dataclass(frozen=True)
class Choice:
    backend: str | None  # native | gtk | appindicator | xorg | darwin | win32 | None
    detail: str  # what the user gets
    problem: str | None = None  # backend None: why there is no icon
    fix: str | None = None  # backend None: what to do
    final: bool = False  # no point waiting for a panel: the choice itself cannot work


def forced_backend(config_choice: str | None) -> tuple[str | None, str | None]:
    """(backend, who forced it): PYSTRAY_BACKEND, else ``[tray] backend``, else none."""
    env = os.environ.get("PYSTRAY_BACKEND", "").strip().lower()
    if env:
        return env, "PYSTRAY_BACKEND"
    if config_choice and config_choice != "auto":
        return config_choice, "config.toml [tray] backend"
    return None, None


def decide(facts: Facts) -> Choice:
    if facts.platform == "darwin":
        return Choice("darwin", "pystray backend darwin (AppKit)")
    if facts.platform == "win32":
        return Choice("win32", "pystray backend win32")
    display = facts.x_display or facts.wayland_display
    if facts.forced:
        return _forced(facts, display)
    if facts.watcher and facts.dbus_fast:
        return Choice(NATIVE, "native StatusNotifierItem over D-Bus (a StatusNotifierWatcher is"
                      " on the session bus): icon, menu and notifications with buttons")
    if facts.x_display and facts.xembed_tray is None and not facts.wayland_display:
        return Choice(None, "", f"cannot open a tray on display {facts.x_display} (the X server"
                      " does not answer, and no StatusNotifier host is on the session bus)",
                      f"check the desktop session, or use `{APP_NAME} status` /"
                      f" `{APP_NAME} watch`", final=True)
    if facts.x_display and facts.xembed_tray:
        if facts.gtk:
            return Choice(GTK, "pystray backend gtk (XEmbed system tray): icon with a menu")
        return Choice(None, "", f"no usable tray on display {facts.x_display}: the panel has"
                      " an XEmbed system tray but PyGObject (GTK 3) does not import"
                      + (f" ({facts.gtk_problem})" if facts.gtk_problem else ""),
                      xembed_hint(facts.menu_fix))
    if not display:
        return Choice(None, "", "no graphical session (DISPLAY and WAYLAND_DISPLAY unset): the"
                      " tray icon cannot show here",
                      f"start it inside your desktop session, or use `{APP_NAME} watch`")
    if not facts.dbus_fast:
        return Choice(None, "", f"no system tray on display {display}: dbus-fast is not"
                      " installed, so the native StatusNotifierItem cannot start",
                      f"reinstall {APP_NAME} (pip install dbus-fast)")
    kind = "Wayland" if facts.wayland_display and not facts.x_display else "X11"
    return Choice(None, "", f"no system tray on display {display} ({kind}: no"
                  " StatusNotifier host on the session bus and no XEmbed tray)",
                  f"add a tray to your panel ({GNOME_HINT}; sway/Hyprland: waybar's \"tray\""
                  f" module), or use `{APP_NAME} status` / `{APP_NAME} watch`")


def _forced(facts: Facts, display: str | None) -> Choice:
    forced, by = facts.forced, facts.forced_by
    if forced == NATIVE:
        if not facts.dbus_fast:
            return Choice(None, "", f"{by} forces native, but dbus-fast is not installed",
                          f"reinstall {APP_NAME} (pip install dbus-fast)", final=True)
        waiting = "" if facts.watcher else " (no StatusNotifierWatcher yet: it registers" \
                                           " when the panel starts)"
        return Choice(NATIVE, f"native StatusNotifierItem over D-Bus, forced by {by}{waiting}")
    if forced not in PYSTRAY_CHOICES:
        return Choice(None, "", f"{by}={forced} is not a tray backend",
                      f"use one of {', '.join(TRAY_BACKENDS)}", final=True)
    if forced in (GTK, APPINDICATOR) and not facts.gtk:
        return Choice(None, "", f"{by} forces pystray's {forced} backend, but PyGObject (GTK 3)"
                      " does not import" + (f" ({facts.gtk_problem})" if facts.gtk_problem
                                            else ""), xembed_hint(facts.menu_fix), final=True)
    if forced in (GTK, XORG) and not facts.x_display:
        return Choice(None, "", f"{by} forces pystray's {forced} backend, which needs an X"
                      " display (DISPLAY is unset)", "unset it to use the native tray", final=True)
    if forced in (GTK, XORG) and facts.xembed_tray is False:
        return Choice(None, "", f"no system tray on display {facts.x_display} (no XEmbed tray"
                      f" for the {forced} backend that {by} forces)",
                      f"add a system tray to your panel, or use `{APP_NAME} status` /"
                      f" `{APP_NAME} watch`")
    if forced == XORG:
        return Choice(XORG, f"pystray backend xorg: an icon without a menu (forced by {by})")
    return Choice(forced, f"pystray backend {forced}, forced by {by}")


# --------------------------------------------------------------------------------------
# Asking the machine
# --------------------------------------------------------------------------------------
def gather_facts(config_choice: str | None = None, probe_gtk: bool | None = None) -> Facts:
    """What this session offers. ``probe_gtk``: import PyGObject here (None: only when the
    decision needs it, so the native tray never loads GTK)."""
    forced, forced_by = forced_backend(config_choice)
    if sys.platform in ("darwin", "win32"):
        return Facts(sys.platform, forced=forced, forced_by=forced_by)
    x_display = os.environ.get("DISPLAY") or None
    wayland = os.environ.get("WAYLAND_DISPLAY") or None
    xembed = xembed_tray_present() if x_display else None
    # With an XEmbed tray the gtk backend may win: ask D-Bus from a child then, so the gtk
    # tray does not carry dbus-fast and asyncio in its memory for nothing.
    in_child = bool(xembed) and "dbus_fast" not in sys.modules \
        and not getattr(sys, "frozen", False)
    has_dbus_fast, bus, watcher, notifications = (
        watcher_in_child() if in_child else watcher_on_session_bus())
    facts = Facts("linux", x_display, wayland, bus, watcher, has_dbus_fast, xembed,
                  forced=forced, forced_by=forced_by, notification_server=notifications)
    needs_gtk = probe_gtk if probe_gtk is not None else (
        forced in (GTK, APPINDICATOR) or (not forced and not (watcher and has_dbus_fast)
                                          and bool(xembed)))
    if needs_gtk:
        from tray_app.install_info import current

        gtk, problem = gtk_importable()
        facts = Facts(**{**asdict(facts), "gtk": gtk, "gtk_problem": problem,
                         "menu_fix": current().menu_fix_command()})
    return facts


def watcher_on_session_bus() -> tuple[bool, bool, bool | None, bool | None]:
    """(dbus-fast importable, session bus reachable, watcher present, notification server
    present or activatable); None: could not ask."""
    try:
        import asyncio

        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus
    except ImportError:
        return False, False, None, None

    async def ask() -> tuple[bool | None, bool | None]:
        bus = await MessageBus(bus_type=BusType.SESSION).connect()

        async def call(member: str, body: list) -> list | None:
            reply = await bus.call(Message(
                destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus", member=member,
                signature="s" if body else "", body=body))
            return reply.body if reply.message_type == MessageType.METHOD_RETURN else None

        try:
            watcher = await call("NameHasOwner", [WATCHER])
            owned = await call("NameHasOwner", [NOTIFICATIONS])
            activatable = await call("ListActivatableNames", [])
        finally:
            bus.disconnect()
        notifications = None if owned is None else bool(
            owned[0] or (activatable and NOTIFICATIONS in activatable[0]))
        return (None if watcher is None else bool(watcher[0])), notifications

    async def ask_in_time() -> tuple[bool | None, bool | None]:
        return await asyncio.wait_for(ask(), BUS_TIMEOUT)

    try:
        watcher, notifications = asyncio.run(ask_in_time())
    except Exception as error:  # no bus address, refused, timed out
        log.debug("session bus not reachable: %s", error)
        return True, False, None, None
    return True, True, watcher, notifications


def watcher_in_child() -> tuple[bool, bool, bool | None]:
    import subprocess

    code = ("import json; from tray_app.ui.backend import watcher_on_session_bus as w;"
            " print(json.dumps(w()))")
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=BUS_TIMEOUT + 10, stdin=subprocess.DEVNULL)
        found = json.loads(result.stdout.strip().splitlines()[-1])
        return bool(found[0]), bool(found[1]), found[2], found[3]
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return watcher_on_session_bus()


def xembed_tray_present() -> bool | None:
    """An XEmbed tray owns _NET_SYSTEM_TRAY_S<screen> (None: no X connection)."""
    try:
        from Xlib import X, display
    except ImportError:
        return None
    try:
        connection = display.Display()
    except Exception:  # Xlib's DisplayConnectionError and friends
        return None
    try:
        atom = connection.intern_atom(f"_NET_SYSTEM_TRAY_S{connection.get_default_screen()}")
        return connection.get_selection_owner(atom) != X.NONE
    finally:
        connection.close()


def gtk_importable() -> tuple[bool, str | None]:
    """PyGObject with GTK 3, as pystray's gtk backend needs (a missing typelib raises
    ValueError, not ImportError)."""
    saved = os.environ.get("GDK_GL")
    os.environ.setdefault("GDK_GL", "disable")  # see tray_app.ui.tray._gtk_without_opengl
    try:
        import gi
        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk  # noqa: F401
    except (ImportError, ValueError) as error:
        return False, f"{type(error).__name__}: {str(error).splitlines()[0][:100]}" \
            if str(error) else type(error).__name__
    finally:
        if saved is None:
            os.environ.pop("GDK_GL", None)
    return True, None


def main() -> None:
    """``python -m tray_app.ui.backend [CONFIG_CHOICE]``: the facts as JSON (for doctor)."""
    import warnings
    warnings.simplefilter("ignore")
    config_choice = sys.argv[1] if len(sys.argv) > 1 else None
    print(json.dumps(asdict(gather_facts(config_choice))))


if __name__ == "__main__":
    main()
