"""Where a menu click runs, for every front end: on one worker thread, never on a GUI thread.

A click arrives on the front end's GUI thread: GTK's main loop (pystray gtk), AppKit's main
thread (pystray darwin), the Win32 message loop (pystray win32) or the native tray's D-Bus
loop. What a row does may take seconds: "Start at login" runs ``systemctl --user`` on
sway/i3 (up to 10 s per call) or ``launchctl`` on macOS, "ecr-login" verifies through a
credential helper. So the GUI thread only queues the action here and returns at once; the
worker runs it, logs what happened and then asks the front end to show the newest view,
which the front end applies on its own GUI thread.

One worker, not a thread per click: rows change the same files (Docker's config.json, the
login entry), so two clicks must never run at once; a second click waits its turn. A click
on a row whose action is already waiting is dropped (an impatient double click).
Quit does not wait behind a slow row: it only asks the front end to stop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

Action = tuple[str, ...]  # as tray_app.ui.menu builds them: ("refresh", host, source)
IMMEDIATE = frozenset({"quit"})  # cheap, and must not wait behind a slow row
STOP_JOIN_SECONDS = 5.0


class ActionRunner:
    """``submit(action)`` from any thread; ``run(action)`` happens on the worker thread.

    ``run`` is what the rows do (``TrayActions.dispatch``, which turns an expected failure
    into a notification). ``after()`` runs on the worker once each action is done: the front
    end publishes the newest view there and applies it on its GUI thread."""

    def __init__(self, run: Callable[[Action], None], after: Callable[[], None] | None = None,
                 name: str = "ecr-token-tray-action") -> None:
        self._run = run
        self._after = after or (lambda: None)
        self._name = name
        self._lock = threading.Condition()
        self._pending: deque[Action] = deque()
        self._running: Action | None = None
        self._stopping = False
        self._worker: threading.Thread | None = None

    def submit(self, action: Action) -> bool:
        """Queue ``action`` and return at once. False: dropped (already waiting, or the
        runner stopped)."""
        if action[:1] and action[0] in IMMEDIATE:
            self._execute(action)
            return True
        with self._lock:
            if self._stopping:
                log.info("menu action %s ignored: the tray is stopping", action[0])
                return False
            if action in self._pending:
                log.info("menu action %s is already waiting: click ignored", action[0])
                return False
            if self._running is not None:
                log.info("menu action %s waits for %s to finish", action[0], self._running[0])
            self._pending.append(action)
            if self._worker is None:  # started at the first click: an idle tray has none
                self._worker = threading.Thread(target=self._work, name=self._name,
                                                daemon=True)
                self._worker.start()
            self._lock.notify()
        return True

    def stop(self, timeout: float = STOP_JOIN_SECONDS) -> None:
        """Drop what still waits, and give the running action ``timeout`` seconds to end
        (it is a daemon thread: a hung ``systemctl`` cannot keep the process alive)."""
        with self._lock:
            self._stopping = True
            dropped = len(self._pending)
            self._pending.clear()
            self._lock.notify()
            worker = self._worker
        if dropped:
            log.info("%d menu action(s) not run: the tray is stopping", dropped)
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
            if worker.is_alive():
                log.warning("a menu action was still running when the tray stopped")

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._running is None and not self._pending

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                action = self._running = self._pending.popleft()
            try:
                self._execute(action)
            finally:
                with self._lock:
                    self._running = None

    def _execute(self, action: Action) -> None:
        started = time.monotonic()
        try:
            self._run(action)
        except Exception:  # run() reports expected failures itself; this is a bug
            log.exception("menu action %s failed", action[0] if action else action)
        log.info("menu action %s done (%.1f s)", action[0] if action else action,
                 time.monotonic() - started)
        try:
            self._after()
        except Exception:
            log.exception("the tray could not show the state after %s", action[:1])
