"""tray_app.service.actions.ActionRunner: where every front end's menu click runs.

Real threads; actions block on Events the test releases, so nothing depends on a duration.
"""

from __future__ import annotations

import logging
import threading

from tray_app.service.actions import ActionRunner

WAIT = 30  # seconds: only ever reached when the runner is broken


class Rows:
    """Stand-in for TrayActions.dispatch: records who ran what, on which thread; the row
    named "slow" waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.ran: list[tuple[str, str]] = []
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def dispatch(self, action: tuple[str, ...]) -> None:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if action[0] == "slow":
                self.started.set()
                assert self.release.wait(WAIT)
            if action[0] == "broken":
                raise ValueError("a bug in a row")
            self.ran.append((action[0], threading.current_thread().name))
        finally:
            with self.lock:
                self.running -= 1


def test_a_click_returns_at_once_and_runs_on_the_one_worker():
    rows = Rows()
    views = threading.Semaphore(0)
    runner = ActionRunner(rows.dispatch, after=views.release)
    assert runner.submit(("slow",))  # returns while the row still waits
    assert rows.started.wait(WAIT)
    assert runner.submit(("refresh", "host", "docker-config"))
    assert not runner.idle
    rows.release.set()
    assert views.acquire(timeout=WAIT) and views.acquire(timeout=WAIT)  # one view per action
    runner.stop()
    assert rows.ran == [("slow", "ecr-token-tray-action"),
                        ("refresh", "ecr-token-tray-action")]
    assert rows.most_at_once == 1  # serialised: two clicks never run at once


def test_a_double_click_on_a_waiting_row_runs_it_once():
    rows = Rows()
    done = threading.Semaphore(0)
    runner = ActionRunner(rows.dispatch, after=done.release)
    runner.submit(("slow",))
    assert rows.started.wait(WAIT)
    assert runner.submit(("toggle-autostart",))
    assert not runner.submit(("toggle-autostart",))  # the same row, still waiting
    rows.release.set()
    assert done.acquire(timeout=WAIT) and done.acquire(timeout=WAIT)
    runner.stop()
    assert [name for name, _ in rows.ran] == ["slow", "toggle-autostart"]


def test_quit_does_not_wait_behind_a_slow_row():
    rows = Rows()
    runner = ActionRunner(rows.dispatch)
    runner.submit(("slow",))
    assert rows.started.wait(WAIT)
    runner.submit(("quit",))
    assert ("quit", threading.current_thread().name) in rows.ran  # ran here, now
    rows.release.set()
    runner.stop()


def test_a_failing_row_is_logged_and_the_next_one_still_runs(caplog):
    rows = Rows()
    done = threading.Semaphore(0)
    runner = ActionRunner(rows.dispatch, after=done.release)
    with caplog.at_level(logging.INFO, logger="tray_app.service.actions"):
        runner.submit(("broken",))
        runner.submit(("open-log",))
        assert done.acquire(timeout=WAIT) and done.acquire(timeout=WAIT)
        runner.stop()
    assert [name for name, _ in rows.ran] == ["open-log"]
    failure = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert failure.getMessage() == "menu action broken failed" and failure.exc_info
    assert "menu action open-log done" in caplog.text


def test_after_stop_clicks_are_ignored_and_no_thread_is_left():
    rows = Rows()
    runner = ActionRunner(rows.dispatch)
    runner.submit(("open-log",))
    runner.stop()
    assert not runner.submit(("open-config",))
    assert not [t for t in threading.enumerate() if t.name == "ecr-token-tray-action"]
