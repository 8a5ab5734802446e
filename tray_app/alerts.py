"""Pure alert rules: (Snapshot, alerts sent before, now, settings) -> what to notify.

No GUI, no I/O. The caller persists ``AlertPlan.mark_sent`` (see ``tray_app.alertstate``)
and hands the notification to a notifier.

Rules:
- every watched login (expiry known; for an ecr-login row, the end of the SSO session behind
  its profile when only a browser can renew it) and every SSO session that only a browser
  sign-in can renew has one alert per threshold in ``Settings.notify_minutes``
  (default 60, 15 and 0 = at expiry); a threshold is due once the time left is at or below it;
- an alert is keyed by what it is about *and its expiry*, so a renewed login alerts again;
- each key is sent once; when several thresholds of one login are due together (a clock
  jump, a restart after a suspend) only the most severe is told and the others are marked;
- everything due in one evaluation goes out as ONE notification, never a storm;
- logins in ``quiet`` (being renewed silently right now) are neither told nor marked;
- the body says what to do first, then the details (mako and others cut long bodies);
- a notification carries an optional ``Button`` (key, label, the tray action it runs) for
  servers that show action buttons; ``Button.body`` is the text to show next to it;
- a login in ``blocked`` (say, its profile has no AWS credentials) gets the given hint
  instead of "click it in the tray menu", and no button: a click could not renew it;
- a public.ecr.aws login advises logging out (anonymous pulls work; an expired login makes
  them fail), and its button logs out (``LOGOUT_PUBLIC``) instead of renewing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tray_app.model import RegistryStatus, Snapshot, SsoStatus, State
from tray_app.settings import Settings
from tray_app.timeutil import iso_utc, parse_time

# Sent keys whose expiry lies further back than this are forgotten (keeps the file small).
FORGET_AFTER = timedelta(days=2)
DEFAULT_ACTION = "click it in the tray menu to log in again"
DEFAULT_ACTION_FOR_SEVERAL = "click each in the tray menu, or use Refresh all expiring"


@dataclass(frozen=True)
class DueAlert:
    """One thing worth telling: a login or SSO session at a threshold."""

    key: str
    subject: str  # "222222222222 eu-central-1" / "SSO session corp"
    threshold_minutes: int
    seconds_left: int
    sso: bool = False
    ends_with: str | None = None  # managed rows: what ends ("SSO session corp")
    target: tuple[str, ...] = ()  # the tray action that renews it
    hint: str | None = None  # what to run instead, when a click cannot renew it

    @property
    def expired(self) -> bool:
        return self.seconds_left <= 0


@dataclass(frozen=True)
class Button:
    """An action button on a notification (when the server shows buttons)."""

    key: str  # "login" | "sign-in": the notification action key
    label: str  # "Log in again" | "Sign in"
    action: tuple[str, ...]  # what the tray menu row runs, e.g. ("refresh", host, source)
    body: str  # the notification body to show with the button (the button says what to do)


LOGIN_BUTTON = ("login", "Log in again")
SIGN_IN_BUTTON = ("sign-in", "Sign in")
LOGOUT_BUTTON = ("logout", "Log out")
# The tray action for a stale public.ecr.aws login: log out (anonymous pulls work),
# not renew (tray_app/service/logout.py).
LOGOUT_PUBLIC = ("logout-public",)


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    urgent: bool = False
    subject: str = ""  # one bubble per subject: a newer notification replaces the older
    button: Button | None = None


@dataclass(frozen=True)
class AlertPlan:
    notification: Notification | None
    told: tuple[DueAlert, ...]  # what the notification mentions
    mark_sent: frozenset[str]  # every key to remember, told or folded into a told one


def login_identity(row: RegistryStatus) -> tuple:
    return row.identity


def registry_key(row: RegistryStatus, threshold: int) -> str:
    return f"login|{row.host}|{row.where}|{iso_utc(_ends_at(row))}|{threshold}"


def _ends_at(row: RegistryStatus) -> datetime | None:
    """When the login stops working: its token's expiry, or (managed) its credentials'."""
    return row.credentials_expire_at if row.managed else row.expires_at


def sso_key(session: SsoStatus, threshold: int) -> str:
    return f"sso|{session.name}|{iso_utc(session.expires_at)}|{threshold}"


def plan_alerts(snapshot: Snapshot, sent: Set[str], now: datetime, settings: Settings,
                quiet: Set[tuple] = frozenset(),
                action: str = DEFAULT_ACTION,
                blocked: Mapping[tuple, str] | None = None) -> AlertPlan:
    """Decide the one notification (or none) to send now. ``now`` is wall-clock UTC.

    ``blocked``: login identity -> what the user must run (a click cannot renew it)."""
    thresholds = sorted(set(settings.notify_minutes), reverse=True)
    told: list[DueAlert] = []
    marks: set[str] = set()
    blocked = blocked or {}
    for row in _watched(snapshot.registries, quiet):
        seconds_left = _seconds_left(_ends_at(row), now)
        keys = {t: registry_key(row, t) for t in thresholds}
        subject = row.registry.label
        if row.kubernetes is not None:
            subject += f" (Kubernetes {row.kubernetes.label})"
        elif row.source == "helm":  # Docker's login to the same host may be fine
            subject += " (Helm)"
        alert = DueAlert("", subject, 0, seconds_left, False,
                         row.credentials_from if row.managed else None,
                         _alert_action(row, snapshot), blocked.get(login_identity(row)))
        _collect(keys, alert, sent, told, marks)
    for session in _sessions_needing_a_browser(snapshot.sso_sessions):
        seconds_left = _seconds_left(session.expires_at, now)
        keys = {t: sso_key(session, t) for t in thresholds}
        alert = DueAlert("", f"SSO session {session.name}", 0, seconds_left, True,
                         target=("sign-in", session.name))
        _collect(keys, alert, sent, told, marks)
    if not told:
        return AlertPlan(None, (), frozenset(marks))
    return AlertPlan(compose(told, action), tuple(told), frozenset(marks))


def _watched(rows: Iterable[RegistryStatus], quiet: Set[tuple]
             ) -> Iterable[RegistryStatus]:
    for row in rows:
        if row.managed:
            if row.credentials_expire_at is None:
                continue
        elif row.state in (State.MANAGED, State.UNKNOWN) or row.expires_at is None:
            continue
        if login_identity(row) in quiet:
            continue
        yield row


def _sessions_needing_a_browser(sessions: Iterable[SsoStatus]) -> Iterable[SsoStatus]:
    """A refreshable session renews itself silently; only the others deserve a warning."""
    for session in sessions:
        if session.expires_at is not None and not session.refreshable and session.profiles:
            yield session


def _seconds_left(expires_at: datetime | None, now: datetime) -> int:
    assert expires_at is not None
    return int((expires_at - now).total_seconds())


def renewing_action(row: RegistryStatus, snapshot: Snapshot | None = None) -> tuple[str, ...]:
    """What the tray menu runs to renew this login: its row, or (managed) a sign-in."""
    if row.kubernetes is not None:
        ref = row.kubernetes
        return ("refresh-secret", row.host, ref.context, ref.namespace, ref.secret)
    if not row.managed:
        return ("refresh", row.host, row.source)
    session = snapshot.sso_for_profile(row.profile) if snapshot is not None else None
    return ("sign-in", session.name) if session is not None else ()


def _alert_action(row: RegistryStatus, snapshot: Snapshot) -> tuple[str, ...]:
    """What the alert's button runs: renew it, or (public.ecr.aws) log out."""
    if row.registry.public and not row.managed and row.kubernetes is None:
        return LOGOUT_PUBLIC
    return renewing_action(row, snapshot)


def _collect(keys: dict[int, str], alert: DueAlert, sent: Set[str], told: list[DueAlert],
             marks: set[str]) -> None:
    due = [t for t in keys if alert.seconds_left <= t * 60]
    if not due:
        return
    most_severe = min(due)
    marks.update(keys[t] for t in due)
    if keys[most_severe] in sent:
        return  # already told at this level; lower levels were folded into it
    told.append(replace(alert, key=keys[most_severe], threshold_minutes=most_severe))


def compose(alerts: list[DueAlert], action: str = DEFAULT_ACTION) -> Notification:
    """One notification for everything due: what to do first, then which account/region."""
    alerts = sorted(alerts, key=lambda a: a.seconds_left)
    urgent = any(a.seconds_left <= 15 * 60 for a in alerts)
    if len(alerts) == 1:
        alert = alerts[0]
        details = _line(alert)
        button = None
        if alert.target == LOGOUT_PUBLIC:
            return _logout_public(alert, details, urgent)
        if alert.hint is None and alert.target:
            key, label = SIGN_IN_BUTTON if alert.target[0] == "sign-in" else LOGIN_BUTTON
            button = Button(key, label, alert.target, f"Press {label} to renew.\n{details}")
        return Notification(_title_for(alert), f"To renew: {_todo(alert, action)}\n{details}",
                            urgent, subject=_subject(alert), button=button)
    expired = sum(a.expired for a in alerts)
    # "renewing", not "attention": a login at its warning threshold is due for renewal,
    # not in need of attention (State.needs_attention: critical or expired)
    title = (f"{len(alerts)} ECR logins need renewing" if expired < len(alerts)
             else f"{len(alerts)} ECR logins expired")
    lines = [_line(a) + (f" ({a.hint})" if a.hint else "")
             + (f" ({PUBLIC_ADVICE})" if a.target == LOGOUT_PUBLIC else "") for a in alerts]
    sso_only = all(a.sso or a.ends_with for a in alerts)
    several = DEFAULT_ACTION_FOR_SEVERAL if action == DEFAULT_ACTION and not sso_only else action
    body = "\n".join([f"To renew: {_action_for(sso_only, several)}", *lines])
    button = None
    if not sso_only and any(a.target[:1] == ("refresh",) and a.hint is None for a in alerts):
        key, label = LOGIN_BUTTON
        button = Button(key, label, ("refresh-expiring",),
                        "\n".join([f"Press {label} to renew them all.", *lines]))
    return Notification(title, body, urgent, subject="several", button=button)


PUBLIC_ADVICE = "log out: anonymous pulls work"


def _logout_public(alert: DueAlert, details: str, urgent: bool) -> Notification:
    """A public.ecr.aws login: pulls need none, and an expired one makes them fail, so the
    advice is to log out, not to renew."""
    command = f"`ecr-token-tray logout {alert.subject}`"
    key, label = LOGOUT_BUTTON
    body = f"{PUBLIC_ADVICE[0].upper()}{PUBLIC_ADVICE[1:]} ({command})\n{details}"
    return Notification(_title_for(alert), body, urgent, subject=_subject(alert),
                        button=Button(key, label, alert.target,
                                      f"Press {label}: anonymous pulls work.\n{details}"))


def _todo(alert: DueAlert, action: str) -> str:
    if alert.hint:
        return alert.hint
    return _managed_action(action) if alert.ends_with else _action_for(alert.sso, action)


def _subject(alert: DueAlert) -> str:
    return "|".join(alert.target) if alert.target else alert.subject


def _title_for(alert: DueAlert) -> str:
    if alert.ends_with:
        return f"ecr-login for {alert.subject} {_stops(alert)}"
    what = alert.subject if alert.sso else f"ECR login {alert.subject}"
    return f"{what} expired" if alert.expired else f"{what} ends in {_minutes(alert)}"


def _line(alert: DueAlert) -> str:
    if alert.ends_with:  # "ecr-login for X stops working in 15 min: SSO session corp ends"
        ends = "ended" if alert.expired else "ends"
        return f"ecr-login for {alert.subject} {_stops(alert)}: {alert.ends_with} {ends}"
    when = "expired" if alert.expired else f"ends in {_minutes(alert)}"
    return f"{alert.subject} {when}"


def _stops(alert: DueAlert) -> str:
    return "stopped working" if alert.expired else f"stops working in {_minutes(alert)}"


def _action_for(sso: bool, action: str) -> str:
    return "open the tray to sign in" if sso and action == DEFAULT_ACTION else action


def _managed_action(action: str) -> str:
    """ecr-login renews the token itself: only signing in to the session helps."""
    return "sign in" if action == DEFAULT_ACTION else action


def _minutes(alert: DueAlert) -> str:
    minutes = max(1, alert.seconds_left // 60)
    if minutes <= 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min"


def forget_old(sent: Iterable[str], now: datetime) -> set[str]:
    """Drop keys of logins that expired long ago, so the record stays small."""
    kept = set()
    for key in sent:
        parts = key.split("|")
        expires = parse_time(parts[-2]) if len(parts) >= 3 else None
        if expires is not None and now - expires <= FORGET_AFTER:
            kept.add(key)
    return kept
