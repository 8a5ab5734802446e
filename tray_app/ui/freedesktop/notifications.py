"""``org.freedesktop.Notifications`` spoken directly: urgency, the app's icon, action buttons.

- ``app_name`` is the app's name; the logo goes as ``image-data`` (no file);
- ``urgency`` is critical for expired/critical logins (``urgent``), normal otherwise;
- when the server's ``GetCapabilities`` lists ``actions``, a notification with a ``Button``
  shows it ("Log in again", "Sign in") and the ``default`` action (a click on the bubble);
  ``ActionInvoked`` from that server runs exactly what the menu row runs. Without
  ``actions`` the body says what to click in the tray menu;
- ``replaces_id`` per subject: a newer notification about a login replaces its bubble;
- at Quit (``close_shown``) the tray closes the bubbles it sent that the server has not
  closed yet: a critical one stays on screen until closed, and its button would then run
  nothing.

``send`` may be called from any thread; the D-Bus work happens on the asyncio loop.
"""

import asyncio
import logging
import threading
from collections.abc import Callable

from dbus_fast import Message, MessageType, Variant

from tray_app import APP_NAME
from tray_app.alerts import Button
from tray_app.ui.freedesktop.pixmaps import notification_image
from tray_app.ui.menu import Action

log = logging.getLogger(__name__)
BUS_NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
SEND_TIMEOUT = 10.0
CLOSE_TIMEOUT = 3.0  # at Quit: a hung server must not keep the tray from ending
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2
DEFAULT_ACTION_KEY = "default"
MATCH_RULES = (f"type='signal',interface='{INTERFACE}',member='ActionInvoked'",
               f"type='signal',interface='{INTERFACE}',member='NotificationClosed'")


def escape_markup(text: str) -> str:
    """Servers with ``body-markup`` read the body as a small HTML subset."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class NativeNotifier:
    """The tray's Notifier on the freedesktop D-Bus API. ``run_action(action)`` runs a
    tray menu action (``tray_app.ui.actions.TrayActions.dispatch``)."""

    def __init__(self, run_action: Callable[[Action], None]) -> None:
        self._run_action = run_action
        self._bus = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._ids_by_subject: dict[str, int] = {}
        self._buttons: dict[int, Button] = {}  # notification id -> its button
        self._server: str | None = None  # unique bus name of the server that showed them
        self._shown: set[int] = set()  # ids sent and not closed (by the server or us)

    async def attach(self, bus) -> None:
        """Use ``bus`` (connected, on the running loop) and listen for button presses."""
        self._bus = bus
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.current_thread()
        for rule in MATCH_RULES:
            await bus.call(Message(destination="org.freedesktop.DBus",
                                   path="/org/freedesktop/DBus",
                                   interface="org.freedesktop.DBus", member="AddMatch",
                                   signature="s", body=[rule]))
        bus.add_message_handler(self._on_message)

    def send(self, title: str, body: str, urgent: bool = False, *, subject: str = "",
             button: Button | None = None) -> bool:
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("notification not shown (the tray is not connected): %s", title)
            return False
        coroutine = self._send(title, body, urgent, subject, button)
        if threading.current_thread() is self._loop_thread:
            task = loop.create_task(coroutine)
            task.add_done_callback(lambda done: done.exception())
            return True
        try:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result(SEND_TIMEOUT)
        except Exception as error:  # the loop stopped, or the server hung
            log.warning("notification %r not shown: %s", title, type(error).__name__)
            return False

    async def _send(self, title: str, body: str, urgent: bool, subject: str,
                    button: Button | None) -> bool:
        try:
            capabilities = await self._capabilities()
            with_button = button is not None and "actions" in capabilities
            text = button.body if with_button else body
            if "body-markup" in capabilities:
                text = escape_markup(text)
            actions = ([DEFAULT_ACTION_KEY, button.label, button.key, button.label]
                       if with_button else [])
            hints = {"urgency": Variant("y", URGENCY_CRITICAL if urgent else URGENCY_NORMAL),
                     "image-data": Variant("(iiibiiay)", list(notification_image()))}
            replaces = self._ids_by_subject.get(subject, 0) if subject else 0
            reply = await self._bus.call(Message(
                destination=BUS_NAME, path=PATH, interface=INTERFACE, member="Notify",
                signature="susssasa{sv}i",
                body=[APP_NAME, replaces, "", title, text, actions, hints, -1]))
            if reply.message_type != MessageType.METHOD_RETURN:
                raise RuntimeError(f"{reply.error_name}: {reply.body[:1]}")
        except Exception as error:
            log.warning("notification %r not shown: %s", title, error)
            return False
        notification_id = reply.body[0]
        if reply.sender != self._server:  # a new server: the old one's bubbles are gone
            self._shown.clear()
        self._server = reply.sender
        self._shown.add(notification_id)
        if subject:
            self._ids_by_subject[subject] = notification_id
        if with_button:
            self._buttons[notification_id] = button
        else:
            self._buttons.pop(notification_id, None)
        log.info("notification %s sent%s: %s", notification_id,
                 f" with button {button.key}" if with_button else "", title)
        log.debug("notification body: %s", text)
        return True

    async def _capabilities(self) -> list[str]:
        reply = await self._bus.call(Message(destination=BUS_NAME, path=PATH,
                                             interface=INTERFACE, member="GetCapabilities"))
        if reply.message_type != MessageType.METHOD_RETURN:
            raise RuntimeError(f"no notification server ({reply.error_name})")
        return list(reply.body[0])

    def _on_message(self, message: Message) -> None:
        if message.message_type != MessageType.SIGNAL or message.interface != INTERFACE:
            return
        if self._server is None or message.sender != self._server:
            return  # only the server that showed our notifications speaks for them
        if message.member == "ActionInvoked":
            notification_id, key = message.body
            button = self._buttons.get(notification_id)
            if button is None or key not in (button.key, DEFAULT_ACTION_KEY):
                return
            log.info("notification %s: %s pressed", notification_id, key)
            self._buttons.pop(notification_id, None)
            self._run_action(button.action)
        elif message.member == "NotificationClosed":
            self._buttons.pop(message.body[0], None)
            self._shown.discard(message.body[0])

    async def close_shown(self) -> int:
        """CloseNotification for each bubble still shown (on the bus loop, at Quit);
        returns how many were asked to close."""
        shown, self._shown = sorted(self._shown), set()
        if not shown or self._bus is None or not self._bus.connected:
            return 0
        calls = [self._bus.call(Message(destination=self._server or BUS_NAME, path=PATH,
                                        interface=INTERFACE, member="CloseNotification",
                                        signature="u", body=[notification_id]))
                 for notification_id in shown]
        try:
            replies = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True),
                                             CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("closing %d notification(s) at quit: no answer from the server",
                        len(shown))
            return len(shown)
        failed = [i for i, reply in zip(shown, replies, strict=True)
                  if not isinstance(reply, Message) or reply.message_type == MessageType.ERROR]
        log.info("closed %d notification(s) still shown%s", len(shown) - len(failed),
                 f" ({len(failed)} already gone)" if failed else "")
        return len(shown)
