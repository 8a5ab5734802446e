"""The tray menu as data, rebuilt from the loop's view; then rendered by each front end.

``menu_entries`` is pure (no GUI import): rows, texts, checks and action ids. Actions are
tuples such as ``("refresh", host, source)`` that ``tray_app.ui.actions.TrayActions`` runs.
Every row has a ``key`` that names the same row across rebuilds (the D-Bus menu keeps its
item ids by it), and registry rows carry their ``state`` (the coloured dot). ``to_pystray``
imports pystray lazily and wires each row to a dispatch function; the freedesktop front end
(``tray_app.ui.freedesktop.dbusmenu``) renders the same entries over D-Bus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tray_app.credhelper import DOCKER_SOURCES
from tray_app.model import RegistryStatus, Snapshot, SsoStatus, State
from tray_app.timeutil import format_time_left
from tray_app.ui.loop import LoopView, expiring_rows

Action = tuple[str, ...]
ECR_LOGIN_ON = "Never expires: use ecr-login"
ECR_LOGIN_OFF = "Back to docker login"
REASON_LIMIT = 90


@dataclass(frozen=True)
class Entry:
    text: str
    action: Action | None = None
    checked: bool | None = None
    enabled: bool = True
    submenu: tuple[Entry, ...] = ()
    separator: bool = False
    key: str = ""  # names the same row across rebuilds (set by menu_entries)
    state: State | None = None  # registry rows: the login's state (a coloured dot)


def _separator(key: str) -> Entry:
    return Entry("", separator=True, key=key)


@dataclass(frozen=True)
class AutostartView:
    enabled: bool = False
    problem: str | None = None  # autostart's state could not be read (why, for the row)


def registry_text(row: RegistryStatus) -> str:
    name = row.registry.label
    if row.source != "docker-config":
        name += f" ({row.source})"
    if row.state == State.MANAGED:
        return f"{name} - renews itself"
    if row.seconds_left is None:
        return f"{name} - expiry unknown"
    if row.seconds_left <= 0:
        return f"{name} - {format_time_left(row.seconds_left)}"
    return f"{name} - {format_time_left(row.seconds_left)} left"


def sso_text(session: SsoStatus) -> str:
    if session.seconds_left is None:
        return f"SSO {session.name} - not signed in"
    if session.seconds_left <= 0:
        return f"SSO {session.name} - {format_time_left(session.seconds_left)}"
    return f"SSO {session.name} - {format_time_left(session.seconds_left)} left"


def menu_entries(view: LoopView, autostart: AutostartView) -> list[Entry]:
    snapshot = view.snapshot
    entries: list[Entry] = []
    if view.busy:
        entries.append(Entry(view.busy, enabled=False, key="busy"))
        if view.progress:
            entries.append(Entry(_clip(view.progress), enabled=False, key="progress"))
    can_refresh = view.busy is None
    rows = snapshot.registries if snapshot else ()
    logins = [r for r in rows if r.kubernetes is None]
    if snapshot is None:
        entries.append(Entry("Reading logins...", enabled=False, key="reading"))
    elif not logins:
        entries.append(Entry("No ECR logins found", enabled=False, key="no-logins"))
    for row in logins:
        refreshable = can_refresh and row.state != State.MANAGED
        entries.append(Entry(registry_text(row), ("refresh", row.host, row.source),
                             enabled=refreshable, key=f"registry|{row.host}|{row.source}",
                             state=row.state))
        if row.store_problem is not None:
            entries.append(store_problem_entry(row, can_refresh, view.ecr_login_installed))
        if _stale_public(row):
            entries.append(Entry(f"    {LOGOUT_PUBLIC_TEXT}", ("logout-public", row.host,
                                                             row.source),
                                 enabled=can_refresh, key=f"logout-public|{row.host}|{row.source}"))
    entries += _ecr_login_entries(view, can_refresh)
    entries += kubernetes_section(snapshot, can_refresh)
    sessions = snapshot.sso_sessions if snapshot else ()
    if sessions:
        entries.append(_separator("separator-sso"))
    for session in sessions:
        entries.append(Entry(sso_text(session), submenu=_sso_submenu(session, view),
                             key=f"sso|{session.name}"))
    if snapshot and snapshot.errors:
        count = len(snapshot.errors)
        entries.append(Entry(f"{count} file{'s' if count > 1 else ''} could not be read"
                             " - see Open log", enabled=False, key="unreadable-files"))
    if view.settings_problem:
        entries.append(Entry(_reason("Config problem", view.settings_problem), enabled=False,
                             key="config-problem"))
    entries.append(_separator("separator-actions"))
    entries.append(Entry("Refresh all expiring", ("refresh-expiring",),
                         enabled=can_refresh and bool(expiring_rows(snapshot)),
                         key="refresh-expiring"))
    entries.append(Entry("Renew automatically", ("toggle-auto-renew",), checked=view.auto_renew,
                         key="toggle-auto-renew"))
    if autostart.problem:
        entries.append(Entry(_reason("Start at login", autostart.problem), checked=False,
                             enabled=False, key="toggle-autostart"))
    else:
        entries.append(Entry("Start at login", ("toggle-autostart",), checked=autostart.enabled,
                             key="toggle-autostart"))
    entries.append(_separator("separator-files"))
    entries.append(Entry("Open config file", ("open-config",), key="open-config"))
    entries.append(Entry("Open log", ("open-log",), key="open-log"))
    entries.append(_separator("separator-quit"))
    entries.append(Entry("Quit", ("quit",), key="quit"))
    return entries


LOGOUT_PUBLIC_TEXT = "Log out: anonymous pulls work"


def _stale_public(row: RegistryStatus) -> bool:
    """A public.ecr.aws login that expired or is about to: pulls need no login, and an
    expired one makes them fail, so the row offers to log out (not only to renew)."""
    return (row.registry.public and row.state.due_for_renewal and not row.managed
            and row.kubernetes is None)


PLAIN_FILE_FIX = "Fix: keep logins in config.json"
STORE_PROBLEM_TEXT = {
    "helper-missing": "its credential helper is not installed",
    "helper-failing": "its credential store does not answer",
    "too-small": "Windows Credential Manager cannot hold it",
    "stale-ecr-login-cache": "ecr-login's cache holds an expired token",
}


def store_problem_entry(row: RegistryStatus, can_act: bool, ecr_login_installed: bool
                        ) -> Entry:
    """A notice under a login whose credential store cannot hold it: the reason and the
    fix in its submenu, and the fix one click away: hand it to ecr-login (where installed),
    or, when the store's helper is not installed at all, keep logins in config.json."""
    problem = row.store_problem
    key = f"store|{row.host}|{row.source}"
    import textwrap  # only with such a notice

    lines = textwrap.wrap(f"{problem.reason} - fix: {problem.fix}", REASON_LIMIT)
    submenu = [Entry(line, enabled=False, key=f"{key}|{index}")
               for index, line in enumerate(lines)]
    if problem.plain_file_is_safe and can_act:
        submenu.insert(0, Entry(PLAIN_FILE_FIX, ("plain-file", row.host), key=f"{key}|plain"))
    if problem.blocks_login and can_act and ecr_login_installed and not row.managed:
        submenu.insert(0, Entry(f"Fix: {ECR_LOGIN_ON}", ("ecr-login-on", row.host),
                                key=f"{key}|fix"))
    summary = STORE_PROBLEM_TEXT.get(problem.kind, "its credential store cannot hold it")
    return Entry(_clip(f"    {summary}"), submenu=tuple(submenu), key=key)


def _ecr_login_entries(view: LoopView, can_act: bool) -> list[Entry]:
    """Hand a Docker login to amazon-ecr-credential-helper ("credhelper enable"), or take a
    managed one back. Rows stay one click = log in again, so these are two submenus."""
    rows = view.snapshot.registries if view.snapshot else ()
    plain = {r.host: r for r in rows if r.source.startswith(DOCKER_SOURCES)}
    managed = {r.host: r for r in rows if r.managed}
    entries = []
    if view.ecr_login_installed and set(plain) - set(managed):
        entries.append(Entry(ECR_LOGIN_ON, key="ecr-login-on", submenu=tuple(
            Entry(r.registry.label, ("ecr-login-on", r.host), enabled=can_act,
                  key=f"ecr-login-on|{host}")
            for host, r in plain.items() if host not in managed)))
    if managed:
        entries.append(Entry(ECR_LOGIN_OFF, key="ecr-login-off", submenu=tuple(
            Entry(r.registry.label, ("ecr-login-off", r.host), enabled=can_act,
                  key=f"ecr-login-off|{host}")
            for host, r in managed.items())))
    return entries


def kubernetes_section(snapshot: Snapshot | None, can_refresh: bool) -> list[Entry]:
    """Pull secrets of local clusters, in their own section; a click refreshes one."""
    if snapshot is None:
        return []
    secrets = [r for r in snapshot.registries if r.kubernetes is not None]
    if not secrets and not snapshot.notices:
        return []
    entries = [_separator("sep-kubernetes"),
               Entry("Kubernetes pull secrets", enabled=False, key="kubernetes")]
    for row in secrets:
        ref = row.kubernetes
        entries.append(Entry(
            kube_secret_text(row),
            ("refresh-secret", row.host, ref.context, ref.namespace, ref.secret),
            enabled=can_refresh and row.expires_at is not None,
            key=f"secret|{row.host}|{ref.context}|{ref.namespace}|{ref.secret}",
            state=row.state))
    entries += [Entry(_clip(notice.message), enabled=False,
                      key=f"notice|{notice.source}|{notice.message}")  # one context, several
                for notice in snapshot.notices]
    return entries


def kube_secret_text(row: RegistryStatus) -> str:
    ref = row.kubernetes
    where = f"{ref.context} {ref.namespace}/{ref.secret}" if ref else row.source
    name = f"{where} ({row.registry.label})"
    if row.seconds_left is None:
        return _clip(f"{name} - {row.detail or 'expiry unknown'}")
    if row.seconds_left <= 0:
        return f"{name} - {format_time_left(row.seconds_left)}"
    return f"{name} - {format_time_left(row.seconds_left)} left"


def _sso_submenu(session: SsoStatus, view: LoopView) -> tuple[Entry, ...]:
    key = f"sso|{session.name}"
    sign_in = Entry("Sign in...", ("sign-in", session.name), enabled=view.busy is None,
                    key=f"{key}|sign-in")
    notes = []
    if session.refreshable:
        notes.append(Entry("Renews silently (refresh token)", enabled=False,
                           key=f"{key}|refreshable"))
    if session.profiles:
        notes.append(Entry("Profiles: " + ", ".join(session.profiles), enabled=False,
                           key=f"{key}|profiles"))
    return (sign_in, *notes)


def _reason(what: str, why: str) -> str:
    return _clip(f"{what}: {why}")


def _clip(text: str) -> str:
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT - 3] + "..."


def to_pystray(entries: list[Entry], dispatch: Callable[[Action], None]):
    """A pystray Menu whose rows call ``dispatch(action)``. Imports pystray (GUI)."""
    import pystray

    def item(entry: Entry):
        if entry.separator:
            return pystray.Menu.SEPARATOR
        if entry.submenu:
            return pystray.MenuItem(entry.text, pystray.Menu(*map(item, entry.submenu)),
                                    enabled=entry.enabled)
        action = entry.action

        def run(icon, menu_item):
            if action is not None:
                dispatch(action)

        checked = None if entry.checked is None else (lambda _item, value=entry.checked: value)
        return pystray.MenuItem(entry.text, run, checked=checked, enabled=entry.enabled)

    return pystray.Menu(*map(item, entries))
