"""Run the real pystray tray (tray_app.ui.tray.TrayApp) on pystray's darwin backend against
the fake AppKit of this folder, and drive it as a Mac user and macOS would.

    PYTHONPATH=<repo> python tests/fake_darwin/run_tray.py REPORT.json WORK_DIR

This folder is sys.path[0] (the script's own folder), so ``import AppKit`` finds the fakes;
the app picks pystray's darwin module the way it picks any backend (``PYSTRAY_BACKEND``,
set by ``TrayApp(paths, "darwin")``). The main thread runs ``TrayApp.run`` (AppKit's run
loop); a driver thread plays the user and the system:
  start -> an alert -> a clock tick that sees a new login -> a click that refreshes ->
  a slow "Start at login" (a held `systemctl`, while the main thread must stay free) ->
  Quit from the menu.
It writes REPORT.json: every AppKit call with its thread, the steps reached, the exit code.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import fake_cocoa

from tests.builders import docker_auth, host
from tests.stand_ins.systemctl import waiting_calls

EXPIRING = host("222222222222", "eu-central-1")
NEW_LOGIN = host("444444444444", "eu-west-1")
STEP_TIMEOUT = 60.0


def wait_until(check, what: str, timeout: float = STEP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def menu_items(menu) -> list:
    found = []
    for item in getattr(menu, "items", []):
        found.append(item)
        if item.submenu is not None:
            found += menu_items(item.submenu)
    return found


class Driver:
    def __init__(self, app, work: Path, report: dict) -> None:
        self.app = app
        self.work = work
        self.report = report
        self.steps: list[str] = report.setdefault("steps", [])

    def status_item(self):
        appkit = sys.modules.get("AppKit")  # imported by pystray once the tray starts
        bar = appkit.NSStatusBar._system if appkit is not None else None
        return bar.items[0] if bar is not None and bar.items else None

    def titles(self) -> list[str]:
        item = self.status_item()
        return [i.title for i in menu_items(item.menu)] if item and item.menu else []

    def click(self, title_starts: str) -> None:
        """AppKit delivers a click on the main thread: the delegate's action with the row."""
        def deliver() -> None:
            fake_cocoa.record("click delivered")
            item = next(i for i in menu_items(self.status_item().menu)
                        if i.title.startswith(title_starts))
            self.app.icon._delegate.activate_menu_item(item)
        fake_cocoa.post(deliver)

    def osascript_lines(self) -> list[str]:
        log = self.work / "osascript.log"
        return log.read_text().splitlines() if log.exists() else []

    def run(self) -> None:
        try:
            self._steps()
        except Exception as error:  # the report says where it stopped
            self.report["driver_error"] = f"{type(error).__name__}: {error}"
            print(f"harness: the driver stopped: {error}", file=sys.stderr)
        finally:
            self.app.quit()  # from this (non-main) thread, as a stop signal would

    def _steps(self) -> None:
        wait_until(lambda: any(t.startswith(EXPIRING.split(".")[0]) or "222222222222" in t
                               for t in self.titles()), "the first view in the menu")
        self.steps.append("started")
        wait_until(lambda: any("expire" in line or "ends in" in line
                               for line in self.osascript_lines()), "the expiry alert")
        self.steps.append("alert")

        # a clock tick: the scheduler's next tick sees a login made elsewhere
        config = Path.home() / ".docker" / "config.json"
        document = json.loads(config.read_text())
        document["auths"][NEW_LOGIN] = {"auth": docker_auth(540)}
        config.write_text(json.dumps(document))
        wait_until(lambda: any("444444444444" in t for t in self.titles()),
                   "the tick to show the new login")
        self.steps.append("tick")

        # a click on the expiring row refreshes it (no AWS credentials here: it fails, and
        # says so in a notification)
        self.click("222222222222")
        wait_until(lambda: any("ECR refresh failed" in line for line in self.osascript_lines()),
                   "the refresh's outcome")
        wait_until(lambda: not self.app.loop.busy, "the refresh to finish")
        self.steps.append("refresh")

        # a slow "Start at login": systemctl is held; the main thread must stay free
        self.click("Start at login")
        systemd = self.work / "systemd"
        wait_until(lambda: waiting_calls(systemd), "the held systemctl call")
        answered = threading.Event()
        seen: dict = {}

        def probe() -> None:  # any event AppKit delivers (a redraw, a click)
            seen["waiting_systemctl"] = waiting_calls(systemd)
            answered.set()
        fake_cocoa.post(probe)
        self.report["main_thread_answered_during_slow_action"] = answered.wait(30) and bool(
            seen.get("waiting_systemctl"))
        (self.work / "release").touch()
        unit = Path.home() / ".config" / "systemd" / "user" / "ecr-token-tray.service"
        wait_until(unit.exists, "the systemd unit of Start at login")
        wait_until(lambda: self.app.runner.idle, "the action to finish")
        self.steps.append("start-at-login")

        self.click("Quit")
        self.steps.append("quit-clicked")


def main(report_path: str, work: str) -> int:
    from tray_app.logs import setup_logging
    from tray_app.settings import Paths
    from tray_app.ui.tray import TrayApp

    paths = Paths.from_env()
    setup_logging(paths.log_dir, debug=True)
    report: dict = {}
    app = TrayApp(paths, "darwin")
    driver = Driver(app, Path(work), report)
    threading.Thread(target=driver.run, name="harness-driver", daemon=True).start()
    report["exit"] = app.run()
    report["calls"] = fake_cocoa.calls()
    report["backend_module"] = type(app.icon).__module__
    Path(report_path).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
