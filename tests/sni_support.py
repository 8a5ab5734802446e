"""A private session bus with a panel of the test's own, for the native tray's D-Bus tests.

- ``private_bus``: ``dbus-daemon --session`` of the test, stopped by PID;
- ``Watcher``: ``tests/sni_watcher.py`` in a child process (start, stop, restart);
- ``PanelClient``: a D-Bus connection that plays the panel: calls methods, reads
  properties and records every signal it sees, from a background asyncio loop.
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

from tests.builders import REPO_ROOT
from tests.desktop import wait_until

ITEM_INTERFACE = "org.kde.StatusNotifierItem"
MENU_INTERFACE = "com.canonical.dbusmenu"


@contextmanager
def private_bus(folder: Path) -> Iterator[str]:
    """A private ``dbus-daemon --session``; yields its address."""
    folder.mkdir(parents=True, exist_ok=True)
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
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
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()
    return process.returncode


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

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


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

    def close(self) -> None:
        with suppress(Exception):
            self.bus.disconnect()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
