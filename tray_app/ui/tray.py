"""The tray: pystray owns the main thread; the loop runs on a scheduler thread.

Threads: main (pystray's event loop), pystray's setup thread (starts the scheduler and
returns), the scheduler (``TrayLoop.run``), and at most one refresh worker at a time.
The loop publishes a ``LoopView``; ``_apply`` turns it into icon, tooltip and menu.

Menu clicks (and Windows balloon clicks) run on the one action worker of
``tray_app.service.actions``, never in GTK's, AppKit's or Win32's loop; the view it publishes
after each click comes back here like any other.

Platform threading (``main_thread_caller``, chosen from the backend pystray runs):
- gtk/appindicator: pystray's setters post to the GLib main loop themselves (idle_add), so
  calling them from the scheduler thread is safe.
- macOS (darwin backend, AppKit): every AppKit call (icon, tooltip, menu, show, stop) is
  posted to the main thread with ``PyObjCTools.AppHelper.callAfter`` (pyobjc comes with
  pystray on macOS). Tested with a fake AppKit that records the thread of every call
  (tests/unit/test_macos_threads.py); never run on a real Mac.
- win32: icon, tooltip and menu changes run on the icon's own thread through a window
  message (``BalloonIcon.call_soon``), held while the menu is open (pystray rebuilds the
  native menu where its setter is called). Notifications are balloons of this icon; a
  click on one runs its action (``tray_app.ui.balloon``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.logs import log_file
from tray_app.platforms import stop_signal_names
from tray_app.service.actions import ActionRunner
from tray_app.settings import Paths
from tray_app.ui.actions import TrayActions, autostart_view
from tray_app.ui.backend import Choice
from tray_app.ui.icon import icon_for, icon_inputs, tooltip_text
from tray_app.ui.loop import LoopView, TrayLoop
from tray_app.ui.menu import menu_entries, to_pystray
from tray_app.ui.notify import DesktopNotifier

log = logging.getLogger(__name__)
ICON_PIXELS = 64  # the panel scales it; 64 keeps HiDPI panels sharp
# Only the signals this OS has: Windows lacks SIGHUP (naming it here killed the tray at import).
STOP_SIGNALS = tuple(getattr(signal, name) for name in stop_signal_names()
                     if hasattr(signal, name))
GLIB_BACKENDS = ("gtk", "appindicator")


def no_menu_hint() -> str:
    """The xorg fallback's warning, with the command that fits how this copy was installed."""
    from tray_app.install_info import current

    return ("this tray has no menu (pystray fell back to its xorg backend: no PyGObject) -"
            f" to get one: {current().menu_fix_command()}")


TRAY_HOST_WAIT_SECONDS = 15.0  # at login the panel may start a little after us
RETRY_SECONDS = 1.0


def choose_backend(paths: Paths, wait_seconds: float = TRAY_HOST_WAIT_SECONDS) -> Choice:
    """The front end for this desktop (``tray_app.ui.backend``, the decision `doctor` shows).

    Waits up to ``wait_seconds`` for a panel to appear; then fails with one line."""
    from tray_app.settings import load_settings
    from tray_app.ui.backend import decide, gather_facts

    settings, problem = load_settings(paths)
    configured = None if problem else settings.tray_backend  # the loop reports the problem
    deadline = time.monotonic() + wait_seconds
    while True:
        choice = decide(gather_facts(configured))
        if choice.backend is not None:
            log.info("tray backend: %s - %s", choice.backend, choice.detail)
            return choice
        if choice.final or time.monotonic() >= deadline:
            log.error("no tray: %s - %s", choice.problem, choice.fix)
            raise TrayAppError(choice.problem or "no tray", choice.fix or "")
        time.sleep(RETRY_SECONDS)


def import_pystray(backend: str | None = None):
    """pystray picks its backend at import (``backend`` forces it: never its appindicator
    attempt, whose missing typelib raises ValueError); a broken display raises odd errors."""
    try:
        with _gtk_without_opengl(), _pystray_backend(backend):
            import pystray
    except Exception as error:  # Xlib's DisplayNameError, gi's ValueError, "not supported"
        log.debug("pystray import failed", exc_info=True)
        display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or "-"
        raise TrayAppError(
            f"cannot open a tray on display {display} ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:120] if str(error) else 'no detail'})",
            f"check the desktop session, or use `{APP_NAME} status` / `{APP_NAME} watch`"
        ) from None
    return pystray


@contextmanager
def _pystray_backend(backend: str | None) -> Iterator[None]:
    """PYSTRAY_BACKEND=backend while pystray is imported (how pystray lets a program pick
    its backend module); restored after, so children do not inherit it."""
    if backend is None:
        yield
        return
    saved = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = backend
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYSTRAY_BACKEND", None)
        else:
            os.environ["PYSTRAY_BACKEND"] = saved


@contextmanager
def _gtk_without_opengl() -> Iterator[None]:
    """GDK_GL=disable while GTK starts (pystray's import), unless the user chose a value.

    A status icon and a menu need no OpenGL, but GDK may probe GLX to pick visuals, which
    on software-rendered desktops (VMs, remote sessions, Xvfb) maps Mesa's llvmpipe: about
    50 MiB of RSS for the whole life of the tray (benchmarks/RESULTS.md). Restored after,
    so programs the tray starts (docker, aws, a browser) get the user's environment.
    """
    if "GDK_GL" in os.environ:
        yield
        return
    os.environ["GDK_GL"] = "disable"
    try:
        yield
    finally:
        os.environ.pop("GDK_GL", None)


def backend_name(icon: object) -> str:
    """pystray's backend module of the icon ("win32", "gtk"...), also under our subclass."""
    module = next((cls.__module__ for cls in type(icon).__mro__
                   if cls.__module__.startswith("pystray.")), type(icon).__module__)
    return module.rsplit(".", 1)[-1].lstrip("_")


def main_thread_caller(backend: str) -> Callable[[Callable[[], None]], None]:
    """How UI code reaches the GUI thread of the pystray backend that runs."""
    if backend == "darwin":
        # AppKit: every call on the main thread (recent macOS traps otherwise).
        from PyObjCTools import AppHelper  # shipped with pyobjc, which pystray needs there
        return AppHelper.callAfter
    return _call_now  # gtk, appindicator, win32, xorg: pystray's setters are thread-safe


def _call_now(function: Callable[[], None]) -> None:
    function()


class TrayApp:
    """The pystray front end (macOS, Windows, and XEmbed trays on Linux)."""

    def __init__(self, paths: Paths, backend: str | None = None) -> None:
        self.paths = paths
        self.backend = backend
        self.icon = None
        self.notifier = DesktopNotifier(icon_getter=lambda: self.icon,
                                        platform="darwin" if backend == "darwin" else None)
        self.loop = TrayLoop(paths, self.notifier, on_view=self._show)
        self.actions = TrayActions(self.loop, paths, on_quit=self.quit)
        self.runner = ActionRunner(self.actions.dispatch,
                                   after=lambda: self._show(self.loop.view()))
        self._on_main: Callable[[Callable[[], None]], None] = _call_now
        self._scheduler: threading.Thread | None = None
        self._apply_lock = threading.Lock()
        self._looks: tuple | None = None
        self._failed = False
        self._backend_running = ""
        self._entries: list | None = None

    def run(self) -> int:
        pystray = import_pystray(self.backend)
        icon_class, extra = self._icon_class(pystray.Icon)
        self.icon = icon_class(APP_NAME, icon=icon_for(None, ICON_PIXELS),
                               title=tooltip_text(None), menu=self._menu(self.loop.view()),
                               **extra)
        backend = backend_name(self.icon)
        log.info("tray starting with backend %s (pystray)", backend)
        # win32: our icon class runs UI calls on its own thread (tray_app.ui.balloon).
        self._on_main = getattr(self.icon, "call_soon", None) or main_thread_caller(backend)
        if backend == "dummy":  # pystray's test backend cannot run (and would hang at exit)
            raise TrayAppError("PYSTRAY_BACKEND=dummy cannot show a tray",
                               "unset PYSTRAY_BACKEND (or set it to gtk or appindicator)")
        if backend == "xorg":
            hint = no_menu_hint()
            print(f"{APP_NAME}: {hint}", file=sys.stderr)
            log.warning(hint)
        self._backend_running = backend
        if backend not in GLIB_BACKENDS:
            self._catch_stop_signals(backend)
        try:
            self.icon.run(setup=self._setup)
        except Exception as error:
            # pystray's setup thread waits for a "ready" that never came: release it, or
            # the process could not exit. The error goes to the log; the user gets a line.
            self._failed = True
            self.icon._mark_ready()
            log.exception("the %s tray stopped with an error", backend)
            raise TrayAppError(
                f"the tray could not start (pystray {backend}: {type(error).__name__}:"
                f" {str(error).splitlines()[0][:160] if str(error) else 'no detail'})",
                f"see the log ({log_file(self.paths.log_dir)}), or use `{APP_NAME} status` /"
                f" `{APP_NAME} watch`") from None
        finally:
            self.loop.stop()
            self.runner.stop()
            if self._scheduler is not None:
                self._scheduler.join(timeout=5)
            self.loop.join_worker()
        log.info("tray stopped")
        return 0

    def _icon_class(self, base: type) -> tuple[type, dict]:
        """Windows: pystray's win32 icon with clickable balloons (tray_app.ui.balloon)."""
        if not base.__module__.endswith("_win32"):
            return base, {}
        from tray_app.ui.balloon import BalloonClicks, win32_icon_class

        return win32_icon_class(base), {"clicks": BalloonClicks(self.runner.submit),
                                        "on_session_end": self.quit}

    def _catch_stop_signals(self, backend: str) -> None:
        """The stop signals (POSIX: SIGTERM/SIGINT/SIGHUP; Windows: SIGINT/SIGBREAK) stop the
        icon like Quit does (pystray then removes its temp icon file), so the tray exits 0.
        GTK's main loop only sees them through GLib, and only once pystray has set up (it
        resets SIGINT to the default while starting)."""
        if backend in GLIB_BACKENDS:
            from gi.repository import GLib
            for number in STOP_SIGNALS:
                GLib.unix_signal_add(GLib.PRIORITY_HIGH, number, self._on_signal, number)
        else:
            for number in STOP_SIGNALS:
                signal.signal(number, lambda received, _frame: self._on_signal(received))

    def _on_signal(self, number: int) -> bool:
        log.info("%s received: stopping", signal.Signals(number).name)
        self.quit()
        return False  # GLib: remove the source

    def _setup(self, icon) -> None:
        if self._failed:
            return
        if self._backend_running in GLIB_BACKENDS:
            self._catch_stop_signals(self._backend_running)
        self._on_main(lambda: setattr(icon, "visible", True))
        self._scheduler = threading.Thread(target=self.loop.run, name="ecr-token-tray-loop",
                                           daemon=True)
        self._scheduler.start()

    def quit(self) -> None:
        """From any thread: Quit's click, a stop signal, the end of the session."""
        self.loop.stop()
        icon = self.icon
        if icon is not None:
            self._on_main(icon.stop)

    def _menu(self, view: LoopView):
        return to_pystray(menu_entries(view, autostart_view()), self.runner.submit)

    def _show(self, view: LoopView) -> None:
        """Called from the scheduler or a worker thread with the newest view."""
        self._on_main(lambda: self._apply(view))

    def _apply(self, view: LoopView) -> None:
        icon = self.icon
        if icon is None:
            return
        with self._apply_lock:
            entries = menu_entries(view, autostart_view())
            looks = (icon_inputs(view.snapshot), bool(view.busy))
            if looks != self._looks:
                icon.icon = icon_for(view.snapshot, ICON_PIXELS, busy=bool(view.busy))
                self._looks = looks
            icon.title = tooltip_text(view.snapshot, view.busy)
            if entries != self._entries:
                icon.menu = to_pystray(entries, self.runner.submit)
                self._entries = entries
                log.debug("menu: %s", " | ".join(e.text or "-" for e in entries))
