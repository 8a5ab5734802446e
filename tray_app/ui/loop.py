"""The loop behind the tray and `watch`: recompute, alert, renew. No GUI library here.

One timing seam: the scheduler sleeps only in ``wait(timeout)`` (a ``threading.Event``
by default), and reads time only from a ``Clock``. Tests pass a fake of both and drive
simulated days in seconds.

Every ``poll_seconds`` (1 s) a tick stats the files logins live in (cheap: no helper, no
AWS). The full snapshot, which may run credential helpers, is taken only when one of them
changed, a minute passed, the wall clock jumped (suspend/resume), or a refresh finished.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from tray_app.alerts import (
    DEFAULT_ACTION,
    LOGIN_BUTTON,
    Button,
    login_identity,
    plan_alerts,
    renewing_action,
)
from tray_app.alertstate import TrayState, load_tray_state, save_tray_state
from tray_app.errors import TrayAppError
from tray_app.model import RegistryStatus, Snapshot, State
from tray_app.service.login_files import login_files
from tray_app.service.snapshots import Snapshots
from tray_app.settings import Paths, load_settings
from tray_app.sources.ecr_login import HELPER_PROGRAM as ECR_LOGIN_PROGRAM
from tray_app.timeutil import iso_utc, utc_now

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
FULL_EVERY_SECONDS = 60.0
KUBE_SCAN_SECONDS = 300.0  # clusters are asked at most this often (or on a kubeconfig change)
JUMP_TOLERANCE_SECONDS = 5.0  # wall vs monotonic disagreement that means suspend/clock change
AUTO_RENEW_EXPIRED_WITHIN = timedelta(hours=12)  # renew a login that lapsed while asleep
WORKER_JOIN_SECONDS = 5.0


class Clock(Protocol):
    def wall(self) -> datetime: ...
    def monotonic(self) -> float: ...


class SystemClock:
    def wall(self) -> datetime:
        return utc_now()

    def monotonic(self) -> float:
        return time.monotonic()


class Notifier(Protocol):
    """Shows a notification. ``subject``: a newer one about the same subject replaces the
    older bubble; ``button``: an action button, for notifiers whose server shows them."""

    def send(self, title: str, body: str, urgent: bool = False, *, subject: str = "",
             button: Button | None = None) -> bool: ...


@dataclass(frozen=True)
class LoopView:
    """Everything a front end shows; rebuilt and published after every change."""

    snapshot: Snapshot | None
    busy: str | None
    auto_renew: bool
    settings_problem: str | None
    progress: str | None = None  # the engine's latest step while busy
    ecr_login_installed: bool = False  # docker-credential-ecr-login is on PATH


def fingerprint(paths: Paths) -> tuple:
    """mtime/size/inode of every login file (tray_app/service/login_files.py), and of the
    files in a login folder (the SSO token cache). Stats only."""
    stats: list[object] = []
    for path in login_files(paths):
        stats.append(_stat(path))
        if os.path.isdir(path):
            stats.append(_folder_stats(path))
    return tuple(stats)


def _folder_stats(folder: Path) -> list | None:
    try:
        with os.scandir(folder) as entries:
            return sorted((e.name, _entry_stat(e)) for e in entries)
    except OSError:
        return None


def _entry_stat(entry: os.DirEntry) -> tuple[int, int, int] | None:
    try:
        st = entry.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def expiring_rows(snapshot: Snapshot | None) -> list[RegistryStatus]:
    if snapshot is None:
        return []
    return [r for r in snapshot.registries if r.state.due_for_renewal]


class TrayLoop:
    def __init__(self, paths: Paths, notifier: Notifier, *,
                 clock: Clock | None = None,
                 on_view: Callable[[LoopView], None] | None = None,
                 wait: Callable[[float], object] | None = None,
                 poll_seconds: float = POLL_SECONDS,
                 full_every: float = FULL_EVERY_SECONDS,
                 action: str = DEFAULT_ACTION) -> None:
        self.paths = paths
        self.notifier = notifier
        self.clock = clock or SystemClock()
        self.on_view = on_view or (lambda view: None)
        self.poll_seconds = poll_seconds
        self.full_every = full_every
        self.action = action
        self._wake = threading.Event()
        self._wait = wait or self._event_wait
        self._lock = threading.RLock()
        self._stopping = False
        self._force = True
        self._fingerprint: tuple | None = None
        self._last_full: float | None = None  # monotonic time of the last full recompute
        self._last_tick: tuple[datetime, float] | None = None
        self._snapshot: Snapshot | None = None
        self._ecr_login_installed = False
        self._settings, self._settings_problem = load_settings(paths)
        self._state: TrayState = load_tray_state(paths.state_dir)
        self._busy: str | None = None
        self._progress_text: str | None = None
        self._worker: threading.Thread | None = None
        self._quiet: frozenset[tuple[str, str]] = frozenset()  # being renewed silently now
        self._auto_attempted: set[str] = set()
        self._logging_out = False  # an automatic public.ecr.aws logout is running
        self._logouts_done = 0  # how many have ended (a snapshot read meanwhile is stale)
        self.snapshots = Snapshots(paths, kube_max_age=KUBE_SCAN_SECONDS,
                                   monotonic=self.clock.monotonic)
        self.recomputes = 0
        self.clock_jumps = 0

    # -- the scheduler ---------------------------------------------------------------------
    def run(self) -> None:
        """Tick until stop(). Runs on its own thread in the tray, on the main one in watch."""
        while not self._stopping:
            try:
                self.step()
            except Exception:  # one bad tick must not end the loop
                log.exception("loop tick failed")
            if self._stopping:
                break
            self._wait(self.poll_seconds)

    def _event_wait(self, timeout: float) -> bool:
        woken = self._wake.wait(timeout)
        self._wake.clear()
        return woken

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def join_worker(self, timeout: float = WORKER_JOIN_SECONDS) -> None:
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def nudge(self) -> None:
        """Recompute at the next tick (a refresh finished, a setting changed)."""
        self._force = True
        self._wake.set()

    def step(self) -> bool:
        """One tick. Returns True when the full snapshot was recomputed."""
        now, mono = self.clock.wall(), self.clock.monotonic()
        jumped = self._clock_jumped(now, mono)
        self._last_tick = (now, mono)
        current = fingerprint(self.paths)
        # "a minute passed" is measured on the monotonic clock; wall jumps are caught above
        stale = self._last_full is None or mono - self._last_full >= self.full_every
        if not (self._force or jumped or stale or current != self._fingerprint):
            return False
        self._force = False
        self._fingerprint = current
        self._last_full = mono
        self._recompute(now)
        return True

    def _clock_jumped(self, now: datetime, mono: float) -> bool:
        if self._last_tick is None:
            return False
        last_wall, last_mono = self._last_tick
        drift = (now - last_wall).total_seconds() - (mono - last_mono)
        if abs(drift) <= JUMP_TOLERANCE_SECONDS:
            return False
        self.clock_jumps += 1
        log.info("wall clock jumped by %+.0f s (suspend/resume or clock change): recomputing",
                 drift)
        return True

    # -- one full recompute ----------------------------------------------------------------
    def _recompute(self, now: datetime) -> None:
        self.recomputes += 1
        logouts = (self._logging_out, self._logouts_done)  # before the files are read
        taken = self.snapshots.take(now)  # rewrites the shell prompts' summary too
        snapshot = taken.snapshot
        self._settings, self._settings_problem = taken.settings, taken.settings_problem
        installed = shutil.which(ECR_LOGIN_PROGRAM) is not None  # the menu offers it then
        with self._lock:
            previous, self._snapshot = self._snapshot, snapshot
            self._ecr_login_installed = installed
        self._log_new_problems(previous, snapshot)
        blocked = self._blocked(snapshot)
        leaving = self._auto_logout_public(snapshot, logouts)
        quiet = self._auto_renew(snapshot, now, {**blocked, **dict.fromkeys(leaving, "")})
        quiet |= leaving
        plan = plan_alerts(snapshot, self._state.sent_alerts, now, self._settings, quiet,
                           self.action, blocked)
        self._remember_sent(plan.mark_sent, now)
        if plan.notification is not None:
            log.info("alert: %s", plan.notification.title)
            note = plan.notification
            self.notifier.send(note.title, note.body, note.urgent, subject=note.subject,
                               button=note.button)
        else:
            self._tell_store_problem(snapshot, now, installed)
        self._publish()

    def _tell_store_problem(self, snapshot: Snapshot, now: datetime,
                            ecr_login_installed: bool) -> None:
        """A login whose credential store cannot hold it (tray_app.stores): one
        notification with the fix, again a day later while it lasts (the menu line under
        the row says it all the time). One per recompute, and never over an expiry alert."""
        for row in snapshot.registries:
            problem = row.store_problem
            if problem is None or not problem.blocks_login:
                continue
            key = _store_problem_key(row, now)
            if key in self._state.sent_alerts:
                continue
            self._remember_sent({key}, now)
            body = f"Fix: {problem.fix}\n{problem.reason}"
            button = None
            if ecr_login_installed and not row.managed:
                button = Button("fix", "Use ecr-login", ("ecr-login-on", row.host),
                                f"Press Use ecr-login to fix it.\n{problem.reason}")
            log.info("store problem told: %s", problem.line)
            self.notifier.send(f"{row.registry.label}: its credential store cannot hold an"
                               " ECR login", body, False, subject=f"store|{row.host}",
                               button=button)
            return

    @property
    def clusters(self):
        """The cluster scan (None until a kubeconfig may name a cluster): asked every
        KUBE_SCAN_SECONDS at most, never per tick."""
        return self.snapshots.clusters

    def _log_new_problems(self, previous: Snapshot | None, snapshot: Snapshot) -> None:
        """Each unreadable file once, when it turns up (the menu says "see Open log")."""
        known = set(previous.errors) if previous else set()
        for problem in snapshot.errors:
            if problem not in known:
                log.warning("%s", problem.message)
        seen = set(previous.notices) if previous else set()
        for notice in snapshot.notices:  # a stopped cluster: once, quietly
            if notice not in seen:
                log.info("%s", notice.message)
        if self._settings_problem and (previous is None or self._settings_problem
                                       != getattr(self, "_logged_settings_problem", None)):
            log.warning("%s", self._settings_problem)
        self._logged_settings_problem = self._settings_problem

    def _remember_sent(self, keys: frozenset[str] | set[str], now: datetime) -> None:
        with self._lock:  # the scheduler and a worker may both add keys
            if not keys <= self._state.sent_alerts:
                self._remember(self._state.with_sent(keys, now))

    def _remember(self, state: TrayState) -> None:
        self._state = state
        try:
            save_tray_state(self.paths.state_dir, state)
        except OSError as error:
            log.warning("cannot save %s: %s", self.paths.state_dir, error)

    # -- automatic renewal -----------------------------------------------------------------
    @property
    def auto_renew(self) -> bool:
        chosen = self._state.auto_renew
        return self._settings.auto_renew if chosen is None else chosen

    def set_auto_renew(self, enabled: bool) -> None:
        from dataclasses import replace
        self._remember(replace(self._state, auto_renew=enabled))
        log.info("automatic renewal %s", "on" if enabled else "off")
        self.nudge()

    def _blocked(self, snapshot: Snapshot) -> dict[tuple[str, str], str]:
        """Logins due for renewal whose profile has no AWS credentials at all, or whose
        credential store cannot hold them: not renewed automatically, and their alert says
        what to run (local files only)."""
        blocked = {login_identity(r): r.store_problem.fix for r in snapshot.registries
                   if r.store_problem is not None and r.store_problem.blocks_login}
        rows = [r for r in snapshot.registries if r.state.due_for_renewal and not r.managed
                and login_identity(r) not in blocked]
        if not rows:
            return blocked
        from tray_app.renew.credentials import credentials_problem  # lazy: idle stays light
        problems: dict[str | None, str | None] = {}
        for row in rows:
            if row.profile not in problems:
                problems[row.profile] = credentials_problem(row.profile)
            if problems[row.profile]:
                blocked[login_identity(row)] = problems[row.profile]
        return blocked

    def _auto_renew(self, snapshot: Snapshot, now: datetime,
                    blocked: dict[tuple[str, str], str] | None = None
                    ) -> frozenset[tuple[str, str]]:
        """Start a silent renewal for logins entering the warning window; return them."""
        if not self.auto_renew:
            return frozenset()
        candidates = [r for r in snapshot.registries if _wants_auto_renew(r, now)
                      and login_identity(r) not in (blocked or {})]
        if not candidates:
            return self._quiet
        from tray_app.renew.sso import can_renew_silently  # lazy: the idle loop stays light
        if self.busy:
            return self._quiet | {login_identity(r) for r in candidates
                                  if _attempt_key(r) not in self._auto_attempted}
        silent = []
        for row in candidates:
            key = _attempt_key(row)
            if key in self._auto_attempted:
                continue
            if not _silently_renewable(can_renew_silently, row.profile):
                continue  # a browser is needed: the normal alerts tell the user
            self._auto_attempted.add(key)
            silent.append(row)
        if silent:
            self._quiet = frozenset(login_identity(r) for r in silent)
            self.start_refresh(silent, interactive=False)
        return self._quiet

    # -- public.ecr.aws: log out instead of renewing -------------------------------------------
    def _auto_logout_public(self, snapshot: Snapshot, logouts: tuple[bool, int]
                            ) -> frozenset[tuple]:
        """``[public_ecr] auto_logout``: log out of a stale public.ecr.aws login, once per
        login and expiry; return the logins being logged out (no alert, no renewal for
        them meanwhile, nor from a snapshot read while a logout ran). One that could not
        be logged out is alerted as usual after. ``logouts``: (running, ended) as they
        were before ``snapshot`` was read."""
        if not self._settings.public_auto_logout:
            return frozenset()
        from tray_app.service.logout import stale_public_rows

        rows = stale_public_rows(snapshot)
        fresh = [r for r in rows if _logout_key(r) not in self._auto_attempted]
        if fresh and not self.busy:
            self._auto_attempted.update(_logout_key(r) for r in fresh)
            self._logging_out = True
            self.start_task("Logging out of public.ecr.aws...",
                            lambda: self.logout_public(snapshot, automatic=True))
        running, ended = logouts
        if fresh or running or self._logging_out or self._logouts_done != ended:
            return frozenset(login_identity(r) for r in rows)
        return frozenset()

    def logout_public(self, snapshot: Snapshot | None, host: str | None = None,
                      source: str | None = None, automatic: bool = False) -> None:
        """Log out of stale public.ecr.aws logins (tray_app/service/logout.py; a failure
        changes nothing) and say so: the menu row, the alert's button, auto_logout."""
        from tray_app.service.logout import logout_stale_public

        how = "automatic" if automatic else "menu"
        try:
            done = logout_stale_public(self.paths, snapshot, host, source)
        except TrayAppError as error:
            log.warning("%s public.ecr.aws logout failed: %s", how, error)
            self.notifier.send("public.ecr.aws: not logged out", str(error), True,
                               subject="logout-public")
            return
        finally:
            if automatic:
                self._logouts_done += 1
                self._logging_out = False
        if not done:
            log.info("%s public.ecr.aws logout: no stale login left", how)
            return
        lines = [result.message for result in done]
        log.info("%s public.ecr.aws logout: %s", how, "; ".join(lines))
        title = ("Logged out of public.ecr.aws by itself" if automatic
                 else "Logged out of public.ecr.aws")
        self.notifier.send(title, "\n".join(["Anonymous pulls work again.", *lines]), False,
                           subject="logout-public")

    # -- refresh and sign-in on a worker thread ----------------------------------------------
    @property
    def busy(self) -> str | None:
        return self._busy

    def start_refresh(self, rows: Sequence[RegistryStatus], interactive: bool = True) -> bool:
        """Run the re-login engine for ``rows`` on a worker thread. False: one is running."""
        if not rows:
            return False
        label = rows[0].registry.label if len(rows) == 1 else f"{len(rows)} registries"
        return self._start(f"Refreshing {label}...", self._refresh, rows, interactive)

    def start_task(self, busy_text: str,
                   task: Callable[[], Sequence[RegistryStatus] | None]) -> bool:
        """Run a menu action's ``task`` on the worker thread; rows it returns are then
        logged in again as a refresh would (e.g. "Back to docker login")."""
        return self._start(busy_text, self._task, task)

    def _task(self, task: Callable[[], Sequence[RegistryStatus] | None]) -> None:
        rows = task()
        if rows:
            self._refresh(rows, True)

    def start_sign_in(self, session_name: str) -> bool:
        return self._start(f"Signing in to {session_name}...", self._sign_in, session_name)

    def _start(self, busy_text: str, target: Callable, *args: object) -> bool:
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                log.info("ignored (%s): another refresh is running", busy_text)
                return False
            self._busy = busy_text
            self._worker = threading.Thread(target=self._work, args=(target, *args),
                                            name="ecr-token-tray-refresh", daemon=True)
            self._worker.start()
        self._publish()
        return True

    def _work(self, target: Callable, *args: object) -> None:
        try:
            target(*args)
        except Exception:
            log.exception("refresh failed unexpectedly")
            self.notifier.send("ECR refresh failed",
                               "internal error - see the log (Open log in the tray menu)", True)
        finally:
            with self._lock:
                self._busy = None
                self._progress_text = None
                self._quiet = frozenset()
            self.snapshots.invalidate_clusters()  # show the secrets as the renewal left them
            self.nudge()
            self._publish()

    def _progress(self, message: str) -> None:
        self._progress_text = message
        self._publish()

    def login_here(self, rows: Sequence[RegistryStatus]):
        """Log ``rows`` in again on the calling thread, as a click's refresh would, and
        return the engine's report (None when it could not run): for a task that already
        runs on the worker and must know the outcome ("Back to docker login")."""
        return self._refresh(rows, True)

    def _refresh(self, rows: Sequence[RegistryStatus], interactive: bool):
        from tray_app.renew.engine import LoginOptions, renew
        from tray_app.renew.errors import BrowserNeeded
        options = LoginOptions(allow_browser=interactive)
        try:
            report = renew(list(rows), options, self._progress)
        except BrowserNeeded as error:
            self._tell_failure(rows, interactive, "ECR login needs a browser sign-in",
                               f"{error} - open the tray to sign in")
            return None
        except TrayAppError as error:
            self._tell_failure(rows, interactive, "ECR refresh failed", str(error))
            return None
        failed = [o for o in report.outcomes if o.result == "failed"]
        if failed:
            body = "\n".join(o.message for o in failed)
            log.warning("refresh failed: %s", body.replace("\n", "; "))
            self._tell_failure(rows, interactive, "ECR refresh failed", body)
        elif interactive:
            done = [o for o in report.outcomes if o.result == "refreshed"]
            body = "\n".join(o.message for o in done) or "nothing needed a new login"
            self.notifier.send("ECR logins refreshed", body, False, subject=_subject(rows))
        log.info("refresh done: %s", "; ".join(o.message for o in report.outcomes))
        return report

    def _tell_failure(self, rows: Sequence[RegistryStatus], interactive: bool, title: str,
                      body: str) -> None:
        """Notify a failed refresh, with a button to try again. An automatic renewal's
        failure is told once per login, cause and expiry, also across restarts (tray.json)."""
        if not interactive:
            keys = {_failure_key(row, body) for row in rows}
            if keys <= self._state.sent_alerts:
                log.info("not repeating a renewal failure already told: %s", title)
                return
            self._remember_sent(keys, self.clock.wall())
        action = renewing_action(rows[0]) if len(rows) == 1 else ("refresh-expiring",)
        button = Button(LOGIN_BUTTON[0], LOGIN_BUTTON[1], action,
                        f"Press {LOGIN_BUTTON[1]} to try again.\n{body}")
        self.notifier.send(title, body, True, subject=_subject(rows), button=button)

    def _sign_in(self, session_name: str) -> None:
        from tray_app.renew.sso import sign_in
        try:
            result = sign_in(session_name, progress=self._progress)
        except TrayAppError as error:
            self.notifier.send(f"SSO sign-in to {session_name} failed", str(error), True)
            return
        log.info("SSO session %s: %s", session_name, result)

    # -- what front ends see -----------------------------------------------------------------
    def view(self) -> LoopView:
        with self._lock:
            return LoopView(self._snapshot, self._busy, self.auto_renew, self._settings_problem,
                            self._progress_text if self._busy else None,
                            ecr_login_installed=self._ecr_login_installed)

    def _publish(self) -> None:
        try:
            self.on_view(self.view())
        except Exception:
            log.exception("front end failed to show the new state")


def _wants_auto_renew(row: RegistryStatus, now: datetime) -> bool:
    if row.state in (State.WARNING, State.CRITICAL):
        return True
    return (row.state == State.EXPIRED and row.expires_at is not None
            and now - row.expires_at <= AUTO_RENEW_EXPIRED_WITHIN)


def _subject(rows: Sequence[RegistryStatus]) -> str:
    """The alert's subject for the same login, so a result replaces the alert's bubble."""
    return "|".join(renewing_action(rows[0])) if len(rows) == 1 else "several"


def _failure_key(row: RegistryStatus, cause: str) -> str:
    """login, cause and expiry; the expiry stays second to last (alerts.forget_old)."""
    digest = hashlib.sha256(cause.encode()).hexdigest()[:16]
    return f"renew-failed|{row.host}|{row.where}|{digest}|{iso_utc(row.expires_at)}|0"


def _store_problem_key(row: RegistryStatus, now: datetime) -> str:
    """login, problem and day: told again the next day (the day stays second to last, so
    alerts.forget_old drops it after two)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return f"store|{row.host}|{row.where}|{row.store_problem.kind}|{iso_utc(day)}|0"


def _logout_key(row: RegistryStatus) -> str:
    return f"logout|{row.host}|{row.where}|{iso_utc(row.expires_at)}"


def _attempt_key(row: RegistryStatus) -> str:
    """One silent attempt per login, expiry and stage (warning, then critical once more)."""
    stage = "warning" if row.state == State.WARNING else "critical"
    return f"{row.host}|{row.where}|{iso_utc(row.expires_at)}|{stage}"


def _silently_renewable(can_renew_silently: Callable[[str | None], bool],
                        profile: str | None) -> bool:
    try:
        return bool(can_renew_silently(profile))
    except Exception:
        log.warning("cannot tell whether profile %s renews silently", profile, exc_info=True)
        return False
