"""The tray: pystray owns the main thread; the loop runs on a scheduler thread.

Threads: main (pystray's event loop), pystray's setup thread (starts the scheduler and
returns), the scheduler (``TrayLoop.run``), and at most one refresh worker at a time.
The loop publishes a ``LoopView``; ``_apply`` turns it into icon, tooltip and menu.

Platform threading:
- gtk/appindicator: pystray's setters post to the GLib main loop themselves (idle_add), so
  calling them from the scheduler thread is safe.
- macOS (darwin backend, AppKit): every change is posted to the main thread with
  ``PyObjCTools.AppHelper.callAfter`` (pyobjc comes with pystray on macOS). This path is
  written to the documented rules but NOT tested here (no macOS machine in CI).
- win32: pystray sends window messages; setters are safe from any thread.
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
from tray_app.settings import Paths
from tray_app.ui.actions import TrayActions, autostart_view
from tray_app.ui.backend import Choice
from tray_app.ui.icon import icon_for, icon_inputs, tooltip_text
from tray_app.ui.loop import LoopView, TrayLoop
from tray_app.ui.menu import menu_entries, to_pystray
from tray_app.ui.notify import DesktopNotifier

log = logging.getLogger(__name__)
ICON_PIXELS = 64  # the panel scales it; 64 keeps HiDPI panels sharp
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GLIB_BACKENDS = ("gtk", "appindicator")


def no_menu_hint() -> str:
    """The xorg fallback's warning, with the command that fits how this copy was installed."""
    from tray_app.install_info import current

    return ("this tray has no menu (pystray fell back to its xorg backend: no PyGObject) -"
            f" to get one: {current().menu_fix_command()}")


def require_desktop() -> None:
    """Fail with one line, before any GUI import, when there is no desktop to show a tray."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise TrayAppError(
            "no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set), so no tray icon",
            f"use `{APP_NAME} status` for a table or `{APP_NAME} watch` for a live view")


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
    """PYSTRAY_BACKEND=backend while pystray is imported; restored after (children)."""
    if backend is None or backend in ("darwin", "win32"):
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
    return type(icon).__module__.rsplit(".", 1)[-1].lstrip("_")


def on_main_thread(function: Callable[[], None]) -> None:
    if sys.platform == "darwin":
        from PyObjCTools import AppHelper  # shipped with pyobjc, which pystray needs there
        AppHelper.callAfter(function)
    else:
        function()


class TrayApp:
    """The pystray front end (macOS, Windows, and XEmbed trays on Linux)."""

    def __init__(self, paths: Paths, backend: str | None = None) -> None:
        self.paths = paths
        self.backend = backend
        self.icon = None
        self.notifier = DesktopNotifier(icon_getter=lambda: self.icon)
        self.loop = TrayLoop(paths, self.notifier, on_view=self._show)
        self.actions = TrayActions(self.loop, paths, on_quit=self.quit)
        self._scheduler: threading.Thread | None = None
        self._apply_lock = threading.Lock()
        self._looks: tuple | None = None
        self._failed = False
        self._backend_running = ""
        self._entries: list | None = None

    def run(self) -> int:
        pystray = import_pystray(self.backend)
        self.icon = pystray.Icon(APP_NAME, icon=icon_for(None, ICON_PIXELS),
                                 title=tooltip_text(None), menu=self._menu(self.loop.view()))
        backend = backend_name(self.icon)
        log.info("tray starting with backend %s (pystray)", backend)
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
            if self._scheduler is not None:
                self._scheduler.join(timeout=5)
            self.loop.join_worker()
        log.info("tray stopped")
        return 0

    def _catch_stop_signals(self, backend: str) -> None:
        """SIGTERM/SIGINT/SIGHUP stop the icon like Quit does (pystray then removes its temp
        icon file), so the tray exits 0. GTK's main loop only sees them through GLib, and
        only once pystray has set up (it resets SIGINT to the default while starting)."""
        if backend in GLIB_BACKENDS:
            from gi.repository import GLib
            for number in STOP_SIGNALS:
                GLib.unix_signal_add(GLib.PRIORITY_HIGH, number, self._on_signal, number)
        elif sys.platform != "win32":
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
        icon.visible = True
        self._scheduler = threading.Thread(target=self.loop.run, name="ecr-token-tray-loop",
                                           daemon=True)
        self._scheduler.start()

    def quit(self) -> None:
        self.loop.stop()
        if self.icon is not None:
            self.icon.stop()

    def _menu(self, view: LoopView):
        return to_pystray(menu_entries(view, autostart_view()), self.actions.dispatch)

    def _show(self, view: LoopView) -> None:
        """Called from the scheduler or a worker thread with the newest view."""
        on_main_thread(lambda: self._apply(view))

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
                icon.menu = to_pystray(entries, self.actions.dispatch)
                self._entries = entries
