"""Windows notifications as balloons of the tray's own icon, and what a click on them does.

plyer's Windows notifications add a second, hidden notify icon per message (two icons side
by side, the balloon on the stranger) and block about 10 s each; its balloons cannot be
clicked. Here the tray's own pystray icon shows the balloon (``Shell_NotifyIcon`` with
``NIF_INFO``, which returns at once), its text starts with what a click does, and:

- a click on the balloon (the shell sends ``NIN_BALLOONUSERCLICK`` to the icon's window) or
  on the icon while that action is pending runs it, exactly as its menu row would;
- a left click with nothing pending opens the menu (the right click always does);
- ``WM_QUERYENDSESSION`` is answered yes (pystray answers 0, which would hold up a log-off)
  and ``WM_ENDSESSION`` stops the tray, logged;
- ``call_soon(function)`` runs UI changes on the icon's own (GUI) thread, through a window
  message, and holds them while the menu is open: pystray rebuilds the native menu where
  its setter is called, and a rebuild on a worker thread during a right click showed the
  menu of a moment before.

:class:`BalloonClicks` is the decision, pure and testable anywhere; :func:`win32_icon_class`
wraps pystray's win32 ``Icon`` (imported on Windows only).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tray_app.alerts import Button

log = logging.getLogger(__name__)

WM_USER = 0x0400
NIN_BALLOONSHOW = WM_USER + 2
NIN_BALLOONHIDE = WM_USER + 3
NIN_BALLOONTIMEOUT = WM_USER + 4
NIN_BALLOONUSERCLICK = WM_USER + 5
WM_LBUTTONUP = 0x0202
WM_RBUTTONUP = 0x0205
WM_CALL = WM_USER + 21  # ours; pystray uses WM_USER + 10 and + 11
WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
NIM_MODIFY = 0x01
NIF_INFO = 0x10
NIIF_INFO = 0x01
NIIF_WARNING = 0x02
# NOTIFYICONDATAW: szInfoTitle is WCHAR[64], szInfo WCHAR[256] (with the terminating NUL);
# ctypes refuses a longer string, so the text is cut to fit.
TITLE_CHARS = 63
TEXT_CHARS = 255

Action = tuple[str, ...]


def balloon_text(title: str, body: str, button: Button | None) -> tuple[str, str]:
    """Title and text for a balloon: with an action, the text opens with what a click does
    (a balloon shows a few lines; the action must not be cut off)."""
    if button is not None:
        body = f"Click here to {button.label.lower()}.\n{body}"
    return _cut(title, TITLE_CHARS), _cut(body, TEXT_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class BalloonClicks:
    """The action the last balloon named, and what a message from the shell means."""

    def __init__(self, run: Callable[[Action], None]) -> None:
        self._run = run
        self._pending: Action | None = None
        self._lock = threading.Lock()  # set by the notifier's thread, read by the GUI thread

    def shown(self, button: Button | None) -> None:
        """A new balloon replaces the old one, and its action (or none) the old action."""
        with self._lock:
            self._pending = button.action if button is not None and button.action else None

    def on_icon_message(self, message: int) -> str:
        """What to do for a callback message of the icon: "ran", "menu" or "pass" (let
        pystray handle it)."""
        if message in (NIN_BALLOONUSERCLICK, WM_LBUTTONUP):
            with self._lock:
                action, self._pending = self._pending, None
            if action is not None:
                how = "balloon" if message == NIN_BALLOONUSERCLICK else "icon"
                log.info("%s clicked: running %s", how, action[0])
                self._run(action)
                return "ran"
            return "menu" if message == WM_LBUTTONUP else "pass"
        return "pass"


def win32_icon_class(base: type) -> type:
    """pystray's win32 ``Icon`` with clickable balloons and a clean log-off."""

    class BalloonIcon(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, clicks: BalloonClicks, on_session_end: Callable[[], None],
                     **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.clicks = clicks
            self._on_session_end = on_session_end
            self._message_handlers[WM_QUERYENDSESSION] = lambda _wparam, _lparam: 1
            self._message_handlers[WM_ENDSESSION] = self._on_end_session
            self._message_handlers[WM_CALL] = self._on_call
            self._calls: list[Callable[[], None]] = []
            self._calls_lock = threading.Lock()
            self._gui_thread: int | None = None
            self._menu_open = False

        def call_soon(self, function: Callable[[], None]) -> None:
            """Run ``function`` on the GUI thread (now, when called there or before the
            window exists)."""
            on_gui_thread = threading.get_ident() == self._gui_thread
            if self._gui_thread is None or (on_gui_thread and not self._menu_open):
                function()
                return
            with self._calls_lock:
                self._calls.append(function)
            self._post_call()

        def _post_call(self) -> None:
            from pystray._util import win32  # Windows only

            win32.PostMessage(self._hwnd, WM_CALL, 0, 0)

        def _on_call(self, _wparam, _lparam):
            if self._menu_open:  # run when the menu has closed (_on_notify)
                return 0
            with self._calls_lock:
                calls, self._calls = self._calls, []
            for function in calls:
                try:
                    function()
                except Exception:
                    log.exception("a tray update failed")
            return 0

        def _mark_ready(self):
            if self._gui_thread is None and getattr(self, "_hwnd", None):
                self._gui_thread = threading.get_ident()  # pystray's _run, on its GUI thread
            super()._mark_ready()

        def balloon(self, title: str, body: str, button: Button | None,
                    urgent: bool = False) -> None:
            title, text = balloon_text(title, body, button)
            self.clicks.shown(button)
            # pystray's notify, plus the balloon's icon: a warning when it is urgent. On the
            # GUI thread, in order: after the icon was added (visible), never before.
            self.call_soon(lambda: self._message(
                NIM_MODIFY, NIF_INFO, szInfo=text, szInfoTitle=title,
                dwInfoFlags=NIIF_WARNING if urgent else NIIF_INFO))

        def _on_notify(self, wparam, lparam):
            what = self.clicks.on_icon_message(lparam)
            if what == "menu" and self.menu:
                return self._tracking_menu(wparam, WM_RBUTTONUP)
            if what == "pass":
                return self._tracking_menu(wparam, lparam)
            return 0

        def _tracking_menu(self, wparam, lparam):
            """pystray's handler; a right click shows the menu modally, so updates that
            arrive meanwhile wait until it closes."""
            self._menu_open = lparam == WM_RBUTTONUP
            try:
                return super()._on_notify(wparam, lparam)
            finally:
                self._menu_open = False
                self._on_call(0, 0)

        def _on_end_session(self, wparam, _lparam):
            if wparam:
                log.info("Windows session ends: stopping")
                self._on_session_end()
            return 0

    return BalloonIcon
