"""A tiny org.kde.StatusNotifierWatcher that plays the panel's part on a private bus.

``python -m tests.sni_watcher`` owns the watcher name on $DBUS_SESSION_BUS_ADDRESS,
accepts RegisterStatusNotifierItem like waybar and GNOME's AppIndicator extension do (a
bus name, or an object path of the caller), prints ``ready`` and then ``registered
<argument> <sender>`` per registration, and exits on SIGTERM. Restarting it is how a test
plays a panel that restarts.

``--host`` also plays the host's part, as waybar does: for each registered item it reads
every property (GetAll) at registration and after each New* signal, and the menu layout
(GetLayout) after LayoutUpdated. The tray benchmark uses it to count D-Bus messages.
"""

import asyncio
import signal
import sys

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

NAME = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"


ITEM_SIGNALS = ("NewIcon", "NewToolTip", "NewTitle", "NewStatus", "NewAttentionIcon",
                "NewOverlayIcon")


class Watcher(ServiceInterface):
    def __init__(self, host: MessageBus | None = None) -> None:
        super().__init__(NAME)
        self.items: list[str] = []
        self.host = host  # play the host too: read what the item announces

    def on_call(self, message: Message) -> Message | None:
        """RegisterStatusNotifierItem, by hand: an object path needs the caller's name,
        which dbus-fast's declared methods do not see."""
        if (message.message_type != MessageType.METHOD_CALL or message.interface != NAME
                or message.member != "RegisterStatusNotifierItem"):
            return None
        argument = message.body[0]
        service, path = ((message.sender, argument) if argument.startswith("/")
                         else (argument, "/StatusNotifierItem"))
        self.items.append(f"{service}{path}")
        print(f"registered {argument} {message.sender}", flush=True)
        self.StatusNotifierItemRegistered(f"{service}{path}")
        if self.host is not None:
            asyncio.get_running_loop().create_task(self.follow(service, path))
        return Message.new_method_return(message)

    async def follow(self, service: str, path: str) -> None:
        bus = self.host
        owner = (await self.dbus(bus, "GetNameOwner", "s", [service])).body[0]
        await self.dbus(bus, "AddMatch", "s", [f"type='signal',sender='{owner}'"])

        def on_message(message: Message) -> None:
            if message.message_type != MessageType.SIGNAL or message.sender != owner:
                return
            if message.member in ITEM_SIGNALS:
                asyncio.get_running_loop().create_task(self.read_item(service, path))
            elif message.member == "LayoutUpdated":
                asyncio.get_running_loop().create_task(self.read_menu(service))

        bus.add_message_handler(on_message)
        await self.read_item(service, path)
        await self.read_menu(service)

    async def read_item(self, service: str, path: str) -> None:
        await self.host.call(Message(destination=service, path=path,
                                     interface="org.freedesktop.DBus.Properties",
                                     member="GetAll", signature="s",
                                     body=["org.kde.StatusNotifierItem"]))

    async def read_menu(self, service: str) -> None:
        await self.host.call(Message(destination=service, path="/MenuBar",
                                     interface="com.canonical.dbusmenu", member="GetLayout",
                                     signature="iias", body=[0, -1, []]))

    @staticmethod
    async def dbus(bus: MessageBus, member: str, signature: str, body: list) -> Message:
        return await bus.call(Message(destination="org.freedesktop.DBus",
                                      path="/org/freedesktop/DBus",
                                      interface="org.freedesktop.DBus", member=member,
                                      signature=signature, body=body))

    @dbus_method(name="RegisterStatusNotifierHost")
    def register_host(self, service: "s") -> None:
        pass

    @dbus_property(access=PropertyAccess.READ, name="RegisteredStatusNotifierItems")
    def registered(self) -> "as":
        return self.items

    @dbus_property(access=PropertyAccess.READ, name="IsStatusNotifierHostRegistered")
    def host_registered(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ, name="ProtocolVersion")
    def version(self) -> "i":
        return 0

    @dbus_signal()
    def StatusNotifierItemRegistered(self, service) -> "s":
        return service


async def main() -> None:
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    watcher = Watcher(bus if "--host" in sys.argv else None)
    bus.add_message_handler(watcher.on_call)
    bus.export(PATH, watcher)
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
