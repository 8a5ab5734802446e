"""A tiny org.kde.StatusNotifierWatcher that plays the panel's part on a private bus.

``python -m tests.sni_watcher`` owns the watcher name on $DBUS_SESSION_BUS_ADDRESS,
accepts RegisterStatusNotifierItem like waybar and GNOME's AppIndicator extension do (a
bus name, or an object path of the caller), prints ``ready`` and then ``registered
<service>`` per registration, and exits on SIGTERM. Restarting it is how a test
plays a panel that restarts.
"""

import asyncio
import signal
import sys

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

NAME = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"


class Watcher(ServiceInterface):
    def __init__(self) -> None:
        super().__init__(NAME)
        self.items: list[str] = []

    @dbus_method(name="RegisterStatusNotifierItem")
    def register(self, service: "s") -> None:  # noqa: F821
        self.items.append(service)
        print(f"registered {service}", flush=True)
        self.StatusNotifierItemRegistered(service)

    @dbus_method(name="RegisterStatusNotifierHost")
    def register_host(self, service: "s") -> None:  # noqa: F821
        pass

    @dbus_property(access=PropertyAccess.READ, name="RegisteredStatusNotifierItems")
    def registered(self) -> "as":  # noqa: F722
        return self.items

    @dbus_property(access=PropertyAccess.READ, name="IsStatusNotifierHostRegistered")
    def host_registered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=PropertyAccess.READ, name="ProtocolVersion")
    def version(self) -> "i":  # noqa: F821
        return 0

    @dbus_signal()
    def StatusNotifierItemRegistered(self, service) -> "s":  # noqa: F821
        return service


async def main() -> None:
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    bus.export(PATH, Watcher())
    await bus.request_name(NAME)
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    await stop.wait()
    bus.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
