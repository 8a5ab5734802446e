"""The native tray: an asyncio loop on the main thread serving the item, menu and
notifications over the session bus, fed by the scheduler both front ends share.

Threads: main (asyncio + D-Bus), the scheduler (``TrayLoop.run``), at most one refresh
worker, and the action worker of ``tray_app.service.actions`` where every menu click and
notification button runs, one at a time (a click may write files, run systemctl or start a
refresh; the bus never waits for it). The scheduler publishes a ``LoopView``; ``_apply``
(on the asyncio thread) turns the newest one into icon, tooltip, status and menu.

The item registers with ``org.kde.StatusNotifierWatcher`` at start and again whenever the
watcher gets a new owner (the panel restarted, or started after us). SIGTERM, SIGINT and
SIGHUP end the tray cleanly (exit 0), like Quit: the notifications still shown are closed.
"""

import asyncio
import logging
import os
import signal
import threading

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from tray_app.errors import TrayAppError
from tray_app.service.actions import ActionRunner
from tray_app.settings import Paths
from tray_app.ui.actions import APP_TITLE, TrayActions, autostart_view
from tray_app.ui.freedesktop.dbusmenu import DBusMenu
from tray_app.ui.freedesktop.item import ITEM_PATH, MENU_PATH, StatusNotifierItem
from tray_app.ui.freedesktop.notifications import NativeNotifier
from tray_app.ui.freedesktop.pixmaps import icon_pixmaps
from tray_app.ui.icon import icon_for, icon_inputs, tooltip_lines, tooltip_text
from tray_app.ui.loop import LoopView, TrayLoop
from tray_app.ui.menu import Action, menu_entries

log = logging.getLogger(__name__)
WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
WATCHER_RULE = ("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                f"member='NameOwnerChanged',arg0='{WATCHER}'")


def item_bus_name() -> str:
    return f"org.kde.StatusNotifierItem-{os.getpid()}-1"


def status_of(view: LoopView) -> str:
    rows = view.snapshot.registries if view.snapshot else ()
    return "NeedsAttention" if any(r.state.needs_attention for r in rows) else "Active"


class NativeTray:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.notifier = NativeNotifier(run_action=self.run_action)
        self.loop = TrayLoop(paths, self.notifier, on_view=self._show)
        self.actions = TrayActions(self.loop, paths, on_quit=self.quit)
        self.runner = ActionRunner(self.actions.dispatch,
                                   after=lambda: self._show(self.loop.view()))
        self.item = StatusNotifierItem(APP_TITLE)
        self.menu = DBusMenu(on_click=self.run_action, on_about_to_show=self._menu_opening)
        self.registered = False
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._bus: MessageBus | None = None
        self._latest: LoopView | None = None
        self._apply_scheduled = False
        self._view_lock = threading.Lock()
        self._looks: tuple | None = None
        self.exit_signal: str | None = None

    # -- life cycle --------------------------------------------------------------------------
    def run(self) -> int:
        log.info("tray starting with backend native (StatusNotifierItem over D-Bus)")
        asyncio.run(self._main())
        log.info("tray stopped%s", f" ({self.exit_signal})" if self.exit_signal else "")
        return 0

    async def _main(self) -> None:
        self._aloop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for number in STOP_SIGNALS:
            self._aloop.add_signal_handler(number, self._on_signal, number)
        try:
            bus = await MessageBus(bus_type=BusType.SESSION).connect()
        except Exception as error:
            raise TrayAppError(f"cannot connect to the session D-Bus ({type(error).__name__}:"
                               f" {error})", "start the tray inside your desktop session") from None
        self._bus = bus
        scheduler = threading.Thread(target=self.loop.run, name="ecr-token-tray-loop",
                                     daemon=True)
        try:
            bus.export(ITEM_PATH, self.item)
            bus.export(MENU_PATH, self.menu)
            await bus.request_name(item_bus_name())
            await self.notifier.attach(bus)
            await self._call_bus("AddMatch", "s", [WATCHER_RULE])
            bus.add_message_handler(self._on_bus_message)
            self._apply(self.loop.view())
            await self.register()
            scheduler.start()
            lost = asyncio.ensure_future(bus.wait_for_disconnect())
            stop = asyncio.ensure_future(self._stop.wait())
            done, _ = await asyncio.wait({lost, stop}, return_when=asyncio.FIRST_COMPLETED)
            if lost in done:  # the session bus went away: the desktop session has ended
                log.info("the session bus closed: stopping")
            for task in (lost, stop):
                task.cancel()
        finally:
            self.loop.stop()
            await asyncio.to_thread(self.runner.stop)
            if scheduler.is_alive():
                await asyncio.to_thread(scheduler.join, 5)
            await asyncio.to_thread(self.loop.join_worker)
            if bus.connected:  # nothing sends now: close what is still on screen
                await self.notifier.close_shown()
            bus.disconnect()

    def quit(self) -> None:
        """From any thread (Quit's click runs on the bus thread, a signal too)."""
        loop, stop = self._aloop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    def _on_signal(self, number: int) -> None:
        self.exit_signal = signal.Signals(number).name
        log.info("%s received: stopping", self.exit_signal)
        self._stop.set()

    # -- the watcher -------------------------------------------------------------------------
    async def register(self) -> bool:
        # The object path, as libappindicator registers: the watcher takes our unique name
        # from the message. With the bus name, GNOME's AppIndicator extension (v46) also
        # watches that name, and its first callback races the item's properties: about
        # one start in two the icon stays a grey placeholder (tests/integration/
        # test_gnome_desktop.py). waybar and KDE accept both forms.
        reply = await self._bus.call(Message(
            destination=WATCHER, path=WATCHER_PATH, interface=WATCHER,
            member="RegisterStatusNotifierItem", signature="s", body=[ITEM_PATH]))
        self.registered = reply.message_type == MessageType.METHOD_RETURN
        if self.registered:
            log.info("registered with the StatusNotifierWatcher (%s)", reply.sender)
        else:
            log.info("no StatusNotifierWatcher yet (%s): the icon shows when the panel"
                     " starts", reply.error_name)
        return self.registered

    def _on_bus_message(self, message: Message) -> None:
        if (message.message_type == MessageType.SIGNAL and message.member == "NameOwnerChanged"
                and message.sender == "org.freedesktop.DBus" and message.body
                and message.body[0] == WATCHER):
            if message.body[2]:
                log.info("the StatusNotifierWatcher appeared (%s): registering",
                         message.body[2])
                self._aloop.create_task(self.register())
            else:
                self.registered = False
                log.info("the StatusNotifierWatcher went away: waiting for it")

    async def _call_bus(self, member: str, signature: str, body: list) -> Message:
        return await self._bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member=member, signature=signature, body=body))

    # -- clicks --------------------------------------------------------------------------------
    def run_action(self, action: Action) -> None:
        """A menu row or a notification button: queued for the action worker, so the bus
        keeps answering while it runs."""
        log.info("tray action: %s", action[0])
        self.runner.submit(action)

    def _menu_opening(self) -> None:
        """The panel is about to show the menu: re-read what may have changed outside
        (the login entry of "Start at login")."""
        self._apply(self._latest or self.loop.view())

    # -- views ---------------------------------------------------------------------------------
    def _show(self, view: LoopView) -> None:
        """From the scheduler or a worker: keep the newest view, apply it on the bus loop."""
        with self._view_lock:
            self._latest = view
            if self._apply_scheduled:
                return
            self._apply_scheduled = True
        try:
            self._aloop.call_soon_threadsafe(self._apply_latest)
        except (AttributeError, RuntimeError):  # not started yet, or closing
            with self._view_lock:
                self._apply_scheduled = False

    def _apply_latest(self) -> None:
        with self._view_lock:
            view, self._apply_scheduled = self._latest, False
        if view is not None:
            self._apply(view)

    def _apply(self, view: LoopView) -> None:
        snapshot, busy = view.snapshot, view.busy
        self.item.set_status(status_of(view))
        looks = (icon_inputs(snapshot), bool(busy))
        if looks != self._looks:
            self.item.set_icon(icon_pixmaps(lambda size: icon_for(snapshot, size, bool(busy))))
            self._looks = looks
        self.item.set_tooltip(tooltip_text(snapshot, busy), "\n".join(tooltip_lines(snapshot)))
        self.menu.show(menu_entries(view, autostart_view()))
