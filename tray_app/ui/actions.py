"""What the menu's rows do. GUI-free: the tray and the tests drive the same object."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from tray_app.errors import TrayAppError
from tray_app.fileio import write_atomic
from tray_app.logs import log_file
from tray_app.model import RegistryStatus
from tray_app.settings import Paths
from tray_app.ui.loop import TrayLoop, expiring_rows
from tray_app.ui.menu import Action, AutostartView

log = logging.getLogger(__name__)
OPEN_TIMEOUT = 15

CONFIG_TEMPLATE = """\
# ecr-token-tray settings; every key is optional (see the README, "Configuration").

[thresholds]
# warning_minutes = 60
# critical_minutes = 15

[notifications]
# minutes_before = [60, 15, 0]

[renew]
# automatic = true

[public_ecr]
# Log out of public.ecr.aws by itself when that login has expired or is about to:
# anonymous pulls work without a login, an expired one makes every pull fail.
# auto_logout = false

# [registries."222222222222.dkr.ecr.eu-central-1.amazonaws.com"]
# profile = "dev"
"""


def open_with_desktop(path: Path,
                      on_failure: Callable[[Path, str], None] | None = None) -> None:
    """Open a file in the user's default app, off the calling thread. A failure (no
    xdg-open, or no app for the file) is logged and handed to ``on_failure(path, why)``."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
        return
    command = ["open" if sys.platform == "darwin" else "xdg-open", str(path)]

    def run() -> None:
        try:
            result = subprocess.run(command, capture_output=True, timeout=OPEN_TIMEOUT,
                                    check=False, stdin=subprocess.DEVNULL)
            if result.returncode == 0:
                return
            why = f"{command[0]} exited {result.returncode}"
        except (OSError, subprocess.TimeoutExpired) as error:
            why = f"{command[0]}: {type(error).__name__}"
        log.warning("cannot open %s: %s", path, why)
        if on_failure is not None:
            on_failure(path, why)

    threading.Thread(target=run, name="ecr-token-tray-open", daemon=True).start()


def autostart_view() -> AutostartView:
    from tray_app.autostart import is_enabled  # lazy: plistlib/subprocess only for the menu
    try:
        return AutostartView(enabled=is_enabled())
    except (OSError, TrayAppError) as error:  # e.g. an unreadable login entry
        log.warning("cannot tell whether autostart is on: %s", error)
        return AutostartView(problem=f"cannot tell ({type(error).__name__})")


class TrayActions:
    def __init__(self, loop: TrayLoop, paths: Paths, on_quit: Callable[[], None],
                 opener: Callable[[Path], None] | None = None) -> None:
        self.loop = loop
        self.paths = paths
        self.on_quit = on_quit
        self.opener = opener or (lambda path: open_with_desktop(path, self._open_failed))

    def _open_failed(self, path: Path, why: str) -> None:
        """No app opened the file (a bare window manager, no xdg-open): say where it is."""
        self.loop.notifier.send(f"Cannot open {path.name}", f"Open it yourself: {path}\n({why})",
                                False, subject=f"open|{path}")

    def dispatch(self, action: Action) -> None:
        """Run one menu action; a failure becomes a notification, never an exception."""
        name, *args = action
        handler = getattr(self, "_" + name.replace("-", "_"), None)
        if handler is None:
            log.error("unknown menu action %r", action)
            return
        try:
            handler(*args)
        except Exception as error:
            log.exception("menu action %s failed", name)
            self.loop.notifier.send(f"{APP_TITLE}: {name} failed",
                                    f"{type(error).__name__}: see the log", False)

    def _refresh(self, host: str, source: str) -> None:
        snapshot = self.loop.view().snapshot
        rows = [r for r in (snapshot.registries if snapshot else ())
                if r.host == host and r.source == source and r.kubernetes is None]
        if rows:
            self.loop.start_refresh(rows, interactive=True)

    def _refresh_secret(self, host: str, context: str, namespace: str, secret: str) -> None:
        snapshot = self.loop.view().snapshot
        rows = [r for r in (snapshot.registries if snapshot else ())
                if r.host == host and r.kubernetes is not None
                and (r.kubernetes.context, r.kubernetes.namespace, r.kubernetes.secret)
                == (context, namespace, secret)]
        if rows:
            self.loop.start_refresh(rows, interactive=True)

    def _refresh_expiring(self) -> None:
        self.loop.start_refresh(expiring_rows(self.loop.view().snapshot), interactive=True)

    def _ecr_login_on(self, host: str) -> None:
        """"Never expires: use ecr-login": ``credhelper enable HOST``, verified."""
        row = self._row(host, lambda r: not r.managed)
        if row is not None:
            self.loop.start_task(f"Handing {row.registry.label} to ecr-login...",
                                 lambda: self._hand_over(row))

    def _ecr_login_off(self, host: str) -> None:
        """"Back to docker login": ``credhelper disable HOST --login``."""
        row = self._row(host, lambda r: r.managed)
        if row is not None:
            self.loop.start_task(f"Taking {row.registry.label} back from ecr-login...",
                                 lambda: self._take_back(row))

    def _plain_file(self, host: str) -> None:
        """"Fix: keep logins in config.json": for a store whose helper is not installed,
        remove its entry (Docker can read nothing from it anyway), then log in again."""
        row = self._row(host, lambda r: r.store_problem is not None
                        and r.store_problem.plain_file_is_safe)
        if row is not None:
            self.loop.start_task(f"Keeping {row.registry.label}'s login in config.json...",
                                 lambda: self._to_plain_file(row))

    def _to_plain_file(self, row: RegistryStatus) -> list[RegistryStatus]:
        from tray_app import credhelper
        from tray_app.renew.store import drop_store_entry

        try:
            drop_store_entry(self.paths.docker_config, row.host,
                             row.store_problem.configured_in)
        except TrayAppError as error:
            self.loop.notifier.send(f"{row.registry.label}: nothing changed", str(error), False)
            return []
        return [credhelper.plain_login_row(row.registry, row.profile)]

    def _logout_public(self, host: str | None = None, source: str | None = None) -> None:
        """"Log out: anonymous pulls work" (a row's, or the alert's button for all): the
        same transaction as `ecr-token-tray logout --expired-public`."""
        snapshot = self.loop.view().snapshot
        self.loop.start_task("Logging out of public.ecr.aws...",
                             lambda: self.loop.logout_public(snapshot, host, source))

    def _row(self, host: str, wanted: Callable) -> RegistryStatus | None:
        snapshot = self.loop.view().snapshot
        return next((r for r in (snapshot.registries if snapshot else ())
                     if r.host == host and wanted(r)), None)

    def _hand_over(self, row: RegistryStatus) -> None:
        """The same transaction as `credhelper enable HOST`: verified before config.json
        changes; a failed check changes nothing and says why."""
        from tray_app.credhelper import Target
        from tray_app.service.handover import hand_over
        from tray_app.settings import load_settings

        folder = load_settings(self.paths)[0].wrapper_folder
        try:
            (result,) = hand_over(self.paths.docker_config, [Target(row.registry, row.profile)],
                                  folder)
        except TrayAppError as error:
            self.loop.notifier.send("ecr-login: nothing changed", str(error), False)
            return
        log.info("%s; %s", result.message, result.check)
        if not result.committed:
            self.loop.notifier.send(f"{row.registry.label}: nothing changed", result.message,
                                    True)
            return
        self.loop.notifier.send(f"{row.registry.label} now renews itself",
                                f"{result.message}\n{result.check}", False)

    def _take_back(self, row: RegistryStatus) -> list[RegistryStatus]:
        """`credhelper disable HOST --login`: when the login with Docker does not work,
        the registry stays on ecr-login (tray_app/service/handover.py)."""
        from tray_app.service.handover import take_back
        from tray_app.settings import load_settings

        folder = load_settings(self.paths)[0].wrapper_folder
        try:
            results = take_back(self.paths.docker_config, [row.host], folder,
                                login=self.loop.login_here)
        except TrayAppError as error:
            self.loop.notifier.send("ecr-login: nothing changed", str(error), False)
            return []
        log.info("; ".join(r.message for r in results))
        for result in results:
            if result.restored:
                self.loop.notifier.send(f"{row.registry.label}: still on ecr-login",
                                        result.message, True)
        return []

    def _sign_in(self, session_name: str) -> None:
        self.loop.start_sign_in(session_name)

    def _toggle_auto_renew(self) -> None:
        self.loop.set_auto_renew(not self.loop.auto_renew)

    def _toggle_autostart(self) -> None:
        from tray_app import autostart
        try:
            done = autostart.disable() if autostart.is_enabled() else autostart.enable()
        except TrayAppError as error:
            self.loop.notifier.send("Start at login: not changed", str(error), False)
            return
        log.info("autostart: %s", done)
        self.loop.nudge()

    def _open_config(self) -> None:
        config = self.paths.config_file
        if not config.exists():
            write_atomic(config, CONFIG_TEMPLATE.encode())
        self.opener(config)

    def _open_log(self) -> None:
        path = log_file(self.paths.log_dir)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)
        self.opener(path)

    def _quit(self) -> None:
        log.info("quit from the menu")
        self.on_quit()


APP_TITLE = "ECR token tray"
