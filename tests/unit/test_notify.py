"""The notifier: backends fall through in order, failures are logged, nothing raises."""

from __future__ import annotations

import logging
import shutil
import sys

import pytest

from tray_app.alerts import Button
from tray_app.ui.notify import (
    DesktopNotifier,
    TerminalNotifier,
    action_first,
    plyer_checks_its_result,
)


class IconThatNotifies:
    """A tray icon as pystray exposes it (``HAS_NOTIFICATION``, ``notify(message, title)``)."""

    HAS_NOTIFICATION = True

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def notify(self, message: str, title: str | None = None) -> None:
        self.shown.append((title, message))


class BrokenIcon(IconThatNotifies):
    def notify(self, message: str, title: str | None = None) -> None:
        raise RuntimeError("the tray host went away")


@pytest.fixture
def no_notify_send(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert shutil.which("notify-send") is None


def test_backend_order_on_this_platform():
    names = [name for name, _ in DesktopNotifier().backends]
    if sys.platform.startswith("linux"):
        assert names[-2:] == ["tray icon", "notify-send"]
        assert ("plyer" in names) == plyer_checks_its_result()
    elif sys.platform == "win32":
        assert names == ["tray icon", "plyer"]
    else:
        assert names[-1] == "osascript" and "tray icon" not in names


def test_macos_takes_osascript_and_never_pystray_s_argv_notify():
    """pystray's darwin notify runs `osascript -e TEXT`; plyer needs pyobjus (absent)."""
    names = [name for name, _ in DesktopNotifier(platform="darwin").backends]
    assert names == (["plyer", "osascript"] if plyer_checks_its_result("darwin")
                     else ["osascript"])


def test_the_osascript_line_says_what_to_do_first():
    button = Button("login", "Log in again", ("refresh", "h", "docker-config"), "Press...")
    assert action_first("ECR refresh failed: no credentials", button) == (
        "To log in again: open the tray menu\nECR refresh failed: no credentials")
    assert action_first("To renew: click it in the tray menu\nx expired", button) == (
        "To renew: click it in the tray menu\nx expired")
    assert action_first("Open it yourself: /tmp/x", None) == "Open it yourself: /tmp/x"


def test_a_failing_backend_falls_back_to_the_tray_icon(no_notify_send, caplog):
    icon = IconThatNotifies()
    notifier = DesktopNotifier(icon_getter=lambda: icon, platform="linux")
    notifier.backends.insert(0, ("broken", _raise))
    with caplog.at_level(logging.INFO, logger="tray_app.ui.notify"):
        assert notifier.send("ECR login 222222222222 eu-central-1 expired", "do this")
    assert icon.shown == [("ECR login 222222222222 eu-central-1 expired", "do this")]
    assert "notification via broken failed: OSError: backend exploded" in caplog.text
    assert "sent via tray icon" in caplog.text


def test_when_every_backend_fails_it_returns_false_and_logs(no_notify_send, caplog):
    notifier = DesktopNotifier(icon_getter=lambda: BrokenIcon())
    notifier.backends = [(n, b) for n, b in notifier.backends if n != "plyer"]
    with caplog.at_level(logging.WARNING, logger="tray_app.ui.notify"):
        assert notifier.send("title", "body") is False
    assert "the tray host went away" in caplog.text
    assert "notify-send not found (install libnotify-bin)" in caplog.text
    assert "could not be shown by any backend: title" in caplog.text


@pytest.mark.skipif(shutil.which("notify-send") is None, reason="needs libnotify-bin")
def test_notify_send_without_a_session_bus_is_a_logged_failure(monkeypatch, caplog, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no bus socket there either
    notifier = DesktopNotifier(icon_getter=lambda: None)
    notifier.backends = [(n, b) for n, b in notifier.backends if n == "notify-send"]
    with caplog.at_level(logging.WARNING, logger="tray_app.ui.notify"):
        assert notifier.send("title", "body") is False
    assert "notify-send exited" in caplog.text


def test_terminal_notifier_prints_and_passes_on(no_notify_send):
    printed: list[str] = []
    icon = IconThatNotifies()
    notifier = TerminalNotifier(DesktopNotifier(icon_getter=lambda: icon), printed.append)
    assert notifier.send("2 ECR logins need renewing", "a expired\nb ends in 5 min")
    assert printed == ["!! 2 ECR logins need renewing\n   a expired\n   b ends in 5 min\n"]
    assert icon.shown == [("2 ECR logins need renewing", "a expired\nb ends in 5 min")]


def _raise(title: str, body: str, urgent: bool, button: object = None) -> None:
    raise OSError("backend exploded")
