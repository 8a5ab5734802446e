"""A private session bus with a panel of the test's own, for the native tray's D-Bus tests.

- ``private_bus``: ``dbus-daemon --session`` of the test, stopped by PID;
- ``Watcher``: ``tests/sni_watcher.py`` in a child process (start, stop, restart);
- ``PanelClient``: a D-Bus connection that plays the panel: calls methods, reads
  properties and records every signal it sees, from a background asyncio loop; it can also
  serve ``org.freedesktop.Notifications`` (``NotificationServer``) with the capabilities a
  test chooses, e.g. a server without action buttons.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

from tests.builders import REPO_ROOT
from tests.desktop import wait_until
from tests.desktops.session import end_process

ITEM_INTERFACE = "org.kde.StatusNotifierItem"
MENU_INTERFACE = "com.canonical.dbusmenu"


BARE_SESSION_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@contextmanager
def private_bus(folder: Path, activation: bool = True) -> Iterator[str]:
    """A private ``dbus-daemon --session``; yields its address. ``activation=False``: a bus
    that can start no service (no installed notification server either)."""
    folder.mkdir(parents=True, exist_ok=True)
    if activation:
        config = ["--session"]
    else:
        (folder / "bare-session.conf").write_text(BARE_SESSION_CONFIG)
        config = [f"--config-file={folder / 'bare-session.conf'}"]
    daemon = subprocess.Popen(["dbus-daemon", *config, "--nofork", "--nopidfile",
                               "--print-address=1"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        address = daemon.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        yield address
    finally:
        stop(daemon)


def stop(process: subprocess.Popen, timeout: float = 10) -> int | None:
    """End a child (TERM, then KILL after ``timeout``); its exit code."""
    return end_process(process, timeout)


class Watcher:
    """The test's StatusNotifierWatcher in a child process; ``registrations`` read its log."""

    def __init__(self, address: str, folder: Path) -> None:
        self.address = address
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.folder / f"watcher-{self.starts}.log"

    def start(self) -> Watcher:
        self.starts += 1
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.sni_watcher"], cwd=REPO_ROOT,
                env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address},
                stdout=output, stderr=subprocess.STDOUT)
        wait_until(lambda: "ready" in self.log.read_text(), 30, "the test's watcher")
        return self

    def registrations(self) -> list[str]:
        return [line.split()[1] for line in self.log.read_text().splitlines()
                if line.startswith("registered ")]

    def registered_by(self) -> list[tuple[str, str]]:
        """(what was registered, the unique name of who registered it)."""
        return [tuple(line.split()[1:3]) for line in self.log.read_text().splitlines()
                if line.startswith("registered ")]

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class NotificationServer(ServiceInterface):
    """A notification server of the test's own: records each Notify, returns ids, and
    emits ActionInvoked when the test "presses" a button."""

    def __init__(self, capabilities: list[str]) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.capabilities = capabilities
        self.calls: list[dict] = []
        self.closed: list[int] = []  # ids the app asked to close (CloseNotification)
        self._next_id = 0

    @dbus_method()
    def GetCapabilities(self) -> "as":
        return self.capabilities

    @dbus_method()
    def GetServerInformation(self) -> "ssss":
        return ["test-server", "tests", "1", "1.2"]

    @dbus_method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":
        if replaces_id:
            notification_id = replaces_id
        else:
            self._next_id += 1
            notification_id = self._next_id
        self.calls.append({"id": notification_id, "app_name": app_name,
                           "replaces_id": replaces_id, "app_icon": app_icon,
                           "summary": summary, "body": body, "actions": actions,
                           "hints": {k: v.value for k, v in hints.items()},
                           "expire_timeout": expire_timeout})
        return notification_id

    @dbus_method()
    def CloseNotification(self, id: "u"):  # no "-> None": a string under PEP 563
        self.closed.append(id)
        self.NotificationClosed(id, 3)

    @dbus_signal()
    def ActionInvoked(self, id, action_key) -> "us":
        return [id, action_key]

    @dbus_signal()
    def NotificationClosed(self, id, reason) -> "uu":
        return [id, reason]


class PanelClient:
    """Plays the panel on ``address``: every call is synchronous for the test."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.signals: list[Message] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.bus: MessageBus = self._run(self._connect())

    def _run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> MessageBus:
        bus = await MessageBus(bus_address=self.address, bus_type=BusType.SESSION).connect()
        await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                               interface="org.freedesktop.DBus", member="AddMatch",
                               signature="s", body=["type='signal'"]))
        bus.add_message_handler(self._record)
        return bus

    def _record(self, message: Message) -> None:
        if message.message_type == MessageType.SIGNAL:
            with self._lock:
                self.signals.append(message)

    def call(self, destination: str, path: str, interface: str, member: str,
             signature: str = "", body: list | None = None) -> Message:
        return self._run(self.bus.call(Message(destination=destination, path=path,
                                               interface=interface, member=member,
                                               signature=signature, body=body or [])))

    def ok(self, *args, **kwargs) -> list:
        reply = self.call(*args, **kwargs)
        assert reply.message_type == MessageType.METHOD_RETURN, (reply.error_name, reply.body)
        return reply.body

    def get(self, destination: str, path: str, interface: str, name: str):
        (value,) = self.ok(destination, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                           [interface, name])
        return value.value if isinstance(value, Variant) else value

    def names(self) -> list[str]:
        return self.ok("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                       "ListNames")[0]

    def seen(self, member: str, sender: str | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self.signals
                    if m.member == member and (sender is None or m.sender == sender)]

    def owner(self, name: str) -> str:
        return self.ok("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                       "GetNameOwner", "s", [name])[0]

    def serve_notifications(self, capabilities: list[str]) -> NotificationServer:
        server = NotificationServer(capabilities)

        async def export() -> None:
            self.bus.export("/org/freedesktop/Notifications", server)
            await self.bus.request_name("org.freedesktop.Notifications")

        self._run(export())
        return server

    def in_loop(self, function, *args) -> None:
        """Run ``function`` on the client's loop (signals are emitted from there)."""
        self._loop.call_soon_threadsafe(function, *args)

    def close(self) -> None:
        with suppress(Exception):
            self.bus.disconnect()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
