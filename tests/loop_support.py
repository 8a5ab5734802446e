"""Seams for driving the tray/watch loop in tests: a controllable clock, a scripted wait
(the loop's one timing seam) and a notifier that records what it was asked to show."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class FakeClock:
    """Wall clock and monotonic clock that move only when told. ``suspend`` moves the wall
    clock alone, as a laptop lid does (CLOCK_MONOTONIC stops during suspend on Linux)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = 10_000.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds

    def suspend(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedWait:
    """Stands in for ``Event.wait(timeout)``: time passes by ``timeout``, then any events
    scheduled up to the new time run (a file written, a suspend), then ``stop`` when due.
    Offsets count running time (the monotonic clock), so a suspend does not use them up."""

    clock: FakeClock
    stop_after: timedelta
    on_stop: Callable[[], None]
    events: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    waits: int = 0

    def __post_init__(self) -> None:
        self.start = self.clock.mono

    @property
    def elapsed(self) -> float:
        return self.clock.mono - self.start

    def at(self, offset: timedelta, action: Callable[[], None]) -> None:
        self.events.append((offset.total_seconds(), action))
        self.events.sort(key=lambda event: event[0])

    def __call__(self, timeout: float) -> bool:
        self.waits += 1
        self.clock.advance(timeout)
        while self.events and self.events[0][0] <= self.elapsed:
            _, action = self.events.pop(0)
            action()
        if self.elapsed >= self.stop_after.total_seconds():
            self.on_stop()
        return False


class RecordingNotifier:
    """The loop's Notifier seam: keeps every notification instead of showing it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bool]] = []
        self.extras: list[dict] = []  # subject and button of each notification, in order
        self._lock = threading.Lock()

    def send(self, title: str, body: str, urgent: bool = False, *, subject: str = "",
             button=None) -> bool:
        with self._lock:
            self.sent.append((title, body, urgent))
            self.extras.append({"subject": subject, "button": button})
        return True

    @property
    def texts(self) -> list[str]:
        return [f"{title}\n{body}" for title, body, _ in self.sent]


class ClickedTray:
    """The real loop, TrayActions and the one ActionRunner, without a GUI: ``click`` hands an
    action over as a tray's menu row (or a notification button) does, and returns once the
    click and the loop's work it started have ended."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        from tests.builders import in_
        from tray_app.service.actions import ActionRunner
        from tray_app.settings import Paths
        from tray_app.ui.actions import TrayActions
        from tray_app.ui.loop import TrayLoop

        self.notifier = RecordingNotifier()
        self.loop = TrayLoop(Paths.from_env(), self.notifier, clock=clock or FakeClock(in_(0)))
        self.runner = ActionRunner(TrayActions(self.loop, Paths.from_env(),
                                               on_quit=lambda: None).dispatch)
        self.loop.step()

    def entries(self) -> list:
        from tray_app.ui.menu import AutostartView, menu_entries

        return menu_entries(self.loop.view(), AutostartView())

    def click(self, action: tuple) -> None:
        self.runner.submit(action)
        wait_until_idle(self.runner, self.loop)

    def stop(self) -> None:
        self.runner.stop()


def wait_until_idle(runner, loop) -> None:
    """A click runs on the runner's worker, and what it starts on the loop's worker after
    it: wait for both."""
    pause = threading.Event()
    while not runner.idle:
        pause.wait(0.01)
    loop.join_worker(timeout=60)


def run_three_minutes(loop, clock: FakeClock) -> None:
    """The loop's real ``run`` for three scripted minutes; its worker is joined at 5 s, so
    what a first step started (a renewal, a logout) has ended before the clock moves on."""
    wait = ScriptedWait(clock, timedelta(minutes=3), loop.stop)
    wait.at(timedelta(seconds=5), lambda: loop.join_worker(timeout=60))
    loop._wait = wait
    loop.run()
