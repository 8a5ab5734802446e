"""Making logins last: renew every selected login with less than a given time left.

`ecr-token-tray ensure` calls :func:`short_logins`, then (only when some are short)
:func:`make_last`, and renders what they return. Local files tell the expiries (the
snapshot); the re-login engine renews only the logins that fall short, so when every login
has time nothing talks to AWS. After a renewal the logins
are read again: one that still ends too soon (an ecr-login registry whose new SSO session
is shorter than asked) counts as not made to last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tray_app.errors import TrayAppError
from tray_app.model import RegistryStatus, Snapshot

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ShortLogins:
    """The selected logins with less than the time asked; ``problems``: files that could
    not be read (one line each; the logins elsewhere still counted)."""

    rows: tuple[RegistryStatus, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ensured:
    """What a renewal did: ``lines``, one per login renewed or not (in order, naming the
    registry and the fix), and whether every one now lasts the time asked."""

    lines: tuple[str, ...]
    ok: bool


def short_logins(hosts: Sequence[str], seconds: int, *, kubernetes: bool) -> ShortLogins:
    """The logins of ``hosts`` (all when empty) with less than ``seconds`` left, from the
    local files alone. A HOST that is not an ECR registry raises TrayAppError."""
    from tray_app.renew.plan import short_of_time
    from tray_app.service.snapshots import take

    taken = take(kubernetes=kubernetes)
    problems = ([taken.settings_problem] if taken.settings_problem else []) + \
        [p.message for p in taken.snapshot.errors]
    rows = short_of_time(select(taken.snapshot, hosts), seconds, taken.snapshot.sso_sessions)
    return ShortLogins(tuple(rows), tuple(problems))


def select(snapshot: Snapshot, hosts: Sequence[str]) -> list[RegistryStatus]:
    """Every login, or those of ``hosts`` (a registry with none yet gets a new Docker one)."""
    from tray_app.credhelper import new_docker_login_row
    from tray_app.hosts import host_of, parse_registry

    if not hosts:
        return list(snapshot.registries)
    rows: list[RegistryStatus] = []
    for text in hosts:
        registry = parse_registry(host_of(text))
        if registry is None:
            raise TrayAppError(f"{text}: not an Amazon ECR registry host",
                               "expected e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com"
                               " or public.ecr.aws")
        matching = [r for r in snapshot.registries if r.host == registry.host]
        rows += [r for r in matching if r not in rows] or \
            [new_docker_login_row(registry, snapshot)]
    return rows


def make_last(rows: Sequence[RegistryStatus], seconds: int, *, wanted: str,
              profile: str | None, kubernetes: bool, interactive: bool,
              progress: Progress | None = None) -> Ensured:
    """Renew ``rows`` with the re-login engine, then read the logins again. ``wanted``
    spells the time for messages (``2h``); ``interactive``: an SSO sign-in may open the
    browser."""
    from tray_app.renew.engine import LoginOptions, renew
    from tray_app.service.snapshots import take

    report = renew(rows, LoginOptions(profile=profile, allow_browser=interactive), progress)
    after = take(kubernetes=kubernetes).snapshot  # also rewrites the prompt summary
    lines, ok = [], True
    for outcome in report.outcomes:
        if outcome.result == "refreshed" and outcome.verified:
            lines.append(outcome.message)
            continue
        ok = False
        note = (" (stdin is not a terminal, so no browser was opened)"
                if outcome.result == "skipped" and not interactive else "")
        lines.append(outcome.message + note)
    still = _still_short(after, report, seconds, wanted)
    return Ensured(tuple(lines + still), ok and not still)


def _still_short(after: Snapshot, report, seconds: int, wanted: str) -> list[str]:
    """Renewed logins that still end within ``wanted``, one line each naming what ends."""
    from tray_app.renew.plan import known_short_of_time
    from tray_app.timeutil import format_time_left

    renewed = {o.identity for o in report.outcomes if o.result == "refreshed" and o.verified}
    rows = [row for row in after.registries if row.identity in renewed]
    lines = []
    for row in known_short_of_time(rows, seconds, after.sso_sessions):
        what = row.credentials_from if row.managed and row.credentials_from else "it"
        lines.append(f"{row.registry.label} ({row.where}): renewed, but {what} ends in"
                     f" {format_time_left(row.watched_seconds_left)}, less than --min {wanted}"
                     " - sign in again later, or ask for less")
    return lines
