"""The re-login pipeline: SSO session -> one ECR token per group -> store -> verify.

Rows are grouped by (profile, service, region) (:mod:`tray_app.renew.plan`); groups run in
parallel on a few threads, each group's failure stays in that group, and the whole run has
an overall timeout. The expiry ECR's API reported is recorded per host in the app's state
file, so ``status`` knows it even for tokens whose own format says nothing.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tray_app.errors import TrayAppError
from tray_app.model import KubeSecretRef, RegistryStatus
from tray_app.renew.ecr import EcrToken
from tray_app.renew.errors import BrowserNeeded, RenewError
from tray_app.renew.plan import TokenGroup, group_rows, profile_label
from tray_app.settings import Paths
from tray_app.sources.docker_config import ECR_LOGIN
from tray_app.statefile import RecordedLogin, record_logins
from tray_app.timeutil import format_time_left, iso_utc, utc_now

if TYPE_CHECKING:
    from tray_app.renew.sso import CachedSession

log = logging.getLogger(__name__)

MAX_PARALLEL_GROUPS = 4
Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoginOptions:
    profile: str | None = None  # --profile override
    no_browser: bool = False  # pass --no-browser to `aws sso login`
    allow_browser: bool = True  # False for automatic renewal
    timeout: float = 900.0  # whole run


@dataclass(frozen=True)
class RegistryOutcome:
    host: str
    source: str
    profile: str | None
    result: str  # "refreshed" | "skipped" | "failed"
    expires_at: datetime | None
    verified: bool
    message: str  # one human line, names registry and profile, no secret
    kubernetes: KubeSecretRef | None = None  # source "kubernetes": which secret

    @property
    def identity(self) -> tuple:  # as RegistryStatus.identity
        if self.kubernetes is None:
            return (self.host, self.source)
        return (self.host, self.source, self.kubernetes)


@dataclass(frozen=True)
class LoginReport:
    outcomes: tuple[RegistryOutcome, ...]

    @property
    def ok(self) -> bool:
        """Every requested registry holds a working (verified) login."""
        return all(o.result == "refreshed" and o.verified for o in self.outcomes)


def renew(rows: Sequence[RegistryStatus], options: LoginOptions = LoginOptions(),
          progress: Progress | None = None) -> LoginReport:
    """Re-login the given snapshot rows; never raises for one registry's trouble."""
    started = time.monotonic()
    deadline = started + options.timeout
    run = _Run(Paths.from_env(), options, progress or (lambda _text: None), deadline)
    blocked = [row for row in _unique(rows) if _store_cannot_hold(row)]
    groups = group_rows([row for row in _unique(rows) if row not in blocked], options.profile)
    log.info("login: %d registries in %d token groups", len(rows), len(groups))
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, min(MAX_PARALLEL_GROUPS, len(groups))),
        thread_name_prefix="renew")
    futures = {pool.submit(run.group, group): group for group in groups}
    done, pending = concurrent.futures.wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    results: dict[tuple, list[RegistryOutcome]] = {
        ("store", *row.identity): [_failed(row, options.profile or row.profile,
                                           _cannot_hold(row))] for row in blocked}
    for future in done:
        results[futures[future].key] = future.result()
    for future in pending:
        future.cancel()
        group = futures[future]
        results[group.key] = [_failed(row, group.profile,
                                      f"the run's overall timeout ({options.timeout:g} s)"
                                      " passed first - try again")
                              for row in group.rows]
    pool.shutdown(wait=False, cancel_futures=True)  # a stuck worker must not hold the caller
    run.record_expiries()
    by_row = {o.identity: o for outcomes in results.values() for o in outcomes}
    ordered = tuple(by_row[row.identity] for row in _unique(rows) if row.identity in by_row)
    log.info("login finished in %.1f s: %s", time.monotonic() - started,
             ", ".join(f"{o.host} {o.result}" for o in ordered))
    return LoginReport(ordered)


class _Run:
    """State shared by one run's worker threads."""

    def __init__(self, paths: Paths, options: LoginOptions, progress: Progress,
                 deadline: float) -> None:
        self.paths = paths
        self.options = options
        self.progress = progress
        self.deadline = deadline
        self._credentials: dict[str | None, str | TrayAppError] = {}
        self._profile_locks: dict[str | None, threading.Lock] = {}
        self._lock = threading.Lock()
        self._recorded: list[RecordedLogin] = []
        self._session_locks: dict[str, threading.Lock] = {}  # SSO sessions renewed after a 401
        self._signed_in_sessions: set[str] = set()  # SSO sessions this run signed in to

    def group(self, group: TokenGroup) -> list[RegistryOutcome]:
        """One (profile, service, region): credentials, one token, then every row."""
        try:
            return self._group(group)
        except Exception as error:  # a bug in one group must not stop the others
            log.exception("unexpected error for %s", group.key)
            return [_failed(row, group.profile, f"internal error ({type(error).__name__});"
                            " see the log") for row in group.rows]

    def _group(self, group: TokenGroup) -> list[RegistryOutcome]:
        outcome = self.credentials(group.profile)
        if isinstance(outcome, BrowserNeeded):
            return [_outcome(row, group.profile, "skipped", None, False,
                             f"skipped - {outcome}") for row in group.rows]
        if isinstance(outcome, TrayAppError):
            return [_failed(row, group.profile, str(outcome)) for row in group.rows]
        if time.monotonic() >= self.deadline:
            return [_failed(row, group.profile, "the run's overall timeout passed - try again")
                    for row in group.rows]
        token = self._token(group)
        if isinstance(token, _Skip):
            return [_outcome(row, group.profile, "skipped", None, False,
                             f"skipped - {token.reason}") for row in group.rows]
        if isinstance(token, TrayAppError):
            return [_failed(row, group.profile, str(token)) for row in group.rows]
        return [self.row(row, group.profile, token) for row in group.rows]

    def _token(self, group: TokenGroup) -> EcrToken | TrayAppError | _Skip:
        """One GetAuthorizationToken; when the SSO portal refuses a token the cache calls
        valid, renew the session once (forced) and ask once more - never a loop."""
        from tray_app.renew import sso
        from tray_app.renew.ecr import get_token

        self.progress(f"getting an ECR token for {profile_label(group.profile)}"
                      f" in {group.region}")
        seen = sso.cached_session(group.profile)  # which SSO token this call will use
        try:
            return get_token(group.profile, group.service, group.region)
        except BrowserNeeded as refused:  # SSO portal 401, or no usable SSO token after all
            if seen is None:
                return refused
            log.info("SSO token of %s refused (%s); renewing the session once",
                     profile_label(group.profile), type(refused).__name__)
            renewed = self.renew_refused_session(group.profile, seen, refused)
        except TrayAppError as error:
            return error
        if not isinstance(renewed, str):
            return renewed
        if time.monotonic() >= self.deadline:
            return RenewError("the run's overall timeout passed", "try again")
        self.progress(f"getting an ECR token for {profile_label(group.profile)}"
                      f" in {group.region} again")
        try:
            return get_token(group.profile, group.service, group.region)
        except TrayAppError as error:
            return error

    def renew_refused_session(self, profile: str | None, seen: CachedSession,
                              refused: BrowserNeeded) -> str | TrayAppError | _Skip:
        """sso.ensure_credentials(force_sign_in=True), at most one browser sign-in per SSO
        session per run: groups waiting here find the session renewed and just retry."""
        from tray_app.renew import sso

        with self._lock:
            lock = self._session_locks.setdefault(seen.key, threading.Lock())
        with lock:
            with self._lock:
                signed_in_before = seen.key in self._signed_in_sessions
            remaining = max(1.0, self.deadline - time.monotonic())
            try:
                done = sso.ensure_credentials(
                    profile, allow_browser=self.options.allow_browser and not signed_in_before,
                    no_browser=self.options.no_browser, timeout=remaining,
                    progress=self.progress, force_sign_in=True,
                    refused_token_id=seen.token_id)
            except BrowserNeeded as error:
                if signed_in_before and self.options.allow_browser:
                    return RenewError(f"{refused.title}, even after signing in", refused.hint)
                return _Skip(str(error))
            except TrayAppError as error:
                return error
            if done == "signed-in":
                with self._lock:
                    self._signed_in_sessions.add(seen.key)
            log.info("credentials for %s after the refusal: %s", profile_label(profile), done)
            return done

    def credentials(self, profile: str | None) -> str | TrayAppError:
        """sso.ensure_credentials once per profile per run (later groups reuse the answer)."""
        with self._lock:
            lock = self._profile_locks.setdefault(profile, threading.Lock())
        with lock:
            if profile not in self._credentials:
                self._credentials[profile] = self._ensure(profile)
                if self._credentials[profile] == "signed-in":
                    self._note_sign_in(profile)
            return self._credentials[profile]

    def _note_sign_in(self, profile: str | None) -> None:
        from tray_app.renew import sso

        session = sso.cached_session(profile)
        if session is not None:
            with self._lock:
                self._signed_in_sessions.add(session.key)

    def _ensure(self, profile: str | None) -> str | TrayAppError:
        from tray_app.renew import sso

        remaining = max(1.0, self.deadline - time.monotonic())
        try:
            done = sso.ensure_credentials(
                profile, allow_browser=self.options.allow_browser,
                no_browser=self.options.no_browser, timeout=remaining, progress=self.progress)
        except TrayAppError as error:
            log.info("credentials for %s: %s", profile_label(profile), error)
            return error
        log.info("credentials for %s: %s", profile_label(profile), done)
        return done

    def row(self, row: RegistryStatus, profile: str | None, token: EcrToken) -> RegistryOutcome:
        from tray_app.renew.store import store_kind, store_login
        from tray_app.renew.verify import verify_login

        if time.monotonic() >= self.deadline:  # the caller has stopped waiting: store nothing
            return _failed(row, profile, "the run's overall timeout passed - try again")
        try:
            where = store_login(row, token, self.paths)
        except TrayAppError as error:
            return _failed(row, profile, str(error))
        check = verify_login(row.host, token.username, token.password)
        managed = store_kind(row) == ECR_LOGIN
        if not managed and row.kubernetes is None:  # a secret's expiry is in its token
            with self._lock:
                self._recorded.append(RecordedLogin(row.host, token.expires_at, profile,
                                                    utc_now()))
        if not check.verified:
            return _outcome(row, profile, "failed", None if managed else token.expires_at,
                            False, f"stored ({where}) but not working - {check.answer}")
        if managed:
            return _outcome(row, profile, "refreshed", None, True,
                            f"credentials work, verified ({where})")
        left = format_time_left(int((token.expires_at - utc_now()).total_seconds()))
        return _outcome(row, profile, "refreshed", token.expires_at, True,
                        f"refreshed, expires {iso_utc(token.expires_at)} (in {left}),"
                        f" verified ({where})")

    def record_expiries(self) -> None:
        with self._lock:
            recorded = list(self._recorded)
        if not recorded:
            return
        try:
            record_logins(self.paths.state_dir, recorded)
        except (TrayAppError, OSError) as error:  # the logins themselves are done
            log.warning("could not record login expiries in %s: %s", self.paths.state_dir,
                        error)


@dataclass(frozen=True)
class _Skip:
    """Only a browser sign-in would help, and this run may not open one."""

    reason: str


def _outcome(row: RegistryStatus, profile: str | None, result: str,
             expires_at: datetime | None, verified: bool, text: str) -> RegistryOutcome:
    message = f"{row.registry.label} ({row.where}, {profile_label(profile)}): {text}"
    return RegistryOutcome(row.host, row.source, profile, result, expires_at, verified, message,
                           row.kubernetes)


def _failed(row: RegistryStatus, profile: str | None, reason: str) -> RegistryOutcome:
    return _outcome(row, profile, "failed", None, False, f"failed - {reason}")


def _store_cannot_hold(row: RegistryStatus) -> bool:
    """Would storing a token for this row fail in its credential store (tray_app.stores)?
    Said before any AWS call, instead of failing inside `docker login`."""
    return row.store_problem is not None and row.store_problem.blocks_login


def _cannot_hold(row: RegistryStatus) -> str:
    problem = row.store_problem
    return f"{problem.reason} - fix: {problem.fix}"


def _unique(rows: Sequence[RegistryStatus]) -> list[RegistryStatus]:
    seen: dict[tuple, RegistryStatus] = {}
    for row in rows:
        seen.setdefault(row.identity, row)
    return list(seen.values())


__all__ = ["LoginOptions", "LoginReport", "RegistryOutcome", "RenewError", "renew"]
