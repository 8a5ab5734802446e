"""The recorder behind the fake AppKit of this folder: every AppKit call with its thread,
and a main-thread event queue that stands in for AppKit's run loop.

Real AppKit must be called on the main thread only (recent macOS traps otherwise); this fake
does not trap, it records, so one run lists every offence. ``FAKE_CALLAFTER=inline`` makes
``AppHelper.callAfter`` run its function at once on the caller's thread: a deliberately wrong
dispatcher, to show that the checker catches UI calls moved off the main thread.
"""

from __future__ import annotations

import queue
import threading

CALLS: list[tuple[str, str, bool]] = []  # (call, thread name, on the main thread)
EVENTS: queue.Queue = queue.Queue()  # what the main thread's run loop delivers
_lock = threading.Lock()


def record(call: str) -> None:
    thread = threading.current_thread()
    with _lock:
        CALLS.append((call, thread.name, thread is threading.main_thread()))


def post(function) -> None:
    """Deliver ``function`` on the main thread, as AppKit delivers clicks and callAfter."""
    EVENTS.put(function)


def calls() -> list[tuple[str, str, bool]]:
    with _lock:
        return list(CALLS)


def off_main_thread(recorded: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """The checker: every recorded AppKit call that did not happen on the main thread."""
    return [call for call in recorded if not call[2]]
