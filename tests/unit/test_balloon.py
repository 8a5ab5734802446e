"""Windows balloons (tray_app.ui.balloon): the text leads with the action, a click on the
balloon or the icon runs it once, and a plain click opens the menu. The window messages are
Windows' own numbers; the same code runs for real under Wine (test_windows_wine.py)."""

from __future__ import annotations

from tray_app.alerts import LOGIN_BUTTON, Button
from tray_app.ui import balloon
from tray_app.ui.notify import DesktopNotifier

HOST = "111111111111.dkr.ecr.eu-central-1.amazonaws.com"
BUTTON = Button(*LOGIN_BUTTON, ("refresh", HOST, "docker"), "Press Log in again to renew.")


def test_the_balloon_text_starts_with_what_a_click_does():
    _title, text = balloon.balloon_text("ECR login expires in 10 min", "To renew: ...", BUTTON)
    assert text.splitlines()[0] == "Click here to log in again."
    assert balloon.balloon_text("t", "body", None) == ("t", "body")


def test_the_balloon_text_fits_notifyicondata():
    title, text = balloon.balloon_text("T" * 200, "x" * 1000, BUTTON)
    assert len(title) <= 63 and len(text) <= 255  # WCHAR[64] / WCHAR[256] with the NUL
    assert text.startswith("Click here to log in again.")


def test_a_balloon_click_runs_the_action_once():
    ran = []
    clicks = balloon.BalloonClicks(ran.append)
    clicks.shown(BUTTON)
    assert clicks.on_icon_message(balloon.NIN_BALLOONUSERCLICK) == "ran"
    assert clicks.on_icon_message(balloon.NIN_BALLOONUSERCLICK) == "pass"
    assert ran == [("refresh", HOST, "docker")]


def test_an_icon_click_runs_the_pending_action_then_opens_the_menu():
    ran = []
    clicks = balloon.BalloonClicks(ran.append)
    clicks.shown(BUTTON)
    assert clicks.on_icon_message(balloon.WM_LBUTTONUP) == "ran"
    assert clicks.on_icon_message(balloon.WM_LBUTTONUP) == "menu"
    assert ran == [BUTTON.action]


def test_a_balloon_without_an_action_clears_the_old_one():
    ran = []
    clicks = balloon.BalloonClicks(ran.append)
    clicks.shown(BUTTON)
    clicks.shown(None)
    assert clicks.on_icon_message(balloon.NIN_BALLOONUSERCLICK) == "pass"
    assert clicks.on_icon_message(balloon.WM_RBUTTONUP) == "pass"  # pystray's menu
    assert ran == []


class Win32IconStandIn:
    """The part of pystray's win32 Icon the subclass builds on (window messages in, the
    balloon out), recording what it is asked to do."""

    HAS_NOTIFICATION = True

    def __init__(self, *args, **kwargs) -> None:
        self._message_handlers: dict = {}
        self.menu = ["a menu"]
        self.calls: list = []

    def _message(self, code, flags, **fields):  # Shell_NotifyIcon(code, NOTIFYICONDATAW)
        self.calls.append(("Shell_NotifyIcon", code, flags, fields))

    def _on_notify(self, wparam, lparam):
        self.calls.append(("pystray _on_notify", lparam))
        if lparam == balloon.WM_RBUTTONUP:  # the menu is open (modal) while this runs
            self.while_menu_open()

    def while_menu_open(self) -> None:
        pass

    def _mark_ready(self):  # pystray's _run, on the GUI thread, once its window exists
        self.calls.append(("ready",))


class PostedMessages:
    """Window messages posted to the icon's window, delivered when the test says so (the
    GUI thread's GetMessage loop)."""

    def __init__(self, icon) -> None:
        self.icon = icon
        self.queue: list[int] = []
        icon._post_call = lambda: self.queue.append(balloon.WM_CALL)

    def deliver(self) -> None:
        while self.queue:
            message = self.queue.pop(0)
            self.icon._message_handlers[message](0, 0)


def test_ui_calls_from_other_threads_run_on_the_gui_thread_not_while_the_menu_is_open():
    import threading

    icon = balloon.win32_icon_class(Win32IconStandIn)(
        "ecr-token-tray", clicks=balloon.BalloonClicks(list), on_session_end=list)
    ran: list[str] = []
    icon.call_soon(lambda: ran.append("before the window"))  # no window yet: at once
    assert ran == ["before the window"]
    icon._hwnd = 1
    icon._mark_ready()  # this thread plays the GUI thread
    posted = PostedMessages(icon)
    worker = threading.Thread(target=icon.call_soon, args=(lambda: ran.append("update"),))
    worker.start()
    worker.join()
    assert ran == ["before the window"]  # posted, not run on the worker
    posted.deliver()
    assert ran == ["before the window", "update"]

    def menu_open() -> None:  # a rebuild arrives while the menu is shown: it waits
        other = threading.Thread(target=icon.call_soon, args=(lambda: ran.append("late"),))
        other.start()
        other.join()
        posted.deliver()
        assert ran[-1] == "update"

    icon.while_menu_open = menu_open
    icon._on_notify(0, balloon.WM_RBUTTONUP)
    assert ran[-1] == "late"  # run once the menu closed


def test_the_notifier_on_windows_uses_the_icons_balloon_and_plyer_last():
    ran = []
    icon = balloon.win32_icon_class(Win32IconStandIn)(
        "ecr-token-tray", clicks=balloon.BalloonClicks(ran.append), on_session_end=list)
    notifier = DesktopNotifier(icon_getter=lambda: icon, platform="win32")
    assert [name for name, _ in notifier.backends] == ["tray icon", "plyer"]
    assert notifier.send("ECR login expires in 10 min", "To renew: click", True, button=BUTTON)
    ((what, code, flags, fields),) = icon.calls
    assert (what, code, flags) == ("Shell_NotifyIcon", balloon.NIM_MODIFY, balloon.NIF_INFO)
    assert fields["szInfoTitle"] == "ECR login expires in 10 min"
    assert fields["szInfo"].startswith("Click here to log in again.")
    assert fields["dwInfoFlags"] == balloon.NIIF_WARNING  # urgent
    assert notifier.send("ECR logins refreshed", "all done")
    assert icon.calls[-1][3]["dwInfoFlags"] == balloon.NIIF_INFO
    icon._on_notify(0, balloon.NIN_BALLOONUSERCLICK)
    assert ran == []  # the newest balloon ("refreshed") named no action
    icon.balloon("ECR login expires", "body", BUTTON)
    icon._on_notify(0, balloon.NIN_BALLOONUSERCLICK)
    assert ran == [BUTTON.action]
    icon._on_notify(0, balloon.WM_LBUTTONUP)  # nothing pending: the menu, as a right click
    assert icon.calls[-1] == ("pystray _on_notify", balloon.WM_RBUTTONUP)


def test_log_off_is_allowed_and_stops_the_tray():
    stopped = []
    icon = balloon.win32_icon_class(Win32IconStandIn)(
        "ecr-token-tray", clicks=balloon.BalloonClicks(list),
        on_session_end=lambda: stopped.append(True))
    assert icon._message_handlers[balloon.WM_QUERYENDSESSION](0, 0) == 1
    icon._message_handlers[balloon.WM_ENDSESSION](1, 0)
    assert stopped == [True]
